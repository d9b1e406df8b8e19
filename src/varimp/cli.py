"""The ``varimp`` command line: ``varimp run MODEL DATA --out DIR``, ``varimp demo [--out DIR]
[--quick]``, ``varimp methods`` and ``varimp --version``.

Bad arguments or input give one line on stderr and exit status 2, never a traceback. ``run``
reads and checks everything and computes every result before it writes anything; then, like
the demo, it writes into a temporary directory in the nearest existing directory above ``DIR``
and moves it into place (creating the missing parents) only when it succeeded, so a failed run
leaves no partial output, and an ``--out`` that cannot be written is reported by the path the
user gave.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from .errors import VarImpError

USAGE_ERROR = 2
#: Files that mark a directory as an earlier varimp output, which a new one may replace.
_MARKERS = ("report.html", "report.txt")


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
    run.add_argument("--out", type=Path, required=True, metavar="DIR",
                     help="new directory for the results (an earlier varimp output is replaced)")
    data = run.add_argument_group("data")
    data.add_argument("--target", metavar="COL", help="tables: the column of the targets")
    data.add_argument("--features", nargs="+", metavar="COL", help="tables: the input columns "
                      "(default: every other); arrays: the feature names")
    data.add_argument("--id", dest="id_column", metavar="COL", help="a long table of "
                      "sequences: the column naming the sequence (with --time)")
    data.add_argument("--time", dest="time_column", metavar="COL", help="a long table of "
                      "sequences: the column ordering the steps (with --id)")
    data.add_argument("--target-file", type=Path, metavar="FILE", help="arrays: the targets "
                      "in their own .npy, .npz or one-column .csv")
    model = run.add_argument_group("model")
    model.add_argument("--trust-pickle", action="store_true", help="load pickle-based files "
                       "(.pkl, .joblib, torch.save) and every type in a .skops file; a pickle "
                       "can run arbitrary code: only for files you trust")
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
    methods.add_argument("--output", help="the output to explain: index or name (default all)")
    methods.add_argument("--output-kind", choices=("regression", "probability", "logits"),
                         help="what the model returns (default: read from the model)")
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
                           "on a bootstrap resample of the rows, with std and a percentile "
                           "interval over them")
    uncertainty.add_argument("--ci-level", type=_level, metavar="L", help="level of the "
                             "intervals, strictly between 0 and 1 (e.g. 0.95): the row "
                             "bootstrap of perturbation, permutation, improved_stepwise_1 and "
                             "partial_derivatives (other methods have none); with --ensemble, "
                             "the interval over the networks (default 0.95)")
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
    """Print every method, one line each: name, what it measures, its source and its facts."""
    from .registry import METHODS, REGISTRY

    width = max(len(name) for name in METHODS)
    for name in METHODS:
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


def _check_out(out: Path, given: Path) -> Path:
    """Refuse an ``--out`` that cannot be written; return the directory to work in.

    An earlier varimp output (a directory holding one of :data:`_MARKERS`) is replaced, never
    anything else. The work directory is the nearest existing directory above ``out``: the
    output is written there first, so nothing is created where the user asked until it
    succeeded.
    """
    if out.exists():
        if not out.is_dir():
            raise _UsageError(f"varimp: --out {given} is a file, not a directory")
        if any(out.iterdir()) and not any((out / name).is_file() for name in _MARKERS):
            raise _UsageError(f"varimp: --out {given} exists, is not empty and is not an "
                              "earlier varimp output; choose a new or empty directory")
    above = out.parent
    while not above.exists():
        above = above.parent
    if not above.is_dir():
        raise _UsageError(f"varimp: cannot write --out {given}: {above} is a file, not a "
                          "directory")
    if not os.access(above, os.W_OK | os.X_OK):
        raise _UsageError(f"varimp: cannot write --out {given}: no permission to write in "
                          f"{above}")
    return above


def _write_into(given: Path, write: Callable[[Path], None]) -> Path:
    """Call ``write(directory)`` on a fresh temporary directory, then move it to ``given``."""
    out = given.expanduser().absolute()
    above = _check_out(out, given)
    try:
        work = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=above))
    except OSError as exc:
        raise _UsageError(f"varimp: cannot write --out {given}: {exc.strerror}") from exc
    try:
        try:
            write(work)
        except OSError as exc:  # named by the user's path, not the temporary one
            raise _UsageError(f"varimp: cannot write --out {given}: "
                              f"{exc.strerror or exc}") from exc
        _move_into_place(work, out, given)
    finally:
        if work.exists():
            shutil.rmtree(work)
    return out


def demo(given: Path, quick: bool) -> None:
    """Run the demo into a temporary directory, then move it to ``given``."""
    import matplotlib

    matplotlib.use("Agg")
    from .demo import run_demo

    out = _write_into(given, lambda work: run_demo(work, quick=quick))
    print(f"\nwrote {out.name}/report.html (open it in a browser), report.txt, results.json and "
          f"the plots to {out}")


def _move_into_place(work: Path, out: Path, given: Path) -> None:
    """Rename ``work`` to ``out``, replacing an earlier demo; on failure ``out`` is as it was."""
    created = [parent for parent in out.parents if not parent.exists()]
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if not out.exists():
            work.rename(out)
            return
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}-old-", dir=out.parent))
        out.rename(old / out.name)
        try:
            work.rename(out)
        except OSError:
            (old / out.name).rename(out)
            old.rmdir()
            raise
        shutil.rmtree(old)
    except OSError as exc:
        for parent in created:  # innermost first
            if parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()
        raise _UsageError(f"varimp: cannot write --out {given}: {exc.strerror or exc}") from exc


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``varimp`` console script; returns the exit status."""
    try:
        args = _parser().parse_args(argv)
        if args.command == "methods":
            methods()
        elif args.command == "run":
            from .runner import run

            _check_intervals(args)
            _check_out(args.out.expanduser().absolute(), args.out)
            run(args, ["varimp", *(sys.argv[1:] if argv is None else argv)],
                lambda write: _write_into(args.out, write))
        else:
            demo(args.out, args.quick)
    except _UsageError as exc:
        _one_line(str(exc))
        return USAGE_ERROR
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else 0
    except (VarImpError, OSError) as exc:
        _one_line(f"varimp: error: {type(exc).__name__}: {exc}")
        return USAGE_ERROR
    except KeyboardInterrupt:
        _one_line("varimp: interrupted")
        return 130
    except Exception as exc:
        if os.environ.get("VARIMP_TRACEBACK"):
            raise
        _one_line(f"varimp: internal error: {type(exc).__name__}: {exc} (set VARIMP_TRACEBACK=1 "
                  "for the traceback, and please report it)")
        return 1
    return 0


def _one_line(message: str) -> None:
    print(" ".join(message.split()), file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
