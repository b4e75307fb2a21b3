"""`backtest compare`, `runs list|show` and `report` in-process, and every bad input exits cleanly.

The commands are attached to a fresh typer app with ``cli_runs.register``, as ``engine.cli.main`` does.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from engine.backtest.run import RunConfig, run_backtest
from engine.cli import runs as cli_runs
from engine.research import compare
from engine.store import compare_folder
from engine.store.run_folder import write_run
from strategies import REGISTRY

runner = CliRunner()
START, END = pd.Timestamp("2015-01-01"), pd.Timestamp("2019-12-31")
WINDOW = ["--start", "2015-01-01", "--end", "2019-12-31"]
INPUTS = ["russell-fed-rotation:hold_days=40,cut_window_days=90", "static-mix"]


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """crosscurrent (test shell)"""

    cli_runs.register(app)
    return app


APP = _app()


def _invoke(*args: str):
    return runner.invoke(APP, list(args))


def _folders(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir()) if root.exists() else []


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    result = _invoke("compare", *INPUTS, *WINDOW, "--resamples", "500", "--out", str(out))
    assert result.exit_code == 0, result.output
    (folder,) = _folders(out)
    return result, folder


def test_compare_prints_tables_and_writes_the_folder(compared):
    result, folder = compared
    for text in ("metrics", "Sharpe vs #1", "p-value", "correlation", "buy-and-hold XJO"):
        assert text in result.output, text
    assert "synthetic sample data" in result.output and str(folder.name) in result.output
    assert {p.name for p in folder.iterdir()} == {
        "compare.json",
        "equity.csv",
        "report.html",
        "manifest.json",
    }
    data = json.loads((folder / "compare.json").read_text())
    assert [i["spec"] for i in data["inputs"]] == INPUTS
    assert data["bootstrap"]["resamples"] == 500


def test_quiet_compare_prints_only_the_folder_and_accepts_saved_run_ids(tmp_path):
    saved = tmp_path / "saved"
    strategy = REGISTRY["russell-fed-rotation"](hold_days=40)
    run_id = write_run(run_backtest(strategy, RunConfig(start=START, end=END)), saved).name
    out = tmp_path / "out"
    result = _invoke(
        "compare",
        "static-mix",
        run_id,
        *WINDOW,
        "--quiet",
        "--resamples",
        "100",
        "--results",
        str(saved),
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    (made,) = _folders(out)
    assert result.output.strip() == str(made)
    inputs = json.loads((made / "compare.json").read_text())["inputs"]
    assert inputs[1]["from_run"] == run_id and inputs[1]["params"]["hold_days"] == 40


def test_runs_list_and_show_describe_saved_runs(compared):
    _, folder = compared
    listed = _invoke("runs", "list", "--results", str(folder.parent))
    assert listed.exit_code == 0, listed.output
    assert folder.name in listed.output and "compare" in listed.output
    shown = _invoke("runs", "show", folder.name[:20], "--results", str(folder.parent))
    assert shown.exit_code == 0, shown.output
    assert "static-mix" in shown.output and "Sharpe #2 - #1" in shown.output
    as_json = _invoke("runs", "show", folder.name, "--results", str(folder.parent), "--json")
    assert json.loads(as_json.output)["kind"] == "compare"


def test_runs_list_on_an_empty_folder_says_so(tmp_path):
    result = _invoke("runs", "list", "--results", str(tmp_path))
    assert result.exit_code == 0 and "no saved runs" in result.output


def test_report_regenerates_a_saved_report(compared):
    _, folder = compared
    before = (folder / "report.html").read_bytes()
    (folder / "report.html").unlink()
    result = _invoke("report", folder.name, "--results", str(folder.parent))
    assert result.exit_code == 0, result.output
    assert (folder / "report.html").read_bytes() == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["runs", "show", "20250101T000000Z-nope"], "no saved run"),
        (["report", "20250101T000000Z-nope"], "no saved run"),
        (["compare", "trend", "20250101T000000Z-nope"], "no saved run"),
        (["compare", "trend", "trnd"], "Did you mean 'trend'"),
        (["compare", "trend"], "at least two inputs"),
        (["compare", "trend", "static-mix:small_weight=2"], "small_weight"),
        (["compare", *INPUTS, "--start", "2019-01-01", "--end", "2015-01-01"], "swap them"),
        (["compare", *INPUTS, "--start", "2040-01-01", "--end", "2041-01-01"], "widen"),
        (["compare", *INPUTS, "--start", "2015-13-01"], "not a date"),
        (["compare", *INPUTS, "--fill", "noon"], "--fill"),
        (["compare", *INPUTS, "--resamples", "3"], "--resamples"),
        (["runs", "list", "--kind", "gird"], "Did you mean 'grid'"),
    ],
)
def test_bad_input_exits_2_with_a_message_and_writes_nothing(tmp_path, args, message):
    out = tmp_path / "out"
    where = ["--results", str(out)] if args[0] != "compare" else ["--out", str(out)]
    result = _invoke(*args, *where)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert not any(p for p in _folders(out) if p.is_dir())


def test_an_unwritable_out_fails_before_running(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = _invoke("compare", *INPUTS, *WINDOW, "--out", str(blocker / "results"))
    assert result.exit_code == 2, result.output
    assert "cannot write results under" in result.output and "--out" in result.output


def test_ctrl_c_while_running_exits_130_and_leaves_no_folder(tmp_path, monkeypatch):
    real, calls = compare.run_backtest, []

    def second_interrupts(strategy, cfg):
        calls.append(strategy.name)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(strategy, cfg)

    monkeypatch.setattr(compare, "run_backtest", second_interrupts)
    out = tmp_path / "out"
    result = _invoke("compare", *INPUTS, *WINDOW, "--out", str(out))
    assert result.exit_code == 130, result.output
    assert "interrupted; nothing was written" in result.output and len(calls) == 2
    assert _folders(out) == [], "no folder and no .partial- leftovers"


def test_ctrl_c_while_writing_exits_130_and_leaves_no_half_written_folder(tmp_path, monkeypatch):
    def interrupt(*args):
        raise KeyboardInterrupt

    # Called after compare.json and equity.csv are in the temporary folder.
    monkeypatch.setattr(compare_folder, "write_compare_report", interrupt)
    out = tmp_path / "out"
    result = _invoke("compare", *INPUTS, *WINDOW, "--resamples", "100", "--out", str(out))
    assert result.exit_code == 130, result.output
    assert _folders(out) == [], "no folder and no .partial- leftovers"
