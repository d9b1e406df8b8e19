"""What a score means: output kinds decided from the model, scikit-learn scorers, class labels of
any type, several outputs, and the reference each number is checked against (sklearn.metrics
called directly on hand-built predictions)."""

import copy
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn import metrics
from sklearn.neural_network import MLPClassifier, MLPRegressor
from torch import nn

import varimp
from varimp import InputError
from varimp.scoring import Scorer

RNG = np.random.default_rng(0)
X = RNG.normal(size=(400, 3))
W = np.array([[2.0, -1.0, 0.0], [0.5, 1.5, -1.0], [0.0, 0.0, 0.0]])  # x3 drives nothing
B = np.array([0.1, -0.2, 0.3])
LABELS = np.array(["low", "mid", "high"])
Y_INDEX = (X @ W + B + RNG.gumbel(size=(400, 3))).argmax(axis=1)
Y_TEXT = LABELS[Y_INDEX]


def logits_net(softmax: bool = False) -> nn.Module:
    linear = nn.Linear(3, 3).double()
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(W.T))
        linear.bias.copy_(torch.from_numpy(B))
    return nn.Sequential(linear, nn.Softmax(dim=-1)) if softmax else nn.Sequential(linear)


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def held(j):
    Z = X.copy()
    Z[:, j] = X[:, j].mean()
    return Z


def increase(metric, y, proba_of, **kwargs):
    """Improved stepwise 1 by hand: metric(held input) - metric(all inputs)."""
    base = metric(y, proba_of(X), **kwargs)
    return np.array([metric(y, proba_of(held(j)), **kwargs) - base for j in range(3)])


def test_classes_for_outputs_read_as_regression_values_are_refused_for_every_method():
    """One rule: classes= names a classifier's outputs, so for outputs read as regression
    values (not ignored, nor contradicted later by "the outputs have no names") it is an
    InputError that says how to declare a classifier; declared, output="mid" is output 1."""
    net = logits_net()  # a Linear last layer: read as regression values
    rule = (r"classes=\['low', 'mid', 'high'\] was given, but classes name the outputs of a "
            r"classifier and this model's outputs are read as regression values \(decided "
            r"from the model: its last layer is no softmax or sigmoid\): if the model is a "
            r"classifier, pass output_kind='logits' .* or output_kind='probability'")
    with pytest.raises(InputError, match=rule):
        varimp.partial_derivatives(net, X, classes=list(LABELS), output="mid")
    for method in varimp.available_methods():  # through importance(), y or not
        needs_y = varimp.registry.method_spec(method).needs_y
        with pytest.raises(InputError, match=rule):
            varimp.importance(net, X, Y_TEXT if needs_y else None, method=method,
                              classes=list(LABELS), random_state=0)
    with pytest.raises(InputError, match=r"\(output_kind='regression' was given\)"):
        varimp.perturbation(net, X, output_kind="regression", classes=list(LABELS))
    with pytest.raises(InputError, match=rule):
        varimp.compare(net, X, classes=list(LABELS))
    declared = varimp.partial_derivatives(net, X, output_kind="logits", classes=list(LABELS),
                                          output="mid")
    pd.testing.assert_series_equal(
        declared.scores, varimp.partial_derivatives(net, X, output_kind="logits",
                                                    output=1).scores)
    # d softmax_1 / dx_j = p_1 (W[j, 1] - sum_k p_k W[j, k]); PaD: its square summed over rows
    p = softmax(X @ W + B)
    grad = p[:, [1]] * (W[:, 1][None, :] - p @ W.T)
    np.testing.assert_allclose(declared.scores.to_numpy(), (grad**2).sum(axis=0), rtol=1e-6)
    plain = varimp.compare(net, X, random_state=0, n_repeats=1)  # the loop without classes
    assert "perturbation" in plain.results and "partial_derivatives" in plain.results


def test_logits_with_labels_are_refused_until_declared_then_scored_as_probabilities():
    with pytest.raises(InputError, match="output_kind='logits'") as info:
        varimp.improved_stepwise_1(logits_net(), X, Y_INDEX)
    assert "regression values" in str(info.value)
    result = varimp.improved_stepwise_1(logits_net(), X, Y_TEXT, output_kind="logits",
                                        classes=list(LABELS))
    expected = increase(metrics.log_loss, Y_INDEX, lambda Z: softmax(Z @ W + B))
    np.testing.assert_allclose(result.scores, expected, rtol=1e-9, atol=1e-12)
    assert result.kind == "loss" and result.details["measure"] == "increase in log loss"
    assert result.scores["x3"] == 0.0 and result.ranks["x3"] == 3
    same = varimp.improved_stepwise_1(logits_net(softmax=True), X, Y_TEXT,
                                      classes=list(LABELS))  # a Softmax layer: probabilities
    np.testing.assert_allclose(same.scores, result.scores, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("scoring, metric, kwargs, response, sign", [
    ("accuracy", metrics.accuracy_score, {}, "label", -1),
    ("balanced_accuracy", metrics.balanced_accuracy_score, {}, "label", -1),
    ("roc_auc_ovr", metrics.roc_auc_score, {"multi_class": "ovr"}, "proba", -1),
    # a loss behind a neg_ name counts by its increase, with the loss's own (positive) sign
    ("neg_brier_score", metrics.brier_score_loss, {"labels": [0, 1, 2]}, "proba", 1),
])
def test_scikit_learn_scorer_names_are_scikit_learn_metrics(scoring, metric, kwargs, response,
                                                           sign):
    result = varimp.improved_stepwise_1(logits_net(), X, Y_INDEX, output_kind="logits",
                                        scoring=scoring)

    def predicted(Z):
        proba = softmax(Z @ W + B)
        return proba.argmax(axis=1) if response == "label" else proba

    expected = sign * increase(metric, Y_INDEX, predicted, **kwargs)
    np.testing.assert_allclose(result.scores, expected, rtol=1e-9, atol=1e-12)
    assert result.details["measure"].startswith("drop in " if sign < 0 else "increase in ")


def test_the_brier_score_of_several_classes_is_the_mean_squared_distance_to_one_hot():
    """The multi-class Brier score by hand: the mean over rows of the squared distance between
    the probabilities and the one-hot label; x1 and x2 held at their mean raise it by
    0.2147 and 0.1454, x3 (no weight) by nothing."""
    result = varimp.improved_stepwise_1(logits_net(), X, Y_INDEX, output_kind="logits",
                                        scoring="neg_brier_score")

    def brier(y, proba):
        return np.mean(np.sum((np.eye(3)[y] - proba) ** 2, axis=1))

    expected = increase(brier, Y_INDEX, lambda Z: softmax(Z @ W + B))
    np.testing.assert_allclose(result.scores, expected, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(result.scores, [0.2147, 0.1454, 0.0], atol=5e-5)
    assert result.details["measure"] == "increase in brier score"


def test_a_regression_metric_on_a_classifier_compares_probabilities_with_one_hot_targets():
    result = varimp.improved_stepwise_1(logits_net(softmax=True), X, Y_INDEX, scoring="mse")
    onehot = np.eye(3)[Y_INDEX]
    expected = increase(metrics.mean_squared_error, onehot, lambda Z: softmax(Z @ W + B))
    np.testing.assert_allclose(result.scores, expected, rtol=1e-9)


def test_any_class_labels_mapped_through_the_models_classes():
    numeric = varimp.improved_stepwise_1(logits_net(), X, Y_INDEX, output_kind="logits")
    for y, classes in ((Y_INDEX + 1, [1, 2, 3]), (Y_TEXT, ["low", "mid", "high"]),
                       (Y_INDEX.reshape(-1, 1), None), (np.eye(3)[Y_INDEX], None),
                       (pd.Series(Y_TEXT), ["low", "mid", "high"])):
        got = varimp.improved_stepwise_1(logits_net(), X, y, output_kind="logits",
                                         classes=classes)
        pd.testing.assert_series_equal(got.scores, numeric.scores)
    with pytest.raises(InputError, match=r"labels \['top'\] that are not among the model"):
        varimp.improved_stepwise_1(logits_net(), X, np.where(Y_INDEX == 0, "top", Y_TEXT),
                                   output_kind="logits", classes=list(LABELS))
    with pytest.raises(InputError, match="classes must list the 3"):
        varimp.improved_stepwise_1(logits_net(), X, Y_TEXT, output_kind="logits",
                                   classes=["low", "mid"])


def test_scikit_learn_classifier_with_string_labels_uses_its_classes():
    y = np.where(X[:, 0] + 0.5 * X[:, 1] > 0, "yes", "no")
    clf = MLPClassifier(hidden_layer_sizes=(6,), max_iter=400, random_state=0).fit(X, y)
    result = varimp.improved_stepwise_1(clf, X, y)
    expected = increase(metrics.log_loss, y, clf.predict_proba)  # sklearn maps the labels
    np.testing.assert_allclose(result.scores, expected, rtol=1e-9, atol=1e-12)
    auc = varimp.improved_stepwise_1(clf, X, y, scoring="roc_auc")
    np.testing.assert_allclose(
        auc.scores, -increase(metrics.roc_auc_score, y == "yes",
                              lambda Z: clf.predict_proba(Z)[:, 1]), rtol=1e-9, atol=1e-12)


def test_default_scoring_follows_the_model_not_the_values_of_the_data():
    """A regressor whose predictions lie in [0, 1] and whose targets are 0/1 is still scored by
    MSE, at every step of improved stepwise 2 (it once flipped to log loss); the 0/1 targets
    of an output read as a value give one UserWarning naming output_kind='logits'."""
    y01 = (X[:, 0] > 0).astype(float)
    reg = MLPRegressor(hidden_layer_sizes=(5,), activation="logistic", max_iter=50,
                       random_state=0).fit(X, y01)
    pred = reg.predict(X)
    assert pred.min() >= 0 and pred.max() <= 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = varimp.improved_stepwise_2(reg, X, y01)
    ours = [w for w in caught if "two distinct values only (0 and 1)" in str(w.message)]
    assert len(ours) == 1 and ours[0].category is UserWarning
    assert "regression (mean squared error" in str(ours[0].message)
    assert "output_kind='logits'" in str(ours[0].message)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        declared = varimp.improved_stepwise_2(reg, X, y01, output_kind="regression")
    assert not [w for w in caught if "two distinct values only" in str(w.message)]
    pd.testing.assert_series_equal(declared.scores, result.scores)
    assert result.details["measure"] == "increase in mean squared error"
    path = result.details["path"]
    means, current = X.mean(axis=0), X.copy()
    for _, row in path.iterrows():
        before = metrics.mean_squared_error(y01, reg.predict(current))
        current[:, int(row["removed"][1:]) - 1] = means[int(row["removed"][1:]) - 1]
        assert row["error_before"] == pytest.approx(before, rel=1e-9)
        assert row["error_after"] == pytest.approx(
            metrics.mean_squared_error(y01, reg.predict(current)), rel=1e-9)


def test_two_label_values_other_than_0_1_for_a_value_output_warn_as_0_1_do():
    """Labels {1, 2} (or {-1, 1}) for one output read as a value are class labels as much as
    0/1 are: the same UserWarning naming output_kind, and still scored by MSE (by hand)."""
    f = lambda Z: 1.5 + 0.4 * Z[:, 0]  # noqa: E731
    for labels in ([1, 2], [-1.0, 1.0]):
        y = np.where(X[:, 0] > 0, labels[1], labels[0])
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = varimp.improved_stepwise_1(f, X, y)
        shown = " and ".join(f"{v:g}" for v in labels)
        ours = [w for w in caught if f"two distinct values only ({shown})" in str(w.message)]
        assert len(ours) == 1 and ours[0].category is UserWarning
        assert "output_kind='logits'" in str(ours[0].message)
        expected = increase(metrics.mean_squared_error, y, f)
        np.testing.assert_allclose(result.scores, expected, rtol=1e-9, atol=1e-12)
    with warnings.catch_warnings(record=True) as caught:  # three values: no warning
        warnings.simplefilter("always")
        varimp.improved_stepwise_1(f, X, np.digitize(X[:, 0], [-0.5, 0.5]).astype(float))
    assert not [w for w in caught if "distinct values" in str(w.message)]


def test_a_bare_callable_must_state_its_direction_and_metrics_get_2d_arrays():
    X3 = RNG.normal(size=(50, 4, 2))
    y3 = X3.sum(axis=2)  # (n, T): one target per step

    def model(Z):
        return Z.sum(axis=2)  # (n, T) read as one prediction per step

    seen = []

    def mse(y_true, y_pred):
        seen.append((y_true.ndim, y_pred.ndim, y_true.shape))
        return metrics.mean_squared_error(y_true, y_pred)

    with pytest.raises(InputError, match="greater_is_better"):
        varimp.improved_stepwise_1(model, X3, y3, scoring=mse)
    result = varimp.improved_stepwise_1(model, X3, y3, scoring=Scorer(mse, False),
                                        by_time=False)
    assert {s[:2] for s in seen} == {(1, 1)} and seen[0][2] == (200,)  # steps are samples
    reference = varimp.improved_stepwise_1(model, X3, y3, scoring="mse", by_time=False)
    pd.testing.assert_series_equal(result.scores, reference.scores)


def test_several_outputs_one_rule_and_output_names():
    """Regression: the MSE of several outputs is their mean (uniform_average); a DataFrame y
    names the outputs; ``output`` takes a list. Classifier: selected classes are scored one
    versus rest and averaged."""
    C = np.array([[1.0, 0.0, 2.0], [0.0, 1.0, 0.0], [0.5, 0.5, 0.0]])

    def three(Z):
        return Z @ C

    y = pd.DataFrame(three(X) + RNG.normal(size=(400, 3)) * 0.1, columns=["a", "b", "c"])
    both = varimp.improved_stepwise_1(three, X, y, output=["b", "c"])
    one_b = varimp.improved_stepwise_1(three, X, y, output="b")
    one_c = varimp.improved_stepwise_1(three, X, y, output=2)
    np.testing.assert_allclose(both.scores, (one_b.scores + one_c.scores) / 2, rtol=1e-9)
    expected = increase(metrics.mean_squared_error, y.to_numpy()[:, 1:],
                        lambda Z: three(Z)[:, 1:])
    np.testing.assert_allclose(both.scores, expected, rtol=1e-9)
    with pytest.raises(InputError, match="output names are"):
        varimp.improved_stepwise_1(three, X, y, output="zz")
    ovr = varimp.improved_stepwise_1(logits_net(), X, Y_TEXT, output_kind="logits",
                                     classes=list(LABELS), output=["mid", "high"])
    parts = [increase(metrics.log_loss, Y_INDEX == c, lambda Z, c=c: softmax(Z @ W + B)[:, c])
             for c in (1, 2)]
    np.testing.assert_allclose(ovr.scores, np.mean(parts, axis=0), rtol=1e-9, atol=1e-12)


def test_gru_classifier_with_logits_irrelevant_input_scores_zero_and_ranks_last():
    """Issue 7's acceptance case: a GRU trained on labels with CrossEntropyLoss returns logits;
    with the default scoring (log loss, as declared logits) the irrelevant input scores within
    sampling error of 0 and ranks last; the same network ending in Softmax gives the same
    ranks and scores."""
    rng = np.random.default_rng(1)
    Xs = rng.normal(size=(2000, 6, 3)).astype(np.float32)
    y = (Xs[:, -3:, 0].sum(axis=1) - Xs[:, -2:, 1].sum(axis=1) > 0).astype(int)
    torch.manual_seed(0)

    class GRUClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = nn.GRU(3, 8, batch_first=True)
            self.head = nn.Linear(8, 2)

        def forward(self, x):
            return self.head(self.gru(x)[0][:, -1])

    net = GRUClassifier()
    optimizer = torch.optim.Adam(net.parameters(), lr=0.03)
    data, target = torch.from_numpy(Xs), torch.from_numpy(y)
    for _ in range(60):
        optimizer.zero_grad()
        nn.functional.cross_entropy(net(data), target).backward()
        optimizer.step()
    net.eval()
    Xs = rng.normal(size=(2000, 6, 3)).astype(np.float32)  # new data: what the model learned
    y = (Xs[:, -3:, 0].sum(axis=1) - Xs[:, -2:, 1].sum(axis=1) > 0).astype(int)
    logits = varimp.permutation(net, Xs, y, output_kind="logits", n_repeats=10,
                                random_state=0, by_time=False)
    assert logits.details["measure"] == "increase in log loss"
    assert logits.to_frame()["rank"].tolist() == [1, 2, 3]
    # within the sampling error of one repeat, and a hundredth of the weakest real input
    assert abs(logits.scores["x3"]) <= 3 * logits.std["x3"]
    assert abs(logits.scores["x3"]) <= 0.01 * logits.scores[["x1", "x2"]].min()
    assert logits.ranks["x3"] == 3 and logits.scores["x1"] > 0.1 and logits.scores["x2"] > 0.1
    probabilities = varimp.permutation(nn.Sequential(net, nn.Softmax(dim=-1)), Xs, y,
                                       n_repeats=10, random_state=0, by_time=False)
    pd.testing.assert_series_equal(probabilities.ranks, logits.ranks)
    np.testing.assert_allclose(probabilities.scores, logits.scores, rtol=1e-5, atol=1e-6)


def test_perturbation_without_y_scores_each_output_and_takes_their_mean():
    """The RMS change of each output (closed form: noise s on x_j moves output k by
    ``s * C[j, k]``), in details["per_output"], and the score is their mean."""
    C = np.array([[1.0, 0.0], [0.0, 2.0], [0.0, 0.0]])

    def two(Z):
        return Z @ C

    options = {"noise": 0.2, "scale": "absolute", "n_repeats": 3, "random_state": 0}
    both = varimp.perturbation(two, X, **options)
    np.testing.assert_allclose(both.details["per_output"].to_numpy(), 0.2 * np.abs(C),
                               rtol=0.05, atol=1e-12)
    np.testing.assert_allclose(both.scores, both.details["per_output"].mean(axis=1), rtol=1e-12)
    singles = [varimp.perturbation(two, X, output=k, **options).scores for k in (0, 1)]
    np.testing.assert_allclose(both.scores, (singles[0] + singles[1]) / 2, rtol=1e-12)
    assert both.kind == "magnitude"


# -- issue 7 follow-up: what the scores mean on common set-ups ------------------------------------
def test_one_hot_targets_of_outputs_read_as_values_are_refused_naming_output_kind():
    """Logits (a plain last Linear) with one-hot y were scored by MSE against the one-hot
    labels; now refused, for tables (n, k) and sequences (n, T, k); output_kind='regression'
    keeps that MSE (checked against sklearn), output_kind='logits' gives the log loss."""
    onehot = np.eye(3)[Y_INDEX]
    with pytest.raises(InputError) as info:
        varimp.improved_stepwise_1(logits_net(), X, onehot)
    message = str(info.value)
    assert "one-hot" in message and "output_kind='logits'" in message
    assert "output_kind='regression'" in message and "(400, 3)" in message
    Xs = RNG.normal(size=(60, 4, 3))
    with pytest.raises(InputError, match="output_kind='regression'"):
        varimp.improved_stepwise_1(lambda Z: Z @ W + B, Xs,
                                   np.eye(3)[RNG.integers(0, 3, (60, 4))])
    values = varimp.improved_stepwise_1(logits_net(), X, onehot, output_kind="regression")
    expected = increase(metrics.mean_squared_error, onehot, lambda Z: Z @ W + B)
    np.testing.assert_allclose(values.scores, expected, rtol=1e-9)
    logits = varimp.improved_stepwise_1(logits_net(), X, onehot, output_kind="logits")
    np.testing.assert_allclose(
        logits.scores, increase(metrics.log_loss, Y_INDEX, lambda Z: softmax(Z @ W + B)),
        rtol=1e-9, atol=1e-12)


def _imbalanced_classifier(labels):
    rng = np.random.default_rng(5)
    Xc = rng.normal(size=(300, 3))
    y = np.where(Xc[:, 0] + 0.5 * Xc[:, 1] + 0.5 * rng.normal(size=300) > 0.8,
                 labels[1], labels[0])  # labels[0] is the common class
    clf = MLPClassifier(hidden_layer_sizes=(6,), max_iter=800, random_state=0).fit(Xc, y)
    return clf, Xc, y


def _scorer_by_hand(scorer, model, Xc, y):
    """Improved stepwise 1 with scikit-learn's scorer on the model itself."""
    base = scorer(model, Xc, y)
    out = []
    for j in range(Xc.shape[1]):
        Z = Xc.copy()
        Z[:, j] = Xc[:, j].mean()
        out.append(base - scorer(model, Z, y))
    return np.array(out)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("name", ["f1", "precision", "recall", "jaccard", "average_precision",
                                  "roc_auc", "neg_log_loss"])
def test_positive_class_scorers_equal_scikit_learn_on_classes_one_and_two(name):
    """pos_label=1 is the label 1 (the common class here), not the second class."""
    clf, Xc, y = _imbalanced_classifier([1, 2])
    result = varimp.improved_stepwise_1(clf, Xc, y, scoring=name)
    expected = _scorer_by_hand(metrics.get_scorer(name), clf, Xc, y)
    np.testing.assert_allclose(result.scores, expected, rtol=1e-9, atol=1e-12)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_positive_class_scorers_see_string_labels_and_any_class_order():
    clf, Xc, y = _imbalanced_classifier(["no", "yes"])
    for pos in ("no", "yes"):
        for scorer in (metrics.make_scorer(metrics.f1_score, pos_label=pos),
                       metrics.make_scorer(metrics.average_precision_score, pos_label=pos,
                                           response_method="predict_proba")):
            result = varimp.improved_stepwise_1(clf, Xc, y, scoring=scorer)
            np.testing.assert_allclose(result.scores, _scorer_by_hand(scorer, clf, Xc, y),
                                       rtol=1e-9, atol=1e-12)
    with pytest.raises(InputError, match="pos_label=1 is not a valid label"):
        varimp.improved_stepwise_1(clf, Xc, y, scoring="f1")  # as scikit-learn refuses it
    # a network whose outputs are in the order ("yes", "no"): F1 of "yes" by hand
    def two(Z):
        s = Z @ np.array([2.0, 1.0, 0.0])
        return np.column_stack([s, -s])  # logits of ("yes", "no")

    def f1_yes(Z):
        return metrics.f1_score(y, np.where(two(Z)[:, 0] > 0, "yes", "no"), pos_label="yes")

    scorer = metrics.make_scorer(metrics.f1_score, pos_label="yes")
    result = varimp.improved_stepwise_1(two, Xc, y, output_kind="logits", classes=["yes", "no"],
                                        scoring=scorer)
    held = [Xc.copy() for _ in range(3)]
    for j, Z in enumerate(held):
        Z[:, j] = Xc[:, j].mean()
    np.testing.assert_allclose(result.scores, [f1_yes(Xc) - f1_yes(Z) for Z in held],
                               rtol=1e-12, atol=1e-12)


def test_multi_label_sigmoid_outputs_are_binary_probabilities_in_every_method():
    """Three sigmoid outputs (presence of three species) with a multi-hot y: the log loss is
    the mean over outputs of sklearn's log_loss of each column; each output's own increase is
    in details["per_output"]; logits declared give the same numbers."""
    rng = np.random.default_rng(7)
    Xm = rng.normal(size=(300, 3))
    C = np.array([[1.5, 0.0, 1.0], [0.0, -2.0, 1.0], [0.0, 0.0, 0.0]])
    Y = (Xm @ C + 0.7 * rng.normal(size=(300, 3)) > 0).astype(int)
    assert not np.all(Y.sum(axis=1) == 1)
    linear = nn.Linear(3, 3).double()
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(C.T))
        linear.bias.zero_()

    def proba(Z):
        return 1 / (1 + np.exp(-(Z @ C)))

    def loss(Z, k=(0, 1, 2)):
        return np.mean([metrics.log_loss(Y[:, c], proba(Z)[:, c]) for c in k])

    def held(j):
        Z = Xm.copy()
        Z[:, j] = Xm[:, j].mean()
        return Z

    sigmoid = nn.Sequential(linear, nn.Sigmoid())
    result = varimp.improved_stepwise_1(sigmoid, Xm, Y)
    assert result.details["measure"] == "increase in log loss"
    assert result.details["baseline"] == pytest.approx(loss(Xm), rel=1e-9)
    np.testing.assert_allclose(result.scores, [loss(held(j)) - loss(Xm) for j in range(3)],
                               rtol=1e-9, atol=1e-12)
    per_output = result.details["per_output"]
    for c in range(3):
        np.testing.assert_allclose(
            per_output[f"output {c}"], [loss(held(j), (c,)) - loss(Xm, (c,)) for j in range(3)],
            rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(per_output.mean(axis=1), result.scores, rtol=1e-9, atol=1e-12)
    logits = varimp.improved_stepwise_1(nn.Sequential(linear), Xm, Y, output_kind="logits")
    np.testing.assert_allclose(logits.scores, result.scores, rtol=1e-9, atol=1e-12)
    one = varimp.improved_stepwise_1(sigmoid, Xm, Y, output=1)
    np.testing.assert_allclose(one.scores, per_output["output 1"], rtol=1e-9, atol=1e-12)
    for method in ("permutation", "perturbation", "improved_stepwise_2"):
        other = varimp.importance(sigmoid, Xm, Y, method=method, random_state=0)
        assert other.details["measure"] == "increase in log loss"
        assert other.details["baseline"] == pytest.approx(loss(Xm), rel=1e-9)
        np.testing.assert_allclose(other.details["per_output"].mean(axis=1), other.scores,
                                   rtol=1e-9, atol=1e-12)


def test_a_sigmoid_regressor_of_a_proportion_is_told_to_declare_regression():
    rng = np.random.default_rng(8)
    Xp = rng.normal(size=(80, 3))
    linear = nn.Linear(3, 1).double()
    net = nn.Sequential(linear, nn.Sigmoid())
    proportion = rng.uniform(size=80)
    with pytest.raises(InputError) as info:
        varimp.permutation(net, Xp, proportion, random_state=0)
    assert "output_kind='regression'" in str(info.value) and "not class labels" in str(info.value)
    result = varimp.improved_stepwise_1(net, Xp, proportion, output_kind="regression")
    with torch.no_grad():
        def predict(Z):
            return net(torch.from_numpy(Z)).numpy()[:, 0]
        expected = [metrics.mean_squared_error(proportion, predict(np.where(
            np.arange(3) == j, Xp[:, j].mean(), Xp))) for j in range(3)]
        expected = np.array(expected) - metrics.mean_squared_error(proportion, predict(Xp))
    np.testing.assert_allclose(result.scores, expected, rtol=1e-9, atol=1e-12)


def test_a_classification_metric_on_regression_values_is_a_clear_error():
    y = X @ np.array([1.0, 2.0, 0.0])
    for scoring in ("accuracy", "f1_macro", "balanced_accuracy"):
        with pytest.raises(InputError, match="compares class labels.*output_kind"):
            varimp.permutation(lambda Z: Z @ np.array([1.0, 2.0, 0.0]), X, y, scoring=scoring)


def test_error_based_methods_give_each_outputs_own_increase_per_output():
    """Regression outputs: details["per_output"] of permutation, perturbation with y and
    improved stepwise 1 equal the same method run on each output alone (same draws), and the
    score is their mean; improved stepwise 2 gives each output's increase at the step its
    variable leaves, whose mean is the score."""
    C = np.array([[1.0, 0.0, 2.0], [0.0, 1.0, 0.0], [0.5, 0.5, 0.0]])

    def three(Z):
        return Z @ C

    y = pd.DataFrame(three(X) + RNG.normal(size=(400, 3)) * 0.1, columns=["a", "b", "c"])
    for method, options in (("permutation", {"random_state": 0, "n_repeats": 3}),
                            ("perturbation", {"random_state": 0, "noise": (0.1, 0.3)}),
                            ("improved_stepwise_1", {})):
        both = varimp.importance(three, X, y, method=method, output=["b", "c"], **options)
        table = both.details["per_output"]
        assert list(table.columns) == ["b", "c"] and list(table.index) == ["x1", "x2", "x3"]
        for name in ("b", "c"):
            alone = varimp.importance(three, X, y, method=method, output=name, **options)
            np.testing.assert_allclose(table[name], alone.scores, rtol=1e-9, atol=1e-12)
            assert "per_output" not in alone.details
        np.testing.assert_allclose(table.mean(axis=1), both.scores, rtol=1e-9, atol=1e-12)
    second = varimp.improved_stepwise_2(three, X, y)
    table = second.details["per_output"]
    np.testing.assert_allclose(table.mean(axis=1), second.scores, rtol=1e-9, atol=1e-12)
    first = second.details["path"]["removed"][0]  # left first: its increase on the full model
    alone = varimp.improved_stepwise_1(three, X, y, output="a")
    assert table.loc[first, "a"] == pytest.approx(alone.scores[first], rel=1e-9)


def test_one_float_target_for_two_outputs_is_refused_without_calling_it_labels():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 3))

    def model(X):
        return np.c_[X[:, 0], 2.0 * X[:, 1]]

    with pytest.raises(varimp.InputError, match=r"one value per sample \(shape \(50,\)\) but "
                       r"the model has 2 outputs: pass y of shape \(n, 2\)") as info:
        varimp.permutation(model, X, X[:, 0] + 0.1, random_state=0)
    assert "class labels" not in str(info.value)


def test_classes_must_agree_with_the_classes_a_scikit_learn_classifier_declares():
    """``classes=`` names the outputs of a model that declares none; a scikit-learn classifier
    declares ``classes_``, so another order (which would relabel its outputs and flip the scores)
    or other labels are refused, and its own order is accepted with the same numbers."""
    binary_y = np.where(X[:, 0] + 0.5 * X[:, 1] > 0.2, "present", "absent")
    three_y = np.select([X[:, 0] < -0.5, X[:, 0] < 0.5], ["low", "mid"], "high")
    for y in (binary_y, three_y):
        clf = MLPClassifier(hidden_layer_sizes=(6,), max_iter=300, random_state=0).fit(X, y)
        own = clf.classes_.tolist()
        given = varimp.improved_stepwise_1(clf, X, y, classes=own)
        expected = increase(metrics.log_loss, y, clf.predict_proba)  # sklearn maps the labels
        np.testing.assert_allclose(given.scores, expected, rtol=1e-9, atol=1e-12)
        with pytest.raises(InputError) as info:
            varimp.improved_stepwise_1(clf, X, y, classes=own[::-1])
        assert str(info.value) == (
            f"classes {own[::-1]} lists the model's classes in another order: the model's "
            f"outputs are in the order of its own classes {own}, so another order would give "
            "each output the wrong label and flip the scores. classes= is only for models "
            f"that do not declare their classes; leave it out, or pass {own}")
        with pytest.raises(InputError, match=rf"classes must be the model's own classes "
                           rf"\[{', '.join(repr(c) for c in own)}\] \(in that order\); "
                           r"received \[0, 1"):
            varimp.permutation(clf, X, y, classes=list(range(len(own))), random_state=0)


def test_a_pytorch_logits_model_takes_its_classes_in_any_order():
    """A PyTorch module declares no classes: ``classes=`` says which label each output is, in
    any order; the score is the log loss of the outputs read with those labels."""
    expected = increase(metrics.log_loss, Y_INDEX, lambda Z: softmax(Z @ W + B))
    for order in (["low", "mid", "high"], ["high", "low", "mid"], ["mid", "high", "low"]):
        y = np.asarray(order)[Y_INDEX]  # output k is the class order[k]
        result = varimp.improved_stepwise_1(logits_net(), X, y, output_kind="logits",
                                            classes=order)
        np.testing.assert_allclose(result.scores, expected, rtol=1e-9, atol=1e-12)


# -- multi-label decided from the model; a binary classifier's one unit named by classes[1] -----
def _sigmoid_net(C: np.ndarray) -> nn.Module:
    linear = nn.Linear(3, C.shape[1]).double()
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(C.T))
        linear.bias.zero_()
    return nn.Sequential(linear, nn.Sigmoid())


def _mean_label_log_loss(Y, proba_of):
    def loss(y, P):
        return np.mean([metrics.log_loss(y[:, c], P[:, c], labels=[0, 1])
                        for c in range(y.shape[1])])
    return increase(loss, Y, proba_of)


def test_several_sigmoid_outputs_are_multi_label_even_when_every_row_holds_one_label():
    """Multi-label is read from the model (a Sigmoid after three units), not from the values
    of y: rows that each hold one label are scored label by label (mean of sklearn's binary
    log losses), where they used to be read as one classifier's classes and refused."""
    C = np.array([[1.5, 0.0, -1.0], [0.0, -2.0, 1.0], [0.0, 0.0, 0.0]])
    Y = np.eye(3, dtype=int)[Y_INDEX]  # every row one-hot: still three binary labels
    result = varimp.improved_stepwise_1(_sigmoid_net(C), X, Y)
    expected = _mean_label_log_loss(Y, lambda Z: 1 / (1 + np.exp(-(Z @ C))))
    np.testing.assert_allclose(result.scores, expected, rtol=1e-9, atol=1e-12)
    assert list(result.details["per_output"].columns) == ["output 0", "output 1", "output 2"]
    with pytest.raises(InputError, match=r"independent binary labels .* must be 0/1 of shape "
                                         r"\(400, 1, 3\) or \(400, 3\)"):
        varimp.improved_stepwise_1(_sigmoid_net(C), X, Y_INDEX)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_a_multi_label_scikit_learn_classifier_accepts_rows_of_one_label():
    Y = (np.column_stack([X[:, 0], X[:, 1], X[:, 0] + X[:, 1]]) > 0).astype(int)
    clf = MLPClassifier(hidden_layer_sizes=(4,), max_iter=200, random_state=0).fit(X, Y)
    one = Y.sum(axis=1) == 1
    Xs, Ys = X[one], Y[one]
    result = varimp.improved_stepwise_1(clf, Xs, Ys)

    def loss(y, P):
        return np.mean([metrics.log_loss(y[:, c], P[:, c], labels=[0, 1]) for c in range(3)])

    base = loss(Ys, clf.predict_proba(Xs))
    held = [Xs.copy() for _ in range(3)]
    for j, Z in enumerate(held):
        Z[:, j] = Xs[:, j].mean()
    np.testing.assert_allclose(result.scores, [loss(Ys, clf.predict_proba(Z)) - base
                                               for Z in held], rtol=1e-9, atol=1e-12)


def test_a_softmax_classifier_refuses_a_one_hot_y_with_an_empty_row():
    """A softmax's outputs are one classifier's classes (decided from the model): a 0/1 y
    with a row holding no class is a data error, not a multi-label y."""
    net = nn.Sequential(nn.Linear(3, 3).double(), nn.Softmax(dim=1))
    Y = np.eye(3, dtype=int)[Y_INDEX]
    Y[7] = 0
    with pytest.raises(InputError) as info:
        varimp.permutation(net, X, Y, random_state=0)
    assert "row 7 holds 0 ones" in str(info.value) and "softmax" in str(info.value)


def test_a_single_sigmoid_network_is_one_output_named_by_its_positive_class():
    """As for scikit-learn: a PyTorch classifier with one sigmoid unit and classes=["absent",
    "present"] has one output, "present"; output="absent" is refused with the reason."""
    C = np.array([[1.5], [-1.0], [0.0]])
    net = _sigmoid_net(C)
    y = np.where(Y_INDEX == 0, "present", "absent")
    classes = ["absent", "present"]
    weights = varimp.importance(net, X, y, method="connection_weights", classes=classes,
                                output="present")
    np.testing.assert_allclose(weights.scores, C[:, 0], rtol=1e-12)
    assert list(weights.details["per_output"].columns) == ["present"]
    result = varimp.improved_stepwise_1(net, X, y, classes=classes, output="present")
    expected = increase(metrics.log_loss, y, lambda Z: 1 / (1 + np.exp(-(Z @ C[:, 0]))))
    np.testing.assert_allclose(result.scores, expected, rtol=1e-9, atol=1e-12)
    with pytest.raises(InputError, match=r"output must be 'present' or 0: this binary "
                                         r"classifier has one output unit"):
        varimp.permutation(net, X, y, classes=classes, output="absent", random_state=0)


def test_extreme_logits_become_probabilities_without_overflow_warnings():
    from varimp.scoring.probability import probabilities

    z = np.array([[800.0], [-800.0], [0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # np.exp(800) overflows: a RuntimeWarning
        one = probabilities(z, "logits")
        several = probabilities(np.array([[1000.0, 0.0, -5.0]]), "logits")
    np.testing.assert_allclose(one, [[0.0, 1.0], [1.0, 0.0], [0.5, 0.5]])
    np.testing.assert_allclose(several, [[1.0, 0.0, 0.0]])


def _hand_interval(shares, seed, level, n_bootstrap):
    """Percentile interval of the mean of resampled rows, resampling by index with the
    documented generator (as tests/test_bootstrap_ci.py does)."""
    from varimp.engines import generator
    from varimp.engines.tasks import BOOTSTRAP_KEY

    rng = generator(seed, BOOTSTRAP_KEY)
    n = shares.shape[1]
    stats = np.array([shares[:, rng.integers(0, n, n)].mean(axis=1) for _ in range(n_bootstrap)])
    return np.percentile(stats, [50 * (1 - level), 50 * (1 + level)], axis=0)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_brier_score_is_a_mean_over_rows_and_takes_an_interval(n_classes):
    """neg_brier_score is a mean over rows: sum_c (onehot - p)^2 per row (halved for two
    classes, scikit-learn's scale_by_half="auto"), so ci_level resamples the rows."""
    from varimp.engines import seed_from

    weights = W[:, :n_classes]
    y = (X @ weights + RNG.gumbel(size=(400, n_classes))).argmax(axis=1)

    def proba(Z):
        return softmax(Z @ weights)

    result = varimp.improved_stepwise_1(proba, X, y, scoring="neg_brier_score",
                                        output_kind="probability", ci_level=0.9,
                                        n_bootstrap=300, random_state=4)
    assert result.details["measure"] == "increase in brier score"

    def brier_rows(p):
        return ((np.eye(n_classes)[y] - p) ** 2).sum(axis=1) * (0.5 if n_classes == 2 else 1)

    shares = np.stack([brier_rows(proba(held(j))) - brier_rows(proba(X)) for j in range(3)])
    score = (lambda p: metrics.brier_score_loss(y, p[:, 1])) if n_classes == 2 else \
        (lambda p: metrics.brier_score_loss(y, p, labels=[0, 1, 2]))
    np.testing.assert_allclose(result.scores, [score(proba(held(j))) - score(proba(X))
                                               for j in range(3)], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(result.scores, shares.mean(axis=1), rtol=1e-9, atol=1e-12)
    low, high = _hand_interval(shares, seed_from(4), 0.9, 300)
    np.testing.assert_allclose(result.ci["low"], low, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(result.ci["high"], high, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("scoring, metric, rows", [
    ("neg_mean_squared_log_error", metrics.mean_squared_log_error,
     lambda y, p: (np.log1p(y) - np.log1p(p)) ** 2),
    ("neg_mean_absolute_percentage_error", metrics.mean_absolute_percentage_error,
     lambda y, p: np.abs(y - p) / np.abs(y)),
    ("neg_mean_poisson_deviance", metrics.mean_poisson_deviance,
     lambda y, p: 2 * (y * np.log(y / p) - y + p)),
    ("neg_mean_gamma_deviance", metrics.mean_gamma_deviance,
     lambda y, p: 2 * (np.log(p / y) + y / p - 1)),
])
def test_every_row_mean_regression_scorer_takes_an_interval(scoring, metric, rows):
    from varimp.engines import seed_from

    def positive(Z):
        return np.exp(0.3 * Z[:, 0] - 0.2 * Z[:, 1])

    y = positive(X) * RNG.uniform(0.5, 1.5, size=400)
    result = varimp.improved_stepwise_1(positive, X, y, scoring=scoring, ci_level=0.8,
                                        n_bootstrap=200, random_state=2)
    expected = [metric(y, positive(held(j))) - metric(y, positive(X)) for j in range(3)]
    np.testing.assert_allclose(result.scores, expected, rtol=1e-9, atol=1e-12)
    shares = np.stack([rows(y, positive(held(j))) - rows(y, positive(X)) for j in range(3)])
    low, high = _hand_interval(shares, seed_from(2), 0.8, 200)
    np.testing.assert_allclose(result.ci["low"], low, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(result.ci["high"], high, rtol=1e-9, atol=1e-12)


def test_a_scorer_missing_what_varimp_reads_is_refused_not_read_with_a_default():
    from sklearn.metrics import get_scorer

    X = np.random.default_rng(3).normal(size=(40, 3))
    model = MLPRegressor(hidden_layer_sizes=(4,), max_iter=50, random_state=0).fit(X, X[:, 0])
    scorer = get_scorer("neg_mean_squared_error")
    assert scorer._sign == -1  # what a renamed attribute would otherwise default to +1
    broken = copy.copy(scorer)
    del broken._sign
    with pytest.raises(InputError, match=r"has no _sign .*varimp.scoring.Scorer"):
        varimp.permutation(model, X, X[:, 0], scoring=broken, random_state=0)


def test_brier_score_of_text_labels_does_not_depend_on_what_was_scored_before(monkeypatch):
    """The closed form's check against scikit-learn calls brier_score_loss with pos_label = the
    greater label (scikit-learn guesses it for 0/1 labels only) and is kept per label type: a
    text-label call scores the same first in a process as after a 0/1 call."""
    from varimp.scoring import closed_forms

    monkeypatch.setattr(closed_forms, "_CHECKED", {})
    from varimp.scoring import evaluation

    monkeypatch.setattr(evaluation, "_CHECKED", closed_forms._CHECKED)
    weights = np.array([1.5, -0.7, 0.0])

    def proba(Z):
        p = 1.0 / (1.0 + np.exp(-Z @ weights))
        return np.column_stack([1.0 - p, p])

    present = (X @ weights + RNG.logistic(size=400)) > 0
    text = np.where(present, "present", "absent")

    def run(y, **options):
        return varimp.improved_stepwise_1(proba, X, y, scoring="neg_brier_score",
                                          output_kind="probability", **options).scores

    def brier(Z):  # by hand: the mean squared gap between p(present) and the 0/1 label
        return np.mean((proba(Z)[:, 1] - present) ** 2)

    expected = [brier(held(j)) - brier(X) for j in range(3)]
    first = run(text, classes=["absent", "present"])
    np.testing.assert_allclose(first, expected, rtol=1e-9, atol=1e-12)
    assert [key[-1] for key in closed_forms._CHECKED] == [("U", 2)]
    assert all(closed_forms._CHECKED.values())
    np.testing.assert_allclose(run(present.astype(int)), expected, rtol=1e-9, atol=1e-12)
    assert sorted(key[-1] for key in closed_forms._CHECKED) == [("U", 2), ("i", 2)]
    np.testing.assert_allclose(run(text, classes=["absent", "present"]), first, rtol=0, atol=0)


def test_binary_roc_auc_on_three_classes_names_the_multi_class_scorers():
    """scikit-learn's 'roc_auc' raises "multi_class must be in ('ovo', 'ovr')" on three
    classes: refused naming roc_auc_ovr / roc_auc_ovo; one class selected is one versus rest,
    and equals roc_auc_score of that class's probability."""
    for scoring in ("roc_auc", metrics.get_scorer("roc_auc"),
                    Scorer(metrics.roc_auc_score, greater_is_better=True, response="proba")):
        with pytest.raises(InputError) as info:
            varimp.improved_stepwise_1(logits_net(), X, Y_TEXT, output_kind="logits",
                                       classes=list(LABELS), scoring=scoring)
        assert "these targets hold 3 classes scored together: pass scoring='roc_auc_ovr'" \
            in str(info.value)
        assert "or 'roc_auc_ovo'" in str(info.value) and "output= one class" in str(info.value)
    one = varimp.improved_stepwise_1(logits_net(), X, Y_TEXT, output_kind="logits",
                                     classes=list(LABELS), scoring="roc_auc", output="mid")
    expected = -increase(metrics.roc_auc_score, Y_INDEX == 1,
                         lambda Z: softmax(Z @ W + B)[:, 1])  # a drop in AUC
    np.testing.assert_allclose(one.scores, expected, rtol=1e-9, atol=1e-12)


def test_y_of_one_value_per_sample_for_a_model_predicting_every_step_says_what_y_needs():
    """A model predicting 6 steps (one value each) scored at output_step=4 needs y of every
    step: the message says so, for regression values and for class labels."""
    Xs = np.random.default_rng(1).normal(size=(30, 6, 2))

    def per_step(Z):
        return Z[:, :, 0] * 2.0  # (n, 6): its length follows the input's, one value per step

    with pytest.raises(InputError) as info:
        varimp.permutation(per_step, Xs, Xs[:, 4, 0], output_step=4, random_state=0)
    assert str(info.value) == (
        "the model predicts 6 steps per sequence (predictions of shape (n, steps, outputs) = "
        "(30, 6, 1)), and y holds one value per sample (shape (30,)): y needs the targets of "
        "every predicted step, shape (n, 6); output_step= then picks the step that is scored "
        "(and explained)")
    result = varimp.permutation(per_step, Xs, Xs[:, :, 0] * 2.0, output_step=4,
                                random_state=0, by_time=False)
    assert result.scores["x2"] == 0.0
    with pytest.raises(InputError, match=r"one class label per sample and step: shape \(n, 6\), "
                                         r"or one-hot \(n, 6, 2\); received shape \(30,\); "
                                         r"output_step= then picks the step that is scored$"):
        varimp.permutation(per_step, Xs, (Xs[:, 4, 0] > 0).astype(int), output_step=4,
                           output_kind="logits", random_state=0)
    with pytest.raises(InputError) as info:  # (n, outputs) is no shape for a per-step model
        varimp.permutation(per_step, Xs, np.c_[Xs[:, 4, 0], Xs[:, 4, 0]], random_state=0)
    assert str(info.value) == ("y must match the model's predictions of shape (n, steps, "
                               "outputs) = (30, 6, 1): (n, 6); received y of shape (30, 2)")


def test_a_score_that_overflows_or_is_nan_is_refused_not_returned_as_nan():
    """y near 1e200: the squared error overflows float64 (inf - inf gave NaN importances);
    a metric that returns NaN is refused alike, saying the scoring must stay finite."""
    X = np.random.default_rng(0).normal(size=(40, 3))
    y = X[:, 0] * 1e200

    def f(Z):
        return np.tanh(Z[:, 0])

    with pytest.raises(InputError, match=r"'neg_mean_squared_error' gave -inf .* targets reach "
                                         r"\d\.\d+e\+200 .*overflow"), \
            np.errstate(over="ignore"):
        varimp.permutation(f, X, y, random_state=0)
    nan_metric = Scorer(lambda t, p: float("nan"), greater_is_better=False)
    with pytest.raises(InputError, match=r"gave nan .*must return a finite number"):
        varimp.permutation(f, X, X[:, 0], scoring=nan_metric, random_state=0)
    finite = varimp.permutation(f, X, X[:, 0] * 1e100, random_state=0)  # (1e100)^2 fits
    assert np.isfinite(finite.scores).all()
