"""The metric spec (engine.stats.spec): every computed key has one, and values read the same wherever
they are shown. (Named test_metric_spec: tests/engine/rules/test_spec.py holds the basename.)"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from engine.stats import metrics
from engine.stats.spec import HEADLINE, METRICS, format_value, higher_is_better, label

UNITS = {"fraction", "ratio", "count", "money", "date", "years", "days", "sessions", "per year"}
KINDS = {"pct", "ratio", "count", "money", "date", "recovery", "number"}


def _computed() -> dict:
    """compute_metrics of a small made-up run (with round trips and a benchmark)."""
    idx = pd.bdate_range("2020-01-01", periods=40)
    equity = pd.Series(100.0 * np.cumprod(1 + 0.01 * np.sin(np.arange(40))), idx)
    sim = SimpleNamespace(
        equity=equity,
        cash_return=pd.Series(0.0001, idx),
        init_cash=100.0,
        exposed_sessions=30,
        traded_value=250.0,
        orders=pd.DataFrame({"value": [100.0, -150.0]}),
        trades=pd.DataFrame({"return": [0.05, -0.02, 0.01], "open": [False, False, True]}),
    )
    bench = pd.Series(0.002 * np.cos(np.arange(40)), idx)
    return metrics.compute_metrics(sim, bench)


def test_every_computed_key_has_a_spec_in_the_order_metrics_returns_them():
    got = _computed()
    assert list(got) == list(METRICS) == list(metrics.METRIC_KEYS)
    for key, m in METRICS.items():
        assert m.key == key and m.label and m.doc and "\n" not in m.doc
        assert m.unit in UNITS and m.kind in KINDS, key


def test_headline_is_the_flagged_keys_in_order_and_metrics_keeps_its_names():
    assert HEADLINE == tuple(k for k, m in METRICS.items() if m.headline)
    assert HEADLINE[:3] == ("total_return", "cagr", "ann_volatility")
    assert metrics.HEADLINE == HEADLINE
    assert {k for k, v in metrics.HIGHER_IS_BETTER.items() if not v} == {
        "ann_volatility", "tracking_error", "turnover", "max_drawdown_days"
    }  # fmt: skip


@pytest.mark.parametrize(
    ("key", "unit", "kind"),
    [
        ("avg_trade", "fraction", "pct"),
        ("best_trade", "fraction", "pct"),
        ("worst_trade", "fraction", "pct"),
        ("win_rate", "fraction", "pct"),
        ("round_trips", "count", "count"),
        ("trade_count", "count", "count"),
        ("max_drawdown_days", "days", "count"),
        ("psr", "fraction", "pct"),
        ("periods_per_year", "per year", "number"),
        ("sharpe", "ratio", "ratio"),
        ("final_equity", "money", "money"),
        ("max_drawdown_start", "date", "date"),
        ("max_drawdown_end", "date", "recovery"),
        ("years", "years", "number"),
        ("sessions", "sessions", "count"),
    ],
)
def test_units_and_kinds(key, unit, kind):
    assert (METRICS[key].unit, METRICS[key].kind) == (unit, kind)


def test_direction():
    assert higher_is_better("sharpe") and higher_is_better("cagr")
    assert higher_is_better("max_drawdown")  # negative: nearer 0 is better
    for key in ("ann_volatility", "tracking_error", "turnover", "max_drawdown_days"):
        assert not higher_is_better(key), key
    assert higher_is_better("not_a_metric")


def test_labels():
    assert label("sharpe") == "Sharpe ratio"
    assert label("final_equity", "AUD") == "Final equity (AUD)"
    assert label("final_equity") == "Final equity"
    assert label("not_a_metric", "AUD") == "not_a_metric"


@pytest.mark.parametrize("missing", [None, float("nan"), np.float64("nan"), pd.NA, pd.NaT])
@pytest.mark.parametrize("key", ["cagr", "sharpe", "trade_count", "final_equity", "years",
                                 "max_drawdown_start", "not_a_metric"])  # fmt: skip
def test_undefined_values_read_n_a(key, missing):
    assert format_value(key, missing) == "n/a"


def test_an_unrecovered_drawdown_says_so():
    assert format_value("max_drawdown_end", None) == "not recovered"
    assert format_value("max_drawdown_end", "2020-03-04") == "2020-03-04"


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("cagr", 0.1234, "12.34%"),
        ("max_drawdown", -0.2345, "-23.45%"),
        ("win_rate", 1, "100.00%"),
        ("psr", np.float64(0.975), "97.50%"),
        ("sharpe", 1.234, "1.23"),
        ("sharpe", -0.005, "-0.01"),
        ("sharpe", np.float32(2.0), "2.00"),
        ("trade_count", 1234, "1,234"),
        ("trade_count", np.int64(7), "7"),
        ("round_trips", 3.0, "3"),
        ("max_drawdown_days", 400, "400"),
        ("final_equity", 145670.0, "145,670.00"),
        ("years", 2.3851, "2.39"),
        ("periods_per_year", 252.34, "252.34"),
        ("max_drawdown_trough", "2021-03-04", "2021-03-04"),
        ("max_drawdown_trough", pd.Timestamp("2021-03-04"), "2021-03-04"),
        ("max_drawdown_trough", dt.date(2021, 3, 4), "2021-03-04"),
        ("max_drawdown_trough", np.datetime64("2021-03-04"), "2021-03-04"),
        ("not_a_metric", 0.123456789, "0.123457"),
        ("not_a_metric", 12, "12"),
        ("not_a_metric", True, "yes"),
        ("not_a_metric", "text", "text"),
        ("sharpe", "text", "text"),  # text where a number belongs is shown, not refused
    ],
)
def test_format_value(key, value, expected):
    assert format_value(key, value) == expected


def test_money_names_its_currency_when_given():
    assert format_value("final_equity", 1e5, "AUD") == "100,000.00 AUD"
    assert format_value("cagr", 0.1, "AUD") == "10.00%"


def test_every_computed_value_formats():
    for key, value in _computed().items():
        text = format_value(key, value)
        assert text and "nan" not in text.lower(), (key, text)


def test_a_tiny_negative_that_rounds_to_zero_has_no_sign():
    assert format_value("alpha", -1e-9) == "0.00%"
    assert format_value("sharpe", -0.001) == "0.00"
    assert format_value("alpha", -0.0123) == "-1.23%"
