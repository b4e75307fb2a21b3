"""The public one-call API on plain DataFrames: ``simulate(prices, target_weights, ...) -> Result``.

One calendar and one currency: the index of ``prices`` is the session calendar, every asset is in
the portfolio's currency. A row of ``target_weights`` is decided at that row's close and filled at
the next session's close (``fill="close"``) or open (``fill="open"``); NaN means "no order for that
asset". Cross-market, multi-currency runs go through ``engine.backtest.run.run_backtest``.
Not here: accounting (``kernels``), metrics formulas (``metrics``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from engine.errors import ConfigError
from engine.sim.simulate import Costs, SimResult, check_targets, simulate_steps
from engine.stats.metrics import compute_metrics
from engine.timing.timeline import Steps
from engine.timing.timeline import session_days as _session_days


@dataclass(frozen=True)
class Result:
    """What ``simulate`` returns: the simulation, its metrics and the inputs to rebuild it."""

    sim: SimResult
    metrics: dict[str, Any]
    prices: dict[str, pd.DataFrame]
    targets: pd.DataFrame  # weights on the session they fill (after the one-session delay)
    costs: Costs
    fill: str

    equity = property(lambda self: self.sim.equity)
    returns = property(lambda self: self.sim.returns)
    weights = property(lambda self: self.sim.weights)
    orders = property(lambda self: self.sim.orders)
    trades = property(lambda self: self.sim.trades)

    def to_vectorbt(self):
        """The equivalent ``vectorbt.Portfolio`` (same fills, fees, slippage; no interest, no
        minimum fee, band or leverage - those have no vectorbt equivalent here). ``min_size=0``:
        vectorbt's default rejects orders below 1e-8 units, a floor the engine does not have;
        ``freq``: so that ``sharpe_ratio()`` equals the engine's Sharpe when cash earns nothing."""
        import vectorbt as vbt

        c = self.costs
        if c.min_fee or c.band or c.max_leverage != 1.0:
            raise ConfigError("to_vectorbt: min_fee, band and max_leverage have no equivalent.")
        close = self.prices["close"]
        return vbt.Portfolio.from_orders(
            close.ffill(), self.targets, size_type="targetpercent", price=self.prices[self.fill],
            fees=c.fees_bps * 1e-4, slippage=c.slippage_bps * 1e-4, init_cash=self.sim.init_cash,
            cash_sharing=True, group_by=True, call_seq="auto", freq=self.freq, min_size=0.0,
        )  # fmt: skip

    @property
    def freq(self) -> pd.Timedelta:
        """vectorbt's bar length that makes its annualisation (365 days / freq) the engine's
        sessions per year: with ``freq="1D"`` vectorbt's Sharpe was the engine's x sqrt(365/253)."""
        return pd.Timedelta(days=365.0 / float(self.metrics["periods_per_year"]))


def _frames(prices, fill: str) -> dict[str, pd.DataFrame]:
    frames = prices if isinstance(prices, dict) else {"close": prices}
    if fill not in ("open", "close"):
        raise ConfigError(f"simulate: fill must be 'open' or 'close'; got {fill!r}.")
    for name in {"close", fill}:
        if name not in frames:
            raise ConfigError(f"simulate: fill={fill!r} needs a {name!r} price frame in prices.")
    close = frames["close"]
    if not isinstance(close.index, pd.DatetimeIndex) or not close.index.is_monotonic_increasing:
        raise ConfigError("simulate: prices need an increasing DatetimeIndex of sessions.")
    for name, frame in frames.items():
        if not (frame.index.equals(close.index) and list(frame.columns) == list(close.columns)):
            raise ConfigError(f"simulate: the {name!r} frame must match 'close' in index/columns.")
        values = frame.to_numpy(dtype=np.float64)
        if (values[np.isfinite(values)] <= 0).any() or np.isinf(values).any():
            raise ConfigError(f"simulate: {name!r} prices must be positive and finite (or NaN).")
    return frames


def _steps(frames: dict[str, pd.DataFrame], fill: str, accrual: np.ndarray) -> Steps:
    close = frames["close"].to_numpy(dtype=np.float64)
    t_len, n = close.shape
    idx = pd.DatetimeIndex(frames["close"].index)
    if fill == "close":
        fill_px, mark, is_val, fill_row = close, close, np.ones(t_len, bool), np.arange(t_len)
        acc = accrual
    else:
        opens = frames["open"].to_numpy(dtype=np.float64)
        fill_px = np.full((2 * t_len, n), np.nan)
        fill_px[0::2] = opens
        mark = fill_px.copy()
        mark[1::2] = close
        is_val = np.tile([False, True], t_len)
        fill_row = np.where(is_val, -1, np.repeat(np.arange(t_len), 2))
        acc = np.zeros(2 * t_len)
        acc[1::2] = accrual
    s_len = len(is_val)
    return Steps(
        np.arange(s_len, dtype=np.int64),
        is_val,
        fill_row,
        np.ascontiguousarray(fill_px),
        np.ascontiguousarray(mark),
        np.ones((s_len, n)),
        acc,
        idx,
        idx,
        accrual,
    )


def simulate(
    prices: pd.DataFrame | dict[str, pd.DataFrame],
    target_weights: pd.DataFrame,
    *,
    init_cash: float = 1.0,
    fees_bps: float = 0.0,
    slippage_bps: float = 0.0,
    fill: str = "close",
    cash_rate: float | pd.Series = 0.0,
    day_count: float = 365.0,
    **cost_options: Any,
) -> Result:
    """Simulate ``target_weights`` on ``prices``; see the module docstring for the timing.

    ``prices``: a DataFrame of closes, or a dict of ``"close"`` (and ``"open"``) frames, indexed by
    session; ``cash_rate``: annual rate (fraction) earned by idle cash, a constant or a Series on
    the sessions (the previous session's rate accrues over the calendar days between sessions);
    ``cost_options``: ``min_fee``, ``band``, ``max_leverage``, ``allow_short`` (see ``Costs``).
    """
    frames = _frames(prices, fill)
    close = frames["close"]
    if list(target_weights.columns) != list(close.columns):
        raise ConfigError("simulate: target_weights must have the same columns as prices.")
    costs = Costs(fees_bps=fees_bps, slippage_bps=slippage_bps, **cost_options)
    targets = target_weights.reindex(close.index).shift(1)  # decided at t's close, filled at t+1
    check_targets(targets.to_numpy(dtype=np.float64), close.index, list(close.columns), costs)
    rate = pd.Series(cash_rate, index=close.index, dtype=np.float64)
    days = _session_days(close.index)
    accrual = rate.shift(1).fillna(0.0).to_numpy() * days / day_count
    steps = _steps(frames, fill, accrual)
    t = targets.to_numpy(dtype=np.float64)
    sim = simulate_steps(steps, t, tuple(close.columns), costs, init_cash)
    return Result(sim, compute_metrics(sim), frames, targets, costs, fill)


def vectorbt_freq(periods_per_year: float) -> pd.Timedelta:
    """vectorbt's bar length that makes its annualisation (365 days / freq) ``periods_per_year``."""
    return pd.Timedelta(days=365.0 / float(periods_per_year))


def replay_equity(equity: pd.Series | pd.DataFrame, init_cash: float, periods_per_year: float):
    """A ``vectorbt.Portfolio`` whose value is ``equity`` (one column per curve), for results
    vectorbt cannot simulate itself (fills on another exchange's calendar, FX, cash interest).

    Each column holds one synthetic asset priced ``equity / init_cash``, bought with all the cash at
    1.0 on the first session, so its value and returns are the engine's (the first return is the
    first session's equity over the initial cash, as the engine counts it) and, with
    ``freq = vectorbt_freq(periods_per_year)``, ``sharpe_ratio()`` is the engine's Sharpe when cash
    earns nothing. The engine's orders are the result's own ``orders``, not vectorbt's.
    """
    import vectorbt as vbt

    close = equity.astype(np.float64) / float(init_cash)
    price = close.copy()
    price.iloc[0] = 1.0
    size = np.full(close.shape, np.nan)
    size[0] = np.inf
    return vbt.Portfolio.from_orders(
        close, size=size, price=price, size_type="amount", direction="longonly",
        init_cash=float(init_cash), fees=0.0, slippage=0.0, min_size=0.0,
        freq=vectorbt_freq(periods_per_year),
    )  # fmt: skip
