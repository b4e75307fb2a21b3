"""Sibling: rotate into ASX small caps after the Russell 2000's momentum crosses a threshold.

On the Russell 2000's own axis, a signal is a close at which the ``lookback``-session return first
rises above ``threshold`` (it was at or below it on the previous close); signals reach the ASX
decision points through ``Context.count`` and start (or extend) a hold of ``hold_days`` sessions.
"""

from __future__ import annotations

import numpy as np

from engine.strategy.base import Param, Strategy

from .common import (
    LARGE,
    SMALL,
    hold_1d_nb,
    hold_days_param,
    risk_off_param,
    small_or_risk_off,
    trailing_return,
    weight_param,
)


def crosses_above(values: np.ndarray, threshold: float) -> np.ndarray:
    """True where ``values`` is above ``threshold`` and the previous value was not (NaN is not)."""
    above = np.asarray(values) > threshold
    return above & ~np.concatenate(([False], above[:-1]))


class RussellMomentumSpillover(Strategy):
    name = "russell-momentum-spillover"
    rule = (
        "When the Russell 2000's lookback-session return rises above threshold (it was at or below "
        "it at the previous close), rotate `weight` into ASX small caps (XSO) at the next ASX open "
        "and hold for hold_days ASX sessions (a fresh crossing extends the hold); otherwise hold "
        "the S&P/ASX 200 (risk_off=large) or cash."
    )
    params = (
        Param(
            "lookback",
            20,
            "int",
            "Russell 2000 sessions over which the return is measured",
            "sessions",
            low=1,
            high=250,
        ),
        Param(
            "threshold",
            0.05,
            "float",
            "return the Russell 2000 must rise above to signal",
            "fraction",
            low=-0.5,
            high=1.0,
        ),
        hold_days_param(),
        risk_off_param("large"),
        weight_param(),
    )
    traded = (SMALL, LARGE)
    requires = ("RUT",)

    def warmup(self) -> int:
        return self.values["hold_days"]

    def trigger(self, p, rut) -> np.ndarray:
        ret = trailing_return(rut.values.to_numpy(), p["lookback"])
        return crosses_above(ret, p["threshold"])

    def weights(self, ctx, p) -> np.ndarray:
        rut = ctx.market["RUT"]
        fired = ctx.count(self.trigger(p, rut), rut.known_ns) > 0
        held = hold_1d_nb(fired, np.zeros_like(fired), p["hold_days"])
        return small_or_risk_off(held, p["weight"], p["risk_off"])

    def signal_flags(self, ctx, p):
        rut = ctx.market["RUT"]
        source = f"RUT {p['lookback']}-session return above {p['threshold']:g}"
        return self.trigger(p, rut), rut.known_ns, rut.frame.index, source
