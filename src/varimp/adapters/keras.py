"""Keras 3 adapter: the only place that knows Keras layers (any backend; autodiff on torch)."""

from __future__ import annotations

import numpy as np

from ..errors import UnsupportedModelError
from ..frameworks import import_keras
from ..network import Dense, Flatten, Layer, Network, Recurrent
from .base import Adapter
from .structure import describe_layer, resolve_network

# Keras keeps gate blocks in this order inside kernel / recurrent_kernel / bias.
_GATES = {"SimpleRNN": ("rnn", ("h",)), "LSTM": ("lstm", tuple("ifgo")), "GRU": ("gru", "zrn")}
_SKIPPED = {"InputLayer", "Dropout", "SpatialDropout1D", "GaussianDropout", "AlphaDropout",
            "GaussianNoise"}


def _activation_name(fn: object) -> str:
    name = getattr(fn, "__name__", None) or type(fn).__name__
    name = {"linear": "identity", "swish": "silu"}.get(name, name)
    if name == "leaky_relu":
        return "leaky_relu:0.2"
    if name not in {"identity", "relu", "tanh", "sigmoid", "hard_sigmoid", "elu", "gelu",
                    "softplus", "silu", "softmax", "log_softmax"}:
        raise UnsupportedModelError(f"activation {name!r} cannot be read by varimp")
    return name


def _dense(layer: object) -> Dense:
    weights = [np.asarray(w, dtype=np.float64) for w in layer.get_weights()]
    bias = weights[1] if len(weights) > 1 else np.zeros(weights[0].shape[1])
    return Dense(weights[0], bias, _activation_name(layer.activation), name=layer.name)


def _recurrent(layer: object) -> Recurrent:
    kind = type(layer).__name__
    cell, gates = _GATES[kind]
    if getattr(layer, "go_backwards", False) or getattr(layer, "stateful", False):
        raise UnsupportedModelError(f"layer {layer.name} ({kind}) runs backwards or statefully; "
                                    "weight-based methods read forward, stateless layers only")
    weights = [np.asarray(w, dtype=np.float64) for w in layer.get_weights()]
    kernel, recurrent = weights[0], weights[1]
    units = recurrent.shape[0]
    bias = weights[2] if len(weights) > 2 else np.zeros(units * len(gates))
    reset_after = bool(getattr(layer, "reset_after", False)) if cell == "gru" else True
    b_in, b_rec = (bias[0], bias[1]) if bias.ndim == 2 else (bias, np.zeros_like(bias))

    def split(matrix: np.ndarray) -> dict[str, np.ndarray]:
        return {g: matrix[..., j * units:(j + 1) * units] for j, g in enumerate(gates)}

    cell_obj = getattr(layer, "cell", layer)
    recurrent_act = getattr(cell_obj, "recurrent_activation", None)
    return Recurrent(
        cell=cell, w_input=split(kernel), w_recurrent=split(recurrent),
        b_input=split(b_in), b_recurrent=split(b_rec),
        activation=_activation_name(cell_obj.activation),
        recurrent_activation="sigmoid" if recurrent_act is None else
        _activation_name(recurrent_act),
        return_sequences=bool(layer.return_sequences), reset_after=reset_after, name=layer.name,
    )


def _read(model: object, layers: list[Layer]) -> None:
    keras = import_keras()

    for layer in model.layers:
        kind = type(layer).__name__
        if isinstance(layer, keras.Model):
            _read(layer, layers)
        elif kind in _SKIPPED:
            continue
        elif kind == "Dense":
            layers.append(_dense(layer))
        elif kind == "TimeDistributed" and type(layer.layer).__name__ == "Dense":
            layers.append(_dense(layer.layer))
        elif kind in _GATES:
            layers.append(_recurrent(layer))
        elif kind == "Flatten":
            layers.append(Flatten(name=layer.name))
        elif kind == "Activation" and layers and isinstance(layers[-1], Dense):
            layers[-1] = layers[-1].followed_by(_activation_name(layer.activation))
        else:
            read = " -> ".join(describe_layer(done) for done in layers)
            raise UnsupportedModelError(
                f"layer {layer.name!r} ({kind}) cannot be read by the weight-based methods "
                "(supported: Dense, SimpleRNN, GRU, LSTM, Flatten, TimeDistributed(Dense), "
                f"Dropout){'; layers read before it: ' + read if read else ''}")


class KerasAdapter(Adapter):
    """Calls ``model(x, training=False)`` in batches; autodiff when Keras runs on torch."""

    def __init__(self, model: object):
        super().__init__(model)
        keras = import_keras()

        if not model.built:
            raise UnsupportedModelError(
                f"Keras model {model.name!r} is not built: it has no weights yet, and calling it "
                "would create them. Build it or call it once (give it a keras.Input, or call "
                "model.build(input_shape)) before asking which inputs drive it")
        self.backend = keras.backend.backend()
        if self.backend == "torch":
            self.gradient_kind = "autodiff"
        self.dtype = getattr(model, "compute_dtype", None) or "float32"
        try:
            shape = tuple(model.inputs[0].shape)[1:]
        except Exception:  # noqa: BLE001 - a subclassed model may have no symbolic input
            shape = None
        self.expected_input = shape
        first = model.layers[0] if getattr(model, "layers", None) else None
        #: the input mask value when the model starts with a Masking layer (padded steps)
        self.mask_value = first.mask_value if type(first).__name__ == "Masking" else None

    def model_output_kind(self) -> str:
        """Probabilities when the last layer ends in a softmax or sigmoid activation."""
        layers = [layer for layer in getattr(self.model, "layers", [])
                  if type(layer).__name__ not in ("Dropout", "InputLayer")]
        if not layers:
            return "regression"
        last = layers[-1]
        inner = getattr(last, "layer", last)  # TimeDistributed(Dense(...))
        activation = getattr(inner, "activation", None)
        name = getattr(activation, "__name__", str(activation))
        if name in ("softmax", "sigmoid"):
            return "probability"
        if name == "log_softmax":
            return "logits"
        return "regression"

    def model_output_names(self) -> tuple[str, ...] | None:
        names = getattr(self.model, "output_names", None)
        return tuple(str(n) for n in names) if names and len(names) > 1 else None

    def _tensor(self, X: np.ndarray):
        keras = import_keras()

        return keras.ops.convert_to_tensor(X.astype(self.dtype))

    def _predict_batch(self, X: np.ndarray) -> np.ndarray:
        keras = import_keras()

        if self.backend == "torch":
            import torch

            with torch.no_grad():
                out = self.model(self._tensor(X), training=False)
        else:
            out = self.model(self._tensor(X), training=False)
        return np.asarray(keras.ops.convert_to_numpy(out), dtype=np.float64)

    def gradient(self, X, output, step=None, batch_size=None):
        if self.backend != "torch":
            return super().gradient(X, output, step, batch_size)
        from .torch import autograd_gradient

        return autograd_gradient(lambda x: self.model(x, training=False), self._tensor, X,
                                 output, step, batch_size, per_step=self.per_step)

    def check_padding(self, X: np.ndarray) -> None:
        """A leading ``Masking`` layer skips the steps whose every feature equals its
        ``mask_value``. Predictions and gradients honour that (the gradient at a padded step is
        0), but perturbing, permuting, sweeping or holding a padded cell would make it data."""
        if self.mask_value is None or X.ndim != 3:
            return
        padded = np.all(X == self.mask_value, axis=-1)
        if padded.any():
            raise UnsupportedModelError(
                f"X holds {int(padded.sum())} padded steps (every feature equal to the Masking "
                f"layer's mask_value {self.mask_value}) in {int(padded.any(axis=1).sum())} of "
                f"{len(X)} sequences; this method replaces cell values and would turn padding "
                "into data. Use partial_derivatives (0 at padded steps), or pass sequences of "
                "one length without padding")

    def suffix_predictor(self):
        import torch

        from .suffix import suffix_predictor

        return suffix_predictor(self, getattr(torch, str(self.dtype)), torch.device("cpu"))

    def tail_predictor(self):
        import torch

        from .tail import tail_predictor

        return tail_predictor(self, getattr(torch, str(self.dtype)), torch.device("cpu"))

    def network(self) -> Network:
        layers: list[Layer] = []
        _read(self.model, layers)
        if not layers:
            raise UnsupportedModelError(f"Keras model {self.model.name!r} has no Dense or "
                                        "recurrent layer to read")
        steps = self.expected_input[0] if self.expected_input and \
            len(self.expected_input) == 2 else None
        return resolve_network(layers, self, steps=steps)
