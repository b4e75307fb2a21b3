"""The run options are declared once (engine.cli.options, from RunConfig's fields): every command
that runs a backtest takes them with the same names, defaults and help; --config fills what the
command line leaves at its default; no command rebuilds its options from locals()."""

from __future__ import annotations

import ast
import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.main import get_command
from typer.testing import CliRunner

from engine.backtest.config import RunConfig
from engine.cli.main import app
from engine.cli.options import RunOptions, run_options

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()
FIELDS = {f.name: f for f in dataclasses.fields(RunConfig)}


def _options(*path: str) -> dict:
    """Click parameters of ``backtest <path>`` by name."""
    command = get_command(app)
    for name in path:
        command = command.commands[name]
    return {p.name: p for p in command.params}


@pytest.mark.parametrize("command", [("run",), ("grid",), ("compare",)])
def test_backtest_commands_take_every_run_option_from_runconfig(command):
    params = _options(*command)
    for name, f in FIELDS.items():
        p = params[name]
        assert p.opts == ["--" + name.replace("_", "-")], name
        assert p.help == f.metadata["help"], name
        assert p.default == f.default, name


@pytest.mark.parametrize(("command", "names"), [
    (("events",), {"data_dir", "start", "end", "fill", "allow_stale_open"}),
    (("audit",), {"data_dir", "fill"}),
])  # fmt: skip
def test_events_and_audit_take_the_run_options_they_use_with_the_same_help(command, names):
    params, run = _options(*command), _options("run")
    assert {n for n in params if n in FIELDS} == names
    for name in names:
        assert (params[name].opts, params[name].help) == (run[name].opts, run[name].help)


def test_fixed_choices_are_listed_in_help():
    result = runner.invoke(app, ["run", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "[open|close]" in text and "[AUD|USD]" in text and "[table|json|csv]" in text


def test_the_old_option_names_still_work():
    run = _options("run")
    assert run["out_dir"].opts == ["--out"] and run["output_format"].opts == ["--format"]
    assert run["allow_stale_open"].is_flag and run["allow_stale_open"].secondary_opts == []
    assert set(run["param"].opts) == {"--param", "-p"} and run["config"].opts == ["--config"]
    for command in ("grid", "compare", "events"):
        assert _options(command)["out_dir"].opts == ["--out"]


def test_no_cli_module_uses_locals():
    for path in (ROOT / "engine" / "cli").glob("*.py"):
        calls = [n for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Call)]
        assert not [c for c in calls if getattr(c.func, "id", "") == "locals"], path.name


def test_help_does_not_load_the_simulator():
    code = ("import sys; sys.argv = ['backtest', '--help']; import engine.cli.main as m; "
            "print(sorted(k for k in ('numba', 'engine.backtest.run', 'engine.sim.simulate') "
            "if k in sys.modules))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# A toy command: what the decorator hands over, without running a backtest.
toy = typer.Typer()
seen: dict = {}
PARAM = typer.Option([], "--param", "-p")
OUT = typer.Option(None, "--out")


@toy.command()
@run_options(config_file=True)
def show(
    name: str | None = typer.Argument(None),
    param: list[str] = PARAM,
    options: RunOptions = ...,
    out_dir: Path | None = OUT,
) -> None:
    seen.update(name=name, param=param, out=out_dir, values=dict(options.values))
    seen["config"] = options.config()


def _show(*args: str) -> dict:
    seen.clear()
    result = runner.invoke(toy, list(args))
    assert result.exit_code == 0, result.output
    return seen


def test_defaults_come_from_runconfig_and_dates_are_parsed():
    got = _show()
    assert got["values"] == {f.name: f.default for f in FIELDS.values()}
    assert got["config"] == RunConfig()
    got = _show("--start", "2019-1-2", "--fees-bps", "3", "--allow-stale-open")
    assert str(got["config"].start.date()) == "2019-01-02" and got["config"].fees_bps == 3.0
    assert got["config"].allow_stale_open is True


def test_the_command_line_beats_the_config_file_which_beats_the_default(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('name = "x"\nfees_bps = 4\nfill = "close"\nstart = 2019-01-01\nout = "o"\n'
                   "data_dir = \"d\"\n[params]\na = 1\nb = 2\n")  # fmt: skip
    got = _show("--config", str(cfg), "--fill", "open", "-p", "b=3")
    assert got["name"] == "x" and got["out"] == Path("o")
    assert got["values"]["fees_bps"] == 4 and got["values"]["fill"] == "open"
    assert got["values"]["data_dir"] == Path("d") and got["values"]["slippage_bps"] == 5.0
    assert str(got["config"].start.date()) == "2019-01-01"  # a TOML date, parsed
    assert sorted(got["param"]) == ["a=1", "b=3"]
    # a flag given with its default value is still given: it beats the file
    assert _show("--config", str(cfg), "--fees-bps", "10")["values"]["fees_bps"] == 10.0


def test_a_config_file_is_checked_against_the_commands_options(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("fees_bp = 4\n")
    result = runner.invoke(toy, ["--config", str(cfg)])
    assert result.exit_code == 2 and "Did you mean 'fees_bps'" in result.output
    cfg.write_text('allow_stale_open = "yes"\n')
    result = runner.invoke(toy, ["--config", str(cfg)])
    assert result.exit_code == 2 and "write true or false" in result.output


def test_a_command_without_options_is_refused():
    with pytest.raises(TypeError, match="options"):

        @run_options()
        def broken(x: int = 1) -> None: ...

    with pytest.raises(TypeError, match="nope"):

        @run_options("nope")
        def broken2(options: RunOptions = ...) -> None: ...


def test_options_say_which_flag_a_command_lacks():
    with pytest.raises(AttributeError, match="--fees-bps"):
        _ = RunOptions({"fill": "open"}).fees_bps
    assert json.dumps(RunOptions({"fill": "open"}).values) == '{"fill": "open"}'
