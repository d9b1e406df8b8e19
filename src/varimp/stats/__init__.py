"""Is an importance more than chance, and would another training run give the same one?

Two answers by retraining, both built on :class:`varimp.engines.retrain.RetrainEngine`:

- :func:`randomization_test`: the randomization test of Olden & Jackson (2002). Networks are
  refitted on targets permuted across rows, which breaks every link between inputs and targets
  while keeping both distributions; the chosen method on each of these null networks gives the
  importance one sees by chance, and each variable's p-value is the share of null importances
  at least as large as the observed one. The test is valid only when the observed network and
  the null networks are trained by the same procedure: when varimp rebuilds a PyTorch or Keras
  network, the observed importance is that of one more network it trains, the same way, on the
  true targets.
- :func:`ensemble`: networks refitted with their own seeds (on bootstrap resamples of the rows
  by default); the mean importance, with its standard deviation and a t prediction interval
  for the importance of one more network trained the same way.

Any method of :func:`varimp.available_methods` runs on every refitted network, with the options
given (its ``random_state`` included, so that a random method draws the same numbers on every
network and the spread comes from training alone). The fits run sequentially, on joblib
processes (``n_jobs``) or on a Dask cluster (``backend="dask"``), with the same numbers on each.
"""

from .ensemble import ensemble
from .randomization import TEST_NAME, bh_adjusted, permutation_pvalues, randomization_test
from .refits import OBSERVED

__all__ = ["OBSERVED", "TEST_NAME", "bh_adjusted", "ensemble", "permutation_pvalues",
           "randomization_test"]
