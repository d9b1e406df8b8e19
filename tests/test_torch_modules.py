"""Reading PyTorch modules with torch.fx: the trace keeps no caller's memory alive."""

from __future__ import annotations

import copy
import gc
import weakref

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from nets import Clamped, OutOfOrder
from torch import nn
from torch.nn.utils import parametrizations

import varimp
from varimp.adapters.torch_modules import forward_operations, output_module_of
from varimp.engines import DRAW_KEY, generator, seed_from


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
    model = Clamped(clip=False, bound=1.0)  # clip: a setting forward reads
    assert torch_modules.forward_operations(model) == []
    assert torch_modules.forward_operations(model) == [] and traced == ["Clamped"]
    model.clip = True
    assert torch_modules.forward_operations(model) == ["clamp(x, -1.0, 1.0)"]
    assert torch_modules.forward_operations(model) == ["clamp(x, -1.0, 1.0)"]
    assert traced == ["Clamped", "Clamped"]
    # the clamp found after the change turns the weight reader off
    with pytest.raises(varimp.UnsupportedModelError, match=r"clamp\(x, -1.0, 1.0\)"):
        varimp.connection_weights(model)


class _Rearranged(nn.Module):
    """A tanh MLP whose forward moves, casts, splits or joins its input before its layers."""

    def __init__(self, before, dtype=torch.float32):
        super().__init__()
        torch.manual_seed(5)
        self.before = before
        self.l1, self.act, self.l2 = nn.Linear(3, 6), nn.Tanh(), nn.Linear(6, 1)
        self.to(dtype)

    def forward(self, x):
        return self.l2(self.act(self.l1(self.before(x))))

    def plain(self):
        return nn.Sequential(self.l1, self.act, self.l2)


KEPT = {
    "type": (lambda x: x.type(torch.float32), torch.float32),
    "float": (lambda x: x.float(), torch.float32),
    "to float64": (lambda x: x.to(torch.float64), torch.float64),
    "cat of slices": (lambda x: torch.cat([x[:, :2], x[:, 2:]], 1), torch.float32),
    "stack of columns": (lambda x: torch.stack([x[:, 0], x[:, 1], x[:, 2]], dim=1),
                         torch.float32),
    "split and cat": (lambda x: torch.cat(torch.split(x, 1, dim=1), dim=-1), torch.float32),
}


@pytest.mark.parametrize("name", list(KEPT))
def test_a_cast_or_a_rearrangement_of_the_input_keeps_the_reader_and_the_fast_path(name):
    """Casts, splits and concatenations pass values on: the weights read are the plain
    chain's, and the tail predictor (checked on generic rows) is used."""
    from varimp.adapters import adapt
    from varimp.engines import PerturbationEngine

    before, dtype = KEPT[name]
    model = _Rearranged(before, dtype).eval()
    X = np.random.default_rng(2).normal(size=(40, 3))
    y = X[:, 0] - X[:, 2]
    assert forward_operations(model) == []
    ours = varimp.connection_weights(model).scores
    plain = varimp.connection_weights(model.plain()).scores
    np.testing.assert_allclose(ours, plain, rtol=1e-12)
    assert PerturbationEngine(adapt(model), X).tail_run() is not None
    np.testing.assert_allclose(varimp.permutation(model, X, y, random_state=0).scores,
                               varimp.permutation(model.plain(), X, y, random_state=0).scores,
                               rtol=1e-9)


def test_an_input_cast_to_half_precision_and_back_is_read():
    model = _Rearranged(lambda x: x.half().float()).eval()
    assert forward_operations(model) == []
    np.testing.assert_allclose(varimp.connection_weights(model).scores,
                               varimp.connection_weights(model.plain()).scores, rtol=1e-12)


def test_columns_swapped_by_a_cat_are_caught_by_the_check_of_the_predictions():
    """A concatenation is not listed, but one that reorders the columns makes the layers
    read predict other values on the probe: refused, and no fast path."""
    from varimp.adapters import adapt

    model = _Rearranged(lambda x: torch.cat([x[:, 2:], x[:, :2]], 1)).eval()
    assert forward_operations(model) == []
    with pytest.raises(varimp.UnsupportedModelError, match="do not reproduce its predictions"):
        varimp.connection_weights(model)
    assert adapt(model).tail_predictor() is None


def test_a_forward_that_changes_large_inputs_only_fails_the_wide_probe():
    """Control flow on values (no trace) that clips large inputs: the layers read match the
    model near 0, not on the probe of inputs of scale 5, and are refused."""

    class Clipping(nn.Module):
        def __init__(self):
            super().__init__()
            torch.manual_seed(0)
            self.l1, self.act, self.l2 = nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)

        def forward(self, x):
            if x.abs().max() > 4:
                x = x.clamp(-4.0, 4.0)
            return self.l2(self.act(self.l1(x)))

    assert forward_operations(Clipping()) is None
    with pytest.raises(varimp.UnsupportedModelError,
                       match="on a probe of inputs of scale 0.5, but not on inputs of scale 5"):
        varimp.connection_weights(Clipping())


def test_a_kept_trace_is_traced_again_when_a_dict_or_a_tensor_it_reads_changes_in_place():
    class Settings(nn.Module):
        def __init__(self):
            super().__init__()
            self.l1 = nn.Linear(3, 1)
            self.cfg, self.flag = {"clip": False}, torch.zeros(())

        def forward(self, x):
            h = self.l1(x)
            if self.cfg["clip"]:
                h = h.clamp(-1.0, 1.0)
            if self.flag.item() > 0:
                h = h * 2.0
            return h

    model = Settings()
    assert forward_operations(model) == []
    model.cfg["clip"] = True
    assert forward_operations(model) == ["clamp(l1(...), -1.0, 1.0)"]
    model.flag.fill_(1.0)
    assert forward_operations(model) == ["clamp(l1(...), -1.0, 1.0)", "mul(clamp(...), 2.0)"]


class OwnWeight(nn.Module):
    """A layer whose forward reads its own parameter (no torch.nn layer to call)."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.ones(3, 3, dtype=torch.float64))

    def forward(self, x):
        return x @ self.w


class WithUnused(nn.Module):
    """Linear, Tanh, Linear, with a Linear registered first that forward never calls, or a
    layer reading its own parameter in front (``own``)."""

    def __init__(self, own: bool = False):
        super().__init__()
        self.aux = OwnWeight() if own else nn.Linear(5, 7, dtype=torch.float64)
        self.fc1, self.fc2 = nn.Linear(3, 4, dtype=torch.float64), nn.Linear(4, 1,
                                                                               dtype=torch.float64)
        self.act, self.own = nn.Tanh(), own

    def forward(self, x):
        return self.fc2(self.act(self.fc1(self.aux(x) if self.own else x)))


def test_a_module_forward_never_calls_is_not_read_and_one_read_by_forward_is_named():
    torch.manual_seed(1)
    model = WithUnused()
    product = model.fc1.weight.detach().numpy().T @ model.fc2.weight.detach().numpy().T
    np.testing.assert_allclose(varimp.connection_weights(model).details["per_output"]
                               .to_numpy(), product, rtol=1e-12)
    X = np.random.default_rng(1).normal(size=(10, 3))  # aux reads 5 columns, fc1 reads 3
    np.testing.assert_allclose(varimp.connection_weights(model, X).details["per_output"]
                               .to_numpy(), product, rtol=1e-12)
    with pytest.raises(varimp.UnsupportedModelError,
                       match=r"layer 'aux' OwnWeight cannot be read by the weight-based"):
        varimp.connection_weights(WithUnused(own=True))


class Recurrent(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(3, 4, batch_first=True, dtype=torch.float64)
        self.head = nn.Linear(4, 1, dtype=torch.float64)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1])


def test_a_parametrized_recurrent_layer_is_read_as_its_plain_twin_with_the_same_weights():
    """orthogonal(rnn, "weight_hh_l0") makes a ParametrizedRNN: read through the weight its
    forward uses, its linear path is that of a plain RNN holding that weight, and by hand:
    sum over steps t of W_ih U^(T-1-t) v for a linear-at-rest RNN (tanh'(0) = 1)."""
    torch.manual_seed(2)
    model = Recurrent()
    parametrizations.orthogonal(model.rnn, "weight_hh_l0")
    plain = Recurrent()
    plain.load_state_dict({**{k: v for k, v in model.state_dict().items()
                              if "parametrizations" not in k},
                           "rnn.weight_hh_l0": model.rnn.weight_hh_l0.detach()})
    T = 3
    read = varimp.connection_weights(model, n_timesteps=T)
    np.testing.assert_allclose(read.scores.to_numpy(),
                               varimp.connection_weights(plain, n_timesteps=T).scores.to_numpy(),
                               rtol=1e-10)
    W = model.rnn.weight_ih_l0.detach().numpy().T
    U = model.rnn.weight_hh_l0.detach().numpy().T
    v = model.head.weight.detach().numpy().T[:, 0]
    by_hand = sum(W @ np.linalg.matrix_power(U, T - 1 - t) @ v for t in range(T))
    np.testing.assert_allclose(read.scores.to_numpy(), by_hand, rtol=1e-10)


def test_an_old_style_weight_norm_is_read_as_its_hook_computes_it_before_any_forward():
    """torch.nn.utils.weight_norm recomputes .weight in a forward pre-hook: after weight_g is
    changed, with no forward since, the layer is read as g * v / ||v|| (per output row), the
    attribute left as it was."""
    torch.manual_seed(3)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    with pytest.warns(FutureWarning):
        torch.nn.utils.weight_norm(model[0])
    with torch.no_grad():
        model[0].weight_g.mul_(2.0)
    g, v = model[0].weight_g.detach().numpy(), model[0].weight_v.detach().numpy()
    w1 = g * v / np.linalg.norm(v, axis=1, keepdims=True)
    reference = w1.T @ model[2].weight.detach().numpy().T
    np.testing.assert_allclose(varimp.connection_weights(model).details["per_output"]
                               .to_numpy(), reference, rtol=1e-12)


class DictOut(nn.Module):
    def __init__(self):
        super().__init__()
        self.l = nn.Linear(4, 1)

    def forward(self, x):
        return {"y": self.l(x)}


def test_a_forward_returning_a_dict_is_told_to_return_one_tensor():
    X = np.random.default_rng(0).normal(size=(10, 4))
    with pytest.raises(varimp.ModelError, match=r"returned a dict \(keys 'y'\); varimp explains "
                                                r"one output tensor\. Wrap the model"):
        varimp.permutation(DictOut(), X, X[:, 0], random_state=0)


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::torch.jit.TracerWarning")
@pytest.mark.parametrize("form", ["eager", "script", "trace"])
def test_a_batchnorm_normalising_by_the_batch_is_refused_by_every_method(form):
    torch.manual_seed(5)
    X = np.random.default_rng(0).normal(size=(12, 4)).astype(np.float32)
    model = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6, track_running_stats=False),
                          nn.Tanh(), nn.Linear(6, 1)).eval()
    if form == "script":
        model = torch.jit.script(model)
    elif form == "trace":
        model = torch.jit.trace(model, torch.from_numpy(X[:3]))
    for method in ("connection_weights", "partial_derivatives", "permutation"):
        with pytest.raises(varimp.UnsupportedModelError,
                           match=r"layer '1' BatchNorm1d is a BatchNorm with "
                                 r"track_running_stats=False.*depends on the other rows"):
            varimp.importance(model, X, X[:, 0], method=method, random_state=0)
    kept = nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.Tanh(), nn.Linear(6, 1))
    assert varimp.permutation(kept, X, X[:, 0], random_state=0).scores.shape == (4,)


def permutation_by_hand(model, X, y, random_state, n_repeats):
    """Permutation importance written out: the mean over repeats of the increase in mean
    squared error when a column is permuted by the repeat's draw (one per repeat for every
    column), the model called directly."""

    def mse(rows):
        with torch.no_grad():
            pred = model(torch.as_tensor(rows, dtype=torch.float64)).double().numpy().ravel()
        return np.mean((pred - y) ** 2)

    seed = seed_from(random_state)
    perms = [generator(seed, DRAW_KEY, r).permutation(len(X)) for r in range(n_repeats)]
    base = mse(X)
    increases = np.zeros((n_repeats, X.shape[1]))
    for r, perm in enumerate(perms):
        for j in range(X.shape[1]):
            shuffled = X.copy()
            shuffled[:, j] = X[perm, j]
            increases[r, j] = mse(shuffled) - base
    return increases.mean(axis=0)


@pytest.mark.parametrize("branch", [False, True])
@pytest.mark.parametrize("kind", ["out_first", "unused_aux", "head_first"])
def test_a_model_registered_out_of_call_order_takes_the_input_of_its_first_called_layer(
        kind, branch):
    """Layers registered in another order than forward calls them (the output layer or an
    unused Linear(6, 2) first, a head before the body) read X of 4 columns: traced, the first
    layer called says so; not traced (``branch``), the model reads X, so the width of the
    first layer registered refuses nothing. Permutation importance is the one by hand."""
    torch.manual_seed(8)
    model = OutOfOrder(kind, branch)
    X = np.random.default_rng(8).normal(size=(16, 4))
    y = np.tanh(X[:, 0]) - X[:, 1]
    result = varimp.permutation(model, X, y, n_repeats=2, random_state=3)
    np.testing.assert_allclose(result.scores.to_numpy(),
                               permutation_by_hand(model, X, y, 3, 2), rtol=1e-10, atol=1e-14)


def test_a_width_refused_without_a_trace_carries_the_models_own_error():
    """Not traced, a model failing on X is refused with its own error and the width its
    first layer registered (the output layer, 6 columns) suggests."""
    X = np.random.default_rng(9).normal(size=(16, 3))
    with pytest.raises(varimp.InputError,
                       match=r"^the model expects input of shape \(n, 6\); received X of "
                             r"shape \(16, 3\) \(judged by its first layer registered, as "
                             r"forward may call another first; the model raised RuntimeError "
                             r"on it: mat1 and mat2 shapes cannot be multiplied \(2x3 and "
                             r"4x6\)\)$"):
        varimp.permutation(OutOfOrder("out_first", branch=True), X, X[:, 0], random_state=0)
    traced = OutOfOrder("out_first")
    with pytest.raises(varimp.InputError, match=r"^the model expects input of shape \(n, 4\); "
                                                r"received X of shape \(16, 3\)$"):
        varimp.permutation(traced, X, X[:, 0], random_state=0)


class LinearBatchNormBlock(nn.Module):
    """A user's block named after BatchNorm: Linear, BatchNorm1d (with running statistics
    unless ``batch_stats``), Tanh."""

    def __init__(self, batch_stats: bool = False):
        super().__init__()
        self.lin = nn.Linear(4, 6, dtype=torch.float64)
        self.bn = nn.BatchNorm1d(6, track_running_stats=not batch_stats, dtype=torch.float64)
        self.act = nn.Tanh()

    def forward(self, x):
        return self.act(self.bn(self.lin(x)))


class FixedBatchNorm(nn.Module):
    """A normalisation of the user's own by stored statistics, named after BatchNorm."""

    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.tensor([0.5, -0.5, 1.0, 0.0], dtype=torch.float64))
        self.register_buffer("std", torch.tensor([2.0, 1.0, 0.5, 1.5], dtype=torch.float64))

    def forward(self, x):
        return (x - self.mean) / self.std


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("form", ["eager", "script"])
def test_modules_named_after_batchnorm_are_refused_only_when_they_normalise_by_the_batch(form):
    """A block named LinearBatchNormBlock holding a BatchNorm1d with running statistics, and a
    FixedBatchNorm of stored statistics, are read (permutation as by hand); the same block
    holding a BatchNorm1d without them is refused by that layer's path."""
    torch.manual_seed(10)
    X = np.random.default_rng(10).normal(size=(16, 4))
    y = X[:, 0] - X[:, 2]
    kept = nn.Sequential(LinearBatchNormBlock(), nn.Linear(6, 1, dtype=torch.float64))
    with torch.no_grad():
        kept[0].bn.running_mean.uniform_(-0.5, 0.5)
        kept[0].bn.running_var.uniform_(0.5, 2.0)
    for model in (kept.eval(), nn.Sequential(FixedBatchNorm(),
                                             nn.Linear(4, 1, dtype=torch.float64))):
        model = torch.jit.script(model) if form == "script" else model
        result = varimp.permutation(model, X, y, n_repeats=2, random_state=1)
        np.testing.assert_allclose(result.scores.to_numpy(),
                                   permutation_by_hand(model, X, y, 1, 2), rtol=1e-10)
    batch = nn.Sequential(LinearBatchNormBlock(batch_stats=True),
                          nn.Linear(6, 1, dtype=torch.float64)).eval()
    batch = torch.jit.script(batch) if form == "script" else batch
    with pytest.raises(varimp.UnsupportedModelError,
                       match=r"^layer '0\.bn' BatchNorm1d is a BatchNorm with "
                             r"track_running_stats=False"):
        varimp.permutation(batch, X, y, random_state=0)


def _inference_parameters() -> tuple[nn.Module, nn.Module, str]:
    """A model whose parameters were made under inference_mode, its twin built normally, and
    the message naming them."""
    def build():
        torch.manual_seed(4)
        return nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 1)).double()

    with torch.inference_mode():
        model = build()
    return model, build(), (r"^the parameters of Sequential are inference tensors \(0\.weight, "
                            r"0\.bias, 2\.weight, 2\.bias\).*assign=True")


def _inference_buffers() -> tuple[nn.Module, nn.Module, str]:
    """BatchNorm running statistics made under inference_mode, parameters cloned outside it."""
    def build():
        torch.manual_seed(11)
        model = nn.Sequential(nn.Linear(3, 5), nn.BatchNorm1d(5), nn.Tanh(),
                              nn.Linear(5, 1)).double().eval()
        with torch.no_grad():
            model[1].running_mean.fill_(0.25)
            model[1].running_var.fill_(2.0)
        return model

    with torch.inference_mode():
        model = build()
    model.load_state_dict({k: v if "running" in k else v.clone()
                           for k, v in model.state_dict().items()}, assign=True)
    assert not any(p.is_inference() for p in model.parameters())
    return model, build(), (r"^the buffers of Sequential are inference tensors "
                            r"\(1\.running_mean, 1\.running_var\).*assign=True")


@pytest.mark.parametrize("made", [_inference_parameters, _inference_buffers])
def test_inference_tensors_are_named_for_the_gradient_methods(made):
    """Parameters or buffers made under torch.inference_mode() cannot be differentiated
    through: the message names them, and its advice (clones loaded with assign=True) gives the
    gradients of the same model built normally."""
    X = np.random.default_rng(11).normal(size=(10, 3))
    model, normal, message = made()
    with pytest.raises(varimp.ModelError, match=message):
        varimp.partial_derivatives(model, X)
    model.load_state_dict({k: v.clone() for k, v in model.state_dict().items()}, assign=True)
    np.testing.assert_allclose(varimp.partial_derivatives(model, X).scores.to_numpy(),
                               varimp.partial_derivatives(normal, X).scores.to_numpy(),
                               rtol=1e-12)
