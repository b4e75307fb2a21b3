"""A series a user drops into a data folder with its own instruments.toml entry is usable by every
series block, and a user event file by event_within - on the real data."""

from __future__ import annotations

import shutil

import pytest

import engine
from engine.errors import DataError
from engine.rules import make_rule
from engine.strategy.audit import audit
from engine.strategy.base import strategy_context
from tests.realdata import SHARED, etf_folder, needs_real_data

IWM = """
[IWM]
name = "iShares Russell 2000 ETF (a user's extra series)"
kind = "etf"
currency = "USD"
calendar = "XNYS"
tz = "America/New_York"
returns = "total"
known = "session_close"
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    out = etf_folder(tmp_path_factory.mktemp("user") / "etf")
    shutil.copyfile(SHARED / "iwm_daily.csv", out / "IWM.csv")
    with (out / "instruments.toml").open("a", encoding="utf-8") as f:
        f.write(IWM)
    return out


@needs_real_data
@pytest.mark.parametrize(
    "block",
    [
        {"block": "volume_surge", "ratio": 1.5, "window": 20},
        {"block": "trend", "ma": 100, "band": 0.02},
        {"block": "change", "window": 60, "above": 0.1},
        {"block": "record", "lookback": 120},
        {"block": "drawdown", "below": 0.1, "not": True},
        {"block": "level", "above": 100.0},
    ],
)
def test_every_series_block_reads_a_users_series(folder, block):
    rule = make_rule("iwm", on={"XSO": 1.0}, off={"XJO": 1.0}, hold=10,
                     when=[{"name": "iwm", "series": "IWM", **block}])  # fmt: skip
    res = engine.run(rule, data=folder, start="2011-02-01", fill="close")
    assert res.metrics["trade_count"] >= 2
    _, ctx = strategy_context(rule(), folder, "close")
    assert audit(rule(), ctx).passed


@needs_real_data
def test_a_missing_volume_column_is_named(folder):
    rule = make_rule("v", on={"XSO": 1.0}, when=[{"name": "v", "block": "volume_surge",
                                                  "series": "US10Y"}])  # fmt: skip
    with pytest.raises(DataError, match="needs a volume column"):
        engine.run(rule, data=folder, start="2011-02-01")
