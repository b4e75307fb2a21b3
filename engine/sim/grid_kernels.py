"""The parallel grid kernel: many parameter combos through the single-run step loop.

``grid_nb`` runs ``kernels.run_nb`` once per combo inside one ``numba.prange`` loop, with curves and
order records switched off, so memory grows with the number of combos K, not K x T: each combo
leaves its metric accumulator, per-block sums of excess returns over cash (for overfitting
statistics) and counters.
What every combo shares - marks carried forward, values per valuation step, benchmark moments - is
computed once per call, into the ``SimContext`` the wrapper (``simulate.simulate_grid``) builds.
Combos are independent, so results do not depend on the thread count or the chunking. No pandas
here.

The arguments are the NamedTuples of ``engine.sim.contexts`` (as ``kernels.run_nb``): ``ctx`` a
``SimContext`` (the shared timeline; ``bench``/``has_bench`` the benchmark's returns, ``bounds``
the blocks, ``slots`` where each per-block field goes), ``orders`` a ``ComboOrders`` (K combos'
orders and costs), ``state`` a ``RunState`` (K working rows) and ``out`` a ``SimOutputs`` (K rows
of acc, blocks and counts; no curves or order records).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from engine.sim import kernels


@njit(cache=True, parallel=True)
def grid_nb(ctx, orders, state, out):
    """Combo k of ``orders`` (k < K) through the steps of ``ctx``, in parallel: writes row k of
    ``out.acc`` (N_ACC,), ``out.blocks`` (F B: the F kept fields, B blocks each, field f in
    columns slots[f] B ..) and ``out.counts`` (N_COUNTS,)."""
    for k in prange(orders.offsets.shape[0] - 1):
        kernels.run_nb(ctx, orders, state, out, np.int64(k))  # prange's k is unsigned
