"""What varimp reads of a scikit-learn scorer object, in one place.

scikit-learn's scorers (``get_scorer(name)``, ``make_scorer(...)``) keep the metric, its keyword
arguments, its direction and the prediction it needs as private attributes of
``sklearn.metrics._scorer._BaseScorer`` (``_score_func``, ``_kwargs``, ``_sign``,
``_response_method``). varimp calls the metric itself on frozen predictions, so it must read
them; it does so only here, and a scorer that lacks one (a scikit-learn release that renamed it)
is refused with a message, never read with a default that could turn an error into a score.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from ..errors import InputError

_ATTRIBUTES = ("_score_func", "_kwargs", "_sign", "_response_method")


def is_scorer(scoring: object) -> bool:
    """Whether ``scoring`` is a scikit-learn scorer object."""
    if "sklearn" not in type(scoring).__module__:
        return False
    from sklearn.metrics._scorer import _BaseScorer

    return isinstance(scoring, _BaseScorer)


def _read(scorer: Any, attribute: str) -> Any:
    try:
        return getattr(scorer, attribute)
    except AttributeError:
        import sklearn

        raise InputError(
            f"the scikit-learn scorer ({type(scorer).__name__}) has no {attribute} (scikit-learn "
            f"{sklearn.__version__}); varimp reads {', '.join(_ATTRIBUTES)} of a scorer to call "
            "its metric and know its direction. Pass the metric as a varimp.scoring.Scorer "
            "instead") from None


def score_func(scorer: Any) -> Callable:
    """The metric ``f(y_true, y_pred, **kwargs)`` a scorer calls."""
    return _read(scorer, "_score_func")


def kwargs(scorer: Any) -> dict:
    """The keyword arguments a scorer passes to its metric."""
    return dict(_read(scorer, "_kwargs"))


def sign(scorer: Any) -> int:
    """+1 for a score (greater is better), -1 for an error."""
    return int(_read(scorer, "_sign"))


def response_methods(scorer: Any) -> tuple[str, ...]:
    """The prediction methods a scorer asks of an estimator, in order of preference."""
    method = _read(scorer, "_response_method")
    return (method,) if isinstance(method, str) else tuple(method)


def with_kwargs(scorer: Any, **extra: Any) -> Any:
    """A copy of ``scorer`` whose metric also receives ``extra``."""
    scorer = copy.copy(scorer)
    scorer._kwargs = {**kwargs(scorer), **extra}
    return scorer


def metric_module(scorer: Any) -> str:
    """The scikit-learn module of a scorer's metric (``sklearn.metrics._regression``, ...)."""
    return getattr(score_func(scorer), "__module__", "") or ""
