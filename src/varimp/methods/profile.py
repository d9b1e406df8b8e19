"""Lek's profile (Lek et al. 1996): sweep one input over its range, the others held at levels."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..adapters import Adapter
from ..adapters.base import DEFAULT_BATCH_SIZE
from ..errors import InputError, describe
from ..result import Importance
from ..scoring import link_probabilities
from ..validation import category_names, check_positive_int, check_random_state, one_hot_codes
from ._common import (
    explained_outputs,
    one_hot_blocks,
    output_labels,
    output_names,
    prepare,
    resolve_output,
    resolve_step,
    time_table,
    warn_constant,
)

#: Lek's five levels: the quantiles at which the other inputs are held by default.
QUANTILE_LEVELS = {"min": 0.0, "q25": 0.25, "median": 0.5, "q75": 0.75, "max": 1.0}


def profile(
    model: object, X: object, y: object = None, *, steps: int = 12,
    levels: Any = "quantiles", n_clusters: int = 6, output_kind: str | None = None,
    classes: Any = None, feature_names: Any = None,
    output: Any = None, output_step: int | None = None, groups: Any = None,
    batch_size: int | None = None, random_state: Any = None, by_time: bool = True,
) -> Importance:
    """Lek's profile: the response of the model to one input swept over its range.

    Each variable is swept over ``steps`` evenly spaced points from its minimum to its maximum
    in ``X`` while every other input is held at a fixed level; one curve per level. The levels
    are, by default, Lek's five: the minimum, the quartiles and the maximum of every input
    (labels ``"min"``, ``"q25"``, ``"median"``, ``"q75"``, ``"max"``). With
    ``levels="kmeans"`` they are the centres of ``n_clusters`` k-means clusters of ``X``
    (:class:`sklearn.cluster.KMeans`, one k-means++ start seeded by ``random_state``, on inputs
    scaled to unit variance, centres reported in the original units, labels ``"cluster 1"``..
    by decreasing cluster size). This differs from NeuralNetTools: R's
    ``lekprofile(group_vals=k)`` clusters the raw explanatory variables (``kmeans(xvars, k)``),
    so an input in large units (depth in mm next to a pH) decides the clusters alone; varimp
    scales first so every input counts. To reproduce R's grouping pass its centres as levels:
    ``levels=KMeans(k, n_init=10).fit(X).cluster_centers_`` (scikit-learn, raw ``X``; R's
    Hartigan-Wong algorithm and random starts may still settle on other clusters). Given
    levels are an array ``(n_levels, n_features)`` (or one row ``(n_features,)``), a dict
    ``{label: row}`` or a DataFrame whose columns are the feature names.

    NeuralNetTools' ``lekprofile`` (Beck 2018) has other defaults: ``steps = 100`` and the other
    inputs held at the six quantiles ``group_vals = seq(0, 1, by = 0.2)`` (R's default quantile,
    type 7, which is numpy's default). ``profile(model, X, steps=100, levels=np.quantile(X,
    np.linspace(0, 1, 6), axis=0))`` gives its curves (``details["curves"]``, levels ``"level
    1"`` to ``"level 6"`` in the order of the quantiles); NeuralNetTools stops at the curves
    and gives no score.

    The importance of a variable is Lek's rule: at every point of the sweep take the median of
    the predictions over the levels (the median curve), and score the range ``max - min`` of
    that median curve. Scores are non-negative. A variable that holds one value in every
    row of ``X`` (every sample and step) is swept over that one point: its curves are flat,
    its score (and ``by_time`` column) exactly 0, and the call warns (``UserWarning``) that
    profile cannot measure it; the weight and derivative methods measure the model's
    sensitivity to such an input.

    A group (``groups=``) is swept as one variable. A numeric group moves every member along
    its own range at the same fraction of it, and ``x`` is that fraction, 0 to 1. A one-hot
    group (members that hold only 0 and 1, at most one 1 per row: a one-hot block, possibly
    with its reference column dropped) is swept over its categories instead: ``x`` is the
    category's name (every member feature, then ``"reference"``, the row of zeros, when ``X``
    holds one), and the score is the range of the median curve over the categories. While
    another variable is swept, quantile and k-means levels hold a one-hot group at a valid
    category, the most frequent one of the rows the level stands for (all rows for a quantile
    level, the cluster's rows for a centre); ``details["levels"]`` shows the values held.
    ``details["x"]`` says what ``x`` is for every variable: ``"value"``, ``"fraction"`` or
    ``"category"``.

    Sequences ``(n, T, p)``: a level of feature ``j`` is a quantile (or cluster centre, fitted
    on the ``n * T`` rows of ``X``) of ``X[:, :, j]`` over all samples and steps, held constant
    at every step; sweeping ``j`` sets it to the swept value at all steps. With ``by_time``
    every cell ``(t, j)`` is swept alone over the range of feature ``j`` while every other cell
    sits at its median over the samples (a one-hot group: at its most frequent category at
    that step, so the model sees valid categories only); ``by_time`` holds the range of that
    curve.

    Outputs: the prediction of a row is taken at ``output_step`` when the model predicts one
    value per time step, else summed over the predicted steps (as in
    :func:`partial_derivatives`). Logits (``output_kind="logits"``, declared or read from the
    model), which a softmax does not identify, are swept as probabilities, as the same network
    with a softmax (or sigmoid) layer would be: the softmax of several logits, the sigmoid of
    one (or of each, with a multi-hot ``y``: multi-label); ``details["explained"]`` says
    which. Every selected output (``output=None``: all of them) has its own curves and its
    own score, the range of its median curve (``details["per_output"]``);
    the score of a variable, and ``by_time``, are the mean over the selected outputs (for
    class probabilities, whose sum is constant, each class's range keeps its response
    visible).

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
        Not used for the scores (checked for consistency with ``X`` when given); the
        columns of a DataFrame ``y`` name the outputs when the model gives them no names.
    steps : int, default 12
        Points of every sweep, at least 2 (Lek et al. used 12).
    levels : "quantiles", "kmeans", array, dict or DataFrame, default "quantiles"
        The fixed values of the other inputs, as described above.
    n_clusters : int, default 6
        Clusters for ``levels="kmeans"`` (on inputs scaled to unit variance; R's
        ``lekprofile`` clusters raw inputs, see above).
    output_kind, classes, feature_names, output, output_step, groups, batch_size
        The common options, documented in one place: :func:`varimp.importance`.
    random_state : int, Generator or None
        Seeds k-means; the other levels are deterministic.
    by_time : bool, default True
        Sequences: also sweep every cell ``(t, variable)`` alone.

    Returns
    -------
    Importance
        ``details``: ``"curves"`` (tidy DataFrame: variable, level, x, prediction, output),
        ``"median_curve"`` (variable, x, prediction, output), ``"level_ranges"`` (variable,
        level, range, output: the range of every level's curve), ``"per_output"`` (variables x
        output labels: the range of every output's median curve; the score is their mean),
        ``"levels"`` (a column ``level`` with the labels, then one column per feature),
        ``"x"`` ({variable: "value", "fraction" or "category"}), ``"outputs"``, ``"steps"``,
        ``"level_kind"``, ``"prediction"`` (what a curve's prediction is, e.g. "prediction
        summed over 10 steps", "probability"; the plots' label), ``"explained"``; with
        ``by_time`` also ``"cell_curves"`` (time_step, variable, x, prediction, output).

    References
    ----------
    Beck, M. W. (2018). NeuralNetTools: visualization and analysis tools for neural networks.
    Journal of Statistical Software 85(11), 1-20.
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
    setup = prepare(model, X, y, feature_names=feature_names, groups=groups,
                    output_kind=output_kind, classes=classes)
    data, adapter, names = setup.data, setup.adapter, setup.variables
    rows = data.X.reshape(-1, data.n_features)  # a sequence's steps count as rows
    labels, level_values = _levels(levels, rows, data.feature_names, n_clusters,
                                   check_random_state(random_state))
    categories = {v: np.unique(codes)
                  for v, codes in one_hot_blocks(data.X, setup.groups, groups).items()}
    if isinstance(levels, str):
        level_values = _hold_at_categories(level_values, rows, setup.groups, categories,
                                           every_row=levels == "quantiles")
    grids, xs, kinds = _grids(rows, setup.groups, categories, data.feature_names, steps)
    sizes = [len(xs[v]) for v in names]
    flat = [v for v in names if v not in categories and not np.ptp(grids[v], axis=0).any()]
    warn_constant(flat, "profile", "its sweep from its minimum to its maximum is one point",
                  data.sequence)

    n_steps, n_outputs = adapter.predict(data.X[:2], batch_size).shape[1:]  # 2: no squeeze
    names_out = output_names(adapter, data, n_outputs)
    outputs = resolve_output(output, n_outputs, names_out)
    step = resolve_step(output_step, n_steps)
    link, explained = explained_outputs(setup, (data.n_samples, n_steps, n_outputs))

    def respond(blocks: Iterable[np.ndarray], sizes: list[int]) -> list[np.ndarray]:
        """Selected predictions ``(rows, outputs)`` of blocks of synthetic rows, split into
        pieces of ``sizes`` rows."""
        pred = _predict_in_chunks(adapter, blocks, outputs, step, batch_size, link)
        return np.split(pred, np.cumsum(sizes)[:-1])

    base = level_values
    if data.sequence:  # a level holds each feature at the same value at every step
        base = np.broadcast_to(level_values[:, None, :], (len(labels),) + data.X.shape[1:])
    sweeps = (_sweep(base, cols, grids[v]) for v, cols in setup.groups.items())
    pred = [piece.reshape(len(labels), size, len(outputs)) for piece, size in
            zip(respond(sweeps, [len(labels) * size for size in sizes]), sizes, strict=True)]
    for i in (names.index(v) for v in flat):  # one point swept: one prediction, to the bit
        pred[i][:] = pred[i][:, :1]
    noun = "prediction" if link is None else "probability"
    median = [np.median(curves, axis=0) for curves in pred]  # (points, outputs) per variable
    per_output = np.stack([np.ptp(curve, axis=0) for curve in median])  # (variables, outputs)
    details = {
        "measure": "range of the median response curve",
        "curves": _tidy(pred, names, outputs, level=labels, xs=xs),
        "median_curve": _tidy(median, names, outputs, xs=xs),
        "level_ranges": _tidy([np.ptp(curves, axis=1) for curves in pred], names, outputs,
                              level=labels, value="range"),
        "per_output": pd.DataFrame(per_output, index=names,
                                   columns=output_labels(outputs, names_out)),
        "levels": pd.concat([pd.Series(labels, name="level"),
                             pd.DataFrame(level_values, columns=list(data.feature_names))], axis=1),
        "x": kinds,
        "outputs": outputs,
        "steps": steps,
        "level_kind": levels if isinstance(levels, str) else "given",
        # what a curve's y is (the plots label it): one step, or the sum over the predicted steps
        "prediction": noun if n_steps == 1 else f"{noun} at step {step}"
        if step is not None else f"{noun} summed over {n_steps} steps",
        "explained": explained,
    }
    table = None
    if data.sequence and by_time:
        table, details["cell_curves"] = _by_time(respond, data.X, setup.groups, grids, xs,
                                                 outputs, categories)
        table[flat] = 0.0
    return Importance("profile", pd.Series(per_output.mean(axis=1), index=names),
                      by_time=table, details=details, kind="magnitude")


def _grids(rows: np.ndarray, groups: Mapping[str, list[int]], categories: Mapping[str, Any],
           feature_names: tuple[str, ...], steps: int
           ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, str]]:
    """The points of every sweep ``(points, len(cols))``, their ``x`` and what ``x`` is.

    A feature is swept over ``steps`` values from its minimum to its maximum (``x`` the value);
    a numeric group moves every member along its own range at the same fraction (``x`` the
    fraction); a one-hot group visits every member category, then the reference category (a
    row of zeros) when it is observed (``x`` the category name).
    """
    low, high = rows.min(axis=0), rows.max(axis=0)
    fraction = np.linspace(0.0, 1.0, steps)
    grids, xs, kinds = {}, {}, {}
    for v, cols in groups.items():
        if v in categories:
            codes = list(range(1, len(cols) + 1)) + ([0] if 0 in categories[v] else [])
            grids[v] = (np.asarray(codes)[:, None] == np.arange(1, len(cols) + 1)).astype(float)
            xs[v] = np.asarray(category_names(codes, [feature_names[c] for c in cols]),
                               dtype=object)
            kinds[v] = "category"
        else:
            grids[v] = low[cols] + fraction[:, None] * (high[cols] - low[cols])
            xs[v] = grids[v][:, 0] if len(cols) == 1 else fraction
            kinds[v] = "value" if len(cols) == 1 else "fraction"
    return grids, xs, kinds


def _hold_at_categories(level_values: np.ndarray, rows: np.ndarray,
                        groups: Mapping[str, list[int]], categories: Mapping[str, Any], *,
                        every_row: bool) -> np.ndarray:
    """Quantile and k-means levels with every one-hot group held at a valid category.

    Column quantiles or cluster means of a one-hot block are not a category (the maximum of
    every member is 1). A level holds the block at the most frequent observed category of the
    rows it stands for: all rows for a quantile level (``every_row``: the block's shares are
    its column means), the cluster's rows for a k-means centre (its block holds their shares).
    """
    if not categories:
        return level_values
    held = level_values.copy()
    for v, codes in categories.items():
        cols = groups[v]
        shares = np.broadcast_to(rows[:, cols].mean(axis=0), (len(held), len(cols))) \
            if every_row else held[:, cols]
        shares = np.column_stack([1 - shares.sum(axis=1), shares])  # code 0: the reference
        observed = np.isin(np.arange(len(cols) + 1), codes)
        mode = np.where(observed, shares, -np.inf).argmax(axis=1)
        held[:, cols] = mode[:, None] == np.arange(1, len(cols) + 1)
    return held


def _predict_in_chunks(adapter: Adapter, blocks: Iterable[np.ndarray], outputs: list[int],
                       step: int | None, batch_size: int | None, link: str | None
                       ) -> np.ndarray:
    """Predict blocks of synthetic rows, stacked into model calls of about ``batch_size`` rows.

    Rows are built lazily, block by block, so at most one chunk of synthetic input is held at
    once. Logits become probabilities through ``link`` (:func:`varimp.scoring.logit_link`). A
    row's prediction is taken at ``step`` or summed over the predicted steps.
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
    pred = link_probabilities(np.concatenate(pieces), link)[:, :, outputs]
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
             outputs: list[int], categories: Mapping[str, Any]
             ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sweep every cell ``(t, variable)`` alone, the other cells at their median over samples;
    a one-hot group (``categories``) at its most frequent observed category at each step."""
    base = _step_levels(X, groups, categories)  # (T, p)
    n_time, names = X.shape[1], list(groups)

    def cells() -> Iterator[np.ndarray]:
        for t in range(n_time):
            for v, cols in groups.items():
                rows = np.repeat(base[None], grids[v].shape[0], axis=0)
                rows[:, t, cols] = grids[v]
                yield rows

    pred = respond(cells(), [len(grids[v]) for _ in range(n_time) for v in names])
    frames, ranges = [], []
    for t in range(n_time):
        curves = pred[t * len(names):(t + 1) * len(names)]
        frames.append(_tidy(curves, names, outputs, xs=xs).assign(time_step=t))
        ranges.append([np.ptp(curve, axis=0).mean() for curve in curves])
    curves = pd.concat(frames, ignore_index=True)
    curves = curves[["time_step", "variable", "x", "prediction", "output"]]
    return time_table(np.asarray(ranges), names), curves


def _step_levels(X: np.ndarray, groups: Mapping[str, list[int]],
                 categories: Mapping[str, Any]) -> np.ndarray:
    """The values ``(T, p)`` other cells are held at while one cell is swept: every feature's
    median over the samples at each step, and every one-hot group's most frequent category at
    each step (the median of a one-hot column is 0 or 1 on its own, which together can make
    a row of several ones or of zeros that the data never holds); ties: the first category,
    the reference (a row of zeros) first."""
    base = np.median(X, axis=0)
    for v in categories:
        cols = groups[v]
        for t in range(X.shape[1]):
            codes = one_hot_codes(X[:, t, cols])
            mode = np.bincount(codes, minlength=len(cols) + 1).argmax()
            base[t, cols] = mode == np.arange(1, len(cols) + 1)
    return base


def _tidy(values: Sequence[np.ndarray], names: list[str], outputs: list[int], *,
          level: list[str] | None = None, xs: Mapping[str, np.ndarray] | None = None,
          value: str = "prediction") -> pd.DataFrame:
    """Flatten one array ``([levels,] [points,] outputs)`` per variable into a long table."""
    frames = []
    for name, array in zip(names, values, strict=True):
        index = iter(np.indices(array.shape).reshape(array.ndim, -1))
        frame: dict[str, Any] = {"variable": np.full(array.size, name, dtype=object)}
        if level is not None:
            frame["level"] = np.asarray(level, dtype=object)[next(index)]
        if xs is not None:
            frame["x"] = xs[name][next(index)]
        frame[value] = array.reshape(-1)
        frame["output"] = np.asarray(outputs)[next(index)]
        frames.append(pd.DataFrame(frame))
    return pd.concat(frames, ignore_index=True)


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


def kmeans(rows: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """Cluster centres of ``rows`` by :class:`sklearn.cluster.KMeans` (Lloyd's algorithm from
    one k-means++ start, ``n_init=1``, seeded by one integer drawn from ``rng``).

    Distances are measured on columns scaled to unit variance (NeuralNetTools' ``lekprofile``
    clusters the raw columns instead; see :func:`profile`); the centres are returned in the
    original units, ordered by decreasing cluster size (ties: scikit-learn's cluster order).
    """
    from sklearn.cluster import KMeans

    mean, scale = rows.mean(axis=0), rows.std(axis=0)
    scale[scale == 0] = 1.0
    fitted = KMeans(n_clusters=k, init="k-means++", n_init=1,
                    random_state=int(rng.integers(0, 2**32 - 1))).fit((rows - mean) / scale)
    sizes = np.bincount(fitted.labels_, minlength=k)
    return fitted.cluster_centers_[np.argsort(-sizes, kind="stable")] * scale + mean
