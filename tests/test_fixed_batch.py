"""Models exported for a fixed batch size (``torch.export`` without a dynamic batch dimension,
an ONNX graph whose first axis is a number) run in chunks of that size: every prediction, and
every importance, equals the one of the model they were exported from."""

import warnings

import numpy as np
import pytest
import torch
from torch import nn

import varimp
from varimp.loaders import load_model

ROWS = 4


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    root = tmp_path_factory.mktemp("fixed")
    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(3, 6), nn.Tanh(), nn.Linear(6, 1)).double().eval()
    example = torch.zeros(ROWS, 3, dtype=torch.float64)
    torch.export.save(torch.export.export(mlp, (example,)), root / "mlp.pt2")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(mlp.float(), (example.float(),), root / "mlp.onnx",
                          input_names=["x"], output_names=["y"], dynamo=False)
    mlp.double()
    X = np.random.default_rng(1).normal(size=(10, 3))  # 10 rows: two full chunks and a part
    y = X[:, 0] - 0.5 * X[:, 1]
    return root, mlp, X, y


@pytest.mark.parametrize("name", ["mlp.pt2", "mlp.onnx"])
def test_a_fixed_batch_program_predicts_every_row_as_the_original(saved, name):
    root, mlp, X, _ = saved
    loaded = load_model(root / name)
    assert f"batches of {ROWS} rows" in loaded.summary
    with torch.no_grad():
        expected = mlp(torch.from_numpy(X)).numpy()
    if name.endswith(".pt2"):
        with torch.no_grad():
            got = loaded.model(torch.from_numpy(X)).numpy()
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    else:  # float32 graph
        np.testing.assert_allclose(loaded.model(X), expected, rtol=1e-5, atol=1e-6)
    # a single row and an exact multiple of the batch size
    for n in (1, ROWS, 2 * ROWS):
        part = X[:n]
        if name.endswith(".pt2"):
            with torch.no_grad():
                got = loaded.model(torch.from_numpy(part)).numpy()
        else:
            got = loaded.model(part)
        assert got.shape == (n, 1)
        np.testing.assert_allclose(got, expected[:n], rtol=1e-5, atol=1e-6)


def test_importance_of_a_fixed_batch_program_equals_the_original(saved):
    root, mlp, X, y = saved
    loaded = load_model(root / "mlp.pt2")
    for method in ("partial_derivatives", "permutation"):
        ours = varimp.importance(loaded.model, X, y, method=method, random_state=0, n_repeats=3)
        reference = varimp.importance(mlp, X, y, method=method, random_state=0, n_repeats=3)
        np.testing.assert_allclose(ours.scores.to_numpy(), reference.scores.to_numpy(),
                                   rtol=1e-10, atol=1e-12)
