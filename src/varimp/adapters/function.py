"""Adapter for any callable ``f(X) -> predictions`` on numpy arrays (model-agnostic methods)."""

from __future__ import annotations

import numpy as np

from .base import Adapter, _is_torch_tensor, float64_array


class CallableAdapter(Adapter):
    """Calls the function on float64 numpy batches; gradients by central finite differences."""

    def _predict_batch(self, X: np.ndarray) -> np.ndarray:
        out = self.model(X.copy())
        # a torch tensor (perhaps on a GPU, perhaps requiring grad) is read by its own methods
        return float64_array(out) if _is_torch_tensor(out) else np.asarray(out)
