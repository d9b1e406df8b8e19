"""Saved models as ``varimp run`` reads them (see :mod:`varimp.loaders`)."""

from __future__ import annotations

import contextlib
import logging
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from ._files import check_file, first_line

#: Model file suffixes and what they hold.
MODEL_FORMATS = {
    ".keras": "Keras 3 model (safe mode)",
    ".pt2": "PyTorch program (torch.export)",
    ".pt": "TorchScript module",
    ".pth": "TorchScript module",
    ".onnx": "ONNX model (onnxruntime)",
    ".skops": "scikit-learn model (skops)",
    ".pkl": "pickle",
    ".pickle": "pickle",
    ".joblib": "joblib pickle",
}
#: Why a pickle-based file is refused without --trust-pickle.
_PICKLE_RISK = ("loading an untrusted pickle can run arbitrary code on this computer; pass "
                "--trust-pickle only for a file you made or trust")


@dataclass
class LoadedModel:
    """A model read from a file.

    Attributes
    ----------
    model : object
        What the adapters accept: a ``torch.nn.Module``, a Keras model, a scikit-learn
        estimator or a callable ``f(X) -> predictions``.
    format : str
        What the file held (one of :data:`MODEL_FORMATS`'s values).
    summary : str
        The model's class and layers, in a line.
    input_shape : tuple or None
        The input shape the model declares without the batch axis (``(p,)`` or ``(T, p)``),
        ``None`` entries for free sizes; None when the file does not say.
    """

    model: Any
    format: str
    summary: str
    input_shape: tuple[int | None, ...] | None = None



def load_model(path: Path, *, trust_pickle: bool = False, trust: Sequence[str] = ()
               ) -> LoadedModel:
    """Read a saved model by its file suffix (see the module docstring).

    Parameters
    ----------
    path : Path
        The model file.
    trust_pickle : bool
        Allow files that can run code when they are loaded: pickle-based files (``.pkl``,
        ``.joblib``, a full ``torch.save``), every type in a ``.skops`` file, and the Python
        code of a ``.keras`` file's ``Lambda`` layers (Keras' ``safe_mode=False``).
    trust : sequence of str
        Further types to trust in a ``.skops`` file (scikit-learn's own are always trusted).

    Returns
    -------
    LoadedModel

    Raises
    ------
    InputError
        A missing or unreadable file, an unknown suffix, a pickle or a ``.keras`` file holding
        Python code without ``trust_pickle``, or a ``.skops`` file holding types nobody
        trusted.
    """
    check_file(path, "model")
    suffix = path.suffix.lower()
    if suffix not in MODEL_FORMATS:
        raise InputError(f"model file {path} has suffix {suffix!r}; supported: "
                         f"{', '.join(MODEL_FORMATS)}")
    loader = {".pt2": _exported, ".onnx": _onnx}.get(suffix)
    try:
        if loader is not None:
            return loader(path)
        if suffix == ".keras":
            return _keras(path, trust_pickle)
        if suffix == ".skops":
            return _skops(path, trust_pickle, trust)
        if suffix in (".pt", ".pth") and _is_torchscript(path):
            return _torchscript(path)
        if not trust_pickle:
            what = "a full torch.save pickle, not TorchScript" if suffix in (".pt", ".pth") \
                else "a pickle"
            raise InputError(f"model file {path} is {what}: refused without --trust-pickle, "
                             f"because {_PICKLE_RISK}")
        return _pickle(path, suffix)
    except InputError:
        raise
    except Exception as exc:  # every framework's own error on a file it cannot read
        raise InputError(f"cannot read model file {path} as a {MODEL_FORMATS[suffix]}: "
                         f"{type(exc).__name__}: {first_line(exc)}") from exc


def _keras(path: Path, trust_pickle: bool) -> LoadedModel:
    from ..frameworks import import_keras

    keras = import_keras()
    try:
        model = keras.saving.load_model(path, safe_mode=not trust_pickle)
    except TypeError as exc:
        missing = re.search(r"Could not locate class '([^']+)'", str(exc))
        if missing is None:
            raise
        registered = re.search(r"'registered_name': '([^']+>[^']+)'", str(exc))
        named = f" (registered as {registered.group(1)!r})" if registered else ""
        raise InputError(
            f"model file {path} holds a model of the user-defined Keras class "
            f"{missing.group(1)!r}{named}, which Keras rebuilds only when the code defining "
            "it has been imported, and `varimp run` cannot import your code. Use the Python "
            "API: in a script, import the module that defines the class (so that its "
            "@keras.saving.register_keras_serializable runs), load the model with "
            "keras.saving.load_model, then call varimp.importance or varimp.compare on it") \
            from exc
    except ValueError as exc:
        if "safe_mode=False" not in str(exc):
            raise
        raise InputError(f"model file {path} holds Python code (a Lambda layer's function), "
                         "which Keras' safe mode does not load: refused without --trust-pickle, "
                         "because that code can do anything on this computer; pass "
                         "--trust-pickle only for a file you made or trust") from exc
    layers = " -> ".join(f"{type(layer).__name__}({_keras_units(layer)})".replace("()", "")
                         for layer in model.layers)
    shape = tuple(model.inputs[0].shape[1:]) if getattr(model, "inputs", None) else None
    form = "Keras 3 model (safe mode off: --trust-pickle)" if trust_pickle else \
        MODEL_FORMATS[".keras"]
    return LoadedModel(model, form, f"{type(model).__name__}: {layers}", shape)


def _keras_units(layer: Any) -> str:
    return str(getattr(layer, "units", ""))


def _exported(path: Path) -> LoadedModel:
    import torch

    with _logged("torch.export") as records:
        try:
            program = torch.export.load(path)
        except Exception as exc:
            raise InputError(_not_exported(path, exc, records)) from exc
    names = set(program.graph_signature.user_inputs)
    inputs = [node.meta["val"] for node in program.graph.nodes
              if node.op == "placeholder" and node.name in names]
    if len(inputs) != 1:
        raise InputError(f"model file {path} is a program of {len(inputs)} inputs; varimp "
                         "runs models of one input array")
    dims = [dim if isinstance(dim, int) else None for dim in inputs[0].shape]
    module = program.module()
    calls = sorted({str(node.target).split(".")[-2] for node in program.graph.nodes
                    if node.op == "call_function" and str(node.target).count(".") >= 2})
    summary = f"exported program calling {', '.join(calls)}"
    if dims and dims[0] is not None:
        module = _fixed_batch_module(module, dims[0])
        summary += f"; exported for batches of {dims[0]} rows, run in chunks of that size"
    return LoadedModel(module, MODEL_FORMATS[".pt2"], summary, tuple(dims[1:]))


@contextlib.contextmanager
def _logged(name: str) -> Iterator[list[logging.LogRecord]]:
    """The records the logger ``name`` emits in the block, collected instead of printed."""
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger(name)
    handlers, propagate = logger.handlers, logger.propagate  # torch gives it a stderr handler
    logger.handlers, logger.propagate = [Collect()], False
    try:
        yield records
    finally:
        logger.handlers, logger.propagate = handlers, propagate


#: The advice torch appends to every error reading a zip archive (a .pt2), dropped from the
#: error's first line, which comes before it whole.
MINIZ_ADVICE = "This is an internal miniz error."


def _not_exported(path: Path, exc: Exception, records: Sequence[logging.LogRecord]) -> str:
    """Why ``torch.export.load`` could not read ``path``: the error torch logged (its own
    exception only says to look at the log), and what the file is when it is TorchScript."""
    start = f"model file {path} is not a program saved by torch.export.save (.pt2)"
    if _is_torchscript(path):
        return f"{start}: it is a TorchScript module (torch.jit.save); name it .pt to run it"
    causes = [record.exc_info[1] for record in records
              if record.exc_info and record.exc_info[1] is not None]
    cause = causes[0] if causes else exc
    said = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
    said = said.split(MINIZ_ADVICE)[0].strip()  # torch's advice on any unreadable archive
    return f"{start}: {type(cause).__name__}: {said if len(said) <= 300 else said[:297] + '...'}"


def _fixed_batch_module(program: Any, rows: int) -> Any:
    """``program`` (exported for batches of exactly ``rows`` rows) as a module of any batch.

    The input is cut into chunks of ``rows`` rows; the last chunk is filled up with copies of
    its last row and their predictions dropped. Rows do not see each other in inference, so
    every prediction is the one the program gives that row, and gradients flow through.
    """
    import torch

    class FixedBatch(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.program = program

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            parts = []
            for start in range(0, x.shape[0], rows):
                chunk = x[start:start + rows]
                missing = rows - chunk.shape[0]
                if missing:
                    chunk = torch.cat([chunk, chunk[-1:].expand(missing, *chunk.shape[1:])])
                parts.append(self.program(chunk)[:rows - missing])
            return torch.cat(parts)

    return FixedBatch()


def _is_torchscript(path: Path) -> bool:
    """A TorchScript archive holds its code; a ``torch.save`` archive holds a pickle only."""
    try:
        with zipfile.ZipFile(path) as archive:
            return any("/code/" in name for name in archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


def _torchscript(path: Path) -> LoadedModel:
    import torch

    module = torch.jit.load(str(path), map_location="cpu")
    children = ", ".join(f"{name}: {child.original_name}"
                         for name, child in module.named_children())
    return LoadedModel(module, MODEL_FORMATS[".pt"],
                       f"{module.original_name}({children})")


class OnnxModel:
    """An ONNX model run by onnxruntime as a callable ``f(X) -> predictions``.

    The model's one input receives ``X`` in the input's element type (float32 for most
    exports); the predictions are its first floating-point output.
    """

    def __init__(self, path: Path):
        import onnxruntime

        self.session = onnxruntime.InferenceSession(str(path),
                                                    providers=["CPUExecutionProvider"])
        inputs = self.session.get_inputs()
        if len(inputs) != 1:
            raise InputError(f"model file {path} has {len(inputs)} inputs "
                             f"{[i.name for i in inputs]}; varimp runs models of one input")
        self.input = inputs[0].name
        self.dtype = {"tensor(double)": np.float64, "tensor(float16)": np.float16}.get(
            inputs[0].type, np.float32)
        outputs = [o for o in self.session.get_outputs()
                   if o.type in ("tensor(float)", "tensor(double)", "tensor(float16)")]
        if not outputs:
            raise InputError(f"model file {path} has no floating-point output")
        self.output = outputs[0].name
        self.input_shape = tuple(d if isinstance(d, int) else None for d in inputs[0].shape[1:])
        #: Rows of every call where the graph fixes its batch size (chunks, the last filled up
        #: with copies of its last row), else None.
        self.rows = inputs[0].shape[0] if isinstance(inputs[0].shape[0], int) else None

    def __call__(self, X: np.ndarray) -> np.ndarray:
        X = np.ascontiguousarray(X, dtype=self.dtype)
        if self.rows is None:
            return self.session.run([self.output], {self.input: X})[0]
        parts = []
        for start in range(0, X.shape[0], self.rows):
            chunk = X[start:start + self.rows]
            missing = self.rows - chunk.shape[0]
            if missing:
                chunk = np.concatenate([chunk, np.repeat(chunk[-1:], missing, axis=0)])
            parts.append(self.session.run([self.output], {self.input: chunk})[0][:self.rows
                                                                                  - missing])
        return np.concatenate(parts)


def _onnx(path: Path) -> LoadedModel:
    model = OnnxModel(path)
    ops = sorted({node.op_type for node in _onnx_nodes(path)})
    summary = f"ONNX graph ({', '.join(ops)}); output {model.output!r}" if ops else \
        f"ONNX graph; output {model.output!r}"
    if model.rows is not None:
        summary += f"; exported for batches of {model.rows} rows, run in chunks of that size"
    return LoadedModel(model, MODEL_FORMATS[".onnx"], summary, model.input_shape)


def _onnx_nodes(path: Path) -> list[Any]:
    """The graph's nodes where the ``onnx`` package is installed (it is optional)."""
    try:
        import onnx
    except ImportError:
        return []
    return list(onnx.load(str(path), load_external_data=False).graph.node)


def _skops(path: Path, trust_pickle: bool, trust: Sequence[str]) -> LoadedModel:
    import skops.io

    untrusted = skops.io.get_untrusted_types(file=path)
    allowed = [name for name in untrusted
               if name.split(".")[0] == "sklearn" or name in trust or trust_pickle]
    refused = sorted(set(untrusted) - set(allowed))
    if refused:
        raise InputError(f"model file {path} holds types that are not scikit-learn's own: "
                         f"{refused}; loading them runs their code: pass --trust TYPE for each "
                         "type you trust")
    model = skops.io.load(path, trusted=allowed)
    shape = (int(model.n_features_in_),) if hasattr(model, "n_features_in_") else None
    return LoadedModel(model, MODEL_FORMATS[".skops"], _sklearn_summary(model), shape)


def _sklearn_summary(model: Any) -> str:
    sizes = getattr(model, "hidden_layer_sizes", None)
    if sizes is not None:
        return f"{type(model).__name__}(hidden_layer_sizes={sizes}, " \
               f"activation={getattr(model, 'activation', '?')!r})"
    return type(model).__name__


def _pickle(path: Path, suffix: str) -> LoadedModel:
    if suffix in (".pt", ".pth"):
        import torch

        model = torch.load(path, map_location="cpu", weights_only=False)
    else:
        import joblib

        model = joblib.load(path)
    shape = (int(model.n_features_in_),) if hasattr(model, "n_features_in_") else None
    return LoadedModel(model, MODEL_FORMATS[suffix], _sklearn_summary(model), shape)
