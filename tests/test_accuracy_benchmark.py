"""The accuracy benchmark (benchmarks/accuracy.py): its scores against hand computations, and its
reduced form (2 replicates, tiny networks) end to end, every score computed and in range."""

from __future__ import annotations

import importlib.util
import math
import re
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


def test_tied_truth_scores_any_order_inside_the_block_alike():
    # state_switching's design truth: x1 and x2 matter equally; either order of them is right
    design = varimp.datasets.state_switching(50, random_state=0)[2].attrs["feature_truth"]
    assert design.tolist() == pytest.approx([0.5 * (1 + 0.9 + 0.81)] * 2 + [0.0])
    for estimate in ([1.0, 1.0, 0.0], [1.01, 1.0, 0.0], [1.0, 1.01, 0.0]):
        assert accuracy.olden_similarity(_s(estimate), design) == 1.0
        assert accuracy.spearman(_s(estimate), design) == pytest.approx(1.0)
        assert accuracy.top_k_recall(_s(estimate), design) == 1.0
    # against the sample mean of one draw's mask (x1 1.309, x2 1.379) the same estimates
    # scored 1/3 or 1 and 0.5 or 1: a coin flip
    drawn = _s([1.309, 1.379, 0.0])
    assert accuracy.olden_similarity(_s([1.01, 1.0, 0.0]), drawn) == pytest.approx(1 / 3)
    # an uninformative input inside the informative block is still a mistake
    assert accuracy.olden_similarity(_s([1.0, 0.0, 0.5]), design) == pytest.approx(1 / 3)


def test_spearman_with_ties_in_the_truth_by_hand():
    from scipy.stats import pearsonr

    truth = _s([2.0, 2.0, 1.0, 0.0, 0.0])
    # estimate ranks (1 = lowest) 5, 4, 1, 3, 2; averaged within the truth's blocks
    # {x1, x2} -> 4.5, {x3} -> 1, {x4, x5} -> 2.5; the truth's ranks 4.5, 4.5, 3, 1.5, 1.5:
    # centred (1.5, 1.5, -2, -0.5, -0.5) . (1.5, 1.5, 0, -1.5, -1.5) = 6 over sqrt(9 * 9)
    estimate = _s([5.0, 4.0, 1.0, 3.0, 2.0])
    assert accuracy.spearman(estimate, truth) == pytest.approx(2.0 / 3.0)
    assert accuracy.spearman(estimate, truth) == pytest.approx(
        pearsonr([4.5, 4.5, 1, 2.5, 2.5], [4.5, 4.5, 3, 1.5, 1.5]).statistic)
    # any order inside the blocks is a perfect ranking
    assert accuracy.spearman(_s([9.0, 8.0, 5.0, 1.0, 2.0]), truth) == pytest.approx(1.0)
    assert accuracy.spearman(_s([8.0, 9.0, 5.0, 2.0, 1.0]), truth) == pytest.approx(1.0)


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

    def ratio(values):
        return accuracy.separation_ratio(pd.Series(values, index=per_feature.index), per_feature)

    assert ratio([3.0, 4.5, 0.2]) == pytest.approx(15.0)
    assert ratio([3.0, 4.5, -0.1]) == math.inf  # separated in sign: every uninformative <= 0
    assert ratio([3.0, 0.1, 0.2]) == pytest.approx(0.5)  # misranked: below 1
    # an informative input at or below zero is never separated, whatever x3 scores
    assert ratio([5.0, -3.0, -0.1]) == 0.0
    assert ratio([-5.0, -4.0, -10.0]) == 0.0
    assert ratio([2.0, 0.0, -1.0]) == 0.0
    # the design's per-feature truth, where the generator gives one, wins over the mask's mean
    drawn = truth.copy()
    drawn.attrs["feature_truth"] = pd.Series([-1.5, 1.5, 0.0], index=truth.columns)
    assert accuracy.feature_truth(drawn).tolist() == [1.5, 1.5, 0.0]
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


def test_averaged_mask_of_the_moving_box_and_spike_scores_features_not_steps():
    """The docs' claim: on the moving box and spike the mask averaged over samples is non-zero
    on every step of the driven features, so ``auprc`` against it gives a table constant over
    time full marks; state_switching's averaged mask still tells the steps apart."""
    moving = varimp.datasets.box_sequences(300, 20, 4, layout="moving", process="gaussian",
                                           signal="shift", random_state=0)[2]
    spike = varimp.datasets.spike(300, random_state=0)[2]
    switching = varimp.datasets.state_switching(300, random_state=0)[2]
    for truth, driven in ((moving, ["x1", "x2"]), (spike, ["x1"]), (switching, ["x1", "x2"])):
        flat = pd.DataFrame(0.0, index=truth.index, columns=truth.columns)
        flat[driven] = 1.0  # the right features, the same value at every step
        nonzero = (truth.to_numpy() != 0).sum(axis=0)
        if truth is switching:  # the label reads the last three steps: time matters
            assert nonzero.tolist() == [3, 3, 0]
            assert accuracy.auprc(flat, truth) == pytest.approx(3 / 20)  # every positive: 6/40
        else:
            assert nonzero.tolist() == [20 if c in driven else 0 for c in truth.columns]
            assert accuracy.auprc(flat, truth) == 1.0
    # per sample the same flat table scores the box's share of its tied cells: 8 of 40
    mask = moving.attrs["mask"]
    flat_cells = np.broadcast_to(np.array([1.0, 1.0, 0.0, 0.0]), mask.shape)
    assert accuracy.sample_auprc(flat_cells, mask) == pytest.approx(8 / 40)


def test_ceilings_by_hand_on_the_exact_functions():
    """Each method on the noise-free function, no network: permutation reaches the Friedman
    truth (total-effect variance) it estimates; partial derivatives reach what the ranking of
    the mean squared derivative, computed here by quadrature, scores against it."""
    methods = ("connection_weights", "garson", "partial_derivatives", "permutation",
               "forward_stepwise")
    rows = accuracy.ceiling_rows(n_samples=2000, draws=1, methods=methods)
    got = rows.set_index(["data", "method"])
    olden, friedman = "olden_simulation (true function)", "friedman1 (true function)"
    for method in ("connection_weights", "garson", "partial_derivatives", "permutation"):
        assert got.loc[(olden, method), "similarity"] == 1.0, method  # the linear truth
        assert got.loc[(olden, method), "spearman"] == pytest.approx(1.0), method
    assert got.loc[(friedman, "permutation"), "similarity"] == 1.0
    assert got.loc[(friedman, "permutation"), "spearman"] == pytest.approx(1.0)
    # mean squared derivatives of f = 10 sin(pi x1 x2) + 20 (x3 - .5)^2 + 10 x4 + 5 x5 on U[0,1]
    nodes, weights = np.polynomial.legendre.leggauss(64)
    u, w = (nodes + 1) / 2, weights / 2
    d1 = w @ (10 * np.pi * u[None, :] * np.cos(np.pi * np.outer(u, u))) ** 2 @ w  # x1 = x2
    squared = _s([d1, d1 * (1 + 1e-9), 1600 / 12, 100.0, 25.0, 0, 0, 0, 0, 0],
                 [f"x{j}" for j in range(1, 11)])  # a sample never ties x1 and x2 exactly
    truth = varimp.datasets.friedman1(10, random_state=0)[2]
    assert squared["x3"] > squared["x4"] and truth["x3"] < truth["x4"]  # the docs' example
    assert got.loc[(friedman, "partial_derivatives"), "similarity"] == pytest.approx(
        accuracy.olden_similarity(squared, truth))
    assert got.loc[(friedman, "partial_derivatives"), "spearman"] == pytest.approx(
        accuracy.spearman(squared, truth))
    # no network computes Friedman #1; retraining has no function to retrain
    assert got.loc[(friedman, "connection_weights"), "note"].startswith("n/a")
    assert got.loc[(olden, "forward_stepwise"), "note"].startswith("n/a")
    section = accuracy.ceiling_section(rows, draws=1, n_samples=2000)
    assert section.startswith(accuracy.CEILING_HEADING)
    assert "### friedman1 (true function)" in section and "seconds" not in section.split(
        "###")[1]
    assert "`python benchmarks/accuracy.py --ceilings --out docs/benchmarks.md`" in section


def test_splice_section_replaces_or_inserts_only_the_ceilings():
    section = accuracy.CEILING_HEADING + "\n\nnew text\n\n### a\n\n| t |"
    doc = ("# Accuracy benchmark\n\nintro\n\n## Targets (issue 11)\n\n- x\n\n"
           "## olden (MLP)\n\n| r |\n")
    inserted = accuracy.splice_section(doc, section)
    assert inserted == ("# Accuracy benchmark\n\nintro\n\n## Targets (issue 11)\n\n- x\n\n"
                        + section + "\n\n## olden (MLP)\n\n| r |\n")
    newer = section.replace("new text", "newer text")
    replaced = accuracy.splice_section(inserted, newer)
    assert replaced == inserted.replace("new text", "newer text")
    assert accuracy.splice_section(replaced, newer) == replaced  # idempotent
    # at the end of a file without tables
    assert accuracy.splice_section("# A\n\nintro\n", section) == "# A\n\nintro\n\n" + section + "\n"


def _reduced_rows() -> tuple[list, pd.DataFrame]:
    """Every case of the benchmark in its tiny form: 2 replicates, 4 units, a few epochs."""
    cases = accuracy.cases(quick=True, tiny=True)
    return cases, accuracy.run(cases, 2)


def test_reduced_benchmark_every_data_set_and_network_every_score_in_range():
    cases, rows = _reduced_rows()
    labels = [c.label for c in cases]
    boxes = [f"box_sequences/{name}" for name in accuracy.BOX_CASES]
    sequences = ["product_threshold", *boxes, "state_switching", "spike"]
    assert labels == ["olden_simulation (MLP)", "friedman1 (MLP)",
                      *[f"{name} ({cell})" for name in sequences for cell in ("LSTM", "GRU")]]
    assert list(rows["data"].unique()) == labels  # every table computed
    methods = set(varimp.available_methods())
    per_sample = {m for m in methods if "per_sample" in varimp.registry.method_spec(m).options}
    assert per_sample == {"partial_derivatives", "perturbation", "permutation",
                          "improved_stepwise_1"}
    masked = ("state_switching", "spike", "box_sequences/moving")
    for label, block in rows.groupby("data"):
        assert set(block["method"]) == methods, label
        assert sorted(block["replicate"].unique()) == [0, 1]
        assert block.groupby("replicate")["seed"].nunique().eq(1).all()  # one seed per network
        assert block["seed"].nunique() == 2
        sequence = "LSTM" in label or "GRU" in label
        ran = block[block["note"].isna()] if "note" in block else block
        # tables run every method; sequences skip only the retraining ones in quick form
        skipped = set(block["method"]) - set(ran["method"])
        assert skipped == ({"forward_stepwise", "backward_stepwise"} if sequence else set())
        assert np.isfinite(ran["seconds"]).all() and (ran["seconds"] >= 0).all()
        for column in ("similarity", "recall@k"):
            assert ran[column].between(0.0, 1.0).all(), (label, column)
        assert ran["spearman"].between(-1.0, 1.0).all(), label
        if sequence:
            with_time = ran[ran["method"].map(lambda m: varimp.registry.method_spec(m).by_time)]
            assert with_time["auprc"].between(0.0, 1.0).all(), label
            assert ran.loc[~ran.index.isin(with_time.index), "auprc"].isna().all()
            assert (ran["ratio"] >= 0).all(), label  # 0 .. inf, never NaN
        else:
            assert ran["auprc"].isna().all() and ran["ratio"].isna().all()
        # per-sample scores exactly where the truth is a mask per sample and the method has them
        scored = set(ran.loc[ran["auprc/sample"].notna(), "method"])
        assert scored == (per_sample if label.startswith(masked) else set()), label
        assert ran["auprc/sample"].dropna().between(0.0, 1.0).all()
    tables = accuracy.summary(rows)
    assert list(tables) == labels
    for label in labels:
        columns = list(tables[label].columns)
        assert ("auprc/sample" in columns) == label.startswith(masked), label
        assert ("ratio" in columns) == ("MLP" not in label), label
        assert tables[label]["seconds"].ne("").sum() == (10 if "MLP" in label else 8)
    assert tables["spike (GRU)"].set_index("method").loc["garson", "auprc/sample"] == ""
    goals = accuracy.targets(rows)
    target_labels = [g.split(":")[0][2:] for g in goals]
    assert target_labels == [lab for lab in labels if lab.startswith(
        ("olden_simulation", "product_threshold", "box_sequences"))]
    assert all(" met" in g or "**missed**" in g for g in goals)
    assert sum("auprc/sample >= 0.9" in g for g in goals) == 2  # the moving box, both cells
    for goal in goals:  # the averaged mask's auprc on the moving box is reported, not judged
        if "/moving" in goal:
            verdict, reported = goal.split(". Not a test of time: ")
            assert " met" in verdict or "**missed**" in verdict
            assert "which features, not which steps" in reported
            assert not re.search(r"\bmet\b", reported) and "**missed**" not in reported
    assert sum("linear-sum contrast" in g for g in goals) == 2
    text = accuracy.markdown(tables, "python benchmarks/accuracy.py --test", 1.0, 2, goals,
                             {"box_sequences/moving (LSTM)": "a moving box"},
                             accuracy.CEILING_HEADING + "\n\nceilings here")
    assert text.index("## Targets") < text.index(accuracy.CEILING_HEADING) < text.index(
        "## olden_simulation (MLP)")
    assert "scores which features, not which steps" in text
    assert "`python benchmarks/accuracy.py --test`" in text
    assert text.count("| connection_weights |") == len(tables) == 18
    assert "skipped (--quick)" in text and "±" in text and "## Targets (issue 11)" in text
    assert "## box_sequences/moving (LSTM)\n\na moving box.\n" in text


class _Recorder:
    """Stands in for ``varimp.importance``: records (method, rows) and times nothing else."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []
        self.real = varimp.importance

    def __call__(self, model, X, y=None, *, method, **options):
        self.calls.append((method, len(X)))
        return self.real(model, X, y, method=method, **options)


def test_each_timed_call_follows_an_untimed_warm_up_and_seconds_are_medians(monkeypatch):
    recorder = _Recorder()
    monkeypatch.setattr(accuracy.varimp, "importance", recorder)
    case = accuracy.cases(quick=True, tiny=True, names=("olden_simulation",))[0]
    methods = ("partial_derivatives", "perturbation")
    rows = accuracy.run([case], 2, methods=methods)
    n = len(case.make(random_state=0)[0])
    assert n > accuracy.WARM_UP_ROWS
    # per replicate and method: one call on the first 64 rows, then the timed one on all rows
    assert recorder.calls == [(m, rows_) for _ in range(2) for m in methods
                              for rows_ in (accuracy.WARM_UP_ROWS, n)]
    # the table's seconds are the median over replicates, not a mean a slow one can move
    times = pd.DataFrame({"data": "d", "method": "m", "replicate": [0, 1, 2],
                          "similarity": 1.0, "seconds": [0.9, 0.004, 0.006]})
    assert accuracy.summary(times)["d"].loc[0, "seconds"] == "0.006"
    assert set(rows["method"]) == set(methods)


def test_cases_cover_every_box_layout_with_the_shift_signal_and_filter_by_family():
    every = accuracy.cases(quick=False)
    labels = [c.label for c in every]
    for layout in varimp.datasets.BOX_LAYOUTS:
        for model in ("LSTM", "GRU"):
            assert f"box_sequences/{layout} ({model})" in labels
    box = accuracy.cases(quick=False, names=("box_sequences",))
    assert len(box) == 2 * (len(varimp.datasets.BOX_LAYOUTS) + 1)  # and the middle_sum contrast
    for case in box[::2]:
        X, y, truth = case.make(random_state=0)
        layout = case.name.split("/")[1]
        if layout == "middle_sum":  # the linear regression: y is the box's sum plus noise
            np.testing.assert_allclose(y, X[:, 12:16, :2].sum(axis=(1, 2)), atol=0.5)
            continue
        # Ismail et al.'s design: a binary label shifts the box's cells by +1 or -1
        assert set(np.unique(y)) == {0.0, 1.0}, layout
        mask = truth.attrs["mask"] if layout == "moving" else \
            np.broadcast_to(truth.to_numpy() != 0, X.shape)
        gap = X[y == 1][mask[y == 1]].mean() - X[y == 0][mask[y == 0]].mean()
        assert abs(gap - 2.0) < 0.15, layout
        if layout == "moving":
            assert truth.attrs["mask"].shape == X.shape
