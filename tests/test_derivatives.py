"""Partial derivatives (Dimopoulos et al. 1995, 1999) against central finite differences.

The reference derivatives are computed here, by perturbing every input cell of float64 torch
models (or an analytic gradient for a plain function), and summarised by hand: the sum of squared
derivatives (SSD), their mean, standard deviation and root mean square.
"""

import warnings

import numpy as np
import pytest
import torch
from nets import RecurrentHead, shifted_logits_twin
from torch import nn

import varimp

P, T, N = 3, 4, 12
EPS = 1e-6




def tabular_model():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(P, 6, dtype=torch.float64), nn.Tanh(),
                         nn.Linear(6, 2, dtype=torch.float64), nn.Sigmoid())


def sequence_model(cell, last_step):
    torch.manual_seed(1)
    kind = {"lstm": nn.LSTM, "gru": nn.GRU}[cell]
    rnn = kind(P, 5, num_layers=2, batch_first=True, dtype=torch.float64)
    return RecurrentHead(rnn, nn.Linear(5, 2, dtype=torch.float64), last_step)


def predict(model, X):
    with torch.no_grad():
        return model(torch.as_tensor(X)).numpy()


def finite_differences(model, X, output, step=None):
    """Central differences of pred[..., output] (summed over predicted steps, or at ``step``)."""
    def value(Z):
        pred = predict(model, Z)
        if pred.ndim == 2:
            return pred[:, output]
        return pred[:, :, output].sum(axis=1) if step is None else pred[:, step, output]

    grad = np.zeros_like(X)
    for cell in np.ndindex(*X.shape[1:]):
        plus, minus = X.copy(), X.copy()
        plus[(slice(None), *cell)] += EPS
        minus[(slice(None), *cell)] -= EPS
        grad[(slice(None), *cell)] = (value(plus) - value(minus)) / (2 * EPS)
    return grad


def summary_row(result, output, variable):
    table = result.details["summary"]
    row = table[(table["output"] == output) & (table["variable"] == variable)]
    assert len(row) == 1
    return row.iloc[0]


def check_summary(result, output, along, names):
    """mean, std (ddof=1), rms and SSD of the per-sample derivatives, by hand."""
    for j, name in enumerate(names):
        d = along[:, j]
        row = summary_row(result, output, name)
        n = len(d)
        mean = sum(d) / n
        assert row["mean"] == pytest.approx(mean, rel=1e-6, abs=1e-9)
        assert row["std"] == pytest.approx(np.sqrt(sum((d - mean) ** 2) / (n - 1)), rel=1e-6)
        assert row["rms"] == pytest.approx(np.sqrt(sum(d**2) / n), rel=1e-6)
        assert row["ssd"] == pytest.approx(sum(d**2), rel=1e-6)


def test_tabular_mlp_against_finite_differences():
    model = tabular_model()
    X = np.random.default_rng(0).normal(size=(N, P))
    fd = [finite_differences(model, X, k) for k in range(2)]
    names = ["a", "b", "c"]
    result = varimp.partial_derivatives(model, X, feature_names=names)
    ssd = [(d**2).sum(axis=0) for d in fd]
    # several outputs: the mean of the per-output SSD
    np.testing.assert_allclose(result.scores.to_numpy(), (ssd[0] + ssd[1]) / 2, rtol=1e-6)
    np.testing.assert_allclose(result.details["per_output"].to_numpy(),
                               np.stack(ssd, axis=1), rtol=1e-6)
    assert list(result.details["per_output"].columns) == ["output 0", "output 1"]
    assert list(result.details["per_output"].index) == names
    assert result.kind == "magnitude" and result.details["scale"] == "none"
    assert result.by_time is None
    assert result.details["gradient"] == "autodiff"
    np.testing.assert_allclose(result.details["derivatives"]["output 1"].to_numpy(), fd[1],
                               rtol=1e-6, atol=1e-9)
    for k in range(2):
        check_summary(result, k, fd[k], names)
        one = varimp.partial_derivatives(model, X, output=k)
        np.testing.assert_allclose(one.scores.to_numpy(), ssd[k], rtol=1e-6)
        np.testing.assert_allclose(one.details["derivatives"].to_numpy(), fd[k], rtol=1e-6,
                                   atol=1e-9)
        # PaD: the relative contribution is the share of the sum of squared derivatives
        np.testing.assert_allclose(one.relative.to_numpy(), 100 * ssd[k] / ssd[k].sum(),
                                   rtol=1e-6)


def test_groups_differentiate_along_all_members_together():
    model = tabular_model()
    X = np.random.default_rng(1).normal(size=(N, P))
    fd = finite_differences(model, X, 0)
    result = varimp.partial_derivatives(model, X, output=0, groups={"x13": ["x1", "x3"]})
    along = np.stack([fd[:, 0] + fd[:, 2], fd[:, 1]], axis=1)
    assert list(result.scores.index) == ["x13", "x2"]
    np.testing.assert_allclose(result.scores.to_numpy(), (along**2).sum(axis=0), rtol=1e-6)
    check_summary(result, 0, along, ["x13", "x2"])


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_sequence_model_against_finite_differences(cell):
    model = sequence_model(cell, last_step=True)
    X = np.random.default_rng(2).normal(size=(N, T, P))
    fd = [finite_differences(model, X, k) for k in range(2)]  # (n, T, p) each
    result = varimp.partial_derivatives(model, X)
    # a feature's score: the SSD of the sum over steps of its cell derivatives
    along = [d.sum(axis=1) for d in fd]
    np.testing.assert_allclose(result.scores.to_numpy(),
                               sum((a**2).sum(axis=0) for a in along) / 2, rtol=1e-6)
    # by_time: the SSD of every cell, averaged over the outputs
    np.testing.assert_allclose(result.by_time.to_numpy(),
                               sum((d**2).sum(axis=0) for d in fd) / 2, rtol=1e-6)
    assert result.by_time.shape == (T, P)
    assert list(result.by_time.index) == list(range(T))
    for k in range(2):
        check_summary(result, k, along[k], ["x1", "x2", "x3"])
    one = varimp.partial_derivatives(model, X, output=1, by_time=False)
    assert one.by_time is None
    np.testing.assert_allclose(one.scores.to_numpy(), (along[1] ** 2).sum(axis=0), rtol=1e-6)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_sequence_to_sequence_model_and_output_step(cell):
    model = sequence_model(cell, last_step=False)
    X = np.random.default_rng(3).normal(size=(N, T, P))
    fd = finite_differences(model, X, 0)  # derivative of the sum of the predicted steps
    result = varimp.partial_derivatives(model, X, output=0)
    np.testing.assert_allclose(result.by_time.to_numpy(), (fd**2).sum(axis=0), rtol=1e-6)
    np.testing.assert_allclose(result.scores.to_numpy(), (fd.sum(axis=1) ** 2).sum(axis=0),
                               rtol=1e-6)
    for step in (0, 2):
        fd = finite_differences(model, X, 1, step=step)
        at = varimp.partial_derivatives(model, X, output=1, output_step=step)
        np.testing.assert_allclose(at.by_time.to_numpy(), (fd**2).sum(axis=0), rtol=1e-6,
                                   atol=1e-12)
        # a prediction at step s cannot depend on later inputs
        assert np.all(at.by_time.to_numpy()[step + 1:] == 0.0)
        np.testing.assert_allclose(at.scores.to_numpy(), (fd.sum(axis=1) ** 2).sum(axis=0),
                                   rtol=1e-6)


def test_batches_give_the_same_derivatives():
    model = sequence_model("gru", last_step=True)
    X = np.random.default_rng(4).normal(size=(N, T, P))
    whole = varimp.partial_derivatives(model, X)
    batched = varimp.partial_derivatives(model, X, batch_size=5)
    np.testing.assert_allclose(batched.scores.to_numpy(), whole.scores.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(batched.by_time.to_numpy(), whole.by_time.to_numpy(), rtol=1e-12)


def test_callable_tabular_gradient_by_finite_differences():
    a = np.array([0.5, -1.0, 2.0])

    def f(X):
        return np.sin(X @ a) + X[:, 0] * X[:, 1]

    X = np.random.default_rng(5).normal(size=(N, P))
    exact = np.cos(X @ a)[:, None] * a + np.stack([X[:, 1], X[:, 0], 0 * X[:, 0]], axis=1)
    result = varimp.partial_derivatives(f, X)
    assert result.details["gradient"] == "finite differences"
    np.testing.assert_allclose(result.details["derivatives"].to_numpy(), exact, rtol=1e-6,
                               atol=1e-8)
    np.testing.assert_allclose(result.scores.to_numpy(), (exact**2).sum(axis=0), rtol=1e-6)


def test_callable_sequence_gradient_with_several_outputs():
    w = np.random.default_rng(6).normal(size=(T, P))

    def f(X):  # two outputs: a quadratic form over all cells and the sine of the last step
        return np.stack([(w * X**2).sum(axis=(1, 2)), np.sin(X[:, -1, 0] * X[:, -1, 2])], axis=1)

    X = np.random.default_rng(7).normal(size=(N, T, P))
    d0 = 2 * w * X
    d1 = np.zeros_like(X)
    c = np.cos(X[:, -1, 0] * X[:, -1, 2])
    d1[:, -1, 0], d1[:, -1, 2] = c * X[:, -1, 2], c * X[:, -1, 0]
    result = varimp.partial_derivatives(f, X)
    np.testing.assert_allclose(result.by_time.to_numpy(), (d0**2 + d1**2).sum(axis=0) / 2,
                               rtol=1e-6, atol=1e-10)
    along = [d0.sum(axis=1), d1.sum(axis=1)]
    np.testing.assert_allclose(result.scores.to_numpy(),
                               (along[0] ** 2 + along[1] ** 2).sum(axis=0) / 2, rtol=1e-6)
    for k in range(2):
        check_summary(result, k, along[k], ["x1", "x2", "x3"])


def test_output_out_of_range():
    with pytest.raises(varimp.InputError, match=r"output must be an index in 0\.\.1"):
        varimp.partial_derivatives(tabular_model(), np.zeros((3, P)), output=2)


def elevation_table(n=20000):
    """A raw elevation in metres (std about 400) beside two standardised inputs."""
    rng = np.random.default_rng(8)
    X = np.column_stack([rng.normal(1500.0, 400.0, n), rng.normal(size=n), rng.normal(size=n)])
    return X, np.array([0.005, 1.0, 0.5])


def test_scale_std_scores_each_input_per_standard_deviation():
    X, w = elevation_table()
    names = ["elevation", "z1", "z2"]
    with pytest.warns(UserWarning, match=r"scale='std'") as record:
        raw = varimp.partial_derivatives(lambda Z: Z @ w, X, feature_names=names)
    assert "'elevation'" in str(record[0].message)
    n, std = len(X), X.std(axis=0)
    # raw derivatives are the weights: elevation gets a tiny share, whatever its effect
    np.testing.assert_allclose(raw.scores, n * w**2, rtol=1e-6)
    assert raw.relative["elevation"] < 0.01 and raw.details["scale"] == "none"
    scaled = varimp.partial_derivatives(lambda Z: Z @ w, X, feature_names=names, scale="std")
    # d f / d x_j * std_j = w_j * std_j at every sample
    np.testing.assert_allclose(scaled.details["derivatives"].to_numpy(),
                               np.tile(w * std, (n, 1)), rtol=1e-6)
    np.testing.assert_allclose(scaled.scores, n * (w * std) ** 2, rtol=1e-6)
    share = 100 * (w * std) ** 2 / ((w * std) ** 2).sum()
    np.testing.assert_allclose(scaled.relative, share, rtol=1e-6)
    assert scaled.details["scale"] == "std"
    np.testing.assert_allclose(scaled.details["spread"], std)
    # permutation's increase in MSE is 2 w_j^2 var_j in expectation: the same shares
    permuted = varimp.permutation(lambda Z: Z @ w, X, X @ w, n_repeats=3, random_state=0)
    np.testing.assert_allclose(permuted.relative, share, atol=1.5)
    assert share[0] == pytest.approx(100 * 4 / 5.25, rel=0.02)  # (0.005 * 400)^2 = 4


def test_no_unit_warning_when_scaled_or_spreads_are_alike():
    X, w = elevation_table(200)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        varimp.partial_derivatives(lambda Z: Z @ w, X, scale="std")
        varimp.partial_derivatives(lambda Z: Z @ w[1:], X[:, 1:] * [1.0, 9.0], output=0)


def test_bad_scale_is_an_input_error():
    with pytest.raises(varimp.InputError, match=r"scale must be one of \['none', 'std'\]"):
        varimp.partial_derivatives(tabular_model(), np.zeros((3, P)), scale="minmax")


def test_the_columns_of_a_dataframe_y_name_the_outputs():
    import pandas as pd

    model = tabular_model()
    X = np.random.default_rng(22).normal(size=(N, P))
    Y = pd.DataFrame(np.zeros((N, 2)), columns=["flow", "temp"])
    grad = finite_differences(model, X, 1)
    named = varimp.partial_derivatives(model, X, Y, output="temp")
    np.testing.assert_allclose(named.details["derivatives"].to_numpy(), grad, rtol=1e-6,
                               atol=1e-9)
    np.testing.assert_allclose(named.scores.to_numpy(), (grad**2).sum(axis=0), rtol=1e-6)
    assert list(named.details["per_output"].columns) == ["temp"]
    both = varimp.partial_derivatives(model, X, Y)
    assert list(both.details["per_output"].columns) == ["flow", "temp"]
    # compare() reads the same names in every method it runs
    comparison = varimp.compare(model, X, Y, methods=["connection_weights",
                                                      "partial_derivatives", "profile"],
                                output="temp")
    np.testing.assert_allclose(comparison.results["partial_derivatives"].scores.to_numpy(),
                               named.scores.to_numpy(), rtol=1e-12)
    w1, w2 = (m.weight.detach().numpy().T for m in model if isinstance(m, nn.Linear))
    np.testing.assert_allclose(comparison.results["connection_weights"].scores.to_numpy(),
                               (w1 @ w2)[:, 1], rtol=1e-12)


# -- logits are explained as probabilities --------------------------------------------------------
def logits_model(n_out=3, seed=2):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(P, 6, dtype=torch.float64), nn.Tanh(),
                         nn.Linear(6, n_out, dtype=torch.float64))


def test_logits_are_differentiated_as_softmax_probabilities():
    """dp_k = p_k (dz_k - sum_j p_j dz_j) from the logits' gradients equals autograd through
    an appended Softmax and central differences of the softmax; logits that differ by a
    common function of x3 (the same probabilities) get the same scores."""
    model = logits_model()
    X = np.random.default_rng(5).normal(size=(N, P))
    logits = varimp.partial_derivatives(model, X, output_kind="logits")
    softmax = varimp.partial_derivatives(nn.Sequential(*model, nn.Softmax(dim=-1)), X)
    np.testing.assert_allclose(logits.scores, softmax.scores, rtol=1e-5)
    np.testing.assert_allclose(logits.details["per_output"], softmax.details["per_output"],
                               rtol=1e-5)
    assert logits.details["explained"] == "class probabilities (softmax of the logits)"
    assert softmax.details["explained"] == "the model's outputs as they are (probabilities)"

    def proba(Z):
        z = predict(model, Z)
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    fd = [finite_differences(lambda t, k=k: torch.from_numpy(proba(t.numpy())), X, k)
          for k in range(3)]
    np.testing.assert_allclose(logits.details["per_output"].to_numpy(),
                               np.stack([(g**2).sum(axis=0) for g in fd], axis=1), rtol=1e-5)
    np.testing.assert_allclose(logits.scores, np.mean([(g**2).sum(axis=0) for g in fd], axis=0),
                               rtol=1e-5)
    one = varimp.partial_derivatives(model, X, output_kind="logits", output=1)
    np.testing.assert_allclose(one.details["derivatives"].to_numpy(), fd[1], rtol=1e-5,
                               atol=1e-9)
    raw = varimp.partial_derivatives(shifted_logits_twin(model), X, output_kind="regression")
    twin = varimp.partial_derivatives(shifted_logits_twin(model), X, output_kind="logits")
    np.testing.assert_allclose(twin.scores, logits.scores, rtol=1e-5)
    assert raw.relative["x3"] > 5 * logits.relative["x3"]  # the raw logits see the shift


def test_one_logit_is_differentiated_as_its_sigmoid():
    model = logits_model(n_out=1)
    X = np.random.default_rng(6).normal(size=(N, P))
    logit = varimp.partial_derivatives(model, X, output_kind="logits")
    sigmoid = varimp.partial_derivatives(nn.Sequential(*model, nn.Sigmoid()), X)
    np.testing.assert_allclose(logit.scores, sigmoid.scores, rtol=1e-5)
    p = 1 / (1 + np.exp(-predict(model, X)[:, 0]))
    dz = finite_differences(model, X, 0)
    np.testing.assert_allclose(logit.details["derivatives"].to_numpy(),
                               (p * (1 - p))[:, None] * dz, rtol=1e-5, atol=1e-10)
    assert logit.details["explained"] == "probabilities (sigmoid of each logit)"


def test_logits_of_every_predicted_step_go_through_the_softmax_of_each_step():
    torch.manual_seed(3)
    head = RecurrentHead(nn.GRU(P, 4, batch_first=True, dtype=torch.float64),
                         nn.Linear(4, 3, dtype=torch.float64), last_step=False)
    X = np.random.default_rng(7).normal(size=(N, T, P))
    with_softmax = nn.Sequential(head, nn.Softmax(dim=-1))
    for step in (None, 2):
        logits = varimp.partial_derivatives(head, X, output_kind="logits", output_step=step)
        softmax = varimp.partial_derivatives(with_softmax, X, output_step=step)
        np.testing.assert_allclose(logits.scores, softmax.scores, rtol=1e-5)
        np.testing.assert_allclose(logits.by_time, softmax.by_time, rtol=1e-5, atol=1e-12)


@pytest.mark.parametrize("scale, unit", [("none", "per unit"),
                                         ("std", "per standard deviation")])
def test_a_category_move_beside_numeric_derivatives_warns_once_and_is_recorded(scale, unit):
    rng = np.random.default_rng(0)
    colour = rng.integers(0, 3, 200)
    X = np.column_stack([rng.normal(size=200), (colour == 1) * 1.0, (colour == 2) * 1.0])
    w = np.array([2.0, 3.0, -1.0])
    with pytest.warns(UserWarning, match="category switch") as caught:
        result = varimp.partial_derivatives(lambda Z: Z @ w, X, scale=scale,
                                            groups={"colour": [1, 2]})
    mixed = [str(m.message) for m in caught if "do not rank against" in str(m.message)]
    assert len(mixed) == 1 and "'colour'" in mixed[0] and "'x1'" in mixed[0]
    assert unit + " of the input" in mixed[0] and "permutation" in mixed[0]
    assert result.details["mixed_kinds"] == {"category switch": ["colour"],
                                             "derivative": ["x1"]}
    # unchanged computation: x1's SSD is n w^2 (times sd^2 with scale="std")
    factor = 1.0 if scale == "none" else X[:, 0].std() ** 2
    assert result.scores["x1"] == pytest.approx(200 * 4.0 * factor, rel=1e-6)


def test_a_torch_model_that_squeezes_a_one_row_batch_is_told_so_not_an_index_error():
    """autograd on batches of 5 rows of 11 leaves a batch of one: a module ending in
    .squeeze() returns shape () there, which is named (a ModelError with the hint), and with
    batches that leave no single row its derivatives are those of the same layer unsqueezed."""
    class Squeezed(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = torch.nn.Linear(3, 1).double()

        def forward(self, x):
            return self.linear(x).squeeze()

    model = Squeezed()
    X = np.random.default_rng(0).normal(size=(11, 3))
    with pytest.raises(varimp.ModelError, match=r"one prediction per sample \(1\); it returned "
                                                r"an array of shape \(\): it seems to squeeze"):
        varimp.partial_derivatives(model, X, batch_size=5)
    weights = model.linear.weight.detach().numpy()[0]
    result = varimp.partial_derivatives(model, X, batch_size=4)  # 4 + 4 + 3 rows
    np.testing.assert_allclose(result.scores, len(X) * weights ** 2, rtol=1e-12)
