"""One short module per method family, each built on an adapter and, where it applies, an engine.

The functions exported here record the settings they ran with in ``details["settings"]`` and
refuse too few rows for the method (``MethodSpec.min_samples`` in :mod:`varimp.registry`).
"""

from ..registry import REGISTRY
from . import derivatives as _derivatives
from . import perturbation as _perturbation
from . import profile as _profile
from . import retraining as _retraining
from . import stepwise as _stepwise
from . import weights as _weights
from ._common import records_settings


def _method(function):
    return records_settings(function, REGISTRY[function.__name__].min_samples)


connection_weights = _method(_weights.connection_weights)
garson = _method(_weights.garson)
partial_derivatives = _method(_derivatives.partial_derivatives)
perturbation = _method(_perturbation.perturbation)
permutation = _method(_perturbation.permutation)
profile = _method(_profile.profile)
forward_stepwise = _method(_retraining.forward_stepwise)
backward_stepwise = _method(_retraining.backward_stepwise)
improved_stepwise_1 = _method(_stepwise.improved_stepwise_1)
improved_stepwise_2 = _method(_stepwise.improved_stepwise_2)

__all__ = ["backward_stepwise", "connection_weights", "forward_stepwise", "garson",
           "improved_stepwise_1", "improved_stepwise_2",
           "partial_derivatives", "permutation", "perturbation", "profile"]
