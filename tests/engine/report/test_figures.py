"""Tests for engine.report.figures: the dict figures draw what plotly.graph_objects would, the JSON is
plotly's, and no report path imports plotly.graph_objects."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest
from plotly.io.json import to_json_plotly
from plotly.offline import get_plotlyjs

from engine.report.figures import (
    CARTESIAN_BUNDLE,
    CARTESIAN_TRACES,
    RDBU,
    RDYLGN,
    figure_div,
    hline,
    packed_plotlyjs,
    plotlyjs,
    sessions_div,
    sessions_script,
    to_json,
    vline,
)

ROOT = Path(__file__).resolve().parents[3]


def newplot_args(fragment: str) -> list:
    """The data, layout and config passed to Plotly.newPlot in a fragment, parsed."""
    decoder = json.JSONDecoder()
    pos = re.search(r'Plotly\.newPlot\(\s*"[^"]+",\s*', fragment).end()
    args = []
    for _ in range(3):
        value, pos = decoder.raw_decode(fragment, pos)
        args.append(value)
        pos = re.compile(r"[\s,]*").match(fragment, pos).end()
    return args


def plotly_fragment(fig: go.Figure, div_id: str, height_px: int) -> str:
    # What the charts did before engine.report.figures: validated figures written by plotly.
    fig.update_layout(template=go.layout.Template(layout={"colorway": ["#636efa"]}))
    fig.update_layout(height=height_px)
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id)


def test_a_dict_figure_draws_what_plotly_graph_objects_draws() -> None:
    y = np.array([1.0, np.nan, 3.0])
    x = ["2020-01-01", "2020-01-02", "2020-01-03"]
    line = {"width": 1, "color": "#888888"}
    fig = go.Figure(go.Scatter(x=x, y=y, name="a", hovertemplate="%{y}<extra></extra>"))
    fig.add_trace(go.Heatmap(z=[[0.1, None]], colorscale="RdYlGn", zmid=0.0))
    fig.add_trace(go.Heatmap(z=[[0.2]], colorscale="RdBu", reversescale=True))
    fig.add_hline(y=0.0, line=line)
    fig.add_vline(x=1.5, line=line)
    fig.update_yaxes(type="log", title_text="equity")
    ours = {
        "data": [
            {"type": "scatter", "x": x, "y": y, "name": "a",
             "hovertemplate": "%{y}<extra></extra>"},
            {"type": "heatmap", "z": [[0.1, None]], "colorscale": RDYLGN, "zmid": 0.0},
            {"type": "heatmap", "z": [[0.2]], "colorscale": RDBU, "reversescale": True},
        ],
        "layout": {
            "shapes": [hline(0.0, line), vline(1.5, line)],
            "yaxis": {"type": "log", "title": {"text": "equity"}},
        },
    }  # fmt: skip
    data, layout, config = newplot_args(figure_div(ours, "chart-x", 300))
    want_data, want_layout, _ = newplot_args(plotly_fragment(fig, "chart-x", 300))
    assert data == want_data  # NaN survives in the typed array: a gap, as before
    assert {k: v for k, v in layout.items() if k not in ("template", "margin", "legend")} == {
        k: v for k, v in want_layout.items() if k != "template"
    }
    assert layout["template"]["layout"]["plot_bgcolor"] == "white"
    assert config == {"responsive": True, "displaylogo": False}


def test_the_fragment_has_a_fixed_id_and_height_and_no_plotlyjs() -> None:
    fragment = figure_div({"data": [{"type": "scatter", "y": [1, 2]}]}, "chart-y", 260)
    assert '<div style="height:260px; width:100%;">' in fragment
    assert '<div id="chart-y" class="plotly-graph-div"' in fragment
    assert newplot_args(fragment)[1]["height"] == 260
    assert "<script src" not in fragment and "mathjax" not in fragment.lower()


def test_json_is_plotlys_strict_and_script_safe() -> None:
    value = {"y": [1.0, float("nan"), float("inf"), None], "t": "a</script><br>é", "n": 3}
    text = to_json(value)
    assert text == to_json_plotly(value)
    assert json.loads(text, parse_constant=pytest.fail)["y"] == [1.0, None, None, None]
    assert "</" not in text and "<" not in text
    assert to_json({"y": np.array([], dtype=float), "i": np.int64(4)}) == '{"y":[],"i":4}'


def test_plotlyjs_is_plotlys_bundle() -> None:
    assert plotlyjs() == get_plotlyjs()


def test_float32_arrays_are_written_as_typed_float32_arrays() -> None:
    import base64

    y = np.array([1.5, np.nan, 3.25], dtype=np.float32)
    encoded = json.loads(to_json({"y": y}))["y"]
    assert encoded["dtype"] == "f4"  # a plotly.js typed array, as plotly.py writes float32
    decoded = np.frombuffer(base64.b64decode(encoded["bdata"]), dtype="<f4")
    assert np.array_equal(decoded, y, equal_nan=True)


def test_the_packed_bundle_is_plotlys_cartesian_bundle() -> None:
    import gzip

    js = gzip.decompress(CARTESIAN_BUNDLE.read_bytes()).decode("utf-8")
    assert js.startswith("/**\n* plotly.js (cartesian - minified) v")
    for trace in CARTESIAN_TRACES:
        assert f'moduleType:"trace",name:"{trace}"' in js
    packed = packed_plotlyjs()
    assert len(packed) < 700_000 and "ccInflate(a," in packed and "</" not in packed


def test_inflate_js_decodes_what_zlib_writes(tmp_path) -> None:
    """The page's deflate decoder, run by node on every block type zlib writes."""
    import base64
    import shutil
    import zlib

    from engine.report.figures import INFLATE_JS

    node = shutil.which("node")
    if node is None:
        pytest.skip("no node on PATH")
    text = (b"plotly " * 3000) + bytes(range(256)) * 40
    cases = {"dynamic": zlib.compressobj(9, zlib.DEFLATED, -15),
             "fixed": zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_FIXED),
             "stored": zlib.compressobj(0, zlib.DEFLATED, -15)}  # fmt: skip
    script = [INFLATE_JS, "var ok=[];"]
    want = base64.b64encode(text).decode()
    for comp in cases.values():
        raw = list(comp.compress(text) + comp.flush())
        script.append(
            f"var o=ccInflate(new Uint8Array({raw}),{len(text)});"
            f"ok.push(Buffer.from(o).toString('base64')==='{want}');"
        )
    script.append("console.log(JSON.stringify(ok));")
    path = tmp_path / "inflate.js"
    path.write_text("\n".join(script))
    done = subprocess.run([node, str(path)], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[true,true,true]", done.stderr


def test_sessions_div_shares_the_session_list() -> None:
    dates = ["2020-01-01", "2020-01-02", "2020-01-03"]
    fig = {"data": [{"type": "scatter", "x": list(dates), "y": np.array([1.0, 2.0, 3.0])},
                    {"type": "scatter", "x": dates[:1], "y": np.array([1.0])}],
           "layout": {"height": 200}}  # fmt: skip
    fragment = sessions_div(fig, "chart-z", dates)
    assert 'Plotly.newPlot("chart-z",ccSessions([' in fragment and "],[0])," in fragment
    assert fragment.count("2020-01-02") == 0 and fragment.count("2020-01-01") == 1
    assert '"dtype":"f4"' in fragment
    assert sessions_script(dates).startswith('var ccDates=["2020-01-01",')


@pytest.mark.slow
def test_no_report_path_imports_plotly_graph_objects() -> None:
    code = """
import sys
sys.path.insert(0, "tests/engine/report")
import numpy as np, pandas as pd
from test_run_page import make_context
from test_grid_page import make_context as make_grid_context
from engine.report.run_page import render_report
from engine.report.grid_page import render_grid_report
from engine.report import compare_charts as cc
page = render_report(make_context())
grid = render_grid_report(make_grid_context())
equity = make_context().equity
frame = pd.DataFrame({"a": equity, "b": equity * 1.1})
cc.equity_overlay_chart(frame, ("bench", equity), "AUD")
cc.drawdown_overlay_chart(frame)
cc.correlation_chart(frame.pct_change().corr())
test = {"input": "b", "p_value": 0.5, "difference": 0.1, "difference_ci": (-0.2, 0.4)}
assert cc.sharpe_diff_chart([test], ["a", "b"], 0.95).fragment
assert "Plotly.newPlot" in page and "Plotly.newPlot" in grid
loaded = sorted(m for m in sys.modules if m.startswith(("plotly.graph_obj", "plotly.io")))
assert not loaded, loaded
"""
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
