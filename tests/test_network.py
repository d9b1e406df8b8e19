"""The neutral Network read from a model must reproduce the model's own predictions.

``Network.forward`` is varimp's numpy reference forward pass; the references here are the
frameworks' predictions (PyTorch in float64, so the agreement is to rounding; Keras in float32).
"""

from dataclasses import replace
from functools import partial

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


@pytest.mark.parametrize("name", [
    *varimp.network.ACTIVATIONS, "leaky_relu:0.1", "elu:2.0", "celu:0.5", "softplus:2.0:1.5",
    "hard_tanh:-0.5:2.0", "soft_shrink:0.3", "hard_shrink:0.7", "threshold:0.1:-2.0",
    "squareplus:1.0", "relu:0.1:-0.5:2.0", "relu:0.0:0.5:inf"])
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


# -- every elementwise activation PyTorch and Keras offer -------------------------------------

TORCH_ACTIVATION_MODULES = [
    (nn.SELU, "selu"), (nn.ReLU6, "relu6"), (nn.Hardtanh, "hard_tanh"),
    (lambda: nn.Hardtanh(-0.5, 2.0), "hard_tanh:-0.5:2.0"), (nn.Softsign, "softsign"),
    (nn.Mish, "mish"), (nn.Hardswish, "hard_silu"), (nn.Hardsigmoid, "hard_sigmoid"),
    (lambda: nn.CELU(0.5), "celu:0.5"),
    (nn.LogSigmoid, "log_sigmoid"), (lambda: nn.ELU(2.0), "elu:2.0"),
    (lambda: nn.Softplus(2.0, 5.0), "softplus:2.0:5.0"), (lambda: nn.PReLU(init=0.3),
                                                         "leaky_relu:0.30000001192092896"),
    (lambda: nn.PReLU(4, init=0.5), "leaky_relu:0.5"),
    (nn.RReLU, f"leaky_relu:{(1 / 8 + 1 / 3) / 2!r}"), (nn.Tanhshrink, "tanh_shrink"),
    (lambda: nn.Softshrink(0.3), "soft_shrink:0.3"),
    (lambda: nn.Hardshrink(0.7), "hard_shrink:0.7"),
    (lambda: nn.Threshold(0.1, -2.0), "threshold:0.1:-2.0")]


def _assert_read_exactly(model, network, predictions, w_ih, w_ho, X, tolerance):
    """The read network reproduces the model's predictions, and connection_weights are the
    hand product W_ih @ W_ho of the model's own weights."""
    scale = max(1.0, float(np.abs(predictions).max()))
    np.testing.assert_allclose(network.forward(X), predictions, rtol=tolerance,
                               atol=tolerance * scale)
    per_output = varimp.connection_weights(model).details["per_output"].to_numpy()
    np.testing.assert_allclose(per_output, w_ih @ w_ho, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize(("make", "name"), TORCH_ACTIVATION_MODULES,
                         ids=[name for _, name in TORCH_ACTIVATION_MODULES])
def test_torch_mlp_with_each_activation_module_is_read_exactly(make, name):
    """Each activation module (with its settings) is read as the neutral name whose numpy
    function computes what PyTorch computes; an RReLU in evaluation is a leaky ReLU of slope
    (lower + upper) / 2 and a PReLU of one slope (or equal slopes) a leaky ReLU."""
    torch.manual_seed(3)
    model = nn.Sequential(nn.Linear(P, 4), make(), nn.Linear(4, 2)).double().eval()
    network = adapt(model).network()
    assert network.layers[0].activation == name
    X = 3 * X_TAB
    _assert_read_exactly(model, network, torch_predict(model, X),
                         model[0].weight.detach().numpy().T, model[2].weight.detach().numpy().T,
                         X, 1e-12)


A = keras.activations
KERAS_ACTIVATIONS = [
    ("selu", "selu"), ("relu6", "relu6"), ("mish", "mish"), ("softsign", "softsign"),
    ("hard_silu", "hard_silu"), ("hard_swish", "hard_silu"), ("log_sigmoid", "log_sigmoid"),
    ("celu", "celu"), ("elu", "elu"), ("leaky_relu", "leaky_relu:0.2"), ("hard_tanh", "hard_tanh"),
    ("tanh_shrink", "tanh_shrink"), ("soft_shrink", "soft_shrink"), ("hard_shrink", "hard_shrink"),
    ("squareplus", "squareplus"), ("sparse_plus", "sparse_plus"),
    ("sparse_sigmoid", "sparse_sigmoid"), ("exponential", "exponential"), ("gelu", "gelu"),
    ("swish", "silu"), ("softplus", "softplus"),
    (partial(A.elu, alpha=2.0), "elu:2.0"), (partial(A.celu, alpha=0.5), "celu:0.5"),
    (partial(A.relu, max_value=2.0, threshold=-0.5, negative_slope=0.1), "relu:0.1:-0.5:2.0"),
    (partial(A.relu, threshold=0.5), "relu:0.0:0.5:inf"), (partial(A.relu, max_value=6), "relu6"),
    (partial(A.relu, negative_slope=0.1), "leaky_relu:0.1"),
    (partial(A.gelu, approximate=True), "gelu_tanh"),
    (partial(A.threshold, threshold=0.2, default_value=-1.0), "threshold:0.2:-1.0"),
    (partial(A.squareplus, b=1.0), "squareplus:1.0"),
    (partial(A.hard_shrink, threshold=0.2), "hard_shrink:0.2"),
    (partial(A.leaky_relu, negative_slope=0.05), "leaky_relu:0.05"),
    (lambda: keras.layers.ReLU(max_value=3.0, negative_slope=0.1, threshold=0.5),
     "relu:0.1:0.5:3.0"),
    (lambda: keras.layers.ReLU(max_value=6.0), "relu6"), (lambda: keras.layers.ELU(0.7), "elu:0.7"),
    (lambda: keras.layers.LeakyReLU(0.3), "leaky_relu:0.3"),
    (lambda: keras.layers.PReLU(keras.initializers.Constant(0.25)), "leaky_relu:0.25"),
]


@pytest.mark.parametrize(("given", "name"), KERAS_ACTIVATIONS,
                         ids=[name if isinstance(given, str) else f"{k}-{name}"
                              for k, (given, name) in enumerate(KERAS_ACTIVATIONS)])
def test_keras_mlp_with_each_activation_is_read_exactly(given, name):
    """Each Keras activation (by name, a functools.partial setting its parameters, or an
    activation layer) is read as the neutral name whose numpy function computes what Keras
    computes (float32: to its rounding)."""
    keras.utils.set_random_seed(3)
    if isinstance(given, str | partial):
        hidden = [keras.layers.Dense(4, activation=given)]
    else:
        hidden = [keras.layers.Dense(4), given()]
    model = keras.Sequential([keras.Input((P,)), *hidden, keras.layers.Dense(2)])
    network = adapt(model).network()
    assert network.layers[0].activation == name
    X = 2 * X_TAB
    _assert_read_exactly(model, network, keras_predict(model, X),
                         keras.ops.convert_to_numpy(model.layers[0].kernel).astype(float),
                         keras.ops.convert_to_numpy(model.layers[-1].kernel).astype(float),
                         X, 2e-6)


def test_keras_recurrent_layer_with_a_parametrised_cell_activation():
    """A cell activation with parameters (ELU of alpha 0.5) and a gate activation other than
    the sigmoid (hard_silu's value at 0 is 0, hard_sigmoid's 0.5) are read into the cell."""
    model = keras_model(keras.layers.GRU(UNITS, activation=partial(A.elu, alpha=0.5),
                                         recurrent_activation="hard_sigmoid"),
                        keras.layers.Dense(1, activation="softsign"))
    network = adapt(model).network()
    cell = network.layers[0]
    assert (cell.activation, cell.recurrent_activation) == ("elu:0.5", "hard_sigmoid")
    assert cell.gate_at_rest() == 0.5
    np.testing.assert_allclose(network.forward(X_SEQ), keras_predict(model, X_SEQ), rtol=1e-5,
                               atol=2e-6)


def test_activation_names_carry_their_parameters_exactly():
    """A family's plain name is its defaults; other parameters are written exactly (repr) and
    read back; a name varimp does not compute is refused with the names it does."""
    from varimp.network import activation, neutral_name

    assert neutral_name("softplus", 1, 20) == "softplus"
    assert neutral_name("elu", np.float32(0.1)) == "elu:0.10000000149011612"
    x = np.array([-3.0, -0.6, -0.2, 0.0, 0.2, 0.6, 3.0])
    np.testing.assert_array_equal(activation("hard_tanh:-0.5:2.0")(x),
                                  [-0.5, -0.5, -0.2, 0.0, 0.2, 0.6, 2.0])
    np.testing.assert_allclose(activation("soft_shrink:0.5")(x),
                               [-2.5, -0.1, 0.0, 0.0, 0.0, 0.1, 2.5], rtol=1e-15, atol=1e-16)
    np.testing.assert_allclose(activation("selu")(np.array([-1.0, 1.0])),
                               [1.0507009873554805 * 1.6732632423543772 * (np.exp(-1) - 1),
                                1.0507009873554805], rtol=1e-15)
    # Keras' relu(x, negative_slope=0.1, max_value=2, threshold=-0.5) by its definition
    np.testing.assert_allclose(activation("relu:0.1:-0.5:2.0")(x),
                               [0.0 - 0.1 * 2.5, 0.0 - 0.1 * 0.1, 0.0, 0.0, 0.2, 0.6, 2.0])
    for bad in ("swishy", "elu:a", "softplus:2.0", "leaky_relu"):
        with pytest.raises(varimp.UnsupportedModelError,
                           match=rf"activation '{bad}' is not one varimp computes; it computes "
                           r"identity, relu, .* with parameters leaky_relu:<negative_slope>"):
            activation(bad)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_dense_layers_carry_whether_the_model_declares_a_bias():
    """``Dense.has_bias``: False for ``nn.Linear(bias=False)`` and Keras
    ``Dense(use_bias=False)`` (also inside ``TimeDistributed``, and for output heads joined
    when none has a bias), True otherwise; scikit-learn MLPs always have biases."""
    from sklearn.neural_network import MLPRegressor

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(P, 4, bias=False), nn.Tanh(), nn.Linear(4, 2))
    layers = adapt(model).network().layers
    assert [layer.has_bias for layer in layers] == [False, True]
    np.testing.assert_array_equal(layers[0].bias, np.zeros(4))  # read as zeros
    keras.utils.set_random_seed(0)
    dense = keras.Sequential([keras.Input((P,)), keras.layers.Dense(4, use_bias=False),
                              keras.layers.Dense(1)])
    assert [layer.has_bias for layer in adapt(dense).network().layers] == [False, True]
    sequence = keras.Sequential([
        keras.Input((T, P)), keras.layers.SimpleRNN(UNITS, return_sequences=True),
        keras.layers.TimeDistributed(keras.layers.Dense(2, use_bias=False))])
    assert adapt(sequence).network().layers[-1].has_bias is False
    inputs = keras.Input((P,))
    shared = keras.layers.Dense(3, activation="tanh")(inputs)
    heads = [keras.layers.Dense(1, use_bias=False, name=name)(shared) for name in ("a", "b")]
    joined = adapt(keras.Model(inputs, heads)).network().layers
    assert [layer.has_bias for layer in joined] == [True, False]
    mixed = [keras.layers.Dense(1, use_bias=name == "d", name=name)(shared) for name in "cd"]
    assert adapt(keras.Model(inputs, mixed)).network().layers[-1].has_bias
    clf = MLPRegressor(hidden_layer_sizes=(3,), max_iter=50, random_state=0)
    clf.fit(X_TAB, X_TAB[:, 0])
    assert all(layer.has_bias for layer in adapt(clf).network().layers)


def test_the_diagram_reads_the_bias_of_the_neutral_description_alone():
    """plot_network draws a bias node for a layer whose ``has_bias`` is True (a zero bias
    included) or whose bias a folded normalisation filled; none for a layer without a bias,
    also when it is given the network description rather than the model."""
    from varimp import plot

    def bias_nodes(ax):
        return sorted(t.get_text() for t in ax.texts if t.get_text() in ("B1", "B2"))

    first = Dense(np.ones((3, 2)), np.zeros(2), "tanh", name="a", has_bias=False)
    second = Dense(np.ones((2, 1)), np.zeros(1), name="b")
    ax = plot.plot_network(Network((first, second), 3, False))
    assert bias_nodes(ax) == ["B2"]
    assert len(ax.collections[0].get_segments()) == 3 * 2 + 2 * 1 + 1  # weights, B2's line
    filled = replace(first, bias=np.array([0.5, 0.0]))  # e.g. a folded Normalization's shift
    assert bias_nodes(plot.plot_network(Network((filled, second), 3, False))) == ["B1", "B2"]
    none = Network((first, replace(second, has_bias=False)), 3, False)
    assert bias_nodes(plot.plot_network(none)) == []
