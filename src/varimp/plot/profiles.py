"""Lek's profile curves (Lek et al. 1996): one panel per variable on a shared y-axis, one line
per level at which the other inputs are held, and the median curve the score is read from."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..methods._common import output_labels
from ..result import Importance
from ._common import (
    MEDIAN_LABEL,
    PAGE,
    axes_inches,
    fit_tick_labels,
    label_size,
    legend_beside,
    prediction_label,
    text_width,
    wrap_to,
)

#: The most panels a profile figure varimp makes draws when the variables are not named: the
#: most important ones, the title saying how many were left out.
MOST_PANELS = 16
#: The most panels side by side in a profile figure varimp makes.
PER_ROW = 4
#: Inches of figure per panel across (the title's names fit to it) and per row of panels.
PANEL_WIDTH, ROW_HEIGHT = 2.4, 2.2
#: Inches under the panels for the legend.
LEGEND_HEIGHT = 0.9


def median_curve(importance: Importance, part: pd.DataFrame, name: str,
                  output: Any) -> tuple[np.ndarray, np.ndarray]:
    """The scored median curve of one variable: the method's ``details["median_curve"]``, else
    the median over the levels at every point of the sweep (Lek's rule)."""
    given = importance.details.get("median_curve")
    if isinstance(given, pd.DataFrame) and {"variable", "x", "prediction",
                                            "output"} <= set(given.columns):
        given = given[(given["variable"] == name) & (given["output"] == output)]
        if len(given):
            return given["x"].to_numpy(), given["prediction"].to_numpy()
    median = part.groupby("x", sort=False)["prediction"].median()
    return median.index.to_numpy(), median.to_numpy()


def output_names(importance: Importance) -> dict[Any, str]:
    """The names of the outputs of the curves (``details["curves"]["output"]``, an index) that
    the result names: the columns of ``details["per_output"]``, which follow
    ``details["outputs"]``, where they are names (class names), not the default labels of
    unnamed outputs (``"output 0"``...: :func:`~varimp.methods._common.output_labels`)."""
    listed, table = importance.details.get("outputs"), importance.details.get("per_output")
    if not (isinstance(listed, list | tuple) and isinstance(table, pd.DataFrame) and
            len(listed) == len(table.columns)):
        return {}
    unnamed = output_labels(listed, None)
    return {output: str(name) for output, name, default in zip(listed, table.columns, unnamed,
                                                               strict=True)
            if str(name) != default}


def profiles(importance: Importance, ax: Any, *, variables: Sequence[str] | None = None,
             output: Any = None) -> Any:
    """Lek's curves of ``variables`` for one output (an index of ``details["curves"]["output"]``
    or its name, e.g. a class; default the first), one panel per variable on a shared y-axis
    labelled with the output's name, each panel named once, in its title, fitted to the
    panel's width (:class:`~varimp.plot.ticks.FittedTitle`: broken after ``_``, ``-``, ``.`` or
    a space, in a smaller font where two lines do not hold it).

    A figure varimp makes holds rows of at most :data:`PER_ROW` panels, :data:`ROW_HEIGHT`
    inches a row, on the page (:data:`PAGE`), the legend under the panels and, above them,
    what the figure draws. ``variables`` None draws every variable up to :data:`MOST_PANELS`;
    past that the :data:`MOST_PANELS` most important (by the result's ranks, most important
    first), the title saying how many were left out (name them in ``variables`` to draw
    others). Drawn into the user's axes (one per variable; ``variables`` None: every variable),
    the legend goes beside the last panel, or inside it where the figure has no room beside it
    (:func:`~varimp.plot._common.legend_beside`)."""
    curves = importance.details.get("curves")
    if not isinstance(curves, pd.DataFrame):
        raise InputError(f"the {importance.method} result has no profile curves "
                         "(details['curves']); run varimp.profile to draw them")
    profiled = list(dict.fromkeys(curves["variable"]))
    names = profiled if variables is None else list(variables)
    unknown = [v for v in names if v not in set(profiled)]
    if unknown or not names:
        raise InputError(f"variables must name profiled variables {profiled}; received "
                         f"{variables!r}")
    outputs = sorted(set(curves["output"]))
    named = output_names(importance)
    labels = dict(zip(outputs, output_labels(outputs, named), strict=True))
    by_name = {name: index for index, name in labels.items()}
    output = curves["output"].iloc[0] if output is None else by_name.get(output, output)
    if output not in set(outputs):
        choices = outputs + [named[o] for o in outputs if o in named]
        raise InputError(f"output must be one of {choices}; received {output!r}")
    import matplotlib.pyplot as plt

    ours = ax is None
    left_out = ""
    if ours and variables is None and len(names) > MOST_PANELS:
        ranked = [name for name in importance.ranks.sort_values(kind="stable").index
                  if name in set(profiled)]
        names = (ranked + [name for name in profiled if name not in set(ranked)])[:MOST_PANELS]
        left_out = (f"the {MOST_PANELS} most important of {len(profiled)} variables, most "
                    f"important first ({len(profiled) - MOST_PANELS} left out: name them in "
                    "variables= to draw them)")
    if ours:
        rows = int(np.ceil(len(names) / PER_ROW))
        cols = int(np.ceil(len(names) / rows))
        width = min(PAGE[0], max(4.5, PANEL_WIDTH * cols + 0.9))
        figure, grid = plt.subplots(rows, cols, figsize=(width, PAGE[1]), squeeze=False,
                                    sharey=True, layout="constrained")
        axes = grid.ravel()
        for extra in axes[len(names):]:
            figure.delaxes(extra)
        axes = axes[:len(names)]
    else:
        axes = np.atleast_1d(np.asarray(ax, dtype=object)).ravel()
        if len(axes) != len(names):
            raise InputError(f"ax must hold one Axes per drawn variable ({len(names)}); "
                             f"received {len(axes)}")
        figure = axes[0].figure
    several = curves["output"].nunique() > 1
    curves = curves[curves["output"] == output]
    levels = list(dict.fromkeys(curves["level"]))
    colours = plt.get_cmap("viridis")(np.linspace(0.0, 0.9, len(levels)))
    kinds = importance.details.get("x", {})
    for panel, name in zip(axes, names, strict=True):
        part = curves[curves["variable"] == name]
        if kinds.get(name) == "category":
            _categories(panel, importance, part, name, output, levels, colours)
            continue
        for level, colour in zip(levels, colours, strict=True):
            line = part[part["level"] == level]
            panel.plot(line["x"].to_numpy(), line["prediction"].to_numpy(), color=colour,
                       linewidth=1.0, label=str(level))
        panel.plot(*median_curve(importance, part, name, output), color="black",
                   linewidth=2.2, linestyle="--", label=MEDIAN_LABEL)
        if kinds.get(name) == "fraction":
            panel.set_xlabel("fraction of range")
    low = min(line.get_ydata().min() for panel in axes for line in panel.lines)
    high = max(line.get_ydata().max() for panel in axes for line in panel.lines)
    margin = 0.05 * (high - low) if high > low else 0.5
    for panel in axes:
        panel.set_ylim(low - margin, high + margin)
    ylabel = _ylabel(importance, named.get(output), labels[output], several)
    for panel in axes:
        first_column = panel.get_subplotspec() is None or panel.get_subplotspec().is_first_col()
        panel.set_ylabel(ylabel if first_column or not ours else "")
    handles, entries = _legend_entries(axes)
    # a key of several marks (a line and a dot) gets room for both, the dashes included
    tuples = {"handler_map": {tuple: _tuple_handler()}, "handlelength":
              3.5 if any(isinstance(handle, tuple) for handle in handles) else None}
    if ours:  # under the panels, never over a curve nor under the title
        columns = _legend_columns(entries, tuples, width)
        while True:  # as many columns as the figure's width holds, measured drawn
            legend = figure.legend(handles, entries, title="others at", fontsize="small",
                                   loc="outside lower center", ncols=columns, **tuples)
            figure.draw_without_rendering()
            if columns == 1 or legend.get_window_extent().width <= figure.bbox.width - 4:
                break
            legend.remove()
            columns -= 1
        note = "\n".join(text for text in (outputs_note(importance, labels, output, outputs),
                                          left_out) if text)
        if note:
            note = wrap_to(note, label_size("figure.titlesize"), width - 0.3)
            figure.suptitle(note)
        legend_rows = int(np.ceil(len(entries) / columns))
        figure.set_size_inches(width, min(PAGE[1], ROW_HEIGHT * rows + LEGEND_HEIGHT
                                          + 0.2 * (legend_rows - 1)
                                          + 0.25 * (1 + note.count("\n")) * bool(note)))
    else:  # beside the last panel, or inside it where the user's figure has no room
        legend_beside(axes[-1], handles, entries, title="others at", fontsize="small",
                      **tuples)
    for panel, name in zip(axes, names, strict=True):
        name_panel(panel, str(name))
    upright = 0.0  # the height of the tallest upright category name, in inches
    for panel, name in zip(axes, names, strict=True):  # once the legend took its room
        if kinds.get(name) == "category":
            fit_tick_labels(panel, "x")
            upright = max([upright] + [label.get_window_extent().height / figure.dpi
                                       for label in panel.get_xticklabels()
                                       if label.get_text() and label.get_rotation() == 90])
    if ours and upright:  # upright names take height from the panels: the figure grows
        wide, tall = figure.get_size_inches()
        figure.set_size_inches(wide, min(PAGE[1], tall + upright))
    return axes[0] if len(axes) == 1 else figure


def name_panel(panel: Any, name: str) -> None:
    """``panel``'s title ``name``, fitted to the panel's width each time the figure is laid
    out or drawn (:class:`~varimp.plot.ticks.FittedTitle`); where the panel's x-axis is
    shared with another (its locator too), fitted once, to the width as laid out now."""
    from .ticks import FittedTitle, fit_name

    size = label_size("axes.titlesize")
    panel.set_title(name, fontsize=size)
    if len(panel.get_shared_x_axes().get_siblings(panel)) > 1:
        text, fitted = fit_name(name, size, axes_inches(panel)[0])
        panel.set_title(text, fontsize=fitted)
        return
    panel.xaxis.set_major_locator(FittedTitle(panel.xaxis.get_major_locator(), name, size))


def _legend_columns(entries: Sequence[str], tuples: dict[str, Any], width: float) -> int:
    """How many columns the legend under a figure ``width`` inches wide has at most: the most
    (one per entry at most) whose widths (each its widest entry's key, gap and text,
    Matplotlib filling the columns in turn) and spacing fit across the figure; the drawn
    legend is measured after."""
    from matplotlib.font_manager import FontProperties

    em = FontProperties(size="small").get_size_in_points() / 72.0
    key = ((tuples["handlelength"] or 2.0) + 0.8) * em  # the key and its gap to the text
    widths = [key + text_width(entry, em * 72.0) for entry in entries]
    for columns in range(len(entries), 1, -1):
        per = int(np.ceil(len(entries) / columns))
        chunks = [widths[k:k + per] for k in range(0, len(widths), per)]
        if sum(max(chunk) for chunk in chunks) + 2.0 * em * (len(chunks) - 1) + 2 * em <= \
                width - 0.3:
            return columns
    return 1


def _categories(panel: Any, importance: Importance, part: pd.DataFrame, name: str, output: Any,
                levels: list[Any], colours: Any) -> None:
    """One categorical variable (a one-hot group) in ``panel``: each category a column of
    markers, one per level (set a little apart), and the median a hollow black diamond drawn
    under them at the category's own position, so that a level's dot there (the middle level
    of an odd number) shows inside it; no lines, which would suggest an order the categories
    do not have. Category names that would overlap are turned upright, then made smaller
    (:func:`~varimp.plot._common.fit_tick_labels`), once the whole figure is laid out."""
    categories = list(dict.fromkeys(part["x"]))
    at = {category: k for k, category in enumerate(categories)}
    spread = min(0.5, 0.06 * len(levels))
    offsets = np.linspace(-spread / 2, spread / 2, len(levels)) if len(levels) > 1 else [0.0]
    for level, colour, offset in zip(levels, colours, offsets, strict=True):
        dots = part[part["level"] == level]
        panel.plot([at[x] + offset for x in dots["x"]], dots["prediction"].to_numpy(),
                   linestyle="none", marker="o", markersize=4, color=colour, label=str(level),
                   zorder=3)
    xs, median = median_curve(importance, part, name, output)
    panel.plot([at[x] for x in xs], median, linestyle="none", marker="D", markersize=9,
               markerfacecolor="none", markeredgecolor="black", markeredgewidth=1.5,
               color="black", label=MEDIAN_LABEL, zorder=2)
    panel.set_xticks(range(len(categories)), [str(c) for c in categories])
    panel.set_xlim(-0.5, len(categories) - 0.5)
    panel.set_xlabel("category")


def _legend_entries(axes: Sequence[Any]) -> tuple[list[Any], list[str]]:
    """The legend's handles and labels, one entry per level and one for the median, in the
    marks the panels draw: the lines of a panel of a numeric variable (a line per level, the
    median dashed), the markers of a categorical one (a dot per level, the median a hollow
    diamond), and both side by side (a tuple of handles) where the figure has both kinds."""
    kinds = {}
    for panel in axes:
        handles, entries = panel.get_legend_handles_labels()
        numeric = any(handle.get_linestyle() != "None" for handle in handles)
        kinds.setdefault(numeric, (handles, entries))
    order = kinds.get(True, kinds.get(False))[1]
    marks: dict[str, list[Any]] = {entry: [] for entry in order}
    for numeric in (True, False):
        for handle, entry in zip(*kinds.get(numeric, ([], [])), strict=True):
            if entry in marks:
                marks[entry].append(handle)
    handles = [found[0] if len(found) == 1 else tuple(found) for found in marks.values()]
    return handles, list(marks)


def _tuple_handler() -> Any:
    """Matplotlib's legend handler that draws a tuple of handles side by side."""
    from matplotlib.legend_handler import HandlerTuple

    return HandlerTuple(ndivide=None)


def outputs_note(importance: Importance, labels: dict[Any, str], output: Any,
                 outputs: Sequence[Any]) -> str:
    """The title of a profile figure of a result with several outputs: which output's curves
    are drawn, and how the scores combine the outputs (the mean over them, as the profile
    method scores, where ``details["per_output"]`` says so); "" for one output."""
    if len(outputs) < 2:
        return ""
    drawn = labels[output]
    names = ", ".join(labels[o] for o in outputs)
    text = f"curves of {drawn}, one of {len(outputs)} outputs ({names})"
    table = importance.details.get("per_output")
    if isinstance(table, pd.DataFrame) and table.shape[1] == len(outputs):
        values = table.reindex(importance.scores.index).to_numpy(dtype=float)
        if np.allclose(importance.scores.to_numpy(dtype=float), values.mean(axis=1),
                       rtol=1e-6, atol=1e-12):
            return f"{text};\nthe scores are the mean over all {len(outputs)} outputs"
    return f"{text};\neach output's score is in details['per_output']"


def _ylabel(importance: Importance, name: str | None, label: str, several: bool) -> str:
    """The y label of the profiles: ``"P(<class>)"`` for a classifier's probability of a named
    class (``name``; ``"probability"`` for an unnamed one), else what the prediction is, with
    the output's ``label`` where there are several."""
    read = prediction_label(importance)
    explained = importance.details.get("explained")
    if read == "prediction" and isinstance(explained, str) and "probabilit" in explained:
        return "probability" if name is None else f"P({name})"
    return read + (f" ({label})" if several else "")
