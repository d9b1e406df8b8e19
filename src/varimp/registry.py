"""One registry of methods: every fact about a method in one :class:`MethodSpec` entry.

:func:`varimp.importance`, :func:`varimp.compare`, ``varimp methods``, the README's table of
methods and the reliability test matrix all read :data:`REGISTRY`; adding a method is one entry
here (and its function). Functions are named by ``"module:function"`` and imported on first use,
so reading the registry imports no framework.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from .errors import InputError, ModelError, describe
from .result import KINDS, Importance

#: Canonical method names, in the order of Olden, Joy & Death (2004), then permutation.
METHODS: tuple[str, ...] = (
    "connection_weights", "garson", "partial_derivatives", "perturbation", "profile",
    "forward_stepwise", "backward_stepwise", "improved_stepwise_1", "improved_stepwise_2",
    "permutation",
)

#: Options every method accepts through :func:`varimp.importance` and :func:`varimp.compare`;
#: a method that does not use one leaves it out (see ``details["settings"]``).
COMMON_OPTIONS: tuple[str, ...] = (
    "feature_names", "groups", "output", "output_step", "output_kind", "scoring", "classes",
    "random_state", "ci_level", "n_bootstrap", "n_repeats", "batch_size", "max_memory",
    "n_jobs", "backend", "progress", "by_time",
)

#: What a method's scores can hold: one of the kinds of :class:`varimp.Importance`, or a kind
#: that depends on the call: perturbation's (a loss with ``y``, a magnitude without) and
#: connection weights' (a signed effect for one output, the mean magnitude over several).
SPEC_KINDS: tuple[str, ...] = (*KINDS, "loss (with y) or magnitude (without)",
                               "effect (one output) or magnitude (several)")
#: Names a method cannot take: the common options, and the arguments of
#: :func:`varimp.importance` and :func:`varimp.compare` themselves.
RESERVED_NAMES: tuple[str, ...] = (*COMMON_OPTIONS, "model", "X", "y", "method", "methods")


@dataclass(frozen=True)
class MethodSpec:
    """The facts of one method.

    Attributes
    ----------
    name : str
        Canonical name (one of :data:`METHODS`), or the name of a method added with
        :func:`register`.
    target : str
        ``"module:function"`` implementing it, imported on first use (:attr:`function`).
    title, reference : str
        What it computes in a few words, and the paper it comes from.
    needs_y : bool
        Measures an error, so it needs targets.
    reads_weights : bool
        Reads the network's weights (needs a network whose structure varimp can read).
    retrains : bool
        Fits new networks (needs ``fit=`` or a model varimp can rebuild).
    by_time : bool
        Resolves importance per time step (``Importance.by_time``) on sequences.
    random : bool
        Can draw random numbers (seeded by ``random_state``), with its defaults or with one of
        its options (profile's ``levels="kmeans"``): with ``random_state=None`` two calls
        may differ.
    kind : str
        What its scores hold: ``"loss"``, ``"effect"``, ``"share"`` or ``"magnitude"``, or a
        kind that depends on the call (one of :data:`SPEC_KINDS`): ``"loss (with y) or
        magnitude (without)"`` (perturbation), ``"effect (one output) or magnitude
        (several)"`` (connection weights). :attr:`kinds` lists the plain kinds.
    cost : str
        Its cost in passes over the rows, fits or rows (``n`` samples, ``p`` variables, ``T``
        steps); the perturbation methods also predict the unperturbed rows once, not counted.
    min_samples : int
        The fewest rows of X it can say anything about.
    scales : bool
        Takes ``scale="none"`` or ``"std"``: its scores per raw unit of every input, or per
        standard deviation (the command line's ``--scale``).
    without_y : bool
        Takes ``scoring=None``: besides its loss against ``y``, it has a measure without
        targets, the change of the predictions (perturbation's RMS change), which it uses
        with ``scoring=None`` or without ``y``.
    """

    name: str
    target: str
    title: str
    reference: str
    needs_y: bool = False
    reads_weights: bool = False
    retrains: bool = False
    by_time: bool = True
    random: bool = False
    kind: str = "magnitude"
    cost: str = ""
    min_samples: int = 1
    scales: bool = False
    without_y: bool = False

    @property
    def function(self) -> Callable[..., Any]:
        """The function implementing the method. A method added with :func:`register` is
        wrapped as the built-in ones are: its result records the options it ran with in
        ``details["settings"]``, an option it does not take is an InputError, X with fewer than
        ``min_samples`` rows is an InputError, and a result that is not an
        :class:`~varimp.Importance` is a :class:`~varimp.ModelError` naming the method."""
        module, name = self.target.split(":")
        function = getattr(importlib.import_module(module), name)
        if self.name in METHODS:  # the built-in methods are wrapped in varimp.methods
            return function
        from .methods._common import records_settings

        return records_settings(_returns_importance(function, self.name, self.target),
                                self.min_samples)

    @property
    def kinds(self) -> tuple[str, ...]:
        """The kinds of :class:`~varimp.Importance` its results can have, in the order
        :attr:`kind` names them (``("effect", "magnitude")`` for connection weights)."""
        return tuple(word for word in re.findall(r"\w+", self.kind) if word in KINDS)

    @property
    def options(self) -> tuple[str, ...]:
        """The keyword options its function takes (everything after model, X, y)."""
        params = inspect.signature(self.function).parameters
        return tuple(n for n, p in params.items() if p.kind is inspect.Parameter.KEYWORD_ONLY)


_M = "varimp.methods"
REGISTRY: dict[str, MethodSpec] = {spec.name: spec for spec in (
    MethodSpec("connection_weights", f"{_M}:connection_weights",
               "summed products of raw weights along every input-output path",
               "Olden & Jackson (2002)", reads_weights=True,
               kind="effect (one output) or magnitude (several)", cost="no model call",
               scales=True),
    MethodSpec("garson", f"{_M}:garson", "shares of absolute weight products",
               "Garson (1991); Goh (1995)", reads_weights=True, kind="share",
               cost="no model call", scales=True),
    MethodSpec("partial_derivatives", f"{_M}:partial_derivatives",
               "sum of squared derivatives of the output (PaD)",
               "Dimopoulos et al. (1995, 1999)",
               cost="autodiff: one gradient pass per output (per logit and predicted step for "
               "logits explained as probabilities); a plain function: 2 p passes per gradient "
               "(2 T p on sequences)", scales=True),
    MethodSpec("perturbation", f"{_M}:perturbation",
               "noise on one input at a time: increase in error, or RMS change without y",
               "Scardi & Harding (1999); Gevrey et al. (2003)", random=True,
               kind="loss (with y) or magnitude (without)",
               cost="levels x repeats x (p + T p) passes",
               min_samples=2, without_y=True),
    MethodSpec("profile", f"{_M}:profile",
               "each input swept over its range, the others at fixed levels; range of the "
               "median curve", "Lek et al. (1996)", random=True,
               cost="p x levels x 12 rows (+ T p x 12 for cells)", min_samples=2),
    MethodSpec("forward_stepwise", f"{_M}:forward_stepwise",
               "inputs added one by one, the network retrained for each candidate; each "
               "scored by the error decrease at the step it enters",
               "Gevrey et al. (2003); Olden, Joy & Death (2004)", needs_y=True, retrains=True,
               by_time=False, random=True, kind="loss", cost="1 + p (p + 1) / 2 fits",
               min_samples=2),
    MethodSpec("backward_stepwise", f"{_M}:backward_stepwise",
               "inputs removed one by one, the network retrained for each candidate; each "
               "scored by the error increase at the step it leaves",
               "Gevrey et al. (2003); Olden, Joy & Death (2004)", needs_y=True, retrains=True,
               by_time=False, random=True, kind="loss", cost="1 + p (p + 1) / 2 fits",
               min_samples=2),
    MethodSpec("improved_stepwise_1", f"{_M}:improved_stepwise_1",
               "increase in error with one input held at its mean", "Gevrey et al. (2003)",
               needs_y=True, kind="loss", cost="p (+ T p) passes", min_samples=2),
    MethodSpec("improved_stepwise_2", f"{_M}:improved_stepwise_2",
               "inputs held at their means one by one, least important first, each scored at "
               "the step it leaves", "Gevrey et al. (2003)", needs_y=True, by_time=False,
               kind="loss", cost="p (p + 1) / 2 passes", min_samples=2),
    MethodSpec("permutation", f"{_M}:permutation",
               "increase in error when one input is shuffled", "Breiman (2001); Fisher et al. "
               "(2019)", needs_y=True, random=True, kind="loss",
               cost="repeats x (p + T p) passes", min_samples=2),
)}


def available_methods() -> tuple[str, ...]:
    """Every method in the registry: those of ``METHODS`` this version implements, in canonical
    order, then the ones added with :func:`register`, in the order they were added."""
    extras = tuple(name for name in REGISTRY if name not in METHODS)
    return tuple(name for name in METHODS if name in REGISTRY) + extras


def method_spec(method: object) -> MethodSpec:
    """The registry entry of ``method``; InputError for an unknown name."""
    spec = REGISTRY.get(method) if isinstance(method, str) else None
    if spec is None:
        planned = " (planned, not in this version)" if method in METHODS else ""
        raise InputError(f"method must be one of {list(available_methods())}; received "
                         f"{method!r}{planned}")
    return spec


def register(spec: MethodSpec) -> None:
    """Add a method (one entry) so that importance, compare and ``varimp methods`` see it.

    The entry joins :data:`REGISTRY`, so :func:`available_methods` lists it after the canonical
    methods (and :func:`varimp.compare` runs it by default). It is checked here, not at first
    use: its ``name`` is a Python identifier that is neither a built-in method (:data:`METHODS`)
    nor a common option or an argument of :func:`varimp.importance` (:data:`RESERVED_NAMES`);
    its ``kind`` is one of :data:`SPEC_KINDS`; its flags are booleans and ``min_samples`` an
    integer >= 1; its ``target`` ``"module:function"`` imports now and names a callable that
    takes ``model, X, y`` (its options keyword-only), among them ``scale`` where ``scales``
    and ``scoring`` where ``without_y`` (which ``needs_y`` excludes). Its function must return an
    :class:`~varimp.Importance` (else :class:`~varimp.ModelError`); the options it ran with,
    defaults included, are recorded in ``details["settings"]`` as for the built-in methods (see
    :attr:`MethodSpec.function`). An entry added earlier under the same name is replaced.
    ``METHODS`` keeps the canonical names only. A bad entry is an :class:`~varimp.InputError`
    and leaves the registry as it was.
    """
    if not isinstance(spec, MethodSpec):
        raise InputError(f"register needs a MethodSpec; received {type(spec).__name__}")
    _check_entry(spec)
    REGISTRY[spec.name] = spec


def _check_entry(spec: MethodSpec) -> None:
    """InputError for a :class:`MethodSpec` that :func:`register` cannot take."""
    name = spec.name
    if not isinstance(name, str) or not name.isidentifier():
        raise InputError(f"a method's name must be a Python identifier (letters, digits and "
                         f"underscores, not starting with a digit); received {name!r}")
    if name in METHODS:
        raise InputError(f"{name!r} is a built-in method; register a new method under another "
                         "name")
    if name in RESERVED_NAMES:
        raise InputError(f"a method's name must not be a common option or an argument of "
                         f"varimp.importance {sorted(RESERVED_NAMES)}; received {name!r}")
    if spec.kind not in SPEC_KINDS:
        raise InputError(f"method {name!r}: kind must be one of {list(SPEC_KINDS)}; received "
                         f"{spec.kind!r}")
    for field in fields(MethodSpec):
        value = getattr(spec, field.name)
        if field.type == "bool" and not isinstance(value, bool):
            raise InputError(f"method {name!r}: {field.name} must be True or False; received "
                             f"{describe(value)}")
        if field.type == "str" and not isinstance(value, str):
            raise InputError(f"method {name!r}: {field.name} must be a string; received "
                             f"{describe(value)}")
    if isinstance(spec.min_samples, bool) or not isinstance(spec.min_samples, int) or \
            spec.min_samples < 1:
        raise InputError(f"method {name!r}: min_samples must be an integer >= 1; received "
                         f"{describe(spec.min_samples)}")
    _check_target(name, spec.target)
    if spec.needs_y and spec.without_y:
        raise InputError(f"method {name!r}: needs_y and without_y contradict each other (a "
                         "method that needs y has no measure without it)")
    for flag, option in (("scales", "scale"), ("without_y", "scoring")):
        if getattr(spec, flag) and option not in spec.options:
            raise InputError(f"method {name!r}: {flag}=True needs a function taking the "
                             f"keyword-only option {option!r}; {spec.target!r} takes "
                             f"{list(spec.options)}")


def _check_target(name: str, target: str) -> None:
    """InputError unless ``target`` imports now as a callable taking ``model, X, y``."""
    module, _, attribute = target.partition(":")
    if not module or not attribute or ":" in attribute:
        raise InputError(f"method {name!r}: target must be 'module:function'; received "
                         f"{target!r}")
    try:
        function = getattr(importlib.import_module(module), attribute)
    except ImportError as exc:
        raise InputError(f"method {name!r}: target {target!r} does not import: "
                         f"{type(exc).__name__}: {exc}") from exc
    except AttributeError as exc:
        raise InputError(f"method {name!r}: module {module!r} has no {attribute!r} (target "
                         f"{target!r})") from exc
    if not callable(function):
        raise InputError(f"method {name!r}: target {target!r} must be a function; it is "
                         f"{describe(function)}")
    try:
        inspect.signature(function).bind(None, None, None)
    except TypeError as exc:
        raise InputError(f"method {name!r}: {target} must take (model, X, y) and keyword-only "
                         f"options; its signature is {inspect.signature(function)}") from exc
    except ValueError:  # a builtin without a signature: it is called as it is
        pass


def _returns_importance(function: Callable[..., Any], name: str, target: str
                        ) -> Callable[..., Any]:
    """``function``, raising ModelError when it returns anything but an Importance."""

    @functools.wraps(function)
    def method(*args: Any, **kwargs: Any) -> Any:
        result = function(*args, **kwargs)
        if not isinstance(result, Importance):
            raise ModelError(f"method {name!r} ({target}) must return a varimp.Importance; it "
                             f"returned {describe(result)}")
        return result

    return method
