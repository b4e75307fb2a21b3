"""The event-study report: one self-contained, offline HTML page for a ``backtest events`` run.

Lives here: ``EventsReportContext`` (the study as its folder saves it: ``events.json``'s metadata,
``events_summary.csv`` and ``events.csv``, checked), its charts - the average cumulative forward
return after signals against all sessions by horizon with both intervals as bands
(``chart-event-study``), the excess over all sessions with its interval (``chart-event-excess``)
and every signal's forward returns over time (``chart-event-signals``) -, the summary and signals
tables and ``render_events_report`` / ``write_events_report``. Shared with every page: CSS, error
hook, status script, banner, escaping (``engine.report.page_parts``), ``Chart.of``
(``engine.report.run_charts``). Not here: computing the study (``engine.backtest.eventstudy``, whose
``summary_cells`` word the summary table as the terminal and the run report do), reading the
folder (``engine.store.event_folder``).

Fixed div ids and no clock: the same context gives byte-identical pages; plotly.js is inlined once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engine.backtest.eventstudy import SUMMARY_COLUMNS, pct, summary_cells
from engine.report.figures import hline, packed_plotlyjs
from engine.report.grid_charts import BELOW_AXIS_TITLE
from engine.report.page_parts import (
    ERROR_HOOK,
    PAGE_CSS,
    SYNTHETIC_BANNER,
    chart_section,
    esc,
    fmt_value,
    kv_table,
    notes_section,
    page_end,
)
from engine.report.run_charts import Chart

SUMMARY_NEEDS = ("horizon", "episodes", "n", "mean", "median", "hit_rate", "ci_low", "ci_high",
                 "n_all", "mean_all", "median_all", "hit_rate_all", "ci_low_all", "ci_high_all",
                 "excess", "excess_low", "excess_high")  # fmt: skip
EVENTS_NEEDS = ("known_utc", "fill_session", "entry")
_SIGNALS = "#2166ac"
_ALL = "#7b8794"
_HORIZON_COLOURS = ("#2166ac", "#e08214", "#1b7837", "#762a83", "#b2182b", "#4d4d4d")


@dataclass(frozen=True)
class EventsReportContext:
    """One event study: ``meta`` as ``EventStudy.meta()`` (``events.json``), ``summary`` one row per
    horizon (``events_summary.csv``), ``events`` one row per signal with ``ret_<N>`` columns
    (``events.csv``). Returns are fractions (0.05 = 5 %)."""

    meta: Mapping[str, Any]
    summary: pd.DataFrame
    events: pd.DataFrame

    def __post_init__(self) -> None:
        def fail(field: str, missing: object) -> None:
            raise ValueError(
                f"EventsReportContext.{field}: lacks {missing}. Fix: pass the files "
                "engine.store.event_folder.write_event_files writes."
            )

        for field, frame, needs in (("summary", self.summary, SUMMARY_NEEDS),
                                    ("events", self.events, EVENTS_NEEDS)):  # fmt: skip
            if not isinstance(frame, pd.DataFrame):
                fail(field, "a DataFrame")
            lacking = [c for c in needs if c not in frame.columns]
            if lacking:
                fail(field, f"columns {lacking}")
        missing = [k for k in ("strategy", "horizons", "window", "bootstrap") if k not in self.meta]
        if missing:
            fail("meta", f"keys {missing}")

    @property
    def horizons(self) -> list[int]:
        return [int(h) for h in self.summary["horizon"]]

    @property
    def synthetic(self) -> bool:
        return str(self.meta.get("data", "")).startswith("synthetic")


# --- charts -----------------------------------------------------------------------------------


def _values(column: pd.Series) -> list:
    # None, not NaN: a horizon without data is a gap, never a "NaN" label.
    return [None if not np.isfinite(v) else round(float(v), 10) for v in column.to_numpy(float)]


def _band(x: list[int], lo: pd.Series, hi: pd.Series, colour: str, name: str) -> dict:
    ok = np.isfinite(lo.to_numpy(float)) & np.isfinite(hi.to_numpy(float))
    xs = [h for h, keep in zip(x, ok, strict=True) if keep]
    upper = [v for v, keep in zip(_values(hi), ok, strict=True) if keep]
    lower = [v for v, keep in zip(_values(lo), ok, strict=True) if keep]
    return {"type": "scatter", "x": xs + xs[::-1], "y": upper + lower[::-1], "fill": "toself",
            "fillcolor": colour, "line": {"width": 0}, "mode": "lines", "name": name,
            "hoverinfo": "skip"}  # fmt: skip


def _horizon_axis(horizons: list[int]) -> dict:
    # Horizons grow roughly geometrically (1, 5, 20, 60): a log axis with the horizons as its ticks.
    return {"type": "log", "tickvals": horizons, "ticktext": [str(h) for h in horizons],
            "title": {"text": "sessions after the fill"}, "automargin": True}  # fmt: skip


def study_chart(ctx: EventsReportContext) -> Chart:
    """Average cumulative forward return after signals and over all sessions, by horizon, each
    with its bootstrap interval of the mean as a band."""
    s, x = ctx.summary, ctx.horizons
    level = float(ctx.meta["bootstrap"].get("level", 0.95))
    data = [
        _band(x, s["ci_low_all"], s["ci_high_all"], "rgba(123,135,148,0.22)",
              f"all sessions, {level:.0%} interval"),
        _band(x, s["ci_low"], s["ci_high"], "rgba(33,102,172,0.20)",
              f"after signals, {level:.0%} interval"),
        {"type": "scatter", "x": x, "y": _values(s["mean_all"]), "mode": "lines+markers",
         "name": "all sessions (mean)", "line": {"color": _ALL, "width": 2, "dash": "dash"},
         "customdata": s["n_all"].tolist(),
         "hovertemplate": "%{x} sessions: %{y:.2%} (n = %{customdata})<extra>all</extra>"},
        {"type": "scatter", "x": x, "y": _values(s["mean"]), "mode": "lines+markers",
         "name": "after signals (mean)", "line": {"color": _SIGNALS, "width": 2.5},
         "marker": {"size": 8}, "customdata": s["n"].tolist(),
         "hovertemplate": "%{x} sessions: %{y:.2%} (n = %{customdata})<extra>signals</extra>"},
    ]  # fmt: skip
    layout = {
        "xaxis": _horizon_axis(x),
        "yaxis": {"tickformat": ".1%", "title": {"text": "mean forward return"}},
        "shapes": [hline(0.0, {"width": 1, "color": "#888888"})],
        "hovermode": "closest",
        "legend": BELOW_AXIS_TITLE,
    }
    heading = "Average forward return after signals vs all sessions, by horizon"
    return Chart.of("chart-event-study", heading, {"data": data, "layout": layout}, 420)


def excess_chart(ctx: EventsReportContext) -> Chart:
    """The signals' mean minus all sessions' per horizon, with its interval, against zero."""
    s, x = ctx.summary, ctx.horizons
    level = float(ctx.meta["bootstrap"].get("level", 0.95))
    excess = s["excess"].to_numpy(float)
    error = {"type": "data", "symmetric": False,
             "array": _values(s["excess_high"] - s["excess"]),
             "arrayminus": _values(s["excess"] - s["excess_low"])}  # fmt: skip
    trace = {
        "type": "scatter", "x": x, "y": _values(pd.Series(excess)), "mode": "markers",
        "error_y": error, "marker": {"size": 10, "color": _SIGNALS}, "name": "excess",
        "hovertemplate": "%{x} sessions: %{y:+.2%}<extra></extra>",
    }  # fmt: skip
    layout = {
        "xaxis": _horizon_axis(x),
        "yaxis": {"tickformat": "+.1%", "title": {"text": "signals minus all sessions"}},
        "shapes": [hline(0.0, {"width": 1, "color": "#888888"})],
        "showlegend": False,
    }
    heading = f"Excess over all sessions, with its {level:.0%} interval"
    return Chart.of("chart-event-excess", heading, {"data": [trace], "layout": layout}, 320)


def signals_chart(ctx: EventsReportContext) -> Chart:
    """Every signal's forward return at each horizon, at its fill session."""
    heading = "Each signal's forward return, by fill session"
    ev = ctx.events
    columns = [(h, f"ret_{h}") for h in ctx.horizons if f"ret_{h}" in ev.columns]
    if ev.empty or not columns:
        return Chart("chart-event-signals", heading, skipped="Skipped: the study has no signals.")
    x = pd.to_datetime(ev["fill_session"]).dt.strftime("%Y-%m-%d").tolist()
    data = [
        {"type": "scatter", "x": x, "y": _values(ev[col]), "mode": "markers",
         "name": f"+{h}" if i < len(columns) - 1 else f"+{h} sessions",
         "marker": {"size": 7, "color": _HORIZON_COLOURS[i % len(_HORIZON_COLOURS)],
                    "opacity": 0.8},
         "hovertemplate": "%{x}: %{y:+.2%}<extra>" + f"{h} sessions" + "</extra>"}
        for i, (h, col) in enumerate(columns)
    ]  # fmt: skip
    layout = {
        "yaxis": {"tickformat": ".0%", "title": {"text": "forward return"}},
        "shapes": [hline(0.0, {"width": 1, "color": "#888888"})],
        "hovermode": "closest",
    }
    return Chart.of("chart-event-signals", heading, {"data": data, "layout": layout}, 360)


# --- tables -----------------------------------------------------------------------------------


def _summary_table(ctx: EventsReportContext) -> str:
    head = "".join(f'<th class="num">{esc(c)}</th>' for c in SUMMARY_COLUMNS)
    rows = "".join(
        "<tr>" + "".join(f'<td class="num">{esc(c)}</td>' for c in summary_cells(r)) + "</tr>"
        for r in ctx.summary.itertuples()
    )
    level = float(ctx.meta["bootstrap"].get("level", 0.95))
    caption = (
        f"Per horizon: the signals' forward returns (distinct fill sessions; episodes are runs of "
        f"overlapping windows) beside all sessions'; {level:.0%} bootstrap intervals of the mean"
    )
    return (
        f'<section><h2>Summary</h2><div class="scroll"><table class="grid summary">'
        f"<caption>{esc(caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{rows}</tbody></table></div></section>"
    )


def _signals_table(ctx: EventsReportContext) -> str:
    ev = ctx.events
    rets = [(h, f"ret_{h}") for h in ctx.horizons if f"ret_{h}" in ev.columns]
    plain = [c for c in ("known_utc", "observed", "fill_session", "fill_price", "entry")
             if c in ev.columns]  # fmt: skip
    head = "".join(f"<th>{esc(c.replace('_', ' '))}</th>" for c in plain)
    head += "".join(f'<th class="num">{h} session{"s" * (h != 1)}</th>' for h, _ in rets)
    rows = []
    for _, r in ev.iterrows():
        cells = "".join(f"<td>{esc(fmt_value(r[c]))}</td>" for c in plain)
        cells += "".join(f'<td class="num">{esc(pct(float(r[c])))}</td>' for _, c in rets)
        rows.append(f"<tr>{cells}</tr>")
    if not rows:
        rows = [f'<tr><td colspan="{len(plain) + len(rets)}">No signals.</td></tr>']
    caption = f"Every signal ({len(ev):,}); entry: the signal started a position"
    return (
        f'<section><h2>Signals</h2><div class="scroll"><table class="grid signals">'
        f"<caption>{esc(caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table></div></section>"
    )


def _about(ctx: EventsReportContext) -> str:
    m = ctx.meta
    boot, window = m["bootstrap"], m["window"]
    text = (
        f"{m.get('signal', 'signals')}: {fmt_value(m.get('signals'))} signals, "
        f"{fmt_value(m.get('distinct_fill_sessions'))} distinct fill sessions, "
        f"{window.get('first', '?')} .. {window.get('last', '?')}. Forward returns of "
        f"{m.get('asset', '?')} from the {m.get('fill', '?')} fill over "
        f"{', '.join(str(h) for h in ctx.horizons)} sessions, against the same horizons from "
        f"every session; bootstrap {fmt_value(boot.get('resamples'))} resamples, seed "
        f"{fmt_value(boot.get('seed'))}."
    )
    verdict = "".join(f"<li>{esc(v)}</li>" for v in m.get("verdict") or [])
    params = [(str(k), fmt_value(v)) for k, v in (m.get("params") or {}).items()]
    return (
        f'<p class="rule">{esc(text)}</p><section class="verdict"><h2>Verdict</h2>'
        f"<ul>{verdict}</ul></section>"
        f'<div class="params">{kv_table(params or [("(none)", "")], "Parameters")}</div>'
    )


# --- the page ---------------------------------------------------------------------------------

_EVENTS_CSS = """
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.verdict{background:#fff;border:1px solid #e4e7eb;padding:4px 12px 8px;margin-top:12px}
.verdict ul{margin:0;padding-left:20px}.params{max-width:520px}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(480px,1fr));gap:0 24px}
.charts>*{min-width:0}
"""


def render_events_report(ctx: EventsReportContext) -> str:
    """The whole event-study page as one HTML document; the same context gives the same bytes."""
    title = f"event study: {ctx.meta['strategy']}"
    charts = [study_chart(ctx), excess_chart(ctx), signals_chart(ctx)]
    ids = json.dumps([c.div_id for c in charts if c.fragment])
    banner = (
        f'<div class="banner" role="alert">{esc(SYNTHETIC_BANNER)}</div>' if ctx.synthetic else ""
    )
    head = (
        '<head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)} — crosscurrent event study</title>"
        f"<style>{PAGE_CSS}{_EVENTS_CSS}</style><script>{ERROR_HOOK}</script>"
        f"<script>{packed_plotlyjs()}</script></head>"
    )
    body = (
        f"<body>{banner}<main><h1>{esc(title)}</h1>{_about(ctx)}"
        f"{notes_section(list(ctx.meta.get('notes') or []))}"
        f"{chart_section(charts[0])}{_summary_table(ctx)}"
        f'<div class="charts">{chart_section(charts[1])}{chart_section(charts[2])}</div>'
        f"{_signals_table(ctx)}<footer>Generated by crosscurrent.</footer>" + page_end(ids)
    )
    return f'<!DOCTYPE html>\n<html lang="en">{head}{body}</html>\n'


def write_events_report(path: Path, ctx: EventsReportContext) -> None:
    """Render ``ctx`` and write it to ``path`` as UTF-8 (parent folders must exist)."""
    Path(path).write_text(render_events_report(ctx), encoding="utf-8")
