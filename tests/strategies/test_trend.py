"""``trend``: a moving-average filter on ASX small caps, decided at the open from the last close."""

from __future__ import annotations

import numpy as np
import pytest
from hand_built import context, flat, frame, held, market

from engine.errors import ParamError
from strategies.trend import Trend, trend_state

START, END = "2019-07-01", "2019-08-30"


def steps(**levels: float):
    """XSO at 100, then each {"YYYY_MM_DD": level} holds from that date on."""
    xso = flat("XSO", START, END, 100.0)
    for day, level in levels.items():
        xso.frame.loc[day.replace("_", "-") :, ["open", "high", "low", "close"]] = level
    return xso


def run(xso, **params):
    ctx = context(market(xso, flat("XJO", START, END, 200.0)), START, END)
    return frame(Trend(**params).target_weights(ctx), ctx), ctx


def test_trend_state_by_hand():
    close = np.array([100, 100, 100, 101, 99, 99, 102.0])
    # 3-session averages: -, -, 100, 100.33, 100, 99.67, 100 -> up at 101, down at 99, up at 102
    assert trend_state(close, 3, 0.0).astype(int).tolist() == [0, 0, 0, 1, 0, 0, 1]
    # with a 1 % band, 101 does not clear 100.33 * 1.01 and 102 does clear 100 * 1.01
    assert trend_state(close, 3, 0.01).astype(int).tolist() == [0, 0, 0, 0, 0, 0, 1]


def test_a_close_above_the_average_is_acted_on_at_the_next_open():
    xso = steps(**{"2019_08_01": 101.0, "2019_08_02": 99.0})
    w, _ = run(xso, ma_days=3)
    assert held(w) == ["2019-08-02"]  # up at the 08-01 close, down at the 08-02 close
    assert w.loc["2019-08-02"].tolist() == [1.0, 0.0]
    assert (w.drop("2019-08-02").to_numpy() == 0.0).all()  # risk_off defaults to cash


def test_band_holds_through_small_dips():
    moves = {"2019_08_01": 110.0, "2019_08_02": 109.0, "2019_08_05": 108.0, "2019_08_06": 90.0}
    xso = steps(**moves)
    w, _ = run(xso, ma_days=3, band=0.02, risk_off="large")
    assert held(w) == ["2019-08-02", "2019-08-05", "2019-08-06"]
    assert w.loc["2019-08-07"].tolist() == [0.0, 1.0]


def test_no_decision_before_the_average_exists():
    xso = flat("XSO", START, END, 100.0, **{"2019_07_02": 150.0})
    w, _ = run(xso, ma_days=5)
    assert held(w) == []


def test_signals_are_the_closes_where_the_trend_turns_up():
    xso = steps(**{"2019_08_01": 101.0, "2019_08_02": 99.0})
    ctx = context(market(xso, flat("XJO", START, END, 200.0)), START, END)
    sig = Trend(ma_days=3).signals(ctx)
    assert [str(d.date()) for d in sig.observed] == ["2019-08-01"]


@pytest.mark.parametrize("name,value", [("ma_days", 1), ("band", 0.5), ("risk_off", "gold")])
def test_bad_parameters(name, value):
    with pytest.raises(ParamError, match=f"trend: parameter {name} must be"):
        Trend(**{name: value})
