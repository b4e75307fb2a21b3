"""The README's "Writing rules" section, executed: the issue's rule file and every example rule run
on the real data in ``../shared/data``, pass the lookahead audit and grid (the first one over 2,112
combos from the command line); the Python example runs on the sample."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import engine
from engine.cli.main import app
from engine.rules import load_rule
from engine.strategy.audit import audit
from engine.strategy.base import strategy_context
from tests.realdata import etf_folder, needs_real_data

ROOT = Path(__file__).resolve().parents[3]
START = "2011-02-01"  # the RBA cash-rate file starts 2011-01-04


def _section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text.split("### Writing rules", 1)[1].split("\n### ", 1)[0]


def _blocks(kind: str) -> list[tuple[str, str]]:
    return re.findall(rf"```{kind}([^\n]*)\n(.*?)```", _section(), flags=re.S)


def test_the_shipped_rule_file_is_the_readmes_first_example():
    shipped = (ROOT / "strategies" / "rules" / "rba-easing-momentum.toml").read_text()
    assert _blocks("toml")[0][1] == shipped


@pytest.fixture(scope="module")
def real(tmp_path_factory) -> Path:
    folder = etf_folder(tmp_path_factory.mktemp("real") / "etf")
    (folder / "events").mkdir()
    for info, body in _blocks("csv"):
        (folder / info.strip()).write_text(body)
    return folder


@pytest.fixture(scope="module")
def rule_files(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("rules")
    out = []
    for i, (_, body) in enumerate(_blocks("toml")):
        path = folder / f"rule{i}.toml"
        path.write_text(body)
        out.append(path)
    assert len(out) == 4
    return out


@needs_real_data
@pytest.mark.parametrize("i", range(4))
def test_every_example_runs_audits_and_grids_on_real_data(real, rule_files, i):
    cls = load_rule(rule_files[i])
    res = engine.run(cls, data=real, start=START, fill="close")
    assert res.metrics["trade_count"] > 1, cls.name  # the rule does something on real data
    _, ctx = strategy_context(cls(), real, "close")
    result = audit(cls(), ctx)
    assert result.passed, result.message()
    first = next(p for p in cls.params if p.kind == "int")
    values = [first.default, first.default + 1] if first.high is None or \
        first.default < first.high else [first.default - 1, first.default]  # fmt: skip
    g = engine.grid(cls, data=real, start=START, fill="close", **{first.name: values})
    assert len(g.table) == 2


@needs_real_data
def test_the_issue_rule_grids_2112_combos_from_the_command_line(real, tmp_path):
    rule = ROOT / "strategies" / "rules" / "rba-easing-momentum.toml"
    args = ["grid", "--rule", str(rule), "--data-dir", str(real), "--start", START,
            "--param", "rba.days=30:360:30", "--param", "momentum.above=0:0.1:0.01",
            "--param", "hold.sessions=5:80:5", "--out", str(tmp_path), "-q"]  # fmt: skip
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 0, done.output
    summary = json.loads((Path(done.output.strip()) / "summary.json").read_text())
    assert summary["combos"] == 2112 and summary["strategy"] == "rba-easing-momentum"
    done = CliRunner().invoke(app, ["audit", "--rule", str(rule), "--data-dir", str(real)])
    assert done.exit_code == 0 and "PASS" in done.output, done.output


def test_the_python_example_runs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ((_, code),) = re.findall(r"```python()\n(.*?)```", _section(), flags=re.S)
    scope: dict = {}
    exec(compile(code, "README.md:Writing rules", "exec"), scope)  # noqa: S102
    assert scope["res"].params["rba.days"] == 180
    assert len(scope["g"].table) == 12 * 16
