"""The embedded examples run by ``varimp demo``: an MLP with a known truth and the reference LSTM.

1. **MLP on Olden's simulated data** (:func:`varimp.datasets.olden_simulation`): correlated
   inputs with known effects 0.8, 0.6, 0.4, 0.2, 0; every method's ranking is compared with
   the true one (Spearman correlation, as Olden, Joy & Death 2004 scored the methods).
2. **The reference LSTM experiment** of varimp's mission
   (:func:`varimp.datasets.product_threshold`): three stacked LSTM layers of 10, 5 and 1
   units (relu, relu, sigmoid) returning the whole sequence, trained with Adam on binary
   cross-entropy for 5 epochs of 1,000 batches of 5 sequences; importance on 250 sequences,
   input perturbation with ``N(0, 0.2)`` noise and the RMS change of the predictions as in
   the original, plus every other method. Published: x1 0.1162, x2 0.1185, x3 0.0077 (x1 and
   x2 about 15 times x3).

Every method of :func:`varimp.available_methods` runs on both models; a method that does not
apply is reported as skipped with its reason. The LSTM's scores are compared as ratios
``|x1| / |x3|`` and ``|x2| / |x3|``, except where x3's score is an increase in error at or
below zero (x3 harmless): that is no magnitude to divide by, shown as ``n/a (x3 <= 0)``. The
forward and backward stepwise methods retrain the MLP as it was trained (its epochs, on the
training rows of the held-out split), but the LSTM far less than the reference training (the
importance sequences, a few epochs); the demo says which, read from the results
(:func:`stepwise_note`): the LSTM's stepwise scores show how the methods are called, not how
important the inputs are. Plots (PNG, with the MLP's neural interpretation
diagram ``mlp_network.png``), a text report and every result as JSON are written to the output
directory, and everything in one self-contained ``report.html`` (:mod:`varimp.report`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import r2_score

from . import datasets
from .compare import applicable_methods
from .plot import measure_label
from .plot.files import save_png, save_result_plots
from .registry import available_methods, method_spec
from .report import network_diagram
from .result import Comparison, Importance
from .train import torch_threads, train_mlp, train_recurrent
from .validation import check_feature_names

#: The published result of the reference experiment (RMS change of the predictions).
PUBLISHED = {"x1": 0.1162, "x2": 0.1185, "x3": 0.0077}
REPORT = "report.txt"
HTML_REPORT = "report.html"


@dataclass(frozen=True)
class Settings:
    """Sizes of the demo; ``QUICK`` runs in seconds (used by the tests), ``FULL`` as published.

    The MLP's stepwise refits are trained as the MLP is (``mlp_epochs``); ``refit_epochs`` are
    the epochs of the LSTM's, far fewer than the reference training.
    """

    mlp_samples: int
    mlp_epochs: int
    lstm_sequences: int
    lstm_epochs: int
    lstm_batch_size: int
    lstm_lr: float
    importance_sequences: int
    n_repeats: int
    refit_epochs: int


FULL = Settings(mlp_samples=1000, mlp_epochs=100, lstm_sequences=5000, lstm_epochs=5,
                lstm_batch_size=5, lstm_lr=0.001, importance_sequences=250, n_repeats=10,
                refit_epochs=10)
QUICK = Settings(mlp_samples=300, mlp_epochs=30, lstm_sequences=600, lstm_epochs=4,
                 lstm_batch_size=20, lstm_lr=0.01, importance_sequences=60, n_repeats=2,
                 refit_epochs=2)


class Report:
    """Prints lines as they come and keeps them for ``report.txt``."""

    def __init__(self, echo: Callable[[str], None] = print):
        self.echo, self.lines = echo, []

    def __call__(self, text: str = "") -> None:
        self.lines.append(text)
        self.echo(text)

    def table(self, frame: pd.DataFrame | pd.Series, indent: str = "    ") -> None:
        text = frame.to_string(float_format=lambda v: f"{v:.4g}")
        for line in text.splitlines():
            self(indent + line)


def _clock(start: float) -> str:
    return f"{time.perf_counter() - start:.2f} s"


def run_methods(model: object, X: np.ndarray, y: np.ndarray, *, case: str, out: Path,
                report: Report, options: dict[str, dict[str, Any]],
                without_y: bool = False) -> Comparison:
    """Every available method on one model; a method that does not apply is skipped, said why.

    ``options[name]`` are the method's options (``"*"`` for every method), kept where the
    method takes them; with ``without_y``, the methods that have a measure without targets
    (:attr:`varimp.registry.MethodSpec.without_y`: perturbation's RMS change of the
    predictions) are called without them.
    """
    names, skipped = applicable_methods(model, X, y)
    for name, why in skipped.items():
        report()
        report(f"  {name}: skipped ({why})")
    results = {}
    for name in names:
        spec = method_spec(name)
        wanted = {**options.get("*", {}), **options.get(name, {})}
        kwargs = {key: value for key, value in wanted.items() if key in spec.options}
        target = None if without_y and spec.without_y else y
        report()
        start = time.perf_counter()
        result = spec.function(model, X, target, **kwargs)
        elapsed = _clock(start)
        report(f"  {name} ({elapsed}; {measure_label(result)}):")
        report.table(result.to_frame().set_index("feature"))
        if result.by_time is not None:
            report("    by_time (time step x feature; the last step is the most recent):")
            report.table(result.by_time, indent="      ")
        plots = save_result_plots(result, f"{case}_{name}", out)
        report(f"    plots: {', '.join(plots)}")
        results[name] = result
    comparison = Comparison(results, skipped)
    if results:
        save_png(comparison.plot(kind="bar"), out / f"{case}_comparison.png")
        save_png(comparison.plot(kind="heatmap"), out / f"{case}_ranks.png")
        plots = [f"{case}_comparison.png", f"{case}_ranks.png"]
        diagram = network_diagram(model, list(check_feature_names(None, X.shape[-1], None)))
        if diagram is not None:
            save_png(diagram, out / f"{case}_network.png")
            plots.append(f"{case}_network.png")
        report(f"\n  plots: {', '.join(plots)}")
    return comparison


def _r2(model: Any, X: np.ndarray, y: np.ndarray) -> float:
    from .adapters import adapt

    return float(r2_score(y, adapt(model).predict(X)[:, 0, 0]))


def mlp_case(settings: Settings, out: Path, report: Report) -> dict[str, Any]:
    """A small MLP on Olden's simulated data, every method against the known truth."""
    report("== 1. MLP on simulated data with known importance (Olden, Joy & Death 2004) ==")
    X, y, truth = datasets.olden_simulation(settings.mlp_samples, random_state=0)
    report(f"  data: {X.shape[0]} rows x {X.shape[1]} inputs, pairwise correlation 0.2; true "
           f"effects {truth.round(2).to_dict()}")
    start = time.perf_counter()
    fit = partial(train_mlp, hidden=(8,), epochs=settings.mlp_epochs, random_state=0)
    model = fit(X, y)
    report(f"  trained a 5-8-1 tanh MLP in {_clock(start)}; R^2 = {_r2(model, X, y):.3f}")
    # the stepwise refits are trained as the model: fewer epochs leave them too poor to rank
    refit = partial(train_mlp, hidden=(8,), epochs=settings.mlp_epochs, random_state=0)
    options = {"*": {"random_state": 0, "progress": False, "fit": refit},
               "perturbation": {"n_repeats": settings.n_repeats},
               "permutation": {"n_repeats": settings.n_repeats}}
    comparison = run_methods(model, X, y, case="mlp", out=out, report=report, options=options)
    similarity = pd.Series({name: (-result.ranks).corr(truth.abs(), method="spearman")
                            for name, result in comparison.results.items()}, name="similarity")
    report("\n  similarity to the true ranking (Spearman correlation of each method's ranks "
           "with the ranks of |effect|):")
    report.table(similarity)
    note = stepwise_note(comparison.results, network="MLP", unit="rows",
                         pool=f"{len(X)} rows", model_rows=len(X),
                         model_epochs=settings.mlp_epochs, inputs="x1 to x5")
    if note:
        report(f"\n  {note}")
    facts = {"model": f"PyTorch MLP 5-8-1, tanh hidden units, {settings.mlp_epochs} epochs "
                      "(varimp.train_mlp, seed 0)",
             "fit": f"R^2 = {_r2(model, X, y):.3f} on the training data",
             "input shape": f"{X.shape} (rows, inputs)",
             "data": "Olden's simulation: normal inputs with pairwise correlation 0.2, "
                     "y = X @ (0.8, 0.6, 0.4, 0.2, 0) + N(0, 0.5^2) noise (seed 0)",
             "true effects": _listing(truth),
             "similarity to the truth": _listing(similarity, "Spearman correlation with the "
                                                 "true ranking: "),
             **({"stepwise methods": note} if note else {})}
    return {"results": comparison.results, "comparison": comparison, "similarity": similarity,
            "model": model, "facts": facts}


def lstm_case(settings: Settings, out: Path, report: Report) -> dict[str, Any]:
    """The reference LSTM experiment: x1 and x2 matter, x3 does not."""
    report("\n== 2. The reference LSTM: y[t] = 1 when x1[t] * x2[t] < 0.25 (x3 irrelevant) ==")
    X, y, _ = datasets.product_threshold(settings.lstm_sequences, 10, random_state=0)
    X_imp, y_imp, _ = datasets.product_threshold(settings.importance_sequences, 10,
                                                 random_state=1)
    batches = int(np.ceil(len(X) / settings.lstm_batch_size))
    start = time.perf_counter()
    model = train_recurrent(X, y, units=(10, 5, 1), activations=("relu", "relu", "sigmoid"),
                            epochs=settings.lstm_epochs, batch_size=settings.lstm_batch_size,
                            lr=settings.lstm_lr, random_state=0)
    train_time = time.perf_counter() - start
    from .adapters import adapt

    accuracy = float(np.mean((adapt(model).predict(X_imp)[..., 0] > 0.5) == y_imp))
    report(f"  trained LSTM(10, relu) -> LSTM(5, relu) -> LSTM(1, sigmoid), whole sequences, "
           f"{settings.lstm_epochs} epochs x {batches} batches of {settings.lstm_batch_size} "
           f"in {train_time:.1f} s; accuracy on {len(X_imp)} new sequences {accuracy:.3f} "
           f"(always-1 baseline {max(y_imp.mean(), 1 - y_imp.mean()):.3f})")
    refit = partial(train_recurrent, lr=0.01, batch_size=10, epochs=settings.refit_epochs,
                    random_state=0)
    options = {"*": {"random_state": 0, "progress": False, "fit": refit},
               "perturbation": {"noise": 0.2, "scale": "absolute",
                                "n_repeats": settings.n_repeats},
               "permutation": {"n_repeats": settings.n_repeats}}
    report(f"  importance on {len(X_imp)} sequences; perturbation: N(0, 0.2) noise on one "
           "feature at all steps, RMS change of the predictions (as published)")
    comparison = run_methods(model, X_imp, y_imp, case="lstm", out=out, report=report,
                             options=options, without_y=True)
    results = comparison.results
    ratios = pd.DataFrame({name: {"x1/x3": _ratio(r, "x1"), "x2/x3": _ratio(r, "x2")}
                           for name, r in results.items()}).T
    report("\n  ratios of |score| (published perturbation: x1/x3 = "
           f"{PUBLISHED['x1'] / PUBLISHED['x3']:.1f}, x2/x3 = "
           f"{PUBLISHED['x2'] / PUBLISHED['x3']:.1f}); an increase in error of x3 at or below "
           "zero (x3 harmless) has no ratio:")
    report.table(ratios.map(_shown_ratio))
    caveat = stepwise_note(results, network="LSTM", unit="sequences",
                           pool=f"{len(X_imp)} importance sequences", model_rows=len(X),
                           model_epochs=settings.lstm_epochs, inputs="x1, x2 and x3")
    if caveat:
        report(f"\n  {caveat}")
    facts = {"model": "PyTorch LSTM(10, relu) -> LSTM(5, relu) -> LSTM(1, sigmoid), one "
                      f"prediction per step, {settings.lstm_epochs} epochs x {batches} batches "
                      f"of {settings.lstm_batch_size} (varimp.train_recurrent, seed 0)",
             "accuracy": f"{accuracy:.3f} on {len(X_imp)} new sequences (always-1 baseline "
                         f"{max(y_imp.mean(), 1 - y_imp.mean()):.3f})",
             "input shape": f"{X_imp.shape} (sequences, time steps, features)",
             "data": "x1, x2, x3 uniform on [0, 1]; y[t] = 1 when x1[t] * x2[t] < 0.25 "
                     "(x3 irrelevant); importance on sequences drawn with seed 1",
             "perturbation": "N(0, 0.2) noise on one feature at all steps, RMS change of the "
                             "predictions (as published: x1 0.1162, x2 0.1185, x3 0.0077)",
             **({"stepwise methods": caveat} if caveat else {})}
    return {"results": results, "comparison": comparison, "ratios": ratios, "accuracy": accuracy,
            "train_seconds": train_time, "model": model, "facts": facts}


def stepwise_note(results: dict[str, Importance], *, network: str, unit: str, pool: str,
                  model_rows: int, model_epochs: int, inputs: str) -> str:
    """What the demo says of the forward and backward stepwise scores, read from the forward
    result: how many rows (``unit``) of ``pool`` each refit trains on (the training rows of
    its held-out split) and for how many epochs (its ``fit``'s ``epochs``), against the
    model's own training (``model_rows`` for ``model_epochs``). Refits that see under half as
    many rows x epochs as the model are too small to learn the task: their scores are said to
    be mostly noise. "" where the methods did not run."""
    result = results.get("forward_stepwise")
    if result is None:
        return ""
    rows = len(result.details["held_out"]["train_rows"][0])
    fit = result.details["settings"]["fit"]
    epochs = getattr(fit, "keywords", {}).get("epochs")
    if epochs is None:
        return ""
    text = (f"forward_stepwise and backward_stepwise retrain the {network} on {rows} of the "
            f"{pool} for {epochs} epochs")
    if rows * epochs >= 0.5 * model_rows * model_epochs:
        return (f"{text}, a training like the {network}'s own ({model_rows} {unit}, "
                f"{model_epochs} epochs): their scores say how much the retrained networks "
                f"need {inputs}, and can be set against the true effects.")
    return (f"{text} (the {network} itself saw {model_rows} {unit} for {model_epochs} "
            "epochs): too little to learn the task, so their scores here are mostly noise "
            f"and show how the methods are called, not how important {inputs} are.")


def _listing(values: pd.Series, prefix: str = "") -> str:
    return prefix + ", ".join(f"{name} {value:.3g}" for name, value in values.items())


def _ratio(result: Importance, name: str) -> float:
    """``|score of name| / |score of x3|``; NaN where the ratio means nothing: a loss (an
    increase in error) of x3 at or below zero, x3 harmless or helpful to leave out, is no
    magnitude to divide by."""
    low = float(result.scores["x3"])
    if low <= 0 and (result.kind == "loss" or low == 0):
        return float("nan")
    return abs(float(result.scores[name])) / abs(low)


def _shown_ratio(value: float) -> str:
    return "n/a (x3 <= 0)" if np.isnan(value) else f"{value:.4g}"


def run_demo(out: Path, *, quick: bool = False,
             echo: Callable[[str], None] = print) -> dict[str, Any]:
    """Run both examples, writing plots, ``report.txt``, ``report.html`` and ``results.json``
    into ``out``.

    ``out`` must be an existing directory; the command line writes into a fresh temporary
    directory and moves it into place only when everything succeeded.
    """
    settings = QUICK if quick else FULL
    report = Report(echo)
    start = time.perf_counter()
    report(f"varimp demo ({'quick' if quick else 'full'}); methods: "
           f"{', '.join(available_methods())}\n")
    with torch_threads(1):  # small models: one thread is fastest, even on a busy machine
        mlp = mlp_case(settings, out, report)
        lstm = lstm_case(settings, out, report)
    report(f"\ntotal wall time {_clock(start)}")
    (out / REPORT).write_text("\n".join(report.lines) + "\n", encoding="utf-8")
    write_html(out / HTML_REPORT, quick=quick, mlp=mlp, lstm=lstm,
               seconds=time.perf_counter() - start)
    payload = {case: {name: r.to_dict() for name, r in part["results"].items()}
               for case, part in (("mlp", mlp), ("lstm", lstm))}
    (out / "results.json").write_text(json.dumps(payload, indent=1, allow_nan=False),
                                      encoding="utf-8")
    return {"mlp": mlp, "lstm": lstm}


def write_html(path: Path, *, quick: bool, mlp: dict[str, Any], lstm: dict[str, Any],
               seconds: float) -> None:
    """The demo's ``report.html``: both examples and every method, written by
    :func:`varimp.report.write_report`."""
    import datetime
    import platform

    from . import __version__
    from .report import Case, write_report

    run = {"command": "varimp demo" + " --quick" * quick,
           "mode": "quick: small data and short training" if quick else "full, as published",
           "seed": "0 (random_state of every trainer and method)",
           "varimp version": __version__,
           "Python": platform.python_version(),
           "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
           "wall time": f"{seconds:.1f} s"}
    cases = [
        Case("MLP on simulated data with known importance", "A small MLP trained on Olden's "
             "simulated data (Olden, Joy & Death 2004), where the true effects are known: every "
             "method's ranking can be compared with the true one.", mlp["comparison"],
             mlp["facts"], model=mlp["model"]),
        Case("The reference LSTM", "Three stacked LSTM layers trained to say, at every step, "
             "whether x1 * x2 < 0.25; x3 is irrelevant. x1 and x2 should come out about 15 times "
             "as important as x3.", lstm["comparison"], lstm["facts"], model=lstm["model"]),
    ]
    write_report(path, title="varimp demo" + " (quick)" * quick, run=run, cases=cases)


__all__ = ["FULL", "QUICK", "Settings", "lstm_case", "mlp_case", "run_demo", "run_methods",
           "stepwise_note", "write_html"]
