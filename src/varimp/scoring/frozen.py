"""Predictions frozen into estimators that a scikit-learn scorer reads as a fitted model's,
with the user's class labels in scikit-learn's order."""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import _sklearn as sk


class _Labels:
    """Class labels in the order of the model's outputs, as a scikit-learn scorer sees them:
    sorted, as every scikit-learn classifier's ``classes_`` is (a metric's ``labels`` and the
    columns of ``predict_proba`` follow that order), so that a scorer's ``pos_label`` is one of
    the user's labels and not a position."""

    def __init__(self, labels: Sequence):
        labels = list(labels)
        try:
            order = sorted(range(len(labels)), key=lambda i: labels[i])
        except TypeError:  # labels of several types: sorted as text, as numpy would hold them
            order = sorted(range(len(labels)), key=lambda i: str(labels[i]))
        #: the output index of each sorted label, and the sorted labels
        self.order = np.asarray(order, dtype=np.intp)
        self.names = np.asarray([labels[i] for i in order])
        self.rank = np.empty_like(self.order)
        self.rank[self.order] = np.arange(len(order))

    def of(self, index: np.ndarray) -> np.ndarray:
        """The labels of class indices (positions among the model's outputs)."""
        return self.names[self.rank[index]]


class _Values:
    """Frozen regression predictions, read by a scikit-learn scorer as an estimator's."""

    def __init__(self, values: np.ndarray):
        self.values = self.array = values

    def rows(self, rows: slice) -> _Values:
        return _Values(self.values[rows])

    def targets(self, y: np.ndarray) -> np.ndarray:
        return y

    def check_key(self) -> tuple:
        """What, besides the metric and the array ranks, a closed form's check depends on."""
        return ()

    def reference(self, scorer: Any) -> Any:
        """The scorer as scikit-learn is called with these predictions: as it is."""
        return scorer

    def estimator(self) -> Any:
        est = _frozen_classes()[0]()
        est.values_ = self.values
        return est


class _Classes:
    """Frozen class probabilities ``(m, n_classes)`` in the order of the model's outputs,
    read by a scikit-learn scorer as those of a classifier whose ``classes_`` are ``labels``
    sorted; :meth:`targets` turns class indices into those labels."""

    def __init__(self, proba: np.ndarray, labels: _Labels):
        self.proba = self.array = proba
        self.labels = labels

    def rows(self, rows: slice) -> _Classes:
        return _Classes(self.proba[rows], self.labels)

    def targets(self, y: np.ndarray) -> np.ndarray:
        return self.labels.of(y)

    def check_key(self) -> tuple:
        """What, besides the metric and the array ranks, a closed form's check depends on:
        the type of the labels (numbers or text) and how many classes there are."""
        return (self.labels.names.dtype.kind, len(self.labels.names))

    def reference(self, scorer: Any) -> Any:
        """The scorer as scikit-learn is called with these labels. For two classes, a metric
        whose ``pos_label`` defaults to None (the greater label, which scikit-learn infers
        for 0/1 and -1/1 labels only: ``brier_score_loss``) is given ``pos_label`` = the
        greater label ``classes_[1]``, whose probability column the scorer passes; with text
        labels scikit-learn would otherwise refuse to guess it."""
        if len(self.labels.names) != 2 or "pos_label" in sk.kwargs(scorer):
            return scorer
        try:
            default = inspect.signature(sk.score_func(scorer)).parameters.get("pos_label")
        except (TypeError, ValueError):
            return scorer
        if default is None or default.default is not None:
            return scorer
        return sk.with_kwargs(scorer, pos_label=self.labels.names[1])

    def estimator(self) -> Any:
        est = _frozen_classes()[1]()
        est.proba_ = self.proba[:, self.labels.order]
        est.classes_ = self.labels.names
        return est


_FROZEN: list = []


def _frozen_classes() -> list:
    """Two estimator classes that return stored predictions, built on first use so that
    importing varimp does not import scikit-learn."""
    if not _FROZEN:
        from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin

        class FrozenRegressor(RegressorMixin, BaseEstimator):
            def predict(self, X: np.ndarray) -> np.ndarray:
                return self.values_

        class FrozenClassifier(ClassifierMixin, BaseEstimator):
            def predict_proba(self, X: np.ndarray) -> np.ndarray:
                return self.proba_

            def predict(self, X: np.ndarray) -> np.ndarray:
                return self.classes_[self.proba_.argmax(axis=1)]

        _FROZEN.extend([FrozenRegressor, FrozenClassifier])
    return _FROZEN
