"""Reading PyTorch modules with torch.fx: the trace keeps no caller's memory alive."""

from __future__ import annotations

import gc
import weakref

import pytest
from torch import nn

from varimp.adapters.torch_modules import output_module_of


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
