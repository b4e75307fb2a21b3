"""The rule workload: a 3-block rule that is not the flagship, gridded by both engines.

The rule is ``strategies/rules/rba-easing-momentum.toml``: ASX small caps (XSO) while the RBA cut
within ``rba.days`` days and the Russell 2000 rose more than ``momentum.above`` over 20 sessions,
held ``hold.sessions`` decisions after the last trigger, ended early when AUD/USD falls more than
``aud.below`` over 10 sessions; XJO otherwise. Same data, costs and fills as the flagship's
workload (``workload``: the zero-rate sample, close fills).

- crosscurrent: ``simulate_combos`` with the rule's class (its fused ``grid_weights``: every block
  once per distinct setting, every combo's orders in one numba kernel), as ``backtest grid --rule``;
- vectorbt: what a vectorbt user writes for the same rule: the three blocks' flags per distinct
  setting with NumPy (``searchsorted`` for knowledge instants), triggers by broadcasting over
  (K, observations), counted onto ASX decisions with cumulative sums, the hold-with-exit state
  stepped over sessions for all K at once, change points, ``Portfolio.from_orders``,
  ``sharpe_ratio()`` and ``max_drawdown()``, in chunks of ``VBT_CHUNK`` combos.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import workload as wl

from engine.backtest.run import prepare
from engine.research.grid import simulate_combos
from engine.rules import load_rule
from engine.strategy.base import with_lead_in
from engine.strategy.space import Space

RULE_FILE = (
    Path(__file__).resolve().parents[1] / "strategies" / "rules" / "rba-easing-momentum.toml"
)
SPACE = (
    "rba.days=10:360:10",
    "momentum.above=0:0.1:0.01",
    "hold.sessions=5:100:5",
    "aud.below=-0.05:-0.01:0.01",
)  # 36 x 11 x 20 x 5 = 39,600 combos
VBT_CHUNK = 1000


@dataclass(frozen=True)
class RuleWorkload(wl.Workload):
    cls: type = type(None)  # the rule's Strategy class


def load() -> RuleWorkload:
    flagship = wl.load()
    cls = load_rule(RULE_FILE)
    cfg = flagship.cfg
    return RuleWorkload(cfg, prepare(cls(), cfg), Space.from_specs(cls, list(SPACE)), cls)


def run_crosscurrent(w: RuleWorkload, combos: pd.DataFrame) -> pd.DataFrame:
    table, _ = simulate_combos(w.cls, w.prepared, w.cfg, combos)
    return table


# ---- vectorbt ------------------------------------------------------------------------------------


def _ret(values: np.ndarray, n: int) -> np.ndarray:
    out = np.full(values.shape, np.nan)
    out[n:] = values[n:] / values[:-n] - 1.0
    return out


def vbt_weights(w: RuleWorkload, combos: pd.DataFrame) -> np.ndarray:
    """Orders (T, 2K), columns (XSO, XJO) per combo, NaN = no order."""
    hold = combos["hold.sessions"].to_numpy(dtype=np.int64)
    ctx, lead = with_lead_in(w.prepared.ctx, int(hold.max()))
    dec = np.asarray(ctx.decision_ns)
    rut, aud = ctx.market["RUT"], ctx.market["AUDUSD"]
    # RBA cut within `days` of each Russell close (local dates in New York)
    cuts = ctx.rba.changes(-1)[1]
    pos = np.searchsorted(cuts, rut.known_ns, side="left") - 1
    cut_day = pd.DatetimeIndex(cuts[np.maximum(pos, 0)], tz="UTC").tz_convert(rut.instrument.tz)
    cut_day = cut_day.normalize().tz_localize(None).as_unit("ns").asi8 // 86_400_000_000_000
    age = rut.frame.index.as_unit("ns").asi8 // 86_400_000_000_000 - cut_day
    age = np.where(pos >= 0, age, np.iinfo(np.int64).max)
    days = combos["rba.days"].to_numpy(dtype=np.int64)
    above = combos["momentum.above"].to_numpy(dtype=np.float64)
    mom = _ret(rut.values.to_numpy(dtype=np.float64), 20)
    with np.errstate(invalid="ignore"):
        trig = (age[None, :] <= days[:, None]) & (mom[None, :] > above[:, None])  # (K, n_rut)
    # onto decisions: a trigger counts at the first decision after it is known
    csum = np.zeros((len(combos), trig.shape[1] + 1), dtype=np.int64)
    np.cumsum(trig, axis=1, out=csum[:, 1:])
    upto = np.searchsorted(rut.known_ns, dec, side="left")  # observations known before each
    fired = np.diff(csum[:, upto], axis=1, prepend=0) > 0  # (K, L)
    below = combos["aud.below"].to_numpy(dtype=np.float64)
    move = _ret(aud.values.to_numpy(dtype=np.float64), 10)
    with np.errstate(invalid="ignore"):
        slide = move[None, :] < below[:, None]
    ecsum = np.zeros((len(combos), slide.shape[1] + 1), dtype=np.int64)
    np.cumsum(slide, axis=1, out=ecsum[:, 1:])
    eupto = np.searchsorted(aud.known_ns, dec, side="left")
    exits = np.diff(ecsum[:, eupto], axis=1, prepend=0) > 0
    held = np.zeros(fired.shape, dtype=bool)
    left = np.zeros(len(combos), dtype=np.int64)
    for j in range(fired.shape[1]):  # the hold: a fire restarts it, an exit ends it
        left = np.where(fired[:, j], hold, left)
        left = np.where(exits[:, j], 0, left)
        held[:, j] = left > 0
        left = np.maximum(left - 1, 0)
    t = np.asarray(w.prepared.rows) + lead
    on = held[:, t].T  # (T, K)
    out = np.empty((len(t), 2 * len(combos)))
    out[:, 0::2] = np.where(on, 1.0, 0.0)
    out[:, 1::2] = np.where(on, 0.0, 1.0)
    same = np.zeros(out.shape, dtype=bool)
    same[1:, 0::2] = same[1:, 1::2] = on[1:] == on[:-1]
    out[same] = np.nan
    return out


def run_vectorbt(w: RuleWorkload, combos: pd.DataFrame, engine: str = "numba"):
    import vectorbt as vbt

    sharpe, mdd = [], []
    close1 = wl.vbt_close(w)
    year = pd.Timedelta(days=wl.periods_per_year(w))
    for i in range(0, len(combos), VBT_CHUNK):
        part = combos.iloc[i : i + VBT_CHUNK]
        k = len(part)
        pf = vbt.Portfolio.from_orders(
            np.tile(close1, (1, k)), vbt_weights(w, part), size_type="targetpercent",
            fees=wl.FEES_BPS * 1e-4, slippage=wl.SLIPPAGE_BPS * 1e-4, init_cash=wl.INIT_CASH,
            cash_sharing=True, group_by=np.repeat(np.arange(k), 2), call_seq="auto", freq="1D",
            engine=engine,
        )  # fmt: skip
        sharpe.append(np.asarray(pf.sharpe_ratio(year_freq=year), dtype=np.float64))
        mdd.append(np.asarray(pf.max_drawdown(), dtype=np.float64))
        del pf
        gc.collect()
    return np.concatenate(sharpe), np.concatenate(mdd)
