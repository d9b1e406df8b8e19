"""The untouched-model matrix: no method changes the user's model, data or global state.

Every registered method x {torch MLP, torch LSTM, torch GRU, Keras LSTM, scikit-learn MLP,
plain callable}, where the method applies (the weight-based methods on a plain callable must
raise UnsupportedModelError, itself a row). Before and after each call the suite records:
the torch weights and buffers (bit for bit), every module's train/eval mode, ``requires_grad``
(some parameters frozen), the parameters' ``.grad`` (one set, as mid-training), forward and
backward hooks, Keras weights and ``trainable`` flags, the pickled scikit-learn estimator;
``torch.is_grad_enabled()``, inference mode, anomaly mode, the cuDNN flags (set to unusual
values first), deterministic algorithms, default dtype, thread count, NumPy error state; the
global torch, NumPy and Python random states; and the caller's X and y (values, dtype, flags).
The same records are compared when the call raises halfway.
"""

from __future__ import annotations

import contextlib
import pickle
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np
import pandas as pd
import pytest
import reliability_models as rm
import torch
from nets import RecurrentHead
from torch import nn

import varimp
from varimp import InputError, ModelError, UnsupportedModelError, VarImpError


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    with rm.one_torch_thread():
        yield



# -- what is recorded ---------------------------------------------------------------------------
def global_state() -> dict[str, Any]:
    state = {
        "grad_enabled": torch.is_grad_enabled(),
        "inference_mode": torch.is_inference_mode_enabled(),
        "anomaly": torch.is_anomaly_enabled(),
        "cudnn": (torch.backends.cudnn.enabled, torch.backends.cudnn.benchmark,
                  torch.backends.cudnn.deterministic),
        "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
        "default_dtype": torch.get_default_dtype(),
        "threads": torch.get_num_threads(),
        "torch_rng": torch.get_rng_state(),
        "numpy_rng": np.random.get_state(),  # noqa: NPY002 - the legacy global state itself
        "python_rng": random.getstate(),
        "numpy_errstate": np.geterr(),
        "keras_floatx": keras.config.floatx(),
    }
    return state


def model_state(model: object) -> dict[str, Any]:
    state: dict[str, Any] = {}
    if isinstance(model, nn.Module):
        params = dict(model.named_parameters())
        state["tensors"] = {name: (t.detach().clone(), t.dtype, t.device) for name, t in
                            [*params.items(), *model.named_buffers()]}
        state["training"] = {name: m.training for name, m in model.named_modules()}
        state["requires_grad"] = {name: p.requires_grad for name, p in params.items()}
        state["grad"] = {name: None if p.grad is None else p.grad.clone()
                         for name, p in params.items()}
        state["hooks"] = {name: (len(m._forward_hooks), len(m._forward_pre_hooks),
                                 len(m._backward_hooks), len(m._backward_pre_hooks))
                          for name, m in model.named_modules()}
    if hasattr(model, "get_weights") and hasattr(model, "layers"):  # Keras
        state["keras_weights"] = model.get_weights()
        state["keras_trainable"] = [(layer.name, layer.trainable) for layer in model.layers]
    if type(model).__module__.startswith("sklearn."):
        state["pickle"] = pickle.dumps(model)
    return state


def data_state(value: object) -> dict[str, Any]:
    if isinstance(value, np.ndarray):
        return {"values": value.copy(), "dtype": value.dtype, "shape": value.shape,
                "flags": (value.flags.writeable, value.flags.c_contiguous,
                          value.flags.f_contiguous, value.flags.owndata)}
    if isinstance(value, torch.Tensor):
        return {"values": value.detach().clone(), "dtype": value.dtype,
                "requires_grad": value.requires_grad, "grad": value.grad, "device": value.device}
    if isinstance(value, pd.DataFrame):
        return {"frame": value.copy(deep=True), "dtypes": list(value.dtypes),
                "columns": list(value.columns)}
    return {"value": pickle.dumps(value)}


def assert_same(before: object, after: object, path: str = "") -> None:
    """Exact equality, recursively; NaN equals NaN; tensors and arrays compared bit for bit."""
    assert type(before) is type(after), f"{path}: {type(before)} became {type(after)}"
    if isinstance(before, dict):
        assert before.keys() == after.keys(), f"{path}: keys changed"
        for key in before:
            assert_same(before[key], after[key], f"{path}.{key}")
    elif isinstance(before, list | tuple):
        assert len(before) == len(after), f"{path}: length changed"
        for k, (a, b) in enumerate(zip(before, after, strict=True)):
            assert_same(a, b, f"{path}[{k}]")
    elif isinstance(before, torch.Tensor):
        assert before.dtype == after.dtype and before.shape == after.shape, path
        assert torch.equal(before, after) or (torch.isnan(before).any() and torch.equal(
            torch.nan_to_num(before), torch.nan_to_num(after))), f"{path}: tensor changed"
    elif isinstance(before, np.ndarray):
        assert before.dtype == after.dtype, path
        assert np.array_equal(before, after, equal_nan=before.dtype.kind == "f"), \
            f"{path}: array changed"
    elif isinstance(before, pd.DataFrame):
        pd.testing.assert_frame_equal(before, after, check_exact=True)
    else:
        assert before == after, f"{path}: {before!r} became {after!r}"


@contextlib.contextmanager
def unusual_flags() -> Iterator[None]:
    """cuDNN benchmark and deterministic on, anomaly detection on: varimp must leave them."""
    with torch.backends.cudnn.flags(enabled=True, benchmark=True, deterministic=True), \
            torch.autograd.set_detect_anomaly(True, check_nan=False):
        yield


def prepared(kind: str) -> object:
    """A model in the state a user mid-training would leave it: train mode, the first layer
    frozen, a gradient left on the last parameter."""
    model = rm.MODEL_KINDS[kind].build()
    if isinstance(model, nn.Module) and not hasattr(model, "get_weights"):
        model.train()
        params = list(model.parameters())
        for param in params[:2]:
            param.requires_grad_(False)
        params[-1].grad = torch.full_like(params[-1], 0.5)
    return model


def snapshot(model: object, *arrays: object) -> dict[str, Any]:
    return {"global": global_state(), "model": model_state(model),
            "data": [data_state(a) for a in arrays]}


def applies(method: str, kind: str) -> bool:
    return rm.MODEL_KINDS[kind].readable or not rm.spec(method).reads_weights


def run(method: str, model: object, X: object, y: object, **extra: Any):
    return rm.run(method, model, X, y if rm.spec(method).needs_y else None, **extra)


def _matrix() -> list:
    params = []
    for method in rm.REGISTERED:
        if method not in rm.METHOD_SPECS:
            params.append(pytest.param(None, method, id=f"UNCOVERED-{method}"))
            continue
        params += [pytest.param(kind, method, id=f"{kind}-{method}") for kind in rm.MODEL_KINDS]
    return params


def _same_result(a: varimp.Importance, b: varimp.Importance) -> None:
    np.testing.assert_array_equal(a.scores.to_numpy(), b.scores.to_numpy())
    if a.by_time is not None:
        np.testing.assert_array_equal(a.by_time.to_numpy(), b.by_time.to_numpy())
    if a.std is not None:
        np.testing.assert_array_equal(a.std.to_numpy(), b.std.to_numpy())


@pytest.mark.parametrize(("kind", "method"), _matrix())
def test_model_data_and_globals_untouched(kind: str | None, method: str):
    assert kind is not None, rm.missing_row(method, "tests/reliability_models.py METHOD_SPECS")
    model = prepared(kind)
    X, y = rm.data_for(rm.MODEL_KINDS[kind])
    with unusual_flags():
        before = snapshot(model, X, y)
        if not applies(method, kind):
            with pytest.raises(UnsupportedModelError, match="plain function"):
                run(method, model, X, y)
            assert_same(before, snapshot(model, X, y))
            return
        in_train_mode = run(method, model, X, y)
        assert_same(before, snapshot(model, X, y))
    if isinstance(model, nn.Module) and not hasattr(model, "get_weights"):
        model.eval()  # dropout off: the train-mode call must have predicted in eval mode
        _same_result(in_train_mode, run(method, model, X, y))


# -- calls that raise halfway ------------------------------------------------------------------
class FailsOnCall(nn.Module):
    """Wraps a model; its ``fail_on``-th forward pass raises (a flaky user model)."""

    def __init__(self, inner: nn.Module, fail_on: int):
        super().__init__()
        self.inner, self.fail_on, self.calls = inner, fail_on, 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        if self.calls >= self.fail_on:
            raise RuntimeError("CUDA out of memory (simulated)")
        return self.inner(x)


def fails_on_second_call(kind: str) -> Callable[[np.ndarray], np.ndarray]:
    f = rm.MODEL_KINDS[kind].build()
    calls = []

    def flaky(X: np.ndarray) -> np.ndarray:
        calls.append(len(X))
        if len(calls) > 1:
            raise TimeoutError("model server timed out")
        return f(X)

    return flaky


def every(method: str) -> bool:
    return True


def calls_model(method: str) -> bool:
    return not rm.spec(method).reads_weights


@dataclass(frozen=True)
class Halfway:
    id: str
    applies: Callable[[str], bool]
    kind: str
    error: type[VarImpError]
    fragment: str
    wrap: Callable[[object], object] = lambda model: model
    options: dict[str, Any] = field(default_factory=dict)


HALFWAY = [
    Halfway("torch-mlp-output-out-of-range", every, "torch_mlp", InputError, "output",
            options={"output": 3}),
    Halfway("torch-lstm-output-out-of-range", every, "torch_lstm", InputError, "output",
            options={"output": 3}),
    Halfway("torch-gru-output-step-out-of-range", lambda m: rm.accepts(m, "output_step"),
            "torch_gru", InputError, "output_step", options={"output_step": 4}),
    Halfway("keras-output-out-of-range", every, "keras_lstm", InputError, "output",
            options={"output": 3}),
    Halfway("sklearn-output-out-of-range", every, "sklearn_mlp", InputError, "output",
            options={"output": 3}),
    Halfway("torch-mlp-raises-on-second-call", calls_model, "torch_mlp", ModelError,
            "CUDA out of memory", wrap=lambda model: FailsOnCall(model, 2),
            options={"batch_size": 5}),
    Halfway("torch-lstm-raises-on-second-call", calls_model, "torch_lstm", ModelError,
            "CUDA out of memory", wrap=lambda model: FailsOnCall(model, 2),
            options={"batch_size": 5}),
    Halfway("callable-raises-on-second-call", calls_model, "callable", ModelError,
            "timed out", wrap=lambda model: fails_on_second_call("callable"),
            options={"batch_size": 5}),
]


@pytest.mark.parametrize(("row", "method"), rm.matrix(HALFWAY))
def test_untouched_when_the_call_raises_halfway(row: Halfway | None, method: str):
    assert row is not None, rm.missing_row(method, "tests/reliability_models.py METHOD_SPECS")
    model = row.wrap(prepared(row.kind))
    X, y = rm.data_for(rm.MODEL_KINDS[row.kind])
    options = {k: v for k, v in row.options.items() if rm.accepts(method, k)}
    with unusual_flags():
        before = snapshot(model, X, y)
        with pytest.raises(row.error, match=row.fragment):
            run(method, model, X, y, **options)
        assert_same(before, snapshot(model, X, y))


# -- the caller's data, in every form it may come --------------------------------------------
def _read_only_fortran(X: np.ndarray) -> np.ndarray:
    X = np.asfortranarray(X)
    X.setflags(write=False)
    return X


DATA_FORMS: dict[str, Callable[[np.ndarray], object]] = {
    "numpy": lambda X: X.copy(),
    "numpy-read-only-fortran": _read_only_fortran,
    "numpy-float32-view": lambda X: X.astype(np.float32)[::1],
    "tensor-requires-grad": lambda X: torch.tensor(X, dtype=torch.float32, requires_grad=True),
    "dataframe": lambda X: pd.DataFrame(X, columns=["a", "b", "c"]),
    "list": lambda X: X.tolist(),
}


@pytest.mark.parametrize("method", rm.REGISTERED)
@pytest.mark.parametrize("form", list(DATA_FORMS))
def test_callers_data_untouched_in_every_form(form: str, method: str):
    rm.spec(method)
    X, y = rm.tabular()
    X_in = DATA_FORMS[form](X)
    y_in = pd.Series(y, name="target") if form == "dataframe" else DATA_FORMS[form](y[:, None])
    model = prepared("torch_mlp")
    before = snapshot(model, X_in, y_in)
    rm.run(method, model, X_in, y_in if not rm.spec(method).reads_weights else None)
    assert_same(before, snapshot(model, X_in, y_in))


@pytest.mark.parametrize("method", rm.REGISTERED)
@pytest.mark.parametrize("mode", ["no_grad", "inference_mode"])
def test_works_inside_the_callers_no_grad_or_inference_mode(mode: str, method: str):
    """A user inside ``torch.no_grad()`` or ``torch.inference_mode()`` gets the same result
    (gradients are still taken where the method needs them) and the mode stays on."""
    model, (X, y) = rm.torch_lstm(), rm.sequences()
    y = y if rm.spec(method).needs_y else None
    expected = rm.run(method, model, X, y)
    context = torch.no_grad() if mode == "no_grad" else torch.inference_mode()
    with context:
        state = (torch.is_grad_enabled(), torch.is_inference_mode_enabled())
        got = rm.run(method, model, X, y)
        assert (torch.is_grad_enabled(), torch.is_inference_mode_enabled()) == state
    _same_result(expected, got)


def test_matrix_covers_every_registered_method_and_model_kind():
    assert not rm.uncovered(rm.METHOD_SPECS), rm.uncovered(rm.METHOD_SPECS)
    assert set(rm.MODEL_KINDS) == {"torch_mlp", "torch_lstm", "torch_gru", "keras_lstm",
                                   "sklearn_mlp", "callable"}


class _WritesBuffers(nn.Module):
    """A forward that counts its calls and keeps a running mean of its inputs in buffers,
    in any mode, one of them by replacing the tensor."""

    def __init__(self):
        super().__init__()
        self.l1, self.l2 = nn.Linear(3, 8), nn.Linear(8, 1)
        self.register_buffer("calls", torch.zeros((), dtype=torch.long))
        self.register_buffer("mean", torch.zeros(3))

    def forward(self, x):
        with torch.no_grad():
            self.calls += 1
            self.mean = 0.9 * self.mean + 0.1 * x.mean(0)
        return self.l2(torch.tanh(self.l1(x)))


@pytest.mark.parametrize("method", ["permutation", "partial_derivatives", "profile"])
def test_buffers_a_forward_writes_are_put_back(method):
    model = _WritesBuffers()
    tensors = {name: t for name, t in model.named_buffers()}
    values = {name: t.clone() for name, t in tensors.items()}
    X = np.random.default_rng(0).normal(size=(20, 3))
    varimp.importance(model, X, X[:, 0], method=method, random_state=0)
    assert all(model.get_buffer(name) is tensors[name] for name in tensors)
    assert all(torch.equal(model.get_buffer(name), values[name]) for name in values)
    assert int(model.calls) == 0


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::torch.jit.TracerWarning")
@pytest.mark.parametrize("form", ["script", "trace"])
@pytest.mark.parametrize("method", ["connection_weights", "partial_derivatives", "permutation"])
def test_a_torchscript_model_leaves_the_global_torch_random_state(form: str, method: str):
    """The eager twins of TorchScript layers are built without drawing from the global torch
    generator: the numbers a caller draws after a call are those it draws without the call."""
    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 1))
    recurrent = RecurrentHead(nn.LSTM(3, 4, batch_first=True), nn.Linear(4, 1), last_step=True)
    rng = np.random.default_rng(0)
    cases = [(mlp, rng.normal(size=(20, 4)).astype(np.float32), {}),
             (recurrent, rng.normal(size=(20, 5, 3)).astype(np.float32), {"by_time": False})]
    for model, X, options in cases:
        scripted = torch.jit.script(model) if form == "script" else \
            torch.jit.trace(model, torch.from_numpy(X[:2]))
        y = X.reshape(len(X), -1)[:, 0]
        torch.manual_seed(7)
        expected = torch.rand(3)
        torch.manual_seed(7)
        varimp.importance(scripted, X, y if method == "permutation" else None, method=method,
                          random_state=0, **options)
        assert torch.equal(torch.rand(3), expected)
