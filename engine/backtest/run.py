"""The run API the CLI calls: one strategy, one data folder, one window -> a ``RunResult``.

This logic lives here, in order:

1. load the instruments the strategy needs, plus the benchmark, the base currency's cash rate and
   the FX series that convert any foreign-currency asset into the base currency;
2. build decision points on the traded market over the whole loaded history, so features that need
   history (all-time highs, holds started before the window) are right at the window's first session;
3. ask the strategy for target weights, keep only the rows where the target changes (the first
   window row always trades), and cut to the window;
4. simulate fills at the traded market's open (or close), valued at the base market's closes in
   the base currency (``timeline``), with idle cash earning the cash rate;
5. compute metrics, and run a buy-and-hold benchmark through the same engine.

Not here: the options of a run (``config``: ``RunConfig`` and ``parse_date``, re-exported here),
writing files (``store.run_folder``), argument parsing (``cli``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engine import paths
from engine.backtest import diagnostics
from engine.backtest.config import RunConfig
from engine.backtest.config import parse_date as parse_date
from engine.backtest.diagnostics import FillSensitivity
from engine.backtest.eventstudy import EventStudy, StudyConfig, event_study
from engine.errors import ConfigError, DataError
from engine.feeds import calendars, coverage, opens
from engine.feeds.instruments import get_instrument, load_instruments
from engine.feeds.marketdata import MarketData, load_folder
from engine.sim.simulate import SimResult, check_targets, simulate_steps
from engine.stats.metrics import compute_metrics
from engine.strategy.base import Strategy
from engine.timing import align
from engine.timing.timeline import CASH_RATE, Steps, build_steps


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
    study: EventStudy | None = None
    holds: dict[str, SimResult] = field(default_factory=dict)  # other buy-and-hold curves
    activity: dict[str, Any] = field(default_factory=dict)  # signals, episodes, time in the asset
    fill_sensitivity: FillSensitivity | None = None
    warnings: tuple[str, ...] = ()  # data and run warnings, path-free, printed on the console


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


def window_targets(strategy: Strategy, ctx: align.Context, rows: np.ndarray) -> np.ndarray:
    """Orders for the window ``rows``: targets where they change, NaN elsewhere; the window's first
    row always trades (the portfolio starts in cash)."""
    weights = strategy.target_weights(ctx)
    targets = _change_points(weights)[rows]
    targets[0] = weights[rows[0]]
    mask = strategy.rebalance_mask(ctx)  # calendar rebalancing (e.g. monthly back to 50/50)
    if mask is not None:
        targets[mask[rows]] = weights[rows][mask[rows]]
    return targets


def _fx_keys(folder: Path, currencies: set[str], base: str) -> list[str]:
    """Keys of the FX series that convert ``currencies`` into ``base`` (by instruments.toml)."""
    instruments = load_instruments(overrides=folder / "instruments.toml")
    keys = []
    for ccy in sorted(currencies - {base}):
        pair = [
            i.key
            for i in instruments.values()
            if i.kind == "fx" and {i.base, i.currency} == {ccy, base}
        ]
        if not pair:
            raise ConfigError(
                f'no FX instrument converts {ccy} into {base}; add one (kind = "fx", base and '
                f"currency {ccy}/{base}) to instruments.toml or change --base-currency."
            )
        keys.append(pair[0])
    return keys


@dataclass(frozen=True)
class Prepared:
    """Everything a run or a grid needs before the strategy's weights: data, decision points, the
    window, the step timeline and the benchmark."""

    market: MarketData
    ctx: align.Context
    rows: np.ndarray  # decision rows of the window
    calendar: str
    assets: tuple[str, ...]
    steps: Steps
    benchmark: SimResult
    rate_key: str
    stale_open: dict[str, float] = field(default_factory=dict)  # traded key -> share (open fills)

    @property
    def labels(self) -> pd.DatetimeIndex:
        return self.ctx.labels[self.rows]

    def bench_returns(self) -> np.ndarray:
        idx = self.steps.val_labels
        return self.benchmark.returns.reindex(idx).to_numpy(dtype=np.float64)


def _check_fill_prices(p: Prepared, targets: np.ndarray, fill: str) -> None:
    """Every order needs a fill price: a target on a session with no quote is an error."""
    at_fill = np.flatnonzero(p.steps.fill_row >= 0)
    gap = ~np.isnan(targets[p.steps.fill_row[at_fill]]) & np.isnan(p.steps.fill[at_fill])
    if gap.any():
        s, j = (int(v[0]) for v in np.nonzero(gap))
        raise DataError(
            f"{p.market[p.assets[j]].path}: no {fill} price for {p.assets[j]} on "
            f"{p.steps.fill_labels[p.steps.fill_row[at_fill[s]]].date()}, a {p.calendar} session "
            "where the strategy trades; fill the gap in the data"
            + (" or use --fill close if only that column is missing." if fill == "open" else ".")
        )


def _benchmark(market, cfg, labels) -> SimResult:
    """Buy-and-hold of ``cfg.benchmark`` from the window's first session, bought at its open, or
    at its close when its opens are mostly stale (``opens``): a benchmark, too, buys at a price
    one could have traded at."""
    inst = market[cfg.benchmark].instrument
    own = calendars.sessions(inst.calendar).between(labels[0], labels[-1]).labels
    fill = cfg.fill
    if fill == "open":
        share = opens.stale_shares(market, (cfg.benchmark,), own[0], own[-1])[cfg.benchmark]
        fill = "close" if share > opens.stale_limit(inst) else fill
    steps = build_steps(market, (cfg.benchmark,), inst.calendar, cfg.base_currency, own, fill)
    targets = np.full((len(own), 1), np.nan)
    targets[0] = 1.0
    return simulate_steps(steps, targets, (cfg.benchmark,), cfg.costs(), cfg.init_cash)


def _load(strategy: Strategy, cfg: RunConfig) -> MarketData:
    folder = Path(cfg.data_dir or paths.sample_dir())
    instruments = load_instruments(overrides=folder / "instruments.toml")
    priced = [get_instrument(instruments, k) for k in (*strategy.assets(), cfg.benchmark)]
    if not priced[-1].is_price or not priced[-1].known.session_close:
        raise ConfigError(
            f"--benchmark {cfg.benchmark} is a {priced[-1].kind} series, not an exchange-traded "
            "price one can buy and hold; pass an index or ETF key such as XJO."
        )
    fx = _fx_keys(folder, {i.currency for i in priced}, cfg.base_currency)
    rate_key = CASH_RATE[cfg.base_currency][0]
    keys = (*strategy.required(), cfg.benchmark, rate_key, *fx)
    return load_folder(folder, list(dict.fromkeys(keys)))


def prepare(strategy: Strategy, cfg: RunConfig, market: MarketData | None = None) -> Prepared:
    """Steps 1-2 of the module docstring, shared by ``run_backtest`` and the grid; pass ``market``
    to reuse data already loaded with the same folder (e.g. for each walk-forward fold)."""
    market = market if market is not None else _load(strategy, cfg)
    assets = strategy.assets()
    traded = {market[k].instrument.calendar for k in assets}
    if len(traded) != 1 or "weekdays" in traded:
        raise ConfigError(
            f"{strategy.name}: the traded instruments {', '.join(assets)} must share one exchange "
            f"calendar (found {', '.join(sorted(traded))})."
        )
    calendar = traded.pop()
    first = max(market[k].frame.index[0] for k in assets)
    last = min(market[k].frame.index[-1] for k in assets)
    if first >= last:
        spans = "; ".join(
            f"{market[k].path.name} {market[k].frame.index[0].date()}.."
            f"{market[k].frame.index[-1].date()}"
            for k in assets
        )
        raise DataError(
            f"the traded series never overlap ({spans}); supply histories that share sessions."
        )
    ctx = align.build_context(market, calendar, first, last, cfg.fill)
    rows = _window(ctx.labels, cfg)
    labels = ctx.labels[rows]
    rate_key = CASH_RATE[cfg.base_currency][0]
    coverage.check_rates(market, (rate_key, *strategy.required()), labels[0], labels[-1])
    stale = {}
    if cfg.fill == "open":
        stale = opens.check_open_fills(market, assets, labels[0], labels[-1], cfg.allow_stale_open)
    steps = build_steps(market, assets, calendar, cfg.base_currency, labels, cfg.fill)
    bench = _benchmark(market, cfg, labels)
    return Prepared(market, ctx, rows, calendar, assets, steps, bench, rate_key, stale)


def _simulate(strategy: Strategy, cfg: RunConfig, p: Prepared) -> tuple[SimResult, dict]:
    targets = window_targets(strategy, p.ctx, p.rows)
    check_targets(targets, p.labels, p.assets, cfg.costs())
    _check_fill_prices(p, targets, cfg.fill)
    sim = simulate_steps(p.steps, targets, p.assets, cfg.costs(), cfg.init_cash)
    return sim, compute_metrics(sim, p.benchmark.returns.reindex(sim.equity.index))


def fill_sensitivity(strategy: Strategy, cfg: RunConfig, p: Prepared, metrics) -> FillSensitivity:
    """The run's headline metrics beside those under the other fill (open <-> close), on the same
    data and window; the other fill's own decision points (a close fill decides before the close)."""
    other = replace(cfg, fill="close" if cfg.fill == "open" else "open", allow_stale_open=True)
    first, last = p.labels[0], p.labels[-1]
    shares = p.stale_open or opens.stale_shares(p.market, p.assets, first, last)
    limits = {k: opens.stale_limit(p.market[k].instrument) for k in p.assets}
    out = {cfg.fill: diagnostics.headline(metrics)}
    try:
        _, other_metrics = _simulate(strategy, other, prepare(strategy, other, p.market))
    except DataError as exc:  # e.g. a series without opens: say so, the run itself stands
        why = str(exc).replace(f"{p.market.folder}{os.sep}", "")  # summaries name no folders
        return FillSensitivity(cfg.fill, out, shares, limits, unavailable=why)
    out[other.fill] = diagnostics.headline(other_metrics)
    return FillSensitivity(cfg.fill, out, shares, limits)


def run_backtest(strategy: Strategy, cfg: RunConfig, sensitivity: bool = True) -> RunResult:
    """Run ``strategy`` under ``cfg``; see the module docstring for the steps. ``sensitivity``:
    also simulate the other fill (``RunResult.fill_sensitivity``)."""
    p = prepare(strategy, cfg)
    sim, metrics = _simulate(strategy, cfg, p)
    holds = {}
    if p.assets[0] != cfg.benchmark:  # the traded asset bought and held, beside the benchmark
        holds[p.assets[0]] = _benchmark(p.market, replace(cfg, benchmark=p.assets[0]), p.labels)
    study = event_study(strategy, p.ctx, StudyConfig(fill=cfg.fill, start=p.labels[0],
                                                     end=p.labels[-1]))  # fmt: skip
    asset = strategy.signal_asset or p.assets[0]
    act = diagnostics.activity(sim.weights, asset, len(study.events), cfg.benchmark)
    warnings = [*p.market.notes, *strategy.run_warnings(p.ctx, study.events["observed"])]
    stale = opens.over_limit(p.market, p.stale_open)
    if stale:
        warnings.append(
            "--allow-stale-open: open fills on "
            + ", ".join(
                f"{k} ({p.stale_open[k]:.0%} of opens equal the previous close)" for k in stale
            )
            + " buy at yesterday's close after the US session is known; the result is not tradable."
        )
    sens = fill_sensitivity(strategy, cfg, p, metrics) if sensitivity else None
    return RunResult(strategy, cfg, p.market, sim, p.benchmark, metrics, p.rate_key,
                     markers=_markers(strategy, p.ctx, sim.equity.index, sim), study=study,
                     holds=holds, activity=act, fill_sensitivity=sens,
                     warnings=tuple(warnings))  # fmt: skip


def _markers(strategy: Strategy, ctx: align.Context, labels: pd.DatetimeIndex, sim: SimResult):
    """Session dates (first valuation session at or after the event) of Fed/RBA moves, the
    strategy's own markers (``Strategy.chart_markers``) and trades."""
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
    for label, dates in strategy.chart_markers(ctx).items():  # the strategy's own, if any
        pos = labels.searchsorted(pd.DatetimeIndex(dates))
        out[label] = sorted({labels[p] for p in pos if 0 < p < len(labels)})
    buys = sim.orders[sim.orders["units"] > 0]
    sells = sim.orders[sim.orders["units"] < 0]
    out["buy"] = sorted(set(buys["session"]))
    out["sell"] = sorted(set(sells["session"]))
    return out
