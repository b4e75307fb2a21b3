"""The comparison page's charts: overlaid equity in base currency, overlaid drawdowns, the return
correlation heatmap, the Sharpe differences with their intervals (fixed div ids ``chart-equity``,
``chart-drawdown``, ``chart-correlation``, ``chart-sharpe-diff``). Not here: the page
(``compare_page``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from engine.report.figures import RDBU, vline
from engine.report.grid_charts import LOG_AXIS
from engine.report.page_parts import is_missing
from engine.report.run_charts import Chart, chart_dates, drawdown, plain_text


def finite(value: object) -> bool:
    """A number that is not missing, NaN or infinite (an undefined statistic is None or NaN)."""
    return not is_missing(value) and bool(np.isfinite(float(value)))  # type: ignore[arg-type]


def equity_overlay_chart(equity: pd.DataFrame, benchmark, currency: str) -> Chart:
    """Every input's equity in base currency (log y when all positive), the benchmark dotted."""
    x = chart_dates(equity.index)
    data = [
        {"type": "scatter", "x": x, "y": equity[col].to_numpy(float), "name": plain_text(col),
         "line": {"width": 1.6}}
        for col in equity.columns
    ]  # fmt: skip
    curves = [equity.to_numpy(float).ravel()]
    if benchmark is not None:
        name, curve = benchmark
        y = curve.to_numpy(float)
        curves.append(y[np.isfinite(y)])
        line = {"width": 1, "dash": "dot", "color": "#7b8794"}
        data.append({"type": "scatter", "x": x, "y": y, "name": plain_text(name), "line": line})
    log = all(bool((c > 0).all()) for c in curves)
    title = f"equity ({currency}{', log' if log else ''})"
    yaxis = {**(LOG_AXIS if log else {"type": "linear"}), "title": {"text": title}}
    fig = {"data": data, "layout": {"yaxis": yaxis, "hovermode": "x unified"}}
    return Chart.of("chart-equity", "Equity, overlaid", fig, 440)


def drawdown_overlay_chart(equity: pd.DataFrame) -> Chart:
    x = chart_dates(equity.index)
    data = [
        {"type": "scatter", "x": x, "y": drawdown(equity[col]).to_numpy(float),
         "name": plain_text(col), "line": {"width": 1.2}, "hovertemplate": "%{y:.2%}"}
        for col in equity.columns
    ]  # fmt: skip
    yaxis = {"tickformat": ".0%", "title": {"text": "below peak"}}
    fig = {"data": data, "layout": {"yaxis": yaxis, "hovermode": "x unified"}}
    return Chart.of("chart-drawdown", "Drawdowns", fig, 300)


def correlation_chart(corr: pd.DataFrame) -> Chart:
    """Heatmap of the daily-return correlations, -1 blue to +1 red, values written in; inputs by
    number on the axes (labels can be long), by name in the hover text."""
    nums = [f"#{n}" for n in range(1, len(corr.columns) + 1)]
    names = [plain_text(c) for c in corr.columns]
    values = corr.to_numpy(dtype=float)
    z = [[None if not np.isfinite(v) else round(float(v), 4) for v in row] for row in values]
    pairs = [[f"{a} / {b}" for b in names] for a in names]
    trace = {
        "type": "heatmap", "z": z, "x": nums, "y": nums, "zmin": -1, "zmax": 1,
        "colorscale": RDBU, "reversescale": True, "text": pairs, "texttemplate": "%{z:.2f}",
        "xgap": 1, "ygap": 1, "hovertemplate": "%{text}: %{z:.3f}<extra></extra>",
    }  # fmt: skip
    layout = {"xaxis": {"type": "category"}, "yaxis": {"type": "category", "autorange": "reversed"}}
    fig = {"data": [trace], "layout": layout}
    height = max(260, 120 + 48 * len(nums))
    heading = "Correlation of daily returns (inputs by number)"
    return Chart.of("chart-correlation", heading, fig, height)


def sharpe_diff_chart(
    tests: Sequence[Mapping[str, Any]], labels: Sequence[str], level: float
) -> Chart:
    """Each input's Sharpe minus the first's (#1), with its bootstrap interval, against zero."""
    heading = f"Sharpe ratio minus #1's, with its {level:.0%} interval"
    ok = [t for t in tests if finite(t["p_value"]) and finite(t["difference"])]
    if not ok:
        return Chart("chart-sharpe-diff", heading, skipped="Skipped: no computable difference.")
    d = np.array([t["difference"] for t in ok], dtype=float)
    lo = np.array([t["difference_ci"][0] for t in ok], dtype=float)
    hi = np.array([t["difference_ci"][1] for t in ok], dtype=float)
    error = {"type": "data", "symmetric": False, "array": hi - d, "arrayminus": d - lo}
    trace = {
        "type": "scatter",
        "x": d,
        "y": [f"#{list(labels).index(t['input']) + 1}" for t in ok],
        "mode": "markers",
        "error_x": error,
        "marker": {"size": 10, "color": "#2166ac"},
        "name": "difference",
        "text": [plain_text(t["input"]) for t in ok],
        "hovertemplate": "%{text}: %{x:.2f}<extra></extra>",
    }
    layout = {
        "shapes": [vline(0.0, {"width": 1, "color": "#888888"})],
        "yaxis": {"type": "category", "autorange": "reversed"},
        "xaxis": {"title": {"text": "Sharpe difference (annualised)"}},
    }
    fig = {"data": [trace], "layout": layout}
    height = max(200, 110 + 40 * len(ok))
    return Chart.of("chart-sharpe-diff", heading, fig, height)


# --- the page ---------------------------------------------------------------------------------
