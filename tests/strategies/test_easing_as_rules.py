"""The easing-cycle built-ins as rule files: ``strategies/rules/{fed,rba}-easing-cycle.toml`` give
the built-in's orders and metrics at its defaults, on the sample and on real data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from engine.backtest.run import RunConfig, run_backtest
from engine.rules import load_rule
from strategies import get_strategy
from tests.realdata import etf_folder, needs_real_data
from tests.strategies.test_flagship_as_rule import _same

RULES = Path(__file__).resolve().parents[2] / "strategies" / "rules"


@pytest.mark.parametrize("name", ["fed-easing-cycle", "rba-easing-cycle"])
def test_the_rule_file_is_the_built_in(name):
    cfg = RunConfig(start=pd.Timestamp("2001-01-01"))
    rule = load_rule(RULES / f"{name}.toml")()
    _same(run_backtest(get_strategy(name)(), cfg), run_backtest(rule, cfg))


@needs_real_data
@pytest.mark.parametrize("name", ["fed-easing-cycle", "rba-easing-cycle"])
def test_on_real_data_too(name, tmp_path):
    folder = etf_folder(tmp_path / "etf")
    cfg = RunConfig(data_dir=folder, start=pd.Timestamp("2011-02-01"), fill="close")
    rule = load_rule(RULES / f"{name}.toml")()
    _same(run_backtest(get_strategy(name)(), cfg), run_backtest(rule, cfg))
