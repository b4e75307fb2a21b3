"""``backtest strategies list|show``, ``backtest events`` and ``backtest audit`` in-process:
output, files, exit codes (0 ok, 1 audit failed, 2 bad input) and clean failures."""

from __future__ import annotations

import textwrap

import pandas as pd
import pytest
from typer.testing import CliRunner

from engine.cli.main import app
from strategies import REGISTRY

runner = CliRunner()


def run(*args: str, width: int = 200):
    return runner.invoke(app, list(args), env={"COLUMNS": str(width)})


CHEAT = """
import numpy as np
from engine.strategy.base import Strategy


class Cheat(Strategy):
    name = "cheat"
    rule = "Hold small caps on sessions that close up, read at the open."
    traded = ("XSO",)

    def weights(self, ctx, p):
        close = ctx.market["XSO"].frame["close"].reindex(ctx.labels)
        return (close > close.shift(1)).to_numpy(dtype=float)[:, None]
"""


@pytest.fixture
def cheat_file(tmp_path):
    path = tmp_path / "cheat.py"
    path.write_text(textwrap.dedent(CHEAT))
    return f"{path}:Cheat"


def test_list_shows_every_strategy_and_its_parameters():
    result = run("strategies", "list")
    assert result.exit_code == 0, result.output
    for name, cls in REGISTRY.items():
        assert name in result.output
        assert all(p.name in result.output for p in cls.params)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_show_prints_rule_parameters_and_data(name):
    result = run("strategies", "show", name)
    assert result.exit_code == 0, result.output
    s = REGISTRY[name]()
    assert name in result.output and s.rule.split()[0] in result.output
    for p in s.params:
        assert p.name in result.output and p.range_text() in result.output
    for key in s.required():
        assert key in result.output


def test_show_the_flagship_lists_optional_derail_data():
    out = run("strategies", "show", "russell-fed-rotation").output
    assert "when yield_spike_bp > 0" in out and "when aud_drop > 0" in out
    assert "Russell 2000" in out and "warm-up 20 sessions" in out


def test_show_a_strategy_file(cheat_file):
    result = run("strategies", "show", "--strategy-file", cheat_file)
    assert result.exit_code == 0 and "cheat" in result.output and "No parameters" in result.output


def test_events_on_the_sample_prints_and_writes(tmp_path):
    result = run("events", "russell-fed-rotation", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    out = result.output
    assert "RUT record after a Fed cut" in out and "2001-01-18" in out  # first fill on the sample
    assert "seed 20250918" in out and "synthetic sample data" in out and "60 sessions" in out
    (folder,) = list(tmp_path.iterdir())
    events = pd.read_csv(folder / "events.csv")
    assert len(events) > 10 and {"ret_1", "ret_5", "ret_20", "ret_60"} <= set(events.columns)
    assert (folder / "events_summary.csv").is_file() and (folder / "events.json").is_file()


def test_events_with_few_signals_says_so(tmp_path):
    result = run(
        "events", "russell-fed-rotation", "-p", "cut_window_days=0", "-q", "--out", str(tmp_path)
    )
    assert result.exit_code == 0, result.output
    assert "to conclude anything" in result.output
    assert "known (UTC)" not in result.output  # --quiet: summary only


def test_events_window_and_close_fills(tmp_path):
    args = ["events", "fed-easing-cycle", "--start", "2019-01-01", "--end", "2021-12-31"]
    result = run(*args, "--fill", "close", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "2019-01-02..2021-12-31" in result.output and "close fills" in result.output


def test_events_of_a_strategy_file(tmp_path, cheat_file):
    result = run("events", "--strategy-file", cheat_file, "-q", "--out", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "distinct fill sessions" in result.output


def test_audit_passes_on_the_sample():
    result = run("audit", "russell-fed-rotation", "-p", "exit_on_hike=on")
    assert result.exit_code == 0, result.output
    assert "PASS" in result.output and "left every earlier decision unchanged" in result.output


def test_audit_fails_with_exit_1_and_names_the_moved_decision(cheat_file):
    result = run("audit", "--strategy-file", cheat_file)
    assert result.exit_code == 1, result.output
    assert "FAIL" in result.output and "changed the decision for session" in result.output
    assert "XSO 1" in result.output or "XSO 0" in result.output


@pytest.mark.parametrize(
    "args,message",
    [
        (["strategies", "show", "russel-fed-rotation"], "Did you mean 'russell-fed-rotation'"),
        (["strategies", "show"], "name a strategy"),
        (["events", "trend", "-p", "ma_dayz=5"], "Did you mean 'ma_days'"),
        (["events", "trend", "-p", "ma_days=1"], "trend: parameter ma_days must be"),
        (["events", "trend", "-p", "band=wide"], "parameter band must be"),
        (["events", "trend", "-p", "ma_days"], "KEY=VALUE"),
        (["events", "trend", "--fill", "noon"], "--fill"),
        (["events", "trend", "--start", "someday"], "not a date"),
        (["events", "trend", "--start", "2040-01-01"], "widen"),
        (["events", "trend", "--data-dir", "/nonexistent"], "does not exist"),
        (["audit", "trend", "--fill", "noon"], "--fill"),
        (["audit", "momentum"], "unknown strategy 'momentum'"),
        (["audit", "trend", "--strategy-file", "x.py:X"], "Drop all but one"),
        (["audit", "--strategy-file", "missing.py:X"], "missing.py does not exist"),
        (["audit", "--strategy-file", "missing.py"], "PATH:CLASS"),
    ],
)
def test_bad_input_exits_2_with_a_message(tmp_path, args, message):
    result = run(*args, "--out", str(tmp_path / "out")) if args[0] == "events" else run(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_strategy_file_that_fails_to_import_shows_file_and_line(tmp_path):
    path = tmp_path / "broken.py"
    path.write_text("import numpy\n\nraise RuntimeError('boom')\n")
    result = run("audit", "--strategy-file", f"{path}:Mine", width=400)
    assert result.exit_code == 2
    assert f"{path}:3:" in result.output and "RuntimeError: boom" in result.output
