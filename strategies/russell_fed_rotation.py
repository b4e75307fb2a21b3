"""The flagship: rotate into ASX small caps after a Russell 2000 record close that follows a Fed cut.

The rule is ``RULE``, a rule from blocks (``engine.rules``; shipped as
``strategies/rules/russell-fed-rotation.toml``), with the flagship's parameter names and its
weights (``weight`` in small caps, the rest and everything outside a hold in large caps or cash):

1. on the Russell 2000's own axis: a record close (``record``) no more than ``cut_window_days``
   calendar days after the last Fed cut known before that close (``cut``);
2. through knowledge instants onto ASX decision points, so a record made at the US close on date D
   is first tradeable at the next ASX open (normally Sydney date D+1);
3. the hold: ``hold_days`` ASX sessions from each trigger, a fresh trigger extending it;
4. derail exits, each off by default, ending a hold at the first decision after they are known (a
   derail wins over a trigger at the same decision point): a Fed hike (``hike``), the Russell's
   drawdown from its high over the record lookback (``drawdown``), a US 10-year yield spike
   (``yield``), an AUD/USD drop (``aud``).

A single run and a grid share the rule machine (``engine.rules.machine``): signals and derails
once per distinct setting, every combo's orders from one kernel.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.rules import rule_from_dict
from engine.rules.machine import compile_rule, rule_orders, rule_states, trigger_flags
from engine.sim.orders import Orders
from engine.strategy.base import Param, Strategy, with_lead_in

from .common import hold_days_param, risk_off_param, weight_param

# Sessions of Russell 2000 history (a year) below which an "all-time high" is a short sample's high.
RECORD_HISTORY = 252
RULE = rule_from_dict(
    {
        "name": "russell-fed-rotation",
        "trade": {"on": {"XSO": 1.0}, "off": {"XJO": 1.0}},  # per combo: weight and risk_off
        "when": [
            {"name": "record", "block": "record", "series": "RUT", "lookback": 0},
            {"name": "cut", "block": "event_within", "events": "fomc", "move": "cut", "days": 30},
        ],
        "hold": {"sessions": 20},
        "exit": [
            {"name": "hike", "block": "event_within", "events": "fomc", "move": "hike", "days": 0},
            {"name": "drawdown", "block": "drawdown", "series": "RUT", "below": 0.1},
            {"name": "yield", "block": "change", "series": "US10Y", "window": 20, "above": 0.2},
            {"name": "aud", "block": "change", "series": "AUDUSD", "window": 20, "below": -0.05},
        ],
    },
    "strategies/russell_fed_rotation.py",
)


def rule_frame(values: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The flagship's combos (``resolve_frame``'d) as ``RULE``'s settings and (on, off) weights
    over (XSO, XJO); a derail whose parameter is 0 (or ``exit_on_hike=off``) is off."""
    lookback = values["record_lookback"].to_numpy(dtype=np.int64)
    dd = values["exit_drawdown"].to_numpy(dtype=np.float64)
    spike = values["yield_spike_bp"].to_numpy(dtype=np.float64)
    drop = values["aud_drop"].to_numpy(dtype=np.float64)
    frame = pd.DataFrame(
        {
            "record.lookback": lookback,
            "cut.days": values["cut_window_days"].to_numpy(dtype=np.int64),
            "hold.sessions": values["hold_days"].to_numpy(dtype=np.int64),
            "hike.enabled": values["exit_on_hike"].to_numpy() == "on",
            "drawdown.below": dd,
            "drawdown.lookback": lookback,
            "drawdown.enabled": dd > 0,
            "yield.window": values["yield_window"].to_numpy(dtype=np.int64),
            "yield.above": spike / 100.0,  # the yield is in percent: 1 bp = 0.01
            "yield.enabled": spike > 0,
            "aud.window": values["aud_window"].to_numpy(dtype=np.int64),
            "aud.below": -drop,
            "aud.enabled": drop > 0,
        },
        index=values.index,
    )
    weight = values["weight"].to_numpy(dtype=np.float64)
    base = (values["risk_off"].to_numpy() == "large").astype(np.float64)
    on = np.column_stack([weight, (1.0 - weight) * base])
    off = np.column_stack([np.zeros(len(weight)), base])
    return frame, on, off


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

    @classmethod
    def compile(cls, ctx, values: pd.DataFrame):
        frame, on, off = rule_frame(values)
        return compile_rule(RULE, ctx, frame, on, off)

    def weights(self, ctx, p) -> np.ndarray:
        c = self.compile(ctx, pd.DataFrame([dict(p)]))
        return np.where(rule_states(c)[0][:, None], c.combos.on[0], c.combos.off[0])

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
        flags = trigger_flags(self.compile(ctx, pd.DataFrame([dict(p)])))
        return flags, rut.known_ns, rut.frame.index, "RUT record after a Fed cut"

    @classmethod
    def grid_weights(cls, ctx, combos: pd.DataFrame, rows) -> Orders:
        """Window orders for many parameter combos (``resolve_frame``'d) at once, identical to
        ``window_targets`` run once per combo (the rule machine). ``rows``: consecutive rows."""
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size and np.any(np.diff(rows) != 1):
            raise ValueError("grid_weights needs consecutive decision rows")
        ectx, lead = with_lead_in(ctx, int(combos["hold_days"].max()))
        c = cls.compile(ectx, combos)
        a = int(rows[0]) + lead if rows.size else 0
        offsets, row, weight = rule_orders(c, a, a + rows.size - 1)
        return Orders(offsets, row, weight, n_rows=int(rows.size))
