"""Numba metric kernels: streaming metric state over a run's valuation steps, O(1) memory each.

One fold, ``fold_nb``, turns valuation step t (equity, cash return, benchmark return) into the next
state. The simulation loop of single runs and grids (``kernels._value_steps_nb``) and
``stats_from_equity_nb`` over a stored equity curve both fold through it, so a combo in a grid and
the same run on its own give identical numbers. Inside a loop the state is a tuple of scalars, not
an array: the compiler keeps it in registers, and each step costs one division and a handful of
multiply-adds (this is the inner loop of every grid); between loops it rests in an array
(``state_init_nb``, ``state_load_nb``, ``state_store_nb``).

The state (``STATE`` fields) holds shifted power sums - sums of y = r - r_0 and of z = x - x_0 (first
return and first excess return) up to the 4th power; shifting by the first value keeps a constant
series exactly constant - plus the sum of min(x, 0)^2, sums over the steps with a benchmark b
(r, r b, a = r - b, a^2) and the drawdown tracker (running peak, deepest drawdown with the step
indices of its peak, trough and recovery). ``finish_nb`` turns a state into the accumulator row
(``ACC`` fields: means and central moment sums) that ``engine.stats.metrics`` reads; the benchmark's own
moments do not depend on the run and are computed once by ``bench_moments_nb``.

The fold also hands back each step's excess return x_t = r_t - c_t, active return a_t = r_t - b_t
and return r_t, which the step loop sums per block for the overfitting statistics: PBO ranks combos
by the same Sharpe ratio (over cash) and information ratio (against the benchmark) as the grid
does, so a combo that holds nothing has the same undefined Sharpe ratio in every split.

When a spread is zero (``spread_floor``): a run that holds nothing has excess returns of 0 +/- a
fraction of an ulp, not exactly 0, so "sd > 0" lets rounding error through as a Sharpe ratio of
hundreds. A spread s (a standard deviation, downside deviation or drawdown) of per-session returns
y is zero within their precision when s <= max(ABS_FLOOR (1 + rms(y)), REL_FLOOR rms(y)):

- ABS_FLOOR = 1024 ulps of 1 (2.3e-13): a return E_t / E_{t-1} - 1 is a quotient near 1 rounded
  to half an ulp of 1, so its rounding error is absolute, not relative to r (measured: the excess
  returns of all-cash runs have a standard deviation of 0.01-0.3 ulp and never exceed 0.7 ulp);
  the factor 1 + rms(y) covers returns far from 0.
- REL_FLOOR = 1e-4: a variance taken from running sums of y and y^2 loses up to ~sqrt(n eps) of
  rms(y) to cancellation (measured: 1.1e-6 for constant series of up to 20,000 sessions), so
  a series constant to within 1e-4 of its size has no spread those sums can resolve. Only
  central moments from sums use it (``central=True``); a genuine |mean| / sd per session is
  never near 1e4 (an annualised Sharpe ratio of 1.6e5).

Every ratio over such a spread is undefined (NaN): nothing a grid can rank or a test can deflate.

Not here: turning accumulators into named metrics (``engine.stats.metrics``). No pandas here.
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

STATE = (
    "n", "r0", "sy", "syy", "x0", "sz", "szz", "sz3", "sz4", "down2", "sre", "srb", "sa", "saa",
    "prev", "peak", "peak_i", "max_dd", "dd_peak", "dd_trough", "dd_end", "dd_peak_value",
)  # fmt: skip
# The benchmark's own moments (``bench_moments_nb``): count, mean, central 2nd moment sum, mean(b-c).
N_BENCH = 4


N_STATE = len(STATE)
# Per-block sums a run can keep for the overfitting statistics (``slots`` of the ``SimContext``
# ``kernels.run_nb`` takes say which, and where): excess returns over cash x and their squares,
# active returns over the benchmark a and their squares, squared downside min(x, 0)^2, returns r
# and their squares, and the log growth of equity over the block (log E_end / E_start; -inf once
# equity is not positive).
BLOCK_FIELDS = (
    "excess", "excess_sq", "active", "active_sq", "downside_sq", "ret", "ret_sq", "log_growth",
)  # fmt: skip
F_X, F_XX, F_A, F_AA, F_D, F_R, F_RR, F_G = range(len(BLOCK_FIELDS))

ABS_FLOOR = 1024.0 * np.finfo(np.float64).eps
REL_FLOOR = 1e-4


def spread_floor(rms, central=True):
    """The largest spread of per-session returns with root mean square ``rms`` that is still zero
    within their precision (module docstring); numpy arrays or floats."""
    floor = ABS_FLOOR * (1.0 + rms)
    return np.maximum(floor, REL_FLOOR * rms) if central else floor


# Above this root mean square the relative floor is the larger one (REL rms >= ABS (1 + rms)).
_REL_FROM = ABS_FLOOR / (REL_FLOOR - ABS_FLOOR)


@njit(cache=True, inline="always")
def variance_is_zero_nb(var, ms):
    """``spread_floor`` for a central spread given squared - variance ``var``, mean square ``ms``
    - so that the usual case needs no square root. True also when ``var`` is NaN."""
    if ms >= _REL_FROM * _REL_FROM:
        return not var > REL_FLOOR * REL_FLOOR * ms
    floor = ABS_FLOOR * (1.0 + np.sqrt(ms))
    return not var > floor * floor


@njit(cache=True)
def state_init_nb(start_value):
    """The metric state before any step, as an array (N_STATE,) (``state_load_nb`` makes it the
    tuple ``fold_nb`` takes)."""
    out = np.zeros(N_STATE)
    out[14] = out[15] = out[21] = start_value  # prev, peak, dd_peak_value
    out[16] = out[18] = out[19] = out[20] = -1.0  # peak_i, dd_peak, dd_trough, dd_end
    return out


@njit(cache=True)
def state_load_nb(a):
    return (a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12],
            a[13], a[14], a[15], a[16], a[17], a[18], a[19], a[20], a[21])  # fmt: skip


@njit(cache=True)
def state_store_nb(st, a):
    for i in range(N_STATE):
        a[i] = st[i]


@njit(cache=True)
def fold_nb(st, t, equity, rf, b, e):
    """State after valuation step ``t``: ``equity``, cash return ``rf``, benchmark return ``b``
    (0 where none) and ``e`` (1.0 where the benchmark exists, else 0.0). Returns (state, excess
    return x = r - rf, active return a = r - b (0 where no benchmark), return r)."""
    (n, r0, sy, syy, x0, sz, szz, sz3, sz4, down2, sre, srb, sa, saa,
     prev, peak, peak_i, max_dd, dd_peak, dd_trough, dd_end, dd_peak_value) = st  # fmt: skip
    r = equity / prev - 1.0
    x = r - rf
    if n == 0.0:
        r0, x0 = r, x
    y = r - r0
    z = x - x0
    zz = z * z
    m = min(x, 0.0)
    re = r * e
    a = re - b
    if equity >= peak:
        peak, peak_i = equity, float(t)
    elif equity < peak * (1.0 + max_dd) * (1.0 + 1e-12):  # maybe a deeper drawdown
        dd = equity / peak - 1.0
        if dd < max_dd:
            max_dd, dd_peak, dd_trough, dd_end, dd_peak_value = dd, peak_i, float(t), -1.0, peak
    if dd_end < 0.0 and dd_trough >= 0.0 and dd_trough < t and equity >= dd_peak_value:
        dd_end = float(t)
    st = (n + 1.0, r0, sy + y, syy + y * y, x0, sz + z, szz + zz, sz3 + zz * z, sz4 + zz * zz,
          down2 + m * m, sre + re, srb + r * b, sa + a, saa + a * a,
          equity, peak, peak_i, max_dd, dd_peak, dd_trough, dd_end, dd_peak_value)  # fmt: skip
    return st, x, a, r


@njit(cache=True)
def bench_moments_nb(rf, bench):
    """(N_BENCH,) moments of the benchmark returns ``bench`` (NaN where none) and cash ``rf``."""
    nb, sb, sbx = 0.0, 0.0, 0.0
    for t in range(bench.shape[0]):
        if not np.isnan(bench[t]):
            nb += 1.0
            sb += bench[t]
            sbx += bench[t] - rf[t]
    out = np.zeros(N_BENCH)
    if nb == 0.0:
        return out
    mean = sb / nb
    m2 = 0.0
    for t in range(bench.shape[0]):
        if not np.isnan(bench[t]):
            m2 += (bench[t] - mean) ** 2
    out[0], out[1], out[2], out[3] = nb, mean, m2, sbx / nb
    return out


@njit(cache=True)
def finish_nb(st, bm, acc):
    """Write the accumulator row ``acc`` (N_ACC,) of state ``st`` and benchmark moments ``bm``."""
    (n, r0, sy, syy, x0, sz, szz, sz3, sz4, down2, sre, srb, sa, saa,
     prev, peak, peak_i, max_dd, dd_peak, dd_trough, dd_end, dd_peak_value) = st  # fmt: skip
    acc[:] = 0.0
    acc[N] = n
    if n > 0.0:
        d = sy / n
        acc[MEAN] = r0 + d
        acc[M2] = max(syy - sy * d, 0.0)
        d = sz / n
        acc[EX_MEAN] = x0 + d
        acc[EX_M2] = max(szz - sz * d, 0.0)
        acc[EX_M3] = sz3 - 3.0 * d * szz + 2.0 * n * d**3
        acc[EX_M4] = max(sz4 - 4.0 * d * sz3 + 6.0 * d * d * szz - 3.0 * n * d**4, 0.0)
    acc[DOWN2] = down2
    nb = bm[0]
    acc[NB] = nb
    if nb > 0.0:
        acc[B_MEAN], acc[B_M2], acc[BX_MEAN] = bm[1], bm[2], bm[3]
        acc[RB_MEAN] = sre / nb
        acc[COV] = srb - nb * acc[RB_MEAN] * bm[1]
        acc[A_MEAN] = sa / nb
        acc[A_M2] = max(saa - sa * acc[A_MEAN], 0.0)
    acc[PREV], acc[PEAK], acc[PEAK_I] = prev, peak, peak_i
    acc[MAX_DD], acc[DD_PEAK], acc[DD_TROUGH], acc[DD_END] = max_dd, dd_peak, dd_trough, dd_end
    acc[DD_PEAK_VALUE] = dd_peak_value


@njit(cache=True)
def bench_split_nb(bench):
    """(b, e): benchmark returns with 0 where none, and 1.0 where one exists (else 0.0)."""
    b = np.zeros(bench.shape[0])
    e = np.zeros(bench.shape[0])
    for t in range(bench.shape[0]):
        if not np.isnan(bench[t]):
            b[t], e[t] = bench[t], 1.0
    return b, e


@njit(cache=True)
def stats_from_equity_nb(equity, start_value, rf, bench):
    """The accumulator (N_ACC,) of a stored equity curve (V,), cash returns (V,), benchmark
    returns (V,) (NaN where none): the fold of ``kernels.run_nb``, step by step."""
    b, e = bench_split_nb(bench)
    st = state_load_nb(state_init_nb(start_value))
    for t in range(equity.shape[0]):
        st, _, _, _ = fold_nb(st, t, equity[t], rf[t], b[t], e[t])
    acc = np.empty(N_ACC)
    finish_nb(st, bench_moments_nb(rf, bench), acc)
    return acc
