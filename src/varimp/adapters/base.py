"""The one interface through which methods and engines reach a model.

An adapter predicts in batches on the model's own device and dtype, differentiates a selected
output with respect to the input, and reads the network's structure into a neutral
:class:`varimp.network.Network`. Predictions always come back as float64 numpy arrays of shape
``(n, n_steps, n_outputs)``: ``n_steps`` is 1 unless the model predicts one value per time step.

A model may return ``(n,)``, ``(n, k)`` or ``(n, n_steps, k)``. A 2-D output of a sequence model
is ambiguous when its second axis equals the number of steps ``T`` of X: one value per step (a
dense head at every step, then ``squeeze(-1)``) or ``T`` outputs of one prediction (a classifier
of ``T`` classes). The rule, decided once per adapter from the model and never from the values
of the predictions: the output is one value per step when its length follows the input's (a
probe call with ``T + 1`` steps returns ``T + 1`` columns); for a model that accepts ``T`` steps
only, when it is causal as a per-step head on a forward recurrent layer is (changing the last
input step changes the last column only). Anything else is read as ``T`` outputs.
"""

from __future__ import annotations

import abc
import contextlib
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from ..errors import InputError, ModelError, UnsupportedModelError, VarImpError, describe
from ..network import Network
from ..validation import check_positive_int, tensor_values

DEFAULT_BATCH_SIZE = 4096


def batch_rows(batch_size: object) -> int:
    """Rows per model call: ``batch_size`` (an integer >= 1), or the default for None."""
    if batch_size is None:
        return DEFAULT_BATCH_SIZE
    return check_positive_int(batch_size, "batch_size")


@contextlib.contextmanager
def model_errors(shape: tuple[int, ...]) -> Iterator[None]:
    """Report whatever the model raises on a batch of this shape as a :class:`ModelError`."""
    try:
        yield
    except VarImpError:
        raise
    except Exception as exc:
        raise ModelError(f"the model raised {type(exc).__name__} on input of shape "
                         f"{tuple(shape)}: {error_summary(exc)}") from exc


def error_summary(exc: BaseException, limit: int = 300) -> str:
    """An exception's message on one line: its first line and, when it differs, its last
    non-empty line (where TorchScript and other wrapped errors put the cause, after the
    traceback of the scripted code), each cut to ``limit`` characters."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()] or [""]
    kept = [lines[0]] if lines[-1] == lines[0] else [lines[0], lines[-1]]
    return " ... ".join(line if len(line) <= limit else line[:limit - 3] + "..."
                        for line in kept)


def float64_array(value: object) -> np.ndarray:
    """A float64 numpy array of a framework tensor, a Keras variable or an array-like.

    A torch tensor (also a Keras variable's value on the torch backend) is read by its own
    ``detach().cpu().numpy()``, never through numpy's ``__array__`` protocol, which on torch
    lacks NumPy 2's ``copy=`` keyword (a ``DeprecationWarning`` on every call); bfloat16 and
    float16 go through float32 (numpy has no bfloat16). No copy beyond the conversion to
    float64. Other tensors (a Keras model on another backend) go through
    ``keras.ops.convert_to_numpy``."""
    for candidate in (value, getattr(value, "value", None)):  # a Keras variable: its tensor
        if _is_torch_tensor(candidate):
            return np.asarray(tensor_values(candidate), dtype=np.float64)
    if isinstance(value, np.ndarray) or "keras" not in sys.modules:
        return np.asarray(value, dtype=np.float64)
    return np.asarray(sys.modules["keras"].ops.convert_to_numpy(value), dtype=np.float64)


#: The largest finite value of the floating dtypes narrower than float64 a model may read.
_LARGEST = {"float16": 65504.0, "bfloat16": 3.3895313892515355e38,
            "float32": float(np.finfo(np.float32).max)}


def largest_value(dtype: object) -> tuple[str, float] | None:
    """``(name, largest finite value)`` of a floating dtype narrower than float64 (numpy,
    torch or Keras, by name), or None for float64 and anything else."""
    name = str(dtype).rsplit(".", 1)[-1]  # torch.float32, "float32"
    if name not in _LARGEST:
        try:
            name = np.dtype(dtype).name
        except TypeError:
            return None
    return (name, _LARGEST[name]) if name in _LARGEST else None


def _is_torch_tensor(value: object) -> bool:
    torch = sys.modules.get("torch")  # a tensor exists only once torch is imported
    return torch is not None and isinstance(value, torch.Tensor)


def check_rows(shape: tuple[int, ...], n: int) -> None:
    """ModelError unless a prediction of this shape has one row per sample of the ``n`` asked
    for; for one row, the hint that the model squeezes its output."""
    if len(shape) == 0 or shape[0] != n:
        hint = "" if n != 1 else (
            ": it seems to squeeze its output for one row (e.g. ends in .squeeze()); return "
            "shape (n,) or (n, k) for every n, one row included (e.g. .reshape(len(X), -1))")
        raise ModelError(f"the model must return one prediction per sample ({n}); it returned "
                         f"an array of shape {tuple(shape)}{hint}")


def as_canonical(pred: np.ndarray, n: int, per_step: bool = False) -> np.ndarray:
    """Reshape a prediction array to ``(n, n_steps, n_outputs)``; ``per_step``: a 2-D array
    holds one value per time step (``(n, T)`` becomes ``(n, T, 1)``)."""
    try:
        pred = np.asarray(pred, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ModelError(f"the model must return numeric predictions; it returned "
                         f"{describe(pred)}") from exc
    check_rows(pred.shape, n)
    if pred.ndim > 3:
        raise ModelError(f"the model's predictions must be (n,), (n, k) or (n, steps, k); it "
                         f"returned shape {pred.shape}")
    return pred.reshape(canonical_shape(pred.shape, per_step))


def canonical_shape(shape: tuple[int, ...], per_step: bool = False) -> tuple[int, int, int]:
    """The ``(n, n_steps, n_outputs)`` shape of a prediction of this shape (see
    :func:`as_canonical`); it serves numpy arrays and framework tensors alike."""
    n = shape[0]
    if len(shape) == 1:
        return (n, 1, 1)
    if len(shape) == 2:
        return (n, shape[1], 1) if per_step else (n, 1, shape[1])
    return tuple(shape)


class OutputNames(tuple):
    """Names of a model's outputs, in order, and ``refused``: names that select no output
    (a class the model has no unit for), each with the message that says why."""

    refused: dict[str, str]

    def __new__(cls, names: Sequence[str], refused: dict[str, str] | None = None
                ) -> OutputNames:
        self = super().__new__(cls, (str(name) for name in names))
        self.refused = dict(refused or {})
        return self


def one_unit_names(names: Sequence[str], unit: str) -> OutputNames:
    """The output names of a two-class classifier with one unit: the positive class
    ``names[1]`` alone, ``output=`` the negative class refused with a message saying why.
    ``unit`` describes the unit, with ``{positive}`` for the positive class's repr."""
    negative, positive = names
    described = unit.format(positive=repr(positive))
    return OutputNames((positive,), refused={negative: (
        f"output must be {positive!r} or 0: this binary classifier has {described}, and no "
        f"output for class {negative!r}; as p({negative}) = 1 - p({positive}), the importance "
        f"for {negative!r} is the one for {positive!r}: identical for losses, shares and "
        f"magnitudes, of opposite sign for signed effects (connection weights, derivatives); "
        f"received output={negative!r}")})


class Adapter(abc.ABC):
    """Base adapter. Subclasses implement ``_predict_batch`` and, where they can, the rest."""

    #: "autodiff" or "finite differences"; reported in ``details`` by gradient methods.
    gradient_kind = "finite differences"
    #: The numpy dtype X is converted to for the model; engines build batches in it.
    input_dtype: type = np.float64
    #: How a model of this framework declares its output kind itself, for messages (after
    #: "explain ... logits"); empty where it cannot.
    kind_declaration = ""

    def __init__(self, model: object):
        self.model = model
        self.expected_input: tuple[int, ...] | None = None  # (p,) or (T, p) when known
        self.input_columns: tuple[str, ...] | None = None  # the columns it was fitted on, if any
        self._output_kind: str | None = None  # set by configure(output_kind=...)
        self._classes: tuple | None = None  # set by configure(classes=...)
        #: whether a 2-D output of a sequence model holds one value per step (decided once)
        self._per_step: bool | None = None
        #: the number of outputs of the first prediction, which every later one must have
        self._n_outputs: int | None = None

    # -- prediction ---------------------------------------------------------------------------
    @abc.abstractmethod
    def _predict_batch(self, X: np.ndarray) -> np.ndarray:
        """The model's raw predictions for one batch of float64 input."""

    def predict(self, X: np.ndarray, batch_size: int | None = None) -> np.ndarray:
        """Predictions ``(n, n_steps, n_outputs)`` in float64, computed in batches."""
        n = X.shape[0]
        size = batch_rows(batch_size)
        pieces = []
        with self.guard():
            for start in range(0, n, size):
                batch = X[start:start + size]
                with model_errors(batch.shape):
                    raw = self._predict_batch(batch)
                pred = as_canonical(raw, batch.shape[0], self.per_step(batch, raw))
                self._check_outputs(pred, batch.shape, pieces[0].shape[1] if pieces else None)
                pieces.append(pred)
        out = np.concatenate(pieces, axis=0)
        if not np.all(np.isfinite(out)):
            raise ModelError("the model returned NaN or inf predictions for this X; check the "
                             "scale of X and the model")
        return out

    def _check_outputs(self, pred: np.ndarray, shape: tuple[int, ...], steps: int | None
                       ) -> None:
        """A ModelError unless the canonical prediction ``pred`` of a batch of this input
        shape has as many outputs as the model's first prediction, and as many predicted
        steps as ``steps`` (the call's first batch; None: this is the first): a model whose
        outputs come and go between calls cannot be explained."""
        if self._n_outputs is None:
            self._n_outputs = pred.shape[2]
        before, now = (self._n_outputs, pred.shape[2]) if steps is None or \
            pred.shape[1] == steps else (steps, pred.shape[1])
        if now != before:
            what = "output(s)" if steps is None or pred.shape[1] == steps else \
                "predicted step(s)"
            raise ModelError(
                f"the model returned {before} {what} per sample on an earlier call and {now} "
                f"now (input of shape {tuple(shape)}): it must return the same outputs on "
                "every call, whatever the number of rows; a model that squeezes its output "
                "(e.g. ends in .squeeze()) should return shape (n,) or (n, k) for every n")

    def per_step(self, X: np.ndarray, raw: object) -> bool:
        """Whether the model's raw output ``raw`` for sequences ``X`` is ``(n, T)``, one value
        per step, rather than ``T`` outputs (the rule in this module's docstring)."""
        shape = tuple(np.shape(raw))
        if X.ndim != 3 or len(shape) != 2 or shape[1] != X.shape[1] or shape[1] < 2:
            return False
        if self._per_step is None:
            self._per_step = self._follows_steps(np.asarray(X[:2]))
        return self._per_step

    def _follows_steps(self, X: np.ndarray) -> bool:
        """Probe: does the output's second axis follow the number of input steps?"""
        steps = X.shape[1]
        longer = np.concatenate([X, X[:, -1:]], axis=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                out = np.asarray(self._predict_batch(longer))
            except Exception:  # noqa: BLE001 - a model that reads T steps only
                out = None
            if out is not None and out.ndim == 2:
                return out.shape[1] == steps + 1
            moved = X.copy()
            moved[:, -1] = moved[:, -1] + 1.0
            try:
                before = np.asarray(self._predict_batch(X), dtype=np.float64)
                after = np.asarray(self._predict_batch(moved), dtype=np.float64)
            except Exception:  # noqa: BLE001 - the real call reports what the model raises
                return False
        changed = ~np.isclose(before, after, rtol=1e-6, atol=1e-9)
        return bool(changed[:, -1].any() and not changed[:, :-1].any())

    # -- what the outputs are --------------------------------------------------------------------
    def seed_draws(self, seed: int) -> None:
        """Seed the random numbers the model's own forward may draw (MC dropout, noise) from a
        method's ``random_state``, so that another ``random_state`` draws other noise and the
        same one the same. Frameworks whose models are deterministic in inference ignore it."""
        return None

    def configure(self, output_kind: str | None = None, classes: object = None) -> Adapter:
        """Override what is read from the model: the output kind and the class labels (for a
        model that declares its classes, only those classes in its order; see
        :func:`varimp.validation.check_classes`).

        ``output_kind="logits"`` for a model whose outputs are known to be probabilities (a
        softmax or sigmoid last layer, ``predict_proba``: :meth:`probability_source`) is an
        InputError: the probabilities would go through a second softmax or sigmoid."""
        from ..scoring import check_output_kind

        if output_kind is not None:
            kind = check_output_kind(output_kind)
            if kind == "logits" and (source := self.probability_source()) is not None:
                raise InputError(
                    f"output_kind='logits' was given, but this model returns probabilities: "
                    f"{source}. Read as logits they would go through a second softmax (or "
                    "sigmoid) and every score would be wrong; leave output_kind out (or pass "
                    "output_kind='probability'), or explain the network without its last "
                    f"layer to explain logits{self.kind_declaration}")
            self._output_kind = kind
        if classes is not None:
            from ..validation import check_classes

            self._classes = check_classes(classes, declared=self.model_classes())
        return self

    @property
    def output_kind(self) -> str:
        """``"regression"``, ``"probability"`` or ``"logits"``: decided once from the model
        (its last layer, ``predict_proba``), unless ``configure(output_kind=...)`` set it."""
        return self._output_kind or self.model_output_kind()

    @property
    def output_kind_given(self) -> bool:
        """Whether the user stated the output kind (``configure(output_kind=...)``), rather
        than it being read from the model."""
        return self._output_kind is not None

    def model_output_kind(self) -> str:
        """The output kind the model itself declares; a plain function predicts values."""
        return "regression"

    def probability_source(self) -> str | None:
        """What makes the model's outputs probabilities, in words ("its output comes from
        module '2' Softmax, which returns probabilities"), or None when the model does not
        say they are."""
        return None

    def multilabel(self) -> bool | None:
        """Whether the model declares its probabilities independent binary labels (several
        sigmoid heads); None when it does not say (:func:`varimp.scoring.multilabel_outputs`
        then decides from the network's last layer or the probabilities)."""
        return None

    def loss_refusal(self) -> str | None:
        """Why the model's outputs cannot be scored by a loss against ``y`` (heads of mixed
        kinds, see :class:`~varimp.adapters.keras.KerasAdapter`), in words; None when they
        can. Checked wherever targets are read for a loss, never for the methods that
        explain the outputs themselves."""
        return None

    @property
    def classes(self) -> tuple | None:
        """Class labels in the order of the outputs (``classes=``, else the model's own). A
        model that declares its classes (:meth:`model_classes`) takes ``classes=`` only when it
        lists those classes in the same order: ``configure`` refuses any other."""
        return self._classes if self._classes is not None else self.model_classes()

    def model_classes(self) -> tuple | None:
        """The class labels the model declares, in the order of its outputs (scikit-learn's
        ``classes_``), or None when it declares none."""
        return None

    @property
    def output_names(self) -> tuple[str, ...] | None:
        """Names of the outputs: the class labels of a classifier with one output per class,
        else names the model gives its outputs (Keras), else None."""
        classes = self.classes
        if classes is not None and self.output_kind != "regression":
            return tuple(str(c) for c in classes)
        return self.model_output_names()

    def model_output_names(self) -> tuple[str, ...] | None:
        return None

    def unit_names(self, n_outputs: int) -> tuple[str, ...] | None:
        """Names of the model's ``n_outputs`` output units: :attr:`output_names`, except that a
        classifier of two classes with one unit (one sigmoid probability or one logit, in any
        framework, as a binary scikit-learn classifier) is one output named by its positive
        class ``classes[1]``; ``output=`` the negative class is refused, saying why."""
        names = self.output_names
        if n_outputs != 1 or names is None or len(names) != 2 or \
                self.output_kind == "regression":
            return names
        return one_unit_names(names, "one output unit, for class {positive} (classes[1])")

    # -- gradients ----------------------------------------------------------------------------
    def gradient(
        self, X: np.ndarray, output: int, step: int | None = None, batch_size: int | None = None,
        on_rows: Callable[[float], object] | None = None,
    ) -> np.ndarray:
        """d(prediction) / dX for one output, per sample, with X's shape.

        The differentiated quantity is ``pred[:, step, output]``, or its sum over the predicted
        steps when ``step`` is None. This base version uses central finite differences with a
        step of ``1e-4 * max(1, |x|)`` per cell, in float64; frameworks with autodiff override it.
        ``on_rows(k)`` is told of the progress in rows done (a progress bar's ``update``).
        """
        X = np.asarray(X, dtype=np.float64)
        flat = X.reshape(X.shape[0], -1)
        grad = np.empty_like(flat)
        h = 1e-4 * np.maximum(1.0, np.abs(flat))

        def value(Z: np.ndarray) -> np.ndarray:
            pred = self.predict(Z.reshape(X.shape), batch_size)[:, :, output]
            return pred.sum(axis=1) if step is None else pred[:, step]

        for j in range(flat.shape[1]):
            plus, minus = flat.copy(), flat.copy()
            plus[:, j] += h[:, j]
            minus[:, j] -= h[:, j]
            grad[:, j] = (value(plus) - value(minus)) / (2 * h[:, j])
            if on_rows is not None:
                on_rows(flat.shape[0] / flat.shape[1])
        return grad.reshape(X.shape)

    # -- structure ----------------------------------------------------------------------------
    def not_carried(self) -> list[str]:
        """What a network rebuilt from :meth:`network` (sizes, activations, cells) leaves out
        of the model, in words: dropout, regularizers, constraints, layers without a bias."""
        return []

    def network(self) -> Network:
        raise UnsupportedModelError(
            f"{type(self.model).__name__} is read as a plain function; weight-based methods "
            "need a PyTorch, Keras or scikit-learn network"
        )

    def forward_operations(self) -> list[str] | None:
        """Operations the model applies outside the layers :meth:`network` reads, written as
        calls (``mul(hidden(...), 2.0)``), for the weight reader's refusals; None when the adapter
        cannot see them (only PyTorch modules can be traced)."""
        return None

    def suffix_predictor(self) -> object | None:
        """A :class:`varimp.adapters.suffix.SuffixPredictor` for a recurrent network whose
        structure this adapter can read, or None: the perturbation engine then runs full
        forward passes. ``predictor.start(X, base)`` caches the unperturbed prefix; its
        ``predict(t, X[:, t:], rows)`` evaluates steps ``t..T-1`` from the cached states."""
        return None

    def tail_predictor(self) -> object | None:
        """A :class:`varimp.adapters.tail.TailPredictor` for a dense network whose structure
        this adapter can read, or None: the perturbation engine then runs full forward passes.
        ``predictor.start(X, base)`` caches the first layer's pre-activation ``X @ W + b``; its
        ``predict([(columns, cells, rows), ...])`` evaluates copies of X whose ``columns`` hold
        ``cells`` from the cache (``+ delta @ W[columns]``) through the rest of the network."""
        return None

    # -- safety -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def guard(self) -> Iterator[None]:
        """Put the model in inference state for the duration, restore everything afterwards."""
        yield

    def check_padding(self, X: np.ndarray) -> None:
        """Raise UnsupportedModelError when X holds steps the model masks as padding, for the
        methods that replace cell values (they would turn padding into data). Only Keras
        models mask their input; every other adapter has nothing to refuse."""
        return None

    @property
    def cast_dtype(self) -> object:
        """The dtype X is cast to before the model reads it (a numpy dtype, a dtype name or a
        framework's dtype): :attr:`input_dtype` unless the adapter casts otherwise."""
        return self.input_dtype

    def check_range(self, X: np.ndarray, feature_names: Sequence[str] | None = None) -> None:
        """Raise InputError when a value of X does not fit the dtype the model reads
        (:attr:`cast_dtype`, e.g. float32 above 3.4e38 in magnitude, float16 above 65504):
        cast, it would become inf. Names the columns (``feature_names``, else their positions
        from 0) and the dtype's range. A float64 model has nothing to refuse (X is float64)."""
        limit = largest_value(self.cast_dtype)
        if limit is None or X.size == 0:
            return
        name, largest = limit
        if max(X.max(), -X.min()) <= largest:  # one pass over X, usually all it takes
            return
        flat = X.reshape(-1, X.shape[-1])
        size = np.maximum(flat.max(axis=0), -flat.min(axis=0))
        over = np.flatnonzero(size > largest)
        if not len(over):
            return
        columns = [repr(feature_names[j]) if feature_names is not None else str(j)
                   for j in over]
        label = "column(s) " if feature_names is not None else "column(s) at position(s) "
        raise InputError(
            f"X's {label}{', '.join(columns[:10])}{', ...' if len(columns) > 10 else ''} "
            f"hold values as large as {size[over].max():.3g} in magnitude, beyond the range of "
            f"{name} (+-{largest:.4g}), the dtype this model reads its input in: cast to "
            f"{name} they would become inf. Rescale those columns (e.g. standardise them, as "
            "the model's training data should be), or use a float64 model")

    def check_input(self, X: np.ndarray) -> None:
        """Raise InputError when X cannot be the model's input (rank or feature count)."""
        expected = self.expected_input
        if expected is None:
            return
        got = X.shape[1:]
        if len(expected) != len(got):
            kind = "sequences (n, time steps, features)" if len(expected) == 2 else \
                "a table (n, features)"
            raise InputError(f"this model reads {kind}; received X of shape {X.shape}")
        mismatch = [(e, g) for e, g in zip(expected, got, strict=True)
                    if e is not None and e != g]
        if mismatch:
            raise InputError(f"the model expects input of shape (n, "
                             f"{', '.join('T' if e is None else str(e) for e in expected)}); "
                             f"received X of shape {X.shape}")
