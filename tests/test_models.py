"""Models as people write them: sequence outputs of any shape, modules that take their input in
either layout, unbuilt or weightless models, and refusals that point at the cause.

References are independent of varimp: autograd through the user's own module, the same network
written another way (a head that keeps its last axis, a batch-first twin, Keras), finite
differences.
"""

import keras
import numpy as np
import pytest
import torch
from torch import nn

import varimp
from varimp.adapters import adapt
from varimp.modules import RecurrentLayer

P, T, N, UNITS = 3, 6, 24, 4
X_SEQ = np.random.default_rng(0).normal(size=(N, T, P))


def torch_grad(model, X, select):
    """d select(model(x)) / dX by autograd through the user's module (batch first)."""
    x = torch.as_tensor(X, dtype=torch.float32).requires_grad_(True)
    (grad,) = torch.autograd.grad(select(model(x)).sum(), x)
    return grad.double().numpy()


# -- 1. a dense head at every step, with or without squeeze(-1) --------------------------------

class StepHead(nn.Module):
    """LSTM (batch first) returning the whole sequence, a Linear head at every step, and
    optionally ``squeeze(-1)``: (n, T) instead of (n, T, 1)."""

    def __init__(self, squeeze, rnn=None, head=None):
        super().__init__()
        torch.manual_seed(1)
        self.rnn = rnn or nn.LSTM(P, UNITS, batch_first=True)
        self.head = head or nn.Linear(UNITS, 1)
        self.squeeze = squeeze

    def forward(self, x):
        out = self.rnn(x)
        out = self.head(out[0] if isinstance(out, tuple) else out)  # nn.LSTM gives (out, state)
        return out.squeeze(-1) if self.squeeze else out


def step_heads():
    kept = StepHead(False)
    return StepHead(True, kept.rnn, kept.head), kept


def test_a_squeezed_step_head_predicts_one_value_per_step():
    squeezed, kept = step_heads()
    pred = adapt(squeezed).predict(X_SEQ)
    assert pred.shape == (N, T, 1)
    with torch.no_grad():
        expected = squeezed(torch.as_tensor(X_SEQ, dtype=torch.float32)).double().numpy()
    np.testing.assert_allclose(pred[:, :, 0], expected, rtol=1e-6)
    np.testing.assert_array_equal(pred, adapt(kept).predict(X_SEQ))


@pytest.mark.parametrize("step", [0, 3, -1, None])
def test_partial_derivatives_of_a_squeezed_step_head_are_those_of_autograd(step):
    squeezed, kept = step_heads()
    result = varimp.partial_derivatives(squeezed, X_SEQ, output_step=step)
    twin = varimp.partial_derivatives(kept, X_SEQ, output_step=step)
    np.testing.assert_allclose(result.scores.to_numpy(), twin.scores.to_numpy(), rtol=1e-6)
    select = (lambda out: out) if step is None else (lambda out: out[:, step])
    grad = torch_grad(squeezed, X_SEQ, select)  # (n, T, p); the score sums squares over rows
    np.testing.assert_allclose(result.scores.to_numpy(), (grad.sum(axis=1) ** 2).sum(axis=0),
                               rtol=1e-4)
    np.testing.assert_allclose(result.by_time.to_numpy(), (grad**2).sum(axis=0), rtol=1e-4,
                               atol=1e-10)


def test_model_agnostic_methods_explain_one_step_of_a_squeezed_head():
    squeezed, kept = step_heads()
    y = adapt(kept).predict(X_SEQ)[:, :, 0] + np.random.default_rng(2).normal(0, 0.1, (N, T))
    for method in ("perturbation", "permutation"):
        a = varimp.importance(squeezed, X_SEQ, y, method=method, output_step=2, random_state=0)
        b = varimp.importance(kept, X_SEQ, y, method=method, output_step=2, random_state=0)
        np.testing.assert_allclose(a.scores.to_numpy(), b.scores.to_numpy(), rtol=1e-6)
        # step 2 cannot depend on later inputs: those cells score exactly zero
        np.testing.assert_array_equal(a.by_time.to_numpy()[3:], 0.0)
    profile = varimp.profile(squeezed, X_SEQ, output_step=2)
    np.testing.assert_allclose(profile.scores.to_numpy(),
                               varimp.profile(kept, X_SEQ, output_step=2).scores.to_numpy(),
                               rtol=1e-6)


def keras_step_head(rnn, head):
    """The same LSTM and head in Keras, the head in TimeDistributed(Dense)."""
    layer = keras.layers.LSTM(UNITS, return_sequences=True)
    dense = keras.layers.Dense(1)
    model = keras.Sequential([keras.Input((T, P)), layer, keras.layers.TimeDistributed(dense)])
    layer.set_weights([rnn.weight_ih_l0.detach().numpy().T, rnn.weight_hh_l0.detach().numpy().T,
                       (rnn.bias_ih_l0 + rnn.bias_hh_l0).detach().numpy()])
    dense.set_weights([head.weight.detach().numpy().T, head.bias.detach().numpy()])
    return model


@pytest.mark.parametrize("method", ["connection_weights", "garson"])
@pytest.mark.parametrize("step", [None, 2])
def test_weight_methods_read_a_torch_step_head_as_keras_time_distributed(method, step):
    """The squeezed torch head, and its Keras twin Reshape((T,)) after the TimeDistributed
    head, read as the TimeDistributed Dense model without Reshape."""
    squeezed, kept = step_heads()
    time_distributed = keras_step_head(kept.rnn, kept.head)
    reshaped = keras.Sequential([keras.Input((T, P)), *time_distributed.layers,
                                 keras.layers.Reshape((T,))])
    reference = varimp.importance(time_distributed, X_SEQ, method=method, output_step=step)
    for model in (squeezed, kept, reshaped):
        result = varimp.importance(model, X_SEQ, method=method, output_step=step)
        np.testing.assert_allclose(result.scores.to_numpy(), reference.scores.to_numpy(),
                                   rtol=1e-5)
        np.testing.assert_allclose(result.by_time.to_numpy(), reference.by_time.to_numpy(),
                                   rtol=1e-5, atol=1e-9)


def test_connection_weights_of_a_linear_rnn_with_a_squeezed_head_are_its_derivatives():
    """For a linear RNN and a linear head the linear path is the model: the connection weight
    of cell (t, j) for predicted step s is d out[:, s] / d x[:, t, j], the same for every row."""
    torch.manual_seed(3)
    rnn = RecurrentLayer("rnn", P, UNITS, activation="identity")
    with torch.no_grad():
        for param in rnn.parameters():
            param.normal_(0, 0.4)
    model = StepHead(True, rnn, nn.Linear(UNITS, 1))
    for step in (1, T - 1):
        result = varimp.connection_weights(model, X_SEQ, output_step=step)
        grad = torch_grad(model, X_SEQ[:1], lambda out, s=step: out[:, s])[0]  # (T, p)
        np.testing.assert_allclose(result.by_time.to_numpy(), grad, rtol=1e-5, atol=1e-7)
        np.testing.assert_allclose(result.scores.to_numpy(), grad.sum(axis=0), rtol=1e-5,
                                   atol=1e-7)


class StepClassifier(nn.Module):
    """A sequence classifier with as many classes as X has steps: (n, T) that is not per step."""

    def __init__(self, fixed_length=False):
        super().__init__()
        torch.manual_seed(4)
        self.fixed_length = fixed_length
        self.rnn = nn.GRU(P, UNITS, batch_first=True)
        self.head = nn.Linear(T * UNITS if fixed_length else UNITS, T)

    def forward(self, x):
        out = self.rnn(x)[0]
        features = out.flatten(1) if self.fixed_length else out[:, -1]
        return torch.softmax(self.head(features), dim=-1)


@pytest.mark.parametrize("fixed_length", [False, True])
def test_a_classifier_with_as_many_classes_as_steps_keeps_its_classes(fixed_length):
    model = StepClassifier(fixed_length)
    pred = adapt(model).predict(X_SEQ)
    assert pred.shape == (N, 1, T)
    np.testing.assert_allclose(pred.sum(axis=-1), 1.0, rtol=1e-6)
    with pytest.raises(varimp.InputError, match=r"must be None or 0: the model predicts one "
                                                r"step .*outputs, chosen with output="):
        varimp.partial_derivatives(model, X_SEQ, output_step=2)
    grad = torch_grad(model, X_SEQ, lambda out: out[:, 2])
    result = varimp.partial_derivatives(model, X_SEQ, output=2)
    np.testing.assert_allclose(result.scores.to_numpy(), (grad.sum(axis=1) ** 2).sum(axis=0),
                               rtol=1e-4)


def test_a_fixed_length_keras_model_that_reshapes_its_step_head_is_read_per_step():
    """Keras accepts T steps only here (Reshape((T,))): the causal rule decides."""
    inner = keras_step_head(*step_heads()[1].children())
    model = keras.Sequential([keras.Input((T, P))] + inner.layers + [keras.layers.Reshape((T,))])
    pred = adapt(model).predict(X_SEQ)
    assert pred.shape == (N, T, 1)
    np.testing.assert_allclose(pred, adapt(inner).predict(X_SEQ), rtol=1e-6)
    a = varimp.partial_derivatives(model, X_SEQ, output_step=4)
    b = varimp.partial_derivatives(inner, X_SEQ, output_step=4)
    np.testing.assert_allclose(a.scores.to_numpy(), b.scores.to_numpy(), rtol=1e-6)


def test_a_callable_returning_one_value_per_step():
    def running_sum(X):  # (n, T): the running sum of the first feature
        return np.cumsum(X[..., 0], axis=1)

    pred = adapt(running_sum).predict(X_SEQ)
    np.testing.assert_allclose(pred[:, :, 0], np.cumsum(X_SEQ[..., 0], axis=1))
    result = varimp.partial_derivatives(running_sum, X_SEQ, output_step=2)
    # d out[:, 2] / d x[:, t, 0] = 1 for t <= 2, else 0: squares sum to N per cell
    expected = np.zeros((T, P))
    expected[:3, 0] = N
    np.testing.assert_allclose(result.by_time.to_numpy(), expected, atol=1e-6)


# -- 3. the layout forward takes ----------------------------------------------------------------

class TransposesInside(nn.Module):
    """A batch_first=False LSTM whose forward takes (n, T, p) and transposes it itself."""

    def __init__(self, rnn, head, last_step=True):
        super().__init__()
        self.rnn, self.head, self.last_step = rnn, head, last_step

    def forward(self, x):
        out = self.rnn(x.transpose(0, 1))[0]  # (T, n, units)
        return self.head(out[-1]) if self.last_step else self.head(out).transpose(0, 1)


class TimeMajor(nn.Module):
    """PyTorch's own layout: forward takes (T, n, p) and returns (T, n, k) or (n, k)."""

    def __init__(self, rnn, head, last_step=True):
        super().__init__()
        self.rnn, self.head, self.last_step = rnn, head, last_step

    def forward(self, x):
        out = self.rnn(x)[0]
        return self.head(out[-1]) if self.last_step else self.head(out)


class BatchFirst(nn.Module):
    def __init__(self, rnn, head, last_step=True):
        super().__init__()
        self.rnn, self.head, self.last_step = rnn, head, last_step

    def forward(self, x):
        out = self.rnn(x)[0]
        return self.head(out[:, -1]) if self.last_step else self.head(out)


def layouts(last_step):
    torch.manual_seed(5)
    rnn, head = nn.LSTM(P, UNITS), nn.Linear(UNITS, 2)
    twin = nn.LSTM(P, UNITS, batch_first=True)
    twin.load_state_dict(rnn.state_dict())
    return (BatchFirst(twin, head, last_step), TransposesInside(rnn, head, last_step),
            TimeMajor(rnn, head, last_step))


@pytest.mark.parametrize("last_step", [True, False])
def test_modules_in_either_layout_give_the_batch_first_answer(last_step):
    reference, *others = layouts(last_step)
    X = X_SEQ[:5]  # fewer sequences than steps: a layout read backwards would show
    expected = {
        "predict": adapt(reference).predict(X_SEQ),
        "gradient": adapt(reference).gradient(X_SEQ, 1, None if last_step else 3),
    }
    for model in others:
        state = {k: v.clone() for k, v in model.state_dict().items()}
        rng = torch.get_rng_state()
        model.train()
        adapter = adapt(model)
        np.testing.assert_allclose(adapter.predict(X_SEQ), expected["predict"], rtol=1e-6)
        np.testing.assert_allclose(adapter.predict(X), expected["predict"][:5], rtol=1e-6)
        np.testing.assert_allclose(adapter.gradient(X_SEQ, 1, None if last_step else 3),
                                   expected["gradient"], rtol=1e-5, atol=1e-8)
        for method in ("connection_weights", "garson", "partial_derivatives", "perturbation"):
            a = varimp.importance(model, X_SEQ, method=method, random_state=0)
            b = varimp.importance(reference, X_SEQ, method=method, random_state=0)
            np.testing.assert_allclose(a.scores.to_numpy(), b.scores.to_numpy(), rtol=1e-5)
        # the probes left everything as it was
        assert model.training and all(m.training for m in model.modules())
        assert all(torch.equal(v, state[k]) for k, v in model.state_dict().items())
        assert torch.equal(torch.get_rng_state(), rng)


def test_connection_weights_of_a_transposing_module_are_the_linear_path():
    _, model, _ = layouts(True)
    network = adapt(model).network()
    with torch.no_grad():
        expected = model(torch.as_tensor(X_SEQ, dtype=torch.float32)).double().numpy()
    np.testing.assert_allclose(network.forward(X_SEQ), expected, rtol=1e-5, atol=1e-6)


# -- 4. models without weights ------------------------------------------------------------------

class Subclassed(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = keras.layers.Dense(1)

    def call(self, x):
        return self.dense(x)


@pytest.mark.parametrize("build", [lambda: keras.Sequential([keras.layers.Dense(2)]),
                                   Subclassed])
@pytest.mark.parametrize("method", ["partial_derivatives", "connection_weights", "perturbation"])
def test_an_unbuilt_keras_model_is_refused_and_stays_unbuilt(build, method):
    model = build()
    with pytest.raises(varimp.UnsupportedModelError, match=r"is not built: .*Build it or call "
                                                           r"it once"):
        varimp.importance(model, np.ones((5, P)), method=method)
    assert not model.built and not model.weights


@pytest.mark.parametrize("method", ["partial_derivatives", "connection_weights", "garson",
                                    "perturbation"])
def test_tensors_on_the_meta_device_are_refused(method):
    with pytest.raises(varimp.InputError, match=r"X is a tensor on the meta device, which has a "
                                                r"shape \(5, 3\) but no values"):
        varimp.importance(nn.Linear(P, 1), torch.ones(5, P, device="meta"), method=method)
    model = nn.Sequential(nn.Linear(P, 2, device="meta"), nn.Tanh(), nn.Linear(2, 1))
    with pytest.raises(varimp.UnsupportedModelError, match=r"Sequential holds tensors on the "
                                                           r"meta device.*\(0.weight, 0.bias\)"):
        varimp.importance(model, np.ones((5, P)), method=method)


# -- 5. messages that point at the cause -------------------------------------------------------

class FunctionalSoftmax(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden, self.out = nn.Linear(P, 5), nn.Linear(5, 3)

    def forward(self, x):
        return torch.softmax(self.out(torch.relu(self.hidden(x))), dim=-1)


class Pooled(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn, self.head = nn.GRU(P, UNITS, batch_first=True), nn.Linear(UNITS, 1)

    def forward(self, x):
        return self.head(self.rnn(x)[0].mean(dim=1))


class LstmMean(nn.Module):
    """An LSTM whose outputs are averaged over time (``o.mean(1)``) before the head."""

    def __init__(self):
        super().__init__()
        self.rnn, self.head = nn.LSTM(P, UNITS, batch_first=True), nn.Linear(UNITS, 1)

    def forward(self, x):
        o, _ = self.rnn(x)
        return self.head(o.mean(1))


class Scaled(nn.Module):
    """A hidden layer's output multiplied by 2.0 in forward, an operation that is no module."""

    def __init__(self):
        super().__init__()
        self.hidden, self.act, self.out = nn.Linear(P, 5), nn.Tanh(), nn.Linear(5, 1)

    def forward(self, x):
        return self.out(self.act(self.hidden(x)) * 2.0)


class ScaledWhenFinite(Scaled):
    """Scaled, with control flow on values: torch.fx cannot trace it."""

    def forward(self, x):
        h = self.act(self.hidden(x))
        return self.out(h * 2.0 if bool(torch.isfinite(h).all()) else h)


class Sliced(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden, self.out = nn.Linear(P, 5), nn.Linear(5, 3)

    def forward(self, x):
        return self.out(self.hidden(x))[:, :2]


REFUSALS = [
    (FunctionalSoftmax, (N, P), r"its forward applies relu after layer 'hidden' Linear\(3, 5\) "
     r"and softmax after layer 'out' Linear\(5, 3\) as functions .*apply it as a module "
     r"\(nn.ReLU\(\), nn.Softmax\(dim=-1\)\).* Layers read \(2\): 'hidden' Linear\(3, 5\) -> "
     r"'out' Linear\(5, 3\)$"),
    (Pooled, (N, T, P), r"its forward takes the mean over time steps of the last recurrent "
     r"layer's outputs .* Layers read \(2\): 'rnn' GRU\[layer 0\] -> 'head' Linear\(4, 1\)$"),
    (LstmMean, (N, T, P), r"its forward takes the mean over time steps of the last recurrent "
     r"layer's outputs .* Layers read \(2\): 'rnn' LSTM\[layer 0\] -> 'head' Linear\(4, 1\)$"),
    (Scaled, (N, P), r"do not reproduce its predictions; its forward applies mul\(act\(\.\.\.\), "
     r"2\.0\) outside its modules.* Layers read \(2\): 'hidden' Linear\(3, 5\) \+ tanh -> "
     r"'out' Linear\(5, 1\)$"),
    (ScaledWhenFinite, (N, P), r"its forward does something the layers do not show, most "
     r"likely an operation between layers that is no module \(x \* 2.0, a mean over time, "
     r"torch.cat\), else a skip connection"),
    (Sliced, (N, P), r"predicts \(steps, outputs\) = \(1, 2\) per sample where the layers give "
     r"\(1, 3\): its forward reshapes, slices"),
    (lambda: keras.Sequential([keras.Input((P,)), keras.layers.Dense(4, activation="tanh"),
                               keras.layers.LayerNormalization(), keras.layers.Dense(1)]),
     (N, P), r"\(LayerNormalization\) cannot be read .*\. Layers of the model: dense.* "
     r"\(Dense\) -> layer_normalization.* \(LayerNormalization\) -> "
     r"dense.* \(Dense\)\. The methods that read the model's predictions \(partial_derivatives, "
     r"perturbation, profile, permutation, improved_stepwise_1/2\) still explain it$"),
]


@pytest.mark.parametrize("build,shape,message", REFUSALS)
def test_the_weight_reader_names_what_it_could_not_follow(build, shape, message):
    X = np.random.default_rng(6).normal(size=shape)
    with pytest.raises(varimp.UnsupportedModelError, match=message):
        varimp.connection_weights(build(), X)


def test_two_dimensional_x_for_a_sequence_model_is_reported_before_the_length_of_y():
    model = BatchFirst(nn.LSTM(P, UNITS, batch_first=True), nn.Linear(UNITS, 1))
    X = np.ones((N, P))
    for method in ("permutation", "perturbation", "improved_stepwise_1"):
        with pytest.raises(varimp.InputError, match=r"reads sequences \(n, time steps, "
                                                    r"features\); received X of shape \(24, 3\)"):
            varimp.importance(model, X, np.ones(N - 4), method=method)


# -- 6. sequence models whose first layer is a Linear, with no recurrent layer -----------------

class Encoder(nn.Module):
    """A transformer-encoder classifier: an input projection (nn.Linear on the last axis of
    (n, T, p)), one encoder layer, a mean over the steps, a softmax over two classes."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(40)
        self.inp = nn.Linear(P, 8)
        layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.1, batch_first=True)
        self.enc = nn.TransformerEncoder(layer, 1, enable_nested_tensor=False)
        self.out, self.softmax = nn.Linear(8, 2), nn.Softmax(dim=-1)

    def forward(self, x):
        return self.softmax(self.out(self.enc(self.inp(x)).mean(1)))


class AttentionPool(nn.Module):
    """Linear layers only, with attention weights over the steps computed in forward."""

    def __init__(self):
        super().__init__()
        torch.manual_seed(41)
        self.emb, self.att, self.out = nn.Linear(P, 5), nn.Linear(5, 1), nn.Linear(5, 1)

    def forward(self, x):
        h = torch.tanh(self.emb(x))
        return self.out((torch.softmax(self.att(h), dim=1) * h).sum(1))


@pytest.mark.parametrize("build", [Encoder, AttentionPool])
def test_a_sequence_model_whose_first_layer_is_linear_reads_sequences(build):
    """nn.Linear acts on the last axis: these modules read (n, T, p). Every method gives the
    scores (and by_time) of the same module called as a numpy function."""
    model = build().double().eval()
    X = np.random.default_rng(40).normal(size=(N, T, P))

    def function(A):
        with torch.no_grad():
            return model(torch.as_tensor(A)).numpy()

    probability = build is Encoder
    y = (X[:, -2:, 0].sum(1) > 0).astype(int) if probability else X[:, -1, 0]
    kind = {"output_kind": "probability"} if probability else {}
    for method in ("permutation", "perturbation", "partial_derivatives"):
        target = y if method == "permutation" else None
        got = varimp.importance(model, X, target, method=method, random_state=0)
        expected = varimp.importance(function, X, target, method=method, random_state=0,
                                     **kind)
        assert got.by_time is not None and got.by_time.shape == (T, P)
        rtol = 1e-5 if method == "partial_derivatives" else 1e-9  # autograd vs differences
        np.testing.assert_allclose(got.scores.to_numpy(), expected.scores.to_numpy(),
                                   rtol=rtol, err_msg=method)
        np.testing.assert_allclose(got.by_time.to_numpy(), expected.by_time.to_numpy(),
                                   rtol=rtol, atol=1e-9, err_msg=method)
    with pytest.raises(varimp.InputError, match=r"the model expects input of shape "
                                                r"\(n, T, 3\); received X of shape \(24, 6, 2\)"):
        varimp.perturbation(model, X[:, :, :2], random_state=0)


def test_a_chain_of_linear_layers_still_reads_a_table():
    """A plain MLP, Sequential or with its activation in forward, treats each step of a 3-D X
    as a row: refused as a table model, as before, saying how to pass the steps as rows."""
    for model in (nn.Sequential(nn.Linear(P, 4), nn.Tanh(), nn.Linear(4, 1)),
                  FunctionalSoftmax()):
        with pytest.raises(varimp.InputError, match=r"this model reads a table \(n, features\); "
                                                    r"received X of shape \(24, 6, 3\)\. .*"
                                                    r"pass the steps as rows, "
                                                    r"X\.reshape\(-1, 3\)"):
            varimp.perturbation(model, X_SEQ, random_state=0)


class AttentionWithWeights(AttentionPool):
    """An attention model that also returns its attention weights, as many do."""

    def forward(self, x):
        h = torch.tanh(self.emb(x))
        weights = torch.softmax(self.att(h), dim=1)
        return self.out((weights * h).sum(1)), weights


def test_a_linear_first_model_that_fails_on_sequences_reports_its_own_error():
    """The probe that tells a sequence model from a row model does not hide the model's own
    failure: a forward returning (output, attention weights) gets the message about tuples,
    not 'reads a table'."""
    with pytest.raises(varimp.ModelError, match=r"tuple"):
        varimp.perturbation(AttentionWithWeights().double(), X_SEQ, random_state=0)
