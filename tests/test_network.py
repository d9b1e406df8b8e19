"""The neutral Network read from a model must reproduce the model's own predictions.

``Network.forward`` is varimp's numpy reference forward pass; the references here are the
frameworks' predictions (PyTorch in float64, so the agreement is to rounding; Keras in float32).
"""

import keras
import numpy as np
import pytest
import torch
from nets import RecurrentHead
from torch import nn

import varimp
from varimp.adapters import adapt
from varimp.network import Dense, Flatten, Network, Recurrent

P, T, N, UNITS = 3, 6, 9, 4
X_SEQ = np.random.default_rng(0).normal(size=(N, T, P))
X_TAB = np.random.default_rng(1).normal(size=(N, P))




class TimeMajor(nn.Module):
    """The same, PyTorch's default layout: input (T, n, p), head on the last step."""

    def __init__(self, rnn, head):
        super().__init__()
        self.rnn, self.head = rnn, head

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.head(out[-1])


def torch_rnn(cell, num_layers, batch_first, **kwargs):
    kind = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell]
    return kind(P, UNITS, num_layers=num_layers, batch_first=batch_first, dtype=torch.float64,
                **kwargs)


def torch_predict(model, X, time_major=False):
    x = torch.as_tensor(X)
    with torch.no_grad():
        out = model(x.transpose(0, 1) if time_major else x)
    if isinstance(out, tuple):
        out = out[0]
    if time_major and out.ndim == 3:
        out = out.transpose(0, 1)
    return out.numpy()


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("last_step", [True, False])
def test_torch_batch_first_recurrent_networks(cell, num_layers, last_step):
    torch.manual_seed(0)
    model = RecurrentHead(torch_rnn(cell, num_layers, True),
                       nn.Linear(UNITS, 2, dtype=torch.float64), last_step)
    network = adapt(model).network()
    recurrent = [layer for layer in network.layers if isinstance(layer, Recurrent)]
    assert len(recurrent) == num_layers and {r.cell for r in recurrent} == {cell}
    assert recurrent[-1].return_sequences is not last_step
    assert network.sequence and network.n_inputs == P and network.n_outputs == 2
    np.testing.assert_allclose(network.forward(X_SEQ), torch_predict(model, X_SEQ),
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_torch_time_major_recurrent_networks(cell):
    torch.manual_seed(1)
    model = TimeMajor(torch_rnn(cell, 2, False), nn.Linear(UNITS, 1, dtype=torch.float64))
    network = adapt(model).network()
    np.testing.assert_allclose(network.forward(X_SEQ), torch_predict(model, X_SEQ, True),
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(adapt(model).predict(X_SEQ)[:, 0], torch_predict(model, X_SEQ, True),
                               rtol=1e-12)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_a_bare_time_major_recurrent_module(cell):
    torch.manual_seed(2)
    model = torch_rnn(cell, 2, False)
    network = adapt(model).network()
    expected = torch_predict(model, X_SEQ, time_major=True)  # (n, T, units)
    assert network.forward(X_SEQ).shape == (N, T, UNITS)
    np.testing.assert_allclose(network.forward(X_SEQ), expected, rtol=1e-10, atol=1e-12)


def test_a_relu_rnn():
    torch.manual_seed(3)
    model = RecurrentHead(torch_rnn("rnn", 1, True, nonlinearity="relu"),
                       nn.Linear(UNITS, 1, dtype=torch.float64), True)
    network = adapt(model).network()
    assert network.layers[0].activation == "relu"
    np.testing.assert_allclose(network.forward(X_SEQ), torch_predict(model, X_SEQ),
                               rtol=1e-10, atol=1e-12)


def test_torch_mlp_with_every_elementwise_activation():
    torch.manual_seed(4)
    acts = [nn.ReLU(), nn.Tanh(), nn.Sigmoid(), nn.ELU(), nn.GELU(), nn.GELU("tanh"),
            nn.LeakyReLU(0.1), nn.Softplus(), nn.SiLU(), nn.Identity(), nn.Hardsigmoid()]
    layers = []
    for act in acts:
        layers += [nn.Linear(P, P, dtype=torch.float64), act]
    model = nn.Sequential(*layers, nn.Linear(P, 3, dtype=torch.float64), nn.Softmax(dim=-1))
    network = adapt(model).network()
    assert [layer.activation for layer in network.layers] == [
        "relu", "tanh", "sigmoid", "elu", "gelu", "gelu_tanh", "leaky_relu:0.1", "softplus",
        "silu", "identity", "hard_sigmoid", "softmax"]
    X = 3 * X_TAB
    np.testing.assert_allclose(network.forward(X), torch_predict(model, X), rtol=1e-10,
                               atol=1e-12)
    assert not network.sequence and network.n_outputs == 3


# -- Keras --------------------------------------------------------------------------------------

def keras_model(*layers, steps=T):
    keras.utils.set_random_seed(5)
    return keras.Sequential([keras.Input((steps, P)), *layers])


def keras_predict(model, X):
    return keras.ops.convert_to_numpy(model(X.astype("float32"), training=False))


KERAS_MODELS = {
    "simple_rnn": lambda: keras_model(keras.layers.SimpleRNN(UNITS), keras.layers.Dense(2)),
    "lstm": lambda: keras_model(keras.layers.LSTM(UNITS), keras.layers.Dense(1)),
    "gru_reset_after": lambda: keras_model(keras.layers.GRU(UNITS, reset_after=True),
                                           keras.layers.Dense(1)),
    "gru_reset_before": lambda: keras_model(keras.layers.GRU(UNITS, reset_after=False),
                                            keras.layers.Dense(1)),
    "stacked": lambda: keras_model(
        keras.layers.LSTM(UNITS, return_sequences=True), keras.layers.GRU(3),
        keras.layers.Dense(3, activation="relu"), keras.layers.Dense(1, activation="sigmoid")),
    "sequence_to_sequence": lambda: keras_model(
        keras.layers.GRU(UNITS, return_sequences=True, reset_after=False),
        keras.layers.TimeDistributed(keras.layers.Dense(2))),
    "flatten": lambda: keras_model(
        keras.layers.LSTM(UNITS, return_sequences=True), keras.layers.Flatten(),
        keras.layers.Dense(2)),
    "activations": lambda: keras_model(
        keras.layers.LSTM(UNITS, activation="relu", recurrent_activation="hard_sigmoid",
                          return_sequences=True),
        keras.layers.SimpleRNN(3, activation="elu"), keras.layers.Dropout(0.5),
        keras.layers.Dense(2, activation="softmax")),
}


@pytest.mark.parametrize("name", list(KERAS_MODELS))
def test_keras_recurrent_networks(name):
    model = KERAS_MODELS[name]()
    network = adapt(model).network()
    expected = keras_predict(model, X_SEQ)
    assert network.forward(X_SEQ).shape == expected.shape
    np.testing.assert_allclose(network.forward(X_SEQ), expected, rtol=1e-5, atol=2e-6)
    if name == "gru_reset_before":
        assert network.layers[0].reset_after is False
    if name == "flatten":
        assert isinstance(network.layers[1], Flatten)


def test_keras_mlp():
    keras.utils.set_random_seed(6)
    model = keras.Sequential([keras.Input((P,)), keras.layers.Dense(5, activation="tanh"),
                              keras.layers.Dense(4), keras.layers.Activation("relu"),
                              keras.layers.Dense(2, activation="sigmoid")])
    network = adapt(model).network()
    assert [layer.activation for layer in network.layers] == ["tanh", "relu", "sigmoid"]
    assert all(isinstance(layer, Dense) for layer in network.layers)
    np.testing.assert_allclose(network.forward(X_TAB), keras_predict(model, X_TAB), rtol=1e-5,
                               atol=1e-6)


def test_with_last_step_only_keeps_the_final_step():
    torch.manual_seed(7)
    model = RecurrentHead(torch_rnn("gru", 2, True), nn.Linear(UNITS, 1, dtype=torch.float64),
                       last_step=False)
    network = adapt(model).network()
    whole = network.forward(X_SEQ)
    last = network.with_last_step_only().forward(X_SEQ)
    np.testing.assert_array_equal(last, whole[:, -1])


def test_identity_modules_are_transparent_and_two_activations_are_refused():
    torch.manual_seed(8)
    model = nn.Sequential(nn.Identity(), nn.Linear(P, 4, dtype=torch.float64), nn.Tanh(),
                          nn.Identity(), nn.Linear(4, 1, dtype=torch.float64), nn.Identity())
    network = adapt(model).network()
    assert [layer.activation for layer in network.layers] == ["tanh", "identity"]
    np.testing.assert_allclose(network.forward(X_TAB), torch_predict(model, X_TAB), rtol=1e-12)
    double = nn.Sequential(nn.Linear(P, 4), nn.Tanh(), nn.Sigmoid(), nn.Linear(4, 1))
    with pytest.raises(varimp.UnsupportedModelError, match=r"two activations \(tanh, then "
                                                           r"sigmoid\)"):
        varimp.connection_weights(double)
    keras.utils.set_random_seed(8)
    dense = keras.Sequential([keras.Input((P,)), keras.layers.Dense(4, activation="relu"),
                              keras.layers.Activation("linear"), keras.layers.Dense(1)])
    network = adapt(dense).network()
    assert [layer.activation for layer in network.layers] == ["relu", "identity"]


@pytest.mark.parametrize("name", [*varimp.network.ACTIVATIONS, "leaky_relu:0.1"])
def test_every_activation_name_has_one_pytorch_function_and_module(name):
    """The names live in varimp.network.ACTIVATIONS (numpy); the PyTorch table gives each one
    a function and a module that compute the same values, and the twin of a dense network
    (used for scikit-learn gradients) takes any of them."""
    from varimp.adapters.torch_modules import module_from_network
    from varimp.modules import TORCH_TABLE, torch_function, torch_module
    from varimp.network import Network, activation

    assert set(TORCH_TABLE) == set(varimp.network.ACTIVATIONS)
    x = np.linspace(-4, 4, 24).reshape(4, 6)
    expected = activation(name)(x)
    xt = torch.as_tensor(x)
    np.testing.assert_allclose(torch_function(name)(xt).numpy(), expected, rtol=1e-12,
                               atol=1e-12)
    np.testing.assert_allclose(torch_module(name)(xt).numpy(), expected, rtol=1e-12, atol=1e-12)
    rng = np.random.default_rng(7)
    network = Network((Dense(rng.normal(size=(3, 6)), rng.normal(size=6), name, "a"),),
                      n_inputs=3, sequence=False)
    with torch.no_grad():
        twin = module_from_network(network)(torch.as_tensor(X_TAB)).numpy()
    np.testing.assert_allclose(twin, network.forward(X_TAB), rtol=1e-12, atol=1e-12)


def test_centred_classes_and_folded_affine_maps_leave_the_function_as_it_was():
    """Network.with_centred_classes: a softmax's probabilities are unchanged by centring its
    class weights (and the centred weights sum to 0 over classes); Dense/Recurrent.after_affine:
    the folded layer on x equals the layer on x * scale + shift."""
    rng = np.random.default_rng(11)
    hidden = Dense(rng.normal(size=(P, 5)), rng.normal(size=5), "tanh", "h")
    head = Dense(rng.normal(size=(5, 3)), rng.normal(size=3), "softmax", "out")
    network = Network((hidden, head), n_inputs=P, sequence=False)
    centred = network.with_centred_classes()
    np.testing.assert_allclose(centred.forward(X_TAB), network.forward(X_TAB), rtol=1e-12)
    np.testing.assert_allclose(centred.layers[-1].weight.sum(axis=1), 0.0, atol=1e-12)
    np.testing.assert_allclose(centred.layers[-1].weight - head.weight,
                               np.repeat(-head.weight.mean(axis=1, keepdims=True), 3, axis=1),
                               rtol=1e-12)
    scale, shift = np.array([0.5, 2.0, -1.0]), np.array([1.0, 0.0, -3.0])
    np.testing.assert_allclose(hidden.after_affine(scale, shift).weight,
                               np.diag(scale) @ hidden.weight, rtol=1e-15)
    folded = Network((hidden.after_affine(scale, shift), head), n_inputs=P, sequence=False)
    np.testing.assert_allclose(folded.forward(X_TAB), network.forward(X_TAB * scale + shift),
                               rtol=1e-12)
    lstm = adapt(RecurrentHead(torch_rnn("lstm", 1, True), nn.Linear(UNITS, 2,
                                                                     dtype=torch.float64),
                               True)).network()
    first = lstm.layers[0]
    moved = Network((first.after_affine(scale, shift), *lstm.layers[1:]), n_inputs=P,
                    sequence=True)
    np.testing.assert_allclose(moved.forward(X_SEQ), lstm.forward(X_SEQ * scale + shift),
                               rtol=1e-12)
