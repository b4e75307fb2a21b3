"""Grid search: many parameter combos of one strategy, simulated in parallel, ranked honestly.

This logic lives here, in order:

1. prepare the data, decision points, window, step timeline and benchmark once (``api.prepare``);
2. for each chunk of combos: the strategy's target weights per combo (its own vectorised
   ``grid_weights`` when it has one, else one ``target_weights`` call per combo), turned into
   orders exactly as a single run does (``api.window_targets``), placed on the steps;
3. ``grid_kernels.grid_nb`` runs the chunk in parallel and returns per-combo metric accumulators,
   per-block excess-return sums and counters - never curves - so memory grows with K, not K x T;
4. metrics per combo (``metrics.metrics_from_acc``: the same formulas as a single run; trade
   statistics are left out of grids), the ranking, and the overfitting statistics of the winner
   (``overfit``: deflated Sharpe over all trials, PBO by CSCV from the block sums) plus a
   stationary-bootstrap interval from a full single run of the winner.

Not here: parsing the space (``paramspace``), files and CLI (``cli_grid``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from engine import grid_kernels, kernels, overfit
from engine.api import Prepared, RunConfig, RunResult, prepare, run_backtest, window_targets
from engine.errors import ConfigError
from engine.metrics import HIGHER_IS_BETTER, METRIC_KEYS, metrics_table, spread_defined
from engine.orders import Orders
from engine.simulate import check_targets
from engine.strategy import Strategy

N_BLOCKS = 16
# Combos per parallel batch: large enough that per-batch pandas work is noise next to the kernel,
# small enough for a steady progress bar (memory per combo is a few hundred bytes).
CHUNK = 4096
GRID_METRICS = tuple(
    k
    for k in METRIC_KEYS
    if k not in ("round_trips", "win_rate", "avg_trade", "best_trade", "worst_trade")
)
BOOTSTRAP_SEED = 20250918


@dataclass(frozen=True)
class GridResult:
    table: pd.DataFrame  # one row per combo: parameters, then every grid metric, ranked
    blocks: np.ndarray  # (K, 2 N_BLOCKS) per-block excess-return and squared sums, table order
    metric: str
    winner: RunResult
    honesty: dict[str, Any]


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


def simulate_chunk(cls, p: Prepared, cfg: RunConfig, part: pd.DataFrame):
    """Metrics (one array per grid metric, one row per combo) and block sums (len(part),
    2 N_BLOCKS: per-block sums of excess returns over cash, then of their squares) of a chunk."""
    bounds, _ = _blocks(len(p.steps.val_labels))
    costs = cfg.costs()
    orders = _chunk_orders(cls, p, part)
    check_targets(orders, p.labels, p.assets, costs)
    offsets, step, weight = orders.on_steps(p.steps.fill_row)
    acc, blk, counts = grid_kernels.grid_nb(
        p.steps.fill, p.steps.mark, p.steps.fx, p.steps.is_val, p.steps.accrual, offsets, step,
        weight, np.tile(costs.array(), (len(part), 1)), float(cfg.init_cash),
        np.ascontiguousarray(p.bench_returns()), bounds,
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
):
    """Metrics table (K rows) and block sums (K, 2 N_BLOCKS) for ``combos`` on prepared data.

    ``executor`` (e.g. ``engine.cluster.DaskExecutor``) maps chunks elsewhere; results come back
    in chunk order, so the table is the same wherever the chunks ran.
    """
    if chunk < 1:
        raise ConfigError(f"--chunk must be at least 1; got {chunk}.")
    k = len(combos)
    parts = [combos.iloc[i : i + chunk] for i in range(0, k, chunk)]
    # float64, like every sum in the engine: float32 block sums changed which combos tie and so
    # the PBO (issue 13); one (K, 2 N_BLOCKS) float64 array is 256 bytes a combo.
    blocks = np.empty((k, 2 * N_BLOCKS))
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
            keep(i, simulate_chunk(cls, p, cfg, part))
            if progress is not None:
                progress(len(part))
    else:
        for i, result in enumerate(executor.map_chunks(cls, p, cfg, parts, progress)):
            keep(i, result)
    data = {c: combos[c].reset_index(drop=True) for c in combos.columns}
    for name in GRID_METRICS:  # dates stay plain objects (str or None), not a pandas str dtype
        values = cols.get(name, np.empty(0))
        data[name] = pd.Series(values, dtype=object if values.dtype == object else None, copy=False)
    return pd.DataFrame(data, copy=False), blocks


def rank(table: pd.DataFrame, metric: str) -> np.ndarray:
    """Row order, best first, by ``metric`` (NaN last; ties keep the enumeration order)."""
    if metric not in GRID_METRICS:
        raise ConfigError(
            f"--metric {metric!r} is not a grid metric; use one of {', '.join(GRID_METRICS)}."
        )
    values = table[metric].to_numpy(dtype=np.float64)
    key = values if HIGHER_IS_BETTER.get(metric, True) else -values
    key = np.where(np.isnan(key), -np.inf, key)
    return np.argsort(-key, kind="stable")


def _bootstrap_sharpe(excess: np.ndarray, root: float):
    """The stationary-bootstrap interval of the annualised Sharpe ratio: NaN when the winner's
    own Sharpe ratio is undefined; resamples whose Sharpe ratio is undefined are left out."""
    if not spread_defined(excess):
        return (float("nan"), float("nan"))

    def sharpe(x):
        return x.mean() / x.std(ddof=1) * root if spread_defined(x) else np.nan

    return overfit.stationary_bootstrap(excess, sharpe, seed=BOOTSTRAP_SEED)


def honesty(
    table: pd.DataFrame, blocks: np.ndarray, block_counts: np.ndarray, winner: RunResult
) -> dict[str, Any]:
    """Deflated Sharpe of the winner over all trials, PBO by CSCV, bootstrap intervals.

    Combos whose Sharpe ratio is undefined (nothing held: ``metrics``) are no trials of a Sharpe
    ratio: the DSR's N and the variance of the trials' Sharpe ratios leave them out
    (``trials_undefined`` counts them); CSCV ranks them below every defined Sharpe ratio.
    """
    ppy = table["periods_per_year"].to_numpy()
    trial_srs = table["sharpe"].to_numpy(dtype=np.float64) / np.sqrt(ppy)
    defined = trial_srs[np.isfinite(trial_srs)]
    m = winner.metrics
    sr = m["sharpe"] / np.sqrt(m["periods_per_year"])
    ret = winner.sim.returns.to_numpy()
    excess = ret - winner.sim.cash_return.to_numpy()
    root = np.sqrt(m["periods_per_year"])

    def cagr(x):
        return float(np.prod(1 + x)) ** (1 / m["years"]) - 1

    sr_var = float(np.var(defined, ddof=1)) if defined.size > 1 else 0.0
    return {
        "trials": int(len(table)),
        "trials_undefined": int(len(table) - defined.size),
        "deflated_sharpe": overfit.deflated_sharpe(
            sr, m["sessions"], m["skew"], m["kurtosis"], trial_srs
        ),  # fmt: skip
        "expected_max_sharpe_annualised": overfit.expected_max_sharpe(sr_var, defined.size) * root,
        **overfit.pbo_cscv(blocks, block_counts),
        "sharpe_ci95": _bootstrap_sharpe(excess, root),
        "cagr_ci95": overfit.stationary_bootstrap(ret, cagr, seed=BOOTSTRAP_SEED),
        "bootstrap_seed": BOOTSTRAP_SEED,
    }


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
    p = prepare(cls(**combos.iloc[0].to_dict()), cfg)
    table, blocks = simulate_combos(cls, p, cfg, combos, chunk, progress, executor)
    order = rank(table, metric)
    table = table.take(order).reset_index(drop=True)
    for j in range(blocks.shape[1]):  # in place, a column at a time: no second K x 2B copy
        blocks[:, j] = blocks[order, j]
    winner = run_backtest(cls(**combos.iloc[order[0]].to_dict()), cfg)
    _, counts = _blocks(len(p.steps.val_labels))
    return GridResult(table, blocks, metric, winner, honesty(table, blocks, counts, winner))
