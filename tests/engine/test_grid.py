"""Grid search: every combo equals the single run with the same parameters; chunking and threads
do not change results; the winner is ranked and judged."""

from __future__ import annotations

import math

import numba
import numpy as np
import pandas as pd
import pytest

from engine import overfit
from engine.api import RunConfig, run_backtest
from engine.errors import ConfigError
from engine.grid import GRID_METRICS, rank, run_grid, simulate_combos
from engine.paramspace import Space
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
    from engine.api import prepare

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
    assert h["trials"] == 12
    assert 0.0 <= h["deflated_sharpe"] <= 1.0 and 0.0 <= h["pbo"] <= 1.0
    assert h["pbo_identifiable"] and h["pbo_note"] is None
    lo, hi = h["sharpe_ci95"]
    assert lo < grid.winner.metrics["sharpe"] < hi


def test_combos_that_hold_nothing_have_no_sharpe_and_rank_last(grid):
    # risk_off=cash with a 20-day cut window never trades in 2015-2021: excess returns of 0 +/-
    # an ulp, which used to rank by a Sharpe ratio made of rounding error.
    idle = grid.table["trade_count"].to_numpy() == 0
    assert idle.sum() == 3 and idle[-3:].all()
    for key in ("sharpe", "sortino", "psr", "skew", "kurtosis"):
        assert grid.table.loc[idle, key].isna().all(), key
    h = grid.honesty
    assert h["trials_undefined"] == 3
    # DSR's spread of trial Sharpe ratios: over the 9 defined ones only (plain Python)
    srs = (grid.table["sharpe"] / np.sqrt(grid.table["periods_per_year"])).dropna().tolist()
    mean = sum(srs) / len(srs)
    var = sum((v - mean) ** 2 for v in srs) / (len(srs) - 1)
    root = math.sqrt(grid.winner.metrics["periods_per_year"])
    want = overfit.expected_max_sharpe(var, 9) * root
    assert h["expected_max_sharpe_annualised"] == pytest.approx(want, rel=1e-12)
    # the three idle combos have identical (zero-dust) block sums: one combo to CSCV
    assert h["pbo_distinct_combos"] == 8


def test_a_grid_where_nothing_is_ever_held_judges_nothing():
    space = Space.from_specs(FLAGSHIP, ["hold_days=5,25", "cut_window_days=20", "risk_off=cash"])
    res = run_grid(FLAGSHIP, space.combos(), CFG)
    assert res.table["sharpe"].isna().all() and (res.table["trade_count"] == 0).all()
    h = res.honesty
    assert h["trials_undefined"] == 2 and math.isnan(h["deflated_sharpe"])
    assert h["expected_max_sharpe_annualised"] == 0.0
    assert math.isnan(h["pbo"]) and h["pbo_distinct_combos"] == 1
    assert h["pbo_note"].startswith("needs two combos whose returns differ")
    assert all(math.isnan(v) for v in h["sharpe_ci95"])


def test_block_sums_are_float64_excess_returns(grid):
    assert grid.blocks.dtype == np.float64
    winner = grid.winner.sim
    excess = (winner.returns - winner.cash_return).to_numpy()
    bounds = np.concatenate(([0], np.cumsum(np.bincount(
        np.arange(len(excess)) * 16 // len(excess), minlength=16))))  # fmt: skip
    sums = [excess[bounds[b] : bounds[b + 1]].sum() for b in range(16)]
    np.testing.assert_allclose(grid.blocks[0, :16], sums, rtol=1e-9, atol=1e-15)


def test_rank_rejects_unknown_metric_and_orders_drawdown_and_volatility():
    table = pd.DataFrame({"max_drawdown": [-0.3, -0.1, np.nan], "ann_volatility": [0.2, 0.1, 0.3]})
    assert list(rank(table, "max_drawdown")) == [1, 0, 2]
    assert list(rank(table, "ann_volatility")) == [1, 0, 2]
    with pytest.raises(ConfigError, match="Did you mean|grid metric"):
        rank(table, "sharp")
