"""What reading any file needs: a clear refusal of a missing path, a one-line reason."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError


def check_file(path: Path, what: str) -> None:
    """An :class:`~varimp.InputError` unless ``path`` is an existing file."""
    if not path.exists():
        raise InputError(f"{what} file {path} does not exist")
    if not path.is_file():
        raise InputError(f"{what} file {path} is not a file")


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message, at most 300 characters."""
    lines = str(exc).strip().splitlines() or [""]
    return lines[0] if len(lines[0]) <= 300 else lines[0][:297] + "..."
