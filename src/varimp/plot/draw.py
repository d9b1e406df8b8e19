"""The two ways in: :func:`plot_importance` draws one result, :func:`plot_comparison` several."""

from __future__ import annotations

from typing import Any

from ..errors import InputError
from ..result import Comparison, Importance
from ._common import COMPARISON_KINDS, KINDS, MANY, default_kind
from .bars import bars, grouped_bars
from .heatmaps import rank_heatmap, time_heatmap
from .profiles import profiles


def plot_importance(importance: Importance, kind: str | None = None, ax: Any = None,
                    **kwargs: Any) -> Any:
    """Draw one result.

    Parameters
    ----------
    importance : Importance
    kind : {"bar", "heatmap", "profile"} or None
        None picks :func:`default_kind`.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None (at most 10 x 10 inches; tick labels that would
        overlap are turned upright, then made smaller). For ``"profile"``, one Axes per drawn
        variable (a single Axes for a single variable, or a sequence of them).
    **kwargs
        ``"bar"``: ``top`` (show the ``top`` most important variables only), ``color``,
        ``horizontal`` (default: when more than 15 variables are drawn). ``"heatmap"``:
        ``cmap``. ``"profile"``: ``variables`` (names to draw; default every variable, in a
        new figure at most the 16 most important, the title saying how many were left out),
        ``output`` (the output whose curves are drawn, by index or by name: a class of a
        classifier; default the first).

    Returns
    -------
    matplotlib.axes.Axes or matplotlib.figure.Figure
        The Axes drawn on; for a profile of several variables, the Figure holding the panels
        (``figure.axes``).
    """
    if not isinstance(importance, Importance):
        raise InputError(f"plot_importance needs an Importance; received "
                         f"{type(importance).__name__}")
    kind = default_kind(importance) if kind is None else kind
    if kind not in KINDS:
        raise InputError(f"kind must be one of {list(KINDS)} or None; received {kind!r}")
    draw = {"bar": bars, "heatmap": time_heatmap, "profile": profiles}[kind]
    return draw(importance, ax, **kwargs)


def plot_comparison(comparison: Comparison, kind: str | None = None, ax: Any = None,
                    **kwargs: Any) -> Any:
    """Draw several methods side by side and return the Axes.

    Parameters
    ----------
    comparison : Comparison
    kind : {"bar", "heatmap"} or None
        ``"bar"``: grouped bars of the relative importance (%) of every variable by every
        method, variables ordered by their mean relative importance (largest first), one bar
        per method in the order of ``comparison.results``; horizontal when more than 15
        variables. More than 100 bars (variables x methods) would be too thin to read on a
        page: a dot plot is drawn instead, one row per variable and one marker per method.
        ``"heatmap"``: the methods x features table of ranks (1 = most important, by each
        method's own kind), every cell annotated with its rank, features ordered by their mean
        rank. None: the heatmap for more than 15 variables, else bars.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None (at most 10 x 10 inches).
    **kwargs
        ``"heatmap"``: ``cmap``.
    """
    if not isinstance(comparison, Comparison):
        raise InputError(f"plot_comparison needs a Comparison; received "
                         f"{type(comparison).__name__}")
    if not comparison.results:
        raise InputError("plot_comparison needs at least one result; the comparison is empty")
    n_vars = len(comparison.ranks.index)
    kind = ("heatmap" if n_vars > MANY else "bar") if kind is None else kind
    if kind not in COMPARISON_KINDS:
        raise InputError(f"kind must be one of {list(COMPARISON_KINDS)} or None; received "
                         f"{kind!r}")
    allowed = {"heatmap": {"cmap"}, "bar": set()}[kind]
    if set(kwargs) - allowed:
        raise InputError(f"a {kind} comparison plot takes the options {sorted(allowed)} "
                         f"besides kind and ax; received {sorted(kwargs)}")
    draw = rank_heatmap if kind == "heatmap" else grouped_bars
    return draw(comparison, ax, **kwargs)


__all__ = ["plot_comparison", "plot_importance"]
