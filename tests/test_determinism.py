"""Determinism: the same ``random_state`` gives the same result, bit for bit.

Whatever ``batch_size``, ``max_memory`` or ``n_jobs`` (for every method that takes them),
however the seed is given (an int or a Generator seeded with it), and on any backend (the same
network in PyTorch, Keras, scikit-learn and plain numpy gives the same scores to float32
precision, with the same random draws). Property-based tests (hypothesis) vary the shapes and
batch sizes.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pytest
import reliability_models as rm
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import varimp


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    with rm.one_torch_thread():
        yield


X_TAB, Y_TAB = rm.tabular(20)
X_SEQ, Y_SEQ = rm.sequences(10, 6)

#: Settings that must not change a result: (option, values). Only those a method takes apply.
BATCH_SETTINGS: list[tuple[str, Any]] = [
    ("batch_size", 1), ("batch_size", 3), ("batch_size", 7), ("batch_size", 10_000),
    ("max_memory", 1), ("max_memory", 700), ("max_memory", 5_000), ("max_memory", 2**30),
    ("n_jobs", 1), ("n_jobs", 2),
]

def elementwise(p: int = rm.P, seed: int = 9):
    """``f(X) = sum_j b_j tanh(a_j x_j)`` over features (and steps): no matrix product, so each
    row is computed the same way whatever the batch it arrives in."""
    rng = np.random.default_rng(seed + p)
    a, b = rng.normal(size=p), rng.normal(size=p)

    def f(X: np.ndarray) -> np.ndarray:
        return (np.tanh(X * a) * b).sum(axis=tuple(range(1, X.ndim)))

    return f


MODELS = {
    "elementwise": (functools.cache(elementwise), X_TAB, Y_TAB),
    "sequence_elementwise": (functools.cache(elementwise), X_SEQ, Y_SEQ),
    "torch_mlp": (functools.cache(rm.torch_mlp), X_TAB, Y_TAB),
    "torch_lstm": (functools.cache(rm.torch_lstm), X_SEQ, Y_SEQ),
    "torch_gru": (functools.cache(rm.torch_gru), X_SEQ, Y_SEQ),
    "callable": (functools.cache(rm.plain_callable), X_TAB, Y_TAB),
    "sequence_callable": (functools.cache(rm.sequence_callable), X_SEQ, Y_SEQ),
}


def same(a: varimp.Importance, b: varimp.Importance) -> None:
    """Bit-identical scores, std and time table."""
    np.testing.assert_array_equal(a.scores.to_numpy(), b.scores.to_numpy())
    for part in ("std", "by_time", "ci"):
        left, right = getattr(a, part), getattr(b, part)
        assert (left is None) == (right is None), part
        if left is not None:
            np.testing.assert_array_equal(left.to_numpy(), right.to_numpy())


def close(a: varimp.Importance, b: varimp.Importance, rtol: float, atol: float) -> None:
    np.testing.assert_allclose(a.scores.to_numpy(), b.scores.to_numpy(), rtol=rtol, atol=atol)
    assert (a.by_time is None) == (b.by_time is None)
    if a.by_time is not None:
        np.testing.assert_allclose(a.by_time.to_numpy(), b.by_time.to_numpy(), rtol=rtol,
                                   atol=atol)


def call(method: str, model_name: str, **options: Any) -> varimp.Importance:
    build, X, y = MODELS[model_name]
    row = rm.spec(method)
    if row.reads_weights and "callable" in model_name:
        pytest.skip("weight-based methods do not read callables (test_untouched has that row)")
    return rm.run(method, build(), X, y if row.needs_y else None, **options)


def _settings_matrix() -> list:
    params = []
    for method in rm.REGISTERED:
        if method not in rm.METHOD_SPECS:
            params.append(pytest.param(method, None, id=f"UNCOVERED-{method}"))
            continue
        params += [pytest.param(method, setting, id=f"{method}-{setting[0]}={setting[1]}")
                   for setting in BATCH_SETTINGS if rm.accepts(method, setting[0])]
    return params


@pytest.mark.parametrize("model_name", ["elementwise", "sequence_elementwise"])
@pytest.mark.parametrize(("method", "setting"), _settings_matrix())
def test_batching_never_changes_the_result(method: str, setting: tuple | None,
                                           model_name: str):
    """A model whose arithmetic does not depend on the batch: bit for bit."""
    assert setting is not None, rm.missing_row(method, "tests/reliability_models.py")
    option, value = setting
    same(call(method, model_name, **{option: value}), call(method, model_name))


@pytest.mark.parametrize(("model_name", "rtol"), [("torch_mlp", 1e-5), ("torch_lstm", 1e-5),
                                                  ("callable", 1e-12)])
@pytest.mark.parametrize(("method", "setting"), _settings_matrix())
def test_batching_changes_a_model_result_by_its_rounding_only(
        method: str, setting: tuple | None, model_name: str, rtol: float):
    """Matrix products (BLAS in float64, PyTorch's float32 kernels) round a row differently in
    batches of different sizes; the random draws being the same, results agree to that
    rounding (a different draw would move the scores by percents)."""
    assert setting is not None, rm.missing_row(method, "tests/reliability_models.py")
    option, value = setting
    batched, reference = call(method, model_name, **{option: value}), call(method, model_name)
    scale = float(np.abs(reference.scores.to_numpy()).max())
    close(batched, reference, rtol=rtol, atol=rtol * (scale + 1e-2))


#: The options under which a method the registry calls random draws its random numbers, where
#: its defaults draw none (profile's levels at quantiles; k-means centres are seeded).
RANDOM_OPTIONS: dict[str, dict[str, Any]] = {"profile": {"levels": "kmeans", "n_clusters": 3}}


@pytest.mark.parametrize("method", rm.REGISTERED)
def test_same_seed_same_result_and_the_seed_is_used(method: str):
    """Twice the same seed: equal; an int or a Generator seeded with it: equal; for a method
    the registry calls random (with the options under which it draws: ``RANDOM_OPTIONS``),
    another seed gives another result (the seed is really used)."""
    row = rm.spec(method)
    first, again = call(method, "torch_lstm"), call(method, "torch_lstm")
    same(first, again)
    if not row.random:
        return
    drawing = RANDOM_OPTIONS.get(method, {})
    first = call(method, "torch_lstm", **drawing)
    same(first, call(method, "torch_lstm", **drawing))
    same(first, call(method, "torch_lstm", random_state=np.random.default_rng(7), **drawing))
    other = call(method, "torch_lstm", random_state=8, **drawing)
    assert not np.array_equal(first.scores.to_numpy(), other.scores.to_numpy())


def test_the_registry_calls_random_every_method_whose_unseeded_calls_differ():
    """Without ``random_state`` two calls of a method drawing random numbers differ: a method
    the registry must call random. Profile's k-means levels are one (Lek's levels at the
    quantiles are not: those calls agree)."""
    model, X = rm.torch_mlp(), X_TAB
    kmeans = [varimp.profile(model, X, levels="kmeans", n_clusters=3, steps=4)
              for _ in range(4)]
    assert any(not np.array_equal(kmeans[0].scores, other.scores) for other in kmeans[1:])
    assert varimp.registry.REGISTRY["profile"].random
    quantiles = [varimp.profile(model, X, steps=4) for _ in range(2)]
    same(*quantiles)


@pytest.mark.parametrize("method", rm.REGISTERED)
def test_global_seeds_do_not_matter(method: str):
    """The result depends on ``random_state`` only, never on the global numpy or torch seeds."""
    rm.spec(method)
    np.random.seed(1)  # noqa: NPY002 - the legacy global seed is what must not matter
    torch.manual_seed(1)
    first = call(method, "torch_gru")
    np.random.seed(2)  # noqa: NPY002
    torch.manual_seed(2)
    same(first, call(method, "torch_gru"))


# -- one network, every backend -------------------------------------------------------------------
def _mlp_weights() -> list[np.ndarray]:
    rng = np.random.default_rng(11)
    return [rng.normal(scale=0.6, size=(rm.P, 5)), rng.normal(scale=0.3, size=5),
            rng.normal(scale=0.6, size=(5, 1)), rng.normal(scale=0.3, size=1)]


def mlp_in(backend: str) -> object:
    """``tanh(X W1 + b1) W2 + b2`` with the same weights in torch, Keras, sklearn and numpy."""
    w1, b1, w2, b2 = _mlp_weights()
    if backend == "torch":
        model = torch.nn.Sequential(torch.nn.Linear(rm.P, 5), torch.nn.Tanh(),
                                    torch.nn.Linear(5, 1))
        with torch.no_grad():
            for param, value in zip(model.parameters(), (w1.T, b1, w2.T, b2), strict=True):
                param.copy_(torch.as_tensor(value))
        return model
    if backend == "keras":
        import keras

        model = keras.Sequential([keras.Input((rm.P,)), keras.layers.Dense(5, "tanh"),
                                  keras.layers.Dense(1)])
        model.set_weights([w.astype(np.float32) for w in (w1, b1, w2, b2)])
        return model
    if backend == "sklearn":
        model = rm.sklearn_mlp()  # fitted with 4 hidden units; replaced by the shared weights
        model.coefs_, model.intercepts_ = [w1, w2], [b1, b2]
        model.n_layers_, model.hidden_layer_sizes = 3, (5,)
        return model
    return lambda X: np.tanh(X @ w1 + b1) @ w2 + b2


def lstm_in(backend: str) -> object:
    """One LSTM (4 units) then Dense(1) on the last step, in torch and Keras.

    Both frameworks order the gate blocks input, forget, cell, output; Keras keeps one bias,
    the sum of PyTorch's two.
    """
    model = rm.torch_lstm(dropout=0.0)
    if backend == "torch":
        return model
    import keras

    rnn, head = model.rnn, model.head
    numpy = {name: p.detach().double().numpy() for name, p in model.named_parameters()}
    twin = keras.Sequential([keras.Input((X_SEQ.shape[1], rm.P)), keras.layers.LSTM(rm.HIDDEN),
                             keras.layers.Dense(1)])
    twin.set_weights([w.astype(np.float32) for w in (
        numpy["rnn.weight_ih_l0"].T, numpy["rnn.weight_hh_l0"].T,
        numpy["rnn.bias_ih_l0"] + numpy["rnn.bias_hh_l0"],
        numpy["head.weight"].T, numpy["head.bias"])])
    assert rnn.hidden_size == rm.HIDDEN and head.out_features == 1
    return twin


@pytest.mark.parametrize("backend", ["keras", "sklearn", "callable"])
@pytest.mark.parametrize("method", rm.REGISTERED)
def test_one_mlp_one_answer_on_every_backend(method: str, backend: str):
    row = rm.spec(method)
    if row.reads_weights and backend == "callable":
        pytest.skip("weight-based methods do not read callables")
    y = Y_TAB if row.needs_y else None
    expected = rm.run(method, mlp_in("torch"), X_TAB, y)
    close(rm.run(method, mlp_in(backend), X_TAB, y), expected, rtol=2e-4, atol=1e-6)


@pytest.mark.parametrize("method", rm.REGISTERED)
def test_one_lstm_one_answer_in_torch_and_keras(method: str):
    y = Y_SEQ if rm.spec(method).needs_y else None
    expected = rm.run(method, lstm_in("torch"), X_SEQ, y)
    close(rm.run(method, lstm_in("keras"), X_SEQ, y), expected, rtol=2e-4, atol=1e-6)


# -- properties over shapes and batch sizes ------------------------------------------------------
shapes = st.tuples(st.integers(2, 9), st.integers(0, 4), st.integers(1, 3))


@pytest.mark.parametrize("method", rm.REGISTERED)
@settings(max_examples=15, deadline=None)
@given(shape=shapes, batch_size=st.integers(1, 12), max_memory=st.integers(1, 4000),
       seed=st.integers(0, 2**32 - 1))
def test_property_batching_never_changes_the_result(method, shape, batch_size, max_memory,
                                                    seed):
    """Any shape (tables when T = 0), any batch size and memory bound: the result equals the
    unbatched one bit for bit, and a second run equals the first."""
    row = rm.spec(method)
    if row.reads_weights:
        return  # no model calls to batch; test_same_seed_same_result covers them
    n, steps, p = shape
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, steps, p) if steps else (n, p))
    y = rng.normal(size=n) if row.needs_y else None
    model = elementwise(p, seed % 7)
    options = {k: v for k, v in (("batch_size", batch_size), ("max_memory", max_memory))
               if rm.accepts(method, k)}
    reference = rm.run(method, model, X, y)
    same(rm.run(method, model, X, y, **options), reference)
    same(rm.run(method, model, X, y), reference)


@pytest.mark.parametrize("method", [m for m in rm.REGISTERED if rm.accepts(m, "batch_size")])
@settings(max_examples=15, deadline=None)
@given(n=st.integers(2, 9), steps=st.integers(1, 5), batch_size=st.integers(1, 10))
def test_property_recurrent_batching_never_changes_the_result(method, n, steps, batch_size):
    """A PyTorch GRU: the batch size changes the result by float32 rounding only."""
    model = rm.torch_gru()
    X, y = rm.sequences(n, steps)
    y = y if rm.spec(method).needs_y else None
    reference = rm.run(method, model, X, y)
    scale = float(np.abs(reference.scores.to_numpy()).max())
    close(rm.run(method, model, X, y, batch_size=batch_size), reference, rtol=1e-5,
          atol=1e-6 + 1e-5 * scale)


def test_every_registered_method_is_covered():
    assert not rm.uncovered(rm.METHOD_SPECS), rm.uncovered(rm.METHOD_SPECS)


class _MCDropout(torch.nn.Module):
    """Dropout kept on in inference (MC dropout) and noise added: a forward that draws."""

    def __init__(self):
        super().__init__()
        self.l1, self.l2 = torch.nn.Linear(3, 16), torch.nn.Linear(16, 1)

    def forward(self, x):
        h = torch.nn.functional.dropout(torch.tanh(self.l1(x)), 0.5, training=True)
        return self.l2(h) + 0.01 * torch.randn(x.shape[0], 1)


@pytest.mark.parametrize("method", ["permutation", "perturbation", "partial_derivatives",
                                    "profile", "improved_stepwise_1"])
def test_a_forward_that_draws_gives_the_same_result_and_keeps_the_global_torch_state(method):
    torch.manual_seed(0)
    model = _MCDropout()
    X = np.random.default_rng(0).normal(size=(30, 3))
    y = 2 * X[:, 0] + X[:, 1]
    state = torch.random.get_rng_state()
    first = varimp.importance(model, X, y, method=method, random_state=0, n_repeats=2)
    second = varimp.importance(model, X, y, method=method, random_state=0, n_repeats=2)
    assert torch.equal(state, torch.random.get_rng_state())
    np.testing.assert_array_equal(first.scores, second.scores)
    # the model's draws vary across its calls: its predictions of the same rows differ
    adapter = varimp.adapters.adapt(model)
    assert not np.array_equal(adapter.predict(X), adapter.predict(X))


@pytest.mark.parametrize("method", ["permutation", "perturbation"])
def test_the_random_state_seeds_the_draws_of_the_models_own_forward(method):
    """``seed_draws`` (which the perturbation methods call with the seed of their
    ``random_state``) starts the model's own stream: a seed repeats the dropout masks, another
    draws others; a method called twice with one random_state repeats its scores."""
    torch.manual_seed(0)
    model = _MCDropout()
    X = np.random.default_rng(0).normal(size=(30, 3))
    y = 2 * X[:, 0] + X[:, 1]
    adapter = varimp.adapters.adapt(model)
    base = {}
    for seed in (0, 1, 0):
        adapter.seed_draws(seed)
        base.setdefault(seed, []).append(adapter.predict(X))
        got = varimp.importance(model, X, y, method=method, random_state=seed, n_repeats=2)
        base.setdefault(("scores", seed), []).append(got.scores.to_numpy())
    np.testing.assert_array_equal(base[0][0], base[0][1])  # a seed repeats the model's draws
    assert not np.array_equal(base[0][0], base[1][0])  # another seed draws other masks
    np.testing.assert_array_equal(*base[("scores", 0)])
