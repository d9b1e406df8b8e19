"""Weight-based methods: connection weights (Olden & Jackson 2002) and Garson's algorithm.

Both read the raw weights of the network, leave biases out and ignore the activations: they
describe the *linear path* from every input cell to every output. For stacked dense layers
that path is the matrix product ``W1 @ W2 @ ... @ Wk``. For recurrent layers it is derived in
``docs/recurrent-weights.md``: each layer is replaced by its first-order (linear) path at rest,
the gates held at their resting value ``g0 = sigmoid(0) = 1/2``:

- RNN:  ``h_t = h_{t-1} @ U + x_t @ W``
- LSTM: ``c_t = c_{t-1} @ (f0 I + i0 o0 U_g) + x_t @ (i0 W_g)``, ``h_t = o0 c_t``
- GRU:  ``h_t = h_{t-1} @ (z0 I + (1 - z0) r0 U_n) + x_t @ ((1 - z0) W_n)``

Each is a linear time-invariant system ``s_t = s_{t-1} A + u_t B``, ``h_t = s_t C``. Its
response to an input at step ``t`` observed ``m`` steps later is ``C A^m B`` composed with the
responses of the layers below, computed by running the impulse response through the recurrence.
For a network of linear RNN and dense layers this is exactly the derivative of the output with
respect to each input cell, which the tests check against autograd.

Classes of one softmax (a last layer of ``k > 1`` units with a softmax or log-softmax, or
declared logits, ``output_kind="logits"``, unless ``y`` is multi-hot): the probabilities do not
change when one vector is added to every class's weights, so the raw class weights are not
defined by the model. Both methods read the last layer's class weights centred over the classes,
``w_c - mean_k w_k`` (:meth:`varimp.network.Network.with_centred_classes`): the linear path to
the centred logit ``z_c - mean_k z_k``, which is the centred log-probability
``log p_c - mean_k log p_k``. One sigmoid output (a binary logit or probability) and independent
sigmoid outputs (multi-label) are read as they are.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError, UnsupportedModelError
from ..network import Dense, Flatten, Network, Recurrent
from ..result import Importance
from ..scoring.targets import multi_hot
from ..validation import (
    Data,
    check_choice,
    check_positive_int,
    check_y,
    feature_spread,
    validate,
)
from ._common import (
    block_categories,
    configured,
    group_columns,
    names_without_data,
    one_hot_blocks,
    output_labels,
    output_names,
    resolve_output,
    resolve_step,
    time_table,
    warn_units,
)

#: ``scale``: ``"none"`` reads the weights per raw unit of every input, ``"std"`` per standard
#: deviation (:func:`_per_unit`).
WEIGHT_SCALES = ("none", "std")

#: ``"garson"`` and ``"goh"`` are one form (Goh 1995; Olden & Jackson 2002; NeuralNetTools);
#: ``"output_weighted"`` weights each last-hidden unit by its absolute output weight.
GARSON_VARIANTS = ("garson", "goh", "output_weighted")


def _system(layer: Recurrent) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(A, B, C)`` of the layer's linear path at rest (see the module docstring)."""
    g0 = layer.gate_at_rest()
    eye = np.eye(layer.n_out)
    if layer.cell == "rnn":
        return layer.w_recurrent["h"], layer.w_input["h"], eye
    if layer.cell == "lstm":
        return g0 * eye + g0 * g0 * layer.w_recurrent["g"], g0 * layer.w_input["g"], g0 * eye
    return (g0 * eye + (1 - g0) * g0 * layer.w_recurrent["n"], (1 - g0) * layer.w_input["n"],
            eye)


def _shares(*blocks: np.ndarray) -> list[np.ndarray]:
    """Garson's shares: absolute weights over all sources of each target unit, summing to 1."""
    total = sum(np.abs(b).sum(axis=0) for b in blocks)
    total = np.where(total > 0, total, 1.0)
    return [np.abs(b) / total for b in blocks]


def linear_path(
    network: Network, n_timesteps: int = 1, *, garson: str | None = None,
    output_step: int | None = None,
) -> np.ndarray:
    """Response of every output to every input cell along the linear path: ``(T, p, k)``.

    ``garson=None`` gives connection weights (raw, signed). With a Garson variant every hidden
    weight matrix becomes Garson's shares (absolute weights over each unit's inflow);
    ``"garson"`` / ``"goh"`` then give every last-hidden unit the weight 1 (the output weight
    cancels in the per-unit normalisation), ``"output_weighted"`` its absolute output weight.
    Sequence-to-sequence outputs are summed over the predicted steps, or taken at
    ``output_step``.
    """
    p = network.n_inputs
    steps = n_timesteps if network.sequence else 1
    response = np.zeros((steps, p, p))
    response[0] = np.eye(p)
    lagged = network.sequence  # True: response[m] is the effect m steps later, at every step
    weighted = [k for k, layer in enumerate(network.layers) if not isinstance(layer, Flatten)]
    last = weighted[-1]
    for k, layer in enumerate(network.layers):
        if isinstance(layer, Dense):
            weight = layer.weight
            if garson is not None and k == last:
                weight = np.abs(weight) if garson == "output_weighted" else np.ones_like(weight)
            elif garson is not None:
                (weight,) = _shares(weight)
            response = response @ weight
        elif isinstance(layer, Recurrent):
            if not lagged:
                raise UnsupportedModelError(f"layer {layer.name} reads a sequence that an "
                                            "earlier layer already collapsed")
            A, B, C = _system(layer)
            if garson is not None:
                (C,) = _shares(C)
                B, A = _shares(B, A)
            state = np.zeros((p, layer.n_out))
            out = np.empty((steps, p, layer.n_out))
            for m in range(steps):
                state = state @ A + response[m] @ B
                out[m] = state @ C
            response = out
            if not layer.return_sequences:  # only the final step goes on: lag T-1-t for step t
                response, lagged = out[::-1].copy(), False
        elif lagged:  # Flatten of (time, units): every (t_out, unit) becomes one output unit
            units = response.shape[-1]
            flat = np.zeros((steps, p, steps * units))
            for t_out in range(steps):
                for t_in in range(t_out + 1):
                    flat[t_in, :, t_out * units:(t_out + 1) * units] = response[t_out - t_in]
            response, lagged = flat, False
    step = resolve_step(output_step, steps if lagged else 1)
    if not lagged:
        return response
    if step is None:  # sum over predicted steps: step t reaches steps t..T-1
        return np.cumsum(response, axis=0)[::-1].copy()
    by_step = np.zeros_like(response)
    by_step[: step + 1] = response[step::-1]
    return by_step


def _resolve(model: object, X: object, y: object, feature_names: object, groups: Any,
             n_timesteps: int | None, output_kind: str | None = None, scale: str = "none",
             method: str = "connection weights", classes: Any = None
             ) -> tuple[Network, int, dict, Any, dict, bool]:
    """The network, the number of steps, the variables, the output names (the model's, else
    the columns of a DataFrame ``y``), the categories of every one-hot group (read from X;
    none without X), and whether the network's class weights were centred (the classes of one
    softmax, :func:`softmax_classes`): the one network reading of both methods. With
    ``scale="std"`` the network's input weights are per standard deviation of each input
    (:func:`_per_unit`). ``output_kind`` and ``classes`` configure the adapter
    (:func:`varimp.methods._common.configured`): the classes name the outputs."""
    scale = check_choice(scale, "scale", WEIGHT_SCALES)
    adapter = configured(model, output_kind, classes)
    network = adapter.network()
    _check_gates(network, method)
    data = None
    blocks: dict[str, np.ndarray] = {}
    if X is not None:
        data = validate(X, None, feature_names=feature_names,
                        fitted_columns=adapter.input_columns)
        adapter.check_input(data.X)  # the shape of X before y: a 2-D X for a sequence model
        target, target_names = check_y(y, data.n_samples, required=False, index=data.index)
        data = replace(data, y=target, target_names=target_names)
        if data.sequence:
            network = network.read_as_sequences(data.n_timesteps)
        if data.n_features != network.n_inputs or data.sequence != network.sequence:
            raise InputError(f"X must have shape (n, {'T, ' if network.sequence else ''}"
                             f"{network.n_inputs}) for this network; received {data.X.shape}")
        _, variables = names_without_data(data.n_features, data.feature_names, groups)
        blocks = {name: block_categories(codes, len(variables[name]))
                  for name, codes in one_hot_blocks(data.X, variables, groups).items()}
        steps = data.n_timesteps or 1
        columns, spread = data.feature_names, feature_spread(data.X)
    else:
        if isinstance(y, pd.DataFrame):  # without X, y serves only to name the outputs
            data = Data(np.empty((len(y), 0)), None, (), tuple(str(c) for c in y.columns))
        if n_timesteps is not None:
            network = network.read_as_sequences(check_positive_int(n_timesteps, "n_timesteps"))
        columns, variables = names_without_data(network.n_inputs, feature_names, groups)
        spread = None  # from a normalisation inside the model, if any (_per_unit)
        known = adapter.expected_input[0] if adapter.expected_input and \
            len(adapter.expected_input) == 2 else None
        steps = n_timesteps or known or 1
        if network.sequence and not (n_timesteps or known):
            raise InputError("this is a sequence model: pass X or n_timesteps= so that the "
                             "importance can be resolved over time; received neither")
    if n_timesteps is not None:
        steps = check_positive_int(n_timesteps, "n_timesteps")
    network = _per_unit(network, spread, columns, [c for name in blocks for c in variables[name]],
                        scale, method)
    centred = softmax_classes(network, adapter.output_kind,
                              data.y if data is not None else None)
    if centred:
        network = network.with_centred_classes()
    return (network, steps, variables, output_names(adapter, data, network.n_outputs), blocks,
            centred)


def _per_unit(network: Network, spread: np.ndarray | None, columns: Sequence[str],
              categories: list[int], scale: str, method: str) -> Network:
    """The network whose weights the method reads: as it is (``scale="none"``, per raw unit
    of every input: a warning when the inputs' standard deviations differ by more than
    ``SPREAD_RATIO_WARNING`` times), or with every input's first-layer weights multiplied by
    its standard deviation (``scale="std"``), so that each input is scored per standard
    deviation, the unit Olden & Jackson (2002) standardise the inputs to.

    The spread is that of ``X`` (:func:`varimp.validation.feature_spread`) when ``X`` is
    given, else that by which a normalisation inside the model (a Keras ``Normalization``,
    folded into the first weights) divides its inputs: multiplied back, the weights are the
    ones the network's first layer holds. The members of a one-hot group (``categories``:
    their columns) are a category switch, their own unit: never scaled, never warned about."""
    per_unit = spread is None and network.input_spread is not None
    if per_unit:  # the normalisation's own spread, per input unit of the first layer
        unit_spread = network.input_spread
        spread = np.sqrt((unit_spread**2).reshape(-1, network.n_inputs).mean(axis=0))
    if spread is None:
        if scale == "std":
            raise InputError(f"scale='std' scores every input per standard deviation, read "
                             f"from X; received no X (and the model standardises no input "
                             f"itself): pass X, the data the {method} are read for")
        return network
    numeric = np.ones(len(spread), dtype=bool)
    numeric[categories] = False
    if scale == "none":
        warn_units(np.where(numeric, spread, 0.0), columns, f"{method} depend", stacklevel=6)
        return network
    if numeric.any() and not np.any(spread[numeric] > 0):
        raise InputError(f"scale='std' scores every input per standard deviation, read from "
                         f"X; received X whose inputs do not vary (every standard deviation "
                         f"is 0, {len(spread)} inputs): pass X with the data the {method} "
                         f"are read for, or scale='none'")
    factor = np.where(numeric, spread, 1.0)
    if per_unit:
        factor = unit_spread
    return network.with_input_scale(factor)


def softmax_classes(network: Network, output_kind: str, y: np.ndarray | None = None) -> bool:
    """Whether the network's outputs are the classes of one softmax over ``k > 1`` units,
    whose last-layer class weights :func:`_resolve` centres (``Network.with_centred_classes``):
    a last dense layer of several units with a softmax or log-softmax, or without an
    activation when the outputs are declared logits (``output_kind="logits"``), unless ``y``
    is multi-hot (independent sigmoid labels, as the scoring reads them). Sigmoid outputs
    (one binary logit or probability, multi-label units) are not."""
    last = [layer for layer in network.layers if not isinstance(layer, Flatten)][-1]
    if not isinstance(last, Dense) or last.n_out < 2:
        return False
    if last.activation in ("softmax", "log_softmax"):
        return True
    if last.activation != "identity" or output_kind != "logits":
        return False
    if y is None:
        return True
    steps = y.shape[1] if y.ndim == 3 else 1
    return not multi_hot(y, y.shape[0], steps, last.n_out)


def _result(method: str, path: np.ndarray, network: Network, variables: dict, outputs: list,
            output_names: Any, shares: bool, details: dict,
            blocks: dict[str, np.ndarray] | None = None) -> Importance:
    """Scores per selected output, combined by the one rule for several outputs.

    Every selected output gets its own scores (``details["per_output"]``). Shares (Garson) are
    normalised per output and averaged over outputs (kind "share"). Connection weights keep
    their sign for one output (kind "effect"); several are combined as the mean of their
    absolute values (kind "magnitude"), since a sign is meaningful for one output only.
    ``blocks`` (connection weights): the categories of every one-hot group, scored by the
    contrast of its categories' products (:func:`_category_contrast`).
    """
    by_output = np.moveaxis(path, -1, 0)[outputs]  # (k_sel, T, p)
    cells = group_columns(by_output, variables)  # (k_sel, T, v)
    if shares:
        totals = cells.sum(axis=(1, 2), keepdims=True)
        cells = cells / np.where(totals > 0, totals, 1.0)
    per_output = cells.sum(axis=1)  # (k_sel, v)
    position = {name: i for i, name in enumerate(variables)}
    for name, categories in (blocks or {}).items():
        i = position[name]
        cells[..., i], per_output[:, i] = _category_contrast(by_output[..., variables[name]],
                                                            categories)
    if shares:
        kind, scores, combined = "share", per_output.mean(axis=0), cells.mean(axis=0)
    elif len(outputs) == 1:
        kind, scores, combined = "effect", per_output[0], cells[0]
    else:
        kind = "magnitude"
        scores, combined = np.abs(per_output).mean(axis=0), np.abs(cells).mean(axis=0)
    names = list(variables)
    measure = {"share": "share of absolute weight products",
               "effect": "summed weight products (signed)",
               "magnitude": "mean absolute summed weight products over outputs"}[kind]
    if details.get("scale") == "std":
        measure += " per input sd"
    details = {**details, "outputs": outputs, "measure": measure,
               "per_output": pd.DataFrame(per_output.T, index=names,
                                          columns=output_labels(outputs, output_names))}
    by_time = time_table(combined, names) if network.sequence else None
    return Importance(method, pd.Series(scores, index=names), by_time=by_time, details=details,
                      kind=kind)


def _category_contrast(products: np.ndarray, categories: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
    """The contrast of a one-hot block's categories: ``max_c P_c - min_c P_c`` over its
    ``categories`` (codes: 0 the reference, whose product is 0; ``j + 1`` member ``j``), for
    every cell ``(k, T)`` and for the block moved at every step together ``(k,)``, from the
    members' products ``(k, T, m)``."""
    padded = np.concatenate([np.zeros(products.shape[:-1] + (1,)), products], axis=-1)
    chosen = padded[..., categories]  # (k, T, C)
    return np.ptp(chosen, axis=-1), np.ptp(chosen.sum(axis=1), axis=-1)


def connection_weights(
    model: object, X: object = None, y: object = None, *, scale: str = "none",
    feature_names: Any = None, output: Any = None, output_step: int | None = None,
    groups: Any = None, n_timesteps: int | None = None, output_kind: str | None = None,
    classes: Any = None,
) -> Importance:
    """Connection weights (Olden & Jackson 2002): the summed products of raw weights.

    ``CW_i = sum_h w_ih w_ho`` for one hidden layer, ``W1 @ ... @ Wk`` for several, biases
    left out, sign kept, per output; this is the ``importance`` that NeuralNetTools' ``olden()``
    returns (Beck 2018). Recurrent layers contribute their linear path at rest (see the module
    docstring and ``docs/recurrent-weights.md``); then ``by_time`` holds the connection weight
    of every time step and ``scores`` their sum over steps (a one-hot group's score excepted:
    see below). The classes of one softmax are read with their last-layer weights centred
    over the classes (see the module docstring): the connection weights of the centred
    log-probability ``log p_c - mean_k log p_k``, unchanged by a vector added to every class's
    weights (``details["centred_classes"]``).

    Groups (``groups=``): a numeric group's connection weight is the sum of its members' (all
    members moved together). A one-hot group (read from ``X``: members that hold only 0 and 1,
    at most one 1 per row) cannot move so, and a sum of its members' products would let
    opposite categories cancel: its score is the contrast of its categories, ``max_c CW_c -
    min_c CW_c`` over every member and the reference (a row of zeros, ``CW = 0``) when ``X``
    holds one, the effect along the linear path of the largest change of category, unsigned
    (a linear model's ``max_c w_c - min_c w_c``). On sequences the score contrasts each
    category's products summed over the steps, and ``by_time`` each step's contrast. Without
    ``X``, every group is read as numeric. ``details["category_moves"]`` lists the one-hot
    groups.

    Parameters
    ----------
    model : torch.nn.Module, Keras model or fitted scikit-learn MLP
        A network of dense layers, optionally after RNN / GRU / LSTM layers.
    X : array-like, optional
        Used for feature names, the one-hot groups, the spread of every input (``scale``)
        and, for sequence models, the number of time steps.
    scale : {"none", "std"}
        ``"none"`` (default): the weights as the network applies them to ``X``, per raw unit
        of every input (a Keras ``Normalization`` layer is folded into the first weights);
        with ``X``, a ``UserWarning`` when the inputs' standard deviations differ by more
        than 10 times, as their scores are then in incomparable units. ``"std"``: every
        input's first-layer weights multiplied by its standard deviation, so each input is
        scored per standard deviation (Olden & Jackson trained on standardised inputs, whose
        weights are exactly this): the spread of ``X``
        (:func:`varimp.validation.feature_spread`), or without ``X`` that of a Keras
        ``Normalization`` inside the model (the weights its first layer holds); a one-hot
        group's members are never scaled. For a network trained on standardised inputs
        outside the model (a scikit-learn ``Pipeline``), pass the standardised X instead.
    y : array-like, optional
        Not used for the scores; the columns of a DataFrame ``y`` name the outputs (when the
        model gives them no names), so ``output=`` can select an output by its column.
    feature_names, groups
        The common options, documented in one place: :func:`varimp.importance`.
    output : int, str, list of them, or None
        The output(s) to explain, by index or name (default: all). One output: signed scores
        (kind ``"effect"``). Several: every output's connection weights are in
        ``details["per_output"]`` and the scores are the mean of their absolute values over
        the selected outputs (kind ``"magnitude"``; ``by_time`` likewise per cell).
    output_step : int, optional
        For a model predicting every time step: explain that step only (default: the sum of
        all predicted steps).
    n_timesteps : int, optional
        Sequence length when X is not given.
    output_kind : {"regression", "probability", "logits"}, optional
        What the outputs are, when the model does not say (:func:`varimp.importance`):
        ``"logits"`` of several classes reads them as the classes of one softmax, whose
        weights are centred over the classes.
    classes : sequence, optional
        The class labels in the order of the model's outputs (:func:`varimp.importance`):
        they name the outputs, so ``output="b"`` selects class ``"b"`` and
        ``details["per_output"]`` is labelled by class. Only for outputs read as class
        probabilities or logits (an InputError for regression values: pass ``output_kind``).

    Returns
    -------
    Importance
        ``scores``, ``kind`` as above; ``details["per_output"]`` (variables x output labels,
        signed, one-hot groups unsigned), ``details["outputs"]`` (the output indices),
        ``details["category_moves"]`` (the one-hot groups), ``details["centred_classes"]``
        (whether the class weights of one softmax were centred).

    References
    ----------
    Olden, J. D. & Jackson, D. A. (2002). Illuminating the "black box": a randomization
    approach for understanding variable contributions in artificial neural networks.
    Ecological Modelling 154, 135-150.
    Olden, J. D., Joy, M. K. & Death, R. G. (2004). An accurate comparison of methods for
    quantifying variable importance in artificial neural networks using simulated data.
    Ecological Modelling 178, 389-397.
    Beck, M. W. (2018). NeuralNetTools: visualization and analysis tools for neural networks.
    Journal of Statistical Software 85(11), 1-20.
    """
    network, steps, variables, names_out, blocks, centred = _resolve(
        model, X, y, feature_names, groups, n_timesteps, output_kind, scale,
        "connection weights", classes)
    outputs = resolve_output(output, network.n_outputs, names_out)
    path = linear_path(network, steps, output_step=output_step)
    return _result("connection_weights", path, network, variables, outputs, names_out,
                   False, {"gate_at_rest": _gates(network), "category_moves": list(blocks),
                           "centred_classes": centred, "scale": scale}, blocks)


def garson(
    model: object, X: object = None, y: object = None, *, variant: str = "garson",
    scale: str = "none", feature_names: Any = None, output: Any = None,
    output_step: int | None = None, groups: Any = None, n_timesteps: int | None = None,
    output_kind: str | None = None, classes: Any = None,
) -> Importance:
    """Garson's algorithm (Garson 1991; Goh 1995): relative shares of absolute weights.

    The default is the form of Goh (1995, appendix), Olden & Jackson (2002, appendix),
    Olden et al. (2004) and NeuralNetTools' ``garson()`` (Beck 2018). For one hidden layer,
    input ``i``, hidden unit ``h`` and output ``o``::

        c_ih = |w_ih| |w_ho|            r_ih = c_ih / sum_i' c_i'h
        S_i  = sum_h r_ih               RI_i = S_i / sum_i' S_i'

    The output weight cancels in ``r_ih``, so every hidden unit counts equally, whatever its
    output weight, and every output of a multi-output network gets the same shares. The
    classes of one softmax are read with centred class weights, as in
    :func:`connection_weights` (this changes ``"output_weighted"`` only).

    Parameters
    ----------
    variant : {"garson", "goh", "output_weighted"}
        ``"garson"`` (default) and ``"goh"`` are the form above (two names, one computation;
        ``"goh"`` is kept for code written before the default changed).
        ``"output_weighted"`` is the other form in the literature (the input-hidden weights
        normalised per hidden unit before the output weight multiplies them, as Garson's
        (1991) equation is often restated; varimp's default before): each hidden unit's
        shares ``q_ih = |w_ih| / sum_i' |w_i'h|`` are weighted by ``|w_ho|``,
        ``S_i = sum_h q_ih |w_ho|``, so units with large output weights count more.
    model, X, y, scale, feature_names, groups, output_step, n_timesteps, output_kind, classes
        As for :func:`connection_weights` (``scale="std"``: the shares of the absolute
        weights per standard deviation of every input); the common options are documented in
        one place, :func:`varimp.importance`.
    output : int, str, list of them, or None
        The output(s) to explain (default: all). Every selected output's shares are in
        ``details["per_output"]``; the scores are their mean (kind ``"share"``).

    Returns
    -------
    Importance
        Shares in [0, 1] summing to 1 (kind ``"share"``); ``details["variant"]``,
        ``details["per_output"]`` (variables x output labels), ``details["outputs"]``.

    Notes
    -----
    Several hidden layers (NeuralNetTools refuses them): every hidden layer's absolute
    weights become shares of its units' inflow, ``Q = |W| / colsum(|W|)``, chained as
    ``Q1 @ Q2 @ ...``; the chained shares of each last-hidden unit sum to 1 over the inputs, and
    the last-hidden units are weighted 1 (``"garson"``, ``"goh"``) or ``|w_ho|``
    (``"output_weighted"``) exactly as in the one-layer formula, which this reduces to.
    Recurrent layers: a unit's shares are taken over its input weights and its recurrent
    (state) weights together, on the linear path at rest (``docs/recurrent-weights.md``), so
    shares flow back through time and ``by_time`` holds the share of every step; the part
    that would trace back beyond the first step belongs to no input. Scores are shares in
    [0, 1] summing to 1 for every output.

    References
    ----------
    Garson, G. D. (1991). Interpreting neural-network connection weights. AI Expert 6, 47-51.
    Goh, A. T. C. (1995). Back-propagation neural networks for modeling complex systems.
    Artificial Intelligence in Engineering 9, 143-151.
    Olden, J. D. & Jackson, D. A. (2002). Ecological Modelling 154, 135-150 (appendix).
    Olden, J. D., Joy, M. K. & Death, R. G. (2004). Ecological Modelling 178, 389-397.
    Beck, M. W. (2018). NeuralNetTools: visualization and analysis tools for neural networks.
    Journal of Statistical Software 85(11), 1-20.
    """
    check_choice(variant, "variant", GARSON_VARIANTS)
    network, steps, variables, names_out, _, centred = _resolve(
        model, X, y, feature_names, groups, n_timesteps, output_kind, scale, "Garson's shares",
        classes)
    outputs = resolve_output(output, network.n_outputs, names_out)
    path = linear_path(network, steps, garson=variant, output_step=output_step)
    return _result("garson", path, network, variables, outputs, names_out, True,
                   {"variant": variant, "gate_at_rest": _gates(network),
                    "centred_classes": centred, "scale": scale})


def _check_gates(network: Network, method: str) -> None:
    """Refuse a recurrent layer whose gates at rest close its linear path (every weight read
    would be 0: an LSTM whose gates rest at 0, a GRU whose update gate rests at 1, a
    ``recurrent_activation`` such as tanh, relu, linear or silu, which are 0 at 0); warn for a
    GRU whose gates rest at 0, whose recurrent path is closed at rest (an input reaches only
    the state of its own step)."""
    see = ("the linear path at rest is derived in docs/recurrent-weights.md; use a data-driven "
           "method (partial_derivatives, permutation, perturbation, profile) for this model")
    for layer in network.layers:
        if not isinstance(layer, Recurrent) or layer.cell == "rnn":
            continue
        g0 = layer.gate_at_rest()
        kind = f"layer {layer.name!r} ({layer.cell.upper()}, recurrent_activation " \
            f"{layer.recurrent_activation!r})"
        if (layer.cell, g0) in (("lstm", 0.0), ("gru", 1.0)):
            why = "its input and output gates hold nothing through" if layer.cell == "lstm" \
                else "its update gate keeps the old state and lets no input in"
            raise UnsupportedModelError(
                f"{kind} has gates that are {g0:g} at rest: the {method} read the linear "
                f"path at rest, which is closed because the gates are {g0:g} at rest ({why}), "
                f"so every score would be 0; {see}")
        if layer.cell == "gru" and g0 == 0.0:
            warnings.warn(
                f"{kind} has gates that are 0 at rest: its recurrent path at rest is closed "
                "(the reset gate holds the state out), so on the linear path an input reaches "
                f"only the state of its own step and earlier steps score 0 in the {method}; "
                f"{see}", UserWarning, stacklevel=4)


def _gates(network: Network) -> float | None:
    recurrent = [layer for layer in network.layers if isinstance(layer, Recurrent)]
    return recurrent[0].gate_at_rest() if recurrent else None
