"""Times the tutorial's program in Python and in Rust and prints the ratios.

Usage: speed_vs_python.py PYTHON PROFLAB PYTHON_RUNS RUST_RUNS [BASELINE_PROFLAB]
(run by scripts/speed-vs-python). Each command's median wall time and median
CPU time (user + system of the command and the children it waited for) over
its runs are reported; all runs happen in this one invocation, on this
machine, the commands taking turns so a change in the machine's load falls on
all of them. With BASELINE_PROFLAB (an older build of `proflab`), its rows
come beside the current build's.
"""
import os
import resource
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def timed(command):
    """Wall and CPU seconds of one run of `command`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main():
    python, proflab = sys.argv[1], sys.argv[2]
    python_runs, rust_runs = int(sys.argv[3]), int(sys.argv[4])
    baseline = sys.argv[5] if len(sys.argv) > 5 else None
    tutorial = os.path.join(HERE, "hillclimb.py")
    rows = [
        ("Python, n_jobs=1", [python, tutorial, "1"], python_runs),
        ("Python, n_jobs=-1 (the tutorial's)", [python, tutorial, "-1"], python_runs),
    ]
    if baseline:
        rows += [
            ("baseline proflab hillclimb --jobs 1", [baseline, "hillclimb", "--jobs", "1"], rust_runs),
            ("baseline proflab hillclimb --jobs 2", [baseline, "hillclimb", "--jobs", "2"], rust_runs),
        ]
    rows += [
        ("proflab hillclimb --jobs 1", [proflab, "hillclimb", "--jobs", "1"], rust_runs),
        ("proflab hillclimb --jobs 2", [proflab, "hillclimb", "--jobs", "2"], rust_runs),
    ]
    samples = {name: [] for name, _, _ in rows}
    for turn in range(max(runs for _, _, runs in rows)):
        for name, command, runs in rows:
            if turn < runs:
                samples[name].append(timed(command))
    results = []
    for name, _, runs in rows:
        wall = statistics.median(w for w, _ in samples[name])
        cpu = statistics.median(c for _, c in samples[name])
        results.append((name, runs, wall, cpu))
    python_wall, python_cpu = results[0][2], results[0][3]
    print(f"{os.cpu_count()} cores; median wall and CPU time of each command")
    print()
    print("| program | runs | wall | CPU | Python n_jobs=1 / this, wall | same, CPU |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, runs, wall, cpu in results:
        print(
            f"| {name} | {runs} | {wall:.3f} s | {cpu:.3f} s "
            f"| {python_wall / wall:.1f}x | {python_cpu / cpu:.1f}x |"
        )


if __name__ == "__main__":
    main()
