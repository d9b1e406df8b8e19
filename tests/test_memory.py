"""Bounded memory: per-cell scoring of a long sequence stays within ``max_memory``.

A tiny GRU reads a sequence of 500 steps x 50 features; every method that takes
``max_memory`` scores every variable and, where it can, every one of the 25,000 cells
(``by_time=True``). Holding every perturbed copy at once would take
``25,050 copies x 500 x 50 x 8`` bytes (5 GB); the engine holds at most ``max_memory`` bytes of
perturbed input. The job runs in a fresh subprocess, which reports:

- the growth of the process's peak resident set size (``resource.getrusage``) during the job,
  over a measured baseline: the same job without the per-cell tasks (``by_time=False``: the
  same model, data, call sizes and torch workspaces), run first in the same process;
- the peak of memory allocated from Python and NumPy during a second, traced run of the job
  (``tracemalloc``; its own records would inflate the resident size of the first).

Allowed: ``max_memory`` + the model + the data (the caller's array, varimp's float64 copy, the
unperturbed predictions and recurrent states: 4 x ``X.nbytes``) + the bookkeeping of the
perturbed copies (at most 1 KiB per copy, i.e. per scored variable or cell and repeat: measured
0.65 to 0.8 KiB; it does not shrink with ``max_memory``) + the baseline.

A copy that alone is larger than the budget (a group of every feature at every step of many
sequences) is built piece by piece: the engine's own allocations while it runs (tracemalloc, X
and its predictions made before) stay within ``max_memory`` plus the copy's predictions, the
rows' reference predictions and the row order of a permutation (the current and the previous
draw): ``n`` floats each.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import textwrap
import tracemalloc

import numpy as np
import pytest
import reliability_models as rm

from varimp.adapters import adapt
from varimp.engines import DEFAULT_MAX_MEMORY, Hold, Noise, Permute, PerturbationEngine, Task

STEPS, FEATURES, SAMPLES = 500, 50, 2
BUDGET = 16 * 2**20
PER_TASK = 1024

SCRIPT = textwrap.dedent("""
    import json, resource, sys, tracemalloc
    import numpy as np, torch
    from torch import nn
    import varimp

    torch.set_num_threads(1)
    steps, features, samples, budget = (int(a) for a in sys.argv[1:5])
    method, needs_y, by_time = sys.argv[5], sys.argv[6] == "1", sys.argv[7] == "1"

    class GRUNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.GRU(features, 4, batch_first=True)
            self.head = nn.Linear(4, 1)

        def forward(self, x):
            return self.head(self.rnn(x)[0][:, -1])

    def peak_rss():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux

    torch.manual_seed(0)
    model = GRUNet()
    rng = np.random.default_rng(0)
    X = rng.normal(size=(samples, steps, features))
    y = rng.normal(size=samples) if needs_y else None
    options = dict(method=method, max_memory=budget, **json.loads(sys.argv[8]))

    def run(X, **extra):
        return varimp.importance(model, X, y, **options, **extra)

    run(X[:, :20])  # imports and lazy initialisation
    start = peak_rss()
    if by_time:  # the same job without the per-cell tasks
        run(X, by_time=False)
    baseline = peak_rss() - start
    job = dict(by_time=True) if by_time else {}
    result = run(X, **job)
    rss_growth = peak_rss() - start
    tracemalloc.start()  # a second run, traced: tracemalloc's own records would inflate RSS
    run(X, **job)
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(json.dumps({
        "traced_peak": traced, "rss_growth": rss_growth, "baseline": baseline,
        "data_bytes": X.nbytes,
        "model_bytes": sum(p.numel() * p.element_size() for p in model.parameters()),
        "by_time_shape": None if result.by_time is None else list(result.by_time.shape),
        "finite": bool(np.isfinite(result.scores.to_numpy()).all() and (
            result.by_time is None or np.isfinite(result.by_time.to_numpy()).all())),
    }))
""")


#: Cheap options per method (the perturbation of the reference LSTM experiment).
OPTIONS = {"perturbation": {"noise": 0.2, "scale": "absolute", "random_state": 0},
           "permutation": {"random_state": 0, "n_repeats": 1}}
BOUNDED = [m for m in rm.REGISTERED if m not in rm.METHOD_SPECS or rm.accepts(m, "max_memory")]


@functools.cache
def measure(method: str) -> dict:
    row = rm.spec(method)
    by_time = rm.accepts(method, "by_time")
    args = [str(STEPS), str(FEATURES), str(SAMPLES), str(BUDGET), method,
            "1" if row.needs_y else "0", "1" if by_time else "0",
            json.dumps(OPTIONS.get(method, {}))]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", SCRIPT, *args], capture_output=True, text=True,
                         timeout=600, env=env, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def _allowance(m: dict) -> int:
    tasks = FEATURES + STEPS * FEATURES  # the most any method schedules here
    return BUDGET + m["model_bytes"] + 4 * m["data_bytes"] + PER_TASK * tasks


@pytest.mark.parametrize("method", BOUNDED)
def test_long_sequence_within_the_memory_budget(method: str):
    m = measure(method)
    if rm.accepts(method, "by_time"):
        assert m["by_time_shape"] == [STEPS, FEATURES]
    assert m["finite"]
    naive = (FEATURES + STEPS * FEATURES) * m["data_bytes"]  # every copy held at once
    assert naive > 50 * _allowance(m)
    assert m["traced_peak"] <= _allowance(m), m  # Python and NumPy
    assert m["rss_growth"] <= _allowance(m) + m["baseline"], m  # the whole process


def test_memory_bounded_methods_include_perturbation():
    assert "perturbation" in BOUNDED


def test_default_budget_is_256_mib_and_documented():
    assert DEFAULT_MAX_MEMORY == 256 * 2**20
    readme = os.path.join(os.path.dirname(__file__), "..", "README.md")
    with open(readme, encoding="utf-8") as handle:
        assert "256 MiB" in handle.read()



def _mse(pred, reference, rows):
    return float(np.mean((pred - reference) ** 2))


@pytest.mark.parametrize("how", [Permute(), Noise(0.3), Hold(0.0)], ids=repr)
def test_a_copy_larger_than_the_budget_is_built_in_pieces(how):
    n, steps, features, budget = 4000, 50, 4, 256 * 2**10
    X = np.random.default_rng(0).normal(size=(n, steps, features))
    assert X.nbytes >= 24 * budget  # one copy's perturbed cells, held whole before
    tasks, rows = [Task(tuple(range(features)), how)], [None, np.arange(n)[::2]]
    with rm.one_torch_thread():
        model = rm.torch_gru(features)
        engine = PerturbationEngine(adapt(model), X, max_memory=budget)
        assert engine.base.shape == (n, 1, 1)  # made before, as X was
        tracemalloc.start()
        try:
            got = engine.run(tasks, _mse, n_repeats=2, seed=1, rows=rows)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        whole = PerturbationEngine(adapt(model), X).run(tasks, _mse, n_repeats=2, seed=1,
                                                        rows=rows)
    fixed = 4 * n * 8 + 16 * 2**10  # predictions, reference, two row orders; Python objects
    assert peak <= budget + fixed, (peak, budget, fixed)
    assert np.all(got > 0)
    np.testing.assert_allclose(got, whole, rtol=1e-5)  # other calls: float32 rounding only
