"""The flagship: rotate into ASX small caps after a Russell 2000 record close that follows a Fed cut.

Features are computed on each series' own axis and reach the ASX decision points only through the
alignment layer (``Context.count``), so a record made at the US close on date D is first tradeable at
the next ASX open (normally Sydney date D+1).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from engine.calendars import DAY_NS
from engine.strategy import Param, Strategy


@njit(cache=True)
def record_close_1d_nb(close, lookback):
    """True where ``close`` exceeds every earlier close (``lookback`` = 0) or the previous
    ``lookback`` closes. The first observation is never a record (nothing to beat)."""
    n = close.shape[0]
    out = np.zeros(n, dtype=np.bool_)
    running = -np.inf
    for i in range(n):
        if lookback == 0:
            out[i] = i > 0 and close[i] > running
            running = max(running, close[i])
        elif i > 0:
            best = -np.inf
            for k in range(max(0, i - lookback), i):
                best = max(best, close[k])
            out[i] = close[i] > best
    return out


@njit(cache=True)
def hold_mask_1d_nb(fired, hold_days):
    """True for ``hold_days`` decision points starting at each fired one; a new fire extends."""
    out = np.zeros(fired.shape[0], dtype=np.bool_)
    left = 0
    for i in range(fired.shape[0]):
        if fired[i]:
            left = hold_days
        if left > 0:
            out[i] = True
            left -= 1
    return out


def last_before(event_ns: np.ndarray, at_ns: np.ndarray) -> np.ndarray:
    """Instant of the last event strictly before each ``at_ns`` (a very early instant when none)."""
    pos = np.searchsorted(event_ns, at_ns, side="left") - 1
    never = np.iinfo(np.int64).min // 2
    return np.where(pos >= 0, event_ns[np.maximum(pos, 0)], never)


class RussellFedRotation(Strategy):
    name = "russell-fed-rotation"
    rule = (
        "When the Russell 2000 closes at a record within cut_window_days calendar days after a Fed "
        "rate-cut announcement, rotate `weight` of the portfolio into ASX small caps (XSO) at the "
        "next ASX open and hold for hold_days ASX sessions (a fresh signal extends the hold); the "
        "rest, and everything outside a hold, sits in the S&P/ASX 200 (risk_off=large) or cash."
    )
    params = (
        Param(
            "record_lookback",
            0,
            "int",
            "sessions defining a record close; 0 = all-time high over the full loaded history",
            "sessions",
            low=0,
            high=5000,
        ),
        Param(
            "cut_window_days",
            30,
            "int",
            "calendar days after a Fed cut announcement in which a record close counts",
            "days",
            low=0,
            high=730,
        ),
        Param(
            "hold_days",
            20,
            "int",
            "ASX sessions to stay rotated after a signal",
            "sessions",
            low=1,
            high=1000,
        ),
        Param(
            "risk_off",
            "large",
            "choice",
            "what to hold outside a rotation: the S&P/ASX 200 "
            "('large') or cash at the RBA rate ('cash')",
            choices=("large", "cash"),
        ),
        Param(
            "weight",
            1.0,
            "float",
            "fraction of the portfolio rotated into small caps",
            "fraction",
            low=0.0,
            high=1.0,
        ),
    )
    traded = ("XSO", "XJO")
    requires = ("RUT",)

    def weights(self, ctx, p) -> np.ndarray:
        rut = ctx.market["RUT"]
        close = np.ascontiguousarray(rut.values.to_numpy(dtype=np.float64))
        record = record_close_1d_nb(close, p["record_lookback"])
        cut_ns = ctx.fomc.changes(-1)[1]
        # A cut counts if announced before the record close and no more than the window before it.
        since_cut = rut.known_ns - last_before(cut_ns, rut.known_ns)
        trigger = record & (since_cut <= p["cut_window_days"] * DAY_NS)
        fired = ctx.count(trigger, rut.known_ns) > 0
        held = hold_mask_1d_nb(fired, p["hold_days"])
        out = np.zeros((len(ctx.labels), 2))
        base = 1.0 if p["risk_off"] == "large" else 0.0
        out[:, 0] = np.where(held, p["weight"], 0.0)
        out[:, 1] = np.where(held, (1.0 - p["weight"]) * base, base)
        return out
