"""Pandas-facing simulation: validate, convert to contiguous arrays, call the kernel, label.

Lives here: ``SimResult`` (frozen curves and orders of one simulation) and two entry points:
``simulate_sessions`` (targets already on their fill session - what the run API uses) and the public
``simulate`` (a row of weights is decided at that row's close and filled at the next session).
No accounting logic here: that is ``kernels.simulate_nb``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine import kernels
from engine.errors import ConfigError


@dataclass(frozen=True)
class SimResult:
    """Curves on the valuation sessions (base currency) and the order records."""

    equity: pd.Series
    cash: pd.Series
    units: pd.DataFrame
    weights: pd.DataFrame  # end-of-session weights (value share of each asset)
    orders: pd.DataFrame  # session, asset, units (signed), price, value, fee
    init_cash: float

    @property
    def returns(self) -> pd.Series:
        prev = self.equity.shift(1).fillna(self.init_cash)
        return self.equity / prev - 1.0


def _contiguous(frame: pd.DataFrame) -> np.ndarray:
    return np.ascontiguousarray(frame.to_numpy(dtype=np.float64))


def simulate_sessions(
    open_: pd.DataFrame,
    close: pd.DataFrame,
    targets: pd.DataFrame,
    *,
    accrual: np.ndarray | None = None,
    init_cash: float = 1.0,
    fees_bps: float = 0.0,
    slippage_bps: float = 0.0,
) -> SimResult:
    """Fill each non-NaN target row at ``open_`` of its own session; value at ``close``.

    All frames share one session index and columns (assets). ``accrual``: per-session cash growth
    (interest since the previous session), zeros if omitted.
    """
    if not (open_.index.equals(close.index) and close.index.equals(targets.index)):
        raise ConfigError("simulate: open, close and targets must share one session index.")
    if list(open_.columns) != list(close.columns) or list(close.columns) != list(targets.columns):
        raise ConfigError("simulate: open, close and targets must have the same columns in order.")
    if init_cash <= 0 or fees_bps < 0 or slippage_bps < 0:
        raise ConfigError("simulate: init_cash must be > 0 and fees_bps, slippage_bps >= 0.")
    t_len, n = close.shape
    accrual = (
        np.zeros(t_len) if accrual is None else np.ascontiguousarray(accrual, dtype=np.float64)
    )
    max_orders = int(np.isfinite(targets.to_numpy()).sum())
    equity, cash, units, orders = kernels.simulate_nb(
        _contiguous(open_),
        _contiguous(close),
        _contiguous(targets),
        accrual,
        fees_bps * 1e-4,
        slippage_bps * 1e-4,
        float(init_cash),
        max_orders,
    )
    idx = close.index
    held_value = units * close.ffill().to_numpy()
    weights = np.divide(
        held_value, equity[:, None], out=np.zeros_like(held_value), where=equity[:, None] > 0
    )
    cols = list(close.columns)
    order_frame = pd.DataFrame(
        {
            "session": idx[orders[:, 0].astype(np.int64)],
            "asset": [cols[j] for j in orders[:, 1].astype(np.int64)],
            "units": orders[:, 2],
            "price": orders[:, 3],
            "value": orders[:, 2] * orders[:, 3],
            "fee": orders[:, 4],
        }
    )
    return SimResult(
        equity=pd.Series(equity, idx, name="equity"),
        cash=pd.Series(cash, idx, name="cash"),
        units=pd.DataFrame(units, idx, cols),
        weights=pd.DataFrame(weights, idx, cols),
        orders=order_frame,
        init_cash=float(init_cash),
    )


def simulate(
    prices: pd.DataFrame | dict[str, pd.DataFrame],
    target_weights: pd.DataFrame,
    *,
    init_cash: float = 1.0,
    fees_bps: float = 0.0,
    slippage_bps: float = 0.0,
    fill: str = "close",
) -> SimResult:
    """Simulate weights decided at each row's close and filled at the next session.

    ``prices``: a DataFrame of closes, or a dict with ``"close"`` (and ``"open"`` for ``fill="open"``)
    frames, indexed by session; ``target_weights``: same shape, NaN = no order for that asset.
    """
    frames = prices if isinstance(prices, dict) else {"close": prices}
    if fill not in ("open", "close"):
        raise ConfigError(f"simulate: fill must be 'open' or 'close'; got {fill!r}.")
    if fill not in frames:
        raise ConfigError(f"simulate: fill={fill!r} needs a {fill!r} price frame in prices.")
    close = frames["close"]
    targets = target_weights.reindex_like(close).shift(1)  # decided at t's close, filled at t+1
    return simulate_sessions(
        frames[fill],
        close,
        targets,
        init_cash=init_cash,
        fees_bps=fees_bps,
        slippage_bps=slippage_bps,
    )
