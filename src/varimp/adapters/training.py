"""What a network rebuilt from its neutral description (sizes, activations, cells; see
:mod:`varimp.network`) leaves out of the given one: dropout and noise layers, regularizers,
constraints, layers without a bias. :func:`varimp.refit.resolve_fit` records and warns of them.
"""

from __future__ import annotations

import numbers
from typing import Any

from .keras_layers import model_layers

_KERAS_NOISE = ("Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D",
                "GaussianDropout", "AlphaDropout", "GaussianNoise")
_KERAS_EXTRAS = ("dropout", "recurrent_dropout", "kernel_regularizer", "recurrent_regularizer",
                 "bias_regularizer", "activity_regularizer", "kernel_constraint",
                 "recurrent_constraint", "bias_constraint")


def torch_not_carried(model: Any) -> list[str]:
    """What a rebuild leaves out of a PyTorch network, one phrase per layer and feature."""
    from torch import nn

    left: list[str] = []
    for path, module in model.named_modules():
        where = f"layer {path!r}" if path else type(model).__name__
        kind = type(module).__name__
        if "Dropout" in kind and hasattr(module, "p"):
            left.append(f"{kind}(p={module.p}) at {where}: dropped")
        elif isinstance(module, nn.Linear) and module.bias is None:
            left.append(f"{where} has no bias: rebuilt with one")
        elif isinstance(module, nn.RNNBase):
            if not module.bias:
                left.append(f"{where} has no biases: rebuilt with them")
            if module.dropout and module.num_layers > 1:
                left.append(f"dropout={module.dropout} between the stacked layers of {where}: "
                            "dropped")
    return left


def keras_not_carried(model: Any) -> list[str]:
    """What a rebuild leaves out of a Keras network, one phrase per layer and feature."""
    return [text for layer in model_layers(model, unwrap=True)
            for text in _layer_not_carried(layer)]


def _layer_not_carried(layer: Any) -> list[str]:
    kind = type(layer).__name__
    where = f"layer {layer.name!r}"
    if kind in _KERAS_NOISE:
        amount = getattr(layer, "rate", None)
        amount = getattr(layer, "stddev", None) if amount is None else amount
        return [f"{kind}({amount}) at {where}: dropped"]
    left = []
    for name in _KERAS_EXTRAS:
        value = getattr(layer, name, None)
        if value is None or (isinstance(value, numbers.Real) and value == 0):
            continue
        if not isinstance(value, numbers.Real):
            config = value.get_config() if hasattr(value, "get_config") else {}
            value = f"{type(value).__name__}({', '.join(f'{k}={v}' for k, v in config.items())})"
        left.append(f"{name}={value} at {where}: dropped")
    if getattr(layer, "use_bias", True) is False:
        left.append(f"{where} has no bias: rebuilt with one")
    return left
