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
    LINEAR_PATH_NOTE,
    PAGE,
    SHORT_LINEAR_PATH_NOTE,
    SHORT_TIME_CAPTION,
    SMALLEST_FONT,
    TIME_CAPTION,
    axes_inches,
    colorbar,
    fit_tick_labels,
    label_size,
    measure_label,
    new_axes,
    set_title,
    text_width,
    wrap_to,
)

#: Inches per row (feature or method) and per time step of a heatmap varimp makes.
ROW, STEP = 0.3, 0.35


def time_heatmap(importance: Importance, ax: Any, *, cmap: str | None = None) -> Any:
    """``by_time``: time running left to right, features top to bottom, a colour bar labelled
    with the measure; a weight-based map carries :data:`LINEAR_PATH_CAPTION` under its time
    axis (in the user's own axes, :data:`LINEAR_PATH_NOTE`); a heatmap too narrow for its
    caption on two lines a line at 7 points carries the short form (:data:`SHORT_TIME_CAPTION`,
    :data:`SHORT_LINEAR_PATH_NOTE`).

    The time steps labelled, the caption's line breaks and the size of the features' names
    follow the heatmap's drawn size, re-read every time the figure is laid out or drawn
    (:class:`TimeTicks`, :class:`RowTicks`): in the user's own subplot they fit whatever room
    the user's layout (or none) leaves, and varimp reserves no margins of its own there.
    """
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
    ours = ax is None
    label, short = TIME_CAPTION, SHORT_TIME_CAPTION
    spec = REGISTRY.get(importance.method)
    if spec is not None and spec.reads_weights:
        label += "\n" + (LINEAR_PATH_CAPTION if ours else LINEAR_PATH_NOTE)
        short += "\n" + SHORT_LINEAR_PATH_NOTE
    width = min(PAGE[0], max(4.5, STEP * len(table.index) + 3))
    lines = 1 + wrap_to(label, label_size(), width - 3).count("\n")
    # the rows, the title above and the tick labels and caption lines below
    ax = new_axes(ax, (width, max(2.8, ROW * values.shape[0] + 0.7 + 0.2 * lines)))
    image = ax.imshow(values, aspect="auto", cmap=cmap, interpolation="nearest",
                      vmin=-limit if signed else None, vmax=limit)
    steps = [str(step) for step in table.index]
    names = [str(c) for c in table.columns]

    from .ticks import Names, RowTicks, TimeTicks

    ax.xaxis.set_major_locator(TimeTicks(steps, caption=label, short=short))  # fitted as drawn
    ax.xaxis.set_major_formatter(Names(steps))
    ax.yaxis.set_major_locator(RowTicks(len(names), label_size("ytick.labelsize")))
    ax.yaxis.set_major_formatter(Names(names))
    ax.set_xlabel(label)
    set_title(ax, importance)
    step = explained_step(importance)
    if step:
        ax.set_title(f"{ax.get_title()}\n"
                     f"{wrap_to(step, label_size('axes.titlesize'), axes_inches(ax)[0])}")
    colorbar(image, ax, measure_label(importance), grow=ours)
    return ax


def explained_step(importance: Importance) -> str:
    """Which predicted step a result of a model predicting every step explains, from
    ``details["settings"]["output_step"]``: ``"explains predicted step 5 (output_step=5; the
    first is 0)"``, ``"explains the last predicted step (output_step=-1)"``; "" when the
    predictions were summed over the steps or there is one."""
    settings = importance.details.get("settings")
    step = settings.get("output_step") if isinstance(settings, dict) else None
    if step is None:
        return ""
    step = int(step)
    if step == -1:
        return "explains the last predicted step (output_step=-1)"
    if step < 0:
        return f"explains predicted step {step} from the end (output_step={step}; the last is -1)"
    return f"explains predicted step {step} (output_step={step}; the first is 0)"


def rank_heatmap(comparison: Comparison, ax: Any, *, cmap: str = "viridis_r") -> Any:
    """The methods x features table of ranks, features by mean rank, every cell annotated with
    its rank in a font sized to the cell as drawn (:class:`~varimp.plot.ticks.CellNumber`:
    down to 5 points; cells too small for that show only their colour); the colour bar labels
    rank 1 and the last rank always (:class:`~varimp.plot.ticks.RankTicks`)."""
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

    # one colour per rank, centred on the integers
    image = ax.imshow(values, aspect="auto", cmap=plt.get_cmap(cmap, max(top, 2)),
                      interpolation="nearest", vmin=0.5, vmax=max(top, 2) + 0.5)
    ax.set_xticks(np.arange(n_vars), names)
    ax.set_yticks(np.arange(n_methods), methods)
    from matplotlib.font_manager import FontProperties

    from .ticks import CellNumber, RankTicks

    size = FontProperties(size="small").get_size_in_points() if n_vars <= 20 else SMALLEST_FONT
    finite = values[np.isfinite(values)]
    widest = max((text_width(str(int(rank)), 10.0) / 10.0 for rank in finite), default=0.0)
    for (row, col), rank in np.ndenumerate(values):
        if np.isfinite(rank):
            shade = image.cmap(image.norm(rank))
            light = 0.299 * shade[0] + 0.587 * shade[1] + 0.114 * shade[2] > 0.5
            ax.add_artist(CellNumber(col, row, str(int(rank)), size=size, widest=widest,
                                     shape=values.shape, color="black" if light else "white"))
    ax.set_title("rank of every variable by every method")
    bar = colorbar(image, ax, "rank (1 = most important)", grow=ours)
    bar.locator = RankTicks(top)  # rank 1 and the last rank always labelled
    bar.ax.invert_yaxis()  # rank 1 on top
    fit_tick_labels(ax, "x")
    return ax
