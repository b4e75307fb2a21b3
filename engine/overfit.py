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
from typing import Any

import numpy as np
from numba import njit, prange

from engine import metric_kernels as mk

EULER_GAMMA = 0.5772156649015329
# PBO is "not identifiable" when the in-sample best is tied in more than this share of splits.
PBO_MAX_TIED_SHARE = 0.1
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
    """Per-session Sharpe ratio from a sum, a sum of squares and a count of excess returns; NaN
    when their standard deviation is zero within precision (``metric_kernels.spread_floor``)."""
    mean = total / count
    sd = np.sqrt(max(squares - count * mean * mean, 0.0) / max(count - 1.0, 1.0))
    rms = np.sqrt(max(squares, 0.0) / count)
    return np.nan if mk.spread_is_zero_nb(sd, rms) else mean / sd


@njit(cache=True)
def _oos_logits_nb(u, sr_out):
    """(sum of logits, how many <= 0) of in-sample winners whose out-of-sample Sharpe ratios are
    ``u`` (sorted, NaN last), ranked among all of ``sr_out`` by average rank: a winner tied with
    e others out of sample gets the mean of their ranks; NaN (undefined) ranks below every
    number. One pass over ``sr_out`` with binary searches into ``u``: O(D log m)."""
    m, d = u.shape[0], sr_out.shape[0]
    if m == 1:  # the usual case: one winner, one pass, no searches
        v, below, equal = u[0], 0, 0
        for o in sr_out:
            if np.isnan(v):
                equal += np.isnan(o)
            elif np.isnan(o) or o < v:
                below += 1
            else:
                equal += o == v
        w = (below + (equal + 1.0) / 2.0) / (d + 1.0)
        logit = np.log(w / (1.0 - w))
        return logit, 1 if logit <= 0.0 else 0
    n_def = m
    while n_def > 0 and np.isnan(u[n_def - 1]):
        n_def -= 1
    less = np.zeros(n_def + 1, np.int64)  # less[h] += 1: this value is below u[k] for k >= h
    same = np.zeros(n_def + 1, np.int64)  # +1 at lo, -1 at hi: equal to u[lo:hi]
    n_nan = 0
    for i in range(d):
        o = sr_out[i]
        if np.isnan(o):
            n_nan += 1
            continue
        lo = np.searchsorted(u[:n_def], o, side="left")
        hi = np.searchsorted(u[:n_def], o, side="right")
        less[hi] += 1
        same[lo] += 1
        same[hi] -= 1
    total, over, below, equal = 0.0, 0, n_nan, 0
    for k in range(m):
        if k < n_def:
            below += less[k]
            equal += same[k]
            rank = below + (equal + 1.0) / 2.0
        else:
            rank = (n_nan + 1.0) / 2.0  # undefined out of sample: the mean rank of the undefined
        w = rank / (d + 1.0)
        logit = np.log(w / (1.0 - w))
        total += logit
        over += logit <= 0.0
    return total, over


@njit(cache=True)
def _split_nb(sr_in, sr_out):
    """(mean logit, share with logit <= 0, m) over the m combos tied for the best in-sample Sharpe
    ratio (m = 0: none has one). Averaging over the tied is the expectation of picking one of
    them at random: nothing depends on the order of the rows."""
    best = np.nan
    for v in sr_in:
        if not np.isnan(v) and (np.isnan(best) or v > best):
            best = v
    if np.isnan(best):
        return np.nan, np.nan, 0.0
    m = 0
    for v in sr_in:
        m += v == best
    u = np.empty(m)
    j = 0
    for c in range(sr_in.shape[0]):
        if sr_in[c] == best:
            u[j] = sr_out[c]
            j += 1
    total, over = _oos_logits_nb(np.sort(u), sr_out)
    return total / m, over / m, float(m)


@njit(cache=True, parallel=True)
def cscv_nb(blocks, rows, counts, halves):
    """(3, 2P) for P splits ``halves`` (P, S) bool of the S blocks, over the combos ``rows`` of
    ``blocks`` (K, 2S: per-block sums of excess returns, then of their squares; ``counts``: (S,)
    sessions per block). Each half of a split serves once as in-sample, the other as
    out-of-sample (columns [p] and [P + p]); rows: mean logit of the in-sample best, share of
    them with logit <= 0, how many tie for in-sample best. Both halves are summed block by block
    (never total minus the other half), so combos equal on a half tie exactly there."""
    n_s, n_p, d = counts.shape[0], halves.shape[0], rows.shape[0]
    out = np.empty((3, 2 * n_p))
    for p in prange(n_p):
        sr_a = np.empty(d)
        sr_b = np.empty(d)
        in_a = np.flatnonzero(halves[p])
        in_b = np.flatnonzero(~halves[p])
        n_a, n_b = counts[in_a].sum(), counts[in_b].sum()
        for i in range(d):
            c = rows[i]
            s_a, q_a, s_b, q_b = 0.0, 0.0, 0.0, 0.0
            for j in in_a:
                s_a += blocks[c, j]
                q_a += blocks[c, n_s + j]
            for j in in_b:
                s_b += blocks[c, j]
                q_b += blocks[c, n_s + j]
            sr_a[i] = _sharpe_nb(s_a, q_a, n_a)
            sr_b[i] = _sharpe_nb(s_b, q_b, n_b)
        out[0, p], out[1, p], out[2, p] = _split_nb(sr_a, sr_b)
        out[0, n_p + p], out[1, n_p + p], out[2, n_p + p] = _split_nb(sr_b, sr_a)
    return out


@njit(cache=True)
def distinct_rows_nb(bits):
    """Ascending indices of one row per class of identical rows of ``bits`` (K, M) (the uint64
    view of the block sums): rows hashed (FNV-1a over the words), sorted by hash, and equal
    hashes compared word by word."""
    k, m = bits.shape
    h = np.empty(k, np.uint64)
    for c in range(k):
        x = np.uint64(14695981039346656037)
        for j in range(m):
            x = (x ^ bits[c, j]) * np.uint64(1099511628211)
        h[c] = x
    order = np.argsort(h, kind="mergesort")
    keep = np.ones(k, np.bool_)
    start = 0
    for i in range(1, k + 1):
        if i < k and h[order[i]] == h[order[start]]:
            continue
        for a in range(start + 1, i):  # a group of equal hashes: almost always identical rows
            for b in range(start, a):
                if keep[order[b]] and np.array_equal(bits[order[a]], bits[order[b]]):
                    keep[order[a]] = False
                    break
        start = i
    return np.flatnonzero(keep)


def pbo_splits(k: int, budget: float = 2e8) -> int:
    """How many splits ``pbo_cscv`` uses for K combos by default: as many as keep splits x K
    within ``budget`` (~1 s per 1e8 on two cores), at least 100 (standard error of the PBO <=
    0.036) and at most 5,000."""
    return int(min(5000, max(100, budget // max(k, 1))))


def _halves(s: int, max_splits: int, seed: int) -> np.ndarray:
    """(P, S) bool: halves of S blocks that contain block 0 (the mirror is the other direction),
    all of them or ``max_splits`` drawn with ``seed``."""
    splits = [c for c in itertools.combinations(range(s), s // 2) if 0 in c]
    if len(splits) > max_splits:
        pick = np.random.default_rng(seed).choice(len(splits), max_splits, replace=False)
        splits = [splits[i] for i in sorted(pick)]
    halves = np.zeros((len(splits), s), dtype=np.bool_)
    for row, half in enumerate(splits):
        halves[row, list(half)] = True
    return halves


def _pbo_result(pbo, splits, logit_median, distinct, tied, note) -> dict[str, Any]:
    return {"pbo": pbo, "splits": splits, "logit_median": logit_median,
            "pbo_identifiable": note is None, "pbo_tied_share": tied,
            "pbo_distinct_combos": distinct, "pbo_note": note}  # fmt: skip


def pbo_cscv(
    blocks: np.ndarray, block_counts: np.ndarray, max_splits: int | None = None, seed: int = 0
) -> dict[str, Any]:
    """PBO from ``blocks`` (K, 2S: per-block sums of excess returns, then of their squares) and
    sessions per block (S,), in float64 whatever the input.

    Uses every split of the S blocks into two halves, or ``max_splits`` of them (default
    ``pbo_splits(D)``) drawn with ``seed``. Returns pbo, splits (those with an in-sample best),
    logit_median, pbo_identifiable, pbo_tied_share (share of splits whose in-sample best is
    tied), pbo_distinct_combos (D) and pbo_note (why there is no PBO, else None). pbo and
    logit_median are NaN when not identifiable or not computable; nothing depends on row order.
    """
    nan = float("nan")
    blocks = np.ascontiguousarray(blocks, dtype=np.float64) + 0.0  # +0.0: -0.0 equals 0.0
    k, two_s = blocks.shape
    s = two_s // 2
    rows = distinct_rows_nb(blocks.view(np.uint64)) if k else np.empty(0, np.int64)
    if s < 2 or s % 2:
        return _pbo_result(nan, 0, nan, len(rows), nan, f"needs an even number of blocks; got {s}")
    if len(rows) < 2:
        note = "needs two combos whose returns differ; " + (
            f"all {k} have identical returns in every block" if k > 1 else f"got {k}"
        )
        return _pbo_result(nan, 0, nan, len(rows), nan, note)
    halves = _halves(s, pbo_splits(len(rows)) if max_splits is None else max_splits, seed)
    mean_logit, share, n_best = cscv_nb(
        blocks, rows, np.ascontiguousarray(block_counts, dtype=np.float64), halves
    )
    ok = n_best > 0
    if not ok.any():
        return _pbo_result(nan, 0, nan, len(rows), nan, "no combo has a Sharpe ratio in sample")
    tied = float((n_best[ok] > 1).mean())
    if tied > PBO_MAX_TIED_SHARE:
        note = (
            f"not identifiable: the in-sample best is tied in {tied:.0%} of {int(ok.sum()):,} "
            f"splits (more than {PBO_MAX_TIED_SHARE:.0%}) - combos with identical returns there, "
            "so which one 'wins' is decided by a tie rule, not by the data"
        )
        return _pbo_result(nan, int(ok.sum()), nan, len(rows), tied, note)
    median = float(np.median(mean_logit[ok]))
    return _pbo_result(float(share[ok].mean()), int(ok.sum()), median, len(rows), tied, None)


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
