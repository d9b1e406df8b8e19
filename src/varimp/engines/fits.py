"""One fit of the retraining engine, as a worker runs it: the task, its data, its draws.

:class:`FitTask` says how one fit's data differ from the user's (inputs removed, targets
permuted, rows resampled); :class:`SeededFit` pairs it with its seed and its engine's
:class:`DataSetting`. :func:`fit_data` makes the arrays the fit sees, and the worker trains the
model on them and hands it, with the data (:class:`FitData`), to ``evaluate``. The dispatch of
many fits is :mod:`varimp.engines.retrain`'s.

Training and held-out rows
    The engine's :class:`DataSetting` names the rows a fit trains on (``train_rows``) and
    those it is judged on (``test_rows``): a fold of a time-series split trains on its past
    rows only, an explicit ``(train, test)`` fold on exactly its train rows. Without
    ``train_rows`` a fit trains on every row but the held-out ones; without ``test_rows`` it is
    judged on every row.

Random draws of a task
    ``rng = numpy.random.default_rng(seed)``; then, in this order, ``permute_y``:
    ``order = rng.permutation(n)`` and the targets become ``y[order]`` (every row, training and
    held-out alike, ``X`` unchanged); ``bootstrap``: ``rows = rng.integers(0, n_train,
    size=n_train)`` and the training rows become ``X_train[rows], y_train[rows]``. For a
    classifier (the engine's ``strata``: the class of every row), the bootstrap is stratified
    (:func:`bootstrap_rows`): each class is resampled within itself, so that a resample holds
    every class of the data, a rare one included, in its own proportion.

Removing an input
    ``removal="mean"`` (the default) holds a removed column at its mean over the training rows
    (over rows and time steps for sequences: one constant everywhere), in the training, held-out
    and full data alike. The mean is a float: integer or boolean ``X`` becomes float64 for every
    fit (a 0/1 column is held at, say, 0.55, never truncated to 0). The network keeps its input
    width, so any ``fit(X, y)`` works unchanged, and for a first dense layer a constant input is
    equivalent to a missing one (its weights fold into the bias). ``removal="drop"`` deletes
    the columns, for a ``fit`` that accepts fewer of them.

Seeding a fit
    A ``fit`` that takes ``random_state`` is called with the fit's seed. Any other ``fit`` runs
    inside :func:`varimp.engines.worker.global_seed`: Python's ``random`` functions (drawing,
    in the fit's thread, from a generator of its own; Python's shared instance, which other
    threads and functions bound before, ``from random import random``, draw from, is left
    alone), NumPy's global generator, torch's (CPU, and CUDA once initialised; torch is
    imported first when installed, so a fit that imports it in its body is seeded on its first
    call in a process too) and Keras' global seed generator are seeded from the fit's seed and
    restored afterwards, so a fit that draws from them (``np.random.rand``, a module's default
    initialisation, a Keras layer's unseeded initializer, an estimator's
    ``random_state=None``) is reproducible too, and the caller's process sees its generators
    as they were. Fits running at once in threads of
    one process share those global generators, so such fits are reproducible one per process
    only (sequentially, on joblib processes, on single-threaded Dask workers), not with
    ``backend="threading"`` or Dask workers of several threads.

Warnings
    A fit that runs in another process (a joblib or Dask worker) records the Python warnings of
    its fit and evaluation (every one, whatever the worker's filters) and returns them with its
    result as ``(category, message)`` pairs (:class:`TaskResult`); the engine raises them again
    in the caller's process, whose filters then decide what is shown, as for a fit run there. A
    fit run in the caller's process (sequentially, or in its threads) warns there directly.

Failures
    A fit or an evaluation that raises, a fit that returns None or an evaluation that returns
    a non-finite number raises a :class:`varimp.ModelError` naming the fit (its task label); a
    fit marked ``optional`` returns its failure as a :class:`Failed` result instead. A
    ``SystemExit`` (``sys.exit`` in a fit) is such a failure too, and so is a
    ``KeyboardInterrupt`` raised anywhere but in the main thread of the caller's process, where
    it may be the user's Ctrl-C and stops the work as it is. A fit whose Keras, imported where
    it runs without the caller's ``KERAS_BACKEND``, fails to import its backend (tensorflow,
    jax: ``ModuleNotFoundError`` raised from Keras' import) says to start the workers with the
    caller's ``KERAS_BACKEND`` (the caller's backend travels in :class:`Job`).
"""

from __future__ import annotations

import contextlib
import inspect
import numbers
import os
import pickle
import sys
import threading
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from ..errors import InputError, ModelError, VarImpError
from .worker import _local_threads, global_seed, openmp_limit, thread_limits

REMOVALS = ("mean", "drop")

#: The modules Keras 3 imports for a backend other than torch (KERAS_BACKEND), by name.
KERAS_BACKEND_MODULES = ("tensorflow", "jax", "openvino")

#: Where the documentation says how to start Dask workers for Keras models.
KERAS_NOTE = "docs/parallel.md, 'A cluster of several machines' (Keras models)"


@dataclass(frozen=True)
class FitTask:
    """One fit: which inputs it loses and which random alterations its data get.

    Parameters
    ----------
    label : tuple
        Names the fit in errors and progress, e.g. ``("backward", 2, "x3")``,
        ``("permutation", 17)``, ``("model", 4)``.
    removed : tuple of int
        Feature columns removed for this fit (training and evaluation data alike).
    permute_y : bool
        Train (and evaluate) on targets permuted across rows, drawn from the fit's seed.
    bootstrap : bool
        Train on a bootstrap resample of the training rows, drawn from the fit's seed.
    """

    label: tuple
    removed: tuple[int, ...] = ()
    permute_y: bool = False
    bootstrap: bool = False


@dataclass(frozen=True)
class FitData:
    """What ``evaluate(model, data)`` receives with the fitted model (fresh arrays per fit).

    Attributes
    ----------
    task : FitTask
    seed : int
        This fit's own seed (passed to ``fit`` as ``random_state`` when it accepts one).
    X_train, y_train : ndarray
        The rows the model was trained on, after removal, permutation and bootstrap.
    X_test, y_test : ndarray
        The held-out rows (same removal and permutation); all rows when there is no split.
    X, y : ndarray
        All rows, after removal and permutation (for methods run on the refitted model).
    """

    task: FitTask
    seed: int
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    X: np.ndarray
    y: np.ndarray


@dataclass(frozen=True, eq=False)
class DataSetting:
    """How an engine alters the data of every fit: the removal, the training means a removed
    column is held at (float), the rows every fit trains on (None: every row not held out),
    the held-out rows (None: judged on every row) and the strata of a stratified bootstrap (a
    classifier's class index of every row, or None)."""

    removal: str
    means: np.ndarray
    train_rows: np.ndarray | None
    test_rows: np.ndarray | None
    strata: np.ndarray | None = None

    def training(self, n: int) -> np.ndarray:
        """The rows every fit trains on, out of ``n``."""
        return training_rows(self.train_rows, self.test_rows, n)


def training_rows(train_rows: np.ndarray | None, test_rows: np.ndarray | None, n: int
                  ) -> np.ndarray:
    """The rows a fit trains on, out of ``n``: ``train_rows`` when given, else every row not in
    ``test_rows``."""
    if train_rows is not None:
        return train_rows
    if test_rows is None:
        return np.arange(n)
    return np.setdiff1d(np.arange(n), test_rows)


@dataclass(frozen=True)
class SeededFit:
    """One fit ready to run: its task, its seed and the data setting of the engine that planned
    it (:meth:`RetrainEngine.fits`).

    ``optional``: a fit run ahead of need, on a guess (the next step of a stepwise search);
    when it fails, :meth:`RetrainEngine.execute` returns a :class:`Failed` in its place instead
    of raising, and the caller raises it only if it uses that result.
    """

    task: FitTask
    seed: int
    setting: DataSetting | None
    optional: bool = False


@dataclass(frozen=True)
class Failed:
    """The result of an optional fit that failed: ``error`` is the :class:`VarImpError` it
    would have raised (:meth:`throw` raises it)."""

    error: VarImpError

    def throw(self) -> None:
        raise self.error


#: This process: its id and a token drawn at import (a forked child keeps the token, a process
#: on another machine may reuse the id; together they tell whether a fit runs elsewhere).
_THIS_PROCESS = (os.getpid(), uuid.uuid4().hex)


def this_process() -> tuple[int, str]:
    """This process's ``(pid, token)``, as :class:`Job` records the caller's."""
    return os.getpid(), _THIS_PROCESS[1]


@dataclass(frozen=True)
class Job:
    """What every worker needs besides the data, the callables and the fit itself (small).

    ``caller``: the process that dispatched the fits (:func:`this_process`); a fit running in
    any other process records its warnings and returns them with its result. ``model``: the
    ``id`` of the user's model, which a fit run in the caller's process must not return (it
    would have trained the user's model in place); None: not checked. ``topic``: on Dask, the
    event topic a fit announces its start on (its index), so that the caller knows which fits
    were running when a worker or the scheduler went away. ``keras_backend``: the caller's
    Keras backend (:func:`keras_backend`), named when a worker's Keras lacks another one.
    ``at_most``: the caller's lowest thread count (:func:`~varimp.engines.worker.
    callers_threads`), which a fit in the caller's process (its threads) never exceeds."""

    seeded: bool
    threads: int | dict[str, int] | None
    trace_dir: str | None = None
    caller: tuple[int, str] = field(default_factory=this_process)
    model: int | None = None
    topic: str | None = None
    keras_backend: str | None = None
    at_most: int | None = None


def keras_backend() -> str | None:
    """This process's Keras backend (``keras.config.backend()``), or None while Keras is not
    imported."""
    keras = sys.modules.get("keras")
    try:
        return None if keras is None else str(keras.config.backend())
    except Exception:  # noqa: BLE001 - a Keras without config.backend
        return None


class TaskResult(NamedTuple):
    """What a worker returns for one fit: its position, ``evaluate``'s result (or a
    :class:`Failed`) and the warnings it recorded, ``(category, message)`` in order."""

    index: int
    value: Any
    warned: tuple[tuple[type[Warning], str], ...] = ()


def run_task(index: int, item: SeededFit, setting: DataSetting, X: np.ndarray, y: np.ndarray,
              fit: Callable, evaluate: Callable, job: Job) -> TaskResult:
    """One fit and its evaluation (on the worker); returns its :class:`TaskResult`: the
    value is ``evaluate``'s result, or ``Failed(error)`` for an optional fit that failed.
    ``setting`` travels apart from ``item`` (on Dask, scattered once to every worker). In a
    process other than the caller's, the fit's warnings are recorded and returned."""
    marker = os.path.join(job.trace_dir, str(index)) if job.trace_dir else None
    if marker is not None:
        open(marker, "w").close()
    if job.topic is not None:
        from distributed import get_worker

        get_worker().log_event(job.topic, index)
    elsewhere = this_process() != job.caller
    try:
        with warnings.catch_warnings(record=True) if elsewhere else \
                contextlib.nullcontext() as caught:
            if elsewhere:
                warnings.simplefilter("always")  # the caller's filters decide
            # a fit in the caller's process (its threads, an in-process Dask worker's) runs
            # under the process-wide limits the caller set once around the whole batch, and
            # sets only its own thread's OpenMP limit
            threads = _local_threads(job.threads)
            if threads is not None and job.at_most is not None and not elsewhere:
                threads = min(threads, job.at_most)
            with thread_limits(threads) if elsewhere else openmp_limit(threads):
                try:
                    value = _fit_and_evaluate(item, setting, X, y, fit, evaluate, job)
                except VarImpError as exc:
                    if not item.optional:
                        raise
                    value = Failed(exc)
        return TaskResult(index, value, tuple(_portable(w.category, str(w.message))
                                              for w in caught or ()))
    finally:
        if marker is not None:
            with contextlib.suppress(OSError):
                os.remove(marker)


def _portable(category: type[Warning], message: str) -> tuple[type[Warning], str]:
    """A recorded warning as the worker can send it back: a category that cannot be pickled
    (a class defined inside a function, say) becomes a UserWarning named after it."""
    try:
        pickle.dumps(category)
    except Exception:
        return UserWarning, f"{category.__name__}: {message}"
    return category, message


def warn_again(results: list[TaskResult]) -> None:
    """Raise, in the caller's process, the warnings that fits run elsewhere recorded, in the
    order of the fits (each with its category and message, so that the caller's filters and
    a ``warnings.catch_warnings(record=True)`` treat them as warnings of this process)."""
    for result in sorted(results, key=lambda r: r.index):
        for category, message in result.warned:
            warnings.warn(message, category, stacklevel=2)


def _fit_and_evaluate(item: SeededFit, setting: DataSetting, X: np.ndarray, y: np.ndarray,
                      fit: Callable, evaluate: Callable, job: Job) -> Any:
    task = item.task
    data = fit_data(task, item.seed, X, y, setting)
    kwargs = {"random_state": item.seed} if job.seeded else {}
    try:
        with contextlib.nullcontext() if job.seeded else global_seed(item.seed):
            model = fit(data.X_train.copy(), data.y_train.copy(), **kwargs)
    except Exception as exc:
        raise _failure(exc, f"fit {task.label!r} raised", _keras_hint(exc, job)) from exc
    except (SystemExit, KeyboardInterrupt) as exc:
        if _may_be_ctrl_c(exc, job):
            raise
        raise _failure(exc, f"fit {task.label!r} raised") from exc
    if model is None:
        raise ModelError(f"fit {task.label!r} returned None; fit must return the fitted model")
    if job.model is not None and id(model) == job.model and this_process() == job.caller:
        raise ModelError(f"fit {task.label!r} returned the given model itself: it trained the "
                         "model you passed in place (varimp stopped at this fit but cannot "
                         "undo its training). fit must return a new model, e.g. "
                         "sklearn.base.clone(model).fit(X, y), or pass fit=None to let varimp "
                         "refit a copy")
    try:
        value = evaluate(model, data)
    except Exception as exc:
        raise _failure(exc, f"evaluating fit {task.label!r} raised") from exc
    except (SystemExit, KeyboardInterrupt) as exc:
        if _may_be_ctrl_c(exc, job):
            raise
        raise _failure(exc, f"evaluating fit {task.label!r} raised") from exc
    if not _finite(value):
        raise ModelError(f"evaluating fit {task.label!r} returned a non-finite value: "
                         f"{value!r}")
    return value


def fit_data(task: FitTask, seed: int, X: np.ndarray, y: np.ndarray, setting: DataSetting
             ) -> FitData:
    """The arrays one task trains and is evaluated on (fresh arrays; ``X``, ``y`` untouched).

    The training rows are ``setting``'s (:meth:`DataSetting.training`), the held-out rows its
    ``test_rows`` (None: every row). Draws, from ``rng = numpy.random.default_rng(seed)`` in
    this order: ``rng.permutation(n)`` when ``task.permute_y``, then the bootstrap rows
    (:func:`bootstrap_rows`, stratified by ``setting.strata``: the class of every row of
    ``y``, permuted with it) when ``task.bootstrap``.
    """
    rng = np.random.default_rng(seed)
    removed = list(task.removed)
    if setting.removal == "drop":
        X_all = np.delete(X, removed, axis=-1)
    else:  # a removed column is held at its float mean: integer X becomes float64
        X_all = np.array(X, dtype=_held_dtype(X.dtype), copy=True)
        X_all[..., removed] = setting.means[removed]
    order = rng.permutation(y.shape[0]) if task.permute_y else None
    y_all = np.array(y, copy=True) if order is None else y[order]
    strata = setting.strata
    if strata is not None and order is not None:
        strata = strata[order]
    train, test = setting.train_rows, setting.test_rows
    if train is None and test is None:
        X_train, y_train, X_test, y_test = X_all, y_all, X_all, y_all
    else:
        train = setting.training(X.shape[0])
        X_train, y_train = X_all[train], y_all[train]
        X_test, y_test = (X_all, y_all) if test is None else (X_all[test], y_all[test])
        strata = None if strata is None else strata[train]
    if task.bootstrap:
        rows = bootstrap_rows(rng, X_train.shape[0], strata)
        X_train, y_train = X_train[rows], y_train[rows]
    return FitData(task, seed, X_train, y_train, X_test, y_test, X_all, y_all)


def _held_dtype(dtype: np.dtype) -> np.dtype:
    """The dtype of data with columns held at a float mean: float64 for integer or boolean
    ``X``, else ``X``'s own (a float32 network keeps float32 inputs)."""
    return dtype if np.issubdtype(dtype, np.inexact) else np.dtype(np.float64)


def bootstrap_rows(rng: np.random.Generator, n: int, strata: np.ndarray | None = None
                   ) -> np.ndarray:
    """``n`` row indices drawn with replacement: ``rng.integers(0, n, size=n)``.

    With ``strata`` (the class of every row, for a classifier) the bootstrap is stratified:
    for every class in increasing order, its ``n_c`` rows are resampled within themselves,
    ``rows_c[rng.integers(0, n_c, size=n_c)]``, and the rows are returned sorted. A resample
    then holds every class of the data in its own proportion, so that no member of an
    ensemble is trained without a rare class (it would predict fewer classes than the model).
    """
    if strata is None:
        return rng.integers(0, n, size=n)
    drawn = [members[rng.integers(0, members.size, size=members.size)]
             for members in (np.flatnonzero(strata == c) for c in np.unique(strata))]
    return np.sort(np.concatenate(drawn))


def _may_be_ctrl_c(exc: BaseException, job: Job) -> bool:
    """Whether ``exc``, raised by a fit or an evaluation, may be the user's Ctrl-C: a
    ``KeyboardInterrupt`` in the main thread of the caller's process, where Python raises the
    signal; it then stops the work as any Ctrl-C does. Anywhere else (a worker process, a
    worker thread) it was raised by the fit itself, and like a ``SystemExit`` it becomes a
    :class:`~varimp.ModelError` naming the fit: raised as it is, it would take the worker's
    thread or process down instead (an in-process Dask worker then never answers)."""
    return isinstance(exc, KeyboardInterrupt) and this_process() == job.caller \
        and threading.current_thread() is threading.main_thread()


def _keras_hint(exc: BaseException, job: Job) -> str:
    """What to do when ``exc`` is Keras failing to import a backend module (tensorflow, jax)
    other than the caller's: Keras, imported where the fit ran, read no ``KERAS_BACKEND`` (or
    another). Empty otherwise (another missing module, or not raised from Keras' import)."""
    missing = (getattr(exc, "name", None) or "").split(".")[0]
    if not isinstance(exc, ModuleNotFoundError) or missing not in KERAS_BACKEND_MODULES \
            or missing == job.keras_backend:
        return ""
    frame = exc.__traceback__
    while frame is not None:
        module = str(frame.tb_frame.f_globals.get("__name__", ""))
        if module == "keras" or module.startswith("keras."):
            break
        frame = frame.tb_next
    else:
        return ""
    mine = job.keras_backend
    setting = f"KERAS_BACKEND={mine}" if mine else "the KERAS_BACKEND your session uses"
    example = f"`KERAS_BACKEND={mine} dask worker ...`" if mine else \
        "e.g. `KERAS_BACKEND=torch dask worker ...`"
    return (f". Keras takes its backend from the KERAS_BACKEND environment variable when it is "
            f"first imported; where this fit ran it is unset or names another backend, so "
            f"Keras tried to load {missing!r}"
            + (f", while your session uses {mine!r}" if mine else "")
            + f". Start the workers with {setting} ({example}); see {KERAS_NOTE}")


def _failure(exc: BaseException, what: str, hint: str = "") -> VarImpError:
    """A raised exception as a VarImpError naming the fit (a VarImpError keeps its class),
    followed by ``hint``."""
    cls = type(exc) if isinstance(exc, VarImpError) else ModelError
    text = f"{what} {type(exc).__name__}: {exc}" if str(exc) else \
        f"{what} {type(exc).__name__}"
    text += hint
    try:
        return cls(text)
    except Exception:  # a subclass with another constructor
        return ModelError(text)


def _finite(value: Any) -> bool:
    """False for a non-finite real number or a float array holding one; True otherwise."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return bool(np.isfinite(value))
    if isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.inexact):
        return bool(np.all(np.isfinite(value)))
    return True


def accepts_random_state(fit: Callable) -> bool:
    try:
        parameters = inspect.signature(fit).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == "random_state" and p.kind != p.POSITIONAL_ONLY
               or p.kind == p.VAR_KEYWORD for p in parameters)


def check_removed(task: FitTask, n_features: int, removal: str) -> None:
    removed = task.removed
    ok = isinstance(removed, tuple) and all(
        isinstance(j, numbers.Integral) and not isinstance(j, bool) and 0 <= j < n_features
        for j in removed) and len(set(removed)) == len(removed)
    if not ok or (removal == "drop" and len(removed) == n_features):
        raise InputError(f"FitTask {task.label!r}: removed must be a tuple of distinct feature "
                         f"columns in [0, {n_features}) leaving at least one with "
                         f"removal={removal!r}; received {removed!r}")


__all__ = ["KERAS_BACKEND_MODULES", "KERAS_NOTE", "REMOVALS", "DataSetting", "Failed", "FitData",
           "FitTask", "Job", "SeededFit", "TaskResult", "accepts_random_state", "bootstrap_rows",
           "check_removed", "fit_data", "keras_backend", "run_task", "this_process",
           "training_rows", "warn_again"]
