"""Engines: the shared machinery that methods are thin layers over.

:mod:`varimp.engines.perturb` evaluates many perturbed copies of ``X`` in batches under a memory
bound (input perturbation, permutation, improved stepwise selection); :mod:`varimp.engines.tasks`
says what to perturb and how.
"""

from .perturb import DEFAULT_CELLS_PER_CALL, DEFAULT_MAX_MEMORY, PerturbationEngine
from .tasks import (
    DRAW_KEY,
    REPEAT_KEY,
    TASK_KEY,
    Hold,
    Noise,
    Permute,
    SwitchCategory,
    Task,
    generator,
    seed_from,
)

__all__ = [
    "DEFAULT_CELLS_PER_CALL", "DEFAULT_MAX_MEMORY", "DRAW_KEY", "Hold", "Noise", "Permute",
    "PerturbationEngine", "REPEAT_KEY", "SwitchCategory", "TASK_KEY", "Task", "generator",
    "seed_from",
]
