"""Sibling: hold ASX small caps while the Fed's last rate move was a cut.

The last move (sign of the last non-zero change in ``data/events/fomc.csv``) reaches the ASX
decision points through ``Context.asof`` at its announcement instant, so a cut announced at 14:00
New York time is first acted on at the next ASX open.
"""

from __future__ import annotations

import numpy as np

from engine.feeds.events import Decisions
from engine.strategy.base import Strategy

from .common import LARGE, SMALL, risk_off_param, small_or_risk_off, weight_param


def last_move_was_cut(ctx, decisions: Decisions) -> np.ndarray:
    """Per decision point: True where the last rate move known before it was a cut."""
    change = decisions.frame["change_bps"].to_numpy(dtype=np.float64)
    moved = change != 0
    last = ctx.asof(np.sign(change[moved]), decisions.known_ns[moved])
    return last < 0  # NaN (no move known yet) compares False


class FedEasingCycle(Strategy):
    name = "fed-easing-cycle"
    rule = (
        "Hold `weight` in ASX small caps (XSO) while the Federal Reserve's last rate move, as known "
        "before the ASX open, was a cut; after a hike (or before any move is known) hold the "
        "S&P/ASX 200 (risk_off=large) or cash. Each cut is a signal; the first cut after a hike "
        "starts a rotation and the first hike ends it."
    )
    params = (risk_off_param("large"), weight_param())
    traded = (SMALL, LARGE)
    bank = "fomc"

    def decisions(self, ctx) -> Decisions:
        return getattr(ctx, self.bank)

    def weights(self, ctx, p) -> np.ndarray:
        on = last_move_was_cut(ctx, self.decisions(ctx))
        return small_or_risk_off(on, p["weight"], p["risk_off"])

    def signal_flags(self, ctx, p):
        dec = self.decisions(ctx)
        cut = dec.frame["change_bps"].to_numpy() < 0
        return cut, dec.known_ns, dec.frame.index, f"{self.bank.upper()} rate cut"
