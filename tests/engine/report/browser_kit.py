"""Headless Chromium for the report browser tests: the network off, a DOM dump and a screenshot.

Shared by tests/engine/test_report_browser.py, test_grid_report_browser.py and
test_compare_report_browser.py (imported as ``browser_kit``: pytest's default "prepend" import mode
puts this folder on sys.path). Each report page writes its render state into a hidden
``#report-status`` element (charts drawn, script errors and console.error calls, resources fetched,
sideways overflow); ``check_page`` reads it from the DOM Chromium dumps. The test modules register
this module for pytest's assertion rewriting before importing it, so its asserts report their
operands as the tests' own do.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

TIMEOUT_S = 60
NO_CHROMIUM = "no chromium, chromium-browser or google-chrome on PATH (apt-get install chromium)"
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


@dataclass(frozen=True)
class Rendered:
    """What Chromium made of a page: the dumped DOM, its stderr log and the screenshot's path."""

    dom: str
    log: str
    screenshot: Path


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


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


def render(chromium: str, url: str, tmp_path: Path) -> Rendered:
    """Open ``url`` in two browsers at once: one dumps the DOM, one saves tmp_path/report.png."""
    screenshot = tmp_path / "report.png"
    dump = start_chromium(
        chromium, tmp_path / "profile-dom", "--enable-logging=stderr", "--v=0", "--dump-dom", url
    )
    shot = start_chromium(chromium, tmp_path / "profile-shot", f"--screenshot={screenshot}", url)
    dom, log = finish(dump)
    finish(shot)
    return Rendered(dom=dom, log=log, screenshot=screenshot)


def read_status(dom: str) -> dict[str, Any]:
    """The page's ``#report-status`` JSON, once its status script has run and finished."""
    match = re.search(r'<div id="report-status"([^>]*)>([^<]*)</div>', dom)
    assert match, "the page's status script never ran"
    attrs, status = match.group(1), json.loads(html.unescape(match.group(2)))
    assert 'data-done="1"' in attrs
    return status


def check_page(
    page: Rendered, charts: list[str], dom_shows: Mapping[str, str] | None = None
) -> None:
    """Every chart in ``charts`` drawn, in order, with no errors, fetches or sideways scrolling.

    ``dom_shows`` maps text the dumped DOM must contain to the message given when it does not.
    """
    status = read_status(page.dom)
    assert status["errors"] == [], f"script or console errors: {status['errors']}"
    assert status["resources"] == [], f"the page fetched resources: {status['resources']}"
    assert status["rendered"] == charts
    assert status["overflowX"] <= 0, "the page scrolls sideways at 1366 px"
    assert page.dom.count('class="main-svg"') >= len(charts)
    for text, message in (dom_shows or {}).items():
        assert text in page.dom, message
    assert "Uncaught" not in page.log
    assert page.screenshot.stat().st_size > 10_000
