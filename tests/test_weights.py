"""Connection weights and Garson's algorithm against references written out in the test.

MLPs: the product of the weight matrices in numpy (Olden & Jackson 2002) and Garson's formula by
explicit loops over hidden units (Goh 1995; Olden & Jackson 2002, appendix). Several outputs: the
rule of every method (each output scored on its own in ``details["per_output"]``; connection
weights combined as the mean of their absolute values, Garson's shares as their mean).
Recurrent layers: a purely linear RNN is its own linear path, so its connection weights must equal
the exact input derivatives per time step (autograd); LSTM and GRU follow the formulas of
``varimp.methods.weights`` written by hand.
"""

import re
import warnings

import keras
import numpy as np
import pandas as pd
import pytest
import torch
from nets import RecurrentHead
from torch import nn

import varimp

P = 3  # input features


def mlp(sizes, activation=nn.Tanh, seed=0):
    """A float64 torch MLP with the given layer sizes."""
    torch.manual_seed(seed)
    layers = []
    for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(a, b, dtype=torch.float64))
        if k < len(sizes) - 2:
            layers.append(activation())
    return nn.Sequential(*layers)


def weights_of(model):
    """The weight matrices of a torch MLP, row-vector convention (n_in, n_out)."""
    return [m.weight.detach().numpy().T.copy() for m in model if isinstance(m, nn.Linear)]


# -- connection weights of MLPs --------------------------------------------------------------

@pytest.mark.parametrize("sizes", [(P, 5, 2), (P, 5, 4, 3), (P, 6, 5, 4, 2)])
def test_connection_weights_equal_the_product_of_weight_matrices(sizes):
    model = mlp(sizes)
    reference = np.linalg.multi_dot(weights_of(model))
    n_out = sizes[-1]
    result = varimp.connection_weights(model)
    per_output = result.details["per_output"]
    np.testing.assert_allclose(per_output.to_numpy(), reference, rtol=1e-12, atol=1e-15)
    assert list(per_output.index) == ["x1", "x2", "x3"]
    assert per_output.shape == (P, n_out)
    # all outputs together: the mean of the absolute connection weights over outputs
    np.testing.assert_allclose(result.scores.to_numpy(), np.abs(reference).mean(axis=1),
                               rtol=1e-12)
    assert result.kind == "magnitude"
    assert result.by_time is None
    for k in range(n_out):
        one = varimp.connection_weights(model, output=k)
        np.testing.assert_allclose(one.scores.to_numpy(), reference[:, k], rtol=1e-12,
                                   atol=1e-15)
        assert one.kind == "effect"
        assert list(one.details["per_output"].columns) == [f"output {k}"]
    last = varimp.connection_weights(model, output=-1)
    np.testing.assert_allclose(last.scores.to_numpy(), reference[:, -1], rtol=1e-12)


def test_connection_weights_one_hidden_layer_written_as_a_sum_over_hidden_units():
    model = mlp((P, 4, 1))
    w, v = weights_of(model)
    reference = [sum(w[i, h] * v[h, 0] for h in range(4)) for i in range(P)]
    result = varimp.connection_weights(model, output=0)
    np.testing.assert_allclose(result.scores.to_numpy(), reference, rtol=1e-12)


@pytest.mark.parametrize("output", [2, -3, 7])
def test_connection_weights_output_out_of_range(output):
    model = mlp((P, 4, 2))
    with pytest.raises(varimp.InputError, match=r"output must be an index in 0\.\.1 .*2 outputs"):
        varimp.connection_weights(model, output=output)


def test_connection_weights_output_of_the_wrong_type():
    with pytest.raises(varimp.InputError, match="output must be an integer index"):
        varimp.connection_weights(mlp((P, 4, 2)), output="yield")


def test_connection_weights_of_a_list_of_outputs_are_the_mean_of_their_magnitudes():
    model = mlp((P, 5, 4), seed=6)
    reference = np.linalg.multi_dot(weights_of(model))
    for output in ([2, 0], (1, 3, 0)):
        result = varimp.connection_weights(model, output=output)
        picked = reference[:, list(output)]
        np.testing.assert_allclose(result.details["per_output"].to_numpy(), picked, rtol=1e-12)
        assert list(result.details["per_output"].columns) == [f"output {k}" for k in output]
        np.testing.assert_allclose(result.scores.to_numpy(), np.abs(picked).mean(axis=1),
                                   rtol=1e-12)
        assert result.kind == "magnitude"
        assert result.details["outputs"] == list(output)
    one = varimp.connection_weights(model, output=[3])
    np.testing.assert_allclose(one.scores.to_numpy(), reference[:, 3], rtol=1e-12)
    assert one.kind == "effect"
    with pytest.raises(varimp.InputError, match="same output twice"):
        varimp.connection_weights(model, output=[1, 1])


def test_connection_weights_groups_sum_their_members():
    model = mlp((4, 5, 2))
    reference = np.linalg.multi_dot(weights_of(model))
    names = ["a", "b", "c", "d"]
    X = pd.DataFrame(np.random.default_rng(0).normal(size=(6, 4)), columns=names)
    result = varimp.connection_weights(model, X, groups={"ac": ["a", "c"], "d": [3]}, output=1)
    assert list(result.scores.index) == ["ac", "b", "d"]  # column order, a group at its first
    expected = [reference[0, 1] + reference[2, 1], reference[1, 1], reference[3, 1]]
    np.testing.assert_allclose(result.scores.to_numpy(), expected, rtol=1e-12)
    both = varimp.connection_weights(model, X, groups={"ac": ["a", "c"]})
    grouped = np.stack([reference[0] + reference[2], reference[1], reference[3]])
    np.testing.assert_allclose(both.details["per_output"].to_numpy(), grouped, rtol=1e-12)
    np.testing.assert_allclose(both.scores.to_numpy(), np.abs(grouped).mean(axis=1),
                               rtol=1e-12)


def test_connection_weights_take_names_from_a_dataframe_and_ignore_activations():
    relu, tanh = mlp((P, 5, 1), nn.ReLU, seed=3), mlp((P, 5, 1), nn.Tanh, seed=3)
    X = pd.DataFrame(np.zeros((2, P)), columns=["rain", "temp", "wind"])
    a = varimp.connection_weights(relu, X)
    b = varimp.connection_weights(tanh, X, feature_names=["r", "t", "w"])
    assert list(a.scores.index) == ["rain", "temp", "wind"]
    assert list(b.scores.index) == ["r", "t", "w"]
    np.testing.assert_array_equal(a.scores.to_numpy(), b.scores.to_numpy())


# -- Garson's algorithm by hand --------------------------------------------------------------

def garson_by_hand(weights, variant):
    """Garson's shares written out with loops over hidden units (docstring of ``garson``).

    Every hidden layer's absolute weights become shares of each unit's inflow; the shares are
    chained through the hidden layers. "garson" and "goh" (Goh 1995, Olden & Jackson 2002): the
    chained share and the absolute output weight are multiplied first, then normalised over
    the inputs for each last-hidden unit. "output_weighted": the chained share times the
    absolute output weight, summed over last-hidden units. Per output, the contributions are
    normalised over the inputs. Returns (inputs, outputs).
    """
    hidden, out = weights[:-1], weights[-1]
    p = hidden[0].shape[0]
    chain = np.eye(p)  # chain[i, u]: share of unit u's inflow that traces back to input i
    for w in hidden:
        n_in, n_units = w.shape
        share = np.zeros_like(w)
        for u in range(n_units):
            inflow = sum(abs(w[s, u]) for s in range(n_in))
            for s in range(n_in):
                share[s, u] = abs(w[s, u]) / inflow
        nxt = np.zeros((p, n_units))
        for i in range(p):
            for u in range(n_units):
                nxt[i, u] = sum(chain[i, s] * share[s, u] for s in range(n_in))
        chain = nxt
    n_last, n_out = out.shape
    contribution = np.zeros((p, n_out))
    for k in range(n_out):
        for h in range(n_last):
            if variant == "output_weighted":
                for i in range(p):
                    contribution[i, k] += chain[i, h] * abs(out[h, k])
            else:
                products = [chain[i, h] * abs(out[h, k]) for i in range(p)]
                for i in range(p):
                    contribution[i, k] += products[i] / sum(products)
    return contribution / contribution.sum(axis=0, keepdims=True)


@pytest.mark.parametrize("variant", ["garson", "goh", "output_weighted"])
def test_garson_2_2_1_by_hand(variant):
    model = mlp((2, 2, 1), nn.Sigmoid, seed=1)
    w, v = weights_of(model)
    # the 2-2-1 case written out in full, one hidden unit at a time
    q = [[abs(w[i, h]) / (abs(w[0, h]) + abs(w[1, h])) for h in range(2)] for i in range(2)]
    if variant == "output_weighted":
        s = [q[i][0] * abs(v[0, 0]) + q[i][1] * abs(v[1, 0]) for i in range(2)]
    else:  # |w_ih| |v_h| normalised per hidden unit: the output weight cancels
        s = [q[i][0] + q[i][1] for i in range(2)]
    expected = np.array(s) / sum(s)
    result = varimp.garson(model) if variant == "garson" else varimp.garson(model, variant=variant)
    np.testing.assert_allclose(result.scores.to_numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(garson_by_hand([w, v], variant)[:, 0], expected, rtol=1e-12)
    assert result.scores.sum() == pytest.approx(1.0, abs=1e-12)
    assert result.details["variant"] == variant
    assert result.kind == "share"


@pytest.mark.parametrize("variant", ["garson", "goh", "output_weighted"])
def test_garson_3_4_4_2_by_hand(variant):
    model = mlp((3, 4, 4, 2), seed=2)
    expected = garson_by_hand(weights_of(model), variant)
    result = varimp.garson(model, variant=variant)
    np.testing.assert_allclose(result.details["per_output"].to_numpy(), expected, rtol=1e-12)
    np.testing.assert_allclose(result.scores.to_numpy(), expected.mean(axis=1), rtol=1e-12)
    assert result.scores.sum() == pytest.approx(1.0, abs=1e-12)
    for k in range(2):
        one = varimp.garson(model, variant=variant, output=k)
        np.testing.assert_allclose(one.scores.to_numpy(), expected[:, k], rtol=1e-12)
        assert one.scores.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.all(result.scores.to_numpy() > 0)


def test_garson_variants_differ_and_groups_add_shares():
    model = mlp((3, 4, 4, 2), seed=2)
    a = varimp.garson(model, output=0)
    b = varimp.garson(model, output=0, variant="output_weighted")
    goh = varimp.garson(model, output=0, variant="goh")
    assert np.abs(a.scores - b.scores).max() > 1e-3
    np.testing.assert_array_equal(a.scores.to_numpy(), goh.scores.to_numpy())
    grouped = varimp.garson(model, output=0, groups={"x12": ["x1", "x2"]})
    assert grouped.scores["x12"] == pytest.approx(a.scores["x1"] + a.scores["x2"], rel=1e-12)
    assert grouped.scores["x3"] == pytest.approx(a.scores["x3"], rel=1e-12)


def test_garson_rejects_an_unknown_variant():
    with pytest.raises(varimp.InputError,
                       match=r"variant must be one of \['garson', 'goh', 'output_weighted'\]"):
        varimp.garson(mlp((P, 3, 1)), variant="olden")


# -- the recurrent linear path against autograd ---------------------------------------------



def jacobian(forward, x, output, step=None):
    """d output / d x for every cell of one sample (T, p), by autograd."""
    x = x.detach().clone().requires_grad_(True)
    out = forward(x)
    if out.ndim == 3:
        out = out[:, :, output].sum(dim=1) if step is None else out[:, step, output]
    else:
        out = out[:, output]
    (grad,) = torch.autograd.grad(out.sum(), x)
    return grad[0].detach().double().numpy()


def nonnegative_relu_rnn(num_layers, last_step, seed=0):
    """A torch RNN whose relu never clips: non-negative weights, biases and inputs."""
    torch.manual_seed(seed)
    rnn = nn.RNN(P, 4, num_layers=num_layers, nonlinearity="relu", batch_first=True,
                 dtype=torch.float64)
    head = nn.Linear(4, 2, dtype=torch.float64)
    with torch.no_grad():
        for param in rnn.parameters():
            param.uniform_(0.0, 0.3)
    return RecurrentHead(rnn, head, last_step).eval()


@pytest.mark.parametrize("last_step", [True, False])
@pytest.mark.parametrize("num_layers", [1, 2])
def test_relu_rnn_on_nonnegative_input_has_connection_weights_equal_to_derivatives(
        num_layers, last_step):
    T = 5
    model = nonnegative_relu_rnn(num_layers, last_step)
    X = torch.rand(1, T, P, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    for k in range(2):
        exact = jacobian(model, X, k)
        result = varimp.connection_weights(model, X.numpy(), output=k)
        np.testing.assert_allclose(result.by_time.to_numpy(), exact, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(result.scores.to_numpy(), exact.sum(axis=0), rtol=1e-10)
        assert list(result.by_time.index) == list(range(T))
    both = varimp.connection_weights(model, X.numpy())
    cells = sum(np.abs(jacobian(model, X, k)) for k in range(2)) / 2
    np.testing.assert_allclose(both.by_time.to_numpy(), cells, rtol=1e-10)


def test_a_one_hot_sequence_group_contrasts_its_categories_at_every_step_and_summed():
    """On the linear path of a relu RNN (which never clips on non-negative input) the cells'
    connection weights are the Jacobian J (T, p): a one-hot group's by_time is the range over
    its categories (reference 0) of J[t, c], its score the range of the sums over steps."""
    T = 4
    model = nonnegative_relu_rnn(1, last_step=True, seed=2)
    rng = np.random.default_rng(3)
    colour = rng.choice(3, size=(20, T))  # 0: the reference, a row of zeros
    X = np.concatenate([rng.uniform(size=(20, T, 1)),
                        (colour[..., None] == np.arange(1, 3)).astype(float)], axis=2)
    exact = jacobian(model, torch.from_numpy(X[:1]), 1)  # the same at every sample
    result = varimp.connection_weights(model, X, output=1, groups={"colour": ["x2", "x3"]})
    cells = np.column_stack([np.zeros(T), exact[:, 1:]])
    np.testing.assert_allclose(result.by_time["colour"], np.ptp(cells, axis=1), rtol=1e-10)
    assert result.scores["colour"] == pytest.approx(np.ptp(cells.sum(axis=0)), rel=1e-10)
    assert result.scores["x1"] == pytest.approx(exact[:, 0].sum(), rel=1e-10)
    assert result.details["category_moves"] == ["colour"]


def test_a_table_for_a_sequence_model_names_the_shape_of_x_before_y():
    """The rank of X is checked first, as in every other method, not the length of y."""
    model = RecurrentHead(nn.LSTM(P, 3, batch_first=True), nn.Linear(3, 1), last_step=True)
    X = np.random.default_rng(0).normal(size=(30, P))
    for method in (varimp.garson, varimp.connection_weights):
        with pytest.raises(varimp.InputError, match=r"reads sequences .* received X of shape "
                                                    r"\(30, 3\)"):
            method(model, X, np.zeros(5))


def test_relu_rnn_output_step_of_a_sequence_to_sequence_model():
    T = 4
    model = nonnegative_relu_rnn(2, last_step=False, seed=5)
    X = torch.rand(1, T, P, dtype=torch.float64)
    for step in (0, 2, T - 1):
        exact = jacobian(model, X, 1, step)
        result = varimp.connection_weights(model, n_timesteps=T, output=1, output_step=step)
        np.testing.assert_allclose(result.by_time.to_numpy(), exact, rtol=1e-10, atol=1e-14)
        assert np.all(result.by_time.to_numpy()[step + 1:] == 0.0)


def linear_keras(stack, return_sequences, flatten=False, T=4, n_out=2, seed=0):
    """Keras SimpleRNN(activation='linear') layers and a linear Dense head.

    Keras' torch backend multiplies matrices in float32 even for float64 layers, so the model
    stays float32 and the comparisons allow float32 rounding."""
    keras.utils.set_random_seed(seed)
    layers = [keras.Input((T, P))]
    for k in range(stack):
        last = k == stack - 1
        layers.append(keras.layers.SimpleRNN(
            3, activation="linear",
            return_sequences=(return_sequences or flatten) if last else True))
    if flatten:
        layers.append(keras.layers.Flatten())
    layers.append(keras.layers.Dense(n_out))
    return keras.Sequential(layers)


@pytest.mark.parametrize("stack,return_sequences,flatten", [
    (1, False, False), (1, True, False), (2, False, False), (2, True, False), (1, False, True)])
def test_linear_keras_rnn_has_connection_weights_equal_to_derivatives(
        stack, return_sequences, flatten):
    T = 4
    model = linear_keras(stack, return_sequences, flatten, T=T)
    X = np.random.default_rng(0).normal(size=(2, T, P))
    x = torch.as_tensor(X[:1], dtype=torch.float32)
    for k in range(2):
        exact = jacobian(lambda z: model(z, training=False), x, k)
        result = varimp.connection_weights(model, X, output=k)
        np.testing.assert_allclose(result.by_time.to_numpy(), exact, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(result.scores.to_numpy(), exact.sum(axis=0), rtol=1e-5,
                                   atol=1e-6)
    if return_sequences:
        exact = jacobian(lambda z: model(z, training=False), x, 0, step=1)
        result = varimp.connection_weights(model, X, output=0, output_step=1)
        np.testing.assert_allclose(result.by_time.to_numpy(), exact, rtol=1e-5, atol=1e-6)
        assert np.all(result.by_time.to_numpy()[2:] == 0.0)


# -- LSTM and GRU: the docstring formulas written out in numpy, T = 3 ------------------------

def gate_blocks(weight, gates):
    """Split a torch (gates * units, n) weight into row-vector (n, units) blocks by gate name."""
    w = weight.detach().numpy()
    units = w.shape[0] // len(gates)
    return {g: w[j * units:(j + 1) * units].T for j, g in enumerate(gates)}


def lti_by_hand(cell, layer, k, g0=0.5):
    """(A, B, C) of layer ``k`` of a torch LSTM or GRU, from the module docstring's formulas."""
    gates = "ifgo" if cell == "lstm" else "rzn"
    w = gate_blocks(getattr(layer, f"weight_ih_l{k}"), gates)
    u = gate_blocks(getattr(layer, f"weight_hh_l{k}"), gates)
    eye = np.eye(layer.hidden_size)
    if cell == "lstm":  # c_t = c_{t-1} (f0 I + i0 o0 U_g) + x_t (i0 W_g), h_t = o0 c_t
        i0 = f0 = o0 = g0
        return f0 * eye + i0 * o0 * u["g"], i0 * w["g"], o0 * eye
    z0 = r0 = g0  # h_t = h_{t-1} (z0 I + (1 - z0) r0 U_n) + x_t ((1 - z0) W_n)
    return z0 * eye + (1 - z0) * r0 * u["n"], (1 - z0) * w["n"], eye


def response_by_hand(systems, T):
    """J[t_in, t_out]: (p, units) response of the top layer at t_out to the input at t_in.

    Each layer maps its input at step u to its output at step s >= u through B A^(s-u) C;
    stacked layers chain the steps in between, written out as loops over the steps.
    """
    p = systems[0][1].shape[0]
    J = {(t, s): (np.eye(p) if t == s else np.zeros((p, p))) for t in range(T) for s in range(T)}
    for A, B, C in systems:
        kernel = {m: B @ np.linalg.matrix_power(A, m) @ C for m in range(T)}
        J = {(t, s): sum((J[t, u] @ kernel[s - u] for u in range(t, s + 1)),
                         np.zeros((p, C.shape[1])))
             for t in range(T) for s in range(T)}
    return J


@pytest.mark.parametrize("cell", ["lstm", "gru"])
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("last_step", [True, False])
def test_lstm_and_gru_linear_paths_by_hand(cell, num_layers, last_step):
    T = 3
    torch.manual_seed(4)
    kind = nn.LSTM if cell == "lstm" else nn.GRU
    rnn = kind(P, 4, num_layers=num_layers, batch_first=True, dtype=torch.float64)
    head = nn.Linear(4, 2, dtype=torch.float64)
    model = RecurrentHead(rnn, head, last_step).eval()
    V = head.weight.detach().numpy().T
    J = response_by_hand([lti_by_hand(cell, rnn, k) for k in range(num_layers)], T)
    for k in range(2):
        if last_step:
            expected = np.stack([J[t, T - 1] @ V[:, k] for t in range(T)])
        else:  # a prediction at every step, summed over the predicted steps
            expected = np.stack([sum(J[t, s] @ V[:, k] for s in range(t, T)) for t in range(T)])
        result = varimp.connection_weights(model, n_timesteps=T, output=k)
        np.testing.assert_allclose(result.by_time.to_numpy(), expected, rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(result.scores.to_numpy(), expected.sum(axis=0), rtol=1e-10)
        assert result.details["gate_at_rest"] == 0.5
    if not last_step:
        result = varimp.connection_weights(model, n_timesteps=T, output=0, output_step=1)
        expected = np.stack([J[t, 1] @ V[:, 0] if t <= 1 else np.zeros(P) for t in range(T)])
        np.testing.assert_allclose(result.by_time.to_numpy(), expected, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("variant", ["garson", "output_weighted"])
def test_garson_on_an_rnn_by_hand(variant):
    """Shares over [|B|; |A|] per unit, chained back through time; each last unit weighted 1
    ("garson") or by its absolute output weight ("output_weighted")."""
    T = 3
    model = nonnegative_relu_rnn(1, last_step=True, seed=7)
    with torch.no_grad():
        model.rnn.weight_hh_l0.sub_(0.15)  # give the recurrent weights both signs
    W = model.rnn.weight_ih_l0.detach().numpy().T
    U = model.rnn.weight_hh_l0.detach().numpy().T
    V = model.head.weight.detach().numpy().T
    units = U.shape[0]
    B, A = np.zeros_like(W), np.zeros_like(U)
    for h in range(units):
        inflow = np.abs(W[:, h]).sum() + np.abs(U[:, h]).sum()
        B[:, h] = np.abs(W[:, h]) / inflow
        A[:, h] = np.abs(U[:, h]) / inflow
    last = np.abs(V[:, 1]) if variant == "output_weighted" else np.ones(units)
    cells = np.stack([B @ np.linalg.matrix_power(A, T - 1 - t) @ last for t in range(T)])
    result = varimp.garson(model, n_timesteps=T, output=1, variant=variant)
    np.testing.assert_allclose(result.by_time.to_numpy(), cells / cells.sum(), rtol=1e-10)
    np.testing.assert_allclose(result.scores.to_numpy(), cells.sum(axis=0) / cells.sum(),
                               rtol=1e-10)
    assert result.scores.sum() == pytest.approx(1.0, abs=1e-12)


def test_sequence_model_without_x_or_n_timesteps_is_refused():
    model = RecurrentHead(nn.GRU(P, 3, batch_first=True), nn.Linear(3, 1), last_step=True)
    with pytest.raises(varimp.InputError, match="pass X or n_timesteps="):
        varimp.connection_weights(model)


def test_an_mlp_reading_flattened_sequences_resolves_every_time_step():
    T = 5
    torch.manual_seed(8)
    net = nn.Sequential(nn.Flatten(), nn.Linear(T * P, 4, dtype=torch.float64), nn.Tanh(),
                        nn.Linear(4, 2, dtype=torch.float64))
    keras.utils.set_random_seed(8)
    dense = keras.Sequential([keras.Input((T, P)), keras.layers.Flatten(),
                              keras.layers.Dense(4, activation="tanh"), keras.layers.Dense(2)])
    X = np.random.default_rng(9).normal(size=(6, T, P))
    for model in (net, dense):
        weights = weights_of(net) if model is net else [w for w in dense.get_weights()[::2]]
        # the flattened input is (time outer, feature inner), as torch and Keras flatten it
        reference = np.linalg.multi_dot(weights).reshape(T, P, 2)
        for k in range(2):
            result = varimp.connection_weights(model, X, output=k)
            np.testing.assert_allclose(result.by_time.to_numpy(), reference[:, :, k], rtol=1e-6,
                                       atol=1e-12)
            np.testing.assert_allclose(result.scores.to_numpy(), reference[:, :, k].sum(axis=0),
                                       rtol=1e-6)
        without_x = varimp.connection_weights(model, n_timesteps=T, output=1)
        np.testing.assert_allclose(without_x.by_time.to_numpy(), reference[:, :, 1], rtol=1e-6)
        shares = varimp.garson(model, X)
        assert shares.by_time.shape == (T, P)
        assert shares.by_time.to_numpy().sum() == pytest.approx(1.0, abs=1e-12)


def test_a_dense_layer_before_a_linear_rnn_is_applied_at_every_step():
    T = 4
    keras.utils.set_random_seed(10)
    model = keras.Sequential([keras.Input((T, P)), keras.layers.Dense(5),
                              keras.layers.SimpleRNN(3, activation="linear"),
                              keras.layers.Dense(2)])
    X = np.random.default_rng(10).normal(size=(2, T, P))
    for k in range(2):
        exact = jacobian(lambda z: model(z, training=False),
                         torch.as_tensor(X[:1], dtype=torch.float32), k)
        result = varimp.connection_weights(model, X, output=k)
        np.testing.assert_allclose(result.by_time.to_numpy(), exact, rtol=1e-5, atol=1e-6)


def test_the_columns_of_a_dataframe_y_name_the_outputs():
    model = mlp((P, 5, 3), seed=4)
    reference = np.linalg.multi_dot(weights_of(model))
    X = np.zeros((4, P))
    Y = pd.DataFrame(np.zeros((4, 3)), columns=["a", "b", "c"])
    for data in (X, None):  # without X, y still names the outputs
        b = varimp.connection_weights(model, data, Y, output="b")
        np.testing.assert_allclose(b.scores.to_numpy(), reference[:, 1], rtol=1e-12)
        assert list(b.details["per_output"].columns) == ["b"]
        shares = varimp.garson(model, data, Y, output=["c", "a"])
        assert list(shares.details["per_output"].columns) == ["c", "a"]
    with pytest.raises(varimp.InputError, match=r"output names are \['a', 'b', 'c'\]\); "
                                                r"received str 'd'"):
        varimp.connection_weights(model, X, Y, output="d")


# -- the classes of one softmax: class weights centred over the classes ----------------------

def softmax_mlp(W1, W2, softmax=True):
    """x -> tanh(x @ W1) -> @ W2 (-> softmax), float64, from row-vector weights."""
    layers = [nn.Linear(*W1.shape, dtype=torch.float64), nn.Tanh(),
              nn.Linear(*W2.shape, dtype=torch.float64)]
    with torch.no_grad():
        for layer, w in zip(layers[::2], (W1, W2), strict=True):
            layer.weight.copy_(torch.as_tensor(w.T))
            layer.bias.zero_()
    return nn.Sequential(*layers, *([nn.Softmax(dim=-1)] if softmax else []))


# 2 inputs, 2 hidden units, 3 classes. Centred class weights of each hidden unit (rows of W2):
# [1, 0, 2] - 1 = [0, -1, 1] and [3, -3, 0] - 0 = [3, -3, 0]; so W1 @ centred(W2) =
# x1: 1 * [0, -1, 1] + 2 * [3, -3, 0] = [6, -7, 1];  x2: 0 * [...] - 1 * [3, -3, 0] = [-3, 3, 0]
TINY_W1 = np.array([[1.0, 2.0], [0.0, -1.0]])
TINY_W2 = np.array([[1.0, 0.0, 2.0], [3.0, -3.0, 0.0]])
TINY_CENTRED = np.array([[6.0, -7.0, 1.0], [-3.0, 3.0, 0.0]])


def test_softmax_class_weights_are_centred_over_the_classes_by_hand():
    model = softmax_mlp(TINY_W1, TINY_W2)
    result = varimp.connection_weights(model)
    np.testing.assert_allclose(result.details["per_output"].to_numpy(), TINY_CENTRED,
                               rtol=1e-12, atol=1e-15)
    assert result.details["centred_classes"] is True
    one = varimp.connection_weights(model, output=1)
    assert one.scores.to_dict() == pytest.approx({"x1": -7.0, "x2": 3.0}, rel=1e-12)
    # Garson's "output_weighted" weights hidden unit h by its centred |w_h,class|: for class 0,
    # unit 1 by |0| and unit 2 by |3|. Shares of each unit's inflow, q_ih = |w_ih| / sum_i
    # |w_ih|, from the columns (1, 0) and (2, -1) of W1: (1, 0) and (2/3, 1/3).
    # S = 0 * (1, 0) + 3 * (2/3, 1/3) = (2, 1), RI = (2/3, 1/3); the raw weights (1 and 3)
    # would give S = (3, 1), RI = (3/4, 1/4).
    shares = varimp.garson(model, output=0, variant="output_weighted")
    np.testing.assert_allclose(shares.scores.to_numpy(), [2 / 3, 1 / 3], rtol=1e-12)


def test_classes_name_the_outputs_of_connection_weights_and_garson_called_directly():
    """classes= taken by the methods themselves, as their refusal of output='b' asks: the
    class names select the class (output='b' is output=1) and label ``per_output``."""
    model = softmax_mlp(TINY_W1, TINY_W2)
    named = varimp.connection_weights(model, classes=["a", "b", "c"], output="b")
    # class 1 of the centred products written out above the test: x1 -7, x2 3
    assert named.scores.to_dict() == pytest.approx({"x1": -7.0, "x2": 3.0}, rel=1e-12)
    pd.testing.assert_series_equal(named.scores,
                                   varimp.connection_weights(model, output=1).scores)
    every = varimp.connection_weights(model, classes=["a", "b", "c"])
    assert list(every.details["per_output"].columns) == ["a", "b", "c"]
    np.testing.assert_allclose(every.details["per_output"].to_numpy(), TINY_CENTRED,
                               rtol=1e-12, atol=1e-15)
    # Garson's "output_weighted" shares of class 0 by hand above: (2/3, 1/3)
    shares = varimp.garson(model, classes=["a", "b", "c"], output="a",
                           variant="output_weighted")
    np.testing.assert_allclose(shares.scores.to_numpy(), [2 / 3, 1 / 3], rtol=1e-12)
    assert list(shares.details["per_output"].columns) == ["a"]
    pd.testing.assert_series_equal(
        varimp.garson(model, classes=["a", "b", "c"], output="b").scores,
        varimp.garson(model, output=1).scores)
    logits = softmax_mlp(TINY_W1, TINY_W2, softmax=False)  # declared logits take them too
    declared = varimp.garson(logits, output_kind="logits", classes=["a", "b", "c"],
                             output="c", variant="output_weighted")
    np.testing.assert_allclose(declared.scores.to_numpy(),
                               varimp.garson(model, output=2, variant="output_weighted")
                               .scores.to_numpy(), rtol=1e-12)
    for method in (varimp.connection_weights, varimp.garson):  # values: classes name nothing
        with pytest.raises(varimp.InputError,
                           match=r"classes=\['a', 'b', 'c'\] was given, but classes name the "
                                 r"outputs of a classifier .* regression values .* "
                                 r"output_kind='logits'"):
            method(logits, classes=["a", "b", "c"], output="b")


def test_a_vector_added_to_every_class_changes_neither_connection_weights_nor_garson():
    rng = np.random.default_rng(3)
    W1, W2 = rng.normal(size=(P, 5)), rng.normal(size=(5, 4))
    shifted = W2 + rng.normal(scale=3.0, size=(5, 1))  # the same vector for every class
    X = rng.normal(size=(20, P))
    a, b = softmax_mlp(W1, W2), softmax_mlp(W1, shifted)
    with torch.no_grad():  # the same model: identical probabilities
        torch.testing.assert_close(a(torch.as_tensor(X)), b(torch.as_tensor(X)))
    centred = W1 @ (W2 - W2.mean(axis=1, keepdims=True))
    for model in (a, b):
        cw = varimp.connection_weights(model, X)
        np.testing.assert_allclose(cw.details["per_output"].to_numpy(), centred, rtol=1e-10)
        for variant in ("garson", "output_weighted"):
            np.testing.assert_allclose(
                varimp.garson(model, X, variant=variant, output=1).scores.to_numpy(),
                varimp.garson(a, X, variant=variant, output=1).scores.to_numpy(), rtol=1e-12)
    raw = np.linalg.multi_dot([W1, shifted])
    assert not np.allclose(raw, centred)  # the raw products would have moved


def test_declared_logits_are_centred_unless_y_is_multi_hot_and_a_sigmoid_is_not():
    rng = np.random.default_rng(4)
    W1, W2 = rng.normal(size=(P, 5)), rng.normal(size=(5, 3))
    X = rng.normal(size=(30, P))
    logits = softmax_mlp(W1, W2, softmax=False)
    raw, centred = W1 @ W2, W1 @ (W2 - W2.mean(axis=1, keepdims=True))
    as_values = varimp.importance(logits, X, method="connection_weights")
    np.testing.assert_allclose(as_values.details["per_output"].to_numpy(), raw, rtol=1e-12)
    assert as_values.details["centred_classes"] is False
    declared = varimp.importance(logits, X, method="connection_weights", output_kind="logits")
    np.testing.assert_allclose(declared.details["per_output"].to_numpy(), centred, rtol=1e-12)
    direct = varimp.connection_weights(logits, X, output_kind="logits")  # the method takes it
    np.testing.assert_allclose(direct.details["per_output"].to_numpy(), centred, rtol=1e-12)
    assert varimp.garson(logits, X, output_kind="logits").details["centred_classes"] is True
    labels = rng.integers(0, 3, size=30)
    with_labels = varimp.importance(logits, X, labels, method="connection_weights",
                                    output_kind="logits")
    np.testing.assert_allclose(with_labels.details["per_output"].to_numpy(), centred,
                               rtol=1e-12)
    multi_hot = (rng.random((30, 3)) < 0.5).astype(float)  # independent sigmoid labels
    multi_hot[0] = [1.0, 1.0, 0.0]
    multi = varimp.importance(logits, X, multi_hot, method="connection_weights",
                              output_kind="logits")
    np.testing.assert_allclose(multi.details["per_output"].to_numpy(), raw, rtol=1e-12)
    sigmoid = nn.Sequential(*logits, nn.Sigmoid())  # several sigmoids: multi-label, raw
    np.testing.assert_allclose(
        varimp.connection_weights(sigmoid, X).details["per_output"].to_numpy(), raw,
        rtol=1e-12)


def test_a_three_class_sklearn_classifier_has_centred_connection_weights():
    from sklearn.neural_network import MLPClassifier

    rng = np.random.default_rng(5)
    X = rng.normal(size=(90, P))
    y = np.repeat(["a", "b", "c"], 30)
    clf = MLPClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0)
    with pytest.warns(Warning):  # not converged in 5 iterations: the weights are what they are
        clf.fit(X, y)
    W1, W2 = clf.coefs_
    result = varimp.connection_weights(clf, X, output="c")
    np.testing.assert_allclose(result.scores.to_numpy(),
                               (W1 @ (W2 - W2.mean(axis=1, keepdims=True)))[:, 2], rtol=1e-12)


def test_a_pipeline_refusal_says_how_to_read_its_mlp():
    from sklearn.neural_network import MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(6)
    X = rng.normal(loc=5.0, scale=[1.0, 10.0, 100.0], size=(60, P))
    pipe = make_pipeline(StandardScaler(), MLPRegressor(hidden_layer_sizes=(3,), max_iter=5,
                                                        random_state=0))
    with pytest.warns(Warning):
        pipe.fit(X, X @ [1.0, 0.1, 0.01])
    with pytest.raises(varimp.UnsupportedModelError,
                       match=r"Pipeline steps \['standardscaler'\] transform.*"
                             r"connection_weights\(pipe\[-1\], pipe\[:-1\]\.transform\(X\)\).*"
                             r"per standard deviation"):
        varimp.connection_weights(pipe, X)
    # what the message says to do: the MLP's weights per unit of the scaled columns
    inner = varimp.connection_weights(pipe[-1], pipe[:-1].transform(X))
    W1, W2 = pipe[-1].coefs_
    np.testing.assert_allclose(inner.scores.to_numpy(), (W1 @ W2).ravel(), rtol=1e-12)


# -- a Keras Normalization layer folded into the next layer's input weights ------------------

def _normalized_mlp(X):
    norm = keras.layers.Normalization()
    norm.adapt(X)
    keras.utils.set_random_seed(7)
    model = keras.Sequential([keras.Input((P,)), norm, keras.layers.Dense(4, activation="tanh"),
                              keras.layers.Dense(1)])
    return model, [model.layers[k].get_weights()[0].astype(np.float64) for k in (1, 2)]


def _garson_one_layer(W1):
    q = np.abs(W1)
    S = (q / q.sum(axis=0)).sum(axis=1)  # Garson, one hidden layer, one output
    return S / S.sum()


def test_a_keras_normalization_is_folded_into_the_first_layers_weights():
    rng = np.random.default_rng(7)
    X = rng.normal(loc=[10.0, -3.0, 200.0], scale=[2.0, 0.5, 40.0], size=(300, P))
    model, (W1, W2) = _normalized_mlp(X)
    std = X.std(axis=0)  # adapt() keeps the population variance
    extremes = re.escape(f"differ by a factor of {std[2] / std[1]:.3g} ('x3': {std[2]:.3g}, "
                         f"'x2': {std[1]:.3g}); pass scale='std'")
    with pytest.warns(UserWarning, match="connection weights depend on the units of the "
                      f"inputs, .*{extremes}") as caught:
        cw = varimp.connection_weights(model, X)
    assert caught[0].filename == __file__  # points at the caller's line
    np.testing.assert_allclose(cw.scores.to_numpy(), ((W1 / std[:, None]) @ W2).ravel(),
                               rtol=1e-5)
    with pytest.warns(UserWarning, match="Garson's shares depend on the units"):
        shares = varimp.garson(model, X)
    np.testing.assert_allclose(shares.scores.to_numpy(), _garson_one_layer(W1 / std[:, None]),
                               rtol=1e-5)


@pytest.mark.parametrize("with_x", [True, False])
def test_scale_std_reads_a_normalized_keras_model_per_standard_deviation(with_x):
    """scale="std": per standard deviation of every input, which for a model that standardises
    its inputs itself are the weights its Dense layers hold (Olden & Jackson's setting);
    without X, the Normalization's own standard deviations, with X those of X (the same
    here: adapt() read this X). No units warning either way."""
    rng = np.random.default_rng(7)
    X = rng.normal(loc=[10.0, -3.0, 200.0], scale=[2.0, 0.5, 40.0], size=(300, P))
    model, (W1, W2) = _normalized_mlp(X)
    data = X if with_x else None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cw = varimp.connection_weights(model, data, scale="std")
        shares = varimp.garson(model, data, scale="std")
    np.testing.assert_allclose(cw.scores.to_numpy(), (W1 @ W2).ravel(), rtol=1e-5)
    np.testing.assert_allclose(shares.scores.to_numpy(), _garson_one_layer(W1), rtol=1e-5)
    assert cw.details["scale"] == "std"
    assert cw.details["measure"] == "summed weight products (signed) per input sd"
    if not with_x:  # the raw reading warns from the Normalization's spreads too
        std = X.std(axis=0)
        with pytest.warns(UserWarning, match=f"differ by a factor of {std[2] / std[1]:.3g}"):
            varimp.connection_weights(model)


def test_scale_std_multiplies_each_inputs_weights_by_its_standard_deviation():
    """A network trained on raw inputs: every first-layer input weight times the spread of
    its input in X; a one-hot group's members (a category switch) are left as they are, and
    the scaled contrast of its categories is that of the raw weights."""
    rng = np.random.default_rng(3)
    n = 200
    category = rng.integers(0, 3, n)
    X = np.column_stack([rng.normal(scale=50.0, size=n), rng.normal(scale=0.2, size=n),
                         category == 1, category == 2]).astype(float)
    model = mlp((4, 5, 1), seed=2)
    W1, W2 = weights_of(model)
    sd = X.std(axis=0)
    groups = {"habitat": [2, 3]}
    cw = varimp.connection_weights(model, X, scale="std", groups=groups,
                                   feature_names=["elev", "slope", "h1", "h2"])
    scaled = np.diag([sd[0], sd[1], 1.0, 1.0]) @ W1 @ W2
    products = np.array([0.0, scaled[2, 0], scaled[3, 0]])  # reference category: 0
    np.testing.assert_allclose(cw.scores.to_numpy(),
                               [scaled[0, 0], scaled[1, 0], np.ptp(products)], rtol=1e-12)
    shares = varimp.garson(model, X, scale="std", groups=groups)
    q = np.abs(np.diag([sd[0], sd[1], 1.0, 1.0]) @ W1)
    S = (q / q.sum(axis=0)).sum(axis=1)  # a group's share: its members' together
    np.testing.assert_allclose(shares.scores.to_numpy(), [S[0], S[1], S[2] + S[3]] / S.sum(),
                               rtol=1e-12)
    with pytest.warns(UserWarning, match=re.escape(f"('elev': {sd[0]:.3g}, 'slope': "
                                                   f"{sd[1]:.3g})")):
        varimp.connection_weights(model, X, groups=groups,
                                  feature_names=["elev", "slope", "h1", "h2"])


def test_one_hot_members_and_constant_inputs_are_not_warned_about():
    rng = np.random.default_rng(4)
    category = rng.integers(0, 2, 100)
    X = np.column_stack([rng.normal(scale=30.0, size=100), category == 1, category == 0,
                         np.full(100, 5.0)]).astype(float)
    model = mlp((4, 3, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        varimp.connection_weights(model, X, groups={"g": [1, 2]})
        varimp.garson(model, X, groups={"g": [1, 2]})


def test_scale_std_without_a_spread_or_with_a_bad_value_is_an_input_error():
    model = mlp((P, 3, 1))
    with pytest.raises(varimp.InputError, match=r"scale='std' .* received no X .* pass X"):
        varimp.connection_weights(model, scale="std")
    with pytest.raises(varimp.InputError, match=r"scale must be one of \['none', 'std'\]"):
        varimp.garson(model, np.zeros((5, P)), scale="sd")
    for X in (np.ones((1, P)), np.full((6, P), 2.0)):  # one row, or constant inputs
        with pytest.raises(varimp.InputError, match=r"X whose inputs do not vary \(every "
                                                    r"standard deviation is 0, 3 inputs\)"):
            varimp.garson(model, X, scale="std")


@pytest.mark.parametrize("invert", [False, True])
def test_a_normalization_with_given_statistics_scales_the_weights(invert):
    mean, variance = np.array([1.0, 2.0, 3.0]), np.array([4.0, 9.0, 16.0])
    norm = keras.layers.Normalization(mean=mean, variance=variance, invert=invert)
    model = keras.Sequential([keras.Input((P,)), norm, keras.layers.Dense(1)])
    w = model.layers[-1].get_weights()[0].ravel().astype(np.float64)
    scale = np.array([2.0, 3.0, 4.0]) if invert else 1.0 / np.array([2.0, 3.0, 4.0])
    np.testing.assert_allclose(varimp.connection_weights(model).scores.to_numpy(), w * scale,
                               rtol=1e-6)


def test_a_normalization_before_a_linear_rnn_keeps_connection_weights_equal_to_derivatives():
    T = 4
    rng = np.random.default_rng(8)
    X = rng.normal(loc=[5.0, -1.0, 0.0], scale=[3.0, 0.2, 1.0], size=(40, T, P))
    norm = keras.layers.Normalization()
    norm.adapt(X)
    keras.utils.set_random_seed(8)
    model = keras.Sequential([keras.Input((T, P)), norm,
                              keras.layers.SimpleRNN(3, activation="linear"),
                              keras.layers.Dense(2)])
    x = torch.as_tensor(X[:1], dtype=torch.float32)
    spread = np.sqrt(X.var(axis=0).mean(axis=0))  # sequences: the mean variance over steps
    for k in range(2):
        exact = jacobian(lambda z: model(z, training=False), x, k)  # d output / d raw x
        with pytest.warns(UserWarning, match="connection weights depend on the units"):
            result = varimp.connection_weights(model, X, output=k)
        np.testing.assert_allclose(result.by_time.to_numpy(), exact, rtol=1e-4, atol=1e-6)
        per_sd = varimp.connection_weights(model, X, output=k, scale="std")
        np.testing.assert_allclose(per_sd.by_time.to_numpy(), exact * spread, rtol=1e-4,
                                   atol=1e-6)


def test_a_normalization_that_cannot_be_folded_is_refused_naming_it():
    X = np.random.default_rng(9).normal(size=(20, 4, P))
    per_cell = keras.layers.Normalization(axis=(1, 2), name="per_cell")
    per_cell.adapt(X)
    model = keras.Sequential([keras.Input((4, P)), per_cell, keras.layers.SimpleRNN(3),
                              keras.layers.Dense(1)])
    with pytest.raises(varimp.UnsupportedModelError,
                       match=r"'per_cell' \(Normalization\) has statistics of shape \(4, 3\), "
                             r"which cannot be folded into the input weights of layer"):
        varimp.connection_weights(model, X)
    last = keras.layers.Normalization(mean=0.5, variance=4.0, name="last_norm")
    after = keras.Sequential([keras.Input((P,)), keras.layers.Dense(2), last])
    with pytest.raises(varimp.UnsupportedModelError,
                       match=r"'last_norm' \(Normalization\) comes after the last Dense"):
        varimp.connection_weights(after)


@pytest.mark.parametrize("gate", ["tanh", "relu", "linear", "silu"])
def test_lstm_gates_resting_at_zero_are_refused_by_the_weight_methods(gate):
    """Gates that are 0 at rest close the LSTM's linear path (i0 = o0 = 0: every connection
    weight would be 0); the weight methods say so, the data-driven ones still explain it."""
    keras.utils.set_random_seed(10)
    model = keras.Sequential([keras.Input((4, P)),
                              keras.layers.LSTM(3, recurrent_activation=gate, name="mem"),
                              keras.layers.Dense(1)])
    X = np.random.default_rng(10).normal(size=(20, 4, P))
    named = {"linear": "identity"}.get(gate, gate)
    for method in ("connection_weights", "garson"):
        with pytest.raises(varimp.UnsupportedModelError,
                           match=rf"^layer 'mem' \(LSTM, recurrent_activation '{named}'\) has "
                                 r"gates that are 0 at rest: .*the linear path at rest, which is "
                                 r"closed because the gates are 0 at rest .*so every score would "
                                 r"be 0; .*docs/recurrent-weights.md; use a data-driven method"):
            varimp.importance(model, X, method=method)
    assert np.abs(varimp.partial_derivatives(model, X).scores.to_numpy()).sum() > 0


def test_a_gru_whose_gates_rest_at_zero_is_read_with_a_warning():
    """z0 = r0 = 0: h_t = x_t W_n on the linear path at rest, so only the last step reaches
    the output of a GRU returning its last state; the weight methods warn."""
    keras.utils.set_random_seed(11)
    model = keras.Sequential([keras.Input((4, P)),
                              keras.layers.GRU(3, recurrent_activation="tanh", name="mem"),
                              keras.layers.Dense(1, name="out")])
    X = np.random.default_rng(11).normal(size=(20, 4, P))
    with pytest.warns(UserWarning, match=r"layer 'mem' \(GRU, recurrent_activation 'tanh'\) has "
                                         r"gates that are 0 at rest: its recurrent path at rest "
                                         r"is closed .*earlier steps score 0"):
        result = varimp.connection_weights(model, X)
    w_n = model.get_layer("mem").get_weights()[0][:, 6:9].astype(np.float64)
    exact = np.zeros((4, P))
    exact[-1] = (w_n @ model.get_layer("out").get_weights()[0].astype(np.float64))[:, 0]
    np.testing.assert_allclose(result.by_time.to_numpy(), exact, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("act_first", [False, True])
@pytest.mark.parametrize("sizes", [(4, 6, 1), (4, 6, 5, 2)])
def test_layers_are_read_in_the_order_forward_calls_them(sizes, act_first):
    """fc1, fc2, ... registered before (or after) one Tanh module that forward reuses after
    every hidden layer: read in call order, the connection weights are the hand product
    W1 W2 ... of the Linear weights, as for the equivalent nn.Sequential."""
    from nets import CallOrdered

    torch.manual_seed(5)
    model = CallOrdered(sizes, act_first)
    linears = [getattr(model, f"fc{k}") for k in range(1, len(sizes))]
    product = np.linalg.multi_dot([np.eye(sizes[0])] +
                                  [fc.weight.detach().numpy().T for fc in linears])
    result = varimp.connection_weights(model)
    np.testing.assert_allclose(result.details["per_output"].to_numpy(), product, rtol=1e-12)
    chain = [module for fc in linears for module in (fc, nn.Tanh())][:-1]
    sequential = varimp.connection_weights(nn.Sequential(*chain))
    np.testing.assert_allclose(result.scores.to_numpy(), sequential.scores.to_numpy(),
                               rtol=1e-12)
    # garson reads the same chain: compare() skips no weight-based method
    X = np.random.default_rng(0).normal(size=(20, sizes[0]))
    comparison = varimp.compare(model, X, methods=["connection_weights", "garson"])
    assert set(comparison.results) == {"connection_weights", "garson"}


@pytest.mark.parametrize("kind", ["out_first", "unused_aux", "head_first"])
def test_layers_registered_out_of_call_order_are_read_in_call_order_with_x(kind):
    """The output layer, an unused Linear(6, 2) or a head registered before the input layer:
    X of 4 columns is the input of the layer forward calls first, and the connection
    weights are the hand product of the Linear weights in call order."""
    from nets import OutOfOrder

    torch.manual_seed(6)
    model = OutOfOrder(kind)
    product = np.linalg.multi_dot([np.eye(4)] + [fc.weight.detach().numpy().T
                                                 for fc in model.linears()])
    X = np.random.default_rng(6).normal(size=(15, 4))
    result = varimp.connection_weights(model, X)
    np.testing.assert_allclose(result.details["per_output"].to_numpy(), product, rtol=1e-12)


def test_one_activation_held_twice_by_a_sequential_is_read_after_both_layers():
    """nn.Sequential(Linear, act, Linear, act, Linear) with one Tanh instance: read as the
    Sequential runs it, the connection weights are the hand product W1 W2 W3 and Garson's
    shares those of the same chain with two Tanh instances."""
    torch.manual_seed(7)
    act = nn.Tanh()
    model = nn.Sequential(nn.Linear(4, 6), act, nn.Linear(6, 3), act, nn.Linear(3, 1)).double()
    product = np.linalg.multi_dot([model[k].weight.detach().numpy().T for k in (0, 2, 4)])
    X = np.random.default_rng(7).normal(size=(15, 4))
    result = varimp.connection_weights(model, X)
    np.testing.assert_allclose(result.details["per_output"].to_numpy(), product, rtol=1e-12)
    twin = nn.Sequential(model[0], nn.Tanh(), model[2], nn.Tanh(), model[4])
    np.testing.assert_allclose(varimp.garson(model, X).scores.to_numpy(),
                               varimp.garson(twin, X).scores.to_numpy(), rtol=1e-12)
