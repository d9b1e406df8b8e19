"""Progress bars: on stderr also when it is not a terminal, counting the right total; silent
with ``progress=False`` and on short calls by default."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest
import torch
from torch import nn

import varimp
from varimp import progress as progress_module
from varimp.progress import LOG_INTERVAL, progress_bar


@pytest.fixture
def mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1)).double().eval()


@pytest.fixture
def data(mlp):
    X = np.random.default_rng(0).normal(size=(60, 4))
    with torch.no_grad():
        y = mlp(torch.as_tensor(X)).numpy()[:, 0]
    return X, y


def counts(text: str) -> list[tuple[int, int]]:
    """Every ``done/total`` a tqdm bar wrote."""
    return [(int(a), int(b)) for a, b in re.findall(r"(\d+)/(\d+) \[", text)]


def test_progress_true_writes_the_bar_to_a_redirected_stderr_with_the_right_total(
        mlp, data, capfd):
    X, y = data
    varimp.permutation(mlp, X, y, n_repeats=3, random_state=0, progress=True)
    out, err = capfd.readouterr()
    assert out == ""
    assert "perturbed copies" in err
    # one copy per feature and repeat: 4 x 3; the bar starts at 0 and ends full
    assert counts(err)[0] == (0, 12)
    assert counts(err)[-1] == (12, 12)


def test_progress_counts_every_cell_of_a_sequence(capfd):
    torch.manual_seed(0)

    class LastStep(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn, self.head = nn.GRU(3, 4, batch_first=True), nn.Linear(4, 1)

        def forward(self, x):
            return self.head(self.rnn(x)[0][:, -1])

    X = np.random.default_rng(1).normal(size=(20, 5, 3))
    varimp.perturbation(LastStep().double().eval(), X, noise=0.2, n_repeats=2,
                        random_state=0, progress=True)
    # one noise level: 3 variables at every step plus 5 x 3 cells, twice
    assert counts(capfd.readouterr().err)[-1] == (36, 36)


def test_progress_false_writes_nothing(mlp, data, capfd):
    X, y = data
    varimp.permutation(mlp, X, y, n_repeats=3, random_state=0, progress=False)
    assert capfd.readouterr() == ("", "")


def test_by_default_a_short_call_writes_nothing(mlp, data, capfd):
    X, y = data
    start = time.perf_counter()
    varimp.permutation(mlp, X, y, n_repeats=3, random_state=0)
    assert time.perf_counter() - start < progress_module.DEFAULT_DELAY
    assert capfd.readouterr() == ("", "")


def test_by_default_a_long_call_shows_the_bar_once_it_has_run_a_while(monkeypatch, capfd):
    monkeypatch.setattr(progress_module, "DEFAULT_DELAY", 0.05)
    monkeypatch.setattr(progress_module, "LOG_INTERVAL", 0.01)
    w = np.array([1.0, -2.0, 0.5])

    def slow(inputs: np.ndarray) -> np.ndarray:
        time.sleep(0.02)
        return inputs @ w

    X = np.random.default_rng(2).normal(size=(10, 3))
    varimp.permutation(slow, X, X @ w, n_repeats=2, batch_size=10, random_state=0)
    # 7 calls of 0.02 s (the unperturbed rows, then 3 x 2 copies) outlast the 0.05 s delay
    assert counts(capfd.readouterr().err)[-1] == (6, 6)


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_log_file_is_refreshed_every_log_interval_a_terminal_as_tqdm_does(monkeypatch, capfd):
    with progress_bar(5, True, desc="work") as bar:
        assert (bar.mininterval, bar.maxinterval) == (LOG_INTERVAL, LOG_INTERVAL)
        bar.update(5)
    assert counts(capfd.readouterr().err)[-1] == (5, 5)
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    with progress_bar(5, True, desc="work") as bar:
        assert (bar.mininterval, bar.maxinterval) == (0.1, 10.0)  # tqdm's defaults
        bar.update(5)
    assert "work: 100%" in terminal.getvalue()


def test_a_disabled_bar_counts_nothing_and_writes_nothing(capfd):
    with progress_bar(5, False) as bar:
        bar.update(5)
        assert bar.disable
    assert capfd.readouterr() == ("", "")


def test_progress_must_be_a_bool_or_none(mlp, data):
    X, y = data
    with pytest.raises(varimp.InputError, match="progress must be True, False or None; "
                                                "received str 'yes'"):
        varimp.permutation(mlp, X, y, progress="yes")


BAR_LINE = re.compile(r"^(?P<desc>[\w ]+): +\d+%\|[^|]*\| (?P<done>\d+)/(?P<total>\d+) \[.*\]$")


def test_a_log_file_gets_one_line_per_refresh(tmp_path):
    """stderr redirected to a file: every refresh is a line of its own, ending in a newline."""
    log = tmp_path / "run.log"
    code = textwrap.dedent("""
        import numpy as np
        import varimp
        from varimp import progress
        progress.LOG_INTERVAL = 0.0  # a refresh at every update instead of every 10 s
        w = np.array([1.0, -2.0, 0.5])
        X = np.random.default_rng(2).normal(size=(10, 3))
        varimp.permutation(lambda a: a @ w, X, X @ w, n_repeats=2, batch_size=10,
                           random_state=0, progress=True)
    """)
    with log.open("w") as stderr:
        subprocess.run([sys.executable, "-c", code], stderr=stderr, check=True, timeout=120)
    text = log.read_text()
    assert "\r" not in text and text.endswith("\n")
    lines = text.splitlines()
    matches = [BAR_LINE.match(line) for line in lines]
    assert all(matches), lines
    assert {m["desc"] for m in matches} == {"perturbed copies"}
    done = [int(m["done"]) for m in matches]
    assert {int(m["total"]) for m in matches} == {6}  # 3 variables x 2 repeats
    assert done[0] == 0 and done[-1] == 6 and done == sorted(done)
    assert len(lines) >= 3  # the start, at least one update between, the end


def test_log_lines_turn_carriage_returns_and_cursor_moves_into_lines():
    sink = io.StringIO()
    lines = progress_module.LogLines(sink)
    lines.write("\rwork:   0%|   | 0/4 [00:00<?, ?it/s]")
    lines.write("\rwork:  50%|#  | 2/4 [00:01<00:01, 2.0it/s]   ")
    lines.write("\n\x1b[A\rwork:  50%|#  | 2/4 [00:01<00:01, 2.0it/s]")  # the same state again
    lines.write("\rwork: 100%|###| 4/4 [00:02<00:00, 2.0it/s]\n")
    assert sink.getvalue() == ("work:   0%|   | 0/4 [00:00<?, ?it/s]\n"
                               "work:  50%|#  | 2/4 [00:01<00:01, 2.0it/s]\n"
                               "work: 100%|###| 4/4 [00:02<00:00, 2.0it/s]\n")


def test_partial_derivatives_shows_a_bar_over_row_batches(mlp, monkeypatch, capfd):
    monkeypatch.setattr(progress_module, "LOG_INTERVAL", 0.0)
    X = np.random.default_rng(3).normal(size=(60, 4))
    result = varimp.partial_derivatives(mlp, X, batch_size=25, progress=True)
    # 60 rows in batches of 25: 25, 50, 60 rows done
    assert [done for done, _ in counts(capfd.readouterr().err)] == [0, 25, 50, 60]
    quiet = varimp.importance(mlp, X, method="partial_derivatives", batch_size=25,
                              progress=False)
    assert "progress" not in quiet.details["options_not_used"]
    assert quiet.details["settings"]["progress"] is False
    assert capfd.readouterr() == ("", "")
    np.testing.assert_array_equal(quiet.scores, result.scores)  # the batches change nothing
    whole = varimp.partial_derivatives(mlp, X, progress=False)
    np.testing.assert_allclose(whole.scores, result.scores, rtol=1e-12)


class Clock:
    """A stand-in for ``time.time`` that the test moves forward."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_in_a_log_file_a_default_bar_says_its_first_line_after_the_delay_then_every_interval(
        monkeypatch, capfd):
    clock = Clock()
    monkeypatch.setattr("tqdm.std.time", clock)
    assert (progress_module.DEFAULT_DELAY, LOG_INTERVAL) == (3.0, 10.0)
    written = {}
    with progress_bar(100, None, desc="work") as bar:
        for second in range(1, 31):  # one unit of work a second
            clock.now += 1.0
            bar.update(1)
            written[second] = counts(capfd.readouterr().err)
    lines = {second: done for second, done in written.items() if done}
    # the first line once the 3 s delay is over, the next ones 10 s apart
    assert lines == {3: [(3, 100)], 13: [(13, 100)], 23: [(23, 100)]}


def test_stepwise_bars_name_the_method_and_the_step(monkeypatch, capfd):
    from sklearn.neural_network import MLPRegressor

    monkeypatch.setattr(progress_module, "LOG_INTERVAL", 0.0)
    rng = np.random.default_rng(4)
    X = rng.normal(size=(40, 3))
    y = X[:, 0] - X[:, 1]
    with pytest.warns(Warning):  # short refits stop before they converge
        model = MLPRegressor(hidden_layer_sizes=(3,), max_iter=5, random_state=0).fit(X, y)
        varimp.backward_stepwise(model, X, y, random_state=0, progress=True)
    labels = set(re.findall(r"^(.*?): +\d+%\|", capfd.readouterr().err, flags=re.MULTILINE))
    # three steps, the last one run with the first (its one candidate: every input removed);
    # the networks trained in all, 1 + 3 x 4 / 2 = 7 (validation split: one fit each)
    assert labels == {"backward_stepwise: fits, step 1 of 3 (7 in all)",
                      "backward_stepwise: fits, step 2 of 3 (7 in all)"}


def test_improved_stepwise_2_shows_one_bar_over_the_call_labelled_with_the_step(
        monkeypatch, capfd):
    """Every model call takes half a second of tqdm's clock: each step (at most 2 s) is
    shorter than the 3 s delay, the call (11 passes, 5.5 s) is longer. One bar over the call,
    its delay counted from the start: it appears at the sixth pass (3 s, the first candidate
    of step 2) and counts the 1 + 4 + 3 + 2 + 1 passes over the rows (the unperturbed inputs,
    then every step's candidates)."""
    clock = Clock()
    monkeypatch.setattr("tqdm.std.time", clock)
    monkeypatch.setattr(progress_module, "LOG_INTERVAL", 0.0)
    w = np.array([1.0, -2.0, 0.5, 3.0])

    def slow(inputs: np.ndarray) -> np.ndarray:
        clock.now += 0.5
        return inputs @ w

    X = np.random.default_rng(5).normal(size=(30, 4))
    result = varimp.improved_stepwise_2(slow, X, X @ w + 0.1, batch_size=30)
    err = capfd.readouterr().err
    assert {total for _, total in counts(err)} == {11}
    done = [count for count, _ in counts(err)]
    assert done[0] == 6 and done[-1] == 11 and done == sorted(done)  # shown from 3 s on
    labels = re.findall(r"^(.*?): +\d+%\|", err, flags=re.MULTILINE)
    assert labels[0] == "improved_stepwise_2: step 2 of 4"  # passes 6 and 7: step 2
    assert labels[-1] == "improved_stepwise_2: step 4 of 4"
    assert result.details["path"]["step"].tolist() == [1, 2, 3, 4]


def test_in_a_log_file_a_line_comes_at_the_delay_and_every_interval_while_no_unit_finishes(
        monkeypatch, capfd):
    """A unit of work can outlast the interval (a refit): the bar's ticker writes a line when
    one is due, whether or not a unit finished. Driven here by hand on a fake clock, a tick a
    second (the thread's own waits are real seconds)."""
    clock = Clock()
    monkeypatch.setattr("tqdm.std.time", clock)
    monkeypatch.setattr(progress_module.Ticker, "start", lambda self: None)
    written, waits = {}, {}
    with progress_bar(5, None, desc="work") as bar:
        assert bar.ticker.wait_first == 3.0  # the delay
        for second in range(1, 31):
            clock.now += 1.0
            if second in (17, 18):  # two units finish, between two lines
                bar.update(1)
            waits[second] = bar.ticker.tick()
            written[second] = counts(capfd.readouterr().err)
    lines = {second: done for second, done in written.items() if done}
    assert lines == {3: [(0, 5)], 13: [(0, 5)], 23: [(2, 5)]}
    # the next line due 10 s after the last: 3 + 10 - 4 seconds to wait at second 4
    assert (waits[2], waits[3], waits[4], waits[22], waits[23]) == (1.0, 10.0, 9.0, 1.0, 10.0)
    assert counts(capfd.readouterr().err) == [(2, 5)]  # closing writes the last state
    assert bar.ticker.tick() is None  # closed: the ticker stops


class Lines(io.StringIO):
    """A log file that tells when it holds ``wanted`` lines."""

    def __init__(self, wanted: int):
        super().__init__()
        self.wanted, self.enough = wanted, threading.Event()

    def write(self, text: str) -> int:
        n = super().write(text)
        if self.getvalue().count("\n") >= self.wanted:
            self.enough.set()
        return n


def test_the_ticker_thread_writes_a_log_while_no_unit_finishes_and_stops_on_close(monkeypatch):
    monkeypatch.setattr(progress_module, "DEFAULT_DELAY", 0.05)
    log = Lines(wanted=1)
    monkeypatch.setattr("sys.stderr", log)
    bar = progress_bar(2, None, desc="slow units")
    assert log.enough.wait(timeout=30)  # the first line, at the delay, with no unit done
    bar.close()
    assert not bar.ticker.is_alive()  # ended by the time close returns
    lines = log.getvalue().splitlines()
    assert [BAR_LINE.match(line)["done"] for line in lines] == ["0"] * len(lines)
    assert {BAR_LINE.match(line)["desc"] for line in lines} == {"slow units"}


def test_the_ticker_thread_keeps_a_terminal_bar_counting(monkeypatch):
    monkeypatch.setattr(progress_module, "TERMINAL_INTERVAL", 0.01)
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    with progress_bar(2, True, desc="work") as bar:
        refreshes = threading.Event()
        display = bar.display

        def counted(*args, **kwargs):
            if terminal.getvalue().count("\r") >= 3:  # the start, then two ticks
                refreshes.set()
            return display(*args, **kwargs)

        monkeypatch.setattr(bar, "display", counted)
        assert refreshes.wait(timeout=30)
        assert bar.n == 0
    bar.ticker.join(timeout=30)
    assert not bar.ticker.is_alive()


def test_no_ticker_without_a_bar_or_when_every_update_writes(monkeypatch, capfd):
    threads = threading.active_count()
    with progress_bar(5, False) as bar:
        assert getattr(bar, "ticker", None) is None
        assert threading.active_count() == threads
    monkeypatch.setattr(progress_module, "LOG_INTERVAL", 0.0)
    with progress_bar(5, True) as bar:
        assert bar.ticker is None
