"""``varimp.importance``: one entry point that dispatches to every method by name."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from .errors import InputError
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
from .result import Importance

#: Canonical method names, in the order of Olden, Joy & Death (2004), then permutation.
METHODS: tuple[str, ...] = (
    "connection_weights", "garson", "partial_derivatives", "perturbation", "profile",
    "forward_stepwise", "backward_stepwise", "improved_stepwise_1", "improved_stepwise_2",
    "permutation",
)

_REGISTRY: dict[str, Callable[..., Importance]] = {
    "connection_weights": connection_weights,
    "garson": garson,
    "partial_derivatives": partial_derivatives,
    "profile": profile,
    "perturbation": perturbation,
    "permutation": permutation,
    "improved_stepwise_1": improved_stepwise_1,
    "improved_stepwise_2": improved_stepwise_2,
}


def register(name: str, function: Callable[..., Importance]) -> None:
    """Make a method reachable through :func:`importance` under its canonical name."""
    _REGISTRY[name] = function


def available_methods() -> tuple[str, ...]:
    """The methods of ``METHODS`` this version implements, in canonical order."""
    return tuple(name for name in METHODS if name in _REGISTRY)


def importance(model: object, X: object = None, y: object = None, *, method: str,
               **options: Any) -> Importance:
    """Importance of every input of ``model`` by the method called ``method``.

    ``importance(model, X, y, method="garson", variant="goh")`` is
    ``garson(model, X, y, variant="goh")``; see each method for its options.
    """
    function = method_function(method)
    unknown = sorted(set(options) - set(accepted_options(function)))
    if unknown:
        raise InputError(f"method {method!r} takes the options "
                         f"{sorted(accepted_options(function))}; received unknown {unknown}")
    return function(model, X, y, **options)


def method_function(method: str) -> Callable[..., Importance]:
    """The function implementing ``method``; InputError for an unknown name."""
    function = _REGISTRY.get(method) if isinstance(method, str) else None
    if function is None:
        raise InputError(f"method must be one of {list(available_methods())}; received "
                         f"{method!r}")
    return function


def accepted_options(function: Callable[..., Importance]) -> tuple[str, ...]:
    """The keyword options a method function takes (everything after model, X, y)."""
    params = inspect.signature(function).parameters
    return tuple(name for name, p in params.items()
                 if p.kind is inspect.Parameter.KEYWORD_ONLY)
