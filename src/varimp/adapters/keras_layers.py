"""What a Keras 3 model is made of, read for the Keras adapter: its layers as
:mod:`varimp.network` layers (dense, recurrent with their gate blocks, activations given as
layers), the layers that stop the reader, its output heads and their kinds, and the refusal of
heads that cannot be scored as one set of outputs."""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass, replace

import numpy as np

from ..errors import UnsupportedModelError
from ..frameworks import import_keras
from ..network import ACTIVATIONS, Dense, Flatten, Layer, Recurrent, neutral_name
from .base import float64_array

# Keras keeps gate blocks in this order inside kernel / recurrent_kernel / bias.
_GATES = {"SimpleRNN": ("rnn", ("h",)), "LSTM": ("lstm", tuple("ifgo")), "GRU": ("gru", "zrn")}
_SKIPPED = {"InputLayer", "Dropout", "SpatialDropout1D", "GaussianDropout", "AlphaDropout",
            "GaussianNoise"}


#: Keras activation functions by name, as neutral names (:mod:`varimp.network`): a plain name,
#: or a family whose parameters are the function's keyword arguments, in the family's order
#: (set by ``functools.partial``, else the function's defaults).
_KERAS_PLAIN = {"linear": "identity", "swish": "silu", "hard_swish": "hard_silu",
                **{name: name for name in ACTIVATIONS}}
_KERAS_FAMILIES = {"elu": ("alpha",), "celu": ("alpha",), "leaky_relu": ("negative_slope",),
                   "soft_shrink": ("threshold",), "hard_shrink": ("threshold",),
                   "squareplus": ("b",), "threshold": ("threshold", "default_value"),
                   "relu": ("negative_slope", "threshold", "max_value")}
_KERAS_READ = ("linear, relu (with negative_slope, max_value, threshold), relu6, leaky_relu, "
               "elu, selu, celu, gelu (approximate or not), silu/swish, hard_silu/hard_swish, "
               "sigmoid, hard_sigmoid, sparse_sigmoid, log_sigmoid, tanh, hard_tanh, "
               "tanh_shrink, soft_shrink, hard_shrink, softplus, sparse_plus, squareplus, "
               "softsign, mish, exponential, threshold, softmax, log_softmax")


def _keras_relu(negative_slope: float, threshold: float, max_value: float | None) -> str:
    """Keras' ``relu(x, negative_slope, max_value, threshold)`` by its neutral name."""
    slope, cut = float(negative_slope), float(threshold)
    top = np.inf if max_value is None else float(max_value)
    if cut == 0.0 and top == np.inf and slope:
        return f"leaky_relu:{slope!r}"
    if (slope, cut, top) == (0.0, 0.0, 6.0):
        return "relu6"
    return neutral_name("relu", slope, cut, top)


def _activation_name(fn: object, layer: str) -> str:
    """The neutral name of a Keras activation function (a ``functools.partial`` of one sets
    its parameters) of the layer named ``layer``."""
    base = fn.func if isinstance(fn, functools.partial) else fn
    name = getattr(base, "__name__", None) or type(base).__name__
    settings = {}
    if name in _KERAS_FAMILIES or name == "gelu":
        try:
            settings = {key: p.default for key, p in inspect.signature(fn).parameters.items()}
        except (TypeError, ValueError):
            settings = {}
    if name == "gelu":
        return "gelu_tanh" if settings.get("approximate") else "gelu"
    if name in _KERAS_FAMILIES:
        values = [settings.get(key, inspect.Parameter.empty) for key in _KERAS_FAMILIES[name]]
        if any(value is inspect.Parameter.empty for value in values):
            raise UnsupportedModelError(
                f"activation {name!r} of layer {layer!r} needs "
                f"{', '.join(_KERAS_FAMILIES[name])}; give them with "
                f"functools.partial(keras.activations.{name}, ...)")
        if name == "relu":
            return _keras_relu(*values)
        if name == "leaky_relu":
            return f"leaky_relu:{float(values[0])!r}"
        return neutral_name(name, *values)
    if name not in _KERAS_PLAIN:
        raise UnsupportedModelError(
            f"activation {name!r} of layer {layer!r} cannot be read by varimp: the weight-based "
            "methods read a "
            f"layer's elementwise activation, one of the Keras activations {_KERAS_READ}")
    return _KERAS_PLAIN[name]


def _activation_layer(layer: object) -> str | None:
    """The neutral activation of a layer that only applies one: ``Activation``, ``Softmax``
    over the last axis, ``ReLU``, ``LeakyReLU``, ``ELU`` and ``PReLU`` (one slope for every
    unit); None for any other layer."""
    kind = type(layer).__name__
    if kind == "Activation":
        return _activation_name(layer.activation, layer.name)
    if kind == "Softmax":
        return "softmax" if _last_axis(layer, layer.axis) else None
    if kind == "ReLU":
        return _keras_relu(layer.negative_slope, layer.threshold, layer.max_value)
    if kind == "LeakyReLU":
        return f"leaky_relu:{float(layer.negative_slope)!r}"
    if kind == "ELU":
        return neutral_name("elu", layer.alpha)
    if kind == "PReLU":
        slopes = np.unique(float64_array(layer.alpha))
        if slopes.size != 1:
            raise UnsupportedModelError(
                f"layer {layer.name!r} (PReLU) has {slopes.size} different slopes, one per "
                "unit; the weight-based methods read one activation function for every unit "
                "of a layer, so a PReLU is read (as a leaky ReLU) only when its slopes are one "
                "value (shared_axes over every axis)")
        return f"leaky_relu:{float(slopes[0])!r}"
    return None


def _last_axis(layer: object, axis: object) -> bool:
    """Whether ``axis`` (an int, or a list of one) is the last axis of the layer's output."""
    axes = list(axis) if isinstance(axis, list | tuple) else [axis]
    if len(axes) != 1 or not isinstance(axes[0], int):
        return False
    if axes[0] == -1:
        return True
    try:
        return axes[0] == len(layer.output.shape) - 1
    except (AttributeError, ValueError):  # a layer never called on a symbolic input
        return False


def _drops_unit_axis(layer: object) -> bool:
    """A ``Reshape`` that only drops a trailing axis of size 1 (``(T, 1)`` to ``(T,)``, the
    Keras twin of PyTorch's ``squeeze(-1)``): it changes no value."""
    if type(layer).__name__ != "Reshape":
        return False
    try:
        before = tuple(layer.input.shape)[1:]
    except (AttributeError, ValueError):
        return False
    return len(before) >= 2 and before[-1] == 1 and \
        tuple(layer.target_shape) == before[:-1] and None not in before[:-1]


#: What still explains a model whose weights cannot be read.
PREDICTION_METHODS = ("The methods that read the model's predictions (partial_derivatives, "
                      "perturbation, profile, permutation, improved_stepwise_1/2) still "
                      "explain it")


def _not_quantized(layer: object) -> None:
    """Refuse a layer whose weights Keras stores quantized (``layer.quantize("int8")``)."""
    mode = getattr(layer, "quantization_mode", None)
    if mode is not None:
        raise UnsupportedModelError(
            f"layer {layer.name!r} ({type(layer).__name__}) is quantized ({mode}): its kernel "
            "is stored as integers with a scale (and the layer may quantize its inputs too), "
            "which the weight-based methods do not read; explain the model before "
            f"quantization. {PREDICTION_METHODS}")


def _dense(layer: object) -> Dense:
    """A Keras ``Dense`` layer by its named weights: ``layer.kernel`` is the kernel the layer
    multiplies by (with a LoRA update, when enabled), ``layer.bias`` its bias (None without)."""
    _not_quantized(layer)
    kernel = float64_array(layer.kernel)
    bias = np.zeros(kernel.shape[1]) if layer.bias is None else float64_array(layer.bias)
    return Dense(kernel, bias, _activation_name(layer.activation, layer.name), name=layer.name,
                 has_bias=layer.bias is not None)


def _recurrent(layer: object) -> Recurrent:
    kind = type(layer).__name__
    cell, gates = _GATES[kind]
    if getattr(layer, "go_backwards", False) or getattr(layer, "stateful", False):
        raise UnsupportedModelError(f"layer {layer.name} ({kind}) runs backwards or statefully; "
                                    "weight-based methods read forward, stateless layers only")
    cell_obj = getattr(layer, "cell", layer)
    _not_quantized(cell_obj)
    kernel, recurrent = float64_array(cell_obj.kernel), float64_array(cell_obj.recurrent_kernel)
    units = recurrent.shape[0]
    bias = np.zeros(units * len(gates)) if cell_obj.bias is None else \
        float64_array(cell_obj.bias)
    reset_after = bool(getattr(layer, "reset_after", False)) if cell == "gru" else True
    b_in, b_rec = (bias[0], bias[1]) if bias.ndim == 2 else (bias, np.zeros_like(bias))

    def split(matrix: np.ndarray) -> dict[str, np.ndarray]:
        return {g: matrix[..., j * units:(j + 1) * units] for j, g in enumerate(gates)}

    recurrent_act = getattr(cell_obj, "recurrent_activation", None)
    return Recurrent(
        cell=cell, w_input=split(kernel), w_recurrent=split(recurrent),
        b_input=split(b_in), b_recurrent=split(b_rec),
        activation=_activation_name(cell_obj.activation, layer.name),
        recurrent_activation="sigmoid" if recurrent_act is None else
        _activation_name(recurrent_act, layer.name),
        return_sequences=bool(layer.return_sequences), reset_after=reset_after, name=layer.name,
    )


@dataclass(frozen=True)
class _Affine:
    """A per-feature affine map ``x * scale + shift`` (a Keras ``Normalization``) waiting to be
    folded into the input weights of the layer after it. ``scale`` and ``shift`` have the
    shape of the layer's statistics without the batch axis; ``flattened``: a Flatten came
    between, so the next layer reads every (step, feature) cell as one unit."""

    scale: np.ndarray
    shift: np.ndarray
    name: str
    flattened: bool = False
    spread: np.ndarray | None = None  # the standard deviation it divides by (not invert)


def _normalization(layer: object) -> _Affine:
    """A Keras ``Normalization`` layer as the affine map it applies:
    ``(x - mean) / max(sqrt(variance), epsilon)``, or with ``invert=True``
    ``x * max(sqrt(variance), epsilon) + mean``."""
    keras = import_keras()
    if getattr(layer, "mean", None) is None:
        raise UnsupportedModelError(f"layer {layer.name!r} (Normalization) has no mean and "
                                    "variance yet; adapt() it or build the model first")
    mean, variance = float64_array(layer.mean), float64_array(layer.variance)
    if mean.ndim == 0 or mean.shape[0] != 1:
        raise UnsupportedModelError(
            f"layer {layer.name!r} (Normalization) normalises over the batch axis (its "
            f"statistics have shape {mean.shape}); the weight-based methods fold a "
            "per-feature (or per-cell) normalisation into the next layer's weights only")
    mean, variance = mean[0], variance[0]
    std = np.maximum(np.sqrt(variance), float(keras.config.epsilon()))
    if getattr(layer, "invert", False):
        return _Affine(std, mean, layer.name)
    return _Affine(1.0 / std, -mean / std, layer.name, spread=std)


def _folded(affine: _Affine, layer: Layer) -> Layer:
    """``layer`` reading the input of the Normalization ``affine`` before it: the affine map
    folded into its input weights and biases, so its weights are per unit of the raw input."""
    shape = affine.scale.shape
    n_in = layer.n_in
    try:
        if affine.flattened and isinstance(layer, Dense):
            if len(shape) == 0 or n_in % shape[-1]:
                raise ValueError
            cells = (n_in // shape[-1], shape[-1])
            scale, shift, spread = (None if a is None else np.broadcast_to(a, cells).reshape(-1)
                                    for a in (affine.scale, affine.shift, affine.spread))
        elif affine.flattened or any(d != 1 for d in shape[:-1]):
            raise ValueError
        else:
            scale, shift, spread = (None if a is None else np.broadcast_to(a.reshape(-1),
                                                                          (n_in,))
                                    for a in (affine.scale, affine.shift, affine.spread))
    except ValueError:
        raise UnsupportedModelError(
            f"layer {affine.name!r} (Normalization) has statistics of shape {shape}, which "
            f"cannot be folded into the input weights of layer {layer.name!r} ({n_in} input "
            "units): the weight-based methods fold one mean and variance per feature (or per "
            "time step and feature before a Flatten)") from None
    folded = layer.after_affine(np.asarray(scale, dtype=np.float64),
                                np.asarray(shift, dtype=np.float64))
    return folded if spread is None else replace(
        folded, input_spread=np.array(spread, dtype=np.float64))


def _append(layers: list, layer: Layer) -> None:
    """Append ``layer``, folding a Normalization waiting before it into its input weights."""
    if layers and isinstance(layers[-1], _Affine):
        affine = layers.pop()
        if isinstance(layer, Flatten):
            layers.extend([layer, replace(affine, flattened=True)])
            return
        layer = _folded(affine, layer)
    layers.append(layer)


def model_layers(model: object, *, unwrap: bool = False) -> list[object]:
    """Every layer of a Keras model in the model's order, nested models opened (as
    :func:`read_layers` opens them); with ``unwrap``, a wrapper's layer in its place (the
    ``Dense`` of ``TimeDistributed(Dense)``, the forward layer of a ``Bidirectional``).
    :func:`_inner_layers` walks deeper, for the facts any part of a layer holds."""
    keras = import_keras()
    found = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            found.extend(model_layers(layer, unwrap=unwrap))
        else:
            found.append(getattr(layer, "layer", layer) if unwrap else layer)
    return found


def _inner_layers(layer: object) -> list[object]:
    """``layer`` and every layer inside it, containers included: a nested model's layers, a
    wrapper's layer (``TimeDistributed``, ``Bidirectional``'s two directions), a recurrent
    layer's cell (the precision or the state any of them holds)."""
    found = [layer]
    for inner in [*(getattr(layer, "layers", None) or []),
                  *(getattr(layer, name, None) for name in ("layer", "forward_layer",
                                                            "backward_layer", "cell"))]:
        if inner is not None and hasattr(inner, "weights") and inner is not layer:
            found.extend(_inner_layers(inner))
    return found


#: Float types by their precision, coarsest first (bfloat16 has 8 significant bits, float16 11).
_PRECISIONS = ("bfloat16", "float16", "float32", "float64")


def compute_precision(model: object) -> str:
    """The coarsest float type any layer of the model computes in: a layer of a
    ``mixed_float16`` or ``mixed_bfloat16`` policy computes in half precision even where the
    model's own ``compute_dtype`` (float32 after a mixed model is saved and reloaded, or with a
    per-layer policy) says otherwise."""
    found = [str(getattr(layer, "compute_dtype", None) or "")
             for layer in _inner_layers(model)]
    ranked = [_PRECISIONS.index(name) for name in found if name in _PRECISIONS]
    return _PRECISIONS[min(ranked)] if ranked else \
        str(getattr(model, "compute_dtype", None) or "float32")


def stateful_refusal(model: object) -> UnsupportedModelError | None:
    """Why a model holding a stateful recurrent layer (``stateful=True``) is refused by every
    method; None when it holds none."""
    stateful = [layer for layer in _inner_layers(model)
                if getattr(layer, "stateful", False) is True and layer is not model]
    if not stateful:
        return None
    listed = ", ".join(f"{layer.name!r} ({type(layer).__name__})" for layer in stateful)
    return UnsupportedModelError(
        f"{'layer' if len(stateful) == 1 else 'layers'} {listed} of Keras model "
        f"{model.name!r} {'is' if len(stateful) == 1 else 'are'} stateful (stateful=True): "
        "a stateful RNN carries its state from one call to the next, so each prediction "
        "depends on the calls before it (the scores would not be reproducible) and every "
        "call varimp made would change the states the model holds. Rebuild the model with "
        "stateful=False and the same weights (the same layers with stateful=False, then "
        "new_model.set_weights(model.get_weights())) and explain that model")


def _sources(layer: object) -> list[str]:
    """Names of the layers whose outputs this layer takes (several for a merge layer)."""
    nodes = getattr(layer, "_inbound_nodes", None) or []
    tensors = getattr(nodes[0], "input_tensors", []) if nodes else []
    return [t._keras_history.operation.name for t in tensors
            if getattr(t, "_keras_history", None) is not None]


def _refusal(layer: object, model: object) -> UnsupportedModelError:
    """Why ``layer`` stops the weight reader, with every layer of the model listed."""
    kind = type(layer).__name__
    sources = _sources(layer)
    if len(sources) > 1:
        why = (f"it combines the outputs of {', '.join(map(repr, sources))}: a skip connection "
               "(h + f(h)) or a branch, which the weight-based methods cannot follow")
    elif kind == "Lambda":
        why = ("it applies a function (ops.softmax, ops.squeeze, ...) that the weights do not "
               "show; use a Dense activation or an Activation layer for an activation")
    else:
        why = ("the layers it reads are Dense, SimpleRNN, GRU, LSTM, Flatten, "
               "TimeDistributed(Dense), Normalization (folded into the next layer's input "
               "weights), Activation, Softmax, ReLU, LeakyReLU, ELU, PReLU and Dropout after a "
               "Dense layer, and a Reshape that drops a last axis of size 1")
    every = " -> ".join(f"{other.name} ({type(other).__name__})"
                        for other in model_layers(model))
    return UnsupportedModelError(f"layer {layer.name!r} ({kind}) cannot be read by the "
                                 f"weight-based methods: {why}. Layers of the model: {every}. "
                                 f"{PREDICTION_METHODS}")


def read_layers(model: object, layers: list[Layer], top: object = None,
          skip: tuple = ()) -> None:
    """Append the layers of ``model`` (``top``: the model the refusal lists), leaving out the
    layers in ``skip`` (output heads read separately)."""
    keras = import_keras()

    outermost = top is None
    top = model if top is None else top
    for layer in model.layers:
        kind = type(layer).__name__
        if any(layer is other for other in skip):
            continue
        if isinstance(layer, keras.Model):
            read_layers(layer, layers, top, skip)
        elif kind in _SKIPPED:
            continue
        elif kind == "Dense":
            _append(layers, _dense(layer))
        elif kind == "TimeDistributed" and type(layer.layer).__name__ == "Dense":
            _append(layers, _dense(layer.layer))
        elif kind in _GATES:
            _append(layers, _recurrent(layer))
        elif kind == "Flatten":
            _append(layers, Flatten(name=layer.name))
        elif kind == "Normalization":
            _normalization_read(layers, _normalization(layer))
        elif layers and isinstance(layers[-1], Dense) and \
                (name := _activation_layer(layer)) is not None:
            layers[-1] = layers[-1].followed_by(name)
        elif _drops_unit_axis(layer):  # (n, T, 1) to (n, T): one value per step, as before
            continue
        else:
            raise _refusal(layer, top)
    if outermost and layers and isinstance(layers[-1], _Affine):
        raise UnsupportedModelError(
            f"layer {layers[-1].name!r} (Normalization) comes after the last Dense or "
            "recurrent layer read; the weight-based methods fold a Normalization into the "
            "input weights of the layer after it")


def _normalization_read(layers: list, affine: _Affine) -> None:
    """A Normalization read: composed with one just before it, else left waiting for the
    next layer (:func:`_append`)."""
    if layers and isinstance(layers[-1], _Affine):
        if layers[-1].flattened:
            raise UnsupportedModelError(
                f"layers {layers[-1].name!r} and {affine.name!r} (Normalization) are separated "
                "by a Flatten only; the weight-based methods fold one Normalization, or "
                "several in a row, into the next layer's input weights")
        before = layers.pop()
        spread = None if before.spread is None or affine.spread is None else \
            before.spread * affine.spread
        affine = replace(affine, scale=before.scale * affine.scale,
                         shift=before.shift * affine.scale + affine.shift, spread=spread)
    layers.append(affine)


def output_heads(model: object) -> list[tuple[str, object]] | None:
    """``(name, symbolic output)`` of every output head of a model with several outputs, in
    the order their predictions are joined (``keras.tree.flatten``: a list in its order, a
    dict by sorted key); None for a model of one output."""
    keras = import_keras()
    try:
        structure = model.output
    except Exception:  # noqa: BLE001 - a Sequential or subclassed model: one output
        return None
    if not isinstance(structure, list | tuple | dict):
        return None
    tensors = keras.tree.flatten(structure)
    if len(tensors) < 2:
        return None
    if isinstance(structure, dict):
        names = keras.tree.flatten({key: str(key) for key in structure})
    else:
        names = [str(name) for name in getattr(model, "output_names", None) or ()]
        if len(names) != len(tensors):
            names = [t._keras_history.operation.name for t in tensors]
    return list(zip(names, tensors, strict=True))


def head_layer(tensor: object) -> object:
    return tensor._keras_history.operation


def join_heads(out: object) -> object:
    """A model's outputs as one tensor: several heads are concatenated along their last axis
    (a head of shape ``(n,)`` counts as ``(n, 1)``), in the order of :func:`output_heads`."""
    if not isinstance(out, list | tuple | dict):
        return out
    keras = import_keras()
    parts = keras.tree.flatten(out)
    if len(parts) == 1:
        return parts[0]
    shapes = [tuple(part.shape) for part in parts]
    parts = [keras.ops.expand_dims(part, -1) if len(shape) == 1 else part
             for part, shape in zip(parts, shapes, strict=True)]
    if len({tuple(part.shape[:-1]) for part in parts}) != 1:
        raise UnsupportedModelError(
            f"the model has {len(parts)} output heads of shapes {shapes}; varimp joins heads "
            "that differ in their last axis only (one prediction per sample, or per step). "
            "Explain one head at a time: keras.Model(model.inputs, model.outputs[k])")
    return keras.ops.concatenate(parts, axis=-1)


def layer_kind(layer: object) -> str:
    """The output kind a layer's activation declares (see ``model_output_kind``): a layer's
    ``activation`` (``Dense(..., activation="softmax")``, ``Activation("softmax")``,
    ``TimeDistributed(Dense(...))``) or a ``Softmax`` layer over the last axis."""
    if type(layer).__name__ == "Softmax":
        return "probability" if _last_axis(layer, layer.axis) else "regression"
    inner = getattr(layer, "layer", layer)  # TimeDistributed(Dense(...))
    activation = getattr(inner, "activation", None)
    name = getattr(activation, "__name__", str(activation))
    if name in ("softmax", "sigmoid"):
        return "probability"
    if name == "log_softmax":
        return "logits"
    return "regression"


def output_layer(model: object) -> object | None:
    """The last layer of a model of one output, nested models opened, leaving out the layers
    that change no value of the output (dropout, noise, a Reshape dropping an axis of 1)."""
    layers = [layer for layer in model_layers(model)
              if type(layer).__name__ not in _SKIPPED and not _drops_unit_axis(layer)]
    return layers[-1] if layers else None


def activation_of(layer: object) -> str:
    activation = getattr(getattr(layer, "layer", layer), "activation", None)
    return getattr(activation, "__name__", str(activation))


def _head_activation(layer: object) -> str | None:
    """The probability or log-probability activation a head's last layer applies
    (``"softmax"``, ``"sigmoid"``, ``"log_softmax"``), None for any other (regression)."""
    if type(layer).__name__ == "Softmax":
        return "softmax" if _last_axis(layer, layer.axis) else None
    name = activation_of(layer)
    return name if name in ("softmax", "sigmoid", "log_softmax") else None


def heads_kind(heads: list) -> str | None:
    """The output kind of several heads read together: ``"probability"`` when every head
    ends in a sigmoid (one or several units each: multi-label), ``"regression"`` when none
    ends in a softmax, sigmoid or log_softmax; None for any other set (mixed kinds, a softmax
    or log_softmax head among several), which no loss scores together."""
    activations = {_head_activation(head_layer(tensor)) for _, tensor in heads}
    if activations == {"sigmoid"}:
        return "probability"
    return "regression" if activations == {None} else None


def heads_refusal(heads: list, kinds: list[str], given: str | None = None) -> str:
    """Why several heads cannot be scored by a loss together (a classifier among them)."""
    listed = ", ".join(f"{name!r} ({kind})" for (name, _), kind in zip(heads, kinds, strict=True))
    why = f"output_kind={given!r} was given" if given else "decided from their last layers"
    return (
        f"the model has {len(heads)} output heads: {listed}, {why}. varimp scores several "
        "heads by a loss together only when every head predicts regression values, or every "
        "head ends in a sigmoid (independent binary labels): a classifier's units are scored "
        "together (one softmax over every unit joined, or each unit as a binary label), so a "
        "softmax head among several, or a classifier head beside a regression head, would be "
        "scored by a loss that is neither head's. Without y, partial_derivatives, profile and "
        "perturbation explain the heads' outputs as they are. Explain one head at a time: "
        "keras.Model(model.inputs, model.outputs[k])")


def joined_heads(head_layers: list, heads: list) -> Dense:
    """Output heads that are Dense layers on one shared tensor, as one Dense layer with their
    units side by side; any other set of heads is refused."""
    names = ", ".join(repr(name) for name, _ in heads)
    inner = [getattr(layer, "layer", layer) if type(layer).__name__ == "TimeDistributed"
             else layer for layer in head_layers]
    sources = {tuple(_sources(layer)) for layer in head_layers}
    if any(type(layer).__name__ != "Dense" for layer in inner) or len(sources) != 1:
        kinds = ", ".join(f"{layer.name} ({type(layer).__name__}, from "
                          f"{', '.join(_sources(layer)) or 'the input'})"
                          for layer in head_layers)
        raise UnsupportedModelError(
            f"the model's output heads {names} are {kinds}; the weight-based methods read "
            "several heads only when they are Dense layers on one shared layer. Explain one "
            "head at a time: keras.Model(model.inputs, model.outputs[k])")
    parts = [_dense(layer) for layer in inner]
    if len({part.activation for part in parts}) != 1:
        raise UnsupportedModelError(
            f"the model's output heads {names} have different activations "
            f"({', '.join(part.activation for part in parts)}); the weight-based methods read "
            "several heads as one layer of one activation. Explain one head at a time: "
            "keras.Model(model.inputs, model.outputs[k])")
    if parts[0].activation in ("softmax", "log_softmax"):
        raise UnsupportedModelError(
            f"the model's output heads {names} each apply a {parts[0].activation} over their "
            "own units, which one layer over the heads' units joined would not. Explain one "
            "head at a time: keras.Model(model.inputs, model.outputs[k])")
    return Dense(np.concatenate([part.weight for part in parts], axis=1),
                 np.concatenate([part.bias for part in parts]), parts[0].activation,
                 name="+".join(part.name for part in parts),
                 has_bias=any(part.has_bias for part in parts))
