"""Hostile command-line, config, strategy-file and saved-run inputs, table-driven.

Each case names its expected outcome: refused (exit 2, no traceback, a message naming the input and
the fix, nothing left under ``--out``) or accepted with numbers equal to the clean input's. Data
folders get their own module (``test_hostile_data.py``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine.cli.main import app
from engine.store import folders

runner = CliRunner()
WINDOW = ["--start", "2018-01-01", "--end", "2019-12-31"]
FLAGSHIP = "russell-fed-rotation"


def _cli(*args):
    return runner.invoke(app, [str(a) for a in args])


def _leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir()) if out.exists() else []


def _refused(result, out: Path, *words: str) -> None:
    text = " ".join(result.output.split())
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and text.startswith("error:"), result.output
    for word in words:
        assert word in text, (word, text)
    assert _leftovers(out) == [], _leftovers(out)


STRATEGY_FILE = """\
import sys
import numpy as np
from engine.strategy.base import Strategy, Param


class Good(Strategy):
    name = "good-small"
    rule = "Always hold small caps."
    traded = ("XSO",)

    def weights(self, ctx, p):
        return np.ones((len(ctx.labels), 1))


class Boom(Good):
    name = "boom"

    def weights(self, ctx, p):
        return {}["missing"]


class Exits(Good):
    name = "exits"

    def weights(self, ctx, p):
        sys.exit(0)


class Slash(Good):
    name = "a/b"


class Upper(Good):
    name = "Upper"


class Shape(Good):
    name = "shape"

    def weights(self, ctx, p):
        return np.ones((3, 7))


class Negative(Good):
    name = "negative"

    def weights(self, ctx, p):
        return -np.ones((len(ctx.labels), 1))


class Text(Good):
    name = "text"

    def weights(self, ctx, p):
        return np.full((len(ctx.labels), 1), "x")


class NoRule(Good):
    name = "no-rule"
    rule = ""


class BadParam(Good):
    name = "bad-param"
    params = (Param("n", 5, "int", "a number", "sessions", low=10, high=20),)


class Unknown(Good):
    name = "unknown-key"
    traded = ("NOPE",)
"""


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("files")
    (root / "strats.py").write_text(STRATEGY_FILE, encoding="utf-8")
    (root / "syntax.py").write_text("def broken(:\n", encoding="utf-8")
    (root / "imports.py").write_text("import not_a_module_anywhere\n", encoding="utf-8")
    (root / "exits_on_import.py").write_text("import sys\nsys.exit(3)\n", encoding="utf-8")
    (root / "notpy.txt").write_text("x = 1\n", encoding="utf-8")
    configs = {
        "fees_text": 'strategy = "russell-fed-rotation"\nfees_bps = "abc"\n',
        "out_int": 'strategy = "russell-fed-rotation"\nout = 5\n',
        "strategy_int": "strategy = 7\n",
        "data_list": 'strategy = "russell-fed-rotation"\ndata_dir = ["a"]\n',
        "deep_params": 'strategy = "russell-fed-rotation"\n[params.x.y]\nz = 1\n',
        "params_list": 'strategy = "russell-fed-rotation"\nparams = [1, 2]\n',
        "unknown_key": 'strategy = "russell-fed-rotation"\nfees = 5\n',
        "bad_toml": 'strategy = "russell-fed-rotation\n',
        "bool_cash": 'strategy = "russell-fed-rotation"\ninit_cash = true\n',
        "stale_text": 'strategy = "russell-fed-rotation"\nallow_stale_open = "yes"\n',
        "start_int": 'strategy = "russell-fed-rotation"\nstart = 2019\n',
        "markup": 'strategy = "[/x]"\n',
    }
    for name, text in configs.items():
        (root / f"{name}.toml").write_text(text, encoding="utf-8")
    (root / "latin1.toml").write_bytes(b'strategy = "caf\xe9"\n')
    (root / "dir.toml").mkdir()
    return root


# --------------------------------------------------------------------------- run: refused

RUN_CASES = [
    (["--start", "someday"], "not a date"),
    (["--start", "2019-13-45"], "not a date"),
    (["--end", "2262-05-01"], "outside 1900-01-01..2200-12-31"),
    (["--start", "0000-01-01"], "outside"),
    (["--start", "1700-01-01"], "outside"),
    (["--start", "2019-01-01", "--end", "2018-01-01"], "swap them"),
    (["--start", "2040-01-01"], "widen --start/--end"),
    (["--init-cash", "1e308"], "at most 1e+15"),
    (["--init-cash", "0"], "initial cash"),
    (["--init-cash", "-5"], "initial cash"),
    (["--init-cash", "nan"], "initial cash"),
    (["--init-cash", "inf"], "initial cash"),
    (["--fees-bps", "-1"], "fees"),
    (["--fees-bps", "nan"], "fees_bps"),
    (["--fees-bps", "1e6"], "100 % or more"),
    (["--slippage-bps", "inf"], "slippage_bps"),
    (["--slippage-bps", "10000"], "100 % or more"),
    (["--min-fee", "-1"], "min_fee"),
    (["--min-fee", "1e9"], "at least the initial cash"),
    (["--band", "2"], "would skip every order"),
    (["--band", "-0.1"], "band"),
    (["--max-leverage", "0.5"], "max_leverage"),
    (["--max-leverage", "nan"], "max_leverage"),
    (["--fill", "noon"], "--fill must be"),
    (["--base-currency", "EUR"], "base currency"),
    (["--base-currency", "[/x]"], "base currency"),
    (["--benchmark", "NOPE"], "unknown instrument key"),
    (["--benchmark", "RBA_CASH"], "is a rate series"),
    (["--benchmark", "AUDUSD"], "is a fx series"),
    (["--data-dir", "/nonexistent/folder"], "does not exist"),
    (["--format", "yaml"], "--format"),
    (["-p", "hold_days=[/x]"], "hold_days"),
    (["-p", "hold_days=5", "-p", "hold_days=10"], "given twice"),
    (["-p", "hold_days"], "KEY=VALUE"),
    (["-p", "=5"], "KEY=VALUE"),
    (["-p", "hold_dayz=5"], "Did you mean 'hold_days'"),
    (["-p", "hold_days=0"], "hold_days"),
    (["-p", "hold_days=1e400"], "hold_days"),
    (["-p", "hold_days=" + "9" * 5000], "hold_days"),
    (["-p", "weight=nan"], "weight"),
    (["-p", "risk_off=[bold]x"], "risk_off"),
    (["-p", "risk_off=cash;rm -rf /"], "risk_off"),
]


@pytest.mark.parametrize(("flags", "message"), RUN_CASES)
def test_run_refuses_bad_options(tmp_path, flags, message):
    out = tmp_path / "out"
    _refused(_cli("run", FLAGSHIP, *flags, "--out", out), out, message)


@pytest.mark.parametrize(
    ("strategy", "message"),
    [
        ("a/b", "unknown strategy 'a/b'"),
        ("../../etc/passwd", "unknown strategy"),
        ("[/x]", "unknown strategy"),
        ("russel-fed-rotation", "Did you mean 'russell-fed-rotation'"),
        ("", "name a strategy"),
    ],
)
def test_run_refuses_unknown_strategies(tmp_path, strategy, message):
    out = tmp_path / "out"
    _refused(_cli("run", strategy, "--out", out), out, message)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("strats.py:Boom", "weights() failed at strats.py:19 (KeyError"),
        ("strats.py:Exits", "called sys.exit"),
        ("strats.py:Slash", "name 'a/b' must be lower-case letters"),
        ("strats.py:Upper", "name 'Upper' must be lower-case"),
        ("strats.py:Shape", "expected"),
        ("strats.py:Negative", "non-negative"),
        ("strats.py:Text", "return numbers"),
        ("strats.py:NoRule", "rule is empty"),
        ("strats.py:BadParam", "default of n is invalid"),
        ("strats.py:Unknown", "unknown instrument key 'NOPE'"),
        ("strats.py:Missing", "does not define 'Missing'"),
        ("strats.py", "PATH:CLASS"),
        ("strats.py:1bad", "PATH:CLASS"),
        ("syntax.py:X", "syntax error"),
        ("imports.py:X", "importing the strategy file failed"),
        ("exits_on_import.py:X", "SystemExit"),
        ("notpy.txt:X", "not a .py file"),
        ("missing.py:X", "does not exist"),
    ],
)
def test_run_refuses_bad_strategy_files(tmp_path, files, spec, message):
    out = tmp_path / "out"
    result = _cli("run", "--strategy-file", files / spec, "--out", out, *WINDOW)
    _refused(result, out, message)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("fees_text", "fees_bps = 'abc' is not a number"),
        ("out_int", "out = 5 is not text"),
        ("strategy_int", "strategy = 7 is not text"),
        ("data_list", "data_dir = ['a'] is not text"),
        ("deep_params", "params.x"),
        ("params_list", "'params' must be a table"),
        ("unknown_key", "unknown key(s) 'fees'"),
        ("bad_toml", "not valid TOML"),
        ("bool_cash", "init_cash = True is not a number"),
        ("stale_text", "write true or false"),
        ("start_int", "start = 2019 is not text"),
        ("markup", "unknown strategy '[/x]'"),
        ("latin1", "not valid TOML"),
        ("dir", "no such file"),
        ("missing", "no such file"),
    ],
)
def test_run_refuses_bad_config_files(tmp_path, files, config, message):
    out = tmp_path / "out"
    result = _cli("run", "--config", files / f"{config}.toml", "--out", out)
    _refused(result, out, message)


def test_a_run_writing_to_a_file_path_or_read_only_out_is_refused(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    _refused(_cli("run", FLAGSHIP, *WINDOW, "--out", blocker / "sub"), tmp_path / "none", "--out")
    if os.geteuid() != 0:  # root writes anywhere
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o555)
        _refused(_cli("run", FLAGSHIP, *WINDOW, "--out", ro), ro, "writable --out")


def test_a_full_disk_is_a_clean_error_and_no_partial_folder_remains(tmp_path, monkeypatch):
    import errno

    from engine.store import run_folder as runfiles

    def full(frame, path, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(runfiles, "write_csv", full)
    out = tmp_path / "out"
    _refused(_cli("run", FLAGSHIP, *WINDOW, "--out", out), out, "No space left on device",
             "equity.csv")  # fmt: skip


# --------------------------------------------------------------------------- accepted, same numbers


def _metrics(result) -> dict:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["metrics"]


@pytest.fixture(scope="module")
def clean_metrics(tmp_path_factory):
    out = tmp_path_factory.mktemp("clean")
    return _metrics(_cli("run", FLAGSHIP, *WINDOW, "--format", "json", "--out", out))


@pytest.mark.parametrize(
    "flags",
    [
        ["-p", "hold_days=20"],  # the default, given
        ["-p", " hold_days = 20 "],
        ["--fees-bps", "10.0", "--slippage-bps", "5.000"],
        ["--start", "2018-1-1"],
        ["--start", "2017-12-30"],  # a weekend before the first session
        ["--init-cash", "100000.0"],
        ["--fill", "open", "--benchmark", "XJO"],
    ],
)
def test_equivalent_spellings_give_the_same_numbers(tmp_path, clean_metrics, flags):
    args = ["run", FLAGSHIP, *WINDOW, *flags, "--format", "json", "--out", tmp_path]
    assert _metrics(_cli(*args)) == clean_metrics


def test_a_config_file_equals_its_flags(tmp_path, clean_metrics):
    cfg = tmp_path / "run.toml"
    cfg.write_text(
        textwrap.dedent("""\
            strategy = "russell-fed-rotation"
            start = 2018-01-01
            end = "2019-12-31"
            fees_bps = 10
            format = "json"
            [params]
            hold_days = 20
        """),
        encoding="utf-8",
    )
    assert _metrics(_cli("run", "--config", cfg, "--out", tmp_path)) == clean_metrics


# --------------------------------------------------------------------------- grid and constraints


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--constraint", "__import__('os').system('true')"], "is not allowed"),
        (["--constraint", "hold_days.__class__"], "is not allowed"),
        (["--constraint", "(lambda: 1)()"], "is not allowed"),
        (["--constraint", "risk_off * 1000000000000"], "arithmetic needs numbers"),
        (["--constraint", "'x' * 10 ** 12"], "is not allowed"),
        (["--constraint", "hold_dayz > 5"], "Did you mean 'hold_days'"),
        (["--constraint", "hold_days >"], "does not parse"),
        (["--constraint", "hold_days > 1000"], "leaves no combos"),
        (["--metric", "sharp"], "sharp"),
        (["--chunk", "0"], "--chunk"),
        (["--cluster", "http://x:1"], "local:N"),
        (["-p", "hold_days=5:1:1"], "hold_days"),
        (["-p", "hold_days=a:b:c"], "hold_days"),
        (["-p", "hold_days=[/x]"], "hold_days"),
        (["-p", "nope=1,2"], "unknown parameter"),
    ],
)
def test_grid_refuses_bad_options(tmp_path, flags, message):
    out = tmp_path / "out"
    result = _cli("grid", FLAGSHIP, "-p", "hold_days=5,10", *WINDOW, *flags, "--out", out)
    _refused(result, out, message)


# --------------------------------------------------------------------------- events and audit


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["events", FLAGSHIP, "--start", "2040-01-01"], "widen"),
        (["events", FLAGSHIP, "--end", "3000-01-01"], "outside"),
        (["events", FLAGSHIP, "--fill", "noon"], "--fill"),
        (["events", FLAGSHIP, "-p", "hold_days=x"], "hold_days"),
        (["events", "[/x]"], "unknown strategy"),
        (["audit", FLAGSHIP, "--fill", "noon"], "--fill"),
        (["audit", FLAGSHIP, "-p", "hold_days=5", "-p", "hold_days=6"], "given twice"),
        (["audit", "--strategy-file", "missing.py:X"], "does not exist"),
    ],
)
def test_events_and_audit_refuse_bad_inputs(tmp_path, args, message):
    out = tmp_path / "out"
    extra = ["--out", out] if args[0] == "events" else []
    _refused(_cli(*args, *extra), out, message)


# --------------------------------------------------------------------------- saved runs


@pytest.fixture(scope="module")
def saved(tmp_path_factory, files):
    """A results folder with a built-in run and a run of a user's strategy file."""
    root = tmp_path_factory.mktemp("results")
    for args in ([FLAGSHIP], ["--strategy-file", files / "strats.py:Good"]):
        result = _cli("run", *args, *WINDOW, "--out", root, "--quiet")
        assert result.exit_code == 0, result.output
    builtin = next(p for p in root.iterdir() if FLAGSHIP in p.name)
    user = next(p for p in root.iterdir() if "good-small" in p.name)
    return root, builtin, user


def _copy_run(src: Path, dest_root: Path, name: str | None = None) -> Path:
    dest = dest_root / (name or src.name)
    shutil.copytree(src, dest)
    return dest


def test_report_of_a_user_strategy_needs_consent_each_time(saved, files, tmp_path):
    root, _, user = saved
    result = _cli("report", user.name, "--results", root)
    _refused(result, tmp_path / "none", "--trust-file", "Python code")
    other = tmp_path / "other.py"
    other.write_text(STRATEGY_FILE + "\n# changed\n", encoding="utf-8")
    result = _cli("report", user.name, "--results", root, "--trust-file", other)
    _refused(result, tmp_path / "none", "do not have its SHA-256")
    result = _cli("report", user.name, "--results", root, "--trust-file", files / "strats.py")
    assert result.exit_code == 0, result.output
    result = _cli("report", user.name, "--results", root, "--trust")
    assert result.exit_code == 0, result.output
    out = tmp_path / "cmp"
    args = ["compare", user.name, FLAGSHIP, "--results", root, "--out", out, "--resamples", "200"]
    _refused(_cli(*args), out, "--trust-file")
    result = _cli(*args, "--trust-file", files / "strats.py", "--quiet")
    assert result.exit_code == 0, result.output


def test_a_cloned_results_folder_cannot_run_its_code(saved, tmp_path):
    # An attacker's results folder: the manifest names a file of theirs, with its correct hash.
    root, _, user = saved
    evil_root = tmp_path / "results"
    evil_root.mkdir()
    run = _copy_run(user, evil_root)
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.py"
    evil.write_text(f"open({str(marker)!r}, 'w').write('x')\n" + STRATEGY_FILE, encoding="utf-8")
    man = json.loads((run / "manifest.json").read_text())
    man["strategy_source"]["file"] = str(evil)
    man["strategy_source"]["sha256"] = hashlib.sha256(evil.read_bytes()).hexdigest()
    (run / "manifest.json").write_text(json.dumps(man))
    for args in (["report", run.name], ["compare", run.name, FLAGSHIP, "--out", tmp_path / "o"]):
        result = _cli(*args, "--results", evil_root)
        assert result.exit_code == 2, result.output
        assert "--trust" in " ".join(result.output.split())
    man["strategy_source"]["file"] = "evil.py"  # a relative path: refused even with --trust
    (run / "manifest.json").write_text(json.dumps(man))
    result = _cli("report", run.name, "--results", evil_root, "--trust")
    assert result.exit_code == 2 and "relative path" in " ".join(result.output.split())
    assert not marker.exists()


DAMAGE = {
    "manifest_list": ("manifest.json", "[]"),
    "manifest_text": ("manifest.json", "not json"),
    "manifest_empty": ("manifest.json", ""),
    "kind_number": ("manifest.json", '{"kind": 5}'),
    "kind_unknown": ("manifest.json", '{"kind": "../../x"}'),
    "config_number": ("manifest.json", '{"config": 5}'),
    "params_list": ("manifest.json", '{"params": [1]}'),
    "source_text": ("manifest.json", '{"strategy_source": "x"}'),
    "metrics_list": ("summary.json", '{"metrics": [1]}'),
    "metrics_text_values": ("summary.json", '{"metrics": {"sharpe": [1]}}'),
    "window_text": ("summary.json", '{"window": "x"}'),
    "window_numbers": ("summary.json", '{"window": {"first": 5}}'),
    "winner_number": ("summary.json", '{"winner": 3}'),
    "inputs_numbers": ("summary.json", '{"inputs": [5]}'),
    "summary_binary": ("summary.json", "\x00\x01\x02"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_damaged_saved_runs_are_named_not_tracebacks(saved, tmp_path, damage):
    root, builtin, _ = saved
    results = tmp_path / "results"
    results.mkdir()
    run = _copy_run(builtin, results)
    name, text = DAMAGE[damage]
    (run / name).write_text(text, encoding="utf-8")
    for args in (["runs", "show", run.name], ["report", run.name]):
        result = _cli(*args, "--results", results)
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output and "damaged" in result.output, result.output
    listed = _cli("runs", "list", "--results", results)
    assert listed.exit_code == 0 and "damaged" in listed.output


def test_a_damaged_comparison_is_named(saved, tmp_path):
    root, builtin, _ = saved
    out = tmp_path / "results"
    result = _cli("compare", builtin.name, FLAGSHIP + ":hold_days=40", *WINDOW, "--results",
                  root, "--out", out, "--quiet", "--resamples", "200")  # fmt: skip
    assert result.exit_code == 0, result.output
    folder = Path(result.output.strip())
    for text in ('{"inputs": [5]}', '{"metrics": {"a": 1}}', "[]"):
        (folder / "compare.json").write_text(text, encoding="utf-8")
        shown = _cli("runs", "show", folder.name, "--results", out)
        assert shown.exit_code == 2 and "damaged" in shown.output, shown.output
        regen = _cli("report", folder.name, "--results", out)
        assert regen.exit_code == 2 and "damaged" in regen.output, regen.output


@pytest.mark.parametrize(
    "spec",
    ["[/x]", "../../etc", ".partial-x", "", "x" * 300, "2018", "/nonexistent/run"],
)
def test_unknown_or_hidden_run_ids_are_refused(saved, tmp_path, spec):
    root = saved[0]
    (root / ".partial-x").mkdir(exist_ok=True)
    for args in (["runs", "show", spec], ["report", spec]):
        result = _cli(*args, "--results", root)
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output


def test_leftovers_of_killed_writers_are_swept_but_live_ones_kept(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    host = folders._host()
    dead = out / f".partial-{host}-999999999-abc"  # no such process
    live = out / f".partial-{host}-{os.getpid()}-abc"  # this process: alive
    old = out / ".partial-oldstyle"
    for d in (dead, live, old):
        d.mkdir()
        (d / "summary.json").write_text("{}")
    os.utime(old, (0, 0))  # untouched since 1970: its writer is long gone
    result = _cli("run", FLAGSHIP, *WINDOW, "--out", out, "--quiet")
    assert result.exit_code == 0, result.output
    names = _leftovers(out)
    assert live.name in names and dead.name not in names and old.name not in names
    shown = _cli("runs", "show", live.name, "--results", out)
    assert shown.exit_code == 2 and "hidden folder" in " ".join(shown.output.split())
    assert live.name not in _cli("runs", "list", "--results", out).output


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--top", "-1"], "--top must be at least 1"),
        (["--top", "0"], "--top must be at least 1"),
        (["--samples", "0"], "--samples must be at least 1"),
        (["--samples", "-5"], "--samples must be at least 1"),
        (["--samples", "1", "--seed", "-1"], "--seed must be"),
        (["--walk-forward", "train=1000y,test=1y"], "longer than 100 years"),
        (["--walk-forward", "train=99999999999999999999y,test=1y"], "not a span"),
        (["--walk-forward", "train=0y,test=1y"], "not a span"),
        (["--walk-forward", "bogus"], "expected train=SPAN"),
    ],
)
def test_grid_refuses_bad_counts_and_spans(tmp_path, flags, message):
    out = tmp_path / "out"
    result = _cli("grid", FLAGSHIP, "-p", "hold_days=5,10", *WINDOW, *flags, "--out", out)
    _refused(result, out, message)
