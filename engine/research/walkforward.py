"""Walk-forward analysis: choose parameters on past data only, trade them on the next slice.

This logic lives here, in order:

1. ``parse_walk_forward`` reads ``train=5y,test=1y[,anchored][,embargo=N]`` (years ``y`` or
   months ``m``; N sessions);
2. ``folds`` cuts the window into consecutive test slices, each preceded by its training slice
   (rolling: the ``train`` years just before; anchored: everything since the window's start),
   which ends N sessions of the traded market before the test slice starts (the embargo): a hold
   begun in training, and the selection it swayed, cannot then run into the first test sessions;
3. for each fold the grid runs on the training slice only and the best combo by the ranking metric
   (in its direction: lower is better for volatility, tracking error, turnover) is then run on the
   test slice (decisions there still see only data known before them);
4. the test slices' returns are chained into one out-of-sample equity curve. Each fold is a fresh
   run: it starts from cash and pays its entry costs again at the boundary, as a portfolio that
   was rebalanced into the new parameters would - so the curve is not one continuous portfolio.
   Beside it, like for like: the best combo of the full window (chosen with hindsight, having seen
   the test slices) traded on the same test slices and chained the same way.

Not here: the grid itself (``grid``) or files (``gridfiles``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from engine.backtest.run import RunConfig, RunResult, prepare, run_backtest
from engine.errors import ConfigError
from engine.research.grid import CHUNK, rank, simulate_combos
from engine.stats import kernels as mk
from engine.stats.metrics import metrics_from_acc

_SPAN = re.compile(r"^(\d{1,6})([ym])$")
MAX_YEARS = 100
MAX_EMBARGO = 100_000  # sessions: beyond any data the engine can hold
RESTART_NOTE = (
    "each fold is a fresh run: it starts from cash and pays its entry costs again at the "
    "boundary, so the chained curve is not one continuous portfolio"
)
KEEP = ("total_return", "cagr", "ann_volatility", "sharpe", "sortino", "max_drawdown", "calmar",
        "exposure", "turnover", "psr", "sessions", "years")  # fmt: skip


@dataclass(frozen=True)
class WalkForward:
    train: pd.DateOffset
    test: pd.DateOffset
    anchored: bool
    text: str
    embargo: int = 0  # sessions of the traded market between a training slice and its test slice


def _span(text: str, spec: str) -> pd.DateOffset:
    m = _SPAN.match(text.strip())
    if not m or int(m[1]) == 0:
        raise ConfigError(f"--walk-forward {spec!r}: {text!r} is not a span; use e.g. 5y or 18m.")
    if int(m[1]) > (MAX_YEARS if m[2] == "y" else 12 * MAX_YEARS):
        raise ConfigError(
            f"--walk-forward {spec!r}: {text!r} is longer than {MAX_YEARS} years, more than any "
            "data the engine can hold; use e.g. 5y or 18m."
        )
    return pd.DateOffset(years=int(m[1])) if m[2] == "y" else pd.DateOffset(months=int(m[1]))


def _embargo(text: str, spec: str) -> int:
    if not re.fullmatch(r"\d{1,6}", text) or int(text) > MAX_EMBARGO:
        raise ConfigError(
            f"--walk-forward {spec!r}: embargo={text!r} is not a number of sessions from 0 to "
            f"{MAX_EMBARGO:,}; use e.g. embargo=60 (at least the longest hold)."
        )
    return int(text)


def parse_walk_forward(spec: str) -> WalkForward:
    parts = dict(p.split("=", 1) if "=" in p else (p, "") for p in spec.replace(" ", "").split(","))
    unknown = set(parts) - {"train", "test", "anchored", "embargo"}
    if unknown or "train" not in parts or "test" not in parts:
        raise ConfigError(
            f"--walk-forward {spec!r}: expected train=SPAN,test=SPAN[,anchored][,embargo=N], "
            "e.g. train=5y,test=1y,embargo=60."
        )
    embargo = _embargo(parts["embargo"], spec) if "embargo" in parts else 0
    return WalkForward(_span(parts["train"], spec), _span(parts["test"], spec), "anchored" in parts,
                       spec, embargo)  # fmt: skip


def folds(labels: pd.DatetimeIndex, wf: WalkForward) -> list[tuple[pd.Timestamp, ...]]:
    """(train_start, train_end, test_start, test_end) per fold, on the session ``labels``; the
    training slice ends ``wf.embargo`` sessions before the test slice's first session."""
    first, last = labels[0], labels[-1]
    out = []
    test_start = first + wf.train
    while test_start <= last:
        test_end = min(test_start + wf.test - pd.Timedelta(days=1), last)
        train_start = first if wf.anchored else test_start - wf.train
        train_end = test_start - pd.Timedelta(days=1)
        if wf.embargo:
            i = labels.searchsorted(test_start) - wf.embargo - 1  # the last training session
            if i < labels.searchsorted(train_start) + 1:  # a slice needs two sessions
                raise ConfigError(
                    f"--walk-forward {wf.text!r}: an embargo of {wf.embargo:,} sessions leaves "
                    f"the fold testing from {test_start.date()} fewer than two training "
                    "sessions; shorten the embargo or lengthen train."
                )
            train_end = labels[i]
        out.append((train_start, train_end, test_start, test_end))
        test_start = test_start + wf.test
    if not out:
        raise ConfigError(
            f"--walk-forward {wf.text!r}: the window {first.date()}..{last.date()} is shorter than "
            "one training span; shorten train or widen the window."
        )
    return out


def _chain(tests: list[RunResult], cfg: RunConfig) -> tuple[pd.Series, dict[str, Any]]:
    """The test runs' returns chained into one equity curve from ``cfg.init_cash``, and its
    metrics (``KEEP``); turnover and exposure add up the runs' own."""
    returns, cash_returns, traded, exposed = [], [], 0.0, 0
    for test in tests:
        scale = float(np.prod(1 + np.asarray(returns))) if returns else 1.0
        traded += test.sim.traded_value / test.sim.init_cash * scale
        exposed += test.sim.exposed_sessions
        returns += test.sim.returns.tolist()
        cash_returns.append(test.sim.cash_return)
    cash = pd.concat(cash_returns)
    equity = cfg.init_cash * np.cumprod(1 + np.asarray(returns))
    acc = mk.stats_from_equity_nb(equity, float(cfg.init_cash), cash.to_numpy(dtype=np.float64),
                                  np.full(len(equity), np.nan))  # fmt: skip
    extra = {
        "exposure": exposed / len(equity),
        "turnover_value": traded * cfg.init_cash,
        "mean_equity": float(np.cumsum(equity)[-1]) / len(equity),
        "trade_count": 0,
    }
    metrics = metrics_from_acc(acc, pd.DatetimeIndex(cash.index), cfg.init_cash, extra)
    return pd.Series(equity, cash.index), {k: metrics[k] for k in KEEP}


def run_walk_forward(
    cls,
    combos: pd.DataFrame,
    cfg: RunConfig,
    wf: WalkForward,
    metric: str,
    chunk: int = CHUNK,
    progress: Callable[[int], None] | None = None,
    full_best: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Folds, each fold's chosen parameters and metrics, the chained out-of-sample run and - when
    ``full_best`` (the full window's best parameters) is given - the same test slices traded with
    those parameters, chained the same way (module docstring)."""
    base = prepare(cls(**combos.iloc[0].to_dict()), cfg)
    rows, tests, hindsight = [], [], []
    for train_start, train_end, test_start, test_end in folds(base.labels, wf):
        train_cfg = replace(cfg, start=train_start, end=train_end)
        p = prepare(cls(**combos.iloc[0].to_dict()), train_cfg, base.market)
        table, _ = simulate_combos(cls, p, train_cfg, combos, chunk, progress)
        top = int(rank(table, metric)[0])  # the metric's own direction
        best = combos.iloc[top].to_dict()
        test_cfg = replace(cfg, start=test_start, end=test_end)
        test = run_backtest(cls(**best), test_cfg, sensitivity=False)
        rows.append({"train_start": str(train_start.date()), "train_end": str(train_end.date()),
                     "test_start": str(test_start.date()), "test_end": str(test_end.date()),
                     "params": best, "train_" + metric: _number(table[metric].iloc[top]),
                     "test_" + metric: test.metrics[metric]})  # fmt: skip
        tests.append(test)
        if full_best is not None:
            hindsight.append(run_backtest(cls(**full_best), test_cfg, sensitivity=False))
    equity, oos = _chain(tests, cfg)
    first, last = tests[0].sim.equity.index[0], tests[-1].sim.equity.index[-1]
    out = {"spec": wf.text, "anchored": wf.anchored, "embargo_sessions": wf.embargo,
           "folds": rows, "restart": RESTART_NOTE,
           "test_windows": {"first": str(first.date()), "last": str(last.date()),
                            "sessions": int(len(equity))},
           "out_of_sample": {**oos, "covers": f"parameters chosen on each training slice by "
                             f"{metric}, traded on the test slice after it, chained"}}  # fmt: skip
    frame = {"walk_forward_equity": equity}
    if full_best is not None:
        frame["full_window_best_equity"], full = _chain(hindsight, cfg)
        out["full_window_best"] = {**full, "params": full_best, "covers": (
            f"the best combo by {metric} over the full window - chosen with hindsight, its "
            "selection saw the test slices - traded on the same test slices, chained the same way"
        )}  # fmt: skip
    out["equity"] = pd.DataFrame(frame)
    return out


def _number(value) -> float:
    return float("nan") if value is None else float(value)
