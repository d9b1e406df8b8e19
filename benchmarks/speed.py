"""Speed of varimp's perturbation engine against the peers a user would pick, in one run.

The cases (MISSION.md):

1. **MLP**, 20,000 x 20 inputs, permutation importance with 5 repeats: varimp on a PyTorch MLP
   (20-10-1, a small ecological network; 20-64-1 and 20-128-128-1; relu) against
   ``sklearn.inspection.permutation_importance`` on an ``MLPRegressor`` holding the same weights
   and Captum's ``FeaturePermutation`` on the PyTorch model (forward function = the batch MSE,
   as Captum documents for permutation importance). The floor is the bare cost of the forward
   passes the method needs (the unperturbed input and 100 perturbed copies, pre-built tensors,
   ``DEFAULT_CELLS_PER_CALL`` input cells a call), timed alone. varimp reads the network and
   reuses its first layer (a copy changing one column moves the first pre-activation by a
   rank-one term), so it can run below that floor; the row "as a function" hides the structure
   and shows the full passes through the same engine.
2. **LSTM**, 2,000 sequences x 50 steps x 10 features (two stacked LSTM layers of 32 units, a
   linear head on the last step), every cell scored alone (500 cells): varimp's permutation
   with ``by_time`` (plus the 10 whole-sequence scores) against Captum's ``FeatureAblation``
   with a feature mask giving every cell its own id. The floor is 510 full forward passes of
   the 2,000 sequences, what a per-cell method needs without reusing the unperturbed prefix, at
   2,000 rows a call (Captum's batching) and at varimp's cache-friendly rows per call.
3. **ci**: the MLP case's permutation run with ``ci_level=0.95`` (a bootstrap over rows of the
   per-row error increases, 1,000 resamples, no extra model call) against the same run without,
   timed alternately; the ratio is printed (target: at most 1.05), and the resampling alone
   (``row_bootstrap``: 1,000 random groups of rows, against every row drawn alone).
4. **import**: ``python -c "import varimp"`` in a fresh interpreter (best of at least 5 runs,
   wall time with the interpreter's start, and the process's peak resident memory), against the
   same import followed by the libraries varimp 0.1.0 loaded at import (torch and SciPy; since
   then they load on first use). The floor is the bare interpreter, ``python -c "pass"``.

Every figure is the best of ``--rounds`` runs; torch and BLAS run on ``--threads`` threads (1 by
default: on a shared machine, more threads than free cores make every library erratic).
``/floor`` divides by the floor of the same model (PyTorch or scikit-learn); ``peer/varimp``
divides a peer's time by varimp's on the PyTorch model (the last MLP row: scikit-learn's time by
varimp's on the same scikit-learn model). ``peak MiB`` is the largest resident-memory growth seen
while varimp ran (sampled every 5 ms), to compare with its ``max_memory`` bound (256 MiB by
default) plus the model and data; for the import case, the peak of the whole process.

Usage: ``python benchmarks/speed.py [--quick] [--rounds N] [--threads N] [--case CASE]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
import warnings

import numpy as np
import torch
from torch import nn

import varimp
from varimp.engines.perturb import DEFAULT_CELLS_PER_CALL
from varimp.methods import measure
from varimp.methods.measure import row_bootstrap

#: Hidden layers of the MLP case: small networks (as in Olden et al. 2004) and a wider one.
MLP_HIDDEN = ((10,), (64,), (128, 128))


def best_time(function, rounds: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(rounds):
        start = time.perf_counter()
        out = function()
        best = min(best, time.perf_counter() - start)
    return best, out


class PeakMemory:
    """Largest growth of the resident set size while the block runs (Linux /proc)."""

    def __enter__(self) -> PeakMemory:
        self.start = self.peak = self._rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _watch(self) -> None:
        while not self._stop.wait(0.005):
            self.peak = max(self.peak, self._rss())

    @staticmethod
    def _rss() -> int:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss())

    @property
    def growth_mib(self) -> float:
        return (self.peak - self.start) / 2**20


def forward_floor(model: nn.Module, chunks: list[torch.Tensor]) -> None:
    with torch.no_grad():
        for chunk in chunks:
            model(chunk)


# -- case 1: MLP ----------------------------------------------------------------------------------
def mlp_problem(n: int, p: int, hidden: tuple[int, ...]
                ) -> tuple[np.ndarray, np.ndarray, nn.Module, tuple[int, ...]]:
    """The MLP case's data, its seeded PyTorch MLP (relu) and the layer sizes."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, p))
    y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2] + 0.5 * X[:, 3] + 0.1 * rng.normal(size=n)
    torch.manual_seed(0)
    sizes = (p, *hidden, 1)
    layers: list[nn.Module] = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
    return X, y, nn.Sequential(*layers[:-1]).eval(), sizes


def mlp_case(n: int, p: int, hidden: tuple[int, ...], repeats: int, rounds: int) -> list[tuple]:
    from captum.attr import FeaturePermutation
    from sklearn.inspection import permutation_importance
    from sklearn.neural_network import MLPRegressor

    X, y, model, sizes = mlp_problem(n, p, hidden)
    sk = MLPRegressor(hidden_layer_sizes=hidden, max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk.fit(X[:50], y[:50])
    linears = [m for m in model if isinstance(m, nn.Linear)]
    sk.coefs_ = [m.weight.detach().double().numpy().T.copy() for m in linears]
    sk.intercepts_ = [m.bias.detach().double().numpy().copy() for m in linears]

    rows_per_call = max(1, DEFAULT_CELLS_PER_CALL // p)
    copies = np.concatenate([X] * (1 + repeats * p)).astype(np.float32)
    chunks = [torch.from_numpy(copies[i:i + rows_per_call])
              for i in range(0, len(copies), rows_per_call)]
    floor, _ = best_time(lambda: forward_floor(model, chunks), rounds)
    sk_chunks = [copies[i:i + n].astype(np.float64) for i in range(0, len(copies), n)]
    sk_floor, _ = best_time(lambda: [sk.predict(c) for c in sk_chunks], rounds)

    def ours(target=model):
        return varimp.permutation(target, X, y, n_repeats=repeats, scoring="mse",
                                  random_state=0, progress=False)

    def as_function(inputs: np.ndarray) -> np.ndarray:  # opaque: no structure to read
        with torch.no_grad():
            return model(torch.as_tensor(inputs, dtype=torch.float32)).numpy()

    with PeakMemory() as memory:
        t_ours, result = best_time(ours, rounds)
    t_plain, plain = best_time(lambda: ours(as_function), rounds)
    same = np.abs(result.scores.to_numpy() - plain.scores.to_numpy()).max() / \
        np.abs(plain.scores.to_numpy()).max()
    t_ours_sk, _ = best_time(lambda: ours(sk), rounds)
    t_sk, reference = best_time(lambda: permutation_importance(
        sk, X, y, n_repeats=repeats, scoring="neg_mean_squared_error", random_state=0,
        n_jobs=1), rounds)

    x_t = torch.as_tensor(X, dtype=torch.float32)
    y_t = torch.as_tensor(y, dtype=torch.float32)

    def loss(inputs: torch.Tensor) -> torch.Tensor:
        return ((model(inputs)[:, 0] - y_t) ** 2).mean()

    captum = FeaturePermutation(loss)

    def run_captum():
        with torch.no_grad():
            return [captum.attribute(x_t) for _ in range(repeats)]

    t_captum, _ = best_time(run_captum, rounds)
    agree = np.corrcoef(result.scores.to_numpy(), reference.importances_mean)[0, 1]
    label = f"MLP {n}x{p} {'-'.join(map(str, sizes))}, x{repeats}"
    return [
        (label, "floor: forward passes, torch", floor, None, None, None),
        (label, "varimp.permutation, torch MLP", t_ours, t_ours / floor, None, memory.growth_mib),
        (label, "varimp.permutation, as a function", t_plain, t_plain / floor, None, None),
        (label, "captum FeaturePermutation, torch MLP", t_captum, t_captum / floor,
         t_captum / t_ours, None),
        (label, "sklearn permutation_importance, sklearn MLP", t_sk, t_sk / sk_floor,
         t_sk / t_ours, None),
        (label, "floor: forward passes, sklearn MLP", sk_floor, None, None, None),
        (label, "varimp.permutation, sklearn MLP", t_ours_sk, t_ours_sk / sk_floor,
         t_sk / t_ours_sk, None),
        (label, f"(score correlation varimp vs sklearn: {agree:.3f})", None, None, None, None),
        (label, f"(first layer reused vs full passes: max rel. difference {same:.1e})", None,
         None, None, None),
    ]


def ci_case(n: int, p: int, hidden: tuple[int, ...], repeats: int, rounds: int) -> list[tuple]:
    """The MLP case's permutation run with and without the row-bootstrap interval
    (``ci_level=0.95``, 1,000 resamples), timed alternately; the extra time does not depend
    on the model (each copy's per-row errors, and ``n_bootstrap x BOOTSTRAP_GROUPS`` draws),
    so its share falls as the network grows."""
    X, y, model, sizes = mlp_problem(n, p, hidden)

    def run(ci_level: float | None, n_bootstrap: int = 1000) -> varimp.Importance:
        return varimp.permutation(model, X, y, n_repeats=repeats, scoring="mse", random_state=0,
                                  progress=False, ci_level=ci_level, n_bootstrap=n_bootstrap)

    plain, with_ci, with_200 = float("inf"), float("inf"), float("inf")
    for _ in range(max(rounds, 3)):  # alternated, so that all see the same machine load
        plain = min(plain, best_time(lambda: run(None), 1)[0])
        with_ci = min(with_ci, best_time(lambda: run(0.95), 1)[0])
        with_200 = min(with_200, best_time(lambda: run(0.95, 200), 1)[0])
    shares = np.random.default_rng(0).normal(size=(p, n))
    grouped, _ = best_time(lambda: row_bootstrap(shares, 1000, 0), max(rounds, 3))
    groups = measure.BOOTSTRAP_GROUPS
    try:  # every row its own group: n draws a resample
        measure.BOOTSTRAP_GROUPS = n
        rows, _ = best_time(lambda: row_bootstrap(shares, 1000, 0), max(rounds, 3))
    finally:
        measure.BOOTSTRAP_GROUPS = groups
    label = f"MLP {n}x{p} {'-'.join(map(str, sizes))}, x{repeats}"
    return [
        (label, "varimp.permutation", plain, None, None, None),
        (label, "varimp.permutation, ci_level=0.95", with_ci, None, None, None),
        (label, f"(1,000 resamples alone: {1e3 * grouped:.0f} ms of {groups} groups, "
         f"{1e3 * rows:.0f} ms of rows)", None, None, None, None),
        (label, "varimp.permutation, ci_level=0.95, n_bootstrap=200", with_200, None, None, None),
        (label, f"(ci / no ci: {with_ci / plain:.3f}; extra {1e3 * (with_ci - plain):.0f} ms, "
         f"{1e3 * (with_200 - plain):.0f} ms with 200; target <= 1.05)", None, None, None, None),
    ]


# -- case 2: LSTM ---------------------------------------------------------------------------------
class LastStepLSTM(nn.Module):
    """Two stacked LSTM layers and a linear head on the last step's hidden state."""

    def __init__(self, p: int, units: int):
        super().__init__()
        self.lstm = nn.LSTM(p, units, num_layers=2, batch_first=True)
        self.head = nn.Linear(units, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.lstm(x)
        return self.head(out[:, -1])


def lstm_case(n: int, steps: int, p: int, rounds: int) -> list[tuple]:
    from captum.attr import FeatureAblation

    rng = np.random.default_rng(1)
    X = rng.normal(size=(n, steps, p))
    y = X[:, -5:, 0].sum(axis=1) * X[:, -1, 1] + 0.1 * rng.normal(size=n)
    torch.manual_seed(0)
    model = LastStepLSTM(p, 32).eval()
    x_t = torch.as_tensor(X, dtype=torch.float32)
    passes = steps * p + p
    floor, _ = best_time(lambda: forward_floor(model, [x_t] * passes), rounds)
    rows = varimp.adapters.adapt(model).suffix_predictor().rows_per_call(steps)
    floor_rows, _ = best_time(lambda: forward_floor(model, list(x_t.split(rows)) * passes),
                              rounds)

    def as_function(inputs: np.ndarray) -> np.ndarray:  # opaque: no structure to read
        with torch.no_grad():
            return model(torch.as_tensor(inputs, dtype=torch.float32)).numpy()

    def ours(target=model):
        return varimp.permutation(target, X, y, n_repeats=1, scoring="mse", by_time=True,
                                  random_state=0, progress=False)

    with PeakMemory() as memory:
        t_ours, result = best_time(ours, rounds)
    t_plain, plain = best_time(lambda: ours(as_function), 1)
    same = np.abs(result.by_time.to_numpy() - plain.by_time.to_numpy()).max()

    mask = torch.arange(steps * p).reshape(1, steps, p)

    def run_captum():
        with torch.no_grad():
            return FeatureAblation(model).attribute(x_t, target=0, feature_mask=mask)

    t_captum, _ = best_time(run_captum, rounds)
    label = f"LSTM {n}x{steps}x{p}, {steps * p} cells"
    step_ns = 1e9 * floor / (passes * n * steps)  # one sequence step of one row, in the floor
    flops = lstm_step_flops(model.lstm)
    matmul = matmul_gflops(rounds)
    return [
        (label, f"floor: {passes} full passes, {n} rows a call", floor, None, None, None),
        (label, f"floor: {passes} full passes, {rows} rows a call", floor_rows, floor_rows / floor,
         None, None),
        (label, "varimp.permutation by_time (prefix cache)", t_ours, t_ours / floor, None,
         memory.growth_mib),
        (label, "varimp.permutation by_time (as a function)", t_plain, t_plain / floor, None, None),
        (label, "captum FeatureAblation (cell mask)", t_captum, t_captum / floor,
         t_captum / t_ours, None),
        (label, f"(prefix cache vs full passes: max |difference| {same:.1e})", None, None, None,
         None),
        (label, f"(floor: {step_ns:.0f} ns a sequence step, {flops} flop: "
         f"{flops / step_ns:.0f} GFLOP/s; 1024^3 matmul {matmul:.0f} GFLOP/s)", None, None, None,
         None),
    ]


def lstm_step_flops(lstm: nn.LSTM) -> int:
    """Floating-point operations of one sequence step of one row through a stacked LSTM: every
    layer's four gate blocks multiply the layer's input and its hidden state (two per
    multiply-add)."""
    flops, width = 0, lstm.input_size
    for _ in range(lstm.num_layers):
        flops += 2 * 4 * lstm.hidden_size * (width + lstm.hidden_size)
        width = lstm.hidden_size
    return flops


def matmul_gflops(rounds: int) -> float:
    """What this core does at its best: a 1024 x 1024 float32 matrix product, GFLOP/s."""
    a = torch.randn(1024, 1024)
    seconds, _ = best_time(lambda: a @ a, max(rounds, 5))
    return 2 * 1024**3 / seconds / 1e9


# -- case 3: import ------------------------------------------------------------------------------
#: What ``import varimp`` loaded besides numpy and pandas up to version 0.1.0.
EAGER_IMPORTS = ("torch", "scipy.special")
#: Fresh interpreters per import figure, the best kept.
IMPORT_ROUNDS = 5


def import_cost(statement: str, rounds: int) -> tuple[float, float]:
    """Best wall time (s) of ``python -c statement`` in a fresh interpreter, and that process's
    peak resident memory (MiB; its own ``VmHWM``: ``ru_maxrss`` would count the pages of the
    forked parent)."""
    code = f"{statement}\nprint(open('/proc/self/status').read().split('VmHWM:')[1].split()[0])"
    best, peak = float("inf"), 0.0
    for _ in range(rounds):
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              check=True)
        best = min(best, time.perf_counter() - start)
        peak = int(done.stdout.split()[-1]) / 2**10  # KiB
    return best, peak


def import_case(rounds: int) -> list[tuple]:
    rounds = max(rounds, IMPORT_ROUNDS)
    floor, floor_mib = import_cost("pass", rounds)
    lazy, lazy_mib = import_cost("import varimp", rounds)
    eager, eager_mib = import_cost(f"import varimp, {', '.join(EAGER_IMPORTS)}", rounds)
    label = "import varimp, fresh interpreter"
    return [
        (label, 'floor: python -c "pass"', floor, None, None, floor_mib),
        (label, "import varimp", lazy, None, None, lazy_mib),
        (label, f"import varimp + {', '.join(EAGER_IMPORTS)} (0.1.0)", eager, None, None,
         eager_mib),
        (label, f"(lazy / eager import: time {lazy / eager:.2f}, memory "
         f"{lazy_mib / eager_mib:.2f}; target time <= 0.33)", None, None, None, None),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller cases (about a minute)")
    parser.add_argument("--rounds", type=int, default=2,
                        help="runs per figure, the best kept (the first warms up)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch and BLAS threads (default 1: stable on a shared machine)")
    parser.add_argument("--case", choices=("all", "mlp", "ci", "lstm", "import"), default="all",
                        help="run one case only")
    args = parser.parse_args()
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(args.threads)
    threadpool_limits(args.threads)  # numpy's BLAS, used by scikit-learn
    rounds = args.rounds
    n, steps = (5000, 20) if args.quick else (20000, 50)
    rows = []
    if args.case in ("all", "mlp"):
        for hidden in MLP_HIDDEN:
            rows += mlp_case(n, 20, hidden, 5, rounds)
    if args.case in ("all", "ci"):
        for hidden in MLP_HIDDEN:
            rows += ci_case(n, 20, hidden, 5, rounds)
    if args.case in ("all", "lstm"):
        rows += lstm_case(n // 10, steps, 10, rounds)
    if args.case in ("all", "import"):
        rows += import_case(rounds)
    print(f"torch threads: {torch.get_num_threads()}; best of {rounds} run(s)" + (
        f" (import: of {max(rounds, IMPORT_ROUNDS)} fresh interpreters)"
        if args.case in ("all", "import") else ""))
    header = f"{'case':<38} {'what':<44} {'seconds':>8} {'/floor':>7} {'peer/varimp':>11} " \
             f"{'peak MiB':>8}"
    print(header)
    print("-" * len(header))

    def fmt(value: float | None, spec: str) -> str:
        return "" if value is None else format(value, spec)

    for case, what, seconds, ratio, peer, memory in rows:
        print(f"{case:<38} {what:<44} {fmt(seconds, '8.3f'):>8} {fmt(ratio, '7.2f'):>7} "
              f"{fmt(peer, '11.2f'):>11} {fmt(memory, '8.0f'):>8}")


if __name__ == "__main__":
    main()
