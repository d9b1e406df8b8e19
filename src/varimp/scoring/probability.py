"""A classifier's outputs as class probabilities: softmax or sigmoid of logits (for the
metrics, and for the methods that explain the outputs themselves), and the check that outputs
read as probabilities are probabilities."""

from __future__ import annotations

import numpy as np

from ..errors import InputError
from .targets import multi_hot

#: What the methods that read the outputs themselves (partial derivatives, profile,
#: perturbation without ``y``) explain, by the link from the outputs to probabilities.
EXPLAINED = {
    None: "the model's outputs as they are ({kind})",
    "softmax": "class probabilities (softmax of the logits)",
    "sigmoid": "probabilities (sigmoid of each logit)",
}


def logit_link(kind: str, shape: tuple[int, int, int], y: np.ndarray | None = None
               ) -> str | None:
    """How outputs of ``kind`` become probabilities for the methods that read the outputs
    themselves: None (regression values and probabilities are explained as they are);
    for logits, ``"sigmoid"`` for one logit (the positive class) or several logits with a
    multi-hot ``y`` (multi-label, as :func:`varimp.scoring.read_targets` reads them), else
    ``"softmax"`` (the classes of one classifier). ``shape`` is that of the predictions,
    ``(n, steps, outputs)``. A softmax does not identify logits (adding any function of the
    input to every logit changes no probability), so they are never explained raw."""
    if kind != "logits":
        return None
    if shape[2] == 1 or (y is not None and multi_hot(np.asarray(y), *shape)):
        return "sigmoid"
    return "softmax"


def link_probabilities(pred: np.ndarray, link: str | None) -> np.ndarray:
    """Predictions ``(..., outputs)`` through ``link`` (:func:`logit_link`), shape kept."""
    if link is None:
        return pred
    from scipy.special import expit, softmax  # on first use: importing varimp stays light

    return expit(pred) if link == "sigmoid" else softmax(pred, axis=-1)


def probabilities(pred: np.ndarray, kind: str) -> np.ndarray:
    """Class probabilities ``(..., n_classes)`` from a classifier's outputs: softmax or
    sigmoid of logits; one probability ``p`` becomes ``(1 - p, p)``."""
    if kind == "logits":
        pred = link_probabilities(pred, "sigmoid" if pred.shape[-1] == 1 else "softmax")
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
