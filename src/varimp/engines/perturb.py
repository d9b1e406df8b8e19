"""The perturbation engine: many perturbed copies of X, evaluated in large batches.

Every perturbation-type method asks the same question: what happens to the predictions (or to
the error) when some cells of ``X`` are disturbed? A :class:`Task` says which cells (a
variable's feature columns at every time step, at one step, or one cell) and how (a
perturbation function, injected as in Captum's design: :class:`Noise`, :class:`Permute`,
:class:`Hold`, or any callable ``f(block, rng) -> block``). :class:`PerturbationEngine` runs
``n_repeats`` copies of every task:

- copies are stacked into model calls of at most ``batch_size`` rows and ``max_memory`` bytes
  of perturbed input (a copy larger than a call is split across calls);
- the unperturbed predictions are computed once and reused; a copy whose perturbation leaves
  X exactly as it is (:meth:`PerturbationEngine.unchanged`: a permutation of cells that hold
  one value in every sample, noise of scale 0) takes them, without a model call, so its
  statistic is the unperturbed one to the last bit;
- every copy's statistic must be finite: NaN or inf (an error or change of predictions so
  large that it overflows float64) is a ModelError;
- each copy is reduced to a statistic as soon as its last row is predicted, so only the copies
  in flight are ever held in memory;
- a copy's perturbed cells are built for all its rows at once when they take at most a quarter
  of ``max_memory`` (the usual case); a larger copy perturbed by :class:`Noise`,
  :class:`Permute` or :class:`Hold` is built piece by piece, only for the rows of the current
  model call, with the same numbers bit for bit (a permutation's rows are taken through the
  repeat's one draw, noise comes from the copy's one generator in row order, a held value is a
  view). Any other perturbation function (e.g. a user's callable, :class:`SwitchCategory`)
  receives the whole block, as it may depend on it: its copies are held whole;
- every random number of a copy comes from its own generator, seeded from
  ``(seed, repeat, task)``, or for a shared perturbation (:class:`Permute`) from one draw per
  repeat seeded from ``(seed, repeat)`` and used by every task of the repeat; so results do not
  depend on ``batch_size``, ``max_memory`` or the order of evaluation;
- on sequences, a task whose first perturbed step is ``t > 0`` leaves steps ``< t`` untouched.
  When the adapter offers a suffix predictor (a recurrent network whose structure it could
  read and verify), the unperturbed prefix is run once and only steps ``t..T-1`` are evaluated,
  starting from the cached recurrent states; results equal the full forward pass to floating
  point precision;
- on tables, when the adapter offers a tail predictor (a dense network whose structure it
  could read and verify), the first layer's pre-activation ``X @ W + b`` is computed once and
  a copy changing columns ``J`` is evaluated as ``X @ W + b + (X'_J - X_J) @ W[J]`` followed by
  the rest of the network; again equal to the full forward pass to floating point precision.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..adapters import Adapter
from ..errors import InputError, ModelError
from ..progress import check_progress, progress_bar
from ..validation import check_positive_int
from .tasks import (
    DRAW_KEY,
    REPEAT_KEY,
    TASK_KEY,
    Hold,
    Noise,
    Permute,
    Perturbation,
    Statistic,
    SwitchCategory,
    Task,
    generator,
    seed_from,
)

#: ``observe(repeat, task, pred, reference, rows)``: sees every copy's predictions once.
Observer = Callable[[int, int, np.ndarray, np.ndarray, "np.ndarray | None"], None]
#: Default bound on the bytes of perturbed input held at once (256 MiB).
DEFAULT_MAX_MEMORY = 256 * 2**20
#: Default bound on input cells (rows x steps x features) per model call when ``batch_size`` is
#: None: large enough to amortise per-call overhead, small enough to stay in a CPU cache.
DEFAULT_CELLS_PER_CALL = 2**17


def check_max_memory(max_memory: object) -> int:
    if max_memory is None:
        return DEFAULT_MAX_MEMORY
    return check_positive_int(max_memory, "max_memory (bytes)")


@dataclass
class _Copy:
    repeat: int
    index: int
    task: Task
    rows: np.ndarray | None
    n_rows: int
    start: int  # first perturbed step (0 for tables and all-step tasks)
    ready: bool = False  # block built, or (pieces) rng made
    pieces: int = 0  # > 0: built piece by piece, at most this many rows at a time
    rng: np.random.Generator | None = None  # pieces of Noise: the copy's one generator
    block: np.ndarray | None = None
    pred: np.ndarray | None = None
    done: int = 0


class PerturbationEngine:
    """Evaluates perturbed copies of ``X`` through an adapter, in batches, under a memory bound.

    Parameters
    ----------
    adapter : Adapter
        The model, adapted (:func:`varimp.adapters.adapt`).
    X : ndarray, shape (n, p) or (n, T, p)
        Validated float64 input; never written to.
    batch_size : int or None
        Rows per model call. None: enough rows for about ``DEFAULT_CELLS_PER_CALL`` input cells.
    max_memory : int or None
        Bytes of perturbed input held at once (the call buffer and the perturbed cells of the
        copies in flight); default ``DEFAULT_MAX_MEMORY`` (256 MiB). It lowers the rows per call
        when needed, never below one row. A copy whose perturbed cells take more than a quarter
        of it is built piece by piece (pieces of at most a sixteenth of it), for the
        perturbations that allow it (:class:`Noise`, :class:`Permute`, :class:`Hold`). The
        first layer's cached pre-activation (``first_layer``) is kept only when it takes at most
        a quarter of it. Not counted: ``X`` and its cast, the predictions (unperturbed, and
        each copy in flight: ``n x n_steps x n_outputs`` floats), a permutation's row order.
    progress : bool or None
        A bar over the copies (:func:`varimp.progress.progress_bar`): True at once, False
        never, None once the work has lasted a few seconds.
    prefix : bool
        Sequences: reuse the unperturbed prefix when the adapter offers a suffix predictor.
    first_layer : bool
        Tables: reuse the first dense layer's unperturbed pre-activation when the adapter
        offers a tail predictor.
    """

    def __init__(self, adapter: Adapter, X: np.ndarray, *, batch_size: int | None = None,
                 max_memory: int | None = None, progress: bool | None = None,
                 prefix: bool = True, first_layer: bool = True):
        self.adapter = adapter
        self.X = X
        self.batch_size = None if batch_size is None else \
            check_positive_int(batch_size, "batch_size")
        self.max_memory = check_max_memory(max_memory)
        self.progress = check_progress(progress)
        self.prefix = prefix
        self.first_layer = first_layer
        self._base: np.ndarray | None = None
        self._predictor: Any = False  # not looked up yet
        self._suffix: Any = False
        self._X_cast: np.ndarray | None = None
        self._tail: Any = False
        self._last_draw: tuple | None = None
        self._constant: np.ndarray | None = None

    @property
    def sequence(self) -> bool:
        return self.X.ndim == 3

    @property
    def base(self) -> np.ndarray:
        """Unperturbed predictions ``(n, n_steps, n_outputs)``, computed once."""
        if self._base is None:
            self._base = self.adapter.predict(self.X, self._rows_per_call(self.X.shape[1:]))
        return self._base

    @property
    def predictor(self) -> Any:
        """The adapter's suffix predictor (sequences with ``prefix``), or None."""
        if self._predictor is False:
            self._predictor = None
            if self.prefix and self.sequence:
                self._predictor = self.adapter.suffix_predictor()
        return self._predictor

    def _rows_per_call(self, row_shape: tuple[int, ...], tail: Any = None) -> int:
        """Rows per model call: ``batch_size``; by default about ``DEFAULT_CELLS_PER_CALL``
        input cells, or for a recurrent network the suffix predictor's cache-friendly number
        for sequences of this length, or the tail predictor's for a dense one. Lowered so that
        the call's input (counted as float64 plus the model's own copy; for the tail predictor,
        every layer's outputs) stays within ``max_memory``."""
        cells = math.prod(row_shape)
        rows = self.batch_size
        if tail is not None:
            cells = max(cells, tail.predictor.row_cells)
            rows = rows or tail.predictor.rows_per_call()
        if rows is None and len(row_shape) == 2 and self.predictor is not None:
            rows = self.predictor.rows_per_call(row_shape[0])
        if rows is None:
            rows = max(1, DEFAULT_CELLS_PER_CALL // cells)
        return max(1, min(rows, self.max_memory // (2 * 8 * cells)))

    def suffix_run(self) -> Any:
        """The suffix predictor started on X (prefix states cached), or None."""
        if self._suffix is False:
            self._suffix = None if self.predictor is None else \
                self.predictor.start(self.X, self.base)
        return self._suffix

    def tail_run(self) -> Any:
        """Tables with ``first_layer``: the adapter's tail predictor started on X (the first
        dense layer's pre-activation cached, when it takes at most a quarter of
        ``max_memory``), or None."""
        if self._tail is False:
            self._tail = None
            predictor = self.adapter.tail_predictor() if self.first_layer and \
                not self.sequence else None
            if predictor is not None and \
                    predictor.cache_bytes(self.X.shape[0]) <= self.max_memory // 4:
                self._tail = predictor.start(self.X, self.base)
        return self._tail

    @property
    def constant(self) -> np.ndarray:
        """Which cells hold one value in every sample: ``(p,)`` for tables, ``(T, p)`` for
        sequences (each step on its own), computed once: only the cells equal in the first,
        middle and last rows are read in every row (usually none)."""
        if self._constant is None:
            X = self.X
            cells = X.reshape(len(X), -1)
            maybe = np.flatnonzero((cells[[len(X) // 2, -1]] == cells[0]).all(axis=0))
            constant = np.zeros(cells.shape[1], dtype=bool)
            constant[maybe] = (cells[:, maybe] == cells[:1, maybe]).all(axis=0)
            self._constant = constant.reshape(X.shape[1:])
        return self._constant

    @property
    def constant_features(self) -> np.ndarray:
        """Which features ``(p,)`` hold one value in every sample (at every step, for
        sequences): those a permutation, or noise of a fraction of the spread, leaves as
        they are."""
        return self.constant.all(axis=0) if self.sequence else self.constant

    def unchanged(self, task: Task) -> bool:
        """Whether the task's perturbation leaves X exactly as it is: a permutation of cells
        that hold one value in every sample (at its step, or at every step), noise of scale
        0, a category switch with one observed category. Such a copy's predictions are the
        unperturbed ones: :meth:`run` takes them without a model call."""
        how = task.how
        if type(how) is Noise:
            return not np.any(np.asarray(how.scale))
        if type(how) is SwitchCategory:
            return len(how.codes) < 2
        if type(how) is not Permute:
            return False
        constant = self.constant if task.step is None else self.constant[task.step]
        return bool(constant[..., list(task.columns)].all())

    def check_task(self, task: Task) -> None:
        p = self.X.shape[-1]
        if not task.columns or any(not 0 <= c < p for c in task.columns):
            raise InputError(f"a task must name feature columns in 0..{p - 1}; received "
                             f"{list(task.columns)}")
        if task.step is not None:
            if not self.sequence:
                raise InputError("a task with a time step needs sequence input (n, T, p); X is "
                                 f"a table of shape {self.X.shape}")
            if not 0 <= task.step < self.X.shape[1]:
                raise InputError(f"task step must be in 0..{self.X.shape[1] - 1}; received "
                                 f"{task.step}")

    def run(self, tasks: Sequence[Task], statistic: Statistic, *, n_repeats: int = 1,
            seed: int = 0, rows: Sequence[np.ndarray | None] | None = None,
            observe: Observer | None = None) -> np.ndarray:
        """Evaluate every task ``n_repeats`` times and reduce each copy with ``statistic``.

        Parameters
        ----------
        tasks : sequence of Task
        statistic : callable
            ``statistic(pred, reference, rows)`` for one copy (see :data:`Statistic`); returns
            a number or an array (the same shape for every copy).
        n_repeats : int
            Copies per task; repeat ``r`` of task ``j`` draws its random numbers from
            ``generator(seed, TASK_KEY, r, j)``, or, for a shared perturbation, uses the one
            draw of repeat ``r`` from ``generator(seed, DRAW_KEY, r)``.
        seed : int
            From :func:`seed_from`.
        rows : sequence of index arrays or None, one per repeat
            The rows of X the copies of repeat ``r`` use (e.g. a subsample); None: all rows.
        observe : callable or None
            ``observe(repeat, task, pred, reference, rows)``, called with every copy's
            predictions as it completes, before they are let go (e.g. to keep each row's share
            of a statistic, :class:`varimp.methods.measure.RowShares`).

        Returns
        -------
        ndarray, shape (n_repeats, len(tasks), *statistic shape)
        """
        n_repeats = check_positive_int(n_repeats, "n_repeats")
        for task in tasks:
            self.check_task(task)
        rows = [None] * n_repeats if rows is None else list(rows)
        if len(rows) != n_repeats:
            raise InputError(f"rows must hold one entry per repeat ({n_repeats}); received "
                             f"{len(rows)}")
        copies, same = [], []
        unchanged = [self.unchanged(task) for task in tasks]
        for r in range(n_repeats):
            idx = None if rows[r] is None else np.ascontiguousarray(rows[r], dtype=np.intp)
            size = self.X.shape[0] if idx is None else len(idx)
            for j, task in enumerate(tasks):
                (same if unchanged[j] else copies).append(
                    _Copy(r, j, task, idx, size, task.step or 0))
        results: dict[tuple[int, int], Any] = {}
        suffix = self.suffix_run() if any(c.start > 0 for c in copies) else None
        groups = [[c for c in copies if c.start == 0 or suffix is None]]
        if suffix is not None:
            starts = sorted({c.start for c in copies if c.start > 0})
            groups += [[c for c in copies if c.start == s] for s in starts]
        with progress_bar(len(copies) + len(same), self.progress, "perturbed copies",
                          "copy") as bar, self.adapter.guard():
            for copy in same:  # X as it is: the unperturbed predictions, no model call
                reference = self.base if copy.rows is None else self.base[copy.rows]
                results[(copy.repeat, copy.index)] = statistic(reference, reference, copy.rows)
                if observe is not None:
                    observe(copy.repeat, copy.index, reference, reference, copy.rows)
                bar.update(1)
            for group in groups:
                if group:
                    self._run_group(group, statistic, seed, results, suffix, bar, observe)
        values = np.asarray([[results[(r, j)] for j in range(len(tasks))]
                             for r in range(n_repeats)], dtype=np.float64)
        if not np.all(np.isfinite(values)):
            raise ModelError(
                f"the measure of a perturbed copy of X came out NaN or inf; the model's "
                f"predictions reach {np.abs(self.base).max():.3g} in magnitude, and a change or "
                "error of values this large overflows float64: rescale the model's outputs "
                "(and y)")
        return values

    # -- internals ----------------------------------------------------------------------------
    def _run_group(self, group: list[_Copy], statistic: Statistic, seed: int,
                   results: dict, suffix: Any, bar: Any, observe: Observer | None) -> None:
        start = group[0].start if suffix is not None else 0
        use_suffix = suffix is not None and start > 0
        tail = None if use_suffix else self.tail_run()
        shape = self.X.shape[1:]
        if use_suffix:
            shape = (self.X.shape[1] - start, *shape[1:])
        per_call = self._rows_per_call(shape, tail)
        batches = None if tail is not None else _Batches(
            self, min(per_call, sum(c.n_rows for c in group)), shape,
            suffix.input_dtype if use_suffix else self.adapter.input_dtype)
        for pieces in _calls(group, per_call):
            for copy, _, _ in pieces:
                if not copy.ready:
                    self._prepare(copy, seed)
            if tail is not None:
                pred = _finite(tail.predict([
                    (copy.task.columns, self._cells(copy, lo, hi, seed),
                     slice(lo, hi) if copy.rows is None else copy.rows[lo:hi])
                    for copy, lo, hi in pieces]))
            elif use_suffix:
                batch, rows = batches.fill(pieces, start, seed)
                pred = _finite(suffix.predict(start, batch, rows))
            else:
                batch, _ = batches.fill(pieces, 0, seed)
                pred = self.adapter.predict(batch, len(batch))
            at = 0
            for copy, lo, hi in pieces:
                self._collect(copy, pred[at:at + hi - lo], lo, hi, start if use_suffix else 0,
                              suffix)
                at += hi - lo
                if copy.done == copy.n_rows:
                    reference = self.base if copy.rows is None else self.base[copy.rows]
                    results[(copy.repeat, copy.index)] = statistic(copy.pred, reference,
                                                                   copy.rows)
                    if observe is not None:
                        observe(copy.repeat, copy.index, copy.pred, reference, copy.rows)
                    copy.block = copy.pred = copy.rng = None
                    bar.update(1)

    def _cast(self, dtype: type) -> np.ndarray:
        """X in the model's input dtype, cast once when that copy takes at most a quarter of
        ``max_memory`` (else X itself, cast piece by piece)."""
        if np.dtype(dtype) == self.X.dtype or self.X.size * np.dtype(dtype).itemsize > \
                self.max_memory // 4:
            return self.X
        if self._X_cast is None or self._X_cast.dtype != dtype:
            self._X_cast = self.X.astype(dtype)
        return self._X_cast

    def _collect(self, copy: _Copy, pred: np.ndarray, lo: int, hi: int, start: int,
                 suffix: Any) -> None:
        if copy.pred is None:
            copy.pred = np.empty((copy.n_rows, *self.base.shape[1:]))
        if start and suffix.per_step:
            rows = np.arange(lo, hi) if copy.rows is None else copy.rows[lo:hi]
            copy.pred[lo:hi, :start] = self.base[rows, :start]
            copy.pred[lo:hi, start:] = pred
        else:
            copy.pred[lo:hi] = pred
        copy.done += hi - lo

    def shared_draw(self, how: Any, seed: int, repeat: int, n_rows: int) -> Any:
        """What a shared perturbation (``how.shared``, e.g. :class:`Permute`) drew for repeat
        ``repeat`` of :meth:`run` with ``seed`` on copies of ``n_rows`` rows: for ``Permute``
        the order of the rows, row ``i`` of a copy receiving the cells of row ``order[i]``
        (an observer can tell which row donated to which, e.g. for the interval of
        permutation importance). Only the last draw is kept (the copies of a repeat run
        together); one needed again is drawn again, identically."""
        key = (how, seed, repeat, n_rows)
        if self._last_draw is None or self._last_draw[0] != key:
            drawn = how.draw(n_rows, generator(seed, DRAW_KEY, repeat))
            self._last_draw = (key, drawn)
        return self._last_draw[1]

    def _cell_shape(self, task: Task) -> tuple[int, ...]:
        """The shape of one row's perturbed cells."""
        if self.sequence and task.step is None:
            return (self.X.shape[1], len(task.columns))
        return (len(task.columns),)

    def _prepare(self, copy: _Copy, seed: int) -> None:
        """Build the copy's perturbed cells for all its rows, or, when they would take more
        than a quarter of ``max_memory`` and the perturbation allows it, get ready to build them
        piece by piece (:meth:`_piece`)."""
        copy.ready = True
        row = math.prod(self._cell_shape(copy.task))
        if type(copy.task.how) not in (Noise, Permute, Hold) or \
                copy.n_rows * row * 8 <= self.max_memory // 4:
            copy.block = self._perturbed_block(copy, seed)
            return
        read = row if copy.task.step is None else self.X.shape[-1]  # cells read per row
        copy.pieces = max(1, self.max_memory // (16 * 8 * read))
        if type(copy.task.how) is Noise:
            copy.rng = generator(seed, TASK_KEY, copy.repeat, copy.index)

    def _parts(self, copy: _Copy, lo: int, hi: int, seed: int):
        """The perturbed cells of rows ``lo:hi`` of a copy built piece by piece:
        ``(a, b, cells)`` for consecutive rows ``a:b``."""
        for a in range(lo, hi, copy.pieces):
            b = min(hi, a + copy.pieces)
            yield a, b, self._piece(copy, a, b, seed)

    def _cells(self, copy: _Copy, lo: int, hi: int, seed: int) -> np.ndarray:
        """The perturbed cells of rows ``lo:hi`` of a copy."""
        if not copy.pieces:
            return copy.block[lo:hi]
        cells = np.empty((hi - lo, *self._cell_shape(copy.task)))
        for a, b, part in self._parts(copy, lo, hi, seed):
            cells[a - lo:b - lo] = part
        return cells

    def _piece(self, copy: _Copy, a: int, b: int, seed: int) -> np.ndarray:
        """Rows ``a:b`` of what :meth:`_perturbed_block` would build, bit for bit."""
        how = copy.task.how
        if type(how) is Hold:  # a view of the value, whatever the rows
            return np.broadcast_to(np.asarray(how.value, dtype=np.float64),
                                   (copy.n_rows, *self._cell_shape(copy.task)))[a:b]
        if type(how) is Permute:  # row i receives the cells of row order[i]
            rows = self.shared_draw(how, seed, copy.repeat, copy.n_rows)[a:b]
            return self._read(copy.task, rows if copy.rows is None else copy.rows[rows])
        # Noise: the copy's one generator, read in row order (a copy's calls come in order)
        rows = slice(a, b) if copy.rows is None else copy.rows[a:b]
        return how(self._read(copy.task, rows), copy.rng)

    def _read(self, task: Task, rows: slice | np.ndarray) -> np.ndarray:
        """The task's cells of the given rows of X, unperturbed (a copy)."""
        cols = list(task.columns)
        if not self.sequence:
            return self.X[rows][:, cols]
        if task.step is None:
            return self.X[rows][:, :, cols]
        return self.X[rows, task.step][:, cols]

    def _perturbed_block(self, copy: _Copy, seed: int) -> np.ndarray:
        task = copy.task
        cols = list(task.columns)
        if not self.sequence:
            cells = self.X[:, cols]
        elif task.step is None:
            cells = self.X[:, :, cols]
        else:
            cells = self.X[:, task.step, cols]
        if copy.rows is not None:
            cells = cells[copy.rows]
        how = task.how
        if getattr(how, "shared", False):
            out = how.apply(cells, self.shared_draw(how, seed, copy.repeat, copy.n_rows))
        else:
            out = how(cells, generator(seed, TASK_KEY, copy.repeat, copy.index))
        out = np.asarray(out, dtype=np.float64)
        if out.shape != cells.shape:
            raise InputError(f"a perturbation must return the cells it was given, of shape "
                             f"{cells.shape}; received shape {out.shape}")
        return out


class _Batches:
    """Builds the model calls of a group in one buffer, reused: fresh pages for every call
    cost up to 40%."""

    def __init__(self, engine: PerturbationEngine, rows: int, shape: tuple[int, ...],
                 dtype: type):
        self.engine = engine
        self.X = engine._cast(dtype)
        self.buffer = np.empty((rows, *shape), dtype=dtype)

    def fill(self, pieces: list[tuple[_Copy, int, int]], start: int, seed: int
             ) -> tuple[np.ndarray, np.ndarray]:
        """The call's input (steps ``start..`` of each perturbed row) and the rows of X."""
        batch = self.buffer[:sum(hi - lo for _, lo, hi in pieces)]
        state_rows = []
        at = 0
        for copy, lo, hi in pieces:
            rows = np.arange(lo, hi) if copy.rows is None else copy.rows[lo:hi]
            view = batch[at:at + hi - lo]
            view[...] = (self.X[lo:hi] if copy.rows is None else self.X[rows])[:, start:]
            if not copy.pieces:
                _assign(view, copy.task, copy.block[lo:hi], start)
            else:
                for a, b, cells in self.engine._parts(copy, lo, hi, seed):
                    _assign(view[a - lo:b - lo], copy.task, cells, start)
            state_rows.append(rows)
            at += hi - lo
        return batch, np.concatenate(state_rows)


def _finite(pred: np.ndarray) -> np.ndarray:
    """Predictions of a rebuilt network, checked as the adapter checks the model's."""
    if not np.all(np.isfinite(pred)):
        raise ModelError("the model returned NaN or inf predictions for a perturbed copy of X; "
                         "check the scale of X, of the perturbation and the model")
    return pred


def _assign(view: np.ndarray, task: Task, cells: np.ndarray, start: int) -> None:
    """Write a task's perturbed cells into rows of a call's input (steps ``start..``)."""
    cols = list(task.columns)
    if start:
        view[:, 0, cols] = cells
    elif view.ndim == 2:
        view[:, cols] = cells
    elif task.step is None:
        view[:, :, cols] = cells
    else:
        view[:, task.step, cols] = cells


def _calls(copies: list[_Copy], per_call: int):
    """Split the copies into model calls of at most ``per_call`` rows: lists of pieces
    ``(copy, lo, hi)``; a copy may span several calls."""
    pieces: list[tuple[_Copy, int, int]] = []
    filled = 0
    for copy in copies:
        lo = 0
        while lo < copy.n_rows:
            take = min(copy.n_rows - lo, per_call - filled)
            pieces.append((copy, lo, lo + take))
            filled += take
            lo += take
            if filled == per_call:
                yield pieces
                pieces, filled = [], 0
    if pieces:
        yield pieces


__all__ = ["DEFAULT_CELLS_PER_CALL", "DEFAULT_MAX_MEMORY", "DRAW_KEY", "REPEAT_KEY", "TASK_KEY",
           "Hold", "Noise", "Permute", "Perturbation", "PerturbationEngine", "Statistic", "Task",
           "generator", "seed_from"]
