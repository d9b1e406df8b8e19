"""The tail predictor (first dense layer reused) against full forward passes, and the engine's
results with and without it."""

import warnings

import numpy as np
import pytest
import torch
from nets import Clamped
from sklearn.neural_network import MLPClassifier, MLPRegressor
from torch import nn

import varimp
from varimp import ModelError
from varimp.adapters import adapt
from varimp.engines import Hold, Noise, Permute, PerturbationEngine, Task

SEED = 99
P = 5


def rms(pred, reference, rows):
    return float(np.sqrt(np.mean((pred - reference) ** 2)))


ARCHITECTURES = {
    "tanh": lambda: [nn.Linear(P, 8), nn.Tanh(), nn.Linear(8, 2)],
    "relu-relu": lambda: [nn.Linear(P, 16), nn.ReLU(), nn.Linear(16, 12), nn.ReLU(),
                          nn.Linear(12, 1)],
    "softmax": lambda: [nn.Linear(P, 6), nn.Sigmoid(), nn.Linear(6, 3), nn.Softmax(dim=-1)],
    "one-layer": lambda: [nn.Linear(P, 3)],
    "flatten-leaky": lambda: [nn.Flatten(), nn.Linear(P, 4), nn.LeakyReLU(0.1), nn.Linear(4, 1)],
    "elu-silu": lambda: [nn.Linear(P, 7), nn.ELU(), nn.Linear(7, 5), nn.SiLU(), nn.Linear(5, 2)],
}


def torch_model(name, dtype):
    torch.manual_seed(11)
    return nn.Sequential(*ARCHITECTURES[name]()).to(dtype).eval()


@pytest.fixture
def X():
    return np.random.default_rng(0).normal(size=(40, P))


def perturbed_copies(X):
    """Copies of X with some columns replaced: (columns, cells, rows) and the full arrays."""
    rng = np.random.default_rng(1)
    out = []
    for columns, rows in [((0,), slice(0, 40)), ((1, 3), slice(5, 17)),
                          ((4,), np.array([3, 3, 39, 0, 12])), (tuple(range(P)), slice(30, 40)),
                          ((2,), np.arange(40)[::-1].copy())]:
        source = X[rows]
        cells = rng.normal(scale=2.0, size=(len(source), len(columns)))
        full = source.copy()
        full[:, list(columns)] = cells
        out.append(((columns, cells, rows), full))
    return out


def check_tail(adapter, X, rtol):
    predictor = adapter.tail_predictor()
    assert predictor is not None
    run = predictor.start(X, adapter.predict(X))
    assert run is not None
    copies = perturbed_copies(X)
    for part, full in copies:  # one copy a call
        expected = adapter.predict(full)
        scale = max(1.0, np.abs(expected).max())
        np.testing.assert_allclose(run.predict([part]), expected, rtol=rtol, atol=rtol * scale)
    stacked = run.predict([part for part, _ in copies])  # several copies in one call
    expected = adapter.predict(np.concatenate([full for _, full in copies]))
    np.testing.assert_allclose(stacked, expected, rtol=rtol, atol=rtol * max(1.0, np.abs(
        expected).max()))


@pytest.mark.parametrize("name", list(ARCHITECTURES))
@pytest.mark.parametrize(("dtype", "rtol"), [(torch.float64, 1e-11), (torch.float32, 2e-6)])
def test_tail_equals_full_passes_torch(X, name, dtype, rtol):
    check_tail(adapt(torch_model(name, dtype)), X, rtol)


def sklearn_fitted(kind, X):
    rng = np.random.default_rng(2)
    if kind == "regressor":
        model = MLPRegressor(hidden_layer_sizes=(6, 4), activation="tanh", max_iter=300,
                             random_state=0)
        y = X @ rng.normal(size=P)
    else:
        model = MLPClassifier(hidden_layer_sizes=(6,), max_iter=300, random_state=0)
        y = rng.integers(0, 2 if kind == "binary" else 3, size=len(X))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(X, y)


@pytest.mark.parametrize("kind", ["regressor", "binary", "multiclass"])
def test_tail_equals_full_passes_sklearn(X, kind):
    check_tail(adapt(sklearn_fitted(kind, X)), X, 1e-11)


def test_tail_equals_full_passes_keras(X):
    keras = pytest.importorskip("keras")
    keras.utils.set_random_seed(4)
    model = keras.Sequential([keras.Input((P,)), keras.layers.Dense(8, activation="tanh"),
                              keras.layers.Dropout(0.5), keras.layers.Dense(3),
                              keras.layers.Activation("relu"), keras.layers.Dense(1)])
    check_tail(adapt(model), X, 2e-6)


class Skip(nn.Module):
    """A residual connection: the layers alone do not reproduce it."""

    def __init__(self):
        super().__init__()
        self.inner, self.out = nn.Linear(P, P), nn.Linear(P, 1)

    def forward(self, x):
        return self.out(torch.relu(self.inner(x)) + x)


def test_unreadable_structure_has_no_tail(X):
    model = torch_model("tanh", torch.float64)

    def function(Z):
        with torch.no_grad():
            return model(torch.as_tensor(Z)).numpy()

    torch.manual_seed(0)
    lstm = nn.LSTM(P, 3, batch_first=True)
    for unreadable in (function, Skip().double().eval(), lstm):
        assert adapt(unreadable).tail_predictor() is None
    engine = PerturbationEngine(adapt(function), X)
    tasks = table_tasks()
    got = engine.run(tasks, rms, n_repeats=2, seed=SEED)
    assert engine.tail_run() is None
    with_tail = PerturbationEngine(adapt(model), X)
    np.testing.assert_allclose(with_tail.run(tasks, rms, n_repeats=2, seed=SEED), got,
                               rtol=1e-10, atol=1e-13)
    assert with_tail.tail_run() is not None


def table_tasks():
    return ([Task((j,), Noise(0.7)) for j in range(P)] + [Task((j,), Permute()) for j in range(P)]
            + [Task((0, 3), Hold(np.array([0.5, -1.0]))), Task((1, 2, 4), Permute())])


@pytest.mark.parametrize(("dtype", "rtol"), [(torch.float64, 1e-10), (torch.float32, 1e-6)])
@pytest.mark.parametrize("batch_size", [None, 7])
def test_engine_with_and_without_tail(X, dtype, rtol, batch_size):
    adapter = adapt(torch_model("relu-relu", dtype))
    rows = [None, np.array([0, 4, 4, 9, 30, 31, 39])]
    results = []
    for first_layer in (True, False):
        engine = PerturbationEngine(adapter, X, batch_size=batch_size, first_layer=first_layer)
        results.append(engine.run(table_tasks(), rms, n_repeats=2, seed=SEED, rows=rows))
        assert (engine.tail_run() is not None) == first_layer
    np.testing.assert_allclose(results[0], results[1], rtol=rtol, atol=1e-12)
    assert np.all(results[0][:, :2 * P] > 0)


def test_methods_on_sklearn_equal_the_model_as_a_function(X):
    model = sklearn_fitted("regressor", X)
    y = model.predict(X) + np.random.default_rng(3).normal(scale=0.1, size=len(X))
    for method, options in [("permutation", {"n_repeats": 3, "max_samples": 0.5,
                                             "random_state": 5}),
                            ("perturbation", {"n_repeats": 2, "random_state": 5}),
                            ("improved_stepwise_2", {})]:
        ours = varimp.importance(model, X, y, method=method, **options)
        plain = varimp.importance(model.predict, X, y, method=method, **options)
        np.testing.assert_allclose(ours.scores, plain.scores, rtol=1e-9, atol=1e-12)


def test_a_tail_that_does_not_reproduce_the_model_is_not_used(X, monkeypatch):
    adapter = adapt(torch_model("tanh", torch.float64))
    predictor = adapter.tail_predictor()
    with torch.no_grad():
        predictor.stages[0].weights["weight"].add_(0.1)  # a rebuilt network gone wrong
    monkeypatch.setattr(adapter, "tail_predictor", lambda: predictor)
    engine = PerturbationEngine(adapter, X)
    got = engine.run(table_tasks(), rms, seed=SEED)
    assert engine.tail_run() is None
    plain = PerturbationEngine(adapter, X, first_layer=False).run(table_tasks(), rms, seed=SEED)
    np.testing.assert_allclose(got, plain, rtol=1e-12)


def test_cache_larger_than_a_quarter_of_max_memory_is_not_built(X):
    adapter = adapt(torch_model("relu-relu", torch.float64))
    cache = 40 * 16 * 8  # 40 rows x 16 units x float64
    assert PerturbationEngine(adapter, X, max_memory=4 * cache).tail_run() is not None
    assert PerturbationEngine(adapter, X, max_memory=4 * cache - 1).tail_run() is None


def test_overflow_in_a_perturbed_copy_is_a_model_error(X):
    adapter = adapt(torch_model("one-layer", torch.float32))
    for first_layer in (True, False):
        engine = PerturbationEngine(adapter, X, first_layer=first_layer)
        with pytest.raises(ModelError, match="NaN or inf"), np.errstate(over="ignore"):
            engine.run([Task((0,), Hold(1e39))], rms)  # inf in float32
        assert (engine.tail_run() is not None) == first_layer


# -- a forward that changes its input outside its modules ----------------------------------------
class _ClampedLSTM(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn, self.fc = nn.LSTM(2, 6, batch_first=True), nn.Linear(6, 1)

    def forward(self, x):
        return self.fc(self.rnn(x.clamp(-1.5, 1.5))[0][:, -1])


def _heavy_tailed(shape):
    """Values inside the clip in the first 16 rows (where the fast paths check themselves),
    far outside it in later ones."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=shape) * 0.5
    X[16:, ..., -1] = rng.standard_t(2, size=X[16:, ..., -1].shape) * 2
    return X


def _as_function(model):
    return lambda A: model(torch.as_tensor(A, dtype=torch.float32)).detach().double().numpy()


CLAMP_METHODS = ["permutation", "perturbation", "improved_stepwise_1"]


@pytest.mark.parametrize("scripted", [False, True])
def test_a_clamp_in_forward_gives_the_scores_of_the_model_as_a_function(scripted):
    torch.manual_seed(0)
    model = Clamped()
    X = _heavy_tailed((120, 3))
    y = 2 * X[:, 0] + np.clip(X[:, 2], -1, 1)
    # traced: torch.fx shows the clamp, so no rebuilt network; scripted (TorchScript, which
    # torch.fx cannot trace): the rebuilt network fails the check on extreme probes
    used = torch.jit.script(model) if scripted else model
    assert adapt(used).forward_operations() == (None if scripted else ["clamp(x, -1.5, 1.5)"])
    assert PerturbationEngine(adapt(used), X).tail_run() is None
    for method in CLAMP_METHODS:
        ours = varimp.importance(used, X, y, method=method, random_state=0, n_repeats=2)
        plain = varimp.importance(_as_function(model), X, y, method=method, random_state=0,
                                  n_repeats=2)
        np.testing.assert_allclose(ours.scores, plain.scores, rtol=1e-6, atol=1e-9)


def test_a_clamp_in_an_lstm_forward_gives_the_scores_by_time_of_the_model_as_a_function():
    torch.manual_seed(0)
    model = _ClampedLSTM()
    X = _heavy_tailed((60, 5, 2))
    y = X[:, -1, 0] + np.clip(X[:, -1, 1], -1, 1)
    assert adapt(model).suffix_predictor() is None
    for method in CLAMP_METHODS:
        ours = varimp.importance(model, X, y, method=method, random_state=0, n_repeats=2)
        plain = varimp.importance(_as_function(model), X, y, method=method, random_state=0,
                                  n_repeats=2)
        np.testing.assert_allclose(ours.scores, plain.scores, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(ours.by_time, plain.by_time, rtol=1e-6, atol=1e-9)


def test_a_forward_of_modules_only_keeps_the_fast_paths():
    class Chain(nn.Module):  # moves, casts and the rnn output's index pass values on as they are
        def __init__(self):
            super().__init__()
            self.l1, self.act, self.l2 = nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1)

        def forward(self, x):
            return self.l2(self.act(self.l1(x.float().view(x.size(0), -1)))).squeeze(-1)

    class Recurrent(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn, self.fc = nn.LSTM(2, 6, batch_first=True), nn.Linear(6, 1)

        def forward(self, x):
            out, _ = self.rnn(x.contiguous())
            return self.fc(out[:, -1])

    table = np.random.default_rng(1).normal(size=(20, 3))
    assert adapt(Chain()).forward_operations() == []
    assert PerturbationEngine(adapt(Chain()), table).tail_run() is not None
    sequences = np.random.default_rng(1).normal(size=(20, 4, 2))
    assert adapt(Recurrent()).forward_operations() == []
    assert PerturbationEngine(adapt(Recurrent()), sequences).suffix_run() is not None


def test_a_rebuilt_network_that_fails_on_the_perturbed_rows_gives_way_to_the_model(X):
    """Where the forward could not be traced, the first perturbed rows are computed by the
    model too; a model that differs there (here: made to) computes every copy from then on."""
    from varimp.adapters.suffix import Checked

    adapter = adapt(torch_model("tanh", torch.float64))
    predictor = adapter.tail_predictor()
    run = predictor.start(X, adapter.predict(X))
    wrong = lambda A: adapter.predict(A) + 1.0  # noqa: E731 - the model as the check sees it
    run.checked = Checked(wrong, torch.float64)
    rows = np.arange(10)
    cells = X[rows[::-1]][:, [0]]
    expected = X[rows].copy()
    expected[:, 0] = cells[:, 0]
    for _ in range(2):
        np.testing.assert_allclose(run.predict([((0,), cells, rows)]), wrong(expected),
                                   rtol=1e-12)
        assert run.checked.state == "model"
    run.checked = Checked(adapter.predict, torch.float64)  # a model that agrees: trusted
    np.testing.assert_allclose(run.predict([((0,), cells, rows)]), adapter.predict(expected),
                               rtol=1e-9)
    assert run.checked.state == "trusted"


# -- a forward whose operations changed after its trace was kept -------------------------------
_GLOBAL_CAP = None
_DEEP = [[[{"cap": None}]]]  # nested deeper than the key of a kept trace looks


class _Capped(nn.Module):
    """A tanh MLP whose output is capped where a setting says: ``self.cfg["cap"]``, the
    module-level ``_GLOBAL_CAP`` or ``_DEEP[0][0][0]["cap"]``."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(3)
        self.l1, self.act, self.l2 = nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1)
        self.cfg = {"cap": None}

    def forward(self, x):
        h = self.l2(self.act(self.l1(x)))
        for cap in (self.cfg["cap"], _GLOBAL_CAP, _DEEP[0][0][0]["cap"]):
            if cap is not None:
                h = h.clamp(max=cap)
        return h


def _capped_case():
    """The model traced uncapped (the trace kept), its data, and a cap above every
    unperturbed prediction (only perturbed rows reach it)."""
    model = _Capped().eval()
    X = np.random.default_rng(0).normal(size=(400, 3)).astype(np.float32)
    with torch.no_grad():
        p = model(torch.from_numpy(X)).numpy().ravel()
    y = p + 0.01 * np.random.default_rng(1).normal(size=400)
    varimp.permutation(model, X, y, random_state=0)
    return model, X, y, float(p.max()) + 1e-4


def _gives_the_scores_of_the_model_as_a_function(model, X, y):
    for method in ("permutation", "perturbation"):
        ours = varimp.importance(model, X, y, method=method, random_state=0, n_repeats=3)
        plain = varimp.importance(_as_function(model), X, y, method=method, random_state=0,
                                  n_repeats=3)
        np.testing.assert_allclose(ours.scores, plain.scores, rtol=1e-7, atol=1e-12)


@pytest.mark.parametrize("where", ["dict", "global"])
def test_a_cap_set_after_the_trace_is_seen_and_gives_the_models_scores(where, monkeypatch):
    """A settings dict changed in place, or a global the forward reads: traced again."""
    from varimp.adapters.torch_modules import forward_operations

    model, X, y, cap = _capped_case()
    if where == "dict":
        model.cfg["cap"] = cap
    else:
        monkeypatch.setitem(globals(), "_GLOBAL_CAP", cap)
    assert forward_operations(model) == [f"clamp(l2(...), max={cap!r})"]
    _gives_the_scores_of_the_model_as_a_function(model, X, y)
    with pytest.raises(varimp.UnsupportedModelError, match=r"applies clamp\(l2"):
        varimp.connection_weights(model)


def test_a_stale_trace_is_harmless(monkeypatch):
    """A cap the trace's key cannot see (nested too deep): the operations kept are stale, but
    the rebuilt network is checked against the model all the same, on the rows of the highest
    predictions too (here the first rows are the lowest), and gives way to it. (The weight
    reader's probes do not reach this cap, 1% of the predictions: only the fast path's check
    catches it; a cap the key sees is refused, as above.)"""
    from varimp.adapters.torch_modules import forward_operations

    model, X, y, _ = _capped_case()
    with torch.no_grad():
        p = model(torch.from_numpy(X)).numpy().ravel()
    order = np.argsort(p)
    X, y = X[order], y[order]
    monkeypatch.setitem(_DEEP[0][0][0], "cap", float(np.quantile(p, 0.99)))
    assert forward_operations(model) == []  # stale
    assert PerturbationEngine(adapt(model), X).tail_run() is None
    _gives_the_scores_of_the_model_as_a_function(model, X, y)
