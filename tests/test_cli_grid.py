"""`backtest grid` in-process: what it writes, walk-forward, sampling, and clean failures."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from engine.cli.main import app

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
    h = summary["honesty"]
    assert {"over_cash", "vs_benchmark", "ranking", "cagr_ci95"} <= set(h)
    assert (
        h["over_cash"]["metric"] == "sharpe" and h["vs_benchmark"]["metric"] == "information_ratio"
    )
    assert h["vs_benchmark"]["benchmark"] == "XJO" and h["ranking"]["same_as"] == "over_cash"
    # These six combos differ only around the 2019 cuts, in 2 of the 16 blocks: whenever both
    # are out of sample (23% of splits) they tie in sample, so PBO is "not identifiable": null
    # in summary.json, said so on the console and in the report.
    cash = h["over_cash"]
    assert cash["pbo"] is None and cash["pbo_identifiable"] is False
    assert cash["pbo_ambiguous_share"] > 0.1 and cash["pbo_note"].startswith("not identifiable")
    assert "PBO not identifiable" in result.output and cash["pbo_note"] in result.output
    assert '<td class="num">not identifiable</td>' in (folder / "report.html").read_text()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["kind"] == "grid" and manifest["combos"] == 6
    html = (folder / "report.html").read_text()
    assert "synthetic sample data" in html.lower() and "chart-pair-0" in html


def test_grid_console_judges_the_winner_over_cash_and_against_the_benchmark(grid_folder):
    result, folder = grid_folder
    h = json.loads((folder / "summary.json").read_text())["honesty"]
    lines = result.output.replace("\n", " ")
    cash, bench = h["over_cash"], h["vs_benchmark"]
    assert f"over cash: winner's Sharpe {cash['winner']:.2f}, deflated Sharpe " in lines
    assert f"{cash['effective_trials']:.1f} effective" in lines
    assert "against buy-and-hold XJO: winner's information ratio " in lines
    assert f"deflated information ratio {bench['deflated']:.2f} over " in lines


def test_walk_forward_compares_like_with_like(grid_folder):
    result, folder = grid_folder
    wf = json.loads((folder / "summary.json").read_text())["walk_forward"]
    assert len(wf["folds"]) == 3 and wf["embargo_sessions"] == 0
    oos, full = wf["out_of_sample"], wf["full_window_best"]
    assert oos["sessions"] == full["sessions"] == wf["test_windows"]["sessions"]
    assert "chosen with hindsight" in full["covers"] and "starts from cash" in wf["restart"]
    curves = pd.read_csv(folder / "walk_forward.csv")
    assert list(curves.columns) == ["date", "walk_forward_equity", "full_window_best_equity"]
    assert len(curves) == oos["sessions"] > 400
    assert f"test slices {wf['test_windows']['first']}..{wf['test_windows']['last']}" in (
        result.output.replace("\n", " ")
    )
    assert "full window's best, chosen with hindsight, same slices: Sharpe" in result.output


def test_a_grid_ranked_by_drawdown_says_pbo_is_not_defined_for_it(tmp_path):
    result = _grid(*SPACE, *WINDOW, "--metric", "max_drawdown", "--walk-forward",
                   "train=4y,test=2y,embargo=40", "--out", str(tmp_path))  # fmt: skip
    assert result.exit_code == 0, result.output
    text = result.output.replace("\n", " ")
    assert "ranked by max_drawdown (higher is better): PBO not defined" in text
    assert "needs the path of equity inside each half" in text
    assert "embargo 40 sessions" in text
    (folder,) = [p for p in tmp_path.iterdir() if not p.name.startswith(".")]
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["honesty"]["ranking"]["pbo"] is None
    assert summary["walk_forward"]["embargo_sessions"] == 40


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
    assert summary["honesty"]["over_cash"]["trials_undefined"] == 2
    assert "2 without a Sharpe ratio" in result.output
    last = result.output.split("over cash:")[0].strip().splitlines()[-1]  # the table's last row
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
        (["--param", "hold_days=1,2", "--walk-forward", "train=5y,test=1y,embargo=x"], "embargo"),
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

    from engine.cli import grid as cli_grid
    from engine.research.grid import CHUNK

    assert f"typer.Option({CHUNK}," in inspect.getsource(cli_grid)
