"""Keras 3 adapter: predictions and gradients of a Keras model (any backend; autodiff on torch);
its layers are read by :mod:`varimp.adapters.keras_layers`."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..errors import UnsupportedModelError
from ..frameworks import import_keras
from ..network import Layer, Network
from ..validation import SEVERAL_INPUTS
from .base import Adapter, float64_array
from .keras_layers import (
    activation_of,
    compute_precision,
    head_layer,
    heads_kind,
    heads_refusal,
    join_heads,
    joined_heads,
    layer_kind,
    output_heads,
    output_layer,
    read_layers,
    stateful_refusal,
)
from .structure import resolve_network


def _leading_masking(model: object) -> object | None:
    """The Masking layer that reads the model's input: one before any layer with weights, in
    the order of the model's layers (an ``InputLayer`` of a functional model skipped, nested
    models searched the same way); None when there is none."""
    for layer in getattr(model, "layers", None) or []:
        kind = type(layer).__name__
        if kind == "Masking":
            return layer
        if kind == "InputLayer":
            continue
        if getattr(layer, "layers", None):  # a nested model: its own leading layers
            found = _leading_masking(layer)
            if found is not None or layer.weights:
                return found
            continue  # a nested model without weights (a Reshape): read on past it
        if layer.weights:
            return None
    return None


class KerasAdapter(Adapter):
    """Calls ``model(x, training=False)`` in batches; autodiff when Keras runs on torch.

    A model with several output heads (a list or dict of outputs) is read as one model whose
    outputs are the heads' units side by side, in the order of ``keras.tree.flatten`` (a list
    in its order, a dict by sorted key). The outputs are named by their heads (``"flow"``;
    ``"flow[0]"``, ``"flow[1]"``.. for a head of several units), so ``output="flow"`` selects
    a head. The weight-based methods read such a model when its heads are Dense layers on one
    shared layer (they are one Dense layer with the heads' units side by side) with one
    elementwise activation. Several heads are read (:func:`heads_kind`) as probabilities of
    independent binary labels (multi-label) when every head ends in a sigmoid, as regression
    values when no head ends in a softmax, sigmoid or log_softmax; every method reads both.
    Any other set of heads (a classifier head beside a regression head, a softmax head among
    several) is explained as its outputs are by the methods that read no loss (partial
    derivatives, profile, perturbation without ``y``), but a loss (``y`` given to an
    error-based method: :meth:`loss_refusal`) or a classifier ``output_kind`` is an
    UnsupportedModelError: no loss over the heads' units joined is each head's own. Explain
    such a model one head at a time to score it.

    The output kind is read from the last layer: a Dense (or TimeDistributed Dense) activation,
    an ``Activation`` layer or a ``Softmax`` layer over the last axis; dropout, noise and a
    ``Reshape`` that drops a last axis of size 1 are looked through. A last layer without one
    of a model compiled with a cross-entropy loss of ``from_logits=True`` returns logits.
    """

    def __init__(self, model: object):
        super().__init__(model)
        keras = import_keras()

        if not model.built:
            raise UnsupportedModelError(
                f"Keras model {model.name!r} is not built: it has no weights yet, and calling it "
                "would create them. Build it or call it once (give it a keras.Input, or call "
                "model.build(input_shape)) before asking which inputs drive it")
        refusal = stateful_refusal(model)
        if refusal is not None:
            raise refusal
        self.backend = keras.backend.backend()
        if self.backend == "torch":
            self.gradient_kind = "autodiff"
        #: the dtype the model's inputs are given in; ``dtype``: the coarsest any layer
        #: computes in (a mixed-precision layer's float16), which sets the precision the
        #: layers read are checked to and the twins of the fast paths compute in
        self.input_dtype = getattr(model, "compute_dtype", None) or "float32"
        self.dtype = compute_precision(model)
        inputs = getattr(model, "inputs", None) or []
        if len(inputs) > 1:
            names = ", ".join(f"{getattr(t, 'name', '?')} {tuple(t.shape)}" for t in inputs)
            raise UnsupportedModelError(f"Keras model {model.name!r} takes {len(inputs)} inputs "
                                        f"({names}); {SEVERAL_INPUTS}")
        try:
            shape = tuple(model.inputs[0].shape)[1:]
        except Exception:  # noqa: BLE001 - a subclassed model may have no symbolic input
            shape = None
        self.expected_input = shape
        #: the input mask value when the model starts with a Masking layer (padded steps)
        masking = _leading_masking(model)
        self.mask_value = None if masking is None else masking.mask_value

    def configure(self, output_kind: str | None = None, classes: object = None
                  ) -> KerasAdapter:
        """As :meth:`Adapter.configure`; a classifier kind for several heads is refused unless
        every head ends in a sigmoid (its heads' units are not one classifier's)."""
        from ..scoring import CLASSIFIER_KINDS

        heads = output_heads(self.model)
        if heads is not None and output_kind in CLASSIFIER_KINDS and \
                heads_kind(heads) != "probability":
            raise UnsupportedModelError(heads_refusal(heads, [output_kind] * len(heads),
                                                       output_kind))
        super().configure(output_kind, classes)
        return self

    def model_output_kind(self) -> str:
        """Probabilities when the last layer ends in a softmax or sigmoid (a Dense activation,
        an ``Activation`` or a ``Softmax`` layer), logits after a log_softmax. A model of
        several heads: probabilities when every head ends in a sigmoid (multi-label), else
        regression values, the outputs as they are (:func:`heads_kind`; a loss is refused for
        heads of mixed kinds, :meth:`loss_refusal`)."""
        heads = output_heads(self.model)
        if heads is not None:
            return heads_kind(heads) or "regression"
        last = output_layer(self.model)
        kind = "regression" if last is None else layer_kind(last)
        if kind == "regression" and self.logits_loss() is not None:
            return "logits"
        return kind

    def logits_loss(self) -> str | None:
        """The loss the model was compiled with when it declares ``from_logits=True`` (a
        Keras cross-entropy on logits), by name; None otherwise."""
        loss = getattr(self.model, "loss", None)
        if getattr(loss, "from_logits", None) is not True:
            return None
        return getattr(getattr(loss, "fn", None), "__name__", None) or type(loss).__name__

    def multilabel(self) -> bool | None:
        """True for several heads that each end in a sigmoid: independent binary labels."""
        heads = output_heads(self.model)
        if heads is None:
            return None
        return heads_kind(heads) == "probability"

    def loss_refusal(self) -> str | None:
        """Why the outputs of several heads of mixed kinds (a classifier head beside a
        regression head, a softmax head among several) cannot be scored by a loss together;
        None for one head, for heads all regression or all sigmoid, and when
        ``output_kind="regression"`` was given (every unit then scored as a value)."""
        heads = output_heads(self.model)
        if heads is None or heads_kind(heads) is not None or self._output_kind == "regression":
            return None
        return heads_refusal(heads, [layer_kind(head_layer(tensor)) for _, tensor in heads])

    def probability_source(self) -> str | None:
        heads = output_heads(self.model)
        if heads is not None:
            if heads_kind(heads) != "probability":
                return None
            return f"its output heads {', '.join(repr(name) for name, _ in heads)} each " \
                "end in a sigmoid"
        if self.model_output_kind() != "probability":
            return None
        last = output_layer(self.model)
        return f"its last layer {last.name!r} ({type(last).__name__}) applies a " \
            f"{'softmax' if type(last).__name__ == 'Softmax' else activation_of(last)}"

    def model_output_names(self) -> tuple[str, ...] | None:
        """The heads' names, one per output unit, for a model with several output heads."""
        heads = output_heads(self.model)
        if heads is None:
            return None
        names = []
        for name, tensor in heads:
            units = tensor.shape[-1] if len(tensor.shape) > 1 else 1
            names.extend([name] if units == 1 else [f"{name}[{j}]" for j in range(units)])
        return tuple(names)

    def _tensor(self, X: np.ndarray):
        keras = import_keras()

        return keras.ops.convert_to_tensor(X.astype(self.input_dtype))

    def _predict_batch(self, X: np.ndarray) -> np.ndarray:
        if self.backend == "torch":
            import torch

            with torch.no_grad():
                out = self._call(self._tensor(X))
        else:
            out = self._call(self._tensor(X))
        return float64_array(out)  # a torch tensor by its own .numpy(): no __array__ warning

    def _call(self, x: object) -> object:
        """The model's prediction for a tensor, its output heads joined (:func:`join_heads`)."""
        return join_heads(self.model(x, training=False))

    def gradient(self, X: np.ndarray, output: int, step: int | None = None,
                 batch_size: int | None = None,
                 on_rows: Callable[[float], object] | None = None) -> np.ndarray:
        if self.backend != "torch":
            return super().gradient(X, output, step, batch_size, on_rows)
        from .torch import autograd_gradient

        return autograd_gradient(self._call, self._tensor, X, output, step, batch_size,
                                 per_step=self.per_step, on_rows=on_rows)

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

    def suffix_predictor(self) -> object | None:
        import torch

        from .suffix import suffix_predictor

        return suffix_predictor(self, getattr(torch, str(self.dtype)), torch.device("cpu"))

    def tail_predictor(self) -> object | None:
        import torch

        from .tail import tail_predictor

        return tail_predictor(self, getattr(torch, str(self.dtype)), torch.device("cpu"))

    def not_carried(self) -> list[str]:
        from .training import keras_not_carried

        return keras_not_carried(self.model)

    def network(self) -> Network:
        layers: list[Layer] = []
        heads = output_heads(self.model)
        if heads is None:
            read_layers(self.model, layers)
        else:
            head_layers = [head_layer(tensor) for _, tensor in heads]
            read_layers(self.model, layers, skip=tuple(head_layers))
            layers.append(joined_heads(head_layers, heads))
        if not layers:
            raise UnsupportedModelError(f"Keras model {self.model.name!r} has no Dense or "
                                        "recurrent layer to read")
        steps = self.expected_input[0] if self.expected_input and \
            len(self.expected_input) == 2 else None
        return resolve_network(layers, self, steps=steps)
