"""PyTorch adapter: the only place that knows ``torch.nn`` internals."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator

import numpy as np
import torch
from torch import nn

from ..errors import ModelError, UnsupportedModelError
from ..modules import TORCH_TABLE, torch_module
from ..network import Dense, Flatten, Network, Recurrent
from .base import Adapter, batch_rows, canonical_shape, model_errors
from .structure import resolve_network


def _module_names() -> dict[type, str]:
    """Activation module classes with their neutral names, from
    :data:`varimp.modules.TORCH_TABLE` (a factory stands for the class it calls; the first
    name of a class wins: a GELU, a LeakyReLU and settings other than the defaults are read
    by ``_activation_name``)."""
    names: dict[type, str] = {}
    for name, (_, module) in TORCH_TABLE.items():
        names.setdefault(getattr(module, "func", module), name)
    return names


_ACTIVATIONS = _module_names()
_SKIPPED = (nn.Dropout, nn.AlphaDropout)
_GATE_ORDER = {nn.RNN: ("rnn", ("h",)), nn.LSTM: ("lstm", tuple("ifgo")), nn.GRU: ("gru", "rzn")}


def _activation_name(module: nn.Module) -> str | None:
    if isinstance(module, nn.LeakyReLU):
        return f"leaky_relu:{module.negative_slope}"
    if isinstance(module, nn.GELU):
        return "gelu_tanh" if module.approximate == "tanh" else "gelu"
    if isinstance(module, nn.ELU) and module.alpha != 1.0:
        return None
    if isinstance(module, nn.Softplus) and (module.beta != 1.0):
        return None
    for kind, name in _ACTIVATIONS.items():
        if type(module) is kind:
            return name
    return None


def _label(path: str, what: str) -> str:
    """A module as messages name it: its attribute path in the model, then what it is."""
    return f"{path!r} {what}" if path else what


def _numpy(param: torch.Tensor | None, shape: int) -> np.ndarray:
    if param is None:
        return np.zeros(shape)
    return param.detach().cpu().double().numpy().copy()


def _recurrent_layers(module: nn.RNNBase, path: str) -> list[Recurrent]:
    name = type(module).__name__
    if module.bidirectional:
        raise UnsupportedModelError(f"layer {name} is bidirectional; weight-based methods read "
                                    "one-directional recurrent layers only")
    if getattr(module, "proj_size", 0):
        raise UnsupportedModelError(f"layer {name} has proj_size; weight-based methods cannot "
                                    "read projected LSTMs")
    cell, gates = _GATE_ORDER[type(module)]
    units = module.hidden_size
    activation = module.nonlinearity if cell == "rnn" else "tanh"
    layers = []
    for k in range(module.num_layers):
        blocks = {}
        for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            param = getattr(module, f"{kind}_l{k}", None)
            full = _numpy(param, units * len(gates))
            blocks[kind] = {g: full[j * units:(j + 1) * units] for j, g in enumerate(gates)}
        layers.append(Recurrent(
            cell=cell,
            w_input={g: w.T for g, w in blocks["weight_ih"].items()},
            w_recurrent={g: w.T for g, w in blocks["weight_hh"].items()},
            b_input=blocks["bias_ih"], b_recurrent=blocks["bias_hh"],
            activation=activation, recurrent_activation="sigmoid", return_sequences=True,
            name=f"{_label(path, name)}[layer {k}]",
        ))
    return layers


#: Settings of the standard modules that a TorchScript twin copies. A traced module keeps
#: none: where a wrong default could go unseen by the check against the predictions (an
#: activation that differs for negative inputs only) the layer is refused (``_required``);
#: a default dimension of Flatten or Softmax is assumed, as a wrong one changes every value.
_SETTINGS = {"LeakyReLU": ("negative_slope",), "ELU": ("alpha",), "GELU": ("approximate",),
             "Softplus": ("beta", "threshold"), "RNN": ("nonlinearity",), "Softmax": ("dim",),
             "LogSoftmax": ("dim",), "Flatten": ("start_dim", "end_dim")}
_DEFAULTED = {"dim", "start_dim", "end_dim"}
_SCRIPTED = {"Linear", "RNN", "GRU", "LSTM", "Flatten", "Dropout", "AlphaDropout", "Identity",
             "ReLU", "Tanh", "Sigmoid", "ELU", "Softplus", "SiLU", "Hardsigmoid", "Softmax",
             "LogSoftmax", "LeakyReLU", "GELU"}


def _required(module: nn.Module) -> list[str]:
    """Settings a TorchScript module of a standard layer lost that cannot be defaulted."""
    name = getattr(module, "original_name", None)
    return [key for key in _SETTINGS.get(name, ()) if key not in _DEFAULTED
            and not hasattr(module, key)]


def _eager(module: nn.Module) -> nn.Module:
    """A TorchScript submodule (``torch.jit.script`` or ``trace``, saved or not) that is a
    standard layer, as the eager ``torch.nn`` module it was compiled from: same class, same
    parameters and settings. Any other module, and one whose settings were lost
    (:func:`_required`), is returned as it is."""
    name = getattr(module, "original_name", None)
    if not isinstance(module, torch.jit.ScriptModule) or name not in _SCRIPTED or \
            _required(module):
        return module
    params = dict(module.named_parameters(recurse=False))
    settings = {key: getattr(module, key) for key in (*_SETTINGS.get(name, ()), "batch_first")
                if hasattr(module, key)}
    try:
        if name == "Linear":
            out_features, in_features = params["weight"].shape
            twin = nn.Linear(in_features, out_features, bias="bias" in params)
        elif name in ("RNN", "GRU", "LSTM"):
            twin = getattr(nn, name)(**_recurrent_sizes(params), **settings)
        else:
            twin = getattr(nn, name)(**settings)
        if params:
            first = next(iter(params.values()))
            twin = twin.to(dtype=first.dtype, device=first.device)
        twin.load_state_dict({key: value.detach() for key, value in params.items()})
    except (KeyError, RuntimeError, TypeError, ValueError):
        return module
    return twin.train(module.training)


def _recurrent_sizes(params: dict[str, torch.Tensor]) -> dict[str, object]:
    """Constructor sizes of a recurrent layer, read off its parameters."""
    forward = [key for key in params if key.startswith("weight_ih_l") and "reverse" not in key]
    sizes = {"input_size": params["weight_ih_l0"].shape[1],
             "hidden_size": params["weight_hh_l0"].shape[1], "num_layers": len(forward),
             "bias": "bias_ih_l0" in params,
             "bidirectional": any("reverse" in key for key in params)}
    if "weight_hr_l0" in params:
        sizes.update(proj_size=params["weight_hr_l0"].shape[0],
                     hidden_size=params["weight_hr_l0"].shape[1])
    return sizes


def _is_state(part: object, n: int) -> bool:
    """Whether ``part`` is a recurrent state for ``n`` sequences: a ``(layers, n, hidden)``
    tensor, a pair of them (an LSTM's ``(h, c)``), or None."""
    if part is None:
        return True
    if isinstance(part, tuple | list):
        return bool(part) and all(_is_state(p, n) for p in part)
    return isinstance(part, torch.Tensor) and part.ndim == 3 and part.shape[1] == n


def _modules(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """``named_modules`` with TorchScript submodules of standard layers as eager twins."""
    return [(path, _eager(module)) for path, module in model.named_modules()]


def _last_module(model: nn.Module) -> tuple[str, nn.Module | None]:
    """The path and module of the model's last leaf module, dropout and identity left out
    (they do not change what the outputs are)."""
    leaves = [(path, m) for path, m in _modules(model) if not any(True for _ in m.children())
              and not isinstance(m, _SKIPPED + (nn.Identity,))]
    return leaves[-1] if leaves else ("", None)


#: Operations whose output holds values of their first argument unchanged (moved, indexed,
#: cast): the module whose output the model returns is found through them.
_VALUE_PRESERVING = {"getitem", "squeeze", "unsqueeze", "flatten", "view", "reshape",
                     "transpose", "permute", "contiguous", "float", "double", "to", "type_as",
                     "clone", "detach", "movedim", "swapaxes", "select", "narrow", "dropout"}


def _output_module(model: nn.Module) -> tuple[str, nn.Module | None]:
    """The path and module whose output is the model's output, found by ``torch.fx``: from
    the value ``forward`` returns (the first part of a tuple, as the adapter reads it) back
    through value-preserving operations (:data:`_VALUE_PRESERVING`), dropout and identity
    modules to the node that computes it. A module call is that module; any other operation
    (a functional ``torch.softmax``, an arithmetic op, the input itself) is no module:
    ``("", None)``. A model without submodules, or one that ``torch.fx`` cannot trace (control
    flow on values, TorchScript), is read by its last registered leaf module
    (:func:`_last_module`)."""
    if not any(True for _ in model.children()):
        return _last_module(model)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            graph = torch.fx.symbolic_trace(model).graph
    except Exception:  # noqa: BLE001 - a forward that torch.fx cannot follow
        return _last_module(model)
    node = next(node for node in graph.nodes if node.op == "output").args[0]
    while True:
        if isinstance(node, tuple | list) and node:
            node = node[0]
        if not isinstance(node, torch.fx.Node):
            return ("", None)
        if node.op == "call_module":
            module = _eager(model.get_submodule(node.target))
            if not isinstance(module, _SKIPPED + (nn.Identity,)):
                return (node.target, module)
        elif node.op not in ("call_function", "call_method") or \
                _op_name(node) not in _VALUE_PRESERVING:
            return ("", None)
        if not node.args:
            return ("", None)
        node = node.args[0]


def _every_module(model: nn.Module) -> str:
    """The model's leaf modules, as refusal messages list them."""
    leaves = [_label(path, f"Linear({module.in_features}, {module.out_features})"
                     if isinstance(module, nn.Linear) else
                     getattr(module, "original_name", None) or type(module).__name__)
              for path, module in _modules(model) if not any(True for _ in module.children())]
    return f". Modules of the model: {' -> '.join(leaves)}" if leaves else ""


class TorchAdapter(Adapter):
    """Reads a ``torch.nn.Module``: predictions and autograd gradients on the model's device."""

    gradient_kind = "autodiff"
    #: how a module declares its output kind itself (read by :meth:`model_output_kind`)
    kind_declaration = ("; or, if the model does return logits, declare it: "
                        "model.varimp_output_kind = 'logits'")

    def __init__(self, model: nn.Module):
        super().__init__(model)
        tensors = list(model.named_parameters()) + list(model.named_buffers())
        meta = [name for name, t in tensors if t.is_meta]
        if meta:
            raise UnsupportedModelError(
                f"{type(model).__name__} holds tensors on the meta device, which have a shape "
                f"but no values ({', '.join(meta[:5])}{', ...' if len(meta) > 5 else ''}); "
                "load its weights first, e.g. model.to_empty(device='cpu') then "
                "load_state_dict(...)")
        params = [t for _, t in tensors]
        floating = [p for p in params if p.is_floating_point()]
        self.device = floating[0].device if floating else torch.device("cpu")
        self.dtype = floating[0].dtype if floating else torch.get_default_dtype()
        modules = [module for _, module in _modules(model)]
        first_rnn = next((m for m in modules if isinstance(m, nn.RNNBase)
                          or hasattr(m, "varimp_layers")), None)
        #: the module that reads the input, taken to be the first one holding parameters
        first = next((m for m in modules if m is first_rnn or isinstance(m, nn.Flatten)
                      or any(True for _ in m.parameters(recurse=False))), None)
        #: the layout of sequences in and out of ``forward``: (input is time-major (T, n, p),
        #: the output's sample axis is 1); decided by a probe at the first 3-D input
        self.default_layout = (first_rnn is not None and not first_rnn.batch_first,) * 2
        self._layout: tuple[bool, bool] | None = None
        self._output_module: tuple[str, nn.Module | None] | None = None
        if first_rnn is not None and first is first_rnn:
            self.expected_input = (None, first_rnn.input_size)
        elif isinstance(first, nn.Linear) and first_rnn is None:
            self.expected_input = (first.in_features,)

    def output_module(self) -> tuple[str, nn.Module | None]:
        """The path and module whose output is the model's (:func:`_output_module`), found
        once per adapter."""
        if self._output_module is None:
            self._output_module = _output_module(self.model)
        return self._output_module

    def model_output_kind(self) -> str:
        """Probabilities when the module whose output the model returns
        (:meth:`output_module`, traced by ``torch.fx``: an attention ``Softmax`` or a gating
        ``Sigmoid`` inside ``forward`` is not it) is a ``Softmax`` or ``Sigmoid``, logits
        after a ``LogSoftmax``; anything else (a functional softmax in ``forward`` included)
        reads as regression values unless ``output_kind=`` says otherwise. A module that
        ``torch.fx`` cannot trace is read by its last registered leaf module. A module may
        declare its kind in an attribute ``varimp_output_kind`` (varimp's trainers do)."""
        declared = getattr(self.model, "varimp_output_kind", None)
        if declared is not None:
            from ..scoring import check_output_kind

            return check_output_kind(declared)
        _, last = self.output_module()
        if isinstance(last, nn.Softmax | nn.Sigmoid):
            return "probability"
        if isinstance(last, nn.LogSoftmax):
            return "logits"
        return "regression"

    def probability_source(self) -> str | None:
        if self.model_output_kind() != "probability":
            return None
        if getattr(self.model, "varimp_output_kind", None) is not None:
            return "it declares varimp_output_kind='probability'"
        path, last = self.output_module()
        return f"its output comes from module {_label(path, type(last).__name__)}, which " \
            "returns probabilities"

    @property
    def input_dtype(self) -> type:
        """The numpy dtype the model reads; batches built in it reach the model without a copy."""
        return {torch.float32: np.float32, torch.float16: np.float16}.get(self.dtype, np.float64)

    def layout(self, X: np.ndarray) -> tuple[bool, bool]:
        """How ``forward`` takes sequences: (input time-major, output's sample axis is 1).

        A module holding a ``batch_first=False`` recurrent layer may take PyTorch's layout
        ``(T, n, p)``, or transpose a batch-first input inside ``forward``; the code cannot say
        which. A probe decides, once: two random batches of ``n != T`` sequences that differ in
        their first sequence only are fed in each layout, the default first; the first layout
        in which some axis of the output has ``n`` entries, all but the first of them unchanged,
        is the one whose samples are the sequences. No parameter, mode or random state changes.
        A model that accepts neither layout keeps the default.
        """
        if X.ndim != 3:
            return (False, False)
        if self._layout is None:
            self._layout = self._probe_layout(X.shape[1:])
        return self._layout

    def _probe_layout(self, shape: tuple[int, int]) -> tuple[bool, bool]:
        steps = shape[0]
        n = 2 if steps != 2 else 3
        rng = np.random.default_rng(0)
        first = rng.normal(scale=0.5, size=(n, *shape))
        second = first.copy()
        second[0] = rng.normal(scale=0.5, size=shape)
        time_major = self.default_layout[0]
        with self.guard(), torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for candidate in (time_major, not time_major):
                try:
                    a, b = (self._raw_output(self.model(self._as_tensor(x, candidate)), n)
                            for x in (first, second))
                except Exception:  # noqa: BLE001 - this layout is not the module's
                    continue
                for axis in range(min(a.ndim, 2)):
                    if a.shape[axis] == n and a.shape == b.shape and torch.allclose(
                            a.narrow(axis, 1, n - 1), b.narrow(axis, 1, n - 1), rtol=1e-4,
                            atol=1e-6):
                        return (candidate, axis == 1)
        return self.default_layout

    def _as_tensor(self, X: np.ndarray, time_major: bool) -> torch.Tensor:
        x = torch.as_tensor(X, dtype=self.dtype, device=self.device)
        return x.transpose(0, 1) if time_major else x

    def _tensor(self, X: np.ndarray) -> torch.Tensor:
        return self._as_tensor(X, self.layout(X)[0])

    @staticmethod
    def _raw_output(out: object, n: int) -> torch.Tensor:
        """The output tensor of a forward pass on ``n`` sequences or rows. A tuple is read as
        ``(output, state)`` the way ``nn.RNN/LSTM/GRU`` return it (a state tensor is
        ``(layers, n, hidden)``, an LSTM's a pair of them); a tuple holding anything else, such
        as a second head, is refused rather than silently explained through its first part."""
        if not isinstance(out, tuple | list):
            return out
        if out and all(_is_state(part, n) for part in out[1:]):
            return out[0]
        shapes = ", ".join(str(tuple(part.shape)) if isinstance(part, torch.Tensor)
                           else type(part).__name__ for part in out)
        raise ModelError(
            f"the model's forward returned a {type(out).__name__} of {len(out)} parts "
            f"({shapes}); varimp explains one output tensor, or an "
            "(output, state) pair as recurrent layers return. Wrap the model so that forward "
            "returns the output to explain, or joins several heads with torch.cat(..., dim=-1)")

    def _output(self, out: object, X: np.ndarray, n: int) -> torch.Tensor:
        out = self._raw_output(out, n)
        return out.transpose(0, 1) if self.layout(X)[1] and out.ndim >= 2 else out

    def _predict_batch(self, X: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            out = self._output(self.model(self._tensor(X)), X, len(X))
        return out.detach().cpu().double().numpy()

    def gradient(self, X: np.ndarray, output: int, step: int | None = None,
                 batch_size: int | None = None,
                 on_rows: Callable[[float], object] | None = None) -> np.ndarray:
        with self.guard(), _no_cudnn_if_rnn(self.device):
            X = np.asarray(X)
            time_major = self.layout(X)[0]
            rows_axis = 1 if time_major else 0
            return autograd_gradient(lambda x: self._output(self.model(x), X, x.shape[rows_axis]),
                                     self._tensor, X,
                                     output, step, batch_size, time_major=time_major,
                                     per_step=self.per_step, on_rows=on_rows)

    def suffix_predictor(self) -> object | None:
        from .suffix import suffix_predictor

        return suffix_predictor(self, self.dtype, self.device)

    def tail_predictor(self) -> object | None:
        from .tail import tail_predictor

        return tail_predictor(self, self.dtype, self.device)

    def not_carried(self) -> list[str]:
        from .training import torch_not_carried

        return torch_not_carried(self.model)

    def network(self) -> Network:
        """The chain of layers of the module, proved by its predictions.

        TorchScript (``torch.jit.script`` or ``trace``, e.g. a loaded ``.pt``) is read like the
        eager module when its submodules are standard layers: each is read as the eager
        ``torch.nn`` layer with the same parameters and settings. A traced module keeps no
        settings: a layer that needs one (a LeakyReLU's slope, an RNN's nonlinearity) is
        refused. A ``torch.export`` program (``.pt2``) keeps its weights but not its layers
        and is refused.
        """
        layers: list = []
        exported = any(isinstance(m, torch.fx.GraphModule) for m in self.model.modules())
        for path, module in _modules(self.model):
            kind = getattr(module, "original_name", None) or type(module).__name__
            if len(list(module.children())) and not isinstance(module, nn.RNNBase):
                if kind not in ("Sequential", "ModuleList") and \
                        any(True for _ in module.parameters(recurse=False)):
                    raise UnsupportedModelError(
                        f"module {_label(path, kind)} holds its own parameters; weight-based "
                        f"methods cannot read it{_every_module(self.model)}")
                continue
            if isinstance(module, nn.Linear):
                layers.append(Dense(_numpy(module.weight, 0).T, _numpy(module.bias,
                                    module.out_features), name=_label(path, f"Linear("
                                    f"{module.in_features}, {module.out_features})")))
            elif isinstance(module, nn.RNNBase) and type(module) in _GATE_ORDER:
                layers.extend(_recurrent_layers(module, path))
            elif isinstance(module, nn.Flatten):
                layers.append(Flatten(name=_label(path, "Flatten")))
            elif hasattr(module, "varimp_layers"):  # a layer that describes itself
                layers.extend(module.varimp_layers())  # (varimp.modules.RecurrentLayer)
            elif isinstance(module, _SKIPPED):
                continue
            elif (name := _activation_name(module)) is not None:
                if name == "identity":
                    continue
                if not layers or not isinstance(layers[-1], Dense):
                    raise UnsupportedModelError(
                        f"activation {_label(path, kind)} does not follow a Linear layer; "
                        f"cannot read the network{_every_module(self.model)}")
                layers[-1] = layers[-1].followed_by(name)
            elif lost := _required(module):
                raise UnsupportedModelError(
                    f"layer {_label(path, kind)} of this traced TorchScript module keeps no "
                    f"{', '.join(lost)}, which its reading needs; save the model with "
                    f"torch.jit.script, which keeps them{_every_module(self.model)}")
            elif exported and type(module) is nn.Module:
                raise UnsupportedModelError(
                    "this is a torch.export program (.pt2): it keeps the weights but not the "
                    f"layers they belong to ({_label(path, 'Module')} holds "
                    f"{', '.join(n for n, _ in module.named_parameters())}), so the "
                    "weight-based methods cannot read it. Use a model-agnostic method, or save "
                    "the model with torch.jit.script (.pt), whose standard layers are read")
            else:
                raise UnsupportedModelError(
                    f"layer {_label(path, kind)} cannot be read by the weight-based methods "
                    "(supported: Linear, RNN, GRU, LSTM, Flatten, Dropout, elementwise "
                    f"activations){_every_module(self.model)}")
        if not layers:
            raise UnsupportedModelError(f"{type(self.model).__name__} has no Linear or recurrent "
                                        "layer to read")
        return resolve_network(layers, self)

    def forward_operations(self) -> list[str] | None:
        """The operations ``forward`` applies outside its modules, found by ``torch.fx``
        (:func:`forward_operations`); None when the module cannot be traced."""
        return forward_operations(self.model)

    @contextlib.contextmanager
    def guard(self) -> Iterator[None]:
        if getattr(self, "_guarded", False):  # re-entered (an engine guards a whole run)
            yield
            return
        modes = [(m, m.training) for m in self.model.modules()]
        try:
            self._guarded = True
            try:
                self.model.eval()
            except NotImplementedError:  # a torch.export program: its mode was fixed at export
                for module, _ in modes:
                    module.training = False
            yield
        finally:
            self._guarded = False
            for module, training in modes:
                module.training = training


#: Operations that move or index values without changing them; the reader follows them (a
#: squeezed step head, a last step, the layout) or the shape check reports them.
_NEUTRAL_OPS = {"getitem", "getattr", "size", "dim", "squeeze", "unsqueeze", "flatten", "view",
                "reshape", "transpose", "permute", "contiguous", "float", "double", "to",
                "type_as", "clone", "detach"}


def forward_operations(model: nn.Module) -> list[str] | None:
    """What ``model.forward`` computes outside its modules, as ``torch.fx`` traces it: each
    operation that changes values (``x * 2.0``, ``o.mean(1)``, ``torch.relu``, ``h + x``)
    written as a call whose arguments are the modules they take (``mul(hidden(...), 2.0)``,
    ``mean(rnn(...)[0], 1)``), in order. None when the module cannot be traced symbolically
    (control flow on values, a TorchScript module)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            graph = torch.fx.symbolic_trace(model).graph
    except Exception:  # noqa: BLE001 - a forward that torch.fx cannot follow
        return None

    def shown(arg: object) -> str:
        if not isinstance(arg, torch.fx.Node):
            return "(" + ", ".join(map(shown, arg)) + ")" if isinstance(arg, tuple) else \
                repr(arg)
        if arg.op == "placeholder":
            return arg.name
        if arg.op == "call_module":
            return f"{arg.target}(...)"
        if arg.op == "call_function" and _op_name(arg) == "getitem":
            return f"{shown(arg.args[0])}[{_index(arg.args[1])}]"
        return f"{_op_name(arg)}(...)"

    found = []
    for node in graph.nodes:
        if node.op not in ("call_function", "call_method") or _op_name(node) in _NEUTRAL_OPS:
            continue
        args = [shown(arg) for arg in node.args] + \
            [f"{key}={shown(value)}" for key, value in node.kwargs.items()]
        found.append(f"{_op_name(node)}({', '.join(args)})")
    return found


def _op_name(node: object) -> str:
    target = node.target
    return target if isinstance(target, str) else getattr(target, "__name__", str(target))


def _index(index: object) -> str:
    def one(part: object) -> str:
        if isinstance(part, slice):
            return ":".join("" if v is None else str(v)
                            for v in (part.start, part.stop)) if part.step is None else \
                f"{part.start or ''}:{part.stop or ''}:{part.step}"
        return "..." if part is Ellipsis else repr(part)

    return ", ".join(map(one, index)) if isinstance(index, tuple) else one(index)


def autograd_gradient(call, tensor, X: np.ndarray, output: int, step: int | None,
                      batch_size: int | None, *, time_major: bool = False,
                      per_step=None, on_rows=None) -> np.ndarray:
    """d(selected prediction) / dX by torch autograd, batch by batch, as float64 numpy.

    ``call(x)`` runs the model on a tensor made by ``tensor(X_batch)``; the selected quantity is
    ``pred[:, step, output]``, or its sum over the predicted steps when ``step`` is None, with
    the prediction in the canonical shape ``(n, n_steps, n_outputs)``: ``per_step(X_batch,
    out)`` says whether a 2-D output holds one value per step (the adapter's rule);
    ``on_rows(k)`` is told of every batch's ``k`` rows once done.
    """
    size = batch_rows(batch_size)
    grads = []
    with torch.inference_mode(False), torch.enable_grad():
        for start in range(0, X.shape[0], size):
            batch = X[start:start + size]
            x = tensor(batch).detach().requires_grad_(True)
            with model_errors(batch.shape):
                out = call(x)
            out = out.reshape(canonical_shape(tuple(out.shape), per_step is not None and
                                              per_step(batch, out)))
            selected = out[:, :, output] if step is None else out[:, step, output]
            (grad,) = torch.autograd.grad(selected.sum(), x)
            if time_major:
                grad = grad.transpose(0, 1)
            grads.append(grad.detach().cpu().double().numpy())
            if on_rows is not None:
                on_rows(len(batch))
    return np.concatenate(grads, axis=0)


@contextlib.contextmanager
def _no_cudnn_if_rnn(device: torch.device) -> Iterator[None]:
    """cuDNN cannot run an RNN backward pass in eval mode; disable it locally on CUDA only.

    Only ``enabled`` is switched and restored (``cudnn.flags`` would also reset the caller's
    ``benchmark``, ``deterministic`` and TF32 settings for the duration).
    """
    if device.type != "cuda":
        yield
        return
    enabled = torch.backends.cudnn.enabled
    torch.backends.cudnn.enabled = False
    try:
        yield
    finally:
        torch.backends.cudnn.enabled = enabled


def module_from_network(network: Network) -> nn.Module:
    """A float64 ``nn.Sequential`` twin of a dense :class:`Network` (used for exact gradients):
    each layer a ``Linear`` and the module of its activation, any activation of
    :data:`varimp.modules.TORCH_TABLE`, as the networks rebuilt in ``adapters.suffix`` read."""
    modules: list[nn.Module] = []
    for layer in network.layers:
        act = torch_module(layer.activation) if isinstance(layer, Dense) else None
        if act is None:
            raise UnsupportedModelError(f"cannot build a PyTorch twin of layer {layer.name}")
        linear = nn.utils.skip_init(nn.Linear, layer.n_in, layer.n_out, dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(layer.weight.T))
            linear.bias.copy_(torch.from_numpy(layer.bias))
        modules.extend([linear, act])
    return nn.Sequential(*modules).eval().requires_grad_(False)

