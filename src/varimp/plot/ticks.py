"""Tick locators and texts that read the drawn size of their axes every time the figure is laid
out or drawn, so the labels fit whatever room the figure's layout leaves: the time steps
labelled under a ``by_time`` heatmap, the names of the rows of a heatmap or a bar chart, an
axis label wrapped to the axis' length, and the ranks in a rank heatmap's cells. Imported when
a plot is drawn (it imports matplotlib)."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.text import Text
from matplotlib.ticker import Formatter, Locator

from ._common import (
    SMALLEST_FONT,
    TIME_TICKS,
    break_name,
    fit_lines,
    label_size,
    text_width,
    time_ticks,
    wrap_to,
)

#: Height of a line of tick labels, in font sizes.
LINE = 1.2
#: The smallest font, in points, of the numbers in a rank heatmap's cells: cells too small for
#: it show no numbers (their colours and the colour bar still give the ranks).
SMALLEST_CELL_FONT = 5.0


class Names(Formatter):
    """Tick labels of a heatmap's rows or time steps: ``names[k]`` at ``k``."""

    def __init__(self, names: list[str]) -> None:
        self.names = names

    def __call__(self, value: float, pos: int | None = None) -> str:
        at = int(round(value))
        return self.names[at] if 0 <= at < len(self.names) and abs(value - at) < 1e-6 else ""


def labels_tick(axis: Any) -> Any:
    """A tick label of ``axis`` as it will be drawn (its font size)."""
    return axis.get_major_ticks(1)[0].label1


class TimeTicks(Locator):
    """The time steps labelled under a heatmap, chosen each time the axes are laid out or
    drawn: as many as the drawn width holds one em apart (at most :data:`TIME_TICKS`), evenly
    spaced, step 0 and the last always among them (:func:`time_ticks`). First the axis label,
    ``caption``, is wrapped to the drawn width, each of its lines onto at most two in the
    largest font that allows it (down to :data:`SMALLEST_FONT` points, :func:`fit_lines`), so
    a narrow heatmap's caption stays a few lines, not a word per line; where even 7 points
    need more, the ``short`` caption is drawn instead (the long one's lines, shortened)."""

    def __init__(self, steps: list[str], caption: str, short: str | None = None) -> None:
        self.steps = steps
        self.caption = caption
        self.short = caption if short is None else short
        self._widest: dict[float, float] = {}

    def __call__(self) -> Any:
        axes = self.axis.axes
        width = axes.bbox.width / axes.figure.dpi
        wrapped, size = fit_lines(self.caption, label_size(), width, 2)
        if any(wrap_to(line, size, width).count("\n") >= 2 for line in self.caption.split("\n")) \
                or max(text_width(line, size) for line in wrapped.split("\n")) > width - 0.05:
            wrapped, size = fit_lines(self.short, label_size(), width, 2)
        if self.axis.label.get_text() != wrapped:
            self.axis.label.set_text(wrapped)
        if abs(self.axis.label.get_fontsize() - size) > 0.01:
            self.axis.label.set_fontsize(size)
        return self.tick_values(*self.axis.get_view_interval())

    def tick_values(self, vmin: float, vmax: float) -> Any:
        axes = self.axis.axes
        size = labels_tick(self.axis).get_fontsize()
        if size not in self._widest:
            longest = max(len(step) for step in self.steps)
            self._widest[size] = max(text_width(step, size) for step in self.steps
                                     if len(step) >= longest - 1)
        needs = (self._widest[size] + size / 72.0) * axes.figure.dpi  # pixels per label
        apart = len(self.steps) * needs / max(axes.bbox.width, 1.0)
        return np.array(time_ticks(len(self.steps), TIME_TICKS, apart), dtype=float)


class RowTicks(Locator):
    """Every row of a heatmap labelled, each time the axes are laid out or drawn, in a font no
    larger than ``size`` points and no larger than the drawn rows (down to
    :data:`~varimp.plot._common.SMALLEST_FONT` points); rows too thin for that smallest font
    are labelled every second (third...) row, so that no two names overlap."""

    def __init__(self, n_rows: int, size: float) -> None:
        self.n_rows = n_rows
        self.size = size

    def __call__(self) -> Any:
        return self.tick_values(*self.axis.get_view_interval())

    def tick_values(self, vmin: float, vmax: float) -> Any:
        axes = self.axis.axes
        row = axes.bbox.height / self.n_rows * 72.0 / axes.figure.dpi  # points per row
        size = min(self.size, max(SMALLEST_FONT, row / LINE))
        if abs(labels_tick(self.axis).get_fontsize() - size) > 0.05:
            self.axis.set_tick_params(labelsize=size)
        every = max(1, int(np.ceil(size * LINE / max(row, 1e-9) - 1e-9)))
        return np.arange(0, self.n_rows, every, dtype=float)


class FittedLabel(Locator):
    """The tick locator ``inner`` of an axis whose label, ``text``, is first re-wrapped to the
    axis' drawn length each time the axes are laid out or drawn (:func:`wrap_to`); a word
    still longer than the axis is cut short with an ellipsis. So the label never runs past
    the axes (nor out of the figure) in whatever room the user's layout leaves."""

    def __init__(self, inner: Locator, text: str, size: float) -> None:
        self.inner = inner
        self.text = text
        self.size = size

    def set_axis(self, axis: Any) -> None:
        super().set_axis(axis)
        self.inner.set_axis(axis)

    def __call__(self) -> Any:
        axes = self.axis.axes
        along = axes.bbox.height if self.axis.axis_name == "y" else axes.bbox.width
        fitted = fit_text(self.text, self.size, along / axes.figure.dpi)
        if self.axis.label.get_text() != fitted:
            self.axis.label.set_text(fitted)
        return self.inner()

    def tick_values(self, vmin: float, vmax: float) -> Any:
        return self.inner.tick_values(vmin, vmax)

    def view_limits(self, vmin: float, vmax: float) -> Any:
        return self.inner.view_limits(vmin, vmax)

    def nonsingular(self, v0: float, v1: float) -> Any:
        return self.inner.nonsingular(v0, v1)


class FittedTitle(FittedLabel):
    """The x-axis tick locator ``inner`` of a panel whose title, the name ``text``, is fitted
    to the panel's drawn width each time the axes are laid out or drawn: broken after a space,
    ``_``, ``-``, ``.`` or ``/`` (:func:`break_name`) onto at most two even lines in the largest
    font from ``size`` points down to :data:`SMALLEST_FONT` that allows it, at that smallest
    font onto as many lines as it needs (:func:`fit_name`). A long name never runs into the
    neighbouring panel's."""

    def __init__(self, inner: Locator, text: str, size: float) -> None:
        super().__init__(inner, text, size)
        self._fitted: dict[float, tuple[str, float]] = {}

    def __call__(self) -> Any:
        axes = self.axis.axes
        width = round(axes.bbox.width / axes.figure.dpi, 2)
        if width not in self._fitted:
            self._fitted[width] = fit_name(self.text, self.size, width)
        text, size = self._fitted[width]
        if axes.title.get_text() != text:
            axes.title.set_text(text)
        if abs(axes.title.get_fontsize() - size) > 0.01:
            axes.title.set_fontsize(size)
        return self.inner()


def fit_name(name: str, size: float, length: float) -> tuple[str, float]:
    """A name on at most two lines of ``length`` inches in the largest font from ``size``
    points down that allows it (:func:`fit_lines` with :func:`break_name`), its lines as even
    as the breaks allow: broken at the shortest length that still takes as few lines.
    Returns the text and its font size."""
    text, fitted = fit_lines(name, size, length, 2, wrap=break_name)
    lines = text.count("\n") + 1
    if lines > 1:
        low, high = length / lines, length
        for _ in range(8):  # halving the interval: within 1/256 of the width
            middle = (low + high) / 2
            low, high = (low, middle) if break_name(name, fitted, middle).count("\n") + 1 \
                <= lines else (middle, high)
        text = break_name(name, fitted, high)
    return text, fitted


class RankTicks(Locator):
    """The ticks of a rank colour bar from 1 to ``top``: rank 1 and the last rank always, and
    between them the round ranks (every 1, 2, 5, 10... ranks) that Matplotlib's integer
    locator picks for the bar's drawn length, those closer than half a stride to either end
    left out."""

    def __init__(self, top: int) -> None:
        from matplotlib.ticker import MaxNLocator

        self.top = int(top)
        self.inner = MaxNLocator(nbins="auto", integer=True, steps=[1, 2, 5, 10])

    def set_axis(self, axis: Any) -> None:
        super().set_axis(axis)
        self.inner.set_axis(axis)

    def __call__(self) -> Any:
        return self.tick_values(*self.axis.get_view_interval())

    def tick_values(self, vmin: float, vmax: float) -> Any:
        if self.top <= 1:
            return np.array([1.0])
        inner = [t for t in self.inner.tick_values(1, self.top) if 1 < t < self.top]
        stride = inner[1] - inner[0] if len(inner) > 1 else self.top - 1
        keep = [t for t in inner if t - 1 >= stride / 2 and self.top - t >= stride / 2]
        return np.array([1.0, *keep, float(self.top)])


def fit_text(text: str, size: float, length: float) -> str:
    """``text`` wrapped to ``length`` inches at ``size`` points (:func:`wrap_to`), every line
    still longer cut short with an ellipsis."""
    lines = wrap_to(text, size, length).split("\n")
    for k, line in enumerate(lines):
        while len(line) > 1 and text_width(line, size) > length - 0.05:
            line = line[:-2] + "\u2026"
        lines[k] = line
    return "\n".join(lines)


class CellNumber(Text):
    """A number in a cell of a heatmap of ``shape`` (rows, columns) cells, centred in the cell
    at (``x``, ``y``), its font chosen each time it is drawn: no larger than ``size`` points
    and than the drawn cell holds (the widest number, ``widest`` inches per point of font,
    within 85 % of the cell's width), down to :data:`SMALLEST_CELL_FONT` points; in a smaller
    cell it is not drawn (``shown`` says whether it was at the last draw)."""

    def __init__(self, x: float, y: float, text: str, *, size: float,
                 shape: tuple[int, int], widest: float, **kwargs: Any) -> None:
        super().__init__(x, y, text, fontsize=size, ha="center", va="center", **kwargs)
        self.largest = size
        self.shape = shape
        self.widest = widest
        self.shown = True

    def fitted_size(self) -> float:
        """The font, in points, that the cell holds as the axes are drawn now."""
        axes = self.axes
        points = 72.0 / axes.figure.dpi
        wide = axes.bbox.width / self.shape[1] * points
        tall = axes.bbox.height / self.shape[0] * points
        return min(self.largest, 0.85 * wide / max(self.widest * 72.0, 1e-9), tall / LINE)

    def draw(self, renderer: Any) -> None:
        size = self.fitted_size()
        self.shown = size >= SMALLEST_CELL_FONT - 1e-9
        if not self.shown:
            return
        if abs(self.get_fontsize() - size) > 0.01:
            self.set_fontsize(size)
        super().draw(renderer)
