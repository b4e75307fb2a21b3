"""engine.store.saved and engine.store.rerun: finding and listing saved runs, and regenerating
their reports exactly."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from engine import paths
from engine.backtest.run import RunConfig, run_backtest
from engine.errors import ConfigError, DataError
from engine.research import compare
from engine.store import compare_folder, rerun
from engine.store import saved as runs
from engine.store.run_folder import write_run
from strategies import REGISTRY

START, END = pd.Timestamp("2015-01-01"), pd.Timestamp("2019-12-31")


@pytest.fixture(scope="module")
def data_copy(tmp_path_factory) -> Path:
    """A copy of the sample data, so a test may change a file."""
    folder = tmp_path_factory.mktemp("data") / "sample"
    shutil.copytree(paths.sample_dir(), folder)
    return folder


@pytest.fixture(scope="module")
def root(tmp_path_factory, data_copy) -> Path:
    """A results root with a run, a comparison, a fake grid, an events folder, a damaged folder
    and a write in progress."""
    root = tmp_path_factory.mktemp("results")
    cfg = RunConfig(data_dir=data_copy, start=START, end=END)
    write_run(run_backtest(REGISTRY["russell-fed-rotation"](hold_days=40), cfg), root)
    inputs = compare_folder.resolve_inputs(["static-mix", "trend"], REGISTRY, root)
    compare_folder.write_compare(
        compare.run_compare(inputs, cfg, compare.Bootstrap(resamples=200)), root
    )
    grid = root / "20240101T000000Z-grid-trend-0000aaaa"
    grid.mkdir()
    (grid / "manifest.json").write_text(json.dumps({"kind": "grid", "strategy": "trend"}))
    (grid / "summary.json").write_text(json.dumps({"strategy": "trend", "winner": {}}))
    events = root / "20240101T000001Z-trend-events-0000bbbb"
    events.mkdir()
    (events / "events.json").write_text(json.dumps({"strategy": "trend"}))
    damaged = root / "20240101T000002Z-trend-0000cccc"
    damaged.mkdir()
    (damaged / "manifest.json").write_text("{not json")
    (root / ".partial-xyz").mkdir()
    (root / ".partial-xyz" / "manifest.json").write_text("{}")
    return root


def _id(root: Path, kind: str) -> str:
    (saved,) = runs.list_runs(root, kind)
    return saved.run_id


def test_list_shows_every_kind_oldest_first_and_skips_writes_in_progress(root):
    listed = runs.list_runs(root)
    assert [s.kind for s in listed[:3]] == ["grid", "events", "damaged"]
    assert {s.kind for s in listed[3:]} == {"run", "compare"} and len(listed) == 5
    assert [s.run_id for s in listed] == sorted(s.run_id for s in listed)
    rows = {s.kind: runs.run_row(s) for s in listed}
    assert rows["run"]["what"] == "russell-fed-rotation" and rows["run"]["data"] == "synthetic"
    assert rows["run"]["window"] == "2015-01-02..2019-12-31" and rows["run"]["sharpe"] is not None
    assert rows["compare"]["what"] == "static-mix | trend"
    assert [s.kind for s in runs.list_runs(root, "compare")] == ["compare"]
    with pytest.raises(ConfigError, match="Did you mean 'grid'"):
        runs.list_runs(root, "gird")
    assert runs.list_runs(root / "missing") == []


def test_find_run_by_id_prefix_or_path_and_unknown_ids_get_close_matches(root):
    run_id = _id(root, "run")
    assert runs.find_run(run_id, root) == root / run_id
    assert runs.find_run(run_id[:18], root) == root / run_id
    assert runs.find_run(str(root / run_id), Path("/elsewhere")) == root / run_id
    with pytest.raises(ConfigError, match="ambiguous"):
        runs.find_run("2024", root)
    with pytest.raises(ConfigError, match=f"no saved run .*Close matches: {run_id}"):
        runs.find_run(run_id.replace("russell", "russel"), root)
    with pytest.raises(ConfigError, match="does not exist"):
        runs.find_run(run_id, root / "missing")


def test_load_run_reads_manifest_and_summary_and_names_a_damaged_file(root):
    saved = runs.load_run(_id(root, "run"), root)
    assert saved.kind == "run" and saved.manifest["params"]["hold_days"] == 40
    assert saved.summary["strategy"] == "russell-fed-rotation"
    with pytest.raises(DataError, match="manifest.json: unreadable"):
        runs.load_run("20240101T000002Z", root)


def test_report_is_regenerated_byte_for_byte_from_the_manifest(root):
    folder = root / _id(root, "run")
    before = (folder / "report.html").read_bytes()
    (folder / "report.html").write_text("stale")
    page = rerun.regenerate_report(folder.name, root, REGISTRY)
    assert page == folder / "report.html" and page.read_bytes() == before
    assert not list(folder.glob(".*partial"))


def test_a_comparison_report_is_regenerated_byte_for_byte(root):
    folder = root / _id(root, "compare")
    before = (folder / "report.html").read_bytes()
    (folder / "report.html").unlink()
    assert rerun.regenerate_report(folder.name, root, REGISTRY).read_bytes() == before


def test_grid_and_events_folders_are_refused_with_the_command_to_use(root):
    with pytest.raises(ConfigError, match="grid folder.*backtest grid"):
        rerun.regenerate_report(_id(root, "grid"), root, REGISTRY)
    with pytest.raises(ConfigError, match="events folder"):
        rerun.regenerate_report(_id(root, "events"), root, REGISTRY)


def test_changed_results_are_refused_and_the_old_report_kept(root, tmp_path):
    copy = tmp_path / "results"
    shutil.copytree(root / _id(root, "run"), copy / "20240101T000003Z-run")
    summary = copy / "20240101T000003Z-run" / "summary.json"
    data = json.loads(summary.read_text())
    data["metrics"]["sharpe"] = 9.99
    summary.write_text(json.dumps(data))
    before = (copy / "20240101T000003Z-run" / "report.html").read_bytes()
    with pytest.raises(DataError, match="does not reproduce its saved results.*metrics"):
        rerun.regenerate_report("20240101T000003Z-run", copy, REGISTRY)
    assert (copy / "20240101T000003Z-run" / "report.html").read_bytes() == before


def test_a_changed_data_file_is_named(root, data_copy, tmp_path):
    # Last: it edits the shared data copy.
    xjo = data_copy / "XJO.csv"
    xjo.write_text(xjo.read_text() + "\n")
    with pytest.raises(DataError, match=r"XJO\.csv: changed since run"):
        rerun.regenerate_report(_id(root, "run"), root, REGISTRY)


def test_replace_file_leaves_the_old_file_when_writing_is_interrupted(tmp_path):
    page = tmp_path / "report.html"
    page.write_text("old")

    def interrupted(tmp: Path) -> None:
        tmp.write_text("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rerun.replace_file(page, interrupted)
    assert page.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["report.html"]
