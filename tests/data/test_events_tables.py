"""Cross-checks of the policy-decision tables in data/events/ against the reference data.

data/events/fomc.csv and data/events/rba.csv are hand-maintained; these tests check their schema
and compare them with independent series kept read-only in ../shared/data (beside the repository
root). Tests that need that folder skip when it is absent; the schema tests always run.

Known quirks of the reference files (documented, not hidden):
* FRED DFEDTAR (single target, to 2008-12-15) changes on the FOMC announcement date itself, and
  so do DFEDTARU/L on 2015-12-16 and 2016-12-14; every other DFEDTARU/L change is dated the
  effective day (the day after the announcement; the Sunday 2020-03-15 cut shows on 2020-03-16).
  Hence "announcement = FRED date, or one calendar/business day before it".
* fomc_decisions_1991_2019.csv: times are written on a fixed UTC-4 clock (e.g. 30-Jan-19 "15:00"
  is 14:00 EST), and before March 2008 they are placeholders (14:00 for every 1991-2007 row,
  "14:15" for the 08:20 intermeeting cut of 22-Jan-08); the 30-Oct-19 and 11-Dec-19 rows have no
  values (the 30-Oct-19 cut is missing). Times are therefore compared from 2008-03-01 only.
* rba_cash_rate_meetings_1990_2020.csv lists EFFECTIVE dates. Before February 2008 the RBA
  announced at 9:30 am on the day the change took effect (so announcement == effective date);
  from February 2008 it announced at 2:30 pm on the Board-meeting day and the change took effect
  the next business day.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]
EVENTS = REPO / "data" / "events"
SHARED = REPO.parent / "shared" / "data"

FOMC_COLUMNS = ["date", "time", "tz", "target_low", "target_high", "change_bps", "scheduled"]
RBA_COLUMNS = ["date", "time", "tz", "cash_rate", "change_bps", "scheduled"]
FIRST_FOMC_STATEMENT = pd.Timestamp("1994-02-04")  # no announcements before this date
FOMC_RANGE_START = pd.Timestamp("2008-12-16")  # single target before, 25 bp range from here
FRED_END = pd.Timestamp("2026-08-21")  # last DFEDTARU/L observation in fred_rates_daily.csv
F1_LAST_TARGET = pd.Timestamp("2026-02-26")  # last F1 row with a cash-rate target
RBA_PM_START = pd.Timestamp("2008-02-01")  # 2:30 pm same-day announcements from Feb 2008

DAY = pd.Timedelta(days=1)
BDAY = pd.offsets.BDay(1)

TIME_RE = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
RATE_RE = re.compile(r"^\d{1,2}\.\d{2}$")
INT_RE = re.compile(r"^-?\d+$")


# --------------------------------------------------------------------------- loading


def _read_raw(name: str) -> pd.DataFrame:
    return pd.read_csv(EVENTS / name, dtype=str, keep_default_na=False)


def _typed(raw: pd.DataFrame, rate_cols: list[str]) -> pd.DataFrame:
    df = raw.copy()
    df["date"] = pd.to_datetime(df["date"], format="%Y-%m-%d")
    for c in rate_cols:
        df[c] = df[c].astype(float)
    df["change_bps"] = df["change_bps"].astype(int)
    df["scheduled"] = df["scheduled"].map({"true": True, "false": False})
    return df


@pytest.fixture(scope="module")
def fomc_raw() -> pd.DataFrame:
    return _read_raw("fomc.csv")


@pytest.fixture(scope="module")
def rba_raw() -> pd.DataFrame:
    return _read_raw("rba.csv")


@pytest.fixture(scope="module")
def fomc(fomc_raw) -> pd.DataFrame:
    return _typed(fomc_raw, ["target_low", "target_high"])


@pytest.fixture(scope="module")
def rba(rba_raw) -> pd.DataFrame:
    return _typed(rba_raw, ["cash_rate"])


@pytest.fixture(scope="module")
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"reference data folder {SHARED} is absent")
    return SHARED


def _report(problems: list[str], what: str) -> None:
    assert not problems, f"{len(problems)} {what}:\n" + "\n".join(problems[:40])


# --------------------------------------------------------------------------- 1. schema


def _check_common_schema(raw: pd.DataFrame, columns: list[str], tz: str, rate_cols: list[str]):
    assert list(raw.columns) == columns
    assert len(raw) > 0
    bad = [d for d in raw["date"] if not DATE_RE.match(d)]
    assert not bad, f"malformed dates: {bad[:10]}"
    dates = pd.to_datetime(raw["date"], format="%Y-%m-%d")  # raises if a date does not exist
    assert dates.is_unique, f"duplicate dates: {dates[dates.duplicated()].tolist()}"
    assert dates.is_monotonic_increasing, "dates are not sorted ascending"
    bad = sorted(set(raw["tz"]) - {tz})
    assert not bad, f"unexpected tz values {bad}"
    bad = sorted(set(raw["scheduled"]) - {"true", "false"})
    assert not bad, f"scheduled must be true/false, got {bad}"
    for c in rate_cols:
        bad = [v for v in raw[c] if not RATE_RE.match(v)]
        assert not bad, f"{c}: values must be percent with two decimals, got {bad[:10]}"
    bad = [v for v in raw["change_bps"] if not INT_RE.match(v)]
    assert not bad, f"change_bps must be an integer, got {bad[:10]}"
    bad = [
        (d, t) for d, t in zip(raw["date"], raw["time"], strict=True) if t and not TIME_RE.match(t)
    ]
    assert not bad, f"time must be HH:MM: {bad[:10]}"


def _check_change_bps(df: pd.DataFrame, level_col: str) -> None:
    expected = ((df[level_col] - df[level_col].shift()) * 100).round()
    problems = [
        f"{d.date()}: change_bps {c} but level moved {e:+.0f} bp"
        for d, c, e in zip(df["date"][1:], df["change_bps"][1:], expected[1:], strict=True)
        if c != e
    ]
    _report(problems, "rows whose change_bps disagrees with the previous row")


def _knowledge_times(df: pd.DataFrame, tz: str) -> pd.Series:
    """Announcement instants; rows without a time are taken at the end of their date."""
    t = df["time"].where(df["time"] != "", "23:59")
    local = pd.to_datetime(df["date"].dt.strftime("%Y-%m-%d") + " " + t, format="%Y-%m-%d %H:%M")
    return local.dt.tz_localize(tz, ambiguous="raise", nonexistent="raise")


def test_fomc_schema(fomc_raw, fomc):
    _check_common_schema(fomc_raw, FOMC_COLUMNS, "America/New_York", ["target_low", "target_high"])
    empty = fomc["time"] == ""
    pre = fomc["date"] < FIRST_FOMC_STATEMENT
    bad = fomc.loc[empty != pre, "date"].dt.date.tolist()
    assert not bad, f"time must be empty exactly for decisions before 1994-02-04: {bad}"
    assert (fomc["target_low"] <= fomc["target_high"]).all()
    single = fomc[fomc["date"] < FOMC_RANGE_START]
    ranged = fomc[fomc["date"] >= FOMC_RANGE_START]
    assert (single["target_low"] == single["target_high"]).all(), "single target before 2008-12-16"
    assert ((ranged["target_high"] - ranged["target_low"]).round(2) == 0.25).all()
    assert fomc["date"].iloc[0] >= pd.Timestamp("1990-01-01")
    assert fomc["date"].iloc[-1] <= FRED_END, "outcome after 2026-08-21 is unknown to the data"
    _check_change_bps(fomc, "target_high")
    assert _knowledge_times(fomc, "America/New_York").is_monotonic_increasing


def test_fomc_known_rows(fomc):
    """Spot checks of rows the brief spells out (independent of the reference files)."""
    idx = fomc.set_index(fomc["date"].dt.strftime("%Y-%m-%d"))
    expect = {
        "2001-01-03": ("13:13", 6.00, 6.00, -50, False),
        "2001-09-17": ("08:20", 3.00, 3.00, -50, False),
        "2008-01-22": ("08:20", 3.50, 3.50, -75, False),
        "2008-10-08": ("07:00", 1.50, 1.50, -50, False),
        "2008-12-16": ("14:15", 0.00, 0.25, -75, True),
        "2020-03-03": ("10:00", 1.00, 1.25, -50, False),
        "2020-03-15": ("17:00", 0.00, 0.25, -100, False),
        "2025-09-17": ("14:00", 4.00, 4.25, -25, True),
        "2025-10-29": ("14:00", 3.75, 4.00, -25, True),
        "2025-12-10": ("14:00", 3.50, 3.75, -25, True),
    }
    for d, (t, lo, hi, ch, sch) in expect.items():
        row = idx.loc[d]
        got = (
            row["time"],
            row["target_low"],
            row["target_high"],
            row["change_bps"],
            row["scheduled"],
        )
        assert got == (t, lo, hi, ch, sch), f"{d}: {got}"
    # every scheduled meeting from 1994-02-04 is present: 8 a year 1994-2019, and the
    # 2020 calendar lost its March meeting to the two emergency moves
    sched = fomc[fomc["scheduled"] & (fomc["date"] >= FIRST_FOMC_STATEMENT)]
    per_year = sched.groupby(sched["date"].dt.year).size()
    bad = {y: n for y, n in per_year.items() if y <= 2025 and n != (7 if y == 2020 else 8)}
    assert not bad, f"unexpected number of scheduled meetings: {bad}"


def test_rba_schema(rba_raw, rba):
    _check_common_schema(rba_raw, RBA_COLUMNS, "Australia/Sydney", ["cash_rate"])
    assert (rba["time"] != "").all(), "every RBA row needs a time"
    pre = rba["date"] < RBA_PM_START
    bad = rba.loc[pre & (rba["time"] != "09:30"), "date"].dt.date.tolist()
    assert not bad, f"pre-2008 announcements were at 09:30: {bad}"
    bad = rba.loc[~pre & (rba["time"] != "14:30"), "date"].dt.date.tolist()
    assert not bad, f"2008-onward announcements are at 14:30: {bad}"
    assert rba["date"].iloc[0] >= pd.Timestamp("1990-01-01")
    assert rba["date"].iloc[-1] <= F1_LAST_TARGET
    _check_change_bps(rba, "cash_rate")
    assert _knowledge_times(rba, "Australia/Sydney").is_monotonic_increasing


# --------------------------------------------------------------------------- 2. FOMC vs FRED


def _fred_target(shared: Path) -> pd.DataFrame:
    """Daily target (low, high): DFEDTAR to 2008-12-15, then DFEDTARL/DFEDTARU."""
    single = pd.read_csv(shared / "fred_dfedtar.csv")
    single["DATE"] = pd.to_datetime(single["DATE"], format="%m/%d/%Y")
    single = single.set_index("DATE")["DFEDTAR"].astype(float)
    rng = pd.read_csv(
        shared / "fred_rates_daily.csv",
        usecols=["date", "DFEDTARL", "DFEDTARU"],
        parse_dates=["date"],
    ).dropna()
    rng = rng.set_index("date").rename(columns={"DFEDTARL": "low", "DFEDTARU": "high"})
    assert single.index[-1] == FOMC_RANGE_START - DAY and rng.index[0] == FOMC_RANGE_START
    out = pd.concat([pd.DataFrame({"low": single, "high": single}), rng])
    assert out.index.is_unique and out.index.is_monotonic_increasing
    assert (out.index.to_series().diff().dropna() == DAY).all(), "FRED target has gaps"
    return out


def _changes(levels: pd.DataFrame, start: str) -> pd.DataFrame:
    moved = (levels.diff() != 0).any(axis=1)
    moved.iloc[0] = False
    return levels[moved & (levels.index >= start)]


def test_fomc_matches_fred_changes(fomc, shared):
    fred = _fred_target(shared)
    fred_chg = _changes(fred, "1990-01-01")
    moves = fomc[fomc["change_bps"] != 0]
    by_date = moves.set_index("date")

    problems = []
    for eff, lvl in fred_chg.iterrows():
        # announcement on the FRED date (DFEDTAR era, pre-1994 implementation dates) or the
        # calendar / business day before it (effective next day; Friday -> Monday; Sunday 2020)
        cands = [d for d in (eff, eff - DAY, eff - BDAY) if d in by_date.index]
        ok = [
            d
            for d in cands
            if by_date.loc[d, "target_high"] == lvl["high"]
            and by_date.loc[d, "target_low"] == lvl["low"]
        ]
        if not ok:
            problems.append(f"FRED change {eff.date()} to {lvl['low']}-{lvl['high']}: no decision")
    for ann, row in by_date.iterrows():
        cands = [d for d in (ann, ann + DAY, ann + BDAY) if d in fred_chg.index]
        ok = [
            d
            for d in cands
            if fred_chg.loc[d, "high"] == row["target_high"]
            and fred_chg.loc[d, "low"] == row["target_low"]
        ]
        if not ok:
            problems.append(f"decision {ann.date()} ({row['change_bps']:+d} bp) not in FRED")
    assert len(moves) == len(fred_chg), (len(moves), len(fred_chg))
    _report(problems, "mismatches between fomc.csv moves and FRED target changes")


def test_fomc_levels_match_fred(fomc, shared):
    fred = _fred_target(shared)
    problems = []
    for _, row in fomc.iterrows():
        probe = row["date"] + pd.Timedelta(days=3)
        lvl = fred.loc[probe]
        if (lvl["low"], lvl["high"]) != (row["target_low"], row["target_high"]):
            problems.append(
                f"{row['date'].date()}: table {row['target_low']}-{row['target_high']}, "
                f"FRED on {probe.date()} {lvl['low']}-{lvl['high']}"
            )
    _report(problems, "rows whose level differs from FRED three days later")


# --------------------------------------------------------------------------- 3. FOMC dates file


def test_fomc_dates_2015_2026(fomc, shared):
    ref = pd.read_csv(shared / "fomc_dates_2015_2026.csv", parse_dates=["decision_date"])
    lo, hi = pd.Timestamp("2015-01-01"), FRED_END
    ref = ref[(ref["decision_date"] >= lo) & (ref["decision_date"] <= hi)]
    assert set(ref["type"]) <= {"scheduled", "unscheduled"}
    ref_map = dict(zip(ref["decision_date"], ref["type"] == "scheduled", strict=True))
    ours = fomc[(fomc["date"] >= lo) & (fomc["date"] <= hi)]
    our_map = dict(zip(ours["date"], ours["scheduled"], strict=True))
    missing = sorted(d.date() for d in set(ref_map) - set(our_map))
    extra = sorted(d.date() for d in set(our_map) - set(ref_map))
    assert not missing and not extra, f"missing {missing}, extra {extra}"
    wrong = sorted(d.date() for d in ref_map if ref_map[d] != our_map[d])
    assert not wrong, f"scheduled flag differs from the file's type column: {wrong}"


# --------------------------------------------------------------------------- 4. decisions file


def _fomc_decisions(shared: Path) -> pd.DataFrame:
    ref = pd.read_csv(shared / "fomc_decisions_1991_2019.csv", dtype={"Time": str})
    ref["date"] = pd.to_datetime(ref["Release Date"], format="%d-%b-%y")
    assert ref["date"].is_monotonic_decreasing
    return ref.iloc[::-1].reset_index(drop=True)


def test_fomc_matches_decisions_file(fomc, shared):
    ref = _fomc_decisions(shared)
    ours = fomc.set_index("date")
    problems, shifted = [], []
    for _, r in ref.dropna(subset=["Actual"]).iterrows():
        d = r["date"]
        if d not in ours.index and d < FIRST_FOMC_STATEMENT:
            near = [x for x in (d - DAY, d + DAY) if x in ours.index]
            if near:
                shifted.append(f"{d.date()} -> {near[0].date()}")
                d = near[0]
        if d not in ours.index:
            problems.append(f"{r['Release Date']}: no decision on that date")
            continue
        row = ours.loc[d]
        actual = round(r["Actual"] * 100, 4)
        previous = round(r["Previous"] * 100, 4)
        change = round(r["Change"] * 10000)
        if row["target_high"] != actual or row["change_bps"] != change:
            problems.append(
                f"{r['Release Date']}: file {actual} ({change:+d} bp), "
                f"table {row['target_high']} ({row['change_bps']:+d} bp)"
            )
        if round(row["target_high"] - row["change_bps"] / 100, 4) != previous:
            problems.append(f"{r['Release Date']}: previous level {previous} disagrees")
    if shifted:  # none today; pre-1994 dates may legitimately differ by one day
        print("pre-1994 rows matched one day apart:", ", ".join(shifted))
    _report(problems, "mismatches with fomc_decisions_1991_2019.csv")


def test_fomc_decisions_file_meetings_and_times(fomc, shared):
    """From 2006-08-08 the file lists every decision; from 2008-03 its times are usable."""
    ref = _fomc_decisions(shared)
    lo, hi = pd.Timestamp("2006-08-08"), pd.Timestamp("2019-12-11")
    ours = fomc[(fomc["date"] >= lo) & (fomc["date"] <= hi)]
    missing = sorted(d.date() for d in set(ref["date"][ref["date"] >= lo]) - set(ours["date"]))
    extra = sorted(d.date() for d in set(ours["date"]) - set(ref["date"]))
    assert not missing and not extra, f"missing {missing}, extra {extra}"

    timed = ref[ref["date"] >= pd.Timestamp("2008-03-01")]
    stamp = pd.to_datetime(
        timed["date"].dt.strftime("%Y-%m-%d") + " " + timed["Time"], format="%Y-%m-%d %H:%M"
    )
    # the file's clock is a fixed UTC-4 (EDT all year)
    local = (stamp.dt.tz_localize("Etc/GMT+4").dt.tz_convert("America/New_York")).dt.strftime(
        "%H:%M"
    )
    our_time = fomc.set_index("date")["time"]
    problems = [
        f"{d.date()}: file {t} -> {loc} ET, table {our_time[d]}"
        for d, t, loc in zip(timed["date"], timed["Time"], local, strict=True)
        if our_time[d] != loc
    ]
    _report(problems, "statement times that differ from fomc_decisions_1991_2019.csv")


# --------------------------------------------------------------------------- 5. RBA


def _expected_announcement(effective: pd.Timestamp) -> pd.Timestamp:
    return effective if effective < RBA_PM_START else effective - BDAY


def test_rba_matches_meetings_table(rba, shared):
    ref = pd.read_csv(shared / "rba_cash_rate_meetings_1990_2020.csv")
    ref["eff"] = pd.to_datetime(ref["effective_date"], format="%m/%d/%y")
    assert ref["eff"].is_monotonic_decreasing
    ref = ref.iloc[::-1].reset_index(drop=True)
    ours = rba.set_index("date")

    problems, matched = [], set()
    for _, r in ref.iterrows():
        ann = _expected_announcement(r["eff"])
        if ann not in ours.index:
            problems.append(f"reference {r['eff'].date()}: no row on {ann.date()}")
            continue
        matched.add(ann)
        row = ours.loc[ann]
        if row["cash_rate"] != r["cash_rate_target"]:
            problems.append(f"{ann.date()}: {row['cash_rate']} vs {r['cash_rate_target']}")
        if row["change_bps"] != round(r["change_points"] * 100):
            problems.append(f"{ann.date()}: {row['change_bps']:+d} bp vs {r['change_points']}")
    # conversely, inside the reference's span the table has no rows the reference lacks
    span = (rba["date"] >= _expected_announcement(ref["eff"].iloc[0])) & (
        rba["date"] <= _expected_announcement(ref["eff"].iloc[-1])
    )
    extra = sorted(d.date() for d in set(rba.loc[span, "date"]) - matched)
    if extra:
        problems.append(f"rows absent from the reference: {extra}")
    _report(problems, "mismatches with rba_cash_rate_meetings_1990_2020.csv")


def _f1(shared: Path) -> pd.DataFrame:
    f1 = pd.read_csv(
        shared / "rba_f1_cash_rate_daily.csv",
        skiprows=11,
        header=None,
        usecols=[0, 1, 2],
        encoding="utf-8-sig",
    )
    f1.columns = ["date", "target", "change"]
    f1["date"] = pd.to_datetime(f1["date"], format="%d-%b-%Y")
    return f1.set_index("date")


def test_rba_matches_f1(rba, shared):
    f1 = _f1(shared)
    level = f1["target"].dropna()
    assert level.index[-1] == F1_LAST_TARGET
    moved = level.diff().fillna(0) != 0
    chg = level[moved]
    # the "change" column is filled exactly on the days the level moves
    assert list(f1["change"].dropna().index) == list(chg.index)
    ours = rba.set_index("date")

    problems = []
    for eff, new in chg.items():
        ann = eff - BDAY
        if ann not in ours.index:
            problems.append(f"F1 change {eff.date()} to {new}: no decision on {ann.date()}")
            continue
        row = ours.loc[ann]
        if row["cash_rate"] != new or row["change_bps"] != round(f1.loc[eff, "change"] * 100):
            problems.append(f"{ann.date()}: table {row['cash_rate']} ({row['change_bps']:+d})")
    window = rba[(rba["date"] >= level.index[0]) & (rba["date"] < F1_LAST_TARGET)]
    for _, row in window[window["change_bps"] != 0].iterrows():
        if row["date"] + BDAY not in chg.index:
            problems.append(f"decision {row['date'].date()} has no F1 change next business day")
    # level in force after each announcement (first F1 day after it)
    for _, row in window.iterrows():
        after = level[level.index > row["date"]]
        if after.iloc[0] != row["cash_rate"]:
            problems.append(f"{row['date'].date()}: {row['cash_rate']} vs F1 {after.iloc[0]}")
    _report(problems, "mismatches with RBA F1 daily table")


def test_rba_known_rows(rba):
    idx = rba.set_index(rba["date"].dt.strftime("%Y-%m-%d"))
    expect = {
        "1990-08-02": (14.00, -100, False),
        "2007-12-05": (6.75, 0, True),
        "2008-02-05": (7.00, 25, True),
        "2020-03-19": (0.25, -25, False),
        "2020-11-03": (0.10, -15, True),
        "2025-08-12": (3.60, -25, True),
        "2026-02-03": (3.85, 25, True),
    }
    for d, want in expect.items():
        row = idx.loc[d]
        assert (row["cash_rate"], row["change_bps"], row["scheduled"]) == want, d
    # 2008 onward: announcements on the Board-meeting day (Tuesdays, except 2020-03-19 Thursday)
    late = rba[rba["date"] >= RBA_PM_START]
    not_tue = late.loc[late["date"].dt.day_of_week != 1, "date"].dt.strftime("%Y-%m-%d").tolist()
    assert not_tue == ["2020-03-19"], not_tue
    # Board meetings: 11 a year (none in January) 2008-2023 plus the unscheduled 2020-03-19
    # decision, 8 a year from 2024 (F1 cannot show no-change meetings, so count them here)
    per_year = late.groupby(late["date"].dt.year).size()
    want = {y: (12 if y == 2020 else 11 if y <= 2023 else 8) for y in range(2008, 2026)}
    bad = {y: n for y, n in per_year.items() if y in want and n != want[y]}
    assert not bad, f"unexpected number of RBA decisions: {bad}"
