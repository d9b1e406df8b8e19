"""``varimp.importance``: one entry point that dispatches to every method by name, with one call
shape: every common option is accepted by every method, and those a method does not use are
left out (and listed in ``details["options_not_used"]``)."""

from __future__ import annotations

from typing import Any

from .errors import InputError
from .registry import COMMON_OPTIONS, METHODS, MethodSpec, available_methods, method_spec
from .result import Importance

__all__ = ["METHODS", "available_methods", "importance", "split_options"]

#: Common options that configure how the model is read; a method that does not take them
#: directly still honours them through its adapter.
_MODEL_OPTIONS = ("output_kind", "classes")


def split_options(spec: MethodSpec, options: dict[str, Any]
                  ) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """``(method's own options, model options, names left out)``; InputError for an option
    that is neither a common option nor the method's own."""
    own = set(spec.options)
    unknown = sorted(set(options) - own - set(COMMON_OPTIONS))
    if unknown:
        raise InputError(f"method {spec.name!r} takes the options {sorted(own)} and the common "
                         f"options {sorted(COMMON_OPTIONS)}; received unknown {unknown}")
    used = {k: v for k, v in options.items() if k in own}
    model = {k: v for k, v in options.items() if k in _MODEL_OPTIONS and k not in own}
    unused = sorted(k for k in options if k not in own and k not in model)
    return used, model, unused


def importance(model: object, X: object = None, y: object = None, *, method: str,
               **options: Any) -> Importance:
    """Importance of every input of ``model`` by the method called ``method``.

    ``importance(model, X, y, method="garson", variant="goh")`` is
    ``garson(model, X, y, variant="goh")``. Every common option (``feature_names``, ``groups``,
    ``output``, ``output_step``, ``output_kind``, ``scoring``, ``classes``, ``random_state``,
    ``n_repeats``, ``batch_size``, ``max_memory``, ``progress``, ``by_time``, ...) is accepted
    for every method; one the method does not use is left out and named in
    ``details["options_not_used"]``. The settings the method ran with, defaults included, are
    in ``details["settings"]``. See ``varimp.registry`` and each method for its own options.
    """
    spec = method_spec(method)
    used, model_options, unused = split_options(spec, options)
    if model_options:
        from .adapters import adapt

        model = adapt(model).configure(**model_options)
    result = spec.function(model, X, y, **used)
    result.details.setdefault("settings", {}).update(model_options)
    result.details["options_not_used"] = unused
    return result
