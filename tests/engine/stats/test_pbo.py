"""PBO by CSCV (``engine.stats.pbo``) against a slow plain-Python CSCV over raw returns and over block
sums, with the documented rules for ties, duplicates, undefined statistics and row order; and for
every statistic CSCV can rank by (Sharpe, Sortino, standard deviation, growth) against a written-out
reference."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.stats import pbo as pbo_module
from engine.stats.pbo import pbo_cscv

# --- pbo_cscv -------------------------------------------------------------------------------------


def blocks_of(returns: np.ndarray, bounds: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """As the grid kernel emits them: (K, 2S) per-block return sums then squared-return sums, and
    sessions per block (S,); block b holds sessions bounds[b]:bounds[b + 1]."""
    s = len(bounds) - 1
    out = np.zeros((returns.shape[0], 2 * s))
    counts = np.zeros(s)
    for b in range(s):
        part = returns[:, bounds[b] : bounds[b + 1]]
        out[:, b] = part.sum(axis=1)
        out[:, s + b] = (part * part).sum(axis=1)
        counts[b] = part.shape[1]
    return out, counts


def even(t: int, s: int) -> list[int]:
    return [t * b // s for b in range(s + 1)]


def slow_pbo(returns: np.ndarray, bounds: list[int]) -> tuple[float, float, int]:
    """CSCV from the raw returns: every choice of S/2 in-sample blocks, Sharpe with ddof 1."""
    k, s = returns.shape[0], len(bounds) - 1
    logits = []
    for chosen in itertools.combinations(range(s), s // 2):
        cols_in = [t for b in chosen for t in range(bounds[b], bounds[b + 1])]
        cols_out = [t for b in range(s) if b not in chosen for t in range(bounds[b], bounds[b + 1])]
        sr_in = [np.mean(r[cols_in]) / np.std(r[cols_in], ddof=1) for r in returns]
        sr_out = [np.mean(r[cols_out]) / np.std(r[cols_out], ddof=1) for r in returns]
        best = max(range(k), key=lambda j: sr_in[j])
        rank = 1 + sum(sr_out[j] < sr_out[best] for j in range(k))
        w = rank / (k + 1)
        logits.append(math.log(w / (1 - w)))
    return sum(x <= 0 for x in logits) / len(logits), float(np.median(logits)), len(logits)


def alternating(t: int, d: float = 0.01) -> np.ndarray:
    """+d, -d, +d, ...: within-block noise with mean 0 over each even-length block."""
    return d * (1 - 2 * (np.arange(t) % 2))


def test_pbo_is_zero_when_one_combo_is_best_in_every_block():
    # K = 4, S = 4 blocks of 2 sessions. Combo 0 earns 0.01 + noise in every block; the others
    # earn at most 0.005 per block. Whatever the split, combo 0 is best in sample and out of sample:
    # OOS rank = 3 below + 1 = 4, w = 4 / 5, logit = ln(0.8 / 0.2) = ln 4 > 0 -> PBO 0.
    means = np.array([[0.010, 0.010, 0.010, 0.010],
                      [0.005, -0.004, 0.002, 0.000],
                      [-0.003, 0.005, 0.001, 0.004],
                      [0.000, 0.001, -0.005, 0.005]])  # fmt: skip
    returns = np.repeat(means, 2, axis=1) + alternating(8)
    blocks, counts = blocks_of(returns, even(8, 4))
    np.testing.assert_array_equal(counts, [2, 2, 2, 2])
    got = pbo_cscv(blocks, counts)
    assert got["pbo"] == 0.0
    assert got["splits"] == 6
    assert got["logit_median"] == pytest.approx(math.log(4))


def test_pbo_is_one_when_the_in_sample_best_is_always_the_out_of_sample_worst():
    # Block means m[j, b] = 0.001 a_j v_b with a = (1, 2, 3, 4), v = (1, 2, 4, -7): sum(v) = 0, so
    # a half's mean and its complement's have opposite signs (halves with block 0: v sums 3, 5, -6,
    # never 0). A combo's Sharpe is increasing in a_j when the half's mean is positive and
    # decreasing when it is negative, so the in-sample order of combos is exactly reversed out of
    # sample: the IS best has OOS rank 1, w = 1/5, logit = ln(0.2 / 0.8) = -ln 4 <= 0 -> PBO 1.
    a, v = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 2.0, 4.0, -7.0])
    returns = np.repeat(0.001 * np.outer(a, v), 2, axis=1) + alternating(8)
    blocks, counts = blocks_of(returns, even(8, 4))
    got = pbo_cscv(blocks, counts)
    assert got["pbo"] == 1.0
    assert got["splits"] == 6
    assert got["logit_median"] == pytest.approx(-math.log(4))


def test_pbo_two_combos_two_blocks_by_hand():
    # S = 2: block 0 in sample then block 1, and the reverse. Combo A is good in block 0 and bad in
    # block 1, combo B the opposite; each in-sample winner is the other half's loser:
    # rank 1 of 2, w = 1/3, logit = ln(1/2) < 0 in both directions -> PBO 1 over 2 splits.
    returns = np.array([[0.02, 0.0, -0.02, 0.0], [-0.01, 0.01, 0.01, 0.03]])
    blocks, counts = blocks_of(returns, [0, 2, 4])
    got = pbo_cscv(blocks, counts)
    assert {k: got[k] for k in ("pbo", "splits", "logit_median")} == {
        "pbo": 1.0, "splits": 2, "logit_median": pytest.approx(math.log(0.5))
    }  # fmt: skip
    assert got["pbo_identifiable"] and got["pbo_tied_share"] == 0.0 and got["pbo_note"] is None


@pytest.mark.parametrize(("k", "s", "t", "seed"), [(6, 4, 60, 0), (9, 6, 90, 1), (5, 8, 130, 2)])
def test_pbo_matches_slow_cscv_from_raw_returns(k, s, t, seed):
    rng = np.random.default_rng(seed)
    skill = rng.normal(0, 0.002, size=(k, 1))
    returns = skill + rng.normal(0.0003, 0.01, size=(k, t))
    bounds = sorted({0, t, *rng.choice(np.arange(3, t - 3), s - 1, replace=False).tolist()})
    assert len(bounds) == s + 1  # uneven blocks, as when sessions do not divide evenly
    blocks, counts = blocks_of(returns, bounds)
    pbo, median, n = slow_pbo(returns, bounds)
    got = pbo_cscv(blocks, counts)
    assert got["splits"] == n == math.comb(s, s // 2)
    assert got["pbo"] == pytest.approx(pbo)
    assert got["logit_median"] == pytest.approx(median)


def test_pbo_of_pure_noise_is_near_one_half():
    # Without skill the in-sample winner's out-of-sample rank is uniform: PBO about 1/2.
    pbos = []
    for seed in range(5):
        returns = np.random.default_rng(seed).normal(0.0, 0.01, size=(40, 800))
        pbos.append(pbo_cscv(*blocks_of(returns, even(800, 8)))["pbo"])
    assert all(0.2 <= p <= 0.8 for p in pbos), pbos
    assert 0.3 <= np.mean(pbos) <= 0.7, pbos


def test_pbo_of_real_skill_is_low():
    rng = np.random.default_rng(11)
    returns = rng.normal(0.0, 0.01, size=(40, 800))
    returns[17] += 0.004  # one combo with a Sharpe of about 0.4 per session
    got = pbo_cscv(*blocks_of(returns, even(800, 8)))
    assert got["pbo"] == 0.0 and got["logit_median"] == pytest.approx(math.log(40 / 1))


@pytest.mark.parametrize("s", [2, 4, 6, 8, 10])
def test_pbo_split_count_is_every_ordered_half(s):
    # Halves containing block 0: C(S, S/2) / 2, each used in both directions -> C(S, S/2):
    # S = 2: 2, S = 4: 6, S = 6: 20, S = 8: 70, S = 10: 252.
    returns = np.random.default_rng(s).normal(0, 0.01, size=(3, 10 * s))
    assert pbo_cscv(*blocks_of(returns, even(10 * s, s)))["splits"] == math.comb(s, s // 2)


def test_pbo_max_splits_draws_halves_with_the_seed():
    # S = 8: 35 halves contain block 0; max_splits = 10 of them, each both ways -> 20 logits.
    returns = np.random.default_rng(5).normal(0, 0.01, size=(12, 400))
    blocks, counts = blocks_of(returns, even(400, 8))
    a = pbo_cscv(blocks, counts, max_splits=10, seed=1)
    assert a["splits"] == 20
    assert a == pbo_cscv(blocks, counts, max_splits=10, seed=1)
    assert pbo_cscv(blocks, counts, max_splits=35) == pbo_cscv(blocks, counts)


def test_pbo_skips_splits_where_no_combo_has_a_sharpe():
    # Zero returns in blocks 0 and 1 for every combo: the split {0, 1} in sample has no Sharpe
    # ratio, so only 5 of the 6 ordered splits count.
    returns = np.random.default_rng(3).normal(0, 0.01, size=(4, 40))
    returns[:, :20] = 0.0
    got = pbo_cscv(*blocks_of(returns, even(40, 4)))
    assert got["splits"] == 5


@pytest.mark.parametrize(("k", "s"), [(1, 4), (0, 4), (5, 3), (5, 5), (5, 1), (5, 0)])
def test_pbo_is_nan_for_too_few_combos_or_an_odd_block_count(k, s):
    blocks = np.ones((k, 2 * s))
    got = pbo_cscv(blocks, np.full(s, 10.0))
    assert math.isnan(got["pbo"]) and math.isnan(got["logit_median"]) and got["splits"] == 0


# --- pbo_cscv: ties, undefined Sharpe ratios, row order ------------------------------------------

ULP = 2.0**-52


def ref_sharpe(x: list[float]) -> float:
    """mean / sd (ddof 1), undefined (NaN) when sd is zero within precision: at most
    max(1024 ulps x (1 + rms), 1e-4 x rms) - the rule documented in engine.stats.kernels."""
    n = len(x)
    mean = sum(x) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in x) / (n - 1))
    rms = math.sqrt(sum(v * v for v in x) / n)
    return mean / sd if sd > max(1024 * ULP * (1 + rms), 1e-4 * rms) else math.nan


def sums_sharpe(sums: list[float], squares: list[float], n: float) -> float:
    """The Sharpe ratio of a half from its blocks' sums, added in block order, as the kernel
    forms it - so that float ties (equal sums) are the kernel's ties - with the rule above."""
    total, sq = 0.0, 0.0
    for a, b in zip(sums, squares, strict=True):
        total, sq = total + a, sq + b
    mean = total / n
    sd = math.sqrt(max(sq - n * mean * mean, 0.0) / (n - 1))
    rms = math.sqrt(sq / n)
    return mean / sd if sd > max(1024 * ULP * (1 + rms), 1e-4 * rms) else math.nan


def ref_pbo(returns: np.ndarray, bounds: list[int], from_sums: bool = False):
    """CSCV with the documented tie rules, written out: (pbo, tied share, ambiguous share,
    splits).

    Identical combos count once. In each ordered split, every combo tied for the best defined
    in-sample Sharpe ratio is a winner; a winner's out-of-sample rank is its average rank (1 +
    number below + (number equal - 1) / 2, undefined below everything); the split counts the
    share of winners with logit(rank / (D + 1)) <= 0 - ambiguous when strictly between 0 and 1.
    Sharpe ratios from the returns themselves,
    or ``from_sums`` from the per-block sums (where rounding decides ties as in the kernel).
    """
    blocks, counts = blocks_of(returns, bounds)
    # Identical combos count once: identical returns, or from sums identical block sums (all
    # that CSCV sees of a combo).
    keys = blocks.tolist() if from_sums else returns.tolist()
    keep = list({tuple(key): j for j, key in enumerate(keys)}.values())
    distinct, blocks = returns[keep].tolist(), blocks[keep]
    d, s = len(distinct), len(bounds) - 1

    def sharpe(j: int, half: list[int]) -> float:
        if from_sums:
            return sums_sharpe([blocks[j, b] for b in half], [blocks[j, s + b] for b in half],
                               sum(counts[b] for b in half))  # fmt: skip
        return ref_sharpe([distinct[j][t] for b in half for t in range(bounds[b], bounds[b + 1])])

    shares, tied = [], []
    for chosen in itertools.combinations(range(s), s // 2):  # each ordered split once
        other = [b for b in range(s) if b not in chosen]
        sr_in = [sharpe(j, list(chosen)) for j in range(d)]
        sr_out = [sharpe(j, other) for j in range(d)]
        defined = [v for v in sr_in if not math.isnan(v)]
        if not defined:
            continue
        winners = [j for j in range(d) if sr_in[j] == max(defined)]
        over = 0
        for j in winners:
            v = sr_out[j]
            if math.isnan(v):
                below, equal = 0, sum(math.isnan(o) for o in sr_out)
            else:
                below = sum(math.isnan(o) or o < v for o in sr_out)
                equal = sum(o == v for o in sr_out)
            w = (1 + below + (equal - 1) / 2) / (d + 1)
            over += math.log(w / (1 - w)) <= 0
        shares.append(over / len(winners))
        tied.append(len(winners) > 1)
    ambiguous = sum(0 < v < 1 for v in shares) / len(shares)
    return sum(shares) / len(shares), sum(tied) / len(tied), ambiguous, len(shares)


def same_result(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(
        a[k] == b[k] or (isinstance(a[k], float) and math.isnan(a[k]) and math.isnan(b[k]))
        for k in a
    )


def issue_example() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Issue 13's case: 20 combos identical except in the last of 16 blocks; (blocks, counts,
    full-sample Sharpe ratios)."""
    rng = np.random.default_rng(0)
    t, k, s = 4000, 20, 16
    m = np.repeat(rng.normal(3e-4, 0.01, t)[:, None], k, 1)
    m[-250:] += rng.normal(0, 0.005, (250, k))
    cnt = np.full(s, 250.0)
    b = np.arange(0, t, 250)
    blk = np.hstack([np.add.reduceat(m, b).T, np.add.reduceat(m**2, b).T])
    return blk, cnt, m.mean(0) / m.std(0)


def test_pbo_of_combos_tied_in_sample_is_not_identifiable():
    # Before: 0.42 with rows sorted by Sharpe, 0.84 sorted the other way, 0.50 in float32. When
    # the last block is out of sample (half the splits) all 20 tie in sample.
    blk, cnt, sr = issue_example()
    got = [pbo_cscv(blk[o], cnt, max_splits=6435) for o in (np.argsort(-sr), np.argsort(sr))]
    got.append(pbo_cscv(blk[np.argsort(-sr)].astype(np.float32), cnt, max_splits=6435))
    for g in got:
        assert math.isnan(g["pbo"]) and math.isnan(g["logit_median"]) and g["splits"] == 12870
        assert not g["pbo_identifiable"] and g["pbo_tied_share"] == 0.5
        assert g["pbo_ambiguous_share"] == 0.5 and g["pbo_distinct_combos"] == 20
        assert g["pbo_note"].startswith("not identifiable: in 50% of 12,870 splits")
    assert same_result(got[0], got[1])


def test_pbo_of_the_issue_example_without_the_threshold_is_row_order_invariant(monkeypatch):
    # The value the tie rules give (0.75: a random tie-break is below median half the time, and
    # with the last block in sample every combo ties at the median out of sample, logit 0) is the
    # same in any row order and in float32, and equals the written-out reference.
    monkeypatch.setattr(pbo_module, "PBO_MAX_AMBIGUOUS", 1.0)
    blk, cnt, sr = issue_example()
    orders = [np.argsort(-sr), np.argsort(sr), np.random.default_rng(1).permutation(20)]
    got = [pbo_cscv(blk[o], cnt, max_splits=6435)["pbo"] for o in orders]
    got.append(pbo_cscv(blk[orders[0]].astype(np.float32), cnt, max_splits=6435)["pbo"])
    assert got == [0.75] * 4


def test_pbo_matches_the_reference_with_ties_duplicates_and_undefined_sharpe(monkeypatch):
    monkeypatch.setattr(pbo_module, "PBO_MAX_AMBIGUOUS", 1.0)
    rng = np.random.default_rng(8)
    t, bounds = 48, even(48, 6)
    base = rng.normal(0.0005, 0.01, size=(5, t))
    returns = np.vstack([
        base,
        base[1],  # a duplicate: the same strategy under another name
        np.where(np.arange(t) < bounds[2], base[2], base[3]),  # equal to 2, then to 3
        np.where(np.arange(t) < bounds[1], base[0] + 0.02, base[0]),  # 0 but lucky in block 0
        rng.normal(0, 1e-18, t),  # holds nothing: excess returns are rounding dust
    ])  # fmt: skip
    blocks, counts = blocks_of(returns, bounds)
    got = pbo_cscv(blocks, counts)
    pbo, tied, ambiguous, n = ref_pbo(returns, bounds)
    assert got["splits"] == n == 20 and got["pbo_distinct_combos"] == 8
    assert got["pbo_tied_share"] == pytest.approx(tied) and tied > 0
    assert got["pbo_ambiguous_share"] == pytest.approx(ambiguous)
    assert got["pbo"] == pytest.approx(pbo, abs=1e-12)


def test_pbo_never_picks_a_combo_that_holds_nothing():
    # Rounding dust around a tiny positive mean passed the old relative variance test (var >
    # 1e-12 mean^2) with a Sharpe ratio of ~10 per session, won every split in and out of sample
    # and drove PBO to 0. Now it has no Sharpe ratio: never the winner, last out of sample.
    rng = np.random.default_rng(2)
    returns = rng.normal(0.0, 0.01, size=(6, 400))
    returns[5] = 1e-16 + rng.normal(0, 1e-17, 400)
    half = returns[5, :200]
    assert math.isnan(pbo_module._sharpe_nb.py_func(half.sum(), (half**2).sum(), 200.0))
    assert half.mean() / half.std(ddof=1) > 5  # what the old rule called its Sharpe ratio
    got = pbo_cscv(*blocks_of(returns, even(400, 8)))
    assert got["pbo"] == pytest.approx(ref_pbo(returns, even(400, 8))[0], abs=1e-12)
    assert got["pbo"] > 0.2 and got["pbo_tied_share"] == 0.0


def test_ties_that_do_not_change_the_verdict_keep_pbo_identifiable():
    # Combos 0 and 1 are the same skilled strategy except for extra noise in block 0: with block 0
    # out of sample (half the splits) they tie in sample, but both rank top out of sample, so no
    # tie-break changes any verdict: PBO 0, tied share 1/2, ambiguous share 0.
    rng = np.random.default_rng(6)
    returns = rng.normal(0.0, 0.01, size=(8, 400))
    returns[0] += 0.004
    returns[1] = returns[0]
    returns[1, :50] += rng.normal(0, 0.01, 50)
    got = pbo_cscv(*blocks_of(returns, even(400, 8)))
    assert got["pbo_tied_share"] == 0.5 and got["pbo_ambiguous_share"] == 0.0
    assert got["pbo_identifiable"] and got["pbo"] == 0.0 and got["pbo_note"] is None


def test_duplicated_combos_count_once():
    rng = np.random.default_rng(4)
    returns = rng.normal(0.0002, 0.01, size=(7, 240))
    blocks, counts = blocks_of(returns, even(240, 6))
    once = pbo_cscv(blocks, counts)
    twice = pbo_cscv(np.vstack([blocks, blocks[::-1]]), counts)
    assert same_result(once, twice) and once["pbo_distinct_combos"] == 7


def test_negative_zero_sums_equal_zero_sums():
    blocks = np.random.default_rng(3).normal(0, 0.1, size=(4, 8))
    blocks[:, 2] = blocks[:, 6] = 0.0
    twin = blocks[1].copy()
    twin[2] = twin[6] = -0.0
    got = pbo_cscv(np.vstack([blocks, twin]), np.full(4, 10.0))
    assert same_result(got, pbo_cscv(blocks, np.full(4, 10.0)))
    assert got["pbo_distinct_combos"] == 4


def test_pbo_does_not_copy_the_block_sums():
    # A 10 M-combo grid's float64 block sums are 2.6 GB: PBO must read them in place.
    import tracemalloc

    blocks = np.random.default_rng(0).normal(0, 0.1, size=(100_000, 32))
    pbo_cscv(blocks[:10], np.full(16, 10.0), max_splits=2)  # compile outside the measurement
    tracemalloc.start()
    pbo_cscv(blocks, np.full(16, 10.0), max_splits=2)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < blocks.nbytes / 4


def test_pbo_of_identical_combos_is_not_computable():
    blocks, counts = blocks_of(
        np.tile(np.random.default_rng(1).normal(0, 0.01, 80), (5, 1)), even(80, 4)
    )
    got = pbo_cscv(blocks, counts)
    assert math.isnan(got["pbo"]) and got["pbo_distinct_combos"] == 1
    assert "identical returns in every block" in got["pbo_note"]


tie_values = st.sampled_from([-2 / 64, -1 / 64, 0.0, 1 / 64, 2 / 64, 3 / 64])


@st.composite
def tied_grids(draw):
    """Small grids full of ties: returns from six values, some rows repeated."""
    k, s, per = draw(st.integers(2, 7)), draw(st.sampled_from([2, 4, 6])), draw(st.integers(2, 3))
    rows = [draw(st.lists(tie_values, min_size=s * per, max_size=s * per)) for _ in range(k)]
    rows += [rows[i] for i in draw(st.lists(st.integers(0, k - 1), max_size=2))]
    returns = np.array(rows)
    perm = draw(st.permutations(range(len(rows))))
    return returns, even(s * per, s), np.array(perm)


@settings(max_examples=60, deadline=None)
@given(case=tied_grids())
def test_pbo_invariant_to_row_order(case):
    returns, bounds, perm = case
    blocks, counts = blocks_of(returns, bounds)
    a, b = pbo_cscv(blocks, counts), pbo_cscv(blocks[perm], counts)
    assert same_result(a, b)
    if a["splits"]:
        pbo, tied, ambiguous, n = ref_pbo(returns, bounds, from_sums=True)
        assert a["splits"] == n and a["pbo_tied_share"] == pytest.approx(tied)
        assert a["pbo_ambiguous_share"] == pytest.approx(ambiguous)
        assert a["pbo_identifiable"] == (ambiguous <= pbo_module.PBO_MAX_AMBIGUOUS)
        if a["pbo_identifiable"]:
            assert a["pbo"] == pytest.approx(pbo, abs=1e-12)


def test_block_sharpe_is_mean_over_sample_sd():
    # PBO only compares combos within a split, so it cannot see the ddof; check it directly.
    rng = np.random.default_rng(9)
    returns = rng.normal(0.001, 0.01, size=(3, 50))
    sharpe = pbo_module._sharpe_nb.py_func
    got = [sharpe(r.sum(), (r**2).sum(), 50.0) for r in returns]
    np.testing.assert_allclose(got, returns.mean(1) / returns.std(1, ddof=1), rtol=1e-9)
    assert np.isnan(sharpe(0.0, 0.0, 10.0))  # no variance, no Sharpe ratio


def test_pbo_default_splits_bound_the_work():
    assert pbo_module.pbo_splits(10) == 5000 and pbo_module.pbo_splits(10**7) == 100
    assert pbo_module.pbo_splits(10**6) == 200


# --- pbo_cscv: other statistics -------------------------------------------------------------------


def fields_of(returns: np.ndarray, bounds: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """(K, 4S): per-block sums of the returns, their squares, their squared downside and the log
    growth of a portfolio earning them (cash at 0, so returns are excess returns), and (S,)."""
    s = len(bounds) - 1
    out = np.zeros((returns.shape[0], 4 * s))
    for b in range(s):
        part = returns[:, bounds[b] : bounds[b + 1]]
        out[:, b] = part.sum(axis=1)
        out[:, s + b] = (part * part).sum(axis=1)
        out[:, 2 * s + b] = (np.minimum(part, 0.0) ** 2).sum(axis=1)
        out[:, 3 * s + b] = np.log(np.prod(1.0 + part, axis=1))
    return out, np.diff(bounds).astype(float)


def ref_stat(statistic: str, x: list[float]) -> float:
    """The statistic of one half's returns, written out."""
    n = len(x)
    mean = sum(x) / n
    if statistic == "sortino":
        down = math.sqrt(sum(min(v, 0.0) ** 2 for v in x) / n)
        rms = math.sqrt(sum(v * v for v in x) / n)
        return mean / down if down > 1024 * 2.0**-52 * (1 + rms) else math.nan
    if statistic == "sd":
        return math.sqrt(sum((v - mean) ** 2 for v in x) / (n - 1))
    if statistic == "sharpe":
        return ref_sharpe(x)
    return math.prod(1.0 + v for v in x)  # growth: what the half turned 1 into


def ref_pbo_stat(returns: np.ndarray, bounds: list[int], statistic: str, higher: bool) -> float:
    """Plain CSCV over raw returns, every split both ways, no ties (random data)."""
    k, s = returns.shape[0], len(bounds) - 1
    sign = 1.0 if higher else -1.0
    verdicts = []
    for chosen in itertools.combinations(range(s), s // 2):
        other = [b for b in range(s) if b not in chosen]
        halves = [[t for b in half for t in range(bounds[b], bounds[b + 1])]
                  for half in (list(chosen), other)]  # fmt: skip
        stat = [[sign * ref_stat(statistic, returns[j, h].tolist()) for j in range(k)]
                for h in halves]  # fmt: skip
        best = max(range(k), key=lambda j: stat[0][j])
        rank = 1 + sum(v < stat[1][best] for v in stat[1])
        w = rank / (k + 1)
        verdicts.append(math.log(w / (1 - w)) <= 0)
    return sum(verdicts) / len(verdicts)


@pytest.mark.parametrize(
    ("statistic", "fields", "higher"),
    [("sortino", (0, 1, 2), True), ("sd", (0, 1), False), ("sd", (0, 1), True),
     ("growth", (3,), True), ("sharpe", (0, 1), True)],
)  # fmt: skip
@pytest.mark.parametrize("seed", [0, 1])
def test_pbo_of_other_statistics_matches_plain_cscv(statistic, fields, higher, seed):
    rng = np.random.default_rng(seed)
    returns = rng.normal(0.0004, 0.01, size=(7, 120)) * rng.uniform(0.5, 2.0, size=(7, 1))
    bounds = even(120, 6)
    blocks, counts = fields_of(returns, bounds)
    got = pbo_cscv(blocks, counts, statistic=statistic, fields=fields, higher=higher)
    want = ref_pbo_stat(returns, bounds, statistic, higher)
    assert got["splits"] == math.comb(6, 3) and got["pbo"] == pytest.approx(want, abs=1e-12)
    perm = rng.permutation(7)
    again = pbo_cscv(blocks[perm], counts, statistic=statistic, fields=fields, higher=higher)
    assert again == got


def test_pbo_reads_only_the_fields_of_its_statistic():
    # Two combos equal on the excess-return fields but not on the others are one combo to a
    # Sharpe-ratio PBO and two to a growth PBO; the fields' position is all that matters.
    returns = np.random.default_rng(4).normal(0, 0.01, size=(4, 80))
    blocks, counts = fields_of(returns, even(80, 4))
    blocks[3, :8] = blocks[2, :8]
    assert pbo_cscv(blocks, counts)["pbo_distinct_combos"] == 3
    assert pbo_cscv(blocks, counts, statistic="growth", fields=(3,))["pbo_distinct_combos"] == 4
    moved = np.hstack([blocks[:, 8:], blocks[:, :8]])  # the same sums as fields 2 and 3
    assert pbo_cscv(moved, counts, fields=(2, 3)) == pbo_cscv(blocks[:, :8], counts)


@pytest.mark.parametrize(
    ("statistic", "fields", "message"),
    [("sharpe", (0,), "reads 2 fields"), ("growth", (0, 1), "reads 1 fields"),
     ("sortino", (0, 1, 9), "reads 3 fields"), ("mean", (0,), "is not one of")],
)  # fmt: skip
def test_pbo_refuses_fields_that_do_not_fit_its_statistic(statistic, fields, message):
    blocks, counts = fields_of(np.ones((3, 40)) * 0.01, even(40, 4))
    with pytest.raises(ValueError, match=message):
        pbo_cscv(blocks, counts, statistic=statistic, fields=fields)


def test_pbo_module_names_its_source_and_what_it_cannot_rank_by():
    doc = " ".join(pbo_module.__doc__.split())
    assert "Bailey, Borwein, Lopez de Prado & Zhu (2017)" in doc
    assert "Max drawdown and Calmar need the path" in doc
