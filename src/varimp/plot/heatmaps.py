"""Heatmaps: the time x feature table of a sequence model, and the methods x features table of
ranks of a comparison."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import InputError
from ..registry import REGISTRY
from ..result import Comparison, Importance
from ._common import (
    LINEAR_PATH_CAPTION,
    axes_inches,
    colorbar,
    fit_tick_labels,
    label_size,
    measure_label,
    new_axes,
    text_width,
    time_ticks,
    wrap_to,
)

#: Inches per row (feature or method) and per time step of a heatmap varimp makes.
ROW, STEP = 0.3, 0.35


def time_heatmap(importance: Importance, ax: Any, *, cmap: str | None = None) -> Any:
    """``by_time``: time running left to right, features top to bottom, a colour bar labelled
    with the measure; a weight-based map carries :data:`LINEAR_PATH_CAPTION`."""
    table = importance.by_time
    if table is None:
        raise InputError(f"the {importance.method} result has no by_time table to draw as a "
                         "heatmap (sequence input and a method that resolves time are needed)")
    values = table.to_numpy(dtype=float).T  # features x time steps
    finite = values[np.isfinite(values)]
    signed = finite.size > 0 and finite.min() < 0 < finite.max()
    if cmap is None:
        cmap = "RdBu_r" if signed else "viridis"
    limit = np.abs(finite).max() if signed else None
    label = "time step (most recent last)"
    spec = REGISTRY.get(importance.method)
    if spec is not None and spec.reads_weights:
        label += "\n" + LINEAR_PATH_CAPTION
    ours = ax is None
    # the rows, the title above and the tick labels and caption lines below
    height = ROW * values.shape[0] + 0.9 + 0.2 * label.count("\n")
    ax = new_axes(ax, (max(4.5, STEP * len(table.index) + 3), max(2.8, height)))
    image = ax.imshow(values, aspect="auto", cmap=cmap, interpolation="nearest",
                      vmin=-limit if signed else None, vmax=limit)
    ax.set_yticks(np.arange(values.shape[0]), [str(c) for c in table.columns])
    ticks = time_ticks(len(table.index))
    ax.set_xticks(ticks, [str(table.index[t]) for t in ticks])
    ax.set_title(importance.method)
    # as wide as the axes will be beside the colour bar (a narrow subplot of the user's)
    ax.set_xlabel(wrap_to(label, label_size(), axes_inches(ax)[0] - 0.9))

    def refit() -> None:  # the user's figure without a layout engine: as wide as the heatmap
        ax.set_xlabel(wrap_to(label, label_size(), axes_inches(ax)[0]))
        fit_tick_labels(ax, "y")

    colorbar(image, ax, measure_label(importance), grow=ours, refit=refit)
    fit_tick_labels(ax, "y")
    return ax


def rank_heatmap(comparison: Comparison, ax: Any, *, cmap: str = "viridis_r") -> Any:
    """The methods x features table of ranks, every cell annotated, features by mean rank."""
    ranks = comparison.ranks
    ranks = ranks.loc[ranks.mean(axis=1).sort_values(kind="stable").index].T  # methods x vars
    n_methods, n_vars = ranks.shape
    methods = [str(m) for m in ranks.index]
    names = [str(v) for v in ranks.columns]
    ours = ax is None
    ticks = label_size("xtick.labelsize")
    longest = max(text_width(name, ticks) for name in names)
    upright = longest > 0.9 * STEP  # the names will stand upright under their columns
    width = STEP * n_vars + max(text_width(m, ticks) for m in methods) + 1.6
    height = ROW * 1.3 * n_methods + 0.9 + (longest if upright else 0.25)
    ax = new_axes(ax, (max(5.0, width), max(2.5, height)))
    values = ranks.to_numpy(dtype=float)
    top = int(np.nanmax(values)) if np.isfinite(values).any() else 1
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    # one colour per rank, centred on the integers
    image = ax.imshow(values, aspect="auto", cmap=plt.get_cmap(cmap, max(top, 2)),
                      interpolation="nearest", vmin=0.5, vmax=max(top, 2) + 0.5)
    ax.set_xticks(np.arange(n_vars), names)
    ax.set_yticks(np.arange(n_methods), methods)
    size = "small" if n_vars <= 20 else "x-small"
    for (row, col), rank in np.ndenumerate(values):
        if np.isfinite(rank):
            shade = image.cmap(image.norm(rank))
            light = 0.299 * shade[0] + 0.587 * shade[1] + 0.114 * shade[2] > 0.5
            ax.text(col, row, str(int(rank)), ha="center", va="center", fontsize=size,
                    color="black" if light else "white")
    ax.set_title("rank of every variable by every method")
    fit_tick_labels(ax, "x")
    bar = colorbar(image, ax, "rank (1 = most important)", grow=ours,
                   refit=lambda: fit_tick_labels(ax, "x"))
    bar.ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    bar.ax.invert_yaxis()  # rank 1 on top
    fit_tick_labels(ax, "x")
    return ax
