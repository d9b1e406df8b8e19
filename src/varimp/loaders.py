"""Saved models and data files as ``varimp run`` reads them.

Models (by file suffix), each loaded into something :func:`varimp.adapters.adapt` accepts:

- ``.keras``: :func:`keras.saving.load_model` with ``safe_mode=True`` (no Python lambdas);
- ``.pt2``: a program saved by :func:`torch.export.save`, run as
  ``torch.export.load(path).module()``;
- ``.pt`` / ``.pth``: TorchScript (:func:`torch.jit.load`); a full ``torch.save`` pickle only
  with ``trust_pickle``;
- ``.onnx``: an :class:`onnxruntime.InferenceSession` wrapped as a callable ``f(X)`` (the
  model-agnostic methods; weights are not read);
- ``.skops``: :func:`skops.io.load`, trusting scikit-learn's own types and those the user names;
- ``.pkl``, ``.pickle``, ``.joblib``: only with ``trust_pickle`` (loading a pickle runs any code
  it holds).

Data: CSV, Parquet (tables, or a long table of sequences pivoted by id and time), ``.npy`` and
``.npz`` (``X`` and optional ``y``, or a single array). Every problem is an
:class:`~varimp.InputError` whose message names the file and what was expected.
"""

from __future__ import annotations

import types
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import InputError

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
#: Data file suffixes.
DATA_FORMATS = (".csv", ".parquet", ".pq", ".npy", ".npz")
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


@dataclass
class Data:
    """Inputs and targets read from a data file.

    Attributes
    ----------
    X : ndarray
        ``(n, p)`` tables or ``(n, T, p)`` sequences, float64.
    y : ndarray or None
        Targets: ``(n,)``, or ``(n, T)`` for a long table whose target changes over time.
    feature_names : list of str
    facts : dict
        What was read, for the report (label -> value).
    targets_per_step : bool
        ``y`` holds one target per time step of a long table, whichever the model predicts.
    """

    X: np.ndarray
    y: np.ndarray | None
    feature_names: list[str]
    facts: dict[str, str] = field(default_factory=dict)
    targets_per_step: bool = False


# -- models -----------------------------------------------------------------------------------
def load_model(path: Path, *, trust_pickle: bool = False, trust: Sequence[str] = ()
               ) -> LoadedModel:
    """Read a saved model by its file suffix (see the module docstring).

    Parameters
    ----------
    path : Path
        The model file.
    trust_pickle : bool
        Allow pickle-based files (``.pkl``, ``.joblib``, a full ``torch.save``), and every type
        in a ``.skops`` file.
    trust : sequence of str
        Further types to trust in a ``.skops`` file (scikit-learn's own are always trusted).

    Returns
    -------
    LoadedModel

    Raises
    ------
    InputError
        A missing or unreadable file, an unknown suffix, a pickle without ``trust_pickle``,
        or a ``.skops`` file holding types nobody trusted.
    """
    _check_file(path, "model")
    suffix = path.suffix.lower()
    if suffix not in MODEL_FORMATS:
        raise InputError(f"model file {path} has suffix {suffix!r}; supported: "
                         f"{', '.join(MODEL_FORMATS)}")
    loader = {".keras": _keras, ".pt2": _exported, ".onnx": _onnx}.get(suffix)
    try:
        if loader is not None:
            return loader(path)
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
                         f"{type(exc).__name__}: {_first_line(exc)}") from exc


def _keras(path: Path) -> LoadedModel:
    from .frameworks import import_keras

    keras = import_keras()
    model = keras.saving.load_model(path, safe_mode=True)
    layers = " -> ".join(f"{type(layer).__name__}({_keras_units(layer)})".replace("()", "")
                         for layer in model.layers)
    shape = tuple(model.inputs[0].shape[1:]) if getattr(model, "inputs", None) else None
    return LoadedModel(model, MODEL_FORMATS[".keras"], f"{type(model).__name__}: {layers}",
                       shape)


def _keras_units(layer: Any) -> str:
    return str(getattr(layer, "units", ""))


def _exported(path: Path) -> LoadedModel:
    import torch

    program = torch.export.load(path)
    names = set(program.graph_signature.user_inputs)
    inputs = [node.meta["val"] for node in program.graph.nodes
              if node.op == "placeholder" and node.name in names]
    if len(inputs) != 1:
        raise InputError(f"model file {path} is a program of {len(inputs)} inputs; varimp "
                         "runs models of one input array")
    dims = [dim if isinstance(dim, int) else None for dim in inputs[0].shape]
    module = program.module()
    # The training mode of an exported program is fixed when it is exported; the adapters set
    # eval mode around every call, which torch refuses on a program: make it a plain flag.
    module.train = types.MethodType(torch.nn.Module.train, module)
    module.eval = types.MethodType(torch.nn.Module.eval, module)
    calls = sorted({str(node.target).split(".")[-2] for node in program.graph.nodes
                    if node.op == "call_function" and str(node.target).count(".") >= 2})
    summary = f"exported program calling {', '.join(calls)}"
    if dims and dims[0] is not None:
        module = _fixed_batch_module(module, dims[0])
        summary += f"; exported for batches of {dims[0]} rows, run in chunks of that size"
    return LoadedModel(module, MODEL_FORMATS[".pt2"], summary, tuple(dims[1:]))


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


# -- data -------------------------------------------------------------------------------------
def load_data(path: Path, *, target: str | None = None, features: Sequence[str] | None = None,
              id_column: str | None = None, time_column: str | None = None,
              target_file: Path | None = None) -> Data:
    """Read inputs and targets from a data file.

    Parameters
    ----------
    path : Path
        CSV or Parquet (a table), ``.npy`` or ``.npz`` (arrays).
    target : str, optional
        Tables: the column holding the targets.
    features : sequence of str, optional
        Tables: the input columns, in this order (default: every other column). Arrays: the
        names of the features.
    id_column, time_column : str, optional
        Tables: a long table of sequences, one row per sequence and time step, pivoted into
        ``(sequences, steps, features)`` ordered by id and time; every sequence must have the
        same time steps.
    target_file : Path, optional
        Targets in their own file (``.npy``, ``.npz`` or a one-column CSV), for arrays.

    Returns
    -------
    Data
    """
    _check_file(path, "data")
    suffix = path.suffix.lower()
    if suffix not in DATA_FORMATS:
        raise InputError(f"data file {path} has suffix {suffix!r}; supported: "
                         f"{', '.join(DATA_FORMATS)}")
    if (id_column is None) != (time_column is None):
        raise InputError("--id and --time go together: a long table of sequences needs both")
    if suffix in (".npy", ".npz"):
        if target is not None or id_column is not None:
            raise InputError(f"--target, --id and --time name columns of a table; data file "
                             f"{path} holds arrays: put the targets in the .npz as 'y' or pass "
                             "--target-file")
        X, y, names = _arrays(path, target_file, features)
        facts = {"data": f"{path.name} (NumPy arrays)"}
    else:
        if target_file is not None:
            raise InputError("--target-file is for array data; a table names its target "
                             "column with --target")
        table = _table(path, suffix)
        if id_column is None:
            X, y, names = _columns(table, path, target, features)
        else:
            X, y, names = _long(table, path, target, features, id_column, time_column)
        facts = {"data": f"{path.name} ({'CSV' if suffix == '.csv' else 'Parquet'} table)"}
    _check_finite(X, names, path)
    if y is not None and np.issubdtype(y.dtype, np.number):
        _check_finite(y.astype(float), ["target"], path)
    shape = " x ".join(str(s) for s in X.shape)
    axes = "sequences x steps x features" if X.ndim == 3 else "rows x features"
    facts["inputs"] = f"{shape} ({axes}): {', '.join(names)}"
    facts["target"] = "none (methods that measure an error are skipped)" if y is None else \
        f"{target or 'y'}, shape {' x '.join(str(s) for s in y.shape)}"
    return Data(X, y, names, facts, targets_per_step=id_column is not None and y is not None)


def _table(path: Path, suffix: str) -> pd.DataFrame:
    try:
        if suffix == ".csv":
            table = pd.read_csv(path)
        else:
            table = pd.read_parquet(path, engine="pyarrow")
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError, OSError,
            UnicodeDecodeError) as exc:
        kind = "CSV" if suffix == ".csv" else "Parquet"
        raise InputError(f"cannot read data file {path} as {kind}: {_first_line(exc)}") from exc
    except Exception as exc:  # pyarrow's own errors
        raise InputError(f"cannot read data file {path}: {type(exc).__name__}: "
                         f"{_first_line(exc)}") from exc
    if table.shape[0] == 0 or table.shape[1] == 0:
        raise InputError(f"data file {path} has no rows or no columns")
    table.columns = [str(c) for c in table.columns]
    return table


def _columns(table: pd.DataFrame, path: Path, target: str | None,
             features: Sequence[str] | None, exclude: Sequence[str] = ()
             ) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
    """Inputs (the ``features`` columns, default every other) and the target column."""
    named = [c for c in [target, *(features or ()), *exclude] if c is not None]
    missing = [c for c in dict.fromkeys(named) if c not in table.columns]
    if missing:
        raise InputError(f"data file {path} has no column {', '.join(map(repr, missing))}; its "
                         f"columns are {list(table.columns)}")
    if features:
        names = list(features)
    else:
        names = [c for c in table.columns if c != target and c not in exclude]
    if target in names:
        raise InputError(f"column {target!r} is both the target and a feature")
    if not names:
        raise InputError(f"data file {path} has no feature column besides the target")
    text = [c for c in names if not pd.api.types.is_numeric_dtype(table[c])]
    if text:
        raise InputError(f"feature columns {text} of data file {path} are not numeric "
                         "(encode categories as numbers or one-hot columns first)")
    X = table[names].to_numpy(dtype=np.float64)
    y = None if target is None else table[target].to_numpy()
    return X, y, names


def _long(table: pd.DataFrame, path: Path, target: str | None, features: Sequence[str] | None,
          id_column: str, time_column: str
          ) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
    """A long table pivoted into ``(sequences, steps, features)``, targets ``(n, steps)``."""
    keys = [id_column, time_column]
    _, _, names = _columns(table, path, target, features, exclude=keys)
    table = table.sort_values(keys, kind="stable")
    if table.duplicated(keys).any():
        row = table[table.duplicated(keys, keep=False)].iloc[0]
        raise InputError(f"data file {path} has several rows for {id_column}={row[id_column]}, "
                         f"{time_column}={row[time_column]}")
    steps = table.groupby(id_column, sort=False)[time_column].agg(tuple)
    first = steps.iloc[0]
    odd = steps[steps.map(lambda s: s != first)]
    if len(odd):
        raise InputError(f"every sequence must have the same time steps: {id_column}="
                         f"{steps.index[0]} has {len(first)} steps {_short(first)}, "
                         f"{id_column}={odd.index[0]} has {len(odd.iloc[0])} "
                         f"{_short(odd.iloc[0])}")
    n, T = len(steps), len(first)
    X = table[names].to_numpy(dtype=np.float64).reshape(n, T, len(names))
    y = None if target is None else table[target].to_numpy().reshape(n, T)
    return X, y, names


def _short(values: tuple) -> str:
    text = ", ".join(map(str, values[:6]))
    return f"({text}{', ...' if len(values) > 6 else ''})"


def _arrays(path: Path, target_file: Path | None, features: Sequence[str] | None
            ) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
    arrays = _read_arrays(path)
    if len(arrays) == 1:
        X, y = next(iter(arrays.values())), None
    elif "X" in arrays and set(arrays) <= {"X", "y"}:
        X, y = arrays["X"], arrays.get("y")
    else:
        raise InputError(f"data file {path} must hold the arrays 'X' and optional 'y', or a "
                         f"single array; it holds {sorted(arrays)}")
    if target_file is not None:
        if y is not None:
            raise InputError(f"data file {path} holds 'y' and --target-file gives targets "
                             "too: keep one")
        _check_file(target_file, "target")
        y = _target_array(target_file)
    if X.ndim not in (2, 3) or not np.issubdtype(X.dtype, np.number):
        raise InputError(f"the inputs in {path} must be a numeric 2-D (rows x features) or "
                         f"3-D (sequences x steps x features) array; received shape "
                         f"{X.shape} and dtype {X.dtype}")
    if y is not None and y.shape[0] != X.shape[0]:
        raise InputError(f"the targets have {y.shape[0]} rows and the inputs {X.shape[0]}")
    p = X.shape[-1]
    if features:
        if len(features) != p:
            raise InputError(f"--features gives {len(features)} names for {p} features")
        names = list(features)
    else:
        names = [f"x{i + 1}" for i in range(p)]
    return X.astype(np.float64), y, names


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    try:
        loaded = np.load(path, allow_pickle=False)
        if isinstance(loaded, np.ndarray):
            return {"X": loaded}
        with loaded:
            return {name: loaded[name] for name in loaded.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise InputError(f"cannot read data file {path} as NumPy arrays (object arrays, which "
                         f"need pickle, are refused): {_first_line(exc)}") from exc


def _target_array(path: Path) -> np.ndarray:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        table = _table(path, suffix)
        if table.shape[1] != 1:
            raise InputError(f"target file {path} must have one column; it has "
                             f"{list(table.columns)}")
        return table.iloc[:, 0].to_numpy()
    if suffix not in (".npy", ".npz"):
        raise InputError(f"target file {path} must be .npy, .npz or a one-column .csv")
    arrays = _read_arrays(path)
    if len(arrays) != 1 and "y" not in arrays:
        raise InputError(f"target file {path} must hold 'y' or a single array; it holds "
                         f"{sorted(arrays)}")
    return arrays.get("y", next(iter(arrays.values())))


def _check_finite(values: np.ndarray, names: Sequence[str], path: Path) -> None:
    bad = ~np.isfinite(values)
    if bad.any():
        per_feature = bad.reshape(-1, bad.shape[-1]).sum(axis=0) if len(names) > 1 else \
            [bad.sum()]
        where = [f"{name} ({int(k)})" for name, k in zip(names, per_feature, strict=True) if k]
        raise InputError(f"data file {path} has {int(bad.sum())} missing or infinite values "
                         f"in {', '.join(where)}; remove or impute them first")


def _check_file(path: Path, what: str) -> None:
    if not path.exists():
        raise InputError(f"{what} file {path} does not exist")
    if not path.is_file():
        raise InputError(f"{what} file {path} is not a file")


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines() or [""]
    return lines[0] if len(lines[0]) <= 300 else lines[0][:297] + "..."


__all__ = ["DATA_FORMATS", "MODEL_FORMATS", "Data", "LoadedModel", "OnnxModel", "load_data",
           "load_model"]
