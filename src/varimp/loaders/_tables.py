"""Reading a table file as its author wrote it, and saying where a column that should hold
numbers holds text.

A CSV whose header has more semicolons than commas (European Excel's "CSV") is read with
``;`` between columns, and with decimal commas when its text columns are numbers written that
way (``4,1``). A file that is not UTF-8 (Windows-1252, Excel's encoding on Western Windows) is
refused with the fix, never guessed. Where the user names the separator, the decimal mark or
the encoding (:class:`CsvDialect`, the command line's ``--sep``, ``--decimal``,
``--encoding``), those are used and nothing is detected.
"""

from __future__ import annotations

import codecs
import re
import warnings
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from ..errors import InputError
from ._files import first_line

#: A number written with a decimal comma: ``4,1``, ``-0,13``, ``,5``, ``1,5e3``.
DECIMAL_COMMA = re.compile(r"[+-]?(\d+,\d*|,\d+)([eE][+-]?\d+)?")
#: What to do about decimal commas in a CSV with commas between columns.
COMMA_ADVICE = ("save the file with decimal points, or with ';' between columns (European "
                "Excel's CSV), which varimp reads with decimal commas")
#: How :func:`read_table` read a CSV with semicolons between columns, decimal points or commas
#: (a file of one column, no separator in its header: "decimal commas" alone, or "").
SEMICOLONS = "';' between columns"
DECIMAL_COMMAS = f"{SEMICOLONS}, decimal commas"
ONE_COLUMN_COMMAS = "decimal commas"
#: Marks the way a CSV was read when the user named it (``--sep``, ``--decimal``).
NAMED = "as named"
#: Why a value that is a number is refused, for each way a CSV is read (:func:`first_text`).
NOTATION = {
    "": f", a number with a decimal comma: {COMMA_ADVICE}",
    SEMICOLONS: (", a number with a decimal comma where the file's other numbers have decimal "
                 "points: write every number of the file one way, all with decimal commas or "
                 "all with decimal points"),
    DECIMAL_COMMAS: (", a number with a decimal point in a file read with decimal commas: "
                     "write every number of the file with a decimal comma"),
    NAMED: ", a number with a decimal comma: if the file's numbers are written so, pass "
           "--decimal ','",
    f"decimal commas, {NAMED}": (", a number with a decimal point in a file read with "
                                  "--decimal ',': if the file's numbers are written so, leave "
                                  "--decimal out, else write every number with a decimal comma"),
}


class CsvDialect(NamedTuple):
    """How to read a CSV, where the user says it (None: detected, or UTF-8 text)."""

    sep: str | None = None
    decimal: str | None = None
    encoding: str | None = None

    def checked(self) -> CsvDialect:
        """The dialect with ``"tab"`` / ``"\\t"`` read as a tab; InputError for a separator
        that is not one character, a decimal mark other than ``.`` or ``,``, one equal to the
        separator, or an encoding Python does not know."""
        sep = "\t" if self.sep in ("tab", "\\t") else self.sep
        if sep is not None and (len(sep) != 1 or sep in "\"\r\n"):
            raise InputError(f"--sep must be one character (or 'tab'), the column separator "
                             f"of the CSV; received {self.sep!r}")
        if self.decimal is not None and self.decimal not in (".", ","):
            raise InputError(f"--decimal must be '.' or ','; received {self.decimal!r}")
        if self.decimal is not None and self.decimal == sep:
            raise InputError(f"--decimal {self.decimal!r} is also the column separator: give "
                             "the file's separator with --sep (European Excel writes ';')")
        if self.encoding is not None:
            try:
                codecs.lookup(self.encoding)
            except LookupError as exc:
                raise InputError(f"--encoding {self.encoding!r} is no text encoding Python "
                                 "knows (such as utf-8, cp1252, latin-1)") from exc
        return self._replace(sep=sep)

    @property
    def given(self) -> bool:
        """Whether the user named the separator or the decimal mark."""
        return self.sep is not None or self.decimal is not None


#: Nothing said by the user: the separator and decimal mark detected, UTF-8 text.
DETECTED = CsvDialect()


def read_table(path: Path, suffix: str, dialect: CsvDialect = DETECTED
               ) -> tuple[pd.DataFrame, str]:
    """The table in ``path`` (CSV or Parquet), its column names as text, and how a CSV was
    read when not the usual way ("';' between columns, decimal commas"; else "").
    ``dialect``: what the user says of a CSV (InputError for a Parquet file)."""
    kind = "CSV" if suffix == ".csv" else "Parquet"
    if kind != "CSV" and dialect != DETECTED:
        raise InputError(f"--sep, --decimal and --encoding say how to read a CSV; data file "
                         f"{path} is {kind}")
    try:
        if suffix == ".csv":
            table, how = _read_csv(path, dialect)
        else:
            table, how = pd.read_parquet(path, engine="pyarrow"), ""
    except InputError:
        raise
    except UnicodeDecodeError as exc:
        raise InputError(_not_utf8(path, exc, dialect.encoding)) from exc
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError, OSError) as exc:
        raise InputError(f"cannot read data file {path} as {kind}: {first_line(exc)}") from exc
    except Exception as exc:  # pyarrow's own errors
        raise InputError(f"cannot read data file {path}: {type(exc).__name__}: "
                         f"{first_line(exc)}") from exc
    if table.shape[0] == 0 or table.shape[1] == 0:
        raise InputError(f"data file {path} has no rows or no columns")
    table.columns = [str(c) for c in table.columns]
    return table, how


def _read_csv(path: Path, dialect: CsvDialect) -> tuple[pd.DataFrame, str]:
    """A CSV as the user's dialect says; else with commas between columns, or with semicolons
    when its header has more of them than commas; a semicolon file whose text columns all hold
    decimal-comma numbers is read again with ``decimal=","``."""
    encoding = dialect.encoding or "utf-8-sig"
    with path.open(encoding=encoding) as stream:
        header = stream.readline()
    detected = ";" if header.count(";") > header.count(",") else ","
    if dialect.given:
        sep, decimal = dialect.sep or detected, dialect.decimal or "."
        if sep == decimal:
            raise InputError(f"--decimal {decimal!r}: data file {path} has {sep!r} between "
                             "columns; give its separator with --sep if it is another")
        table = _read(path, sep=sep, decimal=decimal, encoding=encoding)
        how = [f"{sep!r} between columns"] * (sep != ",") + ["decimal commas"] * (decimal == ",")
        return table, ", ".join(how) + f", {NAMED}" * bool(how)
    one_column = "," not in header and ";" not in header
    if detected == "," and not one_column:
        return _read(path, encoding=encoding), ""
    table = _read(path, sep=";", encoding=encoding)
    text = [c for c in table.columns if not pd.api.types.is_numeric_dtype(table[c])]
    if any(_decimal_commas(table[c]) for c in text):
        return _read(path, sep=";", decimal=",", encoding=encoding), \
            ONE_COLUMN_COMMAS if one_column else DECIMAL_COMMAS
    return table, "" if one_column else SEMICOLONS


def _read(path: Path, **options: str) -> pd.DataFrame:
    """``pandas.read_csv`` that refuses rows with more values than the header has names
    (pandas would silently take the first ones as the row index)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.ParserWarning)
        try:
            return pd.read_csv(path, index_col=False, **options)
        except pd.errors.ParserWarning as exc:
            sep = options.get("sep", ",")
            raise InputError(f"data file {path} has rows with more values than its header has "
                             f"column names (read with {sep!r} between columns); a value "
                             "with a decimal comma in a file with ',' between columns splits "
                             "in two: save the file with decimal points or with ';' between "
                             "columns, or name the separator with --sep") from exc


def _decimal_commas(values: pd.Series) -> bool:
    """Whether every value of a text column is a number written with a decimal comma."""
    present = values.dropna().astype(str).str.strip()
    return len(present) > 0 and bool(present.str.fullmatch(DECIMAL_COMMA).all())


def _not_utf8(path: Path, exc: UnicodeDecodeError, encoding: str | None = None) -> str:
    """The refusal of a file that is not UTF-8 (or not in the ``encoding`` the user named),
    naming the first bad byte (and what it is in Windows-1252, where it is a character there)
    and the fix."""
    byte = exc.object[exc.start:exc.start + 1]
    if encoding is None and exc.object[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return (f"data file {path} is UTF-16 text (it starts with UTF-16's byte order mark, "
                "as Excel's 'Unicode Text' is saved): pass --encoding utf-16 (and --sep tab "
                "for Excel's tab-separated text), or save it as UTF-8")
    if encoding is not None:
        return (f"data file {path} is not {encoding} text: byte 0x{byte.hex()} at position "
                f"{exc.start} is no {encoding} character; name the encoding the file was "
                "saved in with --encoding, or save it as UTF-8")
    try:
        seen = f" ({byte.decode('cp1252')!r} in Windows-1252, Excel's encoding on Western " \
            "Windows)"
    except UnicodeDecodeError:
        seen = ""
    return (f"data file {path} is not UTF-8 text: byte 0x{byte.hex()} at position {exc.start} "
            f"is no UTF-8 character{seen}; save the file as UTF-8 (in Excel: Save As, 'CSV "
            "UTF-8'), or name its encoding: --encoding cp1252")


def first_text(values: pd.Series, how: str = "") -> tuple[str, str, bool] | None:
    """Where a column that should hold numbers holds text, for a file read as ``how`` says
    (:func:`read_table`'s second value): its first value that is no number, quoted with its
    data row (the 1-based row under the header; ``values`` indexed 0, 1, ...); a note saying
    why, where that value is a number written the other way (a decimal comma in a file read
    with decimal points, or a decimal point in one read with decimal commas), else ""; and
    whether most of the column's values are numbers (a column of numbers with strays, not one
    of labels). None when every value is a number or missing.

    In a file with ``;`` between columns, a number written either way is no stray: the
    first value that is no number at all is shown, as the value to correct, and a number
    written the other way only where there is none.
    """
    present = values.dropna()
    text = present.astype(str).str.strip()
    plain = pd.to_numeric(text, errors="coerce").notna().to_numpy()
    commas = text.str.fullmatch(DECIMAL_COMMA).to_numpy(dtype=bool)
    points = plain & text.str.contains(".", regex=False).to_numpy(dtype=bool)
    commas_read = "decimal commas" in how
    numbers = (plain & ~points) | commas if commas_read else plain
    if numbers.all():
        return None
    stray = ~(plain | commas)
    shown = stray if how and stray.any() else ~numbers
    position = int(np.argmax(shown))
    said = f"{text.iloc[position]!r} in data row {int(present.index[position]) + 1}"
    named = how.endswith(NAMED)
    key = (f"decimal commas, {NAMED}" if named else DECIMAL_COMMAS) if commas_read else \
        NAMED if named else SEMICOLONS if how else ""
    note = "" if stray[position] else NOTATION[key]
    return said, note, bool((plain | commas).mean() > 0.5)
