"""Recurrent prefix caching: evaluate only the suffix of a sequence that a perturbation changed.

A change at time step ``t`` leaves every step before ``t`` as it was. For a network that an
adapter can read into a verified :class:`varimp.network.Network` (a chain of dense and
recurrent layers), :class:`SuffixPredictor` rebuilds the chain in PyTorch with the model's own
weights, dtype and device, runs the unperturbed prefix ``0..t-1`` once, keeps every recurrent
layer's state (``h``, and ``c`` for an LSTM) after it, and evaluates steps ``t..T-1`` of many
perturbed copies starting from those states. Native ``nn.LSTM`` / ``nn.GRU`` / ``nn.RNN``
kernels run the common cells (tanh LSTM and GRU, tanh or relu RNN); any other activation (e.g.
Keras' ``LSTM(activation="relu")``) runs the same equations step by step.

Before it is used the rebuilt chain must reproduce the adapter's own predictions on the first
rows of X and on :func:`extreme_probes` (values beyond the range of X, where a clamp or a mask
in ``forward`` would show), to 1e-4 relative in float32, 1e-9 in float64; otherwise the engine
is told None and falls back to full forward passes. The first perturbed rows the engine asks
for are computed by the model too: if they differ, every later call is (:class:`Checked`).
The chain is only built when the adapter's :meth:`~varimp.adapters.base.Adapter.network`
holds, which refuses a PyTorch ``forward`` that ``torch.fx`` shows to apply any operation
outside its modules; the checks run for every model all the same, traced or not (a trace kept
from an earlier call may be stale: a global flag its ``forward`` reads has changed since), a
Keras or scikit-learn model included. They cost one model call on ``PROBE_ROWS`` and one on
``CHECKED_ROWS`` rows per run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..errors import VarImpError
from ..modules import torch_function
from ..network import GATES, Dense, Network, Recurrent

_VERIFY_ROWS = 16
#: Target bytes of recurrent workspace per call, and the fewest sequences per call.
WORKSPACE_BYTES = 16 * 2**20
MIN_ROWS = 32

#: The common activations applied in place, for the tensors a stage has just made (the
#: functions themselves: :data:`varimp.modules.TORCH_TABLE`).
_IN_PLACE = {"identity": lambda x: x, "relu": torch.relu_, "tanh": torch.tanh_,
             "sigmoid": torch.sigmoid_}


def _activation(name: str):
    """The PyTorch function of a neutral activation name, or None (:func:`torch_function`)."""
    return torch_function(name)


@dataclass
class _Stage:
    """One layer of the rebuilt chain."""

    layer: Dense | Recurrent
    function: object  # dense: activation; recurrent: native module or None (step loop)
    weights: dict

    def dense(self, x: torch.Tensor) -> torch.Tensor:
        """A dense stage applied to ``x`` (at every step of a sequence)."""
        z = torch.addmm(self.weights["bias"], x.reshape(-1, x.shape[-1]), self.weights["weight"])
        return in_place(self.layer.activation, self.function)(z).reshape(*x.shape[:-1], -1)


def in_place(name: str, function):
    """The activation ``name`` applied in place when torch has that form, else ``function``."""
    return _IN_PLACE.get(name, function)


def rebuild(layers: list[Dense | Recurrent], dtype: torch.dtype,
            device: torch.device) -> list[_Stage]:
    """The layers as torch stages, with the model's weights in its dtype and on its device."""
    stages = []
    for layer in layers:
        to = {k: _tensor(v, dtype, device) for k, v in _weights(layer).items()}
        function = _activation(layer.activation) if isinstance(layer, Dense) else \
            _native(layer, dtype, device)
        stages.append(_Stage(layer, function, to))
    return stages


def reproduces(mine: np.ndarray, target: np.ndarray, dtype: torch.dtype) -> bool:
    """Whether a rebuilt network's predictions match the adapter's: to 1e-9 relative in
    float64, 1e-4 otherwise (float32 kernels round differently)."""
    tight = dtype == torch.float64
    scale = max(1.0, float(np.abs(target).max()))
    return mine.shape == target.shape and bool(np.allclose(
        mine, target, rtol=1e-9 if tight else 1e-4, atol=(1e-9 if tight else 1e-5) * scale))


def verify_rows(base: np.ndarray) -> np.ndarray:
    """The rows of X a rebuilt network is first checked on: the first ``_VERIFY_ROWS``, and
    those of the highest and lowest predictions in ``base`` (where a cap of the output set
    below them shows)."""
    first = np.arange(min(_VERIFY_ROWS, base.shape[0]))
    return np.unique(np.concatenate([first, extreme_rows(base, 4)]))


#: Probe rows of :func:`extreme_probes`, and perturbed rows :class:`Checked` computes twice.
PROBE_ROWS = 16
CHECKED_ROWS = 64


def extreme_probes(X: np.ndarray, base: np.ndarray | None = None) -> np.ndarray:
    """``PROBE_ROWS`` inputs shaped like X's rows that reach beyond X: half are rows of X with
    each cell, at random, moved to its feature's minimum less 3 standard deviations or its
    maximum plus 3, half draw every cell uniformly between those bounds (seeded: the same
    probes every time). A perturbation moves cells by at most a few standard deviations. The
    rows moved are those of the highest and lowest predictions in ``base`` (the model's
    predictions of X, ``(n, ...)``; from there a move is likeliest to reach a cap of the
    output), or rows drawn at random without it. The standard deviations are those of at most
    ``SPREAD_ROWS`` rows spread over X (a scale, not a bound); the minimum and maximum are X's
    own."""
    flat = X.reshape(-1, X.shape[-1])
    std = flat[::max(1, -(-len(flat) // SPREAD_ROWS))].std(axis=0)
    spread = 3 * np.where(std > 0, std, 1.0)
    low = _columns(np.minimum, flat) - spread
    high = _columns(np.maximum, flat) + spread
    rng = np.random.default_rng(0)
    half = PROBE_ROWS // 2
    rows = X[rng.integers(0, X.shape[0], half) if base is None else
             extreme_rows(base, half)].copy()
    moved = rng.random(rows.shape) < 0.5
    rows[moved] = np.where(rng.random(rows.shape) < 0.5, low, high)[moved]
    uniform = low + (high - low) * rng.random((half, *X.shape[1:]))
    return np.concatenate([rows, uniform])


def extreme_rows(base: np.ndarray, count: int) -> np.ndarray:
    """``count`` rows (repeated when there are fewer) of the highest and lowest predictions in
    ``base`` ``(n, ...)``, alternately: the largest value a row predicts, then the smallest."""
    values = base.reshape(base.shape[0], -1)
    k = min(count, values.shape[0])
    top = np.argpartition(-values.max(axis=1), k - 1)[:k]
    bottom = np.argpartition(values.min(axis=1), k - 1)[:k]
    return np.stack([top, bottom], axis=1).ravel()[np.arange(count) % (2 * k)]


#: Rows :func:`extreme_probes` reads the spread of the features from.
SPREAD_ROWS = 4096


def _columns(reduce: np.ufunc, flat: np.ndarray, block: int = 64) -> np.ndarray:
    """``reduce`` (``np.minimum``, ``np.maximum``) over the rows of a table, column by column:
    blocks of ``block`` rows are reduced side by side as one long row, which numpy vectorises,
    then the block's rows (about ten times as fast as ``reduce.reduce(flat, axis=0)`` on a
    table of 20 columns)."""
    n, p = flat.shape
    whole = n // block * block
    out = reduce.reduce(flat[:whole].reshape(-1, block * p), axis=0).reshape(block, p) \
        if whole else flat[:1]
    out = reduce.reduce(out, axis=0)
    return reduce(out, reduce.reduce(flat[whole:], axis=0)) if whole < n else out


class Checked:
    """The first perturbed rows of a run computed by the model as well; a rebuilt network that
    does not reproduce them is replaced by the model for the rest of the run.

    ``model`` is the adapter's ``predict``.
    """

    def __init__(self, model, dtype: torch.dtype):
        self.model, self.dtype = model, dtype
        #: "trusted", "unchecked" or "model" (the rebuilt network failed the check)
        self.state = "unchecked"

    def __call__(self, mine, full, take=None) -> np.ndarray:
        """``mine()``, the rebuilt network's predictions, or the model's predictions of
        ``full(k)``, the first ``k`` perturbed inputs whole (None: all of them; both built
        only when needed), passed through ``take`` (e.g. the steps the rebuilt network
        predicts)."""
        if self.state == "trusted":
            return mine()

        def model(batch: np.ndarray) -> np.ndarray:
            pred = self.model(batch)
            return pred if take is None else take(pred)

        if self.state == "unchecked":
            ours = mine()
            k = min(CHECKED_ROWS, len(ours))
            if reproduces(ours[:k], model(full(k)), self.dtype):
                self.state = "trusted"
                return ours
            self.state = "model"
        return model(full(None))


def readable(network: Network) -> bool:
    """Whether every layer is dense or recurrent with activations the rebuild knows."""
    for layer in network.layers:
        if not isinstance(layer, Dense | Recurrent) or _activation(layer.activation) is None:
            return False
        if isinstance(layer, Recurrent) and _activation(layer.recurrent_activation) is None:
            return False
    return True


def _tensor(array: np.ndarray, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    return torch.as_tensor(np.ascontiguousarray(array), dtype=dtype, device=device)


def _empty(cell: type[nn.RNNBase], layer: Recurrent, **options) -> nn.RNNBase:
    """A recurrent module whose weights are about to be overwritten, built under a forked RNG:
    initialising them would otherwise draw from (and change) the caller's global torch RNG."""
    with torch.random.fork_rng(devices=[]):
        return cell(layer.n_in, layer.n_out, batch_first=True, **options)


def _native(layer: Recurrent, dtype: torch.dtype, device: torch.device) -> nn.Module | None:
    order = GATES[layer.cell]
    if layer.recurrent_activation != "sigmoid" and layer.cell != "rnn":
        return None
    if layer.cell == "rnn" and layer.activation in ("tanh", "relu"):
        module = _empty(nn.RNN, layer, nonlinearity=layer.activation)
    elif layer.cell == "lstm" and layer.activation == "tanh":
        module = _empty(nn.LSTM, layer)
    elif layer.cell == "gru" and layer.activation == "tanh" and layer.reset_after:
        module = _empty(nn.GRU, layer)
    else:
        return None
    zeros = np.zeros(layer.n_out)
    stacked = {
        "weight_ih_l0": np.concatenate([layer.w_input[g].T for g in order]),
        "weight_hh_l0": np.concatenate([layer.w_recurrent[g].T for g in order]),
        "bias_ih_l0": np.concatenate([layer.b_input.get(g, zeros) for g in order]),
        "bias_hh_l0": np.concatenate([layer.b_recurrent.get(g, zeros) for g in order]),
    }
    module = module.to(device=device, dtype=dtype)
    with torch.no_grad():
        for name, value in stacked.items():
            getattr(module, name).copy_(_tensor(value, dtype, device))
    return module.eval().requires_grad_(False)


class SuffixPredictor:
    """A network rebuilt in PyTorch that can start from cached recurrent states.

    Attributes
    ----------
    per_step : bool
        True when the network predicts one value per time step; ``predict`` then returns the
        predictions of steps ``t..T-1`` only (the earlier ones are unchanged).
    """

    def __init__(self, network: Network, dtype: torch.dtype, device: torch.device, model):
        self.dtype, self.device = dtype, device
        self.model = model  # the adapter's predict, which the checks compare with
        self.stages = rebuild(list(network.layers), dtype, device)
        self.per_step = all(s.layer.return_sequences for s in self.stages
                            if isinstance(s.layer, Recurrent))
        itemsize = torch.empty(0, dtype=dtype).element_size()
        self.step_bytes = itemsize * sum(
            (len(s.layer.w_input) + 1) * s.layer.n_out if isinstance(s.layer, Recurrent)
            else s.layer.n_out for s in self.stages)

    def rows_per_call(self, steps: int) -> int:
        """Sequences per call so that the workspace of every layer over ``steps`` steps
        (gates, states, outputs) stays near ``WORKSPACE_BYTES`` per torch thread: small enough
        for the caches (a recurrent kernel on 2,000 sequences of 50 steps is up to twice as slow
        per step when it is not), large enough to amortise each call and each thread's share."""
        budget = WORKSPACE_BYTES * max(1, torch.get_num_threads())
        return max(MIN_ROWS, budget // (steps * self.step_bytes))

    def start(self, X: np.ndarray, base: np.ndarray) -> SuffixRun | None:
        """Cache the unperturbed prefix of ``X``; None when the rebuilt network does not
        reproduce ``base`` (the adapter's predictions of X) on the first rows, or the model's
        predictions of :func:`extreme_probes`."""
        try:
            run = SuffixRun(self, X)
            rows = verify_rows(base)
            mine = run.from_states(X[rows], run.zero_states(len(rows)))
            if not reproduces(mine, base[rows], self.dtype):
                return None
            probes = extreme_probes(X, base)
            mine = run.from_states(probes, run.zero_states(len(probes)))
            if not reproduces(mine, self.model(probes), self.dtype):
                return None
        except Exception:  # noqa: BLE001 - e.g. a dtype the kernels lack: full passes instead
            return None
        return run

    def _recurrent(self, stage: _Stage, x: torch.Tensor, h: torch.Tensor,
                   c: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Run one recurrent layer over ``x`` (m, L, n_in) from state (h, c) (each (m, units))."""
        layer, module = stage.layer, stage.function
        if module is not None:
            if layer.cell == "lstm":
                out, (h_n, c_n) = module(x, (h[None].contiguous(), c[None].contiguous()))
                return out, h_n[0], c_n[0]
            out, h_n = module(x, h[None].contiguous())
            return out, h_n[0], None
        return _step_loop(layer, stage.weights, x, h, c)


class SuffixRun:
    """The recurrent states of X's unperturbed prefix, advanced as later steps are asked for."""

    def __init__(self, predictor: SuffixPredictor, X: np.ndarray):
        self.predictor = predictor
        self.per_step = predictor.per_step
        self.input_dtype = {torch.float32: np.float32, torch.float16: np.float16}.get(
            predictor.dtype, np.float64)
        self.X = X
        self.t = 0
        self.states = self.zero_states(X.shape[0])
        self.checked = Checked(predictor.model, predictor.dtype)

    def zero_states(self, n: int) -> list[torch.Tensor | None]:
        """Two entries (h, c) per recurrent layer; c is None for RNN and GRU."""
        p = self.predictor
        out: list[torch.Tensor | None] = []
        for stage in p.stages:
            if isinstance(stage.layer, Recurrent):
                zero = torch.zeros(n, stage.layer.n_out, dtype=p.dtype, device=p.device)
                out += [zero, zero.clone() if stage.layer.cell == "lstm" else None]
        return out

    def _advance(self, t: int) -> None:
        if t < self.t:
            self.t, self.states = 0, self.zero_states(self.X.shape[0])
        if t > self.t:
            self.states = self._forward(self._input(self.X[:, self.t:t]), self.states)[1]
            self.t = t

    def predict(self, t: int, X_suffix: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Predictions of ``X_suffix`` (m, T - t, p), the steps ``t..`` of rows ``rows`` of X.

        Returns ``(m, T - t, k)`` when the network predicts per step, else ``(m, 1, k)``.
        """
        def mine() -> np.ndarray:
            self._advance(t)
            index = torch.as_tensor(rows, device=self.predictor.device)
            states = [None if s is None else s.index_select(0, index) for s in self.states]
            return self.from_states(X_suffix, states)

        def full(k: int | None) -> np.ndarray:
            return np.concatenate([self.X[rows[:k], :t], X_suffix[:k]], axis=1)

        return self.checked(mine, full, (lambda pred: pred[:, t:]) if self.per_step else None)

    def from_states(self, X_part: np.ndarray, states: list) -> np.ndarray:
        """Predictions of ``X_part`` started from ``states`` (as float64 numpy)."""
        out = self._forward(self._input(X_part), states)[0]
        out = out.detach().to("cpu", torch.float64).numpy()
        m = X_part.shape[0]
        return out.reshape(m, -1 if self.predictor.per_step else 1, out.shape[-1])

    def _input(self, X_part: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(X_part, dtype=self.predictor.dtype, device=self.predictor.device)

    def _forward(self, x: torch.Tensor, states: list) -> tuple[torch.Tensor, list]:
        new_states: list = []
        k = 0
        with torch.no_grad():
            for stage in self.predictor.stages:
                if isinstance(stage.layer, Dense):
                    x = stage.dense(x)
                    continue
                x, h, c = self.predictor._recurrent(stage, x, states[k], states[k + 1])
                new_states += [h, c]
                k += 2
                if not stage.layer.return_sequences:
                    x = x[:, -1]
        return x, new_states


def _weights(layer: Dense | Recurrent) -> dict[str, np.ndarray]:
    if isinstance(layer, Dense):
        return {"weight": layer.weight, "bias": layer.bias}
    zeros = np.zeros(layer.n_out)
    out = {}
    for g in layer.w_input:
        out[f"wi_{g}"] = layer.w_input[g]
        out[f"wh_{g}"] = layer.w_recurrent[g]
        out[f"bi_{g}"] = layer.b_input.get(g, zeros)
        out[f"bh_{g}"] = layer.b_recurrent.get(g, zeros)
    return out


def _step_loop(layer: Recurrent, w: dict, x: torch.Tensor, h: torch.Tensor,
               c: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """The equations of :meth:`varimp.network.Recurrent.forward`, step by step, in torch."""
    act = _activation(layer.activation)
    gate = _activation(layer.recurrent_activation)
    gates = list(layer.w_input)
    x_in = {g: x @ w[f"wi_{g}"] + w[f"bi_{g}"] for g in gates}
    outs = []
    for s in range(x.shape[1]):
        if layer.cell == "rnn":
            h = act(x_in["h"][:, s] + h @ w["wh_h"] + w["bh_h"])
        elif layer.cell == "lstm":
            pre = {g: x_in[g][:, s] + h @ w[f"wh_{g}"] + w[f"bh_{g}"] for g in "ifgo"}
            c = gate(pre["f"]) * c + gate(pre["i"]) * act(pre["g"])
            h = gate(pre["o"]) * act(c)
        else:
            r = gate(x_in["r"][:, s] + h @ w["wh_r"] + w["bh_r"])
            z = gate(x_in["z"][:, s] + h @ w["wh_z"] + w["bh_z"])
            if layer.reset_after:
                cand = act(x_in["n"][:, s] + r * (h @ w["wh_n"] + w["bh_n"]))
            else:
                cand = act(x_in["n"][:, s] + (r * h) @ w["wh_n"] + w["bh_n"])
            h = (1.0 - z) * cand + z * h
        outs.append(h)
    return torch.stack(outs, dim=1), h, c


def suffix_predictor(adapter: object, dtype: torch.dtype,
                     device: torch.device) -> SuffixPredictor | None:
    """The suffix predictor of an adapter's network, or None when it cannot be built."""
    try:
        network = adapter.network()
    except VarImpError:
        return None
    if not network.sequence or not readable(network):
        return None
    try:
        return SuffixPredictor(network, dtype, device, adapter.predict)
    except Exception:  # noqa: BLE001 - a layer torch cannot rebuild: full passes instead
        return None
