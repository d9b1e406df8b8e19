"""The Importance result: exact JSON round trips, relative shares, ranks and the tidy table."""

import json

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import varimp
from varimp import Comparison, Importance

NAMES = ["rain", "temp", "wind", "soil"]
# floats whose shortest decimal form is long, tiny, huge or negative zero
AWKWARD = [0.1 + 0.2, 1 / 3, -2.718281828459045e-300, 1.7976931348623157e308 / 3]


def full_result():
    rng = np.random.default_rng(0)
    by_time = pd.DataFrame(rng.normal(size=(5, 4)) / 7, columns=NAMES,
                           index=pd.RangeIndex(5, name="time_step"))
    by_time.iloc[0, 0] = -0.0
    return Importance(
        method="perturbation",
        scores=pd.Series(AWKWARD, index=NAMES),
        by_time=by_time,
        std=pd.Series(rng.random(4) / 3, index=NAMES),
        ci=pd.DataFrame({"low": rng.random(4) / 7, "high": 1 + rng.random(4) / 11}, index=NAMES),
        pvalues=pd.Series([1 / 99, 0.5, 1.0, 3 / 7], index=NAMES),
        details={"n_repeats": 5, "levels": np.array([0.1, 0.3]), "noise": np.float64(1 / 3),
                 "table": pd.DataFrame({"a": [1.5, 1 / 3], "b": ["x", "y"]})},
    )


def test_json_round_trip_is_exact():
    result = full_result()
    text = result.to_json()
    back = Importance.from_json(text)
    assert back.method == "perturbation"
    assert back.scores.to_numpy().tolist() == AWKWARD
    assert list(back.scores.index) == NAMES
    for name in ("scores", "std", "pvalues"):
        np.testing.assert_array_equal(getattr(back, name).to_numpy(),
                                      getattr(result, name).to_numpy())
        assert list(getattr(back, name).index) == NAMES
    np.testing.assert_array_equal(back.ci.to_numpy(), result.ci.to_numpy())
    assert list(back.ci.columns) == ["low", "high"]
    np.testing.assert_array_equal(back.by_time.to_numpy(), result.by_time.to_numpy())
    assert np.signbit(back.by_time.iloc[0, 0])  # -0.0 stays negative zero
    assert list(back.by_time.columns) == NAMES
    assert list(back.by_time.index) == list(range(5))
    assert back.by_time.index.name == "time_step"
    # the details are plain JSON: arrays as lists, frames as records, numbers exact
    details = json.loads(text)["details"]
    assert details["levels"] == [0.1, 0.3]
    assert details["noise"] == 1 / 3
    assert details["table"] == {"columns": ["a", "b"], "records": [[1.5, "x"], [1 / 3, "y"]]}
    # a second round trip changes nothing
    assert Importance.from_json(back.to_json()).to_json() == back.to_json()


def test_json_round_trip_without_optional_parts():
    result = Importance("garson", pd.Series([0.25, 0.75], index=["a", "b"]))
    back = Importance.from_json(result.to_json())
    assert back.by_time is None and back.std is None and back.ci is None
    assert back.pvalues is None
    assert back.scores.to_numpy().tolist() == [0.25, 0.75]


def test_round_trip_of_a_real_result():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    X = np.random.default_rng(1).normal(size=(10, 3))
    result = varimp.partial_derivatives(model, X)
    back = Importance.from_json(result.to_json())
    np.testing.assert_array_equal(back.scores.to_numpy(), result.scores.to_numpy())
    summary = back.details["summary"]
    assert summary["columns"] == list(result.details["summary"].columns)
    assert [row[-1] for row in summary["records"]] == result.details["summary"]["ssd"].tolist()


def test_relative_is_the_share_of_absolute_scores_in_percent():
    scores = [2.0, -6.0, 0.0, 12.0]
    result = Importance("connection_weights", pd.Series(scores, index=NAMES))
    total = sum(abs(s) for s in scores)
    expected = [100 * abs(s) / total for s in scores]
    np.testing.assert_allclose(result.relative.to_numpy(), expected, rtol=1e-15)
    assert result.relative.sum() == pytest.approx(100.0, rel=1e-14)
    assert list(result.relative.index) == NAMES
    zero = Importance("garson", pd.Series([0.0, 0.0], index=["a", "b"]))
    assert zero.relative.tolist() == [0.0, 0.0]


def test_ranks_by_absolute_score_with_ties_sharing_the_best_rank():
    result = Importance("connection_weights",
                        pd.Series([0.5, -3.0, 3.0, 0.1, -0.5], index=list("abcde")))
    assert result.ranks.to_dict() == {"a": 3, "b": 1, "c": 1, "d": 5, "e": 3}
    assert result.ranks.dtype.kind == "i"


def test_to_frame_columns_and_values():
    result = full_result()
    frame = result.to_frame()
    assert list(frame.columns) == ["feature", "score", "relative", "rank", "std", "ci_low",
                                   "ci_high", "pvalue"]
    assert frame["feature"].tolist() == NAMES
    assert frame["score"].tolist() == AWKWARD
    np.testing.assert_array_equal(frame["ci_low"].to_numpy(), result.ci["low"].to_numpy())
    np.testing.assert_array_equal(frame["pvalue"].to_numpy(), result.pvalues.to_numpy())
    np.testing.assert_array_equal(frame["relative"].to_numpy(), result.relative.to_numpy())
    magnitude = np.abs(AWKWARD)
    assert frame["rank"].tolist() == [int((magnitude > m).sum()) + 1 for m in magnitude]
    bare = Importance("garson", pd.Series([0.2, 0.8], index=["a", "b"])).to_frame()
    assert list(bare.columns) == ["feature", "score", "relative", "rank"]
    assert bare["rank"].tolist() == [2, 1]


def test_optional_series_follow_the_order_of_the_scores():
    scores = pd.Series([1.0, 2.0, 3.0], index=["a", "b", "c"])
    std = pd.Series([0.3, 0.1, 0.2], index=["c", "a", "b"])
    pvalues = pd.Series([0.01, 0.02, 0.03], index=["b", "c", "a"])
    result = Importance("permutation", scores, std=std, pvalues=pvalues)
    assert result.std.to_dict() == {"a": 0.1, "b": 0.2, "c": 0.3}
    assert result.pvalues.to_dict() == {"a": 0.03, "b": 0.01, "c": 0.02}


def test_comparison_tables_and_spearman_agreement():
    index = ["a", "b", "c", "d"]
    one = Importance("garson", pd.Series([0.1, 0.4, 0.2, 0.3], index=index))
    two = Importance("connection_weights", pd.Series([-4.0, 1.0, 3.0, -2.0], index=index))
    comparison = Comparison({"garson": one, "connection_weights": two})
    assert comparison.ranks.loc["b", "garson"] == 1
    assert comparison.ranks.loc["a", "connection_weights"] == 1
    # Spearman by hand: ranks of |scores| are (4, 1, 3, 2) and (1, 4, 2, 3)
    r1, r2 = np.array([4, 1, 3, 2]), np.array([1, 4, 2, 3])
    d = r1 - r2
    rho = 1 - 6 * (d**2).sum() / (4 * (16 - 1))
    assert comparison.agreement.loc["garson", "connection_weights"] == pytest.approx(rho)
    np.testing.assert_allclose(comparison.relative["connection_weights"].to_numpy(),
                               [40.0, 10.0, 30.0, 20.0])
