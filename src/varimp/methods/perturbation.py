"""Input perturbation (Scardi & Harding 1999) and permutation importance (Breiman 2001).

Both are thin layers over :class:`varimp.engines.PerturbationEngine`: the same tasks (a
variable at every time step, and every cell ``(t, variable)`` of a sequence for ``by_time``)
with a different perturbation injected, :class:`~varimp.engines.Noise` or
:class:`~varimp.engines.Permute`.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..engines import (
    REPEAT_KEY,
    Noise,
    Permute,
    PerturbationEngine,
    SwitchCategory,
    Task,
    generator,
    seed_from,
)
from ..errors import InputError, describe
from ..result import Importance
from ..scoring import check_scoring
from ..validation import (
    category_names,
    check_choice,
    check_flag,
    check_positive_float,
    check_positive_int,
    feature_spread,
)
from ._common import (
    Setup,
    constant_variables,
    explained_outputs,
    one_hot_blocks,
    prepare,
    time_table,
    warn_constant,
)
from .measure import (
    Measure,
    RowShares,
    check_interval,
    observe_both,
    per_sample_values,
    row_interval,
    sample_shares,
)

DEFAULT_NOISE = (0.1, 0.2, 0.3, 0.4, 0.5)


def variable_tasks(setup: Setup, how: Callable[[list[int]], Callable], by_time: bool
                   ) -> tuple[list[Task], bool]:
    """One task per variable (every step), then one per cell ``(t, variable)`` when
    ``by_time`` applies; the second value says whether the cells were added."""
    groups = list(setup.groups.items())
    tasks = [Task(cols, how(cols), label=name) for name, cols in groups]
    cells = bool(by_time) and setup.data.sequence
    if cells:
        tasks += [Task(cols, how(cols, t), step=t, label=(t, name))
                  for t in range(setup.data.n_timesteps) for name, cols in groups]
    return tasks, cells


def summarize(values: np.ndarray, setup: Setup, cells: bool
              ) -> tuple[np.ndarray, pd.Series | None, pd.DataFrame | None]:
    """Scores, std over repeats (ddof=1; None for one repeat) and the time x variable table
    from ``values`` of shape (n_repeats, tasks) laid out as :func:`variable_tasks`."""
    names = setup.variables
    whole = values[:, :len(names)]
    std = pd.Series(whole.std(axis=0, ddof=1), index=names) if len(values) > 1 else None
    table = None
    if cells:
        steps = setup.data.n_timesteps
        table = time_table(values[:, len(names):].reshape(len(values), steps, len(names))
                           .mean(axis=0), names)
    return whole.mean(axis=0), std, table


def _check_noise(noise: object) -> tuple[float, ...]:
    levels = (noise,) if isinstance(noise, numbers.Real) else noise
    if isinstance(levels, str) or not isinstance(levels, Sequence | np.ndarray) or \
            len(levels) == 0:
        raise InputError(f"noise must be a number > 0 or a non-empty sequence of them; "
                         f"received {describe(noise)}")
    return tuple(check_positive_float(level, "noise level") for level in levels)


def perturbation(
    model: object, X: object, y: object = None, *, noise: object = DEFAULT_NOISE,
    scale: str = "relative", n_repeats: int = 1, scoring: object = "auto",
    output_kind: str | None = None, classes: Any = None,
    feature_names: Any = None, output: Any = None, output_step: int | None = None,
    groups: Any = None, random_state: Any = None, batch_size: int | None = None,
    max_memory: int | None = None, progress: bool | None = None, by_time: bool = True,
    ci_level: float | None = None, n_bootstrap: int = 1000, per_sample: bool = False,
) -> Importance:
    """Input perturbation: Gaussian noise added to one variable at a time.

    For every noise level and every variable, ``N(0, s^2)`` noise is added to the variable's
    feature columns (all of a group's columns, each with its own noise) and the model is
    evaluated again (Scardi & Harding 1999; Gevrey et al. 2003). With ``scale="relative"``
    (default) ``s = level * spread`` of the column, so the default levels ``0.1..0.5`` are 10%
    to 50% of each input's spread; ``scale="absolute"`` uses ``s = level`` (the reference LSTM
    experiment's ``N(0, 0.2)`` is ``noise=0.2, scale="absolute"``). The spread of a column is
    its standard deviation across samples; on sequences it is measured across samples at each
    step, ``sqrt(mean_t var_n X[:, t, j])``, so a trend over time (a level that moves from
    step to step) does not inflate the noise.

    A one-hot group (``groups=`` naming columns that hold only 0 and 1 with at most one 1 per
    row: a one-hot block, possibly with its reference column dropped) is not given noise,
    which would make invalid inputs: every row (every cell of a sequence) is moved to another
    of the block's observed categories, drawn at random among them (:class:`~varimp.engines.
    SwitchCategory`). The noise level does not apply to such a move, so each level counts as
    one more repeat of it. Other groups get independent noise in each of their columns.

    What is measured: with ``y``, the increase of the error over the unperturbed predictions
    (``scoring``: a scikit-learn scorer name or object or a :class:`varimp.scoring.Scorer`,
    default ``"auto"``: log loss for a classifier, mean squared error for regression values;
    a score such as R2 or accuracy counts by its drop). Whether the outputs are regression
    values, probabilities or logits is decided once from the model (``output_kind=``
    overrides it), never from the values of ``y``; class labels are mapped through
    ``classes=`` or the model's ``classes_`` (:mod:`varimp.scoring`). Without ``y``, the root
    mean square change of the predictions over samples and predicted steps; logits (declared
    or read from the model), which a softmax does not identify, are measured as probabilities,
    as the same network with a softmax (or sigmoid) layer would be: the softmax of several
    logits, the sigmoid of one (``details["explained"]`` says which); ``scoring`` then stays
    ``"auto"``, as a score needs ``y`` (any other scoring without ``y`` is an InputError).
    ``scoring=None`` asks for that measure without ``y`` even where ``y`` is given (as
    :func:`varimp.randomization_test` and :func:`varimp.ensemble` read it): ``y`` is then
    not used, and ``details["y_ignored"]`` says so.
    Several selected outputs: each output's own RMS change (without ``y``) or increase of its
    own error (with ``y`` of regression values or multi-label) is in ``details["per_output"]``,
    and the score is their mean (with ``y``: the error of the outputs together, the mean of
    their own for scikit-learn's regression metrics). The score of a variable is the mean
    over repeats and over the noise levels (the levels weigh equally); ``details["levels"]``
    holds the mean of every level and ``std`` the standard deviation over repeats (ddof=1)
    of the level-averaged score.

    Sequences ``(n, T, p)``: ``scores`` perturb a variable at every step at once; with
    ``by_time`` every cell ``(t, variable)`` is also perturbed alone and ``by_time`` holds the
    time x variable table (averaged over levels and repeats). The noise of a cell is that of
    its whole variable. Cells of a recurrent network whose structure the adapter can read are
    evaluated from step ``t`` on only (the unperturbed prefix is cached).

    ``ci_level``: ``ci`` is a percentile interval from ``n_bootstrap`` resamples of the rows of
    what was already computed, with no further model call (see :class:`~varimp.methods.
    measure.RowShares`): with ``y``, each row's increase of a per-row error (MSE, MAE, log
    loss, Brier score, accuracy: :data:`varimp.scoring.ROW_MEAN_SCORERS`), averaged over
    levels and repeats; without ``y``, each row's squared change, the RMS of the resampled
    rows recovered from their mean (exact for one level and one repeat, first order
    otherwise). The noise's size, a fraction of the spread of the rows, is resampled with
    them: a resample's score is multiplied by ``(spread* / spread)^2`` (first order; exact
    for a linear model). Whole-variable scores only, not ``by_time``.

    A variable that holds one value in every sample (at every step, for sequences) has a
    spread of 0: with ``scale="relative"`` it gets no noise and scores exactly 0, without a
    model call, and the call warns (``UserWarning``) that perturbation cannot measure it
    (``scale="absolute"`` gives it noise of a fixed size); so does a one-hot group with one
    observed category, which has no other category to switch to.

    A one-hot group beside numeric inputs: a category switch and noise of a fraction of the
    spread measure different changes, so the call warns once (``UserWarning``) and
    ``details["mixed_kinds"]`` lists both kinds; the scores are computed as above.

    ``per_sample``: ``details["per_sample"]`` holds each row's share of every cell of
    ``by_time`` (``(n, T, V)``; of every score, ``(n, V)``, without a time table), the same
    per-row values the interval resamples, averaged over levels and repeats: a per-sample
    attribution whose mean over rows is ``by_time``. No further model call.

    Parameters
    ----------
    model, X, y
        As for every method; ``y`` optional.
    noise : float or sequence of float
        Noise levels, each > 0.
    scale : {"relative", "absolute"}
    n_repeats : int, default 1
        Independent noise draws per level and variable (and cell); the score is their mean
        and ``std`` their standard deviation (ddof=1) when there are several.
    scoring, output_kind, classes, feature_names, output, output_step, groups, random_state,
    batch_size, max_memory, progress, by_time, ci_level, n_bootstrap
        The common options, documented in one place: :func:`varimp.importance`.
    per_sample : bool
        Also keep every row's share (``details["per_sample"]``).

    Returns
    -------
    Importance
        ``ci`` with ``ci_level``. ``details``: ``levels`` (level x variable DataFrame),
        ``measure``, ``baseline`` (the unperturbed error, None without ``y``), ``noise``,
        ``scale``, ``spread`` (the spread of every feature, as above), ``perturbed_as``
        ({variable: ``"noise"`` or ``"category switch"``}), ``categories`` ({one-hot group: its
        observed categories, the member names and ``"reference"`` for a row of zeros}),
        ``n_repeats``, ``outputs``, ``explained`` (without ``y``); ``per_output`` (variable x
        output) with several outputs selected (without ``y``, or with regression or
        multi-label ``y``); ``ci_level`` and ``n_bootstrap`` with an interval;
        ``mixed_kinds`` (``{"category switch": groups, "noise": inputs}``) when both occur.

    References
    ----------
    Scardi, M. & Harding, L. W. (1999). Developing an empirical model of phytoplankton primary
    production: a neural network case study. Ecological Modelling 120, 213-223.
    Gevrey, M., Dimopoulos, I. & Lek, S. (2003). Review and comparison of methods to study the
    contribution of variables in artificial neural network models. Ecological Modelling 160,
    249-264.
    """
    levels = _check_noise(noise)
    scale = check_choice(scale, "scale", ("relative", "absolute"))
    n_repeats = check_positive_int(n_repeats, "n_repeats")
    by_time = check_flag(by_time, "by_time")
    per_sample = check_flag(per_sample, "per_sample")
    ci_level, n_bootstrap = check_interval(ci_level, n_bootstrap)
    ignored_y = scoring is None and y is not None
    if scoring is None:  # measured without y, as randomization_test and ensemble read it
        scoring, y = "auto", None
    check_scoring(scoring)
    if y is None and not (isinstance(scoring, str) and scoring == "auto"):
        raise InputError(f"scoring {describe(scoring)} was given without y: a score compares "
                         "the predictions with targets, so it needs y. Pass y to measure the "
                         "increase of that error, or leave scoring out to measure the root "
                         "mean square change of the predictions")
    setup = prepare(model, X, y, feature_names=feature_names, groups=groups,
                    output_kind=output_kind, classes=classes)
    data = setup.data
    seed = seed_from(random_state)
    setup.adapter.seed_draws(seed)
    engine = PerturbationEngine(setup.adapter, data.X, batch_size=batch_size,
                                max_memory=max_memory, progress=progress)
    measure = Measure.build(setup, engine.base, scoring, output, output_step)
    constant = engine.constant_features
    spread = np.where(constant, 0.0, feature_spread(data.X))  # 0, not rounding: no noise
    categories = one_hot_groups(setup, groups)
    still = [name for name in constant_variables(setup, constant)  # unchanged when perturbed
             if len(categories.get(tuple(setup.groups[name]), (0, 1))) < 2 or
             (scale == "relative" and tuple(setup.groups[name]) not in categories)]
    switches = any(tuple(setup.groups[name]) in categories for name in still)
    warn_constant(still, "perturbation", "a one-hot group has no other category to switch to"
                  if switches and scale == "absolute" else "noise of a fraction of its spread "
                  "is 0; scale='absolute' gives a numeric input noise of a fixed size" +
                  ("; a one-hot group has no other category to switch to" if switches else ""),
                  data.sequence)
    tasks: list[Task] = []
    cells = False
    for level in levels:
        def how(cols: list[int], t: int | None = None, level: float = level
                ) -> Noise | SwitchCategory:
            if tuple(cols) in categories:
                return SwitchCategory(categories[tuple(cols)])
            return Noise(level * spread[cols] if scale == "relative" else level)

        level_tasks, cells = variable_tasks(setup, how, by_time)
        tasks += level_tasks
    names = setup.variables
    switched = [name for name, cols in setup.groups.items() if tuple(cols) in categories]
    mixed = mixed_kinds(switched, names, "category switch", "noise", _PERTURBATION_KINDS)
    shares = None
    if ci_level is not None:  # the noise's size comes from the rows' spread: resampled too
        scaled = [[] if name in switched or scale == "absolute" else list(cols)
                  for name, cols in setup.groups.items()]
        shares = RowShares.of_tasks(measure, tasks, names, noise=(data.X, scaled))
    samples = sample_shares(measure, tasks, setup, cells) if per_sample else None
    values, each = measure.split(engine.run(tasks, measure.engine_statistic,
                                            n_repeats=n_repeats, seed=seed,
                                            observe=observe_both(shares, samples)))
    per_output = None
    if each is not None:  # (repeats, tasks, outputs): each output's own change or increase
        per_output = measure.per_output_table(
            each.mean(axis=0).reshape(len(levels), -1, len(measure.outputs))[:, :len(names)]
            .mean(axis=0), names)
    per_level = values.reshape(n_repeats, len(levels), -1)
    scores, std, table = summarize(per_level.mean(axis=1), setup, cells)
    details = {
        "levels": pd.DataFrame(per_level.mean(axis=0)[:, :len(names)],
                               index=pd.Index(levels, name="noise"), columns=names),
        "measure": measure.name, "baseline": measure.value(), "noise": list(levels),
        "scale": scale, "spread": pd.Series(spread, index=list(data.feature_names)),
        "perturbed_as": {name: "category switch" if tuple(cols) in categories else "noise"
                         for name, cols in setup.groups.items()},
        "categories": {name: category_names(categories[tuple(cols)],
                                            [data.feature_names[c] for c in cols])
                       for name, cols in setup.groups.items() if tuple(cols) in categories},
        "n_repeats": n_repeats, "outputs": measure.outputs,
    }
    if per_output is not None:
        details["per_output"] = per_output
    if mixed is not None:
        details["mixed_kinds"] = mixed
    if data.y is None:
        details["explained"] = explained_outputs(setup, engine.base.shape)[1]
    if ignored_y:
        details["y_ignored"] = Y_IGNORED
    if samples is not None:
        details["per_sample"] = per_sample_values(samples, setup, cells)
    return Importance("perturbation", pd.Series(scores, index=names), by_time=table, std=std,
                      ci=row_interval(shares, ci_level, n_bootstrap, seed, names, details),
                      details=details, kind=measure.kind)


#: ``details["y_ignored"]`` of a call with ``scoring=None`` and ``y``.
Y_IGNORED = ("scoring=None measures without y: the RMS change of the predictions, as without "
             "y; the y given was not used")

_PERTURBATION_KINDS = (
    "perturbation moves the one-hot group(s) {switched} to another observed category while the "
    "numeric input(s) {others} get Gaussian noise of a fraction of their spread (the noise "
    "levels): the two kinds of score measure different changes and do not rank against each "
    "other. Compare the groups among themselves and the numeric inputs among themselves, or "
    "use permutation importance, which moves every input alike (to another row's values)")


def mixed_kinds(switched: Sequence[str], names: Sequence[str], moved: str, other: str,
                message: str) -> dict[str, list[str]] | None:
    """One-hot groups scored by a category switch beside numeric inputs scored another way:
    one ``UserWarning`` per call (``message`` formatted with the names) and the two lists,
    ``{moved: groups, other: numeric inputs}``, for ``details["mixed_kinds"]``; None when
    only one kind is present."""
    others = [name for name in names if name not in switched]
    if not switched or not others:
        return None
    warnings.warn(message.format(switched=", ".join(map(repr, switched)),
                                 others=", ".join(map(repr, others))),
                  UserWarning, stacklevel=4)
    return {moved: list(switched), other: others}


def one_hot_groups(setup: Setup, groups: Any) -> dict[tuple[int, ...], tuple[int, ...]]:
    """The observed category codes of every declared group that is a one-hot block."""
    return {tuple(setup.groups[name]): tuple(np.unique(codes).tolist())
            for name, codes in one_hot_blocks(setup.data.X, setup.groups, groups).items()}


def _sample_rows(max_samples: object, n: int, n_repeats: int, seed: int
                 ) -> list[np.ndarray | None]:
    if max_samples is None:
        return [None] * n_repeats
    if isinstance(max_samples, numbers.Integral) and not isinstance(max_samples, bool):
        size = int(max_samples)
        if not 1 <= size <= n:
            raise InputError(f"max_samples must be an integer in 1..{n} (the number of samples) "
                             f"or a fraction in (0, 1]; received {max_samples}")
    elif isinstance(max_samples, numbers.Real) and 0 < max_samples <= 1:
        size = max(1, int(max_samples * n))
    else:
        raise InputError(f"max_samples must be None, an integer in 1..{n} or a fraction in "
                         f"(0, 1]; received {describe(max_samples)}")
    return [np.sort(generator(seed, REPEAT_KEY, r).choice(n, size, replace=False))
            for r in range(n_repeats)]


def permutation(
    model: object, X: object, y: object, *, scoring: object = "auto", n_repeats: int = 5,
    output_kind: str | None = None, classes: Any = None,
    max_samples: int | float | None = None, feature_names: Any = None, output: Any = None,
    output_step: int | None = None, groups: Any = None, random_state: Any = None,
    batch_size: int | None = None, max_memory: int | None = None, progress: bool | None = None,
    by_time: bool = True, ci_level: float | None = None, n_bootstrap: int = 1000,
    per_sample: bool = False,
) -> Importance:
    """Permutation importance: the increase of the error when a variable is shuffled.

    For every repeat and variable, the variable's values are permuted across samples (a
    group's columns move together, breaking its link with ``y`` and with the other inputs but
    keeping its distribution) and the error of the model's predictions is measured again
    (Breiman 2001; Fisher, Rudin & Dominici 2019, model reliance). The score is the mean over
    ``n_repeats`` of ``error(permuted) - error(original)``; ``std`` is their standard
    deviation (ddof=1). Each repeat draws one permutation of the rows and applies it to every
    variable, group and cell (as scikit-learn's ``permutation_importance`` does), from a
    generator seeded by ``random_state`` and the repeat only.

    What is measured: the error of the predictions against ``y`` by ``scoring`` (a
    scikit-learn scorer name or object, as in ``permutation_importance``, or a
    :class:`varimp.scoring.Scorer` with its direction; default ``"auto"``: log loss for a
    classifier, mean squared error for regression values), turned into a loss so that an R2,
    accuracy or ROC AUC importance is its drop (``details["measure"]``). Whether the outputs
    are regression values, probabilities or logits is decided once from the model
    (``output_kind=`` overrides it), never from the values of ``y``; class labels are mapped
    through ``classes=`` or the model's ``classes_`` (:mod:`varimp.scoring`). Several selected
    outputs of regression values (or multi-label outputs): each output's own increase is in
    ``details["per_output"]``, from the same permutations.

    ``max_samples`` (as in scikit-learn): each repeat uses a random subset of that many rows
    (a fraction of ``n`` when a float), drawn without replacement, for both errors.

    A variable that holds one value in every sample (at every step, for sequences) is left
    as it is by a permutation, so its score is exactly 0, computed without a model call, and
    the call warns (``UserWarning``) that permutation cannot measure it; the weight and
    derivative methods measure the model's sensitivity to such an input. Likewise a cell
    ``(t, variable)`` that holds one value in every sample at step ``t`` scores exactly 0.

    Sequences ``(n, T, p)``: ``scores`` permute a variable's whole sequence across samples
    (all steps move together); with ``by_time`` every cell ``(t, variable)`` is permuted alone
    and ``by_time`` holds the time x variable table (mean over repeats). Cells of a recurrent
    network whose structure the adapter can read are evaluated from step ``t`` on only.

    ``ci_level``: ``ci`` is a percentile interval from ``n_bootstrap`` resamples of the rows,
    with no further model call: the score is the mean over rows of each row's
    ``loss_row(permuted) - loss_row(original)`` (averaged over repeats), for an error that is a
    mean over rows (MSE, MAE, log loss, Brier score, accuracy...:
    :data:`varimp.scoring.ROW_MEAN_SCORERS`; another scoring is refused), and those per-row
    shares are resampled (:class:`~varimp.methods.measure.RowShares`). With ``max_samples``, a
    row's share counts only the repeats that drew it, weighted so that the mean over all rows
    is the score. Every row is also a donor (another row receives its values), so the rows
    resampled carry both roles: a row's own increase plus that of the row that received its
    values (the linear part of the estimator, :class:`~varimp.methods.measure.RowShares`).
    Unlike ``std`` (the spread over repeats of the permutation alone), the interval covers
    the sampling of the rows. Whole-variable scores only, not ``by_time``.

    ``per_sample``: ``details["per_sample"]`` holds each row's ``loss_row(permuted) -
    loss_row(original)`` for every cell of ``by_time`` (``(n, T, V)``; for every variable,
    ``(n, V)``, without a time table), averaged over repeats as for the interval: a per-sample
    attribution whose mean over rows is ``by_time``. No further model call.

    Parameters
    ----------
    model, X, y
        As for every method; ``y`` required.
    n_repeats : int, default 5
        Permutations of the rows, each applied to every variable, group and cell; the score
        is the mean of their increases and ``std`` their standard deviation (ddof=1).
    max_samples : int, float or None, default None
        Rows each repeat uses, drawn without replacement and sorted: an integer in ``1..n``,
        or a fraction in ``(0, 1]`` of ``n`` (at least one row); None uses every row.
    scoring, output_kind, classes, feature_names, output, output_step, groups, random_state,
    batch_size, max_memory, progress, by_time, ci_level, n_bootstrap
        The common options, documented in one place: :func:`varimp.importance`.
    per_sample : bool
        Also keep every row's share (``details["per_sample"]``).

    Returns
    -------
    Importance
        ``ci`` with ``ci_level``. ``details``: ``importances`` (repeat x variable DataFrame of
        increases), ``measure``, ``baseline`` (the unperturbed score, in its own direction),
        ``n_repeats``, ``max_samples``, ``outputs``; ``per_output`` (variable x output) with
        several regression or multi-label outputs; ``ci_level`` and ``n_bootstrap`` with an
        interval.

    References
    ----------
    Breiman, L. (2001). Random forests. Machine Learning 45, 5-32.
    Fisher, A., Rudin, C. & Dominici, F. (2019). All models are wrong, but many are useful:
    learning a variable's importance by studying an entire class of prediction models
    simultaneously. Journal of Machine Learning Research 20(177), 1-81.
    """
    n_repeats = check_positive_int(n_repeats, "n_repeats")
    by_time = check_flag(by_time, "by_time")
    per_sample = check_flag(per_sample, "per_sample")
    ci_level, n_bootstrap = check_interval(ci_level, n_bootstrap)
    check_scoring(scoring)
    setup = prepare(model, X, y, feature_names=feature_names, groups=groups, y_required=True,
                    output_kind=output_kind, classes=classes)
    data = setup.data
    seed = seed_from(random_state)
    setup.adapter.seed_draws(seed)
    rows = _sample_rows(max_samples, data.n_samples, n_repeats, seed)
    engine = PerturbationEngine(setup.adapter, data.X, batch_size=batch_size,
                                max_memory=max_memory, progress=progress)
    measure = Measure.build(setup, engine.base, scoring, output, output_step)
    tasks, cells = variable_tasks(setup, lambda cols, t=None: Permute(), by_time)
    names = setup.variables
    warn_constant(constant_variables(setup, engine.constant_features), "permutation",
                  "moving its values between samples changes nothing", data.sequence)
    shares = None
    if ci_level is not None:  # every row is a receiver and a donor: both roles resampled
        def donors(repeat: int, n_rows: int) -> np.ndarray:
            return engine.shared_draw(Permute(), seed, repeat, n_rows)

        shares = RowShares.of_tasks(measure, tasks, names, donors=donors)
    samples = sample_shares(measure, tasks, setup, cells) if per_sample else None
    values, each = measure.split(engine.run(tasks, measure.engine_statistic,
                                            n_repeats=n_repeats, seed=seed, rows=rows,
                                            observe=observe_both(shares, samples)), rows)
    scores, std, table = summarize(values, setup, cells)
    details = {
        "importances": pd.DataFrame(values[:, :len(names)], columns=names,
                                    index=pd.RangeIndex(n_repeats, name="repeat")),
        "measure": measure.name, "baseline": measure.value(), "n_repeats": n_repeats,
        "max_samples": max_samples, "outputs": measure.outputs,
    }
    if each is not None:
        details["per_output"] = measure.per_output_table(
            each.mean(axis=0)[:len(names)], names)
    if samples is not None:
        details["per_sample"] = per_sample_values(samples, setup, cells)
    return Importance("permutation", pd.Series(scores, index=names), by_time=table, std=std,
                      ci=row_interval(shares, ci_level, n_bootstrap, seed, names, details),
                      details=details, kind="loss")
