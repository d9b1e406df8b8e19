"""The generators: shapes, determinism, and a truth that matches the generating formula."""

import itertools

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
    *[(datasets.box_sequences, {"n_sequences": 20, "layout": layout, "process": process})
      for layout, process in itertools.product(datasets.BOX_LAYOUTS, datasets.BOX_PROCESSES)],
    (datasets.box_sequences, {"n_sequences": 20, "layout": "rare_time", "signal": "shift"}),
    (datasets.state_switching, {"n_samples": 20}),
    (datasets.spike, {"n_samples": 20}),
])
def test_same_seed_same_data_other_seed_other_data(make, kwargs):
    X1, y1, t1 = make(**kwargs, random_state=3)
    X2, y2, t2 = make(**kwargs, random_state=3)
    X3, _, _ = make(**kwargs, random_state=4)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert t1.equals(t2)
    assert t1.attrs.keys() == t2.attrs.keys()
    for key in t1.attrs:
        np.testing.assert_array_equal(t1.attrs[key], t2.attrs[key])
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


def _box_cells(layout, T=20, p=4):
    """The cells each layout puts in its box by default, written out by hand for T=20, p=4."""
    box = np.zeros((T, p))
    if layout == "middle":
        box[12:16, :2] = 1.0
    elif layout == "rare_feature":
        box[4:16, 0] = 1.0
    else:  # rare_time
        box[10, :3] = 1.0
    return box


@pytest.mark.parametrize("layout, process", list(itertools.product(
    ("middle", "rare_feature", "rare_time"), datasets.BOX_PROCESSES)))
def test_box_sum_least_squares_recovers_every_layout_on_every_process(layout, process):
    n = 3000
    X, y, truth = datasets.box_sequences(n, layout=layout, process=process, noise=0.1,
                                         random_state=1)
    expected = _box_cells(layout)
    np.testing.assert_array_equal(truth.to_numpy(), expected)
    assert truth.attrs == {}  # the same box in every sequence: no per-sample mask
    coef = _lstsq(X.reshape(n, -1), y).reshape(20, 4)
    np.testing.assert_allclose(coef, expected, atol=0.02)
    residual = y - np.einsum("ntp,tp->n", X, expected)
    assert abs(residual.std() - 0.1) < 0.005


def test_box_default_layout_is_the_earlier_box():
    # the defaults before layouts existed: steps (12, 16), features (0, 1), N(0, 1) cells
    X, y, truth = datasets.box_sequences(50, random_state=5)
    rng = np.random.default_rng(5)
    expected_X = rng.standard_normal((50, 20, 4))
    np.testing.assert_array_equal(X, expected_X)
    np.testing.assert_allclose(y, expected_X[:, 12:16, :2].sum(axis=(1, 2))
                               + 0.1 * rng.standard_normal(50), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(truth.to_numpy(), _box_cells("middle"))


@pytest.mark.parametrize("layout", datasets.BOX_LAYOUTS)
def test_box_shift_moves_only_the_box_cells_by_the_label(layout):
    n, shift = 6000, 0.7
    X, y, truth = datasets.box_sequences(n, layout=layout, signal="shift", shift=shift,
                                         random_state=2)
    assert set(np.unique(y)) == {0.0, 1.0} and abs(y.mean() - 0.5) < 0.02
    mask = truth.attrs["mask"] if layout == "moving" else \
        np.broadcast_to(_box_cells(layout).astype(bool), X.shape)
    positive = (y == 1)[:, None, None]
    up, down = X[mask & positive], X[mask & ~positive]  # unit-variance cells: 4 standard errors
    assert abs(up.mean() - shift) < 4 / np.sqrt(up.size)
    assert abs(down.mean() + shift) < 4 / np.sqrt(down.size)
    assert abs(up.std() - 1.0) < 0.03 and abs(down.std() - 1.0) < 0.03
    assert abs(X[~mask].mean()) < 0.01 and abs(X[~mask].std() - 1.0) < 0.01
    # outside the box the cells do not depend on the label
    outside = ~mask[0] if layout != "moving" else None
    if outside is not None:
        gap = X[y == 1][:, outside].mean() - X[y == 0][:, outside].mean()
        assert abs(gap) < 0.01


def test_box_moving_box_moves_between_samples():
    n, T, p = 4000, 20, 4
    X, y, truth = datasets.box_sequences(n, T, p, layout="moving", random_state=3)
    mask, start = truth.attrs["mask"], truth.attrs["start"]
    assert mask.shape == (n, T, p) and mask.dtype == bool and start.shape == (n,)
    np.testing.assert_allclose(truth.to_numpy(), mask.mean(axis=0))
    # each sample's box: steps start..start+3 of x1, x2 (the middle box's size), nothing else
    expected = np.zeros_like(mask)
    for i in range(n):
        expected[i, start[i]:start[i] + 4, :2] = True
    np.testing.assert_array_equal(mask, expected)
    # the start is uniform on 0..T-4: all 17 positions, each about 1/17 of the samples
    counts = np.bincount(start, minlength=T - 3)
    assert len(counts) == T - 3 and abs(counts / n - 1 / 17).max() < 0.015
    # the label is carried by the moving box: the box cells' mean gives it on every sample
    box_mean = np.where(mask, X, 0.0).sum(axis=(1, 2)) / 8
    assert ((box_mean > 0) == (y == 1)).mean() > 0.99
    # explicit steps set the length of the moving box
    _, _, short = datasets.box_sequences(100, T, p, layout="moving", steps=(0, 2),
                                         features=(3,), random_state=0)
    assert (short.attrs["mask"].sum(axis=(1, 2)) == 2).all() and short.attrs["mask"][..., 3].any()


def test_box_processes_autocorrelation_and_variance():
    n, T, phi = 4000, 20, 0.6
    X, _, _ = datasets.box_sequences(n, T, 2, process="ar", phi=phi, random_state=4)
    lag1 = np.mean([np.corrcoef(X[:, t, 0], X[:, t + 1, 0])[0, 1] for t in range(T - 1)])
    assert abs(lag1 - phi) < 0.01
    lag2 = np.mean([np.corrcoef(X[:, t, 1], X[:, t + 2, 1])[0, 1] for t in range(T - 2)])
    assert abs(lag2 - phi**2) < 0.015
    np.testing.assert_allclose(X.var(axis=(0, 2)), 1.0, atol=0.05)  # stationary from step 0
    # harmonic: 0.75 of the variance in the sine; lag-1 autocorrelation 0.75 E[cos(2 pi f)]
    # with f uniform on (0.05, 0.25): 0.75 (sin(pi / 2) - sin(pi / 10)) / (2 pi 0.2)
    X, _, _ = datasets.box_sequences(n, T, 2, process="harmonic", random_state=4)
    np.testing.assert_allclose(X.var(axis=(0, 2)), 1.0, atol=0.06)
    expected = 0.75 * (1.0 - np.sin(np.pi / 10)) / (2 * np.pi * 0.2)
    lag1 = np.mean([np.corrcoef(X[:, t, 0], X[:, t + 1, 0])[0, 1] for t in range(T - 1)])
    assert abs(lag1 - expected) < 0.02
    # gaussian: no autocorrelation
    X, _, _ = datasets.box_sequences(n, T, 2, random_state=4)
    assert abs(np.corrcoef(X[:, 5, 0], X[:, 6, 0])[0, 1]) < 0.05


@pytest.mark.parametrize("bad", [{"steps": (3, 2)}, {"steps": (0, 21)}, {"steps": 5},
                                 {"features": (4,)}, {"features": ("a",)}, {"features": ()},
                                 {"noise": np.inf}, {"layout": "edge"}, {"process": "narma"},
                                 {"signal": "product"}, {"layout": "moving", "signal": "sum"},
                                 {"phi": 1.0}, {"phi": True}, {"phi": "0.5"}, {"shift": 0.0},
                                 {"layout": "moving", "steps": (0, 25)}])
def test_box_sequences_bad_options(bad):
    with pytest.raises(varimp.InputError):
        datasets.box_sequences(10, **bad)


def test_olden_correlation_with_y_matches_the_closed_form():
    # defaults r = 0.2, noise = 0.5, b = (0.8, .., 0): Var(y) = 0.8 b'b + 0.2 sum(b)^2 + 0.25 = 2.01
    X, y, truth = datasets.olden_simulation(100_000, random_state=2)
    b = truth.to_numpy()
    assert 0.8 * b @ b + 0.2 * b.sum() ** 2 + 0.25 == pytest.approx(2.01)
    assert y.var() == pytest.approx(2.01, rel=0.02)
    expected = (0.8 * b + 0.2 * b.sum()) / np.sqrt(2.01)  # (S b)_i / sd(y)
    np.testing.assert_allclose(expected, [1.04, 0.88, 0.72, 0.56, 0.40] / np.sqrt(2.01))
    measured = [np.corrcoef(X[:, j], y)[0, 1] for j in range(5)]
    np.testing.assert_allclose(measured, expected, atol=0.01)
    # the true ranking is the order of |b|, and least squares recovers it
    assert list(np.argsort(-np.abs(_lstsq(X, y)))) == [0, 1, 2, 3, 4]


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def test_state_switching_shapes_mask_and_label_from_masked_cells_only():
    n, T, p, window, shift, scale = 4000, 12, 3, 3, 2.0, 3.0
    X, y, truth = datasets.state_switching(n, T, p, window=window, shift=shift, scale=scale,
                                           random_state=0)
    mask, states, prob = truth.attrs["mask"], truth.attrs["states"], truth.attrs["probability"]
    assert X.shape == (n, T, p) and y.shape == (n,) and set(np.unique(y)) == {0.0, 1.0}
    assert mask.shape == (n, T, p) and mask.dtype == bool and states.shape == (n, T)
    assert truth.shape == (T, p) and list(truth.columns) == ["x1", "x2", "x3"]
    np.testing.assert_allclose(truth.to_numpy(), mask.mean(axis=0))
    assert set(np.unique(states)) == {0, 1}
    # the mask, rebuilt by hand from the states: the final run of the last state, last 3 steps
    expected = np.zeros_like(mask)
    for i in range(n):
        s, t = states[i, -1], T - 1
        while t >= T - window and states[i, t] == s:
            expected[i, t, s] = True
            t -= 1
    np.testing.assert_array_equal(mask, expected)
    assert not mask[:, :T - window].any() and not mask[..., 2].any()  # x3 is never driven
    # the label probability recomputed from the masked cells alone
    k = mask.sum(axis=(1, 2))
    masked_only = np.where(mask, X, np.nan)
    z = np.nansum(masked_only - shift, axis=(1, 2)) / np.sqrt(k)
    np.testing.assert_allclose(prob, _sigmoid(scale * z), rtol=1e-10, atol=1e-15)
    # the features: state k raises feature k by `shift`, nothing else moves
    driven = states[:, :, None] == np.arange(p)
    assert abs(X[driven].mean() - shift) < 0.02 and abs(X[~driven].mean()) < 0.02
    # y ~ Bernoulli(prob): balanced, and calibrated in bins of prob
    assert 0.45 < y.mean() < 0.55
    assert abs(y.mean() - prob.mean()) < 0.02
    high, low = prob > 0.9, prob < 0.1
    assert y[high].mean() > 0.9 and y[low].mean() < 0.1
    # persistence 0.9: the chain stays in its state about 90% of the time
    assert abs((states[:, 1:] == states[:, :-1]).mean() - 0.9) < 0.01


def test_state_switching_three_states_and_bad_options():
    X, y, truth = datasets.state_switching(500, 8, 4, n_states=3, persistence=0.0,
                                           window=1, random_state=1)
    states, mask = truth.attrs["states"], truth.attrs["mask"]
    assert set(np.unique(states)) == {0, 1, 2}
    assert not (states[:, 1:] == states[:, :-1]).any()  # persistence 0: a jump every step
    # window 1: exactly the last step's driven cell
    np.testing.assert_array_equal(mask.sum(axis=(1, 2)), 1)
    np.testing.assert_array_equal(np.argwhere(mask[:, -1])[:, 1], states[:, -1])
    for bad in ({"n_states": 1}, {"n_states": 4, "n_features": 3}, {"persistence": 1.0},
                {"window": 0}, {"window": 21}, {"scale": 0.0}, {"shift": -1.0}):
        with pytest.raises(varimp.InputError):
            datasets.state_switching(10, **bad)


@pytest.mark.parametrize("delay", [0, 3])
def test_spike_label_turns_on_after_the_masked_spike(delay):
    n, T, p, height = 3000, 15, 3, 3.0
    X, y, truth = datasets.spike(n, T, p, delay=delay, height=height, random_state=0)
    mask, step = truth.attrs["mask"], truth.attrs["spike_step"]
    assert X.shape == (n, T, p) and y.shape == (n, T) and mask.shape == (n, T, p)
    np.testing.assert_allclose(truth.to_numpy(), mask.mean(axis=0))
    assert not mask[..., 1:].any() and (mask.sum(axis=(1, 2)) <= 1).all()
    # the label from the masked cells alone: on from the masked step + delay, if it is a spike
    t = np.arange(T)
    masked_value = np.where(mask, X, -np.inf).max(axis=(1, 2))
    masked_step = np.where(mask.any(axis=(1, 2)), mask.any(axis=2).argmax(axis=1), T)
    from_mask = (masked_value[:, None] > height / 2) & (t >= masked_step[:, None] + delay)
    np.testing.assert_array_equal(y, from_mask.astype(float))
    # and from the whole of x1 by the stated rule: the same, so no unmasked cell matters
    above = X[..., 0] > height / 2
    seen = np.zeros((n, T), dtype=bool)
    seen[:, delay:] = np.maximum.accumulate(above, axis=1)[:, :T - delay]
    np.testing.assert_array_equal(y, seen.astype(float))
    assert (above.sum(axis=1) <= 1).all()
    # the distractors spike too, at the same rate, and never move the label
    for j in (1, 2):
        assert abs((X[..., j] > height / 2).any(axis=1).mean() - 0.5) < 0.03
    np.testing.assert_array_equal(step >= 0, mask.any(axis=(1, 2)))
    assert step.max() <= T - 1 - delay
    # balance: half the samples spike; the share of ones is p (T - d + 1) / (2 T)
    assert abs((step >= 0).mean() - 0.5) < 0.03
    assert abs(y.mean() - 0.5 * (T - delay + 1) / (2 * T)) < 0.02
    assert (y[step >= 0, -1] == 1).all() and (y[step < 0] == 0).all()


def test_spike_without_distractors_and_bad_options():
    X, y, truth = datasets.spike(200, 6, 2, spike_probability=1.0, distractors=False,
                                 noise=0.0, random_state=3)
    np.testing.assert_array_equal(X[..., 1], 0.0)
    np.testing.assert_array_equal(X[..., 0][truth.attrs["mask"][..., 0]], 3.0)
    np.testing.assert_array_equal(y.sum(axis=1), 6 - truth.attrs["spike_step"])
    for bad in ({"spike_probability": 1.5}, {"delay": 20}, {"delay": -1}, {"noise": 1.5},
                {"height": 0.0}):
        with pytest.raises(varimp.InputError):
            datasets.spike(10, **bad)


@pytest.mark.parametrize("bad, message", [
    ({"steps": (0, np.inf)}, "steps must be a pair of integers"),
    ({"steps": (0.0, 3.7)}, "steps must be a pair of integers"),
    ({"steps": (0, 3, 5)}, "steps must be a pair of integers"),
    ({"steps": "03"}, "steps must be a pair of integers"),
    ({"features": [0.9]}, "features must be integer column indices"),
    ({"features": [np.nan]}, "features must be integer column indices"),
    ({"features": [True]}, "features must be integer column indices"),
    ({"features": 1}, "features must be integer column indices"),
])
def test_box_sequences_refuses_steps_and_features_that_are_not_integers(bad, message):
    with pytest.raises(varimp.InputError, match=message) as info:
        datasets.box_sequences(10, **bad)
    assert repr(next(iter(bad.values()))) in str(info.value)  # says what came


def test_box_sequences_accepts_numpy_integers_for_steps_and_features():
    _, _, truth = datasets.box_sequences(10, 8, 3, steps=(np.int64(2), np.int32(5)),
                                         features=np.array([2]), random_state=0)
    expected = np.zeros((8, 3))
    expected[2:5, 2] = 1.0
    np.testing.assert_array_equal(truth.to_numpy(), expected)


def test_olden_refuses_text_coefficients_and_accepts_numpy_correlations():
    for bad in ("ab", "12", ["a", 1.0], {"x": 1.0}):
        with pytest.raises(varimp.InputError, match="coefficients must be a non-empty list"):
            datasets.olden_simulation(10, coefficients=bad)
    for bad in (np.nan, True, "0.2", np.float32(1.0)):
        with pytest.raises(varimp.InputError, match="correlation must be a number in"):
            datasets.olden_simulation(10, correlation=bad)
    # a numpy float is a real number: the same draw as the Python float of the same value
    X32, y32, _ = datasets.olden_simulation(200, correlation=np.float32(0.2), random_state=0)
    X, y, _ = datasets.olden_simulation(200, correlation=float(np.float32(0.2)), random_state=0)
    np.testing.assert_array_equal(X32, X)
    np.testing.assert_array_equal(y32, y)
    X64, _, _ = datasets.olden_simulation(20_000, correlation=np.float64(0.4), random_state=1)
    corr = np.corrcoef(X64, rowvar=False)[np.triu_indices(5, 1)]
    np.testing.assert_allclose(corr, 0.4, atol=0.03)


def test_state_switching_design_truth_ties_the_driven_features():
    # the final state is uniform (symmetric chain) and the final run covers step T - 1 - j with
    # probability persistence**j: expected label cells per driven feature sum(0.9**j, j < 3) / 2
    X, y, truth = datasets.state_switching(20_000, random_state=0)
    design = truth.attrs["feature_truth"]
    assert list(design.index) == ["x1", "x2", "x3"]
    np.testing.assert_allclose(design, [(1 + 0.9 + 0.81) / 2, (1 + 0.9 + 0.81) / 2, 0.0])
    # the mask's sample mean converges to it (1.309 / 1.379 in a draw of 1,000 is noise)
    np.testing.assert_allclose(truth.attrs["mask"].mean(axis=0).sum(axis=0), design, atol=0.03)
    _, _, three = datasets.state_switching(300, 8, 4, n_states=3, persistence=0.0, window=1,
                                           random_state=1)
    np.testing.assert_allclose(three.attrs["feature_truth"], [1 / 3, 1 / 3, 1 / 3, 0.0])


def test_spike_and_moving_box_design_truth():
    _, _, truth = datasets.spike(20_000, spike_probability=0.3, random_state=0)
    np.testing.assert_allclose(truth.attrs["feature_truth"], [0.3, 0.0, 0.0])
    np.testing.assert_allclose(truth.attrs["mask"].sum(axis=(0, 1)) / 20_000, [0.3, 0, 0],
                               atol=0.01)
    _, _, moving = datasets.box_sequences(50, 12, 3, layout="moving", steps=(0, 3),
                                          features=(0, 2), random_state=0)
    np.testing.assert_array_equal(moving.attrs["feature_truth"], [3.0, 0.0, 3.0])
    # every sample's box holds exactly 3 cells of x1 and of x3
    np.testing.assert_array_equal(moving.attrs["mask"].sum(axis=1), [[3, 0, 3]] * 50)
