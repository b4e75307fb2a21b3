"""The grid-search report: one self-contained, offline HTML page for a ``backtest grid`` run.

Lives here: ``GridReportContext`` (everything the page shows, validated), the honesty panel's HTML,
the ranked table, the page layout and ``render_grid_report`` / ``write_grid_report``. Not here: the
honesty panel's wording (``engine.report.grid_honesty``), the sensitivity charts and their
aggregations (``engine.report.grid_charts``), the walk-forward panel
(``engine.report.walkforward_charts``), the winner's tables and charts (``engine.report.run_page``
/ ``engine.report.run_charts``), the page's CSS, error hook and status script
(``engine.report.page_parts``), metric labels and formats (``engine.stats.spec``), the statistics
(``engine.research.honesty``, ``engine.stats.overfit``, ``engine.stats.pbo``) or choosing the
output path (the CLI).

The page is built in four steps:

1. ``GridReportContext.__post_init__`` checks the table, the parameter lists and the honesty keys.
2. The honesty panel and the top-N table are rendered from data with every user string escaped.
3. Charts aggregate the table with pandas groupbys (one per varied parameter, one per drawn pair)
   and get fixed div ids (``chart-walk-forward`` when the grid ran a walk-forward,
   ``chart-param-<i>``, ``chart-pair-<k>``, ``chart-equity``, ``chart-drawdown``), so the same
   context gives a byte-identical page.
4. plotly.js is inlined once in ``<head>``; nothing is fetched from the network.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import numpy as np
import pandas as pd

from engine.report import grid_charts as gc
from engine.report.figures import packed_plotlyjs, sessions_script
from engine.report.grid_honesty import (
    HONESTY_KEYS,
    RANKING_KEYS,
    SIDE_KEYS,
    SOURCES,
    honesty_panel,
    label_value,
)
from engine.report.page_parts import (
    ERROR_HOOK,
    PAGE_CSS,
    SYNTHETIC_BANNER,
    chart_section,
    esc,
    fmt_value,
    is_missing,
    notes_section,
    page_end,
    provenance_section,
)
from engine.report.run_charts import (
    Chart,
    chart_dates,
    drawdown_chart,
    equity_chart,
    on_page_sessions,
)
from engine.report.run_page import ReportContext, metrics_section, params_section
from engine.report.walkforward_charts import walk_forward_section
from engine.stats import spec

KEY_METRICS = (
    "sharpe", "cagr", "max_drawdown", "ann_volatility", "trade_count", "turnover", "exposure",
)  # fmt: skip


# --- validation -------------------------------------------------------------------------------


def _fail(field: str, problem: str, found: object, fix: str) -> NoReturn:
    raise ValueError(f"GridReportContext.{field}: {problem}; found {found}. Fix: {fix}.")


def _metric_values(table: pd.DataFrame, metric: str) -> np.ndarray:
    """The ranking metric as float64 (None and NaN become NaN)."""
    try:
        return pd.to_numeric(table[metric], errors="raise").to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError):
        found = f"dtype {table[metric].dtype}"
        _fail("metric", f"column {metric!r} is not numeric", found, "rank by a numeric metric")


def _check_table(ctx: GridReportContext) -> None:
    if not isinstance(ctx.table, pd.DataFrame) or ctx.table.empty:
        found = "an empty DataFrame" if isinstance(ctx.table, pd.DataFrame) else type(ctx.table)
        _fail("table", "must be a non-empty DataFrame", found, "pass the ranked grid table")
    columns = list(ctx.table.columns)
    missing = [p for p in ctx.params if p not in columns]
    if missing:
        _fail("params", "names columns the table lacks", missing, "pass the table's parameters")
    if ctx.metric not in columns or ctx.metric in ctx.params:
        found = repr(ctx.metric)
        _fail("metric", "is not a metric column of the table", found, "use a GRID_METRICS key")
    _metric_values(ctx.table, ctx.metric)


def _check_params(ctx: GridReportContext) -> None:
    unknown = [v for v in ctx.varied if v not in ctx.params]
    if unknown:
        _fail("varied", "names parameters not in params", unknown, "list a subset of params")
    for name in ctx.params:
        if name not in ctx.varied and ctx.table[name].nunique(dropna=False) > 1:
            found = f"{ctx.table[name].nunique(dropna=False)} distinct values of {name!r}"
            _fail("varied", "omits a parameter that varies in the table", found, "add it")


def _is_pair(value: object) -> bool:
    return not isinstance(value, str) and hasattr(value, "__len__") and len(value) == 2


def _check_honesty(honesty: Mapping[str, object]) -> None:
    missing = [k for k in HONESTY_KEYS if k not in honesty]
    if missing:
        _fail("honesty", "lacks keys", missing, "pass engine.research.grid.GridResult.honesty")
    for side, keys in (("over_cash", SIDE_KEYS), ("vs_benchmark", SIDE_KEYS),
                       ("ranking", RANKING_KEYS)):  # fmt: skip
        block = honesty[side]
        lacking = [k for k in keys if not isinstance(block, Mapping) or k not in block]
        if lacking:
            _fail(
                f"honesty[{side!r}]", "lacks keys", lacking, "pass engine.research.honesty.honesty"
            )
    trials = honesty["trials"]
    if is_missing(trials) or not float(trials) >= 1:  # type: ignore[arg-type]
        _fail("honesty['trials']", "must be at least 1", repr(trials), "count every combo run")
    pairs = {"['cagr_ci95']": honesty["cagr_ci95"]}
    for side in ("over_cash", "vs_benchmark"):
        pairs[f"[{side!r}]['ci95']"] = honesty[side]["ci95"]  # type: ignore[index]
    for where, value in pairs.items():
        if not _is_pair(value):
            _fail(f"honesty{where}", "must be (lo, hi)", repr(value), "pass a 2-tuple")


# --- the context ------------------------------------------------------------------------------


@dataclass(frozen=True)
class GridReportContext:
    """Everything the grid report shows.

    ``table`` is ranked best first: the parameter columns (``params``), then metric columns keyed
    as ``engine.research.grid.GRID_METRICS`` (fractions, 0.05 = 5 %, except ratios and counts). ``varied``
    lists the parameters with more than one value; ``honesty`` holds ``HONESTY_KEYS`` as made by
    ``engine.research.honesty.honesty``; ``winner`` is the full single run of the table's first row.
    """

    title: str
    rule: str
    metric: str
    table: pd.DataFrame
    params: Sequence[str]
    varied: Sequence[str]
    honesty: Mapping[str, object]
    winner: ReportContext
    synthetic: bool
    notes: Sequence[str] = ()
    top: int = 20
    # summary.json's walk_forward block and walk_forward.csv's curves, when the grid ran one
    walk_forward: Mapping[str, object] | None = None
    walk_forward_equity: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        _check_table(self)
        _check_params(self)
        _check_honesty(self.honesty)
        if not isinstance(self.winner, ReportContext):
            found = type(self.winner).__name__
            _fail("winner", "must be a ReportContext", found, "use runfiles.report_context")
        if isinstance(self.top, bool) or not isinstance(self.top, int | np.integer) or self.top < 1:
            _fail("top", "must be a positive integer", repr(self.top), "pass e.g. 20")
        if self.walk_forward is not None and not isinstance(self.walk_forward_equity, pd.DataFrame):
            found = type(self.walk_forward_equity).__name__
            _fail("walk_forward_equity", "must be a DataFrame with a walk-forward", found,
                  "pass walk_forward.csv read back (a date index)")  # fmt: skip


# --- honesty ----------------------------------------------------------------------------------


def _honesty_section(ctx: GridReportContext) -> str:
    sections = honesty_panel(ctx.honesty, label_value(ctx.metric)[0])
    parts = []
    for title, why, rows in sections:
        body = "".join(
            f'<tr class="{css}"><th>{esc(name)}</th><td class="num">{esc(value)}</td>'
            f"<td>{esc(text)}</td></tr>"
            for name, value, text, css in rows
        )
        intro = f'<p class="small">{esc(why)}</p>' if why else ""
        parts.append(
            f'<h3>{esc(title)}</h3>{intro}<table class="grid"><tbody>{body}</tbody></table>'
        )
    sources = SOURCES.format(seed=fmt_value(ctx.honesty["bootstrap_seed"]))
    return (
        '<section class="honesty"><h2>Honesty: how much to trust the winner</h2>'
        "<p>Picking the best of many backtests flatters it. These checks say how much of the "
        "winner's result could be selection luck, over cash and against the benchmark, each "
        "naming the metric it is about.</p>"
        f"{''.join(parts)}"
        f'<p class="small">{esc(sources)}</p></section>'
    )


# --- the ranked table -------------------------------------------------------------------------


def _ranked_section(ctx: GridReportContext, currency: str) -> str:
    shown = [m for m in dict.fromkeys((ctx.metric, *KEY_METRICS)) if m in ctx.table.columns]
    params = list(ctx.varied)
    top = ctx.table.head(int(ctx.top))
    head = "<th>#</th>" + "".join(f"<th>{esc(p)}</th>" for p in params)
    head += "".join(f'<th class="num">{esc(spec.label(m, currency))}</th>' for m in shown)
    rows = []
    for rank, (_, row) in enumerate(top.iterrows(), start=1):
        cells = "".join(f"<td>{esc(fmt_value(row[p]))}</td>" for p in params)
        cells += "".join(f'<td class="num">{esc(spec.format_value(m, row[m]))}</td>' for m in shown)
        rows.append(f"<tr><td>{rank}</td>{cells}</tr>")
    n = len(ctx.table)
    caption = f"Top {len(top):,} of {n:,} combinations, best first"
    return (
        f'<section><h2>Ranked combinations</h2><div class="scroll"><table class="grid ranked">'
        f"<caption>{esc(caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div></section>"
    )


def _fixed_line(ctx: GridReportContext) -> str:
    fixed = [p for p in ctx.params if p not in ctx.varied]
    if not fixed:
        return ""
    first = ctx.table.iloc[0]
    items = ", ".join(f"{p}={fmt_value(first[p])}" for p in fixed)
    return f'<p class="small">Fixed parameters: {esc(items)}.</p>'


# --- charts -----------------------------------------------------------------------------------


def _charts_block(charts: Sequence[Chart]) -> str:
    return '<div class="charts">' + "".join(chart_section(c) for c in charts) + "</div>"


def _winner_section(ctx: GridReportContext) -> tuple[str, list[Chart]]:
    w = ctx.winner
    equity = gc.with_log_ticks(equity_chart(w.equity, w.benchmarks, w.markers))
    dates = chart_dates(w.equity.index)  # written once in the head, shared by the curves
    charts = [on_page_sessions(c, dates) for c in (equity, drawdown_chart(w.equity))]
    first = ctx.table.iloc[0]
    which = ", ".join(f"{p}={fmt_value(first[p])}" for p in ctx.varied) or "the only combination"
    html = (
        f"<section><h2>The winner: {esc(which)}</h2>"
        "<p>The top-ranked combination, re-run in full as a single backtest.</p>"
        f'<div class="cols">{params_section(w)}{metrics_section(w)}</div>'
        + "".join(chart_section(c) for c in charts)
        + "</section>"
    )
    return html, charts


# --- the page ---------------------------------------------------------------------------------

# auto-fill, not auto-fit: each chart's script runs as soon as its div is parsed, before the next
# chart exists, so the columns must not depend on how many charts there are.
_GRID_CSS = """
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(400px,1fr));gap:0 24px}
.charts>*{min-width:0}
.honesty{background:#fff;border:1px solid #e4e7eb;padding:4px 12px 8px;margin-top:12px}
.honesty tr.good th{border-left:4px solid #1b7837}.honesty tr.bad th{border-left:4px solid #b2182b}
.honesty th{white-space:nowrap;width:1%;border-left:4px solid transparent}
.honesty td.num{white-space:nowrap;width:1%}
.honesty h3{margin:14px 0 2px}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
table.ranked tbody tr:first-child{background:#eef6ee;font-weight:600}
table.folds td{white-space:nowrap}table.folds th{white-space:normal;overflow-wrap:normal}
"""


def _head(ctx: GridReportContext) -> str:
    return (
        '<head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(ctx.title)} — crosscurrent grid report</title>"
        f"<style>{PAGE_CSS}{_GRID_CSS}</style><script>{ERROR_HOOK}</script>"
        f"<script>{packed_plotlyjs()}</script>"
        f"<script>{sessions_script(chart_dates(ctx.winner.equity.index))}</script></head>"
    )


def _intro(ctx: GridReportContext) -> str:
    label = spec.label(ctx.metric)
    better = "higher" if spec.higher_is_better(ctx.metric) else "lower"
    varied = ", ".join(ctx.varied) or "none"
    text = (
        f"Ranked by {label} ({ctx.metric}; {better} is better) over {len(ctx.table):,} "
        f"combinations. Varied parameters: {varied}."
    )
    return (
        f'<h1>{esc(ctx.title)}</h1><p class="rule">{esc(ctx.rule)}</p>'
        f'<p class="ranking">{esc(text)}</p>{_fixed_line(ctx)}'
    )


def render_grid_report(ctx: GridReportContext) -> str:
    """Return the whole grid report as one HTML document (plotly.js inline, no network access).

    The same context always gives byte-identical output.
    """
    currency = ctx.winner.base_currency
    label = spec.label(ctx.metric)
    higher = spec.higher_is_better(ctx.metric)
    data = ctx.table[list(ctx.varied)].assign(metric=_metric_values(ctx.table, ctx.metric))
    lines, maps, one, two = gc.sensitivity_charts(data, ctx.varied, (ctx.metric, label), higher)
    winner, winner_charts = _winner_section(ctx)
    wf_html, wf_charts = "", []
    if ctx.walk_forward is not None:
        wf_html, chart = walk_forward_section(
            ctx.walk_forward, ctx.walk_forward_equity, ctx.metric, ctx.varied, currency
        )
        wf_charts = [chart]
    notes = list(dict.fromkeys([*ctx.notes, *ctx.winner.notes]))
    drawn = [c.div_id for c in (*wf_charts, *lines, *maps, *winner_charts) if c.fragment]
    banner = (
        f'<div class="banner" role="alert">{esc(SYNTHETIC_BANNER)}</div>' if ctx.synthetic else ""
    )
    body = (
        f"<body>{banner}<main>{_intro(ctx)}{notes_section(notes)}{_honesty_section(ctx)}"
        f"{_ranked_section(ctx, currency)}{wf_html}"
        f'<section><h2>Sensitivity by parameter</h2><p class="small">{esc(one)}</p>'
        f"{_charts_block(lines)}</section>"
        f'<section><h2>Parameter pairs</h2><p class="small">{esc(two)}</p>'
        f"{_charts_block(maps)}</section>"
        f"{winner}{provenance_section(ctx.winner.provenance)}"
        f"<footer>Base currency: {esc(currency)}. Generated by crosscurrent.</footer>"
        + page_end(json.dumps(drawn))
    )
    return f'<!DOCTYPE html>\n<html lang="en">{_head(ctx)}{body}</html>\n'


def write_grid_report(path: Path, ctx: GridReportContext) -> None:
    """Render ``ctx`` and write it to ``path`` as UTF-8 (parent folders must exist)."""
    Path(path).write_text(render_grid_report(ctx), encoding="utf-8")
