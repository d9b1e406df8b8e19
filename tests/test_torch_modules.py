"""Reading PyTorch modules with torch.fx: the trace keeps no caller's memory alive."""

from __future__ import annotations

import copy
import gc
import weakref

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrizations

import varimp
from varimp.adapters.torch_modules import forward_operations, output_module_of


class Unpacking(nn.Module):
    """``h, _ = self.rnn(x)``: torch.fx unpacks the proxy in ``Proxy.__iter__``, whose frame
    holds itself (``inspect.currentframe()``)."""

    def __init__(self):
        super().__init__()
        self.rnn, self.head = nn.GRU(3, 4, batch_first=True), nn.Linear(4, 1)

    def forward(self, x):
        h, _ = self.rnn(x)
        return self.head(h[:, -1])


class ValueBranch(nn.Module):
    """Control flow on values: torch.fx cannot trace it."""

    def __init__(self):
        super().__init__()
        self.first, self.second = nn.Linear(3, 4), nn.Linear(4, 1)

    def forward(self, x):
        h = self.first(x)
        return self.second(h if h.sum() > 0 else -h)


class Payload:
    """Stands for a method's X held by a caller of the trace."""


def traced_by(model):
    payload = Payload()
    found = output_module_of(model)
    return found, weakref.ref(payload)


@pytest.fixture
def no_collector():
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@pytest.mark.parametrize(("model", "path"), [(Unpacking(), "head"), (ValueBranch(), "second")])
def test_a_trace_frees_its_callers_frames_without_the_garbage_collector(model, path,
                                                                        no_collector):
    (found, module), payload = traced_by(model)
    assert found == path and module is model.get_submodule(path)
    assert payload() is None  # the caller's locals went with its frame, no gc.collect()


# -- what the weight reader reads ---------------------------------------------------------------
def test_connection_weights_refuse_a_forward_that_clamps_its_input():
    class Clamped(nn.Module):
        def __init__(self):
            super().__init__()
            self.l1, self.act, self.l2 = nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1)

        def forward(self, x):
            return self.l2(self.act(self.l1(x.clamp(-1.5, 1.5))))

    X = np.random.default_rng(0).normal(scale=0.5, size=(30, 3))
    with pytest.raises(varimp.UnsupportedModelError,
                       match=r"its forward applies clamp\(x, -1\.5, 1\.5\) outside its modules"):
        varimp.connection_weights(Clamped(), X)


def test_mc_dropout_in_forward_is_named_and_dropout_off_in_inference_is_not():
    class Dropping(nn.Module):
        def __init__(self, mc):
            super().__init__()
            self.mc, self.l1, self.l2 = mc, nn.Linear(3, 4), nn.Linear(4, 1)

        def forward(self, x):
            return self.l2(F.dropout(self.l1(x), 0.5, training=True if self.mc else self.training))

    assert forward_operations(Dropping(False).train()) == []
    assert forward_operations(Dropping(True)) == [
        "dropout(l1(...), p=0.5, training=True, inplace=False)"]


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_a_half_precision_network_is_read_with_its_own_weights(dtype):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1)).to(dtype)
    w1 = model[0].weight.detach().double().numpy().T
    w2 = model[2].weight.detach().double().numpy().T
    per_output = varimp.connection_weights(model).details["per_output"].to_numpy()
    np.testing.assert_allclose(per_output, w1 @ w2, rtol=1e-12)


@pytest.mark.parametrize("kind", ["weight_norm", "spectral_norm"])
def test_a_parametrized_layer_is_read_through_its_effective_weight(kind):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    getattr(parametrizations, kind)(model[0])
    with torch.no_grad():
        model(torch.randn(5, 3, dtype=torch.float64))  # a power iteration, in train mode
    state = copy.deepcopy(model.state_dict())
    model.eval()
    w1 = model[0].weight.detach().numpy().T  # the effective weight, as forward uses it
    model.train()
    reference = w1 @ model[2].weight.detach().numpy().T
    per_output = varimp.connection_weights(model).details["per_output"].to_numpy()
    np.testing.assert_allclose(per_output, reference, rtol=1e-12)
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())
    assert model.training


class _Flagged(nn.Module):
    """A forward whose operations depend on a plain attribute: ``clip`` adds a clamp."""

    def __init__(self):
        super().__init__()
        self.l1, self.act, self.l2 = nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1)
        self.clip = False

    def forward(self, x):
        if self.clip:
            x = x.clamp(-1.0, 1.0)
        return self.l2(self.act(self.l1(x)))


def test_a_models_forward_is_traced_once_while_its_settings_hold(monkeypatch):
    """torch.fx runs once per model, not once per method call, and again when a setting its
    forward reads changes; a Sequential of torch.nn layers is never traced (nothing to find)."""
    from varimp.adapters import torch_modules

    traced = []
    real = torch_modules._fx_graph
    monkeypatch.setattr(torch_modules, "_fx_graph",
                        lambda model: traced.append(type(model).__name__) or real(model))
    chain = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Sequential(nn.Linear(4, 1)))
    assert torch_modules.forward_operations(chain) == [] and traced == []
    model = _Flagged()
    assert torch_modules.forward_operations(model) == []
    assert torch_modules.forward_operations(model) == [] and traced == ["_Flagged"]
    model.clip = True
    assert torch_modules.forward_operations(model) == ["clamp(x, -1.0, 1.0)"]
    assert torch_modules.forward_operations(model) == ["clamp(x, -1.0, 1.0)"]
    assert traced == ["_Flagged", "_Flagged"]
    # the clamp found after the change turns the weight reader off
    with pytest.raises(varimp.UnsupportedModelError, match=r"clamp\(x, -1.0, 1.0\)"):
        varimp.connection_weights(model)
