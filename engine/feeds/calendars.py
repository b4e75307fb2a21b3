"""Trading calendars and knowledge instants.

Lives here: session labels and their UTC open/close instants (from ``exchange_calendars``, built from
1985 so that early history has real holidays), and the rule that turns a dated observation into the
UTC instant at which it became known. Not here: aligning series onto decision points (``align``).

Building a calendar takes ~0.3 s and importing ``exchange_calendars`` ~0.15 s, a third of a short
run, so the sessions are kept on disk (``$XDG_CACHE_HOME/crosscurrent/calendars``), one file per
exchange, ``exchange_calendars`` version and day (a calendar runs a year ahead of the day it is
built); a missing or unreadable file is simply rebuilt.

Instants are int64 nanoseconds since the epoch, UTC, throughout the engine's arrays.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from engine.errors import DataError
from engine.feeds.instruments import Instrument
from engine.paths import user_cache_dir

CALENDAR_START = "1985-01-01"
DAY_NS = 86_400 * 10**9


@dataclass(frozen=True)
class Sessions:
    """Sessions of one exchange: labels (tz-naive dates) and UTC open/close instants (int64 ns)."""

    code: str
    labels: pd.DatetimeIndex
    open_ns: np.ndarray
    close_ns: np.ndarray

    def between(self, start: pd.Timestamp, end: pd.Timestamp) -> Sessions:
        lo = self.labels.searchsorted(start, side="left")
        hi = self.labels.searchsorted(end, side="right")
        return Sessions(self.code, self.labels[lo:hi], self.open_ns[lo:hi], self.close_ns[lo:hi])


@lru_cache(maxsize=8)
def sessions(code: str) -> Sessions:
    """All sessions of exchange ``code`` (e.g. ``XNYS``, ``XASX``) from 1985 to a year ahead."""
    path = _cache_path(code)
    try:
        with np.load(path) as f:
            labels, open_ns, close_ns = f["labels"], f["open"], f["close"]
    except (OSError, ValueError, KeyError):
        labels, open_ns, close_ns = _build(code)
        _save(path, labels=labels, open=open_ns, close=close_ns)
    return Sessions(code, pd.DatetimeIndex(labels.view("M8[ns]")), open_ns, close_ns)


def _build(code: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    import exchange_calendars as xcals  # slow to import; only needed when the cache misses

    try:
        cal = xcals.get_calendar(code, start=CALENDAR_START)
    except xcals.errors.InvalidCalendarName:
        raise DataError(
            f"unknown exchange calendar {code!r}; use an exchange_calendars code such as XNYS or XASX."
        ) from None
    sched = cal.schedule
    return (
        pd.DatetimeIndex(sched.index).as_unit("ns").asi8.copy(),
        pd.DatetimeIndex(sched["open"].array).as_unit("ns").asi8.copy(),
        pd.DatetimeIndex(sched["close"].array).as_unit("ns").asi8.copy(),
    )


@lru_cache(maxsize=1)
def calendar_names() -> dict[str, str]:
    """Every ``exchange_calendars`` code and alias -> its calendar's code (``ASX`` -> ``XASX``),
    kept on disk like the sessions so that checking an instruments.toml does not import
    ``exchange_calendars``."""
    version = metadata.version("exchange_calendars")
    path = user_cache_dir() / "calendars" / f"names-{version}.txt"
    try:
        pairs = [line.split() for line in path.read_text(encoding="utf-8").splitlines()]
    except OSError:
        pairs = []
    if not pairs or any(len(p) != 2 for p in pairs):
        import exchange_calendars as xcals

        names = {n: n for n in xcals.get_calendar_names(include_aliases=False)}
        names.update(xcals.aliases_to_names())
        pairs = sorted(names.items())
        _save_text(path, "".join(f"{a} {n}\n" for a, n in pairs))
    return dict(pairs)


def _save_text(path: Path, text: str) -> None:
    """Write atomically; a cache that cannot be written is skipped, never an error."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
        tmp = None
    except OSError:
        pass
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def _cache_path(code: str) -> Path:
    version = metadata.version("exchange_calendars")
    today = dt.datetime.now(dt.UTC).date().isoformat()
    return user_cache_dir() / "calendars" / f"{code}-{CALENDAR_START}-{version}-{today}.npz"


def _save(path: Path, **arrays: np.ndarray) -> None:
    """Write atomically (a reader never sees half a file) and drop this exchange's older files; a
    cache that cannot be written is skipped, never an error."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
        tmp = None
        for old in path.parent.glob(f"{path.name.split('-')[0]}-*.npz"):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError:
        pass
    finally:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


def local_instants_ns(dates: pd.DatetimeIndex, lag_days: int, minutes: int, tz: str) -> np.ndarray:
    """UTC instants of ``date + lag_days`` at ``minutes`` after local midnight in ``tz``.

    Local wall-clock times go through the zone so daylight saving is honoured; ``minutes = 1440``
    means the end of that local day (the next local midnight).
    """
    local = pd.DatetimeIndex(dates).normalize() + pd.Timedelta(days=lag_days)
    extra_days, minutes = divmod(minutes, 1440)
    local = local + pd.Timedelta(days=extra_days) + pd.Timedelta(minutes=minutes)
    aware = local.tz_localize(tz, nonexistent="shift_forward", ambiguous=False)
    return aware.tz_convert("UTC").as_unit("ns").asi8.copy()


def knowledge_instants(instrument: Instrument, dates: pd.DatetimeIndex, source: str) -> np.ndarray:
    """The UTC instant (int64 ns) at which each dated value of ``instrument`` became known.

    Exchange series are known at their session's close (so early closes count); other series follow
    the instrument's ``known`` rule. A dated row that is not a session of its exchange is an error.
    """
    if instrument.known.session_close:
        cal = sessions(instrument.calendar)
        idx = cal.labels.get_indexer(dates)
        bad = np.flatnonzero(idx < 0)
        if bad.size:
            row = int(bad[0])
            raise DataError(
                f"{source}: row {row + 2} (date {dates[row].date()}) is not a {instrument.calendar} "
                f"session ({bad.size} such rows); remove non-session rows or fix the calendar "
                f"of {instrument.key} in instruments.toml."
            )
        return cal.close_ns[idx]
    return local_instants_ns(
        dates, instrument.known.lag_days, instrument.known.minutes, instrument.tz
    )
