"""The ``varimp`` command line: ``varimp demo [--out DIR] [--quick]`` and ``varimp methods``.

Bad arguments or input give one line on stderr and exit status 2, never a traceback; the demo
writes into a temporary directory next to ``DIR`` and moves it into place only when it
succeeded, so a failed run leaves no partial output.
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


def methods() -> None:
    """Print every method, one line each: name, whether available, what it measures."""
    from .api import _REGISTRY, METHODS

    width = max(len(name) for name in METHODS)
    for name in METHODS:
        function = _REGISTRY.get(name)
        if function is None:
            print(f"{name:<{width}}  (not available in this version)")
            continue
        doc = (function.__doc__ or "").strip().splitlines()
        print(f"{name:<{width}}  {doc[0] if doc else ''}")


def _check_out(out: Path) -> None:
    """The demo replaces an earlier demo's directory, never anything else."""
    from .demo import REPORT

    if out.exists():
        if not out.is_dir():
            raise _UsageError(f"varimp: --out must be a directory; {out} is a file")
        if any(out.iterdir()) and not (out / REPORT).is_file():
            raise _UsageError(f"varimp: --out {out} exists and is not an earlier varimp demo "
                              "directory; choose a new or empty directory")


def demo(out: Path, quick: bool) -> None:
    """Run the demo into a temporary directory, then move it to ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    from .demo import run_demo

    out = out.expanduser().absolute()
    _check_out(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        run_demo(work, quick=quick)
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}-old-", dir=out.parent))
            out.rename(old / out.name)
            work.rename(out)
            shutil.rmtree(old)
        else:
            work.rename(out)
    finally:
        if work.exists():
            shutil.rmtree(work)
    print(f"\nwrote the plots, {out.name}/report.txt and {out.name}/results.json to {out}")


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
    except SystemExit as exc:  # --help
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
