"""Shared test setup: Keras on the torch backend, a headless matplotlib, small seeded models."""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same global seeds, so failures reproduce."""
    torch.manual_seed(0)
    np.random.seed(0)  # noqa: NPY002 - libraries still draw from the legacy global state
    yield


@pytest.fixture(scope="module")
def client():
    """One 2-worker Dask LocalCluster for a test module (single-threaded worker processes, no
    dashboard); a task on a dead worker is not retried, so a dying fit is named at once."""
    import dask
    from distributed import Client, LocalCluster

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               dashboard_address=None)
    client = Client(cluster, set_as_default=False)
    yield client
    client.close()
    cluster.close()
