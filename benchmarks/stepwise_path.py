"""Why ``improved_stepwise_2`` misses on the reference task: its removal path, measured on the
accuracy benchmark's own product_threshold networks. The check behind docs/methods.md.

``improved_stepwise_2`` holds the inputs at their means one by one, least increase in error
first, and scores each by the increase at the step it leaves (the held inputs stay held). On
product_threshold (``y[t] = 1`` when ``x1[t] * x2[t] < 0.25``; ``x3`` irrelevant) the benchmark
scores it low (similarity 0.33 on every GRU replicate). This script retrains the benchmark's
replicate networks exactly as ``benchmarks/accuracy.py`` does (the same draw of the data, the
same bootstrap resamples and seeds through :class:`varimp.engines.RetrainEngine`) and prints,
per network the removal order, each step's log loss before and after and the scores, beside
the log loss of the best constant prediction (the entropy of the observed base rate), and, with
every input held but the last, the share of steps predicted below 0.1 or above 0.9 and the
share of those on the wrong side of 0.5.

What it shows (docs/methods.md, ``improved_stepwise_2``): the order is right (``x3`` leaves
first, at an increase near 0); the miss is the last informative input's score. Once its
partner is held at the mean (about 0.5), the network's prediction turns on the remaining input
alone and stays confident while the label still turns on the partner's real value, so a share
of the confident predictions is wrong and the log loss exceeds the constant's; holding that
input too brings the prediction back towards a constant and lowers the log loss, so the input
that leaves last can get a negative increase. That is an interaction with a held partner, not
a wrong order, and not the networks' doing: the exact rule as a sharp probability,
``sigmoid(40 (0.25 - x1 x2))``, without a network, on the same draw, is scored alike.

Usage: ``python benchmarks/stepwise_path.py [--replicates R] [--seed S] [--n-jobs N]`` (20 s
for the ten networks with ``--n-jobs 2`` on 2 cores).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

import accuracy  # noqa: E402

import varimp  # noqa: E402
from varimp.adapters import adapt  # noqa: E402
from varimp.engines import FitData, FitTask, RetrainEngine  # noqa: E402


def constant_log_loss(y: np.ndarray) -> float:
    """The log loss of the best constant prediction: the entropy of the base rate (nats)."""
    rate = float(np.mean(y))
    return float(-(rate * np.log(rate) + (1.0 - rate) * np.log(1.0 - rate)))


def held_path(model: Any, X: np.ndarray, y: np.ndarray, **options: Any) -> dict[str, Any]:
    """``improved_stepwise_2`` on one model: its path, its scores, and the model's predictions
    with every input held but the last (at each step's mean, as the method holds them): the
    share of steps predicted below 0.1 or above 0.9, and the share of those on the wrong side
    of 0.5."""
    warnings.simplefilter("ignore")
    result = varimp.improved_stepwise_2(model, X, y, **options)
    path = result.details["path"]
    names = list(result.scores.index)
    held = X.copy()
    for name in list(path["removed"])[:-1]:
        j = names.index(name)
        held[..., j] = X[..., j].mean(axis=0)
    probability = np.asarray(adapt(model).predict(held), dtype=float).reshape(y.shape)
    confident = (probability < 0.1) | (probability > 0.9)
    wrong = (probability > 0.5) != (y > 0.5)
    return {"path": path, "scores": result.scores, "confident": float(confident.mean()),
            "confident_wrong": float(wrong[confident].mean())}


def path_of(model: Any, data: FitData) -> dict[str, Any]:
    """:func:`held_path` of one replicate's network on all rows (runs on the worker)."""
    return {"replicate": data.task.label[1], "seed": data.seed,
            **held_path(model, data.X, data.y)}


#: Slope of the exact rule's sigmoid: ``P(y = 1) = sigmoid(RULE_SLOPE (0.25 - x1 x2))``.
RULE_SLOPE = 40.0


def exact_rule(X: np.ndarray) -> np.ndarray:
    """The reference task's rule as a sharp probability, no network: ``sigmoid(40 (0.25 -
    x1 x2))`` at every step."""
    X = np.asarray(X, dtype=float)
    return 0.5 * (1.0 + np.tanh(0.5 * RULE_SLOPE * (0.25 - X[..., 0] * X[..., 1])))


def run(replicates: int = 5, seed: int = 0, n_jobs: int = 1) -> dict[str, list[dict[str, Any]]]:
    """The path of every replicate network of product_threshold, LSTM and GRU, and of the
    exact rule (:func:`exact_rule`) on the same draw of the data."""
    out = {}
    for case in accuracy.cases(quick=False, names=("product_threshold",)):
        X, y, _ = case.make(random_state=seed)
        engine = RetrainEngine(case.fit, X, y, n_jobs=n_jobs, progress=False, random_state=seed)
        tasks = [FitTask(("replicate", r), bootstrap=True) for r in range(replicates)]
        out[case.label] = engine.run(tasks, path_of)
        out[case.label + " constant"] = constant_log_loss(y)
    out["exact rule, no network"] = [{"replicate": "-", **held_path(
        exact_rule, X, y, output_kind="probability")}]
    out["exact rule, no network constant"] = constant_log_loss(y)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--n-jobs", type=int, default=1)
    args = parser.parse_args(argv)
    results = run(args.replicates, args.seed, args.n_jobs)
    for label, parts in results.items():
        if label.endswith(" constant"):
            continue
        print(f"## {label}: log loss of the best constant {results[label + ' constant']:.3f}")
        rows = []
        for part in parts:
            path = part["path"]
            rows.append({"replicate": part["replicate"],
                         "order": " > ".join(path["removed"]),
                         **{f"step {int(s)}": f"{b:.3f} -> {a:.3f} ({i:+.2g})" for s, b, a, i in
                            zip(path["step"], path["error_before"], path["error_after"],
                                path["increase"], strict=True)},
                         "confident, one held": f"{part['confident']:.2f}",
                         "of them wrong": f"{part['confident_wrong']:.2f}",
                         "scores": ", ".join(f"{k} {v:+.2g}" for k, v in
                                             part["scores"].items())})
        print(pd.DataFrame(rows).to_string(index=False))
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
