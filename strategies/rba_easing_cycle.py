"""Sibling: hold ASX small caps while the RBA's last cash-rate move was a cut.

The same rule as ``fed-easing-cycle`` on ``data/events/rba.csv``: each RBA decision is known at its
announcement (09:30 Sydney before February 2008, 14:30 since), so a 14:30 cut is first acted on at the
next ASX open and a 09:30 cut (before the 10:00 open) on the same day.
"""

from __future__ import annotations

from .fed_easing_cycle import FedEasingCycle


class RbaEasingCycle(FedEasingCycle):
    name = "rba-easing-cycle"
    rule = (
        "Hold `weight` in ASX small caps (XSO) while the Reserve Bank of Australia's last cash-rate "
        "move, as known before the ASX open, was a cut; after a hike (or before any move is known) "
        "hold the S&P/ASX 200 (risk_off=large) or cash. Each cut is a signal; the first cut after "
        "a hike starts a rotation and the first hike ends it."
    )
    bank = "rba"
