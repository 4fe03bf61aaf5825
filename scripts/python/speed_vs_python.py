"""Times the tutorial's program in Python and in Rust and prints the ratios.

Usage: speed_vs_python.py PYTHON PROFLAB PYTHON_RUNS RUST_RUNS
(run by scripts/speed-vs-python). Each command's median wall time over its
runs is reported; all runs happen in this one invocation, on this machine.
"""
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def median_seconds(command, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    python, proflab, python_runs, rust_runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    tutorial = os.path.join(HERE, "hillclimb.py")
    rows = [
        ("Python, n_jobs=1", [python, tutorial, "1"], python_runs),
        ("Python, n_jobs=-1 (the tutorial's)", [python, tutorial, "-1"], python_runs),
        ("proflab hillclimb --jobs 1", [proflab, "hillclimb", "--jobs", "1"], rust_runs),
        ("proflab hillclimb --jobs 2", [proflab, "hillclimb", "--jobs", "2"], rust_runs),
    ]
    results = [(name, median_seconds(cmd, runs), runs) for name, cmd, runs in rows]
    python_single = results[0][1]
    print(f"{os.cpu_count()} cores; median wall time of each command")
    print()
    print("| program | runs | median | Python n_jobs=1 / this |")
    print("|---|---:|---:|---:|")
    for name, seconds, runs in results:
        print(f"| {name} | {runs} | {seconds:.3f} s | {python_single / seconds:.1f}x |")


if __name__ == "__main__":
    main()
