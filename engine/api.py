"""The run API the CLI calls: one strategy, one data folder, one window -> a ``RunResult``.

This logic lives here, in order:

1. load the instruments the strategy needs (plus the benchmark and the base currency's cash rate);
2. build decision points on the traded market over the whole loaded history, so features that need
   history (all-time highs, holds started before the window) are right at the window's first session;
3. ask the strategy for target weights, keep only the rows where the target changes (the first
   window row always trades), and cut to the window;
4. simulate fills at the traded market's open (or close), with idle cash earning the cash rate;
5. compute metrics, and run a buy-and-hold benchmark through the same engine.

Not here: writing files (``runfiles``), argument parsing (``cli``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engine import align, paths
from engine.errors import ConfigError
from engine.marketdata import MarketData, load_folder
from engine.metrics import compute_metrics
from engine.simulate import SimResult, simulate_sessions
from engine.strategy import Strategy

CASH_RATE = {"AUD": ("RBA_CASH", 365.0), "USD": ("FED_TARGET", 360.0)}


@dataclass(frozen=True)
class RunConfig:
    """Options of one run. Costs in basis points of traded value; dates inclusive."""

    data_dir: Path | None = None
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None
    base_currency: str = "AUD"
    fees_bps: float = 10.0
    slippage_bps: float = 5.0
    fill: str = "open"
    init_cash: float = 100_000.0
    benchmark: str = "XJO"

    def __post_init__(self) -> None:
        if self.base_currency not in CASH_RATE:
            raise ConfigError(
                f"base currency {self.base_currency!r} is not supported; use one of "
                f"{', '.join(CASH_RATE)}."
            )
        if self.fill not in ("open", "close"):
            raise ConfigError(f"--fill must be 'open' or 'close'; got {self.fill!r}.")
        if self.fees_bps < 0 or self.slippage_bps < 0 or self.init_cash <= 0:
            raise ConfigError("fees and slippage must be >= 0 bps and the initial cash > 0.")
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ConfigError(
                f"--start {self.start.date()} is after --end {self.end.date()}; swap them."
            )

    def resolved(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["data_dir"] = str(self.data_dir or paths.sample_dir())
        for k in ("start", "end"):
            out[k] = None if out[k] is None else str(out[k].date())
        return out


@dataclass(frozen=True)
class RunResult:
    strategy: Strategy
    config: RunConfig
    market: MarketData
    sim: SimResult
    benchmark: SimResult
    metrics: dict[str, Any]
    cash_rate_key: str
    markers: dict[str, list[pd.Timestamp]] = field(default_factory=dict)


def _window(labels: pd.DatetimeIndex, cfg: RunConfig) -> np.ndarray:
    lo = labels.searchsorted(cfg.start) if cfg.start is not None else 0
    hi = labels.searchsorted(cfg.end, side="right") if cfg.end is not None else len(labels)
    if hi - lo < 2:
        raise ConfigError(
            f"the window {cfg.start and cfg.start.date()}..{cfg.end and cfg.end.date()} holds "
            f"{max(hi - lo, 0)} sessions of data ({labels[0].date()}..{labels[-1].date()} "
            "available); widen --start/--end."
        )
    return np.arange(lo, hi)


def _change_points(w: np.ndarray) -> np.ndarray:
    """Targets only where they change (NaN elsewhere); the first row always trades."""
    out = np.full_like(w, np.nan)
    changed = np.ones(len(w), dtype=bool)
    changed[1:] = np.abs(np.diff(w, axis=0)).max(axis=1) > 0
    out[changed] = w[changed]
    return out


def _prices(market: MarketData, keys: tuple[str, ...], labels: pd.DatetimeIndex, col: str):
    return pd.DataFrame({k: market[k].frame[col].reindex(labels) for k in keys}, index=labels)


def _cash_accrual(market: MarketData, key: str, labels: pd.DatetimeIndex, basis: float):
    """Cash growth per session: the rate in force on the previous session, over calendar days."""
    rate = market[key].values.reindex(labels.union(market[key].frame.index)).ffill()
    prev = rate.reindex(labels).shift(1).fillna(0.0).to_numpy() / 100.0
    days = np.diff(labels.asi8, prepend=labels.asi8[0]) / 86_400e9
    return prev * days / basis


def run_backtest(strategy: Strategy, cfg: RunConfig) -> RunResult:
    rate_key, basis = CASH_RATE[cfg.base_currency]
    keys = list(dict.fromkeys((*strategy.required(), cfg.benchmark, rate_key)))
    folder = Path(cfg.data_dir or paths.sample_dir())
    market = load_folder(folder, keys)
    assets = strategy.assets()
    insts = [market[k].instrument for k in (*assets, cfg.benchmark)]
    foreign = [i.key for i in insts if i.currency != cfg.base_currency]
    if foreign or len({i.calendar for i in insts}) != 1:
        raise ConfigError(
            f"{strategy.name}: traded instruments and benchmark must share one exchange and the base "
            f"currency {cfg.base_currency} for now (found {', '.join(foreign) or 'mixed calendars'}); "
            "cross-currency portfolios arrive with the FX engine."
        )
    first = max(market[k].frame.index[0] for k in assets)
    last = min(market[k].frame.index[-1] for k in assets)
    ctx = align.build_context(market, insts[0].calendar, first, last, cfg.fill)
    weights = strategy.target_weights(ctx)
    rows = _window(ctx.labels, cfg)
    labels = ctx.labels[rows]
    targets = _change_points(weights)[rows]
    targets[0] = weights[rows[0]]
    fill_col = "open" if cfg.fill == "open" else "close"
    accrual = _cash_accrual(market, rate_key, labels, basis)
    costs = dict(init_cash=cfg.init_cash, fees_bps=cfg.fees_bps, slippage_bps=cfg.slippage_bps)
    sim = simulate_sessions(
        _prices(market, assets, labels, fill_col),
        _prices(market, assets, labels, "close"),
        pd.DataFrame(targets, labels, list(assets)),
        accrual=accrual,
        **costs,
    )
    bench_w = np.full((len(labels), 1), np.nan)
    bench_w[0] = 1.0
    bench = simulate_sessions(
        _prices(market, (cfg.benchmark,), labels, fill_col),
        _prices(market, (cfg.benchmark,), labels, "close"),
        pd.DataFrame(bench_w, labels, [cfg.benchmark]),
        accrual=accrual,
        **costs,
    )
    metrics = compute_metrics(
        sim.equity, cfg.init_cash, accrual, sim.weights, sim.orders["value"].to_numpy()
    )
    return RunResult(
        strategy, cfg, market, sim, bench, metrics, rate_key, markers=_markers(ctx, labels, sim)
    )


def _markers(ctx: align.Context, labels: pd.DatetimeIndex, sim: SimResult):
    """Session dates of Fed/RBA moves (first session at or after the announcement) and of trades."""
    out: dict[str, list[pd.Timestamp]] = {}
    for label, dec, sign in (
        ("Fed cut", ctx.fomc, -1),
        ("Fed hike", ctx.fomc, 1),
        ("RBA cut", ctx.rba, -1),
        ("RBA hike", ctx.rba, 1),
    ):
        frame, _ = dec.changes(sign)
        pos = labels.searchsorted(frame.index)
        out[label] = [labels[p] for p in pos if 0 < p < len(labels)]
    buys = sim.orders[sim.orders["units"] > 0]
    sells = sim.orders[sim.orders["units"] < 0]
    out["buy"] = sorted(set(buys["session"]))
    out["sell"] = sorted(set(sells["session"]))
    return out
