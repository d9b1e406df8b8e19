"""Closed forms of the common metrics, and their per-row terms, used in place of scikit-learn
once checked equal to it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

#: Rows on which a metric's closed form is checked against scikit-learn, once per call.
CHECK_ROWS = 2048
#: (metric, options, response, array ranks) -> whether its closed form equals scikit-learn's
_CHECKED: dict[tuple, bool] = {}


# The perturbation engine scores thousands of copies; scikit-learn's metrics validate their
# inputs on every call (about 0.2 ms for 20,000 rows, more than a small network's forward pass).
# For the common metrics the closed form is used instead, but only once it has given the same
# number as scikit-learn on the first copy of the call; anything else always goes through
# scikit-learn.
def _mse(y: np.ndarray, pred: np.ndarray) -> float:
    return float(np.mean((y - pred) ** 2))


def _mae(y: np.ndarray, pred: np.ndarray) -> float:
    return float(np.mean(np.abs(y - pred)))


def _r2(y: np.ndarray, pred: np.ndarray) -> float:
    y2, p2 = y.reshape(len(y), -1), pred.reshape(len(pred), -1)
    residual = ((y2 - p2) ** 2).sum(axis=0)
    total = ((y2 - y2.mean(axis=0)) ** 2).sum(axis=0)
    value = np.where(total > 0, 1.0 - residual / np.where(total > 0, total, 1.0),
                     np.where(residual == 0, 1.0, 0.0))
    return float(value.mean())


def _log_loss(labels: np.ndarray, proba: np.ndarray) -> float:
    eps = np.finfo(proba.dtype).eps
    picked = np.clip(proba[np.arange(len(labels)), labels], eps, 1.0 - eps)
    return float(-np.mean(np.log(picked)))


def _accuracy(labels: np.ndarray, proba: np.ndarray) -> float:
    return float(np.mean(proba.argmax(axis=1) == labels))


# Per-row forms: each sample's term of the closed forms above (averaged over output columns),
# whose mean over samples is the closed form. R2 is not a mean over samples.
def _squared_rows(y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    values = (y - pred) ** 2
    return values if values.ndim == 1 else values.mean(axis=1)


def _absolute_rows(y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    values = np.abs(y - pred)
    return values if values.ndim == 1 else values.mean(axis=1)


def _log_loss_rows(labels: np.ndarray, proba: np.ndarray) -> np.ndarray:
    eps = np.finfo(proba.dtype).eps
    return -np.log(np.clip(proba[np.arange(len(labels)), labels], eps, 1.0 - eps))


def _accuracy_rows(labels: np.ndarray, proba: np.ndarray) -> np.ndarray:
    return (proba.argmax(axis=1) == labels).astype(np.float64)


_ROW_FORMS = {_mse: _squared_rows, _mae: _absolute_rows, _log_loss: _log_loss_rows,
              _accuracy: _accuracy_rows}


def _closed_form(scorer: Any) -> Callable | None:
    """The closed form of a scorer's metric with default options, or None."""
    from sklearn import metrics

    forms = {metrics.mean_squared_error: _mse, metrics.mean_absolute_error: _mae,
             metrics.r2_score: _r2, metrics.log_loss: _log_loss,
             metrics.accuracy_score: _accuracy}
    func = getattr(scorer, "_score_func", None)
    kwargs = getattr(scorer, "_kwargs", {})
    if func not in forms or set(kwargs) - {"labels"}:
        return None
    return forms[func]
