"""Sibling: rotate between ASX small and large caps on relative momentum.

Each index's ``lookback``-session return is computed on its own axis and reaches the decision points
through ``Context.asof``; at the first decision of each ``rebalance`` period the portfolio moves
wholly into whichever index has the higher return (large caps until both are known) and stays there
until the next check.
"""

from __future__ import annotations

import numpy as np

from engine.strategy.base import Param, Strategy

from .common import (
    LARGE,
    PERIOD_SESSIONS,
    SMALL,
    hold_from_checks,
    period_starts,
    trailing_return,
)


class SmallLargeRelativeStrength(Strategy):
    name = "small-large-relative-strength"
    rule = (
        "At the first ASX session of each rebalance period, hold ASX small caps (XSO) if their "
        "lookback-session return beats the S&P/ASX 200's (XJO), else hold the S&P/ASX 200; keep "
        "that holding until the next check. Large caps until both returns are known."
    )
    params = (
        Param(
            "lookback",
            60,
            "int",
            "sessions over which each index's return is measured",
            "sessions",
            low=1,
            high=500,
        ),
        Param(
            "rebalance",
            "monthly",
            "choice",
            "how often the comparison is made",
            choices=("daily", "weekly", "monthly"),
        ),
    )
    traded = (SMALL, LARGE)

    def warmup(self) -> int:
        return PERIOD_SESSIONS[self.values["rebalance"]]

    def weights(self, ctx, p) -> np.ndarray:
        small, large = ctx.market[SMALL], ctx.market[LARGE]
        r_small = ctx.asof(trailing_return(small.values.to_numpy(), p["lookback"]), small.known_ns)
        r_large = ctx.asof(trailing_return(large.values.to_numpy(), p["lookback"]), large.known_ns)
        check = period_starts(ctx.labels, p["rebalance"])
        on = hold_from_checks(check, r_small > r_large)  # NaN compares False: large caps
        out = np.zeros((len(ctx.labels), 2))
        out[:, 0] = on
        out[:, 1] = ~on
        return out
