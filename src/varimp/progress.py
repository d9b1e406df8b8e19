"""Progress bars for long work: one helper that every engine uses.

A bar is a :func:`tqdm.auto.tqdm` bar: a widget in Jupyter, text on stderr elsewhere. On a
terminal it is redrawn in place; when stderr is a log file (or any stream that is not a
terminal) every refresh is a line of its own, one every :data:`LOG_INTERVAL` seconds, so a log
reads as a list of dated states rather than one endless line of carriage returns.
``progress=None`` (the default of every method) shows it only once the work has run for
:data:`DEFAULT_DELAY` seconds, so short calls print nothing; ``True`` shows it at once;
``False`` never. In a log file the first line comes then too (at :data:`DEFAULT_DELAY` seconds,
or at once), the next ones every :data:`LOG_INTERVAL` seconds.

tqdm writes only when a unit of work finishes; a unit can last minutes (a refit, a pass of a
large network). So while a text bar is open a :class:`Ticker` thread writes it when a line is
due and no unit has finished: in a log file at the delay and then every :data:`LOG_INTERVAL`
seconds, on a terminal at the delay and then every :data:`TERMINAL_INTERVAL` seconds (the
elapsed time keeps counting). It stops when the bar closes; a disabled bar has none.
"""

from __future__ import annotations

import functools
import re
import sys
import threading
import weakref
from collections.abc import Callable
from typing import Any

from .errors import InputError, describe

#: Seconds of work after which a default bar (``progress=None``) appears.
DEFAULT_DELAY = 3.0
#: Seconds between refreshes when the bar is written to a file that is not a terminal (a log):
#: a line every so often instead of ten a second, each ending in a newline.
LOG_INTERVAL = 10.0
#: Seconds between refreshes of a bar on a terminal while no unit of work finishes.
TERMINAL_INTERVAL = 1.0
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
        :data:`LOG_INTERVAL` seconds, also while no unit finishes (:class:`Ticker`).
    """
    enabled = check_progress(enabled)
    from tqdm.auto import tqdm

    if enabled is False:
        return tqdm(total=total, disable=True)
    delay = 0.0 if enabled else DEFAULT_DELAY
    if _is_widget(tqdm):
        return tqdm(total=total, desc=desc, unit=unit, delay=delay)
    if _is_terminal(sys.stderr):
        return _ticking(tqdm)(TERMINAL_INTERVAL, total=total, desc=desc, unit=unit,
                              delay=delay)
    # tqdm writes only when both the delay and mininterval have passed since the start: the
    # first line waits for the delay alone, the next ones for LOG_INTERVAL
    lines = LogLines(sys.stderr)
    bar = _ticking(tqdm)(LOG_INTERVAL, total=total, desc=desc, unit=unit, delay=delay,
                         file=lines, ncols=LOG_COLUMNS,
                         mininterval=min(delay, LOG_INTERVAL) if delay else LOG_INTERVAL,
                         maxinterval=LOG_INTERVAL)
    lines.written = lambda: setattr(bar, "mininterval", LOG_INTERVAL)
    return bar


class Ticker(threading.Thread):
    """A daemon thread that writes an open bar when a line is due and no unit has finished.

    A line is due once the bar's delay is over (if none was written yet), then ``interval``
    seconds after the last one, whoever wrote it (tqdm after an update, or this thread). It
    refreshes the bar under tqdm's lock, as tqdm does, and records the line as tqdm does, so
    that an update right after it does not write again. It holds the bar weakly, and stops
    when the bar closes (:meth:`stop`), is collected, or its stream is closed.
    """

    def __init__(self, bar: Any, interval: float) -> None:
        super().__init__(name="varimp progress", daemon=True)
        self.bar = weakref.ref(bar)
        self.interval = interval
        self.stopped = threading.Event()
        self.wait_first = self.due(bar) - bar._time()

    def due(self, bar: Any) -> float:
        """When, on the bar's clock, its next line is due."""
        if bar.last_print_t < bar.start_t + bar.delay:  # nothing written yet
            return bar.start_t + bar.delay
        return bar.last_print_t + self.interval

    def run(self) -> None:
        wait = self.wait_first
        while not self.stopped.wait(max(wait, 0.0)):
            wait = self.tick()
            if wait is None:
                return

    def tick(self) -> float | None:
        """Write the bar if a line is due; the seconds until the next one (None: stop)."""
        bar = self.bar()
        if bar is None:
            return None
        with bar.get_lock():
            if self.stopped.is_set() or bar.disable:
                return None
            now = bar._time()
            if now >= self.due(bar):
                try:
                    bar.refresh(nolock=True)
                except (OSError, ValueError):  # the stream was closed
                    return None
                bar.last_print_n, bar.last_print_t = bar.n, now
            return self.due(bar) - now

    def stop(self) -> None:
        """Stop, and wait (a second at most) for the thread to end, so that none is left
        running once the bar has closed."""
        self.stopped.set()
        if self is not threading.current_thread() and self.is_alive():
            self.join(timeout=1.0)


@functools.cache
def _ticking(bar_class: type) -> type:
    """``bar_class`` whose bars start a :class:`Ticker` (first argument: its interval) and stop
    it when they close."""

    class TickingBar(bar_class):
        ticker: Ticker | None = None

        def __init__(self, interval: float, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            if interval > 0 and not self.disable:  # 0: every update writes already
                self.ticker = Ticker(self, interval)
                self.ticker.start()

        def close(self) -> None:
            if self.ticker is not None:
                self.ticker.stop()
            super().close()

    return TickingBar


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


__all__ = ["DEFAULT_DELAY", "LOG_COLUMNS", "LOG_INTERVAL", "TERMINAL_INTERVAL", "LogLines",
           "Ticker", "check_progress", "progress_bar"]
