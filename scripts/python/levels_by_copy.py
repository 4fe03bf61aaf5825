"""Whether the executable file fixes a benchmark process's level: runs one benchmark from several
byte-identical copies of a bench executable (each copy its own page-cache pages), interleaved, and
prints each copy's fastest samples, one per process. A copy whose processes sit at another level
than the others' would show that a side's executable, kept for a whole `track run` batch, can
bias that side.

usage: levels_by_copy.py EXECUTABLE COPIES PROCESSES_PER_COPY BENCHMARK_ID WORK_DIR
"""
import glob
import json
import os
import pathlib
import shutil
import statistics
import subprocess
import sys

executable, copies, per_copy, bench = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
work = pathlib.Path(sys.argv[5])
work.mkdir(parents=True, exist_ok=True)
repository = pathlib.Path(__file__).resolve().parents[2]
paths = []
for copy in range(copies):
    path = work / f"copy-{copy}"
    shutil.copy2(executable, path)
    paths.append(path)
fastest = {copy: [] for copy in range(copies)}
for process in range(per_copy):
    # Alternate the order, as `track run` alternates A and B.
    order = range(copies) if process % 2 == 0 else reversed(range(copies))
    for copy in order:
        home = work / "criterion"
        shutil.rmtree(home, ignore_errors=True)
        subprocess.run([str(paths[copy]), "--bench", "--noplot", "--warm-up-time", "0.03",
                        "--measurement-time", "0.05", "--exact", bench],
                       env=dict(os.environ, CRITERION_HOME=str(home)), cwd=repository,
                       check=True, capture_output=True)
        sample = json.loads(pathlib.Path(glob.glob(str(home / "**/new/sample.json"),
                                                   recursive=True)[0]).read_text())
        fastest[copy].append(min(t / n for t, n in zip(sample["times"], sample["iters"])))
for copy, values in fastest.items():
    print(f"copy {copy}: median {statistics.median(values):8.1f} ns  levels "
          + " ".join(f"{v:.0f}" for v in values), flush=True)
