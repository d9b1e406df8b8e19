"""The first dense layer, reused: evaluate perturbed copies of a table from its cached
pre-activation.

A network that starts with a dense layer computes ``z = x @ W + b``, then the rest of the
network from ``act(z)``. Changing the columns ``J`` of ``x`` to ``x'_J`` moves ``z`` by
``(x'_J - x_J) @ W[J, :]``, an update of rank ``|J|``. :class:`TailPredictor` computes
``Z = X @ W + b`` once and evaluates each perturbed copy as ``act(Z + delta @ W[J])`` followed
by the rest of the network: ``|J|`` instead of ``p`` multiply-adds per unit of the first layer,
and no copy of the unperturbed columns. The result equals the full forward pass to floating
point rounding (the sum is merely regrouped).

The network is rebuilt in PyTorch from the adapter's verified :class:`varimp.network.Network`,
as the suffix predictor of :mod:`varimp.adapters.suffix` does, in the model's dtype and on its
device. Before it is used it must reproduce the adapter's predictions on the first rows of X,
both unperturbed and with every column replaced by another row's, and the model's predictions
of rows beyond the range of X (:func:`varimp.adapters.suffix.extreme_probes`); otherwise the
engine is told None and runs full forward passes. The first perturbed rows of a run are
computed by the model too, and if they differ, every later call is
(:class:`varimp.adapters.suffix.Checked`). It is only built when the adapter's network holds,
which refuses a PyTorch ``forward`` that ``torch.fx`` shows to apply any operation outside its
modules (a clamp, a mask, random draws); the checks run for every model all the same, traced
or not, as a trace kept from an earlier call may be stale (:mod:`varimp.adapters.suffix`).
"""

from __future__ import annotations

import numpy as np
import torch

from ..errors import VarImpError
from ..network import Dense, Flatten, Network
from .suffix import (
    MIN_ROWS,
    Checked,
    _activation,
    _tensor,
    extreme_probes,
    in_place,
    readable,
    rebuild,
    reproduces,
    verify_rows,
)

#: Target bytes of every layer's outputs per call and torch thread, about a core's L2 cache
#: (measured on 20-10-1 to 20-128-128-1 networks: a quarter of it is up to 15% slower, eight
#: times it up to twice as slow).
WORKSPACE_BYTES = 2 * 2**20


class TailPredictor:
    """A dense network rebuilt in PyTorch, evaluated from its first layer's pre-activation.

    Attributes
    ----------
    row_cells : int
        Values held per row of a call (every layer's outputs), to size calls.
    """

    def __init__(self, network: Network, dtype: torch.dtype, device: torch.device, model):
        first, *rest = network.layers
        self.dtype, self.device = dtype, device
        self.model = model  # the adapter's predict, which the checks compare with
        self.weight = _tensor(first.weight, dtype, device)  # (p, width)
        self.bias = _tensor(first.bias, dtype, device)
        self.activation = in_place(first.activation, _activation(first.activation))
        self.stages = rebuild(rest, dtype, device)
        self.row_cells = sum(layer.n_out for layer in network.layers)
        self.itemsize = torch.empty(0, dtype=dtype).element_size()

    def rows_per_call(self) -> int:
        """Rows per call so that every layer's outputs stay near ``WORKSPACE_BYTES`` per torch
        thread."""
        budget = WORKSPACE_BYTES * max(1, torch.get_num_threads())
        return max(MIN_ROWS, budget // (self.row_cells * self.itemsize))

    def cache_bytes(self, n: int) -> int:
        """Bytes of the cached pre-activation of ``n`` rows."""
        return n * self.weight.shape[1] * self.itemsize

    def start(self, X: np.ndarray, base: np.ndarray) -> TailRun | None:
        """Cache ``X @ W + b``; None when the rebuilt network does not reproduce ``base`` (the
        adapter's predictions of X) on the first rows, unperturbed and with every column
        replaced by the values of another row, or the model's predictions of
        :func:`~varimp.adapters.suffix.extreme_probes`."""
        rows = verify_rows(base)
        other = rows[::-1].copy()
        every = tuple(range(X.shape[1]))
        try:
            run = TailRun(self, X)
            same = run.network([(every, X[rows], rows)])
            moved = run.network([(every, X[other], rows)])
            if not (reproduces(same, base[rows], self.dtype)
                    and reproduces(moved, base[other], self.dtype)):
                return None
            probes = extreme_probes(X, base)
            at = np.arange(len(probes)) % X.shape[0]
            if not reproduces(run.network([(every, probes, at)]), self.model(probes),
                              self.dtype):
                return None
        except Exception:  # noqa: BLE001 - e.g. a dtype the kernels lack: full passes instead
            return None
        return run


class TailRun:
    """The first layer's pre-activation of X, and perturbed copies evaluated from it."""

    def __init__(self, predictor: TailPredictor, X: np.ndarray):
        self.predictor = predictor
        self.X = X
        p = predictor
        with torch.no_grad():
            self.Z = torch.addmm(p.bias, _tensor(X, p.dtype, p.device), p.weight)
        self._weights: dict[tuple[int, ...], torch.Tensor] = {}
        self._buffer = self.Z[:0]
        self.checked = Checked(predictor.model, predictor.dtype)

    def _weight_rows(self, columns: tuple[int, ...]) -> torch.Tensor:
        if columns not in self._weights:
            self._weights[columns] = self.predictor.weight[list(columns)].contiguous()
        return self._weights[columns]

    def predict(self, parts: list[tuple[tuple[int, ...], np.ndarray, slice | np.ndarray]]
                ) -> np.ndarray:
        """Predictions ``(m, 1, k)`` of perturbed rows, stacked in the order of ``parts``.

        Each part is ``(columns, cells, rows)``: the rows of X (a slice or an index array)
        whose ``columns`` hold ``cells`` (``(len(rows), len(columns))``) instead of their values.
        Computed by the rebuilt network (:meth:`network`), or by the model where a check
        of the first rows found that network wrong (:class:`~varimp.adapters.suffix.Checked`).
        """
        return self.checked(lambda: self.network(parts), lambda k: self._rows(parts, k))

    def _rows(self, parts: list[tuple[tuple[int, ...], np.ndarray, slice | np.ndarray]],
              limit: int | None = None) -> np.ndarray:
        """The first ``limit`` perturbed rows of ``parts`` (None: all), whole."""
        out = []
        left = sum(len(cells) for _, cells, _ in parts) if limit is None else limit
        for columns, cells, rows in parts:
            if left <= 0:
                break
            m = min(left, len(cells))
            block = self.X[rows][:m].copy() if isinstance(rows, slice) else self.X[rows[:m]]
            block[:, list(columns)] = cells[:m]
            out.append(block)
            left -= m
        return np.concatenate(out)

    def network(self, parts: list[tuple[tuple[int, ...], np.ndarray, slice | np.ndarray]]
                ) -> np.ndarray:
        """:meth:`predict` by the rebuilt network."""
        p = self.predictor
        size = sum(len(cells) for _, cells, _ in parts)
        with torch.no_grad():
            if len(self._buffer) < size:  # one buffer, reused: fresh pages cost time
                self._buffer = torch.empty((size, self.Z.shape[1]), dtype=p.dtype,
                                           device=p.device)
            z = self._buffer[:size]
            at = 0
            for columns, cells, rows in parts:
                m = len(cells)
                if isinstance(rows, slice):
                    cached, before = self.Z[rows], self.X[rows, list(columns)]
                else:
                    index = torch.as_tensor(rows, device=p.device)
                    cached = self.Z.index_select(0, index)
                    before = self.X[np.ix_(rows, list(columns))]
                delta = _tensor(cells - before, p.dtype, p.device)
                torch.addmm(cached, delta, self._weight_rows(tuple(columns)), out=z[at:at + m])
                at += m
            x = p.activation(z)
            for stage in p.stages:
                x = stage.dense(x)
        return x.to("cpu", torch.float64, copy=True).numpy().reshape(size, 1, -1)


def tail_predictor(adapter: object, dtype: torch.dtype,
                   device: torch.device) -> TailPredictor | None:
    """The tail predictor of an adapter's dense network, or None when it cannot be built
    (no readable structure, a sequence model, a layer other than dense)."""
    try:
        network = adapter.network()
    except VarImpError:
        return None
    if network.sequence:
        return None
    layers = tuple(layer for layer in network.layers if not isinstance(layer, Flatten))
    network = Network(layers, network.n_inputs, sequence=False)  # Flatten: a no-op on a table
    if not layers or not all(isinstance(layer, Dense) for layer in layers) or \
            not readable(network):
        return None
    try:
        return TailPredictor(network, dtype, device, adapter.predict)
    except Exception:  # noqa: BLE001 - a layer torch cannot rebuild: full passes instead
        return None
