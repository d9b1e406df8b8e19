"""Plots: the drawn artists carry exactly the numbers of the result, laid out for a paper."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.transforms import Bbox  # noqa: E402

import varimp  # noqa: E402
from varimp import plot  # noqa: E402
from varimp.result import Comparison, Importance  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _result(kind="effect", **extra):
    scores = pd.Series([0.2, -0.9, 0.5, 0.05], index=["a", "b", "c", "d"])
    return Importance("perturbation", scores, kind=kind, **extra)


def _errorbar_segments(ax):
    """The drawn error bars, ``(bars, 2 ends, xy)``, from their collection (gid "error bars")."""
    lines = next(c for c in ax.collections if c.get_gid() == "error bars")
    return np.array([seg for seg in lines.get_segments()])


def hand_bh(pvalues):
    """Benjamini-Hochberg by hand: p_(i) m / i, then the running minimum from the largest."""
    p = np.asarray(pvalues, dtype=float)
    order = np.argsort(p)
    m = len(p)
    scaled = [p[order[i]] * m / (i + 1) for i in range(m)]
    for i in range(m - 2, -1, -1):
        scaled[i] = min(scaled[i], scaled[i + 1])
    out = np.empty(m)
    out[order] = np.minimum(scaled, 1.0)
    return out


def _overlap(one, other):
    """Whether two drawn extents (tight boxes, labels included) overlap."""
    renderer = one.figure.canvas.get_renderer()
    return one.get_tightbbox(renderer).overlaps(other.get_tightbbox(renderer))


def test_bar_heights_are_the_scores_sorted_by_importance_with_std_error_bars():
    std = pd.Series([0.01, 0.02, 0.03, 0.04], index=["a", "b", "c", "d"])
    result = _result(std=std)
    ax = plot.plot_importance(result, kind="bar")
    heights = [p.get_height() for p in ax.patches]
    np.testing.assert_allclose(heights, [-0.9, 0.5, 0.2, 0.05])  # an effect: by magnitude
    assert [t.get_text() for t in ax.get_xticklabels()] == ["b", "c", "a", "d"]
    segments = _errorbar_segments(ax)  # one vertical segment per bar: score -/+ std
    np.testing.assert_allclose(segments[:, 0, 1], np.array(heights) - [0.02, 0.03, 0.01, 0.04])
    np.testing.assert_allclose(segments[:, 1, 1], np.array(heights) + [0.02, 0.03, 0.01, 0.04])
    assert ax.get_ylabel() == "signed effect\n(error bars: \u00b11 SD)"


def test_bar_of_a_loss_puts_a_negative_score_last_and_labels_the_measure():
    result = _result(kind="loss", details={"measure": "increase in log loss"})
    ax = result.plot(kind="bar")
    np.testing.assert_allclose([p.get_height() for p in ax.patches], [0.5, 0.2, 0.05, -0.9])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["c", "a", "d", "b"]
    assert ax.get_ylabel() == "increase in log loss"


def test_bar_with_ci_stars_and_top():
    ci = pd.DataFrame({"low": [0.1, -1.0, 0.45, 0.0], "high": [0.3, -0.7, 0.6, 0.1]},
                      index=["a", "b", "c", "d"])
    pvalues = pd.Series([0.03, 0.0005, 0.004, 0.5], index=["a", "b", "c", "d"])
    ax = _result(ci=ci, pvalues=pvalues).plot(kind="bar")
    segments = _errorbar_segments(ax)
    np.testing.assert_allclose(segments[:, 0, 1], [-1.0, 0.45, 0.1, 0.0])
    np.testing.assert_allclose(segments[:, 1, 1], [-0.7, 0.6, 0.3, 0.1])
    marks = {round(t.xy[0]): (t.get_text(), t.xy[1]) for t in ax.texts}
    # the stars mark the Benjamini-Hochberg adjusted p-values: b 0.0005 x 4 = 0.002, c 0.004 x
    # 4 / 2 = 0.008, a 0.03 x 4 / 3 = 0.04, d 0.5 (raw b, 0.0005, would get ***)
    np.testing.assert_allclose(hand_bh(pvalues), [0.04, 0.002, 0.008, 0.5])
    # b, c, a; d is not significant. Each star sits at the tip of its bar's error bar: below
    # the negative bar b (at its interval's low end), above the others
    assert marks == {0: ("**", -1.0), 1: ("**", 0.6), 2: ("*", 0.3)}
    assert ax.texts[0].get_va() == "top" and ax.texts[1].get_va() == "bottom"
    legend, = ax.figure.legends  # under the axes of a figure varimp made
    assert [t.get_text() for t in legend.get_texts()] == [plot.SIGNIFICANCE_CAPTION]
    assert legend.get_title().get_text() == "randomization test,\nBenjamini-Hochberg adjusted p"
    assert plot.SIGNIFICANCE_CAPTION == "* p \u2264 0.05   ** p \u2264 0.01   *** p \u2264 0.001"
    ax.figure.canvas.draw()
    low, high = ax.get_ylim()
    renderer = ax.figure.canvas.get_renderer()
    box = ax.get_window_extent(renderer)
    for text in ax.texts:  # every star drawn inside the axes, none over the legend
        extent = text.get_window_extent(renderer)
        assert box.y0 <= extent.y0 and extent.y1 <= box.y1
        assert not extent.overlaps(legend.get_window_extent(renderer))
    ax = plot.plot_importance(_result(), kind="bar", top=2)
    np.testing.assert_allclose([p.get_height() for p in ax.patches], [-0.9, 0.5])


def test_horizontal_bars_put_the_stars_beyond_each_bar_from_given_pvalues():
    pvalues = pd.Series([0.2, 0.0001, 0.02, 0.009], index=["a", "b", "c", "d"])
    std = pd.Series([0.1, 0.1, 0.0, 0.05], index=["a", "b", "c", "d"])
    ax = _result(std=std, pvalues=pvalues).plot(kind="bar", horizontal=True)
    marks = {round(t.xy[1]): (t.get_text(), t.xy[0], t.get_ha()) for t in ax.texts}
    # adjusted: b 0.0004, d 0.009 x 4 / 2 = 0.018, c 0.02 x 4 / 3 = 0.0267, a 0.2
    np.testing.assert_allclose(hand_bh(pvalues), [0.2, 0.0004, 0.08 / 3, 0.018])
    # order b (-0.9), c (0.5), a (0.2), d (0.05): rows 0..3
    assert marks == {0: ("***", pytest.approx(-1.0), "right"), 1: ("*", 0.5, "left"),
                     3: ("*", pytest.approx(0.1), "left")}
    without = _result(std=std).plot(kind="bar")
    assert len(without.texts) == 0 and without.get_legend() is None
    assert without.figure.legends == []


def test_many_variables_get_horizontal_bars_most_important_on_top():
    names = [f"feature_{i:02d}" for i in range(32)]
    scores = pd.Series(np.arange(32.0), index=names)
    ax = Importance("garson", scores, kind="share").plot()
    widths = [p.get_width() for p in ax.patches]
    assert len(widths) == 32 and widths == sorted(widths, reverse=True)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == names[::-1]
    assert ax.yaxis_inverted()  # the first (largest) bar at the top
    assert ax.get_xlabel() == "share of importance"


def test_stars_thresholds():
    """A Monte Carlo p-value rejects at p <= alpha: each threshold takes its own stars."""
    assert [plot.stars(p) for p in (0.0009, 0.001, 0.0011, 0.009, 0.01, 0.049, 0.05, 0.0501,
                                    0.7)] == ["***", "***", "**", "**", "**", "*", "*", "", ""]


def test_the_first_star_needs_twenty_m_minus_one_permutations_for_one_of_m_variables():
    """The stars mark Benjamini-Hochberg adjusted p-values. With N = 19 null networks the
    smallest p-value is (1 + 0) / (1 + 19) = 0.05: when all 4 variables reach it, each adjusted
    value is 0.05 and each gets a star; when one alone does (the others 0.5 and up), its
    adjusted value is 4 x 0.05 = 0.2: no star. One discovery among m = 4 needs N = 20 m - 1 =
    79: 4 / 80 = 0.05 exactly."""
    index = ["a", "b", "c", "d"]
    scores = pd.Series([0.9, 0.6, 0.3, 0.1], index=index)

    def stars_of(pvalues):
        result = Importance("permutation", scores, kind="loss",
                            pvalues=pd.Series(pvalues, index=index))
        return [(round(t.xy[0]), t.get_text()) for t in result.plot(kind="bar").texts]

    assert stars_of([1 / 20] * 4) == [(0, "*"), (1, "*"), (2, "*"), (3, "*")]
    assert stars_of([1 / 20, 0.5, 0.7, 0.9]) == []
    np.testing.assert_allclose(hand_bh([1 / 80, 0.5, 0.7, 0.9])[0], 0.05)
    assert stars_of([1 / 80, 0.5, 0.7, 0.9]) == [(0, "*")]
    assert stars_of([1 / 79, 0.5, 0.7, 0.9]) == []  # 78 permutations: 4 / 79 > 0.05
    # a result that carries its adjusted values (details["pvalues_bh"]) is starred by them
    carried = Importance("permutation", scores, kind="loss",
                         pvalues=pd.Series([0.001] * 4, index=index),
                         details={"pvalues_bh": pd.Series([0.5, 0.03, 0.5, 0.5], index=index)})
    assert [(round(t.xy[0]), t.get_text()) for t in carried.plot(kind="bar").texts] == \
        [(1, "*")]


def test_an_interval_that_excludes_its_score_is_drawn_as_it_is():
    """Error bars are segments from ci low to ci high, never altered: an interval wholly above
    or below its score (a given ci can be) is not stretched to it."""
    scores = pd.Series([1.0, 0.5, 0.2], index=["a", "b", "c"])
    ci = pd.DataFrame({"low": [1.2, 0.1, 0.25], "high": [1.5, 0.3, 0.4]}, index=scores.index)
    result = Importance("garson", scores, kind="share", ci=ci)
    for horizontal, axis in ((False, 1), (True, 0)):
        ax = result.plot(kind="bar", horizontal=horizontal)
        segments = _errorbar_segments(ax)
        np.testing.assert_array_equal(segments[:, 0, axis], [1.2, 0.1, 0.25])
        np.testing.assert_array_equal(segments[:, 1, axis], [1.5, 0.3, 0.4])
        np.testing.assert_array_equal(segments[:, 0, 1 - axis], [0, 1, 2])  # at each bar
        caps = sorted(np.concatenate([line.get_data()[axis] for line in ax.lines
                                      if line.get_marker() in ("_", "|")]).tolist())
        assert caps == sorted([1.2, 0.1, 0.25, 1.5, 0.3, 0.4])


def test_error_bars_are_the_interval_when_there_is_one_and_say_what_they_are():
    """A result with both ``std`` and ``ci`` (``ci_level`` asked for) draws the interval,
    bar extents equal to ci low / high, and the score axis names it."""
    scores = pd.Series([0.9, 0.5, 0.1], index=["a", "b", "c"])
    std = pd.Series([0.01, 0.01, 0.01], index=scores.index)
    ci = pd.DataFrame({"low": [0.7, 0.45, -0.05], "high": [1.2, 0.52, 0.3]}, index=scores.index)
    result = Importance("permutation", scores, kind="loss", std=std, ci=ci,
                        details={"measure": "increase in log loss", "n_repeats": 5,
                                 "ci_level": 0.95, "n_bootstrap": 1000})
    ax = result.plot(kind="bar")
    segments = _errorbar_segments(ax)
    np.testing.assert_allclose(segments[:, 0, 1], [0.7, 0.45, -0.05])
    np.testing.assert_allclose(segments[:, 1, 1], [1.2, 0.52, 0.3])
    assert ax.get_ylabel().replace("\n", " ") == (
        "increase in log loss (error bars: 95% interval (row bootstrap, 1000 resamples))")
    repeats = Importance("permutation", scores, kind="loss", std=std, details={"n_repeats": 5})
    assert plot.error_bars(repeats) == "\u00b11 SD over 5 repeats"
    members = {"ensemble_settings": {"n_models": 10, "ci_level": 0.9}}
    bag = Importance("garson", scores, kind="share", std=std, ci=ci, details=members)
    assert plot.error_bars(bag) == "90% t prediction interval from 10 refitted networks"
    horizontal = bag.plot(kind="bar", horizontal=True)
    assert horizontal.get_xlabel() == ("share of importance\n(error bars: 90% t prediction "
                                       "interval from 10 refitted networks)")
    assert plot.error_bars(Importance("garson", scores, kind="share")) is None


def test_heatmap_array_is_by_time_with_most_recent_step_last():
    by_time = pd.DataFrame(np.arange(15.0).reshape(5, 3) / 10, columns=["x1", "x2", "x3"],
                           index=pd.RangeIndex(5, name="time_step"))
    result = Importance("permutation", by_time.sum(), by_time=by_time, kind="loss",
                        details={"measure": "increase in mean squared error"})
    ax = result.plot()  # by_time present: a heatmap by default
    np.testing.assert_array_equal(ax.images[0].get_array(), by_time.to_numpy().T)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2", "3", "4"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["x1", "x2", "x3"]
    assert len(ax.figure.axes) == 2  # the colour bar
    assert ax.figure.axes[1].get_ylabel() == "increase in mean squared error"
    assert ax.images[0].get_cmap().name == "viridis"
    assert "linear path" not in ax.get_xlabel()
    signed = Importance("connection_weights", by_time.sum(), by_time=by_time - 0.5, kind="effect")
    ax = signed.plot(kind="heatmap")
    image = ax.images[0]
    assert image.get_cmap().name == "RdBu_r"
    assert image.get_clim() == pytest.approx((-0.9, 0.9))
    # weights, not data (however the user's rc settings wrap the caption)
    assert "linear path with gates at rest" in " ".join(ax.get_xlabel().split())
    assert ax.figure.axes[1].get_ylabel() == "signed effect"


@pytest.mark.parametrize("n_steps", [2, 12, 13, 24, 50, 101, 365])
def test_heatmap_always_labels_step_0_and_the_last_step(n_steps):
    by_time = pd.DataFrame(np.ones((n_steps, 2)), columns=["u", "v"])
    ax = Importance("perturbation", by_time.sum(), by_time=by_time).plot()
    labels = [t.get_text() for t in ax.get_xticklabels()]
    ticks = ax.get_xticks()
    assert labels[0] == "0" and labels[-1] == str(n_steps - 1)
    assert len(labels) <= 12 and labels == [str(int(t)) for t in ticks]
    gaps = np.diff(ticks)
    assert gaps.min() >= gaps.max() / 2  # evenly spaced, the last gap not squeezed


@pytest.mark.parametrize("layout", ["constrained", "tight", "tight_layout()"])
def test_heatmap_colour_bar_stays_out_of_the_neighbouring_subplot(layout):
    by_time = pd.DataFrame(np.arange(30.0).reshape(10, 3) * 1000, columns=["x1", "x2", "x3"])
    result = Importance("permutation", by_time.sum(), by_time=by_time,
                        details={"measure": "increase in log loss"})
    engine = None if layout == "tight_layout()" else layout
    figure, (left, right) = plt.subplots(1, 2, figsize=(8, 3), layout=engine)
    right.plot([0, 1], [0, 1])
    right.set_ylabel("a neighbour's label")
    assert result.plot(ax=left) is left
    bar = next(ax for ax in figure.axes if ax not in (left, right))
    if engine is None:
        figure.tight_layout()  # the user's layout, after the plot
    figure.canvas.draw()
    assert " ".join(bar.get_ylabel().split()) == "increase in log loss"  # wrapped or not
    assert not _overlap(bar, right)
    assert not _overlap(left, bar) or bar.get_window_extent().x0 >= left.get_window_extent().x1


def _curves():
    rows = []
    for variable in ("x1", "x2"):
        for level in ("min", "median", "max"):
            for x in np.linspace(0, 1, 4):
                for output in (0, 1):
                    rows.append((variable, level, x, hash((variable, level, x, output)) % 97,
                                 output))
    return pd.DataFrame(rows, columns=["variable", "level", "x", "prediction", "output"])


def test_profile_panels_share_the_y_axis_and_draw_the_scored_median_curve():
    curves = _curves()
    result = Importance("profile", pd.Series([1.0, 2.0], index=["x1", "x2"]),
                        details={"curves": curves})
    figure = result.plot()
    assert isinstance(figure, Figure)
    axes = figure.axes
    assert len(axes) == 2
    for ax, variable in zip(axes, ("x1", "x2"), strict=True):
        assert ax.get_title() == variable
        labels = [line.get_label() for line in ax.lines]
        assert labels == ["min", "median", "max", "median (scored)"]
        part = curves[(curves.variable == variable) & (curves.output == 0)]
        for line in ax.lines[:3]:
            level = part[part.level == line.get_label()]
            np.testing.assert_array_equal(line.get_xdata(), level["x"])
            np.testing.assert_array_equal(line.get_ydata(), level["prediction"])
        median = ax.lines[3]  # the median over the three levels, point by point
        by_level = np.stack([part[part.level == lv]["prediction"].to_numpy()
                             for lv in ("min", "median", "max")])
        np.testing.assert_array_equal(median.get_ydata(), np.median(by_level, axis=0))
        assert median.get_linestyle() == "--"
        assert median.get_linewidth() > ax.lines[0].get_linewidth()
    assert axes[0].get_ylim() == axes[1].get_ylim()
    low, high = axes[0].get_ylim()
    assert low <= curves[curves.output == 0]["prediction"].min()
    assert high >= curves[curves.output == 0]["prediction"].max()
    legend = figure.legends[0]  # one legend for the figure, beside the panels
    assert [t.get_text() for t in legend.get_texts()] == ["min", "median", "max",
                                                          "median (scored)"]
    figure.canvas.draw()
    for ax in axes:
        assert not legend.get_window_extent().overlaps(ax.get_window_extent())
    assert axes[0].get_ylabel() == "prediction (output 0)"


def test_profile_uses_the_methods_median_curve_and_draws_into_given_axes():
    curves = _curves()
    median = pd.DataFrame({"variable": "x2", "x": np.linspace(0, 1, 4),
                           "prediction": [5.0, 6.0, 7.0, 8.0], "output": 1})
    result = Importance("profile", pd.Series([1.0, 2.0], index=["x1", "x2"]),
                        details={"curves": curves, "median_curve": median})
    _, single = plt.subplots(layout="constrained")
    ax = plot.plot_importance(result, kind="profile", ax=single, variables=["x2"], output=1)
    assert ax is single
    part = curves[(curves.variable == "x2") & (curves.level == "max") & (curves.output == 1)]
    np.testing.assert_array_equal(ax.lines[2].get_ydata(), part["prediction"])
    np.testing.assert_array_equal(ax.lines[3].get_ydata(), [5.0, 6.0, 7.0, 8.0])
    legend = ax.get_legend()
    ax.figure.canvas.draw()
    assert legend.get_window_extent().x0 >= ax.get_window_extent().x1  # outside, to the right
    assert _outside(ax.figure) == []  # the layout made room for it
    _, plain = plt.subplots()  # no layout engine to make room: inside the axes
    ax = plot.plot_importance(result, kind="profile", ax=plain, variables=["x2"])
    ax.figure.canvas.draw()
    assert ax.get_window_extent().contains(*ax.get_legend().get_window_extent().p0)
    assert ax.get_window_extent().contains(*ax.get_legend().get_window_extent().p1)
    figure, pair = plt.subplots(1, 2)  # the user's own axes, not shared: varimp shares them
    assert plot.plot_importance(result, kind="profile", ax=pair) is figure
    assert pair[0].get_ylim() == pair[1].get_ylim()


def test_profile_of_a_real_result_draws_the_scored_median():
    X = np.random.default_rng(0).uniform(size=(60, 3))
    result = varimp.profile(lambda X: 2 * X[:, 0] + X[:, 1] ** 2, X)
    figure = result.plot()
    for ax, name in zip(figure.axes, ["x1", "x2", "x3"], strict=True):
        median = ax.lines[-1]
        assert median.get_label() == "median (scored)"
        assert np.ptp(median.get_ydata()) == pytest.approx(result.scores[name])


def _comparison(n_features, methods=("garson", "permutation", "partial_derivatives")):
    rng = np.random.default_rng(3)
    names = [f"v{i}" for i in range(n_features)]
    return Comparison({m: Importance(m, pd.Series(rng.random(n_features), index=names))
                       for m in methods})


def test_comparison_grouped_bars_are_relative_importance():
    first = Importance("garson", pd.Series([1.0, 3.0, 0.0], index=["a", "b", "c"]))
    second = Importance("permutation", pd.Series([2.0, 2.0, 6.0], index=["a", "b", "c"]),
                        kind="loss")
    comparison = Comparison({"garson": first, "permutation": second})
    ax = comparison.plot()
    order = ["b", "c", "a"]  # mean relative importance: b 47.5, c 30, a 22.5
    assert [t.get_text() for t in ax.get_xticklabels()] == order
    bars = [c for c in ax.containers]
    assert len(bars) == 2
    for container, name in zip(bars, ["garson", "permutation"], strict=True):
        np.testing.assert_allclose([p.get_height() for p in container],
                                   comparison.relative[name][order])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["garson", "permutation"]


def test_comparison_heatmap_is_the_rank_table_annotated_with_ranks():
    index = ["a", "b", "c", "d"]
    comparison = Comparison({
        "garson": Importance("garson", pd.Series([0.1, 0.4, 0.2, 0.3], index=index),
                             kind="share"),
        "permutation": Importance("permutation", pd.Series([-0.5, 0.3, 0.1, 0.2], index=index),
                                  kind="loss"),
        "connection_weights": Importance("connection_weights",
                                         pd.Series([-4.0, 1.0, 3.0, -2.0], index=index),
                                         kind="effect"),
    })
    ax = comparison.plot(kind="heatmap")
    # ranks by hand: garson (4, 1, 3, 2), permutation (4, 1, 3, 2), weights (1, 4, 2, 3);
    # mean ranks a 3, b 2, c 2.67, d 2.33 -> columns b, d, c, a
    expected = np.array([[1, 2, 3, 4], [1, 2, 3, 4], [4, 3, 2, 1]])
    np.testing.assert_array_equal(ax.images[0].get_array(), expected)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["b", "d", "c", "a"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["garson", "permutation",
                                                            "connection_weights"]
    cells = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text()
             for t in ax.texts}
    assert len(cells) == 12
    assert all(cells[(r, c)] == str(expected[r, c]) for r in range(3) for c in range(4))
    assert ax.figure.axes[-1].get_ylabel() == "rank (1 = most important)"


def test_comparison_of_many_features_stays_readable():
    comparison = _comparison(32)
    ax = comparison.plot()  # more than 15 features: the rank heatmap by default
    assert ax.images[0].get_array().shape == (3, 32)
    assert len(ax.get_xticklabels()) == 32 and len(ax.texts) == 96
    assert all(t.get_rotation() == 90 for t in ax.get_xticklabels())
    ax = comparison.plot(kind="bar")  # bars on request: horizontal, one row per feature
    assert len(ax.patches) == 96
    assert len(ax.get_yticklabels()) == 32 and ax.yaxis_inverted()
    assert ax.get_xlabel() == "relative importance (%)"
    assert len(_comparison(5).plot().patches) == 15  # few features: grouped vertical bars


@pytest.mark.parametrize("call", [
    lambda: plot.plot_importance(_result(), kind="pie"),
    lambda: plot.plot_importance(_result(), kind="heatmap"),
    lambda: plot.plot_importance(_result(), kind="profile"),
    lambda: plot.plot_importance(_result().scores),
    lambda: plot.plot_comparison(_result()),
    lambda: _comparison(3).plot(kind="profile"),
    lambda: _comparison(3).plot(kind="bar", cmap="magma"),
    lambda: Comparison({}).plot(),
])
def test_bad_plot_requests_are_input_errors(call):
    with pytest.raises(varimp.InputError):
        call()


def test_rank_colour_bar_has_one_colour_per_rank_and_integer_ticks():
    ax = _comparison(4).plot(kind="heatmap")
    image = ax.images[0]
    assert image.cmap.N == 4 and image.get_clim() == (0.5, 4.5)
    bar = ax.figure.axes[-1]
    ax.figure.canvas.draw()
    ticks = [t for t in bar.get_yticks() if 0.5 <= t <= 4.5]
    assert ticks == [1, 2, 3, 4] and bar.yaxis_inverted()


def _mlp(weights):
    """A PyTorch MLP with the given (n_out, n_in) weight matrices, tanh between them."""
    import torch
    from torch import nn

    layers = []
    for k, w in enumerate(weights):
        linear = nn.Linear(w.shape[1], w.shape[0])
        with torch.no_grad():
            linear.weight.copy_(torch.as_tensor(w))
            linear.bias.copy_(torch.arange(w.shape[0], dtype=torch.float32) - 1.5)
        layers += [linear] + ([nn.Tanh()] if k < len(weights) - 1 else [])
    return nn.Sequential(*layers)


def _node_columns(ax):
    """Node positions per drawn column: {x: sorted heights}."""
    columns = {}
    for collection in ax.collections[1:]:
        for x, y in collection.get_offsets():
            columns.setdefault(float(x), []).append(float(y))
    return {x: sorted(ys, reverse=True) for x, ys in sorted(columns.items())}


def test_network_diagram_draws_one_line_per_weight_width_by_magnitude_colour_by_sign():
    from matplotlib.colors import to_rgba

    rng = np.random.default_rng(1)
    w1, w2 = rng.normal(size=(4, 3)), rng.normal(size=(2, 4))  # 3 inputs, 4 hidden, 2 outputs
    model = _mlp([w1, w2])
    ax = plot.plot_network(model, bias=False, feature_names=["age", "dose", "<b>"])
    lines = ax.collections[0]
    segments = lines.get_segments()
    assert len(segments) == 3 * 4 + 4 * 2
    columns = _node_columns(ax)
    assert [len(heights) for heights in columns.values()] == [3, 4, 2]  # nodes per layer
    heights = list(columns.values())
    expected = {}  # the weight drawn between two node positions, from torch's (out, in) layout
    for k, w in enumerate((w1, w2)):
        for i, j in np.ndindex(w.shape[1], w.shape[0]):
            expected[(k, heights[k][i], k + 1, heights[k + 1][j])] = w[j, i]
    # plotnet's rel_rsc = c(1, 7): |w| rescaled from its range over every weight and bias
    every = np.abs(np.concatenate([w1.ravel(), w2.ravel(), np.arange(4) - 1.5,
                                   np.arange(2) - 1.5]))
    smallest, largest = every.min(), every.max()
    drawn = {}
    for segment, width, colour in zip(segments, lines.get_linewidths(), lines.get_colors(),
                                      strict=True):
        (x0, y0), (x1, y1) = segment
        weight = expected[(round(x0), y0, round(x1), y1)]
        drawn[(round(x0), y0, round(x1), y1)] = weight
        assert width == pytest.approx(1 + 6 * (abs(weight) - smallest) / (largest - smallest),
                                      rel=1e-5)
        assert tuple(colour) == to_rgba("black" if weight > 0 else "grey")
    assert len(drawn) == len(expected)  # every weight once
    labels = [t.get_text() for t in ax.texts]
    assert labels[:3] == ["age", "dose", "<b>"] and labels[3:7] == ["H1", "H2", "H3", "H4"]
    assert labels[7:9] == ["y1", "y2"]
    with_bias = plot.plot_network(model)  # biases: one line per bias from a node above
    assert len(with_bias.collections[0].get_segments()) == 20 + 4 + 2
    assert len(with_bias.collections[-1].get_offsets()) == 2  # the bias nodes B1, B2
    assert {"B1", "B2"} <= {t.get_text() for t in with_bias.texts}


def test_network_diagram_of_a_scikit_learn_classifier_reads_coefs_and_class_names():
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    labels = np.array(["low", "mid", "high"])[rng.integers(0, 3, 60)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPClassifier(hidden_layer_sizes=(5, 3), max_iter=20, random_state=0).fit(X, labels)
    ax = plot.plot_network(clf, bias=False)
    assert [len(h) for h in _node_columns(ax).values()] == [4, 5, 3, 3]
    widths = ax.collections[0].get_linewidths()
    weights = np.concatenate([w.ravel() for w in clf.coefs_])  # (n_in, n_out), row-major
    every = np.abs(np.concatenate([weights, *clf.intercepts_]))  # the range: biases too
    np.testing.assert_allclose(widths, 1 + 6 * (np.abs(weights) - every.min())
                               / (every.max() - every.min()), rtol=1e-6)
    labels = [t.get_text() for t in ax.texts]  # inputs, hidden 5 + 3, outputs, captions
    assert labels[4 + 5 + 3:4 + 5 + 3 + 3] == [str(c) for c in clf.classes_]


def test_network_diagram_widths_run_from_1_to_7_points_as_plotnet_rescales_them():
    """NeuralNetTools' plotnet draws ``scales::rescale(|w|, c(1, 7))``: a weight of 0.01 next
    to one of 2 is 1 point wide, not invisible; the largest is 7; one in between is linear."""
    w1 = np.array([[0.01, -2.0], [1.0, 0.5]])  # (out, in): hidden 2 x inputs 2
    w2 = np.array([[-0.255, 1.5]])
    model = _mlp([w1, w2])
    with_bias = np.array(plot.plot_network(model).collections[0].get_linewidths())
    # biases -1.5, -0.5 (hidden) and -1.5 (output) lie inside [0.01, 2]
    weights = [0.01, 1.0, -2.0, 0.5, -0.255, 1.5, -1.5, -0.5, -1.5]  # row-major (in, out)
    expected = [1 + 6 * (abs(w) - 0.01) / (2.0 - 0.01) for w in weights]
    np.testing.assert_allclose(with_bias, expected, rtol=1e-6)
    assert with_bias.min() == pytest.approx(1.0) and with_bias.max() == pytest.approx(7.0)
    assert with_bias[4] == pytest.approx(1.7387, abs=1e-4)  # 1 + 6 * 0.245 / 1.99, by hand
    custom = plot.plot_network(model, bias=False, widths=(0.5, 3.0)).collections[0]
    np.testing.assert_allclose(custom.get_linewidths(),
                               [0.5 + 2.5 * (abs(w) - 0.01) / 1.99 for w in weights[:6]],
                               rtol=1e-6)
    import torch
    from torch import nn

    alike = nn.Sequential(nn.Linear(2, 2, bias=False), nn.Tanh(), nn.Linear(2, 1, bias=False))
    with torch.no_grad():
        alike[0].weight.fill_(1.5)
        alike[2].weight.fill_(-1.5)
    equal = plot.plot_network(alike)
    assert list(equal.collections[0].get_linewidths()) == [4.0] * 6  # no range: the middle
    with pytest.raises(varimp.InputError, match="widths must be two line widths"):
        plot.plot_network(model, widths=(7, 1))


def test_network_diagram_draws_no_bias_node_for_a_layer_declared_without_a_bias():
    """plotnet draws no bias node for a network without biases (RSNNS mlp): nor does varimp
    for ``nn.Linear(bias=False)`` or Keras ``Dense(use_bias=False)``; a layer with a bias keeps
    its node (B2 feeds the output layer)."""
    import keras
    import torch
    from torch import nn

    def bias_nodes(ax):
        return sorted(t.get_text() for t in ax.texts if t.get_text() in ("B1", "B2"))

    torch.manual_seed(0)
    none = nn.Sequential(nn.Linear(3, 4, bias=False), nn.Tanh(), nn.Linear(4, 2, bias=False))
    ax = plot.plot_network(none)
    assert len(ax.collections[0].get_segments()) == 3 * 4 + 4 * 2  # weights only
    assert len(ax.collections) == 1 + 3 and bias_nodes(ax) == []  # lines, 3 node columns
    widths = np.array(ax.collections[0].get_linewidths())
    assert (widths.min(), widths.max()) == (pytest.approx(1.0), pytest.approx(7.0))
    second = nn.Sequential(nn.Linear(3, 4, bias=False), nn.Tanh(), nn.Linear(4, 2))
    ax = plot.plot_network(second)
    assert len(ax.collections[0].get_segments()) == 20 + 2 and bias_nodes(ax) == ["B2"]
    np.testing.assert_allclose(ax.collections[-1].get_offsets()[:, 0], [1.5])  # above output
    dense = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, use_bias=False),
                              keras.layers.Dense(1)])
    ax = plot.plot_network(dense)
    assert len(ax.collections[0].get_segments()) == 12 + 4 + 1 and bias_nodes(ax) == ["B2"]
    # a layer with a bias that happens to be zero keeps its node
    zero = _mlp([np.ones((2, 3)), np.ones((1, 2))])
    with torch.no_grad():
        zero[0].bias.zero_()
    assert bias_nodes(plot.plot_network(zero)) == ["B1", "B2"]


def test_network_diagram_refuses_what_is_not_a_stack_of_dense_layers():
    from nets import RecurrentHead
    from torch import nn

    lstm = RecurrentHead(nn.LSTM(3, 4, batch_first=True), nn.Linear(4, 1), last_step=True)
    with pytest.raises(varimp.UnsupportedModelError, match="dense layers only"):
        plot.plot_network(lstm)
    with pytest.raises(varimp.UnsupportedModelError):
        plot.plot_network(lambda X: X.sum(axis=1))
    with pytest.raises(varimp.InputError, match="feature_names must name all 3"):
        plot.plot_network(_mlp([np.ones((2, 3)), np.ones((1, 2))]), feature_names=["a"])


def _drawn_texts(figure):
    """Every non-empty text the rendered figure shows: titles, axis labels, annotations and the
    tick labels inside each axis's view (the colour bar's included)."""
    for ax in figure.axes:
        texts = [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label,
                 *ax.texts]
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            texts += [label for tick in axis.get_major_ticks()
                      if low - 1e-9 <= tick.get_loc() <= high + 1e-9
                      for label in (tick.label1, tick.label2)]
        yield from (t for t in texts if t.get_visible() and t.get_text().strip())
    yield from (t for t in figure.texts if t.get_visible() and t.get_text().strip())


def _outside(figure):
    """The texts whose rendered extent leaves the figure (half a pixel of tolerance)."""
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    width, height = figure.bbox.width, figure.bbox.height
    outside = []
    for text in _drawn_texts(figure):
        box = text.get_window_extent(renderer)
        if box.x0 < -0.5 or box.y0 < -0.5 or box.x1 > width + 0.5 or box.y1 > height + 0.5:
            outside.append(text.get_text())
    return outside


def _touching(labels):
    """Pairs of rendered tick labels whose extents intersect."""
    renderer = labels[0].figure.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in labels]
    return [(labels[i].get_text(), labels[j].get_text()) for i in range(len(boxes))
            for j in range(i + 1, len(boxes)) if boxes[i].overlaps(boxes[j])]


MEASURES = {"garson": ("share", "share of absolute weight products"),
            "connection_weights": ("effect", "summed weight products (signed)"),
            "permutation": ("loss", "increase in mean squared error")}


@pytest.mark.parametrize("method", list(MEASURES))
@pytest.mark.parametrize("n_features", [1, 2, 3, 10, 40])
def test_every_text_of_a_heatmap_lies_inside_its_figure(method, n_features):
    kind, measure = MEASURES[method]
    rng = np.random.default_rng(n_features)
    by_time = pd.DataFrame(rng.normal(size=(10, n_features)),
                           columns=[f"x{i + 1}" for i in range(n_features)])
    result = Importance(method, by_time.sum(), by_time=by_time, kind=kind,
                        details={"measure": measure})
    ax = result.plot()
    figure = ax.figure
    assert _outside(figure) == []
    bar = figure.axes[-1]
    assert bar.get_ylabel() == measure  # the figure grew to hold it whole, on one line
    caption = " ".join(ax.get_xlabel().split())  # however the rc settings wrap it
    assert ("linear path with gates at rest" in caption) == (method != "permutation")
    renderer = figure.canvas.get_renderer()
    label = bar.yaxis.label.get_window_extent(renderer)
    bar_box = bar.get_window_extent(renderer)
    assert bar_box.y0 - 1 <= label.y0 and label.y1 <= bar_box.y1 + 1  # along the bar
    assert all(size <= limit for size, limit in zip(figure.get_size_inches(), plot.PAGE,
                                                    strict=True))
    assert _touching(ax.get_yticklabels()) == []  # 40 rows on a page: no label over another


def test_a_colour_bar_label_too_long_for_the_users_subplot_is_wrapped_inside_the_figure():
    by_time = pd.DataFrame(np.linspace(0.0, 1.0, 10)[:, None], columns=["x1"])
    result = Importance("garson", by_time.sum(), by_time=by_time, kind="share",
                        details={"measure": "share of absolute weight products"})
    figure, axes = plt.subplots(2, 2, figsize=(8, 4), layout="constrained")
    result.plot(ax=axes[0, 0])
    assert figure.get_size_inches().tolist() == [8, 4]  # the user's figure keeps its size
    assert _outside(figure) == []
    label = figure.axes[-1].get_ylabel()  # wrapped as the figure was drawn
    assert "\n" in label and label.replace("\n", " ") == "share of absolute weight products"
    _along_its_bar(figure.axes[-1])


@pytest.mark.parametrize("names, upright", [
    (["a", "b", "c", "d", "e", "f"], False),
    ([f"station_{i:02d}_flow_rate" for i in range(6)], True),  # 6 long names overlap flat
    ([f"v{i}" for i in range(34)], True),
])
def test_rank_heatmap_turns_names_upright_only_when_they_would_overlap(names, upright):
    comparison = _comparison(len(names), methods=tuple(MEASURES) + ("partial_derivatives",))
    comparison = Comparison({m: Importance(m, r.scores.set_axis(names), kind=r.kind)
                             for m, r in comparison.results.items()})
    ax = comparison.plot(kind="heatmap")
    figure = ax.figure
    assert _outside(figure) == []
    labels = ax.get_xticklabels()
    assert {t.get_rotation() for t in labels} == {90.0 if upright else 0.0}
    assert _touching(labels) == []
    assert all(size <= limit for size, limit in zip(figure.get_size_inches(), plot.PAGE,
                                                    strict=True))


def test_grouped_bars_with_long_names_do_not_overlap():
    names = [f"a_rather_long_variable_name_{i}" for i in range(5)]
    comparison = Comparison({m: Importance(m, pd.Series(np.arange(1.0, 6.0), index=names))
                             for m in ("garson", "profile")})
    ax = comparison.plot(kind="bar")
    ax.figure.canvas.draw()
    assert _touching(ax.get_xticklabels()) == [] and _outside(ax.figure) == []


def test_a_comparison_of_many_variables_and_methods_stays_on_a_page_as_a_dot_plot():
    methods = ("connection_weights", "garson", "partial_derivatives", "permutation",
               "improved_stepwise_1", "perturbation", "profile")
    names = [f"station_{i:02d}_flow" for i in range(34)]
    rng = np.random.default_rng(5)
    comparison = Comparison({m: Importance(m, pd.Series(rng.random(34), index=names))
                             for m in methods})
    ax = comparison.plot(kind="bar")  # 238 bars would be under 3 points thick on a page
    figure = ax.figure
    width, height = figure.get_size_inches()
    assert width <= 10 and height <= 10
    assert len(ax.patches) == 0 and len(ax.lines) == 7  # one series of markers per method
    order = comparison.relative.mean(axis=1).sort_values(ascending=False, kind="stable").index
    for line, method in zip(ax.lines, methods, strict=True):
        assert line.get_label() == method
        np.testing.assert_allclose(line.get_xdata(), comparison.relative.loc[order, method])
        np.testing.assert_array_equal(line.get_ydata(), np.arange(34))
    assert [t.get_text() for t in ax.get_yticklabels()] == list(order)
    assert _outside(figure) == [] and _touching(ax.get_yticklabels()) == []
    assert len({line.get_marker() for line in ax.lines}) == 7
    heat = comparison.plot()  # the default for 34 variables: the rank heatmap, also on a page
    assert all(size <= 10 for size in heat.figure.get_size_inches())
    assert _outside(heat.figure) == [] and _touching(heat.get_xticklabels()) == []


def test_a_long_sequence_heatmap_stays_on_a_page():
    by_time = pd.DataFrame(np.ones((365, 2)), columns=["u", "v"])
    ax = Importance("perturbation", by_time.sum(), by_time=by_time).plot()
    assert ax.figure.get_size_inches()[0] == 10.0
    assert _outside(ax.figure) == [] and _touching(ax.get_xticklabels()) == []


STATIONS = ["river_discharge_upstream", "precipitation", "air_temperature",
            "snow_water_equivalent", "soil_moisture"]


def _weights_heatmap(n_steps=24, names=STATIONS, method="garson", seed=0):
    by_time = pd.DataFrame(np.random.default_rng(seed).random((n_steps, len(names))),
                           columns=names)
    return Importance(method, by_time.sum(), by_time=by_time, kind="share",
                      details={"measure": "share of absolute weight products"})


def _along_its_bar(bar):
    """The colour bar's label lies along the bar, within its length (a pixel of tolerance)."""
    renderer = bar.figure.canvas.get_renderer()
    label = bar.yaxis.label.get_window_extent(renderer)
    box = bar.get_window_extent(renderer)
    assert box.y0 - 1 <= label.y0 and label.y1 <= box.y1 + 1, bar.get_ylabel()


def _readable_heatmap(ax, n_steps):
    """Time steps 0 and the last labelled, no two tick labels touching, names at 7 points or
    more, the caption no wider than the heatmap."""
    renderer = ax.figure.canvas.get_renderer()
    steps = [t for t in ax.get_xticklabels() if t.get_text()]
    assert steps[0].get_text() == "0" and steps[-1].get_text() == str(n_steps - 1)
    assert _touching(steps) == [] and _touching(ax.get_yticklabels()) == []
    assert min(t.get_fontsize() for t in ax.get_yticklabels()) >= 7.0
    caption = ax.xaxis.label.get_window_extent(renderer)
    assert caption.width <= ax.get_window_extent(renderer).width + 1


@pytest.mark.parametrize(("shape", "size"), [((1, 1), (6.4, 4.8)), ((1, 2), (12, 4)),
                                             ((2, 2), (10, 7))])
def test_a_heatmap_in_the_users_plain_subplot_keeps_the_room_a_colour_bar_leaves(shape, size):
    """No layout engine: varimp reserves no margins of its own. The heatmap keeps exactly the
    area that Matplotlib's ``figure.colorbar(image, ax=ax)`` leaves any ``imshow`` (drawn
    here as the reference); its labels fit that area as drawn (time steps thinned, names at
    10 points, the one-line note wrapped to the heatmap's width)."""
    result = _weights_heatmap()
    figure, axes = plt.subplots(*shape, figsize=size)
    reference, others = plt.subplots(*shape, figsize=size)
    ax, mine = np.ravel(axes)[0], np.ravel(others)[0]
    assert result.plot(ax=ax) is ax
    reference.colorbar(mine.imshow(result.by_time.to_numpy().T, aspect="auto"), ax=mine)
    figure.canvas.draw()
    reference.canvas.draw()
    np.testing.assert_allclose(ax.get_position().bounds, mine.get_position().bounds)
    assert figure.get_size_inches().tolist() == list(size)  # the user's figure keeps its size
    _readable_heatmap(ax, 24)
    assert {t.get_fontsize() for t in ax.get_yticklabels()} == {10.0}
    assert " ".join(ax.get_xlabel().split()) == ("time step (most recent last) "
                                                 + plot.LINEAR_PATH_NOTE)
    _along_its_bar(figure.axes[-1])


def test_time_steps_are_thinned_to_the_drawn_width_and_follow_a_later_layout():
    """100 steps: a wide heatmap labels more steps than a narrow one; each keeps 0 and 99 and
    no two labels touch, also after the user's ``tight_layout`` moves things (the labels are
    chosen again at every draw)."""
    result = _weights_heatmap(100, names=["u", "v"], method="permutation")
    counts = []
    for size in ((12, 3), (3, 3)):
        figure, ax = plt.subplots(figsize=size)
        result.plot(ax=ax)
        figure.canvas.draw()
        _readable_heatmap(ax, 100)
        counts.append(len([t for t in ax.get_xticklabels() if t.get_text()]))
    assert counts[0] > counts[1] >= 2
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6))
    _weights_heatmap().plot(ax=top)
    _weights_heatmap(method="permutation").plot(kind="bar", ax=bottom)
    figure.tight_layout()
    figure.canvas.draw()
    _readable_heatmap(top, 24)
    assert top.get_window_extent().height / figure.dpi >= 1.0  # not squeezed by fixed margins
    assert _outside(figure) == []
    assert not _overlap(top, bottom)
    _along_its_bar(figure.axes[-1])


def test_heatmaps_in_a_constrained_grid_of_the_user_stay_readable_and_apart():
    """A 2 x 2 constrained grid of 30 long names and 50 steps: every panel readable (names at
    7 points, then every other name; steps thinned), each colour bar's label along its bar,
    nothing outside the figure and no panel (heatmap, colour bar and their labels) over
    another."""
    names = [f"sensor_{i:02d}_long_name" for i in range(30)]
    weights = _weights_heatmap(50, names)
    data = _weights_heatmap(50, names, method="partial_derivatives", seed=1)
    ranks = Comparison({m: Importance(m, pd.Series(np.random.default_rng(2).random(30),
                                                   index=names))
                        for m in ("garson", "permutation", "profile")})
    figure, axes = plt.subplots(2, 2, figsize=(12, 9), layout="constrained")
    panels = []
    for ax, draw in zip(axes.ravel(), (lambda ax: weights.plot(ax=ax),
                                       lambda ax: data.plot(ax=ax),
                                       lambda ax: weights.plot(ax=ax),
                                       lambda ax: ranks.plot(kind="heatmap", ax=ax)),
                        strict=True):
        before = list(figure.axes)
        assert draw(ax) is ax
        panels.append([ax] + [new for new in figure.axes if new not in before])
    assert _outside(figure) == []
    renderer = figure.canvas.get_renderer()
    for ax in axes.ravel()[:3]:
        _readable_heatmap(ax, 50)
    names_drawn = [t.get_text() for t in axes[0, 0].get_yticklabels() if t.get_text()]
    assert names_drawn == names[::2]  # 3.4 inches for 30 rows: every other name, at 7 points
    for panel in panels:
        assert len(panel) == 2
        _along_its_bar(panel[1])
    extents = [Bbox.union([part.get_tightbbox(renderer) for part in panel])
               for panel in panels]
    for i in range(4):
        for j in range(i + 1, 4):
            assert not extents[i].overlaps(extents[j]), (i, j)


def test_a_colour_bar_label_follows_its_row_when_later_subplots_shrink_it():
    """A constrained 2 x 2 grid: two heatmaps on top, then a bar chart whose upright names
    take height from the top row. The colour bars' labels are wrapped when the figure is
    drawn, to the bars' final length, so they are not cut at the figure's top."""
    by_time = pd.DataFrame(np.random.default_rng(0).random((7, 5)), columns=STATIONS)
    weights = Importance("garson", by_time.sum(), by_time=by_time, kind="share",
                         details={"measure": "share of absolute weight products"})
    loss = Importance("permutation", by_time.sum(), by_time=by_time - 0.5, kind="loss",
                      details={"measure": "increase in mean squared error"})
    figure, axes = plt.subplots(2, 2, figsize=(10, 7), layout="constrained")
    weights.plot(ax=axes[0, 0])
    loss.plot(ax=axes[0, 1])
    loss.plot(kind="bar", ax=axes[1, 0])
    assert _outside(figure) == []
    bars = [ax for ax in figure.axes if ax.get_label() == "<colorbar>"]
    assert len(bars) == 2
    for bar in bars:
        _along_its_bar(bar)
        assert "\n" in bar.get_ylabel()  # the row shrank below the one-line label


@pytest.mark.parametrize("sizes", [(36, 10, 1), (5, 3, 1)])
def test_network_diagram_labels_lie_inside_their_nodes_over_the_lines(sizes):
    """Every H and B label's rendered extent lies inside its circle (the circle's radius from
    the scatter's marker area, in points), and labels are drawn over the lines and nodes."""
    rng = np.random.default_rng(0)
    n_in, n_hidden, n_out = sizes
    ax = plot.plot_network(_mlp([rng.normal(size=(n_hidden, n_in)),
                                 rng.normal(size=(n_out, n_hidden))]))
    figure = ax.figure
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    inner = [t for t in ax.texts if t.get_text()[:1] in "HB" and t.get_text()[1:].isdigit()]
    assert sorted(t.get_text() for t in inner) == sorted(
        [f"H{n}" for n in range(1, n_hidden + 1)] + ["B1", "B2"])
    nodes = ax.collections[1:]
    centres = {tuple(np.round(xy, 9)) for c in nodes for xy in c.get_offsets()}
    (area,) = {float(s) for c in nodes for s in c.get_sizes()}
    radius = np.sqrt(area) / 2 * figure.dpi / 72.0  # pixels
    assert radius > 3
    for text in inner:
        assert tuple(np.round(text.get_position(), 9)) in centres  # centred on a node
        centre = ax.transData.transform(text.get_position())
        box = text.get_window_extent(renderer)
        corners = np.array([[box.x0, box.y0], [box.x0, box.y1], [box.x1, box.y0],
                            [box.x1, box.y1]])
        assert np.hypot(*(corners - centre).T).max() <= radius, text.get_text()
        assert text.get_zorder() > max(c.get_zorder() for c in ax.collections)


def test_profile_of_a_model_predicting_every_step_labels_the_summed_prediction():
    """A model predicting all 10 steps: profile sums the predicted steps (or takes
    ``output_step``), so the curves' axis and the bar chart's say so. Closed form: each step
    predicts ``2 x1 + x2``; sweeping x1 at every step moves the sum by ``10 * 2 * range(x1)``."""
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(40, 10, 2))

    def every_step(Z):
        return 2.0 * Z[:, :, 0] + Z[:, :, 1]  # (n, T): one prediction per step

    summed = varimp.profile(every_step, X, by_time=False)
    np.testing.assert_allclose(summed.scores, [20.0 * np.ptp(X[..., 0]),
                                               10.0 * np.ptp(X[..., 1])], rtol=1e-9)
    assert summed.details["prediction"] == "prediction summed over 10 steps"
    figure = summed.plot()
    assert figure.axes[0].get_ylabel() == "prediction summed over 10 steps"
    np.testing.assert_allclose(np.ptp(figure.axes[0].lines[-1].get_ydata()),
                               summed.scores["x1"], rtol=1e-9)  # the drawn curve is the sum
    bars = summed.plot(kind="bar")
    assert bars.get_ylabel().replace("\n", " ") == (
        "range of the median response curve (prediction summed over 10 steps)")
    one = varimp.profile(every_step, X, by_time=False, output_step=3)
    np.testing.assert_allclose(one.scores, [2.0 * np.ptp(X[..., 0]), np.ptp(X[..., 1])],
                               rtol=1e-9)
    assert one.plot().axes[0].get_ylabel() == "prediction at step 3"
    table = varimp.profile(lambda Z: Z @ [2.0, 1.0], X[:, 0])  # one prediction: plain label
    assert table.plot().axes[0].get_ylabel() == "prediction"
    assert table.plot(kind="bar").get_ylabel() == "range of the median response curve"


def test_a_classifiers_profile_is_drawn_for_an_output_named_by_its_class():
    """Outputs are named as ``details["per_output"]`` names them (its columns follow
    ``details["outputs"]``): ``output="oak"`` draws output 1's curves, labelled with it."""
    curves = _curves()  # outputs 0 and 1
    per_output = pd.DataFrame([[1.0, 2.0], [3.0, 4.0]], index=["x1", "x2"],
                              columns=["fir", "oak"])
    result = Importance("profile", pd.Series([1.0, 2.0], index=["x1", "x2"]),
                        details={"curves": curves, "outputs": [0, 1], "per_output": per_output})
    figure = result.plot(output="oak")
    part = curves[(curves.variable == "x1") & (curves.level == "min") & (curves.output == 1)]
    np.testing.assert_array_equal(figure.axes[0].lines[0].get_ydata(), part["prediction"])
    assert figure.axes[0].get_ylabel() == "prediction (oak)"
    assert result.plot(output=1).axes[0].get_ylabel() == "prediction (oak)"
    assert result.plot().axes[0].get_ylabel() == "prediction (fir)"
    with pytest.raises(varimp.InputError, match=r"output must be one of \[0, 1, 'fir', 'oak'\]; "
                       r"received 'pine'"):
        result.plot(output="pine")
    unnamed = Importance("profile", result.scores, details={"curves": curves})
    assert unnamed.plot(output=1).axes[0].get_ylabel() == "prediction (output 1)"


def test_a_real_classifiers_profile_plots_the_class_it_is_asked_for():
    """A three-class softmax network profiled with ``classes``: ``plot(output="oak")`` draws
    the median curve whose range is the method's own score for oak."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    X = pd.DataFrame(np.random.default_rng(0).normal(size=(60, 3)), columns=["a", "b", "c"])
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 3),
                              torch.nn.Softmax(dim=1))
    result = varimp.importance(net, X, method="profile", classes=["fir", "oak", "pine"])
    figure = result.plot(output="oak")
    assert figure.axes[0].get_ylabel() == "P(oak)"  # a softmax: the class's probability
    for ax, name in zip(figure.axes, ["a", "b", "c"], strict=True):
        assert np.ptp(ax.lines[-1].get_ydata()) == pytest.approx(
            result.details["per_output"].loc[name, "oak"], rel=1e-9)


def test_a_categorical_profile_draws_each_category_as_points_and_labels_the_probability():
    """A one-hot group of a classifier: one marker per category and level at the category's
    position (no line joining categories), the median a marker too, names turned upright so
    that they do not overlap, and the y axis the probability of the class, P(yes)."""
    from sklearn.neural_network import MLPClassifier

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=120)})
    habitat = rng.integers(0, 3, 120)
    members = ["habitat_temperate_forest", "habitat_dry_grassland", "habitat_coastal_wetland"]
    for k, name in enumerate(members):
        X[name] = (habitat == k).astype(float)
    y = np.where(X["a"] + habitat > 1, "yes", "no")
    model = MLPClassifier((4,), max_iter=50, random_state=0).fit(X, y)
    groups = {"habitat": members}
    result = varimp.profile(model, X, groups=groups, steps=4)
    figure = result.plot()
    panel = figure.axes[1]
    assert panel.get_title() == "habitat" and figure.axes[0].get_ylabel() == "P(yes)"
    assert all(line.get_linestyle() == "None" for line in panel.lines)
    curves = result.details["curves"]
    part = curves[curves.variable == "habitat"]
    categories = list(dict.fromkeys(part["x"]))
    assert [t.get_text() for t in panel.get_xticklabels()] == categories
    median = panel.lines[-1]
    np.testing.assert_array_equal(median.get_xdata(), np.arange(len(categories)))
    expected = part.groupby("x", sort=False)["prediction"].median()[categories]
    np.testing.assert_allclose(median.get_ydata(), expected.to_numpy())
    assert np.ptp(median.get_ydata()) == pytest.approx(result.scores["habitat"], rel=1e-9)
    for line, level in zip(panel.lines[:-1], dict.fromkeys(part["level"]), strict=True):
        dots = part[part.level == level]
        np.testing.assert_allclose(np.round(line.get_xdata()), np.arange(len(categories)))
        np.testing.assert_allclose(line.get_ydata(), dots["prediction"].to_numpy())
    labels = [t for t in panel.get_xticklabels() if t.get_text()]
    assert all(t.get_rotation() == 90 for t in labels)  # side by side they would overlap
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in labels]
    assert not any(one.overlaps(other) for one, other in zip(boxes, boxes[1:], strict=False))
    legend = figure.legends[0]
    assert [t.get_text() for t in legend.get_texts()][-1] == plot.MEDIAN_LABEL


#: Long names, as ecologists' data have them (no spaces: only "_" to break at).
STEMS = ("mean_annual_precipitation_mm", "mean_annual_temperature_degC",
         "soil_organic_carbon_pct", "distance_to_nearest_river_km", "elevation_above_sea_level_m",
         "normalized_difference_veg_index", "human_population_density_per_km2",
         "slope_of_terrain_degrees")


def _long_names(n):
    return [STEMS[i % 8] + (f"_{i // 8}" if i >= 8 else "") for i in range(n)]


def _profile_result(names, scores=None, n_outputs=1, **details):
    curves = pd.DataFrame([(v, level, x, x * k + o, o) for k, v in enumerate(names)
                           for level in ("min", "max") for x in (0.0, 1.0)
                           for o in range(n_outputs)],
                          columns=["variable", "level", "x", "prediction", "output"])
    scores = pd.Series(1.0, index=names) if scores is None else scores
    return Importance("profile", scores, details={"curves": curves, **details})


@pytest.mark.parametrize("n_variables", [3, 5, 12, 35])
def test_a_profile_figure_stays_on_a_page(n_variables):
    """Long names: rows of at most 4 panels, each panel named once (its title, broken after
    "_" to the panel's width, every character kept), no title over another or past its
    panel, nothing outside the figure; 35 variables: the 16 most important, most important
    first, the title saying 19 were left out."""
    names = _long_names(n_variables)
    scores = pd.Series(np.random.default_rng(n_variables).permutation(n_variables) + 1.0,
                       index=names)
    figure = _profile_result(names, scores).plot()
    drawn = min(n_variables, 16)
    assert len(figure.axes) == drawn
    assert all(size <= limit for size, limit in zip(figure.get_size_inches(), plot.PAGE,
                                                    strict=True))
    assert _outside(figure) == []
    renderer = figure.canvas.get_renderer()
    lefts = {round(ax.get_position().x0, 3) for ax in figure.axes}
    rows = int(np.ceil(drawn / 4))  # at most 4 panels a row, the rows evenly filled
    assert len(lefts) == int(np.ceil(drawn / rows)) <= 4
    titles = [ax.title.get_text() for ax in figure.axes]
    expected = names if n_variables <= 16 else list(scores.sort_values(ascending=False).index[:16])
    assert [title.replace("\n", "") for title in titles] == expected
    assert all(title.count("\n") <= 1 for title in titles)
    boxes = [ax.title.get_window_extent(renderer) for ax in figure.axes]
    for ax, box in zip(figure.axes, boxes, strict=True):
        panel = ax.get_window_extent(renderer)
        assert panel.x0 - 1 <= box.x0 and box.x1 <= panel.x1 + 1  # within its panel
        assert ax.get_xlabel() == ""  # named once: in the title
        assert ax.title.get_fontsize() >= 7.0
    assert not any(one.overlaps(other) for k, one in enumerate(boxes) for other in boxes[k + 1:])
    legend = figure.legends[0].get_window_extent(renderer)
    assert not any(legend.overlaps(ax.get_tightbbox(renderer)) for ax in figure.axes)
    if n_variables > 16:
        assert figure.get_suptitle().replace("\n", " ") == (
            "the 16 most important of 35 variables, most important first (19 left out: name "
            "them in variables= to draw them)")
    else:
        assert figure.get_suptitle() == ""
    named = _profile_result(names, scores).plot(variables=names[-2:])  # as asked, all of them
    assert [ax.title.get_text().replace("\n", "") for ax in named.axes] == names[-2:]


def test_a_profile_figures_title_stays_clear_of_its_legend():
    """A classifier's figure: the title (which class, of which outputs) lies inside the
    figure, over no panel and not under the legend, which lies under the panels."""
    classes = ["Betula_pendula", "Fagus_sylvatica", "Picea_abies", "Pinus_sylvestris",
               "Quercus_robur"]
    names = _long_names(5)
    result = _profile_result(names, n_outputs=5, outputs=list(range(5)), per_output=pd.DataFrame(
        1.0, index=names, columns=classes))
    figure = result.plot(output="Picea_abies")
    assert _outside(figure) == []
    renderer = figure.canvas.get_renderer()
    title = figure._suptitle.get_window_extent(renderer)
    legend = figure.legends[0].get_window_extent(renderer)
    assert figure.get_suptitle().startswith("curves of Picea_abies, one of 5 outputs")
    assert not title.overlaps(legend)
    assert all(legend.y1 <= ax.get_tightbbox(renderer).y0 + 1 for ax in figure.axes)
    assert all(title.y0 >= ax.get_tightbbox(renderer).y1 - 1 for ax in figure.axes)


def test_break_name_keeps_every_character_and_fits_each_line():
    """Broken after "_" where it can be, between characters where a piece alone is longer
    than a line; every line measured no longer than the length."""
    from varimp.plot._common import break_name, text_width

    name = "human_population_density_per_km2"
    one = break_name(name, 10.0, 10.0)
    assert one == name
    two = break_name(name, 10.0, 1.6)
    assert two.replace("\n", "") == name and two.count("\n") >= 1
    assert all(line.endswith("_") for line in two.split("\n")[:-1])
    assert all(text_width(line, 10.0) <= 1.6 - 0.05 for line in two.split("\n"))
    cut = break_name("abcdefghijklmnopqrstuvwxyz", 10.0, 0.8)  # no "_": between characters
    assert cut.replace("\n", "") == "abcdefghijklmnopqrstuvwxyz" and cut.count("\n") >= 2
    assert all(text_width(line, 10.0) <= 0.8 - 0.05 for line in cut.split("\n"))


@pytest.mark.parametrize("layout", [None, "constrained"])
def test_a_comparison_drawn_into_the_users_axes_keeps_its_legend_in_the_figure(layout):
    """Without a layout engine to make room beside the axes the legend goes inside them;
    with one, beside them; either way inside the figure."""
    comparison = _comparison(4, methods=("garson", "permutation", "profile",
                                         "partial_derivatives"))
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4), layout=layout)
    comparison.plot(kind="heatmap", ax=left)
    ax = comparison.plot(kind="bar", ax=right)
    figure.canvas.draw()
    legend = ax.get_legend().get_window_extent()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(comparison.results)
    assert figure.bbox.contains(*legend.p0) and figure.bbox.contains(*legend.p1)
    inside = ax.get_window_extent().contains(*legend.p0)
    assert inside == (layout is None)


def _cells(ax):
    """The numbers drawn in a rank heatmap's cells (those left out at the last draw skipped)."""
    return [t for t in ax.texts if t.get_text().isdigit() and getattr(t, "shown", True)]


def test_rank_heatmap_numbers_are_sized_to_their_cells_or_left_out():
    comparison = _comparison(60, methods=("garson", "permutation", "partial_derivatives",
                                          "perturbation", "profile"))
    ax = comparison.plot(kind="heatmap")  # varimp's own figure, at most 10 inches wide
    ax.figure.canvas.draw()
    renderer = ax.figure.canvas.get_renderer()
    cells = _cells(ax)
    assert len(cells) == 300  # 60 x 5 cells, every one numbered
    box = ax.get_window_extent(renderer)
    wide, tall = box.width / 60, box.height / 5
    for text in cells:  # each number inside its own cell, at 5 to 7 points
        assert 5.0 <= text.get_fontsize() <= 7.0
        extent = text.get_window_extent(renderer)
        col, row = text.get_position()
        assert box.x0 + col * wide - 0.5 <= extent.x0 and extent.x1 <= box.x0 + (col + 1) * wide
        assert extent.height <= tall
    # in half of a 10 x 5 figure the 30 columns are too thin for 5-point numbers: only colours
    figure, axes = plt.subplots(1, 2, figsize=(10, 5))
    _comparison(5).plot(kind="heatmap", ax=axes[0])
    _comparison(30).plot(kind="heatmap", ax=axes[1])
    figure.tight_layout()
    figure.canvas.draw()
    assert len(_cells(axes[0])) == 15 and _cells(axes[1]) == []
    cell_points = axes[1].get_window_extent().width / 30 * 72 / figure.dpi
    width_30 = plot._common.text_width("30", 5.0) * 72  # the widest number at 5 points
    assert 0.85 * cell_points < width_30


@pytest.mark.parametrize("what", ["bars", "grouped", "dots"])
def test_many_names_in_the_users_subplot_are_thinned_never_overlapping(what):
    comparison = _comparison(30, methods=("garson", "permutation", "partial_derivatives",
                                          "perturbation") if what == "dots" else
                             ("garson", "permutation", "partial_derivatives"))
    figure, axes = plt.subplots(2, 2, figsize=(10, 7), layout="constrained")
    ax = axes[0, 1]
    if what == "bars":
        result = comparison.results["garson"]
        result.plot(ax=ax)
        first = str(result.ranks.sort_values(kind="stable").index[0])
    else:
        comparison.plot(kind="bar", ax=ax)
        relative = comparison.relative
        first = str(relative.mean(axis=1).sort_values(ascending=False, kind="stable").index[0])
    figure.canvas.draw()
    labels = [t for t in ax.get_yticklabels() if t.get_text()]
    assert labels[0].get_text() == first  # the most important row keeps its name
    assert 2 <= len(labels) < 30  # every k-th row named: 30 rows in ~2.5 inches
    assert _touching(labels) == []
    assert min(t.get_fontsize() for t in labels) >= 7.0


def test_a_bar_charts_axis_label_stays_within_its_axes_in_a_small_subplot():
    result = Importance("permutation", pd.Series([0.5, 0.4, 0.01], index=["a", "b", "c"]),
                        kind="loss", details={"measure": "increase in mean squared error"})
    figure, axes = plt.subplots(2, 2, figsize=(10, 3), layout="constrained")
    result.plot(ax=axes[0, 0], kind="bar")
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    label = axes[0, 0].yaxis.label
    extent, box = label.get_window_extent(renderer), axes[0, 0].get_window_extent(renderer)
    assert extent.y0 >= box.y0 - 1 and extent.y1 <= box.y1 + 1
    assert extent.y0 >= 0 and extent.y1 <= figure.bbox.height
    assert " ".join(label.get_text().split()) == "increase in mean squared error"


def _legend_rows(legend):
    """Every entry of a drawn legend: its text and the artists drawn as its key."""
    legend.figure.canvas.draw()
    rows = []
    for column in legend._legend_handle_box.get_children():
        for row in column.get_children():
            key, text = row.get_children()
            rows.append((text.get_children()[0].get_text(), key.get_children()))
    return rows


def test_a_categorical_median_shows_the_dot_under_it_and_the_legend_draws_its_marks():
    """A figure with a numeric and a categorical panel: the categorical median is a hollow
    diamond under the level dots (the middle level's dot, at the same position, shows inside
    it), and the legend's median entry draws both marks the panels use, the dashed line and the
    diamond; each level's entry its line and its dot."""
    from sklearn.neural_network import MLPRegressor

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=90)})
    kind = rng.integers(0, 3, 90)
    for k in range(3):
        X[f"kind_{k}"] = (kind == k).astype(float)
    y = X["a"] + kind
    model = MLPRegressor(hidden_layer_sizes=(4,), max_iter=300, random_state=0).fit(X, y)
    result = varimp.profile(model, X, groups={"kind": ["kind_0", "kind_1", "kind_2"]}, steps=4)
    figure = result.plot()
    panel = figure.axes[1]
    *dots, median = panel.lines
    assert median.get_marker() == "D" and median.get_markerfacecolor() == "none"
    assert all(dot.get_marker() == "o" and dot.get_zorder() > median.get_zorder()
               for dot in dots)
    middle = dots[len(dots) // 2]  # Lek's five levels: the third is drawn at the category
    np.testing.assert_allclose(middle.get_xdata(), median.get_xdata())
    rows = _legend_rows(figure.legends[0])
    levels = list(dict.fromkeys(result.details["curves"]["level"]))
    assert [text for text, _ in rows] == [str(level) for level in levels] + [plot.MEDIAN_LABEL]
    for text, keys in rows:
        lines = [key for key in keys if key.get_linestyle() != "None"]
        marks = [key.get_marker() for key in keys if key.get_marker() not in (None, "None", "")]
        if text == plot.MEDIAN_LABEL:
            assert [line.get_linestyle() for line in lines] == ["--"] and "D" in marks
        else:
            assert len(lines) == 1 and "o" in marks


def test_a_profile_of_several_outputs_says_which_it_draws_and_how_the_score_combines_them():
    """A three-class softmax network: the figure draws one class's curves and its title says
    which, and that the scores are the mean over the three outputs, as they are (the mean of
    the ranges of the drawn median curves of every class)."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    X = pd.DataFrame(np.random.default_rng(0).normal(size=(60, 2)), columns=["a", "b"])
    net = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh(), torch.nn.Linear(4, 3),
                              torch.nn.Softmax(dim=1))
    result = varimp.profile(net, X, classes=["fir", "oak", "pine"])
    ranges = {}
    for name in ("fir", "oak", "pine"):
        figure = result.plot(output=name)
        assert figure.get_suptitle() == (f"curves of {name}, one of 3 outputs (fir, oak, pine);"
                                         "\nthe scores are the mean over all 3 outputs")
        ranges[name] = [np.ptp(ax.lines[-1].get_ydata()) for ax in figure.axes]
    np.testing.assert_allclose(np.mean(list(ranges.values()), axis=0), result.scores, rtol=1e-9)
    assert result.plot().get_suptitle().startswith("curves of fir,")  # the first by default
    _, axes = plt.subplots(1, 2)
    assert result.plot(ax=axes, output="oak").get_suptitle() == ""  # the user's figure
    assert axes[0].get_ylabel() == "P(oak)"  # names the output there
    single = varimp.profile(lambda Z: Z @ [1.0, 2.0], X.to_numpy())
    assert single.plot().get_suptitle() == ""
    other = Importance("profile", pd.Series([1.0, 2.0], index=["x1", "x2"]), details={
        "curves": _curves(), "outputs": [0, 1],
        "per_output": pd.DataFrame([[1.0, 2.0], [3.0, 4.0]], index=["x1", "x2"],
                                   columns=["fir", "oak"])})  # scores not the mean (1.5, 3.5)
    assert other.plot().get_suptitle() == ("curves of fir, one of 2 outputs (fir, oak);\n"
                                           "each output's score is in details['per_output']")


def test_a_bar_chart_of_a_test_on_a_rebuilt_network_says_it_is_not_the_given_model():
    """randomization_test with fit=None on a PyTorch network scores a network varimp rebuilt
    and trained as the null networks (details["test_settings"]["fit"]["how"] == "rebuilt"):
    the bar chart's title says so, inside the figure; a refitted clone is named as one, and a
    result on the given model keeps the method's name alone."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
    result = varimp.randomization_test(net, X, X @ [1.0, 0.5, 0.0],
                                       method="connection_weights", n_permutations=4,
                                       random_state=0)
    assert result.details["test_settings"]["fit"]["how"] == "rebuilt"
    ax = result.plot(kind="bar")
    title = ax.get_title()
    assert title.startswith("connection_weights\n") and " ".join(title.split()) == (
        "connection_weights (a rebuilt network, trained as the null networks; not the given "
        "model)")
    ax.figure.canvas.draw()
    box = ax.title.get_window_extent(ax.figure.canvas.get_renderer())
    assert ax.figure.bbox.contains(box.x0, box.y0) and ax.figure.bbox.contains(box.x1, box.y1)
    clone = _result(details={"given_model": result.scores, "test_settings": {
        "fit": {"how": "clone"}}}, by_time=pd.DataFrame(np.ones((3, 4)),
                                                        columns=["a", "b", "c", "d"]))
    for kind in ("bar", "heatmap"):
        assert " ".join(clone.plot(kind=kind).get_title().split()) == (
            "perturbation (a refitted clone, trained as the null networks; not the given model)")
    assert varimp.importance(net, X, method="connection_weights").plot(
        kind="bar").get_title() == "connection_weights"


def test_heatmap_of_a_result_for_one_predicted_step_names_that_step_in_its_title():
    """A model predicting all 6 steps, explained at ``output_step=3``: the heatmap's cells are
    the derivatives of predicted step 3 alone (closed form: 20 rows x 2**2 for x1, x 1**2 for
    x2, at input step 3 only), and its title says which predicted step they explain; the
    report's caption says it too. Summed over the steps, no such line."""
    from varimp import report
    from varimp.report import Case

    rng = np.random.default_rng(0)
    X = rng.uniform(size=(20, 6, 2))

    def every_step(Z):
        return 2.0 * Z[:, :, 0] + Z[:, :, 1]  # (n, T): step t reads input step t only

    third = varimp.partial_derivatives(every_step, X, output_step=3)
    expected = np.zeros((6, 2))
    expected[3] = [20 * 4.0, 20 * 1.0]
    np.testing.assert_allclose(third.by_time.to_numpy(), expected, atol=1e-6)
    ax = third.plot(kind="heatmap")
    assert ax.get_title() == ("partial_derivatives\n"
                              "explains predicted step 3 (output_step=3; the first is 0)")
    last = varimp.partial_derivatives(every_step, X, output_step=-1).plot(kind="heatmap")
    assert last.get_title().endswith("explains the last predicted step (output_step=-1)")
    summed = varimp.partial_derivatives(every_step, X).plot(kind="heatmap")
    assert summed.get_title() == "partial_derivatives"
    text = report.render_report(title="t", run={}, cases=[
        Case("c", "d", Comparison({"partial_derivatives": third}), {})])
    assert ("the most recent); it explains predicted step 3 (output_step=3; the first is 0)."
            in text)


def test_a_horizontal_bar_charts_axis_label_is_wrapped_to_the_axes_width():
    """40 variables (horizontal bars) with an interval: the long axis label ("... (error bars:
    95% interval (row bootstrap, 100 resamples))") is wrapped to the axes' width, every word
    kept, inside the axes' horizontal extent and the figure."""
    names = _long_names(40)
    scores = pd.Series(np.linspace(40.0, 1.0, 40), index=names)
    ci = pd.DataFrame({"low": scores - 0.5, "high": scores + 0.5})
    result = Importance("partial_derivatives", scores, ci=ci, details={
        "measure": "sum of squared derivatives", "ci_level": 0.95, "n_bootstrap": 100})
    ax = result.plot()
    assert _outside(ax.figure) == []
    renderer = ax.figure.canvas.get_renderer()
    label, box = ax.xaxis.label.get_window_extent(renderer), ax.get_window_extent(renderer)
    assert box.x0 - 1 <= label.x0 and label.x1 <= box.x1 + 1
    assert " ".join(ax.get_xlabel().split()) == ("sum of squared derivatives (error bars: 95% "
                                                 "interval (row bootstrap, 100 resamples))")


@pytest.mark.parametrize(("n_variables", "where"), [(40, None), (4, None), (12, "constrained")])
def test_the_stars_legend_covers_no_bar(n_variables, where):
    """The legend of the stars lies outside the bars: under the axes of a figure varimp makes
    (horizontal or vertical bars), beside them in the user's constrained subplot; its drawn
    window overlaps no bar's, nor any star's."""
    names = _long_names(n_variables)
    rng = np.random.default_rng(n_variables)
    scores = pd.Series(rng.normal(size=n_variables), index=names)
    pvalues = pd.Series(np.where(np.arange(n_variables) < 3, 0.001, 0.5), index=names)
    result = Importance("connection_weights", scores, pvalues=pvalues)
    if where is None:
        ax = result.plot()
        legend, = ax.figure.legends
    else:
        _, (ax, _) = plt.subplots(1, 2, figsize=(12, 4), layout="constrained")
        result.plot(ax=ax)
        legend = ax.get_legend()
    figure = ax.figure
    assert _outside(figure) == []
    renderer = figure.canvas.get_renderer()
    window = legend.get_window_extent(renderer)
    bars = [patch.get_window_extent(renderer) for patch in ax.patches]
    assert len(bars) == n_variables
    assert not any(window.overlaps(bar) for bar in bars)
    assert not any(window.overlaps(star.get_window_extent(renderer)) for star in ax.texts)
    assert len(ax.texts) == 3  # the three significant bars carry their stars


def test_a_result_for_chosen_outputs_names_them_in_its_title():
    """A three-class classifier scored for one class (by name or index), for two, and for
    all: the bar chart's title says which, by the class names."""
    from sklearn.neural_network import MLPClassifier

    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(60, 3)), columns=["a", "b", "c"])
    y = np.array(["fir", "oak", "pine"])[np.digitize(X["a"], [-0.4, 0.4])]
    model = MLPClassifier((4,), max_iter=30, random_state=0).fit(X, y)
    one = varimp.importance(model, X, y, method="garson", output="oak")
    assert one.plot().get_title() == "garson\nfor output oak"
    two = varimp.importance(model, X, y, method="garson", output=["pine", "fir"])
    assert two.plot().get_title() == "garson\nfor outputs pine, fir"
    by_index = varimp.importance(model, X, y, method="garson", output=1)
    assert by_index.plot().get_title() == "garson\nfor output oak"
    assert varimp.importance(model, X, y, method="garson").plot().get_title() == "garson"


def test_the_rank_colour_bar_always_labels_rank_1_and_the_last_rank():
    for n_features in (4, 13, 40):
        ax = _comparison(n_features).plot(kind="heatmap")
        ax.figure.canvas.draw()
        bar = ax.figure.axes[-1]
        shown = [int(t.get_text()) for t in bar.get_yticklabels() if t.get_text()]
        assert shown[0] == 1 and shown[-1] == n_features
        assert shown == sorted(shown) and len(shown) >= 2
        inner = np.diff(shown[1:-1])  # between the ends: every 1, 2, 5, 10... ranks
        assert len(set(inner)) <= 1 and all(rank % inner[0] == 0 for rank in shown[1:-1])
        assert not _touching([t for t in bar.get_yticklabels() if t.get_text()])


def test_heatmaps_in_a_small_figure_after_tight_layout_keep_every_text_inside():
    """Two weight-based heatmaps of 15 long-named features in the user's 7 x 3 inch figure,
    then ``tight_layout()``, saved: the caption takes at most two lines a line (its short
    form where the long one would not), and every text (the colour bars' labels included)
    lies inside the saved figure."""
    import io

    names = ["discharge_upstream_m3s", "precipitation_mm_day", "air_temperature_degC",
             "snow_water_equiv_mm", "soil_moisture_vol_pct", "evapotranspiration_mm",
             "relative_humidity_pct", "wind_speed_m_s", "solar_radiation_W_m2",
             "groundwater_level_m", "reservoir_release_m3s", "day_of_year_sin",
             "day_of_year_cos", "catchment_area_km2", "upstream_turbidity_NTU"]
    result = _weights_heatmap(120, names=names, method="connection_weights")
    figure, axes = plt.subplots(1, 2, figsize=(7, 3))
    result.plot(ax=axes[0])
    result.plot(ax=axes[1])
    figure.tight_layout()
    figure.savefig(io.BytesIO(), format="png")  # the draw a file gets
    renderer = figure.canvas.get_renderer()
    for text in _drawn_texts(figure):
        box = text.get_window_extent(renderer)
        assert box.x0 >= -0.5 and box.y0 >= -0.5, text.get_text()
        assert box.x1 <= figure.bbox.width + 0.5 and box.y1 <= figure.bbox.height + 0.5, \
            text.get_text()
    caption = axes[0].get_xlabel()
    assert caption.count("\n") <= 3
    assert " ".join(caption.split()) in ("time step (most recent last) " + plot.LINEAR_PATH_NOTE,
                                         "time step weights only (linear path)")


def test_an_unnamed_classifiers_profile_is_labelled_probability_and_chosen_by_index():
    """A softmax network profiled without classes: its per-output columns are the default
    labels "output k", which name no class: the y axis reads "probability" (not
    "P(output 1)"), ``output="output 1"`` or 1 draws output 1, and a bad output lists the
    indices only."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    X = np.random.default_rng(0).normal(size=(40, 2))
    net = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Softmax(dim=1))
    result = varimp.importance(net, X, method="profile")
    assert list(result.details["per_output"].columns) == ["output 0", "output 1", "output 2"]
    by_label, by_index = result.plot(output="output 1"), result.plot(output=1)
    assert by_label.axes[0].get_ylabel() == by_index.axes[0].get_ylabel() == "probability"
    np.testing.assert_array_equal(by_label.axes[0].lines[-1].get_ydata(),
                                  by_index.axes[0].lines[-1].get_ydata())
    assert np.ptp(by_label.axes[0].lines[-1].get_ydata()) == pytest.approx(
        result.details["per_output"].loc["x1", "output 1"], rel=1e-9)
    with pytest.raises(varimp.InputError, match=r"output must be one of \[0, 1, 2\]; "
                       r"received 'oak'"):
        result.plot(output="oak")
    plt.close("all")
