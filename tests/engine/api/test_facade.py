"""The public API (engine.run/grid/compare/events/audit/load/strategies) against the CLI: the same
numbers and the same folders, Python values instead of CLI strings."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import crosscurrent
import engine
from engine.cli.main import app
from engine.errors import ConfigError, DataError, ParamError

WINDOW = {"start": "2012-01-01", "end": "2016-12-31"}


@pytest.fixture(scope="module")
def flagship():
    return engine.run("russell-fed-rotation", hold_days=40, fees_bps=5, **WINDOW)


def _cli(*args: str) -> str:
    done = CliRunner().invoke(app, list(args))
    assert done.exit_code == 0, done.output
    return done.output


def test_a_run_saves_the_folder_the_cli_writes(flagship, tmp_path):
    folder = flagship.save(tmp_path / "py")
    window = ["--start", WINDOW["start"], "--end", WINDOW["end"]]
    _cli("run", "russell-fed-rotation", "-p", "hold_days=40", "--fees-bps", "5", *window,
         "--out", str(tmp_path / "cli"), "-q")  # fmt: skip
    (cli,) = (tmp_path / "cli").iterdir()
    assert folder.name.split("-")[-1] == cli.name.split("-")[-1]  # the summary's digest
    for name in ("summary.json", "equity.csv", "orders.csv", "trades.csv"):
        assert (folder / name).read_bytes() == (cli / name).read_bytes(), name
    assert json.loads((folder / "summary.json").read_text())["params"]["hold_days"] == 40


def test_views_are_pandas_and_consistent(flagship):
    eq = flagship.equity
    assert isinstance(eq, pd.Series) and isinstance(flagship.weights, pd.DataFrame)
    assert isinstance(flagship.orders, pd.DataFrame) and isinstance(flagship.trades, pd.DataFrame)
    assert flagship.returns.index.equals(eq.index)
    assert eq.index[0] >= pd.Timestamp(WINDOW["start"])
    assert eq.index[-1] <= pd.Timestamp(WINDOW["end"])
    assert flagship.metrics["final_equity"] == pytest.approx(eq.iloc[-1])
    assert flagship.benchmark.index.equals(eq.index)
    assert flagship.params["hold_days"] == 40 and flagship.config.fees_bps == 5


def test_stats_is_a_labelled_series_with_every_metric(flagship):
    stats = flagship.stats()
    assert stats["Strategy"] == "russell-fed-rotation"
    assert stats["Sharpe ratio"] == flagship.metrics["sharpe"]
    assert stats["Total return [%]"] == pytest.approx(flagship.metrics["total_return"] * 100)
    assert stats["Start"] == flagship.equity.index[0]
    assert len(stats) > 25


def test_repr_is_short_and_html_small(flagship):
    text = repr(flagship)
    assert text.startswith("<Backtest russell-fed-rotation 2012-") and len(text) < 300
    page = flagship._repr_html_()
    assert "Sharpe ratio" in page and len(page) < 5000


def test_plot_gives_the_report_charts_as_plotly_figures(flagship):
    import plotly.graph_objects as go

    figures = flagship.figures()
    assert list(figures) == ["equity", "drawdown", "weights", "monthly", "rolling_sharpe"]
    fig = flagship.plot()
    assert isinstance(fig, go.Figure)
    assert np.allclose(np.asarray(fig.data[0].y, float), flagship.equity.to_numpy())
    assert isinstance(flagship.plot("drawdown"), go.Figure)
    with pytest.raises(ConfigError, match="drawdown"):
        flagship.plot("drawdwn")


def test_a_short_run_leaves_out_the_rolling_chart():
    short = engine.run("buy-and-hold", start="2012-01-01", end="2012-06-30")
    assert "rolling_sharpe" not in short.figures()
    with pytest.raises(ConfigError, match="too few"):
        short.plot("rolling_sharpe")


@pytest.mark.parametrize("name", ["russell-fed-rotation", "buy-and-hold", "static-mix", "trend"])
def test_vectorbt_sharpe_equals_the_engines_when_cash_earns_nothing(name, zero_rate_sample):
    res = engine.run(name, data=zero_rate_sample)
    pf = res.to_vectorbt()
    assert np.allclose(pf.value().to_numpy(), res.equity.to_numpy(), rtol=1e-12, atol=0)
    assert abs(pf.sharpe_ratio() - res.metrics["sharpe"]) < 1e-9


def test_compare_to_vectorbt_has_a_column_per_input(zero_rate_sample):
    cmp = engine.compare("buy-and-hold", "static-mix", data=zero_rate_sample)
    sharpe = cmp.to_vectorbt().sharpe_ratio()
    assert list(sharpe.index) == cmp.labels
    assert np.all(np.isfinite(sharpe.to_numpy()))


def test_parameters_and_options_are_keywords_with_suggestions():
    with pytest.raises(ConfigError, match="Did you mean 'hold_days'"):
        engine.run("russell-fed-rotation", hold_dayz=3)
    with pytest.raises(ConfigError, match="Did you mean 'fees_bps'"):
        engine.run("russell-fed-rotation", fee_bps=3)
    with pytest.raises(ParamError):
        engine.run("russell-fed-rotation", hold_days=-4)
    with pytest.raises(ConfigError, match="start"):
        engine.run("buy-and-hold", start="yesterday-ish")
    with pytest.raises(ConfigError, match="not a date"):
        engine.run("buy-and-hold", start=2010)
    with pytest.raises(ConfigError, match="data folder path"):
        engine.run("buy-and-hold", data=42)
    with pytest.raises(DataError, match="does not exist"):
        engine.run("buy-and-hold", data="/no/such/folder")


def test_dates_may_be_dates_and_data_may_be_a_loaded_market():
    market = engine.load()
    a = engine.run("buy-and-hold", data=market, start=dt.date(2012, 1, 3), end="2012-12-31")
    b = engine.run("buy-and-hold", start=pd.Timestamp("2012-01-03"), end=dt.date(2012, 12, 31))
    assert a.equity.equals(b.equity)


def test_grid_takes_python_ranges_and_matches_the_cli_spec():
    from engine.api.facade import config
    from engine.research.grid import run_grid
    from engine.strategy.space import Space

    g = engine.grid("russell-fed-rotation", hold_days=range(20, 61, 20),
                    cut_window_days=[30, 60], **WINDOW)  # fmt: skip
    cls = type(g.best.strategy)
    combos = Space.from_specs(cls, ["hold_days=20:60:20", "cut_window_days=30,60"]).combos()
    ref = run_grid(cls, combos, config(**WINDOW))
    pd.testing.assert_frame_equal(g.table, ref.table)
    assert g.best_params["hold_days"] == ref.table["hold_days"].iloc[0]
    assert json.dumps(g.honesty, sort_keys=True, default=str) == json.dumps(
        ref.honesty, sort_keys=True, default=str
    )
    assert sorted(g.varied) == ["cut_window_days", "hold_days"]
    fig = g.heatmap("hold_days", "cut_window_days")
    z = np.asarray(fig.data[0].z, dtype=float)
    assert z.shape == (2, 3) and np.nanmax(z) == pytest.approx(g.table["sharpe"].max())
    with pytest.raises(ConfigError, match="hold_days"):
        g.heatmap("hold_dayz", "cut_window_days")
    assert "36" not in repr(g) and "6 combos" in repr(g)


def test_grid_saves_and_walks_forward(tmp_path):
    g = engine.grid("russell-fed-rotation", hold_days=[20, 40], walk_forward="train=3y,test=1y",
                    start="2008-01-01", end="2015-12-31")  # fmt: skip
    assert g.walk_forward is not None and len(g.walk_forward["folds"]) >= 3
    folder = g.save(tmp_path)
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["combos"] == 2 and "walk_forward" in summary
    assert (folder / "report.html").is_file()


def test_grid_refuses_bad_axes_and_metrics():
    with pytest.raises(ConfigError, match="Did you mean 'hold_days'"):
        engine.grid("russell-fed-rotation", hold_dayz=[1, 2])
    with pytest.raises(ParamError):
        engine.grid("russell-fed-rotation", hold_days=[5, -1])
    with pytest.raises(ConfigError, match="metric"):
        engine.grid("russell-fed-rotation", hold_days=[5, 10], metric="luck")
    with pytest.raises(ConfigError, match="samples"):
        engine.grid("russell-fed-rotation", hold_days=[5, 10], samples=0)


def test_compare_takes_names_variants_classes_instances_and_results(flagship):
    cls = type(flagship.strategy)
    cmp = engine.compare("buy-and-hold", "russell-fed-rotation:hold_days=20", cls,
                         cls(hold_days=60), flagship, **WINDOW)  # fmt: skip
    assert cmp.labels == [
        "buy-and-hold", "russell-fed-rotation:hold_days=20", "russell-fed-rotation",
        "russell-fed-rotation:hold_days=60", "russell-fed-rotation:hold_days=40",
    ]  # fmt: skip
    assert list(cmp.metrics.columns) == cmp.labels
    assert cmp.equity.shape[1] == 5 and len(cmp.tests) == 4
    assert cmp.metrics.loc["sharpe", "russell-fed-rotation:hold_days=40"] == pytest.approx(
        engine.run("russell-fed-rotation", hold_days=40, **WINDOW).metrics["sharpe"]
    )
    with pytest.raises(ConfigError, match="at least two"):
        engine.compare("buy-and-hold")


def test_events_and_audit(tmp_path):
    study = engine.events("russell-fed-rotation", cut_window_days=60)
    assert len(study.events) > 0 and "horizon" in study.summary.columns
    assert (study.save(tmp_path) / "events.csv").is_file()
    assert repr(study).startswith("<Study russell-fed-rotation")
    assert engine.audit("trend").passed
    with pytest.raises(ConfigError, match="fees_bps"):
        engine.events("trend", fees_bps=3)


def test_load_gives_each_series_as_pandas():
    market = engine.load()
    assert "RUT" in market and set(market["RUT"].columns) >= {"open", "close"}
    assert market.instrument("XSO").calendar == "XASX"
    closes = market.closes()
    assert list(closes.columns) == market.keys
    assert market.describe().loc["RUT", "rows"] == len(market["RUT"])
    with pytest.raises(KeyError, match="RUT"):
        market["RTU"]


def test_strategies_lists_the_built_ins():
    table = engine.strategies()
    assert "russell-fed-rotation" in table.index
    assert "hold_days=" in table.loc["russell-fed-rotation", "parameters"]


def test_crosscurrent_is_the_same_api():
    assert crosscurrent.run is engine.run and crosscurrent.grid is engine.grid
    assert crosscurrent.__version__ == engine.__version__
    with pytest.raises(AttributeError):
        crosscurrent.nothing_here  # noqa: B018


def test_importing_engine_stays_light():
    code = "import sys, engine; print(sorted(m for m in ('pandas', 'numba', 'typer') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_python_m_engine_is_the_cli():
    done = subprocess.run([sys.executable, "-m", "engine", "--help"], capture_output=True,
                          text=True, check=True)  # fmt: skip
    assert "strategies" in done.stdout and "grid" in done.stdout
