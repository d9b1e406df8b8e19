"""Generated data sets whose true importance is known: the ground truth of the benchmarks.

Every generator returns ``(X, y, truth)``, is seeded by ``random_state`` and downloads nothing.
``truth`` is a :class:`pandas.Series` (one value per feature) for tables and a
:class:`pandas.DataFrame` (index = time step, 0 the oldest; columns = features) for sequences,
indexed by varimp's default feature names ``x1 .. xp``. Its scale is documented per generator;
compare rankings or relative values, not raw magnitudes, against a method's scores.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .errors import InputError
from .validation import check_positive_float, check_positive_int, check_random_state

OLDEN_COEFFICIENTS = (0.8, 0.6, 0.4, 0.2, 0.0)


def _names(n_features: int) -> list[str]:
    return [f"x{j + 1}" for j in range(n_features)]


def _time_truth(values: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(values, index=pd.RangeIndex(values.shape[0], name="time_step"),
                        columns=_names(values.shape[1]))


def olden_simulation(
    n_samples: int = 1000,
    *,
    coefficients: Sequence[float] = OLDEN_COEFFICIENTS,
    correlation: float = 0.2,
    noise: float = 0.5,
    random_state: object = None,
) -> tuple[np.ndarray, np.ndarray, pd.Series]:
    """Correlated inputs and a response with known contributions (after Olden et al. 2004).

    Olden, Joy & Death (2004) judged the importance methods on Monte Carlo data whose response
    was built from correlated predictors with a defined, decreasing strength, so that the true
    ranking of the inputs was known. This generator follows that design with a closed form:

    - ``X ~ N(0, S)`` with unit variances and every pair of inputs correlated at
      ``correlation`` (equicorrelation, so no input is singled out by the correlation structure);
    - ``y = X @ coefficients + noise * e`` with ``e ~ N(0, 1)``.

    Because the inputs have unit variance, ``coefficients`` are the standardized partial effects
    of the inputs on ``E[y | X]``. The default ``(0.8, 0.6, 0.4, 0.2, 0.0)`` gives the true
    ranking ``x1 > x2 > x3 > x4`` and an irrelevant ``x5`` that is still correlated with the
    relevant inputs (and therefore with ``y``): a method that confuses correlation with
    contribution ranks it above zero.

    Parameters
    ----------
    n_samples : int
        Number of rows.
    coefficients : sequence of float
        The true effect of each input; its length is the number of inputs.
    correlation : float
        Correlation between every pair of inputs, in ``(-1 / (p - 1), 1)``.
    noise : float
        Standard deviation of the additive Gaussian noise (>= 0).
    random_state : int, numpy Generator or None
        Seed.

    Returns
    -------
    X : ndarray of shape (n_samples, p)
    y : ndarray of shape (n_samples,)
    truth : pandas.Series
        ``coefficients`` (signed), indexed ``x1 .. xp``.

    References
    ----------
    Olden, J. D., Joy, M. K. & Death, R. G. (2004). An accurate comparison of methods for
    quantifying variable importance in artificial neural networks using simulated data.
    Ecological Modelling 178, 389-397.
    """
    n_samples = check_positive_int(n_samples, "n_samples")
    beta = np.asarray(coefficients, dtype=np.float64)
    if beta.ndim != 1 or beta.size == 0 or not np.all(np.isfinite(beta)):
        raise InputError(f"coefficients must be a non-empty list of finite numbers; received "
                         f"{coefficients!r}")
    p = beta.size
    low = -1.0 / (p - 1) if p > 1 else -1.0
    if not isinstance(correlation, int | float) or not low < correlation < 1:
        raise InputError(f"correlation must be a number in ({low:.4g}, 1) for {p} inputs "
                         f"(a valid correlation matrix); received {correlation!r}")
    noise = check_positive_float(noise, "noise", allow_zero=True)
    rng = check_random_state(random_state)
    cov = np.full((p, p), float(correlation))
    np.fill_diagonal(cov, 1.0)
    X = rng.standard_normal((n_samples, p)) @ np.linalg.cholesky(cov).T
    y = X @ beta + noise * rng.standard_normal(n_samples)
    return X, y, pd.Series(beta, index=_names(p), name="truth")


def product_threshold(
    n_sequences: int = 5000,
    n_timesteps: int = 10,
    *,
    threshold: float = 0.25,
    random_state: object = None,
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """The reference LSTM task: ``y[t] = 1`` when ``x1[t] * x2[t] < threshold``, else 0.

    Three features drawn uniform on ``[0, 1)`` at every step; the target at each step depends on
    that step's ``x1`` and ``x2`` only, so ``x3`` is irrelevant and ``x1``, ``x2`` are equally
    important (the task is symmetric in them).

    Returns
    -------
    X : ndarray of shape (n_sequences, n_timesteps, 3)
    y : ndarray of shape (n_sequences, n_timesteps)
        0.0 or 1.0: one target per step (sequence to sequence), as the reference LSTM predicts.
    truth : pandas.DataFrame of shape (n_timesteps, 3)
        1 for ``x1`` and ``x2`` at every step, 0 for ``x3``: each step's input matters to that
        step's output and to no other (``truth.sum()`` is the per-feature truth).
    """
    n_sequences = check_positive_int(n_sequences, "n_sequences")
    n_timesteps = check_positive_int(n_timesteps, "n_timesteps")
    threshold = check_positive_float(threshold, "threshold")
    rng = check_random_state(random_state)
    X = rng.random((n_sequences, n_timesteps, 3))
    y = (X[:, :, 0] * X[:, :, 1] < threshold).astype(np.float64)
    truth = np.tile([1.0, 1.0, 0.0], (n_timesteps, 1))
    return X, y, _time_truth(truth)


def friedman1(
    n_samples: int = 1000,
    *,
    noise: float = 1.0,
    random_state: object = None,
) -> tuple[np.ndarray, np.ndarray, pd.Series]:
    """Friedman's first benchmark: 10 uniform inputs, 5 of them relevant.

    ``y = 10 sin(pi x1 x2) + 20 (x3 - 0.5)^2 + 10 x4 + 5 x5 + noise * e`` with ``X ~ U[0, 1)^10``
    and ``e ~ N(0, 1)``; ``x6 .. x10`` do not enter ``y``.

    The truth is each input's total-effect variance (Homma & Saltelli 1996),
    ``E[Var(f(X) | X without x_i)]`` for the noise-free ``f``: with independent inputs this is
    half the expected increase in squared error when ``x_i`` is permuted, the quantity
    permutation importance estimates. In closed form: ``x4`` 100/12, ``x5`` 25/12, ``x3`` 400/180;
    ``x1`` and ``x2`` (equal by symmetry) by 64-point Gauss-Legendre quadrature, about 6.49;
    0 for ``x6 .. x10``.

    Returns
    -------
    X : ndarray of shape (n_samples, 10)
    y : ndarray of shape (n_samples,)
    truth : pandas.Series
        Total-effect variances, indexed ``x1 .. x10``.

    References
    ----------
    Friedman, J. H. (1991). Multivariate adaptive regression splines. Annals of Statistics 19(1).
    Homma, T. & Saltelli, A. (1996). Importance measures in global sensitivity analysis of
    nonlinear models. Reliability Engineering & System Safety 52, 1-17.
    """
    n_samples = check_positive_int(n_samples, "n_samples")
    noise = check_positive_float(noise, "noise", allow_zero=True)
    rng = check_random_state(random_state)
    X = rng.random((n_samples, 10))
    y = friedman1_function(X) + noise * rng.standard_normal(n_samples)
    truth = np.zeros(10)
    truth[0] = truth[1] = _friedman_interaction_total_effect()
    truth[2] = 400.0 / 180.0
    truth[3] = 100.0 / 12.0
    truth[4] = 25.0 / 12.0
    return X, y, pd.Series(truth, index=_names(10), name="truth")


def friedman1_function(X: np.ndarray) -> np.ndarray:
    """The noise-free Friedman #1 response for ``X`` of shape ``(n, >= 5)``."""
    return (10.0 * np.sin(np.pi * X[:, 0] * X[:, 1]) + 20.0 * (X[:, 2] - 0.5) ** 2
            + 10.0 * X[:, 3] + 5.0 * X[:, 4])


def _friedman_interaction_total_effect() -> float:
    """``E_x2[Var_x1(10 sin(pi x1 x2))]`` for independent ``U[0, 1)`` inputs, by quadrature."""
    nodes, weights = np.polynomial.legendre.leggauss(64)
    u, w = (nodes + 1.0) / 2.0, weights / 2.0  # mapped to [0, 1]
    g = 10.0 * np.sin(np.pi * np.outer(u, u))  # g[i, j] = g(x1 = u_i, x2 = u_j)
    mean = w @ g
    second = w @ g**2
    return float(w @ (second - mean**2))


def box_sequences(
    n_sequences: int = 1000,
    n_timesteps: int = 20,
    n_features: int = 4,
    *,
    steps: tuple[int, int] = (12, 16),
    features: Sequence[int] = (0, 1),
    noise: float = 0.1,
    random_state: object = None,
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """A sequence regression task whose signal sits in a known box of time steps x features.

    ``X ~ N(0, 1)`` of shape ``(n, T, p)`` and ``y = sum over t in [t0, t1), j in features of
    X[:, t, j] + noise * e``: one target per sequence. Every cell inside the box moves ``y``
    by the same amount; every cell outside it not at all.

    Parameters
    ----------
    steps : (int, int)
        The half-open range ``[t0, t1)`` of time steps carrying the signal (0 = the oldest).
    features : sequence of int
        The feature columns carrying the signal.

    Returns
    -------
    X : ndarray of shape (n_sequences, n_timesteps, n_features)
    y : ndarray of shape (n_sequences,)
    truth : pandas.DataFrame of shape (n_timesteps, n_features)
        The coefficient of every cell in ``y``: 1 inside the box, 0 outside.
    """
    n_sequences = check_positive_int(n_sequences, "n_sequences")
    n_timesteps = check_positive_int(n_timesteps, "n_timesteps")
    n_features = check_positive_int(n_features, "n_features")
    noise = check_positive_float(noise, "noise", allow_zero=True)
    try:
        t0, t1 = (int(v) for v in steps)
    except (TypeError, ValueError) as exc:
        raise InputError(f"steps must be a pair (t0, t1); received {steps!r}") from exc
    if not 0 <= t0 < t1 <= n_timesteps:
        raise InputError(f"steps must satisfy 0 <= t0 < t1 <= n_timesteps ({n_timesteps}); "
                         f"received {steps!r}")
    try:
        cols = sorted({int(j) for j in features})
    except (TypeError, ValueError) as exc:
        raise InputError(f"features must be column indices; received {features!r}") from exc
    if not cols or cols[0] < 0 or cols[-1] >= n_features:
        raise InputError(f"features must be column indices in 0..{n_features - 1}; received "
                         f"{features!r}")
    rng = check_random_state(random_state)
    X = rng.standard_normal((n_sequences, n_timesteps, n_features))
    truth = np.zeros((n_timesteps, n_features))
    truth[t0:t1, cols] = 1.0
    y = np.einsum("ntp,tp->n", X, truth) + noise * rng.standard_normal(n_sequences)
    return X, y, _time_truth(truth)


__all__ = ["box_sequences", "friedman1", "friedman1_function", "olden_simulation",
           "product_threshold"]
