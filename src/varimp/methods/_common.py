"""What every method does at the door: adapt the model, validate the data, resolve options."""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..adapters import Adapter, adapt
from ..errors import InputError, describe
from ..validation import Data, check_feature_names, check_groups, validate


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
) -> Setup:
    """Adapt the model, validate X and y once, and check that X fits the model's input.

    ``replaces_cells``: the method puts other values into cells of X (perturbation,
    permutation, profile, stepwise), so padding that the model masks is refused.
    """
    adapter = adapt(model)
    data = validate(X, y, feature_names=feature_names, y_required=y_required)
    adapter.check_input(data.X)
    if replaces_cells:
        adapter.check_padding(data.X)
    return Setup(adapter, data, check_groups(groups, data.feature_names))


def names_without_data(
    n_features: int, feature_names: object, groups: Mapping | None
) -> tuple[tuple[str, ...], dict[str, list[int]]]:
    """Feature names and groups when a weight-based method is called without X."""
    names = check_feature_names(feature_names, n_features, None)
    return names, check_groups(groups, names)


def resolve_output(output: object, n_outputs: int, names: Sequence | None = None) -> list[int]:
    """The output indices to explain: one index or name, or all of them for ``None``."""
    if output is None:
        return list(range(n_outputs))
    if isinstance(output, numbers.Integral) and not isinstance(output, bool):
        index = int(output)
        if not -n_outputs <= index < n_outputs:
            raise InputError(f"output must be an index in 0..{n_outputs - 1} (the model has "
                             f"{n_outputs} outputs); received {output}")
        return [index % n_outputs]
    if names is not None and output in list(names):
        return [list(names).index(output)]
    known = "no output names" if names is None else f"outputs {list(names)}"
    raise InputError(f"output must be an integer index or an output name ({known}); received "
                     f"{describe(output)}")


def resolve_step(output_step: object, n_steps: int) -> int | None:
    """The predicted time step to explain, or None for all of them together."""
    if output_step is None:
        return None
    if isinstance(output_step, bool) or not isinstance(output_step, numbers.Integral) or \
            not -n_steps <= int(output_step) < n_steps:
        raise InputError(f"output_step must be None or a predicted step in 0..{n_steps - 1} "
                         f"(the model predicts {n_steps} step(s)); received {output_step!r}")
    return int(output_step) % n_steps


def output_labels(indices: Sequence[int], names: Sequence | None) -> list[str]:
    return [str(names[i]) if names is not None else f"output {i}" for i in indices]


def group_columns(values: np.ndarray, groups: Mapping[str, list[int]]) -> np.ndarray:
    """Sum the last axis over each variable's feature columns (a group moves as one)."""
    return np.stack([values[..., cols].sum(axis=-1) for cols in groups.values()], axis=-1)


def time_table(values: np.ndarray, variables: Sequence[str]) -> pd.DataFrame:
    """A time x variable table with the time step as index (0 = the oldest step)."""
    return pd.DataFrame(values, index=pd.RangeIndex(values.shape[0], name="time_step"),
                        columns=list(variables))
