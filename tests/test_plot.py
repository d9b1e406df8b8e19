"""Plots: the drawn artists carry exactly the numbers of the result."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import varimp  # noqa: E402
from varimp import plot  # noqa: E402
from varimp.result import Comparison, Importance  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _result(**extra):
    scores = pd.Series([0.2, -0.9, 0.5, 0.05], index=["a", "b", "c", "d"])
    return Importance("perturbation", scores, **extra)


def _errorbar_segments(ax):
    container = next(c for c in ax.containers if hasattr(c, "has_yerr"))
    return np.array([seg for seg in container.lines[2][0].get_segments()])


def test_bar_heights_are_the_scores_sorted_by_importance_with_std_error_bars():
    std = pd.Series([0.01, 0.02, 0.03, 0.04], index=["a", "b", "c", "d"])
    result = _result(std=std)
    ax = plot.plot_importance(result, kind="bar")
    heights = [p.get_height() for p in ax.patches]
    np.testing.assert_allclose(heights, [-0.9, 0.5, 0.2, 0.05])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["b", "c", "a", "d"]
    segments = _errorbar_segments(ax)  # one vertical segment per bar: score -/+ std
    np.testing.assert_allclose(segments[:, 0, 1], np.array(heights) - [0.02, 0.03, 0.01, 0.04])
    np.testing.assert_allclose(segments[:, 1, 1], np.array(heights) + [0.02, 0.03, 0.01, 0.04])


def test_bar_with_ci_stars_and_top():
    ci = pd.DataFrame({"low": [0.1, -1.0, 0.45, 0.0], "high": [0.3, -0.7, 0.6, 0.1]},
                      index=["a", "b", "c", "d"])
    pvalues = pd.Series([0.03, 0.0005, 0.004, 0.5], index=["a", "b", "c", "d"])
    ax = _result(ci=ci, pvalues=pvalues).plot(kind="bar")
    segments = _errorbar_segments(ax)
    np.testing.assert_allclose(segments[:, 0, 1], [-1.0, 0.45, 0.1, 0.0])
    np.testing.assert_allclose(segments[:, 1, 1], [-0.7, 0.6, 0.3, 0.1])
    marks = {round(t.xy[0]): t.get_text() for t in ax.texts}
    assert marks == {0: "***", 1: "**", 2: "*"}  # b, c, a; d is not significant
    ax = plot.plot_importance(_result(), kind="bar", top=2)
    np.testing.assert_allclose([p.get_height() for p in ax.patches], [-0.9, 0.5])


def test_stars_thresholds():
    assert [plot.stars(p) for p in (0.0009, 0.001, 0.009, 0.049, 0.05, 0.7)] == [
        "***", "**", "**", "*", "", ""]


def test_heatmap_array_is_by_time_with_most_recent_step_last():
    by_time = pd.DataFrame(np.arange(15.0).reshape(5, 3) / 10, columns=["x1", "x2", "x3"],
                           index=pd.RangeIndex(5, name="time_step"))
    result = Importance("permutation", by_time.sum(), by_time=by_time)
    ax = result.plot()  # by_time present: a heatmap by default
    np.testing.assert_array_equal(ax.images[0].get_array(), by_time.to_numpy().T)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2", "3", "4"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["x1", "x2", "x3"]
    assert len(ax.figure.axes) == 2  # the colour bar
    assert ax.images[0].get_cmap().name == "viridis"
    signed = Importance("connection_weights", by_time.sum(), by_time=by_time - 0.5)
    image = signed.plot(kind="heatmap").images[0]
    assert image.get_cmap().name == "RdBu_r"
    assert image.get_clim() == pytest.approx((-0.9, 0.9))


def test_heatmap_thins_long_time_axes_but_keeps_the_last_step():
    by_time = pd.DataFrame(np.ones((50, 2)), columns=["u", "v"])
    ax = Importance("perturbation", by_time.sum(), by_time=by_time).plot()
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels[-1] == "49" and len(labels) <= 20


def test_profile_lines_are_the_curves():
    rows = []
    for variable in ("x1", "x2"):
        for level in ("min", "median", "max"):
            for x in np.linspace(0, 1, 4):
                for output in (0, 1):
                    rows.append((variable, level, x, hash((variable, level, x, output)) % 97,
                                 output))
    curves = pd.DataFrame(rows, columns=["variable", "level", "x", "prediction", "output"])
    result = Importance("profile", pd.Series([1.0, 2.0], index=["x1", "x2"]),
                        details={"curves": curves})
    axes = result.plot()
    assert len(axes) == 2
    for ax, variable in zip(axes, ("x1", "x2"), strict=True):
        assert ax.get_title() == variable
        assert [line.get_label() for line in ax.lines] == ["min", "median", "max"]
        for line in ax.lines:
            part = curves[(curves.variable == variable) & (curves.level == line.get_label())
                          & (curves.output == 0)]
            np.testing.assert_array_equal(line.get_xdata(), part["x"])
            np.testing.assert_array_equal(line.get_ydata(), part["prediction"])
    _, single = plt.subplots()
    ax = plot.plot_importance(result, kind="profile", ax=single, variables=["x2"], output=1)
    assert ax is single
    part = curves[(curves.variable == "x2") & (curves.level == "max") & (curves.output == 1)]
    np.testing.assert_array_equal(ax.lines[2].get_ydata(), part["prediction"])


def test_comparison_grouped_bars_are_relative_importance():
    first = Importance("garson", pd.Series([1.0, 3.0, 0.0], index=["a", "b", "c"]))
    second = Importance("permutation", pd.Series([2.0, 2.0, 6.0], index=["a", "b", "c"]))
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


@pytest.mark.parametrize("call", [
    lambda: plot.plot_importance(_result(), kind="pie"),
    lambda: plot.plot_importance(_result(), kind="heatmap"),
    lambda: plot.plot_importance(_result(), kind="profile"),
    lambda: plot.plot_importance(_result().scores),
    lambda: plot.plot_comparison(_result()),
])
def test_bad_plot_requests_are_input_errors(call):
    with pytest.raises(varimp.InputError):
        call()
