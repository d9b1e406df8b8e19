"""The registry of methods: one entry added with ``register`` reaches ``available_methods``,
``importance``, ``compare`` and ``varimp methods``."""

from __future__ import annotations

import inspect
import re

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


def not_an_importance(model, X, y=None, *, feature_names=None):
    """A broken method: returns a dict."""
    return {"x1": 1.0}


def one_argument(X):
    """Not a method: it takes X only."""
    return X


def test_a_registered_method_records_its_settings_like_the_built_in_ones(registered):
    X = np.random.default_rng(1).normal(size=(30, 3))
    result = varimp.importance(lambda a: a @ W, X, method="variance", random_state=0,
                               n_repeats=5, progress=False)
    np.testing.assert_allclose(result.scores, X.var(axis=0), rtol=1e-12)
    assert result.details["settings"] == {"feature_names": None, "random_state": 0}
    assert result.details["options_not_used"] == ["n_repeats", "progress"]
    built_in = varimp.importance(lambda a: a @ W, X, method="permutation", y=X @ W,
                                 random_state=0, n_repeats=2)
    assert built_in.details["settings"]["random_state"] == 0  # the same record, built in
    direct = REGISTRY["variance"].function(lambda a: a @ W, X, feature_names=["a", "b", "c"])
    assert direct.details["settings"] == {"feature_names": ["a", "b", "c"],
                                          "random_state": None}
    with pytest.raises(varimp.InputError, match=r"variance takes the options \['feature_names', "
                       r"'random_state'\]; received unknown \['noise'\]"):
        REGISTRY["variance"].function(lambda a: a @ W, X, noise=0.1)


def test_a_registered_method_must_return_an_importance():
    register(MethodSpec("broken", f"{__name__}:not_an_importance", "a dict", "a test"))
    try:
        with pytest.raises(varimp.ModelError) as info:
            varimp.importance(lambda a: a @ W, np.ones((4, 3)), method="broken")
    finally:
        REGISTRY.pop("broken")
    assert str(info.value) == (f"method 'broken' ({__name__}:not_an_importance) must return a "
                               "varimp.Importance; it returned dict {'x1': 1.0}")


def test_a_registered_method_refuses_too_few_rows():
    register(MethodSpec("variance", f"{__name__}:variance", "v", "a test", min_samples=3))
    try:
        with pytest.raises(varimp.InputError, match=r"method 'variance' needs X with at least 3 "
                           r"rows; received 2"):
            varimp.importance(lambda a: a @ W, np.ones((2, 3)), method="variance")
    finally:
        REGISTRY.pop("variance")


@pytest.mark.parametrize(("changes", "message"), [
    ({"name": ""}, "a method's name must be a Python identifier (letters, digits and "
     "underscores, not starting with a digit); received ''"),
    ({"name": "a,b"}, "a method's name must be a Python identifier (letters, digits and "
     "underscores, not starting with a digit); received 'a,b'"),
    ({"name": "garson"}, "'garson' is a built-in method; register a new method under another "
     "name"),
    ({"name": "groups"}, "a method's name must not be a common option or an argument of "
     "varimp.importance"),
    ({"kind": "banana"}, "method 'variance': kind must be one of ['loss', 'effect', 'share', "
     "'magnitude', 'loss (with y) or magnitude (without)', 'effect (one output) or magnitude "
     "(several)']; received 'banana'"),
    ({"needs_y": "yes"}, "method 'variance': needs_y must be True or False; received str 'yes'"),
    ({"min_samples": 0}, "method 'variance': min_samples must be an integer >= 1; received "
     "int 0"),
    ({"target": "variance"}, "method 'variance': target must be 'module:function'; received "
     "'variance'"),
    ({"target": "no_such_module_here:f"}, "method 'variance': target 'no_such_module_here:f' "
     "does not import: ModuleNotFoundError: No module named 'no_such_module_here'"),
    ({"target": f"{__name__}:nothere"}, f"method 'variance': module {__name__!r} has no "
     f"'nothere' (target '{__name__}:nothere')"),
    ({"target": f"{__name__}:W"}, f"method 'variance': target '{__name__}:W' must be a "
     "function; it is ndarray of shape (3,) and dtype float64"),
    ({"target": f"{__name__}:one_argument"}, f"method 'variance': {__name__}:one_argument must "
     "take (model, X, y) and keyword-only options; its signature is (X)"),
    ({"scales": True}, f"method 'variance': scales=True needs a function taking the "
     f"keyword-only option 'scale'; '{__name__}:variance' takes ['feature_names', "
     "'random_state']"),
    ({"without_y": True}, f"method 'variance': without_y=True needs a function taking the "
     f"keyword-only option 'scoring'; '{__name__}:variance' takes ['feature_names', "
     "'random_state']"),
    ({"without_y": True, "needs_y": True}, "method 'variance': needs_y and without_y contradict "
     "each other"),
])
def test_register_checks_the_entry_when_it_is_added(changes, message):
    fields = {"name": "variance", "target": f"{__name__}:variance", "title": "t",
              "reference": "r", **changes}
    with pytest.raises(varimp.InputError) as info:
        register(MethodSpec(**fields))
    assert str(info.value).startswith(message)
    assert varimp.available_methods() == tuple(METHODS)  # nothing was added


class Counting:
    """A plain function of its inputs (rows x features, or rows x steps x features, summed over
    the steps) that records the rows of every call."""

    def __init__(self):
        self.calls = []

    def __call__(self, X):
        self.calls.append(len(X))
        out = np.tanh(X @ np.linspace(1.0, -1.0, X.shape[-1]))
        return out if X.ndim == 2 else out.sum(axis=1)


def formula(cost: str, **sizes: int) -> float:
    """A cost formula of the registry (``p (p + 1) / 2``, ``2 T p``) evaluated: a space
    between two terms is a product."""
    expression = re.sub(r"(?<=[\w)])\s+(?=[\w(])", " * ", cost.strip())
    assert re.fullmatch(r"[\w\s()+*/]+", expression), cost
    return eval(expression, {"__builtins__": {}}, sizes)


def passes(model: Counting, n: int) -> int:
    """Passes over the ``n`` rows (calls of ``batch_size=n`` rows; the adapter's probes of a row
    or two are not passes)."""
    assert set(model.calls) <= {1, 2, n}, model.calls
    return model.calls.count(n)


def test_improved_stepwise_2_makes_the_passes_the_registry_states():
    cost = REGISTRY["improved_stepwise_2"].cost
    assert cost.endswith(" passes")
    rng = np.random.default_rng(2)
    for p in (2, 6):
        X = rng.normal(size=(37, p))
        model = Counting()
        y = model(X) + 0.1 * rng.normal(size=37)
        model.calls.clear()
        varimp.improved_stepwise_2(model, X, y, batch_size=37, progress=False)
        # the unperturbed rows once (not counted by the registry), then the candidates
        assert passes(model, 37) == 1 + formula(cost.removesuffix(" passes"), p=p)


def test_partial_derivatives_of_a_plain_function_makes_the_passes_the_registry_states():
    cost = REGISTRY["partial_derivatives"].cost
    match = re.search(r"a plain function: (.+) passes per gradient \((.+) on sequences\)", cost)
    table, sequences = match.groups()
    rng = np.random.default_rng(3)
    model = Counting()
    varimp.partial_derivatives(model, rng.normal(size=(37, 5)), batch_size=37, progress=False)
    assert passes(model, 37) == formula(table, p=5) == 10  # central differences: 2 per input
    model = Counting()
    varimp.partial_derivatives(model, rng.normal(size=(37, 4, 3)), batch_size=37,
                               progress=False)
    assert passes(model, 37) == formula(sequences, T=4, p=3) == 24  # 2 per cell of a row
    assert cost.startswith("autodiff: one gradient pass per output")


def test_partial_derivatives_of_a_torch_network_makes_one_gradient_pass_per_output():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(5, 6), torch.nn.Tanh(), torch.nn.Linear(6, 3))
    rows = []
    net.register_forward_pre_hook(lambda module, args: rows.append(len(args[0])))
    X = np.random.default_rng(4).normal(size=(37, 5))
    varimp.partial_derivatives(net, X, output=[0, 2], batch_size=37, progress=False)
    assert REGISTRY["partial_derivatives"].cost.startswith(
        "autodiff: one gradient pass per output")
    assert rows.count(37) == 2 and set(rows) <= {1, 2, 37}, rows  # outputs 0 and 2


def test_the_registry_says_which_methods_take_scale_and_which_measure_without_y():
    """The facts the command line and the refitted-network studies read from the registry:
    exactly the methods whose ``scale`` is ``"none"`` / ``"std"`` (perturbation's ``scale``
    is its noise's), and perturbation alone has a measure without y."""
    scales = {name for name in METHODS if REGISTRY[name].scales}
    assert scales == {"partial_derivatives", "connection_weights", "garson"}
    for name in scales:
        default = inspect.signature(REGISTRY[name].function).parameters["scale"].default
        assert default == "none"
    assert inspect.signature(varimp.perturbation).parameters["scale"].default != "none"
    assert {name for name in METHODS if REGISTRY[name].without_y} == {"perturbation"}


def change(model, X, y=None, *, scoring="auto", scale="none", feature_names=None,
           random_state=None):
    """A toy method with a measure without y (``scoring=None``): the RMS change of the
    predictions when every input is set to 0, in raw units or per standard deviation."""
    X = np.asarray(X, dtype=float)
    names = feature_names or [f"x{i + 1}" for i in range(X.shape[1])]
    base = np.asarray(model(X), dtype=float)
    scores = []
    for j in range(X.shape[1]):
        moved = X.copy()
        moved[:, j] = 0.0
        scores.append(np.sqrt(np.mean((np.asarray(model(moved)) - base) ** 2)))
    spread = X.std(axis=0) if scale == "std" else 1.0
    return varimp.Importance("change", pd.Series(np.asarray(scores) * spread, index=names))


def test_a_registered_method_that_scales_or_measures_without_y_is_read_as_the_built_in_ones():
    """``--scale`` reaches a registered method with ``scales=True``; ``scoring=None`` is
    accepted for one with ``without_y=True`` by the refitted-network studies (and refused for
    one without it, naming the methods that have such a measure)."""
    from varimp import runner
    from varimp.stats.refits import check_options

    register(MethodSpec("change", f"{__name__}:change", "t", "r", scales=True,
                        without_y=True))
    try:
        args = cli._parser().parse_args(["run", "m", "d", "--out", "o", "--scale", "std"])
        assert runner.scale_options(args, ["permutation", "change", "garson"]) == {
            "change": {"scale": "std"}, "garson": {"scale": "std"}}
        with pytest.raises(varimp.InputError, match=r"--scale std scales the scores of "
                           r"connection_weights, garson, partial_derivatives, change, none of "
                           r"which this run computes \(methods: permutation\)"):
            runner.scale_options(args, ["permutation"])
        model = lambda a: a @ W  # noqa: E731
        check_options(REGISTRY["change"], model, {"scoring": None})
        with pytest.raises(varimp.InputError, match=r"is for method='perturbation' or "
                           r"'change' only; method 'permutation'"):
            check_options(REGISTRY["permutation"], model, {"scoring": None})
    finally:
        REGISTRY.pop("change")
