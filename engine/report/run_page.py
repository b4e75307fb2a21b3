"""The run report: one self-contained, offline HTML page describing a backtest run.

Lives here: ``ReportContext`` (everything the page shows, validated), the page's metrics,
parameters and trades tables, its banner and layout, and ``render_report`` / ``write_report``. Not
here: what every page shares - validation helpers, plain-value formatting, CSS, scripts, notes and
provenance sections (``engine.report.page_parts``) -, metric labels and formats
(``engine.stats.spec``), the charts (``engine.report.run_charts``), computing metrics
(``engine.stats.metrics``), running the backtest (``engine.backtest.run``) or choosing the output
path (the CLI).

The page is built in four steps:

1. ``ReportContext.__post_init__`` checks the curves share one tz-naive, sorted session index.
2. Tables (parameters, metrics, provenance) are rendered from data with every user string escaped.
3. Charts are rendered by ``engine.report.run_charts`` with fixed div ids, so output is byte-identical.
4. plotly.js is inlined once in ``<head>``; nothing is fetched from the network when the page opens.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from engine.report.figures import packed_plotlyjs, sessions_script
from engine.report.page_parts import (
    ERROR_HOOK,
    PAGE_CSS,
    SYNTHETIC_BANNER,
    as_floats,
    chart_section,
    check_index,
    check_values,
    esc,
    fail,
    fmt_date,
    fmt_value,
    is_missing,
    kv_table,
    notes_section,
    page_end,
    provenance_section,
)
from engine.report.run_charts import Chart, build_charts, chart_dates, on_page_sessions
from engine.report.run_panels import (
    distribution_chart,
    drawdown_periods,
    event_study_chart,
    period_returns,
    price_chart,
    rolling_beta_chart,
    rolling_volatility_chart,
    yearly_chart,
    yearly_returns,
)
from engine.report.run_tables import drawdown_table, metrics_table, yearly_table
from engine.stats import spec

# --- the context ------------------------------------------------------------------------------


def _check_markers(markers: Mapping[str, Sequence[pd.Timestamp]]) -> None:
    for label, dates in markers.items():
        field = f"markers[{label!r}]"
        try:
            stamps = pd.DatetimeIndex([pd.Timestamp(d) for d in dates])
        except (TypeError, ValueError) as exc:
            fail(field, "has a value that is not a date", exc, "pass pd.Timestamp dates")
        if stamps.tz is not None:
            fail(field, "has tz-aware dates", str(stamps.tz), "pass tz-naive session dates")


@dataclass(frozen=True)
class ReportContext:
    """Everything the report shows. Curves are in base currency on one tz-naive session index.

    ``metrics`` holds fractions (0.05 = 5 %) except ratios; ``weights`` is session x instrument
    end-of-day weights (fractions); ``markers`` maps a label to session dates (a non-session date
    is drawn at the next session); ``provenance`` has one mapping per instrument with the keys in
    ``page_parts.PROVENANCE_COLUMNS``. ``columns`` maps a benchmark's name to its metrics, shown
    beside the strategy's; ``price`` is the traded asset's close on the session index (NaN before
    its data starts), with its orders in ``fills`` (``session``, ``price``, ``units``); ``study``
    an ``EventStudy``, drawn as a chart.
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
    columns: Mapping[str, Mapping[str, object]] = field(default_factory=dict)
    price: pd.Series | None = None
    fills: pd.DataFrame | None = None
    study: Any = None

    def __post_init__(self) -> None:
        if not isinstance(self.equity, pd.Series) or self.equity.empty:
            found = "an empty Series" if isinstance(self.equity, pd.Series) else type(self.equity)
            fail("equity", "must be a non-empty pd.Series", found, "pass at least one session")
        check_index("equity", self.equity.index, None)
        check_values("equity", as_floats("equity", self.equity), allow_nan=False)
        sessions = self.equity.index
        for name, curve in self.benchmarks.items():
            field = f"benchmarks[{name!r}]"
            if not isinstance(curve, pd.Series):
                fail(field, "must be a pd.Series", type(curve).__name__, "pass an equity curve")
            check_index(field, curve.index, sessions)
            # A benchmark may start after the strategy: NaN is a gap, infinity is a bug.
            check_values(field, as_floats(field, curve), allow_nan=True)
        if not isinstance(self.weights, pd.DataFrame) or self.weights.shape[1] == 0:
            found = "no columns" if isinstance(self.weights, pd.DataFrame) else type(self.weights)
            fail("weights", "must be a DataFrame with columns", found, "pass session x key weights")
        check_index("weights", self.weights.index, sessions)
        check_values("weights", as_floats("weights", self.weights), allow_nan=False)
        _check_markers(self.markers)
        if self.price is not None:
            if not isinstance(self.price, pd.Series):
                fail("price", "must be a pd.Series", type(self.price).__name__, "pass closes")
            check_index("price", self.price.index, sessions)
            check_values("price", as_floats("price", self.price), allow_nan=True)
            cols = set(getattr(self.fills, "columns", ()))
            if not {"session", "price", "units"} <= cols:
                found = sorted(map(str, cols)) if self.fills is not None else None
                fail("fills", "needs columns session, price, units", found, "pass the orders")


# --- the run's tables -------------------------------------------------------------------------


def metric_rows(metrics: Mapping[str, object], currency: str) -> list[tuple[str, str]]:
    """(label, value) of each metric given: the headline metrics first, in the spec's order, then
    the others in the spec's order, then keys the spec does not know, as given."""
    order = {k: i for i, k in enumerate(dict.fromkeys((*spec.HEADLINE, *spec.METRICS)))}
    keys = sorted(metrics, key=lambda k: order.get(k, len(order)))
    return [(spec.label(k, currency), spec.format_value(k, metrics[k])) for k in keys]


def metrics_section(ctx: ReportContext) -> str:
    rows = metric_rows(ctx.metrics, ctx.base_currency)
    table = kv_table(rows or [("(none)", "")], "Headline metrics")
    note = f'<p class="small">{esc(ctx.annualisation)}</p>' if ctx.annualisation else ""
    return f"<div>{table}{note}</div>"


def params_section(ctx: ReportContext) -> str:
    rows = [(k, fmt_value(v)) for k, v in ctx.params.items()]
    return f"<div>{kv_table(rows or [('(none)', '')], 'Parameters')}</div>"


# --- the page ---------------------------------------------------------------------------------


def _head(ctx: ReportContext) -> str:
    # The packed cartesian plotly.js: the only copy of plotly.js on the page; then the sessions
    # every date-axis chart shares.
    return (
        '<head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(ctx.title)} — crosscurrent report</title>"
        f"<style>{PAGE_CSS}</style><script>{ERROR_HOOK}</script>"
        f"<script>{packed_plotlyjs()}</script>"
        f"<script>{sessions_script(chart_dates(ctx.equity.index))}</script></head>"
    )


def _section(heading: str, inner: str) -> str:
    return f'<section class="chart"><h2>{esc(heading)}</h2>{inner}</section>'


def _blocks(ctx: ReportContext) -> list[Chart | str]:
    """The page's panels in order: charts, and the HTML of the tables between them."""
    bench = next(iter(ctx.benchmarks.items()), None)
    worst = drawdown_periods(ctx.equity)
    last = ctx.equity.index[-1]
    shaded = [(fmt_date(r.start), fmt_date(last if pd.isna(r.end) else r.end))
              for r in worst.itertuples()]  # fmt: skip
    equity, drawdown, weights, monthly, sharpe = build_charts(
        ctx.equity, ctx.benchmarks, ctx.weights, ctx.markers, shaded=shaded
    )
    curves = {"strategy": ctx.equity, **ctx.benchmarks}
    yearly = yearly_returns(curves)
    pair = {"strategy": ctx.equity, **dict([bench] if bench else [])}
    out: list[Chart | str] = [equity, drawdown, _section("Worst drawdowns", drawdown_table(worst))]
    if ctx.price is not None:
        out.append(price_chart(ctx.price, ctx.fills))
    out += [weights, yearly_chart(yearly), _section("Yearly returns", yearly_table(yearly)),
            monthly, '<div class="pair">',
            distribution_chart("chart-daily-dist", "daily",
                               {k: period_returns(v, "D") for k, v in pair.items()}),
            distribution_chart("chart-monthly-dist", "monthly",
                               {k: period_returns(v, "M") for k, v in pair.items()}),
            "</div>", sharpe, rolling_volatility_chart(ctx.equity, bench),
            rolling_beta_chart(ctx.equity, bench)]  # fmt: skip
    if ctx.study is not None:
        out.append(event_study_chart(ctx.study))
    return out


def page_charts(ctx: ReportContext) -> list[Chart]:
    """Every chart of the page, in order (skipped ones included)."""
    return [b for b in _blocks(ctx) if isinstance(b, Chart)]


def metrics_block(ctx: ReportContext) -> str:
    """The strategy's metrics beside each benchmark's (``columns``), with the annualisation."""
    table = metrics_table({"strategy": ctx.metrics, **ctx.columns}, ctx.base_currency)
    note = f'<p class="small">{esc(ctx.annualisation)}</p>' if ctx.annualisation else ""
    return f'<section class="metrics"><h2>Metrics</h2>{table}{note}</section>'


def _body(ctx: ReportContext) -> str:
    lines = [SYNTHETIC_BANNER] * ctx.synthetic + list(ctx.alerts)
    banner = "".join(f'<div class="banner" role="alert">{esc(t)}</div>' for t in lines)
    dates = chart_dates(ctx.equity.index)
    blocks = [on_page_sessions(b, dates) if isinstance(b, Chart) else b for b in _blocks(ctx)]
    ids = json.dumps([b.div_id for b in blocks if isinstance(b, Chart) and b.fragment])
    return (
        f"<body>{banner}<main>"
        f'<h1>{esc(ctx.title)}</h1><p class="rule">{esc(ctx.rule)}</p>'
        f'<div class="cols">{params_section(ctx)}<div>{notes_section(ctx.notes)}</div></div>'
        f"{metrics_block(ctx)}"
        + "".join(chart_section(b) if isinstance(b, Chart) else b for b in blocks)
        + "".join(ctx.sections)
        + provenance_section(ctx.provenance)
        + f"<footer>Base currency: {esc(ctx.base_currency)}. Generated by crosscurrent.</footer>"
        + page_end(ids)
    )


def render_report(ctx: ReportContext) -> str:
    """Return the whole report as one HTML document (plotly.js inline; no network access needed).

    The same context always gives byte-identical output.
    """
    return f'<!DOCTYPE html>\n<html lang="en">{_head(ctx)}{_body(ctx)}</html>\n'


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
        exit_ = "open" if t["open"] else fmt_date(t["exit"])
        ret = "—" if is_missing(t["return"]) else f"{t['return']:.2%}"
        cells = (
            t["asset"],
            fmt_date(t["entry"]),
            exit_,
            f"{t['sessions']:,}",
            f"{t['pnl']:,.2f}",
            ret,
        )
        rows.append("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in cells) + "</tr>")
    note = f"<p>Showing the last {limit} of {len(trades)}.</p>" if len(trades) > limit else ""
    return (f'<section><h2>Trades</h2>{note}<div class="scroll"><table class="grid"><thead><tr>'
            f"{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div></section>")  # fmt: skip
