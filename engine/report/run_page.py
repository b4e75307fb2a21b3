"""The run report: one self-contained, offline HTML page describing a backtest run.

Lives here: ``ReportContext`` (everything the page shows, validated), the metric formatting table,
the page's tables, banner and layout, and ``render_report`` / ``write_report``. Not here: the charts
(``engine.report.run_charts``), computing metrics (``engine.stats.metrics``), running the backtest
(``engine.backtest.run``) or choosing the output path (the CLI).

The page is built in four steps:

1. ``ReportContext.__post_init__`` checks the curves share one tz-naive, sorted session index.
2. Tables (parameters, metrics, provenance) are rendered from data with every user string escaped.
3. Charts are rendered by ``engine.report.run_charts`` with fixed div ids, so output is byte-identical.
4. plotly.js is inlined once in ``<head>``; nothing is fetched from the network when the page opens.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import numpy as np
import pandas as pd

from engine.report.figures import plotlyjs
from engine.report.run_charts import Chart, build_charts

SYNTHETIC_NOTE = "synthetic sample data: numbers illustrate the engine, not market history"
SYNTHETIC_BANNER = (
    "Synthetic sample data — not market history. Numbers illustrate the engine, not the strategy."
)
PROVENANCE_COLUMNS = ("key", "name", "source", "first", "last", "rows", "returns")


# --- validation -------------------------------------------------------------------------------


def _fail(field: str, problem: str, found: object, fix: str) -> NoReturn:
    raise ValueError(f"ReportContext.{field}: {problem}; found {found}. Fix: {fix}.")


def _index_difference(index: object, reference: pd.DatetimeIndex) -> str:
    if not isinstance(index, pd.DatetimeIndex):
        return f"a {type(index).__name__}, not a DatetimeIndex"
    if len(index) != len(reference):
        return f"{len(index)} rows vs {len(reference)} sessions"
    if index.tz != reference.tz:
        return f"time zone {index.tz} vs {reference.tz}"
    i = int(np.argmax(index.to_numpy() != reference.to_numpy()))
    return f"row {i} is {_fmt_date(index[i])} where equity has {_fmt_date(reference[i])}"


def check_index(field: str, index: object, reference: pd.DatetimeIndex | None) -> None:
    """Equity's index must be sorted, unique, tz-naive dates; every other index must equal it."""
    if reference is not None:
        if not (isinstance(index, pd.DatetimeIndex) and index.equals(reference)):
            found = _index_difference(index, reference)
            _fail(field, "index differs from equity's", found, "reindex it to equity.index")
        return
    if not isinstance(index, pd.DatetimeIndex):
        _fail(field, "index is not dates", type(index).__name__, "use a pd.DatetimeIndex")
    if index.tz is not None:
        _fail(field, "index is tz-aware", str(index.tz), "use tz-naive session dates")
    if not (index.is_monotonic_increasing and index.is_unique):
        found = f"{index.duplicated().sum()} duplicate dates"
        _fail(field, "index is not sorted and unique", found, "sort it and drop duplicates")


def check_values(field: str, values: np.ndarray, allow_nan: bool) -> None:
    bad = ~np.isfinite(values)
    if allow_nan:
        bad &= ~np.isnan(values)
    if bad.any():
        found = f"{int(bad.sum())} (e.g. {values[bad][0]})"
        _fail(field, "has non-finite values", found, "drop or fill them first")


def as_floats(field: str, obj: pd.Series | pd.DataFrame) -> np.ndarray:
    try:
        return np.asarray(obj.to_numpy(), dtype=float)
    except (TypeError, ValueError):
        _fail(field, "is not numeric", str(getattr(obj, "dtypes", "?")), "pass float values")


def _check_markers(markers: Mapping[str, Sequence[pd.Timestamp]]) -> None:
    for label, dates in markers.items():
        field = f"markers[{label!r}]"
        try:
            stamps = pd.DatetimeIndex([pd.Timestamp(d) for d in dates])
        except (TypeError, ValueError) as exc:
            _fail(field, "has a value that is not a date", exc, "pass pd.Timestamp dates")
        if stamps.tz is not None:
            _fail(field, "has tz-aware dates", str(stamps.tz), "pass tz-naive session dates")


# --- the context ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportContext:
    """Everything the report shows. Curves are in base currency on one tz-naive session index.

    ``metrics`` holds fractions (0.05 = 5 %) except ratios; ``weights`` is session x instrument
    end-of-day weights (fractions); ``markers`` maps a label to session dates (a non-session date
    is drawn at the next session); ``provenance`` has one mapping per instrument with the keys in
    ``PROVENANCE_COLUMNS``.
    """

    title: str
    rule: str
    params: Mapping[str, object]
    metrics: Mapping[str, object]
    equity: pd.Series
    benchmarks: Mapping[str, pd.Series]
    weights: pd.DataFrame
    markers: Mapping[str, Sequence[pd.Timestamp]]
    provenance: Sequence[Mapping[str, object]]
    base_currency: str
    synthetic: bool
    notes: Sequence[str] = ()
    annualisation: str = ""
    alerts: Sequence[str] = ()  # shown as banners: what makes the result untradable or empty
    # Trusted HTML sections made by the engine (e.g. the event study), shown before provenance.
    sections: Sequence[str] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.equity, pd.Series) or self.equity.empty:
            found = "an empty Series" if isinstance(self.equity, pd.Series) else type(self.equity)
            _fail("equity", "must be a non-empty pd.Series", found, "pass at least one session")
        check_index("equity", self.equity.index, None)
        check_values("equity", as_floats("equity", self.equity), allow_nan=False)
        sessions = self.equity.index
        for name, curve in self.benchmarks.items():
            field = f"benchmarks[{name!r}]"
            if not isinstance(curve, pd.Series):
                _fail(field, "must be a pd.Series", type(curve).__name__, "pass an equity curve")
            check_index(field, curve.index, sessions)
            # A benchmark may start after the strategy: NaN is a gap, infinity is a bug.
            check_values(field, as_floats(field, curve), allow_nan=True)
        if not isinstance(self.weights, pd.DataFrame) or self.weights.shape[1] == 0:
            found = "no columns" if isinstance(self.weights, pd.DataFrame) else type(self.weights)
            _fail(
                "weights", "must be a DataFrame with columns", found, "pass session x key weights"
            )
        check_index("weights", self.weights.index, sessions)
        check_values("weights", as_floats("weights", self.weights), allow_nan=False)
        _check_markers(self.markers)


# --- formatting -------------------------------------------------------------------------------


def is_missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float | np.floating) and math.isnan(value)


def _fmt_date(value: object) -> str:
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
        return _fmt_date(stamp) if stamp == stamp.normalize() else stamp.isoformat()
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={fmt_value(v)}" for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(fmt_value(v) for v in value)
    return str(value)


def _numeric(fmt: Callable[[float], str]) -> Callable[[object], str]:
    def apply(value: object) -> str:
        if is_missing(value):
            return "n/a"
        if isinstance(value, int | float | np.integer | np.floating):
            return fmt(float(value))
        return fmt_value(value)  # a caller passed text or an object: show it, do not crash

    return apply


# How each kind of metric reads; a metric's kind comes from METRICS, unknown keys use fmt_value.
FORMATTERS: dict[str, Callable[[object], str]] = {
    "pct": _numeric(lambda v: f"{v:.2%}"),
    "ratio": _numeric(lambda v: f"{v:.2f}"),
    "count": _numeric(lambda v: f"{v:,.0f}"),
    "money": _numeric(lambda v: f"{v:,.2f}"),
    "date": lambda v: "—" if is_missing(v) else _fmt_date(v),
    "recovery": lambda v: "not recovered" if is_missing(v) else _fmt_date(v),
}

# metric key -> (label, kind). "{currency}" in a label is replaced by the base currency.
METRICS: dict[str, tuple[str, str]] = {
    "total_return": ("Total return", "pct"),
    "cagr": ("CAGR", "pct"),
    "ann_volatility": ("Annualised volatility", "pct"),
    "sharpe": ("Sharpe ratio", "ratio"),
    "sortino": ("Sortino ratio", "ratio"),
    "max_drawdown": ("Max drawdown", "pct"),
    "max_drawdown_start": ("Max drawdown: peak", "date"),
    "max_drawdown_trough": ("Max drawdown: trough", "date"),
    "max_drawdown_end": ("Max drawdown: recovered", "recovery"),
    "calmar": ("Calmar ratio", "ratio"),
    "exposure": ("Exposure", "pct"),
    "turnover": ("Turnover", "pct"),
    "trade_count": ("Trades", "count"),
    "win_rate": ("Win rate", "pct"),
    "final_equity": ("Final equity ({currency})", "money"),
    "sessions": ("Sessions", "count"),
    "years": ("Years", "ratio"),
}


def format_metric(key: str, value: object, currency: str = "") -> tuple[str, str]:
    """Return (label, formatted value) for one metric; neither is HTML-escaped."""
    label, kind = METRICS.get(key, (key, ""))
    formatter = FORMATTERS.get(kind, fmt_value)
    return label.replace("{currency}", currency), formatter(value)


# --- page sections ----------------------------------------------------------------------------


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _table(rows: Sequence[tuple[str, str]], caption: str, css: str = "kv") -> str:
    body = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in rows)
    return f'<table class="{css}"><caption>{esc(caption)}</caption><tbody>{body}</tbody></table>'


def metrics_section(ctx: ReportContext) -> str:
    rows = [format_metric(k, v, ctx.base_currency) for k, v in ctx.metrics.items()]
    table = _table(rows or [("(none)", "")], "Headline metrics")
    note = f'<p class="small">{esc(ctx.annualisation)}</p>' if ctx.annualisation else ""
    return f"<div>{table}{note}</div>"


def params_section(ctx: ReportContext) -> str:
    rows = [(k, fmt_value(v)) for k, v in ctx.params.items()]
    return f"<div>{_table(rows or [('(none)', '')], 'Parameters')}</div>"


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
        text = _fmt_date(value) if col in ("first", "last") and not is_missing(value) else value
        return f"<td>{esc(fmt_value(text))}</td>"

    body = "".join(
        "<tr>" + "".join(cell(c, row.get(c)) for c in columns) + "</tr>" for row in provenance
    )
    if not provenance:
        body = f'<tr><td colspan="{len(columns)}">No instruments recorded.</td></tr>'
    return (
        '<section><h2>Data provenance</h2><div class="scroll"><table class="grid">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div></section>"
    )


def chart_section(chart: Chart) -> str:
    inner = chart.fragment or f'<p class="small skipped">{esc(chart.skipped)}</p>'
    return f'<section class="chart"><h2>{esc(chart.heading)}</h2>{inner}</section>'


# --- the page ---------------------------------------------------------------------------------

PAGE_CSS = """
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
# DOM shows whether every chart drew, what errored, whether anything was fetched and whether the
# page scrolls sideways.
STATUS_SCRIPT = """
(function(){var ids=%s,tries=0;function check(){
var ok=ids.filter(function(id){var d=document.getElementById(id);
return d&&d.querySelector(".plot-container svg.main-svg");});
var res=performance.getEntriesByType("resource").map(function(r){return r.name;});
var s=document.getElementById("report-status");
s.setAttribute("data-expected",ids.length);s.setAttribute("data-rendered",ok.length);
var de=document.documentElement;
s.textContent=JSON.stringify({rendered:ok,errors:window.__reportErrors,resources:res,
overflowX:de.scrollWidth-de.clientWidth});
if(ok.length<ids.length&&++tries<200){setTimeout(check,50);}else{s.setAttribute("data-done","1");}}
if(document.readyState==="complete"){check();}else{window.addEventListener("load",check);}})();
"""


def _head(ctx: ReportContext) -> str:
    # plotlyjs() is the bundle plotly ships: the only copy of plotly.js on the page.
    return (
        '<head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(ctx.title)} — crosscurrent report</title>"
        f"<style>{PAGE_CSS}</style><script>{ERROR_HOOK}</script>"
        f'<script type="text/javascript">{plotlyjs()}</script></head>'
    )


def _body(ctx: ReportContext, charts: Sequence[Chart]) -> str:
    lines = [SYNTHETIC_BANNER] * ctx.synthetic + list(ctx.alerts)
    banner = "".join(f'<div class="banner" role="alert">{esc(t)}</div>' for t in lines)
    ids = json.dumps([c.div_id for c in charts if c.fragment])
    return (
        f"<body>{banner}<main>"
        f'<h1>{esc(ctx.title)}</h1><p class="rule">{esc(ctx.rule)}</p>'
        f'<div class="cols">{params_section(ctx)}{metrics_section(ctx)}</div>'
        f"{notes_section(ctx.notes)}"
        + "".join(chart_section(c) for c in charts)
        + "".join(ctx.sections)
        + provenance_section(ctx.provenance)
        + f"<footer>Base currency: {esc(ctx.base_currency)}. Generated by crosscurrent.</footer>"
        f'</main><div id="report-status" hidden></div>'
        f"<script>{STATUS_SCRIPT % ids}</script></body>"
    )


def render_report(ctx: ReportContext) -> str:
    """Return the whole report as one HTML document (plotly.js inline; no network access needed).

    The same context always gives byte-identical output.
    """
    charts = build_charts(ctx.equity, ctx.benchmarks, ctx.weights, ctx.markers)
    return f'<!DOCTYPE html>\n<html lang="en">{_head(ctx)}{_body(ctx, charts)}</html>\n'


def write_report(path: Path, ctx: ReportContext) -> None:
    """Render ``ctx`` and write it to ``path`` as UTF-8 (parent folders must exist)."""
    Path(path).write_text(render_report(ctx), encoding="utf-8")


def trades_section(trades: pd.DataFrame, currency: str, limit: int = 300) -> str:
    """A table of round-trip trades (the most recent ``limit``), as a report section."""
    if trades.empty:
        return "<section><h2>Trades</h2><p>No trades.</p></section>"
    shown = trades.tail(limit)
    head = "".join(f"<th>{esc(c)}</th>" for c in
                   ("asset", "entry", "exit", "sessions", f"pnl ({currency})", "return"))  # fmt: skip
    rows = []
    for t in shown.to_dict("records"):
        exit_ = "open" if t["open"] else _fmt_date(t["exit"])
        ret = "—" if is_missing(t["return"]) else f"{t['return']:.2%}"
        cells = (
            t["asset"],
            _fmt_date(t["entry"]),
            exit_,
            f"{t['sessions']:,}",
            f"{t['pnl']:,.2f}",
            ret,
        )
        rows.append("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in cells) + "</tr>")
    note = f"<p>Showing the last {limit} of {len(trades)}.</p>" if len(trades) > limit else ""
    return (f'<section><h2>Trades</h2>{note}<div class="scroll"><table class="grid"><thead><tr>'
            f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div></section>")  # fmt: skip
