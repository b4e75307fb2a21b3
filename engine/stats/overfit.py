"""Statistics that say how much to trust the best of many backtests.

Lives here, each with its source:

- ``expected_max_sharpe`` / ``deflated_sharpe`` - Bailey & Lopez de Prado (2014), "The Deflated
  Sharpe Ratio": the probabilistic Sharpe ratio of the winner against the Sharpe ratio the best of
  N unskilled trials would reach, SR0 = sqrt(V[SR]) ((1 - g) Z^-1(1 - 1/N) + g Z^-1(1 - 1/(N e))),
  g the Euler-Mascheroni constant, V[SR] the variance of the trials' (per-session) Sharpe ratios.
  The same holds for any Sharpe-type ratio, e.g. the information ratio (a Sharpe ratio of active
  returns over a benchmark).
- ``effective_trials`` - N correlated variants are not N independent trials. From the trials'
  per-block mean returns, their average pairwise correlation rho (in O(K S): no K x K matrix),
  and N_eff, the number of independent trials whose expected best equals that of N trials with
  pairwise correlation rho: for equicorrelated normals max_i X_i = sqrt(rho) Z + sqrt(1 - rho)
  max_i e_i, so E_max(N_eff) = sqrt(1 - rho) E_max(N), E_max the DSR's approximation above.
- ``psr`` - Bailey & Lopez de Prado (2012): Z((SR - SR0) sqrt(n - 1) / sqrt(1 - skew SR +
  (kurt - 1) / 4 SR^2)).
- ``stationary_bootstrap`` - Politis & Romano (1994): resample a return series in blocks of
  geometric length (mean ``block``), wrapping around, to get confidence intervals of statistics.
- ``block_bootstrap_means_nb`` - the moving-block bootstrap (Kunsch 1989) of a mean: ceil(n / b)
  blocks of b consecutive values drawn with replacement from the n - b + 1 overlapping blocks.

Not here: the probability of backtest overfitting (``pbo``, Bailey, Borwein, Lopez de Prado & Zhu
(2017)).
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
from numba import njit

from engine.stats import kernels as mk

EULER_GAMMA = 0.5772156649015329
_Z = NormalDist()


def psr(sr: float, n: int, skew: float, kurt: float, sr0: float = 0.0) -> float:
    denom = 1.0 - skew * sr + (kurt - 1.0) / 4.0 * sr * sr
    if not (n > 1 and denom > 0 and math.isfinite(sr) and math.isfinite(sr0)):
        return float("nan")
    return _Z.cdf((sr - sr0) * math.sqrt(n - 1) / math.sqrt(denom))


def _max_factor(trials: float) -> float:
    """E_max(N): the expected maximum of N independent standard normals, by the DSR's
    approximation, for real N. Between one trial (0) and two it is linear, since the
    approximation dips below 0 near N = 1; so it rises strictly from N = 1."""
    if not trials > 1.0:
        return 0.0
    if trials < 2.0:
        return (trials - 1.0) * _max_factor(2.0)
    a = _Z.inv_cdf(1.0 - 1.0 / trials)
    b = _Z.inv_cdf(1.0 - 1.0 / (trials * math.e))
    return (1.0 - EULER_GAMMA) * a + EULER_GAMMA * b


def expected_max_sharpe(sr_variance: float, trials: float) -> float:
    """Expected maximum per-session Sharpe ratio of ``trials`` unskilled strategies (a real
    number of trials is allowed: an effective count)."""
    if not trials > 1 or not sr_variance > 0:
        return 0.0
    return math.sqrt(sr_variance) * _max_factor(trials)


def deflated_sharpe(
    sr: float, n: int, skew: float, kurt: float, trial_srs: np.ndarray, trials: float | None = None
) -> float:
    """DSR of a winner with per-session Sharpe ``sr`` over ``n`` sessions, among ``trial_srs``
    (their finite values); ``trials`` replaces their count as N (e.g. ``effective_trials``)."""
    finite = trial_srs[np.isfinite(trial_srs)]
    var = float(np.var(finite, ddof=1)) if finite.size > 1 else 0.0
    return psr(
        sr, n, skew, kurt, expected_max_sharpe(var, finite.size if trials is None else trials)
    )


@njit(cache=True)
def _unit_sum_nb(blocks, col, counts, keep):
    """(sum over the rows ``keep`` of ``blocks`` of their standardised block means, how many): row
    c's block means m_b = blocks[c, col + b] / counts[b], centred and scaled to unit length; rows
    whose block means do not vary within precision (``stats.kernels.spread_floor``) are left
    out. Their pairwise correlations are the dot products of these unit vectors."""
    s = counts.shape[0]
    total = np.zeros(s)
    m = np.empty(s)
    n = 0
    for c in range(blocks.shape[0]):
        if not keep[c]:
            continue
        mean, ms = 0.0, 0.0
        for b in range(s):
            m[b] = blocks[c, col + b] / counts[b]
            mean += m[b]
            ms += m[b] * m[b]
        mean /= s
        ss = 0.0
        for b in range(s):
            m[b] -= mean
            ss += m[b] * m[b]
        if mk.variance_is_zero_nb(ss / (s - 1.0), ms / s):
            continue
        norm = np.sqrt(ss)
        for b in range(s):
            total[b] += m[b] / norm
        n += 1
    return total, n


def effective_trials(
    blocks: np.ndarray, col: int, block_counts: np.ndarray, keep: np.ndarray | None = None
) -> dict[str, float]:
    """Average correlation and effective number of the trials ``keep`` (K,) bool, all by default,
    from their per-block sums of returns, ``blocks[:, col : col + S]`` (S = len(block_counts)).

    rho = mean pairwise Pearson correlation of the trials' S block means: with z_c each trial's
    centred block means scaled to unit length, sum_{c != d} z_c . z_d = |sum_c z_c|^2 - n, so the
    mean over the n (n - 1) ordered pairs needs one pass and S numbers, never a K x K matrix.
    N_eff solves E_max(N_eff) = sqrt(1 - rho) E_max(N) (module docstring) on [1, N]; rho <= 0
    gives N. Trials whose block means do not vary are left out of rho (``correlated`` counts
    those used). Returns effective_trials, average_correlation (NaN below two trials), correlated.
    """
    counts = np.ascontiguousarray(block_counts, dtype=np.float64)
    blocks = np.ascontiguousarray(blocks, dtype=np.float64)  # a grid's own array: no copy
    k = blocks.shape[0]
    keep = np.ones(k, dtype=np.bool_) if keep is None else np.ascontiguousarray(keep, np.bool_)
    n_trials = int(keep.sum())
    total, n = np.zeros(0), 0
    if len(counts) > 2 and (counts > 0).all():  # a block without sessions has no mean
        total, n = _unit_sum_nb(blocks, col, counts, keep)
    if n < 2:
        return {"effective_trials": float(n_trials), "average_correlation": float("nan"),
                "correlated": n}  # fmt: skip
    rho = min(1.0, (float(total @ total) - n) / (n * (n - 1.0)))
    return {"effective_trials": _solve_effective(n_trials, rho), "average_correlation": rho,
            "correlated": n}  # fmt: skip


def _solve_effective(trials: int, rho: float) -> float:
    """N_eff in [1, N] with E_max(N_eff) = sqrt(1 - rho) E_max(N), by bisection on log N
    (E_max does not decrease with N)."""
    if trials < 2 or rho <= 0.0:
        return float(trials)
    target = math.sqrt(max(0.0, 1.0 - rho)) * _max_factor(trials)
    if not target > 0.0:
        return 1.0
    lo, hi = 0.0, math.log(trials)  # E_max(e^lo) < target <= E_max(e^hi)
    for _ in range(100):
        mid = 0.5 * (lo + hi)
        if _max_factor(math.exp(mid)) < target:
            lo = mid
        else:
            hi = mid
    return math.exp(hi)


@njit(cache=True)
def bootstrap_indices_nb(n, reps, block, seed):
    """(reps, n) indices of stationary-bootstrap resamples: blocks start uniformly at random, last
    a geometric number of steps with mean ``block``, and wrap around the end of the series."""
    np.random.seed(seed)  # noqa: NPY002 - numba supports only the legacy RNG API
    out = np.empty((reps, n), dtype=np.int64)
    p = 1.0 / block
    for r in range(reps):
        pos = np.random.randint(0, n)  # noqa: NPY002
        for i in range(n):
            if i > 0 and np.random.random() < p:  # noqa: NPY002
                pos = np.random.randint(0, n)  # noqa: NPY002
            out[r, i] = pos
            pos = (pos + 1) % n
    return out


def stationary_bootstrap(
    returns: np.ndarray,
    stat,
    reps: int = 1000,
    block: float | None = None,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float]:
    """Confidence interval of ``stat(resampled returns)`` by the stationary bootstrap; resamples
    where ``stat`` is NaN (undefined) are left out, and all undefined gives (NaN, NaN)."""
    n = len(returns)
    block = block or max(1.0, n ** (1.0 / 3.0))
    idx = bootstrap_indices_nb(n, reps, float(block), seed)
    values = np.array([stat(returns[row]) for row in idx], dtype=np.float64)
    values = values[np.isfinite(values)]  # an undefined statistic (NaN) is left out, not ranked
    if not values.size:
        return float("nan"), float("nan")
    lo, hi = np.quantile(values, [(1 - level) / 2, 1 - (1 - level) / 2])
    return float(lo), float(hi)


_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


@njit(cache=True, inline="always")
def _splitmix64_nb(state):
    """(next state, uniform in [0, 1)): Steele, Lea & Flood's SplitMix64 (2014), ~1 ns a draw;
    numba's Mersenne Twister takes ~10 ns, most of a block bootstrap's time."""
    state = state + _GOLDEN
    z = (state ^ (state >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    z = z ^ (z >> np.uint64(31))
    return state, np.float64(z >> np.uint64(11)) * 2.0**-53


@njit(cache=True)
def block_bootstrap_means_nb(x, block, reps, seed):
    """(reps,) means of moving-block bootstrap resamples of ``x`` (blocks of ``block`` values),
    blocks drawn uniformly with a SplitMix64 stream from ``seed``."""
    n = x.shape[0]
    block = min(block, n)
    sums = np.empty(n - block + 1)
    total = 0.0
    for i in range(n):
        total += x[i]
        if i >= block - 1:
            sums[i - block + 1] = total
            total -= x[i - block + 1]
    k = (n + block - 1) // block
    m = sums.shape[0]
    state = np.uint64(seed)
    out = np.empty(reps)
    for r in range(reps):
        s = 0.0
        for _ in range(k):
            state, u = _splitmix64_nb(state)
            s += sums[min(int(u * m), m - 1)]
        out[r] = s / (k * block)
    return out
