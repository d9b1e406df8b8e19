"""Partial derivatives, "PaD" (Dimopoulos et al. 1995, 1999), for MLPs and recurrent networks."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..adapters import Adapter
from ..progress import progress_bar
from ..result import Importance
from ..scoring import link_probabilities
from ..validation import check_choice, check_flag, feature_spread
from ._common import (
    block_categories,
    explained_outputs,
    group_columns,
    one_hot_blocks,
    output_labels,
    output_names,
    prepare,
    resolve_output,
    resolve_step,
    time_table,
    warn_units,
)
from .measure import check_interval, interval_seed, percentile_interval, row_bootstrap
from .perturbation import mixed_kinds


def partial_derivatives(
    model: object, X: object, y: object = None, *, scale: str = "none",
    output_kind: str | None = None, classes: Any = None,
    feature_names: Any = None, output: Any = None, output_step: int | None = None,
    groups: Any = None, batch_size: int | None = None, by_time: bool = True,
    ci_level: float | None = None, n_bootstrap: int = 1000, random_state: Any = None,
    per_sample: bool = False, progress: bool | None = None,
) -> Importance:
    """Partial derivatives of the output with respect to every input, at every observation.

    ``d_i(x) = d y(x) / d x_i`` is taken at each sample (by autodiff where the framework has it,
    otherwise central finite differences; ``details["gradient"]`` says which). The score of
    variable ``i`` is its sum of squared derivatives ``SSD_i = sum_n d_i(x_n)^2``, whose share
    is Dimopoulos' PaD contribution; ``details["summary"]`` holds the mean, standard deviation and
    root mean square of the derivatives (as NeuralSens reports them) and
    ``details["derivatives"]`` the derivatives themselves.

    What is differentiated: the model's outputs, except logits (``output_kind="logits"``,
    declared or read from the model), which a softmax does not identify (adding any function
    of the input to every logit changes no probability but every derivative). A logits model
    is explained on its probabilities, as the same network with a softmax (or sigmoid) layer
    would be: ``p = softmax(z)`` of several logits, ``p = sigmoid(z)`` of one logit (the
    positive class) or of each logit when ``y`` is multi-hot (multi-label). The derivatives
    follow by the chain rule from the logits' own gradients, ``dp_k = p_k (dz_k - sum_j p_j
    dz_j)`` (softmax) and ``dp_k = p_k (1 - p_k) dz_k`` (sigmoid), per predicted step.
    ``details["explained"]`` says which.

    Units: a raw derivative is in units of the output per unit of the input, so an input
    measured in large units (an elevation in metres beside standardised inputs) gets a tiny
    derivative whatever its effect. ``scale="none"`` (default) keeps Dimopoulos' raw
    derivatives and warns when the inputs' standard deviations differ by more than a factor of
    10; ``scale="std"`` multiplies every derivative by its input's standard deviation, so the
    score measures the change of the output per standard deviation of the input (for a linear
    model ``f = X w`` the scaled derivative of input ``j`` is ``w_j * std_j``). The standard
    deviation is that of :func:`varimp.validation.feature_spread` (on sequences, across samples
    at each step). ``details["scale"]`` says which was used and ``details["spread"]`` holds
    the standard deviations. The members of a one-hot group are never scaled (see below).

    Sequences ``(n, T, p)``: the derivative is taken for every cell. A variable's score uses the
    derivative along a shift of the variable at all steps together (the sum of its cell
    derivatives), matching what perturbation does; ``by_time`` holds the SSD of every cell.
    Predictions per time step are summed over the steps, or taken at ``output_step``.

    Groups (``groups=``): a numeric group moves all its features together, so its derivative
    is the sum of its members' (scaled) derivatives. A one-hot group (members that hold only 0
    and 1, at most one 1 per row: a one-hot block, possibly with its reference column dropped)
    cannot move along ``(1, ..., 1)``; a row can only move from its category ``a`` to another
    category ``c`` (every member, and the reference, a row of zeros, when ``X`` holds one),
    along ``e_c - e_a``, whose directional derivative is ``g_c - g_a`` (``g`` the members'
    derivatives, ``g_reference = 0``). The row's term is the mean over those moves of
    ``(g_c - g_a)^2`` (a linear model's ``(w_c - w_a)^2``, the squared change of the output
    per category switch), so ``SSD = sum_n mean_c (g_c - g_a)^2``; its "derivative" in
    ``details["derivatives"]`` and ``details["summary"]`` is the root of that term, unsigned
    (a category move has no direction to sign). On sequences the whole-variable move sets
    every step to category ``c`` (the sum over steps of ``g_{t,c} - g_{t,a_t}``; moves that
    change no step are left out) and ``by_time`` holds each cell's own moves.
    ``details["category_moves"]`` lists these groups.

    Several outputs: every selected output (``output=None``: all of them) has its own SSD, in
    ``details["per_output"]`` (variables x output labels); the score, and ``by_time``, are the
    mean over the selected outputs.

    ``ci_level``: ``ci`` is a percentile interval from ``n_bootstrap`` resamples of the rows
    (seeded by ``random_state``) of each row's squared derivative (averaged over the selected
    outputs): the SSD of a resample is the sum of its rows' terms, and no gradient is taken
    again (:func:`~varimp.methods.measure.row_bootstrap`). With ``scale="std"`` the standard
    deviations are recomputed on every resample's rows, so its SSD is exact. Whole-variable
    scores only.

    A one-hot group beside numeric inputs: a whole category switch and a derivative per unit
    (or per standard deviation) measure different changes, so the call warns once
    (``UserWarning``) and ``details["mixed_kinds"]`` lists both kinds.

    ``per_sample``: ``details["per_sample"]`` holds every row's squared derivative (averaged
    over the selected outputs) of every cell, ``(n, T, V)``, whose sum over rows is ``by_time``
    (without a time table, of every variable, ``(n, V)``, whose sum is the score): a per-sample
    attribution from the gradients already taken.

    Parameters
    ----------
    model, X, y
        As for every method; ``y`` is not used for the scores, and the columns of a
        DataFrame ``y`` name the outputs when the model gives them no names (a multi-hot ``y``
        marks several logits as multi-label).
    scale : {"none", "std"}, default "none"
        Raw derivatives, or derivatives per standard deviation of each input.
    output_kind, classes, feature_names, output, output_step, groups, batch_size, by_time,
    ci_level, n_bootstrap, random_state
        The common options, documented in one place: :func:`varimp.importance`.
    per_sample : bool
        Also keep every row's squared derivatives (``details["per_sample"]``).
    progress : bool or None
        A bar over the rows whose derivatives are taken, batch by batch, for every gradient
        taken (:func:`varimp.progress.progress_bar`; None: once the work has run a few
        seconds).

    Returns
    -------
    Importance
        Non-negative scores (kind ``"magnitude"``), ``ci`` with ``ci_level``; ``details``:
        ``per_output``, ``summary`` (output, variable, mean, std, rms, ssd), ``derivatives``
        (a DataFrame per sample, or a dict of them by output label), ``gradient``, ``scale``,
        ``spread``, ``outputs``, ``explained``, ``category_moves``; ``ci_level`` and
        ``n_bootstrap`` with an interval; ``mixed_kinds`` (``{"category switch": groups,
        "derivative": inputs}``) when both occur.

    References
    ----------
    Dimopoulos, Y., Bourret, P. & Lek, S. (1995). Use of some sensitivity criteria for choosing
    networks with good generalization ability. Neural Processing Letters 2, 1-4.
    Dimopoulos, I., Chronopoulos, J., Chronopoulou-Sereli, A. & Lek, S. (1999). Neural network
    models to study relationships between lead concentration in grasses and permanent urban
    descriptors in Athens city (Greece). Ecological Modelling 120, 157-165.
    Gevrey, M., Dimopoulos, I. & Lek, S. (2003). Review and comparison of methods to study the
    contribution of variables in artificial neural network models. Ecological Modelling 160,
    249-264.
    """
    scale = check_choice(scale, "scale", ("none", "std"))
    per_sample = check_flag(per_sample, "per_sample")
    ci_level, n_bootstrap = check_interval(ci_level, n_bootstrap)
    seed = interval_seed(ci_level, random_state)
    setup = prepare(model, X, y, feature_names=feature_names, groups=groups,
                    replaces_cells=False, output_kind=output_kind, classes=classes)
    data, adapter, names = setup.data, setup.adapter, setup.variables
    blocks = one_hot_blocks(data.X, setup.groups, groups)
    spread = feature_spread(data.X)
    factor = np.ones_like(spread) if scale == "none" else spread.copy()
    for name in blocks:  # a category switch is its own unit: never scaled, never warned about
        factor[setup.groups[name]] = 1.0
    if scale == "none":
        numeric = np.ones(len(spread), dtype=bool)
        numeric[[c for name in blocks for c in setup.groups[name]]] = False
        warn_units(np.where(numeric, spread, 0.0), data.feature_names,
                   "partial derivatives depend")
    n_steps, n_outputs = adapter.predict(data.X[:2], batch_size).shape[1:]  # 2: no squeeze
    output_step = resolve_step(output_step, n_steps)
    names_out = output_names(adapter, data, n_outputs)
    outputs = resolve_output(output, n_outputs, names_out)
    labels = output_labels(outputs, names_out)
    link, explained = explained_outputs(setup, (data.n_samples, n_steps, n_outputs))
    ssd, cells, summaries, derivatives = [], [], [], {}
    squares = np.zeros((data.n_samples, len(names)))  # each row's SSD term, mean over outputs
    row_cells = np.zeros((*data.X.shape[:2], len(names))) if per_sample and data.sequence \
        and by_time else None  # each row's term of every cell, mean over outputs
    mixed = mixed_kinds(list(blocks), names, "category switch", "derivative",
                        _DERIVATIVE_KINDS.replace("{unit}", "unit" if scale == "none"
                                                  else "standard deviation"))
    # scale="std" with an interval: each row's products of its unscaled derivatives, so that
    # a resample's SSD is recomputed exactly with the spread of its own rows
    pairs = _column_pairs(setup.groups, blocks) if ci_level is not None and scale == "std" \
        else []
    products = np.zeros((data.n_samples, len(pairs)))
    calls = _gradient_calls(link, outputs, n_outputs, n_steps if output_step is None else 1)
    with progress_bar(data.n_samples * calls, progress, "derivatives", "row") as bar:
        gradients = _output_gradients(adapter, data.X, outputs, output_step, n_steps, link,
                                      batch_size, bar.update)
        for k, label, grad in zip(outputs, labels, gradients, strict=True):
            along, cell_terms = _variable_terms(grad * factor, setup.groups, blocks,
                                                data.sequence and by_time)
            if pairs:
                raw = grad.sum(axis=1) if data.sequence else grad  # (n, p): along all steps
                first, second = (np.array([pair[k] for pair in pairs]) for k in (1, 2))
                products += raw[:, first] * raw[:, second] / len(outputs)
            ssd.append((along**2).sum(axis=0))
            squares += along**2 / len(outputs)
            if cell_terms is not None:
                cells.append(cell_terms.sum(axis=0))
                if row_cells is not None:
                    row_cells += cell_terms / len(outputs)
            summaries.append(pd.DataFrame({
                "output": k, "variable": names, "mean": along.mean(axis=0),
                "std": along.std(axis=0, ddof=1) if len(along) > 1 else np.zeros(len(names)),
                "rms": np.sqrt((along**2).mean(axis=0)), "ssd": ssd[-1],
            }))
            derivatives[label] = pd.DataFrame(along, columns=names)
    details = {
        "measure": "sum of squared derivatives" + (" per input sd" if scale == "std" else ""),
        "per_output": pd.DataFrame(np.stack(ssd, axis=1), index=names, columns=labels),
        "summary": pd.concat(summaries, ignore_index=True),
        "derivatives": derivatives if len(outputs) > 1 else derivatives[labels[0]],
        "gradient": adapter.gradient_kind,
        "scale": scale,
        "spread": pd.Series(spread, index=list(data.feature_names)),
        "outputs": outputs,
        "explained": explained,
        "category_moves": list(blocks),
    }
    if mixed is not None:
        details["mixed_kinds"] = mixed
    if per_sample:
        details["per_sample"] = squares if row_cells is None else row_cells
    table = time_table(np.mean(cells, axis=0), names) if cells else None
    ci = None
    if ci_level is not None:
        if pairs:
            statistics = _scaled_resamples(squares, products, pairs, data.X, blocks, names,
                                           n_bootstrap, seed)
        else:
            statistics = data.n_samples * row_bootstrap(squares.T, n_bootstrap, seed)[0]
        ci = percentile_interval(statistics, ci_level, names)
        details.update(ci_level=ci_level, n_bootstrap=n_bootstrap)
    return Importance("partial_derivatives", pd.Series(np.mean(ssd, axis=0), index=names),
                      by_time=table, ci=ci, details=details, kind="magnitude")


_DERIVATIVE_KINDS = (
    "partial derivatives score the one-hot group(s) {switched} by a whole category switch (the "
    "change of the output from a row's category to another) while the numeric input(s) "
    "{others} are scored per {unit} of the input: the two kinds of score measure different "
    "changes and do not rank against each other. Compare the groups among themselves and the "
    "numeric inputs among themselves, or use permutation importance, which moves every input "
    "alike (to another row's values)")


def _column_pairs(variables: Mapping[str, list[int]], blocks: Mapping[str, np.ndarray]
                  ) -> list[tuple[int, int, int, float]]:
    """``(variable, column, column, weight)`` for every pair of columns of a numeric
    variable: its scaled derivative squared is ``sum weight * s_c * s_d * g_c * g_d``."""
    pairs = []
    for v, (name, cols) in enumerate(variables.items()):
        if name not in blocks:
            pairs += [(v, c, d, 1.0 if c == d else 2.0)
                      for k, c in enumerate(cols) for d in cols[k:]]
    return pairs


def _scaled_resamples(squares: np.ndarray, products: np.ndarray,
                      pairs: list[tuple[int, int, int, float]], X: np.ndarray,
                      blocks: Mapping[str, np.ndarray], names: list[str], n_bootstrap: int,
                      seed: int) -> np.ndarray:
    """The SSD of every variable on every row resample with ``scale="std"``, exactly: the
    spread ``s*`` of every column is that of the resample's rows
    (:func:`~varimp.methods.measure.row_bootstrap`), so a numeric variable's SSD is
    ``n * sum weight * s*_c * s*_d * mean*(g_c g_d)`` over its pairs (``products``: each row's
    ``g_c g_d``, unscaled, mean over outputs); a one-hot group is not scaled (its rows'
    ``squares``)."""
    n = X.shape[0]
    columns = sorted({c for _, c, d, _ in pairs} | {d for _, c, d, _ in pairs})
    at = {c: k for k, c in enumerate(columns)}
    switched = [v for v, name in enumerate(names) if name in blocks]
    table = np.concatenate([products, squares[:, switched]], axis=1).T
    means, spreads = row_bootstrap(table, n_bootstrap, seed, X[..., columns])
    out = np.zeros((n_bootstrap, len(names)))
    for k, (v, c, d, weight) in enumerate(pairs):
        out[:, v] += weight * spreads[:, at[c]] * spreads[:, at[d]] * means[:, k]
    out[:, switched] = means[:, len(pairs):]
    return n * out


def _gradient_calls(link: str | None, outputs: list[int], n_outputs: int, steps: int) -> int:
    """How many gradients :func:`_output_gradients` takes (for the progress bar)."""
    if link is None:
        return len(outputs)
    return steps * (n_outputs if link == "softmax" else len(outputs))


def _output_gradients(adapter: Adapter, X: np.ndarray, outputs: list[int], step: int | None,
                      n_steps: int, link: str | None, batch_size: int | None,
                      on_rows: Callable[[float], object]) -> Iterator[np.ndarray]:
    """The gradient, with X's shape, of every selected output as explained (``link``, see
    :func:`varimp.scoring.logit_link`): the output itself, or its probability by the chain rule
    from the logits' gradients at every predicted step (summed over the steps, or at ``step``)."""
    if link is None:
        for k in outputs:
            yield adapter.gradient(X, k, step, batch_size, on_rows=on_rows)
        return
    proba = link_probabilities(adapter.predict(X, batch_size), link)  # (n, steps, outputs)
    steps = range(n_steps) if step is None else [step]
    rows = (-1,) + (1,) * (X.ndim - 1)  # a row's probability against every cell of the row

    def p(t: int, k: int) -> np.ndarray:
        return proba[:, t, k].reshape(rows)

    if link == "sigmoid":  # dp_k = p_k (1 - p_k) dz_k
        for k in outputs:
            yield sum(p(t, k) * (1 - p(t, k)) * adapter.gradient(X, k, t, batch_size,
                                                                   on_rows=on_rows)
                      for t in steps)
        return
    total = {k: np.zeros(X.shape) for k in outputs}
    for t in steps:  # dp_k = p_k (dz_k - sum_j p_j dz_j)
        mean, own = np.zeros(X.shape), {}
        for j in range(proba.shape[2]):
            grad = adapter.gradient(X, j, t, batch_size, on_rows=on_rows)
            mean += p(t, j) * grad
            if j in total:
                own[j] = grad
        for k in outputs:
            total[k] += p(t, k) * (own[k] - mean)
    yield from (total[k] for k in outputs)


def _variable_terms(grad: np.ndarray, variables: Mapping[str, list[int]],
                    blocks: Mapping[str, np.ndarray], cells: bool
                    ) -> tuple[np.ndarray, np.ndarray | None]:
    """Every variable's derivative per row, ``(n, V)`` (signed; for a one-hot block the root
    of its mean squared category move, unsigned), and with ``cells`` (sequences) every cell's
    squared term, ``(n, T, V)``: the rule of :func:`partial_derivatives`."""
    sequence = grad.ndim == 3
    grouped = group_columns(grad, variables)  # (n, [T,] V): a numeric group moves as one
    along = grouped.sum(axis=1) if sequence else grouped.copy()
    terms = grouped**2 if cells else None
    position = {name: i for i, name in enumerate(variables)}
    for name, codes in blocks.items():
        members = grad[..., variables[name]]
        g = np.concatenate([np.zeros(members.shape[:-1] + (1,)), members], axis=-1)  # code 0
        targets = block_categories(codes, members.shape[-1])
        moved = codes[..., None] != targets  # (n, [T,] C): the moves a row (cell) can make
        moves = g[..., targets] - np.take_along_axis(g, codes[..., None], axis=-1)
        if sequence:
            if terms is not None:
                terms[..., position[name]] = _mean_square(moves, moved)
            moves, moved = moves.sum(axis=1), moved.any(axis=1)  # category c at every step
        along[:, position[name]] = np.sqrt(_mean_square(moves, moved))
    return along, terms


def _mean_square(moves: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """The mean over the last axis of ``moves**2`` where ``valid`` (0 where none is)."""
    count = valid.sum(axis=-1)
    return np.where(valid, moves**2, 0.0).sum(axis=-1) / np.maximum(count, 1)
