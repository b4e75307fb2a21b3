"""Event tables for the ``event_within`` and ``easing_cycle`` blocks.

Lives here: ``EventTable`` (events ascending by the UTC instant each became known, with its local
date and its move: -1 cut, +1 hike, 0 for user events), built from the central-bank tables the
context carries (``fomc``, ``rba``) or read from a user's ``events/NAME.csv`` in the data folder.

A user event file is ``date[,time][,tz],label[,value]`` with a header line: tariff announcements,
IPO-window dates, anything dated. An event with a time is known at that local time in ``tz``
(default UTC); one without is known at the end of its day (the next midnight in ``tz``), so a rule
never acts on news before the day is over. Every row is checked; a bad one is a ``DataError``
naming the file, the row, the column and the fix.
"""

from __future__ import annotations

import csv
import functools
import io
import re
import zoneinfo
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from engine.errors import DataError, did_you_mean
from engine.feeds.datafiles import decode, quoted, read_bytes
from engine.feeds.events import Decisions
from engine.feeds.readers import FIRST_DATE, LAST_DATE

BANKS = ("fomc", "rba")
COLUMNS = ("date", "time", "tz", "label", "value")
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,59}")
MAX_EVENTS = 1_000_000
_TIME = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


@dataclass(frozen=True)
class EventTable:
    """Events ascending by ``known_ns``: local ``dates`` (tz-naive days in ``tz`` of each event),
    ``move`` (-1 cut, +1 hike, 0 other) and the ``source`` they came from."""

    name: str
    known_ns: np.ndarray
    move: np.ndarray
    labels: tuple[str, ...]
    source: str

    def select(self, move: str) -> np.ndarray:
        """Instants of the events of ``move`` (cut | hike | any)."""
        if move == "any":
            return self.known_ns
        return self.known_ns[self.move == (-1 if move == "cut" else 1)]

    def moves(self) -> tuple[np.ndarray, np.ndarray]:
        """(instants, signs) of the events that moved a rate (sign non-zero)."""
        keep = self.move != 0
        return self.known_ns[keep], self.move[keep]


def from_decisions(dec: Decisions) -> EventTable:
    """A central-bank table as events: every decision, its move the sign of its change."""
    sign = np.sign(dec.frame["change_bps"].to_numpy(dtype=np.float64)).astype(np.int64)
    labels = tuple(f"{dec.bank} {int(c):+d} bp" for c in dec.frame["change_bps"].to_numpy())
    return EventTable(dec.bank, np.asarray(dec.known_ns, np.int64), sign, labels, str(dec.path))


def event_path(folder: Path, name: str) -> Path:
    return Path(folder) / "events" / f"{name}.csv"


def available(folder: Path) -> list[str]:
    """Names of the user event files in ``folder/events`` (besides the bank tables)."""
    events = Path(folder) / "events"
    if not events.is_dir():
        return []
    return sorted(p.stem for p in events.glob("*.csv") if p.stem not in BANKS)


def _fail(path: Path, line: int, column: str, value: str, fix: str) -> DataError:
    return DataError(f"{path}: row {line}, column {column}: {quoted(value)}: {fix}")


def _header(path: Path, header: list[str]) -> list[str]:
    names = [h.strip().lower() for h in header]
    for h in names:
        if h not in COLUMNS:
            raise DataError(
                f"{path}: unknown column {quoted(h)}.{did_you_mean(h, COLUMNS)} An event file has "
                "date[,time][,tz],label[,value] with a header line."
            )
    for need in ("date", "label"):
        if need not in names:
            raise DataError(
                f"{path}: no {need} column; an event file has date[,time][,tz],label[,value]."
            )
    if len(set(names)) != len(names):
        raise DataError(f"{path}: a column is named twice in the header; name each once.")
    return names


def _known(path: Path, line: int, row: dict[str, str]) -> int:
    text = row["date"].strip()
    try:
        day = pd.Timestamp(text)
    except (ValueError, OverflowError):
        raise _fail(path, line, "date", text, "use YYYY-MM-DD.") from None
    if day is pd.NaT or day.tz is not None or day != day.normalize():
        raise _fail(path, line, "date", text, "use YYYY-MM-DD.")
    if not FIRST_DATE <= day <= LAST_DATE:
        raise _fail(path, line, "date", text, f"keep dates within {FIRST_DATE.date()}.."
                    f"{LAST_DATE.date()}.")  # fmt: skip
    tz = (row.get("tz") or "").strip() or "UTC"
    try:
        zone = zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise _fail(path, line, "tz", tz, "use an IANA zone such as America/New_York.") from None
    time = (row.get("time") or "").strip()
    if time:
        if not _TIME.fullmatch(time):
            raise _fail(path, line, "time", time, "use 24-hour HH:MM local time (e.g. 14:30).")
        local = pd.Timestamp(f"{day.date()} {time}")
    else:
        local = day + pd.Timedelta(days=1)  # known at the end of its day
    aware = local.tz_localize(zone, nonexistent="shift_forward", ambiguous=False)
    return int(aware.tz_convert("UTC").as_unit("ns").value)


def read_event_file(path: Path, name: str) -> EventTable:
    """The user event file ``path`` as an ``EventTable`` (see the module docstring)."""
    text = decode(read_bytes(path, what="event file"), path)
    rows = list(csv.reader(io.StringIO(text)))
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise DataError(f"{path}: empty; write a header (date,label) and one row per event.")
    names = _header(path, rows[0])
    if len(rows) - 1 > MAX_EVENTS:
        raise DataError(f"{path}: {len(rows) - 1:,} events; at most {MAX_EVENTS:,} are read.")
    known, labels = [], []
    for line, cells in enumerate(rows[1:], start=2):
        if len(cells) != len(names):
            raise DataError(
                f"{path}: row {line} has {len(cells)} cells for {len(names)} columns; quote a "
                "label holding a comma."
            )
        row = dict(zip(names, cells, strict=True))
        label = row["label"].strip()
        if not label:
            raise _fail(path, line, "label", label, "give each event a label.")
        value = (row.get("value") or "").strip()
        if value:
            try:
                ok = np.isfinite(float(value))
            except ValueError:
                ok = False
            if not ok:
                raise _fail(path, line, "value", value, "use a finite number or leave it empty.")
        known.append(_known(path, line, row))
        labels.append(label[:200])
    if not known:
        raise DataError(f"{path}: no events below the header; add one row per event.")
    order = np.argsort(np.asarray(known, np.int64), kind="stable")
    return EventTable(
        name,
        np.asarray(known, np.int64)[order],
        np.zeros(len(known), np.int64),
        tuple(labels[i] for i in order),
        str(path),
    )


def load_events(name: str, folder: Path, fomc: Decisions, rba: Decisions) -> EventTable:
    """The table called ``name``: ``fomc``, ``rba`` or a user file ``folder/events/NAME.csv``."""
    if name == "fomc":
        return from_decisions(fomc)
    if name == "rba":
        return from_decisions(rba)
    path = event_path(folder, name)
    if not path.is_file():
        found = available(folder)
        raise DataError(
            f"no event table {name!r}: {path} does not exist.{did_you_mean(name, found)} Use "
            f"fomc, rba or a file events/NAME.csv in the data folder (found: "
            f"{', '.join(found) or 'none'})."
        )
    stat = path.stat()
    return _read_cached(path, path.resolve(), stat.st_mtime_ns, stat.st_size, name)


@functools.lru_cache(maxsize=32)
def _read_cached(path: Path, _where: Path, mtime_ns: int, size: int, name: str) -> EventTable:
    """``read_event_file``, once per version of the file (keyed by where it resolves, its mtime
    and size): a rule reads its tables at every evaluation - each audit cut, each grid chunk."""
    return read_event_file(path, name)
