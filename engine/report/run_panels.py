"""The run report's panels beyond ``run_charts``: yearly returns, the worst drawdowns, return
distributions, rolling volatility and beta, trades on the traded asset's price, the event study.

Lives here: the computations (``yearly_returns``, ``drawdown_periods``, ``period_returns``,
``rolling_volatility``, ``rolling_beta``, ``histogram``) and one builder per chart. Not here: the
equity, drawdown, weights, monthly and rolling Sharpe charts (``engine.report.run_charts``), the
tables that go with these charts (``engine.report.run_tables``) or the page
(``engine.report.run_page``).

Builders take plain pandas objects (and an ``EventStudy``), so each can be tested alone; inputs
are assumed validated by ``ReportContext``. A chart with nothing to draw is returned skipped, with
the reason shown instead.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from engine.report.figures import hline
from engine.report.run_charts import (
    SESSIONS_PER_YEAR,
    TRADE_STYLE,
    Chart,
    chart_dates,
    plain_text,
)

# The strategy first, then the benchmarks in the colourway's order.
COLOURS = ("#636efa", "#EF553B", "#00cc96", "#ab63fa", "#FFA15A", "#19d3f3")
DRAWDOWNS = 5  # the worst drawdowns tabled and shaded


# --- computations -----------------------------------------------------------------------------


def yearly_returns(curves: Mapping[str, pd.Series]) -> pd.DataFrame:
    """Calendar-year returns (fractions), year x curve; a curve's first year is measured from its
    first valid value, so a partial first year counts; NaN before a curve starts."""
    out = {}
    for name, curve in curves.items():
        s = curve.dropna()
        if s.empty:
            continue
        year_end = s.groupby(s.index.year).last()
        previous = year_end.shift(1)
        previous.iloc[0] = s.iloc[0]
        out[name] = year_end / previous - 1.0
    return pd.DataFrame(out)


def period_returns(curve: pd.Series, freq: str) -> pd.Series:
    """Returns of ``curve`` per session (``freq`` "D") or calendar month ("M"; the first month from
    the first valid value), NaN dropped."""
    s = curve.dropna()
    if freq == "D":
        return s.pct_change().dropna()
    month_end = s.groupby(s.index.to_period("M")).last()
    previous = month_end.shift(1)
    if len(previous):
        previous.iloc[0] = s.iloc[0]
    return (month_end / previous - 1.0).dropna()


def drawdown_periods(equity: pd.Series, top: int = DRAWDOWNS) -> pd.DataFrame:
    """The ``top`` deepest drawdowns, deepest first: start (the peak's session), trough, end (the
    session equity regained the peak; NaT when it has not), depth (negative fraction) and days
    (calendar days from the peak to the recovery, or to the last session), as the spec's
    ``max_drawdown_*`` metrics count them."""
    values = equity.to_numpy(float)
    peak = np.maximum.accumulate(values)
    under = values < peak
    edges = np.flatnonzero(np.diff(np.concatenate(([0], under.astype(np.int8), [0]))))
    rows = []
    for first, stop in zip(edges[::2], edges[1::2], strict=True):  # [first, stop) under water
        trough = first + int(np.argmin(values[first:stop] / peak[first:stop]))
        start = first - 1  # the peak (the first session is its own peak, so first >= 1)
        end = equity.index[stop] if stop < len(values) else pd.NaT
        last = end if stop < len(values) else equity.index[-1]
        rows.append({
            "start": equity.index[start], "trough": equity.index[trough], "end": end,
            "depth": values[trough] / peak[trough] - 1.0,
            "days": int((last - equity.index[start]).days),
        })  # fmt: skip
    table = pd.DataFrame(rows, columns=["start", "trough", "end", "depth", "days"])
    return table.sort_values("depth", kind="stable").head(top).reset_index(drop=True)


def rolling_volatility(curve: pd.Series, window: int = SESSIONS_PER_YEAR) -> pd.Series:
    """Annualised standard deviation of session returns over a trailing ``window`` sessions."""
    return curve.pct_change().rolling(window).std() * np.sqrt(SESSIONS_PER_YEAR)


def rolling_beta(curve: pd.Series, bench: pd.Series, window: int = SESSIONS_PER_YEAR) -> pd.Series:
    """cov(r, b) / var(b) of session returns over a trailing ``window`` sessions; NaN where the
    benchmark has no data or does not move."""
    r, b = curve.pct_change(), bench.pct_change()
    var = b.rolling(window).var()
    return r.rolling(window).cov(b) / var.where(var > 1e-14)


def histogram(samples: Mapping[str, pd.Series], bins: int) -> tuple[np.ndarray, dict]:
    """Shared bin edges over every sample, and each sample's share of observations per bin."""
    pooled = np.concatenate([s.to_numpy(float) for s in samples.values()])
    lo, hi = (float(pooled.min()), float(pooled.max())) if pooled.size else (0.0, 0.0)
    if hi <= lo:
        lo, hi = lo - 0.005, hi + 0.005
    edges = np.linspace(lo, hi, bins + 1)
    shares = {}
    for name, s in samples.items():
        counts, _ = np.histogram(s.to_numpy(float), bins=edges)
        shares[name] = counts / max(len(s), 1)
    return edges, shares


# --- charts -----------------------------------------------------------------------------------


def _need(div_id: str, heading: str, sessions: int, need: int) -> Chart | None:
    if sessions >= need:
        return None
    reason = f"Skipped: the run has {sessions} sessions; a full window needs {need}."
    return Chart(div_id, heading, skipped=reason)


def yearly_chart(table: pd.DataFrame) -> Chart:
    """Grouped bars of each curve's calendar-year returns."""
    data = [
        {"type": "bar", "x": [str(y) for y in table.index], "y": table[name].to_numpy(float),
         "name": plain_text(name), "marker": {"color": COLOURS[i % len(COLOURS)]},
         "hovertemplate": f"{plain_text(name)} %{{x}}: %{{y:.2%}}<extra></extra>"}
        for i, name in enumerate(table.columns)
    ]  # fmt: skip
    layout = {"barmode": "group", "yaxis": {"tickformat": ".0%", "title": {"text": "return"}},
              "xaxis": {"type": "category"}}  # fmt: skip
    return Chart.of("chart-yearly", "Yearly returns", {"data": data, "layout": layout}, 320)


def distribution_chart(div_id: str, what: str, samples: Mapping[str, pd.Series]) -> Chart:
    """Overlaid histograms (share of observations per bin) of ``what`` returns per curve."""
    heading = f"Distribution of {what} returns"
    if not any(len(s) > 1 for s in samples.values()):
        return Chart(div_id, heading, skipped=f"Skipped: fewer than two {what} returns.")
    edges, shares = histogram(samples, 60 if what == "daily" else 40)
    mids, width = (edges[:-1] + edges[1:]) / 2, float(edges[1] - edges[0])
    data = [
        {"type": "bar", "x": mids, "y": share, "width": width, "name": plain_text(name),
         "opacity": 0.6, "marker": {"color": COLOURS[i % len(COLOURS)]},
         "hovertemplate": f"{plain_text(name)}: %{{y:.1%}} of {what} returns "
                          "near %{x:.2%}<extra></extra>"}
        for i, (name, share) in enumerate(shares.items())
    ]  # fmt: skip
    layout = {"barmode": "overlay", "bargap": 0,
              "xaxis": {"tickformat": ".0%"},
              "yaxis": {"tickformat": ".0%", "title": {"text": "share"}}}  # fmt: skip
    return Chart.of(div_id, heading, {"data": data, "layout": layout}, 300)


def rolling_volatility_chart(equity: pd.Series, bench: tuple[str, pd.Series] | None) -> Chart:
    """Rolling 1-year volatility of the strategy and its benchmark."""
    heading = f"Rolling 1-year volatility ({SESSIONS_PER_YEAR} sessions)"
    skipped = _need("chart-rolling-vol", heading, len(equity), SESSIONS_PER_YEAR + 1)
    if skipped:
        return skipped
    x = chart_dates(equity.index)
    curves = {"strategy": equity, **({bench[0]: bench[1]} if bench else {})}
    data = [
        {"type": "scatter", "x": x, "y": rolling_volatility(c).to_numpy(float),
         "name": plain_text(name), "line": {"width": 1.5, "color": COLOURS[i]},
         "hovertemplate": f"{plain_text(name)}<br>%{{x}}<br>%{{y:.1%}}<extra></extra>"}
        for i, (name, c) in enumerate(curves.items())
    ]  # fmt: skip
    layout = {"yaxis": {"tickformat": ".0%", "title": {"text": "volatility (ann.)"}}}
    return Chart.of("chart-rolling-vol", heading, {"data": data, "layout": layout}, 280)


def rolling_beta_chart(equity: pd.Series, bench: tuple[str, pd.Series] | None) -> Chart:
    """Rolling 1-year beta of the strategy against its benchmark."""
    heading = f"Rolling 1-year beta ({SESSIONS_PER_YEAR} sessions)"
    if bench is None:
        return Chart("chart-rolling-beta", heading, skipped="Skipped: the run has no benchmark.")
    heading = f"Rolling 1-year beta vs {bench[0]} ({SESSIONS_PER_YEAR} sessions)"
    skipped = _need("chart-rolling-beta", heading, len(equity), SESSIONS_PER_YEAR + 1)
    if skipped:
        return skipped
    trace = {"type": "scatter", "x": chart_dates(equity.index),
             "y": rolling_beta(equity, bench[1]).to_numpy(float), "name": "rolling beta",
             "line": {"width": 1.5, "color": "#762a83"},
             "hovertemplate": "%{x}<br>beta %{y:.2f}<extra></extra>"}  # fmt: skip
    layout = {"shapes": [hline(1.0, {"width": 1, "color": "#888888", "dash": "dot"})],
              "yaxis": {"title": {"text": "beta"}}}  # fmt: skip
    return Chart.of("chart-rolling-beta", heading, {"data": [trace], "layout": layout}, 280)


def price_chart(price: pd.Series, fills: pd.DataFrame) -> Chart:
    """The traded asset's close with its buys and sells at their fill prices (``fills``: one row
    per order, with ``session``, ``price`` and ``units``)."""
    name = plain_text(price.name)
    data = [{"type": "scatter", "x": chart_dates(price.index), "y": price.to_numpy(float),
             "name": name, "line": {"width": 1.2, "color": "#52606d"},
             "hovertemplate": "%{x}<br>%{y:,.2f}<extra></extra>"}]  # fmt: skip
    for label, side in (("buy", 1), ("sell", -1)):
        symbol, colour = TRADE_STYLE[label]
        rows = fills[np.sign(fills["units"].to_numpy(float)) == side]
        if rows.empty:
            continue
        data.append({
            "type": "scatter", "mode": "markers", "name": label, "legendgroup": "trades",
            "x": chart_dates(pd.DatetimeIndex(rows["session"])),
            "y": rows["price"].to_numpy(float),
            "marker": {"symbol": symbol, "color": colour, "size": 10,
                       "line": {"width": 1, "color": "white"}},
            "hovertemplate": f"{label}<br>%{{x}}<br>%{{y:,.2f}}<extra></extra>",
        })  # fmt: skip
    positive = bool((price.dropna() > 0).all())
    layout = {"yaxis": {"type": "log" if positive else "linear", "title": {"text": name}},
              "hovermode": "closest"}  # fmt: skip
    heading = f"Trades on {name}" + ("" if len(data) > 1 else " (no trades in it)")
    return Chart.of("chart-price", heading, {"data": data, "layout": layout}, 380)


def _band(x: list[str], low: np.ndarray, high: np.ndarray, colour: str, name: str) -> list[dict]:
    edge = {"type": "scatter", "x": x, "mode": "lines", "line": {"width": 0},
            "showlegend": False, "hoverinfo": "skip", "legendgroup": name}  # fmt: skip
    return [{**edge, "y": high}, {**edge, "y": low, "fill": "tonexty", "fillcolor": colour}]


def event_study_chart(study) -> Chart:
    """Mean forward return after the signals and over all sessions, by horizon, each with its
    bootstrap interval as a band (``study``: an ``EventStudy``)."""
    s = study.summary
    heading = f"Event study: {plain_text(study.asset)} after signals vs all sessions"
    if s.empty:
        return Chart("chart-event-study", heading, skipped="Skipped: no horizons.")
    x = [f"{h} session{'s' * (h != 1)}" for h in s["horizon"]]
    level = f"{study.config.level:.0%}"
    data = []
    for suffix, name, colour, fill in (
        ("_all", "all sessions", "#7b8794", "rgba(123,135,148,0.2)"),
        ("", "after signals", "#d62728", "rgba(214,39,40,0.18)"),
    ):
        low, high = (s[f"ci_low{suffix}"].to_numpy(float), s[f"ci_high{suffix}"].to_numpy(float))
        data += _band(x, low, high, fill, name)
        n = s[f"n{suffix}"].to_numpy()
        data.append({
            "type": "scatter", "x": x, "y": s[f"mean{suffix}"].to_numpy(float),
            "mode": "lines+markers", "name": f"{name} (mean, {level} band)",
            "legendgroup": name, "line": {"color": colour, "width": 2}, "customdata": n,
            "hovertemplate": f"{name}<br>%{{x}}: %{{y:.2%}} (n = %{{customdata}})<extra></extra>",
        })  # fmt: skip
    layout = {"yaxis": {"tickformat": ".1%", "title": {"text": "mean forward return"}},
              "xaxis": {"type": "category"},
              "shapes": [hline(0.0, {"width": 1, "color": "#888888"})]}  # fmt: skip
    return Chart.of("chart-event-study", heading, {"data": data, "layout": layout}, 320)
