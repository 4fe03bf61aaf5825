"""Counts the flags of scripts/track-sensitivity's trials (reports in the folder given).

Paired mode: the verdicts `proflab track run --json` printed (default 2% threshold), the
same comparisons judged again at lower thresholds from their intervals and q-values (to find
the smallest slowdown caught reliably), and judged again from the saved histories with parts
of the method switched off (to show what each part buys). Criterion: "Performance has
regressed" and "improved" lines of its own runs on the same trials. A flag either way on a
benchmark without injected work counts as false.
"""
import functools
import json
import math
import os
import pathlib
import re
import sqlite3
import statistics
import subprocess
import sys

ALPHA = 0.05
out = pathlib.Path(sys.argv[1])
proflab = out / "proflab"
injected = {}
for line in (out / "slowdowns").read_text().splitlines():
    bench, percent = line.split()
    injected[bench] = float(percent)
# The suite mode's other sizes of the changed functions: neither caught nor false.
touched_file = out / "touched"
touched = set(touched_file.read_text().split()) if touched_file.exists() else set()
# Complete trials only (a trial appends its line to `seconds` when it ends), so the
# analysis can run on a measurement still under way.
seconds = [line.split() for line in (out / "seconds").read_text().splitlines()]
trials = len(seconds)


@functools.cache
def load(kind, t):
    """One trial's `track run --json` report, read once (the tallies below read each many times)."""
    return json.loads((out / f"track-{kind}-{t}.json").read_text())


def flagged(report, threshold):
    """Benchmarks flagged as changed, each with its direction ("slower" or "faster"): the
    whole interval beyond 1 + threshold either way, with q below ALPHA."""
    changes = {}
    for r in report["benchmarks"]:
        if r["metric"] != "time_ns" or r["q"] >= ALPHA:
            continue
        if r["ci_low"] > 1 + threshold:
            changes[r["id"]] = "slower"
        elif r["ci_high"] < 1 / (1 + threshold):
            changes[r["id"]] = "faster"
    return changes


def rejudged(kind, t, flags, binary=proflab):
    """The same batch judged again with `compare` and extra flags, by `binary`."""
    report = load(kind, t)
    result = subprocess.run(
        [str(binary), "track", "--db", str(out / f"{kind}-{t}.sqlite"), "compare",
         report["a"], report["b"], "--json", *flags],
        check=True, capture_output=True, text=True)
    return json.loads(result.stdout)


def criterion_changes(path):
    """Benchmarks Criterion reported as regressed ("slower") or improved ("faster")."""
    changes, current = {}, None
    for line in path.read_text().splitlines():
        name = re.match(r"(\S+/\S+)", line)
        current = name.group(1) if name else current
        if "Performance has regressed" in line:
            changes[current] = "slower"
        elif "Performance has improved" in line:
            changes[current] = "faster"
    return changes


def tally(label, flags_per_trial, variant=""):
    """One line per injected benchmark (caught: flagged slower), then the false flags: any
    flag on a benchmark with no injected work, and an injected one flagged faster."""
    aa, ab = flags_per_trial("aa" + variant), flags_per_trial("ab" + variant)
    print(f"{label}:")
    print(f"  A/A: trials with any benchmark flagged: {sum(bool(f) for f in aa)}/{trials}"
          f" ({sum(len(f) for f in aa)} flags in all, "
          f"{sum(d == 'faster' for f in aa for d in f.values())} of them faster)")
    for bench, percent in sorted(injected.items(), key=lambda kv: -kv[1]):
        caught = sum(f.get(bench) == "slower" for f in ab)
        print(f"  A/B: {bench} (+{percent:g}% work) flagged slower in {caught}/{trials} trials")
    false = [{b: d for b, d in f.items() if b not in touched and (b not in injected or d == "faster")}
             for f in ab]
    for direction in ("slower", "faster"):
        hits = [{b for b, d in f.items() if d == direction} for f in false]
        print(f"  A/B: trials with a benchmark flagged {direction} that has no such change: "
              f"{sum(bool(h) for h in hits)}/{trials} ({sum(len(h) for h in hits)} flags in all)")


ratios = {bench: sorted(r["ratio"] for t in range(1, trials + 1)
                        for r in load("ab", t)["benchmarks"] if r["id"] == bench)
          for bench in injected}
print(f"{trials} trials; benchmarks per run: {len(load('ab', 1)['benchmarks'])}")
print("measured B/A of the slowed benchmarks (median over trials): " + ", ".join(
    f"{bench} (+{injected[bench]:g}% work) {values[len(values) // 2]:.3f}"
    for bench, values in sorted(ratios.items(), key=lambda kv: -injected[kv[0]]) if values))
# A benchmark with no injected work whose B/A sits off 1 in every A/B trial is not noise: B's
# build laid its code out differently (the injection moved what follows it in the binary).
untouched = sorted({r["id"] for t in range(1, trials + 1) for r in load("ab", t)["benchmarks"]
                    if r["metric"] == "time_ns"} - injected.keys() - touched)
print("B/A of the benchmarks with no injected work, median over A/B trials [min, max] (A/A median):")
for bench in untouched:
    ab = sorted(r["ratio"] for t in range(1, trials + 1) for r in load("ab", t)["benchmarks"]
                if r["id"] == bench)
    aa = sorted(r["ratio"] for t in range(1, trials + 1) for r in load("aa", t)["benchmarks"]
                if r["id"] == bench)
    print(f"  {bench}: {ab[len(ab) // 2]:.3f} [{ab[0]:.3f}, {ab[-1]:.3f}] (A/A {aa[len(aa) // 2]:.3f})")
# Variants: the same trials run again with other `track run` arguments (VARIANT in
# scripts/track-sensitivity), reports named track-aa-NAME-T.json.
variants = sorted({"-" + p.name.split("-", 2)[2].rsplit("-", 1)[0]
                   for p in out.glob("track-aa-*-1.json")})


def describe_rounds(variant):
    rounds = [r["rounds"] + r["set_aside"] for kind in ("aa", "ab") for t in range(1, trials + 1)
              for r in load(kind + variant, t)["benchmarks"] if r["metric"] == "time_ns"]
    set_aside = sum(r["set_aside"] for kind in ("aa", "ab") for t in range(1, trials + 1)
                    for r in load(kind + variant, t)["benchmarks"])
    print(f"rounds per benchmark and run{variant and f' ({variant[1:]})'}: median "
          f"{statistics.median(rounds)}, max {max(rounds)}; "
          f"rounds set aside as spoiled: {set_aside} of {sum(rounds)}")


for variant in ["", *variants]:
    describe_rounds(variant)
per_rule = {}
rule_times = out / "seconds-per-rule"
for line in rule_times.read_text().splitlines() if rule_times.exists() else []:
    t, rule, elapsed = line.split()
    if int(t) <= trials:
        per_rule.setdefault(rule, []).append(int(elapsed))
if per_rule:
    print("seconds per trial of the two track runs, median: " + ", ".join(
        f"{rule} {statistics.median(values)} s" for rule, values in per_rule.items()))
if seconds:
    print(f"seconds per trial (A/A + A/B track runs; Criterion's three runs): median "
          f"{statistics.median(int(s[1]) for s in seconds)} s; {statistics.median(int(s[2]) for s in seconds)} s "
          f"(trial 1 includes the builds); load average (1 min) at the trials' ends: "
          f"median {statistics.median(float(s[3]) for s in seconds):.1f}, max {max(float(s[3]) for s in seconds):.1f}")
# Process levels. On a shared VM a benchmark process can run at a second, slower level for its
# whole measurement (another tenant on the same physical core). A process is "slow" when its
# fastest sample is more than SLOW_LEVEL above the fastest process of its side in its batch;
# the two levels seen here are 1.4 to 1.8x apart and a level's own spread is 3 to 8%, so the
# cut falls between them. Pairs of rounds are then tallied by their two levels (F fast, S slow).
SLOW_LEVEL = math.log(1.25)


def paired_logs(db):
    """Per timed benchmark of one history, each round's (log fastest A, log fastest B)."""
    rounds = {}
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
        for bench, round_, side, samples in connection.execute(
                "SELECT results.bench_id, runs.round, runs.side, results.samples FROM results "
                "JOIN runs ON runs.id = results.run_id "
                "WHERE runs.batch_id IS NOT NULL AND results.metric = 'time_ns'"):
            rounds.setdefault(bench, {}).setdefault(round_, {})[side] = math.log(min(json.loads(samples)))
    return {bench: [(r[0], r[1]) for _, r in sorted(by_round.items()) if len(r) == 2]
            for bench, by_round in rounds.items()}


def describe_levels():
    pairs = {}
    for db in sorted(out.glob("ab*-*.sqlite")):
        if int(db.stem.rsplit("-", 1)[1]) > trials:
            continue
        for bench, rounds in paired_logs(db).items():
            fastest_a, fastest_b = min(a for a, _ in rounds), min(b for _, b in rounds)
            for a, b in rounds:
                kind = "FS"[a - fastest_a > SLOW_LEVEL] + "FS"[b - fastest_b > SLOW_LEVEL]
                pairs.setdefault(bench, {}).setdefault(kind, []).append(b - a)
    print("A/B rounds by the levels of their two processes (F fast, S slow; all rules' batches): "
          "rounds, B/A of their mean log ratio, sd of the log ratios")
    for bench, kinds in sorted(pairs.items()):
        total = sum(len(v) for v in kinds.values())
        cells = []
        for kind in ("FF", "FS", "SF", "SS"):
            logs = kinds.get(kind, [])
            spread = f"{statistics.stdev(logs):.1%}" if len(logs) > 1 else "-"
            cells.append(f"{kind} {len(logs)} {math.exp(statistics.mean(logs)) if logs else float('nan'):.3f} {spread}")
        print(f"  {bench} ({total} rounds): " + "; ".join(cells))
    # How many fast-level rounds a 95% chance of flagging each injected slowdown would take at
    # the default threshold: the mean log ratio must clear ln 1.02 by the interval's half-width
    # (t about 1.96 once moderated) plus 1.645 standard errors (normal approximation).
    for bench in sorted(injected):
        logs = pairs.get(bench, {}).get("FF", [])
        if len(logs) < 2:
            continue
        margin = statistics.mean(logs) - math.log(1.02)
        needed = ((1.96 + 1.645) * statistics.stdev(logs) / margin) ** 2 if margin > 0 else math.inf
        print(f"  {bench}: fast-level rounds for a 95% chance to flag B/A "
              f"{math.exp(statistics.mean(logs)):.3f} at 2%: about {needed:.0f}")


describe_levels()
for threshold in (0.02, 0.01):
    tally(f"proflab track run, threshold {threshold:.0%}",
          lambda kind, th=threshold: [flagged(load(kind, t), th) for t in range(1, trials + 1)])
for variant in variants:
    tally(f"proflab track run, variant {variant[1:]}, threshold 2%",
          lambda kind: [flagged(load(kind, t), 0.02) for t in range(1, trials + 1)], variant)
for label, flags in [("without setting spoiled rounds aside", ["--keep-outliers"]),
                     ("without moderation", ["--no-moderation"]),
                     ("without either (plain per-benchmark t)", ["--keep-outliers", "--no-moderation"])]:
    tally(f"the same batches judged {label}, threshold 2%",
          lambda kind, f=flags: [flagged(rejudged(kind, t, f), 0.02) for t in range(1, trials + 1)])
# REJUDGE_WITH=path/to/proflab: the same batches judged by another build (a changed rule,
# offline). Its rounds are still the ones the trial's build chose to measure.
other_build = os.environ.get("REJUDGE_WITH")
for variant in ["", *variants] if other_build else []:
    tally(f"the same batches{variant and f' ({variant[1:]})'} judged by {other_build}, threshold 2%",
          lambda kind: [flagged(rejudged(kind, t, [], other_build), 0.02) for t in range(1, trials + 1)],
          variant)
if (out / "criterion-aa-1.txt").exists():  # not in the suite mode
    tally("Criterion, one run per commit (its default 5% significance, 1% noise threshold)",
          lambda kind: [criterion_changes(out / f"criterion-{kind}-{t}.txt") for t in range(1, trials + 1)])
