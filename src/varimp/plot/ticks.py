"""Tick locators of a heatmap that read the drawn size of its axes every time the figure is
laid out or drawn, so the labels fit whatever room the figure's layout leaves: the time steps
labelled under a ``by_time`` heatmap, and the names of its rows. Imported when a heatmap is
drawn (it imports matplotlib)."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.ticker import Formatter, Locator

from ._common import SMALLEST_FONT, TIME_TICKS, label_size, text_width, time_ticks, wrap_to

#: Height of a line of tick labels, in font sizes.
LINE = 1.2


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
    ``caption``, is wrapped to the drawn width (:func:`wrap_to`)."""

    def __init__(self, steps: list[str], caption: str) -> None:
        self.steps = steps
        self.caption = caption
        self._widest: dict[float, float] = {}

    def __call__(self) -> Any:
        axes = self.axis.axes
        wrapped = wrap_to(self.caption, label_size(), axes.bbox.width / axes.figure.dpi)
        if self.axis.label.get_text() != wrapped:
            self.axis.label.set_text(wrapped)
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
