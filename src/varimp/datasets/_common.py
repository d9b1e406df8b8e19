"""What the generators share: the time x feature truth table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..validation import check_feature_names


def time_truth(values: np.ndarray) -> pd.DataFrame:
    """A time x feature truth table (index = time step, 0 the oldest; columns varimp's default
    names ``x1 .. xp``)."""
    return pd.DataFrame(values, index=pd.RangeIndex(values.shape[0], name="time_step"),
                        columns=list(check_feature_names(None, values.shape[1], None)))
