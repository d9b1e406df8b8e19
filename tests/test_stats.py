"""Randomization test (Olden & Jackson 2002) and ensembles: p-values, null scores and summaries
against hand computations (least squares whose connection weights are its coefficients), the
Friedman #1 acceptance case, and identical numbers on every backend."""

import copy
import functools
import sys
import warnings

import cloudpickle
import numpy as np
import pandas as pd
import pytest
import reliability_models as rm
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor
from threadpoolctl import threadpool_limits
from torch import nn

import varimp
from varimp import InputError, ModelError, VarImpError
from varimp.registry import method_spec
from varimp.stats import TEST_NAME, permutation_pvalues

# Workers receive this module's functions by value (they need not import the test module).
cloudpickle.register_pickle_by_value(sys.modules[__name__])



def least_squares(X, y):
    """Least-squares coefficients of ``y`` on the (flattened) cells of X, as float32 weights."""
    flat = X.reshape(len(X), -1)
    coef = np.linalg.lstsq(np.c_[flat, np.ones(len(flat))], y, rcond=None)[0]
    return coef[:-1].astype(np.float32), np.float32(coef[-1])


def linear_network(X, y):
    """``fit``: least squares as a torch network (Flatten for sequences, one Linear layer), so
    that its connection weights are its coefficients."""
    weight, bias = least_squares(X, y)
    linear = nn.Linear(weight.size, 1)
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(weight[None, :]))
        linear.bias.fill_(float(bias))
    return nn.Sequential(nn.Flatten(), linear) if X.ndim == 3 else nn.Sequential(linear)


class Recorder:
    """``fit`` that records the data of every fit (sequential runs only)."""

    def __init__(self):
        self.seen = []

    def __call__(self, X, y):
        self.seen.append((X.copy(), y.copy()))
        return linear_network(X, y)

    def weights(self, shape):
        return np.stack([least_squares(X, y)[0].astype(float).reshape(shape)
                         for X, y in self.seen])


def mlp_fit(X, y, random_state=0):
    """A small scikit-learn network: L-BFGS, weight decay against fitting permuted targets; one
    BLAS thread (on small matrices more threads only wait for each other)."""
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore", ConvergenceWarning)
        return MLPRegressor(hidden_layer_sizes=(8,), solver="lbfgs", alpha=1.0, max_iter=100,
                            random_state=random_state).fit(X, y)


def hand_pvalues(observed, null, kind):
    """``(1 + #{null >= observed}) / (1 + n)``, one variable at a time, by loops."""
    null = np.asarray(null, dtype=float).reshape(len(null), -1)
    observed = np.asarray(observed, dtype=float).ravel()
    out = []
    for j, value in enumerate(observed):
        column = null[:, j]
        if kind == "effect":
            count = sum(abs(v) >= abs(value) for v in column)
        else:
            count = sum(v >= value for v in column)
        out.append((1 + count) / (1 + len(column)))
    return np.array(out)


@pytest.fixture
def tabular():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(40, 3))
    y = 2.0 * X[:, 0] - 1.0 * X[:, 1] + 0.3 * rng.normal(size=40)
    return X, y


def test_pvalue_rule_counts_the_observed_score_as_one_of_the_permutations():
    observed = np.array([-0.5, 0.7])
    null = np.array([[-1.0, 0.7], [0.0, 0.1], [-0.6, 0.9]])
    # losses keep their sign: -0.5 is beaten by 0.0 only; 0.7 by 0.7 (ties count) and 0.9
    assert permutation_pvalues(observed, null, "loss").tolist() == [2 / 4, 3 / 4]
    # effects compare magnitudes: |-1.0|, |-0.6| >= 0.5
    assert permutation_pvalues(observed, null, "effect").tolist() == [3 / 4, 3 / 4]
    assert permutation_pvalues(observed, null, "share").tolist() == [2 / 4, 3 / 4]


def test_connection_weights_test_equals_least_squares_on_the_permuted_targets(tabular):
    X, y = tabular
    model = linear_network(X, y)
    recorder = Recorder()
    result = varimp.randomization_test(model, X, y, method="connection_weights", fit=recorder,
                                       n_permutations=9, random_state=3)
    observed = least_squares(X, y)[0].astype(float)
    np.testing.assert_array_equal(result.scores.to_numpy(), observed)
    assert len(recorder.seen) == 9
    for X_seen, y_seen in recorder.seen:
        np.testing.assert_array_equal(X_seen, X)  # only the targets move
        np.testing.assert_array_equal(np.sort(y_seen), np.sort(y))
        assert not np.array_equal(y_seen, y)
    null = recorder.weights((3,))
    np.testing.assert_array_equal(result.details["null"].to_numpy(), null)
    assert result.details["null"].index.tolist() == list(range(1, 10))
    expected = hand_pvalues(observed, null, "effect")
    np.testing.assert_array_equal(result.pvalues.to_numpy(), expected)
    # x1 and x2 (coefficients 2 and -1) beat every permutation: the smallest p-value, 1 / 10
    assert expected[0] == expected[1] == 0.1 and expected[2] > 0.1
    assert result.method == "connection_weights" and result.kind == "effect"
    assert result.details["test"] == TEST_NAME == "randomization (Olden & Jackson 2002)"
    assert result.details["test_settings"]["fit"]["how"] == "given"
    assert result.details["test_settings"]["observed"].startswith("the given model (it must")
    assert "given_model" not in result.details
    assert result.to_frame()["pvalue"].tolist() == expected.tolist()
    again = varimp.randomization_test(model, X, y, method="connection_weights",
                                      fit=linear_network, n_permutations=9, random_state=3)
    pd.testing.assert_frame_equal(again.details["null"], result.details["null"])  # seeded
    assert again.details["test_settings"]["fit"]["fit"] == "linear_network"


def hand_bh(pvalues):
    """Benjamini-Hochberg by hand: the i-th smallest of m p-values times m / i, then the
    running minimum from the largest down, capped at 1, back in the original order."""
    p = np.asarray(pvalues, dtype=float)
    m = len(p)
    order = np.argsort(p)
    scaled = [p[order[i]] * m / (i + 1) for i in range(m)]
    adjusted, smallest = [0.0] * m, 1.0
    for i in reversed(range(m)):
        smallest = min(smallest, scaled[i])
        adjusted[i] = smallest
    out = np.empty(m)
    out[order] = adjusted
    return out


def test_benjamini_hochberg_by_hand_on_a_textbook_family():
    """Ten p-values: the adjusted values by hand; two pass at q = 0.05, as BH's step-up rule
    (the largest i with p_(i) <= i q / m) says: p_(2) = 0.008 <= 0.01, p_(3) = 0.039 > 0.015,
    p_(4) = 0.041 > 0.02, ... none above."""
    from varimp.stats import bh_adjusted

    p = np.array([0.01, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216])
    adjusted = bh_adjusted(p)
    np.testing.assert_allclose(adjusted, hand_bh(p), rtol=1e-12)
    np.testing.assert_allclose(adjusted[:2], [0.05, 0.05], rtol=1e-12)  # 0.01 * 10 / 2
    assert (adjusted <= 0.05).sum() == 2
    np.testing.assert_allclose(bh_adjusted(p.reshape(2, 5)), adjusted.reshape(2, 5))


def test_sequences_have_a_pvalue_per_cell_and_ensembles_average_by_time():
    rng = np.random.default_rng(11)
    X = rng.normal(size=(50, 4, 2))
    y = 2.0 * X[:, 3, 0] - 1.5 * X[:, 1, 1] + 0.2 * rng.normal(size=50)
    model = linear_network(X, y)
    recorder = Recorder()
    test = varimp.randomization_test(model, X, y, method="connection_weights", fit=recorder,
                                     n_permutations=9, random_state=0)
    observed = least_squares(X, y)[0].astype(float).reshape(4, 2)
    np.testing.assert_array_equal(test.by_time.to_numpy(), observed)
    null = recorder.weights((4, 2))
    cells = test.details["pvalues_by_time"]
    assert cells.shape == (4, 2) and list(cells.columns) == ["x1", "x2"]
    np.testing.assert_array_equal(cells.to_numpy().ravel(),
                                  hand_pvalues(observed, null, "effect"))
    assert cells.iloc[3, 0] == cells.iloc[1, 1] == 0.1  # the two cells that drive y
    np.testing.assert_allclose(test.details["null"].to_numpy(), null.sum(axis=1), rtol=1e-12)
    # Benjamini-Hochberg over all 8 cells, over each variable's 4 steps, over the 2 variables
    raw = cells.to_numpy()
    every = test.details["pvalues_by_time_bh"]
    assert every.index.equals(cells.index) and every.columns.equals(cells.columns)
    np.testing.assert_allclose(every.to_numpy().ravel(), hand_bh(raw.ravel()), rtol=1e-12)
    each = test.details["pvalues_by_time_bh_per_variable"].to_numpy()
    for j in range(2):
        np.testing.assert_allclose(each[:, j], hand_bh(raw[:, j]), rtol=1e-12)
    np.testing.assert_allclose(test.details["pvalues_bh"].to_numpy(),
                               hand_bh(test.pvalues.to_numpy()), rtol=1e-12)
    assert (every.to_numpy() >= raw).all() and every.iloc[3, 0] == every.iloc[1, 1] == 0.4

    recorder = Recorder()
    bag = varimp.ensemble(model, X, y, method="connection_weights", fit=recorder, n_models=4,
                          random_state=0)
    members = recorder.weights((4, 2))
    for X_seen, _ in recorder.seen:  # bootstrap rows: repeats, drawn from X
        rows = [np.flatnonzero((X == row).all(axis=(1, 2)))[0] for row in X_seen]
        assert len(set(rows)) < len(X)
    np.testing.assert_allclose(bag.details["members"].to_numpy(), members.sum(axis=1),
                               rtol=1e-12)
    np.testing.assert_allclose(bag.by_time.to_numpy(), members.mean(axis=0), rtol=1e-12)
    assert bag.by_time.index.name == "time_step"


def hand_prediction_interval(members, level):
    """mean -/+ t_{(1+level)/2, m-1} * sd * sqrt(1 + 1/m), sd with ddof=1, per column."""
    from scipy import stats

    m = len(members)
    half = stats.t.ppf((1 + level) / 2, m - 1) * members.std(axis=0, ddof=1) * np.sqrt(1 + 1 / m)
    return members.mean(axis=0) - half, members.mean(axis=0) + half


def test_ensemble_mean_std_and_prediction_interval_are_those_of_the_members(tabular):
    """scores, std and ci from the members' scores by hand (scipy.stats.t); a default call
    (10 members, 0.95) warns of nothing and its interval holds the score."""
    X, y = tabular
    model = linear_network(X, y)
    recorder = Recorder()
    bag = varimp.ensemble(model, X, y, method="connection_weights", fit=recorder,
                          n_models=7, ci_level=0.8, random_state=2)
    members = bag.details["members"].to_numpy()
    np.testing.assert_array_equal(members, recorder.weights((3,)))
    assert bag.details["members"].index.tolist() == list(range(1, 8))
    np.testing.assert_array_equal(bag.scores.to_numpy(), members.mean(axis=0))
    np.testing.assert_array_equal(bag.std.to_numpy(), members.std(axis=0, ddof=1))
    low, high = hand_prediction_interval(members, 0.8)
    np.testing.assert_allclose(bag.ci["low"].to_numpy(), low, rtol=1e-12)
    np.testing.assert_allclose(bag.ci["high"].to_numpy(), high, rtol=1e-12)
    # t_{0.9, 6} = 1.43976 (tables): the half width of x1 by hand
    sd = members[:, 0].std(ddof=1)
    assert bag.ci["high"].iloc[0] - bag.scores.iloc[0] == pytest.approx(
        1.439756 * sd * np.sqrt(8 / 7), rel=1e-6)
    assert bag.kind == "effect" and bag.method == "connection_weights"
    assert bag.by_time is None and bag.pvalues is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the default call warns of nothing
        default = varimp.ensemble(model, X, y, method="connection_weights", fit=linear_network,
                                  random_state=4)
    members = default.details["members"].to_numpy()
    assert members.shape == (10, 3)
    low, high = hand_prediction_interval(members, 0.95)
    np.testing.assert_allclose(default.ci[["low", "high"]].to_numpy().T, [low, high],
                               rtol=1e-12)
    assert ((default.ci["low"] < default.scores) & (default.scores < default.ci["high"])).all()
    # without bootstrap, a fit that ignores its seed gives 3 copies of the same network
    same = varimp.ensemble(model, X, y, method="connection_weights", fit=linear_network,
                           n_models=3, bootstrap=False)
    np.testing.assert_array_equal(same.scores.to_numpy(), least_squares(X, y)[0])
    np.testing.assert_array_equal(same.std.to_numpy(), np.zeros(3))
    np.testing.assert_array_equal(same.ci["low"].to_numpy(), same.scores.to_numpy())


def test_the_ensemble_interval_holds_a_new_normal_draw_at_its_level():
    """Closed form: for m normal members the t prediction interval holds one more draw with
    probability ci_level. 2,000 simulated ensembles of 10 (through the function that builds
    ci) hold their new draw 0.93-0.97 of the time at 0.95; the confidence interval of the
    mean, sqrt(11) times narrower, about half of the time."""
    from scipy import stats

    from varimp.stats.ensemble import prediction_interval

    rng = np.random.default_rng(0)
    draws = rng.normal(3.0, 2.0, size=(11, 2000))  # 10 members and a new network, per column
    low, high = prediction_interval(draws[:10], 0.95)
    new = draws[10]
    coverage = np.mean((low <= new) & (new <= high))
    assert 0.93 <= coverage <= 0.97
    mean = draws[:10].mean(axis=0)
    narrow = (high - mean) / np.sqrt(11)
    assert np.mean(np.abs(new - mean) <= narrow) < 0.6
    # expected share for the narrow one: P(|T_9| <= t_{0.975, 9} / sqrt(11))
    expected = 2 * stats.t.cdf(stats.t.ppf(0.975, 9) / np.sqrt(11), 9) - 1
    assert np.mean(np.abs(new - mean) <= narrow) == pytest.approx(expected, abs=0.04)


def test_an_ensemble_interval_says_what_it_is(tabular):
    """details["interval"] names the t prediction interval with its t, what the members
    saw and what it is not; ci_level=None gives none."""
    X, y = tabular
    model = linear_network(X, y)
    bag = varimp.ensemble(model, X, y, method="connection_weights", fit=linear_network,
                          n_models=4, ci_level=0.5, random_state=3)
    words = bag.details["interval"]
    assert words.startswith(
        "0.5 t prediction interval for the importance of one more network trained the same "
        "way (each trained on a bootstrap resample of the rows, so the sample's uncertainty "
        "is included): score -/+ t * std * sqrt(1 + 1/4), t = 0.7649 the 0.75 quantile of "
        "Student's t with 3 degrees of freedom")  # tables: t_{0.75, 3} = 0.7649
    assert "not a confidence interval of the mean score, which would be sqrt(4 + 1) = 2.24 " \
        "times narrower" in words and words.endswith('details["members"] (for percentiles)')
    fixed = varimp.ensemble(model, X, y, method="connection_weights", fit=noisy_least_squares,
                            n_models=4, bootstrap=False, random_state=3)
    assert "(each trained on these rows, their seeds alone differing: training runs only" \
        in fixed.details["interval"]
    assert "t = 3.182 the 0.975 quantile" in fixed.details["interval"]
    bare = varimp.ensemble(model, X, y, method="connection_weights", fit=noisy_least_squares,
                           n_models=4, bootstrap=False, random_state=3, ci_level=None)
    assert bare.ci is None and "interval" not in bare.details
    assert bare.details["ensemble_settings"]["ci_level"] is None
    pd.testing.assert_series_equal(bare.scores, fixed.scores)
    assert "ci_low" not in bare.to_frame().columns


def test_an_ensemble_records_the_options_its_members_used_and_those_left_out(tabular):
    """details["settings"] is what importance() records for a member's method (defaults
    included); n_bootstrap (no row interval on a member) and options the method does not take
    are in details["options_not_used"], as importance() lists them."""
    X, y = tabular
    model = linear_network(X, y)
    bag = varimp.ensemble(model, X, y, method="garson", fit=linear_network, n_models=2,
                          batch_size=8, n_repeats=3, random_state=0)
    permuted = varimp.ensemble(model, X, y, method="permutation", fit=linear_network,
                               n_models=2, n_bootstrap=7, n_repeats=2, random_state=0)
    alone = varimp.importance(model, X, y, method="garson", batch_size=8, n_repeats=3,
                              feature_names=["x1", "x2", "x3"])
    assert bag.details["options_not_used"] == alone.details["options_not_used"] == \
        ["batch_size", "n_repeats"]
    assert bag.details["settings"] == {**alone.details["settings"],
                                       "feature_names": ("x1", "x2", "x3")}
    assert permuted.details["options_not_used"] == ["n_bootstrap"]
    settings = permuted.details["settings"]
    assert settings["n_repeats"] == 2 and settings["random_state"] == 0
    assert "n_bootstrap" not in settings and "ci_level" not in settings


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_perturbation_with_scoring_none_measures_without_y_on_every_network(tabular):
    """scoring=None with perturbation: the RMS change of the predictions (MISSION.md's
    reference measure), on the observed model and on every null or member network, y only
    training them; another method keeps refusing scoring=None."""
    X, y = tabular
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLPRegressor(hidden_layer_sizes=(3,), solver="lbfgs", max_iter=50,
                           random_state=0).fit(X, y)
    test = varimp.randomization_test(mlp, X, y, method="perturbation", scoring=None,
                                     n_permutations=2, random_state=0, progress=False)
    alone = varimp.perturbation(mlp, X, random_state=0)
    assert alone.details["measure"] == "rms change of predictions"
    pd.testing.assert_series_equal(test.scores, alone.scores)
    assert test.kind == alone.kind == "magnitude"
    assert test.details["measure"] == "rms change of predictions"
    assert test.details["settings"]["scoring"] is None
    assert test.details["test_settings"]["measure"].startswith("without y (scoring=None)")
    np.testing.assert_array_equal(test.pvalues.to_numpy(),
                                  hand_pvalues(test.scores, test.details["null"], "magnitude"))
    frame = test.to_frame()
    np.testing.assert_allclose(frame["pvalue_bh"].to_numpy(), hand_bh(frame["pvalue"]))
    # every null network is measured without y too: rebuilt from the targets it was fitted on
    recorder = Recorder()
    linear = varimp.randomization_test(linear_network(X, y), X, y, method="perturbation",
                                       fit=recorder, scoring=None, n_permutations=2,
                                       random_state=1)
    for k, (seen_X, seen_y) in enumerate(recorder.seen):
        null = varimp.perturbation(linear_network(seen_X, seen_y), X, random_state=1)
        np.testing.assert_allclose(linear.details["null"].iloc[k].to_numpy(),
                                   null.scores.to_numpy(), rtol=1e-12)
    recorder = Recorder()
    bag = varimp.ensemble(linear_network(X, y), X, y, method="perturbation", fit=recorder,
                          scoring=None, n_models=2, random_state=1)
    members = [varimp.perturbation(linear_network(seen_X, seen_y), X, random_state=1).scores
               for seen_X, seen_y in recorder.seen]
    np.testing.assert_allclose(bag.details["members"].to_numpy(), np.stack(members),
                               rtol=1e-12)
    assert bag.details["measure"] == "rms change of predictions"
    assert bag.details["settings"]["scoring"] is None
    assert bag.details["ensemble_settings"]["measure"].startswith("without y")
    with pytest.raises(InputError, match="scoring=None .* is for method='perturbation' only"):
        varimp.randomization_test(mlp, X, y, method="permutation", scoring=None,
                                  n_permutations=2, random_state=0)


def test_friedman_informative_inputs_are_significant_and_noise_inputs_are_not():
    X, y, truth = varimp.datasets.friedman1(1000, random_state=0)
    model = mlp_fit(X, y, random_state=0)
    result = varimp.randomization_test(model, X, y, method="permutation", fit=mlp_fit,
                                       n_permutations=49, n_repeats=1, random_state=0)
    p = result.pvalues
    informative, noise = truth.index[truth > 0], truth.index[truth == 0]
    assert (p[informative] < 0.05).all(), p
    assert (p[noise] > 0.05).sum() >= 4, p
    null = result.details["null"]
    assert null.shape == (49, 10)
    np.testing.assert_array_equal(p.to_numpy(), hand_pvalues(result.scores, null, "loss"))
    # the observed importance is the method on the model, with the same seed
    alone = varimp.permutation(model, X, y, n_repeats=1, random_state=0)
    pd.testing.assert_series_equal(result.scores, alone.scores)
    assert result.kind == "loss" and result.method == "permutation"


@pytest.mark.parametrize("method", varimp.available_methods())
def test_every_method_can_be_tested_and_bagged(method, tabular):
    X, y = tabular
    model = linear_network(X, y)
    test = varimp.randomization_test(model, X, y, method=method, fit=linear_network,
                                     n_permutations=3, random_state=4)
    # a retraining method retrains with the test's fit
    same_fit = {"fit": linear_network} if method_spec(method).retrains else {}
    alone = varimp.importance(model, X, y, method=method, random_state=4, **same_fit)
    pd.testing.assert_series_equal(test.scores, alone.scores)
    assert test.kind == alone.kind and test.method == method
    null = test.details["null"]
    assert null.shape == (3, 3)
    np.testing.assert_array_equal(test.pvalues.to_numpy(),
                                  hand_pvalues(test.scores, null, test.kind))
    bag = varimp.ensemble(model, X, y, method=method, fit=linear_network, n_models=2,
                          random_state=4)
    members = bag.details["members"].to_numpy()
    np.testing.assert_array_equal(bag.scores.to_numpy(), members.mean(axis=0))
    assert bag.kind == alone.kind


def test_identical_numbers_sequentially_on_joblib_and_on_dask(client):
    """Issue 9's acceptance case: the same seeded backward stepwise, randomization test and
    ensemble give identical numbers on one core, two joblib processes and two Dask workers."""
    X, y, _ = varimp.datasets.friedman1(120, random_state=1)
    model = MLPRegressor(hidden_layer_sizes=(4,), solver="lbfgs", max_iter=30,
                         random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)

    def both(**options):
        with warnings.catch_warnings(), threadpool_limits(limits=1):
            warnings.simplefilter("ignore", ConvergenceWarning)
            test = varimp.randomization_test(model, X, y, method="permutation",
                                             n_permutations=4, n_repeats=2, random_state=7,
                                             **options)
            bag = varimp.ensemble(model, X, y, method="garson", n_models=3, random_state=7,
                                  **options)
            stepwise = varimp.backward_stepwise(model, X, y, random_state=7, **options)
        return test, bag, stepwise

    def same(a, b):
        assert a[:2] == b[:2]
        pd.testing.assert_series_equal(a[2].scores, b[2].scores, check_exact=True)
        for key in ("path", "errors"):  # (the settings record n_jobs and backend)
            pd.testing.assert_frame_equal(a[2].details[key], b[2].details[key],
                                          check_exact=True)

    sequential = both()
    assert sequential[0].details["test_settings"]["fit"]["how"] == "clone"
    same(both(n_jobs=2), sequential)
    with client.as_current():
        same(both(backend="dask"), sequential)


def test_the_users_model_and_data_are_unchanged():
    X, y, _ = varimp.datasets.friedman1(60, random_state=2)
    frame = pd.DataFrame(X, columns=[f"in{j}" for j in range(10)])
    target = pd.Series(y, name="y")
    model = varimp.train_mlp(X, y, hidden=(3,), epochs=2, random_state=0)
    model.train()
    model[0].weight.requires_grad_(False)
    state = copy.deepcopy(model.state_dict())
    frame_before, target_before = frame.copy(), target.copy()
    fit = functools.partial(varimp.train_mlp, hidden=(3,), epochs=2)
    test = varimp.randomization_test(model, frame, target, method="partial_derivatives",
                                     fit=fit, n_permutations=2, random_state=0)
    bag = varimp.ensemble(model, frame, target, method="garson", fit=fit, n_models=2)
    for name, value in model.state_dict().items():
        assert torch.equal(value, state[name])
    assert model.training and not model[0].weight.requires_grad
    assert model[0].bias.requires_grad
    pd.testing.assert_frame_equal(frame, frame_before)
    pd.testing.assert_series_equal(target, target_before)
    assert list(test.scores.index) == list(test.details["null"].columns) == list(frame.columns)
    assert list(bag.scores.index) == list(frame.columns)


def failing_fit(X, y):
    raise ValueError("no convergence")


def nan_fit(X, y):
    network = linear_network(X, y)
    with torch.no_grad():
        network[0].bias.fill_(float("nan"))
    return network


def test_failures_name_the_fit(tabular):
    X, y = tabular
    model = linear_network(X, y)
    with pytest.raises(VarImpError, match=r"\('permutation', 1\).*no convergence"):
        varimp.randomization_test(model, X, y, method="garson", fit=failing_fit,
                                  n_permutations=3)
    with pytest.raises(VarImpError, match=r"\('model', 1\).*no convergence"):
        varimp.ensemble(model, X, y, method="garson", fit=failing_fit, n_models=3)
    with pytest.raises(ModelError, match=r"\('permutation', 1\)"):
        varimp.randomization_test(model, X, y, method="permutation", fit=nan_fit,
                                  n_permutations=2)


@pytest.mark.parametrize(("call", "options", "message"), [
    ("randomization_test", {"n_permutations": 0}, "n_permutations must be an integer >= 1"),
    ("randomization_test", {"n_permutations": 2.5}, "n_permutations"),
    ("randomization_test", {"method": "shap"}, "method must be one of"),
    ("randomization_test", {"random_state": -1}, "random_state must be"),
    ("ensemble", {"n_models": 1}, "n_models must be an integer >= 2"),
    ("ensemble", {"ci_level": 1.0}, "ci_level must be None \\(no interval\\) or a number "
                                    "strictly between 0 and 1, e.g. 0.95; received float 1.0"),
    ("ensemble", {"ci_level": 0}, "ci_level must be None .* received int 0"),
    ("ensemble", {"ci_level": "0.9"}, "ci_level must be None .* received"),
    ("ensemble", {"bootstrap": "yes"}, "bootstrap must be True or False"),
    ("ensemble", {"y": None}, "y \\(the targets\\) is required"),
    ("ensemble", {"size": 3}, "unknown \\['size'\\]"),
    # the method's own options, checked before the first fit as the randomization test does
    *[(call, {"method": method, "scoring": None},
       f"scoring=None measures without y, the RMS change of the predictions, and is for "
       f"method='perturbation' only; method '{method}' measures the loss of a score")
      for call in ("ensemble", "randomization_test")
      for method in ("permutation", "improved_stepwise_1")],
    *[(call, {"method": method, "scoring": "bogus"}, "scoring must be 'auto'.*'bogus'")
      for call in ("ensemble", "randomization_test")
      for method in ("perturbation", "permutation")],
    *[(call, {"classes": [0, 1]}, "classes=\\[0, 1\\] was given, but classes name the outputs "
       "of a classifier") for call in ("ensemble", "randomization_test")],
])
def test_bad_input_is_an_input_error_before_any_fit(call, options, message, tabular):
    X, y = tabular
    recorder = Recorder()
    arguments = {"method": "garson", "fit": recorder, "y": y, **options}
    with pytest.raises(InputError, match=message):
        getattr(varimp, call)(linear_network(X, y), X, **arguments)
    assert recorder.seen == []


@pytest.mark.filterwarnings("ignore:the networks varimp retrains:UserWarning")  # dropout
@pytest.mark.parametrize("build", [rm.torch_gru, rm.keras_lstm], ids=["torch-gru", "keras-lstm"])
def test_recurrent_models_are_rebuilt_and_retrained_end_to_end(build):
    """fit=None on a PyTorch GRU and a Keras LSTM: the architecture is rebuilt and retrained by
    varimp's trainer; p-values follow the formula on the null scores; the model is untouched."""
    X, y = rm.sequences(48)
    model = build()
    weights = [w.copy() for w in model.get_weights()] if hasattr(model, "get_weights") else \
        [p.detach().clone() for p in model.parameters()]
    test = varimp.randomization_test(model, X, y, method="permutation", n_permutations=2,
                                     n_repeats=2, random_state=0)
    null = test.details["null"].to_numpy()
    expected = (1 + (null >= test.scores.to_numpy()).sum(axis=0)) / 3
    np.testing.assert_allclose(test.pvalues, expected)
    assert test.details["pvalues_by_time"].shape == (X.shape[1], 3)
    assert test.details["test_settings"]["fit"]["how"] != "given"
    bag = varimp.ensemble(model, X, y, method="connection_weights", n_models=2, random_state=0)
    members = bag.details["members"].to_numpy()
    np.testing.assert_allclose(bag.scores, members.mean(axis=0))
    np.testing.assert_allclose(bag.by_time.to_numpy().sum(axis=0), bag.scores, rtol=1e-9)
    after = model.get_weights() if hasattr(model, "get_weights") else list(model.parameters())
    for before, now in zip(weights, after, strict=True):
        np.testing.assert_array_equal(np.asarray(before), np.asarray(now.detach()
                                      if hasattr(now, "detach") else now))


def test_a_rebuilt_network_is_tested_against_a_network_trained_like_the_null_networks():
    """Pure noise, and a network the user trained longer than varimp's trainer would: its own
    importances beat every null network (p = 1 / 20 everywhere). With fit=None the observed
    importance is that of a network rebuilt and trained like the null networks, with the seed
    drawn after the permutations': p-values spread over (0, 1]."""
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(80, 3)), rng.normal(size=80)
    model = varimp.train_mlp(X, y, hidden=(16,), epochs=300, random_state=0)
    test = varimp.randomization_test(model, X, y, method="permutation", n_permutations=19,
                                     random_state=0)
    null = test.details["null"].to_numpy()
    given = varimp.permutation(model, X, y, random_state=0).scores
    pd.testing.assert_series_equal(test.details["given_model"], given.rename("given model"))
    assert (hand_pvalues(given, null, "loss") == 1 / 20).all()  # the defect this avoids
    seed = fit_seeds(0, 20)[19]  # the observed fit comes after the 19 permutations
    fit, _ = varimp.refit.resolve_fit(model, None, X, y)
    observed = varimp.permutation(fit(X, y, random_state=seed), X, y, random_state=0)
    pd.testing.assert_series_equal(test.scores, observed.scores)
    np.testing.assert_array_equal(test.pvalues, hand_pvalues(observed.scores, null, "loss"))
    assert (test.pvalues > 0.3).all(), test.pvalues
    settings = test.details["test_settings"]
    assert settings["observed_seed"] == seed
    assert settings["observed"].startswith("a Dense 3 -> 16 -> 1, hidden tanh, output identity "
                                           "network rebuilt and trained by varimp.train_mlp")


def fit_seeds(random_state, n_fits):
    """The engine's seeds, as documented: one integer from ``default_rng(random_state)``, then
    ``SeedSequence(it).spawn(n_fits)``, each child's first 32-bit word."""
    root = int(np.random.default_rng(random_state).integers(0, 2**63 - 1))
    return [int(c.generate_state(1)[0]) for c in np.random.SeedSequence(root).spawn(n_fits)]


def wrong_outputs(X, y):
    """A fit that returns a model of two outputs for a model of one."""
    return lambda Z: np.zeros((len(Z), 2))


def test_a_fit_returning_a_model_of_other_outputs_is_a_model_error_naming_the_fit(tabular):
    X, y = tabular
    model = linear_network(X, y)
    message = (r"fit \('{}', 1\) raised ModelError: the refitted model predicts \(steps, "
               r"outputs\) = \(1, 2\) per sample where the given model predicts \(1, 1\)")
    with pytest.raises(ModelError, match=message.format("permutation")):
        varimp.randomization_test(model, X, y, method="partial_derivatives", fit=wrong_outputs,
                                  n_permutations=2, random_state=0)
    with pytest.raises(ModelError, match=message.format("model")):
        varimp.ensemble(model, X, y, method="perturbation", fit=wrong_outputs, n_models=2,
                        random_state=0)


def noisy_least_squares(X, y):
    """A fit without random_state that draws from NumPy's global generator."""
    return linear_network(X, y + np.random.normal(size=len(y)))  # noqa: NPY002


def default_linear(X, y):
    """A fit without random_state whose weights are torch's default initialisation."""
    return nn.Sequential(nn.Linear(X.shape[1], 1))


def test_a_fit_without_random_state_runs_with_the_global_generators_seeded(tabular):
    """Each member's seed is set in NumPy's and torch's global generators before its fit, and
    the caller's generators are restored: members equal hand-seeded fits, twice alike."""
    X, y = tabular
    model = linear_network(X, y)
    seeds = fit_seeds(5, 3)
    numpy_state, torch_state = np.random.get_state(), torch.get_rng_state()  # noqa: NPY002
    noisy = varimp.ensemble(model, X, y, method="connection_weights", fit=noisy_least_squares,
                            n_models=3, bootstrap=False, random_state=5)
    default = varimp.ensemble(model, X, y, method="connection_weights", fit=default_linear,
                              n_models=3, bootstrap=False, random_state=5)
    expected_noisy, expected_default = [], []
    for seed in seeds:
        noise = np.random.RandomState(seed).normal(size=len(y))
        expected_noisy.append(least_squares(X, y + noise)[0].astype(float))
        torch.manual_seed(seed)
        expected_default.append(nn.Linear(3, 1).weight.detach().numpy()[0].astype(float))
    torch.set_rng_state(torch_state)
    np.testing.assert_array_equal(noisy.details["members"].to_numpy(), expected_noisy)
    np.testing.assert_array_equal(default.details["members"].to_numpy(), expected_default)
    after = np.random.get_state()  # noqa: NPY002
    assert np.array_equal(after[1], numpy_state[1]) and after[2] == numpy_state[2]
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert noisy.details["ensemble_settings"]["fit"]["seeding"] == varimp.refit.SEED_GLOBAL


def test_a_clone_with_other_parameters_is_tested_against_a_clone_trained_like_the_nulls():
    """The command line's --fit-epochs refits a scikit-learn clone with another max_iter: the
    given model was not trained that way, so the observed network is such a clone too."""
    import dataclasses

    from sklearn.base import clone
    from sklearn.neural_network import MLPRegressor

    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(60, 3)), rng.normal(size=60)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = MLPRegressor(hidden_layer_sizes=(4,), max_iter=50, random_state=0).fit(X, y)
        fit = varimp.refit.resolve_fit(model, None, X, y)[0]
        short = dataclasses.replace(fit, estimator=clone(model).set_params(max_iter=3))
        test = varimp.randomization_test(model, X, y, method="permutation", fit=short,
                                         n_permutations=2, random_state=0)
        seed = fit_seeds(0, 3)[2]
        observed = varimp.permutation(short(X, y, random_state=seed), X, y, random_state=0)
    pd.testing.assert_series_equal(test.scores, observed.scores)
    settings = test.details["test_settings"]
    assert settings["fit"]["altered"] == ["max_iter"]
    assert settings["observed"].startswith(
        "a clone of MLPRegressor with max_iter set to 3 (the given model's: 50), refitted")
    assert settings["observed_seed"] == seed


def test_a_refitted_pipeline_names_the_changed_parameter_not_its_steps():
    """A Pipeline's ``steps`` hold the changed MLP, so they differ too; only the parameter
    itself is named, with both values."""
    import dataclasses

    from sklearn.base import clone
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(60, 3)), rng.normal(size=60)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = make_pipeline(StandardScaler(), MLPRegressor(hidden_layer_sizes=(4,),
                                                             max_iter=50, random_state=0))
        model.fit(X, y)
        fit = varimp.refit.resolve_fit(model, None, X, y)[0]
        short = dataclasses.replace(fit, estimator=clone(model).set_params(
            mlpregressor__max_iter=3))
        test = varimp.randomization_test(model, X, y, method="permutation", fit=short,
                                         n_permutations=2, random_state=0)
    settings = test.details["test_settings"]
    assert settings["fit"]["altered"] == ["mlpregressor__max_iter"]
    assert "mlpregressor__max_iter set to 3 (the given model's: 50)" in settings["observed"]
    assert "steps" not in settings["observed"]


# -- networks rebuilt as the model is read; members with their own rows and seeds ---------------
def stratified_rows(seed, strata):
    """The stratified bootstrap by hand: each class, in increasing order, resampled within
    itself from ``default_rng(seed)``; the rows sorted."""
    rng = np.random.default_rng(seed)
    drawn = []
    for c in np.unique(strata):
        members = np.flatnonzero(strata == c)
        drawn.append(members[rng.integers(0, len(members), size=len(members))])
    return np.sort(np.concatenate(drawn))


def held_at_mean(X, j):
    Z = X.copy()
    Z[:, j] = X[:, j].mean()
    return Z


def torch_predict(network, Z):
    with torch.no_grad():
        return network(torch.as_tensor(Z, dtype=torch.float32)).double().numpy()


def test_a_logit_classifier_is_rebuilt_as_a_classifier_that_returns_logits():
    """output_kind="logits" reaches the rebuilt members: each is trained as a binary
    classifier (cross-entropy) and returns logits, so improved stepwise 1 on a member is the
    increase of sklearn's log loss of sigmoid(logits) (before: trained by MSE on 0/1)."""
    from sklearn.metrics import log_loss

    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 3)).astype(np.float32)
    yb = (X[:, 0] + 0.3 * rng.normal(size=90) > 0).astype(int)
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    bag = varimp.ensemble(net, X, yb, method="improved_stepwise_1", output_kind="logits",
                          n_models=2, random_state=0)
    settings = bag.details["ensemble_settings"]
    assert settings["fit"]["params"]["task"] == "binary"
    X64 = X.astype(np.float64)
    for k, seed in enumerate(settings["seeds"]):
        rows = stratified_rows(seed, yb)
        member = varimp.train_mlp(X64[rows], yb[rows].astype(float), hidden=(4,),
                                  activation="tanh", task="binary", **varimp.refit.MLP_TRAINING,
                                  random_state=seed)
        logits = nn.Sequential(*list(member)[:-1])

        def loss(Z, logits=logits):
            return log_loss(yb, 1 / (1 + np.exp(-torch_predict(logits, Z)[:, 0])))

        hand = [loss(held_at_mean(X64, j)) - loss(X64) for j in range(3)]
        np.testing.assert_allclose(bag.details["members"].iloc[k], hand, rtol=1e-6, atol=1e-9)


def test_string_classes_reach_the_rebuilt_members_of_a_softmax_classifier():
    from sklearn.metrics import log_loss

    rng = np.random.default_rng(1)
    X = rng.normal(size=(90, 3))
    index = (X[:, 0] > 0.3).astype(int) + (X[:, 1] > 0.5).astype(int)
    classes = ["fir", "oak", "pine"]
    labels = np.array(classes)[index]
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 3), nn.Softmax(dim=1))
    test = varimp.randomization_test(net, X, labels, method="improved_stepwise_1",
                                     classes=classes, n_permutations=2, random_state=0)
    assert test.details["null"].shape == (2, 3)
    bag = varimp.ensemble(net, X, labels, method="improved_stepwise_1", classes=classes,
                          n_models=2, random_state=0)
    for k, seed in enumerate(bag.details["ensemble_settings"]["seeds"]):
        rows = stratified_rows(seed, index)
        member = varimp.train_mlp(X[rows], index[rows], hidden=(4,), activation="tanh",
                                  task="multiclass", n_classes=3, **varimp.refit.MLP_TRAINING,
                                  random_state=seed)

        def loss(Z, member=member):  # float32 softmax rows sum to 1 within 1e-7: renormalised
            P = torch_predict(member, Z)
            return log_loss(labels, P / P.sum(axis=1, keepdims=True), labels=classes)

        hand = [loss(held_at_mean(X, j)) - loss(X) for j in range(3)]
        np.testing.assert_allclose(bag.details["members"].iloc[k], hand, rtol=1e-6, atol=1e-9)


def test_multi_label_members_are_rebuilt_and_average_each_labels_increase():
    """Three sigmoid outputs with a multi-hot y and fit=None: members are trained one sigmoid
    per label; the ensemble's per_output is the members' mean of each label's increase."""
    from sklearn.metrics import log_loss

    rng = np.random.default_rng(2)
    X = rng.normal(size=(90, 3))
    Y = (np.column_stack([X[:, 0], X[:, 1], X[:, 0] + X[:, 1]])
         + 0.3 * rng.normal(size=(90, 3)) > 0).astype(int)
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 3), nn.Sigmoid())
    test = varimp.randomization_test(net, X, Y, method="permutation", n_permutations=2,
                                     random_state=0)
    assert test.details["null"].shape == (2, 3)
    bag = varimp.ensemble(net, X, Y, method="improved_stepwise_1", n_models=2, random_state=0)
    tables = []
    for seed in bag.details["ensemble_settings"]["seeds"]:
        rows = np.random.default_rng(seed).integers(0, 90, size=90)  # not stratified
        member = varimp.train_mlp(X[rows], Y[rows], hidden=(4,), activation="tanh",
                                  task="binary", **varimp.refit.MLP_TRAINING, random_state=seed)

        def losses(Z, member=member):
            P = torch_predict(member, Z)
            return np.array([log_loss(Y[:, c], P[:, c], labels=[0, 1]) for c in range(3)])

        tables.append([losses(held_at_mean(X, j)) - losses(X) for j in range(3)])
    tables = np.array(tables)  # member x variable x label
    np.testing.assert_allclose(bag.details["per_output"].to_numpy(), tables.mean(axis=0),
                               rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(bag.scores, tables.mean(axis=(0, 2)), rtol=1e-6, atol=1e-9)
    assert list(bag.details["per_output"].columns) == ["output 0", "output 1", "output 2"]


def test_members_of_a_stepwise_ensemble_search_on_their_own_rows_with_their_own_seeds():
    """Each member runs the stepwise search on its bootstrap resample with its seed: the
    members differ (spread > 0) and member k equals the search rerun by hand (before, every
    member reran the same search on all rows with the root seed: spread exactly 0)."""
    X, y, _ = varimp.datasets.friedman1(60, random_state=0)
    X = X[:, :3]
    fit = functools.partial(varimp.train_mlp, hidden=(3,), epochs=10)
    model = fit(X, y, random_state=0)
    bag = varimp.ensemble(model, X, y, method="backward_stepwise", fit=fit, n_models=3,
                          random_state=0)
    assert (bag.std > 0).all(), bag.details["members"]
    for k, seed in enumerate(bag.details["ensemble_settings"]["seeds"]):
        rows = np.random.default_rng(seed).integers(0, 60, size=60)
        hand = varimp.backward_stepwise(model, X[rows], y[rows], fit=fit, random_state=seed)
        np.testing.assert_array_equal(bag.details["members"].iloc[k].to_numpy(),
                                      hand.scores.to_numpy())


class ClassRecorder:
    """``fit`` that records the targets of every fit and returns a copy of the given
    classifier (never the classifier itself: that would have been trained in place)."""

    def __init__(self, model):
        self.model, self.seen = model, []

    def __call__(self, X, y):
        self.seen.append(np.asarray(y).copy())
        return copy.deepcopy(self.model)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_classifiers_bootstrap_is_stratified_so_every_member_sees_a_rare_class():
    from sklearn.neural_network import MLPClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    labels = np.array(["common"] * 36 + ["mid"] * 21 + ["rare"] * 3)
    clf = MLPClassifier(hidden_layer_sizes=(3,), max_iter=50, random_state=0).fit(X, labels)
    recorder = ClassRecorder(clf)
    bag = varimp.ensemble(clf, X, labels, method="garson", fit=recorder, n_models=6,
                          random_state=0)
    index = np.searchsorted(["common", "mid", "rare"], labels)
    for seen, seed in zip(recorder.seen, bag.details["ensemble_settings"]["seeds"], strict=True):
        np.testing.assert_array_equal(seen, labels[stratified_rows(seed, index)])
        assert (np.unique(seen, return_counts=True)[1] == [36, 21, 3]).all()
    # refitted clones (fit=None) all have the three classes
    varimp.ensemble(clf, X, labels, method="garson", n_models=4, random_state=1)


def test_keras_head_names_select_the_same_output_of_rebuilt_members():
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3)).astype("float32")
    Y = np.column_stack([X[:, 0], 2 * X[:, 1]]).astype("float32")
    inputs = keras.Input((3,))
    hidden = keras.layers.Dense(4, activation="tanh")(inputs)
    model = keras.Model(inputs, [keras.layers.Dense(1, name="flow")(hidden),
                                 keras.layers.Dense(1, name="temp")(hidden)])
    bag = varimp.ensemble(model, X, Y, method="connection_weights", output="temp", n_models=2,
                          random_state=0)
    assert list(bag.details["per_output"].columns) == ["temp"]
    for k, seed in enumerate(bag.details["ensemble_settings"]["seeds"]):
        rows = np.random.default_rng(seed).integers(0, 60, size=60)
        member = varimp.train_mlp(X[rows].astype(np.float64), Y[rows].astype(np.float64),
                                  hidden=(4,), activation="tanh", **varimp.refit.MLP_TRAINING,
                                  random_state=seed)
        first, last = member[0].weight.detach().double(), member[2].weight.detach().double()
        hand = (first.T @ last[1]).numpy()  # input -> hidden -> "temp"
        np.testing.assert_allclose(bag.details["members"].iloc[k], hand, rtol=1e-5, atol=1e-7)


def test_a_dask_cluster_whose_workers_cannot_start_says_to_guard_the_main_module(
        tabular, monkeypatch):
    import distributed

    def no_worker(*args, **kwargs):
        raise RuntimeError("Nanny failed to start.")

    monkeypatch.setattr(distributed, "LocalCluster", no_worker)
    X, y = tabular
    with pytest.raises(VarImpError) as info:
        varimp.ensemble(linear_network(X, y), X, y, method="connection_weights",
                        fit=linear_network, n_models=2, backend="dask", random_state=0)
    message = str(info.value)
    assert 'if __name__ == "__main__":' in message and "Nanny failed to start" in message


@pytest.mark.parametrize("method", ["connection_weights", "permutation"])
def test_groups_are_tested_and_bagged_as_one_variable_in_column_order(method):
    """groups=: the observed scores are the method's own grouped result on the model, the null
    and member tables have the groups as columns in column order; connection weights of a
    group are the sum of its members' least-squares coefficients (by hand), for the observed
    model and for every network fitted on permuted targets."""
    rng = np.random.default_rng(7)
    X = rng.normal(size=(60, 5))
    y = 2.0 * X[:, 0] - X[:, 3] + 0.5 * X[:, 1] + 0.3 * rng.normal(size=60)
    groups = {"late": ["x5", "x3"], "pair": ["x4", "x2"]}
    names = ["x1", "pair", "late"]

    def grouped(weights):  # columns x1, x4 + x2, x5 + x3
        weights = np.asarray(weights, dtype=float)
        return np.stack([weights[..., 0], weights[..., 3] + weights[..., 1],
                         weights[..., 4] + weights[..., 2]], axis=-1)

    model = linear_network(X, y)
    recorder = Recorder()
    test = varimp.randomization_test(model, X, y, method=method, fit=recorder,
                                     n_permutations=5, random_state=4, groups=groups)
    alone = varimp.importance(model, X, y, method=method, groups=groups, random_state=4)
    assert list(test.scores.index) == names
    pd.testing.assert_series_equal(test.scores, alone.scores)
    null = test.details["null"]
    assert list(null.columns) == names and null.shape == (5, 3)
    np.testing.assert_array_equal(test.pvalues.to_numpy(),
                                  hand_pvalues(test.scores, null, test.kind))
    bag = varimp.ensemble(model, X, y, method=method, fit=linear_network, n_models=2,
                          bootstrap=False, random_state=4, groups=groups)
    assert list(bag.scores.index) == names
    assert list(bag.details["members"].columns) == names
    if method == "connection_weights":
        np.testing.assert_allclose(alone.scores.to_numpy(), grouped(least_squares(X, y)[0]),
                                   rtol=1e-6)
        np.testing.assert_allclose(null.to_numpy(), grouped(recorder.weights((5,))),
                                   rtol=1e-5, atol=1e-6)
        # no bootstrap and a fit that ignores its seed: both members are the same network
        np.testing.assert_allclose(bag.details["members"].to_numpy(),
                                   [alone.scores.to_numpy()] * 2, rtol=1e-6)
