"""The retraining engine: many independent fits, sequentially, on joblib processes or on Dask.

Forward and backward stepwise selection (Olden, Joy & Death 2004), the randomization test
(Olden & Jackson 2002) and ensembles of networks all train the same network many times on
altered data. A :class:`FitTask` says how one fit's data differ (inputs removed, targets
permuted, rows resampled); :class:`RetrainEngine` runs every task's fit and hands the fitted
model, with the data it saw (:class:`FitData`), to an ``evaluate`` callable on the worker, so
only the small result travels back. What happens on the worker, for one fit (its data,
its random draws, the removal of inputs, its failures), is in :mod:`varimp.engines.fits`.

Seeds
    One integer is drawn from ``random_state`` (:func:`varimp.engines.seed_from`) and
    ``numpy.random.SeedSequence(that).spawn(len(tasks))`` gives each task, by its position in
    the list, a seed ``int(child.generate_state(1)[0])`` in ``[0, 2**32)`` (valid for
    scikit-learn, torch and NumPy alike). Every seed is drawn before anything is dispatched, so
    a result depends on ``random_state`` and the task's position only: not on the backend, the
    number of workers or the order in which fits finish. :meth:`RetrainEngine.fits` pairs each
    task with its seed and its engine's data settings (a :class:`SeededFit`);
    :meth:`RetrainEngine.execute` runs any such list in one dispatch, also fits planned by other
    engines over the same ``fit``, ``X`` and ``y`` (other seeds, held-out rows or removal), so
    that a search can run the fits of several steps or folds side by side.

Backends
    ``n_jobs`` None or 1: in this process, one fit after another. ``n_jobs > 1`` (``-1``: all
    cores, ``-2``: all but one, as in joblib): joblib processes (``backend`` None means loky,
    or any joblib backend name); arrays over 1 MB are written once to a memory-mapped file that
    every worker reads. ``backend="dask"``: the current ``dask.distributed`` client, or a
    ``LocalCluster`` of ``n_jobs`` (default 2) single-threaded worker processes started for the
    run and closed afterwards (or once for a whole block: :func:`session`); ``X``, ``y``,
    ``fit`` and ``evaluate`` are scattered to every worker once per run. Each worker process
    limits torch's intra-op threads and the BLAS/OpenMP pools (threadpoolctl) to its share of
    the cores, ``max(1, os.cpu_count() // workers)`` (on Dask, the workers' threads on the same
    host), and restores them after each fit, so two workers on two cores really run side by
    side. See ``docs/parallel.md`` for a cluster of several machines.

Warnings
    A fit run in another process (joblib's processes, Dask workers) records its Python
    warnings and returns them with its result; once every fit has finished, they are raised
    again here, in the caller's process, each with its category and message, in the order of
    the fits (:func:`varimp.engines.fits.warn_again`). The caller's filters then apply as to
    any warning of its own: shown once each by Python's default filters, counted one by one by
    the command line, never printed raw by a worker.

Failures
    A fit or an evaluation that raises, a fit that returns None, an evaluation that returns a
    non-finite number (or a float array holding one), or a worker process that dies raises a
    :class:`varimp.ModelError` naming the fit (its task label); the remaining fits are
    cancelled and a cluster started for the call is closed. A fit marked ``optional`` (run
    ahead on a guess, its result perhaps never used) returns its failure instead, as a
    :class:`Failed` result, so that only a fit whose result is used can stop the work.

References
----------
Olden, J. D. & Jackson, D. A. (2002). Illuminating the "black box": a randomization approach
for understanding variable contributions in artificial neural networks. Ecological Modelling
154, 135-150.
Olden, J. D., Joy, M. K. & Death, R. G. (2004). An accurate comparison of methods for
quantifying variable importance in artificial neural networks using simulated data.
Ecological Modelling 178, 389-397.
"""

from __future__ import annotations

import contextlib
import numbers
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from ..errors import InputError, ModelError, VarImpError, describe
from ..progress import check_progress, progress_bar
from .fits import (
    REMOVALS,
    DataSetting,
    Failed,
    FitData,
    FitTask,
    Job,
    SeededFit,
    TaskResult,
    accepts_random_state,
    check_removed,
    fit_data,
    host_of,
    run_task,
    thread_limits,
    warn_again,
)
from .tasks import seed_from


class RetrainEngine:
    """Run many independent fits of ``fit`` on altered copies of ``(X, y)``.

    Parameters
    ----------
    fit : callable
        ``fit(X, y) -> model``; called as ``fit(X, y, random_state=seed)`` when its signature
        has a ``random_state`` parameter (or ``**kwargs``). It receives its own copies of the
        data, so a fit that writes into them changes nothing else.
    X : ndarray of shape (n_samples, n_features) or (n_samples, n_timesteps, n_features)
    y : ndarray with n_samples rows
    removal : {"mean", "drop"}
        How a removed input is removed (see the module docstring).
    test_rows : array of int, optional
        Rows held out from training (``X_test``, ``y_test``); None: train and test on all rows.
    n_jobs : int, optional
        None or 1: sequential; ``k > 1``: ``k`` workers; ``-1``: one per core.
    backend : str, optional
        None or a joblib backend name (``"loky"``, ``"multiprocessing"``, ``"threading"``,
        ...) for ``n_jobs > 1``; ``"dask"``: the current ``dask.distributed`` client, else a
        ``LocalCluster`` of ``n_jobs`` workers (2 when ``n_jobs`` is None) for each run.
    progress : bool, optional
        Progress bar over fits (None: shown once the work has lasted a few seconds).
    random_state : int, numpy Generator or None
        Source of every fit's seed.
    strata : array of int, optional
        A classifier's class index of every row: a task's bootstrap is then stratified, each
        class resampled within itself (:func:`varimp.engines.fits.bootstrap_rows`).
    """

    def __init__(self, fit: Callable, X: np.ndarray, y: np.ndarray, *, removal: str = "mean",
                 test_rows: np.ndarray | None = None, n_jobs: int | None = None,
                 backend: str | None = None, progress: bool | None = None,
                 random_state: object = None, strata: np.ndarray | None = None) -> None:
        if not callable(fit):
            raise InputError(f"fit must be a callable fit(X, y) -> model; received "
                             f"{describe(fit)}")
        X, y = np.asarray(X), np.asarray(y)
        if X.ndim not in (2, 3) or X.shape[0] == 0:
            raise InputError(f"X must be (n_samples, n_features) or (n_samples, n_timesteps, "
                             f"n_features) with at least one row; received shape {X.shape}")
        if y.ndim == 0 or y.shape[0] != X.shape[0]:
            raise InputError(f"y must have one row per row of X ({X.shape[0]}); received shape "
                             f"{y.shape}")
        if removal not in REMOVALS:
            raise InputError(f"removal must be one of {list(REMOVALS)}; received {removal!r}")
        self.fit, self.X, self.y, self.removal = fit, X, y, removal
        self.test_rows = _check_rows(test_rows, X.shape[0])
        self.n_jobs = _check_n_jobs(n_jobs)
        self.backend = _check_backend(backend)
        self.progress = check_progress(progress)
        self.random_state = random_state
        train = np.ones(X.shape[0], dtype=bool)
        if self.test_rows is not None:
            train[self.test_rows] = False
        self.means = X[train].reshape(-1, X.shape[-1]).mean(axis=0)
        if strata is not None:
            strata = np.asarray(strata)
            if strata.shape != (X.shape[0],) or strata.dtype.kind not in "iu":
                raise InputError(f"strata must hold one integer class per row of X "
                                 f"({X.shape[0]}); received {describe(strata)}")
        self.setting = DataSetting(removal, self.means, self.test_rows, strata)

    @property
    def n_workers(self) -> int:
        """Fits that run at once: 1 sequentially, ``n_jobs`` workers with joblib; on Dask the
        current client's worker threads (without a client, those of the cluster it would
        start)."""
        if self.backend == "dask":
            client = _current_client()
            if client is not None:
                return max(1, sum(client.nthreads().values()))
            return _workers(self.n_jobs) if self.n_jobs else 2
        return _workers(self.n_jobs)

    def seeds(self, n_tasks: int) -> list[int]:
        """The seeds of ``n_tasks`` fits, by position: ``SeedSequence(seed_from(random_state))``
        spawned ``n_tasks`` times, each child's first 32-bit word."""
        root = np.random.SeedSequence(seed_from(self.random_state))
        return [int(child.generate_state(1)[0]) for child in root.spawn(n_tasks)]

    def fits(self, tasks: Sequence[FitTask], optional: bool = False) -> list[SeededFit]:
        """Every task with its seed (:meth:`seeds`, by position) and this engine's data
        setting, ready for :meth:`execute`."""
        tasks = list(tasks)
        for task in tasks:
            if not isinstance(task, FitTask):
                raise InputError(f"tasks must be FitTask objects; received {describe(task)}")
            check_removed(task, self.X.shape[-1], self.removal)
        return [SeededFit(task, seed, self.setting, optional)
                for task, seed in zip(tasks, self.seeds(len(tasks)), strict=True)]

    def run(self, tasks: Sequence[FitTask], evaluate: Callable[[Any, FitData], Any]) -> list[Any]:
        """Fit every task and return ``evaluate(model, data)`` of each, in task order.

        ``fit(X_train, y_train)`` (with ``random_state=seed`` when ``fit`` accepts it) and
        ``evaluate`` both run on the worker. Seeds depend only on ``random_state`` and the
        task's position, so the results are identical on every backend.

        Raises
        ------
        varimp.ModelError
            A fit or evaluation raised, returned None (fit) or a non-finite number (evaluate),
            or a worker died; the message names the fit.
        """
        return self.execute(self.fits(tasks), evaluate)

    def execute(self, fits: Sequence[SeededFit], evaluate: Callable[[Any, FitData], Any],
                ahead: Callable[[dict[int, Any]], Sequence[SeededFit]] | None = None,
                label: str = "fits") -> list[Any]:
        """Run planned fits (this engine's or another's over the same ``fit``, ``X`` and
        ``y``) in one dispatch and return ``evaluate(model, data)`` of each, in order; an
        optional fit that failed gives a :class:`Failed`. Raises as :meth:`run`.

        ``ahead(done)``: when the fits would leave workers idle at the end of the dispatch (a
        number of fits that is not a multiple of :attr:`n_workers`), it is called once, as the
        first worker is about to go idle, with the results of the fits finished so far (by
        index); the optional fits it returns run in the idle slots (at most as many as there
        are), and their results follow the others'. Never called on one worker.

        ``label``: the progress bar's label (e.g. ``"backward_stepwise: fits, step 2 of 8"``).
        """
        fits = list(fits)
        for item in fits:
            if not isinstance(item, SeededFit):
                raise InputError(f"fits must be SeededFit objects; received {describe(item)}")
        if not callable(evaluate):
            raise InputError(f"evaluate must be a callable evaluate(model, data); received "
                             f"{describe(evaluate)}")
        if not fits:
            return []
        job = Job(accepts_random_state(self.fit), None)
        n_workers = self.n_workers
        extra = _Ahead(ahead, -len(fits) % n_workers if ahead is not None else 0)
        with progress_bar(len(fits), self.progress, desc=label, unit="fit") as bar:
            if self.backend == "dask":
                done = self._run_dask(fits, evaluate, job, bar, extra)
            elif n_workers == 1:
                done = self._run_sequential(fits, evaluate, job, bar)
            else:
                done = self._run_joblib(fits, evaluate, job, bar, extra)
        warn_again(done)
        return [result.value for result in done]

    def _run_sequential(self, fits: list[SeededFit], evaluate: Callable, job: Job,
                        bar: Any) -> list[TaskResult]:
        results = []
        for index, item in enumerate(fits):
            results.append(run_task(index, item, item.setting, self.X, self.y, self.fit,
                                     evaluate, job))
            bar.update(1)
        return results

    def _run_joblib(self, fits: list[SeededFit], evaluate: Callable, job: Job, bar: Any,
                    extra: _Ahead) -> list[TaskResult]:
        from joblib import Parallel, delayed
        from joblib.externals.loky.process_executor import TerminatedWorkerError

        n_workers = self.n_workers
        threads = max(1, (os.cpu_count() or 1) // n_workers)
        in_process = self.backend == "threading"
        trace_dir = None if in_process else tempfile.mkdtemp(prefix="varimp-fits-")
        job = _replace(job, threads=None if in_process else threads, trace_dir=trace_dir)
        planned = list(fits)

        def calls() -> Iterator[Any]:  # joblib draws the next call as a worker frees up
            for index, item in enumerate(fits):
                yield delayed(run_task)(index, item, item.setting, self.X, self.y, self.fit,
                                         evaluate, job)
            for index, item in enumerate(extra.choose(), start=len(fits)):
                planned.append(item)
                yield delayed(run_task)(index, item, item.setting, self.X, self.y, self.fit,
                                         evaluate, job)

        # one fit per dispatch: a fit is long, and batching several on one worker would leave
        # the other workers idle at the end of the list; with fits to choose ahead, no more
        # dispatched than there are workers, so that the choice waits for the last results
        parallel = Parallel(n_jobs=n_workers, backend=self.backend, batch_size=1,
                            pre_dispatch=n_workers if extra.spare else "2 * n_jobs",
                            return_as="generator_unordered")
        results: dict[int, TaskResult] = {}
        try:
            with thread_limits(threads if in_process else None):
                for result in parallel(calls()):
                    results[result.index] = result
                    if result.index < len(fits):
                        extra.done[result.index] = result.value
                        bar.update(1)
        except (TerminatedWorkerError, BrokenPipeError, EOFError) as exc:
            running = sorted(int(name) for name in os.listdir(trace_dir)) if trace_dir else []
            names = " or ".join(repr(planned[i].task.label) for i in running) or \
                "an unknown fit"
            raise ModelError(f"a joblib worker died while running fit {names}: "
                             f"{type(exc).__name__}: {exc}") from exc
        finally:
            if trace_dir is not None:
                shutil.rmtree(trace_dir, ignore_errors=True)
        extra.check()
        return [results[index] for index in range(len(results))]

    def _run_dask(self, fits: list[SeededFit], evaluate: Callable, job: Job, bar: Any,
                  extra: _Ahead) -> list[TaskResult]:
        from distributed import CancelledError, KilledWorker, as_completed

        cluster = None
        client = _current_client()
        if client is None:
            cluster, client = _start_cluster(self.n_workers if self.n_jobs else 2)
        futures: list[Any] = []
        try:
            n_workers = max(1, sum(client.nthreads().values()))
            job = _replace(job, threads=_threads_by_host(client))
            data = client.scatter([self.X, self.y, self.fit, evaluate, job], broadcast=True,
                                  hash=False)
            shared: dict[int, Any] = {}
            run_id = uuid.uuid4().hex  # a fresh key per run, also when tasks and seeds repeat
            labels: dict[str, tuple] = {}

            def submit(items: list[SeededFit]) -> list[Any]:
                fresh = [s for i, s in _distinct(item.setting for item in items).items()
                         if i not in shared]
                for setting, future in zip(fresh, client.scatter(fresh, broadcast=True,
                                                                 hash=False), strict=True):
                    shared[id(setting)] = future
                new = [client.submit(run_task, len(futures) + k, _replace(item, setting=None),
                                     shared[id(item.setting)], *data, pure=False,
                                     key=f"varimp-fit-{run_id}-{len(futures) + k}")
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
                    label = labels.get(getattr(exc, "task", None), None)
                    name = repr(label) if label is not None else "an unknown fit"
                    raise ModelError(f"a Dask worker died while running fit {name}: {exc}") \
                        from exc
                except CancelledError as exc:
                    raise ModelError(f"fit {labels[future.key]!r} was cancelled on the Dask "
                                     "cluster (a worker or the scheduler went away)") from exc
                results[result.index] = result
                if result.index < len(fits):
                    unfinished -= 1
                    extra.done[result.index] = result.value
                    bar.update(1)
                    top_up(unfinished)
            extra.check()
            return [results[index] for index in range(len(results))]
        finally:
            if futures:
                client.cancel(futures)
            if cluster is not None:
                client.close()
                cluster.close()


class _Ahead:
    """The optional fits chosen, once, for the slots a dispatch would leave idle at its end
    (:meth:`RetrainEngine.execute`'s ``ahead``), from the results finished by then (``done``).
    The choice may run in joblib's dispatching thread: an error is kept and raised later, in
    the caller's thread (:meth:`check`)."""

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
    """Keep one set of Dask workers for every :meth:`RetrainEngine.run` in the block.

    With ``backend="dask"`` and no current ``dask.distributed`` client, starts a
    ``LocalCluster`` of ``n_jobs`` (default 2) single-threaded worker processes, makes its
    client the current one for the block (engines find it) and closes both afterwards, also
    when the block raises; otherwise does nothing. Methods that run the engine several times
    (one run per step of a stepwise search) wrap their search in it, so that the workers start
    once. joblib's loky workers are reused between runs without it.
    """
    n_jobs = _check_n_jobs(n_jobs)
    if _check_backend(backend) != "dask" or _current_client() is not None:
        yield
        return
    cluster, client = _start_cluster(_workers(n_jobs) if n_jobs else 2)
    try:
        with client.as_current():
            yield
    finally:
        client.close()
        cluster.close()


def _current_client() -> Any:
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
#: small network's training time.
_QUIET_CLUSTER = {"distributed.worker.profile.enabled": False,
                  "distributed.admin.tick.interval": "1s",
                  "distributed.admin.system-monitor.interval": "5s"}


#: Why a LocalCluster's worker processes fail to start, most often.
_CLUSTER_FAILED = (
    "backend='dask' could not start the worker processes of a local Dask cluster ({error}). "
    "The usual cause is a script that calls varimp at its top level: each worker process "
    "starts by importing the main module again, as with multiprocessing, so the code that runs "
    "the call must sit under `if __name__ == \"__main__\":` (a notebook or an interactive "
    "session needs no guard). Otherwise, start a dask.distributed.Client yourself (varimp uses "
    "the current one), or use n_jobs with the default joblib backend")


def _start_cluster(n_workers: int) -> tuple[Any, Any]:
    """A LocalCluster of single-threaded worker processes, no dashboard (``_QUIET_CLUSTER``);
    a worker that fails to start (a script without a main guard) is a :class:`VarImpError`
    that says so."""
    import dask
    from distributed import Client, LocalCluster

    with dask.config.set(_QUIET_CLUSTER):
        try:
            cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None)
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


def _check_rows(rows: object, n: int) -> np.ndarray | None:
    if rows is None:
        return None
    array = np.asarray(rows)
    if array.dtype == bool and array.shape == (n,):
        array = np.flatnonzero(array)
    if (array.ndim != 1 or array.size == 0 or not np.issubdtype(array.dtype, np.integer)
            or array.min() < 0 or array.max() >= n or np.unique(array).size != array.size
            or array.size == n):
        raise InputError(f"test_rows must be distinct row indices in [0, {n}) leaving some "
                         f"rows for training; received {describe(rows)}")
    return array


def _workers(n_jobs: int | None) -> int:
    """Workers for a validated ``n_jobs``: None is 1, ``-k`` is ``cpu_count + 1 - k``."""
    if n_jobs is None:
        return 1
    return n_jobs if n_jobs > 0 else max(1, (os.cpu_count() or 1) + 1 + n_jobs)


def _check_n_jobs(n_jobs: object) -> int | None:
    if n_jobs is None:
        return None
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral) or n_jobs == 0 \
            or (os.cpu_count() or 1) + 1 + int(n_jobs) < 1:
        raise InputError(f"n_jobs must be None, a positive integer or -1 (all cores), -2 (all "
                         f"but one), ...; received {n_jobs!r}")
    return int(n_jobs)


def _check_backend(backend: object) -> str | None:
    if backend is None or backend == "dask":
        return backend
    from joblib.parallel import BACKENDS

    if not isinstance(backend, str) or backend not in BACKENDS:
        raise InputError(f"backend must be None, 'dask' or a joblib backend name "
                         f"{sorted(BACKENDS)}; received {backend!r}")
    return backend


__all__ = ["REMOVALS", "DataSetting", "Failed", "FitData", "FitTask", "RetrainEngine", "SeededFit",
           "fit_data", "session"]
