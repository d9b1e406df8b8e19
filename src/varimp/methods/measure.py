"""What a perturbed copy of X is reduced to: an error against ``y``, or the change of the
predictions without it; and each row's share of it, resampled for an interval (``ci_level``)
without another model call. Shared by every method built on the perturbation engine."""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..engines import Task
from ..engines.tasks import BOOTSTRAP_KEY, generator, seed_from
from ..errors import InputError, UnsupportedModelError, describe
from ..scoring import (
    ROW_MEAN_SCORERS,
    Evaluation,
    check_probabilities,
    link_probabilities,
    multilabel_outputs,
    read_targets,
)
from ..validation import check_positive_int, check_random_state, feature_spread
from ._common import (
    Setup,
    explained_outputs,
    output_labels,
    output_names,
    resolve_output,
    resolve_step,
)

#: Resample counts held at once by :func:`row_bootstrap` (8 bytes each: 32 MiB), in blocks of
#: at most :data:`BOOTSTRAP_ROWS` resamples. The blocks decide how the matrix product rounds, so
#: they stay as they are: the same seed gives the same interval, to the last bit.
BOOTSTRAP_CELLS, BOOTSTRAP_ROWS = 2**22, 64

#: Above this many rows, :func:`row_bootstrap` deals the rows at random into this many groups
#: and resamples the groups (the random group method): the draws then cost ``n_bootstrap x
#: BOOTSTRAP_GROUPS`` whatever the number of rows.
BOOTSTRAP_GROUPS = 1000


class Measure:
    """What each perturbed copy is reduced to, on the selected outputs and predicted steps.

    With targets: the error (a loss, see :mod:`varimp.scoring`) of the perturbed predictions;
    :meth:`baseline` is the error of the unperturbed ones, and an importance is the increase
    (the result's kind is ``"loss"``). Without targets: the root mean square change of the
    predictions over samples and predicted steps, for every selected output, averaged over the
    selected outputs (the rule every method follows for several outputs); the baseline is 0.

    Several outputs (:attr:`per_output`): each selected output is also measured on its own,
    from the same perturbed predictions (:meth:`statistics`), for ``details["per_output"]``:
    its RMS change, or its own error when the targets are regression values or multi-label
    (the classes of one classifier are scored together and have no error of their own). The
    score is then their mean: the mean of the RMS changes; the error of the selected outputs
    together, which for scikit-learn's regression metrics (``multioutput="uniform_average"``)
    and for multi-label outputs is the mean of their own errors.

    The output kind, the targets and the scorer are decided once, by :meth:`build`; a method
    that moves its reference (improved stepwise 2) keeps them with :meth:`rebase`.
    """

    def __init__(self, base: np.ndarray, evaluation: Evaluation | None, outputs: list[int],
                 step: int | None, each: list[Evaluation] | None = None,
                 names: list[str] | None = None, link: str | None = None):
        self.base, self.evaluation = base, evaluation
        self.outputs, self.step = outputs, step
        #: without targets, how the outputs become what is explained (logits: probabilities,
        #: :func:`varimp.scoring.logit_link`); None: the outputs as they are
        self.link = link
        #: one evaluation per selected output (several outputs with targets that have one)
        self.each = each or []
        #: the labels of the selected outputs (names, else "output k")
        self.output_labels = names or output_labels(outputs, None)

    @classmethod
    def build(cls, setup: Setup, base: np.ndarray, scoring: object, output: object,
              output_step: object) -> Measure:
        """The measure for the unperturbed predictions ``base`` ``(n, steps, outputs)``.

        Without targets, logits are explained as probabilities (:attr:`link`), since a
        softmax does not identify them.

        Outputs that no loss scores (:meth:`varimp.adapters.base.Adapter.loss_refusal`:
        Keras heads of mixed kinds) are an UnsupportedModelError when ``y`` is given.

        A kind read from the model (no ``output_kind=``) is checked against the targets
        (:func:`varimp.scoring.read_targets`): one-hot labels for outputs read as values are
        refused, targets of two distinct values (0/1, 1/2) for one value output give a
        ``UserWarning``."""
        adapter, data = setup.adapter, setup.data
        names = output_names(adapter, data, base.shape[2])
        outputs = resolve_output(output, base.shape[2], names)
        step = resolve_step(output_step, base.shape[1])
        evaluation, each, link = None, None, None
        if data.y is None:
            link = explained_outputs(setup, base.shape)[0]
        else:
            if (refusal := adapter.loss_refusal()) is not None:
                raise UnsupportedModelError(refusal)
            kind = adapter.output_kind
            inferred = not adapter.output_kind_given
            targets = read_targets(data.y, base.shape, kind, adapter.classes,
                                   inferred=inferred,
                                   multilabel=multilabel_outputs(adapter, base))
            if kind == "probability":
                check_probabilities(base, multilabel=targets.multilabel)
            evaluation = Evaluation(scoring, targets, outputs, step, base.shape[2])
            if len(outputs) > 1 and (not targets.classifier or targets.multilabel):
                each = [Evaluation(scoring, targets, [k], step, base.shape[2])
                        for k in outputs]
        return cls(base, evaluation, outputs, step, each, output_labels(outputs, names), link)

    def rebase(self, base: np.ndarray) -> Measure:
        """The same measure against other unperturbed predictions."""
        return Measure(base, self.evaluation, self.outputs, self.step, self.each,
                       self.output_labels, self.link)

    @property
    def kind(self) -> str:
        return "magnitude" if self.evaluation is None else "loss"

    @property
    def name(self) -> str:
        if self.evaluation is None:
            return "rms change of " + ("predictions" if self.link is None else "probabilities")
        return self.evaluation.measure

    @property
    def greater_is_better(self) -> bool:
        return self.evaluation is not None and self.evaluation.greater_is_better

    def _select(self, pred: np.ndarray) -> np.ndarray:
        if self.step is not None:
            pred = pred[:, [self.step]]
        return link_probabilities(pred, self.link)[..., self.outputs]

    def statistic(self, pred: np.ndarray, reference: np.ndarray, rows: np.ndarray | None
                  ) -> float:
        if self.evaluation is None:
            return float(self.changes(pred, reference, rows).mean())
        return self.evaluation.loss(pred, rows)

    @property
    def per_output(self) -> bool:
        """Several outputs selected, each also measured on its own (:meth:`statistics`):
        always without targets; with targets that give each output an error of its own."""
        return len(self.outputs) > 1 and (self.evaluation is None or bool(self.each))

    def statistics(self, pred: np.ndarray, reference: np.ndarray, rows: np.ndarray | None
                   ) -> np.ndarray:
        """``(1 + outputs,)``: :meth:`statistic`, then that of every selected output alone."""
        if self.evaluation is None:
            each = self.changes(pred, reference, rows)
            return np.concatenate([[each.mean()], each])
        return np.array([self.evaluation.loss(pred, rows)] +
                        [e.loss(pred, rows) for e in self.each])

    @property
    def engine_statistic(self) -> Callable:
        """What the engine reduces every copy to: :meth:`statistics` with several outputs
        measured on their own, else :meth:`statistic`; :meth:`split` separates its values."""
        return self.statistics if self.per_output else self.statistic

    def split(self, values: np.ndarray, rows: Sequence[np.ndarray | None] | None = None
              ) -> tuple[np.ndarray, np.ndarray | None]:
        """Engine values ``(repeats, tasks[, 1 + outputs])`` as increases over the baseline:
        ``(repeats, tasks)`` of the score and ``(repeats, tasks, outputs)`` of every selected
        output (None unless :attr:`per_output`). ``rows``: the rows of each repeat."""
        rows = [None] * values.shape[0] if rows is None else list(rows)
        base = np.array([self.baseline(r) for r in rows])[:, None]
        if not self.per_output:
            return values - base, None
        each = np.array([self.baselines(r) for r in rows])[:, None, :]
        return values[..., 0] - base, values[..., 1:] - each

    def baselines(self, rows: np.ndarray | None = None) -> np.ndarray:
        """The loss of the unperturbed predictions of every selected output alone."""
        if not self.each:
            return np.zeros(len(self.outputs))
        pred = self.base if rows is None else self.base[rows]
        return np.array([e.loss(pred, rows) for e in self.each])

    def per_output_table(self, values: np.ndarray, index: Sequence[str]) -> pd.DataFrame:
        """``details["per_output"]``: variables x selected outputs."""
        return pd.DataFrame(values, index=list(index), columns=self.output_labels)

    def changes(self, pred: np.ndarray, reference: np.ndarray, rows: np.ndarray | None
                ) -> np.ndarray:
        """The RMS change of every selected output (a statistic with one value per output)."""
        change = self._select(pred) - self._select(reference)
        return np.sqrt(np.mean(change**2, axis=(0, 1)))

    def row_changes(self, pred: np.ndarray, reference: np.ndarray) -> np.ndarray:
        """Every row's squared change of every selected output, averaged over the selected
        predicted steps: ``(m, outputs)``; :meth:`changes` is the square root of its mean."""
        change = self._select(pred) - self._select(reference)
        return np.mean(change**2, axis=1)

    def baseline(self, rows: np.ndarray | None = None) -> float:
        """The loss of the unperturbed predictions (0 without targets)."""
        if self.evaluation is None:
            return 0.0
        return self.evaluation.loss(self.base if rows is None else self.base[rows], rows)

    def value(self, rows: np.ndarray | None = None) -> float | None:
        """The unperturbed error or score in its own direction (an MSE, an R2, an accuracy)."""
        if self.evaluation is None:
            return None
        return self.natural(self.baseline(rows))

    def natural(self, loss: float) -> float:
        """A loss as the measure in its own direction: an R2 or accuracy is ``-loss``, an
        error such as the MSE is the loss itself."""
        return -loss if self.greater_is_better else loss


# -- intervals from a bootstrap over rows ---------------------------------------------------------
def check_interval(ci_level: object, n_bootstrap: object) -> tuple[float | None, int]:
    """``ci_level`` (None: no interval, or a number in (0, 1)) and ``n_bootstrap`` (an integer
    >= 2), checked at the door."""
    if ci_level is not None and (isinstance(ci_level, bool) or
                                 not isinstance(ci_level, numbers.Real) or
                                 not 0.0 < float(ci_level) < 1.0):
        raise InputError(f"ci_level must be None (no interval) or a number strictly between 0 "
                         f"and 1, e.g. 0.95; received {describe(ci_level)}")
    n_bootstrap = check_positive_int(n_bootstrap, "n_bootstrap", minimum=2)
    return (None if ci_level is None else float(ci_level)), n_bootstrap


def interval_seed(ci_level: float | None, random_state: object) -> int | None:
    """The bootstrap's seed for a method that draws nothing else: ``random_state`` is checked,
    and drawn from (a Generator advances) only when an interval is asked for."""
    check_random_state(random_state)
    return None if ci_level is None else seed_from(random_state)


def row_bootstrap(shares: np.ndarray, n_bootstrap: int, seed: int,
                  spread_of: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Means of every variable's per-row shares over ``n_bootstrap`` resamples of the rows,
    and the spread of some columns of X in every resample.

    ``shares`` is ``(n_variables, n_rows)``; every variable uses the same resamples, drawn
    from one generator ``rng = generator(seed, BOOTSTRAP_KEY)``:

    - up to :data:`BOOTSTRAP_GROUPS` rows, resample ``b = 0, 1, ...`` draws ``n_rows`` rows
      with replacement, ``rng.integers(0, n_rows, n_rows, dtype=np.uint32)``;
    - above, the rows are first dealt at random into ``G = BOOTSTRAP_GROUPS`` groups of equal
      size (to one row), ``np.array_split(rng.permutation(n_rows), G)``, and resample ``b``
      draws ``G`` groups with replacement, ``rng.integers(0, G, G, dtype=np.uint32)``; its
      mean is that of the rows of the groups drawn. The groups' means are independent and
      alike, with the rows' mean as their mean and the rows' variance (and third moment) as
      that of the mean of ``n_rows`` rows, so the resampled means keep the spread and skew of
      the row bootstrap; what the grouping adds is the error of a variance estimated from
      ``G`` values (about ``sqrt(2 / G)``: 4.5% of the variance, 2% of an interval's width,
      less than the percentile's Monte Carlo error at 1,000 resamples), for ``n_bootstrap x
      G`` draws instead of ``n_bootstrap x n_rows`` (1,000 resamples of 20,000 rows and 20
      variables, one core: 8 ms instead of about 70 ms). Rows in any order: dealt at random,
      a sorted table gives every group rows from everywhere.

    Returns the means ``(n_bootstrap, n_variables)`` and, with ``spread_of`` (``(n_rows, C)``
    or ``(n_rows, T, C)``: the columns of X a score was scaled by), the
    :func:`varimp.validation.feature_spread` of those columns recomputed on every resample,
    ``(n_bootstrap, C)`` (else None): ``sqrt(mean_t (mean*(c^2) - mean*(c)^2))`` with ``c``
    the columns centred on their full-sample mean and ``mean*`` the resample's mean. Every
    resampled quantity is a mean over rows, so the work is the draws, their counts and one
    product of the counts with the groups' sums (shares, centred columns, the rows' mean
    squares), whatever the model (no model call); the memory a few resamples at a time
    (:data:`BOOTSTRAP_CELLS`), plus the groups' sums.
    """
    n, n_variables = shares.shape[1], shares.shape[0]
    rng = generator(seed, BOOTSTRAP_KEY)
    order = None
    sizes = np.ones(n)
    if n > BOOTSTRAP_GROUPS:  # the random group method: G groups of consecutive rows of order
        order = rng.permutation(n)
        sizes = np.full(BOOTSTRAP_GROUPS, n // BOOTSTRAP_GROUPS, dtype=float)
        sizes[:n % BOOTSTRAP_GROUPS] += 1  # np.array_split's sizes
    columns = None if spread_of is None else spread_of.reshape(n, -1, spread_of.shape[-1])
    sums = _group_sums(shares, columns, order, sizes)  # (units, V [+ T*C + C])
    units, width = sums.shape
    means = np.empty((n_bootstrap, n_variables))
    spreads = None if columns is None else np.empty((n_bootstrap, columns.shape[2]))
    counts = np.empty((max(1, min(BOOTSTRAP_ROWS, BOOTSTRAP_CELLS // max(units, width))),
                       units))
    for start in range(0, n_bootstrap, len(counts)):
        block = counts[:min(len(counts), n_bootstrap - start)]
        block.fill(0.0)
        drawn = rng.integers(0, units, (len(block), units), dtype=np.uint32)
        drawn += (units * np.arange(len(block), dtype=np.uint32))[:, None]  # flat positions
        np.add.at(block.reshape(-1), drawn.reshape(-1), 1.0)  # how often each was drawn
        out = block @ sums
        out /= n if order is None else (block @ sizes)[:, None]  # the rows drawn: means
        at = slice(start, start + len(block))
        means[at] = out[:, :n_variables]
        if spreads is not None:
            steps, n_columns = columns.shape[1:]
            level = out[:, n_variables:n_variables + steps * n_columns].reshape(
                len(block), steps, n_columns)
            variance = out[:, n_variables + steps * n_columns:] - (level**2).mean(axis=1)
            spreads[at] = np.sqrt(np.maximum(variance, 0.0))
    return means, spreads


def _group_sums(shares: np.ndarray, columns: np.ndarray | None, order: np.ndarray | None,
                sizes: np.ndarray) -> np.ndarray:
    """The sums over every group of rows (the groups of ``sizes`` consecutive rows of
    ``order``, or every row alone without ``order``) of the shares ``(V, n)`` and, with
    ``columns`` ``(n, T, C)``, of the columns centred on their mean over all rows and of each
    row's mean square over the steps: ``(units, V [+ T * C + C])``, built a few groups at a
    time (1/64 of :data:`BOOTSTRAP_CELLS` values), so nothing of the size of
    ``columns`` is copied."""
    bounds = np.concatenate([[0], np.cumsum(sizes)]).astype(np.intp)
    mean = None if columns is None else columns.mean(axis=0)
    width = shares.shape[0] + (0 if columns is None else
                               columns.shape[1] * columns.shape[2] + columns.shape[2])
    sums = np.empty((len(sizes), width))
    rows_at_once = max(1, BOOTSTRAP_CELLS // 64 // width)  # pieces of 512 KiB
    first = 0
    while first < len(sizes):
        last = max(first + 1, int(np.searchsorted(bounds, bounds[first] + rows_at_once,
                                                  side="right")) - 1)
        last = min(last, len(sizes))
        span = slice(bounds[first], bounds[last])
        rows = span if order is None else order[span]
        parts = [shares[:, rows].T]
        if columns is not None:
            centred = columns[rows] - mean
            parts += [centred.reshape(len(centred), -1), (centred**2).mean(axis=1)]
        table = np.concatenate(parts, axis=1) if len(parts) > 1 else parts[0]
        sums[first:last] = np.add.reduceat(table, bounds[first:last] - bounds[first], axis=0)
        first = last
    return sums


def percentile_interval(statistics: np.ndarray, ci_level: float, index: Sequence[str]
                        ) -> pd.DataFrame:
    """The percentile interval (Efron & Tibshirani 1993, ch. 13): the ``(1 - ci_level) / 2``
    and ``(1 + ci_level) / 2`` percentiles of every column of ``statistics`` (linear
    interpolation, :func:`numpy.percentile`), as a DataFrame with columns ``low`` and
    ``high``."""
    low, high = np.percentile(statistics, [50.0 * (1.0 - ci_level), 50.0 * (1.0 + ci_level)],
                              axis=0)
    return pd.DataFrame({"low": low, "high": high}, index=list(index))


class RowShares:
    """Every variable's score split into the rows of X, collected from the engine's copies.

    Pass it as ``observe`` to :meth:`varimp.engines.PerturbationEngine.run`; only the
    variable-level tasks (``variable_of``: task index -> variable index) are kept, summed over
    repeats and noise levels, so memory is ``n_rows x n_variables`` floats whatever the number
    of copies or cells. :meth:`shares` are scaled so that their mean over rows is the score
    (twice the score with ``donors``, below):

    - with ``y`` and an error that is a mean over rows (:attr:`Evaluation.per_row`): the row's
      ``loss_row(perturbed) - loss_row(original)``, averaged over the copies that used the row
      and weighted by how often they did (with ``max_samples`` a row left out of a repeat adds
      nothing to it), so the mean over all rows is the score;
    - without ``y`` (an RMS change, not a mean): the row's squared change (mean over predicted
      steps) divided by its copy's RMS change, averaged over copies and outputs; their mean is
      the score (the mean of the copies' RMS changes), and :meth:`statistic` turns resampled
      means back into the score as ``sqrt(score x resampled mean)``. For one copy per variable
      (one noise level, one repeat, one output) this is exactly the RMS change of the resampled
      rows; for several, its first-order (delta method) expansion.

    What else was estimated from the same rows is resampled with them:

    - ``donors`` (permutation: ``donors(repeat, m)`` the order the repeat drew for copies of
      ``m`` rows, receiver ``i`` taking the cells of row ``order[i]``): one repeat's score is
      ``T = (1/n) sum_i h(z_i, z_pi(i))``, ``h(a, b)`` the increase of row ``a``'s error when
      it receives row ``b``'s values; every row is a receiver once and a donor once. As for a
      U-statistic with a kernel of two rows, the linear part (Hajek projection) of ``T`` is
      ``theta + (1/n) sum_m psi_m``, ``psi_m = g1(z_m) + g2(z_m) - 2 theta``, with
      ``g1(a) = E h(a, Z)`` (the row as receiver) and ``g2(b) = E h(Z, b)`` (as donor). Row
      ``m``'s share is therefore ``u_m = receiver_m + donor_m``: its own increase plus that of
      the row that received its values (means over repeats), ``mean(u) = 2T``, and a resample
      gives ``T* = mean*(u) - T``: ``T* - T`` resamples the influence values ``u_m - 2T``.
      Resampling the receiver part alone would miss ``g2`` and its covariance with ``g1``
      (for the squared error of a linear model they are equal: half the variance). ``u_m``
      also holds the part of ``h`` particular to its pairs (once per role), which a new
      permutation would change: the interval errs, if at all, on the wide side for few
      repeats.
    - ``noise`` (perturbation with noise proportional to the spread: ``(X, columns)``, the
      columns of every variable whose noise is ``level x feature_spread``; empty for a one-hot
      group, and for ``scale="absolute"``): the spread is recomputed on every resample
      (:func:`row_bootstrap`) and the resample's mean share is multiplied by
      ``(spread* / spread)^2`` (the mean of that ratio over a group's columns). For small
      noise the increase of the error is quadratic in the noise's size, exactly so for the
      squared error of a linear model (in expectation over the noise), as is the squared RMS
      change without ``y``; the factor is this first-order effect of the spread estimated
      from the rows, not a new draw of the noise.
    """

    @classmethod
    def of_tasks(cls, measure: Measure, tasks: Sequence, variables: Sequence[str],
                 donors: Callable[[int, int], np.ndarray] | None = None,
                 noise: tuple[np.ndarray, Sequence[Sequence[int]]] | None = None
                 ) -> RowShares:
        """Shares of the tasks that perturb a variable at every step (labelled by its name,
        as :func:`varimp.methods.perturbation.variable_tasks` makes them); cells are left out."""
        position = {name: i for i, name in enumerate(variables)}
        return cls(measure, len(variables), {j: position[task.label] for j, task in
                                             enumerate(tasks) if task.step is None},
                   donors=donors, noise=noise)

    def __init__(self, measure: Measure, n_variables: int, variable_of: dict[int, int],
                 donors: Callable[[int, int], np.ndarray] | None = None,
                 noise: tuple[np.ndarray, Sequence[Sequence[int]]] | None = None):
        self.measure, self.variable_of = measure, variable_of
        self.donors, self.noise = donors, noise
        self._inverse: dict[tuple[int, int], np.ndarray] = {}
        n = measure.base.shape[0]
        self.sums = np.zeros((n_variables, n))
        self.counts = np.zeros(n_variables)
        self.base_rows = None
        if measure.evaluation is not None:
            measure.baseline()  # the metric's closed form is checked on the first loss
            if not measure.evaluation.per_row:
                raise InputError(
                    "ci_level needs an error that is a mean over rows, so that rows can be "
                    f"resampled: scoring one of {list(ROW_MEAN_SCORERS)} (with their "
                    "default options); received scoring "
                    f"{measure.evaluation.scoring_name!r}. Pass ci_level=None, or use "
                    "varimp.ensemble for an interval of any measure")
            self.base_rows = measure.evaluation.row_losses(measure.base)

    def __call__(self, repeat: int, task: int, pred: np.ndarray, reference: np.ndarray,
                 rows: np.ndarray | None) -> None:
        variable = self.variable_of.get(task)
        if variable is None:
            return
        if self.base_rows is not None:
            share = self.measure.evaluation.row_losses(pred, rows)
            share -= self.base_rows if rows is None else self.base_rows[rows]
        else:
            change = self.measure.row_changes(pred, reference)  # (m, outputs)
            rms = np.sqrt(change.mean(axis=0))
            share = (change / np.where(rms > 0, rms, 1.0)).mean(axis=1)
        self.counts[variable] += len(share)
        if self.donors is not None:  # the row that donated its cells: once per copy
            share += share[self._receivers(repeat, len(share))]  # (a copy, then added)
        if rows is None:
            self.sums[variable] += share
        else:
            self.sums[variable, rows] += share

    def _receivers(self, repeat: int, m: int) -> np.ndarray:
        """The inverse of the donors' order: the copy's row that received row ``k``'s
        cells (``order[receivers[k]] == k``), kept for every repeat (4 bytes a row)."""
        key = (repeat, m)
        if key not in self._inverse:
            order = self.donors(repeat, m)
            inverse = np.empty(m, dtype=np.int32 if m < 2**31 else np.int64)
            inverse[order] = np.arange(m, dtype=inverse.dtype)
            self._inverse[key] = inverse
        return self._inverse[key]

    def shares(self) -> np.ndarray:
        """``(n_variables, n_rows)``: each row's share; the mean over rows is the score (twice
        the score with ``donors``)."""
        n = self.sums.shape[1]
        return self.sums * (n / np.where(self.counts > 0, self.counts, 1.0))[:, None]

    def statistic(self, means: np.ndarray, shares: np.ndarray,
                  spreads: np.ndarray | None = None) -> np.ndarray:
        """The score of resampled rows from the mean of their shares ``(n_bootstrap, V)``
        (and the spread of the noise columns in each resample, with ``noise``)."""
        if spreads is not None:
            means = means * self._spread_ratios(spreads)
        if self.base_rows is not None:
            return means - shares.mean(axis=1) / 2 if self.donors is not None else means
        return np.sqrt(shares.mean(axis=1) * means)

    def _noise_columns(self) -> list[int]:
        return sorted({c for cols in self.noise[1] for c in cols}) if self.noise else []

    def _spread_ratios(self, spreads: np.ndarray) -> np.ndarray:
        """``(n_bootstrap, V)``: the mean over every variable's noise columns of
        ``(spread* / spread)^2`` (1 for a variable without, or whose columns do not vary)."""
        X, per_variable = self.noise
        columns = self._noise_columns()
        spread = feature_spread(X[..., columns])
        ratio = np.where(spread > 0, spreads / np.where(spread > 0, spread, 1.0), 1.0) ** 2
        at = {c: k for k, c in enumerate(columns)}
        out = np.ones((len(spreads), len(per_variable)))
        for v, cols in enumerate(per_variable):
            if len(cols):
                out[:, v] = ratio[:, [at[c] for c in cols]].mean(axis=1)
        return out

    def interval(self, ci_level: float, n_bootstrap: int, seed: int, index: Sequence[str]
                 ) -> pd.DataFrame:
        """The percentile interval of every variable's score over row resamples."""
        shares = self.shares()
        columns = self._noise_columns()
        spread_of = self.noise[0][..., columns] if columns else None
        means, spreads = row_bootstrap(shares, n_bootstrap, seed, spread_of)
        return percentile_interval(self.statistic(means, shares, spreads), ci_level, index)


def row_interval(shares: RowShares | None, ci_level: float | None, n_bootstrap: int,
                 seed: int, index: Sequence[str], details: dict) -> pd.DataFrame | None:
    """``shares.interval(...)``, with ``ci_level`` and ``n_bootstrap`` noted in ``details``;
    None without shares (no ``ci_level``)."""
    if shares is None:
        return None
    details.update(ci_level=ci_level, n_bootstrap=n_bootstrap)
    return shares.interval(ci_level, n_bootstrap, seed, index)


def sample_shares(measure: Measure, tasks: Sequence[Task], setup: Setup, cells: bool
                  ) -> RowShares:
    """Every row's share of every cell's score (``cells``; index ``t * V + v``) or of every
    variable's score, for ``per_sample``: the values the engine's copies already hold."""
    measure.baseline()  # the metric's closed form is checked on the first loss
    if measure.evaluation is not None and not measure.evaluation.per_row:
        raise InputError(f"per_sample needs an error that is a mean over rows, scoring one of "
                         f"{list(ROW_MEAN_SCORERS)}; received scoring "
                         f"{measure.evaluation.scoring_name!r}")
    names = setup.variables
    if not cells:
        return RowShares.of_tasks(measure, tasks, names)
    position = {name: i for i, name in enumerate(names)}
    return RowShares(measure, setup.data.n_timesteps * len(names),
                     {j: task.step * len(names) + position[task.label[1]]
                      for j, task in enumerate(tasks) if task.step is not None})


def per_sample_values(shares: RowShares | None, setup: Setup, cells: bool
                      ) -> np.ndarray | None:
    """``(n, T, V)`` (cells) or ``(n, V)``: each row's share; its mean over rows is
    ``by_time`` (or the scores) for an error that is a mean over rows."""
    if shares is None:
        return None
    values = shares.shares().T
    shape = (setup.data.n_timesteps, len(setup.variables)) if cells else values.shape[1:]
    return values.reshape(values.shape[0], *shape)


def observe_both(first: Callable | None, second: Callable | None) -> Callable | None:
    """One engine observer that calls both (either may be None)."""
    if first is None or second is None:
        return first or second

    def observe(*args: Any) -> None:
        first(*args)
        second(*args)

    return observe
