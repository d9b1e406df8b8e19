"""Checks that layers read out of a model really are the model, before any weight is used."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import UnsupportedModelError
from ..network import Dense, Flatten, Layer, Network, Recurrent
from .base import as_canonical

PROBE_SAMPLES = 8
PROBE_STEPS = 5


def _probe_steps(layers: Sequence[Layer], known: int | None) -> int:
    if known:
        return known
    for k, layer in enumerate(layers):  # a Flatten fixes the sequence length
        if isinstance(layer, Flatten) and k > 0 and k + 1 < len(layers):
            units = layers[k - 1].n_out
            return max(1, layers[k + 1].n_in // units)
    return PROBE_STEPS


def resolve_network(
    layers: Sequence[Layer],
    adapter,
    *,
    steps: int | None = None,
) -> Network:
    """Build the :class:`Network` and prove it reproduces the model on random probe input.

    PyTorch modules do not say whether their ``forward`` keeps the whole output sequence of the
    last recurrent layer or only its final step; both readings are tried and the one that
    reproduces the model's predictions is kept. Anything else the forward pass does that the
    layers do not show (a residual connection, a reordering) is caught here and reported.
    """
    first = next(layer for layer in layers if not isinstance(layer, Flatten))
    sequence = any(isinstance(layer, Recurrent) for layer in layers)
    base = Network(tuple(layers), n_inputs=first.n_in, sequence=sequence)
    if steps and not sequence:  # a leading Flatten of a model with a known sequence length
        base = base.read_as_sequences(steps)
    candidates = [base, base.with_last_step_only()] if sequence else [base]
    rng = np.random.default_rng(0)
    shape = (PROBE_SAMPLES, _probe_steps(layers, steps), base.n_inputs) if base.sequence else \
        (PROBE_SAMPLES, base.n_inputs)
    probe = rng.normal(scale=0.5, size=shape)
    target = as_canonical(adapter.predict(probe), PROBE_SAMPLES)
    scale = max(1.0, float(np.abs(target).max()))
    for network in candidates:
        mine = as_canonical(network.forward(probe), PROBE_SAMPLES)
        if mine.shape == target.shape and np.allclose(mine, target, rtol=1e-3, atol=1e-4 * scale):
            return network
    names = " -> ".join(layer.name for layer in layers if not isinstance(layer, Dense | Flatten)
                        ) or "dense layers"
    raise UnsupportedModelError(
        f"the layers read from {type(adapter.model).__name__} ({len(layers)} layers: {names}) do "
        "not reproduce its predictions; its forward pass does something the weight-based methods "
        "cannot read (skip connections, reordering, custom operations)"
    )
