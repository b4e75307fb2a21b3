"""Statistics that say how much to trust the best of many backtests.

Lives here, each with its source:

- ``expected_max_sharpe`` / ``deflated_sharpe`` - Bailey & Lopez de Prado (2014), "The Deflated
  Sharpe Ratio": the probabilistic Sharpe ratio of the winner against the Sharpe ratio the best of
  N unskilled trials would reach, SR0 = sqrt(V[SR]) ((1 - g) Z^-1(1 - 1/N) + g Z^-1(1 - 1/(N e))),
  g the Euler-Mascheroni constant, V[SR] the variance of the trials' (per-session) Sharpe ratios.
- ``psr`` - Bailey & Lopez de Prado (2012): Z((SR - SR0) sqrt(n - 1) / sqrt(1 - skew SR +
  (kurt - 1) / 4 SR^2)).
- ``pbo_cscv`` - Bailey, Borwein, Lopez de Prado & Zhu (2017), "The Probability of Backtest
  Overfitting": split the sessions into S blocks, and for every way of choosing S/2 blocks as
  in-sample, take the in-sample best combo and the relative rank w of its out-of-sample Sharpe
  among all combos; PBO = share of splits with logit(w) <= 0. Built from the per-block return sums
  the grid kernel emits, so nothing is re-simulated.
- ``stationary_bootstrap`` - Politis & Romano (1994): resample a return series in blocks of
  geometric length (mean ``block``), wrapping around, to get confidence intervals of statistics.
- ``block_bootstrap_means_nb`` - the moving-block bootstrap (Kunsch 1989) of a mean: ceil(n / b)
  blocks of b consecutive values drawn with replacement from the n - b + 1 overlapping blocks.
"""

from __future__ import annotations

import itertools
import math
from statistics import NormalDist

import numpy as np
from numba import njit, prange

EULER_GAMMA = 0.5772156649015329
_Z = NormalDist()


def psr(sr: float, n: int, skew: float, kurt: float, sr0: float = 0.0) -> float:
    denom = 1.0 - skew * sr + (kurt - 1.0) / 4.0 * sr * sr
    if not (n > 1 and denom > 0 and math.isfinite(sr) and math.isfinite(sr0)):
        return float("nan")
    return _Z.cdf((sr - sr0) * math.sqrt(n - 1) / math.sqrt(denom))


def expected_max_sharpe(sr_variance: float, trials: int) -> float:
    """Expected maximum per-session Sharpe ratio of ``trials`` unskilled strategies."""
    if trials < 2 or not sr_variance > 0:
        return 0.0
    a = _Z.inv_cdf(1.0 - 1.0 / trials)
    b = _Z.inv_cdf(1.0 - 1.0 / (trials * math.e))
    return math.sqrt(sr_variance) * ((1.0 - EULER_GAMMA) * a + EULER_GAMMA * b)


def deflated_sharpe(sr: float, n: int, skew: float, kurt: float, trial_srs: np.ndarray) -> float:
    """DSR of a winner with per-session Sharpe ``sr`` over ``n`` sessions, among ``trial_srs``."""
    finite = trial_srs[np.isfinite(trial_srs)]
    sr0 = expected_max_sharpe(
        float(np.var(finite, ddof=1)) if finite.size > 1 else 0.0, finite.size
    )
    return psr(sr, n, skew, kurt, sr0)


@njit(cache=True, inline="always")
def _sharpe_nb(total, squares, count):
    """Per-session Sharpe ratio from a sum, a sum of squares and a count; NaN when the variance is
    nil (relative test: for a constant series squares - n mean^2 leaves rounding dust, not 0)."""
    mean = total / count
    var = (squares - count * mean * mean) / max(count - 1.0, 1.0)
    return mean / np.sqrt(var) if var > 1e-12 * mean * mean else np.nan


@njit(cache=True, inline="always")
def _logit_nb(sr_in, sr_out):
    """logit of the relative out-of-sample rank of the in-sample best (NaN when no in-sample
    Sharpe ratio exists). Ties go to the first combo; NaN out-of-sample ranks lowest."""
    best = -1
    for c in range(sr_in.shape[0]):
        if not np.isnan(sr_in[c]) and (best < 0 or sr_in[c] > sr_in[best]):
            best = c
    if best < 0:
        return np.nan
    beaten = 0
    for c in range(sr_out.shape[0]):
        if sr_out[c] < sr_out[best] or (np.isnan(sr_out[c]) and not np.isnan(sr_out[best])):
            beaten += 1
    rank = (beaten + 1.0) / (sr_in.shape[0] + 1.0)
    return np.log(rank / (1.0 - rank))


@njit(cache=True, parallel=True)
def cscv_logits_nb(blocks, counts, halves):
    """(2P,) logits for P splits ``halves`` (P, S) bool of the S blocks: each half of a split
    serves once as in-sample, the other as out-of-sample (logits [p] and [P + p]). ``blocks``:
    (K, 2S) per-block sums, then sums of squares; ``counts``: (S,) sessions per block. Memory:
    two Sharpe ratios per combo per thread, whatever the number of splits."""
    n_k, n_s, n_p = blocks.shape[0], counts.shape[0], halves.shape[0]
    total = np.zeros((n_k, 2))
    for c in range(n_k):
        for j in range(n_s):
            total[c, 0] += blocks[c, j]
            total[c, 1] += blocks[c, n_s + j]
    out = np.empty(2 * n_p)
    for p in prange(n_p):
        sr_a = np.empty(n_k)
        sr_b = np.empty(n_k)
        in_a = np.flatnonzero(halves[p])
        n_a = 0.0
        for j in in_a:
            n_a += counts[j]
        n_b = counts.sum() - n_a
        for c in range(n_k):
            s_a, q_a = 0.0, 0.0
            for j in in_a:
                s_a += blocks[c, j]
                q_a += blocks[c, n_s + j]
            sr_a[c] = _sharpe_nb(s_a, q_a, n_a)
            sr_b[c] = _sharpe_nb(total[c, 0] - s_a, total[c, 1] - q_a, n_b)
        out[p] = _logit_nb(sr_a, sr_b)
        out[n_p + p] = _logit_nb(sr_b, sr_a)
    return out


def pbo_splits(k: int, budget: float = 2e8) -> int:
    """How many splits ``pbo_cscv`` uses for K combos by default: as many as keep splits x K
    within ``budget`` (~1 s per 1e8 on two cores), at least 100 (standard error of the PBO <=
    0.036) and at most 5,000."""
    return int(min(5000, max(100, budget // max(k, 1))))


def pbo_cscv(
    blocks: np.ndarray, block_counts: np.ndarray, max_splits: int | None = None, seed: int = 0
) -> dict[str, float]:
    """PBO from ``blocks`` (K, 2S: sums then squared sums per block) and sessions per block (S,).

    Uses every split of the S blocks into two halves, or ``max_splits`` of them (default
    ``pbo_splits(K)``) drawn with ``seed``.
    """
    k, two_s = blocks.shape
    s = two_s // 2
    if k < 2 or s < 2 or s % 2:
        return {"pbo": float("nan"), "splits": 0, "logit_median": float("nan")}
    max_splits = pbo_splits(k) if max_splits is None else max_splits
    splits = [c for c in itertools.combinations(range(s), s // 2) if 0 in c]  # halves, no mirror
    if len(splits) > max_splits:
        pick = np.random.default_rng(seed).choice(len(splits), max_splits, replace=False)
        splits = [splits[i] for i in sorted(pick)]
    halves = np.zeros((len(splits), s), dtype=np.bool_)
    for row, half in enumerate(splits):
        halves[row, list(half)] = True
    if blocks.dtype not in (np.float32, np.float64):
        blocks = blocks.astype(np.float64)
    logits = cscv_logits_nb(
        np.ascontiguousarray(blocks),  # float32 from a grid: summed in float64, never copied
        np.ascontiguousarray(block_counts, dtype=np.float64), halves,
    )  # fmt: skip
    arr = logits[np.isfinite(logits)]
    return {
        "pbo": float((arr <= 0).mean()) if arr.size else float("nan"),
        "splits": int(arr.size),
        "logit_median": float(np.median(arr)) if arr.size else float("nan"),
    }


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
    """Confidence interval of ``stat(resampled returns)`` by the stationary bootstrap."""
    n = len(returns)
    block = block or max(1.0, n ** (1.0 / 3.0))
    idx = bootstrap_indices_nb(n, reps, float(block), seed)
    values = np.array([stat(returns[row]) for row in idx])
    lo, hi = np.nanquantile(values, [(1 - level) / 2, 1 - (1 - level) / 2])
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
