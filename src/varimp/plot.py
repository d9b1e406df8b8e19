"""Plots of results: every plot takes an :class:`~varimp.Importance` or a
:class:`~varimp.Comparison` and returns the matplotlib Axes it drew on (a Figure for a grid).

- ``kind="bar"``: one bar per variable, most important first, error bars from ``std`` (or the
  confidence interval ``ci``), stars for the p-values of a randomization test; horizontal bars
  when there are many variables;
- ``kind="heatmap"``: the time x feature table ``by_time`` of a sequence model, time running
  left to right (step 0 and the most recent step always labelled), features top to bottom, with
  a colour bar labelled with the measure;
- ``kind="profile"``: Lek's profile curves (Lek et al. 1996), one panel per variable on a shared
  y-axis, one line per level at which the other inputs are held and the median curve that the
  score is read from;
- comparisons: grouped bars of the relative importance, or the methods x features table of
  ranks (``kind="heatmap"``, the default for many features);
- :func:`plot_network`: the neural interpretation diagram of an MLP's weights (NeuralNetTools'
  ``plotnet``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .errors import InputError
from .registry import REGISTRY
from .result import Comparison, Importance

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


def measure_label(importance: Importance) -> str:
    """What the scores measure, with its direction: ``details["measure"]`` or the kind's."""
    measure = importance.details.get("measure")
    return measure if isinstance(measure, str) and measure else KIND_LABELS[importance.kind]


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


def colorbar(image: Any, ax: Any, label: str) -> Any:
    """A labelled colour bar beside ``ax`` that stays out of the neighbouring axes.

    A figure with constrained layout makes room for it; in any other figure the colour bar,
    its tick labels and its label are carved out of the space of ``ax`` itself (Matplotlib's
    ``make_axes_locatable``), so that a heatmap drawn into the user's own subplot never spills
    over the next one.
    """
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    figure = ax.figure
    if isinstance(figure.get_layout_engine(), ConstrainedLayoutEngine):
        return figure.colorbar(image, ax=ax, label=label)
    from mpl_toolkits.axes_grid1 import axes_size, make_axes_locatable

    divider = make_axes_locatable(ax)
    bar = figure.colorbar(image, cax=divider.append_axes("right", size=0.12, pad=0.08),
                          label=label)
    renderer = figure.canvas.get_renderer()
    labels = bar.ax.get_tightbbox(renderer).x1 - bar.ax.get_window_extent(renderer).x1
    divider.append_size("right", axes_size.Fixed(max(labels, 0.0) / figure.dpi))
    return bar


def plot_importance(importance: Importance, kind: str | None = None, ax: Any = None,
                    **kwargs: Any) -> Any:
    """Draw one result.

    Parameters
    ----------
    importance : Importance
    kind : {"bar", "heatmap", "profile"} or None
        None picks :func:`default_kind`.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None. For ``"profile"``, one Axes per drawn variable
        (a single Axes for a single variable, or a sequence of them).
    **kwargs
        ``"bar"``: ``top`` (show the ``top`` most important variables only), ``color``,
        ``horizontal`` (default: when more than 15 variables are drawn). ``"heatmap"``:
        ``cmap``. ``"profile"``: ``variables`` (names to draw), ``output`` (the output index
        whose curves are drawn; default the first).

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
    return {"bar": _bar, "heatmap": _heatmap, "profile": _profile}[kind](importance, ax, **kwargs)


def _bar(importance: Importance, ax: Any, *, top: int | None = None, color: str = "tab:blue",
         horizontal: bool | None = None) -> Any:
    order = importance.ranks.sort_values(kind="stable").index
    if top is not None:
        order = order[:top]
    horizontal = len(order) > MANY if horizontal is None else horizontal
    scores = importance.scores[order].to_numpy()
    err = None
    if importance.std is not None:
        err = importance.std[order].to_numpy()
    elif importance.ci is not None:
        ci = importance.ci.loc[order]
        err = np.vstack([scores - ci["low"].to_numpy(), ci["high"].to_numpy() - scores])
    names = [str(name) for name in order]
    positions = np.arange(len(order))
    if horizontal:
        ax = _axes(ax, (6.0, max(3.0, 0.28 * len(order) + 1.2)))
        ax.barh(positions, scores, xerr=err, capsize=3, color=color)
        ax.set_yticks(positions, names)
        ax.set_ylim(len(order) - 0.5, -0.5)  # the most important on top, no empty margins
        ax.axvline(0.0, color="black", linewidth=0.8)
        ax.set_xlabel(measure_label(importance))
    else:
        ax = _axes(ax, (max(4.0, 0.6 * len(order) + 2), 3.5))
        ax.bar(positions, scores, yerr=err, capsize=3, color=color)
        ax.set_xticks(positions, names, rotation=45 if len(order) > 8 else 0,
                      ha="right" if len(order) > 8 else "center")
        ax.axhline(0.0, color="black", linewidth=0.8)
        ax.set_ylabel(measure_label(importance))
    ax.set_title(importance.method)
    if importance.pvalues is not None:
        below, above = (0.0, 0.0) if err is None else np.atleast_2d(err)[[0, -1]]
        tips = np.where(scores < 0, scores - below, scores + above)
        _significance(ax, importance.pvalues[order].to_numpy(dtype=float), positions, tips,
                      horizontal)
    return ax


def _significance(ax: Any, pvalues: np.ndarray, positions: np.ndarray, tips: np.ndarray,
                  horizontal: bool) -> None:
    """Stars beyond the tip of each significant bar (its error bar included; below a negative
    bar), room made for them, and a legend that reads the stars (:data:`SIGNIFICANCE_CAPTION`)."""
    from matplotlib.lines import Line2D

    for at, pvalue, tip in zip(positions, pvalues, tips, strict=True):
        mark = stars(pvalue)
        if not mark:
            continue
        away = 1 if tip >= 0 else -1
        if horizontal:
            ax.annotate(mark, (tip, at), xytext=(2 * away, 0), textcoords="offset points",
                        ha="left" if away > 0 else "right", va="center")
        else:
            ax.annotate(mark, (at, tip), xytext=(0, away), textcoords="offset points",
                        ha="center", va="bottom" if away > 0 else "top")
    low, high = ax.get_xlim() if horizontal else ax.get_ylim()
    room = 0.12 * (high - low)
    (ax.set_xlim if horizontal else ax.set_ylim)(low - room * (low < 0), high + room)
    key = Line2D([], [], linestyle="none", label=SIGNIFICANCE_CAPTION)
    ax.legend(handles=[key], loc="best", handlelength=0, handletextpad=0, fontsize="small",
              title="randomization test", title_fontsize="small")


def _heatmap(importance: Importance, ax: Any, *, cmap: str | None = None) -> Any:
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
    ax = _axes(ax, (max(4.5, 0.35 * len(table.index) + 3),
                    max(2.8, 0.4 * values.shape[0] + 1.4)))
    image = ax.imshow(values, aspect="auto", cmap=cmap, interpolation="nearest",
                      vmin=-limit if signed else None, vmax=limit)
    ax.set_yticks(np.arange(values.shape[0]), [str(c) for c in table.columns])
    ticks = time_ticks(len(table.index))
    ax.set_xticks(ticks, [str(table.index[t]) for t in ticks])
    label = "time step (most recent last)"
    spec = REGISTRY.get(importance.method)
    if spec is not None and spec.reads_weights:
        label += "\n" + LINEAR_PATH_CAPTION
    ax.set_xlabel(label)
    ax.set_title(importance.method)
    colorbar(image, ax, measure_label(importance))
    return ax


def _median_curve(importance: Importance, part: pd.DataFrame, name: str,
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


def _profile(importance: Importance, ax: Any, *, variables: Sequence[str] | None = None,
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
        panel.plot(*_median_curve(importance, part, name, output), color="black",
                   linewidth=2.2, linestyle="--", label=MEDIAN_LABEL)
        panel.set_title(str(name))
        panel.set_xlabel(f"{name} (fraction of range)" if kinds.get(name) == "fraction"
                         else str(name))
    low = min(line.get_ydata().min() for panel in axes for line in panel.lines)
    high = max(line.get_ydata().max() for panel in axes for line in panel.lines)
    margin = 0.05 * (high - low) if high > low else 0.5
    for panel in axes:
        panel.set_ylim(low - margin, high + margin)
    ylabel = f"prediction (output {output})" if several else "prediction"
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
        variables. ``"heatmap"``: the methods x features table of ranks (1 = most important,
        by each method's own kind), every cell annotated with its rank, features ordered by
        their mean rank. None: the heatmap for more than 15 variables, else bars.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
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
    draw = _rank_heatmap if kind == "heatmap" else _grouped_bars
    return draw(comparison, ax, **kwargs)


def _grouped_bars(comparison: Comparison, ax: Any) -> Any:
    relative = comparison.relative
    relative = relative.loc[relative.mean(axis=1).sort_values(ascending=False,
                                                              kind="stable").index]
    n_vars, n_methods = relative.shape
    horizontal = n_vars > MANY
    width = 0.8 / n_methods
    positions = np.arange(n_vars)
    names = [str(name) for name in relative.index]
    if horizontal:
        ax = _axes(ax, (7.0, max(3.5, 0.12 * n_vars * n_methods + 1.5)))
    else:
        ax = _axes(ax, (max(5.0, 0.5 * n_vars * n_methods ** 0.5 + 3), 3.8))
    for k, method in enumerate(relative.columns):
        at = positions - 0.4 + width * (k + 0.5)
        heights = relative[method].fillna(0.0).to_numpy()
        if horizontal:
            ax.barh(at, heights, width, label=str(method))
        else:
            ax.bar(at, heights, width, label=str(method))
    if horizontal:
        ax.set_yticks(positions, names)
        ax.set_ylim(n_vars - 0.5, -0.5)  # the most important on top, no empty margins
        ax.set_xlabel("relative importance (%)")
    else:
        ax.set_xticks(positions, names, rotation=45 if n_vars > 8 else 0,
                      ha="right" if n_vars > 8 else "center")
        ax.set_ylabel("relative importance (%)")
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0),
              borderaxespad=0.0)
    return ax


def _rank_heatmap(comparison: Comparison, ax: Any, *, cmap: str = "viridis_r") -> Any:
    ranks = comparison.ranks
    ranks = ranks.loc[ranks.mean(axis=1).sort_values(kind="stable").index].T  # methods x vars
    n_methods, n_vars = ranks.shape
    ax = _axes(ax, (max(5.0, 0.32 * n_vars + 3), max(2.5, 0.4 * n_methods + 1.6)))
    values = ranks.to_numpy(dtype=float)
    top = int(np.nanmax(values)) if np.isfinite(values).any() else 1
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    # one colour per rank, centred on the integers
    image = ax.imshow(values, aspect="auto", cmap=plt.get_cmap(cmap, max(top, 2)),
                      interpolation="nearest", vmin=0.5, vmax=max(top, 2) + 0.5)
    ax.set_xticks(np.arange(n_vars), [str(v) for v in ranks.columns],
                  rotation=90 if n_vars > 8 else 0)
    ax.set_yticks(np.arange(n_methods), [str(m) for m in ranks.index])
    size = "small" if n_vars <= 20 else "x-small"
    for (row, col), rank in np.ndenumerate(values):
        if np.isfinite(rank):
            shade = image.cmap(image.norm(rank))
            light = 0.299 * shade[0] + 0.587 * shade[1] + 0.114 * shade[2] > 0.5
            ax.text(col, row, str(int(rank)), ha="center", va="center", fontsize=size,
                    color="black" if light else "white")
    ax.set_title("rank of every variable by every method")
    bar = colorbar(image, ax, "rank (1 = most important)")
    bar.ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    bar.ax.invert_yaxis()  # rank 1 on top
    return ax


def plot_network(model_or_network: Any, ax: Any = None, *,
                 feature_names: Sequence[str] | None = None,
                 output_names: Sequence[str] | None = None, bias: bool = True,
                 max_width: float = 5.0, positive: str = "black", negative: str = "grey") -> Any:
    """The neural interpretation diagram of an MLP, as NeuralNetTools' ``plotnet`` draws it.

    Input, hidden and output nodes stand in columns, left to right; every weight is one line
    between the two nodes it connects, its width proportional to ``|weight|`` (the largest
    ``max_width`` points wide) and its colour its sign (Özesmi & Özesmi 1999; Beck 2018).
    Biases are drawn from one bias node above each layer they feed (``B1``, ``B2``, ...).

    Parameters
    ----------
    model_or_network : model or varimp.network.Network
        A model whose structure varimp reads (``varimp.adapters.adapt(model).network()``), or
        the network itself. Dense layers only.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    feature_names, output_names : sequence of str, optional
        Labels of the input and output nodes (default ``x1..xp``; the model's output names,
        else ``y1..yk``).
    bias : bool, default True
        Draw the bias nodes and their weights.
    max_width : float, default 5.0
        Line width in points of the largest absolute weight.
    positive, negative : str, default "black", "grey"
        Colours of positive and negative weights.

    Returns
    -------
    matplotlib.axes.Axes
        The weights are ``ax.collections[0]`` (a LineCollection, one segment per weight, layer
        by layer, row-major in the ``(n_in, n_out)`` weight matrix, then the biases); each
        layer's nodes are one scatter collection after it.

    Raises
    ------
    UnsupportedModelError
        The model is not a stack of dense layers (a recurrent layer, a sequence input).

    References
    ----------
    Özesmi, S. L. & Özesmi, U. (1999). An artificial neural network approach to spatial habitat
    modelling with interspecific interaction. Ecological Modelling 116, 15-31.
    Beck, M. W. (2018). NeuralNetTools: visualization and analysis tools for neural networks.
    Journal of Statistical Software 85(11), 1-20.
    """
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D

    from .errors import UnsupportedModelError
    from .network import Dense, Flatten, Network

    network = model_or_network
    if not isinstance(network, Network):
        from .adapters import adapt

        adapter = adapt(model_or_network)
        network = adapter.network()
        output_names = adapter.output_names if output_names is None else output_names
    layers = [layer for layer in network.layers if isinstance(layer, Dense)]
    other = [layer for layer in network.layers if not isinstance(layer, Dense | Flatten)]
    if other or network.sequence or not layers:
        what = other[0].name if other else "a sequence input"
        raise UnsupportedModelError(f"the neural interpretation diagram draws dense layers only; "
                                    f"this network has {what}")
    sizes = [layers[0].n_in] + [layer.n_out for layer in layers]
    inputs = _node_labels(feature_names, sizes[0], "x", "feature_names")
    outputs = _node_labels(output_names, sizes[-1], "y", "output_names")
    tallest = max(sizes) + (1 if bias else 0)
    ax = _axes(ax, (1.9 * len(sizes) + 2.4, min(14.0, max(3.0, 0.45 * tallest + 1.2))))
    spacing = 72.0 * ax.get_window_extent().height / ax.figure.dpi / (tallest + 2.0)
    area = min(620.0, (0.75 * spacing) ** 2)  # nodes as large as the room between them allows
    gap = np.sqrt(area) / 2 + 5.0  # from a node's centre to its label, in points

    def column(k: int) -> np.ndarray:  # node heights of layer k, centred on 0
        return (sizes[k] - 1) / 2.0 - np.arange(sizes[k])

    top = (max(sizes) - 1) / 2.0 + 1.0
    segments, weights = [], []
    for k, layer in enumerate(layers):
        start, end = column(k), column(k + 1)
        for i, j in np.ndindex(layer.weight.shape):
            segments.append([(k, start[i]), (k + 1, end[j])])
            weights.append(layer.weight[i, j])
    if bias:
        for k, layer in enumerate(layers):
            for j, height in enumerate(column(k + 1)):
                segments.append([(k + 0.5, top), (k + 1, height)])
                weights.append(layer.bias[j])
    weights = np.asarray(weights, dtype=float)
    largest = np.abs(weights).max()
    widths = max_width * np.abs(weights) / largest if largest > 0 else np.zeros_like(weights)
    colours = [positive if w >= 0 else negative for w in weights]
    ax.add_collection(LineCollection(segments, linewidths=widths, colors=colours, zorder=1))
    node = dict(s=area, facecolor="white", edgecolor="black", linewidths=1.0, zorder=2)
    for k in range(len(sizes)):
        heights = column(k)
        ax.scatter(np.full(sizes[k], float(k)), heights, **node)
        if k == 0:
            for label, height in zip(inputs, heights, strict=True):
                ax.annotate(label, (k, height), xytext=(-gap, 0), textcoords="offset points",
                            ha="right", va="center")
        elif k == len(sizes) - 1:
            for label, height in zip(outputs, heights, strict=True):
                ax.annotate(label, (k, height), xytext=(gap, 0), textcoords="offset points",
                            ha="left", va="center")
        else:
            for n, height in enumerate(heights, start=1):
                ax.text(k, height, f"H{n}", ha="center", va="center", fontsize="small",
                        zorder=3, clip_on=True)
    if bias:
        ax.scatter(np.arange(len(layers)) + 0.5, np.full(len(layers), top), **node)
        for k in range(len(layers)):
            ax.text(k + 0.5, top, f"B{k + 1}", ha="center", va="center", fontsize="small",
                    zorder=3)
    captions = ["input"] + [f"hidden {k}" for k in range(1, len(layers))] + ["output"]
    captions = [f"{caption}\n({layers[k - 1].activation})" if k else caption
                for k, caption in enumerate(captions)]
    bottom = -(max(sizes) - 1) / 2.0 - 0.9
    for k, caption in enumerate(captions):
        ax.text(k, bottom, caption, ha="center", va="top", fontsize="small", color="0.3")
    ax.set_xlim(-0.9, len(sizes) - 0.1)
    ax.set_ylim(bottom - 0.8, top + 0.6)
    ax.set_axis_off()
    ax.legend(handles=[Line2D([], [], color=positive, linewidth=2, label="positive weight"),
                       Line2D([], [], color=negative, linewidth=2, label="negative weight")],
              loc="upper right", fontsize="small", frameon=False)
    ax.set_title("neural interpretation diagram (line width: |weight|)")
    return ax


def _node_labels(names: Sequence[Any] | None, n: int, stem: str, option: str) -> list[str]:
    if names is None:
        return [f"{stem}{k}" for k in range(1, n + 1)]
    names = [str(name) for name in names]
    if len(names) != n:
        raise InputError(f"{option} must name all {n} nodes; received {len(names)} names")
    return names


__all__ = ["colorbar", "default_kind", "measure_label", "plot_comparison", "plot_importance",
           "plot_kinds", "plot_network", "stars", "time_ticks"]
