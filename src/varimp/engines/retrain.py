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
    number of workers or the order in which fits finish (with ``common_seed``, every task gets
    the first of them: common random numbers, for fits meant to differ by their task only).
    :meth:`RetrainEngine.fits` pairs each task with its seed and its engine's data settings (a
    :class:`SeededFit`);
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
    side (fits in threads of this process, joblib's ``"threading"`` or Dask workers in this
    process, share the limits set once around the batch, never raising a lower count the user
    set). Dask workers in this process get a copy of ``fit`` per fit, as worker processes do,
    when ``fit`` can be pickled (one that cannot, a closure over a lock, runs as it is). See
    ``docs/parallel.md`` for a cluster of several machines; the runners are
    :mod:`varimp.engines.backends`.

Warnings
    A fit run in another process (joblib's processes, Dask workers) records its Python
    warnings and returns them with its result; once every fit has finished, they are raised
    again here, in the caller's process, each with its category and message, in the order of
    the fits (:func:`varimp.engines.fits.warn_again`). The caller's filters then apply as to
    any warning of its own: shown once each by Python's default filters, counted one by one by
    the command line, never printed raw by a worker.

Failures
    A fit or an evaluation that raises, a fit that returns None (or, in this process, the
    user's ``model`` itself), an evaluation that returns a non-finite number (or a float array
    holding one), or a worker process that dies raises a :class:`varimp.ModelError` naming the
    fit (its task label), as does a fit's ``SystemExit`` or ``KeyboardInterrupt`` (but the
    latter in the main thread of this process: perhaps the user's Ctrl-C, it stops the work as
    it is); the remaining fits are cancelled and a cluster started for the call
    is closed. On Dask, a dead worker's fit is named by the scheduler (``KilledWorker``; the
    cluster varimp starts does not retry it and runs one fit per worker at a time); a fit that
    is only cancelled (a worker or the scheduler went away) is reported with the fits that were
    running then. The cluster varimp starts keeps Dask's logs quiet, so that a failure reaches
    the user once, as the ``ModelError``. A fit marked ``optional`` (run
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

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..errors import InputError, describe
from ..progress import check_progress, progress_bar
from .backends import (
    Ahead,
    check_backend,
    check_n_jobs,
    current_client,
    run_dask,
    run_joblib,
    run_sequential,
    session,
    workers,
)
from .fits import (
    REMOVALS,
    DataSetting,
    Failed,
    FitData,
    FitTask,
    Job,
    SeededFit,
    accepts_random_state,
    check_removed,
    fit_data,
    keras_backend,
    training_rows,
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
        Rows every fit is judged on (``X_test``, ``y_test``); None: all rows.
    train_rows : array of int, optional
        Rows every fit trains on (``X_train``, ``y_train``) and over which a removed column's
        mean is taken, e.g. the past of a time-series fold; None: every row not in
        ``test_rows`` (all rows without them).
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
    model : object, optional
        The user's model: a fit run in this process that returns this very object (it trained
        the user's model in place) is a :class:`varimp.ModelError`.
    """

    def __init__(self, fit: Callable, X: np.ndarray, y: np.ndarray, *, removal: str = "mean",
                 test_rows: np.ndarray | None = None, train_rows: np.ndarray | None = None,
                 n_jobs: int | None = None, backend: str | None = None,
                 progress: bool | None = None, random_state: object = None,
                 strata: np.ndarray | None = None, model: object = None) -> None:
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
        self.train_rows = _check_rows(train_rows, X.shape[0], "train_rows", all_rows=True)
        self.test_rows = _check_rows(test_rows, X.shape[0], "test_rows",
                                     all_rows=self.train_rows is not None)
        self.n_jobs = check_n_jobs(n_jobs)
        self.backend = check_backend(backend)
        self.progress = check_progress(progress)
        self.random_state = random_state
        self.model_id = None if model is None else id(model)
        if strata is not None:
            strata = np.asarray(strata)
            if strata.shape != (X.shape[0],) or strata.dtype.kind not in "iu":
                raise InputError(f"strata must hold one integer class per row of X "
                                 f"({X.shape[0]}); received {describe(strata)}")
        training = X[training_rows(self.train_rows, self.test_rows, X.shape[0])]
        self.means = training.reshape(-1, X.shape[-1]).mean(axis=0, dtype=np.float64)
        self.setting = DataSetting(removal, self.means, self.train_rows, self.test_rows, strata)

    @property
    def n_workers(self) -> int:
        """Fits that run at once: 1 sequentially, ``n_jobs`` workers with joblib; on Dask the
        current client's worker threads (without a client, those of the cluster it would
        start)."""
        if self.backend == "dask":
            client = current_client()
            if client is not None:
                return max(1, sum(client.nthreads().values()))
            return workers(self.n_jobs) if self.n_jobs else 2
        return workers(self.n_jobs)

    def seeds(self, n_tasks: int) -> list[int]:
        """The seeds of ``n_tasks`` fits, by position: ``SeedSequence(seed_from(random_state))``
        spawned ``n_tasks`` times, each child's first 32-bit word."""
        root = np.random.SeedSequence(seed_from(self.random_state))
        return [int(child.generate_state(1)[0]) for child in root.spawn(n_tasks)]

    def fits(self, tasks: Sequence[FitTask], optional: bool = False,
             common_seed: bool = False) -> list[SeededFit]:
        """Every task with its seed (:meth:`seeds`, by position) and this engine's data
        setting, ready for :meth:`execute`. ``common_seed``: every task gets the first seed,
        ``seeds(1)[0]`` (common random numbers: fits that differ only by their task, such as
        the candidates of a stepwise step, then differ by nothing else)."""
        tasks = list(tasks)
        for task in tasks:
            if not isinstance(task, FitTask):
                raise InputError(f"tasks must be FitTask objects; received {describe(task)}")
            check_removed(task, self.X.shape[-1], self.removal)
        seeds = self.seeds(1) * len(tasks) if common_seed else self.seeds(len(tasks))
        return [SeededFit(task, seed, self.setting, optional)
                for task, seed in zip(tasks, seeds, strict=True)]

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

        ``label``: the progress bar's label (e.g. ``"backward_stepwise: fits, step 2 of 8
        (37 in all)"``).
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
        job = Job(accepts_random_state(self.fit), None, model=self.model_id,
                  keras_backend=keras_backend())
        n_workers = self.n_workers
        extra = Ahead(ahead, -len(fits) % n_workers if ahead is not None else 0)
        with progress_bar(len(fits), self.progress, desc=label, unit="fit") as bar:
            if self.backend == "dask":
                done = run_dask(self, fits, evaluate, job, bar, extra)
            elif n_workers == 1:
                done = run_sequential(self, fits, evaluate, job, bar)
            else:
                done = run_joblib(self, fits, evaluate, job, bar, extra)
        warn_again(done)
        return [result.value for result in done]


def _check_rows(rows: object, n: int, name: str, all_rows: bool) -> np.ndarray | None:
    """Distinct row indices (or a boolean mask) in ``[0, n)``; every row only if ``all_rows``."""
    if rows is None:
        return None
    array = np.asarray(rows)
    if array.dtype == bool and array.shape == (n,):
        array = np.flatnonzero(array)
    if (array.ndim != 1 or array.size == 0 or not np.issubdtype(array.dtype, np.integer)
            or array.min() < 0 or array.max() >= n or np.unique(array).size != array.size
            or (array.size == n and not all_rows)):
        leaving = "" if all_rows else " leaving some rows for training"
        raise InputError(f"{name} must be distinct row indices in [0, {n}){leaving}; received "
                         f"{describe(rows)}")
    return array


__all__ = ["REMOVALS", "DataSetting", "Failed", "FitData", "FitTask", "RetrainEngine", "SeededFit",
           "fit_data", "session"]
