"""The neural interpretation diagram of an MLP (Özesmi & Özesmi 1999), as NeuralNetTools'
``plotnet`` draws it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import InputError
from ._common import new_axes


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

    from ..errors import UnsupportedModelError
    from ..network import Dense, Flatten, Network

    network = model_or_network
    if not isinstance(network, Network):
        from ..adapters import adapt

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
    ax = new_axes(ax, (1.9 * len(sizes) + 2.4, max(3.0, 0.45 * tallest + 1.2)))
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
