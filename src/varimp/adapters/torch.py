"""PyTorch adapter: predictions and gradients of a ``torch.nn.Module`` on its device; what the
module is made of is read by :mod:`varimp.adapters.torch_modules`."""

from __future__ import annotations

import contextlib
import inspect
import warnings
from collections.abc import Callable, Iterator

import numpy as np
import torch
from torch import nn
from torch.nn.utils import parametrize

from ..errors import InputError, ModelError, UnsupportedModelError
from ..network import Dense, Flatten, Network
from ..validation import SEVERAL_INPUTS
from .base import Adapter, batch_rows, canonical_shape, check_rows, model_errors
from .structure import resolve_network
from .torch_modules import (
    READ_ACTIVATIONS,
    SKIPPED,
    activation_name,
    as_numpy,
    batch_statistics_layers,
    every_module,
    has_submodules,
    kept_buffers,
    leaf_modules_of,
    module_label,
    modules_in_call_order,
    output_module_of,
    recurrent_cell,
    recurrent_layers,
    required_settings,
    traced_forward,
    weight_of,
)


def _is_state(part: object, n: int) -> bool:
    """Whether ``part`` is a recurrent state for ``n`` sequences: a ``(layers, n, hidden)``
    tensor, a pair of them (an LSTM's ``(h, c)``), or None."""
    if part is None:
        return True
    if isinstance(part, tuple | list):
        return bool(part) and all(_is_state(p, n) for p in part)
    return isinstance(part, torch.Tensor) and part.ndim == 3 and part.shape[1] == n


def _check_one_input(model: nn.Module) -> None:
    """Refuse a module whose ``forward`` requires several arguments (several inputs): varimp
    calls it with one tensor. A ``forward`` whose signature cannot be read passes."""
    try:
        parameters = inspect.signature(model.forward).parameters.values()
    except (TypeError, ValueError):  # a TorchScript method or a builtin: nothing to read
        return
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD,
             inspect.Parameter.KEYWORD_ONLY)
    required = [p.name for p in parameters if p.kind in kinds and p.default is p.empty]
    if len(required) > 1:
        raise UnsupportedModelError(
            f"{type(model).__name__}.forward takes {len(required)} inputs "
            f"({', '.join(required)}); {SEVERAL_INPUTS}")


class TorchAdapter(Adapter):
    """Reads a ``torch.nn.Module``: predictions and autograd gradients on the model's device."""

    gradient_kind = "autodiff"
    #: how a module declares its output kind itself (read by :meth:`model_output_kind`)
    kind_declaration = ("; or, if the model does return logits, declare it: "
                        "model.varimp_output_kind = 'logits'")
    cast_dtype = property(lambda self: self.dtype)  # X becomes a tensor of the module's dtype

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
        if batch := batch_statistics_layers(model):
            raise UnsupportedModelError(
                f"layer {batch[0]} is a BatchNorm with track_running_stats=False: it "
                "normalises each row by the mean and variance of the batch the row comes in, "
                "in evaluation mode too, so a row's prediction depends on the other rows of "
                "its batch (it changes with batch_size, and a batch of one row fails) and the "
                "importance of an input to it is not defined. Keep running statistics "
                "(track_running_stats=True, the default) and train the model again, or "
                "replace the layer by a normalisation of each row (nn.LayerNorm)")
        params = [t for _, t in tensors]
        floating = [p for p in params if p.is_floating_point()]
        self.device = floating[0].device if floating else torch.device("cpu")
        self.dtype = floating[0].dtype if floating else torch.get_default_dtype()
        _check_one_input(model)
        self._layout: tuple[bool, bool] | None = None
        self._output_module: tuple[str, nn.Module | None] | None = None
        #: whether the input expected was read from the modules in the order forward calls
        #: them (read on a refusal by the registration order only: :meth:`check_input`)
        self._read_in_call_order = False
        self._read_input(leaf_modules_of(model))

    def _read_input(self, modules: list[tuple[str, nn.Module]]) -> None:
        """The input expected, read from the first module of ``modules`` that holds
        parameters (or is a Flatten or a recurrent layer), and the default layout of
        sequences, read from the first recurrent layer."""
        found = [module for _, module in modules]
        first_rnn = next((m for m in found if isinstance(m, nn.RNNBase)
                          or hasattr(m, "varimp_layers")), None)
        first = next((m for m in found if m is first_rnn or isinstance(m, nn.Flatten)
                      or any(True for _ in m.parameters(recurse=False))), None)
        #: the layout of sequences in and out of ``forward``: (input is time-major (T, n, p),
        #: the output's sample axis is 1); decided by a probe at the first 3-D input
        self.default_layout = (first_rnn is not None and not first_rnn.batch_first,) * 2
        #: the features of a first Linear layer with no recurrent layer after it: a table
        #: (n, features), unless the module reads sequences through it (:meth:`check_input`)
        self._linear_features: int | None = None
        self._reads_sequences: bool | None = None
        self.expected_input = None
        if first_rnn is not None and first is first_rnn:
            self.expected_input = (None, first_rnn.input_size)
        elif isinstance(first, nn.Linear) and first_rnn is None:
            self.expected_input = (first.in_features,)
            self._linear_features = first.in_features

    def check_input(self, X: np.ndarray) -> None:
        """As :meth:`Adapter.check_input`. A module whose first layer is a ``Linear`` with no
        recurrent layer reads a table, unless it reads sequences: ``nn.Linear`` acts on the
        last axis of an input of any rank, so a transformer or attention model with an input
        projection reads ``(n, T, features)``. Sequences are refused only for a module that
        treats each step as a row of its own, as a chain of Linear layers and activations
        does (its output on ``(n, T, p)`` is its output on the ``n * T`` steps as rows:
        the message says to pass the steps as rows) (:meth:`_probe_sequences`, once; a
        module that raises on them is called anyway, so that its own error is reported).

        The first layer is first read in the order the modules are registered, which may
        not be the order ``forward`` calls them (an output layer declared first, an unused
        auxiliary head). A shape refused by it is checked again by the first layer called,
        as ``torch.fx`` traces the calls (a trace kept per model); a module that cannot be
        traced is refused only when it fails on two rows of X too, with its own error."""
        found = self._shape_refusal(X)
        if found is None:
            return
        message, proved = found
        if not proved and not self._read_in_call_order:
            self._read_in_call_order = True
            traced = self._traced()
            if traced is not None:  # a chain of torch.nn layers, or the calls traced
                if traced[1] is not None:
                    self._read_input(modules_in_call_order(self.model, traced[1]))
                    found = self._shape_refusal(X)
                if found is not None:
                    raise InputError(found[0])
                return
            error = self._call_error(X[:2])
            if error is None:  # the first layer registered is not the one reading X
                self._read_input([])
                return
            lines = [line.strip() for line in str(error).splitlines() if line.strip()]
            said = lines[-1] if lines else ""  # TorchScript puts its traceback first
            raise InputError(f"{message} (judged by its first layer registered, as forward may "
                             f"call another first; the model raised {type(error).__name__} on "
                             f"it: {said})") from error
        raise InputError(message)

    def _shape_refusal(self, X: np.ndarray) -> tuple[str, bool] | None:
        """Why X does not fit the input expected, and whether a call of the model proved it
        (sequences read as rows: :meth:`_probe_sequences`); None when it fits."""
        features = self._linear_features
        if features is not None and X.ndim == 3:
            if self._reads_sequences is None:
                self._reads_sequences = self._probe_sequences(X.shape[1], features)
            if self._reads_sequences:
                if X.shape[2] != features:
                    return (f"the model expects input of shape (n, T, {features}); received X "
                            f"of shape {X.shape}", False)
                return None
            if X.shape[2] == features:
                return (f"this model reads a table (n, features); received X of shape "
                        f"{X.shape}. Its first layer is a Linear and it reads every time step "
                        "as a row of its own (its output on (n, T, p) is its output on the "
                        "n * T steps as rows): pass the steps as rows, "
                        f"X.reshape(-1, {features}), with y likewise", True)
        try:
            super().check_input(X)
        except InputError as refusal:
            return (str(refusal), False)
        return None

    def _call_error(self, X: np.ndarray) -> Exception | None:
        """The exception the model raises on ``X``, None when it returns."""
        with self.guard(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                self._predict_batch(X)
            except Exception as error:  # noqa: BLE001 - reported by the caller
                return error
        return None

    def _probe_sequences(self, steps: int, features: int) -> bool:
        """Whether the module reads sequences ``(n, steps, features)`` as sequences: it
        accepts them, and its output is not that of each step read as a row."""
        n = 2
        x = torch.as_tensor(np.random.default_rng(0).normal(scale=0.5, size=(n, steps,
                                                                           features)),
                            dtype=self.dtype, device=self.device)
        with self.guard(), torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                whole = self._raw_output(self.model(x), n)
            except Exception:  # noqa: BLE001 - the model's own call will say why
                return True
            if not isinstance(whole, torch.Tensor) or whole.ndim < 2 or \
                    tuple(whole.shape[:2]) != (n, steps):
                return True
            try:
                rows = self._raw_output(self.model(x.reshape(n * steps, features)), n * steps)
            except Exception:  # noqa: BLE001 - it cannot read the steps as rows
                return True
            return not (isinstance(rows, torch.Tensor) and rows.numel() == whole.numel()
                        and torch.allclose(rows.reshape(whole.shape), whole, rtol=1e-4,
                                           atol=1e-6))

    def output_module(self) -> tuple[str, nn.Module | None]:
        """The path and module whose output is the model's (:func:`output_module_of`), found
        once per adapter."""
        if self._output_module is None:
            self._output_module = output_module_of(self.model)
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
        return f"its output comes from module {module_label(path, type(last).__name__)}, which " \
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
        if isinstance(X, np.ndarray) and not X.flags.writeable:
            # a read-only array (pandas 3 gives them): a copy, as torch.as_tensor warns that
            # it does not support non-writable arrays
            x = torch.tensor(X, dtype=self.dtype, device=self.device)
        else:
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
        if isinstance(out, dict):
            keys = ", ".join(map(repr, list(out)[:5])) + (", ..." if len(out) > 5 else "")
            raise ModelError(
                f"the model's forward returned a {type(out).__name__} (keys {keys}); varimp "
                "explains one output tensor. Wrap the model so that forward returns the output "
                "to explain (e.g. forward(x)[key]), or joins several heads with "
                "torch.cat(..., dim=-1)")
        if not isinstance(out, tuple | list):
            if not isinstance(out, torch.Tensor):
                raise ModelError(
                    f"the model's forward returned a {type(out).__name__}; varimp explains one "
                    "output tensor. Wrap the model so that forward returns the output to "
                    "explain as a torch.Tensor")
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
        """As :meth:`Adapter.gradient`, by autograd. Parameters made or loaded under
        ``torch.inference_mode()`` are refused at once (autograd cannot differentiate through
        them); buffers made so (BatchNorm running statistics) break autograd only where an
        operation saves them for the backward pass, so they are named when the model fails
        on that."""
        inference = [name for name, p in self.model.named_parameters() if p.is_inference()]
        if inference:
            raise ModelError(_inference_message(self.model, "parameters", inference))
        with self.guard(), _no_cudnn_if_rnn(self.device):
            X = np.asarray(X)
            time_major = self.layout(X)[0]
            rows_axis = 1 if time_major else 0
            try:
                return autograd_gradient(
                    lambda x: self._output(self.model(x), X, x.shape[rows_axis]), self._tensor,
                    X, output, step, batch_size, time_major=time_major,
                    per_step=self.per_step, on_rows=on_rows)
            except ModelError as error:
                buffers = [name for name, b in self.model.named_buffers() if b.is_inference()]
                if buffers and "Inference tensors" in str(error):
                    raise ModelError(_inference_message(self.model, "buffers", buffers)) \
                        from error
                raise

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

        The modules are read in the order ``forward`` calls them, as ``torch.fx`` traces it
        (:func:`modules_in_call_order`): one activation module applied after every layer is
        read after every layer, a module never called is not read. A module that cannot be
        traced (control flow on values, TorchScript) is read in the order its modules are
        registered, which the check against its predictions then proves or refuses.
        TorchScript (``torch.jit.script`` or ``trace``, e.g. a loaded ``.pt``) is read like the
        eager module when its submodules are standard layers: each is read as the eager
        ``torch.nn`` layer with the same parameters and settings. A traced module keeps no
        settings: a layer that needs one (a LeakyReLU's slope, an RNN's nonlinearity) is
        refused. A ``torch.export`` program (``.pt2``) keeps its weights but not its layers
        and is refused. Weights are read in eval mode with the buffers kept (:meth:`guard`):
        a layer under ``torch.nn.utils.parametrizations`` (weight_norm, spectral_norm,
        orthogonal; a recurrent layer's weights included) is read through its ``weight``, the
        effective weight its forward uses, and one under the old-style hooks
        (``torch.nn.utils.weight_norm``) as its hook computes it (:func:`weight_of`); reading
        runs no power iteration. A BatchNorm without running statistics is refused by every
        method (:class:`TorchAdapter`'s constructor).
        """
        with self.guard():
            return self._read_network()

    def _read_network(self) -> Network:
        layers: list = []
        exported = any(isinstance(m, torch.fx.GraphModule) for m in self.model.modules())
        traced = self._traced()
        for path, module in modules_in_call_order(self.model, traced and traced[1]):
            kind = getattr(module, "original_name", None) or \
                parametrize.type_before_parametrizations(module).__name__
            if has_submodules(module) and not isinstance(module, nn.RNNBase):
                if kind not in ("Sequential", "ModuleList") and \
                        any(True for _ in module.parameters(recurse=False)):
                    raise UnsupportedModelError(
                        f"module {module_label(path, kind)} holds its own parameters; weight-based "
                        f"methods cannot read it{every_module(self.model)}")
                continue
            if isinstance(module, nn.Linear):
                layers.append(Dense(as_numpy(weight_of(module), 0).T,
                                    as_numpy(weight_of(module, "bias"), module.out_features),
                                    name=module_label(path, f"Linear({module.in_features}, "
                                                      f"{module.out_features})"),
                                    has_bias=module.bias is not None))
            elif recurrent_cell(module) is not None:
                layers.extend(recurrent_layers(module, path))
            elif isinstance(module, nn.Flatten):
                layers.append(Flatten(name=module_label(path, "Flatten")))
            elif hasattr(module, "varimp_layers"):  # a layer that describes itself
                layers.extend(module.varimp_layers())  # (varimp.modules.RecurrentLayer)
            elif isinstance(module, SKIPPED):
                continue
            elif (name := activation_name(module, module_label(path, kind))) is not None:
                if name == "identity":
                    continue
                if not layers or not isinstance(layers[-1], Dense):
                    raise UnsupportedModelError(
                        f"activation {module_label(path, kind)} does not follow a Linear layer; "
                        f"cannot read the network{every_module(self.model)}")
                layers[-1] = layers[-1].followed_by(name)
            elif lost := required_settings(module):
                raise UnsupportedModelError(
                    f"layer {module_label(path, kind)} of this traced TorchScript module keeps no "
                    f"{', '.join(lost)}, which its reading needs; save the model with "
                    f"torch.jit.script, which keeps them{every_module(self.model)}")
            elif exported and type(module) is nn.Module:
                raise UnsupportedModelError(
                    "this is a torch.export program (.pt2): it keeps the weights but not the "
                    f"layers they belong to ({module_label(path, 'Module')} holds "
                    f"{', '.join(n for n, _ in module.named_parameters())}), so the "
                    "weight-based methods cannot read it. Use a model-agnostic method, or save "
                    "the model with torch.jit.script (.pt), whose standard layers are read")
            else:
                raise UnsupportedModelError(
                    f"layer {module_label(path, kind)} cannot be read by the weight-based methods "
                    "(supported: Linear, RNN, GRU, LSTM, Flatten, Dropout, and the activations "
                    f"{READ_ACTIVATIONS}){every_module(self.model)}")
        if not layers:
            raise UnsupportedModelError(f"{type(self.model).__name__} has no Linear or recurrent "
                                        "layer to read")
        return resolve_network(layers, self)

    def forward_operations(self) -> list[str] | None:
        """The operations ``forward`` applies to its input outside its modules, found by
        ``torch.fx`` (:func:`varimp.adapters.torch_modules.forward_operations`); None when the
        module cannot be traced. Any of them turns off the weight reader
        (:func:`varimp.adapters.structure.resolve_network`) and with it the rebuilt networks
        of the perturbation engine's fast paths."""
        traced = self._traced()
        return None if traced is None else list(traced[0])

    def _traced(self) -> tuple[tuple[str, ...], tuple[str, ...] | None] | None:
        """The model's ``torch.fx`` trace, summed up (:func:`traced_forward`), once per
        adapter."""
        if not hasattr(self, "_trace"):
            self._trace = traced_forward(self.model)
        return self._trace

    #: Seed of the torch random numbers the model's own forward draws (MC dropout, noise):
    #: one stream per adapter, i.e. per method call, started from this seed.
    torch_seed = 0

    def seed_draws(self, seed: int) -> None:
        self.torch_seed = int(seed) % 2**63
        self._stream = None

    @contextlib.contextmanager
    def guard(self) -> Iterator[None]:
        """Eval mode, and the model's random draws and buffers kept to this call.

        Every module is put in eval mode; the buffers (each tensor and its values) are
        snapshot and put back on exit, exception or interrupt included, so that a ``forward``
        that writes them (a call counter, a running mean updated in any mode) leaves them as
        they were; and the model runs under :func:`torch.random.fork_rng` (the CPU and, for a
        model on a GPU, its device) on a stream of its own, seeded by :attr:`torch_seed` at the
        first entry and continued by later ones: a ``forward`` that draws random numbers (MC
        dropout, ``torch.randn`` noise) gives the same predictions on every call with the same
        settings, and the caller's global torch random state is left as it was. Costs one
        copy of the buffers and of the generator states per outermost entry (an engine enters
        once per run, a prediction once per call), not per batch.
        """
        if getattr(self, "_guarded", False):  # re-entered (an engine guards a whole run)
            yield
            return
        modes = [(m, m.training) for m in self.model.modules()]
        try:
            self._guarded = True
            with kept_buffers(self.model), torch.random.fork_rng(devices=self._rng_devices()):
                self._enter_stream()
                try:
                    self.model.eval()
                except NotImplementedError:  # a torch.export program: its mode is fixed
                    for module, _ in modes:
                        module.training = False
                try:
                    yield
                finally:
                    self._stream = self._stream_states()
        finally:
            self._guarded = False
            for module, training in modes:
                module.training = training

    def _rng_devices(self) -> list[torch.device]:
        """The GPU whose generator the model draws from besides the CPU's, if any."""
        return [self.device] if self.device.type == "cuda" and torch.cuda.is_available() \
            else []

    def _stream_states(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The states of the generators the model draws from: CPU, and its GPU if any."""
        cuda = [torch.cuda.get_rng_state(device) for device in self._rng_devices()]
        return torch.get_rng_state(), cuda[0] if cuda else None

    def _enter_stream(self) -> None:
        """Start the model's stream from :attr:`torch_seed`, or continue it where the last
        guarded call left it (inside :func:`torch.random.fork_rng`: globals untouched)."""
        stream = getattr(self, "_stream", None)
        if stream is None:
            torch.random.default_generator.manual_seed(self.torch_seed)
            for device in self._rng_devices():
                with torch.cuda.device(device):
                    torch.cuda.manual_seed(self.torch_seed)
            return
        torch.set_rng_state(stream[0])
        if stream[1] is not None:
            torch.cuda.set_rng_state(stream[1], self.device)


def _inference_message(model: nn.Module, what: str, names: list[str]) -> str:
    """Why autograd cannot run through ``model``, whose ``what`` (parameters or buffers)
    ``names`` are inference tensors, and what to do."""
    return (f"the {what} of {type(model).__name__} are inference tensors "
            f"({', '.join(names[:5])}{', ...' if len(names) > 5 else ''}), made or loaded "
            "under torch.inference_mode(), and autograd cannot differentiate through them. "
            "Create or load the model outside torch.inference_mode() (torch.no_grad() has no "
            "such limit), or replace them by clones made outside it: "
            "model.load_state_dict({k: v.clone() for k, v in model.state_dict().items()}, "
            "assign=True)")


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
            check_rows(tuple(out.shape), len(batch))
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
