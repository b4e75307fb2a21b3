"""Issue 17: ``--format table|json|csv`` on every command that prints results, nothing cut when
piped or narrow, choices listed in --help, --version, completion, --config beyond ``run``, a closed
pipe, and the walk-forward bar's total."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from engine import paths
from engine.cli import grid as cli_grid
from engine.cli.main import app
from engine.stats.spec import format_value

runner = CliRunner()
WINDOW = ["--start", "2019-01-01", "--end", "2020-12-31"]
FLAGSHIP = "russell-fed-rotation"


def _cli(*args, **env):
    return runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "80", **env})


def _json(result):
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _csv(result) -> list[dict]:
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows and all(len(r) == len(rows[0]) for r in rows), result.stdout
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A results folder with one run, one grid and one event study."""
    out = tmp_path_factory.mktemp("results")
    for args in (
        ["run", FLAGSHIP, *WINDOW],
        ["grid", FLAGSHIP, "-p", "hold_days=10,20", *WINDOW],
        ["events", FLAGSHIP, *WINDOW],
    ):
        result = _cli(*args, "--out", out)
        assert result.exit_code == 0, result.output
    return out


# --------------------------------------------------------------------------- the app itself


def test_version():
    result = _cli("--version")
    assert result.exit_code == 0 and re.fullmatch(r"crosscurrent \S+\n", result.stdout)


def test_completion_is_offered_and_completes_fixed_values():
    text = _cli("--help").output
    assert "--install-completion" in text and "--show-completion" in text
    env = {**os.environ, "_BACKTEST_COMPLETE": "complete_bash", "COMP_CWORD": "3",
           "COMP_WORDS": "backtest run --format "}  # fmt: skip
    code = "import sys; sys.argv = ['backtest']; from engine.cli.main import main; main()"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.stdout.split() == ["table", "json", "csv"], done.stderr


def _commands(group=None, path=()):
    import typer.main

    group = group or typer.main.get_command(app)
    for name, cmd in group.commands.items():
        yield (*path, name)
        if hasattr(cmd, "commands"):
            yield from _commands(cmd, (*path, name))


def test_no_help_page_turns_text_into_emoji():
    for command in _commands():
        text = _cli(*command, "--help", COLUMNS="200").output
        assert not re.search("[\U0001f000-\U0001faff\u2600-\u27bf]", text), command
    grid = " ".join(_cli("grid", "--help", COLUMNS="200").output.split())
    assert "KEY=START:STOP:STEP" in grid


@pytest.mark.parametrize(
    ("command", "listed"),
    [
        (["run"], ["[open|close]", "[AUD|USD]", "[table|json|csv]"]),
        (["grid"], ["[open|close]", "[table|json|csv]"]),
        (["events"], ["[open|close]", "[table|json|csv]"]),
        (["audit"], ["[open|close]", "[table|json]"]),
        (["data", "fetch"], ["[yahoo|fred|rba]", "[table|json|csv]"]),
        (["runs", "list"], ["[run|grid|compare|events]", "[table|json|csv]"]),
    ],
)
def test_fixed_values_are_listed_in_help(command, listed):
    text = " ".join(_cli(*command, "--help", COLUMNS="200").output.split())
    assert all(choice in text for choice in listed), text


def test_listed_choices_are_the_engines():
    from engine.feeds.providers import SOURCES
    from engine.store.saved import KINDS

    assert tuple(SOURCES) == ("yahoo", "fred", "rba")
    assert tuple(KINDS) == ("run", "grid", "compare", "events")


@pytest.mark.parametrize("command", [["strategies", "list"], ["data", "list"], ["run", FLAGSHIP]])
def test_an_unknown_format_is_refused_with_a_suggestion(command):
    result = _cli(*command, "--format", "jsn")
    assert result.exit_code == 2 and result.output.startswith("error: --format 'jsn'")
    assert "Did you mean 'json'?" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("command", [["strategies", "list"], ["--help"]])
def test_a_closed_pipe_ends_quietly_with_exit_0(command):
    # `backtest strategies list | head -1`, with the reader gone before the first line is written
    argv = f"import sys; sys.argv = ['backtest', *{command!r}]; "
    code = argv + "from engine.cli.main import main; main()"
    args = [sys.executable, "-c", code]
    env = {**os.environ, "COLUMNS": "80"}
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    proc.stdout.close()
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0 and stderr == b"", stderr.decode()


# --------------------------------------------------------------------------- nothing cut


def test_piped_tables_print_complete_rows():
    from engine.api.builtins import registry

    text = _cli("strategies", "list", COLUMNS="40").stdout
    assert "…" not in text
    for name, cls in registry().items():
        assert any(line.startswith(name) and cls.rule in line for line in text.splitlines())


def test_a_narrow_piped_event_table_keeps_whole_dates(saved):
    result = _cli("events", FLAGSHIP, *WINDOW, "--out", saved, COLUMNS="40")
    assert result.exit_code == 0, result.output
    assert "…" not in result.stdout
    assert re.search(r"^2020-04-14 20:00  2020-04-14  2020-04-15 ", result.stdout, re.M)


# --------------------------------------------------------------------------- every command's formats


def test_strategies_list_and_show():
    listed = _json(_cli("strategies", "list", "--format", "json"))
    assert {"name": FLAGSHIP}.items() <= next(r for r in listed if r["name"] == FLAGSHIP).items()
    rows = _csv(_cli("strategies", "list", "--format", "csv"))
    assert [r["name"] for r in rows] == [r["name"] for r in listed]
    shown = _json(_cli("strategies", "show", FLAGSHIP, "--format", "json"))
    assert shown["name"] == FLAGSHIP and "RUT" in [d["instrument"] for d in shown["data"]]
    params = _csv(_cli("strategies", "show", FLAGSHIP, "--format", "csv"))
    assert [p["name"] for p in params] == [p["name"] for p in shown["params"]]


def test_run_json_is_its_summary_and_csv_has_every_metric(tmp_path):
    result = _cli("run", FLAGSHIP, *WINDOW, "--out", tmp_path, "--format", "json")
    (folder,) = tmp_path.iterdir()
    assert _json(result) == json.loads((folder / "summary.json").read_text())
    assert f"results: {folder}" in result.stderr
    rows = _csv(_cli("run", FLAGSHIP, *WINDOW, "--out", tmp_path, "--format", "csv"))
    metrics = {r["metric"]: r for r in rows}
    assert float(metrics["cagr"]["strategy"]) == pytest.approx(_json(result)["metrics"]["cagr"])
    assert metrics["total_return"]["buy_and_hold_XJO"] != ""


def test_grid_formats_and_one_number_format(tmp_path):
    args = ["grid", FLAGSHIP, "-p", "hold_days=10,20", *WINDOW, "--out", tmp_path]
    table = _cli(*args)
    assert table.exit_code == 0, table.output
    summary = _json(_cli(*args, "--format", "json"))
    top = summary["top"][0]
    assert format_value("cagr", top["cagr"]) in table.stdout  # a percentage, as `run` prints it
    rows = _csv(_cli(*args, "--format", "csv"))
    assert [r["rank"] for r in rows] == ["1", "2"]
    assert float(rows[0]["cagr"]) == pytest.approx(top["cagr"]) and rows[0]["hold_days"]


def test_a_grid_ranked_by_cagr_prints_its_interval_as_percentages(tmp_path):
    args = ["grid", FLAGSHIP, "-p", "hold_days=10,20", *WINDOW, "--metric", "cagr"]
    result = _cli(*args, "--out", tmp_path, COLUMNS="200")
    assert result.exit_code == 0, result.output
    summary = json.loads(next(tmp_path.iterdir()).joinpath("summary.json").read_text())
    lo, hi = summary["honesty"]["ranking"]["ci95"]
    interval = f"cagr 95% CI {format_value('cagr', lo)}..{format_value('cagr', hi)}"
    assert interval in " ".join(result.stdout.split()) and "%" in interval


def test_events_formats(saved):
    args = ["events", FLAGSHIP, *WINDOW, "--out", saved]
    doc = _json(_cli(*args, "--format", "json"))
    assert doc["strategy"] == FLAGSHIP and len(doc["events"]) == doc["signals"]
    assert [s["horizon"] for s in doc["summary"]] == doc["horizons"]
    events = _csv(_cli(*args, "--format", "csv"))
    assert len(events) == doc["signals"] and "ret_20" in events[0]
    summary = _csv(_cli(*args, "--format", "csv", "--quiet"))
    assert [int(s["horizon"]) for s in summary] == doc["horizons"]


def test_audit_json():
    doc = _json(_cli("audit", "buy-and-hold", "--format", "json"))
    assert doc["passed"] is True and doc["checked"] > 0 and doc["message"].startswith("PASS")


def test_runs_list_and_show(saved):
    listed = _json(_cli("runs", "list", "--results", saved, "--format", "json"))
    assert {r["kind"] for r in listed} == {"events", "grid", "run"}
    rows = _csv(_cli("runs", "list", "--results", saved, "--format", "csv"))
    assert [r["run_id"] for r in rows] == [r["run_id"] for r in listed]
    run_id = next(r["run_id"] for r in listed if r["kind"] == "run")
    shown = _json(_cli("runs", "show", run_id, "--results", saved, "--format", "json"))
    assert shown["run_id"] == run_id and "summary.json" in shown["files"]
    assert shown["folder"].endswith(run_id) and shown["manifest"]["created_utc"]
    facts = {r["field"]: r["value"] for r in _csv(_cli("runs", "show", run_id, "--results", saved,
                                                        "--format", "csv"))}  # fmt: skip
    assert facts["kind"] == "run" and float(facts["sharpe"]) == pytest.approx(
        shown["summary"]["metrics"]["sharpe"]
    )


def test_runs_list_of_nothing_is_an_empty_document(tmp_path):
    result = _cli("runs", "list", "--results", tmp_path, "--format", "json")
    assert _json(result) == [] and "no saved runs" in result.stderr
    assert _cli("runs", "list", "--results", tmp_path, "--format", "csv").stdout.startswith(
        "run_id,"
    )


def test_data_list_and_validate():
    listed = _csv(_cli("data", "list", "--format", "csv"))
    sample = [r for r in listed if r["where"] == "sample"]
    assert {r["key"] for r in sample} >= {"RUT", "XSO", "XJO"}
    files = _json(_cli("data", "validate", str(paths.sample_dir()), "--format", "json"))
    assert all(f["errors"] == 0 and isinstance(f["findings"], list) for f in files)
    rows = _csv(_cli("data", "validate", str(paths.sample_dir()), "--format", "csv"))
    assert {r["key"] for r in rows} == {f["key"] for f in files}


def test_data_validate_json_then_exit_2_on_errors(tmp_path):
    (tmp_path / "RUT.csv").write_text("date,close\n2020-01-02,10\n2020-01-01,11\n")
    result = _cli("data", "validate", tmp_path, "--format", "json")
    assert result.exit_code == 2 and json.loads(result.stdout)[0]["errors"] >= 1


# --------------------------------------------------------------------------- --config everywhere


def test_config_file_drives_grid_events_audit_and_compare(tmp_path):
    cfg = tmp_path / "grid.toml"
    cfg.write_text(
        f'strategy = "{FLAGSHIP}"\nstart = 2019-01-01\nend = "2020-12-31"\nformat = "json"\n'
        "[params]\nhold_days = [10, 20]\n"
    )
    summary = _json(_cli("grid", "--config", cfg, "--out", tmp_path / "g"))
    assert summary["combos"] == 2 and summary["window"]["first"] == "2019-01-02"
    cfg.write_text(cfg.read_text().replace("[10, 20]", "30"))
    events = _json(_cli("events", "--config", cfg, "--out", tmp_path / "e"))
    assert events["window"]["first"] == "2019-01-02" and events["params"]["hold_days"] == 30
    cmp = tmp_path / "compare.toml"
    cmp.write_text(
        'inputs = ["static-mix", "buy-and-hold"]\nstart = "2019-01-01"\nformat = "csv"\n'
    )
    rows = _csv(_cli("compare", "--config", cmp, "--out", tmp_path / "c", "--resamples", "100"))
    assert [r["input"] for r in rows] == ["#1", "#2", "benchmark"]
    audit = tmp_path / "audit.toml"
    audit.write_text('strategy = "buy-and-hold"\nfill = "close"\nformat = "json"\n')
    assert _json(_cli("audit", "--config", audit))["passed"] is True


def test_a_config_files_format_is_checked_too(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text('strategy = "buy-and-hold"\nformat = "yaml"\n')
    result = _cli("run", "--config", cfg, "--out", tmp_path / "out")
    assert result.exit_code == 2 and "error: --format 'yaml'" in result.output
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- the walk-forward bar


def test_the_walk_forward_bar_counts_folds_times_combos(monkeypatch, tmp_path):
    tasks = []

    class Recorder(cli_grid.Progress):
        def add_task(self, description, **kw):
            tasks.append([description, kw.get("total")])
            return super().add_task(description, **kw)

        def update(self, task_id, **kw):
            if "description" in kw:
                tasks[-1][0] = kw["description"]
            return super().update(task_id, **kw)

    monkeypatch.setattr(cli_grid, "Progress", Recorder)
    result = _cli("grid", FLAGSHIP, "-p", "hold_days=10,20,30", "--walk-forward",
                  "train=10y,test=5y", "--out", tmp_path)  # fmt: skip
    assert result.exit_code == 0, result.output
    summary = json.loads(next(tmp_path.iterdir()).joinpath("summary.json").read_text())
    folds = len(summary["walk_forward"]["folds"])
    assert tasks[-1] == [f"walk-forward fold {folds}/{folds}", 3 * folds]
