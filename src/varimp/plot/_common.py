"""What every plot shares: the captions and labels, the page a figure must fit on, colour bars
whose label fits beside them and tick labels that never overlap."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..result import Importance

KINDS = ("bar", "heatmap", "profile")
COMPARISON_KINDS = ("bar", "heatmap")
#: Significance stars and the p-value each requires (strictly below).
STARS = ((0.001, "***"), (0.01, "**"), (0.05, "*"))
#: The legend of the stars on a bar chart of a result with p-values.
SIGNIFICANCE_CAPTION = "* p < 0.05   ** p < 0.01   *** p < 0.001"
#: More variables than this: horizontal bars, and a rank heatmap for comparisons.
MANY = 15
#: At most this many labelled time steps on a heatmap (step 0 and the last always among them).
TIME_TICKS = 12
#: Caption of the ``by_time`` heatmap of a method that reads the weights (the registry's
#: ``reads_weights``): it follows the network's linear path, not the data.
LINEAR_PATH_CAPTION = ("weights only: the linear path with gates at rest,\n"
                       "not a data-driven map (see docs/recurrent-weights.md)")
#: Axis label of a score of each kind when the result does not name its measure.
KIND_LABELS = {"loss": "increase in error", "effect": "signed effect",
               "share": "share of importance", "magnitude": "importance"}
MEDIAN_LABEL = "median (scored)"
#: The largest figure varimp makes, (width, height) in inches: one page of a paper.
PAGE = (10.0, 10.0)
#: Dots per inch of a PNG varimp saves (the demo, ``varimp run``): print quality for a paper.
DPI = 200
#: The smallest font, in points, that crowded tick labels shrink to.
SMALLEST_FONT = 5.0


def new_axes(ax: Any, figsize: tuple[float, float]) -> Any:
    """``ax``, or the Axes of a new constrained-layout figure of ``figsize`` cut to the page."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    size = (min(figsize[0], PAGE[0]), min(figsize[1], PAGE[1]))
    return plt.subplots(figsize=size, layout="constrained")[1]


def stars(pvalue: float) -> str:
    """``"***"``, ``"**"``, ``"*"`` or ``""`` for a p-value (thresholds 0.001, 0.01, 0.05)."""
    for threshold, mark in STARS:
        if pvalue < threshold:
            return mark
    return ""


def measure_label(importance: Importance) -> str:
    """What the scores measure, with its direction: ``details["measure"]`` or the kind's, and
    the prediction it is read from where that is more than one plain prediction
    (``details["prediction"]``: "range of the median response curve (prediction summed over 10
    steps)")."""
    measure = importance.details.get("measure")
    label = measure if isinstance(measure, str) and measure else KIND_LABELS[importance.kind]
    read = prediction_label(importance)
    return label if read == "prediction" else f"{label} ({read})"


def prediction_label(importance: Importance) -> str:
    """What a prediction in the result is (``details["prediction"]``): ``"prediction"``, or
    e.g. ``"prediction summed over 10 steps"`` for a model that predicts every step."""
    read = importance.details.get("prediction")
    return read if isinstance(read, str) and read else "prediction"


def default_kind(importance: Importance) -> str:
    """``"profile"`` for Lek's curves, ``"heatmap"`` when ``by_time`` exists, else ``"bar"``."""
    if isinstance(importance.details.get("curves"), pd.DataFrame):
        return "profile"
    return "heatmap" if importance.by_time is not None else "bar"


def plot_kinds(importance: Importance) -> list[str]:
    """Every plot worth drawing of a result, its default first: the bar chart, the heatmap of
    ``by_time`` and Lek's profile curves, where the result has them."""
    kinds = [default_kind(importance), "bar"]
    return list(dict.fromkeys(kinds + ["heatmap"] * (importance.by_time is not None)))


def time_ticks(n_steps: int, most: int = TIME_TICKS) -> list[int]:
    """Evenly spaced time steps to label, always step 0 and the last one, at most ``most``."""
    if n_steps <= most:
        return list(range(n_steps))
    stride = int(np.ceil((n_steps - 1) / (most - 1)))
    ticks = list(range(0, n_steps - 1, stride))
    if n_steps - 1 - ticks[-1] < stride / 2:  # too close to the last step to read apart
        ticks.pop()
    return ticks + [n_steps - 1]


def text_width(text: str, fontsize: float) -> float:
    """The width in inches of ``text`` (its longest line) in the default font at ``fontsize``
    points, measured from the glyphs, before anything is drawn."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import text_to_path

    font = FontProperties(size=fontsize)
    return max(text_to_path.get_text_width_height_descent(line, font, ismath=False)[0]
               for line in str(text).split("\n")) / 72.0


def label_size(kind: str = "axes.labelsize") -> float:
    """A font size of matplotlib's rc settings (``"axes.labelsize"``, ``"xtick.labelsize"``) in
    points."""
    import matplotlib as mpl
    from matplotlib.font_manager import FontProperties

    return FontProperties(size=mpl.rcParams[kind]).get_size_in_points()


def axes_inches(ax: Any) -> tuple[float, float]:
    """The width and height of ``ax`` in inches once its figure is laid out."""
    figure = ax.figure
    if figure.get_layout_engine() is not None:
        figure.draw_without_rendering()
    return tuple(ax.get_position().size * figure.get_size_inches())


def grow_to(ax: Any, height: float) -> None:
    """Make the figure of ``ax`` (a figure varimp made) taller until ``ax`` is ``height`` inches
    tall, never past the page."""
    figure = ax.figure
    width, tall = figure.get_size_inches()
    short = height - axes_inches(ax)[1]
    if short > 0.01 and tall < PAGE[1]:
        figure.set_size_inches(width, min(PAGE[1], tall + short))


def colorbar(image: Any, ax: Any, label: str, *, grow: bool = False,
             refit: Callable[[], object] | None = None) -> Any:
    """A labelled colour bar beside ``ax`` whose label fits along it and that stays out of the
    neighbouring axes.

    The bar is as tall as ``ax``. A label longer than that makes a figure varimp made (``grow``)
    taller, up to the page; what still does not fit is wrapped onto more lines. A figure with
    constrained layout makes room for the bar. In any other figure (the user's own
    ``plt.subplots``) the colour bar is carved out of the area of ``ax`` (Matplotlib's
    ``make_axes_locatable``), and the heatmap then shrinks until everything drawn for it (tick
    labels, title, axis labels and caption, the colour bar, its ticks and its label) lies
    inside the area ``ax`` was given (:func:`keep_within`), so that nothing spills over a
    neighbouring subplot. ``refit`` is called before each measurement: it re-wraps what
    depends on the heatmap's size (the caption, crowded tick labels).
    """
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    figure = ax.figure
    size = label_size()
    if grow:
        grow_to(ax, text_width(label, size) + 0.15)
    if isinstance(figure.get_layout_engine(), ConstrainedLayoutEngine):
        return figure.colorbar(image, ax=ax, label=wrap_to(label, size, axes_inches(ax)[1]))
    from mpl_toolkits.axes_grid1 import make_axes_locatable

    divider = make_axes_locatable(ax)
    bar = figure.colorbar(image, cax=divider.append_axes("right", size=0.12, pad=0.08),
                          label=label)

    def fit() -> None:
        if refit is not None:
            refit()
        bar.set_label(wrap_to(label, size, axes_inches(ax)[1]))

    keep_within(divider, [ax, bar.ax], fit)
    return bar


def keep_within(divider: Any, axes: Sequence[Any], refit: Callable[[], object],
                rounds: int = 8) -> None:
    """Shrink the axes laid out by ``divider`` (an ``AxesDivider`` of the first of ``axes``)
    until everything drawn for ``axes``, labels included, lies inside the area the first one
    was given, to half a pixel: the overflow on each side becomes a fixed margin on that side.
    ``refit()`` runs before each measurement. The margins never take more than 90% of the area
    (an area too small to hold the labels keeps a sliver of heatmap)."""
    from matplotlib.transforms import Bbox
    from mpl_toolkits.axes_grid1 import axes_size

    figure = axes[0].figure
    margins = {side: axes_size.Fixed(0.0) for side in ("left", "right", "bottom", "top")}
    for side, margin in margins.items():
        divider.append_size(side, margin)
    for _ in range(rounds):
        refit()
        figure.draw_without_rendering()
        renderer = figure.canvas.get_renderer()
        drawn = Bbox.union([ax.get_tightbbox(renderer) for ax in axes])
        area = Bbox.from_bounds(*divider.get_position()).transformed(figure.transFigure)
        over = {"left": area.x0 - drawn.x0, "right": drawn.x1 - area.x1,
                "bottom": area.y0 - drawn.y0, "top": drawn.y1 - area.y1}
        if max(over.values()) <= 0.5:
            return
        room = {"left": area.width, "right": area.width, "bottom": area.height,
                "top": area.height}
        for side, pixels in over.items():
            across = ("left", "right") if side in ("left", "right") else ("bottom", "top")
            used = sum(margins[s].fixed_size for s in across) * figure.dpi
            grow = min(max(pixels, 0.0), 0.9 * room[side] - used)
            margins[side].fixed_size += max(grow, 0.0) / figure.dpi


def fit_ylabel(ax: Any, grow: bool, least: float = 2.2) -> None:
    """Room along ``ax`` for its y-axis label: a figure varimp made (``grow``) grows until
    ``ax`` is as tall as the label and at least ``least`` inches; what still does not fit is
    wrapped."""
    size = label_size()
    label = ax.get_ylabel()
    if grow:
        grow_to(ax, max(least, text_width(label, size) + 0.15))
    ax.set_ylabel(wrap_to(label, size, axes_inches(ax)[1]))


def wrap_to(text: str, fontsize: float, length: float) -> str:
    """``text`` on as many lines as it needs for none to be longer than ``length`` inches (its
    own line breaks kept)."""
    lines = []
    for line in str(text).split("\n"):
        width = text_width(line, fontsize)
        chars = len(line) if width + 0.1 <= length else \
            max(8, int(len(line) * (length - 0.1) / width))
        lines += textwrap.wrap(line, chars, break_long_words=False) or [line]
    return "\n".join(lines)


def fit_tick_labels(ax: Any, which: str = "x") -> None:
    """Tick labels of one axis that do not overlap once drawn.

    x labels that would touch are turned upright (90 degrees); labels that still touch (x or y)
    are made smaller, down to :data:`SMALLEST_FONT` points. Overlap is measured on the drawn
    labels, so it follows the names' real widths, not their count.
    """
    figure = ax.figure
    while True:
        figure.draw_without_rendering()
        labels = [t for t in (ax.get_xticklabels() if which == "x" else ax.get_yticklabels())
                  if t.get_visible() and t.get_text()]
        if not _touching(labels, which):
            return
        if which == "x" and labels[0].get_rotation() == 0:
            ax.tick_params(axis="x", labelrotation=90)
            continue
        size = labels[0].get_fontsize()
        if size <= SMALLEST_FONT:
            return
        ax.tick_params(axis=which, labelsize=max(SMALLEST_FONT, 0.85 * size))


def _touching(labels: list[Any], which: str) -> bool:
    """Whether any two neighbouring drawn labels overlap (or touch) along the axis."""
    if len(labels) < 2:
        return False
    renderer = labels[0].figure.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in labels]
    spans = sorted((b.x0, b.x1) if which == "x" else (b.y0, b.y1) for b in boxes)
    return any(high + 1.0 > low for (_, high), (low, _) in zip(spans, spans[1:], strict=False))
