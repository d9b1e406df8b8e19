"""What a ``torch.nn.Module`` is made of, read for the PyTorch adapter: its leaf modules
(TorchScript submodules as eager twins), its activations and recurrent layers as
:mod:`varimp.network` layers, the module that produces its output and the operations its
``forward`` applies outside its modules (both as ``torch.fx`` traces them), and the float64
``nn.Sequential`` twin of a dense network."""

from __future__ import annotations

import contextlib
import threading
import warnings
import weakref
from collections.abc import Iterator

import numpy as np
import torch
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.spectral_norm import SpectralNorm as _SpectralNorm
from torch.nn.utils.weight_norm import WeightNorm as _WeightNorm

from ..errors import UnsupportedModelError
from ..modules import torch_module
from ..network import GATES, Dense, Network, Recurrent, neutral_name


def _prelu(module: nn.PReLU, label: str) -> str:
    """A PReLU as a leaky ReLU: one slope, shared by every unit (``num_parameters=1``, or all
    equal); per-unit slopes that differ are refused."""
    slopes = np.unique(module.weight.detach().cpu().double().numpy())
    if slopes.size != 1:
        raise UnsupportedModelError(
            f"activation {label} has {slopes.size} different slopes, one per unit; the "
            "weight-based methods read one activation function for every unit of a layer, so "
            "a PReLU is read (as a leaky ReLU) only when its slopes are one value")
    return f"leaky_relu:{float(slopes[0])!r}"


#: Activation modules and their neutral names (:mod:`varimp.network`), read from their settings.
#: A class is read only as itself (``ReLU6`` is a ``Hardtanh`` subclass with its own entry).
#: An ``RReLU`` in evaluation mode is a leaky ReLU of slope ``(lower + upper) / 2``.
_READERS: dict[type, object] = {
    nn.Identity: "identity", nn.ReLU: "relu", nn.ReLU6: "relu6", nn.Tanh: "tanh",
    nn.Sigmoid: "sigmoid", nn.Hardsigmoid: "hard_sigmoid", nn.Hardswish: "hard_silu",
    nn.SELU: "selu", nn.SiLU: "silu", nn.Mish: "mish", nn.Softsign: "softsign",
    nn.LogSigmoid: "log_sigmoid", nn.Tanhshrink: "tanh_shrink", nn.Softmax: "softmax",
    nn.LogSoftmax: "log_softmax",
    nn.GELU: lambda m: "gelu_tanh" if m.approximate == "tanh" else "gelu",
    nn.LeakyReLU: lambda m: f"leaky_relu:{float(m.negative_slope)!r}",
    nn.RReLU: lambda m: f"leaky_relu:{(m.lower + m.upper) / 2.0!r}",
    nn.PReLU: "leaky_relu",  # one slope, read by _prelu
    nn.ELU: lambda m: neutral_name("elu", m.alpha),
    nn.CELU: lambda m: neutral_name("celu", m.alpha),
    nn.Softplus: lambda m: neutral_name("softplus", m.beta, m.threshold),
    nn.Hardtanh: lambda m: neutral_name("hard_tanh", m.min_val, m.max_val),
    nn.Softshrink: lambda m: neutral_name("soft_shrink", m.lambd),
    nn.Hardshrink: lambda m: neutral_name("hard_shrink", m.lambd),
    nn.Threshold: lambda m: neutral_name("threshold", m.threshold, m.value),
}
#: The activation modules read, as refusal messages list them.
READ_ACTIVATIONS = ", ".join(kind.__name__ for kind in _READERS)
SKIPPED = (nn.Dropout, nn.AlphaDropout)
#: The recurrent layers of ``torch.nn`` read, and their cells (gate order: :data:`GATES`).
RECURRENT_CELLS = {nn.RNN: "rnn", nn.LSTM: "lstm", nn.GRU: "gru"}


def recurrent_cell(module: nn.Module) -> type | None:
    """The recurrent class of ``torch.nn`` (:data:`RECURRENT_CELLS`) a module is, under any
    parametrization of its weights (``torch.nn.utils.parametrizations.orthogonal``); None for
    any other module, a subclass included (its forward may differ)."""
    kind = parametrize.type_before_parametrizations(module)
    return kind if kind in RECURRENT_CELLS else None


def activation_name(module: nn.Module, label: str = "PReLU") -> str | None:
    """The neutral activation name of an activation module (:data:`_READERS`), None for any
    other module; ``label`` names the module in a refusal."""
    if type(module) is nn.PReLU:
        return _prelu(module, label)
    reader = _READERS.get(type(module))
    return reader(module) if callable(reader) else reader


def module_label(path: str, what: str) -> str:
    """A module as messages name it: its attribute path in the model, then what it is."""
    return f"{path!r} {what}" if path else what


def weight_of(module: nn.Module, name: str = "weight") -> torch.Tensor | None:
    """The tensor ``name`` of a module (None if it has none) as its next forward will use it.
    The old-style ``torch.nn.utils.weight_norm`` and ``spectral_norm`` recompute it in a
    forward pre-hook, so the attribute holds the value of the last forward, stale after a
    change of ``weight_g`` / ``weight_v`` / ``weight_orig``: it is computed here as the hook
    computes it (without power iteration, as in eval mode), and the module is left as it
    is."""
    for hook in module._forward_pre_hooks.values():
        if isinstance(hook, _WeightNorm | _SpectralNorm) and hook.name == name:
            with torch.no_grad():
                return hook.compute_weight(module) if isinstance(hook, _WeightNorm) else \
                    hook.compute_weight(module, do_power_iteration=False)
    return getattr(module, name, None)


def as_numpy(param: torch.Tensor | None, shape: int) -> np.ndarray:
    if param is None:
        return np.zeros(shape)
    return param.detach().cpu().double().numpy().copy()


def recurrent_layers(module: nn.RNNBase, path: str) -> list[Recurrent]:
    """The layers of an ``nn.RNN``, ``nn.LSTM`` or ``nn.GRU`` (:func:`recurrent_cell`), one
    per stacked layer, from the weights its forward uses (a parametrized weight as its
    parametrization computes it)."""
    name = parametrize.type_before_parametrizations(module).__name__
    if module.bidirectional:
        raise UnsupportedModelError(f"layer {name} is bidirectional; weight-based methods read "
                                    "one-directional recurrent layers only")
    if getattr(module, "proj_size", 0):
        raise UnsupportedModelError(f"layer {name} has proj_size; weight-based methods cannot "
                                    "read projected LSTMs")
    cell = RECURRENT_CELLS[recurrent_cell(module)]
    gates = GATES[cell]
    units = module.hidden_size
    activation = module.nonlinearity if cell == "rnn" else "tanh"
    layers = []
    for k in range(module.num_layers):
        blocks = {}
        for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            param = weight_of(module, f"{kind}_l{k}")
            full = as_numpy(param, units * len(gates))
            blocks[kind] = {g: full[j * units:(j + 1) * units] for j, g in enumerate(gates)}
        layers.append(Recurrent(
            cell=cell,
            w_input={g: w.T for g, w in blocks["weight_ih"].items()},
            w_recurrent={g: w.T for g, w in blocks["weight_hh"].items()},
            b_input=blocks["bias_ih"], b_recurrent=blocks["bias_hh"],
            activation=activation, recurrent_activation="sigmoid", return_sequences=True,
            name=f"{module_label(path, name)}[layer {k}]",
        ))
    return layers


#: Settings of the standard modules that a TorchScript twin copies. A traced module keeps
#: none: where a wrong default could go unseen by the check against the predictions (an
#: activation that differs for negative inputs only) the layer is refused (``required_settings``);
#: a default dimension of Flatten or Softmax is assumed, as a wrong one changes every value.
_SETTINGS = {"LeakyReLU": ("negative_slope",), "ELU": ("alpha",), "CELU": ("alpha",),
             "GELU": ("approximate",), "Softplus": ("beta", "threshold"),
             "Hardtanh": ("min_val", "max_val"), "Softshrink": ("lambd",),
             "Hardshrink": ("lambd",), "Threshold": ("threshold", "value"),
             "RReLU": ("lower", "upper"), "RNN": ("nonlinearity",), "Softmax": ("dim",),
             "LogSoftmax": ("dim",), "Flatten": ("start_dim", "end_dim")}
_DEFAULTED = {"dim", "start_dim", "end_dim"}
_SCRIPTED = {"Linear", "RNN", "GRU", "LSTM", "Flatten", "Dropout", "AlphaDropout", "Identity",
             "Softmax", "LogSoftmax", *(kind.__name__ for kind in _READERS)}


def required_settings(module: nn.Module) -> list[str]:
    """Settings a TorchScript module of a standard layer lost that cannot be defaulted."""
    name = getattr(module, "original_name", None)
    return [key for key in _SETTINGS.get(name, ()) if key not in _DEFAULTED
            and not hasattr(module, key)]


def _eager(module: nn.Module) -> nn.Module:
    """A TorchScript submodule (``torch.jit.script`` or ``trace``, saved or not) that is a
    standard layer, as the eager ``torch.nn`` module it was compiled from: same class, same
    parameters and settings. Any other module, and one whose settings were lost
    (:func:`required_settings`), is returned as it is."""
    name = getattr(module, "original_name", None)
    if not isinstance(module, torch.jit.ScriptModule) or name not in _SCRIPTED or \
            required_settings(module):
        return module
    params = dict(module.named_parameters(recurse=False))
    settings = {key: getattr(module, key) for key in (*_SETTINGS.get(name, ()), "batch_first")
                if hasattr(module, key)}
    # a layer with parameters is built on the meta device and then given memory, with
    # parameters left uninitialised (as nn.utils.skip_init, which the recurrent layers'
    # constructors do not take): no random draw from the caller's global generator
    where = {key: getattr(first, key) for first in list(params.values())[:1]
             for key in ("dtype", "device")}

    def uninitialised(kind: type, *args: object, **kwargs: object) -> nn.Module:
        built = kind(*args, **kwargs, device="meta", dtype=where["dtype"])
        return built.to_empty(device=where["device"])

    try:
        if name == "Linear":
            out_features, in_features = params["weight"].shape
            twin = uninitialised(nn.Linear, in_features, out_features, bias="bias" in params)
        elif name == "PReLU":
            twin = uninitialised(nn.PReLU, params["weight"].numel())
        elif name in ("RNN", "GRU", "LSTM"):
            twin = uninitialised(getattr(nn, name), **_recurrent_sizes(params), **settings)
        else:
            twin = getattr(nn, name)(**settings)
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


def leaf_modules_of(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """``named_modules`` with TorchScript submodules of standard layers as eager twins, and
    without the parametrizations of a layer (``torch.nn.utils.parametrizations.weight_norm``,
    ``spectral_norm``): such a layer is read through its ``weight``, the effective weight
    they compute."""
    hidden = tuple(f"{path}.parametrizations." if path else "parametrizations."
                   for path, module in model.named_modules() if parametrize.is_parametrized(module))
    return [(path, _eager(module)) for path, module in model.named_modules()
            if not f"{path}.".startswith(hidden)]


#: The batch normalisation layers of ``torch.nn``, as a TorchScript module names its original.
_BATCH_NORMS = {"BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm",
                "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d"}


def batch_statistics_layers(model: nn.Module) -> list[str]:
    """The BatchNorm layers of the model that normalise by the statistics of the batch in
    evaluation mode too (``track_running_stats=False``: no running mean and variance), as
    messages name them: the instances of ``torch.nn``'s BatchNorm classes, and TorchScript
    modules compiled from one of them (:data:`_BATCH_NORMS`), without running statistics.
    A module is never judged by its class name alone: a user's block holding a BatchNorm
    with running statistics, or a normalisation of their own by stored statistics, is no
    such layer."""
    found = []
    for path, module in model.named_modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            name, batch = type(module).__name__, \
                module.running_mean is None and module.running_var is None
        elif isinstance(module, torch.jit.ScriptModule) and \
                getattr(module, "original_name", None) in _BATCH_NORMS:
            name = module.original_name
            batch = "running_mean" not in dict(module.named_buffers(recurse=False))
        else:
            continue
        if batch:
            found.append(module_label(path, name))
    return found


def has_submodules(module: nn.Module) -> bool:
    """Whether the module holds other modules, the parametrizations of its weights left out
    (:func:`leaf_modules_of`)."""
    return any(name != "parametrizations" or not parametrize.is_parametrized(module)
               for name, _ in module.named_children())


def _last_module(model: nn.Module) -> tuple[str, nn.Module | None]:
    """The path and module of the model's last leaf module, dropout and identity left out
    (they do not change what the outputs are)."""
    leaves = [(path, m) for path, m in leaf_modules_of(model) if not has_submodules(m)
              and not isinstance(m, SKIPPED + (nn.Identity,))]
    return leaves[-1] if leaves else ("", None)


#: Operations that move, index or cast values without changing them otherwise; the reader
#: follows them (a squeezed step head, a last step, the layout) or the shape check reports them.
_NEUTRAL_OPS = {"getitem", "getattr", "size", "dim", "squeeze", "unsqueeze", "flatten", "view",
                "reshape", "transpose", "permute", "contiguous", "float", "double", "half",
                "bfloat16", "to", "type", "type_as", "clone", "detach"}


#: Operations whose output holds values of their first argument unchanged (moved, indexed,
#: cast): the module whose output the model returns is found through them. The neutral
#: operations less those that return no tensor, and a few more moves and dropout (an identity
#: in inference).
_VALUE_PRESERVING = (_NEUTRAL_OPS - {"getattr", "size", "dim"}) | {
    "movedim", "swapaxes", "select", "narrow", "dropout"}


def output_module_of(model: nn.Module) -> tuple[str, nn.Module | None]:
    """The path and module whose output is the model's output, found by ``torch.fx``: from
    the value ``forward`` returns (the first part of a tuple, as the adapter reads it) back
    through value-preserving operations (:data:`_VALUE_PRESERVING`), dropout and identity
    modules to the node that computes it. A module call is that module; any other operation
    (a functional ``torch.softmax``, an arithmetic op, the input itself) is no module:
    ``("", None)``. A model without submodules, or one that ``torch.fx`` cannot trace (control
    flow on values, TorchScript), is read by its last registered leaf module
    (:func:`_last_module`), and so is a chain of ``nn.Sequential`` (all the way down), whose
    last leaf module computes its output: no trace is needed there."""
    if all(isinstance(m, nn.Sequential) for m in model.modules()
           if any(True for _ in m.children())):
        return _last_module(model)
    graph = _fx_graph(model)
    if graph is None:  # a forward that torch.fx cannot follow
        return _last_module(model)
    node = next(node for node in graph.nodes if node.op == "output").args[0]
    while True:
        if isinstance(node, tuple | list) and node:
            node = node[0]
        if not isinstance(node, torch.fx.Node):
            return ("", None)
        if node.op == "call_module":
            module = _eager(model.get_submodule(node.target))
            if not isinstance(module, SKIPPED + (nn.Identity,)):
                return (node.target, module)
        elif node.op not in ("call_function", "call_method") or \
                _op_name(node) not in _VALUE_PRESERVING:
            return ("", None)
        if not node.args:
            return ("", None)
        node = node.args[0]


def _fx_graph(model: nn.Module) -> torch.fx.Graph | None:
    """The graph ``torch.fx`` traces from the model, or None when it cannot trace it.

    The model is traced in eval mode (a ``F.dropout(x, training=self.training)`` reads as the
    identity it is in inference), with its buffers (:func:`kept_buffers`) and the global torch
    random state kept: tracing runs the Python of ``forward``, which may write a buffer
    (``self.calls += 1``) or draw a number. Modes are restored afterwards.

    The trace runs in a thread of its own. torch.fx leaves frames that reference themselves
    (``Proxy.__iter__``, which unpacks ``h, _ = self.rnn(x)``, keeps ``inspect.currentframe()``),
    and a frame kept alive keeps every frame that called it, so a trace run here would keep
    the caller's locals (a method's X and its cast) until the garbage collector runs; in a
    thread the kept frames reach only the thread's own.
    """
    graphs: list[torch.fx.Graph] = []

    def trace() -> None:
        modes = [(m, m.training) for m in model.modules()]
        try:
            with warnings.catch_warnings(), kept_buffers(model), \
                    torch.random.fork_rng(devices=[]):
                warnings.simplefilter("ignore")
                for module, _ in modes:
                    module.training = False
                graphs.append(torch.fx.symbolic_trace(model).graph)
        except Exception:  # noqa: BLE001 - a forward that torch.fx cannot follow
            pass
        finally:
            for module, training in modes:
                module.training = training

    thread = threading.Thread(target=trace, name="varimp torch.fx trace")
    thread.start()
    thread.join()
    return graphs.pop() if graphs else None


@contextlib.contextmanager
def kept_buffers(model: nn.Module) -> Iterator[None]:
    """Every buffer of the model put back on exit (exception or interrupt included): the same
    tensor under its name, with the values it had on entry, where a ``forward`` replaced or
    wrote it (a call counter, a running mean updated in any mode)."""
    saved = [(module, name, tensor, tensor.clone()) for module in model.modules()
             for name, tensor in module._buffers.items() if tensor is not None]
    try:
        yield
    finally:
        with torch.no_grad():
            for module, name, tensor, values in saved:
                module._buffers[name] = tensor
                if not torch.equal(tensor, values):
                    tensor.copy_(values)


def every_module(model: nn.Module) -> str:
    """The model's leaf modules, as refusal messages list them."""
    leaves = [module_label(path, f"Linear({module.in_features}, {module.out_features})"
                     if isinstance(module, nn.Linear) else
                     getattr(module, "original_name", None) or type(module).__name__)
              for path, module in leaf_modules_of(model)
              if not has_submodules(module)]
    return f". Modules of the model: {' -> '.join(leaves)}" if leaves else ""




#: Operations whose result says nothing about the values of their argument (its shape, dtype,
#: device, or a fresh tensor of that shape): the data path stops there.
_METADATA_OPS = {"size", "dim", "numel", "new_zeros", "new_ones", "new_empty", "new_full",
                 "zeros_like", "ones_like", "empty_like", "full_like"}
_METADATA_ATTRIBUTES = {"shape", "dtype", "device", "ndim", "is_cuda", "layout",
                        "requires_grad"}
#: Operations on the data path that pass values on unchanged (moved, indexed, cast, split or
#: joined again), which the weight reader and the rebuilt networks of ``adapters.tail`` /
#: ``adapters.suffix`` follow or the check of the predictions reports: a rearrangement that
#: the layers read do not follow (columns swapped by an index or a ``torch.cat``) changes the
#: predictions of any generic row, not only of extreme ones. Any other operation may change
#: values in a way those checks cannot show (a clamp that bites only beyond the probes).
_PURE_OPS = (_NEUTRAL_OPS - {"size", "dim"}) | {
    "movedim", "moveaxis", "swapaxes", "swapdims", "select", "narrow", "t", "view_as",
    "reshape_as", "unbind", "chunk", "split", "tensor_split", "hsplit", "vsplit",
    "index_select", "cat", "concat", "concatenate", "stack", "hstack", "vstack"}
_DROPOUTS = {"dropout", "alpha_dropout", "feature_alpha_dropout", "dropout1d", "dropout2d",
             "dropout3d"}


def forward_operations(model: nn.Module) -> list[str] | None:
    """What ``model.forward`` computes from its input outside its modules, as ``torch.fx``
    traces it (in eval mode): each operation on the data path (fed by the input, not only by
    its shape) other than a move, an index, a cast, a split or a concatenation
    (:data:`_PURE_OPS`), written as a call
    whose arguments are the modules they take (``clamp(x, -1.5, 1.5)``, ``mul(hidden(...),
    2.0)``, ``mean(rnn(...)[0], 1)``, ``dropout(tanh(...), 0.5, training=True)``), in order.
    A dropout is listed only when it drops in inference (``training=True``, MC dropout). Empty
    when ``forward`` is a chain of modules; None when the module cannot be traced
    symbolically (control flow on values, a TorchScript module). A ``torch.nn`` layer given
    as the model itself (an ``nn.Linear``) has none: its own computation is what is read."""
    traced = traced_forward(model)
    return None if traced is None else list(traced[0])


def modules_in_call_order(model: nn.Module, called: tuple[str, ...] | None
                          ) -> list[tuple[str, nn.Module]]:
    """The model's modules in the order its ``forward`` calls them: ``called``, their paths
    as ``torch.fx`` traced them (:func:`traced_forward`), where a module called twice (one
    ``nn.Tanh()`` applied after every layer) is listed twice, one never called is not listed,
    and a module whose parameters ``forward`` reads itself rather than calling it is listed
    where it first reads one. TorchScript submodules of standard layers come as eager twins
    (:func:`_eager`). Without ``called``, a chain of ``torch.nn`` layers
    (:func:`_chain_of_torch_layers`) comes in the order its ``nn.Sequential`` containers run
    their children, a module held twice (one ``nn.Tanh()`` after every layer) listed at each
    place (:func:`_sequential_order`); any other module (one that ``torch.fx`` cannot trace)
    in the order its modules are registered (:func:`leaf_modules_of`)."""
    if called is None:
        return _sequential_order(model) if _chain_of_torch_layers(model) else \
            leaf_modules_of(model)
    return [(path, _eager(model.get_submodule(path))) for path in called]


def _sequential_order(model: nn.Module, prefix: str = "") -> list[tuple[str, nn.Module]]:
    """The modules of a chain of ``torch.nn`` layers in the order its forward runs them, as
    :func:`leaf_modules_of` lists them but with every ``nn.Sequential`` walked through its
    children in order, a child held twice listed twice."""
    if type(model) is not nn.Sequential:
        return [(f"{prefix}.{path}" if prefix and path else prefix or path, module)
                for path, module in leaf_modules_of(model)]
    found = [(prefix, model)]
    for name, child in model._modules.items():
        if child is not None:
            found.extend(_sequential_order(child, f"{prefix}.{name}" if prefix else name))
    return found


def traced_forward(model: nn.Module) -> tuple[tuple[str, ...], tuple[str, ...] | None] | None:
    """The operations of ``forward`` outside its modules (:func:`forward_operations`) and the
    paths of its modules in the order it calls them (:func:`modules_in_call_order`), from one
    ``torch.fx`` trace kept per model (:data:`_TRACED`); None when the model cannot be traced.
    A chain of ``torch.nn`` layers (:func:`_chain_of_torch_layers`) is not traced: no
    operation, and its ``nn.Sequential`` containers give its call order (``None`` for the
    paths: :func:`modules_in_call_order`)."""
    if _chain_of_torch_layers(model):
        return ((), None)
    key = _forward_key(model)
    try:
        kept = _TRACED.get(model)
    except TypeError:  # a module that cannot be referenced weakly: traced every time
        return _traced_operations(model)
    if kept is not None and kept[0] == key:
        return kept[1]
    found = _traced_operations(model)
    _TRACED[model] = (key, found)
    return found


#: The operations last traced of each model (:func:`forward_operations`), with the key of the
#: Python its ``forward`` runs (:func:`_forward_key`): a model is traced once while that key
#: holds, not once per method call (a trace costs a few milliseconds, as much as a whole run
#: of permutation importance on a small MLP). Weak: a model's entry goes with the model. A
#: trace kept past a change the key misses is caught by the checks against the model
#: (:func:`_forward_key`).
_TRACED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _chain_of_torch_layers(model: nn.Module, top: bool = True) -> bool:
    """Whether ``model`` is a layer of ``torch.nn`` without layers of its own, or a
    ``torch.nn.Sequential`` of ``torch.nn`` layers (at any depth): its forward applies its
    layers in order and nothing else, and ``torch.fx``, which traces into the model itself
    but treats the ``torch.nn`` layers inside it as leaves, would find no operation outside
    them."""
    if type(model) is nn.Sequential:
        return all(_chain_of_torch_layers(child, top=False) for child in model.children())
    return type(model).__module__.startswith("torch.nn.") and not (top and has_submodules(model))


def _forward_key(model: nn.Module) -> tuple:
    """What the traced operations of ``model`` can depend on besides tensor values, which
    ``torch.fx`` does not read: every module's class and its plain attributes (a flag such as
    ``self.clip = True``, a number, a settings dict, a function set on the instance), and the
    globals the Python of its classes reads (a module-level ``CLIP = True``), as
    :func:`_attribute_key` keys them.

    What ``forward`` reads beyond those (a setting nested deeper than ``_KEYED_DEPTH``, an
    attribute of a large object) is not in the key, so a trace may be stale; that is made
    harmless by the checks of the layers read and of the rebuilt networks against the
    model's own predictions, which run every time they are used, traced or not (on a wide
    probe, on rows beyond the range of X and on the first perturbed rows:
    :func:`varimp.adapters.structure.resolve_network`, :mod:`varimp.adapters.tail`,
    :mod:`varimp.adapters.suffix`), and catch such an operation wherever those rows reach it."""
    key = []
    for name, module in model.named_modules():
        attributes = tuple(
            (attr, _attribute_key(value))
            for attr, value in sorted(vars(module).items())
            if attr not in _MODULE_STATE)
        key.append((name, type(module), attributes))
    classes = dict.fromkeys(type(module) for module in model.modules())
    return tuple(key), tuple(_globals_key(kind) for kind in classes)


def _globals_key(kind: type) -> tuple:
    """The globals (and closure cells) that the functions of a module class, and of its bases
    outside torch, name in their code, with their :func:`_attribute_key`; torch's own classes
    read none that a user sets."""
    found: dict[str, object] = {}
    for klass in kind.__mro__:
        if klass.__module__.startswith("torch.") or klass is object:
            continue
        for value in vars(klass).values():
            function = value.fget if isinstance(value, property) else \
                getattr(value, "__func__", value)
            code = getattr(function, "__code__", None)
            if code is None:
                continue
            space = getattr(function, "__globals__", {})
            for name in _code_names(code):
                if name in space and name not in found:
                    found[name] = _attribute_key(space[name])
            for k, cell in enumerate(getattr(function, "__closure__", None) or ()):
                try:
                    found.setdefault(f"{function.__qualname__}<cell {k}>",
                                     _attribute_key(cell.cell_contents))
                except ValueError:  # an empty cell
                    continue
    return tuple(sorted(found.items(), key=lambda item: item[0]))


def _code_names(code: object) -> set[str]:
    """The global and attribute names a code object uses, with those of the functions and
    lambdas defined inside it."""
    names = set(code.co_names)
    for const in code.co_consts:
        if hasattr(const, "co_names"):
            names |= _code_names(const)
    return names


_PLAIN = (bool, int, float, complex, str, bytes, type(None))
#: The most items, and the deepest nesting, of a container keyed by its contents.
_KEYED_ITEMS, _KEYED_DEPTH = 64, 3
#: The most items keyed by contents within one attribute, nested ones included.
_KEYED_BUDGET = 256


def _attribute_key(value: object, depth: int = 0, budget: list[int] | None = None) -> object:
    """An attribute's value as :func:`_forward_key` keys it: numbers, strings and None by
    value; a dict, list, tuple or set, and an object that is not callable (a settings object,
    a small Python module) by its contents, up to ``_KEYED_ITEMS`` items, nested up to
    ``_KEYED_DEPTH`` deep, so that one changed in place (``self.cfg["cap"] = 0.8``) is seen;
    a tensor by identity and its version counter, which every in-place write (``fill_``,
    ``copy_``, ``t[0] = 1``) advances; anything else by identity. ``budget``: the items
    left to key by contents (``_KEYED_BUDGET`` per attribute), beyond which identity."""
    budget = [_KEYED_BUDGET] if budget is None else budget
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, torch.Tensor):
        return ("tensor", id(value), value._version)
    kind = type(value)
    if depth >= _KEYED_DEPTH:
        return (kind, id(value))
    inner = depth + 1
    if kind in (dict, list, tuple, set, frozenset) and len(value) <= min(_KEYED_ITEMS, budget[0]):
        budget[0] -= len(value)
        if kind is dict:
            return (kind, tuple((_attribute_key(k, inner, budget),
                                 _attribute_key(v, inner, budget)) for k, v in value.items()))
        items = tuple(_attribute_key(item, inner, budget) for item in value)
        return (kind, frozenset(items) if kind in (set, frozenset) else items)
    contents = getattr(value, "__dict__", None)
    if isinstance(contents, dict) and not callable(value) and \
            len(contents) <= min(_KEYED_ITEMS, budget[0]):
        budget[0] -= len(contents)
        return (kind, id(value), tuple((attr, _attribute_key(item, inner, budget))
                                       for attr, item in list(contents.items())))
    return (kind, id(value))


#: The attributes of every ``nn.Module`` that hold its state rather than settings of forward.
_MODULE_STATE = {"_parameters", "_buffers", "_modules", "_non_persistent_buffers_set",
                 "_forward_hooks", "_forward_pre_hooks", "_backward_hooks",
                 "_backward_pre_hooks", "_state_dict_hooks", "_load_state_dict_pre_hooks",
                 "_load_state_dict_post_hooks", "_state_dict_pre_hooks",
                 "_forward_hooks_with_kwargs", "_forward_pre_hooks_with_kwargs",
                 "_forward_hooks_always_called", "_is_full_backward_hook", "training"}


def _traced_operations(model: nn.Module) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """:func:`traced_forward` by a trace of ``model`` (no shortcut, no memory)."""
    graph = _fx_graph(model)
    if graph is None:
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

    data: set[torch.fx.Node] = set()
    found: list[str] = []
    calls: list[tuple[str, str]] = []
    for node in graph.nodes:
        if node.op in ("call_module", "get_attr"):
            _note_module(node, model, calls)
        if node.op == "placeholder":
            data.add(node)
            continue
        if node.op == "output" or not any(n in data for n in node.all_input_nodes):
            continue
        name = _op_name(node)
        if node.op in ("call_function", "call_method") and (
                name in _METADATA_OPS or name == "getattr" and len(node.args) > 1
                and node.args[1] in _METADATA_ATTRIBUTES):
            continue
        data.add(node)
        if node.op not in ("call_function", "call_method") or name in _PURE_OPS or \
                name in _DROPOUTS and not _drops(node):
            continue
        args = [shown(arg) for arg in node.args] + \
            [f"{key}={shown(value)}" for key, value in node.kwargs.items()]
        found.append(f"{name}({', '.join(args)})")
    called = {node.target for node in graph.nodes if node.op == "call_module"}
    return tuple(found), tuple(path for path, how in calls if how == "call_module"
                               or path not in called)


def _note_module(node: torch.fx.Node, model: nn.Module, calls: list[tuple[str, str]]) -> None:
    """Note in ``calls`` (path, how) the module a traced node calls (every call), or the
    module holding the parameter it reads (once: its first read)."""
    if node.op == "call_module":
        calls.append((node.target, node.op))
        return
    path = node.target.rpartition(".")[0]
    try:
        model.get_parameter(node.target)
    except AttributeError:  # a buffer or a constant: not a layer's weight
        return
    if all(path != kept for kept, _ in calls):
        calls.append((path, node.op))


def _drops(node: torch.fx.Node) -> bool:
    """Whether a traced dropout call drops values: its ``training`` argument (the third, as
    in ``F.dropout(x, p, training)``; True when not given) is not False."""
    training = node.kwargs.get("training", node.args[2] if len(node.args) > 2 else True)
    return training is not False


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
