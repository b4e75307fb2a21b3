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
  among all combos; PBO = share of splits with logit(w) <= 0. Built from the per-block sums of
  excess returns the grid kernel emits, so nothing is re-simulated. What the paper leaves open is
  fixed so that nothing depends on row order: identical combos count once, a tie for in-sample
  best counts each tied combo equally (a random tie-break's expectation), out-of-sample ranks are
  average ranks, an undefined Sharpe ratio ranks last, and a PBO that a tie-break alone could move
  by more than ``PBO_MAX_AMBIGUOUS`` is reported as not identifiable.
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
# PBO is "not identifiable" when, in more than this share of splits, the in-sample best is tied
# among combos on both sides of the out-of-sample verdict: a tie-break alone could then move PBO
# by more than this (it is read against 0.5; its sampling error at 100+ splits is ~0.04).
PBO_MAX_AMBIGUOUS = 0.1
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
    var = max(squares - count * mean * mean, 0.0) / max(count - 1.0, 1.0)
    return np.nan if mk.variance_is_zero_nb(var, squares / count) else mean / np.sqrt(var)


@njit(cache=True, inline="always")
def _logit_nb(below, equal, d):
    """logit of the relative rank of a winner with ``below`` combos under it and ``equal`` tied
    with it (itself included) among ``d``: its average rank over (d + 1)."""
    w = (below + (equal + 1.0) / 2.0) / (d + 1.0)
    return np.log(w / (1.0 - w))


@njit(cache=True)
def _oos_logits_nb(u, sr_out):
    """(sum of logits, how many <= 0) of in-sample winners whose out-of-sample Sharpe ratios are
    ``u`` (sorted, NaN last), each ranked among all of ``sr_out`` by average rank (NaN, undefined,
    below every number). One pass over ``sr_out`` with binary searches into ``u``."""
    m, d = u.shape[0], sr_out.shape[0]
    n_def = m
    while n_def > 0 and np.isnan(u[n_def - 1]):
        n_def -= 1
    less = np.zeros(n_def + 1, np.int64)  # less[h] += 1: this value is below u[k] for k >= h
    same = np.zeros(n_def + 1, np.int64)  # +1 at lo, -1 at hi: equal to u[lo:hi]
    n_nan = 0
    for o in sr_out:
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
            logit = _logit_nb(below, equal, d)
        else:  # undefined out of sample: the mean rank of the undefined
            logit = _logit_nb(0, n_nan, d)
        total += logit
        over += logit <= 0.0
    return total, over


@njit(cache=True)
def _split_nb(sr_in, sr_out):
    """(mean logit, share with logit <= 0, m) over the m combos tied for the best in-sample Sharpe
    ratio (m = 0: none has one). Averaging over the tied is the expectation of picking one of
    them at random, so nothing depends on the order of the rows."""
    best, first, m = np.nan, -1, 0
    for c in range(sr_in.shape[0]):
        v = sr_in[c]
        if v == best:
            m += 1
        elif not np.isnan(v) and (first < 0 or v > best):
            best, first, m = v, c, 1
    if m == 0:
        return np.nan, np.nan, 0.0
    if m == 1:  # the usual case: one pass, no searches
        v, below, equal = sr_out[first], 0, 0
        for o in sr_out:
            if np.isnan(v):
                equal += np.isnan(o)
            elif np.isnan(o) or o < v:
                below += 1
            else:
                equal += o == v
        logit = _logit_nb(below, equal, sr_out.shape[0])
        return logit, 1.0 if logit <= 0.0 else 0.0, 1.0
    u = np.empty(m)
    j = 0
    for c in range(first, sr_in.shape[0]):
        if sr_in[c] == best:
            u[j] = sr_out[c]
            j += 1
    total, over = _oos_logits_nb(np.sort(u), sr_out)
    return total / m, over / m, float(m)


@njit(cache=True, inline="always")
def _half_sums_nb(blocks, c, idx, n_s):
    """(sum, sum of squares) of row ``c`` over the blocks ``idx``, in a fixed order: four running
    sums (blocks k, k + 4, ... each) so that the additions overlap (PBO's inner loop)."""
    s0 = s1 = s2 = s3 = q0 = q1 = q2 = q3 = 0.0
    k, h = 0, idx.shape[0]
    while k + 3 < h:
        j0, j1, j2, j3 = idx[k], idx[k + 1], idx[k + 2], idx[k + 3]
        s0, s1, s2, s3 = (
            s0 + blocks[c, j0],
            s1 + blocks[c, j1],
            s2 + blocks[c, j2],
            s3 + blocks[c, j3],
        )
        q0 += blocks[c, n_s + j0]
        q1 += blocks[c, n_s + j1]
        q2 += blocks[c, n_s + j2]
        q3 += blocks[c, n_s + j3]
        k += 4
    while k < h:
        s0 += blocks[c, idx[k]]
        q0 += blocks[c, n_s + idx[k]]
        k += 1
    return (s0 + s1) + (s2 + s3), (q0 + q1) + (q2 + q3)


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
            s_a, q_a = _half_sums_nb(blocks, rows[i], in_a, n_s)
            s_b, q_b = _half_sums_nb(blocks, rows[i], in_b, n_s)
            sr_a[i] = _sharpe_nb(s_a, q_a, n_a)
            sr_b[i] = _sharpe_nb(s_b, q_b, n_b)
        out[0, p], out[1, p], out[2, p] = _split_nb(sr_a, sr_b)
        out[0, n_p + p], out[1, n_p + p], out[2, n_p + p] = _split_nb(sr_b, sr_a)
    return out


_NEG_ZERO = np.uint64(1 << 63)  # the bits of -0.0, read as 0.0 (equal to it as numbers)


@njit(cache=True, inline="always")
def _word_nb(bits, c, j):
    w = bits[c, j]
    return np.uint64(0) if w == _NEG_ZERO else w


@njit(cache=True)
def distinct_rows_nb(bits):
    """Ascending indices of one row per class of identical rows of ``bits`` (K, M) (the uint64
    view of the block sums, so nothing is copied): rows hashed (FNV-1a over the words), sorted
    by hash, and equal hashes compared word by word."""
    k, m = bits.shape
    h = np.empty(k, np.uint64)
    for c in range(k):
        x = np.uint64(14695981039346656037)
        for j in range(m):
            x = (x ^ _word_nb(bits, c, j)) * np.uint64(1099511628211)
        h[c] = x
    order = np.argsort(h, kind="mergesort")
    keep = np.ones(k, np.bool_)
    start = 0
    for i in range(1, k + 1):
        if i < k and h[order[i]] == h[order[start]]:
            continue
        for a in range(start + 1, i):  # a group of equal hashes: almost always identical rows
            for b in range(start, a):
                if not keep[order[b]]:
                    continue
                same = True
                for j in range(m):
                    if _word_nb(bits, order[a], j) != _word_nb(bits, order[b], j):
                        same = False
                        break
                if same:
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


def _pbo_result(pbo, splits, median, distinct, shares, note) -> dict[str, Any]:
    return {"pbo": pbo, "splits": splits, "logit_median": median, "pbo_identifiable": note is None,
            "pbo_tied_share": shares[0], "pbo_ambiguous_share": shares[1],
            "pbo_distinct_combos": distinct, "pbo_note": note}  # fmt: skip


def pbo_cscv(
    blocks: np.ndarray, block_counts: np.ndarray, max_splits: int | None = None, seed: int = 0
) -> dict[str, Any]:
    """PBO from ``blocks`` (K, 2S: per-block sums of excess returns, then of their squares) and
    sessions per block (S,), in float64 whatever the input; nothing depends on row order.

    Combos with identical block sums count once (D distinct). Uses every split of the S blocks
    into two halves, or ``max_splits`` of them (default ``pbo_splits(D)``) drawn with ``seed``;
    splits where no combo has an in-sample Sharpe ratio are skipped. A split's verdict is the
    share of the combos tied for the best in-sample Sharpe ratio whose logit is <= 0 (a random
    tie-break's expectation); PBO is the mean verdict. Returns pbo, splits (used), logit_median
    (of each split's mean logit over its tied best), pbo_identifiable, pbo_tied_share (splits
    whose in-sample best is tied), pbo_ambiguous_share (splits whose tied best fall on both sides
    of the verdict: how far a tie-break could move PBO), pbo_distinct_combos and pbo_note (why
    there is no PBO). pbo and logit_median are NaN when it is not identifiable
    (pbo_ambiguous_share > PBO_MAX_AMBIGUOUS) or not computable.
    """
    nan = float("nan")
    blocks = np.ascontiguousarray(blocks, dtype=np.float64)  # a grid's own array: no copy
    k, two_s = blocks.shape
    s = two_s // 2
    rows = distinct_rows_nb(blocks.view(np.uint64)) if k else np.empty(0, np.int64)
    d = len(rows)
    if s < 2 or s % 2:
        return _pbo_result(nan, 0, nan, d, (nan, nan), f"needs an even number of blocks; got {s}")
    if d < 2:
        note = "needs two combos whose returns differ; " + (
            f"all {k} have identical returns in every block" if k > 1 else f"got {k}"
        )
        return _pbo_result(nan, 0, nan, d, (nan, nan), note)
    halves = _halves(s, pbo_splits(d) if max_splits is None else max_splits, seed)
    mean_logit, verdict, n_best = cscv_nb(
        blocks, rows, np.ascontiguousarray(block_counts, dtype=np.float64), halves
    )
    ok = n_best > 0
    n = int(ok.sum())
    if not n:
        return _pbo_result(nan, 0, nan, d, (nan, nan), "no combo has an in-sample Sharpe ratio")
    verdict, mean_logit = verdict[ok], mean_logit[ok]
    shares = (float((n_best[ok] > 1).mean()), float(((verdict > 0) & (verdict < 1)).mean()))
    if shares[1] > PBO_MAX_AMBIGUOUS:
        note = (
            f"not identifiable: in {shares[1]:.0%} of {n:,} splits the in-sample best is a tie "
            "between combos with identical returns there that land on both sides of the "
            f"out-of-sample median, so a tie-break alone could move PBO by {shares[1]:.2f} "
            f"(more than {PBO_MAX_AMBIGUOUS})"
        )
        return _pbo_result(nan, n, nan, d, shares, note)
    return _pbo_result(float(verdict.mean()), n, float(np.median(mean_logit)), d, shares, None)


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
