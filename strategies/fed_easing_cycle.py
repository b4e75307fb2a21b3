"""Sibling: hold ASX small caps while the Fed's last rate move was a cut.

The rule is one ``easing_cycle`` block (``engine.rules``; shipped as
``strategies/rules/fed-easing-cycle.toml``): the last move (sign of the last non-zero change in
``data/events/fomc.csv``) known strictly before each ASX decision, by its announcement instant, so
a cut announced at 14:00 New York time is first acted on at the next ASX open.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from engine.feeds.events import Decisions
from engine.rules import rule_from_dict
from engine.rules.machine import compile_rule, rule_states
from engine.strategy.base import Strategy

from .common import LARGE, SMALL, risk_off_param, small_or_risk_off, weight_param


@functools.cache
def easing_rule(bank: str):
    """The rule: on while ``bank``'s last rate move known before the decision was a cut."""
    return rule_from_dict(
        {"name": f"{bank}-easing-cycle", "trade": {"on": {SMALL: 1.0}, "off": {LARGE: 1.0}},
         "when": [{"name": "easing", "block": "easing_cycle", "events": bank}]},
        "strategies/fed_easing_cycle.py",
    )  # fmt: skip


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
        frame = pd.DataFrame(index=pd.RangeIndex(1))
        c = compile_rule(easing_rule(self.bank), ctx, frame, np.ones((1, 2)), np.zeros((1, 2)))
        return small_or_risk_off(rule_states(c)[0], p["weight"], p["risk_off"])

    def signal_flags(self, ctx, p):
        dec = self.decisions(ctx)
        cut = dec.frame["change_bps"].to_numpy() < 0
        return cut, dec.known_ns, dec.frame.index, f"{self.bank.upper()} rate cut"
