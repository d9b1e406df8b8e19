"""Ctrl-C and SIGTERM for the command line: while :func:`signals_raise` is active, both raise
:class:`Interrupted` in the main thread, so a command cleans up as after any failure (a
timeout, ``kill`` or a batch scheduler at its time limit send SIGTERM); :func:`signals_held`
holds a signal until a few steps that must not be cut (the renames that put an output in place)
have finished; once the output is in place (:func:`output_in_place`) a signal is no longer a
failure of the command, which goes on to say what it wrote and succeed. Used by
:mod:`varimp.output_folder` and :mod:`varimp.cli`."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

#: The signals that interrupt a command (:func:`signals_raise`).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) or SIGTERM, raised in the main thread while :func:`signals_raise` is
    active; a KeyboardInterrupt, so that whatever stops on Ctrl-C stops on SIGTERM too."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def status(self) -> int:
        """The exit status of a process ended by this signal's default action (``128 + n``:
        130 for SIGINT, 143 for SIGTERM)."""
        return 128 + self.signum


#: ``depth``: nesting of :func:`signals_held`; ``pending``: the signal it holds; ``received``:
#: the last signal received under :func:`signals_raise`; ``done``: 1 after
#: :func:`output_in_place` (signals are then ignored until :func:`signals_raise` ends).
_held: dict[str, int | None] = {"depth": 0, "pending": None, "received": None, "done": 0}


def _on_signal(signum: int, frame: object) -> None:
    if _held["done"]:
        return
    _held["received"] = signum
    if _held["depth"]:
        _held["pending"] = signum
        return
    raise Interrupted(signum)


def _quiet_unraisable(hook: Callable[[Any], None]) -> Callable[[Any], None]:
    """``sys.unraisablehook`` that says nothing of an :class:`Interrupted` raised where Python
    cannot raise it (a weak reference's callback, a ``__del__``, which print it and go on):
    :func:`varimp.output_folder.write_into` raises it again before it puts anything in place."""

    def hook_unless_interrupted(unraisable: Any) -> None:
        if not isinstance(unraisable.exc_value, Interrupted):
            hook(unraisable)

    return hook_unless_interrupted


@contextlib.contextmanager
def signals_raise() -> Iterator[None]:
    """While the block runs, SIGINT and SIGTERM raise :class:`Interrupted` (in the main thread;
    elsewhere nothing changes); a signal the process ignores (``nohup``) stays ignored. The
    earlier handlers come back after the block."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous, unraisable = {}, sys.unraisablehook
    _held.update(received=None, done=0)
    for signum in STOP_SIGNALS:
        if signal.getsignal(signum) is not signal.SIG_IGN:
            previous[signum] = signal.signal(signum, _on_signal)
    sys.unraisablehook = _quiet_unraisable(unraisable)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        sys.unraisablehook = unraisable
        _held.update(received=None, done=0)


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Hold a SIGINT or SIGTERM that arrives in the block (under :func:`signals_raise`) until it
    ends, then raise it: the few renames that put an output in place, or remove a temporary
    folder, are never cut in the middle."""
    _held["depth"] += 1
    try:
        yield
    finally:
        _held["depth"] -= 1
        if not _held["depth"] and _held["pending"] is not None:
            signum, _held["pending"] = _held["pending"], None
            raise Interrupted(signum)


def output_in_place() -> None:
    """The command's output is complete and in place: a signal held now (it came during the
    renames) is dropped, and later ones are ignored until :func:`signals_raise` ends, so the
    command says what it wrote and succeeds (a signal after this point is not a failure of the
    run; exiting 143 would say the output is not there)."""
    _held.update(pending=None, received=None, done=1)


def last_received() -> int | None:
    """The last signal received under :func:`signals_raise` (None when none): its
    :class:`Interrupted` may have been raised where Python could not propagate it."""
    return _held["received"]
