"""What a perturbed copy of X is reduced to: an error against ``y``, or the change of the
predictions without it. Shared by every method built on the perturbation engine."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..engines import PerturbationEngine
from ..scoring import Scorer, align_targets, get_scorer
from ._common import resolve_output, resolve_step


class Measure:
    """What each perturbed copy is reduced to, on the selected outputs and predicted steps.

    With targets: the error (a loss, see :mod:`varimp.scoring`) of the perturbed predictions;
    :meth:`baseline` is the error of the unperturbed ones, and an importance is the increase.
    Without targets: the root mean square change of the predictions (over samples, predicted
    steps and selected outputs); the baseline is 0.
    """

    def __init__(self, engine: PerturbationEngine, y: np.ndarray | None, scoring: object,
                 output: object, output_step: object, adapter_names: Sequence | None = None):
        base = engine.base
        self.outputs = resolve_output(output, base.shape[2], adapter_names)
        self.step = resolve_step(output_step, base.shape[1])
        self.base = self.select(base)
        self.y = None if y is None else self.select(align_targets(y, base.shape))
        self.scorer: Scorer | None = None
        if self.y is not None:
            self.scorer = get_scorer(scoring, self.y, self.base)

    def select(self, pred: np.ndarray) -> np.ndarray:
        if self.step is not None:
            pred = pred[:, [self.step]]
        if len(self.outputs) == pred.shape[2]:  # all outputs, in order: no copy
            return pred
        return pred[..., self.outputs]

    @property
    def name(self) -> str:
        if self.scorer is None:
            return "rms change of predictions"
        return f"increase in error ({self.scorer.name})"

    def statistic(self, pred: np.ndarray, reference: np.ndarray, rows: np.ndarray | None
                  ) -> float:
        pred = self.select(pred)
        if self.scorer is None:
            return float(np.sqrt(np.mean((pred - self.select(reference)) ** 2)))
        return self.scorer.loss(self.y if rows is None else self.y[rows], pred)

    def baseline(self, rows: np.ndarray | None = None) -> float:
        """The loss of the unperturbed predictions (0 without targets)."""
        if self.scorer is None:
            return 0.0
        if rows is None:
            return self.scorer.loss(self.y, self.base)
        return self.scorer.loss(self.y[rows], self.base[rows])

    def value(self, rows: np.ndarray | None = None) -> float | None:
        """The unperturbed score in its own direction (e.g. R2, not its negative)."""
        if self.scorer is None:
            return None
        loss = self.baseline(rows)
        return -loss if self.scorer.greater_is_better else loss
