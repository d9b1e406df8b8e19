"""What every method does at the door: adapt the model, validate the data, resolve options."""

from __future__ import annotations

import difflib
import functools
import inspect
import numbers
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from ..adapters import Adapter, adapt
from ..errors import InputError, describe
from ..result import Importance
from ..scoring.targets import check_classes_apply
from ..validation import (
    Data,
    check_feature_names,
    check_groups,
    check_y,
    one_hot_codes,
    scaled_one_hot,
    validate,
)

#: Inputs whose standard deviations differ by more than this factor get a warning from the
#: methods whose scores are per unit of each input (partial derivatives, connection weights,
#: Garson) with ``scale="none"``: their raw scores are in incomparable units.
SPREAD_RATIO_WARNING = 10.0


def warn_units(spread: np.ndarray, feature_names: Sequence[str], what: str,
               stacklevel: int = 4) -> None:
    """Warn that ``what`` (e.g. "partial derivatives depend") on the units of the inputs when
    the standard deviations ``spread`` (0 for a column left out: a one-hot member, a constant)
    differ by more than :data:`SPREAD_RATIO_WARNING` times, naming the two extremes."""
    varying = spread > 0
    if varying.sum() < 2:
        return
    low, high = np.argmin(np.where(varying, spread, np.inf)), np.argmax(spread)
    if spread[high] > SPREAD_RATIO_WARNING * spread[low]:
        warnings.warn(
            f"{what} on the units of the inputs, and their standard deviations differ by a "
            f"factor of {spread[high] / spread[low]:.3g} ({feature_names[high]!r}: "
            f"{spread[high]:.3g}, {feature_names[low]!r}: {spread[low]:.3g}); pass "
            "scale='std' to score each input per standard deviation",
            UserWarning, stacklevel=stacklevel)


@dataclass(frozen=True)
class Setup:
    """An adapted model and validated data, with the variables to score."""

    adapter: Adapter
    data: Data
    groups: dict[str, list[int]]

    @property
    def variables(self) -> list[str]:
        return list(self.groups)


def prepare(
    model: object,
    X: object,
    y: object = None,
    *,
    feature_names: object = None,
    groups: Mapping[str, Sequence] | None = None,
    y_required: bool = False,
    replaces_cells: bool = True,
    output_kind: str | None = None,
    classes: object = None,
) -> Setup:
    """Adapt the model, validate X and y once, and check that X fits the model's input.

    ``replaces_cells``: the method puts other values into cells of X (perturbation,
    permutation, profile, stepwise), so padding that the model masks is refused.
    ``output_kind`` and ``classes`` override what the adapter reads from the model;
    ``classes`` for outputs read as regression values is refused (:func:`configured`).
    """
    adapter = configured(model, output_kind, classes)
    data = validate(X, None, feature_names=feature_names, fitted_columns=adapter.input_columns)
    adapter.check_input(data.X)  # the shape of X first: a 2-D X for a sequence model says so
    adapter.check_range(data.X, data.feature_names)  # values the model's dtype cannot hold
    target, target_names = check_y(_not_per_head(y, adapter, data.n_samples), data.n_samples,
                                   required=y_required, index=data.index)
    target, target_names = by_output_name(target, target_names, adapter)
    data = replace(data, y=target, target_names=target_names)
    if replaces_cells:
        adapter.check_padding(data.X)
    return Setup(adapter, data, check_groups(groups, data.feature_names))


def _not_per_head(y: object, adapter: Adapter, n_samples: int) -> object:
    """``y`` as given, unless it is a dict, or a list or tuple of one target per output head
    (several arrays of ``n_samples`` rows each): an InputError saying to pass a DataFrame."""
    names = adapter.model_output_names()
    per_head = isinstance(y, Mapping) or (
        isinstance(y, list | tuple) and 1 < len(y) != n_samples
        and all(np.ndim(part) >= 1 and len(part) == n_samples for part in y))
    if not per_head:
        return y
    given = f"a dict with keys {list(map(str, y))}" if isinstance(y, Mapping) else \
        f"a {type(y).__name__} of {len(y)} targets"
    heads = f"the model's outputs {list(names)}" if names is not None else "the outputs"
    raise InputError(f"y must be an array or a DataFrame; received {given}. For a model with "
                     f"several output heads pass y as a DataFrame with one column per output, "
                     f"named like {heads} (e.g. pd.DataFrame(y_dict)); varimp puts its columns "
                     "in the model's order by name")


def by_output_name(target: np.ndarray | None, columns: tuple[str, ...] | None,
                   adapter: Adapter) -> tuple[np.ndarray | None, tuple[str, ...] | None]:
    """The columns of a DataFrame ``y`` in the order of the model's outputs, for a model that
    names them (a Keras model's output heads, joined in the order of ``keras.tree.flatten``:
    a dict of heads by sorted key, which need not be the order the heads were written in).

    Columns named exactly like the outputs (in any order) are put in the model's order; any
    other column names for such a model are an InputError naming both lists, since reading
    them by position could score each output against another output's targets. An array
    ``y`` is read by position, in the model's order."""
    names = adapter.model_output_names()
    if columns is None or names is None or target is None or columns == names:
        return target, columns
    if target.ndim == 2 and len(set(columns)) == len(columns) and set(columns) == set(names):
        return target[:, [columns.index(name) for name in names]], names
    raise InputError(
        f"y's columns {list(columns)} are not the model's output names {list(names)}: a model "
        "that names its outputs has the columns of a DataFrame y matched to its outputs by "
        "name, one column per output (in any order). Name y's columns like the outputs, or "
        "pass y as an array whose columns are in the model's order "
        f"({', '.join(names)})")


def configured(model: object, output_kind: str | None, classes: object) -> Adapter:
    """The model's adapter with ``output_kind`` and ``classes`` (given here, or earlier
    through :func:`varimp.importance`, which configures the adapter it passes on).

    ``classes`` names a classifier's outputs: given for a model whose outputs are read as
    regression values (and which declares no classes of its own) it would be ignored by
    every method, so it is an InputError saying to declare the output kind
    (:func:`varimp.scoring.targets.check_classes_apply`)."""
    adapter = adapt(model).configure(output_kind=output_kind, classes=classes)
    if adapter.model_classes() is None:
        check_classes_apply(adapter.output_kind, adapter.classes, not adapter.output_kind_given)
    return adapter


def names_without_data(
    n_features: int, feature_names: object, groups: Mapping | None
) -> tuple[tuple[str, ...], dict[str, list[int]]]:
    """Feature names and groups when a weight-based method is called without X."""
    names = check_feature_names(feature_names, n_features, None)
    return names, check_groups(groups, names)


def resolve_output(output: object, n_outputs: int, names: Sequence | None = None) -> list[int]:
    """The output indices to explain: an index, a name, a list of them, or all for ``None``.

    Names are the adapter's output names (class labels, Keras output names, the columns of a
    DataFrame ``y``), matched as strings; an integer is always an index (give an integer class
    label as a string, ``output="2"``). Duplicates are refused; the order given is kept.
    """
    if output is None:
        return list(range(n_outputs))
    many = isinstance(output, list | tuple | np.ndarray | pd.Index)
    items = list(output) if many else [output]
    if many and not items:
        raise InputError(f"output must name at least one output; received {describe(output)}")
    indices = [_one_output(item, n_outputs, names) for item in items]
    if len(set(indices)) != len(indices):
        raise InputError(f"output lists the same output twice; received {describe(output)}")
    return indices


def _one_output(output: object, n_outputs: int, names: Sequence | None) -> int:
    labels = None if names is None else [str(name) for name in names]
    if isinstance(output, numbers.Integral) and not isinstance(output, bool | np.bool_):
        index = int(output)
        if not -n_outputs <= index < n_outputs:
            raise InputError(f"output must be an index in 0..{n_outputs - 1} (the model has "
                             f"{n_outputs} outputs); received {output}")
        return index % n_outputs
    if labels is not None and str(output) in labels:
        return labels.index(str(output))
    if str(output) in getattr(names, "refused", {}):  # a class the model has no unit for
        raise InputError(names.refused[str(output)])
    known = ("the model's outputs have no names: name them by passing y as a DataFrame (its "
             "columns), classes= (a classifier's labels) or, for Keras, naming its output "
             "layers") if labels is None else f"output names are {labels[:10]}"
    raise InputError(f"output must be an integer index in 0..{n_outputs - 1} or an output name "
                     f"({known}); received {describe(output)}")


def resolve_step(output_step: object, n_steps: int) -> int | None:
    """The predicted time step to explain, or None for all of them together."""
    if output_step is None:
        return None
    if isinstance(output_step, bool) or not isinstance(output_step, numbers.Integral) or \
            not -n_steps <= int(output_step) < n_steps:
        if n_steps == 1:
            raise InputError(f"output_step must be None or 0: the model predicts one step (one "
                             f"prediction per sequence; several values in it are outputs, "
                             f"chosen with output=, not output_step); received "
                             f"{output_step!r}")
        raise InputError(f"output_step must be None or a predicted step in 0..{n_steps - 1} "
                         f"(the model predicts {n_steps} steps); received {output_step!r}")
    return int(output_step) % n_steps


def output_names(adapter: Adapter, data: Data | None, n_outputs: int
                 ) -> tuple[str, ...] | None:
    """Names of the model's ``n_outputs`` outputs: class labels or Keras output names (from the
    adapter), else the columns of a DataFrame ``y``; None when none of them fits."""
    for names in (adapter.unit_names(n_outputs), None if data is None else data.target_names):
        if names is not None and len(names) == n_outputs:
            return names if isinstance(names, tuple) else tuple(names)
    return None


def output_labels(indices: Iterable[Any], names: Sequence | Mapping | None) -> list[str]:
    """The label of each output in ``indices``, as results name their columns and figures their
    curves: its name, ``names[i]`` (a sequence naming every output, as :func:`output_names`
    gives, or a mapping naming some of them), else ``"output i"``.

    >>> output_labels([0, 2], ("oak", "fir", "ash")), output_labels([0, 1], {1: "fir"})
    (['oak', 'ash'], ['output 0', 'fir'])
    """
    if names is None or isinstance(names, Mapping):
        named = {} if names is None else names
        return [str(named[i]) if i in named else f"output {i}" for i in indices]
    return [str(names[i]) for i in indices]


def explained_outputs(setup: Setup, shape: tuple[int, int, int]) -> tuple[str | None, str]:
    """What the methods that read the outputs themselves (partial derivatives, profile,
    perturbation without ``y``) explain: ``(link, words)``. Logits are explained as
    probabilities (:func:`varimp.scoring.logit_link`: a softmax of several logits, a sigmoid of
    one, or of each with a multi-hot ``y``), since a softmax does not identify them; regression
    values and probabilities as they are. ``words`` goes to ``details["explained"]``."""
    from ..scoring import EXPLAINED, logit_link

    kind = setup.adapter.output_kind
    link = logit_link(kind, shape, setup.data.y)
    words = {"regression": "regression values", "probability": "probabilities"}.get(kind, kind)
    return link, EXPLAINED[link].format(kind=words)


def one_hot_blocks(X: np.ndarray, variables: Mapping[str, list[int]], declared: object
                   ) -> dict[str, np.ndarray]:
    """The category code of every row (every cell of a sequence), ``(n[, T])``, of each declared
    group (``declared``: the ``groups=`` option) that is a one-hot block: members holding only
    0 and 1, at most one 1 per row (:func:`varimp.validation.one_hot_codes`; code 0 is the
    reference, a row of zeros, code ``j + 1`` member ``j``)."""
    found, scaled = {}, {}
    for name in map(str, declared or ()):
        codes = one_hot_codes(X[..., variables[name]])
        if codes is not None:
            found[name] = codes
        elif (values := scaled_one_hot(X[..., variables[name]])) is not None:
            scaled[name] = values
    if scaled:
        warnings.warn(_scaled_message(scaled), UserWarning, stacklevel=3)
    return found


def _scaled_message(scaled: Mapping[str, tuple[np.ndarray, np.ndarray]]) -> str:
    """The warning for declared groups that look like standardised one-hot blocks."""
    listed = "; ".join(f"{name!r} (member values {np.round(low[0], 3):g} and "
                       f"{np.round(high[0], 3):g}" + (", ..." if len(low) > 1 else "") + ")"
                       for name, (low, high) in scaled.items())
    one = len(scaled) == 1
    return (f"{'group' if one else 'groups'} {listed} {'looks' if one else 'look'} like a "
            "one-hot block that was scaled: every member holds "
            "two values, at most one member per row at its higher value, but the values are "
            "not 0 and 1. It is read as numeric columns: the members are moved together and "
            "their signed effects (derivatives, connection weights) summed, so opposite "
            "categories can cancel. To score it as categories, pass the block as 0/1, unscaled "
            "(scale the other columns only, e.g. with a ColumnTransformer, and train on that); "
            "as it is, each score is that of moving every member together by one unit of its "
            "scaled values")


def block_categories(codes: np.ndarray, n_members: int) -> np.ndarray:
    """The categories a one-hot block can be moved to or swept over: every member (codes
    ``1..m``), then the reference (code 0) when ``X`` holds a row of zeros."""
    members = np.arange(1, n_members + 1)
    return np.append(members, 0) if np.any(codes == 0) else members


def group_columns(values: np.ndarray, groups: Mapping[str, list[int]]) -> np.ndarray:
    """Sum the last axis over each variable's feature columns (a group moves as one)."""
    return np.stack([values[..., cols].sum(axis=-1) for cols in groups.values()], axis=-1)


def time_table(values: np.ndarray, variables: Sequence[str]) -> pd.DataFrame:
    """A time x variable table with the time step as index (0 = the oldest step)."""
    return pd.DataFrame(values, index=pd.RangeIndex(values.shape[0], name="time_step"),
                        columns=list(variables))


def records_settings(function: Callable[..., Importance], min_samples: int = 1
                     ) -> Callable[..., Importance]:
    """Wrap a method so that its result records, in ``details["settings"]``, every option it
    ran with (given or default), so that an option it does not take (a misspelling, or a
    common option it has no use for) is an InputError listing the ones it takes, and so that X
    with fewer than ``min_samples`` rows (one row cannot be permuted, nor has a spread or a mean
    other than itself) is an InputError."""
    signature = inspect.signature(function)
    names = [n for n, p in signature.parameters.items() if p.kind is p.KEYWORD_ONLY]

    @functools.wraps(function)
    def method(model: object, X: object = None, y: object = None, **options: Any
               ) -> Importance:
        unknown = sorted(set(options) - set(names))
        if unknown:
            close = sorted({n for u in unknown for n in difflib.get_close_matches(u, names)})
            hint = f" (did you mean {close}?)" if close else ""
            raise InputError(f"{function.__name__} takes the options {names}; received unknown "
                             f"{unknown}{hint}. varimp.importance(..., method="
                             f"{function.__name__!r}) also accepts every common option and "
                             "leaves out those the method does not use")
        bound = signature.bind(model, X, y, **options)
        bound.apply_defaults()
        rows = np.shape(X)[0] if isinstance(X, np.ndarray | pd.DataFrame) or \
            hasattr(X, "shape") and len(getattr(X, "shape", ())) > 1 else None
        if rows is not None and 0 < rows < min_samples:
            raise InputError(f"method {function.__name__!r} needs X with at least {min_samples} "
                             f"rows; received {rows}")
        result = function(model, X, y, **options)
        result.details["settings"] = {n: bound.arguments[n] for n in names}
        return result

    return method


def constant_variables(setup: Setup, constant: np.ndarray) -> list[str]:
    """The variables all of whose columns are ``constant`` (a boolean per feature)."""
    return [name for name, cols in setup.groups.items() if constant[cols].all()]


def warn_constant(names: Sequence[str], method: str, why: str, sequence: bool) -> None:
    """One ``UserWarning`` naming the constant inputs a method cannot measure, whose scores
    are then exactly 0."""
    if not names:
        return
    listed = ", ".join(map(repr, names))
    held = "holds" if len(names) == 1 else "hold"
    steps = " (at every time step)" if sequence else ""
    warnings.warn(f"{listed} {held} one value in every sample{steps}: {method} cannot measure "
                  f"a constant input ({why}), so its score is exactly 0, which says nothing of "
                  "how the model uses it; the weight and derivative methods (connection_weights, "
                  "garson, partial_derivatives) measure the model's sensitivity to it",
                  UserWarning, stacklevel=3)
