"""Input perturbation against closed forms on linear models, and on the reference LSTM task."""

import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from nets import shifted_logits_twin
from torch import nn

import varimp
from varimp import InputError

B = np.array([2.0, -1.0, 0.5, 0.0])


def linear(X):
    return X @ B


@pytest.fixture(scope="module")
def X_big():
    return np.random.default_rng(0).normal(size=(40000, 4)) * np.array([1.0, 2.0, 0.5, 1.0])


def test_rms_change_without_y_is_abs_b_times_noise_sd(X_big):
    result = varimp.perturbation(linear, X_big, noise=0.2, scale="absolute", random_state=0)
    np.testing.assert_allclose(result.scores, np.abs(B) * 0.2, rtol=0.02, atol=1e-12)
    assert result.details["measure"] == "rms change of predictions"
    assert result.details["baseline"] is None and result.std is None and result.by_time is None
    assert list(result.scores.index) == ["x1", "x2", "x3", "x4"]


def test_relative_levels_average_to_mean_level_times_spread(X_big):
    levels = (0.1, 0.3, 0.5)
    result = varimp.perturbation(linear, X_big, noise=levels, random_state=1)
    spread = X_big.std(axis=0)
    per_level = np.outer(levels, np.abs(B) * spread)
    np.testing.assert_allclose(result.details["levels"].to_numpy(), per_level, rtol=0.02,
                               atol=1e-12)
    np.testing.assert_allclose(result.scores, per_level.mean(axis=0), rtol=0.02, atol=1e-12)
    np.testing.assert_allclose(result.details["spread"], spread)


def test_increase_in_mse_with_y_is_b_squared_noise_variance(X_big):
    y = linear(X_big)
    result = varimp.perturbation(linear, X_big, y, noise=0.3, scale="absolute", n_repeats=2,
                                 random_state=2)
    np.testing.assert_allclose(result.scores, B**2 * 0.09, rtol=0.03, atol=1e-12)
    assert result.details["measure"] == "increase in mean squared error"
    assert result.kind == "loss"
    assert result.details["baseline"] == pytest.approx(0.0, abs=1e-20)
    assert result.std is not None and result.std["x4"] == 0.0


def test_sequences_whole_variable_and_cells():
    rng = np.random.default_rng(3)
    W = rng.normal(size=(5, 3))
    X = rng.normal(size=(30000, 5, 3))

    def model(X):
        return np.einsum("ntp,tp->n", X, W)

    result = varimp.perturbation(model, X, noise=0.5, scale="absolute", random_state=4)
    np.testing.assert_allclose(result.scores, 0.5 * np.sqrt((W**2).sum(axis=0)), rtol=0.02)
    assert result.by_time.shape == (5, 3) and result.by_time.index.name == "time_step"
    np.testing.assert_allclose(result.by_time.to_numpy(), 0.5 * np.abs(W), rtol=0.03)
    assert varimp.perturbation(model, X[:50], noise=0.5, by_time=False).by_time is None


def test_noise_on_sequences_uses_the_spread_across_samples_at_each_step():
    rng = np.random.default_rng(13)
    n, T = 20000, 6
    X = rng.normal(size=(n, T, 2)) * [1.0, 0.5]
    X[:, :, 0] += 10.0 * np.arange(T)  # a strong trend over time: not spread between samples
    W = rng.normal(size=(T, 2))

    def model(X):
        return np.einsum("ntp,tp->n", X, W)

    result = varimp.perturbation(model, X, noise=0.5, random_state=14, by_time=False)
    # by hand: the root mean over steps of the variance across samples at each step
    spread = np.array([np.sqrt(np.mean([np.var(X[:, t, j]) for t in range(T)]))
                       for j in range(2)])
    np.testing.assert_allclose(result.details["spread"], spread, rtol=1e-12)
    assert spread[0] == pytest.approx(1.0, rel=0.02)  # the pooled std would be about 17
    assert X[:, :, 0].std() > 15 * spread[0]
    # noise N(0, (0.5 spread_j)^2) in every cell: the change has sd 0.5 spread_j |W[:, j]|
    np.testing.assert_allclose(result.scores, 0.5 * spread * np.sqrt((W**2).sum(axis=0)),
                               rtol=0.02)


def test_groups_move_together_and_output_selection():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(30000, 3))
    M = np.array([[1.0, 0.0], [2.0, 3.0], [0.0, -1.0]])

    def model(X):
        return X @ M

    grouped = varimp.perturbation(model, X, noise=0.4, scale="absolute", output=1,
                                  groups={"ab": ["x1", "x2"]}, random_state=6)
    assert list(grouped.scores.index) == ["ab", "x3"]
    np.testing.assert_allclose(grouped.scores, [0.4 * 3.0, 0.4 * 1.0], rtol=0.02)
    both = varimp.perturbation(model, X, noise=0.4, scale="absolute", random_state=6)
    # several outputs: the mean over outputs of each output's RMS change, 0.4 |M_jk|
    np.testing.assert_allclose(both.scores, 0.4 * np.abs(M).mean(axis=1), rtol=0.02)
    assert both.kind == "magnitude"


def test_per_step_predictions_and_output_step():
    rng = np.random.default_rng(7)
    w = np.array([1.5, -0.5])
    X = rng.normal(size=(20000, 4, 2))

    def model(X):  # one prediction per step, from that step alone
        return (X @ w)[..., None]

    result = varimp.perturbation(model, X, noise=0.2, scale="absolute", random_state=8)
    np.testing.assert_allclose(result.scores, 0.2 * np.abs(w), rtol=0.02)
    np.testing.assert_allclose(result.by_time, np.tile(0.2 * np.abs(w) / 2, (4, 1)), rtol=0.03)
    at_two = varimp.perturbation(model, X, noise=0.2, scale="absolute", output_step=2,
                                 random_state=8)
    expected = np.zeros((4, 2))
    expected[2] = 0.2 * np.abs(w)
    np.testing.assert_allclose(at_two.by_time, expected, rtol=0.03, atol=1e-12)


def test_same_random_state_same_result_and_dispatch():
    X = np.random.default_rng(9).normal(size=(200, 4))
    first = varimp.perturbation(linear, X, n_repeats=3, random_state=11)
    again = varimp.importance(linear, X, method="perturbation", n_repeats=3, random_state=11)
    pd.testing.assert_series_equal(first.scores, again.scores)
    pd.testing.assert_series_equal(first.std, again.std)
    other = varimp.perturbation(linear, X, n_repeats=3, random_state=12)
    assert not np.allclose(first.scores.iloc[:3], other.scores.iloc[:3])


def test_model_and_data_unchanged():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 6), nn.Dropout(0.5), nn.Linear(6, 1)).train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    X = np.random.default_rng(1).normal(size=(50, 4))
    y = X[:, 0].copy()
    X_copy, y_copy = X.copy(), y.copy()
    result = varimp.perturbation(model, X, y, random_state=0)
    assert model.training and all(torch.equal(before[k], v)
                                  for k, v in model.state_dict().items())
    assert np.array_equal(X, X_copy) and np.array_equal(y, y_copy)
    assert np.isfinite(result.scores).all()  # dropout off: eval mode during the run


@pytest.mark.parametrize("scoring", ["r2", "accuracy", "neg_mean_squared_error"])
def test_a_scoring_without_y_is_refused_and_the_default_measures_the_change(scoring):
    """A score needs y: without it an explicit scoring is an InputError (not the RMS change
    under the name of the score); scoring left out, or "auto", is the RMS change |b_j| * s."""
    X = np.random.default_rng(2).normal(size=(20000, 4))
    with pytest.raises(InputError, match=rf"scoring str '{scoring}' was given without y: .*"
                                         r"needs y.*leave scoring out"):
        varimp.perturbation(linear, X, scoring=scoring, noise=0.2, scale="absolute")
    with pytest.raises(InputError, match="was given without y"):
        varimp.importance(linear, X, method="perturbation", scoring=scoring)
    default = varimp.perturbation(linear, X, noise=0.2, scale="absolute", random_state=0)
    np.testing.assert_allclose(default.scores, np.abs(B) * 0.2, rtol=0.03, atol=1e-12)
    assert default.kind == "magnitude" and default.details["settings"]["scoring"] == "auto"
    auto = varimp.perturbation(linear, X, scoring="auto", noise=0.2, scale="absolute",
                               random_state=0)
    pd.testing.assert_series_equal(auto.scores, default.scores)
    # compare without y runs perturbation with its default (it passes no scoring of its own)
    small = X[:300]
    compared = varimp.compare(linear, small, random_state=0, method_options={
        "perturbation": {"noise": 0.2, "scale": "absolute"}})
    assert "perturbation" in compared.results and "permutation" in compared.skipped
    pd.testing.assert_series_equal(
        compared.results["perturbation"].scores,
        varimp.perturbation(linear, small, noise=0.2, scale="absolute", random_state=0).scores)
    with pytest.raises(InputError, match="was given without y"):
        varimp.compare(linear, small, scoring=scoring)


@pytest.mark.parametrize("options, match", [
    ({"noise": -0.1}, "noise"), ({"noise": 0}, "noise"), ({"noise": []}, "noise"),
    ({"noise": "big"}, "noise"), ({"n_repeats": 0}, "n_repeats"), ({"scale": "log"}, "scale"),
    ({"scoring": "nope"}, "scoring"), ({"groups": {"g": ["x1", "zz"]}}, "zz"),
    ({"by_time": "yes"}, "by_time"), ({"output": 3}, "output"), ({"batch_size": 0}, "batch"),
    ({"max_memory": 0}, "max_memory"),
])
def test_bad_options_raise_input_error(options, match):
    X = np.random.default_rng(0).normal(size=(20, 4))
    with pytest.raises(InputError, match=match):
        varimp.perturbation(linear, X, linear(X), **options)


@pytest.fixture(scope="module")
def product_threshold_lstm():
    X, y, _ = varimp.datasets.product_threshold(2000, 10, random_state=0)
    model = varimp.train_recurrent(X, y, units=(16,), head=True, activations="tanh", epochs=8,
                                   batch_size=32, lr=0.02, random_state=0)
    X_test, y_test, _ = varimp.datasets.product_threshold(250, 10, random_state=1)
    return model, X_test, y_test


def test_reference_lstm_task_x1_x2_far_above_x3(product_threshold_lstm):
    model, X, _ = product_threshold_lstm
    result = varimp.perturbation(model, X, noise=0.2, scale="absolute", n_repeats=3,
                                 random_state=0)
    scores = result.scores
    assert scores["x1"] >= 10 * scores["x3"] and scores["x2"] >= 10 * scores["x3"]
    assert result.by_time.shape == (10, 3) and (result.by_time["x1"] > result.by_time["x3"]).all()
    assert result.std is not None and (result.std > 0).all()


def test_without_y_logits_are_perturbed_as_probabilities():
    """A logits network and the same network with a Softmax (a Sigmoid for one logit) give the
    same RMS changes: of the probabilities, which a shift common to every logit (a function of
    x3) leaves alone; with the raw logits x3 would score through the shift."""
    torch.manual_seed(4)
    net = nn.Sequential(nn.Linear(3, 5, dtype=torch.float64), nn.Tanh(),
                        nn.Linear(5, 3, dtype=torch.float64))
    shifted = shifted_logits_twin(net)
    X = np.random.default_rng(8).normal(size=(300, 3))
    options = {"noise": (0.2, 0.4), "random_state": 1, "n_repeats": 2}
    logits = varimp.perturbation(net, X, output_kind="logits", **options)
    softmax = varimp.perturbation(nn.Sequential(*net, nn.Softmax(dim=-1)), X, **options)
    np.testing.assert_allclose(logits.scores, softmax.scores, rtol=1e-5)
    np.testing.assert_allclose(logits.details["per_output"], softmax.details["per_output"],
                               rtol=1e-5)
    assert logits.details["explained"] == "class probabilities (softmax of the logits)"
    assert logits.details["measure"] == "rms change of probabilities"
    twin = varimp.perturbation(shifted, X, output_kind="logits", **options)
    np.testing.assert_allclose(twin.scores, logits.scores, rtol=1e-5)
    raw = varimp.perturbation(shifted, X, output_kind="regression", **options)
    assert raw.relative["x3"] > 2 * logits.relative["x3"]  # the raw logits see the shift
    one = nn.Sequential(*net[:2], nn.Linear(5, 1, dtype=torch.float64))
    sigmoid = varimp.perturbation(nn.Sequential(*one, nn.Sigmoid()), X, **options)
    np.testing.assert_allclose(varimp.perturbation(one, X, output_kind="logits",
                                                   **options).scores, sigmoid.scores, rtol=1e-5)


def _colour_table(n=300, seed=0):
    """A numeric input beside a one-hot group (red, blue; a row of zeros is the reference)."""
    rng = np.random.default_rng(seed)
    colour = rng.integers(0, 3, n)
    return pd.DataFrame({"x": rng.normal(size=n), "z": rng.normal(size=n),
                         "red": (colour == 1) * 1.0, "blue": (colour == 2) * 1.0})


def test_a_category_switch_beside_noise_warns_once_and_is_recorded():
    X = _colour_table()

    def f(Z):
        return Z @ np.array([2.0, 1.0, 3.0, -1.0])

    with pytest.warns(UserWarning, match="category") as caught:
        result = varimp.perturbation(f, X, groups={"colour": ["red", "blue"]}, noise=0.2,
                                     random_state=0)
    mixed = [w for w in caught if "do not rank against each other" in str(w.message)]
    assert len(mixed) == 1
    message = str(mixed[0].message)
    assert "'colour'" in message and "'x', 'z'" in message and "permutation" in message
    assert result.details["mixed_kinds"] == {"category switch": ["colour"],
                                             "noise": ["x", "z"]}
    # the computation is as specified: x gets noise of 0.2 x its spread, |2| * 0.2 * sd(x)
    assert result.scores["x"] == pytest.approx(2 * 0.2 * X["x"].std(ddof=0), rel=0.1)
    with warnings.catch_warnings():  # one kind only: nothing to warn about
        warnings.simplefilter("error")
        alone = varimp.perturbation(f, X, noise=0.2, random_state=0)
        perm = varimp.permutation(f, X, f(X.to_numpy()), groups={"colour": ["red", "blue"]},
                                  random_state=0)
    assert "mixed_kinds" not in alone.details and "mixed_kinds" not in perm.details


def test_scoring_none_measures_without_y_even_where_y_is_given():
    """scoring=None, as the randomization test and the ensemble read it: the RMS change of
    the predictions, |b_j| * s for a linear model, whatever y is; y is not used, and the
    details say so."""
    X = np.random.default_rng(3).normal(size=(20000, 4))
    y = linear(X) + np.random.default_rng(4).normal(size=20000)
    plain = varimp.perturbation(linear, X, noise=0.2, scale="absolute", random_state=0)
    for result in (varimp.perturbation(linear, X, y, scoring=None, noise=0.2, scale="absolute",
                                       random_state=0),
                   varimp.importance(linear, X, y, method="perturbation", scoring=None,
                                     noise=0.2, scale="absolute", random_state=0),
                   varimp.perturbation(linear, X, scoring=None, noise=0.2, scale="absolute",
                                       random_state=0)):
        pd.testing.assert_series_equal(result.scores, plain.scores)
        assert result.kind == "magnitude"
        assert result.details["measure"] == "rms change of predictions"
        assert result.details["settings"]["scoring"] is None
    np.testing.assert_allclose(plain.scores, np.abs(B) * 0.2, rtol=0.03, atol=1e-12)
    with_y = varimp.perturbation(linear, X, y, scoring=None, random_state=0)
    assert with_y.details["y_ignored"].startswith("scoring=None measures without y")
    assert "y_ignored" not in plain.details


def test_a_constant_column_gets_no_relative_noise_and_scores_exactly_zero():
    """Relative noise is a fraction of the spread, 0 for a constant column: exactly 0 and a
    warning; absolute noise moves it, and a linear model's RMS change is |b| times the noise."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, 4))
    X[:, 3] = 0.1
    b = np.array([3.0, -1.0, 0.5, 2.0])

    def f(Z):
        return Z @ b

    with pytest.warns(UserWarning, match=r"'x4' holds one value in every sample: perturbation "
                                         r"cannot measure a constant input"):
        relative = varimp.perturbation(f, X, random_state=0)
    assert relative.scores["x4"] == 0.0 and relative.details["spread"]["x4"] == 0.0
    assert relative.scores["x1"] > 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        absolute = varimp.perturbation(f, X, noise=0.2, scale="absolute", random_state=0)
    assert absolute.scores["x4"] == pytest.approx(2.0 * 0.2, rel=0.05)
