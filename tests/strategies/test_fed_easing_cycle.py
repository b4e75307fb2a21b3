"""``fed-easing-cycle`` on hand-built prices and the real FOMC table (or a made-up one)."""

from __future__ import annotations

import numpy as np
import pytest
from hand_built import context, decisions, flat, frame, held, market

from engine.errors import ParamError
from strategies.fed_easing_cycle import FedEasingCycle


def asx(start: str, end: str):
    return market(flat("XSO", start, end), flat("XJO", start, end, 200.0))


def test_the_2019_cut_starts_and_the_2022_hike_ends_the_rotation():
    # Last move before 2019-07-31 was the 2018-12-19 hike; the 14:00 EDT cut is known at 04:00 AEST
    # on 2019-08-01, before that day's ASX open. The 2022-03-16 hike likewise acts on 2022-03-17.
    ctx = context(asx("2019-07-01", "2022-03-31"), "2019-07-01", "2022-03-31")
    w = frame(FedEasingCycle().target_weights(ctx), ctx)
    h = held(w)
    assert h[0] == "2019-08-01" and h[-1] == "2022-03-16"
    assert (w.loc[h].to_numpy() == [1.0, 0.0]).all()
    assert (w.drop(h).to_numpy() == [0.0, 1.0]).all()
    assert len(h) == len(w.loc["2019-08-01":"2022-03-16"])  # no gaps: later cuts keep it on


def test_risk_off_cash_and_partial_weight():
    ctx = context(asx("2019-07-25", "2019-08-05"), "2019-07-25", "2019-08-05")
    w = frame(FedEasingCycle(risk_off="cash", weight=0.25).target_weights(ctx), ctx)
    assert w.loc["2019-07-31"].tolist() == [0.0, 0.0]
    assert w.loc["2019-08-01"].tolist() == [0.25, 0.0]


def test_no_change_meetings_do_not_count_as_moves():
    fomc = decisions("fomc", [("2019-07-02 14:00", -25), ("2019-07-09 14:00", 0)])
    ctx = context(asx("2019-07-01", "2019-07-12"), "2019-07-01", "2019-07-12", fomc=fomc)
    w = frame(FedEasingCycle().target_weights(ctx), ctx)
    assert held(w) == ["2019-07-03", "2019-07-04", "2019-07-05", "2019-07-08", "2019-07-09",
                       "2019-07-10", "2019-07-11", "2019-07-12"]  # fmt: skip


def test_nothing_known_means_risk_off():
    fomc = decisions("fomc", [("2019-07-30 14:00", -25)])
    ctx = context(asx("2019-07-01", "2019-07-12"), "2019-07-01", "2019-07-12", fomc=fomc)
    assert (FedEasingCycle().target_weights(ctx) == [0.0, 1.0]).all()


def test_signals_are_every_cut_at_its_announcement():
    ctx = context(asx("2019-07-01", "2020-04-30"), "2019-07-01", "2020-04-30")
    sig = FedEasingCycle().signals(ctx)
    days = [str(d.date()) for d in sig.observed if d.year >= 2019]
    assert days == ["2019-07-31", "2019-09-18", "2019-10-30", "2020-03-03", "2020-03-15"]
    assert np.all(np.diff(sig.known_ns) > 0)


def test_bad_parameters():
    with pytest.raises(ParamError, match="fed-easing-cycle: parameter risk_off"):
        FedEasingCycle(risk_off="bonds")
