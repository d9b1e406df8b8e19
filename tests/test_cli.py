"""The command line: the quick demo end to end, ``varimp methods``, and clean failures."""

import json
import os
import pathlib
import signal
import stat
import subprocess
import sys
import time

import matplotlib.image
import numpy as np
import pytest

import varimp
from varimp import cli, datasets, demo, output_folder
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
    payload = json.loads((out / "results.json").read_text(), parse_constant=_not_json)
    assert set(payload) == {"mlp", "lstm"}
    for case, results in payload.items():
        for name, data in results.items():
            result = Importance.from_dict(data)
            assert result.method == name
            image = matplotlib.image.imread(out / f"{case}_{name}_bar.png")
            assert image.ndim == 3 and image.shape[0] > 100
            if result.by_time is not None:
                assert (out / f"{case}_{name}_heatmap.png").is_file()
    for case in ("mlp", "lstm"):
        assert (out / f"{case}_comparison.png").is_file() and (out / f"{case}_ranks.png").is_file()
    # the MLP's neural interpretation diagram; the LSTM has none
    assert matplotlib.image.imread(out / "mlp_network.png").shape[0] > 100
    assert not (out / "lstm_network.png").exists() and "mlp_network.png" in text
    manifest = json.loads((out / cli.MANIFEST).read_text())
    assert manifest["files"] == sorted(p.name for p in out.iterdir() if p.name != cli.MANIFEST)
    _check_ratios(text, payload["lstm"])
    # the stepwise refits: 60 sequences, a quarter (15) held out, 2 epochs
    assert ("forward_stepwise and backward_stepwise retrain the LSTM on 45 of the 60 "
            "importance sequences for 2 epochs") in text and "mostly noise" in text
    # the MLP's refits are trained as the MLP (30 epochs; 300 rows, a quarter held out): they
    # rank x1 to x5 as the true effects 0.8, 0.6, 0.4, 0.2, 0, and the demo says how trained
    assert ("forward_stepwise and backward_stepwise retrain the MLP on 225 of the 300 rows "
            "for 30 epochs, a training like the MLP's own (300 rows, 30 epochs)") in text
    assert text.count("mostly noise") == 1  # the LSTM's refits only
    for name in ("forward_stepwise", "backward_stepwise"):
        result = Importance.from_dict(payload["mlp"][name])
        assert list(result.ranks.sort_values().index) == ["x1", "x2", "x3", "x4", "x5"]


def _check_ratios(text, results):
    """The demo's ratio table: |x1| / |x3| by hand, and no ratio where x3's increase in error
    is at or below zero (a harmless x3 is no magnitude to divide by)."""
    table = text[text.index("ratios of |score|"):].split("\n\n")[0]
    lines = {line.split()[0]: line for line in table.splitlines()[2:]}
    assert set(lines) == set(results)
    refused = 0
    for name, data in results.items():
        result = Importance.from_dict(data)
        x1, x3 = result.scores["x1"], result.scores["x3"]
        if result.kind == "loss" and x3 <= 0:
            assert lines[name].split(maxsplit=1)[1].startswith("n/a (x3 <= 0)")
            refused += 1
        else:
            assert float(lines[name].split()[1]) == pytest.approx(abs(x1) / abs(x3), rel=1e-3)
    assert refused >= 1  # the quick demo's stepwise methods find x3 harmless


def _not_json(constant):
    raise AssertionError(f"results.json holds {constant}, which is not JSON")


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
    # a second run replaces the earlier demo only with --overwrite, and only when the folder
    # holds nothing that the demo did not write
    capsys.readouterr()
    assert cli.main(["demo", "--quick", "--out", str(out)]) == 2
    assert "holds an earlier varimp output; pass --overwrite" in capsys.readouterr().err
    mine = out / "mine.png"
    mine.write_bytes(b"the user's")
    assert cli.main(["demo", "--quick", "--overwrite", "--out", str(out)]) == 2
    assert "files varimp did not write there (mine.png)" in capsys.readouterr().err
    assert mine.read_bytes() == b"the user's"
    mine.unlink()
    (out / "report.txt").write_text("the earlier demo")
    assert cli.main(["demo", "--quick", "--overwrite", "--out", str(out)]) == 0
    assert "reference LSTM" in (out / "report.txt").read_text()
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
    kept = {"thesis.tex": "keep me", "report.html": "my report", "report.txt": "my notes"}
    for name, text in kept.items():
        (precious / name).write_text(text)
    for extra in ([], ["--overwrite"]):
        assert cli.main(["demo", "--quick", "--out", str(precious), *extra]) == 2
        assert {p.name: p.read_text() for p in precious.iterdir()} == kept
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    assert cli.main(["demo", "--out", str(a_file)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 3 and all(line.startswith("varimp: ") for line in err)
    assert err[0] == f"varimp: --out {precious} exists and is not empty, and is not a folder " \
        "varimp wrote; choose a new or empty directory"


def test_version(capsys):
    assert cli.main(["--version"]) == 0
    assert capsys.readouterr().out == f"varimp {varimp.__version__}\n"


def test_run_help_says_what_the_ensembles_interval_is(capsys):
    """varimp.ensemble's ci is a t prediction interval for one more network, not percentiles
    of the members (its details["interval"] says so too)."""
    assert cli.main(["run", "--help"]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert ("--ensemble N every selected method averaged over N networks refitted with their "
            "own seeds, each on a bootstrap resample of the rows, with std and a t prediction "
            "interval for the importance of one more network trained the same way (not a "
            "confidence interval of the mean)") in text
    assert "with --ensemble, the prediction interval over the networks" in text
    assert "percentile" not in text


def _refused(args, capsys):
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("varimp: ") and "Traceback" not in err
    return err


def test_out_under_a_file_names_the_users_path_and_writes_nothing(tmp_path, capsys,
                                                                  monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("x")
    err = _refused(["demo", "--quick", "--out", "notes.txt/deeper/demo"], capsys)
    assert "--out notes.txt/deeper/demo" in err and "is a file" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_out_that_cannot_be_written_names_the_users_path_and_writes_nothing(
        tmp_path, capsys, monkeypatch):
    def failing(settings, out, report):
        raise PermissionError(13, "Permission denied", str(out / "mlp_garson_bar.png"))

    monkeypatch.setattr(demo, "mlp_case", failing)
    target = tmp_path / "new" / "parents" / "demo"
    err = _refused(["demo", "--out", str(target)], capsys)
    assert f"--out {target}: Permission denied" in err
    assert ".demo-" not in err  # not the temporary directory
    assert list(tmp_path.iterdir()) == []  # the missing parents were not created either
    monkeypatch.setattr(cli.os, "access", lambda path, mode: False)
    err = _refused(["demo", "--out", str(target)], capsys)
    assert f"--out {target}: no permission to write in {tmp_path}" in err


def _fake_demo(text):
    """A stand-in for the demo that writes one file."""
    return lambda work, quick: (work / "report.txt").write_text(text)


def test_a_failed_move_into_place_keeps_the_earlier_demo(tmp_path, capsys, monkeypatch):
    out = tmp_path / "demo"
    monkeypatch.setattr(demo, "run_demo", _fake_demo("the earlier demo"))
    assert cli.main(["demo", "--out", str(out)]) == 0
    monkeypatch.setattr(demo, "run_demo", _fake_demo("new"))
    real_rename = type(out).rename

    def rename(self, target):  # the new report fails to move in, after the earlier one left
        if self.parent.name.startswith(".varimp-new-") and self.name == "report.txt":
            raise OSError(28, "No space left on device")
        return real_rename(self, target)

    monkeypatch.setattr(type(out), "rename", rename)
    capsys.readouterr()
    err = _refused(["demo", "--overwrite", "--out", str(out)], capsys)
    assert f"--out {out}: No space left on device" in err
    assert (out / "report.txt").read_text() == "the earlier demo"
    assert sorted(p.name for p in out.iterdir()) == [cli.MANIFEST, "report.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["demo"]


@pytest.fixture
def umask():
    """The umask 027 for the test, then the one before."""
    before = os.umask(0o027)
    yield 0o027
    os.umask(before)


def _mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_output_folders_get_the_permissions_of_a_plain_mkdir(tmp_path, capsys, monkeypatch,
                                                             umask):
    monkeypatch.setattr(demo, "run_demo", _fake_demo("demo"))
    reference = tmp_path / "made by mkdir"
    reference.mkdir()
    assert _mode(reference) == 0o777 & ~umask == 0o750
    out = tmp_path / "new" / "demo"
    assert cli.main(["demo", "--out", str(out)]) == 0
    # not mkdtemp's 0o700: others in the group can read the results
    assert _mode(out) == _mode(out.parent) == _mode(reference)
    assert (out / "report.txt").read_text() == "demo"


def test_an_empty_folder_is_kept_and_written_into(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(demo, "run_demo", _fake_demo("demo"))
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o2770)  # setgid, for a group
    before = shared.stat()
    assert cli.main(["demo", "--out", str(shared)]) == 0
    after = shared.stat()
    assert (after.st_ino, _mode(shared), after.st_gid) == (before.st_ino, 0o2770, before.st_gid)
    assert sorted(p.name for p in shared.iterdir()) == [cli.MANIFEST, "report.txt"]
    # --out . in an empty folder writes there, the folder kept; the same again is refused
    here = tmp_path / "here"
    here.mkdir()
    inode = here.stat().st_ino
    monkeypatch.chdir(here)
    assert cli.main(["demo", "--out", "."]) == 0
    assert here.stat().st_ino == inode
    assert sorted(p.name for p in here.iterdir()) == [cli.MANIFEST, "report.txt"]
    capsys.readouterr()
    assert "holds an earlier varimp output" in _refused(["demo", "--out", "."], capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["here", "shared"]


def test_out_through_a_symbolic_link_writes_into_its_folder_and_keeps_the_link(
        tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(demo, "run_demo", _fake_demo("first"))
    target, link = tmp_path / "runs" / "2024", tmp_path / "latest"
    target.parent.mkdir()
    link.symlink_to(target.relative_to(tmp_path), target_is_directory=True)
    assert cli.main(["demo", "--out", str(link)]) == 2  # a link to nothing: refused
    assert "--out " + str(link) + " is a symbolic link to runs/2024, which does not exist" in \
        capsys.readouterr().err
    target.mkdir()
    assert cli.main(["demo", "--out", str(link)]) == 0
    monkeypatch.setattr(demo, "run_demo", _fake_demo("second"))
    assert cli.main(["demo", "--overwrite", "--out", str(link)]) == 0
    assert link.is_symlink() and link.resolve() == target
    assert (target / "report.txt").read_text() == "second"
    assert sorted(p.name for p in target.iterdir()) == [cli.MANIFEST, "report.txt"]
    # nothing left beside them: no moved-aside earlier output, no temporary folder
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest", "runs"]
    assert [p.name for p in target.parent.iterdir()] == ["2024"]


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


# -- interruptions: Ctrl-C, SIGTERM, and what a killed run left behind ---------------------------
#: A demo that writes half its output, says so by creating the file argv[1], then waits to be
#: stopped; the command writes into argv[2].
HALF_WRITTEN = """
import sys, time
from pathlib import Path
import varimp.demo
from varimp import cli

def half(work, quick):
    (work / "report.txt").write_text("half written")
    Path(sys.argv[1]).touch()
    time.sleep(120)

varimp.demo.run_demo = half
sys.exit(cli.main(["demo", "--out", sys.argv[2]]))
"""


@pytest.mark.parametrize(("signum", "existing"), [(signal.SIGTERM, True),
                                                  (signal.SIGTERM, False),
                                                  (signal.SIGINT, False)])
def test_a_signal_while_writing_leaves_nothing_behind(tmp_path, signum, existing):
    cue, out = tmp_path / "cue", tmp_path / "results"
    if existing:
        out.mkdir()
    env = {**os.environ, "MPLBACKEND": "Agg"}
    running = subprocess.Popen([sys.executable, "-c", HALF_WRITTEN, str(cue), str(out)],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    try:
        for _ in range(1200):  # until the output is half written (at most 2 minutes)
            if cue.exists() or running.poll() is not None:
                break
            time.sleep(0.1)
        assert cue.exists(), running.communicate()
        running.send_signal(signum)
        stdout, stderr = running.communicate(timeout=60)
    finally:
        if running.poll() is None:
            running.kill()
    said = {signal.SIGTERM: "varimp: terminated (SIGTERM)\n", signal.SIGINT:
            "varimp: interrupted\n"}
    assert (running.returncode, stderr, stdout) == (128 + signum, said[signum], "")
    # an empty folder stays empty, a new one is not made; no temporary folder anywhere
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cue", "results"] * existing or \
        ["cue"]
    if existing:
        assert list(out.iterdir()) == []


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_while_the_output_is_put_in_place_is_no_failure(tmp_path, capsys, monkeypatch,
                                                                  signum):
    monkeypatch.setattr(demo, "run_demo", lambda work, quick: [
        (work / name).write_text(name) for name in ("a.txt", "b.txt", "c.txt")])
    renames = []
    rename = pathlib.Path.rename

    def rename_then_signal(source, target):  # the signal as the first file is moved in
        renames.append(source.name)
        if len(renames) == 1:
            os.kill(os.getpid(), signum)
        return rename(source, target)

    monkeypatch.setattr(pathlib.Path, "rename", rename_then_signal)
    out = tmp_path / "out"
    out.mkdir()
    printed = []

    def print_then_signal(*args, **kwargs):  # another signal once the output is in place
        printed.append(" ".join(map(str, args)))
        os.kill(os.getpid(), signum)

    monkeypatch.setattr(cli, "print", print_then_signal, raising=False)

    def callers(signum, frame):  # what the caller had: reached only if main did not take over
        raise AssertionError("the signal reached the caller's handler")

    before = signal.signal(signum, callers)
    try:
        assert cli.main(["demo", "--out", str(out)]) == 0  # the output is whole: a success
        assert signal.getsignal(signum) is callers  # the caller's handler is back
    finally:
        signal.signal(signum, before)
    assert capsys.readouterr().err == ""
    assert printed == [f"\nwrote out/report.html (open it in a browser), report.txt, "
                       f"results.json and the plots to {out}"]
    # every move finished: the output is whole, and listed
    assert renames == ["a.txt", "b.txt", "c.txt", cli.MANIFEST]
    assert sorted(p.name for p in out.iterdir()) == [cli.MANIFEST, "a.txt", "b.txt", "c.txt"]
    assert json.loads((out / cli.MANIFEST).read_text())["files"] == ["a.txt", "b.txt", "c.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    # the next command is interrupted by a signal as before: ignoring ended with the first
    monkeypatch.setattr(demo, "run_demo", lambda work, quick: os.kill(os.getpid(), signum))
    monkeypatch.setattr(pathlib.Path, "rename", rename)
    before = signal.signal(signum, callers)
    try:
        assert cli.main(["demo", "--out", str(tmp_path / "next")]) == 128 + signum
    finally:
        signal.signal(signum, before)
    assert capsys.readouterr().err == ("varimp: terminated (SIGTERM)\n" if signum ==
                                       signal.SIGTERM else "varimp: interrupted\n")
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_a_signal_whose_exception_python_swallowed_still_stops_the_command(tmp_path, capsys,
                                                                          monkeypatch):
    class Dies:
        def __del__(self):  # Python prints an exception raised here, and goes on
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(10000):  # the handler runs here, in __del__
                pass

    def demo_then_more(work, quick):
        (work / "report.txt").write_text("written")
        Dies()
        (work / "more.txt").write_text("still written: the exception was lost")

    monkeypatch.setattr(demo, "run_demo", demo_then_more)

    def callers(signum, frame):
        raise AssertionError("SIGTERM reached the caller's handler")

    before = signal.signal(signal.SIGTERM, callers)
    try:
        assert cli.main(["demo", "--out", str(tmp_path / "out")]) == 128 + signal.SIGTERM
    finally:
        signal.signal(signal.SIGTERM, before)
    assert capsys.readouterr().err == "varimp: terminated (SIGTERM)\n"  # no "Exception ignored"
    assert list(tmp_path.iterdir()) == []


def _stopped_pid():
    """The id of a process that has ended."""
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    return ended.pid


def _left(folder, name, files=("half.png",)):
    """A temporary folder ``name`` in ``folder``, as a stopped run left it."""
    (folder / name).mkdir(parents=True)
    for file in files:
        (folder / name / file).write_bytes(b"partial")
    return folder / name


def test_temporary_folders_of_stopped_runs_are_removed(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(demo, "run_demo", _fake_demo("demo"))
    owner = f"{_stopped_pid()}@{output_folder._owner().split('@')[1]}"
    out = tmp_path / "empty"
    _left(out, f".varimp-new-{owner}-0123abcd")  # killed while writing into an empty folder
    beside = _left(tmp_path, f".fresh.varimp-{owner}-89abcdef")  # ... into a new folder
    assert cli.main(["demo", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == [cli.MANIFEST, "report.txt"]
    assert cli.main(["demo", "--out", str(tmp_path / "fresh")]) == 0
    assert not beside.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "fresh"]
    # named after this very process (its id reused, in a container): not a run in progress
    ours = _left(tmp_path / "reused", f".varimp-new-{output_folder._owner()}-0123abcd")
    assert cli.main(["demo", "--out", str(tmp_path / "reused")]) == 0
    assert not ours.exists()
    assert sorted(p.name for p in (tmp_path / "reused").iterdir()) == [cli.MANIFEST,
                                                                      "report.txt"]


def test_temporary_folders_that_may_be_in_use_or_hold_an_earlier_output_are_named(
        tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(demo, "run_demo", _fake_demo("demo"))
    host = output_folder._owner().split("@")[1]
    cases = [  # (folder name, what the refusal says of it)
        (f".varimp-new-{os.getppid()}@{host}-0123abcd",
         "the temporary folder of varimp's process {pid} (still running); once that run is "
         "over remove the folder"),
        (f".varimp-new-{_stopped_pid()}@elsewhere-0123abcd", "the temporary folder of "
         "varimp's process {pid} on elsewhere (maybe still running)"),
        (".varimp-new-0123abcd", "the temporary folder of a varimp run;"),
        (f".varimp-old-{_stopped_pid()}@{host}-0123abcd", "an earlier output that varimp's "
         "process {pid} (stopped) moved aside to replace it; take what you need from --out, "
         "then remove that folder"),
    ]
    for name, said in cases:
        out = tmp_path / name.replace(".", "_")
        _left(out, name, files=("report.txt", cli.MANIFEST))
        for extra in ([], ["--overwrite"]):
            err = _refused(["demo", "--out", str(out), *extra], capsys)
            pid = name.split("-")[2].split("@")[0]
            assert err.startswith(f"varimp: --out {out} holds {name}, "
                                  + said.format(pid=pid)), err
            assert sorted(p.name for p in (out / name).iterdir()) == [cli.MANIFEST,
                                                                      "report.txt"]
    assert len(list(tmp_path.iterdir())) == len(cases)


def test_the_resource_tracker_says_nothing_of_workers_an_interruption_stopped():
    # a worker pool stopped by Ctrl-C leaves its semaphores to multiprocessing's resource
    # tracker, which would warn about them on stderr after the command's last line
    leak = ("import multiprocessing, os\nfrom varimp import cli\n"
            "with cli._workers_quiet({quiet}):\n"
            "    lock = multiprocessing.get_context('spawn').Semaphore()\nos._exit(0)\n")
    for quiet in (False, True):
        done = subprocess.run([sys.executable, "-c", leak.format(quiet=quiet)],
                              capture_output=True, text=True, timeout=120)
        assert (done.returncode, done.stderr) == (0, "")
    bare = subprocess.run([sys.executable, "-c", leak.replace(
        "with cli._workers_quiet({quiet}):", "if True:")], capture_output=True, text=True,
        timeout=120)
    assert "leaked semaphore" in bare.stderr  # what the filter hides
