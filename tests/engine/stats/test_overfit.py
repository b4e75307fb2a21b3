"""Overfitting statistics (``engine.stats.overfit``) against hand-computed cases and plain-Python
references: PSR, the expected maximum Sharpe ratio, the deflated Sharpe ratio (also at a real,
effective number of trials), the effective number of trials and the stationary bootstrap. PBO:
``test_pbo``."""

from __future__ import annotations

import itertools
import math
from statistics import NormalDist

import numpy as np
import pytest

from engine.stats import overfit
from engine.stats.overfit import (
    EULER_GAMMA,
    block_bootstrap_means_nb,
    deflated_sharpe,
    effective_trials,
    expected_max_sharpe,
    psr,
    stationary_bootstrap,
)

Z = NormalDist()


# --- psr ------------------------------------------------------------------------------------------


def test_psr_hand_case_normal_returns():
    # SR = 0.1, n = 101, skew 0, kurt 3 (normal):
    # denom = 1 - 0 * 0.1 + (3 - 1) / 4 * 0.1^2 = 1 + 0.5 * 0.01 = 1.005
    # z = 0.1 * sqrt(100) / sqrt(1.005) = 1 / 1.0024969 = 0.9975093
    # PSR = Phi(0.9975093) = 0.8407413
    assert psr(0.1, 101, 0.0, 3.0) == pytest.approx(Z.cdf(1.0 / math.sqrt(1.005)), abs=1e-12)
    assert psr(0.1, 101, 0.0, 3.0) == pytest.approx(0.8407413, abs=1e-7)


def test_psr_skew_and_kurtosis():
    # skew -1: denom = 1 + 0.1 + 0.005 = 1.105 -> Phi(1 / sqrt(1.105)) = Phi(0.9513) = 0.8292747
    # skew +1: denom = 1 - 0.1 + 0.005 = 0.905 -> Phi(1 / sqrt(0.905)) = Phi(1.0512) = 0.8534113
    # kurt 10: denom = 1 + 9 / 4 * 0.01 = 1.0225 -> Phi(1 / sqrt(1.0225)) = Phi(0.9889) = 0.8386529
    base = psr(0.1, 101, 0.0, 3.0)
    neg, pos, fat = psr(0.1, 101, -1.0, 3.0), psr(0.1, 101, 1.0, 3.0), psr(0.1, 101, 0.0, 10.0)
    assert neg == pytest.approx(0.8292747, abs=1e-7)
    assert pos == pytest.approx(0.8534113, abs=1e-7)
    assert fat == pytest.approx(0.8386529, abs=1e-7)
    assert neg < fat < base < pos  # negative skew and fat tails both lower confidence


def test_psr_against_a_benchmark_sharpe():
    # SR = SR0 -> z = 0 -> 1/2; SR0 above SR -> below 1/2.
    assert psr(0.1, 101, 0.0, 3.0, sr0=0.1) == pytest.approx(0.5)
    # SR0 = 0.05: z = 0.05 * 10 / sqrt(1.005) = 0.4987547 -> Phi = 0.6910239
    assert psr(0.1, 101, 0.0, 3.0, sr0=0.05) == pytest.approx(0.6910239, abs=1e-7)
    assert psr(0.1, 101, 0.0, 3.0, sr0=0.2) < 0.5


def test_psr_grows_with_the_track_record():
    values = [psr(0.05, n, 0.0, 3.0) for n in (10, 100, 1000, 10_000)]
    assert values == sorted(values) and values[-1] > 0.99


@pytest.mark.parametrize(
    ("sr", "n", "skew", "kurt", "sr0"),
    [(0.1, 101, 20.0, 3.0, 0.0),  # denom = 1 - 2 + 0.005 < 0
     (1.0, 101, 1.5, 3.0, 0.0),  # denom = 1 - 1.5 + 0.5 = 0 exactly
     (0.1, 1, 0.0, 3.0, 0.0), (0.1, 0, 0.0, 3.0, 0.0),  # n <= 1
     (float("nan"), 101, 0.0, 3.0, 0.0), (0.1, 101, 0.0, 3.0, float("inf"))],
)  # fmt: skip
def test_psr_is_nan_when_undefined(sr, n, skew, kurt, sr0):
    assert math.isnan(psr(sr, n, skew, kurt, sr0))


# --- expected_max_sharpe / deflated_sharpe --------------------------------------------------------


def test_expected_max_sharpe_hand_case():
    # N = 10, V = 0.01:
    # a = Z^-1(1 - 1/10) = Z^-1(0.9) = 1.2815516
    # b = Z^-1(1 - 1/(10 e)) = Z^-1(0.9632121) = 1.7892418
    # SR0 = sqrt(0.01) * ((1 - 0.5772157) * 1.2815516 + 0.5772157 * 1.7892418)
    #     = 0.1 * (0.5418231 + 1.0327767) = 0.1574600
    a, b = Z.inv_cdf(0.9), Z.inv_cdf(1 - 1 / (10 * math.e))
    assert a == pytest.approx(1.2815516, abs=1e-7) and b == pytest.approx(1.7892418, abs=1e-7)
    expected = 0.1 * ((1 - EULER_GAMMA) * a + EULER_GAMMA * b)
    assert expected_max_sharpe(0.01, 10) == pytest.approx(expected, rel=1e-12)
    assert expected_max_sharpe(0.01, 10) == pytest.approx(0.15746, abs=1e-5)


def test_expected_max_sharpe_scales_with_the_standard_deviation():
    assert expected_max_sharpe(0.04, 10) == pytest.approx(2 * expected_max_sharpe(0.01, 10))


@pytest.mark.parametrize(
    ("var", "n"), [(0.01, 1), (0.01, 0), (0.0, 10), (-0.01, 10), (float("nan"), 10)]
)
def test_expected_max_sharpe_is_zero_without_trials_or_dispersion(var, n):
    assert expected_max_sharpe(var, n) == 0.0


def test_expected_max_sharpe_increases_with_the_number_of_trials():
    values = [expected_max_sharpe(0.01, n) for n in (2, 5, 10, 100, 1000, 10**6)]
    assert all(b > a for a, b in itertools.pairwise(values))
    # Best of N standard normals: about 1.16 for 5 and 3.26 for 1000 (max of iid N(0, 1)).
    assert values[1] / 0.1 == pytest.approx(1.16, abs=0.05)
    assert values[4] / 0.1 == pytest.approx(3.25, abs=0.1)


def test_deflated_sharpe_is_psr_against_the_expected_max():
    trials = np.array([0.02, -0.01, 0.05, 0.03, 0.00, 0.08, -0.02])
    # sample variance (ddof 1) of the seven trial Sharpe ratios
    var = sum((t - trials.mean()) ** 2 for t in trials) / 6
    sr0 = expected_max_sharpe(var, 7)
    assert sr0 > 0
    got = deflated_sharpe(0.08, 500, -0.3, 5.0, trials)
    assert got == pytest.approx(psr(0.08, 500, -0.3, 5.0, sr0), rel=1e-12)
    assert got < psr(0.08, 500, -0.3, 5.0)  # deflating lowers confidence


def test_deflated_sharpe_ignores_non_finite_trials():
    trials = np.array([0.02, np.nan, -0.01, 0.05, np.inf, 0.03])
    finite = np.array([0.02, -0.01, 0.05, 0.03])
    assert deflated_sharpe(0.05, 300, 0.0, 3.0, trials) == pytest.approx(
        deflated_sharpe(0.05, 300, 0.0, 3.0, finite)
    )


def test_deflated_sharpe_of_a_single_trial_is_plain_psr():
    assert deflated_sharpe(0.05, 300, 0.0, 3.0, np.array([0.05])) == psr(0.05, 300, 0.0, 3.0)


def test_expected_max_sharpe_of_a_real_number_of_trials():
    # An effective count is a real number: same values at whole numbers, rising strictly and
    # continuously from 0 at N = 1 (the approximation dips below 0 near N = 1, where the best of
    # one is 0: between one and two trials it is linear).
    for n in (2, 7, 36):
        assert expected_max_sharpe(0.01, float(n)) == expected_max_sharpe(0.01, n)
    grid = [1.0 + i / 100 for i in range(0, 301)]
    values = [expected_max_sharpe(0.01, n) for n in grid]
    assert values[0] == 0.0 and all(b > a for a, b in itertools.pairwise(values))
    assert max(b - a for a, b in itertools.pairwise(values)) < 0.01
    assert expected_max_sharpe(0.01, 1.5) == pytest.approx(expected_max_sharpe(0.01, 2) / 2)


def test_deflated_sharpe_with_an_effective_number_of_trials():
    trials = np.array([0.02, -0.01, 0.05, 0.03, 0.00, 0.08, -0.02])
    var = sum((t - trials.mean()) ** 2 for t in trials) / 6
    got = deflated_sharpe(0.08, 500, -0.3, 5.0, trials, trials=2.5)
    assert got == pytest.approx(psr(0.08, 500, -0.3, 5.0, expected_max_sharpe(var, 2.5)))
    assert got > deflated_sharpe(0.08, 500, -0.3, 5.0, trials)  # fewer trials: a lower bar


# --- effective_trials -----------------------------------------------------------------------------


def e_max(n: float) -> float:
    """The DSR's expected maximum of n standard normals, written out: 0 for the best of one,
    linear up to two."""
    if n <= 1:
        return 0.0
    if n < 2:
        return (n - 1) * e_max(2)
    g = 0.5772156649015329
    return (1 - g) * Z.inv_cdf(1 - 1 / n) + g * Z.inv_cdf(1 - 1 / (n * math.e))


def ref_effective(block_sums: np.ndarray, counts: list[float], keep: list[bool]):
    """(N_eff, rho) by hand: Pearson correlation of every pair of kept trials' block means (rows
    whose means do not vary left out), their mean, and N_eff from sqrt(1 - rho) E_max(N) by
    bisection on N."""
    means = []
    for row, k in zip(block_sums.tolist(), keep, strict=True):
        m = [v / c for v, c in zip(row, counts, strict=True)]
        mu = sum(m) / len(m)
        if k and math.sqrt(sum((v - mu) ** 2 for v in m) / (len(m) - 1)) > 1e-12:
            means.append([v - mu for v in m])
    pairs = []
    for i, j in itertools.combinations(range(len(means)), 2):
        a, b = means[i], means[j]
        dot = sum(x * y for x, y in zip(a, b, strict=True))
        pairs.append(dot / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b)))
    rho = sum(pairs) / len(pairs)
    n = sum(keep)
    target = math.sqrt(1 - rho) * e_max(n) if rho > 0 else None
    if target is None:
        return float(n), rho
    lo, hi = 1.0, float(n)
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if e_max(mid) < target else (lo, mid)
    return hi, rho


def test_effective_trials_matches_a_plain_correlation_matrix():
    rng = np.random.default_rng(11)
    common = rng.normal(0, 0.01, 16)
    sums = np.array([0.7 * common + 0.3 * rng.normal(0, 0.01, 16) for _ in range(9)])
    sums[4] = 1e-19  # holds nothing: its block means do not vary - no correlation to speak of
    counts = [100.0 + (b % 3) for b in range(16)]
    keep = [True] * 9
    keep[6] = False  # e.g. an undefined Sharpe ratio: no trial of it
    wide = np.hstack([rng.normal(size=(9, 16)), sums])  # the field sits at column 16
    got = effective_trials(wide, 16, np.array(counts), np.array(keep))
    n_eff, rho = ref_effective(sums, counts, keep)
    assert got["correlated"] == 7 and got["average_correlation"] == pytest.approx(rho, rel=1e-12)
    assert got["effective_trials"] == pytest.approx(n_eff, rel=1e-9)
    assert 1.0 < got["effective_trials"] < 8


def test_effective_trials_of_identical_and_of_independent_trials():
    rng = np.random.default_rng(2)
    same = np.tile(rng.normal(0, 0.01, 16), (40, 1))
    got = effective_trials(same, 0, np.full(16, 50.0))
    assert got["average_correlation"] == pytest.approx(1.0)
    assert got["effective_trials"] == pytest.approx(1.0, abs=1e-6)  # rho is 1 to rounding
    independent = rng.normal(0, 0.01, size=(400, 16))
    got = effective_trials(independent, 0, np.full(16, 50.0))
    assert abs(got["average_correlation"]) < 0.01  # sampling error ~ 1 / (15 sqrt(400))
    assert got["effective_trials"] > 300
    anti = np.vstack([same[0], -same[0]])  # negatively correlated: no fewer than N
    assert effective_trials(anti, 0, np.full(16, 50.0))["effective_trials"] == 2.0
    one = effective_trials(same[:1], 0, np.full(16, 50.0))
    assert one["effective_trials"] == 1.0 and math.isnan(one["average_correlation"])


def test_effective_trials_recovers_the_correlation_of_equicorrelated_trials():
    # 2,000 trials, block returns sqrt(rho) Z + sqrt(1 - rho) e: the mean pairwise correlation
    # of 16 block means estimates rho (within ~ 1 / sqrt(15)); N_eff follows from it.
    rng = np.random.default_rng(5)
    for rho in (0.2, 0.6, 0.95):
        z = rng.normal(size=16)
        sums = math.sqrt(rho) * z + math.sqrt(1 - rho) * rng.normal(size=(2000, 16))
        got = effective_trials(sums, 0, np.full(16, 1.0))
        assert got["average_correlation"] == pytest.approx(rho, abs=0.25)
        target = math.sqrt(1 - got["average_correlation"]) * e_max(2000)
        assert e_max(got["effective_trials"]) == pytest.approx(target, rel=1e-9)


def test_effective_trials_of_a_million_combos_needs_no_k_by_k_memory():
    import tracemalloc

    sums = np.random.default_rng(0).normal(0, 0.01, size=(1_000_000, 16))
    effective_trials(sums[:10], 0, np.full(16, 1.0))  # compile outside the measurement
    tracemalloc.start()
    got = effective_trials(sums, 0, np.full(16, 1.0))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 2_000_000  # the keep mask (1 MB) and S numbers, never K x K or a copy
    assert got["correlated"] == 1_000_000


# --- stationary_bootstrap -------------------------------------------------------------------------


def iid(n: int = 2000, seed: int = 43) -> np.ndarray:
    # Seed 43: the sample mean is 0.3 standard errors from 0.001 (seed 42 draws one 2.5 away,
    # where no honest 95 % interval around the sample mean covers 0.001).
    return np.random.default_rng(seed).normal(0.001, 0.01, n)


def test_bootstrap_is_deterministic_for_a_seed():
    r = iid(500)
    a = stationary_bootstrap(r, np.mean, reps=200, seed=3)
    assert a == stationary_bootstrap(r, np.mean, reps=200, seed=3)
    assert a != stationary_bootstrap(r, np.mean, reps=200, seed=4)
    assert isinstance(a[0], float) and a[0] < a[1]


def test_bootstrap_interval_of_the_mean_of_iid_returns():
    # Mean of 2000 iid N(0.001, 0.01): standard error 0.01 / sqrt(2000) = 0.000224, so a 95 %
    # interval is about 2 * 1.96 * 0.000224 = 0.000877 wide and centred near the sample mean.
    r = iid()
    lo, hi = stationary_bootstrap(r, np.mean, reps=400, seed=0)
    assert lo < 0.001 < hi
    assert lo < r.mean() < hi
    expected = 2 * 1.96 * 0.01 / math.sqrt(2000)
    assert hi - lo == pytest.approx(expected, rel=0.5)
    lo90, hi90 = stationary_bootstrap(r, np.mean, reps=400, seed=0, level=0.9)
    assert lo < lo90 < hi90 < hi


def test_bootstrap_interval_widens_for_autocorrelated_returns():
    # AR(1) with phi = 0.6 and the same marginal sd 0.01: the mean's standard error grows by
    # sqrt((1 + phi) / (1 - phi)) = 2; blocks of mean length 2000 ** (1/3) = 12.6 keep most of it.
    n, phi = 2000, 0.6
    e = np.random.default_rng(7).normal(0, 0.01 * math.sqrt(1 - phi**2), n)
    ar = np.empty(n)
    ar[0] = e[0] / math.sqrt(1 - phi**2)
    for t in range(1, n):
        ar[t] = phi * ar[t - 1] + e[t]
    ar += 0.001
    assert np.std(ar) == pytest.approx(0.01, rel=0.1)
    w_iid = np.subtract(*stationary_bootstrap(iid(), np.mean, reps=300, seed=1)[::-1])
    w_ar = np.subtract(*stationary_bootstrap(ar, np.mean, reps=300, seed=1)[::-1])
    assert w_ar > 1.4 * w_iid


@pytest.mark.parametrize(("block", "expected"), [(10.0, 0.9), (4.0, 0.75), (None, 0.9)])
def test_bootstrap_blocks_have_the_requested_mean_length(block, expected):
    # Resample 0, 1, ..., n-1: a step of +1 (mod n, blocks wrap) continues a block; a new block
    # starts with probability 1 / block, so the share of +1 steps is about 1 - 1 / block.
    # Default block for n = 1000: 1000 ** (1/3) = 10.
    n = 1000
    seen = []

    def contiguity(x):
        share = float(np.mean((x[1:] - x[:-1]) % n == 1))
        seen.append(share)
        return share

    stationary_bootstrap(np.arange(n, dtype=np.float64), contiguity, reps=100, block=block)
    assert len(seen) == 100
    assert np.mean(seen) == pytest.approx(expected, abs=0.02)


def test_bootstrap_block_of_one_resamples_iid_and_a_huge_block_rotates():
    n = 500
    x = np.arange(n, dtype=np.float64)
    got = []
    stationary_bootstrap(x, lambda y: got.append(y.copy()) or 0.0, reps=20, block=1, seed=2)
    steps = np.concatenate([(y[1:] - y[:-1]) % n == 1 for y in got])
    assert steps.mean() < 0.02  # only chance continuations, ~1 / n
    got.clear()
    stationary_bootstrap(x, lambda y: got.append(y.copy()) or 0.0, reps=20, block=1e12, seed=2)
    for y in got:  # one block covering everything: a rotation of the series
        np.testing.assert_array_equal(y, np.roll(x, -int(y[0])))


def test_module_names_its_sources():
    doc = overfit.__doc__
    for source in ("Bailey & Lopez de Prado (2014)", "Politis & Romano (1994)", "(2017)"):
        assert source in doc


def test_block_bootstrap_means_by_hand():
    # blocks of 2 from [1, 2, 3, 4]: sums 3, 5, 7; two blocks per resample, mean = (a + b) / 4
    out = block_bootstrap_means_nb(np.array([1.0, 2.0, 3.0, 4.0]), 2, 2000, 7)
    assert set(np.round(out, 12)) == {1.5, 2.0, 2.5, 3.0, 3.5}
    np.testing.assert_array_equal(
        out, block_bootstrap_means_nb(np.array([1.0, 2, 3, 4]), 2, 2000, 7)
    )
    assert np.mean(out) == pytest.approx(2.5, abs=0.05)


def test_block_bootstrap_means_edge_cases():
    x = np.random.default_rng(3).normal(size=500)
    whole = block_bootstrap_means_nb(x, 500, 50, 1)  # one block: the series itself every time
    np.testing.assert_allclose(whole, x.mean(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(block_bootstrap_means_nb(np.full(9, 4.0), 3, 20, 1), 4.0)
    iid = block_bootstrap_means_nb(x, 1, 4000, 2)  # block 1: the iid bootstrap of the mean
    assert np.std(iid) == pytest.approx(np.std(x) / np.sqrt(len(x)), rel=0.1)


def test_splitmix64_matches_the_reference_stream():
    # SplitMix64 from seed 0: the first output is 0xE220A8397B1DCDAF (Steele, Lea & Flood 2014)
    state, u = overfit._splitmix64_nb(np.uint64(0))
    assert u == (0xE220A8397B1DCDAF >> 11) * 2.0**-53
    draws = []
    for _ in range(20000):  # a Python int would come back typed int64: keep it uint64
        state, u = overfit._splitmix64_nb(np.uint64(state))
        draws.append(u)
    assert 0.0 <= min(draws) and max(draws) < 1.0
    assert np.mean(draws) == pytest.approx(0.5, abs=0.01)
