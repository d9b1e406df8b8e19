"""Model adapters: one per framework, the only code that knows framework internals."""

from __future__ import annotations

import sys

from ..errors import UnsupportedModelError, describe
from .base import Adapter
from .function import CallableAdapter


def _is_keras(model: object) -> bool:
    if "keras" not in sys.modules:
        return False
    import keras

    return isinstance(model, keras.Model)


def _is_sklearn(model: object) -> bool:
    module = type(model).__module__
    return module.startswith("sklearn.")


def adapt(model: object) -> Adapter:
    """The adapter for a model: PyTorch module, Keras model, scikit-learn MLP or callable."""
    if isinstance(model, Adapter):
        return model
    if _is_keras(model):  # before torch: on the torch backend a Keras model is an nn.Module
        from .keras import KerasAdapter

        return KerasAdapter(model)
    torch = sys.modules.get("torch")  # a torch module exists only once torch is imported
    if torch is not None and isinstance(model, torch.nn.Module):
        from .torch import TorchAdapter

        return TorchAdapter(model)
    if _is_sklearn(model):
        from .sklearn import SklearnAdapter

        return SklearnAdapter(model)
    if callable(model):
        return CallableAdapter(model)
    raise UnsupportedModelError(f"model must be a torch.nn.Module, a Keras model, a fitted "
                                f"scikit-learn MLP or a callable; received {describe(model)}")


__all__ = ["Adapter", "adapt"]
