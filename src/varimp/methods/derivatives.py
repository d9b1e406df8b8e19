"""Partial derivatives, "PaD" (Dimopoulos et al. 1995, 1999), for MLPs and recurrent networks."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from ..progress import progress_bar
from ..result import Importance
from ..validation import check_choice, check_flag, feature_spread
from ._common import (
    group_columns,
    output_labels,
    output_names,
    prepare,
    resolve_output,
    resolve_step,
    time_table,
)
from .measure import check_interval, interval_seed, percentile_interval, row_bootstrap

#: Inputs whose standard deviations differ by more than this factor get a warning with
#: ``scale="none"``: their raw derivatives are in incomparable units.
SPREAD_RATIO_WARNING = 10.0


def partial_derivatives(
    model: object, X: object, y: object = None, *, scale: str = "none",
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

    Units: a raw derivative is in units of the output per unit of the input, so an input
    measured in large units (an elevation in metres beside standardised inputs) gets a tiny
    derivative whatever its effect. ``scale="none"`` (default) keeps Dimopoulos' raw
    derivatives and warns when the inputs' standard deviations differ by more than a factor of
    10; ``scale="std"`` multiplies every derivative by its input's standard deviation, so the
    score measures the change of the output per standard deviation of the input (for a linear
    model ``f = X w`` the scaled derivative of input ``j`` is ``w_j * std_j``). The standard
    deviation is that of :func:`varimp.validation.feature_spread` (on sequences, across samples
    at each step). ``details["scale"]`` says which was used and ``details["spread"]`` holds
    the standard deviations.

    Sequences ``(n, T, p)``: the derivative is taken for every cell. A variable's score uses the
    derivative along a shift of the variable at all steps together (the sum of its cell
    derivatives), matching what perturbation does; ``by_time`` holds the SSD of every cell.
    A group (``groups=``) moves all its features together in the same way: its derivative is
    the sum of its members' (scaled) derivatives. Predictions per time step are summed over the
    steps, or taken at ``output_step``.

    Several outputs: every selected output (``output=None``: all of them) has its own SSD, in
    ``details["per_output"]`` (variables x output labels); the score, and ``by_time``, are the
    mean over the selected outputs.

    ``ci_level``: ``ci`` is a percentile interval from ``n_bootstrap`` resamples of the rows
    (seeded by ``random_state``) of each row's squared derivative (averaged over the selected
    outputs): the SSD of a resample is the sum of its rows' terms, and no gradient is taken
    again (:func:`~varimp.methods.measure.row_bootstrap`). Whole-variable scores only.

    ``per_sample``: ``details["per_sample"]`` holds every row's squared derivative (averaged
    over the selected outputs) of every cell, ``(n, T, V)``, whose sum over rows is ``by_time``
    (without a time table, of every variable, ``(n, V)``, whose sum is the score): a per-sample
    attribution from the gradients already taken.

    Parameters
    ----------
    model, X, y
        As for every method; ``y`` is not used for the scores, and the columns of a
        DataFrame ``y`` name the outputs when the model gives them no names.
    scale : {"none", "std"}, default "none"
        Raw derivatives, or derivatives per standard deviation of each input.
    feature_names, output, output_step, groups, batch_size, by_time, ci_level, n_bootstrap,
    random_state
        The common options, documented in one place: :func:`varimp.importance`.
    per_sample : bool
        Also keep every row's squared derivatives (``details["per_sample"]``).
    progress : bool or None
        A bar over the rows whose derivatives are taken, batch by batch, for every selected
        output (:func:`varimp.progress.progress_bar`; None: once the work has run a few
        seconds).

    Returns
    -------
    Importance
        Non-negative scores (kind ``"magnitude"``), ``ci`` with ``ci_level``; ``details``:
        ``per_output``, ``summary`` (output, variable, mean, std, rms, ssd), ``derivatives``
        (a DataFrame per sample, or a dict of them by output label), ``gradient``, ``scale``,
        ``spread``, ``outputs``; ``ci_level`` and ``n_bootstrap`` with an interval.

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
                    replaces_cells=False)
    data, adapter, names = setup.data, setup.adapter, setup.variables
    spread = feature_spread(data.X)
    if scale == "none":
        _warn_units(spread, data.feature_names)
    n_steps, n_outputs = adapter.predict(data.X[:1], batch_size).shape[1:]
    output_step = resolve_step(output_step, n_steps)
    names_out = output_names(adapter, data, n_outputs)
    outputs = resolve_output(output, n_outputs, names_out)
    labels = output_labels(outputs, names_out)
    ssd, cells, summaries, derivatives = [], [], [], {}
    squares = np.zeros((data.n_samples, len(names)))  # each row's SSD term, mean over outputs
    row_cells = np.zeros((*data.X.shape[:2], len(names))) if per_sample and data.sequence \
        and by_time else None  # each row's term of every cell, mean over outputs
    bar = progress_bar(data.n_samples * len(outputs), progress, "derivatives", "row")
    for k, label in zip(outputs, labels, strict=True):
        grad = adapter.gradient(data.X, k, output_step, batch_size, on_rows=bar.update)
        if scale == "std":
            grad = grad * spread
        grad = group_columns(grad, setup.groups)
        along = grad.sum(axis=1) if data.sequence else grad  # (n, variables)
        ssd.append((along**2).sum(axis=0))
        squares += along**2 / len(outputs)
        if data.sequence and by_time:
            cells.append((grad**2).sum(axis=0))
            if row_cells is not None:
                row_cells += grad**2 / len(outputs)
        summaries.append(pd.DataFrame({
            "output": k, "variable": names, "mean": along.mean(axis=0),
            "std": along.std(axis=0, ddof=1) if len(along) > 1 else np.zeros(len(names)),
            "rms": np.sqrt((along**2).mean(axis=0)), "ssd": ssd[-1],
        }))
        derivatives[label] = pd.DataFrame(along, columns=names)
    bar.close()
    details = {
        "measure": "sum of squared derivatives" + (" per input sd" if scale == "std" else ""),
        "per_output": pd.DataFrame(np.stack(ssd, axis=1), index=names, columns=labels),
        "summary": pd.concat(summaries, ignore_index=True),
        "derivatives": derivatives if len(outputs) > 1 else derivatives[labels[0]],
        "gradient": adapter.gradient_kind,
        "scale": scale,
        "spread": pd.Series(spread, index=list(data.feature_names)),
        "outputs": outputs,
    }
    if per_sample:
        details["per_sample"] = squares if row_cells is None else row_cells
    table = time_table(np.mean(cells, axis=0), names) if cells else None
    ci = None
    if ci_level is not None:
        means = row_bootstrap(squares.T, n_bootstrap, seed)
        ci = percentile_interval(data.n_samples * means, ci_level, names)
        details.update(ci_level=ci_level, n_bootstrap=n_bootstrap)
    return Importance("partial_derivatives", pd.Series(np.mean(ssd, axis=0), index=names),
                      by_time=table, ci=ci, details=details, kind="magnitude")


def _warn_units(spread: np.ndarray, feature_names: tuple[str, ...]) -> None:
    """Warn when raw derivatives compare inputs whose spreads differ by more than 10 times."""
    varying = spread > 0
    if varying.sum() < 2:
        return
    low, high = np.argmin(np.where(varying, spread, np.inf)), np.argmax(spread)
    if spread[high] > SPREAD_RATIO_WARNING * spread[low]:
        warnings.warn(
            f"partial derivatives depend on the units of the inputs, and their standard "
            f"deviations differ by a factor of {spread[high] / spread[low]:.3g} "
            f"({feature_names[high]!r}: {spread[high]:.3g}, {feature_names[low]!r}: "
            f"{spread[low]:.3g}); pass scale='std' to score each input per standard deviation",
            UserWarning, stacklevel=4)
