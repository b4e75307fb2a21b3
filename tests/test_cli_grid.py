"""`backtest grid` in-process: what it writes, walk-forward, sampling, and clean failures."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from engine.cli import app

runner = CliRunner()
WINDOW = ["--start", "2012-01-01", "--end", "2020-12-31"]
SPACE = ["--param", "hold_days=10:30:10", "--param", "cut_window_days=30,90"]


def _grid(*args: str):
    return runner.invoke(app, ["grid", "russell-fed-rotation", *args])


@pytest.fixture(scope="module")
def grid_folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("grid")
    result = _grid(*SPACE, *WINDOW, "--walk-forward", "train=4y,test=2y", "--out", str(out))
    assert result.exit_code == 0, result.output
    (folder,) = [p for p in out.iterdir() if not p.name.startswith(".")]
    return result, folder


def test_grid_writes_ranked_table_summary_report_and_manifest(grid_folder):
    result, folder = grid_folder
    assert "deflated Sharpe" in result.output and "out-of-sample" in result.output
    table = pd.read_parquet(folder / "grid.parquet")
    assert len(table) == 6 and list(table["sharpe"]) == sorted(table["sharpe"], reverse=True)
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["combos"] == 6 and summary["metric"] == "sharpe"
    assert summary["winner"]["params"]["hold_days"] == table["hold_days"].iloc[0]
    assert {"deflated_sharpe", "pbo", "sharpe_ci95", "cagr_ci95"} <= set(summary["honesty"])
    # These six combos differ only around the 2019 cuts, in 2 of the 16 blocks: whenever both
    # are out of sample (23% of splits) they tie in sample, so PBO is "not identifiable": null
    # in summary.json, said so on the console and in the report.
    h = summary["honesty"]
    assert h["pbo"] is None and h["pbo_identifiable"] is False
    assert h["pbo_ambiguous_share"] > 0.1 and h["pbo_note"].startswith("not identifiable")
    assert "PBO not identifiable" in result.output and h["pbo_note"] in result.output
    assert '<td class="num">not identifiable</td>' in (folder / "report.html").read_text()
    assert len(summary["walk_forward"]["folds"]) == 3
    assert pd.read_csv(folder / "walk_forward.csv").shape[0] > 400
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["kind"] == "grid" and manifest["combos"] == 6
    html = (folder / "report.html").read_text()
    assert "synthetic sample data" in html.lower() and "chart-pair-0" in html


def test_all_cash_combos_no_longer_win_the_grid(tmp_path):
    # Issue 13: weight=0 holds nothing; its Sharpe ratio of 1.33 (rounding error) ranked both
    # weight=0 combos first, with a deflated Sharpe of 1.00 and a PBO of 0.01.
    result = _grid("--param", "weight=0:1:0.25", "--param", "risk_off=cash", "--param",
                   "hold_days=20,40", "--out", str(tmp_path))  # fmt: skip
    assert result.exit_code == 0, result.output
    (folder,) = [p for p in tmp_path.iterdir() if not p.name.startswith(".")]
    table = pd.read_parquet(folder / "grid.parquet")
    assert list(table["weight"].iloc[-2:]) == [0.0, 0.0] and table["sharpe"].iloc[-2:].isna().all()
    assert (table["weight"].iloc[:-2] > 0).all() and table["sharpe"].iloc[:-2].notna().all()
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["winner"]["params"]["weight"] > 0 and summary["top"][-1]["sharpe"] is None
    assert summary["honesty"]["trials_undefined"] == 2
    assert "2 without a Sharpe ratio" in result.output
    last = [line for line in result.output.splitlines() if "│" in line][-1]
    assert "n/a" in last and "nan" not in result.output


def test_sampling_draws_the_requested_number_of_distinct_combos(tmp_path):
    result = _grid("--param", "hold_days=1:200:1", "--param", "weight=0.1:1:0.1", "--samples", "7",
                   "--seed", "3", *WINDOW, "--out", str(tmp_path), "--quiet")  # fmt: skip
    assert result.exit_code == 0, result.output
    table = pd.read_parquet(tmp_path / result.output.strip().split("/")[-1] / "grid.parquet")
    assert len(table) == 7 and not table[["hold_days", "weight"]].duplicated().any()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--param", "hold_days=10:5:5"], "step"),
        (["--param", "hold_days=10:30:0"], "step"),
        (["--param", "hold_dayz=1,2"], "Did you mean 'hold_days'"),
        (["--param", "hold_days=1,2", "--constraint", "hold_days >"], "does not parse"),
        (["--param", "hold_days=1,2", "--constraint", "hold > 1"], "unknown parameter"),
        (["--param", "hold_days=1,2", "--constraint", "hold_days > 5"], "leaves no combos"),
        (["--param", "hold_days=1,2", "--metric", "sharp"], "grid metric"),
        (["--param", "hold_days=1:1000:1", "--param", "record_lookback=0:3000:1"], "--samples"),
        (["--param", "hold_days=1,2", "--cluster", "local"], "local:N"),
        (["--param", "hold_days=1,2", "--walk-forward", "train=5,test=1y"], "span"),
        (["--param", "hold_days=1,2", "--chunk", "0"], "--chunk"),
    ],
)
def test_bad_grids_exit_2_with_a_message_and_write_nothing(tmp_path, args, message):
    result = _grid(*args, *WINDOW, "--out", str(tmp_path / "out"))
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    out = tmp_path / "out"
    assert not out.exists() or not any(out.iterdir())


def test_cli_chunk_default_is_the_engine_default():
    import inspect

    from engine import cli_grid
    from engine.grid import CHUNK

    assert f"typer.Option({CHUNK}," in inspect.getsource(cli_grid)
