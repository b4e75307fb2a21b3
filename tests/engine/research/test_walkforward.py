"""Walk-forward (``engine.research.walkforward``): the embargo between training and test slices, the
training value of the chosen combo in the metric's own direction, and the full window's best
traded on the same test slices, chained the same way - each against a plain recomputation."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from engine.backtest.run import RunConfig, prepare, run_backtest
from engine.errors import ConfigError
from engine.research.grid import simulate_combos
from engine.research.walkforward import folds, parse_walk_forward, run_walk_forward
from engine.strategy.space import Space
from strategies import get_strategy

FLAGSHIP = get_strategy("russell-fed-rotation")
CFG = RunConfig(start=pd.Timestamp("2010-01-01"), end=pd.Timestamp("2019-12-31"))
COMBOS = Space.from_specs(FLAGSHIP, ["hold_days=10,40", "cut_window_days=30,90"]).combos()


@pytest.fixture(scope="module")
def labels() -> pd.DatetimeIndex:
    return prepare(FLAGSHIP(), CFG).labels


def test_parse_reads_an_embargo_in_sessions():
    assert parse_walk_forward("train=5y,test=1y").embargo == 0
    wf = parse_walk_forward("train=5y,test=1y,anchored,embargo=60")
    assert wf.embargo == 60 and wf.anchored


@pytest.mark.parametrize("bad", ["embargo=x", "embargo=-1", "embargo=1000001", "embargo=", "e=3"])
def test_parse_refuses_a_bad_embargo(bad):
    with pytest.raises(ConfigError, match="embargo"):
        parse_walk_forward(f"train=5y,test=1y,{bad}")


def test_the_training_slice_ends_embargo_sessions_before_the_test_slice(labels):
    plain = folds(labels, parse_walk_forward("train=4y,test=2y"))
    gapped = folds(labels, parse_walk_forward("train=4y,test=2y,embargo=45"))
    assert [f[2:] for f in plain] == [f[2:] for f in gapped]  # the same test slices
    for (_, end0, start, _), (_, end, _, _) in zip(plain, gapped, strict=True):
        assert end0 == start - pd.Timedelta(days=1)  # no embargo: the day before, as before
        between = labels[(labels > end) & (labels < start)]
        assert len(between) == 45, (end, start)


def test_an_embargo_longer_than_training_is_refused(labels):
    with pytest.raises(ConfigError, match="fewer than two training sessions"):
        folds(labels, parse_walk_forward("train=1y,test=1y,embargo=300"))


@pytest.fixture(scope="module")
def walk():
    wf = parse_walk_forward("train=4y,test=2y,embargo=40")
    best = COMBOS.iloc[3].to_dict()
    return wf, best, run_walk_forward(FLAGSHIP, COMBOS, CFG, wf, "ann_volatility", full_best=best)


def test_train_value_is_the_best_in_the_metrics_direction(walk, labels):
    # Volatility: lower is better, so the chosen combo's training value is the minimum (it used
    # to be the maximum: the worst combo's value next to the best one's parameters).
    wf, _, out = walk
    for row, (start, end, _, _) in zip(out["folds"], folds(labels, wf), strict=True):
        train_cfg = replace(CFG, start=start, end=end)
        p = prepare(FLAGSHIP(), train_cfg)
        table, _ = simulate_combos(FLAGSHIP, p, train_cfg, COMBOS)
        values = table["ann_volatility"].tolist()
        assert row["train_ann_volatility"] == min(values)
        chosen = values.index(min(values))
        assert row["params"] == COMBOS.iloc[chosen].to_dict()
        assert row["train_end"] == str(end.date())


def test_full_window_best_is_chained_over_the_same_test_slices(walk, labels):
    wf, best, out = walk
    returns = []
    for _, _, start, end in folds(labels, wf):  # each slice a fresh run from cash
        run = run_backtest(FLAGSHIP(**best), replace(CFG, start=start, end=end), sensitivity=False)
        returns += run.sim.returns.tolist()
    equity = CFG.init_cash * np.cumprod([1.0 + r for r in returns])
    curves = out["equity"]
    np.testing.assert_allclose(curves["full_window_best_equity"].to_numpy(), equity, rtol=1e-12)
    assert len(curves) == out["test_windows"]["sessions"] == out["out_of_sample"]["sessions"]
    assert out["full_window_best"]["params"] == best
    total = equity[-1] / CFG.init_cash - 1
    assert out["full_window_best"]["total_return"] == pytest.approx(total, rel=1e-12)
    assert "starts from cash" in out["restart"] and out["embargo_sessions"] == 40
