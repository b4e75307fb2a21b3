"""The report in a real browser: headless Chromium, network off, every chart drawn, no errors.

The page writes its own render state into a hidden ``#report-status`` element (charts drawn, script
errors and console.error calls, resources fetched, sideways overflow); this test reads it from the
DOM that Chromium dumps. A screenshot at laptop size (1366x768) is left in the test's tmp_path.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.report import ReportContext, write_report

CHART_IDS = [
    "chart-equity",
    "chart-drawdown",
    "chart-weights",
    "chart-monthly",
    "chart-rolling-sharpe",
]
TIMEOUT_S = 60
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
def test_report_renders_offline_in_chromium(tmp_path: Path) -> None:
    chromium = find_chromium()
    if chromium is None:
        pytest.skip(
            "no chromium, chromium-browser or google-chrome on PATH (apt-get install chromium)"
        )
    page = tmp_path / "report.html"
    write_report(page, small_context())
    url = page.as_uri()
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
    assert status["rendered"] == CHART_IDS
    assert status["overflowX"] <= 0, "the page scrolls sideways at 1366 px"
    assert dom.count('class="main-svg"') >= len(CHART_IDS)
    assert "Uncaught" not in log
    assert (tmp_path / "report.png").stat().st_size > 10_000
