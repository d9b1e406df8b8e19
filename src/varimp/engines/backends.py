"""Where the fits of :class:`varimp.engines.retrain.RetrainEngine` run: in this process, on
joblib processes, or on a ``dask.distributed`` cluster (the current client's, or a
``LocalCluster`` started for the call or for a :func:`session`), and the checks of ``n_jobs``
and ``backend``. Every runner takes the engine (its ``fit``, ``X``, ``y``, ``backend`` and
worker count) and a list of planned fits, and returns their results by position; the seeds
and data settings were fixed before, so the runner changes only where the work happens."""

from __future__ import annotations

import contextlib
import logging
import numbers
import os
import pickle
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from ..errors import InputError, ModelError, VarImpError, describe
from .fits import (
    KERAS_BACKEND_MODULES,
    KERAS_NOTE,
    DataSetting,
    Job,
    SeededFit,
    TaskResult,
    keras_backend,
    run_task,
)
from .worker import callers_threads, host_of, thread_limits


def run_sequential(engine: Any, fits: list[SeededFit], evaluate: Callable, job: Job,
                    bar: Any) -> list[TaskResult]:
    """Run ``fits`` one after another in this process; their results, in order."""
    results = []
    for index, item in enumerate(fits):
        results.append(run_task(index, item, item.setting, engine.X, engine.y, engine.fit,
                                 evaluate, job))
        bar.update(1)
    return results

def run_joblib(engine: Any, fits: list[SeededFit], evaluate: Callable, job: Job, bar: Any,
                extra: Ahead) -> list[TaskResult]:
    """Run ``fits`` (and those ``extra`` chooses ahead) on ``engine.n_workers`` joblib workers
    of ``engine.backend``; their results, in order. A worker that dies, or a fit that cannot
    be sent to the worker processes, is a :class:`~varimp.ModelError`.

    Results are taken as they finish (``return_as="generator_unordered"``); a backend that
    cannot hand them over so (``"multiprocessing"``) returns them all at the end instead, the
    same results. With ``"threading"``, a failure is raised only once the fits already
    running in joblib's threads have finished (threads cannot be stopped; a process that
    exited while they ran would abort), and those not yet started are skipped."""
    from joblib import Parallel, delayed
    from joblib.externals.loky.process_executor import TerminatedWorkerError

    n_workers = engine.n_workers
    threads = max(1, (os.cpu_count() or 1) // n_workers)
    in_process = engine.backend == "threading"
    trace_dir = None if in_process else tempfile.mkdtemp(prefix="varimp-fits-")
    job = _replace(job, threads=threads, trace_dir=trace_dir,
                   at_most=callers_threads() if in_process else None)
    planned = list(fits)
    turns = _Running() if in_process else None
    task = run_task if turns is None else turns.run

    def calls() -> Iterator[Any]:  # joblib draws the next call as a worker frees up
        for index, item in enumerate(fits):
            yield delayed(task)(index, item, item.setting, engine.X, engine.y, engine.fit,
                                evaluate, job)
        for index, item in enumerate(extra.choose(), start=len(fits)):
            planned.append(item)
            yield delayed(task)(index, item, item.setting, engine.X, engine.y, engine.fit,
                                evaluate, job)

    # one fit per dispatch: a fit is long, and batching several on one worker would leave
    # the other workers idle at the end of the list; with fits to choose ahead, no more
    # dispatched than there are workers, so that the choice waits for the last results
    options = {"n_jobs": n_workers, "backend": engine.backend, "batch_size": 1,
               "pre_dispatch": n_workers if extra.spare else "2 * n_jobs"}
    try:
        parallel = Parallel(return_as="generator_unordered", **options)
    except ValueError as exc:  # a backend without generators (multiprocessing)
        if "return_as" not in str(exc):
            raise
        parallel = Parallel(return_as="list", **options)
    results: dict[int, TaskResult] = {}
    try:
        with thread_limits(threads if in_process else None, lower_only=True):
            try:
                for result in parallel(calls()):
                    results[result.index] = result
                    if result.index < len(fits):
                        extra.done[result.index] = result.value
                        bar.update(1)
            finally:  # under the limits the running fits started with
                if turns is not None:
                    turns.stop()
    except (TerminatedWorkerError, BrokenPipeError, EOFError) as exc:
        running = sorted(int(name) for name in os.listdir(trace_dir)) if trace_dir else []
        names = " or ".join(repr(planned[i].task.label) for i in running) or \
            "an unknown fit"
        raise ModelError(f"a joblib worker died while running fit {names}: "
                         f"{type(exc).__name__}: {exc}") from exc
    except pickle.PicklingError as exc:  # loky's: the task could not be pickled
        raise ModelError(_unpicklable(engine.fit, exc)) from exc
    finally:
        if trace_dir is not None:
            shutil.rmtree(trace_dir, ignore_errors=True)
    extra.check()
    return [results[index] for index in range(len(results))]


class _Running:
    """The fits running in this process's threads (joblib's ``"threading"``): :meth:`stop`
    skips those not yet started and waits for the running ones to finish."""

    def __init__(self) -> None:
        self.changed = threading.Condition()
        self.running = 0
        self.stopped = False

    def run(self, *args: Any) -> TaskResult | None:
        with self.changed:
            if self.stopped:
                return None
            self.running += 1
        try:
            return run_task(*args)
        finally:
            with self.changed:
                self.running -= 1
                self.changed.notify_all()

    def stop(self) -> None:
        with self.changed:
            self.stopped = True
            self.changed.wait_for(lambda: self.running == 0)

def run_dask(engine: Any, fits: list[SeededFit], evaluate: Callable, job: Job, bar: Any,
              extra: Ahead) -> list[TaskResult]:
    """Run ``fits`` (and those ``extra`` chooses ahead) on the current Dask client's workers,
    or on a ``LocalCluster`` started for the call (:func:`start_cluster`) and closed
    afterwards; their results, in order. Workers in this process (a ``LocalCluster(processes=
    False)``) get their thread share set once around the batch, and each of their fits a copy
    of ``fit`` of its own, as a worker process would, when ``fit`` can be pickled
    (:class:`_CopyPerCall`); one that cannot (a closure over a lock) runs as it is."""
    from distributed import CancelledError, KilledWorker, as_completed

    cluster = None
    client = current_client()
    if client is None:
        cluster, client = start_cluster(engine.n_workers if engine.n_jobs else 2)
    futures: list[Any] = []
    run_id = uuid.uuid4().hex  # a fresh key per run, also when tasks and seeds repeat
    topic = f"varimp-started-{run_id}"
    started: set[int] = set()  # fits that announced their start (events, via the scheduler)
    limits = contextlib.ExitStack()
    client.subscribe_topic(topic, lambda event: started.add(int(event[1])))
    try:
        n_workers = max(1, sum(client.nthreads().values()))
        by_host = _threads_by_host(client)
        job = _replace(job, threads=by_host, topic=topic)
        here = _workers_in_this_process(client)
        fit = engine.fit
        if here:  # objects reach them as they are: a fit closing over the model gets a copy
            fit = _CopyPerCall.of(fit)
            job = _replace(job, at_most=callers_threads())
            limits.enter_context(thread_limits(max(1, (os.cpu_count() or 1) //
                                                   by_host.get(host_of(here[0]), 1)),
                                               lower_only=True))
        data = _scatter_fit(client, engine.fit, [engine.X, engine.y, fit, evaluate, job])
        shared: dict[int, Any] = {}
        labels: dict[str, tuple] = {}

        def submit(items: list[SeededFit]) -> list[Any]:
            fresh = [s for i, s in _distinct(item.setting for item in items).items()
                     if i not in shared]
            for setting, future in zip(fresh, client.scatter(fresh, broadcast=True,
                                                             hash=False), strict=True):
                shared[id(setting)] = future
            new = [client.submit(run_task, len(futures) + k, _replace(item, setting=None),
                                 shared[id(item.setting)], *data,
                                 pure=False, key=f"varimp-fit-{run_id}-{len(futures) + k}")
                   for k, item in enumerate(items)]
            labels.update((f.key, item.task.label) for f, item in zip(new, items,
                                                                      strict=True))
            futures.extend(new)
            return new

        pending = as_completed(submit(fits), loop=client.loop)

        def top_up(unfinished: int) -> None:  # run the fits ahead once a worker idles
            if extra.spare and extra.chosen is None and \
                    unfinished <= n_workers - extra.spare:
                for new in submit(extra.choose()):
                    pending.add(new)

        unfinished = len(fits)
        top_up(unfinished)
        results: dict[int, TaskResult] = {}

        for future in pending:
            try:
                result = future.result()
            except KilledWorker as exc:
                key = getattr(exc, "task", None)
                name = repr(labels[key]) if key in labels else "an unknown fit"
                raise ModelError(f"a Dask worker died while running fit {name}: {exc}") \
                    from exc
            except CancelledError as exc:  # running: started, and neither done nor failed
                running = [labels[futures[i].key] for i in sorted(started - set(results))
                           if futures[i].status not in ("finished", "error")]
                raise ModelError(f"fit {labels[future.key]!r} was cancelled on the Dask "
                                 f"cluster: a worker or the scheduler went away. "
                                 f"{_running_when_lost(client, labels, running)}") from exc
            results[result.index] = result
            if result.index < len(fits):
                unfinished -= 1
                extra.done[result.index] = result.value
                bar.update(1)
                top_up(unfinished)
        extra.check()
        return [results[index] for index in range(len(results))]
    finally:
        with contextlib.suppress(Exception):  # a client whose scheduler went away
            client.unsubscribe_topic(topic)
        if futures:
            client.cancel(futures)
        limits.close()  # once the fits in this process are cancelled
        if cluster is not None:
            client.close()
            cluster.close()


#: Where the documentation says what Dask workers must be able to import.
IMPORTABLE_NOTE = ("docs/parallel.md, 'A cluster of several machines': the workers must be "
                   "able to import the module that defines your fit (functions defined in "
                   "__main__, a script or notebook, travel by value)")


def _fit_name(fit: Any) -> tuple[str, str]:
    """The name and module of a fit (of the function a ``functools.partial`` wraps)."""
    inner = getattr(fit, "func", fit)
    name = getattr(inner, "__qualname__", None) or type(inner).__name__
    module = getattr(inner, "__module__", None) or type(inner).__module__
    return name, module


def _unpicklable(fit: Any, exc: BaseException) -> str:
    """The message of a fit that joblib could not send to its worker processes."""
    name, module = _fit_name(fit)
    # loky's cause is the pickling error's traceback, as text: its last line names the error
    lines = [line for line in str(exc.__cause__ or "").splitlines()
             if line.strip() and line.strip() != '"""']
    reason = lines[-1].strip() if lines else f"{type(exc).__name__}: {exc}"
    return (f"fit={name} (module {module!r}) and the objects sent with it (the model, a "
            f"scoring=, the data) could not be sent to the joblib worker processes, which "
            f"receive them pickled: {reason}. Define fit at a module's "
            f"top level (or in your script) without references to objects that cannot be "
            f"pickled (a lock, an open file, a database connection), or pass n_jobs=1 to run "
            f"the fits in this process")


def _workers_in_this_process(client: Any) -> list[str]:
    """The addresses of the client's workers that run in this process (a
    ``LocalCluster(processes=False)``'s): their tasks share this process's objects and thread
    pools."""
    from distributed import Worker

    connected = set(client.nthreads())
    return sorted(w.address for w in list(getattr(Worker, "_instances", ()))
                  if w.address in connected)


class _CopyPerCall:
    """``fit`` pickled once (cloudpickle, as a worker process receives it); each call trains
    a copy of its own, unpickled when the call starts and dropped when it ends: a fit closing
    over the user's model (``lambda X, y: model.fit(X, y)``) then trains a copy, never the
    user's model, also on Dask workers in this process, and only the pickled bytes and the
    copies of the fits running at the moment take memory."""

    def __init__(self, frozen: bytes) -> None:
        self.frozen = frozen

    @classmethod
    def of(cls, fit: Any) -> Any:
        """A :class:`_CopyPerCall` of ``fit``, or ``fit`` itself when it cannot be pickled (a
        closure over a lock, to take turns on a GPU say): workers in this process share it
        then, and a fit closing over the user's model would train that model."""
        import cloudpickle

        try:
            return cls(cloudpickle.dumps(fit))
        except Exception:  # noqa: BLE001 - whatever pickling raises
            return fit

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        import cloudpickle

        return cloudpickle.loads(self.frozen)(*args, **kwargs)


def _keras_backend_missing(text: str) -> tuple[str, str] | None:
    """``(this process's Keras backend, the module a worker lacks)`` when ``text`` (the
    worker's load error) says that a Keras backend module other than this process's is missing
    there: Keras, imported on a worker started without ``KERAS_BACKEND`` (or with another),
    tried to load its default backend, tensorflow. None otherwise (also without Keras)."""
    mine = keras_backend()
    if mine is None:
        return None
    missing = [m for m in KERAS_BACKEND_MODULES
               if f"No module named '{m}'" in text or f'No module named "{m}"' in text]
    return (mine, missing[0]) if missing and missing[0] != mine else None


def _scatter_fit(client: Any, fit: Any, objects: list[Any]) -> list[Any]:
    """``client.scatter(objects)`` to every worker; a failure to load them there (the module
    that defines ``fit`` not importable on the workers, most often) is a
    :class:`~varimp.ModelError` naming the fit, in place of Dask's bare ``Exception``."""
    try:
        return client.scatter(objects, broadcast=True, hash=False)
    except Exception as exc:  # noqa: BLE001 - Dask re-raises a worker's error as Exception
        name, module = _fit_name(fit)
        text = str(exc) or type(exc).__name__
        keras_backend = _keras_backend_missing(text)
        if keras_backend is not None:
            mine, missing = keras_backend
            raise ModelError(f"the Dask workers could not load the Keras objects a fit "
                             f"needs, fit={name} (module {module!r}): {text}. Keras takes its "
                             f"backend from the KERAS_BACKEND environment variable; on the "
                             f"workers it is unset or names another backend, so Keras loaded "
                             f"{missing!r} there, while this process uses {mine!r}. Start the "
                             f"workers with KERAS_BACKEND={mine} (`KERAS_BACKEND={mine} dask "
                             f"worker ...`); see {KERAS_NOTE}") from exc
        if any(word in text for word in ("ModuleNotFoundError", "ImportError",
                                         "No module named", "Can't get attribute")):
            raise ModelError(f"the Dask workers could not load what a fit needs, fit={name} "
                             f"(module {module!r}) and the objects sent with it (the model, a "
                             f"scoring=, the data): {text}. Make the module named there "
                             f"importable on every worker (installed, or on the workers' "
                             f"PYTHONPATH), or define it in your script; see "
                             f"{IMPORTABLE_NOTE}") from exc
        root = exc
        while root.__cause__ is not None:
            root = root.__cause__
        if root is not exc:  # why Dask could not serialize it, e.g. a lock in a closure
            text = f"{text} ({type(root).__name__}: {root})"
        raise ModelError(f"sending fit={name} (module {module!r}) and the data to the Dask "
                         f"workers failed: {text}") from exc


def _running_when_lost(client: Any, labels: dict[str, tuple], running: list[tuple]) -> str:
    """Which fits were running when a cancellation came: those the scheduler lists as
    processing on a worker it removed (its ``remove-worker`` events, when it still answers
    within 2 s), and those that announced their start without finishing (``running``; the
    announcement of a fit that killed its worker at once may never have left it)."""
    lost: list[tuple] = []
    with contextlib.suppress(Exception):  # the scheduler itself went away
        events = client.sync(client.scheduler.events, topic="all", callback_timeout=2)
        lost = [labels[key] for _, event in events if isinstance(event, dict)
                and event.get("action") == "remove-worker"
                for key in sorted(event.get("processing-tasks", ())) if key in labels]
    parts = []
    if lost:
        parts.append(f"Running on the workers that went away: "
                     f"{', '.join(repr(label) for label in lost)}")
    rest = [label for label in running if label not in lost]
    if rest:
        parts.append(f"{'Also running' if lost else 'Running'} then: "
                     f"{', '.join(repr(label) for label in rest)}")
    return ". ".join(parts) + "." if parts else "No fit was known to be running then."


class Ahead:
    """The optional fits chosen, once, for the slots a dispatch would leave idle at its end
    (``ahead`` of :meth:`varimp.engines.retrain.RetrainEngine.execute`), from the results
    finished by then (``done``). The choice may run in joblib's dispatching thread: an error
    is kept and raised later, in the caller's thread (:meth:`check`)."""

    def __init__(self, ahead: Callable[[dict[int, Any]], Sequence[SeededFit]] | None,
                 spare: int) -> None:
        self.ahead, self.spare = ahead, spare
        self.done: dict[int, Any] = {}
        self.chosen: list[SeededFit] | None = None
        self.error: BaseException | None = None

    def choose(self) -> list[SeededFit]:
        if self.chosen is None:
            self.chosen = []
            if self.spare and self.ahead is not None:
                try:
                    chosen = list(self.ahead(dict(self.done)))[:self.spare]
                    bad = [item for item in chosen
                           if not isinstance(item, SeededFit) or not item.optional]
                    if bad:
                        raise InputError(f"ahead must return optional SeededFit objects; "
                                         f"received {describe(bad[0])}")
                    self.chosen = chosen
                except Exception as exc:  # raised by check(), in the caller's thread
                    self.error = exc
        return self.chosen

    def check(self) -> None:
        if self.error is not None:
            raise self.error


@contextlib.contextmanager
def session(n_jobs: int | None = None, backend: str | None = None) -> Iterator[None]:
    """Keep one set of Dask workers for every engine run in the block.

    With ``backend="dask"`` and no current ``dask.distributed`` client, starts a
    ``LocalCluster`` of ``n_jobs`` (default 2) single-threaded worker processes, makes its
    client the current one for the block (engines find it) and closes both afterwards, also
    when the block raises; otherwise does nothing. Methods that run the engine several times
    (one run per step of a stepwise search) wrap their search in it, so that the workers start
    once. joblib's loky workers are reused between runs without it.
    """
    n_jobs = check_n_jobs(n_jobs)
    if check_backend(backend) != "dask" or current_client() is not None:
        yield
        return
    cluster, client = start_cluster(workers(n_jobs) if n_jobs else 2)
    try:
        with client.as_current():
            yield
    finally:
        client.close()
        cluster.close()


def current_client() -> Any:
    """The current ``dask.distributed`` client (on a worker: the worker's), or None."""
    from distributed import get_client

    try:
        return get_client()
    except ValueError:
        return None


#: Settings of the LocalCluster varimp starts, which has no dashboard: no statistical profiler
#: (it samples every running task's stack 100 times a second), and the event loops' tick and
#: system monitor, which feed the dashboard, at 1 s and 5 s instead of 20 ms and 0.5 s. Each
#: wakes the worker's event loop, which then takes the GIL from the fit: together about 8% of a
#: small network's training time. A fit that kills its worker is not retried on another
#: (allowed-failures 0, instead of 3): it fails at once, as a ``KilledWorker`` naming it, rather
#: than killing the other workers in turn; and a single-threaded worker holds one fit at a time
#: (worker-saturation 1.0, instead of 1.1 rounded up to 2), so that a dead worker takes no
#: queued fit down with the one that killed it. Its scheduler's HTTP server, which Dask always
#: starts, serves no routes (on a free port: :func:`start_cluster`).
_OWN_CLUSTER = {"distributed.worker.profile.enabled": False,
                "distributed.admin.tick.interval": "1s",
                "distributed.admin.system-monitor.interval": "5s",
                "distributed.scheduler.allowed-failures": 0,
                "distributed.scheduler.worker-saturation": 1.0,
                "distributed.scheduler.http.routes": []}

#: The level of distributed's log handlers while varimp's own cluster lives: above CRITICAL.
_SILENT = logging.CRITICAL + 10


#: Why a LocalCluster's worker processes fail to start, most often.
_CLUSTER_FAILED = (
    "backend='dask' could not start the worker processes of a local Dask cluster ({error}). "
    "The usual cause is a script that calls varimp at its top level: each worker process "
    "starts by importing the main module again, as with multiprocessing, so the code that runs "
    "the call must sit under `if __name__ == \"__main__\":` (a notebook or an interactive "
    "session needs no guard). Otherwise, start a dask.distributed.Client yourself (varimp uses "
    "the current one), or use n_jobs with the default joblib backend")


def start_cluster(n_workers: int) -> tuple[Any, Any]:
    """A LocalCluster of single-threaded worker processes, no dashboard (``_OWN_CLUSTER``);
    a worker that fails to start (a script without a main guard) is a :class:`VarImpError`
    that says so.

    No dashboard: Dask's scheduler always opens an HTTP server, by default on port 8787 (and
    warns when that port is taken, by a notebook's cluster say); varimp's listens on a free
    port of 127.0.0.1 chosen by the system and serves no page (no routes, no Bokeh).

    Its logs are silenced while it lives (``silence_logs``: Dask's own switch, which sets the
    level of distributed's stderr handlers in this process and in the workers; above
    CRITICAL, so nothing is printed): a failure is reported as a :class:`varimp.ModelError`
    naming the fit, so the workers' "Compute Failed" tracebacks, the "Failed to Serialize"
    ones of an object that cannot be sent and the nannies' and scheduler's warnings about a
    dead worker would only repeat it. A cluster of the user's own keeps its logging."""
    import dask
    from distributed import Client, LocalCluster

    with dask.config.set(_OWN_CLUSTER):
        try:
            cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=_SILENT,
                                   scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})
        except RuntimeError as exc:  # "Nanny failed to start.": a worker process died at start
            raise VarImpError(_CLUSTER_FAILED.format(error=f"{type(exc).__name__}: {exc}")) \
                from exc
    try:
        return cluster, Client(cluster, set_as_default=False)
    except BaseException:
        cluster.close()
        raise


def _threads_by_host(client: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for address, info in client.scheduler_info().get("workers", {}).items():
        host = host_of(address)
        counts[host] = counts.get(host, 0) + int(info.get("nthreads", 1))
    return counts


def _replace(obj: Any, **changes: Any) -> Any:
    from dataclasses import replace

    return replace(obj, **changes)


def _distinct(settings: Iterator[DataSetting]) -> dict[int, DataSetting]:
    """Each setting once, by identity (fits of one engine share its setting)."""
    return {id(setting): setting for setting in settings}


def workers(n_jobs: int | None) -> int:
    """Workers for a validated ``n_jobs``: None is 1, ``-k`` is ``cpu_count + 1 - k``."""
    if n_jobs is None:
        return 1
    return n_jobs if n_jobs > 0 else max(1, (os.cpu_count() or 1) + 1 + n_jobs)


def check_n_jobs(n_jobs: object) -> int | None:
    """``n_jobs`` as an int (None kept), or an :class:`~varimp.InputError` saying what is
    allowed."""
    if n_jobs is None:
        return None
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral) or n_jobs == 0 \
            or (os.cpu_count() or 1) + 1 + int(n_jobs) < 1:
        raise InputError(f"n_jobs must be None, a positive integer or -1 (all cores), -2 (all "
                         f"but one), ...; received {n_jobs!r}")
    return int(n_jobs)


def check_backend(backend: object) -> str | None:
    """``backend`` when it is None, ``"dask"`` or a joblib backend name, else an
    :class:`~varimp.InputError` listing the names."""
    if backend is None or backend == "dask":
        return backend
    from joblib.parallel import BACKENDS

    if not isinstance(backend, str) or backend not in BACKENDS:
        raise InputError(f"backend must be None, 'dask' or a joblib backend name "
                         f"{sorted(BACKENDS)}; received {backend!r}")
    return backend
