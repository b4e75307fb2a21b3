"""``static-mix``: constant weights, a calendar rebalance mask for the engine."""

from __future__ import annotations

import pytest
from hand_built import context, flat, market

from engine.errors import ParamError
from strategies.static_mix import StaticMix

START, END = "2019-06-24", "2019-10-04"


def ctx():
    return context(market(flat("XSO", START, END), flat("XJO", START, END, 200.0)), START, END)


def test_weights_are_the_mix_on_every_row():
    w = StaticMix(small_weight=0.3).target_weights(ctx())
    assert (w == [0.3, 0.7]).all()


@pytest.mark.parametrize(
    "rebalance,dates",
    [
        ("monthly", ["2019-06-24", "2019-07-01", "2019-08-01", "2019-09-02", "2019-10-01"]),
        ("quarterly", ["2019-06-24", "2019-07-01", "2019-10-01"]),
        ("yearly", ["2019-06-24"]),
    ],
)
def test_rebalance_mask_marks_the_first_session_of_each_period(rebalance, dates):
    c = ctx()
    mask = StaticMix(rebalance=rebalance).rebalance_mask(c)
    assert [str(d.date()) for d in c.labels[mask]] == dates


def test_never_rebalancing_has_no_mask():
    assert StaticMix(rebalance="never").rebalance_mask(ctx()) is None


def test_bad_parameters():
    with pytest.raises(ParamError, match="Did you mean 'monthly'"):
        StaticMix(rebalance="montly")
