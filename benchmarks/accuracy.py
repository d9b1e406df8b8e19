"""Accuracy of every importance method on data whose answer is known.

For every data set of :mod:`varimp.datasets` (``olden_simulation`` and ``friedman1`` with a
small MLP; ``product_threshold``, ``box_sequences`` and, when present, ``state_switching`` and
``spike`` with an LSTM and a GRU), ``R`` replicate networks are trained, each from its own seed
on its own seeded draw of the data, every method of :func:`varimp.available_methods` is run on
each, and its result is scored against the generator's ``truth``:

``similarity``
    Olden, Joy & Death (2004): the share of inputs whose estimated rank equals their true rank.
    Inputs tied in the truth (``x1 = x2`` in Friedman #1, the zero inputs) form a block of
    positions, and an input counts as correctly ranked when its estimated rank (average rank for
    ties in the estimate) falls inside its block.
``spearman``
    Spearman correlation between the method's per-feature importance and the per-feature truth
    (0 when either is constant).
``recall@k``
    Top-k recall of the informative inputs: ``k`` is the number of inputs with a non-zero truth,
    and the score is the share of them among the ``k`` inputs the method ranks highest.
``auprc``
    Sequences only: average precision (area under the precision-recall curve,
    :func:`sklearn.metrics.average_precision_score`) of ``abs(by_time)`` against the time x
    feature mask ``truth != 0``; blank for a method without ``by_time``.
``ratio``
    Sequences only: the smallest importance of an informative feature divided by the largest of
    an uninformative one (the reference LSTM target: ``x1`` and ``x2`` at least 15x ``x3``).

A method's per-feature importance is its score as :attr:`varimp.Importance.ranks` reads it:
``abs(scores)`` for effects (connection weights), the signed increase for losses, the value for
shares and magnitudes. The per-feature truth is ``abs(truth)`` (tables) or ``abs(truth).sum()``
over time (sequences).

Replicates run on joblib processes (``--n-jobs``); the retraining stepwise methods get a cheap
``fit=`` (the replicate's own trainer with fewer epochs) and run their fits in the replicate's
process. ``--quick`` uses fewer rows, fewer epochs and skips the retraining methods on
sequences (the table says so).

Usage: ``python benchmarks/accuracy.py [--quick] [--replicates R] [--n-jobs N]
[--out docs/benchmarks.md]``.
"""

from __future__ import annotations

import argparse
import functools
import math
import os
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

import varimp
from varimp.errors import VarImpError

SCORES = ("similarity", "spearman", "recall@k", "auprc", "ratio")


# --------------------------------------------------------------------------------- scoring
def feature_truth(truth: pd.Series | pd.DataFrame) -> pd.Series:
    """Per-feature truth: ``abs(truth)``, summed over time for sequences."""
    if isinstance(truth, pd.DataFrame):
        return truth.abs().sum(axis=0)
    return truth.abs()


def importance_key(scores: pd.Series, kind: str) -> pd.Series:
    """The per-feature importance a method's ranks follow: ``abs`` for effects, else the value."""
    values = scores.astype(float)
    return values.abs() if kind == "effect" else values


def olden_similarity(estimate: pd.Series, truth: pd.Series) -> float:
    """Share of inputs whose estimated rank (1 = most important) lies in their true rank block."""
    truth = truth.astype(float)
    estimate = estimate.reindex(truth.index).astype(float).fillna(-np.inf)
    est_rank = estimate.rank(ascending=False, method="average")
    low = truth.rank(ascending=False, method="min")
    high = truth.rank(ascending=False, method="max")
    return float(((est_rank >= low) & (est_rank <= high)).mean())


def spearman(estimate: pd.Series, truth: pd.Series) -> float:
    """Spearman correlation of estimate and truth (average ranks); 0 when either is constant."""
    a = estimate.reindex(truth.index).astype(float).fillna(-np.inf).rank(method="average")
    b = truth.astype(float).rank(method="average")
    a, b = a.to_numpy() - a.mean(), b.to_numpy() - b.mean()
    denominator = math.sqrt(float(a @ a) * float(b @ b))
    return float(a @ b) / denominator if denominator > 0 else 0.0


def top_k_recall(estimate: pd.Series, truth: pd.Series) -> float:
    """Share of the ``k`` informative inputs (truth != 0) among the ``k`` ranked highest.

    Ties in the estimate at the ``k``-th place are broken against the informative inputs (the
    uninformative one, later in column order or not, is taken first), so a method cannot gain
    from a constant score.
    """
    informative = truth.index[truth.astype(float) != 0]
    k = len(informative)
    if k == 0:
        return float("nan")
    est = estimate.reindex(truth.index).astype(float).fillna(-np.inf)
    frame = pd.DataFrame({"est": est, "info": truth.index.isin(informative)})
    order = frame.sort_values(["est", "info"], ascending=[False, True], kind="stable")
    return float(order["info"].iloc[:k].sum() / k)


def auprc(by_time: pd.DataFrame, truth: pd.DataFrame) -> float:
    """Average precision of ``abs(by_time)`` against the mask ``truth != 0`` (cells)."""
    from sklearn.metrics import average_precision_score

    mask = truth.to_numpy() != 0
    values = np.abs(np.asarray(by_time, dtype=float))
    if values.shape != mask.shape:
        raise ValueError(f"by_time has shape {values.shape}; the truth {mask.shape}")
    return float(average_precision_score(mask.ravel(), np.nan_to_num(values.ravel())))


def separation_ratio(estimate: pd.Series, truth: pd.Series) -> float:
    """Smallest informative importance over the largest uninformative one (inf if that is <= 0)."""
    truth = truth.astype(float)
    est = estimate.reindex(truth.index).astype(float)
    inside, outside = est[truth != 0], est[truth == 0]
    if outside.empty or inside.empty:
        return float("nan")
    top = float(outside.max())
    return float(inside.min()) / top if top > 0 else float("inf")


def score_result(result: varimp.Importance, truth: pd.Series | pd.DataFrame) -> dict[str, float]:
    """Every score of one method's result against the truth (NaN where it does not apply)."""
    per_feature = feature_truth(truth)
    estimate = importance_key(result.scores, result.kind)
    scores = {"similarity": olden_similarity(estimate, per_feature),
              "spearman": spearman(estimate, per_feature),
              "recall@k": top_k_recall(estimate, per_feature),
              "auprc": float("nan"), "ratio": float("nan")}
    if isinstance(truth, pd.DataFrame):
        if result.by_time is not None:
            scores["auprc"] = auprc(result.by_time.reindex(columns=truth.columns), truth)
        scores["ratio"] = separation_ratio(estimate, per_feature)
    return scores


# --------------------------------------------------------------------------------- set-up
@dataclass
class Case:
    """One data set with one kind of network."""

    name: str
    model: str  # "mlp", "lstm" or "gru"
    make: Callable[[int], tuple[np.ndarray, np.ndarray, Any]]
    fit: Callable[..., Any]
    refit: Callable[..., Any]
    options: dict[str, Any] = field(default_factory=dict)
    retrain: bool = True

    @property
    def label(self) -> str:
        return f"{self.name} ({self.model.upper()})"


def _mlp(epochs: int, hidden: int) -> Callable[..., Any]:
    return functools.partial(varimp.train_mlp, hidden=(hidden,), epochs=epochs, batch_size=32,
                             lr=0.01)


def _recurrent(cell: str, epochs: int, units: int, *, sequences: bool) -> Callable[..., Any]:
    if sequences:  # one binary target per step, as the reference LSTM
        return functools.partial(varimp.train_recurrent, cell=cell, units=(units, 1),
                                 activations=("tanh", "sigmoid"), loss="bce", epochs=epochs,
                                 batch_size=32, lr=0.01)
    return functools.partial(varimp.train_recurrent, cell=cell, units=(units,),
                             activations="tanh", return_sequences=False, head=True,
                             loss="mse", epochs=epochs, batch_size=32, lr=0.01)


def cases(*, quick: bool, tiny: bool = False, names: tuple[str, ...] | None = None
          ) -> list[Case]:
    """The benchmark's data sets and networks; ``tiny`` is the test's form (seconds)."""
    d = varimp.datasets
    n_table = 200 if tiny else 600 if quick else 1000
    n_seq = 100 if tiny else 400 if quick else 1000
    epochs = 5 if tiny else 30 if quick else 60
    r_epochs = 3 if tiny else 10 if quick else 20
    hidden = 4 if tiny else 8
    units = 4 if tiny else 8
    out: list[Case] = [
        Case("olden_simulation", "mlp", lambda s: d.olden_simulation(n_table, random_state=s),
             _mlp(epochs, hidden), _mlp(max(2, epochs // 3), hidden)),
        Case("friedman1", "mlp", lambda s: d.friedman1(n_table, random_state=s),
             _mlp(epochs, hidden), _mlp(max(2, epochs // 3), hidden)),
    ]
    sequence_sets: list[tuple[str, Callable[[int], Any], bool]] = [
        ("product_threshold", lambda s: d.product_threshold(n_seq, 10, random_state=s), True),
        ("box_sequences", (lambda s: d.box_sequences(n_seq, 10, 3, steps=(5, 8), random_state=s))
         if tiny else (lambda s: d.box_sequences(n_seq, 20, 4, random_state=s)), False),
    ]
    if hasattr(d, "state_switching"):
        sequence_sets.append(("state_switching",
                              lambda s: d.state_switching(n_seq, random_state=s), None))
    if hasattr(d, "spike"):
        sequence_sets.append(("spike", lambda s: d.spike(n_seq, random_state=s), None))
    for name, make, per_step in sequence_sets:
        for cell in ("lstm", "gru"):
            out.append(Case(name, cell, make, _auto_recurrent(cell, r_epochs, units, per_step),
                            _auto_recurrent(cell, max(1, r_epochs // 3), units, per_step),
                            retrain=not quick))
    if names is not None:
        out = [case for case in out if case.name in names]
    return out


class _auto_recurrent:  # noqa: N801 -- a picklable fit that reads the target's shape
    """A recurrent trainer that predicts every step when ``y`` has one target per step."""

    def __init__(self, cell: str, epochs: int, units: int, per_step: bool | None) -> None:
        self.cell, self.epochs, self.units, self.per_step = cell, epochs, units, per_step

    def __call__(self, X: np.ndarray, y: np.ndarray, random_state: object = 0) -> Any:
        y = np.asarray(y)
        per_step = self.per_step if self.per_step is not None else y.ndim >= 2
        binary = bool(np.isin(np.unique(y), (0.0, 1.0)).all())
        if per_step and binary:
            fit = _recurrent(self.cell, self.epochs, self.units, sequences=True)
        elif binary:
            fit = functools.partial(varimp.train_recurrent, cell=self.cell, units=(self.units,),
                                    activations="tanh", return_sequences=False, head=True,
                                    loss="bce", epochs=self.epochs, batch_size=32, lr=0.01)
        else:
            fit = _recurrent(self.cell, self.epochs, self.units, sequences=False)
        return fit(X, y, random_state=random_state)


# --------------------------------------------------------------------------------- running
def run_replicate(case: Case, seed: int, methods: tuple[str, ...] | None = None
                  ) -> list[dict[str, Any]]:
    """Train one network on the seed's data and score every applicable method; one row each."""
    warnings.simplefilter("ignore")
    X, y, truth = case.make(seed)
    model = case.fit(X, y, random_state=seed)
    rows = []
    for name in methods or varimp.available_methods():
        spec = varimp.registry.method_spec(name)
        row: dict[str, Any] = {"data": case.label, "method": name, "seed": seed}
        if spec.retrains and not case.retrain:
            rows.append({**row, "note": "skipped (--quick)"})
            continue
        options: dict[str, Any] = {"random_state": seed}
        if spec.retrains:
            options["fit"] = case.refit
        start = time.perf_counter()
        try:
            result = varimp.importance(model, X, y, method=name, **options)
        except VarImpError as exc:
            rows.append({**row, "note": f"n/a: {str(exc).splitlines()[0][:80]}"})
            continue
        row["seconds"] = time.perf_counter() - start
        row.update(score_result(result, truth))
        rows.append(row)
    return rows


def run(case_list: list[Case], replicates: int, *, n_jobs: int = 1,
        methods: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Every replicate of every case: one row per case, seed and method."""
    jobs = [(case, seed) for case in case_list for seed in range(replicates)]
    if n_jobs == 1:
        parts = [run_replicate(case, seed, methods) for case, seed in jobs]
    else:
        from joblib import Parallel, delayed

        parts = Parallel(n_jobs=n_jobs)(delayed(run_replicate)(case, seed, methods)
                                        for case, seed in jobs)
    return pd.DataFrame([row for part in parts for row in part])


def _cell(values: pd.Series, digits: int = 2) -> str:
    values = values.dropna()
    if values.empty:
        return ""
    finite = values[np.isfinite(values)]
    if len(finite) < len(values):
        return "inf" if finite.empty else f">= {finite.min():.{digits}f}"
    if len(values) == 1:
        return f"{values.iloc[0]:.{digits}f}"
    return f"{values.mean():.{digits}f} ± {values.std(ddof=1):.{digits}f}"


def _ratio_cell(values: pd.Series) -> str:
    """Ratios spread over orders of magnitude: the median and the smallest over replicates."""
    values = values.dropna()
    if values.empty:
        return ""
    return f"{values.median():.3g} (min {values.min():.3g})"


def summary(rows: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """One table per case: method rows; mean ± sd over replicates of each score and seconds."""
    tables = {}
    for label, block in rows.groupby("data", sort=False):
        sequence = block.get("auprc", pd.Series(dtype=float)).notna().any() or any(
            m in label for m in ("LSTM", "GRU"))
        columns = [c for c in SCORES if sequence or c not in ("auprc", "ratio")]
        lines = []
        for method, part in block.groupby("method", sort=False):
            note = part["note"].dropna().iloc[0] if "note" in part and part["note"].notna().any() \
                else ""
            line = {"method": method}
            for column in (*columns, "seconds"):
                cell = _ratio_cell if column == "ratio" else _cell
                line[column] = cell(part[column]) if column in part else ""
            if note:
                line[columns[0]] = note
            lines.append(line)
        tables[label] = pd.DataFrame(lines)
    return tables


def targets(rows: pd.DataFrame) -> list[str]:
    """The issue's targets, each checked against the best method of its table."""
    if "note" in rows:
        rows = rows[rows["note"].isna()]
    means = rows.groupby(["data", "method"], sort=False).mean(numeric_only=True)
    lowest = rows.groupby(["data", "method"], sort=False).min(numeric_only=True)
    lines = []

    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"

    for label in means.index.get_level_values(0).unique():
        block, low = means.loc[label], lowest.loc[label]
        if label.startswith("olden_simulation"):
            best = block["similarity"].idxmax()
            value = block.loc[best, "similarity"]
            lines.append(f"- {label}: mean similarity >= 0.95: {verdict(value >= 0.95)}, best "
                         f"`{best}` {value:.2f}.")
        elif label.startswith("product_threshold"):
            best = low["ratio"].idxmax()
            value = low.loc[best, "ratio"]
            lines.append(f"- {label}: x1 and x2 each >= 15x x3 on every replicate: "
                         f"{verdict(value >= 15)}, best `{best}` (smallest ratio {value:.3g}).")
        elif label.startswith("box_sequences"):
            good = [m for m in block.index if low.loc[m, "recall@k"] == 1.0
                    and block.loc[m, "auprc"] >= 0.9]
            lines.append(f"- {label}: top-k recall 1.0 and AUPRC >= 0.9: "
                         f"{verdict(bool(good))}, by " + (", ".join(f"`{m}`" for m in good)
                                                           or "no method") + ".")
    return lines


def markdown(tables: dict[str, pd.DataFrame], command: str, seconds: float, replicates: int,
             goals: list[str] | None = None) -> str:
    out = ["# Accuracy benchmark", "",
           f"Made by `{command}` in {seconds / 60:.1f} minutes on {os.cpu_count()} cores; "
           f"{replicates} replicate networks per data set (mean ± sd over replicates). "
           "The scores are defined in `benchmarks/accuracy.py`: `similarity` is Olden, Joy & "
           "Death's (2004) share of inputs ranked in their true place, `spearman` the rank "
           "correlation with the true per-feature importance, `recall@k` the share of the k "
           "informative inputs among the k ranked highest, `auprc` the average precision of "
           "`abs(by_time)` against the time x feature truth mask, `ratio` the smallest "
           "informative over the largest uninformative importance (median and smallest over "
           "replicates; inf when every uninformative score is <= 0); `seconds` is the method's "
           "time on one replicate (the network's training excluded).", "",
           "Where two informative inputs are tied in the truth (`x1 = x2` in product_threshold, "
           "the box's features) an estimate without ties cannot reach a Spearman of 1: the "
           "ceiling is 0.87 for 3 features and 0.89 for 4 (the table's maximum). For "
           "state_switching and spike the truth is a mask per sample; the scores here use the "
           "mask averaged over samples (`truth`), so they say which features and steps matter on "
           "average, not whether a method finds the cell that mattered in each sample.", ""]
    if goals:
        out += ["## Targets (issue 11)", "", *goals, ""]
    for label, table in tables.items():
        out += [f"## {label}", "", "| " + " | ".join(table.columns) + " |",
                "|" + "---|" * len(table.columns)]
        out += ["| " + " | ".join(str(v) for v in row) + " |" for row in table.itertuples(
            index=False)]
        out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--replicates", type=int, default=None)
    parser.add_argument("--n-jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--data", nargs="*", default=None, help="data set names (default: all)")
    parser.add_argument("--out", default=None, help="write the Markdown here")
    args = parser.parse_args(argv)
    replicates = args.replicates or (3 if args.quick else 5)
    start = time.perf_counter()
    rows = run(cases(quick=args.quick, names=tuple(args.data) if args.data else None),
               replicates, n_jobs=args.n_jobs)
    elapsed = time.perf_counter() - start
    command = "python benchmarks/accuracy.py " + " ".join(argv if argv is not None
                                                           else sys.argv[1:])
    text = markdown(summary(rows), command.strip(), elapsed, replicates, targets(rows))
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
