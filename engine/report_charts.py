"""The run report's charts: plotly figures built from an equity curve, benchmarks, weights, markers.

Lives here: one builder per chart (equity vs benchmarks with event markers, drawdown, weights,
monthly returns heatmap, rolling 1-year Sharpe), the small computations they plot (drawdown, monthly
returns, rolling Sharpe, snapping marker dates to sessions) and ``figure_div``, which turns a figure
into a deterministic HTML fragment. Not here: the report's context, validation, tables and page
layout (``engine.report``), and the headline metrics themselves (``engine.metrics``): the report
only plots what it is given.

Builders take plain pandas objects, not the report context, so each can be tested alone. Inputs are
assumed validated by ``engine.report.ReportContext``.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go

SESSIONS_PER_YEAR = 252  # the rolling-Sharpe window and its annualisation, in sessions
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_AXIS = {"gridcolor": "#EBF0F8", "zerolinecolor": "#EBF0F8", "linecolor": "#EBF0F8"}
# A few lines of plotly_white: the full named template is ~8 kB per chart and, being deep-copied
# into every figure, took most of the render time.
TEMPLATE = go.layout.Template(
    layout={
        "colorway": ("#636efa", "#EF553B", "#00cc96", "#ab63fa", "#FFA15A", "#19d3f3", "#FF6692"),
        "font": {"color": "#2a3f5f"},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "hoverlabel": {"align": "left"},
        "xaxis": _AXIS,
        "yaxis": _AXIS,
    }
)
PLOTLY_CONFIG = {"responsive": True, "displaylogo": False}
# Marker labels are free-form, so styles cycle; lines use plotly's default colourway, markers a
# darker set so they stay visible on top of the lines.
MARKER_SYMBOLS = ("triangle-up", "triangle-down", "diamond", "circle", "square", "x", "star")
MARKER_COLOURS = ("#1b7837", "#b2182b", "#762a83", "#e08214", "#2166ac", "#4d4d4d", "#8c510a")
_MARGIN = {"l": 60, "r": 20, "t": 40, "b": 40}
_LEGEND = {"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "left", "x": 0.0}


@dataclass(frozen=True)
class Chart:
    """One report chart: its fixed div id, heading, and an HTML fragment or why it is absent."""

    div_id: str
    heading: str
    fragment: str = ""  # the plotly div + script; empty when the chart was skipped
    skipped: str = ""  # plain-text reason shown instead of the chart


def _dates(index: pd.DatetimeIndex) -> list[str]:
    # Session labels are dates; ISO date strings are a third the size of plotly's timestamps.
    return list(index.strftime("%Y-%m-%d"))


def _plain(text: object) -> str:
    # Plotly reads trace names as pseudo-HTML (<b>, <br>); escaping shows user text literally.
    return html.escape(str(text), quote=False)


def figure_div(fig: go.Figure, div_id: str, height_px: int) -> str:
    """Return ``fig`` as an HTML fragment with a fixed div id, no plotly.js and no MathJax.

    The fixed id (plotly otherwise draws a random one) is what makes the page byte-identical
    across runs; plotly.js itself is embedded once by the page, not per figure.
    """
    fig.update_layout(template=TEMPLATE, height=height_px, margin=_MARGIN, legend=_LEGEND)
    return fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        include_mathjax=False,
        div_id=div_id,
        config=PLOTLY_CONFIG,
        default_width="100%",
        default_height=f"{height_px}px",
    )


def snap_to_sessions(index: pd.DatetimeIndex, dates: Sequence[pd.Timestamp]) -> np.ndarray:
    """Positions in ``index`` of each date, moving a non-session date to the next session.

    Dates after the last session are dropped: there is no equity to draw them at. Returns sorted,
    unique int64 positions.
    """
    if len(dates) == 0:
        return np.empty(0, dtype=np.int64)
    wanted = pd.DatetimeIndex([pd.Timestamp(d) for d in dates]).normalize()
    pos = index.searchsorted(wanted, side="left")
    return np.unique(pos[pos < len(index)]).astype(np.int64)


def _uses_log_axis(equity: pd.Series, benchmarks: Mapping[str, pd.Series]) -> bool:
    curves = [equity, *benchmarks.values()]
    return all(bool((s.dropna() > 0).all()) for s in curves)


def equity_chart(
    equity: pd.Series,
    benchmarks: Mapping[str, pd.Series],
    markers: Mapping[str, Sequence[pd.Timestamp]],
) -> Chart:
    """Equity and benchmark curves (log y when all positive) with one marker trace per label."""
    x = _dates(equity.index)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=x, y=equity.to_numpy(float), name="strategy", line={"width": 2}))
    for name, curve in benchmarks.items():
        fig.add_trace(
            go.Scatter(x=x, y=curve.to_numpy(float), name=_plain(name), line={"width": 1})
        )
    values = equity.to_numpy(float)
    for i, (label, dates) in enumerate(markers.items()):
        pos = snap_to_sessions(equity.index, dates)
        if len(pos) == 0:
            continue
        style = {
            "symbol": MARKER_SYMBOLS[i % len(MARKER_SYMBOLS)],
            "color": MARKER_COLOURS[i % len(MARKER_COLOURS)],
            "size": 9,
            "line": {"width": 1, "color": "white"},
        }
        fig.add_trace(
            go.Scatter(
                x=[x[p] for p in pos],
                y=values[pos],
                mode="markers",
                name=_plain(label),
                marker=style,
                hovertemplate=f"{_plain(label)}<br>%{{x}}<br>%{{y:,.0f}}<extra></extra>",
            )
        )
    log = _uses_log_axis(equity, benchmarks)
    fig.update_yaxes(
        type="log" if log else "linear", title_text="equity" + (" (log)" if log else "")
    )
    fig.update_layout(hovermode="closest")
    heading = "Equity vs benchmarks" if benchmarks else "Equity"
    return Chart("chart-equity", heading, figure_div(fig, "chart-equity", 460))


def drawdown(equity: pd.Series) -> pd.Series:
    """Fractional distance below the running peak: 0 at a new high, -0.25 when 25 % below."""
    return equity / equity.cummax() - 1.0


def drawdown_chart(equity: pd.Series) -> Chart:
    """Underwater chart of the strategy's drawdown."""
    fig = go.Figure(
        go.Scatter(
            x=_dates(equity.index),
            y=drawdown(equity).to_numpy(float),
            name="drawdown",
            fill="tozeroy",
            line={"width": 1, "color": "#b2182b"},
            hovertemplate="%{x}<br>%{y:.2%}<extra></extra>",
        )
    )
    fig.update_yaxes(tickformat=".0%", title_text="below peak")
    return Chart("chart-drawdown", "Drawdown (underwater)", figure_div(fig, "chart-drawdown", 260))


def weights_chart(weights: pd.DataFrame) -> Chart:
    """End-of-day weights: stacked with the cash residual when long-only, plain lines otherwise.

    Stacking signed weights would hide gross exposure, so any short or negative weight switches
    to one line per instrument.
    """
    x = _dates(weights.index)
    long_only = bool((weights.to_numpy(float) >= 0).all())
    fig = go.Figure()
    for col in weights.columns:
        trace = {"stackgroup": "w"} if long_only else {"mode": "lines"}
        y = weights[col].to_numpy(float)
        fig.add_trace(go.Scatter(x=x, y=y, name=_plain(col), hovertemplate="%{y:.1%}", **trace))
    residual = 1.0 - weights.sum(axis=1).to_numpy(float)
    if long_only and (residual >= -1e-9).all() and (residual > 1e-9).any():
        fig.add_trace(
            go.Scatter(
                x=x,
                y=np.clip(residual, 0.0, None),
                name="cash (residual)",
                stackgroup="w",
                hovertemplate="%{y:.1%}",
                line={"width": 0.5, "color": "#bbbbbb"},
            )
        )
    fig.update_yaxes(tickformat=".0%", title_text="weight")
    fig.update_layout(hovermode="x unified")
    return Chart("chart-weights", "Weights over time", figure_div(fig, "chart-weights", 320))


def monthly_returns(equity: pd.Series) -> pd.DataFrame:
    """Calendar-month returns as a year x month (1..12) frame of fractions; NaN where no data.

    The first month is measured from the first session's equity, so a partial first month counts.
    """
    periods = equity.index.to_period("M")
    month_end = equity.groupby(periods).last()
    previous = month_end.shift(1)
    previous.iloc[0] = equity.iloc[0]
    rets = month_end / previous - 1.0
    table = pd.DataFrame(
        {"year": rets.index.year, "month": rets.index.month, "ret": rets.to_numpy(float)}
    )
    grid = table.pivot(index="year", columns="month", values="ret")
    return grid.reindex(columns=range(1, 13))


def monthly_chart(equity: pd.Series) -> Chart:
    """Heatmap of monthly returns, years down the side, months across, diverging at zero."""
    grid = monthly_returns(equity)
    # Lists with None (not NaN) so empty months are blank cells rather than "NaN%" labels.
    z = [[None if np.isnan(v) else round(float(v), 6) for v in row] for row in grid.to_numpy()]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=list(MONTHS),
            y=[str(y) for y in grid.index],
            colorscale="RdYlGn",
            zmid=0.0,
            texttemplate="%{z:.1%}",
            hovertemplate="%{y} %{x}: %{z:.2%}<extra></extra>",
            colorbar={"tickformat": ".0%"},
            xgap=1,
            ygap=1,
        )
    )
    fig.update_yaxes(type="category", autorange="reversed")
    height = max(220, 80 + 26 * len(grid.index))
    return Chart("chart-monthly", "Monthly returns", figure_div(fig, "chart-monthly", height))


def rolling_sharpe(equity: pd.Series, window: int = SESSIONS_PER_YEAR) -> pd.Series:
    """Annualised Sharpe of daily returns over a trailing ``window`` sessions, zero risk-free rate.

    NaN until the window is full and where the window's volatility is zero.
    """
    rets = equity.pct_change()
    mean = rets.rolling(window).mean()
    std = rets.rolling(window).std()
    return (mean / std.where(std > 0)) * np.sqrt(SESSIONS_PER_YEAR)


def rolling_sharpe_chart(equity: pd.Series) -> Chart:
    """Rolling 1-year Sharpe, or a skip reason when the run is shorter than one window."""
    heading = f"Rolling 1-year Sharpe ({SESSIONS_PER_YEAR} sessions)"
    need = SESSIONS_PER_YEAR + 1  # a full window of returns needs one extra session
    if len(equity) < need:
        reason = f"Skipped: the run has {len(equity)} sessions; a full window needs {need}."
        return Chart("chart-rolling-sharpe", heading, skipped=reason)
    sharpe = rolling_sharpe(equity)
    fig = go.Figure(
        go.Scatter(
            x=_dates(equity.index),
            y=sharpe.to_numpy(float),
            name="rolling Sharpe",
            line={"width": 1.5, "color": "#2166ac"},
            hovertemplate="%{x}<br>%{y:.2f}<extra></extra>",
        )
    )
    fig.add_hline(y=0.0, line={"width": 1, "color": "#888888"})
    fig.update_yaxes(title_text="Sharpe (ann.)")
    return Chart("chart-rolling-sharpe", heading, figure_div(fig, "chart-rolling-sharpe", 280))


def build_charts(
    equity: pd.Series,
    benchmarks: Mapping[str, pd.Series],
    weights: pd.DataFrame,
    markers: Mapping[str, Sequence[pd.Timestamp]],
) -> list[Chart]:
    """Every report chart, in page order."""
    return [
        equity_chart(equity, benchmarks, markers),
        drawdown_chart(equity),
        weights_chart(weights),
        monthly_chart(equity),
        rolling_sharpe_chart(equity),
    ]
