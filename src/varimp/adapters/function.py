"""Adapter for any callable ``f(X) -> predictions`` on numpy arrays (model-agnostic methods)."""

from __future__ import annotations

import numpy as np

from .base import Adapter


class CallableAdapter(Adapter):
    """Calls the function on float64 numpy batches; gradients by central finite differences."""

    def _predict_batch(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self.model(X.copy()))
