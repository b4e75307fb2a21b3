"""Sibling: a moving-average trend filter on ASX small caps.

On the small-caps index's own axis, the trend is on once a close rises above its ``ma_days``-session
moving average by more than ``band`` and off once a close falls below it by more than ``band``
(``hysteresis_1d_nb``); the state known at the last close reaches the next open through
``Context.asof``.
"""

from __future__ import annotations

import numpy as np

from engine.strategy.base import Param, Strategy

from .common import (
    LARGE,
    SMALL,
    hysteresis_1d_nb,
    moving_average,
    risk_off_param,
    small_or_risk_off,
    weight_param,
)


def trend_state(close: np.ndarray, ma_days: int, band: float) -> np.ndarray:
    """Trend on/off per bar of ``close`` (its own axis); off until the average exists."""
    close = np.asarray(close, dtype=np.float64)
    ma = moving_average(close, ma_days)
    with np.errstate(invalid="ignore"):
        enter = close > ma * (1.0 + band)
        leave = close < ma * (1.0 - band)
    return hysteresis_1d_nb(enter, leave, False)


class Trend(Strategy):
    name = "trend"
    rule = (
        "Hold `weight` in ASX small caps (XSO) while their trend is up: the trend turns up when a "
        "close rises above its ma_days-session moving average by more than band, and down when a "
        "close falls below it by more than band. Otherwise hold cash (risk_off=cash) or the "
        "S&P/ASX 200. Decided at each ASX open from the previous close."
    )
    params = (
        Param(
            "ma_days",
            200,
            "int",
            "sessions in the moving average of small-caps closes",
            "sessions",
            low=2,
            high=1000,
        ),
        Param(
            "band",
            0.0,
            "float",
            "distance from the average a close must clear to switch (stops whipsaws)",
            "fraction",
            low=0.0,
            high=0.2,
        ),
        risk_off_param("cash"),
        weight_param(),
    )
    traded = (SMALL, LARGE)

    def warmup(self) -> int:
        return self.values["ma_days"]

    def state(self, ctx, p) -> np.ndarray:
        return trend_state(ctx.market[SMALL].values.to_numpy(), p["ma_days"], p["band"])

    def weights(self, ctx, p) -> np.ndarray:
        on = ctx.asof(self.state(ctx, p).astype(np.float64), ctx.market[SMALL].known_ns) == 1.0
        return small_or_risk_off(on, p["weight"], p["risk_off"])

    def signal_flags(self, ctx, p):
        state = self.state(ctx, p)
        turned_on = state & ~np.concatenate(([False], state[:-1]))
        small = ctx.market[SMALL]
        return turned_on, small.known_ns, small.frame.index, f"{SMALL} trend turns up"
