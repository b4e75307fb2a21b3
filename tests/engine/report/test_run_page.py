"""Tests for engine.report.run_page and engine.report.run_charts: content, offline, determinism,
validation."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from plotly.offline import get_plotlyjs

from engine.report.run_charts import monthly_returns, rolling_sharpe, snap_to_sessions
from engine.report.run_page import ReportContext, metric_rows, render_report, write_report

CHART_IDS = ("chart-equity", "chart-drawdown", "chart-weights", "chart-monthly")


def make_context(n: int = 600, synthetic: bool = True, **changes: object) -> ReportContext:
    """A small run: seeded random-walk equity, one benchmark, three weight columns, markers."""
    rng = np.random.default_rng(7)
    index = pd.bdate_range("2020-01-01", periods=n)
    equity = pd.Series(100_000 * np.exp(np.cumsum(rng.normal(3e-4, 0.01, n))), index=index)
    bench = pd.Series(100_000 * np.exp(np.cumsum(rng.normal(2e-4, 0.012, n))), index=index)
    raw = rng.uniform(0, 1, (n, 3))
    weights = pd.DataFrame(raw / raw.sum(axis=1, keepdims=True) * 0.9, index=index)
    weights.columns = ["IWM", "XJO", "XSO"]
    ctx = ReportContext(
        title="russell-fed-rotation",
        rule="Hold Russell 2000 after a Fed cut; otherwise hold the ASX 200.",
        params={"hold_days": 20, "threshold": 0.05, "use_fx": True},
        metrics={
            "total_return": 0.4567,
            "cagr": 0.0812,
            "sharpe": 1.234,
            "max_drawdown": -0.2345,
            "max_drawdown_start": "2020-02-19",
            "max_drawdown_end": None,
            "final_equity": 145_670.0,
            "trade_count": 42,
            "mystery": 3.5,
        },
        equity=equity,
        benchmarks={"buy-and-hold XJO": bench},
        weights=weights,
        markers={
            "Fed cut": [index[10], pd.Timestamp("2020-03-07")],  # a Saturday: snaps to Monday
            "RBA cut": [],
            "entry": list(index[::50]),
        },
        provenance=[
            {
                "key": "IWM",
                "name": "iShares Russell 2000",
                "source": "sample",
                "first": index[0],
                "last": index[-1],
                "rows": n,
                "returns": "total",
            },
        ],
        base_currency="AUD",
        synthetic=synthetic,
        notes=("XSO is price-only: returns understate total return",),
        annualisation="252.3 ASX sessions/year (valuation calendar XASX)",
    )
    return replace(ctx, **changes) if changes else ctx


@pytest.fixture(scope="module")
def page() -> str:
    return render_report(make_context())


def without_plotlyjs(page: str) -> str:
    # The plotly.js bundle itself mentions CDNs and http links (unused topojson/MathJax options).
    bundle = get_plotlyjs()
    assert page.count(bundle) == 1, "plotly.js must be embedded exactly once"
    return page.replace(bundle, "")


def test_banner_present_iff_synthetic(page: str) -> None:
    assert "synthetic sample data" in page.lower()
    real = render_report(make_context(synthetic=False))
    assert "synthetic sample data" not in real.lower()


def test_every_chart_div_is_present(page: str) -> None:
    for div_id in (*CHART_IDS, "chart-rolling-sharpe"):
        assert f'id="{div_id}"' in page


def test_rolling_sharpe_skipped_when_shorter_than_a_year() -> None:
    short = render_report(make_context(n=100))
    assert 'id="chart-rolling-sharpe"' not in short
    assert "Skipped: the run has 100 sessions" in short
    for div_id in CHART_IDS:
        assert f'id="{div_id}"' in short


def test_no_external_resources(page: str) -> None:
    rest = without_plotlyjs(page)
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", rest, re.I)
    assert not re.search(r"<script[^>]*\bsrc=", rest, re.I)
    assert not re.search(r"<link\b", rest, re.I)
    # Base64 chart data ("bdata") can spell anything, so it is dropped before looking for "cdn".
    assert "cdn" not in re.sub(r'"bdata":"[^"]*"', "", rest).lower()
    assert "mathjax" not in rest.lower()
    assert "@import" not in rest and "url(" not in rest


def test_plotlyjs_embedded_once(page: str) -> None:
    without_plotlyjs(page)
    assert page.count("plotly.js v") == 1


def test_render_is_deterministic(page: str) -> None:
    assert render_report(make_context()) == page


def test_metrics_formatted(page: str) -> None:
    assert "<td>1.23</td>" in page
    assert "<td>-23.45%</td>" in page
    assert "<td>45.67%</td>" in page
    assert "<td>145,670.00</td>" in page and "Final equity (AUD)" in page
    assert "<td>not recovered</td>" in page
    assert "<td>2020-02-19</td>" in page
    assert "252.3 ASX sessions/year" in page
    assert "XSO is price-only" in page


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("sharpe", 1.234, "1.23"),
        ("max_drawdown", -0.2345, "-23.45%"),
        ("cagr", float("nan"), "n/a"),
        ("max_drawdown_trough", pd.Timestamp("2021-03-04"), "2021-03-04"),
        ("trade_count", 1234, "1,234"),
        ("years", 2.3851, "2.39"),
        ("unknown_thing", 0.123456789, "0.123457"),
        ("unknown_flag", True, "yes"),
    ],
)
def test_metric_rows_format_as_the_spec(key: str, value: object, expected: str) -> None:
    assert dict(metric_rows({key: value}, "AUD")).popitem()[1] == expected


def test_metric_rows_put_the_headline_first_and_label_every_key() -> None:
    rows = metric_rows({"years": 2.0, "zzz": 1, "sharpe": 1.0, "total_return": 0.1}, "AUD")
    assert [label for label, _ in rows] == ["Total return", "Sharpe ratio", "Years", "zzz"]
    assert metric_rows({"final_equity": 1.0}, "USD") == [("Final equity (USD)", "1.00")]


def test_user_strings_are_escaped() -> None:
    evil = "<script>alert(1)</script>"
    page = render_report(
        make_context(title=evil, rule=evil, params={evil: evil}, notes=(evil,), synthetic=False)
    )
    assert evil not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_write_report_writes_utf8(tmp_path) -> None:
    path = tmp_path / "report.html"
    write_report(path, make_context(n=300))
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "—" in text


def test_mismatched_weights_index_is_rejected() -> None:
    ctx = make_context(n=300)
    shifted = ctx.weights.iloc[1:]
    with pytest.raises(ValueError, match=r"ReportContext\.weights: index differs.*299 rows"):
        replace(ctx, weights=shifted)


def test_empty_equity_is_rejected() -> None:
    ctx = make_context(n=300)
    empty = pd.Series([], index=pd.DatetimeIndex([]), dtype=float)
    with pytest.raises(ValueError, match=r"ReportContext\.equity: must be a non-empty"):
        replace(ctx, equity=empty)


@pytest.mark.parametrize(
    ("field", "make_bad", "message"),
    [
        ("equity", lambda c: c.equity.iloc[::-1], "not sorted"),
        ("equity", lambda c: c.equity.where(c.equity.index != c.equity.index[5]), "non-finite"),
        ("equity", lambda c: c.equity.tz_localize("UTC"), "tz-aware"),
        ("benchmarks", lambda c: {"b": c.equity.reset_index(drop=True)}, "not a DatetimeIndex"),
        ("markers", lambda c: {"x": [pd.Timestamp("2020-01-02", tz="UTC")]}, "tz-aware"),
    ],
)
def test_bad_inputs_name_the_field(field: str, make_bad, message: str) -> None:
    ctx = make_context(n=300)
    with pytest.raises(ValueError, match=rf"ReportContext\.{field}.*{message}.*Fix:"):
        replace(ctx, **{field: make_bad(ctx)})


def test_markers_snap_to_next_session_and_drop_after_end() -> None:
    index = pd.bdate_range("2024-01-01", periods=10)  # Mon 1 Jan .. Fri 12 Jan
    dates = [pd.Timestamp("2024-01-06"), index[0], pd.Timestamp("2024-02-01")]
    assert snap_to_sessions(index, dates).tolist() == [0, 5]


def test_monthly_returns_compound_to_total_return() -> None:
    equity = make_context(n=600).equity
    grid = monthly_returns(equity)
    assert grid.shape[1] == 12
    total = np.nanprod(grid.to_numpy() + 1.0) - 1.0
    assert np.isclose(total, equity.iloc[-1] / equity.iloc[0] - 1.0)


def test_rolling_sharpe_matches_plain_formula() -> None:
    equity = make_context(n=400).equity
    rets = equity.pct_change().iloc[-252:]
    expected = rets.mean() / rets.std() * np.sqrt(252)
    assert np.isclose(rolling_sharpe(equity).iloc[-1], expected)
    assert rolling_sharpe(equity).iloc[:252].isna().all()


def test_weights_with_shorts_are_drawn_as_lines() -> None:
    ctx = make_context(n=300)
    shorted = ctx.weights.copy()
    shorted.iloc[:, 0] = -0.2
    page = render_report(replace(ctx, weights=shorted))
    assert "cash (residual)" not in page
    assert "cash (residual)" in render_report(ctx)
