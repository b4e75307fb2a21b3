"""What ``engine.run`` returns: one backtest, shaped for a notebook.

``Backtest`` wraps the engine's ``RunResult`` (``.raw``) with pandas views (``equity``, ``returns``,
``weights``, ``orders``, ``trades``, ``benchmark``), the metrics as a dict (fractions, as in
``summary.json``) and as a labelled Series (``stats()``, like vectorbt's ``pf.stats()``), the report's
charts as plotly figures (``plot``, ``figures``), a short ``repr`` and HTML view, ``save`` (the
run folder ``backtest run`` writes) and ``to_vectorbt`` (a vectorbt Portfolio with the same value
curve). Nothing here computes a number: it shows what the run computed.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pandas as pd

from engine.backtest.run import RunResult
from engine.stats import spec

SHOWN = ("total_return", "cagr", "sharpe", "max_drawdown", "exposure", "trade_count")
CHARTS = ("equity", "drawdown", "weights", "monthly", "rolling_sharpe")


def stats_series(metrics: dict[str, Any], currency: str, head: dict[str, Any]) -> pd.Series:
    """Every metric under its label and unit (fractions as percent, like vectorbt's ``stats()``),
    after the ``head`` rows (start, end, ...); undefined numbers stay NaN."""
    rows: dict[str, Any] = dict(head)
    for key, value in metrics.items():
        if key not in spec.METRICS:
            continue
        m = spec.METRICS[key]
        label = spec.label(key, currency)
        if m.kind == "pct":
            label, value = f"{label} [%]", (value * 100.0 if spec.is_number(value) else value)
        rows[label] = float("nan") if value is None else value
    return pd.Series(rows, dtype=object, name="value")


def headline_text(metrics: dict[str, Any], currency: str, keys=SHOWN) -> list[tuple[str, str]]:
    return [(spec.label(k, currency), spec.format_value(k, metrics.get(k), currency)) for k in keys]


def html_table(rows: list[tuple[str, str]], caption: str = "") -> str:
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    body = "".join(
        f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
        f"<td style='text-align:right'>{html.escape(v)}</td></tr>"
        for k, v in rows
    )
    return f"<table>{cap}<tbody>{body}</tbody></table>"


class Backtest:
    """One finished run. See the module docstring; ``raw`` is the engine's ``RunResult``."""

    def __init__(self, result: RunResult) -> None:
        self.raw = result

    # --- pandas views -------------------------------------------------------------------------
    @property
    def strategy(self):
        return self.raw.strategy

    @property
    def config(self):
        return self.raw.config

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.raw.strategy.values)

    @property
    def equity(self) -> pd.Series:
        """Portfolio value per valuation session, in the base currency."""
        return self.raw.sim.equity

    @property
    def returns(self) -> pd.Series:
        """Daily returns of ``equity`` (the first from the initial cash)."""
        return self.raw.sim.returns

    @property
    def weights(self) -> pd.DataFrame:
        """End-of-session share of each traded asset in the portfolio's value."""
        return self.raw.sim.weights

    @property
    def orders(self) -> pd.DataFrame:
        return self.raw.sim.orders

    @property
    def trades(self) -> pd.DataFrame:
        return self.raw.sim.trades

    @property
    def benchmark(self) -> pd.Series:
        """The benchmark bought and held through the same engine, on the run's sessions."""
        return self.raw.benchmark.equity.reindex(self.equity.index).ffill()

    @property
    def metrics(self) -> dict[str, Any]:
        """Every metric as ``summary.json`` has it (fractions; NaN where undefined)."""
        return dict(self.raw.metrics)

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.raw.warnings

    # --- views --------------------------------------------------------------------------------
    def stats(self) -> pd.Series:
        """A labelled Series of the run and every metric, like vectorbt's ``pf.stats()``."""
        idx = self.equity.index
        head = {
            "Strategy": self.strategy.name,
            "Start": idx[0],
            "End": idx[-1],
            "Benchmark": self.config.benchmark,
            "Base currency": self.config.base_currency,
            "Fill": self.config.fill,
        }
        return stats_series(self.raw.metrics, self.config.base_currency, head)

    def figures(self) -> dict[str, Any]:
        """Every report chart as a plotly ``Figure``, keyed ``equity``, ``drawdown``, ``weights``,
        ``monthly``, ``rolling_sharpe`` (a chart the run is too short for is left out)."""
        import plotly.graph_objects as go

        from engine.report.run_charts import build_charts
        from engine.store.run_folder import report_context

        ctx = report_context(self.raw)
        charts = build_charts(ctx.equity, ctx.benchmarks, ctx.weights, ctx.markers)
        return {
            name: go.Figure(chart.figure)
            for name, chart in zip(CHARTS, charts, strict=True)
            if chart.figure
        }

    def plot(self, chart: str = "equity"):
        """One report chart as a plotly ``Figure`` (default the equity curve); see ``figures``."""
        if chart not in CHARTS:
            from engine.errors import ConfigError, did_you_mean

            raise ConfigError(
                f"plot({chart!r}): no such chart.{did_you_mean(chart, CHARTS)} "
                f"Charts: {', '.join(CHARTS)}."
            )
        figures = self.figures()
        if chart not in figures:
            from engine.errors import ConfigError

            raise ConfigError(
                f"plot({chart!r}): the run has {len(self.equity)} sessions, too few for it."
            )
        return figures[chart]

    def summary(self) -> dict[str, Any]:
        """The ``summary.json`` that ``save`` writes, as a dict."""
        from engine.store.run_folder import summary

        return summary(self.raw)

    def save(self, path: str | Path | None = None) -> Path:
        """Write the run folder ``backtest run`` writes (summary, equity, orders, trades, report,
        manifest) under ``path`` (default ``./results``); returns the folder."""
        from engine.store.run_folder import write_run

        return write_run(self.raw, Path(path) if path is not None else None)

    def to_vectorbt(self):
        """A ``vectorbt.Portfolio`` with this run's value curve (``sim.portfolio.replay_equity``):
        vectorbt's ``sharpe_ratio()`` equals ``metrics["sharpe"]`` when cash earns nothing."""
        from engine.sim.portfolio import replay_equity

        ppy = self.raw.metrics["periods_per_year"]
        return replay_equity(self.equity, self.raw.sim.init_cash, ppy)

    def _window(self) -> str:
        idx = self.equity.index
        return f"{idx[0].date()}..{idx[-1].date()}"

    def __repr__(self) -> str:
        m, ccy = self.raw.metrics, self.config.base_currency
        parts = [f"{spec.label(k, ccy)} {spec.format_value(k, m.get(k), ccy)}" for k in SHOWN]
        return f"<Backtest {self.strategy.name} {self._window()}: {', '.join(parts)}>"

    def _repr_html_(self) -> str:
        ccy = self.config.base_currency
        title = f"{self.strategy.name}, {self._window()} ({ccy}, {self.config.fill} fills)"
        params = ", ".join(f"{k}={v}" for k, v in self.params.items()) or "no parameters"
        warn = f"<p>{len(self.warnings)} warning(s): see <code>.warnings</code></p>"
        return (
            f"<div><b>{html.escape(title)}</b><br><small>{html.escape(params)}</small>"
            f"{html_table(headline_text(self.raw.metrics, ccy))}"
            f"{warn if self.warnings else ''}"
            "<small>.stats() for every metric, .plot() for the charts, .save() for the report"
            "</small></div>"
        )
