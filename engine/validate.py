"""Data validation: the checks a data file must pass, each finding a ``Problem``.

Lives here: ``Problem`` (severity, file, row, column, value, message, fix), ``check_table`` (one read
file against its instrument), ``validate_file`` (reading included; a file the reader refuses becomes
one error) and ``raise_for_errors`` (how the loader refuses a file). Not here: reading files
(``readers``), walking a folder (``marketdata.validate_folder``), printing reports (``cli_data``).

Errors (a backtest refuses the file): dates duplicated or out of order; a price that is missing,
non-finite or not positive, or that moves beyond ``max_move`` by a factor of 3 or more in one row; a
rate that is missing or non-finite; a row that is not a session of the instrument's exchange or is
before its calendar starts (1985); a rate in the wrong unit (a fraction where percent is expected, or
the reverse); anything the reader refuses (no date column, mixed date formats, an empty file).
Warnings: gaps longer than the calendar allows; one-day moves beyond a plausibility threshold;
weekend rows in a price series on a weekdays calendar; stale runs of identical closes; zero-volume
stretches; bars whose high and low do not contain the open and close. Notes: what the reader did
(rows skipped as no observation, a newest-first file turned round, Adj Close used).

Thresholds, per instrument in ``instruments.toml`` as ``checks = { max_move = 0.4 }``:
  max_move         largest plausible one-day move: a fraction of the price (index 0.25, etf 0.35,
                   fx 0.10) or percentage points for a rate (2.0)
  stale_run        warn at this many identical closes in a row (5; rates are not checked)
  zero_volume_run  warn at this many zero-volume rows in a row (5)
  max_missing      sessions (exchange calendar) or weekdays that may be missing between two rows
                   before the gap is reported (exchange 0, weekdays 3)
  fraction_below   a rate in percent whose every value over a year or more is below this in size
                   looks like a fraction (0.2; 0 turns the check off)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from engine import calendars
from engine.errors import DataError
from engine.instruments import Instrument
from engine.readers import PRICE_COLUMNS, Table, read_table

SEVERITIES = ("error", "warning", "note")
DEFAULTS = {"stale_run": 5.0, "zero_volume_run": 5.0, "fraction_below": 0.2}
MAX_MOVE = {"index": 0.25, "etf": 0.35, "fx": 0.10, "rate": 2.0}
JUMP_FACTOR = 3.0  # a price x3 or /3 in one session is no market move


@dataclass(frozen=True)
class Problem:
    """One finding. ``row`` is the line in the file (header = 1); None for the whole file."""

    severity: str
    file: str
    row: int | None
    column: str | None
    value: object
    message: str
    fix: str
    check: str = ""

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity {self.severity!r} is not one of {SEVERITIES}")

    def where(self) -> str:
        if self.row is not None and self.column == "date":
            return f"row {self.row} (date {self.value})"
        if self.row is not None:
            return f"row {self.row}, column {self.column}"
        return f"column {self.column}" if self.column else ""

    def line(self, extra: str = "") -> str:
        """``file: where: message; fix`` on one line; ``extra`` goes before the fix."""
        where = self.where()
        sep = " " if self.column == "date" and self.row is not None else ": "
        head = f"{self.file}: {where}{sep}" if where else f"{self.file}: "
        fix = f"; {self.fix}" if self.fix else ""
        return f"{head}{self.message}{extra}{fix}"

    def __str__(self) -> str:
        return self.line()


@dataclass(frozen=True)
class FileReport:
    """What ``validate_file`` found in one file; ``table`` is None when the reader refused it."""

    path: Path
    key: str
    table: Table | None
    problems: list[Problem]

    def count(self, severity: str) -> int:
        return sum(p.severity == severity for p in self.problems)


def limits(inst: Instrument) -> dict[str, float]:
    """The instrument's thresholds: defaults by kind and calendar, overridden by its ``checks``."""
    out = dict(DEFAULTS, max_move=MAX_MOVE[inst.kind])
    out["max_missing"] = 0.0 if inst.known.session_close else 3.0
    return {**out, **inst.checks}


@dataclass(frozen=True)
class _Ctx:
    table: Table
    inst: Instrument
    limits: dict[str, float]
    d: np.ndarray  # dates as int64 ns
    dates: pd.DatetimeIndex

    def problem(self, sev, i, column, value, message, fix, check) -> Problem:
        row = None if i is None else int(self.table.lines[i])
        name = self.table.columns.get(column, column)
        return Problem(sev, str(self.table.path), row, name, value, message, fix, check)

    def day(self, i: int) -> str:
        return str(self.dates[i].date())


def check_table(table: Table, inst: Instrument) -> list[Problem]:
    """Every check on one read file, errors first within each check's rows."""
    dates = pd.DatetimeIndex(table.frame["date"]).as_unit("ns")
    ctx = _Ctx(table, inst, limits(inst), dates.asi8, dates)
    out = [*_order(ctx), *_values(ctx), *_calendar(ctx), *_units(ctx)]
    if not any(p.check in ("duplicate", "order") for p in out):
        out += [*_gaps(ctx), *_moves(ctx), *_stale(ctx)]
    out += [*_volume(ctx), *_ohlc(ctx), *_notes(ctx)]
    return out


# --------------------------------------------------------------------------- errors


def _order(ctx: _Ctx) -> list[Problem]:
    out = []
    steps = np.diff(ctx.d)
    for i in np.flatnonzero(steps <= 0) + 1:
        prev = int(ctx.table.lines[i - 1])
        if ctx.d[i] == ctx.d[i - 1]:
            msg, check = f"is duplicated (row {prev} has the same date)", "duplicate"
            fix = "keep one row per date"
        else:
            msg, check = f"is out of order (row {prev} is {ctx.day(i - 1)})", "order"
            fix = "sort by date, oldest first"
        out.append(ctx.problem("error", i, "date", ctx.day(i), msg, fix, check))
    return out


def _values(ctx: _Ctx) -> list[Problem]:
    frame, out = ctx.table.frame, []
    cols = [c for c in PRICE_COLUMNS if c in frame] if ctx.inst.is_price else ["value"]
    for col in cols:
        v = frame[col].to_numpy()
        bad = ~np.isfinite(v) | (v <= 0) if ctx.inst.is_price else ~np.isfinite(v)
        what = "a positive finite number" if ctx.inst.is_price else "a finite number"
        for i in np.flatnonzero(bad):
            shown = "blank" if np.isnan(v[i]) else repr(float(v[i]))
            out.append(
                ctx.problem(
                    "error",
                    i,
                    col,
                    v[i],
                    f"{shown} is not {what}",
                    "fix or remove the row",
                    "value",
                )
            )
    return out


def _calendar(ctx: _Ctx) -> list[Problem]:
    inst, out = ctx.inst, []
    if not inst.known.session_close:
        if not inst.is_price:
            return out  # FRED and the RBA date some rate series on every calendar day
        weekend = ctx.dates.day_of_week.to_numpy() >= 5
        for i in np.flatnonzero(weekend):
            msg = f"is a {ctx.dates[i].day_name()} on a weekdays calendar"
            fix = "remove weekend rows (they usually repeat Friday's value)"
            out.append(ctx.problem("warning", i, "date", ctx.day(i), msg, fix, "weekend"))
        return out
    sess = calendars.sessions(inst.calendar)
    first = sess.labels[0].value
    for i in np.flatnonzero(sess.labels.get_indexer(ctx.dates) < 0):
        if ctx.d[i] < first:
            msg = f"is before the {inst.calendar} calendar's first session {sess.labels[0].date()}"
            fix, check = "drop earlier rows (calendars start in 1985)", "before_calendar"
        else:
            msg = f"is not a {inst.calendar} session"
            fix = f"remove non-session rows or fix the calendar of {inst.key} in instruments.toml"
            check = "off_calendar"
        out.append(ctx.problem("error", i, "date", ctx.day(i), msg, fix, check))
    return out


def _units(ctx: _Ctx) -> list[Problem]:
    inst = ctx.inst
    if inst.is_price:
        return []
    v = ctx.table.frame["value"].to_numpy()
    v = np.abs(v[np.isfinite(v)])
    if v.size == 0 or ctx.dates.max() - ctx.dates.min() < pd.Timedelta(days=365):
        return []  # too little history to tell a fraction from a low rate
    big, below = float(v.max()), ctx.limits["fraction_below"]
    if (inst.units or "percent") == "percent" and 0 < big < below:
        msg = (
            f"every value is below {below:g} (largest {big:g}): this looks like a fraction "
            f"(0.0425 = 4.25 %), but {inst.key} is in percent"
        )
        fix = (
            "multiply by 100 (rates are levels in percent, as published), or set "
            f'units = "fraction" for {inst.key} in the folder\'s instruments.toml '
            "(checks.fraction_below = 0 if they really are tiny percent levels)"
        )
        return [ctx.problem("error", None, "value", big, msg, fix, "units")]
    if inst.units == "fraction" and big >= 1.0:
        msg = f"values reach {big:g}: this looks like percent, but {inst.key} is a fraction"
        fix = f'divide by 100, or set units = "percent" for {inst.key} in instruments.toml'
        return [ctx.problem("error", None, "value", big, msg, fix, "units")]
    return []


# --------------------------------------------------------------------------- warnings


def _gaps(ctx: _Ctx) -> list[Problem]:
    inst, allowed = ctx.inst, ctx.limits["max_missing"]
    if len(ctx.d) < 2:
        return []
    if inst.known.session_close:
        pos = calendars.sessions(inst.calendar).labels.get_indexer(ctx.dates)
        ok = np.flatnonzero(pos >= 0)
        rows, missing = ok[1:], np.diff(pos[ok]) - 1
        unit = f"{inst.calendar} session(s)"
    else:
        days = ctx.d.astype("datetime64[ns]").astype("datetime64[D]")
        rows = np.arange(1, len(days))
        missing = np.busday_count(days[:-1] + 1, days[1:])
        unit = "weekday(s)"
    gaps = np.flatnonzero(missing > allowed)
    if gaps.size > 10 and gaps.size > len(rows) / 4:
        spacing = int(np.median(np.diff(ctx.d)) // 86_400_000_000_000)
        msg = (
            f"{gaps.size} of {len(rows)} steps skip {unit} (median spacing {spacing} days): "
            "a sparse series, each value holding until the next"
        )
        fix = "fine for a step series such as a policy rate; otherwise supply daily rows"
        return [ctx.problem("warning", None, "date", None, msg, fix, "gap")]
    out = []
    for k in gaps:
        i, prev = int(rows[k]), int(rows[k]) - 1
        msg = f"follows a gap: {int(missing[k])} {unit} missing since row {ctx.table.lines[prev]}"
        fix = "add the missing rows, or accept it: the last known value carries forward"
        out.append(ctx.problem("warning", i, "date", ctx.day(i), msg, fix, "gap"))
    return out


def _moves(ctx: _Ctx) -> list[Problem]:
    col = "close" if ctx.inst.is_price else "value"
    v = ctx.table.frame[col].to_numpy()
    ok = np.flatnonzero(np.isfinite(v) & ((v > 0) if ctx.inst.is_price else True))
    if ok.size < 2:
        return []
    a, b = v[ok[:-1]], v[ok[1:]]
    move = b / a - 1.0 if ctx.inst.is_price else b - a
    limit, out = ctx.limits["max_move"], []
    for k in np.flatnonzero(np.abs(move) > limit):
        i = int(ok[k + 1])
        out.append(_move_problem(ctx, i, col, a[k], b[k], move[k], limit))
    return out


def _move_problem(ctx: _Ctx, i: int, col: str, a: float, b: float, move: float, limit: float):
    """A move beyond ``max_move`` warns; a price multiplied or divided by 3+ in a day is an error."""
    key = ctx.inst.key
    if not ctx.inst.is_price:
        msg = f"{a:g} -> {b:g} is a one-day move of {move:+.2f} percentage points (limit {limit:g})"
        fix = f"check the source; if the move is real, raise checks.max_move for {key}"
        return ctx.problem("warning", i, col, b, msg, fix, "move")
    msg = f"{a:g} -> {b:g} is a one-day move of {move:+.1%} (limit {limit:.0%})"
    if max(b / a, a / b) >= JUMP_FACTOR:
        msg += f": a factor of {max(b / a, a / b):.1f} is a bad tick, a split or a unit change"
        fix = (
            "correct or remove the row (split-adjust an ETF); if the move is real, set "
            f"checks.max_move for {key} in instruments.toml above it"
        )
        return ctx.problem("error", i, col, b, msg, fix, "jump")
    fix = (
        "check for a split, a unit change or a typo; if the move is real, raise "
        f"checks.max_move for {key} in instruments.toml"
    )
    return ctx.problem("warning", i, col, b, msg, fix, "move")


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, length) of each run of True in ``mask``."""
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return list(zip(starts.tolist(), (ends - starts).tolist(), strict=True))


def _stale(ctx: _Ctx) -> list[Problem]:
    if not ctx.inst.is_price:
        return []
    c = ctx.table.frame["close"].to_numpy()
    same = np.concatenate(([False], c[1:] == c[:-1]))
    out, need = [], ctx.limits["stale_run"]
    for start, n in _runs(same):
        if n + 1 >= need > 0:
            i, end = start - 1, int(ctx.table.lines[start + n - 1])
            msg = f"{c[i]:g} is repeated by {n + 1} closes in a row (through row {end})"
            fix = "check the source kept updating (a stale feed repeats the last price)"
            out.append(ctx.problem("warning", i, "close", c[i], msg, fix, "stale"))
    return out


def _volume(ctx: _Ctx) -> list[Problem]:
    frame = ctx.table.frame
    if "volume" not in frame or frame.empty:
        return []
    zero = (frame["volume"] == 0).to_numpy()
    if zero.all():
        msg, fix = "is 0 on every row", "nothing to do: no strategy uses volume yet"
        return [ctx.problem("note", None, "volume", 0, msg, fix, "volume")]
    out, need = [], ctx.limits["zero_volume_run"]
    for start, n in _runs(zero):
        if n >= need > 0:
            end = int(ctx.table.lines[start + n - 1])
            msg = f"is 0 on {n} rows in a row (through row {end})"
            fix = "check the instrument traded then; thin trading makes fills unrealistic"
            out.append(ctx.problem("warning", start, "volume", 0, msg, fix, "zero_volume"))
    return out


def _ohlc(ctx: _Ctx) -> list[Problem]:
    frame = ctx.table.frame
    if not all(c in frame for c in PRICE_COLUMNS):
        return []
    o, h, low, c = (frame[k].to_numpy() for k in PRICE_COLUMNS)
    tol = 1e-9 * np.abs(c)
    with np.errstate(invalid="ignore"):
        bad = (low > np.minimum(o, c) + tol) | (h < np.maximum(o, c) - tol)
    out = []
    for i in np.flatnonzero(bad):
        msg = f"high {h[i]:g} / low {low[i]:g} do not contain open {o[i]:g} and close {c[i]:g}"
        fix = "check the bar (fills use only the open and close)"
        out.append(ctx.problem("warning", i, "high", h[i], msg, fix, "ohlc"))
    return out


def _notes(ctx: _Ctx) -> list[Problem]:
    return [ctx.problem("note", None, None, None, n, "", "reader") for n in ctx.table.notes]


# --------------------------------------------------------------------------- files and folders


def validate_file(path: Path, inst: Instrument) -> FileReport:
    """Read and check one file; a file the reader refuses gives one error and no table."""
    try:
        table = read_table(path, inst)
    except DataError as exc:
        text = str(exc).removeprefix(f"{path}: ")
        return FileReport(
            path, inst.key, None, [Problem("error", str(path), None, None, None, text, "", "read")]
        )
    return FileReport(path, inst.key, table, check_table(table, inst))


def raise_for_errors(problems: list[Problem], folder: Path | None = None) -> None:
    """Raise ``DataError`` with the first error (and how many like it) if there is any."""
    hard = [p for p in problems if p.severity == "error"]
    if not hard:
        return
    first = hard[0]
    same = sum(p.check == first.check for p in hard)
    extra = f" ({same} such rows)" if same > 1 and first.row is not None else ""
    tail = ""
    if len(hard) > 1:
        where = folder if folder is not None else first.file
        tail = f" [{len(hard)} errors in all; `backtest data validate {where}` lists them]"
    raise DataError(first.line(extra) + tail)
