"""The comparison report in a real browser (the run and grid reports have their own tests).

Headless Chromium with the network off opens each page from file://; the page writes its render
state into a hidden ``#report-status`` element (charts drawn, script errors and console.error
calls, resources fetched, sideways overflow), read here from the DOM Chromium dumps. The test fails
on any console error or missing chart, and leaves a screenshot (1366x768) in its tmp_path.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from engine.backtest.run import RunConfig
from engine.research import compare
from engine.store import compare_folder
from strategies import REGISTRY

pytest.register_assert_rewrite("browser_kit")  # so its asserts report like this file's own
from browser_kit import NO_CHROMIUM, check_page, find_chromium, render  # noqa: E402

WINDOW = RunConfig(start=pd.Timestamp("2015-01-01"), end=pd.Timestamp("2019-12-31"))
COMPARE_CHARTS = ["chart-equity", "chart-drawdown", "chart-correlation", "chart-sharpe-diff"]


def compare_page(tmp_path: Path) -> Path:
    specs = [
        "russell-fed-rotation:hold_days=40,cut_window_days=90",
        "static-mix",
        "buy-and-hold:asset=XSO",
    ]
    cmp = compare.run_compare(compare_folder.resolve_inputs(specs, REGISTRY, tmp_path), WINDOW)
    return compare_folder.write_compare(cmp, tmp_path / "results") / "report.html"


@pytest.mark.slow
def test_compare_report_renders_offline_in_chromium(tmp_path: Path) -> None:
    chromium = find_chromium()
    if chromium is None:
        pytest.skip(NO_CHROMIUM)
    url = compare_page(tmp_path).as_uri()
    check_page(
        render(chromium, url, tmp_path),
        COMPARE_CHARTS,
        {"Synthetic sample data": "the synthetic banner is missing"},
    )
