"""An event study from a strategy and a data folder, with the same honest-input checks as a run.

``study`` loads what the strategy reads, builds its decision points and, for open fills, refuses
a traded series whose opens are mostly stale over the study's window (forward returns from a stale
open would start at yesterday's close), unless ``allow_stale_open``; then runs ``event_study``.
Shared by ``backtest events`` and ``engine.events``.
"""

from __future__ import annotations

from pathlib import Path

from engine.backtest.eventstudy import EventStudy, StudyConfig, event_study
from engine.feeds import opens
from engine.feeds.marketdata import MarketData
from engine.strategy.base import Strategy, strategy_context


def study(
    strategy: Strategy,
    data_dir: Path | None,
    cfg: StudyConfig,
    allow_stale_open: bool = False,
) -> tuple[EventStudy, MarketData]:
    """The event study of ``strategy`` on the folder ``data_dir`` (default: the sample)."""
    market, ctx = strategy_context(strategy, data_dir, cfg.fill)
    if cfg.fill == "open":
        labels = ctx.labels
        lo = labels.searchsorted(cfg.start) if cfg.start is not None else 0
        hi = labels.searchsorted(cfg.end, "right") if cfg.end is not None else len(labels)
        if hi > lo:  # an empty window is the event study's to refuse
            asset = strategy.signal_asset or strategy.assets()[0]
            opens.check_open_fills(market, [asset], labels[lo], labels[hi - 1], allow_stale_open)
    return event_study(strategy, ctx, cfg), market
