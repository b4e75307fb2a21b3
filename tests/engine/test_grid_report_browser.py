"""The grid report in a real browser: headless Chromium, network off, every chart drawn, no errors.

As for the run report (tests/engine/test_report_browser.py), the page writes its render state into
a hidden ``#report-status`` element that this test reads from the DOM Chromium dumps. The grid is
synthetic: three varied parameters (two numeric, one categorical with markup in a value), so the
page has three line charts, three heatmaps and the winner's equity and drawdown. A screenshot at
laptop size (1366x768) is left in the test's tmp_path.
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

from engine.grid import rank
from engine.grid_report import GridReportContext, write_grid_report
from engine.report import ReportContext

CHART_IDS = [
    *(f"chart-param-{i}" for i in range(3)),
    *(f"chart-pair-{k}" for k in range(3)),
    "chart-equity",
    "chart-drawdown",
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
    honesty = {
        "trials": n, "deflated_sharpe": 0.42, "expected_max_sharpe_annualised": 0.9, "pbo": 0.55,
        "splits": 6435, "logit_median": -0.2, "sharpe_ci95": (-0.3, 1.1),
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
def test_grid_report_renders_offline_in_chromium(tmp_path: Path) -> None:
    chromium = find_chromium()
    if chromium is None:
        pytest.skip(
            "no chromium, chromium-browser or google-chrome on PATH (apt-get install chromium)"
        )
    page = tmp_path / "report.html"
    write_grid_report(page, grid_context())
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
    assert ">&lt;b&gt;cash&lt;/b&gt;</text>" in dom, "a tick label's markup must show as text"
    assert "Uncaught" not in log
    assert (tmp_path / "report.png").stat().st_size > 10_000
