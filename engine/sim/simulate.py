"""Pandas-facing simulation: validate, convert to contiguous arrays, call the kernel, label.

Lives here: ``Costs`` (the cost model), ``SimResult`` (curves and records of one simulation),
``simulate_steps`` (run a prepared ``timeline.Steps``), ``simulate_grid`` (K combos' orders on
the steps, in parallel: metric accumulators, block sums and counters, no curves). Both build the
kernels' NamedTuples (``contexts``) once and hand them to ``kernels.run_nb`` /
``grid_kernels.grid_nb``. No accounting here: that is ``kernels``; no metrics: that is
``metrics``; the public ``simulate`` (one calendar, one currency) is in ``portfolio``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.errors import ConfigError, StrategyError
from engine.sim import contexts, grid_kernels, kernels, records
from engine.sim.orders import Orders
from engine.timing.timeline import Steps


@dataclass(frozen=True)
class Costs:
    """Fees and slippage in basis points of traded value; ``min_fee`` in base currency per order;
    ``band``: skip an order when the asset's weight is within this fraction of its target;
    ``max_leverage``: gross exposure cap (1 = no borrowing); ``allow_short``: negative weights."""

    fees_bps: float = 0.0
    slippage_bps: float = 0.0
    min_fee: float = 0.0
    band: float = 0.0
    max_leverage: float = 1.0
    allow_short: bool = False

    def __post_init__(self) -> None:
        for name in ("fees_bps", "slippage_bps", "min_fee", "band"):
            value = getattr(self, name)
            if not np.isfinite(value) or value < 0:
                raise ConfigError(f"{name} must be a finite number >= 0; got {value!r}.")
        for name in ("fees_bps", "slippage_bps"):
            if getattr(self, name) >= 10_000:
                raise ConfigError(
                    f"{name} = {getattr(self, name)!r} is 100 % or more of the traded value: an "
                    "order would cost more than it trades; give costs in basis points "
                    "(10 = 0.1 %)."
                )
        if self.band >= 1:
            raise ConfigError(
                f"band = {self.band!r} would skip every order (weights differ by at most 1); use "
                "a fraction below 1, e.g. 0.05."
            )
        if not np.isfinite(self.max_leverage) or self.max_leverage < 1:
            raise ConfigError(f"max_leverage must be >= 1; got {self.max_leverage!r}.")

    def array(self) -> np.ndarray:
        out = np.zeros(kernels.N_COSTS)
        out[kernels.FEES] = self.fees_bps * 1e-4
        out[kernels.SLIPPAGE] = self.slippage_bps * 1e-4
        out[kernels.MIN_FEE] = self.min_fee
        out[kernels.BAND] = self.band
        out[kernels.MAX_LEVERAGE] = self.max_leverage
        return out


@dataclass(frozen=True)
class SimResult:
    """Curves on the valuation sessions (base currency) and the order and trade records."""

    equity: pd.Series
    cash: pd.Series
    units: pd.DataFrame
    weights: pd.DataFrame  # end-of-session value share of each asset
    orders: pd.DataFrame  # instant, session, asset, units, price, fx, value (base), fee (base)
    trades: pd.DataFrame  # asset, entry/exit session, size, cash in/out, pnl, return, sessions
    cash_return: pd.Series  # per valuation session
    init_cash: float
    traded_value: float = 0.0  # sum of |order value| in base currency, as the kernel summed it
    exposed_sessions: int = 0  # valuation sessions ending with any position

    @property
    def returns(self) -> pd.Series:
        prev = self.equity.shift(1).fillna(self.init_cash)
        return self.equity / prev - 1.0


def check_targets(targets: np.ndarray | Orders, labels, assets, costs: Costs) -> None:
    """Weights must be NaN (no order) or finite, long-only unless shorting, within leverage.

    ``targets``: (R, N) for one run, or a grid chunk's ``Orders``; ``labels``: the R session
    labels.
    """
    if isinstance(targets, Orders):
        flat, rows = targets.weight, targets.row
    else:
        flat = np.ascontiguousarray(targets, dtype=np.float64)
        rows = np.arange(len(flat))
    bad = kernels.first_bad_target_nb(flat, costs.allow_short, costs.max_leverage)
    if bad >= 0:
        found = {a: float(w) for a, w in zip(assets, flat[bad], strict=True)}
        raise StrategyError(
            f"target weights at {labels[rows[bad]]} are {found}: weights must be finite, "
            f">= 0 unless shorting is allowed, and sum (in absolute value) to at most max_leverage="
            f"{costs.max_leverage}; fix the strategy or raise --max-leverage."
        )


def _label_orders(orders: np.ndarray, steps: Steps, assets) -> pd.DataFrame:
    step = orders[:, 0].astype(np.int64)
    return pd.DataFrame({
        "instant": pd.DatetimeIndex(steps.instant_ns[step].view("M8[ns]")).tz_localize("UTC"),
        "session": steps.fill_labels[steps.fill_row[step]],
        "asset": np.asarray(assets, dtype=object)[orders[:, 1].astype(np.int64)],
        "units": orders[:, 2],
        "price": orders[:, 3],
        "fx": orders[:, 5],
        "value": orders[:, 2] * orders[:, 3] * orders[:, 5],
        "fee": orders[:, 4],
    })  # fmt: skip


def _label_trades(raw: np.ndarray, steps: Steps, assets, equity_index) -> pd.DataFrame:
    entry = raw[:, 1].astype(np.int64)
    exit_ = raw[:, 2].astype(np.int64)
    is_open = exit_ < 0
    val_pos = np.cumsum(steps.is_val) - 1  # valuation index at or before each step
    exit_val = np.where(is_open, len(equity_index) - 1, val_pos[np.maximum(exit_, 0)])
    cash_in = raw[:, 4]
    return pd.DataFrame({
        "asset": np.asarray(assets, dtype=object)[raw[:, 0].astype(np.int64)],
        "entry": steps.fill_labels[steps.fill_row[entry]],
        "exit": [None if o else steps.fill_labels[steps.fill_row[e]]
                 for o, e in zip(is_open, exit_, strict=True)],
        "size": raw[:, 3],
        "cash_in": cash_in,
        "cash_out": raw[:, 5],
        "pnl": raw[:, 6],
        "return": np.divide(raw[:, 6], cash_in, out=np.full(len(raw), np.nan), where=cash_in > 0),
        "sessions": exit_val - val_pos[entry],
        "open": is_open,
    })  # fmt: skip


def simulate_steps(
    steps: Steps, targets: np.ndarray, assets: tuple[str, ...], costs: Costs, init_cash: float
) -> SimResult:
    """Run ``targets`` (R, N) - one row per fill session (``steps.fill_labels``), NaN = no order -
    over ``steps``."""
    if not np.isfinite(init_cash) or init_cash <= 0:
        raise ConfigError(f"init_cash must be > 0; got {init_cash!r}.")
    targets = np.ascontiguousarray(targets, dtype=np.float64)
    offsets, step, weight = Orders.from_dense(targets).on_steps(steps.fill_row)
    ctx = contexts.sim_context(steps, init_cash)
    out = contexts.sim_outputs(ctx, 1, records=max(step.shape[0] * weight.shape[1], 1))
    plan = contexts.combo_orders(offsets, step, weight, costs.array()[None])
    kernels.run_nb(ctx, plan, contexts.run_state(1, weight.shape[1]), out, 0)
    counts = out.counts[0]
    curves, orders = out.curves, out.orders[: int(counts[kernels.N_ORDERS])]
    n = len(assets)
    equity, cash, units, held = curves[:, 0], curves[:, 1], curves[:, 2 : 2 + n], curves[:, 2 + n :]
    idx, cols = steps.val_labels, list(assets)
    weights = np.divide(held, equity[:, None], out=np.zeros_like(held), where=equity[:, None] > 0)
    final_value = held[-1] if len(held) else np.zeros(len(assets))
    raw_trades = records.round_trips_nb(orders, len(assets), final_value)
    return SimResult(
        equity=pd.Series(equity, idx, name="equity"),
        cash=pd.Series(cash, idx, name="cash"),
        units=pd.DataFrame(units, idx, cols),
        weights=pd.DataFrame(weights, idx, cols),
        orders=_label_orders(orders, steps, cols),
        trades=_label_trades(raw_trades, steps, cols, idx),
        cash_return=pd.Series(steps.val_cash_return, idx, name="cash_return"),
        init_cash=float(init_cash),
        traded_value=float(counts[kernels.TRADED]),
        exposed_sessions=int(counts[kernels.EXPOSED]),
    )


def simulate_grid(
    steps: Steps, orders: Orders, costs: np.ndarray, init_cash: float, bench, bounds, slots
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """K combos' ``orders`` (decision rows; ``costs`` (K, N_COSTS)) over ``steps`` in parallel,
    with benchmark returns ``bench`` (V,; NaN = none), blocks ``bounds`` and ``slots`` (see
    ``grid_kernels``): (acc (K, N_ACC), blocks (K, F B), counts (K, N_COUNTS)). No curves."""
    offsets, step, weight = orders.on_steps(steps.fill_row)
    ctx = contexts.sim_context(steps, init_cash, bench, bounds, slots)
    out = contexts.sim_outputs(ctx, orders.k)
    state = contexts.run_state(orders.k, weight.shape[1])
    grid_kernels.grid_nb(ctx, contexts.combo_orders(offsets, step, weight, costs), state, out)
    return out.acc, out.blocks, out.counts
