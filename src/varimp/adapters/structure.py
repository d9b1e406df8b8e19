"""Checks that layers read out of a model really are the model, before any weight is used."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from ..errors import UnsupportedModelError
from ..network import Dense, Flatten, Layer, Network, Recurrent
from .base import as_canonical

PROBE_SAMPLES = 8
PROBE_STEPS = 5


def _probe_steps(layers: Sequence[Layer], known: int | None) -> int:
    if known:
        return known
    for k, layer in enumerate(layers):  # a Flatten fixes the sequence length
        if isinstance(layer, Flatten) and k > 0 and k + 1 < len(layers):
            units = layers[k - 1].n_out
            return max(1, layers[k + 1].n_in // units)
    return PROBE_STEPS


def resolve_network(
    layers: Sequence[Layer],
    adapter,
    *,
    steps: int | None = None,
) -> Network:
    """Build the :class:`Network` and prove it reproduces the model on random probe input.

    PyTorch modules do not say whether their ``forward`` keeps the whole output sequence of the
    last recurrent layer or only its final step; both readings are tried and the one that
    reproduces the model's predictions is kept. Anything else the forward pass does that the
    layers do not show (a residual connection, a reordering) is caught here and reported.
    """
    first = next(layer for layer in layers if not isinstance(layer, Flatten))
    sequence = any(isinstance(layer, Recurrent) for layer in layers)
    base = Network(tuple(layers), n_inputs=first.n_in, sequence=sequence)
    if steps and not sequence:  # a leading Flatten of a model with a known sequence length
        base = base.read_as_sequences(steps)
    candidates = [base, base.with_last_step_only()] if sequence else [base]
    rng = np.random.default_rng(0)
    shape = (PROBE_SAMPLES, _probe_steps(layers, steps), base.n_inputs) if base.sequence else \
        (PROBE_SAMPLES, base.n_inputs)
    probe = rng.normal(scale=0.5, size=shape)
    target = as_canonical(adapter.predict(probe), PROBE_SAMPLES)
    for network in candidates:
        if _matches(_forward(network, probe), target):
            return network
    raise UnsupportedModelError(
        f"the layers read from {type(adapter.model).__name__} do not reproduce its predictions; "
        f"{_cause(candidates, probe, target, adapter)}. Layers read ({len(layers)}): "
        f"{' -> '.join(describe_layer(layer) for layer in layers)}")


def _forward(network: Network, X: np.ndarray) -> np.ndarray | None:
    """The network's canonical prediction, or None when its layers do not chain on X."""
    try:
        return as_canonical(network.forward(X), X.shape[0])
    except ValueError:
        return None


def _matches(mine: np.ndarray | None, target: np.ndarray) -> bool:
    if mine is None:
        return False
    scale = max(1.0, float(np.abs(target).max()))
    return mine.shape == target.shape and bool(
        np.allclose(mine, target, rtol=1e-3, atol=1e-4 * scale))


def describe_layer(layer: Layer) -> str:
    """A layer as the refusal messages list it: its name, cell and activation."""
    if isinstance(layer, Dense):
        act = "" if layer.activation == "identity" else f" + {layer.activation}"
        return f"{layer.name}{act}"
    if isinstance(layer, Recurrent):
        cell = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}[layer.cell]
        return layer.name if cell.lower() in layer.name.lower() else f"{layer.name} ({cell})"
    return layer.name


#: Activations a forward pass may apply as a function rather than a module, with the module
#: that would make them readable: between layers, and after the last one.
_MODULES = {"relu": "nn.ReLU()", "tanh": "nn.Tanh()", "sigmoid": "nn.Sigmoid()",
            "elu": "nn.ELU()", "gelu": "nn.GELU()", "silu": "nn.SiLU()",
            "softplus": "nn.Softplus()", "leaky_relu:0.01": "nn.LeakyReLU()",
            "softmax": "nn.Softmax(dim=-1)", "log_softmax": "nn.LogSoftmax(dim=-1)"}
_HIDDEN = ("identity", "relu", "tanh", "sigmoid", "elu", "gelu", "silu", "softplus",
           "leaky_relu:0.01")
_LAST = ("identity", "softmax", "sigmoid", "log_softmax", "tanh", "relu")


def _cause(candidates: Sequence[Network], probe: np.ndarray, target: np.ndarray,
           adapter) -> str:
    """What the forward pass most likely does that the layers do not show."""
    outputs = [_forward(net, probe) for net in candidates]
    shaped = [net for net, out in zip(candidates, outputs, strict=True)
              if out is not None and out.shape == target.shape]
    if not shaped:
        given = next((out.shape[1:] for out in outputs if out is not None), None)
        layers = "do not chain" if given is None else f"give {given}"
        return (f"the model predicts (steps, outputs) = {target.shape[1:]} per sample where the "
                f"layers {layers}: its forward reshapes, slices, pools or concatenates (an "
                "indexing, a mean over time, a torch.cat, a view)")
    for network in shaped:
        found = _functional_activations(network, probe, target)
        if found:
            where = " and ".join(f"{name.split(':')[0]} after layer {layer}"
                                 for layer, name in found)
            modules = ", ".join(dict.fromkeys(_MODULES[name] for _, name in found))
            return (f"its forward applies {where} as "
                    f"{'a function' if len(found) == 1 else 'functions'} (torch.softmax, "
                    f"F.relu, ...), which the layers do not show; apply it as a module "
                    f"({modules}) so that it is read")
    if _input_skip(shaped[0], adapter, probe.shape[1:]):
        return ("the predictions differ from the layers' by a linear function of the input: "
                "a skip connection (x + f(x)) in its forward")
    return ("its forward does something the layers do not show: a skip connection, a pooling "
            "or reordering over time, a functional operation between layers or a custom "
            "operation")


def _functional_activations(network: Network, probe: np.ndarray,
                            target: np.ndarray) -> list[tuple[str, str]]:
    """(layer name, activation) pairs that, added to the dense layers that have none (one
    activation shared by the hidden layers, one after the last), reproduce the target."""
    dense = [k for k, layer in enumerate(network.layers) if isinstance(layer, Dense)]
    bare = [k for k in dense if network.layers[k].activation == "identity"]
    if not bare:
        return []
    last = dense[-1]
    for hidden in _HIDDEN:
        for final in _LAST if last in bare else ("identity",):
            chosen = {k: final if k == last else hidden for k in bare}
            if all(name == "identity" for name in chosen.values()):
                continue
            layers = list(network.layers)
            for k, name in chosen.items():
                layers[k] = replace(layers[k], activation=name)
            if _matches(_forward(replace(network, layers=tuple(layers)), probe), target):
                return [(network.layers[k].name, name) for k, name in chosen.items()
                        if name != "identity"]
    return []


def _input_skip(network: Network, adapter, shape: tuple[int, ...]) -> bool:
    """Whether the model minus the layers read is an affine function of the input."""
    cells = int(np.prod(shape))
    if cells > 200:
        return False
    rows = 2 * cells + 10
    X = np.random.default_rng(1).normal(scale=0.5, size=(rows, *shape))
    gap = (adapter.predict(X) - _forward(network, X)).reshape(rows, -1)
    design = np.column_stack([X.reshape(rows, -1), np.ones(rows)])
    coef, *_ = np.linalg.lstsq(design, gap, rcond=None)
    scale = max(1e-12, float(np.abs(gap).max()))
    return float(np.abs(design @ coef - gap).max()) < 1e-3 * scale
