"""The PyTorch modules varimp builds: recurrent layers with any cell activation, and stacks.

PyTorch's ``nn.LSTM`` and ``nn.GRU`` fix the cell activation to tanh, while Keras'
``LSTM(activation="relu")`` (the reference experiment of varimp's mission) does not.
:class:`RecurrentLayer` has PyTorch's equations, parameter layout and gate order with the
activation applied where Keras applies it (cell candidate and cell output), and describes itself
to varimp's PyTorch adapter, so the weight-based methods read it like a native layer.
:class:`RecurrentNet` stacks recurrent layers under an optional linear head.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .errors import UnsupportedModelError
from .network import GATES, Recurrent, parse_activation
from .validation import check_choice


class Elementwise(nn.Module):
    """The module of an activation PyTorch has no class for (Keras' squareplus, sparse_plus,
    sparse_sigmoid, exponential and relu with a threshold or maximum): it applies ``function``."""

    def __init__(self, function: Callable[[torch.Tensor], torch.Tensor]):
        super().__init__()
        self.function = function

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.function(x)


def _squareplus(x: torch.Tensor, b: float = 4.0) -> torch.Tensor:
    return (x + torch.sqrt(x * x + b)) / 2.0


def _sparse_plus(x: torch.Tensor) -> torch.Tensor:
    return torch.where(x <= -1.0, 0.0, torch.where(x < 1.0, (x + 1.0) ** 2 / 4.0, x))


def _sparse_sigmoid(x: torch.Tensor) -> torch.Tensor:
    return torch.clamp(0.5 * (x + 1.0), 0.0, 1.0)


def _keras_relu(x: torch.Tensor, negative_slope: float, threshold: float,
                max_value: float) -> torch.Tensor:
    """Keras' ``relu`` with a threshold or maximum (``varimp.network.FAMILIES["relu"]``)."""
    out = torch.where(x > threshold, x, 0.0)
    if np.isfinite(max_value):
        out = out.clamp(0.0, max_value)
    return out - negative_slope * torch.clamp(threshold - x, min=0.0)


def _applied(function: Callable[[torch.Tensor], torch.Tensor]) -> Callable[[], nn.Module]:
    return partial(Elementwise, function)


#: Every activation of :data:`varimp.network.ACTIVATIONS` in PyTorch, by the same neutral name:
#: the function, and the module that applies it (an ``nn`` class, or a factory that sets it
#: up). A name with parameters (:data:`varimp.network.FAMILIES`) is made by
#: :data:`TORCH_FAMILIES` (:func:`torch_function`, :func:`torch_module`).
#: The one PyTorch table: the rebuilt networks (``adapters.suffix``), the trainers and the
#: PyTorch adapter's network twins read it.
TORCH_TABLE: dict[str, tuple[Callable[[torch.Tensor], torch.Tensor], Callable[[], nn.Module]]] = {
    "identity": (lambda x: x, nn.Identity),
    "relu": (torch.relu, nn.ReLU),
    "relu6": (F.relu6, nn.ReLU6),
    "tanh": (torch.tanh, nn.Tanh),
    "sigmoid": (torch.sigmoid, nn.Sigmoid),
    "hard_sigmoid": (F.hardsigmoid, nn.Hardsigmoid),
    "hard_silu": (F.hardswish, nn.Hardswish),
    "elu": (F.elu, nn.ELU),
    "selu": (F.selu, nn.SELU),
    "celu": (F.celu, nn.CELU),
    "gelu": (F.gelu, nn.GELU),
    "gelu_tanh": (partial(F.gelu, approximate="tanh"), partial(nn.GELU, approximate="tanh")),
    "softplus": (F.softplus, nn.Softplus),
    "softsign": (F.softsign, nn.Softsign),
    "silu": (F.silu, nn.SiLU),
    "mish": (F.mish, nn.Mish),
    "log_sigmoid": (F.logsigmoid, nn.LogSigmoid),
    "tanh_shrink": (F.tanhshrink, nn.Tanhshrink),
    "hard_tanh": (F.hardtanh, nn.Hardtanh),
    "soft_shrink": (F.softshrink, nn.Softshrink),
    "hard_shrink": (F.hardshrink, nn.Hardshrink),
    "squareplus": (_squareplus, _applied(_squareplus)),
    "sparse_plus": (_sparse_plus, _applied(_sparse_plus)),
    "sparse_sigmoid": (_sparse_sigmoid, _applied(_sparse_sigmoid)),
    "exponential": (torch.exp, _applied(torch.exp)),
    "softmax": (partial(torch.softmax, dim=-1), partial(nn.Softmax, dim=-1)),
    "log_softmax": (partial(torch.log_softmax, dim=-1), partial(nn.LogSoftmax, dim=-1)),
}
#: The families of :data:`varimp.network.FAMILIES` in PyTorch: the function, called with the
#: parameters after the input, and the module class taking them (None: :class:`Elementwise`).
TORCH_FAMILIES: dict[str, tuple[Callable[..., torch.Tensor], type[nn.Module] | None]] = {
    "leaky_relu": (F.leaky_relu, nn.LeakyReLU), "elu": (F.elu, nn.ELU), "celu": (F.celu, nn.CELU),
    "softplus": (F.softplus, nn.Softplus), "hard_tanh": (F.hardtanh, nn.Hardtanh),
    "soft_shrink": (F.softshrink, nn.Softshrink), "hard_shrink": (F.hardshrink, nn.Hardshrink),
    "threshold": (F.threshold, nn.Threshold), "squareplus": (_squareplus, None),
    "relu": (_keras_relu, None),
}
#: Cell and hidden activations by neutral name: the elementwise ones :class:`RecurrentLayer`
#: and the trainers take.
TORCH_ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    name: TORCH_TABLE[name][0] for name in (
        "identity", "relu", "tanh", "sigmoid", "hard_sigmoid", "elu", "softplus", "silu",
        "gelu")}


def _parsed(name: str) -> tuple[str | None, tuple[float, ...] | None]:
    try:
        return parse_activation(name)
    except UnsupportedModelError:
        return None, None


def torch_function(name: str) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """The PyTorch function of a neutral activation name, or None for a name it lacks."""
    family, params = _parsed(name)
    if family is None:
        return None
    if params is None:
        return TORCH_TABLE[family][0]
    function = TORCH_FAMILIES[family][0]
    return lambda x: function(x, *params)


def torch_module(name: str) -> nn.Module | None:
    """A new PyTorch module applying a neutral activation, or None for a name it lacks."""
    family, params = _parsed(name)
    if family is None:
        return None
    if params is None:
        return TORCH_TABLE[family][1]()
    module = TORCH_FAMILIES[family][1]
    return Elementwise(torch_function(name)) if module is None else module(*params)


#: Gate blocks per cell, in PyTorch's layout (:data:`varimp.network.GATES`).
GATE_COUNT = {cell: len(gates) for cell, gates in GATES.items()}


class RecurrentLayer(nn.Module):
    """One batch-first recurrent layer (RNN, LSTM or GRU) with any elementwise activation.

    Equations (PyTorch's, gate order and parameter names included; ``act`` = ``activation``,
    ``s`` = sigmoid):

    - rnn: ``h = act(W_ih x + b_ih + W_hh h + b_hh)``;
    - lstm: ``i, f, g, o`` blocks; ``c = s(f) c + s(i) act(g)``, ``h = s(o) act(c)``
      (Keras' ``LSTM(activation=...)``);
    - gru: ``r, z, n`` blocks; ``n = act(W_in x + b_in + r (W_hn h + b_hn))``,
      ``h = (1 - z) n + z h`` (PyTorch's and Keras' ``reset_after=True``).

    Input ``(n, T, input_size)``, output ``(n, T, hidden_size)``, initial state zero.
    """

    batch_first = True
    bidirectional = False
    num_layers = 1

    def __init__(self, cell: str, input_size: int, hidden_size: int, activation: str = "tanh"):
        super().__init__()
        self.cell = check_choice(cell, "cell", tuple(GATE_COUNT))
        self.activation = check_choice(activation, "activation", tuple(TORCH_ACTIVATIONS))
        self.input_size, self.hidden_size = int(input_size), int(hidden_size)
        rows = GATE_COUNT[cell] * hidden_size
        self.weight_ih_l0 = nn.Parameter(torch.zeros(rows, input_size))
        self.weight_hh_l0 = nn.Parameter(torch.zeros(rows, hidden_size))
        self.bias_ih_l0 = nn.Parameter(torch.zeros(rows))
        self.bias_hh_l0 = nn.Parameter(torch.zeros(rows))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        act = TORCH_ACTIVATIONS[self.activation]
        n, steps, _ = x.shape
        h = x.new_zeros(n, self.hidden_size)
        c = x.new_zeros(n, self.hidden_size)
        x_in = x @ self.weight_ih_l0.T + self.bias_ih_l0  # every step's input projection at once
        outs = []
        for t in range(steps):
            h_in = h @ self.weight_hh_l0.T + self.bias_hh_l0
            if self.cell == "rnn":
                h = act(x_in[:, t] + h_in)
            elif self.cell == "lstm":
                i, f, g, o = (x_in[:, t] + h_in).chunk(4, dim=-1)
                c = torch.sigmoid(f) * c + torch.sigmoid(i) * act(g)
                h = torch.sigmoid(o) * act(c)
            else:
                xr, xz, xn = x_in[:, t].chunk(3, dim=-1)
                hr, hz, hn = h_in.chunk(3, dim=-1)
                r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
                h = (1.0 - z) * act(xn + r * hn) + z * h
            outs.append(h)
        return torch.stack(outs, dim=1)

    def varimp_layers(self) -> list[Recurrent]:
        """This layer in varimp's neutral description (read by the PyTorch adapter)."""
        gates = GATES[self.cell]
        units = self.hidden_size

        def blocks(param: torch.Tensor) -> dict[str, np.ndarray]:
            full = param.detach().cpu().double().numpy().copy()
            return {g: full[k * units:(k + 1) * units] for k, g in enumerate(gates)}

        return [Recurrent(
            cell=self.cell,
            w_input={g: w.T for g, w in blocks(self.weight_ih_l0).items()},
            w_recurrent={g: w.T for g, w in blocks(self.weight_hh_l0).items()},
            b_input=blocks(self.bias_ih_l0), b_recurrent=blocks(self.bias_hh_l0),
            activation=self.activation, recurrent_activation="sigmoid", return_sequences=True,
            name=f"RecurrentLayer({self.cell}, {self.activation}, {units})",
        )]

    def extra_repr(self) -> str:
        return (f"{self.cell}, {self.input_size}, {self.hidden_size}, "
                f"activation={self.activation!r}")


class RecurrentNet(nn.Module):
    """Stacked recurrent layers, optionally a linear head, returning the sequence or last step."""

    def __init__(self, layers: Sequence[nn.Module], head: nn.Module | None,
                 return_sequences: bool):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.head = head
        self.return_sequences = bool(return_sequences)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = x
        for layer in self.layers:
            out = layer(out)
            if isinstance(out, tuple):  # native nn.RNN/LSTM/GRU return (output, state)
                out = out[0]
        if not self.return_sequences:
            out = out[:, -1]
        return out if self.head is None else self.head(out)
