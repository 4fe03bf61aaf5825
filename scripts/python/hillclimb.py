"""The tutorial's program: hill climbing a perceptron's eta0 and alpha.

Written out as the "Profiling Python Code" tutorial has it, so that
scripts/speed-vs-python can time it beside `proflab hillclimb`. The one
addition: the first argument sets cross_val_score's n_jobs (the tutorial's
-1, all cores, by default; 1 for a single-threaded comparison).
"""
import sys

from numpy import mean
from numpy.random import rand, randn
from sklearn.datasets import make_classification
from sklearn.linear_model import Perceptron
from sklearn.model_selection import RepeatedStratifiedKFold, cross_val_score


N_JOBS = int(sys.argv[1]) if len(sys.argv) > 1 else -1


def objective(X, y, cfg):
    eta, alpha = cfg
    model = Perceptron(penalty="elasticnet", alpha=alpha, eta0=eta)
    cv = RepeatedStratifiedKFold(n_splits=10, n_repeats=3, random_state=1)
    scores = cross_val_score(model, X, y, scoring="accuracy", cv=cv, n_jobs=N_JOBS)
    return mean(scores)


def step(cfg, step_size):
    eta, alpha = cfg
    new_eta = eta + randn() * step_size
    if new_eta <= 0.0:
        new_eta = 1e-8
    if new_eta > 1.0:
        new_eta = 1.0
    new_alpha = alpha + randn() * step_size
    if new_alpha < 0.0:
        new_alpha = 0.0
    return [new_eta, new_alpha]


def hillclimbing(X, y, objective, n_iter, step_size):
    solution = [rand(), rand()]
    solution_eval = objective(X, y, solution)
    for i in range(n_iter):
        candidate = step(solution, step_size)
        candidate_eval = objective(X, y, candidate)
        if candidate_eval >= solution_eval:
            solution, solution_eval = candidate, candidate_eval
            print(">%d, cfg=%s %.5f" % (i, solution, solution_eval))
    return [solution, solution_eval]


if __name__ == "__main__":
    X, y = make_classification(
        n_samples=1000, n_features=5, n_informative=2, n_redundant=1, random_state=1
    )
    cfg, score = hillclimbing(X, y, objective, 100, 0.1)
    print("Done!")
    print("cfg=%s: Mean Accuracy: %f" % (cfg, score))
