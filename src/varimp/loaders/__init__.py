"""Saved models and data files as ``varimp run`` reads them.

Models (by file suffix), each loaded into something :func:`varimp.adapters.adapt` accepts:

- ``.keras``: :func:`keras.saving.load_model` with ``safe_mode=True`` (no Python lambdas; with
  ``trust_pickle``, ``safe_mode=False``);
- ``.pt2``: a program saved by :func:`torch.export.save`, run as
  ``torch.export.load(path).module()``;
- ``.pt`` / ``.pth``: TorchScript (:func:`torch.jit.load`); a full ``torch.save`` pickle only
  with ``trust_pickle``;
- ``.onnx``: an :class:`onnxruntime.InferenceSession` wrapped as a callable ``f(X)`` (the
  model-agnostic methods; weights are not read);
- ``.skops``: :func:`skops.io.load`, trusting scikit-learn's own types and those the user names;
- ``.pkl``, ``.pickle``, ``.joblib``: only with ``trust_pickle`` (loading a pickle runs any code
  it holds).

Data: CSV (commas, or semicolons and decimal commas as European Excel writes them; or the
separator, decimal mark and encoding the user names), Parquet
(tables, or a long table of sequences pivoted by id and time, the time read as numbers or as
dates of one format), ``.npy`` and ``.npz`` (``X`` and optional ``y``,
or a single array). Every problem is an
:class:`~varimp.InputError` whose message names the file and what was expected.
"""


from ._tables import CsvDialect
from .data import DATA_FORMATS, Data, load_data
from .models import MODEL_FORMATS, LoadedModel, OnnxModel, load_model

__all__ = ["DATA_FORMATS", "MODEL_FORMATS", "CsvDialect", "Data", "LoadedModel", "OnnxModel",
           "load_data", "load_model"]
