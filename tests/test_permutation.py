"""Permutation importance against closed forms on linear models, scorers, subsamples, sequences
and the reference LSTM task."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import make_scorer, mean_absolute_error, r2_score

import varimp
from varimp import InputError
from varimp.engines import DRAW_KEY, REPEAT_KEY, generator, seed_from
from varimp.scoring import Scorer

B = np.array([3.0, -1.0, 0.5, 0.0])


def linear(X):
    return X @ B


def permutations(random_state, n_repeats, n):
    """The permutation of ``n`` rows each repeat draws once, for all its variables and cells."""
    seed = seed_from(random_state)
    return [generator(seed, DRAW_KEY, r).permutation(n) for r in range(n_repeats)]


def test_expected_increase_is_twice_b_squared_variance():
    X = np.random.default_rng(0).normal(size=(20000, 4)) * np.array([1.0, 0.5, 2.0, 1.0])
    result = varimp.permutation(linear, X, linear(X), n_repeats=5, random_state=0)
    expected = 2 * B**2 * X.var(axis=0)  # E over permutations, exact for the population
    np.testing.assert_allclose(result.scores, expected, rtol=0.03, atol=1e-12)
    assert result.details["measure"] == "increase in mean squared error"
    assert result.std is not None and result.details["importances"].shape == (5, 4)


def test_exact_finite_sample_increase_per_repeat():
    X = np.random.default_rng(1).normal(size=(64, 4))
    result = varimp.permutation(linear, X, linear(X), n_repeats=3, random_state=5)
    for j in range(4):
        perms = permutations(5, 3, 64)
        exact = [B[j] ** 2 * np.mean((X[p, j] - X[:, j]) ** 2) for p in perms]
        np.testing.assert_allclose(result.details["importances"].iloc[:, j], exact, rtol=1e-12,
                                   atol=1e-15)
        assert result.scores.iloc[j] == pytest.approx(np.mean(exact), rel=1e-12, abs=1e-15)
        assert result.std.iloc[j] == pytest.approx(np.std(exact, ddof=1), rel=1e-9, abs=1e-15)


def test_scorers_mae_r2_callable():
    X = np.random.default_rng(2).normal(size=(80, 4))
    y = linear(X) + np.random.default_rng(3).normal(size=80) * 0.1
    perm = permutations(0, 1, 80)[0]
    Z = X.copy()
    Z[:, 0] = X[perm, 0]
    mae = varimp.permutation(linear, X, y, scoring="mae", n_repeats=1, random_state=0)
    expected = np.mean(np.abs(y - linear(Z))) - np.mean(np.abs(y - linear(X)))
    assert mae.scores["x1"] == pytest.approx(expected, rel=1e-12)
    for scorer in (make_scorer(mean_absolute_error, greater_is_better=False),
                   Scorer(mean_absolute_error, greater_is_better=False),
                   "neg_mean_absolute_error"):
        as_scorer = varimp.permutation(linear, X, y, scoring=scorer, n_repeats=1, random_state=0)
        pd.testing.assert_series_equal(mae.scores, as_scorer.scores)
        assert as_scorer.details["measure"] == "increase in mean absolute error"
    total = np.sum((y - y.mean()) ** 2)
    drop = (np.sum((y - linear(Z)) ** 2) - np.sum((y - linear(X)) ** 2)) / total
    for scorer in ("r2", make_scorer(r2_score), Scorer(r2_score, greater_is_better=True)):
        r2 = varimp.permutation(linear, X, y, scoring=scorer, n_repeats=1, random_state=0)
        assert r2.scores["x1"] == pytest.approx(drop, rel=1e-12)  # a drop of R2 is positive
        assert r2.details["measure"] == ("drop in r2" if scorer == "r2" else "drop in r2 score")
        assert r2.details["baseline"] == pytest.approx(1 - np.sum((y - linear(X)) ** 2) / total)
    with pytest.raises(InputError, match="direction"):  # r2_score read as an error flips signs
        varimp.permutation(linear, X, y, scoring=r2_score)


def test_classifier_log_loss_auto_and_accuracy():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(300, 3))
    labels = (X[:, 0] + 0.3 * X[:, 1] > 0).astype(float)

    def proba(X):  # two class probabilities
        p1 = 1 / (1 + np.exp(-3 * (X[:, 0] + 0.3 * X[:, 1])))
        return np.column_stack([1 - p1, p1])

    with pytest.raises(InputError, match="output_kind='probability'"):
        varimp.permutation(proba, X, labels)  # a function's outputs are read as values
    auto = varimp.permutation(proba, X, labels, n_repeats=1, random_state=1,
                              output_kind="probability")
    assert auto.details["measure"] == "increase in log loss"
    perm = permutations(1, 1, 300)[0]
    Z = X.copy()
    Z[:, 0] = X[perm, 0]

    def log_loss(P):
        return -np.mean(np.log(np.where(labels == 1, P[:, 1], P[:, 0])))

    assert auto.scores["x1"] == pytest.approx(log_loss(proba(Z)) - log_loss(proba(X)), rel=1e-9)
    accuracy = varimp.permutation(proba, X, labels, scoring="accuracy", n_repeats=1,
                                  random_state=1, output_kind="probability")
    correct = np.mean(proba(X).argmax(1) == labels) - np.mean(proba(Z).argmax(1) == labels)
    assert accuracy.scores["x1"] == pytest.approx(correct)
    assert auto.scores["x3"] == 0.0 and auto.scores["x1"] > auto.scores["x2"] > 0


def test_max_samples_subsample_per_repeat():
    X = np.random.default_rng(5).normal(size=(100, 4))
    y = linear(X)
    result = varimp.permutation(linear, X, y, n_repeats=2, max_samples=0.3, random_state=2)
    seed = seed_from(2)
    for r in range(2):
        rows = np.sort(generator(seed, REPEAT_KEY, r).choice(100, 30, replace=False))
        perm = generator(seed, DRAW_KEY, r).permutation(30)
        sub = X[rows, 1]
        expected = B[1] ** 2 * np.mean((sub[perm] - sub) ** 2)
        assert result.details["importances"].iloc[r, 1] == pytest.approx(expected, rel=1e-12)
    assert varimp.permutation(linear, X, y, max_samples=100).details["max_samples"] == 100


def test_sequences_whole_sequence_and_cells():
    rng = np.random.default_rng(6)
    W = rng.normal(size=(4, 2))
    X = rng.normal(size=(50, 4, 2))

    def model(X):
        return np.einsum("ntp,tp->n", X, W)

    y = model(X)
    result = varimp.permutation(model, X, y, n_repeats=2, random_state=3)
    perms = permutations(3, 2, 50)  # one per repeat, shared by variables and cells
    for j in range(2):  # whole sequence: every step moves with the same permutation
        exact = [np.mean((np.einsum("nt,t->n", X[p, :, j] - X[:, :, j], W[:, j])) ** 2)
                 for p in perms]
        assert result.scores.iloc[j] == pytest.approx(np.mean(exact), rel=1e-12)
    for t in range(4):
        for j in range(2):
            exact = [W[t, j] ** 2 * np.mean((X[p, t, j] - X[:, t, j]) ** 2) for p in perms]
            assert result.by_time.iloc[t, j] == pytest.approx(np.mean(exact), rel=1e-12)


def test_one_hot_group_moves_together_and_per_step_targets():
    rng = np.random.default_rng(7)
    onehot = np.eye(3)[rng.integers(0, 3, size=60)]
    X = np.column_stack([onehot, rng.normal(size=60)])
    weights = np.array([1.0, -2.0, 0.5, 1.0])
    result = varimp.permutation(lambda X: X @ weights, X, X @ weights, n_repeats=1,
                                groups={"colour": ["x1", "x2", "x3"]}, random_state=4)
    perm = permutations(4, 1, 60)[0]
    Z = X.copy()
    Z[:, :3] = X[perm, :3]  # rows of the block move together: still one-hot
    assert result.scores["colour"] == pytest.approx(np.mean((Z @ weights - X @ weights) ** 2))
    assert list(result.scores.index) == ["colour", "x4"]

    Xs = rng.normal(size=(40, 3, 2))
    per_step = varimp.permutation(lambda X: (X @ [1.0, 0.0])[..., None], Xs, Xs[:, :, 0],
                                  n_repeats=1, random_state=5, output_step=1, by_time=False)
    perm = permutations(5, 1, 40)[0]
    assert per_step.scores["x1"] == pytest.approx(np.mean((Xs[perm, 1, 0] - Xs[:, 1, 0]) ** 2))
    assert per_step.scores["x2"] == 0.0 and per_step.by_time is None


def test_same_random_state_same_result():
    X = np.random.default_rng(8).normal(size=(100, 4))
    a = varimp.permutation(linear, X, linear(X), random_state=3)
    b = varimp.importance(linear, X, linear(X), method="permutation", random_state=3)
    pd.testing.assert_series_equal(a.scores, b.scores)
    c = varimp.permutation(linear, X, linear(X), random_state=4)
    assert not np.allclose(a.scores.iloc[:3], c.scores.iloc[:3])


@pytest.mark.parametrize("options, match", [
    ({"n_repeats": 0}, "n_repeats"), ({"scoring": "bogus"}, "scoring"),
    ({"scoring": 3}, "scoring"), ({"max_samples": 0}, "max_samples"),
    ({"max_samples": 1.5}, "max_samples"), ({"max_samples": 500}, "max_samples"),
    ({"groups": {"g": ["x9"]}}, "x9"), ({"by_time": None}, "by_time"),
])
def test_bad_options_raise_input_error(options, match):
    X = np.random.default_rng(0).normal(size=(20, 4))
    with pytest.raises(InputError, match=match):
        varimp.permutation(linear, X, linear(X), **options)


def test_targets_required_and_checked():
    X = np.random.default_rng(0).normal(size=(20, 4))
    with pytest.raises(InputError, match="y"):
        varimp.permutation(linear, X, None)
    with pytest.raises(InputError, match="y must match"):
        varimp.permutation(linear, X, np.zeros((20, 3)))
    with pytest.raises(InputError, match="needs class probabilities"):
        varimp.permutation(linear, X, linear(X), scoring="log_loss")


def test_reference_lstm_task_x1_x2_far_above_x3():
    X, y, _ = varimp.datasets.product_threshold(2000, 10, random_state=0)
    model = varimp.train_recurrent(X, y, units=(16,), head=True, activations="tanh", epochs=8,
                                   batch_size=32, lr=0.02, random_state=0)
    X_test, y_test, _ = varimp.datasets.product_threshold(250, 10, random_state=1)
    result = varimp.permutation(model, X_test, y_test, n_repeats=3, random_state=0)
    scores = result.scores
    assert result.details["measure"] == "increase in log loss"
    assert scores["x1"] >= 10 * abs(scores["x3"]) and scores["x2"] >= 10 * abs(scores["x3"])
    assert result.by_time.shape == (10, 3)
    assert (result.by_time[["x1", "x2"]].min() > 10 * result.by_time["x3"].abs().max()).all()


def _untrained_float32():
    import torch

    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.Tanh(),
                               torch.nn.Linear(5, 1)).eval()


def test_a_constant_column_scores_exactly_zero_with_a_warning():
    """Permuting a column that holds one value leaves X as it is: exactly 0 (an untrained
    float32 network gave it 1.2e-8 of rounding, rank 1), named in one warning; the others'
    scores are those of the same call on X without that column's copies."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    X[:, 2] = 5.0
    y = 2 * X[:, 0] + 0.5 * X[:, 1]
    with pytest.warns(UserWarning, match=r"'x3' holds one value in every sample: permutation "
                                         r"cannot measure a constant input") as caught:
        result = varimp.permutation(_untrained_float32(), X, y, random_state=0)
    assert sum("constant input" in str(w.message) for w in caught) == 1
    assert result.scores["x3"] == 0.0 and result.std["x3"] == 0.0
    assert (result.details["importances"]["x3"] == 0.0).all()
    # a callable: only the base and the two other variables' copies reach the model
    rows = []

    def f(Z):
        rows.append(len(Z))
        return linear(np.column_stack([Z, Z[:, :1]]))

    with pytest.warns(UserWarning, match="'x3' holds one value"):
        exact = varimp.permutation(f, X, y, n_repeats=2, random_state=1)
    assert sum(rows) == 40 + 2 * 2 * 40 and exact.scores["x3"] == 0.0


def test_a_constant_group_and_sequence_variable_score_exactly_zero():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(30, 4))
    X[:, 1:3] = [1.0, -2.0]
    with pytest.warns(UserWarning, match=r"'G' holds one value"):
        grouped = varimp.permutation(linear, X, linear(X), groups={"G": ["x2", "x3"]},
                                     random_state=0)
    assert grouped.scores["G"] == 0.0 and grouped.scores["x1"] > 0
    S = rng.normal(size=(30, 5, 2))
    S[:, :, 1] = np.arange(5.0)  # the same sequence in every sample: a trend, no spread

    def seq(Z):
        return Z[:, :, 0].sum(axis=1) + Z[:, :, 1].sum(axis=1) ** 2

    with pytest.warns(UserWarning, match=r"'x2' holds one value in every sample \(at every "
                                         r"time step\)"):
        result = varimp.permutation(seq, S, seq(S), random_state=0)
    assert result.scores["x2"] == 0.0 and (result.by_time["x2"] == 0.0).all()
    assert result.scores["x1"] > 0


def test_a_model_whose_number_of_outputs_changes_is_a_model_error():
    X = np.random.default_rng(2).normal(size=(40, 4))
    calls = []

    def changing(Z):  # one output on the first call, two afterwards
        calls.append(1)
        out = linear(Z)
        return out if len(calls) == 1 else np.column_stack([out, out])

    with pytest.raises(varimp.ModelError, match=r"returned 1 output\(s\) per sample on an "
                                                r"earlier call and 2 now"):
        varimp.permutation(changing, X, linear(X), random_state=0)


def test_values_beyond_the_model_dtype_are_refused_naming_the_column():
    """1e39 is beyond float32 (3.4e38): cast, it would be inf. A float64 twin reads it."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 3))
    X[:, 1] *= 1e39
    y = X[:, 0]
    model = _untrained_float32()
    with pytest.raises(InputError, match=r"column\(s\) 'x2' hold values as large as .*e\+39 "
                                         r".*range of float32 \(\+-3\.403e\+38\)"):
        varimp.permutation(model, X, y, random_state=0)
    result = varimp.permutation(model.double(), X, y, random_state=0)
    assert np.isfinite(result.scores).all()
