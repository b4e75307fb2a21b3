"""Tests for engine.report.run_page and engine.report.run_charts: content, offline, determinism,
validation."""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from plotly.offline import get_plotlyjs

from engine.report.figures import packed_plotlyjs
from engine.report.run_charts import monthly_returns, rolling_sharpe, snap_to_sessions
from engine.report.run_page import ReportContext, metric_rows, render_report, write_report

CHART_IDS = ("chart-equity", "chart-drawdown", "chart-weights", "chart-monthly", "chart-yearly",
             "chart-daily-dist", "chart-monthly-dist")  # fmt: skip
ROLLING_IDS = ("chart-rolling-sharpe", "chart-rolling-vol", "chart-rolling-beta")


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
    # The (packed) plotly.js bundle is base64: it can spell anything.
    bundle = packed_plotlyjs()
    assert page.count(bundle) == 1, "plotly.js must be embedded exactly once"
    assert get_plotlyjs() not in page, "the full 4.8 MB bundle is not on the run page"
    return page.replace(bundle, "")


def test_banner_present_iff_synthetic(page: str) -> None:
    assert "synthetic sample data" in page.lower()
    real = render_report(make_context(synthetic=False))
    assert "synthetic sample data" not in real.lower()


def test_every_chart_div_is_present(page: str) -> None:
    for div_id in (*CHART_IDS, *ROLLING_IDS):
        assert f'id="{div_id}"' in page


def test_rolling_charts_skipped_when_shorter_than_a_year() -> None:
    short = render_report(make_context(n=100))
    for div_id in ROLLING_IDS:
        assert f'id="{div_id}"' not in short
    assert short.count("Skipped: the run has 100 sessions") == 3
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
    assert page.count("ccInflate(") == 2  # defined once, called once


def test_render_is_deterministic(page: str) -> None:
    assert render_report(make_context()) == page


def num(text: str) -> str:
    return f'<td class="num">{text}</td>'


def test_metrics_formatted(page: str) -> None:
    assert num("1.23") in page
    assert num("-23.45%") in page
    assert num("45.67%") in page
    assert '<th>Final equity</th><td class="unit">AUD</td>' + num("145,670.00") in page
    assert num("not recovered") in page
    assert num("2020-02-19") in page
    assert "252.3 ASX sessions/year" in page
    assert "XSO is price-only" in page


def test_metrics_sit_beside_the_benchmarks_with_units() -> None:
    bench = {"total_return": 0.3, "sharpe": 0.9, "avg_trade": None, "round_trips": 0}
    ctx = make_context(metrics={"total_return": 0.4567, "sharpe": 1.234, "avg_trade": 0.0872957,
                                "round_trips": 20, "best_trade": 0.891273},
                       columns={"buy-and-hold XJO": bench})  # fmt: skip
    page = render_report(ctx)
    head = '<th class="num">strategy</th><th class="num">buy-and-hold XJO</th>'
    assert "<th>metric</th><th>unit</th>" + head in page
    assert '<th>Total return</th><td class="unit">%</td>' + num("45.67%") + num("30.00%") in page
    assert '<th>Sharpe ratio</th><td class="unit">ratio</td>' + num("1.23") + num("0.90") in page
    assert '<th>Round trips</th><td class="unit">count</td>' + num("20") + num("0") in page
    assert num("8.73%") + num("n/a") in page and num("89.13%") + num("n/a") in page
    assert "0.0872957" not in page and "0.891273" not in page


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


def test_worst_drawdowns_table_and_shading() -> None:
    from engine.report.run_panels import drawdown_periods

    index = pd.bdate_range("2024-01-01", periods=9)
    equity = pd.Series([100, 110, 99, 88, 111, 120, 108, 115, 119.0], index=index)
    table = drawdown_periods(equity)
    assert table["start"].tolist() == [index[1], index[5]]
    assert table["trough"].tolist() == [index[3], index[6]]
    assert table["end"].iloc[0] == index[4] and pd.isna(table["end"].iloc[1])
    assert np.allclose(table["depth"], [88 / 110 - 1, 108 / 120 - 1])
    assert table["days"].tolist() == [(index[4] - index[1]).days, (index[8] - index[5]).days]
    page = render_report(make_context(n=300))
    assert "<h2>Worst drawdowns</h2>" in page and "not recovered" in page
    assert '"type":"rect"' in page  # the periods shaded on the equity chart


def test_yearly_returns_compound_and_sit_beside_the_benchmark() -> None:
    from engine.report.run_panels import yearly_returns

    ctx = make_context(n=600)
    table = yearly_returns({"strategy": ctx.equity, **ctx.benchmarks})
    assert list(table.columns) == ["strategy", "buy-and-hold XJO"]
    total = np.prod(table["strategy"].to_numpy() + 1.0) - 1.0
    assert np.isclose(total, ctx.equity.iloc[-1] / ctx.equity.iloc[0] - 1.0)
    page = render_report(ctx)
    assert '<th class="num">buy-and-hold XJO (%)</th>' in page


def test_rolling_beta_of_a_scaled_benchmark_is_the_scale() -> None:
    from engine.report.run_panels import rolling_beta, rolling_volatility

    bench = make_context(n=400).benchmarks["buy-and-hold XJO"]
    rets = bench.pct_change()
    levered = (1 + 2 * rets.fillna(0)).cumprod() * 100
    assert np.allclose(rolling_beta(levered, bench).dropna(), 2.0)
    assert np.isclose(rolling_volatility(bench).iloc[-1], rets.iloc[-252:].std() * np.sqrt(252))


def test_price_chart_and_event_study_chart() -> None:
    from types import SimpleNamespace

    ctx = make_context(n=300)
    index = ctx.equity.index
    price = pd.Series(np.linspace(10, 20, len(index)), index=index, name="IWM close (USD)")
    fills = pd.DataFrame({"session": [index[3], index[40]], "price": [10.1, 11.5],
                          "units": [5.0, -5.0]})  # fmt: skip
    summary = pd.DataFrame({
        "horizon": [1, 5], "n": [12, 12], "mean": [0.01, 0.02], "ci_low": [0.0, -0.01],
        "ci_high": [0.02, 0.05], "n_all": [299, 295], "mean_all": [0.001, 0.004],
        "ci_low_all": [0.0, 0.0], "ci_high_all": [0.002, 0.008],
    })  # fmt: skip
    study = SimpleNamespace(summary=summary, asset="IWM", config=SimpleNamespace(level=0.95))
    page = render_report(replace(ctx, price=price, fills=fills, study=study))
    assert 'id="chart-price"' in page and "Trades on IWM close (USD)" in page
    assert 'id="chart-event-study"' in page and "after signals (mean, 95% band)" in page
    with pytest.raises(ValueError, match=r"ReportContext\.fills: needs columns"):
        replace(ctx, price=price, fills=fills.drop(columns="units"))


def test_markers_start_hidden_except_trades() -> None:
    from engine.report.run_charts import equity_chart

    ctx = make_context(n=300)
    index = ctx.equity.index
    markers = {"Fed cut": [index[5]], "buy": [index[7]], "sell": [index[9]], "record": [index[2]]}
    traces = equity_chart(ctx.equity, {}, markers).figure["data"][1:]
    shown = {t["name"]: (t["visible"], t["legendgroup"]) for t in traces}
    assert shown == {"Fed cut": ("legendonly", "rate decisions"), "buy": (True, "trades"),
                     "sell": (True, "trades"), "record": ("legendonly", "strategy")}  # fmt: skip


def test_the_page_writes_its_sessions_once_and_floats_as_float32(page: str) -> None:
    dates = make_context().equity.index.strftime("%Y-%m-%d")
    assert page.count(f'"{dates[17]}"') == 1  # in ccDates only, not in every trace
    assert '"dtype":"f4"' in page and '"dtype":"f8"' not in page


def test_every_run_chart_uses_a_trace_type_of_the_packed_bundle() -> None:
    from engine.report.figures import CARTESIAN_TRACES
    from engine.report.run_page import page_charts

    charts = page_charts(make_context())
    types = {t["type"] for c in charts if c.figure for t in c.figure["data"]}
    assert types and types <= set(CARTESIAN_TRACES), types
