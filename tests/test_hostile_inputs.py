"""Hostile inputs: every mistake a user can make is answered by a VarImpError naming the problem.

One row per mistake, crossed with every registered method the row applies to. A row passes only
when the call raises the row's ``VarImpError`` subclass and the message holds the row's
fragment (what was expected or received); any other exception, from numpy, torch or Keras,
fails the row. The inputs that must *work* (a constant feature, integer or float32 X for a
float32 model, a float64 model, tensors, DataFrames, one sample) are checked against a
reference in the second table.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pytest
import reliability_models as rm
import torch
from torch import nn

import varimp
from varimp import InputError, ModelError, UnsupportedModelError, VarImpError


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    with rm.one_torch_thread():
        yield


X_TAB, Y_TAB = rm.tabular()
X_SEQ, Y_SEQ = rm.sequences()

mlp = functools.cache(rm.torch_mlp)
lstm = functools.cache(rm.torch_lstm)
keras_lstm = functools.cache(rm.keras_lstm)
sklearn_mlp = functools.cache(rm.sklearn_mlp)
plain = functools.cache(rm.plain_callable)
seq_callable = functools.cache(rm.sequence_callable)


def _unfitted():
    from sklearn.neural_network import MLPRegressor

    return MLPRegressor()


def _pipeline():
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler().fit(X_TAB), rm.sklearn_mlp())


class _Raises(nn.Module):
    """A module whose forward pass fails, as a broken user model would."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(rm.P, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise RuntimeError("boom inside forward")


def _second_batch_raises(X: np.ndarray) -> np.ndarray:
    """A callable that works on the first model call and raises on every later one."""
    _second_batch_raises.calls += 1
    if _second_batch_raises.calls > 1:
        raise OSError("lost the connection to the model server")
    return plain()(X)


def _nan_cell(X: np.ndarray, value: float = np.nan) -> np.ndarray:
    X = X.copy()
    X[3, ..., 1] = value
    return X


def _text_frame() -> pd.DataFrame:
    return pd.DataFrame({"a": X_TAB[:, 0], "site": ["north", "south"] * 6, "c": X_TAB[:, 2]})


def _frame(columns: str = "abc") -> pd.DataFrame:
    """X_TAB as a DataFrame of the given columns, in X_TAB's column order."""
    return pd.DataFrame(X_TAB, columns=list(columns))


@functools.cache
def _sklearn_on_frame() -> object:
    """An MLPRegressor fitted on a DataFrame of columns a, b, c (it has feature_names_in_)."""
    return _fit_on_frame(rm.sklearn_mlp())


@functools.cache
def _pipeline_on_frame() -> object:
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return _fit_on_frame(make_pipeline(StandardScaler(), rm.sklearn_mlp()))


def _fit_on_frame(model: object) -> object:
    """``model`` refitted (50 iterations, quietly) on rm.sklearn_mlp's data named a, b, c."""
    from sklearn.exceptions import ConvergenceWarning

    X, y = rm.tabular(40, rm.P, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(pd.DataFrame(X, columns=list("abc")), y)


def _labels_with(missing: object, dtype: str = "object") -> pd.Series:
    """Class labels with one missing value at row 3."""
    labels = pd.Series(["low", "high"] * 6, dtype=dtype)
    labels[3] = missing
    return labels


#: the columns a, b, c of the model in the wrong order: the refusal names both orders
REORDERED = ("X must have the columns the model was fitted on, in that order: ['a', 'b', 'c'] "
             "(model.feature_names_in_); received a DataFrame with columns ['c', 'a', 'b'] (the "
             "same columns in another order). The model reads its inputs by position, so each "
             "column would be read as another feature: select and order them with "
             "X[model.feature_names_in_]")


# -- who a row applies to ------------------------------------------------------------------------
def every(method: str) -> bool:
    return True


def calls_model(method: str) -> bool:
    """Methods that evaluate the model on X (everything but the weight-based methods)."""
    return not rm.spec(method).reads_weights


def reads_weights(method: str) -> bool:
    return rm.spec(method).reads_weights


def needs_y(method: str) -> bool:
    return rm.spec(method).needs_y


def takes(option: str) -> Callable[[str], bool]:
    return lambda method: rm.accepts(method, option)


def both(*tests: Callable[[str], bool]) -> Callable[[str], bool]:
    return lambda method: all(test(method) for test in tests)


@dataclass(frozen=True)
class Row:
    """One hostile input: the call and the error it must raise."""

    id: str
    applies: Callable[[str], bool]
    error: type[VarImpError]
    fragment: str
    model: Callable[[], object] = mlp
    X: Callable[[], object] = lambda: X_TAB
    y: Callable[[], object] | None = None  # None: the matching targets where the method needs y
    options: dict[str, Any] = field(default_factory=dict)
    before: Callable[[], None] = lambda: None


ROWS = [
    # -- X ------------------------------------------------------------------------------------
    Row("x-rank-1", every, InputError, "received an array of shape (12,)", X=lambda: X_TAB[:, 0]),
    Row("x-rank-4", every, InputError, "X must have shape", X=lambda: X_TAB[:, None, None]),
    Row("x-nan", every, InputError, "X must be finite; received NaN", X=lambda: _nan_cell(X_TAB)),
    Row("x-inf", every, InputError, "first at index (3, 1)",
        X=lambda: _nan_cell(X_TAB, np.inf)),
    Row("x-nan-sequence", every, InputError, "first at index (3, 0, 1)", model=lstm,
        X=lambda: _nan_cell(X_SEQ)),
    Row("x-nan-tensor", every, InputError, "X must be finite",
        X=lambda: torch.as_tensor(_nan_cell(X_TAB))),
    Row("x-empty", every, InputError, "at least one sample", X=lambda: X_TAB[:0]),
    Row("x-no-features", every, InputError, "at least one feature", X=lambda: X_TAB[:, :0]),
    Row("x-no-steps", every, InputError, "time step", model=lstm, X=lambda: X_SEQ[:, :0]),
    Row("x-text", every, InputError, "X must be numeric", X=lambda: [["a", "b", "c"]] * 4),
    Row("x-dataframe-text-column", every, InputError, "non-numeric column(s) ['site']",
        X=_text_frame),
    Row("x-wrong-feature-count", every, InputError, "expects input of shape (n, 3)",
        X=lambda: X_TAB[:, :2]),
    Row("x-sequence-for-mlp", every, InputError, "reads a table", X=lambda: X_SEQ),
    Row("x-table-for-torch-lstm", every, InputError, "reads sequences", model=lstm),
    Row("x-table-for-keras-lstm", every, InputError, "reads sequences", model=keras_lstm),
    Row("x-wrong-length-for-keras", every, InputError, "expects input of shape (n, 5, 3)",
        model=keras_lstm, X=lambda: X_SEQ[:, :3]),
    Row("x-sequence-for-sklearn", every, InputError, "reads a table", model=sklearn_mlp,
        X=lambda: X_SEQ),
    Row("x-missing", calls_model, InputError, "X is required", X=lambda: None),
    Row("x-complex", every, InputError, "X must hold real numbers; received complex values "
        "(dtype complex128): their imaginary parts are all 0: pass X.real",
        X=lambda: X_TAB + 0j),
    Row("x-complex-imaginary", every, InputError, "received complex values (dtype complex128): "
        "the model reads real numbers; pass the real and imaginary parts as separate features",
        X=lambda: X_TAB + 1j),
    Row("x-complex-tensor", every, InputError, "received complex values (dtype complex64)",
        X=lambda: torch.tensor(X_TAB, dtype=torch.complex64)),
    Row("x-dataframe-complex-column", every, InputError,
        "received complex values in column(s) ['b'] (dtype complex128)",
        X=lambda: _frame().assign(b=X_TAB[:, 1] + 2j)),
    Row("x-dataframe-duplicate-columns", every, InputError,
        "X's DataFrame columns must have distinct names; received columns ['a', 'a', 'c'], "
        "where ['a'] repeat (as strings): rename the columns, or pass feature_names=",
        X=lambda: _frame("aac")),
    Row("x-dataframe-columns-equal-as-text", every, InputError,
        "received columns ['1', '1', '2'], where ['1'] repeat (as strings)",
        X=lambda: pd.DataFrame(X_TAB, columns=[1, "1", 2])),
    Row("x-columns-reordered-for-sklearn", every, InputError, REORDERED,
        model=_sklearn_on_frame, X=lambda: _frame()[["c", "a", "b"]]),
    Row("x-columns-reordered-with-groups", every, InputError, REORDERED,
        model=_sklearn_on_frame, X=lambda: _frame()[["c", "a", "b"]],
        options={"groups": {"g": ["a", "b"]}}),
    Row("x-columns-renamed-for-sklearn", every, InputError,
        "received a DataFrame with columns ['A', 'b', 'c'] (missing ['a']; not fitted on "
        "['A']). The model reads its inputs by position, so each column would be read as "
        "another feature: rename the columns as the model was fitted, then select them with "
        "X[model.feature_names_in_]", model=_sklearn_on_frame, X=lambda: _frame("Abc")),
    Row("x-extra-column-for-sklearn", every, InputError,
        "received a DataFrame with columns ['a', 'b', 'c', 'id'] (not fitted on ['id'])",
        model=_sklearn_on_frame, X=lambda: _frame().assign(id=np.arange(12.0))),
    Row("x-columns-reordered-for-pipeline", calls_model, InputError, REORDERED,
        model=_pipeline_on_frame, X=lambda: _frame()[["c", "a", "b"]]),
    Row("x-missing-sequence-length", reads_weights, InputError, "n_timesteps", model=lstm,
        X=lambda: None),
    # -- y ------------------------------------------------------------------------------------
    Row("y-short", calls_model, InputError, "one row per sample of X (12); received 11",
        y=lambda: Y_TAB[:-1]),
    Row("y-nan", calls_model, InputError, "y must be finite", y=lambda: np.r_[np.nan, Y_TAB[1:]]),
    Row("y-text", takes("scoring"), InputError, "class labels", y=lambda: ["low"] * 12),
    Row("y-rank-4", calls_model, InputError, "y must have shape",
        y=lambda: Y_TAB.reshape(12, 1, 1, 1)),
    Row("y-missing", needs_y, InputError, "y (the targets) is required", y=lambda: None),
    Row("y-index-permuted", every, InputError,
        "y's index must be X's index; received another (first at position 0: X has 0, y has "
        "11). varimp pairs the rows of X and y by position, where pandas pairs them by label: "
        "pass y.reindex(X.index) to pair the rows by label, or y.to_numpy() to pair them by "
        "position", X=_frame, y=lambda: pd.Series(Y_TAB, index=range(12)).iloc[::-1]),
    Row("y-index-disjoint", every, InputError,
        "(first at position 0: X has 'r0', y has 0). varimp pairs the rows of X and y by "
        "position, where pandas pairs them by label: pass y.to_numpy() to pair the rows by "
        "position (no label of y's index is in X's, so pairing by label cannot work)",
        X=lambda: _frame().set_axis([f"r{i}" for i in range(12)]),
        y=lambda: pd.DataFrame({"yield": Y_TAB})),
    Row("y-index-plain-beside-multiindex", every, InputError,
        "(first at position 0: X has ('a', 0), y has 0). varimp pairs the rows of X and y by "
        "position, where pandas pairs them by label: pass y.to_numpy() to pair the rows by "
        "position (no label of y's index is in X's, so pairing by label cannot work)",
        X=lambda: _frame().set_axis(pd.MultiIndex.from_product([["a", "b"], range(6)])),
        y=lambda: pd.Series(Y_TAB)),
    Row("y-label-pd-na", every, InputError, "y must not hold missing labels (None, NaN, pd.NA "
        "or NaT); received one at index (3,)", y=lambda: _labels_with(pd.NA)),
    Row("y-label-nat", every, InputError, "missing labels (None, NaN, pd.NA or NaT); received "
        "one at index (3,)", y=lambda: _labels_with(pd.NaT)),
    Row("y-string-dtype-pd-na", every, InputError, "missing labels (None, NaN, pd.NA or NaT); "
        "received one at index (3,)", y=lambda: _labels_with(pd.NA, "string")),
    Row("y-wrong-output-count", takes("scoring"), InputError,
        "y must match the model's predictions", y=lambda: np.c_[Y_TAB, Y_TAB, Y_TAB]),
    # -- names and groups ---------------------------------------------------------------------
    Row("names-too-few", every, InputError, "one name per feature (3); received 2",
        options={"feature_names": ["a", "b"]}),
    Row("names-duplicated", every, InputError, "unique; received duplicates ['a']",
        options={"feature_names": ["a", "a", "b"]}),
    Row("names-a-string", every, InputError, "list of 3 strings",
        options={"feature_names": "abc"}),
    Row("group-unknown-feature", every, InputError, "unknown feature 'x9'",
        options={"groups": {"g": ["x1", "x9"]}}),
    Row("group-index-out-of-range", every, InputError, "feature index 7",
        options={"groups": {"g": [7]}}),
    Row("groups-overlap", every, InputError, "one group only",
        options={"groups": {"g": ["x1", "x2"], "h": ["x2"]}}),
    Row("groups-empty", every, InputError, "non-empty", options={"groups": {}}),
    Row("group-empty", every, InputError, "is empty", options={"groups": {"g": []}}),
    Row("group-not-a-list", every, InputError, "must list its features",
        options={"groups": {"g": None}}),
    # -- outputs ------------------------------------------------------------------------------
    Row("output-out-of-range", every, InputError, "index in 0..0", options={"output": 5}),
    Row("output-negative", every, InputError, "index in 0..0", options={"output": -2}),
    Row("output-unknown-name", every, InputError, "received str 'yield'",
        options={"output": "yield"}),
    Row("output-bool", every, InputError, "received bool True", options={"output": True}),
    Row("output-step-out-of-range", takes("output_step"), InputError, "output_step",
        model=lstm, X=lambda: X_SEQ, options={"output_step": 7}),
    # -- options ------------------------------------------------------------------------------
    Row("n-repeats-zero", takes("n_repeats"), InputError, "n_repeats",
        options={"n_repeats": 0}),
    Row("n-repeats-negative", takes("n_repeats"), InputError, "n_repeats",
        options={"n_repeats": -3}),
    Row("n-repeats-fraction", takes("n_repeats"), InputError, "n_repeats",
        options={"n_repeats": 2.5}),
    Row("steps-one", takes("steps"), InputError, "steps", options={"steps": 1}),
    Row("steps-zero", takes("steps"), InputError, "steps", options={"steps": 0}),
    Row("noise-negative", takes("noise"), InputError, "noise", options={"noise": -0.1}),
    Row("batch-size-zero", takes("batch_size"), InputError, "batch_size",
        options={"batch_size": 0}),
    Row("batch-size-negative", takes("batch_size"), InputError, "batch_size",
        options={"batch_size": -1}),
    Row("max-memory-zero", takes("max_memory"), InputError, "max_memory",
        options={"max_memory": 0}),
    Row("max-memory-negative", takes("max_memory"), InputError, "max_memory",
        options={"max_memory": -5}),
    Row("random-state-text", takes("random_state"), InputError, "random_state",
        options={"random_state": "seed"}),
    Row("random-state-negative", takes("random_state"), InputError,
        "random_state must be an int >= 0, a numpy Generator or None; received -1",
        options={"random_state": -1}),
    Row("n-timesteps-zero", takes("n_timesteps"), InputError, "n_timesteps", model=lstm,
        X=lambda: None, options={"n_timesteps": 0}),
    Row("unknown-option", every, InputError, "received unknown ['n_repeat']",
        options={"n_repeat": 3}),
    Row("garson-variant", lambda m: m == "garson", InputError, "variant",
        options={"variant": "olden"}),
    # -- models -------------------------------------------------------------------------------
    Row("model-a-string", every, UnsupportedModelError, "received str 'model.pt'",
        model=lambda: "model.pt"),
    Row("sklearn-unfitted", every, UnsupportedModelError, "not fitted", model=_unfitted),
    Row("callable-for-weights", reads_weights, UnsupportedModelError, "plain function",
        model=plain),
    Row("pipeline-for-weights", reads_weights, UnsupportedModelError, "Pipeline",
        model=_pipeline),
    Row("bidirectional-for-weights", reads_weights, UnsupportedModelError, "bidirectional",
        model=lambda: rm.torch_lstm(bidirectional=True), X=lambda: X_SEQ),
    Row("keras-masking-for-weights", reads_weights, UnsupportedModelError, "Masking",
        model=lambda: rm.keras_lstm(masking=0.0), X=lambda: X_SEQ),
    Row("callable-wrong-rows", calls_model, ModelError, "one prediction per sample",
        model=lambda: lambda X: plain()(X)[:-1]),
    Row("callable-nan", calls_model, ModelError, "NaN", model=lambda: lambda X: X[:, 0] * np.nan),
    Row("callable-raises", calls_model, ModelError, "raised ZeroDivisionError",
        model=lambda: lambda X: 1 / 0),
    Row("callable-text", calls_model, ModelError, "numeric predictions",
        model=lambda: lambda X: np.array(["high"] * len(X))),
    Row("callable-rank-4", calls_model, ModelError, "(n,), (n, k) or (n, steps, k)",
        model=lambda: lambda X: np.zeros((len(X), 1, 1, 1))),
    Row("callable-for-sequences-given-table", calls_model, ModelError, "raised ValueError",
        model=seq_callable),
    Row("callable-raises-on-second-call", both(calls_model, takes("batch_size")), ModelError,
        "raised OSError", model=lambda: _second_batch_raises, options={"batch_size": 4},
        before=lambda: setattr(_second_batch_raises, "calls", 0)),
    Row("torch-forward-raises", every, ModelError, "boom inside forward", model=_Raises),
]


@pytest.mark.parametrize(("row", "method"), rm.matrix(ROWS))
def test_hostile_input_raises_a_named_varimp_error(row: Row | None, method: str):
    assert row is not None, rm.missing_row(method, "tests/reliability_models.py METHOD_SPECS")
    row.before()
    y = row.y() if row.y is not None else (Y_TAB if needs_y(method) else None)
    with pytest.raises(row.error) as caught:
        rm.run(method, row.model(), row.X(), y, **row.options)
    assert row.fragment in str(caught.value), str(caught.value)


def test_unknown_method_names_the_known_ones():
    with pytest.raises(InputError, match="method must be one of") as caught:
        varimp.importance(mlp(), X_TAB, method="garsen")
    assert "'garsen'" in str(caught.value)
    assert all(name in str(caught.value) for name in rm.REGISTERED)


def test_method_name_not_a_string():
    with pytest.raises(InputError, match="received 3"):
        varimp.importance(mlp(), X_TAB, method=3)


@pytest.mark.parametrize("seed", [-1, np.int64(-7)])
@pytest.mark.parametrize("generator", ["olden_simulation", "friedman1", "product_threshold",
                                       "box_sequences", "state_switching", "spike"])
def test_negative_seed_of_a_generator_is_an_input_error(generator: str, seed: object):
    """numpy's seeding refuses a negative int with its own ValueError; every generator of
    varimp.datasets says instead what it accepts."""
    make = getattr(varimp.datasets, generator)
    with pytest.raises(InputError, match=r"random_state must be an int >= 0, a numpy Generator "
                       r"or None; received (np\.int64\()?-\d"):
        make(20, random_state=seed)
    assert make(20, random_state=0)[0].shape[0] == 20  # 0, the smallest seed, is accepted


def test_hostile_table_has_at_least_30_rows_and_covers_every_method():
    assert len(ROWS) >= 30
    assert not rm.uncovered(rm.METHOD_SPECS), rm.uncovered(rm.METHOD_SPECS)
    for method in rm.REGISTERED:  # every method meets at least the rows that apply to all
        assert sum(row.applies(method) for row in ROWS) >= 30, method


# -- inputs that must work ---------------------------------------------------------------------
def _finite(result: varimp.Importance) -> None:
    assert np.all(np.isfinite(result.scores.to_numpy()))
    if result.by_time is not None:
        assert np.all(np.isfinite(result.by_time.to_numpy()))
    if result.std is not None:
        assert np.all(np.isfinite(result.std.to_numpy()))


def _same(a: varimp.Importance, b: varimp.Importance, rtol: float = 0.0, atol: float = 0.0):
    np.testing.assert_allclose(a.scores.to_numpy(), b.scores.to_numpy(), rtol=rtol, atol=atol)
    assert (a.by_time is None) == (b.by_time is None)
    if a.by_time is not None:
        np.testing.assert_allclose(a.by_time.to_numpy(), b.by_time.to_numpy(), rtol=rtol,
                                   atol=atol)


def _constant_feature(method: str) -> None:
    X = X_TAB.copy()
    X[:, 2] = 1.5
    for model in (mlp(), plain()) if calls_model(method) else (mlp(), sklearn_mlp()):
        result = rm.run(method, model, X, Y_TAB if needs_y(method) else None)
        _finite(result)
        assert list(result.scores.index) == ["x1", "x2", "x3"]


def _constant_sequence_feature(method: str) -> None:
    X = X_SEQ.copy()
    X[:, :, 0] = -0.25
    result = rm.run(method, lstm(), X, Y_SEQ if needs_y(method) else None)
    _finite(result)


def _integer_x(method: str) -> None:
    X = np.round(2 * X_TAB).astype(np.int64)
    y = Y_TAB if needs_y(method) else None
    _same(rm.run(method, mlp(), X, y), rm.run(method, mlp(), X.astype(np.float64), y))


def _float32_x(method: str) -> None:
    y = Y_TAB if needs_y(method) else None
    X32 = X_TAB.astype(np.float32)
    _same(rm.run(method, mlp(), X32, y), rm.run(method, mlp(), X_TAB, y), rtol=1e-4, atol=1e-6)


def _tensor_x(method: str) -> None:
    y = Y_TAB if needs_y(method) else None
    X = torch.tensor(X_TAB, dtype=torch.float32, requires_grad=True)
    before = X.detach().clone()
    _same(rm.run(method, mlp(), X, y), rm.run(method, mlp(), X_TAB.astype(np.float32), y))
    assert torch.equal(X.detach(), before) and X.requires_grad and X.grad is None


def _float64_model(method: str) -> None:
    """A float64 model given float32 X runs in float64 (the adapter casts X to the model)."""
    y = Y_TAB if needs_y(method) else None
    model64 = rm.torch_mlp(dtype=torch.float64)
    X32 = X_TAB.astype(np.float32)
    _same(rm.run(method, model64, X32, y), rm.run(method, model64, X32.astype(np.float64), y))
    _same(rm.run(method, model64, X32, y), rm.run(method, mlp(), X32, y), rtol=1e-3, atol=1e-5)


def _dataframe_x(method: str) -> None:
    y = Y_TAB if needs_y(method) else None
    frame = pd.DataFrame(X_TAB, columns=["rain", "temp", "soil"])
    by_frame = rm.run(method, mlp(), frame, y)
    assert list(by_frame.scores.index) == ["rain", "temp", "soil"]
    by_array = rm.run(method, mlp(), X_TAB, y, feature_names=["rain", "temp", "soil"])
    _same(by_frame, by_array)


def _one_sample(method: str) -> None:
    """One row works where the method can say something about it (weights, derivatives);
    a method that shuffles rows, takes a spread or a mean refuses it by name."""
    y = Y_TAB[:1] if needs_y(method) else None
    if varimp.registry.method_spec(method).min_samples > 1:
        with pytest.raises(InputError, match="at least 2 rows; received 1"):
            rm.run(method, mlp(), X_TAB[:1], y)
        return
    _finite(rm.run(method, mlp(), X_TAB[:1], y))
    _finite(rm.run(method, lstm(), X_SEQ[:1], Y_SEQ[:1] if y is not None else None))


def _object_y_of_numbers(method: str) -> None:
    """y of dtype object holding numbers (a Series read from mixed data) is read as floats."""
    objects = np.array(list(Y_TAB), dtype=object)
    for y in (objects, pd.Series(objects)):
        _same(rm.run(method, mlp(), X_TAB, y), rm.run(method, mlp(), X_TAB, Y_TAB))


def _same_index(method: str) -> None:
    """X = df[columns], y = df[target]: the two carry the same index (not 0..n-1 here), which
    pairs their rows as the arrays do."""
    table = _frame().assign(target=Y_TAB).set_axis(np.arange(12)[::-1] * 10)
    _same(rm.run(method, mlp(), table[["a", "b", "c"]], table["target"]),
          rm.run(method, mlp(), X_TAB, Y_TAB))


def _sklearn_frame_in_fitted_order(method: str) -> None:
    """A model fitted on a DataFrame reads a DataFrame of its columns (selected from a wider
    one, X[model.feature_names_in_]) by name, and an array by position."""
    model = _sklearn_on_frame()
    y = Y_TAB if needs_y(method) else None
    wide = _frame().assign(id=np.arange(12.0))[["id", "c", "a", "b"]]
    by_frame = rm.run(method, model, wide[model.feature_names_in_], y)
    by_array = rm.run(method, model, _frame().to_numpy(), y)
    assert list(by_frame.scores.index) == ["a", "b", "c"]
    _same(by_frame, by_array)


def _bool_and_list_x(method: str) -> None:
    y = Y_TAB if needs_y(method) else None
    X = X_TAB > 0
    _same(rm.run(method, mlp(), X, y), rm.run(method, mlp(), X.astype(np.float64), y))
    _same(rm.run(method, mlp(), X_TAB.tolist(), y), rm.run(method, mlp(), X_TAB, y))


WORKS = {
    "constant-feature": _constant_feature,
    "constant-sequence-feature": _constant_sequence_feature,
    "integer-x": _integer_x,
    "float32-x-float32-model": _float32_x,
    "tensor-x-with-grad": _tensor_x,
    "float64-model-float32-x": _float64_model,
    "dataframe-x": _dataframe_x,
    "one-sample": _one_sample,
    "bool-and-list-x": _bool_and_list_x,
    "object-y-of-numbers": _object_y_of_numbers,
    "dataframe-x-and-y-of-one-index": _same_index,
    "sklearn-frame-in-fitted-order": _sklearn_frame_in_fitted_order,
}


@pytest.mark.parametrize("method", rm.REGISTERED)
@pytest.mark.parametrize("case", list(WORKS))
def test_unusual_but_valid_input_works(case: str, method: str):
    rm.spec(method)
    WORKS[case](method)


def test_adapter_follows_the_model_dtype_and_device():
    """X is moved to the model's device and cast to its dtype: a float64 model computes in
    float64 (agrees with a float64 numpy forward to 1e-12, which float32 could not)."""
    from varimp.adapters import adapt

    model = rm.torch_mlp(dtype=torch.float64, dropout=0.0)
    adapter = adapt(model)
    assert adapter.device == next(model.parameters()).device
    assert adapter.dtype == torch.float64
    X32 = X_TAB.astype(np.float32)
    w1, b1 = (p.detach().numpy() for p in (model[0].weight, model[0].bias))
    w2, b2 = (p.detach().numpy() for p in (model[2].weight, model[2].bias))
    expected = np.tanh(X32.astype(np.float64) @ w1.T + b1) @ w2.T + b2
    got = adapter.predict(X32.astype(np.float64))[:, 0, :]
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_precision_tensors_as_x_and_y_are_read_through_float32(dtype: torch.dtype):
    """numpy has no bfloat16 (``.numpy()`` raises TypeError): X and y tensors of half
    precision give exactly what their float32 values give."""
    X = torch.tensor(X_TAB, dtype=torch.float32).to(dtype)
    y = torch.tensor(Y_TAB, dtype=torch.float32).to(dtype)
    X32, y32 = X.float().numpy(), y.float().numpy()
    assert not np.array_equal(X32, X_TAB.astype(np.float32))  # the rounding is kept
    for method in ("permutation", "partial_derivatives"):
        _same(rm.run(method, mlp(), X, y), rm.run(method, mlp(), X32, y32))


def test_output_by_name_and_output_step_of_a_model_of_one_step_say_what_to_do():
    """A model predicting 4 values from 48 steps of 5 features: output="load_h1" without
    names says how to name the outputs; output_step=2 says the 4 values are outputs of one
    step, chosen with output=; a DataFrame y names them."""
    X = np.random.default_rng(2).normal(size=(12, 48, 5))

    def four(Z):
        return Z[:, -1, :4] * np.array([1.0, 2.0, 3.0, 4.0])

    with pytest.raises(InputError) as info:
        varimp.partial_derivatives(four, X, output="load_h1")
    assert str(info.value) == (
        "output must be an integer index in 0..3 or an output name (the model's outputs have "
        "no names: name them by passing y as a DataFrame (its columns), classes= (a "
        "classifier's labels) or, for Keras, naming its output layers); received str "
        "'load_h1'")
    with pytest.raises(InputError) as info:
        varimp.partial_derivatives(four, X, output_step=2)
    assert str(info.value) == (
        "output_step must be None or 0: the model predicts one step (one prediction per "
        "sequence; several values in it are outputs, chosen with output=, not output_step); "
        "received 2")
    y = pd.DataFrame(four(X), columns=["load_h1", "load_h6", "load_h24", "load_h48"])
    named = varimp.permutation(four, X, y, output="load_h6", random_state=0, by_time=False)
    assert named.scores.idxmax() == "x2" and named.scores.drop("x2").eq(0).all()
