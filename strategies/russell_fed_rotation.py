"""The flagship: rotate into ASX small caps after a Russell 2000 record close that follows a Fed cut.

This logic lives here, in order:

1. on the Russell 2000's own axis: record closes (``record_close_1d_nb``) and the calendar days
   since the last Fed cut known before each close (``cut_age_days``); a trigger is a record no more
   than ``cut_window_days`` after the cut;
2. derail exits, each on its own series' axis and each off by default: a Fed hike, the Russell's
   drawdown from its high, a US 10-year yield spike, an AUD/USD drop;
3. through the alignment layer (``Context.count``) onto ASX decision points, so a record made at the
   US close on date D is first tradeable at the next ASX open (normally Sydney date D+1);
4. the hold (``hold_1d_nb``): ``hold_days`` ASX sessions from each trigger, a fresh trigger
   extending it, a derail ending it (a derail wins over a trigger at the same decision point).

A grid's combos take the fused path (``grid_weights``): signals and derails once per distinct
setting, every combo's holds into orders in one kernel (``rotation_grid.grid_orders_nb``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numba import njit

from engine.sim.orders import Orders
from engine.strategy.base import Param, Strategy, with_lead_in

from .common import (
    hold_1d_nb,
    hold_days_param,
    risk_off_param,
    running_high_1d_nb,
    small_or_risk_off,
    trailing_change,
    trailing_return,
    weight_param,
)
from .rotation_grid import HoldCombos, factorize, grid_orders_nb, hold_points

NEVER = np.iinfo(np.int64).min // 2
SIGNAL_KEYS = ("record_lookback", "cut_window_days")
# Sessions of Russell 2000 history (a year) below which an "all-time high" is a short sample's high.
RECORD_HISTORY = 252
EXIT_KEYS = ("exit_on_hike", "exit_drawdown", "record_lookback", "yield_spike_bp", "yield_window",
             "aud_drop", "aud_window")  # fmt: skip


@njit(cache=True)
def record_close_1d_nb(close, lookback):
    """True where ``close`` exceeds every earlier close (``lookback`` = 0) or the previous
    ``lookback`` closes. The first observation is never a record (nothing to beat). O(n) for any
    lookback: a window's maximum comes off a queue of indices with decreasing closes."""
    n = close.shape[0]
    out = np.zeros(n, dtype=np.bool_)
    if lookback == 0:
        running = -np.inf
        for i in range(n):
            out[i] = i > 0 and close[i] > running
            running = max(running, close[i])
        return out
    queue = np.empty(n, np.int64)
    head, tail = 0, 0
    for i in range(n):
        while head < tail and queue[head] < i - lookback:
            head += 1
        out[i] = head < tail and close[i] > close[queue[head]]
        while head < tail and close[queue[tail - 1]] <= close[i]:
            tail -= 1
        queue[tail] = i
        tail += 1
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
    """Instant of the last event strictly before each ``at_ns`` (``NEVER``, very early, when none)."""
    event_ns = np.asarray(event_ns, dtype=np.int64)
    pos = np.searchsorted(event_ns, at_ns, side="left") - 1
    if event_ns.size == 0:
        return np.full(np.shape(at_ns), NEVER, dtype=np.int64)
    return np.where(pos >= 0, event_ns[np.maximum(pos, 0)], NEVER)


def cut_age_days(
    dates: pd.DatetimeIndex, known_ns: np.ndarray, cut_ns: np.ndarray, tz: str
) -> np.ndarray:
    """Calendar days from the local date (in ``tz``) of the last cut known strictly before each
    observation to the observation's own date; NaN where no cut was known yet."""
    last = last_before(cut_ns, known_ns)
    has = last > NEVER
    out = np.full(len(dates), np.nan)
    if has.any():
        cut_local = pd.DatetimeIndex(last[has], tz="UTC").tz_convert(tz).normalize()
        cut_dates = cut_local.tz_localize(None).as_unit("ns")
        out[has] = (dates[has].as_unit("ns") - cut_dates).days
    return out


class RussellFedRotation(Strategy):
    name = "russell-fed-rotation"
    rule = (
        "When the Russell 2000 closes at a record within cut_window_days calendar days after a Fed "
        "rate-cut announcement, rotate `weight` of the portfolio into ASX small caps (XSO) at the "
        "next ASX open and hold for hold_days ASX sessions (a fresh signal extends the hold); the "
        "rest, and everything outside a hold, sits in the S&P/ASX 200 (risk_off=large) or cash. "
        "Optional derails end a hold early: a Fed hike, the Russell 2000 falling exit_drawdown "
        "from its high, the US 10-year yield rising yield_spike_bp over yield_window sessions, or "
        "AUD/USD falling aud_drop over aud_window sessions."
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
            "calendar days after a Fed cut announcement in which a record close counts (inclusive)",
            "days",
            low=0,
            high=730,
        ),
        hold_days_param(),
        risk_off_param("large"),
        weight_param(),
        Param(
            "exit_on_hike",
            "off",
            "choice",
            "derail: end the hold when a Fed hike is announced",
            choices=("off", "on"),
        ),
        Param(
            "exit_drawdown",
            0.0,
            "float",
            "derail: end the hold when the Russell 2000 closes this "
            "far below its high (same lookback as records); 0 = off",
            "fraction",
            low=0.0,
            high=0.9,
        ),
        Param(
            "yield_spike_bp",
            0.0,
            "float",
            "derail: end the hold when the US 10-year yield rises "
            "more than this over yield_window sessions; 0 = off",
            "bp",
            low=0.0,
            high=500.0,
        ),
        Param(
            "yield_window",
            20,
            "int",
            "sessions over which the yield rise is measured",
            "sessions",
            low=1,
            high=250,
        ),
        Param(
            "aud_drop",
            0.0,
            "float",
            "derail: end the hold when AUD/USD falls more than this "
            "over aud_window sessions; 0 = off",
            "fraction",
            low=0.0,
            high=0.5,
        ),
        Param(
            "aud_window",
            20,
            "int",
            "sessions over which the AUD/USD fall is measured",
            "sessions",
            low=1,
            high=250,
        ),
    )
    traded = ("XSO", "XJO")
    requires = ("RUT",)
    optional = {"US10Y": "yield_spike_bp > 0", "AUDUSD": "aud_drop > 0"}

    def required(self) -> tuple[str, ...]:
        extra = ("US10Y",) * (self.values["yield_spike_bp"] > 0)
        extra += ("AUDUSD",) * (self.values["aud_drop"] > 0)
        return tuple(dict.fromkeys((*self.assets(), *self.requires, *extra)))

    def warmup(self) -> int:
        return self.values["hold_days"]

    def trigger(self, ctx, p, age: np.ndarray | None = None, record=None) -> np.ndarray:
        """Record closes within the cut window, on the Russell 2000's own axis (``age``: the
        calendar days since the last cut per close, ``record``: the record flags of
        ``p["record_lookback"]``, when already computed)."""
        rut = ctx.market["RUT"]
        if record is None:
            close = np.ascontiguousarray(rut.values.to_numpy(dtype=np.float64))
            record = record_close_1d_nb(close, p["record_lookback"])
        if age is None:
            age = cut_age_days(
                rut.frame.index, rut.known_ns, ctx.fomc.changes(-1)[1], rut.instrument.tz
            )
        return record & (age <= p["cut_window_days"])

    def exits(self, ctx, p) -> np.ndarray:
        """Derails known since the previous decision point, per decision point."""
        out = np.zeros(len(ctx.labels), dtype=bool)
        if p["exit_on_hike"] == "on":
            hikes = ctx.fomc.changes(1)[1]
            out |= ctx.count(np.ones(len(hikes), dtype=bool), hikes) > 0
        if p["exit_drawdown"] > 0:
            rut = ctx.market["RUT"]
            close = np.ascontiguousarray(rut.values.to_numpy(dtype=np.float64))
            high = running_high_1d_nb(close, p["record_lookback"])
            out |= ctx.count(close <= high * (1.0 - p["exit_drawdown"]), rut.known_ns) > 0
        if p["yield_spike_bp"] > 0:
            us10 = ctx.market["US10Y"]  # percent: 1 bp = 0.01
            rise = trailing_change(us10.values.to_numpy(), p["yield_window"])
            out |= ctx.count(rise > p["yield_spike_bp"] / 100.0, us10.known_ns) > 0
        if p["aud_drop"] > 0:
            aud = ctx.market["AUDUSD"]
            move = trailing_return(aud.values.to_numpy(), p["aud_window"])
            out |= ctx.count(move < -p["aud_drop"], aud.known_ns) > 0
        return out

    def weights(self, ctx, p) -> np.ndarray:
        fired = ctx.count(self.trigger(ctx, p), ctx.market["RUT"].known_ns) > 0
        held = hold_1d_nb(fired, self.exits(ctx, p), p["hold_days"])
        return small_or_risk_off(held, p["weight"], p["risk_off"])

    def chart_markers(self, ctx) -> dict[str, pd.DatetimeIndex]:
        """Russell 2000 record closes: above every earlier close in the data."""
        close = ctx.market["RUT"].values
        return {"Russell record": close.index[(close > close.cummax().shift(1)).to_numpy()]}

    def run_warnings(self, ctx, observed) -> list[str]:
        """A record read off less than ``RECORD_HISTORY`` sessions of Russell 2000 history (or less
        than ``record_lookback``) is a high of a short sample, not a record: warn when a signal in
        the window rests on one (a file starting in 2019 makes November 2019 look like records)."""
        lookback = self.values["record_lookback"]
        need = lookback if lookback > 0 else RECORD_HISTORY
        rut = ctx.market["RUT"]
        history = rut.frame.index.searchsorted(pd.DatetimeIndex(observed))
        short = pd.DatetimeIndex(observed)[history < need]
        if short.empty:
            return []
        what = "all-time highs" if lookback == 0 else f"{lookback}-session highs"
        return [
            f"{rut.path.name}: {len(short)} signal(s) (first {short[0].date()}) rest on {what} "
            f"read off fewer than {need} sessions of Russell 2000 history (the file starts "
            f"{rut.frame.index[0].date()}): they may not be records at all; load more history "
            "or set record_lookback."
        ]

    def signal_flags(self, ctx, p):
        rut = ctx.market["RUT"]
        return self.trigger(ctx, p), rut.known_ns, rut.frame.index, "RUT record after a Fed cut"

    @classmethod
    def grid_weights(cls, ctx, combos: pd.DataFrame, rows) -> Orders:
        """Window orders for many parameter combos (``resolve_frame``'d) at once, identical to
        ``api.window_targets`` run once per combo: signals and derails are computed once per
        distinct setting and every combo's holds become orders in one kernel (``grid_orders_nb``).
        ``rows``: consecutive decision rows."""
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size and np.any(np.diff(rows) != 1):
            raise ValueError("grid_weights needs consecutive decision rows")
        ectx, lead = with_lead_in(ctx, int(combos["hold_days"].max()))
        inst, rut = cls(), ectx.market["RUT"]
        age = cut_age_days(
            rut.frame.index, rut.known_ns, ectx.fomc.changes(-1)[1], rut.instrument.tz
        )
        sig_codes, sig_keys = factorize(combos, SIGNAL_KEYS)
        exit_codes, exit_keys = factorize(combos, EXIT_KEYS)
        close = np.ascontiguousarray(rut.values.to_numpy(dtype=np.float64))
        records: dict[int, np.ndarray] = {}
        for v in sig_keys:
            if v["record_lookback"] not in records:
                records[v["record_lookback"]] = record_close_1d_nb(close, v["record_lookback"])
        fired = [
            ectx.count(inst.trigger(ectx, v, age, records[v["record_lookback"]]), rut.known_ns) > 0
            for v in sig_keys
        ]
        exits = [inst.exits(ectx, v) for v in exit_keys]
        hold = HoldCombos(
            sig_codes, exit_codes, np.array(combos["hold_days"], dtype=np.int64),
            np.array(combos["weight"], dtype=np.float64),
            (combos["risk_off"].to_numpy() == "large").astype(np.float64),
        )  # fmt: skip
        a = int(rows[0]) + lead if rows.size else 0
        offsets, row, weight = grid_orders_nb(hold_points(fired, exits), hold, a, a + rows.size - 1)
        return Orders(offsets, row, weight, n_rows=int(rows.size))
