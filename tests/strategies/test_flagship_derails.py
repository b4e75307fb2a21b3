"""The flagship's derail exits, each off by default: a Fed hike, a Russell 2000 drawdown, a US
10-year yield spike and an AUD/USD drop, each acted on at the first ASX open after it was known.

Hand-built data around the real 2019-07-31 Fed cut (14:00 EDT): a Russell record at that day's close
starts a hold at the 2019-08-01 ASX open. (The rest of the flagship is covered by
``test_russell_fed_rotation.py``.)
"""

from __future__ import annotations

import pytest
from hand_built import context, decisions, flat, frame, held, market

from strategies.russell_fed_rotation import RussellFedRotation

START, END = "2019-07-01", "2019-08-30"
TEN = ["2019-08-01", "2019-08-02", "2019-08-05", "2019-08-06", "2019-08-07", "2019-08-08",
       "2019-08-09", "2019-08-12", "2019-08-13", "2019-08-14"]  # fmt: skip


def rut(after: float = 1990.0, **records: float):
    """1500 on the first day, 1000 until the 07-31 record (2000), ``after`` from then on."""
    s = flat("RUT", START, END, 1000.0, **{"2019_07_01": 1500.0})
    s.frame.loc["2019-07-31":, ["open", "high", "low", "close"]] = after
    s.frame.loc["2019-07-31", ["open", "high", "low", "close"]] = 2000.0
    for day, level in records.items():
        s.frame.loc[day.replace("_", "-"), ["open", "high", "low", "close"]] = level
    return s


def step(key: str, level: float, changes: dict[str, float]):
    s = flat(key, START, END, level)
    for day, value in changes.items():
        s.frame.loc[day, "value" if "value" in s.frame else "close"] = value
    return s


def weights(*extra, fomc=None, **params):
    parts = [flat("XSO", START, END), flat("XJO", START, END, 200.0), *extra]
    if not any(p.instrument.key == "RUT" for p in extra):
        parts.append(rut())
    ctx = context(market(*parts), START, END, fomc=fomc)
    params.setdefault("hold_days", 10)
    return frame(RussellFedRotation(**params).target_weights(ctx), ctx)


def test_without_derails_the_hold_runs_its_course():
    assert held(weights()) == TEN


def test_a_fed_hike_ends_the_hold_at_the_next_asx_open():
    # Made-up table: the real cut, then a hike on Tuesday 2019-08-06 14:00 EDT (18:00 UTC), known
    # before the Wednesday 08-07 ASX open (00:00 UTC).
    fomc = decisions("fomc", [("2019-07-31 14:00", -25), ("2019-08-06 14:00", 25)])
    assert held(weights(fomc=fomc)) == TEN
    assert held(weights(fomc=fomc, exit_on_hike="on")) == TEN[:4]


def test_a_russell_drawdown_ends_the_hold():
    # 7.5 % below the 2000 record at the Friday 08-02 close (20:00 UTC): out at Monday's ASX open.
    closes = rut(after=1990.0)
    closes.frame.loc["2019-08-02":, "close"] = 1850.0
    assert held(weights(closes, exit_drawdown=0.1)) == TEN
    assert held(weights(closes, exit_drawdown=0.05)) == TEN[:2]


def test_a_yield_spike_ends_the_hold_once_the_fred_value_is_known():
    # US10Y dated Monday 08-05 rises 30 bp over 5 sessions; FRED-style data is known at the end of
    # the next day in New York (08-07 04:00 UTC), after the 08-07 ASX open: out on 08-08.
    us10 = step("US10Y", 2.0, {})
    us10.frame.loc["2019-08-05":, "value"] = 2.3
    assert held(weights(us10, yield_spike_bp=40, yield_window=5)) == TEN
    assert held(weights(us10, yield_spike_bp=25, yield_window=5)) == TEN[:5]


def test_an_aud_drop_ends_the_hold():
    # AUD/USD dated Monday 08-05 is known at 23:00 London (22:00 UTC), before the 08-06 ASX open.
    aud = step("AUDUSD", 0.70, {})
    aud.frame.loc["2019-08-05":, "close"] = 0.65
    assert held(weights(aud, aud_drop=0.08, aud_window=5)) == TEN
    assert held(weights(aud, aud_drop=0.05, aud_window=5)) == TEN[:3]


def test_a_derail_wins_over_a_signal_at_the_same_open_and_a_later_signal_reenters():
    # Records at the 08-05 and 08-07 US closes; a one-day AUD slump dated 08-05. Both the 08-05
    # record and the slump reach the 08-06 open: out. The 08-07 record re-enters on 08-08.
    aud = step("AUDUSD", 0.70, {"2019-08-05": 0.60})
    closes = rut(**{"2019_08_05": 2001.0, "2019_08_07": 2002.0})
    w = weights(closes, aud, aud_drop=0.05, aud_window=1, hold_days=2)
    assert held(w) == ["2019-08-01", "2019-08-02", "2019-08-08", "2019-08-09"]
    without = weights(closes, aud, hold_days=2)
    assert held(without) == ["2019-08-01", "2019-08-02", "2019-08-06", "2019-08-07", "2019-08-08",
                             "2019-08-09"]  # fmt: skip


@pytest.mark.parametrize(
    "params,extra",
    [
        ({}, ()),
        ({"yield_spike_bp": 10}, ("US10Y",)),
        ({"aud_drop": 0.02}, ("AUDUSD",)),
        ({"yield_spike_bp": 10, "aud_drop": 0.02}, ("US10Y", "AUDUSD")),
    ],
)
def test_derail_data_is_required_only_when_switched_on(params, extra):
    assert RussellFedRotation(**params).required() == ("XSO", "XJO", "RUT", *extra)
