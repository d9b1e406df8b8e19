"""Lek's profile (Lek et al. 1996): sweep one input over its range, the others held at levels."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..adapters import Adapter
from ..adapters.base import DEFAULT_BATCH_SIZE
from ..errors import InputError, describe
from ..result import Importance
from ..validation import check_positive_int, check_random_state
from ._common import prepare, resolve_output, resolve_step, time_table

#: Lek's five levels: the quantiles at which the other inputs are held by default.
QUANTILE_LEVELS = {"min": 0.0, "q25": 0.25, "median": 0.5, "q75": 0.75, "max": 1.0}


def profile(
    model: object, X: object, y: object = None, *, steps: int = 12,
    levels: Any = "quantiles", n_clusters: int = 6, feature_names: Any = None,
    output: Any = None, output_step: int | None = None, groups: Any = None,
    batch_size: int | None = None, random_state: Any = None, by_time: bool = True,
) -> Importance:
    """Lek's profile: the response of the model to one input swept over its range.

    Each variable is swept over ``steps`` evenly spaced points from its minimum to its maximum
    in ``X`` while every other input is held at a fixed level; one curve per level. The levels
    are, by default, Lek's five: the minimum, the quartiles and the maximum of every input
    (labels ``"min"``, ``"q25"``, ``"median"``, ``"q75"``, ``"max"``). With
    ``levels="kmeans"`` they are the centres of ``n_clusters`` k-means clusters of ``X``
    (k-means++ started, seeded by ``random_state``, on inputs scaled to unit variance, centres
    reported in the original units, labels ``"cluster 1"``.. by decreasing cluster size). Given
    levels are an array ``(n_levels, n_features)`` (or one row ``(n_features,)``), a dict
    ``{label: row}`` or a DataFrame whose columns are the feature names.

    The importance of a variable is Lek's rule: at every point of the sweep take the median of
    the predictions over the levels (the median curve), and score the range ``max - min`` of
    that median curve. Scores are non-negative.

    A group (``groups=``) is swept as one variable: every member moves along its own range at
    the same fraction of it, and ``x`` is that fraction, 0 to 1 (``details["x"]`` says which
    variables report a fraction).

    Sequences ``(n, T, p)``: a level of feature ``j`` is a quantile (or cluster centre, fitted
    on the ``n * T`` rows of ``X``) of ``X[:, :, j]`` over all samples and steps, held constant
    at every step; sweeping ``j`` sets it to the swept value at all steps. With ``by_time``
    every cell ``(t, j)`` is swept alone over the range of feature ``j`` while every other cell
    sits at its median over the samples; ``by_time`` holds the range of that curve.

    Outputs: the prediction of a row is taken at ``output_step`` when the model predicts one
    value per time step, else summed over the predicted steps (as in
    :func:`partial_derivatives`). Every selected output (``output=None``: all of them) has its
    own curves; the score of a variable adds the ranges of its median curves over the selected
    outputs (for one output it is the range itself; for class probabilities, whose mean is
    constant, this keeps the response visible).

    The synthetic rows (every variable, level and point; every cell and point) are stacked
    into model calls of ``batch_size`` rows, built block by block so that only about one
    batch of synthetic input is held at a time, never predicted one row at a time.

    Parameters
    ----------
    model : torch.nn.Module, Keras model, scikit-learn MLP or callable
        The fitted model; it is not changed.
    X : array-like (n, p) or (n, T, p), DataFrame or tensor
        The data whose ranges and levels define the sweeps.
    y : array-like, optional
        Not used (checked for consistency with ``X`` when given).
    steps : int, default 12
        Points of every sweep, at least 2 (Lek et al. used 12).
    levels : "quantiles", "kmeans", array, dict or DataFrame, default "quantiles"
        The fixed values of the other inputs, as described above.
    n_clusters : int, default 6
        Clusters for ``levels="kmeans"``.
    feature_names, output, output_step, groups, batch_size
        As for every method (``output_step`` picks one predicted time step).
    random_state : int, Generator or None
        Seeds k-means; the other levels are deterministic.
    by_time : bool, default True
        Sequences: also sweep every cell ``(t, variable)`` alone.

    Returns
    -------
    Importance
        ``details``: ``"curves"`` (tidy DataFrame: variable, level, x, prediction, output),
        ``"median_curve"`` (variable, x, prediction, output), ``"level_ranges"`` (variable,
        level, range, output: the range of every level's curve), ``"per_output"`` (variable,
        range, output: the range of the median curve; the score sums it over the outputs),
        ``"levels"`` (a column ``level`` with the labels, then one column per feature),
        ``"x"`` ({variable: "value" or "fraction"}), ``"outputs"``, ``"steps"``,
        ``"level_kind"``; with ``by_time`` also ``"cell_curves"`` (time_step, variable, x,
        prediction, output).

    References
    ----------
    Lek, S., Delacoste, M., Baran, P., Dimopoulos, I., Lauga, J. & Aulagnier, S. (1996).
    Application of neural networks to modelling nonlinear relationships in ecology.
    Ecological Modelling 90, 39-52.
    Gevrey, M., Dimopoulos, I. & Lek, S. (2003). Review and comparison of methods to study the
    contribution of variables in artificial neural network models. Ecological Modelling 160,
    249-264.

    Examples
    --------
    >>> import numpy as np, varimp
    >>> X = np.random.default_rng(0).uniform(size=(100, 3))
    >>> result = varimp.profile(lambda X: 2 * X[:, 0] + X[:, 1] ** 2, X)
    >>> result.details["curves"].columns.tolist()
    ['variable', 'level', 'x', 'prediction', 'output']
    """
    steps = check_positive_int(steps, "steps", minimum=2)
    if batch_size is not None:
        batch_size = check_positive_int(batch_size, "batch_size")
    setup = prepare(model, X, y, feature_names=feature_names, groups=groups)
    data, adapter, names = setup.data, setup.adapter, setup.variables
    rows = data.X.reshape(-1, data.n_features)  # a sequence's steps count as rows
    labels, level_values = _levels(levels, rows, data.feature_names, n_clusters,
                                   check_random_state(random_state))
    low, high = rows.min(axis=0), rows.max(axis=0)
    fraction = np.linspace(0.0, 1.0, steps)
    grids = {v: low[c] + fraction[:, None] * (high[c] - low[c]) for v, c in setup.groups.items()}
    xs = {v: grids[v][:, 0] if len(c) == 1 else fraction for v, c in setup.groups.items()}

    n_steps, n_outputs = adapter.predict(data.X[:1], batch_size).shape[1:]
    outputs = resolve_output(output, n_outputs, getattr(adapter, "output_names", None))
    step = resolve_step(output_step, n_steps)

    def respond(blocks: Iterable[np.ndarray]) -> np.ndarray:
        """Selected predictions ``(rows, outputs)`` of blocks of synthetic rows."""
        return _predict_in_chunks(adapter, blocks, outputs, step, batch_size)

    base = level_values
    if data.sequence:  # a level holds each feature at the same value at every step
        base = np.broadcast_to(level_values[:, None, :], (len(labels),) + data.X.shape[1:])
    sweeps = (_sweep(base, cols, grids[v]) for v, cols in setup.groups.items())
    pred = respond(sweeps).reshape(len(names), len(labels), steps, len(outputs))
    median = np.median(pred, axis=1)  # (variables, steps, outputs)
    per_output = np.ptp(median, axis=1)
    details = {
        "curves": _tidy(pred, names, outputs, level=labels, xs=xs),
        "median_curve": _tidy(median, names, outputs, xs=xs),
        "level_ranges": _tidy(np.ptp(pred, axis=2), names, outputs, level=labels,
                              value="range"),
        "per_output": _tidy(per_output, names, outputs, value="range"),
        "levels": pd.concat([pd.Series(labels, name="level"),
                             pd.DataFrame(level_values, columns=list(data.feature_names))], axis=1),
        "x": {v: "value" if len(c) == 1 else "fraction" for v, c in setup.groups.items()},
        "outputs": outputs,
        "steps": steps,
        "level_kind": levels if isinstance(levels, str) else "given",
    }
    table = None
    if data.sequence and by_time:
        table, details["cell_curves"] = _by_time(respond, data.X, setup.groups, grids, xs,
                                                 outputs)
    return Importance("profile", pd.Series(per_output.sum(axis=1), index=names),
                      by_time=table, details=details)


def _predict_in_chunks(adapter: Adapter, blocks: Iterable[np.ndarray], outputs: list[int],
                       step: int | None, batch_size: int | None) -> np.ndarray:
    """Predict blocks of synthetic rows, stacked into model calls of about ``batch_size`` rows.

    Rows are built lazily, block by block, so at most one chunk of synthetic input is held at
    once. A row's prediction is taken at ``step`` or summed over the predicted steps.
    """
    size = batch_size or DEFAULT_BATCH_SIZE
    pieces, pending, held = [], [], 0
    for block in blocks:
        pending.append(block)
        held += len(block)
        if held >= size:
            pieces.append(adapter.predict(np.concatenate(pending), batch_size))
            pending, held = [], 0
    if pending:
        pieces.append(adapter.predict(np.concatenate(pending), batch_size))
    pred = np.concatenate(pieces)[:, :, outputs]
    return pred.sum(axis=1) if step is None else pred[:, step]


def _sweep(base: np.ndarray, cols: list[int], grid: np.ndarray) -> np.ndarray:
    """Rows ``(levels * points, ...)``: every base row with ``cols`` set to every grid point."""
    points = grid.shape[0]
    rows = np.repeat(base[:, None], points, axis=1)  # (levels, points, [T,] p)
    shape = (1, points) + (1,) * (base.ndim - 2) + (len(cols),)
    rows[..., cols] = grid.reshape(shape)
    return rows.reshape((-1,) + base.shape[1:])


def _by_time(respond: Any, X: np.ndarray, groups: Mapping[str, list[int]],
             grids: Mapping[str, np.ndarray], xs: Mapping[str, np.ndarray],
             outputs: list[int]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sweep every cell ``(t, variable)`` alone, the other cells at their median over samples."""
    base = np.median(X, axis=0)  # (T, p)
    n_time, names = X.shape[1], list(groups)

    def cells() -> Iterator[np.ndarray]:
        for t in range(n_time):
            for v, cols in groups.items():
                rows = np.repeat(base[None], grids[v].shape[0], axis=0)
                rows[:, t, cols] = grids[v]
                yield rows

    pred = respond(cells()).reshape(n_time, len(names), -1, len(outputs))
    frames = [_tidy(pred[t], names, outputs, xs=xs).assign(time_step=t) for t in range(n_time)]
    curves = pd.concat(frames, ignore_index=True)
    curves = curves[["time_step", "variable", "x", "prediction", "output"]]
    return time_table(np.ptp(pred, axis=2).sum(axis=-1), names), curves


def _tidy(values: np.ndarray, names: list[str], outputs: list[int], *,
          level: list[str] | None = None, xs: Mapping[str, np.ndarray] | None = None,
          value: str = "prediction") -> pd.DataFrame:
    """Flatten ``(variables, [levels,] [points,] outputs)`` into a long table."""
    index = iter(np.indices(values.shape).reshape(values.ndim, -1))
    variable = next(index)
    frame: dict[str, Any] = {"variable": np.asarray(names, dtype=object)[variable]}
    if level is not None:
        frame["level"] = np.asarray(level, dtype=object)[next(index)]
    if xs is not None:
        frame["x"] = np.stack([xs[v] for v in names])[variable, next(index)]
    frame[value] = values.reshape(-1)
    frame["output"] = np.asarray(outputs)[next(index)]
    return pd.DataFrame(frame)


def _levels(levels: object, rows: np.ndarray, feature_names: tuple[str, ...], n_clusters: object,
            rng: np.random.Generator) -> tuple[list[str], np.ndarray]:
    """Level labels and values ``(n_levels, n_features)``: quantiles, k-means or given."""
    if isinstance(levels, str):
        if levels == "quantiles":
            return list(QUANTILE_LEVELS), np.quantile(rows, list(QUANTILE_LEVELS.values()), axis=0)
        if levels == "kmeans":
            k = check_positive_int(n_clusters, "n_clusters")
            distinct = len(np.unique(rows, axis=0))
            if k > distinct:
                raise InputError(f"n_clusters must be at most the number of distinct rows of X "
                                 f"({distinct}); received {k}")
            centres = kmeans(rows, k, rng)
            return [f"cluster {i + 1}" for i in range(k)], centres
        raise InputError(f"levels must be 'quantiles', 'kmeans', an array (n_levels, "
                         f"{len(feature_names)}), a dict {{label: row}} or a DataFrame; "
                         f"received {levels!r}")
    p = len(feature_names)
    if isinstance(levels, pd.DataFrame):
        missing = [n for n in feature_names if n not in [str(c) for c in levels.columns]]
        if missing:
            raise InputError(f"levels must have a column for every feature {list(feature_names)}"
                             f"; received columns {[str(c) for c in levels.columns]}")
        frame = levels.set_axis([str(c) for c in levels.columns], axis=1)
        labels, values = [str(i) for i in levels.index], frame[list(feature_names)].to_numpy()
    elif isinstance(levels, Mapping):
        labels, values = [str(k) for k in levels], list(levels.values())
        for label, row in zip(labels, values, strict=True):
            size = np.size(row)
            if size != p:
                raise InputError(f"levels[{label!r}] must give one value per feature ({p}); "
                                 f"received {size} value(s)")
    else:
        values = levels
        labels = None
    try:
        values = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"levels must hold numbers, one row of {p} values per level; received "
                         f"{describe(levels)}") from exc
    if values.ndim == 1 and labels is None:
        values = values[None]
    if values.ndim != 2 or values.shape[1] != p or values.shape[0] == 0:
        raise InputError(f"levels must give one value per feature ({p}) for each level, shape "
                         f"(n_levels, {p}); received shape {values.shape}")
    if not np.all(np.isfinite(values)):
        raise InputError("levels must be finite; received NaN or inf")
    if labels is None:
        labels = [f"level {i + 1}" for i in range(values.shape[0])]
    return labels, values


def kmeans(rows: np.ndarray, k: int, rng: np.random.Generator, max_iter: int = 300,
           tol: float = 1e-4) -> np.ndarray:
    """Cluster centres of ``rows`` by Lloyd's k-means from a k-means++ start.

    Distances are measured on columns scaled to unit variance. One k-means++ start (as
    scikit-learn's ``n_init="auto"``); Lloyd's iterations stop when the centres move by less
    than ``tol`` (squared, summed: ``tol`` times the unit variance, scikit-learn's rule) or
    after ``max_iter``. The centres are returned in the original units, ordered by decreasing
    cluster size.
    """
    mean, scale = rows.mean(axis=0), rows.std(axis=0)
    scale[scale == 0] = 1.0
    Z = (rows - mean) / scale
    centres = _kmeans_pp(Z, k, rng)
    for _ in range(max_iter):
        assign = _nearest(Z, centres)
        counts = np.bincount(assign, minlength=k)
        sums = np.column_stack([np.bincount(assign, Z[:, j], minlength=k)
                                for j in range(Z.shape[1])])
        moved = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], centres)
        shift = ((moved - centres) ** 2).sum()
        centres = moved
        if shift <= tol:
            break
    sizes = np.bincount(_nearest(Z, centres), minlength=k)
    return centres[np.argsort(-sizes, kind="stable")] * scale + mean


def _nearest(Z: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Index of the nearest centre of every row (``|z|^2`` is common to all and left out).

    ``einsum`` rather than ``@``: a (rows, p) x (p, k) product is too thin to gain from BLAS
    threads, and on a busy machine their start-up cost dominates.
    """
    cross = np.einsum("ij,kj->ik", Z, centres, optimize=False)
    return (np.einsum("ij,ij->i", centres, centres)[None] - 2 * cross).argmin(axis=1)


def _kmeans_pp(Z: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ seeding (Arthur & Vassilvitskii 2007): far points are likelier centres."""
    centres = [Z[rng.integers(len(Z))]]
    d2 = ((Z - centres[0]) ** 2).sum(axis=1)
    for _ in range(1, k):
        total = d2.sum()
        pick = rng.choice(len(Z), p=d2 / total) if total > 0 else rng.integers(len(Z))
        centres.append(Z[pick])
        d2 = np.minimum(d2, ((Z - Z[pick]) ** 2).sum(axis=1))
    return np.array(centres)
