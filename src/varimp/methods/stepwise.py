"""Improved stepwise selection 1 and 2 (Gevrey et al. 2003): inputs "removed" by holding them at
their mean instead of retraining the network.

Both are thin layers over :class:`varimp.engines.PerturbationEngine` with
:class:`~varimp.engines.Hold` injected as the perturbation. The mean of a feature is taken over
the samples; on sequences, at each time step (so a held sequence keeps the average temporal
profile of the feature and loses only what distinguishes one sample from another). A one-hot
group (``groups=`` naming a block of 0/1 columns with at most one 1 per row) is held at a valid
value instead, its most frequent observed category (at each time step on sequences; ties go to
the reference, then to the first member), since its column means are no category at all. A
single feature is held at its mean, also when it holds only 0 and 1.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..engines import Hold, PerturbationEngine, Task
from ..progress import check_progress, progress_bar
from ..result import Importance
from ..scoring import check_scoring
from ..validation import category_names, check_flag, one_hot_codes
from ._common import Setup, prepare
from .measure import (
    Measure,
    RowShares,
    check_interval,
    interval_seed,
    observe_both,
    per_sample_values,
    row_interval,
    sample_shares,
)
from .perturbation import one_hot_groups, summarize, variable_tasks

_REFERENCES = """
    References
    ----------
    Gevrey, M., Dimopoulos, I. & Lek, S. (2003). Review and comparison of methods to study the
    contribution of variables in artificial neural network models. Ecological Modelling 160,
    249-264.
"""


_SCORING = """
    What is measured: the error of the predictions against ``y`` by ``scoring`` (default
    ``"auto"``: log loss for a classifier, mean squared error for regression values), turned
    into a loss so that a score is the increase of an error or the drop of a score (R2,
    accuracy); ``details["measure"]`` says which. Whether the outputs are regression values,
    probabilities or logits is decided once from the model (``output_kind=`` overrides it),
    never from the values of ``y``; ``scoring`` is a scikit-learn scorer name or object or a
    :class:`varimp.scoring.Scorer` with its direction; class labels are mapped through
    ``classes=`` or the model's ``classes_``. These common options are documented in one place,
    :func:`varimp.importance` (see also :mod:`varimp.scoring`).
"""


def _hold(held: np.ndarray):
    def how(cols: list[int], t: int | None = None) -> Hold:
        return Hold(held[..., cols] if t is None else held[t, cols])

    return how


def _start(model: object, X: object, y: object, feature_names: Any, groups: Any,
           scoring: object, output_kind: str | None, classes: Any
           ) -> tuple[Setup, np.ndarray, dict[str, str]]:
    check_scoring(scoring)
    setup = prepare(model, X, y, feature_names=feature_names, groups=groups, y_required=True,
                    output_kind=output_kind, classes=classes)
    held, held_at = _held_values(setup, groups)
    return setup, held, held_at


def _held_values(setup: Setup, groups: Any) -> tuple[np.ndarray, dict[str, str]]:
    """The value every feature is held at, ``(p,)`` or ``(T, p)``: its mean over samples (at
    each step); a one-hot group's block: its most frequent observed category (at each step).
    With ``{variable: "mean" or "most frequent category ..."}``."""
    X = setup.data.X
    held = X.mean(axis=0)
    held_at = dict.fromkeys(setup.groups, "mean")
    blocks = one_hot_groups(setup, groups)
    for name, cols in setup.groups.items():
        if tuple(cols) not in blocks:
            continue
        codes = one_hot_codes(X[..., cols]).reshape(X.shape[0], -1)  # (n, 1) or (n, T)
        mode = np.array([np.bincount(step, minlength=len(cols) + 1).argmax()
                         for step in codes.T])
        row = (mode[:, None] == np.arange(1, len(cols) + 1)).astype(held.dtype)
        held[..., cols] = row[0] if X.ndim == 2 else row
        members = [setup.data.feature_names[c] for c in cols]
        held_at[name] = "most frequent category at each step" if X.ndim == 3 else \
            f"most frequent category ({category_names(mode, members)[0]})"
    return held, held_at


def improved_stepwise_1(
    model: object, X: object, y: object, *, scoring: object = "auto",
    output_kind: str | None = None, classes: Any = None, feature_names: Any = None,
    output: Any = None, output_step: int | None = None, groups: Any = None,
    batch_size: int | None = None, max_memory: int | None = None, progress: bool | None = None,
    by_time: bool = True, ci_level: float | None = None, n_bootstrap: int = 1000,
    random_state: Any = None, per_sample: bool = False,
) -> Importance:
    """Improved stepwise selection 1 (Gevrey et al. 2003, "improved stepwise a").

    The trained network is kept; each variable in turn is held at its mean (every other input
    at its observed values) and the error is measured. The score of a variable is the increase
    of the error over the full model: ``error(variable at its mean) - error(full model)``. One
    pass, every variable scored against the same full model. Sequences: a variable is held at
    every step (at each step's mean); with ``by_time`` each cell ``(t, variable)`` is also held
    alone at its mean and ``by_time`` holds the increase. A one-hot group is held at its most
    frequent observed category instead of its column means (module docstring).

    Several outputs of regression values (or multi-label outputs): ``details["per_output"]``
    holds each selected output's own increase, from the same predictions; the score is the
    error of the selected outputs together (for scikit-learn's regression metrics, the mean of
    their own errors).

    ``ci_level``: ``ci`` is a percentile interval from ``n_bootstrap`` resamples of the rows of
    each row's ``loss_row(held) - loss_row(full model)`` (an error that is a mean over rows:
    MSE, MAE, log loss, accuracy), with no further model call; ``random_state`` seeds the
    resamples (:class:`~varimp.methods.measure.RowShares`). Whole-variable scores only.

    ``per_sample``: ``details["per_sample"]`` holds each row's ``loss_row(held) -
    loss_row(full model)`` for every cell of ``by_time`` (``(n, T, V)``; for every variable,
    ``(n, V)``, without a time table): a per-sample attribution (an ablation of the cell to its
    mean) whose mean over rows is ``by_time``. No further model call.

    Parameters
    ----------
    model, X, y
        As for every method; ``y`` required.
    scoring, output_kind, classes, feature_names, output, output_step, groups, batch_size,
    max_memory, progress, by_time, ci_level, n_bootstrap, random_state
        The common options, documented in one place: :func:`varimp.importance`.
    per_sample : bool
        Also keep every row's share (``details["per_sample"]``).

    Returns
    -------
    Importance
        ``ci`` with ``ci_level``. ``details``: ``errors`` (the error with each variable held),
        ``baseline`` (the full model's score), ``measure``, ``means`` (the values held: the
        means, a one-hot group's most frequent category), ``held_at`` ({variable: ``"mean"``
        or ``"most frequent category (...)"``}), ``outputs``; ``per_output`` (variable x
        output increases) with several regression or multi-label outputs; ``ci_level`` and
        ``n_bootstrap`` with an interval.
    """
    by_time = check_flag(by_time, "by_time")
    per_sample = check_flag(per_sample, "per_sample")
    ci_level, n_bootstrap = check_interval(ci_level, n_bootstrap)
    seed = interval_seed(ci_level, random_state)
    setup, held, held_at = _start(model, X, y, feature_names, groups, scoring, output_kind,
                                  classes)
    engine = PerturbationEngine(setup.adapter, setup.data.X, batch_size=batch_size,
                                max_memory=max_memory, progress=progress)
    measure = Measure.build(setup, engine.base, scoring, output, output_step)
    tasks, cells = variable_tasks(setup, _hold(held), by_time)
    names = setup.variables
    shares = None if ci_level is None else RowShares.of_tasks(measure, tasks, names)
    samples = sample_shares(measure, tasks, setup, cells) if per_sample else None
    increases, each = measure.split(engine.run(tasks, measure.engine_statistic,
                                               observe=observe_both(shares, samples)))
    scores, _, table = summarize(increases, setup, cells)
    sign = -1.0 if measure.greater_is_better else 1.0
    details = {
        "errors": pd.Series(sign * (increases[0, :len(names)] + measure.baseline()),
                            index=names),
        "baseline": measure.value(), "measure": measure.name, "means": _means(held, setup),
        "held_at": held_at, "outputs": measure.outputs,
    }
    if each is not None:
        details["per_output"] = measure.per_output_table(each[0, :len(names)], names)
    if samples is not None:
        details["per_sample"] = per_sample_values(samples, setup, cells)
    return Importance("improved_stepwise_1", pd.Series(scores, index=names), by_time=table,
                      ci=row_interval(shares, ci_level, n_bootstrap, seed, names, details),
                      details=details, kind="loss")


improved_stepwise_1.__doc__ += _SCORING + _REFERENCES


def improved_stepwise_2(
    model: object, X: object, y: object, *, scoring: object = "auto",
    output_kind: str | None = None, classes: Any = None, feature_names: Any = None,
    output: Any = None, output_step: int | None = None, groups: Any = None,
    batch_size: int | None = None, max_memory: int | None = None, progress: bool | None = None,
) -> Importance:
    """Improved stepwise selection 2 (Gevrey et al. 2003, "improved stepwise b").

    Iterative removal without retraining. Step ``k = 1..V`` starts from the inputs with the
    variables removed so far held at their means; every remaining variable is tried held at
    its mean too, and the one whose removal raises the error least (the least important; ties
    go to the first in order) is removed for good. Its score is the increase at the step it
    leaves: ``error(removed so far + it) - error(removed so far)``. The last variable is scored
    when it leaves the model with every other input held, so the scores add up to
    ``error(all inputs at their means) - error(full model)``. Sequences: variables are held at
    every step (at each step's mean); no ``by_time`` table (the procedure has no per-step
    reading). A one-hot group is held at its most frequent observed category instead of its
    column means (module docstring). Several outputs of regression values (or multi-label
    outputs): ``details["per_output"]`` holds each selected output's own increase at the step
    its variable leaves (the removal order follows the score of the outputs together).

    ``progress``: one bar over the whole call (shown by default once the call has run a few
    seconds), counting passes over the rows (the full model's, then every step's candidates:
    ``1 + V (V + 1) / 2`` in all; a step's reference is the prediction of the candidate that
    left the step before, never computed again) and labelled with the step,
    ``"improved_stepwise_2: step k of V"``.

    Parameters
    ----------
    model, X, y
        As for every method; ``y`` required.
    scoring, output_kind, classes, feature_names, output, output_step, groups, batch_size,
    max_memory, progress
        The common options, documented in one place: :func:`varimp.importance`.

    Returns
    -------
    Importance
        ``details``: ``path`` (DataFrame, one row per step: ``step``, ``removed``,
        ``error_before``, ``error_after``, ``increase``), ``errors`` (step x variable: the error
        with each remaining candidate also held; NaN once removed), ``baseline``, ``measure``,
        ``means`` (the values held), ``held_at``, ``outputs``; ``per_output`` with several
        regression or multi-label outputs. ``ranks`` follow the scores, which need not follow
        the removal order.

    Notes
    -----
    What the source fixes and what varimp reads into it. Gevrey et al. (2003, abstract) describe
    "improved stepwise b" as "the network being trained and fixed step by step, one input
    variable at its mean value to note the consequences on the MSE": the trained network is kept
    (never retrained) and a removed input is held at its mean, as here. The removal order and
    the score are not fixed by those words; varimp takes them from the classical backward
    procedure that the paper's stepwise methods build on, as :func:`varimp.backward_stepwise`
    does: the input whose removal raises the error least leaves first (the inputs that matter
    stay longest), and it scores the increase at its own step, so the scores add up to the loss
    of holding every input at its mean. The other reading, the error reached after each removal,
    is ``details["path"]["error_after"]`` and ranks the inputs by removal order alone. On a
    linear model with centred inputs that are exactly uncorrelated, every score is ``b_j**2 *
    Var(x_j)`` and the inputs leave in increasing order of it (the two readings agree); with
    interacting inputs they can differ. See ``docs/definitions.md``.
    """
    progress = check_progress(progress)
    setup, held, held_at = _start(model, X, y, feature_names, groups, scoring, output_kind,
                                  classes)
    names = setup.variables
    how = _hold(held)
    # one engine on X for the whole call: a candidate holds the variables removed so far and
    # itself, so X is never copied, and the predictions of the one that leaves are the next
    # step's reference (no pass recomputes them)
    engine = PerturbationEngine(setup.adapter, setup.data.X, batch_size=batch_size,
                                max_memory=max_memory, progress=False)
    removed: list[int] = []
    remaining = list(names)
    scores, path, table, per_output = {}, [], [], {}
    n_steps = len(names)
    # one bar over the whole call (its delay counts from the start), one unit per pass over
    # the rows: the unperturbed inputs, then every step's candidates
    with progress_bar(1 + n_steps * (n_steps + 1) // 2, progress, unit="pass") as bar:
        bar.set_description(f"improved_stepwise_2: step 1 of {n_steps}", refresh=False)
        first = Measure.build(setup, engine.base, scoring, output, output_step)
        bar.update(1)
        measure = first
        for step in range(1, n_steps + 1):
            bar.set_description(f"improved_stepwise_2: step {step} of {n_steps}",
                                refresh=False)
            tasks = []
            for v in remaining:
                cols = removed + setup.groups[v]
                tasks.append(Task(cols, how(cols), label=v))
            least = _LeastError(measure, bar)
            increases, each = measure.split(engine.run(tasks, measure.engine_statistic,
                                                       observe=least))
            before = measure.baseline()
            errors = increases[0] + before
            pick = least.task
            leaving = remaining.pop(pick)
            scores[leaving] = increases[0, pick]
            if each is not None:
                per_output[leaving] = each[0, pick]
            sign = -1.0 if measure.greater_is_better else 1.0
            path.append({"step": step, "removed": leaving, "error_before": sign * before,
                         "error_after": sign * errors[pick], "increase": increases[0, pick]})
            table.append(pd.Series(sign * errors, index=[t.label for t in tasks], name=step))
            removed += setup.groups[leaving]
            measure = first.rebase(least.pred)
    details = {
        "path": pd.DataFrame(path),
        "errors": pd.DataFrame(table).reindex(columns=names).rename_axis("step"),
        "baseline": first.value(), "measure": measure.name, "means": _means(held, setup),
        "held_at": held_at, "outputs": measure.outputs,
    }
    if per_output:
        details["per_output"] = measure.per_output_table(
            np.array([per_output[v] for v in names]), names)
    return Importance("improved_stepwise_2", pd.Series(scores).reindex(names), details=details,
                      kind="loss")


improved_stepwise_2.__doc__ += _SCORING + _REFERENCES


class _LeastError:
    """Observer of one step of :func:`improved_stepwise_2`: finds the candidate whose error is
    least (the first of equals, as ``np.argmin``) and keeps its predictions, the reference of
    the next step; counts a pass on the bar for every candidate."""

    def __init__(self, measure: Measure, bar: Any) -> None:
        self.measure, self.bar = measure, bar
        self.error, self.task, self.pred = np.inf, -1, None

    def __call__(self, repeat: int, task: int, pred: np.ndarray, reference: np.ndarray,
                 rows: np.ndarray | None) -> None:
        error = self.measure.statistic(pred, reference, rows)  # a mean over the rows
        if self.task < 0 or (error, task) < (self.error, self.task):
            self.error, self.task, self.pred = error, task, pred
        self.bar.update(1)


def _means(means: np.ndarray, setup: Setup) -> pd.DataFrame | pd.Series:
    features = list(setup.data.feature_names)
    if means.ndim == 1:
        return pd.Series(means, index=features)
    return pd.DataFrame(means, columns=features).rename_axis("time_step")
