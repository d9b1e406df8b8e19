"""Generated data sets whose true importance is known: the ground truth of the benchmarks.

Every generator returns ``(X, y, truth)``, is seeded by ``random_state`` and downloads nothing.
``truth`` is a :class:`pandas.Series` (one value per feature) for tables and a
:class:`pandas.DataFrame` (index = time step, 0 the oldest; columns = features) for sequences,
indexed by varimp's default feature names ``x1 .. xp``. Its scale is documented per generator;
compare rankings or relative values, not raw magnitudes, against a method's scores.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .errors import InputError
from .validation import (
    check_choice,
    check_positive_float,
    check_positive_int,
    check_random_state,
)

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


#: The layouts, base processes and signal designs of :func:`box_sequences`.
BOX_LAYOUTS = ("middle", "rare_feature", "rare_time", "moving")
BOX_PROCESSES = ("gaussian", "ar", "harmonic")
BOX_SIGNALS = ("sum", "shift")
#: Frequencies of the ``"harmonic"`` process, in cycles per time step (uniform between them).
HARMONIC_FREQUENCIES = (0.05, 0.25)


def box_sequences(
    n_sequences: int = 1000,
    n_timesteps: int = 20,
    n_features: int = 4,
    *,
    layout: str = "middle",
    process: str = "gaussian",
    signal: str | None = None,
    steps: tuple[int, int] | None = None,
    features: Sequence[int] | None = None,
    noise: float = 0.1,
    shift: float = 1.0,
    phi: float = 0.8,
    random_state: object = None,
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """Sequences whose signal sits in a known box of time steps x features (after Ismail 2020).

    The design of Ismail et al. (2020): a base process fills every cell, and a box of cells
    carries the signal. Three choices make a data set:

    **Layout** (where the box is; ``T`` steps, ``p`` features, ``//`` integer division):

    - ``"middle"``: steps ``[3T // 5, 4T // 5)`` of ``x1`` and ``x2`` (``x1`` alone when
      ``p = 1``); ``T = 20``: steps 12..15 (earlier versions used 12..15 whatever ``T``);
    - ``"rare_feature"``: one feature, ``x1``, over most steps, ``[T // 5, T - T // 5)``;
    - ``"rare_time"``: one step, ``T // 2``, in most features, the first ``p - p // 4``;
    - ``"moving"``: a box as long and as wide as the middle one whose first step is drawn per
      sequence, uniform on ``0 .. T - length``: the truth differs from sample to sample.

    ``steps=(t0, t1)`` and ``features=`` replace the layout's steps and features (for
    ``"moving"``, ``t1 - t0`` is the box's length; its position is still drawn).

    **Base process** of every cell, each feature and sequence independent, unit variance:

    - ``"gaussian"``: ``N(0, 1)`` white noise;
    - ``"ar"``: AR(1) along time, ``X[t] = phi X[t - 1] + sqrt(1 - phi**2) e[t]`` started from
      ``X[0] = e[0]`` (stationary from the first step, lag-1 autocorrelation ``phi``);
    - ``"harmonic"``: ``sqrt(1.5) sin(2 pi f t + a) + 0.5 e[t]`` with a frequency ``f``
      uniform on :data:`HARMONIC_FREQUENCIES` (cycles per step) and a phase ``a`` uniform on
      ``[0, 2 pi)`` per sequence and feature; ``e ~ N(0, 1)``.

    **Signal** (what the box does):

    - ``"sum"`` (regression): ``y = sum of the box's cells + noise * e``; every box cell moves
      ``y`` by the same amount, every other cell not at all. Not for ``"moving"``: no model can
      tell where the box of a sequence is, so the target cannot be learnt.
    - ``"shift"`` (classification, Ismail et al.'s design): a label ``y`` in ``{0, 1}`` is drawn
      with probability 1/2, and every box cell is shifted by ``+shift`` when ``y = 1`` and
      ``-shift`` when ``y = 0``. The box's cells are the only ones whose distribution depends
      on the label. ``noise`` is not used. With a moving box every step of the box's features
      still has a class mean of ``+-shift`` times the chance that the box covers it, so a
      linear read of all those cells (their sum) classifies almost as well as finding the box:
      a network may learn that, and then no per-sample explanation of it can single out the
      box (see ``docs/methods.md``).

    Default: ``"sum"``, and ``"shift"`` for ``"moving"``. With the defaults (middle, gaussian,
    sum) the data are those of earlier versions for the same seed.

    Parameters
    ----------
    n_sequences, n_timesteps, n_features : int
        Shape of ``X``.
    layout : {"middle", "rare_feature", "rare_time", "moving"}
    process : {"gaussian", "ar", "harmonic"}
    signal : {"sum", "shift"} or None
    steps : (int, int) or None
        The half-open range ``[t0, t1)`` of time steps carrying the signal (0 = the oldest).
    features : sequence of int or None
        The feature columns carrying the signal.
    noise : float
        ``"sum"``: standard deviation of the noise added to ``y`` (>= 0).
    shift : float
        ``"shift"``: the shift of the box's cells (> 0).
    phi : float
        ``"ar"``: the autoregressive coefficient, in ``(-1, 1)``.
    random_state : int, numpy Generator or None
        Seed.

    Returns
    -------
    X : ndarray of shape (n_sequences, n_timesteps, n_features)
    y : ndarray of shape (n_sequences,)
        Real numbers (``"sum"``) or 0.0 / 1.0 (``"shift"``).
    truth : pandas.DataFrame of shape (n_timesteps, n_features)
        1 inside the box and 0 outside (for ``"sum"``, the coefficient of every cell in
        ``y``). ``"moving"``: the share of sequences whose box holds each cell (the per-sample
        mask averaged over samples), with ``truth.attrs["mask"]``, a bool ndarray
        ``(n_sequences, n_timesteps, n_features)`` (each sequence's box), and
        ``truth.attrs["start"]``, an int ndarray ``(n_sequences,)`` (each box's first step);
        clear ``truth.attrs`` on a copy before concatenating such frames.

    References
    ----------
    Ismail, A. A., Gunady, M., Corrada Bravo, H. & Feizi, S. (2020). Benchmarking deep
    learning interpretability in time series predictions. NeurIPS.
    """
    n_sequences = check_positive_int(n_sequences, "n_sequences")
    n_timesteps = check_positive_int(n_timesteps, "n_timesteps")
    n_features = check_positive_int(n_features, "n_features")
    layout = check_choice(layout, "layout", BOX_LAYOUTS)
    process = check_choice(process, "process", BOX_PROCESSES)
    default_signal = "shift" if layout == "moving" else "sum"
    signal = check_choice(default_signal if signal is None else signal, "signal", BOX_SIGNALS)
    if layout == "moving" and signal == "sum":
        raise InputError("signal 'sum' cannot be learnt with layout 'moving' (the model cannot "
                         "know where a sequence's box is): use signal='shift'")
    noise = check_positive_float(noise, "noise", allow_zero=True)
    shift = check_positive_float(shift, "shift")
    if isinstance(phi, bool) or not isinstance(phi, numbers.Real) or not -1.0 < phi < 1.0:
        raise InputError(f"phi must be a number in (-1, 1) (a stationary AR(1)); received "
                         f"{phi!r}")
    (t0, t1), cols = _box(layout, n_timesteps, n_features, steps, features)
    rng = check_random_state(random_state)
    shape = (n_sequences, n_timesteps, n_features)
    X = _base_process(process, shape, float(phi), rng)
    mask = np.zeros(shape, dtype=bool)
    if layout == "moving":
        start = rng.integers(0, n_timesteps - (t1 - t0) + 1, n_sequences)
        inside = (np.arange(n_timesteps) >= start[:, None]) & \
            (np.arange(n_timesteps) < start[:, None] + t1 - t0)
        mask[:, :, cols] = inside[:, :, None]
    else:
        mask[:, t0:t1, cols] = True
    if signal == "sum":
        y = np.einsum("ntp,tp->n", X, mask[0].astype(np.float64)) + \
            noise * rng.standard_normal(n_sequences)
    else:
        y = (rng.random(n_sequences) < 0.5).astype(np.float64)
        X += np.where(mask, shift * (2.0 * y - 1.0)[:, None, None], 0.0)
    truth = _time_truth(mask.mean(axis=0))
    if layout == "moving":
        truth.attrs["mask"] = mask
        truth.attrs["start"] = start
    return X, y, truth


def _box(layout: str, n_timesteps: int, n_features: int, steps: object, features: object
         ) -> tuple[tuple[int, int], list[int]]:
    """The box's steps ``(t0, t1)`` and feature columns: the layout's, or those given."""
    T, p = n_timesteps, n_features
    if steps is None:
        steps = {"rare_feature": (T // 5, T - T // 5),
                 "rare_time": (T // 2, T // 2 + 1)}.get(layout, (3 * T // 5, 4 * T // 5))
        steps = (min(steps[0], T - 1), max(steps[1], min(steps[0], T - 1) + 1))
    if features is None:
        features = {"rare_feature": (0,), "rare_time": range(p - p // 4)}.get(
            layout, range(min(2, p)))
    try:
        t0, t1 = (int(v) for v in steps)
    except (TypeError, ValueError) as exc:
        raise InputError(f"steps must be a pair (t0, t1); received {steps!r}") from exc
    if not 0 <= t0 < t1 <= T:
        raise InputError(f"steps must satisfy 0 <= t0 < t1 <= n_timesteps ({T}); received "
                         f"{steps!r}")
    try:
        cols = sorted({int(j) for j in features})
    except (TypeError, ValueError) as exc:
        raise InputError(f"features must be column indices; received {features!r}") from exc
    if not cols or cols[0] < 0 or cols[-1] >= p:
        raise InputError(f"features must be column indices in 0..{p - 1}; received "
                         f"{features!r}")
    return (t0, t1), cols


def _base_process(process: str, shape: tuple[int, int, int], phi: float,
                  rng: np.random.Generator) -> np.ndarray:
    """Every cell of ``X`` from the base process, unit variance (see :func:`box_sequences`)."""
    if process == "gaussian":
        return rng.standard_normal(shape)
    if process == "ar":
        X = rng.standard_normal(shape)
        scale = np.sqrt(1.0 - phi**2)
        for t in range(1, shape[1]):
            X[:, t] = phi * X[:, t - 1] + scale * X[:, t]
        return X
    n, T, p = shape
    frequency = rng.uniform(*HARMONIC_FREQUENCIES, (n, 1, p))
    phase = rng.uniform(0.0, 2.0 * np.pi, (n, 1, p))
    wave = np.sin(2.0 * np.pi * frequency * np.arange(T)[None, :, None] + phase)
    return np.sqrt(1.5) * wave + 0.5 * rng.standard_normal(shape)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def state_switching(
    n_samples: int = 1000,
    n_timesteps: int = 20,
    n_features: int = 3,
    *,
    n_states: int = 2,
    persistence: float = 0.9,
    window: int = 3,
    shift: float = 2.0,
    scale: float = 3.0,
    random_state: object = None,
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """A hidden Markov state decides which feature drives the label (after Tonekaboni et al. 2020).

    In the spirit of the HMM benchmark of Tonekaboni et al. (2020), used by time_interpret (tint):
    the feature that matters changes with a hidden state, so a method has to say *which* cell
    mattered for *this* sample, not only which feature matters on average. The generative
    process, per sample:

    1. **State chain.** ``s[0]`` is uniform on ``{0, .., n_states - 1}``; at each later step the
       chain stays in its state with probability ``persistence`` and otherwise jumps to one of
       the other states, uniformly (expected run length ``1 / (1 - persistence)`` steps).
    2. **Features.** ``X[t, j] = e[t, j] + shift * [j == s[t]]`` with ``e ~ N(0, 1)``: state ``k``
       raises the mean of feature ``k`` (feature ``x{k+1}``), which is what makes the hidden state
       visible in the input. Features ``n_states .. p - 1`` are never driven: pure noise.
    3. **Label.** One binary label per sequence, at the last step. Let ``s = s[T - 1]`` be the
       final state and ``R`` the steps of the final run of that state that lie in the last
       ``window`` steps (``k = |R|``, between 1 and ``window``). Then
       ``P(y = 1) = sigmoid(scale * sum over t in R of (X[t, s] - shift) / sqrt(k))`` and
       ``y ~ Bernoulli(P)``. The centred sum is ``N(0, 1)`` whatever ``k``, so ``P`` is symmetric
       about 1/2 and about half the labels are 1.

    The label depends on the cells ``(t, s)`` for ``t`` in ``R`` and on no other cell: those cells
    are the per-sample truth. (Other cells carry information about the state, as in the
    original benchmark, but their values do not enter ``P``.)

    Parameters
    ----------
    n_samples, n_timesteps, n_features : int
        Shape of ``X``; ``n_features >= n_states``.
    n_states : int
        Number of hidden states (>= 2); state ``k`` drives feature ``k``.
    persistence : float
        Probability in ``[0, 1)`` that the chain stays in its state from one step to the next.
    window : int
        At most this many final steps enter the label (``1 <= window <= n_timesteps``).
    shift : float
        Mean shift of the driven feature (>= 0).
    scale : float
        Slope of the logit (> 0); larger is a less noisy label.
    random_state : int, numpy Generator or None
        Seed.

    Returns
    -------
    X : ndarray of shape (n_samples, n_timesteps, n_features)
    y : ndarray of shape (n_samples,)
        0.0 or 1.0.
    truth : pandas.DataFrame of shape (n_timesteps, n_features)
        The share of samples in which each cell enters the label (the per-sample mask averaged
        over samples). Extras in ``truth.attrs``:

        - ``"mask"``: bool ndarray ``(n_samples, n_timesteps, n_features)``, the cells that enter
          each sample's label;
        - ``"states"``: int ndarray ``(n_samples, n_timesteps)``, the hidden states;
        - ``"probability"``: ndarray ``(n_samples,)``, ``P(y = 1)`` for each sample.

        ``truth.attrs`` holds arrays, which ``pandas.concat`` cannot compare: clear them
        (``truth.attrs = {}`` on a copy) before concatenating such frames.

    References
    ----------
    Tonekaboni, S., Joshi, S., Campbell, K., Duvenaud, D. & Goldenberg, A. (2020). What went
    wrong and when? Instance-wise feature importance for time-series black-box models. NeurIPS.
    Enguehard, J. (2023). Time Interpret: a unified model interpretability library for time
    series. arXiv:2306.02968.
    """
    n_samples = check_positive_int(n_samples, "n_samples")
    n_timesteps = check_positive_int(n_timesteps, "n_timesteps")
    n_features = check_positive_int(n_features, "n_features")
    n_states = check_positive_int(n_states, "n_states", minimum=2)
    if n_states > n_features:
        raise InputError(f"n_states ({n_states}) must not exceed n_features ({n_features}): "
                         f"state k drives feature k")
    persistence = check_positive_float(persistence, "persistence", allow_zero=True)
    if persistence >= 1.0:
        raise InputError(f"persistence must be in [0, 1); received {persistence!r}")
    window = check_positive_int(window, "window")
    if window > n_timesteps:
        raise InputError(f"window ({window}) must not exceed n_timesteps ({n_timesteps})")
    shift = check_positive_float(shift, "shift", allow_zero=True)
    scale = check_positive_float(scale, "scale")
    rng = check_random_state(random_state)

    states = np.empty((n_samples, n_timesteps), dtype=np.int64)
    states[:, 0] = rng.integers(0, n_states, n_samples)
    stay = rng.random((n_samples, n_timesteps)) < persistence
    jump = rng.integers(1, n_states, (n_samples, n_timesteps))
    for t in range(1, n_timesteps):
        states[:, t] = np.where(stay[:, t], states[:, t - 1], (states[:, t - 1] + jump[:, t])
                                % n_states)
    driven = states[:, :, None] == np.arange(n_features)
    X = rng.standard_normal((n_samples, n_timesteps, n_features)) + shift * driven

    final = states[:, -1]
    rows = np.arange(n_samples)
    mask = np.zeros((n_samples, n_timesteps, n_features), dtype=bool)
    in_run = np.ones(n_samples, dtype=bool)
    for t in range(n_timesteps - 1, n_timesteps - 1 - window, -1):
        in_run &= states[:, t] == final
        mask[rows[in_run], t, final[in_run]] = True
    count = mask.sum(axis=(1, 2))
    centred = np.where(mask, X - shift, 0.0).sum(axis=(1, 2)) / np.sqrt(count)
    probability = _sigmoid(scale * centred)
    y = (rng.random(n_samples) < probability).astype(np.float64)

    truth = _time_truth(mask.mean(axis=0))
    truth.attrs["mask"] = mask
    truth.attrs["states"] = states
    truth.attrs["probability"] = probability
    return X, y, truth


def spike(
    n_samples: int = 1000,
    n_timesteps: int = 20,
    n_features: int = 3,
    *,
    spike_probability: float = 0.5,
    delay: int = 0,
    height: float = 3.0,
    noise: float = 0.3,
    distractors: bool = True,
    random_state: object = None,
) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """The label turns on after a spike in feature ``x1`` (after Leung et al. 2023, WinIT).

    The spike task of FIT (Tonekaboni et al. 2020) as used, with a delay, by WinIT (Leung et al.
    2023). Per sample:

    1. **Background.** ``X[t, j] = noise * e[t, j]`` with ``e ~ N(0, 1)`` clipped to ``[-1, 1]``,
       so no background cell reaches ``height / 2`` when ``noise < height / 2``.
    2. **Spike.** With probability ``spike_probability`` feature ``x1`` gets one spike: at a step
       ``t_s`` uniform on ``{0, .., T - 1 - delay}``, ``X[t_s, 0] += height``. With
       ``distractors``, every other feature independently gets a spike of the same height, with
       the same probability, at a step uniform on ``{0, .., T - 1}``; these never move the label.
    3. **Label.** One label per step: ``y[t] = 1`` when ``x1`` has a cell above ``height / 2`` at
       some step ``u <= t - delay``, else 0. So ``y`` is 0 before ``t_s + delay`` and 1 from
       then on; a sample without a spike in ``x1`` has ``y = 0`` throughout.

    The per-sample truth is the spike cell ``(t_s, x1)``: it is the only cell whose value turns
    the label on (the cells after it, up to where the label turns on, are background and
    change nothing). Samples without a spike in ``x1`` have an empty mask.

    Parameters
    ----------
    n_samples, n_timesteps, n_features : int
        Shape of ``X``.
    spike_probability : float
        Probability that a sample has a spike in ``x1`` (and in each distractor), in ``[0, 1]``.
    delay : int
        Steps from the spike to the label turning on (``0 <= delay < n_timesteps``).
    height : float
        Height of a spike (> 0); the detection threshold is ``height / 2``.
    noise : float
        Scale of the background, ``0 <= noise < height / 2``.
    distractors : bool
        Whether the other features get spikes that do not matter.
    random_state : int, numpy Generator or None
        Seed.

    Returns
    -------
    X : ndarray of shape (n_samples, n_timesteps, n_features)
    y : ndarray of shape (n_samples, n_timesteps)
        0.0 or 1.0, one target per step (sequence to sequence). The share of ones is
        ``spike_probability * (T - delay + 1) / (2 T)`` in expectation.
    truth : pandas.DataFrame of shape (n_timesteps, n_features)
        The share of samples whose spike in ``x1`` sits at each step (the per-sample mask
        averaged over samples; 0 for the other features). Extras in ``truth.attrs``:

        - ``"mask"``: bool ndarray ``(n_samples, n_timesteps, n_features)``, the spike cell of
          each sample (all False without a spike);
        - ``"spike_step"``: int ndarray ``(n_samples,)``, ``t_s``, or -1 without a spike.

        ``truth.attrs`` holds arrays, which ``pandas.concat`` cannot compare: clear them on a
        copy before concatenating such frames.

    References
    ----------
    Tonekaboni, S., Joshi, S., Campbell, K., Duvenaud, D. & Goldenberg, A. (2020). What went
    wrong and when? Instance-wise feature importance for time-series black-box models. NeurIPS.
    Leung, K. K., Rooke, C., Smith, J., Zuberi, S. & Volkovs, M. (2023). Temporal dependencies in
    feature importance for time series prediction. ICLR.
    """
    n_samples = check_positive_int(n_samples, "n_samples")
    n_timesteps = check_positive_int(n_timesteps, "n_timesteps")
    n_features = check_positive_int(n_features, "n_features")
    spike_probability = check_positive_float(spike_probability, "spike_probability",
                                             allow_zero=True)
    if spike_probability > 1.0:
        raise InputError(f"spike_probability must be in [0, 1]; received {spike_probability!r}")
    delay = check_positive_int(delay, "delay", minimum=0)
    if delay >= n_timesteps:
        raise InputError(f"delay ({delay}) must be below n_timesteps ({n_timesteps})")
    height = check_positive_float(height, "height")
    noise = check_positive_float(noise, "noise", allow_zero=True)
    if noise >= height / 2:
        raise InputError(f"noise must be below height / 2 ({height / 2:g}) so that background "
                         f"cells never pass for spikes; received {noise!r}")
    rng = check_random_state(random_state)

    X = noise * np.clip(rng.standard_normal((n_samples, n_timesteps, n_features)), -1.0, 1.0)
    rows = np.arange(n_samples)
    has = rng.random(n_samples) < spike_probability
    step = rng.integers(0, n_timesteps - delay, n_samples)
    X[rows[has], step[has], 0] += height
    if distractors and n_features > 1:
        other_has = rng.random((n_samples, n_features - 1)) < spike_probability
        other_step = rng.integers(0, n_timesteps, (n_samples, n_features - 1))
        r, c = np.nonzero(other_has)
        X[r, other_step[r, c], c + 1] += height
    spike_step = np.where(has, step, -1)

    t = np.arange(n_timesteps)
    y = (has[:, None] & (t >= spike_step[:, None] + delay)).astype(np.float64)
    mask = np.zeros((n_samples, n_timesteps, n_features), dtype=bool)
    mask[rows[has], step[has], 0] = True

    truth = _time_truth(mask.mean(axis=0))
    truth.attrs["mask"] = mask
    truth.attrs["spike_step"] = spike_step
    return X, y, truth


__all__ = ["box_sequences", "friedman1", "friedman1_function", "olden_simulation",
           "product_threshold", "spike", "state_switching"]
