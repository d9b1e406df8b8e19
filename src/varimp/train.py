"""Seeded PyTorch trainers for users who start from data, for the demo and the stepwise methods.

:func:`train_mlp` fits a multilayer perceptron, :func:`train_recurrent` a stack of RNN, GRU or
LSTM layers. Both are deterministic for a given ``random_state`` and thread-safe: the modules
are built and their weights drawn in a forked torch RNG seeded from ``random_state``, under a
process-wide lock (module constructors draw from torch's one global generator), and the
shuffles and the validation split continue that stream in a local ``torch.Generator``; so
fits running at once in threads of one process (joblib's ``"threading"`` backend, a Dask
worker with several threads) give the networks of sequential runs, bitwise, and the caller's
global RNG state is left as it was. They never modify the arrays they are given, and return
a plain ``torch.nn.Module`` in eval mode whose ``forward`` takes float32 ``(n, p)`` or
``(n, T, p)`` and returns predictions; the networks are float32 whatever torch's default dtype
(``torch.set_default_dtype``), which they leave as it was. Called as ``fit(X, y)`` with their
defaults they are valid ``fit=`` arguments of ``forward_stepwise`` and ``backward_stepwise``.

A recurrent layer whose cell activation is tanh (or tanh/relu for a simple RNN) is a native
PyTorch layer; any other activation uses :class:`varimp.modules.RecurrentLayer`, which the
weight-based methods read like a native one.
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .errors import InputError
from .modules import GATE_COUNT, TORCH_ACTIVATIONS, RecurrentLayer, RecurrentNet, torch_module
from .refit import check_fraction
from .validation import (
    check_choice,
    check_positive_float,
    check_positive_int,
    check_random_state,
    validate,
)

_NATIVE = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
#: The trained networks' dtype, whatever torch's default dtype (``torch.set_default_dtype``).
_DTYPE = torch.float32
TASKS = ("regression", "binary", "multiclass")
#: Held while a trainer uses torch's global generator (seeding it, building the modules, whose
#: constructors draw from it): threads of one process take turns there and train side by side.
_GLOBAL_RNG = threading.Lock()
_Built = TypeVar("_Built")


@contextlib.contextmanager
def torch_threads(n_threads: int | None) -> Iterator[None]:
    """Run the block with ``n_threads`` torch intra-op threads (None: leave the setting alone).

    Small networks train fastest on one thread: with several, each tiny operation pays for
    waking the thread pool, which on a busy machine costs far more than the arithmetic. The
    previous setting is restored afterwards, also when the block raises.
    """
    if n_threads is None:
        yield
        return
    n_threads = check_positive_int(n_threads, "n_threads")
    previous = torch.get_num_threads()
    torch.set_num_threads(n_threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _seed(random_state: object) -> int:
    return int(check_random_state(random_state).integers(0, 2**62))


def _seeded_build(random_state: object, build: Callable[[], _Built]
                  ) -> tuple[_Built, torch.Generator]:
    """``build()`` in torch's global generator, forked and seeded from ``random_state``, under
    :data:`_GLOBAL_RNG`; returns what it built and a local generator continuing the same
    stream, for the draws of training (so the numbers are those of one seeded global stream,
    and no other thread's draws can come between them)."""
    seed = _seed(random_state)
    with _GLOBAL_RNG, torch.random.fork_rng(devices=[]):
        torch.random.default_generator.manual_seed(seed)
        built = build()
        generator = torch.Generator()
        generator.set_state(torch.get_rng_state())
    return built, generator


def _glorot_(weight: torch.Tensor, fan_in: int, fan_out: int) -> None:
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    nn.init.uniform_(weight, -bound, bound)


def _init_linear(linear: nn.Linear) -> None:
    _glorot_(linear.weight, linear.in_features, linear.out_features)
    nn.init.zeros_(linear.bias)


def _init_recurrent(layer: nn.Module, cell: str) -> None:
    """Keras' defaults: Glorot-uniform input kernel, orthogonal recurrent kernel, forget bias 1."""
    gates, units = GATE_COUNT[cell], layer.hidden_size
    with torch.no_grad():
        _glorot_(layer.weight_ih_l0, layer.input_size, gates * units)
        for k in range(gates):
            nn.init.orthogonal_(layer.weight_hh_l0[k * units:(k + 1) * units].T)
        nn.init.zeros_(layer.bias_ih_l0)
        nn.init.zeros_(layer.bias_hh_l0)
        if cell == "lstm":
            layer.bias_ih_l0[units:2 * units] = 1.0


def _recurrent_layer(cell: str, input_size: int, units: int, activation: str) -> nn.Module:
    if cell in ("lstm", "gru") and activation == "tanh":
        layer = _NATIVE[cell](input_size, units, batch_first=True, dtype=_DTYPE)
    elif cell == "rnn" and activation in ("tanh", "relu"):
        layer = nn.RNN(input_size, units, nonlinearity=activation, batch_first=True, dtype=_DTYPE)
    else:  # built of zeros (no draws), cast before its weights are drawn
        layer = RecurrentLayer(cell, input_size, units, activation).to(_DTYPE)
    _init_recurrent(layer, cell)
    return layer


def _check_sizes(value: object, name: str) -> tuple[int, ...]:
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        value = (value,)
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise InputError(f"{name} must be a tuple of layer sizes; received {value!r}")
    return tuple(check_positive_int(v, f"each of {name}") for v in value)


def _check_activation(value: object, name: str) -> str:
    value = "identity" if value == "linear" else value
    return check_choice(value, name, tuple(TORCH_ACTIVATIONS))


def _fit_loop(model: nn.Module, loss: Callable, X: torch.Tensor, y: torch.Tensor,
              epochs: int, batch_size: int, lr: float, generator: torch.Generator,
              validation_fraction: float | None = None, patience: int = 10) -> None:
    """Adam on shuffled mini-batches (the shuffles drawn from ``generator``, the trainer's own).

    With ``validation_fraction``, that share of the rows (drawn from the same RNG, before any
    shuffle) is held out; after every epoch the loss on them is computed, training stops once it
    has not improved for ``patience`` epochs, and the weights of the best epoch are restored
    (early stopping, as scikit-learn's ``early_stopping=True``). Fewer than two rows: no split.
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    held = _held_out_rows(X.shape[0], validation_fraction)
    if held:
        order = torch.randperm(X.shape[0], generator=generator)
        X_val, y_val = X[order[:held]], y[order[:held]]
        X, y = X[order[held:]], y[order[held:]]
    n = X.shape[0]
    best, best_state, waited = math.inf, None, 0
    model.train()
    for _ in range(epochs):
        order = torch.randperm(n, generator=generator)
        for start in range(0, n, batch_size):
            rows = order[start:start + batch_size]
            optimizer.zero_grad()
            value = loss(model(X[rows]), y[rows])
            value.backward()
            optimizer.step()
        if not held:
            continue
        model.eval()
        with torch.no_grad():
            current = float(loss(model(X_val), y_val))
        model.train()
        if current < best:
            best, waited = current, 0
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            waited += 1
            if waited >= patience:
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()


def _held_out_rows(n: int, validation_fraction: float | None) -> int:
    """Rows held out for early stopping: ``round(fraction * n)``, at least one, leaving at
    least one to train on; 0 without a fraction or with fewer than two rows."""
    if validation_fraction is None or n < 2:
        return 0
    return min(n - 1, max(1, round(validation_fraction * n)))


def check_validation(validation_fraction: object, patience: object
                     ) -> tuple[float | None, int]:
    """``validation_fraction`` (None, or a number strictly between 0 and 1) and ``patience``
    (an integer >= 1), validated."""
    if validation_fraction is not None:
        validation_fraction = check_fraction(validation_fraction, "validation_fraction")
    return validation_fraction, check_positive_int(patience, "patience")


def _common(epochs: object, batch_size: object, lr: object) -> tuple[int, int, float]:
    return (check_positive_int(epochs, "epochs"), check_positive_int(batch_size, "batch_size"),
            check_positive_float(lr, "lr"))


def _binary_targets(y: np.ndarray) -> None:
    if not np.all((y == 0) | (y == 1)):
        raise InputError(f"binary targets must be 0 or 1; received values such as "
                         f"{np.unique(y)[:5].tolist()}")


def _numeric_targets(target: np.ndarray, task: str, setting: str | None = None) -> None:
    """Targets the trainer can use: numbers (:func:`varimp.validation.check_y` keeps any other
    labels as objects); class labels of another type are an InputError saying how to encode
    them, since the returned network holds no label names. ``setting``: the option that asks
    for ``task`` in the message (default ``task=...``, as :func:`train_mlp` takes it)."""
    if target.dtype != object:
        return
    shown = sorted({str(v) for v in target.flat})[:6]
    accepted = {"regression": "numbers (the values to predict)",
                "binary": "0 and 1 (1: the positive class)",
                "multiclass": "integer class labels 0..k-1"}[task]
    how = "task='binary' or 'multiclass'" if setting is None else "loss='bce' (two classes)"
    raise InputError(
        f"{setting or f'task={task!r}'} needs targets of {accepted}; received non-numeric "
        f"labels such as {shown}. If they are class labels, encode them (the returned network "
        "holds no label names): classes, codes = np.unique(y, return_inverse=True), train on "
        f"codes with {how} and pass classes=classes to the importance methods")


def train_mlp(
    X: object,
    y: object,
    *,
    hidden: Sequence[int] | int = (16,),
    activation: str = "tanh",
    task: str = "regression",
    n_classes: int | None = None,
    epochs: int = 100,
    batch_size: int = 32,
    lr: float = 0.01,
    standardize: bool = True,
    validation_fraction: float | None = None,
    patience: int = 10,
    random_state: object = 0,
    n_threads: int | None = 1,
) -> nn.Module:
    """Fit a multilayer perceptron with Adam; return an ``nn.Sequential`` in eval mode.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
    y : array-like
        ``task="regression"``: ``(n,)`` or ``(n, k)`` numbers, mean squared error;
        ``"binary"``: ``(n,)`` or ``(n, k)`` of 0 and 1, binary cross-entropy, sigmoid output;
        ``"multiclass"``: ``(n,)`` integer labels ``0 .. k-1``, cross-entropy, softmax output.
        Labels of another type (strings) are an InputError: the returned network holds no
        label names, so encode them (``classes, codes = np.unique(y, return_inverse=True)``)
        and pass ``classes=classes`` to the importance methods.
    hidden : tuple of int
        Units of each hidden layer.
    activation : str
        Hidden activation (``"relu"``, ``"tanh"``, ``"sigmoid"``, ``"elu"``, ...).
    n_classes : int, optional
        ``task="multiclass"``: the number of outputs (default: the largest label + 1; give it
        when some classes may be absent from ``y``, as in a resample).
    epochs, batch_size, lr : int, int, float
        Passes over the data, rows per Adam step, learning rate.
    standardize : bool
        Train on standardized inputs (and, for regression, targets), then fold the scaling into
        the first and last ``Linear`` layers: the returned network takes raw ``X`` and predicts
        on the scale of ``y``, and is still a plain chain of ``Linear`` layers and activations.
        Its first weights are then per raw unit of ``X``: connection weights and Garson read
        them per standard deviation, as they were trained, with ``scale="std"`` (and warn
        without it when the inputs' spreads differ by more than 10 times).
    validation_fraction : float or None
        Early stopping: this share of the rows (drawn from ``random_state``) is held out, the
        loss on it is computed after every epoch, training stops once it has not improved for
        ``patience`` epochs and the best epoch's weights are kept; ``epochs`` is then the
        most. None (the default): every row is trained on for ``epochs`` epochs.
    patience : int
        Epochs without improvement of the held-out loss before training stops.
    random_state : int, numpy Generator or None
        Seed of the initial weights and the shuffles.
    n_threads : int or None
        Torch threads while training (see :func:`torch_threads`); the default 1 is fastest for
        small networks and lets parallel refits (``n_jobs``) share the cores. None keeps
        torch's setting.

    Returns
    -------
    torch.nn.Sequential
        ``Linear, act, ..., Linear[, Sigmoid | Softmax]``, float32; predictions ``(n, k)``.

    Examples
    --------
    >>> import torch
    >>> from varimp.datasets import olden_simulation
    >>> from varimp.train import train_mlp
    >>> X, y, truth = olden_simulation(200, random_state=0)
    >>> model = train_mlp(X, y, hidden=(4,), epochs=20, random_state=0)
    >>> model
    Sequential(
      (0): Linear(in_features=5, out_features=4, bias=True)
      (1): Tanh()
      (2): Linear(in_features=4, out_features=1, bias=True)
    )
    >>> model(torch.as_tensor(X[:3], dtype=torch.float32)).shape
    torch.Size([3, 1])
    """
    data = validate(X, y, y_required=True, allow_sequence=False)
    task = check_choice(task, "task", TASKS)
    hidden = _check_sizes(hidden, "hidden")
    activation = _check_activation(activation, "activation")
    epochs, batch_size, lr = _common(epochs, batch_size, lr)
    validation_fraction, patience = check_validation(validation_fraction, patience)
    x, target = data.X, data.y
    if target.ndim > 2:
        raise InputError(f"y must be (n,) or (n, n_outputs) for an MLP; received {target.shape}")
    _numeric_targets(target, task)
    if task == "multiclass":
        if target.ndim != 1 or np.any(target != np.round(target)) or target.min() < 0:
            raise InputError("multiclass targets must be integer labels 0..k-1 of shape (n,); "
                             f"received shape {target.shape} with values {np.unique(target)[:5]}")
        n_out = int(target.max()) + 1 if n_classes is None else \
            check_positive_int(n_classes, "n_classes", minimum=max(2, int(target.max()) + 1))
        if n_out < 2:
            raise InputError(f"multiclass needs at least 2 classes; received labels "
                             f"{np.unique(target).tolist()}")
    else:
        target = target.reshape(len(target), -1)
        n_out = target.shape[1]
        if task == "binary":
            _binary_targets(target)
    x_mean, x_std = (x.mean(0), _spread(x)) if standardize else (0.0, 1.0)
    scale_y = standardize and task == "regression"
    y_mean, y_std = (target.mean(0), _spread(target)) if scale_y else (0.0, 1.0)
    sizes = (data.n_features, *hidden, n_out)

    def build() -> list[nn.Linear]:
        linears = []
        for k in range(len(sizes) - 1):
            linears.append(nn.Linear(sizes[k], sizes[k + 1], dtype=_DTYPE))
            _init_linear(linears[-1])
        return linears

    linears, generator = _seeded_build(random_state, build)
    modules: list[nn.Module] = []
    for k, linear in enumerate(linears):
        modules.append(linear)
        if k < len(sizes) - 2 and activation != "identity":
            modules.append(torch_module(activation))
    model = nn.Sequential(*modules)
    with torch_threads(n_threads):
        xt = torch.as_tensor((x - x_mean) / x_std, dtype=_DTYPE)
        if task == "multiclass":
            yt = torch.as_tensor(target, dtype=torch.long)
            loss = F.cross_entropy
        else:
            yt = torch.as_tensor((target - y_mean) / y_std, dtype=_DTYPE)
            loss = F.mse_loss if task == "regression" else F.binary_cross_entropy_with_logits
        _fit_loop(model, loss, xt, yt, epochs, batch_size, lr, generator, validation_fraction,
                  patience)
    if standardize:
        _fold_scaling((linears[0].weight, linears[0].bias), linears[-1], x_mean, x_std,
                      y_mean, y_std)
    if task == "binary":
        model.append(nn.Sigmoid())
    elif task == "multiclass":
        model.append(nn.Softmax(dim=-1))
    return model.eval()


def _spread(values: np.ndarray) -> np.ndarray:
    """The standard deviation of every column, 1 for a constant column: one whose spread is
    rounding noise of its mean (a column held at its mean has a std of about 1e-17, not 0)."""
    std = values.std(0)
    return np.where(std > 1e-12 * np.maximum(1.0, np.abs(values.mean(0))), std, 1.0)


def _fold_scaling(first: tuple[nn.Parameter, nn.Parameter], last: nn.Linear | None,
                  x_mean, x_std, y_mean, y_std) -> None:
    """Absorb ``(x - mean) / std`` into the ``(weight, bias)`` the inputs enter by (a first
    ``Linear``'s, a first recurrent layer's ``weight_ih_l0, bias_ih_l0``) and ``y * std +
    mean`` into the ``last`` Linear layer (None: targets not scaled)."""

    def vector(value: object, size: int) -> torch.Tensor:
        return torch.as_tensor(np.broadcast_to(value, (size,)).copy(), dtype=torch.float64)

    weight, bias = first
    with torch.no_grad():
        w = weight.double() / vector(x_std, weight.shape[1])
        bias.copy_(bias.double() - w @ vector(x_mean, weight.shape[1]))
        weight.copy_(w)
        if last is not None:
            scale, shift = vector(y_std, last.out_features), vector(y_mean, last.out_features)
            last.weight.copy_(last.weight.double() * scale[:, None])
            last.bias.copy_(last.bias.double() * scale + shift)


def train_recurrent(
    X: object,
    y: object,
    *,
    cell: str = "lstm",
    units: Sequence[int] | int = (10, 5, 1),
    activations: Sequence[str] | str = ("relu", "relu", "sigmoid"),
    return_sequences: bool = True,
    head: bool = False,
    loss: str = "bce",
    epochs: int = 5,
    batch_size: int = 5,
    lr: float = 0.001,
    standardize: bool = False,
    validation_fraction: float | None = None,
    patience: int = 10,
    random_state: object = 0,
    n_threads: int | None = 1,
) -> nn.Module:
    """Fit stacked recurrent layers with Adam; return a :class:`RecurrentNet` in eval mode.

    The defaults are the reference experiment of varimp's mission (after a Keras model): three
    stacked LSTM layers of 10, 5 and 1 units with relu, relu and sigmoid cell activations,
    every layer returning its whole sequence, trained on binary cross-entropy with Adam
    (learning rate 0.001) on batches of 5 sequences, for 5 epochs.

    Parameters
    ----------
    X : array-like of shape (n_sequences, n_timesteps, n_features)
    y : array-like
        With ``return_sequences``: ``(n, T)`` or ``(n, T, k)``, one target per step; without:
        ``(n,)`` or ``(n, k)``. ``k`` must equal the last layer's units unless ``head=True``.
    cell : {"lstm", "gru", "rnn"}
    units : tuple of int
        Units of each stacked recurrent layer.
    activations : tuple of str or str
        Cell activation of each layer (as Keras' ``activation=``: the LSTM cell candidate and
        output, the GRU candidate, the RNN state); one name applies to every layer. Gates keep
        the sigmoid.
    return_sequences : bool
        Predict at every step (True) or from the last step only.
    head : bool
        Add a ``Linear(units[-1], k)`` output layer (with a sigmoid for ``loss="bce"``).
    loss : {"bce", "mse"}
        Binary cross-entropy on probabilities (targets in [0, 1]; the output must be a sigmoid)
        or mean squared error.
    epochs, batch_size, lr : int, int, float
    standardize : bool
        Train on standardized inputs (each feature by its mean and standard deviation over
        every sequence and step) and, for ``loss="mse"`` with ``head=True``, standardized
        targets, then fold the scaling into the first layer's input weights (and the head):
        the returned network takes raw ``X`` and predicts on the scale of ``y``, and its
        layers are unchanged in kind. Give it for inputs in raw units of different sizes
        (rainfall in mm beside temperatures in degrees); False by default, as in the reference
        experiment, whose inputs lie in [0, 1].
    validation_fraction, patience : float or None, int
        Early stopping on held-out rows (sequences), as for :func:`train_mlp`.
    random_state : int, numpy Generator or None
        Seed of the initial weights (Keras' initialisers) and of the shuffles.
    n_threads : int or None
        Torch threads while training, as for :func:`train_mlp`.

    Returns
    -------
    RecurrentNet
        float32, batch first; ``forward`` returns ``(n, T, k)`` or ``(n, k)``.

    Examples
    --------
    >>> import torch
    >>> from varimp.datasets import product_threshold
    >>> from varimp.train import train_recurrent
    >>> X, y, truth = product_threshold(20, 4, random_state=0)  # 20 sequences of 4 steps
    >>> model = train_recurrent(X, y, units=(3, 1), activations=("relu", "sigmoid"),
    ...                         epochs=2, random_state=0)
    >>> [layer.hidden_size for layer in model.layers]
    [3, 1]
    >>> model(torch.as_tensor(X, dtype=torch.float32)).shape  # a probability per step
    torch.Size([20, 4, 1])
    """
    data = validate(X, y, y_required=True)
    if not data.sequence:
        raise InputError(f"X must be sequences (n_sequences, n_timesteps, n_features); received "
                         f"shape {data.X.shape}")
    cell = check_choice(cell, "cell", tuple(GATE_COUNT))
    units = _check_sizes(units, "units")
    if isinstance(activations, str):
        activations = (activations,) * len(units)
    if isinstance(activations, str) or not isinstance(activations, Sequence) or \
            len(activations) != len(units):
        raise InputError(f"activations must name one activation per layer ({len(units)}); "
                         f"received {activations!r}")
    activations = tuple(_check_activation(a, "each activation") for a in activations)
    loss = check_choice(loss, "loss", ("bce", "mse"))
    epochs, batch_size, lr = _common(epochs, batch_size, lr)
    validation_fraction, patience = check_validation(validation_fraction, patience)
    target = data.y
    _numeric_targets(target, "binary" if loss == "bce" else "regression", f"loss={loss!r}")
    expected = 2 if return_sequences else 1
    if target.ndim not in (expected, expected + 1) or (
            return_sequences and target.shape[1] != data.n_timesteps):
        want = f"(n, {data.n_timesteps}) or (n, {data.n_timesteps}, k)" if return_sequences \
            else "(n,) or (n, k)"
        raise InputError(f"y must have shape {want} with return_sequences={return_sequences}; "
                         f"received {target.shape}")
    if target.ndim == expected:
        target = target[..., None]
    k = target.shape[-1]
    if not head and units[-1] != k:
        raise InputError(f"the last layer has {units[-1]} units but y has {k} output(s); "
                         "match units[-1] to y or pass head=True")
    output_activation = "sigmoid" if head else activations[-1]
    if loss == "bce":
        if np.any((target < 0) | (target > 1)):
            raise InputError("loss='bce' needs targets in [0, 1]; received values in "
                             f"[{target.min():.4g}, {target.max():.4g}]")
        if output_activation not in ("sigmoid", "hard_sigmoid"):
            raise InputError(f"loss='bce' needs a probability output: the last activation must "
                             f"be 'sigmoid' (or head=True); received {activations[-1]!r}")
    sizes = (data.n_features, *units)

    def build() -> RecurrentNet:
        layers = [_recurrent_layer(cell, sizes[j], sizes[j + 1], activations[j])
                  for j in range(len(units))]
        out = None
        if head:
            linear = nn.Linear(units[-1], k, dtype=_DTYPE)
            _init_linear(linear)
            out = nn.Sequential(linear, nn.Sigmoid()) if loss == "bce" else linear
        return RecurrentNet(layers, out, return_sequences)

    model, generator = _seeded_build(random_state, build)
    if loss == "bce":  # trained as probabilities: varimp scores it as a classifier
        model.varimp_output_kind = "probability"
    criterion = F.binary_cross_entropy if loss == "bce" else F.mse_loss
    x = data.X
    x_mean, x_std = (x.reshape(-1, x.shape[-1]).mean(0), _spread(x.reshape(-1, x.shape[-1]))) \
        if standardize else (0.0, 1.0)
    scale_y = standardize and loss == "mse" and head
    flat = target.reshape(-1, k)
    y_mean, y_std = (flat.mean(0), _spread(flat)) if scale_y else (0.0, 1.0)
    with torch_threads(n_threads):
        _fit_loop(model, criterion, torch.as_tensor((x - x_mean) / x_std, dtype=_DTYPE),
                  torch.as_tensor((target - y_mean) / y_std, dtype=_DTYPE), epochs, batch_size,
                  lr, generator, validation_fraction, patience)
    if standardize:
        first = model.layers[0]
        _fold_scaling((first.weight_ih_l0, first.bias_ih_l0), model.head if scale_y else None,
                      x_mean, x_std, y_mean, y_std)
    return model.eval()


def without_probability_layer(model: nn.Module) -> nn.Module:
    """The trained network without its final probability layer, declared to return logits."""
    if isinstance(model, nn.Sequential):
        stripped = nn.Sequential(*list(model)[:-1]).eval()
    else:  # a RecurrentNet whose head ends in a sigmoid
        model.head = nn.Sequential(*list(model.head)[:-1])
        stripped = model.eval()
    stripped.varimp_output_kind = "logits"
    return stripped


__all__ = ["RecurrentLayer", "RecurrentNet", "torch_threads", "train_mlp", "train_recurrent",
           "without_probability_layer"]
