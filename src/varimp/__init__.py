"""varimp: which inputs drive a neural network's predictions, for MLPs and recurrent networks.

The nine methods compared by Olden, Joy & Death (2004) plus permutation importance, for
PyTorch, Keras 3 and scikit-learn models, on tables ``(n, p)`` and sequences ``(n, T, p)``.
"""

from . import datasets
from .api import METHODS, available_methods, importance
from .compare import compare
from .errors import InputError, ModelError, UnsupportedModelError, VarImpError
from .methods import (
    connection_weights,
    garson,
    improved_stepwise_1,
    improved_stepwise_2,
    partial_derivatives,
    permutation,
    perturbation,
    profile,
)
from .result import Comparison, Importance
from .train import train_mlp, train_recurrent

__version__ = "0.1.0"

__all__ = [
    "METHODS", "Comparison", "Importance", "InputError", "ModelError", "UnsupportedModelError",
    "VarImpError", "__version__", "available_methods", "compare", "connection_weights", "garson",
    "datasets", "train_mlp", "train_recurrent",
    "importance", "partial_derivatives", "profile",
    "improved_stepwise_1", "improved_stepwise_2", "permutation", "perturbation",
]
