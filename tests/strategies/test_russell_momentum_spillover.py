"""``russell-momentum-spillover``: a Russell 2000 momentum crossing rotates at the next ASX open."""

from __future__ import annotations

import numpy as np
import pytest
from hand_built import close_ns, context, flat, frame, held, market, next_asx_open_after

from engine.errors import ParamError
from strategies.russell_momentum_spillover import RussellMomentumSpillover, crosses_above

START, END = "2019-07-01", "2019-08-30"


def run(rut, **params):
    mkt = market(rut, flat("XSO", START, END), flat("XJO", START, END, 200.0))
    ctx = context(mkt, START, END)
    return frame(RussellMomentumSpillover(**params).target_weights(ctx), ctx), ctx


def test_crosses_above_by_hand():
    x = np.array([np.nan, 0.0, 0.06, 0.07, 0.01, 0.08])
    assert crosses_above(x, 0.05).tolist() == [False, False, True, False, False, True]


def test_a_jump_rotates_at_the_next_asx_open_for_hold_days():
    # Thursday 2019-08-01 the Russell jumps 10 %: its 5-session return crosses 5 % at that close
    # (20:00 UTC), and the ASX acts at its Friday 08-02 open.
    rut = flat("RUT", START, END, 1000.0)
    rut.frame.loc["2019-08-01":, ["open", "high", "low", "close"]] = 1100.0
    w, _ = run(rut, lookback=5, threshold=0.05, hold_days=3)
    assert next_asx_open_after(close_ns("RUT", "2019-08-01")) == "2019-08-02"
    assert held(w) == ["2019-08-02", "2019-08-05", "2019-08-06"]
    assert (w.drop(held(w)).to_numpy() == [0.0, 1.0]).all()


def test_staying_above_is_not_a_fresh_signal_but_a_new_crossing_is():
    rut = flat("RUT", START, END, 1000.0)
    rut.frame.loc["2019-08-01":, "close"] = 1100.0  # one crossing
    rut.frame.loc["2019-08-09":, "close"] = 1300.0  # 1-session return crosses again on 08-09
    w, _ = run(rut, lookback=1, threshold=0.05, hold_days=2)
    assert held(w) == ["2019-08-02", "2019-08-05", "2019-08-12", "2019-08-13"]


def test_no_crossing_no_trade():
    w, _ = run(flat("RUT", START, END, 1000.0))
    assert (w.to_numpy() == [0.0, 1.0]).all()


def test_signals_carry_the_us_close_instant():
    rut = flat("RUT", START, END, 1000.0)
    rut.frame.loc["2019-08-01":, "close"] = 1100.0
    mkt = market(rut, flat("XSO", START, END), flat("XJO", START, END, 200.0))
    ctx = context(mkt, START, END)
    sig = RussellMomentumSpillover(lookback=5).signals(ctx)
    assert sig.known_ns.tolist() == [close_ns("RUT", "2019-08-01")]


@pytest.mark.parametrize("name,value", [("lookback", 0), ("threshold", 2.0), ("hold_days", 0)])
def test_bad_parameters(name, value):
    with pytest.raises(ParamError, match=f"parameter {name} must be"):
        RussellMomentumSpillover(**{name: value})
