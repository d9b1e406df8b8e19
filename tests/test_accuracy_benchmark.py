"""The accuracy benchmark (benchmarks/accuracy.py): its scores against hand computations, and its
reduced form (2 replicates, tiny networks) end to end, every score computed and in range."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import varimp

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "accuracy.py"
_SPEC = importlib.util.spec_from_file_location("varimp_accuracy_benchmark", _PATH)
accuracy = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = accuracy  # dataclasses look their module up
_SPEC.loader.exec_module(accuracy)

NAMES = ["x1", "x2", "x3", "x4", "x5"]


def _s(values: list[float], names: list[str] = NAMES) -> pd.Series:
    return pd.Series(values, index=names[:len(values)], dtype=float)


def test_olden_similarity_by_hand():
    truth = _s([0.8, 0.6, 0.4, 0.2, 0.0])
    assert accuracy.olden_similarity(_s([5, 4, 3, 2, 1]), truth) == 1.0
    # x1 and x2 swapped: 3 of 5 inputs in their true place
    assert accuracy.olden_similarity(_s([4, 5, 3, 2, 1]), truth) == pytest.approx(0.6)
    # reversed: only x3 (the middle) in place
    assert accuracy.olden_similarity(_s([1, 2, 3, 4, 5]), truth) == pytest.approx(0.2)
    # ties in the truth form a block: x4, x5 both 0 occupy ranks 4..5, so any order there is right
    tied = _s([3, 2, 1, 0, 0])
    assert accuracy.olden_similarity(_s([9, 8, 7, 1, 2]), tied) == 1.0
    # a constant estimate: average rank 3 for all, inside the block of x3 only
    assert accuracy.olden_similarity(_s([1, 1, 1, 1, 1]), truth) == pytest.approx(0.2)


def test_spearman_by_hand():
    truth = _s([0.8, 0.6, 0.4, 0.2, 0.0])
    assert accuracy.spearman(_s([5, 4, 3, 2, 1]), truth) == pytest.approx(1.0)
    assert accuracy.spearman(_s([1, 2, 3, 4, 5]), truth) == pytest.approx(-1.0)
    # one adjacent swap: 1 - 6 * sum(d^2) / (n (n^2 - 1)) = 1 - 6 * 2 / 120 = 0.9
    assert accuracy.spearman(_s([4, 5, 3, 2, 1]), truth) == pytest.approx(0.9)
    assert accuracy.spearman(_s([2, 2, 2, 2, 2]), truth) == 0.0


def test_top_k_recall_by_hand():
    truth = _s([1.0, 1.0, 0.0, 0.0, 0.0])  # k = 2 informative inputs
    assert accuracy.top_k_recall(_s([3, 2, 1, 0, 0]), truth) == 1.0
    assert accuracy.top_k_recall(_s([3, 0, 2, 1, 0]), truth) == 0.5
    assert accuracy.top_k_recall(_s([0, 0, 3, 2, 1]), truth) == 0.0
    # a tie at the k-th place goes against the informative input: no credit for constants
    assert accuracy.top_k_recall(_s([1, 1, 1, 1, 1]), truth) == 0.0
    assert math.isnan(accuracy.top_k_recall(_s([1, 2]), _s([0.0, 0.0])))


def test_auprc_by_hand():
    truth = pd.DataFrame([[1, 0], [0, 0], [1, 0]], columns=["x1", "x2"], dtype=float)
    perfect = truth * 5.0
    assert accuracy.auprc(perfect, truth) == 1.0
    assert accuracy.auprc(-perfect, truth) == 1.0  # abs(by_time)
    # scores 4, 3, 2, 1, 0, 0 on cells (0,x1), (0,x2), (2,x1), ...: positives ranked 1st and 3rd;
    # precision at the positives 1/1 and 2/3, so AP = (1 + 2/3) / 2 = 5/6
    ranked = pd.DataFrame([[4, 3], [0, 1], [2, 0]], columns=["x1", "x2"], dtype=float)
    assert accuracy.auprc(ranked, truth) == pytest.approx(5.0 / 6.0)


def test_separation_ratio_and_feature_truth():
    truth = pd.DataFrame([[1, 1, 0], [1, 1, 0]], columns=["x1", "x2", "x3"], dtype=float)
    per_feature = accuracy.feature_truth(truth)
    assert per_feature.tolist() == [2.0, 2.0, 0.0]
    assert accuracy.separation_ratio(pd.Series([3.0, 4.5, 0.2], index=per_feature.index),
                                     per_feature) == pytest.approx(15.0)
    assert accuracy.separation_ratio(pd.Series([3.0, 4.5, -0.1], index=per_feature.index),
                                     per_feature) == math.inf
    signed = pd.Series([-0.8, 0.6], index=["x1", "x2"])
    assert accuracy.feature_truth(signed).tolist() == [0.8, 0.6]
    assert accuracy.importance_key(signed, "effect").tolist() == [0.8, 0.6]
    assert accuracy.importance_key(signed, "loss").tolist() == [-0.8, 0.6]


def test_sample_auprc_matches_scikit_learn_sample_by_sample():
    from sklearn.metrics import average_precision_score

    rng = np.random.default_rng(0)
    values = rng.integers(-3, 4, size=(40, 5, 3)).astype(float)  # many ties, signs
    mask = rng.random((40, 5, 3)) < 0.2
    mask[:3] = False  # samples without a true cell are left out
    expected = np.mean([average_precision_score(mask[i].ravel(), np.abs(values[i]).ravel())
                        for i in range(3, 40) if mask[i].any()])
    assert accuracy.sample_auprc(values, mask) == pytest.approx(expected, rel=1e-12)
    # by hand: scores 3, 2, 2, 0 with positives at the 2nd and 4th cell -> thresholds 3 (P 0),
    # 2 (P 1/3, R 1/2), 0 (P 2/4, R 1): AP = 1/2 * 1/3 + 1/2 * 1/2 = 5/12
    one = np.array([[[3.0, 2.0, 2.0, 0.0]]])
    assert accuracy.sample_auprc(one, np.array([[[False, True, False, True]]])) == \
        pytest.approx(5.0 / 12.0)
    assert math.isnan(accuracy.sample_auprc(one, np.zeros_like(one, dtype=bool)))


class _Linear:
    """A callable sequence model ``f(X) = sum_t,j W[t, j] X[:, t, j]``: per-cell effects known."""

    def __init__(self, weights: np.ndarray) -> None:
        self.weights = weights

    def __call__(self, X: np.ndarray) -> np.ndarray:
        return np.einsum("ntp,tp->n", np.asarray(X, dtype=float), self.weights)


def _linear_case():
    X, y, _ = varimp.datasets.box_sequences(60, 5, 3, steps=(1, 3), features=(0, 2),
                                            random_state=0)
    weights = np.array([[0.0, 0.0, 0.0], [1.5, 0.0, -1.0], [1.0, 0.0, 2.0], [0.0, 0.0, 0.0],
                        [0.0, 0.5, 0.0]])
    return _Linear(weights), X, y, weights


def test_per_sample_values_of_a_linear_model_by_hand():
    model, X, y, weights = _linear_case()
    residual = y - model(X)
    means = X.mean(axis=0)
    # improved stepwise 1: cell (t, j) held at its mean moves row i's prediction by
    # W[t, j] (m[t, j] - X[i, t, j]); its share is the change of that row's squared error
    held = varimp.improved_stepwise_1(model, X, y, per_sample=True)
    expected = (residual[:, None, None] - weights * (means - X)) ** 2 - residual[:, None, None] ** 2
    np.testing.assert_allclose(held.details["per_sample"], expected, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(held.details["per_sample"].mean(axis=0), held.by_time, atol=1e-12)
    # partial derivatives: each row's squared derivative of each cell is W[t, j]^2
    pad = varimp.partial_derivatives(model, X, per_sample=True)
    np.testing.assert_allclose(pad.details["per_sample"],
                               np.broadcast_to(weights**2, X.shape), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(pad.details["per_sample"].sum(axis=0), pad.by_time, rtol=1e-12)


@pytest.mark.parametrize("method", ["perturbation", "permutation", "improved_stepwise_1"])
def test_per_sample_values_average_to_by_time_and_change_nothing_else(method):
    model, X, y, _ = _linear_case()
    plain = varimp.importance(model, X, y, method=method, random_state=1)
    full = varimp.importance(model, X, y, method=method, random_state=1, per_sample=True)
    values = full.details["per_sample"]
    assert values.shape == X.shape
    np.testing.assert_allclose(values.mean(axis=0), full.by_time, rtol=1e-9, atol=1e-12)
    pd.testing.assert_frame_equal(plain.by_time, full.by_time)
    pd.testing.assert_series_equal(plain.scores, full.scores)
    assert "per_sample" not in plain.details
    assert "per_sample" not in full.to_dict()["details"]  # per-sample details stay out of JSON
    # without a time table: each row's share of every variable's score
    whole = varimp.importance(model, X, y, method=method, random_state=1, by_time=False,
                              per_sample=True)
    assert whole.details["per_sample"].shape == (len(X), 3)
    np.testing.assert_allclose(whole.details["per_sample"].mean(axis=0), whole.scores,
                               rtol=1e-9, atol=1e-12)
    with pytest.raises(varimp.InputError, match="per_sample"):
        varimp.importance(model, X, y, method=method, per_sample="yes")
    with pytest.raises(varimp.InputError, match="per_sample"):
        varimp.importance(model, X, y, method=method, per_sample=True, scoring="r2")


def test_reduced_benchmark_every_score_in_range():
    names = ("olden_simulation", "box_sequences/middle", "box_sequences/moving")
    cases = accuracy.cases(quick=True, tiny=True, names=names)
    cases = [c for c in cases if c.model in ("mlp", "lstm")]
    assert [c.label for c in cases] == ["olden_simulation (MLP)", "box_sequences/middle (LSTM)",
                                        "box_sequences/moving (LSTM)"]
    rows = accuracy.run(cases, 2)
    methods = set(varimp.available_methods())
    per_sample = {m for m in methods if "per_sample" in varimp.registry.method_spec(m).options}
    assert per_sample == {"partial_derivatives", "perturbation", "permutation",
                          "improved_stepwise_1"}
    for label, block in rows.groupby("data"):
        assert set(block["method"]) == methods, label
        assert sorted(block["replicate"].unique()) == [0, 1]
        assert block.groupby("replicate")["seed"].nunique().eq(1).all()  # one seed per network
        assert block["seed"].nunique() == 2
        sequence = "LSTM" in label
        ran = block[block["note"].isna()] if "note" in block else block
        # tables run every method; sequences skip only the retraining ones in quick form
        skipped = set(block["method"]) - set(ran["method"])
        assert skipped == ({"forward_stepwise", "backward_stepwise"} if sequence else set())
        assert np.isfinite(ran["seconds"]).all() and (ran["seconds"] >= 0).all()
        for column in ("similarity", "recall@k"):
            assert ran[column].between(0.0, 1.0).all(), (label, column)
        assert ran["spearman"].between(-1.0, 1.0).all()
        if sequence:
            with_time = ran[ran["method"].map(lambda m: varimp.registry.method_spec(m).by_time)]
            assert with_time["auprc"].between(0.0, 1.0).all()
            assert ran["ratio"].notna().all()
        else:
            assert ran["auprc"].isna().all()
        # per-sample scores exactly where the truth is a mask per sample and the method has them
        scored = set(ran.loc[ran["auprc/sample"].notna(), "method"])
        assert scored == (per_sample if "moving" in label else set()), label
        assert ran["auprc/sample"].dropna().between(0.0, 1.0).all()
    tables = accuracy.summary(rows)
    assert "auprc/sample" in tables["box_sequences/moving (LSTM)"].columns
    assert "auprc/sample" not in tables["box_sequences/middle (LSTM)"].columns
    assert tables["box_sequences/moving (LSTM)"].set_index("method").loc[
        "garson", "auprc/sample"] == ""
    goals = accuracy.targets(rows)
    assert len(goals) == 3 and goals[0].startswith("- olden_simulation (MLP): mean similarity")
    assert goals[1].startswith("- box_sequences/middle (LSTM): top-k recall 1.0 and auprc")
    assert goals[2].startswith("- box_sequences/moving (LSTM): top-k recall 1.0 and auprc")
    assert "auprc/sample >= 0.9" in goals[2]
    text = accuracy.markdown(tables, "python benchmarks/accuracy.py --test", 1.0, 2, goals,
                             {"box_sequences/moving (LSTM)": "a moving box"})
    assert "`python benchmarks/accuracy.py --test`" in text
    assert text.count("| connection_weights |") == len(tables) == 3
    assert "skipped (--quick)" in text and "±" in text and "## Targets (issue 11)" in text
    assert "## box_sequences/moving (LSTM)\n\na moving box.\n" in text


def test_cases_cover_every_box_layout_and_filter_by_family():
    every = accuracy.cases(quick=False)
    labels = [c.label for c in every]
    for layout in varimp.datasets.BOX_LAYOUTS:
        for model in ("LSTM", "GRU"):
            assert f"box_sequences/{layout} ({model})" in labels
    box = accuracy.cases(quick=False, names=("box_sequences",))
    assert len(box) == 2 * len(varimp.datasets.BOX_LAYOUTS)
    moving = [c for c in box if c.name.endswith("moving")][0]
    X, y, truth = moving.make(random_state=0)
    assert set(np.unique(y)) == {0.0, 1.0} and truth.attrs["mask"].shape == X.shape
