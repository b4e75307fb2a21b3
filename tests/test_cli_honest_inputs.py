"""Issue 12 end to end: stale opens refused, fill sensitivity and the rule's activity reported,
warnings printed, money that cannot exist refused, summaries independent of path spelling.

Real-data cases run on folders assembled in ``tmp_path`` from ``../shared/data`` (nothing copied
into the repository) and skip where it is absent.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from engine.cli.main import app
from engine.errors import ConfigError
from engine.sim.portfolio import simulate
from tests.realdata import SHARED, etf_folder, index_folder, needs_real_data

runner = CliRunner()


def _run(*args):
    return runner.invoke(app, [str(a) for a in args])


def _folders(out):
    return [p for p in out.iterdir()] if out.exists() else []


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    return index_folder(tmp_path_factory.mktemp("index"))


@pytest.fixture(scope="module")
def etf_dir(tmp_path_factory):
    return etf_folder(tmp_path_factory.mktemp("etf"))


# --------------------------------------------------------------------------- stale opens


@needs_real_data
@pytest.mark.parametrize(
    "command",
    [
        ["run", "russell-fed-rotation"],
        ["run", "buy-and-hold", "--param", "asset=XSO"],
        ["compare", "russell-fed-rotation", "static-mix"],
        ["events", "russell-fed-rotation"],
        ["grid", "russell-fed-rotation", "--param", "hold_days=10,20"],
    ],
)
def test_open_fills_on_stale_index_opens_are_refused_and_nothing_is_written(
    index_dir, tmp_path, command
):
    out = tmp_path / "out"
    result = _run(*command, "--data-dir", index_dir, "--out", out)
    assert result.exit_code == 2, result.output
    text = " ".join(result.output.split())
    assert "open equals the previous close on" in text and "--fill close" in text
    assert "--allow-stale-open" in text and "Traceback" not in text
    assert _folders(out) == []


@needs_real_data
def test_the_override_is_recorded_in_manifest_summary_console_and_report_banner(
    index_dir, tmp_path
):
    out = tmp_path / "out"
    args = ["run", "buy-and-hold", "--param", "asset=XSO", "--data-dir", index_dir, "--out", out]
    result = _run(*args, "--allow-stale-open", "--start", "2020-01-02")
    assert result.exit_code == 0, result.output
    (folder,) = _folders(out)
    manifest = json.loads((folder / "manifest.json").read_text())
    summary = json.loads((folder / "summary.json").read_text())
    assert manifest["config"]["allow_stale_open"] is True and summary["allow_stale_open"] is True
    sens = summary["fill_sensitivity"]
    assert sens["fill"] == "open" and sens["other_fill"] == "close"
    assert sens["stale_open_share"]["XSO"] > 0.8 and "not tradable" in sens["sentence"]
    assert set(sens["metrics"]) == {"open", "close"}
    html = (folder / "report.html").read_text()
    assert 'class="banner" role="alert">--allow-stale-open' in html
    assert "not tradable" in " ".join(result.output.split())


@needs_real_data
def test_tradable_etf_opens_run_and_report_both_fills(etf_dir, tmp_path):
    out = tmp_path / "out"
    result = _run("run", "russell-fed-rotation", "--data-dir", etf_dir, "--out", out,
                  "--start", "2011-01-04", "--format", "json")  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    sens = summary["fill_sensitivity"]
    assert sens["stale_open_share"]["XSO"] < 0.25 and sens["depends_on_fill"] in (True, False)
    for fill in ("open", "close"):
        assert set(sens["metrics"][fill]) >= {"sharpe", "cagr", "total_return", "max_drawdown"}
    assert sens["difference"]["sharpe"] == pytest.approx(
        sens["metrics"]["close"]["sharpe"] - sens["metrics"]["open"]["sharpe"]
    )
    act = summary["activity"]
    assert act["risk_on_asset"] == "XSO" and act["signals"] >= act["episodes"] >= 0
    assert 0 <= act["share_in_asset"] <= 1


@needs_real_data
def test_the_flagship_that_never_fires_says_so(index_dir, tmp_path):
    # With its defaults the flagship fires 0 times 2011-2024 (the Russell's 2021-11-08 record stood
    # until 2025-09-18): the run is buy-and-hold of XJO and must say so.
    out = tmp_path / "out"
    result = _run("run", "russell-fed-rotation", "--data-dir", index_dir, "--out", out,
                  "--fill", "close", "--end", "2024-12-31")  # fmt: skip
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "never fired in the window (0 signals)" in text
    assert "the same as buy-and-hold of XJO" in text
    (folder,) = _folders(out)
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["activity"]["signals"] == 0 and summary["activity"]["share_in_asset"] == 0
    assert "never fired" in (folder / "report.html").read_text()


@needs_real_data
def test_data_warnings_are_printed_with_a_count_and_where_the_rest_are(index_dir, tmp_path):
    result = _run(
        "run", "russell-fed-rotation", "--data-dir", index_dir, "--out", tmp_path, "--fill", "close"
    )
    assert result.exit_code == 0, result.output
    text = result.output
    assert "warning(s):" in text and "XSO.csv: row" in text and "more in" in text


@needs_real_data
def test_records_read_off_a_short_russell_history_warn(etf_dir, tmp_path):
    folder = tmp_path / "short"
    folder.mkdir()
    for f in etf_dir.iterdir():
        (folder / f.name).write_bytes(f.read_bytes())
    rut = pd.read_csv(etf_dir / "RUT.csv")
    rut[rut["Date"] >= "2019-01-01"].to_csv(folder / "RUT.csv", index=False)
    result = _run("run", "russell-fed-rotation", "--data-dir", folder, "--out", tmp_path / "o",
                  "--start", "2019-06-03", "--end", "2020-06-30")  # fmt: skip
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "rest on all-time highs read off fewer than 252 sessions" in text
    assert "starts 2019-01-02" in text


# --------------------------------------------------------------------------- money


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--fees-bps", "10000"], "fees_bps"),
        (["--fees-bps", "1e6"], "100 % or more"),
        (["--slippage-bps", "10000"], "slippage_bps"),
        (["--band", "2"], "would skip every order"),
        (["--band", "1"], "would skip every order"),
        (["--min-fee", "1e9"], "--min-fee"),
        (["--min-fee", "100000"], "at least the initial cash"),
    ],
)
def test_money_that_cannot_exist_is_refused(tmp_path, flags, message):
    result = _run("run", "russell-fed-rotation", *flags, "--out", tmp_path / "out")
    assert result.exit_code == 2, result.output
    assert message in " ".join(result.output.split())
    assert _folders(tmp_path / "out") == []


def test_a_tiny_portfolio_trades_like_a_large_one(tmp_path):
    totals = []
    for cash in ("1e-300", "100000"):
        result = _run("run", "russell-fed-rotation", "--init-cash", cash, "--min-fee", "0",
                      "--start", "2019-01-01", "--format", "json", "--out", tmp_path)  # fmt: skip
        assert result.exit_code == 0, result.output
        summary = json.loads(result.stdout)
        assert summary["metrics"]["trade_count"] > 0
        totals.append(summary["metrics"]["total_return"])
    assert totals[0] == pytest.approx(totals[1], rel=1e-9)


def test_a_minimum_fee_above_the_proceeds_never_leaves_cash_negative():
    idx = pd.bdate_range("2024-01-01", periods=6)
    px = pd.DataFrame({"A": [100.0, 100, 100, 0.5, 0.5, 0.5]}, index=idx)
    w = pd.DataFrame({"A": [1.0, 1, 0, 0, 0, 0]}, index=idx)
    res = simulate(px, w, init_cash=100.0, fees_bps=10, min_fee=2.0)
    assert (res.sim.cash >= 0).all()
    assert (res.orders["units"] < 0).sum() == 0  # the sale at 0.5 cannot pay its fee: not made
    with pytest.raises(ConfigError, match="100 % or more"):
        simulate(px, w, init_cash=100.0, fees_bps=1e6)


def _sample_minus_a_warning(folder):
    """The sample with one XSO close nudged into a one-day move warning."""
    xso = pd.read_csv(folder / "XSO.csv")
    xso.loc[100, "close"] = xso.loc[99, "close"] * 1.3
    xso.loc[100, "high"] = max(xso.loc[100, "high"], xso.loc[100, "close"])
    xso.to_csv(folder / "XSO.csv", index=False)


def test_summary_does_not_depend_on_how_the_data_folder_was_spelled(tmp_path, monkeypatch):
    from engine import paths

    data = tmp_path / "work" / "mydata"
    data.mkdir(parents=True)
    for f in paths.sample_dir().iterdir():
        (data / f.name).write_bytes(f.read_bytes())
    _sample_minus_a_warning(data)
    monkeypatch.chdir(tmp_path / "work")
    texts = []
    for spelling in ("mydata", str(data), "./mydata/", "../work/mydata"):
        result = _run("run", "static-mix", "--data-dir", spelling, "--start", "2015-01-01",
                      "--format", "json", "--out", tmp_path / "out")  # fmt: skip
        assert result.exit_code == 0, result.output
        texts.append(result.stdout)
    assert len(set(texts)) == 1
    summary = json.loads(texts[0])
    assert summary["data_warnings"] and all(str(tmp_path) not in w for w in summary["warnings"])
    assert np.isfinite(summary["metrics"]["sharpe"])


@needs_real_data
def test_a_benchmark_with_stale_opens_is_bought_at_its_close(etf_dir, tmp_path):
    # Trading the ISO.AX ETF (tradable opens) against the ASX 200 index (stale opens): the
    # benchmark's one purchase must not be at yesterday's close either.
    folder = tmp_path / "mixed"
    shutil.copytree(etf_dir, folder)
    shutil.copyfile(SHARED / "axjo_2011_2025.csv", folder / "XJO.csv")
    toml = (
        (folder / "instruments.toml")
        .read_text()
        .replace(
            'name = "ioz_ax_daily.csv as XJO"\nkind = "etf"', 'name = "ASX 200"\nkind = "index"'
        )
    )
    (folder / "instruments.toml").write_text(toml)
    totals = []
    for fill in ("open", "close"):
        result = _run("run", "buy-and-hold", "--param", "asset=XSO", "--data-dir", folder,
                      "--start", "2015-01-02", "--end", "2019-12-31", "--fill", fill,
                      "--format", "json", "--out", tmp_path / "o")  # fmt: skip
        assert result.exit_code == 0, result.output
        totals.append(json.loads(result.stdout)["benchmark"]["total_return"])
    assert totals[0] == totals[1]
