"""The default ``fit`` of the retraining methods (``varimp.refit.resolve_fit``) and the trainers'
early stopping: a scikit-learn model is its clone, seeded; a readable PyTorch or Keras network is
rebuilt with the same architecture and fresh weights; anything else asks for ``fit=``."""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pytest
import reliability_models as rm
import torch
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn

import varimp
from varimp import InputError
from varimp.adapters import adapt
from varimp.network import Dense, Recurrent
from varimp.refit import (
    MLP_TRAINING,
    RECURRENT_TRAINING,
    SEED_GLOBAL,
    SEED_PASSED,
    SklearnRefit,
    resolve_fit,
)


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    with rm.one_torch_thread():
        yield


X_TAB, Y_TAB = rm.tabular(40)
X_SEQ, Y_SEQ = rm.sequences(16)


def _state(model: nn.Module) -> dict:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _layout(model: object) -> list[tuple]:
    """Every layer's kind, shapes and activations as varimp reads them (weights left out)."""
    rows = []
    for layer in adapt(model).network().layers:
        if isinstance(layer, Dense):
            rows.append(("dense", layer.n_in, layer.n_out, layer.activation))
        elif isinstance(layer, Recurrent):
            rows.append((layer.cell, layer.n_in, layer.n_out, layer.activation,
                         layer.recurrent_activation, layer.return_sequences))
    return rows


def _weights(model: object) -> np.ndarray:
    parts = []
    for layer in adapt(model).network().layers:
        if isinstance(layer, Dense):
            parts.append(layer.weight.ravel())
        elif isinstance(layer, Recurrent):
            parts += [w.ravel() for w in layer.w_input.values()]
    return np.concatenate(parts)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_sklearn_refit_is_the_seeded_clone():
    model = MLPRegressor(hidden_layer_sizes=(5,), max_iter=40, random_state=1).fit(X_TAB, Y_TAB)
    before = model.predict(X_TAB)
    fit, description = resolve_fit(model, None, X_TAB, Y_TAB)
    refit = fit(X_TAB[:30], Y_TAB[:30], random_state=123)
    reference = clone(model).set_params(random_state=123).fit(X_TAB[:30], Y_TAB[:30])
    np.testing.assert_array_equal(refit.predict(X_TAB), reference.predict(X_TAB))
    assert refit is not model and np.array_equal(model.predict(X_TAB), before)
    assert description["how"] == "clone" and description["seeded"] == ["random_state"]
    assert description["params"]["hidden_layer_sizes"] == (5,)
    other = fit(X_TAB[:30], Y_TAB[:30], random_state=124)
    assert not np.array_equal(other.predict(X_TAB), refit.predict(X_TAB))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_every_seeded_step_of_a_pipeline_gets_the_seed():
    pipe = make_pipeline(StandardScaler(), MLPRegressor(hidden_layer_sizes=(4,), max_iter=30,
                                                     random_state=0))
    pipe.fit(X_TAB, Y_TAB)
    fit, description = resolve_fit(pipe, None, X_TAB, Y_TAB)
    assert description["seeded"] == ["mlpregressor__random_state"]
    reference = clone(pipe).set_params(mlpregressor__random_state=9).fit(X_TAB, Y_TAB)
    np.testing.assert_array_equal(fit(X_TAB, Y_TAB, random_state=9).predict(X_TAB),
                                  reference.predict(X_TAB))


def test_torch_mlp_rebuilt_same_architecture_fresh_weights_model_untouched():
    model = rm.torch_mlp(dropout=0.0)
    model.train()
    state = _state(model)
    fit, description = resolve_fit(model, None, X_TAB, Y_TAB)
    refit = fit(X_TAB, Y_TAB, random_state=5)
    assert _layout(refit) == _layout(model) == [("dense", rm.P, rm.HIDDEN, "tanh"),
                                                 ("dense", rm.HIDDEN, 1, "identity")]
    assert not np.allclose(_weights(refit), _weights(model))  # fresh weights
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())
    assert model.training and refit is not model
    assert description["trainer"] == "varimp.train_mlp"
    assert description["params"] == {"hidden": (rm.HIDDEN,), "activation": "tanh",
                                     "task": "regression", **MLP_TRAINING}
    # the rebuilt network is varimp.train_mlp with the recorded hyper-parameters
    reference = varimp.train_mlp(X_TAB, Y_TAB, **description["params"], random_state=5)
    np.testing.assert_array_equal(_weights(refit), _weights(reference))
    assert not np.array_equal(_weights(fit(X_TAB, Y_TAB, random_state=6)), _weights(refit))


@pytest.mark.filterwarnings("ignore:the networks varimp retrains:UserWarning")  # dropout
@pytest.mark.parametrize("build", [rm.torch_lstm, rm.torch_gru, rm.keras_lstm],
                         ids=["torch-lstm", "torch-gru", "keras-lstm"])
def test_recurrent_networks_rebuilt_with_their_architecture(build):
    model = build()
    fit, description = resolve_fit(model, None, X_SEQ, Y_SEQ)
    refit = fit(X_SEQ, Y_SEQ, random_state=0)
    assert isinstance(refit, nn.Module) and not hasattr(refit, "get_weights")  # a torch twin
    assert _layout(refit) == _layout(model)
    assert description["trainer"] == "varimp.train_recurrent"
    assert description["params"]["units"] == (rm.HIDDEN,) and description["params"]["head"]
    assert {k: description["params"][k] for k in RECURRENT_TRAINING} == RECURRENT_TRAINING


def test_a_logits_classifier_is_rebuilt_to_return_logits():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    labels = np.array(["a", "b", "c"])[np.argmax(X, axis=1)]
    model = nn.Sequential(nn.Linear(3, 6), nn.ReLU(), nn.Linear(6, 3))
    adapter = adapt(model).configure(output_kind="logits", classes=["a", "b", "c"])
    fit, description = resolve_fit(adapter, None, X, labels)
    refit = fit(X, labels, random_state=0)
    assert description["params"]["task"] == "multiclass"
    assert not isinstance(list(refit)[-1], nn.Softmax) and refit.varimp_output_kind == "logits"
    logits = refit(torch.as_tensor(X, dtype=torch.float32)).detach().numpy()
    assert np.mean(np.array(["a", "b", "c"])[logits.argmax(axis=1)] == labels) > 0.8


class _Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(rm.P, rm.P)

    def forward(self, x):
        return (x + self.linear(x)).sum(dim=1)


@pytest.mark.parametrize("model", [_Residual(), nn.Sequential(nn.Linear(rm.P, 4), nn.LayerNorm(4),
                                                 nn.Linear(4, 1)),
                                   rm.plain_callable()], ids=["residual", "layernorm", "callable"])
def test_a_model_varimp_cannot_rebuild_asks_for_fit(model):
    with pytest.raises(InputError, match="pass fit="):
        resolve_fit(model, None, X_TAB, Y_TAB)
    with pytest.raises(InputError, match="pass fit="):
        varimp.backward_stepwise(model, X_TAB, Y_TAB)


def test_a_given_fit_is_used_as_it_is_and_a_non_callable_refused():
    fit = functools.partial(varimp.train_mlp, hidden=(3,))
    used, description = resolve_fit(rm.plain_callable(), fit, X_TAB, Y_TAB)
    assert used is fit and description == {"how": "given", "fit": "train_mlp",
                                            "seeding": SEED_PASSED}
    with pytest.raises(InputError, match="fit must be a callable"):
        resolve_fit(rm.torch_mlp(), "adam", X_TAB, Y_TAB)


def test_a_method_of_the_given_model_is_refused_as_fit():
    """fit=model.fit (also of a Pipeline, one of its steps, or wrapped in a partial) would
    retrain the user's model in place: refused before any fit, saying why and what to pass;
    the model is unchanged. Another estimator's method is accepted."""
    import pickle

    X, y = X_TAB, Y_TAB.ravel()
    model = MLPRegressor(hidden_layer_sizes=(3,), max_iter=50, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
        pipeline = make_pipeline(StandardScaler(), clone(model)).fit(X, y)
    blobs = pickle.dumps(model), pickle.dumps(pipeline)
    for given, fit, name in ((model, model.fit, "MLPRegressor.fit"),
                             (model, functools.partial(model.fit), "MLPRegressor.fit"),
                             (model, model.partial_fit, "MLPRegressor.partial_fit"),
                             (pipeline, pipeline.fit, "Pipeline.fit"),
                             (pipeline, pipeline[-1].fit, "MLPRegressor.fit"),
                             (pipeline, pipeline[0].fit_transform,
                              "StandardScaler.fit_transform")):
        with pytest.raises(InputError, match=(
                rf"fit={name} is a method of the given model: each of the many fits would "
                r"train your model itself, in place.*Pass fit=None.*or a function returning "
                r"sklearn.base.clone\(model\).fit\(X, y\)")):
            resolve_fit(given, fit, X, y)
    with pytest.raises(InputError, match="fit=MLPRegressor.fit is a method of the given"):
        varimp.randomization_test(model, X, y, method="permutation", fit=model.fit,
                                  n_permutations=3, random_state=0, progress=False)
    assert (pickle.dumps(model), pickle.dumps(pipeline)) == blobs
    other = clone(model)
    assert resolve_fit(model, other.fit, X, y)[0] == other.fit


class _SelfTrainingNet(nn.Module):
    """A user's PyTorch network with two methods: ``trained_copy`` builds and trains a new
    network, ``fit`` trains this one in place."""

    def __init__(self, p: int = 3):
        super().__init__()
        self.p = p
        self.body = nn.Linear(p, 1)

    def forward(self, x):
        return self.body(x)

    def trained_copy(self, X, y, random_state=None):
        net = _SelfTrainingNet(self.p)
        return net.fit(X, y, random_state)

    def fit(self, X, y, random_state=None):
        torch.manual_seed(0 if random_state is None else random_state)
        self.body.reset_parameters()
        optimizer = torch.optim.Adam(self.parameters(), 0.05)
        Xt, yt = torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(y, dtype=torch.float32)
        for _ in range(20):
            optimizer.zero_grad()
            ((self(Xt) - yt.reshape(-1, 1)) ** 2).mean().backward()
            optimizer.step()
        return self.eval()


def test_another_method_of_the_model_that_builds_a_new_network_is_accepted():
    """Only the methods that train their object in place (fit, partial_fit, fit_transform)
    are refused: a torch network's own ``trained_copy``, which builds and trains a new one,
    is used as it is and gives the scores of the same function wrapped in a lambda; the
    network's own ``fit`` (training itself) is refused; the network is unchanged."""
    X = X_TAB.astype(np.float32)
    y = (X[:, 0] + 0.5 * X[:, 1]).astype(np.float32)
    model = _SelfTrainingNet(X.shape[1]).trained_copy(X, y, 1)
    before = {name: tensor.clone() for name, tensor in model.state_dict().items()}
    used, description = resolve_fit(model, model.trained_copy, X, y)
    assert used == model.trained_copy and description["seeding"] == SEED_PASSED
    options = {"random_state": 0, "progress": False}
    direct = varimp.backward_stepwise(model, X, y, fit=model.trained_copy, **options)
    wrapped = varimp.backward_stepwise(
        model, X, y, fit=lambda X, y, random_state=None: model.trained_copy(X, y, random_state),
        **options)
    np.testing.assert_array_equal(direct.scores.to_numpy(), wrapped.scores.to_numpy())
    with pytest.raises(InputError, match="fit=_SelfTrainingNet.fit is a method of the given "
                                         "model.*a function that builds and trains a new model"):
        resolve_fit(model, model.fit, X, y)
    assert all(torch.equal(before[name], tensor) for name, tensor in model.state_dict().items())


# -- early stopping ------------------------------------------------------------------------------
def test_early_stopping_stops_and_keeps_the_best_epoch():
    """With a validation split, training stops once the held-out loss has not improved for
    ``patience`` epochs: allowing more epochs then changes nothing, bit for bit."""
    options = {"hidden": (6,), "validation_fraction": 0.25, "patience": 3, "random_state": 2}
    stopped = varimp.train_mlp(X_TAB, Y_TAB, epochs=400, **options)
    np.testing.assert_array_equal(_weights(stopped),
                                  _weights(varimp.train_mlp(X_TAB, Y_TAB, epochs=300, **options)))
    full = varimp.train_mlp(X_TAB, Y_TAB, hidden=(6,), epochs=300, random_state=2)
    assert not np.allclose(_weights(stopped), _weights(full))
    with pytest.raises(InputError, match="validation_fraction"):
        varimp.train_mlp(X_TAB, Y_TAB, validation_fraction=1.0)
    with pytest.raises(InputError, match="patience"):
        varimp.train_recurrent(X_SEQ, Y_SEQ, validation_fraction=0.2, patience=0, loss="mse",
                               units=(2, 1), activations="tanh")


def test_a_constant_column_trains_like_a_missing_one():
    """A column held at its mean (std of rounding noise, not 0) must not blow up the
    standardisation: the fit equals one on data whose column is exactly 0 after centring."""
    X = X_TAB.copy()
    X[:, 1] = X_TAB[:, 1].mean()
    assert 0 < X[:, 1].std() < 1e-12 or X[:, 1].std() == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = varimp.train_mlp(X, Y_TAB, hidden=(4,), epochs=20, random_state=0)
    assert np.abs(_weights(model)).max() < 100


# -- what a rebuild leaves out, and how fits are seeded -----------------------------------------
def _resolve_recording(model, X, y):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _, description = resolve_fit(model, None, X, y)
    return description, [w for w in caught if issubclass(w.category, UserWarning)
                         and "varimp retrains" in str(w.message)]


def test_what_a_rebuilt_torch_network_leaves_out_is_recorded_and_warned():
    model = nn.Sequential(nn.Linear(rm.P, 6, bias=False), nn.Dropout(0.3), nn.Tanh(),
                          nn.Linear(6, 1))
    description, warned = _resolve_recording(model, X_TAB, Y_TAB)
    expected = ["layer '0' has no bias: rebuilt with one", "Dropout(p=0.3) at layer '1': dropped"]
    assert description["not_carried"] == expected
    assert len(warned) == 1
    message = str(warned[0].message)
    assert all(item in message for item in expected) and "Pass fit= to reproduce" in message
    plain, warned = _resolve_recording(rm.torch_mlp(dropout=0.0), X_TAB, Y_TAB)
    assert plain["not_carried"] == [] and warned == []


@pytest.mark.parametrize("dtype", [torch.float64, torch.bfloat16])
def test_the_precision_a_rebuilt_network_loses_is_recorded(dtype):
    model = nn.Sequential(nn.Linear(rm.P, 4), nn.Tanh(), nn.Linear(4, 1)).to(dtype)
    description, warned = _resolve_recording(model, X_TAB, Y_TAB)
    name = str(dtype).removeprefix("torch.")
    assert description["not_carried"] == [
        f"the model computes in {name}: rebuilt and trained in float32"]
    assert len(warned) == 1 and name in str(warned[0].message)


def test_what_a_rebuilt_keras_network_leaves_out_is_recorded_and_warned():
    import keras

    model = keras.Sequential([
        keras.Input((X_SEQ.shape[1], rm.P)),
        keras.layers.GRU(4, dropout=0.2, recurrent_dropout=0.3, name="gru",
                         kernel_regularizer=keras.regularizers.l2(0.1)),
        keras.layers.Dropout(0.1, name="drop"),
        keras.layers.Dense(1, use_bias=False, kernel_constraint=keras.constraints.NonNeg(),
                           name="out")])
    description, warned = _resolve_recording(model, X_SEQ, Y_SEQ)
    assert description["not_carried"] == [
        "dropout=0.2 at layer 'gru': dropped", "recurrent_dropout=0.3 at layer 'gru': dropped",
        "kernel_regularizer=L2(l2=0.1) at layer 'gru': dropped",
        "Dropout(0.1) at layer 'drop': dropped", "kernel_constraint=NonNeg() at layer 'out': "
        "dropped", "layer 'out' has no bias: rebuilt with one"]
    assert len(warned) == 1 and "varimp.train_recurrent" in str(warned[0].message)


def _seeded(X, y, random_state=None):
    return varimp.train_mlp(X, y, hidden=(2,), epochs=1, random_state=random_state)


def _unseeded(X, y):
    return varimp.train_mlp(X, y, hidden=(2,), epochs=1)


class _NoisyMean(RegressorMixin, BaseEstimator):
    """An estimator without random_state that draws from NumPy's global generator."""

    def fit(self, X, y):
        self.offset_ = float(np.mean(y) + np.random.normal())  # noqa: NPY002
        return self

    def predict(self, X):
        return np.full(len(X), self.offset_)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_the_description_says_how_each_fit_is_seeded():
    assert resolve_fit(None, _seeded, X_TAB, Y_TAB)[1]["seeding"] == SEED_PASSED
    assert resolve_fit(None, _unseeded, X_TAB, Y_TAB)[1]["seeding"] == SEED_GLOBAL
    mlp = MLPRegressor(hidden_layer_sizes=(2,), max_iter=5, random_state=0).fit(X_TAB, Y_TAB)
    assert resolve_fit(mlp, None, X_TAB, Y_TAB)[1]["seeding"] == SEED_PASSED
    rebuilt, description = resolve_fit(rm.torch_mlp(dropout=0.0), None, X_TAB, Y_TAB)
    assert description["seeding"] == SEED_PASSED
    # varimp's rebuild passed back as fit (as the command line does) is still a rebuild
    assert resolve_fit(rm.torch_mlp(dropout=0.0), rebuilt, X_TAB, Y_TAB)[1] == description


def test_an_estimator_without_random_state_is_fitted_with_the_global_generators_seeded():
    state = np.random.get_state()  # noqa: NPY002
    refit = SklearnRefit(_NoisyMean(), ())
    fitted = refit(X_TAB, Y_TAB, random_state=2**32 + 7)  # taken modulo 2**32, as every seed
    assert fitted.offset_ == np.mean(Y_TAB) + np.random.RandomState(7).normal()
    after = np.random.get_state()  # noqa: NPY002
    assert np.array_equal(after[1], state[1]) and after[2] == state[2]


def test_a_keras_normalization_before_a_recurrent_or_dense_layer_is_rebuilt_standardizing():
    """A Normalization layer is read into the first weights; the rebuilt network has none, and
    varimp's trainers standardize its inputs themselves (train_mlp by default,
    train_recurrent with standardize=True), so both rebuilds are accepted and train that way."""
    import keras

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 4, 3)) * np.array([1.0, 100.0, 0.01])
    y = X[:, -1, 0] + X[:, -1, 1] / 100.0
    norm = keras.layers.Normalization(axis=-1)
    norm.adapt(X.reshape(-1, 3))
    recurrent = keras.Sequential([keras.Input((4, 3)), norm, keras.layers.LSTM(4),
                                  keras.layers.Dense(1)])
    flat = X[:, -1]
    dense_norm = keras.layers.Normalization(axis=-1)
    dense_norm.adapt(flat)
    dense = keras.Sequential([keras.Input((3,)), dense_norm, keras.layers.Dense(4, "tanh"),
                              keras.layers.Dense(1)])
    for model, data in ((recurrent, X), (dense, flat)):
        assert varimp.refit.refit_refusal(model, data, y) is None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # what a rebuild leaves out
            _, description = resolve_fit(model, None, data, y)
        assert description["how"] == "rebuilt" and description["params"]["standardize"] is True


@pytest.mark.parametrize(("last", "kind", "labels", "multilabel"), [
    (nn.Sigmoid(), None, "multi-hot", True),  # several sigmoid units: independent labels
    (nn.Softmax(dim=1), None, "one-hot", False),  # one softmax: the classes of one classifier
    (nn.Identity(), "logits", "multi-hot", True),  # logits do not say: a multi-hot y decides
    (nn.Identity(), "logits", "classes", False),
])
def test_a_rebuilt_classifier_reads_its_labels_as_the_methods_do(last, kind, labels, multilabel):
    """The rebuild decides multi-label as :func:`varimp.scoring.multilabel_outputs` and
    :func:`varimp.scoring.read_targets` do for the methods: from the last layer, and for
    logits from whether ``y`` is multi-hot (rows of other than exactly one 1)."""
    from varimp.scoring import multilabel_outputs, read_targets

    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    hot = (X > 0).astype(float)  # rows with no, one, two or three labels
    y = {"multi-hot": hot, "one-hot": np.eye(3)[np.argmax(X, axis=1)],
         "classes": np.argmax(X, axis=1)}[labels]
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 3), last)
    adapter = adapt(model).configure(output_kind=kind)
    fit, _ = resolve_fit(adapter, None, X, y)
    assert fit.multilabel is multilabel
    pred = adapter.predict(X)  # the methods' reading, on every row
    read = multilabel_outputs(adapter, pred)
    if read is None:
        read = read_targets(y, pred.shape, adapter.output_kind, adapter.classes,
                            multilabel=None).multilabel
    assert read is multilabel


def test_a_pipeline_selecting_columns_by_name_is_refitted_on_its_columns():
    """A ColumnTransformer that picks columns by name fits only on a DataFrame: the refit gives
    varimp's arrays back their names, so the refitted pipeline equals a clone fitted on the
    user's DataFrame with the same seed; and an ensemble of it runs."""
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(60, 3)), columns=["a", "b", "c"])
    y = 2 * frame["a"].to_numpy() + frame["b"].to_numpy()
    columns = ColumnTransformer([("scaled", StandardScaler(), ["a", "b"])],
                                remainder="passthrough")
    pipeline = make_pipeline(columns, MLPRegressor(hidden_layer_sizes=(4,), max_iter=50,
                                                   random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipeline.fit(frame, y)
        fit, description = resolve_fit(pipeline, None, frame.to_numpy(), y)
        refitted = fit(frame.to_numpy(), y, random_state=7)
        by_hand = clone(pipeline).set_params(mlpregressor__random_state=7).fit(frame, y)
        result = varimp.ensemble(pipeline, frame, y, method="permutation", n_models=2,
                                 random_state=0, progress=False)
    assert description["how"] == "clone"
    np.testing.assert_array_equal(refitted.predict(frame), by_hand.predict(frame))
    assert list(result.scores.index) == ["a", "b", "c"]
    assert np.isfinite(result.scores.to_numpy()).all()
