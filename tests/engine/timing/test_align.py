"""The time contract: ``engine.timing.align`` by hand, and the knowledge instants it is fed.

Hand-worked cases for ``asof_index``/``asof`` (strictly before: a value known exactly at the decision
instant is not visible) and ``count_since_previous``; then the knowledge instants that
``engine.feeds.calendars`` and ``engine.feeds.events`` stamp on real dates where US and Australian clocks
disagree (daylight saving), on early closes, on holidays of one market only, and for the pre-1994
FOMC and FRED-style "D+1 24:00" rules. Every expected instant below was worked out by hand from
the exchanges' hours and the time-zone rules, not read back from the code.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.errors import DataError
from engine.feeds import calendars
from engine.feeds.events import load_decisions
from engine.feeds.instruments import get_instrument, load_instruments
from engine.feeds.marketdata import MarketData, load_folder
from engine.timing import align

HOUR_NS = 3_600 * 10**9


def utc(text: str) -> int:
    """int64 ns of a UTC wall-clock instant."""
    return pd.Timestamp(text, tz="UTC").value


def known(key: str, *dates: str) -> np.ndarray:
    inst = get_instrument(load_instruments(), key)
    return calendars.knowledge_instants(inst, pd.DatetimeIndex(dates), f"{key}.csv")


def session(code: str, date: str) -> tuple[int, int]:
    """(open_ns, close_ns) of the ``code`` session labelled ``date``."""
    s = calendars.sessions(code)
    i = s.labels.get_loc(pd.Timestamp(date))
    return int(s.open_ns[i]), int(s.close_ns[i])


def next_session_after(code: str, instant_ns: int) -> str:
    """Label of the first ``code`` session whose open is strictly after ``instant_ns``."""
    s = calendars.sessions(code)
    return str(s.labels[np.searchsorted(s.open_ns, instant_ns, side="right")].date())


def asx_context(first: str, last: str) -> align.Context:
    empty = MarketData(folder=None, series={})  # decision tables and points only
    return align.build_context(empty, "XASX", pd.Timestamp(first), pd.Timestamp(last))


# --- asof / asof_index ---------------------------------------------------------------------------


def test_asof_index_is_strictly_before_the_decision():
    known_ns = np.array([10, 20, 30], dtype=np.int64)
    decisions = np.array([5, 10, 11, 20, 29, 30, 31], dtype=np.int64)
    # known at 10 is not visible at 10, visible at 11; likewise 20 and 30.
    assert align.asof_index(known_ns, decisions).tolist() == [-1, -1, 0, 0, 1, 1, 2]


def test_asof_index_with_ties_takes_the_last_observation_known_before():
    known_ns = np.array([10, 10, 20], dtype=np.int64)
    assert align.asof_index(known_ns, np.array([10, 11], dtype=np.int64)).tolist() == [-1, 1]


def test_asof_values_are_nan_before_the_first_observation():
    values = np.array([1.5, 2.5, 3.5])
    known_ns = np.array([10, 20, 30], dtype=np.int64)
    out = align.asof(values, known_ns, np.array([9, 10, 15, 20, 100], dtype=np.int64))
    np.testing.assert_array_equal(out, [np.nan, np.nan, 1.5, 1.5, 3.5])
    assert out.dtype == np.float64


def test_asof_with_no_observations_is_all_nan():
    # A truncated context can leave a series with no rows; asof must then say "unknown", not crash.
    out = align.asof(np.array([]), np.array([], dtype=np.int64), np.array([1, 2], dtype=np.int64))
    assert np.isnan(out).all() and out.shape == (2,)


# --- count_since_previous ------------------------------------------------------------------------


def test_two_events_between_two_decisions_count_two():
    flags = np.array([False, True, True, False])
    known_ns = np.array([12, 13, 17, 19], dtype=np.int64)
    decisions = np.array([10, 20, 30], dtype=np.int64)
    assert align.count_since_previous(flags, known_ns, decisions).tolist() == [0, 2, 0]


def test_events_before_the_first_decision_all_land_on_the_first():
    flags = np.array([True, True, False, True, True])
    known_ns = np.array([1, 2, 3, 15, 25], dtype=np.int64)
    decisions = np.array([10, 20, 30], dtype=np.int64)
    assert align.count_since_previous(flags, known_ns, decisions).tolist() == [2, 1, 1]


def test_an_event_known_at_a_decision_instant_counts_at_the_next_one():
    flags = np.array([True, True])
    known_ns = np.array([10, 20], dtype=np.int64)
    decisions = np.array([10, 20, 30], dtype=np.int64)
    assert align.count_since_previous(flags, known_ns, decisions).tolist() == [0, 1, 1]


def test_count_since_previous_matches_a_slow_loop():
    rng = np.random.default_rng(7)
    known_ns = np.sort(rng.integers(0, 1000, 200)).astype(np.int64)
    flags = rng.random(200) < 0.3
    decisions = np.sort(rng.choice(np.arange(1, 1000), 40, replace=False)).astype(np.int64)
    counts = align.count_since_previous(flags, known_ns, decisions)
    slow, previous = [], -1
    for d in decisions:
        slow.append(int(sum(f for f, k in zip(flags, known_ns, strict=True) if previous <= k < d)))
        previous = d
    assert counts.tolist() == slow


def test_context_truncated_keeps_decision_points_and_drops_data_known_at_or_after(tmp_path):
    pd.DataFrame(
        {
            "date": ["2024-07-01", "2024-07-02", "2024-07-03"],
            "open": [1.0, 2.0, 3.0],  # flat bars: an open far from both closes is refused
            "high": [1.0, 2.0, 3.0],
            "low": [1.0, 2.0, 3.0],
            "close": [1.0, 2.0, 3.0],
        }
    ).to_csv(tmp_path / "RUT.csv", index=False)
    ctx = align.build_context(
        load_folder(tmp_path, ["RUT"]),
        "XASX",
        pd.Timestamp("2024-07-01"),
        pd.Timestamp("2024-07-05"),
    )
    cut = ctx.truncated(known("RUT", "2024-07-02")[0])  # exactly the 07-02 close
    assert list(cut.market["RUT"].frame.index.strftime("%Y-%m-%d")) == ["2024-07-01"]
    np.testing.assert_array_equal(cut.decision_ns, ctx.decision_ns)
    assert (cut.fomc.known_ns < known("RUT", "2024-07-02")[0]).all()


# --- knowledge instants across time zones --------------------------------------------------------

# US date D, NYSE close (UTC), next ASX session, its open (UTC), hours from one to the other.
DST_CASES = [
    # US on EDT since 2024-03-10, Sydney still on AEDT (until 2024-04-07): 16:00-4 vs 10:00+11
    ("2024-03-11", "2024-03-11 20:00", "2024-03-12", "2024-03-11 23:00", 3),
    # US on EDT, Sydney back on AEST since 2024-04-07: 16:00-4 vs 10:00+10
    ("2024-04-08", "2024-04-08 20:00", "2024-04-09", "2024-04-09 00:00", 4),
    # Sydney on AEDT since 2024-10-06, US still on EDT (until 2024-11-03): 16:00-4 vs 10:00+11
    ("2024-10-07", "2024-10-07 20:00", "2024-10-08", "2024-10-07 23:00", 3),
    # US back on EST since 2024-11-03, Sydney on AEDT: 16:00-5 vs 10:00+11
    ("2024-11-04", "2024-11-04 21:00", "2024-11-05", "2024-11-04 23:00", 2),
]


@pytest.mark.parametrize("us_date,close_utc,asx_date,open_utc,gap_h", DST_CASES)
def test_russell_close_is_visible_at_the_next_asx_open_across_dst(
    us_date, close_utc, asx_date, open_utc, gap_h
):
    close_ns = int(known("RUT", us_date)[0])
    assert close_ns == utc(close_utc)
    assert next_session_after("XASX", close_ns) == asx_date
    open_ns = session("XASX", asx_date)[0]
    assert open_ns == utc(open_utc)
    assert close_ns < open_ns, f"RUT close {us_date} must be known before ASX open {asx_date}"
    assert open_ns - close_ns == gap_h * HOUR_NS, (
        f"{us_date}: expected {gap_h} h from the NYSE close to the ASX open, got "
        f"{(open_ns - close_ns) / HOUR_NS} h"
    )
    rut_known = known("RUT", us_date)
    idx = align.asof_index(rut_known, np.array([open_ns], dtype=np.int64))
    assert idx.tolist() == [0], f"{us_date} close should be the last one seen at {asx_date} open"
    # The ASX session on the same Sydney date opened before the US close: it cannot see it.
    same_day = session("XASX", us_date)[0]
    assert same_day < close_ns


def test_asx_early_close_is_known_earlier():
    # 2024-12-24: ASX closes at 14:10 AEDT (03:10 UTC) instead of 16:00 (05:00 UTC).
    xso = known("XSO", "2024-12-23", "2024-12-24")
    assert xso.tolist() == [utc("2024-12-23 05:00"), utc("2024-12-24 03:10")]
    assert session("XASX", "2024-12-24")[1] == utc("2024-12-24 03:10")
    # A decision at 14:30 Sydney that day sees the early close; one at 14:00 does not.
    at = np.array([utc("2024-12-24 03:30"), utc("2024-12-24 03:00")], dtype=np.int64)
    assert align.asof_index(xso, at).tolist() == [1, 0]


def test_us_holiday_with_asx_open_sees_the_previous_us_close(tmp_path):
    with pytest.raises(DataError, match="2024-07-04.*not a XNYS session"):
        known("RUT", "2024-07-04")
    dates = ["2024-07-01", "2024-07-02", "2024-07-03", "2024-07-05", "2024-07-08"]
    closes = [1.0, 2.0, 3.0, 5.0, 8.0]  # flat bars: a high 9x the close is a bad tick (refused)
    pd.DataFrame(
        {"date": dates, "open": closes, "high": closes, "low": closes, "close": closes}
    ).to_csv(tmp_path / "RUT.csv", index=False)
    market = load_folder(tmp_path, ["RUT"])
    rut = market["RUT"]
    # 2024-07-03 is an NYSE early close: 13:00 EDT = 17:00 UTC.
    assert rut.known_ns[2] == utc("2024-07-03 17:00")
    ctx = align.build_context(
        market, "XASX", pd.Timestamp("2024-07-02"), pd.Timestamp("2024-07-09")
    )
    labels = list(ctx.labels.strftime("%Y-%m-%d"))
    assert labels == [
        "2024-07-02",
        "2024-07-03",
        "2024-07-04",
        "2024-07-05",
        "2024-07-08",
        "2024-07-09",
    ]
    seen = ctx.asof(rut.values.to_numpy(), rut.known_ns)
    # ASX 07-04 and 07-05 both see the 07-03 close (no US session on 07-04); 07-08 sees 07-05.
    assert dict(zip(labels, seen.tolist(), strict=True)) == {
        "2024-07-02": 1.0,
        "2024-07-03": 2.0,
        "2024-07-04": 3.0,
        "2024-07-05": 3.0,
        "2024-07-08": 5.0,
        "2024-07-09": 8.0,
    }
    # An event flagged on the 07-03 close is counted once, at ASX 07-04, not again on 07-05.
    flags = np.array([False, False, True, False, False])
    assert ctx.count(flags, rut.known_ns).tolist() == [0, 0, 1, 0, 0, 0]


def test_fomc_decision_when_the_asx_is_shut_lands_on_the_next_asx_session():
    # 2022-09-21 +75 bp at 14:00 EDT = 18:00 UTC = 04:00 AEST on 2022-09-22, the National Day of
    # Mourning (ASX shut); the first ASX decision that sees it is the 2022-09-23 open.
    ctx = asx_context("2022-09-19", "2022-09-27")
    frame, hike_ns = ctx.fomc.changes(+1)
    pos = frame.index.get_loc(pd.Timestamp("2022-09-21"))
    assert hike_ns[pos] == utc("2022-09-21 18:00")
    labels = list(ctx.labels.strftime("%Y-%m-%d"))
    assert "2022-09-22" not in labels
    counts = dict(
        zip(labels, ctx.count(np.ones(len(hike_ns), bool), hike_ns).tolist(), strict=True)
    )
    assert counts["2022-09-23"] == 1, counts
    assert sum(counts.values()) == 1 + counts["2022-09-19"], counts  # 09-19 holds all earlier


def test_sunday_fomc_cut_is_seen_at_the_monday_asx_open():
    # 2020-03-15 (Sunday) -100 bp at 17:00 EDT = 21:00 UTC; ASX Monday opens 10:00 AEDT = 23:00 UTC.
    ctx = asx_context("2020-03-12", "2020-03-18")
    frame, cut_ns = ctx.fomc.changes(-1)
    pos = frame.index.get_loc(pd.Timestamp("2020-03-15"))
    assert cut_ns[pos] == utc("2020-03-15 21:00")
    seen = dict(
        zip(ctx.labels.strftime("%Y-%m-%d"), align.asof_index(cut_ns, ctx.decision_ns), strict=True)
    )
    assert seen["2020-03-13"] == pos - 1 and seen["2020-03-16"] == pos, seen


def test_pre_1994_fomc_move_is_known_at_the_next_nyse_open():
    fomc = load_decisions("fomc")
    for date, expected in [
        ("1990-07-13", "1990-07-16 13:30"),  # Friday -> Monday 09:30 EDT
        ("1991-10-31", "1991-11-01 14:30"),  # Thursday -> Friday 09:30 EST
    ]:
        pos = fomc.frame.index.get_loc(pd.Timestamp(date))
        assert pd.isna(fomc.frame["time"].iloc[pos])
        assert fomc.known_ns[pos] == utc(expected), date
        nyse = calendars.sessions("XNYS").labels
        next_day = nyse[nyse.searchsorted(pd.Timestamp(date), side="right")]
        assert fomc.known_ns[pos] == session("XNYS", str(next_day.date()))[0]


def test_first_timed_fomc_statement_uses_its_own_time():
    fomc = load_decisions("fomc")
    pos = fomc.frame.index.get_loc(pd.Timestamp("1994-02-04"))
    assert fomc.known_ns[pos] == utc("1994-02-04 16:05")  # 11:05 EST


@pytest.mark.parametrize(
    "key,date,expected,why",
    [
        ("FED_TARGET", "2025-09-19", "2025-09-21 04:00", "Friday -> Sunday 00:00 EDT"),
        ("FED_TARGET", "2024-12-20", "2024-12-22 05:00", "Friday -> Sunday 00:00 EST"),
        # The 2025-09-17 cut, dated by FRED on its effective day 2025-09-18 -> Saturday 00:00 EDT.
        ("FED_TARGET", "2025-09-18", "2025-09-20 04:00", "Thursday -> Saturday 00:00 EDT"),
        # Sydney leaves AEST on 2025-10-05: D+2 00:00 on 2025-10-02 is still +10.
        ("RBA_CASH", "2025-09-30", "2025-10-01 14:00", "Tuesday -> Thursday 00:00 AEST"),
        ("RBA_CASH", "2025-10-06", "2025-10-07 13:00", "Monday -> Wednesday 00:00 AEDT"),
    ],
)
def test_fred_style_rate_is_known_at_the_end_of_the_next_day(key, date, expected, why):
    assert get_instrument(load_instruments(), key).known.lag_days == 1
    assert int(known(key, date)[0]) == utc(expected), why


def test_fed_target_after_a_cut_reaches_the_asx_after_the_weekend():
    fed_known = known("FED_TARGET", "2025-09-18")  # Saturday 2025-09-20 04:00 UTC
    ctx = asx_context("2025-09-18", "2025-09-23")
    idx = align.asof_index(fed_known, ctx.decision_ns)
    assert dict(zip(ctx.labels.strftime("%Y-%m-%d"), idx.tolist(), strict=True)) == {
        "2025-09-18": -1,
        "2025-09-19": -1,
        "2025-09-22": 0,
        "2025-09-23": 0,
    }
