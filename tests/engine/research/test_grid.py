"""Grid search: every combo equals the single run with the same parameters; chunking and threads
do not change results; the winner is ranked and judged."""

from __future__ import annotations

import math
from pathlib import Path
from statistics import NormalDist

import numba
import numpy as np
import pandas as pd
import pytest

from engine.backtest.run import RunConfig, run_backtest
from engine.errors import ConfigError
from engine.research.grid import GRID_METRICS, rank, run_grid, simulate_combos
from engine.research.honesty import BOOTSTRAP_SEED
from engine.stats import overfit
from engine.stats.pbo import pbo_cscv
from engine.strategy.space import Space
from strategies import get_strategy

CFG = RunConfig(start=pd.Timestamp("2015-01-01"), end=pd.Timestamp("2021-12-31"))
FLAGSHIP = get_strategy("russell-fed-rotation")


@pytest.fixture(scope="module")
def grid():
    space = Space.from_specs(FLAGSHIP, ["hold_days=5:45:20", "cut_window_days=20,60",
                                        "risk_off=cash,large"])  # fmt: skip
    return run_grid(FLAGSHIP, space.combos(), CFG, metric="sharpe", chunk=5)


def test_every_sampled_combo_equals_backtest_run(grid):
    for i in (0, 3, len(grid.table) - 1):
        row = grid.table.iloc[i]
        params = {k: row[k] for k in ("hold_days", "cut_window_days", "risk_off")}
        single = run_backtest(FLAGSHIP(**params), CFG).metrics
        for key in GRID_METRICS:
            a, b = row[key], single[key]
            if b is None or (isinstance(b, float) and math.isnan(b)):
                assert pd.isna(a), key
            else:
                assert a == b, (key, params, a, b)


def test_results_do_not_depend_on_chunk_size_or_threads(grid):
    from engine.backtest.run import prepare

    combos = grid.table[[p.name for p in FLAGSHIP.params]]
    p = prepare(FLAGSHIP(), CFG)
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one, blocks_one = simulate_combos(FLAGSHIP, p, CFG, combos, chunk=1)
    finally:
        numba.set_num_threads(before)
    many, blocks_many = simulate_combos(FLAGSHIP, p, CFG, combos, chunk=64)
    pd.testing.assert_frame_equal(one, many)
    np.testing.assert_array_equal(blocks_one, blocks_many)
    assert np.array_equal(blocks_one, grid.blocks)


def test_table_is_ranked_and_the_winner_is_its_first_row(grid):
    sharpe = grid.table["sharpe"].to_numpy()
    n = int(np.isfinite(sharpe).sum())
    assert (np.diff(sharpe[:n]) <= 0).all() and np.isnan(sharpe[n:]).all()  # undefined last
    assert grid.winner.metrics["sharpe"] == sharpe[0]
    assert grid.winner.strategy.values["hold_days"] == grid.table["hold_days"].iloc[0]


def test_honesty_statistics_are_present_and_sane(grid):
    h = grid.honesty
    assert h["trials"] == 12 and h["metric"] == "sharpe"
    cash, bench = h["over_cash"], h["vs_benchmark"]
    assert cash["metric"] == "sharpe" and bench["metric"] == "information_ratio"
    assert bench["benchmark"] == "XJO" and h["ranking"]["same_as"] == "over_cash"
    assert cash["pbo_identifiable"] and 0.0 <= cash["pbo"] <= 1.0 and cash["pbo_note"] is None
    # Against XJO the three risk_off=large combos with a 20-day window are XJO itself (no
    # information ratio) and the rest differ only around a few events: ties decide too much.
    assert not bench["pbo_identifiable"] and bench["pbo_note"].startswith("not identifiable")
    assert bench["trials_undefined"] == 3
    for side in (cash, bench):
        assert 0.0 <= side["deflated"] <= 1.0
        assert 1.0 <= side["effective_trials"] <= side["trials"]
        assert side["deflated_effective"] >= side["deflated"]  # fewer trials: a lower bar
    lo, hi = cash["ci95"]
    assert lo < grid.winner.metrics["sharpe"] == cash["winner"] < hi
    lo, hi = bench["ci95"]
    assert lo < grid.winner.metrics["information_ratio"] == bench["winner"] < hi


def _per_block(values: np.ndarray) -> np.ndarray:
    n = len(values)
    bounds = np.concatenate(([0], np.cumsum(np.bincount(np.arange(n) * 16 // n, minlength=16))))
    return np.array([values[bounds[b] : bounds[b + 1]].sum() for b in range(16)])


def _winner_returns(res):
    sim = res.winner.sim
    r = sim.returns.to_numpy()
    b = res.winner.benchmark.returns.reindex(sim.equity.index).to_numpy()
    return r, r - sim.cash_return.to_numpy(), np.where(np.isnan(b), 0.0, r - b)


def test_dsr_against_the_benchmark_is_that_of_the_information_ratio_by_hand(grid):
    # Plain Python: the winner's active returns (strategy minus buy-and-hold XJO per session),
    # their per-session IR, skew and kurtosis; the trials' IRs; SR0 and the PSR against it.
    sim, bench = grid.winner.sim, grid.winner.benchmark
    a = (sim.returns - bench.returns.reindex(sim.equity.index)).dropna().tolist()
    n = len(a)
    mean = sum(a) / n
    m2 = sum((v - mean) ** 2 for v in a) / n
    sd = math.sqrt(m2 * n / (n - 1))
    skew = sum((v - mean) ** 3 for v in a) / n / m2**1.5
    kurt = sum((v - mean) ** 4 for v in a) / n / m2**2
    ir = mean / sd
    ppy = grid.winner.metrics["periods_per_year"]
    assert ir * math.sqrt(ppy) == pytest.approx(grid.winner.metrics["information_ratio"], rel=1e-9)
    trials = [v / math.sqrt(ppy) for v in grid.table["information_ratio"] if not math.isnan(v)]
    tm = sum(trials) / len(trials)
    var = sum((v - tm) ** 2 for v in trials) / (len(trials) - 1)
    z = NormalDist()

    def dsr(count):
        e_max = (1 - 0.5772156649015329) * z.inv_cdf(1 - 1 / count) + 0.5772156649015329 * (
            z.inv_cdf(1 - 1 / (count * math.e))
        )
        sr0 = math.sqrt(var) * max(e_max, 0.0)
        return z.cdf(
            (ir - sr0) * math.sqrt(n - 1) / math.sqrt(1 - skew * ir + (kurt - 1) / 4 * ir**2)
        )

    h = grid.honesty["vs_benchmark"]
    assert h["trials"] == len(trials) and h["sessions"] == n
    assert h["deflated"] == pytest.approx(dsr(len(trials)), rel=1e-9, abs=1e-12)
    assert h["deflated_effective"] == pytest.approx(dsr(h["effective_trials"]), rel=1e-9, abs=1e-12)


def test_interval_of_the_information_ratio_is_the_bootstrap_of_active_returns(grid):
    sim, bench = grid.winner.sim, grid.winner.benchmark
    a = (sim.returns - bench.returns.reindex(sim.equity.index)).dropna().to_numpy()
    root = math.sqrt(grid.winner.metrics["periods_per_year"])

    def ir(x):  # written out: mean over sample standard deviation, annualised; undefined when
        # the spread is zero within precision (a resample of sessions spent in XJO itself)
        n = len(x)
        mean = sum(x) / n
        sd = math.sqrt(sum((v - mean) ** 2 for v in x) / (n - 1))
        rms = math.sqrt(sum(v * v for v in x) / n)
        return mean / sd * root if sd > max(1024 * 2.0**-52 * (1 + rms), 1e-4 * rms) else math.nan

    want = overfit.stationary_bootstrap(a, ir, seed=BOOTSTRAP_SEED)
    assert grid.honesty["vs_benchmark"]["ci95"] == pytest.approx(want, rel=1e-9)
    assert grid.honesty["bootstrap_seed"] == BOOTSTRAP_SEED


def test_effective_trials_come_from_the_block_sums_of_each_kind_of_return(grid):
    defined = grid.table["sharpe"].notna().to_numpy()
    n = len(grid.winner.sim.equity)
    counts = np.bincount(np.arange(n) * 16 // n, minlength=16).astype(float)
    cash = overfit.effective_trials(grid.blocks, 0, counts, defined)
    assert grid.honesty["over_cash"]["effective_trials"] == cash["effective_trials"]
    ir_defined = grid.table["information_ratio"].notna().to_numpy()
    bench = overfit.effective_trials(grid.blocks, 32, counts, ir_defined)
    assert grid.honesty["vs_benchmark"]["average_correlation"] == bench["average_correlation"]


def test_block_sums_are_excess_and_active_returns_and_their_squares(grid):
    assert grid.block_fields == ("excess", "excess_sq", "active", "active_sq")
    assert grid.blocks.shape == (12, 64) and grid.blocks.dtype == np.float64
    _, x, a = _winner_returns(grid)
    for j, values in enumerate((x, x * x, a, a * a)):
        np.testing.assert_allclose(grid.blocks[0, 16 * j : 16 * (j + 1)], _per_block(values),
                                   rtol=1e-9, atol=1e-15)  # fmt: skip


@pytest.mark.parametrize(
    ("metric", "fields"),
    [("sortino", ("downside_sq",)), ("ann_volatility", ("ret", "ret_sq")),
     ("cagr", ("log_growth",)), ("max_drawdown", ())],
)  # fmt: skip
def test_a_grid_ranked_by_another_metric_judges_that_metric(metric, fields):
    space = Space.from_specs(FLAGSHIP, ["hold_days=5:45:20", "cut_window_days=20,60"])
    res = run_grid(FLAGSHIP, space.combos(), CFG, metric=metric)
    assert res.block_fields == ("excess", "excess_sq", "active", "active_sq", *fields)
    r, x, _ = _winner_returns(res)
    equity = res.winner.sim.equity.to_numpy()
    start = np.concatenate(([res.winner.sim.init_cash], equity))
    by_name = {"downside_sq": np.minimum(x, 0.0) ** 2, "ret": r, "ret_sq": r * r}
    for j, name in enumerate(fields, start=4):
        got = res.blocks[0, 16 * j : 16 * (j + 1)]
        if name == "log_growth":  # log(E_end / E_start) of each block, E_start the last end
            n = len(equity)
            ends = np.cumsum(np.bincount(np.arange(n) * 16 // n, minlength=16))
            want = np.log(equity[ends - 1] / start[np.concatenate(([0], ends[:-1]))])
        else:
            want = _per_block(by_name[name])
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-15)
    ranking = res.honesty["ranking"]
    assert ranking["metric"] == metric and ranking["same_as"] is None
    assert ranking["deflated"] is None and "Sharpe-type" in ranking["deflated_note"]
    if metric == "max_drawdown":
        assert ranking["pbo"] is None and "path" in ranking["pbo_note"]
    else:  # combos with a 20-day window never trade: tied, often too often to tell apart
        assert 0.0 <= ranking["pbo"] <= 1.0 or not ranking["pbo_identifiable"]
        statistic = {"sortino": "sortino", "ann_volatility": "sd", "cagr": "growth"}[metric]
        cols = {"sortino": (0, 1, 4), "ann_volatility": (4, 5), "cagr": (4,)}[metric]
        n = len(equity)
        counts = np.bincount(np.arange(n) * 16 // n, minlength=16)
        want = pbo_cscv(res.blocks, counts, statistic=statistic, fields=cols,
                        higher=metric != "ann_volatility")  # fmt: skip
        assert {k: ranking[k] for k in want} == pytest.approx(want, nan_ok=True)
    lo, hi = ranking["ci95"]
    assert lo <= res.winner.metrics[metric] <= hi
    years, root = res.winner.metrics["years"], math.sqrt(res.winner.metrics["periods_per_year"])
    plain = {  # the metric of a resampled series, written out
        "sortino": lambda i: x[i].mean() / math.sqrt((np.minimum(x[i], 0) ** 2).mean()) * root,
        "ann_volatility": lambda i: r[i].std(ddof=1) * root,
        "cagr": lambda i: float(np.prod(1 + r[i])) ** (1 / years) - 1,
        "max_drawdown": lambda i: float(min(0.0, min(
            e / p - 1 for e, p in zip(np.cumprod(1 + r[i]), np.maximum.accumulate(
                np.maximum(np.cumprod(1 + r[i]), 1.0)), strict=True)))),
    }[metric]  # fmt: skip
    want = overfit.stationary_bootstrap(np.arange(len(r), dtype=float),
                                        lambda i: plain(i.astype(int)), seed=BOOTSTRAP_SEED)  # fmt: skip
    assert ranking["ci95"] == pytest.approx(want, rel=1e-9)
    assert ranking["direction"] == ("lower" if metric == "ann_volatility" else "higher")


def test_a_grid_of_one_combo_is_judged_without_selection():
    space = Space.from_specs(FLAGSHIP, ["hold_days=25", "cut_window_days=60"])
    res = run_grid(FLAGSHIP, space.combos(), CFG)
    for key in ("over_cash", "vs_benchmark"):
        h = res.honesty[key]
        assert h["trials"] == 1 and h["effective_trials"] == 1.0
        assert h["expected_max"] == 0.0 and math.isnan(h["pbo"])
        assert h["deflated"] == h["deflated_effective"]
    m = res.winner.metrics
    assert res.honesty["over_cash"]["deflated"] == overfit.psr(
        m["sharpe"] / math.sqrt(m["periods_per_year"]), m["sessions"], m["skew"], m["kurtosis"]
    )


def test_combos_that_hold_nothing_have_no_sharpe_and_rank_last(grid):
    # risk_off=cash with a 20-day cut window never trades in 2015-2021: excess returns of 0 +/-
    # an ulp, which used to rank by a Sharpe ratio made of rounding error.
    idle = grid.table["trade_count"].to_numpy() == 0
    assert idle.sum() == 3 and idle[-3:].all()
    for key in ("sharpe", "sortino", "psr", "skew", "kurtosis"):
        assert grid.table.loc[idle, key].isna().all(), key
    h = grid.honesty["over_cash"]
    assert h["trials_undefined"] == 3 and h["trials"] == 9
    # DSR's spread of trial Sharpe ratios: over the 9 defined ones only (plain Python)
    srs = (grid.table["sharpe"] / np.sqrt(grid.table["periods_per_year"])).dropna().tolist()
    mean = sum(srs) / len(srs)
    var = sum((v - mean) ** 2 for v in srs) / (len(srs) - 1)
    root = math.sqrt(grid.winner.metrics["periods_per_year"])
    want = overfit.expected_max_sharpe(var, 9) * root
    assert h["expected_max"] == pytest.approx(want, rel=1e-12)
    # the three idle combos have identical (zero-dust) block sums: one combo to CSCV
    assert h["pbo_distinct_combos"] == 8
    # idle combos are no trials of a correlation either: N_eff is over the 9
    assert h["effective_trials"] <= 9


def test_a_grid_where_nothing_is_ever_held_judges_nothing():
    space = Space.from_specs(FLAGSHIP, ["hold_days=5,25", "cut_window_days=20", "risk_off=cash"])
    res = run_grid(FLAGSHIP, space.combos(), CFG)
    assert res.table["sharpe"].isna().all() and (res.table["trade_count"] == 0).all()
    h = res.honesty["over_cash"]
    assert h["trials_undefined"] == 2 and math.isnan(h["deflated"])
    assert h["expected_max"] == 0.0 and h["effective_trials"] == 0.0
    assert math.isnan(h["pbo"]) and h["pbo_distinct_combos"] == 1
    assert h["pbo_note"].startswith("needs two combos whose returns differ")
    assert all(math.isnan(v) for v in h["ci95"])
    # against XJO, cash is a position: its information ratio is defined
    bench = res.honesty["vs_benchmark"]
    assert bench["trials"] == 2 and np.isfinite(bench["deflated"])


def test_rank_rejects_unknown_metric_and_orders_drawdown_and_volatility():
    table = pd.DataFrame({"max_drawdown": [-0.3, -0.1, np.nan], "ann_volatility": [0.2, 0.1, 0.3]})
    assert list(rank(table, "max_drawdown")) == [1, 0, 2]
    assert list(rank(table, "ann_volatility")) == [1, 0, 2]
    with pytest.raises(ConfigError, match="Did you mean|grid metric"):
        rank(table, "sharp")
    with pytest.raises(ConfigError, match="grid metric one can rank by"):
        rank(table.assign(max_drawdown_end=["2020-01-02"] * 3), "max_drawdown_end")  # a date
    days = pd.DataFrame({"max_drawdown_days": [30, 10, 20]})
    assert list(rank(days, "max_drawdown_days")) == [1, 2, 0]  # shorter is better


def test_every_honesty_key_is_documented_in_the_readme(grid):
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    h = grid.honesty
    keys = {*h, *h["over_cash"], *h["vs_benchmark"], *h["ranking"]}
    keys |= set(run_grid(FLAGSHIP, grid.table.head(2)[["hold_days", "cut_window_days",
                         "risk_off"]], CFG, metric="cagr").honesty["ranking"])  # fmt: skip
    missing = sorted(k for k in keys if f"`{k}`" not in readme)
    assert not missing, f"undocumented honesty keys: {missing}"


def test_every_rankable_metric_says_whether_pbo_is_defined_for_it():
    from engine.research.grid import UNRANKABLE
    from engine.research.honesty import PBO_BY_METRIC, PBO_UNDEFINED

    for metric in GRID_METRICS:
        if metric not in UNRANKABLE:
            assert (metric in PBO_BY_METRIC) != (metric in PBO_UNDEFINED), metric
