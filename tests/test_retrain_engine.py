"""The retraining engine: seeds, data alterations, backends and failures, against hand draws."""

import functools
import multiprocessing
import os
import random
import sys
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import cloudpickle
import numpy as np
import pytest
import torch
from distributed import get_worker
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor
from threadpoolctl import threadpool_info

import varimp
from varimp import InputError, ModelError
from varimp.engines import FitData, FitTask, RetrainEngine, seed_from
from varimp.engines import retrain as retrain_module
from varimp.engines.retrain import session
from varimp.engines.worker import global_seed

TEST_ROWS = np.arange(45, 60)
# Workers receive this module's functions by value, so starting one does not import the module
# (and torch, dask and scikit-learn with it): joblib restarts its workers after every failure.
cloudpickle.register_pickle_by_value(sys.modules[__name__])



@pytest.fixture
def data():
    rng = np.random.default_rng(3)
    X = rng.uniform(size=(60, 4))
    y = 2.0 * X[:, 0] - X[:, 1] + 0.1 * rng.normal(size=60)
    return X, y


def sklearn_fit(X, y, random_state):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return MLPRegressor(hidden_layer_sizes=(3,), max_iter=20,
                            random_state=random_state).fit(X, y)


def sklearn_error(model, data):
    return np.array([np.mean((model.predict(data.X_test) - data.y_test) ** 2), data.seed])


def torch_error(model, data):
    with torch.no_grad():
        pred = model(torch.as_tensor(data.X_test, dtype=torch.float32)).numpy()[:, 0]
    return np.array([np.mean((pred - data.y_test) ** 2), data.seed])


def keep(model, data):
    return model, data


def identity_fit(X, y):
    return (X, y)


TASKS = [FitTask(("backward", 1, f"x{j + 1}"), removed=(j,)) for j in range(3)] + [
    FitTask(("permutation", 0), permute_y=True), FitTask(("model", 0), bootstrap=True)]


def run_everywhere(client, fit, evaluate, X, y):
    def engine(**options):
        return RetrainEngine(fit, X, y, test_rows=TEST_ROWS, random_state=7, **options)

    sequential = engine().run(TASKS, evaluate)
    joblib = engine(n_jobs=2).run(TASKS, evaluate)
    with client.as_current():
        on_dask = engine(backend="dask").run(TASKS, evaluate)
    return sequential, joblib, on_dask


@pytest.mark.parametrize("fit, evaluate", [
    (sklearn_fit, sklearn_error),
    (functools.partial(varimp.train_mlp, epochs=3, hidden=(4,)), torch_error),
], ids=["sklearn", "torch"])
def test_identical_on_every_backend(client, data, fit, evaluate):
    X, y = data
    sequential, joblib, on_dask = run_everywhere(client, fit, evaluate, X, y)
    expected = [int(c.generate_state(1)[0])
                for c in np.random.SeedSequence(seed_from(7)).spawn(len(TASKS))]
    assert [int(r[1]) for r in sequential] == expected
    np.testing.assert_array_equal(np.array(sequential), np.array(joblib))
    np.testing.assert_array_equal(np.array(sequential), np.array(on_dask))
    assert len({r[0] for r in sequential}) == len(TASKS)  # the fits differ


def test_seed_by_position_not_by_order(data):
    X, y = data
    engine = RetrainEngine(identity_fit, X, y, random_state=11)
    seeds = [d.seed for _, d in engine.run(TASKS, keep)]
    assert [d.seed for _, d in engine.run(TASKS[:2], keep)] == seeds[:2]
    assert seeds == engine.seeds(len(TASKS))


def test_mean_removal_holds_the_training_mean(data):
    X, y = data
    (_, d), = RetrainEngine(identity_fit, X, y, test_rows=TEST_ROWS).run(
        [FitTask(("backward", 1, "x2, x4"), removed=(1, 3))], keep)
    train_mean = X[:45, [1, 3]].sum(axis=0) / 45
    for array, rows in ((d.X_train, X[:45]), (d.X_test, X[45:]), (d.X, X)):
        np.testing.assert_allclose(array[:, [1, 3]], np.broadcast_to(train_mean, (len(rows), 2)),
                                   rtol=1e-15)
        np.testing.assert_array_equal(array[:, [0, 2]], rows[:, [0, 2]])
    np.testing.assert_array_equal(d.y_train, y[:45])
    np.testing.assert_array_equal(d.y_test, y[45:])


def test_mean_removal_on_sequences_is_one_constant_over_rows_and_steps():
    X = np.random.default_rng(0).normal(size=(10, 3, 2))
    y = X.sum(axis=(1, 2))
    (_, d), = RetrainEngine(identity_fit, X, y, test_rows=[8, 9]).run(
        [FitTask(("x1",), removed=(0,))], keep)
    constant = sum(X[r, t, 0] for r in range(8) for t in range(3)) / 24
    np.testing.assert_allclose(d.X[..., 0], np.full((10, 3), constant), rtol=1e-14)
    np.testing.assert_array_equal(d.X[..., 1], X[..., 1])


def test_a_fit_trains_on_exactly_the_train_rows_given(data):
    """Train rows apart from the complement of the test rows (a time-series fold: the past
    only): the fit sees exactly them, a removed column is held at their mean, and the fit is
    judged on the test rows."""
    X, y = data
    train, test = np.arange(0, 30), np.arange(30, 40)
    (_, d), = RetrainEngine(identity_fit, X, y, train_rows=train, test_rows=test).run(
        [FitTask(("x2",), removed=(1,))], keep)
    past_mean = sum(X[r, 1] for r in range(30)) / 30
    np.testing.assert_array_equal(d.X_train[:, [0, 2, 3]], X[:30][:, [0, 2, 3]])
    np.testing.assert_array_equal(d.y_train, y[:30])
    np.testing.assert_array_equal(d.y_test, y[30:40])
    np.testing.assert_allclose(d.X_train[:, 1], np.full(30, past_mean), rtol=1e-14)
    np.testing.assert_allclose(d.X_test[:, 1], np.full(10, past_mean), rtol=1e-14)
    (_, b), = RetrainEngine(identity_fit, X, y, train_rows=train, test_rows=test,
                            random_state=2).run([FitTask(("b",), bootstrap=True)], keep)
    rows = np.random.default_rng(b.seed).integers(0, 30, size=30)
    np.testing.assert_array_equal(b.y_train, y[:30][rows])  # resampled within the train rows


def test_an_integer_column_is_held_at_its_float_mean():
    X = np.array([[1, 0], [0, 1], [1, 2], [0, 3], [1, 4], [0, 5], [1, 6], [1, 7], [0, 8],
                  [1, 9]])
    y = X[:, 1].astype(float)
    (_, d), = RetrainEngine(identity_fit, X, y).run([FitTask(("x1",), removed=(0,))], keep)
    assert d.X_train.dtype == np.float64
    np.testing.assert_array_equal(d.X_train[:, 0], np.full(10, 0.6))  # 6 ones in 10 rows
    np.testing.assert_array_equal(d.X_train[:, 1], X[:, 1])


def test_drop_removal_deletes_the_column(data):
    X, y = data
    (_, d), = RetrainEngine(identity_fit, X, y, removal="drop").run(
        [FitTask(("x3",), removed=(2,))], keep)
    np.testing.assert_array_equal(d.X_train, X[:, [0, 1, 3]])
    np.testing.assert_array_equal(d.X_test, X[:, [0, 1, 3]])


def test_permute_y_and_bootstrap_equal_hand_draws(data):
    X, y = data
    tasks = [FitTask(("p",), permute_y=True), FitTask(("b",), bootstrap=True),
             FitTask(("pb",), permute_y=True, bootstrap=True)]
    results = RetrainEngine(identity_fit, X, y, test_rows=TEST_ROWS, random_state=5).run(
        tasks, keep)
    (_, p), (_, b), (_, pb) = results
    order = np.random.default_rng(p.seed).permutation(60)
    np.testing.assert_array_equal(p.y, y[order])
    np.testing.assert_array_equal(p.y_train, y[order][:45])
    np.testing.assert_array_equal(p.y_test, y[order][45:])
    np.testing.assert_array_equal(p.X, X)
    rows = np.random.default_rng(b.seed).integers(0, 45, size=45)
    np.testing.assert_array_equal(b.X_train, X[rows])
    np.testing.assert_array_equal(b.y_train, y[rows])
    np.testing.assert_array_equal(b.X_test, X[45:])
    rng = np.random.default_rng(pb.seed)
    order = rng.permutation(60)
    rows = rng.integers(0, 45, size=45)
    np.testing.assert_array_equal(pb.y_train, y[order][:45][rows])
    np.testing.assert_array_equal(pb.X_train, X[:45][rows])


def test_without_split_train_and_test_are_all_rows(data):
    X, y = data
    (_, d), = RetrainEngine(identity_fit, X, y).run([FitTask(("all",))], keep)
    for array in (d.X_train, d.X_test, d.X):
        np.testing.assert_array_equal(array, X)
    np.testing.assert_array_equal(d.y_test, y)


def test_random_state_passed_only_when_accepted(data):
    X, y = data

    def plain(X, y):
        return "plain"

    def keywords(X, y, **options):
        return options["random_state"]

    task = [FitTask(("a",))]
    assert RetrainEngine(plain, X, y).run(task, lambda m, d: m) == ["plain"]
    (seed,) = RetrainEngine(keywords, X, y, random_state=2).seeds(1)
    assert RetrainEngine(keywords, X, y, random_state=2).run(task, lambda m, d: m) == [seed]


def global_draws(X, y):
    """A fit without random_state that draws from every global generator."""
    return random.random(), float(np.random.random_sample()), float(torch.rand(1))  # noqa: NPY002


def draws(model, data):
    return np.array(model)


@pytest.mark.parametrize("n_jobs", [None, 2])
def test_a_fit_without_random_state_draws_from_global_generators_seeded_with_its_seed(
        data, n_jobs):
    X, y = data
    engine = RetrainEngine(global_draws, X, y, random_state=4, n_jobs=n_jobs)
    results = engine.run(TASKS, draws)
    expected = [[random.Random(seed).random(), np.random.RandomState(seed).random_sample(),
                 float(torch.rand(1, generator=torch.Generator().manual_seed(seed)))]
                for seed in engine.seeds(len(TASKS))]
    np.testing.assert_array_equal(np.array(results), np.array(expected))


def test_global_seed_restores_the_generators_also_across_threads():
    states = random.getstate(), np.random.get_state(), torch.get_rng_state()  # noqa: NPY002
    with pytest.raises(ValueError, match="inside"), global_seed(3):
        assert np.random.random_sample() == np.random.RandomState(3).random_sample()  # noqa: NPY002
        raise ValueError("inside")
    barrier = threading.Barrier(3)

    def blocks(seed):  # three blocks open at once, closed in another order than opened
        with global_seed(seed):
            barrier.wait()
            time.sleep(0.01 * (3 - seed))
            random.random()

    with ThreadPoolExecutor(max_workers=3) as pool:
        list(pool.map(blocks, range(3)))
    assert random.getstate() == states[0]
    after = np.random.get_state()  # noqa: NPY002
    assert np.array_equal(after[1], states[1][1]) and after[2] == states[1][2]
    assert torch.equal(torch.get_rng_state(), states[2])


_FRESH_PROCESS = """
import json, os, sys
os.environ["KERAS_BACKEND"] = "torch"
import numpy as np
from varimp.engines.retrain import FitTask, RetrainEngine

def torch_fit(X, y):  # imports torch in its body, takes no random_state
    import torch
    return float(torch.nn.Linear(3, 1).weight.sum())

def keras_fit(X, y):  # imports keras in its body: unseeded initializers, fitted
    import keras
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(3, activation="tanh"),
                              keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(X, y, epochs=1, batch_size=8, verbose=0)
    return float(np.asarray(model.get_weights()[0]).sum())

if __name__ == "__main__":
    before = "torch" in sys.modules or "keras" in sys.modules
    X = np.random.default_rng(0).normal(size=(16, 3)).astype(np.float32)
    y = X[:, 0]
    tasks = [FitTask(("t", i)) for i in range(3)]
    runs = {}
    for name, fit in (("torch", torch_fit), ("keras", keras_fit)):
        def run(**options):
            return RetrainEngine(fit, X, y, random_state=1, progress=False, **options).run(
                tasks, lambda model, data: model)
        runs[name] = [run(), run(), run(n_jobs=2)]
    print(json.dumps({"imported_before": before, **runs}))
"""


def test_a_fit_importing_torch_or_keras_in_its_body_is_seeded_on_its_first_call(tmp_path):
    """In a fresh process where neither torch nor Keras is imported yet, a fit without
    random_state that imports one of them in its body gives the same numbers on its first call
    as on the next, and as on two joblib processes (each a first call there too)."""
    import json
    import subprocess

    script = tmp_path / "fresh.py"
    script.write_text(_FRESH_PROCESS)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=300, check=True)
    runs = json.loads(done.stdout.strip().splitlines()[-1])
    assert runs.pop("imported_before") is False
    for name, (first, second, on_two_processes) in runs.items():
        assert len(set(first)) == 3, (name, first)  # three seeds, three networks
        assert first == second == on_two_processes, (name, first, second, on_two_processes)


def test_python_random_in_a_seeded_block_is_private_to_its_thread():
    """Another thread drawing from Python's random while a fit's block runs (as Dask's event
    loop does at every heartbeat) does not shift the fit's draws; outside any block, random
    is Python's own again, and Keras' global seed generator is the caller's."""
    import keras
    from keras.src.backend.common import global_state

    keras.random.normal((1,))  # the caller's global seed generator exists
    callers = global_state.get_global_attribute("global_seed_generator")
    stop = threading.Event()

    def heartbeat():
        while not stop.is_set():
            random.sample(range(100), 5)

    other = threading.Thread(target=heartbeat)
    other.start()
    try:
        with global_seed(9):
            draws = [random.random() for _ in range(2000)]
            assert global_state.get_global_attribute("global_seed_generator") is None
            keras.random.normal((1,))  # a generator of the block's own, from the seeded random
    finally:
        stop.set()
        other.join()
    reference = random.Random(9)
    assert draws == [reference.random() for _ in range(2000)]
    assert global_state.get_global_attribute("global_seed_generator") is callers
    assert isinstance(random.random.__self__, random.Random)  # Python's own, no dispatcher


def test_a_users_thread_drawing_from_python_random_during_a_run_keeps_its_stream(data):
    """While a sequential run's fits (no random_state: each in a seeded block) draw from
    Python's random, the user's own thread draws from it too, five numbers inside each fit:
    it gets the numbers of its undisturbed stream, and Python's shared instance carries on
    from there afterwards; each fit's draws are those of its own seed."""
    X, y = data
    inside, drawn = threading.Event(), threading.Event()
    users = []

    def fit(X, y):
        first = random.random()
        inside.set()
        assert drawn.wait(10)
        drawn.clear()
        return first, random.random()

    def user():
        for _ in TASKS:
            assert inside.wait(10)
            inside.clear()
            users.extend(random.random() for _ in range(5))
            drawn.set()

    saved = random.getstate()
    try:
        random.seed(99)
        thread = threading.Thread(target=user)
        thread.start()
        engine = RetrainEngine(fit, X, y, random_state=5, progress=False)
        fits = engine.run(TASKS, lambda model, data: model)
        thread.join()
        reference = random.Random(99)
        assert users == [reference.random() for _ in range(5 * len(TASKS))]
        assert random.getstate() == reference.getstate()
    finally:
        random.setstate(saved)
    expected = []
    for seed in engine.seeds(len(TASKS)):
        own = random.Random(seed)
        expected.append((own.random(), own.random()))
    assert fits == expected


_SLOW_MODULE = """
import time
import varimp_test_signal
varimp_test_signal.started.set()
time.sleep(0.3)
ready = True
"""


def test_a_block_waits_for_a_module_another_thread_is_importing(tmp_path, monkeypatch):
    """global_seed imports torch first (:data:`_IMPORTED_FIRST`); a thread entering a block
    while another thread's block is importing such a module finds it fully imported, not the
    half-initialised module that sys.modules holds meanwhile."""
    from varimp.engines import worker

    (tmp_path / "varimp_slow_import.py").write_text(_SLOW_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    signal = type(sys)("varimp_test_signal")
    signal.started = threading.Event()
    monkeypatch.setitem(sys.modules, "varimp_test_signal", signal)
    monkeypatch.setattr(worker, "_IMPORTED_FIRST", (*worker._IMPORTED_FIRST,
                                                    "varimp_slow_import"))

    def first():
        with global_seed(1):
            return sys.modules["varimp_slow_import"].ready

    def second():
        assert signal.started.wait(10)  # the first thread is inside the module's import
        with global_seed(2):
            return getattr(sys.modules["varimp_slow_import"], "ready", "half initialised")

    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = [pool.submit(first), pool.submit(second)]
            assert [result.result() for result in results] == [True, True]
    finally:
        sys.modules.pop("varimp_slow_import", None)


def vandal_fit(X, y):
    X[:] = -1.0
    y[:] = -1.0
    return "vandal"


@pytest.mark.parametrize("n_jobs", [None, 2])
def test_users_data_untouched(data, n_jobs):
    X, y = data
    X0, y0 = X.copy(), y.copy()
    results = RetrainEngine(vandal_fit, X, y, n_jobs=n_jobs, test_rows=TEST_ROWS).run(
        TASKS, keep)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
    _, d = results[-1]  # the bootstrap fit: its data as evaluate saw them
    assert d.X_train.min() >= 0 and d.X_test.min() >= 0


def thread_counts(model, data):
    limits = {pool["user_api"]: pool["num_threads"] for pool in threadpool_info()}
    return torch.get_num_threads(), limits.get("blas", 1)


def test_thread_limits_per_worker(client, data):
    X, y = data
    share = max(1, (os.cpu_count() or 1) // 2)
    before = torch.get_num_threads()
    for options in ({"n_jobs": 2}, {"n_jobs": 2, "backend": "threading"}):
        counts = RetrainEngine(identity_fit, X, y, **options).run(TASKS[:2], thread_counts)
        assert all(torch_threads == share and blas <= share for torch_threads, blas in counts)
    with client.as_current():
        counts = RetrainEngine(identity_fit, X, y, backend="dask").run(TASKS[:2], thread_counts)
    assert all(torch_threads == share for torch_threads, _ in counts)
    assert torch.get_num_threads() == before


class Recorder:
    def __init__(self, *args, **kwargs):
        self.updates = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def update(self, n):
        self.updates.append(n)


def test_progress_advances_per_fit(client, data, monkeypatch):
    X, y = data
    bars = []
    monkeypatch.setattr(retrain_module, "progress_bar",
                        lambda *a, **k: bars.append(Recorder()) or bars[-1])
    RetrainEngine(identity_fit, X, y, n_jobs=2).run(TASKS, keep)
    with client.as_current():
        RetrainEngine(identity_fit, X, y, backend="dask").run(TASKS, keep)
    assert [sum(bar.updates) for bar in bars] == [len(TASKS)] * 2


def worker_address(model, data):
    return get_worker().address


def test_a_cluster_started_for_the_call_or_the_session_is_closed(data):
    X, y = data
    before = len(multiprocessing.active_children())
    results = RetrainEngine(identity_fit, X, y, n_jobs=1, backend="dask",  # one worker
                            random_state=7).run(TASKS, keep)
    expected = RetrainEngine(identity_fit, X, y, random_state=7).run(TASKS, keep)
    for (_, a), (_, b) in zip(results, expected, strict=True):
        np.testing.assert_array_equal(a.X_train, b.X_train)
        np.testing.assert_array_equal(a.y_train, b.y_train)
    assert len(multiprocessing.active_children()) == before
    with session(n_jobs=1, backend="dask"):
        engine = RetrainEngine(identity_fit, X, y, backend="dask")
        first, second = engine.run(TASKS, worker_address), engine.run(TASKS, worker_address)
    assert len(set(first) | set(second)) == 1  # both runs on the session's one worker
    assert len(multiprocessing.active_children()) == before


def raising_fit(X, y):
    if X[0, 2] == X[1, 2]:  # the fit that removed x3
        raise ValueError("boom")
    return "ok"


def nan_error(model, data):
    return float("nan") if data.task.removed == (2,) else 1.0


def none_fit(X, y):
    return None


def dying_fit(X, y):
    if X[0, 2] == X[1, 2]:
        os._exit(1)
    return "ok"


@pytest.mark.parametrize("backend", ["sequential", "joblib", "dask"])
def test_failures_name_the_fit(client, data, backend):
    X, y = data
    options = {"sequential": {}, "joblib": {"n_jobs": 2}, "dask": {"backend": "dask"}}[backend]
    label = r"\('backward', 1, 'x3'\)"
    with client.as_current():
        with pytest.raises(ModelError, match=f"fit {label} raised ValueError: boom"):
            RetrainEngine(raising_fit, X, y, **options).run(TASKS, keep)
        with pytest.raises(ModelError, match=f"evaluating fit {label} returned a non-finite"):
            RetrainEngine(identity_fit, X, y, **options).run(TASKS, nan_error)
        with pytest.raises(ModelError, match="returned None"):
            RetrainEngine(none_fit, X, y, **options).run(TASKS, keep)
        if backend != "sequential":
            # Dask blames every task queued on a dead worker once its retries are spent (none
            # here), so there the dying fit runs alone; joblib names every fit in flight.
            tasks = TASKS if backend == "joblib" else TASKS[2:3]
            with pytest.raises(ModelError, match=f"worker died while running fit .*{label}"):
                RetrainEngine(dying_fit, X, y, **options).run(tasks, keep)
        # nothing half-done: the next run on the same workers gives the sequential numbers
        again = RetrainEngine(identity_fit, X, y, random_state=1, **options).run(TASKS, keep)
    reference = RetrainEngine(identity_fit, X, y, random_state=1).run(TASKS, keep)
    for (_, a), (_, b) in zip(again, reference, strict=True):
        assert a.seed == b.seed
        np.testing.assert_array_equal(a.X_train, b.X_train)


def _dies_on_x3(X, y):
    if X[0, 2] == X[1, 2]:
        os._exit(1)
    time.sleep(0.5)
    return "ok"


def _raises_on_x3(X, y):
    if X[0, 2] == X[1, 2]:
        raise ValueError("boom")
    return "ok"


def _exits_on_x3(X, y):
    if X[0, 2] == X[1, 2]:
        sys.exit("fit gave up")
    return "ok"


def test_on_its_own_cluster_the_fit_that_kills_its_worker_is_named_and_logs_stay_quiet(
        data, capfd):
    """Four fits on the 2-worker LocalCluster varimp starts, one of which (the third) kills
    its worker: no retry on another worker, one fit per worker at a time, so the error names
    that fit, not one cancelled with it; and no worker traceback or Dask warning reaches
    stderr, for a dying fit, a raising one, one calling sys.exit or one that cannot be sent.
    The cluster's scheduler serves no dashboard: its HTTP server, which Dask always starts,
    listens on a free port of 127.0.0.1, not on 8787 (taken here, as by a notebook's
    cluster: no "Port 8787 is already in use" warning), and answers every page with 404."""
    import socket
    import urllib.error
    import urllib.request

    from varimp.engines.backends import current_client

    X, y = data
    tasks = [FitTask(("backward", 1, f"x{j + 1}"), removed=(j,)) for j in (0, 1, 2, 3)]
    taken = socket.socket()
    try:
        try:
            taken.bind(("127.0.0.1", 8787))
            taken.listen()
        except OSError:  # another program holds it already: taken all the same
            pass
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with session(n_jobs=2, backend="dask"):  # one cluster for every run
                http = current_client().cluster.scheduler.http_server
                with pytest.raises(ModelError, match=r"worker died while running fit "
                                                     r"\('backward', 1, 'x3'\)"):
                    RetrainEngine(_dies_on_x3, X, y, backend="dask").run(tasks, keep)
                with pytest.raises(ModelError,
                                   match=r"fit \('backward', 1, 'x3'\) raised ValueError"):
                    RetrainEngine(_raises_on_x3, X, y, backend="dask").run(tasks, keep)
                with pytest.raises(ModelError) as exited:
                    RetrainEngine(_exits_on_x3, X, y, backend="dask").run(tasks, keep)
                lock = threading.Lock()
                with pytest.raises(ModelError, match="cannot pickle '_thread.lock' object"):
                    RetrainEngine(lambda X, y: lock, X, y, backend="dask").run(tasks, keep)
                with pytest.raises(urllib.error.HTTPError, match="404"):
                    urllib.request.urlopen(f"http://127.0.0.1:{http.port}/health", timeout=5)
    finally:
        taken.close()
    assert str(exited.value) == "fit ('backward', 1, 'x3') raised SystemExit: fit gave up"
    assert (http.address, http.port != 8787) == ("127.0.0.1", True)
    assert not [w for w in caught if "8787" in str(w.message)]
    err = capfd.readouterr().err
    for noise in ("Compute Failed", "Traceback", "Restarting worker", "distributed.",
                  "Failed to Serialize", "8787"):
        assert noise not in err, err[-2000:]


def _cancels_itself(X, y):
    if X[0, 2] == X[1, 2]:
        from distributed import Future, get_client

        time.sleep(0.3)
        client = get_client()
        client.cancel([Future(get_worker().get_current_task(), client)], force=True)
    time.sleep(1.0)
    return "ok"


def test_a_cancellation_says_a_worker_or_the_scheduler_went_away_and_what_was_running(
        client, data):
    """A fit cancelled on the cluster (here by itself, as when its worker's scheduler goes
    away): the error names it, says what can cancel a fit, and lists the fits known to be
    running then (both workers' first fits, which announced their start)."""
    X, y = data
    tasks = [FitTask(("backward", 1, f"x{j + 1}"), removed=(j,)) for j in (0, 2, 1)]
    with client.as_current(), pytest.raises(ModelError) as caught:
        RetrainEngine(_cancels_itself, X, y, backend="dask").run(tasks, keep)
    assert str(caught.value) == (
        "fit ('backward', 1, 'x3') was cancelled on the Dask cluster: a worker or the "
        "scheduler went away. Running then: ('backward', 1, 'x1'), ('backward', 1, 'x3').")


def test_a_fit_the_dask_workers_cannot_import_is_named_with_the_note_on_importability(
        client, data, tmp_path, monkeypatch):
    """A fit from a module on this process's sys.path only (added after the workers
    started): a ModelError naming the fit and its module and pointing at docs/parallel.md,
    in place of Dask's bare ``Exception: ModuleNotFoundError``; the cluster stays usable."""
    import importlib

    from varimp.engines.backends import IMPORTABLE_NOTE

    (tmp_path / "fits_only_here.py").write_text(
        "def mean_fit(X, y, random_state=None):\n    return float(y.mean())\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("fits_only_here")
    X, y = data
    with client.as_current(), pytest.raises(ModelError) as caught:
        RetrainEngine(functools.partial(module.mean_fit), X, y, backend="dask").run(
            TASKS[:1], keep)
    message = str(caught.value)
    assert message.startswith("the Dask workers could not load what a fit needs, "
                              "fit=mean_fit (module 'fits_only_here') and the objects sent "
                              "with it (the model, a scoring=, the data): "
                              "ModuleNotFoundError(\"No module named 'fits_only_here'\")")
    assert message.endswith(f"see {IMPORTABLE_NOTE}")
    assert "docs/parallel.md, 'A cluster of several machines'" in IMPORTABLE_NOTE
    with client.as_current():
        assert RetrainEngine(identity_fit, X, y, backend="dask").run(TASKS[:1], keep)
    monkeypatch.delitem(sys.modules, "fits_only_here")


def test_a_fit_returning_the_given_model_itself_is_refused(data):
    """A fit that trains the user's model in place and returns it (run in this process) is a
    ModelError that says so; a fit returning a new model is fine."""
    X, y = data
    user_model = MLPRegressor(hidden_layer_sizes=(2,), max_iter=5)

    def in_place(X, y):
        return user_model

    with pytest.raises(ModelError, match=r"fit \('a',\) returned the given model itself: "
                                         r"it trained the model you passed in place"):
        RetrainEngine(in_place, X, y, model=user_model).run([FitTask(("a",))], keep)
    assert RetrainEngine(in_place, X, y).run([FitTask(("a",))], lambda m, d: 1.0) == [1.0]


def test_execute_runs_the_fits_of_several_engines_in_one_dispatch(client, data):
    """Fits planned by engines with other held-out rows, removal and seeds run together and
    give what each engine's own run gives, on every backend."""
    X, y = data
    held = RetrainEngine(identity_fit, X, y, test_rows=TEST_ROWS, random_state=1)
    dropped = RetrainEngine(identity_fit, X, y, removal="drop", random_state=2)
    fits = held.fits(TASKS[:2]) + dropped.fits(TASKS[:3])
    expected = held.run(TASKS[:2], keep) + dropped.run(TASKS[:3], keep)
    with client.as_current():
        runs = [RetrainEngine(identity_fit, X, y, **options).execute(fits, keep)
                for options in ({}, {"n_jobs": 2}, {"backend": "dask"})]
    for results in runs:
        for (_, a), (_, b) in zip(results, expected, strict=True):
            assert a.seed == b.seed and a.task == b.task
            for name in ("X_train", "y_train", "X_test", "y_test"):
                np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert expected[2][1].X_train.shape == (60, 3)  # x1 dropped, every row trained on


@pytest.mark.parametrize("options", [{}, {"n_jobs": 2}], ids=["sequential", "joblib"])
def test_an_optional_fit_returns_its_failure_a_needed_one_raises(data, options):
    X, y = data
    engine = RetrainEngine(raising_fit, X, y, **options)
    results = engine.execute(engine.fits(TASKS[:2]) + engine.fits(TASKS[2:3], optional=True),
                             lambda model, data: 1.0)
    assert results[:2] == [1.0, 1.0] and isinstance(results[2], retrain_module.Failed)
    with pytest.raises(ModelError, match=r"fit \('backward', 1, 'x3'\) raised ValueError"):
        results[2].throw()
    with pytest.raises(ModelError, match=r"fit \('backward', 1, 'x3'\) raised ValueError"):
        engine.execute(engine.fits(TASKS[2:3]), lambda model, data: 1.0)


def test_fits_chosen_ahead_fill_the_idle_slots(client, data):
    """Three fits on two workers leave one idle: ``ahead`` is asked once, as it idles, with the
    results so far (on Dask, exactly the two finished), and its optional fit (here one that
    fails) runs there; with an even number of fits, or one worker, it is never asked."""
    X, y = data
    asked = []

    def ahead(done):
        asked.append(sorted(done))
        return RetrainEngine(raising_fit, X, y).fits(TASKS[2:3], optional=True)

    tasks = [TASKS[0], TASKS[1], TASKS[3]]
    with client.as_current():
        for options in ({"n_jobs": 2}, {"backend": "dask"}, {}):
            engine = RetrainEngine(raising_fit, X, y, **options)
            results = engine.execute(engine.fits(tasks), lambda m, d: 1.0, ahead)
            assert results[:3] == [1.0, 1.0, 1.0]
            if options:
                assert isinstance(results[3], retrain_module.Failed) and len(results) == 4
            else:
                assert len(results) == 3 and len(asked) == 2
            assert len(engine.execute(engine.fits(tasks[:2]), lambda m, d: 1.0, ahead)) == 2
    assert len(asked[1]) == 2 and len(asked) == 2  # on Dask: the two fits finished first


def test_an_input_error_from_evaluate_keeps_its_class(data):
    X, y = data

    def strict(model, data):
        raise InputError("expected this, received that")

    with pytest.raises(InputError, match=r"evaluating fit \('backward', 1, 'x1'\) raised "
                                         "InputError: expected this"):
        RetrainEngine(identity_fit, X, y).run(TASKS, strict)


@pytest.mark.parametrize("options, message", [
    ({"n_jobs": 0}, "n_jobs must be"),
    ({"n_jobs": 2.5}, "n_jobs must be"),
    ({"backend": "spark-ish"}, "backend must be"),
    ({"removal": "zero"}, "removal must be one of"),
    ({"test_rows": np.arange(60)}, "test_rows must be"),
    ({"test_rows": [0, 0]}, "test_rows must be"),
    ({"train_rows": [0, 60]}, r"train_rows must be distinct row indices in \[0, 60\)"),
])
def test_bad_options(data, options, message):
    X, y = data
    with pytest.raises(InputError, match=message):
        RetrainEngine(identity_fit, X, y, **options)


def test_bad_tasks_and_callables(data):
    X, y = data
    with pytest.raises(InputError, match="fit must be a callable"):
        RetrainEngine("fit", X, y)
    with pytest.raises(InputError, match="y must have one row per row of X"):
        RetrainEngine(identity_fit, X, y[:-1])
    engine = RetrainEngine(identity_fit, X, y, removal="drop")
    with pytest.raises(InputError, match=r"removed must be .* received \(4,\)"):
        engine.run([FitTask(("x5",), removed=(4,))], keep)
    with pytest.raises(InputError, match="leaving at least one"):
        engine.run([FitTask(("all",), removed=(0, 1, 2, 3))], keep)
    with pytest.raises(InputError, match="tasks must be FitTask"):
        engine.run([("x1",)], keep)
    assert engine.run([], keep) == []
    assert isinstance(RetrainEngine(identity_fit, X, y).run(TASKS[:1], keep)[0][1], FitData)


def warning_fit(X, y, random_state):
    """A fit that warns as a refitted network stopped early does, then a DeprecationWarning,
    which Python's default filters hide."""
    warnings.warn(f"fit with seed {random_state} did not converge", ConvergenceWarning,
                  stacklevel=2)
    warnings.warn("an old keyword", DeprecationWarning, stacklevel=2)
    return random_state


def seed_of(model, data):
    return float(model)


def same_warning_fit(X, y):
    warnings.warn("did not converge", ConvergenceWarning, stacklevel=2)
    return 0


@pytest.mark.parametrize("backend", ["sequential", "joblib", "threading", "dask"])
def test_the_warnings_of_every_fit_reach_the_callers_process_once_each(client, data, capfd,
                                                                       backend):
    X, y = data
    options = {"sequential": {}, "joblib": {"n_jobs": 2},
               "threading": {"n_jobs": 2, "backend": "threading"},
               "dask": {"backend": "dask"}}[backend]
    seeds = RetrainEngine(warning_fit, X, y, random_state=7).seeds(len(TASKS))
    with client.as_current(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        values = RetrainEngine(warning_fit, X, y, random_state=7, **options).run(TASKS,
                                                                                 seed_of)
    assert values == [float(seed) for seed in seeds]
    # every fit warned once, wherever it ran: here, in the caller's process, in fit order
    # (threads of this process warn at once, in the order they run)
    said = [(w.category, str(w.message)) for w in caught]
    converged = [(ConvergenceWarning, f"fit with seed {seed} did not converge")
                 for seed in seeds]
    if backend == "threading":
        said = sorted(said, key=str)
        converged = sorted(converged, key=str)
    assert [s for s in said if s[0] is ConvergenceWarning] == converged
    assert said.count((DeprecationWarning, "an old keyword")) == len(TASKS)
    # with Python's default filters, a user sees each distinct warning once, the hidden
    # categories not at all, and no worker prints its own
    with client.as_current(), warnings.catch_warnings(record=True) as caught:
        warnings.resetwarnings()
        warnings.simplefilter("default")
        warnings.simplefilter("ignore", DeprecationWarning)
        RetrainEngine(warning_fit, X, y, random_state=8, **options).run(TASKS, seed_of)
        RetrainEngine(same_warning_fit, X, y, **options).run(TASKS, seed_of)
    said = [str(w.message) for w in caught]
    assert {w.category for w in caught} == {ConvergenceWarning}
    assert len(said) == len(set(said)) == len(TASKS) + 1 or backend == "threading"
    assert "did not converge" not in capfd.readouterr().err


def _exits(X, y):
    sys.exit("fit gave up")


def _interrupted(X, y):
    raise KeyboardInterrupt


@pytest.mark.parametrize("backend", ["sequential", "joblib", "threading"])
def test_a_fit_calling_sys_exit_or_raising_keyboard_interrupt_is_a_model_error(data, backend):
    """SystemExit and KeyboardInterrupt raised by a fit are failures naming it, except a
    KeyboardInterrupt in this process's main thread (sequentially): it may be the user's
    Ctrl-C, and stops the work as it is."""
    X, y = data
    options = {"sequential": {}, "joblib": {"n_jobs": 2},
               "threading": {"n_jobs": 2, "backend": "threading"}}[backend]
    with pytest.raises(ModelError) as caught:
        RetrainEngine(_exits, X, y, **options).run(TASKS[:1], keep)
    assert str(caught.value) == "fit ('backward', 1, 'x1') raised SystemExit: fit gave up"
    if backend == "sequential":
        with pytest.raises(KeyboardInterrupt):
            RetrainEngine(_interrupted, X, y).run(TASKS[:1], keep)
    else:
        with pytest.raises(ModelError) as caught:
            RetrainEngine(_interrupted, X, y, **options).run(TASKS[:1], keep)
        assert str(caught.value) == "fit ('backward', 1, 'x1') raised KeyboardInterrupt"


def test_a_fit_joblib_cannot_send_to_its_workers_is_a_model_error(data):
    X, y = data
    lock = threading.Lock()

    def locked_fit(X, y):
        with lock:
            return "ok"

    with pytest.raises(ModelError) as caught:
        RetrainEngine(locked_fit, X, y, n_jobs=2).run(TASKS[:2], keep)
    assert str(caught.value).startswith(
        "fit=test_a_fit_joblib_cannot_send_to_its_workers_is_a_model_error.<locals>.locked_fit "
        f"(module {__name__!r}) and the objects sent with it (the model, a scoring=, the data) "
        "could not be sent to the joblib worker processes, which receive them pickled: "
        "TypeError: cannot pickle '_thread.lock' object. Define fit at a module's top level")
    assert str(caught.value).endswith("or pass n_jobs=1 to run the fits in this process")


@pytest.fixture(scope="module")
def inproc_client():
    """A user's LocalCluster of 2 single-threaded workers in this process (threads)."""
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                           dashboard_address=None,
                           scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})
    client = Client(cluster, set_as_default=False)
    yield client
    client.close()
    cluster.close()


def test_host_of_counts_in_process_workers_on_their_host():
    from varimp.engines.worker import host_of

    assert host_of("inproc://10.0.0.5/4242/7") == "10.0.0.5"
    assert host_of("inproc://10.0.0.5/4242/8") == "10.0.0.5"
    assert host_of("tcp://10.0.0.5:40123") == "10.0.0.5"
    assert host_of("tls://[::1]:8786") == "[::1]"


def thread_share(model, data):
    return torch.get_num_threads(), sorted(p["num_threads"] for p in threadpool_info())


def blas_share(model, data):  # OpenMP's count is per thread: a fit's thread sets its own
    return torch.get_num_threads(), sorted(p["num_threads"] for p in threadpool_info()
                                           if p["user_api"] == "blas")


def test_on_workers_in_this_process_the_thread_share_is_set_once_and_restored(
        inproc_client, data):
    """Two single-threaded workers in this process share its cores: each fit runs on
    ``cpu_count // 2`` torch and BLAS threads, and the caller's limits are back afterwards
    (fits in concurrent threads do not restore each other's); a fit raising SystemExit or
    KeyboardInterrupt in a worker thread is a ModelError naming it (it used to hang)."""
    X, y = data
    share = max(1, (os.cpu_count() or 1) // 2)
    before = torch.get_num_threads(), sorted(p["num_threads"] for p in threadpool_info())
    with inproc_client.as_current():
        counts = RetrainEngine(identity_fit, X, y, backend="dask").run(TASKS, thread_share)
        assert all(t == share and all(n <= share for n in pools) for t, pools in counts), counts
        assert (torch.get_num_threads(), sorted(p["num_threads"] for p in threadpool_info())
                ) == before

    def run(fit):  # in a thread of its own (the current client is per thread)
        with inproc_client.as_current():
            return RetrainEngine(fit, X, y, backend="dask").run(TASKS[:1], keep)

    pool = ThreadPoolExecutor(1)  # a hang fails the test instead of blocking it
    try:
        for fit, name in ((_exits, "SystemExit: fit gave up"),
                          (_interrupted, "KeyboardInterrupt")):
            with pytest.raises(ModelError) as caught:
                pool.submit(run, fit).result(timeout=60)
            assert str(caught.value) == f"fit ('backward', 1, 'x1') raised {name}"
    finally:
        pool.shutdown(wait=False)


def test_on_workers_in_this_process_a_fit_closing_over_the_model_trains_a_copy(
        inproc_client, data):
    """``fit=lambda X, y: model.fit(X, y)`` on a cluster in this process: every fit trains a
    copy of its own, as on worker processes; the user's model is untouched, and each fit's
    result equals the same fit run on a fresh copy here (scikit-learn refits from scratch)."""
    import copy

    X, y = data
    model = MLPRegressor(hidden_layer_sizes=(3,), max_iter=5, random_state=0).fit(X, y)
    before = [w.copy() for w in model.coefs_]

    def coefs(fitted, data):
        assert fitted is not model
        return fitted.coefs_[0]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with inproc_client.as_current():
            got = RetrainEngine(lambda X, y: model.fit(X, y), X, y, backend="dask",
                                model=model).run(TASKS[:3], coefs)
        for a, b in zip(model.coefs_, before, strict=True):
            np.testing.assert_array_equal(a, b)
        for task, result in zip(TASKS[:3], got, strict=True):
            data_ = retrain_module.fit_data(task, 0, X, y, RetrainEngine(
                identity_fit, X, y).setting)
            expected = copy.deepcopy(model).fit(data_.X_train, data_.y_train).coefs_[0]
            np.testing.assert_array_equal(result, expected)


def test_keras_objects_a_worker_loads_without_keras_backend_name_the_variable(data):
    """A worker started without KERAS_BACKEND imports Keras on tensorflow and fails to load a
    torch-backend Keras model: the error says to start the workers with KERAS_BACKEND=torch
    (Dask's error as it reaches the client, from a `dask worker` run so, stands in here)."""
    import keras

    from varimp.engines import backends

    class Client:
        def scatter(self, *args, **kwargs):
            raise Exception(  # noqa: TRY002 - what Dask raises
                'ModuleNotFoundError("No module named \'tensorflow\'")')

    assert keras.config.backend() == "torch"
    with pytest.raises(ModelError) as caught:
        backends._scatter_fit(Client(), identity_fit, [])
    assert str(caught.value) == (
        "the Dask workers could not load the Keras objects a fit needs, fit=identity_fit "
        f"(module {__name__!r}): ModuleNotFoundError(\"No module named 'tensorflow'\"). Keras "
        "takes its backend from the KERAS_BACKEND environment variable; on the workers it is "
        "unset or names another backend, so Keras loaded 'tensorflow' there, while this "
        "process uses 'torch'. Start the workers with KERAS_BACKEND=torch (`KERAS_BACKEND=torch "
        "dask worker ...`); see docs/parallel.md, 'A cluster of several machines' (Keras "
        "models)")
    with pytest.raises(ModelError, match="Make the module named there importable"):
        class Other(Client):
            def scatter(self, *args, **kwargs):
                raise Exception('ModuleNotFoundError("No module named \'mine\'")')  # noqa: TRY002

        backends._scatter_fit(Other(), identity_fit, [])


def test_on_workers_in_this_process_a_fit_that_cannot_be_pickled_runs_as_it_is(
        inproc_client, data):
    """A fit closing over a lock (to take turns on a GPU, say) cannot be copied: workers in
    this process share it, as threads do, and give the sequential numbers."""
    X, y = data
    lock = threading.Lock()

    def locked_fit(X, y, random_state):
        with lock:
            return sklearn_fit(X, y, random_state)

    sequential = RetrainEngine(locked_fit, X, y, random_state=7).run(TASKS[:3], sklearn_error)
    with inproc_client.as_current():
        on_dask = RetrainEngine(locked_fit, X, y, random_state=7, backend="dask").run(
            TASKS[:3], sklearn_error)
    np.testing.assert_array_equal(np.array(on_dask), np.array(sequential))


class CountedFit:
    """A fit counting its live copies (a copy is made by unpickling it)."""

    live: Any = None  # a weakref.WeakSet, made by the test
    made = 0
    most = 0

    def __init__(self):
        CountedFit.live.add(self)
        CountedFit.made += 1
        CountedFit.most = max(CountedFit.most, len(CountedFit.live))

    def __reduce__(self):
        return CountedFit, ()

    def __call__(self, X, y):
        time.sleep(0.05)  # the two workers' fits overlap
        return X.shape


def test_on_workers_in_this_process_copies_of_the_fit_live_only_while_their_fit_runs(
        inproc_client, data):
    """Each of 8 fits trains a copy of its own, made when it starts and dropped when it ends:
    never more than the user's fit and one copy per worker (2) at once, not one per fit."""
    import weakref

    X, y = data
    CountedFit.live = weakref.WeakSet()
    CountedFit.made = CountedFit.most = 0
    fit = CountedFit()
    tasks = [FitTask(("permutation", i), permute_y=True) for i in range(8)]
    # by reference: a class pickled by value gets its counts of the moment back on unpickling
    cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    try:
        with inproc_client.as_current():
            shapes = RetrainEngine(fit, X, y, backend="dask").run(tasks, keep)
    finally:
        cloudpickle.register_pickle_by_value(sys.modules[__name__])
    assert [s[0] for s in shapes] == [(60, 4)] * 8
    assert CountedFit.made == 1 + 8  # the user's and one copy per fit
    assert CountedFit.most <= 3
    assert len(CountedFit.live) == 1  # only the user's is left


def test_a_fit_whose_keras_lacks_its_backend_module_names_keras_backend(data):
    """A fit importing Keras where KERAS_BACKEND is unset fails in Keras' import with
    ModuleNotFoundError for tensorflow: the error says to start the workers with this
    session's KERAS_BACKEND (a function compiled as a module of Keras stands in for Keras'
    import); the same error raised outside Keras gets no such note."""
    import keras

    X, y = data
    code = compile("def load():\n    import tensorflow_stand_in\n", "keras/src/backend.py",
                   "exec")
    inside = {"__name__": "keras.src.backend"}
    exec(code, inside)  # noqa: S102 - a stand-in for Keras' own module

    def missing(X, y):
        try:
            inside["load"]()
        except ModuleNotFoundError as exc:  # as Keras raises it without tensorflow
            exc.name, exc.msg = "tensorflow", "No module named 'tensorflow'"
            raise

    assert keras.config.backend() == "torch"
    with pytest.raises(ModelError) as caught:
        RetrainEngine(missing, X, y).run(TASKS[:1], keep)
    assert str(caught.value) == (
        "fit ('backward', 1, 'x1') raised ModuleNotFoundError: No module named 'tensorflow'. "
        "Keras takes its backend from the KERAS_BACKEND environment variable when it is first "
        "imported; where this fit ran it is unset or names another backend, so Keras tried to "
        "load 'tensorflow', while your session uses 'torch'. Start the workers with "
        "KERAS_BACKEND=torch (`KERAS_BACKEND=torch dask worker ...`); see docs/parallel.md, 'A "
        "cluster of several machines' (Keras models)")

    def elsewhere(X, y):
        raise ModuleNotFoundError("No module named 'tensorflow'", name="tensorflow")

    with pytest.raises(ModelError) as caught:
        RetrainEngine(elsewhere, X, y).run(TASKS[:1], keep)
    assert str(caught.value) == (
        "fit ('backward', 1, 'x1') raised ModuleNotFoundError: No module named 'tensorflow'")


def test_the_multiprocessing_backend_gives_the_sequential_numbers(data):
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork on this platform")
    X, y = data
    sequential = RetrainEngine(sklearn_fit, X, y, random_state=7).run(TASKS[:3], sklearn_error)
    pooled = RetrainEngine(sklearn_fit, X, y, random_state=7, n_jobs=2,
                           backend="multiprocessing").run(TASKS[:3], sklearn_error)
    np.testing.assert_array_equal(np.array(pooled), np.array(sequential))


STARTED, ENDED = [], []


def _fails_first(X, y, random_state):
    STARTED.append(random_state)
    if len(STARTED) == 1:
        raise ValueError("bad")
    time.sleep(0.3)
    ENDED.append(random_state)
    return X.shape


def test_threading_raises_once_the_fits_running_in_its_threads_have_finished(data):
    """On joblib's threads a failure is raised after the fits already running end (threads
    cannot be stopped; a script exiting while they train aborts), and no other fit starts."""
    X, y = data
    STARTED.clear()
    ENDED.clear()
    with pytest.raises(ModelError, match="raised ValueError: bad"):
        RetrainEngine(_fails_first, X, y, n_jobs=2, backend="threading").run(TASKS, keep)
    assert len(STARTED) >= 2  # the other thread's fit was running
    assert len(ENDED) == len(STARTED) - 1
    time.sleep(0.5)
    assert len(ENDED) == len(STARTED) - 1  # and none started afterwards


EXITS_AFTER_A_FAILURE = """
import sys
import numpy as np
import varimp
from varimp.engines.retrain import FitTask, RetrainEngine

def fit(X, y, random_state):
    if random_state % 3 == 0:
        raise ValueError("bad")
    return varimp.train_mlp(X, y, hidden=(8,), epochs=200, random_state=random_state)

X = np.random.default_rng(0).normal(size=(200, 3)).astype(np.float32)
tasks = [FitTask(("permutation", i), permute_y=True) for i in range(6)]
try:
    RetrainEngine(fit, X, X[:, 0], n_jobs=2, backend="threading",
                  random_state=1).run(tasks, lambda model, data: 0.0)
except varimp.ModelError as exc:
    print("caught", exc)
"""


def test_a_script_exiting_right_after_a_threading_failure_exits_cleanly(tmp_path):
    import subprocess

    script = tmp_path / "script.py"
    script.write_text(EXITS_AFTER_A_FAILURE)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "caught fit ('permutation'" in done.stdout
    assert "terminate called" not in done.stderr


@pytest.mark.parametrize("where", ["threading", "dask in this process"])
def test_fits_in_this_process_never_raise_the_users_lower_thread_counts(
        inproc_client, data, monkeypatch, where):
    """The share (here ``8 // 2`` cores) limits the fits' torch and BLAS threads, but a
    lower count the user set (torch.set_num_threads(1), threadpool_limits(1)) stays; both are
    the user's again afterwards. (OpenMP's count is per thread, set by each fit in its own.)"""
    from threadpoolctl import threadpool_limits

    X, y = data
    monkeypatch.setattr(os, "cpu_count", lambda: 8)
    torch_before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        with threadpool_limits(1):
            before = sorted(p["num_threads"] for p in threadpool_info())
            if where == "threading":
                counts = RetrainEngine(identity_fit, X, y, n_jobs=2,
                                       backend="threading").run(TASKS[:2], blas_share)
            else:
                with inproc_client.as_current():
                    counts = RetrainEngine(identity_fit, X, y, backend="dask").run(
                        TASKS[:2], blas_share)
            assert [t for t, _ in counts] == [1, 1]
            assert all(n == 1 for _, pools in counts for n in pools), counts
            assert sorted(p["num_threads"] for p in threadpool_info()) == before
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(torch_before)
