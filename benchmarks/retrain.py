"""Speed of the retraining engine: one process, 2 joblib workers and a 2-worker Dask cluster.

Two workloads on Friedman #1 (``varimp.datasets.friedman1``, 10 inputs, 5 of them noise), a
small PyTorch MLP trained by ``varimp.train_mlp`` (seeded, one torch thread), 25% of the rows
held out to measure the error:

1. **one step**: the first step of backward stepwise elimination, 10 independent fits each
   removing one input (held at its training mean), run by
   :class:`varimp.engines.retrain.RetrainEngine`. Every fit times itself on the worker, so the
   sum of the bare fit times is measured in the same run; ``overhead`` is the wall time minus
   that sum divided by the workers (a perfect share of the fits).
2. **backward stepwise**: the whole ``varimp.backward_stepwise`` search (``1 + 10 * 11 / 2 =
   56`` fits in 11 rounds whose fits run in parallel), when the method is available. The bare fit
   times come from the one-process run; the ideal time on ``k`` workers is, summed over the
   rounds, ``max(longest fit, sum of fits / k)``: rounds of 1, 3, 5, ... candidates cannot keep
   two workers busy, so the ideal speed-up of 2 workers is below 2.

Every backend gets one warm-up run first (workers start and import torch once: a ``Client``
or loky's reusable pool keeps them); the times are the best of ``--rounds`` runs afterwards.
The start of the Dask ``LocalCluster`` and of joblib's pool is printed apart. Every backend must
return the same numbers (checked). ``speed-up`` divides the one-process time by the backend's.

Usage: ``python benchmarks/retrain.py [--quick] [--rounds N] [--epochs N]``.
"""

from __future__ import annotations

import argparse
import functools
import time
import warnings

import numpy as np
from speed import best_time  # the same timer as the speed benchmark (scripts share a folder)

import varimp
from varimp.engines.retrain import FitData, FitTask, RetrainEngine

N_SAMPLES, HOLD_OUT = 1000, 250


class TimedFit:
    """``varimp.train_mlp`` that records its own duration on the model (and in ``log`` when it
    runs in this process)."""

    log: list[float] = []

    def __init__(self, **options: object) -> None:
        self.fit = functools.partial(varimp.train_mlp, **options)

    def __call__(self, X: np.ndarray, y: np.ndarray, random_state: int) -> object:
        start = time.perf_counter()
        model = self.fit(X, y, random_state=random_state)
        model.fit_seconds = time.perf_counter() - start
        TimedFit.log.append(model.fit_seconds)
        return model


def held_out_error(model: object, data: FitData) -> np.ndarray:
    """``[held-out MSE, the fit's own duration]``."""
    import torch

    with torch.no_grad():
        pred = model(torch.as_tensor(data.X_test, dtype=torch.float32)).numpy()[:, 0]
    return np.array([np.mean((pred - data.y_test) ** 2), model.fit_seconds])


def one_step(X: np.ndarray, y: np.ndarray, fit: TimedFit, backends: dict, rounds: int) -> None:
    tasks = [FitTask(("backward", 1, f"x{j + 1}"), removed=(j,)) for j in range(X.shape[1])]
    rows = np.arange(N_SAMPLES - HOLD_OUT, N_SAMPLES)
    reference = None
    print(f"\none step: {len(tasks)} fits of a {X.shape[1]}-16-1 MLP, removal='mean'")
    print(f"{'backend':<22}{'wall s':>9}{'sum fits s':>12}{'ideal s':>9}{'overhead s':>12}"
          f"{'overhead %':>12}{'speed-up':>10}")
    base = None
    for name, (workers, options, context) in backends.items():
        engine = RetrainEngine(fit, X, y, test_rows=rows, random_state=0, progress=False,
                               **options)
        with context():
            wall, out = best_time(lambda engine=engine: engine.run(tasks, held_out_error),
                                  rounds)
        out = np.array(out)
        if reference is None:
            reference = out[:, 0]
        if not np.array_equal(out[:, 0], reference):
            raise AssertionError(f"{name} returned other errors than one process")
        bare = float(out[:, 1].sum())
        ideal = bare / workers
        base = base or wall
        print(f"{name:<22}{wall:9.2f}{bare:12.2f}{ideal:9.2f}{wall - ideal:12.2f}"
              f"{100 * (wall - ideal) / ideal:11.1f}%{base / wall:10.2f}")


def stepwise(X: np.ndarray, y: np.ndarray, fit: TimedFit, backends: dict, rounds: int) -> None:
    method = getattr(varimp, "backward_stepwise", None)
    if method is None:
        print("\nbackward stepwise: varimp.backward_stepwise is not available; skipped")
        return
    model = fit(X, y, random_state=0)
    p = X.shape[1]
    print(f"\nbackward stepwise: {1 + p * (p + 1) // 2} fits in {p + 1} rounds")
    print(f"{'backend':<22}{'wall s':>9}{'sum fits s':>12}{'ideal s':>9}{'overhead s':>12}"
          f"{'overhead %':>12}{'speed-up':>10}")
    sizes = [1] + [p - step for step in range(p)]
    reference, base, times = None, None, None
    for name, (workers, options, context) in backends.items():
        def run(options=options):
            return method(model, X, y, fit=fit, validation_fraction=HOLD_OUT / N_SAMPLES,
                          random_state=0, progress=False, **options)

        TimedFit.log.clear()
        with context():
            wall, result = best_time(run, rounds)
        if times is None:  # the one-process run: the fits ran here, in order
            times = np.array(TimedFit.log[-sum(sizes):])
        if reference is None:
            reference = result.scores
        if not reference.equals(result.scores):
            raise AssertionError(f"{name} returned other scores than one process")
        rounds_of = np.split(times, np.cumsum(sizes)[:-1])
        ideal = sum(max(r.max(), r.sum() / workers) for r in rounds_of)
        base = base or wall
        print(f"{name:<22}{wall:9.2f}{times.sum():12.2f}{ideal:9.2f}{wall - ideal:12.2f}"
              f"{100 * (wall - ideal) / ideal:11.1f}%{base / wall:10.2f}")
    print("ranking:", " > ".join(reference.sort_values(ascending=False).index))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs, one round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--workload", choices=("step", "stepwise", "both"), default="both")
    args = parser.parse_args()
    epochs, rounds = (20, 1) if args.quick else (args.epochs, args.rounds)
    warnings.filterwarnings("ignore")
    X, y, _ = varimp.datasets.friedman1(N_SAMPLES, random_state=0)
    fit = TimedFit(hidden=(16,), epochs=epochs, batch_size=32)

    from contextlib import nullcontext

    from distributed import Client, LocalCluster

    start = time.perf_counter()
    RetrainEngine(fit, X[:100], y[:100], n_jobs=2).run([FitTask(("warm-up", i)) for i in
                                                        range(2)], held_out_error)
    print(f"joblib: 2 loky workers started and warmed up in {time.perf_counter() - start:.1f} s")
    start = time.perf_counter()
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    client = Client(cluster, set_as_default=False)
    with client.as_current():
        RetrainEngine(fit, X[:100], y[:100], backend="dask").run(
            [FitTask(("warm-up", i)) for i in range(2)], held_out_error)
    print(f"dask: LocalCluster of 2 workers started and warmed up in "
          f"{time.perf_counter() - start:.1f} s")
    backends = {
        "1 process": (1, {}, nullcontext),
        "joblib, 2 workers": (2, {"n_jobs": 2}, nullcontext),
        "dask, 2 workers": (2, {"backend": "dask"}, client.as_current),
    }
    try:
        if args.workload in ("step", "both"):
            one_step(X, y, fit, backends, rounds)
        if args.workload in ("stepwise", "both"):
            stepwise(X, y, fit, backends, rounds)
    finally:
        client.close()
        cluster.close()


if __name__ == "__main__":
    main()
