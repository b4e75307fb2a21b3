"""The run report's tables: the metrics of the strategy beside its benchmarks', the worst
drawdowns and the yearly returns.

Lives here: ``metric_table_rows`` / ``metrics_table`` (one row per metric, labelled with its unit,
every value formatted by ``engine.stats.spec``), ``drawdown_table`` and ``yearly_table``. Not here:
the numbers (``engine.stats.metrics``, ``engine.report.run_panels``) or the page
(``engine.report.run_page``). Every cell is escaped.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from engine.report.page_parts import esc
from engine.stats import spec

# How each spec unit reads in a table's unit column ("money" is the base currency).
UNIT_TEXT = {
    "fraction": "%", "ratio": "ratio", "count": "count", "date": "date", "years": "years",
    "days": "calendar days", "sessions": "sessions", "per year": "sessions/year",
}  # fmt: skip


def unit_text(key: str, currency: str) -> str:
    """The unit of metric ``key`` as a table shows it; "" for a key the spec does not know."""
    metric = spec.METRICS.get(key)
    if metric is None:
        return ""
    return currency if metric.unit == "money" else UNIT_TEXT.get(metric.unit, metric.unit)


def metric_table_rows(
    columns: Mapping[str, Mapping[str, object]], currency: str
) -> list[tuple[str, str, list[str]]]:
    """(label, unit, one value per column) for every key of the first column: the headline
    metrics first, then the others in the spec's order, then keys the spec does not know. A
    column without the key shows "n/a"."""
    order = {k: i for i, k in enumerate(dict.fromkeys((*spec.HEADLINE, *spec.METRICS)))}
    first = next(iter(columns.values()), {})
    keys = sorted(first, key=lambda k: order.get(k, len(order)))
    return [
        (spec.label(k), unit_text(k, currency),
         [spec.format_value(k, col.get(k)) for col in columns.values()])
        for k in keys
    ]  # fmt: skip


def metrics_table(columns: Mapping[str, Mapping[str, object]], currency: str) -> str:
    """The metrics of each column (the strategy first) side by side, one row per metric."""
    head = "<th>metric</th><th>unit</th>" + "".join(
        f'<th class="num">{esc(c)}</th>' for c in columns
    )
    rows = [
        f'<tr><th>{esc(label)}</th><td class="unit">{esc(unit)}</td>'
        + "".join(f'<td class="num">{esc(v)}</td>' for v in values)
        + "</tr>"
        for label, unit, values in metric_table_rows(columns, currency)
    ]
    body = "".join(rows) or f'<tr><td colspan="{len(columns) + 2}">(none)</td></tr>'
    return (
        '<div class="scroll"><table class="grid metrics">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


def drawdown_table(periods: pd.DataFrame) -> str:
    """The worst drawdowns (``run_panels.drawdown_periods``): start, trough, recovery or "not
    recovered", depth and length, formatted as the spec's ``max_drawdown_*`` metrics."""
    head = "".join(
        f"<th>{esc(t)}</th>"
        for t in ("#", "start (peak)", "trough", "recovered", "depth (%)", "length (calendar days)")
    )
    rows = []
    for i, r in enumerate(periods.itertuples(), start=1):
        end = None if pd.isna(r.end) else r.end
        cells = (
            str(i),
            spec.format_value("max_drawdown_start", r.start),
            spec.format_value("max_drawdown_trough", r.trough),
            spec.format_value("max_drawdown_end", end),
            spec.format_value("max_drawdown", r.depth),
            spec.format_value("max_drawdown_days", r.days),
        )
        rows.append("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in cells) + "</tr>")
    body = "".join(rows) or '<tr><td colspan="6">No drawdowns: equity never fell.</td></tr>'
    return (
        '<div class="scroll"><table class="grid">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"
    )


def yearly_table(table: pd.DataFrame) -> str:
    """Calendar-year returns (``run_panels.yearly_returns``), one row per year, percentages."""
    head = "<th>year</th>" + "".join(f'<th class="num">{esc(c)} (%)</th>' for c in table.columns)
    rows = [
        f"<tr><th>{year}</th>"
        + "".join(
            f'<td class="num">{esc(spec.format_value("total_return", v))}</td>' for v in values
        )  # fmt: skip
        + "</tr>"
        for year, values in zip(table.index, table.to_numpy(float).tolist(), strict=True)
    ]
    return (
        '<div class="scroll"><table class="grid">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )
