"""``varimp run MODEL DATA``: every model format and data format round-trips to the Python API's
scores, and every bad input is one line on stderr, exit status 2 and nothing written."""

import json
import logging
import operator
import os
import pickle
import re
import subprocess
import sys
import warnings

import matplotlib.image
import matplotlib.pyplot
import numpy as np
import pandas as pd
import pytest
import scipy.stats
import torch
from torch import nn

import varimp
from varimp import cli, runner
from varimp.frameworks import import_keras
from varimp.loaders import load_data, load_model
from varimp.report import network_diagram
from varimp.result import Importance

N_ROWS, N_SEQ, STEPS = 60, 30, 5
SEED = 3


# -- saved models and data files ----------------------------------------------------------------
@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Tables and sequences in every data format, and one saved model per format."""
    root = tmp_path_factory.mktemp("run")
    rng = np.random.default_rng(0)
    X = _dyadic(rng.normal(size=(N_ROWS, 3)))
    y = _dyadic(2 * X[:, 0] + X[:, 1] + 0.1 * rng.normal(size=N_ROWS))
    table = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "c": X[:, 2], "y": y}, dtype=np.float64)
    table.to_csv(root / "table.csv", index=False)  # float64: the exact dyadic numbers
    table.to_parquet(root / "table.parquet")
    np.save(root / "table_X.npy", X)
    np.save(root / "table_y.npy", y)
    S = _dyadic(rng.normal(size=(N_SEQ, STEPS, 3)))
    s_y = _dyadic(S[:, -1, 0] - S[:, -2, 1])
    rows = [{"id": f"s{i:02d}", "t": t, "u": float(S[i, t, 0]), "v": float(S[i, t, 1]),
             "w": float(S[i, t, 2]), "y": float(s_y[i])} for i in range(N_SEQ)
            for t in range(STEPS)]
    pd.DataFrame(rows).sample(frac=1.0, random_state=0).to_csv(root / "long.csv", index=False)
    np.save(root / "seq_X.npy", S)
    np.savez(root / "seq.npz", X=S, y=s_y)

    labels = np.where(y > 0, "present", "absent")
    table.drop(columns="y").assign(state=labels).to_csv(root / "labels.csv", index=False)

    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(3, 5), nn.Tanh(), nn.Linear(5, 1)).eval()
    program = torch.export.export(mlp, (torch.from_numpy(X[:2]),),
                                  dynamic_shapes=({0: torch.export.Dim("batch")},))
    torch.export.save(program, root / "mlp.pt2")
    with warnings.catch_warnings():  # TorchScript is deprecated, and still what many files are
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.save(torch.jit.script(mlp), root / "mlp.pt")
    torch.save(mlp, root / "full.pt")
    logits = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).eval()
    torch.export.save(torch.export.export(logits, (torch.from_numpy(X[:2]),), dynamic_shapes=(
        {0: torch.export.Dim("batch")},)), root / "logits.pt2")

    gru = _GRU().eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(gru, (torch.from_numpy(S[:2]),), root / "gru.onnx",
                          input_names=["x"], output_names=["y"], dynamo=False,
                          dynamic_axes={"x": {0: "n"}, "y": {0: "n"}})

    keras = import_keras()
    keras.utils.set_random_seed(0)
    lstm = keras.Sequential([keras.Input((STEPS, 3)), keras.layers.LSTM(4),
                             keras.layers.Dense(1)])
    lstm.save(root / "lstm.keras")

    import joblib
    import skops.io
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sk = MLPRegressor(hidden_layer_sizes=(4,), max_iter=200, random_state=0).fit(X, y)
        piped = make_pipeline(FunctionTransformer(operator.neg), MLPRegressor(
            hidden_layer_sizes=(4,), max_iter=50, random_state=0)).fit(X, y)
        binary = MLPClassifier(hidden_layer_sizes=(4,), max_iter=300, random_state=0).fit(
            table[["a", "b", "c"]], labels)
    skops.io.dump(sk, root / "mlp.skops")
    skops.io.dump(binary, root / "binary.skops")
    skops.io.dump(piped, root / "piped.skops")
    joblib.dump(sk, root / "mlp.joblib")
    with open(root / "list.pkl", "wb") as stream:
        pickle.dump([1, 2], stream)
    return {"root": root, "X": X, "y": y, "S": S, "s_y": s_y, "mlp": mlp, "gru": gru,
            "lstm": lstm, "sk": sk, "piped": piped, "labels": labels, "binary": binary,
            "logits": logits}


def _dyadic(values):
    """float32 numbers that float64, float32 and their CSV text all hold exactly."""
    return (np.round(np.asarray(values) * 1024) / 1024).astype(np.float32)


class _GRU(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(1)
        self.gru = nn.GRU(3, 4, batch_first=True)
        self.head = nn.Linear(4, 1)

    def forward(self, x):
        out, _ = self.gru(x)
        return self.head(out[:, -1])


class _Recurrent(nn.Module):
    """A GRU and a linear head: on the last step, or on every step (sequence to sequence)."""

    def __init__(self, outputs: int, every_step: bool = False):
        super().__init__()
        torch.manual_seed(4)
        self.gru = nn.GRU(3, 4, batch_first=True)
        self.head = nn.Linear(4, outputs)
        self.every_step = every_step

    def forward(self, x):
        out, _ = self.gru(x)
        return self.head(out) if self.every_step else self.head(out[:, -1])


def _run(files, tmp_path, model, *data, methods, extra=()):
    """``varimp run`` in this process; returns the output directory."""
    out = tmp_path / "out"
    root = files["root"]
    argv = ["run", str(root / model), *(str(root / d) if "." in d else d for d in data),
            "--out", str(out), "--seed", str(SEED), "--quiet", *extra]
    if methods is not None:
        argv += ["--methods", ",".join(methods)]
    assert cli.main(argv) == 0
    return out


def _written(out, name):
    """The result of one method as written: from its JSON, with its CSV checked against it."""
    result = Importance.from_json((out / f"{name}.json").read_text())
    table = pd.read_csv(out / f"{name}.csv")
    assert list(table["feature"]) == result.feature_names
    np.testing.assert_array_equal(table["score"].to_numpy(), result.scores.to_numpy())
    np.testing.assert_array_equal(table["rank"].to_numpy(), result.ranks.to_numpy())
    return result


def _check(out, model, X, y, names, methods, *, exact=True, rtol=1e-5, atol=1e-7, **options):
    """Every written result equals ``varimp.importance`` on ``model`` with the same options,
    on the data as the command reads them (float64)."""
    if not isinstance(y, pd.DataFrame):  # named outputs stay named, class labels labels
        y = y if y.dtype.kind in "OUS" else np.float64(y)
    for method in methods:
        written = _written(out, method)
        expected = varimp.importance(model, np.float64(X), y, method=method,
                                     random_state=SEED,
                                     feature_names=names, progress=False, **options)
        assert written.method == method and written.feature_names == names
        if exact:
            np.testing.assert_array_equal(written.scores.to_numpy(), expected.scores.to_numpy())
        else:
            np.testing.assert_allclose(written.scores.to_numpy(), expected.scores.to_numpy(),
                                       rtol=rtol, atol=atol)
        if expected.by_time is not None:
            np.testing.assert_allclose(written.by_time.to_numpy(), expected.by_time.to_numpy(),
                                       rtol=rtol if not exact else 0, atol=atol if not exact else 0)
    report = (out / "report.html").read_text()
    for method in methods:
        assert f'data-method="{method}"' in report
    run = json.loads((out / "run.json").read_text())
    assert run["seed"] == str(SEED) and set(methods) <= set(run["methods"].split(", "))


# -- round trips --------------------------------------------------------------------------------
TABLE = ["a", "b", "c"]
DEFAULT_X = ["x1", "x2", "x3"]
SEQ = ["u", "v", "w"]


def test_torch_export_mlp_on_csv_and_npy(files, tmp_path):
    methods = ["partial_derivatives", "perturbation", "permutation", "profile",
               "improved_stepwise_1"]
    X, y, loaded = files["X"], files["y"], load_model(files["root"] / "mlp.pt2").model
    out = _run(files, tmp_path / "csv", "mlp.pt2", "table.csv", "--target", "y",
               methods=methods)
    _check(out, loaded, X, y, TABLE, methods)  # the same program through the Python API
    # the model before export: the exported graph rounds a little differently
    _check(out, files["mlp"], X, y, TABLE, methods, exact=False)
    out = _run(files, tmp_path / "npy", "mlp.pt2", "table_X.npy", "--target-file",
               "table_y.npy", methods=methods)
    _check(out, loaded, X, y, DEFAULT_X, methods)


def test_torchscript_runs_every_method(files, tmp_path):
    out = _run(files, tmp_path, "mlp.pt", "table.csv", "--target", "y", methods=None,
               extra=["--n-repeats", "2"])
    run = json.loads((out / "run.json").read_text())
    assert run["skipped"] == {}  # TorchScript keeps its layers: weights read, model retrained
    assert run["methods"] == ", ".join(varimp.available_methods())
    loaded = load_model(files["root"] / "mlp.pt").model
    _check(out, loaded, files["X"], files["y"], TABLE, varimp.available_methods(), n_repeats=2)
    methods = ["connection_weights", "garson", "partial_derivatives", "perturbation", "profile",
               "improved_stepwise_1", "improved_stepwise_2", "permutation"]
    _check(out, files["mlp"], files["X"], files["y"], TABLE, methods, exact=False, n_repeats=2)


def test_keras_lstm_on_a_long_csv_and_on_npy(files, tmp_path):
    methods = ["connection_weights", "garson", "partial_derivatives", "permutation"]
    S, s_y, lstm = files["S"], files["s_y"], files["lstm"]
    out = _run(files, tmp_path / "csv", "lstm.keras", "long.csv", "--id", "id", "--time", "t",
               "--target", "y", methods=methods)
    _check(out, lstm, S, s_y, SEQ, methods)
    assert _written(out, "partial_derivatives").by_time.shape == (STEPS, 3)
    facts = json.loads((out / "run.json").read_text())["facts"]
    assert facts["time steps"] == "5 per sequence, t in numeric order: first 0, last 4"
    assert facts["time steps"] in (out / "report.html").read_text()
    out = _run(files, tmp_path / "npy", "lstm.keras", "seq.npz", "--features", "u", "v", "w",
               methods=methods)
    _check(out, lstm, S, s_y, SEQ, methods)


def test_onnx_gru_runs_the_model_agnostic_methods(files, tmp_path):
    S, s_y, gru = files["S"], files["s_y"], files["gru"]
    out = _run(files, tmp_path / "npy", "gru.onnx", "seq.npz", methods=None,
               extra=["--no-by-time"])
    run = json.loads((out / "run.json").read_text())
    assert set(run["skipped"]) == {"connection_weights", "garson", "forward_stepwise",
                                   "backward_stepwise"}
    methods = ["perturbation", "profile", "improved_stepwise_1", "improved_stepwise_2",
               "permutation"]
    assert run["methods"] == "partial_derivatives, " + ", ".join(methods)
    # onnxruntime and torch compute the same float32 GRU up to rounding
    _check(out, gru, S, s_y, DEFAULT_X, methods, exact=False, rtol=1e-4, atol=1e-6,
           by_time=False)
    loaded = load_model(files["root"] / "gru.onnx").model
    _check(out, loaded, S, s_y, DEFAULT_X, methods + ["partial_derivatives"], by_time=False)
    out = _run(files, tmp_path / "csv", "gru.onnx", "long.csv", "--id", "id", "--time", "t",
               "--target", "y", methods=["permutation", "perturbation"])
    _check(out, gru, S, s_y, SEQ, ["permutation", "perturbation"], exact=False, rtol=1e-4,
           atol=1e-6)


def test_skops_mlp_on_csv_parquet_and_npy(files, tmp_path):
    methods = ["connection_weights", "garson", "perturbation", "permutation", "profile"]
    X, y, sk = files["X"], files["y"], files["sk"]
    out = _run(files, tmp_path / "csv", "mlp.skops", "table.csv", "--target", "y",
               methods=methods)
    _check(out, sk, X, y, TABLE, methods)
    out = _run(files, tmp_path / "parquet", "mlp.skops", "table.parquet", "--target", "y",
               "--features", "a,b", "c", methods=methods)
    _check(out, sk, X, y, TABLE, methods)
    out = _run(files, tmp_path / "npy", "mlp.skops", "table_X.npy", "--target-file",
               "table_y.npy", methods=methods)
    _check(out, sk, X, y, DEFAULT_X, methods)


def test_trusted_types_and_pickles_load_when_the_user_says_so(files, tmp_path):
    X, y = files["X"], files["y"]
    out = _run(files, tmp_path / "skops", "piped.skops", "table.csv", "--target", "y",
               methods=["permutation"], extra=["--trust", "_operator.neg"])
    _check(out, files["piped"], X, y, TABLE, ["permutation"])
    out = _run(files, tmp_path / "joblib", "mlp.joblib", "table.csv", "--target", "y",
               methods=["garson"], extra=["--trust-pickle"])
    _check(out, files["sk"], X, y, TABLE, ["garson"])


def test_a_binary_classifier_with_text_labels_and_its_diagram(files, tmp_path):
    methods = ["garson", "connection_weights", "permutation"]
    out = _run(files, tmp_path, "binary.skops", "labels.csv", "--target", "state",
               methods=methods)
    _check(out, files["binary"], files["X"], files["labels"], TABLE, methods)
    assert (out / "network.png").is_file()
    assert matplotlib.image.imread(out / "network.png").shape[0] > 100
    assert 'alt="network diagram"' in (out / "report.html").read_text()
    # one output node, the logistic unit: the probability of classes_[1], "present"
    ax = network_diagram(files["binary"], TABLE)
    assert [text.get_text() for text in ax.texts if text.get_text() in
            ("a", "b", "c", "present", "absent")] == ["a", "b", "c", "present"]
    matplotlib.pyplot.close(ax.figure)


def test_output_kind_and_classes_options(files, tmp_path, capsys):
    root, X, labels = files["root"], files["X"], files["labels"]
    argv = ["run", str(root / "logits.pt2"), str(root / "labels.csv"), "--target", "state",
            "--methods", "permutation", "--out", str(tmp_path / "refused")]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "output_kind" not in err
    assert "pass --output-kind logits if the model returns logits" in err
    assert "or --output-kind probability if it returns probabilities" in err
    loaded = load_model(root / "logits.pt2").model
    for classes in (["absent", "present"], ["present", "absent"]):
        out = _run(files, tmp_path / classes[0], "logits.pt2", "labels.csv", "--target",
                   "state", methods=["permutation"],
                   extra=["--output-kind", "logits", "--classes", ",".join(classes)])
        _check(out, loaded, X, labels, TABLE, ["permutation"], output_kind="logits",
               classes=classes)
        run = json.loads((out / "run.json").read_text())
        assert f"classes={','.join(classes)}" in run["options"]
    first = _written(tmp_path / "absent" / "out", "permutation").scores
    assert not np.allclose(first, _written(tmp_path / "present" / "out", "permutation").scores)


@pytest.mark.parametrize(("python", "command_line"), [
    ("pass output_kind='logits' if they are logits", "pass --output-kind logits if they are "
     "logits"),
    ("pass output_kind='probability' or 'logits' if the model is a classifier",
     "pass --output-kind probability or logits if the model is a classifier"),
    ("pass classes= in the order of the model's outputs", "pass --classes in the order of the "
     "model's outputs"),
    ("n_repeats must be a positive integer; received 0", "--n-repeats must be a positive "
     "integer; received 0"),
    ("output_step must be None or a predicted step in 0..4 (the model predicts 5 steps); "
     "received 9", "--output-step must be a predicted step in 0..4 (the model predicts 5 "
     "steps); received 9"),
    ("classes must list the 3 distinct class labels of the model's outputs; received 2",
     "--classes must list the 3 distinct class labels of the model's outputs; received 2"),
    ("output must be an integer index in 0..1 or an output name (output names are ['q', "
     "'stage']); received str 'level'", "--output must be an integer index in 0..1 or an "
     "output name (output names are ['q', 'stage']); received str 'level'"),
    ("classes=['absent', 'present'] was given, but classes name the outputs of a "
     "classifier: for a regression model leave classes out", "--classes absent,present was "
     "given, but classes name the outputs of a classifier: for a regression model leave "
     "--classes out"),
    ("scoring str 'r2' was given without y: a score needs y. Pass y to measure the error, or "
     "leave scoring out", "--scoring r2 was given without --target: a score needs --target. "
     "Pass --target to measure the error, or leave --scoring out"),
    # ordinary words and Python attributes stay as they are
    ("the output must be finite; details['by_time'] and result.by_time hold it",
     "the output must be finite; details['by_time'] and result.by_time hold it"),
    ("pass y of shape (n, 3), one column per output", "pass y of shape (n, 3), one column per "
     "output")])
def test_python_hints_are_said_in_the_command_lines_words(python, command_line):
    assert cli.cli_words(python) == command_line


def test_python_messages_on_classes_and_scoring_name_the_options(files, tmp_path, capsys):
    """The library's messages on classes= and on scoring without y, as the command line says
    them: the option with its value, and the option that gives the targets."""
    root, no = files["root"], str(tmp_path / "no")
    line = _fails(["run", str(root / "mlp.skops"), str(root / "table.csv"), "--target", "y",
                   "--classes", "0,1", "--out", no], capsys)
    assert line == (
        "varimp: error: InputError: --classes 0,1 was given, but classes name the outputs of a "
        "classifier and this model's outputs are read as regression values (decided from the "
        "model: its last layer is no softmax or sigmoid): if the model is a classifier, pass "
        "--output-kind logits (it returns logits, e.g. trained with CrossEntropyLoss) or "
        "--output-kind probability (it returns probabilities) with --classes; for a regression "
        "model leave --classes out")
    for data, option in (("table.csv", "--target"), ("table_X.npy", "--target-file")):
        argv = ["run", str(root / "mlp.skops"), str(root / data), "--scoring", "r2", "--out", no]
        line = _fails(argv + ["--features", "a", "b", "c"] * (data == "table.csv"), capsys)
        assert line == (
            f"varimp: error: InputError: --scoring r2 was given without {option}: a score "
            f"compares the predictions with targets, so it needs {option}. Pass {option} to "
            "measure the increase of that error, or leave --scoring out to measure the root "
            "mean square change of the predictions")
    assert not (tmp_path / "no").exists()


def test_the_class_labels_of_classes_match_the_targets():
    assert runner.class_labels("0, 1,2", np.array([0, 1, 2])) == [0, 1, 2]
    assert runner.class_labels("no,yes", np.array(["no", "yes"])) == ["no", "yes"]
    with pytest.raises(varimp.InputError, match="the classes must be numbers too"):
        runner.class_labels("no,yes", np.array([0, 1]))
    with pytest.raises(varimp.InputError, match="received ' , '"):
        runner.class_labels(" , ", None)


DATES = {
    "month": ([f"{m}/2020" for m in range(1, 13)], "%m/%Y", "1/2020", "12/2020"),
    "day first": ([f"{d:02d}/01/2020" for d in range(1, 25, 2)], "%d/%m/%Y", "01/01/2020",
                  "23/01/2020"),
    "iso": ([f"2020-{m:02d}-15" for m in range(1, 13)], "%Y-%m-%d", "2020-01-15",
            "2020-12-15"),
}


@pytest.mark.parametrize("kind", DATES)
def test_a_long_table_with_dates_is_in_time_order(tmp_path, kind):
    steps, form, first, last = DATES[kind]
    rows = [{"site": site, "when": when, "level": 100 * site + k, "flow": float(k)}
            for site in (2, 1) for k, when in enumerate(steps, start=1)]
    table = pd.DataFrame(rows).sample(frac=1.0, random_state=0)
    if kind == "day first":  # a first value that reads month first too: 05/01/2020
        table = pd.concat([table[table["when"] == "05/01/2020"],
                           table[table["when"] != "05/01/2020"]])
    table.to_csv(tmp_path / "dates.csv", index=False)
    data = load_data(tmp_path / "dates.csv", target="flow", id_column="site", time_column="when")
    # text order would put 10/2020 between 1/2020 and 2/2020; time order is 1..12
    np.testing.assert_array_equal(data.X[:, :, 0], [np.arange(101, 113), np.arange(201, 213)])
    np.testing.assert_array_equal(data.y, [np.arange(1, 13)] * 2)
    assert data.facts["time steps"] == (f"12 per sequence, when dates in the format {form}, "
                                        f"in time order: first {first}, last {last}")


def _days(tmp_path, days):
    """A long table of two sites over ``days`` (text), level 1, 2, ... in the order given."""
    rows = [{"site": site, "day": day, "level": k, "flow": float(k)}
            for site in (1, 2) for k, day in enumerate(days, start=1)]
    path = tmp_path / "days.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


AMBIGUOUS = ["10.01.2020", "03.02.2020", "07.03.2020", "12.03.2020"]


@pytest.mark.parametrize(("form", "order"), [
    ("%d.%m.%Y", [1, 2, 3, 4]),  # 10 Jan, 3 Feb, 7 Mar, 12 Mar
    ("%m.%d.%Y", [2, 3, 1, 4]),  # 2 Mar, 3 Jul, 1 Oct, 3 Dec
])
def test_dates_that_read_day_or_month_first_need_a_time_format(files, tmp_path, capsys, form,
                                                               order):
    path = _days(tmp_path, AMBIGUOUS)
    with pytest.raises(varimp.InputError) as refused:
        load_data(path, target="flow", id_column="site", time_column="day")
    assert str(refused.value) == (
        f"the time column 'day' of data file {path} holds dates that read in several formats, "
        "in different orders: %m.%d.%Y, %d.%m.%Y ('10.01.2020', '03.02.2020', '07.03.2020', "
        "'12.03.2020'); say which with --time-format FORMAT (e.g. --time-format %d.%m.%Y), or "
        "write the dates as ISO dates (2020-01-31)")
    data = load_data(path, target="flow", id_column="site", time_column="day",
                     time_format=form)
    np.testing.assert_array_equal(data.X[:, :, 0], [order, order])
    first, last = (AMBIGUOUS[order[0] - 1], AMBIGUOUS[order[-1] - 1])
    assert data.facts["time steps"] == (f"4 per sequence, day dates in the format {form} "
                                        f"(--time-format), in time order: first {first}, last "
                                        f"{last}")
    # the command line: refused in one line without the option, read with it
    argv = ["run", str(files["root"] / "mlp.skops"), str(path), "--id", "site", "--time", "day",
            "--target", "flow", "--out", str(tmp_path / "out")]
    assert cli.main(argv) == 2
    assert "--time-format FORMAT" in capsys.readouterr().err
    with pytest.raises(varimp.InputError, match=r"is not in the --time-format %Y-%m-%d: "
                       r"'10.01.2020' \(data row 1\) does not match it"):
        load_data(path, target="flow", id_column="site", time_column="day",
                  time_format="%Y-%m-%d")


def test_iso_and_unambiguous_dates_need_no_time_format(tmp_path):
    for days, form in [(["2020-01-10", "2020-02-03", "2020-03-07"], "%Y-%m-%d"),
                       (["13.01.2020", "03.02.2020", "07.03.2020"], "%d.%m.%Y"),
                       (["01.01.2020", "02.02.2020", "03.03.2020"], "%m.%d.%Y")]:
        data = load_data(_days(tmp_path, days), id_column="site", time_column="day")
        np.testing.assert_array_equal(data.X[:, :, 0], [[1, 2, 3], [1, 2, 3]])
        assert f"dates in the format {form}, in time order" in data.facts["time steps"]


def test_a_run_records_where_it_ran_and_the_files_absolute_paths(files, tmp_path,
                                                                 monkeypatch):
    root = files["root"]
    monkeypatch.chdir(root)
    out = tmp_path / "rel"
    assert cli.main(["run", "mlp.skops", "table.csv", "--target", "y", "--methods", "garson",
                     "--quiet", "--out", str(out)]) == 0
    run = json.loads((out / "run.json").read_text())
    assert run["working folder"] == str(root)
    assert run["model file"] == str(root / "mlp.skops")
    assert run["data file"] == str(root / "table.csv")
    assert run["command"] == f"varimp run mlp.skops table.csv --target y --methods garson " \
        f"--quiet --out {out}"
    assert f"<td>{root}</td>" in (out / "report.html").read_text()


# -- warnings -----------------------------------------------------------------------------------
REFITS = ["--methods", "backward_stepwise", "--fit-epochs", "2"]  # refits that stop early


def test_warnings_are_one_line_each_and_said_once(files, tmp_path, capsys):
    root = files["root"]
    assert cli.main(["run", str(root / "mlp.skops"), str(root / "table.csv"), "--target", "y",
                     *REFITS, "--out", str(tmp_path / "out")]) == 0
    captured = capsys.readouterr()
    assert "backward_stepwise" in captured.out
    lines = captured.err.splitlines()
    assert lines and all(line.startswith("varimp: warning: ") for line in lines)
    converged = [line for line in lines if "ConvergenceWarning: Stochastic Optimizer: Maximum "
                 "iterations (2) reached" in line]
    assert len(converged) == 1 and converged[0].endswith(" times)")  # many refits, one line


def test_quiet_is_quiet(files, tmp_path, capsys):
    root = files["root"]
    assert cli.main(["run", str(root / "mlp.skops"), str(root / "table.csv"), "--target", "y",
                     *REFITS, "--quiet", "--out", str(tmp_path / "out")]) == 0
    assert capsys.readouterr() == ("", "")
    # still recorded in the output
    warned = json.loads((tmp_path / "out" / "run.json").read_text())["warnings"]
    assert [w["category"] for w in warned] == ["ConvergenceWarning"]


def test_warnings_of_worker_processes_are_one_line_and_in_the_report(files, tmp_path):
    """--n-jobs 2: the refits run in joblib's processes; their warnings come back and are said
    as in a sequential run: one line with the number of times, which run.json and the report
    record too."""
    env = {**os.environ, "MPLBACKEND": "Agg", "KERAS_BACKEND": "torch"}
    root, out = files["root"], tmp_path / "out"
    argv = [sys.executable, "-m", "varimp.cli", "run", str(root / "mlp.skops"),
            str(root / "table.csv"), "--target", "y", *REFITS, "--n-jobs", "2", "--out",
            str(out)]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    line = ("varimp: warning: ConvergenceWarning: Stochastic Optimizer: Maximum iterations (2) "
            "reached and the optimization hasn't converged yet.")
    lines = [text for text in done.stderr.splitlines() if "%|" not in text]  # not progress
    assert len(lines) == 1 and lines[0].startswith(line + " ("), done.stderr
    times = int(re.fullmatch(r".* \((\d+) times\)", lines[0]).group(1))
    # 1 + 3 + 2 + 1 fits for three inputs, more with the fits run ahead on a guess
    assert times >= 7
    warned = json.loads((out / "run.json").read_text())["warnings"]
    assert warned == [{"category": "ConvergenceWarning", "message": line.split(": ", 3)[3],
                       "count": times}]
    report = (out / "report.html").read_text()
    assert f'<ul class="warnings"><li data-count="{times}">' in report
    assert f"(ConvergenceWarning, {times} times)" in report


def test_an_error_after_warnings_is_still_one_line(files, tmp_path, capsys, monkeypatch):
    def unwritable(work, case, info, warned, begun=None):
        raise PermissionError(13, "Permission denied", str(work / "report.html"))

    monkeypatch.setattr(runner, "write_outputs", unwritable)
    root, out = files["root"], tmp_path / "out"
    assert cli.main(["run", str(root / "mlp.skops"), str(root / "table.csv"), "--target", "y",
                     *REFITS, "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"varimp: cannot write --out {out}: Permission denied\n"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("n", "warned"), [(4, True), (19, False)])
def test_too_few_permutations_for_a_star_are_said(files, tmp_path, capsys, n, warned):
    root, out = files["root"], tmp_path / "out"
    assert cli.main(["run", str(root / "mlp.skops"), str(root / "table.csv"), "--target", "y",
                     "--methods", "garson", "--fit-epochs", "2", "--randomization", str(n),
                     "--out", str(out)]) == 0
    said = (f"varimp: warning: --randomization {n}: the smallest p-value {n} permutations can "
            f"give is 1/({n}+1) = {1 / (n + 1):.3g}, above 0.05, so no variable can be marked "
            "significant; use at least 19 permutations")
    assert (said in capsys.readouterr().err.splitlines()) == warned
    noted = f"the smallest attainable p-value is 1/({n}+1) = {1 / (n + 1):.3g}, above 0.05"
    assert (noted in (out / "report.html").read_text()) == warned
    assert (noted in json.loads((out / "run.json").read_text())["p-values"]) == warned
    assert (_written(out, "garson").pvalues.min() >= 1 / (n + 1))


def _short_fit(model, X, y, epochs):
    """The default refit of a scikit-learn model with ``max_iter=epochs``, as --fit-epochs."""
    import dataclasses

    from sklearn.base import clone

    from varimp.refit import resolve_fit

    fit = resolve_fit(model, None, X, y)[0]
    return dataclasses.replace(fit, estimator=clone(model).set_params(max_iter=epochs))


def test_retraining_with_short_fits(files, tmp_path):
    X, y, sk = files["X"], files["y"], files["sk"]
    out = _run(files, tmp_path, "mlp.skops", "table.csv", "--target", "y",
               methods=["backward_stepwise"], extra=["--fit-epochs", "20"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _check(out, sk, X, y, TABLE, ["backward_stepwise"], fit=_short_fit(sk, X, y, 20))


def _same(written, expected):
    """Scores, std, interval and p-values as written equal the Python API's, bit for bit."""
    np.testing.assert_array_equal(written.scores.to_numpy(), expected.scores.to_numpy())
    for name in ("std", "ci", "pvalues"):
        mine, theirs = getattr(written, name), getattr(expected, name)
        assert (mine is None) == (theirs is None), name
        if theirs is not None:
            np.testing.assert_array_equal(mine.to_numpy(), theirs.to_numpy())


def _columns(report, method):
    """The column names of one method's table in report.html."""
    table = report.split(f'<table class="importance" data-method="{method}">')[1]
    return re.findall(r'data-column="([a-z_]+)"', table.split("</thead>")[0])


def test_randomization_gives_the_python_apis_pvalues_and_stars(files, tmp_path, capsys):
    X, y, sk = np.float64(files["X"]), np.float64(files["y"]), files["sk"]
    methods = ["permutation", "garson"]
    out = _run(files, tmp_path, "mlp.skops", "table.csv", "--target", "y", methods=methods,
               extra=["--randomization", "9", "--fit-epochs", "20", "--ci-level", "0.9"])
    report = (out / "report.html").read_text()
    short = _short_fit(sk, X, y, 20)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for method in methods:
            expected = varimp.randomization_test(
                sk, X, y, method=method, fit=short, n_permutations=9, random_state=SEED,
                ci_level=0.9, feature_names=TABLE, progress=False)
            written = _written(out, method)
            _same(written, expected)
            assert written.pvalues.min() >= 0.1  # 1 / (1 + 9), never zero
            table = pd.read_csv(out / f"{method}.csv")
            np.testing.assert_array_equal(table["pvalue"], expected.pvalues.to_numpy())
            assert "pvalue" in _columns(report, method)
    assert (written.ci is None) and _written(out, "permutation").ci is not None  # garson: none
    assert report.count("Stars: Benjamini-Hochberg adjusted p-values of the randomization") == 2
    # the terminal shows the raw p-values and the adjusted ones the stars follow (scipy's BH)
    printed = runner.pvalue_tables(varimp.Comparison({"garson": written}), 9)
    raw, adjusted = printed.split("\np-values (9 permutations):")[1], \
        printed.split("Benjamini-Hochberg adjusted p-values (the stars) (9 permutations):")[1]
    for text, values in ((raw, written.pvalues),
                         (adjusted, scipy.stats.false_discovery_control(written.pvalues))):
        rows = dict(line.split() for line in text.strip().splitlines()[1:len(TABLE) + 1])
        assert rows == {name: f"{v:.3g}" for name, v in zip(TABLE, values, strict=True)}
    assert "from 9 permutations: networks refitted on permuted targets" in report
    run = json.loads((out / "run.json").read_text())
    assert "randomization=9" in run["options"] and "from 9 permutations" in run["p-values"]
    assert run["intervals"] == "0.9 row bootstrap for permutation"


def test_an_ensemble_equals_the_python_api(files, tmp_path):
    X, y, sk = np.float64(files["X"]), np.float64(files["y"]), files["sk"]
    methods = ["permutation", "connection_weights"]
    out = _run(files, tmp_path, "mlp.skops", "table.csv", "--target", "y", methods=methods,
               extra=["--ensemble", "3", "--ci-level", "0.8"])
    report = (out / "report.html").read_text()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for method in methods:
            expected = varimp.ensemble(sk, X, y, method=method, n_models=3, ci_level=0.8,
                                       random_state=SEED, feature_names=TABLE, progress=False)
            written = _written(out, method)
            _same(written, expected)
            assert written.ci is not None and written.std is not None
            assert {"std", "ci_low", "ci_high"} <= set(_columns(report, method))
    assert report.count("Error bars: 80% t prediction interval from 3 refitted networks.") == 2
    assert ("mean over 3 refitted networks, each on a bootstrap resample of the rows; std and "
            "0.8 t prediction interval for one more network") in report


def test_the_row_bootstrap_interval_equals_the_python_apis(files, tmp_path):
    methods = ["perturbation", "permutation", "improved_stepwise_1", "partial_derivatives",
               "garson"]
    X, y, sk = np.float64(files["X"]), np.float64(files["y"]), files["sk"]
    out = _run(files, tmp_path, "mlp.skops", "table.csv", "--target", "y", methods=methods,
               extra=["--ci-level", "0.9", "--n-bootstrap", "200"])
    report = (out / "report.html").read_text()
    for method in methods:
        expected = varimp.importance(sk, X, y, method=method, random_state=SEED, ci_level=0.9,
                                     n_bootstrap=200, feature_names=TABLE, progress=False)
        _same(_written(out, method), expected)
        assert ({"ci_low", "ci_high"} <= set(_columns(report, method))) == (method != "garson")
    run = json.loads((out / "run.json").read_text())
    assert run["intervals"] == ("0.9 row bootstrap of 200 resamples for perturbation, "
                                "permutation, improved_stepwise_1, partial_derivatives")


def test_a_subprocess_run_and_a_second_run_replacing_it(files, tmp_path, capsys):
    env = {**os.environ, "MPLBACKEND": "Agg", "KERAS_BACKEND": "torch"}
    root, out = files["root"], tmp_path / "results"
    argv = [sys.executable, "-m", "varimp.cli", "run", str(root / "mlp.pt2"),
            str(root / "table.csv"), "--target", "y", "--methods", "permutation",
            "profile", "--seed", str(SEED), "--out", str(out)]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert f"to {out}" in done.stdout and "permutation" in done.stdout
    loaded = load_model(root / "mlp.pt2").model
    _check(out, loaded, files["X"], files["y"], TABLE, ["permutation", "profile"])
    written = sorted(
        ["agreement.csv", "comparison.csv", "comparison.json", "comparison.png", "ranks.png",
         "permutation.csv", "permutation.json", "permutation_bar.png", "profile.csv",
         "profile.json", "profile_bar.png", "profile_profile.png", "report.html", "run.json"])
    assert sorted(p.name for p in out.iterdir()) == sorted([*written, cli.MANIFEST])
    assert json.loads((out / cli.MANIFEST).read_text())["files"] == written
    again = ["run", str(root / "mlp.skops"), str(root / "table.csv"), "--target", "y",
             "--methods", "garson", "--quiet", "--out", str(out)]
    before = _snapshot(out)
    assert cli.main(again) == 2  # an earlier output: replaced only with --overwrite
    assert capsys.readouterr().err == (f"varimp: --out {out} holds an earlier varimp output; "
                                       "pass --overwrite to replace it, or choose a new or "
                                       "empty directory\n")
    assert _snapshot(out) == before
    (out / "mine.png").write_bytes(b"the user's")
    before = _snapshot(out)
    assert cli.main([*again, "--overwrite"]) == 2  # with a file varimp did not write: never
    assert "holds an earlier varimp output and files varimp did not write there (mine.png)" in \
        capsys.readouterr().err
    assert _snapshot(out) == before
    (out / "mine.png").unlink()
    assert cli.main([*again, "--overwrite"]) == 0
    assert (out / "garson.json").is_file() and not (out / "permutation.json").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["results"]


def _snapshot(folder):
    """Every file under ``folder`` (relative path -> bytes) and every folder."""
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else "folder"
            for p in sorted(folder.rglob("*"))}


# -- bad input ----------------------------------------------------------------------------------
def _bad_files(root):
    (root / "broken.csv").write_text('a,b,y\n1,2,3\n4,"5\n', encoding="utf-8")
    (root / "holes.csv").write_text("a,b,c,y\n1,2,3,4\n1,,3,4\n5,6,7,8\n", encoding="utf-8")
    (root / "ragged.csv").write_text("id,t,u,v,w,y\n1,0,1,2,3,4\n1,1,1,2,3,4\n2,0,1,2,3,4\n",
                                     encoding="utf-8")
    (root / "words.csv").write_text("a,b,c,y\n1,x,3,4\n2,y,3,5\n", encoding="utf-8")
    (root / "odd_time.csv").write_text("id,t,u,v,w,y\n1,0,1,2,3,4\n1,x,1,2,3,4\n2,0,1,2,3,4\n"
                                       "2,x,1,2,3,4\n", encoding="utf-8")
    (root / "no_id.csv").write_text("id,t,u,v,w,y\n1,0,1,2,3,4\n,1,1,2,3,4\n",
                                    encoding="utf-8")
    (root / "script.pt2").write_bytes((root / "mlp.pt").read_bytes())  # TorchScript, misnamed
    (root / "garbage.pt2").write_bytes(b"not a zip archive")


ERRORS = [
    (["missing.pt2", "table.csv", "--target", "y"], "model file {root}/missing.pt2 does not exist"),
    (["mlp.pt2", "missing.csv", "--target", "y"], "data file {root}/missing.csv does not exist"),
    (["mlp.pt2", "broken.csv", "--target", "y"], "cannot read data file {root}/broken.csv as CSV"),
    (["mlp.pt2", "table.csv", "--target", "z"], "has no column 'z'; its columns are ['a', 'b', "
     "'c', 'y']"),
    (["mlp.pt2", "table.csv", "--target", "y", "--features", "a", "b"], "the model in "
     "{root}/mlp.pt2 reads 3 input features; the data in {root}/table.csv have 2 (a, b)"),
    (["mlp.skops", "seq.npz"], "the model in {root}/mlp.skops reads inputs of shape (features,) "
     "= (3,); the data in {root}/seq.npz are (5, 3) per sample"),
    (["gru.onnx", "table.csv", "--target", "y"], "reads inputs of shape (steps, features) = "
     "(5, 3)"),
    (["mlp.pt", "table.csv", "--target", "y", "--features", "a"], "InputError: the model "
     "expects input of shape (n, 3); received X of shape (60, 1)"),
    (["mlp.pt2", "holes.csv", "--target", "y"], "has 1 missing or infinite values in b (1)"),
    (["mlp.pt2", "words.csv", "--target", "y"], "feature columns ['b'] of data file "
     "{root}/words.csv are not numeric: 'b' holds 'x' in data row 1; name the input columns "
     "with --features"),
    (["lstm.keras", "ragged.csv", "--id", "id", "--time", "t", "--target", "y"], "every "
     "sequence must have the same number of time steps: id=2 has 1 step (0), id=1 has 2 steps "
     "(0, 1) (1 of 2 sequences have fewer than 2); trim or drop sequences so that all have "
     "the same number of steps"),
    (["lstm.keras", "odd_time.csv", "--id", "id", "--time", "t", "--target", "y"], "the time "
     "column 't' of data file {root}/odd_time.csv must hold numbers or dates written in one "
     "format (e.g. 2020-01-31 or 01/2020); it holds '0', 'x'"),
    (["lstm.keras", "no_id.csv", "--id", "id", "--time", "t", "--target", "y"], "the id "
     "column 'id' of data file {root}/no_id.csv has 1 missing values (the first in data row 2)"),
    (["binary.skops", "labels.csv", "--target", "state", "--features", "c", "b", "a"], "the "
     "model in {root}/binary.skops was fitted on the columns ['a', 'b', 'c'] in this order; the "
     "inputs read from {root}/labels.csv are ['c', 'b', 'a']: pass --features a b c"),
    (["mlp.skops", "labels.csv", "--target", "state", "--classes", ","], "--classes must "
     "name the class labels"),
    (["mlp.pt2", "table.csv", "--target", "y", "--methods", "permutation,shap"],
     "method must be one of"),
    (["mlp.pt2", "table.csv", "--features", "a", "b", "c", "--methods", "permutation"],
     "InputError: --methods permutation cannot run on this model and data: needs y (give "
     "--target, the column of the targets)"),
    (["mlp.pt2", "table_X.npy", "--methods", "permutation"], "InputError: --methods "
     "permutation cannot run on this model and data: needs y (give --target-file, or X and y "
     "in one .npz)"),
    (["mlp.pt2", "table.csv", "--target", "y", "--methods", "permutation", "garson"],
     "InputError: --methods garson cannot run on this model and data: cannot read the "
     "weights: this is a torch.export program (.pt2)"),
    (["gru.onnx", "seq.npz", "--methods", "permutation,backward_stepwise"], "InputError: "
     "--methods backward_stepwise cannot run on this model and data: cannot retrain: varimp "
     "cannot"),
    (["mlp.pt2", "table.csv", "--target", "y", "--group", "ab=a,q"], "InputError: --group "
     "ab=a,q: 'q' is not a feature column; the features are ['a', 'b', 'c']"),
    (["mlp.pt2", "table.csv", "--target", "y", "--group", "a,b"], "InputError: --group must be "
     "NAME=COL1,COL2,... (a name, '=', the feature columns scored together); received 'a,b'"),
    (["mlp.pt2", "table.csv", "--target", "y", "--methods", "permutation", "--scale", "std"],
     "InputError: --scale std scales the scores of connection_weights, garson, "
     "partial_derivatives, none of which this run computes (methods: permutation)"),
    (["mlp.pt2", "table.csv", "--target", "y", "--scale", "sd"], "argument --scale: invalid "
     "choice: 'sd'"),
    (["list.pkl", "table.csv", "--target", "y"], "model file {root}/list.pkl is a pickle: "
     "refused without --trust-pickle, because loading an untrusted pickle can run arbitrary code"),
    (["full.pt", "table.csv", "--target", "y"], "is a full torch.save pickle, not TorchScript: "
     "refused without --trust-pickle"),
    (["mlp.joblib", "table.csv", "--target", "y"], "refused without --trust-pickle"),
    (["piped.skops", "table.csv", "--target", "y"], "holds types that are not scikit-learn's "
     "own: ['_operator.neg']"),
    (["list.pkl", "table.csv", "--target", "y", "--trust-pickle"], "model must be a torch.nn."
     "Module, a Keras model, a fitted scikit-learn MLP or a callable; received list"),
    (["table.csv", "table.csv"], "model file {root}/table.csv has suffix '.csv'"),
    (["script.pt2", "table.csv", "--target", "y"], "InputError: model file {root}/script.pt2 "
     "is not a program saved by torch.export.save (.pt2): it is a TorchScript module "
     "(torch.jit.save); name it .pt to run it"),
    (["garbage.pt2", "table.csv", "--target", "y"], "InputError: model file {root}/garbage.pt2 "
     "is not a program saved by torch.export.save (.pt2): RuntimeError: PytorchStreamReader "
     "failed reading zip archive: not a ZIP archive"),
    (["logits.pt2", "table.csv", "--target", "y", "--methods", "permutation"], "--target gives "
     "1 column (y) but the model has 2 outputs, read as regression values: give --target one "
     "column per output, in the order of the model's outputs (--output then chooses the "
     "outputs to explain)"),
    (["mlp.skops", "table.csv", "--target", "y", "c", "--features", "a", "b", "c"], "column "
     "'c' is both the target and a feature"),
    (["mlp.pt", "table.csv", "--target", "y,a", "--features", "a", "b", "c"], "column 'a' is "
     "both the target and a feature"),
    (["mlp.pt2", "table.csv", "--target", "y", "--n-repeats", "0"], "InputError: --n-repeats "
     "must be"),
    (["mlp.pt2", "table.csv", "--target", "y", "--scoring", "closeness"], "InputError: "
     "--scoring must be"),
    (["mlp.pt2", "table.csv", "--target", "y", "--output-kind", "odds"], "invalid choice"),
    (["mlp.pt2", "table_X.npy", "--target", "y"], "--target, --id and --time name columns of a "
     "table"),
    (["mlp.pt2", "table.csv", "--target", "y", "--randomization", "9"], "InputError: "
     "--randomization 9 retrains the model: a torch.export program (.pt2) keeps the weights "
     "but not the layers they belong to, so varimp cannot rebuild the network to train it "
     "afresh (save the model with torch.jit.script, .pt, which varimp rebuilds); the command "
     "line retrains"),
    (["mlp.pt2", "table.csv", "--target", "y", "--methods", "forward_stepwise"], "InputError: "
     "--methods forward_stepwise cannot run on this model and data: cannot retrain: a "
     "torch.export program (.pt2) keeps the weights but not the layers they belong to, so "
     "varimp cannot rebuild the network to train it afresh (save the model with "
     "torch.jit.script, .pt, which varimp rebuilds) (leave it out of --methods"),
    (["mlp.pt2", "table.csv", "--target", "y", "--output-step", "1"], "InputError: "
     "--output-step must be 0: the model predicts one step (one prediction per sequence; "
     "several values in it are outputs, chosen with --output, not --output-step); received 1"),
    (["mlp.pt2", "table.csv", "--target", "y", "--output", "3"], "InputError: --output must "
     "be an index in 0..0 (the model has 1 outputs); received 3"),
    (["gru.onnx", "seq.npz", "--randomization", "9"], "the command line retrains only models "
     "varimp can rebuild (--fit-epochs sets their training); from Python, pass your own "
     "training function as fit= to varimp.randomization_test or varimp.ensemble"),
    (["gru.onnx", "seq.npz", "--ensemble", "3"], "--ensemble 3 retrains the model: varimp "
     "cannot"),
    (["gru.onnx", "seq.npz", "--randomization", "9"], "--randomization 9 retrains the model: "
     "varimp cannot retrain"),
    (["mlp.skops", "table_X.npy", "--ensemble", "3"], "--ensemble 3 trains networks on the "
     "targets: give --target"),
    (["mlp.skops", "table.csv", "--target", "y", "--randomization", "0"], "argument "
     "--randomization: expected an integer of at least 1; received '0'"),
    (["mlp.skops", "table.csv", "--target", "y", "--randomization", "many"], "argument "
     "--randomization: expected an integer of at least 1; received 'many'"),
    (["mlp.skops", "table.csv", "--target", "y", "--ensemble", "1"], "argument --ensemble: "
     "expected an integer of at least 2; received '1'"),
    (["mlp.skops", "table.csv", "--target", "y", "--ci-level", "1"], "argument --ci-level: "
     "expected a number strictly between 0 and 1; received '1'"),
    (["mlp.skops", "table.csv", "--target", "y", "--ci-level", "0"], "argument --ci-level: "
     "expected a number strictly between 0 and 1; received '0'"),
    (["mlp.skops", "table.csv", "--target", "y", "--ci-level", "95"], "received '95'"),
    (["mlp.skops", "table.csv", "--target", "y", "--ci-level", "nan"], "received 'nan'"),
    (["mlp.skops", "table.csv", "--target", "y", "--ci-level", "0.9", "--n-bootstrap", "1"],
     "argument --n-bootstrap: expected an integer of at least 2; received '1'"),
    (["mlp.skops", "table.csv", "--target", "y", "--n-bootstrap", "100"], "--n-bootstrap sets "
     "the resamples of the --ci-level interval; give --ci-level too"),
    (["mlp.skops", "table.csv", "--target", "y", "--ensemble", "3", "--ci-level", "0.9",
      "--n-bootstrap", "100"], "--n-bootstrap does not apply with --ensemble"),
    (["mlp.skops", "table.csv", "--target", "y", "--randomization", "9", "--ensemble", "3"],
     "argument --ensemble: not allowed with argument --randomization"),
]


@pytest.mark.parametrize(("args", "message"), ERRORS, ids=[e[1][:30] for e in ERRORS])
def test_bad_input_is_one_line_exit_2_and_nothing_written(files, tmp_path, capsys, args,
                                                          message):
    root = files["root"]
    _bad_files(root)
    out = tmp_path / "deep" / "out"
    argv = ["run", *(str(root / a) if "." in a and a[0].isalpha() and "," not in a
                     else a for a in args), "--out", str(out)]
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err, captured.err
    assert message.format(root=root) in lines[0]
    assert list(tmp_path.iterdir()) == []  # not DIR, not its parent, no temporary directory


def test_an_output_folder_that_is_not_ours_is_left_alone(files, tmp_path, capsys):
    out = tmp_path / "mine"
    (out / "data").mkdir(parents=True)
    (out / "notes.txt").write_text("keep me")
    (out / "report.html").write_text("<p>my own report, not varimp's</p>")
    (out / "report.txt").write_text("mine too")
    (out / "data" / "sites.csv").write_text("a,b\n1,2\n")
    before = _snapshot(out)
    root = files["root"]
    for extra in ([], ["--overwrite"]):
        assert cli.main(["run", str(root / "mlp.skops"), str(root / "table.csv"), "--target",
                         "y", "--methods", "garson", "--out", str(out), *extra]) == 2
        err = capsys.readouterr().err
        assert err == (f"varimp: --out {out} exists and is not empty, and is not a folder "
                       "varimp wrote; choose a new or empty directory\n")
        assert _snapshot(out) == before
        assert [p.name for p in tmp_path.iterdir()] == ["mine"]


def test_out_dot_in_a_folder_of_the_users_is_refused(files, tmp_path, capsys, monkeypatch):
    import shutil

    work = tmp_path / "project"
    work.mkdir()
    for name in ("mlp.skops", "table.csv"):
        shutil.copy(files["root"] / name, work / name)
    (work / "notes.md").write_text("field notes")
    (work / "report.html").write_text("<p>last year's report</p>")
    before = _snapshot(work)
    monkeypatch.chdir(work)
    for extra in ([], ["--overwrite"]):
        assert cli.main(["run", "mlp.skops", "table.csv", "--target", "y", "--methods",
                         "garson", "--out", ".", *extra]) == 2
        assert capsys.readouterr().err.startswith("varimp: --out . exists and is not empty")
        assert _snapshot(work) == before
    assert [p.name for p in tmp_path.iterdir()] == ["project"]


def test_overwrite_deletes_only_the_files_the_manifest_lists(files, tmp_path, capsys):
    out, outside = tmp_path / "earlier", tmp_path / "outside.txt"
    out.mkdir()
    outside.write_text("not varimp's")
    (out / "report.html").write_text("an earlier report")
    (out / cli.MANIFEST).write_text(json.dumps(
        {"files": ["report.html", "../outside.txt", str(outside), ".."]}))
    root = files["root"]
    assert cli.main(["run", str(root / "mlp.skops"), str(root / "table.csv"), "--target", "y",
                     "--methods", "garson", "--quiet", "--overwrite", "--out", str(out)]) == 0
    assert outside.read_text() == "not varimp's"
    assert "an earlier report" not in (out / "report.html").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["earlier", "outside.txt"]


def test_help_names_every_uncertainty_option_and_the_rule_that_joins_them(capsys):
    assert cli.main(["run", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    for option in ("--randomization N", "--ensemble N", "--ci-level L", "--n-bootstrap B"):
        assert option in text
    assert "[--randomization N | --ensemble N]" in text
    assert "cannot be combined" in text and "Olden & Jackson (2002)" in text


def test_a_pt2_that_is_not_an_exported_program_logs_nothing(files):
    # torch.export.load logs the error with its traceback through logging, then raises one
    # that says only "check the warnings above": varimp keeps the cause, torch's log is silent
    logged = []

    class Keep(logging.Handler):
        def emit(self, record):
            logged.append(record)

    logger = logging.getLogger("torch.export")
    keep = Keep()
    logger.addHandler(keep)
    try:
        _bad_files(files["root"])
        with pytest.raises(varimp.InputError, match="it is a TorchScript module"):
            load_model(files["root"] / "script.pt2")
    finally:
        logger.removeHandler(keep)
    assert logged == []
    assert keep not in logger.handlers and load_model(files["root"] / "mlp.pt2").input_shape \
        == (3,)


# -- what the targets are -----------------------------------------------------------------------
def test_a_per_step_target_is_scored_at_the_last_step_and_said_so(files, tmp_path):
    S, lstm = files["S"], files["lstm"]
    per_step = _dyadic(S[:, :, 0] * np.arange(1, STEPS + 1))  # a different target every step
    rows = [{"id": i, "t": t, "u": float(S[i, t, 0]), "v": float(S[i, t, 1]),
             "w": float(S[i, t, 2]), "level": float(per_step[i, t])}
            for i in range(N_SEQ) for t in range(STEPS)]
    pd.DataFrame(rows).to_csv(tmp_path / "steps.csv", index=False)
    argv = ["run", str(files["root"] / "lstm.keras"), str(tmp_path / "steps.csv"), "--id",
            "id", "--time", "t", "--target", "level", "--methods", "permutation", "--seed",
            str(SEED), "--quiet", "--out", str(tmp_path / "out")]
    assert cli.main(argv) == 0
    out = tmp_path / "out"
    _check(out, lstm, S, per_step[:, -1], SEQ, ["permutation"])  # the last step's targets
    said = ("level at the last step of each sequence (the model predicts one value per "
            f"sequence; the table has one per step, {STEPS} steps), shape {N_SEQ}")
    assert json.loads((out / "run.json").read_text())["facts"]["target"] == said
    assert said in (out / "report.html").read_text()
    # a model that predicts every step is scored at every step, as the table says
    data = load_data(tmp_path / "steps.csv", target="level", id_column="id", time_column="t")
    assert data.facts["target"] == f"level, one value per time step, shape {N_SEQ} x {STEPS}"
    every = torch.nn.Sequential(torch.nn.Linear(3, 1)).double()
    assert runner.scored_targets(every, data, ["level"]) is data


def test_several_target_columns_are_one_per_output(files, tmp_path, capsys):
    X, y = files["X"], files["y"]
    second = _dyadic(X[:, 2] - X[:, 0])
    table = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "c": X[:, 2], "y": y, "z": second},
                         dtype=np.float64)
    table.to_csv(tmp_path / "two.csv", index=False)
    loaded = load_model(files["root"] / "logits.pt2").model  # 3 inputs, 2 outputs
    both = np.c_[y, second]
    for given in (["y", "z"], ["y,z"]):
        out = tmp_path / "out" / given[0]
        assert cli.main(["run", str(files["root"] / "logits.pt2"), str(tmp_path / "two.csv"),
                         "--target", *given, "--methods", "permutation,perturbation", "--seed",
                         str(SEED), "--quiet", "--out", str(out)]) == 0
        _check(out, loaded, X, both, TABLE, ["permutation", "perturbation"])
        facts = json.loads((out / "run.json").read_text())["facts"]
        assert facts["target"] == f"y, z (one column per output), shape {N_ROWS} x 2"
    # the other order is the other assignment of columns to outputs: other scores
    swapped = varimp.importance(loaded, np.float64(X), np.float64(both[:, ::-1]),
                                method="permutation", random_state=SEED,
                                feature_names=TABLE, progress=False)
    assert not np.allclose(_written(out, "permutation").scores, swapped.scores)
    # one output, two columns: refused in the command line's words
    assert cli.main(["run", str(files["root"] / "mlp.pt2"), str(tmp_path / "two.csv"),
                     "--target", "y", "z", "--features", "a", "b", "c", "--out",
                     str(tmp_path / "refused")]) == 2
    assert capsys.readouterr().err == (
        "varimp: error: InputError: --target gives 2 columns (y z) but the model has 1 "
        "output, read as regression values: give --target one column per output, in the "
        "order of the model's outputs (--output then chooses the outputs to explain)\n")
    assert not (tmp_path / "refused").exists()


def test_target_columns_named_whole_or_comma_separated(files, tmp_path, capsys):
    """A column whose name holds spaces or commas is named whole; any other value of --target
    is comma-separated names; several values are several columns."""
    X, y = files["X"], files["y"]
    second = _dyadic(X[:, 2] - X[:, 0])
    flow, odd = "flow rate (m3/s)", "z, second"
    table = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "c": X[:, 2], flow: y, odd: second,
                          "z": second}, dtype=np.float64)
    table.to_csv(tmp_path / "named.csv", index=False)
    loaded = load_model(files["root"] / "logits.pt2").model  # 3 inputs, 2 outputs
    both = np.c_[y, second]
    for i, given in enumerate(([flow, "z"], [f"{flow},z"], [flow, odd])):
        out = tmp_path / "out" / str(i)
        assert cli.main(["run", str(files["root"] / "logits.pt2"), str(tmp_path / "named.csv"),
                         "--target", *given, "--features", "a,b", "c", "--methods",
                         "permutation", "--seed", str(SEED), "--quiet", "--out", str(out)]) == 0
        _check(out, loaded, X, both, TABLE, ["permutation"])
        facts = json.loads((out / "run.json").read_text())["facts"]
        second_name = odd if odd in given else "z"
        assert facts["target"] == (f"{flow}, {second_name} (one column per output), shape "
                                   f"{N_ROWS} x 2")
    data = load_data(tmp_path / "named.csv", target=[flow], features=["a", "b, c"])
    assert data.target_names == [flow] and data.feature_names == TABLE
    np.testing.assert_array_equal(data.y, y)
    # one output, one column with spaces in its name
    single = load_model(files["root"] / "mlp.pt2").model
    out = tmp_path / "single"
    assert cli.main(["run", str(files["root"] / "mlp.pt2"), str(tmp_path / "named.csv"),
                     "--target", flow, "--features", "a", "b", "c", "--methods", "permutation",
                     "--seed", str(SEED), "--quiet", "--out", str(out)]) == 0
    _check(out, single, X, y, TABLE, ["permutation"])
    # a name that is neither a column nor comma-separated columns
    assert cli.main(["run", str(files["root"] / "mlp.pt2"), str(tmp_path / "named.csv"),
                     "--target", "flow rate", "--features", "a", "b", "c", "--out",
                     str(tmp_path / "refused")]) == 2
    assert capsys.readouterr().err.startswith(
        "varimp: error: InputError: data file " + str(tmp_path / "named.csv") + " has no "
        "column 'flow rate'; its columns are ['a', 'b', 'c', 'flow rate (m3/s)', 'z, second', "
        "'z']")


def test_an_unreadable_pt2_is_refused_with_torchs_whole_first_line(tmp_path):
    import zipfile

    with zipfile.ZipFile(tmp_path / "flat.pt2", "w") as archive:  # no folder inside
        archive.writestr("weights.npy", b"0")
    with pytest.raises(varimp.InputError) as info:
        load_model(tmp_path / "flat.pt2")
    assert str(info.value) == (
        f"model file {tmp_path}/flat.pt2 is not a program saved by torch.export.save (.pt2): "
        "RuntimeError: [enforce fail at inline_container.cc:180] . file in archive is not in a "
        "subdirectory: weights.npy")


# -- dates that read day or month first ---------------------------------------------------------
def test_dates_in_the_same_order_both_ways_need_regular_steps_to_tell(tmp_path):
    # ten days of January written day first read as ten months month first: both regular
    days = [f"{d:02d}/01/2022" for d in range(1, 11)]
    path = _days(tmp_path, days)
    with pytest.raises(varimp.InputError) as refused:
        load_data(path, id_column="site", time_column="day")
    assert str(refused.value) == (
        f"the time column 'day' of data file {path} holds dates that read in several formats: "
        "%m/%d/%Y, %d/%m/%Y ('01/01/2022', '02/01/2022', '03/01/2022', '04/01/2022'); they "
        "sort the same either way, but '02/01/2022' is 01 February 2022 or 02 January 2022, "
        "and the steps are regular both ways: say which with --time-format FORMAT (e.g. "
        "--time-format %d/%m/%Y), or write the dates as ISO dates (2020-01-31)")
    data = load_data(path, id_column="site", time_column="day", time_format="%d/%m/%Y")
    np.testing.assert_array_equal(data.X[:, :, 0], [np.arange(1, 11)] * 2)
    # every 31 days day first (1 Jan, 1 Feb, 4 Mar, 4 Apr); month first 1 Jan, 2 Jan, 3 Apr,
    # 4 Apr: only one reading has regular steps
    data = load_data(_days(tmp_path, ["01/01/2022", "01/02/2022", "04/03/2022", "04/04/2022"]),
                     id_column="site", time_column="day")
    assert data.facts["time steps"] == (
        "4 per sequence, day dates in the format %d/%m/%Y (the one of %m/%d/%Y, %d/%m/%Y whose "
        "steps are regular), in time order: first 01/01/2022, last 04/04/2022")
    # monthly on the 15th: no other reading
    data = load_data(_days(tmp_path, [f"15/{m:02d}/2022" for m in range(1, 7)]),
                     id_column="site", time_column="day")
    assert "day dates in the format %d/%m/%Y, in time order" in data.facts["time steps"]


# -- Keras' safe mode ---------------------------------------------------------------------------
def test_a_keras_lambda_layer_loads_only_with_trust_pickle(tmp_path):
    keras = import_keras()
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Lambda(lambda z: z * 2),
                              keras.layers.Dense(1)])
    model.save(tmp_path / "lambda.keras")
    with pytest.raises(varimp.InputError) as refused:
        load_model(tmp_path / "lambda.keras")
    assert str(refused.value) == (
        f"model file {tmp_path / 'lambda.keras'} holds Python code (a Lambda layer's "
        "function), which Keras' safe mode does not load: refused without --trust-pickle, "
        "because that code can do anything on this computer; pass --trust-pickle only for a "
        "file you made or trust")
    loaded = load_model(tmp_path / "lambda.keras", trust_pickle=True)
    assert loaded.format == "Keras 3 model (safe mode off: --trust-pickle)"
    X = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    np.testing.assert_allclose(loaded.model.predict(X, verbose=0), model.predict(X, verbose=0),
                               rtol=1e-6)


# -- outputs, steps, groups and scales as the Python API takes them -----------------------------
LOADS = ["load_h1", "load_h6", "load_h24"]


def test_output_names_a_target_column_of_several(files, tmp_path):
    """Three target columns name the model's three outputs: --output load_h6 is the API's
    output="load_h6" (and its index 1), and the per-output tables carry the columns' names."""
    X = files["X"]
    Y = _dyadic(np.c_[X[:, 0] + X[:, 1], X[:, 1] - X[:, 2], 2 * X[:, 2]])
    table = pd.DataFrame(np.c_[X, Y], columns=[*TABLE, *LOADS], dtype=np.float64)
    table.to_csv(tmp_path / "loads.csv", index=False)
    torch.manual_seed(2)
    net = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 3)).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.save(torch.jit.script(net), tmp_path / "three.pt")
    methods = ["permutation", "connection_weights", "partial_derivatives"]
    named = pd.DataFrame(np.float64(Y), columns=LOADS)
    argv = ["run", str(tmp_path / "three.pt"), str(tmp_path / "loads.csv"), "--target", *LOADS,
            "--methods", ",".join(methods), "--seed", str(SEED), "--quiet"]
    assert cli.main([*argv, "--output", "load_h6", "--out", str(tmp_path / "one")]) == 0
    _check(tmp_path / "one", net, X, named, TABLE, methods, exact=False, output="load_h6")
    _check(tmp_path / "one", net, X, np.float64(Y), TABLE, methods, exact=False, output=1)
    assert cli.main([*argv, "--out", str(tmp_path / "all")]) == 0
    for method in ("permutation", "partial_derivatives"):
        per_output = _written(tmp_path / "all", method).details["per_output"]
        assert list(per_output.columns) == LOADS


def test_output_step_of_a_model_predicting_every_step(files, tmp_path):
    """--output-step -1 explains the last predicted step, as the API's output_step=-1."""
    S = files["S"]
    per_step = _dyadic(S[:, :, 0] - S[:, :, 1])
    rows = [{"id": i, "t": t, "u": float(S[i, t, 0]), "v": float(S[i, t, 1]),
             "w": float(S[i, t, 2]), "level": float(per_step[i, t])}
            for i in range(N_SEQ) for t in range(STEPS)]
    pd.DataFrame(rows).to_csv(tmp_path / "steps.csv", index=False)
    every = _Recurrent(outputs=1, every_step=True).eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.save(torch.jit.script(every), tmp_path / "every.pt")
    methods = ["permutation", "partial_derivatives"]
    assert cli.main(["run", str(tmp_path / "every.pt"), str(tmp_path / "steps.csv"), "--id",
                     "id", "--time", "t", "--target", "level", "--output-step", "-1",
                     "--methods", *methods, "--seed", str(SEED), "--quiet", "--out",
                     str(tmp_path / "out")]) == 0
    _check(tmp_path / "out", every, S, per_step, SEQ, methods, exact=False, output_step=-1)
    whole = varimp.importance(every, np.float64(S), np.float64(per_step), method="permutation",
                              random_state=SEED, feature_names=SEQ, progress=False)
    assert not np.allclose(_written(tmp_path / "out", "permutation").scores, whole.scores)
    assert "output_step=-1" in json.loads((tmp_path / "out" / "run.json").read_text())["options"]


def test_groups_and_the_derivatives_scale(files, tmp_path, capsys):
    """--group scores columns as one variable and --scale std scales the derivatives, as the
    API's groups= and scale="std"; the library's hint to pass scale='std' names --scale."""
    X, y, sk = files["X"], files["y"], files["sk"]
    methods = ["permutation", "partial_derivatives"]
    out = _run(files, tmp_path / "grouped", "mlp.skops", "table.csv", "--target", "y",
               methods=methods, extra=["--group", "ab=a,b", "--scale", "std"])
    groups = {"ab": ["a", "b"]}
    for method, options in (("permutation", {}), ("partial_derivatives", {"scale": "std"})):
        expected = varimp.importance(sk, np.float64(X), np.float64(y), method=method,
                                     random_state=SEED, feature_names=TABLE, groups=groups,
                                     progress=False, **options)
        written = _written(out, method)
        assert list(written.scores.index) == ["ab", "c"]
        np.testing.assert_array_equal(written.scores.to_numpy(), expected.scores.to_numpy())
    raw = varimp.partial_derivatives(sk, np.float64(X), feature_names=TABLE, groups=groups)
    assert not np.allclose(_written(out, "partial_derivatives").scores, raw.scores)
    # the weight methods take --scale std as their scale="std"
    weights = ["connection_weights", "garson"]
    out = _run(files, tmp_path / "weights", "mlp.skops", "table.csv", "--target", "y",
               methods=weights, extra=["--scale", "std"])
    for method in weights:
        expected = varimp.importance(sk, np.float64(X), method=method, scale="std",
                                     feature_names=TABLE)
        np.testing.assert_array_equal(_written(out, method).scores.to_numpy(),
                                      expected.scores.to_numpy())
        assert _written(out, method).details["scale"] == "std"
    # inputs in units far apart: the library's warning, in the command line's words
    wide = pd.read_csv(files["root"] / "table.csv").assign(c=lambda t: 1000 * t["c"])
    wide.to_csv(tmp_path / "wide.csv", index=False)
    assert cli.main(["run", str(files["root"] / "mlp.skops"), str(tmp_path / "wide.csv"),
                     "--target", "y", "--methods", "partial_derivatives", "--out",
                     str(tmp_path / "wide")]) == 0
    err = capsys.readouterr().err
    assert "pass --scale std to score each input per standard deviation" in err
    assert "scale='std'" not in err
    warned = json.loads((tmp_path / "wide" / "run.json").read_text())["warnings"]
    assert any("pass --scale std" in w["message"] for w in warned)


def test_a_named_method_that_cannot_run_stops_the_run_before_any_method(files, tmp_path,
                                                                          capsys, monkeypatch):
    ran = []
    monkeypatch.setattr(runner, "compute", lambda *args, **kwargs: ran.append(args))
    assert cli.main(["run", str(files["root"] / "gru.onnx"), str(files["root"] / "seq.npz"),
                     "--methods", "permutation,connection_weights", "--out",
                     str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("varimp: error: InputError: --methods connection_weights cannot run "
                          "on this model and data: cannot read the weights: ")
    assert len(err.splitlines()) == 1 and ran == [] and not (tmp_path / "out").exists()


def test_default_methods_skip_the_retraining_ones_a_logits_model_cannot_refit(files, tmp_path):
    """Read as logits, a recurrent network ending in a linear layer is not one varimp's
    trainers train: the stepwise methods are skipped with refit_refusal's reason (the model
    read with --output-kind and --classes), the others run."""
    S = files["S"]
    labels = np.where(files["s_y"] > 0, "up", "down")
    np.savez(tmp_path / "labels.npz", X=S, y=labels)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.save(torch.jit.script(_Recurrent(outputs=2).eval()), tmp_path / "logits.pt")
    classes = ["down", "up"]
    out = tmp_path / "out"
    assert cli.main(["run", str(tmp_path / "logits.pt"), str(tmp_path / "labels.npz"),
                     "--output-kind", "logits", "--classes", ",".join(classes), "--n-repeats",
                     "1", "--no-by-time", "--quiet", "--out", str(out)]) == 0
    from varimp.refit import refit_refusal

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        loaded = load_model(tmp_path / "logits.pt").model
    reason = refit_refusal(loaded, np.float64(S), labels, output_kind="logits", classes=classes)
    assert reason
    run = json.loads((out / "run.json").read_text())
    assert run["skipped"] == {"forward_stepwise": f"cannot retrain: {reason}",
                              "backward_stepwise": f"cannot retrain: {reason}"}
    assert "permutation" in run["methods"] and "stepwise" not in run["methods"].replace(
        "improved_stepwise", "")


def test_sliding_windows_with_their_own_dates_are_aligned_by_position(tmp_path, capsys):
    """Windows of one series, each with its own dates: step k is each window's k-th date."""
    rng = np.random.default_rng(5)
    values = _dyadic(rng.normal(size=(4, 6, 2)))
    rows = [{"window": f"w{i}", "day": (pd.Timestamp("2021-03-01") + pd.Timedelta(
        days=3 * i + t)).strftime("%Y-%m-%d"), "rain": float(values[i, t, 0]),
        "temp": float(values[i, t, 1]), "flow": float(t)} for i in range(4) for t in range(6)]
    path = tmp_path / "windows.csv"
    pd.DataFrame(rows).sample(frac=1.0, random_state=1).to_csv(path, index=False)
    with pytest.warns(UserWarning, match="aligned by position") as warned:
        data = load_data(path, target="flow", id_column="window", time_column="day")
    np.testing.assert_array_equal(data.X, values)  # by window, then by date within it
    np.testing.assert_array_equal(data.y, np.tile(np.arange(6.0), (4, 1)))
    assert str(warned[0].message) == (
        f"the sequences of data file {path} have different day values (window=w0: day "
        "2021-03-01 to 2021-03-06, window=w1: 2021-03-04 to 2021-03-09, ...); each has 6 "
        "steps, aligned by position: step 0 is each sequence's first day, step 5 its most "
        "recent")
    assert data.facts["time steps"].startswith("6 per sequence, by position in each sequence "
                                               "(0 the first, 5 the most recent; window=w0")
    # the command line: a notice on stderr, in run.json and in the report
    torch.manual_seed(0)
    gru = torch.nn.GRU(2, 3, batch_first=True)

    class Last(nn.Module):
        def __init__(self):
            super().__init__()
            self.gru, self.head = gru, nn.Linear(3, 1)

        def forward(self, x):
            return self.head(self.gru(x)[0][:, -1])

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.save(torch.jit.script(Last().eval()), tmp_path / "gru.pt")
    assert cli.main(["run", str(tmp_path / "gru.pt"), str(path), "--id", "window", "--time",
                     "day", "--target", "flow", "--methods", "permutation", "--out",
                     str(tmp_path / "out")]) == 0
    assert "aligned by position" in capsys.readouterr().err
    run = json.loads((tmp_path / "out" / "run.json").read_text())
    assert any("aligned by position" in w["message"] for w in run["warnings"])
    assert run["facts"]["time steps"] == data.facts["time steps"]
    assert "aligned by position" in (tmp_path / "out" / "report.html").read_text()


def test_a_randomization_on_a_rebuilt_network_says_whose_scores_are_printed(files, tmp_path,
                                                                             capsys):
    out = tmp_path / "out"
    assert cli.main(["run", str(files["root"] / "mlp.pt"), str(files["root"] / "table.csv"),
                     "--target", "y", "--methods", "garson", "--randomization", "2",
                     "--fit-epochs", "2", "--out", str(out)]) == 0
    said = capsys.readouterr().out
    written = _written(out, "garson")
    given = varimp.garson(files["mlp"], feature_names=TABLE)
    np.testing.assert_allclose(written.details["given_model"].to_numpy(), given.scores,
                               rtol=1e-6)
    assert ("the scores and p-values above of garson are of a network varimp rebuilt and "
            "trained on the true targets, as it trained the networks on permuted targets (the "
            "given model's own training is not theirs); the given model's own scores are in "
            f"{out / 'garson.json'}, under details.given_model") in " ".join(said.split())
    ensemble = runner.refitted_scores(
        cli._parser().parse_args(["run", "m", "d", "--out", "o", "--ensemble", "4"]),
        varimp.result.Comparison({"garson": written}), out)
    assert ensemble.startswith("the scores above are the mean over 4 networks refitted")


# -- sequences aligned by position only when spaced alike ---------------------------------------
def _windows(tmp_path, times):
    """A long table of sequences ``w0, w1, ...`` at ``times`` (one list per sequence),
    ``level`` 1, 2, ... in time order."""
    rows = [{"win": f"w{i}", "t": when, "level": float(k), "flow": float(10 * i + k)}
            for i, steps in enumerate(times) for k, when in enumerate(steps, start=1)]
    path = tmp_path / "windows.csv"
    pd.DataFrame(rows).sample(frac=1.0, random_state=2).to_csv(path, index=False)
    return path


def test_sequences_with_a_gap_are_not_aligned_by_position(tmp_path):
    """Station C skips 3 March: by position its step 2 would be 4 March, the others' 3 March."""
    days = [f"2022-03-0{d}" for d in (1, 2, 3, 4, 5)]
    gap = [f"2022-03-0{d}" for d in (1, 2, 4, 5, 6)]
    path = _windows(tmp_path, [days, days, gap])
    with pytest.raises(varimp.InputError) as refused:
        load_data(path, target="flow", id_column="win", time_column="t")
    assert str(refused.value) == (
        f"the sequences of data file {path} have different t values, which are aligned by "
        "position only when every sequence's steps are spaced alike (sliding windows of one "
        "series): win=w0 has t (2022-03-01, 2022-03-02, 2022-03-03, 2022-03-04, 2022-03-05) "
        "(gaps of 1, 1, 1, 1 days), win=w2 has (2022-03-01, 2022-03-02, 2022-03-04, "
        "2022-03-05, 2022-03-06) (gaps of 1, 2, 1, 1 days); give every sequence the same t "
        "values, or the same gaps (fill or drop the missing steps), or, where the gaps are "
        "meant, a column numbering each sequence's steps 0, 1, ... as the --time column")
    # numbers: 0.1 apart (as floats add up) in one window, 0.2 then 0.1 in the other
    path = _windows(tmp_path, [[0.1, 0.2, 0.3], [0.2, 0.4, 0.5]])
    with pytest.raises(varimp.InputError, match=r"win=w0 has t \(0.1, 0.2, 0.3\) \(gaps of "
                       r"0.1, 0.1\), win=w1 has \(0.2, 0.4, 0.5\) \(gaps of 0.2, 0.1\)"):
        load_data(path, id_column="win", time_column="t")


@pytest.mark.parametrize("times", [
    [[0.1, 0.2, 0.3], [0.2, 0.3, 0.4], [0.7, 0.8, 0.9]],  # float gaps 0.1 up to rounding
    # monthly windows: 31, 28, 31 days apart in one, 28, 31, 30 in the next, 1 month in both
    [["2021-01-01", "2021-02-01", "2021-03-01", "2021-04-01"],
     ["2021-02-01", "2021-03-01", "2021-04-01", "2021-05-01"]],
    [["2021-01-31", "2021-02-28", "2021-03-31"], ["2021-02-28", "2021-03-31", "2021-04-30"]],
])
def test_windows_spaced_alike_are_aligned_by_position(tmp_path, times):
    path = _windows(tmp_path, times)
    with pytest.warns(UserWarning, match="aligned by position"):
        data = load_data(path, target="flow", id_column="win", time_column="t")
    T = len(times[0])
    np.testing.assert_array_equal(data.X[:, :, 0], np.tile(np.arange(1.0, T + 1), (len(times),
                                                                                 1)))
    np.testing.assert_array_equal(data.y, [10 * i + np.arange(1.0, T + 1)
                                           for i in range(len(times))])


def test_sequences_of_different_lengths_name_the_shortest_and_the_longest(tmp_path):
    path = _windows(tmp_path, [[1, 2, 3], [1, 2], [1, 2, 3, 4], [1, 2, 3]])
    with pytest.raises(varimp.InputError) as refused:
        load_data(path, id_column="win", time_column="t")
    assert str(refused.value) == (
        "every sequence must have the same number of time steps: win=w1 has 2 steps (1, 2), "
        "win=w2 has 4 steps (1, 2, 3, 4) (3 of 4 sequences have fewer than 4); trim or drop "
        "sequences so that all have the same number of steps")


# -- --output by target column, --scale none, retraining reasons --------------------------------
def test_output_names_a_target_column_of_a_model_that_names_its_outputs(files, tmp_path):
    """A Keras model with heads 'q' and 'stage' run with --target flow level: --output level
    is output 1, as --output stage (the model's own name) and the API's output=1 are."""
    keras = import_keras()
    keras.utils.set_random_seed(1)
    inputs = keras.Input((3,))
    hidden = keras.layers.Dense(4, activation="tanh")(inputs)
    model = keras.Model(inputs, [keras.layers.Dense(1, name="q")(hidden),
                                 keras.layers.Dense(1, name="stage")(hidden)])
    model.save(tmp_path / "heads.keras")
    X, y = files["X"], files["y"]
    level = _dyadic(X[:, 1] - X[:, 2])
    pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "c": X[:, 2], "flow": y, "level": level},
                 dtype=np.float64).to_csv(tmp_path / "two.csv", index=False)
    both = np.float64(np.c_[y, level])
    loaded = load_model(tmp_path / "heads.keras").model
    for output in ("level", "stage", "1"):
        out = tmp_path / output
        assert cli.main(["run", str(tmp_path / "heads.keras"), str(tmp_path / "two.csv"),
                         "--target", "flow", "level", "--output", output, "--methods",
                         "permutation", "--seed", str(SEED), "--quiet", "--out",
                         str(out)]) == 0
        _check(out, loaded, X, both, TABLE, ["permutation"], exact=False, output=1)
    first = varimp.importance(loaded, np.float64(X), both, method="permutation", output=0,
                              random_state=SEED, feature_names=TABLE, progress=False)
    assert not np.allclose(_written(tmp_path / "level", "permutation").scores, first.scores)


def test_scale_none_is_accepted_without_partial_derivatives(files, tmp_path):
    out = _run(files, tmp_path, "mlp.pt2", "table.csv", "--target", "y",
               methods=["permutation"], extra=["--scale", "none"])
    _check(out, load_model(files["root"] / "mlp.pt2").model, files["X"], files["y"], TABLE,
           ["permutation"])
    args = cli._parser().parse_args(["run", "m", "d", "--out", "o", "--scale", "none"])
    assert runner.scale_options(args, ["partial_derivatives", "permutation", "garson"]) == {
        "partial_derivatives": {"scale": "none"}, "garson": {"scale": "none"}}


def test_a_pt2_model_is_skipped_by_the_retraining_methods_for_its_own_reason(files):
    """The weight methods say the weights cannot be read; the retraining ones why varimp
    cannot rebuild the program to retrain it."""
    loaded = load_model(files["root"] / "mlp.pt2")
    X, y = np.float64(files["X"]), np.float64(files["y"])
    names, skipped = runner.choose_methods(None, loaded.model, X, y,
                                           refit_reason=runner.EXPORTED_REFIT)
    retraining = "cannot retrain: " + runner.EXPORTED_REFIT
    assert skipped["forward_stepwise"] == skipped["backward_stepwise"] == retraining
    assert "weight-based methods cannot read it" not in retraining
    assert skipped["garson"].startswith("cannot read the weights: this is a torch.export")
    assert "permutation" in names and "forward_stepwise" not in names


# -- tables as people save them ------------------------------------------------------------------
def _long_table(files):
    """The long table of ``long.csv`` (its rows shuffled, ``y`` on every step)."""
    return pd.read_csv(files["root"] / "long.csv")


def _fails(argv, capsys):
    """``varimp run argv`` fails with one line on stderr and nothing on stdout; the line."""
    assert cli.main(argv) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert captured.out == "" and len(lines) == 1, captured.err
    return lines[0]


def test_a_long_table_whose_row_index_repeats_is_read_by_position(files, tmp_path):
    """pd.concat without ignore_index repeats the index; every (id, t) pair occurs once."""
    table = _long_table(files)
    halves = [table.iloc[:70].reset_index(drop=True), table.iloc[70:].reset_index(drop=True)]
    pd.concat(halves).to_parquet(tmp_path / "concat.parquet")
    assert pd.read_parquet(tmp_path / "concat.parquet").index.duplicated().any()
    out = _run(files, tmp_path, "lstm.keras", str(tmp_path / "concat.parquet"), "--id", "id",
               "--time", "t", "--target", "y", methods=["permutation"],
               extra=["--n-repeats", "2"])
    _check(out, files["lstm"], files["S"], files["s_y"], SEQ, ["permutation"], n_repeats=2)


def test_id_and_time_in_a_parquet_index_are_read_from_it(files, tmp_path):
    _long_table(files).set_index(["id", "t"]).to_parquet(tmp_path / "indexed.parquet")
    out = _run(files, tmp_path, "lstm.keras", str(tmp_path / "indexed.parquet"), "--id", "id",
               "--time", "t", "--target", "y", methods=["permutation"],
               extra=["--n-repeats", "2"])
    _check(out, files["lstm"], files["S"], files["s_y"], SEQ, ["permutation"], n_repeats=2)
    facts = json.loads((out / "run.json").read_text())["facts"]
    assert facts["data"] == "indexed.parquet (Parquet table, id, t read from its index)"


def test_a_target_only_on_each_sequences_last_row_is_enough(files, tmp_path, capsys):
    """A model predicting one value per sequence reads the last step's target only."""
    table = _long_table(files)
    table.loc[table["t"] != STEPS - 1, "y"] = np.nan
    table.to_csv(tmp_path / "last.csv", index=False)
    out = _run(files, tmp_path, "lstm.keras", str(tmp_path / "last.csv"), "--id", "id",
               "--time", "t", "--target", "y", methods=["permutation"],
               extra=["--n-repeats", "2"])
    _check(out, files["lstm"], files["S"], files["s_y"], SEQ, ["permutation"], n_repeats=2)
    # a missing target at a last step that is read: which step is read, which sequences miss it
    table.loc[(table["t"] == STEPS - 1) & table["id"].isin(["s03", "s07"]), "y"] = np.nan
    table.to_csv(tmp_path / "holes.csv", index=False)
    line = _fails(["run", str(files["root"] / "lstm.keras"), str(tmp_path / "holes.csv"),
                   "--id", "id", "--time", "t", "--target", "y", "--out",
                   str(tmp_path / "no")], capsys)
    assert line == (
        f"varimp: error: InputError: target 'y' of data file {tmp_path / 'holes.csv'} misses "
        f"values the scores read: the model predicts one value per sequence, so it is scored "
        f"against each sequence's last step (t={STEPS - 1}), and 2 of {N_SEQ} sequences miss "
        "it (id=s03, id=s07); fill in the last step's target of every sequence (the other "
        "steps may be empty), or drop those sequences")
    assert not (tmp_path / "no").exists()
    # a model predicting every step reads every step's target
    data = load_data(tmp_path / "last.csv", target="y", id_column="id", time_column="t")
    every = torch.nn.Sequential(torch.nn.Linear(3, 1)).double()
    with pytest.raises(varimp.InputError, match=re.escape(
            f"the model predicts every step, so it is scored against the target at every step, "
            f"and {N_SEQ * (STEPS - 1)} of {N_SEQ * STEPS} values are missing, at t=0, t=1, "
            "t=2, t=3 (in id=s00, id=s01, id=s02, ...)")):
        runner.scored_targets(every, data, ["y"], "last.csv")
    # --output-step scores one step, but the methods take every step's target: said why
    with warnings.catch_warnings():  # TorchScript is deprecated, and still what many files are
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.save(torch.jit.script(every), tmp_path / "every.pt")
    line = _fails(["run", str(tmp_path / "every.pt"), str(tmp_path / "last.csv"), "--id", "id",
                   "--time", "t", "--target", "y", "--output-step", str(STEPS - 1), "--out",
                   str(tmp_path / "no")], capsys)
    assert line == (
        f"varimp: error: InputError: target 'y' of data file {tmp_path / 'last.csv'} misses "
        f"values the methods take: --output-step {STEPS - 1} scores t={STEPS - 1} only, but the "
        "model predicts every step, and the methods take the target of every step (y of shape "
        "(sequences, steps) with no value missing; those that retrain train their networks on "
        f"every step): {N_SEQ * (STEPS - 1)} of {N_SEQ * STEPS} values are missing, at t=0, "
        "t=1, t=2, t=3 (in id=s00, id=s01, id=s02, ...); fill them in or drop those sequences")
    assert not (tmp_path / "no").exists()


def test_a_regression_target_read_as_text_names_the_value_and_its_row(files, tmp_path, capsys):
    table = pd.read_csv(files["root"] / "table.csv")
    typo = table.astype({"y": str})
    typo.loc[6, "y"] = "?"
    typo.to_csv(tmp_path / "typo.csv", index=False)
    commas = table.assign(y=table["y"].map(lambda v: f"{v}".replace(".", ",")))
    commas.to_csv(tmp_path / "commas.csv", index=False)
    hint = ("(the model's outputs are read as regression values, so its targets must be "
            "numbers; if they are a classifier's classes, pass --output-kind logits or "
            "--output-kind probability)")
    for name, said in (("typo.csv", "'?' in data row 7 "),
                       ("commas.csv", f"{commas['y'][0]!r} in data row 1, a number with a "
                        "decimal comma: save the file with decimal points, or with ';' between "
                        "columns (European Excel's CSV), which varimp reads with decimal commas ")):
        line = _fails(["run", str(files["root"] / "mlp.skops"), str(tmp_path / name),
                       "--target", "y", "--out", str(tmp_path / "no")], capsys)
        assert line == (f"varimp: error: InputError: target column 'y' of data file "
                        f"{tmp_path / name} is not numeric: {said}{hint}")
    # a feature column: its name, the first value that is no number and its row
    stray = table.astype({"b": str})
    stray.loc[4, "b"] = "<0.01"
    stray.to_csv(tmp_path / "stray.csv", index=False)
    line = _fails(["run", str(files["root"] / "mlp.skops"), str(tmp_path / "stray.csv"),
                   "--target", "y", "--out", str(tmp_path / "no")], capsys)
    assert line.endswith(f"feature columns ['b'] of data file {tmp_path / 'stray.csv'} are not "
                         "numeric: 'b' holds '<0.01' in data row 5; name the input columns with "
                         "--features (leaving out labels and other text), or encode categories "
                         "as numbers or one-hot columns first")
    assert not (tmp_path / "no").exists()


def test_a_european_excel_csv_reads_as_the_same_table(files, tmp_path, capsys):
    """';' between columns and decimal commas: the same numbers, so the same scores."""
    table = pd.read_csv(files["root"] / "table.csv")
    table.to_csv(tmp_path / "excel.csv", sep=";", decimal=",", index=False)
    text = (tmp_path / "excel.csv").read_text()
    assert text.startswith("a;b;c;y\n") and re.search(r"\d,\d", text)
    out = _run(files, tmp_path, "mlp.skops", str(tmp_path / "excel.csv"), "--target", "y",
               methods=["permutation"], extra=["--n-repeats", "2"])
    _check(out, files["sk"], files["X"], files["y"], TABLE, ["permutation"], n_repeats=2)
    facts = json.loads((out / "run.json").read_text())["facts"]
    assert facts["data"] == "excel.csv (CSV table, ';' between columns, decimal commas)"
    # a file saved in Windows-1252, not UTF-8
    table.rename(columns={"y": "débit"}).to_csv(tmp_path / "latin.csv", index=False,
                                                 encoding="cp1252")
    line = _fails(["run", str(files["root"] / "mlp.skops"), str(tmp_path / "latin.csv"),
                   "--target", "débit", "--out", str(tmp_path / "no")], capsys)
    position = len("a,b,c,d")  # the byte of é
    assert line == (f"varimp: error: InputError: data file {tmp_path / 'latin.csv'} is not "
                    f"UTF-8 text: byte 0xe9 at position {position} is no UTF-8 character ('é' "
                    "in Windows-1252, Excel's encoding on Western Windows); save the file as "
                    "UTF-8 (in Excel: Save As, 'CSV UTF-8'), or name its encoding: --encoding "
                    "cp1252")


def test_a_csv_is_read_with_the_separator_decimal_mark_and_encoding_the_user_names(
        files, tmp_path, capsys):
    """--sep, --decimal and --encoding: a tab-separated file, a '|' file with decimal commas
    and a Windows-1252 file read as the same table, so the same scores as the plain CSV; the
    options are checked before anything is read, and named for files that are no CSV."""
    table = pd.read_csv(files["root"] / "table.csv")
    table.to_csv(tmp_path / "tabs.csv", sep="\t", index=False)
    table.to_csv(tmp_path / "pipes.csv", sep="|", decimal=",", index=False)
    latin = table.rename(columns={"y": "débit"})
    latin.to_csv(tmp_path / "latin.csv", index=False, encoding="cp1252")
    table.to_csv(tmp_path / "excel.csv", sep=";", decimal=",", index=False)
    cases = [("tabs.csv", ["--sep", "tab"], "y",
              "tabs.csv (CSV table, '\\t' between columns, as named)"),
             ("pipes.csv", ["--sep", "|", "--decimal", ","], "y",
              "pipes.csv (CSV table, '|' between columns, decimal commas, as named)"),
             ("excel.csv", ["--decimal", ","], "y",  # the separator still read from the header
              "excel.csv (CSV table, ';' between columns, decimal commas, as named)"),
             ("latin.csv", ["--encoding", "cp1252"], "débit", "latin.csv (CSV table)")]
    for name, options, target, said in cases:
        out = _run(files, tmp_path, "mlp.skops", str(tmp_path / name), "--target", target,
                   methods=["permutation"], extra=["--n-repeats", "2", "--overwrite", *options])
        _check(out, files["sk"], files["X"], files["y"], TABLE, ["permutation"], n_repeats=2)
        assert json.loads((out / "run.json").read_text())["facts"]["data"] == said
    refusals = [
        ("latin.csv", ["--encoding", "klingon"], "--encoding 'klingon' is no text encoding "
         "Python knows (such as utf-8, cp1252, latin-1)"),
        ("latin.csv", ["--encoding", "ascii"], f"data file {tmp_path / 'latin.csv'} is not ascii "
         f"text: byte 0xe9 at position {len('a,b,c,d')} is no ascii character; name the "
         "encoding the file was saved in with --encoding, or save it as UTF-8"),
        ("tabs.csv", ["--sep", ";;"], "--sep must be one character (or 'tab'), the column "
         "separator of the CSV; received ';;'"),
        ("tabs.csv", ["--sep", ",", "--decimal", ","], "--decimal ',' is also the column "
         "separator: give the file's separator with --sep (European Excel writes ';')"),
        ("plain.csv", ["--decimal", ","], f"--decimal ',': data file {tmp_path / 'plain.csv'} "
         "has ',' between columns; give its separator with --sep if it is another"),
        # decimal commas in a ';' file read with its separator named and not its decimal mark
        ("excel.csv", ["--sep", ";"], "feature columns ['a', 'b', 'c'] of data file "
         f"{tmp_path / 'excel.csv'} are not numeric: 'a' holds "),
        ("utf16.csv", [], f"data file {tmp_path / 'utf16.csv'} is UTF-16 text (it starts with "
         "UTF-16's byte order mark, as Excel's 'Unicode Text' is saved): pass --encoding "
         "utf-16 (and --sep tab for Excel's tab-separated text), or save it as UTF-8"),
    ]
    table.to_csv(tmp_path / "plain.csv", index=False)
    (tmp_path / "utf16.csv").write_bytes(table.to_csv(sep="\t", index=False).encode("utf-16"))
    table.to_parquet(tmp_path / "table.parquet")
    refusals.append(("table.parquet", ["--sep", ";"], "--sep, --decimal and --encoding say how "
                     f"to read a CSV; data file {tmp_path / 'table.parquet'} is Parquet"))
    for name, options, message in refusals:
        line = _fails(["run", str(files["root"] / "mlp.skops"), str(tmp_path / name), "--target",
                       "débit" if name == "latin.csv" else "y", "--out", str(tmp_path / "no"),
                       *options], capsys)
        assert line.startswith(f"varimp: error: InputError: {message}")
        if name == "excel.csv":
            assert line.endswith("a number with a decimal comma: if the file's numbers are "
                                 "written so, pass --decimal ','")
        else:
            assert line == f"varimp: error: InputError: {message}"
        assert not (tmp_path / "no").exists()


def test_a_one_column_target_file_with_decimal_commas_and_rows_longer_than_the_header(
        files, tmp_path, capsys):
    """A one-column CSV has no separator in its header: its decimal commas are read as
    decimal commas (pandas would split 5,4 into an index 5 and a value 4), so the scores are
    those of the same targets in a .npy; a table whose rows hold more values than its header
    has names is refused, never read with the first values as the row index."""
    target = tmp_path / "rendement.csv"
    target.write_text("rendement\n" + "".join(f"{v!r}\n".replace(".", ",")
                                               for v in map(float, files["y"])))
    assert re.search(r"^-?\d+,\d+$", target.read_text().splitlines()[1])
    out = _run(files, tmp_path, "mlp.skops", "table_X.npy", "--target-file", str(target),
               methods=["permutation"], extra=["--n-repeats", "2"])
    _check(out, files["sk"], files["X"], files["y"], DEFAULT_X, ["permutation"], n_repeats=2)
    longer = tmp_path / "longer.csv"
    longer.write_text("a,b,c,y\n" + "\n".join("1,5,2,3,4" for _ in range(5)) + "\n")
    line = _fails(["run", str(files["root"] / "mlp.skops"), str(longer), "--target", "y",
                   "--out", str(tmp_path / "no")], capsys)
    assert line == (f"varimp: error: InputError: data file {longer} has rows with more values "
                    "than its header has column names (read with ',' between columns); a value "
                    "with a decimal comma in a file with ',' between columns splits in two: "
                    "save the file with decimal points or with ';' between columns, or name "
                    "the separator with --sep")
    assert not (tmp_path / "no").exists()


def test_a_semicolon_csv_points_at_the_value_that_breaks_its_reading(files, tmp_path, capsys):
    """In a ';' CSV, numbers written either way are no strays: the value to correct is shown,
    with advice for the file as it was read."""
    table = pd.read_csv(files["root"] / "table.csv")
    excel = table.to_csv(sep=";", decimal=",", index=False).splitlines()
    assert re.fullmatch(r"-?\d+,\d+", excel[1].split(";")[1])  # 'b' in data row 1: '0,5...'
    cases = {}
    for name, row, column, value in (("stray", 2, 1, "?"), ("point", 3, 2, "2.5"),
                                     ("target", 4, 3, "<0,01")):
        lines = list(excel)
        cells = lines[row].split(";")
        cells[column] = value
        lines[row] = ";".join(cells)
        (tmp_path / f"{name}.csv").write_text("\n".join(lines) + "\n")
        cases[name] = _fails(["run", str(files["root"] / "mlp.skops"),
                              str(tmp_path / f"{name}.csv"), "--target", "y", "--out",
                              str(tmp_path / "no")], capsys)
    assert cases["stray"] == (
        f"varimp: error: InputError: feature columns ['b'] of data file "
        f"{tmp_path / 'stray.csv'} are not numeric: 'b' holds '?' in data row 2; name the "
        "input columns with --features (leaving out labels and other text), or encode "
        "categories as numbers or one-hot columns first")
    assert cases["point"] == (
        f"varimp: error: InputError: feature columns ['c'] of data file "
        f"{tmp_path / 'point.csv'} are not numeric: 'c' holds '2.5' in data row 3, a number "
        "with a decimal point in a file read with decimal commas: write every number of the "
        "file with a decimal comma")
    assert cases["target"] == (
        f"varimp: error: InputError: target column 'y' of data file {tmp_path / 'target.csv'} "
        "is not numeric: '<0,01' in data row 4 (the model's outputs are read as regression "
        "values, so its targets must be numbers; if they are a classifier's classes, pass "
        "--output-kind logits or --output-kind probability)")
    # ';' between columns, decimal points: a decimal comma among them is the one shown
    plain = table.to_csv(sep=";", index=False).splitlines()
    cells = plain[5].split(";")
    cells[0] = cells[0].replace(".", ",")
    plain[5] = ";".join(cells)
    (tmp_path / "mixed.csv").write_text("\n".join(plain) + "\n")
    line = _fails(["run", str(files["root"] / "mlp.skops"), str(tmp_path / "mixed.csv"),
                   "--target", "y", "--out", str(tmp_path / "no")], capsys)
    assert line == (
        f"varimp: error: InputError: feature columns ['a'] of data file {tmp_path / 'mixed.csv'}"
        f" are not numeric: 'a' holds {cells[0]!r} in data row 5, a number with a decimal comma "
        "where the file's other numbers have decimal points: write every number of the file "
        "one way, all with decimal commas or all with decimal points")
    assert not (tmp_path / "no").exists()


def test_repeated_target_and_features_options_add_up(files, tmp_path, capsys):
    table = pd.read_csv(files["root"] / "table.csv").assign(site="A")
    table.to_csv(tmp_path / "site.csv", index=False)
    out = _run(files, tmp_path, "mlp.skops", str(tmp_path / "site.csv"), "--target", "y",
               "--features", "a", "b", "--features", "c", methods=["permutation"],
               extra=["--n-repeats", "2"])
    _check(out, files["sk"], files["X"], files["y"], TABLE, ["permutation"], n_repeats=2)
    facts = json.loads((out / "run.json").read_text())["facts"]
    assert facts["left out"] == "site (not in --features)"
    args = cli._parser().parse_args(["run", "m.pt", "d.csv", "--target", "y", "--target", "z,w",
                                     "--features", "a", "--features", "b", "c"])
    assert args.target == ["y", "z,w"] and args.features == ["a", "b", "c"]
    line = _fails(["run", str(files["root"] / "mlp.skops"), str(tmp_path / "site.csv"),
                   "--target", "y", "--features", "a", "b", "--features", "a", "--out",
                   str(tmp_path / "no")], capsys)
    assert line == "varimp: error: InputError: --features names 'a' twice: a b a"


def test_out_defaults_to_a_folder_named_after_the_model(files, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root = files["root"]
    argv = ["run", str(root / "mlp.skops"), str(root / "table.csv"), "--target", "y",
            "--methods", "garson", "--seed", str(SEED), "--quiet"]
    assert cli.main(argv) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["varimp-mlp"]
    _check(tmp_path / "varimp-mlp", files["sk"], files["X"], files["y"], TABLE, ["garson"])
    line = _fails(argv, capsys)
    assert line == ("varimp: --out varimp-mlp holds an earlier varimp output; pass --overwrite "
                    "to replace it, or choose a new or empty directory (--out defaults to "
                    "varimp-mlp, after the model file's name: give --out DIR to write "
                    "elsewhere)")
    assert cli.main([*argv, "--overwrite"]) == 0


def test_blank_class_labels_name_the_column_the_count_and_the_first_row(files, tmp_path,
                                                                         capsys):
    table = pd.read_csv(files["root"] / "labels.csv")
    table.loc[[2, 9], "state"] = None
    table.to_csv(tmp_path / "blanks.csv", index=False)
    line = _fails(["run", str(files["root"] / "binary.skops"), str(tmp_path / "blanks.csv"),
                   "--target", "state", "--out", str(tmp_path / "no")], capsys)
    assert line == (f"varimp: error: InputError: target column 'state' of data file "
                    f"{tmp_path / 'blanks.csv'} has 2 missing values (the first in data row 3); "
                    "remove those rows or fill them in first")


def test_a_grouped_runs_diagram_names_the_columns_and_run_json_times_methods_and_run(
        files, tmp_path, monkeypatch):
    """--group ab=a,b: the scores have 2 variables, the MLP 3 inputs; network.png and the
    report's diagram name the input nodes a, b, c (the data's columns), not x1..x3. run.json
    records the methods' wall time and the whole run's (the plots and report included), the
    latter no shorter."""
    from varimp import report

    drawn = []
    original = report.network_diagram

    def recording(model, feature_names=None, **names):
        drawn.append(list(feature_names))
        return original(model, feature_names, **names)

    monkeypatch.setattr(report, "network_diagram", recording)
    out = _run(files, tmp_path, "mlp.skops", "table.csv", "--target", "y", methods=["garson"],
               extra=["--group", "ab=a,b"])
    assert list(_written(out, "garson").scores.index) == ["ab", "c"]
    assert drawn == [["a", "b", "c"], ["a", "b", "c"]]  # network.png, then the report's
    run = json.loads((out / "run.json").read_text())
    assert "wall time" not in run
    methods = float(run["wall time (methods)"].removesuffix(" s"))
    whole = run["wall time (whole run)"]
    assert whole.endswith(" s (reading the model and data, the methods, the plots and the "
                          "report)")
    assert float(whole.split(" s ")[0]) >= methods
    assert "wall time (methods)" in (out / "report.html").read_text()
