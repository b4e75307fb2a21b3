"""The comparison report in a real browser (the run and grid reports have their own tests).

Headless Chromium with the network off opens each page from file://; the page writes its render
state into a hidden ``#report-status`` element (charts drawn, script errors and console.error
calls, resources fetched, sideways overflow), read here from the DOM Chromium dumps. The test fails
on any console error or missing chart, and leaves a screenshot (1366x768) in its tmp_path.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from engine import compare
from engine.api import RunConfig
from strategies import REGISTRY

TIMEOUT_S = 60
WINDOW = RunConfig(start=pd.Timestamp("2015-01-01"), end=pd.Timestamp("2019-12-31"))
COMPARE_CHARTS = ["chart-equity", "chart-drawdown", "chart-correlation", "chart-sharpe-diff"]
# Offline: every http(s) request goes to a dead proxy; the page is opened from file://.
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",  # CI runs as root, where the sandbox refuses to start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--proxy-server=127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
    "--window-size=1366,768",
    "--virtual-time-budget=5000",
]


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def compare_page(tmp_path: Path) -> Path:
    specs = [
        "russell-fed-rotation:hold_days=40,cut_window_days=90",
        "static-mix",
        "buy-and-hold:asset=XSO",
    ]
    cmp = compare.run_compare(compare.resolve_inputs(specs, REGISTRY, tmp_path), WINDOW)
    return compare.write_compare(cmp, tmp_path / "results") / "report.html"


def start_chromium(chromium: str, profile: Path, *args: str) -> subprocess.Popen[str]:
    cmd = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen[str]) -> tuple[str, str]:
    try:
        out, err = proc.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(f"chromium did not finish within {TIMEOUT_S} s")
    assert proc.returncode == 0, f"chromium exited {proc.returncode}: {err[-2000:]}"
    return out, err


@pytest.mark.slow
def test_compare_report_renders_offline_in_chromium(tmp_path: Path) -> None:
    chromium = find_chromium()
    if chromium is None:
        pytest.skip(
            "no chromium, chromium-browser or google-chrome on PATH (apt-get install chromium)"
        )
    url = compare_page(tmp_path).as_uri()
    # Two browsers at once: one dumps the DOM, one takes the screenshot.
    dump = start_chromium(
        chromium, tmp_path / "profile-dom", "--enable-logging=stderr", "--v=0", "--dump-dom", url
    )
    shot = start_chromium(
        chromium, tmp_path / "profile-shot", f"--screenshot={tmp_path / 'report.png'}", url
    )
    dom, log = finish(dump)
    finish(shot)

    match = re.search(r'<div id="report-status"([^>]*)>([^<]*)</div>', dom)
    assert match, "the page's status script never ran"
    attrs, status = match.group(1), json.loads(html.unescape(match.group(2)))
    assert 'data-done="1"' in attrs
    assert status["errors"] == [], f"script or console errors: {status['errors']}"
    assert status["resources"] == [], f"the page fetched resources: {status['resources']}"
    assert status["rendered"] == COMPARE_CHARTS
    assert status["overflowX"] <= 0, "the page scrolls sideways at 1366 px"
    assert dom.count('class="main-svg"') >= len(COMPARE_CHARTS)
    assert "Synthetic sample data" in dom, "the synthetic banner is missing"
    assert "Uncaught" not in log
    assert (tmp_path / "report.png").stat().st_size > 10_000
