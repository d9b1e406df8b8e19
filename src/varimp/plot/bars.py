"""Bar charts: one result's scores, and several methods' relative importance side by side
(grouped bars, or a dot plot when the bars would be too thin to read)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..result import Comparison, Importance, adjusted_pvalues
from ._common import (
    MANY,
    PAGE,
    SIGNIFICANCE_CAPTION,
    error_bars,
    fit_tick_labels,
    fit_xlabel,
    fit_ylabel,
    legend_beside,
    measure_label,
    name_rows,
    new_axes,
    set_title,
    stars,
)

#: The most bars (variables x methods) a comparison draws as grouped bars: on a page, more would
#: be thinner than about 4 points, so a dot plot (one marker per method) is drawn instead.
MOST_BARS = 100
#: Markers of the methods on a dot plot, in the order of ``Comparison.results``.
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">", "h", "p")
RELATIVE_LABEL = "relative importance (%)"
#: The title of the stars' legend: which p-values the stars mark.
SIGNIFICANCE_TITLE = "randomization test,\nBenjamini-Hochberg adjusted p"
#: Inches a figure varimp makes grows by for the stars' legend under its axes.
LEGEND_HEIGHT = 0.7
#: The gid of the collection of a bar chart's error bars (:func:`interval_segments`).
ERROR_BARS = "error bars"


def bars(importance: Importance, ax: Any, *, top: int | None = None, color: str = "tab:blue",
         horizontal: bool | None = None) -> Any:
    """One bar per variable, most important first, error bars from the interval ``ci`` (else
    ``std``), named on the score axis (:func:`~varimp.plot._common.error_bars`), stars for the
    Benjamini-Hochberg adjusted p-values (:func:`varimp.result.adjusted_pvalues`)."""
    order = importance.ranks.sort_values(kind="stable").index
    if top is not None:
        order = order[:top]
    horizontal = len(order) > MANY if horizontal is None else horizontal
    scores = importance.scores[order].to_numpy()
    ends = None  # (low, high) of every error bar, drawn as they are
    if importance.ci is not None:
        ci = importance.ci.loc[order]
        ends = ci["low"].to_numpy(dtype=float), ci["high"].to_numpy(dtype=float)
    elif importance.std is not None:
        std = importance.std[order].to_numpy(dtype=float)
        ends = scores - std, scores + std
    what = error_bars(importance)
    label = measure_label(importance) + ("" if what is None else f"\n(error bars: {what})")
    names = [str(name) for name in order]
    positions = np.arange(len(order))
    ours = ax is None
    if horizontal:
        ax = new_axes(ax, (6.0, max(3.0, 0.28 * len(order) + 1.2)))
        ax.barh(positions, scores, color=color)
        name_rows(ax, names)
        ax.set_ylim(len(order) - 0.5, -0.5)  # the most important on top, no empty margins
        ax.axvline(0.0, color="black", linewidth=0.8)
        ax.set_xlabel(label)
    else:
        ax = new_axes(ax, (max(4.0, 0.6 * len(order) + 2), 3.5))
        ax.bar(positions, scores, color=color)
        ax.set_xticks(positions, names)
        ax.axhline(0.0, color="black", linewidth=0.8)
        ax.set_ylabel(label)
    if ends is not None:
        interval_segments(ax, positions, *ends, horizontal)
    set_title(ax, importance)
    pvalues = adjusted_pvalues(importance)
    if pvalues is not None:
        tips = scores if ends is None else np.where(
            scores < 0, np.fmin(scores, ends[0]), np.fmax(scores, ends[1]))
        significance(ax, pvalues[order].to_numpy(dtype=float), positions, tips, horizontal,
                     ours)
    if horizontal:
        fit_xlabel(ax)
    else:  # upright names take height from the bars
        fit_tick_labels(ax, "x")
        fit_ylabel(ax, ours)
    return ax


def interval_segments(ax: Any, positions: np.ndarray, low: np.ndarray, high: np.ndarray,
                      horizontal: bool) -> Any:
    """Every error bar as a line segment from its ``low`` to its ``high`` end, as they are (an
    interval that excludes its score is drawn so, never stretched to reach it), with a cap
    at each end; the segments are one collection, its gid ``"error bars"``."""
    draw = ax.hlines if horizontal else ax.vlines
    segments = draw(positions, low, high, colors="black", linewidth=1.0, zorder=3)
    segments.set_gid(ERROR_BARS)
    cap = "|" if horizontal else "_"
    for end in (low, high):
        ax.plot(*((end, positions) if horizontal else (positions, end)), linestyle="none",
                marker=cap, markersize=6, markeredgewidth=1.0, color="black", zorder=3)
    return segments


def significance(ax: Any, pvalues: np.ndarray, positions: np.ndarray, tips: np.ndarray,
                 horizontal: bool, ours: bool = False) -> None:
    """Stars beyond the tip of each significant bar (its error bar included; below a negative
    bar), room made for them, and a legend that reads the stars (:data:`SIGNIFICANCE_CAPTION`)
    under the title :data:`SIGNIFICANCE_TITLE`, outside the bars: under the axes in a figure
    varimp made (``ours``, which grows by its height, up to the page), else beside them
    (:func:`~varimp.plot._common.legend_beside`: inside only in a figure without a layout
    engine and no room beside). ``pvalues`` are the Benjamini-Hochberg adjusted ones."""
    from matplotlib.lines import Line2D

    for at, pvalue, tip in zip(positions, pvalues, tips, strict=True):
        mark = stars(pvalue)
        if not mark:
            continue
        away = 1 if tip >= 0 else -1
        if horizontal:
            ax.annotate(mark, (tip, at), xytext=(2 * away, 0), textcoords="offset points",
                        ha="left" if away > 0 else "right", va="center")
        else:
            ax.annotate(mark, (at, tip), xytext=(0, away), textcoords="offset points",
                        ha="center", va="bottom" if away > 0 else "top")
    low, high = ax.get_xlim() if horizontal else ax.get_ylim()
    room = 0.12 * (high - low)
    (ax.set_xlim if horizontal else ax.set_ylim)(low - room * (low < 0), high + room)
    key = Line2D([], [], linestyle="none", label=SIGNIFICANCE_CAPTION)
    style = {"handlelength": 0, "handletextpad": 0, "fontsize": "small",
             "title": SIGNIFICANCE_TITLE, "title_fontsize": "small"}
    if not ours:
        legend_beside(ax, handles=[key], **style)
        return
    figure = ax.figure
    figure.legend(handles=[key], loc="outside lower center", **style)
    wide, tall = figure.get_size_inches()
    figure.set_size_inches(wide, min(PAGE[1], tall + LEGEND_HEIGHT))


def grouped_bars(comparison: Comparison, ax: Any) -> Any:
    """Every method's relative importance of every variable, variables by their mean (largest
    first); a dot plot (:func:`dots`) past :data:`MOST_BARS` bars."""
    relative = _by_mean(comparison)
    n_vars, n_methods = relative.shape
    if n_vars * n_methods > MOST_BARS:
        return dots(relative, ax)
    horizontal = n_vars > MANY
    width = 0.8 / n_methods
    positions = np.arange(n_vars)
    names = [str(name) for name in relative.index]
    ours = ax is None
    if horizontal:
        ax = new_axes(ax, (7.0, max(3.5, 0.12 * n_vars * n_methods + 1.5)))
    else:
        ax = new_axes(ax, (max(5.0, 0.5 * n_vars * n_methods ** 0.5 + 3), 3.8))
    for k, method in enumerate(relative.columns):
        at = positions - 0.4 + width * (k + 0.5)
        heights = relative[method].fillna(0.0).to_numpy()
        if horizontal:
            ax.barh(at, heights, width, label=str(method))
        else:
            ax.bar(at, heights, width, label=str(method))
    if horizontal:
        name_rows(ax, names)
        ax.set_ylim(n_vars - 0.5, -0.5)  # the most important on top, no empty margins
        ax.set_xlabel(RELATIVE_LABEL)
    else:
        ax.set_xticks(positions, names)
        ax.set_ylabel(RELATIVE_LABEL)
    _legend(ax, ours)
    if not horizontal:
        fit_tick_labels(ax, "x")
        fit_ylabel(ax, ours)
    return ax


def dots(relative: Any, ax: Any) -> Any:
    """A dot plot of the variables x methods table ``relative``: one row per variable (the
    first on top), one marker per method at its relative importance."""
    n_vars = len(relative.index)
    ours = ax is None
    ax = new_axes(ax, (7.0, min(PAGE[1], max(3.5, 0.25 * n_vars + 1.5))))
    rows = np.arange(n_vars)
    for k, method in enumerate(relative.columns):
        ax.plot(relative[method].to_numpy(dtype=float), rows, linestyle="none",
                marker=MARKERS[k % len(MARKERS)], markersize=5, alpha=0.85, label=str(method))
    name_rows(ax, [str(name) for name in relative.index])
    ax.set_ylim(n_vars - 0.5, -0.5)
    ax.grid(axis="y", color="0.9", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.set_xlabel(RELATIVE_LABEL)
    _legend(ax, ours)
    return ax


def _by_mean(comparison: Comparison) -> Any:
    relative = comparison.relative
    return relative.loc[relative.mean(axis=1).sort_values(ascending=False, kind="stable").index]


def _legend(ax: Any, ours: bool) -> None:
    """The methods' legend beside the axes (inside them where the user's figure has no room
    beside them: :func:`legend_beside`)."""
    legend_beside(ax, fontsize="small", ours=ours)
