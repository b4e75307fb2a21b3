"""Baseline: buy one instrument at the first decision point and hold it."""

from __future__ import annotations

import numpy as np

from engine.strategy.base import Param, Strategy


class BuyAndHold(Strategy):
    name = "buy-and-hold"
    rule = (
        "Put the whole portfolio into one instrument at the first session of the window and hold it "
        "to the end, never rebalancing."
    )
    params = (Param("asset", "XJO", "str", "instrument key to hold (any key in instruments.toml)"),)

    def assets(self) -> tuple[str, ...]:
        return (self.values["asset"],)

    def weights(self, ctx, p) -> np.ndarray:
        return np.ones((len(ctx.labels), 1))
