"""The shared workload of the grid benchmarks: the flagship's own grid, run by both engines.

This logic lives here, in order:

1. data - a copy of the embedded sample (``data/sample``, ~6,580 ASX sessions, synthetic) in a temp
   folder with the RBA cash rate set to 0, so idle cash earns nothing (vectorbt has no interest);
   decisions just before each ASX close and fills at that close (``fill="close"``), 10 bps fees and
   5 bps slippage, AUD 100,000 - ``prepare`` loads it once for both engines (untimed);
2. combos - distinct draws (``Space.sample``, seed 7) from the flagship space ``SPACE`` (1.6 M
   combos): signals from a record-high rule (``record_lookback``) and an event window after a Fed
   cut (``cut_window_days``), a ``hold_days`` hold, a ``weight`` in XSO and the rest in XJO or cash
   (``risk_off``) - a target-weight rotation across three holdings: XSO, XJO and cash;
3. crosscurrent - ``engine.research.grid.simulate_combos``: signals, holds and target weights
   (the strategy's ``grid_weights``), orders on the step timeline, the parallel kernel and every grid
   metric (26 per combo, Sharpe and max drawdown among them);
4. vectorbt - what a vectorbt user writes: the same trigger flags per distinct signal setting (the
   strategy's record/cut-window rule and the alignment onto ASX decision points - vectorbt has no
   cross-calendar alignment), holds, weights and change points by NumPy broadcasting over (T, K),
   then ``Portfolio.from_orders(size_type="targetpercent", cash_sharing=True, group_by=...)``,
   ``sharpe_ratio()`` and ``max_drawdown()`` - in chunks of ``VBT_CHUNK`` combos (K = 1,000 already
   takes ~3 GB in vectorbt).

Not here: timing, memory and processes (``harness``).
"""

from __future__ import annotations

import gc
import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from engine import paths
from engine.backtest.run import Prepared, RunConfig, prepare
from engine.research.grid import simulate_combos
from engine.strategy.base import with_lead_in
from engine.strategy.space import Space
from strategies.russell_fed_rotation import RussellFedRotation

STRATEGY = RussellFedRotation
SIGNAL_KEYS = ("record_lookback", "cut_window_days")
SPACE = (
    "hold_days=1:500:1",
    "cut_window_days=5:200:5",
    "weight=0.05:1:0.05",
    "risk_off=large,cash",
    "record_lookback=0,250",
)
SEED = 7
VBT_CHUNK = 1000
FEES_BPS, SLIPPAGE_BPS, INIT_CASH = 10.0, 5.0, 100_000.0


def zero_rate_sample(folder: Path) -> Path:
    """A copy of the embedded sample in ``folder`` with the RBA cash rate set to 0 (one per
    version of the sample; made in a temp folder and renamed, so concurrent workers are safe)."""
    src = paths.sample_dir()
    digest = hashlib.sha256()
    for path in sorted(src.iterdir()):
        digest.update(path.name.encode() + path.read_bytes())
    out = folder / f"sample-zero-rate-{digest.hexdigest()[:12]}"
    if not out.exists():
        tmp = Path(tempfile.mkdtemp(prefix=".sample-", dir=folder))
        shutil.copytree(src, tmp, dirs_exist_ok=True)
        rate = pd.read_csv(tmp / "RBA_CASH.csv")
        rate["value"] = 0.0
        rate.to_csv(tmp / "RBA_CASH.csv", index=False)
        try:
            os.replace(tmp, out)
        except OSError:  # another process made it first
            shutil.rmtree(tmp, ignore_errors=True)
    return out


def config(data_dir: Path, start: str | None = None) -> RunConfig:
    return RunConfig(
        data_dir=data_dir, start=None if start is None else pd.Timestamp(start), fill="close",
        fees_bps=FEES_BPS, slippage_bps=SLIPPAGE_BPS, init_cash=INIT_CASH,
    )  # fmt: skip


@dataclass(frozen=True)
class Workload:
    cfg: RunConfig
    prepared: Prepared
    space: Space

    @property
    def sessions(self) -> int:
        """Valuation sessions of the window (the T of combo-sessions)."""
        return len(self.prepared.steps.val_labels)

    def combos(self, k: int, seed: int = SEED) -> pd.DataFrame:
        return self.space.sample(k, seed)


def load(start: str | None = None, tmp: Path | None = None) -> Workload:
    tmp = Path(tmp or tempfile.gettempdir()) / "crosscurrent-bench"
    tmp.mkdir(parents=True, exist_ok=True)
    cfg = config(zero_rate_sample(tmp), start)
    return Workload(cfg, prepare(STRATEGY(), cfg), Space.from_specs(STRATEGY, list(SPACE)))


def run_crosscurrent(w: Workload, combos: pd.DataFrame, executor=None) -> pd.DataFrame:
    """The grid table (one row per combo, every grid metric), as ``backtest grid`` computes it."""
    table, _ = simulate_combos(STRATEGY, w.prepared, w.cfg, combos, executor=executor)
    return table


# ---- vectorbt ------------------------------------------------------------------------------------


def _records(close: np.ndarray, lookback: int) -> np.ndarray:
    """Closes above every earlier close (``lookback`` 0) or the previous ``lookback`` closes."""
    s = pd.Series(close)
    prior = (
        s.cummax().shift(1) if lookback == 0 else s.rolling(lookback, min_periods=1).max().shift(1)
    )
    return (s > prior).to_numpy()


def _cut_age(lead_ctx, rut) -> np.ndarray:
    """Calendar days from the last Fed cut known strictly before each Russell close (by local
    dates in New York) to that close; a huge number before the first cut."""
    cuts = lead_ctx.fomc.changes(-1)[1]
    pos = np.searchsorted(cuts, rut.known_ns, side="left") - 1
    day = pd.DatetimeIndex(cuts[np.maximum(pos, 0)], tz="UTC").tz_convert(rut.instrument.tz)
    day = day.normalize().tz_localize(None).as_unit("ns").asi8 // 86_400_000_000_000
    age = rut.frame.index.as_unit("ns").asi8 // 86_400_000_000_000 - day
    return np.where(pos >= 0, age, np.iinfo(np.int64).max)


def _trigger_flags(w: Workload, values: list[dict], lead_ctx):
    """Fired flags (n_signals, L) per distinct signal setting on the lead-in decision axis, with
    NumPy: records within the cut window on the Russell's axis, counted onto ASX decisions."""
    rut = lead_ctx.market["RUT"]
    close = rut.values.to_numpy(dtype=np.float64)
    age = _cut_age(lead_ctx, rut)
    upto = np.searchsorted(rut.known_ns, np.asarray(lead_ctx.decision_ns), side="left")
    keys = sorted({tuple(v[k] for k in SIGNAL_KEYS) for v in values})
    index = {key: i for i, key in enumerate(keys)}
    fired = []
    for lookback, window in keys:
        trig = _records(close, lookback) & (age <= window)
        csum = np.concatenate(([0], np.cumsum(trig)))
        fired.append(np.diff(csum[upto], prepend=0) > 0)
    sig = np.array([index[tuple(v[k] for k in SIGNAL_KEYS)] for v in values], dtype=np.int64)
    return np.stack(fired), sig


def vbt_weights(w: Workload, combos: pd.DataFrame) -> np.ndarray:
    """Orders (T, 2K), columns (XSO, XJO) per combo, NaN = no order: the same rule as
    ``grid_weights`` written with NumPy broadcasting (a hold = any fire in the last hold_days)."""
    values = [STRATEGY.resolve(c) for c in combos.to_dict("records")]
    hold = combos["hold_days"].to_numpy(dtype=np.int64)
    lead_ctx, lead = with_lead_in(w.prepared.ctx, int(hold.max()))
    fired, sig = _trigger_flags(w, values, lead_ctx)
    csum = np.zeros((fired.shape[0], fired.shape[1] + 1), dtype=np.int64)
    np.cumsum(fired, axis=1, out=csum[:, 1:])
    t = (np.asarray(w.prepared.rows) + lead + 1)[:, None]  # (T, 1)
    held = csum[sig, t] - csum[sig, np.maximum(t - hold, 0)] > 0  # (T, K)
    weight = combos["weight"].to_numpy(dtype=np.float64)
    base = (combos["risk_off"].to_numpy() == "large").astype(np.float64)
    out = np.empty((len(t), 2 * len(combos)))
    out[:, 0::2] = np.where(held, weight, 0.0)
    out[:, 1::2] = np.where(held, (1.0 - weight) * base, base)
    same = np.zeros(out.shape, dtype=bool)
    pair_same = (out[1:, 0::2] == out[:-1, 0::2]) & (out[1:, 1::2] == out[:-1, 1::2])
    same[1:, 0::2] = same[1:, 1::2] = pair_same
    out[same] = np.nan  # the first row always trades, later rows only where the target changes
    return out


def vbt_close(w: Workload) -> np.ndarray:
    """Closes (T, 2) of XSO and XJO on the window's sessions (the fill prices)."""
    steps = w.prepared.steps
    return steps.fill[steps.fill_row >= 0]


def run_vectorbt_chunk(w: Workload, combos: pd.DataFrame, engine: str = "numba"):
    """Sharpe and max drawdown (K,) of ``combos`` through vectorbt (one chunk)."""
    import vectorbt as vbt

    k = len(combos)
    size = vbt_weights(w, combos)
    close = np.tile(vbt_close(w), (1, k))
    pf = vbt.Portfolio.from_orders(
        close, size, size_type="targetpercent", fees=FEES_BPS * 1e-4,
        slippage=SLIPPAGE_BPS * 1e-4, init_cash=INIT_CASH, cash_sharing=True,
        group_by=np.repeat(np.arange(k), 2), call_seq="auto", freq="1D", engine=engine,
    )  # fmt: skip
    year = pd.Timedelta(days=periods_per_year(w))
    sharpe = np.asarray(pf.sharpe_ratio(year_freq=year), dtype=np.float64)
    return sharpe, np.asarray(pf.max_drawdown(), dtype=np.float64)


def run_vectorbt(w: Workload, combos: pd.DataFrame, engine: str = "numba", chunk=VBT_CHUNK):
    """Sharpe and max drawdown (K,) chunk by chunk; a ``gc.collect()`` after each chunk frees the
    reference cycles of vectorbt's objects (without it RSS grows by ~1 GB per chunk)."""
    sharpe, mdd = [], []
    for i in range(0, len(combos), chunk):
        s, d = run_vectorbt_chunk(w, combos.iloc[i : i + chunk], engine)
        sharpe.append(s)
        mdd.append(d)
        gc.collect()
    return np.concatenate(sharpe), np.concatenate(mdd)


def periods_per_year(w: Workload) -> float:
    """crosscurrent's annualisation (valuation sessions per calendar year), given to vectorbt as
    ``year_freq`` in days with ``freq="1D"`` so both Sharpe ratios use the same factor."""
    idx = w.prepared.steps.val_labels
    return len(idx) / (((idx[-1] - idx[0]).days + 1) / 365.25)
