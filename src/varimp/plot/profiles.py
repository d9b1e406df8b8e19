"""Lek's profile curves (Lek et al. 1996): one panel per variable on a shared y-axis, one line
per level at which the other inputs are held, and the median curve the score is read from."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError
from ..result import Importance
from ._common import MEDIAN_LABEL, prediction_label


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


def profiles(importance: Importance, ax: Any, *, variables: Sequence[str] | None = None,
             output: int | None = None) -> Any:
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
    output = curves["output"].iloc[0] if output is None else output
    if output not in set(curves["output"]):
        raise InputError(f"output must be one of {sorted(set(curves['output']))}; received "
                         f"{output!r}")
    import matplotlib.pyplot as plt

    ours = ax is None
    if ours:
        cols = min(3, len(names))
        rows = int(np.ceil(len(names) / cols))
        figure, grid = plt.subplots(rows, cols, figsize=(3.2 * cols + 1.4, 2.8 * rows),
                                    squeeze=False, sharey=True, layout="constrained")
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
        for level, colour in zip(levels, colours, strict=True):
            line = part[part["level"] == level]
            panel.plot(line["x"].to_numpy(), line["prediction"].to_numpy(), color=colour,
                       linewidth=1.0, label=str(level))
        panel.plot(*median_curve(importance, part, name, output), color="black",
                   linewidth=2.2, linestyle="--", label=MEDIAN_LABEL)
        panel.set_title(str(name))
        panel.set_xlabel(f"{name} (fraction of range)" if kinds.get(name) == "fraction"
                         else str(name))
    low = min(line.get_ydata().min() for panel in axes for line in panel.lines)
    high = max(line.get_ydata().max() for panel in axes for line in panel.lines)
    margin = 0.05 * (high - low) if high > low else 0.5
    for panel in axes:
        panel.set_ylim(low - margin, high + margin)
    ylabel = prediction_label(importance) + (f" (output {output})" if several else "")
    for panel in axes:
        first_column = panel.get_subplotspec() is None or panel.get_subplotspec().is_first_col()
        panel.set_ylabel(ylabel if first_column or not ours else "")
    handles, labels = axes[0].get_legend_handles_labels()
    if ours:  # beside the panels, never over a curve
        figure.legend(handles, labels, title="others at", loc="outside right upper",
                      fontsize="small")
    else:
        axes[-1].legend(handles, labels, title="others at", loc="upper left",
                        bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, fontsize="small")
    return axes[0] if len(axes) == 1 else figure
