"""Forward stepwise addition and backward stepwise elimination: inputs removed and the network
retrained (Gevrey et al. 2003; Olden, Joy & Death 2004).

Both are greedy searches over the variables, built on
:class:`varimp.engines.retrain.RetrainEngine`: every candidate of a step is one retraining, and
the candidates of a step are fitted in parallel (``n_jobs``, ``backend``). Each fitted network
is scored on held-out rows (a validation split, or every fold of ``cv``, averaged) with the same
error measure as every other method (:mod:`varimp.scoring`), the output kind, classes and
selected outputs being those of the given model.

Removing a variable: by default (``removal="mean"``) its columns are held at their training
mean, at every step of a sequence, in the training and held-out data alike; the network keeps
its input width, so any ``fit(X, y)`` works unchanged, and for a first dense layer a constant
input is equivalent to a missing one (its weights fold into the bias). ``removal="drop"``
deletes the columns, for a ``fit`` that builds its network from the data's width. A model with
no input at all (where forward selection starts and backward elimination ends) cannot be given
zero columns: it is always fitted with every column held at its mean.

Common random numbers: every fit of a search is trained with the same seed (one per fold of
``cv``, drawn from ``random_state`` before any fit is dispatched): every candidate of every
step, the first network and the last. Fits then differ by the variables they remove only (for
the same width, the same initial weights and the same order of mini-batches), so that the
errors a step picks from, and the change of error between steps that makes a variable's
score, measure the removals rather than the noise of training (a seed of its own per fit
would add the spread between training runs to every comparison). The seeds do not depend on
the backend or the number of workers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..engines.retrain import (
    REMOVALS,
    Failed,
    FitTask,
    RetrainEngine,
    SeededFit,
    session,
)
from ..engines.tasks import generator, seed_from
from ..refit import resolve_fit
from ..result import Importance
from ..scoring import check_scoring
from ..validation import check_choice
from ._common import Setup, prepare
from .held_out import Fold, HeldOutLoss, class_indices, held_out_folds
from .measure import Measure
from .stepwise import _REFERENCES as GEVREY_2003

_REFERENCES = GEVREY_2003.rstrip("\n") + """
    Olden, J. D., Joy, M. K. & Death, R. G. (2004). An accurate comparison of methods for
    quantifying variable importance in artificial neural networks using simulated data.
    Ecological Modelling 178, 389-397.
"""

_PARAMETERS = """
    Parameters
    ----------
    model
        The fitted model: what its outputs are (output kind, classes) and, without ``fit``, how
        to train networks like it (:func:`varimp.refit.resolve_fit`: a scikit-learn estimator
        is cloned; a PyTorch or Keras network of dense or recurrent layers is rebuilt with fresh
        weights and trained by :func:`varimp.train_mlp` or :func:`varimp.train_recurrent` with
        early stopping). Never changed: every fit trains a new model.
    X, y
        As for every method; ``y`` required.
    fit : callable, optional
        ``fit(X, y) -> model`` trains a new model on the rows and columns given; called as
        ``fit(X, y, random_state=seed)`` with each fit's own seed when it takes
        ``random_state`` (:func:`varimp.train_mlp` and :func:`varimp.train_recurrent` do). The
        model it returns must predict what the given model predicts (same outputs and kind).
        It must train a new model: ``fit=model.fit`` is refused, and a ``fit`` closing over the
        given model (``lambda X, y: model.fit(X, y)``) would train it in place when run in this
        process (varimp stops at the first fit that returns the given model, but cannot undo it).
    removal : {"mean", "drop"}
        How a variable is removed (see the module docstring).
    validation_fraction : float
        Share of the rows (sequences) held out to measure the error, drawn from
        ``random_state``; ignored when ``cv`` is given.
    cv : int, cross-validation splitter or iterable of (train, test), optional
        Train every candidate on each fold's train rows, measure it on the fold's held-out
        rows, and average over the folds (a ``TimeSeriesSplit`` fold trains on its past only;
        a removed column is held at the mean of the fold's train rows): an int is
        scikit-learn's ``check_cv(cv, y, classifier=...)``,
        ``StratifiedKFold(cv)`` for a classifier with one label per row, else ``KFold(cv)``
        (both unshuffled); the folds cost ``cv`` times the fits. A fold that leaves a
        classifier a single class to train on is an :class:`~varimp.InputError`.
    scoring : str, scorer or :class:`varimp.scoring.Scorer`
        Error measure (default: log loss for classifiers, MSE for regression).
    random_state : int, numpy Generator or None
        Seeds the held-out rows and every fit: one seed per fold, shared by every fit of the
        search (common random numbers, see the module docstring), drawn before any work is
        dispatched, so the result does not depend on ``n_jobs`` or ``backend``.
    n_jobs, backend
        Parallel fits: joblib processes (``n_jobs``) or ``backend="dask"``
        (:class:`varimp.engines.retrain.RetrainEngine`).
    feature_names, groups, output, output_step, output_kind, classes, batch_size, progress
        The common options, documented in one place: :func:`varimp.importance`.
"""


#: ``details["seeding"]`` of the stepwise methods.
COMMON_SEEDS = ("common random numbers: one seed per fold, shared by every fit of the search, "
                "every candidate of every step (details['path']['seeds'])")


# -- the search ----------------------------------------------------------------------------------
_Key = tuple  # (fold, removal, removed columns, seed): what decides a fit's result


@dataclass
class _Search:
    """The fits of one stepwise run: how a step's fits are planned (one engine per step and
    fold, and one seed per fold shared by every fit of the search: common random numbers) and
    run, and every result so far by the key that decides it."""

    setup: Setup
    fit: Callable[..., Any]
    evaluate: HeldOutLoss
    folds: list[Fold]
    removal: str
    seed: int
    options: dict[str, Any]
    results: dict[_Key, Any] = field(default_factory=dict)

    def engine(self, fold: int, removal: str) -> RetrainEngine:
        """The engine of a fold's fits; its one seed (:meth:`RetrainEngine.fits` with
        ``common_seed``) depends on the fold only."""
        state = int(generator(self.seed, 1, fold).integers(0, 2**63 - 1))
        train, test = self.folds[fold]
        return RetrainEngine(self.fit, self.setup.data.X, self.setup.data.y, removal=removal,
                             train_rows=train, test_rows=test, random_state=state,
                             model=self.setup.adapter.model, **self.options)

    def plan(self, labels: list[tuple], trials: list[list[str]], optional: bool = False
             ) -> list[list[tuple[_Key, SeededFit]]]:
        """The fits of a step's candidates (``trials``: the variables each removes), for each
        candidate one per fold, with their keys. Every fit of a fold gets the fold's seed, so
        that candidates differ by the variables they remove only, not by their training's
        random draws."""
        removal = _removal_for(trials[0], self.setup.variables, self.removal)
        tasks = [FitTask(label, self.columns(trial)) for label, trial in
                 zip(labels, trials, strict=True)]
        by_fold = [self.engine(k, removal).fits(tasks, optional, common_seed=True)
                   for k in range(len(self.folds))]
        return [[((k, removal, item.task.removed, item.seed), item)
                 for k, item in enumerate(fold_fits)] for fold_fits in zip(*by_fold, strict=True)]

    def run(self, needed: list[tuple[_Key, SeededFit]],
            guess: Callable[[dict[_Key, Any]], list[tuple[_Key, SeededFit]]] | None = None,
            label: str = "fits") -> None:
        """Run the needed fits not run yet, in one dispatch. When their number would leave
        workers idle at its end, ``guess(results so far)`` names fits of the next step (on a
        guess of this step's pick) for those slots, as the first worker is about to idle.
        ``label`` names the progress bar."""
        todo = dict((key, item) for key, item in needed if key not in self.results)
        if not todo:
            return
        chosen: list[tuple[_Key, SeededFit]] = []
        keys = list(todo)

        def ahead(done: dict[int, Any]) -> list[SeededFit]:
            known = {**self.results, **{keys[i]: value for i, value in done.items()}}
            chosen.extend((key, item) for key, item in guess(known)
                          if key not in known and key not in todo)
            return [item for _, item in chosen]

        engine = self.engine(0, self.removal)
        values = engine.execute(list(todo.values()), self.evaluate,
                                ahead if guess is not None else None, label)
        keys += [key for key, _ in chosen][:len(values) - len(keys)]
        self.results.update(zip(keys, values, strict=True))

    def losses(self, candidates: list[list[tuple[_Key, SeededFit]]]
               ) -> tuple[np.ndarray, list[list[int]]]:
        """Mean held-out losses of every candidate over the folds, ``(candidates, 1 + k)``: the
        loss, then each output's (:class:`HeldOutLoss`); and its seeds (per fold)."""
        for key, _ in (pair for fits in candidates for pair in fits):
            if isinstance(self.results[key], Failed):  # a fit run ahead, now needed
                self.results[key].throw()
        by_fold = [[self.results[key] for key, _ in fits] for fits in zip(*candidates, strict=True)]
        return np.mean(np.asarray(by_fold, dtype=float), axis=0), \
            [[item.seed for _, item in fits] for fits in candidates]

    def columns(self, variables: list[str]) -> tuple[int, ...]:
        return tuple(sorted(c for v in variables for c in self.setup.groups[v]))


def _stepwise(direction: str, model: object, X: object, y: object, *, fit: object,
              removal: str, validation_fraction: float, cv: object, scoring: object,
              output_kind: str | None, classes: Any, feature_names: Any, output: Any,
              output_step: int | None, groups: Any, batch_size: int | None,
              random_state: object, n_jobs: int | None, backend: str | None,
              progress: bool | None) -> Importance:
    check_scoring(scoring)
    removal = check_choice(removal, "removal", REMOVALS)
    setup = prepare(model, X, y, feature_names=feature_names, groups=groups, y_required=True,
                    output_kind=output_kind, classes=classes)
    n = setup.data.n_samples
    seed = seed_from(random_state)
    base = setup.adapter.predict(setup.data.X, batch_size)
    measure = Measure.build(setup, base, scoring, output, output_step)
    targets = measure.evaluation.targets  # read once, multi-label decided from the model
    folds = held_out_folds(cv, validation_fraction, setup, seed, class_indices(targets))
    fit_callable, description = resolve_fit(setup.adapter, fit, setup.data.X, setup.data.y)
    evaluate = HeldOutLoss(scoring, setup.adapter.output_kind, setup.adapter.classes,
                           tuple(measure.outputs), measure.step, base.shape[1:], batch_size,
                           targets.multilabel, bool(measure.each))
    search = _Search(setup, fit_callable, evaluate, folds, removal, seed,
                     {"n_jobs": n_jobs, "backend": backend, "progress": progress})
    sign = -1.0 if measure.greater_is_better else 1.0
    with session(n_jobs, backend):  # one set of Dask workers for every step of the search
        path, table, scores, start, changes = _greedy(direction, search, sign)
    details = {
        "path": pd.DataFrame(path), "errors": pd.DataFrame(table).reindex(
            columns=setup.variables).rename_axis("step"),
        "start": start, "measure": measure.name, "outputs": measure.outputs,
        "fit": description, "removal": removal,
        "held_out": {"rows": [test.tolist() for _, test in folds],
                     "train_rows": [train.tolist() for train, _ in folds], "of": int(n),
                     "cv": cv is not None},
        "seeding": COMMON_SEEDS,
    }
    if measure.each:  # several outputs with errors of their own: each one's change
        details["per_output"] = pd.DataFrame(
            [changes[v] for v in setup.variables], index=setup.variables,
            columns=measure.output_labels)
    return Importance(f"{direction}_stepwise", pd.Series(scores).reindex(setup.variables),
                      details=details, kind="loss")


def _greedy(direction: str, search: _Search, sign: float
            ) -> tuple[list[dict], list[pd.Series], dict[str, float], dict[str, Any],
                       dict[str, np.ndarray]]:
    """The greedy path: every step tries each candidate, keeps the lowest held-out loss.

    Returns the path, the error of every candidate by step, each variable's score (the change
    of the loss at the step it entered or left), the start and, by variable, the change of each
    selected output's own loss between the same fits (empty without :class:`HeldOutLoss`'s
    ``per_output``).

    The fits that do not depend on the path, the first network and the last step's (no input
    left, or every input back), run with the first step's candidates. When a step's fits would
    leave workers idle at its end, those slots run fits of the next step on a guess of this
    step's pick, made as the first worker is about to idle: the lowest loss among the step's
    finished candidates. A guessed fit is used only when the guess was right (its task and seed
    are then those the next step plans), so the result is that of running the steps one after
    another, whatever the number of workers.
    """
    names = search.setup.variables
    backward = direction == "backward"
    p = len(names)

    def trial(removed: list[str], v: str) -> list[str]:
        return removed + [v] if backward else [r for r in removed if r != v]

    def plan(step: int, removed: list[str], remaining: list[str], optional: bool = False
             ) -> list[list[tuple[_Key, SeededFit]]]:
        return search.plan([(direction, step, v) for v in remaining],
                           [trial(removed, v) for v in remaining], optional)

    def guess_after(step: int, removed: list[str], remaining: list[str], candidates: list,
                    previous: dict[str, float]
                    ) -> Callable[[dict[_Key, Any]], list[tuple[_Key, SeededFit]]]:
        def guess(known: dict[_Key, Any]) -> list[tuple[_Key, SeededFit]]:
            """The next step's fits if this step picks the candidate with the lowest mean loss
            among those finished (none finished: the lowest at the previous step)."""
            finished = [i for i, fits in enumerate(candidates)
                        if all(isinstance(known.get(key), np.ndarray) for key, _ in fits)]
            if finished:
                pick = min(finished, key=lambda i: np.mean([known[key][0] for key, _ in
                                                            candidates[i]]))
            else:
                pick = min(range(len(remaining)), key=lambda i: previous.get(remaining[i], 0))
            rest = remaining[:pick] + remaining[pick + 1:]
            return [pair for fits in plan(step + 1, trial(removed, remaining[pick]), rest,
                                          optional=True) for pair in fits]

        return guess

    removed = [] if backward else list(names)
    remaining = list(names)
    start_fits = search.plan([(direction, 0, "all inputs" if backward else "no input")],
                             [removed])
    extra = [pair for fits in start_fits for pair in fits]
    if p > 1:  # the last step has one candidate whatever the path: no input, or all inputs
        last = list(names) if backward else []
        extra += search.plan([(direction, p, "the last input")], [last])[0]
    path, table, scores, changes = [], [], {}, {}
    in_all = len(start_fits[0]) * (1 + p * (p + 1) // 2)  # said on the bar: can take hours
    previous: dict[str, float] = {}
    before = each_before = None
    for step in range(1, p + 1):
        # the likeliest picks first (lowest loss at the previous step), so that the fits still
        # running when a worker idles are the least likely picks; results do not depend on it
        order = sorted(range(len(remaining)), key=lambda i: previous.get(remaining[i], 0.0))
        candidates = plan(step, removed, remaining)
        needed = extra + [pair for i in order for pair in candidates[i]]

        # the next step depends on this step's pick, except the last one (run with step 1)
        search.run(needed, guess_after(step, removed, list(remaining), candidates, previous)
                   if step + 1 < p else None,
                   f"{direction}_stepwise: fits, step {step} of {p} ({in_all} in all)")
        if before is None:
            start_losses, start_seeds = search.losses(start_fits)
            before, each_before = float(start_losses[0, 0]), start_losses[0, 1:]
            start = {"error": sign * before, "seeds": start_seeds[0],
                     "inputs": "all" if backward else "none"}
        extra = []
        all_losses, seeds = search.losses(candidates)
        losses, each = all_losses[:, 0], all_losses[:, 1:]
        previous = dict(zip(remaining, losses, strict=True))
        pick = int(np.argmin(losses))  # ties: the first in column order
        variable, after = remaining.pop(pick), float(losses[pick])
        change = after - before if backward else before - after
        scores[variable] = change
        changes[variable] = each[pick] - each_before if backward else each_before - each[pick]
        path.append({"step": step, "variable": variable, "error_before": sign * before,
                     "error_after": sign * after, "change": change, "seeds": seeds[pick]})
        table.append(pd.Series(sign * losses, index=list(previous), name=step))
        removed = trial(removed, variable)
        before, each_before = after, each[pick]
    return path, table, scores, start, changes


def _removal_for(removed: list[str], names: list[str], removal: str) -> str:
    """A fit without any input is always fitted with every column at its mean."""
    return "mean" if len(removed) == len(names) else removal


# -- the two methods -----------------------------------------------------------------------------
def backward_stepwise(
    model: object, X: object, y: object, *, fit: Callable[..., Any] | None = None,
    removal: str = "mean", validation_fraction: float = 0.25, cv: Any = None,
    scoring: object = "auto", output_kind: str | None = None, classes: Any = None,
    feature_names: Any = None, output: Any = None, output_step: int | None = None,
    groups: Any = None, batch_size: int | None = None, random_state: object = None,
    n_jobs: int | None = None, backend: str | None = None, progress: bool | None = None,
) -> Importance:
    """Backward stepwise elimination with retraining (Gevrey et al. 2003, "classical
    stepwise"; Olden, Joy & Death 2004).

    Starts from a network fitted on every input. At step ``k``, each remaining variable is
    tried removed as well, one retraining each (the candidates of a step in parallel), and the
    one whose removal raises the held-out error least leaves for good (ties: the first in
    column order). A variable's score is the increase of the error it caused at the step it
    left, ``error(after) - error(before)``; the last one leaves a network with no input (every
    column at its mean), so the scores add up to ``error(no input) - error(all inputs)``. The
    removal order is the ranking read backwards; ``ranks`` follow the scores, which need not.
    On sequences a variable is a feature at every time step (no ``by_time``). Costs
    ``1 + p (p + 1) / 2`` fits (times the folds of ``cv``).
    """
    return _stepwise("backward", model, X, y, fit=fit, removal=removal,
                     validation_fraction=validation_fraction, cv=cv, scoring=scoring,
                     output_kind=output_kind, classes=classes, feature_names=feature_names,
                     output=output, output_step=output_step, groups=groups,
                     batch_size=batch_size, random_state=random_state, n_jobs=n_jobs,
                     backend=backend, progress=progress)


def forward_stepwise(
    model: object, X: object, y: object, *, fit: Callable[..., Any] | None = None,
    removal: str = "mean", validation_fraction: float = 0.25, cv: Any = None,
    scoring: object = "auto", output_kind: str | None = None, classes: Any = None,
    feature_names: Any = None, output: Any = None, output_step: int | None = None,
    groups: Any = None, batch_size: int | None = None, random_state: object = None,
    n_jobs: int | None = None, backend: str | None = None, progress: bool | None = None,
) -> Importance:
    """Forward stepwise addition with retraining (Gevrey et al. 2003, "classical stepwise";
    Olden, Joy & Death 2004).

    Starts from a network fitted with no input (every column held at its mean: it can learn the
    targets' mean only). At step ``k``, each variable not yet in the model is tried added, one
    retraining each (the candidates of a step in parallel), and the one that lowers the
    held-out error most enters for good (ties: the first in column order). A variable's score
    is the decrease of the error it caused at the step it entered, ``error(before) -
    error(after)``, so the scores add up to ``error(no input) - error(all inputs)``. The entry
    order is the classical ranking; ``ranks`` follow the scores, which need not. On sequences a
    variable is a feature at every time step (no ``by_time``). Costs ``1 + p (p + 1) / 2`` fits
    (times the folds of ``cv``).
    """
    return _stepwise("forward", model, X, y, fit=fit, removal=removal,
                     validation_fraction=validation_fraction, cv=cv, scoring=scoring,
                     output_kind=output_kind, classes=classes, feature_names=feature_names,
                     output=output, output_step=output_step, groups=groups,
                     batch_size=batch_size, random_state=random_state, n_jobs=n_jobs,
                     backend=backend, progress=progress)


_RETURNS = """
    Returns
    -------
    Importance
        ``kind="loss"``; ``by_time`` None. ``details``: ``path`` (DataFrame, one row per step:
        ``step``, ``variable``, ``error_before``, ``error_after``, ``change`` (the score),
        ``seeds`` (of the chosen fit, one per fold)), ``errors`` (step x variable: the held-out
        error of every candidate of the step), ``start`` (the error and seeds of the first
        network, with all inputs or none), ``measure``, ``outputs``, ``fit`` (how networks were
        trained: :func:`varimp.refit.resolve_fit`'s description, hyper-parameters included),
        ``removal``, ``held_out`` (``rows``: the held-out rows of every fold; ``train_rows``:
        the rows each fold's fits trained on), ``seeding`` (:data:`COMMON_SEEDS`: the
        fits of a fold share their seed) and, for
        several selected outputs with errors of their own (regression values, multi-label
        outputs), ``per_output`` (variable x output: each output's own change of error at the
        step the variable entered or left, from the same fits; the score is the error of the
        outputs together, for scikit-learn's averaged metrics their mean). Errors are in the
        measure's own direction (an MSE, or an R2 for ``scoring="r2"``); ``change`` is always
        a loss.
"""

for _function in (backward_stepwise, forward_stepwise):
    _function.__doc__ += _PARAMETERS + _RETURNS + _REFERENCES
