"""The grid report's charts: how the ranking metric moves with each parameter and parameter pair.

Lives here: the axis order of a parameter (``axis_values``), the aggregations the charts plot
(``by_value``: best / median / worst of the metric per value of one parameter; ``by_pair``: the
best per pair of values), which pairs get a heatmap (``choose_pairs``), the chart builders and
``sensitivity_charts``, which makes them all with fixed div ids: ``chart-param-<i>`` for the i-th
varied parameter, ``chart-pair-<k>`` for the k-th drawn pair.
``LOG_AXIS`` / ``with_log_ticks`` label log axes with full values.
Not here: the page, its tables and the honesty panel (``engine.report.grid_page``), the winner's
equity and drawdown charts (``engine.report.run_charts``, reused as they are), the figures' shared look
and HTML (``engine.report.figures``).

Every chart plots an aggregate, never the raw table, so the page size grows with the number of
distinct parameter values, not with the number of combos: a 100,000-row grid is a few groupbys.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd

from engine.report.figures import RDYLGN
from engine.report.page_parts import fmt_value
from engine.report.run_charts import Chart, plain_text
from engine.stats import spec

MAX_PAIRS = 6  # heatmaps drawn at most; C(4, 2) = 6, so the four most influential parameters
PAIR_PARAMS = 4
_TEXT_CELLS = 400  # heatmaps with more cells than this drop the printed values
# plotly/d3 number formats of the spec's kinds (engine.stats.spec): charts read as the tables do
D3_FORMATS = {"pct": ".2%", "ratio": ".2f", "count": ",.0f", "money": ",.2f", "number": ",.2f"}
# A log axis spanning less than a decade labels its minor ticks with one digit ("5, 4, 3, 2, 100k,
# 9, 8"): with a tick format plotly writes every tick's full value (SI: 80k, 100k, 200k, 1M).
LOG_AXIS = {"type": "log", "tickformat": "~s", "exponentformat": "SI"}
# A legend below the plot sits on an x axis title; anchored to the figure's bottom edge instead,
# plotly makes room for it under the title (charts' legends are below the plot: figures.page_layout).
BELOW_AXIS_TITLE = {"yref": "container", "yanchor": "bottom", "y": 0.0}
_BEST = "#2166ac"
_MEDIAN = "#e08214"
_WORST = "#9aa5b1"


def metric_format(metric: str) -> str:
    """The d3 format plotly uses for hover and cell text of ``metric``."""
    metric_spec = spec.METRICS.get(metric)
    return D3_FORMATS.get(metric_spec.kind if metric_spec else "", ".4g")


def with_log_ticks(chart: Chart) -> Chart:
    """``chart`` with ``LOG_AXIS``'s tick format on its y axis when that axis is a log axis (the
    winner's equity chart, drawn by ``engine.report.run_charts``); any other chart as it is."""
    layout = chart.figure.get("layout", {}) if chart.fragment else {}
    yaxis = layout.get("yaxis") or {}
    if yaxis.get("type") != "log":
        return chart
    fig = {"data": chart.figure["data"], "layout": {**layout, "yaxis": {**yaxis, **LOG_AXIS}}}
    return Chart.of(chart.div_id, chart.heading, fig, int(layout.get("height", 460)))


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def axis_values(column: pd.Series) -> tuple[list, bool]:
    """Distinct values of one parameter column in axis order, and whether they are numeric.

    Numbers sort numerically (object columns of numbers too, as ``Space.sample`` makes them);
    anything else - choices, flags - keeps the order of first appearance in the table.
    """
    uniques = list(pd.unique(column))
    numeric = all(_is_number(v) for v in uniques)
    return (sorted(uniques) if numeric else uniques), numeric


def tick_labels(values: Sequence[object]) -> list[str]:
    """Unique, plotly-safe labels for category axes (six significant digits unless that clashes)."""
    labels = [fmt_value(v) for v in values]
    if len(set(labels)) < len(labels):
        labels = [repr(v) for v in values]
    return [plain_text(label) for label in labels]


def by_value(data: pd.DataFrame, param: str, higher_is_better: bool) -> pd.DataFrame:
    """Metric per value of ``param`` over every other parameter, in axis order.

    ``data`` has the parameter columns and a float ``metric`` column. Returns columns best,
    median, worst (NaN metrics are ignored; all-NaN groups give NaN) and count (rows per value).
    """
    grouped = data.groupby(param, sort=False, dropna=False)["metric"]
    stats = grouped.agg(["max", "median", "min", "size"])
    order, _ = axis_values(data[param])
    stats = stats.reindex(order)
    best, worst = ("max", "min") if higher_is_better else ("min", "max")
    return pd.DataFrame(
        {
            "best": stats[best].to_numpy(float),
            "median": stats["median"].to_numpy(float),
            "worst": stats[worst].to_numpy(float),
            "count": stats["size"].fillna(0).to_numpy(np.int64),
        },
        index=stats.index,
    )


def by_pair(data: pd.DataFrame, x: str, y: str, higher_is_better: bool) -> pd.DataFrame:
    """Best metric per (y value, x value) over the remaining parameters: rows y, columns x."""
    grouped = data.groupby([y, x], sort=False, dropna=False)["metric"]
    best = grouped.max() if higher_is_better else grouped.min()
    grid = best.unstack(x)
    return grid.reindex(index=axis_values(data[y])[0], columns=axis_values(data[x])[0])


def spread(best: pd.Series) -> float:
    """How much the best metric moves across a parameter's values (0 when it cannot be told)."""
    finite = best.to_numpy(float)
    finite = finite[np.isfinite(finite)]
    return float(finite.max() - finite.min()) if finite.size > 1 else 0.0


def choose_pairs(varied: Sequence[str], spreads: Sequence[float]) -> list[tuple[str, str]]:
    """Parameter pairs to draw: all of them for up to four varied parameters, else every pair of
    the four whose value moves the best metric most (ties keep the parameters' order)."""
    names = list(varied)
    if len(names) > PAIR_PARAMS:
        ranked = sorted(range(len(names)), key=lambda i: -spreads[i])[:PAIR_PARAMS]
        names = [names[i] for i in sorted(ranked)]
    return list(itertools.combinations(names, 2))[:MAX_PAIRS]


def _none(values: np.ndarray) -> list:
    # None, not NaN, so a missing value is a gap and never a "NaN" label.
    return [None if not np.isfinite(v) else round(float(v), 8) for v in values]


def param_chart(
    div_id: str, param: str, stats: pd.DataFrame, numeric: bool, metric: tuple[str, str]
) -> Chart:
    """Best / median / worst of the ranking metric per value of one parameter.

    ``metric`` is (key, label). A numeric parameter gets a numeric x axis with lines; a
    categorical one gets categories in table order with markers only.
    """
    key, label = metric
    fmt = metric_format(key)
    x = [float(v) for v in stats.index] if numeric else tick_labels(list(stats.index))
    mode = "lines+markers" if numeric else "markers"
    counts = stats["count"].to_numpy()
    single = bool((counts <= 1).all())  # nothing else varies: best = median = worst
    series = [("best", _BEST, "solid")] if single else [
        ("best", _BEST, "solid"), ("median", _MEDIAN, "dash"), ("worst", _WORST, "dot"),
    ]  # fmt: skip
    data = [
        {
            "type": "scatter",
            "x": x,
            "y": _none(stats[name].to_numpy(float)),
            "name": plain_text(label) if single else name,
            "mode": mode,
            "line": {"color": colour, "dash": dash, "width": 2 if name == "best" else 1.5},
            "marker": {"size": 8 if name == "best" else 6, "color": colour},
            "customdata": counts.tolist(),
            "hovertemplate": f"%{{x}}: %{{y:{fmt}}} ({name} of %{{customdata}})<extra></extra>",
        }
        for name, colour, dash in series
    ]
    x_type = "linear" if numeric else "category"
    layout = {
        "xaxis": {"title": {"text": plain_text(param)}, "type": x_type, "automargin": True},
        "yaxis": {"title": {"text": plain_text(label)}, "tickformat": fmt.replace(".2%", ".1%")},
        "hovermode": "closest",
        "showlegend": not single,
        "legend": BELOW_AXIS_TITLE,
    }
    fig = {"data": data, "layout": layout}
    heading = f"{label} by {param}"
    return Chart.of(div_id, heading, fig, 300)


def pair_chart(
    div_id: str, x: str, y: str, grid: pd.DataFrame, metric: tuple[str, str], higher: bool
) -> Chart:
    """Heatmap of the best ranking metric per pair of values (green is better either way)."""
    key, label = metric
    fmt = metric_format(key)
    z = [_none(row) for row in grid.to_numpy(float)]
    text = {"texttemplate": f"%{{z:{fmt}}}"} if grid.size <= _TEXT_CELLS else {}
    trace = {
        "type": "heatmap",
        "z": z,
        "x": tick_labels(list(grid.columns)),
        "y": tick_labels(list(grid.index)),
        "colorscale": RDYLGN,
        "reversescale": not higher,
        "hovertemplate": (
            f"{plain_text(x)}=%{{x}}<br>{plain_text(y)}=%{{y}}<br>best: %{{z:{fmt}}}<extra></extra>"
        ),
        "colorbar": {"tickformat": fmt.replace(".2%", ".1%"), "title": {"text": "best"}},
        "xgap": 1,
        "ygap": 1,
        **text,
    }
    layout = {
        "xaxis": {"title": {"text": plain_text(x)}, "type": "category", "automargin": True},
        "yaxis": {"title": {"text": plain_text(y)}, "type": "category", "automargin": True},
    }
    fig = {"data": [trace], "layout": layout}
    height = min(640, max(280, 110 + 24 * len(grid.index)))
    heading = f"Best {label}: {y} × {x}"
    return Chart.of(div_id, heading, fig, height)


def sensitivity_charts(
    data: pd.DataFrame, varied: Sequence[str], metric: tuple[str, str], higher: bool
) -> tuple[list[Chart], list[Chart], str, str]:
    """(1-D charts, heatmaps, note above the 1-D charts, note above the heatmaps).

    ``data`` has the varied parameter columns and the ranking metric as a float ``metric`` column;
    ``metric`` is (key, label); ``higher`` says whether a higher metric is better.
    """
    label = metric[1]
    if not varied:
        one = "Only one combination was run (no parameter varies): there is nothing to compare."
        return [], [], one, "No heatmap: no parameter varies."
    lines, spreads = [], []
    for i, param in enumerate(varied):
        stats = by_value(data, param, higher)
        numeric = axis_values(data[param])[1]
        lines.append(param_chart(f"chart-param-{i}", param, stats, numeric, metric))
        spreads.append(spread(stats["best"]))
    one = (
        f"For each value of a varied parameter: the best, median and worst {label} over every "
        "combination of the other parameters."
    )
    if len(varied) == 1:
        why = f"No heatmap: heatmaps need two varied parameters; only {varied[0]} varies."
        return lines, [], one, why
    pairs = choose_pairs(varied, spreads)
    maps = [
        pair_chart(f"chart-pair-{k}", x, y, by_pair(data, x, y, higher), metric, higher)
        for k, (x, y) in enumerate(pairs)
    ]
    total = len(varied) * (len(varied) - 1) // 2
    two = f"Each cell: the best {label} over every combination of the other parameters."
    if total > len(pairs):
        two += (
            f" Showing {len(pairs)} of {total} pairs: those among the {PAIR_PARAMS} parameters "
            f"whose value moves the best {label} the most."
        )
    return lines, maps, one, two
