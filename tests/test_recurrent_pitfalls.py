"""Recurrent-network pitfalls that varimp handles inside, so that users do not meet them.

- cuDNN cannot run an RNN's backward pass in eval mode: the torch adapter turns cuDNN off for
  its own gradient computations on CUDA only, locally, and restores the flag (tested without a
  GPU by pretending the model sits on CUDA and recording the flag the forward pass sees).
- Dropout: predictions are made in eval mode, so a model with dropout layers (also the
  dropout between stacked LSTM layers, and Keras Dropout) gives the result of the same model
  with the dropout removed, whatever mode it was left in.
- Keras ``Masking``: predictions and gradients honour the mask (the gradient at a padded step
  is exactly 0); methods that replace cell values refuse X with padded steps, naming the mask;
  weight-based methods refuse the layer.
- Bidirectional LSTMs: gradient- and perturbation-type methods work (derivatives against
  central finite differences; an input the network ignores scores exactly 0); weight-based
  methods raise UnsupportedModelError.
"""

from __future__ import annotations

import numpy as np
import pytest
import reliability_models as rm
import torch
from torch import nn

import varimp
from varimp import UnsupportedModelError
from varimp.adapters import adapt
from varimp.adapters.torch import _no_cudnn_if_rnn


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    with rm.one_torch_thread():
        yield


X_SEQ, Y_SEQ = rm.sequences()


def calls_model(method: str) -> bool:
    return not rm.spec(method).reads_weights


def _y(method: str) -> np.ndarray | None:
    return Y_SEQ if rm.spec(method).needs_y else None


# -- cuDNN --------------------------------------------------------------------------------------
def _flags() -> tuple[bool, bool, bool]:
    cudnn = torch.backends.cudnn
    return cudnn.enabled, cudnn.benchmark, cudnn.deterministic


@pytest.mark.parametrize("enabled", [True, False])
def test_cudnn_is_disabled_locally_on_cuda_and_restored(enabled: bool):
    with torch.backends.cudnn.flags(enabled=enabled, benchmark=True, deterministic=False):
        before = _flags()
        with _no_cudnn_if_rnn(torch.device("cuda")):
            assert _flags() == (False, True, False)
        assert _flags() == before
        with pytest.raises(ZeroDivisionError), _no_cudnn_if_rnn(torch.device("cuda")):
            assert not torch.backends.cudnn.enabled
            _ = 1 / 0
        assert _flags() == before
        with _no_cudnn_if_rnn(torch.device("cpu")):
            assert _flags() == before  # never touched off CUDA


class _RecordsCudnn(nn.Module):
    """An LSTM net that records the cuDNN flag each forward pass runs under."""

    def __init__(self):
        super().__init__()
        self.net = rm.torch_lstm(dropout=0.0)
        self.seen: list[bool] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append(torch.backends.cudnn.enabled)
        return self.net(x)


def test_gradients_run_without_cudnn_on_cuda_and_predictions_with_it(monkeypatch):
    model = _RecordsCudnn()
    adapter = adapt(model)
    monkeypatch.setattr(adapter, "device", torch.device("cuda"))  # the model "lives" on CUDA
    monkeypatch.setattr(adapter, "_tensor", lambda X: torch.as_tensor(X, dtype=adapter.dtype))
    with torch.backends.cudnn.flags(enabled=True):
        adapter.gradient(X_SEQ, 0, batch_size=5)
        assert model.seen == [False, False, False]  # three batches, cuDNN off in every one
        assert torch.backends.cudnn.enabled
        model.seen.clear()
        adapter.predict(X_SEQ, batch_size=5)
        assert model.seen == [True, True, True]  # forward-only passes keep cuDNN


# -- dropout ------------------------------------------------------------------------------------
def _without_dropout(model: nn.Module) -> nn.Module:
    """The same weights with every dropout layer replaced by Identity."""
    import copy

    twin = copy.deepcopy(model)
    for name, module in list(twin.named_modules()):
        if isinstance(module, nn.Dropout):
            parent = twin.get_submodule(name.rpartition(".")[0]) if "." in name else twin
            setattr(parent, name.rpartition(".")[2], nn.Identity())
        if isinstance(module, nn.RNNBase):
            module.dropout = 0.0
    return twin


class _StackedLSTM(nn.Module):
    """Two stacked LSTM layers with PyTorch's own dropout between them, then a head."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(rm.P, rm.HIDDEN, num_layers=2, dropout=0.5, batch_first=True)
        self.head = nn.Linear(rm.HIDDEN, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.rnn(x)[0][:, -1])


DROPOUT_MODELS = {
    "mlp": (lambda: rm.torch_mlp(dropout=0.5), rm.tabular()),
    "lstm": (lambda: rm.torch_lstm(dropout=0.5), (X_SEQ, Y_SEQ)),
    "stacked-lstm-internal-dropout": (lambda: rm._fill(_StackedLSTM(), 8), (X_SEQ, Y_SEQ)),
}


@pytest.mark.parametrize("method", rm.REGISTERED)
@pytest.mark.parametrize("name", list(DROPOUT_MODELS))
def test_dropout_model_gives_the_result_without_dropout(name: str, method: str):
    build, (X, y) = DROPOUT_MODELS[name]
    model = build().train()
    y = y if rm.spec(method).needs_y else None
    got = rm.run(method, model, X, y)
    expected = rm.run(method, _without_dropout(model).eval(), X, y)
    np.testing.assert_array_equal(got.scores.to_numpy(), expected.scores.to_numpy())
    assert model.training and all(m.training for m in model.modules())


@pytest.mark.parametrize("method", rm.REGISTERED)
def test_keras_dropout_is_off(method: str):
    import keras

    with_dropout = rm.keras_lstm()
    plain = keras.Sequential([keras.Input((rm.T, rm.P)), keras.layers.LSTM(rm.HIDDEN),
                              keras.layers.Dense(1)])
    plain.set_weights(with_dropout.get_weights())
    got, expected = (rm.run(method, m, X_SEQ, _y(method)) for m in (with_dropout, plain))
    np.testing.assert_array_equal(got.scores.to_numpy(), expected.scores.to_numpy())


# -- Keras Masking ------------------------------------------------------------------------------
def _padded() -> np.ndarray:
    X = X_SEQ.copy()
    X[:4, :2] = 0.0  # four sequences pre-padded by two steps
    return X


def test_masking_predictions_and_gradients_honour_the_mask():
    """Padded sequences predict as their unpadded suffix; the gradient at a padded step is 0
    and elsewhere agrees with central finite differences."""
    import keras

    masked = rm.keras_lstm(masking=0.0)
    short = keras.Sequential([keras.Input((rm.T - 2, rm.P)), keras.layers.LSTM(rm.HIDDEN),
                              keras.layers.Dense(1)])
    short.set_weights(masked.get_weights())
    X = _padded()
    adapter = adapt(masked)
    np.testing.assert_allclose(adapter.predict(X)[:4], adapt(short).predict(X[:4, 2:]),
                               atol=1e-6)
    result = varimp.partial_derivatives(masked, X)
    grad = adapter.gradient(X, 0)
    assert np.all(grad[:4, :2] == 0.0)
    h = 1e-2
    for t, j in [(2, 0), (4, 1), (3, 2)]:
        plus, minus = X.copy(), X.copy()
        plus[:4, t, j] += h
        minus[:4, t, j] -= h
        numeric = (adapter.predict(plus) - adapter.predict(minus))[:4, 0, 0] / (2 * h)
        np.testing.assert_allclose(grad[:4, t, j], numeric, atol=2e-3)
    np.testing.assert_allclose(result.by_time.to_numpy(), (grad**2).sum(axis=0), rtol=1e-6)


@pytest.mark.parametrize("method", rm.REGISTERED)
def test_masking_with_padded_steps(method: str):
    """Weight methods refuse the Masking layer; methods replacing cells refuse padded X and
    say why; partial derivatives accept it. Without padding, Masking changes nothing."""
    masked, X = rm.keras_lstm(masking=0.0), _padded()
    if rm.spec(method).reads_weights:
        with pytest.raises(UnsupportedModelError, match="Masking"):
            rm.run(method, masked, X)
        return
    if rm.spec(method).replaces_cells:
        with pytest.raises(UnsupportedModelError, match=r"8 padded steps .* mask_value 0.0"):
            rm.run(method, masked, X, _y(method))
    else:
        assert np.isfinite(rm.run(method, masked, X).scores).all()
    unmasked = rm.keras_lstm()
    got = rm.run(method, masked, X_SEQ, _y(method))
    expected = rm.run(method, unmasked, X_SEQ, _y(method))
    np.testing.assert_allclose(got.scores.to_numpy(), expected.scores.to_numpy(), rtol=1e-4,
                               atol=1e-6)


# -- bidirectional ------------------------------------------------------------------------------
def _bidirectional(dtype: torch.dtype = torch.float32) -> nn.Module:
    """A bidirectional LSTM whose input weights of the third feature are zero: the network
    ignores x3 exactly."""
    model = rm.torch_lstm(dropout=0.0, bidirectional=True).to(dtype)
    with torch.no_grad():
        model.rnn.weight_ih_l0[:, 2] = 0.0
        model.rnn.weight_ih_l0_reverse[:, 2] = 0.0
    return model


@pytest.mark.parametrize("method", rm.REGISTERED)
def test_bidirectional_lstm(method: str):
    model = _bidirectional()
    if rm.spec(method).reads_weights:
        with pytest.raises(UnsupportedModelError, match="bidirectional"):
            rm.run(method, model, X_SEQ)
        return
    result = rm.run(method, model, X_SEQ, _y(method))
    scores = result.scores.to_numpy()
    if rm.spec(method).facts.retrains:  # new networks, trained on the data: the given one's
        assert np.isfinite(scores).all()  # blindness to x3 is not theirs
        return
    assert scores[2] == 0.0 and np.all(scores[:2] != 0.0)
    if result.by_time is not None:
        assert np.all(result.by_time["x3"].to_numpy() == 0.0)
        assert np.abs(result.by_time[["x1", "x2"]].to_numpy()).max() > 0


def test_bidirectional_derivatives_against_finite_differences():
    model = _bidirectional(torch.float64)
    result = varimp.partial_derivatives(model, X_SEQ)
    adapter = adapt(model)
    h = 1e-6
    numeric = np.empty_like(X_SEQ)
    for t in range(X_SEQ.shape[1]):
        for j in range(X_SEQ.shape[2]):
            plus, minus = X_SEQ.copy(), X_SEQ.copy()
            plus[:, t, j] += h
            minus[:, t, j] -= h
            numeric[:, t, j] = (adapter.predict(plus) - adapter.predict(minus))[:, 0, 0] / (2 * h)
    np.testing.assert_allclose(result.by_time.to_numpy(), (numeric**2).sum(axis=0), rtol=1e-6,
                               atol=1e-12)
    np.testing.assert_allclose(result.scores.to_numpy(), (numeric.sum(axis=1) ** 2).sum(axis=0),
                               rtol=1e-6)
    # the first and last steps both matter: the reverse direction reads the sequence backwards
    assert (numeric[:, 0, :2] ** 2).sum() > 1e-3 * (numeric[:, -1, :2] ** 2).sum()


def test_keras_bidirectional_weights_refused_others_work():
    model = rm.keras_lstm(bidirectional=True)
    with pytest.raises(UnsupportedModelError, match="Bidirectional"):
        varimp.connection_weights(model, X_SEQ)
    derivatives = varimp.partial_derivatives(model, X_SEQ)
    perturbed = varimp.perturbation(model, X_SEQ, random_state=0, noise=0.3)
    assert np.all(derivatives.scores > 0) and np.all(perturbed.scores > 0)
    assert derivatives.by_time.shape == perturbed.by_time.shape == (rm.T, rm.P)


def test_pitfall_tables_cover_every_method():
    assert not rm.uncovered(rm.METHOD_SPECS), rm.uncovered(rm.METHOD_SPECS)
