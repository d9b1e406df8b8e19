"""The score of predictions against targets for the selected outputs and step, decided once
per call (:class:`Evaluation`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import InputError
from . import _sklearn as sk
from .closed_forms import _CHECKED, _ROW_FORMS, CHECK_ROWS, _closed_form
from .frozen import _Classes, _Labels, _Values
from .probability import probabilities
from .scorers import (
    _classification_metric,
    _needs_probabilities,
    _regression_metric,
    _resolve_scorer,
    _scoring_name,
    _sign,
)
from .targets import Targets


class Evaluation:
    """The score of predictions against targets, for the selected outputs and step, decided
    once per call: ``loss(pred, rows)`` is ``-score`` of the predictions of ``rows``."""

    def __init__(self, scoring: object, targets: Targets, outputs: list[int],
                 step: int | None, n_outputs: int):
        self.targets, self.outputs, self.step = targets, list(outputs), step
        self.n_outputs = n_outputs
        self.scoring_name = _scoring_name(scoring, targets.kind)
        self.labels = _Labels(targets.classes or ())
        self.scorer = _resolve_scorer(scoring, targets, self.labels.names.tolist())
        self.one_vs_rest = _resolve_scorer(scoring, targets, [0, 1])
        self.binary_labels = _Labels((0, 1))  # of one class versus the rest, of one label
        self.regression_metric = _regression_metric(self.scorer)
        self.greater_is_better = _sign(self.scorer) > 0
        if not targets.classifier and _needs_probabilities(self.scorer):
            raise InputError(f"scoring {self.scoring_name!r} needs class probabilities, but the "
                             "model's outputs are read as regression values: pass "
                             "output_kind='probability' or 'logits' if the model is a classifier")
        if not targets.classifier and _classification_metric(self.scorer):
            raise InputError(f"scoring {self.scoring_name!r} compares class labels, but the "
                             "model's outputs are read as regression values (decided from the "
                             "model): pass output_kind='probability' or 'logits' if the model is "
                             "a classifier, or a regression scoring such as "
                             "'neg_mean_squared_error' or 'r2'")
        self._refuse_binary_auc()
        self._dummy: dict[int, np.ndarray] = {}
        #: per scorer: its closed form once checked equal to scikit-learn, None where it is not
        self._fast: dict[int, Callable | None] = {}
        self._y = self._select(targets.values)  # the targets of all rows, as the metric reads them

    def _refuse_binary_auc(self) -> None:
        """scikit-learn's ``roc_auc`` (``roc_auc_score`` with ``multi_class="raise"``) on more
        than two classes scored together: an InputError naming the multi-class variants, once
        per call (scikit-learn would say only that ``multi_class`` must be 'ovo' or 'ovr')."""
        function = getattr(self.scorer, "_score_func", None)
        if getattr(function, "__name__", "") != "roc_auc_score" or \
                getattr(self.scorer, "_kwargs", {}).get("multi_class", "raise") != "raise":
            return
        n_classes = len(self.labels.names)
        if not self.targets.classifier or self.targets.multilabel or n_classes <= 2 or \
                (len(self.outputs) != self.n_outputs and self.n_outputs != 1):
            return
        raise InputError(f"scoring {self.scoring_name!r} is the binary ROC AUC, and these "
                         f"targets hold {n_classes} classes scored together: pass "
                         f"scoring='roc_auc_ovr' (each class against the rest, averaged) or "
                         f"'roc_auc_ovo' (each pair of classes; both also '_weighted' by class "
                         f"frequency), or output= one class to score it against the rest")

    @property
    def measure(self) -> str:
        """What an importance measures, with its direction ("increase in log loss")."""
        name = self.scoring_name
        if name.startswith("neg_"):
            return f"increase in {name[4:].replace('_', ' ')}"
        if not self.greater_is_better:
            return f"increase in {name.replace('_', ' ')}"
        return f"drop in {name.replace('_', ' ')}"

    def score(self, pred: np.ndarray, rows: np.ndarray | None = None) -> float:
        """The score (greater is better) of canonical predictions of the rows ``rows``."""
        y = self._y if rows is None else self._select(self.targets.values[rows])
        try:
            if not self.targets.classifier:
                value = self._call(_Values(self._select(pred)), y)
            else:
                value = float(np.mean([self._classes(*problem)
                                       for problem in self._problems(pred, y)]))
        except InputError:
            raise
        except (ValueError, TypeError, AttributeError) as exc:
            raise InputError(f"scoring {self.scoring_name!r} failed on these targets and "
                             f"predictions: {str(exc).splitlines()[0]}") from exc
        if not np.isfinite(value):
            self._refuse_non_finite(value, y, pred)
        return value

    def _refuse_non_finite(self, value: float, y: np.ndarray, pred: np.ndarray) -> None:
        """A score that came out NaN or inf, which no importance can be computed from: an
        InputError saying how large the targets and predictions are (an error such as the
        squared error of targets near 1e200 overflows float64)."""
        sizes, advice = "", ("the scoring must return a finite number for these targets "
                             "and predictions")
        if not self.targets.classifier and np.size(y):
            largest = max(float(np.abs(y).max()), float(np.abs(pred).max()))
            sizes = f"; the targets reach {np.abs(y).max():.3g} in magnitude and the " \
                f"predictions {np.abs(pred).max():.3g}"
            if largest > 1e100:
                advice = ("values this large overflow the error's float64 arithmetic: rescale "
                          "y (and train the model on the rescaled targets)")
        raise InputError(f"scoring {self.scoring_name!r} gave {value} on these targets and "
                         f"predictions{sizes}, from which no importance can be computed: "
                         f"{advice}")

    def _problems(self, pred: np.ndarray, y: np.ndarray) -> list[tuple]:
        """The classification problems a classifier's score averages, each ``(probabilities
        (m, c), class indices (m,), scorer, labels)``: all classes together; or one binary
        problem per selected class (one versus rest) or per multi-label output."""
        if self.step is not None:
            pred = pred[:, [self.step]]
        binary = (self.one_vs_rest, self.binary_labels)
        if self.targets.multilabel:
            from scipy.special import expit

            proba = expit(pred) if self.targets.kind == "logits" else pred
            return [(_binary(proba[..., c].reshape(-1)), y[..., c].reshape(-1), *binary)
                    for c in self.outputs]
        proba = probabilities(pred, self.targets.kind)
        labels = y.reshape(-1)
        if len(self.outputs) == self.n_outputs or self.n_outputs == 1:
            return [(proba.reshape(-1, proba.shape[-1]), labels, self.scorer, self.labels)]
        return [(_binary(proba[..., c].reshape(-1)), (labels == c).astype(np.intp), *binary)
                for c in self.outputs]

    def _select(self, values: np.ndarray) -> np.ndarray:
        """Targets of the selected step; regression values of the selected outputs, flat."""
        if self.step is not None:
            values = values[:, [self.step]]
        if self.targets.classifier:
            return values
        if self.outputs != list(range(values.shape[2])):
            values = values[..., self.outputs]
        return _flat(values)

    def loss(self, pred: np.ndarray, rows: np.ndarray | None = None) -> float:
        return -self.score(pred, rows)

    @property
    def per_row(self) -> bool:
        """Whether the loss is a mean over the rows of X (:data:`~varimp.scoring.
        ROW_MEAN_SCORERS`: MSE, MAE, log loss, Brier score, accuracy...), so that
        :meth:`row_losses` splits it into the rows' shares. True once a loss has been computed
        with the metric's closed form, checked equal to scikit-learn's (an R2, a balanced
        accuracy, a ROC AUC or a user's metric is not a mean over rows)."""
        scorer = self._used_scorer()
        form = _closed_form(scorer)
        return form in _ROW_FORMS and self._fast.get(id(scorer)) is form

    def row_losses(self, pred: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Every row's share of :meth:`loss`, ``(m,)`` for the predictions of ``m`` rows:
        its mean over the row's predicted steps (and outputs, or classes for the Brier score),
        so that ``row_losses(pred, rows).mean()`` equals ``loss(pred, rows)`` to rounding.
        Only for a metric that is a mean over rows (:attr:`per_row`)."""
        m = pred.shape[0]
        y = self._y if rows is None else self._select(self.targets.values[rows])
        if not self.targets.classifier:
            values = _ROW_FORMS[_closed_form(self.scorer)](y, self._select(pred))
        else:
            values = np.mean([self._class_rows(proba, labels, scorer)
                              for proba, labels, scorer, _ in self._problems(pred, y)], axis=0)
        return -_sign(self.scorer) * values.reshape(m, -1).mean(axis=1)

    def _class_rows(self, proba: np.ndarray, labels: np.ndarray, scorer: Any) -> np.ndarray:
        if self.regression_metric:
            onehot = np.eye(proba.shape[1])[labels]
            return _ROW_FORMS[_closed_form(self.scorer)](_squeeze(onehot), _squeeze(proba))
        return _ROW_FORMS[_closed_form(scorer)](labels, proba)

    def _used_scorer(self) -> Any:
        """The scorer :meth:`score` calls: one-vs-rest for a subset of a classifier's classes
        and for multi-label outputs (unless the metric is a regression metric on
        probabilities)."""
        subset = self.targets.classifier and (self.targets.multilabel or (
            len(self.outputs) < self.n_outputs and self.n_outputs > 1))
        return self.one_vs_rest if subset and not self.regression_metric else self.scorer

    def _classes(self, proba: np.ndarray, labels: np.ndarray, scorer: Any,
                 names: _Labels) -> float:
        if self.regression_metric:  # e.g. MSE of probabilities and one-hot targets (Brier)
            onehot = np.eye(proba.shape[1])[labels]
            return self._call(_Values(_squeeze(proba)), _squeeze(onehot))
        return self._call(_Classes(proba, names), labels, scorer)

    def _call(self, frozen: Any, y: np.ndarray, scorer: Any = None) -> float:
        scorer = scorer or self.scorer
        fast = self._fast.get(id(scorer), False)
        if fast:
            return _sign(scorer) * fast(y, frozen.array)
        if fast is False:  # first call: check the closed form against scikit-learn, once per
            form = _closed_form(scorer)  # metric and process, on at most CHECK_ROWS rows
            key = (sk.score_func(scorer), frozenset(sk.kwargs(scorer)),
                   type(frozen), np.ndim(y), np.ndim(frozen.array), frozen.check_key())
            if form is not None and key not in _CHECKED:
                rows = slice(0, CHECK_ROWS)
                part = frozen.rows(rows)
                _CHECKED[key] = bool(np.isclose(
                    _sign(scorer) * form(y[rows], part.array),
                    self._sklearn(scorer, part, y[rows]), rtol=1e-9, atol=1e-12))
            self._fast[id(scorer)] = form if form is not None and _CHECKED[key] else None
            return self._call(frozen, y, scorer)
        return self._sklearn(scorer, frozen, y)

    def _sklearn(self, scorer: Any, frozen: Any, y: np.ndarray) -> float:
        m = y.shape[0]
        dummy = self._dummy.get(m)
        if dummy is None:
            dummy = self._dummy[m] = np.zeros((m, 1))
        return float(frozen.reference(scorer)(frozen.estimator(), dummy, frozen.targets(y)))


def _binary(p: np.ndarray) -> np.ndarray:
    return np.stack([1.0 - p, p], axis=-1)


def _flat(a: np.ndarray) -> np.ndarray:
    return _squeeze(a.reshape(-1, a.shape[-1]))


def _squeeze(a: np.ndarray) -> np.ndarray:
    return a[:, 0] if a.shape[1] == 1 else a
