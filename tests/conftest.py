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
