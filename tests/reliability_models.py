"""Tiny seeded models, data and the method coverage table shared by the reliability tests.

Every factory sets its weights from its own ``numpy`` generator, so building a model never
touches the global numpy or torch random state and the same call always gives the same model.

``METHOD_SPECS`` says, for every method, how the reliability suite calls it. The suite is
parametrised over ``varimp.available_methods()``: a method registered without a row here fails
``test_every_registered_method_is_covered`` (and every test that looks its row up) until a row
is added.
"""

from __future__ import annotations

import contextlib
import functools
import os
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

import varimp  # noqa: E402
import varimp.registry  # noqa: E402

N, T, P = 12, 5, 3
HIDDEN = 4


# -- method coverage ----------------------------------------------------------------------------
@dataclass(frozen=True)
class MethodSpec:
    """How the reliability suite calls one method; its facts come from ``varimp.registry``.

    replaces_cells: puts other values into cells of X (so it refuses masked padding).
    options: cheap options for a fast call (few repeats, few profile points).
    """

    replaces_cells: bool = False
    options: dict[str, Any] = field(default_factory=dict)
    method: str = ""

    @property
    def facts(self) -> varimp.registry.MethodSpec:
        return varimp.registry.method_spec(self.method)

    @property
    def reads_weights(self) -> bool:
        return self.facts.reads_weights

    @property
    def needs_y(self) -> bool:
        return self.facts.needs_y

    @property
    def random(self) -> bool:
        return self.facts.random


def least_squares(X: np.ndarray, y: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """A cheap ``fit`` for the retraining methods: least squares on the flattened inputs (and
    an intercept), tables or sequences alike. Its predictions multiply elementwise and sum
    each row on its own, so they do not depend on the batch a row arrives in."""
    design = np.column_stack([X.reshape(len(X), -1), np.ones(len(X))])
    coef = np.linalg.lstsq(design, y.reshape(len(y), -1), rcond=None)[0]
    return functools.partial(_linear, coef=coef, shape=y.shape[1:])


def _linear(X: np.ndarray, coef: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    flat = np.asarray(X, dtype=np.float64).reshape(len(X), -1)
    pred = (flat[:, :, None] * coef[None, :-1]).sum(axis=1) + coef[-1]
    return pred.reshape(len(X), *shape)


METHOD_SPECS: dict[str, MethodSpec] = {name: MethodSpec(method=name, **row) for name, row in {
    "connection_weights": {},
    "garson": {},
    "partial_derivatives": {},
    "perturbation": {"replaces_cells": True, "options": {"n_repeats": 2, "noise": (0.2, 0.5)}},
    "permutation": {"replaces_cells": True, "options": {"n_repeats": 2}},
    "profile": {"replaces_cells": True, "options": {"steps": 4}},
    "forward_stepwise": {"replaces_cells": True, "options": {"fit": least_squares}},
    "backward_stepwise": {"replaces_cells": True, "options": {"fit": least_squares}},
    "improved_stepwise_1": {"replaces_cells": True},
    "improved_stepwise_2": {"replaces_cells": True},
}.items()}

REGISTERED: tuple[str, ...] = varimp.available_methods()


@contextlib.contextmanager
def one_torch_thread() -> Iterator[None]:
    """Tiny models run fastest on one thread; on a shared machine, several threads spin."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def uncovered(table: dict[str, Any]) -> list[str]:
    """Registered methods without a row in ``table``."""
    return [name for name in REGISTERED if name not in table]


def missing_row(method: str, table: str) -> str:
    return f"method {method!r} is registered but has no row in {table}; add one"


def spec(method: str) -> MethodSpec:
    if method not in METHOD_SPECS:
        raise AssertionError(missing_row(method, "tests/reliability_models.py METHOD_SPECS"))
    return METHOD_SPECS[method]


def matrix(rows: list, covered: dict[str, Any] | None = None) -> list:
    """``pytest.param(row, method)`` for every registered method and every row that applies.

    A registered method without a row in ``METHOD_SPECS`` (or in ``covered`` when given) gets
    one ``(None, method)`` entry, which the test turns into a failure naming the method.
    """
    import pytest

    covered = METHOD_SPECS if covered is None else covered
    params = []
    for method in REGISTERED:
        if method not in covered or method not in METHOD_SPECS:
            params.append(pytest.param(None, method, id=f"UNCOVERED-{method}"))
            continue
        params += [pytest.param(row, method, id=f"{row.id}-{method}") for row in rows
                   if row.applies(method)]
    return params


def accepts(method: str, option: str) -> bool:
    """Whether ``method`` takes the keyword option ``option``."""
    return option in varimp.registry.method_spec(method).options


def run(method: str, model: object, X: object, y: object = None, **extra: Any):
    """Call ``method`` through ``varimp.importance`` with its cheap options and a fixed seed."""
    row = spec(method)
    options = dict(row.options)
    if row.random:
        options["random_state"] = 7
    options.update(extra)
    return varimp.importance(model, X, y if (row.needs_y or y is not None) else None,
                             method=method, **options)


# -- data ---------------------------------------------------------------------------------------
def tabular(n: int = N, p: int = P, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    y = np.tanh(X[:, 0]) - 0.5 * X[:, 1] + 0.1 * rng.normal(size=n)
    return X, y


def sequences(n: int = N, steps: int = T, p: int = P, seed: int = 0
              ) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, steps, p))
    y = np.tanh(X[:, -1, 0]) - 0.5 * X[:, :, 1].mean(axis=1) + 0.1 * rng.normal(size=n)
    return X, y


# -- torch --------------------------------------------------------------------------------------
def _fill(module: nn.Module, seed: int, scale: float = 0.5) -> nn.Module:
    """Overwrite every parameter from a private generator (the global RNGs stay untouched)."""
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for param in module.parameters():
            values = rng.normal(scale=scale, size=tuple(param.shape))
            param.copy_(torch.as_tensor(values, dtype=param.dtype))
    return module


def torch_mlp(p: int = P, outputs: int = 1, *, dropout: float = 0.3, seed: int = 0,
              dtype: torch.dtype = torch.float32) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Linear(p, HIDDEN, dtype=dtype), nn.Tanh()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(HIDDEN, outputs, dtype=dtype))
    return _fill(nn.Sequential(*layers), seed)


class TorchRecurrent(nn.Module):
    """``rnn -> dropout -> Linear`` on the last step: batch-first ``(n, T, p) -> (n, outputs)``."""

    def __init__(self, cell: type[nn.RNNBase], p: int, outputs: int, dropout: float,
                 bidirectional: bool):
        super().__init__()
        self.rnn = cell(p, HIDDEN, batch_first=True, bidirectional=bidirectional)
        self.dropout = nn.Dropout(dropout) if dropout else nn.Identity()
        self.head = nn.Linear(HIDDEN * (2 if bidirectional else 1), outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.rnn(x)
        return self.head(self.dropout(out[:, -1]))


def torch_lstm(p: int = P, outputs: int = 1, *, dropout: float = 0.3, seed: int = 1,
               bidirectional: bool = False) -> TorchRecurrent:
    return _fill(TorchRecurrent(nn.LSTM, p, outputs, dropout, bidirectional), seed)


def torch_gru(p: int = P, outputs: int = 1, *, dropout: float = 0.3, seed: int = 2
              ) -> TorchRecurrent:
    return _fill(TorchRecurrent(nn.GRU, p, outputs, dropout, False), seed)


# -- keras --------------------------------------------------------------------------------------
def keras_lstm(p: int = P, steps: int = T, *, seed: int = 3, masking: float | None = None,
               bidirectional: bool = False):
    import keras

    layers: list = [keras.Input((steps, p))]
    if masking is not None:
        layers.append(keras.layers.Masking(mask_value=masking))
    lstm = keras.layers.LSTM(HIDDEN)
    layers += [keras.layers.Bidirectional(lstm) if bidirectional else lstm,
               keras.layers.Dropout(0.3), keras.layers.Dense(1)]
    model = keras.Sequential(layers)
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(scale=0.5, size=w.shape).astype(w.dtype)
                       for w in model.get_weights()])
    return model


# -- scikit-learn -------------------------------------------------------------------------------
def sklearn_mlp(p: int = P, *, seed: int = 4):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPRegressor

    X, y = tabular(40, p, seed)
    model = MLPRegressor(hidden_layer_sizes=(HIDDEN,), activation="tanh", max_iter=50,
                         random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


# -- plain callables ----------------------------------------------------------------------------
def plain_callable(p: int = P, *, seed: int = 5) -> Callable[[np.ndarray], np.ndarray]:
    """``f(X) = tanh(X W1) w2`` on tables, a numpy function with no framework behind it."""
    rng = np.random.default_rng(seed)
    w1, w2 = rng.normal(size=(p, HIDDEN)), rng.normal(size=HIDDEN)

    def f(X: np.ndarray) -> np.ndarray:
        return np.tanh(X @ w1) @ w2

    return f


def sequence_callable(p: int = P, *, seed: int = 6) -> Callable[[np.ndarray], np.ndarray]:
    """``f(X) = sum_t decay^(T-1-t) tanh(x_t W1) w2`` on sequences ``(n, T, p)``."""
    rng = np.random.default_rng(seed)
    w1, w2 = rng.normal(size=(p, HIDDEN)), rng.normal(size=HIDDEN)

    def f(X: np.ndarray) -> np.ndarray:
        decay = 0.7 ** np.arange(X.shape[1])[::-1]
        return np.einsum("ntk,k,t->n", np.tanh(X @ w1), w2, decay)

    return f


@dataclass(frozen=True)
class ModelKind:
    """One kind of model in the untouched-model matrix."""

    build: Callable[[], object]
    sequence: bool
    readable: bool  # its weights can be read by connection weights and Garson
    framework: str


MODEL_KINDS: dict[str, ModelKind] = {
    "torch_mlp": ModelKind(torch_mlp, False, True, "torch"),
    "torch_lstm": ModelKind(torch_lstm, True, True, "torch"),
    "torch_gru": ModelKind(torch_gru, True, True, "torch"),
    "keras_lstm": ModelKind(keras_lstm, True, True, "keras"),
    "sklearn_mlp": ModelKind(sklearn_mlp, False, True, "sklearn"),
    "callable": ModelKind(plain_callable, False, False, "callable"),
}


def data_for(kind: ModelKind, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    return sequences(seed=seed) if kind.sequence else tabular(seed=seed)
