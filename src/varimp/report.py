"""One self-contained HTML report of one or more analyses (``report.html``).

:func:`write_report` writes what was run and the Python warnings it raised (each distinct one
once, with the number of times), then one section per :class:`Case` (a model and its data):
the facts of the model and data, the comparison of every method (rank heatmap, relative
importance, Spearman agreement of the ranks), the neural interpretation diagram of an MLP, then
every method with what it measures (from the registry), its table and its plots, and the
methods that were skipped with the reason. Figures are PNGs embedded as base64 ``data:`` URIs,
the style sheet is inline and uses the system's fonts: the file opens without network access,
can be mailed as it is, and prints one figure or table per page block.

Tables carry stable hooks for tests and scripts: ``<table class="importance"
data-method="NAME">`` per method (one ``<tbody>`` row per variable, every number also in full
precision in its cell's ``data-value``; a randomization test's raw p-value, ``data-column=
"pvalue"``, and its Benjamini-Hochberg adjusted p-value over the variables, ``data-column=
"pvalue_bh"``, followed by its stars, ``*`` p <= 0.05, ``**`` p <= 0.01, ``***`` p <= 0.001,
in ``<span class="stars">``; a randomization test whose
observed network varimp refitted adds the given model's own scores, ``data-column=
"given_model"``, under a note saying whose scores the table holds), ``<table class="per-output"
data-method="NAME">`` (each output's own scores, for a result with several outputs),
``class="agreement"``, ``class="ranks"``, ``class="facts"``, ``class="run"`` and
``class="warnings"`` (one ``<li data-count="N">`` per distinct warning; a list of more than
five quoted names in it is cut to five and "and N more", the whole message in the item's
``title``). Everything
user-provided (names, facts, reasons) is escaped.
"""

from __future__ import annotations

import base64
import html
import io
import math
import os
import re
import tempfile
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from numbers import Integral
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from .errors import InputError, UnsupportedModelError
from .registry import REGISTRY
from .result import Comparison, Importance

#: Resolution of the embedded figures (dots per inch).
DPI = 100
#: What the scores of each kind hold, in one sentence.
KIND_NOTES = {
    "loss": "increase in error when the variable is disturbed or left out (zero or a negative "
            "value means no importance)",
    "effect": "signed effect on the output (the sign gives the direction, the magnitude the "
              "importance)",
    "share": "share of the total importance (non-negative)",
    "magnitude": "size of the variable's effect on the predictions (non-negative)",
}
#: Column headings of an importance table (columns of :meth:`Importance.to_frame`).
HEADINGS = {"feature": "variable", "score": "score", "relative": "relative (%)", "rank": "rank",
            "std": "std", "ci_low": "ci low", "ci_high": "ci high", "pvalue": "p-value",
            "pvalue_bh": "p-value (Benjamini-Hochberg adjusted)",
            "given_model": "given model's score"}
MISSING = "n/a"

STYLE = """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
       sans-serif; color: #1b1b1b; background: #fff; line-height: 1.45; max-width: 1100px;
       margin: 0 auto; padding: 1.5rem 1.25rem 3rem; }
h1 { font-size: 1.7rem; margin: 0 0 1rem; }
h2 { font-size: 1.35rem; margin: 2.5rem 0 0.5rem; padding-top: 0.5rem;
     border-top: 2px solid #1b1b1b; }
h3 { font-size: 1.12rem; margin: 1.8rem 0 0.3rem; }
h4 { font-size: 1rem; margin: 1.2rem 0 0.3rem; }
p { margin: 0.3rem 0 0.6rem; }
.note, figcaption, .reference { color: #444; font-size: 0.92rem; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; font-size: 0.92rem; }
th, td { border: 1px solid #c8c8c8; padding: 0.2rem 0.55rem; text-align: left;
         vertical-align: top; }
thead th { background: #f0f0f0; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.agreement, table.ranks { font-size: 0.85rem; }
table.agreement th, table.agreement td, table.ranks th, table.ranks td { padding: 0.2rem 0.4rem; }
table.run th, table.facts th { background: #f7f7f7; font-weight: 600; }
div.wide { overflow-x: auto; max-width: 100%; }
figure { margin: 0.6rem 0 1.2rem; }
figure img { max-width: 100%; height: auto; display: block; }
nav ol { margin: 0.3rem 0 1rem; }
section.method { margin-left: 0; }
ul.skipped li, ul.warnings li { margin: 0.2rem 0; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
       font-size: 0.9em; }
footer { margin-top: 3rem; color: #666; font-size: 0.85rem; }
@media print {
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  nav { display: none; }
  div.wide { overflow: visible; }
  section.case > h2 { break-before: page; border-top: none; }
  h2, h3, h4 { break-after: avoid; }
  figure, table, tr, .keep { break-inside: avoid; page-break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
"""


@dataclass
class Case:
    """One model and its data, analysed by several methods: one section of the report.

    Attributes
    ----------
    name : str
        Heading of the section ("MLP on simulated data", or the model file's name).
    description : str
        A sentence or two of plain text.
    comparison : Comparison
        Every method's result, and the methods skipped with their reasons.
    facts : dict
        Label -> value: model summary, input shape, data summary; shown as a table.
    model : object, optional
        The model itself: when varimp can read it as a stack of dense layers, the section
        shows its neural interpretation diagram (:func:`varimp.plot.plot_network`).
    feature_names : sequence of str, optional
        The data's column names, one per model input: the diagram's input nodes. None: the
        comparison's variables, which are the columns unless features were grouped
        (``groups``: a one-hot block scored as one variable has one node per column).
    output_kind, classes, target_names : str, sequence, sequence, optional
        The ``output_kind=`` and ``classes=`` the methods were given and the names of the
        target columns: the diagram's output nodes are named as the methods name the outputs.
    """

    name: str
    description: str
    comparison: Comparison
    facts: dict[str, str]
    model: Any = None
    feature_names: Sequence[str] | None = None
    output_kind: str | None = None
    classes: Sequence[Any] | None = None
    target_names: Sequence[str] | None = None

    @property
    def input_names(self) -> list[str]:
        """The names of the model's input nodes: ``feature_names``, else the variables."""
        names = self.comparison.scores.index if self.feature_names is None else \
            self.feature_names
        return [str(name) for name in names]


def write_report(path: Path | str, *, title: str, run: Mapping[str, str],
                 cases: Iterable[Case], warned: Sequence[Mapping[str, Any]] = ()) -> None:
    """Write one self-contained HTML report to ``path``.

    Parameters
    ----------
    path : path-like
        The file to write. It is written whole or not at all: the page is built in memory,
        written to a temporary file beside ``path`` and renamed over it, so an error leaves
        no partial file (and an earlier file at ``path`` as it was).
    title : str
        Title of the page.
    run : mapping of str to str
        What was run (command line, seed, varimp's version, date, ...), shown first.
    cases : iterable of Case
        One section each, in order.
    warned : sequence of mapping
        The run's warnings as :func:`distinct_warnings` gives them (``category``, ``message``,
        ``count``), shown after what was run; none: no section.
    """
    text = render_report(title=title, run=run, cases=cases, warned=warned)
    path = Path(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}-", suffix=".tmp",
                                         dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def render_report(*, title: str, run: Mapping[str, str], cases: Iterable[Case],
                  warned: Sequence[Mapping[str, Any]] = ()) -> str:
    """The HTML text that :func:`write_report` writes (same arguments, no file)."""
    from . import __version__

    cases = list(cases)
    for case in cases:
        if not isinstance(case, Case) or not isinstance(case.comparison, Comparison):
            raise InputError(f"cases must be Case objects holding a Comparison; received "
                             f"{type(case).__name__}")
    contents = "".join(f'<li><a href="#case-{k}">{_e(case.name)}</a></li>'
                       for k, case in enumerate(cases, start=1))
    body = [f"<h1>{_e(title)}</h1>", "<h2 id=\"run\">What was run</h2>",
            _key_values(run, "run"), _warnings(warned),
            f'<nav><h4>Contents</h4><ol>{contents}</ol></nav>' if len(cases) > 1 else ""]
    body += [_case(case, f"case-{k}") for k, case in enumerate(cases, start=1)]
    body.append(f"<footer>Written by varimp {_e(__version__)}. Every figure is embedded in this "
                "file; it needs no network access.</footer>")
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<meta name=\"generator\" content=\"varimp {_e(__version__)}\">\n"
            f"<title>{_e(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
            + "\n".join(part for part in body if part) + "\n</body>\n</html>\n")


def distinct_warnings(records: Iterable[warnings.WarningMessage]) -> list[dict[str, Any]]:
    """Each distinct warning of ``records`` (as ``warnings.catch_warnings(record=True)`` lists
    them) once, in the order of its first appearance: ``{"category": class name, "message":
    text, "count": times raised}``."""
    counts: dict[tuple[str, str], int] = {}
    for record in records:
        key = (record.category.__name__, str(record.message))
        counts[key] = counts.get(key, 0) + 1
    return [{"category": category, "message": message, "count": count}
            for (category, message), count in counts.items()]


def _warnings(warned: Sequence[Mapping[str, Any]]) -> str:
    """The section of the run's warnings, or "" when it raised none: each message with its
    long lists of quoted names shortened (:func:`shorten_lists`; the whole message in the
    item's ``title``, and as raised in ``run.json``)."""
    if not warned:
        return ""
    items = []
    for w in warned:
        message = str(w["message"])
        short = shorten_lists(message)
        whole = f' title="{_e(message)}"' if short != message else ""
        items.append(f'<li data-count="{int(w["count"])}"{whole}>{_e(short)} <span '
                     f'class="note">({_e(w["category"])}, {_times(int(w["count"]))})</span></li>')
    items = "".join(items)
    return ('<h2 id="warnings">Warnings</h2>\n<p class="note">Python warnings raised during the '
            "run, each distinct one once (a refitted network that stopped before it converged "
            "warns once per fit).</p>\n"
            f'<ul class="warnings">{items}</ul>')


#: A list of more quoted names than this in a warning is shortened in the report.
LISTED = 5
_QUOTED_LIST = re.compile(r"'[^'\n]*'(?:, '[^'\n]*')+")


def shorten_lists(message: str, listed: int = LISTED) -> str:
    """``message`` with every comma-separated list of more than ``listed`` quoted names
    (``'a', 'b', ...``) cut to its first ``listed`` and "and N more": ``"'a', 'b', 'c', 'd',
    'e' and 29 more"``. The rest of the message is kept as it is."""
    def cut(match: re.Match[str]) -> str:
        names = re.findall(r"'[^'\n]*'", match.group(0))
        if len(names) <= listed:
            return match.group(0)
        return ", ".join(names[:listed]) + f" and {len(names) - listed} more"

    return _QUOTED_LIST.sub(cut, message)


def _times(count: int) -> str:
    return "once" if count == 1 else f"{count} times"


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _key_values(pairs: Mapping[str, str], css: str) -> str:
    rows = "".join(f"<tr><th scope=\"row\">{_e(key)}</th><td>{_e(value)}</td></tr>"
                   for key, value in pairs.items())
    return f'<table class="{css}"><tbody>{rows}</tbody></table>'


def _case(case: Case, anchor: str) -> str:
    comparison = case.comparison
    parts = [f'<section class="case" id="{anchor}">', f"<h2>{_e(case.name)}</h2>",
             f"<p>{_e(case.description)}</p>"]
    if case.facts:
        parts += ["<h3>Model and data</h3>", _key_values(case.facts, "facts")]
    diagram = _diagram(case)
    if diagram:
        parts += ["<h3>The network</h3>", diagram]
    if comparison.results:
        parts.append(_comparison(comparison))
    for k, (name, result) in enumerate(comparison.results.items(), start=1):
        parts.append(_method(name, result, f"{anchor}-method-{k}"))
    if comparison.skipped:
        items = "".join(f'<li data-method="{_e(name)}"><code>{_e(name)}</code>: {_e(why)}</li>'
                        for name, why in comparison.skipped.items())
        parts += ["<h3>Methods skipped</h3>", f'<ul class="skipped">{items}</ul>']
    parts.append("</section>")
    return "\n".join(parts)


def _comparison(comparison: Comparison) -> str:
    from .plot import plot_comparison

    parts = ["<h3>Comparison of the methods</h3>",
             _figure(plot_comparison(comparison, kind="heatmap"),
                     "Rank of every variable by every method (1 = most important, each method "
                     "ranking by the kind of its scores).", "rank heatmap"),
             _figure(plot_comparison(comparison, kind="bar"),
                     "Relative importance (% of each method's total).", "relative importance"),
             "<h4>Rank agreement</h4>",
             "<p class=\"note\">Spearman correlation between the methods' rankings: 1 = the same "
             "order, -1 = the reverse order.</p>",
             _frame_table(comparison.agreement, "agreement", corner="method"),
             "<h4>Ranks</h4>",
             _frame_table(comparison.ranks, "ranks", corner="variable")]
    return "\n".join(parts)


def _diagram(case: Case) -> str:
    """The neural interpretation diagram of an MLP case, or "" for any other model."""
    drawn = network_diagram(case.model, case.input_names, output_kind=case.output_kind,
                            classes=case.classes, target_names=case.target_names)
    if drawn is None:
        return ""
    return _figure(drawn, "Neural interpretation diagram (Özesmi & Özesmi 1999; NeuralNetTools' "
                   "plotnet): one line per weight, its width |weight| rescaled to 1-7 pt (the "
                   "smallest 1 pt, the largest 7), black positive and grey negative; B nodes "
                   "are the biases of the layers that have them.", "network diagram")


def network_diagram(model: Any, feature_names: Sequence[str] | None = None, *,
                    output_kind: str | None = None, classes: Sequence[Any] | None = None,
                    target_names: Sequence[str] | None = None) -> Any:
    """The neural interpretation diagram of a model (:func:`varimp.plot.plot_network`), its
    nodes named; None for a model that varimp cannot read as a stack of dense layers.

    Input nodes take ``feature_names`` when there is one per input. Output nodes take the
    labels the importance methods give the model's outputs
    (:func:`varimp.methods._common.output_labels`): class labels (the model's, or
    ``classes`` with ``output_kind`` as the methods were given them), a binary classifier's
    single unit named by its positive class (``present``), the model's output names, or
    ``target_names`` (one per output); a model that names none keeps the diagram's default
    names ``y1..yk``.
    """
    if model is None:
        return None
    from .adapters import adapt
    from .methods._common import output_labels, output_names
    from .plot import plot_network

    try:
        adapter = adapt(model)
        if output_kind is not None or classes is not None:
            adapter = adapter.configure(output_kind=output_kind, classes=classes)
        network = adapter.network()
    except UnsupportedModelError:
        return None
    names = list(feature_names) if feature_names is not None else None
    targets = None if target_names is None else SimpleNamespace(target_names=target_names)
    outputs = output_names(adapter, targets, network.n_outputs)
    try:
        return plot_network(adapter, feature_names=names if names and len(names) ==
                            network.n_inputs else None,
                            output_names=None if outputs is None else
                            output_labels(range(network.n_outputs), outputs))
    except UnsupportedModelError:  # a recurrent network: no diagram to draw
        return None


def _method(name: str, result: Importance, anchor: str) -> str:
    from .plot import SIGNIFICANCE_CAPTION, plot_importance, plot_kinds
    from .plot.heatmaps import explained_step

    spec = REGISTRY.get(result.method) or REGISTRY.get(name)
    heading = f"<h3><code>{_e(name)}</code>"
    heading += f": {_e(spec.title)}</h3>" if spec else "</h3>"
    parts = [f'<section class="method" id="{anchor}" data-method="{_e(name)}">', heading]
    if spec:
        parts.append(f'<p class="reference">{_e(spec.reference)}</p>')
    parts.append(f'<p class="note">What it measures: <em>{_e(result.kind)}</em>, the '
                 f"{_e(KIND_NOTES[result.kind])}. Here: {_e(measure_caption(result))}.</p>")
    whose = _whose_scores(result)
    if whose:
        parts.append(f'<p class="note refitted">{_e(whose)}</p>')
    parts.append(_importance_table(name, result))
    parts.append(_per_output_table(name, result))
    step = explained_step(result)
    captions = {"bar": _bar_caption(result, SIGNIFICANCE_CAPTION),
                "heatmap": "Importance of every variable at every time step (the last step is "
                           f"the most recent){'; it ' + step if step else ''}.",
                "profile": "Lek's profiles: the prediction as each variable sweeps its range, "
                           "the others held at fixed levels; the score is the range of the "
                           "median curve (dashed; a hollow diamond per category of a "
                           "categorical variable)."}
    for kind in plot_kinds(result):
        parts.append(_figure(plot_importance(result, kind=kind), captions[kind],
                             f"{name} {kind}"))
    parts.append("</section>")
    return "\n".join(part for part in parts if part)


def measure_caption(result: Importance) -> str:
    """What the scores measure (:func:`varimp.plot.measure_label`) and, for a result with
    several outputs (``details["per_output"]``), how the score combines them: the mean over the
    named outputs (docs/definitions.md), or the mean of their magnitudes for signed effects."""
    from .plot import measure_label

    label = measure_label(result)
    table = result.details.get("per_output")
    if not isinstance(table, pd.DataFrame) or table.shape[1] < 2:
        return label
    outputs = ", ".join(str(column) for column in table.columns)
    values = table.reindex(result.scores.index).to_numpy(dtype=float)
    scores = result.scores.to_numpy(dtype=float)
    if np.allclose(scores, values.mean(axis=1), rtol=1e-6, atol=1e-12):
        return f"{label}, the mean over the outputs {outputs}"
    if np.allclose(scores, np.abs(values).mean(axis=1), rtol=1e-6, atol=1e-12):
        return f"{label}, the mean of the magnitudes over the outputs {outputs}"
    return f"{label}; each output's own score ({outputs}) is in the table below"


def _whose_scores(result: Importance) -> str:
    """Whose scores the table holds when they are not the given model's: a randomization
    test's network refitted as the null networks (the given model's own scores then get a
    column of their own), or an ensemble's mean over refitted networks; "" otherwise."""
    details = result.details
    settings = details.get("test_settings")
    if isinstance(details.get("given_model"), pd.Series):
        observed = settings.get("observed") if isinstance(settings, Mapping) else None
        how = f" ({observed})" if isinstance(observed, str) and observed else ""
        return ("The scores, p-values and plots are those of a network refitted the same way "
                f"as the null networks{how}, so that the test compares like with like; they "
                "are not the given model's. The given model's own scores are in the column "
                "\"given model's score\".")
    ensemble = details.get("ensemble")
    if isinstance(ensemble, str) and ensemble:
        return (f"The scores are the mean over {ensemble}, not the given model's own scores "
                "(those are the method's result on the model without --ensemble, "
                "varimp.importance).")
    return ""


def _bar_caption(result: Importance, significance: str) -> str:
    from .plot import error_bars

    text = "Scores, most important first."
    what = error_bars(result)
    if what is not None:
        text += f" Error bars: {what}."
    if result.pvalues is not None:
        text += (" Stars: Benjamini-Hochberg adjusted p-values of the randomization test over "
                 f"the {len(result.pvalues)} variables ({significance}).")
    return text


def _importance_table(name: str, result: Importance) -> str:
    frame = result.to_frame()
    given = result.details.get("given_model")
    if isinstance(given, pd.Series):
        frame["given_model"] = given.reindex(frame["feature"]).to_numpy(dtype=float)
    head = "".join(f'<th scope="col" data-column="{_e(c)}">{_e(HEADINGS.get(c, c))}</th>'
                   for c in frame.columns)
    rows = []
    for record in frame.itertuples(index=False):
        cells = [f'<th scope="row">{_e(record[0])}</th>']
        cells += [_number_cell(value, stars=column == "pvalue_bh")
                  for column, value in zip(frame.columns[1:], record[1:], strict=True)]
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return (f'<div class="wide"><table class="importance" data-method="{_e(name)}"><thead><tr>'
            f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>")


def _per_output_table(name: str, result: Importance) -> str:
    """Each output's own scores (``details["per_output"]``, variables x outputs) when the
    result has several outputs, with a one-line note when every output has the same scores
    (:func:`same_for_every_output`); "" otherwise."""
    table = result.details.get("per_output")
    if not isinstance(table, pd.DataFrame) or table.shape[1] < 2:
        return ""
    frame = table.reindex(result.scores.index)
    note = same_for_every_output(result)
    head = '<th scope="col">variable</th>' + "".join(
        f'<th scope="col" data-column="{_e(c)}">{_e(c)}</th>' for c in frame.columns)
    rows = "".join(f'<tr><th scope="row">{_e(index)}</th>'
                   + "".join(_number_cell(v) for v in row) + "</tr>"
                   for index, row in zip(frame.index, frame.to_numpy(), strict=True))
    note = f'<p class="note per-output-note">{_e(note)}</p>' if note else ""
    return (f'<h4>Each output\'s own score</h4>{note}<div class="wide"><table '
            f'class="per-output" data-method="{_e(name)}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{rows}</tbody></table></div>")


def same_for_every_output(result: Importance) -> str:
    """A one-line note when every output of a several-output result has the same scores
    (``details["per_output"]``, equal to 1e-12); "" otherwise. For Garson's default form it
    says why: the output weight cancels in each hidden unit's shares, so the shares cannot
    differ between outputs, and NeuralNetTools' ``garson()`` refuses a network with more than
    one output (docs/definitions.md)."""
    table = result.details.get("per_output")
    if not isinstance(table, pd.DataFrame) or table.shape[1] < 2:
        return ""
    values = table.to_numpy(dtype=float)
    if not np.allclose(values, values[:, :1], rtol=0.0, atol=1e-12, equal_nan=True):
        return ""
    settings = result.details.get("settings")
    variant = settings.get("variant") if isinstance(settings, Mapping) else None
    if result.method == "garson" and variant in ("garson", "goh"):
        return ("Every output has the same shares: in Garson's default form the output weight "
                "cancels in each hidden unit's shares, so the outputs cannot differ "
                "(NeuralNetTools' garson() refuses more than one output; "
                "variant=\"output_weighted\" weighs each output's own weights).")
    return "Every output has the same scores."


def _frame_table(frame: pd.DataFrame, css: str, corner: str) -> str:
    head = f'<th scope="col">{_e(corner)}</th>' + "".join(
        f'<th scope="col">{_wrappable(c)}</th>' for c in frame.columns)
    rows = "".join(f'<tr><th scope="row">{_wrappable(index)}</th>'
                   + "".join(_number_cell(v) for v in row) + "</tr>"
                   for index, row in zip(frame.index, frame.to_numpy(), strict=True))
    return (f'<div class="wide"><table class="{css}"><thead><tr>{head}</tr></thead><tbody>'
            f"{rows}</tbody></table></div>")


def _wrappable(name: object) -> str:
    """A name escaped, with a line-break opportunity after every ``_`` (long method names)."""
    return _e(name).replace("_", "_<wbr>")


def format_number(value: Any) -> str:
    """A number as the report shows it: integers as they are, other numbers to 4 significant
    digits, a missing or non-finite value as ``n/a``."""
    if isinstance(value, Integral) and not isinstance(value, bool):
        return str(int(value))
    number = math.nan if value is None else float(value)
    return f"{number:.4g}" if math.isfinite(number) else MISSING


def _number_cell(value: Any, stars: bool = False) -> str:
    """A number's cell; with ``stars`` (the Benjamini-Hochberg adjusted p-values of the
    importance table, the one rule of significance), a p-value followed by its stars
    (:func:`varimp.plot.stars`: ``*`` p <= 0.05, ``**`` p <= 0.01, ``***`` p <= 0.001)."""
    number = None if value is None else float(value)
    full = "" if number is None or not math.isfinite(number) else f' data-value="{number!r}"'
    marks = ""
    if stars and full:
        from .plot import stars as significance

        mark = significance(number)
        marks = f' <span class="stars">{mark}</span>' if mark else ""
    return f'<td class="num"{full}>{_e(format_number(value))}{marks}</td>'


def _figure(drawn: Any, caption: str, alt: str) -> str:
    """A plot (an Axes or a Figure) as an embedded PNG with its caption; the figure is closed."""
    from .plot.files import save_png

    buffer = io.BytesIO()
    save_png(drawn, buffer, DPI)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{_e(alt)}">'
            f"<figcaption>{_e(caption)}</figcaption></figure>")


__all__ = ["Case", "distinct_warnings", "format_number", "measure_caption", "network_diagram",
           "render_report", "shorten_lists", "write_report"]
