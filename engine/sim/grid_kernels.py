"""The parallel grid kernel: many parameter combos through the single-run step loop.

``grid_nb`` runs ``kernels.run_nb`` once per combo inside one ``numba.prange`` loop, with curves and
order records switched off, so memory grows with the number of combos K, not K x T: each combo
leaves its metric accumulator, per-block sums of excess returns over cash (for overfitting
statistics) and counters.
What every combo shares - marks carried forward, values per valuation step, benchmark moments - is
computed once per call. Combos are independent, so results do not depend on the thread count or
the chunking. No pandas here.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from engine.sim import kernels
from engine.stats import kernels as mk


@njit(cache=True, parallel=True)
def grid_nb(fill, mark, fx, is_val, accrual, offsets, step, weight, costs, init_cash, bench,
            bounds, slots):  # fmt: skip
    """Combo k trades at ``step[offsets[k]:offsets[k+1]]`` towards ``weight`` (M, N) rows
    (``orders.Orders.on_steps``); fill, mark, fx: (S, N); is_val, accrual: (S,); costs:
    (K, N_COSTS); bench (benchmark return, NaN = none): (V,); bounds (B + 1,): the first
    valuation step of each of B blocks, then V; slots (len(metric_kernels.BLOCK_FIELDS),): where
    each per-block field goes (0, 1, ...; -1: not kept).

    Returns acc (K, N_ACC), blocks (K, F B: the F kept fields, B blocks each, field f in columns
    slots[f] B ..), counts (K, N_COUNTS).
    """
    last, vpos, pv, growth, rf = kernels.timeline_nb(mark, fx, is_val, accrual)
    b, e = mk.bench_split_nb(bench)
    bm = mk.bench_moments_nb(rf, bench)
    k_len = offsets.shape[0] - 1
    acc = np.empty((k_len, mk.N_ACC))
    blocks = np.zeros((k_len, (slots.max() + 1) * (bounds.shape[0] - 1)))
    counts = np.zeros((k_len, kernels.N_COUNTS))
    no_curves = np.empty((0, 0))
    no_orders = np.empty((0, kernels.ORDER_FIELDS))
    for k in prange(k_len):
        lo, hi = offsets[k], offsets[k + 1]
        kernels.run_nb(fill, last, fx, vpos, is_val, pv, growth, rf, b, e, bounds, bm, step[lo:hi],
                       weight[lo:hi], costs[k], init_cash, acc[k], blocks[k], slots, counts[k],
                       no_curves, no_orders)  # fmt: skip
    return acc, blocks, counts
