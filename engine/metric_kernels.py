"""Numba metric kernels: a few passes over a return series, O(1) extra memory, callable per grid combo.

Lives here: ``drawdown_nb`` (running peak, deepest drawdown and its dates) and ``return_stats_nb``
(power sums of returns, excess returns over cash and active returns over a benchmark, from which
``engine.metrics`` derives volatility, Sharpe, Sortino, skew, kurtosis, beta, alpha, tracking error,
information ratio and the probabilistic Sharpe ratio). No pandas here.
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Fields of return_stats_nb's output, in order.
STATS = (
    "n", "mean", "var", "ex_mean", "ex_var", "ex_down2", "ex_m3", "ex_m4",
    "bench_mean", "bench_var", "cov", "act_mean", "act_var",
)  # fmt: skip


@njit(cache=True)
def drawdown_nb(equity, start_value):
    """Max drawdown (negative fraction) and the indices of its peak, trough and recovery.

    The peak index is -1 when the peak is the starting value before index 0; the recovery index is
    -1 while the equity has not regained that peak.
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
def return_stats_nb(ret, rf, bench):
    """Moments of ``ret``, of excess returns ``ret - rf`` and of active returns ``ret - bench``.

    ``bench`` may be all-NaN (no benchmark); rows where it is NaN are left out of the benchmark
    moments. Variances use ddof=1; ``ex_m3``/``ex_m4`` are central moments (ddof=0) for skew and
    kurtosis; ``ex_down2`` is the mean of min(excess, 0)**2. Returns an array in ``STATS`` order.
    """
    n = ret.shape[0]
    s1 = s2 = 0.0
    e1 = e2 = e3 = e4 = d2 = 0.0
    nb = 0
    b1 = b2 = c12 = r1b = 0.0
    a1 = a2 = 0.0
    for t in range(n):
        s1 += ret[t]
        x = ret[t] - rf[t]
        e1 += x
        if x < 0.0:
            d2 += x * x
    mean = s1 / n
    ex_mean = e1 / n
    for t in range(n):
        d = ret[t] - mean
        s2 += d * d
        x = ret[t] - rf[t] - ex_mean
        e2 += x * x
        e3 += x * x * x
        e4 += x * x * x * x
        if not np.isnan(bench[t]):
            nb += 1
            b1 += bench[t]
            r1b += ret[t]
    out = np.full(len(STATS), np.nan)
    out[0], out[1], out[3], out[5] = n, mean, ex_mean, d2 / n
    if n > 1:
        out[2], out[4] = s2 / (n - 1), e2 / (n - 1)
    out[6], out[7] = e3 / n, e4 / n
    if nb > 1:
        bm, rm = b1 / nb, r1b / nb
        for t in range(n):
            if not np.isnan(bench[t]):
                b2 += (bench[t] - bm) ** 2
                c12 += (bench[t] - bm) * (ret[t] - rm)
                a = ret[t] - bench[t]
                a1 += a
        am = a1 / nb
        for t in range(n):
            if not np.isnan(bench[t]):
                a2 += (ret[t] - bench[t] - am) ** 2
        out[8], out[9], out[10] = bm, b2 / (nb - 1), c12 / (nb - 1)
        out[11], out[12] = am, a2 / (nb - 1)
    return out
