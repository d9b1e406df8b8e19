"""Forward stepwise addition and backward stepwise elimination with retraining.

References: every held-out error is recomputed by hand with scikit-learn (a deterministic
polynomial ridge as ``fit``); on Friedman #1 (5 informative, 5 noise inputs) both methods rank
the informative inputs first, with a ridge and with a real small network; a group of inputs
leaves and enters as one block (hand-computed refits with all its columns held); the numbers
are the same sequentially and on 2 joblib processes; sequences work with rebuilt PyTorch LSTM
and GRU networks and a Keras LSTM; the user's model, X and y are unchanged.
"""

from __future__ import annotations

import copy
import functools

import numpy as np
import pandas as pd
import pytest
import reliability_models as rm
import torch
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import KFold, TimeSeriesSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures
from torch import nn

import varimp
from varimp import InputError, ModelError

INFORMATIVE, NOISE = [f"x{i}" for i in range(1, 6)], [f"x{i}" for i in range(6, 11)]
METHODS = [varimp.forward_stepwise, varimp.backward_stepwise]


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    with rm.one_torch_thread():
        yield


@pytest.fixture(scope="module")
def friedman():
    X, y, _ = varimp.datasets.friedman1(300, random_state=0)
    return X, y


def poly_ridge(X: np.ndarray, y: np.ndarray):
    """A deterministic fit (it takes no seed): quadratic features, then ridge."""
    return make_pipeline(PolynomialFeatures(2), Ridge(1e-3)).fit(X, y)


def _held_out_mse(X, y, test, removed=(), drop=False, train=None) -> float:
    """The reference: the error of ``poly_ridge`` refitted on the ``train`` rows (default: all
    but ``test``) with ``removed`` columns held at their training mean (or dropped), on the
    held-out rows."""
    train = np.setdiff1d(np.arange(len(X)), test) if train is None else np.asarray(train)
    X = X.copy()
    if drop:
        X = np.delete(X, list(removed), axis=1)
    else:
        X[:, list(removed)] = X[train][:, list(removed)].mean(axis=0)
    model = poly_ridge(X[train], y[train])
    return mean_squared_error(y[test], model.predict(X[test]))


def _informative_first(result: varimp.Importance) -> None:
    scores = result.scores
    assert scores[INFORMATIVE].min() > scores[NOISE].max(), scores.round(3).to_dict()


@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.__name__)
def test_every_error_is_the_hand_computed_held_out_error(friedman, method):
    X, y = friedman
    result = method(rm.torch_mlp(p=10), X, y, fit=poly_ridge, random_state=3)
    test = np.array(result.details["held_out"]["rows"][0])
    assert len(test) == 75 and result.details["fit"] == {
        "how": "given", "fit": "poly_ridge", "seeding": varimp.refit.SEED_GLOBAL}
    path, errors = result.details["path"], result.details["errors"]
    backward = method is varimp.backward_stepwise
    removed = [] if backward else list(range(10))
    assert result.details["start"]["error"] == pytest.approx(
        _held_out_mse(X, y, test, removed), rel=1e-10)
    for _, row in path.iterrows():  # every candidate of every step, by hand
        step = int(row["step"])
        for name, value in errors.loc[step].dropna().items():
            j = int(name[1:]) - 1
            trial = removed + [j] if backward else [r for r in removed if r != j]
            assert value == pytest.approx(_held_out_mse(X, y, test, trial), rel=1e-10)
        assert row["error_after"] == errors.loc[step].min()
        j = int(row["variable"][1:]) - 1
        removed = removed + [j] if backward else [r for r in removed if r != j]
        sign = 1 if backward else -1
        assert row["change"] == pytest.approx(sign * (row["error_after"] - row["error_before"]))
    np.testing.assert_allclose(path["error_before"].to_numpy()[1:],
                               path["error_after"].to_numpy()[:-1])
    total = result.details["start"]["error"] - path["error_after"].iloc[-1]
    assert result.scores.sum() == pytest.approx(abs(total))  # no input minus all inputs
    assert result.kind == "loss" and result.by_time is None
    _informative_first(result)


GROUPS = {"late": ["x5", "x3"], "pair": ["x4", "x2"]}
BLOCKS = {"x1": [0], "pair": [3, 1], "late": [4, 2]}  # column order: each at its first column


@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.__name__)
def test_a_group_leaves_and_enters_as_one_block(method):
    """groups=: every candidate holds all of a group's columns at their training mean at once
    (the refit's held-out error by hand, ``poly_ridge``), the greedy path by hand over the
    blocks, and the results listed in column order."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 5))
    y = 2 * X[:, 0] - X[:, 3] + 0.5 * X[:, 1] + 0.1 * rng.normal(size=200)
    result = method(rm.torch_mlp(p=5), X, y, fit=poly_ridge, groups=GROUPS, random_state=0)
    test = np.array(result.details["held_out"]["rows"][0])
    assert list(result.scores.index) == ["x1", "pair", "late"]
    assert list(result.details["errors"].columns) == ["x1", "pair", "late"]

    def error(removed):
        return _held_out_mse(X, y, test, [j for name in removed for j in BLOCKS[name]])

    backward = method is varimp.backward_stepwise
    removed = [] if backward else list(BLOCKS)
    before, scores, order = error(removed), {}, []
    assert result.details["start"]["error"] == pytest.approx(before, rel=1e-10)
    for step in (1, 2, 3):
        candidates = [name for name in BLOCKS if (name in removed) != backward]
        trials = {name: removed + [name] if backward else [r for r in removed if r != name]
                  for name in candidates}
        after = {name: error(trial) for name, trial in trials.items()}
        for name, value in after.items():
            assert result.details["errors"].loc[step, name] == pytest.approx(value, rel=1e-10)
        pick = min(after, key=after.get)
        scores[pick] = after[pick] - before if backward else before - after[pick]
        order.append(pick)
        removed, before = trials[pick], after[pick]
    assert result.details["path"]["variable"].tolist() == order
    assert order == (["late", "pair", "x1"] if backward else ["x1", "pair", "late"])
    np.testing.assert_allclose(result.scores[list(scores)], list(scores.values()), rtol=1e-9,
                               atol=1e-12)


def test_drop_removes_columns_and_cv_averages_folds(friedman):
    X, y = friedman[0][:120, :4], friedman[1][:120]
    dropped = varimp.backward_stepwise(rm.torch_mlp(p=4), X, y, fit=poly_ridge,
                                       removal="drop", random_state=0)
    test = np.array(dropped.details["held_out"]["rows"][0])
    assert dropped.details["errors"].loc[1, "x2"] == pytest.approx(
        _held_out_mse(X, y, test, [1], drop=True), rel=1e-10)
    last = dropped.details["path"].iloc[-1]  # no input left: every column at its mean
    assert last["error_after"] == pytest.approx(_held_out_mse(X, y, test, range(4)), rel=1e-10)
    folded = varimp.forward_stepwise(rm.torch_mlp(p=4), X, y, fit=poly_ridge, cv=3)
    folds = [test for _, test in KFold(3).split(X)]
    assert [list(f) for f in folds] == folded.details["held_out"]["rows"]
    first = folded.details["errors"].loc[1, "x4"]
    expected = np.mean([_held_out_mse(X, y, f, [0, 1, 2]) for f in folds])
    assert first == pytest.approx(expected, rel=1e-10)


class _RowRecorder:
    """``poly_ridge`` that records the rows it was trained on, by their last column (time)."""

    def __init__(self):
        self.times = []

    def __call__(self, X, y):
        self.times.append(tuple(X[:, -1]) if X[:, -1].std() > 0 else None)
        return poly_ridge(X, y)


def test_time_series_and_explicit_folds_train_on_their_own_train_rows(friedman):
    """TimeSeriesSplit trains each fold on its past only, an explicit (train, test) fold on
    exactly its train rows: every fit sees exactly those rows, a removed column is held at
    their mean, and every error is the hand-computed one."""
    X, y = friedman[0][:120, :3].copy(), friedman[1][:120]
    X = np.column_stack([X, np.arange(120.0)])  # x4: time
    splitter = TimeSeriesSplit(3)
    folds = list(splitter.split(X))
    record = _RowRecorder()
    result = varimp.backward_stepwise(rm.torch_mlp(p=4), X, y, fit=record, cv=splitter)
    trained = {times for times in record.times if times is not None}
    assert trained == {tuple(float(t) for t in train) for train, _ in folds}  # 0-29, 0-59, 0-89
    held = result.details["held_out"]
    assert held["rows"] == [test.tolist() for _, test in folds]
    assert held["train_rows"] == [train.tolist() for train, _ in folds]
    for name, j in (("x2", 1), ("x4", 3)):
        expected = np.mean([_held_out_mse(X, y, test, [j], train=train)
                            for train, test in folds])
        assert result.details["errors"].loc[1, name] == pytest.approx(expected, rel=1e-10)

    explicit = [(np.arange(0, 50), np.arange(50, 60))]
    record = _RowRecorder()
    result = varimp.forward_stepwise(rm.torch_mlp(p=4), X, y, fit=record, cv=explicit)
    assert {times for times in record.times if times is not None} == {
        tuple(np.arange(50.0))}
    assert result.details["held_out"]["train_rows"] == [list(range(50))]
    expected = _held_out_mse(X, y, np.arange(50, 60), [0, 1, 3], train=np.arange(50))
    assert result.details["errors"].loc[1, "x3"] == pytest.approx(expected, rel=1e-10)


class _SeedRecorder:
    """A seeded fit that records the seed of each set of removed (constant) columns."""

    def __init__(self):
        self.seeds = {}

    def __call__(self, X, y, random_state):
        removed = tuple(int(j) for j in np.flatnonzero(X.std(axis=0) < 1e-12))
        self.seeds.setdefault(removed, set()).add(random_state)
        return poly_ridge(X, y)


@pytest.mark.parametrize("options", [{}, {"n_jobs": 2, "backend": "threading"}],
                         ids=["sequential", "two-workers"])
def test_every_fit_of_a_fold_shares_one_seed(friedman, options):
    """Common random numbers: every fit of a search gets the fold's seed (drawn from
    random_state, whatever the workers), so candidates differ by their inputs only."""
    X, y = friedman[0][:90, :4], friedman[1][:90]
    record = _SeedRecorder()
    result = varimp.backward_stepwise(rm.torch_mlp(p=4), X, y, fit=record, cv=3,
                                      random_state=5, **options)
    assert all(len(seeds) == 3 for seeds in record.seeds.values())  # one per fold
    assert len(record.seeds) == 11  # 1 + 4 + 3 + 2 + 1 distinct sets of removed inputs
    assert len(set().union(*record.seeds.values())) == 3
    seeds = result.details["start"]["seeds"]
    assert sorted(seeds) == sorted(record.seeds[()])
    assert all(row == seeds for row in result.details["path"]["seeds"])
    assert result.details["seeding"] == varimp.methods.retraining.COMMON_SEEDS


def test_a_fit_returning_the_given_model_is_refused(friedman):
    """A fit that trains the user's model in place and returns it: a ModelError that says so
    (the model has been changed by then; a bound ``model.fit`` is refused before any fit)."""
    from sklearn.linear_model import LinearRegression

    X, y = friedman[0][:60, :3], friedman[1][:60]
    model = LinearRegression().fit(X, y)
    with pytest.raises(ModelError, match="returned the given model itself: it trained the "
                                         "model you passed in place"):
        varimp.backward_stepwise(model, X, y, fit=lambda X, y: model.fit(X, y))
    with pytest.raises(InputError, match=r"fit=LinearRegression.fit is a method of the given "
                                         r"model"):
        varimp.forward_stepwise(model, X, y, fit=model.fit)


@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.__name__)
def test_a_real_small_network_ranks_friedman_informative_inputs_first(friedman, method):
    X, y = friedman
    model = varimp.train_mlp(X, y, hidden=(8,), epochs=30, random_state=0)
    X_before, y_before, state = X.copy(), y.copy(), {k: v.clone() for k, v in
                                                      model.state_dict().items()}
    # patience 20: with 5, training often stopped early enough for an informative input to
    # look useless (forward: the ranking held for 2 of random_state 0-5; with 20, for 6 of 6;
    # backward, with 20: 5 of 6, 3 misses it)
    fit = functools.partial(varimp.train_mlp, hidden=(8,), epochs=200, batch_size=64, lr=0.02,
                            validation_fraction=0.2, patience=20)
    result = method(model, X, y, fit=fit, random_state=0)
    _informative_first(result)
    assert np.array_equal(X, X_before) and np.array_equal(y, y_before)
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())


def test_same_numbers_sequentially_and_on_two_joblib_processes(friedman):
    X, y = friedman[0][:100, :4], friedman[1][:100]
    fit = functools.partial(varimp.train_mlp, hidden=(4,), epochs=10)  # a real, seeded network
    one = varimp.backward_stepwise(rm.plain_callable(p=4), X, y, fit=fit, random_state=4)
    two = varimp.backward_stepwise(rm.plain_callable(p=4), X, y, fit=fit, random_state=4,
                                   n_jobs=2)
    pd.testing.assert_series_equal(one.scores, two.scores, check_exact=True)
    pd.testing.assert_frame_equal(one.details["path"], two.details["path"], check_exact=True)
    pd.testing.assert_frame_equal(one.details["errors"], two.details["errors"],
                                  check_exact=True)


class _Recording:
    """``poly_ridge`` that records the inputs each fit had removed (columns held constant), and
    raises for any set of removed inputs outside ``allowed``."""

    def __init__(self, allowed: set | None = None):
        self.fitted, self.allowed = [], allowed

    def __call__(self, X, y):
        removed = tuple(int(j) for j in np.flatnonzero(X.std(axis=0) < 1e-12))
        self.fitted.append(removed)
        if self.allowed is not None and removed not in self.allowed:
            raise RuntimeError("a fit the steps one after another never make")
        return poly_ridge(X, y)


@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.__name__)
def test_two_workers_overlap_the_steps_with_the_sequential_numbers(friedman, method,
                                                                   monkeypatch):
    """Two workers: the first and last networks run with the first step, and a step whose
    fits would leave a worker idle also runs a fit of the next step on a guess of its pick;
    guessed fits are used only when the guess was right, and one that fails on a wrong guess
    stops nothing. Which fits are guessed depends on timing; the numbers never do."""
    X, y = friedman[0][:, :5], friedman[1]
    dispatched = []  # the fits each dispatch ran, those chosen ahead included
    execute = varimp.engines.RetrainEngine.execute

    def counted(engine, fits, evaluate, *args, **kwargs):
        values = execute(engine, fits, evaluate, *args, **kwargs)
        dispatched.append(len(values))
        return values

    monkeypatch.setattr(varimp.engines.RetrainEngine, "execute", counted)
    alone = _Recording()
    one = method(rm.torch_mlp(p=5), X, y, fit=alone, random_state=3)
    assert dispatched == [7, 4, 3, 2]  # 1 + 5 + 1, then the steps of 4, 3 and 2 candidates
    for fit in (_Recording(), _Recording(allowed=set(alone.fitted))):
        dispatched.clear()
        two = method(rm.torch_mlp(p=5), X, y, fit=fit, random_state=3, n_jobs=2,
                     backend="threading")
        for name in ("path", "errors"):
            pd.testing.assert_frame_equal(one.details[name], two.details[name],
                                          check_exact=True)
        pd.testing.assert_series_equal(one.scores, two.scores, check_exact=True)
        assert set(fit.fitted) >= set(alone.fitted) and sum(dispatched) == len(fit.fitted)
        # both workers busy to the end of every dispatch but the one of step 4, whose next
        # step (the last) ran with step 1
        assert dispatched[0] == 8 and all(n % 2 == 0 for n in dispatched[:-1]), dispatched


def _sequences(n: int = 96, steps: int = 4, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, steps, 3))
    y = 2.0 * X[:, -1, 0] + X[:, :, 1].mean(axis=1)  # x1 most, x2 some, x3 nothing
    return X, y


class _Recurrent(nn.Module):
    def __init__(self, cell):
        super().__init__()
        self.rnn, self.head = cell(3, 4, batch_first=True), nn.Linear(4, 1)

    def forward(self, x):
        return self.head(self.rnn(x)[0][:, -1])


@pytest.mark.parametrize("kind", ["torch-lstm", "torch-gru", "keras-lstm"])
def test_sequences_with_rebuilt_recurrent_networks(kind):
    X, y = _sequences()
    if kind == "keras-lstm":
        import keras

        model = keras.Sequential([keras.Input((4, 3)), keras.layers.LSTM(4),
                                  keras.layers.Dense(1)])
        before = [w.copy() for w in model.get_weights()]
    else:
        model = _Recurrent(nn.LSTM if kind == "torch-lstm" else nn.GRU)
        before = [v.clone() for v in model.state_dict().values()]
    X_before, y_before = X.copy(), y.copy()
    method = varimp.forward_stepwise if kind == "torch-gru" else varimp.backward_stepwise
    # every fit of the search shares one seed (common random numbers): with random_state 0 to
    # 7 the ranking holds for 7 of 8 (LSTM, backward; 0 misses it) and 8 of 8 (GRU, forward)
    result = method(model, X, y, random_state=1)
    assert result.by_time is None and list(result.scores.index) == ["x1", "x2", "x3"]
    assert result.ranks["x1"] == 1 and result.ranks["x3"] == 3, result.scores.to_dict()
    assert result.details["fit"]["trainer"] == "varimp.train_recurrent"
    assert np.array_equal(X, X_before) and np.array_equal(y, y_before)
    after = model.get_weights() if kind == "keras-lstm" else list(model.state_dict().values())
    assert all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(before, after,
                                                                              strict=True))


# -- failures ------------------------------------------------------------------------------------
X_SMALL, Y_SMALL = rm.tabular(20)


def _raises(X, y):
    raise RuntimeError("out of memory (simulated)")


def _nan_model(X, y):
    return lambda Z: np.full(len(Z), np.nan)


def _wrong_outputs(X, y):
    return lambda Z: np.zeros((len(Z), 2))


@pytest.mark.parametrize(("fit", "error", "fragment"), [
    (_raises, ModelError, r"fit \('backward', 0, 'all inputs'\) raised RuntimeError"),
    (_nan_model, ModelError, "NaN"),
    (_wrong_outputs, ModelError, "where the given model predicts"),
    ("adam", InputError, "fit must be a callable"),
], ids=["raises", "nan", "wrong-outputs", "not-callable"])
def test_a_failing_fit_names_the_fit(fit, error, fragment):
    with pytest.raises(error, match=fragment):
        varimp.backward_stepwise(rm.plain_callable(), X_SMALL, Y_SMALL, fit=fit)


@pytest.mark.parametrize(("options", "fragment"), [
    ({"validation_fraction": 0.0}, "validation_fraction"),
    ({"cv": 1}, "cv must be"),
    ({"removal": "zero"}, "removal"),
    ({"scoring": "mse2"}, "scoring"),
])
def test_bad_options_are_refused_at_the_door(options, fragment):
    with pytest.raises(InputError, match=fragment):
        varimp.forward_stepwise(rm.plain_callable(), X_SMALL, Y_SMALL, fit=rm.least_squares,
                                **options)


@pytest.fixture(scope="module")
def sorted_classes():
    """A binary classifier on a file sorted by class: unshuffled KFold folds train on one
    class each."""
    from sklearn.neural_network import MLPClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    labels = np.where(X[:, 0] > 0, "present", "absent")
    order = np.argsort(labels, kind="stable")
    X, labels = X[order], labels[order]
    model = MLPClassifier(hidden_layer_sizes=(2,), solver="lbfgs", max_iter=50,
                          random_state=0).fit(X, labels)
    return model, X, labels


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_an_int_cv_is_stratified_for_a_classifier(sorted_classes):
    from sklearn.model_selection import StratifiedKFold

    model, X, labels = sorted_classes
    result = varimp.backward_stepwise(model, X, labels, cv=2, random_state=0)
    expected = [np.sort(test).tolist() for _, test in StratifiedKFold(2).split(X, labels)]
    assert result.details["held_out"]["rows"] == expected
    assert np.isfinite(result.scores).all()


def test_folds_that_train_a_classifier_on_one_class_are_blamed(sorted_classes):
    model, X, labels = sorted_classes
    calls = []

    def fit(X, y):
        calls.append(len(y))
        return model

    with pytest.raises(InputError, match=r"fold 1 of cv=.*KFold.* leaves a single class, "
                                         r"'present', in the rows a classifier is trained on"):
        varimp.backward_stepwise(model, X, labels, cv=KFold(2), fit=fit)
    assert calls == []  # refused before any fit


class FixedNetwork:
    """``fit`` that returns a copy of the same network whatever the data: a candidate's
    held-out error is then that of this network with the removed inputs held at their training
    mean, which the tests below recompute by hand (a copy: a fit returning the given model
    itself is refused, as it would have trained it in place)."""

    def __init__(self, network: nn.Module):
        self.network = network

    def __call__(self, X, y):
        return copy.deepcopy(self.network)


def _hand_stepwise(direction, predict, X, Y, test, errors):
    """The greedy path by hand: the held-out ``errors(Y_test, P_test)`` (each output's) of the
    network with removed columns at their training mean; scores and each output's change."""
    train = np.setdiff1d(np.arange(len(X)), test)
    means = X[train].mean(axis=0)

    def each(removed):
        Z = X[test].copy()
        Z[:, removed] = means[removed]
        return np.asarray(errors(Y[test], predict(Z)))

    backward = direction == "backward"
    removed = [] if backward else list(range(X.shape[1]))
    before = each(removed)
    scores, per_output = {}, {}
    remaining = list(range(X.shape[1]))
    while remaining:
        trials = [removed + [v] if backward else [r for r in removed if r != v]
                  for v in remaining]
        after = [each(trial) for trial in trials]
        pick = int(np.argmin([a.mean() for a in after]))
        v = remaining.pop(pick)
        change = after[pick] - before if backward else before - after[pick]
        scores[f"x{v + 1}"], per_output[f"x{v + 1}"] = change.mean(), change
        removed, before = trials[pick], after[pick]
    return pd.Series(scores), pd.DataFrame(per_output).T


def test_multi_label_outputs_are_stepwise_scored_as_binary_labels_with_per_output_changes():
    """Three sigmoid outputs (multi-label, decided from the model) with a multi-hot y: every
    held-out error is the mean of each label's log loss (sklearn), and details["per_output"]
    holds each label's own change at the step the variable left, from the same fits."""
    from sklearn.metrics import log_loss

    rng = np.random.default_rng(11)
    X = rng.normal(size=(120, 3))
    C = np.array([[1.5, 0.0, 1.0], [0.0, -2.0, 1.0], [0.2, 0.0, 0.0]])
    Y = (X @ C + 0.7 * rng.normal(size=(120, 3)) > 0).astype(int)
    linear = nn.Linear(3, 3).double()
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(C.T))
        linear.bias.zero_()
    network = nn.Sequential(linear, nn.Sigmoid())

    def predict(Z):
        return 1 / (1 + np.exp(-(Z @ C)))

    def errors(y, p):
        return [log_loss(y[:, k], p[:, k], labels=[0, 1]) for k in range(3)]

    result = varimp.backward_stepwise(network, X, Y, fit=FixedNetwork(network), random_state=2)
    test = np.array(result.details["held_out"]["rows"][0])
    scores, per_output = _hand_stepwise("backward", predict, X, Y, test, errors)
    assert result.details["measure"] == "increase in log loss"
    np.testing.assert_allclose(result.scores[scores.index], scores, rtol=1e-9, atol=1e-12)
    table = result.details["per_output"]
    assert list(table.columns) == ["output 0", "output 1", "output 2"]
    np.testing.assert_allclose(table.loc[per_output.index].to_numpy(), per_output.to_numpy(),
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(table.mean(axis=1), result.scores, rtol=1e-9, atol=1e-12)


def test_several_regression_outputs_have_per_output_changes_in_forward_stepwise():
    rng = np.random.default_rng(12)
    X = rng.normal(size=(100, 3))
    W = np.array([[1.0, 0.0], [0.0, 2.0], [0.5, -0.5]])
    Y = pd.DataFrame(X @ W + 0.3 * rng.normal(size=(100, 2)), columns=["flow", "temp"])
    linear = nn.Linear(3, 2).double()
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(W.T))
        linear.bias.zero_()

    def errors(y, p):
        return [mean_squared_error(y[:, k], p[:, k]) for k in range(2)]

    result = varimp.forward_stepwise(linear, X, Y, fit=FixedNetwork(linear), random_state=5)
    test = np.array(result.details["held_out"]["rows"][0])
    scores, per_output = _hand_stepwise("forward", lambda Z: Z @ W, X, Y.to_numpy(), test,
                                        errors)
    np.testing.assert_allclose(result.scores[scores.index], scores, rtol=1e-9, atol=1e-12)
    table = result.details["per_output"]
    assert list(table.columns) == ["flow", "temp"]
    np.testing.assert_allclose(table.loc[per_output.index].to_numpy(), per_output.to_numpy(),
                               rtol=1e-9, atol=1e-12)
    # one output selected: no per-output table, the score is that output's change
    temp = varimp.forward_stepwise(linear, X, Y, fit=FixedNetwork(linear), output="temp",
                                   random_state=5)
    assert "per_output" not in temp.details
    hand, _ = _hand_stepwise("forward", lambda Z: (Z @ W)[:, 1:], X, Y.to_numpy()[:, 1:], test,
                             lambda y, p: [mean_squared_error(y, p)])
    np.testing.assert_allclose(temp.scores[hand.index], hand, rtol=1e-9, atol=1e-12)
