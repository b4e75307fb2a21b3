"""Walk-forward analysis: choose parameters on past data only, trade them on the next slice.

This logic lives here, in order:

1. ``parse_walk_forward`` reads ``train=5y,test=1y[,anchored]`` (years ``y`` or months ``m``);
2. ``folds`` cuts the window into consecutive test slices, each preceded by its training slice
   (rolling: the ``train`` years just before; anchored: everything since the window's start);
3. for each fold the grid runs on the training slice only and the best combo by the ranking metric
   is then run on the test slice (decisions there still see only data known before them);
4. the test slices' returns are chained into one out-of-sample equity curve, whose metrics are
   reported beside the in-sample best of the whole window.

Not here: the grid itself (``grid``) or files (``gridfiles``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from engine import metric_kernels as mk
from engine.api import RunConfig, prepare, run_backtest
from engine.errors import ConfigError
from engine.grid import CHUNK, rank, simulate_combos
from engine.metrics import metrics_from_acc

_SPAN = re.compile(r"^(\d{1,6})([ym])$")
MAX_YEARS = 100


@dataclass(frozen=True)
class WalkForward:
    train: pd.DateOffset
    test: pd.DateOffset
    anchored: bool
    text: str


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


def parse_walk_forward(spec: str) -> WalkForward:
    parts = dict(p.split("=", 1) if "=" in p else (p, "") for p in spec.replace(" ", "").split(","))
    unknown = set(parts) - {"train", "test", "anchored"}
    if unknown or "train" not in parts or "test" not in parts:
        raise ConfigError(
            f"--walk-forward {spec!r}: expected train=SPAN,test=SPAN[,anchored], e.g. "
            "train=5y,test=1y."
        )
    return WalkForward(_span(parts["train"], spec), _span(parts["test"], spec), "anchored" in parts,
                       spec)  # fmt: skip


def folds(labels: pd.DatetimeIndex, wf: WalkForward) -> list[tuple[pd.Timestamp, ...]]:
    """(train_start, train_end, test_start, test_end) per fold, on the session ``labels``."""
    first, last = labels[0], labels[-1]
    out = []
    test_start = first + wf.train
    while test_start <= last:
        test_end = min(test_start + wf.test - pd.Timedelta(days=1), last)
        train_start = first if wf.anchored else test_start - wf.train
        out.append((train_start, test_start - pd.Timedelta(days=1), test_start, test_end))
        test_start = test_start + wf.test
    if not out:
        raise ConfigError(
            f"--walk-forward {wf.text!r}: the window {first.date()}..{last.date()} is shorter than "
            "one training span; shorten train or widen the window."
        )
    return out


def run_walk_forward(
    cls,
    combos: pd.DataFrame,
    cfg: RunConfig,
    wf: WalkForward,
    metric: str,
    chunk: int = CHUNK,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Folds, each fold's chosen parameters and test metrics, and the stitched out-of-sample run."""
    base = prepare(cls(**combos.iloc[0].to_dict()), cfg)
    rows, returns, cash_returns, traded, exposed = [], [], [], 0.0, 0
    for train_start, train_end, test_start, test_end in folds(base.labels, wf):
        train_cfg = replace(cfg, start=train_start, end=train_end)
        p = prepare(cls(**combos.iloc[0].to_dict()), train_cfg, base.market)
        table, _ = simulate_combos(cls, p, train_cfg, combos, chunk, progress)
        best = combos.iloc[rank(table, metric)[0]].to_dict()
        test = run_backtest(cls(**best), replace(cfg, start=test_start, end=test_end))
        rows.append({"train_start": str(train_start.date()), "train_end": str(train_end.date()),
                     "test_start": str(test_start.date()), "test_end": str(test_end.date()),
                     "params": best, "train_" + metric: float(table[metric].max()),
                     "test_" + metric: test.metrics[metric]})  # fmt: skip
        scale = 1.0 if not returns else float(np.prod([1 + r for r in returns]))
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
    oos = metrics_from_acc(acc, pd.DatetimeIndex(cash.index), cfg.init_cash, extra)
    keep = ("total_return", "cagr", "ann_volatility", "sharpe", "sortino", "max_drawdown", "calmar",
            "exposure", "turnover", "psr", "sessions", "years")  # fmt: skip
    return {"spec": wf.text, "anchored": wf.anchored, "folds": rows,
            "out_of_sample": {k: oos[k] for k in keep},
            "equity": pd.Series(equity, cash.index, name="walk_forward_equity")}  # fmt: skip
