"""Central-bank decision tables: knowledge instants worked out by hand, filters, and error paths."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine import paths
from engine.errors import DataError
from engine.feeds.events import BANKS, load_decisions

FOMC_HEADER = "date,time,tz,target_low,target_high,change_bps,scheduled\n"
RBA_HEADER = "date,time,tz,cash_rate,change_bps,scheduled\n"


def _utc_ns(text: str) -> int:
    return pd.Timestamp(text, tz="UTC").value


def _known_at(dec, date: str) -> int:
    (pos,) = np.flatnonzero(dec.frame.index == pd.Timestamp(date))
    return int(dec.known_ns[pos])


@pytest.fixture(scope="module")
def fomc():
    return load_decisions("fomc")


@pytest.fixture(scope="module")
def rba():
    return load_decisions("rba")


# --------------------------------------------------------------------------- shipped tables


@pytest.mark.parametrize(
    ("date", "utc"),
    [
        # 14:00 EDT (UTC-4) on a September afternoon.
        ("2025-09-17", "2025-09-17 18:00"),
        # 14:15 EST (UTC-5): the move to the 0-0.25 % range.
        ("2008-12-16", "2008-12-16 19:15"),
        # First announced decision: 11:05 EST.
        ("1994-02-04", "1994-02-04 16:05"),
        # Pre-1994, no time: next NYSE open after the date. 1990-12-07 is a Friday, so Monday
        # 1990-12-10 09:30 EST = 14:30 UTC.
        ("1990-12-07", "1990-12-10 14:30"),
        # Friday 1990-07-13 -> Monday 1990-07-16 09:30 EDT = 13:30 UTC.
        ("1990-07-13", "1990-07-16 13:30"),
        # Thursday 1992-07-02 -> Friday 07-03 is the observed Independence Day holiday, so Monday
        # 1992-07-06 09:30 EDT = 13:30 UTC.
        ("1992-07-02", "1992-07-06 13:30"),
        # Friday 1992-09-04 -> Monday 09-07 is Labor Day, so Tuesday 1992-09-08 13:30 UTC.
        ("1992-09-04", "1992-09-08 13:30"),
    ],
)
def test_fomc_known_instants(fomc, date, utc):
    assert _known_at(fomc, date) == _utc_ns(utc)


@pytest.mark.parametrize(
    ("date", "utc"),
    [
        # 14:30 AEST (UTC+10) in August.
        ("2025-08-12", "2025-08-12 04:30"),
        # 14:30 AEDT (UTC+11): Sydney summer time.
        ("2011-11-01", "2011-11-01 03:30"),
        ("2008-12-02", "2008-12-02 03:30"),
        # 09:30 AEDT on a January morning is still the previous day in UTC.
        ("1990-01-23", "1990-01-22 22:30"),
    ],
)
def test_rba_known_instants(rba, date, utc):
    assert _known_at(rba, date) == _utc_ns(utc)


@pytest.mark.parametrize("bank", sorted(BANKS))
def test_shipped_table_shape(bank):
    dec = load_decisions(bank)
    raw = pd.read_csv(paths.events_dir() / f"{bank}.csv")
    assert dec.bank == bank
    assert dec.path == paths.events_dir() / f"{bank}.csv"
    assert len(dec.frame) == len(dec.known_ns) == len(raw)
    assert dec.known_ns.dtype == np.int64
    assert dec.frame.index.is_monotonic_increasing
    assert dec.frame["scheduled"].dtype == bool
    assert dec.frame["scheduled"].tolist() == raw["scheduled"].tolist()
    # An announcement is never known before its date begins in UTC-12, nor a week after.
    day0 = dec.frame.index.asi8
    assert (dec.known_ns > day0 - 14 * 3600 * 10**9).all()
    assert (dec.known_ns < day0 + 7 * 86_400 * 10**9).all()


def test_level_is_the_upper_bound_or_cash_rate(fomc, rba):
    assert fomc.level[pd.Timestamp("2008-12-16")] == 0.25
    assert fomc.level[pd.Timestamp("2025-09-17")] == 4.25
    assert rba.level[pd.Timestamp("2025-08-12")] == 3.60


@pytest.mark.parametrize("bank", sorted(BANKS))
def test_changes_split_cuts_and_hikes(bank):
    dec = load_decisions(bank)
    raw = pd.read_csv(paths.events_dir() / f"{bank}.csv")
    cuts, cut_ns = dec.changes(-1)
    hikes, hike_ns = dec.changes(+1)
    assert (cuts["change_bps"] < 0).all() and len(cuts) == (raw["change_bps"] < 0).sum() > 0
    assert (hikes["change_bps"] > 0).all() and len(hikes) == (raw["change_bps"] > 0).sum() > 0
    # The instants travel with their rows.
    pos = dec.frame.index.get_indexer(cuts.index)
    np.testing.assert_array_equal(cut_ns, dec.known_ns[pos])
    pos = dec.frame.index.get_indexer(hikes.index)
    np.testing.assert_array_equal(hike_ns, dec.known_ns[pos])


def test_fomc_2025_09_17_is_a_cut_and_1994_02_04_a_hike(fomc):
    cuts, _ = fomc.changes(-1)
    hikes, _ = fomc.changes(+1)
    assert pd.Timestamp("2025-09-17") in cuts.index
    assert pd.Timestamp("1994-02-04") not in cuts.index
    assert pd.Timestamp("1994-02-04") in hikes.index


def test_truncated_drops_decisions_known_at_or_after(fomc):
    t = _utc_ns("2025-09-17 18:00")  # exactly when the 2025-09-17 cut became known
    before = fomc.truncated(t)
    assert before.frame.index[-1] < pd.Timestamp("2025-09-17")
    assert (before.known_ns < t).all()
    assert len(before.frame) == (fomc.known_ns < t).sum() == len(before.known_ns)
    after = fomc.truncated(t + 1)
    assert after.frame.index[-1] == pd.Timestamp("2025-09-17")
    assert len(after.frame) == len(before.frame) + 1
    assert after.bank == "fomc" and after.path == fomc.path
    assert len(fomc.truncated(_utc_ns("1980-01-01")).frame) == 0


# --------------------------------------------------------------------------- tables in tmp_path


def _write(tmp_path, bank: str, body: str):
    path = tmp_path / f"{bank}.csv"
    path.write_text((FOMC_HEADER if bank == "fomc" else RBA_HEADER) + body, encoding="utf-8")
    return path


def test_small_fomc_table_from_a_folder(tmp_path):
    _write(
        tmp_path,
        "fomc",
        "1991-12-20,,America/New_York,4.00,4.00,-50,false\n"
        "2020-03-15,17:00,America/New_York,0.00,0.25,-100,false\n",
    )
    dec = load_decisions("fomc", tmp_path)
    # Friday 1991-12-20 -> Monday 1991-12-23 09:30 EST; Sunday 2020-03-15 17:00 EDT (DST began
    # 2020-03-08) = 21:00 UTC.
    np.testing.assert_array_equal(
        dec.known_ns, [_utc_ns("1991-12-23 14:30"), _utc_ns("2020-03-15 21:00")]
    )
    assert dec.frame["scheduled"].tolist() == [False, False]


def test_missing_table(tmp_path):
    with pytest.raises(DataError) as err:
        load_decisions("rba", tmp_path)
    assert str(tmp_path / "rba.csv") in str(err.value)


@pytest.mark.parametrize("bank", sorted(BANKS))
def test_wrong_columns(tmp_path, bank):
    path = tmp_path / f"{bank}.csv"
    path.write_text("date,rate\n2020-01-01,1.0\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        load_decisions(bank, tmp_path)
    msg = str(err.value)
    assert str(path) in msg and "['date', 'rate']" in msg and ",".join(BANKS[bank]) in msg


def test_bad_date(tmp_path):
    path = _write(
        tmp_path,
        "rba",
        "2020-01-07,14:30,Australia/Sydney,0.75,0,true\n"
        "2020-02-31,14:30,Australia/Sydney,0.75,0,true\n",
    )
    with pytest.raises(DataError) as err:
        load_decisions("rba", tmp_path)
    msg = str(err.value)
    assert str(path) in msg and "row 3" in msg and "'2020-02-31'" in msg and "YYYY-MM-DD" in msg


def test_descending_order(tmp_path):
    path = _write(
        tmp_path,
        "fomc",
        "2020-03-15,17:00,America/New_York,0.00,0.25,-100,false\n"
        "2020-03-03,10:00,America/New_York,1.00,1.25,-50,false\n",
    )
    with pytest.raises(DataError) as err:
        load_decisions("fomc", tmp_path)
    assert str(path) in str(err.value) and "ascending" in str(err.value)


def test_rba_row_without_time(tmp_path):
    # RBA decisions always had an announcement time; an empty one is a data-entry mistake.
    path = _write(
        tmp_path,
        "rba",
        "2020-02-04,14:30,Australia/Sydney,0.75,0,true\n"
        "2020-03-03,,Australia/Sydney,0.50,-25,true\n",
    )
    with pytest.raises(DataError) as err:
        load_decisions("rba", tmp_path)
    msg = str(err.value)
    assert "time" in msg
    # The message must name the file that was read (not just "rba.csv") and the offending row.
    assert str(path) in msg
    assert "row 3" in msg


def test_unparseable_time(tmp_path):
    path = _write(
        tmp_path,
        "rba",
        "2020-02-04,14:30,Australia/Sydney,0.75,0,true\n"
        "2020-03-03,2:30pm,Australia/Sydney,0.50,-25,true\n",
    )
    with pytest.raises(DataError) as err:
        load_decisions("rba", tmp_path)
    assert str(path) in str(err.value) and "'2:30pm'" in str(err.value)
