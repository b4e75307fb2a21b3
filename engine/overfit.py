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
from numba import njit

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


def _block_sharpe(sums: np.ndarray, squares: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Per-session Sharpe of each combo (rows) from block sums chosen by the caller (summed)."""
    mean = sums / counts
    var = (squares - counts * mean * mean) / np.maximum(counts - 1, 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        # Relative test: for a constant series squares - n mean^2 leaves rounding dust, not 0.
        return np.where(var > 1e-12 * mean * mean, mean / np.sqrt(var), np.nan)


def pbo_cscv(
    blocks: np.ndarray, block_counts: np.ndarray, max_splits: int = 5000, seed: int = 0
) -> dict[str, float]:
    """PBO from ``blocks`` (K, 2S: sums then squared sums per block) and sessions per block (S,).

    Uses every split of the S blocks into two halves, or ``max_splits`` of them drawn with ``seed``.
    """
    k, two_s = blocks.shape
    s = two_s // 2
    if k < 2 or s < 2 or s % 2:
        return {"pbo": float("nan"), "splits": 0, "logit_median": float("nan")}
    sums, squares = blocks[:, :s], blocks[:, s:]
    splits = [c for c in itertools.combinations(range(s), s // 2) if 0 in c]  # halves, no mirror
    if len(splits) > max_splits:
        pick = np.random.default_rng(seed).choice(len(splits), max_splits, replace=False)
        splits = [splits[i] for i in sorted(pick)]
    chosen = np.zeros((len(splits), s), dtype=bool)
    for row, half in enumerate(splits):
        chosen[row, list(half)] = True
    masks = np.concatenate((chosen, ~chosen))  # each half serves once as in-sample
    logits = []
    for start in range(0, len(masks), 256):  # bounded memory: 256 splits x K combos at a time
        m = masks[start : start + 256].astype(np.float64)
        sr_in = _block_sharpe((m @ sums.T), (m @ squares.T), (m @ block_counts)[:, None])
        sr_out = _block_sharpe(((1 - m) @ sums.T), ((1 - m) @ squares.T),
                               ((1 - m) @ block_counts)[:, None])  # fmt: skip
        valid = np.isfinite(sr_in).any(axis=1)
        best = np.nanargmax(np.where(valid[:, None], sr_in, 0.0), axis=1)
        out = np.nan_to_num(sr_out, nan=-np.inf)
        beaten = (out < sr_out[np.arange(len(m)), best][:, None]).sum(axis=1)
        rank = (beaten[valid] + 1) / (k + 1)
        logits.append(np.log(rank / (1.0 - rank)))
    logits = np.concatenate(logits) if logits else np.array([])
    arr = np.asarray(logits)
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


@njit(cache=True)
def block_bootstrap_means_nb(x, block, reps, seed):
    """(reps,) means of moving-block bootstrap resamples of ``x`` (blocks of ``block`` values)."""
    np.random.seed(seed)  # noqa: NPY002 - numba supports only the legacy RNG API
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
    out = np.empty(reps)
    for r in range(reps):
        s = 0.0
        for _ in range(k):
            s += sums[np.random.randint(0, sums.shape[0])]  # noqa: NPY002
        out[r] = s / (k * block)
    return out
