"""Plots of results: every plot takes an :class:`~varimp.Importance` or a
:class:`~varimp.Comparison` and returns the matplotlib Axes it drew on.

- ``kind="bar"``: one bar per variable, most important first, error bars from ``std`` (or the
  confidence interval ``ci``), stars for the p-values of a randomization test;
- ``kind="heatmap"``: the time x feature table ``by_time`` of a sequence model, time running
  left to right (the most recent step last), features top to bottom, with a colour bar;
- ``kind="profile"``: Lek's profile curves (Lek et al. 1996), one panel per variable, one line
  per level at which the other inputs are held.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .errors import InputError
from .result import Comparison, Importance

KINDS = ("bar", "heatmap", "profile")
#: Significance stars and the p-value each requires (strictly below).
STARS = ((0.001, "***"), (0.01, "**"), (0.05, "*"))


def _axes(ax: Any, figsize: tuple[float, float]) -> Any:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=figsize, layout="constrained")[1]


def stars(pvalue: float) -> str:
    """``"***"``, ``"**"``, ``"*"`` or ``""`` for a p-value (thresholds 0.001, 0.01, 0.05)."""
    for threshold, mark in STARS:
        if pvalue < threshold:
            return mark
    return ""


def default_kind(importance: Importance) -> str:
    """``"profile"`` for Lek's curves, ``"heatmap"`` when ``by_time`` exists, else ``"bar"``."""
    if isinstance(importance.details.get("curves"), pd.DataFrame):
        return "profile"
    return "heatmap" if importance.by_time is not None else "bar"


def plot_importance(importance: Importance, kind: str | None = None, ax: Any = None,
                    **kwargs: Any) -> Any:
    """Draw one result and return the Axes (an array of Axes for a multi-panel profile).

    Parameters
    ----------
    importance : Importance
    kind : {"bar", "heatmap", "profile"} or None
        None picks :func:`default_kind`.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None. For ``"profile"``, one Axes per drawn variable
        (a single Axes for a single variable).
    **kwargs
        ``"bar"``: ``top`` (show the ``top`` most important variables only), ``color``.
        ``"heatmap"``: ``cmap``. ``"profile"``: ``variables`` (names to draw), ``output``
        (the output index whose curves are drawn; default the first).
    """
    if not isinstance(importance, Importance):
        raise InputError(f"plot_importance needs an Importance; received "
                         f"{type(importance).__name__}")
    kind = default_kind(importance) if kind is None else kind
    if kind not in KINDS:
        raise InputError(f"kind must be one of {list(KINDS)} or None; received {kind!r}")
    return {"bar": _bar, "heatmap": _heatmap, "profile": _profile}[kind](importance, ax, **kwargs)


def _bar(importance: Importance, ax: Any, *, top: int | None = None,
         color: str = "tab:blue") -> Any:
    order = importance.scores.abs().sort_values(ascending=False, kind="stable").index
    if top is not None:
        order = order[:top]
    scores = importance.scores[order]
    err = None
    if importance.std is not None:
        err = importance.std[order].to_numpy()
    elif importance.ci is not None:
        ci = importance.ci.loc[order]
        err = np.vstack([scores - ci["low"], ci["high"] - scores])
    ax = _axes(ax, (max(4.0, 0.6 * len(order) + 2), 3.5))
    positions = np.arange(len(order))
    ax.bar(positions, scores.to_numpy(), yerr=err, capsize=3, color=color)
    ax.set_xticks(positions, [str(name) for name in order], rotation=45 if len(order) > 8 else 0)
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_ylabel("importance")
    ax.set_title(importance.method)
    if importance.pvalues is not None:
        top_of = scores.to_numpy() + (0.0 if err is None else np.atleast_2d(err)[-1])
        for x, name, height in zip(positions, order, top_of, strict=True):
            mark = stars(float(importance.pvalues[name]))
            if mark:
                ax.annotate(mark, (x, max(height, 0.0)), ha="center", va="bottom")
    return ax


def _heatmap(importance: Importance, ax: Any, *, cmap: str | None = None) -> Any:
    table = importance.by_time
    if table is None:
        raise InputError(f"the {importance.method} result has no by_time table to draw as a "
                         "heatmap (sequence input and a method that resolves time are needed)")
    values = table.to_numpy(dtype=float).T  # features x time steps
    signed = values.min() < 0 < values.max()
    if cmap is None:
        cmap = "RdBu_r" if signed else "viridis"
    limit = np.abs(values).max() if signed else None
    ax = _axes(ax, (max(4.0, 0.35 * len(table.index) + 3), max(2.5, 0.4 * values.shape[0] + 1)))
    image = ax.imshow(values, aspect="auto", cmap=cmap, interpolation="nearest",
                      vmin=-limit if signed else None, vmax=limit)
    ax.set_yticks(np.arange(values.shape[0]), [str(c) for c in table.columns])
    steps = [str(t) for t in table.index]
    ticks = np.arange(len(steps))
    if len(steps) > 20:  # thin the labels, always keeping the most recent step
        ticks = ticks[::-1][::int(np.ceil(len(steps) / 20))][::-1]
    ax.set_xticks(ticks, [steps[t] for t in ticks])
    ax.set_xlabel("time step (most recent last)")
    ax.set_title(importance.method)
    ax.figure.colorbar(image, ax=ax, label="importance")
    return ax


def _profile(importance: Importance, ax: Any, *, variables: Sequence[str] | None = None,
             output: int | None = None) -> Any:
    curves = importance.details.get("curves")
    if not isinstance(curves, pd.DataFrame):
        raise InputError(f"the {importance.method} result has no profile curves "
                         "(details['curves']); run varimp.profile to draw them")
    names = list(dict.fromkeys(curves["variable"])) if variables is None else list(variables)
    unknown = [v for v in names if v not in set(curves["variable"])]
    if unknown or not names:
        raise InputError(f"variables must name profiled variables "
                         f"{list(dict.fromkeys(curves['variable']))}; received {variables!r}")
    output = curves["output"].iloc[0] if output is None else output
    if output not in set(curves["output"]):
        raise InputError(f"output must be one of {sorted(set(curves['output']))}; received "
                         f"{output!r}")
    if ax is None:
        import matplotlib.pyplot as plt

        cols = min(3, len(names))
        rows = int(np.ceil(len(names) / cols))
        fig, grid = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.8 * rows), squeeze=False,
                                 layout="constrained")
        axes = grid.ravel()
        for extra in axes[len(names):]:
            fig.delaxes(extra)
        axes = axes[:len(names)]
    else:
        axes = np.atleast_1d(np.asarray(ax, dtype=object)).ravel()
        if len(axes) != len(names):
            raise InputError(f"ax must hold one Axes per drawn variable ({len(names)}); "
                             f"received {len(axes)}")
    kinds = importance.details.get("x", {})
    for panel, name in zip(axes, names, strict=True):
        part = curves[(curves["variable"] == name) & (curves["output"] == output)]
        for level, line in part.groupby("level", sort=False):
            panel.plot(line["x"].to_numpy(), line["prediction"].to_numpy(), label=str(level))
        panel.set_title(str(name))
        panel.set_xlabel(f"{name} (fraction of range)" if kinds.get(name) == "fraction"
                         else str(name))
        panel.set_ylabel("prediction")
    axes[0].legend(title="others at", fontsize="small")
    return axes[0] if len(axes) == 1 else axes


def plot_comparison(comparison: Comparison, ax: Any = None, **kwargs: Any) -> Any:
    """Grouped bars: the relative importance (%) of every variable by every method.

    Variables are ordered by their mean relative importance over the methods, largest first;
    within a group there is one bar per method, in the order of ``comparison.results``.
    """
    if not isinstance(comparison, Comparison):
        raise InputError(f"plot_comparison needs a Comparison; received "
                         f"{type(comparison).__name__}")
    if kwargs:
        raise InputError(f"plot_comparison takes no options besides ax; received "
                         f"{sorted(kwargs)}")
    relative = comparison.relative
    relative = relative.loc[relative.mean(axis=1).sort_values(ascending=False,
                                                              kind="stable").index]
    n_vars, n_methods = relative.shape
    ax = _axes(ax, (max(5.0, 0.5 * n_vars * n_methods ** 0.5 + 3), 3.8))
    width = 0.8 / n_methods
    positions = np.arange(n_vars)
    for k, method in enumerate(relative.columns):
        ax.bar(positions - 0.4 + width * (k + 0.5), relative[method].fillna(0.0).to_numpy(),
               width, label=str(method))
    ax.set_xticks(positions, [str(name) for name in relative.index])
    ax.set_ylabel("relative importance (%)")
    ax.legend(fontsize="small", ncols=2 if n_methods > 5 else 1)
    return ax


__all__ = ["default_kind", "plot_comparison", "plot_importance", "stars"]
