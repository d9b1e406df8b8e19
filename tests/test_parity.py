"""Parity with independent implementations: NeuralNetTools (R), scikit-learn, neuralsens.

- NeuralNetTools (Beck 2018): its documentation's numeric example (``wts_in``, ``struct``; see
  ``man/garson.Rd`` and ``man/olden.Rd``, "using numeric input") shows its results only as bar
  plots, so the numbers below are NeuralNetTools' own output on those weights:
  ``garson.default`` and ``olden.default`` of NeuralNetTools 1.5 (``R/NeuralNetTools_gar.R``,
  ``R/NeuralNetTools_old.R``) run in R with ``bar_plot = FALSE``, printed to 15 digits.
  Two more weight vectors (a 3-5-1 and a 3-4-3-2 network) were run the same way. The 2-2-1
  example is also written out by hand (Olden & Jackson 2002, appendix). ``lekprofile`` is
  checked against its algorithm (``lekprofile.default`` and ``pred_sens``) written out in the
  test, on the same weights: its documentation prints no numbers for it.
- scikit-learn ``permutation_importance`` on the same fitted MLP, the same scorer and the same
  number of repeats: both estimate the same expectation with independent random permutations,
  so their means must agree within the sampling error computed from both standard deviations.
- neuralsens (Pizarroso, Portela & Munoz 2022, the Python port of the R package NeuralSens):
  the mean, standard deviation and root mean square of the partial derivatives of a fitted
  scikit-learn MLP, against ``details["summary"]`` of ``varimp.partial_derivatives``.
"""

import warnings

import matplotlib as mpl
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.inspection import permutation_importance
from sklearn.neural_network import MLPClassifier, MLPRegressor
from torch import nn

import varimp

with mpl.rc_context():  # neuralsens changes matplotlib's rc settings when imported
    import neuralsens.partial_derivatives as ns

# -- NeuralNetTools ---------------------------------------------------------------------------

#: NeuralNetTools' documented example: two inputs, two hidden units, one output.
WTS_IN = [13.12, 1.49, 0.16, -0.11, -0.19, -0.16, 0.56, -0.52, 0.81]
STRUCT = (2, 2, 1)
#: NeuralNetTools' garson(wts_in, struct, bar_plot = FALSE) and olden(...) on WTS_IN.
NNT_GARSON = [0.722943722943723, 0.277056277056277]
NNT_OLDEN = [-0.9287, -0.2128]

#: round(cos(1:26) * 1.1, 2) in R, struct c(3, 5, 1), and NeuralNetTools' results on it.
WTS_351 = [0.59, -0.46, -1.09, -0.72, 0.31, 1.06, 0.83, -0.16, -1.00, -0.92, 0.00, 0.93, 1.00,
           0.15, -0.84, -1.05, -0.30, 0.73, 1.09, 0.45, -0.60, -1.10, -0.59, 0.47, 1.09, 0.71]
NNT_GARSON_351 = [0.322425790936716, 0.355399035514066, 0.322175173549218]
NNT_OLDEN_351 = [0.1300, 0.5676, 0.4985]

#: round(sin(1:39) * 1.3, 2) in R, struct c(3, 4, 3, 2): two hidden layers, two outputs;
#: NeuralNetTools' olden() for out_var Y1 and Y2 (printed to 7 significant digits).
WTS_3432 = [1.09, 1.18, 0.18, -0.98, -1.25, -0.36, 0.85, 1.29, 0.54, -0.71, -1.30, -0.70, 0.55,
            1.29, 0.85, -0.37, -1.25, -0.98, 0.19, 1.19, 1.09, -0.01, -1.10, -1.18, -0.17, 0.99,
            1.24, 0.35, -0.86, -1.28, -0.53, 0.72, 1.30, 0.69, -0.56, -1.29, -0.84, 0.39, 1.25]
NNT_OLDEN_3432 = [[-1.031418, -1.227065, -0.315407], [1.946643, 1.161596, -0.694188]]


def nnt_layers(wts, struct):
    """NeuralNetTools' weight vector as ``[(W (n_in, n_out), b (n_out,))]`` per layer.

    ``neuralweights()`` reads the vector one unit at a time, layer after layer: the unit's
    bias first, then one weight from every unit of the layer before."""
    layers, start = [], 0
    for n_in, n_out in zip(struct[:-1], struct[1:], strict=True):
        block = np.asarray(wts[start:start + n_out * (1 + n_in)], dtype=float)
        block = block.reshape(n_out, 1 + n_in)
        layers.append((block[:, 1:].T, block[:, 0]))
        start += n_out * (1 + n_in)
    assert start == len(wts)
    return layers


def torch_net(wts, struct):
    """The network of NeuralNetTools' weights in PyTorch, logistic hidden units (as nnet)."""
    modules = []
    for k, (w, b) in enumerate(nnt_layers(wts, struct)):
        linear = nn.Linear(*w.shape, dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w.T))
            linear.bias.copy_(torch.from_numpy(b))
        modules.append(linear)
        if k < len(struct) - 2:
            modules.append(nn.Sigmoid())
    return nn.Sequential(*modules)


def sklearn_net(wts, struct):
    """The same network as a fitted scikit-learn MLPRegressor whose weights are replaced."""
    layers = nnt_layers(wts, struct)
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(8, struct[0])), rng.normal(size=(8, struct[-1]))
    model = MLPRegressor(hidden_layer_sizes=struct[1:-1], activation="logistic", max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y if struct[-1] > 1 else y[:, 0])
    model.coefs_ = [w.copy() for w, _ in layers]
    model.intercepts_ = [b.copy() for _, b in layers]
    return model


@pytest.mark.parametrize("build", [torch_net, sklearn_net])
def test_garson_equals_neuralnettools_on_its_documented_example(build):
    model = build(WTS_IN, STRUCT)
    result = varimp.garson(model)
    np.testing.assert_allclose(result.scores.to_numpy(), NNT_GARSON, rtol=1e-12)
    # by hand: each hidden unit's |w_ih| |w_ho| normalised over the inputs, the output weight
    # cancels (Olden & Jackson 2002, appendix): unit 1 gives 1.49/1.65 and 0.16/1.65, unit 2
    # 0.19/0.35 and 0.16/0.35; summed per input and normalised.
    s = np.array([1.49 / 1.65 + 0.19 / 0.35, 0.16 / 1.65 + 0.16 / 0.35])
    np.testing.assert_allclose(result.scores.to_numpy(), s / s.sum(), rtol=1e-12)
    assert result.kind == "share"
    assert list(result.ranks) == [1, 2]
    # the form varimp used as its default before weights each unit by |w_ho| and disagrees
    old = varimp.garson(model, variant="output_weighted").scores.to_numpy()
    assert np.abs(old - NNT_GARSON).max() > 0.03


@pytest.mark.parametrize("build", [torch_net, sklearn_net])
def test_connection_weights_equal_neuralnettools_olden_on_its_documented_example(build):
    model = build(WTS_IN, STRUCT)
    result = varimp.connection_weights(model)
    np.testing.assert_allclose(result.scores.to_numpy(), NNT_OLDEN, rtol=1e-12)
    # by hand: 1.49 * -0.52 + -0.19 * 0.81 and 0.16 * -0.52 + -0.16 * 0.81
    np.testing.assert_allclose(result.scores.to_numpy(), [-0.9287, -0.2128], rtol=1e-12)
    assert result.kind == "effect"


def test_garson_and_olden_equal_neuralnettools_on_a_3_5_1_network():
    model = torch_net(WTS_351, (3, 5, 1))
    np.testing.assert_allclose(varimp.garson(model).scores.to_numpy(), NNT_GARSON_351,
                               rtol=1e-12)
    np.testing.assert_allclose(varimp.garson(model, variant="goh").scores.to_numpy(),
                               NNT_GARSON_351, rtol=1e-12)
    np.testing.assert_allclose(varimp.connection_weights(model).scores.to_numpy(),
                               NNT_OLDEN_351, rtol=1e-12)


@pytest.mark.parametrize("build", [torch_net, sklearn_net])
def test_olden_equals_neuralnettools_with_two_hidden_layers_and_two_outputs(build):
    model = build(WTS_3432, (3, 4, 3, 2))
    expected = np.array(NNT_OLDEN_3432)  # (outputs, inputs)
    for k in range(2):
        one = varimp.connection_weights(model, output=k)
        np.testing.assert_allclose(one.scores.to_numpy(), expected[k], rtol=5e-6, atol=5e-7)
    both = varimp.connection_weights(model)
    np.testing.assert_allclose(both.details["per_output"].to_numpy(), expected.T, rtol=5e-6,
                               atol=5e-7)
    # several outputs: the mean of the absolute connection weights, a magnitude
    np.testing.assert_allclose(both.scores.to_numpy(), np.abs(expected).mean(axis=0),
                               rtol=5e-6)
    assert both.kind == "magnitude"


# -- NeuralNetTools lekprofile ----------------------------------------------------------------
#
# NeuralNetTools 1.5 (R/NeuralNetTools_lek.R, ``lekprofile.default``; R/NeuralNetTools_utils.R,
# ``pred_sens``), read line by line:
#   lekprofile.default(mod_in, xvars, ..., steps = 100, group_vals = seq(0, 1, by = 0.2))
#     grps <- apply(xvars, 2, quantile, group_vals)         # one row per group value
#     lek_vals <- sapply(xsel, function(vars) pred_sens(xvars, mod_in, vars, steps, grps, ysel))
#   pred_sens(mat_in, mod_in, var_sel, step_val, grps, ysel)
#     chngs <- range(mat_in[, var_sel]); chngs <- seq(chngs[1], chngs[2], length = step_val)
#     const <- grps[, !names(mat_in) %in% var_sel]
#     for every row x of const: topred <- x repeated step_val times, with var_sel <- chngs;
#       preds <- predict(mod_in, newdata = topred); return data.frame(preds, x_vars = chngs)
# ``quantile`` is R's default, type 7; ``seq(from, to, length = n)`` is R's seq.default:
# ``c(from, from + seq_len(n - 2) * ((to - from) / (n - 1)), to)``. The documented examples
# profile fitted nnet models and print only plots, so the reference is this algorithm written
# out below, on NeuralNetTools' documented weights, with the network evaluated by hand.

def r_quantile_type7(x, probs):
    """R's ``quantile(x, probs)`` (type 7): ``x[j] + (h - j) (x[j + 1] - x[j])``, ``h = (n - 1)
    p`` on the sorted values, ``j = floor(h)``."""
    x = np.sort(x)
    h = (len(x) - 1) * np.asarray(probs)
    j = np.floor(h).astype(int)
    upper = np.minimum(j + 1, len(x) - 1)
    return x[j] + (h - j) * (x[upper] - x[j])


def r_seq(start, stop, length):
    """R's ``seq(start, stop, length = length)``: exact ends, ``start + i (stop - start) / (n -
    1)`` between them."""
    by = (stop - start) / (length - 1)
    return np.concatenate([[start], start + np.arange(1, length - 1) * by, [stop]])


def nnt_forward(wts, struct, X):
    """The network of NeuralNetTools' weights evaluated by hand: logistic hidden units, linear
    output (nnet with ``linout = TRUE``)."""
    out = X
    layers = nnt_layers(wts, struct)
    for k, (w, b) in enumerate(layers):
        out = out @ w + b
        if k < len(layers) - 1:
            out = 1.0 / (1.0 + np.exp(-out))
    return out[:, 0]


def nnt_lekprofile(predict, X, steps=100, group_vals=(0.0, 0.2, 0.4, 0.6, 0.8, 1.0)):
    """``lekprofile(..., val_out = TRUE)`` written out: ``{(variable, group): (x, response)}``
    and ``grps``."""
    grps = np.column_stack([r_quantile_type7(X[:, j], group_vals) for j in range(X.shape[1])])
    curves = {}
    for j in range(X.shape[1]):
        chngs = r_seq(X[:, j].min(), X[:, j].max(), steps)
        for g, const in enumerate(grps):
            topred = np.tile(const, (steps, 1))
            topred[:, j] = chngs
            curves[j, g] = chngs, predict(topred)
    return curves, grps


@pytest.mark.parametrize("build", [torch_net, sklearn_net])
@pytest.mark.parametrize("wts, struct", [(WTS_IN, STRUCT), (WTS_351, (3, 5, 1))])
def test_profile_curves_equal_neuralnettools_lekprofile(build, wts, struct):
    rng = np.random.default_rng(7)
    X = rng.normal(size=(57, struct[0])) * np.linspace(0.5, 2.0, struct[0]) + np.arange(
        struct[0])
    expected, grps = nnt_lekprofile(lambda Z: nnt_forward(wts, struct, Z), X)
    # NeuralNetTools' defaults: 100 steps, the other inputs held at the quantiles 0, 0.2, .., 1
    result = varimp.profile(build(wts, struct), X, steps=100,
                            levels=np.quantile(X, np.linspace(0.0, 1.0, 6), axis=0))
    np.testing.assert_allclose(result.details["levels"].drop(columns="level"), grps,
                               rtol=0, atol=1e-12)
    curves = result.details["curves"]
    assert len(curves) == struct[0] * 6 * 100
    labels = [f"level {g + 1}" for g in range(6)]
    for (j, g), (x, response) in expected.items():
        ours = curves[(curves["variable"] == f"x{j + 1}") & (curves["level"] == labels[g])]
        np.testing.assert_allclose(ours["x"].to_numpy(float), x, rtol=0, atol=1e-12)
        np.testing.assert_allclose(ours["prediction"].to_numpy(), response, rtol=0, atol=1e-12)


# -- scikit-learn permutation_importance ------------------------------------------------------

N_REPEATS = 30


def within_sampling_error(ours, theirs, z=4.0):
    """Both are means of N_REPEATS draws; their difference has std sqrt((s1^2 + s2^2) / n)."""
    bound = z * np.sqrt((ours.std**2 + theirs.importances_std**2) / N_REPEATS)
    diff = np.abs(ours.scores.to_numpy() - theirs.importances_mean)
    return diff, bound + 1e-12


@pytest.fixture(scope="module")
def regression():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 4))
    y = 2.0 * X[:, 0] + np.sin(2.0 * X[:, 1]) + 0.5 * X[:, 2] + 0.1 * rng.normal(size=400)
    model = MLPRegressor(hidden_layer_sizes=(16,), max_iter=3000, random_state=0).fit(X, y)
    return model, X, y


def test_permutation_agrees_with_scikit_learn_on_an_mlp_regressor(regression):
    model, X, y = regression
    ours = varimp.permutation(model, X, y, scoring="neg_mean_squared_error",
                              n_repeats=N_REPEATS, random_state=0)
    theirs = permutation_importance(model, X, y, scoring="neg_mean_squared_error",
                                    n_repeats=N_REPEATS, random_state=0)
    diff, bound = within_sampling_error(ours, theirs)
    assert np.all(diff <= bound), (diff, bound)
    assert ours.kind == "loss"
    # the spread over repeats estimates the same quantity too (sklearn: numpy's std, ddof=0)
    big = theirs.importances_mean > 0.1
    ratio = ours.std.to_numpy()[big] / theirs.importances_std[big]
    assert np.all((ratio > 0.5) & (ratio < 2.0)), ratio
    assert list(ours.ranks) == list(pd.Series(theirs.importances_mean).rank(
        ascending=False, method="min").astype(int))


def test_permutation_agrees_with_scikit_learn_on_an_mlp_classifier_by_accuracy():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(450, 4))
    labels = np.array(["low", "mid", "high"])
    y = labels[np.argmax(np.stack([X[:, 0], X[:, 1], 0.3 * X[:, 2]], axis=1), axis=1)]
    model = MLPClassifier(hidden_layer_sizes=(16,), max_iter=3000, random_state=0).fit(X, y)
    ours = varimp.permutation(model, X, y, scoring="accuracy", n_repeats=N_REPEATS,
                              random_state=0)
    theirs = permutation_importance(model, X, y, scoring="accuracy", n_repeats=N_REPEATS,
                                    random_state=0)
    diff, bound = within_sampling_error(ours, theirs)
    assert np.all(diff <= bound), (diff, bound)
    assert ours.scores["x4"] == pytest.approx(0.0, abs=0.02)  # unused input: no accuracy drop
    assert ours.scores["x1"] > 0.2 and ours.scores["x2"] > 0.2


# -- neuralsens partial derivatives -----------------------------------------------------------

def test_partial_derivatives_summary_equals_neuralsens(regression):
    model, X, y = regression
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    actfunc = ["identity"] + [model.activation] * (model.n_layers_ - 2) + [model.out_activation_]
    theirs = ns.jacobian_mlp(model.coefs_, model.intercepts_, actfunc, frame,
                             pd.DataFrame({"y": y})).sens[0]
    ours = varimp.partial_derivatives(model, frame)
    summary = ours.details["summary"].set_index("variable")
    n = len(X)
    np.testing.assert_allclose(summary["mean"], theirs["mean"], rtol=1e-6, atol=1e-9)
    # varimp reports the sample std (ddof=1); neuralsens numpy's default (ddof=0)
    np.testing.assert_allclose(summary["std"] * np.sqrt((n - 1) / n), theirs["std"],
                               rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(summary["rms"], theirs["mean_squared"], rtol=1e-6, atol=1e-9)
    # PaD (Dimopoulos et al. 1995): the sum of squared derivatives, n * rms^2
    np.testing.assert_allclose(ours.scores, n * theirs["mean_squared"] ** 2, rtol=1e-6)
