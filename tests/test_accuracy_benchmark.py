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


def test_reduced_benchmark_every_score_in_range():
    cases = accuracy.cases(quick=True, tiny=True, names=("olden_simulation", "box_sequences"))
    cases = [c for c in cases if c.model in ("mlp", "lstm")]
    rows = accuracy.run(cases, 2)
    methods = set(varimp.available_methods())
    for label, block in rows.groupby("data"):
        assert set(block["method"]) == methods, label
        assert sorted(block["seed"].unique()) == [0, 1]
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
    tables = accuracy.summary(rows)
    goals = accuracy.targets(rows)
    assert len(goals) == 2 and goals[0].startswith("- olden_simulation (MLP): mean similarity")
    assert goals[1].startswith("- box_sequences (LSTM): top-k recall 1.0")
    text = accuracy.markdown(tables, "python benchmarks/accuracy.py --test", 1.0, 2, goals)
    assert "`python benchmarks/accuracy.py --test`" in text
    assert text.count("| connection_weights |") == len(tables) == 2
    assert "skipped (--quick)" in text and "±" in text and "## Targets (issue 11)" in text
