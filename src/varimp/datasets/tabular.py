"""Tables with a known answer: the Olden, Joy & Death (2004) simulation and Friedman #1."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import InputError
from ..validation import (
    check_feature_names,
    check_positive_float,
    check_positive_int,
    check_random_state,
)

OLDEN_COEFFICIENTS = (0.8, 0.6, 0.4, 0.2, 0.0)


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

    The correlation structure in closed form, with ``S`` the input correlation matrix
    (1 on the diagonal, ``r = correlation`` off it) and ``b = coefficients``:

    - ``Var(y) = b' S b + noise**2``;
    - ``Corr(x_i, y) = (S b)_i / sqrt(Var(y))`` with ``(S b)_i = (1 - r) b_i + r sum(b)``.

    With the defaults (``r = 0.2``, ``noise = 0.5``): ``Var(y) = 2.01`` and the correlations of
    ``x1 .. x5`` with ``y`` are about 0.73, 0.62, 0.51, 0.39 and 0.28. Their order matches the
    true ranking because the inputs are equicorrelated, yet ``x5`` correlates at 0.28 with ``y``
    while its true contribution is 0. Least squares of ``y`` on ``X`` recovers ``b`` (the
    truth) as the sample grows; the true ranking is the order of ``|b|``.

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
    try:
        beta = np.asarray(coefficients, dtype=np.float64)
    except (TypeError, ValueError):
        beta = np.empty(0)
    if isinstance(coefficients, str) or beta.ndim != 1 or beta.size == 0 or \
            not np.all(np.isfinite(beta)):
        raise InputError(f"coefficients must be a non-empty list of finite numbers; received "
                         f"{coefficients!r}")
    p = beta.size
    low = -1.0 / (p - 1) if p > 1 else -1.0
    real = isinstance(correlation, numbers.Real) and not isinstance(correlation, bool)
    if not real or not low < correlation < 1:
        raise InputError(f"correlation must be a number in ({low:.4g}, 1) for {p} inputs "
                         f"(a valid correlation matrix); received {correlation!r}")
    noise = check_positive_float(noise, "noise", allow_zero=True)
    rng = check_random_state(random_state)
    cov = np.full((p, p), float(correlation))
    np.fill_diagonal(cov, 1.0)
    X = rng.standard_normal((n_samples, p)) @ np.linalg.cholesky(cov).T
    y = X @ beta + noise * rng.standard_normal(n_samples)
    return X, y, pd.Series(beta, index=list(check_feature_names(None, p, None)), name="truth")


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

    Parameters
    ----------
    n_samples : int
        Number of rows.
    noise : float
        Standard deviation of the additive Gaussian noise ``e`` (>= 0; 0 gives the noise-free
        response).
    random_state : int, numpy Generator or None
        Seed.

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
    return X, y, pd.Series(truth, index=list(check_feature_names(None, 10, None)), name="truth")


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
