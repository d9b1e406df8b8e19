"""The ``varimp`` command line: ``varimp run MODEL DATA [--out DIR]`` (default
``./varimp-STEM``, after the model file), ``varimp demo [--out DIR] [--quick]``, ``varimp
methods`` and ``varimp --version``.

Bad arguments or input give one line on stderr and exit status 2, never a traceback; an
error or warning written for Python callers (``output_kind='logits'``, ``scale='std'``) names
the command's option instead (``--output-kind logits``, ``--scale std``). ``run`` reads and
checks everything and computes every result before it writes anything; then, like the demo,
it writes its output folder as :mod:`varimp.output_folder` does: into a temporary folder put
in place only when it succeeded, at an ``--out`` that is new or empty (an empty folder is
kept and written into), or an earlier varimp output replaced with ``--overwrite``. Ctrl-C
and SIGTERM stop a command the same way (:func:`varimp.interrupts.signals_raise`): its
temporary folder is removed, one line says so, and the exit status is the signal's (130,
143).

Python warnings (a refitted network that stopped before converging, ...), also those raised in
worker processes (``--n-jobs``), are shown once each, as one line ``varimp: warning: ...`` with
the number of times on stderr after a successful run; ``--quiet`` silences them (``run``
still records them in ``run.json`` and the report). The categories Python hides by default
(``DeprecationWarning``, ...) stay hidden. A failed run prints its one error line and nothing
else.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from .errors import VarImpError
from .interrupts import Interrupted, signals_raise
from .output_folder import (
    MANIFEST,
    OutputError,
    check_out,
    one_line,
    resolve_out,
    write_into,
)
from .registry import REGISTRY
from .stats.ensemble import DEFAULT_CI_LEVEL

USAGE_ERROR = 2
#: Options of the Python API that the command line spells as an option of its own.
CLI_OPTIONS = {"output_kind": "--output-kind", "classes": "--classes", "n_repeats":
               "--n-repeats", "scoring": "--scoring", "batch_size": "--batch-size",
               "by_time": "--by-time", "ci_level": "--ci-level", "n_bootstrap": "--n-bootstrap",
               "n_jobs": "--n-jobs", "backend": "--backend", "output": "--output",
               "feature_names": "--features", "output_step": "--output-step",
               "groups": "--group", "scale": "--scale"}
#: The choices of ``--scale``: the ``scale`` of the methods that take it (partial derivatives,
#: connection weights and Garson: :attr:`varimp.registry.MethodSpec.scales`).
SCALES = ("none", "std")


class _Parser(argparse.ArgumentParser):
    """argparse whose errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(f"{self.prog}: {message} (see {self.prog} --help)")


class _UsageError(Exception):
    pass


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="varimp", description="Which inputs drive a neural network's "
                     "predictions: the nine classic importance methods for MLPs and recurrent "
                     "networks.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    demo = commands.add_parser("demo", help="train a small MLP and the reference LSTM, run "
                               "every method, print the tables and save the plots")
    demo.add_argument("--out", type=Path, default=Path("varimp-demo"),
                      help="directory for the plots and the report (default ./varimp-demo)")
    demo.add_argument("--quick", action="store_true",
                      help="a seconds-long version with small data and short training")
    demo.add_argument("--overwrite", action="store_true", help=OVERWRITE_HELP)
    commands.add_parser("methods", help="list the importance methods")
    _run_parser(commands.add_parser(
        "run", help="every importance method on a saved model and a data file: tables, plots "
        "and report.html", description="Run the importance methods on a saved model and a "
        "data file and write every result (CSV, JSON), the plots (PNG) and one self-contained "
        "report.html into DIR."))
    return parser


def _run_parser(run: argparse.ArgumentParser) -> None:
    run.add_argument("model", type=Path, help="the model: .keras, .pt2 (torch.export), .pt "
                     "(TorchScript), .onnx or .skops; .pkl, .joblib or a torch.save .pt only "
                     "with --trust-pickle")
    run.add_argument("data", type=Path, help="the data: .csv, .parquet, .npy or .npz")
    run.add_argument("--out", type=Path, metavar="DIR", help="new or empty directory for the "
                     "results (default ./varimp-STEM, STEM the model file's name without its "
                     "suffix)")
    run.add_argument("--overwrite", action="store_true", help=OVERWRITE_HELP)
    data = run.add_argument_group("data")
    data.add_argument("--target", nargs="+", action="extend", metavar="COL", help="tables: the "
                      "column of the targets; for a model with several outputs, one column per "
                      "output in the order of its outputs (a long table: the last step's value "
                      "for a model predicting one value per sequence; the other steps may be "
                      "empty); repeats add up")
    data.add_argument("--features", nargs="+", action="extend", metavar="COL", help="tables: "
                      "the input columns (default: every other); arrays: the feature names; "
                      "repeats add up")
    data.add_argument("--id", dest="id_column", metavar="COL", help="a long table of "
                      "sequences: the column naming the sequence (with --time)")
    data.add_argument("--time", dest="time_column", metavar="COL", help="a long table of "
                      "sequences: the column ordering the steps (with --id)")
    data.add_argument("--time-format", metavar="FORMAT", help="a long table of sequences: how "
                      "the --time column writes its dates, in strftime codes (e.g. %%d.%%m.%%Y); "
                      "needed when they read in several formats (day or month first) and "
                      "neither order nor regular steps tell which")
    data.add_argument("--target-file", type=Path, metavar="FILE", help="arrays: the targets "
                      "in their own .npy, .npz or one-column .csv")
    data.add_argument("--sep", metavar="CHAR", help="a CSV's column separator, one character "
                      "or 'tab' (default: ',' or, when the header has more of them, ';')")
    data.add_argument("--decimal", choices=(".", ","), help="a CSV's decimal mark (default: "
                      "'.', or ',' in a ';' file whose numbers are so written)")
    data.add_argument("--encoding", metavar="NAME", help="a CSV's text encoding, such as "
                      "cp1252 or latin-1 (default: UTF-8)")
    model = run.add_argument_group("model")
    model.add_argument("--trust-pickle", action="store_true", help="load files that run code "
                       "as they load: pickle-based files (.pkl, .joblib, torch.save), every type "
                       "in a .skops file, and a .keras file's Lambda layers (Keras' safe mode "
                       "off); such code can do anything: only for files you trust")
    model.add_argument("--trust", action="append", default=[], metavar="TYPE",
                       help="a type to trust in a .skops file besides scikit-learn's own "
                       "(repeatable)")
    methods = run.add_argument_group("methods")
    methods.add_argument("--methods", nargs="+", metavar="NAME", help="methods to run, comma "
                         "or space separated (default: every method that applies)")
    methods.add_argument("--seed", type=int, default=0, help="random_state of every method "
                         "(default 0)")
    methods.add_argument("--n-repeats", type=int, help="repeats of a random perturbation")
    methods.add_argument("--by-time", action=argparse.BooleanOptionalAction, default=None,
                         help="sequences: also score every time step and cell (default: "
                         "where the method can)")
    methods.add_argument("--output", help="the output to explain: index or name, such as a "
                         "--target column's (default all)")
    methods.add_argument("--output-step", type=int, metavar="K", help="a model predicting "
                         "every step of a sequence: the predicted step to explain, 0 the "
                         "first, -1 the last (default all together)")
    methods.add_argument("--group", action="append", metavar="NAME=COL,...", help="score "
                         "these feature columns as one variable NAME (a one-hot block: the "
                         "category moves or is swept as one); repeatable")
    methods.add_argument("--scale", choices=SCALES, help="partial derivatives, connection "
                         "weights and Garson: 'std' scores each input per standard deviation "
                         "(inputs in different units); 'none' per raw unit (default)")
    methods.add_argument("--output-kind", choices=("regression", "probability", "logits"),
                         help="what the model returns (default: read from the model)")
    methods.add_argument("--classes", metavar="LABEL,...", help="the class labels in the "
                         "order of the model's outputs, comma separated (default: the "
                         "model's own)")
    methods.add_argument("--scoring", help="error measure: a scikit-learn scorer name "
                         "(default: log loss for classifiers, MSE for regression)")
    methods.add_argument("--batch-size", type=int, help="rows per model call")
    uncertainty = run.add_argument_group(
        "uncertainty", "--randomization and --ensemble retrain the model many times (each "
        "refitted as the stepwise methods are, with the retraining options below) and cannot "
        "be combined: they answer different questions, so run them into two --out folders.")
    retrained = uncertainty.add_mutually_exclusive_group()
    retrained.add_argument("--randomization", type=_at_least(1), metavar="N", help="test every "
                           "selected method by the randomization test of Olden & Jackson "
                           "(2002): N networks refitted on permuted targets; every result then "
                           "carries p-values (at least 19 for a test at 5%%)")
    retrained.add_argument("--ensemble", type=_at_least(2), metavar="N", help="every selected "
                           "method averaged over N networks refitted with their own seeds, each "
                           "on a bootstrap resample of the rows, with std and a t prediction "
                           "interval for the importance of one more network trained the same "
                           "way (not a confidence interval of the mean)")
    uncertainty.add_argument("--ci-level", type=_level, metavar="L", help="level of the "
                             "intervals, strictly between 0 and 1 (e.g. 0.95): the row "
                             f"bootstrap of {_bootstrapped()} (other methods have none); with "
                             "--ensemble, the prediction interval over the networks (default "
                             f"{DEFAULT_CI_LEVEL})")
    uncertainty.add_argument("--n-bootstrap", type=_at_least(2), metavar="B", help="resamples "
                             "of the rows behind the --ci-level interval (default 1000; needs "
                             "--ci-level; not with --ensemble)")
    retrain = run.add_argument_group("retraining (stepwise methods, --randomization, "
                                     "--ensemble)")
    retrain.add_argument("--n-jobs", type=int, help="parallel fits (joblib)")
    retrain.add_argument("--backend", help="joblib backend name, or dask")
    retrain.add_argument("--fit-epochs", type=int, metavar="N", help="training epochs (or "
                         "max_iter of a scikit-learn model) of every refitted model")
    talk = run.add_mutually_exclusive_group()
    talk.add_argument("--quiet", action="store_true", help="print nothing but errors")
    talk.add_argument("--verbose", action="store_true", help="say every step and show "
                      "progress bars at once")


OVERWRITE_HELP = (f"replace an earlier varimp output in --out: a folder holding nothing but "
                  f"the files varimp listed in its {MANIFEST} (anything else is never replaced)")


def _bootstrapped() -> str:
    """The methods whose intervals come from a row bootstrap (those taking ``ci_level``, but
    the ensemble), named for the help text."""
    names = [spec.name for spec in REGISTRY.values() if "ci_level" in spec.options]
    return ", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else "".join(names)


def _at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type: an integer of at least ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer of at least {minimum}; "
                                             f"received {text!r}")
        return value

    return parse


def _level(text: str) -> float:
    """An argparse type: a number strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"expected a number strictly between 0 and 1; "
                                         f"received {text!r}")
    return value


def _version() -> str:
    from . import __version__

    return __version__


def methods() -> None:
    """Print every method, one line each: name, what it measures, its source and its facts
    (the canonical methods, then any added with :func:`varimp.registry.register`)."""
    from .registry import METHODS, REGISTRY

    names = list(dict.fromkeys([*METHODS, *REGISTRY]))
    width = max(len(name) for name in names)
    for name in names:
        spec = REGISTRY.get(name)
        if spec is None:
            print(f"{name:<{width}}  (not available in this version)")
            continue
        facts = [f"scores: {spec.kind}", "needs y" if spec.needs_y else "no y needed"]
        facts += ["reads weights"] * spec.reads_weights + ["retrains"] * spec.retrains
        facts += ["per time step"] * spec.by_time + ["random"] * spec.random
        print(f"{name:<{width}}  {spec.title} ({spec.reference}); {', '.join(facts)}; "
              f"cost: {spec.cost}")


def _check_intervals(args: argparse.Namespace) -> None:
    """Refuse a ``--n-bootstrap`` that no interval would use."""
    if args.n_bootstrap is None:
        return
    if args.ensemble is not None:
        raise _UsageError("varimp run: --n-bootstrap does not apply with --ensemble, whose "
                          "interval is over the refitted networks (see varimp run --help)")
    if args.ci_level is None:
        raise _UsageError("varimp run: --n-bootstrap sets the resamples of the --ci-level "
                          "interval; give --ci-level too (see varimp run --help)")


def default_out(model: Path) -> Path:
    """``varimp run``'s output folder without ``--out``: ``varimp-STEM`` in the working
    folder, ``STEM`` the model file's name without its suffix (``lstm.keras``:
    ``varimp-lstm``)."""
    return Path(f"varimp-{model.stem or model.name}")


def demo(given: Path, quick: bool, overwrite: bool) -> None:
    """Run the demo into a temporary directory, then move it to ``given``."""
    import matplotlib

    matplotlib.use("Agg")
    from .demo import run_demo

    out = write_into(given, overwrite, lambda work: run_demo(work, quick=quick))
    print(f"\nwrote {out.name}/report.html (open it in a browser), report.txt, results.json and "
          f"the plots to {out}")



#: Warning categories that Python's default filters hide, hidden by the command line too.
HIDDEN = (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning)


@contextlib.contextmanager
def _warnings_once(quiet: bool) -> Iterator[list[warnings.WarningMessage]]:
    """Record every Python warning of the block (each occurrence, except the :data:`HIDDEN`
    categories) in the list it yields; after the block succeeded, print each distinct one as
    one line with the number of times (nothing with ``quiet``; nothing when it failed, whose
    error is the one line)."""
    with warnings.catch_warnings(record=True) as caught, _workers_quiet(quiet):
        warnings.simplefilter("always")  # counted, not shown once per place by Python
        for category in HIDDEN:
            warnings.simplefilter("ignore", category)
        yield caught
    if quiet:
        return
    for warned in cli_warnings(caught):
        kind = "" if warned["category"] == "UserWarning" else f"{warned['category']}: "
        count = warned["count"]
        one_line(f"varimp: warning: {kind}{warned['message']}"
                 + (f" ({count} times)" if count > 1 else ""))


#: What worker processes (``--n-jobs``) and multiprocessing's resource tracker never show: the
#: tracker's note on the semaphores of workers that an interruption stopped, printed after the
#: command's own last line.
CHILD_WARNINGS = "ignore::UserWarning:multiprocessing.resource_tracker"


@contextlib.contextmanager
def _workers_quiet(quiet: bool) -> Iterator[None]:
    """Child processes started in the block (``--n-jobs``) ignore :data:`CHILD_WARNINGS`, and
    with ``quiet`` every warning: a fit's warnings come back to this process with its result,
    but a worker could print others of its own (while it starts, say), which this process
    cannot catch."""
    before = os.environ.get("PYTHONWARNINGS")
    os.environ["PYTHONWARNINGS"] = "ignore" if quiet else ",".join(
        filter(None, [before, CHILD_WARNINGS]))
    try:
        yield
    finally:
        if before is None:
            del os.environ["PYTHONWARNINGS"]
        else:
            os.environ["PYTHONWARNINGS"] = before


def cli_warnings(caught: Sequence[warnings.WarningMessage]) -> list[dict]:
    """The distinct warnings of ``caught`` (:func:`varimp.report.distinct_warnings`), each
    message in the command line's words (:func:`cli_words`: ``pass scale='std'`` is ``pass
    --scale std``)."""
    from .report import distinct_warnings

    return [{**warned, "message": cli_words(warned["message"])}
            for warned in distinct_warnings(caught)]


def cli_words(message: str, targets: str = "--target") -> str:
    """A message written for Python callers, in the command line's words: ``output_kind=
    'logits'`` becomes ``--output-kind logits``, ``classes=`` ``--classes``, ``classes=[0,
    1]`` ``--classes 0,1``, ``scoring str 'r2'`` ``--scoring r2`` and ``leave scoring out``
    ``leave --scoring out``; an option with an underscore (``output_step``, ``n_repeats``) is
    the command line's wherever it is named, and any other (``output``, ``classes``) where it
    starts a clause and something ``must`` or ``lists`` (``output must be an integer index
    ...``: ``--output must be ...``); ``must be None or`` drops the None, which the command
    line says by leaving the option out. ``y`` given or missing (``without y``, ``needs y``,
    ``pass y to``) is ``targets``, the option that gives the targets (``--target`` for a
    table, ``--target-file`` for arrays)."""

    def option(match: re.Match) -> str:
        given = match.group(2) or ""
        if given.startswith("["):  # a list: the command line's comma-separated values
            values = ",".join(re.sub(r"^'(.*)'$", r"\1", part.strip())
                              for part in given[1:-1].split(",") if part.strip())
        else:
            values = re.sub(r"'([^']*)'", r"\1", given).strip()
        return CLI_OPTIONS[match.group(1)] + (f" {values}" if values else "")

    names = "|".join(CLI_OPTIONS)
    message = re.sub(rf"\b({names})=(\[[^\]]*\]|(?:'[^']*'(?: or '[^']*')*)?)", option,
                     message)
    message = re.sub(rf"(?<![\w.'\"\[-])({names}) str '([^']*)'",
                     lambda match: f"{CLI_OPTIONS[match.group(1)]} {match.group(2)}", message)
    message = re.sub(rf"\bleave ({names}) out\b",
                     lambda match: f"leave {CLI_OPTIONS[match.group(1)]} out", message)
    message = re.sub(r"\b(without|needs|[Pp]ass) y\b(?= to\b|[.,;:)]|$)",
                     lambda match: f"{match.group(1)} {targets}", message)
    joined = "|".join(name for name in CLI_OPTIONS if "_" in name)
    message = re.sub(rf"(?<![\w.'\"\[-])({joined})\b(?![(\]'\"])",
                     lambda match: CLI_OPTIONS[match.group(1)], message)
    plain = "|".join(name for name in CLI_OPTIONS if "_" not in name)
    message = re.sub(rf"(^|[;:(] |\. )({plain})(?= (?:must|lists)\b)",
                     lambda match: match.group(1) + CLI_OPTIONS[match.group(2)], message)
    return re.sub(r"(--[a-z-]+ must be) None or ", r"\1 ", message)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``varimp`` console script; returns the exit status."""
    with signals_raise():
        try:
            return _main(argv)
        except KeyboardInterrupt as exc:  # one that came while the error line was printed
            return _interrupted(exc)


def _main(argv: Sequence[str] | None) -> int:
    targets = "--target"  # the option that gives the targets, in messages about y
    try:
        args = _parser().parse_args(argv)
        if args.command == "methods":
            methods()
        elif args.command == "run":
            from .runner import run

            if args.data.suffix.lower() in (".npy", ".npz"):
                targets = "--target-file"
            _check_intervals(args)
            defaulted = args.out is None
            if defaulted:
                args.out = default_out(args.model)
            try:
                check_out(resolve_out(args.out), args.out, args.overwrite)
            except OutputError as exc:
                raise OutputError(f"{exc} (--out defaults to {args.out}, after the model "
                                  "file's name: give --out DIR to write elsewhere)"
                                  if defaulted else str(exc)) from exc
            with _warnings_once(args.quiet) as caught:
                run(args, ["varimp", *(sys.argv[1:] if argv is None else argv)],
                    lambda write: write_into(args.out, args.overwrite, write), caught)
        else:
            with _warnings_once(quiet=False):
                demo(args.out, args.quick, args.overwrite)
    except (_UsageError, OutputError) as exc:
        one_line(str(exc))
        return USAGE_ERROR
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else 0
    except (VarImpError, OSError) as exc:
        one_line(f"varimp: error: {type(exc).__name__}: {cli_words(str(exc), targets)}")
        return USAGE_ERROR
    except KeyboardInterrupt as exc:
        return _interrupted(exc)
    except Exception as exc:
        if os.environ.get("VARIMP_TRACEBACK"):
            raise
        one_line(f"varimp: internal error: {type(exc).__name__}: {exc} (set VARIMP_TRACEBACK=1 "
                 "for the traceback, and please report it)")
        return 1
    return 0


def _interrupted(exc: KeyboardInterrupt) -> int:
    """Say that Ctrl-C or SIGTERM (:class:`Interrupted`) stopped the command, in one line;
    the exit status of a process the signal ended."""
    terminated = isinstance(exc, Interrupted) and exc.signum == signal.SIGTERM
    one_line("varimp: terminated (SIGTERM)" if terminated else "varimp: interrupted")
    return exc.status if isinstance(exc, Interrupted) else 130


if __name__ == "__main__":
    sys.exit(main())
