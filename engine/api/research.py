"""What ``engine.grid``, ``engine.compare`` and ``engine.events`` return, shaped for a notebook.

``GridSearch``: the ranked ``table`` (one row per combo), the ``best`` combo's full run (a
``Backtest``), the ``honesty`` block (deflated Sharpe, PBO, intervals), ``walk_forward`` when asked,
``heatmap(x, y)`` (the grid report's heatmap as a plotly ``Figure``), ``save`` and ``to_vectorbt``.
``Compared``: per-input ``metrics`` and ``equity``, the Sharpe-difference ``tests``,
``correlations``, ``save`` and ``to_vectorbt``. ``Study``: the event study's ``events`` and
``summary`` tables and ``save``. Each has a short ``repr`` and HTML view.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pandas as pd

from engine.api.results import Backtest, headline_text, html_table
from engine.backtest.eventstudy import EventStudy
from engine.errors import ConfigError, did_you_mean
from engine.research.compare import Comparison
from engine.research.grid import GridResult
from engine.stats import spec


class GridSearch:
    """One grid search; ``raw`` is the engine's ``GridResult``."""

    def __init__(self, result: GridResult, summary: dict[str, Any], varied: list[str],
                 walk_forward: dict[str, Any] | None = None) -> None:  # fmt: skip
        self.raw = result
        self._summary = summary
        self.varied = list(varied)
        self.walk_forward = walk_forward

    @property
    def table(self) -> pd.DataFrame:
        """Every combo, best first: its parameters, then every grid metric (fractions)."""
        return self.raw.table

    @property
    def metric(self) -> str:
        return self.raw.metric

    @property
    def best(self) -> Backtest:
        """The best combo, run in full (orders, trades, report)."""
        return Backtest(self.raw.winner)

    @property
    def best_params(self) -> dict[str, Any]:
        return dict(self.raw.winner.strategy.values)

    @property
    def honesty(self) -> dict[str, Any]:
        """Deflated Sharpe over all and effective trials, PBO and intervals (``summary.json``)."""
        return self.raw.honesty

    def summary(self) -> dict[str, Any]:
        return self._summary

    def heatmap(self, x: str, y: str, metric: str | None = None):
        """The best ``metric`` (default: the ranking metric) over each pair of values of the
        parameters ``x`` and ``y``, as the grid report draws it (a plotly ``Figure``)."""
        import plotly.graph_objects as go

        from engine.report.grid_charts import by_pair, pair_chart

        metric = metric or self.metric
        params = [c for c in self.table.columns if c not in spec.METRICS]
        for name in (x, y):
            if name not in params:
                raise ConfigError(
                    f"heatmap: {name!r} is not a parameter of the grid.{did_you_mean(name, params)}"
                    f" Parameters: {', '.join(params)}."
                )
        if x == y:
            raise ConfigError(f"heatmap: x and y are both {x!r}; pick two parameters.")
        if metric not in self.table.columns:
            raise ConfigError(f"heatmap: {metric!r} is not a grid metric.")
        higher = spec.higher_is_better(metric)
        data = self.table[[x, y]].assign(metric=self.table[metric].to_numpy(float))
        grid = by_pair(data, x, y, higher)
        chart = pair_chart("heatmap", x, y, grid, (metric, spec.label(metric)), higher)
        return go.Figure(chart.figure)

    def save(self, path: str | Path | None = None, top: int = 20) -> Path:
        """Write the folder ``backtest grid`` writes (table, summary, report) under ``path``."""
        from engine.store.grid_folder import write_grid

        root = Path(path) if path is not None else None
        return write_grid(self.raw, self._summary, root, top, self.walk_forward)

    def to_vectorbt(self):
        """The best combo's ``Backtest.to_vectorbt()``."""
        return self.best.to_vectorbt()

    def __repr__(self) -> str:
        value = spec.format_value(self.metric, self.table[self.metric].iloc[0])
        params = ", ".join(f"{k}={v}" for k, v in self.best_params.items() if k in self.varied)
        return (
            f"<GridSearch {self.raw.winner.strategy.name}: {len(self.table):,} combos by "
            f"{self.metric}; best {value} at {params or 'the defaults'}>"
        )

    def _repr_html_(self) -> str:
        over = self.honesty.get("over_cash", {})
        rows = [
            ("combos", f"{len(self.table):,}"),
            ("ranked by", self.metric),
            ("best parameters", ", ".join(f"{k}={self.best_params[k]}" for k in self.varied)),
            ("deflated Sharpe", spec.format_value("sharpe", over.get("deflated"))),
            ("PBO", spec.format_value("psr", over.get("pbo"))),
        ]
        top = self.table.head(5).to_html(index=False, float_format=lambda v: f"{v:.4g}")
        return f"<div>{html_table(rows, repr(self)[1:-1])}{top}</div>"


class Compared:
    """One comparison; ``raw`` is the engine's ``Comparison``."""

    def __init__(self, result: Comparison) -> None:
        self.raw = result

    @property
    def labels(self) -> list[str]:
        return self.raw.labels

    @property
    def runs(self) -> dict[str, Backtest]:
        return {
            i.label: Backtest(r) for i, r in zip(self.raw.inputs, self.raw.results, strict=True)
        }

    @property
    def metrics(self) -> pd.DataFrame:
        """One column per input, one row per metric (fractions, as in ``compare.json``)."""
        return pd.DataFrame({i.label: r.metrics for i, r in zip(self.raw.inputs, self.raw.results,
                                                                 strict=True)})  # fmt: skip

    @property
    def equity(self) -> pd.DataFrame:
        """Equity on the sessions common to every input, one column each."""
        return self.raw.equity

    @property
    def correlations(self) -> pd.DataFrame:
        return self.raw.correlations

    @property
    def tests(self) -> pd.DataFrame:
        """Sharpe-difference tests, one row per pair (bootstrap interval and p-value)."""
        return pd.DataFrame(list(self.raw.tests))

    def save(self, path: str | Path | None = None) -> Path:
        """Write the folder ``backtest compare`` writes under ``path`` (default ``./results``)."""
        from engine.store.compare_folder import write_compare

        return write_compare(self.raw, Path(path) if path is not None else None)

    def to_vectorbt(self):
        """A vectorbt Portfolio with one column per input (``sim.portfolio.replay_equity``)."""
        from engine.sim.portfolio import replay_equity

        init = self.raw.results[0].sim.init_cash
        return replay_equity(self.raw.equity, init, self.raw.periods_per_year)

    def __repr__(self) -> str:
        return f"<Compared {', '.join(self.labels)} on {len(self.equity):,} common sessions>"

    def _repr_html_(self) -> str:
        ccy = self.raw.config.base_currency
        cols = {label: dict(headline_text(r.metrics, ccy)) for label, r in
                zip(self.labels, self.raw.results, strict=True)}  # fmt: skip
        frame = pd.DataFrame(cols)
        return f"<div><b>{html.escape(repr(self)[1:-1])}</b>{frame.to_html()}</div>"


class Study:
    """One event study; ``raw`` is the engine's ``EventStudy``."""

    def __init__(self, result: EventStudy) -> None:
        self.raw = result

    @property
    def events(self) -> pd.DataFrame:
        """One row per signal: when it was known, the fill session and forward returns."""
        return self.raw.events

    @property
    def summary(self) -> pd.DataFrame:
        """Per horizon: signals against all sessions, with bootstrap intervals."""
        return self.raw.summary

    @property
    def verdict(self) -> tuple[str, ...]:
        return self.raw.verdict

    def save(self, path: str | Path | None = None) -> Path:
        """Write the folder ``backtest events`` writes under ``path`` (default ``./results``)."""
        from engine import paths
        from engine.store.event_folder import write_event_study

        return write_event_study(self.raw, Path(path) if path is not None else paths.results_root())

    def __repr__(self) -> str:
        r = self.raw
        return (
            f"<Study {r.strategy}: {r.n_events} signals on {r.asset}, {r.window[0]}..{r.window[1]}>"
        )

    def _repr_html_(self) -> str:
        lines = "".join(f"<li>{html.escape(v)}</li>" for v in self.verdict)
        return f"<div><b>{html.escape(repr(self)[1:-1])}</b><ul>{lines}</ul></div>"
