"""The result objects every method returns: :class:`Importance` and :class:`Comparison`.

Both serialise to plain JSON (``to_dict`` / ``to_json``) and back (``from_dict`` /
``from_json``); the JSON is strict (no ``NaN`` or ``Infinity``: a non-finite number is stored as
``null`` and read back as ``NaN``), and a result read back compares equal to the one written.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .errors import InputError, describe

#: What ``Importance.scores`` can hold, and how each kind is read (see :class:`Importance`).
KINDS = ("loss", "effect", "share", "magnitude")
#: Where ``details`` holds one entry per sample, so that its size grows with the data: a key, or
#: a path of keys into nested dicts (the held-out rows of the stepwise methods' folds). Left out
#: of ``to_dict`` / ``to_json`` unless ``include_samples=True``, and compared by ``==`` only
#: when both results carry them.
SAMPLE_KEYS: tuple[str | tuple[str, ...], ...] = (
    "derivatives", "per_sample", ("held_out", "rows"), ("held_out", "train_rows"))
#: The marker of a tagged pandas or numpy object inside serialised ``details``.
_TAG = "__varimp__"


def _series(values: Any, index: Any, name: str) -> pd.Series:
    if isinstance(values, pd.Series):
        return values.astype(float).rename(name)
    return pd.Series(np.asarray(values, dtype=float), index=pd.Index(list(index)), name=name)


def adjusted_pvalues(result: Importance) -> pd.Series | None:
    """The Benjamini-Hochberg adjusted p-values over the variables of a randomization test,
    the one rule of significance (the stars of the plots and of the report, ``to_frame()``'s
    ``pvalue_bh``): ``details["pvalues_bh"]``, else, for a result that lacks it, the same
    adjustment of ``pvalues`` (:func:`varimp.stats.bh_adjusted`); None without p-values."""
    if result.pvalues is None:
        return None
    stored = result.details.get("pvalues_bh")
    if isinstance(stored, pd.Series):
        return stored.astype(float).reindex(result.pvalues.index).rename("pvalue_bh")
    from .stats.randomization import bh_adjusted

    values = result.pvalues.to_numpy(dtype=float)
    adjusted = np.full(values.shape, np.nan)
    known = np.isfinite(values)
    if known.any():
        adjusted[known] = bh_adjusted(values[known])
    return pd.Series(adjusted, index=result.pvalues.index, name="pvalue_bh")


@dataclass(eq=False)
class Importance:
    """The importance of every input variable by one method.

    Attributes
    ----------
    method : str
        Canonical method name (one of ``varimp.METHODS``).
    scores : pandas.Series
        One score per variable, indexed by feature (or group) name; signed where the method is.
    by_time : pandas.DataFrame or None
        Sequences only: index = time step (0 the oldest), columns = features.
    std : pandas.Series or None
        Standard deviation of the scores over repeats, when the method ran repeats.
    ci : pandas.DataFrame or None
        Columns ``low`` and ``high``: an interval around each score, of one of two kinds.
        From ``ci_level`` on a data-driven method (perturbation, permutation, improved
        stepwise 1, partial derivatives): a percentile confidence interval of the score from a
        bootstrap over the rows, the model fixed and never retrained (``details["ci_level"]``,
        ``details["n_bootstrap"]``). From :func:`varimp.ensemble`: a t prediction interval for
        the importance of one more network trained the same way, ``scores -/+ t * std *
        sqrt(1 + 1 / n_models)`` (roughly normal importances across networks assumed; with
        bootstrap resamples the sample's uncertainty is included), symmetric about
        ``scores``; not a confidence interval of their mean, which would be ``sqrt(n_models
        + 1)`` times narrower (``details["interval"]`` says so in words; the members' scores,
        for percentiles, are in ``details["members"]``).
    pvalues : pandas.Series or None
        From a randomization test: each variable's raw p-value, that of one variable alone.
        Significance is read from the Benjamini-Hochberg adjusted p-values over the variables
        (``details["pvalues_bh"]``, :func:`adjusted_pvalues`, ``to_frame()``'s
        ``pvalue_bh``), which the stars of the plots and of the report mark.
    details : dict
        Method-specific extras (profile curves, removal paths, per-output scores, settings);
        ``details["measure"]``, where present, names the score with its direction ("increase
        in log loss", "drop in accuracy") and labels the plots.
    kind : {"loss", "effect", "share", "magnitude"}, default "magnitude"
        What ``scores`` hold: ``"loss"`` an increase in error (a negative score means no
        importance: the variable's perturbation lowered the error), ``"effect"`` a signed
        effect whose magnitude matters (connection weights, mean derivative), ``"share"`` or
        ``"magnitude"`` a non-negative amount. :attr:`relative` and :attr:`ranks` follow it.

    Notes
    -----
    Two results are equal (``==``) when their serialised forms (:meth:`to_dict`) are equal:
    same method, kind, numbers (bit for bit, a non-finite number standing for ``NaN``) and
    details. Per-sample details (:data:`SAMPLE_KEYS`: derivatives and shares per row, the
    held-out rows of every fold) are compared only when both results carry them, so a result
    equals its own ``to_json()`` round trip, which leaves them out.
    """

    method: str
    scores: pd.Series
    by_time: pd.DataFrame | None = None
    std: pd.Series | None = None
    ci: pd.DataFrame | None = None
    pvalues: pd.Series | None = None
    details: dict[str, Any] = field(default_factory=dict)
    kind: str = "magnitude"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise InputError(f"kind must be one of {list(KINDS)}; received {self.kind!r}")
        self.scores = _series(self.scores, getattr(self.scores, "index", ()), "score")
        index = self.scores.index
        if self.std is not None:
            self.std = _series(self.std, index, "std").reindex(index)
        if self.pvalues is not None:
            self.pvalues = _series(self.pvalues, index, "pvalue").reindex(index)
        if self.ci is not None:
            self.ci = pd.DataFrame(self.ci, columns=["low", "high"]).astype(float).reindex(index)

    @property
    def feature_names(self) -> list[str]:
        return [str(name) for name in self.scores.index]

    @property
    def relative(self) -> pd.Series:
        """Share of the total importance in percent, ``100 * m / m.sum()``.

        ``m`` is ``abs(scores)`` for effects, ``max(scores, 0)`` for losses (a variable whose
        perturbation lowered the error has no share) and the scores themselves for shares and
        magnitudes. All zero when ``m`` sums to zero.
        """
        if self.kind == "effect":
            magnitude = self.scores.abs()
        elif self.kind == "loss":
            magnitude = self.scores.clip(lower=0.0)
        else:
            magnitude = self.scores
        total = magnitude.sum()
        share = magnitude * (100.0 / total) if total > 0 else magnitude * 0.0
        return share.rename("relative")

    @property
    def ranks(self) -> pd.Series:
        """1 = most important; ties share the best rank, a missing score ranks last.

        Effects rank by magnitude, ``abs(scores)``; losses by the signed score, so a negative
        loss ranks below every positive one; shares and magnitudes by value.
        """
        key = self.scores.abs() if self.kind == "effect" else self.scores
        ranks = key.rank(ascending=False, method="min", na_option="bottom")
        return ranks.astype(int).rename("rank")

    def to_frame(self) -> pd.DataFrame:
        """A tidy table: feature, score, relative, rank, and std / ci / pvalue where present;
        beside ``pvalue`` (raw), ``pvalue_bh``: the Benjamini-Hochberg adjusted p-values over
        the variables (:func:`adjusted_pvalues`), those to call significant."""
        frame = pd.DataFrame({"score": self.scores, "relative": self.relative, "rank": self.ranks})
        if self.std is not None:
            frame["std"] = self.std
        if self.ci is not None:
            frame["ci_low"] = self.ci["low"]
            frame["ci_high"] = self.ci["high"]
        if self.pvalues is not None:
            frame["pvalue"] = self.pvalues
            frame["pvalue_bh"] = adjusted_pvalues(self)
        return frame.rename_axis("feature").reset_index()  # a new index: scores keep theirs

    def to_dict(self, *, include_samples: bool = False) -> dict[str, Any]:
        """Plain Python containers that :func:`json.dumps` writes as strict JSON.

        Numbers survive a JSON round trip exactly; a non-finite number becomes ``None``.
        DataFrames, Series and arrays in ``details`` are tagged so that :meth:`from_dict`
        rebuilds them with their index. Per-sample details (:data:`SAMPLE_KEYS`:
        ``details["derivatives"]``, ``details["per_sample"]``, ``details["held_out"]["rows"]``),
        whose size grows with the number of samples, are left out unless ``include_samples``
        is true, so the size of the JSON does not depend on the data's length.
        """
        details = self.details if include_samples else _without(self.details, _sample_paths())
        return {
            "method": self.method,
            "kind": self.kind,
            "scores": _plain(self.scores),
            "std": None if self.std is None else _plain(self.std),
            "pvalues": None if self.pvalues is None else _plain(self.pvalues),
            "ci": None if self.ci is None else {"low": _plain(self.ci["low"]),
                                                "high": _plain(self.ci["high"])},
            "by_time": None if self.by_time is None else {
                "index": [int(i) for i in self.by_time.index],
                "index_name": self.by_time.index.name,
                "columns": [str(c) for c in self.by_time.columns],
                "values": [[_number(v) for v in row]
                           for row in self.by_time.to_numpy(dtype=float)],
            },
            "details": _encode(details),
        }

    def to_json(self, *, include_samples: bool = False, **kwargs: Any) -> str:
        """:meth:`to_dict` as strict JSON text; ``kwargs`` go to :func:`json.dumps`."""
        return json.dumps(self.to_dict(include_samples=include_samples), allow_nan=False,
                          **kwargs)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Importance:
        """The result written by :meth:`to_dict` (a missing ``kind`` reads as "magnitude").
        Anything else (a :class:`Comparison`'s dict, unrelated data) is an InputError saying
        what was expected and what came."""
        return cls._read(data, "from_dict")

    @classmethod
    def _read(cls, data: Any, call: str) -> Importance:
        _expect(data, "Importance", call)
        scores = data["scores"]
        if not (isinstance(scores, dict) and "index" in scores and "values" in scores):
            raise InputError(f"Importance.{call} needs 'scores' as Importance.to_json writes "
                             "them (an object with the keys 'index' and 'values'); received "
                             f"{_json_name(scores)}")
        try:
            return cls._from_dict(data)
        except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
            raise InputError(f"Importance.{call} could not read the result of method "
                             f"{data.get('method')!r}: {type(exc).__name__}: {exc}") from exc

    @classmethod
    def _from_dict(cls, data: dict[str, Any]) -> Importance:
        by_time = data.get("by_time")
        ci = data.get("ci")
        if by_time is not None:
            values = np.array(by_time["values"], dtype=float).reshape(
                len(by_time["index"]), len(by_time["columns"]))
            by_time = pd.DataFrame(values, columns=by_time["columns"],
                                   index=pd.Index(by_time["index"],
                                                  name=by_time.get("index_name", "time_step")))
        return cls(
            method=data["method"],
            scores=_unplain(data["scores"]),
            std=_unplain(data.get("std")),
            pvalues=_unplain(data.get("pvalues")),
            ci=None if ci is None else pd.DataFrame(
                {"low": _unplain(ci["low"]), "high": _unplain(ci["high"])}),
            by_time=by_time,
            details=_decode(data.get("details", {})),
            kind=data.get("kind", "magnitude"),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> Importance:
        """The result written by :meth:`to_json`. Text that is not JSON, or JSON of anything
        else (a :class:`Comparison`'s, unrelated data), is an InputError saying what was
        expected and what came."""
        return cls._read(_load(text, "Importance"), "from_json")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Importance):
            return NotImplemented
        unshared = [path for path in _sample_paths()
                    if not (_holds(self.details, path) and _holds(other.details, path))]
        mine, theirs = _without(self.details, unshared), _without(other.details, unshared)
        return (_replace_details(self, mine).to_dict(include_samples=True)
                == _replace_details(other, theirs).to_dict(include_samples=True))

    __hash__ = None  # type: ignore[assignment]  # mutable, like the DataFrames it holds

    def plot(self, kind: str | None = None, ax: Any = None, **kwargs: Any) -> Any:
        """Draw the result: a matplotlib Axes, or a Figure for a grid of profile panels.

        ``kind``: ``"bar"`` (default; error bars from ``std`` or ``ci``), ``"heatmap"`` (the
        time x feature table, default when ``by_time`` is present) or ``"profile"`` (Lek's
        curves, default for the profile method). See :func:`varimp.plot.plot_importance`.
        """
        from . import plot

        return plot.plot_importance(self, kind=kind, ax=ax, **kwargs)

    def __repr__(self) -> str:
        table = self.to_frame().to_string(index=False, float_format=lambda v: f"{v:.4g}")
        extra = "" if self.by_time is None else f"\nby_time: {self.by_time.shape[0]} steps"
        return f"Importance(method={self.method!r}, kind={self.kind!r})\n{table}{extra}"


#: The keys that say which object a JSON object was written by: (class, keys, its writer).
_SIGNATURES = (("Importance", ("method", "scores"), "Importance.to_json"),
               ("Comparison", ("results",), "Comparison.to_json"))


def _load(text: object, kind: str) -> Any:
    """``text`` parsed as JSON; InputError for anything that is not JSON text."""
    if not isinstance(text, str | bytes | bytearray):
        raise InputError(f"{kind}.from_json needs JSON text (a str, as {kind}.to_json writes "
                         f"it); received {describe(text)}")
    try:
        return json.loads(text)
    except UnicodeDecodeError as exc:  # bytes in none of the encodings JSON allows
        raise InputError(f"{kind}.from_json needs JSON text written by {kind}.to_json; "
                         f"received bytes that are not UTF-8, UTF-16 or UTF-32 text "
                         f"({exc.reason} at byte {exc.start}): {bytes(text[:40])!r}") from exc
    except json.JSONDecodeError as exc:
        shown = text if len(text) <= 40 else text[:37] + "..."
        raise InputError(f"{kind}.from_json needs JSON text written by {kind}.to_json; "
                         f"received text that is not JSON ({exc.msg} at line {exc.lineno} "
                         f"column {exc.colno}): {shown!r}") from exc


def _written_by(data: object) -> str | None:
    """The class whose JSON ``data`` is (by its keys), or None."""
    if isinstance(data, dict):
        for kind, keys, _ in _SIGNATURES:
            if all(key in data for key in keys):
                return kind
    return None


def _expect(data: object, kind: str, call: str) -> None:
    """InputError unless ``data`` is what ``kind.to_dict`` writes, naming what came instead."""
    came = _written_by(data)
    if came == kind and (kind != "Comparison" or isinstance(data["results"], dict)):
        return
    noun = "JSON" if call == "from_json" else "dict"
    if came == kind:  # a Comparison's key, holding something else
        raise InputError(f"Comparison.{call} needs 'results' as Comparison.to_json writes them "
                         "(an object of method name -> an Importance's JSON); received "
                         f"{_json_name(data['results'])}")
    keys, writer = next((keys, writer) for name, keys, writer in _SIGNATURES if name == kind)
    wanted = ", ".join(repr(key) for key in keys)
    if call == "from_dict":
        writer = writer.replace("to_json", "to_dict")
    if came is not None:
        received = f"{'an' if came == 'Importance' else 'a'} {came}'s {noun} (read it with " \
                   f"{came}.{call})"
    elif isinstance(data, dict):
        names = sorted(str(key) for key in data)
        received = f"an object with the keys {names[:8]}{' ...' if len(names) > 8 else ''}"
    else:
        received = _json_name(data)
    raise InputError(f"{kind}.{call} needs {'an' if kind == 'Importance' else 'a'} {kind}'s "
                     f"{noun} (with the keys {wanted}, as {writer} writes it); received "
                     f"{received}")


def _json_name(value: object) -> str:
    """What a parsed JSON value is, in JSON's words."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"a string {describe(value)[4:]}"
    if isinstance(value, list):
        return f"an array of {len(value)} item(s)"
    return describe(value)


def _sample_paths() -> list[tuple[str, ...]]:
    return [(key,) if isinstance(key, str) else tuple(key) for key in SAMPLE_KEYS]


def _holds(details: dict[str, Any], path: tuple[str, ...]) -> bool:
    """Whether ``details[path[0]][path[1]]...`` exists."""
    for key in path:
        if not isinstance(details, dict) or key not in details:
            return False
        details = details[key]
    return True


def _without(details: dict[str, Any], paths: list[tuple[str, ...]]) -> dict[str, Any]:
    """``details`` less the entries at ``paths``; the dicts along a path are copied, the
    original is left alone."""
    for path in paths:
        if not _holds(details, path):
            continue
        head, rest = path[0], path[1:]
        details = {key: _without(value, [rest]) if key == head else value
                   for key, value in details.items() if key != head or rest}
    return details


def _replace_details(result: Importance, details: dict[str, Any]) -> Importance:
    """A shallow copy of ``result`` with other details (no validation, no copies of data)."""
    copy = object.__new__(Importance)
    copy.__dict__.update(result.__dict__, details=details)
    return copy


def _number(value: Any) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _plain(series: pd.Series) -> dict[str, Any]:
    return {"index": [str(i) for i in series.index],
            "values": [_number(v) for v in series.to_numpy(dtype=float)]}


def _unplain(data: dict[str, Any] | None) -> pd.Series | None:
    if data is None:
        return None
    return pd.Series(np.array(data["values"], dtype=float), index=data["index"])


def _scalar(value: Any) -> Any:
    """A JSON scalar: numpy scalars as Python ones, non-finite floats as None."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return _number(value)
    if value is None or isinstance(value, str | int | bool):
        return value
    return repr(value)


def _encode(value: Any) -> Any:
    """Details as JSON containers; DataFrames, Series and arrays tagged to be rebuilt."""
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    if isinstance(value, pd.DataFrame):
        return {_TAG: "DataFrame", "columns": [_scalar(c) for c in value.columns],
                "index": [_scalar(i) for i in value.index], "index_name": _scalar(value.index.name),
                "data": [[_encode(v) for v in value.iloc[:, j]] for j in range(value.shape[1])]}
    if isinstance(value, pd.Series):
        return {_TAG: "Series", "name": _scalar(value.name),
                "index": [_scalar(i) for i in value.index], "index_name": _scalar(value.index.name),
                "data": [_encode(v) for v in value]}
    if isinstance(value, np.ndarray):
        return {_TAG: "ndarray", "dtype": value.dtype.str if value.dtype.kind in "biuf" else None,
                "shape": list(value.shape),
                "data": [_scalar(v) for v in value.ravel().tolist()]}
    return _scalar(value)


def _column(values: list[Any]) -> pd.Series:
    """A column read back: ``None`` among numbers is NaN, otherwise pandas infers the dtype."""
    values = [_decode(v) for v in values]
    numbers = [v for v in values if v is not None]
    if values and len(numbers) < len(values) and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in numbers):
        return pd.Series([np.nan if v is None else v for v in values], dtype=float)
    return pd.Series(values, dtype=object if not values else None)


def _decode(value: Any) -> Any:
    """The inverse of :func:`_encode`."""
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    tag = value.get(_TAG)
    if tag == "DataFrame":
        index = pd.Index(value["index"], name=value["index_name"])
        columns = {j: _column(col).set_axis(index) for j, col in enumerate(value["data"])}
        frame = pd.DataFrame(columns, index=index)
        return frame.set_axis(pd.Index(value["columns"]), axis=1)
    if tag == "Series":
        return _column(value["data"]).set_axis(pd.Index(value["index"], name=value["index_name"])
                                               ).rename(value["name"])
    if tag == "ndarray":
        data = [np.nan if v is None else v for v in value["data"]]
        array = np.array(data, dtype=value["dtype"] or object)
        return array.reshape(value["shape"])
    return {k: _decode(v) for k, v in value.items()}


@dataclass(eq=False)
class Comparison:
    """Several methods on the same model and data (the result of :func:`varimp.compare`).

    Attributes
    ----------
    results : dict
        Method name -> :class:`Importance`.
    skipped : dict
        Method name -> why it did not run on this model and data.
    """

    results: dict[str, Importance]
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def scores(self) -> pd.DataFrame:
        """Features x methods: every method's scores."""
        return pd.DataFrame({name: r.scores for name, r in self.results.items()})

    @property
    def relative(self) -> pd.DataFrame:
        """Features x methods: every method's :attr:`Importance.relative`."""
        return pd.DataFrame({name: r.relative for name, r in self.results.items()})

    @property
    def ranks(self) -> pd.DataFrame:
        """Features x methods: every method's :attr:`Importance.ranks` (by its own kind)."""
        return pd.DataFrame({name: r.ranks for name, r in self.results.items()})

    @property
    def agreement(self) -> pd.DataFrame:
        """Methods x methods: the Spearman correlation of the methods' ranks."""
        return self.ranks.corr(method="spearman")

    def to_frame(self) -> pd.DataFrame:
        """Every method's :meth:`Importance.to_frame`, stacked, with a ``method`` column."""
        frames = [r.to_frame().assign(method=name) for name, r in self.results.items()]
        return pd.concat(frames, ignore_index=True)

    def to_dict(self, *, include_samples: bool = False) -> dict[str, Any]:
        """Plain containers: every result's :meth:`Importance.to_dict`, and ``skipped``."""
        return {"results": {name: r.to_dict(include_samples=include_samples)
                            for name, r in self.results.items()},
                "skipped": {str(k): str(v) for k, v in self.skipped.items()}}

    def to_json(self, *, include_samples: bool = False, **kwargs: Any) -> str:
        """:meth:`to_dict` as strict JSON text; ``kwargs`` go to :func:`json.dumps`."""
        return json.dumps(self.to_dict(include_samples=include_samples), allow_nan=False,
                          **kwargs)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Comparison:
        """The comparison written by :meth:`to_dict`; anything else (an :class:`Importance`'s
        dict, unrelated data) is an InputError saying what was expected and what came."""
        return cls._read(data, "from_dict")

    @classmethod
    def _read(cls, data: Any, call: str) -> Comparison:
        _expect(data, "Comparison", call)
        results = {}
        for name, result in data["results"].items():
            try:
                results[name] = Importance._read(result, call)
            except InputError as exc:
                raise InputError(f"Comparison.{call}: result {name!r}: {exc}") from exc
        skipped = data.get("skipped")
        if skipped is not None and not (isinstance(skipped, dict) and all(
                isinstance(why, str) for why in skipped.values())):
            raise InputError(f"Comparison.{call} needs 'skipped' as Comparison.to_json writes "
                             "it (an object of method name -> reason text); received "
                             f"{_json_name(skipped)}")
        return cls(results, skipped=dict(skipped or {}))

    @classmethod
    def from_json(cls, text: str | bytes) -> Comparison:
        """The comparison written by :meth:`to_json`; text that is not JSON, or JSON of
        anything else, is an InputError as for :meth:`from_dict`."""
        return cls._read(_load(text, "Comparison"), "from_json")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Comparison):
            return NotImplemented
        return self.skipped == other.skipped and self.results == other.results

    __hash__ = None  # type: ignore[assignment]

    def plot(self, kind: str | None = None, ax: Any = None, **kwargs: Any) -> Any:
        """Draw the comparison and return the Axes: ``"bar"`` or ``"heatmap"`` (ranks).

        See :func:`varimp.plot.plot_comparison`; None picks the rank heatmap for many features.
        """
        from . import plot

        return plot.plot_comparison(self, kind=kind, ax=ax, **kwargs)

    def __repr__(self) -> str:
        skipped = "".join(f"\nskipped {name}: {why}" for name, why in self.skipped.items())
        return "Comparison\n" + self.relative.round(2).to_string() + skipped
