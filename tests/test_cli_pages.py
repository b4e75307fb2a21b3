"""``backtest report`` rebuilds any saved folder's page (run, grid, compare, events) through
``engine.store.pages.rebuild_page``; ``backtest runs prune`` lists (a dry run) or deletes old ones."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from engine.cli.main import app

runner = CliRunner()
WINDOW = ["--start", "2019-01-01", "--end", "2020-12-31"]
FLAGSHIP = "russell-fed-rotation"


def _cli(*args):
    return runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "80"})


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A results folder with a run, a grid and an event study (oldest to newest)."""
    out = tmp_path_factory.mktemp("results")
    for args in (
        ["run", "buy-and-hold", *WINDOW],
        ["grid", FLAGSHIP, "-p", "hold_days=10,20", *WINDOW],
        ["events", FLAGSHIP, *WINDOW],
    ):
        result = _cli(*args, "--out", out, "--quiet")
        assert result.exit_code == 0, result.output
    return out


def _folders(root) -> list[str]:
    return sorted(p.name for p in root.iterdir() if not p.name.startswith("."))


@pytest.mark.parametrize("kind", ["run", "grid", "events"])
def test_report_rebuilds_the_page_of_any_saved_kind(saved, kind, tmp_path):
    root = tmp_path / "results"
    shutil.copytree(saved, root)
    mark = {"run": "Z-buy-and-hold-", "grid": "-grid-", "events": "-events-"}[kind]
    (name,) = [n for n in _folders(root) if mark in n]
    page = root / name / "report.html"
    before = page.read_bytes()
    page.unlink()
    result = _cli("report", name, "--results", root)
    assert result.exit_code == 0, result.output
    assert f"report: {page}" in " ".join(result.output.split()) and page.read_bytes() == before


def test_report_of_a_folder_that_is_no_saved_run_exits_2(tmp_path):
    (tmp_path / "20250101T000000Z-junk").mkdir()
    result = _cli("report", tmp_path / "20250101T000000Z-junk")
    assert result.exit_code == 2 and result.output.startswith("error:")


def test_prune_is_a_dry_run_unless_yes(saved, tmp_path):
    root = tmp_path / "results"
    shutil.copytree(saved, root)
    names = _folders(root)
    dry = _cli("runs", "prune", "--keep", "1", "--results", root)
    assert dry.exit_code == 0, dry.output
    assert "would delete 2 saved folder(s)" in " ".join(dry.output.split())
    assert all(n in dry.output for n in names[:2]) and _folders(root) == names
    listed = json.loads(_cli("runs", "prune", "--keep", "1", "--results", root,
                             "--format", "json").stdout)  # fmt: skip
    assert [r["run_id"] for r in listed] == names[:2] and not any(r["deleted"] for r in listed)
    done = _cli("runs", "prune", "--keep", "1", "--yes", "--results", root, "--format", "csv")
    assert done.exit_code == 0, done.output
    rows = done.stdout.splitlines()
    assert rows[0] == "run_id,kind,created,size_bytes,deleted,path" and len(rows) == 3
    assert all(",true," in r for r in rows[1:]) and _folders(root) == names[2:]
    assert "deleted 2 saved folder(s)" in done.stderr


def test_prune_by_age_keeps_what_is_newer(saved, tmp_path):
    root = tmp_path / "results"
    shutil.copytree(saved, root)
    result = _cli("runs", "prune", "--older-than", "30", "--yes", "--results", root)
    assert result.exit_code == 0 and "nothing to prune" in result.output
    assert len(_folders(root)) == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [([], "--older-than DAYS or --keep N"), (["--keep", "-1"], "--keep"),
     (["--older-than", "-2"], "--older-than")],
)  # fmt: skip
def test_prune_refuses_no_rule_or_bad_numbers(tmp_path, args, message):
    result = _cli("runs", "prune", *args, "--results", tmp_path)
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output
