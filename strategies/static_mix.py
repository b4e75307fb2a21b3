"""Baseline: a fixed mix of ASX small and large caps, rebalanced on the calendar.

The weights never change, so the run API would trade only once; ``rebalance_mask`` marks the first
session of each period, where the engine trades back to the mix (the drift in between is kept).
"""

from __future__ import annotations

import numpy as np

from engine.strategy.base import Param, Strategy

from .common import LARGE, SMALL, period_starts


class StaticMix(Strategy):
    name = "static-mix"
    rule = (
        "Hold small_weight in ASX small caps (XSO) and the rest in the S&P/ASX 200 (XJO), trading "
        "back to that mix at the first ASX session of each rebalance period (never: buy once and "
        "let it drift)."
    )
    params = (
        Param(
            "small_weight",
            0.5,
            "float",
            "fraction held in small caps; the rest is in large caps",
            "fraction",
            low=0.0,
            high=1.0,
        ),
        Param(
            "rebalance",
            "monthly",
            "choice",
            "how often the mix is restored",
            choices=("monthly", "quarterly", "yearly", "never"),
        ),
    )
    traded = (SMALL, LARGE)

    def weights(self, ctx, p) -> np.ndarray:
        out = np.empty((len(ctx.labels), 2))
        out[:, 0] = p["small_weight"]
        out[:, 1] = 1.0 - p["small_weight"]
        return out

    def rebalance_mask(self, ctx) -> np.ndarray | None:
        if self.values["rebalance"] == "never":
            return None
        return period_starts(ctx.labels, self.values["rebalance"])
