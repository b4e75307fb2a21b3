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
# Horizontal, below the plot: clear of the toolbar (top right) however many entries wrap.
_LEGEND = {"orientation": "h", "yanchor": "top", "y": -0.12, "xanchor": "left", "x": 0.0}


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
            dtype = "f4" if value.dtype == np.float32 else "f8"  # float32 stays float32
            data = np.ascontiguousarray(value, dtype=f"<{dtype}").tobytes()
            return {"dtype": dtype, "bdata": base64.b64encode(data).decode("ascii")}
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
    layout = fig.get("layout", {})
    legend = {**_LEGEND, **layout.get("legend", {})}  # a chart may add to it (e.g. groupclick)
    shared = {"template": TEMPLATE, "margin": _MARGIN, "legend": legend, "height": height_px}
    return {**layout, **shared}


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


# --- a small, self-contained plotly.js for long pages -----------------------------------------

# plotly.js's "cartesian" partial bundle (npm plotly.js-cartesian-dist-min 4.1.1, MIT licence in
# its header), gzipped (mtime 0): 1.5 MB of JavaScript in 0.5 MB. It draws these trace types only.
CARTESIAN_BUNDLE = Path(__file__).with_name("plotly-cartesian.min.js.gz")
CARTESIAN_TRACES = (
    "bar", "box", "contour", "heatmap", "histogram", "histogram2d", "histogram2dcontour", "image",
    "pie", "scatter", "scatterternary", "violin",
)  # fmt: skip

# A raw-deflate decoder (RFC 1951, after zlib's puff.c): ccInflate(bytes, size) -> Uint8Array.
# Synchronous, so plotly.js is defined before the first chart's script runs, as with a plain
# <script>; ~50 ms for the bundle. DecompressionStream would be asynchronous.
INFLATE_JS = """
function ccInflate(src,n){var out=new Uint8Array(n),pos=0,o=0,bb=0,bc=0;
function bits(k){while(bc<k){bb|=src[pos++]<<bc;bc+=8;}var v=bb&((1<<k)-1);bb>>>=k;bc-=k;return v;}
function build(ls,off,m){var cnt=new Int16Array(16),offs=new Int16Array(16),sym=new Int16Array(m),i;
for(i=0;i<m;i++)cnt[ls[off+i]]++;cnt[0]=0;for(i=1;i<16;i++)offs[i]=offs[i-1]+cnt[i-1];
for(i=0;i<m;i++)if(ls[off+i])sym[offs[ls[off+i]]++]=i;return{c:cnt,s:sym};}
function decode(t){var code=0,first=0,index=0,len,c;for(len=1;len<16;len++){code|=bits(1);c=t.c[len];
if(code-c<first)return t.s[index+code-first];index+=c;first=(first+c)<<1;code<<=1;}
throw Error("bad deflate data");}
var LB=[3,4,5,6,7,8,9,10,11,13,15,17,19,23,27,31,35,43,51,59,67,83,99,115,131,163,195,227,258],
LE=[0,0,0,0,0,0,0,0,1,1,1,1,2,2,2,2,3,3,3,3,4,4,4,4,5,5,5,5,0],
DB=[1,2,3,4,5,7,9,13,17,25,33,49,65,97,129,193,257,385,513,769,1025,1537,2049,3073,4097,6145,
8193,12289,16385,24577],
DE=[0,0,0,0,1,1,2,2,3,3,4,4,5,5,6,6,7,7,8,8,9,9,10,10,11,11,12,12,13,13],
ORD=[16,17,18,0,8,7,9,6,10,5,11,4,12,3,13,2,14,1,15],last,type,i,s,len,d,lt,dt,ls;
do{last=bits(1);type=bits(2);
if(type===0){bits(bc&7);pos-=bc>>3;bb=bc=0;len=src[pos]|src[pos+1]<<8;pos+=4;
out.set(src.subarray(pos,pos+len),o);o+=len;pos+=len;continue;}
if(type===1){ls=new Uint8Array(320);for(i=0;i<288;i++)ls[i]=i<144?8:i<256?9:i<280?7:8;
for(i=288;i<318;i++)ls[i]=5;lt=build(ls,0,288);dt=build(ls,288,30);}
else if(type===2){var hl=bits(5)+257,hd=bits(5)+1,hc=bits(4)+4,cl=new Uint8Array(19);
for(i=0;i<hc;i++)cl[ORD[i]]=bits(3);var ct=build(cl,0,19);ls=new Uint8Array(hl+hd);
for(i=0;i<hl+hd;){s=decode(ct);if(s<16){ls[i++]=s;continue;}
var rep,val=0;if(s===16){val=ls[i-1];rep=3+bits(2);}else if(s===17)rep=3+bits(3);else rep=11+bits(7);
while(rep--)ls[i++]=val;}lt=build(ls,0,hl);dt=build(ls,hl,hd);}
else throw Error("bad deflate block");
for(;;){s=decode(lt);if(s<256){out[o++]=s;continue;}if(s===256)break;s-=257;
len=LB[s]+bits(LE[s]);d=decode(dt);d=DB[d]+bits(DE[d]);for(i=0;i<len;i++,o++)out[o]=out[o-d];}
}while(!last);return out;}
"""


@cache
def packed_plotlyjs() -> str:
    """A script body that defines ``Plotly`` as a plain plotly.js ``<script>`` would, from the
    gzipped cartesian bundle inlined as base64 (~0.66 MB instead of plotly.min.js's 4.8 MB):
    decoded by ``INFLATE_JS`` and run at once, offline. Draws ``CARTESIAN_TRACES`` only."""
    gz = CARTESIAN_BUNDLE.read_bytes()
    if gz[:4] != b"\x1f\x8b\x08\x00":  # gzip, deflate, no optional header fields
        raise RuntimeError(f"{CARTESIAN_BUNDLE} is not a plain gzip file; reinstall crosscurrent")
    size = int.from_bytes(gz[-4:], "little")
    packed = base64.b64encode(gz[10:-8]).decode("ascii")  # the raw deflate stream
    return (
        f'{INFLATE_JS}(function(){{var b=atob("{packed}"),a=new Uint8Array(b.length);'
        "for(var i=0;i<b.length;i++)a[i]=b.charCodeAt(i);"
        f"(0,eval)(new TextDecoder().decode(ccInflate(a,{size})));}})();"
    )


# --- figures on a page that writes its sessions once ------------------------------------------


def sessions_script(dates: list[str]) -> str:
    """Script body declaring a page's session dates once, and ``ccSessions``, which hands them to
    the traces ``sessions_div`` wrote without their own x (one ~90 kB list per 26 years, instead
    of one per trace)."""
    return (
        f"var ccDates={to_json(dates)};"
        "function ccSessions(d,ix){for(var i=0;i<ix.length;i++){d[ix[i]].x=ccDates;}return d;}"
    )


def sessions_div(fig: dict[str, Any], div_id: str, dates: list[str]) -> str:
    """``figure_div`` of a full figure (data + ``page_layout``) for a page that declared
    ``sessions_script(dates)``: a trace whose x is ``dates`` takes the page's list, and float
    arrays are written as float32 (7 significant digits: ample for a chart, half the bytes)."""
    data, shared = [], []
    for i, trace in enumerate(fig["data"]):
        out = {}
        for key, value in trace.items():
            if isinstance(value, np.ndarray) and value.dtype == np.float64:
                value = value.astype(np.float32)
            out[key] = value
        x = out.get("x")
        if isinstance(x, list) and len(x) == len(dates) and x == dates:
            del out["x"]
            shared.append(i)
        data.append(out)
    height_px = fig["layout"]["height"]
    return (
        f'<div style="height:{height_px}px; width:100%;">'
        f'<div id="{div_id}" class="plotly-graph-div" style="height:100%; width:100%;"></div>'
        f'<script>Plotly.newPlot("{div_id}",ccSessions({to_json(data)},{to_json(shared)}),'
        f"{to_json(fig['layout'])},{to_json(PLOTLY_CONFIG)});</script></div>"
    )
