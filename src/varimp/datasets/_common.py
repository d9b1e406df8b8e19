"""What the generators share: default feature names and the time x feature truth table."""

from __future__ import annotations

import numpy as np
import pandas as pd


def feature_names(n_features: int) -> list[str]:
    """varimp's default names ``x1 .. xp``."""
    return [f"x{j + 1}" for j in range(n_features)]


def time_truth(values: np.ndarray) -> pd.DataFrame:
    """A time x feature truth table (index = time step, 0 the oldest)."""
    return pd.DataFrame(values, index=pd.RangeIndex(values.shape[0], name="time_step"),
                        columns=feature_names(values.shape[1]))


def sigmoid(z: np.ndarray) -> np.ndarray:
    """The logistic function, without overflow."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))
