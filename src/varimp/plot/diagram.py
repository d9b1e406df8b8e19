"""The neural interpretation diagram of an MLP (Özesmi & Özesmi 1999), as NeuralNetTools'
``plotnet`` draws it: line widths rescaled from ``|weight|`` into 1 to 7 points, bias nodes for
the layers that have biases."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import InputError
from ._common import axes_inches, new_axes

#: The smallest font, in points, of the labels inside the nodes (H1, B1); nodes too small to
#: hold them at this size are drawn without them.
SMALLEST_LABEL = 4.0


def plot_network(model_or_network: Any, ax: Any = None, *,
                 feature_names: Sequence[str] | None = None,
                 output_names: Sequence[str] | None = None, bias: bool = True,
                 widths: tuple[float, float] = (1.0, 7.0), positive: str = "black",
                 negative: str = "grey") -> Any:
    """The neural interpretation diagram of an MLP, as NeuralNetTools' ``plotnet`` draws it.

    Input, hidden and output nodes stand in columns, left to right; every weight is one line
    between the two nodes it connects, its colour its sign (Özesmi & Özesmi 1999; Beck 2018).
    Line widths follow ``plotnet``'s ``rel_rsc = c(1, 7)``: ``|weight|`` is rescaled linearly
    from its range over every weight and bias of the network (whether or not the biases are
    drawn) onto ``widths``, so the smallest ``|weight|`` is 1 point wide, never invisible, and
    the largest 7 points (all equal: every line 4 points wide, the middle, as R's
    ``scales::rescale``). Biases are drawn from one bias node above each layer they feed
    (``B1`` feeds hidden layer 1, ``B2`` the next, ...). A layer the model declares without a
    bias (PyTorch ``nn.Linear(bias=False)``, Keras ``Dense(use_bias=False)``: the network
    description's :attr:`~varimp.network.Dense.has_bias` is False) has no bias node, as
    ``plotnet`` draws none for a network without biases, unless a normalisation folded into
    it filled its bias.
    Nodes are as large as the room between them allows; the labels inside the hidden and bias
    nodes (``H1``, ``B1``) are drawn over the lines, at the size that keeps each inside its
    circle, and left out when that would be under :data:`SMALLEST_LABEL` points.

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
        Draw the bias nodes and their weights (of the layers that have biases).
    widths : (float, float), default (1.0, 7.0)
        Line widths in points of the smallest and the largest absolute weight (``plotnet``'s
        ``rel_rsc``); the others in between, linear in ``|weight|``.
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

    from ..errors import UnsupportedModelError
    from ..network import Dense, Flatten, Network

    network = model_or_network
    if not isinstance(network, Network):
        from ..adapters import adapt

        adapter = adapt(model_or_network)
        network = adapter.network()
        if output_names is None:
            output_names = adapter.unit_names(network.n_outputs)
    low, high = _width_range(widths)
    layers = [layer for layer in network.layers if isinstance(layer, Dense)]
    other = [layer for layer in network.layers if not isinstance(layer, Dense | Flatten)]
    if other or network.sequence or not layers:
        what = other[0].name if other else "a sequence input"
        raise UnsupportedModelError(f"the neural interpretation diagram draws dense layers only; "
                                    f"this network has {what}")
    # a declared missing bias reads as zeros; one a folded normalisation filled is drawn
    biased = [layer.has_bias or bool(np.any(layer.bias)) for layer in layers]
    feeds = [k for k in range(len(layers)) if bias and biased[k]]  # layers with a bias node
    sizes = [layers[0].n_in] + [layer.n_out for layer in layers]
    inputs = _node_labels(feature_names, sizes[0], "x", "feature_names")
    outputs = _node_labels(output_names, sizes[-1], "y", "output_names")
    tallest = max(sizes) + (1 if feeds else 0)
    ax = new_axes(ax, (1.9 * len(sizes) + 2.4, max(3.0, 0.45 * tallest + 1.2)))
    ax.set_title("neural interpretation diagram (line width: |weight|)")
    ax.set_axis_off()
    # points between two nodes of a column, in the axes as laid out
    spacing = 72.0 * axes_inches(ax)[1] / (tallest + 2.0)
    area = min(620.0, (0.8 * spacing) ** 2)  # nodes as large as the room between them allows
    gap = np.sqrt(area) / 2 + 5.0  # from a node's centre to its label, in points
    inner = [f"H{n}" for n in range(1, max(sizes[1:-1], default=0) + 1)] + \
        [f"B{k + 1}" for k in feeds]
    inside = _inside_size(ax, inner, np.sqrt(area)) if inner else None

    def column(k: int) -> np.ndarray:  # node heights of layer k, centred on 0
        return (sizes[k] - 1) / 2.0 - np.arange(sizes[k])

    top = (max(sizes) - 1) / 2.0 + 1.0
    segments, weights = [], []
    for k, layer in enumerate(layers):
        start, end = column(k), column(k + 1)
        for i, j in np.ndindex(layer.weight.shape):
            segments.append([(k, start[i]), (k + 1, end[j])])
            weights.append(layer.weight[i, j])
    for k in feeds:
        for j, height in enumerate(column(k + 1)):
            segments.append([(k + 0.5, top), (k + 1, height)])
            weights.append(layers[k].bias[j])
    weights = np.asarray(weights, dtype=float)
    # the range over every weight and bias the network has, drawn or not (as plotnet)
    every = np.abs(np.concatenate([layer.weight.ravel() for layer in layers] +
                                  [layer.bias for layer, has in zip(layers, biased, strict=True)
                                   if has]))
    smallest, largest = every.min(), every.max()
    if largest > smallest:
        drawn = low + (high - low) * (np.abs(weights) - smallest) / (largest - smallest)
    else:
        drawn = np.full(len(weights), (low + high) / 2.0)
    colours = [positive if w >= 0 else negative for w in weights]
    # edges under the nodes, node labels over both
    ax.add_collection(LineCollection(segments, linewidths=drawn, colors=colours, zorder=1))
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
        elif inside is not None:
            for n, height in enumerate(heights, start=1):
                ax.text(k, height, f"H{n}", ha="center", va="center", fontsize=inside,
                        zorder=3)
    if feeds:
        ax.scatter(np.asarray(feeds) + 0.5, np.full(len(feeds), top), **node)
        for k in feeds if inside is not None else []:
            ax.text(k + 0.5, top, f"B{k + 1}", ha="center", va="center", fontsize=inside,
                    zorder=3)
    captions = ["input"] + [f"hidden {k}" for k in range(1, len(layers))] + ["output"]
    captions = [f"{caption}\n({layers[k - 1].activation})" if k else caption
                for k, caption in enumerate(captions)]
    bottom = -(max(sizes) - 1) / 2.0 - 0.9
    for k, caption in enumerate(captions):
        ax.text(k, bottom, caption, ha="center", va="top", fontsize="small", color="0.3")
    ax.set_xlim(-0.9, len(sizes) - 0.1)
    ax.set_ylim(bottom - 0.8, top + 0.6)
    ax.legend(handles=[Line2D([], [], color=positive, linewidth=2, label="positive weight"),
                       Line2D([], [], color=negative, linewidth=2, label="negative weight")],
              loc="upper right", fontsize="small", frameon=False)
    return ax


def _width_range(widths: object) -> tuple[float, float]:
    try:
        low, high = (float(w) for w in widths)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        low = high = float("nan")
    if not 0 <= low <= high < float("inf"):
        raise InputError(f"widths must be two line widths in points, (smallest, largest) with "
                         f"0 <= smallest <= largest; received {widths!r}")
    return low, high


def _inside_size(ax: Any, labels: Sequence[str], diameter: float) -> float | None:
    """The font size, in points, at which every one of ``labels`` drawn centred on a node of
    ``diameter`` points lies inside its circle (the corners of its drawn extent within 90% of
    the radius inside the edge line), at most matplotlib's ``"small"``; None when that is below
    :data:`SMALLEST_LABEL` points (the labels are then left out)."""
    from matplotlib.font_manager import FontProperties

    small = FontProperties(size="small").get_size_in_points()
    probe = ax.figure.text(0, 0, max(labels, key=len), fontsize=small)
    try:
        extent = probe.get_window_extent(ax.figure.canvas.get_renderer())
    finally:
        probe.remove()
    half_diagonal = 0.5 * np.hypot(extent.width, extent.height) * 72.0 / ax.figure.dpi
    radius = diameter / 2 - 0.5  # inside the circle's edge line (1 point wide)
    size = min(small, small * 0.9 * radius / half_diagonal)
    return size if size >= SMALLEST_LABEL else None


def _node_labels(names: Sequence[Any] | None, n: int, stem: str, option: str) -> list[str]:
    if names is None:
        return [f"{stem}{k}" for k in range(1, n + 1)]
    names = [str(name) for name in names]
    if len(names) != n:
        raise InputError(f"{option} must name all {n} nodes; received {len(names)} names")
    return names
