"""Error measures for the methods that compare predictions with targets, as scikit-learn scores.

What the model predicts is decided once, from the model, never from the values of the data:
its *output kind* is ``"regression"`` (values), ``"probability"`` (a softmax or sigmoid last
layer, ``predict_proba``) or ``"logits"`` (declared with ``output_kind="logits"``; turned into
probabilities by a softmax over several outputs, a sigmoid for one). Targets are read
accordingly: numbers for regression; class labels of any type for classifiers, mapped through
the model's classes (``classes=``, else ``classes_``, else ``0..k-1``; a single probability or
logit is the positive class ``classes[1]`` of two).

``scoring`` is any scikit-learn scorer name (``"neg_mean_squared_error"``, ``"r2"``,
``"neg_log_loss"``, ``"accuracy"``, ``"balanced_accuracy"``, ``"roc_auc"``, ...), a scorer
object (``sklearn.metrics.make_scorer``), or a :class:`Scorer` wrapping a metric
``f(y_true, y_pred)`` with its direction stated. The short names ``"mse"``, ``"mae"`` and
``"log_loss"`` are kept. ``"auto"`` (the default) is ``"neg_log_loss"`` for classifiers and
``"neg_mean_squared_error"`` for regression. Metrics receive what scikit-learn metrics receive:
``(m,)`` or ``(m, n_outputs)`` arrays of values, ``(m,)`` labels and ``(m, n_classes)``
probabilities; predicted steps of a sequence model count as samples. A regression metric on a
classifier compares probabilities with one-hot targets (MSE is then the Brier score).

Several outputs (the rule shared by every method): a regression error is the mean over the
selected outputs (``multioutput="uniform_average"``); the class probabilities of a classifier
are scored together, and selecting some classes scores each one-vs-rest and takes the mean.
Every score is turned into a loss (``-score``), so an importance is "how much worse the model
gets": an increase of MSE or log loss, a drop of R2, accuracy or ROC AUC.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import InputError, describe

OUTPUT_KINDS = ("regression", "probability", "logits")
CLASSIFIER_KINDS = ("probability", "logits")
ALIASES = {"mse": "neg_mean_squared_error", "mae": "neg_mean_absolute_error",
           "log_loss": "neg_log_loss"}
#: Rows on which a metric's closed form is checked against scikit-learn, once per call.
CHECK_ROWS = 2048
#: (metric, options, response, array ranks) -> whether its closed form equals scikit-learn's
_CHECKED: dict[tuple, bool] = {}
DEFAULT_SCORING = {"regression": "neg_mean_squared_error", "probability": "neg_log_loss",
                   "logits": "neg_log_loss"}


@dataclass(frozen=True)
class Scorer:
    """A metric ``function(y_true, y_pred) -> float`` with its direction.

    ``greater_is_better=True`` for a score (R2, accuracy), False for an error (MSE).
    ``response="predict"`` passes predicted values (regression) or labels (classifiers);
    ``"proba"`` passes class probabilities, ``(m,)`` for two classes (of the positive class)
    or ``(m, n_classes)``. Equivalent to ``sklearn.metrics.make_scorer`` with
    ``response_method="predict"`` or ``"predict_proba"``.
    """

    function: Callable[[np.ndarray, np.ndarray], float]
    greater_is_better: bool
    response: str = "predict"
    name: str | None = None

    def __post_init__(self) -> None:
        if not callable(self.function):
            raise InputError(f"Scorer needs a callable metric f(y_true, y_pred); received "
                             f"{describe(self.function)}")
        if not isinstance(self.greater_is_better, bool | np.bool_):
            raise InputError(f"Scorer's greater_is_better must be True or False; received "
                             f"{describe(self.greater_is_better)}")
        if self.response not in ("predict", "proba"):
            raise InputError(f"Scorer's response must be 'predict' or 'proba'; received "
                             f"{self.response!r}")

    def sklearn(self) -> Any:
        from sklearn.metrics import make_scorer

        method = "predict_proba" if self.response == "proba" else "predict"
        return make_scorer(self.function, greater_is_better=bool(self.greater_is_better),
                           response_method=method)


def check_output_kind(output_kind: object) -> str | None:
    if output_kind is None or output_kind in OUTPUT_KINDS:
        return output_kind
    raise InputError(f"output_kind must be one of {list(OUTPUT_KINDS)} or None (decided from the "
                     f"model); received {describe(output_kind)}")


def check_scoring(scoring: object) -> object:
    """Reject an unknown scoring at the door, before any prediction is made."""
    if isinstance(scoring, Scorer) or _is_sklearn_scorer(scoring):
        return scoring
    if isinstance(scoring, str):
        if scoring == "auto" or scoring in ALIASES or scoring in _scorer_names():
            return scoring
        close = [n for n in _scorer_names() if scoring.lower() in n][:8]
        hint = f" (close: {close})" if close else ""
        raise InputError(f"scoring must be 'auto', a scikit-learn scorer name "
                         f"(sklearn.metrics.get_scorer_names(), e.g. 'neg_mean_squared_error', "
                         f"'r2', 'neg_log_loss', 'accuracy', 'roc_auc'), a scorer object or a "
                         f"varimp.scoring.Scorer; received {scoring!r}{hint}")
    if callable(scoring):
        raise InputError(f"scoring {describe(scoring)} is a bare callable, whose direction is "
                         "unknown: wrap it as sklearn.metrics.make_scorer(f, "
                         "greater_is_better=...) or varimp.scoring.Scorer(f, "
                         "greater_is_better=...)")
    raise InputError(f"scoring must be 'auto', a scikit-learn scorer name, a scorer object or a "
                     f"varimp.scoring.Scorer; received {describe(scoring)}")


def _scorer_names() -> list[str]:
    from sklearn.metrics import get_scorer_names

    return list(get_scorer_names())


def _is_sklearn_scorer(scoring: object) -> bool:
    if "sklearn" not in type(scoring).__module__:
        return False
    from sklearn.metrics._scorer import _BaseScorer

    return isinstance(scoring, _BaseScorer)


# -- targets ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Targets:
    """``y`` read once for the model's predictions ``(n, n_steps, n_outputs)``.

    Regression: ``values`` float ``(n, n_steps, n_outputs)``. Classifiers: ``values`` the class
    index of every sample and step, int ``(n, n_steps)``, and ``classes`` the labels.
    """

    kind: str
    values: np.ndarray
    classes: tuple | None = None

    @property
    def classifier(self) -> bool:
        return self.kind in CLASSIFIER_KINDS


def read_targets(y: np.ndarray, shape: tuple[int, int, int], kind: str,
                 classes: Sequence | None) -> Targets:
    """``y`` as regression values or class indices for predictions of ``shape``."""
    n, steps, outputs = shape
    y = np.asarray(y)
    if kind not in CLASSIFIER_KINDS:
        return Targets(kind, _regression_targets(y, shape, classes))
    labels = _class_labels(classes, outputs)
    return Targets(kind, _class_indices(y, n, steps, outputs, labels), labels)


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


def _regression_targets(y: np.ndarray, shape: tuple[int, int, int], classes: object
                        ) -> np.ndarray:
    n, steps, outputs = shape
    if y.dtype.kind not in "biuf" or (outputs > 1 and steps == 1 and
                                       (y.ndim == 1 or y.shape[1:] == (1,))):
        raise InputError(
            f"y holds class labels (shape {y.shape}, values "
            f"{np.unique(y.astype(str))[:6].tolist()}) but the model's {outputs} output(s) are "
            "read as regression values (its last layer is no softmax or sigmoid): pass "
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
    raise InputError(f"y must match the model's predictions of shape (n, steps, outputs) = "
                     f"{shape}: (n,), (n, steps), (n, outputs) or (n, steps, outputs); received "
                     f"y of shape {y.shape}")


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
        raise InputError(f"y for a classifier predicting {steps} step(s) must hold one class label "
                         f"per sample{' and step' if steps > 1 else ''}: shape (n,)"
                         f"{' or (n, steps)' if steps > 1 else ' or (n, 1)'}, or one-hot "
                         f"(n, {'steps, ' if steps > 1 else ''}{n_classes}); received shape "
                         f"{y.shape}")
    index = {label: i for i, label in enumerate(labels)}
    flat = y.reshape(-1).tolist()
    unknown = sorted({str(v) for v in flat if _key(v) not in index})
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


# -- evaluation ---------------------------------------------------------------------------------
class Evaluation:
    """The score of predictions against targets, for the selected outputs and step, decided
    once per call: ``loss(pred, rows)`` is ``-score`` of the predictions of ``rows``."""

    def __init__(self, scoring: object, targets: Targets, outputs: list[int],
                 step: int | None, n_outputs: int):
        self.targets, self.outputs, self.step = targets, list(outputs), step
        self.n_outputs = n_outputs
        self.scoring_name = _scoring_name(scoring, targets.kind)
        self.scorer = _resolve_scorer(scoring, targets, len(targets.classes or ()))
        self.one_vs_rest = _resolve_scorer(scoring, targets, 2)
        self.regression_metric = _regression_metric(self.scorer)
        self.greater_is_better = _sign(self.scorer) > 0
        if not targets.classifier and _needs_probabilities(self.scorer):
            raise InputError(f"scoring {self.scoring_name!r} needs class probabilities, but the "
                             "model's outputs are read as regression values: pass "
                             "output_kind='probability' or 'logits' if the model is a classifier")
        self._dummy: dict[int, np.ndarray] = {}
        #: per scorer: its closed form once checked equal to scikit-learn, None where it is not
        self._fast: dict[int, Callable | None] = {}
        self._y = self._select(targets.values)  # the targets of all rows, as the metric reads them

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
                return self._call(_Values(self._select(pred)), y)
            if self.step is not None:
                pred = pred[:, [self.step]]
            proba = probabilities(pred, self.targets.kind)
            labels = y.reshape(-1)
            if len(self.outputs) == self.n_outputs or self.n_outputs == 1:
                return self._classes(proba.reshape(-1, proba.shape[-1]), labels)
            scores = [self._classes(_binary(proba[..., c].reshape(-1)), (labels == c)
                                    .astype(np.intp), self.one_vs_rest) for c in self.outputs]
            return float(np.mean(scores))
        except InputError:
            raise
        except (ValueError, TypeError, AttributeError) as exc:
            raise InputError(f"scoring {self.scoring_name!r} failed on these targets and "
                             f"predictions: {str(exc).splitlines()[0]}") from exc

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
        """Whether the loss is a mean over the rows of X (MSE, MAE, log loss, accuracy, and the
        Brier score of a classifier), so that :meth:`row_losses` splits it into the rows'
        shares. True once a loss has been computed with the metric's closed form, checked equal
        to scikit-learn's (an R2, a balanced accuracy, a ROC AUC or a user's metric is not a
        mean over rows)."""
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
            if self.step is not None:
                pred = pred[:, [self.step]]
            proba = probabilities(pred, self.targets.kind)
            labels = y.reshape(-1)
            if len(self.outputs) == self.n_outputs or self.n_outputs == 1:
                values = self._class_rows(proba.reshape(-1, proba.shape[-1]), labels,
                                          self.scorer)
            else:
                values = np.mean([self._class_rows(_binary(proba[..., c].reshape(-1)),
                                                   (labels == c).astype(np.intp),
                                                   self.one_vs_rest)
                                  for c in self.outputs], axis=0)
        return -_sign(self.scorer) * values.reshape(m, -1).mean(axis=1)

    def _class_rows(self, proba: np.ndarray, labels: np.ndarray, scorer: Any) -> np.ndarray:
        if self.regression_metric:
            onehot = np.eye(proba.shape[1])[labels]
            return _ROW_FORMS[_closed_form(self.scorer)](_squeeze(onehot), _squeeze(proba))
        return _ROW_FORMS[_closed_form(scorer)](labels, proba)

    def _used_scorer(self) -> Any:
        """The scorer :meth:`score` calls: one-vs-rest for a subset of a classifier's classes
        (unless the metric is a regression metric on probabilities)."""
        subset = self.targets.classifier and len(self.outputs) < self.n_outputs and \
            self.n_outputs > 1
        return self.one_vs_rest if subset and not self.regression_metric else self.scorer

    def _classes(self, proba: np.ndarray, labels: np.ndarray, scorer: Any = None) -> float:
        if self.regression_metric:  # e.g. MSE of probabilities and one-hot targets (Brier)
            onehot = np.eye(proba.shape[1])[labels]
            return self._call(_Values(_squeeze(proba)), _squeeze(onehot))
        return self._call(_Classes(proba), labels, scorer)

    def _call(self, frozen: Any, y: np.ndarray, scorer: Any = None) -> float:
        scorer = scorer or self.scorer
        fast = self._fast.get(id(scorer), False)
        if fast:
            return _sign(scorer) * fast(y, frozen.array)
        if fast is False:  # first call: check the closed form against scikit-learn, once per
            form = _closed_form(scorer)  # metric and process, on at most CHECK_ROWS rows
            key = (getattr(scorer, "_score_func", None), frozenset(getattr(scorer, "_kwargs", {})),
                   type(frozen), np.ndim(y), np.ndim(frozen.array))
            if form is not None and key not in _CHECKED:
                rows = slice(0, CHECK_ROWS)
                part = type(frozen)(frozen.array[rows])
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
        return float(scorer(frozen.estimator(), dummy, y))


def probabilities(pred: np.ndarray, kind: str) -> np.ndarray:
    """Class probabilities ``(..., n_classes)`` from a classifier's outputs: softmax or
    sigmoid of logits; one probability ``p`` becomes ``(1 - p, p)``."""
    if kind == "logits":
        if pred.shape[-1] == 1:
            pred = 1.0 / (1.0 + np.exp(-pred))
        else:
            shifted = pred - pred.max(axis=-1, keepdims=True)
            e = np.exp(shifted)
            pred = e / e.sum(axis=-1, keepdims=True)
    elif pred.shape[-1] > 1:  # float32 softmax rows sum to 1 only to about 1e-7
        pred = pred / pred.sum(axis=-1, keepdims=True)
    if pred.shape[-1] == 1:
        pred = np.concatenate([1.0 - pred, pred], axis=-1)
    return pred


def check_probabilities(pred: np.ndarray) -> None:
    """Outputs declared (or read) as probabilities must look like probabilities."""
    low, high = float(pred.min()), float(pred.max())
    if low < -1e-6 or high > 1 + 1e-6:
        raise InputError(f"the model's outputs are read as probabilities but range over "
                         f"[{low:.4g}, {high:.4g}]: pass output_kind='logits' if they are logits")
    if pred.shape[-1] > 1 and not np.allclose(pred.sum(axis=-1), 1.0, atol=1e-3):
        raise InputError("the model's outputs are read as class probabilities but do not sum to "
                         "1 over the classes: pass output_kind='logits' if they are logits, or "
                         "output_kind='regression'")


def _binary(p: np.ndarray) -> np.ndarray:
    return np.stack([1.0 - p, p], axis=-1)


def _flat(a: np.ndarray) -> np.ndarray:
    return _squeeze(a.reshape(-1, a.shape[-1]))


def _squeeze(a: np.ndarray) -> np.ndarray:
    return a[:, 0] if a.shape[1] == 1 else a


class _Values:
    """Frozen regression predictions, read by a scikit-learn scorer as an estimator's."""

    def __init__(self, values: np.ndarray):
        self.values = self.array = values

    def estimator(self) -> Any:
        est = _frozen_classes()[0]()
        est.values_ = self.values
        return est


class _Classes:
    """Frozen class probabilities ``(m, n_classes)``; classes are ``0..n_classes-1``."""

    def __init__(self, proba: np.ndarray):
        self.proba = self.array = proba

    def estimator(self) -> Any:
        est = _frozen_classes()[1]()
        est.proba_ = self.proba
        est.classes_ = np.arange(self.proba.shape[1])
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
                return self.proba_.argmax(axis=1)

        _FROZEN.extend([FrozenRegressor, FrozenClassifier])
    return _FROZEN


# -- closed forms --------------------------------------------------------------------------------
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


def _scoring_name(scoring: object, kind: str) -> str:
    if isinstance(scoring, str):
        name = DEFAULT_SCORING[kind] if scoring == "auto" else ALIASES.get(scoring, scoring)
        return name
    if isinstance(scoring, Scorer):
        return scoring.name or getattr(scoring.function, "__name__", "scorer")
    func = getattr(scoring, "_score_func", None)
    return getattr(func, "__name__", type(scoring).__name__)


def _resolve_scorer(scoring: object, targets: Targets, n_classes: int) -> Any:
    """A scikit-learn scorer object; classification metrics that take ``labels`` get all
    ``n_classes`` classes, so that a subset of rows missing a class is still scored."""
    from sklearn.metrics import get_scorer

    check_scoring(scoring)
    if isinstance(scoring, Scorer):
        return scoring.sklearn()
    if isinstance(scoring, str):
        scorer = get_scorer(_scoring_name(scoring, targets.kind))
    else:
        scorer = scoring
    func = getattr(scorer, "_score_func", None)
    kwargs = getattr(scorer, "_kwargs", None)
    if targets.classifier and func is not None and isinstance(kwargs, dict) and \
            "labels" not in kwargs and "labels" in _parameters(func) and \
            not _regression_metric(scorer):
        scorer = copy.copy(scorer)
        scorer._kwargs = {**kwargs, "labels": list(range(n_classes))}
    return scorer


def _parameters(func: Callable) -> tuple[str, ...]:
    try:
        return tuple(inspect.signature(func).parameters)
    except (TypeError, ValueError):
        return ()


def _sign(scorer: Any) -> int:
    return int(getattr(scorer, "_sign", 1))


def _regression_metric(scorer: Any) -> bool:
    func = getattr(scorer, "_score_func", None)
    return getattr(func, "__module__", "").startswith("sklearn.metrics._regression")


def _needs_probabilities(scorer: Any) -> bool:
    method = getattr(scorer, "_response_method", "predict")
    methods = (method,) if isinstance(method, str) else tuple(method)
    return any(m in ("predict_proba", "decision_function") for m in methods)
