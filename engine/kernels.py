"""Numba accounting kernels over plain arrays (no pandas here).

The simulation runs over *steps*: instants at which something happens, in time order - a fill of
the traded market's session (at its open or close) or a valuation at the base calendar's close.
One portfolio, one cash account in the base currency. This logic lives here, in order:

1. ``run_nb`` - the step loop shared by single runs and grids: at a valuation step, accrue cash
   interest since the previous valuation; update each asset's mark (last known price); where a
   target row exists, rebalance; at a valuation step, fold equity into the streaming metric
   accumulator (``metric_kernels``), the per-block return sums and counters, and - for a single
   run only - write the curves. ``simulate_nb`` is a grid of one with curves and records on;
   ``grid_kernels`` runs many combos through the same loop.
2. ``rebalance_nb`` - one fill step: value the book (cash + units x mark x FX), then trade every
   asset with a target towards ``target x value`` - sells first (most negative order value first),
   fees and slippage as fractions of traded value with an optional minimum fee per order, an
   optional rebalance band, and buys cut down to what cash (plus allowed leverage) affords.
3. ``round_trips_nb`` - orders replayed into round-trip trades (flat -> position -> flat).

Conventions: arrays (S, N) float64 C-contiguous; a NaN fill price means the asset does not trade at
that step; a NaN target means no order. ``fx[s, j]`` converts asset j's currency into the base
currency with the rate known at step s (1.0 for base-currency assets). ``costs`` packs the cost
model (indices below) so signatures stay short.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from engine import metric_kernels as mk

FEES, SLIPPAGE, MIN_FEE, BAND, MAX_LEVERAGE = 0, 1, 2, 3, 4
N_COSTS = 5
# Orders smaller than this many units are ignored (the same absolute tolerance vectorbt uses).
MIN_UNITS = 1e-12
# Order record columns: step, asset, units (signed), fill price (local, after slippage), fee (base),
# fx (base per local unit).
ORDER_FIELDS = 6


@njit(cache=True)
def _fee_nb(traded_value, costs):
    return max(traded_value * costs[FEES], costs[MIN_FEE])


@njit(cache=True)
def _affordable_nb(available, costs):
    """Largest traded value c with c + fee(c) <= available (0 when even the minimum fee is not)."""
    c = available / (1.0 + costs[FEES])
    if c * costs[FEES] < costs[MIN_FEE]:
        c = available - costs[MIN_FEE]
    return max(c, 0.0)


@njit(cache=True)
def book_value_nb(cash, units, mark, fx):
    value = cash
    for j in range(units.shape[0]):
        if units[j] != 0.0:
            value += units[j] * mark[j] * fx[j]
    return value


@njit(cache=True)
def rebalance_nb(s, fill, mark, fx, target, units, cash, costs, order_value, orders, n_orders):
    """Trade towards ``target`` at step ``s``; returns (cash, n_orders, traded base value).

    Mutates ``units``, ``orders`` and the scratch array ``order_value`` (N,).
    """
    n = units.shape[0]
    value = book_value_nb(cash, units, mark, fx)
    total = 0.0
    for j in range(n):
        order_value[j] = np.inf
        if np.isnan(target[j]) or np.isnan(fill[j]) or value <= 0.0:
            continue
        held = units[j] * fill[j] * fx[j]
        if costs[BAND] > 0.0 and target[j] != 0.0 and abs(held / value - target[j]) < costs[BAND]:
            continue
        order_value[j] = target[j] * value - held
    for j in np.argsort(order_value, kind="mergesort"):
        if np.isinf(order_value[j]):
            break
        qty = order_value[j] / (fill[j] * fx[j])
        if abs(qty) <= MIN_UNITS:
            continue
        if qty < 0.0:
            price = fill[j] * (1.0 - costs[SLIPPAGE])
            traded = -qty * price * fx[j]
            fee = _fee_nb(traded, costs)
            cash += traded - fee
        else:
            price = fill[j] * (1.0 + costs[SLIPPAGE])
            traded = qty * price * fx[j]
            fee = _fee_nb(traded, costs)
            available = cash + (costs[MAX_LEVERAGE] - 1.0) * value
            if traded + fee > available * (1.0 + 1e-9):
                traded = _affordable_nb(available, costs)
                if traded <= 0.0:
                    continue
                fee = _fee_nb(traded, costs)
                qty = traded / (price * fx[j])
            cash -= traded + fee
            if costs[MAX_LEVERAGE] == 1.0 and cash < 0.0:
                cash = 0.0  # float dust from the affordability cut, never real borrowing
        units[j] += qty
        total += abs(qty * price * fx[j])
        if n_orders < orders.shape[0]:
            orders[n_orders, 0] = s
            orders[n_orders, 1] = j
            orders[n_orders, 2] = qty
            orders[n_orders, 3] = price
            orders[n_orders, 4] = fee
            orders[n_orders, 5] = fx[j]
        n_orders += 1
    return cash, n_orders, total


# Columns of a run's counters (``run_nb``'s ``counts``).
N_ORDERS, TRADED, EXPOSED, EQUITY_SUM = 0, 1, 2, 3
N_COUNTS = 4


@njit(cache=True)
def run_nb(
    fill,
    mark,
    fx,
    target,
    fill_row,
    accrual,
    is_val,
    costs,
    init_cash,
    bench,
    block,
    acc,
    blocks,
    counts,
    curves,
    orders,
):
    """The step loop shared by single runs and grids, so the two cannot disagree.

    fill, mark, fx: (S, N); target: (R, N) targets per decision row (NaN = no order); fill_row:
    (S,) the decision row filled at each step (-1: none); accrual, is_val: (S,); bench, block: (V,)
    benchmark return
    (NaN if none) and block id of each valuation step. Updates in place: ``acc`` (metric_kernels
    accumulator, initialised by the caller), ``blocks`` (2B: per-block sums of returns, then of
    squared returns), ``counts``
    (N_COUNTS,). ``curves`` (V, 2 + 2N: equity, cash, units, holdings) and ``orders`` are written
    only when they have rows (a grid passes empty arrays).
    """
    n = mark.shape[1]
    units = np.zeros(n)
    last = np.full(n, np.nan)
    scratch = np.empty(n)
    cash = init_cash
    n_orders = 0
    v = 0
    for s in range(mark.shape[0]):
        if is_val[s]:
            cash *= 1.0 + accrual[s]
        for j in range(n):
            if not np.isnan(mark[s, j]):
                last[j] = mark[s, j]
        r = fill_row[s]
        if r >= 0:
            for j in range(n):
                if not np.isnan(target[r, j]):
                    cash, n_orders, traded = rebalance_nb(
                        s, fill[s], last, fx[s], target[r], units, cash, costs, scratch, orders,
                        n_orders,
                    )  # fmt: skip
                    counts[TRADED] += traded
                    break
        if is_val[s]:
            equity = book_value_nb(cash, units, last, fx[s])
            r = mk.acc_update_nb(acc, v, equity, accrual[s], bench[v])
            half = blocks.shape[0] // 2
            blocks[block[v]] += r
            blocks[half + block[v]] += r * r
            counts[EQUITY_SUM] += equity
            exposed = False
            for j in range(n):
                held = units[j] * last[j] * fx[s, j] if units[j] != 0.0 else 0.0
                exposed = exposed or abs(held) > 1e-12 * abs(equity)
                if curves.shape[0] > 0:
                    curves[v, 2 + j] = units[j]
                    curves[v, 2 + n + j] = held
            counts[EXPOSED] += exposed
            if curves.shape[0] > 0:
                curves[v, 0] = equity
                curves[v, 1] = cash
            v += 1
    counts[N_ORDERS] = n_orders


@njit(cache=True)
def simulate_nb(fill, mark, fx, target, fill_row, accrual, is_val, costs, init_cash, max_orders):
    """One run with curves and order records; returns (curves (V, 2 + 2N), orders (k, 6),
    counts (N_COUNTS,))."""
    n_val = 0
    for s in range(is_val.shape[0]):
        n_val += is_val[s]
    n = mark.shape[1]
    curves = np.empty((n_val, 2 + 2 * n))
    orders = np.empty((max(max_orders, 1), ORDER_FIELDS))
    acc = np.empty(mk.N_ACC)
    mk.acc_init_nb(acc, init_cash)
    counts = np.zeros(N_COUNTS)
    run_nb(
        fill,
        mark,
        fx,
        target,
        fill_row,
        accrual,
        is_val,
        costs,
        init_cash,
        np.full(n_val, np.nan),
        np.zeros(n_val, np.int64),
        acc,
        np.zeros(2),
        counts,
        curves,
        orders,
    )
    return curves, orders[: min(int(counts[N_ORDERS]), max_orders)], counts


@njit(cache=True)
def first_bad_target_nb(targets, allow_short, max_leverage):
    """First row of ``targets`` (R, N) with an infinite weight, a negative one when shorting is not
    allowed, or a gross exposure above ``max_leverage``; -1 when every row is fine."""
    for r in range(targets.shape[0]):
        gross = 0.0
        for j in range(targets.shape[1]):
            w = targets[r, j]
            if np.isnan(w):
                continue
            if np.isinf(w) or (w < 0.0 and not allow_short):
                return r
            gross += abs(w)
        if gross > max_leverage + 1e-9:
            return r
    return -1


@njit(cache=True)
def round_trips_nb(orders, n_assets, final_value):
    """Round trips from order records (time-ordered): flat -> position -> flat, per asset.

    ``final_value`` (N,): base-currency value of each asset's position at the end, used to mark a
    trade still open. Returns (k, 7): asset, entry step, exit step (-1 if open), size (peak |units|),
    cash in (base, fees included), cash out (base, fees deducted), pnl.
    """
    out = np.empty((orders.shape[0] + n_assets, 7))
    units = np.zeros(n_assets)
    row = np.full(n_assets, -1)
    k = 0
    for i in range(orders.shape[0]):
        j = int(orders[i, 1])
        qty, value, fee = orders[i, 2], orders[i, 2] * orders[i, 3] * orders[i, 5], orders[i, 4]
        if row[j] < 0:
            row[j] = k
            out[k, 0], out[k, 1], out[k, 2] = j, orders[i, 0], -1.0
            out[k, 3] = out[k, 4] = out[k, 5] = 0.0
            k += 1
        r = row[j]
        if value > 0.0:
            out[r, 4] += value + fee
        else:
            out[r, 5] += -value - fee
        units[j] += qty
        out[r, 3] = max(out[r, 3], abs(units[j]))
        if abs(units[j]) <= 1e-9 * out[r, 3]:
            units[j] = 0.0
            out[r, 2] = orders[i, 0]
            out[r, 6] = out[r, 5] - out[r, 4]
            row[j] = -1
    for j in range(n_assets):
        if row[j] >= 0:
            r = row[j]
            out[r, 6] = out[r, 5] + final_value[j] - out[r, 4]
    return out[:k]
