"""Exchange sessions come from exchange_calendars once, then from a disk cache that is exact,
rebuilt when damaged, and never makes a run fail."""

from __future__ import annotations

import subprocess
import sys

import exchange_calendars as xcals
import numpy as np
import pandas as pd
import pytest

from engine.errors import DataError
from engine.feeds import calendars


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    calendars.sessions.cache_clear()
    yield tmp_path / "crosscurrent" / "calendars"
    calendars.sessions.cache_clear()


def _expected(code):
    sched = xcals.get_calendar(code, start=calendars.CALENDAR_START).schedule
    return (
        pd.DatetimeIndex(sched.index).as_unit("ns").asi8,
        pd.DatetimeIndex(sched["open"].array).as_unit("ns").asi8,
        pd.DatetimeIndex(sched["close"].array).as_unit("ns").asi8,
    )


def test_cached_sessions_equal_exchange_calendars(cache):
    built = calendars.sessions("XNYS")
    (path,) = cache.glob("XNYS-*.npz")
    calendars.sessions.cache_clear()
    loaded = calendars.sessions("XNYS")
    labels, opens, closes = _expected("XNYS")
    for s in (built, loaded):
        np.testing.assert_array_equal(s.labels.as_unit("ns").asi8, labels)
        np.testing.assert_array_equal(s.open_ns, opens)
        np.testing.assert_array_equal(s.close_ns, closes)
    assert pd.Timestamp("2024-11-29") in loaded.labels  # the day after Thanksgiving: early close
    assert path.stat().st_size > 0


def test_a_damaged_cache_file_is_rebuilt(cache):
    calendars.sessions("XASX")
    (path,) = cache.glob("XASX-*.npz")
    path.write_bytes(b"not a zip file")
    calendars.sessions.cache_clear()
    again = calendars.sessions("XASX")
    np.testing.assert_array_equal(again.close_ns, _expected("XASX")[2])
    with np.load(path) as f:  # rewritten
        assert len(f["labels"]) == len(again.labels)


def test_older_files_of_the_exchange_are_dropped(cache):
    cache.mkdir(parents=True)
    stale = cache / "XASX-1985-01-01-0.0-2000-01-01.npz"
    stale.write_bytes(b"old")
    other = cache / "XNYS-1985-01-01-0.0-2000-01-01.npz"
    other.write_bytes(b"old")
    calendars.sessions("XASX")
    assert not stale.exists() and other.exists()


def test_an_unwritable_cache_is_not_an_error(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    calendars.sessions.cache_clear()
    try:
        assert len(calendars.sessions("XNYS").labels) > 9000
    finally:
        calendars.sessions.cache_clear()


def test_unknown_calendar_names_the_fix(cache):
    with pytest.raises(DataError, match="unknown exchange calendar 'XXXX'.*XNYS or XASX"):
        calendars.sessions("XXXX")


def test_a_warm_process_does_not_import_exchange_calendars(cache):
    calendars.sessions("XASX")
    code = (
        "import sys; from engine.feeds import calendars; calendars.sessions('XASX'); "
        "print('exchange_calendars' in sys.modules)"
    )
    env = {"XDG_CACHE_HOME": str(cache.parent.parent), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_calendar_names_come_from_the_disk_cache(cache):
    calendars.calendar_names.cache_clear()
    try:
        names = calendars.calendar_names()
        assert {"XNYS", "XASX"} <= set(names) and names["ASX"] == "XASX" and "weekdays" not in names
        assert len(list(cache.glob("names-*.txt"))) == 1
        # A warm process checks an instruments.toml's calendars without importing them.
        code = (
            "import sys; from engine.feeds.instruments import load_instruments; load_instruments(); "
            "print('exchange_calendars' in sys.modules)"
        )
        env = {"XDG_CACHE_HOME": str(cache.parent.parent), "PATH": "/usr/bin:/bin"}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == "False"
    finally:
        calendars.calendar_names.cache_clear()
