"""Grid search: many parameter combos of one strategy, simulated in parallel, ranked honestly.

This logic lives here, in order:

1. prepare the data, decision points, window, step timeline and benchmark once (``api.prepare``);
2. for each chunk of combos: the strategy's target weights per combo (its own vectorised
   ``grid_weights`` when it has one, else one ``target_weights`` call per combo), turned into
   orders exactly as a single run does (``api.window_targets``), placed on the steps;
3. ``grid_kernels.grid_nb`` runs the chunk in parallel and returns per-combo metric accumulators,
   per-block sums (of excess returns over cash and active returns over the benchmark, and what
   the ranking metric needs: ``honesty.block_fields``) and counters - never curves - so memory
   grows with K, not K x T;
4. metrics per combo (``metrics.metrics_from_acc``: the same formulas as a single run; trade
   statistics are left out of grids), the ranking, and the honesty block of the winner
   (``honesty``: over cash, against the benchmark and by the ranking metric - deflated ratios
   over all trials and over the effective number of trials, PBO by CSCV from the block sums,
   stationary-bootstrap intervals from a full single run of the winner).

Not here: parsing the space (``strategy.space``), files (``store.grid_folder``) and the CLI (``cli.grid``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from engine.backtest.run import (
    Prepared,
    RunConfig,
    RunResult,
    prepare,
    run_backtest,
    window_targets,
)
from engine.errors import ConfigError
from engine.research.honesty import BASE_FIELDS, block_fields, honesty
from engine.sim import kernels
from engine.sim.orders import Orders
from engine.sim.simulate import check_targets, simulate_grid
from engine.stats import kernels as mk
from engine.stats.metrics import HIGHER_IS_BETTER, METRIC_KEYS, metrics_table
from engine.strategy.base import Strategy

N_BLOCKS = 16
# Combos per parallel batch: large enough that per-batch pandas work is noise next to the kernel,
# small enough for a steady progress bar (memory per combo is a few hundred bytes).
CHUNK = 4096
GRID_METRICS = tuple(
    k
    for k in METRIC_KEYS
    if k not in ("round_trips", "win_rate", "avg_trade", "best_trade", "worst_trade")
)
# Dates: no order to rank by.
UNRANKABLE = ("max_drawdown_start", "max_drawdown_trough", "max_drawdown_end")


@dataclass(frozen=True)
class GridResult:
    table: pd.DataFrame  # one row per combo: parameters, then every grid metric, ranked
    blocks: np.ndarray  # (K, F N_BLOCKS) per-block sums of ``block_fields``, table order
    metric: str
    winner: RunResult
    honesty: dict[str, Any]
    block_fields: tuple[str, ...] = tuple(mk.BLOCK_FIELDS[f] for f in BASE_FIELDS)


def _chunk_orders(cls: type[Strategy], p: Prepared, combos: pd.DataFrame) -> Orders:
    fast = getattr(cls, "grid_weights", None)
    if fast is not None:
        return fast(p.ctx, cls.resolve_frame(combos), p.rows)
    out = []
    for values in combos.to_dict("records"):
        strategy = cls(**values)
        if strategy.assets() != p.assets:
            raise ConfigError(
                f"{cls.name}: combo {values} trades {strategy.assets()}, not {p.assets}; a grid "
                "cannot vary which instruments are traded - run one grid per asset set."
            )
        out.append(window_targets(strategy, p.ctx, p.rows))
    return Orders.from_dense(np.stack(out))


def _blocks(n_val: int) -> tuple[np.ndarray, np.ndarray]:
    """(bounds (N_BLOCKS + 1,): first valuation step of each block, then n_val; sessions per
    block): N_BLOCKS near-equal consecutive blocks."""
    ids = (np.arange(n_val, dtype=np.int64) * N_BLOCKS) // n_val
    counts = np.bincount(ids, minlength=N_BLOCKS)
    return np.concatenate(([0], np.cumsum(counts))).astype(np.int64), counts.astype(np.float64)


def _chunk_metrics(acc, counts, idx, cfg: RunConfig) -> dict[str, np.ndarray]:
    n_val = len(idx)
    extra = {
        "exposure": counts[:, kernels.EXPOSED] / n_val,
        "turnover_value": counts[:, kernels.TRADED],
        "trade_count": counts[:, kernels.N_ORDERS].astype(np.int64),
        "mean_equity": counts[:, kernels.EQUITY_SUM] / n_val,
    }
    cols = metrics_table(acc, idx, cfg.init_cash, extra)
    return {k: cols[k] for k in GRID_METRICS}


def _slots(fields: tuple[int, ...]) -> np.ndarray:
    """Where each ``stats.kernels.BLOCK_FIELDS`` goes in a combo's block row (-1: not kept)."""
    slots = np.full(len(mk.BLOCK_FIELDS), -1, dtype=np.int64)
    slots[list(fields)] = np.arange(len(fields))
    return slots


def simulate_chunk(cls, p: Prepared, cfg: RunConfig, part: pd.DataFrame, fields=BASE_FIELDS):
    """Metrics (one array per grid metric, one row per combo) and block sums (len(part),
    len(fields) N_BLOCKS: per-block sums of the ``stats.kernels.BLOCK_FIELDS`` ``fields``,
    N_BLOCKS columns each) of a chunk."""
    bounds, _ = _blocks(len(p.steps.val_labels))
    costs = cfg.costs()
    orders = _chunk_orders(cls, p, part)
    check_targets(orders, p.labels, p.assets, costs)
    acc, blk, counts = simulate_grid(
        p.steps, orders, np.tile(costs.array(), (len(part), 1)), float(cfg.init_cash),
        np.ascontiguousarray(p.bench_returns()), bounds, _slots(tuple(fields)),
    )  # fmt: skip
    return _chunk_metrics(acc, counts, p.steps.val_labels, cfg), blk


def simulate_combos(
    cls,
    p: Prepared,
    cfg: RunConfig,
    combos: pd.DataFrame,
    chunk: int = CHUNK,
    progress: Callable[[int], None] | None = None,
    executor=None,
    fields: tuple[int, ...] = BASE_FIELDS,
):
    """Metrics table (K rows) and block sums (K, len(fields) N_BLOCKS: the per-block sums of the
    ``stats.kernels.BLOCK_FIELDS`` ``fields``) for ``combos`` on prepared data.

    ``executor`` (e.g. ``engine.research.cluster.DaskExecutor``) maps chunks elsewhere; results come back
    in chunk order, so the table is the same wherever the chunks ran.
    """
    if chunk < 1:
        raise ConfigError(f"--chunk must be at least 1; got {chunk}.")
    k = len(combos)
    parts = [combos.iloc[i : i + chunk] for i in range(0, k, chunk)]
    # float64, like every sum in the engine: float32 block sums changed which combos tie and so
    # the PBO (issue 13); four fields (excess and active returns, their squares) of float64 are
    # 512 bytes a combo.
    blocks = np.empty((k, len(fields) * N_BLOCKS))
    cols: dict[str, np.ndarray] = {}

    def keep(i: int, result) -> None:  # into arrays for all K: no per-chunk frames to concat
        metrics, blk = result
        lo = i * chunk
        blocks[lo : lo + len(blk)] = blk
        for name, values in metrics.items():
            if name not in cols:
                cols[name] = np.empty(k, dtype=values.dtype)
            cols[name][lo : lo + len(values)] = values

    if executor is None:
        for i, part in enumerate(parts):
            keep(i, simulate_chunk(cls, p, cfg, part, fields))
            if progress is not None:
                progress(len(part))
    else:
        for i, result in enumerate(executor.map_chunks(cls, p, cfg, parts, progress, fields)):
            keep(i, result)
    data = {c: combos[c].reset_index(drop=True) for c in combos.columns}
    for name in GRID_METRICS:  # dates stay plain objects (str or None), not a pandas str dtype
        values = cols.get(name, np.empty(0))
        data[name] = pd.Series(values, dtype=object if values.dtype == object else None, copy=False)
    return pd.DataFrame(data, copy=False), blocks


def rank(table: pd.DataFrame, metric: str) -> np.ndarray:
    """Row order, best first, by ``metric`` (NaN last; ties keep the enumeration order)."""
    if metric not in GRID_METRICS or metric in UNRANKABLE:
        usable = ", ".join(m for m in GRID_METRICS if m not in UNRANKABLE)
        raise ConfigError(f"--metric {metric!r} is not a grid metric one can rank by; use one of "
                          f"{usable}.")  # fmt: skip
    values = table[metric].to_numpy(dtype=np.float64)
    key = values if HIGHER_IS_BETTER.get(metric, True) else -values
    key = np.where(np.isnan(key), -np.inf, key)
    return np.argsort(-key, kind="stable")


def run_grid(
    cls: type[Strategy],
    combos: pd.DataFrame,
    cfg: RunConfig,
    metric: str = "sharpe",
    chunk: int = CHUNK,
    progress: Callable[[int], None] | None = None,
    executor=None,
) -> GridResult:
    """Simulate every combo, rank by ``metric``, and judge the winner (see module docstring)."""
    rank(combos.head(0).assign(**{metric: []}), metric)  # an unknown metric fails before the work
    p = prepare(cls(**combos.iloc[0].to_dict()), cfg)
    fields = block_fields(metric)
    table, blocks = simulate_combos(cls, p, cfg, combos, chunk, progress, executor, fields)
    order = rank(table, metric)
    table = table.take(order).reset_index(drop=True)
    for j in range(blocks.shape[1]):  # in place, a column at a time: no second K x FB copy
        blocks[:, j] = blocks[order, j]
    winner = run_backtest(cls(**combos.iloc[order[0]].to_dict()), cfg)
    _, counts = _blocks(len(p.steps.val_labels))
    judged = honesty(table, blocks, fields, counts, winner, metric)
    names = tuple(mk.BLOCK_FIELDS[f] for f in fields)
    return GridResult(table, blocks, metric, winner, judged, names)
