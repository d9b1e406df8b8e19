"""A framework-neutral description of a network's layers, read by the weight-based methods.

Adapters translate PyTorch, Keras and scikit-learn models into a :class:`Network`: a chain of
:class:`Dense` and :class:`Recurrent` layers whose weights are numpy arrays in one convention
(row vectors: ``out = inp @ weight + bias``). Elementwise activations are kept by name only; the
weight-based methods ignore them by definition (Olden & Jackson 2002), and the recurrent
linearisation needs only the value of the gate activation at rest.

Recurrent gate blocks are stored by name, whatever order the framework keeps them in:

- ``"rnn"``: one block ``"h"``;
- ``"lstm"``: ``"i"`` (input gate), ``"f"`` (forget gate), ``"g"`` (cell candidate), ``"o"``
  (output gate);
- ``"gru"``: ``"r"`` (reset gate), ``"z"`` (update gate), ``"n"`` (candidate). PyTorch's and
  Keras' ``reset_after=True`` GRU is ``h = (1 - z) * n + z * h_prev``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .errors import UnsupportedModelError

#: The gate blocks of each cell, in the order PyTorch stacks them in its weight matrices
#: (``weight_ih_l0`` is ``[W_i; W_f; W_g; W_o]`` for an LSTM): the one table of that order, for
#: the PyTorch reader, the networks rebuilt in PyTorch and :class:`varimp.modules.RecurrentLayer`.
GATES = {"rnn": ("h",), "lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n")}


def _leaky(slope: float):
    return lambda x: np.where(x >= 0, x, slope * x)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    from scipy.special import expit  # imported on first use: importing varimp stays light

    return expit(x)


def _gelu(x: np.ndarray) -> np.ndarray:
    from scipy.special import erf

    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))


def _softmax(x: np.ndarray) -> np.ndarray:
    from scipy.special import softmax

    return softmax(x, axis=-1)


def _softplus(beta: float, threshold: float):
    """PyTorch's ``Softplus(beta, threshold)``: ``log(1 + exp(beta x)) / beta``, and ``x`` where
    ``beta x > threshold``."""
    return lambda x: np.where(beta * x > threshold, x, np.logaddexp(0.0, beta * x) / beta)


def _elu(alpha: float):
    return lambda x: np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


def _celu(alpha: float):
    return lambda x: np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0) / alpha))


def _soft_shrink(cut: float):
    return lambda x: np.where(x > cut, x - cut, np.where(x < -cut, x + cut, 0.0))


def _relu(negative_slope: float, threshold: float, max_value: float):
    """Keras' ``relu(x, negative_slope, max_value, threshold)`` (``max_value=inf``: None), as
    Keras computes it: ``x`` above the threshold, else 0, clipped to ``[0, max_value]`` when
    there is a maximum, minus ``negative_slope * max(threshold - x, 0)``."""
    def relu(x: np.ndarray) -> np.ndarray:
        out = np.where(x > threshold, x, 0.0)
        if np.isfinite(max_value):
            out = np.clip(out, 0.0, max_value)
        return out - negative_slope * np.maximum(threshold - x, 0.0)
    return relu


_SELU_ALPHA, _SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946

#: Activation families that take parameters: the numpy function made from them, and the
#: defaults its plain name stands for (None: the name always carries them). A name carries its
#: parameters after colons, in this order: ``"elu:2.0"``, ``"softplus:2.0:20.0"``.
FAMILIES = {
    "leaky_relu": (_leaky, None, ("negative_slope",)),
    "elu": (_elu, (1.0,), ("alpha",)),
    "celu": (_celu, (1.0,), ("alpha",)),
    "softplus": (_softplus, (1.0, 20.0), ("beta", "threshold")),
    "hard_tanh": (lambda low, high: lambda x: np.clip(x, low, high), (-1.0, 1.0),
                  ("min_val", "max_val")),
    "soft_shrink": (_soft_shrink, (0.5,), ("lambda",)),
    "hard_shrink": (lambda cut: lambda x: np.where(np.abs(x) > cut, x, 0.0), (0.5,),
                    ("lambda",)),
    "threshold": (lambda cut, value: lambda x: np.where(x > cut, x, value), None,
                  ("threshold", "value")),
    "squareplus": (lambda b: lambda x: (x + np.sqrt(x * x + b)) / 2.0, (4.0,), ("b",)),
    "relu": (_relu, (0.0, 0.0, np.inf), ("negative_slope", "threshold", "max_value")),
}

#: Elementwise activations by plain neutral name, in numpy (and the softmaxes over the last
#: axis). A family of :data:`FAMILIES` is here by its plain name with its defaults; other
#: parameters go in the name (:func:`activation`).
ACTIVATIONS = {
    "identity": lambda x: x,
    "relu": lambda x: np.maximum(x, 0.0),
    "relu6": lambda x: np.clip(x, 0.0, 6.0),
    "tanh": np.tanh,
    "sigmoid": _sigmoid,
    "hard_sigmoid": lambda x: np.clip(x / 6.0 + 0.5, 0.0, 1.0),
    "hard_silu": lambda x: x * np.clip(x + 3.0, 0.0, 6.0) / 6.0,
    "elu": _elu(1.0),
    "selu": lambda x: _SELU_SCALE * _elu(_SELU_ALPHA)(x),
    "celu": _celu(1.0),
    "gelu": _gelu,
    "gelu_tanh": lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3))),
    "softplus": _softplus(1.0, 20.0),
    "softsign": lambda x: x / (1.0 + np.abs(x)),
    "silu": lambda x: x * _sigmoid(x),
    "mish": lambda x: x * np.tanh(np.logaddexp(0.0, x)),
    "log_sigmoid": lambda x: -np.logaddexp(0.0, -x),
    "tanh_shrink": lambda x: x - np.tanh(x),
    "hard_tanh": FAMILIES["hard_tanh"][0](-1.0, 1.0),
    "soft_shrink": _soft_shrink(0.5),
    "hard_shrink": FAMILIES["hard_shrink"][0](0.5),
    "squareplus": FAMILIES["squareplus"][0](4.0),
    "sparse_plus": lambda x: np.where(x <= -1.0, 0.0, np.where(x < 1.0, (x + 1.0) ** 2 / 4.0, x)),
    "sparse_sigmoid": lambda x: np.clip(0.5 * (x + 1.0), 0.0, 1.0),
    "exponential": np.exp,
    "softmax": _softmax,
    "log_softmax": lambda x: x - np.log(np.exp(x - x.max(-1, keepdims=True)).sum(-1, keepdims=True))
    - x.max(-1, keepdims=True),
}


def neutral_name(family: str, *params: float) -> str:
    """The neutral name of an activation of :data:`FAMILIES` with these parameters: its plain
    name when they are its defaults, else ``"family:p1:p2"`` (each exact, as ``repr`` writes
    a float)."""
    values = tuple(float(p) for p in params)
    if values == FAMILIES[family][1]:
        return family
    return ":".join([family, *map(repr, values)])


def parse_activation(name: str) -> tuple[str, tuple[float, ...] | None]:
    """A neutral activation name as its family and parameters (None: a plain name)."""
    family, *params = name.split(":")
    if not params and name in ACTIVATIONS:
        return name, None
    if params and family in FAMILIES and len(params) == len(FAMILIES[family][2]):
        try:
            return family, tuple(float(p) for p in params)
        except ValueError:
            pass
    raise UnsupportedModelError(f"activation {name!r} is not one varimp computes; it computes "
                                f"{supported_activations()}")


def supported_activations() -> str:
    """The neutral activation names, as messages list them."""
    families = [f"{family}:{':'.join(f'<{p}>' for p in names)}"
                for family, (_, _, names) in FAMILIES.items()]
    return f"{', '.join(ACTIVATIONS)}; with parameters {', '.join(families)}"


def activation(name: str):
    """The numpy function of a neutral activation name (:data:`ACTIVATIONS`, or a family of
    :data:`FAMILIES` with its parameters in the name)."""
    family, params = parse_activation(name)
    return ACTIVATIONS[name] if params is None else FAMILIES[family][0](*params)


@dataclass(frozen=True)
class Dense:
    """A fully connected layer, applied at every time step when its input is a sequence."""

    weight: np.ndarray  # (n_in, n_out)
    bias: np.ndarray  # (n_out,)
    activation: str = "identity"
    name: str = "dense"
    #: Whether the model declares a bias for this layer: False for PyTorch
    #: ``nn.Linear(..., bias=False)`` and Keras ``Dense(use_bias=False)``, whose bias reads as
    #: zeros (a normalisation folded into the layer may fill it); scikit-learn MLPs always have
    #: biases.
    has_bias: bool = field(default=True, compare=False)
    #: The standard deviation, per input unit, of a normalisation folded into the weights
    #: (a Keras ``Normalization``): the weights are per raw unit, times it per standard
    #: deviation. None when none was folded.
    input_spread: np.ndarray | None = field(default=None, compare=False, repr=False)

    @property
    def n_in(self) -> int:
        return self.weight.shape[0]

    def followed_by(self, activation: str) -> Dense:
        """This layer with an activation module applied after it (an identity changes nothing)."""
        if activation == "identity":
            return self
        if self.activation != "identity":
            raise UnsupportedModelError(f"layer {self.name} is followed by two activations "
                                        f"({self.activation}, then {activation}); the weight-based "
                                        "methods read one activation per layer")
        return replace(self, activation=activation)

    @property
    def n_out(self) -> int:
        return self.weight.shape[1]

    def after_affine(self, scale: np.ndarray, shift: np.ndarray) -> Dense:
        """This layer reading ``x`` where it read ``x * scale + shift`` (per input unit): the
        same function of ``x``, with ``W' = diag(scale) W`` and ``b' = b + shift @ W``."""
        return replace(self, weight=scale[:, None] * self.weight,
                       bias=self.bias + shift @ self.weight)


@dataclass(frozen=True)
class Recurrent:
    """One recurrent layer (one direction) with weights stored per gate block."""

    cell: str  # "rnn", "lstm" or "gru"
    w_input: dict[str, np.ndarray]  # gate -> (n_in, units)
    w_recurrent: dict[str, np.ndarray]  # gate -> (units, units)
    b_input: dict[str, np.ndarray] = field(default_factory=dict)  # gate -> (units,)
    b_recurrent: dict[str, np.ndarray] = field(default_factory=dict)  # gate -> (units,)
    activation: str = "tanh"
    recurrent_activation: str = "sigmoid"
    return_sequences: bool = True
    reset_after: bool = True  # GRU only: reset gate applied after the recurrent product
    name: str = "recurrent"
    input_spread: np.ndarray | None = field(default=None, compare=False, repr=False)  # as Dense

    @property
    def n_in(self) -> int:
        return next(iter(self.w_input.values())).shape[0]

    @property
    def n_out(self) -> int:
        return next(iter(self.w_input.values())).shape[1]

    def after_affine(self, scale: np.ndarray, shift: np.ndarray) -> Recurrent:
        """This layer reading ``x`` where it read ``x * scale + shift`` at every step (per input
        unit): every gate's input weights and biases, as :meth:`Dense.after_affine`."""
        zeros = np.zeros(self.n_out)
        return replace(
            self, w_input={g: scale[:, None] * w for g, w in self.w_input.items()},
            b_input={g: self.b_input.get(g, zeros) + shift @ w for g, w in self.w_input.items()})

    def gate_at_rest(self) -> float:
        """Value of the gate activation at zero input: the resting gate of the linearisation."""
        return float(activation(self.recurrent_activation)(np.zeros(1))[0])

    def _pre(self, gate: str, x: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Input and recurrent pre-activations of one gate block (biases included)."""
        zeros = np.zeros(self.n_out)
        xin = x @ self.w_input[gate] + self.b_input.get(gate, zeros)
        hin = h @ self.w_recurrent[gate] + self.b_recurrent.get(gate, zeros)
        return xin, hin

    def forward(self, X: np.ndarray) -> np.ndarray:
        """Run the layer on ``(n, T, n_in)``; returns ``(n, T, units)`` or ``(n, units)``."""
        act, gate_act = activation(self.activation), activation(self.recurrent_activation)
        n, steps = X.shape[:2]
        h = np.zeros((n, self.n_out))
        c = np.zeros((n, self.n_out))
        outs = []
        for t in range(steps):
            x = X[:, t]
            if self.cell == "rnn":
                h = act(sum(self._pre("h", x, h)))
            elif self.cell == "lstm":
                i, f, g, o = (sum(self._pre(k, x, h)) for k in "ifgo")
                c = gate_act(f) * c + gate_act(i) * act(g)
                h = gate_act(o) * act(c)
            else:
                r, z = (gate_act(sum(self._pre(k, x, h))) for k in "rz")
                if self.reset_after:
                    xin, hin = self._pre("n", x, h)
                    cand = act(xin + r * hin)
                else:
                    xin, _ = self._pre("n", x, h)
                    cand = act(xin + (r * h) @ self.w_recurrent["n"]
                               + self.b_recurrent.get("n", 0.0))
                h = (1.0 - z) * cand + z * h
            outs.append(h)
        return np.stack(outs, axis=1) if self.return_sequences else h


@dataclass(frozen=True)
class Flatten:
    """Flattens ``(time, units)`` into ``time * units`` (row-major, time outer)."""

    name: str = "flatten"


Layer = Dense | Recurrent | Flatten


@dataclass(frozen=True)
class Network:
    """The layers of a model from its input to its output, in order."""

    layers: tuple[Layer, ...]
    n_inputs: int
    sequence: bool  # True when the model reads (n, time steps, features)

    def forward(self, X: np.ndarray) -> np.ndarray:
        """The network's prediction in float64 numpy, a reference independent of any framework."""
        out = np.asarray(X, dtype=np.float64)
        for layer in self.layers:
            if isinstance(layer, Dense):
                out = activation(layer.activation)(out @ layer.weight + layer.bias)
            elif isinstance(layer, Recurrent):
                out = layer.forward(out)
            else:
                out = out.reshape(out.shape[0], -1)
        return out

    def with_last_step_only(self) -> Network:
        """The same network with its last recurrent layer returning only the final step."""
        layers = list(self.layers)
        for k in range(len(layers) - 1, -1, -1):
            if isinstance(layers[k], Recurrent):
                layers[k] = replace(layers[k], return_sequences=False)
                break
        return replace(self, layers=tuple(layers))

    def read_as_sequences(self, steps: int) -> Network:
        """This network fed ``(n, steps, p)``: a leading Flatten makes every sequence one row
        of ``steps * p`` inputs (time outer), so the linear path resolves each time step."""
        if self.sequence or not isinstance(self.layers[0], Flatten) or self.n_inputs % steps:
            return self
        return replace(self, n_inputs=self.n_inputs // steps, sequence=True)

    def with_centred_classes(self) -> Network:
        """This network with the class weights of its last (dense) layer centred over the
        classes, ``w_c - mean_k w_k`` for every input unit of the layer (and ``b_c - mean_k
        b_k``): the layer that gives the centred logits ``z_c - mean_k z_k``, which are the
        centred log-probabilities ``log p_c - mean_k log p_k`` of a softmax. A softmax's
        probabilities are unchanged by a vector added to every class's weights, so its raw class
        weights are defined only up to that vector; the centred ones are not. A network whose
        last layer is no dense layer of several units is returned as it is."""
        layers = list(self.layers)
        k = max(i for i, layer in enumerate(layers) if not isinstance(layer, Flatten))
        last = layers[k]
        if not isinstance(last, Dense) or last.n_out < 2:
            return self
        layers[k] = replace(last, weight=last.weight - last.weight.mean(axis=1, keepdims=True),
                            bias=last.bias - last.bias.mean())
        return replace(self, layers=tuple(layers))

    @property
    def n_outputs(self) -> int:
        last = [layer for layer in self.layers if not isinstance(layer, Flatten)][-1]
        return last.n_out

    def _first_weighted(self) -> int:
        return next(i for i, layer in enumerate(self.layers) if not isinstance(layer, Flatten))

    @property
    def input_spread(self) -> np.ndarray | None:
        """The standard deviation of every input unit of the first weighted layer by which a
        normalisation inside the model divides it (folded into that layer's weights, see
        :attr:`Dense.input_spread`); None without one."""
        return self.layers[self._first_weighted()].input_spread

    def with_input_scale(self, factor: np.ndarray) -> Network:
        """This network with the input weights of its first weighted layer multiplied by
        ``factor`` (one per input unit of that layer: per feature, or per (step, feature)
        cell after a leading Flatten, time outer; one per feature is repeated over the
        steps), biases unchanged: the weights per ``factor`` units of each input (its
        standard deviation: per standard deviation)."""
        layers = list(self.layers)
        k = self._first_weighted()
        factor = np.asarray(factor, dtype=np.float64)
        layers[k] = layers[k].after_affine(np.tile(factor, layers[k].n_in // len(factor)),
                                           np.zeros(layers[k].n_in))
        return replace(self, layers=tuple(layers))
