"""varimp.compare: what it runs, what it skips and why."""

import sys

import numpy as np
import pandas as pd
import pytest

import varimp

#: The methods that put other values into cells of X, refused on padding a model masks.
REPLACE_CELLS = {"permutation", "perturbation", "profile", "improved_stepwise_1",
                 "improved_stepwise_2"}


@pytest.fixture(scope="module")
def masked():
    """A tiny Keras Sequential Masking -> LSTM -> Dense (untrained: only the skipping matters)
    and 40 sequences of 5 steps, the first 10 pre-padded with zeros over 2 steps."""
    import keras

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 5, 2)).astype("float32")
    X[:10, :2] = 0.0
    y = X[:, -1, 0].copy()
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((5, 2)), keras.layers.Masking(0.0),
                              keras.layers.LSTM(3), keras.layers.Dense(1)])
    return model, X, y


def test_compare_on_masked_padding_skips_the_methods_that_replace_cells_and_runs_the_rest(
        masked):
    model, X, y = masked
    comparison = varimp.compare(model, X, y, random_state=0, progress=False)
    assert list(comparison.results) == ["partial_derivatives"]
    refusal = ("replaces cell values: X holds 20 padded steps (every feature equal to the "
               "Masking layer's mask_value 0.0) in 10 of 40 sequences")  # 10 x 2, by hand
    for name in REPLACE_CELLS:
        assert comparison.skipped[name].startswith(refusal), name
        assert "Use partial_derivatives" in comparison.skipped[name]
    assert set(comparison.skipped) == REPLACE_CELLS | {
        "connection_weights", "garson", "forward_stepwise", "backward_stepwise"}
    alone = varimp.partial_derivatives(model, X)
    pd.testing.assert_series_equal(comparison.results["partial_derivatives"].scores,
                                   alone.scores)
    without_y = varimp.compare(model, X, progress=False)
    assert list(without_y.results) == ["partial_derivatives"]
    assert {"profile", "perturbation"} <= set(without_y.skipped)


def test_compare_raises_the_padding_refusal_of_a_method_named_and_any_other_refusal(
        masked, monkeypatch):
    model, X, y = masked
    with pytest.raises(varimp.UnsupportedModelError, match="X holds 20 padded steps"):
        varimp.compare(model, X, y, methods=["partial_derivatives", "permutation"],
                       random_state=0, progress=False)
    module = sys.modules["varimp.compare"]
    real = module.importance

    def other_refusal(model, X, y=None, *, method, **options):
        if method == "partial_derivatives":
            raise varimp.UnsupportedModelError("some other refusal")
        return real(model, X, y, method=method, **options)

    monkeypatch.setattr(module, "importance", other_refusal)
    with pytest.raises(varimp.UnsupportedModelError, match="some other refusal"):
        varimp.compare(model, X, y, random_state=0, progress=False)
    unpadded = np.random.default_rng(1).normal(size=(12, 5, 2)).astype("float32")
    with pytest.raises(varimp.UnsupportedModelError, match="some other refusal"):
        varimp.compare(model, unpadded, unpadded[:, -1, 0], random_state=0, progress=False)


@pytest.mark.parametrize("function", [varimp.importance, varimp.compare],
                         ids=["importance", "compare"])
def test_the_examples_of_the_docstrings_run_and_show_what_they_print(function):
    """The numpydoc Examples of importance and compare run as written (doctest), their
    numbers the closed form: PaD of ``2 x1 + x2`` over 100 rows is 4 x 100 and 1 x 100."""
    import doctest

    examples = doctest.DocTestFinder().find(function, function.__name__, globs={})[0]
    assert len(examples.examples) >= 5
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    runner.run(examples)
    assert runner.summarize(verbose=False) == (0, len(examples.examples))
