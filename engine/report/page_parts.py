"""What every report page shares (the run, grid and compare pages): the validation of curves'
indexes and values, the formatting of plain values (parameters, provenance), escaping, the page's
CSS, error hook and render-status script, the synthetic-data note and banner, and the sections
that look the same on every page (key-value tables, notes, data provenance, a chart).

Not here: metric labels and formats (``engine.stats.spec``), the pages themselves
(``engine.report.run_page``, ``grid_page``, ``compare_page``) or their charts.
"""

from __future__ import annotations

import datetime as dt
import html
import math
from collections.abc import Mapping, Sequence
from typing import NoReturn

import numpy as np
import pandas as pd

from engine.report.run_charts import Chart

SYNTHETIC_NOTE = "synthetic sample data: numbers illustrate the engine, not market history"
SYNTHETIC_BANNER = (
    "Synthetic sample data — not market history. Numbers illustrate the engine, not the strategy."
)
PROVENANCE_COLUMNS = ("key", "name", "source", "first", "last", "rows", "returns")


# --- validation -------------------------------------------------------------------------------


def fail(field: str, problem: str, found: object, fix: str) -> NoReturn:
    """A ``ReportContext`` field is wrong: say which, what was found and how to fix it."""
    raise ValueError(f"ReportContext.{field}: {problem}; found {found}. Fix: {fix}.")


def _index_difference(index: object, reference: pd.DatetimeIndex) -> str:
    if not isinstance(index, pd.DatetimeIndex):
        return f"a {type(index).__name__}, not a DatetimeIndex"
    if len(index) != len(reference):
        return f"{len(index)} rows vs {len(reference)} sessions"
    if index.tz != reference.tz:
        return f"time zone {index.tz} vs {reference.tz}"
    i = int(np.argmax(index.to_numpy() != reference.to_numpy()))
    return f"row {i} is {fmt_date(index[i])} where equity has {fmt_date(reference[i])}"


def check_index(field: str, index: object, reference: pd.DatetimeIndex | None) -> None:
    """Equity's index must be sorted, unique, tz-naive dates; every other index must equal it."""
    if reference is not None:
        if not (isinstance(index, pd.DatetimeIndex) and index.equals(reference)):
            found = _index_difference(index, reference)
            fail(field, "index differs from equity's", found, "reindex it to equity.index")
        return
    if not isinstance(index, pd.DatetimeIndex):
        fail(field, "index is not dates", type(index).__name__, "use a pd.DatetimeIndex")
    if index.tz is not None:
        fail(field, "index is tz-aware", str(index.tz), "use tz-naive session dates")
    if not (index.is_monotonic_increasing and index.is_unique):
        found = f"{index.duplicated().sum()} duplicate dates"
        fail(field, "index is not sorted and unique", found, "sort it and drop duplicates")


def check_values(field: str, values: np.ndarray, allow_nan: bool) -> None:
    bad = ~np.isfinite(values)
    if allow_nan:
        bad &= ~np.isnan(values)
    if bad.any():
        found = f"{int(bad.sum())} (e.g. {values[bad][0]})"
        fail(field, "has non-finite values", found, "drop or fill them first")


def as_floats(field: str, obj: pd.Series | pd.DataFrame) -> np.ndarray:
    try:
        return np.asarray(obj.to_numpy(), dtype=float)
    except (TypeError, ValueError):
        fail(field, "is not numeric", str(getattr(obj, "dtypes", "?")), "pass float values")


# --- formatting -------------------------------------------------------------------------------


def is_missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float | np.floating) and math.isnan(value)


def fmt_date(value: object) -> str:
    try:
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    except (TypeError, ValueError):
        return str(value)


def fmt_value(value: object) -> str:
    """Generic formatting for parameters and unknown metrics (not escaped)."""
    if is_missing(value):
        return "—"
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return format(float(value), ".6g")
    if isinstance(value, pd.Timestamp | dt.date | np.datetime64):
        stamp = pd.Timestamp(value)
        return fmt_date(stamp) if stamp == stamp.normalize() else stamp.isoformat()
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={fmt_value(v)}" for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(fmt_value(v) for v in value)
    return str(value)


# --- sections ---------------------------------------------------------------------------------


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def kv_table(rows: Sequence[tuple[str, str]], caption: str, css: str = "kv") -> str:
    body = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows)
    return f'<table class="{css}"><caption>{esc(caption)}</caption><tbody>{body}</tbody></table>'


def notes_section(notes: Sequence[str]) -> str:
    if not notes:
        return ""
    items = "".join(f"<li>{esc(n)}</li>" for n in notes)
    return f'<section class="notes"><h2>Notes and warnings</h2><ul>{items}</ul></section>'


def provenance_section(provenance: Sequence[Mapping[str, object]]) -> str:
    # Known columns first in a fixed order, then any extra keys in the order they first appear.
    extra = [k for row in provenance for k in row if k not in PROVENANCE_COLUMNS]
    columns = [*PROVENANCE_COLUMNS, *dict.fromkeys(extra)]
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)

    def cell(col: str, value: object) -> str:
        text = fmt_date(value) if col in ("first", "last") and not is_missing(value) else value
        return f"<td>{esc(fmt_value(text))}</td>"

    body = "".join(
        "<tr>" + "".join(cell(c, row.get(c)) for c in columns) + "</tr>" for row in provenance
    )
    if not provenance:
        body = f'<tr><td colspan="{len(columns)}">No instruments recorded.</td></tr>'
    return (
        '<section><h2>Data provenance</h2><div class="scroll"><table class="grid provenance">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div></section>"
    )


def chart_section(chart: Chart) -> str:
    inner = chart.fragment or f'<p class="small skipped">{esc(chart.skipped)}</p>'
    return f'<section class="chart"><h2>{esc(chart.heading)}</h2>{inner}</section>'


# --- the page's shell ---------------------------------------------------------------------------

PAGE_CSS = """
table.provenance th,table.provenance td{white-space:nowrap;overflow-wrap:normal}
table.provenance td:nth-child(2),table.provenance td:nth-child(3),
table.provenance td:nth-child(n+8){white-space:normal;overflow-wrap:anywhere;min-width:9em}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
color:#1f2933;background:#f7f8fa}
main{max-width:1240px;margin:0 auto;padding:12px 20px 32px}
h1{font-size:22px;margin:8px 0 4px}h2{font-size:16px;margin:18px 0 6px}
.banner{background:#fff3cd;border:1px solid #e0b84c;color:#6b4e00;padding:8px 20px;font-weight:600}
.rule{max-width:80ch;margin:4px 0 8px}
.cols{display:grid;grid-template-columns:repeat(auto-fit,minmax(340px,1fr));gap:0 24px}
table{border-collapse:collapse;background:#fff;width:100%}
caption{text-align:left;font-weight:600;padding:6px 0}
th,td{padding:3px 8px;border-bottom:1px solid #e4e7eb;text-align:left;vertical-align:top;
overflow-wrap:anywhere}
table.kv td{text-align:right;font-variant-numeric:tabular-nums}
table.grid th{background:#eef1f4}
.scroll{overflow-x:auto}
.small{font-size:12px;color:#52606d}
.notes ul{margin:0;padding-left:20px}.notes li{color:#8a4b00}
section.chart{background:#fff;border:1px solid #e4e7eb;padding:4px 8px;margin-top:12px}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:0 12px}.pair>*{min-width:0}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.metrics td.unit{color:#52606d;white-space:nowrap}
footer{margin-top:20px;font-size:12px;color:#7b8794}
#report-status{display:none}
"""

# Runs before plotly so every script error and console.error on the page is recorded.
ERROR_HOOK = """
window.__reportErrors=[];
window.addEventListener("error",function(e){window.__reportErrors.push(String(e.message));});
(function(){var f=console.error;console.error=function(){
window.__reportErrors.push(Array.prototype.join.call(arguments," "));
return f.apply(console,arguments);};
})();
"""

# Writes the render state into a hidden element (#report-status), so a headless browser's dumped
# DOM shows whether every chart drew, how many points each trace of each chart drew (a heatmap's
# cells; 0 for a trace hidden in the legend), what errored, whether anything was fetched and
# whether the page scrolls sideways.
STATUS_SCRIPT = """
(function(){var ids=%s,tries=0;function check(){
var ok=ids.filter(function(id){var d=document.getElementById(id);
return d&&d.querySelector(".plot-container svg.main-svg");});
var res=performance.getEntriesByType("resource").map(function(r){return r.name;});
var s=document.getElementById("report-status");
s.setAttribute("data-expected",ids.length);s.setAttribute("data-rendered",ok.length);
var de=document.documentElement;
var points={};ok.forEach(function(id){points[id]=(document.getElementById(id).calcdata||[]).map(
function(cd){var c=cd[0]||{};if(c.x===false)return 0;
return c.z?c.z.length*(c.z[0]||[]).length:cd.length;});});
s.textContent=JSON.stringify({rendered:ok,points:points,errors:window.__reportErrors,resources:res,
overflowX:de.scrollWidth-de.clientWidth});
if(ok.length<ids.length&&++tries<200){setTimeout(check,50);}else{s.setAttribute("data-done","1");}}
if(document.readyState==="complete"){check();}else{window.addEventListener("load",check);}})();
"""


def page_end(ids_json: str) -> str:
    """The close of every page's ``<main>`` and ``<body>``: the hidden status element and the
    script that fills it (``STATUS_SCRIPT``) for the charts ``ids_json`` (a JSON list of ids)."""
    return (
        '</main><div id="report-status" hidden></div>'
        f"<script>{STATUS_SCRIPT % ids_json}</script></body>"
    )
