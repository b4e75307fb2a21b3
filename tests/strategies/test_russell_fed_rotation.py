"""The flagship strategy: its kernels by hand, its weights around real Fed cuts, its parameters.

1. the record kernel, the hold and the strict cut window on 3-8 bar hand-worked cases.
2. Weights on small data folders written to ``tmp_path`` on real XNYS/XASX session dates around real
   FOMC cuts from ``data/events/fomc.csv``: which ASX sessions hold XSO after a Russell record (next
   ASX open after the US close, across a weekend, across an ASX holiday), a record before the
   announcement, the ``cut_window_days`` boundary, ``risk_off`` and ``weight``.
3. Parameter validation and CLI-style coercion.
4. The September 2025 signal on the real data in ``../shared/data`` (skipped when absent).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import ParamError
from engine.feeds import calendars
from engine.feeds.marketdata import load_folder
from engine.rules.blocks import event_flags
from engine.rules.eventfiles import EventTable
from engine.rules.kernels import record_nb as record_close_1d_nb
from engine.timing import align
from strategies.common import hold_1d_nb
from strategies.russell_fed_rotation import RussellFedRotation

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
KEYS = ["XSO", "XJO", "RUT"]


# --- 1. kernels by hand --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "close,lookback,expected",
    [
        # all-time high: strictly greater than every earlier close; the first bar is never a record
        ([1, 3, 2, 3, 4], 0, [0, 1, 0, 0, 1]),
        ([5, 5, 5], 0, [0, 0, 0]),  # equal to the high is not a record
        ([3, 2, 1, 4, 4, 4.5, 1, 5], 0, [0, 0, 0, 1, 0, 1, 0, 1]),
        # previous k closes only
        ([5, 1, 2, 3, 2], 2, [0, 0, 0, 1, 0]),
        ([5, 4, 3, 4, 5, 6], 1, [0, 0, 0, 1, 1, 1]),
        ([10, 1, 2, 3, 4, 11], 3, [0, 0, 0, 0, 1, 1]),  # 10 still in the window at i=3
        ([10, 1, 2, 3, 4, 11], 0, [0, 0, 0, 0, 0, 1]),
    ],
)
def test_record_close_by_hand(close, lookback, expected):
    out = record_close_1d_nb(np.asarray(close, dtype=np.float64), lookback)
    assert out.dtype == np.bool_
    assert out.astype(int).tolist() == expected


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, 6).map(float), min_size=0, max_size=40),
    st.integers(0, 8),
)
def test_record_close_matches_a_plain_python_window(close, lookback):
    def slow(i):
        earlier = close[max(0, i - lookback) if lookback else 0 : i]
        return bool(earlier) and close[i] > max(earlier)

    out = record_close_1d_nb(np.asarray(close, dtype=np.float64), lookback)
    assert out.tolist() == [slow(i) for i in range(len(close))]


@pytest.mark.parametrize(
    "fired,hold,expected",
    [
        ([0, 1, 0, 0, 0, 0], 2, [0, 1, 1, 0, 0, 0]),
        ([1, 0, 0], 5, [1, 1, 1]),  # runs off the end
        ([0, 1, 0, 1, 0, 0, 0, 0], 3, [0, 1, 1, 1, 1, 1, 0, 0]),  # a fresh signal extends
        ([0, 1, 1, 0, 0], 1, [0, 1, 1, 0, 0]),
        ([0, 1, 0, 0, 1, 0, 0, 0], 2, [0, 1, 1, 0, 1, 1, 0, 0]),
    ],
)
def test_hold_mask_by_hand(fired, hold, expected):
    fired = np.asarray(fired, dtype=np.bool_)
    out = hold_1d_nb(fired, np.zeros_like(fired), hold)  # no derails
    assert out.astype(int).tolist() == expected


def _cut_within(events: list[int], at: list[int], days: int = 10_000) -> list[bool]:
    """The flagship's cut-window block: a cut known strictly before each instant."""
    table = EventTable("fomc", np.array(events, dtype=np.int64), -np.ones(len(events), np.int64),
                       ("cut",) * len(events), "test")  # fmt: skip
    at_ns = np.array(at, dtype=np.int64)
    dates = pd.DatetimeIndex(at_ns).normalize()
    p = {"move": "cut", "days": days}
    return event_flags("event_within", table, p, at_ns, dates, "UTC", False).tolist()


def test_the_last_cut_is_known_strictly_before():
    out = _cut_within([10, 20, 30], [5, 10, 11, 20, 25, 31])
    assert out == [False, False, True, True, True, True]  # a cut at the instant itself is not known


def test_no_cut_known_yet_never_counts():
    # No cut known yet (e.g. a context truncated before 1990, or an empty decision table).
    assert _cut_within([], [5, 6]) == [False, False]


# --- 2. weights on hand-built folders ------------------------------------------------------------


def write_folder(folder: Path, start: str, end: str, records: list[str]) -> None:
    """RUT on XNYS sessions in [start, end]: 1500 on the first day, 1000 after, and a new all-time
    high (2000, 2001, ...) on each date in ``records``; flat XSO/XJO on XASX sessions."""
    nyse = calendars.sessions("XNYS").between(pd.Timestamp(start), pd.Timestamp(end)).labels
    asx = calendars.sessions("XASX").between(pd.Timestamp(start), pd.Timestamp(end)).labels
    close = pd.Series(1000.0, index=nyse)
    close.iloc[0] = 1500.0
    for k, day in enumerate(records):
        assert pd.Timestamp(day) in nyse, f"{day} is not an NYSE session"
        close[pd.Timestamp(day)] = 2000.0 + k
    frames = {
        "RUT": pd.DataFrame({"open": close, "high": close, "low": close, "close": close}),
        "XSO": pd.DataFrame(100.0, index=asx, columns=["open", "high", "low", "close"]),
        "XJO": pd.DataFrame(200.0, index=asx, columns=["open", "high", "low", "close"]),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for key, frame in frames.items():
        frame.index = frame.index.strftime("%Y-%m-%d")
        frame.rename_axis("date").to_csv(folder / f"{key}.csv")


def weights(folder: Path, first: str, last: str, **params) -> pd.DataFrame:
    market = load_folder(folder, KEYS)
    ctx = align.build_context(market, "XASX", pd.Timestamp(first), pd.Timestamp(last))
    w = RussellFedRotation(**params).target_weights(ctx)
    return pd.DataFrame(w, index=ctx.labels.strftime("%Y-%m-%d"), columns=["XSO", "XJO"])


def held(w: pd.DataFrame) -> list[str]:
    return list(w.index[w["XSO"] > 0])


def first_asx_open_after_us_close(us_date: str) -> str:
    nyse, asx = calendars.sessions("XNYS"), calendars.sessions("XASX")
    close_ns = nyse.close_ns[nyse.labels.get_loc(pd.Timestamp(us_date))]
    return str(asx.labels[np.searchsorted(asx.open_ns, close_ns, side="right")].date())


@pytest.mark.parametrize(
    "record,expected",
    [
        # 2019-07-31 cut at 14:00 EDT; the 16:00 close that day is after it -> ASX Thursday.
        ("2019-07-31", "2019-08-01"),
        ("2019-08-01", "2019-08-02"),
        # Friday record -> Monday ASX.
        ("2019-08-02", "2019-08-05"),
    ],
)
def test_record_after_the_2019_07_31_cut_is_acted_on_at_the_next_asx_open(
    tmp_path, record, expected
):
    write_folder(tmp_path, "2019-07-01", "2019-08-30", [record])
    w = weights(tmp_path, "2019-07-01", "2019-08-30", hold_days=1)
    assert first_asx_open_after_us_close(record) == expected
    assert held(w) == [expected]
    assert w.loc[expected].tolist() == [1.0, 0.0]
    assert (w.drop(expected).to_numpy() == [0.0, 1.0]).all()


@pytest.mark.parametrize(
    "start,end,record,expected,why",
    [
        # 2001-04-18 intermeeting cut (10:54 EDT); Tue 2001-04-24 record; Sydney Wed 04-25 is Anzac
        # Day (ASX shut) -> Thursday.
        ("2001-04-02", "2001-05-15", "2001-04-24", "2001-04-26", "Anzac Day"),
        # 2008-01-22 intermeeting cut (08:20 EST); Fri 2008-01-25 record; Sydney Monday 01-28 is the
        # Australia Day holiday -> Tuesday 01-29.
        ("2008-01-02", "2008-02-15", "2008-01-25", "2008-01-29", "weekend + Australia Day"),
        # 2001-01-03 intermeeting cut; Thu 2001-01-25 record; Sydney Fri 01-26 Australia Day ->
        # Monday 01-29.
        ("2001-01-02", "2001-02-15", "2001-01-25", "2001-01-29", "Australia Day + weekend"),
    ],
)
def test_record_when_the_asx_is_shut_lands_on_the_next_asx_session(
    tmp_path, start, end, record, expected, why
):
    write_folder(tmp_path, start, end, [record])
    w = weights(tmp_path, start, end, hold_days=1)
    assert first_asx_open_after_us_close(record) == expected, why
    assert held(w) == [expected], why


def test_record_before_the_cut_announcement_does_not_trigger(tmp_path):
    # 2019-07-30 close is a record but the cut came on 2019-07-31 at 14:00 EDT; the last earlier cut
    # (2008-12-16) is far outside the window.
    write_folder(tmp_path, "2019-07-01", "2019-08-30", ["2019-07-30"])
    w = weights(tmp_path, "2019-07-01", "2019-08-30")
    assert held(w) == []
    assert (w["XJO"] == 1.0).all()


def test_two_records_extend_the_hold(tmp_path):
    # Records on Wed 07-31 and Thu 08-01 fire at ASX 08-01 and 08-02; 3 sessions from 08-02.
    write_folder(tmp_path, "2019-07-01", "2019-08-30", ["2019-07-31", "2019-08-01"])
    w = weights(tmp_path, "2019-07-01", "2019-08-30", hold_days=3)
    assert held(w) == ["2019-08-01", "2019-08-02", "2019-08-05", "2019-08-06"]


def test_default_hold_is_20_asx_sessions(tmp_path):
    write_folder(tmp_path, "2019-07-01", "2019-09-30", ["2019-07-31"])
    w = weights(tmp_path, "2019-07-01", "2019-09-30")
    h = held(w)
    assert len(h) == 20 and h[0] == "2019-08-01" and h[-1] == "2019-08-28", h


@pytest.mark.parametrize(
    "window,record,fires",
    [
        (5, "2019-08-02", True),  # 2 days after
        (5, "2019-08-06", False),  # 6 days after
        (1, "2019-08-02", False),  # 2 days after a 1-day window
        (30, "2019-09-03", False),  # 34 days after
    ],
)
def test_cut_window_excludes_records_beyond_it(tmp_path, window, record, fires):
    write_folder(tmp_path, "2019-07-01", "2019-09-13", [record])
    # The next cut (2019-09-18) is after the folder ends.
    w = weights(tmp_path, "2019-07-01", "2019-09-13", cut_window_days=window, hold_days=1)
    assert (held(w) == [first_asx_open_after_us_close(record)]) is fires
    assert len(held(w)) == int(fires)


@pytest.mark.parametrize(
    "window,record",
    [
        (0, "2019-07-31"),  # same US date as the cut, two hours after it
        (5, "2019-08-05"),  # Monday, 5 calendar days after Wednesday's cut
        (2, "2019-08-02"),
    ],
)
def test_cut_window_counts_calendar_days_inclusively(tmp_path, window, record):
    # "within cut_window_days calendar days after a cut": a record on calendar day `window` after
    # the announcement date counts, and cut_window_days=0 (allowed by its range) means "same day".
    write_folder(tmp_path, "2019-07-01", "2019-08-30", [record])
    w = weights(tmp_path, "2019-07-01", "2019-08-30", cut_window_days=window, hold_days=1)
    assert held(w) == [first_asx_open_after_us_close(record)], (
        f"record {record} is {(pd.Timestamp(record) - pd.Timestamp('2019-07-31')).days} calendar "
        f"days after the 2019-07-31 cut; cut_window_days={window} should include it"
    )


def test_signal_from_long_before_the_first_decision_point_does_not_fire(tmp_path):
    # RUT history starts before the ASX files (the usual case: the API builds decision points from
    # the traded assets' first date and computes features over all loaded history). A record from
    # 2019-07-31 with hold_days=1 ended its hold on 2019-08-01; it must not start a hold at the
    # first decision point a month later.
    write_folder(tmp_path, "2019-07-01", "2019-09-13", ["2019-07-31"])
    full = weights(tmp_path, "2019-07-01", "2019-09-13", hold_days=1)
    late = weights(tmp_path, "2019-09-02", "2019-09-13", hold_days=1)
    assert held(full) == ["2019-08-01"]
    assert held(late) == [], "a month-old signal opened a hold at the first decision point"
    pd.testing.assert_frame_equal(late, full.loc["2019-09-02":])


def test_risk_off_cash_holds_nothing_outside_a_rotation(tmp_path):
    write_folder(tmp_path, "2019-07-01", "2019-08-30", ["2019-07-31"])
    w = weights(tmp_path, "2019-07-01", "2019-08-30", hold_days=3, risk_off="cash")
    h = ["2019-08-01", "2019-08-02", "2019-08-05"]
    assert held(w) == h
    assert (w.loc[h].to_numpy() == [1.0, 0.0]).all()
    assert (w.drop(h).to_numpy() == 0.0).all()


@pytest.mark.parametrize(
    "risk_off,inside,outside", [("large", [0.5, 0.5], [0.0, 1.0]), ("cash", [0.5, 0.0], [0.0, 0.0])]
)
def test_partial_weight_splits_the_rotation(tmp_path, risk_off, inside, outside):
    write_folder(tmp_path, "2019-07-01", "2019-08-30", ["2019-07-31"])
    w = weights(tmp_path, "2019-07-01", "2019-08-30", hold_days=2, weight=0.5, risk_off=risk_off)
    h = ["2019-08-01", "2019-08-02"]
    assert held(w) == h
    assert (w.loc[h].to_numpy() == inside).all()
    assert (w.drop(h).to_numpy() == outside).all()


# --- 3. parameters -------------------------------------------------------------------------------


def test_unknown_parameter_suggests_the_closest():
    with pytest.raises(ParamError, match=r"unknown parameter 'hold_day'.*Did you mean 'hold_days'"):
        RussellFedRotation(hold_day=5)


@pytest.mark.parametrize(
    "name,value",
    [
        ("hold_days", 0),
        ("hold_days", 1001),
        ("hold_days", 2.5),
        ("hold_days", "twenty"),
        ("hold_days", None),
        ("record_lookback", -1),
        ("cut_window_days", 731),
        ("weight", 1.5),
        ("weight", -0.1),
        ("weight", float("nan")),
        ("weight", "half"),
        ("risk_off", "bonds"),
    ],
)
def test_bad_values_name_the_parameter(name, value):
    with pytest.raises(ParamError, match=rf"russell-fed-rotation: parameter {name} must be"):
        RussellFedRotation(**{name: value})


def test_bad_choice_suggests_the_closest():
    with pytest.raises(ParamError, match=r"Did you mean 'cash'"):
        RussellFedRotation(risk_off="csh")


def test_cli_strings_coerce():
    values = RussellFedRotation(
        hold_days="20", weight="0.5", risk_off="cash", record_lookback="250.0"
    ).values
    core = ("record_lookback", "cut_window_days", "hold_days", "risk_off", "weight")
    assert {k: values[k] for k in core} == {
        "record_lookback": 250,
        "cut_window_days": 30,
        "hold_days": 20,
        "risk_off": "cash",
        "weight": 0.5,
    }
    assert type(values["hold_days"]) is int and type(values["record_lookback"]) is int
    assert type(values["weight"]) is float


# --- 4. the real September 2025 signal -----------------------------------------------------------

needs_shared = pytest.mark.skipif(
    not (SHARED / "rut_daily_yahoo.csv").is_file(),
    reason=f"real data folder {SHARED} is absent (it sits beside the repository)",
)
WINDOW = (pd.Timestamp("2011-01-01"), pd.Timestamp("2025-12-30"))


def to_plain(frame: pd.DataFrame, date_col: str, calendar: str, out: Path) -> None:
    """Write ``frame`` as date,open,high,low,close keeping only ``calendar`` sessions in WINDOW."""
    dates = pd.to_datetime(frame[date_col])
    # Yahoo's "Date" is replaced, not kept beside "date": a repeated date column is refused.
    frame = frame.drop(columns=[date_col]).assign(date=dates.dt.strftime("%Y-%m-%d"))
    frame.columns = [c.lower() for c in frame.columns]
    frame = frame[(dates >= WINDOW[0]) & (dates <= WINDOW[1])]
    dates = dates[frame.index]
    sessions = dates.isin(calendars.sessions(calendar).labels)
    dropped = int((~sessions).sum())
    assert dropped <= 10, (
        f"{out.name}: dropped {dropped} rows that are not {calendar} sessions "
        f"(e.g. {list(dates[~sessions].dt.date[:5])})"
    )
    frame[sessions][["date", "open", "high", "low", "close"]].to_csv(out, index=False)


@pytest.fixture(scope="module")
def real_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("real")
    # Yahoo column order is Date,Close,High,Low,Open,Volume; to_plain selects by name.
    to_plain(pd.read_csv(SHARED / "rut_daily_yahoo.csv"), "Date", "XNYS", folder / "RUT.csv")
    to_plain(pd.read_csv(SHARED / "axjo_2011_2025.csv"), "date", "XASX", folder / "XJO.csv")
    # No small-caps index file reaches 2025-09; the All Ordinaries stands in for XSO here.
    to_plain(pd.read_csv(SHARED / "aord_2011_2025.csv"), "date", "XASX", folder / "XSO.csv")
    return folder


@needs_shared
def test_real_2025_09_18_record_is_traded_at_the_2025_09_19_asx_open(real_folder):
    market = load_folder(real_folder, KEYS)
    rut = market["RUT"].values
    records = rut.index[record_close_1d_nb(rut.to_numpy(), 0)]
    since_2021 = records[records > pd.Timestamp("2021-11-08")]
    assert pd.Timestamp("2021-11-08") in records
    assert since_2021[0] == pd.Timestamp("2025-09-18"), "first record close after 2021-11-08"

    first = max(market[k].frame.index[0] for k in ("XSO", "XJO"))
    last = min(market[k].frame.index[-1] for k in ("XSO", "XJO"))
    ctx = align.build_context(market, "XASX", first, last)
    w = pd.DataFrame(
        RussellFedRotation().target_weights(ctx), index=ctx.labels, columns=["XSO", "XJO"]
    )
    assert w.loc["2025-09-19"].tolist() == [1.0, 0.0]
    assert w.loc["2025-09-18"].tolist() == [0.0, 1.0]
    # Nothing held between the last hold of the 2024 cuts and the signal.
    assert (w.loc["2025-01-01":"2025-09-18", "XSO"] == 0.0).all()
    # The 2025-09-19 ASX open is 00:00 UTC, four hours after the 2025-09-18 16:00 EDT close.
    pos = ctx.labels.get_loc(pd.Timestamp("2025-09-19"))
    assert ctx.decision_ns[pos] == pd.Timestamp("2025-09-19 00:00", tz="UTC").value
