"""One short module per method family, each built on an adapter and, where it applies, an engine."""

from .derivatives import partial_derivatives
from .perturbation import permutation, perturbation
from .profile import profile
from .stepwise import improved_stepwise_1, improved_stepwise_2
from .weights import connection_weights, garson

__all__ = ["connection_weights", "garson", "improved_stepwise_1", "improved_stepwise_2",
           "partial_derivatives", "permutation", "perturbation", "profile"]
