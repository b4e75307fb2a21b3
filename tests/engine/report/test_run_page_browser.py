"""The report in a real browser: headless Chromium, network off, every chart drawn with data in
it, no errors; and the sample flagship run's report is small enough to mail.

The page writes its own render state into a hidden ``#report-status`` element (charts drawn, points
per trace, script errors and console.error calls, resources fetched, sideways overflow); this test
reads it from the DOM that Chromium dumps. A screenshot at laptop size (1366x768) is left in the
test's tmp_path.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from engine.report.run_page import ReportContext, page_charts, write_report

pytest.register_assert_rewrite("browser_kit")  # so its asserts report like this file's own
from browser_kit import NO_CHROMIUM, check_page, find_chromium, read_status, render  # noqa: E402

# Every chart of a full run page, in page order.
CHART_IDS = [
    "chart-equity",
    "chart-drawdown",
    "chart-price",
    "chart-weights",
    "chart-yearly",
    "chart-monthly",
    "chart-daily-dist",
    "chart-monthly-dist",
    "chart-rolling-sharpe",
    "chart-rolling-vol",
    "chart-rolling-beta",
    "chart-event-study",
]
MAX_REPORT_BYTES = 1_500_000  # a 26-year daily run's report.html


def small_context() -> ReportContext:
    rng = np.random.default_rng(11)
    n = 520  # over a year, so the rolling charts are drawn too
    index = pd.bdate_range("2021-01-04", periods=n)
    equity = pd.Series(50_000 * np.exp(np.cumsum(rng.normal(4e-4, 0.01, n))), index=index)
    bench = pd.Series(50_000 * np.exp(np.cumsum(rng.normal(2e-4, 0.01, n))), index=index)
    raw = rng.uniform(0, 1, (n, 3))
    weights = pd.DataFrame(raw / raw.sum(axis=1, keepdims=True), index=index)
    weights.columns = ["IWM", "XJO", "<b>cash</b>"]
    price = pd.Series(200 * np.exp(np.cumsum(rng.normal(0, 0.01, n))), index=index,
                      name="IWM close (USD)")  # fmt: skip
    fills = pd.DataFrame({"session": index[[30, 50, 300]], "units": [3.0, -3.0, 2.0],
                          "price": price.iloc[[30, 50, 300]].to_numpy()})  # fmt: skip
    summary = pd.DataFrame({
        "horizon": [1, 5, 20], "n": [14, 14, 13], "mean": [0.002, 0.01, 0.03],
        "ci_low": [-0.001, 0.0, 0.01], "ci_high": [0.005, 0.02, 0.05], "n_all": [519, 515, 500],
        "mean_all": [0.0004, 0.002, 0.008], "ci_low_all": [0.0, 0.0, 0.002],
        "ci_high_all": [0.001, 0.004, 0.014],
    })  # fmt: skip
    study = SimpleNamespace(summary=summary, asset="IWM", config=SimpleNamespace(level=0.95))
    return ReportContext(
        title="browser <check>",
        rule="Rotate on Fed cuts.",
        params={"hold_days": 20},
        metrics={"sharpe": 0.8, "max_drawdown": -0.12},
        equity=equity,
        benchmarks={"buy-and-hold XJO": bench},
        weights=weights,
        markers={"Fed cut": [index[30], index[300]], "RBA cut": [], "buy": [index[30]]},
        provenance=[
            {
                "key": "IWM",
                "name": "Russell",
                "source": "sample",
                "first": index[0],
                "last": index[-1],
                "rows": n,
                "returns": "total",
            }
        ],
        base_currency="AUD",
        synthetic=True,
        columns={"buy-and-hold XJO": {"sharpe": 0.5, "max_drawdown": -0.2}},
        price=price,
        fills=fills,
        study=study,
    )


def check_every_chart_has_data(status: dict, sessions: int) -> None:
    """Each chart drew at least one trace with points; the session-long lines drew every session."""
    points = status["points"]
    assert list(points) == CHART_IDS
    for chart, counts in points.items():
        assert max(counts, default=0) > 1, f"{chart} drew no data: {counts}"
    for chart in ("chart-equity", "chart-drawdown", "chart-price", "chart-weights"):
        assert points[chart][0] == sessions, chart
    assert points["chart-equity"][:2] == [sessions, sessions]  # strategy and benchmark
    assert points["chart-monthly"][0] >= 12  # the heatmap's cells


@pytest.mark.slow
def test_report_renders_offline_in_chromium(tmp_path: Path) -> None:
    chromium = find_chromium()
    if chromium is None:
        pytest.skip(NO_CHROMIUM)
    ctx = small_context()
    assert [c.div_id for c in page_charts(ctx)] == CHART_IDS
    page = tmp_path / "report.html"
    write_report(page, ctx)
    rendered = render(chromium, page.as_uri(), tmp_path)
    check_page(rendered, CHART_IDS)
    check_every_chart_has_data(read_status(rendered.dom), len(ctx.equity))


@pytest.mark.slow
def test_the_sample_flagship_report_is_small_and_draws_every_chart(tmp_path: Path) -> None:
    import engine

    res = engine.run("russell-fed-rotation")
    folder = Path(res.save(tmp_path / "results"))
    page = folder / "report.html"
    size = page.stat().st_size
    sessions = len(res.raw.sim.equity)
    assert res.raw.sim.equity.index[-1].year - res.raw.sim.equity.index[0].year >= 25
    assert size <= MAX_REPORT_BYTES, f"report.html is {size:,} bytes"
    chromium = find_chromium()
    if chromium is None:
        pytest.skip(NO_CHROMIUM)
    rendered = render(chromium, page.as_uri(), tmp_path)
    check_page(rendered, CHART_IDS)
    check_every_chart_has_data(read_status(rendered.dom), sessions)
