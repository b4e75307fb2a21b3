"""The report in a real browser: headless Chromium, network off, every chart drawn, no errors.

The page writes its own render state into a hidden ``#report-status`` element (charts drawn, script
errors and console.error calls, resources fetched, sideways overflow); this test reads it from the
DOM that Chromium dumps. A screenshot at laptop size (1366x768) is left in the test's tmp_path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.report.run_page import ReportContext, write_report

pytest.register_assert_rewrite("browser_kit")  # so its asserts report like this file's own
from browser_kit import NO_CHROMIUM, check_page, find_chromium, render  # noqa: E402

CHART_IDS = [
    "chart-equity",
    "chart-drawdown",
    "chart-weights",
    "chart-monthly",
    "chart-rolling-sharpe",
]


def small_context() -> ReportContext:
    rng = np.random.default_rng(11)
    n = 520  # over a year, so the rolling Sharpe chart is drawn too
    index = pd.bdate_range("2021-01-04", periods=n)
    equity = pd.Series(50_000 * np.exp(np.cumsum(rng.normal(4e-4, 0.01, n))), index=index)
    bench = pd.Series(50_000 * np.exp(np.cumsum(rng.normal(2e-4, 0.01, n))), index=index)
    raw = rng.uniform(0, 1, (n, 3))
    weights = pd.DataFrame(raw / raw.sum(axis=1, keepdims=True), index=index)
    weights.columns = ["IWM", "XJO", "<b>cash</b>"]
    return ReportContext(
        title="browser <check>",
        rule="Rotate on Fed cuts.",
        params={"hold_days": 20},
        metrics={"sharpe": 0.8, "max_drawdown": -0.12},
        equity=equity,
        benchmarks={"buy-and-hold XJO": bench},
        weights=weights,
        markers={"Fed cut": [index[30], index[300]], "RBA cut": []},
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
    )


@pytest.mark.slow
def test_report_renders_offline_in_chromium(tmp_path: Path) -> None:
    chromium = find_chromium()
    if chromium is None:
        pytest.skip(NO_CHROMIUM)
    page = tmp_path / "report.html"
    write_report(page, small_context())
    url = page.as_uri()
    check_page(render(chromium, url, tmp_path), CHART_IDS)
