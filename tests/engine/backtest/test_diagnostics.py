"""Fill sensitivity verdicts, the rule's activity and the console warning lines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.backtest.diagnostics import (
    CAGR_GAP,
    FILL_METRICS,
    SHARPE_GAP,
    FillSensitivity,
    activity,
    warning_lines,
)
from engine.stats.spec import HEADLINE


def test_the_fill_metrics_are_headline_metrics_in_the_spec_order():
    assert list(FILL_METRICS) == [k for k in HEADLINE if k in FILL_METRICS]
    assert {"sharpe", "cagr"} <= set(FILL_METRICS)  # what the verdict judges


def _m(sharpe, cagr):
    return {"total_return": 0.1, "cagr": cagr, "sharpe": sharpe, "max_drawdown": -0.2,
            "trade_count": 4}  # fmt: skip


@pytest.mark.parametrize(
    ("other", "depends"),
    [
        (_m(0.5, 0.05), False),
        (_m(0.5 + SHARPE_GAP * 1.01, 0.05), True),
        (_m(0.5 - SHARPE_GAP * 1.01, 0.05), True),
        (_m(0.5, 0.05 + CAGR_GAP * 1.01), True),
        (_m(0.5 + SHARPE_GAP * 0.99, 0.05 - CAGR_GAP * 0.99), False),
    ],
)
def test_the_result_depends_on_the_fill_beyond_the_documented_gaps(other, depends):
    s = FillSensitivity("open", {"open": _m(0.5, 0.05), "close": other})
    assert s.depends is depends
    assert ("depends on the fill" in s.sentence()) is depends
    assert s.record()["depends_on_fill"] is depends
    assert s.record()["difference"]["sharpe"] == pytest.approx(other["sharpe"] - 0.5)


def test_stale_opens_are_named_whichever_fill_the_run_used():
    stale = {"XSO": 0.83, "XJO": 0.1}
    limits = {"XSO": 0.25, "XJO": 0.25}
    run_open = FillSensitivity(
        "open", {"open": _m(3.1, 0.4), "close": _m(0.2, 0.03)}, stale, limits
    )
    assert run_open.stale_keys == ["XSO"]
    assert "not tradable" in run_open.sentence() and "XSO 83%" in run_open.sentence()
    run_close = FillSensitivity(
        "close", {"close": _m(0.2, 0.03), "open": _m(3.1, 0.4)}, stale, limits
    )
    assert "open-fill figures buy at stale opens" in run_close.sentence()


def test_an_unavailable_other_fill_says_why_and_has_no_verdict():
    s = FillSensitivity("close", {"close": _m(0.2, 0.03)}, unavailable="no 'open' column for XSO")
    assert s.depends is None and s.gaps() == {}
    assert "could not be simulated (no 'open' column for XSO)" in s.sentence()


def test_undefined_metrics_read_n_a():
    s = FillSensitivity("open", {"open": _m(None, 0.05), "close": _m(np.nan, 0.05)})
    assert "n/a" in s.sentence() and s.depends is False


def test_activity_counts_episodes_by_hand():
    idx = pd.bdate_range("2024-01-01", periods=8)
    w = pd.DataFrame({"XSO": [0, 1, 1, 0, 0, 0.5, 0, 1], "XJO": [1, 0, 0, 1, 1, 0.5, 1, 0]},
                     index=idx, dtype=float)  # fmt: skip
    a = activity(w, "XSO", signals=5, benchmark="XJO")
    assert (a["signals"], a["episodes"], a["sessions"]) == (5, 3, 8)
    assert a["share_in_asset"] == pytest.approx(4 / 8)
    assert "fired 5 time(s)" in a["sentence"] and "3 episode(s)" in a["sentence"]
    started = activity(w.iloc[1:], "XSO", signals=1, benchmark="XJO")
    assert started["episodes"] == 3  # held from the first session: an episode


def test_a_rule_that_never_fires_says_so_and_names_buy_and_hold():
    idx = pd.bdate_range("2024-01-01", periods=4)
    w = pd.DataFrame({"XSO": 0.0, "XJO": 1.0}, index=idx)
    a = activity(w, "XSO", signals=0, benchmark="XJO")
    assert a["episodes"] == 0 and a["share_in_asset"] == 0
    assert "never fired" in a["sentence"] and "the same as buy-and-hold of XJO" in a["sentence"]
    cash = activity(w * 0, "XSO", signals=0, benchmark="XJO")
    assert "cash" in cash["sentence"] and "buy-and-hold" not in cash["sentence"]


def test_a_position_held_from_the_start_without_signals_is_not_a_rule_that_never_fired():
    idx = pd.bdate_range("2024-01-01", periods=4)
    held = activity(pd.DataFrame({"XSO": 1.0}, index=idx), "XSO", signals=0, benchmark="XJO")
    assert held["episodes"] == 1 and held["share_in_asset"] == 1.0
    assert "never fired" not in held["sentence"] and "no signal in the window" in held["sentence"]


def test_warning_lines_show_a_count_the_first_few_and_where_the_rest_are():
    assert warning_lines([], "x") == []
    lines = warning_lines([f"w{i}" for i in range(5)], "summary.json")
    assert lines[0] == "5 warning(s):" and lines[1:4] == ["  - w0", "  - w1", "  - w2"]
    assert lines[4] == "  ... and 2 more in summary.json"
    assert warning_lines(["a"], "x") == ["1 warning(s):", "  - a"]
