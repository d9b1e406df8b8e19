"""The command line: the quick demo end to end, ``varimp methods``, and clean failures."""

import json
import os
import subprocess
import sys

import matplotlib.image
import numpy as np
import pytest

import varimp
from varimp import cli, datasets, demo
from varimp.result import Importance


def _run(*args, cwd):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    return subprocess.run([sys.executable, "-m", "varimp.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_quick_demo_in_a_subprocess(tmp_path):
    done = _run("demo", "--quick", "--out", "report", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    out = tmp_path / "report"
    assert [p.name for p in tmp_path.iterdir()] == ["report"]  # no temporary directory left
    text = (out / "report.txt").read_text()
    assert text.strip() in done.stdout  # the report is what was printed
    for method in varimp.available_methods():
        assert f"  {method} (" in text or f"  {method}: skipped (" in text
    assert "x1/x3" in text and "total wall time" in text
    payload = json.loads((out / "results.json").read_text())
    assert set(payload) == {"mlp", "lstm"}
    for case, results in payload.items():
        for name, data in results.items():
            result = Importance.from_dict(data)
            assert result.method == name
            image = matplotlib.image.imread(out / f"{case}_{name}_bar.png")
            assert image.ndim == 3 and image.shape[0] > 100
            if result.by_time is not None:
                assert (out / f"{case}_{name}_heatmap.png").is_file()
    assert (out / "mlp_comparison.png").is_file() and (out / "lstm_comparison.png").is_file()


def test_demo_through_main_matches_a_hand_computed_reference(tmp_path, capsys):
    out = tmp_path / "demo"
    assert cli.main(["demo", "--quick", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "reference LSTM" in printed
    payload = json.loads((out / "results.json").read_text())
    # the demo's MLP, trained again with the same seed, gives the same connection weights:
    # the product of its two weight matrices (Olden & Jackson 2002), written out here
    settings = demo.QUICK
    X, y, _ = datasets.olden_simulation(settings.mlp_samples, random_state=0)
    model = varimp.train_mlp(X, y, hidden=(8,), epochs=settings.mlp_epochs, random_state=0)
    w1, w2 = model[0].weight.detach().double().numpy(), model[2].weight.detach().double().numpy()
    scores = Importance.from_dict(payload["mlp"]["connection_weights"]).scores
    np.testing.assert_allclose(scores.to_numpy(), (w2 @ w1)[0], rtol=1e-6)
    # a second run replaces the earlier demo directory
    stale = out / "stale.png"
    stale.write_bytes(b"old")
    assert cli.main(["demo", "--quick", "--out", str(out)]) == 0
    assert not stale.exists() and (out / "report.txt").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["demo"]


def test_a_failing_demo_leaves_nothing_behind(tmp_path, capsys, monkeypatch):
    def broken(settings, out, report):
        (out / "half.png").write_bytes(b"partial")
        raise varimp.InputError("the data went missing")

    monkeypatch.setattr(demo, "mlp_case", broken)
    assert cli.main(["demo", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "the data went missing" in err
    assert list(tmp_path.iterdir()) == []


def test_out_must_be_a_new_empty_or_earlier_demo_directory(tmp_path, capsys):
    precious = tmp_path / "mine"
    precious.mkdir()
    (precious / "thesis.tex").write_text("keep me")
    assert cli.main(["demo", "--quick", "--out", str(precious)]) == 2
    assert (precious / "thesis.tex").read_text() == "keep me"
    assert [p.name for p in precious.iterdir()] == ["thesis.tex"]
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    assert cli.main(["demo", "--out", str(a_file)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and all(line.startswith("varimp: ") for line in err)


def test_methods_lists_every_method_once(capsys):
    assert cli.main(["methods"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(varimp.METHODS)
    for line in lines:
        name = line.split()[0]
        available = name in varimp.available_methods()
        assert ("not available" in line) != available


@pytest.mark.parametrize("args", [["demo", "--bogus"], [], ["explain"], ["demo", "--out"]])
def test_bad_arguments_one_line_exit_2(args, capsys):
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("varimp")


def test_bad_arguments_in_a_subprocess_have_no_traceback(tmp_path):
    done = _run("demo", "--quick", "--out", str(tmp_path), "--wat", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == "" and len(done.stderr.splitlines()) == 1
    assert "Traceback" not in done.stderr
