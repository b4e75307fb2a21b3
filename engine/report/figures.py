"""Report charts as plain plotly figure dicts, and the HTML that draws them, without plotly itself.

Lives here: the look every report chart shares (``TEMPLATE``, a few lines of plotly_white; margins;
legend; ``PLOTLY_CONFIG``), the two diverging colour scales the heatmaps use, lines across a plot
(``hline``, ``vline``), ``to_json`` and ``figure_div``, which writes a figure as a deterministic
HTML fragment, and ``plotlyjs``, the plotly.js bundle each page inlines once. Not here: what each
chart plots (``engine.report.run_charts``, ``engine.report.grid_charts``, ``engine.report.compare_page``).

A figure is ``{"data": [trace, ...], "layout": {...}}`` with traces such as
``{"type": "scatter", ...}``, exactly what plotly.js takes. ``plotly.graph_objects`` would validate
every property and value and its import is slow: together most of a report's render time. So
nothing here imports plotly; the fragment holds the divs and ``Plotly.newPlot`` call that
``plotly.io.to_html`` writes, and the JSON is plotly's: float numpy arrays as base64 typed arrays
(NaN stays a gap), any other non-finite float as null, and ``<``, ``>``, ``/`` escaped so no string
can close the ``<script>``.
"""

from __future__ import annotations

import base64
import importlib.util
import json
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

_AXIS = {"gridcolor": "#EBF0F8", "zerolinecolor": "#EBF0F8", "linecolor": "#EBF0F8"}
# A few lines of plotly_white: the full named template is ~8 kB per chart.
TEMPLATE = {
    "layout": {
        "colorway": ["#636efa", "#EF553B", "#00cc96", "#ab63fa", "#FFA15A", "#19d3f3", "#FF6692"],
        "font": {"color": "#2a3f5f"},
        "hoverlabel": {"align": "left"},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "xaxis": _AXIS,
        "yaxis": _AXIS,
    }
}
PLOTLY_CONFIG = {"responsive": True, "displaylogo": False}
_MARGIN = {"l": 60, "r": 20, "t": 40, "b": 40}
_LEGEND = {"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "left", "x": 0.0}


def _scale(colours: str) -> list[list]:
    # A named colour scale as plotly.py spells it out: evenly spaced stops from 0 to 1.
    rgb = [f"rgb({c})" for c in colours.split()]
    return [[i / (len(rgb) - 1), c] for i, c in enumerate(rgb)]


# ColorBrewer's diverging scales, red at 0: what plotly.py sends for "RdYlGn" and "RdBu".
RDYLGN = _scale(
    "165,0,38 215,48,39 244,109,67 253,174,97 254,224,139 255,255,191 "
    "217,239,139 166,217,106 102,189,99 26,152,80 0,104,55"
)
RDBU = _scale(
    "103,0,31 178,24,43 214,96,77 244,165,130 253,219,199 247,247,247 "
    "209,229,240 146,197,222 67,147,195 33,102,172 5,48,97"
)


def hline(y: float, line: dict[str, Any]) -> dict[str, Any]:
    """A layout shape: a horizontal line at ``y`` across the whole plot."""
    return {"type": "line", "line": line, "xref": "x domain", "x0": 0, "x1": 1,
            "yref": "y", "y0": y, "y1": y}  # fmt: skip


def vline(x: float, line: dict[str, Any]) -> dict[str, Any]:
    """A layout shape: a vertical line at ``x`` across the whole plot."""
    return {"type": "line", "line": line, "xref": "x", "x0": x, "x1": x,
            "yref": "y domain", "y0": 0, "y1": 1}  # fmt: skip


def _encode(value: object) -> object:
    # Called by json.dumps for what it cannot write itself: numpy arrays and scalars.
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "f" and value.ndim == 1 and value.size:
            data = np.ascontiguousarray(value, dtype="<f8").tobytes()
            return {"dtype": "f8", "bdata": base64.b64encode(data).decode("ascii")}
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"a plotly figure cannot hold a {type(value).__name__}")


def to_json(value: object) -> str:
    """``value`` as compact JSON for plotly.js, written as plotly's own encoder writes it."""
    text = json.dumps(value, separators=(",", ":"), default=_encode)
    if "NaN" in text or "Infinity" in text:  # non-finite floats outside numpy arrays: null
        text = json.dumps(json.loads(text, parse_constant=lambda _: None), separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("/", "\\u002f")


def page_layout(fig: dict[str, Any], height_px: int) -> dict[str, Any]:
    """``fig``'s layout with what every report chart shares: template, margins, legend, height."""
    shared = {"template": TEMPLATE, "margin": _MARGIN, "legend": _LEGEND, "height": height_px}
    return {**fig.get("layout", {}), **shared}


def figure_div(fig: dict[str, Any], div_id: str, height_px: int) -> str:
    """Return ``fig`` as an HTML fragment with a fixed div id, no plotly.js and no MathJax.

    Adds the shared template, margins, legend and the height. The fixed id (plotly otherwise draws
    a random one) is what makes the page byte-identical across runs; plotly.js itself is embedded
    once by the page, not per figure.
    """
    data = to_json(fig["data"])
    layout = to_json(page_layout(fig, height_px))
    config = to_json(PLOTLY_CONFIG)
    return (
        f'<div style="height:{height_px}px; width:100%;">'
        f'<div id="{div_id}" class="plotly-graph-div" style="height:100%; width:100%;"></div>'
        f'<script>Plotly.newPlot("{div_id}",{data},{layout},{config});</script></div>'
    )


@cache
def plotlyjs() -> str:
    """The minified plotly.js that the installed plotly ships (read without importing plotly)."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("plotly is not installed: its plotly.js bundle is needed for reports")
    folder = Path(next(iter(spec.submodule_search_locations)))
    return (folder / "package_data" / "plotly.min.js").read_bytes().decode("utf-8")
