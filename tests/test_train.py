"""The seeded trainers: they learn, they are deterministic, they leave the caller's state alone."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch
from torch import nn

import varimp
from varimp import datasets
from varimp.adapters import adapt
from varimp.train import RecurrentLayer, RecurrentNet, train_mlp, train_recurrent


def _predict(model, X):
    with torch.no_grad():
        return model(torch.as_tensor(X, dtype=torch.float32)).numpy()


def _r2(pred, y):
    return 1.0 - np.mean((pred - y) ** 2) / np.var(y)


def test_mlp_learns_a_linear_function_on_the_scale_of_y():
    rng = np.random.default_rng(0)
    X = rng.normal(loc=5.0, scale=3.0, size=(400, 3))
    y = 100.0 + 20.0 * X[:, 0] - 10.0 * X[:, 2]  # far from standardized: the folding must work
    model = train_mlp(X, y, hidden=(8,), epochs=60, random_state=0)
    assert not model.training
    pred = _predict(model, X)
    assert pred.shape == (400, 1)
    assert _r2(pred[:, 0], y) > 0.99
    # the folded network is still a plain chain the adapter reads exactly
    network = adapt(model).network()
    np.testing.assert_allclose(network.forward(X)[:, 0], pred[:, 0], rtol=1e-4, atol=1e-3)


def test_mlp_without_hidden_layers_is_least_squares():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 2))
    y = 3.0 + 2.0 * X[:, 0] - X[:, 1]
    model = train_mlp(X, y, hidden=(), epochs=150, lr=0.05, random_state=0)
    linear = model[0]
    np.testing.assert_allclose(linear.weight.detach().numpy()[0], [2.0, -1.0], atol=0.02)
    np.testing.assert_allclose(linear.bias.item(), 3.0, atol=0.02)


def test_mlp_binary_and_multiclass():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(600, 2))
    labels = (X[:, 0] + X[:, 1] > 0).astype(float)
    model = train_mlp(X, labels, task="binary", epochs=40, random_state=0)
    assert isinstance(model[-1], nn.Sigmoid)
    prob = _predict(model, X)[:, 0]
    np.testing.assert_allclose(prob, 1 / (1 + np.exp(-_predict(model[:-1], X)[:, 0])), atol=1e-6)
    assert np.mean((prob > 0.5) == labels) > 0.95
    classes = np.digitize(X[:, 0], [-0.5, 0.5])  # 0, 1, 2
    model = train_mlp(X, classes, task="multiclass", epochs=60, random_state=0)
    prob = _predict(model, X)
    assert prob.shape == (600, 3)
    np.testing.assert_allclose(prob.sum(axis=1), 1.0, atol=1e-5)
    assert np.mean(prob.argmax(axis=1) == classes) > 0.9


@pytest.mark.parametrize("task, accepted", [
    ("multiclass", "integer class labels 0..k-1"), ("binary", "0 and 1"),
    ("regression", "numbers"),
])
def test_mlp_string_labels_are_an_input_error_naming_them_and_the_encoding(task, accepted):
    """String labels: not a raw TypeError from numpy but an InputError naming the labels, what
    the task accepts and how to encode them; the encoding it names trains and scores alike."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(60, 2))
    text = np.array(["hi", "lo", "mid"])[np.digitize(X[:, 0], [-0.5, 0.5])]
    labels = text if task != "binary" else np.where(X[:, 0] > 0, "hi", "lo").astype(object)
    with pytest.raises(varimp.InputError,
                       match=rf"task='{task}' needs targets of {accepted}.*received "
                             r"non-numeric labels such as \['hi', 'lo'.*np\.unique\(y, "
                             r"return_inverse=True\).*classes=classes"):
        train_mlp(X, labels, task=task, epochs=1)
    classes, codes = np.unique(text, return_inverse=True)
    model = train_mlp(X, codes, task="multiclass", epochs=2, random_state=0)
    named = varimp.permutation(model, X, text, classes=list(classes), random_state=0)
    by_code = varimp.permutation(model, X, codes, random_state=0)
    np.testing.assert_allclose(named.scores.to_numpy(), by_code.scores.to_numpy(), rtol=1e-12)



@pytest.mark.parametrize("loss, accepted", [("bce", "0 and 1"), ("mse", "numbers")])
def test_recurrent_string_labels_are_an_input_error_naming_the_loss(loss, accepted):
    X = np.random.default_rng(3).normal(size=(8, 4, 2))
    labels = np.where(X[..., 0] > 0, "hi", "lo").astype(object)  # (n, T): one per step
    with pytest.raises(varimp.InputError,
                       match=rf"loss='{loss}' needs targets of {accepted}.*received "
                             r"non-numeric labels such as \['hi', 'lo'\].*codes with "
                             r"loss='bce' \(two classes\)"):
        train_recurrent(X, labels, loss=loss, epochs=1)
def test_same_seed_identical_weights_other_seed_other_weights():
    X, y, _ = datasets.olden_simulation(100, random_state=0)
    a = train_mlp(X, y, epochs=3, random_state=7).state_dict()
    b = train_mlp(X, y, epochs=3, random_state=7).state_dict()
    c = train_mlp(X, y, epochs=3, random_state=8).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)
    Xs, ys, _ = datasets.product_threshold(30, 4, random_state=0)
    a = train_recurrent(Xs, ys, epochs=1, random_state=7).state_dict()
    b = train_recurrent(Xs, ys, epochs=1, random_state=7).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_trainers_leave_arrays_and_global_rng_unchanged():
    X, y, _ = datasets.product_threshold(20, 4, random_state=0)
    X0, y0 = X.copy(), y.copy()
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()  # noqa: NPY002
    threads = torch.get_num_threads()
    train_recurrent(X, y, epochs=1, random_state=0, n_threads=1)
    train_mlp(X[:, 0], y[:, 0], task="binary", epochs=1, random_state=0, n_threads=2)
    with pytest.raises(varimp.InputError):
        train_mlp(X[:, 0], y[:, 0], task="binary", epochs=1, n_threads=0)
    assert torch.get_num_threads() == threads
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)
    assert torch.equal(torch.get_rng_state(), torch_state)
    after = np.random.get_state()  # noqa: NPY002
    assert np.array_equal(after[1], numpy_state[1]) and after[2] == numpy_state[2]


def test_concurrent_threads_train_the_networks_of_sequential_runs():
    """Fits in threads of one process (joblib's threading backend, a Dask worker with several
    threads) neither race for torch's global RNG nor leave it changed: every network is
    bitwise the one a sequential run trains, and the caller's RNG state is as it was."""
    X, y, _ = datasets.olden_simulation(60, random_state=0)
    Xs, ys, _ = datasets.product_threshold(12, 4, random_state=0)
    jobs = [lambda seed=seed: train_mlp(X, y, hidden=(6,), epochs=25, batch_size=8,
                                        validation_fraction=0.2, random_state=seed)
            for seed in range(4)]
    jobs += [lambda seed=seed: train_recurrent(Xs, ys, units=(3, 1), activations="sigmoid",
                                               epochs=3, batch_size=2, random_state=seed)
             for seed in range(2)]
    sequential = [job().state_dict() for job in jobs]
    torch_state = torch.get_rng_state()
    for _ in range(2):
        with ThreadPoolExecutor(max_workers=3) as pool:
            concurrent = [future.result().state_dict()
                          for future in [pool.submit(job) for job in jobs]]
        for alone, threaded in zip(sequential, concurrent, strict=True):
            assert all(torch.equal(alone[k], threaded[k]) for k in alone)
    assert torch.equal(torch.get_rng_state(), torch_state)


def test_reference_lstm_structure_and_learning():
    """Three stacked LSTM layers 10/5/1 (relu, relu, sigmoid) learn the product-threshold task."""
    X, y, _ = datasets.product_threshold(1000, 10, random_state=0)
    model = train_recurrent(X, y, lr=0.01, batch_size=20, epochs=5, random_state=0)
    assert isinstance(model, RecurrentNet)
    assert [(m.cell, m.hidden_size, m.activation) for m in model.layers] == [
        ("lstm", 10, "relu"), ("lstm", 5, "relu"), ("lstm", 1, "sigmoid")]
    X_test, y_test, _ = datasets.product_threshold(500, 10, random_state=1)
    prob = _predict(model, X_test)
    assert prob.shape == (500, 10, 1)
    base_rate = max(y_test.mean(), 1 - y_test.mean())  # about 0.6
    assert base_rate < 0.65
    assert np.mean((prob[..., 0] > 0.5) == y_test) > 0.9
    # varimp's adapter reads the custom layers and reproduces the model in numpy
    network = adapt(model).network()
    assert [layer.activation for layer in network.layers] == ["relu", "relu", "sigmoid"]
    np.testing.assert_allclose(network.forward(X_test[:20]), prob[:20], atol=1e-5)


@pytest.mark.parametrize("cell, activation, native", [
    ("lstm", "tanh", lambda p, h: nn.LSTM(p, h, batch_first=True)),
    ("gru", "tanh", lambda p, h: nn.GRU(p, h, batch_first=True)),
    ("rnn", "tanh", lambda p, h: nn.RNN(p, h, batch_first=True)),
    ("rnn", "relu", lambda p, h: nn.RNN(p, h, nonlinearity="relu", batch_first=True)),
])
def test_custom_layer_equals_pytorch_layer_with_the_same_weights(cell, activation, native):
    layer = RecurrentLayer(cell, 3, 4, activation)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for param in layer.parameters():
            param.copy_(torch.randn(param.shape, generator=generator) * 0.5)
    reference = native(3, 4)
    reference.load_state_dict(layer.state_dict())  # same names, shapes and gate order
    x = torch.randn(5, 6, 3, generator=generator)
    with torch.no_grad():
        torch.testing.assert_close(layer(x), reference(x)[0], rtol=1e-5, atol=1e-6)


def test_sequence_regression_with_a_head():
    kwargs = {"n_timesteps": 8, "n_features": 3, "steps": (3, 6)}
    X, y, _ = datasets.box_sequences(1000, **kwargs, random_state=0)
    model = train_recurrent(X, y, cell="rnn", units=(16,), activations="identity", head=True,
                            return_sequences=False, loss="mse", lr=0.01, batch_size=20,
                            epochs=10, random_state=0)
    X_test, y_test, _ = datasets.box_sequences(300, **kwargs, random_state=1)
    pred = _predict(model, X_test)
    assert pred.shape == (300, 1)
    assert _r2(pred[:, 0], y_test) > 0.95
    np.testing.assert_allclose(adapt(model).network().forward(X_test[:10]), pred[:10],
                               atol=1e-4)


def test_defaults_make_a_valid_fit_function():
    X, y, _ = datasets.product_threshold(25, 5, random_state=0)
    model = train_recurrent(X, y)  # as a stepwise method calls fit(X, y)
    assert _predict(model, X).shape == (25, 5, 1)
    model = train_recurrent(X[:, :, :2], y)  # a feature removed: the input size follows X
    assert model.layers[0].input_size == 2
    Xt, yt, _ = datasets.olden_simulation(50, random_state=0)
    assert _predict(train_mlp(Xt, yt), Xt).shape == (50, 1)


@pytest.mark.parametrize("call", [
    lambda X, y: train_recurrent(X[:, 0], y),  # a table for a recurrent net
    lambda X, y: train_recurrent(X, y[:, 0]),  # one target per sequence with return_sequences
    lambda X, y: train_recurrent(X, y * 2.0),  # bce targets outside [0, 1]
    lambda X, y: train_recurrent(X, y, activations=("relu", "relu", "tanh")),  # no probability
    lambda X, y: train_recurrent(X, y, cell="lstmx"),
    lambda X, y: train_recurrent(X, y, activations=("relu", "relu")),
    lambda X, y: train_recurrent(X, y, activations=("relu", "relu", "swish!")),
    lambda X, y: train_recurrent(X, y, units=(10, 5, 2)),  # 2 outputs, y has 1, no head
    lambda X, y: train_recurrent(X, y, units=(10, 0, 1)),
    lambda X, y: train_recurrent(X, y, epochs=0),
    lambda X, y: train_recurrent(X, y, lr=-1.0),
    lambda X, y: train_recurrent(X, y[:-1]),
    lambda X, y: train_mlp(X, y),  # sequences for an MLP
    lambda X, y: train_mlp(X[:, 0], y[:, 0], task="ranking"),
    lambda X, y: train_mlp(X[:, 0], y[:, 0] * 3, task="binary"),
    lambda X, y: train_mlp(X[:, 0], y[:, 0] + 0.5, task="multiclass"),
    lambda X, y: train_mlp(X[:, 0], np.zeros(len(X)), task="multiclass"),
    lambda X, y: train_mlp(np.where(X[:, 0] > 0.5, np.nan, X[:, 0]), y[:, 0]),
    lambda X, y: train_mlp(X[:, 0], y[:, 0], hidden="16"),
    lambda X, y: train_mlp(X[:, 0], y[:, 0], batch_size=1.5),
])
def test_bad_input_is_an_input_error(call):
    X, y, _ = datasets.product_threshold(10, 4, random_state=0)
    with pytest.raises(varimp.InputError):
        call(X, y)


@pytest.fixture
def float64_default():
    """torch's default dtype set to float64 for the test, restored afterwards."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


def _float32_fits():
    X, y, _ = datasets.olden_simulation(40, random_state=0)
    Xs, ys, _ = datasets.product_threshold(12, 4, random_state=0)
    return [train_mlp(X, y, hidden=(4,), epochs=2, random_state=3),
            train_mlp(X, y > 0, task="binary", epochs=1, random_state=3),
            train_recurrent(Xs, ys[:, -1], cell="gru", units=(3, 1), activations="tanh",
                            return_sequences=False, loss="mse", epochs=1, random_state=3),
            train_recurrent(Xs, ys, units=(3, 2), activations=("elu", "relu"), head=True,
                            epochs=1, random_state=3)]


def test_trainers_build_float32_networks_under_a_float64_default_dtype(float64_default):
    """torch.set_default_dtype(torch.float64) by the caller: the trainers still build, train
    and return float32 networks (they fed float32 batches to float64 layers once, a raw
    RuntimeError), bitwise the ones trained under the float32 default, and leave the
    caller's default dtype as it was."""
    wide = [model.state_dict() for model in _float32_fits()]
    assert torch.get_default_dtype() == torch.float64
    torch.set_default_dtype(torch.float32)
    narrow = [model.state_dict() for model in _float32_fits()]
    torch.set_default_dtype(torch.float64)
    for got, reference in zip(wide, narrow, strict=True):
        assert {value.dtype for value in got.values()} == {torch.float32}
        assert all(torch.equal(got[k], reference[k]) for k in reference)


def test_backward_stepwise_refits_under_a_float64_default_dtype(float64_default):
    """The stepwise retraining (train_mlp as fit=) under a float64 default gives the scores
    it gives under the float32 default."""
    X, y, _ = datasets.olden_simulation(40, random_state=1)
    model = train_mlp(X, y, hidden=(3,), epochs=2, random_state=0)

    def run():
        return varimp.backward_stepwise(model, X, y, fit=lambda a, b: train_mlp(
            a, b, hidden=(3,), epochs=2, random_state=0), random_state=0,
            progress=False).scores
    wide = run()
    torch.set_default_dtype(torch.float32)
    narrow = run()
    torch.set_default_dtype(torch.float64)
    np.testing.assert_array_equal(wide.to_numpy(), narrow.to_numpy())
    assert np.all(np.isfinite(wide.to_numpy()))


@pytest.mark.parametrize("cell, activation, loss, head", [
    ("lstm", "tanh", "mse", True),     # native layer, targets scaled into the head
    ("gru", "relu", "mse", False),     # varimp's RecurrentLayer, targets left as they are
    ("rnn", "tanh", "bce", True),      # probabilities: targets never scaled
])
def test_recurrent_standardize_folds_the_scaling_into_the_first_layer_and_the_head(
        cell, activation, loss, head):
    """standardize=True is training on standardized inputs (and, for mse with a head,
    targets) with the same seed: the returned network on raw X equals the network trained on
    (X - mean) / std, its outputs mapped back by y's std and mean."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 6, 3)) * np.array([1000.0, 0.01, 1.0]) + np.array([5e3, 0.0, 2.0])
    signal = X[:, :, 0] / 1000 + 100 * X[:, :, 1]
    y = 1 / (1 + np.exp(-signal)) if loss == "bce" else 50 * signal + 300
    y = y[:, -1] if head else y
    units = (4, 2) if head else (4, 1)
    acts = (activation, "sigmoid" if loss == "bce" and not head else activation)
    options = dict(cell=cell, units=units, activations=acts, loss=loss, head=head,
                   return_sequences=not head, epochs=3, random_state=1)
    flat = X.reshape(-1, 3)
    mean, std = flat.mean(0), flat.std(0)
    if loss == "mse" and head:
        y_mean, y_std = y.mean(), y.std()
    else:
        y_mean, y_std = 0.0, 1.0
    folded = train_recurrent(X, y, standardize=True, **options)
    plain = train_recurrent((X - mean) / std, (y - y_mean) / y_std, **options)
    with torch.no_grad():
        raw = folded(torch.as_tensor(X, dtype=torch.float32)).double().numpy()
        reference = plain(torch.as_tensor((X - mean) / std, dtype=torch.float32)).double()
    np.testing.assert_allclose(raw, reference.numpy() * y_std + y_mean,
                               rtol=1e-4, atol=1e-4 * max(1.0, y_std))
    assert type(folded.layers[0]) is type(plain.layers[0])
