"""What ``varimp run MODEL DATA --out DIR`` does, once its arguments are parsed.

1. Read the model and the data (:mod:`varimp.loaders`) and check that they fit each other: the
   input shape, one target column per output (:func:`check_targets`), and for a long table the
   targets scored (:func:`scored_targets`: every step's, or the last step's for a model that
   predicts one value per sequence, as ``run.json`` and the report then say).
2. Choose the methods: those named (one that cannot run on this model and data is an error
   before any method runs), or every method that applies (a method that needs targets is
   skipped without them, one that reads weights when the weights cannot be read, one that
   retrains when varimp cannot train a model like this one, read with ``--output-kind`` and
   ``--classes``), each skipped method with its reason. Several target columns name the
   model's outputs (``--output NAME``, the per-output tables).
3. Run them all with :func:`varimp.compare` (one seed, the common options given); with
   ``--randomization N`` each through :func:`varimp.randomization_test` (p-values from N
   networks refitted on permuted targets), with ``--ensemble N`` each through
   :func:`varimp.ensemble` (mean, std and interval over N refitted networks). Both need
   targets and a model that varimp can retrain; both are refused before any work otherwise.
4. Only then write, into a fresh directory that the command line moves into place: every
   result as CSV (:meth:`Importance.to_frame`) and JSON (:meth:`Importance.to_json`), its
   plots as PNG, the comparison (``comparison.csv``, ``comparison.json``, ``agreement.csv`` and
   two plots), the neural interpretation diagram of an MLP (``network.png``), ``run.json``
   (what was run: the command, the working folder and the files' absolute paths, enough to run
   it again; and the run's warnings) and ``report.html`` (:func:`varimp.report.write_report`).

Warnings (``warnings.warn``) are left to the command line, which records them (the list it
hands to :func:`run`) and shows each once as one line; :func:`run` writes those raised until
the output is written, each distinct one once with the number of times, into ``run.json``
(``"warnings"``) and the report's "Warnings" section.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import re
import shlex
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .errors import InputError, VarImpError
from .loaders import MODEL_FORMATS, CsvDialect, Data, LoadedModel, load_data, load_model
from .plot import STARS
from .registry import COMMON_OPTIONS, available_methods, method_spec
from .result import Comparison
from .stats.ensemble import DEFAULT_CI_LEVEL

#: Common options of :func:`varimp.compare` set from the command line's options of that name.
PASSED_OPTIONS = ("n_repeats", "by_time", "output_kind", "scoring", "batch_size", "n_jobs",
                  "backend", "ci_level", "n_bootstrap")
#: Options of the command line that retrain the model for every method.
RETRAINED = ("randomization", "ensemble")
#: The significance level of the report's first star (``*``: p <= 0.05), the plots' weakest.
FIRST_STAR = max(threshold for threshold, _ in STARS)
#: Why the command line cannot retrain a torch.export program (.pt2), said instead of the
#: reason the library gives, which is written for the methods that read the weights.
EXPORTED_REFIT = ("a torch.export program (.pt2) keeps the weights but not the layers they "
                  "belong to, so varimp cannot rebuild the network to train it afresh (save "
                  "the model with torch.jit.script, .pt, which varimp rebuilds)")


def run(args: argparse.Namespace, command: Sequence[str],
        write_into: Callable[[Callable[[Path], None]], Path],
        caught: Sequence[warnings.WarningMessage] = ()) -> None:
    """Run ``varimp run`` with parsed ``args``; ``write_into(write)`` places the output.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options (see ``varimp run --help``).
    command : sequence of str
        The command line as typed, recorded in the report to reproduce the run.
    write_into : callable
        Calls ``write(directory)`` on a fresh directory and moves it to ``--out``; returns
        the final path.
    caught : sequence of warnings.WarningMessage
        The warnings recorded so far (a list that grows as the run warns), written into
        ``run.json`` and the report.
    """
    import matplotlib

    matplotlib.use("Agg")
    begun = time.perf_counter()  # the whole run's wall time, from reading the model
    say = (lambda text: None) if args.quiet else print
    step = print if args.verbose else (lambda text: None)
    step(f"reading the model {args.model}")
    with warnings.catch_warnings():  # the frameworks' notes on their own file formats
        warnings.simplefilter("ignore")
        loaded = load_model(args.model, trust_pickle=args.trust_pickle, trust=args.trust)
    step(f"  {loaded.format}: {loaded.summary}")
    step(f"reading the data {args.data}")
    data = load_data(args.data, target=args.target, features=args.features,
                     id_column=args.id_column, time_column=args.time_column,
                     time_format=args.time_format, target_file=args.target_file,
                     dialect=CsvDialect(args.sep, args.decimal, args.encoding))
    check_fit(loaded, data, args.model, args.data)
    data = scored_targets(loaded.model, data, data.target_names, args.data, args.output_step)
    options = common_options(args, data, data.y)
    check_targets(args, loaded.model, data, options)
    refit_reason = EXPORTED_REFIT if loaded.format == MODEL_FORMATS[".pt2"] else None
    check_retrainable(args, _configured(loaded.model, options), data.X, data.y, refit_reason)
    y = named_targets(data, _configured(loaded.model, options).model_output_names())
    if smallest_pvalue(args) is not None:
        n = args.randomization
        warnings.warn(f"--randomization {n}: the smallest p-value {n} permutations can give is "
                      f"1/({n}+1) = {smallest_pvalue(args):.3g}, above {FIRST_STAR}, so no "
                      f"variable can be marked significant; use at least "
                      f"{round(1 / FIRST_STAR) - 1} permutations", UserWarning, stacklevel=2)
    names, skipped = choose_methods(_names(args.methods), loaded.model, data.X, data.y,
                                    output_kind=options.get("output_kind"),
                                    classes=options.get("classes"), refit_reason=refit_reason,
                                    arrays=args.data.suffix.lower() in (".npy", ".npz"))
    method_options = scale_options(args, names)
    if args.fit_epochs is not None and (_retrained(args) or any(
            method_spec(n).retrains for n in names)):
        options["fit"] = refit_with_epochs(_configured(loaded.model, options), data.X, y,
                                           args.fit_epochs)
    step(f"running {', '.join(names)} on {data.facts['inputs']}" + (
        f", each tested on {args.randomization} networks refitted on permuted targets"
        if args.randomization is not None else "") + (
        f", each over {args.ensemble} refitted networks" if args.ensemble is not None else ""))
    start = time.perf_counter()
    comparison = compute(args, loaded.model, data.X, y,
                         None if args.methods is None and not _retrained(args) else names,
                         options, method_options)
    comparison = Comparison(comparison.results, {**comparison.skipped, **skipped})
    elapsed = time.perf_counter() - start
    info = run_facts(command, args, list(comparison.results), elapsed)
    from .cli import cli_warnings
    from .report import Case

    case = Case(name=args.model.name, description=f"{loaded.format} {args.model.name} on "
                f"{data.facts['data']}.", comparison=comparison,
                facts={"model": f"{loaded.format}: {loaded.summary}", **data.facts},
                model=loaded.model, feature_names=list(data.feature_names),
                output_kind=options.get("output_kind"), classes=options.get("classes"),
                target_names=list(y.columns) if isinstance(y, pd.DataFrame) else None)
    out = write_into(lambda work: write_outputs(work, case, info, cli_warnings(caught), begun))
    say(comparison.scores.to_string(float_format=lambda v: f"{v:.4g}"))
    if args.randomization is not None:
        say(pvalue_tables(comparison, args.randomization))
    refitted = refitted_scores(args, comparison, out)
    if refitted:
        say(f"\n{refitted}")
    for name, reason in comparison.skipped.items():
        say(f"skipped {name}: {reason}")
    say(f"\nwrote {len(comparison.results)} results, their plots and report.html to {out} "
        f"({elapsed:.1f} s for the methods, {time.perf_counter() - begun:.1f} s in all)")


def refitted_scores(args: argparse.Namespace, comparison: Comparison, out: Path) -> str:
    """What the printed scores of a run that retrains are, when they are not the given
    model's: those of a network refitted on the true targets (``--randomization`` on a network
    varimp rebuilds: the given model's scores are in each result's JSON), or the mean over the
    refitted networks (``--ensemble``); "" otherwise."""
    if args.ensemble is not None:
        return (f"the scores above are the mean over {args.ensemble} networks refitted on "
                "bootstrap resamples of the rows, not the given model's (a run without "
                "--ensemble scores the given model)")
    rebuilt = [name for name, result in comparison.results.items()
               if "given_model" in result.details]
    if not rebuilt:
        return ""
    files = ", ".join(f"{name}.json" for name in rebuilt)
    return (f"the scores and p-values above of {', '.join(rebuilt)} are of a network varimp "
            "rebuilt and trained on the true targets, as it trained the networks on permuted "
            "targets (the given model's own training is not theirs); the given model's own "
            f"scores are in {out / files if len(rebuilt) == 1 else f'{out}/ ({files})'}, "
            "under details.given_model")


def pvalue_tables(comparison: Comparison, n_permutations: int) -> str:
    """The p-values of a run with ``--randomization`` as printed on the terminal: the raw
    ones, then the Benjamini-Hochberg adjusted ones that the stars of the plots and the report
    follow (:func:`varimp.result.adjusted_pvalues`), variables x methods."""
    from .result import adjusted_pvalues

    text = ""
    for title, read in (("p-values", lambda r: r.pvalues),
                        ("Benjamini-Hochberg adjusted p-values (the stars)", adjusted_pvalues)):
        table = pd.DataFrame({name: read(result) for name, result in comparison.results.items()})
        text += f"\n{title} ({n_permutations} permutations):\n" + \
            table.to_string(float_format=lambda v: f"{v:.3g}")
    return text


def smallest_pvalue(args: argparse.Namespace) -> float | None:
    """``1 / (N + 1)``, the smallest p-value of ``--randomization N``, when it is too large for
    the first star (:data:`FIRST_STAR`); None otherwise."""
    if args.randomization is None or 1 / (args.randomization + 1) <= FIRST_STAR:
        return None
    return 1 / (args.randomization + 1)


def _names(values: Sequence[str] | None) -> list[str] | None:
    """Names given space or comma separated, in order (``--methods``; column names are read by
    :func:`varimp.loaders.data.column_names`)."""
    if values is None:
        return None
    return [name for value in values for name in re.split(r"[,\s]+", value) if name]


def check_fit(loaded: LoadedModel, data: Data, model_path: Path, data_path: Path) -> None:
    """InputError when the input shape the model declares does not match the data, or when a
    scikit-learn model fitted on named columns would read a table's other columns, or the
    same in another order (it is handed arrays, so it could not tell)."""
    fitted = getattr(loaded.model, "feature_names_in_", None)
    table = data_path.suffix.lower() not in (".npy", ".npz")
    if table and fitted is not None and [str(c) for c in fitted] != data.feature_names:
        fitted = [str(c) for c in fitted]
        raise InputError(f"the model in {model_path} was fitted on the columns {fitted} in this "
                         f"order; the inputs read from {data_path} are {data.feature_names}: "
                         f"pass --features {shlex.join(fitted)}")
    declared, received = loaded.input_shape, data.X.shape[1:]
    if declared is None:
        return
    if len(declared) == len(received) and all(
            d is None or d == r for d, r in zip(declared, received, strict=True)):
        return
    axes = "(steps, features)" if len(declared) == 2 else "(features,)"
    if len(declared) == len(received) and declared[-1] not in (None, received[-1]):
        raise InputError(f"the model in {model_path} reads {declared[-1]} input features; "
                         f"the data in {data_path} have {received[-1]} "
                         f"({', '.join(data.feature_names)})")
    raise InputError(f"the model in {model_path} reads inputs of shape {axes} = "
                     f"{tuple(declared)}; the data in {data_path} are {tuple(received)} per "
                     "sample")


def scored_targets(model: object, data: Data, columns: Sequence[str] | None,
                   path: Path | str = "", output_step: int | None = None) -> Data:
    """``data`` with the targets the methods score against, and its facts saying what they are.

    A long table holds a target per time step. For a model that predicts one value per
    sequence (its prediction has one step), the target is the last step's value of each
    sequence (the usual many-to-one reading); for one that predicts every step, every step's.
    Only the steps read need targets (InputError naming the sequences and steps that miss
    them, :func:`varimp.loaders.data.check_read_targets`; ``path`` names the data file; with
    ``output_step`` the message says why every step's target is still taken).
    """
    if data.y is None or not data.targets_per_step:
        return data
    from .adapters import adapt
    from .loaders.data import check_read_targets

    try:
        steps, T = adapt(model).predict(data.X[:2]).shape[1], data.y.shape[1]
    except VarImpError:  # a model that cannot run on these inputs: said when the methods run
        return data
    check_read_targets(data, steps != T, path, output_step)
    if steps == T:
        return data
    if steps != 1:
        raise InputError(f"the model predicts {steps} steps per sequence; the long table has "
                         f"{T} (its target has one value per step): varimp scores a model that "
                         "predicts every step or one value per sequence")
    y = data.y[:, -1]
    what = ", ".join(columns or ["y"])
    fact = (f"{what} at the last step of each sequence (the model predicts one value per "
            f"sequence; the table has one per step, {T} steps), shape "
            f"{' x '.join(str(s) for s in y.shape)}")
    return dataclasses.replace(data, y=y, facts={**data.facts, "target": fact})


def check_targets(args: argparse.Namespace, model: object, data: Data,
                  options: dict[str, Any]) -> None:
    """InputError, in the command line's words, when numeric targets do not give one column
    per output of a model whose outputs are read as regression values (text targets are class
    labels: the methods' own message then asks for ``--output-kind``)."""
    y = data.y
    if y is None or (y.dtype.kind not in "biuf" and not data.target_text):
        return
    adapter = _configured(model, options)
    if adapter.output_kind != "regression":  # a classifier's outputs are its classes
        return
    if data.target_text:
        raise InputError(f"{data.target_text} (the model's outputs are read as regression "
                         "values, so its targets must be numbers; if they are a classifier's "
                         "classes, pass --output-kind logits or --output-kind probability)")
    try:
        steps, outputs = adapter.predict(data.X[:2]).shape[1:]
    except VarImpError:  # a model that cannot run on these inputs: said when the methods run
        return
    columns = y.shape[-1] if y.ndim == (3 if steps > 1 else 2) else 1
    if columns == outputs:
        return
    names = getattr(adapter, "output_names", None)
    told = f"{outputs} output{'s' * (outputs > 1)}" + (
        f" ({', '.join(map(str, names))})" if names else "")
    classes = "" if columns > 1 or not np.all(np.mod(y, 1) == 0) else (
        "; if they are a classifier's classes, pass --output-kind logits or --output-kind "
        "probability")
    if args.target is not None:
        given = data.target_names
        raise InputError(f"--target gives {len(given)} column{'s' * (len(given) > 1)} "
                         f"({shlex.join(given)}) but the model has {told}, read as regression "
                         "values: give --target one column per output, in the order of the "
                         f"model's outputs (--output then chooses the outputs to explain){classes}")
    raise InputError(f"the targets have {columns} column{'s' * (columns > 1)} but the model "
                     f"has {told}, read as regression values: give targets of shape (n, "
                     f"{outputs}) in the .npz as 'y' or in --target-file, one column per output "
                     f"in the model's order{classes}")


def common_options(args: argparse.Namespace, data: Data, y: np.ndarray | None = None
                   ) -> dict[str, Any]:
    """The options of :func:`varimp.compare` that the command line sets."""
    options: dict[str, Any] = {
        "random_state": args.seed, "feature_names": data.feature_names,
        "progress": False if args.quiet else (True if args.verbose else None)}
    options.update({name: getattr(args, name) for name in PASSED_OPTIONS
                    if getattr(args, name) is not None})
    if args.output is not None:
        options["output"] = output_option(args.output, data)
    if args.output_step is not None:
        options["output_step"] = args.output_step
    if args.group:
        options["groups"] = feature_groups(args.group, data.feature_names)
    if args.classes is not None:
        options["classes"] = class_labels(args.classes, y)
    return options


def named_targets(data: Data, model_names: Sequence[str] | None = None
                  ) -> np.ndarray | pd.DataFrame | None:
    """The targets handed to the methods: several target columns ``(n, k)`` as a DataFrame
    whose columns are the columns' names, which name the model's outputs (``--output NAME``,
    the per-output tables); otherwise the array as read. ``model_names``: the names the model
    gives its outputs (a Keras model's heads), if any. ``--target`` lists the columns in the
    model's order, so columns named otherwise than the heads go as an array, by position (the
    methods match a DataFrame's columns to the heads by name and refuse other names)."""
    y = data.y
    if y is None or y.ndim != 2 or len(data.target_names) != y.shape[1] or \
            len(data.target_names) < 2:
        return y
    if model_names and set(model_names) != set(data.target_names):
        return y
    return pd.DataFrame(y, columns=data.target_names)


def output_option(text: str, data: Data) -> int | str:
    """``--output``: an integer is an index; the name of one of several ``--target`` columns
    (one per output, in the model's order) that column's index, also where the model names
    its outputs otherwise (a Keras model's heads) or the methods cannot see the columns'
    names (targets per time step, ``(n, T, k)``, which a DataFrame cannot hold); anything else
    a name of the model's outputs (class labels, Keras output names)."""
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if len(data.target_names) > 1 and text in data.target_names:
        return data.target_names.index(text)
    return text


def feature_groups(given: Sequence[str], features: Sequence[str]) -> dict[str, list[str]]:
    """``--group NAME=COL1,COL2,...`` (repeatable): variables made of several feature
    columns (a one-hot block), each scored as one."""
    from .loaders.data import column_names

    groups: dict[str, list[str]] = {}
    for text in given:
        name, sep, members = text.partition("=")
        name = name.strip()
        columns = column_names([members.strip()], features) if sep else []
        if not name or not columns:
            raise InputError(f"--group must be NAME=COL1,COL2,... (a name, '=', the feature "
                             f"columns scored together); received {text!r}")
        unknown = [c for c in columns if c not in features]
        if unknown:
            raise InputError(f"--group {text}: {', '.join(map(repr, unknown))} is not a "
                             f"feature column; the features are {list(features)}")
        if name in groups:
            raise InputError(f"--group names {name!r} twice")
        groups[name] = columns
    return groups


def scale_options(args: argparse.Namespace, names: Sequence[str]) -> dict[str, dict[str, Any]]:
    """``--scale`` as the ``scale`` of every method that runs and takes it (per raw unit or
    per standard deviation of every input: :attr:`varimp.registry.MethodSpec.scales`;
    perturbation's ``scale`` is another option); InputError for ``--scale std`` when none of
    them runs (``--scale none``, their default, then changes nothing and is accepted)."""
    if args.scale is None:
        return {}
    scaled = [name for name in names if method_spec(name).scales]
    if not scaled:
        if args.scale == "none":
            return {}
        scaling = [name for name in available_methods() if method_spec(name).scales]
        raise InputError(f"--scale {args.scale} scales the scores of {', '.join(scaling)}, "
                         f"none of which this run computes (methods: {', '.join(names)}): add "
                         "one of them to --methods or leave out --scale")
    return {name: {"scale": args.scale} for name in scaled}


def class_labels(text: str, y: np.ndarray | None) -> list:
    """The labels of ``--classes`` (comma separated): numbers when the targets are numbers,
    so that they find the targets' labels, else text."""
    labels = [label.strip() for label in text.split(",") if label.strip()]
    if not labels:
        raise InputError(f"--classes must name the class labels, comma separated (e.g. "
                         f"--classes absent,present); received {text!r}")
    if y is None or y.dtype.kind not in "iuf":
        return labels
    try:
        numbers = [float(label) for label in labels]
    except ValueError:
        raise InputError(f"--classes {text}: the targets are numbers, so the classes must be "
                         "numbers too") from None
    return [int(v) if v.is_integer() else v for v in numbers]


def choose_methods(requested: list[str] | None, model: object, X: np.ndarray,
                   y: np.ndarray | None, *, output_kind: str | None = None,
                   classes: object = None, refit_reason: str | None = None,
                   arrays: bool = False) -> tuple[list[str], dict[str, str]]:
    """The methods to run and those skipped with their reasons.

    By default every available method runs that applies
    (:func:`varimp.compare.applicable_methods`, the model read with ``output_kind`` and
    ``classes``): without ``y`` those that measure an error are skipped; those that read
    weights when varimp cannot read the network; those that retrain when it cannot train a
    model like this one (said with ``refit_reason`` where given). Methods named by the user
    all run: one of them that cannot is an InputError before any method runs. The reason of a
    method that needs y names the option that gives it: ``--target`` for a table,
    ``--target-file`` (or ``y`` in an .npz) for ``arrays``.
    """
    from .compare import applicable_methods

    if requested is not None:
        if not requested:
            raise InputError("--methods names no method")
        for name in requested:
            method_spec(name)
    names, skipped = applicable_methods(model, X, y, output_kind=output_kind, classes=classes)
    give = ("give --target-file, or X and y in one .npz" if arrays else
            "give --target, the column of the targets")
    skipped = {name: f"needs y ({give})" if why == "needs y"
               else f"cannot retrain: {refit_reason}" if refit_reason and
               method_spec(name).retrains and why.startswith("cannot retrain")
               else why for name, why in skipped.items()}
    if requested is None:
        return names, skipped
    refused = [name for name in dict.fromkeys(requested) if name in skipped]
    if refused:
        raise InputError(f"--methods {refused[0]} cannot run on this model and data: "
                         f"{skipped[refused[0]]} (leave it out of --methods; without --methods "
                         "every method that applies runs)")
    return list(dict.fromkeys(requested)), {}


def _retrained(args: argparse.Namespace) -> bool:
    return any(getattr(args, name) is not None for name in RETRAINED)


def check_retrainable(args: argparse.Namespace, model: object, X: np.ndarray,
                      y: np.ndarray | None, refit_reason: str | None = None) -> None:
    """InputError, before any work, when ``--randomization`` or ``--ensemble`` is asked of
    data without targets or of a model that varimp cannot retrain (said with
    ``refit_reason`` where given)."""
    if not _retrained(args):
        return
    option = next(f"--{name} {getattr(args, name)}" for name in RETRAINED
                  if getattr(args, name) is not None)
    if y is None:
        raise InputError(f"{option} trains networks on the targets: give --target (tables), "
                         "targets in the .npz or --target-file")
    from .refit import refit_refusal

    reason = refit_refusal(model, X, y)
    if reason and refit_reason:
        reason = refit_reason
    if reason:
        raise InputError(f"{option} retrains the model: {reason}; the command line retrains "
                         "only models varimp can rebuild (--fit-epochs sets their training); "
                         "from Python, pass your own training function as fit= to "
                         "varimp.randomization_test or varimp.ensemble")


def compute(args: argparse.Namespace, model: object, X: np.ndarray, y: object,
            names: Sequence[str] | None, options: dict[str, Any],
            method_options: dict[str, dict[str, Any]] | None = None) -> Comparison:
    """Every method's result: plain (:func:`varimp.compare`; ``names`` None: every method
    that applies, a retraining method that finds it cannot retrain skipped), tested by the
    randomization test (``--randomization``) or averaged over an ensemble (``--ensemble``);
    ``method_options``: options of one method only (``{method: {option: value}}``)."""
    method_options = method_options or {}
    if not _retrained(args):
        from .compare import compare

        return compare(model, X, y, methods=names, method_options=method_options or None,
                       **options)
    from .stats import ensemble, randomization_test

    fit = options.get("fit")
    results = {}
    for name in names or ():
        spec = method_spec(name)
        own = {k: v for k, v in options.items()
               if k != "fit" and (k in COMMON_OPTIONS or k in spec.options)}
        own.update(method_options.get(name, {}))
        if args.randomization is not None:
            results[name] = randomization_test(model, X, y, method=name, fit=fit,
                                               n_permutations=args.randomization, **own)
        else:
            results[name] = ensemble(model, X, y, method=name, fit=fit,
                                     n_models=args.ensemble, **own)
    return Comparison(results)


def _configured(model: object, options: dict[str, Any]) -> Any:
    """The model's adapter with the run's ``output_kind`` and ``classes``, so that a network
    rebuilt from it is trained as the model is (a classifier returning logits, string labels)."""
    from .adapters import adapt

    return adapt(model).configure(output_kind=options.get("output_kind"),
                                  classes=options.get("classes"))


def refit_with_epochs(model: object, X: np.ndarray, y: np.ndarray | None, epochs: int) -> Any:
    """varimp's default ``fit`` for this model, training ``epochs`` epochs (``max_iter``)."""
    from .refit import NetworkRefit, SklearnRefit, resolve_fit

    if epochs < 1:
        raise InputError(f"--fit-epochs must be a positive integer; received {epochs}")
    fit, _ = resolve_fit(model, None, X, y)
    if isinstance(fit, NetworkRefit):
        return dataclasses.replace(fit, training={**fit.training, "epochs": epochs})
    if isinstance(fit, SklearnRefit):
        from sklearn.base import clone

        keys = [k for k in fit.estimator.get_params() if k.split("__")[-1] == "max_iter"]
        if not keys:
            raise InputError(f"--fit-epochs sets max_iter, which "
                             f"{type(fit.estimator).__name__} does not have")
        estimator = clone(fit.estimator).set_params(**dict.fromkeys(keys, epochs))
        return dataclasses.replace(fit, estimator=estimator)
    return fit


def run_facts(command: Sequence[str], args: argparse.Namespace, names: Sequence[str],
              elapsed: float) -> dict[str, str]:
    """What was run, for the report and ``run.json``: enough to run it again."""
    from . import __version__

    given = {name: getattr(args, name) for name in (*PASSED_OPTIONS, "output", "output_step",
                                                     "classes", "scale", "fit_epochs",
                                                     *RETRAINED)
             if getattr(args, name) is not None}
    if args.group:
        given["groups"] = " ".join(args.group)
    uncertainty = {}
    if args.randomization is not None:
        uncertainty["p-values"] = (f"randomization test (Olden & Jackson 2002) from "
                                   f"{args.randomization} permutations: networks refitted on "
                                   "permuted targets")
        if smallest_pvalue(args) is not None:
            uncertainty["p-values"] += (
                f"; the smallest attainable p-value is 1/({args.randomization}+1) = "
                f"{smallest_pvalue(args):.3g}, above {FIRST_STAR}: no variable can be marked "
                f"significant (at least {round(1 / FIRST_STAR) - 1} permutations are needed)")
    if args.ensemble is not None:
        level = DEFAULT_CI_LEVEL if args.ci_level is None else args.ci_level
        uncertainty["ensemble"] = (f"mean over {args.ensemble} refitted networks, each on a "
                                   f"bootstrap resample of the rows; std and {level:g} "
                                   "t prediction interval for one more network")
    elif args.ci_level is not None:
        resamples = "" if args.n_bootstrap is None else f" of {args.n_bootstrap} resamples"
        taking = [name for name in names if "ci_level" in method_spec(name).options]
        uncertainty["intervals"] = (f"{args.ci_level:g} row bootstrap{resamples} for "
                                    f"{', '.join(taking) or 'none of these methods'}")
    return {
        "command": shlex.join(command),
        "working folder": os.getcwd(),
        "seed": str(args.seed),
        "varimp version": __version__,
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "model file": str(args.model.expanduser().absolute()),
        "data file": str(args.data.expanduser().absolute()),
        "methods": ", ".join(names),
        "options": ", ".join(f"{k}={v}" for k, v in given.items()) or "defaults",
        **uncertainty,
        "wall time (methods)": f"{elapsed:.1f} s",
    }


def write_outputs(work: Path, case: Any, info: dict[str, str],
                  warned: Sequence[dict[str, Any]] = (), begun: float | None = None) -> None:
    """Every result, plot and the report of one case into the directory ``work``; ``warned``:
    the run's distinct warnings (:func:`varimp.cli.cli_warnings`). ``run.json`` is written
    last: with ``begun`` (the ``time.perf_counter()`` at which the run began) it records the
    whole run's wall time, ``"wall time (whole run)"`` (reading the model and data, the
    methods, the plots and the report), beside the methods' own, ``"wall time (methods)"``."""
    from .plot.files import save_png, save_result_plots
    from .report import network_diagram, write_report

    comparison = case.comparison
    for name, result in comparison.results.items():
        result.to_frame().to_csv(work / f"{name}.csv", index=False)
        (work / f"{name}.json").write_text(result.to_json(indent=1), encoding="utf-8")
        save_result_plots(result, name, work)
    comparison.to_frame().to_csv(work / "comparison.csv", index=False)
    comparison.agreement.to_csv(work / "agreement.csv", index_label="method")
    (work / "comparison.json").write_text(comparison.to_json(indent=1), encoding="utf-8")
    save_png(comparison.plot(kind="bar"), work / "comparison.png")
    save_png(comparison.plot(kind="heatmap"), work / "ranks.png")
    diagram = network_diagram(case.model, case.input_names, output_kind=case.output_kind,
                              classes=case.classes,
                              target_names=case.target_names)  # one node per data column
    if diagram is not None:
        save_png(diagram, work / "network.png")
    write_report(work / "report.html", title=f"varimp: {case.name}", run=info, cases=[case],
                 warned=warned)
    whole = {} if begun is None else {
        "wall time (whole run)": f"{time.perf_counter() - begun:.1f} s (reading the model and "
                                 "data, the methods, the plots and the report)"}
    payload = {**info, **whole, "skipped": comparison.skipped, "facts": case.facts,
               "warnings": list(warned)}
    (work / "run.json").write_text(json.dumps(payload, indent=1), encoding="utf-8")


__all__ = ["check_fit", "check_retrainable", "choose_methods", "class_labels", "common_options",
           "check_targets", "compute", "feature_groups", "named_targets", "output_option",
           "refit_with_epochs", "refitted_scores", "run", "run_facts", "scale_options",
           "pvalue_tables", "scored_targets", "smallest_pvalue", "write_outputs"]
