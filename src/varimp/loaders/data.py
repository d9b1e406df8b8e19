"""Data files as ``varimp run`` reads them (see :mod:`varimp.loaders`)."""

from __future__ import annotations

import re
import warnings
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from ..validation import check_feature_names
from ._files import check_file, first_line
from ._tables import DETECTED, CsvDialect, first_text, read_table

#: Data file suffixes.
DATA_FORMATS = (".csv", ".parquet", ".pq", ".npy", ".npz")
#: Date formats tried on a long table's time column after the ones pandas guesses from its
#: first value (which needs a day: "01/2020" is only read by these).
DATE_FORMATS = ("%m/%Y", "%Y/%m", "%m-%Y", "%Y-%m", "%b %Y", "%B %Y", "%Y%m")


@dataclass
class Data:
    """Inputs and targets read from a data file.

    Attributes
    ----------
    X : ndarray
        ``(n, p)`` tables or ``(n, T, p)`` sequences, float64.
    y : ndarray or None
        Targets: ``(n,)``, or ``(n, T)`` for a long table whose target changes over time; with
        several target columns (one per output of the model), a last axis of one per column:
        ``(n, k)`` or ``(n, T, k)``.
    feature_names : list of str
    facts : dict
        What was read, for the report (label -> value); a long table's ``"time steps"`` say
        how the time column was read and its first and last step.
    targets_per_step : bool
        ``y`` holds one target per time step of a long table, whichever the model predicts.
    target_names : list of str
        The target columns of a table, as read (empty for arrays).
    target_text : str
        Where a target column that is mostly numbers holds text (``'4,1' in data row 3``):
        read as class labels, which a regression model refuses (:func:`varimp.runner.check_targets`
        says this instead); "" otherwise.
    id_column, time_column : str or None
        A long table's sequence and time columns.
    sequence_ids : list
        A long table's sequences, in the order of ``X``.
    step_labels : list
        A long table's time values, step by step, when every sequence has the same ones (empty
        for sequences aligned by position).
    """

    X: np.ndarray
    y: np.ndarray | None
    feature_names: list[str]
    facts: dict[str, str] = field(default_factory=dict)
    targets_per_step: bool = False
    target_names: list[str] = field(default_factory=list)
    target_text: str = ""
    id_column: str | None = None
    time_column: str | None = None
    sequence_ids: list = field(default_factory=list)
    step_labels: list = field(default_factory=list)


def load_data(path: Path, *, target: str | Sequence[str] | None = None,
              features: Sequence[str] | None = None,
              id_column: str | None = None, time_column: str | None = None,
              time_format: str | None = None, target_file: Path | None = None,
              dialect: CsvDialect = DETECTED) -> Data:
    """Read inputs and targets from a data file.

    Parameters
    ----------
    path : Path
        CSV or Parquet (a table), ``.npy`` or ``.npz`` (arrays). A CSV whose header has more
        semicolons than commas is read with ``;`` between columns (and decimal commas where
        its numbers are so written: :func:`varimp.loaders._tables.read_table`); the facts say
        so. A table's rows are taken by position (a repeated index is no key); a Parquet
        table's named index levels that the options name are read as columns. A column that
        should hold numbers but holds text is refused naming its first such value and data
        row; the facts list the columns left out of the inputs (``"left out"``).
    target : str or sequence of str, optional
        Tables: the column holding the targets; for a model with several outputs, one column
        per output, in the order of the model's outputs. Each value that is not a column of
        the table is read as comma-separated column names (``"a,b"``); a column whose name
        has spaces or commas is named whole (``"flow rate (m3/s)"``).
    features : sequence of str, optional
        Tables: the input columns, in this order (default: every other column), read as
        ``target`` is. Arrays: the names of the features (each value comma separated).
    id_column, time_column : str, optional
        Tables: a long table of sequences, one row per sequence and time step, pivoted into
        ``(sequences, steps, features)`` ordered by id and time; every sequence must have the
        same number of time steps (else InputError naming the shortest and the longest).
        Sequences with the same times are aligned by time; others (sliding windows of a
        series, each its own dates) by position, step ``T - 1`` the most recent of each,
        which a ``UserWarning`` and the facts say, but only when every sequence's steps are
        spaced alike (the same gaps between consecutive steps: days, months for monthly
        dates, or numbers); else InputError naming a sequence whose gaps differ. Time is numbers
        (numeric order) or dates that :func:`pandas.to_datetime` reads with one format (time
        order); the data facts say which, and the first and last step. Dates that read in
        several formats giving different orders (``03.02.2020``: 3 February or 2 March) are
        refused unless ``time_format`` says which. Missing targets are left in ``y``: only
        the steps the model's scores read need them (:func:`check_read_targets`); a plain
        table's are refused, naming the column, the count and the first data row.
    time_format : str, optional
        The format of the time column's dates, in ``strftime`` codes (``"%d.%m.%Y"``).
    target_file : Path, optional
        Targets in their own file (``.npy``, ``.npz`` or a one-column CSV), for arrays.
    dialect : CsvDialect, optional
        A CSV's column separator, decimal mark and encoding where the user names them (the
        command line's ``--sep``, ``--decimal``, ``--encoding``): used as given, nothing
        detected; InputError for a data file that is not a CSV.

    Returns
    -------
    Data
    """
    check_file(path, "data")
    dialect = dialect.checked()
    targets = [target] if isinstance(target, str) else list(target or [])
    suffix = path.suffix.lower()
    if suffix not in DATA_FORMATS:
        raise InputError(f"data file {path} has suffix {suffix!r}; supported: "
                         f"{', '.join(DATA_FORMATS)}")
    if (id_column is None) != (time_column is None):
        raise InputError("--id and --time go together: a long table of sequences needs both")
    if time_format is not None and time_column is None:
        raise InputError(f"--time-format {time_format} says how the --time column writes its "
                         "dates: give --id and --time too")
    if suffix in (".npy", ".npz"):
        if dialect != DETECTED and (target_file is None or
                                        target_file.suffix.lower() != ".csv"):
            raise InputError(f"--sep, --decimal and --encoding say how to read a CSV; data "
                             f"file {path} holds NumPy arrays")
        if targets or id_column is not None:
            raise InputError(f"--target, --id and --time name columns of a table; data file "
                             f"{path} holds arrays: put the targets in the .npz as 'y' or pass "
                             "--target-file")
        X, y, names = _arrays(path, target_file,
                              None if features is None else column_names(features, ()),
                              dialect)
        facts = {"data": f"{path.name} (NumPy arrays)"}
        if y is not None and np.issubdtype(y.dtype, np.number):
            _check_finite(y.astype(float), ["target"], path)
        sequences: dict = {}
    else:
        if target_file is not None:
            raise InputError("--target-file is for array data; a table names its target "
                             "column with --target")
        table, how = read_table(path, suffix, dialect)
        table, levels, unread = _index_columns(table, [*targets, *(features or ()),
                                                       id_column or "", time_column or ""])
        targets = column_names(targets, table.columns)
        features = None if features is None else column_names(features, table.columns)
        said = [how] * bool(how) + [f"{', '.join(levels)} read from its index"] * bool(levels)
        facts = {"data": f"{path.name} ({'CSV' if suffix == '.csv' else 'Parquet'} table"
                 f"{''.join(', ' + s for s in said)})"}
        if id_column is None:
            X, y, names = _columns(table, path, targets, features, how=how)
            _check_targets(table, targets, path)
            sequences = {}
        else:
            X, y, names, facts["time steps"], sequences = _long(
                table, path, targets, features, id_column, time_column, time_format, how)
        left = [c for c in table.columns if c not in {*names, *targets, id_column, time_column}]
        left = [", ".join(left) + " (not in --features)"] * bool(left) + [
            f"the table's index ({', '.join(unread)})"] * bool(unread)
        if left:
            facts["left out"] = "; ".join(left)
    _check_finite(X, names, path)
    shape = " x ".join(str(s) for s in X.shape)
    axes = "sequences x steps x features" if X.ndim == 3 else "rows x features"
    facts["inputs"] = f"{shape} ({axes}): {', '.join(names)}"
    facts["target"] = "none (methods that measure an error are skipped)" if y is None else \
        f"{', '.join(targets) or 'y'}" + (" (one column per output)" if len(targets) > 1 else "") \
        + (", one value per time step" if id_column is not None else "") \
        + f", shape {' x '.join(str(s) for s in y.shape)}"
    return Data(X, y, names, facts, targets_per_step=id_column is not None and y is not None,
                target_names=targets, target_text="" if suffix in (".npy", ".npz") else
                _target_text(table, targets, path, how), **sequences)


def column_names(given: Sequence[str], columns: Sequence[str]) -> list[str]:
    """The names in ``given``: each value that is one of ``columns`` as it is (a name may hold
    spaces or commas), any other split on commas, in order (``["a,b", "c"]``: a, b, c)."""
    known = set(columns)
    return [name for value in given
            for name in ([value] if value in known else
                         [part.strip() for part in value.split(",") if part.strip()])]


def _index_columns(table: pd.DataFrame, named: Sequence[str]
                   ) -> tuple[pd.DataFrame, list[str], list[str]]:
    """The table with the named index levels that ``named`` (the columns the options name,
    each as it is or comma separated) asks for moved into columns, and its rows numbered 0, 1,
    ... (a repeated index, as ``pd.concat`` leaves, is no key); the levels moved, and the
    named levels left out."""
    wanted = {*named, *column_names([n for n in named if n], ())}
    named_levels = [str(n) for n in table.index.names if n is not None]
    levels = [n for n in named_levels if n in wanted and n not in table.columns]
    if levels:
        table = table.reset_index(level=levels)
        table.columns = [str(c) for c in table.columns]
    unread = [n for n in named_levels if n not in levels]
    return table.reset_index(drop=True), levels, unread


def _columns(table: pd.DataFrame, path: Path, targets: Sequence[str],
             features: Sequence[str] | None, exclude: Sequence[str] = (), how: str = ""
             ) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
    """Inputs (the ``features`` columns, default every other) and the target columns (``y``
    ``(n,)`` for one, ``(n, k)`` for several); ``how``: how the CSV was read
    (:func:`varimp.loaders._tables.read_table`), which says what a stray value is."""
    named = [*targets, *(features or ()), *exclude]
    missing = [c for c in dict.fromkeys(named) if c not in table.columns]
    if missing:
        raise InputError(f"data file {path} has no column {', '.join(map(repr, missing))}; its "
                         f"columns are {list(table.columns)}")
    if features:
        names = list(features)
    else:
        names = [c for c in table.columns if c not in targets and c not in exclude]
    both = [c for c in targets if c in names]
    if both:
        raise InputError(f"column {both[0]!r} is both the target and a feature")
    if len(set(targets)) < len(targets):
        raise InputError(f"--target names a column twice: {' '.join(targets)}")
    twice = [c for c, k in Counter(features or ()).items() if k > 1]
    if twice:
        raise InputError(f"--features names {', '.join(map(repr, twice))} twice: "
                         f"{' '.join(features or ())}")
    if not names:
        raise InputError(f"data file {path} has no feature column besides the target")
    text = [c for c in names if not pd.api.types.is_numeric_dtype(table[c])]
    if text:
        found = {c: where for c in text if (where := first_text(table[c], how))}
        shown = next((c for c, where in found.items() if where[2]), next(iter(found), None))
        said = f" {text[0]!r} is of dtype {table[text[0]].dtype}" if shown is None else \
            f" {shown!r} holds {found[shown][0]}"
        if shown is not None and found[shown][1]:
            raise InputError(f"feature columns {text} of data file {path} are not numeric:"
                             f"{said}{found[shown][1]}")
        raise InputError(f"feature columns {text} of data file {path} are not numeric:{said}; "
                         "name the input columns with --features (leaving out labels and "
                         "other text), or encode categories as numbers or one-hot columns "
                         "first")
    X = table[names].to_numpy(dtype=np.float64)
    y = None if not targets else table[targets[0] if len(targets) == 1 else targets].to_numpy()
    return X, y, names


def _long(table: pd.DataFrame, path: Path, targets: Sequence[str],
          features: Sequence[str] | None,
          id_column: str, time_column: str, time_format: str | None = None, how: str = ""
          ) -> tuple[np.ndarray, np.ndarray | None, list[str], str, dict]:
    """A long table pivoted into ``(sequences, steps, features)``, targets ``(n, steps)`` (or
    ``(n, steps, k)`` for ``k`` target columns), what the time steps are (for the report),
    and the sequences and steps (:class:`Data`'s fields). Missing targets are left for
    :func:`check_read_targets`: only the steps the model's scores read need them."""
    keys = [id_column, time_column]
    _, _, names = _columns(table, path, targets, features, exclude=keys, how=how)
    for column in keys:
        missing = table[column].isna().to_numpy()
        if missing.any():
            raise InputError(f"the {'id' if column == id_column else 'time'} column "
                             f"{column!r} of data file {path} has {int(missing.sum())} missing "
                             f"values (the first in data row {int(np.argmax(missing)) + 1}); "
                             "every row needs its sequence and its time step")
    when, read_as = _time_order(table[time_column], time_column, path, time_format)
    order = pd.DataFrame({"id": table[id_column], "when": when}).sort_values(
        ["id", "when"], kind="stable").index.to_numpy()  # positions: the rows are 0, 1, ...
    table, when = table.iloc[order], when.iloc[order]
    twice = pd.DataFrame({"id": table[id_column], "when": when}).duplicated(keep=False)
    if twice.any():
        row = table[twice.to_numpy()].iloc[0]
        raise InputError(f"data file {path} has several rows for {id_column}={row[id_column]}, "
                         f"{time_column}={row[time_column]}")
    steps = when.groupby(table[id_column].to_numpy(), sort=False).agg(tuple)
    labels = table[time_column].groupby(table[id_column].to_numpy(), sort=False).agg(tuple)
    first = steps.iloc[0]
    odd = steps[steps.map(lambda s: s != first)]
    n, T = len(steps), len(first)
    lengths = steps.map(len)
    if lengths.nunique() > 1:
        ends = {key: (lengths.loc[key], _short(labels.loc[key]))
                for key in (lengths.idxmin(), lengths.idxmax())}
        said = ", ".join(f"{id_column}={key} has {k} step{'s' if k > 1 else ''} {times}"
                         for key, (k, times) in ends.items())
        fewer = int((lengths < lengths.max()).sum())
        raise InputError(f"every sequence must have the same number of time steps: {said} "
                         f"({fewer} of {n} sequences have fewer than {lengths.max()}); trim or "
                         "drop sequences so that all have the same number of steps")
    if len(odd):  # each sequence its own times: aligned by position if spaced alike
        _check_spacing(steps, labels, id_column, time_column, path)
    X = table[names].to_numpy(dtype=np.float64).reshape(n, T, len(names))
    y = None if not targets else table[targets[0] if len(targets) == 1 else targets] \
        .to_numpy().reshape(n, T, *([len(targets)] if len(targets) > 1 else []))
    span = labels.iloc[0]
    described = (f"{T} per sequence, {time_column} {read_as}: first {span[0]}, last "
                 f"{span[-1]}")
    if len(odd):  # sliding windows: each sequence its own times
        other = labels.iloc[steps.index.get_loc(odd.index[0])]
        spans = (f"{id_column}={steps.index[0]}: {time_column} {span[0]} to {span[-1]}, "
                 f"{id_column}={odd.index[0]}: {other[0]} to {other[-1]}")
        described = (f"{T} per sequence, by position in each sequence (0 the first, {T - 1} "
                     f"the most recent; {spans}, ...), {time_column} {read_as}")
        warnings.warn(f"the sequences of data file {path} have different {time_column} "
                      f"values ({spans}, ...); each has {T} steps, aligned by position: "
                      f"step 0 is each sequence's first {time_column}, step {T - 1} its most "
                      "recent", UserWarning, stacklevel=2)
    sequences = {"id_column": id_column, "time_column": time_column,
                 "sequence_ids": list(steps.index),
                 "step_labels": [] if len(odd) else list(labels.iloc[0])}
    return X, y, names, described, sequences


def _check_spacing(steps: pd.Series, labels: pd.Series, id_column: str, time_column: str,
                   path: Path) -> None:
    """InputError unless every sequence's times (``steps``, by id) are spaced alike: the
    same gaps between consecutive steps (:func:`_gaps`), so that aligning them by position
    puts each step the same time before the last (sliding windows of one series). The
    message names a sequence whose gaps differ from the most common ones."""
    gaps = {key: _gaps(times) for key, times in steps.items()}
    common = Counter(gaps.values()).most_common(1)[0][0]  # ties: the first sequence's
    other = next((key for key, found in gaps.items() if found != common), None)
    if other is None:
        return
    usual = next(key for key, found in gaps.items() if found == common)
    raise InputError(
        f"the sequences of data file {path} have different {time_column} values, which are "
        f"aligned by position only when every sequence's steps are spaced alike (sliding "
        f"windows of one series): {id_column}={usual} has {time_column} "
        f"{_short(labels.loc[usual])} ({_gap_text(common)}), {id_column}={other} has "
        f"{_short(labels.loc[other])} ({_gap_text(gaps[other])}); give every sequence the "
        f"same {time_column} values, or the same gaps (fill or drop the missing steps), or, "
        "where the gaps are meant, a column numbering each sequence's steps 0, 1, ... as the "
        "--time column")


def _gaps(times: tuple) -> tuple[str, tuple]:
    """The gaps between consecutive times, as ``(unit, gaps)``: months for dates all on one
    day of the month (or all month ends), at one time of day (monthly, yearly); nanoseconds
    for other dates; numbers' differences (to 12 significant digits) otherwise."""
    if isinstance(times[0], pd.Timestamp):
        when = pd.DatetimeIndex(times)
        one_time = len(set(when.time)) == 1
        if one_time and (len(set(when.day)) == 1 or when.is_month_end.all()):
            return "month", tuple(np.diff(when.year * 12 + when.month).tolist())
        return "ns", tuple(np.diff(when.as_unit("ns").asi8).tolist())
    return "", tuple(float(f"{gap:.12g}") for gap in np.diff(np.asarray(times, np.float64)))


def _gap_text(gaps: tuple[str, tuple]) -> str:
    """``gaps`` (:func:`_gaps`) in words: "gaps of 1, 2, 1 days"."""
    unit, values = gaps
    if unit == "ns":
        day = pd.Timedelta(days=1).value
        if all(value % day == 0 for value in values):
            unit, values = "day", [value // day for value in values]
        else:
            unit, values = "", [pd.Timedelta(value) for value in values]
    text = ", ".join(f"{value:g}" if isinstance(value, float) else str(value)
                     for value in values[:6]) + (", ..." if len(values) > 6 else "")
    plural = "s" if len(values) > 1 or any(value != 1 for value in values) else ""
    return f"gaps of {text}{' ' + unit + plural if unit else ''}" if values else "one step"


def _time_order(values: pd.Series, column: str, path: Path, time_format: str | None = None
                ) -> tuple[pd.Series, str]:
    """What orders a long table's time steps, and how it was read.

    With ``time_format``, dates in that format. Otherwise numbers (or text that is all numbers)
    in numeric order, or text parsed into dates by :func:`pandas.to_datetime`, one format for
    every value, in time order. The candidate formats are those pandas guesses from the first
    value, month first and day first, then :data:`DATE_FORMATS`; when several read every value
    and put them in different orders (``10.01.2020, 03.02.2020``: January before February, or
    March before October), the dates are ambiguous and refused. Anything else is refused too:
    sorting text would put "10/2020" between "1/2020" and "2/2020".
    """
    if time_format is not None:
        return _dates_in(values, column, path, time_format)
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values, "in numeric order"
    if pd.api.types.is_datetime64_any_dtype(values):
        return values, "dates, in time order"
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.notna().all():
        return numbers, "numbers written as text, in numeric order"
    text = values.astype(str).str.strip()
    read = {}
    for form in _date_formats(text.iloc[0]):
        try:
            read[form] = pd.to_datetime(text, format=form)
        except (ValueError, TypeError, OverflowError):
            continue
    if not read:
        raise InputError(f"the time column {column!r} of data file {path} must hold numbers or "
                         f"dates written in one format (e.g. 2020-01-31 or 01/2020); it holds "
                         f"{_examples(text)}, which pandas.to_datetime cannot read with one "
                         "format")
    (form, when), *others = read.items()
    read = {form: when, **{name: dates for name, dates in others if not dates.equals(when)}}
    if len(read) == 1:
        return when, f"dates in the format {form}, in time order"
    forms, advice = ", ".join(read), (
        f"say which with --time-format FORMAT (e.g. --time-format {list(read)[-1]}), or write "
        "the dates as ISO dates (2020-01-31)")
    orders = {name: dates.rank(method="dense") for name, dates in read.items()}
    if any(not order.equals(orders[form]) for order in orders.values()):
        raise InputError(f"the time column {column!r} of data file {path} holds dates that read "
                         f"in several formats, in different orders: {forms} ({_examples(text)}); "
                         f"{advice}")
    regular = [name for name, dates in read.items() if _regular(dates)]
    if len(regular) != 1:
        differ = next(i for i in range(len(text)) if len({d.iloc[i] for d in read.values()}) > 1)
        readings = " or ".join(f"{dates.iloc[differ]:%d %B %Y}" for dates in read.values())
        raise InputError(f"the time column {column!r} of data file {path} holds dates that read "
                         f"in several formats: {forms} ({_examples(text)}); they sort the same "
                         f"either way, but {text.iloc[differ]!r} is {readings}, and the steps "
                         f"are {'regular' if regular else 'irregular'} both ways: {advice}")
    return read[regular[0]], (f"dates in the format {regular[0]} (the one of {forms} whose "
                              "steps are regular), in time order")


def _regular(dates: pd.Series) -> bool:
    """Whether the distinct dates are evenly spaced: the same number of days (or seconds)
    apart, or the same day of the month a fixed number of months apart (monthly, yearly)."""
    when = pd.DatetimeIndex(dates.drop_duplicates()).sort_values()
    if len(set(np.diff(when.asi8))) <= 1:
        return True
    months = np.diff(when.year * 12 + when.month)
    same_day = len(set(zip(when.day, when.time, strict=True))) == 1
    return same_day and len(set(months)) == 1


def _dates_in(values: pd.Series, column: str, path: Path, form: str) -> tuple[pd.Series, str]:
    """The time column read as dates in the format ``form`` (``--time-format``)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        raise InputError(f"the time column {column!r} of data file {path} holds dates already "
                         f"(not text): leave out --time-format {form}")
    text = values.astype(str).str.strip()
    try:
        when = pd.to_datetime(text, format=form, errors="coerce")
    except (ValueError, TypeError) as exc:  # not a format
        raise InputError(f"--time-format {form} is not a date format: {first_line(exc)}") \
            from exc
    missed = when.isna().to_numpy()
    if missed.any():
        row = int(np.argmax(missed))
        raise InputError(f"the time column {column!r} of data file {path} is not in the "
                         f"--time-format {form}: {text.iloc[row]!r} (data row {row + 1}) does "
                         f"not match it; the column holds {_examples(text)}")
    return when, f"dates in the format {form} (--time-format), in time order"


def _examples(text: pd.Series) -> str:
    """The first four distinct values of a column, quoted."""
    return ", ".join(repr(v) for v in text.drop_duplicates().iloc[:4])


def _date_formats(first: str) -> list[str]:
    """The formats to try on a time column: pandas' guesses from its first value, month first
    then day first, then :data:`DATE_FORMATS`. A date that starts with its year is read year,
    month, day (ISO 8601), never year, day, month, which pandas may guess but nobody writes."""
    from pandas.tseries.api import guess_datetime_format

    with warnings.catch_warnings():  # pandas' note that a year-first date ignores dayfirst
        warnings.simplefilter("ignore")
        guesses = [guess_datetime_format(first), guess_datetime_format(first, dayfirst=True)]
    return list(dict.fromkeys(form for form in [*guesses, *DATE_FORMATS]
                              if form and not re.search("%Y.*%d.*%m", form)))


def _short(values: tuple) -> str:
    text = ", ".join(map(str, values[:6]))
    return f"({text}{', ...' if len(values) > 6 else ''})"


def _arrays(path: Path, target_file: Path | None, features: Sequence[str] | None,
            dialect: CsvDialect = DETECTED
            ) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
    arrays = _read_arrays(path)
    if len(arrays) == 1:
        X, y = next(iter(arrays.values())), None
    elif "X" in arrays and set(arrays) <= {"X", "y"}:
        X, y = arrays["X"], arrays.get("y")
    else:
        raise InputError(f"data file {path} must hold the arrays 'X' and optional 'y', or a "
                         f"single array; it holds {sorted(arrays)}")
    if target_file is not None:
        if y is not None:
            raise InputError(f"data file {path} holds 'y' and --target-file gives targets "
                             "too: keep one")
        check_file(target_file, "target")
        y = _target_array(target_file, dialect)
    if X.ndim not in (2, 3) or not np.issubdtype(X.dtype, np.number):
        raise InputError(f"the inputs in {path} must be a numeric 2-D (rows x features) or "
                         f"3-D (sequences x steps x features) array; received shape "
                         f"{X.shape} and dtype {X.dtype}")
    if y is not None and y.shape[0] != X.shape[0]:
        raise InputError(f"the targets have {y.shape[0]} rows and the inputs {X.shape[0]}")
    p = X.shape[-1]
    if features:
        if len(features) != p:
            raise InputError(f"--features gives {len(features)} names for {p} features")
        names = list(features)
    else:
        names = list(check_feature_names(None, p, None))
    return X.astype(np.float64), y, names


def _read_arrays(path: Path) -> dict[str, np.ndarray]:
    try:
        loaded = np.load(path, allow_pickle=False)
        if isinstance(loaded, np.ndarray):
            return {"X": loaded}
        with loaded:
            return {name: loaded[name] for name in loaded.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise InputError(f"cannot read data file {path} as NumPy arrays (object arrays, which "
                         f"need pickle, are refused): {first_line(exc)}") from exc


def _target_array(path: Path, dialect: CsvDialect = DETECTED) -> np.ndarray:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        table, how = read_table(path, suffix, dialect)
        if table.shape[1] != 1:
            raise InputError(f"target file {path} must have one column; it has "
                             f"{list(table.columns)}")
        column = table.iloc[:, 0]
        found = None if pd.api.types.is_numeric_dtype(column) else first_text(column, how)
        if found and found[2]:  # mostly numbers: a stray, not class labels
            raise InputError(f"target file {path} is not numeric: {found[0]}{found[1]}")
        return column.to_numpy()
    if suffix not in (".npy", ".npz"):
        raise InputError(f"target file {path} must be .npy, .npz or a one-column .csv")
    arrays = _read_arrays(path)
    if len(arrays) != 1 and "y" not in arrays:
        raise InputError(f"target file {path} must hold 'y' or a single array; it holds "
                         f"{sorted(arrays)}")
    return arrays.get("y", next(iter(arrays.values())))


def _check_targets(table: pd.DataFrame, targets: Sequence[str], path: Path) -> None:
    """InputError naming the first target column with missing (or infinite) values, how many
    and the first data row."""
    for column in targets:
        values = table[column]
        bad = values.isna().to_numpy()
        numbers = pd.api.types.is_numeric_dtype(values) and \
            not pd.api.types.is_bool_dtype(values)
        if numbers:
            bad = bad | ~np.isfinite(values.to_numpy(dtype=np.float64, na_value=np.nan))
        if bad.any():
            raise InputError(f"target column {column!r} of data file {path} has "
                             f"{int(bad.sum())} missing{' or infinite' * numbers} values (the "
                             f"first in data row {int(np.argmax(bad)) + 1}); remove those rows "
                             "or fill them in first")


def _target_text(table: pd.DataFrame, targets: Sequence[str], path: Path, how: str = ""
                 ) -> str:
    """:attr:`Data.target_text`: the first target column that is mostly numbers but holds
    text, with its first value that is no number (in the file read as ``how`` says)."""
    for column in targets:
        if pd.api.types.is_numeric_dtype(table[column]):
            continue
        found = first_text(table[column], how)
        if found and found[2]:
            said, note, _ = found
            return f"target column {column!r} of data file {path} is not numeric: {said}{note}"
    return ""


def check_read_targets(data: Data, last_step: bool, path: Path | str,
                       output_step: int | None = None) -> None:
    """InputError when a long table misses targets at the steps the scores read: each
    sequence's last step (``last_step``, a model predicting one value per sequence) or every
    step; the message says which steps are read and which miss values. Targets at steps that
    are not read may be missing (a table filled only at each sequence's last row).

    A model that predicts every step takes every step's target even where ``output_step``
    (``--output-step``) scores one of them: the methods take ``y`` of shape ``(n, steps)``
    with no value missing, and those that retrain train their networks on every step; the
    message says so."""
    y = data.y
    if y is None:
        return
    read = y[:, -1:] if last_step else y
    bad = pd.isna(read) if read.dtype.kind not in "biuf" else ~np.isfinite(read)
    bad = bad.reshape(*bad.shape[:2], -1).any(axis=2)
    if not bad.any():
        return
    n, T = y.shape[:2]
    labels = data.step_labels or [f"step {t}" for t in range(T)]
    time = f"{data.time_column}=" if data.step_labels else ""
    columns = ", ".join(map(repr, data.target_names))
    sequences = [f"{data.id_column}={data.sequence_ids[i]}" for i in np.nonzero(bad.any(1))[0]]
    shown = ", ".join(sequences[:3]) + (", ..." if len(sequences) > 3 else "")
    if last_step:
        present = pd.DataFrame(y.reshape(n, T, -1)[:, :, 0]).notna().all().to_numpy()
        filled = [f"{time}{labels[t]}" for t in np.nonzero(present)[0]]
        raise InputError(
            f"target {columns} of data file {path} misses values the scores read: the model "
            f"predicts one value per sequence, so it is scored against each sequence's last "
            f"step ({time}{labels[-1]}), and {len(sequences)} of {n} sequences "
            f"miss it ({shown})" + (f"; the target is complete at {', '.join(filled[:4])}"
                                    if filled else "")
            + "; fill in the last step's target of every sequence (the other steps may be "
            "empty), or drop those sequences")
    steps = [f"{time}{labels[t]}" for t in np.nonzero(bad.any(0))[0]]
    if output_step is not None and not -T <= output_step < T:
        output_step = None  # refused, naming the steps, when the methods run
    why = ("misses values the scores read: the model predicts every step, so it is scored "
           "against the target at every step, and" if output_step is None else
           f"misses values the methods take: --output-step {output_step} scores "
           f"{time}{labels[output_step % T]} only, but the model predicts every step, and the "
           "methods take the target of every step (y of shape (sequences, steps) with no "
           "value missing; those that retrain train their networks on every step):")
    raise InputError(
        f"target {columns} of data file {path} {why} "
        f"{int(bad.sum())} of {n * T} values are missing, at {', '.join(steps[:4])}"
        f"{', ...' if len(steps) > 4 else ''} (in {shown}); fill them in or drop those "
        "sequences")


def _check_finite(values: np.ndarray, names: Sequence[str], path: Path) -> None:
    bad = ~np.isfinite(values)
    if bad.any():
        per_feature = bad.reshape(-1, bad.shape[-1]).sum(axis=0) if len(names) > 1 else \
            [bad.sum()]
        where = [f"{name} ({int(k)})" for name, k in zip(names, per_feature, strict=True) if k]
        raise InputError(f"data file {path} has {int(bad.sum())} missing or infinite values "
                         f"in {', '.join(where)}; remove or impute them first")
