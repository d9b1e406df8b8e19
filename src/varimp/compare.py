"""``varimp.compare``: several methods on the same model and data, side by side."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .api import importance
from .errors import InputError, UnsupportedModelError, describe
from .refit import CannotRefit
from .registry import COMMON_OPTIONS, available_methods, method_spec
from .result import Comparison


def compare(model: object, X: object, y: object = None, *, methods: Sequence[str] | None = None,
            method_options: Mapping[str, Mapping[str, Any]] | None = None,
            **options: Any) -> Comparison:
    """Run several importance methods on the same model and data.

    The common options (``feature_names``, ``groups``, ``output``, ``output_step``,
    ``output_kind``, ``scoring``, ``random_state``, ``batch_size``, ``by_time``...) are
    documented in one place, :func:`varimp.importance`; each method's own options in its
    function's docstring.

    Parameters
    ----------
    model, X, y
        As for every method.
    methods : sequence of str, optional
        Method names. ``None`` runs every method that can run on this model and data: those
        that need ``y`` are skipped without it, the weight-based methods for a model whose
        weights cannot be read (a plain callable, a layer varimp cannot read), and the
        retraining methods for a model varimp cannot retrain without ``fit=`` (a plain
        callable, or a network whose output varimp's trainers do not train, as read with the
        given ``output_kind`` and ``classes``); ``Comparison.skipped`` says which and why,
        and a retraining method that finds it cannot retrain only when it runs is skipped the
        same way, never raised. So is a method that replaces cell values (permutation,
        perturbation, profile, stepwise) when ``X`` holds padded steps that the model masks
        (a Keras ``Masking`` layer): it would turn padding into data, and is skipped with
        that refusal while ``partial_derivatives`` runs; any other error is raised. A method
        named explicitly is never skipped: its error is raised.
    **options
        Every common option (see :data:`varimp.registry.COMMON_OPTIONS`), passed to every
        method that uses it, and any method's own options (``noise``, ``variant``, ``steps``...),
        passed to the methods that take them. An option that is neither is an InputError.
    method_options : dict of str to dict, optional
        Options for one method only, ``{method: {option: value}}``, applied over ``**options``
        for that method: e.g. ``{"partial_derivatives": {"scale": "std"}}`` while
        perturbation keeps its own ``scale``. A method that is not compared, or an option the
        method does not take, is an InputError listing the valid ones. Like every option, they
        are recorded in that result's ``details["settings"]``.

    Returns
    -------
    Comparison
        ``results``, ``scores``, ``ranks`` (each method's ranks, by the kind of its scores) and
        ``agreement`` (Spearman correlation of those ranks).

    Examples
    --------
    Two methods on the linear function ``y = 2 x1 + x2`` (a plain callable) agree on the
    ranking: x1, then x2, and x3, which the function ignores, last.

    >>> import numpy as np
    >>> import varimp
    >>> X = np.random.default_rng(0).normal(size=(100, 3))
    >>> def model(X):
    ...     return X @ np.array([2.0, 1.0, 0.0])
    >>> comparison = varimp.compare(model, X, model(X), random_state=0,
    ...                             methods=["permutation", "partial_derivatives"])
    >>> comparison.ranks
        permutation  partial_derivatives
    x1            1                    1
    x2            2                    2
    x3            3                    3
    >>> float(comparison.agreement.loc["permutation", "partial_derivatives"])
    1.0
    """
    if methods is None:
        names, skipped = applicable_methods(model, X, y, fit=options.get("fit"),
                                            output_kind=options.get("output_kind"),
                                            classes=options.get("classes"))
    else:
        names, skipped = list(methods), {}
    specs = {name: method_spec(name) for name in names}
    known = set(COMMON_OPTIONS).union(*(spec.options for spec in specs.values()))
    unknown = sorted(set(options) - known)
    if unknown:
        raise InputError(f"compare received options that are neither common options nor taken by "
                         f"any selected method: {unknown}; common options are "
                         f"{sorted(COMMON_OPTIONS)}")
    own_options = _check_method_options(method_options, specs, skipped)
    results = {}
    for name, spec in specs.items():
        if y is None and spec.needs_y:
            raise InputError(f"method {name!r} measures an error and needs y; received None")
        own = {k: v for k, v in options.items() if k in COMMON_OPTIONS or k in spec.options}
        own.update(own_options.get(name, {}))
        try:
            results[name] = importance(model, X, y, method=name, **own)
        except CannotRefit as exc:
            if methods is not None:  # named by the user: never skipped
                raise
            skipped[name] = f"cannot retrain: {exc.reason}"
        except UnsupportedModelError as exc:
            if methods is not None or str(exc) != (padding := _padding_refusal(model, X)):
                raise  # named by the user, or another refusal: raised as it came
            skipped[name] = f"replaces cell values: {padding}"
    if not results:
        raise InputError(f"no method could run on this model and data: {skipped}")
    return Comparison(results, skipped=skipped)


def applicable_methods(model: object, X: object, y: object = None, *, fit: object = None,
                       output_kind: str | None = None, classes: object = None
                       ) -> tuple[list[str], dict[str, str]]:
    """The available methods that can run on this model and data, and why each other cannot.

    Without ``y`` the methods that measure an error are left out; the weight-based methods when
    varimp cannot read the network's weights (a plain callable, a layer it cannot read); the
    retraining methods when ``fit`` is None and varimp cannot train a model like this one
    (:func:`varimp.refit.refit_refusal`), the model read with ``output_kind`` and ``classes``
    as the methods will read it (the common options of :func:`varimp.importance`).
    :func:`compare` and ``varimp run`` choose by it.
    """
    from .refit import refit_refusal

    names, skipped = [], {}
    weights = retraining = None  # each found out once, when a method needs it
    for name in available_methods():
        spec = method_spec(name)
        if spec.needs_y and y is None:
            skipped[name] = "needs y"
            continue
        if spec.reads_weights:
            weights = _weights_unreadable(model) if weights is None else weights
            if weights:
                skipped[name] = f"cannot read the weights: {weights}"
                continue
        if spec.retrains and fit is None:
            if retraining is None:
                retraining = refit_refusal(model, X, y, output_kind=output_kind,
                                           classes=classes) or ""
            if retraining:
                skipped[name] = f"cannot retrain: {retraining}"
                continue
        names.append(name)
    return names, skipped


def _padding_refusal(model: object, X: object) -> str:
    """The refusal of the methods that replace cell values when ``X`` holds steps the model
    masks as padding (a Keras ``Masking`` layer; :meth:`Adapter.check_padding`), or "" when
    there is none."""
    from .adapters import adapt
    from .validation import validate

    try:
        adapt(model).check_padding(validate(X, None).X)
    except UnsupportedModelError as exc:
        return str(exc)
    return ""


def _weights_unreadable(model: object) -> str:
    """Why varimp cannot read the network's weights, or "" when it can."""
    from .adapters import adapt

    try:
        adapt(model).network()
    except UnsupportedModelError as exc:
        return str(exc)
    return ""


def _check_method_options(method_options: object, specs: Mapping[str, Any],
                          skipped: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """``method_options`` checked at the door: a dict of the compared methods' names to dicts
    of options that method takes (``skipped``: why a method was left out, for the message)."""
    if method_options is None:
        return {}
    if not isinstance(method_options, Mapping):
        raise InputError(f"method_options must be a dict {{method: {{option: value}}}}; "
                         f"received {describe(method_options)}")
    checked = {}
    for name, chosen in method_options.items():
        if name not in specs:
            why = f" ({skipped[name]})" if name in skipped else ""
            raise InputError(f"method_options names {name!r}, which is not among the methods "
                             f"compared {list(specs)}{why}")
        if not isinstance(chosen, Mapping) or not all(isinstance(k, str) for k in chosen):
            raise InputError(f"method_options[{name!r}] must be a dict {{option: value}}; "
                             f"received {describe(chosen)}")
        valid = specs[name].options
        unknown = sorted(set(chosen) - set(valid))
        if unknown:
            raise InputError(f"method_options[{name!r}] holds {unknown}, which method {name!r} "
                             f"does not take; it takes {sorted(valid)}")
        checked[name] = dict(chosen)
    return checked
