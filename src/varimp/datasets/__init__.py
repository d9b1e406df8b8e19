"""Generated data sets whose true importance is known: the ground truth of the benchmarks.

Every generator returns ``(X, y, truth)``, is seeded by ``random_state`` and downloads nothing.
``truth`` is a :class:`pandas.Series` (one value per feature) for tables and a
:class:`pandas.DataFrame` (index = time step, 0 the oldest; columns = features) for sequences,
indexed by varimp's default feature names ``x1 .. xp``. Its scale is documented per generator;
compare rankings or relative values, not raw magnitudes, against a method's scores.
"""

from .hidden import spike, state_switching
from .sequences import (
    BOX_LAYOUTS,
    BOX_PROCESSES,
    BOX_SIGNALS,
    HARMONIC_FREQUENCIES,
    box_sequences,
    product_threshold,
)
from .tabular import OLDEN_COEFFICIENTS, friedman1, friedman1_function, olden_simulation

__all__ = ["BOX_LAYOUTS", "BOX_PROCESSES", "BOX_SIGNALS", "HARMONIC_FREQUENCIES",
           "OLDEN_COEFFICIENTS", "box_sequences", "friedman1", "friedman1_function",
           "olden_simulation", "product_threshold", "spike", "state_switching"]
