"""varimp: which inputs drive a neural network's predictions, for MLPs and recurrent networks.

The nine methods compared by Olden, Joy & Death (2004) plus permutation importance, for
PyTorch, Keras 3 and scikit-learn models, on tables ``(n, p)`` and sequences ``(n, T, p)``.

``import varimp`` loads numpy and pandas only: PyTorch, Keras, scikit-learn, SciPy and
matplotlib are imported where they are first needed (a method called on a model, a plot), and
the trainers, which need PyTorch, on first access to their names (PEP 562).
"""

from importlib import import_module
from typing import Any

from . import datasets
from .api import METHODS, available_methods, importance
from .compare import compare
from .errors import InputError, ModelError, UnsupportedModelError, VarImpError
from .methods import (
    backward_stepwise,
    connection_weights,
    forward_stepwise,
    garson,
    improved_stepwise_1,
    improved_stepwise_2,
    partial_derivatives,
    permutation,
    perturbation,
    profile,
)
from .registry import MethodSpec
from .result import Comparison, Importance

__version__ = "0.1.0"

#: Public names whose module imports a heavy library, loaded on first access: name -> module.
_LAZY = {"train_mlp": ".train", "train_recurrent": ".train", "randomization_test": ".stats",
         "ensemble": ".stats"}


#: Subpackages loaded on first access (``varimp.plot.plot_network`` after ``import varimp``).
_SUBMODULES = ("plot",)


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return import_module(f".{name}", __name__)
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | set(_SUBMODULES))


__all__ = [
    "METHODS", "Comparison", "Importance", "InputError", "MethodSpec", "ModelError",
    "UnsupportedModelError", "VarImpError", "__version__", "available_methods",
    "backward_stepwise", "compare", "connection_weights", "datasets", "ensemble",
    "forward_stepwise", "garson", "importance", "improved_stepwise_1", "improved_stepwise_2",
    "partial_derivatives", "permutation", "perturbation", "profile", "randomization_test",
    "train_mlp", "train_recurrent",
]
