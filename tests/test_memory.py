"""Bounded memory: per-cell scoring of a long sequence stays within ``max_memory``.

A tiny GRU reads sequences of 500 steps x 50 features; perturbation scores every variable and
every one of the 25,000 cells (``by_time=True``). Holding every perturbed copy at once would
take ``25,050 copies x n x 500 x 50 x 8`` bytes (10 GB for two samples); the engine holds at
most ``max_memory`` bytes of perturbed input. The run happens in a fresh subprocess, which
reports:

- the peak of memory allocated from Python and NumPy during the call (``tracemalloc``), and
- the growth of the process's peak resident set size (``resource.getrusage``) during the call,
  over a measured baseline: the same job without the per-cell tasks (``by_time=False``, so the
  same model, data, call sizes and torch workspaces), run first in the same process.

Allowed: ``max_memory`` + the model + the data (the caller's array, varimp's float64 copy, the
unperturbed predictions and recurrent states: 4 x ``X.nbytes``) + the bookkeeping of the tasks
(at most 2 KiB per scored variable or cell: measured about 0.65 KiB) + the baseline.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from varimp.engines import DEFAULT_MAX_MEMORY

STEPS, FEATURES, SAMPLES = 500, 50, 2
BUDGET = 16 * 2**20
PER_TASK = 2048

SCRIPT = textwrap.dedent("""
    import json, resource, sys, tracemalloc
    import numpy as np, torch
    from torch import nn
    import varimp

    torch.set_num_threads(1)
    steps, features, samples, budget = (int(a) for a in sys.argv[1:5])

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
    X = np.random.default_rng(0).normal(size=(samples, steps, features))
    options = dict(noise=0.2, scale="absolute", random_state=0, max_memory=budget)
    varimp.perturbation(model, X[:, :20], **options)  # imports and lazy initialisation
    start = peak_rss()
    varimp.perturbation(model, X, by_time=False, **options)
    baseline = peak_rss() - start
    tracemalloc.start()
    result = varimp.perturbation(model, X, by_time=True, **options)
    traced = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(json.dumps({
        "traced_peak": traced, "rss_growth": peak_rss() - start, "baseline": baseline,
        "data_bytes": X.nbytes,
        "model_bytes": sum(p.numel() * p.element_size() for p in model.parameters()),
        "by_time_shape": list(result.by_time.shape),
        "finite": bool(np.isfinite(result.by_time.to_numpy()).all()),
    }))
""")


@pytest.fixture(scope="module")
def measured() -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(STEPS), str(FEATURES), str(SAMPLES), str(BUDGET)],
        capture_output=True, text=True, timeout=600, env=env, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def _allowance(m: dict) -> int:
    tasks = FEATURES + STEPS * FEATURES
    return BUDGET + m["model_bytes"] + 4 * m["data_bytes"] + PER_TASK * tasks


def test_every_cell_is_scored(measured: dict):
    assert measured["by_time_shape"] == [STEPS, FEATURES]
    assert measured["finite"]


def test_python_and_numpy_memory_within_the_budget(measured: dict):
    naive = (FEATURES + STEPS * FEATURES) * measured["data_bytes"]  # every copy at once
    assert naive > 100 * _allowance(measured)
    assert measured["traced_peak"] <= _allowance(measured), measured


def test_peak_resident_memory_within_the_budget(measured: dict):
    assert measured["rss_growth"] <= _allowance(measured) + measured["baseline"], measured


def test_default_budget_is_256_mib_and_documented():
    assert DEFAULT_MAX_MEMORY == 256 * 2**20
    readme = os.path.join(os.path.dirname(__file__), "..", "README.md")
    with open(readme, encoding="utf-8") as handle:
        assert "256 MiB" in handle.read()
