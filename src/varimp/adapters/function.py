"""Adapter for any callable ``f(X) -> predictions`` on numpy arrays (model-agnostic methods)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..errors import InputError
from .base import Adapter, _is_torch_tensor, float64_array


class CallableAdapter(Adapter):
    """Calls the function on float64 numpy batches; gradients by central finite differences."""

    #: The half-precision dtype the function last returned, if any (see :meth:`gradient`).
    half_precision: str | None = None

    def _predict_batch(self, X: np.ndarray) -> np.ndarray:
        out = self.model(X.copy())
        dtype = str(getattr(out, "dtype", "")).rsplit(".", 1)[-1]
        self.half_precision = dtype if dtype in ("float16", "bfloat16") else None
        # a torch tensor (perhaps on a GPU, perhaps requiring grad) is read by its own methods
        return float64_array(out) if _is_torch_tensor(out) else np.asarray(out)

    def gradient(
        self, X: np.ndarray, output: int, step: int | None = None, batch_size: int | None = None,
        on_rows: Callable[[float], object] | None = None,
    ) -> np.ndarray:
        """Central finite differences (:meth:`Adapter.gradient`), refused for a function that
        returns half-precision values (float16, bfloat16): their resolution (1e-3 and 8e-3
        relative) is coarser than the step, so the differences would be rounding noise."""
        grad = super().gradient(X, output, step, batch_size, on_rows)
        if self.half_precision is not None:  # read from the calls just made: no extra call
            raise InputError(f"the function returns {self.half_precision} predictions, too "
                             "coarse for derivatives by finite differences (steps of 1e-4 "
                             "relative): return float32 or float64 from it, or give the torch "
                             "module itself (exact derivatives by autograd)")
        return grad
