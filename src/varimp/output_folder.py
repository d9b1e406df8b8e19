"""The folder a command writes its output into (``varimp run --out DIR``, ``varimp demo``).

The output is written into a fresh temporary folder and put in place only when it succeeded,
so a failed run leaves no partial output, and an ``--out`` that cannot be written is reported
by the path the user gave. Every folder varimp creates gets the permissions of a plain
``mkdir`` (``0o777`` less the umask, and the parent's group where it is setgid).

- A new ``DIR``: the output is written in the nearest existing folder above it and renamed to
  ``DIR`` (creating the missing parents): it appears complete or not at all.
- An existing empty ``DIR``: the output is written in a hidden folder inside it and its files
  moved into ``DIR``, which is kept as it is (its permissions, group and owner).
- An earlier varimp output: every output holds :data:`MANIFEST`, the list of the files written
  there, and such a folder is written into with ``--overwrite`` when it holds nothing but
  those files: they are moved aside, the new files moved in, then the earlier ones deleted
  one by one (on a failure the earlier files are put back). Nothing else is ever deleted.
- Anything else (a file, a folder holding other files) is refused.

``DIR`` may be a symbolic link to a folder: the output goes into the folder it points to, and
the link stays. Nothing is ever left behind beside ``DIR``.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

#: The file in every output folder that lists the files varimp wrote there (JSON: ``files``).
MANIFEST = ".varimp-run.json"
#: Prefix of the hidden folders varimp works in inside an existing ``--out``.
WORK_PREFIX = ".varimp-"


class OutputError(Exception):
    """An ``--out`` that cannot be written or replaced; the message is the one line the
    command prints."""


def resolve_out(given: Path) -> Path:
    """The absolute folder that ``--out given`` names; a symbolic link is followed to the
    folder it points to (written into, the link kept); a broken link is refused."""
    out = given.expanduser().absolute()
    if out.is_symlink():
        if not out.exists():
            raise OutputError(f"varimp: --out {given} is a symbolic link to {os.readlink(out)}, "
                              "which does not exist; choose a new or empty directory")
        out = out.resolve()
    return out


def check_out(out: Path, given: Path, overwrite: bool) -> Path:
    """Refuse an ``--out`` that cannot be written; return the folder to work in.

    ``out`` (resolved: :func:`resolve_out`) must be new or empty, or an earlier varimp output
    (:func:`earlier_output`) with ``overwrite``. The work folder is ``out`` itself when it
    exists, else the nearest existing folder above it: nothing is created where the user
    asked until the output is complete.
    """
    if out.exists():
        if not out.is_dir():
            raise OutputError(f"varimp: --out {given} is a file, not a directory")
        earlier_output(out, given, overwrite)
        place = out
    else:
        place = out.parent
        while not place.exists():
            place = place.parent
        if not place.is_dir():
            raise OutputError(f"varimp: cannot write --out {given}: {place} is a file, not a "
                              "directory")
    if not os.access(place, os.W_OK | os.X_OK):
        raise OutputError(f"varimp: cannot write --out {given}: no permission to write in "
                          f"{place}")
    return place


def earlier_output(out: Path, given: Path, overwrite: bool, ignore: str | None = None
                   ) -> list[str]:
    """The files of the earlier varimp output in the existing directory ``out`` that a new
    output replaces: none when ``out`` is empty (but for ``ignore``, varimp's own work folder).

    A non-empty ``out`` is replaced only when it holds :data:`MANIFEST`, every other entry is
    a plain file it lists, and ``overwrite`` is set; otherwise a one-line refusal.
    """
    entries = sorted(entry.name for entry in out.iterdir() if entry.name != ignore)
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
    """Call ``write(folder)`` on a fresh temporary folder, then put its files in place at
    ``--out given`` (see the module docstring); returns the absolute path of ``given``."""
    out = resolve_out(given)
    place = check_out(out, given, overwrite)
    work = _fresh_folder(place, WORK_PREFIX + "new-" if place == out else f".{out.name}-",
                         given)
    try:
        try:
            write(work)
            write_manifest(work)
        except OSError as exc:  # named by the user's path, not the temporary one
            raise OutputError(f"varimp: cannot write --out {given}: "
                              f"{exc.strerror or exc}") from exc
        if place == out:
            _move_files_in(work, out, given, overwrite)
        else:
            _move_into_place(work, out, given, overwrite)
    finally:
        if work.exists():
            shutil.rmtree(work)
    return given.expanduser().absolute()


def _fresh_folder(parent: Path, prefix: str, given: Path) -> Path:
    """A new empty folder in ``parent`` named ``prefix`` and random letters, created by a plain
    ``mkdir`` (the permissions ``0o777`` less the umask, unlike :func:`tempfile.mkdtemp`'s
    ``0o700``)."""
    for _ in range(100):
        folder = parent / f"{prefix}{secrets.token_hex(4)}"
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        except OSError as exc:
            raise OutputError(f"varimp: cannot write --out {given}: {exc.strerror or exc}") \
                from exc
        return folder
    raise OutputError(f"varimp: cannot write --out {given}: no free temporary name in {parent}")


def _move_into_place(work: Path, out: Path, given: Path, overwrite: bool) -> None:
    """Rename ``work`` to the new folder ``out``, creating its missing parents (removed again
    on failure); when ``out`` has appeared since the check, move the files into it instead."""
    created = [parent for parent in out.parents if not parent.exists()]
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if not out.exists():
            work.rename(out)
            return
    except OSError as exc:
        for parent in created:  # innermost first
            if parent.is_dir() and not any(parent.iterdir()):
                parent.rmdir()
        raise OutputError(f"varimp: cannot write --out {given}: {exc.strerror or exc}") from exc
    _move_files_in(work, out, given, overwrite)


def _move_files_in(work: Path, out: Path, given: Path, overwrite: bool) -> None:
    """Move the files of ``work`` into the existing folder ``out``, which is kept: an earlier
    varimp output there (checked again now) is first moved aside into a hidden folder in
    ``out``, and deleted, file by file, once the new files are in. On failure every file goes
    back where it was and ``out`` is as it was."""
    earlier = earlier_output(out, given, overwrite, ignore=work.name)
    aside = [*earlier, MANIFEST] if (out / MANIFEST).exists() else []
    old = _fresh_folder(out, WORK_PREFIX + "old-", given) if aside else None
    new = sorted(entry.name for entry in work.iterdir() if entry.name != MANIFEST)
    moves = [*((out / name, old / name) for name in aside),
             *((work / name, out / name) for name in [*new, MANIFEST])]
    done: list[tuple[Path, Path]] = []
    try:
        for source, target in moves:
            source.rename(target)
            done.append((source, target))
    except OSError as exc:
        with contextlib.suppress(OSError):  # a rename back rarely fails where one just worked
            for source, target in reversed(done):
                target.rename(source)
            if old is not None:
                old.rmdir()
        raise OutputError(f"varimp: cannot write --out {given}: {exc.strerror or exc}") from exc
    if old is not None:
        _remove_earlier(old, aside)


def _remove_earlier(old: Path, files: Sequence[str]) -> None:
    """Delete the earlier output moved into ``old``: its listed files, its manifest, then the
    emptied folder."""
    try:
        for file in files:
            (old / file).unlink(missing_ok=True)
        old.rmdir()
    except OSError as exc:
        one_line(f"varimp: warning: the earlier output was moved to {old} and not removed: "
                 f"{exc.strerror or exc}")


def one_line(message: str) -> None:
    """Print ``message`` on stderr as one line, its whitespace collapsed."""
    print(" ".join(message.split()), file=sys.stderr)
