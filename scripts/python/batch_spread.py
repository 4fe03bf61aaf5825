"""Whether batches differ by more than their own rounds say, over saved sensitivity trials.

    python3 scripts/python/batch_spread.py target/track-sensitivity-X [...]

For every A/A batch (`aa-*.sqlite` in the folders given, as scripts/track-sensitivity leaves
them) and every timed benchmark with three or more complete rounds: the mean of the rounds' log
ratios (B's fastest sample over A's) and its standard error from the batch's own rounds. Prints
per benchmark the spread of the batch means against the spread their own standard errors
predict (a ratio well above 1 would mean a side bias that lasts a whole batch, which no rule
on the rounds can see), and the batches whose mean lies more than four of their own standard
errors from 1 (with three rounds, Student's t on 2 degrees of freedom puts about 6% there).
All rounds count, spoiled ones too.
"""
import collections
import json
import math
import pathlib
import sqlite3
import statistics
import sys

batches = collections.defaultdict(list)  # benchmark -> [(mean log ratio, variance, rounds)]
for folder in sys.argv[1:]:
    for db in sorted(pathlib.Path(folder).glob("aa-*.sqlite")):
        connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        (batch,) = connection.execute("SELECT max(id) FROM batches").fetchone()
        fastest = collections.defaultdict(dict)
        for bench, round_, side, samples in connection.execute(
                "SELECT results.bench_id, runs.round, runs.side, results.samples FROM runs"
                " JOIN results ON results.run_id = runs.id"
                " WHERE runs.batch_id = ? AND results.metric = 'time_ns'", (batch,)):
            fastest[bench, round_][side] = min(json.loads(samples))
        logs = collections.defaultdict(list)
        for (bench, _), sides in fastest.items():
            if 0 in sides and 1 in sides:
                logs[bench].append(math.log(sides[1] / sides[0]))
        for bench, values in logs.items():
            if len(values) >= 3 and statistics.variance(values) > 0:
                batches[bench].append(
                    (statistics.mean(values), statistics.variance(values), len(values)))

print("benchmark: A/A batches, sd of their means, sd their own rounds predict, ratio;"
      " batches beyond 4 standard errors (B/A, rounds)")
for bench, rows in sorted(batches.items()):
    if len(rows) < 2:
        continue
    means = [mean for mean, _, _ in rows]
    predicted = math.sqrt(statistics.mean(variance / n for _, variance, n in rows))
    beyond = [(round(math.exp(mean), 3), n) for mean, variance, n in rows
              if abs(mean) > 4 * math.sqrt(variance / n)]
    print(f"  {bench}: {len(rows)}, {statistics.stdev(means):.2%}, {predicted:.2%},"
          f" {statistics.stdev(means) / predicted:.2f}; {len(beyond)} {beyond}")
