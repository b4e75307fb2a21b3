"""Numba metric kernels: streaming accumulators over a run's valuation steps, O(1) memory each.

The same ``acc_update_nb`` is called by the simulation loop of a grid (one accumulator per combo,
no curves kept) and by ``stats_from_equity_nb`` over a single run's stored equity curve, so a combo
in a grid and the same run on its own give identical numbers. The accumulator (``ACC`` fields):

- Welford/Pebay moments of returns r and of excess returns x = r - c (up to the 4th central moment);
- the sum of min(x, 0)^2 for the Sortino ratio;
- co-moments with a benchmark b (mean, variance, covariance, mean of b - c) and moments of active
  returns r - b, over the steps where b exists;
- the running peak and the deepest drawdown with the step indices of its peak, trough and recovery.

Not here: turning accumulators into named metrics (``engine.metrics``). No pandas here.
"""

from __future__ import annotations

import numpy as np
from numba import njit

ACC = (
    "n", "mean", "m2", "ex_mean", "ex_m2", "ex_m3", "ex_m4", "down2",
    "nb", "b_mean", "b_m2", "rb_mean", "cov", "a_mean", "a_m2",
    "prev", "peak", "peak_i", "max_dd", "dd_peak", "dd_trough", "dd_end", "dd_peak_value",
    "bx_mean",
)  # fmt: skip
N_ACC = len(ACC)
(N, MEAN, M2, EX_MEAN, EX_M2, EX_M3, EX_M4, DOWN2, NB, B_MEAN, B_M2, RB_MEAN, COV, A_MEAN, A_M2,
 PREV, PEAK, PEAK_I, MAX_DD, DD_PEAK, DD_TROUGH, DD_END, DD_PEAK_VALUE, BX_MEAN) = range(N_ACC)  # fmt: skip


@njit(cache=True)
def acc_init_nb(acc, start_value):
    acc[:] = 0.0
    acc[PREV] = acc[PEAK] = acc[DD_PEAK_VALUE] = start_value
    acc[PEAK_I] = acc[DD_PEAK] = acc[DD_TROUGH] = acc[DD_END] = -1.0


@njit(cache=True)
def _moments_nb(acc, i, x, inv_n):
    """Pebay's streaming update of count-normalised central moments at acc[i..i+3] (count acc[N],
    ``inv_n`` = 1 / acc[N])."""
    n = acc[N]
    delta = x - acc[i]
    dn = delta * inv_n
    dn2 = dn * dn
    term = delta * dn * (n - 1.0)
    acc[i] += dn
    acc[i + 3] += (
        term * dn2 * (n * n - 3.0 * n + 3.0) + 6.0 * dn2 * acc[i + 1] - 4.0 * dn * acc[i + 2]
    )
    acc[i + 2] += term * dn * (n - 2.0) - 3.0 * dn * acc[i + 1]
    acc[i + 1] += term


@njit(cache=True)
def acc_update_nb(acc, t, equity, rf, bench):
    """Fold valuation step ``t`` (equity, cash return ``rf``, benchmark return or NaN) into acc;
    returns this step's return. Divisions are few: they dominate the cost of a grid combo."""
    r = equity / acc[PREV] - 1.0
    acc[PREV] = equity
    acc[N] += 1.0
    inv_n = 1.0 / acc[N]
    d = r - acc[MEAN]
    acc[MEAN] += d * inv_n
    acc[M2] += d * (r - acc[MEAN])
    x = r - rf
    _moments_nb(acc, EX_MEAN, x, inv_n)
    if x < 0.0:
        acc[DOWN2] += x * x
    if not np.isnan(bench):
        acc[NB] += 1.0
        inv_nb = 1.0 / acc[NB]
        db = bench - acc[B_MEAN]
        acc[B_MEAN] += db * inv_nb
        acc[B_M2] += db * (bench - acc[B_MEAN])
        acc[RB_MEAN] += (r - acc[RB_MEAN]) * inv_nb
        acc[COV] += db * (r - acc[RB_MEAN])
        acc[BX_MEAN] += (bench - rf - acc[BX_MEAN]) * inv_nb
        a = r - bench
        da = a - acc[A_MEAN]
        acc[A_MEAN] += da * inv_nb
        acc[A_M2] += da * (a - acc[A_MEAN])
    if equity >= acc[PEAK]:
        acc[PEAK] = equity
        acc[PEAK_I] = t
    elif equity < acc[PEAK] * (1.0 + acc[MAX_DD]) * (1.0 + 1e-12):  # maybe a deeper drawdown
        dd = equity / acc[PEAK] - 1.0
        if dd < acc[MAX_DD]:
            acc[MAX_DD] = dd
            acc[DD_PEAK], acc[DD_TROUGH], acc[DD_END] = acc[PEAK_I], t, -1.0
            acc[DD_PEAK_VALUE] = acc[PEAK]
            return r
    if acc[DD_END] < 0.0 and acc[DD_TROUGH] >= 0.0 and equity >= acc[DD_PEAK_VALUE]:
        acc[DD_END] = t
    return r


@njit(cache=True)
def stats_from_equity_nb(equity, start_value, rf, bench):
    """The accumulator of a stored equity curve (V,), cash returns (V,), benchmark returns (V,)."""
    acc = np.empty(N_ACC)
    acc_init_nb(acc, start_value)
    for t in range(equity.shape[0]):
        acc_update_nb(acc, t, equity[t], rf[t], bench[t])
    return acc
