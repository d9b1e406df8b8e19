"""What the perturbation engine is asked to do: which cells, perturbed how, with which seeds.

A :class:`Task` names the cells (feature columns, at every time step or at one) and the
perturbation function applied to them. The functions here are injected into the same engine,
as in Captum's design (permutation is ablation with another perturbation function):
:class:`Noise` (input perturbation), :class:`Permute` (permutation importance) and :class:`Hold`
(improved stepwise selection); any callable ``f(block, rng) -> block`` works too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..validation import check_random_state

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
class Permute:
    """Shuffle the rows of the block: every selected cell of a sample moves to another sample
    together (a variable's whole sequence, or one step of it), as in Breiman (2001)."""

    random = True

    def __call__(self, block: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return block[rng.permutation(block.shape[0])]


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
        for a sequence perturbed at every step.
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


#: First element of a generator key: the random numbers of a task's copy, or a method's own
#: per-repeat draws (e.g. the row subsample of permutation's ``max_samples``).
TASK_KEY, REPEAT_KEY = 0, 1


def generator(seed: int, *key: int) -> np.random.Generator:
    """The generator of one unit of random work: ``generator(seed, TASK_KEY, repeat, task)``
    for the copies the engine runs, ``generator(seed, REPEAT_KEY, repeat)`` for a method's own
    per-repeat draws. Keys never collide, so adding a task changes no other draw."""
    return np.random.default_rng([int(seed), *(int(k) for k in key)])
