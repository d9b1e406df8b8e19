"""Groups are one variable in every method: checked names, column order, one-hot blocks.

References are hand computations: the expected change of a linear model when a one-hot block
moves to another observed category, the range of a profile over categories, and the order of
the columns of X.
"""

import re
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import varimp
from varimp.engines import SwitchCategory
from varimp.validation import check_groups, one_hot_codes

NAMES = ("x1", "x2", "x3", "x4", "x5")


# -- check_groups: names and order -----------------------------------------------------------
def test_groups_take_the_place_of_their_first_column():
    groups = check_groups({"late": ["x5", "x3"], "pair": ["x4", "x2"]}, NAMES)
    assert list(groups) == ["x1", "pair", "late"]
    assert groups == {"x1": [0], "pair": [3, 1], "late": [4, 2]}
    assert list(check_groups(None, NAMES)) == list(NAMES)


def test_a_group_may_share_the_name_of_one_of_its_members():
    assert check_groups({"x2": ["x2", "x3"]}, NAMES) == {"x1": [0], "x2": [1, 2], "x4": [3],
                                                        "x5": [4]}


@pytest.mark.parametrize("groups, fragments", [
    ({"x2": ["x1", "x3"]}, ["group 'x2'", "feature 'x2'", "not one of its members"]),
    ({"a": ["x1", "x2"], "b": ["x2", "x3"]}, ["feature 'x2'", "groups 'a' and 'b'"]),
    ({"a": ["x1", 0]}, ["feature 'x1'", "twice in group 'a'"]),
    ({"a": ["x1", "x9"]}, ["unknown feature 'x9'"]),
    ({"a": []}, ["group 'a' is empty"]),
])
def test_clashing_groups_are_input_errors_naming_both(groups, fragments):
    with pytest.raises(varimp.InputError) as info:
        check_groups(groups, NAMES)
    for fragment in fragments:
        assert fragment in str(info.value)


def _linear_net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 1))


@pytest.mark.parametrize("method", ["connection_weights", "garson", "partial_derivatives",
                                    "perturbation", "profile", "permutation",
                                    "improved_stepwise_1", "improved_stepwise_2"])
def test_every_method_lists_variables_in_column_order(method):
    X = np.random.default_rng(0).normal(size=(60, 5))
    y = X[:, 0] - X[:, 3]
    result = varimp.importance(_linear_net(), X, y, method=method,
                               groups={"late": ["x5", "x3"], "pair": ["x4", "x2"]})
    assert list(result.scores.index) == ["x1", "pair", "late"]


# -- one-hot blocks -----------------------------------------------------------------------------
def one_hot_table(n=30000, seed=0):
    """x (standard normal) and a colour in {reference, red, blue} with shares .5, .3, .2; the
    reference column is dropped, so a row of zeros is the reference colour."""
    rng = np.random.default_rng(seed)
    colour = rng.choice(3, size=n, p=[0.5, 0.3, 0.2])
    X = np.column_stack([rng.normal(size=n), colour == 1, colour == 2]).astype(float)
    return pd.DataFrame(X, columns=["x", "red", "blue"]), colour


VALUES = np.array([0.0, 3.0, -1.0])  # the model's value of reference, red, blue


def valid_linear(X):
    """2 x + 3 red - blue, refusing any input that is not a one-hot colour."""
    X = np.asarray(X)
    block = X[..., 1:]
    assert np.all((block == 0) | (block == 1)) and np.all(block.sum(axis=-1) <= 1)
    return 2 * X[..., 0] + block @ VALUES[1:]


def test_one_hot_codes_of_blocks_with_and_without_reference():
    assert one_hot_codes(np.array([[0, 0], [1, 0], [0, 1]])).tolist() == [0, 1, 2]
    assert one_hot_codes(np.array([[1, 1], [0, 0]])) is None
    assert one_hot_codes(np.array([[0.5, 0], [0, 1]])) is None


def test_switch_category_moves_every_row_to_another_observed_category():
    codes = np.repeat([0, 1, 3], 4000)  # category 2 is never observed
    block = (codes[:, None] == np.arange(1, 4)).astype(float)
    moved = SwitchCategory((0, 1, 3))(block, np.random.default_rng(0))
    new = one_hot_codes(moved)
    assert new is not None and np.all(new != codes) and not np.any(new == 2)
    for own in (0, 1, 3):  # the two other categories, equally likely
        others = [c for c in (0, 1, 3) if c != own]
        share = np.mean(new[codes == own] == others[0])
        assert share == pytest.approx(0.5, abs=0.03)
    single = SwitchCategory((1,))(block[codes == 1], np.random.default_rng(0))
    np.testing.assert_array_equal(single, block[codes == 1])
    with pytest.raises(varimp.InputError, match="one-hot"):
        SwitchCategory((0, 1))(np.full((3, 2), 0.5), np.random.default_rng(0))


def test_perturbation_moves_a_one_hot_group_to_another_observed_category():
    X, colour = one_hot_table()
    result = varimp.perturbation(valid_linear, X, groups={"colour": ["red", "blue"]},
                                 noise=(0.1, 0.3), random_state=0)
    # each row moves to one of the two other colours with probability 1/2: the mean squared
    # change of the prediction is the mean over rows of the mean over the other colours
    change = np.array([np.mean([(VALUES[o] - VALUES[c]) ** 2 for o in range(3) if o != c])
                       for c in range(3)])
    expected = np.sqrt(change[colour].mean())
    assert result.scores["colour"] == pytest.approx(expected, rel=0.02)
    # x keeps Gaussian noise: |2| * level * std(x), averaged over the levels
    assert result.scores["x"] == pytest.approx(2 * 0.2 * X["x"].std(ddof=0), rel=0.02)
    assert result.details["perturbed_as"] == {"x": "noise", "colour": "category switch"}
    assert result.details["categories"] == {"colour": ["reference", "red", "blue"]}
    assert list(result.scores.index) == ["x", "colour"]


def test_a_numeric_group_keeps_noise_in_every_column():
    """Independent N(0, 0.2^2) noise in red and blue moves 2 x + 3 red - blue by
    3 e_red - e_blue, whose RMS is 0.2 sqrt(3^2 + 1^2) = 0.632; noise in red only would give
    0.6 (5% less), one draw shared by both columns 0.4. 30000 rows x 4 repeats: the Monte
    Carlo error of the RMS is sqrt(1 / (2 * 120000)) = 0.2%, so 1% is 5 standard errors."""
    X, _ = one_hot_table()
    X = X.assign(red=X["red"] + 0.5)  # no longer one-hot
    with pytest.warns(UserWarning, match="looks like a one-hot block that was scaled"):
        result = varimp.perturbation(lambda Z: Z @ np.array([2.0, 3.0, -1.0]), X,
                                     groups={"colour": ["red", "blue"]}, noise=0.2,
                                     scale="absolute", n_repeats=4, random_state=0)
    assert result.details["perturbed_as"]["colour"] == "noise"
    assert result.details["categories"] == {}
    assert result.scores["colour"] == pytest.approx(0.2 * np.sqrt(10), rel=0.01)
    assert result.scores["x"] == pytest.approx(0.2 * 2, rel=0.01)


def test_one_hot_sequences_stay_one_hot_at_every_cell():
    rng = np.random.default_rng(1)
    colour = rng.choice(3, size=(8000, 3), p=[0.5, 0.3, 0.2])
    X = np.concatenate([rng.normal(size=(8000, 3, 1)),
                        (colour[..., None] == np.arange(1, 3)).astype(float)], axis=2)

    def model(X):
        return valid_linear(X).sum(axis=1)

    result = varimp.perturbation(model, X, groups={"colour": ["x2", "x3"]}, noise=0.2,
                                 random_state=0)
    change = np.array([np.mean([(VALUES[o] - VALUES[c]) ** 2 for o in range(3) if o != c])
                       for c in range(3)])
    # every step moves independently: the variances of the three steps add
    expected = np.sqrt(change[colour].sum(axis=1).mean())
    assert result.scores["colour"] == pytest.approx(expected, rel=0.03)
    np.testing.assert_allclose(result.by_time["colour"], np.sqrt(change[colour].mean(axis=0)),
                               rtol=0.05)


def test_profile_sweeps_a_one_hot_group_over_its_categories():
    X, colour = one_hot_table(400)
    result = varimp.profile(valid_linear, X, groups={"colour": ["red", "blue"]}, steps=5)
    curves = result.details["curves"]
    swept = curves[curves["variable"] == "colour"]
    assert list(swept["x"].unique()) == ["red", "blue", "reference"]
    levels = result.details["levels"].set_index("level")
    # the colour is held at its most frequent category (the reference) at every level
    assert (levels[["red", "blue"]].to_numpy() == 0).all()
    np.testing.assert_allclose(levels["x"], np.quantile(X["x"], [0, 0.25, 0.5, 0.75, 1]))
    for label, row in levels.iterrows():
        curve = swept[swept["level"] == label]
        np.testing.assert_allclose(curve["prediction"], 2 * row["x"] + VALUES[[1, 2, 0]],
                                   atol=1e-12)
    assert result.scores["colour"] == pytest.approx(VALUES.max() - VALUES.min())
    assert result.scores["x"] == pytest.approx(2 * np.ptp(X["x"]))
    assert result.details["x"] == {"x": "value", "colour": "category"}


def test_profile_of_a_full_one_hot_block_has_no_reference_and_kmeans_holds_the_mode():
    rng = np.random.default_rng(2)
    x = np.concatenate([rng.normal(-5, 0.1, 60), rng.normal(5, 0.1, 40)])
    # left cluster mostly "a", right cluster mostly "c"; every row has exactly one 1
    code = np.concatenate([rng.choice(3, 60, p=[0.8, 0.15, 0.05]),
                           rng.choice(3, 40, p=[0.05, 0.15, 0.8])])
    X = np.column_stack([x, code[:, None] == np.arange(3)]).astype(float)
    weights = np.array([1.0, 4.0, -2.0, 0.5])
    result = varimp.profile(lambda Z: Z @ weights, X, levels="kmeans", n_clusters=2,
                            random_state=0, groups={"abc": ["x2", "x3", "x4"]})
    curves = result.details["curves"]
    assert list(curves[curves["variable"] == "abc"]["x"].unique()) == ["x2", "x3", "x4"]
    levels = result.details["levels"].set_index("level")
    modes = {bool(row["x1"] > 0): row[["x2", "x3", "x4"]].to_numpy().argmax()
             for _, row in levels.iterrows()}
    assert modes == {False: 0, True: 2}
    assert (levels[["x2", "x3", "x4"]].sum(axis=1) == 1).all()
    assert result.scores["abc"] == pytest.approx(4.0 - -2.0)


def test_derivatives_of_a_group_sum_its_members_derivatives():
    w = np.array([2.0, -0.5, 1.5, 0.25])
    X = np.random.default_rng(3).normal(size=(50, 4)) * [1.0, 3.0, 0.5, 2.0]
    result = varimp.partial_derivatives(lambda Z: Z @ w, X, groups={"g": ["x2", "x4"]})
    # a linear model's derivative is its weight at every sample; a group's is their sum
    np.testing.assert_allclose(result.scores, 50 * np.array([2.0, -0.25, 1.5]) ** 2, rtol=1e-6)
    scaled = varimp.partial_derivatives(lambda Z: Z @ w, X, groups={"g": ["x2", "x4"]},
                                        scale="std")
    std = X.std(axis=0)
    along = np.array([w[0] * std[0], w[1] * std[1] + w[3] * std[3], w[2] * std[2]])
    np.testing.assert_allclose(scaled.scores, 50 * along**2, rtol=1e-6)


def test_a_torch_network_sees_the_same_category_moves_as_a_function():
    X, _ = one_hot_table(500)
    torch.manual_seed(1)
    net = nn.Sequential(nn.Linear(3, 5, dtype=torch.float64), nn.Tanh(),
                        nn.Linear(5, 1, dtype=torch.float64))

    def function(Z):
        with torch.no_grad():
            return net(torch.as_tensor(np.asarray(Z, dtype=np.float64))).numpy()

    options = {"groups": {"colour": ["red", "blue"]}, "noise": 0.3, "random_state": 4}
    # the network goes through the engine's cached first layer, the function through full calls
    by_net = varimp.perturbation(net, X, **options)
    by_function = varimp.perturbation(function, X, **options)
    np.testing.assert_allclose(by_net.scores, by_function.scores, rtol=1e-10)
    assert by_net.scores["colour"] > 0


@pytest.mark.parametrize("method", ["improved_stepwise_1", "improved_stepwise_2"])
def test_improved_stepwise_holds_a_one_hot_group_at_its_most_frequent_category(method):
    """The block's column means (.3, .2) are no colour: the group is held at its most frequent
    category (the reference, a row of zeros, half the rows), a single feature at its mean."""
    X, colour = one_hot_table(3000, seed=1)
    rng = np.random.default_rng(2)
    y = valid_linear(X) + 0.1 * rng.normal(size=len(X))
    result = varimp.importance(valid_linear, X, y, method=method,
                               groups={"colour": ["red", "blue"]})  # valid_linear checks rows

    def mse(Z):
        return np.mean((y - valid_linear(Z)) ** 2)

    at_mode = X.assign(red=0.0, blue=0.0)  # the reference colour is the most common
    at_mean = X.assign(x=X["x"].mean())
    both = at_mode.assign(x=X["x"].mean())
    base = mse(X)
    assert np.bincount(colour).argmax() == 0
    if method == "improved_stepwise_1":
        expected = {"x": mse(at_mean) - base, "colour": mse(at_mode) - base}
    else:  # the smaller increase leaves first, the other is scored with it held
        first = min(("x", at_mean), ("colour", at_mode), key=lambda item: mse(item[1]))
        other = "colour" if first[0] == "x" else "x"
        expected = {first[0]: mse(first[1]) - base, other: mse(both) - mse(first[1])}
    assert result.scores["x"] == pytest.approx(expected["x"], rel=1e-9)
    assert result.scores["colour"] == pytest.approx(expected["colour"], rel=1e-9)
    assert result.details["held_at"] == {"x": "mean",
                                         "colour": "most frequent category (reference)"}
    np.testing.assert_allclose(result.details["means"], [X["x"].mean(), 0.0, 0.0])


def test_improved_stepwise_holds_a_one_hot_sequence_at_each_steps_most_frequent_category():
    rng = np.random.default_rng(3)
    shares = [[0.2, 0.7, 0.1], [0.6, 0.1, 0.3], [0.1, 0.2, 0.7]]  # modes: red, reference, blue
    colour = np.stack([rng.choice(3, size=4000, p=p) for p in shares], axis=1)
    X = np.concatenate([rng.normal(size=(4000, 3, 1)),
                        (colour[..., None] == np.arange(1, 3)).astype(float)], axis=2)

    def model(Z):
        return valid_linear(Z).sum(axis=1)

    y = model(X) + 0.1 * rng.normal(size=4000)
    result = varimp.improved_stepwise_1(model, X, y, groups={"colour": ["x2", "x3"]},
                                        by_time=False)
    held = X.copy()
    held[:, :, 1:] = [[1.0, 0.0], [0.0, 0.0], [0.0, 1.0]]
    base = np.mean((y - model(X)) ** 2)
    assert result.scores["colour"] == pytest.approx(np.mean((y - model(held)) ** 2) - base,
                                                    rel=1e-9)
    assert result.details["held_at"]["colour"] == "most frequent category at each step"


def test_a_get_dummies_frame_with_bool_columns_is_a_one_hot_group():
    """pandas.get_dummies gives bool columns: they are read as 0 and 1 (they used to be
    refused as non-numeric), named by their columns, and a group of them is one variable;
    improved stepwise 1 holds the block at its most frequent category, as by hand."""
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"depth": rng.normal(size=60),
                          "soil": rng.choice(["clay", "loam", "sand"], size=60, p=[.2, .5, .3])})
    X = pd.get_dummies(frame, columns=["soil"])
    assert all(pd.api.types.is_bool_dtype(t) for t in X.dtypes[1:])
    effect = np.array([0.0, 2.0, -1.0])

    def model(Z):
        return Z[:, 0] + Z[:, 1:] @ effect

    values = X.to_numpy(dtype=float)
    y = model(values) + 0.1 * rng.normal(size=60)
    soil = ["soil_clay", "soil_loam", "soil_sand"]
    result = varimp.improved_stepwise_1(model, X, y, groups={"soil": soil})
    assert result.scores.index.tolist() == ["depth", "soil"]
    held = values.copy()
    held[:, 1:] = [0.0, 1.0, 0.0]  # loam, the most frequent
    mse = np.mean((y - model(values)) ** 2)
    assert result.scores["soil"] == pytest.approx(np.mean((y - model(held)) ** 2) - mse,
                                                  rel=1e-12)


# -- derivatives and connection weights of a one-hot block: the moves a row can make --------------
def plain_linear(X):
    """2 x + 3 red - blue with no check: finite differences step off the one-hot rows."""
    X = np.asarray(X)
    return 2 * X[..., 0] + X[..., 1:] @ VALUES[1:]


def category_moves(colour, values, categories):
    """Each row's mean over the other categories c of (value_c - value_a)^2, by hand."""
    return np.array([np.mean([(values[c] - values[a]) ** 2 for c in categories if c != a])
                     for a in colour])


def test_derivatives_of_a_one_hot_group_average_the_category_moves_of_each_row():
    """A row in category a can move to c only (along e_c - e_a): the derivative is g_c - g_a
    (g of the reference 0), a linear model's w_c - w_a; its term is the mean over c of the
    square. Summing the members' derivatives (the move along (1, 1)) would score 3 - 1 = 2."""
    X, colour = one_hot_table(400)
    groups = {"colour": ["red", "blue"]}
    result = varimp.partial_derivatives(plain_linear, X, groups=groups)
    terms = category_moves(colour, VALUES, range(3))
    assert result.scores["colour"] == pytest.approx(terms.sum(), rel=1e-6)
    assert result.scores["x"] == pytest.approx(400 * 4.0, rel=1e-6)
    np.testing.assert_allclose(result.details["derivatives"]["colour"], np.sqrt(terms),
                               rtol=1e-6)
    assert result.details["category_moves"] == ["colour"]
    # per standard deviation, x is scaled and a category switch stays the unit
    scaled = varimp.partial_derivatives(plain_linear, X, groups=groups, scale="std")
    assert scaled.scores["colour"] == pytest.approx(terms.sum(), rel=1e-6)
    assert scaled.scores["x"] == pytest.approx(400 * (2 * X["x"].std(ddof=0)) ** 2, rel=1e-6)
    # a full block (no row of zeros): the reference is no category to move to
    full = X.assign(grey=(colour == 0).astype(float))[["x", "grey", "red", "blue"]]
    weights = np.array([2.0, 0.5, 3.0, -1.0])
    whole = varimp.partial_derivatives(lambda Z: Z @ weights, full,
                                       groups={"colour": ["grey", "red", "blue"]})
    by_hand = category_moves(colour, weights[1:], range(3)).sum()
    assert whole.scores["colour"] == pytest.approx(by_hand, rel=1e-6)


def test_connection_weights_of_a_one_hot_group_contrast_its_categories():
    """The largest change of category: max_c CW_c - min_c CW_c, with the reference (CW 0)
    when X holds a row of zeros; a numeric group still sums its members."""
    X, colour = one_hot_table(200)
    net = nn.Sequential(nn.Linear(3, 1, bias=False, dtype=torch.float64))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[2.0, 3.0, -1.0]]))
    result = varimp.connection_weights(net, X, groups={"colour": ["red", "blue"]})
    assert result.scores.to_dict() == pytest.approx({"x": 2.0, "colour": 3.0 - -1.0})
    only_members = X[colour != 0]  # no row of zeros: red and blue only
    contrast = varimp.connection_weights(net, only_members, groups={"colour": ["red", "blue"]})
    assert contrast.scores["colour"] == pytest.approx(4.0)
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[2.0, 3.0, 1.0]]))
    assert varimp.connection_weights(net, X, groups={"colour": ["red", "blue"]}).scores[
        "colour"] == pytest.approx(3.0 - 0.0)  # the reference is the lowest category
    assert varimp.connection_weights(net, only_members, groups={"colour": ["red", "blue"]}
                                     ).scores["colour"] == pytest.approx(3.0 - 1.0)
    numeric = X.assign(red=X["red"] + 0.5)  # two values, 0.5 and 1.5: a shifted one-hot block
    with pytest.warns(UserWarning, match="'colour' .* looks like a one-hot block that was"):
        assert varimp.connection_weights(net, numeric, groups={"colour": ["red", "blue"]}
                                         ).scores["colour"] == pytest.approx(3.0 + 1.0)
    assert varimp.connection_weights(net, groups={"colour": ["x2", "x3"]}).scores[
        "colour"] == pytest.approx(4.0)  # without X: numeric


def test_derivatives_of_a_one_hot_sequence_move_every_step_to_one_category():
    """Sequences: the whole-variable move sets every step to category c (the sum over steps of
    g_{t,c} - g_{t,a_t}; a c equal to every step's category moves nothing and is left out);
    by_time holds each cell's own moves."""
    rng = np.random.default_rng(4)
    colour = rng.choice(3, size=(200, 3), p=[0.5, 0.3, 0.2])
    colour[:50] = colour[:50, :1]  # some rows keep one colour at every step
    X = np.concatenate([rng.normal(size=(200, 3, 1)),
                        (colour[..., None] == np.arange(1, 3)).astype(float)], axis=2)
    result = varimp.partial_derivatives(lambda Z: plain_linear(Z).sum(axis=1), X,
                                        groups={"colour": ["x2", "x3"]})
    whole = []
    for row in colour:
        moves = [sum(VALUES[c] - VALUES[a] for a in row) for c in range(3)
                 if np.any(row != c)]
        whole.append(np.mean(np.square(moves)))
    assert result.scores["colour"] == pytest.approx(np.sum(whole), rel=1e-6)
    cells = [category_moves(colour[:, t], VALUES, range(3)).sum() for t in range(3)]
    np.testing.assert_allclose(result.by_time["colour"], cells, rtol=1e-6)
    np.testing.assert_allclose(result.by_time["x1"], 200 * 4.0, rtol=1e-6)


def test_a_one_hot_group_whose_effects_cancel_ranks_first_in_every_method():
    """f = temp + 4 forest - 4 field + 0 urban + 0.2 rain: summing the members' derivatives
    or weights gave habitat 0; the category moves give it the largest effect, as every other
    method finds."""
    rng = np.random.default_rng(0)
    n = 300
    dummies = np.eye(3)[rng.integers(0, 3, n)]
    X = pd.DataFrame({"temp": rng.normal(size=n), "forest": dummies[:, 0],
                      "field": dummies[:, 1], "urban": dummies[:, 2], "rain": rng.normal(size=n)})
    w = np.array([1.0, 4.0, -4.0, 0.0, 0.2])
    net = nn.Sequential(nn.Linear(5, 1, bias=False, dtype=torch.float64))
    with torch.no_grad():
        net[0].weight.copy_(torch.from_numpy(w[None]))
    y = X.to_numpy() @ w + 0.1 * rng.normal(size=n)
    groups = {"habitat": ["forest", "field", "urban"]}
    for method in ("connection_weights", "garson", "partial_derivatives", "perturbation",
                   "profile", "permutation", "improved_stepwise_1"):
        result = varimp.importance(net, X, y, method=method, groups=groups, random_state=0)
        assert result.ranks["habitat"] == 1, method
    cw = varimp.connection_weights(net, X, groups=groups)
    assert cw.scores.to_dict() == pytest.approx({"temp": 1.0, "habitat": 8.0, "rain": 0.2})
    pd_result = varimp.partial_derivatives(net, X, groups=groups)
    codes = dummies.argmax(axis=1)
    by_hand = category_moves(codes, w[1:4], range(3)).sum()  # 40 per forest/field row, 16 urban
    assert pd_result.scores["habitat"] == pytest.approx(by_hand, rel=1e-9)
    assert by_hand == pytest.approx(40 * np.sum(codes < 2) + 16 * np.sum(codes == 2))


def test_a_scaled_one_hot_group_is_read_as_numeric_with_one_warning_naming_it():
    """A one-hot block that went through a StandardScaler holds two values per column, not 0
    and 1: it is read as numeric columns (connection weights summed, as by hand), with one
    UserWarning per call naming the group and how to pass it; a 0/1 block or a numeric group
    gets none."""
    from sklearn.preprocessing import StandardScaler

    X, colour = one_hot_table(300)
    scaled = pd.DataFrame(StandardScaler().fit_transform(X), columns=X.columns)
    net = nn.Sequential(nn.Linear(3, 1, bias=False, dtype=torch.float64))
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[2.0, 3.0, -3.0]]))
    groups = {"colour": ["red", "blue"]}
    with pytest.warns(UserWarning) as caught:
        result = varimp.connection_weights(net, scaled, groups=groups)
    messages = [str(w.message) for w in caught if "scaled" in str(w.message)]
    assert len(messages) == 1
    assert re.search(r"group 'colour' \(member values -0\.\d+ and \d\.\d+, \.\.\.\) looks like "
                     r"a one-hot block that was scaled.*opposite categories can cancel.*pass "
                     r"the block as 0/1, unscaled", messages[0])
    assert result.scores["colour"] == pytest.approx(3.0 - 3.0, abs=1e-12)  # summed: cancels
    assert result.details["category_moves"] == []
    with pytest.warns(UserWarning, match="group 'colour' .* looks like a one-hot block"):
        varimp.partial_derivatives(net, scaled, groups=groups, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert varimp.connection_weights(net, X, groups=groups).scores["colour"] == \
            pytest.approx(3.0 - -3.0)  # the 0/1 block: its categories' contrast
        varimp.connection_weights(net, scaled, groups={"xr": ["x", "red"]})  # numeric group
    # no mark of a scaled block: one member, a constant member, too few rows for the pattern
    codes = np.array([1.0, 2.0] * 5)
    assert varimp.validation.scaled_one_hot(codes[:, None]) is None
    assert varimp.validation.scaled_one_hot(np.c_[codes, np.full(10, 3.0)]) is None
    assert varimp.validation.scaled_one_hot(np.array([[20.1, 0.4], [13.5, 0.9]])) is None
    assert varimp.validation.scaled_one_hot(scaled[["red", "blue"]].to_numpy()) is not None
