"""The registry of methods: one entry added with ``register`` reaches ``available_methods``,
``importance``, ``compare`` and ``varimp methods``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import varimp
from varimp import cli
from varimp.registry import METHODS, REGISTRY, MethodSpec, register

W = np.array([1.5, -2.0, 0.5])


def variance(model, X, y=None, *, feature_names=None, random_state=None):
    """A toy method: the variance of every input."""
    X = np.asarray(X, dtype=float)
    names = feature_names or [f"x{i + 1}" for i in range(X.shape[1])]
    return varimp.Importance("variance", pd.Series(X.var(axis=0), index=names))


@pytest.fixture
def registered():
    spec = MethodSpec("variance", f"{__name__}:variance", "variance of every input",
                      "a test (2024)", by_time=False, cost="no model call")
    register(spec)
    try:
        yield spec
    finally:
        REGISTRY.pop("variance")


def test_a_registered_method_reaches_importance_compare_and_the_cli(registered, capsys):
    assert varimp.available_methods() == tuple(METHODS) + ("variance",)  # canonical first
    assert "variance" not in METHODS
    X = np.random.default_rng(0).normal(size=(40, 3)) * [1.0, 2.0, 3.0]
    result = varimp.importance(lambda a: a @ W, X, method="variance", random_state=0)
    np.testing.assert_allclose(result.scores, X.var(axis=0), rtol=1e-12)  # numpy's variance
    comparison = varimp.compare(lambda a: a @ W, X, progress=False, random_state=0)
    # no y: the error-based methods are skipped, the weight-based ones cannot read a function
    assert list(comparison.results) == ["partial_derivatives", "perturbation", "profile",
                                        "variance"]
    np.testing.assert_allclose(comparison.results["variance"].scores, X.var(axis=0))
    cli.main(["methods"])
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(METHODS) + 1
    assert lines[-1].startswith("variance") and "variance of every input (a test (2024))" in \
        lines[-1] and "cost: no model call" in lines[-1]


def test_without_registrations_the_registry_is_the_canonical_methods():
    assert varimp.available_methods() == tuple(METHODS)


def test_register_needs_a_method_spec():
    with pytest.raises(varimp.InputError, match="register needs a MethodSpec; received dict"):
        register({"name": "variance"})
