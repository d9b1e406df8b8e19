"""One registry, one call shape: the loop a newcomer writes first runs for every method on every
kind of model, and every place that lists methods agrees with the registry."""

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import reliability_models as rm
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import varimp
from varimp import InputError
from varimp.registry import COMMON_OPTIONS, METHODS, REGISTRY

ROOT = Path(__file__).resolve().parent.parent


def pipeline():
    X, y = rm.tabular(40)
    return make_pipeline(StandardScaler(),
                         MLPRegressor(hidden_layer_sizes=(4,), max_iter=30, random_state=0)
                         ).fit(X, y)


MODELS = {
    "torch-mlp": (rm.torch_mlp, rm.tabular),
    "torch-lstm": (rm.torch_lstm, rm.sequences),
    "keras-lstm": (rm.keras_lstm, rm.sequences),
    "sklearn-pipeline": (pipeline, rm.tabular),
}


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("kind", list(MODELS))
def test_the_first_loop_runs_for_every_method(kind):
    """``for m in available_methods(): importance(model, X, y, method=m, random_state=0,
    n_repeats=5)`` runs everywhere; options a method does not use are left out and named."""
    build, data = MODELS[kind]
    model = build()
    X, y = data()
    for method in varimp.available_methods():
        spec = REGISTRY[method]
        if spec.reads_weights and kind == "sklearn-pipeline":
            with pytest.raises(varimp.UnsupportedModelError, match="Pipeline"):
                varimp.importance(model, X, y, method=method, random_state=0, n_repeats=5)
            continue
        result = varimp.importance(model, X, y, method=method, random_state=0, n_repeats=5,
                                   progress=False)
        assert result.method == method and np.isfinite(result.scores).all()
        assert list(result.scores.index) == ["x1", "x2", "x3"]
        settings, unused = result.details["settings"], result.details["options_not_used"]
        for option in ("random_state", "n_repeats", "progress"):
            assert (option in settings) == (option in spec.options)
            assert (option in unused) == (option not in spec.options)
        if spec.random:
            assert settings["random_state"] == 0
        assert result.kind in ("loss", "effect", "share", "magnitude")
        assert result.kind in spec.kinds


def test_the_loop_without_y_runs_with_the_default_scoring_and_refuses_an_explicit_one():
    """Without y, every method that needs none runs with the common options left at their
    defaults (perturbation: the RMS change, scoring "auto"); an explicit scoring is a score
    that needs y: perturbation, the one method here that takes it, refuses it."""
    X, _ = rm.tabular()
    model = rm.torch_mlp()
    for method in varimp.available_methods():
        spec = REGISTRY[method]
        if spec.needs_y:
            continue
        result = varimp.importance(model, X, method=method, random_state=0, n_repeats=2,
                                   progress=False)
        assert np.isfinite(result.scores).all()
        if "scoring" in spec.options:
            assert method == "perturbation" and result.kind == "magnitude"
            assert result.details["settings"]["scoring"] == "auto"
            with pytest.raises(InputError, match="scoring str 'r2' was given without y"):
                varimp.importance(model, X, method=method, scoring="r2", random_state=0)
        else:
            with_scoring = varimp.importance(model, X, method=method, scoring="r2",
                                             random_state=0, n_repeats=2, progress=False)
            assert "scoring" in with_scoring.details["options_not_used"]
            pd.testing.assert_series_equal(with_scoring.scores, result.scores)


def test_settings_hold_defaults_and_direct_calls_record_them_too():
    X, y = rm.tabular()
    direct = varimp.permutation(rm.plain_callable(), X, y, random_state=3)
    assert direct.details["settings"]["n_repeats"] == 5  # the default, recorded
    assert direct.details["settings"]["scoring"] == "auto"
    through = varimp.importance(rm.plain_callable(), X, y, method="permutation",
                                random_state=3)
    pd.testing.assert_series_equal(direct.scores, through.scores)
    assert through.details["options_not_used"] == []


def test_an_option_no_method_takes_lists_the_valid_ones():
    X, y = rm.tabular()
    with pytest.raises(InputError) as info:
        varimp.importance(rm.torch_mlp(), X, y, method="garson", n_reapeats=5)
    message = str(info.value)
    assert "n_reapeats" in message and "'variant'" in message and "'n_repeats'" in message
    planned = [m for m in METHODS if m not in REGISTRY]
    for method in planned[:1]:
        with pytest.raises(InputError, match="planned"):
            varimp.importance(rm.torch_mlp(), X, y, method=method)
    with pytest.raises(InputError, match="noise_level"):
        varimp.compare(rm.torch_mlp(), X, y, noise_level=0.1)


def test_compare_takes_every_common_option_and_each_methods_own():
    X, y = rm.tabular()
    comparison = varimp.compare(rm.torch_mlp(), X, y, random_state=0, n_repeats=2, noise=0.2,
                                variant="goh", steps=5, progress=False, output_kind="regression")
    assert set(comparison.results) == set(varimp.available_methods())
    assert comparison.results["garson"].details["settings"]["variant"] == "goh"
    assert comparison.results["profile"].details["settings"]["steps"] == 5
    assert comparison.results["perturbation"].details["settings"]["noise"] == 0.2
    assert "noise" not in comparison.results["permutation"].details["settings"]
    assert comparison.results["connection_weights"].details["settings"]["output_kind"] == \
        "regression"


def test_every_place_that_lists_methods_reads_the_registry():
    assert tuple(REGISTRY) == tuple(m for m in METHODS if m in REGISTRY)
    assert varimp.available_methods() == tuple(REGISTRY)
    assert not rm.uncovered(rm.METHOD_SPECS), rm.missing_row(rm.uncovered(rm.METHOD_SPECS)[0],
                                                             "tests/reliability_models.py")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = {m.group(1): [c.strip() for c in m.group(2).split("|")]
            for m in re.finditer(r"^\| `(\w+)` \|(.*)\|$", readme, flags=re.M)}
    listed = subprocess.run([str(Path(sys.executable).parent / "varimp"), "methods"],
                            capture_output=True, text=True, check=True).stdout
    for name, spec in REGISTRY.items():
        assert name in rows, f"method {name!r} has no row in the README's table of methods"
        _, needs_y, per_step, kind = rows[name]
        assert needs_y == ("yes" if spec.needs_y else "no"), name
        assert per_step.startswith("yes" if spec.by_time else "no"), name
        assert kind == spec.kind, name
        line = next(line for line in listed.splitlines() if line.startswith(name + " "))
        assert spec.title in line and f"scores: {spec.kind}" in line
    for name in set(METHODS) - set(REGISTRY):
        assert re.search(rf"^{name}\s+\(not available", listed, flags=re.M)


def test_common_options_are_documented_in_one_place_every_method_points_to():
    doc = varimp.importance.__doc__
    for option in COMMON_OPTIONS:
        assert f"``{option}``" in doc, option
    for spec in REGISTRY.values():
        assert "varimp.importance" in spec.function.__doc__, spec.name


def test_a_misspelled_or_unused_option_of_a_method_function_is_an_input_error():
    X, y = rm.tabular()
    with pytest.raises(InputError) as info:
        varimp.permutation(rm.plain_callable(), X, y, n_repeat=3)
    message = str(info.value)
    assert "'n_repeat'" in message and "did you mean ['n_repeats']" in message
    assert "'max_samples'" in message and "'scoring'" in message  # the valid ones listed
    with pytest.raises(InputError) as info:
        varimp.garson(rm.torch_mlp(), X, n_repeats=3)  # a common option garson does not use
    assert "['n_repeats']" in str(info.value) and "'variant'" in str(info.value)
    assert isinstance(info.value, varimp.VarImpError)


def test_compare_of_a_plain_callable_skips_what_cannot_run_and_says_why():
    X, y = rm.tabular()
    comparison = varimp.compare(rm.plain_callable(), X, y, random_state=0, n_repeats=2)
    skipped = comparison.skipped
    assert set(skipped) == {"connection_weights", "garson", "forward_stepwise",
                            "backward_stepwise"}
    assert all(skipped[m].startswith("cannot read the weights") for m in
               ("connection_weights", "garson"))
    assert all(skipped[m].startswith("cannot retrain") for m in
               ("forward_stepwise", "backward_stepwise"))
    assert set(comparison.results) == set(varimp.available_methods()) - set(skipped)
    with pytest.raises(InputError, match="cannot retrain"):  # named: never skipped
        varimp.compare(rm.plain_callable(), X, y, methods=["forward_stepwise"])


def test_compare_passes_options_to_one_method_only():
    """partial_derivatives' scale="std" and perturbation's scale="relative" in one compare;
    the scaled derivative of a linear model is w_j * std_j (closed form)."""
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"elev_m": rng.normal(1500, 400, 200), "ph": rng.normal(7, 0.5, 200),
                      "slope": rng.normal(size=200)})
    w = np.array([1 / 400, 0.5, 0.1])

    def f(Z):
        return Z @ w

    y = f(X.to_numpy()) + 0.1 * rng.normal(size=200)
    with pytest.raises(InputError, match="scale"):
        varimp.compare(f, X, y, methods=["partial_derivatives", "perturbation"], scale="std")
    comparison = varimp.compare(f, X, y, methods=["partial_derivatives", "perturbation"],
                                random_state=0,
                                method_options={"partial_derivatives": {"scale": "std"}})
    derivatives = comparison.results["partial_derivatives"]
    assert derivatives.details["settings"]["scale"] == "std"
    assert comparison.results["perturbation"].details["settings"]["scale"] == "relative"
    expected = 200 * (w * X.to_numpy().std(axis=0)) ** 2
    np.testing.assert_allclose(derivatives.scores.to_numpy(), expected, rtol=1e-6)
    assert derivatives.ranks.tolist() == [1, 2, 3]
    overridden = varimp.compare(f, X, y, methods=["perturbation"], noise=0.1,
                                method_options={"perturbation": {"noise": 0.3}}, random_state=0)
    assert overridden.results["perturbation"].details["settings"]["noise"] == 0.3


@pytest.mark.parametrize("method_options, fragments", [
    ({"garson": {"variant": "goh"}}, ["'garson'", "not among the methods compared",
                                      "'partial_derivatives'"]),
    ({"partial_derivatives": {"noise": 0.1}}, ["['noise']", "does not take", "'scale'"]),
    ({"partial_derivatives": 3}, ["must be a dict {option: value}"]),
    ([("partial_derivatives", {})], ["method_options must be a dict"]),
])
def test_compare_method_options_are_checked_listing_the_valid_ones(method_options, fragments):
    X, y = rm.tabular()
    with pytest.raises(InputError) as info:
        varimp.compare(rm.plain_callable(), X, y, methods=["partial_derivatives", "profile"],
                       method_options=method_options)
    for fragment in fragments:
        assert fragment in str(info.value)


def test_method_options_for_a_skipped_method_say_why_it_was_skipped():
    X, _ = rm.tabular()
    with pytest.raises(InputError, match=r"not among the methods compared .*\(needs y\)$"):
        varimp.compare(rm.plain_callable(), X, method_options={"permutation": {"n_repeats": 3}})


def test_compare_points_to_the_one_place_the_common_options_are_documented():
    assert "varimp.importance" in varimp.compare.__doc__
    assert "method_options" in varimp.compare.__doc__


def _labelled_gru_logits() -> tuple[object, np.ndarray, np.ndarray, list[str]]:
    """A GRU with three linear outputs (logits) and string class labels as y."""
    X, _ = rm.sequences(n=60)
    labels = ["stable", "deteriorating", "critical"]
    y = np.array(labels)[np.argmax(X[:, -1, :3], axis=1)]
    return rm.torch_gru(outputs=3, dropout=0.0), X, y, labels


def test_compare_reads_the_model_with_output_kind_and_classes_when_choosing_methods():
    """Logits and classes= given to compare reach the choice of methods: the retraining
    methods (varimp's recurrent trainer trains no logits) are skipped with their reason,
    never raised, and every other method runs with the classes given."""
    from varimp.compare import applicable_methods

    model, X, y, labels = _labelled_gru_logits()
    names, skipped = applicable_methods(model, X, y, output_kind="logits", classes=labels)
    reason = skipped["forward_stepwise"]
    assert reason.startswith("cannot retrain: ") and "read as logits" in reason
    assert skipped == {"forward_stepwise": reason, "backward_stepwise": reason}
    assert names == [m for m in varimp.available_methods() if m not in skipped]
    comparison = varimp.compare(model, X, y, output_kind="logits", classes=labels,
                                random_state=0, progress=False)
    assert comparison.skipped == skipped
    assert list(comparison.results) == names
    assert comparison.results["permutation"].details["settings"]["classes"] == labels
    # the model declaring its kind itself: classes= reaches the reading of y as well
    model.varimp_output_kind = "logits"
    assert applicable_methods(model, X, y, classes=labels) == (names, skipped)
    with pytest.raises(InputError, match="read as logits"):  # named: never skipped
        varimp.compare(model, X, y, classes=labels, methods=["forward_stepwise"])


def test_compare_skips_a_retraining_method_that_finds_it_cannot_retrain_only_when_run(
        monkeypatch):
    """A CannotRefit that applicable_methods did not foresee still skips the method."""
    import importlib

    from varimp.refit import CannotRefit

    compare_module = importlib.import_module("varimp.compare")

    X, y = rm.tabular(n=40)
    chosen = ["permutation", "forward_stepwise"]
    monkeypatch.setattr(compare_module, "applicable_methods",
                        lambda *args, **kwargs: (list(chosen), {}))
    real = compare_module.importance

    def importance(model, X, y, *, method, **options):
        if method == "forward_stepwise":
            raise CannotRefit("no trainer for this one")
        return real(model, X, y, method=method, **options)

    monkeypatch.setattr(compare_module, "importance", importance)
    comparison = varimp.compare(rm.plain_callable(), X, y, random_state=0)
    assert list(comparison.results) == ["permutation"]
    assert comparison.skipped == {"forward_stepwise": "cannot retrain: no trainer for this one"}
