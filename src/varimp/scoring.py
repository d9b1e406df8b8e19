"""Error measures for the methods that compare predictions with targets.

Every measure works on targets and predictions aligned to the canonical prediction shape
``(n, n_steps, n_outputs)`` (see :func:`align_targets`) and is turned into a *loss* (lower is
better) by :meth:`Scorer.loss`, so that an importance is always "how much worse the model
gets": the increase of MSE, MAE or log loss, the drop of R2 or accuracy.

Names: ``"mse"``, ``"mae"``, ``"r2"``, ``"accuracy"``, ``"log_loss"``, ``"auto"`` (log loss when
the predictions are probabilities, all in [0, 1], and the targets are 0/1; else MSE), a
callable ``f(y_true, y_pred) -> float`` read as an error (lower is better, like
``sklearn.metrics.mean_squared_error``; it receives ``(m,)`` arrays for one output at one step,
else ``(m, n_steps * n_outputs)``), or a :class:`Scorer` for anything else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .errors import InputError, describe

EPS = 1e-15
NAMES = ("auto", "mse", "mae", "r2", "accuracy", "log_loss")


@dataclass(frozen=True)
class Scorer:
    """An error measure or score of aligned ``(y, pred)``, with its direction."""

    name: str
    function: Callable[[np.ndarray, np.ndarray], float]
    greater_is_better: bool = False

    def __call__(self, y: np.ndarray, pred: np.ndarray) -> float:
        return float(self.function(y, pred))

    def loss(self, y: np.ndarray, pred: np.ndarray) -> float:
        """The measure as a loss: its value, negated when greater is better."""
        value = self(y, pred)
        return -value if self.greater_is_better else value


def mse(y: np.ndarray, pred: np.ndarray) -> float:
    return float(np.mean((y - pred) ** 2))


def mae(y: np.ndarray, pred: np.ndarray) -> float:
    return float(np.mean(np.abs(y - pred)))


def r2(y: np.ndarray, pred: np.ndarray) -> float:
    """Coefficient of determination of every output over samples and steps pooled, averaged
    over outputs (a constant target scores 1 when predicted exactly, else 0, as in sklearn)."""
    y2 = y.reshape(-1, y.shape[-1])
    p2 = pred.reshape(-1, pred.shape[-1])
    residual = ((y2 - p2) ** 2).sum(axis=0)
    total = ((y2 - y2.mean(axis=0)) ** 2).sum(axis=0)
    safe = np.where(total > 0, total, 1.0)
    value = np.where(total > 0, 1.0 - residual / safe, np.where(residual == 0, 1.0, 0.0))
    return float(value.mean())


def _categorical(y: np.ndarray, pred: np.ndarray) -> bool:
    """Several outputs that are class probabilities (rows sum to 1) with one-hot targets."""
    return pred.shape[-1] > 1 and np.allclose(pred.sum(axis=-1), 1.0, atol=1e-4) and \
        np.allclose(y.sum(axis=-1), 1.0) and bool(np.all((y == 0) | (y == 1)))


def _check_binary(y: np.ndarray, what: str) -> None:
    if not np.all((y == 0) | (y == 1)):
        raise InputError(f"{what} needs 0/1 targets or class labels; received targets with "
                         f"values {np.unique(y)[:6].tolist()}")


def accuracy(y: np.ndarray, pred: np.ndarray) -> float:
    """Share of correct classes: the largest probability for several class outputs, else a
    0.5 threshold on each output."""
    _check_binary(y, "accuracy")
    if _categorical(y, pred):
        return float(np.mean(pred.argmax(axis=-1) == y.argmax(axis=-1)))
    return float(np.mean((pred >= 0.5) == (y >= 0.5)))


def log_loss(y: np.ndarray, pred: np.ndarray) -> float:
    """Cross-entropy: categorical for several class outputs, else binary per output;
    probabilities clipped to ``[1e-15, 1 - 1e-15]``."""
    _check_binary(y, "log_loss")
    p = np.clip(pred, EPS, 1.0 - EPS)
    if _categorical(y, pred):
        return float(-np.mean((y * np.log(p)).sum(axis=-1)))
    return float(-np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p)))


_SCORERS = {
    "mse": Scorer("mse", mse),
    "mae": Scorer("mae", mae),
    "r2": Scorer("r2", r2, greater_is_better=True),
    "accuracy": Scorer("accuracy", accuracy, greater_is_better=True),
    "log_loss": Scorer("log_loss", log_loss),
}


def _callable(function: Callable) -> Scorer:
    def flat(y: np.ndarray, pred: np.ndarray) -> float:
        m = y.shape[0]
        if y[0].size == 1:
            return function(y.reshape(m), pred.reshape(m))
        return function(y.reshape(m, -1), pred.reshape(m, -1))

    return Scorer(getattr(function, "__name__", "callable"), flat)


def probabilities(y: np.ndarray, pred: np.ndarray) -> bool:
    """Predictions in [0, 1] with 0/1 targets: what ``"auto"`` scores by log loss."""
    return bool(np.all((pred >= 0) & (pred <= 1)) and np.all((y == 0) | (y == 1)))


def check_scoring(scoring: object) -> object:
    """Reject an unknown scoring at the door, before any prediction is made."""
    if isinstance(scoring, Scorer) or (isinstance(scoring, str) and scoring in NAMES) or \
            (callable(scoring) and not isinstance(scoring, str)):
        return scoring
    raise InputError(f"scoring must be one of {list(NAMES)}, a callable f(y_true, y_pred) or a "
                     f"varimp.scoring.Scorer; received {describe(scoring)}")


def get_scorer(scoring: object, y: np.ndarray, pred: np.ndarray) -> Scorer:
    """The scorer for ``scoring``; ``"auto"`` looks at aligned targets and predictions."""
    if isinstance(scoring, Scorer):
        return scoring
    if isinstance(scoring, str) and scoring in NAMES:
        if scoring == "auto":
            return _SCORERS["log_loss" if probabilities(y, pred) else "mse"]
        scorer = _SCORERS[scoring]
        if scoring in ("accuracy", "log_loss"):
            _check_binary(y, scoring)
        return scorer
    return _callable(check_scoring(scoring))


def align_targets(y: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``y`` in the canonical prediction shape ``(n, n_steps, n_outputs)``.

    Accepted: ``(n,)`` for one output at one step, or class labels ``0..k-1`` when the model
    predicts ``k`` class probabilities (one-hot encoded here); ``(n, n_steps)`` for one output
    per step; ``(n, n_outputs)``; ``(n, n_steps, n_outputs)``.
    """
    n, steps, outputs = shape
    y = np.asarray(y, dtype=np.float64)
    if y.ndim == 1 and steps * outputs == 1:
        return y.reshape(n, 1, 1)
    if y.ndim == 1 and steps == 1 and outputs > 1:
        labels = np.arange(outputs)
        if np.all(np.isin(y, labels)):
            return (y[:, None] == labels).astype(np.float64).reshape(n, 1, outputs)
        raise InputError(f"y of shape (n,) with a model of {outputs} outputs must hold class "
                         f"labels 0..{outputs - 1}; received values {np.unique(y)[:6].tolist()}")
    if y.ndim == 2 and outputs == 1 and y.shape[1] == steps:
        return y.reshape(n, steps, 1)
    if y.ndim == 2 and steps == 1 and y.shape[1] == outputs:
        return y.reshape(n, 1, outputs)
    if y.ndim == 3 and y.shape == (n, steps, outputs):
        return y
    raise InputError(f"y must match the model's predictions of shape (n, steps, outputs) = "
                     f"{shape}: (n,), (n, steps), (n, outputs) or (n, steps, outputs); received "
                     f"y of shape {y.shape}")
