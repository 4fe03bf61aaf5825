"""Counts the flags of scripts/track-sensitivity's trials (reports in the folder given).

Paired mode: the verdicts `proflab track run --json` printed (threshold 2%), and the same
comparisons judged again at lower thresholds from their intervals and q-values, to find
the smallest slowdown detected reliably. Criterion: "Performance has regressed" lines.
"""
import json
import pathlib
import re
import sys

ALPHA = 0.05
out = pathlib.Path(sys.argv[1])
injected = {f"work/{spec.split(':')[0]}": int(spec.split(":")[1])
            for spec in (out / "slowdowns").read_text().split()}
trials = len(list(out.glob("track-ab-*.json")))


def track_regressed(path, threshold):
    """Benchmarks whose whole interval lies above 1 + threshold, with q below ALPHA."""
    rows = json.loads(path.read_text())
    return {r["id"] for r in rows if r["q"] < ALPHA and r["ci_low"] > 1 + threshold}


def criterion_regressed(path):
    regressed, current = set(), None
    for line in path.read_text().splitlines():
        name = re.match(r"(work/\d\d)\b", line)
        current = name.group(1) if name else current
        if "Performance has regressed" in line:
            regressed.add(current)
    return regressed


def tally(label, flags_per_trial):
    """One line per injected benchmark, then the others' false flags."""
    aa, ab = flags_per_trial("aa"), flags_per_trial("ab")
    print(f"{label}:")
    print(f"  A/A: trials with any benchmark flagged: {sum(bool(f) for f in aa)}/{trials}"
          f" ({sum(len(f) for f in aa)} flags in all)")
    for bench, percent in sorted(injected.items(), key=lambda kv: -kv[1]):
        print(f"  A/B: {bench} (+{percent}%) flagged in {sum(bench in f for f in ab)}/{trials} trials")
    false = [f - injected.keys() for f in ab]
    print(f"  A/B: trials with a benchmark flagged that has no slowdown: "
          f"{sum(bool(f) for f in false)}/{trials} ({sum(len(f) for f in false)} flags in all)")


def reports(pattern, kind):
    return [out / pattern.format(kind=kind, t=t) for t in range(1, trials + 1)]


# What the injected extra work costs in time: the paired estimates' median over the trials.
ratios = {bench: sorted(r["ratio"] for t in range(1, trials + 1)
                        for r in json.loads((out / f"track-ab-{t}.json").read_text()) if r["id"] == bench)
          for bench in injected}
print("measured B/A of the slowed benchmarks (median over trials): " + ", ".join(
    f"{bench} (+{injected[bench]}% work) {values[len(values) // 2]:.3f}"
    for bench, values in sorted(ratios.items(), key=lambda kv: -injected[kv[0]])))
for threshold in (0.02, 0.01, 0.005):
    tally(f"proflab track run, threshold {threshold:.1%}",
          lambda kind, th=threshold: [track_regressed(p, th) for p in reports("track-{kind}-{t}.json", kind)])
tally("Criterion, one run per commit (its default 5% significance, 1% noise threshold)",
      lambda kind: [criterion_regressed(p) for p in reports("criterion-{kind}-{t}.txt", kind)])
