"""The held-out rows on which a retrained network is judged, and its error there: one random
validation split or the folds of ``cv`` (stratified for a classifier, never leaving a training
part a single class), and :class:`HeldOutLoss`, the ``evaluate`` that the retraining engine runs
on each worker. Shared by the stepwise methods (:mod:`varimp.methods.retraining`) and the
refitted networks of :mod:`varimp.stats`."""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..engines.retrain import FitData
from ..engines.tasks import generator
from ..errors import InputError, ModelError, describe
from ..refit import check_fraction
from ..scoring import Evaluation, Targets, check_probabilities, read_targets
from ._common import Setup


def predictions_like(model: object, X: np.ndarray, output_kind: str, classes: tuple | None,
                     shape: tuple[int, ...], batch_size: int | None = None) -> np.ndarray:
    """A refitted model's predictions of ``X``, read as the given model's are (its output kind
    and classes), ``(n, steps, outputs)``.

    Raises
    ------
    ModelError
        The refitted model predicts another number of steps or outputs per sample than the
        given model's ``shape``: the fit does not return a model like the given one.
    """
    from ..adapters import adapt

    adapter = adapt(model).configure(output_kind=output_kind, classes=classes)
    pred = adapter.predict(X, batch_size)
    if pred.shape[1:] != tuple(shape):
        raise ModelError(f"the refitted model predicts (steps, outputs) = {pred.shape[1:]} "
                         f"per sample where the given model predicts {tuple(shape)}; fit "
                         "must return a model like the given one")
    return pred


@dataclass(frozen=True)
class HeldOutLoss:
    """``evaluate(model, data)`` for the retraining engine: the loss (``-score``) of a refitted
    model's predictions of the held-out rows ``data.X_test`` against ``data.y_test``, on the
    outputs and predicted step selected for the given model, as an array: that loss first,
    then, with ``per_output``, each selected output's own loss from the same predictions.
    ``multilabel``: the targets are multi-label, as decided once from the given model and
    its targets (:func:`varimp.scoring.multilabel_outputs`). Pickled to the workers."""

    scoring: Any
    output_kind: str
    classes: tuple | None
    outputs: tuple[int, ...]
    step: int | None
    shape: tuple[int, int]  # (predicted steps, outputs) of the given model
    batch_size: int | None = None
    multilabel: bool = False
    per_output: bool = False

    def __call__(self, model: object, data: FitData) -> np.ndarray:
        pred = predictions_like(model, data.X_test, self.output_kind, self.classes, self.shape,
                                self.batch_size)
        if self.output_kind == "probability":
            check_probabilities(pred, multilabel=self.multilabel)
        targets = read_targets(data.y_test, pred.shape, self.output_kind, self.classes,
                               multilabel=self.multilabel)
        selections = [list(self.outputs)] + \
            ([[k] for k in self.outputs] if self.per_output else [])
        return np.array([Evaluation(self.scoring, targets, selected, self.step,
                                    pred.shape[2]).loss(pred) for selected in selections])


def class_indices(targets: Targets) -> tuple[np.ndarray, tuple] | None:
    """For a classifier, the class index of every row and predicted step ``(n, steps)`` and
    the class labels; None for a regression or multi-label model."""
    if not targets.classifier or targets.multilabel:
        return None
    return targets.values, targets.classes


#: One fold: the rows a fit trains on and the rows it is judged on (sorted, distinct).
Fold = tuple[np.ndarray, np.ndarray]


def held_out_folds(cv: object, validation_fraction: object, setup: Setup, seed: int,
                   classes: tuple[np.ndarray, tuple] | None = None) -> list[Fold]:
    """The ``(train, test)`` rows of every fold: one random validation split (train: the other
    rows), or ``cv``'s folds as it gives them: a time-series split trains on the past of each
    fold only, an explicit ``(train, test)`` list on exactly its train rows, an int ``cv`` or a
    ``KFold`` on every row not held out.

    ``classes`` (a classifier's class indices and labels, :func:`class_indices`): an int
    ``cv`` is stratified (scikit-learn's ``check_cv(cv, y, classifier=True)``:
    ``StratifiedKFold`` for one label per row), and a fold whose training rows hold a single
    class is an :class:`~varimp.InputError` that blames the folds."""
    n = setup.data.n_samples
    if cv is None:
        fraction = check_fraction(validation_fraction, "validation_fraction")
        held = min(n - 1, max(1, round(fraction * n)))
        order = generator(seed, 0).permutation(n)
        folds = [(np.sort(order[held:]), np.sort(order[:held]))]
    else:
        folds = _cv_folds(cv, setup, classes)
    if classes is not None:
        _check_classes_in_training(folds, classes, cv, validation_fraction)
    return folds


def _cv_folds(cv: object, setup: Setup, classes: tuple[np.ndarray, tuple] | None
              ) -> list[Fold]:
    from sklearn.model_selection import check_cv

    n = setup.data.n_samples
    if isinstance(cv, numbers.Integral) and not isinstance(cv, bool) and not 2 <= cv <= n:
        raise InputError(f"cv must be an int in [2, n_samples = {n}], a cross-validation "
                         f"splitter or an iterable of (train, test) rows; received {cv!r}")
    # one class label per row stratifies an int cv (several per row: plain KFold)
    one_label = classes is not None and classes[0].shape[1] == 1
    labels = classes[0][:, 0] if one_label else setup.data.y
    try:
        splitter = check_cv(cv, labels, classifier=classes is not None)
        flat = setup.data.X.reshape(n, -1)
        folds = [(_rows(train), _rows(test)) for train, test in splitter.split(flat, labels)]
    except InputError:
        raise
    except (TypeError, ValueError) as exc:
        raise InputError(f"cv must be an int, a cross-validation splitter or an iterable of "
                         f"(train, test) rows; received {describe(cv)}: {exc}") from exc
    bad = [k for k, (train, test) in enumerate(folds)
           if train.size == 0 or test.size == 0 or min(train.min(), test.min()) < 0
           or max(train.max(), test.max()) >= n or np.intersect1d(train, test).size]
    if not folds or bad:
        sizes = [(train.size, test.size) for train, test in folds]
        raise InputError(f"every fold of cv must train on some of the {n} rows and hold out "
                         f"others, disjoint, as row indices in [0, {n}); received folds of "
                         f"(train, test) sizes {sizes}"
                         + (f", fold {bad[0] + 1} wrong" if bad else ""))
    return folds


def _rows(rows: object) -> np.ndarray:
    """A fold's rows as sorted distinct indices (a boolean mask becomes its indices)."""
    array = np.asarray(rows)
    if array.dtype == bool:
        array = np.flatnonzero(array)
    if array.ndim != 1 or (array.size and array.dtype.kind not in "iu"):
        raise InputError(f"every fold of cv must give its train and test rows as integer row "
                         f"indices (or boolean masks); received {describe(rows)}")
    return np.unique(array.astype(np.intp))


def _check_classes_in_training(folds: list[Fold], classes: tuple[np.ndarray, tuple],
                               cv: object, validation_fraction: object) -> None:
    """A classifier cannot be trained on one class: refuse folds that leave it one."""
    indices, labels = classes
    for k, (train, _) in enumerate(folds):
        present = np.unique(indices[train])
        if present.size < 2:
            which = f"fold {k + 1} of cv={describe(cv)}" if cv is not None else (
                f"the validation split (validation_fraction={validation_fraction})")
            raise InputError(
                f"{which} leaves a single class, {labels[present[0]]!r}, in the rows a "
                f"classifier is trained on (classes {list(labels)}); no fit can learn from "
                "one class: give folds that keep at least two classes in every training part "
                "(an int cv is stratified for a classifier: scikit-learn's StratifiedKFold)")
