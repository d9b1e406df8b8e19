"""Improved stepwise selection 1 and 2 against hand computations on linear models."""

import numpy as np
import pandas as pd
import pytest

import varimp
from varimp import InputError

B = np.array([2.0, -1.0, 0.5, 0.1])


def linear(X):
    return X @ B


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4)) * np.array([1.0, 1.5, 2.0, 1.0])
    X[:, 1] += 0.5 * X[:, 0]  # correlated inputs: removals interact
    return X, linear(X) + 0.05 * rng.normal(size=200)


def mse_held(X, y, held):
    Z = X.copy()
    Z[:, held] = X[:, held].mean(axis=0)
    return np.mean((y - linear(Z)) ** 2)


def test_variant_1_is_error_with_each_input_at_its_mean(data):
    X, y = data
    result = varimp.improved_stepwise_1(linear, X, y)
    base = np.mean((y - linear(X)) ** 2)
    expected = [mse_held(X, y, [j]) - base for j in range(4)]
    np.testing.assert_allclose(result.scores, expected, rtol=1e-12)
    np.testing.assert_allclose(result.details["errors"], np.array(expected) + base, rtol=1e-12)
    assert result.details["baseline"] == pytest.approx(base)
    np.testing.assert_allclose(result.details["means"], X.mean(axis=0))
    assert result.by_time is None and result.std is None


def test_variant_2_greedy_removal_path(data):
    X, y = data
    result = varimp.improved_stepwise_2(linear, X, y)
    removed, remaining, before = [], list(range(4)), np.mean((y - linear(X)) ** 2)
    expected = {}
    for _ in range(4):
        errors = [mse_held(X, y, removed + [v]) for v in remaining]
        pick = remaining[int(np.argmin(errors))]
        expected[f"x{pick + 1}"] = min(errors) - before
        before = min(errors)
        removed.append(pick)
        remaining.remove(pick)
    path = result.details["path"]
    assert list(path["removed"]) == [f"x{j + 1}" for j in removed]
    np.testing.assert_allclose(result.scores[list(expected)], list(expected.values()),
                               rtol=1e-9, atol=1e-12)
    assert result.scores.sum() == pytest.approx(mse_held(X, y, [0, 1, 2, 3])
                                                - np.mean((y - linear(X)) ** 2))
    np.testing.assert_allclose(path["error_after"].iloc[:-1], path["error_before"].iloc[1:])
    errors = result.details["errors"]
    assert errors.shape == (4, 4) and errors.isna().to_numpy().sum() == 6
    assert list(result.scores.index) == ["x1", "x2", "x3", "x4"]


def test_variant_2_on_independent_inputs_equals_the_closed_form():
    """A linear model whose centred inputs and noise are exactly orthogonal: holding a set S of
    inputs at their means gives MSE = mean(e^2) + sum_{j in S} b_j^2 Var(x_j), so every removal
    raises the error by b_j^2 Var(x_j) whatever was removed before. Variables leave in
    increasing order of that increase, and each scores its own increase."""
    n, b, sd = 300, np.array([2.0, -1.0, 0.5, 3.0]), np.array([1.0, 3.0, 2.0, 0.5])
    centred = np.random.default_rng(5).normal(size=(n, 5))
    q = np.linalg.qr(centred - centred.mean(axis=0))[0] * np.sqrt(n)  # mean 0, variance 1
    X = q[:, :4] * sd + np.array([1.0, -2.0, 0.0, 4.0])
    noise = 0.3 * q[:, 4]

    def model(X):
        return X @ b + 1.5

    result = varimp.improved_stepwise_2(model, X, model(X) + noise)
    increase = b**2 * sd**2  # 4, 9, 1, 2.25
    np.testing.assert_allclose(result.scores, increase, rtol=1e-9)
    path = result.details["path"]
    assert list(path["removed"]) == ["x3", "x4", "x1", "x2"]  # smallest increase first
    errors = 0.09 + np.cumsum([0.0, 1.0, 2.25, 4.0, 9.0])  # mean(noise^2) = 0.09, then 1 by 1
    np.testing.assert_allclose(path["error_before"], errors[:-1], rtol=1e-9)
    np.testing.assert_allclose(path["error_after"], errors[1:], rtol=1e-9)
    np.testing.assert_allclose(path["increase"], [1.0, 2.25, 4.0, 9.0], rtol=1e-9)
    assert result.details["baseline"] == pytest.approx(0.09, rel=1e-9)
    assert list(result.ranks) == [2, 1, 4, 3] and result.kind == "loss"
    # independent inputs: the one-pass variant scores the same increases
    np.testing.assert_allclose(varimp.improved_stepwise_1(model, X, model(X) + noise).scores,
                               increase, rtol=1e-9)


def test_variant_1_sequences_hold_each_step_at_its_mean():
    rng = np.random.default_rng(1)
    W = rng.normal(size=(3, 2))
    X = rng.normal(size=(100, 3, 2)) + np.arange(3)[None, :, None]  # a trend over time

    def model(X):
        return np.einsum("ntp,tp->n", X, W)

    y = model(X)
    result = varimp.improved_stepwise_1(model, X, y)
    centred = X - X.mean(axis=0)
    for j in range(2):
        assert result.scores.iloc[j] == pytest.approx(np.mean((centred[:, :, j] @ W[:, j]) ** 2))
    np.testing.assert_allclose(result.by_time, W**2 * centred.var(axis=0), rtol=1e-10)
    assert result.details["means"].shape == (3, 2)


def test_variant_2_on_sequences_and_scoring_direction():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(120, 4, 2))

    def model(X):
        return X[:, :, 0].sum(axis=1) + 0.1 * X[:, -1, 1]

    y = model(X)
    result = varimp.improved_stepwise_2(model, X, y, scoring="r2")
    assert list(result.details["path"]["removed"]) == ["x2", "x1"]
    assert result.details["baseline"] == pytest.approx(1.0)
    assert result.details["path"]["error_after"].iloc[-1] < 0.1  # R2 once all inputs are held
    assert (result.scores > 0).all()


def test_dispatch_and_unchanged_inputs(data):
    X, y = data
    X_copy, y_copy = X.copy(), y.copy()
    a = varimp.importance(linear, X, y, method="improved_stepwise_1")
    b = varimp.improved_stepwise_1(linear, X, y)
    pd.testing.assert_series_equal(a.scores, b.scores)
    varimp.importance(linear, X, y, method="improved_stepwise_2")
    assert np.array_equal(X, X_copy) and np.array_equal(y, y_copy)


@pytest.mark.parametrize("method", [varimp.improved_stepwise_1, varimp.improved_stepwise_2])
@pytest.mark.parametrize("options, match", [
    ({"scoring": "nope"}, "scoring"), ({"groups": {"g": ["x1", "missing"]}}, "missing"),
    ({"batch_size": -1}, "batch"), ({"output": 5}, "output"),
])
def test_bad_options_raise_input_error(data, method, options, match):
    X, y = data
    with pytest.raises(InputError, match=match):
        method(linear, X, y, **options)


def test_targets_required(data):
    X, _ = data
    with pytest.raises(InputError, match="y"):
        varimp.improved_stepwise_2(linear, X, None)


class CountingModel:
    """A non-linear function of 6 inputs that counts the rows it is asked to predict."""

    def __init__(self):
        self.calls = []

    def __call__(self, X):
        self.calls.append(len(X))
        return np.tanh(X @ np.array([1.0, -0.8, 0.6, 0.4, -0.3, 0.1])) + 0.2 * X[:, 0] * X[:, 1]


def greedy_by_hand(model, X, y):
    """Improved stepwise 2 written out: hold the removed inputs and each candidate at their
    means, remove the one with the least MSE, score its increase."""
    mse = [np.mean((y - model(X)) ** 2)]
    removed, remaining, scores, errors = [], list(range(X.shape[1])), {}, []
    while remaining:
        step = {}
        for v in remaining:
            Z = X.copy()
            Z[:, removed + [v]] = X[:, removed + [v]].mean(axis=0)
            step[v] = np.mean((y - model(Z)) ** 2)
        pick = min(step, key=step.get)
        scores[pick] = step[pick] - mse[-1]
        mse.append(step[pick])
        errors.append(step)
        removed.append(pick)
        remaining.remove(pick)
    return scores, removed, errors


def test_variant_2_makes_one_pass_per_candidate_and_one_for_the_full_model():
    """p = 6 inputs: the unperturbed rows once, then 6 + 5 + ... + 1 = p (p + 1) / 2 = 21
    candidates, one pass each (a step's reference is the prediction of the candidate that
    left the step before, never recomputed): 22 passes."""
    rng = np.random.default_rng(7)
    X = rng.normal(size=(53, 6))
    model = CountingModel()
    y = model(X) + 0.1 * rng.normal(size=53)
    model.calls.clear()
    result = varimp.improved_stepwise_2(model, X, y, batch_size=53)
    assert model.calls.count(53) == 1 + 6 * 7 // 2
    assert set(model.calls) <= {1, 2, 53}  # besides the passes, only probes of a row or two
    model.calls.clear()
    scores, removed, errors = greedy_by_hand(model, X, y)
    assert list(result.details["path"]["removed"]) == [f"x{j + 1}" for j in removed]
    np.testing.assert_allclose([result.scores[f"x{j + 1}"] for j in scores],
                               list(scores.values()), rtol=1e-12)
    table = result.details["errors"]
    for step, errs in enumerate(errors, start=1):
        np.testing.assert_allclose([table.loc[step, f"x{j + 1}"] for j in errs],
                                   list(errs.values()), rtol=1e-12)


def test_variant_2_on_a_torch_network_reusing_its_first_layer_matches_full_passes():
    """A dense PyTorch network: candidates are evaluated from the cached first layer of the
    unperturbed X (every held column a change of it); the scores equal the greedy procedure
    run with full forward passes."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(3)
    net = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.Tanh(),
                              torch.nn.Linear(7, 1)).double().eval()

    def full(X):
        with torch.no_grad():
            return net(torch.as_tensor(X)).numpy()[:, 0]

    rng = np.random.default_rng(8)
    X = rng.normal(size=(80, 5)) * [1.0, 2.0, 0.5, 1.0, 3.0]
    y = full(X) + 0.05 * rng.normal(size=80)
    result = varimp.improved_stepwise_2(net, X, y)
    scores, removed, _ = greedy_by_hand(full, X, y)
    assert list(result.details["path"]["removed"]) == [f"x{j + 1}" for j in removed]
    np.testing.assert_allclose([result.scores[f"x{j + 1}"] for j in scores],
                               list(scores.values()), rtol=1e-9, atol=1e-14)
