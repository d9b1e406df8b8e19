"""Targets read once for the model's predictions: regression values, class indices through the
model's classes (labels of any type, one-hot rows) or multi-label 0/1 columns (multi-label
decided from the model: :func:`multilabel_outputs`); a kind read from the model is checked
against targets that look like classes (:mod:`varimp.scoring`)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError, VarImpError, describe

OUTPUT_KINDS = ("regression", "probability", "logits")
CLASSIFIER_KINDS = ("probability", "logits")


def check_output_kind(output_kind: object) -> str | None:
    if output_kind is None or output_kind in OUTPUT_KINDS:
        return output_kind
    raise InputError(f"output_kind must be one of {list(OUTPUT_KINDS)} or None (decided from the "
                     f"model); received {describe(output_kind)}")


@dataclass(frozen=True)
class Targets:
    """``y`` read once for the model's predictions ``(n, n_steps, n_outputs)``.

    Regression: ``values`` float ``(n, n_steps, n_outputs)``. Classifiers: ``values`` the class
    index of every sample and step, int ``(n, n_steps)``, and ``classes`` the labels.
    Multi-label (``multilabel``): ``values`` int ``(n, n_steps, n_outputs)`` of 0 and 1, each
    output a binary label, and ``classes`` ``(0, 1)``.
    """

    kind: str
    values: np.ndarray
    classes: tuple | None = None
    multilabel: bool = False

    @property
    def classifier(self) -> bool:
        return self.kind in CLASSIFIER_KINDS


def multilabel_outputs(adapter: Any, pred: np.ndarray) -> bool | None:
    """Whether a classifier's outputs are independent binary labels (multi-label), decided
    from the model, never from the values of ``y``.

    - One output, or outputs read as regression values: False.
    - Probabilities the model declares independent (:meth:`Adapter.multilabel
      <varimp.adapters.base.Adapter.multilabel>`: several Keras heads that each end in a
      sigmoid): True.
    - Other probabilities: the last layer of the network when varimp reads it (several sigmoid
      units, as a multi-label ``MLPClassifier`` or a ``Sigmoid`` after several units: True; a
      softmax: False); for a model whose layers varimp cannot read (a Pipeline, a callable, a
      custom ``forward``), whether its probabilities of X (``pred``, ``(n, steps, outputs)``)
      sum to 1 over the outputs, as a softmax's always do and independent sigmoids' do not.
    - Logits: None, "not decided by the model": logits do not say whether they feed one
      softmax or a sigmoid each; :func:`read_targets` then reads a multi-hot ``y`` (0/1 with
      some row that does not hold exactly one 1) as multi-label, any other ``y`` as the
      classes of one softmax classifier.
    """
    if adapter.output_kind not in CLASSIFIER_KINDS or pred.shape[-1] < 2:
        return False
    if adapter.output_kind == "logits":
        return None
    if (declared := adapter.multilabel()) is not None:
        return declared
    try:
        last = adapter.network().layers[-1]
    except VarImpError:  # layers varimp cannot read: what the probabilities add up to
        return not bool(np.allclose(pred.sum(axis=-1), 1.0, atol=1e-3))
    return last.activation == "sigmoid" and last.n_out > 1


def read_targets(y: np.ndarray, shape: tuple[int, int, int], kind: str,
                 classes: Sequence | None, *, inferred: bool = False,
                 multilabel: bool | None = False) -> Targets:
    """``y`` as regression values or class indices for predictions of ``shape``.

    ``inferred``: ``kind`` was read from the model, not given; a regression kind is then
    checked against targets that look like classes (:mod:`varimp.scoring`). ``multilabel``
    (:func:`multilabel_outputs`: decided from the model): True, the outputs are independent
    binary labels and ``y`` must be 0/1 of shape ``(n, outputs)`` or ``(n, steps, outputs)``
    (a row with one label, or none, is a valid multi-label row); False, the outputs are the
    classes of one classifier (a 0/1 ``y`` with a row that does not hold exactly one 1 is
    refused); None (logits), a multi-hot ``y`` is read as multi-label.
    """
    n, steps, outputs = shape
    y = np.asarray(y)
    if kind not in CLASSIFIER_KINDS:
        values = _regression_targets(y, shape, inferred)
        if inferred:
            _check_values_are_not_classes(y, outputs)
        return Targets(kind, values)
    if multilabel or (multilabel is None and multi_hot(y, n, steps, outputs)):
        return Targets(kind, _multi_hot_values(y, shape), (0, 1), True)
    labels = _class_labels(classes, outputs)
    if multilabel is False:
        _check_not_multi_hot(y, steps, outputs)
    return Targets(kind, _class_indices(y, n, steps, outputs, labels), labels)


def _multi_hot_values(y: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """Multi-label targets ``(n, steps, outputs)`` of 0 and 1 (booleans included)."""
    n, steps, outputs = shape
    shapes = ((n, steps, outputs),) + (((n, outputs),) if steps == 1 else ())
    if y.shape not in shapes:
        want = " or ".join(str(s) for s in shapes)
        raise InputError(f"the model's {outputs} outputs are independent binary labels "
                         f"(multi-label: several sigmoid outputs, decided from the model), so y "
                         f"must be 0/1 of shape {want}, one column per label; received y of "
                         f"shape {y.shape}")
    if y.dtype.kind not in "biuf" or not bool(np.all((y == 0) | (y == 1))):
        shown = np.unique(y.astype(str))[:6].tolist()
        raise InputError(f"the model's {outputs} outputs are independent binary labels "
                         f"(multi-label: several sigmoid outputs, decided from the model), so y "
                         f"must hold 0 and 1 only (1: the label is present); received values "
                         f"{shown}")
    return y.reshape(n, steps, outputs).astype(np.intp)


def _check_not_multi_hot(y: np.ndarray, steps: int, outputs: int) -> None:
    """A 0/1 table with one column per class for one classifier must be one-hot: say which row
    is not (a row with no class, or several) and why multi-label does not apply."""
    tables = (((outputs,),) if steps == 1 else ()) + ((steps, outputs),)  # (n, steps): labels
    if outputs < 2 or y.shape[1:] not in tables or y.dtype.kind not in "biuf" or \
            not bool(np.all((y == 0) | (y == 1))):
        return
    counts = y.reshape(y.shape[0], -1, outputs).sum(axis=-1)
    bad = np.argwhere(counts != 1)
    if bad.size:
        row = int(bad[0][0])
        raise InputError(
            f"y is a 0/1 table with one column per class (shape {y.shape}), but row {row} holds "
            f"{int(counts[tuple(bad[0])])} ones ({bad.shape[0]} row(s) or cell(s) do not hold "
            f"exactly one): the model's {outputs} outputs are the class probabilities of one "
            "classifier (a softmax, decided from the model), so every row needs exactly one "
            "class; a multi-label model has one sigmoid output per label")


def _check_values_are_not_classes(y: np.ndarray, outputs: int) -> None:
    """Outputs read from the model as regression values, with targets that look like classes:
    one-hot labels for several outputs are refused, two distinct values (0/1, 1/2, -1/1...)
    for one output warned about."""
    if outputs > 1 and y.ndim in (2, 3) and y.shape[-1] == outputs and _one_hot(y):
        raise InputError(
            f"y is one-hot (shape {y.shape}, a single 1 in every row) but the model's {outputs} "
            "outputs are read as regression values (decided from the model: its last layer is "
            "no softmax or sigmoid), and logits scored by MSE against one-hot labels mean "
            "nothing: pass output_kind='logits' (e.g. trained with CrossEntropyLoss) or "
            "output_kind='probability' for a classifier, or output_kind='regression' to score "
            "these 0/1 columns as values")
    values = np.unique(y) if outputs == 1 and y.dtype.kind in "biuf" else ()
    if len(values) == 2 and y.size > 2:  # two rows always hold two values at most
        shown = " and ".join(f"{v:g}" for v in values.tolist())
        warnings.warn(
            f"y holds two distinct values only ({shown}), as class labels do, but the model's "
            "output is read as a regression value (decided from the model: its last layer is "
            "no sigmoid), so it is scored as a regression (mean squared error by default); "
            "pass output_kind='logits' if the model returns a logit (e.g. trained with "
            "BCEWithLogitsLoss), output_kind='probability' if it returns a probability, or "
            "output_kind='regression' to keep this scoring without this warning",
            UserWarning, stacklevel=2)


def multi_hot(y: np.ndarray, n: int, steps: int, outputs: int) -> bool:
    """Multi-label targets: 0/1 of shape ``(n, outputs)`` (one predicted step) or ``(n, steps,
    outputs)``, with some row that is not one-hot (else they are the classes of one label)."""
    shapes = ((n, steps, outputs),) + (((n, outputs),) if steps == 1 else ())
    return outputs > 1 and y.shape in shapes and y.dtype.kind in "biuf" and \
        bool(np.all((y == 0) | (y == 1))) and not bool(np.all(y.sum(axis=-1) == 1))


def _class_labels(classes: Sequence | None, outputs: int) -> tuple:
    n_classes = max(outputs, 2)
    if classes is None:
        return tuple(range(n_classes))
    labels = tuple(np.asarray(classes).tolist())
    if len(labels) != n_classes or len(set(labels)) != len(labels):
        raise InputError(f"classes must list the {n_classes} distinct class labels in the order of "
                         f"the model's outputs{' (negative, positive)' if outputs == 1 else ''}; "
                         f"received {describe(classes)}")
    return labels


#: Why outputs are read as regression values: given (False) or read from the model (True).
_REGRESSION_WHY = {False: "output_kind='regression' was given",
                   True: "decided from the model: its last layer is no softmax or sigmoid"}


def check_classes_apply(kind: str, classes: object, inferred: bool) -> None:
    """``classes=`` names the outputs of a classifier: given for outputs read as regression
    values (``kind``; ``inferred``: read from the model, not given) it would be ignored by
    every method, so it is an InputError that names the options for a classifier."""
    if classes is None or kind in CLASSIFIER_KINDS:
        return
    raise InputError(
        f"classes={list(np.asarray(classes).tolist())[:10]} was given, but classes name the "
        f"outputs of a classifier and this model's outputs are read as regression values "
        f"({_REGRESSION_WHY[inferred]}): if the model is a classifier, pass "
        "output_kind='logits' (it returns logits, e.g. trained with CrossEntropyLoss) or "
        "output_kind='probability' (it returns probabilities) with classes=; for a regression "
        "model leave classes out")


def _regression_targets(y: np.ndarray, shape: tuple[int, int, int],
                        inferred: bool = False) -> np.ndarray:
    n, steps, outputs = shape
    if y.dtype.kind == "f" and outputs > 1 and steps == 1 and \
            (y.ndim == 1 or y.shape[1:] == (1,)) and not np.all(np.mod(y, 1) == 0):
        raise InputError(f"y holds one value per sample (shape {y.shape}) but the model has "
                         f"{outputs} outputs: pass y of shape (n, {outputs}), one column per "
                         "output (output= then chooses the output(s) to explain)")
    if y.dtype.kind not in "biuf" or (outputs > 1 and steps == 1 and
                                       (y.ndim == 1 or y.shape[1:] == (1,))):
        raise InputError(
            f"y holds class labels (shape {y.shape}, values "
            f"{np.unique(y.astype(str))[:6].tolist()}) but the model's {outputs} output(s) are "
            f"read as regression values ({_REGRESSION_WHY[inferred]}): pass "
            "output_kind='logits' if the model returns logits (e.g. trained with "
            "CrossEntropyLoss), or output_kind='probability' if it returns probabilities")
    y = y.astype(np.float64)
    if y.ndim == 1 and steps * outputs == 1:
        return y.reshape(n, 1, 1)
    if y.ndim == 2 and outputs == 1 and y.shape[1] == steps:
        return y.reshape(n, steps, 1)
    if y.ndim == 2 and steps == 1 and y.shape[1] == outputs:
        return y.reshape(n, 1, outputs)
    if y.ndim == 3 and y.shape == (n, steps, outputs):
        return y
    if steps > 1 and (y.ndim == 1 or y.shape[1:] == (1,)):
        want = f"(n, {steps})" if outputs == 1 else f"(n, {steps}, {outputs})"
        raise InputError(f"the model predicts {steps} steps per sequence (predictions of shape "
                         f"(n, steps, outputs) = {shape}), and y holds one value per sample "
                         f"(shape {y.shape}): y needs the targets of every predicted step, "
                         f"shape {want}; output_step= then picks the step that is scored (and "
                         f"explained)")
    accepted = (f"(n, {steps})" + (f" or (n, {steps}, {outputs})" if outputs > 1 else "")
                if steps > 1 else f"(n,) or (n, {outputs})" if outputs > 1 else "(n,) or (n, 1)")
    raise InputError(f"y must match the model's predictions of shape (n, steps, outputs) = "
                     f"{shape}: {accepted}; received y of shape {y.shape}")


def _class_indices(y: np.ndarray, n: int, steps: int, outputs: int, labels: tuple
                   ) -> np.ndarray:
    n_classes = len(labels)
    if y.ndim >= 2 and y.shape[-1] == n_classes and outputs > 1 and y.shape[1:] in (
            (n_classes,), (steps, n_classes)) and _one_hot(y):
        return y.reshape(n, steps, n_classes).argmax(axis=-1)
    if y.ndim == 3 and y.shape[-1] == 1:
        y = y[..., 0]
    if y.ndim == 2 and y.shape[1] == 1 and steps == 1:
        y = y[:, 0]
    if not ((y.ndim == 1 and steps == 1) or (y.ndim == 2 and y.shape[1] == steps)):
        picks = "; output_step= then picks the step that is scored" if steps > 1 else ""
        shapes = f"(n, {steps})" if steps > 1 else "(n,) or (n, 1)"
        raise InputError(f"y for a classifier predicting {steps} step(s) must hold one class label "
                         f"per sample{' and step' if steps > 1 else ''}: shape {shapes}, or "
                         f"one-hot (n, {f'{steps}, ' if steps > 1 else ''}{n_classes}); received "
                         f"shape {y.shape}{picks}")
    index = {label: i for i, label in enumerate(labels)}
    flat = y.reshape(-1).tolist()
    unknown = sorted({str(v) for v in flat if _key(v) not in index})
    if unknown and y.dtype.kind == "f" and not np.all(np.mod(y, 1) == 0):
        raise InputError(f"y holds values such as {unknown[:6]} that are not class labels, but "
                         f"the model's outputs are read as class probabilities (decided from "
                         f"the model: a softmax or sigmoid last layer, predict_proba): pass "
                         f"output_kind='regression' if the model predicts a value (e.g. a "
                         f"proportion in [0, 1]); for a classifier, y holds labels among "
                         f"{list(labels)[:10]} (classes=)")
    if unknown:
        raise InputError(f"y holds labels {unknown[:6]} that are not among the model's classes "
                         f"{list(labels)[:10]}; pass classes= in the order of the model's "
                         "outputs")
    return np.array([index[_key(v)] for v in flat], dtype=np.intp).reshape(n, steps)


def _key(value: object) -> object:
    """A label as a dict key: 1.0 finds the class 1, numpy scalars find Python ones."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _one_hot(y: np.ndarray) -> bool:
    return y.dtype.kind in "biuf" and bool(np.all((y == 0) | (y == 1))) and \
        bool(np.all(y.sum(axis=-1) == 1))
