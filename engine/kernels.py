"""Numba kernels: the accounting and the metrics, over plain arrays only (no pandas here).

Lives here, in the order a run uses them:

1. ``rebalance_nb`` - one decision point: value the book at the fill prices, then trade every asset
   with a target towards ``target * value`` - sells first (most negative order value first), fees and
   slippage in fractions of traded value, buys cut down to the cash available (no leverage).
2. ``simulate_nb`` - the bar loop: accrue cash interest, rebalance where a target row exists, value
   at the close; writes curves and order records.
3. ``drawdown_nb`` / ``moments_nb`` - streaming metrics (running peak, Welford moments) that need no
   T-length temporaries, so the grid kernel can reuse them per combo.

Conventions: prices (T, N) float64 C-contiguous; a NaN price means "no quote": no trade in that
asset then, and it is valued at its last quote. A NaN target means "no order for that asset".
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Orders smaller than this many units are ignored (the same absolute tolerance vectorbt uses).
MIN_UNITS = 1e-12
# Order record columns: bar, asset, units (signed), price (after slippage), fee.
ORDER_FIELDS = 5


@njit(cache=True)
def rebalance_nb(t, price, last_price, target, units, cash, fees, slippage, orders, n_orders):
    """Trade towards ``target`` at bar ``t``; returns (cash, n_orders). Mutates ``units``/``orders``.

    ``price``: this bar's fill prices (N,); ``last_price``: last known prices for valuation (N,).
    """
    n = price.shape[0]
    value = cash
    for j in range(n):
        if units[j] != 0.0:
            value += units[j] * last_price[j]
    delta = np.zeros(n)
    order_value = np.full(n, np.inf)
    for j in range(n):
        if not np.isnan(target[j]) and not np.isnan(price[j]) and value > 0.0:
            delta[j] = target[j] * value / price[j] - units[j]
            order_value[j] = delta[j] * price[j]
    for j in np.argsort(order_value, kind="mergesort"):
        if np.isinf(order_value[j]) or abs(delta[j]) <= MIN_UNITS:
            continue
        if delta[j] < 0.0:
            fill = price[j] * (1.0 - slippage)
            proceeds = -delta[j] * fill
            fee = proceeds * fees
            cash += proceeds - fee
            qty = delta[j]
        else:
            fill = price[j] * (1.0 + slippage)
            cost = delta[j] * fill
            fee = cost * fees
            qty = delta[j]
            if cost + fee > cash * (1.0 + 1e-9):
                if cash <= 0.0:
                    continue
                cost = cash / (1.0 + fees)
                fee = cash - cost
                qty = cost / fill
            cash -= cost + fee
            if cash < 0.0:
                cash = 0.0
        units[j] += qty
        if orders.shape[0] > n_orders:
            orders[n_orders, 0] = t
            orders[n_orders, 1] = j
            orders[n_orders, 2] = qty
            orders[n_orders, 3] = fill
            orders[n_orders, 4] = fee
        n_orders += 1
    return cash, n_orders


@njit(cache=True)
def simulate_nb(fill_price, close, target, accrual, fees, slippage, init_cash, max_orders):
    """Simulate target weights bar by bar.

    fill_price, close, target: (T, N); accrual: (T,) cash growth since the previous bar (interest);
    fees, slippage: fractions of traded value; max_orders: capacity of the order records.
    Returns equity (T,), cash (T,), units (T, N) held after each bar, orders (n, 5).
    """
    t_len, n = close.shape
    equity = np.empty(t_len)
    cash_out = np.empty(t_len)
    units_out = np.empty((t_len, n))
    orders = np.empty((max_orders, ORDER_FIELDS))
    units = np.zeros(n)
    last_price = np.full(n, np.nan)
    cash = init_cash
    n_orders = 0
    for t in range(t_len):
        if cash > 0.0:
            cash *= 1.0 + accrual[t]
        for j in range(n):
            if not np.isnan(fill_price[t, j]):
                last_price[j] = fill_price[t, j]
        has_target = False
        for j in range(n):
            if not np.isnan(target[t, j]):
                has_target = True
        if has_target:
            cash, n_orders = rebalance_nb(
                t,
                fill_price[t],
                last_price,
                target[t],
                units,
                cash,
                fees,
                slippage,
                orders,
                n_orders,
            )
        value = cash
        for j in range(n):
            if not np.isnan(close[t, j]):
                last_price[j] = close[t, j]
            if units[j] != 0.0:
                value += units[j] * last_price[j]
        equity[t] = value
        cash_out[t] = cash
        units_out[t] = units
    return equity, cash_out, units_out, orders[: min(n_orders, max_orders)]


@njit(cache=True)
def drawdown_nb(equity, start_value):
    """Max drawdown (negative fraction) and the bar indices of its peak, trough and recovery.

    The peak index is -1 when the peak is the starting value before bar 0; the recovery index is -1
    while the equity has not regained that peak.
    """
    peak = start_value
    peak_i = -1
    max_dd = 0.0
    dd_peak, dd_trough, dd_end = -1, -1, -1
    dd_peak_value = start_value
    for t in range(equity.shape[0]):
        if equity[t] >= peak:
            peak = equity[t]
            peak_i = t
        dd = equity[t] / peak - 1.0
        if dd < max_dd:
            max_dd = dd
            dd_peak, dd_trough, dd_end = peak_i, t, -1
            dd_peak_value = peak
        elif dd_end < 0 and dd_trough >= 0 and equity[t] >= dd_peak_value:
            dd_end = t
    return max_dd, dd_peak, dd_trough, dd_end


@njit(cache=True)
def moments_nb(equity, start_value, rf):
    """Welford moments of bar returns and of excess returns over ``rf`` (per-bar cash return).

    Returns (count, mean, var, excess_mean, excess_var, downside_sq_mean); variances use ddof=1.
    """
    count = 0
    mean = m2 = ex_mean = ex_m2 = down = 0.0
    prev = start_value
    for t in range(equity.shape[0]):
        r = equity[t] / prev - 1.0
        prev = equity[t]
        x = r - rf[t]
        count += 1
        d = r - mean
        mean += d / count
        m2 += d * (r - mean)
        dx = x - ex_mean
        ex_mean += dx / count
        ex_m2 += dx * (x - ex_mean)
        if x < 0.0:
            down += x * x
    var = m2 / (count - 1) if count > 1 else np.nan
    ex_var = ex_m2 / (count - 1) if count > 1 else np.nan
    down_mean = down / count if count > 0 else np.nan
    return count, mean, var, ex_mean, ex_var, down_mean
