"""Framework-specific global random state that a seeded fit must start afresh.

The retraining engine seeds the generators every fit may draw from
(:func:`varimp.engines.worker.global_seed`); the ones that live inside a framework's private
modules are handled here, by the adapters' side, so that the engine imports no framework.

Keras 3 keeps a global :class:`keras.random.SeedGenerator` per thread (``keras.random`` calls
without ``seed``: dropout, noise), made on first use from Python's ``random`` and then
advancing. A fit seeded from its own seed must not continue from another fit's draws, so the
engine removes it for the fit (Keras makes a new one from the seeded ``random``) and puts the
caller's back afterwards (:func:`swap_keras_seed_generator`).
"""

from __future__ import annotations

import sys
from typing import Any

#: Where Keras 3 keeps its global (per-thread) seed generator, and under which name.
KERAS_STATE = "keras.src.backend.common.global_state"
KERAS_GENERATOR = "global_seed_generator"


def swap_keras_seed_generator(generator: Any) -> Any:
    """Set this thread's Keras global seed generator to ``generator`` (None: none, Keras makes
    one on first use); return the previous one. Does nothing, and returns None, while Keras
    is not imported (a fit importing Keras in its body makes its generator afresh anyway)."""
    module = sys.modules.get(KERAS_STATE)
    if module is None:
        return None
    previous = module.get_global_attribute(KERAS_GENERATOR)
    module.set_global_attribute(KERAS_GENERATOR, generator)
    return previous


__all__ = ["KERAS_GENERATOR", "KERAS_STATE", "swap_keras_seed_generator"]
