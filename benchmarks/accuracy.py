"""Accuracy of every importance method on data whose answer is known.

For every data set of :mod:`varimp.datasets` (``olden_simulation`` and ``friedman1`` with a
small MLP; ``product_threshold``, the four layouts of ``box_sequences``, ``state_switching`` and
``spike`` with an LSTM and a GRU), ``R`` replicate networks are trained, every method of
:func:`varimp.available_methods` is run on each, and its result is scored against the
generator's ``truth``:

``similarity``
    Olden, Joy & Death (2004): the share of inputs whose estimated rank equals their true rank.
    Inputs tied in the truth (``x1 = x2`` in Friedman #1 and product_threshold, the features of
    a box, the driven features of state_switching, the zero inputs) form a block of positions,
    and an input counts as correctly ranked when its estimated rank (average rank for ties in
    the estimate) falls anywhere inside its block: the truth does not order them, so neither
    does the score.
``spearman``
    Spearman correlation between the method's per-feature importance and the per-feature
    truth, with the same rule for ties in the truth: the estimate's ranks of the inputs of a
    tied block are replaced by their mean before the correlation is taken, so an estimate that
    puts the block in its positions, in any order, scores like one that ties them (1 for a
    perfect ranking; without the rule the ceiling would be 0.87 for 2 tied inputs of 3). 0
    when either side is constant.
``recall@k``
    Top-k recall of the informative inputs: ``k`` is the number of inputs with a non-zero truth,
    and the score is the share of them among the ``k`` inputs the method ranks highest.
``auprc``
    Sequences only: average precision (area under the precision-recall curve,
    :func:`sklearn.metrics.average_precision_score`) of ``abs(by_time)`` against the time x
    feature mask ``truth != 0``; blank for a method without ``by_time``. Where the truth is a
    mask per sample, ``truth`` is that mask averaged over samples: on the moving box and spike
    it is non-zero on every step of the driven features, so ``auprc`` there scores which
    features, not which steps (a table constant over time that ranks the features right
    reaches 1); ``auprc/sample`` is the test of time.
``auprc/sample``
    Data sets whose truth is a mask per sample (``state_switching``, ``spike``, the moving box;
    ``truth.attrs["mask"]``): the average precision of ``abs`` of the method's per-sample, per-cell
    attribution (``details["per_sample"]``, asked for with ``per_sample=True``) against that
    sample's mask, averaged over the samples whose mask holds at least one cell. Each sample is
    scored on its own, so a method is not rewarded for giving confident samples larger values;
    FIT and time_interpret pool the cells of all samples into one curve instead, so their
    figures are not directly comparable. Blank for a method without per-sample values: the
    weight-based methods (one network-wide answer), ``profile`` (its rows are synthetic) and
    the stepwise methods other than ``improved_stepwise_1`` (no per-cell reading).
``ratio``
    Sequences only: the smallest importance of an informative feature divided by the largest of
    an uninformative one (the reference LSTM target: ``x1`` and ``x2`` at least 15x ``x3``).
    A misranking is never infinite: the ratio is 0 when an informative feature scores <= 0
    (it is not separated from "no effect"), and inf only when every informative feature
    scores > 0 and every uninformative one <= 0.

A method's per-feature importance is its score as :attr:`varimp.Importance.ranks` reads it:
``abs(scores)`` for effects (connection weights), the signed increase for losses, the value for
shares and magnitudes. The per-feature truth is the design's: ``truth.attrs["feature_truth"]``
where the generator gives one (state_switching, spike, the moving box: the expected number of a
sample's truth cells per feature, equal for the features the design treats alike), else
``abs(truth)`` (tables) or ``abs(truth).sum()`` over time (sequences). The sample mean of a
per-sample mask is not used: in state_switching it gives ``x1`` 1.309 and ``x2`` 1.379 in one
draw, and a ranking scored against it would reward a coin flip.

Timing: ``seconds`` is the time of one call of the method on the replicate's network and rows,
and the table gives its median over replicates. Right before the timed call the same method is
called once, untimed, on the first 64 rows, so that one-time costs (lazy imports, first calls
into the framework: 0.8 s for the first ``perturbation`` call of a process) are not charged to
whichever replicate a worker process happens to run first; the median keeps a replicate slowed
by other work on the machine from moving the figure.

Replicates run through varimp's retraining engine (:class:`varimp.engines.RetrainEngine`): one
seeded draw of each data set, and replicate ``r`` is a :class:`~varimp.engines.FitTask` trained
on a bootstrap resample of its rows from its own seed (spawned from ``--seed``, the same on any
backend or number of workers); every method then runs on the replicate's network and all rows,
on the worker (``--n-jobs`` joblib processes). The retraining stepwise methods get a cheap
``fit=`` (the case's trainer with fewer epochs) and run their fits in the replicate's process.
``--quick`` uses fewer rows, fewer epochs and skips the retraining methods on sequences (the
table says so).

The box layouts all use Ismail et al.'s "shift" signal (a binary label moves the box's cells by
+1 or -1); ``box_sequences/middle_sum`` adds the middle box with the linear "sum" regression as a
contrast (there the derivatives are exact by construction).

Ceilings: ``--ceilings`` runs every method on the exact, noise-free function of the table data
sets in place of a network (:func:`ceiling_rows`; seconds, no training) and writes only that
section into ``--out`` (:func:`splice_section`); a full run includes it. A network's row is
read against its ceiling: on Friedman #1 the truth (total-effect variance) is what permutation
importance estimates, so only ``permutation`` can reach 1 there.

Usage: ``python benchmarks/accuracy.py [--quick] [--replicates R] [--n-jobs N] [--seed S]
[--data NAME ...] [--out docs/benchmarks.md]`` or ``python benchmarks/accuracy.py --ceilings
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
from varimp.engines import FitData, FitTask, RetrainEngine
from varimp.errors import VarImpError

SCORES = ("similarity", "spearman", "recall@k", "auprc", "auprc/sample", "ratio")


# --------------------------------------------------------------------------------- scoring
def feature_truth(truth: pd.Series | pd.DataFrame) -> pd.Series:
    """Per-feature truth: the design's (``truth.attrs["feature_truth"]``) where the generator
    gives one, else ``abs(truth)``, summed over time for sequences."""
    if "feature_truth" in truth.attrs:
        return truth.attrs["feature_truth"].astype(float).abs()
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
    """Spearman correlation of estimate and truth (average ranks), ties in the truth scored as
    in :func:`olden_similarity`: within a block of inputs tied in the truth, the estimate's
    ranks are replaced by their mean (its order there is not scored). 0 when either side is
    constant."""
    truth = truth.astype(float)
    a = estimate.reindex(truth.index).astype(float).fillna(-np.inf).rank(method="average")
    a = a.groupby(truth.to_numpy()).transform("mean")
    b = truth.rank(method="average")
    a, b = a.to_numpy() - a.mean(), b.to_numpy() - b.mean()
    denominator = math.sqrt(float(a @ a) * float(b @ b))
    return min(1.0, max(-1.0, float(a @ b) / denominator)) if denominator > 0 else 0.0


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
    score = average_precision_score(mask.ravel(), np.nan_to_num(values.ravel()))
    return min(1.0, float(score))  # a sum of products can round to 1 + 2e-16


def sample_auprc(values: np.ndarray, mask: np.ndarray) -> float:
    """Mean over samples of the average precision of ``abs(values[i])`` against ``mask[i]``.

    ``values`` and ``mask`` are ``(n, T, p)``; samples whose mask is empty are left out (NaN
    when all are). Each sample's average precision is that of
    :func:`sklearn.metrics.average_precision_score` (tied values form one threshold: the
    precision is read where the tie ends), computed for all samples at once.
    """
    values, mask = np.asarray(values, dtype=float), np.asarray(mask, dtype=bool)
    if values.shape != mask.shape:
        raise ValueError(f"per-sample values have shape {values.shape}; the mask {mask.shape}")
    scores = np.nan_to_num(np.abs(values.reshape(len(values), -1)))
    truth = mask.reshape(len(mask), -1)
    keep = truth.any(axis=1)
    if not keep.any():
        return float("nan")
    scores, truth = scores[keep], truth[keep]
    order = np.argsort(-scores, axis=1, kind="stable")
    ranked = np.take_along_axis(scores, order, axis=1)
    hits = np.take_along_axis(truth, order, axis=1)
    cells = ranked.shape[1]
    ends = np.ones(ranked.shape, dtype=bool)  # the last cell of every run of tied values
    ends[:, :-1] = ranked[:, 1:] != ranked[:, :-1]
    end = np.minimum.accumulate(np.where(ends, np.arange(cells), cells)[:, ::-1], axis=1)[:, ::-1]
    precision = np.take_along_axis(np.cumsum(hits, axis=1), end, axis=1) / (end + 1)
    return min(1.0, float(((precision * hits).sum(axis=1) / hits.sum(axis=1)).mean()))


def separation_ratio(estimate: pd.Series, truth: pd.Series) -> float:
    """Smallest informative importance over the largest uninformative one.

    0 when the smallest informative importance is <= 0 (an informative input not separated
    from "no effect"); inf when it is > 0 and every uninformative importance is <= 0; else the
    quotient, below 1 exactly when an informative input ranks below an uninformative one. A
    misranking is never inf. NaN when either group is empty.
    """
    truth = truth.astype(float)
    est = estimate.reindex(truth.index).astype(float)
    inside, outside = est[truth != 0], est[truth == 0]
    if outside.empty or inside.empty:
        return float("nan")
    low, top = float(inside.min()), float(outside.max())
    if low <= 0:
        return 0.0
    return low / top if top > 0 else float("inf")


def score_result(result: varimp.Importance, truth: pd.Series | pd.DataFrame,
                 mask: np.ndarray | None = None, per_feature: pd.Series | None = None
                 ) -> dict[str, float]:
    """Every score of one method's result against the truth (NaN where it does not apply);
    ``mask`` is the per-sample truth ``(n, T, p)``, scored against ``details["per_sample"]``;
    ``per_feature`` the per-feature truth (default :func:`feature_truth` of ``truth``)."""
    per_feature = feature_truth(truth) if per_feature is None else per_feature
    estimate = importance_key(result.scores, result.kind)
    scores = {"similarity": olden_similarity(estimate, per_feature),
              "spearman": spearman(estimate, per_feature),
              "recall@k": top_k_recall(estimate, per_feature),
              "auprc": float("nan"), "auprc/sample": float("nan"), "ratio": float("nan")}
    if isinstance(truth, pd.DataFrame):
        if result.by_time is not None:
            scores["auprc"] = auprc(result.by_time.reindex(columns=truth.columns), truth)
        scores["ratio"] = separation_ratio(estimate, per_feature)
    per_sample = result.details.get("per_sample")
    if mask is not None and per_sample is not None and np.ndim(per_sample) == 3:
        columns = [list(result.scores.index).index(c) for c in truth.columns]
        scores["auprc/sample"] = sample_auprc(per_sample[..., columns], mask)
    return scores


# --------------------------------------------------------------------------------- set-up
@dataclass
class Case:
    """One data set with one kind of network."""

    name: str
    model: str  # "mlp", "lstm" or "gru"
    make: Callable[..., tuple[np.ndarray, np.ndarray, Any]]  # make(random_state=seed)
    fit: Callable[..., Any]
    refit: Callable[..., Any]
    options: dict[str, Any] = field(default_factory=dict)
    retrain: bool = True
    description: str = ""

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


#: The box cases of the benchmark: name -> (layout, base process, signal, what the table says).
#: Every layout uses Ismail et al.'s "shift" signal; "middle_sum" is the linear contrast.
BOX_CASES = {
    "middle": ("middle", "gaussian", "shift", "N(0, 1) cells; the box, steps 12..15 of x1 and "
               "x2, shifted by +1 or -1 with a binary label (classification)"),
    "rare_feature": ("rare_feature", "ar", "shift", "AR(1) cells (phi 0.8); the box, x1 over "
                     "steps 4..15, shifted by +1 or -1 with a binary label (classification)"),
    "rare_time": ("rare_time", "harmonic", "shift", "harmonic cells (random frequency and "
                  "phase, plus noise); the box, step 10 of x1..x3, shifted by +1 or -1 with a "
                  "binary label (classification)"),
    "moving": ("moving", "gaussian", "shift", "N(0, 1) cells; a box of 4 steps of x1, x2 at a "
               "position drawn per sample, shifted by +1 or -1 with a binary label "
               "(classification); the truth is a mask per sample, and `auprc`, against the mask "
               "averaged over samples (every step of x1 and x2), scores the features, not the "
               "steps: `auprc/sample` is the test of time"),
    "middle_sum": ("middle", "gaussian", "sum", "A contrast, not one of Ismail et al.'s "
                   "designs: the middle box with the linear \"sum\" regression, y = the sum of "
                   "steps 12..15 of x1 and x2 plus noise; every box cell moves y by the same "
                   "amount, so a network that learns y has equal, exact derivatives there"),
}

#: What the spike table says.
SPIKE_TEXT = ("In half the samples a spike in x1, at a step drawn per sample, turns the label "
              "on from there (x2 and x3 get spikes that do not matter); the truth is a mask "
              "per sample (the spike's cell), and `auprc`, against the mask "
              "averaged over samples (every step of x1), scores the feature, not the step: "
              "`auprc/sample` is the test of time")


def cases(*, quick: bool, tiny: bool = False, names: tuple[str, ...] | None = None
          ) -> list[Case]:
    """The benchmark's data sets and networks; ``tiny`` is the test's form (seconds).

    ``names`` keeps the cases whose name, or the part of it before ``/``, is listed
    (``box_sequences`` keeps every box case, ``box_sequences/moving`` one of them).
    """
    d = varimp.datasets
    n_table = 200 if tiny else 600 if quick else 1000
    n_seq = 100 if tiny else 400 if quick else 1000
    epochs = 5 if tiny else 30 if quick else 60
    r_epochs = 3 if tiny else 10 if quick else 20
    hidden = 4 if tiny else 8
    units = 4 if tiny else 8
    out: list[Case] = [
        Case("olden_simulation", "mlp", functools.partial(_make, d.olden_simulation, n_table),
             _mlp(epochs, hidden), _mlp(max(2, epochs // 3), hidden)),
        Case("friedman1", "mlp", functools.partial(_make, d.friedman1, n_table),
             _mlp(epochs, hidden), _mlp(max(2, epochs // 3), hidden)),
    ]
    shape = (10, 4) if tiny else (20, 4)  # p = 4: every layout keeps an uninformative feature
    sequence_sets: list[tuple[str, Callable[[int], Any], bool | None, str]] = [
        ("product_threshold", functools.partial(_make, d.product_threshold, n_seq, 10), True,
         "")]
    for box, (layout, process, signal, text) in BOX_CASES.items():
        make = functools.partial(_make, d.box_sequences, n_seq, *shape, layout=layout,
                                 process=process, signal=signal)
        sequence_sets.append((f"box_sequences/{box}", make, False, "" if tiny else text))
    sequence_sets += [
        ("state_switching", functools.partial(_make, d.state_switching, n_seq), None, ""),
        ("spike", functools.partial(_make, d.spike, n_seq), None, "" if tiny else SPIKE_TEXT),
    ]
    for name, make, per_step, text in sequence_sets:
        for cell in ("lstm", "gru"):
            out.append(Case(name, cell, make, _auto_recurrent(cell, r_epochs, units, per_step),
                            _auto_recurrent(cell, max(1, r_epochs // 3), units, per_step),
                            retrain=not quick, description=text))
    if names is not None:
        out = [case for case in out if case.name in names or case.name.split("/")[0] in names]
    return out


def _make(generator: Callable[..., Any], *args: Any, random_state: int, **kwargs: Any) -> Any:
    return generator(*args, random_state=random_state, **kwargs)


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


# --------------------------------------------------------------------------------- ceilings
#: Draws of each table data set for the ceilings (seeds 0 .. CEILING_DRAWS - 1).
CEILING_DRAWS = 5

#: The heading of the ceilings section of docs/benchmarks.md.
CEILING_HEADING = "## Ceilings: each method on the true function (no network)"


def _olden_network(truth: pd.Series) -> Any:
    """The smallest network that computes the simulation's ``E[y | X] = X @ b`` exactly: one
    linear hidden unit with input weights ``b`` and output weight 1, no biases. Connection
    weights read ``b`` from it and Garson ``|b| / sum(|b|)``."""
    import torch

    net = torch.nn.Sequential(torch.nn.Linear(len(truth), 1, bias=False),
                              torch.nn.Linear(1, 1, bias=False)).double()
    with torch.no_grad():
        net[0].weight[:] = torch.tensor(truth.to_numpy(dtype=float)).reshape(1, -1)
        net[1].weight[:] = 1.0
    return net


def _olden_function(coefficients: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    return functools.partial(_linear, coefficients=coefficients)


def _linear(X: np.ndarray, coefficients: np.ndarray) -> np.ndarray:
    return np.asarray(X, dtype=float) @ coefficients


def ceiling_rows(n_samples: int = 1000, draws: int = CEILING_DRAWS,
                 methods: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Every method on the noise-free function of each table data set, in place of a network.

    For ``olden_simulation`` and ``friedman1`` the true ``E[y | X]`` is known in closed form
    (``X @ b``; :func:`varimp.datasets.friedman1_function`): each method runs on it as a plain
    callable, with the benchmark's ``n_samples`` rows and noisy ``y`` of draw ``seed`` (0 ..
    ``draws - 1``), and is scored like a network. The score is what the method reaches when the
    network is perfect, so a network's row is read against it: a row near its ceiling is as
    good as that method gets on that truth (a network can land above it when its errors happen
    to move the method's answer towards the truth's order), and a ceiling below 1 says the
    method measures something other than the truth. The weight-based methods need a network:
    on the Olden simulation they read the smallest one that computes ``X @ b`` exactly
    (:func:`_olden_network`); no network computes Friedman #1 exactly, so they have no ceiling
    there. The stepwise methods that retrain have none either (their score is the retrained
    networks'). One row per data set, draw and method.
    """
    d = varimp.datasets
    rows = []
    for name in ("olden_simulation", "friedman1"):
        for seed in range(draws):
            generator = getattr(d, name)
            X, y, truth = generator(n_samples, random_state=seed)
            if name == "olden_simulation":
                function, network = _olden_function(truth.to_numpy(dtype=float)), \
                    _olden_network(truth)
            else:
                function, network = d.friedman1_function, None
            per_feature = feature_truth(truth)
            for method in methods or varimp.available_methods():
                spec = varimp.registry.method_spec(method)
                row: dict[str, Any] = {"data": f"{name} (true function)", "method": method,
                                       "replicate": seed, "seed": seed}
                if spec.retrains:
                    rows.append({**row, "note": "n/a: retrains a network"})
                    continue
                if spec.reads_weights and network is None:
                    rows.append({**row, "note": "n/a: no network computes it exactly"})
                    continue
                options: dict[str, Any] = {"random_state": seed}
                if "progress" in spec.options:
                    options["progress"] = False
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    result = varimp.importance(network if spec.reads_weights else function,
                                               X, y, method=method, **options)
                row.update(score_result(result, truth, None, per_feature))
                rows.append(row)
    return pd.DataFrame(rows)


def ceiling_section(rows: pd.DataFrame, draws: int = CEILING_DRAWS,
                    n_samples: int = 1000) -> str:
    """The Markdown section of the ceilings (:func:`ceiling_rows`): one table per data set."""
    out = [CEILING_HEADING, "",
           "Each method run on the exact, noise-free function of the table data sets in place "
           f"of a network (the benchmark's {n_samples:,} rows and noisy `y`; {draws} draws of "
           f"the data, seeds 0 to {draws - 1}, mean ± sd), scored like the networks: what the "
           "method reports when the network is perfect. Read every network row against its "
           "ceiling. A ceiling below 1 says the method measures something other than the "
           "truth, not that a network misled it, and a network's row near its ceiling is as "
           "good as that method gets on that truth; a network can even land above it, when "
           "its errors happen to move the method's answer towards the truth's order. The "
           "Olden simulation's truth, the coefficients `b` of `E[y | X] = X @ b`, orders the "
           "inputs as every method's quantity does for a linear function of equicorrelated "
           "inputs. Friedman #1's truth is each input's total-effect variance, the quantity "
           "permutation importance estimates (half the expected rise in squared error when the "
           "input is shuffled), so there the truth favours `permutation` by construction and "
           "the other methods measure something else: `partial_derivatives`, for one, scores "
           "the mean squared derivative, and `x3`'s, 1600/12 = 133, exceeds `x4`'s, 100, while "
           "`x3`'s total-effect variance, 400/180 = 2.22, is a quarter of `x4`'s, 100/12 = "
           "8.33. The weight-based methods read, on the Olden simulation, the smallest "
           "network that computes `X @ b` (one linear hidden unit with input weights `b`): "
           "connection weights read `b`, Garson `|b| / sum(|b|)`. No network computes "
           "Friedman #1 exactly, and the retraining methods score retrained networks, so "
           "they have no ceiling. Made by `python benchmarks/accuracy.py --ceilings --out "
           "docs/benchmarks.md` (seconds, no training; it rewrites this section only).", ""]
    for label, table in summary(rows).items():
        table = table.drop(columns="seconds")  # the function's own time says nothing
        out += [f"### {label}", "",
                "| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
        out += ["| " + " | ".join(str(v) for v in row) + " |"
                for row in table.itertuples(index=False)]
        out.append("")
    return "\n".join(out).rstrip("\n")


def splice_section(text: str, section: str, heading: str = CEILING_HEADING) -> str:
    """``text`` (a Markdown file) with the section that starts at ``heading`` replaced by
    ``section``, up to the next ``## `` heading; where there is none, ``section`` goes before
    the first ``## `` heading after the targets (at the end when there is none)."""
    lines = text.rstrip("\n").split("\n")
    new = section.rstrip("\n").split("\n") + [""]
    if heading in lines:
        start = lines.index(heading)
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")),
                   len(lines))
    else:
        start = end = next((i for i, line in enumerate(lines) if line.startswith("## ")
                            and not line.startswith("## Targets")), len(lines))
        if start == len(lines):
            new = [""] + new
    return "\n".join(lines[:start] + new + lines[end:]).rstrip("\n") + "\n"


# --------------------------------------------------------------------------------- running
#: Rows of the untimed warm-up call that precedes each timed call.
WARM_UP_ROWS = 64


@dataclass
class Replicate:
    """``evaluate(model, data)`` for the retraining engine: every method on one replicate's
    network, scored against the truth; one row per method (runs on the worker).

    Each method is first called once, untimed, on the first :data:`WARM_UP_ROWS` rows, so the
    timed call does not carry one-time costs of the process (imports, first framework calls).
    """

    label: str
    truth: pd.Series | pd.DataFrame
    per_feature: pd.Series
    mask: np.ndarray | None
    refit: Callable[..., Any]
    retrain: bool
    methods: tuple[str, ...]

    def __call__(self, model: Any, data: FitData) -> list[dict[str, Any]]:
        warnings.simplefilter("ignore")
        rows = []
        for name in self.methods:
            spec = varimp.registry.method_spec(name)
            row: dict[str, Any] = {"data": self.label, "method": name,
                                   "replicate": data.task.label[1], "seed": data.seed}
            if spec.retrains and not self.retrain:
                rows.append({**row, "note": "skipped (--quick)"})
                continue
            options: dict[str, Any] = {"random_state": data.seed}
            if spec.retrains:
                options["fit"] = self.refit
            if "progress" in spec.options:
                options["progress"] = False
            if self.mask is not None and "per_sample" in spec.options:
                options["per_sample"] = True
            try:
                varimp.importance(model, data.X[:WARM_UP_ROWS], data.y[:WARM_UP_ROWS],
                                  method=name, **options)
            except VarImpError:
                pass  # the timed call below says why, on all rows
            start = time.perf_counter()
            try:
                result = varimp.importance(model, data.X, data.y, method=name, **options)
            except VarImpError as exc:
                rows.append({**row, "note": f"n/a: {str(exc).splitlines()[0][:80]}"})
                continue
            row["seconds"] = time.perf_counter() - start
            row.update(score_result(result, self.truth, self.mask, self.per_feature))
            rows.append(row)
        return rows


def run_case(case: Case, replicates: int, *, n_jobs: int = 1, seed: int = 0,
             methods: tuple[str, ...] | None = None) -> list[dict[str, Any]]:
    """Every replicate of one case through :class:`~varimp.engines.RetrainEngine`: one draw
    of the data (from ``seed``), replicate ``r`` trained on a bootstrap resample from its own
    seed; one row per replicate and method."""
    X, y, truth = case.make(random_state=seed)
    per_feature = feature_truth(truth)
    mask = truth.attrs.get("mask")
    truth = truth.copy()
    truth.attrs = {}
    evaluate = Replicate(case.label, truth, per_feature, mask, case.refit, case.retrain,
                         tuple(methods or varimp.available_methods()))
    engine = RetrainEngine(case.fit, X, y, n_jobs=n_jobs, progress=False, random_state=seed)
    tasks = [FitTask(("replicate", r), bootstrap=True) for r in range(replicates)]
    return [row for part in engine.run(tasks, evaluate) for row in part]


def run(case_list: list[Case], replicates: int, *, n_jobs: int = 1, seed: int = 0,
        methods: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Every replicate of every case: one row per case, replicate and method."""
    rows = [row for case in case_list
            for row in run_case(case, replicates, n_jobs=n_jobs, seed=seed, methods=methods)]
    return pd.DataFrame(rows)


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


def _seconds_cell(values: pd.Series) -> str:
    """Times: the median over replicates (robust to a replicate slowed by other work)."""
    values = values.dropna()
    return f"{values.median():.2g}" if not values.empty else ""


def _ratio_cell(values: pd.Series) -> str:
    """Ratios spread over orders of magnitude: the median and the smallest over replicates."""
    values = values.dropna()
    if values.empty:
        return ""
    return f"{values.median():.3g} (min {values.min():.3g})"


def summary(rows: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """One table per case: method rows; mean ± sd over replicates of each score (``ratio``:
    median and smallest), the median of ``seconds``. Sequences get ``auprc`` and ``ratio``;
    data with a per-sample truth ``auprc/sample``."""
    tables = {}
    for label, block in rows.groupby("data", sort=False):
        sequence = block.get("auprc", pd.Series(dtype=float)).notna().any() or any(
            m in label for m in ("LSTM", "GRU"))
        per_sample = block.get("auprc/sample", pd.Series(dtype=float)).notna().any()
        columns = [c for c in SCORES if (sequence or c not in ("auprc", "ratio"))
                   and (per_sample or c != "auprc/sample")]
        lines = []
        for method, part in block.groupby("method", sort=False):
            note = part["note"].dropna().iloc[0] if "note" in part and part["note"].notna().any() \
                else ""
            line = {"method": method}
            for column in (*columns, "seconds"):
                cell = {"ratio": _ratio_cell, "seconds": _seconds_cell}.get(column, _cell)
                line[column] = cell(part[column]) if column in part else ""
            if note:
                line[columns[0]] = note
            lines.append(line)
        tables[label] = pd.DataFrame(lines)
    return tables


def targets(rows: pd.DataFrame) -> list[str]:
    """The issue's targets, each checked against the best method of its table.

    Box layouts: top-k recall 1.0 on every replicate and a mean time x feature AUPRC >= 0.9;
    where the truth is a mask per sample (the moving box) that AUPRC is ``auprc/sample``, as
    the mean mask marks every step of the box's features and says nothing about position.
    ``auprc`` on the mean mask is reported beside it as what it is, a test of which features
    (a table constant over time that ranks the features right reaches 1), with no verdict.
    """
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
            per_sample = "auprc/sample" in block and block["auprc/sample"].notna().any()
            checks = [_box_target(block, low, column) for column in
                      (("auprc/sample", "auprc") if per_sample else ("auprc",))]
            line = f"- {label}: top-k recall 1.0 and {checks[0][0]}: {verdict(checks[0][1])}, " \
                f"{checks[0][2]}"
            if per_sample:
                line += f". Not a test of time: `auprc` against the mask averaged over " \
                    f"samples marks every step of the box's features, so it scores which " \
                    f"features, not which steps (a table constant over time that ranks them " \
                    f"right reaches 1.00); {checks[1][0]} {checks[1][2]}"
            if "middle_sum" in label:
                line += " (the linear-sum contrast, not one of the issue's layouts)"
            lines.append(line + ".")
    return lines


def _box_target(block: pd.DataFrame, low: pd.DataFrame, column: str) -> tuple[str, bool, str]:
    """A box layout's target on ``column``: its wording, whether a method meets it (recall 1.0
    on every replicate, mean ``column`` >= 0.9), and which methods do."""
    good = [m for m in block.index if low.loc[m, "recall@k"] == 1.0 and block.loc[m, column] >= 0.9]
    best = block[column].idxmax()
    by = ", ".join(f"`{m}`" for m in good) or "no method"
    return f"{column} >= 0.9", bool(good), \
        f"by {by} (best {column}: `{best}` {block.loc[best, column]:.2f})"


def markdown(tables: dict[str, pd.DataFrame], command: str, seconds: float, replicates: int,
             goals: list[str] | None = None, descriptions: dict[str, str] | None = None,
             ceilings: str | None = None) -> str:
    """The benchmark's Markdown: the definitions, the targets, the ceilings section
    (:func:`ceiling_section`) and one table per case."""
    out = ["# Accuracy benchmark", "",
           f"Made by `{command}` in {seconds / 60:.1f} minutes on {os.cpu_count()} cores; "
           f"{replicates} replicate networks per data set (mean ± sd over replicates), each "
           "trained through varimp's retraining engine on a bootstrap resample of one seeded "
           "draw of the data, with its own seed. The scores are defined in "
           "`benchmarks/accuracy.py`: `similarity` is Olden, Joy & "
           "Death's (2004) share of inputs ranked in their true place, `spearman` the rank "
           "correlation with the true per-feature importance, `recall@k` the share of the k "
           "informative inputs among the k ranked highest, `auprc` the average precision of "
           "`abs(by_time)` against the time x feature truth mask, `auprc/sample` the average "
           "precision of a method's per-sample, per-cell values (`details[\"per_sample\"]`) "
           "against each sample's own truth mask, averaged over samples, `ratio` the smallest "
           "informative over the largest uninformative importance (median and smallest over "
           "replicates; 0 when an informative score is <= 0, inf only when every informative "
           "score is > 0 and every uninformative one <= 0, so a misranking is never inf); "
           "`seconds` is the median over replicates of the method's time on one replicate (the "
           "network's training excluded; each timed call follows one untimed warm-up call of "
           f"the same method on the first {WARM_UP_ROWS} rows, so one-time costs of a worker "
           "process are not charged to its first replicate).", "",
           "Inputs tied in the truth (`x1 = x2` in Friedman #1 and product_threshold, the "
           "features of a box, the two driven features of state_switching, the inputs that do "
           "not matter) form a block, and every score treats the block alike: for "
           "`similarity` an input is in its true place when its estimated rank falls anywhere "
           "within the block's positions, and for `spearman` the estimate's ranks within a "
           "block are averaged before the correlation, so the estimate's order inside a block "
           "is not scored and a perfect ranking reaches 1 (without the rule the ceiling would "
           "be 0.87 for 2 tied informative features of 3). The per-feature truth is the "
           "design's: for state_switching `x1` and `x2` matter equally by construction (the "
           "hidden state is symmetric), so they are tied, although the sample mean of the mask "
           "gives them 1.31 and 1.38 in a draw of 1,000; for spike it is `x1` alone and for "
           "the moving box `x1` and `x2` equally. The box layouts use Ismail et al.'s (2020) "
           "design, a binary label that shifts the box's cells by +1 or -1 "
           "(`signal=\"shift\"`); `box_sequences/middle_sum` is the linear \"sum\" "
           "regression on the middle box, kept as a contrast. For state_switching, spike and "
           "the moving box the truth is a mask per sample: `auprc` uses the mask averaged over "
           "samples, and `auprc/sample` asks whether a method finds the cells that mattered in "
           "each sample. On the moving box and spike the averaged mask marks every step of the "
           "driven features (the box and the spike can fall on any step), so there `auprc` "
           "scores which features, not which steps (a table constant over time that ranks the "
           "features right reaches 1.00), and only `auprc/sample` tests time; on "
           "state_switching the averaged mask holds the last three steps of `x1` and `x2` "
           "and still tests time. `auprc/sample` is blank for the "
           "methods without per-sample values: `connection_weights` and `garson` (one answer "
           "for the whole network), `profile` (its rows are synthetic sweeps, not the samples), "
           "`forward_stepwise`, `backward_stepwise` (retrained networks, no per-cell reading) "
           "and `improved_stepwise_2` (no per-cell reading). The per-sample scores average "
           "each sample's own curve; FIT and time_interpret pool the cells of all samples, "
           "so their published figures are not directly comparable.", ""]
    if goals:
        out += ["## Targets (issue 11)", "", *goals, ""]
    if ceilings:
        out += [ceilings, ""]
    for label, table in tables.items():
        out += [f"## {label}", ""]
        if descriptions and descriptions.get(label):
            out += [descriptions[label] + ".", ""]
        out += ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
        out += ["| " + " | ".join(str(v) for v in row) + " |" for row in table.itertuples(
            index=False)]
        out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--replicates", type=int, default=None)
    parser.add_argument("--n-jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed", type=int, default=0, help="the data and the replicates' seeds")
    parser.add_argument("--data", nargs="*", default=None,
                        help="data set names (default: all; box_sequences: every layout)")
    parser.add_argument("--out", default=None, help="write the Markdown here")
    parser.add_argument("--ceilings", action="store_true",
                        help="only the ceilings (every method on the true function of the "
                        "table data sets); with --out, replace that section of the file")
    args = parser.parse_args(argv)
    n_table = 600 if args.quick else 1000  # the rows of the table cases (see cases())
    ceilings = ceiling_section(ceiling_rows(n_table), n_samples=n_table)
    if args.ceilings:
        print(ceilings)
        if args.out:
            try:
                with open(args.out, encoding="utf-8") as handle:
                    text = handle.read()
            except FileNotFoundError:
                text = "# Accuracy benchmark\n"
            with open(args.out, "w", encoding="utf-8") as handle:
                handle.write(splice_section(text, ceilings))
        return 0
    replicates = args.replicates or (3 if args.quick else 5)
    start = time.perf_counter()
    case_list = cases(quick=args.quick, names=tuple(args.data) if args.data else None)
    rows = run(case_list, replicates, n_jobs=args.n_jobs, seed=args.seed)
    elapsed = time.perf_counter() - start
    command = "python benchmarks/accuracy.py " + " ".join(argv if argv is not None
                                                           else sys.argv[1:])
    text = markdown(summary(rows), command.strip(), elapsed, replicates, targets(rows),
                    {case.label: case.description for case in case_list}, ceilings)
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
