"""Sequences whose informative cells are fixed: the reference product-threshold task and
the time x feature boxes of Ismail et al. (2020)."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..errors import InputError
from ..validation import (
    check_choice,
    check_positive_float,
    check_positive_int,
    check_random_state,
)
from ._common import time_truth


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
    important (the task is symmetric in them). The reference experiment of the project (see the
    README): three stacked LSTM layers returning the whole sequence, explained by adding
    ``N(0, 0.2)`` noise to one feature at every step (:func:`varimp.perturbation`); ``x1`` and
    ``x2`` should each come out at least 15 times ``x3``.

    Parameters
    ----------
    n_sequences : int
        Number of sequences (samples).
    n_timesteps : int
        Steps per sequence.
    threshold : float
        ``y[t]`` is 1 below it; 0.25 makes about 60% of the targets 1.
    random_state : int, numpy Generator or None
        Seed of the uniform draws; the same seed gives the same data.

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
    return X, y, time_truth(truth)



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
        The half-open range ``[t0, t1)`` of time steps carrying the signal (0 = the oldest);
        integers (a float such as ``3.7`` or ``np.inf`` is refused, not rounded).
    features : sequence of int or None
        The feature columns carrying the signal (integers).
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
        ``(n_sequences, n_timesteps, n_features)`` (each sequence's box),
        ``truth.attrs["start"]``, an int ndarray ``(n_sequences,)`` (each box's first step),
        and ``truth.attrs["feature_truth"]``, the design's per-feature truth (a
        :class:`pandas.Series`: the box's length for each of its features, 0 for the others;
        every sample's box holds that many cells of each); clear ``truth.attrs`` on a copy
        before concatenating such frames. The box can cover any step, so the averaged
        table is non-zero on every step of the box's features: scored as a mask
        (``truth != 0``) it says which features matter, not which steps (a table constant
        over time that ranks the features right matches it exactly); where in time is asked
        of ``truth.attrs["mask"]``, sample by sample.

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
    truth = time_truth(mask.mean(axis=0))
    if layout == "moving":
        truth.attrs["mask"] = mask
        truth.attrs["start"] = start
        truth.attrs["feature_truth"] = pd.Series(
            np.isin(np.arange(n_features), cols) * float(t1 - t0), index=truth.columns,
            name="truth")
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
    pair = _integers(steps)
    if pair is None or len(pair) != 2:
        raise InputError(f"steps must be a pair of integers (t0, t1); received {steps!r}")
    t0, t1 = pair
    if not 0 <= t0 < t1 <= T:
        raise InputError(f"steps must satisfy 0 <= t0 < t1 <= n_timesteps ({T}); received "
                         f"{steps!r}")
    listed = _integers(features)
    if listed is None:
        raise InputError(f"features must be integer column indices; received {features!r}")
    cols = sorted(set(listed))
    if not cols or cols[0] < 0 or cols[-1] >= p:
        raise InputError(f"features must be column indices in 0..{p - 1}; received "
                         f"{features!r}")
    return (t0, t1), cols


def _integers(values: object) -> list[int] | None:
    """``values`` as a list of ints, or None unless it is a sequence of integers (no floats,
    no booleans: a step or a column index is never rounded)."""
    if isinstance(values, str | bytes) or not isinstance(values, Sequence | range | np.ndarray):
        return None
    items = list(values)
    if not all(isinstance(v, numbers.Integral) and not isinstance(v, bool | np.bool_)
               for v in items):
        return None
    return [int(v) for v in items]


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
