"""The result objects every method returns: :class:`Importance` and :class:`Comparison`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd


def _series(values: Any, index: Any, name: str) -> pd.Series:
    if isinstance(values, pd.Series):
        return values.astype(float).rename(name)
    return pd.Series(np.asarray(values, dtype=float), index=pd.Index(list(index)), name=name)


@dataclass
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
        Columns ``low`` and ``high``: a confidence interval of each score.
    pvalues : pandas.Series or None
        From a randomization test.
    details : dict
        Method-specific extras (profile curves, removal paths, per-output scores, settings).
    """

    method: str
    scores: pd.Series
    by_time: pd.DataFrame | None = None
    std: pd.Series | None = None
    ci: pd.DataFrame | None = None
    pvalues: pd.Series | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
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
        """``100 * abs(scores) / abs(scores).sum()`` (all zero when every score is zero)."""
        magnitude = self.scores.abs()
        total = magnitude.sum()
        share = magnitude * (100.0 / total) if total > 0 else magnitude * 0.0
        return share.rename("relative")

    @property
    def ranks(self) -> pd.Series:
        """1 = most important, by ``abs(scores)``; ties share the lowest rank."""
        return self.scores.abs().rank(ascending=False, method="min").astype(int).rename("rank")

    def to_frame(self) -> pd.DataFrame:
        """A tidy table: feature, score, relative, rank, and std / ci / pvalue where present."""
        frame = pd.DataFrame({"score": self.scores, "relative": self.relative, "rank": self.ranks})
        if self.std is not None:
            frame["std"] = self.std
        if self.ci is not None:
            frame["ci_low"] = self.ci["low"]
            frame["ci_high"] = self.ci["high"]
        if self.pvalues is not None:
            frame["pvalue"] = self.pvalues
        frame.index.name = "feature"
        return frame.reset_index()

    def to_dict(self) -> dict[str, Any]:
        """Plain Python containers; numbers survive a JSON round trip exactly."""
        out: dict[str, Any] = {
            "method": self.method,
            "scores": _plain(self.scores),
        }
        for name in ("std", "pvalues"):
            value = getattr(self, name)
            out[name] = None if value is None else _plain(value)
        out["ci"] = None if self.ci is None else {
            "low": _plain(self.ci["low"]), "high": _plain(self.ci["high"])}
        out["by_time"] = None if self.by_time is None else {
            "index": [int(i) for i in self.by_time.index],
            "columns": [str(c) for c in self.by_time.columns],
            "values": self.by_time.to_numpy(dtype=float).tolist(),
        }
        out["details"] = _jsonable(self.details)
        return out

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), **kwargs)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Importance:
        def series(d: dict | None) -> pd.Series | None:
            return None if d is None else pd.Series(d["values"], index=d["index"], dtype=float)

        by_time = data.get("by_time")
        ci = data.get("ci")
        return cls(
            method=data["method"],
            scores=series(data["scores"]),
            std=series(data.get("std")),
            pvalues=series(data.get("pvalues")),
            ci=None if ci is None else pd.DataFrame(
                {"low": series(ci["low"]), "high": series(ci["high"])}),
            by_time=None if by_time is None else pd.DataFrame(
                by_time["values"], index=pd.Index(by_time["index"], name="time_step"),
                columns=by_time["columns"]),
            details=data.get("details", {}),
        )

    @classmethod
    def from_json(cls, text: str) -> Importance:
        return cls.from_dict(json.loads(text))

    def plot(self, kind: str | None = None, ax: Any = None, **kwargs: Any) -> Any:
        """Draw the result and return the matplotlib Axes.

        ``kind``: ``"bar"`` (default; error bars from ``std`` or ``ci``), ``"heatmap"`` (the
        time x feature table, default when ``by_time`` is present) or ``"profile"`` (Lek's
        curves, default for the profile method).
        """
        from . import plot

        return plot.plot_importance(self, kind=kind, ax=ax, **kwargs)

    def __repr__(self) -> str:
        table = self.to_frame().to_string(index=False, float_format=lambda v: f"{v:.4g}")
        extra = "" if self.by_time is None else f"\nby_time: {self.by_time.shape[0]} steps"
        return f"Importance(method={self.method!r})\n{table}{extra}"


def _plain(series: pd.Series) -> dict[str, Any]:
    return {"index": [str(i) for i in series.index],
            "values": [float(v) for v in series.to_numpy(dtype=float)]}


def _jsonable(value: Any) -> Any:
    """Details as JSON-safe containers (frames become records, arrays lists)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, pd.DataFrame):
        return {"columns": [str(c) for c in value.columns],
                "records": [[_jsonable(v) for v in row] for row in value.itertuples(index=False)]}
    if isinstance(value, pd.Series):
        return _plain(value)
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return repr(value)


@dataclass
class Comparison:
    """Several methods on the same model and data (the result of :func:`varimp.compare`)."""

    results: dict[str, Importance]
    skipped: dict[str, str] = field(default_factory=dict)  # method -> why it did not run

    @property
    def scores(self) -> pd.DataFrame:
        return pd.DataFrame({name: r.scores for name, r in self.results.items()})

    @property
    def relative(self) -> pd.DataFrame:
        return pd.DataFrame({name: r.relative for name, r in self.results.items()})

    @property
    def ranks(self) -> pd.DataFrame:
        return pd.DataFrame({name: r.ranks for name, r in self.results.items()})

    @property
    def agreement(self) -> pd.DataFrame:
        """Spearman rank correlation between methods, on ``abs(scores)``."""
        return self.scores.abs().corr(method="spearman")

    def to_frame(self) -> pd.DataFrame:
        frames = [r.to_frame().assign(method=name) for name, r in self.results.items()]
        return pd.concat(frames, ignore_index=True)

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        from . import plot

        return plot.plot_comparison(self, ax=ax, **kwargs)

    def __repr__(self) -> str:
        return "Comparison\n" + self.relative.round(2).to_string()
