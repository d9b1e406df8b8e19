"""Progress bars for long work: one helper that every engine uses.

A bar is a :func:`tqdm.auto.tqdm` bar: a widget in Jupyter, text on stderr elsewhere. On a
terminal it is redrawn in place; when stderr is a log file (or any stream that is not a
terminal) every refresh is a line of its own, one every :data:`LOG_INTERVAL` seconds, so a log
reads as a list of dated states rather than one endless line of carriage returns.
``progress=None`` (the default of every method) shows it only once the work has run for
:data:`DEFAULT_DELAY` seconds, so short calls print nothing; ``True`` shows it at once;
``False`` never. In a log file the first line comes then too (at the first update after
:data:`DEFAULT_DELAY` seconds, or at once), the next ones every :data:`LOG_INTERVAL` seconds.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from typing import Any

from .errors import InputError, describe

#: Seconds of work after which a default bar (``progress=None``) appears.
DEFAULT_DELAY = 3.0
#: Seconds between refreshes when the bar is written to a file that is not a terminal (a log):
#: a line every so often instead of ten a second, each ending in a newline.
LOG_INTERVAL = 10.0
#: Width of a bar's line in a log file.
LOG_COLUMNS = 80


def check_progress(progress: object) -> bool | None:
    """``progress`` validated: True, False or None."""
    if progress is not None and not isinstance(progress, bool):
        raise InputError(f"progress must be True, False or None; received {describe(progress)}")
    return progress


def progress_bar(total: int, enabled: bool | None = None, desc: str | None = None,
                 unit: str = "it") -> Any:
    """A progress bar over ``total`` units of work, usable as a context manager.

    Parameters
    ----------
    total : int
        Units of work the bar counts (``bar.update(k)`` after ``k`` of them).
    enabled : bool or None
        True: shown at once. False: a silent bar (its ``update`` and ``close`` do nothing).
        None: shown once the work has lasted :data:`DEFAULT_DELAY` seconds.
    desc : str, optional
        Label written before the bar.
    unit : str
        Name of one unit of work.

    Returns
    -------
    tqdm.auto.tqdm
        On stderr (a widget in Jupyter); when stderr is not a terminal, one line per refresh
        (:class:`LogLines`): the first once the delay is over, then every
        :data:`LOG_INTERVAL` seconds.
    """
    enabled = check_progress(enabled)
    from tqdm.auto import tqdm

    if enabled is False:
        return tqdm(total=total, disable=True)
    delay = 0.0 if enabled else DEFAULT_DELAY
    if _is_widget(tqdm) or _is_terminal(sys.stderr):
        return tqdm(total=total, desc=desc, unit=unit, delay=delay)
    # tqdm writes only when both the delay and mininterval have passed since the start: the
    # first line waits for the delay alone, the next ones for LOG_INTERVAL
    lines = LogLines(sys.stderr)
    bar = tqdm(total=total, desc=desc, unit=unit, delay=delay, file=lines, ncols=LOG_COLUMNS,
               mininterval=min(delay, LOG_INTERVAL) if delay else LOG_INTERVAL,
               maxinterval=LOG_INTERVAL)
    lines.written = lambda: setattr(bar, "mininterval", LOG_INTERVAL)
    return bar


class LogLines:
    """A stream for tqdm that writes every refresh as a line of its own.

    tqdm redraws a bar in place: a carriage return, the new state, spaces over the old one
    (and cursor moves for stacked bars). On a terminal that overwrites the line; in a log file
    it piles every state onto one physical line. This writes each state, stripped, followed by
    a newline (a state equal to the last one written is not repeated), and calls
    ``written()`` after each line.
    """

    _CURSOR_UP = "\x1b[A"

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.last = ""
        self.written: Callable[[], None] = lambda: None

    def write(self, text: str) -> int:
        for state in re.split(r"[\r\n]", str(text).replace(self._CURSOR_UP, "")):
            state = state.rstrip()
            if state and state != self.last:
                self.stream.write(state + "\n")
                self.last = state
                self.written()
        return len(text)

    def flush(self) -> None:
        flush = getattr(self.stream, "flush", None)
        if callable(flush):
            flush()

    def __getattr__(self, name: str) -> Any:  # encoding, isatty... of the stream
        return getattr(self.stream, name)


def _is_widget(bar_class: type) -> bool:
    """Whether ``tqdm.auto`` chose Jupyter's widget (which is not written to stderr)."""
    return any(base.__module__ == "tqdm.notebook" for base in bar_class.__mro__)


def _is_terminal(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except ValueError:  # a closed stream
        return False


__all__ = ["DEFAULT_DELAY", "LOG_COLUMNS", "LOG_INTERVAL", "LogLines", "check_progress",
           "progress_bar"]
