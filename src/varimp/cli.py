"""The ``varimp`` command line: ``varimp demo [--out DIR] [--quick]``, ``varimp methods`` and
``varimp --version``.

Bad arguments or input give one line on stderr and exit status 2, never a traceback; the demo
writes into a temporary directory in the nearest existing directory above ``DIR`` and moves it
into place (creating the missing parents) only when it succeeded, so a failed run leaves no
partial output, and an ``--out`` that cannot be written is reported by the path the user gave.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from .errors import VarImpError

USAGE_ERROR = 2


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
    return parser


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


def _check_out(out: Path, given: Path) -> Path:
    """Refuse an ``--out`` that cannot hold the demo; return the directory to work in.

    The demo replaces an earlier demo's directory, never anything else. The work directory is
    the nearest existing directory above ``out``: the demo is written there first, so nothing
    is created where the user asked until it succeeded.
    """
    from .demo import REPORT

    if out.exists():
        if not out.is_dir():
            raise _UsageError(f"varimp: --out {given} is a file, not a directory")
        if any(out.iterdir()) and not (out / REPORT).is_file():
            raise _UsageError(f"varimp: --out {given} exists and is not an earlier varimp demo "
                              "directory; choose a new or empty directory")
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


def demo(given: Path, quick: bool) -> None:
    """Run the demo into a temporary directory, then move it to ``given``."""
    import matplotlib

    matplotlib.use("Agg")
    from .demo import run_demo

    out = given.expanduser().absolute()
    above = _check_out(out, given)
    try:
        work = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=above))
    except OSError as exc:
        raise _UsageError(f"varimp: cannot write --out {given}: {exc.strerror}") from exc
    try:
        try:
            run_demo(work, quick=quick)
        except OSError as exc:  # named by the user's path, not the temporary one
            raise _UsageError(f"varimp: cannot write --out {given}: "
                              f"{exc.strerror or exc}") from exc
        _move_into_place(work, out, given)
    finally:
        if work.exists():
            shutil.rmtree(work)
    print(f"\nwrote the plots, {out.name}/report.txt and {out.name}/results.json to {out}")


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
