"""scikit-learn adapter: a fitted MLPRegressor or MLPClassifier, or a Pipeline ending in one."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ..errors import UnsupportedModelError
from ..network import Dense, Network
from .base import Adapter, one_unit_names
from .structure import resolve_network

_ACTIVATIONS = {"identity": "identity", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu",
                "softmax": "softmax"}


class SklearnAdapter(Adapter):
    """Predictions from ``predict`` (regressors) or ``predict_proba`` (classifiers, one column
    per class in ``classes_`` order). Gradients of a bare MLP are exact, by autodiff through a
    float64 PyTorch twin built from ``coefs_``; through a Pipeline they fall back to finite
    differences, since the preprocessing steps are not differentiable objects.

    A binary classifier is one output, as its network computes it: one logistic unit, the
    probability of the positive class ``classes_[1]``. Its one output name is that class;
    ``output=<positive class>`` or ``output=0`` selects it, and ``output=<negative class>`` is
    an InputError (since ``p(negative) = 1 - p(positive)``, the negative class has the same
    importance: identical for losses, shares and magnitudes, of opposite sign for signed
    effects). A multi-label classifier (fitted on a 0/1 indicator ``y`` of several columns,
    two included) is one sigmoid output per label, in the order of the columns, named by the
    columns of a DataFrame ``y`` when one is given (else ``output 0``, ``output 1``, ...).

    A model fitted on a DataFrame (it has ``feature_names_in_``, through a Pipeline too)
    declares those columns as its ``input_columns``: a DataFrame X must have them in that
    order (:func:`varimp.validation.check_columns`), as scikit-learn itself demands; an array
    X is read by position. The model is called with a DataFrame of those columns holding the
    same numbers, so scikit-learn has no feature names to warn about.
    """

    def __init__(self, model: object):
        super().__init__(model)
        try:
            check_is_fitted(model)
        except Exception as exc:
            raise UnsupportedModelError(f"{type(model).__name__} is not fitted; fit it before "
                                        "asking which inputs drive it") from exc
        self.estimator = model.steps[-1][1] if isinstance(model, Pipeline) else model
        self.is_pipeline = isinstance(model, Pipeline)
        self.classifier = hasattr(self.estimator, "predict_proba")
        n_in = getattr(model, "n_features_in_", None)
        self.expected_input = (n_in,) if n_in is not None else None
        fitted = getattr(model, "feature_names_in_", None)
        self.input_columns = None if fitted is None else tuple(str(c) for c in fitted)
        self._twin = None
        if not self.is_pipeline and isinstance(self.estimator, MLPRegressor | MLPClassifier):
            self.gradient_kind = "autodiff"

    def model_output_kind(self) -> str:
        return "probability" if self.classifier else "regression"

    def probability_source(self) -> str | None:
        if not self.classifier:
            return None
        name = type(self.estimator).__name__
        layer = getattr(self.estimator, "out_activation_", None)
        where = f" (its output layer is a {layer})" if layer is not None else ""
        return f"{name} is a classifier, read through predict_proba{where}"

    def model_classes(self) -> tuple | None:
        classes = getattr(self.estimator, "classes_", None)
        if classes is None or not self.classifier or np.ndim(classes) != 1:
            return None
        return tuple(np.asarray(classes).tolist())

    def multilabel(self) -> bool | None:
        """True for a classifier fitted on a multi-label indicator ``y``: one independent
        sigmoid output per label (``predict_proba`` gives one column per label, which need not
        add up to 1)."""
        if not self.classifier:
            return None
        binarizer = getattr(self.estimator, "_label_binarizer", None)
        if getattr(binarizer, "y_type_", None) == "multilabel-indicator":
            return True
        return None

    @property
    def binary(self) -> bool:
        """A two-class classifier: one output, the probability of ``classes_[1]`` (the network
        has one logistic unit). A multi-label classifier of two labels is not: it has a
        sigmoid unit per label."""
        classes = getattr(self.estimator, "classes_", None)
        return self.classifier and classes is not None and np.ndim(classes) == 1 and \
            len(classes) == 2 and not self.multilabel()

    @property
    def output_names(self) -> tuple[str, ...] | None:
        """The class labels; for a binary classifier the positive class only (its one unit).
        None for a multi-label classifier, whose ``classes_`` are only the column indices of
        its labels: its outputs are named by the columns of a DataFrame ``y``, if any."""
        if self.multilabel():
            return None
        names = super().output_names
        if not self.binary or names is None or len(names) != 2:
            return names
        return one_unit_names(names, "one logistic unit, the probability of class {positive} "
                                     "(classes_[1])")

    def _frame(self, X: np.ndarray) -> object:
        """X as the model was fitted: a DataFrame of ``feature_names_in_`` when it has them."""
        columns = getattr(self.model, "feature_names_in_", None)
        if self.input_columns is None or X.ndim != 2 or len(columns) != X.shape[1]:
            return X
        import pandas as pd

        return pd.DataFrame(X, columns=columns, copy=False)

    def _predict_batch(self, X: np.ndarray) -> np.ndarray:
        X = self._frame(X)
        if self.classifier:
            proba = self.model.predict_proba(X)
            return proba[:, 1:] if self.binary else proba
        return self.model.predict(X)

    def network(self) -> Network:
        if self.is_pipeline:
            names = [name for name, _ in self.model.steps[:-1]]
            raise UnsupportedModelError(
                f"Pipeline steps {names} transform the inputs before the network; weight-based "
                "methods read a bare MLP only. Explain the MLP on the transformed inputs: "
                "connection_weights(pipe[-1], pipe[:-1].transform(X)) (likewise garson); its "
                "weights are then per unit of the transformed columns (per standard deviation "
                "after a StandardScaler), not of the raw X")
        est = self.estimator
        if not isinstance(est, MLPRegressor | MLPClassifier):
            raise UnsupportedModelError(f"{type(est).__name__} is not an MLPRegressor or "
                                        "MLPClassifier; weight-based methods cannot read it")
        layers = []
        last = len(est.coefs_) - 1
        for k, (w, b) in enumerate(zip(est.coefs_, est.intercepts_, strict=True)):
            act = est.out_activation_ if k == last else est.activation
            w, b = np.array(w, dtype=np.float64), np.array(b, dtype=np.float64)
            layers.append(Dense(w, b, _ACTIVATIONS[act], name=f"coefs_[{k}]"))
        return resolve_network(layers, self)

    def tail_predictor(self) -> object | None:
        """The network's twin in PyTorch, in the dtype of ``coefs_`` (a bare MLP only)."""
        import torch

        from .tail import tail_predictor

        coefs = getattr(self.estimator, "coefs_", None)
        single = coefs is not None and coefs[0].dtype == np.float32
        return tail_predictor(self, torch.float32 if single else torch.float64,
                              torch.device("cpu"))

    def gradient(self, X: np.ndarray, output: int, step: int | None = None,
                 batch_size: int | None = None,
                 on_rows: Callable[[float], object] | None = None) -> np.ndarray:
        if self.gradient_kind != "autodiff":
            return super().gradient(X, output, step, batch_size, on_rows)
        from .torch import TorchAdapter
        from .torch_modules import module_from_network

        if self._twin is None:
            self._twin = TorchAdapter(module_from_network(self.network()))
        return self._twin.gradient(X, output, None, batch_size, on_rows)
