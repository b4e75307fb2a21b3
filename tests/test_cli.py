"""The CLI in-process: what a run writes, reproducibility, and clean failures (exit 2, no folder)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pandas as pd
import pytest
from typer.testing import CliRunner

from engine import paths
from engine.cli.main import app

runner = CliRunner()
WINDOW = ["--start", "2019-01-01", "--end", "2020-12-31"]


def _run(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture(scope="module")
def flagship_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("results")
    result = _run("run", "russell-fed-rotation", *WINDOW, "--out", str(out))
    assert result.exit_code == 0, result.output
    (folder,) = [p for p in out.iterdir() if not p.name.startswith(".")]
    return result, folder


def test_run_prints_metrics_and_writes_every_file(flagship_run):
    result, folder = flagship_run
    assert "sharpe" in result.output and "synthetic sample data" in result.output
    names = {p.name for p in folder.iterdir()}
    assert {"summary.json", "equity.csv", "orders.csv", "manifest.json", "report.html"} <= names
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["data"] == "synthetic sample data"
    assert summary["window"] == {"first": "2019-01-02", "last": "2020-12-31"}
    equity = pd.read_csv(folder / "equity.csv", parse_dates=["date"])
    assert equity["equity"].iloc[-1] == pytest.approx(summary["metrics"]["final_equity"])
    assert {"weight_XSO", "weight_XJO", "benchmark_XJO"} <= set(equity.columns)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["synthetic"] is True and len(manifest["data_files"]["RUT"]["sha256"]) == 64
    assert manifest["packages"]["numba"] and manifest["calendar"] == "XASX"
    html = (folder / "report.html").read_text()
    assert "synthetic sample data" in html.lower()
    assert "<h2>Trades</h2>" in html and "Russell record" in html and "Fed cut" in html
    assert "buy-and-hold XJO" in html and "buy-and-hold XSO" in html  # benchmark and traded asset
    assert {"trades.csv", "events.csv"} <= names


def test_same_inputs_give_byte_identical_summary(flagship_run, tmp_path):
    _, first = flagship_run
    result = _run("run", "russell-fed-rotation", *WINDOW, "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    (second,) = list(tmp_path.iterdir())
    assert (second / "summary.json").read_bytes() == (first / "summary.json").read_bytes()
    assert (second / "equity.csv").read_bytes() == (first / "equity.csv").read_bytes()


def test_aud_run_of_a_us_asset_converts_at_the_fx_rate(tmp_path):
    args = ["run", "buy-and-hold", "--param", "asset=RUT", "--quiet", "--out", str(tmp_path)]
    aud = _run(*args, *WINDOW)
    usd = _run(*args, *WINDOW, "--base-currency", "USD", "--benchmark", "RUT")
    assert aud.exit_code == 0 and usd.exit_code == 0, aud.output + usd.output
    aud_m = json.loads((tmp_path / aud.output.strip().split("/")[-1] / "summary.json").read_text())
    usd_m = json.loads((tmp_path / usd.output.strip().split("/")[-1] / "summary.json").read_text())
    assert aud_m["metrics"]["total_return"] != pytest.approx(usd_m["metrics"]["total_return"])


def test_params_change_the_run(tmp_path):
    result = _run(
        "run", "buy-and-hold", "--param", "asset=XSO", *WINDOW, "--out", str(tmp_path), "--quiet"
    )
    assert result.exit_code == 0, result.output
    folder = tmp_path / result.output.strip().split("/")[-1]
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["params"] == {"asset": "XSO"} and summary["metrics"]["trade_count"] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "russel-fed-rotation"], "Did you mean 'russell-fed-rotation'"),
        (["run", "russell-fed-rotation", "--param", "hold_dayz=3"], "Did you mean 'hold_days'"),
        (["run", "russell-fed-rotation", "--param", "hold_days=-1"], "hold_days"),
        (["run", "russell-fed-rotation", "--param", "hold_days"], "KEY=VALUE"),
        (["run", "russell-fed-rotation", "--start", "2020-01-01", "--end", "2019-01-01"], "after"),
        (["run", "russell-fed-rotation", "--start", "2030-01-01"], "widen"),
        (["run", "russell-fed-rotation", "--start", "someday"], "not a date"),
        (["run", "russell-fed-rotation", "--data-dir", "/nonexistent"], "does not exist"),
        (["run", "russell-fed-rotation", "--fill", "noon"], "--fill"),
        (["run", "russell-fed-rotation", "--base-currency", "EUR"], "EUR"),
        (["run", "russell-fed-rotation", "--band", "-0.1"], "band"),
        (["run", "russell-fed-rotation", "--max-leverage", "0.5"], "max_leverage"),
        (
            [
                "run",
                "buy-and-hold",
                "--param",
                "asset=RUT",
                "--base-currency",
                "USD",
                "--data-dir",
                "{nofx}",
            ],
            "missing data for AUDUSD",
        ),
    ],
)
def test_bad_input_exits_2_with_a_message_and_writes_nothing(tmp_path, args, message):
    nofx = tmp_path / "nofx"  # the sample without its AUD/USD series
    shutil.copytree(paths.sample_dir(), nofx, ignore=shutil.ignore_patterns("AUDUSD.csv"))
    args = [a.replace("{nofx}", str(nofx)) for a in args]
    result = _run(*args, "--out", str(tmp_path / "out"))
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    out = tmp_path / "out"
    assert not out.exists() or not any(out.iterdir())


def test_missing_instrument_file_is_named(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    result = _run("run", "russell-fed-rotation", "--data-dir", str(data), "--out", str(tmp_path))
    assert result.exit_code == 2
    assert "RUT.csv" in result.output and "XSO.csv" in result.output


def test_unwritable_out_is_a_clean_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = _run("run", "buy-and-hold", *WINDOW, "--out", str(blocker / "results"))
    assert result.exit_code == 2 and "--out" in result.output


def test_strategies_list_shows_every_registered_strategy():
    result = _run("strategies", "list")
    assert result.exit_code == 0
    assert "russell-fed-rotation" in result.output and "buy-and-hold" in result.output


def test_run_accepts_a_strategy_file(tmp_path):
    code = (
        "import numpy as np\n"
        "from engine.strategy.base import Param, Strategy\n\n"
        "class HalfHalf(Strategy):\n"
        "    name = 'half-half'\n"
        "    rule = 'Hold half in small caps and half in large caps, never rebalancing.'\n"
        "    params = (Param('small', 0.5, 'float', 'weight in XSO', low=0.0, high=1.0),)\n"
        "    traded = ('XSO', 'XJO')\n\n"
        "    def weights(self, ctx, p):\n"
        "        return np.tile([p['small'], 1.0 - p['small']], (len(ctx.labels), 1))\n"
    )
    path = tmp_path / "mine.py"
    path.write_text(code)
    result = _run("run", "--strategy-file", f"{path}:HalfHalf", "--param", "small=0.25", *WINDOW,
                  "--out", str(tmp_path / "out"), "--quiet")  # fmt: skip
    assert result.exit_code == 0, result.output
    folder = tmp_path / "out" / result.output.strip().split("/")[-1]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["strategy"] == "half-half" and manifest["params"] == {"small": 0.25}
    assert manifest["strategy_source"]["file"] == str(path)
    assert len(manifest["strategy_source"]["sha256"]) == 64
    bad = _run("run", "--strategy-file", f"{path}:Nope", "--out", str(tmp_path / "out"))
    assert bad.exit_code == 2 and "HalfHalf" in bad.output


def test_config_file_supplies_options_and_flags_override_it(tmp_path):
    config = tmp_path / "run.toml"
    config.write_text(
        'strategy = "russell-fed-rotation"\nstart = 2019-01-01\nend = "2020-12-31"\n'
        "fees_bps = 0\n[params]\nhold_days = 7\ncut_window_days = 90\n"
    )
    out = tmp_path / "out"
    result = _run("run", "--config", str(config), "--param", "hold_days=9", "--out", str(out),
                  "--format", "json")  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["params"]["hold_days"] == 9 and summary["params"]["cut_window_days"] == 90
    assert summary["costs"]["fees_bps"] == 0 and summary["window"]["first"] == "2019-01-02"
    flagged = _run("run", "--config", str(config), "--fees-bps", "3", "--out", str(out),
                   "--format", "json")  # fmt: skip
    assert json.loads(flagged.stdout)["costs"]["fees_bps"] == 3


def test_config_file_with_unknown_keys_names_them(tmp_path):
    config = tmp_path / "run.toml"
    config.write_text('strategy = "buy-and-hold"\nfees_bp = 3\nslipage_bps = 1\n')
    result = _run("run", "--config", str(config), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "'fees_bp'" in result.output and "Did you mean 'fees_bps'" in result.output
    assert "'slipage_bps'" in result.output
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def _console(*args: str):
    code = f"import sys; sys.argv = ['backtest', *{list(args)!r}]; from engine.cli.main import main; main()"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)


def test_console_command_flushes_output_and_keeps_exit_codes():
    ok = _console("strategies", "list")
    assert ok.returncode == 0 and "russell-fed-rotation" in ok.stdout  # flushed before os._exit
    bad = _console("run", "nosuch")
    assert bad.returncode == 2 and "unknown strategy 'nosuch'" in bad.stderr
    usage = _console("run", "--no-such-flag")
    assert usage.returncode == 2 and "No such option" in usage.stderr


def test_python_dash_m_engine_is_the_backtest_command():
    out = subprocess.run([sys.executable, "-m", "engine", "strategies", "list", "--help"],
                         capture_output=True, text=True, check=False)  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "Usage: python -m engine strategies list" in " ".join(out.stdout.split())
