"""Tolerant readers: one data file, as a person or a provider saved it, -> one canonical ``Table``.

This logic lives here, in order:

1. bytes -> cells: CSV (UTF-8 with or without a byte-order mark, else Windows-1252) or Parquet; an
   RBA statistical table loses its metadata lines (its ``Series ID`` line is the header). Only a
   regular file is opened, and binary, UTF-16, compressed, spreadsheet and semicolon- or
   tab-separated files are refused saying what they are (``datafiles``);
2. columns -> canonical names, matched case-insensitively and in any order (Yahoo writes
   ``Date,Close,High,Low,Open,Volume``): ``date`` (also ``observation_date`` and RBA's ``Series ID``),
   ``open/high/low/close[/volume]`` for prices, ``value`` for rates; the instrument's ``column``, a
   column named by one of its provider symbols (FRED ``DFEDTARU``, RBA ``FIRMMCRTD``) or the only
   other column stands in for ``close``/``value``; a rate with a Yahoo symbol (``^TNX``) may use
   ``close``; a lone column whose name ends in "date" (``effective_date``) is the date; two columns
   that could both be the date or the same price or value (``Date`` and ``date``, a repeated
   ``close``) are refused naming both (``columns``);
3. cells -> numbers: ``null``, ``.``, ``NaN``, ``N/A`` and empty cells are missing; other text is an
   error naming the row and column;
4. dates: YYYY-MM-DD (a time or UTC offset after it is dropped), YYYYMMDD, M/D/YYYY, M/D/YY,
   DD-Mon-YYYY, DD-Mon-YY, YYYY/MM/DD; one format per file; a file sorted newest first is turned round;
   a date outside ``FIRST_DATE``..``LAST_DATE`` (1900..2200) is an error naming its row, also one
   pandas cannot hold (0001, 2300) and one in a Parquet file;
5. missing values: in a provider's own layout (anything but the plain ``date,...`` layout) a row
   without its close or value is a day without an observation and is skipped and counted; in the
   plain layout it stays, for the validator to report.

Every row keeps its line number in the file (the header is line 1), so messages can say "row 5";
a cell or a name a message repeats is cut short (``datafiles.quoted``).
Not here: judging values (``validate``), knowledge instants (``calendars``), downloads (``providers``).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from engine.errors import DataError
from engine.feeds.columns import (
    DATE_NAMES,
    OHLCV,
    PRICE_COLUMNS,
    date_column,
    pick_columns,
    refuse_ambiguous,
)
from engine.feeds.datafiles import (
    clipped,
    decode,
    quoted,
    read_bytes,
    read_parquet,
    separator_problem,
)
from engine.feeds.instruments import Instrument

__all__ = ["PRICE_COLUMNS", "Table", "from_frame", "parse_bytes", "parse_dates", "read_table"]

NULLS = frozenset({"", "null", ".", "nan", "na", "n/a", "#n/a", "none"})
DATE_FORMATS = (
    ("%Y-%m-%d", "YYYY-MM-DD"),
    ("%Y%m%d", "YYYYMMDD"),
    ("%m/%d/%Y", "M/D/YYYY"),
    ("%m/%d/%y", "M/D/YY"),
    ("%d-%b-%Y", "DD-Mon-YYYY"),
    ("%d-%b-%y", "DD-Mon-YY"),
    ("%Y/%m/%d", "YYYY/MM/DD"),
)
# Recognised only to say why they are refused: day-first dates are ambiguous next to M/D/YYYY.
REFUSED_FORMATS = (("%d/%m/%Y", "D/M/YYYY"), ("%d.%m.%Y", "D.M.YYYY"))
_NA_SPELLINGS = sorted({v for n in NULLS for v in (n, n.upper(), n.title())})
_ISO_WITH_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})[ T].*$")
_DATE_HELP = "use YYYY-MM-DD (also read: YYYYMMDD, M/D/YYYY, DD-Mon-YYYY)"
# Dates a series may hold: pandas holds 1677..2262 in nanoseconds; no market series the engine
# reads starts before 1900, and the CLI's --start/--end stop at the same bounds.
FIRST_DATE, LAST_DATE = pd.Timestamp("1900-01-01"), pd.Timestamp("2200-12-31")


@dataclass(frozen=True)
class Table:
    """One file read into canonical columns.

    ``frame``: ``date`` (datetime64[ns], tz-naive) then float64 value columns (``open``, ``high``,
    ``low``, ``close``, ``volume`` or ``value``), in file order made ascending when the file was
    newest-first (unsorted files keep their order for the validator to report). ``lines``: each
    row's line in the file. ``layout``: plain, yahoo, fred, rba or export. ``columns``: canonical ->
    the file's own column name. ``skipped``: rows without a value that were skipped as no observation.
    """

    path: Path
    layout: str
    frame: pd.DataFrame
    lines: np.ndarray
    columns: dict[str, str]
    sha256: str
    notes: tuple[str, ...] = ()
    skipped: int = 0

    @property
    def dates(self) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(self.frame["date"])

    def series_frame(self, inst: Instrument) -> pd.DataFrame:
        """Date-indexed float64 frame: the price columns and volume present, or ``value``."""
        cols = [c for c in (OHLCV if inst.is_price else ("value",)) if c in self.frame]
        out = self.frame[cols].astype("float64")
        out.index = pd.DatetimeIndex(self.frame["date"], name="date").as_unit("ns")
        return out


def read_table(path: Path, inst: Instrument) -> Table:
    """Read ``path`` (CSV or Parquet) for instrument ``inst``; ``DataError`` names file, row, fix.

    Anything but a regular file (a FIFO, a directory, a device, a broken symlink) is refused
    before it is opened (``datafiles``)."""
    path = Path(path)
    return parse_bytes(read_bytes(path), path, inst)


def parse_bytes(data: bytes, path: Path, inst: Instrument) -> Table:
    """Like ``read_table`` for bytes already in memory (a download); ``path`` names them."""
    digest = hashlib.sha256(data).hexdigest()
    if Path(path).suffix.lower() == ".parquet":
        return from_frame(read_parquet(data, path), path, inst, sha256=digest)
    text = decode(data, path)
    head, rba = _header_line(text)
    separator_problem(text.splitlines()[head] if text.strip() else "", path)
    try:
        with warnings.catch_warnings():
            # A data row longer than the header would silently lose cells; refuse it instead.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            names = pd.read_csv(io.StringIO(text), skiprows=head, nrows=0).columns
            names = [str(c).strip() for c in names]
            refuse_ambiguous(_header(text, head), inst, path)
            date_col = date_column(names, path)
            picked = pick_columns(names, date_col, inst, path)
            # Numbers parse in C; a column with stray text stays text and ``_numbers`` names it.
            cells = pd.read_csv(
                io.StringIO(text),
                skiprows=head,
                index_col=False,
                dtype={date_col: str},
                keep_default_na=False,
                na_values=_NA_SPELLINGS,
                skip_blank_lines=False,
            )
    except (ValueError, pd.errors.ParserError, pd.errors.ParserWarning) as exc:
        raise DataError(
            f"{path}: could not be read ({clipped(str(exc).strip(), 200)}); check the file is CSV or Parquet "
            "with one header line and no stray commas (e.g. 1,234 as a thousands separator)."
        ) from None
    cells.columns = [str(c).strip() for c in cells.columns]
    cells = cells[[date_col, *dict.fromkeys(picked.values())]]
    lines = np.arange(len(cells), dtype=np.int64) + head + 2
    layout = "rba" if rba else _layout(date_col, picked)
    return _canonical(cells, lines, _Spec(path, inst, date_col, picked, layout, digest))


def from_frame(raw: pd.DataFrame, path: Path, inst: Instrument, sha256: str = "") -> Table:
    """A frame from Parquet or a provider's API (a date column or a DatetimeIndex) -> ``Table``."""
    if not any(str(c).strip().lower() in DATE_NAMES for c in raw.columns) and isinstance(
        raw.index, pd.DatetimeIndex
    ):
        raw = raw.rename_axis("date").reset_index()
    raw = raw.copy()
    raw.columns = [str(c).strip() for c in raw.columns]
    names = list(raw.columns)
    refuse_ambiguous(names, inst, path)
    date_col = date_column(names, path)
    picked = pick_columns(names, date_col, inst, path)
    lines = np.arange(len(raw), dtype=np.int64) + 2
    spec = _Spec(path, inst, date_col, picked, _layout(date_col, picked), sha256)
    return _canonical(raw[[date_col, *picked.values()]], lines, spec)


# --------------------------------------------------------------------------- bytes and columns


def _header_line(text: str) -> tuple[int, bool]:
    """Index of the header line, and whether the file is an RBA table (``Series ID`` header)."""
    first = None
    for i, line in enumerate(text.splitlines()[:60]):
        if line.startswith("Series ID,"):
            return i, True
        if first is None and line.strip():
            first = i
    return first or 0, False


def _header(text: str, head: int) -> list[str]:
    """The header line's names as written: pandas renames a repeated ``close`` to ``close.1``."""
    lines = text.splitlines()
    if head >= len(lines):
        return []
    try:
        return next(csv.reader([lines[head]]))
    except csv.Error:  # a name beyond the csv module's field limit: no quoting to honour there
        return lines[head].split(",")


def _layout(date_col: str, picked: dict[str, str]) -> str:
    main = picked.get("close", picked.get("value", ""))
    if date_col == "date" and main in ("close", "value"):
        return "plain"
    if date_col == "Date" and main == "Close":
        return "yahoo"
    if date_col.lower() in ("observation_date", "date") and main.isupper():
        return "fred"
    return "export"


# --------------------------------------------------------------------------- cells, dates, order


@dataclass(frozen=True)
class _Spec:
    path: Path
    inst: Instrument
    date_col: str
    picked: dict[str, str]
    layout: str
    sha256: str


def _canonical(cells: pd.DataFrame, lines: np.ndarray, spec: _Spec) -> Table:
    notes: list[str] = []
    blank = _blank_rows(cells)
    if blank.any():
        cells, lines = cells[~blank], lines[~blank]
    if cells.empty:
        raise DataError(f"{spec.path}: the file has no rows; supply at least one dated value.")
    frame = pd.DataFrame({"date": parse_dates(cells[spec.date_col], lines, spec.path)})
    for canon, name in spec.picked.items():
        frame[canon] = _numbers(cells[name], lines, name, spec.path)
    frame = _adjusted(frame, spec, notes)
    main = "close" if spec.inst.is_price else "value"
    skipped = 0
    if spec.layout != "plain":
        empty = frame[main].isna().to_numpy()
        skipped = int(empty.sum())
        if skipped:
            frame, lines = frame[~empty], lines[~empty]
            notes.append(f"skipped {skipped} row(s) without a {spec.picked[main]} value")
        if frame.empty:
            raise DataError(
                f"{spec.path}: no row has a {spec.picked[main]} value; check the file holds data."
            )
    d = frame["date"].to_numpy().astype("datetime64[ns]").view(np.int64)
    # Compared, not subtracted: 1900..2200 spans more nanoseconds than an int64 difference holds.
    if len(d) > 1 and (d[1:] <= d[:-1]).all() and (d[1:] < d[:-1]).any():
        frame, lines = frame.iloc[::-1], lines[::-1]
        notes.append("rows are newest first; read in ascending date order")
    frame = frame.reset_index(drop=True)
    picked = dict(spec.picked)
    return Table(
        spec.path, spec.layout, frame, lines.copy(), picked, spec.sha256, tuple(notes), skipped
    )


def _blank_rows(cells: pd.DataFrame) -> np.ndarray:
    """Rows whose every cell is empty (blank lines, trailing separators)."""
    blank = np.ones(len(cells), dtype=bool)
    for name in cells.columns:
        col = cells[name]
        if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_datetime64_any_dtype(col):
            blank &= col.isna().to_numpy()
        else:
            blank &= (col.astype("string").fillna("").str.strip() == "").to_numpy()
    return blank


def _numbers(cells: pd.Series, lines: np.ndarray, name: str, path: Path) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(cells) and not pd.api.types.is_bool_dtype(cells):
        return cells.to_numpy(dtype=np.float64, na_value=np.nan)
    text = cells.astype("string").fillna("").str.strip()
    missing = text.str.lower().isin(NULLS).to_numpy()
    nums = pd.to_numeric(text.where(~missing, ""), errors="coerce")
    nums = np.asarray(nums.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)
    bad = np.isnan(nums) & ~missing
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            f"{path}: row {lines[i]}, column {clipped(name)}: {quoted(text.iloc[i])} is not a number; "
            "write a plain number (e.g. 1234.5) or remove the row."
        )
    return nums


def parse_dates(cells: pd.Series, lines: np.ndarray, path: Path) -> np.ndarray:
    """Session dates (datetime64[ns], midnight) from one date column in one accepted format."""
    if pd.api.types.is_datetime64_any_dtype(cells):
        idx = pd.DatetimeIndex(cells)
        if idx.tz is not None:
            idx = idx.tz_localize(None)  # keep the local calendar date the provider stamped
        if idx.isna().any():
            row = int(np.flatnonzero(idx.isna())[0])
            raise DataError(f"{path}: row {lines[row]}, column date: empty date; {_DATE_HELP}.")
        _date_range(idx, lines, path)
        return idx.normalize().as_unit("ns").to_numpy()
    text = cells.astype("string").fillna("").str.strip()
    if (text.str.len() > 10).any():
        text = text.str.replace(_ISO_WITH_TIME, r"\1", regex=True)
    parsed = {}
    for fmt, label in DATE_FORMATS:
        out = pd.to_datetime(text, format=fmt, errors="coerce")
        ok = out.notna().to_numpy()
        if ok.all():
            _date_range(pd.DatetimeIndex(out), lines, path, text)
            return pd.DatetimeIndex(out).as_unit("ns").to_numpy()
        parsed[label] = ok
    _date_error(text, lines, parsed, path)
    raise AssertionError("unreachable")


def _date_error(text: pd.Series, lines: np.ndarray, parsed: dict, path: Path) -> None:
    best = max(parsed, key=lambda k: parsed[k].sum())
    ok = parsed[best]
    for label, other in parsed.items():
        extra = other & ~ok
        if label != best and ok.any() and extra.any():
            i, j = int(np.flatnonzero(ok)[0]), int(np.flatnonzero(extra)[0])
            raise DataError(
                f"{path}: column date mixes formats: row {lines[i]} {quoted(text.iloc[i])} is {best} "
                f"but row {lines[j]} {quoted(text.iloc[j])} is {label}; write every date one way, "
                "preferably YYYY-MM-DD."
            )
    for fmt, label in REFUSED_FORMATS:
        if pd.to_datetime(text, format=fmt, errors="coerce").notna().all():
            i = int(np.flatnonzero(~ok)[0])
            raise DataError(
                f"{path}: row {lines[i]}, column date: {quoted(text.iloc[i])} reads only as {label} "
                "(day first), which is ambiguous next to M/D/YYYY; convert the dates to YYYY-MM-DD."
            )
    i = int(np.flatnonzero(~ok)[0])
    if _a_date(text.iloc[i]):  # a real date pandas cannot hold (before 1677 or after 2262)
        raise DataError(_outside(path, lines[i], text.iloc[i]))
    raise DataError(
        f"{path}: row {lines[i]}, column date: {quoted(text.iloc[i])} is not a date; {_DATE_HELP}."
    )


def _a_date(text: str) -> bool:
    for fmt, _ in DATE_FORMATS:
        try:
            dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
        return True
    return False


def _outside(path: Path, line: int, shown: str) -> str:
    return (
        f"{path}: row {line}, column date: {quoted(shown)} is outside {FIRST_DATE.date()}.."
        f"{LAST_DATE.date()}, the dates a series may hold; correct the date or remove the row."
    )


def _date_range(idx: pd.DatetimeIndex, lines: np.ndarray, path: Path, text=None) -> None:
    """``DataError`` at the first date outside ``FIRST_DATE``..``LAST_DATE``."""
    bad = (idx < FIRST_DATE) | (idx > LAST_DATE)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(
            _outside(path, lines[i], str(idx[i].date()) if text is None else text.iloc[i])
        )


def _adjusted(frame: pd.DataFrame, spec: _Spec, notes: list[str]) -> pd.DataFrame:
    """Use Yahoo's ``Adj Close`` for a total-return instrument (OHLC scaled alike); else drop it."""
    if "adj_close" not in frame:
        return frame
    adj = frame.pop("adj_close")
    if spec.inst.returns == "total" and "close" in frame:
        factor = adj / frame["close"]
        for col in ("open", "high", "low"):
            if col in frame:
                frame[col] = frame[col] * factor
        frame["close"] = adj
        notes.append(f"used {spec.picked['adj_close']} (dividends reinvested): total-return series")
    else:
        notes.append(f"ignored {spec.picked['adj_close']}: {spec.inst.key} is price-only")
    return frame
