"""Adapters: one network in three frameworks gives one answer; the model is never changed;
unreadable models and bad input are refused with messages that say what was expected.
"""

import contextlib
import pickle
import warnings

import keras
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn

import varimp
from varimp.adapters import adapt
from varimp.loaders import load_model

P, T, N, UNITS = 4, 5, 40, 3
METHODS = ("connection_weights", "garson", "partial_derivatives")


def run(method, model, X, **options):
    return varimp.importance(model, X, method=method, **options)


def assert_same_scores(a, b, rtol=1e-5):
    np.testing.assert_allclose(a.scores.to_numpy(), b.scores.to_numpy(), rtol=rtol)
    if a.by_time is not None or b.by_time is not None:
        np.testing.assert_allclose(a.by_time.to_numpy(), b.by_time.to_numpy(), rtol=rtol,
                                   atol=1e-7 * np.abs(a.by_time.to_numpy()).max())


class Recurrent(nn.Module):
    """A torch recurrent layer (batch first) and a Linear head at the last or at every step."""

    def __init__(self, rnn, head, last_step=True):
        super().__init__()
        self.rnn, self.head, self.last_step = rnn, head, last_step

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[:, -1] if self.last_step else out)


def fit_quietly(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


# -- the same MLP in PyTorch, Keras and scikit-learn -----------------------------------------

def three_mlps():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(P, 6), nn.Tanh(), nn.Linear(6, 5), nn.Tanh(), nn.Linear(5, 2))
    linears = [m for m in net if isinstance(m, nn.Linear)]
    weights = [(m.weight.detach().numpy().T.copy(), m.bias.detach().numpy().copy())
               for m in linears]
    dense = keras.Sequential([keras.Input((P,)), keras.layers.Dense(6, activation="tanh"),
                              keras.layers.Dense(5, activation="tanh"), keras.layers.Dense(2)])
    for layer, (w, b) in zip(dense.layers, weights, strict=True):
        layer.set_weights([w, b])
    rng = np.random.default_rng(0)
    sk = MLPRegressor(hidden_layer_sizes=(6, 5), activation="tanh", max_iter=2, random_state=0)
    fit_quietly(sk, rng.normal(size=(20, P)), rng.normal(size=(20, 2)))
    sk.coefs_ = [w.astype(np.float64) for w, _ in weights]
    sk.intercepts_ = [b.astype(np.float64) for _, b in weights]
    return net, dense, sk


@pytest.mark.parametrize("method", METHODS)
def test_one_mlp_in_three_frameworks_gives_the_same_scores(method):
    net, dense, sk = three_mlps()
    X = np.random.default_rng(1).normal(size=(N, P))
    reference = np.linalg.multi_dot([m.weight.detach().double().numpy().T
                                     for m in net if isinstance(m, nn.Linear)])
    results = [run(method, model, X) for model in (net, dense, sk)]
    for other in results[1:]:
        assert_same_scores(results[0], other)
    for k in range(2):
        per_output = [run(method, model, X, output=k) for model in (net, dense, sk)]
        for other in per_output[1:]:
            assert_same_scores(per_output[0], other)
        if method == "connection_weights":
            np.testing.assert_allclose(per_output[2].scores.to_numpy(), reference[:, k],
                                       rtol=1e-12)


def torch_to_keras_recurrent(rnn, head, cell, return_sequences=False, time_distributed=False):
    """The same LSTM / GRU in Keras: gate blocks reordered, biases in Keras' layout."""
    units = rnn.hidden_size
    w_ih, w_hh = rnn.weight_ih_l0.detach().numpy(), rnn.weight_hh_l0.detach().numpy()
    b_ih, b_hh = rnn.bias_ih_l0.detach().numpy(), rnn.bias_hh_l0.detach().numpy()
    if cell == "lstm":  # Keras i, f, c, o is torch's i, f, g, o; one bias
        layer = keras.layers.LSTM(units, return_sequences=return_sequences)
        weights = [w_ih.T, w_hh.T, b_ih + b_hh]
    else:  # Keras z, r, h against torch r, z, n; reset_after=True keeps two biases (2, 3u)
        order = np.concatenate([np.arange(units, 2 * units), np.arange(units),
                                np.arange(2 * units, 3 * units)])
        layer = keras.layers.GRU(units, return_sequences=return_sequences, reset_after=True)
        weights = [w_ih[order].T, w_hh[order].T, np.stack([b_ih[order], b_hh[order]])]
    dense = keras.layers.Dense(head.out_features)
    top = keras.layers.TimeDistributed(dense) if time_distributed else dense
    model = keras.Sequential([keras.Input((T, rnn.input_size)), layer, top])
    layer.set_weights(weights)
    dense.set_weights([head.weight.detach().numpy().T, head.bias.detach().numpy()])
    return model


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("last_step", [True, False])
def test_one_recurrent_network_in_torch_and_keras_gives_the_same_scores(cell, last_step):
    torch.manual_seed(2)
    rnn = (nn.LSTM if cell == "lstm" else nn.GRU)(P, UNITS, batch_first=True)
    head = nn.Linear(UNITS, 2)
    net = Recurrent(rnn, head, last_step)
    model = torch_to_keras_recurrent(rnn, head, cell, return_sequences=not last_step,
                                     time_distributed=not last_step)
    X = np.random.default_rng(3).normal(size=(N, T, P))
    np.testing.assert_allclose(adapt(model).predict(X), adapt(net).predict(X), rtol=1e-5,
                               atol=1e-6)
    for method in METHODS:
        assert_same_scores(run(method, net, X), run(method, model, X))
        assert_same_scores(run(method, net, X, output=1), run(method, model, X, output=1))
    if not last_step:
        for method in METHODS:
            assert_same_scores(run(method, net, X, output_step=2),
                               run(method, model, X, output_step=2))


def test_sklearn_binary_classifier_is_one_logistic_unit():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(60, P))
    clf = MLPClassifier(hidden_layer_sizes=(5,), activation="relu", max_iter=50, random_state=0)
    fit_quietly(clf, X, (X[:, 0] + X[:, 1] > 0).astype(int))
    # one logistic unit in coefs_, read as one output: the probability of classes_[1]
    network = adapt(clf).network()
    assert network.n_outputs == 1 and network.layers[-1].activation == "sigmoid"
    np.testing.assert_allclose(network.forward(X)[:, 0], clf.predict_proba(X)[:, 1], rtol=1e-12)
    np.testing.assert_allclose(adapt(clf).predict(X)[:, 0, 0], clf.predict_proba(X)[:, 1],
                               rtol=1e-12)
    path = (clf.coefs_[0] @ clf.coefs_[1])[:, 0]
    cw = varimp.connection_weights(clf, X)
    assert cw.kind == "effect"  # one output: the sign is kept
    np.testing.assert_allclose(cw.scores.to_numpy(), path, rtol=1e-12)
    # partial derivatives of P(classes_[1]), against finite differences
    eps = 1e-6
    fd = np.stack([(clf.predict_proba(X + eps * e)[:, 1] - clf.predict_proba(X - eps * e)[:, 1])
                   / (2 * eps) for e in np.eye(P)], axis=1)  # (n, p)
    result = varimp.partial_derivatives(clf, X)
    np.testing.assert_allclose(result.details["derivatives"].to_numpy(), fd, rtol=1e-5,
                               atol=1e-8)


def test_sklearn_three_class_classifier_reads_softmax_outputs():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(90, P))
    y = np.digitize(X[:, 0] - X[:, 2], [-0.5, 0.5])
    clf = fit_quietly(MLPClassifier(hidden_layer_sizes=(6, 4), activation="tanh", max_iter=60,
                                    random_state=0), X, y)
    network = adapt(clf).network()
    assert network.n_outputs == 3 and network.layers[-1].activation == "softmax"
    np.testing.assert_allclose(network.forward(X), clf.predict_proba(X), rtol=1e-10)
    cw = varimp.connection_weights(clf, X)  # softmax classes: last-layer weights centred
    W1, W2, W3 = clf.coefs_
    np.testing.assert_allclose(cw.details["per_output"].to_numpy(),
                               W1 @ W2 @ (W3 - W3.mean(axis=1, keepdims=True)), rtol=1e-12)
    eps = 1e-6
    fd = np.stack([(clf.predict_proba(X + eps * e) - clf.predict_proba(X - eps * e)) / (2 * eps)
                   for e in np.eye(P)], axis=1)
    result = varimp.partial_derivatives(clf, X)  # the mean over the outputs of each one's score
    np.testing.assert_allclose(result.scores.to_numpy(), (fd**2).sum(axis=0).mean(axis=1),
                               rtol=1e-5)


@pytest.mark.parametrize("n_labels", [2, 3])
def test_sklearn_multilabel_classifier_reads_one_sigmoid_per_label(n_labels):
    """Two labels (classes_ == [0, 1], like a binary classifier's) are two sigmoid outputs, as
    three are: each method's per-label scores equal those of a callable returning the columns
    of predict_proba, connection weights the raw path W1 @ W2, derivatives finite differences."""
    rng = np.random.default_rng(6)
    X = rng.normal(size=(120, P))
    Y = (X[:, :n_labels] > 0).astype(int)
    clf = fit_quietly(MLPClassifier(hidden_layer_sizes=(4,), max_iter=300, random_state=0),
                      X, Y)
    labels = [f"output {k}" for k in range(n_labels)]
    assert adapt(clf).output_names is None  # classes_ are the columns' indices, not names
    np.testing.assert_allclose(adapt(clf).predict(X)[:, 0], clf.predict_proba(X), rtol=1e-12)
    network = adapt(clf).network()
    assert network.n_outputs == n_labels and network.layers[-1].activation == "sigmoid"

    def columns(A):
        return clf.predict_proba(A)

    for method in ("profile", "perturbation", "permutation", "partial_derivatives"):
        y = Y if method == "permutation" else None
        got = varimp.importance(clf, X, y, method=method, random_state=0)
        expected = varimp.importance(columns, X, y, method=method, random_state=0,
                                     output_kind="probability")
        assert list(got.details["per_output"].columns) == labels
        np.testing.assert_allclose(got.details["per_output"].to_numpy(),
                                   expected.details["per_output"].to_numpy(), rtol=1e-6,
                                   atol=1e-12, err_msg=method)
    species = pd.DataFrame(Y, columns=[f"species {k}" for k in range(n_labels)])
    named = varimp.permutation(clf, X, species, random_state=0)  # a DataFrame y names them
    assert list(named.details["per_output"].columns) == list(species.columns)
    assert varimp.permutation(clf, X, species, random_state=0, output="species 1").scores \
        .equals(named.details["per_output"]["species 1"].rename(None))
    cw = varimp.connection_weights(clf, X)  # independent sigmoids: read as they are
    np.testing.assert_allclose(cw.details["per_output"].to_numpy(),
                               clf.coefs_[0] @ clf.coefs_[1], rtol=1e-12)
    eps = 1e-6
    fd = np.stack([(clf.predict_proba(X + eps * e) - clf.predict_proba(X - eps * e)) / (2 * eps)
                   for e in np.eye(P)], axis=1)  # (n, p, labels)
    result = varimp.partial_derivatives(clf, X)
    np.testing.assert_allclose(result.details["per_output"].to_numpy(), (fd**2).sum(axis=0),
                               rtol=1e-5)


# -- the model is never changed ---------------------------------------------------------------

class Picky(nn.Module):
    """A module in training mode with a frozen layer, a buffer and dropout; it raises on inputs
    larger than 100 (halfway through a batched call)."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(P, 5), nn.Tanh(), nn.Dropout(0.5), nn.Linear(5, 2))
        self.body[0].requires_grad_(False)
        self.register_buffer("calls", torch.zeros(1))

    def forward(self, x):
        if x.abs().max() > 100:
            raise RuntimeError("input out of the range this model accepts")
        return self.body(x)


def snapshot(model, X):
    return {
        "state": {k: v.detach().clone() for k, v in model.state_dict().items()},
        "bytes": {k: v.detach().numpy().tobytes() for k, v in model.state_dict().items()},
        "training": [m.training for m in model.modules()],
        "requires_grad": [p.requires_grad for p in model.parameters()],
        "grads": [p.grad for p in model.parameters()],
        "grad_enabled": torch.is_grad_enabled(),
        "cudnn": (torch.backends.cudnn.enabled, torch.backends.cudnn.benchmark),
        "torch_rng": torch.get_rng_state().clone(),
        "numpy_rng": np.random.get_state(),  # noqa: NPY002 - the global state must not move
        "X": np.array(X, copy=True),
    }


def assert_unchanged(before, model, X):
    after = snapshot(model, X)
    assert after["bytes"] == before["bytes"]
    for key, value in before["state"].items():
        assert torch.equal(after["state"][key], value)
    for key in ("training", "requires_grad", "grad_enabled", "cudnn"):
        assert after[key] == before[key], key
    assert all(g is None for g in after["grads"])
    assert torch.equal(after["torch_rng"], before["torch_rng"])
    b, a = before["numpy_rng"], after["numpy_rng"]
    assert a[0] == b[0] and np.array_equal(a[1], b[1]) and a[2:] == b[2:]
    np.testing.assert_array_equal(X, before["X"])


CALLS = [
    ("connection_weights", {}),
    ("garson", {"variant": "goh"}),
    ("partial_derivatives", {"batch_size": 7}),
    ("partial_derivatives", {"output": 5}),  # raises: no output 5
    ("connection_weights", {"output": -3}),  # raises
    ("partial_derivatives", {"feature_names": ["a"]}),  # raises
    ("partial_derivatives", {"batch_size": 8, "huge": True}),  # the model raises in batch 2
    ("garson", {"nan": True}),  # raises: X holds a NaN
]


@pytest.mark.parametrize("method,options", CALLS)
def test_a_torch_model_is_left_exactly_as_it_was(method, options):
    model = Picky().train()
    model.body[3].eval()  # mixed modes must come back mixed
    X = np.random.default_rng(6).normal(size=(20, P))
    options = dict(options)
    if options.pop("huge", False):
        X[12, 1] = 1e3
    if options.pop("nan", False):
        X[3, 2] = np.nan
    for context in (torch.no_grad, contextlib.nullcontext):
        with context():
            before = snapshot(model, X)
            try:
                run(method, model, X, **options)
            except varimp.VarImpError:
                pass
            assert_unchanged(before, model, X)


def test_the_model_error_of_a_raising_model_names_it():
    X = np.zeros((20, P))
    X[12, 1] = 1e3
    with pytest.raises(varimp.ModelError, match="RuntimeError.*out of the range"):
        varimp.partial_derivatives(Picky(), X, batch_size=8)


def test_a_recurrent_model_and_a_tensor_x_are_left_as_they_were():
    torch.manual_seed(7)
    model = Recurrent(nn.LSTM(P, UNITS, batch_first=True, dropout=0.0), nn.Linear(UNITS, 1))
    model.train()
    model.head.weight.requires_grad_(False)
    X = torch.randn(6, T, P)
    copy = X.clone()
    before = snapshot(model, X.numpy())
    for method in METHODS:
        run(method, model, X)
        assert_unchanged(before, model, X.numpy())
    assert torch.equal(X, copy) and not X.requires_grad


def test_a_keras_model_is_left_as_it_was():
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((T, P)), keras.layers.GRU(UNITS),
                              keras.layers.Dropout(0.3), keras.layers.Dense(2)])
    model.layers[-1].trainable = False
    weights = [w.copy() for w in model.get_weights()]
    trainable = [layer.trainable for layer in model.layers]
    X = np.random.default_rng(8).normal(size=(6, T, P))
    X_copy = X.copy()
    torch_rng = torch.get_rng_state().clone()
    numpy_rng = np.random.get_state()  # noqa: NPY002 - the global state must not move
    for method, options in [*[(m, {}) for m in METHODS], ("garson", {"output": 4})]:
        try:
            run(method, model, X, **options)
        except varimp.InputError:
            assert options
        for a, b in zip(model.get_weights(), weights, strict=True):
            np.testing.assert_array_equal(a, b)
        assert [layer.trainable for layer in model.layers] == trainable
        assert torch.is_grad_enabled()
        np.testing.assert_array_equal(X, X_copy)
    assert torch.equal(torch.get_rng_state(), torch_rng)
    assert np.array_equal(np.random.get_state()[1], numpy_rng[1])  # noqa: NPY002


def test_a_sklearn_model_is_left_as_it_was():
    clf = MLPClassifier(hidden_layer_sizes=(4,), max_iter=20, random_state=0)
    X = np.random.default_rng(14).normal(size=(30, P))
    fit_quietly(clf, X, (X[:, 0] > 0).astype(int))
    before = pickle.dumps(clf)
    X_copy = X.copy()
    for method, options in [*[(m, {}) for m in METHODS], ("partial_derivatives", {"output": 2})]:
        try:
            run(method, clf, X, **options)
        except varimp.InputError:
            assert options
        assert pickle.dumps(clf) == before
        np.testing.assert_array_equal(X, X_copy)


# -- unreadable models ------------------------------------------------------------------------

class Residual(nn.Module):
    """A skip connection: Linear and Tanh modules that the forward pass adds to its input."""

    def __init__(self):
        super().__init__()
        self.inner, self.act, self.out = nn.Linear(P, P), nn.Tanh(), nn.Linear(P, 1)

    def forward(self, x):
        return self.out(x + self.act(self.inner(x)))


def keras_conv():
    return keras.Sequential([keras.Input((T, P)), keras.layers.Conv1D(2, 2),
                             keras.layers.Flatten(), keras.layers.Dense(1)])


def pipeline():
    rng = np.random.default_rng(9)
    X = rng.normal(size=(30, P))
    mlp = MLPRegressor(hidden_layer_sizes=(3,), max_iter=5, random_state=0)
    return fit_quietly(make_pipeline(StandardScaler(), mlp), X, X[:, 0])


UNREADABLE = [
    (lambda: nn.Sequential(nn.Linear(P, 4), nn.LayerNorm(4), nn.Linear(4, 1)), (N, P),
     r"layer '1' LayerNorm cannot be read .*\. Modules of the model: '0' Linear\(4, 4\) -> "
     r"'1' LayerNorm -> '2' Linear\(4, 1\)$"),
    (lambda: nn.Sequential(nn.Conv1d(T, 2, 2), nn.Flatten(), nn.Linear(6, 1)), (N, T, P),
     r"layer '0' Conv1d cannot be read"),
    (lambda: Recurrent(nn.LSTM(P, UNITS, batch_first=True, bidirectional=True),
                       nn.Linear(2 * UNITS, 1)), (N, T, P), "layer LSTM is bidirectional"),
    (keras_conv, (N, T, P), r"layer 'conv1d.*' \(Conv1D\) cannot be read"),
    (pipeline, (N, P), r"Pipeline steps \['standardscaler'\] transform the inputs"),
    (Residual, (N, P), r"Residual do not reproduce its predictions; its forward has a skip "
     r"connection around layer 'inner' Linear\(4, 4\) \(h \+ f\(h\).*cannot follow a skip "
     r"connection.* Layers read \(2\): 'inner' Linear\(4, 4\) \+ tanh -> 'out' Linear\(4, 1\)"),
]


@pytest.mark.parametrize("build,shape,message", UNREADABLE)
def test_unreadable_models_are_refused_by_the_weight_methods(build, shape, message):
    model = build()
    X = np.random.default_rng(10).normal(size=shape)
    for method in ("connection_weights", "garson"):
        with pytest.raises(varimp.UnsupportedModelError, match=message):
            run(method, model, X)
    # the gradient needs no structure: partial derivatives still work, against differences
    result = varimp.partial_derivatives(model, X[:4], output=0)
    adapter = adapt(model)
    eps = 1e-3
    flat = X[:4].reshape(4, -1)
    fd = np.stack([(adapter.predict((flat + eps * e).reshape(X[:4].shape))[:, 0, 0]
                    - adapter.predict((flat - eps * e).reshape(X[:4].shape))[:, 0, 0]) / (2 * eps)
                   for e in np.eye(flat.shape[1])], axis=1).reshape(X[:4].shape)
    along = fd.sum(axis=1) if fd.ndim == 3 else fd
    np.testing.assert_allclose(result.scores.to_numpy(), (along**2).sum(axis=0), rtol=2e-2,
                               atol=1e-6)


def test_a_callable_cannot_give_weights():
    with pytest.raises(varimp.UnsupportedModelError, match="read as a plain function"):
        varimp.connection_weights(lambda X: X.sum(axis=1), np.zeros((3, P)))


def test_something_that_is_no_model_is_refused():
    with pytest.raises(varimp.UnsupportedModelError, match="model must be a torch.nn.Module"):
        varimp.partial_derivatives("model.pt", np.zeros((3, P)))


# -- bad input ----------------------------------------------------------------------------------

def torch_mlp():
    torch.manual_seed(11)
    return nn.Sequential(nn.Linear(P, 4), nn.Tanh(), nn.Linear(4, 1))


def torch_lstm():
    torch.manual_seed(12)
    return Recurrent(nn.LSTM(P, UNITS, batch_first=True), nn.Linear(UNITS, 1))


def keras_lstm():
    return keras.Sequential([keras.Input((T, P)), keras.layers.LSTM(UNITS),
                             keras.layers.Dense(1)])


def sklearn_mlp():
    X = np.random.default_rng(13).normal(size=(30, P))
    mlp = MLPRegressor(hidden_layer_sizes=(3,), max_iter=5, random_state=0)
    return fit_quietly(mlp, X, X[:, 0])


def with_nan(shape):
    X = np.ones(shape)
    X[(1,) * len(shape)] = np.nan
    return X


BAD_INPUT = [
    (torch_mlp, np.ones(N), None, r"X must have shape \(n_samples, n_features\) or .* \(40,\)"),
    (torch_mlp, np.ones((2, 3, 4, 5)), None, r"X must have shape .*received .*\(2, 3, 4, 5\)"),
    (torch_mlp, with_nan((N, P)), None, r"X must be finite; received NaN or inf .*\(1, 1\)"),
    (torch_mlp, np.ones((N, P + 1)), None, r"expects input of shape \(n, 4\); received X of "
     r"shape \(40, 5\)"),
    (torch_mlp, np.ones((N, P)), ["a", "b"], r"one name per feature \(4\); received 2"),
    (torch_mlp, np.ones((N, T, P)), None, r"reads a table \(n, features\); received X of shape "
     r"\(40, 5, 4\)"),
    (torch_lstm, np.ones((N, P)), None, r"reads sequences \(n, time steps, features\); received "
     r"X of shape \(40, 4\)"),
    (torch_lstm, np.ones((N, T, P + 2)), None, r"expects input of shape \(n, T, 4\); received"),
    (torch_lstm, with_nan((N, T, P)), None, r"X must be finite.*\(1, 1, 1\)"),
    (keras_lstm, np.ones((N, P)), None, r"reads sequences \(n, time steps, features\)"),
    (keras_lstm, np.ones((N, T, P - 1)), None, r"expects input of shape \(n, 5, 4\)"),
    (sklearn_mlp, np.ones((N, T, P)), None, r"reads a table \(n, features\)"),
    (sklearn_mlp, np.ones((N, 2)), None, r"expects input of shape \(n, 4\)"),
    (sklearn_mlp, np.ones((N, P)), ["a", "b", "c", "c"], r"feature_names must be unique"),
]


@pytest.mark.parametrize("build,X,names,message", BAD_INPUT)
def test_bad_input_is_refused_with_what_was_expected(build, X, names, message):
    model = build()
    for method in METHODS:
        with pytest.raises(varimp.InputError, match=message):
            run(method, model, X, feature_names=names)


# -- a binary classifier with class names is one logistic unit -------------------------------

def test_a_binary_classifier_with_class_names_is_one_unit_named_by_its_positive_class():
    rng = np.random.default_rng(11)
    X = rng.normal(size=(80, P))
    labels = np.where(X[:, 0] - 0.5 * X[:, 1] > 0, "yes", "no")
    clf = fit_quietly(MLPClassifier(hidden_layer_sizes=(4,), max_iter=300, random_state=0),
                      X, labels)
    assert list(clf.classes_) == ["no", "yes"]
    assert adapt(clf).output_names == ("yes",)  # one unit: P(classes_[1])
    path = (clf.coefs_[0] @ clf.coefs_[1])[:, 0]
    eps = 1e-6
    fd = np.stack([(clf.predict_proba(X + eps * e)[:, 1] - clf.predict_proba(X - eps * e)[:, 1])
                   / (2 * eps) for e in np.eye(P)], axis=1)
    for output in ("yes", 0, None):
        cw = varimp.connection_weights(clf, X, output=output)
        np.testing.assert_allclose(cw.scores.to_numpy(), path, rtol=1e-12)
        assert list(cw.details["per_output"].columns) == ["yes"]
        pad = varimp.partial_derivatives(clf, X, output=output)
        np.testing.assert_allclose(pad.details["derivatives"].to_numpy(), fd, rtol=1e-5,
                                   atol=1e-8)
    named = varimp.permutation(clf, X, labels, output="yes", n_repeats=2, random_state=0)
    whole = varimp.permutation(clf, X, labels, n_repeats=2, random_state=0)
    np.testing.assert_array_equal(named.scores.to_numpy(), whole.scores.to_numpy())
    refusal = (r"output must be 'yes' or 0: this binary classifier has one logistic unit, the "
               r"probability of class 'yes' \(classes_\[1\]\), and no output for class 'no'; "
               r"as p\(no\) = 1 - p\(yes\), the importance for 'no' is the one for 'yes': "
               r"identical for losses, shares and magnitudes, of opposite sign for signed "
               r"effects \(connection weights, derivatives\); received output='no'$")
    for method in ("connection_weights", "garson", "partial_derivatives", "permutation",
                   "profile"):
        with pytest.raises(varimp.InputError, match=refusal):
            varimp.importance(clf, X, labels, method=method, output="no")


def test_the_diagram_of_a_binary_classifier_names_its_one_output_node():
    import matplotlib.pyplot as plt

    from varimp.plot import plot_network

    rng = np.random.default_rng(12)
    X = rng.normal(size=(40, P))
    clf = fit_quietly(MLPClassifier(hidden_layer_sizes=(3,), max_iter=50, random_state=0), X,
                      np.where(X[:, 0] > 0, "present", "absent"))
    adapter = adapt(clf)
    # as the report draws it: the network, with the adapter's output names
    for drawn in (plot_network(clf),
                  plot_network(adapter.network(), output_names=adapter.output_names)):
        labels = [text.get_text() for text in drawn.texts if text.get_text() in
                  ("present", "absent")]
        assert labels == ["present"]
        assert len(drawn.collections[0].get_segments()) == P * 3 + 3 + 3 + 1  # weights, biases
        plt.close(drawn.figure)


def test_a_model_fitted_on_a_dataframe_is_called_without_a_feature_name_warning():
    import pandas as pd

    rng = np.random.default_rng(13)
    frame = pd.DataFrame(rng.normal(size=(50, P)), columns=["temp", "rain", "ph", "depth"])
    y = frame["temp"] - frame["rain"]
    for model in (MLPRegressor(hidden_layer_sizes=(3,), max_iter=30, random_state=0),
                  make_pipeline(StandardScaler(), MLPRegressor(hidden_layer_sizes=(3,),
                                                               max_iter=30, random_state=0))):
        fit_quietly(model, frame, y)
        X = frame.to_numpy()
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # scikit-learn's "X does not have valid feature names"
            predicted = adapt(model).predict(X)[:, 0, 0]
            result = varimp.permutation(model, X, y.to_numpy(), n_repeats=1, random_state=0)
        np.testing.assert_array_equal(predicted, model.predict(frame))
        assert list(result.scores.index) == ["x1", "x2", "x3", "x4"]


# -- errors of the model: the informative line is kept ---------------------------------------

def test_a_model_error_keeps_its_first_and_last_lines():
    def scripted_like(X):
        raise RuntimeError("The following operation failed in the TorchScript interpreter.\n"
                           "Traceback of TorchScript (most recent call last):\n"
                           "  File \"linear.py\", line 134, in forward\n\n"
                           "RuntimeError: mat1 and mat2 shapes cannot be multiplied (3x5 and "
                           "4x6)\n\n")

    with pytest.raises(varimp.ModelError) as caught:
        varimp.permutation(scripted_like, np.zeros((3, 5)), np.zeros(3))
    assert str(caught.value) == (
        "the model raised RuntimeError on input of shape (3, 5): The following operation "
        "failed in the TorchScript interpreter. ... RuntimeError: mat1 and mat2 shapes cannot "
        "be multiplied (3x5 and 4x6)")
    assert "\n" not in str(caught.value)


# -- Keras models with several output heads ---------------------------------------------------

def two_head_keras(units=(1, 1), activations=(None, None), dict_output=False):
    keras.utils.set_random_seed(14)
    inp = keras.Input((P,))
    hidden = keras.layers.Dense(5, activation="tanh", name="hid")(inp)
    heads = [keras.layers.Dense(k, activation=a, name=name)(hidden)
             for k, a, name in zip(units, activations, ("flow", "temp"), strict=True)]
    return keras.Model(inp, dict(zip(("temp_out", "flow_out"), heads[::-1], strict=True))
                       if dict_output else heads)


def test_a_keras_model_with_two_heads_joins_them_and_names_its_outputs():
    X = np.random.default_rng(15).normal(size=(30, P))
    model = two_head_keras(units=(1, 2))
    adapter = adapt(model)
    assert adapter.output_names == ("flow", "temp[0]", "temp[1]")
    flow, temp = (np.asarray(out) for out in model.predict(X, verbose=0))
    np.testing.assert_allclose(adapter.predict(X)[:, 0], np.hstack([flow, temp]), rtol=1e-6)
    w_h = model.get_layer("hid").get_weights()[0]
    by_hand = np.hstack([w_h @ model.get_layer(name).get_weights()[0]
                         for name in ("flow", "temp")])
    cw = varimp.connection_weights(model, X)
    np.testing.assert_allclose(cw.details["per_output"].to_numpy(), by_hand, rtol=1e-5)
    assert list(cw.details["per_output"].columns) == ["flow", "temp[0]", "temp[1]"]
    temp1 = varimp.connection_weights(model, X, output="temp[1]")
    np.testing.assert_allclose(temp1.scores.to_numpy(), by_hand[:, 2], rtol=1e-5)
    # partial derivatives of the "flow" head: d flow / dx = W_h diag(1 - tanh^2) w_flow
    b_h = model.get_layer("hid").get_weights()[1]
    slope = 1 - np.tanh(X @ w_h + b_h) ** 2
    exact = (slope * model.get_layer("flow").get_weights()[0][:, 0]) @ w_h.T
    pad = varimp.partial_derivatives(model, X, output="flow")
    np.testing.assert_allclose(pad.details["derivatives"].to_numpy(), exact, rtol=1e-4,
                               atol=1e-6)
    # a dict of heads is joined by sorted key and named by its keys
    named = two_head_keras(dict_output=True)
    assert adapt(named).output_names == ("flow_out", "temp_out")
    out = named.predict(X, verbose=0)
    np.testing.assert_allclose(adapt(named).predict(X)[:, 0],
                               np.hstack([out["flow_out"], out["temp_out"]]), rtol=1e-6)


def test_keras_heads_the_weight_reader_cannot_join_are_refused():
    X = np.random.default_rng(16).normal(size=(10, P))
    with pytest.raises(varimp.UnsupportedModelError,
                       match=r"output heads 'flow', 'temp' have different activations "
                             r"\(sigmoid, identity\).*keras.Model\(model.inputs, "
                             r"model.outputs\[k\]\)"):
        varimp.connection_weights(two_head_keras(activations=("sigmoid", None)), X)
    inp = keras.Input((P,))
    hidden = keras.layers.Dense(4, activation="tanh", name="hid")(inp)
    deeper = keras.layers.Dense(1, name="deep")(keras.layers.Dense(3, name="more")(hidden))
    branched = keras.Model(inp, [keras.layers.Dense(1, name="flow")(hidden), deeper])
    with pytest.raises(varimp.UnsupportedModelError,
                       match=r"output heads 'flow', 'deep' are flow \(Dense, from hid\), deep "
                             r"\(Dense, from more\); the weight-based methods read several "
                             r"heads only when they are Dense layers on one shared layer"):
        varimp.connection_weights(branched, X)
    # prediction-based methods still read it: the two heads side by side
    assert adapt(branched).predict(X).shape == (10, 1, 2)


def dict_heads_keras():
    """Heads written ``zflow``, ``astage``, which Keras joins by sorted key (``astage``
    first); set by hand: zflow = 3 x1 and astage = 3 x3 exactly."""
    inp = keras.Input((P,))
    hidden = keras.layers.Dense(P, name="hid")(inp)
    model = keras.Model(inp, {"zflow": keras.layers.Dense(1, name="zflow")(hidden),
                              "astage": keras.layers.Dense(1, name="astage")(hidden)})
    model.get_layer("hid").set_weights([np.eye(P), np.zeros(P)])
    for name, column in (("zflow", 0), ("astage", 2)):
        weight = np.zeros((P, 1))
        weight[column] = 3.0
        model.get_layer(name).set_weights([weight, np.zeros(1)])
    return model


def test_a_dataframe_y_is_matched_to_keras_heads_by_name():
    """A DataFrame y in the order the heads were written is put in the model's order (a dict
    of heads by sorted key), not scored by position against the other head's outputs."""
    model = dict_heads_keras()
    X = np.random.default_rng(20).normal(size=(60, P))
    flow, stage = 3 * X[:, 0], 3 * X[:, 2]
    assert adapt(model).output_names == ("astage", "zflow")
    written = pd.DataFrame({"zflow": flow, "astage": stage})
    options = {"method": "permutation", "random_state": 0, "n_repeats": 3}
    by_name = varimp.importance(model, X, written, **options)
    in_order = varimp.importance(model, X, np.c_[stage, flow], **options)
    assert list(by_name.details["per_output"].columns) == ["astage", "zflow"]
    np.testing.assert_allclose(by_name.details["per_output"].to_numpy(),
                               in_order.details["per_output"].to_numpy(), rtol=1e-12)
    # zflow = 3 x1 exactly: permuting x1 adds 9 mean((x1_perm - x1)^2), x3 adds nothing
    zflow = varimp.importance(model, X, written, output="zflow", **options).scores
    assert zflow["x1"] > 9.0 and abs(zflow["x3"]) < 1e-9 and abs(zflow["x2"]) < 1e-9
    with pytest.raises(varimp.InputError,
                       match=r"y's columns \['zflow', 'stage'\] are not the model's output names "
                             r"\['astage', 'zflow'\]: .*matched to its outputs by name.*or pass "
                             r"y as an array whose columns are in the model's order"):
        varimp.importance(model, X, pd.DataFrame({"zflow": flow, "stage": stage}), **options)
    for given, what in (({"zflow": flow, "astage": stage},
                         r"a dict with keys \['zflow', 'astage'\]"),
                        ([flow, stage], r"a list of 2 targets")):
        with pytest.raises(varimp.InputError,
                           match=rf"received {what}\. For a model with several output heads "
                                 r"pass y as a DataFrame with one column per output, named like "
                                 r"the model's outputs \['astage', 'zflow'\]"):
            varimp.importance(model, X, given, **options)


def test_a_stateful_keras_rnn_is_refused_before_any_call_and_keeps_its_states():
    keras.utils.set_random_seed(21)
    model = keras.Sequential([keras.Input((T, P), batch_size=8),
                              keras.layers.LSTM(UNITS, stateful=True, name="mem"),
                              keras.layers.Dense(1)], name="held")
    X = np.random.default_rng(21).normal(size=(8, T, P))
    model.predict(X, verbose=0)  # the states now hold the last call's
    layer = model.get_layer("mem")
    before = [np.array(state.numpy()) for state in layer.states]
    assert all(np.abs(state).sum() > 0 for state in before)
    for method in ("permutation", "partial_derivatives", "connection_weights"):
        with pytest.raises(varimp.UnsupportedModelError,
                           match=r"^layer 'mem' \(LSTM\) of Keras model 'held' is stateful "
                                 r"\(stateful=True\): a stateful RNN carries its state from one "
                                 r"call to the next.*Rebuild the model with stateful=False and "
                                 r"the same weights"):
            varimp.importance(model, X, X[:, -1, 0], method=method, random_state=0)
        for old, state in zip(before, layer.states, strict=True):
            np.testing.assert_array_equal(np.array(state.numpy()), old)


def test_a_keras_layer_computing_in_half_precision_is_checked_to_its_precision(tmp_path):
    """A layer of policy mixed_float16 in a float32 model (as a mixed model saved and
    reloaded is): the model's compute_dtype says float32, the layer computes in float16."""
    keras.utils.set_random_seed(22)
    model = keras.Sequential([keras.Input((P,)),
                              keras.layers.Dense(6, activation="tanh", dtype="mixed_float16",
                                                 name="hid"),
                              keras.layers.Dense(1, dtype="float32", name="out")])
    model.save(tmp_path / "mixed.keras")
    X = np.random.default_rng(22).normal(size=(40, P))
    for read in (model, keras.saving.load_model(tmp_path / "mixed.keras")):
        assert read.compute_dtype == "float32" and adapt(read).dtype == "float16"
        by_hand = (read.get_layer("hid").get_weights()[0].astype(np.float64)
                   @ read.get_layer("out").get_weights()[0].astype(np.float64))[:, 0]
        np.testing.assert_allclose(varimp.connection_weights(read, X).scores.to_numpy(),
                                   by_hand, rtol=1e-6)


def test_keras_dense_weights_are_read_by_name_lora_included():
    keras.utils.set_random_seed(23)
    model = keras.Sequential([keras.Input((P,)),
                              keras.layers.Dense(5, activation="tanh", use_bias=False,
                                                 name="hid"),
                              keras.layers.Dense(1, name="out")])
    hid = model.get_layer("hid")
    hid.enable_lora(2)  # weights: kernel, lora_kernel_a, lora_kernel_b (no bias)
    hid.lora_kernel_b.assign(np.random.default_rng(23).normal(size=(2, 5)))
    kernel, a, b = (np.float64(w.numpy()) for w in (hid._kernel, hid.lora_kernel_a,
                                                       hid.lora_kernel_b))
    effective = kernel + (hid.lora_alpha / hid.lora_rank) * a @ b
    by_hand = (effective @ np.float64(model.get_layer("out").get_weights()[0]))[:, 0]
    X = np.random.default_rng(24).normal(size=(30, P))
    np.testing.assert_allclose(varimp.connection_weights(model, X).scores.to_numpy(), by_hand,
                               rtol=1e-5)
    quantized = keras.Sequential([keras.Input((P,)), keras.layers.Dense(5, name="hid"),
                                  keras.layers.Dense(1)])
    quantized.get_layer("hid").quantize("int8")
    with pytest.raises(varimp.UnsupportedModelError,
                       match=r"layer 'hid' \(Dense\) is quantized \(int8\): its kernel is "
                             r"stored as integers with a scale.*partial_derivatives, "
                             r"perturbation, profile, permutation, improved_stepwise_1/2\) "
                             r"still explain it$"):
        varimp.connection_weights(quantized, X)


def test_a_keras_model_compiled_with_from_logits_returns_logits():
    keras.utils.set_random_seed(25)
    model = keras.Sequential([keras.Input((P,)), keras.layers.Dense(4, activation="relu"),
                              keras.layers.Dense(1)])
    assert adapt(model).output_kind == "regression"
    model.compile("adam", keras.losses.BinaryCrossentropy(from_logits=True))
    assert adapt(model).output_kind == "logits"
    X = np.random.default_rng(25).normal(size=(40, P))
    y = (X[:, 0] > 0).astype(int)
    options = {"method": "permutation", "random_state": 0, "n_repeats": 2}
    np.testing.assert_array_equal(
        varimp.importance(model, X, y, **options).scores.to_numpy(),
        varimp.importance(model, X, y, output_kind="logits", **options).scores.to_numpy())


def test_a_keras_file_of_a_class_that_is_not_imported_says_to_use_the_python_api(tmp_path):
    @keras.saving.register_keras_serializable(package="varimp_tests")
    class Unimported(keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.out = keras.layers.Dense(1)

        def call(self, x):
            return self.out(x)

    model = Unimported()
    model(np.zeros((2, P)))
    model.save(tmp_path / "sub.keras")
    registry = keras.saving.get_custom_objects()
    saved = registry.pop("varimp_tests>Unimported")
    try:
        with pytest.raises(varimp.InputError,
                           match=r"user-defined Keras class 'Unimported' \(registered as "
                                 r"'varimp_tests>Unimported'\).*`varimp run` cannot import your "
                                 r"code\. Use the Python API: in a script, import the module"):
            load_model(tmp_path / "sub.keras")
    finally:
        registry["varimp_tests>Unimported"] = saved


# -- skip connections and functional operations are named -------------------------------------

class HiddenSkip(nn.Module):
    """``h + tanh(W h)`` between hidden layers, then a functional relu of the sum."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(17)
        self.inner, self.act = nn.Linear(P, 4, dtype=torch.float64), nn.Tanh()
        self.block = nn.Linear(4, 4, dtype=torch.float64)
        self.out = nn.Linear(4, 1, dtype=torch.float64)

    def forward(self, x):
        h = self.act(self.inner(x))
        return self.out(torch.relu(h + torch.tanh(self.block(h))))


def test_a_skip_connection_between_hidden_layers_and_its_functional_ops_are_named():
    X = np.random.default_rng(18).normal(size=(20, P))
    with pytest.raises(varimp.UnsupportedModelError,
                       match=r"its forward has a skip connection around layer 'block' "
                             r"Linear\(4, 4\) \(h \+ f\(h\).*relu applied to that sum as a "
                             r"function.*tanh after layer 'block' Linear\(4, 4\) as a function"
                             r".*cannot follow a skip connection.*Layers read \(3\): 'inner' "
                             r"Linear\(4, 4\) \+ tanh -> 'block' Linear\(4, 4\) -> 'out' "
                             r"Linear\(4, 1\)$"):
        varimp.connection_weights(HiddenSkip(), X)


def test_a_keras_skip_connection_is_named_with_every_layer_of_the_model():
    inp = keras.Input((P,), name="inputs")
    hidden = keras.layers.Dense(P, activation="tanh", name="hid")(inp)
    summed = keras.layers.Add(name="skip")([hidden, inp])
    model = keras.Model(inp, keras.layers.Dense(1, name="out")(summed))
    X = np.random.default_rng(19).normal(size=(10, P))
    with pytest.raises(varimp.UnsupportedModelError,
                       match=r"^layer 'skip' \(Add\) cannot be read by the weight-based methods: "
                             r"it combines the outputs of 'hid', 'inputs': a skip connection "
                             r"\(h \+ f\(h\)\).*Layers of the model: inputs \(InputLayer\) -> "
                             r"hid \(Dense\) -> skip \(Add\) -> out \(Dense\)\. The methods "
                             r"that read the model's predictions .* still explain it$"):
        varimp.garson(model, X)


# -- TorchScript and torch.export ---------------------------------------------------------------

def saved_and_loaded(module, path):
    torch.jit.save(module, str(path))
    return torch.jit.load(str(path))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch.jit
@pytest.mark.parametrize("compile_with", ["script", "trace"])
def test_torchscript_modules_of_standard_layers_are_read_like_the_eager_module(compile_with,
                                                                              tmp_path):
    torch.manual_seed(20)
    X = np.random.default_rng(20).normal(size=(12, T, P))
    eager = nn.Sequential(nn.Linear(P, 5), nn.Tanh(), nn.Linear(5, 2), nn.Softmax(dim=-1))
    recurrent = Recurrent(nn.GRU(P, UNITS, batch_first=True), nn.Linear(UNITS, 1)).double()
    for model, data in ((eager.double(), X[:, 0]), (recurrent, X)):
        example = torch.as_tensor(data[:2])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tracer's warnings about python values
            compiled = torch.jit.script(model) if compile_with == "script" else \
                torch.jit.trace(model, example)
        loaded = saved_and_loaded(compiled, tmp_path / f"{compile_with}.pt")
        for method in ("connection_weights", "garson"):
            expected, got = run(method, model, data), run(method, loaded, data)
            np.testing.assert_allclose(got.details["per_output"].to_numpy(),
                                       expected.details["per_output"].to_numpy(), rtol=1e-12)
        assert adapt(loaded).expected_input == adapt(model).expected_input
        assert adapt(loaded).output_kind == adapt(model).output_kind


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch.jit
def test_a_traced_layer_that_lost_its_settings_and_an_exported_program_are_refused(tmp_path):
    torch.manual_seed(21)
    X = np.random.default_rng(21).normal(size=(8, P))
    model = nn.Sequential(nn.Linear(P, 3), nn.LeakyReLU(0.3), nn.Linear(3, 1)).double()
    traced = saved_and_loaded(torch.jit.trace(model, torch.as_tensor(X[:2])),
                              tmp_path / "traced.pt")
    with pytest.raises(varimp.UnsupportedModelError,
                       match=r"layer '1' LeakyReLU of this traced TorchScript module keeps no "
                             r"negative_slope.*torch.jit.script.*Modules of the model: '0' "
                             r"Linear\(4, 3\) -> '1' LeakyReLU -> '2' Linear\(3, 1\)$"):
        varimp.connection_weights(traced, X)
    scripted = saved_and_loaded(torch.jit.script(model), tmp_path / "scripted.pt")
    np.testing.assert_allclose(varimp.connection_weights(scripted, X).scores.to_numpy(),
                               varimp.connection_weights(model, X).scores.to_numpy(),
                               rtol=1e-12)
    path = tmp_path / "mlp.pt2"
    torch.export.save(torch.export.export(model, (torch.as_tensor(X[:2]),)), str(path))
    loaded = load_model(path).model
    with pytest.raises(varimp.UnsupportedModelError,
                       match=r"this is a torch.export program \(.pt2\): it keeps the weights but "
                             r"not the layers"):
        varimp.connection_weights(loaded, X)


def test_a_torch_export_program_loaded_by_the_user_is_explained_like_the_eager_model():
    torch.manual_seed(22)
    X = np.random.default_rng(22).normal(size=(16, P))
    model = nn.Sequential(nn.Linear(P, 3), nn.Tanh(), nn.Linear(3, 1)).double()
    program = torch.export.export(model, (torch.as_tensor(X[:2]),),
                                  dynamic_shapes=({0: torch.export.Dim("batch")},)).module()
    # torch refuses eval() on a program; varimp must still call it, and leave it as it was
    with pytest.raises(NotImplementedError):
        program.eval()
    for method in ("perturbation", "partial_derivatives"):
        np.testing.assert_allclose(
            run(method, program, X, random_state=0).scores.to_numpy(),
            run(method, model, X, random_state=0).scores.to_numpy(), rtol=1e-10)


class _TwoParts(nn.Module):
    """An LSTM whose forward returns ``(head, second)``: a state when ``second="state"``, a
    second head otherwise."""

    def __init__(self, second):
        super().__init__()
        torch.manual_seed(0)
        self.lstm = nn.LSTM(P, UNITS, batch_first=True)
        self.head = nn.Linear(UNITS, 1)
        self.other = nn.Linear(UNITS, 2)
        self.second = second

    def forward(self, x):
        out, (h, c) = self.lstm(x)
        y = self.head(out[:, -1])
        return (y, (h, c)) if self.second == "state" else (y, self.other(out[:, -1]))


def test_a_tuple_holding_a_state_is_read_as_output_and_state_a_second_head_is_refused():
    X = np.random.default_rng(1).normal(size=(N, T, P))
    y = X[:, -1, 0].copy()
    with_state = _TwoParts("state")
    # The output of (output, state) is the first part: the same as calling the layers by hand.
    with torch.no_grad():
        expected = with_state.head(with_state.lstm(torch.as_tensor(X, dtype=torch.float32))[0]
                                   [:, -1]).numpy().ravel()
    np.testing.assert_allclose(adapt(with_state).predict(X).ravel(), expected, rtol=1e-6)
    assert varimp.importance(with_state, X, y, method="permutation",
                             random_state=0).scores.shape == (P,)
    two_heads = _TwoParts("heads")
    for method in ("permutation", "partial_derivatives"):
        with pytest.raises(varimp.VarImpError,
                           match=r"tuple of 2 parts \(\(\d+, 1\), \(\d+, 2\)\)"):
            varimp.importance(two_heads, X, y, method=method, random_state=0)


# -- what the outputs are: read from the model, a contradicting output_kind refused -----------

def reference_log_loss(y, proba, labels=None):
    """scikit-learn's log loss of probabilities a float32 model returned (rows renormalised:
    their sums differ from 1 by rounding only)."""
    from sklearn.metrics import log_loss

    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim == 2 and proba.shape[1] > 1:
        proba = proba / proba.sum(axis=1, keepdims=True)
    return log_loss(y, proba, labels=labels)


def classifier_data(n=120, seed=20):
    X = np.random.default_rng(seed).normal(size=(n, P))
    return X, np.digitize(X[:, 0] - X[:, 1], [-0.5, 0.5])


def softmax_keras(last):
    """Dense(4, relu) -> Dense(3) with the softmax as ``last``: the Dense activation, an
    Activation layer or a Softmax layer; the same weights whichever it is."""
    keras.utils.set_random_seed(21)
    hidden = keras.layers.Dense(4, activation="relu")
    out = keras.layers.Dense(3, activation="softmax" if last == "dense" else None)
    extra = {"dense": [], "activation": [keras.layers.Activation("softmax")],
             "layer": [keras.layers.Softmax()]}[last]
    model = keras.Sequential([keras.Input((P,)), hidden, out, *extra])
    rng = np.random.default_rng(22)
    hidden.set_weights([rng.normal(size=(P, 4)), rng.normal(size=4) * 0.1])
    out.set_weights([rng.normal(size=(4, 3)), rng.normal(size=3) * 0.1])
    return model


PROBABILITY_MODELS = [
    (lambda: fit_quietly(MLPClassifier(hidden_layer_sizes=(5,), max_iter=300, random_state=0),
                         *classifier_data()),
     r"MLPClassifier is a classifier, read through predict_proba \(its output layer is a "
     r"softmax\)"),
    (lambda: nn.Sequential(nn.Linear(P, 3), nn.Softmax(dim=-1), nn.Dropout(0.1)).double(),
     r"its output comes from module '1' Softmax, which returns probabilities"),
    (lambda: softmax_keras("dense"), r"its last layer 'dense.*' \(Dense\) applies a softmax"),
    (lambda: softmax_keras("layer"), r"its last layer 'softmax.*' \(Softmax\) applies a softmax"),
]


@pytest.mark.parametrize("build,source", PROBABILITY_MODELS)
def test_logits_declared_for_a_model_that_returns_probabilities_is_refused(build, source):
    model = build()
    X, y = classifier_data()
    with pytest.raises(varimp.InputError, match=r"output_kind='logits' was given, but this model "
                                                r"returns probabilities: " + source +
                                                r"\. Read as logits they would go through a "
                                                r"second softmax"):
        varimp.permutation(model, X, y, output_kind="logits", random_state=0)
    # read from the model, the outputs are probabilities: the baseline is scikit-learn's log
    # loss of the model's own probabilities
    proba = model.predict_proba(X) if hasattr(model, "predict_proba") else \
        np.asarray(adapt(model).predict(X))[:, 0]
    result = varimp.permutation(model, X, y, random_state=0)
    assert result.details["measure"] == "increase in log loss"
    np.testing.assert_allclose(result.details["baseline"],
                               reference_log_loss(y, proba, labels=[0, 1, 2]), rtol=1e-6)


class Attention(nn.Module):
    """An attention Softmax registered after the Linear head whose output is returned."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(28)
        self.score, self.out = nn.Linear(P, P).double(), nn.Linear(P, 3).double()
        self.attn = nn.Softmax(dim=-1)

    def forward(self, x):
        return self.out(x * self.attn(self.score(x)))


class Gated(nn.Module):
    """A gating Sigmoid registered last; the output is the Linear head's, squeezed."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(29)
        self.fc, self.out, self.gate = nn.Linear(P, 5).double(), nn.Linear(5, 3).double(), \
            nn.Sigmoid()

    def forward(self, x):
        h = self.fc(x)
        return self.out(h * self.gate(h)).unsqueeze(1).squeeze(1)


class LateSoftmax(nn.Module):
    """The softmax module's output is returned through a view and an index: probabilities."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(30)
        self.out, self.drop, self.soft = nn.Linear(P, 3).double(), nn.Dropout(0.1), \
            nn.Softmax(dim=-1)

    def forward(self, x):
        return self.drop(self.soft(self.out(x))).view(-1, 3)[:, :]


class FunctionalOut(Attention):
    def forward(self, x):
        return torch.log_softmax(super().forward(x), dim=-1)


@pytest.mark.parametrize("build", [Attention, Gated])
def test_a_softmax_or_sigmoid_inside_forward_is_not_read_as_the_output_layer(build):
    """The output kind is read from the module whose output forward returns (torch.fx), not
    from the last registered one: an attention Softmax or a gating Sigmoid leaves a Linear
    head's regression values, and logits can be declared for them."""
    model = build()
    X, y = classifier_data()
    assert adapt(model).output_kind == "regression"
    assert adapt(model).output_module()[0] == "out"
    result = varimp.permutation(model, X, y, output_kind="logits", random_state=0)
    with torch.no_grad():
        logits = model(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(result.details["baseline"],
                               reference_log_loss(y, softmax_rows(logits), labels=[0, 1, 2]),
                               rtol=1e-9)
    # the module that returns probabilities is found through dropout, a view and an index
    late = LateSoftmax()
    assert adapt(late).output_module()[0] == "soft"
    with pytest.raises(varimp.InputError, match=r"its output comes from module 'soft' "
                                                r"Softmax, which returns probabilities.*"
                                                r"declare it: model.varimp_output_kind = "
                                                r"'logits'$"):
        varimp.permutation(late, X, y, output_kind="logits", random_state=0)
    # a functional op returned (here a log_softmax) is no module: read as regression values,
    # whatever module was registered last
    assert adapt(FunctionalOut()).output_module() == ("", None)
    assert adapt(FunctionalOut()).output_kind == "regression"


def softmax_rows(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_a_regression_kind_is_said_to_be_given_or_read_from_the_model():
    X, y = classifier_data()
    clf = fit_quietly(MLPClassifier(hidden_layer_sizes=(5,), max_iter=300, random_state=0), X, y)
    with pytest.raises(varimp.InputError, match=r"output\(s\) are read as regression values "
                                                r"\(output_kind='regression' was given\)"):
        varimp.permutation(clf, X, y, output_kind="regression")
    with pytest.raises(varimp.InputError, match=r"output\(s\) are read as regression values "
                                                r"\(decided from the model: its last layer is "
                                                r"no softmax or sigmoid\)"):
        varimp.permutation(nn.Sequential(nn.Linear(P, 3)).double(), X, y)


def test_keras_softmax_and_activation_layers_are_read_as_the_dense_activation():
    X, y = classifier_data()
    reference = softmax_keras("dense")
    proba = np.asarray(reference.predict(X, verbose=0), dtype=np.float64)
    expected = {method: varimp.importance(reference, X, method=method)
                for method in ("connection_weights", "garson")}
    for last in ("activation", "layer"):
        model = softmax_keras(last)
        np.testing.assert_allclose(adapt(model).predict(X)[:, 0], proba, rtol=1e-6)
        assert adapt(model).output_kind == "probability"
        assert adapt(model).network().layers[-1].activation == "softmax"
        result = varimp.permutation(model, X, y, random_state=0)
        np.testing.assert_allclose(result.details["baseline"], reference_log_loss(y, proba),
                                   rtol=1e-5)
        np.testing.assert_allclose(
            result.scores.to_numpy(),
            varimp.permutation(reference, X, y, random_state=0).scores.to_numpy(), rtol=1e-5)
        for method, scores in expected.items():
            assert_same_scores(varimp.importance(model, X, method=method), scores)
    # a sigmoid as an Activation layer: one probability, like Dense(1, activation="sigmoid")
    keras.utils.set_random_seed(23)
    binary = keras.Sequential([keras.Input((P,)), keras.layers.Dense(3, activation="tanh"),
                               keras.layers.Dense(1), keras.layers.Activation("sigmoid")])
    assert adapt(binary).output_kind == "probability"
    yb = (y > 0).astype(int)
    p1 = np.asarray(binary.predict(X, verbose=0), dtype=np.float64)[:, 0]
    result = varimp.permutation(binary, X, yb, random_state=0)
    np.testing.assert_allclose(result.details["baseline"], reference_log_loss(yb, p1), rtol=1e-5)


def test_keras_heads_that_each_end_in_a_sigmoid_are_multi_label_probabilities():
    """Two sigmoid heads (one unit, two units) are three independent binary labels: every
    method reads them, a multi-hot y is scored label by label, logits are refused."""
    model = two_head_keras(units=(1, 2), activations=("sigmoid", "sigmoid"))
    X = np.random.default_rng(26).normal(size=(40, P))
    adapter = adapt(model)
    assert adapter.output_kind == "probability" and adapter.multilabel()
    # d p_temp[1] / dx = s (1 - s) w_temp[:, 1] through the tanh layer, by hand
    w_h, b_h = model.get_layer("hid").get_weights()
    w_t, b_t = model.get_layer("temp").get_weights()
    hidden = np.tanh(X @ w_h + b_h)
    p = 1.0 / (1.0 + np.exp(-(hidden @ w_t + b_t)))
    exact = ((1 - hidden**2) * (p[:, 1] * (1 - p[:, 1]))[:, None] * w_t[:, 1]) @ w_h.T
    derivatives = varimp.partial_derivatives(model, X, output="temp[1]")
    np.testing.assert_allclose(derivatives.details["derivatives"].to_numpy(), exact, rtol=1e-4,
                               atol=1e-6)
    assert varimp.partial_derivatives(model, X).details["explained"] == \
        "the model's outputs as they are (probabilities)"
    # permutation with a multi-hot y: the baseline is the mean of the labels' log losses
    from sklearn.metrics import log_loss

    y = (np.random.default_rng(27).random((40, 3)) < 0.5).astype(int)
    proba = np.hstack([np.asarray(head, dtype=np.float64) for head in
                       model.predict(X, verbose=0)])
    result = varimp.permutation(model, X, y, random_state=0)
    assert result.details["measure"] == "increase in log loss"
    np.testing.assert_allclose(result.details["baseline"],
                               np.mean([log_loss(y[:, k], proba[:, k]) for k in range(3)]),
                               rtol=1e-5)
    with pytest.raises(varimp.InputError, match=r"returns probabilities: its output heads "
                                                r"'flow', 'temp' each end in a sigmoid"):
        varimp.permutation(model, X, y, output_kind="logits", random_state=0)


def two_heads(kinds):
    """A functional Keras model whose heads ("a", "b") are regression (None) or softmax."""
    keras.utils.set_random_seed(24)
    inp = keras.Input((P,))
    hidden = keras.layers.Dense(6, activation="tanh")(inp)
    heads = [keras.layers.Dense(1 if kind is None else 3, activation=kind, name=name)(hidden)
             for kind, name in zip(kinds, "ab", strict=True)]
    return keras.Model(inp, heads)


@pytest.mark.parametrize("kinds,listed", [
    (("softmax", "softmax"), r"'a' \(probability\), 'b' \(probability\)"),
    ((None, "softmax"), r"'a' \(regression\), 'b' \(probability\)"),
])
def test_keras_heads_holding_a_classifier_are_refused_for_a_loss(kinds, listed):
    model = two_heads(kinds)
    X = np.random.default_rng(25).normal(size=(30, P))
    y = np.hstack([np.eye(3)[np.arange(30) % 3] if kind else X[:, :1] for kind in kinds])
    with pytest.raises(varimp.UnsupportedModelError,
                       match=r"the model has 2 output heads: " + listed + r", decided from "
                             r"their last layers\..*Explain one head at a time: "
                             r"keras.Model\(model.inputs, model.outputs\[k\]\)$"):
        varimp.permutation(model, X, y, random_state=0)
    with pytest.raises(varimp.UnsupportedModelError, match=r"'a' \(logits\), 'b' \(logits\), "
                                                           r"output_kind='logits' was given"):
        varimp.permutation(model, X, y, output_kind="logits", random_state=0)
    if kinds[0] == "softmax":  # one softmax over both heads' units joined is neither head's
        with pytest.raises(varimp.UnsupportedModelError, match=r"each apply a softmax over "
                                                               r"their own units"):
            varimp.garson(model)
    # without y the heads' outputs are explained as they are: the derivatives of a head's
    # unit are the finite differences of the model's own joined predictions
    joined = np.hstack([np.asarray(head, dtype=np.float64).reshape(30, -1)
                        for head in model.predict(X, verbose=0)])
    derivatives = varimp.partial_derivatives(model, X, output="b[2]")
    assert derivatives.details["explained"] == \
        "the model's outputs as they are (regression values)"
    step = 1e-3
    moved = X.copy()
    moved[:, 2] += step
    shifted = np.hstack([np.asarray(head, dtype=np.float64).reshape(30, -1)
                         for head in model.predict(moved, verbose=0)])
    np.testing.assert_allclose(derivatives.details["derivatives"].to_numpy()[:, 2],
                               (shifted - joined)[:, -1] / step, rtol=2e-2, atol=2e-3)
    # declared regression, every unit is scored as a value: the MSE of the joined outputs
    declared = varimp.permutation(model, X, y, output_kind="regression", random_state=0)
    np.testing.assert_allclose(declared.details["baseline"], np.mean((joined - y) ** 2),
                               rtol=1e-5)
    # one head at a time, as the message says, is scored as that head
    head = keras.Model(model.inputs, model.outputs[1])
    labels = np.arange(30) % 3
    proba = np.asarray(head.predict(X, verbose=0), dtype=np.float64)
    result = varimp.permutation(head, X, labels, random_state=0)
    np.testing.assert_allclose(result.details["baseline"], reference_log_loss(labels, proba),
                               rtol=1e-5)


READ_ONLY_SCRIPT = """
import warnings
import numpy as np
import torch
from torch import nn
warnings.simplefilter("error")  # torch warns once per process: a fresh one sees the first
from varimp.adapters import adapt
torch.manual_seed(0)
net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
X = np.random.default_rng(0).normal(size=(7, 3))
X.flags.writeable = False
kept = X.copy()
adapter = adapt(net)
got = adapter.predict(X)[:, 0, :]
gradient = adapter.gradient(X, output=1)
with torch.no_grad():
    expected = net(torch.tensor(kept, dtype=torch.float32)).double().numpy()
np.testing.assert_allclose(got, expected, rtol=1e-6)
assert gradient.shape == (7, 3) and not X.flags.writeable and np.array_equal(X, kept)
print("ok")
"""


def test_a_read_only_array_reaches_a_torch_model_without_a_warning_and_untouched():
    """pandas 3 gives read-only arrays; torch.as_tensor warns on them (once per process, so
    the check runs in a fresh one with every warning an error)."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", READ_ONLY_SCRIPT], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ok"


def test_keras_predictions_and_weights_are_read_without_numpys_array_warning():
    """On the torch backend, keras.ops.convert_to_numpy goes through numpy's __array__,
    which torch implements without NumPy 2's copy= (a DeprecationWarning on every call):
    predictions, Dense, LSTM and Normalization weights are read without it, and equal
    Keras' own reading (get_weights, the model's output)."""
    keras.utils.set_random_seed(2)
    norm = keras.layers.Normalization()
    norm.adapt(np.random.default_rng(0).normal(2.0, 3.0, size=(30, T, P)))
    model = keras.Sequential([keras.Input((T, P)), norm, keras.layers.LSTM(UNITS),
                              keras.layers.Dense(2)])
    X = np.random.default_rng(1).normal(size=(9, T, P))
    adapter = adapt(model)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = adapter.predict(X)[:, 0, :]
        network = adapter.network()
    with torch.no_grad():
        expected = model(torch.tensor(X, dtype=torch.float32), training=False).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    lstm, dense = model.layers[1], model.layers[2]
    np.testing.assert_array_equal(network.layers[-1].weight, dense.get_weights()[0])
    kernel = lstm.get_weights()[0]  # gates i, f, c, o side by side; Normalization folded in
    std = np.maximum(np.sqrt(norm.variance.numpy()[0, 0]), keras.config.epsilon())
    np.testing.assert_allclose(network.layers[0].w_input["i"],
                               (kernel[:, :UNITS] / std[:, None]).astype(np.float64),
                               rtol=1e-6)


def test_a_callable_returning_a_tensor_that_requires_grad_is_read_as_numbers():
    """``lambda X: net(torch.as_tensor(X))`` returns a tensor in the autograd graph: its values
    are read (no 'Can't call numpy() on Tensor that requires grad'), the same as the numpy
    twin's, and PaD of a linear map is n * w^2 (finite differences of the callable)."""
    torch.manual_seed(0)
    net = nn.Linear(3, 1).double()
    X = np.random.default_rng(0).normal(size=(40, 3))

    def as_tensor(data):
        return net(torch.as_tensor(data))

    def as_numpy(data):
        with torch.no_grad():
            return net(torch.as_tensor(data)).numpy()

    y = as_numpy(X).ravel()
    tensor = varimp.permutation(as_tensor, X, y, random_state=0, progress=False)
    numpy_twin = varimp.permutation(as_numpy, X, y, random_state=0, progress=False)
    np.testing.assert_array_equal(tensor.scores.to_numpy(), numpy_twin.scores.to_numpy())
    pad = varimp.partial_derivatives(as_tensor, X)
    expected = len(X) * net.weight.detach().numpy().ravel() ** 2
    np.testing.assert_allclose(pad.scores.to_numpy(), expected, rtol=1e-5)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_finite_differences_of_a_half_precision_callable_are_refused(dtype):
    """float16 / bfloat16 outputs are coarser than the finite-difference step: the derivatives
    would be rounding noise, so partial derivatives refuse with the way out; the
    perturbation-type methods still read such a function (as float32 values)."""
    net = nn.Linear(3, 1).to(dtype)
    X = np.random.default_rng(0).normal(size=(30, 3))

    def half(data):
        with torch.no_grad():
            return net(torch.as_tensor(data, dtype=dtype))

    with pytest.raises(varimp.InputError, match=r"returns (b?float16) predictions, too coarse "
                                                r"for derivatives by finite differences"):
        varimp.partial_derivatives(half, X)
    assert np.isfinite(varimp.perturbation(half, X, random_state=0).scores).all()


# -- a Keras Masking layer is found in a functional or nested model ----------------------------

def masked_models():
    """The same Masking -> LSTM -> Dense network as a Sequential model, a functional model
    (its layers[0] is the InputLayer) and a functional model around a nested Sequential."""
    keras.utils.set_random_seed(0)
    sequential = keras.Sequential([keras.Input((T, P)), keras.layers.Masking(0.0),
                                   keras.layers.LSTM(UNITS), keras.layers.Dense(1)])
    inputs = keras.Input((T, P))
    hidden = keras.layers.LSTM(UNITS)(keras.layers.Masking(0.0)(inputs))
    functional = keras.Model(inputs, keras.layers.Dense(1)(hidden))
    inner = keras.Sequential([keras.Input((T, P)), keras.layers.Masking(0.0),
                              keras.layers.LSTM(UNITS)])
    outer_inputs = keras.Input((T, P))
    nested = keras.Model(outer_inputs, keras.layers.Dense(1)(inner(outer_inputs)))
    functional.set_weights(sequential.get_weights())
    nested.set_weights(sequential.get_weights())
    return sequential, functional, nested


def test_a_functional_keras_model_with_masking_is_refused_as_the_sequential_one():
    sequential, functional, nested = masked_models()
    X = np.random.default_rng(30).normal(size=(N, T, P))
    X[:3, :2] = 0.0  # three sequences pre-padded by two steps
    y = X[:, -1, 0]
    padded = r"X holds 6 padded steps \(every feature equal to the Masking layer's mask_value " \
             r"0.0\) in 3 of 40 sequences; this method replaces cell values"
    for model in (sequential, functional, nested):
        assert adapt(model).mask_value == 0.0
        for method in ("permutation", "perturbation", "profile"):
            with pytest.raises(varimp.UnsupportedModelError, match=padded):
                varimp.importance(model, X, y if method == "permutation" else None,
                                  method=method, random_state=0)
    # partial derivatives honour the mask: 0 at the padded steps, the same in all three
    grads = [adapt(model).gradient(X, 0) for model in (sequential, functional, nested)]
    assert np.all(grads[0][:3, :2] == 0.0)
    for grad in grads[1:]:
        np.testing.assert_allclose(grad, grads[0], rtol=1e-5, atol=1e-7)
    unmasked = keras.Sequential([keras.Input((T, P)), keras.layers.LSTM(UNITS),
                                 keras.layers.Dense(1)])
    assert adapt(unmasked).mask_value is None


# -- models with several inputs ----------------------------------------------------------------

SEVERAL = r"models with several inputs are not supported: varimp calls the model with one " \
          r"array X.*Wrap the model in a module or function that takes one array.*static " \
          r"covariates repeated over the steps as extra features"


class TwoInputs(nn.Module):
    """A recurrent layer over a sequence input beside a static input, joined before the head."""

    def __init__(self):
        super().__init__()
        self.rnn, self.head = nn.GRU(P, UNITS, batch_first=True), nn.Linear(UNITS + 2, 1)

    def forward(self, x_seq, x_static):
        _, h = self.rnn(x_seq)
        return self.head(torch.cat([h[-1], x_static], dim=-1))


def keras_two_inputs():
    sequence, static = keras.Input((T, P), name="seq"), keras.Input((2,), name="static")
    joined = keras.layers.Concatenate()([keras.layers.LSTM(UNITS)(sequence), static])
    return keras.Model([sequence, static], keras.layers.Dense(1)(joined))


@pytest.mark.parametrize("method", ["permutation", "perturbation", "partial_derivatives",
                                    "connection_weights"])
def test_a_model_of_several_inputs_is_refused_with_the_workaround(method):
    rng = np.random.default_rng(31)
    X_seq, X_static = rng.normal(size=(N, T, P)), rng.normal(size=(N, 2))
    y = X_seq[:, -1, 0] + X_static[:, 0]
    options = {"random_state": 0} if method != "connection_weights" else {}
    target = y if method == "permutation" else None
    for model, name in ((TwoInputs(), r"TwoInputs.forward takes 2 inputs \(x_seq, x_static\)"),
                        (keras_two_inputs(), r"Keras model '.*' takes 2 inputs \(seq .*, "
                                             r"static .*\)")):
        for X in (X_seq, (X_seq, X_static), [X_seq, X_static],
                  {"seq": X_seq, "static": X_static}):
            with pytest.raises(varimp.UnsupportedModelError, match=name + "; " + SEVERAL):
                varimp.importance(model, X, target, method=method, **options)
    # X of several arrays for a model of one input: the same way out, as an input error
    single = nn.Sequential(nn.Linear(P, 3), nn.Tanh(), nn.Linear(3, 1))
    two = r" of shapes \(40, 5, 4\), \(40, 2\)"
    for X, kind in (((X_seq, X_static), r"a tuple of 2 arrays" + two),
                    ([X_seq, X_static], r"a list of 2 arrays" + two),
                    ((X_static, X_static), r"a tuple of 2 arrays of shapes \(40, 2\), \(40, 2\)"),
                    ({"seq": X_seq, "static": X_static},
                     r"a dict of 2 entries \('seq', 'static'\)" + two)):
        with pytest.raises(varimp.InputError, match=r"X must be one array; received " + kind +
                           r"\. Models with several inputs are not supported"):
            varimp.importance(single, X, target, method=method, **options)


def test_sequences_of_different_lengths_are_refused_in_a_few_words():
    """A list with one sequence per sample, of several lengths: the message says the lengths
    differ and how to make them equal, listing a few shapes, not every one."""
    rng = np.random.default_rng(33)
    listed = [rng.normal(size=(int(k), P)) for k in rng.integers(5, 9, 2000)]
    net = Recurrent(nn.GRU(P, UNITS, batch_first=True), nn.Linear(UNITS, 1)).double()
    with pytest.raises(varimp.InputError) as caught:
        varimp.partial_derivatives(net, listed)
    message = str(caught.value)
    assert message.startswith("X must be one array; received a list of 2000 arrays, one per "
                              "sample, of different shapes ((5, 4), (6, 4), (7, 4), (8, 4)). "
                              "Sequences must all have the same number of steps (here 5 to "
                              "8): pad them to one length")
    assert len(message) < 400 and "several inputs" not in message


def test_a_masking_layer_after_a_nested_model_without_weights_is_found():
    """A nested model without weights (a Reshape) before the Masking layer does not end the
    search: the padded steps are refused as in the plain model."""
    model = keras.Sequential([keras.Input((T, P)),
                              keras.Sequential([keras.layers.Reshape((T, P))]),
                              keras.layers.Masking(0.0), keras.layers.LSTM(UNITS),
                              keras.layers.Dense(1)])
    assert adapt(model).mask_value == 0.0
    X = np.random.default_rng(34).normal(size=(N, T, P))
    X[:2, :1] = 0.0
    with pytest.raises(varimp.UnsupportedModelError, match=r"X holds 2 padded steps"):
        varimp.permutation(model, X, X[:, -1, 0], random_state=0)


def test_a_list_of_equal_rows_or_sequences_is_still_one_x():
    """A list of rows (or of one sequence per sample) as numpy arrays stays one X: the scores
    are those of the stacked array."""
    torch.manual_seed(32)
    net = Recurrent(nn.GRU(P, UNITS, batch_first=True), nn.Linear(UNITS, 1)).double()
    X = np.random.default_rng(32).normal(size=(N, T, P))
    stacked = varimp.partial_derivatives(net, X)
    listed = varimp.partial_derivatives(net, list(X))
    np.testing.assert_array_equal(listed.scores.to_numpy(), stacked.scores.to_numpy())


# -- activations: what is read, and what the refusals list -----------------------------------

@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch.jit
def test_scripted_activation_modules_with_settings_are_read_and_traced_ones_refused(tmp_path):
    """A TorchScript twin keeps a Hardtanh's bounds, a CELU's alpha, a Threshold's cut and
    value and a PReLU's slope: read like the eager module (same predictions, to rounding). A
    traced Hardtanh keeps no bounds and is refused, naming them."""
    torch.manual_seed(22)
    X = np.random.default_rng(22).normal(size=(10, P)) * 3
    model = nn.Sequential(nn.Linear(P, 5), nn.Hardtanh(-0.5, 2.0), nn.Linear(5, 5), nn.CELU(0.5),
                          nn.Linear(5, 4), nn.Threshold(0.1, -2.0), nn.Linear(4, 3),
                          nn.PReLU(init=0.2), nn.Linear(3, 1)).double()
    scripted = saved_and_loaded(torch.jit.script(model), tmp_path / "scripted.pt")
    network = adapt(scripted).network()
    assert [layer.activation for layer in network.layers] == [
        "hard_tanh:-0.5:2.0", "celu:0.5", "threshold:0.1:-2.0",
        f"leaky_relu:{float(np.float32(0.2))!r}", "identity"]
    with torch.no_grad():
        np.testing.assert_allclose(network.forward(X), model(torch.as_tensor(X)).numpy(),
                                   rtol=1e-12, atol=1e-12)
    traced = saved_and_loaded(torch.jit.trace(model, torch.as_tensor(X[:2])), tmp_path / "t.pt")
    with pytest.raises(varimp.UnsupportedModelError,
                       match=r"layer '1' Hardtanh of this traced TorchScript module keeps no "
                             r"min_val, max_val"):
        varimp.connection_weights(traced, X)


def test_unread_activations_are_refused_naming_them_and_what_is_read():
    """PyTorch: a GLU (not elementwise) names the activation modules read; a PReLU with
    different slopes per unit says why. Keras: sparsemax (not elementwise) lists the Keras
    activations read; threshold without its parameters says how to give them; a PReLU with
    a slope per unit is refused like PyTorch's."""
    with pytest.raises(varimp.UnsupportedModelError,
                       match=r"layer '1' GLU cannot be read by the weight-based methods "
                             r"\(supported: Linear, .*the activations Identity, ReLU, ReLU6, "
                             r".*SELU, .*Mish, .*PReLU, ELU, CELU, Softplus, Hardtanh, "
                             r"Softshrink, Hardshrink, Threshold\)"):
        varimp.connection_weights(nn.Sequential(nn.Linear(P, 4), nn.GLU(), nn.Linear(2, 1)))
    prelu = nn.Sequential(nn.Linear(P, 3), nn.PReLU(3), nn.Linear(3, 1))
    with torch.no_grad():
        prelu[1].weight.copy_(torch.tensor([0.1, 0.2, 0.1]))
    with pytest.raises(varimp.UnsupportedModelError,
                       match=r"activation '1' PReLU has 2 different slopes, one per unit; the "
                             r"weight-based methods read one activation function"):
        varimp.garson(prelu)
    keras.utils.set_random_seed(4)

    def dense(activation):
        return keras.Sequential([keras.Input((P,)), keras.layers.Dense(3, activation=activation,
                                                                       name="hid"),
                                 keras.layers.Dense(1)])

    with pytest.raises(varimp.UnsupportedModelError,
                       match=r"activation 'sparsemax' of layer 'hid' cannot be read by varimp: "
                             r".*Keras activations linear, relu \(with negative_slope, "
                             r"max_value, threshold\), relu6, .*selu, .*mish, .*log_softmax$"):
        varimp.connection_weights(dense("sparsemax"))
    with pytest.raises(varimp.UnsupportedModelError,
                       match=r"activation 'threshold' of layer 'hid' needs threshold, "
                             r"default_value; give them with functools.partial"):
        varimp.connection_weights(dense(keras.activations.threshold))
    per_unit = keras.Sequential([keras.Input((P,)), keras.layers.Dense(3),
                                 keras.layers.PReLU(alpha_initializer="random_normal",
                                                    name="pr"),
                                 keras.layers.Dense(1)])
    with pytest.raises(varimp.UnsupportedModelError,
                       match=r"layer 'pr' \(PReLU\) has 3 different slopes, one per unit"):
        varimp.connection_weights(per_unit)


class _KerasFunctionalTanh(keras.Model):
    """A subclassed Keras model applying tanh in call() as a function, not as a layer."""

    def __init__(self):
        super().__init__()
        self.d1, self.d2 = keras.layers.Dense(4), keras.layers.Dense(1)

    def call(self, x):
        return self.d2(keras.ops.tanh(self.d1(x)))


def test_a_keras_activation_applied_as_a_function_gets_keras_advice():
    model = _KerasFunctionalTanh()
    model(np.zeros((1, 3), "float32"))
    with pytest.raises(varimp.UnsupportedModelError,
                       match=r"its call applies tanh after layer dense\S* as a function "
                             r"\(keras\.ops\.softmax.*apply it as a layer "
                             r"\(layers\.Activation\('tanh'\)\) or as the activation= ") as info:
        varimp.connection_weights(model)
    assert "nn.Tanh" not in str(info.value)


def test_an_ensemble_refits_named_heads_on_their_own_columns_whatever_ys_order():
    """The refitted networks train each named head on the column of its name: y's columns in
    the order the heads were written give the members y in the model's order gives."""
    model = dict_heads_keras()
    X = np.random.default_rng(22).normal(size=(40, P))
    flow, stage = 3 * X[:, 0], 3 * X[:, 2]
    options = {"method": "permutation", "n_models": 2, "random_state": 0, "n_repeats": 2,
               "n_jobs": 1, "progress": False}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        written = varimp.ensemble(model, X, pd.DataFrame({"zflow": flow, "astage": stage}),
                                  **options)
        in_order = varimp.ensemble(model, X, np.c_[stage, flow], **options)
    np.testing.assert_allclose(written.details["members"].to_numpy(),
                               in_order.details["members"].to_numpy(), rtol=1e-10)


# -- a scikit-learn model fitted on a DataFrame -------------------------------------------------

def test_a_sklearn_model_fitted_on_a_dataframe_reads_its_columns_by_name_or_refuses():
    """Connection weights are the product of the model's own weight matrices, coefs_[0] @
    coefs_[1], one row per column it was fitted on (a, b, c): a DataFrame of those columns in
    another order or with other names is refused (varimp reads by position, so the scores
    would carry the wrong names); X[model.feature_names_in_] gives the hand product under the
    fitted names, a numpy X the same numbers by position."""
    rng = np.random.default_rng(31)
    frame = pd.DataFrame(rng.normal(size=(30, 3)), columns=["a", "b", "c"])
    model = fit_quietly(MLPRegressor(hidden_layer_sizes=(4,), max_iter=30, random_state=0),
                        frame, frame["a"] - frame["c"])
    expected = (model.coefs_[0] @ model.coefs_[1])[:, 0]
    shuffled = frame[["c", "a", "b"]]
    for X in (shuffled, frame.rename(columns={"a": "A"})):
        with pytest.raises(varimp.InputError, match=r"^X must have the columns the model was "
                           r"fitted on, in that order: \['a', 'b', 'c'\]"):
            varimp.connection_weights(model, X)
    by_name = varimp.connection_weights(model, shuffled[model.feature_names_in_])
    assert by_name.scores.to_dict() == pytest.approx(dict(zip("abc", expected, strict=True)),
                                                     rel=1e-12)
    by_position = varimp.connection_weights(model, shuffled.to_numpy()[:, [1, 2, 0]])
    np.testing.assert_allclose(by_position.scores.to_numpy(), expected, rtol=1e-12)
    assert adapt(model).input_columns == ("a", "b", "c")
    pipe = fit_quietly(make_pipeline(StandardScaler(), MLPRegressor(hidden_layer_sizes=(4,),
                                                                    max_iter=30, random_state=0)),
                       frame, frame["a"])
    assert adapt(pipe).input_columns == ("a", "b", "c")
    assert adapt(fit_quietly(MLPRegressor(max_iter=5), frame.to_numpy(), frame["a"])
                 ).input_columns is None
