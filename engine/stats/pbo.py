"""The probability of backtest overfitting (PBO) by combinatorially symmetric cross-validation.

Bailey, Borwein, Lopez de Prado & Zhu (2017), "The Probability of Backtest Overfitting": split the
sessions into S blocks, and for every way of choosing S/2 blocks as in-sample, take the in-sample
best combo and the relative rank w of its out-of-sample statistic among all combos; PBO = share
of splits with logit(w) <= 0. Built from the per-block sums the grid kernel emits
(``stats.kernels.BLOCK_FIELDS``), so nothing is re-simulated; any statistic a half's sums
determine can rank the combos (``STATISTICS``): a Sharpe ratio (of excess returns over cash, or of
active returns over a benchmark: the information ratio), a Sortino ratio, a standard deviation
(lower is better: volatility, tracking error) or growth (log growth of equity: total return,
CAGR). Max drawdown and Calmar need the path inside each half, which block sums do not keep.

What the paper leaves open is fixed so that nothing depends on row order: identical combos count
once, a tie for in-sample best counts each tied combo equally (a random tie-break's expectation),
out-of-sample ranks are average ranks, an undefined statistic ranks last, and a PBO that a
tie-break alone could move by more than ``PBO_MAX_AMBIGUOUS`` is reported as not identifiable.

Not here: the deflated Sharpe ratio and the bootstrap (``overfit``), which combos and fields a
grid keeps (``grid``).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from numba import njit, prange

from engine.stats import kernels as mk

# PBO is "not identifiable" when, in more than this share of splits, the in-sample best is tied
# among combos on both sides of the out-of-sample verdict: a tie-break alone could then move PBO
# by more than this (it is read against 0.5; its sampling error at 100+ splits is ~0.04).
PBO_MAX_AMBIGUOUS = 0.1
# What a half's statistic is made of, by name: (code, fields it reads from the block sums).
STATISTICS = {
    "sharpe": (0, ("sum", "squares")),  # mean / sd, undefined when sd is zero within precision
    "sortino": (1, ("sum", "squares", "downside squares")),  # mean / sqrt(mean(min(x, 0)^2))
    "sd": (2, ("sum", "squares")),  # the standard deviation (ddof 1)
    "growth": (3, ("log growth",)),  # sum of log(E_end / E_start) over the half's blocks
}
_LABEL = {"sharpe": "Sharpe ratio", "sortino": "Sortino ratio", "sd": "standard deviation",
          "growth": "growth"}  # fmt: skip
_SHARPE, _SORTINO, _SD = 0, 1, 2


@njit(cache=True, inline="always")
def _sharpe_nb(total, squares, count):
    """Per-session Sharpe ratio from a sum, a sum of squares and a count of excess returns; NaN
    when their standard deviation is zero within precision (``stats.kernels.spread_floor``)."""
    mean = total / count
    var = max(squares - count * mean * mean, 0.0) / max(count - 1.0, 1.0)
    return np.nan if mk.variance_is_zero_nb(var, squares / count) else mean / np.sqrt(var)


@njit(cache=True, inline="always")
def _stat_nb(kind, s, q, d, n):
    """The statistic ``kind`` (``STATISTICS`` code) of a half from its sums: s of the returns, q
    of their squares, d of their squared downside, n sessions (growth: s is the log growth)."""
    if kind == _SHARPE:
        return _sharpe_nb(s, q, n)
    if kind == _SD:
        mean = s / n
        return np.sqrt(max(q - n * mean * mean, 0.0) / (n - 1.0)) if n > 1.0 else np.nan
    if kind == _SORTINO:  # the floor of ``metrics``: a plain sum of squares, no cancellation
        down = np.sqrt(d / n)
        return (s / n) / down if down > mk.ABS_FLOOR * (1.0 + np.sqrt(q / n)) else np.nan
    return s


@njit(cache=True, inline="always")
def _logit_nb(below, equal, d):
    """logit of the relative rank of a winner with ``below`` combos under it and ``equal`` tied
    with it (itself included) among ``d``: its average rank over (d + 1)."""
    w = (below + (equal + 1.0) / 2.0) / (d + 1.0)
    return np.log(w / (1.0 - w))


@njit(cache=True)
def _oos_logits_nb(u, sr_out):
    """(sum of logits, how many <= 0) of in-sample winners whose out-of-sample statistics are
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
    """(mean logit, share with logit <= 0, m) over the m combos tied for the best in-sample
    statistic (m = 0: none has one). Averaging over the tied is the expectation of picking one of
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
def _half_sums_nb(blocks, c, idx, o):
    """Row ``c``'s sums over the blocks ``idx`` of the three fields whose first columns are
    ``o`` (3,), in a fixed order: two running sums per field (blocks k, k + 2, ... each) so
    that the additions overlap (PBO's inner loop)."""
    s0 = s1 = q0 = q1 = d0 = d1 = 0.0
    k, h = 0, idx.shape[0]
    while k + 1 < h:
        j0, j1 = idx[k], idx[k + 1]
        s0, s1 = s0 + blocks[c, o[0] + j0], s1 + blocks[c, o[0] + j1]
        q0, q1 = q0 + blocks[c, o[1] + j0], q1 + blocks[c, o[1] + j1]
        d0, d1 = d0 + blocks[c, o[2] + j0], d1 + blocks[c, o[2] + j1]
        k += 2
    if k < h:
        s0 += blocks[c, o[0] + idx[k]]
        q0 += blocks[c, o[1] + idx[k]]
        d0 += blocks[c, o[2] + idx[k]]
    return s0 + s1, q0 + q1, d0 + d1


@njit(cache=True, parallel=True)
def cscv_nb(blocks, rows, counts, halves, offsets, kind, sign):
    """(3, 2P) for P splits ``halves`` (P, S) bool of the S blocks, over the combos ``rows`` of
    ``blocks`` (K, F S: F fields of S per-block sums; ``counts``: (S,) sessions per block), each
    ranked by ``sign`` x the statistic ``kind`` (``STATISTICS`` code) of the fields whose first
    columns are ``offsets`` (3,). Each half of a split serves once as in-sample, the other as
    out-of-sample (columns [p] and [P + p]); rows: mean logit of the in-sample best, share of
    them with logit <= 0, how many tie for in-sample best. Both halves are summed block by block
    (never total minus the other half), so combos equal on a half tie exactly there."""
    n_p, d = halves.shape[0], rows.shape[0]
    out = np.empty((3, 2 * n_p))
    for p in prange(n_p):
        sr_a = np.empty(d)
        sr_b = np.empty(d)
        in_a = np.flatnonzero(halves[p])
        in_b = np.flatnonzero(~halves[p])
        n_a, n_b = counts[in_a].sum(), counts[in_b].sum()
        for i in range(d):
            s_a, q_a, d_a = _half_sums_nb(blocks, rows[i], in_a, offsets)
            s_b, q_b, d_b = _half_sums_nb(blocks, rows[i], in_b, offsets)
            sr_a[i] = sign * _stat_nb(kind, s_a, q_a, d_a, n_a)
            sr_b[i] = sign * _stat_nb(kind, s_b, q_b, d_b, n_b)
        out[0, p], out[1, p], out[2, p] = _split_nb(sr_a, sr_b)
        out[0, n_p + p], out[1, n_p + p], out[2, n_p + p] = _split_nb(sr_b, sr_a)
    return out


_NEG_ZERO = np.uint64(1 << 63)  # the bits of -0.0, read as 0.0 (equal to it as numbers)


@njit(cache=True, inline="always")
def _word_nb(bits, c, j):
    w = bits[c, j]
    return np.uint64(0) if w == _NEG_ZERO else w


@njit(cache=True)
def _same_row_nb(bits, a, b, cols):
    for j in cols:
        if _word_nb(bits, a, j) != _word_nb(bits, b, j):
            return False
    return True


@njit(cache=True)
def distinct_rows_nb(bits, cols):
    """Ascending indices of one row per class of rows of ``bits`` (K, M) (the uint64 view of the
    block sums, so nothing is copied) identical on the columns ``cols``: rows hashed (FNV-1a over
    the words), sorted by hash, and equal hashes compared word by word."""
    k = bits.shape[0]
    h = np.empty(k, np.uint64)
    for c in range(k):
        x = np.uint64(14695981039346656037)
        for j in cols:
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
                if keep[order[b]] and _same_row_nb(bits, order[a], order[b], cols):
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


def _columns(statistic: str, fields: tuple[int, ...], s: int, width: int) -> np.ndarray:
    """First column of each field ``statistic`` reads (padded to 3 with the first)."""
    if statistic not in STATISTICS:
        raise ValueError(f"statistic {statistic!r} is not one of {', '.join(STATISTICS)}")
    need = len(STATISTICS[statistic][1])
    if len(fields) != need or not all(0 <= f and (f + 1) * s <= width for f in fields):
        raise ValueError(
            f"{statistic} reads {need} fields ({', '.join(STATISTICS[statistic][1])}); got "
            f"{fields} of a {width}-column array of {s} blocks"
        )
    first = [f * s for f in fields]
    return np.array(first + [first[0]] * (3 - need), dtype=np.int64)


def pbo_cscv(
    blocks: np.ndarray,
    block_counts: np.ndarray,
    max_splits: int | None = None,
    seed: int = 0,
    statistic: str = "sharpe",
    fields: tuple[int, ...] = (0, 1),
    higher: bool = True,
) -> dict[str, Any]:
    """PBO from ``blocks`` (K, F S: F fields of per-block sums, S blocks each) and sessions per
    block (S,), in float64 whatever the input; nothing depends on row order.

    Combos are ranked by ``statistic`` (a ``STATISTICS`` key; ``higher`` False: lower is better)
    of the fields ``fields`` (which of the F; the default: the Sharpe ratio of the first two,
    sums and squares of excess returns). Combos identical on those fields count once (D
    distinct). Uses every split of the S blocks into two halves, or ``max_splits`` of them
    (default ``pbo_splits(D)``) drawn with ``seed``; splits where no combo has the in-sample
    statistic are skipped. A split's verdict is the share of the combos tied for the best
    in-sample statistic whose logit is <= 0 (a random tie-break's expectation); PBO is the mean
    verdict. Returns pbo, splits (used), logit_median (of each split's mean logit over its tied
    best), pbo_identifiable, pbo_tied_share (splits whose in-sample best is tied),
    pbo_ambiguous_share (splits whose tied best fall on both sides of the verdict: how far a
    tie-break could move PBO), pbo_distinct_combos and pbo_note (why there is no PBO). pbo and
    logit_median are NaN when it is not identifiable (pbo_ambiguous_share > PBO_MAX_AMBIGUOUS)
    or not computable.
    """
    nan = float("nan")
    blocks = np.ascontiguousarray(blocks, dtype=np.float64)  # a grid's own array: no copy
    counts = np.ascontiguousarray(block_counts, dtype=np.float64)
    k, width = blocks.shape
    s = len(counts)
    if s < 2 or s % 2 or width % s:
        cols = np.arange(width, dtype=np.int64)
        d = len(distinct_rows_nb(blocks.view(np.uint64), cols)) if k else 0
        return _pbo_result(nan, 0, nan, d, (nan, nan), f"needs an even number of blocks; got {s}")
    offsets = _columns(statistic, tuple(fields), s, width)
    cols = np.concatenate([np.arange(o, o + s) for o in np.unique(offsets)])
    rows = distinct_rows_nb(blocks.view(np.uint64), cols) if k else np.empty(0, np.int64)
    d = len(rows)
    if d < 2:
        note = "needs two combos whose returns differ; " + (
            f"all {k} have identical returns in every block" if k > 1 else f"got {k}"
        )
        return _pbo_result(nan, 0, nan, d, (nan, nan), note)
    halves = _halves(s, pbo_splits(d) if max_splits is None else max_splits, seed)
    kind = STATISTICS[statistic][0]
    mean_logit, verdict, n_best = cscv_nb(
        blocks, rows, counts, halves, offsets, kind, 1.0 if higher else -1.0
    )
    ok = n_best > 0
    n = int(ok.sum())
    if not n:
        return _pbo_result(
            nan, 0, nan, d, (nan, nan), f"no combo has an in-sample {_LABEL[statistic]}"
        )
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
