"""The HTML report: self-contained, every table equal to the results it shows, every name
escaped, written whole or not at all. The page is read back with the standard library's parser."""

import base64
import dataclasses
import html
import io
import os
import struct
import warnings
from html.parser import HTMLParser

import matplotlib

matplotlib.use("Agg")

import matplotlib.image  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import varimp  # noqa: E402
from varimp import plot, report  # noqa: E402
from varimp.report import Case, write_report  # noqa: E402
from varimp.result import Comparison  # noqa: E402

EVIL = "<script>alert(1)</script>"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class Page(HTMLParser):
    """What a test reads from the report: images, tables (rows of cells), every start tag."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.tags, self.images, self.tables, self.sections = [], [], [], []
        self._table = self._row = self._cell = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs))
        if tag == "img":
            self.images.append(attrs)
        elif tag == "section":
            self.sections.append(attrs)
        elif tag == "table":
            self._table = {"attrs": attrs, "head": [], "rows": [],
                           "case": self._case_id()}
            self.tables.append(self._table)
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = {"tag": tag, "text": "", **attrs}

    def _case_id(self):
        cases = [s["id"] for s in self.sections if s.get("class") == "case"]
        return cases[-1] if cases else None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell["text"] += data

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row.append(self._cell)
            self._cell = None
        elif tag == "tr" and self._row is not None:
            header = all(cell["tag"] == "th" for cell in self._row)
            (self._table["head"] if header else self._table["rows"]).append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def find(self, css, case=None):
        return [t for t in self.tables if t["attrs"].get("class") == css
                and (case is None or t["case"] == case)]


def _png_size(src):
    """Width and height from the IHDR chunk of a base64 data URI, after checking the header."""
    prefix = "data:image/png;base64,"
    assert src.startswith(prefix)
    data = base64.b64decode(src[len(prefix):], validate=True)
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    pixels = matplotlib.image.imread(io.BytesIO(data), format="png")  # the whole image decodes
    assert pixels.shape[:2] == (height, width)
    return width, height


@pytest.fixture(scope="module")
def cases():
    """A tiny MLP with a malicious feature name, and a sequence model given as a function."""
    X, y, _ = varimp.datasets.olden_simulation(150, random_state=0)
    names = ["x1", EVIL, "x3", "x4", "x5"]
    model = varimp.train_mlp(X, y, hidden=(3,), epochs=5, random_state=0)
    mlp = varimp.compare(model, X, y, methods=["connection_weights", "garson", "permutation",
                                               "profile"],
                         feature_names=names, n_repeats=2, random_state=0, progress=False)
    weights = mlp.results["connection_weights"]
    tested = dataclasses.replace(  # as a randomization test and an interval would add them
        weights, pvalues=pd.Series([0.001, 0.2, 0.04, 0.009, 0.7], index=weights.scores.index),
        ci=pd.DataFrame({"low": weights.scores - 0.1, "high": weights.scores + 0.2}))
    mlp = Comparison({**mlp.results, "connection_weights": tested},
                     skipped={"forward_stepwise": f"not asked for {EVIL}"})
    rng = np.random.default_rng(0)
    Xs = rng.uniform(size=(40, 6, 2))
    ys = 2 * Xs[:, -1, 0] + Xs[:, :, 1].sum(axis=1)

    def sequence_model(X):
        return 2 * X[:, -1, 0] + X[:, :, 1].sum(axis=1)

    seq = varimp.compare(sequence_model, Xs, ys, methods=["permutation", "partial_derivatives"],
                         random_state=0, progress=False)
    return [Case(f"MLP {EVIL}", f"described {EVIL}", mlp, {"model": f"MLP {EVIL}",
                                                            "input shape": "(150, 5)"},
                 model=model),
            Case("sequences", "a function of sequences", seq, {"input shape": "(40, 6, 2)"},
                 model=sequence_model)]


@pytest.fixture(scope="module")
def written(cases, tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "report.html"
    write_report(path, title=f"title {EVIL}", run={"command": f"varimp run {EVIL}",
                                                   "seed": "0"}, cases=cases)
    text = path.read_text(encoding="utf-8")
    return path, text, Page(text)


def test_the_report_is_self_contained_and_every_image_is_a_png(written):
    _, text, page = written
    assert text.startswith("<!DOCTYPE html>")
    for needle in ("http://", "https://", "<script", "<link", "@import", "url("):
        assert needle not in text.lower()
    assert not [tag for tag, _ in page.tags if tag in ("script", "link", "iframe", "object")]
    assert len(page.images) == 14  # see below
    for image in page.images:
        width, height = _png_size(image["src"])
        assert width > 100 and height > 100 and image["alt"]
    alts = [image["alt"] for image in page.images]
    # MLP: diagram, two comparison plots, bars (+ profile curves); sequences: heatmaps too
    assert alts == ["network diagram", "rank heatmap", "relative importance",
                    "connection_weights bar", "garson bar", "permutation bar",
                    "profile profile", "profile bar",
                    "rank heatmap", "relative importance",
                    "permutation heatmap", "permutation bar",
                    "partial_derivatives heatmap", "partial_derivatives bar"]


def test_every_importance_table_equals_the_results_frame(written, cases):
    _, _, page = written
    for anchor, case in zip(("case-1", "case-2"), cases, strict=True):
        tables = page.find("importance", anchor)
        assert [t["attrs"]["data-method"] for t in tables] == list(case.comparison.results)
        for table in tables:
            frame = case.comparison.results[table["attrs"]["data-method"]].to_frame()
            assert [c["data-column"] for c in table["head"][0]] == list(frame.columns)
            assert len(table["rows"]) == len(frame)  # one row per variable
            for row, (_, expected) in zip(table["rows"], frame.iterrows(), strict=True):
                assert row[0]["text"] == expected["feature"]  # unescaped by the parser
                for cell, column in zip(row[1:], frame.columns[1:], strict=True):
                    value = float(expected[column])
                    assert float(cell["data-value"]) == value  # every digit kept
                    shown = cell["text"].split()[0]  # a p-value is followed by its stars
                    assert float(shown) == pytest.approx(value, rel=5e-4, abs=1e-12)
    weights = page.find("importance", "case-1")[0]
    columns = [c["text"] for c in weights["head"][0]]
    assert columns == ["variable", "score", "relative (%)", "rank", "ci low", "ci high",
                       "p-value", "p-value (Benjamini-Hochberg adjusted)"]
    # the raw p-values without stars; the stars on the adjusted ones, by hand: sorted 0.001,
    # 0.009, 0.04, 0.2, 0.7 times 5 / rank: 0.005, 0.0225, 0.0667, 0.25, 0.7 (increasing)
    assert [row[-2]["text"] for row in weights["rows"]] == ["0.001", "0.2", "0.04", "0.009",
                                                            "0.7"]
    assert [row[-1]["text"] for row in weights["rows"]] == ["0.005 **", "0.25", "0.06667",
                                                            "0.0225 *", "0.7"]


def test_comparison_tables_hold_the_agreement_and_ranks(written, cases):
    _, _, page = written
    for anchor, case in zip(("case-1", "case-2"), cases, strict=True):
        for css, expected in (("agreement", case.comparison.agreement),
                              ("ranks", case.comparison.ranks)):
            (table,) = page.find(css, anchor)
            assert [c["text"] for c in table["head"][0][1:]] == list(expected.columns)
            assert [row[0]["text"] for row in table["rows"]] == list(expected.index)
            shown = np.array([[float(c["data-value"]) for c in row[1:]]
                              for row in table["rows"]])
            np.testing.assert_array_equal(shown, expected.to_numpy(dtype=float))
    facts = page.find("facts", "case-2")[0]
    assert [(r[0]["text"], r[1]["text"]) for r in facts["rows"]] == [("input shape",
                                                                      "(40, 6, 2)")]


def test_user_text_is_escaped_everywhere(written):
    _, text, page = written
    assert EVIL not in text
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    # title, run, case name, description, facts, feature (table), skipped reason
    assert text.count(escaped) >= 8
    (run,) = page.find("run")
    assert run["rows"][0][1]["text"] == f"varimp run {EVIL}"
    skipped = [attrs for tag, attrs in page.tags if tag == "li" and attrs]
    assert skipped == [{"data-method": "forward_stepwise"}]
    assert f"forward_stepwise</code>: not asked for {escaped}" in text


def test_method_notes_come_from_the_registry(written):
    _, text, _ = written
    spec = varimp.registry.REGISTRY["garson"]
    assert f"{spec.title}</h3>" in text and spec.reference.replace("&", "&amp;") in text
    assert "What it measures: <em>loss</em>, the increase in error" in text
    assert "Here: increase in mean squared error." in text
    assert html.escape(plot.SIGNIFICANCE_CAPTION) in text  # the stars of the p-values are explained
    assert ("Stars: Benjamini-Hochberg adjusted p-values of the randomization test over the 5 "
            "variables") in text


def test_the_file_is_written_whole_or_not_at_all(cases, tmp_path, monkeypatch):
    path = tmp_path / "report.html"
    path.write_text("the earlier report", encoding="utf-8")
    calls = []

    def failing(*args, **kwargs):  # the third figure fails, after two were drawn
        calls.append(kwargs.get("kind"))
        if len(calls) == 3:
            raise RuntimeError("drawing failed")
        return original(*args, **kwargs)

    original = plot.plot_importance
    monkeypatch.setattr(plot, "plot_importance", failing)
    with pytest.raises(RuntimeError, match="drawing failed"):
        write_report(path, title="t", run={}, cases=cases)
    assert len(calls) == 3 and sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]
    assert path.read_text(encoding="utf-8") == "the earlier report"
    monkeypatch.setattr(plot, "plot_importance", original)

    def no_rename(source, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", no_rename)
    with pytest.raises(OSError, match="No space"):
        write_report(path, title="t", run={}, cases=cases[1:])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]  # no temporary left
    assert path.read_text(encoding="utf-8") == "the earlier report"
    monkeypatch.undo()
    write_report(tmp_path / "new.html", title="t", run={}, cases=cases[1:])
    assert (tmp_path / "new.html").stat().st_mode & 0o777 == 0o644
    assert plt.get_fignums() == []  # every figure closed


def test_format_and_bad_cases():
    assert [report.format_number(v) for v in (3, np.int64(7), 0.123456, 1234567.0, np.nan,
                                              None, float("inf"))] == [
        "3", "7", "0.1235", "1.235e+06", "n/a", "n/a", "n/a"]
    with pytest.raises(varimp.InputError):
        report.render_report(title="t", run={}, cases=[{"name": "not a Case"}])


def test_a_binary_classifier_named_by_both_classes_gets_its_diagram(monkeypatch):
    """One logistic unit, output names for both classes (as the scikit-learn adapter gave them
    once): the diagram names the unit by its positive class instead of failing."""
    from sklearn.neural_network import MLPClassifier

    from varimp.adapters.sklearn import SklearnAdapter

    X, y, _ = varimp.datasets.olden_simulation(80, random_state=0)
    labels = np.where(y > 0, "present", "absent")
    model = MLPClassifier(hidden_layer_sizes=(3,), max_iter=20, random_state=0)
    with pytest.warns(Warning):  # 20 iterations do not converge; no matter here
        model.fit(X, labels)
    monkeypatch.setattr(SklearnAdapter, "output_names", property(lambda self: self.classes))
    comparison = varimp.compare(model, X, labels, methods=["garson"], progress=False)
    page = Page(report.render_report(title="binary", run={}, cases=[
        Case("binary", "a binary classifier", comparison, {}, model=model)]))
    assert [image["alt"] for image in page.images][0] == "network diagram"
    ax = report.network_diagram(model, list(comparison.scores.index))
    outputs = [text.get_text() for text in ax.texts if "present" in text.get_text()
               or "absent" in text.get_text()]
    assert outputs == ["present"]  # the one unit, named by its positive class
    plt.close(ax.figure)


def test_the_runs_warnings_are_listed_once_each_with_their_counts(cases):
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(15):
            warnings.warn("Maximum iterations (2) reached", ConvergenceWarning, stacklevel=1)
        warnings.warn(f"odd input {EVIL}", UserWarning, stacklevel=1)
        warnings.warn("Maximum iterations (2) reached", ConvergenceWarning, stacklevel=1)
    warned = report.distinct_warnings(caught)
    assert warned == [
        {"category": "ConvergenceWarning", "message": "Maximum iterations (2) reached",
         "count": 16},
        {"category": "UserWarning", "message": f"odd input {EVIL}", "count": 1}]
    text = report.render_report(title="t", run={"seed": "0"}, cases=cases[1:], warned=warned)
    assert EVIL not in text
    items = [attrs for tag, attrs in Page(text).tags if tag == "li" and "data-count" in attrs]
    assert [item["data-count"] for item in items] == ["16", "1"]
    assert ('<li data-count="16">Maximum iterations (2) reached <span class="note">'
            "(ConvergenceWarning, 16 times)</span></li>") in text
    assert "(UserWarning, once)" in text
    # after what was run, before the first case
    assert text.index('id="run"') < text.index('id="warnings"') < text.index('class="case"')
    assert 'id="warnings"' not in report.render_report(title="t", run={}, cases=cases[1:])


def _method_section(text, name):
    """The HTML of one method's section."""
    start = text.index('<section class="method" id=')
    start = text.index(f'data-method="{name}">', start)
    return text[start:text.index("</section>", start)]


def test_stars_in_the_table_follow_the_adjusted_p_at_or_below_the_threshold():
    """19 permutations: the smallest p-value is 1 / 20 = 0.05. When all three variables reach
    it, each adjusted p-value is 0.05 and gets its star; when one alone does (others 0.0501
    and 0.5), its adjusted value is 3 x 0.05 / 1 = 0.15 against 0.0501 x 3 / 2 = 0.0752 and
    0.5: min 0.0752, no star, though its raw p-value would have one."""
    scores = pd.Series([0.9, 0.6, 0.3], index=["a", "b", "c"])

    def last_columns(pvalues):
        tested = varimp.Importance("permutation", scores, kind="loss",
                                   pvalues=pd.Series(pvalues, index=scores.index))
        page = Page(report.render_report(title="t", run={}, cases=[
            Case("c", "d", Comparison({"permutation": tested}), {})]))
        (table,) = page.find("importance")
        return [(row[-2]["text"], row[-1]["text"]) for row in table["rows"]]

    assert last_columns([1 / 20] * 3) == [("0.05", "0.05 *")] * 3
    assert last_columns([1 / 20, 0.0501, 0.5]) == [("0.05", "0.07515"), ("0.0501", "0.07515"),
                                                   ("0.5", "0.5")]
    assert last_columns([0.01, 0.02, 0.5]) == [("0.01", "0.03 *"), ("0.02", "0.03 *"),
                                               ("0.5", "0.5")]


@pytest.fixture(scope="module")
def refitted():
    """A randomization test whose observed network varimp rebuilt and retrained, an ensemble,
    and a two-output regression's permutation and connection weights."""
    from sklearn.neural_network import MLPRegressor

    X, y, _ = varimp.datasets.olden_simulation(100, random_state=0)
    model = varimp.train_mlp(X, y, hidden=(3,), epochs=5, random_state=0)
    test = varimp.randomization_test(model, X, y, method="garson", n_permutations=3,
                                     random_state=0, progress=False)
    bag = varimp.ensemble(model, X, y, method="permutation", n_models=3, ci_level=0.9,
                          random_state=0, progress=False)
    targets = np.column_stack([y, X[:, 0] - X[:, 1]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 30 iterations do not converge; no matter here
        two = MLPRegressor(hidden_layer_sizes=(4,), max_iter=30, random_state=0).fit(X, targets)
    both = varimp.compare(two, X, targets, methods=["permutation", "connection_weights"],
                          random_state=0, progress=False)
    results = {"garson": test, "permutation": bag, **{f"two {k}": v for k, v in
                                                      both.results.items()}}
    return results, report.render_report(title="t", run={}, cases=[
        Case("refitted", "d", Comparison(results), {})])


def test_a_refitted_observed_network_is_said_and_the_given_models_scores_shown(refitted):
    results, text = refitted
    test = results["garson"]
    section = _method_section(text, "garson")
    assert "those of a network refitted the same way as the null networks" in section
    assert html.escape(test.details["test_settings"]["observed"]) in section
    (table,) = [t for t in Page(text).find("importance") if t["attrs"]["data-method"] ==
                "garson"]
    columns = [c["data-column"] for c in table["head"][0]]
    assert columns[-1] == "given_model" and table["head"][0][-1]["text"] == \
        "given model's score"
    given = test.details["given_model"]
    shown = {row[0]["text"]: float(row[-1]["data-value"]) for row in table["rows"]}
    assert shown == given.to_dict()
    assert not np.allclose(list(shown.values()), test.scores[list(shown)].to_numpy())
    bag = _method_section(text, "permutation")
    assert "The scores are the mean over 3 refitted networks, each on a bootstrap resample" in bag
    assert "Error bars: 90% t prediction interval from 3 refitted networks." in bag


def test_several_outputs_get_a_per_output_table_and_the_caption_says_the_mean(refitted):
    results, text = refitted
    page = Page(text)
    for name, how in (("two permutation", "the mean over the outputs"),
                      ("two connection_weights", "the mean of the magnitudes over the outputs")):
        result = results[name]
        table = result.details["per_output"]
        outputs = ", ".join(str(c) for c in table.columns)
        assert f"Here: {html.escape(report.measure_caption(result))}." in text
        assert report.measure_caption(result).endswith(f"{how} {outputs}")
        (shown,) = [t for t in page.find("per-output") if t["attrs"]["data-method"] == name]
        assert [c["text"] for c in shown["head"][0][1:]] == [str(c) for c in table.columns]
        values = np.array([[float(c["data-value"]) for c in row[1:]] for row in shown["rows"]])
        np.testing.assert_array_equal(values, table.loc[result.scores.index].to_numpy())
        combined = np.abs(values) if "magnitudes" in how else values
        np.testing.assert_allclose(combined.mean(axis=1), result.scores.to_numpy(), rtol=1e-9)
    assert not [t for t in page.find("per-output") if t["attrs"]["data-method"] == "garson"]


def test_a_two_output_garson_table_says_every_output_has_the_same_shares():
    """Garson's default form: the output weight cancels in every hidden unit's shares, so both
    outputs of a two-output MLP get the hand-computed shares, and the per-output table says
    so in one line; the output-weighted form differs between outputs and gets no such note."""
    from sklearn.neural_network import MLPRegressor

    rng = np.random.default_rng(4)
    X = rng.normal(size=(60, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        two = MLPRegressor(hidden_layer_sizes=(4,), max_iter=30, random_state=0).fit(
            X, np.c_[X[:, 0], X[:, 1] - X[:, 2]])
    W1 = np.abs(two.coefs_[0])
    shares = (W1 / W1.sum(axis=0)).sum(axis=1)
    shares = shares / shares.sum()  # by hand, the same for either output
    same = varimp.garson(two, X)
    np.testing.assert_allclose(same.details["per_output"].to_numpy(),
                               np.c_[shares, shares], rtol=1e-12)
    weighted = varimp.garson(two, X, variant="output_weighted")
    text = report.render_report(title="t", run={}, cases=[
        Case("c", "d", Comparison({"garson": same, "garson weighted": weighted}), {})])
    section = _method_section(text, "garson")
    note = ("Every output has the same shares: in Garson's default form the output weight "
            "cancels in each hidden unit's shares")
    assert note in html.unescape(section)
    assert "NeuralNetTools' garson() refuses more than one output" in html.unescape(section)
    assert section.index("per-output-note") < section.index('class="per-output"')
    assert report.same_for_every_output(weighted) == ""
    assert "per-output-note" not in _method_section(text, "garson weighted")


def test_the_diagram_of_grouped_features_has_a_node_named_for_every_column(monkeypatch):
    """A one-hot group scored as one variable: the comparison has 3 variables, the network 5
    inputs. The report's diagram names each input node by its data column (the case's
    feature_names), not x1..x5."""
    from sklearn.neural_network import MLPRegressor

    rng = np.random.default_rng(0)
    habitat = rng.integers(0, 3, 60)
    X = pd.DataFrame({"rain": rng.normal(size=60), "heat": rng.normal(size=60)})
    members = ["forest", "meadow", "marsh"]
    for k, member in enumerate(members):
        X[member] = (habitat == k).astype(float)
    y = X["rain"] + habitat
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 30 iterations do not converge; no matter here
        model = MLPRegressor(hidden_layer_sizes=(3,), max_iter=30, random_state=0).fit(X, y)
    comparison = varimp.compare(model, X, y, methods=["garson"], groups={"habitat": members},
                                progress=False)
    assert list(comparison.scores.index) == ["rain", "heat", "habitat"]
    drawn = []
    original = report.network_diagram

    def recording(*args, **kwargs):
        drawn.append(original(*args, **kwargs))
        return drawn[-1]

    monkeypatch.setattr(report, "network_diagram", recording)
    case = Case("grouped", "d", comparison, {}, model=model, feature_names=list(X.columns))
    assert case.input_names == ["rain", "heat", "forest", "meadow", "marsh"]
    page = Page(report.render_report(title="t", run={}, cases=[case]))
    assert "network diagram" in [image["alt"] for image in page.images]
    names = {text.get_text() for text in drawn[-1].texts}
    assert {"rain", "heat", "forest", "meadow", "marsh"} <= names
    assert not names & {"x1", "x3", "x5"}
    assert Case("c", "d", comparison, {}).input_names == ["rain", "heat", "habitat"]
    plt.close("all")


def test_long_lists_of_names_in_a_warning_are_shortened_in_the_report():
    """A warning naming 34 columns: the report lists the first five and "and 29 more" (the
    whole message in the item's title); a list of five or fewer and the rest of the message
    stay as they are."""
    names = [f"column_{k}" for k in range(34)]
    message = ("perturbation moves the one-hot group(s) 'land_cover' while the numeric input(s) "
               + ", ".join(f"'{name}'" for name in names) + " get Gaussian noise")
    assert report.shorten_lists(message) == (
        "perturbation moves the one-hot group(s) 'land_cover' while the numeric input(s) "
        "'column_0', 'column_1', 'column_2', 'column_3', 'column_4' and 29 more get Gaussian "
        "noise")
    few = "inputs 'a', 'b', 'c', 'd', 'e' are scaled"
    assert report.shorten_lists(few) == few
    warned = [{"category": "UserWarning", "message": message, "count": 2},
              {"category": "UserWarning", "message": few, "count": 1}]
    text = report.render_report(title="t", run={}, cases=[], warned=warned)
    items = [attrs for tag, attrs in Page(text).tags if tag == "li" and "data-count" in attrs]
    assert items[0]["title"] == message and "title" not in items[1]
    shown = text[text.index('<ul class="warnings">'):]
    assert "and 29 more" in shown  # the sixth name on: in the title only
    assert shown.count("column_5") == 1 and shown.count("column_33") == 1


def test_output_labels_one_rule_for_columns_curves_and_diagram_nodes():
    """One function labels outputs everywhere: a name per output (a sequence naming all of
    them, or a mapping naming some), else "output k"."""
    from varimp.methods._common import output_labels

    assert output_labels([0, 2], ("oak", "fir", "ash")) == ["oak", "ash"]
    assert output_labels(range(3), {1: "fir"}) == ["output 0", "fir", "output 2"]
    assert output_labels([1], None) == ["output 1"]
    assert output_labels([0], (7,)) == ["7"]


def test_the_diagram_names_output_nodes_as_the_methods_name_the_outputs():
    """A three-class classifier: its output nodes carry the labels of the columns of the
    methods' per-output scores, the classes; a network naming no output keeps y1..yk."""
    import torch
    from sklearn.neural_network import MLPClassifier

    X, y, _ = varimp.datasets.olden_simulation(90, random_state=0)
    labels = np.array(["ash", "fir", "oak"])[np.digitize(y, np.quantile(y, [1 / 3, 2 / 3]))]
    model = MLPClassifier(hidden_layer_sizes=(3,), max_iter=20, random_state=0)
    with pytest.warns(Warning):  # 20 iterations do not converge; no matter here
        model.fit(X, labels)
    columns = list(varimp.garson(model, X, labels).details["per_output"].columns)
    ax = report.network_diagram(model)
    nodes = [text.get_text() for text in ax.texts if text.get_text() in set(labels)]
    assert nodes == columns == ["ash", "fir", "oak"]
    plt.close(ax.figure)
    net = torch.nn.Sequential(torch.nn.Linear(5, 2), torch.nn.Tanh(), torch.nn.Linear(2, 2))
    assert list(varimp.garson(net, X).details["per_output"].columns) == ["output 0",
                                                                         "output 1"]
    ax = report.network_diagram(net)
    assert [text.get_text() for text in ax.texts if text.get_text().startswith("y")] == \
        ["y1", "y2"]
    plt.close(ax.figure)
    # named as the methods name them when given classes= or a DataFrame y's columns
    named = {"classes": (["oak", "fir"], {"classes": ["oak", "fir"], "output_kind": "logits"}),
             "target_names": (["flow", "nitrate"], {})}
    for option, (names, method_options) in named.items():
        y_named = pd.DataFrame(np.zeros((len(X), 2)), columns=names) if option == \
            "target_names" else None
        columns = list(varimp.garson(net, X, y_named, **method_options)
                       .details["per_output"].columns)
        ax = report.network_diagram(net, **{option: names}, output_kind=method_options.get(
            "output_kind"))
        assert [text.get_text() for text in ax.texts if text.get_text() in names] == \
            columns == names
        plt.close(ax.figure)
