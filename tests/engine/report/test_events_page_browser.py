"""The event-study page in a real browser: headless Chromium, network off, its three charts drawn
with data in every trace, no script errors, no sideways scrolling (``browser_kit``, ``trace_kit``).
A screenshot (1366x768) is left in the test's tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

import engine

pytest.register_assert_rewrite("browser_kit", "trace_kit")  # asserts report like this file's own
from browser_kit import NO_CHROMIUM, check_page, find_chromium, render  # noqa: E402
from trace_kit import check_traces  # noqa: E402

# the mean after signals and over all sessions, each with its band; the excess; one per horizon
TRACES = {"chart-event-study": 4, "chart-event-excess": 1, "chart-event-signals": 4}


@pytest.mark.slow
def test_events_report_renders_offline_in_chromium(tmp_path: Path) -> None:
    chromium = find_chromium()
    if chromium is None:
        pytest.skip(NO_CHROMIUM)
    page = engine.events("russell-fed-rotation").save(tmp_path / "results") / "report.html"
    rendered = render(chromium, page.as_uri(), tmp_path)
    check_page(rendered, list(TRACES), {"Synthetic sample data": "the banner is missing"})
    check_traces(page.read_text(encoding="utf-8"), rendered.dom, TRACES)
