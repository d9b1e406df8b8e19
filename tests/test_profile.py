"""Lek's profile against closed forms, an unbatched loop of model calls and hand-made clusters."""

import numpy as np
import pandas as pd
import pytest
import torch

import varimp

QUANTILES = [0.0, 0.25, 0.5, 0.75, 1.0]
LABELS = ["min", "q25", "median", "q75", "max"]


def interaction(X):
    """f(x) = 2 x1 + x2^2 + x1 x2 + 0 x3: the levels of x2 change the slope of x1."""
    return 2 * X[:, 0] + X[:, 1] ** 2 + X[:, 0] * X[:, 1] + 0 * X[:, 2]


@pytest.fixture
def table():
    """Columns are shuffled arithmetic progressions: min and quartiles are known exactly."""
    rng = np.random.default_rng(1)
    start, stride = np.array([1.0, 0.5, -2.0]), np.array([0.25, 0.5, 1.0])
    X = np.column_stack([start[j] + stride[j] * rng.permutation(9) for j in range(3)])
    levels = start + stride * np.array([0, 2, 4, 6, 8])[:, None]  # min, q25, median, q75, max
    return X, levels


def test_curves_of_a_known_function_equal_the_closed_form(table):
    X, levels = table
    result = varimp.profile(interaction, X, steps=7)
    curves = result.details["curves"]
    assert list(curves.columns) == ["variable", "level", "x", "prediction", "output"]
    assert len(curves) == 3 * 5 * 7
    lo, hi = levels[0], levels[-1]
    for (variable, level), curve in curves.groupby(["variable", "level"]):
        j, row = int(variable[1]) - 1, levels[LABELS.index(level)]
        grid = np.linspace(lo[j], hi[j], 7)
        expected = interaction(np.where(np.arange(3) == j, grid[:, None], row))
        np.testing.assert_allclose(curve["x"], grid, rtol=0, atol=1e-12)
        np.testing.assert_allclose(curve["prediction"], expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(result.details["levels"][["x1", "x2", "x3"]], levels, atol=1e-12)


def test_importance_is_the_range_of_the_median_curve(table):
    X, levels = table
    result = varimp.profile(interaction, X)
    (lo1, lo2, _), (hi1, hi2, _) = levels[0], levels[-1]
    med1, med2 = levels[2, 0], levels[2, 1]
    # all values positive: f grows with the level of the held input, so the median curve is the
    # curve at the median level, and each curve is monotone along its sweep
    expected = {
        "x1": (2 + med2) * (hi1 - lo1),
        "x2": (hi2**2 + med1 * hi2) - (lo2**2 + med1 * lo2),
        "x3": 0.0,
    }
    np.testing.assert_allclose(result.scores, pd.Series(expected), rtol=1e-12, atol=1e-12)
    assert (result.scores >= 0).all()
    ranges = result.details["level_ranges"].set_index(["variable", "level"])["range"]
    for level, row in zip(LABELS, levels, strict=True):
        assert ranges["x1", level] == pytest.approx((2 + row[1]) * (hi1 - lo1), abs=1e-12)
    median = result.details["median_curve"]
    x1 = median[median["variable"] == "x1"]
    np.testing.assert_allclose(x1["prediction"], 2 * x1["x"] + med2**2 + x1["x"] * med2,
                               atol=1e-12)


def test_given_levels_as_dict_array_and_frame(table):
    X, _ = table
    given = {"low": [1.0, 0.5, 0.0], "high": [2.0, 3.0, 1.0], "mid": [1.5, 1.0, 5.0]}
    rows = np.array(list(given.values()))
    by_dict = varimp.profile(interaction, X, levels=given, steps=5)
    by_array = varimp.profile(interaction, X, levels=rows, steps=5)
    by_frame = varimp.profile(interaction, X, steps=5, levels=pd.DataFrame(
        rows[:, ::-1], columns=["x3", "x2", "x1"], index=list(given)))
    lo, hi = X.min(axis=0), X.max(axis=0)
    curves = by_dict.details["curves"]
    for label, row in given.items():
        x2 = curves[(curves["variable"] == "x2") & (curves["level"] == label)]
        grid = np.linspace(lo[1], hi[1], 5)
        np.testing.assert_allclose(x2["prediction"], 2 * row[0] + grid**2 + row[0] * grid,
                                   atol=1e-12)
    # x1 at the three levels of x2 (0.5, 3, 1): slopes 2.5, 5, 3, median slope 3
    assert by_dict.scores["x1"] == pytest.approx(3 * (hi[0] - lo[0]), abs=1e-12)
    assert list(by_array.details["curves"]["level"].unique()) == ["level 1", "level 2", "level 3"]
    pd.testing.assert_series_equal(by_dict.scores, by_array.scores)
    pd.testing.assert_series_equal(by_dict.scores, by_frame.scores)
    assert by_dict.details["level_kind"] == "given"


def test_a_group_is_swept_along_its_members_ranges(table):
    X, levels = table

    def linear(X):
        return 2 * X[:, 0] + 3 * X[:, 1] - X[:, 2]

    result = varimp.profile(linear, X, groups={"pair": ["x2", "x3"]}, steps=5)
    lo, hi = levels[0], levels[-1]
    fraction = np.linspace(0, 1, 5)
    curves = result.details["curves"]
    pair = curves[(curves["variable"] == "pair") & (curves["level"] == "q25")]
    expected = 2 * levels[1, 0] + 3 * (lo[1] + fraction * (hi[1] - lo[1])) \
        - (lo[2] + fraction * (hi[2] - lo[2]))
    np.testing.assert_allclose(pair["x"], fraction, atol=1e-15)
    np.testing.assert_allclose(pair["prediction"], expected, atol=1e-12)
    assert result.scores["pair"] == pytest.approx(abs(3 * (hi[1] - lo[1]) - (hi[2] - lo[2])))
    assert result.scores["x1"] == pytest.approx(2 * (hi[0] - lo[0]))
    assert result.details["x"] == {"pair": "fraction", "x1": "value"}


def _mlp():
    torch.manual_seed(3)
    return torch.nn.Sequential(torch.nn.Linear(3, 6), torch.nn.Tanh(), torch.nn.Linear(6, 2))


@pytest.mark.parametrize("batch_size", [1, 7, None])
def test_torch_mlp_curves_equal_an_unbatched_loop(batch_size):
    model = _mlp()
    X = np.random.default_rng(2).normal(size=(40, 3))
    result = varimp.profile(model, X, steps=6, batch_size=batch_size, output=1)
    levels = np.quantile(X, QUANTILES, axis=0)
    expected = []
    with torch.no_grad():
        for j in range(3):
            for row in levels:
                for value in np.linspace(X[:, j].min(), X[:, j].max(), 6):
                    cell = row.copy()
                    cell[j] = value
                    out = model(torch.tensor(cell[None], dtype=torch.float32))
                    expected.append(out[0, 1].item())
    curves = result.details["curves"]
    np.testing.assert_allclose(curves["prediction"], expected, rtol=0, atol=1e-6)
    assert (curves["output"] == 1).all()


def test_several_outputs_score_the_mean_of_their_median_curve_ranges(table):
    X, levels = table

    def two(X):
        return np.column_stack([interaction(X), -3 * X[:, 2]])

    both = varimp.profile(two, X)
    first = varimp.profile(two, X, output=0)
    second = varimp.profile(two, X, output=1)
    pd.testing.assert_series_equal(both.scores, (first.scores + second.scores) / 2)
    assert second.scores["x3"] == pytest.approx(3 * np.ptp(X[:, 2]))
    # x3 only moves output 1: its score is half of 3 * range(x3) under the mean rule
    assert both.scores["x3"] == pytest.approx(1.5 * (levels[-1, 2] - levels[0, 2]))
    per_output = both.details["per_output"]
    assert per_output.shape == (3, 2) and list(per_output.index) == ["x1", "x2", "x3"]
    assert list(per_output.columns) == ["output 0", "output 1"]
    np.testing.assert_allclose(per_output["output 0"], first.scores, atol=1e-12)
    np.testing.assert_allclose(per_output["output 1"], second.scores, atol=1e-12)
    both_listed = varimp.profile(two, X, output=[1, 0])
    pd.testing.assert_series_equal(both_listed.scores, both.scores)
    assert both.kind == "magnitude"


# -- sequences -------------------------------------------------------------------------------
WEIGHTS = np.array([0.5, 1.0, 2.0, 4.0])


def weighted(X):
    """One prediction per sequence: sum_t w_t (2 x1 + x2^2), x3 ignored."""
    return (WEIGHTS * (2 * X[:, :, 0] + X[:, :, 1] ** 2 + 0 * X[:, :, 2])).sum(axis=1)


def weighted_two(X):
    """Two features: sum_t w_t (x1 + x2)."""
    return (WEIGHTS * (X[:, :, 0] + X[:, :, 1])).sum(axis=1)


def per_step(X):
    """Two outputs per step: out[t, k] = (k + 1) * sum_{s <= t} w_s (2 x1 + x2^2)."""
    cumulative = np.cumsum(WEIGHTS * (2 * X[:, :, 0] + X[:, :, 1] ** 2), axis=1)
    return np.stack([cumulative, 2 * cumulative], axis=-1)


@pytest.fixture
def sequences():
    return np.random.default_rng(4).uniform(0.5, 2.0, size=(30, 4, 3))


def test_sequence_curves_scores_and_cells_equal_the_closed_form(sequences):
    X = sequences
    result = varimp.profile(weighted, X, steps=5)
    lo, hi = X.reshape(-1, 3).min(axis=0), X.reshape(-1, 3).max(axis=0)
    levels = np.quantile(X.reshape(-1, 3), QUANTILES, axis=0)
    total = WEIGHTS.sum()
    curves = result.details["curves"]
    grid = np.linspace(lo[0], hi[0], 5)
    for label, row in zip(LABELS, levels, strict=True):
        x1 = curves[(curves["variable"] == "x1") & (curves["level"] == label)]
        np.testing.assert_allclose(x1["prediction"], total * (2 * grid + row[1] ** 2), atol=1e-10)
    expected = [2 * total * (hi[0] - lo[0]), total * (hi[1] ** 2 - lo[1] ** 2), 0.0]
    np.testing.assert_allclose(result.scores, expected, rtol=1e-12, atol=1e-12)
    cells = np.column_stack([2 * WEIGHTS * (hi[0] - lo[0]),
                             WEIGHTS * (hi[1] ** 2 - lo[1] ** 2), np.zeros(4)])
    np.testing.assert_allclose(result.by_time.to_numpy(), cells, rtol=1e-12, atol=1e-12)
    assert result.by_time.index.name == "time_step"
    # the other cells sit at their median over samples
    median = np.median(X, axis=0)
    cell = result.details["cell_curves"]
    t2 = cell[(cell["time_step"] == 2) & (cell["variable"] == "x2")]
    rest = WEIGHTS * (2 * median[:, 0] + median[:, 1] ** 2)
    x2 = np.linspace(lo[1], hi[1], 5)
    expected = rest.sum() - rest[2] + WEIGHTS[2] * (2 * median[2, 0] + x2**2)
    np.testing.assert_allclose(t2["prediction"], expected, atol=1e-10)


class LastStepGRU(torch.nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(7)
        self.gru = torch.nn.GRU(2, 4, batch_first=True)
        self.head = torch.nn.Linear(4, 1)

    def forward(self, x):
        return self.head(self.gru(x)[0][:, -1])


@pytest.mark.parametrize("batch_size", [2, 5, None])
def test_gru_sweeps_and_cells_equal_an_unbatched_loop(batch_size):
    model = LastStepGRU()
    X = np.random.default_rng(8).normal(size=(12, 3, 2))
    result = varimp.profile(model, X, steps=3, batch_size=batch_size)
    flat = X.reshape(-1, 2)
    grids = [np.linspace(flat[:, j].min(), flat[:, j].max(), 3) for j in range(2)]

    def call(sequence):
        with torch.no_grad():
            return model(torch.tensor(sequence[None], dtype=torch.float32)).item()

    expected = []
    for j in range(2):
        for row in np.quantile(flat, QUANTILES, axis=0):
            for value in grids[j]:
                sequence = np.tile(row, (3, 1))
                sequence[:, j] = value
                expected.append(call(sequence))
    np.testing.assert_allclose(result.details["curves"]["prediction"], expected, atol=1e-6)
    median, cells = np.median(X, axis=0), []
    for t in range(3):
        for j in range(2):
            for value in grids[j]:
                sequence = median.copy()
                sequence[t, j] = value
                cells.append(call(sequence))
    np.testing.assert_allclose(result.details["cell_curves"]["prediction"], cells, atol=1e-6)


def test_per_step_outputs_summed_or_at_output_step(sequences):
    X = sequences
    lo, hi = X.reshape(-1, 3).min(axis=0), X.reshape(-1, 3).max(axis=0)
    span = 2 * (hi[0] - lo[0])
    at_step = varimp.profile(per_step, X, output=1, output_step=2, steps=4)
    # output 1 at step 2 is 2 * sum_{s <= 2} w_s (2 x1 + x2^2): later cells do not count
    assert at_step.scores["x1"] == pytest.approx(2 * WEIGHTS[:3].sum() * span)
    np.testing.assert_allclose(at_step.by_time["x1"], 2 * span * WEIGHTS * [1, 1, 1, 0],
                               atol=1e-12)
    summed = varimp.profile(per_step, X, steps=4, by_time=False)
    # summed over the 4 steps, cell s counts (4 - s) times; the mean of outputs 1x and 2x is 1.5x
    assert summed.scores["x1"] == pytest.approx(1.5 * span * (WEIGHTS * [4, 3, 2, 1]).sum())
    assert summed.by_time is None and "cell_curves" not in summed.details


def test_kmeans_levels_are_the_centres_of_separated_clusters():
    rng = np.random.default_rng(5)
    centres = np.array([[0.0, 10.0, -5.0], [8.0, 0.0, 5.0], [-8.0, -10.0, 0.0]])
    sizes = [12, 30, 20]
    X = np.vstack([c + rng.normal(scale=0.1, size=(s, 3)) for c, s in zip(centres, sizes,
                                                                            strict=True)])
    means = [X[:12].mean(axis=0), X[12:42].mean(axis=0), X[42:].mean(axis=0)]
    result = varimp.profile(interaction, X, levels="kmeans", n_clusters=3, random_state=0)
    levels = result.details["levels"]
    assert list(levels["level"]) == ["cluster 1", "cluster 2", "cluster 3"]
    np.testing.assert_allclose(levels[["x1", "x2", "x3"]], [means[1], means[2], means[0]],
                               atol=1e-12)
    again = varimp.profile(interaction, X, levels="kmeans", n_clusters=3, random_state=0)
    pd.testing.assert_frame_equal(result.details["curves"], again.details["curves"])
    # scikit-learn's KMeans on the standardised rows, from any seed, ordered by cluster size
    from sklearn.cluster import KMeans

    mean, sd = X.mean(axis=0), X.std(axis=0)
    fitted = KMeans(n_clusters=3, n_init=1, random_state=9).fit((X - mean) / sd)
    order = np.argsort(-np.bincount(fitted.labels_))
    np.testing.assert_allclose(fitted.cluster_centers_[order] * sd + mean, levels.iloc[:, 1:],
                               atol=1e-12)


def test_kmeans_levels_scale_the_inputs_unlike_r_and_raw_centres_reproduce_r():
    """R's ``lekprofile(group_vals=k)`` clusters the raw inputs: with x2 in units 1000 times
    larger, x2 alone decides R's clusters; varimp's scaled clusters follow the two groups that
    both inputs separate. Raw-unit centres passed as levels are R's grouping, used as given."""
    from sklearn.cluster import KMeans

    rng = np.random.default_rng(3)
    group = np.repeat([0, 1], 30)  # two groups apart in x1 and x3, not in x2 (in 1000s)
    X = np.c_[np.where(group == 0, -2.5, 2.5) + rng.normal(scale=0.5, size=60),
              1000.0 * rng.normal(size=60), group + rng.normal(scale=0.1, size=60)]
    scaled = varimp.profile(interaction, X, levels="kmeans", n_clusters=2, random_state=0)
    got = scaled.details["levels"][["x1", "x2", "x3"]].to_numpy()
    np.testing.assert_allclose(sorted(got[:, 0]), [X[group == 0, 0].mean(),
                                                   X[group == 1, 0].mean()], atol=1e-12)
    raw = KMeans(2, n_init=10, random_state=0).fit(X)  # R's grouping: split by x2 alone
    assert abs(raw.cluster_centers_[:, 0]).max() < 1.0  # the x1 groups mixed in both
    assert np.ptp(raw.cluster_centers_[:, 1]) > 1000.0
    given = varimp.profile(interaction, X, levels=raw.cluster_centers_)
    np.testing.assert_allclose(given.details["levels"][["x1", "x2", "x3"]],
                               raw.cluster_centers_, atol=1e-12)


def test_kmeans_levels_of_sequences_cluster_the_rows_of_every_step():
    rng = np.random.default_rng(10)
    X = rng.normal(scale=0.05, size=(20, 4, 2))
    X[:, ::2] += [5.0, 0.0]  # even steps sit near (5, 0), odd steps near (0, 3)
    X[:, 1::2] += [0.0, 3.0]
    result = varimp.profile(weighted_two, X, levels="kmeans", n_clusters=2, random_state=0)
    levels = result.details["levels"].set_index("level")
    expected = sorted([X[:, ::2].reshape(-1, 2).mean(axis=0).tolist(),
                       X[:, 1::2].reshape(-1, 2).mean(axis=0).tolist()])
    np.testing.assert_allclose(sorted(levels.to_numpy().tolist()), expected, atol=1e-12)
    lo = X.reshape(-1, 2).min(axis=0)
    curves = result.details["curves"]
    first = curves[(curves["variable"] == "x2") & (curves["level"] == "cluster 1")]
    held = levels.loc["cluster 1", "x1"]  # x1 held at the centre at every step
    np.testing.assert_allclose(first["prediction"].iloc[0], WEIGHTS.sum() * (held + lo[1]))


def test_model_and_data_are_unchanged():
    model = _mlp().train()
    model[0].weight.requires_grad_(False)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    X = np.random.default_rng(6).normal(size=(25, 3))
    frame = pd.DataFrame(X.copy(), columns=["a", "b", "c"])
    X_before, frame_before = X.copy(), frame.copy()
    np_state, torch_state = np.random.get_state(), torch.get_rng_state()  # noqa: NPY002
    varimp.profile(model, X, levels="kmeans", n_clusters=4, random_state=1)
    result = varimp.profile(model, frame, output=0)
    assert list(result.scores.index) == ["a", "b", "c"]
    with pytest.raises(varimp.InputError):
        varimp.profile(model, X, output=5)
    assert model.training and not model[0].weight.requires_grad
    assert model[2].weight.requires_grad
    for key, value in model.state_dict().items():
        assert torch.equal(value, state[key])
    np.testing.assert_array_equal(X, X_before)
    pd.testing.assert_frame_equal(frame, frame_before)
    assert torch.equal(torch.get_rng_state(), torch_state)
    after = np.random.get_state()  # noqa: NPY002 - the global state must stay put
    assert after[0] == np_state[0] and np.array_equal(after[1], np_state[1])


def test_importance_dispatches_to_profile(table):
    X, _ = table
    assert "profile" in varimp.available_methods()
    direct = varimp.profile(interaction, X, steps=8)
    routed = varimp.importance(interaction, X, method="profile", steps=8)
    pd.testing.assert_frame_equal(direct.details["curves"], routed.details["curves"])
    restored = varimp.Importance.from_json(routed.to_json())
    pd.testing.assert_series_equal(restored.scores, routed.scores, check_names=False,
                                   check_index_type=False)


@pytest.mark.parametrize("options, fragment", [
    ({"steps": 1}, "steps must be an integer >= 2; received 1"),
    ({"steps": 4.0}, "steps must be an integer >= 2; received 4.0"),
    ({"steps": True}, "received True"),
    ({"levels": "deciles"}, "received 'deciles'"),
    ({"levels": np.ones((5, 2))}, "shape (n_levels, 3); received shape (5, 2)"),
    ({"levels": [1.0, 2.0]}, "received shape (1, 2)"),
    ({"levels": {"a": [1.0, 2.0, 3.0], "b": [1.0]}}, "levels['b'] must give one value per "
                                                     "feature (3); received 1"),
    ({"levels": np.full((2, 3), np.nan)}, "received NaN"),
    ({"levels": pd.DataFrame({"x1": [0.0], "x2": [1.0]})}, "received columns ['x1', 'x2']"),
    ({"levels": "kmeans", "n_clusters": 0}, "n_clusters must be an integer >= 1; received 0"),
    ({"levels": "kmeans", "n_clusters": 10}, "at most the number of distinct rows of X (9); "
                                             "received 10"),
    ({"output_step": 1}, "output_step must be None or 0: the model predicts one step"),
    ({"output": 2}, "received 2"),
    ({"batch_size": 0}, "batch_size must be an integer >= 1; received 0"),
    ({"groups": {"g": ["x9"]}}, "unknown feature 'x9'"),
])
def test_bad_options_raise_input_error(table, options, fragment):
    X, _ = table
    with pytest.raises(varimp.InputError) as info:
        varimp.profile(interaction, X, **options)
    assert fragment in str(info.value)


def test_the_columns_of_a_dataframe_y_name_the_outputs(table):
    X, levels = table

    def two(X):
        return np.column_stack([interaction(X), -3 * X[:, 2]])

    Y = pd.DataFrame(two(X), columns=["flow", "temp"])
    named = varimp.profile(two, X, Y, output="temp")
    # the second output, -3 x3, swept over the range of x3: 3 * (max - min) whatever the levels
    assert named.scores["x3"] == pytest.approx(3 * (levels[-1, 2] - levels[0, 2]))
    pd.testing.assert_series_equal(named.scores, varimp.profile(two, X, output=1).scores)
    assert list(named.details["per_output"].columns) == ["temp"]
    assert list(varimp.profile(two, X, Y).details["per_output"].columns) == ["flow", "temp"]
    with pytest.raises(varimp.InputError, match=r"output names are \['flow', 'temp'\]\); "
                                                r"received str 'rain'"):
        varimp.profile(two, X, Y, output="rain")


def test_cell_sweeps_hold_a_one_hot_group_at_its_most_frequent_category_at_each_step():
    """by_time on sequences: while a cell is swept, a one-hot block sits at its most frequent
    category at each step (the column medians would make [0, 0, 0] or [0, 1, 1]); a model
    that refuses invalid one-hot input runs, and the held blocks are the modes by hand."""
    rng = np.random.default_rng(0)
    n, T = 80, 5
    cat = np.column_stack([rng.choice(3, size=n, p=p) for p in
                           ([0.2, 0.5, 0.3], [0.45, 0.1, 0.45], [0.6, 0.2, 0.2],
                            [0.3, 0.3, 0.4], [0.1, 0.2, 0.7])])
    X = np.concatenate([rng.normal(size=(n, T, 2)), np.eye(3)[cat]], axis=-1)
    seen = []

    def model(x):
        block = x[..., 2:]
        if not (((block == 0) | (block == 1)).all() and (block.sum(axis=-1) == 1).all()):
            raise ValueError("invalid one-hot input")
        seen.append(x.copy())
        return x[:, -1, :1] + (block @ np.array([0.0, 1.0, 3.0])).sum(axis=1, keepdims=True)

    result = varimp.profile(model, X, groups={"cat": [2, 3, 4]}, by_time=True)
    modes = [np.bincount(cat[:, t], minlength=3).argmax() for t in range(T)]
    held = np.eye(3)[modes]  # (T, 3)
    cell_rows = np.concatenate(seen)
    cell_rows = cell_rows[-(T * (2 * 12 + 3)):]  # the cell sweeps come last
    swept_cat = (np.abs(cell_rows[..., 2:] - held[None]).sum(axis=-1) > 0)  # (rows, T)
    assert (swept_cat.sum(axis=1) <= 1).all()  # at most the swept step leaves the mode
    # the sweep of "cat" at step t ranges over the category effects: 3 - 0
    np.testing.assert_allclose(result.by_time["cat"], np.full(T, 3.0), rtol=1e-12)
    # x1 moves the prediction at the last step only, by its range
    expected = np.zeros(T)
    expected[-1] = np.ptp(X[:, :, 0])
    np.testing.assert_allclose(result.by_time["x1"], expected, rtol=1e-12, atol=1e-12)


def test_logits_are_swept_as_probabilities():
    """The curves of a logits network are those of the same network with a Softmax: the
    probabilities, which a softmax identifies, not the logits, which it does not."""
    model = _mlp().double()
    X = np.random.default_rng(3).normal(size=(60, 3))
    logits = varimp.profile(model, X, output_kind="logits", steps=6)
    softmax = varimp.profile(torch.nn.Sequential(*model, torch.nn.Softmax(dim=-1)), X, steps=6)
    np.testing.assert_allclose(logits.scores, softmax.scores, rtol=1e-5)
    np.testing.assert_allclose(logits.details["curves"]["prediction"],
                               softmax.details["curves"]["prediction"], rtol=1e-5)
    assert logits.details["prediction"] == "probability"
    assert logits.details["explained"] == "class probabilities (softmax of the logits)"
    # by hand at one point: the softmax of the logits of the min level, x1 at its minimum
    first = logits.details["curves"].iloc[0]
    row = X.min(axis=0)
    with torch.no_grad():
        z = model(torch.from_numpy(row[None])).numpy()[0]
    assert first["prediction"] == pytest.approx(np.exp(z[0]) / np.exp(z).sum(), rel=1e-9)
    one = torch.nn.Sequential(*model[:2], torch.nn.Linear(6, 1).double())
    sigmoid = varimp.profile(torch.nn.Sequential(*one, torch.nn.Sigmoid()), X, steps=6)
    np.testing.assert_allclose(varimp.profile(one, X, output_kind="logits", steps=6).scores,
                               sigmoid.scores, rtol=1e-5)


def test_a_constant_column_has_flat_curves_and_exactly_zero_range():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))
    X[:, 2] = 0.1  # a value whose float sums round
    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Linear(3, 16), torch.nn.Tanh(),
                                torch.nn.Linear(16, 2)).eval()
    with pytest.warns(UserWarning, match=r"'x3' holds one value in every sample: profile "
                                         r"cannot measure a constant input"):
        result = varimp.profile(model, X)
    assert result.scores["x3"] == 0.0 and result.scores[["x1", "x2"]].gt(0).all()
    curves = result.details["curves"].query("variable == 'x3'")
    assert curves["x"].eq(0.1).all()
    assert curves.groupby(["level", "output"])["prediction"].nunique().eq(1).all()
    S = rng.normal(size=(20, 4, 2))
    S[:, :, 0] = 3.0
    with pytest.warns(UserWarning, match=r"'x1' holds one value"):
        seq = varimp.profile(lambda Z: Z[:, :, 0].sum(axis=1) * Z[:, :, 1].sum(axis=1), S)
    assert seq.scores["x1"] == 0.0 and (seq.by_time["x1"] == 0.0).all()
    assert (seq.by_time["x2"] > 0).all()


def test_a_function_that_squeezes_one_row_is_told_to_keep_the_sample_axis():
    """varimp never calls a model on one row of its own accord: a function ending in
    .squeeze() is profiled as the same function without it; called on one row (a batch of one
    left over), it is told that it squeezes its output."""
    X = np.random.default_rng(1).normal(size=(30, 3))
    w = np.array([[2.0, 0.5], [1.0, 0.0], [0.0, 0.0]])
    for weights in (w[:, :1], w):
        squeezed = varimp.profile(lambda Z, v=weights: np.tanh(Z @ v).squeeze(), X)
        kept = varimp.profile(lambda Z, v=weights: np.tanh(Z @ v), X)
        np.testing.assert_array_equal(squeezed.scores, kept.scores)
    with pytest.raises(varimp.ModelError, match=r"one prediction per sample \(1\); it returned "
                                                r"an array of shape \(\): it seems to squeeze"):
        varimp.permutation(lambda Z: np.tanh(Z @ w[:, :1]).squeeze(), X[:2], X[:2, 0],
                           batch_size=1)
    with pytest.raises(varimp.ModelError, match=r"shape \(2,\): it seems to squeeze its output"):
        varimp.profile(lambda Z: np.tanh(Z @ w).squeeze(), X[:3], batch_size=1)
    calls = []

    def two_then_one(Z):  # two outputs on the first call (one row), then one
        calls.append(1)
        return np.tanh(Z @ (w if len(calls) == 1 else w[:, :1]))

    with pytest.raises(varimp.ModelError, match=r"returned 2 output\(s\) per sample on an "
                                                r"earlier call and 1 now"):
        varimp.profile(two_then_one, X)
