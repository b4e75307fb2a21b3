"""The flagship as a rule file: ``strategies/rules/russell-fed-rotation.toml`` (and the same rule
with each derail as an exit) gives the flagship class's orders and metrics at the same parameters."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.backtest.run import RunConfig, run_backtest
from engine.rules import load_rule, rule_from_dict, rule_strategy
from strategies.russell_fed_rotation import RussellFedRotation
from tests.realdata import etf_folder, needs_real_data

FILE = Path(__file__).resolve().parents[2] / "strategies" / "rules" / "russell-fed-rotation.toml"
EXITS = {
    "exit_on_hike": lambda p: {"name": "hike", "block": "event_within", "events": "fomc",
                               "move": "hike", "days": 0},
    "exit_drawdown": lambda p: {"name": "dd", "block": "drawdown", "series": "RUT",
                                "below": p["exit_drawdown"], "lookback": p["record_lookback"]},
    "yield_spike_bp": lambda p: {"name": "y", "block": "change", "series": "US10Y",
                                 "window": p["yield_window"], "above": p["yield_spike_bp"] / 100.0},
    "aud_drop": lambda p: {"name": "aud", "block": "change", "series": "AUDUSD",
                           "window": p["aud_window"], "below": -p["aud_drop"]},
}  # fmt: skip


def _rule_for(params: dict):
    """The rule file with the flagship's parameters and each derail it turns on as an exit."""
    p = RussellFedRotation(**params).values
    raw = tomllib.loads(FILE.read_text())
    raw["when"][0]["lookback"] = p["record_lookback"]
    raw["when"][1]["days"] = p["cut_window_days"]
    raw["hold"]["sessions"] = p["hold_days"]
    base = 1.0 if p["risk_off"] == "large" else 0.0
    raw["trade"] = {"on": {"XSO": p["weight"], "XJO": (1.0 - p["weight"]) * base}}
    if base:
        raw["trade"]["off"] = {"XJO": base}
    on = [k for k in EXITS if (p[k] == "on" if k == "exit_on_hike" else p[k] > 0)]
    raw["exit"] = [EXITS[k](p) for k in on]
    return rule_strategy(rule_from_dict(raw, str(FILE)))()


def _same(a, b) -> None:
    pd.testing.assert_frame_equal(a.sim.orders, b.sim.orders)
    for key, value in a.metrics.items():
        other = b.metrics[key]
        if isinstance(value, float) and not np.isnan(value):
            assert other == pytest.approx(value, rel=1e-12, abs=1e-12), key
        elif isinstance(value, float):
            assert np.isnan(other), key
        else:
            assert other == value, key


def test_the_shipped_file_is_the_flagship_at_its_defaults():
    cfg = RunConfig()
    _same(run_backtest(RussellFedRotation(), cfg), run_backtest(load_rule(FILE)(), cfg))


@pytest.mark.parametrize(
    "params",
    [
        {"hold_days": 40, "cut_window_days": 60, "record_lookback": 250},
        {"hold_days": 60, "weight": 0.5, "risk_off": "cash"},
        {"hold_days": 60, "exit_on_hike": "on", "exit_drawdown": 0.05, "record_lookback": 250},
        {
            "hold_days": 80,
            "yield_spike_bp": 20,
            "yield_window": 10,
            "aud_drop": 0.03,
            "aud_window": 5,
            "cut_window_days": 120,
        },
    ],
)
def test_the_rule_equals_the_flagship_at_the_same_parameters(params):
    cfg = RunConfig(start=pd.Timestamp("2003-01-01"))
    _same(run_backtest(RussellFedRotation(**params), cfg), run_backtest(_rule_for(params), cfg))


@needs_real_data
def test_on_real_data_too(tmp_path):
    folder = etf_folder(tmp_path / "etf")
    cfg = RunConfig(data_dir=folder, start=pd.Timestamp("2011-02-01"), fill="close")
    params = {"hold_days": 30, "aud_drop": 0.02, "aud_window": 10, "exit_on_hike": "on"}
    _same(run_backtest(RussellFedRotation(**params), cfg), run_backtest(_rule_for(params), cfg))
