"""Numba accounting kernels over plain arrays (no pandas here).

The simulation runs over *steps*: instants at which something happens, in time order - a fill of
the traded market's session (at its open or close) or a valuation at the base calendar's close.
One portfolio, one cash account in the base currency. This logic lives here, in order:

1. ``run_nb`` - the step loop shared by single runs and grids, over what ``timeline_nb`` derives
   once per run (marks carried forward, asset values and cash growth per valuation step): it jumps
   from one of the combo's orders to the next, rebalancing there (open fills before a valuation
   step's interest, close fills after it), and between them ``_value_steps_nb`` accrues interest,
   values the book and folds each return into the streaming metric state (``metric_kernels``), the
   per-block return sums and counters - and, for a single run only, writes the curves.
   ``simulate_nb`` is a grid of one with curves and records on; ``grid_kernels`` runs many combos
   through the same loop.
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

from engine.stats import kernels as mk

FEES, SLIPPAGE, MIN_FEE, BAND, MAX_LEVERAGE = 0, 1, 2, 3, 4
N_COSTS = 5
# Orders worth less than this fraction of the portfolio are float dust and ignored. Relative, so a
# portfolio of 1e-300 trades like one of 1e5 (an absolute floor of 1e-12 units, as vectorbt's, made
# tiny portfolios trade nothing).
MIN_ORDER = 1e-12
# Order record columns: step, asset, units (signed), fill price (local, after slippage), fee (base),
# fx (base per local unit).
ORDER_FIELDS = 6
# Explicit signatures for the valuation loop's helpers (their arrays are all made by the kernels,
# so never read-only): numba would otherwise compile a version per call site passing a literal
# (0, True) - 15 versions, 10 s of a cold start.
_F1, _F2, _I1 = "float64[::1]", "float64[:, ::1]", "int64[::1]"
_STEPS_ARGS = (
    f"int64, int64, boolean, {_F1}, {_F1}, {_F1}, {_I1}, int64, {_F2}, {_F1}, {_F1}, {_F1}, "
    f"{_F1}, {_I1}, {_F1}, {_I1}"
)
_STEPS_SIG = f"void({_STEPS_ARGS})"
_CURVES_SIG = f"void({_STEPS_ARGS}, {_F2})"


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
            value += units[j] * (mark[j] * fx[j])
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
        if abs(order_value[j]) <= MIN_ORDER * value:
            continue
        qty = order_value[j] / (fill[j] * fx[j])
        if qty < 0.0:
            price = fill[j] * (1.0 - costs[SLIPPAGE])
            traded = -qty * price * fx[j]
            fee = _fee_nb(traded, costs)
            if costs[MAX_LEVERAGE] == 1.0 and cash + traded - fee < 0.0:
                continue  # a minimum fee above the proceeds and the cash: no borrowing to pay it
            cash += traded - fee
        else:
            price = fill[j] * (1.0 + costs[SLIPPAGE])
            traded = qty * price * fx[j]
            fee = _fee_nb(traded, costs)
            available = cash + (costs[MAX_LEVERAGE] - 1.0) * value
            if traded + fee > available * (1.0 + 1e-9):
                # Cut down to what is available, and spend exactly that (as vectorbt does): a
                # remainder of float dust would otherwise buy dust at the next rebalance.
                traded = _affordable_nb(available, costs)
                if traded <= MIN_ORDER * value:
                    continue
                fee = available - traded
                qty = traded / (price * fx[j])
                cash -= available
            else:
                cash -= traded + fee
            if costs[MAX_LEVERAGE] == 1.0 and cash < 0.0:
                cash = 0.0  # float dust within the tolerance above, never real borrowing
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
def timeline_nb(mark, fx, is_val, accrual):
    """What every combo of a run shares, from the step timeline: ``last`` (S, N) marks carried
    forward, ``vpos`` (S,) the valuation steps before each step, and per valuation step ``pv``
    (V, N) = last x fx, ``growth`` (V,) = 1 + cash accrual and ``rf`` (V,) = the accrual."""
    n_steps, n = mark.shape
    last = np.empty((n_steps, n))
    vpos = np.empty(n_steps, np.int64)
    n_val = 0
    for s in range(n_steps):
        vpos[s] = n_val
        n_val += is_val[s]
        for j in range(n):
            m = mark[s, j]
            last[s, j] = m if not np.isnan(m) else (last[s - 1, j] if s > 0 else np.nan)
    pv = np.empty((n_val, n))
    growth = np.empty(n_val)
    rf = np.empty(n_val)
    for s in range(n_steps):
        if is_val[s]:
            v = vpos[s]
            for j in range(n):
                pv[v, j] = last[s, j] * fx[s, j]
            rf[v] = accrual[s]
            growth[v] = 1.0 + accrual[s]
    return last, vpos, pv, growth, rf


# ``run_nb``'s running totals besides the metric state (``aux``): cash, the block's index, the sum
# of equity, the sessions exposed, the equity at the block's start, then this block's sums of the
# first seven ``metric_kernels.BLOCK_FIELDS``.
CASH, BLOCK, EQUITY_TOTAL, EXPOSED_TOTAL, BLOCK_START = range(5)
SX, SXX, SA, SAA, SD, SR, SRR = range(5, 5 + mk.F_G)  # in the order of the fields
N_AUX = SRR + 1


@njit(cache=True)
def _close_block_nb(blocks, slots, n_b, b, aux, equity):
    """Add block ``b``'s sums (``aux[SX:]``) and its log growth (from ``aux[BLOCK_START]`` to
    ``equity``, its last valuation) into the fields ``slots`` keeps (field f at ``slots[f] n_b +
    b`` of ``blocks``, -1 not kept); the next block starts at ``equity``. Once per block, outside
    the hot loop (a call into ``metric_kernels`` here cost the loop 3 %)."""
    for f in range(mk.F_G):
        if slots[f] >= 0:
            blocks[slots[f] * n_b + b] += aux[SX + f]
    if slots[mk.F_G] >= 0:
        start = aux[BLOCK_START]
        g = np.log(equity / start) if equity > 0.0 and start > 0.0 else -np.inf
        blocks[slots[mk.F_G] * n_b + b] += g
    aux[BLOCK_START] = equity


@njit(cache=True, inline="always")
def _book_nb(cash, units, held, n_held, pv, u):
    """(equity, largest holding's absolute value) at valuation step ``u``."""
    equity, largest = cash, 0.0
    for i in range(n_held):
        h = units[held[i]] * pv[u, held[i]]
        equity += h
        largest = max(largest, abs(h))
    return equity, largest


@njit(_STEPS_SIG, cache=True)
def _value_steps_nb(lo, hi, accrue_first, state, aux, units, held, n_held, pv, growth, rf, bench,
                    has_bench, bounds, blocks, slots):  # fmt: skip
    """Valuation steps lo..hi-1, with no order among them: accrue, value, fold into the metric
    state (``state``: ``metric_kernels.STATE`` as an array; ``aux``: the totals above; both
    updated). ``accrue_first`` False: step lo's interest is already in the cash.

    The hot loop of a grid. It runs one block at a time on local variables - no stores and no
    calls inside - so the compiler keeps everything in registers (a never-taken branch writing
    curves inside this loop made it 3x slower)."""
    st = mk.state_load_nb(state)
    cash, equity_sum, exposed_sum = aux[CASH], aux[EQUITY_TOTAL], aux[EXPOSED_TOTAL]
    # Four and three: one six-value unpacking here made the loop 15 % slower (register use).
    sx, sxx, sa, saa = aux[SX], aux[SXX], aux[SA], aux[SAA]
    sd, sr, srr = aux[SD], aux[SR], aux[SRR]
    cur_block = int(aux[BLOCK])
    extra = slots[mk.F_D] >= 0 or slots[mk.F_R] >= 0 or slots[mk.F_RR] >= 0
    v = lo
    while v < hi:
        while v >= bounds[cur_block + 1]:  # close finished blocks
            aux[SX], aux[SXX], aux[SA], aux[SAA] = sx, sxx, sa, saa
            aux[SD], aux[SR], aux[SRR] = sd, sr, srr
            _close_block_nb(blocks, slots, bounds.shape[0] - 1, cur_block, aux, st[14])
            cur_block = cur_block + 1
            sx = sxx = sa = saa = sd = sr = srr = 0.0
        end = min(bounds[cur_block + 1], hi)
        # Two copies of the loop: the one a ranking metric needing downside or return sums takes
        # carries three more sums (~8 % slower), the usual one only what it keeps.
        if extra:
            for u in range(v, end):
                cash *= growth[u] if accrue_first or u > lo else 1.0
                equity, largest = _book_nb(cash, units, held, n_held, pv, u)
                st, x, a, r = mk.fold_nb(st, u, equity, rf[u], bench[u], has_bench[u])
                m = min(x, 0.0)
                sx, sxx, sa, saa, sd, sr, srr = (sx + x, sxx + x * x, sa + a, saa + a * a,
                                                 sd + m * m, sr + r, srr + r * r)  # fmt: skip
                equity_sum += equity
                exposed_sum += 1.0 if largest > 1e-12 * abs(equity) else 0.0
        else:
            for u in range(v, end):
                cash *= growth[u] if accrue_first or u > lo else 1.0
                equity, largest = _book_nb(cash, units, held, n_held, pv, u)
                st, x, a, _ = mk.fold_nb(st, u, equity, rf[u], bench[u], has_bench[u])
                sx, sxx, sa, saa = sx + x, sxx + x * x, sa + a, saa + a * a
                equity_sum += equity
                exposed_sum += 1.0 if largest > 1e-12 * abs(equity) else 0.0
        v = end
    mk.state_store_nb(st, state)
    aux[CASH], aux[BLOCK], aux[EQUITY_TOTAL], aux[EXPOSED_TOTAL] = (
        cash, cur_block, equity_sum, exposed_sum,
    )  # fmt: skip
    aux[SX], aux[SXX], aux[SA], aux[SAA] = sx, sxx, sa, saa
    aux[SD], aux[SR], aux[SRR] = sd, sr, srr


@njit(_CURVES_SIG, cache=True)
def _value_steps_curves_nb(lo, hi, accrue_first, state, aux, units, held, n_held, pv, growth, rf,
                           bench, has_bench, bounds, blocks, slots, curves):  # fmt: skip
    """``_value_steps_nb`` one step at a time, writing each step's curves row (single runs)."""
    n = units.shape[0]
    for v in range(lo, hi):
        _value_steps_nb(v, v + 1, accrue_first or v > lo, state, aux, units, held, n_held, pv,
                        growth, rf, bench, has_bench, bounds, blocks, slots)  # fmt: skip
        equity = aux[CASH]
        for i in range(n_held):  # as ``_value_steps_nb`` sums it: the same number
            equity += units[held[i]] * pv[v, held[i]]
        curves[v, 0] = equity
        curves[v, 1] = aux[CASH]
        for j in range(n):
            curves[v, 2 + j] = units[j]
            curves[v, 2 + n + j] = units[j] * pv[v, j] if units[j] != 0.0 else 0.0


@njit(_CURVES_SIG, cache=True)
def _segment_nb(lo, hi, accrue_first, state, aux, units, held, n_held, pv, growth, rf, bench,
                has_bench, bounds, blocks, slots, curves):  # fmt: skip
    if curves.shape[0] > 0:
        _value_steps_curves_nb(lo, hi, accrue_first, state, aux, units, held, n_held, pv, growth,
                               rf, bench, has_bench, bounds, blocks, slots, curves)  # fmt: skip
    else:
        _value_steps_nb(lo, hi, accrue_first, state, aux, units, held, n_held, pv, growth, rf,
                        bench, has_bench, bounds, blocks, slots)  # fmt: skip


@njit(cache=True)
def run_nb(
    fill, last, fx, vpos, is_val, pv, growth, rf, bench, has_bench, bounds, bench_moments,
    step, weight, costs, init_cash, acc, blocks, slots, counts, curves, orders,
):  # fmt: skip
    """The step loop shared by single runs and grids, so the two cannot disagree.

    Shared by every combo (``timeline_nb``): fill, last, fx (S, N); vpos, is_val (S,); pv (V, N);
    growth, rf (V,); benchmark returns ``bench`` (V,; 0 where none) with ``has_bench`` (V,; 1.0 or
    0.0), ``bounds`` (B + 1,) the first valuation step of each of B blocks then V, and
    ``bench_moments`` (``metric_kernels.bench_moments_nb``).
    This combo's orders: ``step`` (M,) ascending fill steps, ``weight`` (M, N) (NaN = no order).

    Between two orders only prices and interest move, so the loop runs over valuation steps -
    accrue, value the assets held, fold into the metric state - and stops at an order's step to
    rebalance: an open fill before the next valuation's accrual, a close fill after its own
    valuation step's accrual and before its valuation. Writes ``acc`` (N_ACC,), ``blocks`` (F B:
    the F per-block sums ``slots`` keeps - field f of ``metric_kernels.BLOCK_FIELDS`` in columns
    slots[f] B .. slots[f] B + B - 1, -1 not kept) and ``counts`` (N_COUNTS,); ``curves`` (V, 2 +
    2N: equity, cash, units, holdings) and ``orders`` only when they have rows (a grid passes
    empty arrays).
    """
    n = last.shape[1]
    n_val, n_ord = pv.shape[0], step.shape[0]
    units = np.zeros(n)
    held = np.empty(n, np.int64)
    scratch = np.empty(n)
    n_held, n_orders, traded_sum = 0, np.int64(0), 0.0  # no literal 0: one rebalance_nb version
    state = mk.state_init_nb(init_cash)
    aux = np.zeros(N_AUX)
    aux[CASH] = aux[BLOCK_START] = init_cash
    c, v = 0, 0
    while v < n_val:
        stop = vpos[step[c]] if c < n_ord else n_val
        if stop > v:  # no order until valuation step ``stop``
            _segment_nb(v, stop, True, state, aux, units, held, n_held, pv, growth, rf, bench,
                        has_bench, bounds, blocks, slots, curves)  # fmt: skip
            v = stop
            continue
        cash, accrued = aux[CASH], False
        while c < n_ord and vpos[step[c]] == v:  # open fills, then this valuation step's close
            if is_val[step[c]] and not accrued:  # a close fill comes after the day's interest
                cash, accrued = cash * growth[v], True
            cash, n_orders, traded = rebalance_nb(
                step[c], fill[step[c]], last[step[c]], fx[step[c]], weight[c], units, cash,
                costs, scratch, orders, n_orders,
            )  # fmt: skip
            traded_sum += traded
            c += 1
        if not accrued:
            cash *= growth[v]
        n_held = 0
        for j in range(n):
            if units[j] != 0.0:
                held[n_held] = j
                n_held += 1
        aux[CASH] = cash
        _segment_nb(v, v + 1, False, state, aux, units, held, n_held, pv, growth, rf, bench,
                    has_bench, bounds, blocks, slots, curves)  # fmt: skip
        v += 1
    cash = aux[CASH]
    while c < n_ord:  # fills after the last valuation
        cash, n_orders, traded = rebalance_nb(
            step[c], fill[step[c]], last[step[c]], fx[step[c]], weight[c], units, cash, costs,
            scratch, orders, n_orders,
        )  # fmt: skip
        traded_sum += traded
        c += 1
    if n_val > 0:  # the last block: a valuation's equity is the state's ``prev``
        _close_block_nb(blocks, slots, bounds.shape[0] - 1, int(aux[BLOCK]), aux, state[14])
    mk.finish_nb(mk.state_load_nb(state), bench_moments, acc)
    counts[N_ORDERS] = n_orders
    counts[TRADED] = traded_sum
    counts[EXPOSED] = aux[EXPOSED_TOTAL]
    counts[EQUITY_SUM] = aux[EQUITY_TOTAL]


@njit(cache=True)
def simulate_nb(fill, mark, fx, step, weight, is_val, accrual, costs, init_cash):
    """One run with curves and order records; returns (curves (V, 2 + 2N), orders (k, 6),
    counts (N_COUNTS,)). ``step``, ``weight``: the run's orders (``orders.Orders.on_steps``)."""
    last, vpos, pv, growth, rf = timeline_nb(mark, fx, is_val, accrual)
    n_val, n = pv.shape
    curves = np.empty((n_val, 2 + 2 * n))
    orders = np.empty((max(step.shape[0] * n, 1), ORDER_FIELDS))
    counts = np.zeros(N_COUNTS)
    zeros = np.zeros(n_val)
    run_nb(
        fill, last, fx, vpos, is_val, pv, growth, rf, zeros, zeros, np.array([0, n_val]),
        np.zeros(mk.N_BENCH), step, weight, costs, init_cash, np.empty(mk.N_ACC), np.zeros(0),
        np.full(len(mk.BLOCK_FIELDS), -1), counts, curves, orders,
    )  # fmt: skip
    return curves, orders[: int(counts[N_ORDERS])], counts


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
