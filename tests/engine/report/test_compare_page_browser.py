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

# so their asserts report like this file's own
pytest.register_assert_rewrite("browser_kit", "trace_kit")
from browser_kit import NO_CHROMIUM, check_page, find_chromium, render  # noqa: E402
from trace_kit import check_traces  # noqa: E402

WINDOW = RunConfig(start=pd.Timestamp("2015-01-01"), end=pd.Timestamp("2019-12-31"))
COMPARE_CHARTS = ["chart-equity", "chart-drawdown", "chart-correlation", "chart-sharpe-diff"]
# traces per chart: three inputs and the benchmark; three drawdowns; one heatmap; two differences
COMPARE_TRACES = dict(zip(COMPARE_CHARTS, (4, 3, 1, 1), strict=True))


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
    page = compare_page(tmp_path)
    rendered = render(chromium, page.as_uri(), tmp_path)
    check_page(
        rendered,
        COMPARE_CHARTS,
        {"Synthetic sample data": "the synthetic banner is missing"},
    )
    check_traces(page.read_text(encoding="utf-8"), rendered.dom, COMPARE_TRACES)
    assert '"tickformat":"~s"' in page.read_text(encoding="utf-8")  # log ticks show full values
