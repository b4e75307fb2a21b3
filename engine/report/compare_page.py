"""The comparison report: one self-contained, offline HTML page for a ``backtest compare`` run.

Lives here: ``CompareReportContext`` (everything the page shows, validated), ``compare_context``
(built from an ``engine.research.compare.Comparison``), the comparison's charts
(``compare_charts``), its tables (inputs, metrics side by side, Sharpe tests with plain verdicts) and
``render_compare_report`` / ``write_compare_report``. Shared with every page: the CSS, error
hook, status script, banner, notes and provenance sections (``engine.report.page_parts``), metric
labels and formats (``engine.stats.spec``), the chart template and ``Chart.of``
(``engine.report.figures``). Not here: the statistics (``compare``).

As the run report: fixed div ids (``chart-equity``, ``chart-drawdown``, ``chart-correlation``,
``chart-sharpe-diff``) make the page byte-identical for the same context; plotly.js is inlined
once; every user string is escaped; a banner says so when any input ran on synthetic sample data.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pandas as pd

from engine.report.compare_charts import (
    correlation_chart,
    drawdown_overlay_chart,
    equity_overlay_chart,
    finite,
    sharpe_diff_chart,
)
from engine.report.figures import packed_plotlyjs, sessions_script
from engine.report.page_parts import (
    ERROR_HOOK,
    PAGE_CSS,
    SYNTHETIC_BANNER,
    SYNTHETIC_NOTE,
    as_floats,
    chart_section,
    check_index,
    check_values,
    esc,
    fmt_value,
    notes_section,
    page_end,
    provenance_section,
)
from engine.report.run_charts import chart_dates, on_page_sessions
from engine.stats import spec

# The headline metrics, then what a side-by-side reader also asks: how often trades won, the end.
TABLE_METRICS = (*spec.HEADLINE, "win_rate", "final_equity")
SIGNIFICANCE = 0.05  # two-sided p-value below this: the Sharpe ratios differ


def _fail(field: str, problem: str, found: object, fix: str) -> NoReturn:
    raise ValueError(f"CompareReportContext.{field}: {problem}; found {found}. Fix: {fix}.")


@dataclass(frozen=True)
class CompareReportContext:
    """Everything the comparison page shows.

    ``equity``: common sessions (tz-naive) x one column per input label, base currency;
    ``benchmark``: (name, curve on the same sessions, NaN allowed) or None; ``inputs``: one mapping
    per input with ``label``, ``strategy``, ``rule`` and ``changed`` (parameters off their
    defaults); ``metrics``: label -> metric dict (``engine.stats.metrics`` keys), plus the benchmark's
    under its name; ``correlations``: label x label; ``tests``: ``engine.research.compare.sharpe_tests``
    rows; ``bootstrap``: its settings (``resamples``, ``block``, ``seed``, ``level``).
    """

    title: str
    inputs: Sequence[Mapping[str, Any]]
    equity: pd.DataFrame
    benchmark: tuple[str, pd.Series] | None
    metrics: Mapping[str, Mapping[str, Any]]
    correlations: pd.DataFrame
    tests: Sequence[Mapping[str, Any]]
    bootstrap: Mapping[str, Any]
    base_currency: str
    synthetic: bool
    summary: str = ""
    notes: Sequence[str] = ()
    provenance: Sequence[Mapping[str, object]] = ()

    def __post_init__(self) -> None:
        labels = [str(i["label"]) for i in self.inputs]
        if len(labels) < 2 or len(set(labels)) != len(labels):
            _fail("inputs", "needs two or more distinct labels", labels, "label each input once")
        if not isinstance(self.equity, pd.DataFrame) or list(self.equity.columns) != labels:
            found = getattr(self.equity, "columns", type(self.equity).__name__)
            _fail("equity", "columns must be the input labels in order", list(found), "reorder")
        if self.equity.empty:
            _fail("equity", "has no sessions", 0, "pass at least one session")
        check_index("equity", self.equity.index, None)
        check_values("equity", as_floats("equity", self.equity), allow_nan=False)
        if self.benchmark is not None:
            check_index("benchmark", self.benchmark[1].index, self.equity.index)
        corr = self.correlations
        if list(corr.index) != labels or list(corr.columns) != labels:
            _fail("correlations", "must be label x label", corr.shape, "pass compare's matrix")
        missing = [k for k in labels if k not in self.metrics]
        if missing:
            _fail("metrics", "lacks inputs", missing, "pass every input's metrics")


# --- tables -----------------------------------------------------------------------------------


def _grid_table(
    head: Sequence[str], rows: Sequence[Sequence[str]], num_from: int, table_css: str = ""
) -> str:
    """A table whose columns from ``num_from`` on are right-aligned numbers."""
    cells = "".join(
        f'<th class="{"num" if i >= num_from else ""}">{esc(h)}</th>' for i, h in enumerate(head)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{"num" if i >= num_from else ""}">{esc(c)}</td>' for i, c in enumerate(r)
        )
        + "</tr>"
        for r in rows
    )
    return (
        f'<div class="scroll"><table class="grid {table_css}"><thead><tr>{cells}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _inputs_section(ctx: CompareReportContext) -> str:
    rows = [
        (
            f"#{n}",
            str(i["label"]),
            str(i["strategy"]),
            fmt_value(i["changed"]) or "defaults",
            str(i["rule"]),
        )
        for n, i in enumerate(ctx.inputs, start=1)
    ]
    head = ("#", "input", "strategy", "parameters changed", "rule")
    table = _grid_table(head, rows, num_from=len(head), table_css="inputs")
    return f"<section><h2>Inputs</h2>{table}</section>"


def metrics_section(ctx: CompareReportContext) -> str:
    columns = list(ctx.metrics)
    rows = []
    for key in TABLE_METRICS:
        cells = [spec.format_value(key, ctx.metrics[c].get(key)) for c in columns]
        rows.append((spec.label(key, ctx.base_currency), *cells))
    table = _grid_table(("metric", *columns), rows, num_from=1)
    return f"<section><h2>Metrics side by side</h2>{table}</section>"


def _sessions(value: object) -> str:
    return f"{float(value):.2f}" if finite(value) else "n/a"  # type: ignore[arg-type]


def _verdict(t: Mapping[str, Any]) -> str:
    p, d = t.get("p_value"), t.get("difference")
    if not (finite(p) and finite(d)):
        return "Not computable: a Sharpe ratio is undefined (constant excess returns)."
    side = "higher" if d > 0 else "lower"
    if p < SIGNIFICANCE:
        return f"Different: its Sharpe is {side} than the first's (p < {SIGNIFICANCE})."
    return f"Not distinguishable (p >= {SIGNIFICANCE}): a difference this size could be luck."


def _tests_section(ctx: CompareReportContext) -> str:
    b = ctx.bootstrap
    level = float(b.get("level", 0.95))
    number = {str(i["label"]): f"#{n}" for n, i in enumerate(ctx.inputs, start=1)}
    rows = []
    for t in ctx.tests:
        lo, hi = t["difference_ci"]
        rows.append(
            (
                f"{number.get(str(t['input']), '')} {t['input']}",
                spec.format_value("sharpe", t["sharpe"]),
                spec.format_value("sharpe", t["difference"]),
                f"{spec.format_value('sharpe', lo)} to {spec.format_value('sharpe', hi)}",
                f"{t['p_value']:.3f}" if finite(t["p_value"]) else "n/a",
                _verdict(t),
            )
        )
    head = ("input", "Sharpe", "minus #1's", f"{level:.0%} interval", "p-value", "verdict")
    first = str(ctx.inputs[0]["label"])
    how = (
        f"Against #1, {first} (Sharpe {spec.format_value('sharpe', _first_sharpe(ctx))}). "
        "Annualised Sharpe ratios of daily returns over cash on the common sessions. Paired "
        f"stationary bootstrap (Politis & Romano 1994): {fmt_value(b.get('resamples'))} resamples, "
        f"mean block {_sessions(b.get('block'))} sessions, seed "
        f"{fmt_value(b.get('seed'))}; the same resample indices for both series. Percentile "
        "interval; two-sided p-value of no difference from the centred bootstrap distribution."
    )
    return (
        "<section><h2>Sharpe ratio against the first input</h2>"
        f"{_grid_table(head, rows, num_from=1, table_css='tests')}"
        f'<p class="small">{esc(how)}</p></section>'
    )


def _first_sharpe(ctx: CompareReportContext) -> object:
    return ctx.tests[0]["sharpe_first"] if ctx.tests else None


_COMPARE_CSS = """
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.inputs td:nth-child(2),table.inputs td:nth-child(3),table.inputs td:nth-child(4){min-width:16ch}
table.inputs td:last-child{font-size:12px;color:#52606d}table.inputs td:first-child{white-space:nowrap}
table.tests td:first-child{min-width:18ch}
table.tests td:last-child{white-space:normal;text-align:left}
"""


def _head(ctx: CompareReportContext) -> str:
    return (
        '<head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(ctx.title)} — crosscurrent comparison</title>"
        f"<style>{PAGE_CSS}{_COMPARE_CSS}</style><script>{ERROR_HOOK}</script>"
        f"<script>{packed_plotlyjs()}</script>"
        f"<script>{sessions_script(chart_dates(ctx.equity.index))}</script></head>"
    )


def render_compare_report(ctx: CompareReportContext) -> str:
    """The whole comparison page as one HTML document; the same context gives the same bytes."""
    charts = [
        equity_overlay_chart(ctx.equity, ctx.benchmark, ctx.base_currency),
        drawdown_overlay_chart(ctx.equity),
        correlation_chart(ctx.correlations),
        sharpe_diff_chart(
            ctx.tests,
            [str(i["label"]) for i in ctx.inputs],
            float(ctx.bootstrap.get("level", 0.95)),
        ),
    ]
    dates = chart_dates(ctx.equity.index)  # written once in the head, shared by the curves
    charts = [on_page_sessions(c, dates) for c in charts]
    ids = json.dumps([c.div_id for c in charts if c.fragment])
    banner = (
        f'<div class="banner" role="alert">{esc(SYNTHETIC_BANNER)}</div>' if ctx.synthetic else ""
    )
    body = (
        f'<body>{banner}<main><h1>{esc(ctx.title)}</h1><p class="rule">{esc(ctx.summary)}</p>'
        f"{_inputs_section(ctx)}{metrics_section(ctx)}{_tests_section(ctx)}"
        f"{notes_section(ctx.notes)}"
        + "".join(chart_section(c) for c in charts)
        + provenance_section(ctx.provenance)
        + f"<footer>Base currency: {esc(ctx.base_currency)}. Generated by crosscurrent.</footer>"
        + page_end(ids)
    )
    return f'<!DOCTYPE html>\n<html lang="en">{_head(ctx)}{body}</html>\n'


def write_compare_report(path: Path, cmp) -> None:
    """Render a ``Comparison`` (or a ready ``CompareReportContext``) to ``path`` as UTF-8."""
    ctx = cmp if isinstance(cmp, CompareReportContext) else compare_context(cmp)
    Path(path).write_text(render_compare_report(ctx), encoding="utf-8")


def compare_context(cmp) -> CompareReportContext:
    """The page's context from an ``engine.research.compare.Comparison``."""
    cfg = cmp.config
    inputs = []
    for inp in cmp.inputs:
        defaults = type(inp.strategy).resolve({})
        changed = {k: v for k, v in inp.strategy.values.items() if defaults.get(k) != v}
        rule = inp.strategy.rule + (f" (saved run {inp.from_run})" if inp.from_run else "")
        inputs.append(
            {"label": inp.label, "strategy": inp.strategy.name, "rule": rule, "changed": changed}
        )
    bench_name = f"buy-and-hold {cfg.benchmark}"
    bench = cmp.results[0].benchmark.equity.reindex(cmp.equity.index).ffill()
    metrics = {i.label: r.metrics for i, r in zip(cmp.inputs, cmp.results, strict=True)}
    metrics[bench_name] = cmp.benchmark_metrics
    first, last = cmp.equity.index[0].date(), cmp.equity.index[-1].date()
    summary = (
        f"{len(cmp.inputs)} strategies on the same data, {first} .. {last} ({len(cmp.equity)} "
        f"common valuation sessions, {cmp.periods_per_year:.1f} a year), {cfg.fill} fills, fees "
        f"{cfg.fees_bps:g} bps, slippage {cfg.slippage_bps:g} bps, valued in {cfg.base_currency}."
    )
    series = {k: s for r in cmp.results for k, s in r.market.series.items()}
    notes = [SYNTHETIC_NOTE, *cmp.notes] if cmp.synthetic else list(cmp.notes)
    return CompareReportContext(
        title="compare: " + " vs ".join(cmp.labels),
        inputs=inputs,
        equity=cmp.equity,
        benchmark=(bench_name, bench),
        metrics=metrics,
        correlations=cmp.correlations,
        tests=cmp.tests,
        bootstrap={
            "resamples": cmp.bootstrap.resamples,
            "block": cmp.block,
            "seed": cmp.bootstrap.seed,
            "level": cmp.bootstrap.level,
        },
        base_currency=cfg.base_currency,
        synthetic=cmp.synthetic,
        summary=summary,
        notes=notes,
        provenance=[s.provenance() for _, s in sorted(series.items())],
    )
