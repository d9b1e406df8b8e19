"""Inputs checked once, at the door: X, y, names, groups and the common options.

Everything downstream receives plain numpy arrays of float64 owned by varimp (never a view the
caller could see change) and names that are known to be consistent.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .errors import InputError, describe


@dataclass(frozen=True)
class Data:
    """Validated inputs: ``X`` is ``(n, p)`` or ``(n, T, p)`` float64; ``y`` float64, an array of
    class labels (any type, read against the model's classes by :mod:`varimp.scoring`) or None."""

    X: np.ndarray
    y: np.ndarray | None
    feature_names: tuple[str, ...]
    #: the columns of a DataFrame ``y`` (names of the outputs), else None
    target_names: tuple[str, ...] | None = None
    #: the index of a DataFrame ``X`` (a pandas ``y`` must carry the same, :func:`check_y`)
    index: pd.Index | None = None

    @property
    def sequence(self) -> bool:
        return self.X.ndim == 3

    @property
    def n_samples(self) -> int:
        return self.X.shape[0]

    @property
    def n_features(self) -> int:
        return self.X.shape[-1]

    @property
    def n_timesteps(self) -> int | None:
        return self.X.shape[1] if self.sequence else None


def tensor_values(tensor: object) -> np.ndarray:
    """A torch tensor's values as numpy, by its own ``detach().cpu().numpy()`` (a tensor on a
    GPU, or in the autograd graph); bfloat16 (numpy has none) and float16 read via float32.
    May share memory with a CPU tensor."""
    tensor = tensor.detach().cpu()
    if tensor.is_floating_point() and tensor.element_size() < 4:
        tensor = tensor.float()
    return tensor.numpy()


#: what a model of several inputs can do instead, in every refusal of one
SEVERAL_INPUTS = (
    "models with several inputs are not supported: varimp calls the model with one array X, "
    "(n, features) or (n, time steps, features). Wrap the model in a module or function that "
    "takes one array and splits it, e.g. static covariates repeated over the steps as extra "
    "features, X = concatenate([X_seq, repeat(X_static[:, None, :], T, axis=1)], axis=-1), "
    "read by forward(x) = model(x[:, :, :k], x[:, 0, k:]) with k the number of sequence "
    "features; pass that module, or the function as a callable")


def _array_part(part: object) -> bool:
    """Whether ``part`` is an array object (numpy, pandas, a tensor), not a list of numbers."""
    return isinstance(part, np.ndarray | pd.DataFrame | pd.Series) or (
        hasattr(part, "shape") and hasattr(part, "dtype"))


def _check_one_array(value: object, what: str) -> None:
    """Refuse several arrays given as one X: a dict of arrays, or a tuple or list of arrays
    of several ranks or shapes, or of arrays that are tables or sequences themselves in a
    tuple (the inputs of a model of several inputs). A list of equal rows or of equal
    sequences (one per sample) stays one X."""
    if isinstance(value, Mapping):
        parts = list(value.values())
        kind = f"a {type(value).__name__} of {len(parts)} entries ({', '.join(map(repr, value))})"
    elif isinstance(value, tuple | list) and value and all(map(_array_part, value)):
        parts = list(value)
        kind = f"a {type(value).__name__} of {len(parts)} arrays"
        shapes = {tuple(np.shape(part)) for part in parts}
        if len(shapes) == 1 and (isinstance(value, list) or len(next(iter(shapes))) < 2):
            return  # rows, or one sequence per sample
        ranks = {len(shape) for shape in shapes}
        if len(parts) > 3 and ranks in ({1}, {2}):  # one row or sequence per sample
            lengths = sorted({shape[0] for shape in shapes})
            raise InputError(
                f"{what} must be one array; received {kind}, one per sample, of different "
                f"shapes ({', '.join(map(str, sorted(shapes)[:4]))}"
                f"{', ...' if len(shapes) > 4 else ''}). " + (
                    f"Sequences must all have the same number of steps (here "
                    f"{lengths[0]} to {lengths[-1]}): pad them to one length (a Keras "
                    "Masking layer then tells varimp which steps are padding) or cut them"
                    if ranks == {2} else "Rows must all have the same number of features"))
    else:
        return
    listed = [str(tuple(np.shape(part))) for part in parts if _array_part(part)]
    shapes = ", ".join(listed[:4]) + (f", ... ({len(listed)} arrays)" if len(listed) > 4 else "")
    raise InputError(f"{what} must be one array; received {kind}"
                     f"{f' of shapes {shapes}' if shapes else ''}. {SEVERAL_INPUTS[0].upper()}"
                     f"{SEVERAL_INPUTS[1:]}")


class _NotNumeric(InputError):
    """Values that are not numbers: an error for X, class labels for y (:func:`check_y`)."""


def _complex_error(what: str, array: np.ndarray, where: str = "") -> InputError:
    """The refusal of complex numbers, which a model reads as real inputs: casting them would
    silently drop the imaginary parts."""
    real = not np.any(np.imag(array))
    advice = f"their imaginary parts are all 0: pass {what}.real" if real else \
        "the model reads real numbers; pass the real and imaginary parts as separate features"
    return InputError(f"{what} must hold real numbers; received complex values{where} "
                      f"(dtype {array.dtype}): {advice}")


def _to_numpy(value: object, what: str) -> tuple[np.ndarray, list[str] | None]:
    """Convert a DataFrame, Series, tensor or array-like to a numpy array (a copy).

    Values that are not numbers raise :class:`_NotNumeric`; complex numbers an InputError."""
    columns = None
    if isinstance(value, pd.DataFrame):
        # bool columns (pandas.get_dummies' one-hot columns) are numbers 0 and 1
        bad = [str(c) for c, t in value.dtypes.items() if not pd.api.types.is_numeric_dtype(t)]
        if bad:
            raise _NotNumeric(
                f"{what} must hold numeric columns only; received non-numeric column(s) "
                f"{bad[:5]} (encode categories as numbers, e.g. one-hot, and use groups=)"
            )
        complex_columns = [c for c, t in value.dtypes.items() if pd.api.types.is_complex_dtype(t)]
        if complex_columns:
            raise _complex_error(what, value[complex_columns].to_numpy(),
                                 f" in column(s) {[str(c) for c in complex_columns][:5]}")
        columns = [str(c) for c in value.columns]
        array = value.to_numpy(dtype=np.float64, copy=True)
    elif isinstance(value, pd.Series):
        array = value.to_numpy(copy=True)
    elif hasattr(value, "detach") and hasattr(value, "cpu"):  # torch tensor, no torch import here
        if getattr(value, "is_meta", False):
            raise InputError(f"{what} is a tensor on the meta device, which has a shape "
                             f"{tuple(value.shape)} but no values; pass data on a real device")
        array = tensor_values(value).copy()
    else:
        try:
            array = np.array(value, copy=True)
        except Exception as exc:  # noqa: BLE001 - anything unconvertible is an input error
            raise _NotNumeric(f"{what} must be array-like; received {describe(value)}") from exc
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.number) or np.issubdtype(array.dtype, np.bool_)
    ):
        raise _NotNumeric(f"{what} must be numeric; received an array of dtype {array.dtype}")
    if np.iscomplexobj(array):
        raise _complex_error(what, array)
    return array.astype(np.float64, copy=False), columns


def check_finite(array: np.ndarray, what: str) -> None:
    """Raise InputError naming the first NaN or infinite cell of ``array``."""
    if not np.all(np.isfinite(array)):
        bad = np.argwhere(~np.isfinite(array))[0]
        raise InputError(
            f"{what} must be finite; received NaN or inf (first at index "
            f"{tuple(int(i) for i in bad)})"
        )


def check_columns(X: object, fitted: Sequence[str] | None) -> None:
    """Refuse a DataFrame ``X`` whose columns are not ``fitted``, the columns the model was
    fitted on (scikit-learn's ``feature_names_in_``), in that order: the model reads its
    inputs by position, so another order, or other columns, would score each column as
    another feature under the wrong name. Arrays (no column names) are read by position."""
    if fitted is None or not isinstance(X, pd.DataFrame):
        return
    fitted = [str(c) for c in fitted]
    given = [str(c) for c in X.columns]
    if given == fitted:
        return
    missing = [c for c in fitted if c not in given]
    extra = [c for c in given if c not in fitted]
    if not missing and not extra:
        how = "the same columns in another order"
    else:
        how = "; ".join([f"missing {missing}"] * bool(missing) +
                        [f"not fitted on {extra}"] * bool(extra))
    remedy = "select and order them with X[model.feature_names_in_]" if not missing else \
        "rename the columns as the model was fitted, then select them with " \
        "X[model.feature_names_in_]"
    raise InputError(f"X must have the columns the model was fitted on, in that order: {fitted} "
                     f"(model.feature_names_in_); received a DataFrame with columns {given} "
                     f"({how}). The model reads its inputs by position, so each column would be "
                     f"read as another feature: {remedy}")


def check_X(X: object, *, allow_sequence: bool = True) -> tuple[np.ndarray, list[str] | None]:
    """``X`` as an owned float64 array ``(n, p)`` or ``(n, T, p)`` with at least one cell, all
    finite, and the columns of a DataFrame ``X`` (else None)."""
    if X is None:
        raise InputError("X is required by this method; received None")
    _check_one_array(X, "X")
    array, columns = _to_numpy(X, "X")
    if array.ndim not in (2, 3) or (array.ndim == 3 and not allow_sequence):
        expected = "(n_samples, n_features) or (n_samples, n_timesteps, n_features)"
        if not allow_sequence:
            expected = "(n_samples, n_features)"
        raise InputError(f"X must have shape {expected}; received an array of shape {array.shape}")
    if array.shape[0] == 0:
        raise InputError(f"X must hold at least one sample; received shape {array.shape}")
    if 0 in array.shape[1:]:
        raise InputError(f"X must hold at least one feature and time step; received {array.shape}")
    check_finite(array, "X")
    return array, columns


def check_feature_names(names: object, n_features: int, default: Sequence[str] | None) -> tuple:
    """``names`` (or ``default``, the columns of a DataFrame ``X``, or ``x1 .. xp``) as a tuple
    of ``n_features`` distinct strings."""
    if names is None and default is not None:
        columns = [str(c) for c in default]
        dupes = sorted({c for c in columns if columns.count(c) > 1})
        if dupes:
            raise InputError(f"X's DataFrame columns must have distinct names; received columns "
                             f"{list(default)[:10]}{' ...' if len(columns) > 10 else ''}, "
                             f"where {dupes} repeat (as strings): rename the columns, or pass "
                             "feature_names=")
    if names is None:
        names = default if default is not None else [f"x{i + 1}" for i in range(n_features)]
    elif isinstance(names, str) or not isinstance(names, Sequence | np.ndarray | pd.Index):
        raise InputError(f"feature_names must be a list of {n_features} strings; received "
                         f"{describe(names)}")
    names = tuple(str(n) for n in names)
    if len(names) != n_features:
        raise InputError(
            f"feature_names must have one name per feature ({n_features}); received {len(names)}"
        )
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise InputError(f"feature_names must be unique; received duplicates {dupes}")
    return names


def _labels(y: object) -> np.ndarray:
    """A ``y`` that is not numeric as an owned object array of class labels (strings,
    categories, mixed objects); one whose every value is a real number (an object array or
    Series of floats) as float64. A missing label (None, NaN, ``pd.NA``, ``NaT``) is an
    InputError."""
    array = np.array(y.to_numpy() if isinstance(y, pd.DataFrame | pd.Series) else y,
                     dtype=object, copy=True)
    if array.size and all(isinstance(v, numbers.Real) and not isinstance(v, bool | np.bool_)
                          for v in array.flat):
        return array.astype(np.float64)
    if array.ndim and array.size:
        missing = np.argwhere(pd.isna(array))
        if len(missing):
            raise InputError(f"y must not hold missing labels (None, NaN, pd.NA or NaT); "
                             f"received one at index {tuple(int(i) for i in missing[0])}")
    return array


def _differ(a: object, b: object) -> bool:
    """Whether two index labels differ (two missing labels are the same, as pandas has it)."""
    if pd.isna(a) is True or pd.isna(b) is True:
        return not (pd.isna(a) is True and pd.isna(b) is True)
    try:
        return not bool(a == b)
    except (TypeError, ValueError):  # labels that do not compare to one truth value
        return True


def check_index(index: pd.Index | None, y: object) -> None:
    """Refuse a pandas ``y`` whose index is not ``index``, the index of a DataFrame ``X``:
    varimp pairs the rows of X and y by position, which pandas would pair by label."""
    if index is None or not isinstance(y, pd.Series | pd.DataFrame) or y.index.equals(index):
        return
    first = next((i for i, (a, b) in enumerate(zip(index, y.index, strict=False))
                  if _differ(a, b)), min(len(index), len(y.index)) - 1)
    shared = not set(index).isdisjoint(y.index)  # any index kinds (MultiIndex beside plain)
    remedy = "pass y.reindex(X.index) to pair the rows by label, or y.to_numpy() to pair " \
        "them by position" if shared else "pass y.to_numpy() to pair the rows by position " \
        "(no label of y's index is in X's, so pairing by label cannot work)"
    raise InputError(f"y's index must be X's index; received another (first at position "
                     f"{first}: X has {index[first:first + 1].tolist()[0]!r}, y has "
                     f"{y.index[first:first + 1].tolist()[0]!r}). varimp "
                     f"pairs the rows of X and y by position, where pandas pairs them by label: "
                     f"{remedy}")


def check_y(y: object, n_samples: int, *, required: bool, index: pd.Index | None = None
            ) -> tuple[np.ndarray | None, tuple[str, ...] | None]:
    """``y`` as an owned array (float64 when numeric, else the labels as given) and the column
    names of a DataFrame ``y``.

    ``index``: the index of a DataFrame ``X``; a pandas ``y`` must carry the same one
    (:func:`check_index`)."""
    if y is None:
        if required:
            raise InputError("y (the targets) is required by this method; received None")
        return None, None
    columns = tuple(str(c) for c in y.columns) if isinstance(y, pd.DataFrame) else None
    try:
        array, _ = _to_numpy(y, "y")
    except _NotNumeric:  # class labels of any type: strings, categories, mixed objects
        array = _labels(y)
    if array.ndim == 0 or array.ndim > 3:
        raise InputError(f"y must have shape (n,), (n, n_outputs) or (n, n_timesteps[, n_outputs]);"
                         f" received shape {array.shape}")
    if array.shape[0] != n_samples:
        raise InputError(
            f"y must have one row per sample of X ({n_samples}); received {array.shape[0]} rows"
        )
    check_index(index, y)
    if array.dtype != object:
        check_finite(array, "y")
    return array, columns


def check_classes(classes: object, declared: Sequence | None = None) -> tuple:
    """Class labels in the order of the model's outputs: a non-empty sequence of distinct,
    hashable labels.

    ``declared``: the classes the model itself declares (a scikit-learn ``classes_``), in the
    order of its outputs, or None. ``classes=`` names the outputs of a model that does not
    declare its classes; for one that does, it must be those classes in the same order (a
    different order would relabel the outputs and flip every score), else InputError.
    """
    if isinstance(classes, str) or not isinstance(classes, Sequence | np.ndarray | pd.Index):
        raise InputError(f"classes must be a list of class labels in the order of the model's "
                         f"outputs; received {describe(classes)}")
    labels = tuple(np.asarray(classes).tolist())
    if len(labels) < 2 or len(set(labels)) != len(labels):
        raise InputError(f"classes must list at least two distinct labels; received "
                         f"{describe(classes)}")
    if declared is None or labels == tuple(declared):
        return labels
    own = list(declared)
    if set(labels) == set(own):
        raise InputError(f"classes {list(labels)} lists the model's classes in another order: "
                         f"the model's outputs are in the order of its own classes {own}, so "
                         "another order would give each output the wrong label and flip the "
                         "scores. classes= is only for models that do not declare their "
                         f"classes; leave it out, or pass {own}")
    raise InputError(f"classes must be the model's own classes {own} (in that order); received "
                     f"{list(labels)}. classes= is only for models that do not declare their "
                     "classes; leave it out")


def validate(
    X: object,
    y: object = None,
    *,
    feature_names: object = None,
    y_required: bool = False,
    allow_sequence: bool = True,
    fitted_columns: Sequence[str] | None = None,
) -> Data:
    """Check X, y and the feature names once; return owned float64 copies.

    ``fitted_columns``: the columns the model was fitted on (the adapter's
    ``input_columns``), which a DataFrame ``X`` must have in that order
    (:func:`check_columns`). A pandas ``y`` must carry the index of a DataFrame ``X``
    (:func:`check_index`)."""
    check_columns(X, fitted_columns)
    array, columns = check_X(X, allow_sequence=allow_sequence)
    names = check_feature_names(feature_names, array.shape[-1], columns)
    index = X.index if isinstance(X, pd.DataFrame) else None
    target, target_names = check_y(y, array.shape[0], required=y_required, index=index)
    return Data(X=array, y=target, feature_names=names, target_names=target_names, index=index)


def check_groups(
    groups: Mapping[str, Sequence] | None, feature_names: Sequence[str]
) -> dict[str, list[int]]:
    """Map every variable to the feature columns it covers, in column order.

    Features outside every group stand alone. Variables are ordered by their first column, a
    group taking the place of its members, so results list variables as ``X`` lists them.
    A group keeps its members in the order given. A group named like a feature outside it, a
    feature listed in two groups (or twice in one) is an :class:`InputError` naming both.
    """
    if groups is None:
        return {name: [j] for j, name in enumerate(feature_names)}
    if not isinstance(groups, Mapping) or not groups:
        raise InputError(f"groups must be a non-empty dict {{name: [feature, ...]}}; received "
                         f"{describe(groups)}")
    index = {name: j for j, name in enumerate(feature_names)}
    resolved: dict[str, list[int]] = {}
    owner: dict[int, str] = {}
    for group, members in groups.items():
        group = str(group)
        if isinstance(members, str | numbers.Integral):
            members = [members]
        if not isinstance(members, Sequence | np.ndarray | pd.Index | set | frozenset):
            raise InputError(f"group {group!r} must list its features (names or indices); "
                             f"received {describe(members)}")
        cols = [_member_column(group, member, index, feature_names) for member in members]
        if not cols:
            raise InputError(f"group {group!r} is empty; expected at least one feature")
        if group in resolved:
            raise InputError(f"groups must have distinct names; received {group!r} twice")
        for col in cols:
            if col in owner:
                where = "twice in group" if owner[col] == group else \
                    f"in groups {owner[col]!r} and"
                raise InputError(f"each feature may belong to one group only; received feature "
                                 f"{feature_names[col]!r} {where} {group!r}")
            owner[col] = group
        resolved[group] = cols
    for group, cols in resolved.items():
        if group in index and index[group] not in cols:
            raise InputError(f"group {group!r} has the name of feature {group!r}, which is not "
                             f"one of its members; rename the group (members: "
                             f"{[feature_names[c] for c in cols]})")
    for j, name in enumerate(feature_names):
        if j not in owner:
            resolved[name] = [j]
    return dict(sorted(resolved.items(), key=lambda item: min(item[1])))


def _member_column(group: str, member: object, index: Mapping[str, int],
                   feature_names: Sequence[str]) -> int:
    """The column of one member of a group, given by name or index."""
    if isinstance(member, numbers.Integral) and not isinstance(member, bool):
        if not 0 <= int(member) < len(feature_names):
            raise InputError(f"group {group!r} names feature index {member}; expected "
                             f"0..{len(feature_names) - 1}")
        return int(member)
    if str(member) in index:
        return index[str(member)]
    raise InputError(f"group {group!r} names unknown feature {member!r}; known features are "
                     f"{list(feature_names)[:10]}")


def one_hot_codes(block: np.ndarray) -> np.ndarray | None:
    """The category code of every row of a one-hot block, or None when it is not one.

    ``block`` is ``(..., m)``: the ``m`` member columns of a group. It is a one-hot block when
    every value is 0 or 1 and every row holds at most one 1 (a row of zeros is the reference
    category of a block whose reference column was dropped). Code ``0`` is the reference,
    code ``j + 1`` member ``j``.
    """
    if not np.all((block == 0) | (block == 1)) or np.any(block.sum(axis=-1) > 1):
        return None
    return (block @ np.arange(1, block.shape[-1] + 1)).astype(np.intp)


def scaled_one_hot(block: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``(low, high)`` values of every member when a block that is no one-hot block
    (:func:`one_hot_codes`) would be one with each member's higher value read as 1 and its
    lower as 0: every member holds at most two values, some value is not 0 or 1, and at most
    one member per row is at its higher value. That is the mark of a one-hot block that was
    standardised (a ``StandardScaler`` over its columns). None for any other block, and for
    blocks where it is no mark: one member (nothing can cancel), a constant member, or fewer
    than ``2 m + 1`` rows for ``m`` members (any numeric columns of two rows hold two values).
    """
    flat = block.reshape(-1, block.shape[-1])
    members = flat.shape[1]
    if members < 2 or flat.shape[0] <= 2 * members or one_hot_codes(flat) is not None:
        return None
    low, high = flat.min(axis=0), flat.max(axis=0)
    two_valued = np.all((flat == low) | (flat == high)) and np.all(high > low)
    if not two_valued or one_hot_codes((flat == high) & (high > low)) is None:
        return None
    return low, high


#: The label of a one-hot block's reference category (a row of zeros).
REFERENCE = "reference"


def category_names(codes: Sequence[int], members: Sequence[str]) -> list[str]:
    """Names of category codes (:func:`one_hot_codes`): the member's feature name, or
    :data:`REFERENCE` for code 0."""
    return [REFERENCE if code == 0 else str(members[code - 1]) for code in codes]


def feature_spread(X: np.ndarray) -> np.ndarray:
    """The standard deviation of every feature across samples.

    Tables: the column's standard deviation. Sequences ``(n, T, p)``: the root mean over steps
    of the variance across samples at each step, ``sqrt(mean_t var_n X[:, t, j])``, so that a
    trend over time (a level that changes from step to step) does not count as spread.
    """
    if X.ndim == 2:
        return X.std(axis=0)
    return np.sqrt(X.var(axis=0).mean(axis=0))


def check_flag(value: object, name: str) -> bool:
    """``value`` as a bool: True or False (a numpy bool too), else an InputError naming it."""
    if not isinstance(value, bool | np.bool_):
        raise InputError(f"{name} must be True or False; received {describe(value)}")
    return bool(value)


def check_positive_int(value: object, name: str, minimum: int = 1) -> int:
    """``value`` as an int ``>= minimum`` (no bool), else an InputError naming it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise InputError(f"{name} must be an integer >= {minimum}; received {value!r}")
    return int(value)


def check_positive_float(value: object, name: str, allow_zero: bool = False) -> float:
    """``value`` as a finite float ``> 0`` (``>= 0`` with ``allow_zero``), else an InputError."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and np.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise InputError(f"{name} must be a finite number {bound}; received {value!r}")
    return float(value)


def check_choice(value: object, name: str, choices: Sequence[str]) -> str:
    """``value`` when it is one of ``choices``, else an InputError listing them."""
    if value not in choices:
        raise InputError(f"{name} must be one of {list(choices)}; received {value!r}")
    return str(value)


def check_random_state(random_state: object) -> np.random.Generator:
    """One generator from an int >= 0, a Generator or None (scikit-learn's convention);
    a negative int, which numpy's seeding refuses, is an InputError here."""
    if random_state is None or isinstance(random_state, numbers.Integral | np.random.Generator):
        if isinstance(random_state, bool):
            raise InputError(f"random_state must be an int >= 0, a Generator or None; "
                             f"received {random_state!r}")
        if isinstance(random_state, numbers.Integral) and random_state < 0:
            raise InputError(f"random_state must be an int >= 0, a numpy Generator or None; "
                             f"received {random_state!r}")
        return np.random.default_rng(random_state)
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    raise InputError(f"random_state must be an int >= 0, a numpy Generator or None; "
                     f"received {describe(random_state)}")
