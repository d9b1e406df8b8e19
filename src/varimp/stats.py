"""Is an importance more than chance, and would another training run give the same one?

Two answers by retraining, both built on :class:`varimp.engines.retrain.RetrainEngine`:

- :func:`randomization_test`: the randomization test of Olden & Jackson (2002). Networks are
  refitted on targets permuted across rows, which breaks every link between inputs and targets
  while keeping both distributions; the chosen method on each of these null networks gives the
  importance one sees by chance, and each variable's p-value is the share of null importances
  at least as large as the observed one. The test is valid only when the observed network and
  the null networks are trained by the same procedure: when varimp rebuilds a PyTorch or Keras
  network, the observed importance is that of one more network it trains, the same way, on the
  true targets.
- :func:`ensemble`: networks refitted with their own seeds (on bootstrap resamples of the rows
  by default); the mean importance, with its standard deviation and a percentile interval over
  the members.

Any method of :func:`varimp.available_methods` runs on every refitted network, with the options
given (its ``random_state`` included, so that a random method draws the same numbers on every
network and the spread comes from training alone). The fits run sequentially, on joblib
processes (``n_jobs``) or on a Dask cluster (``backend="dask"``), with the same numbers on each.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from .adapters import adapt
from .api import importance, split_options
from .engines.retrain import FitData, FitTask, RetrainEngine
from .engines.tasks import seed_from
from .errors import InputError, ModelError
from .methods.retraining import predictions_like
from .refit import resolve_fit
from .registry import MethodSpec, method_spec
from .result import Importance
from .scoring import CLASSIFIER_KINDS, multilabel_outputs, read_targets
from .validation import Data, check_positive_float, check_positive_int, validate

__all__ = ["ensemble", "randomization_test"]

#: What ``details["test"]`` of a randomization test says.
TEST_NAME = "randomization (Olden & Jackson 2002)"
#: The task label of the observed network of a randomization test, when varimp trains it.
OBSERVED = ("observed", 0)


class NetworkScores(NamedTuple):
    """What comes back from one refitted network: its importance, without the details."""

    scores: pd.Series
    by_time: pd.DataFrame | None
    kind: str
    measure: str | None
    per_output: pd.DataFrame | None = None


@dataclass(frozen=True)
class Recompute:
    """What every worker does with a refitted network: the method, with the options given.

    Called as ``evaluate(model, data)`` by the retraining engine (and pickled to its workers).
    The refitted network must predict what the given model predicts (``shape``: steps and
    outputs per sample, read with the given model's ``output_kind`` and ``classes``), else a
    :class:`~varimp.ModelError`. The method sees the refitted network, every row of X
    (``data.X``) and the targets of every row (``data.y``: permuted for a null network), with
    the feature names and output names of the data the user gave (``target_names``: the
    columns of a DataFrame ``y``, else the given model's own output names, such as Keras
    heads, which a rebuilt network does not carry). A non-finite score is a
    :class:`~varimp.ModelError`. The observed network of a randomization test (task
    :data:`OBSERVED`) gets ``observed_options`` and returns its whole :class:`Importance`.

    ``own_search`` (an ensemble of a retraining method): the method's search runs on the
    member's own training rows (``data.X_train``, ``data.y_train``: its bootstrap resample)
    with the member's own seed (``data.seed``) as ``random_state``, so that members differ
    by their sampling and training as the members of any other ensemble do.
    """

    method: str
    options: dict[str, Any]
    feature_names: tuple[str, ...]
    target_names: tuple[str, ...] | None
    output_kind: str
    classes: tuple | None
    shape: tuple[int, ...]
    observed_options: dict[str, Any] | None = None
    own_search: bool = False

    def __call__(self, model: object, data: FitData) -> NetworkScores | Importance:
        predictions_like(model, data.X, self.output_kind, self.classes, self.shape,
                         self.options.get("batch_size"))
        observed = data.task.label == OBSERVED and self.observed_options is not None
        options = self.observed_options if observed else self.options
        X, y = data.X, data.y
        if self.own_search:
            X, y = data.X_train, data.y_train
            options = {**options, "random_state": data.seed}
        if self.target_names is not None and np.ndim(y) == 2:
            y = pd.DataFrame(y, columns=list(self.target_names))
        result = importance(model, X, y, method=self.method,
                            feature_names=self.feature_names, **options)
        values = [result.scores] + ([] if result.by_time is None else [result.by_time])
        if not all(np.isfinite(v.to_numpy(dtype=float)).all() for v in values):
            raise ModelError(f"method {self.method!r} gave non-finite scores on the refitted "
                             f"network: {result.scores.to_dict()}")
        if observed:
            return result
        return NetworkScores(result.scores, result.by_time, result.kind,
                             result.details.get("measure"), result.details.get("per_output"))


@dataclass(frozen=True)
class _Refits:
    """Everything a study of refitted networks shares: the method, the data, the fit."""

    spec: MethodSpec
    data: Data
    fit: Callable[..., Any]
    fit_description: Any
    seed: int
    options: dict[str, Any]
    output_kind: str
    classes: tuple | None
    shape: tuple[int, ...]  # (steps, outputs) the given model predicts per sample
    target_names: tuple[str, ...] | None  # the outputs' names a refitted network is read with
    strata: np.ndarray | None  # a classifier's class of every row: stratified bootstrap

    @classmethod
    def build(cls, model: object, X: object, y: object, method: object, fit: object,
              random_state: object, options: dict[str, Any]) -> _Refits:
        spec = method_spec(method)
        split_options(spec, options)  # an unknown option is refused before any fit
        data = validate(X, y, feature_names=options.get("feature_names"), y_required=True)
        # the configured adapter: a rebuilt network is trained as the model is read (its
        # output kind and classes as given), as the stepwise methods do
        adapter = adapt(model).configure(output_kind=options.get("output_kind"),
                                         classes=options.get("classes"))
        fit_callable, description = resolve_fit(adapter, fit, data.X, data.y)
        pred = adapter.predict(data.X, options.get("batch_size"))
        seed = _root_seed(random_state)
        options = {k: v for k, v in options.items() if k != "feature_names"}
        if "random_state" in spec.options:
            options["random_state"] = seed
        if spec.retrains:  # a stepwise method retrains each network the same way
            options["fit"] = fit_callable
        return cls(spec, data, fit_callable, description, seed, options, adapter.output_kind,
                   adapter.classes, pred.shape[1:], _target_names(adapter, data),
                   _strata(adapter, data, pred))

    @property
    def trains_observed(self) -> bool:
        """Whether a randomization test trains its observed network: when varimp rebuilds the
        network, or refits a clone with other parameters (the CLI's ``--fit-epochs``), the
        user's own training is not the null networks'; for a method that reads
        the network (a retraining method's importance does not depend on its weights)."""
        differs = self.fit_description["how"] == "rebuilt" or \
            bool(self.fit_description.get("altered"))
        return differs and not self.spec.retrains

    def recompute(self, observed: bool = False, own_search: bool = False) -> Recompute:
        """The per-network evaluation (every network's method runs sequentially, silently);
        with ``observed``, the observed network's method keeps its interval options; with
        ``own_search``, a retraining method searches on each member's rows with its seed."""
        quiet = {"progress": False} if "progress" in self.spec.options else {}
        # a null network's interval would be computed and thrown away
        options = {k: v for k, v in self.options.items() if k not in ("ci_level", "n_bootstrap")}
        return Recompute(self.spec.name, {**options, **quiet}, self.data.feature_names,
                         self.target_names, self.output_kind, self.classes, self.shape,
                         {**self.options, **quiet} if observed else None,
                         own_search and self.spec.retrains)

    def run(self, tasks: list[FitTask], n_jobs: object, backend: object, progress: object,
            own_search: bool = False) -> list[Any]:
        engine = RetrainEngine(self.fit, self.data.X, self.data.y, n_jobs=n_jobs,
                               backend=backend, progress=progress, random_state=self.seed,
                               strata=self.strata)
        observed = any(task.label == OBSERVED for task in tasks)
        return engine.run(tasks, self.recompute(observed, own_search))

    def seeds(self, n_tasks: int) -> list[int]:
        """The seeds of ``n_tasks`` fits by position, as :meth:`run` draws them."""
        return RetrainEngine(self.fit, self.data.X, self.data.y,
                             random_state=self.seed).seeds(n_tasks)

    def settings(self, **extra: Any) -> dict[str, Any]:
        return {"fit": self.fit_description, "random_state": self.seed, **extra}


def _target_names(adapter: Any, data: Data) -> tuple[str, ...] | None:
    """The names a refitted network's outputs are read with: the columns of a DataFrame
    ``y``, else the given model's own output names (a Keras model's heads) when ``y`` has a
    column per output, so that ``output="temp"`` selects the same output on every refitted
    network (a network varimp rebuilds in PyTorch has no names of its own)."""
    if data.target_names is not None:
        return data.target_names
    names = adapter.model_output_names()
    if names is None or np.ndim(data.y) != 2 or data.y.shape[1] != len(names):
        return None
    return tuple(names)


def _strata(adapter: Any, data: Data, pred: np.ndarray) -> np.ndarray | None:
    """A classifier's class index of every row (one label per row), for a stratified
    bootstrap (:func:`varimp.engines.fits.bootstrap_rows`); None for a regression, a
    multi-label model or labels per time step. Reading the targets here also refuses labels
    the model has no class for before any fit."""
    if adapter.output_kind not in CLASSIFIER_KINDS:
        return None
    targets = read_targets(data.y, pred.shape, adapter.output_kind, adapter.classes,
                           multilabel=multilabel_outputs(adapter, pred))
    if targets.multilabel or targets.values.shape[1] != 1:
        return None
    return targets.values[:, 0]


def _root_seed(random_state: object) -> int:
    """A non-negative int ``random_state`` as given (so that the observed importance equals the
    method called with it); else one integer drawn up front (from a Generator, or fresh)."""
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise InputError(f"random_state must be a non-negative int, a numpy Generator or "
                             f"None; received {random_state!r}")
        return int(random_state)
    return seed_from(random_state)


def _stack(results: list[NetworkScores]) -> tuple[np.ndarray, np.ndarray | None]:
    """Scores ``(fits, variables)`` and, where every fit has them, by_time ``(fits, T, v)``."""
    scores = np.stack([r.scores.to_numpy(dtype=float) for r in results])
    if any(r.by_time is None for r in results):
        return scores, None
    return scores, np.stack([r.by_time.to_numpy(dtype=float) for r in results])


def permutation_pvalues(observed: np.ndarray, null: np.ndarray, kind: str) -> np.ndarray:
    """``(1 + #{null >= observed}) / (1 + n_permutations)`` along the first axis of ``null``.

    Effects (signed scores: connection weights, mean derivatives) compare magnitudes,
    ``abs(null) >= abs(observed)``; losses, shares and magnitudes compare the scores as they
    are, so a loss below the null's (a negative importance) is never significant.
    """
    if kind == "effect":
        observed, null = np.abs(observed), np.abs(null)
    return (1.0 + (null >= observed).sum(axis=0)) / (1.0 + null.shape[0])


def randomization_test(
    model: object,
    X: object,
    y: object,
    *,
    method: str,
    fit: Callable[..., Any] | None = None,
    n_permutations: int = 99,
    random_state: object = None,
    n_jobs: int | None = None,
    backend: str | None = None,
    progress: bool | None = None,
    **options: Any,
) -> Importance:
    """The randomization test of Olden & Jackson (2002): is each importance more than chance?

    ``n_permutations`` null networks are trained by ``fit`` on the targets permuted across rows
    (each permutation drawn from the fit's own seed), and ``method``, with the same options, is
    computed on each null network against the permuted targets it was trained on. The observed
    importance must come from a network trained by the same procedure on the true targets:
    a network trained longer, or otherwise, than the null networks (one that overfits, say)
    has importances the null networks never reach, whatever the data, and every p-value would
    be the smallest. So:

    - ``fit`` given: the observed importance is ``method`` on ``model``, which must have been
      trained by that ``fit`` (the test assumes it; varimp cannot check it);
    - ``fit=None`` on a scikit-learn model: the null networks are clones of its estimator,
      with its hyper-parameters, and the observed importance is ``method`` on ``model``;
    - ``fit=None`` on a PyTorch or Keras network: varimp rebuilds it and trains it by its own
      trainer, not the user's training, so the observed importance is ``method`` on one more
      network rebuilt and trained that way on the true targets (task ``("observed", 0)``, its
      seed drawn after the permutations', run in the same dispatch); the given model's own
      importance is kept in ``details["given_model"]`` for reference. A retraining method
      (stepwise) retrains every network anyway and is computed on ``model``.

    The p-value of a variable is

    ``p = (1 + #{null >= observed}) / (1 + n_permutations)``

    (Phipson & Smyth 2010: never zero; the smallest attainable is ``1 / (1 + n_permutations)``,
    so a test at 5 % needs at least 19 permutations). Effects (``kind="effect"``: signed scores
    such as connection weights) are compared by magnitude; losses, shares and magnitudes by
    their score as it is.

    Parameters
    ----------
    model : torch.nn.Module, Keras model, fitted scikit-learn model, or callable
        The fitted model whose importance is tested (trained by ``fit`` when ``fit`` is
        given); never changed. With ``fit=None`` it also says how to train the null networks
        (see :func:`varimp.refit.resolve_fit`).
    X : array-like ``(n, p)`` or ``(n, T, p)``, DataFrame or tensor
    y : array-like
        The targets the model was trained on (required: the null networks are trained on them,
        permuted).
    method : str
        Any of :func:`varimp.available_methods`, weight-based methods included.
        A retraining method (``forward_stepwise``, ``backward_stepwise``) runs its whole
        search on every refitted network: with ``p`` variables that is ``p (p + 1) / 2`` more
        fits per network (about ``p (p + 1) / 2 x n_permutations`` in all).
    fit : callable, optional
        ``fit(X, y) -> model``, the procedure that trained ``model``; when it accepts
        ``random_state``, each null network gets its own seed, else the global generators are
        seeded from it (:func:`varimp.engines.fits.global_seed`). None: the model is cloned
        (scikit-learn) or rebuilt with fresh weights and trained by varimp's seeded trainer
        (PyTorch, Keras); anything else needs ``fit``.
    n_permutations : int, default 99
        Null networks to train (at least 1).
    random_state : int, numpy Generator or None
        Seeds the permutations and fits (one seed per fit, drawn before any is dispatched) and
        the method's own draws, the same on the model and on every null network. An int is
        handed to the method as it is, so the observed importance equals
        ``varimp.importance(model, X, y, method=method, random_state=random_state)`` (on the
        network varimp trains for it, when it rebuilds one).
    n_jobs, backend : int, str, optional
        Parallel fits: joblib processes (``n_jobs > 1``, ``backend`` a joblib backend name), or
        ``backend="dask"`` (the current ``dask.distributed`` Client, else a local cluster
        started for the call). The numbers do not depend on them.
    progress : bool or None
        A progress bar over the fits (None: once the work has run a few seconds).
    **options
        The method's own options and the common options of :func:`varimp.importance`.

    Returns
    -------
    Importance
        The observed importance (method name and kind unchanged) with ``pvalues`` set, and in
        ``details``: ``"test"`` (the test's name), ``"null"`` (DataFrame, permutation x
        variable: the null importances), ``"pvalues_by_time"`` (sequences, where the method
        resolves time: a p-value per cell, time x variable, from the null ``by_time`` tables),
        ``"test_settings"`` (the fit used, the number of permutations, the root seed,
        ``"observed"``: which network the observed importance comes from, and
        ``"observed_seed"``: the seed of the network varimp trained for it, or None) and,
        when varimp trained the observed network, ``"given_model"`` (the given model's own
        scores, for reference only).

    Raises
    ------
    InputError
        ``n_permutations < 1``, an unknown method or option, bad ``X`` or ``y``.
    ModelError
        A fit (or the method on a null network) that raises, returns NaN, returns a model that
        predicts other outputs than the given one, or loses its worker; the message names the
        permutation, e.g. ``("permutation", 17)``.

    References
    ----------
    Olden, J. D. & Jackson, D. A. (2002). Illuminating the "black box": a randomization approach
    for understanding variable contributions in artificial neural networks. Ecological
    Modelling 154, 135-150.
    Phipson, B. & Smyth, G. K. (2010). Permutation p-values should never be zero. Statistical
    Applications in Genetics and Molecular Biology 9(1), 39.

    Examples
    --------
    >>> X, y, truth = varimp.datasets.friedman1(300, random_state=0)
    >>> model = varimp.train_mlp(X, y, random_state=0)
    >>> test = varimp.randomization_test(model, X, y, method="permutation",
    ...                                  fit=varimp.train_mlp, n_permutations=99, n_jobs=2)
    >>> test.to_frame()[["feature", "score", "pvalue"]]  # doctest: +SKIP
    """
    n_permutations = check_positive_int(n_permutations, "n_permutations")
    refits = _Refits.build(model, X, y, method, fit, random_state, options)
    given = importance(model, X, y, method=refits.spec.name,
                       feature_names=refits.data.feature_names,
                       **_observed_options(refits, n_jobs, backend, progress))
    tasks = [FitTask(("permutation", i + 1), permute_y=True) for i in range(n_permutations)]
    if refits.trains_observed:
        tasks.append(FitTask(OBSERVED))
    results = refits.run(tasks, n_jobs, backend, progress)
    observed = results.pop() if refits.trains_observed else given
    null, null_by_time = _stack(results)
    variables = list(observed.scores.index)
    observed.pvalues = pd.Series(
        permutation_pvalues(observed.scores.to_numpy(dtype=float), null, observed.kind),
        index=observed.scores.index, name="pvalue")
    details = observed.details
    details["test"] = TEST_NAME
    details["null"] = pd.DataFrame(null, columns=variables, index=pd.RangeIndex(
        1, n_permutations + 1, name="permutation"))
    if observed.by_time is not None and null_by_time is not None:
        cells = permutation_pvalues(observed.by_time.to_numpy(dtype=float), null_by_time,
                                    observed.kind)
        details["pvalues_by_time"] = pd.DataFrame(cells, index=observed.by_time.index,
                                                  columns=observed.by_time.columns)
    details["test_settings"] = refits.settings(n_permutations=n_permutations,
                                               **_observed_settings(refits, len(tasks)))
    if refits.trains_observed:
        details["given_model"] = given.scores.rename("given model")
    return observed


def _observed_settings(refits: _Refits, n_tasks: int) -> dict[str, Any]:
    """Which network the observed importance of a randomization test comes from, in words."""
    if refits.trains_observed:
        how = refits.fit_description
        network = (f"a {how['architecture']} network rebuilt and trained by {how['trainer']}"
                   if how["how"] == "rebuilt" else f"a clone of {how['estimator']} with "
                   f"{', '.join(how['altered'])} changed, refitted")
        return {"observed": f"{network} on the true targets, as every null network (the "
                            "given model's own training is not theirs; its scores are "
                            "details['given_model'])",
                "observed_seed": refits.seeds(n_tasks)[-1]}
    if refits.spec.retrains:
        reason = "a retraining method's importance does not depend on its weights"
    elif refits.fit_description["how"] == "clone":
        reason = "the null networks are clones of its estimator"
    else:
        reason = "it must have been trained by fit, as every null network"
    return {"observed": f"the given model ({reason})", "observed_seed": None}


def _observed_options(refits: _Refits, n_jobs: object, backend: object, progress: object
                      ) -> dict[str, Any]:
    """The options of the method on the user's model: a retraining method may use the
    parallel backend and the progress bar there (the null networks' methods run inside a
    worker, sequentially and silently)."""
    extra = {"n_jobs": n_jobs, "backend": backend, "progress": progress}
    return {**refits.options, **{k: v for k, v in extra.items() if k in refits.spec.options}}


def ensemble(
    model: object,
    X: object,
    y: object,
    *,
    method: str,
    fit: Callable[..., Any] | None = None,
    n_models: int = 10,
    bootstrap: bool = True,
    ci_level: float = 0.95,
    random_state: object = None,
    n_jobs: int | None = None,
    backend: str | None = None,
    progress: bool | None = None,
    **options: Any,
) -> Importance:
    """The importance averaged over an ensemble of refitted networks, with its spread.

    ``n_models`` networks are trained by ``fit``, each with its own seed and, by default, on
    its own bootstrap resample of the rows (bagging, Breiman 1996), so that the spread covers
    both the randomness of training and that of the sample. ``method`` runs on every member
    against every row of ``X`` and ``y``, with the options given. A retraining method
    (``forward_stepwise``, ``backward_stepwise``) trains its own networks: for each member it
    runs its whole search on the member's rows (its bootstrap resample, or every row) with the
    member's seed as ``random_state``, so that members differ as those of any other method.
    A single network's ranking can change from one training run to the next (Olden & Jackson
    2002; Gevrey et al. 2003); the ensemble shows by how much.

    For a classifier (one class label per row) the bootstrap is stratified: each class is
    resampled within itself (:func:`varimp.engines.fits.bootstrap_rows`), so every member is
    trained on every class of the data, a rare one included, in its own proportion; an
    unstratified resample can miss a rare class and give a member fewer outputs than the
    model.

    Parameters
    ----------
    model : torch.nn.Module, Keras model, fitted scikit-learn model, or callable
        With ``fit=None``, the model whose training is repeated (a scikit-learn model is
        cloned, a PyTorch or Keras network rebuilt with fresh weights and trained by varimp's
        seeded trainer); never changed, and its own importance is not part of the result.
    X : array-like ``(n, p)`` or ``(n, T, p)``, DataFrame or tensor
    y : array-like
        Targets (required: every member is trained on them).
    method : str
        Any of :func:`varimp.available_methods`.
        A retraining method (``forward_stepwise``, ``backward_stepwise``) runs its whole
        search on every member: with ``p`` variables that is ``p (p + 1) / 2`` more fits per
        member (about ``p (p + 1) / 2 x n_models`` in all).
    fit : callable, optional
        ``fit(X, y) -> model``; when it accepts ``random_state``, each member gets its own seed;
        without it, the global generators (Python's ``random``, NumPy's, torch's) are seeded
        from the member's seed before its fit and restored afterwards
        (:func:`varimp.engines.fits.global_seed`), so a fit that draws from them differs from
        member to member and is reproducible, except in threads of one process (joblib's
        ``"threading"`` backend, Dask workers of several threads), which share them.
    n_models : int, default 10
        Members (at least 2: a spread needs two).
    bootstrap : bool, default True
        Train each member on a bootstrap resample of the rows (stratified by class for a
        classifier); False: on every row, members differing by their seed only.
    ci_level : float, default 0.95
        Level of the percentile interval over the members' scores.
    random_state : int, numpy Generator or None
        Seeds every fit and resample (one seed per member, drawn before any fit is dispatched,
        listed in ``details["ensemble_settings"]["seeds"]``) and the method's own draws, the
        same on every member (a retraining method's search: the member's own seed).
    n_jobs, backend, progress
        As in :func:`randomization_test`.
    **options
        The method's own options and the common options of :func:`varimp.importance`.

    Returns
    -------
    Importance
        ``scores``: the members' mean; ``std``: their standard deviation (``ddof=1``); ``ci``:
        the ``(1 - ci_level) / 2`` and ``1 - (1 - ci_level) / 2`` percentiles of their scores
        (linear interpolation, :func:`numpy.percentile`); ``by_time``: the members' mean table,
        where the method has one; ``kind``: the method's. ``details["members"]`` holds every
        member's scores (member x variable); ``details["per_output"]``, where the method gives
        one per output (several outputs), the members' mean of it.

    Raises
    ------
    InputError
        ``n_models < 2``, ``ci_level`` outside ``(0, 1)``, an unknown method or option.
    ModelError
        A fit (or the method on a member) that raises, returns NaN, returns a model that
        predicts other outputs than the given one, or loses its worker; the message names the
        member, e.g. ``("model", 4)``.

    References
    ----------
    Breiman, L. (1996). Bagging predictors. Machine Learning 24, 123-140.
    Olden, J. D. & Jackson, D. A. (2002). Illuminating the "black box". Ecological Modelling
    154, 135-150.

    Examples
    --------
    >>> X, y, truth = varimp.datasets.friedman1(300, random_state=0)
    >>> model = varimp.train_mlp(X, y, random_state=0)
    >>> bag = varimp.ensemble(model, X, y, method="garson", fit=varimp.train_mlp, n_models=20)
    >>> bag.to_frame()[["feature", "score", "std", "ci_low", "ci_high"]]  # doctest: +SKIP
    """
    n_models = check_positive_int(n_models, "n_models", minimum=2)
    if not isinstance(bootstrap, bool | np.bool_):
        raise InputError(f"bootstrap must be True or False; received {bootstrap!r}")
    ci_level = check_positive_float(ci_level, "ci_level")
    if not ci_level < 1:
        raise InputError(f"ci_level must lie strictly between 0 and 1; received {ci_level!r}")
    refits = _Refits.build(model, X, y, method, fit, random_state, options)
    tasks = [FitTask(("model", i + 1), bootstrap=bool(bootstrap)) for i in range(n_models)]
    results = refits.run(tasks, n_jobs, backend, progress, own_search=True)
    members, tables = _stack(results)
    first = results[0]
    variables = first.scores.index
    tail = (1.0 - ci_level) / 2.0
    low, high = np.percentile(members, [100.0 * tail, 100.0 * (1.0 - tail)], axis=0)
    details: dict[str, Any] = {
        "ensemble": f"{n_models} refitted networks"
                    + (", each on a bootstrap resample of the rows" if bootstrap else ""),
        "members": pd.DataFrame(members, columns=variables,
                                index=pd.RangeIndex(1, n_models + 1, name="model")),
        "settings": {k: v for k, v in refits.options.items() if k != "fit"},
        "ensemble_settings": refits.settings(n_models=n_models, bootstrap=bool(bootstrap),
                                             ci_level=ci_level, seeds=refits.seeds(n_models)),
    }
    if first.measure is not None:
        details["measure"] = first.measure
    if all(r.per_output is not None for r in results):  # several outputs: each one's mean
        details["per_output"] = sum(r.per_output for r in results) / n_models
    return Importance(
        method=refits.spec.name,
        scores=pd.Series(members.mean(axis=0), index=variables),
        std=pd.Series(members.std(axis=0, ddof=1), index=variables),
        ci=pd.DataFrame({"low": low, "high": high}, index=variables),
        by_time=None if tables is None else pd.DataFrame(
            tables.mean(axis=0), index=first.by_time.index, columns=first.by_time.columns),
        kind=first.kind,
        details=details,
    )
