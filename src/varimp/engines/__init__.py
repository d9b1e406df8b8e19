"""Engines: the shared machinery that methods are thin layers over.

:mod:`varimp.engines.perturb` evaluates many perturbed copies of ``X`` in batches under a memory
bound (input perturbation, permutation, improved stepwise selection); :mod:`varimp.engines.tasks`
says what to perturb and how. :mod:`varimp.engines.retrain` runs many independent fits
(stepwise selection, randomization tests, ensembles) sequentially, on joblib processes or on a
Dask cluster.
"""

from .perturb import DEFAULT_CELLS_PER_CALL, DEFAULT_MAX_MEMORY, PerturbationEngine
from .retrain import FitData, FitTask, RetrainEngine
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
    "DEFAULT_CELLS_PER_CALL", "DEFAULT_MAX_MEMORY", "DRAW_KEY", "FitData", "FitTask", "Hold",
    "Noise", "Permute", "PerturbationEngine", "REPEAT_KEY", "RetrainEngine", "SwitchCategory",
    "TASK_KEY", "Task", "generator", "seed_from",
]
