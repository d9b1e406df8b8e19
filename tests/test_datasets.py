"""The generators: shapes, determinism, and a truth that matches the generating formula."""

import numpy as np
import pytest

import varimp
from varimp import datasets


def _lstsq(X, y):
    design = np.column_stack([np.ones(len(X)), X])
    return np.linalg.lstsq(design, y, rcond=None)[0][1:]


@pytest.mark.parametrize("make, kwargs", [
    (datasets.olden_simulation, {"n_samples": 50}),
    (datasets.product_threshold, {"n_sequences": 20}),
    (datasets.friedman1, {"n_samples": 50}),
    (datasets.box_sequences, {"n_sequences": 20}),
])
def test_same_seed_same_data_other_seed_other_data(make, kwargs):
    X1, y1, t1 = make(**kwargs, random_state=3)
    X2, y2, t2 = make(**kwargs, random_state=3)
    X3, _, _ = make(**kwargs, random_state=4)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert t1.equals(t2)
    assert not np.array_equal(X1, X3)
    gen = np.random.default_rng(3)
    X4, _, _ = make(**kwargs, random_state=gen)  # a Generator is accepted and advanced
    X5, _, _ = make(**kwargs, random_state=gen)
    assert not np.array_equal(X4, X5)


def test_olden_least_squares_recovers_the_truth_and_correlation():
    X, y, truth = datasets.olden_simulation(40_000, correlation=0.3, noise=0.5, random_state=0)
    assert X.shape == (40_000, 5) and y.shape == (40_000,)
    assert list(truth.index) == ["x1", "x2", "x3", "x4", "x5"]
    np.testing.assert_allclose(truth.to_numpy(), [0.8, 0.6, 0.4, 0.2, 0.0])
    np.testing.assert_allclose(_lstsq(X, y), truth.to_numpy(), atol=0.015)
    corr = np.corrcoef(X, rowvar=False)
    np.testing.assert_allclose(corr[np.triu_indices(5, 1)], 0.3, atol=0.02)
    np.testing.assert_allclose(X.std(axis=0), 1.0, atol=0.02)
    residual = y - X @ truth.to_numpy()
    assert abs(residual.std() - 0.5) < 0.01
    # x5 contributes nothing yet is correlated with y through the other inputs
    assert np.corrcoef(X[:, 4], y)[0, 1] > 0.2


def test_olden_custom_coefficients_and_bad_options():
    X, y, truth = datasets.olden_simulation(100, coefficients=[1.0, -2.0], noise=0.0,
                                            random_state=1)
    np.testing.assert_allclose(y, X @ [1.0, -2.0])
    assert list(truth) == [1.0, -2.0]
    for bad in ({"correlation": 1.0}, {"correlation": -0.5}, {"noise": -1.0},
                {"coefficients": []}, {"coefficients": [1.0, np.nan]}, {"n_samples": 0}):
        with pytest.raises(varimp.InputError):
            datasets.olden_simulation(**({"n_samples": 10} | bad))


def test_product_threshold_follows_its_formula():
    X, y, truth = datasets.product_threshold(200, 7, random_state=0)
    assert X.shape == (200, 7, 3) and y.shape == (200, 7)
    assert X.min() >= 0 and X.max() < 1
    np.testing.assert_array_equal(y, (X[..., 0] * X[..., 1] < 0.25).astype(float))
    assert truth.shape == (7, 3) and list(truth.columns) == ["x1", "x2", "x3"]
    assert truth.index.name == "time_step" and list(truth.index) == list(range(7))
    np.testing.assert_array_equal(truth.to_numpy(), np.tile([1.0, 1.0, 0.0], (7, 1)))
    # P(x1 x2 < 1/4) = 1/4 + ln(4) / 4 for independent uniforms
    _, y_big, _ = datasets.product_threshold(20_000, 10, random_state=1)
    assert abs(y_big.mean() - (0.25 + np.log(4) / 4)) < 0.01
    with pytest.raises(varimp.InputError):
        datasets.product_threshold(0)


def test_friedman1_formula_and_total_effect_truth():
    X, y, truth = datasets.friedman1(500, noise=0.0, random_state=0)
    assert X.shape == (500, 10)
    expected = (10 * np.sin(np.pi * X[:, 0] * X[:, 1]) + 20 * (X[:, 2] - 0.5) ** 2
                + 10 * X[:, 3] + 5 * X[:, 4])
    np.testing.assert_allclose(y, expected)
    np.testing.assert_allclose(truth.iloc[2:5], [400 / 180, 100 / 12, 25 / 12])
    np.testing.assert_array_equal(truth.iloc[5:], 0.0)
    assert truth["x1"] == truth["x2"]
    # the truth is half the expected squared change when x_i is permuted (Monte Carlo check)
    rng = np.random.default_rng(1)
    Xb = rng.random((400_000, 10))
    base = datasets.friedman1_function(Xb)
    for j in range(5):
        perm = Xb.copy()
        perm[:, j] = rng.permutation(perm[:, j])
        estimate = 0.5 * np.mean((datasets.friedman1_function(perm) - base) ** 2)
        assert estimate == pytest.approx(truth.iloc[j], rel=0.02)


def test_friedman1_noise_level():
    X, y, _ = datasets.friedman1(20_000, noise=2.0, random_state=0)
    assert abs((y - datasets.friedman1_function(X)).std() - 2.0) < 0.05


def test_box_sequences_least_squares_recovers_the_box():
    X, y, truth = datasets.box_sequences(3000, n_timesteps=6, n_features=3, steps=(2, 5),
                                         features=(0, 2), noise=0.1, random_state=0)
    assert X.shape == (3000, 6, 3) and y.shape == (3000,)
    expected = np.zeros((6, 3))
    expected[2:5, [0, 2]] = 1.0
    np.testing.assert_array_equal(truth.to_numpy(), expected)
    coef = _lstsq(X.reshape(3000, -1), y).reshape(6, 3)
    np.testing.assert_allclose(coef, expected, atol=0.01)


@pytest.mark.parametrize("bad", [{"steps": (3, 2)}, {"steps": (0, 21)}, {"steps": 5},
                                 {"features": (4,)}, {"features": ("a",)}, {"features": ()},
                                 {"noise": np.inf}])
def test_box_sequences_bad_options(bad):
    with pytest.raises(varimp.InputError):
        datasets.box_sequences(10, **bad)
