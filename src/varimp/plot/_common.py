"""What every plot shares: the captions and labels, the page a figure must fit on, colour bars
whose label fits beside them and tick labels that never overlap."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pandas as pd

from ..result import Importance

KINDS = ("bar", "heatmap", "profile")
COMPARISON_KINDS = ("bar", "heatmap")
#: Significance stars and the largest p-value each takes (at or below it: a Monte Carlo p-value
#: ``(1 + #{null >= observed}) / (1 + N)`` is an exact level-alpha test when it rejects at
#: ``p <= alpha``, so 19 permutations, whose smallest p is 0.05, can reach the first star).
STARS = ((0.001, "***"), (0.01, "**"), (0.05, "*"))
#: The legend of the stars on a bar chart of a result with p-values.
SIGNIFICANCE_CAPTION = "* p \u2264 0.05   ** p \u2264 0.01   *** p \u2264 0.001"
#: More variables than this: horizontal bars, and a rank heatmap for comparisons.
MANY = 15
#: At most this many labelled time steps on a heatmap (step 0 and the last always among them).
TIME_TICKS = 12
#: The note under the ``by_time`` heatmap of a method that reads the weights (the registry's
#: ``reads_weights``): it follows the network's linear path, not the data. One line: in the
#: user's own axes it is all of the caption, an axis label the user's layout places.
LINEAR_PATH_NOTE = "weights only: the linear path with gates at rest"
#: The caption under the time axis of a heatmap, and its short form for a heatmap too narrow
#: for it on two lines at the smallest font.
TIME_CAPTION, SHORT_TIME_CAPTION = "time step (most recent last)", "time step"
#: The short form of :data:`LINEAR_PATH_NOTE` under such a narrow heatmap.
SHORT_LINEAR_PATH_NOTE = "weights only (linear path)"
#: The caption under such a heatmap in a figure varimp makes: the note, and where to read more.
LINEAR_PATH_CAPTION = (LINEAR_PATH_NOTE + ",\n"
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
SMALLEST_FONT = 7.0


def new_axes(ax: Any, figsize: tuple[float, float]) -> Any:
    """``ax``, or the Axes of a new constrained-layout figure of ``figsize`` cut to the page."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    size = (min(figsize[0], PAGE[0]), min(figsize[1], PAGE[1]))
    return plt.subplots(figsize=size, layout="constrained")[1]


def stars(pvalue: float) -> str:
    """``"***"``, ``"**"``, ``"*"`` or ``""`` for a p-value: the most stars whose threshold
    (0.001, 0.01, 0.05) the p-value is at or below (:data:`STARS`)."""
    for threshold, mark in STARS:
        if pvalue <= threshold * (1.0 + 1e-9):  # 1 / 20 is 0.05 whatever its rounding
            return mark
    return ""


def error_bars(importance: Importance) -> str | None:
    """What the error bars of a bar chart of ``importance`` are, in words; None without them.

    The interval ``ci`` is drawn where the result has one (the user asked for it with
    ``ci_level``, or an ensemble made it), else one standard deviation ``std``: "95% t prediction
    interval from 10 refitted networks", "95% interval (row bootstrap, 1000 resamples)",
    "\u00b11 SD over 5 repeats"."""
    details = importance.details
    ensemble = details.get("ensemble_settings")
    networks = ensemble.get("n_models") if isinstance(ensemble, dict) else None
    if importance.ci is not None:
        level = ensemble.get("ci_level") if isinstance(ensemble, dict) else \
            details.get("ci_level")
        interval = f"{100 * float(level):g}% " if isinstance(level, int | float) else ""
        if networks is not None:
            return f"{interval}t prediction interval from {networks} refitted networks"
        resamples = details.get("n_bootstrap")
        how = f"row bootstrap, {resamples} resamples" if resamples is not None else \
            "row bootstrap"
        return f"{interval}interval ({how})" if interval else "confidence interval"
    if importance.std is None:
        return None
    if networks is not None:
        return f"\u00b11 SD over {networks} refitted networks"
    repeats = details.get("n_repeats")
    return f"\u00b11 SD over {repeats} repeats" if repeats is not None else "\u00b11 SD"


def measure_label(importance: Importance) -> str:
    """What the scores measure, with its direction: ``details["measure"]`` or the kind's, and
    the prediction it is read from where that is more than one plain prediction
    (``details["prediction"]``: "range of the median response curve (prediction summed over 10
    steps)")."""
    measure = importance.details.get("measure")
    label = measure if isinstance(measure, str) and measure else KIND_LABELS[importance.kind]
    read = prediction_label(importance)
    return label if read == "prediction" else f"{label} ({read})"


def plot_title(importance: Importance) -> str:
    """The title of a plot of one result: the method's name; the output(s) it explains where
    the user chose them (``details["settings"]["output"]``: ``"permutation\nfor output
    Picea_abies"``, :func:`selected_outputs`); and, where a randomization test scored a network
    it trained rather than the given model (``details["given_model"]`` holds the given model's
    own scores), which network that is, from ``details["test_settings"]``: ``"permutation\n(a
    rebuilt network, trained as the null networks; not the given model)"``, or a refitted
    clone."""
    details = importance.details
    chosen = selected_outputs(importance)
    title = importance.method + (f"\nfor {chosen}" if chosen else "")
    if not isinstance(details.get("given_model"), pd.Series):
        return title
    settings = details.get("test_settings")
    fit = settings.get("fit") if isinstance(settings, dict) else None
    how = fit.get("how") if isinstance(fit, dict) else None
    network = {"rebuilt": "a rebuilt network", "clone": "a refitted clone"}.get(
        how, "a refitted network")
    return f"{title}\n({network}, trained as the null networks; not the given model)"


def selected_outputs(importance: Importance) -> str:
    """The output(s) a result explains when the user chose some (``output=`` of the method,
    recorded in ``details["settings"]["output"]``), by name: ``"output Picea_abies"``,
    ``"outputs Picea_abies, Quercus_robur"``; the names are the columns of
    ``details["per_output"]`` where there is one per chosen output, else the choice as given.
    "" when the result explains every output (no choice)."""
    settings = importance.details.get("settings")
    chosen = settings.get("output") if isinstance(settings, dict) else None
    if chosen is None:
        return ""
    chosen = list(chosen) if isinstance(chosen, list | tuple) else [chosen]
    table = importance.details.get("per_output")
    names = [str(name) for name in table.columns] if isinstance(table, pd.DataFrame) and \
        len(table.columns) == len(chosen) else [str(name) for name in chosen]
    return ("output " if len(names) == 1 else "outputs ") + ", ".join(names)


def set_title(ax: Any, importance: Importance) -> None:
    """``ax``'s title :func:`plot_title`, wrapped to the axes' width as laid out now."""
    title = plot_title(importance)
    if title != importance.method:
        title = wrap_to(title, label_size("axes.titlesize"), axes_inches(ax)[0])
    ax.set_title(title)


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


def time_ticks(n_steps: int, most: int = TIME_TICKS, apart: float = 1.0) -> list[int]:
    """Evenly spaced time steps to label: always step 0 and the last one, at most ``most``, and
    (but for those two) at least ``apart`` steps from one another, every 1, 2 or 5 x 10^k
    steps."""
    if n_steps <= 1:
        return list(range(n_steps))
    least = max(apart, (n_steps - 1) / (max(most, 2) - 1), 1.0)
    stride = next(step for power in range(20) for step in (10**power, 2 * 10**power,
                                                           5 * 10**power) if step >= least)
    ticks = list(range(0, n_steps - 1, stride))
    if len(ticks) > 1 and n_steps - 1 - ticks[-1] < max(stride / 2, apart):
        ticks.pop()  # too close to the last step to read apart
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


def colorbar(image: Any, ax: Any, label: str, *, grow: bool = False) -> Any:
    """A labelled colour bar beside ``ax`` (Matplotlib's ``figure.colorbar(image, ax=ax)``)
    whose label fits along it.

    A label longer than the bar makes a figure varimp made (``grow``) taller, up to the page.
    What still does not fit is wrapped onto more lines, at draw time: the label is re-wrapped
    to the bar's height every time the bar is laid out or drawn (:class:`FittedBarLabel`), so a
    row that later subplots or the user's ``tight_layout`` shrink keeps its label along the bar.
    In the user's own figure the bar takes its room from ``ax`` as any Matplotlib colour bar
    does, and the figure's layout engine (constrained, tight, or none) places everything else.
    """
    figure = ax.figure
    size = label_size()
    if grow:
        grow_to(ax, text_width(label, size) + 0.15)
    bar = figure.colorbar(image, ax=ax, label=label)
    bar.ax.set_axes_locator(FittedBarLabel(bar, label, size))
    return bar


class FittedBarLabel:
    """The axes locator of a colour bar that, each time the bar is placed (by a layout engine
    or a draw), first wraps the bar's label to the bar's length, on at most two lines in the
    largest font that allows it (down to :data:`SMALLEST_FONT`, :func:`fit_lines`) and, but in
    a figure drawn without a layout engine, no thicker than the room left beside the bar's
    tick labels in the
    figure (:meth:`room`: the lines it has no room for are left out, the last one kept ending
    in an ellipsis), then places the bar as Matplotlib would have (the colour bar's own
    locator)."""

    def __init__(self, bar: Any, label: str, fontsize: float) -> None:
        self.bar = bar
        self.label = label
        self.fontsize = fontsize
        self.inner = bar.ax.get_axes_locator()

    def __call__(self, ax: Any, renderer: Any) -> Any:
        place = self.inner(ax, renderer) if self.inner is not None else None
        box = place if place is not None else ax.get_position(original=True)
        across = box.height if self.bar.orientation == "vertical" else box.width
        length = across * ax.figure.get_size_inches()[1 if self.bar.orientation == "vertical"
                                                      else 0]
        wrapped, size = fit_lines(self.label, self.fontsize, length, 2)
        room = self.room(box)
        while size > SMALLEST_FONT and (1 + wrapped.count("\n")) * size * 1.25 / 72.0 > room:
            size = max(SMALLEST_FONT, size - 0.5)  # thinner, to stay inside the figure
            wrapped = wrap_to(self.label, size, length)
        lines = wrapped.split("\n")
        held = max(0, int(room // (size * 1.25 / 72.0))) if room < float("inf") else len(lines)
        if held < len(lines):  # no room for all of it even at the smallest font: cut short
            from .ticks import fit_text

            wrapped = "\n".join(lines[:held - 1] + [fit_text(lines[held - 1] + "\u2026", size,
                                                             length)]) if held else ""
        text = self.bar.ax.yaxis.label if self.bar.orientation == "vertical" else \
            self.bar.ax.xaxis.label
        if text.get_text() != wrapped:
            text.set_text(wrapped)
        if abs(text.get_fontsize() - size) > 0.01:
            text.set_fontsize(size)
        return place

    def room(self, box: Any) -> float:
        """Inches between a vertical bar's tick labels (the bar placed at ``box``, in figure
        fractions) and the figure's right edge, for the label beside them, in a figure drawn
        without a layout engine (as after the user's one-off ``tight_layout()``, which does not
        always leave the room the label needs); unlimited for a horizontal bar, and while a
        layout engine places the bar: it makes room for the label as it is."""
        from matplotlib.layout_engine import PlaceHolderLayoutEngine

        figure = self.bar.ax.figure
        engine = figure.get_layout_engine()
        # none, or the stand-in Matplotlib leaves after a one-off tight_layout() (a constrained
        # layout's stand-in, while savefig draws what it laid out, is not adjust-compatible)
        if self.bar.orientation != "vertical" or not (engine is None or isinstance(
                engine, PlaceHolderLayoutEngine) and engine.adjust_compatible):
            return float("inf")
        axis = self.bar.ax.yaxis
        low, high = sorted(axis.get_view_interval())
        ticks = [tick for tick in axis.get_major_locator()() if low <= tick <= high]
        names = axis.get_major_formatter().format_ticks(ticks) if ticks else []
        widest = max((text_width(name, label_size("ytick.labelsize")) for name in names),
                     default=0.0)
        width = figure.get_size_inches()[0]
        return width * (1.0 - box.x1) - widest - 0.17  # the ticks' length and pads

    def get_subplotspec(self) -> Any:
        """The subplot the bar belongs to, as the colour bar's own locator says (read by
        ``tight_layout``, which places an axes with a locator by its locator's subplot)."""
        own = getattr(self.inner, "get_subplotspec", None)
        return own() if callable(own) else self.bar.ax.get_subplotspec()


def legend_beside(ax: Any, *args: Any, ours: bool = False, **kwargs: Any) -> Any:
    """A legend (``ax.legend(*args, **kwargs)``) beside ``ax``, its upper left corner at the
    axes' upper right, where it covers no mark: in a figure varimp made (``ours``) or one whose
    layout engine makes room for it. In a figure without a layout engine it stays there only
    when, as the figure is drawn now, it lies inside the figure and over no other axes (their
    labels included); else it goes inside ``ax``, where it covers the fewest points."""
    legend = ax.legend(*args, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0,
                       **kwargs)
    figure = ax.figure
    if ours or figure.get_layout_engine() is not None:
        return legend
    figure.draw_without_rendering()
    renderer = figure.canvas.get_renderer()
    box = legend.get_window_extent(renderer)
    inside = figure.bbox.contains(box.x0, box.y0) and figure.bbox.contains(box.x1, box.y1)
    others = [other.get_tightbbox(renderer) for other in figure.axes
              if other is not ax and other.get_visible()]
    if inside and not any(box.overlaps(other) for other in others if other is not None):
        return legend
    return ax.legend(*args, loc="best", **kwargs)


def fit_xlabel(ax: Any) -> None:
    """``ax``'s x-axis label wrapped to the axes' width, again each time the figure is laid
    out or drawn (:class:`~varimp.plot.ticks.FittedLabel`), so it never runs past the axes
    (nor out of the figure): the x-axis counterpart of :func:`fit_ylabel`."""
    from .ticks import FittedLabel

    size = label_size()
    label = ax.get_xlabel()
    ax.set_xlabel(wrap_to(label, size, axes_inches(ax)[0]))
    ax.xaxis.set_major_locator(FittedLabel(ax.xaxis.get_major_locator(), label, size))


def fit_ylabel(ax: Any, grow: bool, least: float = 2.2) -> None:
    """Room along ``ax`` for its y-axis label: a figure varimp made (``grow``) grows until
    ``ax`` is as tall as the label and at least ``least`` inches; what still does not fit is
    wrapped, again each time the figure is laid out or drawn
    (:class:`~varimp.plot.ticks.FittedLabel`), so in the user's own subplot the label never
    runs past the axes' height."""
    from .ticks import FittedLabel

    size = label_size()
    label = ax.get_ylabel()
    if grow:
        grow_to(ax, max(least, text_width(label, size) + 0.15))
    ax.set_ylabel(wrap_to(label, size, axes_inches(ax)[1]))
    ax.yaxis.set_major_locator(FittedLabel(ax.yaxis.get_major_locator(), label, size))


def name_rows(ax: Any, names: list[str]) -> None:
    """The y-axis of ``ax`` labelled with ``names``, one per row from 0 (the first on top),
    re-fitted each time the figure is laid out or drawn (:class:`~varimp.plot.ticks.RowTicks`):
    a font no larger than the rows, down to :data:`SMALLEST_FONT` points, and rows closer than
    that labelled every second (third...) row, the first (most important) always labelled."""
    from .ticks import Names, RowTicks

    ax.yaxis.set_major_locator(RowTicks(len(names), label_size("ytick.labelsize")))
    ax.yaxis.set_major_formatter(Names(names))


def wrap_to(text: str, fontsize: float, length: float) -> str:
    """``text`` on as many lines as it needs for none to be longer than ``length`` inches (its
    own line breaks kept): words are added to a line while its measured width fits (a word
    longer than ``length`` gets a line of its own)."""
    lines = []
    for line in str(text).split("\n"):
        current = ""
        for word in line.split(" "):
            longer = f"{current} {word}" if current else word
            if current and text_width(longer, fontsize) > length - 0.05:
                lines.append(current)
                longer = word
            current = longer
        lines.append(current)
    return "\n".join(lines)


def break_name(text: str, fontsize: float, length: float) -> str:
    """A name (``mean_annual_precipitation_mm``) on as many lines as it needs for none to be
    longer than ``length`` inches at ``fontsize`` points: broken after a space, ``_``, ``-``,
    ``.`` or ``/`` where it can be (pieces are added to a line while its measured width fits),
    and between characters where a piece alone is longer than a line. Every character is kept
    (trailing spaces aside)."""
    def fits(line: str) -> bool:
        return text_width(line.rstrip(" "), fontsize) <= length - 0.05

    lines = []
    for paragraph in str(text).split("\n"):
        current = ""
        for piece in re.split(r"(?<=[ _\-./])", paragraph):
            candidate = current + piece
            if current and not fits(candidate):
                lines.append(current.rstrip(" "))
                candidate = piece
            while len(candidate.rstrip(" ")) > 1 and not fits(candidate):
                low, high = 1, len(candidate.rstrip(" ")) - 1  # the longest head that fits
                while low < high:
                    middle = (low + high + 1) // 2
                    low, high = (middle, high) if fits(candidate[:middle]) else (low, middle - 1)
                lines.append(candidate[:low])
                candidate = candidate[low:]
            current = candidate
        lines.append(current.rstrip(" "))
    return "\n".join(lines)


def fit_lines(text: str, largest: float, length: float, most: int,
              wrap: Callable[[str, float, float], str] = wrap_to) -> tuple[str, float]:
    """``text`` wrapped to ``length`` inches (``wrap``: :func:`wrap_to` between words,
    :func:`break_name` inside names too) in the largest font, from ``largest`` points down to
    :data:`SMALLEST_FONT` by half points, at which each of its own lines takes at most
    ``most`` lines, none longer than ``length``; at the smallest font, on as many lines as it
    needs. Returns the wrapped text and its font size."""
    size = largest
    while True:
        parts = [wrap(line, size, length) for line in str(text).split("\n")]
        wrapped = "\n".join(parts)
        if size <= SMALLEST_FONT or (max(part.count("\n") for part in parts) < most and max(
                text_width(line, size) for line in wrapped.split("\n")) <= length - 0.05 + 1e-9):
            return wrapped, size
        size = max(SMALLEST_FONT, size - 0.5)


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
