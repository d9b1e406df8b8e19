"""``import varimp`` is light: heavy libraries load on first use; Keras gets the torch backend.

Each check runs in a fresh interpreter (``sys.modules`` of the test process already holds
everything), with the environment of the test run unless a test changes it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

HEAVY = ("torch", "keras", "matplotlib", "sklearn", "scipy")


def run_python(code: str, env: dict[str, str] | None = None) -> dict:
    """Run ``code`` in a fresh interpreter; it prints one JSON object, returned here."""
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, env=os.environ.copy() if env is None else env, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def env_without_keras_backend() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}


def test_import_varimp_loads_no_framework_and_every_public_name_resolves():
    got = run_python(f"""
        import json, sys
        import varimp
        heavy = {HEAVY!r}
        before = [m for m in heavy if m in sys.modules]
        public = sorted(varimp.__all__)
        listed = sorted(set(public) - set(dir(varimp)))
        before_lazy = [m for m in heavy if m in sys.modules]
        resolved = {{name: getattr(varimp, name).__class__.__name__ for name in public}}
        import varimp.compare  # the submodule must not shadow the function
        print(json.dumps({{"before": before, "before_lazy": before_lazy, "listed": listed,
                          "resolved": resolved, "compare": callable(varimp.compare),
                          "train": varimp.train_mlp.__module__,
                          "spec": varimp.MethodSpec.__module__}}))
    """)
    assert got["before"] == []
    assert got["before_lazy"] == []  # dir() names the lazy names without importing them
    assert got["listed"] == []
    assert set(got["resolved"]) >= {
        "METHODS", "Comparison", "Importance", "InputError", "MethodSpec", "ModelError",
        "UnsupportedModelError", "VarImpError", "__version__", "available_methods", "compare",
        "connection_weights", "datasets", "garson", "importance", "improved_stepwise_1",
        "improved_stepwise_2", "partial_derivatives", "permutation", "perturbation", "profile",
        "train_mlp", "train_recurrent"}
    assert got["resolved"]["datasets"] == "module"
    assert got["resolved"]["train_mlp"] == got["resolved"]["compare"] == "function"
    assert got["compare"]
    assert got["train"] == "varimp.train"
    assert got["spec"] == "varimp.registry"


def test_the_plot_package_loads_matplotlib_only_to_draw():
    got = run_python("""
        import json, sys
        import varimp.plot
        from varimp.plot import (SIGNIFICANCE_CAPTION, measure_label, plot_comparison,
                                 plot_importance, plot_kinds, plot_network, stars, time_ticks)
        print(json.dumps({"loaded": sorted(m for m in ("matplotlib", "torch") if m in sys.modules),
                          "modules": sorted(m for m in sys.modules
                                            if m.startswith("varimp.plot."))}))
    """)
    assert got["loaded"] == []
    assert got["modules"] == ["varimp.plot._common", "varimp.plot.bars", "varimp.plot.diagram",
                              "varimp.plot.draw", "varimp.plot.heatmaps",
                              "varimp.plot.profiles"]


def test_an_unknown_attribute_is_an_attribute_error():
    import varimp

    with pytest.raises(AttributeError, match="no attribute 'not_a_method'"):
        varimp.not_a_method  # noqa: B018


def test_heavy_libraries_load_on_first_use_with_the_right_numbers():
    got = run_python("""
        import json, sys
        import numpy as np
        import varimp

        def loaded():
            return sorted(m for m in ("torch", "matplotlib", "sklearn", "scipy")
                          if m in sys.modules)

        out = {"import": loaded()}
        from varimp.network import activation
        # sigmoid, gelu and softmax come from scipy.special, imported here
        out["sigmoid"] = float(activation("sigmoid")(np.array(0.0)))
        out["gelu"] = float(activation("gelu")(np.array(1.0)))
        out["softmax"] = activation("softmax")(np.log(np.array([1.0, 3.0]))).tolist()
        out["activation"] = loaded()

        X = np.array([[0.0, 1.0], [2.0, -1.0], [4.0, 3.0], [6.0, 1.0]])
        w = np.array([1.5, -2.0])
        # a plain function: improved stepwise 1 holds one input at its mean at a time
        result = varimp.improved_stepwise_1(lambda a: a @ w, X, X @ w,
                                            scoring="neg_mean_squared_error")
        out["stepwise"] = result.scores.tolist()
        out["method"] = loaded()

        varimp.train_mlp  # the trainers need torch
        out["trainer"] = loaded()
        result.plot()
        out["plot"] = loaded()
        print(json.dumps(out))
    """)
    assert got["import"] == []
    assert got["sigmoid"] == 0.5
    assert got["gelu"] == pytest.approx(0.8413447460685429, rel=1e-12)  # 1 * Phi(1)
    assert got["softmax"] == pytest.approx([0.25, 0.75], rel=1e-12)
    assert got["activation"] == ["scipy"]
    # holding x_j at its mean on y = X @ w raises the MSE from 0 to w_j^2 * var(x_j):
    # var(x1) = 5, var(x2) = 2 (population variances)
    assert got["stepwise"] == pytest.approx([1.5**2 * 5.0, 2.0**2 * 2.0], rel=1e-12)
    assert "torch" not in got["method"]  # a plain function needs no framework
    assert "sklearn" in got["method"]  # scikit-learn's scorer measured the error
    assert "torch" in got["trainer"]
    assert "matplotlib" in got["plot"]


def test_keras_imported_by_varimp_gets_the_torch_backend_when_none_is_set():
    got = run_python("""
        import json, os, sys
        import varimp
        absent = "keras" not in sys.modules
        from varimp.frameworks import import_keras
        keras = import_keras()
        print(json.dumps({"absent": absent, "backend": keras.backend.backend(),
                          "env": os.environ.get("KERAS_BACKEND")}))
    """, env=env_without_keras_backend())
    assert got == {"absent": True, "backend": "torch", "env": "torch"}


@pytest.fixture
def fake_keras(tmp_path):
    """A stand-in ``keras`` package that records the backend it was imported with."""
    package = tmp_path / "keras"
    package.mkdir()
    (package / "__init__.py").write_text(
        "import os\nBACKEND = os.environ.get('KERAS_BACKEND')\n")
    env = env_without_keras_backend()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tmp_path),
                                                      env.get("PYTHONPATH", "")]))
    return env


@pytest.mark.parametrize("chosen", [None, "jax"])
def test_import_keras_never_overrides_the_users_backend(fake_keras, chosen):
    if chosen is not None:
        fake_keras["KERAS_BACKEND"] = chosen
    got = run_python("""
        import json, os
        from varimp.frameworks import import_keras
        keras = import_keras()
        print(json.dumps({"backend": keras.BACKEND, "env": os.environ.get("KERAS_BACKEND")}))
    """, env=fake_keras)
    expected = chosen or "torch"
    assert got == {"backend": expected, "env": expected}


def test_import_keras_leaves_the_environment_alone_once_keras_is_imported(fake_keras):
    got = run_python("""
        import json, os
        import keras
        from varimp.frameworks import import_keras
        same = import_keras() is keras
        print(json.dumps({"same": same, "backend": keras.BACKEND,
                          "env": os.environ.get("KERAS_BACKEND")}))
    """, env=fake_keras)
    assert got == {"same": True, "backend": None, "env": None}


def test_varimp_plot_is_reachable_after_import_varimp_alone():
    """README: ``varimp.plot.plot_network(model)`` after ``import varimp``, no other import."""
    got = run_python("""
        import json, sys
        import varimp
        before = "matplotlib" in sys.modules
        draw = varimp.plot.plot_network
        print(json.dumps({"before": before, "module": draw.__module__,
                          "same": varimp.plot is sys.modules["varimp.plot"],
                          "listed": "plot" in dir(varimp)}))
    """)
    assert got == {"before": False, "module": "varimp.plot.diagram", "same": True,
                   "listed": True}
