"""Data validation: the checks a data file must pass, each finding a ``Problem``.

Lives here: ``check_table`` (one read file against its instrument, calling every check in order),
the checks of rows and calendars (order, values, calendar, gaps, stale runs, volume),
``validate_file`` (reading included; a file the reader refuses becomes one error),
``raise_for_errors`` (how the loader refuses a file) and ``limits`` (each instrument's thresholds).
Price moves live in ``validate_bars``, units, rate jumps and level ranges in ``validate_levels``, the
``Problem`` record in ``problems``. Not here: reading files (``readers``), walking a folder
(``marketdata.validate_folder``), printing reports (``cli_data``).

Errors (a backtest refuses the file): dates duplicated or out of order; a price that is missing,
non-finite or not positive, or outside ``MIN_PRICE``..``MAX_PRICE`` (1e-6..1e12: a subnormal such
as 5e-324, or 1e300); a rate that is not 0 yet nearer 0 than ``MIN_RATE``, or beyond ``MAX_RATE``;
a close, open, high or low a factor of 3 or more away from the closes around it (a bad tick; opens
and closes are fill prices); a rate that is missing or non-finite, that jumps by more than
``max_move`` percentage points from one row to the next, or that is in the wrong unit (basis points
or a fraction where percent is expected, or percent where a fraction is declared); a price or rate
outside the instrument's plausible range (``min_level`` / ``max_level``; an FX series given the
other way round is named as such); a row that is not a session of the instrument's exchange, is
before its calendar starts (1985) or after its last scheduled session; anything the reader refuses
(not a regular file, not CSV text, no date column, ambiguous columns, mixed date formats, a date
outside 1900..2200, an empty file).
Warnings: a price series of one row (a run refuses it; a file may be checked alone); gaps longer
than the calendar allows; one-day moves of closes, opens, highs or lows beyond ``max_move``; weekend
rows in a price series on a weekdays calendar; stale runs of identical closes; zero-volume
stretches; bars whose high and low do not contain the open and close. Notes: what the reader did
(rows skipped as no observation, a newest-first file turned round, Adj Close used).

Thresholds, per instrument in ``instruments.toml`` as ``checks = { max_move = 0.4 }``:
  max_move         largest plausible one-day move: a fraction of the price (index 0.25, etf 0.35,
                   fx 0.10) or percentage points for a rate (2.0)
  stale_run        warn at this many identical closes in a row (5; rates are not checked)
  zero_volume_run  warn at this many zero-volume rows in a row (5)
  max_missing      sessions (exchange calendar) or weekdays that may be missing between two rows
                   before the gap is reported (exchange 0, weekdays 3)
  fraction_below   a rate in percent whose every value is below this in size looks like a fraction
                   (0.2; 0 turns the fraction tests off; see ``validate_levels``)
  min_level        smallest plausible price or rate level (none by default)
  max_level        largest plausible price or rate level (none for prices; 25 % for rates)
A folder's ``instruments.toml`` that redefines a key keeps the packaged checks of that key as long
as it is the same kind of series (kind and currency unchanged, and the base where both name one);
its own checks win.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from engine import paths
from engine.errors import DataError
from engine.feeds import calendars, validate_bars, validate_levels
from engine.feeds.instruments import Instrument, load_instruments
from engine.feeds.problems import SEVERITIES, CheckContext, Problem
from engine.feeds.readers import PRICE_COLUMNS, Table, read_table
from engine.feeds.validate_bars import JUMP_FACTOR

__all__ = [
    "JUMP_FACTOR",
    "SEVERITIES",
    "FileReport",
    "Problem",
    "check_table",
    "limits",
    "raise_for_errors",
    "validate_file",
]

DEFAULTS = {"stale_run": 5.0, "zero_volume_run": 5.0, "fraction_below": 0.2}
# What any number in a series may be, whatever the instrument's checks say. A price below a
# millionth of a currency unit or above a trillion is a unit slip or garbage (penny stocks trade at
# 0.001, index levels and the dearest shares below 1e6); a subnormal such as 5e-324 turns every
# ratio of prices into rounding error. Rates may be 0 or negative, but not finer than 1e-6 in size
# (published to a basis point or so) nor beyond 10,000 (percent; hyperinflation aside).
MIN_PRICE, MAX_PRICE = 1e-6, 1e12
MIN_PRICE_ROWS = 2  # a price series shorter than this cannot give a single return
MIN_RATE, MAX_RATE = 1e-6, 1e4  # in size, as written (percent, or a fraction)
MAX_MOVE = {"index": 0.25, "etf": 0.35, "fx": 0.10, "rate": 2.0}


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
    """The instrument's thresholds: defaults by kind and calendar, then the packaged checks of the
    same instrument (when a folder redefines it), then its own ``checks``."""
    out = dict(DEFAULTS, max_move=MAX_MOVE[inst.kind])
    out["max_missing"] = 0.0 if inst.known.session_close else 3.0
    if not inst.is_price:
        out["max_level"] = validate_levels.RATE_MAX_LEVEL
    return {**out, **_packaged_checks(inst), **inst.checks}


@functools.lru_cache(maxsize=4)
def _packaged(path: Path) -> dict[str, Instrument]:
    return load_instruments(path)


def _packaged_checks(inst: Instrument) -> dict[str, float]:
    # A folder's own [AUDUSD] (say, FRED's noon rate) should not lose the plausible range of the
    # packaged AUDUSD; a key redefined as another kind of series (XSO as an ETF) starts afresh.
    base = _packaged(paths.instruments_file()).get(inst.key)
    if base is None or (base.kind, base.currency) != (inst.kind, inst.currency):
        return {}
    if base.base is not None and inst.base is not None and base.base != inst.base:
        return {}  # AUD per USD declared as such: the USD-per-AUD range does not apply
    return dict(base.checks)


def check_table(table: Table, inst: Instrument) -> list[Problem]:
    """Every check on one read file; a level outside its range is not repeated where the same cell
    is already a bad tick."""
    # Ratios of numbers out of bounds (1e300, 5e-324) overflow to inf, which the checks compare
    # correctly; ``_values`` reports the numbers themselves, so numpy's warnings would be noise.
    with np.errstate(divide="ignore", over="ignore", under="ignore", invalid="ignore"):
        return _check_table(table, inst)


def _check_table(table: Table, inst: Instrument) -> list[Problem]:
    dates = pd.DatetimeIndex(table.frame["date"]).as_unit("ns")
    ctx = CheckContext(table, inst, limits(inst), dates.asi8, dates)
    out = [*_too_short(ctx), *_order(ctx), *_values(ctx), *_calendar(ctx)]
    units = [] if inst.is_price else validate_levels.rate_units(ctx)
    wrong_unit = any(p.severity == "error" for p in units)
    levels = [] if wrong_unit else validate_levels.level_range(ctx)
    later = []
    if not any(p.check in ("duplicate", "order") for p in out):
        later = [*_gaps(ctx), *_moves(ctx, wrong_unit), *_stale(ctx)]
        later = _beside_bounds(ctx, out, later)
    # Units and ranges first: a series in the wrong unit or the wrong way round is the headline.
    out += [*units, *_without_repeats(levels, [*out, *later]), *later]
    return [*out, *_volume(ctx), *validate_bars.containment(ctx), *_notes(ctx)]


def _moves(ctx: CheckContext, wrong_unit: bool) -> list[Problem]:
    if not ctx.inst.is_price:
        # A series in the wrong unit jumps at every change; its one units error says it all.
        return [] if wrong_unit else validate_levels.rate_moves(ctx)
    both = [*validate_bars.close_moves(ctx), *validate_bars.bar_moves(ctx)]
    return sorted(both, key=lambda p: p.row or 0)


def _beside_bounds(ctx: CheckContext, found: list[Problem], later: list[Problem]) -> list[Problem]:
    """Moves into or out of a number no series may hold (5e-324, 1e300) repeat its bounds error."""
    rows = {p.row for p in found if p.check == "bounds"}
    if not rows:
        return later
    lines = ctx.table.lines.tolist()
    near = rows | {lines[i + 1] for i, line in enumerate(lines[:-1]) if line in rows}
    return [p for p in later if not (p.check in ("move", "jump") and p.row in near)]


def _without_repeats(levels: list[Problem], found: list[Problem]) -> list[Problem]:
    cells = {(p.row, p.column) for p in found if p.severity == "error"}
    return [p for p in levels if (p.row, p.column) not in cells]


# --------------------------------------------------------------------------- errors


def _order(ctx: CheckContext) -> list[Problem]:
    out = []
    # Compared, not subtracted: 1900..2200 spans more nanoseconds than an int64 difference holds.
    for i in np.flatnonzero(ctx.d[1:] <= ctx.d[:-1]) + 1:
        prev = int(ctx.table.lines[i - 1])
        if ctx.d[i] == ctx.d[i - 1]:
            msg, check = f"is duplicated (row {prev} has the same date)", "duplicate"
            fix = "keep one row per date"
        else:
            msg, check = f"is out of order (row {prev} is {ctx.day(i - 1)})", "order"
            fix = "sort by date, oldest first"
        out.append(ctx.problem("error", i, "date", ctx.day(i), msg, fix, check))
    return out


def _too_short(ctx: CheckContext) -> list[Problem]:
    """A price series of one row values nothing; the loader refuses it (``MIN_PRICE_ROWS``)."""
    n = len(ctx.table.frame)
    if not ctx.inst.is_price or n >= MIN_PRICE_ROWS:
        return []
    msg = f"holds only {n} row ({ctx.day(0)}); a backtest needs at least {MIN_PRICE_ROWS} sessions"
    fix = f"supply {ctx.inst.key}'s history (one row per session)"
    return [ctx.problem("warning", None, None, None, msg, fix, "rows")]


def _values(ctx: CheckContext) -> list[Problem]:
    frame, out = ctx.table.frame, []
    cols = [c for c in PRICE_COLUMNS if c in frame] if ctx.inst.is_price else ["value"]
    for col in cols:
        v = frame[col].to_numpy()
        bad = ~np.isfinite(v) | (v <= 0) if ctx.inst.is_price else ~np.isfinite(v)
        what = "a positive finite number" if ctx.inst.is_price else "a finite number"
        for i in np.flatnonzero(bad):
            shown = "blank" if np.isnan(v[i]) else repr(float(v[i]))
            msg, fix = f"{shown} is not {what}", "fix or remove the row"
            out.append(ctx.problem("error", i, col, v[i], msg, fix, "value"))
        out += _out_of_bounds(ctx, col, np.where(bad, np.nan, v))
    return sorted(out, key=lambda p: p.row or 0)


def _out_of_bounds(ctx: CheckContext, col: str, v: np.ndarray) -> list[Problem]:
    """Finite numbers no price (``MIN_PRICE``..``MAX_PRICE``) or rate could be, as written (a rate
    declared as a fraction in basis points is the units check's to name)."""
    size = np.abs(v)
    with np.errstate(invalid="ignore"):
        if ctx.inst.is_price:
            tiny, huge = size < MIN_PRICE, size > MAX_PRICE
            sides = (
                f"below {MIN_PRICE:g} {ctx.inst.currency}, the smallest price",
                f"above {MAX_PRICE:g} {ctx.inst.currency}, the largest price",
            )
        else:
            tiny, huge = (size > 0) & (size < MIN_RATE), size > MAX_RATE
            sides = (
                f"nearer 0 than {MIN_RATE:g} (not 0 either), beyond any rate",
                f"further from 0 than {MAX_RATE:g}, beyond any rate",
            )
    out = []
    for i in np.flatnonzero(tiny | huge):
        side = sides[0] if tiny[i] else sides[1]
        msg = f"{v[i]:g} is {side} a series may hold (a unit slip, or not a real number)"
        fix = "correct the value (prices in currency units, rates in percent) or remove the row"
        out.append(ctx.problem("error", i, col, v[i], msg, fix, "bounds"))
    return out


def _calendar(ctx: CheckContext) -> list[Problem]:
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
    last = sess.labels[-1].value
    for i in np.flatnonzero(sess.labels.get_indexer(ctx.dates) < 0):
        if ctx.d[i] < first:
            msg = f"is before the {inst.calendar} calendar's first session {sess.labels[0].date()}"
            fix, check = "drop earlier rows (calendars start in 1985)", "before_calendar"
        elif ctx.d[i] > last:
            msg = f"is after the {inst.calendar} calendar's last session {sess.labels[-1].date()}"
            fix, check = (
                "correct the date (no session is scheduled that far ahead)",
                "after_calendar",
            )
        else:
            msg = f"is not a {inst.calendar} session"
            fix = f"remove non-session rows or fix the calendar of {inst.key} in instruments.toml"
            check = "off_calendar"
        out.append(ctx.problem("error", i, "date", ctx.day(i), msg, fix, check))
    return out


# --------------------------------------------------------------------------- warnings


def _gaps(ctx: CheckContext) -> list[Problem]:
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
        spacing = int(np.median(np.diff(ctx.d // 86_400_000_000_000)))  # days: no overflow
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


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, length) of each run of True in ``mask``."""
    edges = np.diff(np.concatenate(([0], mask.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return list(zip(starts.tolist(), (ends - starts).tolist(), strict=True))


def _stale(ctx: CheckContext) -> list[Problem]:
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


def _volume(ctx: CheckContext) -> list[Problem]:
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


def _notes(ctx: CheckContext) -> list[Problem]:
    return [ctx.problem("note", None, None, None, n, "", "reader") for n in ctx.table.notes]


# --------------------------------------------------------------------------- files and folders


def validate_file(path: Path, inst: Instrument) -> FileReport:
    """Read and check one file; a file the reader refuses gives one error and no table."""
    try:
        table = read_table(path, inst)
    except DataError as exc:
        text = str(exc).removeprefix(f"{path}: ").removeprefix(f"{path} ")
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
