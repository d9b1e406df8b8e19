"""Plots written to files: what a plot returned (an Axes, or a Figure for a grid) saved as a PNG
at :data:`DPI` and closed, and every plot of a result at once. Used by ``varimp demo``,
``varimp run`` and the HTML report."""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

from ._common import DPI, plot_kinds


def save_png(drawn: Any, target: Path | IO[bytes], dpi: int = DPI) -> None:
    """Save the figure of ``drawn`` (an Axes or a Figure) as a PNG into ``target`` (a path or a
    binary file) at ``dpi`` and close it, also when saving fails."""
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    figure = drawn if isinstance(drawn, Figure) else drawn.figure
    try:
        figure.savefig(target, format="png", dpi=dpi)
    finally:
        plt.close(figure)


def save_result_plots(result: Any, stem: str, folder: Path) -> list[str]:
    """Every plot of an :class:`~varimp.Importance` (its bar chart, its ``by_time`` heatmap, its
    profile curves: :func:`plot_kinds`) as ``folder/{stem}_{kind}.png``; the file names."""
    names = []
    for kind in plot_kinds(result):
        name = f"{stem}_{kind}.png"
        save_png(result.plot(kind=kind), folder / name)
        names.append(name)
    return names
