"""Every chart of a page drew its data: the traces each chart's ``Plotly.newPlot`` call was given
(read from the page's HTML) against the trace groups Chromium drew (read from the dumped DOM).

Shared by the grid, compare and events browser tests (imported as ``trace_kit``, like
``browser_kit``). ``check_traces`` fails when a chart has a trace without points, or drew fewer
trace groups than it was given, or drew a group with nothing in it (no line, fill, marker or
heatmap image). A trace hidden until its legend entry is clicked (``visible: "legendonly"``) must
still have points but is not drawn.
"""

from __future__ import annotations

import base64
import json
import re

_DRAWN = re.compile(r'd="M[-\d.]|class="point"|<image ')
_GROUP = re.compile(r'<g class="(?:trace (?:scatter|bars)\b|hm")')  # heatmaps draw a g.hm


def _length(values: object) -> int:
    if isinstance(values, dict) and "bdata" in values:  # a typed array (float64 or 32), base64
        return len(base64.b64decode(values["bdata"])) // (4 if values.get("dtype") == "f4" else 8)
    if isinstance(values, list):
        return (
            sum(1 for v in values if v is not None)
            if values and not isinstance(values[0], list)
            else sum(_length(row) for row in values)
        )
    return 0


def page_traces(page_html: str) -> dict[str, list[dict]]:
    """Chart div id -> the traces its ``Plotly.newPlot`` call draws, in page order."""
    decoder = json.JSONDecoder()
    out = {}
    # A chart on the page's shared sessions is newPlot("id",ccSessions([traces],[...]),...).
    for match in re.finditer(r'Plotly\.newPlot\("([^"]+)",(?:ccSessions\()?', page_html):
        data, _ = decoder.raw_decode(page_html, match.end())
        out[match.group(1)] = data
    return out


def points(trace: dict) -> int:
    """How many values the trace plots (z cells for a heatmap, else y or x values)."""
    for key in ("z", "y", "x"):
        if key in trace:
            return _length(trace[key])
    return 0


def check_traces(page_html: str, dom: str, expected: dict[str, int]) -> None:
    """Each chart in ``expected`` (div id -> number of traces) has that many traces, each with
    points, and Chromium drew each one with something in it."""
    traces = page_traces(page_html)
    assert list(traces) == list(expected), "the page's charts differ from those expected"
    starts = sorted((dom.index(f'id="{cid}"'), cid) for cid in expected)
    bounds = [pos for pos, _ in starts[1:]] + [len(dom)]
    for (start, cid), end in zip(starts, bounds, strict=True):
        given = traces[cid]
        assert len(given) == expected[cid], f"{cid}: {len(given)} traces, not {expected[cid]}"
        empty = [t.get("name", i) for i, t in enumerate(given) if points(t) == 0]
        assert not empty, f"{cid}: traces without data: {empty}"
        shown = [t for t in given if t.get("visible", True) not in ("legendonly", False)]
        groups = _GROUP.split(dom[start:end])[1:]
        assert len(groups) >= len(shown), f"{cid}: drew {len(groups)} of {len(shown)} traces"
        blank = [i for i, g in enumerate(groups[: len(shown)]) if not _DRAWN.search(g)]
        assert not blank, f"{cid}: trace groups {blank} drew nothing"
