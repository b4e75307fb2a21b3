"""The grid report's walk-forward panel: the folds as a table and the chained out-of-sample equity
against the full window's best traded on the same test slices.

Lives here: ``walk_forward_chart`` (div id ``chart-walk-forward``) and ``walk_forward_section``
(the panel's HTML: what the walk-forward did, the two chained results side by side, one row per
fold with its windows, chosen parameters and in-sample / out-of-sample metric). Not here: running
it (``engine.research.walkforward``), the rest of the grid page (``engine.report.grid_page``), the
log-axis tick format (``engine.report.grid_charts.LOG_AXIS``).

Inputs are what a grid folder saves: ``wf`` is ``summary.json``'s ``walk_forward`` block (JSON
types: NaN as None), ``equity`` is ``walk_forward.csv`` (a date index, ``walk_forward_equity`` and,
when the full window's best was traded too, ``full_window_best_equity``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from engine.report.figures import vline
from engine.report.grid_charts import LOG_AXIS
from engine.report.page_parts import chart_section, esc, fmt_value
from engine.report.run_charts import Chart, chart_dates
from engine.stats import spec

CHART_ID = "chart-walk-forward"
SIDE_METRICS = ("total_return", "cagr", "sharpe", "max_drawdown", "ann_volatility", "exposure")
# The hindsight curve is dashed and drawn on top, so where the two coincide (every fold chose the
# full window's best) both stay visible.
_CURVES = (
    ("walk_forward_equity", "walk-forward (out of sample)", "#2166ac", 2, "solid"),
    ("full_window_best_equity", "full window's best (in sample, hindsight)", "#e08214", 1.5,
     "dash"),
)  # fmt: skip


def walk_forward_chart(equity: pd.DataFrame, test_starts: Sequence[str]) -> Chart:
    """The chained out-of-sample equity and the full window's best over the same test slices,
    with a dotted line where each later fold's test slice starts (log y when all positive)."""
    heading = "Walk-forward equity: out of sample vs the full window's best"
    curves = [curve for curve in _CURVES if curve[0] in equity.columns]
    if equity.empty or not curves:
        return Chart(CHART_ID, heading, skipped="No walk-forward equity was saved.")
    x = chart_dates(pd.DatetimeIndex(equity.index))
    data = [
        {"type": "scatter", "x": x, "y": equity[col].to_numpy(float), "name": name,
         "mode": "lines", "line": {"width": width, "color": colour, "dash": dash},
         "hovertemplate": "%{x}<br>%{y:,.0f}<extra>" + name + "</extra>"}
        for col, name, colour, width, dash in curves
    ]  # fmt: skip
    values = equity[[c for c, *_ in curves]].to_numpy(float)
    log = bool((values[np.isfinite(values)] > 0).all())
    title = {"text": "equity (log)" if log else "equity"}
    yaxis = {**LOG_AXIS, "title": title} if log else {"title": title}
    shapes = [vline(s, {"width": 1, "color": "#9aa5b1", "dash": "dot"}) for s in test_starts[1:]]
    layout = {"yaxis": yaxis, "hovermode": "x unified", "shapes": shapes}
    return Chart.of(CHART_ID, heading, {"data": data, "layout": layout}, 420)


def _side_rows(wf: Mapping[str, object], currency: str) -> str:
    sides = [("Walk-forward, out of sample", wf.get("out_of_sample"))]
    if isinstance(wf.get("full_window_best"), Mapping):
        sides.append(("Full window's best, in sample", wf["full_window_best"]))
    head = "<th></th>" + "".join(
        f'<th class="num">{esc(spec.label(m, currency))}</th>' for m in SIDE_METRICS
    )
    rows = []
    for name, side in sides:
        side = side if isinstance(side, Mapping) else {}
        cells = "".join(
            f'<td class="num">{esc(spec.format_value(m, side.get(m)))}</td>' for m in SIDE_METRICS
        )
        rows.append(f"<tr><th>{esc(name)}</th>{cells}</tr>")
    covers = [f"{name}: {side['covers']}." for name, side in sides
              if isinstance(side, Mapping) and side.get("covers")]  # fmt: skip
    notes = "".join(f'<p class="small">{esc(c)}</p>' for c in covers)
    return (
        '<div class="scroll"><table class="grid"><caption>Chained over the test slices</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>{notes}"
    )


def _fold_rows(wf: Mapping[str, object], metric: str, varied: Sequence[str]) -> str:
    folds = [f for f in wf.get("folds") or [] if isinstance(f, Mapping)]
    shown = list(varied) or sorted({k for f in folds for k in (f.get("params") or {})})
    label = spec.label(metric)
    head = (
        "<th>#</th><th>train</th><th>test</th>"
        + "".join(f"<th>{esc(p)}</th>" for p in shown)
        + f'<th class="num">{esc(label)} in sample (train)</th>'
        f'<th class="num">{esc(label)} out of sample (test)</th>'
    )
    rows = []
    for i, fold in enumerate(folds, start=1):
        params = fold.get("params") if isinstance(fold.get("params"), Mapping) else {}
        cells = "".join(f"<td>{esc(fmt_value(params.get(p)))}</td>" for p in shown)
        train = f"{fold.get('train_start', '?')} .. {fold.get('train_end', '?')}"
        test = f"{fold.get('test_start', '?')} .. {fold.get('test_end', '?')}"
        ins = spec.format_value(metric, fold.get(f"train_{metric}"))
        oos = spec.format_value(metric, fold.get(f"test_{metric}"))
        rows.append(
            f"<tr><td>{i}</td><td>{esc(train)}</td><td>{esc(test)}</td>{cells}"
            f'<td class="num">{esc(ins)}</td><td class="num">{esc(oos)}</td></tr>'
        )
    caption = f"{len(folds)} folds: parameters chosen on each training slice by {label}"
    return (
        f'<div class="scroll"><table class="grid folds"><caption>{esc(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def walk_forward_section(
    wf: Mapping[str, object],
    equity: pd.DataFrame,
    metric: str,
    varied: Sequence[str],
    currency: str = "",
) -> tuple[str, Chart]:
    """The walk-forward panel's HTML and its chart (the chart's fragment is inside the HTML)."""
    folds = [f for f in wf.get("folds") or [] if isinstance(f, Mapping)]
    chart = walk_forward_chart(equity, [str(f.get("test_start")) for f in folds])
    windows = wf.get("test_windows") if isinstance(wf.get("test_windows"), Mapping) else {}
    kind = "anchored (training from the window's start)" if wf.get("anchored") else "rolling"
    embargo = wf.get("embargo_sessions") or 0
    gap = f", an embargo of {fmt_value(embargo)} sessions before each test slice" if embargo else ""
    intro = (
        f"Walk-forward {wf.get('spec', '')}: {kind} training slices{gap}; test slices "
        f"{windows.get('first', '?')} .. {windows.get('last', '?')} "
        f"({fmt_value(windows.get('sessions'))} sessions). Each fold's parameters are chosen on "
        "its training slice only and traded on the test slice after it; the chained test slices "
        "are the out-of-sample result. The full window's best was chosen having seen those test "
        "slices, so the gap between the two is what the choice cost out of sample."
    )
    restart = f'<p class="small">Note: {esc(wf["restart"])}.</p>' if wf.get("restart") else ""
    html = (
        '<section class="walk-forward"><h2>Walk-forward: chosen on the past, traded on what '
        f"followed</h2><p>{esc(intro)}</p>{restart}{_side_rows(wf, currency)}"
        f"{chart_section(chart)}{_fold_rows(wf, metric, varied)}</section>"
    )
    return html, chart
