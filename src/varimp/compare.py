"""``varimp.compare``: several methods on the same model and data, side by side."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .api import accepted_options, available_methods, method_function
from .errors import InputError, UnsupportedModelError
from .result import Comparison

#: Methods that measure an error and therefore need targets.
NEEDS_Y = frozenset({"permutation", "improved_stepwise_1", "improved_stepwise_2",
                     "forward_stepwise", "backward_stepwise"})
#: Methods that read the weights and apply only to networks whose structure can be read.
READS_WEIGHTS = frozenset({"connection_weights", "garson"})


def compare(model: object, X: object, y: object = None, *, methods: Sequence[str] | None = None,
            **options: Any) -> Comparison:
    """Run several importance methods on the same model and data.

    Parameters
    ----------
    model, X, y
        As for every method.
    methods : sequence of str, optional
        Method names. ``None`` runs every applicable method: those that need ``y`` are skipped
        without it, and the weight-based methods are skipped for a model whose weights cannot be
        read; ``Comparison.skipped`` says why. A method named explicitly is never skipped: its
        error is raised.
    **options
        Passed to every method that takes them (``feature_names``, ``groups``, ``output``,
        ``random_state``, ``n_repeats``, ``batch_size``...). An option no method takes is an error.

    Returns
    -------
    Comparison
        ``results``, ``scores``, ``ranks`` and ``agreement`` (Spearman rank correlation).
    """
    explicit = methods is not None
    names = list(available_methods()) if methods is None else list(methods)
    functions = {name: method_function(name) for name in names}
    known = set().union(*(accepted_options(f) for f in functions.values()))
    unknown = sorted(set(options) - known)
    if unknown:
        raise InputError(f"compare received options no selected method takes: {unknown}")
    results, skipped = {}, {}
    for name, function in functions.items():
        if y is None and name in NEEDS_Y:
            if explicit:
                raise InputError(f"method {name!r} measures an error and needs y; received None")
            skipped[name] = "needs y"
            continue
        kwargs = {k: v for k, v in options.items() if k in accepted_options(function)}
        try:
            results[name] = function(model, X, y, **kwargs)
        except UnsupportedModelError as exc:
            if explicit or name not in READS_WEIGHTS:
                raise
            skipped[name] = str(exc)
    if not results:
        raise InputError(f"no method could run on this model and data: {skipped}")
    return Comparison(results, skipped=skipped)
