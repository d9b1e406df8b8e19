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
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..adapters import adapt
from ..errors import InputError, UnsupportedModelError
from ..network import Dense, Flatten, Network, Recurrent
from ..result import Importance
from ..validation import check_choice, check_positive_int, validate
from ._common import group_columns, names_without_data, resolve_output, resolve_step, time_table

GARSON_VARIANTS = ("garson", "goh")


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

    ``garson=None`` gives connection weights (raw, signed). ``garson="garson"`` replaces every
    hidden weight matrix by Garson's shares and the output weights by their absolute values;
    ``garson="goh"`` normalises after multiplying, so each last-hidden unit counts equally.
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
                weight = np.abs(weight) if garson == "garson" else np.ones_like(weight)
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


def _resolve(model: object, X: object, feature_names: object, groups: Any,
             n_timesteps: int | None) -> tuple[Network, int, tuple, dict]:
    adapter = adapt(model)
    network = adapter.network()
    if X is not None:
        data = validate(X, feature_names=feature_names)
        adapter.check_input(data.X)
        if data.sequence:
            network = network.read_as_sequences(data.n_timesteps)
        if data.n_features != network.n_inputs or data.sequence != network.sequence:
            raise InputError(f"X must have shape (n, {'T, ' if network.sequence else ''}"
                             f"{network.n_inputs}) for this network; received {data.X.shape}")
        names, variables = names_without_data(data.n_features, data.feature_names, groups)
        steps = data.n_timesteps or 1
    else:
        if n_timesteps is not None:
            network = network.read_as_sequences(check_positive_int(n_timesteps, "n_timesteps"))
        names, variables = names_without_data(network.n_inputs, feature_names, groups)
        known = adapter.expected_input[0] if adapter.expected_input and \
            len(adapter.expected_input) == 2 else None
        steps = n_timesteps or known or 1
        if network.sequence and not (n_timesteps or known):
            raise InputError("this is a sequence model: pass X or n_timesteps= so that the "
                             "importance can be resolved over time; received neither")
    if n_timesteps is not None:
        steps = check_positive_int(n_timesteps, "n_timesteps")
    return network, steps, names, variables


def _result(method: str, path: np.ndarray, network: Network, variables: dict, outputs: list,
            combine: str, details: dict) -> Importance:
    grouped = group_columns(np.moveaxis(path, -1, 0), variables)  # (k, T, v)
    grouped = grouped[outputs]
    per_output = grouped.sum(axis=1)  # (k_sel, v)
    if combine == "share":
        totals = per_output.sum(axis=1, keepdims=True)
        totals = np.where(totals > 0, totals, 1.0)
        grouped = grouped / totals[:, :, None]
        per_output = per_output / totals
    if len(outputs) == 1:
        scores, cells = per_output[0], grouped[0]
    elif combine == "share":
        scores, cells = per_output.mean(axis=0), grouped.mean(axis=0)
    else:
        scores, cells = np.abs(per_output).sum(axis=0), np.abs(grouped).sum(axis=0)
    names = list(variables)
    details = {**details, "per_output": pd.DataFrame(per_output.T, index=names,
                                                     columns=[f"output {o}" for o in outputs])}
    by_time = time_table(cells, names) if network.sequence else None
    return Importance(method, pd.Series(scores, index=names), by_time=by_time, details=details)


def connection_weights(
    model: object, X: object = None, y: object = None, *, feature_names: Any = None,
    output: Any = None, output_step: int | None = None, groups: Any = None,
    n_timesteps: int | None = None,
) -> Importance:
    """Connection weights (Olden & Jackson 2002): the summed products of raw weights.

    ``CW_i = sum_h w_ih w_ho`` for one hidden layer, ``W1 @ ... @ Wk`` for several, biases
    left out, sign kept, per output. Recurrent layers contribute their linear path at rest (see
    the module docstring and ``docs/recurrent-weights.md``); then ``by_time`` holds the
    connection weight of every time step and ``scores`` their sum over steps.

    Parameters
    ----------
    model : torch.nn.Module, Keras model or fitted scikit-learn MLP
        A network of dense layers, optionally after RNN / GRU / LSTM layers.
    X : array-like, optional
        Only used for feature names and, for sequence models, the number of time steps.
    y : ignored
    feature_names, groups : see ``varimp.importance``
    output : int, name or None
        The output to explain; with several outputs and ``None`` the scores are the sum of the
        absolute connection weights over outputs, and ``details["per_output"]`` has them all.
    output_step : int, optional
        For a model predicting every time step: explain that step only (default: the sum of
        all predicted steps).
    n_timesteps : int, optional
        Sequence length when X is not given.

    Returns
    -------
    Importance
        Signed ``scores``; ``details["per_output"]`` (variables x outputs).

    References
    ----------
    Olden, J. D. & Jackson, D. A. (2002). Illuminating the "black box": a randomization
    approach for understanding variable contributions in artificial neural networks.
    Ecological Modelling 154, 135-150.
    Olden, J. D., Joy, M. K. & Death, R. G. (2004). Ecological Modelling 178, 389-397.
    """
    network, steps, _, variables = _resolve(model, X, feature_names, groups, n_timesteps)
    outputs = resolve_output(output, network.n_outputs)
    path = linear_path(network, steps, output_step=output_step)
    return _result("connection_weights", path, network, variables, outputs, "sum",
                   {"outputs": outputs, "gate_at_rest": _gates(network)})


def garson(
    model: object, X: object = None, y: object = None, *, variant: str = "garson",
    feature_names: Any = None, output: Any = None, output_step: int | None = None,
    groups: Any = None, n_timesteps: int | None = None,
) -> Importance:
    """Garson's algorithm (Garson 1991; Goh 1995): relative shares of absolute weights.

    Two variants are published and both are offered:

    - ``variant="garson"`` (default, Garson 1991): each hidden unit's absolute incoming weights
      are normalised to shares summing to 1 *before* multiplying by the absolute weight from that
      unit to the output; the products are summed over hidden units and normalised over inputs.
    - ``variant="goh"`` (Goh 1995): the absolute input-hidden and hidden-output weights are
      multiplied *first* and then normalised per hidden unit; in one hidden layer the
      hidden-output weight cancels, so every hidden unit contributes equally.

    Several hidden layers: every hidden layer's weights become shares of its units' inflow and
    the shares are chained (``Q1 @ Q2 @ ...``) before the output weights are applied. Recurrent
    layers: the shares of each unit are taken over its input weights and its recurrent (state)
    weights together, on the linear path at rest, so shares flow back through time and
    ``by_time`` holds the share of every step. Scores are shares in [0, 1] summing to 1.

    References
    ----------
    Garson, G. D. (1991). Interpreting neural-network connection weights. AI Expert 6, 47-51.
    Goh, A. T. C. (1995). Back-propagation neural networks for modeling complex systems.
    Artificial Intelligence in Engineering 9, 143-151.
    """
    check_choice(variant, "variant", GARSON_VARIANTS)
    network, steps, _, variables = _resolve(model, X, feature_names, groups, n_timesteps)
    outputs = resolve_output(output, network.n_outputs)
    path = linear_path(network, steps, garson=variant, output_step=output_step)
    return _result("garson", path, network, variables, outputs, "share",
                   {"variant": variant, "outputs": outputs, "gate_at_rest": _gates(network)})


def _gates(network: Network) -> float | None:
    recurrent = [layer for layer in network.layers if isinstance(layer, Recurrent)]
    return recurrent[0].gate_at_rest() if recurrent else None
