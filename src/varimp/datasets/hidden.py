"""Sequences whose informative cells change from sample to sample: a hidden-state switch
(after Tonekaboni et al. 2020) and a spike that turns the label on (after Leung et al. 2023);
their truth is a mask per sample and step."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import InputError
from ..validation import check_positive_float, check_positive_int, check_random_state
from ._common import time_truth


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
        - ``"probability"``: ndarray ``(n_samples,)``, ``P(y = 1)`` for each sample;
        - ``"feature_truth"``: the design's per-feature truth, a :class:`pandas.Series`: the
          expected number of a sample's label cells in each feature,
          ``sum(persistence**j for j < window) / n_states`` for each driven feature ``x1 ..
          x{n_states}`` and 0 for the others. The chain's transitions are symmetric, so the final
          state is uniform and the driven features matter equally by design; the sample mean
          of the mask (``truth.sum()``) differs from it by sampling noise only (with the
          defaults, 1.355 for ``x1`` and ``x2``; 1.309 and 1.379 in one draw of 1,000).

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
    from scipy.special import expit  # imported on first use: importing varimp stays light

    probability = expit(scale * centred)
    y = (rng.random(n_samples) < probability).astype(np.float64)

    truth = time_truth(mask.mean(axis=0))
    truth.attrs["mask"] = mask
    truth.attrs["states"] = states
    expected_cells = np.sum(persistence ** np.arange(window)) / n_states
    truth.attrs["feature_truth"] = pd.Series(
        np.where(np.arange(n_features) < n_states, expected_cells, 0.0), index=truth.columns,
        name="truth")
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
        averaged over samples; 0 for the other features). The spike can fall on any step but
        the last ``delay``, so scored as a mask (``truth != 0``) this table marks all those
        steps of ``x1``: it says which feature matters, hardly which step; where in time is
        asked of ``truth.attrs["mask"]``, sample by sample. Extras in ``truth.attrs``:

        - ``"mask"``: bool ndarray ``(n_samples, n_timesteps, n_features)``, the spike cell of
          each sample (all False without a spike);
        - ``"spike_step"``: int ndarray ``(n_samples,)``, ``t_s``, or -1 without a spike;
        - ``"feature_truth"``: the design's per-feature truth, a :class:`pandas.Series`: the
          expected number of a sample's mask cells in each feature, ``spike_probability`` for
          ``x1`` and 0 for the others.

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

    truth = time_truth(mask.mean(axis=0))
    truth.attrs["mask"] = mask
    truth.attrs["spike_step"] = spike_step
    truth.attrs["feature_truth"] = pd.Series(
        np.where(np.arange(n_features) == 0, spike_probability, 0.0), index=truth.columns,
        name="truth")
    return X, y, truth
