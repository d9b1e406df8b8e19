"""Why two box targets are missed, and derivatives on the shifted box: the checks behind
docs/methods.md.

**The moving box.** In Ismail et al.'s (2020) design a binary label shifts a box of cells by
+1 or -1. When the box moves between samples (``box_sequences(layout="moving")``), every step
of the box's features still has a class mean of +-1 times the chance that the box covers it, so
a linear read of all those cells classifies almost as well as finding the box. This script
measures, on one seeded draw (1,000 sequences to train, 1,000 others to test; 20 steps,
4 features, N(0, 1) cells):

1. test accuracy of the oracle (the sign of each sample's own box), of the sign of the sum of
   every ``x1``, ``x2`` cell, and of a logistic regression on all 80 cells;
2. the per-sample AUPRC (``auprc/sample`` of ``benchmarks/accuracy.py``) of an exact
   attribution of two linear models, each cell's weight times its value's deviation from the
   training mean: the equal-weight sum of the ``x1``, ``x2`` cells and the logistic regression;
3. the benchmark's LSTM and GRU (its full-size trainer) trained on the same 1,000 sequences:
   their test accuracy, how much larger their absolute derivatives are inside each sample's box
   than on the other steps of ``x1`` and ``x2``, and the ``auprc/sample`` of
   ``partial_derivatives`` and ``improved_stepwise_1`` on the test sequences.

**The rare-feature box over AR(1) cells.** The box (``x1``, steps 4..15) is shifted after the
AR(1) process is drawn, so the cells just outside it still tell what the box's cells would have
been without the shift. The Bayes-optimal linear classifier of two Gaussian classes is Fisher's
``w = S^-1 m`` (``S`` the AR(1) correlation, ``phi**|s - t|``; ``m`` the class-mean difference,
1 on the box); for AR(1) ``S^-1`` is tridiagonal, and ``w`` puts
``(1 - phi + phi**2)/(1 - phi**2)`` on the box's two end steps, ``-phi / (1 - phi**2)`` on the
steps just outside it and ``(1 - phi) / (1 + phi)`` on the inner steps. The script prints ``w``,
the weights of a logistic regression on 20,000 sequences (which should approach it), and the
average precision of ``|w|`` against the box: what a perfect explanation of the best model
scores on the benchmark's ``auprc``.

**Derivatives on the shifted middle box.** With the shift design the box's sum separates the
classes by about 5.7 standard deviations, so the networks classify most sequences with near
certainty, where a sigmoid output is flat. For an LSTM and a GRU of the benchmark (its trainer,
on its draw of the middle box) the script prints the share of sequences predicted below 0.01 or
above 0.99, and the share of the squared derivatives (``partial_derivatives``, per sample) that
falls on the box's cells in those sequences and in the others (the box is 8 of 80 cells, 10%).

Usage: ``python benchmarks/moving_box.py [--seed S]`` (under a minute on 2 cores).
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

import varimp
from varimp.adapters import adapt

sys.path.insert(0, str(Path(__file__).resolve().parent))
from accuracy import cases, sample_auprc  # noqa: E402 -- the benchmark's own scores and trainers

N_TRAIN = 1000


def linear_checks(X: np.ndarray, y: np.ndarray, mask: np.ndarray) -> dict[str, float]:
    """Accuracies of the oracle, the sum and a logistic regression; exact linear attributions."""
    train, test = slice(0, N_TRAIN), slice(N_TRAIN, None)
    flat = X.reshape(len(X), -1)
    regression = LogisticRegression(max_iter=5000).fit(flat[train], y[train])
    oracle = np.where(mask, X, 0.0).sum(axis=(1, 2)) > 0
    total = X[..., :2].sum(axis=(1, 2)) > 0
    deviation = X[test] - X[train].mean(axis=0)
    equal = np.zeros(X.shape[1:])
    equal[:, :2] = 1.0
    weights = regression.coef_.reshape(X.shape[1:])
    return {
        "oracle (sign of the sample's own box) accuracy": float((oracle[test] == y[test]).mean()),
        "sign of the sum of every x1, x2 cell accuracy": float((total[test] == y[test]).mean()),
        "logistic regression on all 80 cells accuracy": regression.score(flat[test], y[test]),
        "sum of x1, x2 cells, exact attribution auprc/sample": sample_auprc(
            equal * deviation, mask[test]),
        "logistic regression, exact attribution auprc/sample": sample_auprc(
            weights * deviation, mask[test]),
    }


def network_checks(X: np.ndarray, y: np.ndarray, mask: np.ndarray, seed: int
                   ) -> dict[str, float]:
    """The benchmark's LSTM and GRU: accuracy, derivative contrast, per-sample AUPRC."""
    train, test = slice(0, N_TRAIN), slice(N_TRAIN, None)
    out = {}
    for case in cases(quick=False, names=("box_sequences/moving",)):
        model = case.fit(X[train], y[train], random_state=seed)
        name = case.model.upper()
        probability = adapt(model).predict(X[test])  # (n, 1, 1): one probability per sequence
        predicted = probability.reshape(len(probability), -1)[:, -1] > 0.5
        out[f"{name} test accuracy"] = float((predicted == y[test]).mean())
        pad = varimp.partial_derivatives(model, X[test], per_sample=True, progress=False)
        slope = np.sqrt(pad.details["per_sample"])  # per-sample squared derivatives
        box, rest = mask[test], ~mask[test] & (np.arange(X.shape[2]) < 2)
        out[f"{name} mean |derivative| inside the box / other x1, x2 steps"] = float(
            slope[box].mean() / slope[rest].mean())
        out[f"{name} partial_derivatives auprc/sample"] = sample_auprc(slope, box)
        held = varimp.improved_stepwise_1(model, X[test], y[test], per_sample=True,
                                          random_state=seed)
        out[f"{name} improved_stepwise_1 auprc/sample"] = sample_auprc(
            held.details["per_sample"], box)
    return out


def ar_box_checks(seed: int, phi: float = 0.8) -> dict[str, object]:
    """Fisher's weights for the rare-feature box over AR(1) cells, and a fitted check."""
    from sklearn.metrics import average_precision_score

    T = 20
    X, y, truth = varimp.datasets.box_sequences(20_000, T, 4, layout="rare_feature",
                                                process="ar", signal="shift", phi=phi,
                                                random_state=seed)
    box = truth["x1"].to_numpy() != 0
    steps = np.arange(T)
    fisher = np.linalg.solve(phi ** np.abs(np.subtract.outer(steps, steps)), box.astype(float))
    fitted = LogisticRegression(max_iter=5000).fit(X.reshape(len(X), -1), y)
    weights = fitted.coef_.reshape(T, -1)[:, 0]
    first = np.flatnonzero(box)[0]
    return {
        "x1 Fisher weights by step (0..19)": np.round(fisher, 2).tolist(),
        "x1 logistic regression weights by step, scaled to Fisher's at the box's first step":
            np.round(weights * fisher[first] / weights[first], 2).tolist(),
        "average precision of |Fisher weights| against the box": float(
            average_precision_score(box, np.abs(fisher))),
    }


def saturation_checks(seed: int) -> dict[str, float]:
    """Where the networks' output saturates on the middle box, and where derivatives fall."""
    out = {}
    for case in cases(quick=False, names=("box_sequences/middle",)):
        X, y, truth = case.make(random_state=seed)
        model = case.fit(X, y, random_state=seed)
        probability = adapt(model).predict(X).ravel()
        flat = (probability < 0.01) | (probability > 0.99)
        squared = varimp.partial_derivatives(model, X, per_sample=True,
                                             progress=False).details["per_sample"]
        box = truth.to_numpy() != 0
        name = case.model.upper()
        out[f"{name} share of sequences predicted below 0.01 or above 0.99"] = float(flat.mean())
        for part, rows in (("those", flat), ("the others", ~flat)):
            out[f"{name} box's share of the squared derivatives in {part}"] = float(
                squared[rows][:, box].sum() / squared[rows].sum())
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    X, y, truth = varimp.datasets.box_sequences(2 * N_TRAIN, 20, 4, layout="moving",
                                                process="gaussian", signal="shift",
                                                random_state=args.seed)
    mask = truth.attrs["mask"]
    print("The moving box (Ismail et al.'s shift design, 1,000 sequences to train, 1,000 to test)")
    for name, value in {**linear_checks(X, y, mask),
                        **network_checks(X, y, mask, args.seed)}.items():
        print(f"  {name}: {value:.3f}")
    print("The rare-feature box over AR(1) cells (phi 0.8; the box is x1, steps 4..15)")
    for name, value in ar_box_checks(args.seed).items():
        print(f"  {name}: {value:.3f}" if isinstance(value, float) else f"  {name}: {value}")
    print("The shifted middle box (the benchmark's draw and trainer, all 1,000 sequences)")
    for name, value in saturation_checks(args.seed).items():
        print(f"  {name}: {value:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
