"""A classifier's outputs as class probabilities: softmax or sigmoid of logits, and the check
that outputs read as probabilities are probabilities."""

from __future__ import annotations

import numpy as np

from ..errors import InputError


def probabilities(pred: np.ndarray, kind: str) -> np.ndarray:
    """Class probabilities ``(..., n_classes)`` from a classifier's outputs: softmax or
    sigmoid of logits; one probability ``p`` becomes ``(1 - p, p)``."""
    if kind == "logits":
        from scipy.special import expit, softmax  # on first use: importing varimp stays light

        pred = expit(pred) if pred.shape[-1] == 1 else softmax(pred, axis=-1)
    elif pred.shape[-1] > 1:  # float32 softmax rows sum to 1 only to about 1e-7
        pred = pred / pred.sum(axis=-1, keepdims=True)
    if pred.shape[-1] == 1:
        pred = np.concatenate([1.0 - pred, pred], axis=-1)
    return pred


def check_probabilities(pred: np.ndarray, multilabel: bool = False) -> None:
    """Outputs declared (or read) as probabilities must look like probabilities; those of one
    classifier sum to 1 over the classes (multi-label outputs need not)."""
    low, high = float(pred.min()), float(pred.max())
    if low < -1e-6 or high > 1 + 1e-6:
        raise InputError(f"the model's outputs are read as probabilities but range over "
                         f"[{low:.4g}, {high:.4g}]: pass output_kind='logits' if they are logits")
    if not multilabel and pred.shape[-1] > 1 and \
            not np.allclose(pred.sum(axis=-1), 1.0, atol=1e-3):
        raise InputError("the model's outputs are read as class probabilities but do not sum to "
                         "1 over the classes: pass output_kind='logits' if they are logits, or "
                         "output_kind='regression'; for independent probabilities (several "
                         "sigmoid outputs, multi-label), y must be multi-hot (n, outputs)")
