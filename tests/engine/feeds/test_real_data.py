"""The real series in ``../shared/data``, read as they were saved (Yahoo, FRED, RBA, ETF exports).

A data folder is assembled in a temp dir from byte-for-byte copies of the raw files (nothing is
committed), with an ``instruments.toml`` mapping the two keys no raw file covers as published: XSO
(no small-caps index file reaches 2025; the All Ordinaries stands in) and AUDUSD (FRED's noon New
York rate, because Yahoo's file has a bad tick that the validator refuses, see below). Then the
record closes and Fed cuts must line up with the dates in ``SOURCES.md``. Skipped where
``../shared/data`` is absent.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.errors import DataError
from engine.feeds import calendars
from engine.feeds.events import load_decisions
from engine.feeds.instruments import load_instruments
from engine.feeds.marketdata import load_folder
from engine.feeds.validate import validate_file
from tests.realdata import index_folder

SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "data"
RAW = {
    "RUT": "rut_daily_yahoo.csv",  # Yahoo: Date,Close,High,Low,Open,Volume
    "XJO": "axjo_2011_2025.csv",  # plain date,open,high,low,close,volume
    "XSO": "aord_2011_2025.csv",  # All Ordinaries standing in for the Small Ordinaries
    "AUDUSD": "fred_dexusal_2000_2024.csv",  # FRED observation_date,DEXUSAL with blanks
    "FED_TARGET": "fred_rates_daily.csv",  # FRED combined: the DFEDTARU column
    "US10Y": "fred_rates_daily.csv",  # ... and the DGS10 column
    "RBA_CASH": "rba_f1_cash_rate_daily.csv",  # RBA table F1: BOM and 11 metadata lines
}
INST = load_instruments()

pytestmark = pytest.mark.skipif(
    not all((SHARED / name).is_file() for name in RAW.values()),
    reason=f"real data folder {SHARED} is absent (it sits beside the repository)",
)


def _utc(text: str) -> int:
    return pd.Timestamp(text, tz="UTC").value


@pytest.fixture(scope="module")
def real_folder(tmp_path_factory) -> Path:
    return index_folder(tmp_path_factory.mktemp("real"))


@pytest.fixture(scope="module")
def market(real_folder):
    return load_folder(real_folder, list(RAW))


@pytest.mark.parametrize(
    ("key", "first", "last", "rows"),
    [
        ("RUT", "1987-09-10", "2026-02-23", 9686),
        ("XJO", "2011-01-04", "2025-12-30", 3784),
        ("XSO", "2011-01-04", "2025-12-30", 3789),
        ("AUDUSD", "2000-01-03", "2024-12-31", 6522 - 254),  # blank US holidays skipped
        ("FED_TARGET", "2008-12-16", "2026-08-21", None),
        ("US10Y", "1962-01-02", "2026-08-20", None),
        ("RBA_CASH", "2011-01-04", "2026-02-26", 3834),  # 27-Feb-2026 has no cash rate yet
    ],
)
def test_every_flagship_series_loads_from_the_file_as_saved(market, key, first, last, rows):
    s = market[key]
    assert (str(s.frame.index[0].date()), str(s.frame.index[-1].date())) == (first, last)
    if rows is not None:
        assert len(s.frame) == rows
    assert np.isfinite(s.values.to_numpy()).all()
    assert (np.diff(s.known_ns) >= 0).all()


def test_warnings_are_noted_not_fatal(market):
    assert any(n.startswith("XJO.csv:") and "warning" in n for n in market.notes)


def test_russell_record_closes_line_up_with_sources(market):
    close = market["RUT"].values
    assert close["2021-11-08"] == pytest.approx(2442.74, abs=0.005)
    assert close["2025-09-17"] == pytest.approx(2407.34, abs=0.005)
    assert close["2025-09-18"] == pytest.approx(2467.70, abs=0.005)
    record = close > close.cummax().shift(1)
    records = close.index[record.to_numpy()]
    assert pd.Timestamp("2021-11-08") in records
    assert records[records > "2021-11-08"][0] == pd.Timestamp("2025-09-18")


def test_fed_cut_of_2025_09_17_in_the_events_table_and_in_fred(market):
    fomc = load_decisions("fomc")
    cuts, known = fomc.changes(-1)
    pos = cuts.index.get_loc(pd.Timestamp("2025-09-17"))
    assert known[pos] == _utc("2025-09-17 18:00")  # 14:00 EDT
    assert cuts.iloc[pos]["target_high"] == 4.25
    # FRED dates the new range on its effective day, one day later, and is known a day after that.
    fed = market["FED_TARGET"]
    assert fed.values["2025-09-17":"2025-09-18"].tolist() == [4.5, 4.25]
    row = fed.frame.index.get_loc(pd.Timestamp("2025-09-18"))
    assert fed.known_ns[row] == _utc("2025-09-20 04:00")  # end of 2025-09-19 EDT
    steps = fed.values[fed.values.diff() < 0]
    assert [str(d.date()) for d in steps["2025"].index] == [
        "2025-09-18",
        "2025-10-30",
        "2025-12-11",
    ]


def test_every_fred_target_change_follows_an_fomc_announcement(market):
    fed = market["FED_TARGET"]
    fomc = load_decisions("fomc")
    changed = np.flatnonzero(np.diff(fed.values.to_numpy()) != 0) + 1
    assert len(changed) >= 30
    for i in changed:
        day, level = fed.frame.index[i], fed.values.iloc[i]
        j = fomc.frame.index.searchsorted(day, side="right") - 1
        decided = fomc.frame.index[j]
        # FRED's effective day is the announcement day or the next (2015-12 and 2016-12: same day).
        assert (day - decided).days in (0, 1), day
        assert fomc.frame["target_high"].iloc[j] == level, day
        assert fed.known_ns[i] > fomc.known_ns[j], day  # the table, not FRED, is the timely source


def test_the_record_is_known_after_the_cut_and_traded_at_the_next_asx_open(market):
    rut = market["RUT"]
    known = rut.known_ns[rut.frame.index.get_loc(pd.Timestamp("2025-09-18"))]
    assert known == _utc("2025-09-18 20:00")  # 16:00 EDT
    assert known > _utc("2025-09-17 18:00")  # after the cut announcement
    asx = calendars.sessions("XASX")
    nxt = np.searchsorted(asx.open_ns, known, side="right")
    assert str(asx.labels[nxt].date()) == "2025-09-19"
    assert asx.open_ns[nxt] == _utc("2025-09-19 00:00")  # 10:00 AEST


def test_the_flagship_runs_on_the_real_files(real_folder, tmp_path):
    import json

    from typer.testing import CliRunner

    from engine.cli.main import app

    args = ["run", "russell-fed-rotation", "--data-dir", str(real_folder), "--out", str(tmp_path)]
    result = CliRunner().invoke(app, [*args, "--quiet"])
    assert result.exit_code == 2, result.output  # the index opens are stale: open fills refused
    assert "--fill close" in result.output and not list(tmp_path.iterdir())
    result = CliRunner().invoke(app, [*args, "--quiet", "--fill", "close"])
    assert result.exit_code == 0, result.output
    folder = Path(result.output.strip())
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["data"] == "user data"
    assert summary["fill_sensitivity"]["stale_open_share"]["XSO"] > 0.8


# --------------------------------------------------------------------------- other raw layouts


def test_yahoo_audusd_bad_tick_is_refused(tmp_path):
    report = validate_file(SHARED / "audusd_daily_yahoo.csv", INST["AUDUSD"])
    errors = [p for p in report.problems if p.severity == "error"]
    assert [(p.check, p.row, p.column) for p in errors] == [
        ("jump", 161, "Close"),
        ("jump", 161, "High"),
        ("jump", 162, "Close"),
        ("jump", 162, "Open"),  # 2006-12-26: open = high = 4.57 next to the bad close
        ("jump", 162, "High"),
    ]
    assert "0.783515 -> 4.56997" in str(errors[0]) and "bad tick" in str(errors[0])
    weekends = [p.value for p in report.problems if p.check == "weekend"]
    assert weekends == ["2026-02-15", "2026-02-21"]
    shutil.copyfile(SHARED / "audusd_daily_yahoo.csv", tmp_path / "AUDUSD.csv")
    with pytest.raises(DataError, match=r"AUDUSD.csv: row 161, column Close: 0.783515 -> 4.56997"):
        load_folder(tmp_path, ["AUDUSD"])


def _inst(key: str, **changes):
    return dataclasses.replace(INST[key], **changes)


@pytest.mark.parametrize(
    ("name", "inst", "layout", "first", "last", "rows"),
    [
        ("fred_dfedtar.csv", _inst("FED_TARGET"), "fred", "1982-09-27", "2008-12-15", 9577),
        (
            "iso_ax_daily.csv",
            _inst("XSO", kind="etf", name="iShares Small Ords ETF"),
            "yahoo",
            "2010-12-09",
            "2025-01-17",
            3569,
        ),
        ("tnx_daily_yahoo.csv", _inst("US10Y"), "yahoo", "2001-01-02", "2026-02-13", 6311),
        (
            "rba_cash_rate_meetings_1990_2020.csv",
            _inst("RBA_CASH", column="cash_rate_target"),
            "export",
            "1990-08-02",
            "2020-04-08",
            332,
        ),
    ],
)
def test_raw_layouts_read_cleanly(name, inst, layout, first, last, rows):
    report = validate_file(SHARED / name, inst)
    assert [str(p) for p in report.problems if p.severity == "error"] == []
    t = report.table
    assert t.layout == layout and len(t.frame) == rows
    assert (str(t.dates.min().date()), str(t.dates.max().date())) == (first, last)


def test_yahoo_index_with_null_rows_and_holiday_rows():
    report = validate_file(SHARED / "axjo_daily_1992_2019.csv", INST["XJO"])
    assert report.table.skipped == 99
    off = [p.value for p in report.problems if p.check == "off_calendar"]
    assert off == ["2004-04-12", "2004-06-14", "2004-12-27", "2004-12-28"]


def test_fomc_table_in_fractions_is_detected():
    inst = _inst("FED_TARGET", column="Actual")
    report = validate_file(SHARED / "fomc_decisions_1991_2019.csv", inst)
    (units,) = [p for p in report.problems if p.check == "units"]
    assert units.severity == "error" and "looks like a fraction" in str(units)
    assert any("newest first" in p.message for p in report.problems)
