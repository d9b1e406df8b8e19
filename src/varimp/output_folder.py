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

Interruptions: while :func:`varimp.interrupts.signals_raise` is active (the command line),
Ctrl-C and SIGTERM (a timeout, ``kill``, a batch scheduler) raise :class:`Interrupted` in the
main thread, so the temporary folder is removed as after any failure; the few renames that put
the output in place (and the clean-up) finish before the interruption is raised
(:func:`varimp.interrupts.signals_held`); a signal that comes while they run, or after, is no
failure (:func:`varimp.interrupts.output_in_place`): the output is whole, and the command says
what it wrote and succeeds. Every temporary folder is named after the process that
made it (``.varimp-new-PID@HOST-xxxxxxxx`` inside ``DIR``, ``.NAME.varimp-PID@HOST-xxxxxxxx``
beside a new ``DIR``), so one left by a run that was killed outright (SIGKILL, a power cut) is
recognised: removed by the next run into ``DIR`` when its process is no longer running on this
host, else named in the refusal. An earlier output that such a run had moved aside
(``.varimp-old-...``) is never deleted: the refusal names it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from .interrupts import Interrupted, last_received, output_in_place, signals_held

#: The file in every output folder that lists the files varimp wrote there (JSON: ``files``).
MANIFEST = ".varimp-run.json"
#: Prefix of the hidden folders varimp works in inside an existing ``--out``.
WORK_PREFIX = ".varimp-"
#: The end of a temporary folder's name: the process that made it, and random letters.
_OWNER = re.compile(r"(\d+)@([\w.-]+)-[0-9a-f]{8}$")


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
    for folder in dict.fromkeys([out.parent, place]):
        with contextlib.suppress(OSError):  # a folder that cannot be listed holds none we see
            _remove_stopped(folder, [entry.name for entry in folder.iterdir()
                                     if entry.name.startswith(_beside_prefix(out))])
    if not os.access(place, os.W_OK | os.X_OK):
        raise OutputError(f"varimp: cannot write --out {given}: no permission to write in "
                          f"{place}")
    return place


def earlier_output(out: Path, given: Path, overwrite: bool, ignore: str | None = None
                   ) -> list[str]:
    """The files of the earlier varimp output in the existing directory ``out`` that a new
    output replaces: none when ``out`` is empty (but for ``ignore``, varimp's own work folder).

    A non-empty ``out`` is replaced only when it holds :data:`MANIFEST`, every other entry is
    a plain file it lists, and ``overwrite`` is set; otherwise a one-line refusal. A temporary
    folder of a run that was stopped is removed first (see the module docstring); one of a
    run that may still be going, or an earlier output moved aside, is named in the refusal.
    """
    entries = sorted(entry.name for entry in out.iterdir() if entry.name != ignore)
    stopped = _remove_stopped(out, [name for name in entries
                                    if name.startswith(WORK_PREFIX + "new-")])
    entries = [name for name in entries if name not in stopped]
    if not entries:
        return []
    temporary = [name for name in entries
                 if name.startswith((WORK_PREFIX + "new-", WORK_PREFIX + "old-"))]
    if temporary:
        raise OutputError(_left_over(given, temporary[0]))
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
    work = None
    try:
        with signals_held():
            work = _fresh_folder(place, WORK_PREFIX + "new-" if place == out else
                                 _beside_prefix(out), given)
        try:
            write(work)
            write_manifest(work)
        except OSError as exc:  # named by the user's path, not the temporary one
            raise OutputError(f"varimp: cannot write --out {given}: "
                              f"{exc.strerror or exc}") from exc
        with signals_held():
            if last_received() is not None:  # its Interrupted was lost where Python could not
                raise Interrupted(last_received())  # raise it (a __del__, a weakref callback)
            if place == out:
                _move_files_in(work, out, given, overwrite)
            else:
                _move_into_place(work, out, given, overwrite)
            output_in_place()  # a signal from now on is no failure: the output is whole
    finally:
        with signals_held():
            if work is not None and work.exists():
                shutil.rmtree(work)
    return given.expanduser().absolute()


def _beside_prefix(out: Path) -> str:
    """The start of the name of the temporary folder of a new ``out``, made beside it."""
    return f".{out.name[:100]}.varimp-"


def _owner() -> str:
    """This process, as temporary folders are named after it: ``PID@HOST``."""
    host = re.sub(r"[^\w.-]", "_", socket.gethostname(), flags=re.ASCII)[:64] or "host"
    return f"{os.getpid()}@{host}"


def _left_by(name: str) -> tuple[int, str] | None:
    """The process id and host a temporary folder is named after, or None (an older name)."""
    match = _OWNER.search(name)
    return None if match is None else (int(match.group(1)), match.group(2))


def _stopped(name: str) -> bool:
    """Whether the run that made the temporary folder ``name`` has certainly stopped: its
    process, on this host, no longer exists, or is this one (its id reused, in a container
    say: this process only looks at such folders before it makes its own, under new names)."""
    owner = _left_by(name)
    if owner is None or owner[1] != _owner().split("@", 1)[1] or os.name != "posix":
        return False  # (os.kill(pid, 0) would stop a process on Windows)
    if owner[0] == os.getpid():
        return True
    try:
        os.kill(owner[0], 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, another user's
        return False
    return False


def _remove_stopped(folder: Path, names: Sequence[str]) -> list[str]:
    """Remove the temporary folders among ``names`` in ``folder`` whose run has stopped; return
    the names removed."""
    removed = []
    for name in names:
        path = folder / name
        if path.is_dir() and not path.is_symlink() and _stopped(name):
            with signals_held():
                shutil.rmtree(path, ignore_errors=True)
            if not path.exists():
                removed.append(name)
    return removed


def _left_over(given: Path, name: str) -> str:
    """The refusal of an ``--out`` that holds the temporary folder ``name`` of another run."""
    owner = _left_by(name)
    if owner is None:
        who = "a varimp run"
    elif _stopped(name):
        who = f"varimp's process {owner[0]} (stopped)"
    elif owner[1] == _owner().split("@", 1)[1]:
        who = f"varimp's process {owner[0]} (still running)"
    else:
        who = f"varimp's process {owner[0]} on {owner[1]} (maybe still running)"
    if name.startswith(WORK_PREFIX + "old-"):
        return (f"varimp: --out {given} holds {name}, an earlier output that {who} moved aside "
                "to replace it; take what you need from --out, then remove that folder, or "
                "choose a new or empty directory")
    return (f"varimp: --out {given} holds {name}, the temporary folder of {who}; once that "
            "run is over remove the folder, or choose a new or empty directory")


def _fresh_folder(parent: Path, prefix: str, given: Path) -> Path:
    """A new empty folder in ``parent`` named ``prefix``, this process (:func:`_owner`) and
    random letters, created by a plain ``mkdir`` (the permissions ``0o777`` less the umask,
    unlike :func:`tempfile.mkdtemp`'s ``0o700``)."""
    for _ in range(100):
        folder = parent / f"{prefix}{_owner()}-{secrets.token_hex(4)}"
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
