"""The grid report in a real browser: headless Chromium, network off, every chart drawn, no errors.

As for the run report (tests/engine/test_report_browser.py), the page writes its render state into
a hidden ``#report-status`` element that this test reads from the DOM Chromium dumps. The grid is
synthetic: three varied parameters (two numeric, one categorical with markup in a value), so the
page has three line charts, three heatmaps and the winner's equity and drawdown. A screenshot at
laptop size (1366x768) is left in the test's tmp_path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.report.grid_page import GridReportContext, write_grid_report
from engine.report.run_page import ReportContext
from engine.research.grid import rank

pytest.register_assert_rewrite("browser_kit")  # so its asserts report like this file's own
from browser_kit import NO_CHROMIUM, check_page, find_chromium, render  # noqa: E402

CHART_IDS = [
    *(f"chart-param-{i}" for i in range(3)),
    *(f"chart-pair-{k}" for k in range(3)),
    "chart-equity",
    "chart-drawdown",
]


def grid_context() -> GridReportContext:
    rng = np.random.default_rng(5)
    axes = {"hold_days": [5, 10, 20, 40], "cut_window_days": [20, 40, 60],
            "risk_off": ["large", "<b>cash</b>"]}  # fmt: skip
    table = pd.MultiIndex.from_product(list(axes.values()), names=list(axes)).to_frame(index=False)
    n = len(table)
    table = table.assign(
        sharpe=rng.normal(0.4, 0.3, n),
        cagr=rng.normal(0.05, 0.03, n),
        max_drawdown=-rng.uniform(0.05, 0.4, n),
        ann_volatility=rng.uniform(0.1, 0.2, n),
        trade_count=rng.integers(1, 40, n),
        turnover=rng.uniform(0, 3, n),
        exposure=rng.uniform(0.5, 1, n),
    )
    table = table.iloc[rank(table, "sharpe")].reset_index(drop=True)
    index = pd.bdate_range("2019-01-01", periods=400)
    equity = pd.Series(50_000 * np.exp(np.cumsum(rng.normal(4e-4, 0.01, 400))), index=index)
    winner = ReportContext(
        title="browser <check>",
        rule="Rotate on Fed cuts.",
        params=dict(table.iloc[0][list(axes)]),
        metrics={"sharpe": float(table["sharpe"].iloc[0]), "max_drawdown": -0.12},
        equity=equity,
        benchmarks={"buy-and-hold XJO": equity * 0.95},
        weights=pd.DataFrame({"IWM": 0.6, "XJO": 0.4}, index=index),
        markers={"Fed cut": [index[30], index[300]]},
        provenance=[],
        base_currency="AUD",
        synthetic=True,
    )
    side = {
        "winner": 0.4, "trials": n, "trials_undefined": 0, "effective_trials": 5.2,
        "average_correlation": 0.7, "expected_max": 0.9, "expected_max_effective": 0.6,
        "deflated": 0.42, "deflated_effective": 0.6, "pbo": 0.55, "splits": 6435,
        "logit_median": -0.2, "ci95": (-0.3, 1.1),
    }  # fmt: skip
    honesty = {
        "trials": n, "over_cash": {**side, "metric": "sharpe"},
        "vs_benchmark": {**side, "metric": "information_ratio", "benchmark": "XJO"},
        "ranking": {"metric": "sharpe", "direction": "higher", "same_as": "over_cash"},
        "cagr_ci95": (-0.04, 0.12), "bootstrap_seed": 1,
    }  # fmt: skip
    return GridReportContext(
        title="grid: browser <check>",
        rule="Rotate on Fed cuts.",
        metric="sharpe",
        table=table,
        params=list(axes),
        varied=list(axes),
        honesty=honesty,
        winner=winner,
        synthetic=True,
    )


@pytest.mark.slow
def test_grid_report_renders_offline_in_chromium(tmp_path: Path) -> None:
    chromium = find_chromium()
    if chromium is None:
        pytest.skip(NO_CHROMIUM)
    page = tmp_path / "report.html"
    write_grid_report(page, grid_context())
    url = page.as_uri()
    check_page(
        render(chromium, url, tmp_path),
        CHART_IDS,
        {">&lt;b&gt;cash&lt;/b&gt;</text>": "a tick label's markup must show as text"},
    )
