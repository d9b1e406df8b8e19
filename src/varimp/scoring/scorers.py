"""Scorer names and objects: the ``scoring`` option checked at the door, and resolved once per
call into a scikit-learn scorer with its name, direction and kind of metric."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError, describe
from . import _sklearn as sk
from .targets import Targets

ALIASES = {"mse": "neg_mean_squared_error", "mae": "neg_mean_absolute_error",
           "log_loss": "neg_log_loss"}
DEFAULT_SCORING = {"regression": "neg_mean_squared_error", "probability": "neg_log_loss",
                   "logits": "neg_log_loss"}


@dataclass(frozen=True)
class Scorer:
    """A metric ``function(y_true, y_pred) -> float`` with its direction.

    ``greater_is_better=True`` for a score (R2, accuracy), False for an error (MSE).
    ``response="predict"`` passes predicted values (regression) or labels (classifiers);
    ``"proba"`` passes class probabilities, ``(m,)`` for two classes (of the positive class)
    or ``(m, n_classes)``. Equivalent to ``sklearn.metrics.make_scorer`` with
    ``response_method="predict"`` or ``"predict_proba"``.
    """

    function: Callable[[np.ndarray, np.ndarray], float]
    greater_is_better: bool
    response: str = "predict"
    name: str | None = None

    def __post_init__(self) -> None:
        if not callable(self.function):
            raise InputError(f"Scorer needs a callable metric f(y_true, y_pred); received "
                             f"{describe(self.function)}")
        if not isinstance(self.greater_is_better, bool | np.bool_):
            raise InputError(f"Scorer's greater_is_better must be True or False; received "
                             f"{describe(self.greater_is_better)}")
        if self.response not in ("predict", "proba"):
            raise InputError(f"Scorer's response must be 'predict' or 'proba'; received "
                             f"{self.response!r}")

    def sklearn(self) -> Any:
        from sklearn.metrics import make_scorer

        method = "predict_proba" if self.response == "proba" else "predict"
        return make_scorer(self.function, greater_is_better=bool(self.greater_is_better),
                           response_method=method)


def check_scoring(scoring: object) -> object:
    """Reject an unknown scoring at the door, before any prediction is made."""
    if isinstance(scoring, Scorer) or _is_sklearn_scorer(scoring):
        return scoring
    if isinstance(scoring, str):
        if scoring == "auto" or scoring in ALIASES or scoring in _scorer_names():
            return scoring
        close = [n for n in _scorer_names() if scoring.lower() in n][:8]
        hint = f" (close: {close})" if close else ""
        raise InputError(f"scoring must be 'auto', a scikit-learn scorer name "
                         f"(sklearn.metrics.get_scorer_names(), e.g. 'neg_mean_squared_error', "
                         f"'r2', 'neg_log_loss', 'accuracy', 'roc_auc'), a scorer object or a "
                         f"varimp.scoring.Scorer; received {scoring!r}{hint}")
    if callable(scoring):
        raise InputError(f"scoring {describe(scoring)} is a bare callable, whose direction is "
                         "unknown: wrap it as sklearn.metrics.make_scorer(f, "
                         "greater_is_better=...) or varimp.scoring.Scorer(f, "
                         "greater_is_better=...)")
    raise InputError(f"scoring must be 'auto', a scikit-learn scorer name, a scorer object or a "
                     f"varimp.scoring.Scorer; received {describe(scoring)}")


def _scorer_names() -> list[str]:
    from sklearn.metrics import get_scorer_names

    return list(get_scorer_names())


def _is_sklearn_scorer(scoring: object) -> bool:
    return sk.is_scorer(scoring)


def _scoring_name(scoring: object, kind: str) -> str:
    if isinstance(scoring, str):
        name = DEFAULT_SCORING[kind] if scoring == "auto" else ALIASES.get(scoring, scoring)
        return name
    if isinstance(scoring, Scorer):
        return scoring.name or getattr(scoring.function, "__name__", "scorer")
    return getattr(sk.score_func(scoring), "__name__", type(scoring).__name__)


def _resolve_scorer(scoring: object, targets: Targets, labels: list) -> Any:
    """A scikit-learn scorer object; classification metrics that take ``labels`` get all the
    class ``labels`` (sorted), so that a subset of rows missing a class is still scored."""
    from sklearn.metrics import get_scorer

    check_scoring(scoring)
    if isinstance(scoring, Scorer):
        return scoring.sklearn()
    if isinstance(scoring, str):
        scorer = get_scorer(_scoring_name(scoring, targets.kind))
    else:
        scorer = scoring
    if targets.classifier and "labels" not in sk.kwargs(scorer) and \
            "labels" in _parameters(sk.score_func(scorer)) and not _regression_metric(scorer):
        scorer = sk.with_kwargs(scorer, labels=labels)
    return scorer


def _parameters(func: Callable) -> tuple[str, ...]:
    try:
        return tuple(inspect.signature(func).parameters)
    except (TypeError, ValueError):
        return ()


def _sign(scorer: Any) -> int:
    return sk.sign(scorer)


def _regression_metric(scorer: Any) -> bool:
    return sk.metric_module(scorer).startswith("sklearn.metrics._regression")


def _classification_metric(scorer: Any) -> bool:
    """A metric of predicted class labels (accuracy, F1, precision...)."""
    return sk.metric_module(scorer).startswith("sklearn.metrics._classification")


def _needs_probabilities(scorer: Any) -> bool:
    return any(m in ("predict_proba", "decision_function") for m in sk.response_methods(scorer))
