"""Side-by-side table of the tutorial's comparisons in Python and in Rust.

Usage: compare_python.py PYTHON PROFLAB RESULTS_MD (run by scripts/compare-python).
Python is timed with `python -m timeit`, Rust with `proflab timeit`; both
print "N loops, best of R: T unit per loop", read back here.
"""
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
START, END = "<!-- compare-python:start -->", "<!-- compare-python:end -->"

# (operation, python setup, python statement, rust setup, rust statement, rust deps)
CASES = [
    ("concat, str() in the loop: +=",
     "", "s = ''\nfor x in range(1000): s += str(x)",
     "", "let mut s = String::new(); for x in 0..1000u64 { s += &x.to_string(); } s", []),
    ("concat, str() in the loop: join",
     "", "''.join([str(x) for x in range(1000)])",
     "", "(0..1000u64).map(|x| x.to_string()).collect::<Vec<_>>().join(\"\")", []),
    ("concat, precomputed: +=",
     "strings = [str(x) for x in range(1000)]", "s = ''\nfor x in strings: s += x",
     "let strings: Vec<String> = (0..1000u64).map(|x| x.to_string()).collect();",
     "let mut s = String::new(); for x in &strings { s += x; } s", []),
    ("concat, precomputed: join",
     "strings = [str(x) for x in range(1000)]", "''.join(strings)",
     "let strings: Vec<String> = (0..1000u64).map(|x| x.to_string()).collect();", "strings.join(\"\")", []),
    ("sqrt of one value: math.sqrt / f64::sqrt",
     "import math; x = 1.1", "math.sqrt(x)", "", "black_box(1.1f64).sqrt()", []),
    ("sqrt of one value: numpy.sqrt / ndarray",
     "import numpy; x = 1.1", "numpy.sqrt(x)", "", "ndarray::arr0(black_box(1.1f64)).mapv(f64::sqrt)", ["ndarray=0.17"]),
    ("sqrt of one value: x ** 0.5 / powf(0.5)",
     "x = 1.1", "x ** 0.5", "", "black_box(1.1f64).powf(0.5)", []),
    ("1000 values: list comprehension / map-collect",
     "", "[x ** 0.5 for x in range(1000)]", "", "(0..black_box(1000)).map(|x| (x as f64).powf(0.5)).collect::<Vec<f64>>()", []),
    ("1000 values: numpy.sqrt / ndarray mapv",
     "import numpy; a = numpy.arange(1000.0)", "numpy.sqrt(a)",
     "let a = ndarray::Array1::from_iter((0..1000).map(f64::from));", "a.mapv(f64::sqrt)", ["ndarray=0.17"]),
]

LINE = re.compile(r"(\d+) loops?, best of (\d+): ([0-9.e+-]+) (nsec|usec|msec|sec) per loop")
SCALE = {"nsec": 1e-9, "usec": 1e-6, "msec": 1e-3, "sec": 1.0}


def per_loop(output):
    match = LINE.search(output)
    if not match:
        sys.exit(f"compare_python: cannot read a timeit line in:\n{output}")
    return float(match.group(3)) * SCALE[match.group(4)]


def human(seconds):
    for unit in ("sec", "msec", "usec", "nsec"):
        if seconds >= SCALE[unit]:
            return f"{seconds / SCALE[unit]:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} nsec"


def python_timeit(python, setup, statement):
    command = [python, "-m", "timeit"] + (["-s", setup] if setup else []) + statement.split("\n")
    return per_loop(subprocess.run(command, check=True, capture_output=True, text=True).stdout)


def rust_timeit(proflab, setup, statement, deps):
    command = [proflab, "timeit"] + (["-s", setup] if setup else [])
    for dep in deps:
        command += ["--dep", dep]
    return per_loop(subprocess.run(command + [statement], check=True, capture_output=True, text=True).stdout)


def wall(command):
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main():
    python, proflab, results = sys.argv[1], sys.argv[2], sys.argv[3]
    rows = []
    for name, py_setup, py_stmt, rs_setup, rs_stmt, deps in CASES:
        py = python_timeit(python, py_setup, py_stmt)
        rs = rust_timeit(proflab, rs_setup, rs_stmt, deps)
        rows.append((name, human(py), human(rs), py / rs))
    prof = os.path.join(os.path.dirname(results), "..", "target", "compare-python.prof")
    py = wall([python, "-m", "cProfile", "-o", prof, os.path.join(HERE, "hillclimb.py"), "1"])
    rs = wall([proflab, "hillclimb", "-o", prof])
    rows.append(("the tutorial's hill climb under cProfile / proflab --profile, whole run", f"{py:.3g} sec", f"{rs:.3g} sec", py / rs))
    table = ["| operation | Python | Rust | Python / Rust |", "|---|---:|---:|---:|"]
    table += [f"| {name} | {p} | {r} | {ratio:.1f}x |" for name, p, r, ratio in rows]
    text = "\n".join(table)
    print(text)
    with open(results) as f:
        document = f.read()
    if START in document and END in document:
        before, rest = document.split(START, 1)
        after = rest.split(END, 1)[1]
        with open(results, "w") as f:
            f.write(f"{before}{START}\n{text}\n{END}{after}")


if __name__ == "__main__":
    main()
