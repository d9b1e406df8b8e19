"""What a perturbed copy of X is reduced to: an error against ``y``, or the change of the
predictions without it. Shared by every method built on the perturbation engine."""

from __future__ import annotations

import numpy as np

from ..scoring import Evaluation, check_probabilities, read_targets
from ._common import Setup, output_names, resolve_output, resolve_step


class Measure:
    """What each perturbed copy is reduced to, on the selected outputs and predicted steps.

    With targets: the error (a loss, see :mod:`varimp.scoring`) of the perturbed predictions;
    :meth:`baseline` is the error of the unperturbed ones, and an importance is the increase
    (the result's kind is ``"loss"``). Without targets: the root mean square change of the
    predictions over samples and predicted steps, for every selected output, averaged over the
    selected outputs (the rule every method follows for several outputs); the baseline is 0.

    The output kind, the targets and the scorer are decided once, by :meth:`build`; a method
    that moves its reference (improved stepwise 2) keeps them with :meth:`rebase`.
    """

    def __init__(self, base: np.ndarray, evaluation: Evaluation | None, outputs: list[int],
                 step: int | None):
        self.base, self.evaluation = base, evaluation
        self.outputs, self.step = outputs, step

    @classmethod
    def build(cls, setup: Setup, base: np.ndarray, scoring: object, output: object,
              output_step: object) -> Measure:
        """The measure for the unperturbed predictions ``base`` ``(n, steps, outputs)``."""
        adapter, data = setup.adapter, setup.data
        outputs = resolve_output(output, base.shape[2],
                                 output_names(adapter, data, base.shape[2]))
        step = resolve_step(output_step, base.shape[1])
        evaluation = None
        if data.y is not None:
            kind = adapter.output_kind
            targets = read_targets(data.y, base.shape, kind, adapter.classes)
            if kind == "probability":
                check_probabilities(base)
            evaluation = Evaluation(scoring, targets, outputs, step, base.shape[2])
        return cls(base, evaluation, outputs, step)

    def rebase(self, base: np.ndarray) -> Measure:
        """The same measure against other unperturbed predictions."""
        return Measure(base, self.evaluation, self.outputs, self.step)

    @property
    def kind(self) -> str:
        return "magnitude" if self.evaluation is None else "loss"

    @property
    def name(self) -> str:
        if self.evaluation is None:
            return "rms change of predictions"
        return self.evaluation.measure

    @property
    def greater_is_better(self) -> bool:
        return self.evaluation is not None and self.evaluation.greater_is_better

    def _select(self, pred: np.ndarray) -> np.ndarray:
        if self.step is not None:
            pred = pred[:, [self.step]]
        return pred[..., self.outputs]

    def statistic(self, pred: np.ndarray, reference: np.ndarray, rows: np.ndarray | None
                  ) -> float:
        if self.evaluation is None:
            return float(self.changes(pred, reference, rows).mean())
        return self.evaluation.loss(pred, rows)

    @property
    def per_output(self) -> bool:
        """Without targets and with several outputs selected, every output is measured on
        its own (:meth:`changes`) and the score is their mean."""
        return self.evaluation is None and len(self.outputs) > 1

    def changes(self, pred: np.ndarray, reference: np.ndarray, rows: np.ndarray | None
                ) -> np.ndarray:
        """The RMS change of every selected output (a statistic with one value per output)."""
        change = self._select(pred) - self._select(reference)
        return np.sqrt(np.mean(change**2, axis=(0, 1)))

    def baseline(self, rows: np.ndarray | None = None) -> float:
        """The loss of the unperturbed predictions (0 without targets)."""
        if self.evaluation is None:
            return 0.0
        return self.evaluation.loss(self.base if rows is None else self.base[rows], rows)

    def value(self, rows: np.ndarray | None = None) -> float | None:
        """The unperturbed error or score in its own direction (an MSE, an R2, an accuracy)."""
        if self.evaluation is None:
            return None
        return self.natural(self.baseline(rows))

    def natural(self, loss: float) -> float:
        """A loss as the measure in its own direction: an R2 or accuracy is ``-loss``, an
        error such as the MSE is the loss itself."""
        return -loss if self.greater_is_better else loss
