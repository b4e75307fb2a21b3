"""Trade records: a run's order records replayed into round-trip trades (no pandas here).

``round_trips_nb`` reads the order records ``kernels.run_nb`` writes for a single run (columns
``kernels.ORDER_FIELDS``: step, asset, units, fill price, fee, fx) and pairs them per asset into
round trips - flat -> position -> flat - with the cash in and out of each; a trade still open at
the end is marked at its final value. ``simulate`` labels both on dates. Not here: the accounting
that makes the orders (``kernels``).
"""

from __future__ import annotations

import numpy as np
from numba import njit


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
