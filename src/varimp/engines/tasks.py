"""What the perturbation engine is asked to do: which cells, perturbed how, with which seeds.

A :class:`Task` names the cells (feature columns, at every time step or at one) and the
perturbation function applied to them. The functions here are injected into the same engine,
as in Captum's design (permutation is ablation with another perturbation function):
:class:`Noise` (input perturbation), :class:`SwitchCategory` (input perturbation of a one-hot
group), :class:`Permute` (permutation importance) and :class:`Hold` (improved stepwise
selection); any callable ``f(block, rng) -> block`` works too.

Random numbers come from generators keyed by what they are for (:func:`generator`). A
perturbation draws its own numbers per copy (``Noise``: ``(seed, TASK_KEY, repeat, task)``)
unless it is *shared*: then it draws once per repeat (``Permute``: one permutation of the rows
from ``(seed, DRAW_KEY, repeat)``, used by every variable, cell and group of that repeat, as
scikit-learn's ``permutation_importance`` does). Either way a draw depends on the seed, the
repeat (and the task) only, never on ``batch_size``, ``max_memory`` or the order of evaluation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InputError
from ..validation import check_random_state, one_hot_codes

Perturbation = Callable[[np.ndarray, np.random.Generator], np.ndarray]
#: ``statistic(pred, reference, rows)``: ``pred`` the perturbed predictions of a copy
#: ``(m, n_steps, n_outputs)``, ``reference`` the unperturbed predictions of the same rows,
#: ``rows`` the row indices of the copy into ``X`` (None: all rows, in order).
Statistic = Callable[[np.ndarray, np.ndarray, "np.ndarray | None"], Any]


@dataclass(frozen=True)
class Noise:
    """Add Gaussian noise ``N(0, scale^2)``; ``scale`` is one number or one per task column."""

    scale: float | np.ndarray
    random = True

    def __call__(self, block: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return block + rng.standard_normal(block.shape) * np.asarray(self.scale)


@dataclass(frozen=True)
class SwitchCategory:
    """Move every row of a one-hot block to another observed category, drawn at random.

    ``codes`` are the observed categories of the block, as :func:`varimp.validation.one_hot_codes`
    numbers them (0: the reference, a row of zeros; ``j + 1``: member ``j``). Each row of the
    block (each cell of a sequence) leaves its own category for one of the other observed
    ones, all equally likely, so the perturbed input is again a valid one-hot block. With one
    observed category there is nowhere to go and the block is returned unchanged.
    """

    codes: tuple[int, ...]
    random = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "codes", tuple(sorted(int(c) for c in set(self.codes))))

    def __call__(self, block: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        codes = np.asarray(self.codes)
        if len(codes) < 2:
            return block.copy()
        own = one_hot_codes(block)
        if own is None:
            raise InputError("SwitchCategory perturbs one-hot blocks (0/1 values, at most one 1 "
                             "per row); received other values")
        position = np.searchsorted(codes, own)
        draw = rng.integers(0, len(codes) - 1, size=own.shape)
        new = codes[draw + (draw >= position)]  # skip the row's own category
        return (new[..., None] == np.arange(1, block.shape[-1] + 1)).astype(np.float64)


@dataclass(frozen=True)
class Permute:
    """Shuffle the rows of the block: every selected cell of a sample moves to another sample
    together (a variable's whole sequence, or one step of it), as in Breiman (2001).

    A shared perturbation: the engine draws one permutation of the rows per repeat
    (:meth:`draw`, from ``generator(seed, DRAW_KEY, repeat)``) and applies it to every task of
    that repeat (:meth:`apply`). Called directly, ``Permute()(block, rng)`` draws from ``rng``.
    """

    random = True
    shared = True

    def draw(self, n_rows: int, rng: np.random.Generator) -> np.ndarray:
        """The permutation of ``n_rows`` rows that every task of a repeat uses."""
        return rng.permutation(n_rows)

    def apply(self, block: np.ndarray, order: np.ndarray) -> np.ndarray:
        return block[order]

    def __call__(self, block: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return self.apply(block, self.draw(block.shape[0], rng))


@dataclass(frozen=True)
class Hold:
    """Hold the selected cells at a value (one number, one per task column, or any array that
    broadcasts to the block), e.g. the variable's mean (Gevrey et al. 2003)."""

    value: float | np.ndarray
    random = False

    def __call__(self, block: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return np.broadcast_to(np.asarray(self.value, dtype=np.float64), block.shape)


@dataclass(frozen=True)
class Task:
    """Which cells to perturb and how.

    Parameters
    ----------
    columns : sequence of int
        Feature columns perturbed together (one variable, or a group of features).
    how : callable
        ``how(block, rng) -> block``: receives the selected cells of every row of the copy and
        the copy's own generator; returns the perturbed cells (same shape). The block is
        ``(m, len(columns))`` for tables and for one step of a sequence, ``(m, T, len(columns))``
        for a sequence perturbed at every step. A *shared* perturbation (``shared = True``,
        like :class:`Permute`) also has ``draw(n_rows, rng)``, called once per repeat with
        ``generator(seed, DRAW_KEY, repeat)``, and ``apply(block, drawn)``, called per task.
    step : int or None
        Sequences only: perturb at this time step alone (None: at every step).
    """

    columns: tuple[int, ...]
    how: Perturbation
    step: int | None = None
    label: Any = field(default=None, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple(int(c) for c in self.columns))


def seed_from(random_state: object) -> int:
    """One integer seed drawn from ``random_state`` (int, Generator or None), up front."""
    return int(check_random_state(random_state).integers(0, 2**63 - 1))


#: First element of a generator key: the random numbers of a task's copy, a method's own
#: per-repeat draws (e.g. the row subsample of permutation's ``max_samples``), the draw a
#: shared perturbation makes once per repeat for all tasks (the permutation of ``Permute``), or
#: the row bootstrap of an interval (:func:`varimp.methods.measure.row_bootstrap`).
TASK_KEY, REPEAT_KEY, DRAW_KEY, BOOTSTRAP_KEY = 0, 1, 2, 3


def generator(seed: int, *key: int) -> np.random.Generator:
    """The generator of one unit of random work: ``generator(seed, TASK_KEY, repeat, task)``
    for the copies the engine runs, ``generator(seed, REPEAT_KEY, repeat)`` for a method's own
    per-repeat draws, ``generator(seed, DRAW_KEY, repeat)`` for a shared perturbation's draw.
    Keys never collide, so adding a task changes no other draw."""
    return np.random.default_rng([int(seed), *(int(k) for k in key)])
