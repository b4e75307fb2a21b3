"""Numba accounting kernels over plain arrays (no pandas here).

The simulation runs over *steps*: instants at which something happens, in time order - a fill of
the traded market's session (at its open or close) or a valuation at the base calendar's close.
One portfolio, one cash account in the base currency. This logic lives here, in order:

1. ``rebalance_nb`` - one fill step: value the book (cash + units x mark x FX), then trade every
   asset with a target towards ``target x value`` - sells first (most negative order value first),
   fees and slippage as fractions of traded value with an optional minimum fee per order, an
   optional rebalance band, and buys cut down to what cash (plus allowed leverage) affords.
2. ``timeline_nb`` - what every combo of a run shares, derived once per run from the steps: marks
   carried forward, asset values and cash growth per valuation step.
3. ``run_nb`` - the step loop shared by single runs and grids: it jumps from one of combo k's
   orders to the next, rebalancing there (open fills before a valuation step's interest, close
   fills after it), and between them ``_value_steps_nb`` accrues interest, values the book and
   folds each return into the streaming metric state (``engine.stats.kernels``), the per-block
   return sums and counters - and, for a single run only, writes the curves. ``grid_kernels`` runs
   many combos through the same loop; ``simulate`` runs one (K = 1) with curves and records on.

Arguments come grouped in NamedTuples (``engine.sim.contexts``, built once per run or grid chunk
by ``simulate``; the kernels read their fields and never build one): ``ctx`` a ``SimContext`` (the
shared timeline, benchmark, blocks and ``init_cash``), ``orders`` a ``ComboOrders`` (each combo's
order steps and weights in CSR form, and its ``costs`` row), ``state`` a ``RunState`` (each
combo's working rows: metric state, running totals ``aux``, units, held assets, scratch) and
``out`` a ``SimOutputs`` (per combo the metric accumulator, block sums and counters; a single
run's curves and order records). Combo k reads and writes row k of each per-combo field.

Conventions: arrays (S, N) float64 C-contiguous; a NaN fill price means the asset does not trade at
that step; a NaN target means no order. ``fx[s, j]`` converts asset j's currency into the base
currency with the rate known at step s (1.0 for base-currency assets). ``costs`` packs the cost
model (indices below). Trade records (round trips) from the order records: ``records``.
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
# numba compiles a version of a kernel per call site passing a literal (0, True): 15 versions, 10 s
# of a cold start. So calls pass typed values (``np.int64(0)``, ``_YES``/``_NO`` below), and every
# kernel has one version (``tests/test_numba_cache.py`` counts them).
_YES, _NO = np.bool_(True), np.bool_(False)


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
def rebalance_nb(ctx, s, target, costs, units, cash, order_value, orders, n_orders):
    """Trade towards ``target`` at step ``s`` of ``ctx`` (a ``SimContext``: fill prices, marks
    ``last`` and ``fx`` of that step); returns (cash, n_orders, traded base value).

    Mutates ``units``, ``orders`` (the order records, when it has rows) and the scratch array
    ``order_value`` (N,).
    """
    fill, mark, fx = ctx.fill[s], ctx.last[s], ctx.fx[s]
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


# ``run_nb``'s running totals besides the metric state (``RunState.aux``): cash, the block's
# index, the sum of equity, the sessions exposed, the equity at the block's start, then this
# block's sums of the first seven ``stats.kernels.BLOCK_FIELDS``.
CASH, BLOCK, EQUITY_TOTAL, EXPOSED_TOTAL, BLOCK_START = range(5)
SX, SXX, SA, SAA, SD, SR, SRR = range(5, 5 + mk.F_G)  # in the order of the fields
N_AUX = SRR + 1


@njit(cache=True)
def _close_block_nb(blocks, slots, n_b, b, aux, equity):
    """Add block ``b``'s sums (``aux[SX:]``) and its log growth (from ``aux[BLOCK_START]`` to
    ``equity``, its last valuation) into the fields ``slots`` keeps (field f at ``slots[f] n_b +
    b`` of ``blocks``, -1 not kept); the next block starts at ``equity``. Once per block, outside
    the hot loop (a call into ``stats.kernels`` here cost the loop 3 %)."""
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


@njit(cache=True)
def _value_steps_nb(lo, hi, accrue_first, n_held, ctx, state, out, k):
    """Valuation steps lo..hi-1 of combo ``k``, with no order among them: accrue, value, fold into
    the metric state (``state.metric[k]``: ``stats.kernels.STATE`` as an array; ``state.aux[k]``:
    the totals above; both updated) and the block sums (``out.blocks[k]``). ``accrue_first``
    False: step lo's interest is already in the cash. ``n_held``: how many of ``state.held[k]``
    (the assets with units) count.

    The hot loop of a grid. It runs one block at a time on local variables - no stores and no
    calls inside - so the compiler keeps everything in registers (a never-taken branch writing
    curves inside this loop made it 3x slower)."""
    pv, growth, rf = ctx.pv, ctx.growth, ctx.rf
    bench, has_bench, bounds, slots = ctx.bench, ctx.has_bench, ctx.bounds, ctx.slots
    metric, aux, units, held = state.metric[k], state.aux[k], state.units[k], state.held[k]
    blocks = out.blocks[k]
    st = mk.state_load_nb(metric)
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
    mk.state_store_nb(st, metric)
    aux[CASH], aux[BLOCK], aux[EQUITY_TOTAL], aux[EXPOSED_TOTAL] = (
        cash, cur_block, equity_sum, exposed_sum,
    )  # fmt: skip
    aux[SX], aux[SXX], aux[SA], aux[SAA] = sx, sxx, sa, saa
    aux[SD], aux[SR], aux[SRR] = sd, sr, srr


@njit(cache=True)
def _value_steps_curves_nb(lo, hi, accrue_first, n_held, ctx, state, out, k):
    """``_value_steps_nb`` one step at a time, writing each step's ``out.curves`` row (single
    runs)."""
    pv, curves = ctx.pv, out.curves
    aux, units, held = state.aux[k], state.units[k], state.held[k]
    n = units.shape[0]
    for v in range(lo, hi):
        _value_steps_nb(v, v + 1, accrue_first or v > lo, n_held, ctx, state, out, k)
        equity = aux[CASH]
        for i in range(n_held):  # as ``_value_steps_nb`` sums it: the same number
            equity += units[held[i]] * pv[v, held[i]]
        curves[v, 0] = equity
        curves[v, 1] = aux[CASH]
        for j in range(n):
            curves[v, 2 + j] = units[j]
            curves[v, 2 + n + j] = units[j] * pv[v, j] if units[j] != 0.0 else 0.0


@njit(cache=True)
def _segment_nb(lo, hi, accrue_first, n_held, ctx, state, out, k):
    if out.curves.shape[0] > 0:
        _value_steps_curves_nb(lo, hi, accrue_first, n_held, ctx, state, out, k)
    else:
        _value_steps_nb(lo, hi, accrue_first, n_held, ctx, state, out, k)


@njit(cache=True)
def run_nb(ctx, orders, state, out, k):
    """Combo ``k`` of ``orders`` through the steps of ``ctx``: the step loop shared by single runs
    and grids, so the two cannot disagree (the tuples: the module docstring).

    Combo k trades at steps ``orders.step[lo:hi]`` (ascending; lo, hi = ``orders.offsets[k:k +
    2]``) towards those rows of ``orders.weight`` (NaN = no order), with costs ``orders.costs[k]``.
    Between two orders only prices and interest move, so the loop runs over valuation steps -
    accrue, value the assets held, fold into the metric state - and stops at an order's step to
    rebalance: an open fill before the next valuation's accrual, a close fill after its own
    valuation step's accrual and before its valuation. Writes row k of ``out.acc`` (N_ACC,),
    ``out.blocks`` (F B: the F per-block sums ``ctx.slots`` keeps - field f of
    ``stats.kernels.BLOCK_FIELDS`` in columns slots[f] B .. slots[f] B + B - 1, -1 not kept) and
    ``out.counts`` (N_COUNTS,); ``out.curves`` (V, 2 + 2N: equity, cash, units, holdings) and
    ``out.orders`` only when they have rows (a grid's are empty).
    """
    last, vpos, is_val, growth = ctx.last, ctx.vpos, ctx.is_val, ctx.growth
    lo, hi = orders.offsets[k], orders.offsets[k + 1]
    step, weight, costs = orders.step[lo:hi], orders.weight[lo:hi], orders.costs[k]
    n = last.shape[1]
    n_val, n_ord = ctx.pv.shape[0], step.shape[0]
    metric, aux = state.metric[k], state.aux[k]
    units, held, scratch = state.units[k], state.held[k], state.scratch[k]
    records = out.orders
    n_held, n_orders, traded_sum = np.int64(0), np.int64(0), 0.0  # no literal 0: one version each
    units[:] = 0.0
    metric[:] = mk.state_init_nb(ctx.init_cash)
    aux[:] = 0.0
    aux[CASH] = aux[BLOCK_START] = ctx.init_cash
    c, v = np.int64(0), np.int64(0)
    while v < n_val:
        stop = vpos[step[c]] if c < n_ord else n_val
        if stop > v:  # no order until valuation step ``stop``
            _segment_nb(v, stop, _YES, n_held, ctx, state, out, k)
            v = stop
            continue
        cash, accrued = aux[CASH], False
        while c < n_ord and vpos[step[c]] == v:  # open fills, then this valuation step's close
            if is_val[step[c]] and not accrued:  # a close fill comes after the day's interest
                cash, accrued = cash * growth[v], True
            cash, n_orders, traded = rebalance_nb(
                ctx, step[c], weight[c], costs, units, cash, scratch, records, n_orders
            )
            traded_sum += traded
            c += 1
        if not accrued:
            cash *= growth[v]
        n_held = np.int64(0)
        for j in range(n):
            if units[j] != 0.0:
                held[n_held] = j
                n_held += 1
        aux[CASH] = cash
        _segment_nb(v, v + 1, _NO, n_held, ctx, state, out, k)
        v += 1
    cash = aux[CASH]
    while c < n_ord:  # fills after the last valuation
        cash, n_orders, traded = rebalance_nb(
            ctx, step[c], weight[c], costs, units, cash, scratch, records, n_orders
        )
        traded_sum += traded
        c += 1
    if n_val > 0:  # the last block: a valuation's equity is the state's ``prev``
        bounds = ctx.bounds
        _close_block_nb(out.blocks[k], ctx.slots, bounds.shape[0] - 1, int(aux[BLOCK]), aux,
                        metric[14])  # fmt: skip
    mk.finish_nb(mk.state_load_nb(metric), ctx.bench_moments, out.acc[k])
    counts = out.counts[k]
    counts[N_ORDERS] = n_orders
    counts[TRADED] = traded_sum
    counts[EXPOSED] = aux[EXPOSED_TOTAL]
    counts[EQUITY_SUM] = aux[EQUITY_TOTAL]


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
