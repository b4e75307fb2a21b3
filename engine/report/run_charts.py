"""The run report's charts: plotly figures built from an equity curve, benchmarks, weights, markers.

Lives here: one builder per chart (equity vs benchmarks with event markers, drawdown, weights,
monthly returns heatmap, rolling 1-year Sharpe) and the small computations they plot (drawdown,
monthly returns, rolling Sharpe, snapping marker dates to sessions). Not here: the figures' shared
look and their HTML (``engine.report.figures``), the report's context, validation, tables and page layout
(``engine.report.run_page``), and the headline metrics themselves (``engine.stats.metrics``): the report only
plots what it is given.

Builders take plain pandas objects, not the report context, so each can be tested alone. Inputs are
assumed validated by ``engine.report.run_page.ReportContext``. Figures are plain dicts (see
``engine.report.figures``), so building one costs no validation.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from engine.report.figures import RDYLGN, figure_div, hline, page_layout, sessions_div

SESSIONS_PER_YEAR = 252  # the rolling-Sharpe window and its annualisation, in sessions
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Marker labels are free-form, so styles cycle; lines use plotly's default colourway, markers a
# darker set so they stay visible on top of the lines.
MARKER_SYMBOLS = ("triangle-up", "triangle-down", "diamond", "circle", "square", "x", "star")
MARKER_COLOURS = ("#1b7837", "#b2182b", "#762a83", "#e08214", "#2166ac", "#4d4d4d", "#8c510a")


@dataclass(frozen=True)
class Chart:
    """One report chart: its fixed div id, heading, and an HTML fragment or why it is absent."""

    div_id: str
    heading: str
    fragment: str = ""  # the plotly div + script; empty when the chart was skipped
    skipped: str = ""  # plain-text reason shown instead of the chart
    figure: dict = field(default_factory=dict, compare=False, repr=False)  # data + full layout

    @classmethod
    def of(cls, div_id: str, heading: str, fig: dict, height_px: int) -> Chart:
        """The chart of the plotly figure dict ``fig`` (``figure`` keeps it for ``.plot()``)."""
        full = {"data": fig["data"], "layout": page_layout(fig, height_px)}
        return cls(div_id, heading, figure_div(fig, div_id, height_px), figure=full)


def chart_dates(index: pd.DatetimeIndex) -> list[str]:
    # Session labels are dates; ISO date strings are a third the size of plotly's timestamps.
    return index.strftime("%Y-%m-%d").tolist()


def plain_text(text: object) -> str:
    # Plotly reads trace names as pseudo-HTML (<b>, <br>); escaping shows user text literally.
    return html.escape(str(text), quote=False)


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


# Markers shown when the page opens; every other label starts hidden ("legendonly"): a click on
# its legend entry shows it, a click on its group's title the whole group. Groups: trades, the
# central banks' decisions, the strategy's own.
VISIBLE_MARKERS = ("buy", "sell")
_GROUPS = (("trades", ("buy", "sell")), ("rate decisions", ("Fed ", "RBA ")))


def marker_group(label: str) -> str:
    """The legend group of a marker label: trades, rate decisions or the strategy's own."""
    for group, starts in _GROUPS:
        if any(label == s or label.startswith(s) for s in starts):
            return group
    return "strategy"


# Buys and sells look the same on every chart: green up, red down.
TRADE_STYLE = {"buy": ("triangle-up", "#1b7837"), "sell": ("triangle-down", "#b2182b")}


def _marker_trace(i: int, label: str, x: list[str], y: np.ndarray, visible: bool) -> dict:
    symbol, colour = TRADE_STYLE.get(
        label, (MARKER_SYMBOLS[i % len(MARKER_SYMBOLS)], MARKER_COLOURS[i % len(MARKER_COLOURS)])
    )
    style = {"symbol": symbol, "color": colour, "size": 9, "line": {"width": 1, "color": "white"}}
    group = marker_group(label)
    return {
        "type": "scatter",
        "x": x,
        "y": y,
        "mode": "markers",
        "name": plain_text(label),
        "marker": style,
        "legendgroup": group,
        "legendgrouptitle": {"text": group},
        "visible": True if visible else "legendonly",
        "hovertemplate": f"{plain_text(label)}<br>%{{x}}<br>%{{y:,.0f}}<extra></extra>",
    }


def marker_traces(
    index: pd.DatetimeIndex, values: np.ndarray, markers: Mapping[str, Sequence[pd.Timestamp]]
) -> list[dict]:
    """One marker trace per label with dates, placed on ``values``, grouped for the legend;
    only ``VISIBLE_MARKERS`` start visible."""
    x = chart_dates(index)
    out = []
    for i, (label, dates) in enumerate(markers.items()):
        pos = snap_to_sessions(index, dates)
        if len(pos):
            xs = [x[p] for p in pos]
            out.append(_marker_trace(i, label, xs, values[pos], label in VISIBLE_MARKERS))
    return out


def shade(periods: Sequence[tuple[str, str]]) -> list[dict]:
    """Layout shapes shading each (first, last) date period, e.g. the worst drawdowns."""
    return [
        {"type": "rect", "xref": "x", "yref": "y domain", "x0": a, "x1": b, "y0": 0, "y1": 1,
         "fillcolor": "rgba(178,24,43,0.10)", "line": {"width": 0}, "layer": "below"}
        for a, b in periods
    ]  # fmt: skip


def equity_chart(
    equity: pd.Series,
    benchmarks: Mapping[str, pd.Series],
    markers: Mapping[str, Sequence[pd.Timestamp]],
    shaded: Sequence[tuple[str, str]] = (),
) -> Chart:
    """Equity and benchmark curves (log y when all positive) with one marker trace per label,
    in legend groups that toggle (only buys and sells shown at first), and ``shaded`` periods."""
    x = chart_dates(equity.index)
    values = equity.to_numpy(float)
    data = [{"type": "scatter", "x": x, "y": values, "name": "strategy", "line": {"width": 2}}]
    for name, curve in benchmarks.items():
        y = curve.to_numpy(float)
        data.append(
            {"type": "scatter", "x": x, "y": y, "name": plain_text(name), "line": {"width": 1}}
        )
    data += marker_traces(equity.index, values, markers)
    log = _uses_log_axis(equity, benchmarks)
    title = {"text": "equity (log)" if log else "equity"}
    yaxis = {"type": "log" if log else "linear", "title": title}
    layout = {"yaxis": yaxis, "hovermode": "closest"}
    if shaded:
        layout["shapes"] = shade(shaded)
    heading = "Equity vs benchmarks" if benchmarks else "Equity"
    if shaded:
        heading += f" (the {len(shaded)} worst drawdowns shaded)"
    return Chart.of("chart-equity", heading, {"data": data, "layout": layout}, 460)


def drawdown(equity: pd.Series) -> pd.Series:
    """Fractional distance below the running peak: 0 at a new high, -0.25 when 25 % below."""
    return equity / equity.cummax() - 1.0


def drawdown_chart(equity: pd.Series) -> Chart:
    """Underwater chart of the strategy's drawdown."""
    trace = {
        "type": "scatter",
        "x": chart_dates(equity.index),
        "y": drawdown(equity).to_numpy(float),
        "name": "drawdown",
        "fill": "tozeroy",
        "line": {"width": 1, "color": "#b2182b"},
        "hovertemplate": "%{x}<br>%{y:.2%}<extra></extra>",
    }
    fig = {
        "data": [trace],
        "layout": {"yaxis": {"tickformat": ".0%", "title": {"text": "below peak"}}},
    }
    return Chart.of("chart-drawdown", "Drawdown (underwater)", fig, 260)


def weights_chart(weights: pd.DataFrame) -> Chart:
    """End-of-day weights: stacked with the cash residual when long-only, plain lines otherwise.

    Stacking signed weights would hide gross exposure, so any short or negative weight switches
    to one line per instrument.
    """
    x = chart_dates(weights.index)
    long_only = bool((weights.to_numpy(float) >= 0).all())
    style = {"stackgroup": "w"} if long_only else {"mode": "lines"}
    data = [
        {"type": "scatter", "x": x, "y": weights[col].to_numpy(float), "name": plain_text(col),
         "hovertemplate": "%{y:.1%}", **style}
        for col in weights.columns
    ]  # fmt: skip
    residual = 1.0 - weights.sum(axis=1).to_numpy(float)
    if long_only and (residual >= -1e-9).all() and (residual > 1e-9).any():
        data.append(
            {
                "type": "scatter",
                "x": x,
                "y": np.clip(residual, 0.0, None),
                "name": "cash (residual)",
                "stackgroup": "w",
                "hovertemplate": "%{y:.1%}",
                "line": {"width": 0.5, "color": "#bbbbbb"},
            }
        )
    yaxis = {"tickformat": ".0%", "title": {"text": "weight"}}
    fig = {"data": data, "layout": {"yaxis": yaxis, "hovermode": "x unified"}}
    return Chart.of("chart-weights", "Weights over time", fig, 320)


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
    trace = {
        "type": "heatmap",
        "z": z,
        "x": list(MONTHS),
        "y": [str(y) for y in grid.index],
        "colorscale": RDYLGN,
        "zmid": 0.0,
        "texttemplate": "%{z:.1%}",
        "hovertemplate": "%{y} %{x}: %{z:.2%}<extra></extra>",
        "colorbar": {"tickformat": ".0%"},
        "xgap": 1,
        "ygap": 1,
    }
    fig = {"data": [trace], "layout": {"yaxis": {"type": "category", "autorange": "reversed"}}}
    height = max(220, 80 + 26 * len(grid.index))
    return Chart.of("chart-monthly", "Monthly returns", fig, height)


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
    trace = {
        "type": "scatter",
        "x": chart_dates(equity.index),
        "y": rolling_sharpe(equity).to_numpy(float),
        "name": "rolling Sharpe",
        "line": {"width": 1.5, "color": "#2166ac"},
        "hovertemplate": "%{x}<br>%{y:.2f}<extra></extra>",
    }
    layout = {
        "shapes": [hline(0.0, {"width": 1, "color": "#888888"})],
        "yaxis": {"title": {"text": "Sharpe (ann.)"}},
    }
    fig = {"data": [trace], "layout": layout}
    return Chart.of("chart-rolling-sharpe", heading, fig, 280)


def build_charts(
    equity: pd.Series,
    benchmarks: Mapping[str, pd.Series],
    weights: pd.DataFrame,
    markers: Mapping[str, Sequence[pd.Timestamp]],
    shaded: Sequence[tuple[str, str]] = (),
) -> list[Chart]:
    """The five core charts (what ``RunResult.figures`` returns): equity (with ``shaded``
    periods), drawdown, weights, monthly returns, rolling Sharpe. The run page adds the panels of
    ``engine.report.run_panels``."""
    return [
        equity_chart(equity, benchmarks, markers, shaded),
        drawdown_chart(equity),
        weights_chart(weights),
        monthly_chart(equity),
        rolling_sharpe_chart(equity),
    ]


def on_page_sessions(chart: Chart, dates: list[str]) -> Chart:
    """``chart`` rewritten for a page that declared ``figures.sessions_script(dates)``: traces on
    those sessions take the page's one list of dates, floats are written as float32."""
    if not chart.fragment:
        return chart
    return replace(chart, fragment=sessions_div(chart.figure, chart.div_id, dates))
