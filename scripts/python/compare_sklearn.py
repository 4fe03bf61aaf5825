"""Prints `proflab cv` beside scikit-learn on the same CSV files.

Usage: compare_sklearn.py PROFLAB CSV... (run by scripts/compare-sklearn).
"""
import json
import subprocess
import sys

import numpy as np
import sklearn
from sklearn.linear_model import Perceptron
from sklearn.model_selection import RepeatedStratifiedKFold, cross_val_score

SETTINGS = [(1.0, 1e-4), (0.1, 0.0), (0.01, 0.1), (0.5, 0.01)]
TOLERANCE = 0.05


def sklearn_mean(path, eta0, alpha):
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    X, y = data[:, :-1], data[:, -1]
    model = Perceptron(penalty="elasticnet", alpha=alpha, eta0=eta0)
    cv = RepeatedStratifiedKFold(n_splits=10, n_repeats=3, random_state=1)
    return cross_val_score(model, X, y, scoring="accuracy", cv=cv).mean()


def proflab_mean(proflab, path, eta0, alpha):
    out = subprocess.run(
        [proflab, "cv", "--data", path, "--eta0", str(eta0), "--alpha", str(alpha), "--json"],
        check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(out)["mean"]


def main():
    proflab, paths = sys.argv[1], sys.argv[2:]
    print(f"scikit-learn {sklearn.__version__}, 10x3 RepeatedStratifiedKFold, elasticnet penalty")
    print()
    print("| dataset | eta0 | alpha | scikit-learn | proflab | difference | within 0.05 |")
    print("|---|---:|---:|---:|---:|---:|:---:|")
    failures = 0
    for path in paths:
        name = path.rsplit("/", 1)[-1]
        for eta0, alpha in SETTINGS:
            ours = proflab_mean(proflab, path, eta0, alpha)
            theirs = sklearn_mean(path, eta0, alpha)
            ok = abs(ours - theirs) <= TOLERANCE
            failures += not ok
            print(f"| {name} | {eta0} | {alpha} | {theirs:.4f} | {ours:.4f} | {ours - theirs:+.4f} | {'yes' if ok else 'NO'} |")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
