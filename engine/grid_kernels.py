"""The parallel grid kernel: many parameter combos through the single-run step loop.

``grid_nb`` runs ``kernels.run_nb`` once per combo inside one ``numba.prange`` loop, with curves and
order records switched off, so memory grows with the number of combos K, not K x T: each combo
leaves its metric accumulator, per-block return sums (for overfitting statistics) and counters.
Combos are independent, so results do not depend on the thread count or the chunking.
No pandas here.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from engine import kernels
from engine import metric_kernels as mk


@njit(cache=True, parallel=True)
def grid_nb(fill, mark, fx, targets, fill_row, accrual, is_val, costs, init_cash, bench, block,
            n_blocks):  # fmt: skip
    """targets: (K, R, N) per decision row; fill_row: (S,); costs: (K, N_COSTS); bench, block: (V,).

    Returns acc (K, N_ACC), blocks (K, 2 n_blocks: return sums, then squared-return sums),
    counts (K, N_COUNTS).
    """
    k_len = targets.shape[0]
    acc = np.empty((k_len, mk.N_ACC))
    blocks = np.zeros((k_len, 2 * n_blocks))
    counts = np.zeros((k_len, kernels.N_COUNTS))
    no_curves = np.empty((0, 0))
    for k in prange(k_len):
        mk.acc_init_nb(acc[k], init_cash)
        no_orders = np.empty((0, kernels.ORDER_FIELDS))
        kernels.run_nb(fill, mark, fx, targets[k], fill_row, accrual, is_val, costs[k], init_cash,
                       bench, block, acc[k], blocks[k], counts[k], no_curves, no_orders)  # fmt: skip
    return acc, blocks, counts
