"""``rba-easing-cycle``: the RBA's announcement time decides the first session that acts on it."""

from __future__ import annotations

from hand_built import context, flat, frame, held, market

from strategies.rba_easing_cycle import RbaEasingCycle


def asx(start: str, end: str):
    return market(flat("XSO", start, end), flat("XJO", start, end, 200.0))


def test_a_0930_cut_before_2008_acts_at_the_same_days_open():
    # 2000-08-02 hike, then the 2001-02-07 cut announced 09:30 Sydney, before the 10:00 open.
    ctx = context(asx("2001-01-29", "2001-02-16"), "2001-01-29", "2001-02-16")
    w = frame(RbaEasingCycle().target_weights(ctx), ctx)
    assert held(w)[0] == "2001-02-07"
    assert w.loc["2001-02-06"].tolist() == [0.0, 1.0]


def test_a_1430_decision_acts_at_the_next_open():
    # The 2022-05-03 hike (14:30 Sydney, after a long run of cuts) ends the rotation on 05-04.
    ctx = context(asx("2022-04-26", "2022-05-10"), "2022-04-26", "2022-05-10")
    w = frame(RbaEasingCycle().target_weights(ctx), ctx)
    assert held(w)[-1] == "2022-05-03"
    assert (w.loc["2022-05-04":].to_numpy() == [0.0, 1.0]).all()


def test_the_2019_06_04_cut_is_a_signal_but_not_an_entry():
    # The last move before it (2016-08-02) was already a cut, so the weights do not change.
    ctx = context(asx("2019-05-27", "2019-06-10"), "2019-05-27", "2019-06-10")
    w = RbaEasingCycle().target_weights(ctx)
    assert (w == [1.0, 0.0]).all()
    sig = RbaEasingCycle().signals(ctx)
    assert "2019-06-04" in [str(d.date()) for d in sig.observed]
