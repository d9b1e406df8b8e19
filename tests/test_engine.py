"""The perturbation engine against an unbatched loop, across batch sizes, memory bounds and the
recurrent prefix cache."""

import numpy as np
import pytest
import torch
from torch import nn

from varimp import InputError, ModelError
from varimp.adapters import adapt
from varimp.engines import (
    DRAW_KEY,
    TASK_KEY,
    Hold,
    Noise,
    Permute,
    PerturbationEngine,
    Task,
    generator,
    seed_from,
)
from varimp.train import RecurrentLayer

SEED = 1234


def rms(pred, reference, rows):
    return float(np.sqrt(np.mean((pred - reference) ** 2)))


def loop_reference(model_predict, X, tasks, statistic, n_repeats, seed, rows=None):
    """Every copy built and predicted alone: a permutation drawn from the repeat's own
    generator, any other perturbation from the copy's."""
    out = np.empty((n_repeats, len(tasks)))
    base = model_predict(X)
    for r in range(n_repeats):
        idx = None if rows is None else rows[r]
        source = X if idx is None else X[idx]
        for j, task in enumerate(tasks):
            Z = source.copy()
            cols = list(task.columns)
            if Z.ndim == 2:
                cells = Z[:, cols]
            elif task.step is None:
                cells = Z[:, :, cols]
            else:
                cells = Z[:, task.step, cols]
            if isinstance(task.how, Permute):
                new = cells[generator(seed, DRAW_KEY, r).permutation(len(cells))]
            else:
                new = task.how(cells.copy(), generator(seed, TASK_KEY, r, j))
            if Z.ndim == 2:
                Z[:, cols] = new
            elif task.step is None:
                Z[:, :, cols] = new
            else:
                Z[:, task.step, cols] = new
            ref = base if idx is None else base[idx]
            out[r, j] = statistic(model_predict(Z), ref, idx)
    return out


def mlp64():
    torch.manual_seed(3)
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2)).double().eval()


class Recurrent(nn.Module):
    """A recurrent layer stack and a head, per step or on the last step."""

    def __init__(self, layers, units, per_step, outputs=1):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.head = nn.Linear(units, outputs)
        self.per_step = per_step

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
            x = x[0] if isinstance(x, tuple) else x
        return self.head(x if self.per_step else x[:, -1])


def recurrent(kind, per_step, dtype=torch.float64):
    torch.manual_seed(5)
    layers = {
        "lstm": [nn.LSTM(3, 6, batch_first=True), nn.LSTM(6, 5, batch_first=True)],
        "lstm2": [nn.LSTM(3, 5, num_layers=2, batch_first=True)],
        "gru": [nn.GRU(3, 5, batch_first=True)],
        "rnn": [nn.RNN(3, 5, nonlinearity="relu", batch_first=True)],
        "relu_lstm": [RecurrentLayer("lstm", 3, 5, activation="relu")],
    }[kind]
    return Recurrent(layers, 5, per_step, outputs=2).to(dtype).eval()


def table_tasks(p):
    return ([Task((j,), Noise(0.5)) for j in range(p)] + [Task((j,), Permute()) for j in range(p)]
            + [Task((0, 2), Hold(np.array([0.1, -0.2])))])


def sequence_tasks(T, p):
    return ([Task((j,), Noise(0.4)) for j in range(p)]
            + [Task((j,), Permute(), step=t) for t in range(T) for j in range(p)]
            + [Task((0, 1), Hold(0.0), step=T - 1), Task((2,), Noise(np.array([0.3])), step=2)])


@pytest.fixture
def X_table():
    return np.random.default_rng(0).normal(size=(37, 4))


@pytest.fixture
def X_seq():
    return np.random.default_rng(1).normal(size=(23, 6, 3))


@pytest.mark.parametrize("batch_size", [1, 5, 37, 200, None])
def test_table_batches_equal_unbatched_loop(X_table, batch_size):
    adapter = adapt(mlp64())
    tasks = table_tasks(4)
    engine = PerturbationEngine(adapter, X_table, batch_size=batch_size)
    got = engine.run(tasks, rms, n_repeats=3, seed=SEED)
    expected = loop_reference(adapter.predict, X_table, tasks, rms, 3, SEED)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)
    assert got.shape == (3, len(tasks)) and np.all(got[:, :8] > 0)


@pytest.mark.parametrize("kind", ["lstm", "lstm2", "gru", "rnn", "relu_lstm"])
@pytest.mark.parametrize("per_step", [False, True])
def test_prefix_cache_equals_full_passes_and_loop(X_seq, kind, per_step):
    adapter = adapt(recurrent(kind, per_step))
    tasks = sequence_tasks(6, 3)
    cached = PerturbationEngine(adapter, X_seq, batch_size=7)
    got = cached.run(tasks, rms, n_repeats=2, seed=SEED)
    assert cached.suffix_run() is not None  # the prefix cache was really used
    plain = PerturbationEngine(adapter, X_seq, batch_size=7, prefix=False)
    np.testing.assert_allclose(got, plain.run(tasks, rms, n_repeats=2, seed=SEED),
                               rtol=1e-9, atol=1e-12)
    expected = loop_reference(adapter.predict, X_seq, tasks, rms, 2, SEED)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


def test_prefix_cache_float32_within_1e6(X_seq):
    adapter = adapt(recurrent("lstm", True, dtype=torch.float32))
    tasks = sequence_tasks(6, 3)
    got = PerturbationEngine(adapter, X_seq).run(tasks, rms, n_repeats=2, seed=SEED)
    plain = PerturbationEngine(adapter, X_seq, prefix=False).run(tasks, rms, n_repeats=2,
                                                                   seed=SEED)
    np.testing.assert_allclose(got, plain, rtol=1e-5, atol=1e-6)


def test_prefix_cache_keras_relu_lstm(X_seq):
    keras = pytest.importorskip("keras")
    keras.utils.set_random_seed(2)
    model = keras.Sequential([keras.Input((6, 3)),
                              keras.layers.LSTM(4, activation="relu", return_sequences=True),
                              keras.layers.Dense(1)])
    adapter = adapt(model)
    tasks = sequence_tasks(6, 3)
    cached = PerturbationEngine(adapter, X_seq)
    got = cached.run(tasks, rms, seed=SEED)
    assert cached.suffix_run() is not None
    plain = PerturbationEngine(adapter, X_seq, prefix=False).run(tasks, rms, seed=SEED)
    np.testing.assert_allclose(got, plain, rtol=1e-5, atol=1e-6)


def test_exact_equality_across_batch_sizes_and_memory_bounds(X_seq):
    weights = np.random.default_rng(2).normal(size=(6, 3))

    def rowwise(X):  # the same arithmetic for every row, whatever the batch
        return np.tanh(X * weights).sum(axis=(1, 2))

    tasks = sequence_tasks(6, 3)
    results = [PerturbationEngine(adapt(rowwise), X_seq, batch_size=b, max_memory=m)
               .run(tasks, rms, n_repeats=2, seed=SEED)
               for b, m in [(None, None), (1, None), (4, None), (None, 300), (1000, 2000)]]
    for other in results[1:]:
        assert np.array_equal(results[0], other)


def test_max_memory_bounds_every_model_call(X_seq):
    sizes = []

    def model(X):
        sizes.append(X.nbytes)
        return X.sum(axis=(1, 2))

    budget = 6 * 3 * 8 * 2 * 5  # five rows, counted as float64 twice
    PerturbationEngine(adapt(model), X_seq, max_memory=budget).run(
        sequence_tasks(6, 3), rms, n_repeats=2, seed=SEED)
    assert max(sizes) <= budget // 2 and max(sizes) == 5 * 6 * 3 * 8


def test_row_subsets_per_repeat(X_table):
    adapter = adapt(mlp64())
    tasks = table_tasks(4)
    rows = [np.array([0, 3, 5, 8, 20]), np.arange(10, 30)]
    got = PerturbationEngine(adapter, X_table, batch_size=6).run(tasks, rms, n_repeats=2,
                                                                  seed=SEED, rows=rows)
    expected = loop_reference(adapter.predict, X_table, tasks, rms, 2, SEED, rows=rows)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


def test_seeds_are_per_copy_and_reproducible(X_table):
    adapter = adapt(mlp64())
    tasks = table_tasks(4)
    engine = PerturbationEngine(adapter, X_table)
    first = engine.run(tasks, rms, n_repeats=2, seed=seed_from(7))
    again = PerturbationEngine(adapter, X_table).run(tasks, rms, n_repeats=2, seed=seed_from(7))
    assert np.array_equal(first, again)
    smaller = PerturbationEngine(adapter, X_table, batch_size=3).run(
        tasks, rms, n_repeats=2, seed=seed_from(7))
    np.testing.assert_allclose(first, smaller, rtol=1e-12)  # BLAS may round per batch shape
    other = engine.run(tasks, rms, n_repeats=2, seed=seed_from(8))
    assert not np.any(np.isclose(first[:, :8], other[:, :8]))  # noise and permutations
    assert np.array_equal(engine.run(tasks, rms, n_repeats=2, seed=seed_from(7)), first)
    one = [engine.run(tasks, rms, seed=seed_from(s)) for s in (7, 8)]  # the same engine again
    assert np.array_equal(one[0], first[:1]) and not np.any(np.isclose(one[0], one[1])[:, :8])
    # adding a task does not change the draws of the others
    more = engine.run(tasks + [Task((1,), Noise(2.0))], rms, n_repeats=2, seed=seed_from(7))
    assert np.array_equal(first, more[:, :-1])
    assert seed_from(np.random.default_rng(3)) == seed_from(np.random.default_rng(3))


def test_statistic_may_return_arrays(X_table):
    adapter = adapt(mlp64())
    engine = PerturbationEngine(adapter, X_table)
    out = engine.run([Task((0,), Hold(0.0))], lambda pred, ref, rows: pred.mean(axis=(0, 1)))
    Z = X_table.copy()
    Z[:, 0] = 0.0
    np.testing.assert_allclose(out[0, 0], adapter.predict(Z).mean(axis=(0, 1)), rtol=1e-12)


def test_model_data_and_global_rng_untouched(X_seq):
    model = recurrent("lstm", False).train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    X_copy = X_seq.copy()
    torch_state = torch.get_rng_state()
    np_state = np.random.get_state()[1].copy()  # noqa: NPY002 - the legacy global state
    PerturbationEngine(adapt(model), X_seq).run(sequence_tasks(6, 3), rms, seed=SEED)
    assert model.training
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert np.array_equal(X_seq, X_copy)
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert np.array_equal(np.random.get_state()[1], np_state)  # noqa: NPY002


def test_bad_tasks_and_options(X_table, X_seq):
    adapter = adapt(mlp64())
    engine = PerturbationEngine(adapter, X_table)
    with pytest.raises(InputError, match="columns"):
        engine.run([Task((4,), Hold(0.0))], rms)
    with pytest.raises(InputError, match="sequence"):
        engine.run([Task((0,), Hold(0.0), step=1)], rms)
    with pytest.raises(InputError, match="shape"):
        engine.run([Task((0,), lambda block, rng: block[:3])], rms)
    with pytest.raises(InputError, match="n_repeats"):
        engine.run([Task((0,), Hold(0.0))], rms, n_repeats=0)
    with pytest.raises(InputError, match="rows"):
        engine.run([Task((0,), Hold(0.0))], rms, n_repeats=2, rows=[None])
    with pytest.raises(InputError, match="step"):
        PerturbationEngine(adapt(recurrent("gru", False)), X_seq).run(
            [Task((0,), Hold(0.0), step=6)], rms)
    for bad in ({"batch_size": 0}, {"max_memory": -1}, {"progress": "yes"}):
        with pytest.raises(InputError):
            PerturbationEngine(adapter, X_table, **bad)


def test_unreadable_model_falls_back_to_full_passes(X_seq):
    model = recurrent("lstm", True)

    def function(X):
        with torch.no_grad():
            return model(torch.as_tensor(X)).numpy()

    engine = PerturbationEngine(adapt(function), X_seq)
    got = engine.run(sequence_tasks(6, 3), rms, seed=SEED)
    assert engine.suffix_run() is None
    cached = PerturbationEngine(adapt(model), X_seq).run(sequence_tasks(6, 3), rms, seed=SEED)
    np.testing.assert_allclose(got, cached, rtol=1e-9, atol=1e-12)


def test_row_subsets_with_prefix_cache(X_seq):
    adapter = adapt(recurrent("gru", True))
    tasks = sequence_tasks(6, 3)
    rows = [np.array([1, 4, 9, 22]), np.arange(5, 20)]
    cached = PerturbationEngine(adapter, X_seq, batch_size=5)
    got = cached.run(tasks, rms, n_repeats=2, seed=SEED, rows=rows)
    assert cached.suffix_run() is not None
    expected = loop_reference(adapter.predict, X_seq, tasks, rms, 2, SEED, rows=rows)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


def test_progress_bar_counts_copies(X_table, capsys):
    engine = PerturbationEngine(adapt(mlp64()), X_table, progress=True)
    engine.run(table_tasks(4), rms, n_repeats=2, seed=SEED)
    assert f"{2 * len(table_tasks(4))}/{2 * len(table_tasks(4))}" in capsys.readouterr().err


def test_a_twin_that_does_not_reproduce_the_model_is_not_used(X_seq, monkeypatch):
    adapter = adapt(recurrent("lstm", False))
    predictor = adapter.suffix_predictor()
    with torch.no_grad():
        predictor.stages[0].function.weight_hh_l0.add_(0.5)  # a rebuilt chain gone wrong
    monkeypatch.setattr(adapter, "suffix_predictor", lambda: predictor)
    tasks = sequence_tasks(6, 3)
    engine = PerturbationEngine(adapter, X_seq)
    got = engine.run(tasks, rms, seed=SEED)
    assert engine.suffix_run() is None
    expected = loop_reference(adapter.predict, X_seq, tasks, rms, 1, SEED)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


# -- copies larger than a quarter of max_memory are built piece by piece, bit for bit -------------
def count_pieces(monkeypatch):
    """Count the pieces the engine builds (0: every copy was built whole)."""
    built = []
    piece = PerturbationEngine._piece

    def counted(self, copy, a, b, seed):
        built.append(b - a)
        return piece(self, copy, a, b, seed)

    monkeypatch.setattr(PerturbationEngine, "_piece", counted)
    return built


def big_tasks(T, p):
    """Every shape of task the pieces cover: all steps, one step, a group, each perturbation."""
    cols = tuple(range(p))
    return [Task(cols, Noise(np.array([0.3, 0.5, 0.7][:p]))), Task(cols, Permute()),
            Task(cols, Hold(np.linspace(-1, 1, T * p).reshape(T, p))), Task((1,), Noise(0.4)),
            Task(cols, Noise(0.2), step=2), Task(cols, Permute(), step=T - 1),
            Task((0, 2), Hold(np.array([0.5, -0.5])), step=1)]


@pytest.mark.parametrize("model", ["gru", "rowwise"])
def test_pieces_equal_whole_copies_bit_for_bit(X_seq, model, monkeypatch):
    """The same calls (batch_size 5 fits both budgets), so any difference would come from the
    cells: a GRU through the recurrent prefix cache, and a row-wise function."""
    weights = np.random.default_rng(2).normal(size=(6, 3))
    adapter = adapt(recurrent("gru", True)) if model == "gru" else \
        adapt(lambda X: np.tanh(X * weights[-X.shape[1]:]).sum(axis=(1, 2)))
    tasks = big_tasks(6, 3)
    rows = [None, np.array([3, 0, 9, 22, 4, 4, 17, 11, 8, 1, 2])]
    seen = {}

    def observe(budget):
        return lambda r, j, pred, ref, idx: seen.setdefault(budget, []).append(pred.copy())

    whole = PerturbationEngine(adapter, X_seq, batch_size=5).run(
        tasks, rms, n_repeats=2, seed=SEED, rows=rows, observe=observe("whole"))
    built = count_pieces(monkeypatch)
    budget = 6 * 3 * 8 * 2 * 5  # five rows a call: every all-step copy (>= 11 rows) in pieces
    engine = PerturbationEngine(adapter, X_seq, batch_size=5, max_memory=budget)
    pieces = engine.run(tasks, rms, n_repeats=2, seed=SEED, rows=rows,
                        observe=observe("pieces"))
    assert built and max(built) <= 5
    assert np.array_equal(whole, pieces)
    assert all(np.array_equal(a, b) for a, b in zip(seen["whole"], seen["pieces"], strict=True))
    if model == "gru":
        assert engine.suffix_run() is not None  # the one-step tasks started from the cache
    expected = loop_reference(adapter.predict, X_seq, tasks, rms, 2, SEED, rows=rows)
    np.testing.assert_allclose(pieces, expected, rtol=1e-9, atol=1e-12)


def test_pieces_through_the_first_layer_cache(monkeypatch):
    """Tables with a dense network: the cells go to the tail predictor, built piece by piece
    when the cached pre-activation (2 units) fits a quarter of the budget and a copy (6
    columns) does not."""
    torch.manual_seed(4)
    model = nn.Sequential(nn.Linear(6, 2), nn.Tanh(), nn.Linear(2, 1)).double().eval()
    X = np.random.default_rng(3).normal(size=(100, 6))
    adapter = adapt(model)
    tasks = [Task(tuple(range(6)), Noise(0.5)), Task(tuple(range(6)), Permute()),
             Task((1, 4), Hold(0.0))]
    rows = [np.arange(100)[::-1], np.arange(0, 100, 3)]
    whole = PerturbationEngine(adapter, X, batch_size=4).run(tasks, rms, n_repeats=2,
                                                            seed=SEED, rows=rows)
    built = count_pieces(monkeypatch)
    engine = PerturbationEngine(adapter, X, batch_size=4, max_memory=12_000)
    pieces = engine.run(tasks, rms, n_repeats=2, seed=SEED, rows=rows)
    assert engine.tail_run() is not None and built
    assert np.array_equal(whole, pieces)


def test_other_perturbations_receive_the_whole_block(X_seq, monkeypatch):
    """A user's perturbation may depend on the whole block (here, its mean): it gets it."""
    blocks = []

    def centre(block, rng):
        blocks.append(block.shape)
        return block - block.mean(axis=0)

    built = count_pieces(monkeypatch)
    model = lambda X: X.sum(axis=(1, 2))  # noqa: E731
    got = PerturbationEngine(adapt(model), X_seq, max_memory=1).run(
        [Task((0, 1, 2), centre)], lambda pred, ref, rows: float(np.sum(pred - ref)))
    assert blocks == [(23, 6, 3)] and not built
    assert got[0, 0] == pytest.approx(-X_seq.sum(), rel=1e-12)


def _elementwise(X):
    """Each row computed alike whatever the batch: results may be compared bit for bit."""
    a = np.linspace(0.5, 1.5, X.shape[-1])
    return (np.tanh(X * a) * a[::-1]).sum(axis=tuple(range(1, X.ndim)))


@pytest.mark.parametrize("shape", [(40, 7, 3), (300, 4)])
@pytest.mark.parametrize(("method", "options"), [
    ("permutation", {"n_repeats": 2}), ("permutation", {"n_repeats": 2, "max_samples": 0.6}),
    ("perturbation", {"noise": [0.1, 0.3]}), ("perturbation", {"with_y": False}),
    ("improved_stepwise_1", {})])
def test_methods_give_the_same_numbers_with_a_copy_in_pieces(shape, method, options,
                                                             monkeypatch):
    import varimp

    rng = np.random.default_rng(6)
    X = rng.normal(size=shape)
    options = dict(options)
    y = None if not options.pop("with_y", True) else _elementwise(X) + rng.normal(size=len(X))
    kwargs = dict(random_state=3, groups={"g": ["x1", "x3"]}, ci_level=0.9,
                  n_bootstrap=40, per_sample=True, progress=False, **options)
    if len(shape) == 3:
        kwargs["by_time"] = True
    run = getattr(varimp, method)
    whole = run(_elementwise, X, y, **kwargs)
    built = count_pieces(monkeypatch)
    pieces = run(_elementwise, X, y, max_memory=4096, **kwargs)
    assert built  # the group's copies were built piece by piece
    for part in ("scores", "std", "by_time", "ci"):
        left, right = getattr(whole, part), getattr(pieces, part)
        assert (left is None) == (right is None), part
        if left is not None:
            np.testing.assert_array_equal(left.to_numpy(), right.to_numpy())
    np.testing.assert_array_equal(whole.details["per_sample"], pieces.details["per_sample"])


def test_copies_that_leave_x_unchanged_take_the_base_without_a_model_call():
    """A permutation of a column holding one value in every sample (of a sequence: at the
    task's step, or at every step) and noise of scale 0 leave X as it is: their statistic is
    the unperturbed one, to the bit, and the model sees only the base and the other copies."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 4, 3))
    X[:, :, 1] = 0.5  # constant at every step
    X[:, 2, 2] = -1.0  # constant at step 2 only
    rows_seen = []

    def model(Z):
        rows_seen.append(len(Z))
        return np.tanh(Z.sum(axis=1) @ np.array([1.0, 2.0, -1.0]))

    engine = PerturbationEngine(adapt(model), X, first_layer=False, prefix=False)
    tasks = [Task((0,), Permute()), Task((1,), Permute()), Task((2,), Permute(), step=2),
             Task((2,), Permute(), step=1), Task((0, 2), Noise(np.zeros(2))),
             Task((0,), Noise(0.3))]
    assert [engine.unchanged(t) for t in tasks] == [False, True, True, False, True, False]
    values = engine.run(tasks, rms, n_repeats=2, seed=SEED)
    assert rows_seen[0] == 30 and sum(rows_seen) == 30 + 2 * 3 * 30  # base, then 3 tasks
    np.testing.assert_array_equal(values[:, [1, 2, 4]], 0.0)
    assert np.all(values[:, [0, 3, 5]] > 0)
    reference = loop_reference(lambda Z: adapt(model).predict(Z), X, tasks, rms, 2, SEED)
    np.testing.assert_allclose(values, reference, rtol=1e-12, atol=1e-15)


def test_a_non_finite_statistic_is_a_model_error():
    X = np.random.default_rng(0).normal(size=(20, 2))
    engine = PerturbationEngine(adapt(lambda Z: Z[:, 0] * 1e200), X)
    with pytest.raises(ModelError, match=r"came out NaN or inf.*reach 2\.\d+e\+200"), \
            np.errstate(over="ignore"):
        engine.run([Task((0,), Permute())],
                   lambda pred, ref, rows: float(np.mean((pred - ref) ** 2)), seed=SEED)
