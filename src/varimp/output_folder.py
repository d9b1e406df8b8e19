"""The folder a command writes its output into (``varimp run --out DIR``, ``varimp demo``).

The output is written into a temporary directory in the nearest existing directory above
``DIR`` and moved into place (creating the missing parents) only when it succeeded, so a failed
run leaves no partial output, and an ``--out`` that cannot be written is reported by the path
the user gave.

``--out`` must be new or empty. The one exception is a folder varimp wrote itself: every
output holds :data:`MANIFEST`, the list of the files written there, and such a folder is
replaced with ``--overwrite`` when it holds nothing but those files. Nothing else is ever
deleted: the earlier output's listed files are removed one by one, never the folder's tree.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

#: The file in every output folder that lists the files varimp wrote there (JSON: ``files``).
MANIFEST = ".varimp-run.json"


class OutputError(Exception):
    """An ``--out`` that cannot be written or replaced; the message is the one line the
    command prints."""


def check_out(out: Path, given: Path, overwrite: bool) -> Path:
    """Refuse an ``--out`` that cannot be written; return the directory to work in.

    ``out`` must be new or empty, or an earlier varimp output (:func:`earlier_output`) with
    ``overwrite``. The work directory is the nearest existing directory above ``out``: the
    output is written there first, so nothing is created where the user asked until it
    succeeded.
    """
    if out.exists():
        if not out.is_dir():
            raise OutputError(f"varimp: --out {given} is a file, not a directory")
        earlier_output(out, given, overwrite)
    above = out.parent
    while not above.exists():
        above = above.parent
    if not above.is_dir():
        raise OutputError(f"varimp: cannot write --out {given}: {above} is a file, not a "
                          "directory")
    if not os.access(above, os.W_OK | os.X_OK):
        raise OutputError(f"varimp: cannot write --out {given}: no permission to write in "
                          f"{above}")
    return above


def earlier_output(out: Path, given: Path, overwrite: bool) -> list[str]:
    """The files of the earlier varimp output in the existing directory ``out`` that a new
    output replaces: none when ``out`` is empty.

    A non-empty ``out`` is replaced only when it holds :data:`MANIFEST`, every other entry is
    a plain file it lists, and ``overwrite`` is set; otherwise a one-line refusal.
    """
    entries = sorted(entry.name for entry in out.iterdir())
    if not entries:
        return []
    listed = read_manifest(out)
    if listed is None:
        raise OutputError(f"varimp: --out {given} exists and is not empty, and is not a folder "
                          "varimp wrote; choose a new or empty directory")
    foreign = [name for name in entries if name != MANIFEST and not (
        name in listed and (out / name).is_file() and not (out / name).is_symlink())]
    if foreign:
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3
                                           else "")
        raise OutputError(f"varimp: --out {given} holds an earlier varimp output and files "
                          f"varimp did not write there ({shown}); it is not replaced, even with "
                          "--overwrite: choose a new or empty directory")
    if not overwrite:
        raise OutputError(f"varimp: --out {given} holds an earlier varimp output; pass "
                          "--overwrite to replace it, or choose a new or empty directory")
    return [name for name in entries if name != MANIFEST]


def read_manifest(out: Path) -> set[str] | None:
    """The file names listed in ``out``'s :data:`MANIFEST`, or None when it has no readable
    one."""
    path = out / MANIFEST
    if not path.is_file() or path.is_symlink():
        return None
    try:
        files = json.loads(path.read_text(encoding="utf-8"))["files"]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(files, list) or not all(isinstance(name, str) for name in files):
        return None
    return {name for name in files if name and "/" not in name and name not in (".", "..")}


def write_manifest(work: Path) -> None:
    """List every file written into ``work`` in its :data:`MANIFEST`."""
    from . import __version__

    files = sorted(entry.name for entry in work.iterdir() if entry.is_file())
    payload = {"written by": f"varimp {__version__}", "files": files}
    (work / MANIFEST).write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")


def write_into(given: Path, overwrite: bool, write: Callable[[Path], None]) -> Path:
    """Call ``write(directory)`` on a fresh temporary directory, then move it to ``given``."""
    out = given.expanduser().absolute()
    above = check_out(out, given, overwrite)
    try:
        work = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=above))
    except OSError as exc:
        raise OutputError(f"varimp: cannot write --out {given}: {exc.strerror}") from exc
    try:
        try:
            write(work)
            write_manifest(work)
        except OSError as exc:  # named by the user's path, not the temporary one
            raise OutputError(f"varimp: cannot write --out {given}: "
                              f"{exc.strerror or exc}") from exc
        _move_into_place(work, out, given, overwrite)
    finally:
        if work.exists():
            shutil.rmtree(work)
    return out


def _move_into_place(work: Path, out: Path, given: Path, overwrite: bool) -> None:
    """Rename ``work`` to ``out``; an empty ``out`` or an earlier varimp output there (checked
    again now) is moved aside first and then removed file by file, only the files its
    manifest lists. On failure ``out`` is as it was."""
    created = [parent for parent in out.parents if not parent.exists()]
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if not out.exists():
            work.rename(out)
            return
        earlier = earlier_output(out, given, overwrite)
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}-old-", dir=out.parent))
        out.rename(old / out.name)
        try:
            work.rename(out)
        except OSError:
            (old / out.name).rename(out)
            old.rmdir()
            raise
    except OSError as exc:
        for parent in created:  # innermost first
            if parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()
        raise OutputError(f"varimp: cannot write --out {given}: {exc.strerror or exc}") from exc
    _remove_earlier(old, out.name, earlier)


def _remove_earlier(old: Path, name: str, files: Sequence[str]) -> None:
    """Delete the earlier output moved to ``old / name``: its listed files, its manifest, the
    emptied folders. Anything else (a file that appeared since the check) is kept there."""
    folder = old / name
    try:
        for file in [*files, MANIFEST]:
            (folder / file).unlink(missing_ok=True)
        folder.rmdir()
        old.rmdir()
    except OSError as exc:
        one_line(f"varimp: warning: the earlier output was moved to {folder} and not removed: "
                 f"{exc.strerror or exc}")


def one_line(message: str) -> None:
    """Print ``message`` on stderr as one line, its whitespace collapsed."""
    print(" ".join(message.split()), file=sys.stderr)
