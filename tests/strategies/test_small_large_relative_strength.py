"""``small-large-relative-strength``: hold whichever ASX index has the better trailing return,
checked at the first session of each period."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hand_built import context, flat, frame, held, market, series, session_dates

from strategies.small_large_relative_strength import SmallLargeRelativeStrength

START, END = "2019-06-03", "2019-09-30"


def run(xso, xjo, **params):
    ctx = context(market(xso, xjo), START, END)
    return frame(SmallLargeRelativeStrength(**params).target_weights(ctx), ctx), ctx


def trending(key: str, start_change: str, daily: float):
    """Flat at 100, then growing ``daily`` per session from ``start_change``."""
    dates = session_dates("XASX", START, END)
    steps = np.maximum(np.arange(len(dates)) - dates.searchsorted(pd.Timestamp(start_change)), -1)
    return series(key, pd.Series(100.0 * (1 + daily) ** (steps + 1), index=dates))


def test_monthly_check_switches_only_at_the_first_session_of_a_month():
    # Small caps start rising on 2019-07-10: with lookback 5, their return beats flat large caps
    # from the 07-10 close, but the switch waits for the August check (Thursday 08-01).
    w, _ = run(trending("XSO", "2019-07-10", 0.01), flat("XJO", START, END, 200.0), lookback=5)
    h = held(w)
    assert h[0] == "2019-08-01" and h[-1] == "2019-09-30"
    assert (w.loc[:"2019-07-31"].to_numpy() == [0.0, 1.0]).all()


def test_daily_check_switches_at_the_next_open():
    w, _ = run(
        trending("XSO", "2019-07-10", 0.01),
        flat("XJO", START, END, 200.0),
        lookback=5,
        rebalance="daily",
    )
    assert held(w)[0] == "2019-07-11"


def test_large_caps_win_when_small_caps_lag():
    w, _ = run(flat("XSO", START, END), trending("XJO", "2019-06-10", 0.01), lookback=5)
    assert held(w) == [] and (w["XJO"] == 1.0).all()


def test_a_run_started_mid_month_matches_the_full_run():
    # The warm-up replays the sessions since the last check, so starting on 08-15 keeps the
    # August decision made on 08-01.
    xso, xjo = trending("XSO", "2019-07-10", 0.01), flat("XJO", START, END, 200.0)
    strat = SmallLargeRelativeStrength(lookback=5)
    full = frame(strat.target_weights(context(market(xso, xjo), START, END)), context(
        market(xso, xjo), START, END))  # fmt: skip
    late_ctx = context(market(xso, xjo), "2019-08-15", END)
    late = frame(strat.target_weights(late_ctx), late_ctx)
    pd.testing.assert_frame_equal(late, full.loc["2019-08-15":])
