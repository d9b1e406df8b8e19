"""Checks that layers read out of a model really are the model, before any weight is used."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace

import numpy as np

from ..errors import UnsupportedModelError
from ..network import Dense, Flatten, Layer, Network, Recurrent, activation
from .base import as_canonical

PROBE_SAMPLES = 8
PROBE_STEPS = 5
#: Scale of the probe's inputs, and of the wide probe's (a few times a standardised input's,
#: rounded to eighths: values every float type holds exactly): an operation of ``forward``
#: that only bites on large values (a clamp of the output, a cap set after the trace was
#: kept) shows on the wide one.
PROBE_SCALE, WIDE_SCALE = 0.5, 5.0


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
    The reading must also reproduce the model on a wide probe (inputs of scale
    ``WIDE_SCALE``), where an operation that bites on large values only shows, whatever the
    model's traced operations say (a kept trace may be stale).
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
    probe = rng.normal(scale=PROBE_SCALE, size=shape)
    # multiples of 1/8 below 32: exact in every float type (a cast of the input to half
    # precision in forward changes none of them)
    wide = np.clip(np.round(rng.normal(scale=WIDE_SCALE, size=shape) * 8) / 8, -31.875, 31.875)
    both = as_canonical(adapter.predict(np.concatenate([probe, wide])), 2 * PROBE_SAMPLES)
    target, wide_target = both[:PROBE_SAMPLES], both[PROBE_SAMPLES:]
    tolerance = _tolerance(adapter)
    read = f"Layers read ({len(layers)}): " \
        f"{' -> '.join(describe_layer(layer) for layer in layers)}"
    for network in candidates:
        if _matches(_forward(network, probe), target, tolerance):
            operations = adapter.forward_operations()
            if operations:
                raise UnsupportedModelError(
                    f"{_applies(operations)} outside its modules: the layers read from "
                    f"{type(adapter.model).__name__} reproduce its predictions on a probe, but "
                    "not wherever that operation changes values (a clamp beyond the probe's "
                    "range, a mask, random draws), and the weight-based methods cannot read "
                    "it. Apply it as a module if it is an activation; else use a model-agnostic "
                    f"method (permutation, partial_derivatives, perturbation, profile). {read}")
            if not _matches(_forward(network, wide), wide_target, tolerance):
                raise UnsupportedModelError(
                    f"the layers read from {type(adapter.model).__name__} reproduce its "
                    f"predictions on a probe of inputs of scale {PROBE_SCALE:g}, but not on "
                    f"inputs of scale {WIDE_SCALE:g}: its forward changes large values in a way "
                    "the layers do not show (a clamp, a cap or a mask applied outside its "
                    "modules), and the weight-based methods cannot read it. Use a "
                    "model-agnostic method (permutation, partial_derivatives, perturbation, "
                    f"profile). {read}")
            return network
    precision = _low_precision(adapter)
    raise UnsupportedModelError(
        f"the layers read from {type(adapter.model).__name__} do not reproduce its predictions"
        f"{precision}; {_cause(candidates, probe, target, adapter)}. {read}")


def _forward(network: Network, X: np.ndarray) -> np.ndarray | None:
    """The network's canonical prediction, or None when its layers do not chain on X."""
    try:
        return as_canonical(network.forward(X), X.shape[0])
    except ValueError:
        return None


#: The float types a model may compute in, with their machine epsilon (``numpy.finfo``;
#: bfloat16, which numpy lacks, has 8 significant bits). Keras names them plainly, PyTorch as
#: ``torch.<name>``.
_EPS = {"float64": 2.0**-52, "float32": 2.0**-23, "float16": 2.0**-10, "bfloat16": 2.0**-7}


def _dtype_name(adapter) -> str:
    return str(getattr(adapter, "dtype", "float64")).removeprefix("torch.")


def _tolerance(adapter) -> float:
    """The relative tolerance of the check of the layers read against the model's
    predictions: 1e-3, or 4 machine epsilons of the dtype the model computes in when that is
    coarser (bfloat16: 0.031, float16: 0.0039), as its own rounding would otherwise fail
    the check."""
    return max(1e-3, 4 * _EPS.get(_dtype_name(adapter), 0.0))


def _low_precision(adapter) -> str:
    """For a model computing in half precision, what the check allowed for its rounding."""
    name = _dtype_name(adapter)
    if _EPS.get(name, 0.0) < 2.0**-12:
        return ""
    return f" (it computes in {name}; the check allows its rounding, {_tolerance(adapter):.2g} " \
        "relative to the largest prediction, so the gap is larger than that)"


def _matches(mine: np.ndarray | None, target: np.ndarray, rtol: float = 1e-3) -> bool:
    if mine is None:
        return False
    scale = max(1.0, float(np.abs(target).max()))
    return mine.shape == target.shape and bool(
        np.allclose(mine, target, rtol=rtol, atol=rtol / 10 * scale))


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
    operations = adapter.forward_operations()
    if not shaped:
        given = next((out.shape[1:] for out in outputs if out is not None), None)
        layers = "do not chain" if given is None else f"give {given}"
        what = f"{_applies(operations)}, or it" if operations else "its forward"
        return (f"the model predicts (steps, outputs) = {target.shape[1:]} per sample where the "
                f"layers {layers}: {what} reshapes, slices, pools or concatenates (an "
                "indexing, a mean over time, a torch.cat, a view)")
    for network in shaped:
        found = _functional_activations(network, probe, target)
        if found:
            if _is_keras(adapter):
                return (f"its call applies {_named(found, keras=True)}, which the layers do "
                        f"not show; apply it as a layer ({_keras_layers(found)}) or as the "
                        "activation= of the layer before it, so that it is read")
            return f"its forward applies {_named(found)}, which the layers do not show; " \
                f"apply it as a module ({_modules(found)}) so that it is read"
    for network in shaped:
        skip = _skip_connection(network, probe, target)
        if skip is not None:
            (first, last), post, found = skip
            block = network.layers[first].name if first == last else \
                f"{network.layers[first].name} to {network.layers[last].name}"
            parts = [f"a skip connection around layer {block} (h + f(h): the input of the "
                     f"block added to its output)"]
            if post != "identity":
                parts.append(f"{post.split(':')[0]} applied to that sum as a function")
            if found:
                parts.append(_named(found))
            listed = ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]
            return (f"its forward has {listed}; the weight-based methods read a "
                    "chain of layers and cannot follow a skip connection: use a model-agnostic "
                    "method (permutation, partial_derivatives, perturbation, profile)")
    pooling = _pooling_over_time(candidates[0], probe, target)
    if pooling is not None:
        return (f"its forward takes the {pooling} over time steps of the last recurrent "
                "layer's outputs (a pooling the layers do not show); the weight-based methods "
                "read the whole sequence or its last step only: use a model-agnostic method "
                "(permutation, partial_derivatives, perturbation, profile)")
    if operations:
        return (f"{_applies(operations)} outside its modules, which the layers do not show "
                "and the weight-based methods cannot read: apply it as a module if it is an "
                "activation, else use a model-agnostic method (permutation, "
                "partial_derivatives, perturbation, profile)")
    if _input_skip(shaped[0], adapter, probe.shape[1:]):
        return ("the predictions differ from the layers' by a linear function of the input: "
                "a skip connection (x + f(x)) in its forward")
    return ("its forward does something the layers do not show, most likely an operation "
            "between layers that is no module (x * 2.0, a mean over time, torch.cat), else a "
            "skip connection, a reordering over time or a custom operation")


def _applies(operations: list[str]) -> str:
    """Operations a forward applies outside its modules, as messages name them."""
    return f"its forward applies {' and '.join(operations)}"


#: Poolings over time, by name, as numpy reductions of ``(n, steps, outputs)`` over steps.
_POOLINGS = {"mean": np.mean, "sum": np.sum, "max": np.max, "min": np.min}


def _pooling_over_time(network: Network, probe: np.ndarray, target: np.ndarray
                       ) -> str | None:
    """The pooling over time steps (mean, sum, max, min) that, applied to the whole
    sequence the network's last recurrent layer returns and then run through the dense
    layers after it, reproduces the target; None when none does (or no recurrent layer)."""
    recurrent = [k for k, layer in enumerate(network.layers) if isinstance(layer, Recurrent)]
    if not recurrent or not network.sequence:
        return None
    split = recurrent[-1] + 1
    try:
        states = replace(network, layers=network.layers[:split]).forward(probe)
    except ValueError:
        return None
    if np.ndim(states) != 3:
        return None
    after = replace(network, layers=network.layers[split:])
    for name, pool in _POOLINGS.items():
        if _matches(_forward(after, pool(states, axis=1)), target):
            return name
    return None


def _is_keras(adapter: object) -> bool:
    return type(adapter).__name__ == "KerasAdapter"


def _keras_layers(found: list[tuple[str, str]]) -> str:
    """The Keras layers that apply the activations ``found`` (``layers.Activation("tanh")``)."""
    return ", ".join(dict.fromkeys(
        f"layers.Activation({name.split(':')[0]!r})" if name != "leaky_relu:0.01"
        else "layers.LeakyReLU(negative_slope=0.01)" for _, name in found))


def _named(found: list[tuple[str, str]], keras: bool = False) -> str:
    """Functional activations as messages name them: "tanh after layer 'a' Linear(3, 4)"."""
    where = " and ".join(f"{name.split(':')[0]} after layer {layer}" for layer, name in found)
    examples = "keras.ops.softmax, keras.activations.relu" if keras else "torch.softmax, F.relu"
    return f"{where} as {'a function' if len(found) == 1 else 'functions'} ({examples}, ...)"


def _modules(found: list[tuple[str, str]]) -> str:
    return ", ".join(dict.fromkeys(_MODULES[name] for _, name in found))


def _choices(network: Network, with_identity: bool) -> Iterator[dict[int, str]]:
    """Activations for the dense layers that have none: one shared by the hidden layers, one
    after the last (see :func:`_functional_activations`)."""
    dense = [k for k, layer in enumerate(network.layers) if isinstance(layer, Dense)]
    bare = [k for k in dense if network.layers[k].activation == "identity"]
    if with_identity:
        yield {}
    if not bare:
        return
    last = dense[-1]
    for hidden in _HIDDEN:
        for final in _LAST if last in bare else ("identity",):
            chosen = {k: final if k == last else hidden for k in bare}
            if any(name != "identity" for name in chosen.values()):
                yield chosen


def _functional_activations(network: Network, probe: np.ndarray,
                            target: np.ndarray) -> list[tuple[str, str]]:
    """(layer name, activation) pairs that, added to the dense layers that have none (one
    activation shared by the hidden layers, one after the last), reproduce the target."""
    for chosen in _choices(network, with_identity=False):
        if _matches(_variant(network, probe, chosen), target):
            return _found(network, chosen)
    return []


def _found(network: Network, chosen: dict[int, str]) -> list[tuple[str, str]]:
    return [(network.layers[k].name, name) for k, name in chosen.items() if name != "identity"]


#: Networks with more dense layers than this are not searched for a skip connection.
_SKIP_SEARCH_LAYERS = 6


def _skip_connection(network: Network, probe: np.ndarray, target: np.ndarray
                     ) -> tuple[tuple[int, int], str, list[tuple[str, str]]] | None:
    """A skip connection that, added to the layers read, reproduces the target: the block
    ``(first, last)`` of layers whose input is added to its output (``h + f(h)``), the
    activation applied to the sum, and the functional activations it takes with it."""
    dense = [k for k, layer in enumerate(network.layers) if isinstance(layer, Dense)]
    if len(dense) > _SKIP_SEARCH_LAYERS:
        return None
    blocks = [(i, j) for i in dense for j in dense
              if i <= j and network.layers[i].n_in == network.layers[j].n_out]
    for block in blocks:
        for post in ("identity", *_HIDDEN):
            for chosen in _choices(network, with_identity=True):
                if _matches(_variant(network, probe, chosen, block, post), target):
                    return block, post, _found(network, chosen)
    return None


def _variant(network: Network, X: np.ndarray, chosen: dict[int, str],
             block: tuple[int, int] | None = None, post: str = "identity") -> np.ndarray | None:
    """The network's canonical prediction with the activations ``chosen`` for some dense
    layers and, for a ``block`` of layers, its input added to its output, then ``post``
    applied; None when the layers do not chain."""
    layers = [replace(layer, activation=chosen[k]) if k in chosen else layer
              for k, layer in enumerate(network.layers)]
    if block is None:
        return _forward(replace(network, layers=tuple(layers)), X)
    first, last = block

    def run(part: list[Layer], Z: np.ndarray) -> np.ndarray:
        return replace(network, layers=tuple(part)).forward(Z)

    try:
        start = run(layers[:first], X)
        out = activation(post)(run(layers[first:last + 1], start) + start)
        return as_canonical(run(layers[last + 1:], out), X.shape[0])
    except ValueError:
        return None


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
