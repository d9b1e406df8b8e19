"""The results: kinds, relative shares and ranks, strict JSON round trips and equality."""

import json

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import false_discovery_control
from torch import nn

import varimp
from varimp import Comparison, Importance

NAMES = ["rain", "temp", "wind", "soil"]
# floats whose shortest decimal form is long, tiny, huge or negative zero
AWKWARD = [0.1 + 0.2, 1 / 3, -2.718281828459045e-300, 1.7976931348623157e308 / 3]


def _refuse(constant):
    raise AssertionError(f"JSON holds the non-standard constant {constant}")


def strict_loads(text):
    """``json.loads`` that fails on NaN / Infinity, which strict JSON does not have."""
    return json.loads(text, parse_constant=_refuse)


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
                 "measure": "increase in mean squared error",
                 "table": pd.DataFrame({"a": [1.5, 1 / 3], "b": ["x", "y"], "n": [3, 4]},
                                       index=pd.Index(["u", "v"], name="row")),
                 "series": pd.Series([0.25, np.nan], index=[10, 20], name="s"),
                 "derivatives": pd.DataFrame(rng.normal(size=(6, 4)), columns=NAMES)},
        kind="loss",
    )


def test_json_round_trip_is_exact_and_equal():
    result = full_result()
    text = result.to_json()
    back = Importance.from_json(text)
    assert back == result and result == back
    assert back.method == "perturbation" and back.kind == "loss"
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
    # details: frames and series come back as frames and series with their index
    pd.testing.assert_frame_equal(back.details["table"], result.details["table"])
    pd.testing.assert_series_equal(back.details["series"], result.details["series"])
    np.testing.assert_array_equal(back.details["levels"], [0.1, 0.3])
    assert back.details["levels"].dtype == np.float64
    assert back.details["noise"] == 1 / 3 and back.details["n_repeats"] == 5
    # a second round trip changes nothing
    assert Importance.from_json(back.to_json()).to_json() == back.to_json()


def test_one_changed_number_makes_results_unequal():
    result = full_result()
    changes = [
        lambda r: r.scores.iloc.__setitem__(2, np.nextafter(AWKWARD[2], 1.0)),  # one ulp
        lambda r: r.by_time.iloc.__setitem__((4, 3), r.by_time.iloc[4, 3] + 1e-12),
        lambda r: r.ci.iloc.__setitem__((0, 1), 2.0),
        lambda r: r.details["table"].iloc.__setitem__((1, 0), 0.3333),
        lambda r: r.details["series"].iloc.__setitem__(1, 0.0),  # NaN -> 0
        lambda r: setattr(r, "kind", "magnitude"),
        lambda r: r.details.__setitem__("n_repeats", 6),
    ]
    for change in changes:
        other = Importance.from_json(result.to_json())
        assert other == result
        change(other)
        assert other != result and result != other
    assert result != "a string" and result.__eq__(3) is NotImplemented


def test_json_is_strict_non_finite_numbers_are_null_and_read_back_as_nan():
    scores = pd.Series([1.0, np.nan, np.inf], index=["a", "b", "c"])
    by_time = pd.DataFrame([[np.nan, 1.0, -np.inf]], columns=["a", "b", "c"])
    result = Importance("permutation", scores, by_time=by_time, kind="loss",
                        details={"baseline": np.nan, "curve": np.array([np.nan, 2.0])})
    text = result.to_json()
    json.dumps(strict_loads(text), allow_nan=False)  # strictly valid both ways
    data = strict_loads(text)
    assert data["scores"]["values"] == [1.0, None, None]
    assert data["by_time"]["values"] == [[None, 1.0, None]]
    assert data["details"]["baseline"] is None
    back = Importance.from_json(text)
    assert back.scores.isna().tolist() == [False, True, True]
    assert back.by_time.isna().to_numpy().tolist() == [[True, False, True]]
    assert np.isnan(back.details["curve"][0]) and back.details["curve"][1] == 2.0
    assert back == result  # equal in what JSON can hold


def test_per_sample_details_are_left_out_unless_asked_for():
    result = full_result()
    assert "derivatives" not in strict_loads(result.to_json())["details"]
    assert "derivatives" not in Importance.from_json(result.to_json()).details
    full = Importance.from_json(result.to_json(include_samples=True))
    pd.testing.assert_frame_equal(full.details["derivatives"], result.details["derivatives"],
                                  check_column_type=False)
    assert full == result
    full.details["derivatives"].iloc[0, 0] += 1.0  # compared when both carry them
    assert full != result
    assert Importance.from_json(result.to_json()) == full  # not when one left them out
    per_output = {"output 0": result.details["derivatives"], "output 1": -result.details[
        "derivatives"]}
    several = Importance("partial_derivatives", result.scores, details={"derivatives": per_output})
    back = Importance.from_json(several.to_json(include_samples=True))
    pd.testing.assert_frame_equal(back.details["derivatives"]["output 1"], -result.details[
        "derivatives"], check_column_type=False)


def test_round_trip_of_a_real_result():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    X = np.random.default_rng(1).normal(size=(10, 3))
    result = varimp.partial_derivatives(model, X)
    back = Importance.from_json(result.to_json())
    assert back == result
    np.testing.assert_array_equal(back.scores.to_numpy(), result.scores.to_numpy())
    pd.testing.assert_frame_equal(back.details["summary"], result.details["summary"],
                                  check_dtype=False)
    assert "derivatives" in result.details and "derivatives" not in back.details


def test_kind_is_validated():
    with pytest.raises(varimp.InputError, match="kind must be one of .*'effect'.*'signed'"):
        Importance("garson", pd.Series([1.0], index=["a"]), kind="signed")
    assert Importance("garson", pd.Series([1.0], index=["a"])).kind == "magnitude"


@pytest.mark.parametrize(("kind", "magnitude"), [
    ("effect", [2.0, 6.0, 0.0, 12.0]),   # abs
    ("loss", [2.0, 0.0, 0.0, 12.0]),     # max(score, 0)
    ("magnitude", [2.0, -6.0, 0.0, 12.0]),
])
def test_relative_is_the_share_of_the_kinds_magnitude_in_percent(kind, magnitude):
    result = Importance("m", pd.Series([2.0, -6.0, 0.0, 12.0], index=NAMES), kind=kind)
    total = sum(magnitude)
    np.testing.assert_allclose(result.relative.to_numpy(), [100 * m / total for m in magnitude],
                               rtol=1e-15)
    assert list(result.relative.index) == NAMES
    zero = Importance("m", pd.Series([0.0, -1.0], index=["a", "b"]), kind="loss")
    assert zero.relative.tolist() == [0.0, 0.0]  # no positive loss: no share


def test_relative_of_a_share():
    result = Importance("garson", pd.Series([0.1, 0.3, 0.6], index=list("abc")), kind="share")
    np.testing.assert_allclose(result.relative.to_numpy(), [10.0, 30.0, 60.0], rtol=1e-14)


def test_ranks_follow_the_kind_with_ties_sharing_the_best_rank():
    scores = pd.Series([0.5, -3.0, 3.0, 0.1, -0.5], index=list("abcde"))
    effect = Importance("connection_weights", scores, kind="effect")
    assert effect.ranks.to_dict() == {"a": 3, "b": 1, "c": 1, "d": 5, "e": 3}
    loss = Importance("permutation", scores, kind="loss")  # a negative loss ranks last
    assert loss.ranks.to_dict() == {"c": 1, "a": 2, "d": 3, "e": 4, "b": 5}
    share = Importance("garson", pd.Series([0.2, 0.5, 0.2, 0.1], index=list("abcd")),
                       kind="share")
    assert share.ranks.to_dict() == {"b": 1, "a": 2, "c": 2, "d": 4}
    assert effect.ranks.dtype.kind == "i"
    missing = Importance("permutation", pd.Series([np.nan, 1.0], index=["a", "b"]), kind="loss")
    assert missing.ranks.to_dict() == {"a": 2, "b": 1}


def test_to_frame_columns_and_values():
    result = full_result()
    frame = result.to_frame()
    assert list(frame.columns) == ["feature", "score", "relative", "rank", "std", "ci_low",
                                   "ci_high", "pvalue", "pvalue_bh"]
    # beside the raw p-values, the Benjamini-Hochberg adjusted ones (scipy's rule)
    np.testing.assert_allclose(frame["pvalue_bh"].to_numpy(), false_discovery_control(
        result.pvalues.to_numpy(), method="bh"), rtol=1e-12)
    assert frame["feature"].tolist() == NAMES
    assert frame["score"].tolist() == AWKWARD
    np.testing.assert_array_equal(frame["ci_low"].to_numpy(), result.ci["low"].to_numpy())
    np.testing.assert_array_equal(frame["pvalue"].to_numpy(), result.pvalues.to_numpy())
    np.testing.assert_array_equal(frame["relative"].to_numpy(), result.relative.to_numpy())
    # a loss: by signed score, the one negative score last
    assert frame["rank"].tolist() == [3, 2, 4, 1]
    bare = Importance("garson", pd.Series([0.2, 0.8], index=["a", "b"])).to_frame()
    assert list(bare.columns) == ["feature", "score", "relative", "rank"]
    assert bare["rank"].tolist() == [2, 1]


def test_to_frame_takes_the_adjusted_pvalues_a_test_carries_and_keeps_them_in_json():
    """A randomization test's ``details["pvalues_bh"]`` is the ``pvalue_bh`` column, in the
    order of the scores, also after a JSON round trip; without it, the same adjustment by hand:
    p = (0.04, 0.01, 0.03): sorted 0.01, 0.03, 0.04 times 3 / rank: 0.03, 0.045, 0.04, and the
    running minimum from the largest: 0.03, 0.04, 0.04."""
    scores = pd.Series([1.0, 2.0, 3.0], index=["a", "b", "c"])
    pvalues = pd.Series([0.04, 0.01, 0.03], index=scores.index)
    bare = Importance("permutation", scores, kind="loss", pvalues=pvalues)
    np.testing.assert_allclose(bare.to_frame()["pvalue_bh"].to_numpy(), [0.04, 0.03, 0.04],
                               rtol=1e-12)
    stored = pd.Series([0.5, 0.25, 0.125], index=["c", "b", "a"], name="pvalue_bh")
    tested = Importance("permutation", scores, kind="loss", pvalues=pvalues,
                        details={"pvalues_bh": stored})
    again = Importance.from_json(tested.to_json())
    for result in (tested, again):
        frame = result.to_frame()
        assert frame["pvalue_bh"].tolist() == [0.125, 0.25, 0.5]
        assert frame["pvalue"].tolist() == [0.04, 0.01, 0.03]
    assert "pvalue_bh" not in Importance("garson", scores).to_frame().columns


def test_optional_series_follow_the_order_of_the_scores():
    scores = pd.Series([1.0, 2.0, 3.0], index=["a", "b", "c"])
    std = pd.Series([0.3, 0.1, 0.2], index=["c", "a", "b"])
    pvalues = pd.Series([0.01, 0.02, 0.03], index=["b", "c", "a"])
    result = Importance("permutation", scores, std=std, pvalues=pvalues)
    assert result.std.to_dict() == {"a": 0.1, "b": 0.2, "c": 0.3}
    assert result.pvalues.to_dict() == {"a": 0.03, "b": 0.01, "c": 0.02}


def _comparison():
    index = ["a", "b", "c", "d"]
    one = Importance("garson", pd.Series([0.1, 0.4, 0.2, 0.3], index=index), kind="share")
    two = Importance("connection_weights", pd.Series([-4.0, 1.0, 3.0, -2.0], index=index),
                     kind="effect")
    three = Importance("permutation", pd.Series([-0.5, 0.3, 0.1, 0.2], index=index),
                       kind="loss")
    return Comparison({"garson": one, "connection_weights": two, "permutation": three},
                      skipped={"profile": "needs X"})


def test_comparison_ranks_and_spearman_agreement_of_the_ranks():
    comparison = _comparison()
    ranks = comparison.ranks
    assert ranks["garson"].tolist() == [4, 1, 3, 2]
    assert ranks["connection_weights"].tolist() == [1, 4, 2, 3]  # by |effect|
    assert ranks["permutation"].tolist() == [4, 1, 3, 2]  # by signed loss: a (-0.5) last
    # Spearman by hand on the ranks (no ties): 1 - 6 sum d^2 / (n (n^2 - 1))
    def rho(r1, r2):
        d = np.array(r1) - np.array(r2)
        return 1 - 6 * (d**2).sum() / (4 * (16 - 1))
    agreement = comparison.agreement
    assert agreement.loc["garson", "connection_weights"] == pytest.approx(rho([4, 1, 3, 2],
                                                                             [1, 4, 2, 3]))
    assert agreement.loc["garson", "permutation"] == pytest.approx(1.0)
    # on abs(scores), permutation's a (|-0.5|) would rank first and the agreement would be -0.4
    assert agreement.loc["connection_weights", "permutation"] == pytest.approx(-1.0)
    np.testing.assert_allclose(comparison.relative["connection_weights"].to_numpy(),
                               [40.0, 10.0, 30.0, 20.0])
    np.testing.assert_allclose(comparison.relative["permutation"].to_numpy(),
                               [0.0, 50.0, 100 / 6, 100 / 3])


def test_agreement_is_spearman_not_kendall_nor_pearson_of_scores_nor_of_tied_ranks():
    """Rankings on which the candidate measures differ: Spearman is the Pearson correlation of
    the average ranks (scipy.stats.spearmanr on the rank columns written by hand, and the
    d^2 formula without ties), not Kendall's tau, not Pearson of the scores, and re-ranks
    ties ("min" ranks 1, 1 are 1.5, 1.5 to Spearman)."""
    from scipy.stats import kendalltau, pearsonr, spearmanr

    index = ["a", "b", "c", "d", "e"]
    share = pd.Series([0.4, 0.3, 0.15, 0.1, 0.05], index=index)
    loss = pd.Series([0.5, 4.0, 0.1, -0.3, 0.2], index=index)
    tied = pd.Series([5.0, 5.0, 3.0, 2.0, 1.0], index=index)
    comparison = Comparison({"one": Importance("garson", share, kind="share"),
                             "two": Importance("permutation", loss, kind="loss"),
                             "three": Importance("profile", tied, kind="magnitude")})
    one, two, three = [1, 2, 3, 4, 5], [2, 1, 4, 5, 3], [1, 1, 3, 4, 5]
    assert comparison.ranks.to_numpy().T.tolist() == [one, two, three]
    agreement = comparison.agreement
    # d = (-1, 1, -1, -1, 2): 1 - 6 * 8 / (5 * 24) = 0.6
    assert agreement.loc["one", "two"] == pytest.approx(0.6, abs=1e-12)
    assert agreement.loc["one", "two"] == pytest.approx(spearmanr(one, two).statistic, abs=1e-12)
    # 3 discordant pairs of 10: Kendall's tau is 0.4; Pearson of the scores another number
    assert kendalltau(one, two).statistic == pytest.approx(0.4)
    assert abs(pearsonr(share, loss).statistic - 0.6) > 0.1
    # ties: Pearson of (1, 2, 3, 4, 5) and (1.5, 1.5, 3, 4, 5), not of (1, 1, 3, 4, 5)
    assert agreement.loc["one", "three"] == pytest.approx(
        pearsonr(one, [1.5, 1.5, 3, 4, 5]).statistic, abs=1e-12)
    assert agreement.loc["one", "three"] == pytest.approx(spearmanr(one, three).statistic,
                                                          abs=1e-12)
    assert abs(pearsonr(one, three).statistic - agreement.loc["one", "three"]) > 1e-3
    assert agreement.loc["two", "three"] == pytest.approx(spearmanr(two, three).statistic,
                                                          abs=1e-12)
    np.testing.assert_allclose(np.diag(agreement), 1.0)


def test_comparison_json_round_trip_with_skipped():
    comparison = _comparison()
    text = comparison.to_json()
    data = strict_loads(text)
    assert data["skipped"] == {"profile": "needs X"}
    assert list(data["results"]) == ["garson", "connection_weights", "permutation"]
    back = Comparison.from_json(text)
    assert back == comparison
    assert back.skipped == {"profile": "needs X"}
    assert [r.kind for r in back.results.values()] == ["share", "effect", "loss"]
    pd.testing.assert_frame_equal(back.ranks, comparison.ranks)
    back.results["permutation"].scores.iloc[0] = -0.4
    assert back != comparison
    assert Comparison.from_json(text) != Comparison(comparison.results)  # skipped differs


def test_every_methods_real_result_round_trips_through_strict_json():
    torch.manual_seed(0)
    X = np.random.default_rng(0).normal(size=(40, 4))
    y = X[:, 0] + 0.5 * X[:, 1]
    model = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 1))
    comparison = varimp.compare(model, X, y, random_state=0, progress=False)
    assert set(comparison.results) == set(varimp.available_methods())
    text = comparison.to_json()
    strict_loads(text)
    back = Comparison.from_json(text)
    assert back == comparison
    for name, result in comparison.results.items():
        again = back.results[name]
        assert again.kind == result.kind
        pd.testing.assert_frame_equal(again.to_frame(), result.to_frame())
        for key, value in result.details.items():  # frames stay frames, with their index
            if isinstance(value, pd.DataFrame) and key != "derivatives":
                pd.testing.assert_frame_equal(again.details[key], value, check_dtype=False,
                                              check_index_type=False, check_column_type=False)


def test_to_frame_leaves_the_result_as_it_was():
    result = varimp.Importance("permutation", pd.Series([0.5, -0.1], index=["a", "b"]),
                               kind="loss", std=pd.Series([0.1, 0.2], index=["a", "b"]))
    before = result.to_json()
    assert result.to_frame()["feature"].tolist() == ["a", "b"]
    assert result.scores.index.name is None and result.to_json() == before


def _stepwise_and_derivatives(n):
    """Forward stepwise (held-out rows per fold) and partial derivatives (derivatives and
    squared terms per row) of y = 2 x1 - x2 on ``n`` rows."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 3))
    y = 2 * X[:, 0] - X[:, 1]

    def fit(X_fit, y_fit):  # least squares on the kept columns
        coef = np.linalg.lstsq(X_fit, y_fit, rcond=None)[0]
        return lambda Z: Z @ coef

    stepwise = varimp.forward_stepwise(lambda Z: Z @ [2.0, -1.0, 0.0], X, y, fit=fit,
                                       random_state=0, progress=False)
    derivatives = varimp.partial_derivatives(lambda Z: Z @ [2.0, -1.0, 0.0], X,
                                             per_sample=True)
    return stepwise, derivatives


def test_json_size_does_not_grow_with_the_number_of_samples():
    small = [len(r.to_json()) for r in _stepwise_and_derivatives(500)]
    stepwise, derivatives = _stepwise_and_derivatives(5000)
    for result, before in zip((stepwise, derivatives), small, strict=True):
        text = result.to_json()
        assert abs(len(text) - before) < 100  # a few digits apart, not 4,500 rows' worth
        assert Importance.from_json(text) == result
    assert strict_loads(stepwise.to_json())["details"]["held_out"] == {"of": 5000, "cv": False}
    assert "rows" in stepwise.details["held_out"]  # the result itself keeps them
    held = stepwise.details["held_out"]["rows"]
    assert sum(len(rows) for rows in held) >= 1000  # the held-out fifth of 5,000 rows
    full = Importance.from_json(stepwise.to_json(include_samples=True))
    assert full.details["held_out"]["rows"] == held and full == stepwise
    assert len(stepwise.to_json(include_samples=True)) > len(stepwise.to_json()) + 4 * 1000
    full = Importance.from_json(derivatives.to_json(include_samples=True))
    np.testing.assert_array_equal(full.details["per_sample"], derivatives.details["per_sample"])
    assert full.details["derivatives"].shape == (5000, 3)
    both = Comparison({"forward_stepwise": stepwise, "partial_derivatives": derivatives})
    assert len(both.to_json()) < 2 * sum(small)
    assert Comparison.from_json(both.to_json()) == both


@pytest.mark.parametrize(("read", "text", "message"), [
    (Importance.from_json, Comparison({"garson": Importance("garson", pd.Series(
        [1.0], index=["a"]))}).to_json(),
     "Importance.from_json needs an Importance's JSON (with the keys 'method', 'scores', as "
     "Importance.to_json writes it); received a Comparison's JSON (read it with "
     "Comparison.from_json)"),
    (Comparison.from_json, Importance("garson", pd.Series([1.0], index=["a"])).to_json(),
     "Comparison.from_json needs a Comparison's JSON (with the keys 'results', as "
     "Comparison.to_json writes it); received an Importance's JSON (read it with "
     "Importance.from_json)"),
    (Importance.from_json, '{"rain": 1.0, "temp": 2.0}',
     "Importance.from_json needs an Importance's JSON (with the keys 'method', 'scores', as "
     "Importance.to_json writes it); received an object with the keys ['rain', 'temp']"),
    (Comparison.from_json, "[1, 2]",
     "Comparison.from_json needs a Comparison's JSON (with the keys 'results', as "
     "Comparison.to_json writes it); received an array of 2 item(s)"),
    (Comparison.from_json, "null", "Comparison.from_json needs a Comparison's JSON (with the "
     "keys 'results', as Comparison.to_json writes it); received null"),
    (Importance.from_json, "{'method': 'garson'}",
     "Importance.from_json needs JSON text written by Importance.to_json; received text that "
     "is not JSON (Expecting property name enclosed in double quotes at line 1 column 2): "
     "\"{'method': 'garson'}\""),
    (Importance.from_json, 3, "Importance.from_json needs JSON text (a str, as "
     "Importance.to_json writes it); received int 3"),
    (Importance.from_dict, Comparison({}).to_dict(),
     "Importance.from_dict needs an Importance's dict (with the keys 'method', 'scores', as "
     "Importance.to_dict writes it); received a Comparison's dict (read it with "
     "Comparison.from_dict)"),
    (Comparison.from_json, '{"results": {"garson": {"scores": {}}}}',
     "Comparison.from_json: result 'garson': Importance.from_json needs an Importance's JSON"),
    (Comparison.from_json, '{"results": [1]}',
     "Comparison.from_json needs 'results' as Comparison.to_json writes them (an object of "
     "method name -> an Importance's JSON); received an array of 1 item(s)"),
    (Comparison.from_json, '{"results": {}, "skipped": ["x"]}',
     "Comparison.from_json needs 'skipped' as Comparison.to_json writes it (an object of "
     "method name -> reason text); received an array of 1 item(s)"),
    (Comparison.from_json, b"\xff\xfe{",
     "Comparison.from_json needs JSON text written by Comparison.to_json; received bytes that "
     "are not UTF-8, UTF-16 or UTF-32 text (truncated data at byte 2): b'\\xff\\xfe{'"),
    (Importance.from_json, '{"method": "garson", "scores": null}',
     "Importance.from_json needs 'scores' as Importance.to_json writes them (an object with "
     "the keys 'index' and 'values'); received null"),
    (Comparison.from_json, '{"results": {"garson": {"method": "garson", "scores": [1]}}}',
     "Comparison.from_json: result 'garson': Importance.from_json needs 'scores' as "
     "Importance.to_json writes them (an object with the keys 'index' and 'values'); "
     "received an array of 1 item(s)"),
])
def test_reading_json_of_something_else_says_what_was_expected_and_what_came(read, text,
                                                                             message):
    with pytest.raises(varimp.InputError) as info:
        read(text)
    assert str(info.value).startswith(message)
