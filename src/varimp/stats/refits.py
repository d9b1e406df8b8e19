"""What the randomization test and the ensemble share: refitted networks and what each gives.

:class:`_Refits` validates the call once, before any fit (:func:`check_options`), resolves
the fit and runs the fits on :class:`varimp.engines.retrain.RetrainEngine`; :class:`Recompute`
is what every worker does with a refitted network (the method, with the options given), and
:class:`NetworkScores` what comes back from it.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from ..api import importance, split_options
from ..engines.retrain import FitData, FitTask, RetrainEngine
from ..engines.tasks import seed_from
from ..errors import InputError, ModelError
from ..methods._common import by_output_name, configured
from ..methods.held_out import predictions_like
from ..refit import resolve_fit
from ..registry import MethodSpec, available_methods, method_spec
from ..result import Importance
from ..scoring import CLASSIFIER_KINDS, check_scoring, multilabel_outputs, read_targets
from ..validation import Data, check_random_state, validate

#: The task label of the observed network of a randomization test, when varimp trains it.
OBSERVED = ("observed", 0)
#: What the settings of a study say when perturbation measures without ``y`` (``scoring=None``).
WITHOUT_Y = ("without y (scoring=None): the RMS change of the predictions of every network; "
             "y only trains the networks")


class NetworkScores(NamedTuple):
    """What comes back from one refitted network: its importance, without the details."""

    scores: pd.Series
    by_time: pd.DataFrame | None
    kind: str
    measure: str | None
    per_output: pd.DataFrame | None = None
    settings: dict[str, Any] | None = None  # the method's, but its fit (a retraining method's)


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

    ``without_y`` (perturbation with ``scoring=None``): the method measures without targets
    (the RMS change of the predictions), on every network alike; ``y`` only trains them.
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
    without_y: bool = False

    def __call__(self, model: object, data: FitData) -> NetworkScores | Importance:
        predictions_like(model, data.X, self.output_kind, self.classes, self.shape,
                         self.options.get("batch_size"))
        observed = data.task.label == OBSERVED and self.observed_options is not None
        options = self.observed_options if observed else self.options
        X, y = data.X, data.y
        if self.own_search:
            X, y = data.X_train, data.y_train
            options = {**options, "random_state": data.seed}
        if self.without_y:
            y = None
        elif self.target_names is not None and np.ndim(y) == 2:
            y = pd.DataFrame(y, columns=list(self.target_names))
        result = importance(model, X, y, method=self.method,
                            feature_names=self.feature_names, **options)
        if self.without_y:
            result.details["settings"]["scoring"] = None
        values = [result.scores] + ([] if result.by_time is None else [result.by_time])
        if not all(np.isfinite(v.to_numpy(dtype=float)).all() for v in values):
            raise ModelError(f"method {self.method!r} gave non-finite scores on the refitted "
                             f"network: {result.scores.to_dict()}")
        if observed:
            return result
        settings = {k: v for k, v in result.details.get("settings", {}).items() if k != "fit"}
        return NetworkScores(result.scores, result.by_time, result.kind,
                             result.details.get("measure"), result.details.get("per_output"),
                             settings)


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
    model: Any = None  # the user's model, which no fit may return (trained in place)
    without_y: bool = False  # perturbation with scoring=None: measured without y

    @classmethod
    def build(cls, model: object, X: object, y: object, method: object, fit: object,
              random_state: object, options: dict[str, Any]) -> _Refits:
        spec = method_spec(method)
        data = validate(X, y, feature_names=options.get("feature_names"), y_required=True)
        # the configured adapter: a rebuilt network is trained as the model is read (its
        # output kind and classes as given), as the stepwise methods do
        adapter = check_options(spec, model, options)
        # a DataFrame y in the order of a model's named outputs, so that every refitted network
        # trains each output on its own column, as the methods score it
        target, names = by_output_name(data.y, data.target_names, adapter)
        data = replace(data, y=target, target_names=names)
        fit_callable, description = resolve_fit(adapter, fit, data.X, data.y)
        pred = adapter.predict(data.X, options.get("batch_size"))
        seed = _root_seed(random_state)
        options = {k: v for k, v in options.items() if k != "feature_names"}
        without_y = spec.without_y and "scoring" in options and options["scoring"] is None
        if without_y:  # the method's own default stands; without y it is not read
            del options["scoring"]
        if "random_state" in spec.options:
            options["random_state"] = seed
        if spec.retrains:  # a stepwise method retrains each network the same way
            options["fit"] = fit_callable
        return cls(spec, data, fit_callable, description, seed, options, adapter.output_kind,
                   adapter.classes, pred.shape[1:], _target_names(adapter, data),
                   _strata(adapter, data, pred), adapter.model, without_y)

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
                         own_search and self.spec.retrains, self.without_y)

    def run(self, tasks: list[FitTask], n_jobs: object, backend: object, progress: object,
            own_search: bool = False) -> list[Any]:
        engine = RetrainEngine(self.fit, self.data.X, self.data.y, n_jobs=n_jobs,
                               backend=backend, progress=progress, random_state=self.seed,
                               strata=self.strata, model=self.model)
        observed = any(task.label == OBSERVED for task in tasks)
        return engine.run(tasks, self.recompute(observed, own_search))

    def seeds(self, n_tasks: int) -> list[int]:
        """The seeds of ``n_tasks`` fits by position, as :meth:`run` draws them."""
        return RetrainEngine(self.fit, self.data.X, self.data.y,
                             random_state=self.seed).seeds(n_tasks)

    def method_y(self, y: object) -> object:
        """The targets the method sees: None when it measures without them."""
        return None if self.without_y else y

    def settings(self, **extra: Any) -> dict[str, Any]:
        """The fit, the root seed and ``extra``; with ``scoring=None`` on perturbation, also
        ``"measure"``: that the method measured without ``y``."""
        more = {"measure": WITHOUT_Y} if self.without_y else {}
        return {"fit": self.fit_description, "random_state": self.seed, **more, **extra}


def check_options(spec: MethodSpec, model: object, options: dict[str, Any]) -> Any:
    """The options of a study of refitted networks checked before any fit, as the method
    would check them on the first network: an unknown option, ``classes=`` for a model read as
    regression values, a ``scoring`` the method cannot use (``None`` measures without ``y``
    and is for the methods that can, :attr:`~varimp.registry.MethodSpec.without_y`:
    perturbation; a method that takes no scoring leaves it unused). Returns the model's
    adapter configured with ``output_kind`` and ``classes``."""
    split_options(spec, options)
    adapter = configured(model, options.get("output_kind"), options.get("classes"))
    if "scoring" in options and "scoring" in spec.options:
        scoring = options["scoring"]
        if scoring is None and not spec.without_y:
            able = " or ".join(repr(name) for name in available_methods()
                               if method_spec(name).without_y)
            raise InputError(
                f"scoring=None measures without y, the RMS change of the predictions, and is "
                f"for method={able} only; method {spec.name!r} measures the loss of a "
                "score against y: pass a scikit-learn scorer name (e.g. "
                "'neg_mean_squared_error', 'r2', 'accuracy') or leave scoring out ('auto')")
        if scoring is not None:
            check_scoring(scoring)
    return adapter


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
        check_random_state(random_state)  # InputError for a negative int
        return int(random_state)
    return seed_from(random_state)


def _stack(results: list[NetworkScores]) -> tuple[np.ndarray, np.ndarray | None]:
    """Scores ``(fits, variables)`` and, where every fit has them, by_time ``(fits, T, v)``."""
    scores = np.stack([r.scores.to_numpy(dtype=float) for r in results])
    if any(r.by_time is None for r in results):
        return scores, None
    return scores, np.stack([r.by_time.to_numpy(dtype=float) for r in results])
