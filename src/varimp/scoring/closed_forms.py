"""Closed forms of the common metrics, and their per-row terms, used in place of scikit-learn
once checked equal to it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import _sklearn as sk

#: Rows on which a metric's closed form is checked against scikit-learn, once per call.
CHECK_ROWS = 2048
#: (metric, options, response, array ranks, labels' type and count) -> whether its closed
#: form equals scikit-learn's
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


def _row_mean(rows: Callable[[np.ndarray, np.ndarray], np.ndarray]
              ) -> Callable[[np.ndarray, np.ndarray], float]:
    """The metric that is the mean over samples of the per-row form ``rows``."""
    def metric(y: np.ndarray, pred: np.ndarray) -> float:
        return float(np.mean(rows(y, pred)))

    metric.__name__ = rows.__name__.replace("_rows", "")
    return metric


# Per-row forms: each sample's term of the closed forms above (averaged over output columns),
# whose mean over samples is the closed form. R2 is not a mean over samples; the metrics below
# accuracy are defined by their per-row form.
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


def _per_output(values: np.ndarray) -> np.ndarray:
    return values if values.ndim == 1 else values.mean(axis=1)


def _brier_rows(labels: np.ndarray, proba: np.ndarray) -> np.ndarray:
    """``sum_c (onehot - p)^2`` of every row, halved for two classes (scikit-learn's
    ``scale_by_half="auto"``: then ``(y - p_positive)^2``)."""
    picked = proba[np.arange(len(labels)), labels]
    values = (proba**2).sum(axis=1) - 2.0 * picked + 1.0
    return 0.5 * values if proba.shape[1] < 3 else values


def _squared_log_rows(y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    return _per_output((np.log1p(y) - np.log1p(pred)) ** 2)


def _absolute_percentage_rows(y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    return _per_output(np.abs(y - pred) / np.maximum(np.abs(y), np.finfo(np.float64).eps))


def _poisson_deviance_rows(y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    from scipy.special import xlogy

    return _per_output(2.0 * (xlogy(y, y / pred) - y + pred))


def _gamma_deviance_rows(y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    return _per_output(2.0 * (np.log(pred / y) + y / pred - 1.0))


_brier, _squared_log, _absolute_percentage, _poisson_deviance, _gamma_deviance = (
    _row_mean(rows) for rows in (_brier_rows, _squared_log_rows, _absolute_percentage_rows,
                                 _poisson_deviance_rows, _gamma_deviance_rows))

_ROW_FORMS = {_mse: _squared_rows, _mae: _absolute_rows, _log_loss: _log_loss_rows,
              _accuracy: _accuracy_rows, _brier: _brier_rows, _squared_log: _squared_log_rows,
              _absolute_percentage: _absolute_percentage_rows,
              _poisson_deviance: _poisson_deviance_rows, _gamma_deviance: _gamma_deviance_rows}

#: The scikit-learn scorers that are a mean over rows, whose closed form above splits them into
#: the rows' shares (``ci_level``, ``per_sample``).
ROW_MEAN_SCORERS = ("neg_mean_squared_error", "neg_mean_absolute_error",
                    "neg_mean_absolute_percentage_error", "neg_mean_squared_log_error",
                    "neg_mean_poisson_deviance", "neg_mean_gamma_deviance", "neg_log_loss",
                    "neg_brier_score", "accuracy")


def _closed_form(scorer: Any) -> Callable | None:
    """The closed form of a scorer's metric with default options, or None."""
    from sklearn import metrics

    forms = {metrics.mean_squared_error: _mse, metrics.mean_absolute_error: _mae,
             metrics.r2_score: _r2, metrics.log_loss: _log_loss,
             metrics.accuracy_score: _accuracy, metrics.brier_score_loss: _brier,
             metrics.mean_squared_log_error: _squared_log,
             metrics.mean_absolute_percentage_error: _absolute_percentage,
             metrics.mean_poisson_deviance: _poisson_deviance,
             metrics.mean_gamma_deviance: _gamma_deviance}
    func = sk.score_func(scorer)
    if func not in forms or set(sk.kwargs(scorer)) - {"labels"}:
        return None
    return forms[func]
