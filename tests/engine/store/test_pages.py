"""engine.store.pages: every saved folder's page rebuilt (grid and event-study pages from their
files, byte for byte; runs and comparisons by re-running their manifests), damaged folders named,
and ``prune`` selecting only the result folders this tool wrote, by age and/or beyond the newest N.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import engine
from engine.backtest.run import RunConfig, run_backtest
from engine.errors import ConfigError, DataError
from engine.research import compare
from engine.store import compare_folder
from engine.store.grid_folder import WINNER_FILE, grid_page_context, read_table
from engine.store.pages import Pruned, prune, rebuild_page
from engine.store.run_folder import write_run
from strategies import REGISTRY

START, END = pd.Timestamp("2015-01-01"), pd.Timestamp("2019-12-31")


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[str, Path]:
    """One saved folder of each kind; the grid ran a walk-forward."""
    root = tmp_path_factory.mktemp("results")
    cfg = RunConfig(start=START, end=END)
    run = write_run(run_backtest(REGISTRY["trend"](), cfg), root)
    inputs = compare_folder.resolve_inputs(["static-mix", "trend"], REGISTRY, root)
    cmp = compare.run_compare(inputs, cfg, compare.Bootstrap(resamples=200))
    grid = engine.grid("russell-fed-rotation", hold_days=[20, 40, 60], cut_window_days=[30, 60],
                       walk_forward="train=8y,test=6y").save(root)  # fmt: skip
    return {
        "run": run,
        "compare": compare_folder.write_compare(cmp, root),
        "grid": grid,
        "events": engine.events("trend").save(root),
    }


@pytest.mark.parametrize("kind", ["grid", "events", "run", "compare"])
def test_every_kind_of_page_is_rebuilt_the_same(folders, kind: str) -> None:
    page = folders[kind] / "report.html"
    before = page.read_bytes()
    page.unlink()
    assert rebuild_page(folders[kind], REGISTRY, None) == page
    assert page.read_bytes() == before
    assert not [p for p in folders[kind].iterdir() if p.name.startswith(".")]


def test_the_grid_page_has_its_walk_forward_from_the_saved_files(folders) -> None:
    folder = folders["grid"]
    page = (folder / "report.html").read_text(encoding="utf-8")
    summary = json.loads((folder / "summary.json").read_text())
    assert "Walk-forward: chosen on the past" in page and '"chart-walk-forward"' in page
    for fold in summary["walk_forward"]["folds"]:
        assert f"{fold['test_start']} .. {fold['test_end']}" in page
    ctx = grid_page_context(folder)
    assert list(ctx.walk_forward_equity.columns) == ["walk_forward_equity",
                                                     "full_window_best_equity"]  # fmt: skip
    assert ctx.winner.equity.index.is_monotonic_increasing and ctx.winner.benchmarks


def test_a_sampled_grid_reads_its_parameters_back_as_numbers(tmp_path) -> None:
    res = engine.grid("russell-fed-rotation", hold_days=range(5, 61, 5), samples=4, seed=1)
    folder = res.save(tmp_path)
    summary = json.loads((folder / "summary.json").read_text())
    table = read_table(folder / "grid.parquet", summary["space"])
    assert sorted(table["hold_days"]) == sorted(res.table["hold_days"])
    assert all(isinstance(v, int) for v in table["hold_days"])
    before = (folder / "report.html").read_bytes()
    rebuild_page(folder, REGISTRY, None)
    assert (folder / "report.html").read_bytes() == before


def test_a_grid_saved_before_winner_parquet_re_runs_its_winner_for_the_page(folders, tmp_path):
    grid = tmp_path / folders["grid"].name
    shutil.copytree(folders["grid"], grid)
    (grid / WINNER_FILE).unlink()
    (grid / "report.html").unlink()
    rebuild_page(grid, REGISTRY, None)
    assert (grid / "report.html").read_bytes() == (folders["grid"] / "report.html").read_bytes()
    assert sorted(p.name for p in grid.iterdir()) == sorted(
        p.name for p in folders["grid"].iterdir() if p.name != WINNER_FILE
    )
    summary = json.loads((grid / "summary.json").read_text())
    summary["winner"]["metrics"]["sharpe"] += 0.01
    (grid / "summary.json").write_text(json.dumps(summary))
    with pytest.raises(DataError, match="does not reproduce its saved results"):
        rebuild_page(grid, REGISTRY, None)


def test_damaged_or_unknown_folders_are_named_with_the_fix(folders, tmp_path) -> None:
    grid = tmp_path / folders["grid"].name
    shutil.copytree(folders["grid"], grid)
    (grid / WINNER_FILE).write_bytes(b"not parquet")
    with pytest.raises(DataError, match=f"{WINNER_FILE}: unreadable"):
        rebuild_page(grid, REGISTRY, None)
    assert (grid / "report.html").read_bytes() == (folders["grid"] / "report.html").read_bytes()
    events = tmp_path / folders["events"].name
    shutil.copytree(folders["events"], events)
    (events / "events.csv").unlink()
    with pytest.raises(DataError, match="events.csv: missing or damaged.*backtest events"):
        rebuild_page(events, REGISTRY, None)
    other = tmp_path / "notes"
    other.mkdir()
    with pytest.raises(ConfigError, match="notes is not a saved result folder"):
        rebuild_page(other, REGISTRY, None)
    with pytest.raises(ConfigError, match="hidden folder"):
        rebuild_page(tmp_path / ".partial-x", REGISTRY, None)


# --- prune ------------------------------------------------------------------------------------


def _saved(root: Path, name: str, days_old: float, kind: str = "run") -> Path:
    folder = root / name
    folder.mkdir()
    stamp = pd.Timestamp.now("UTC") - pd.Timedelta(days=days_old)
    if kind == "events":
        (folder / "events.json").write_text(json.dumps({"strategy": "trend"}))
    else:
        manifest = {"kind": kind, "created_utc": stamp.isoformat(timespec="seconds")}
        (folder / "manifest.json").write_text(json.dumps(manifest))
        (folder / "summary.json").write_text("{}")
    (folder / "data.bin").write_bytes(b"x" * 1000)
    return folder


@pytest.fixture
def root(tmp_path) -> Path:
    """Four saved folders 40, 20, 10 and 1 days old, and what prune must never touch."""
    root = tmp_path / "results"
    root.mkdir()
    _saved(root, "20200101T000000Z-trend-00000001", 40)
    _saved(root, "20200102T000000Z-grid-trend-00000002", 20, "grid")
    _saved(root, f"{(pd.Timestamp.now('UTC') - pd.Timedelta(days=10)):%Y%m%dT%H%M%SZ}"
                 "-trend-events-00000003", 10, "events")  # fmt: skip
    _saved(root, "20200104T000000Z-compare-00000004", 1, "compare")
    _saved(root, ".partial-host-1-abc", 99)  # a write in progress
    _saved(root, "my-notes", 99)  # not named as this tool names its folders
    damaged = _saved(root, "20200105T000000Z-trend-00000005", 99)
    (damaged / "manifest.json").write_text("{not json")
    (root / "loose.txt").write_text("x")
    os.symlink(root / "20200101T000000Z-trend-00000001", root / "20200106T000000Z-link-00000006")
    return root


def _names(items: list[Pruned]) -> list[str]:
    return [p.path.name[-8:] for p in items]


def test_prune_selects_by_age_and_deletes_only_when_asked(root) -> None:
    picked = prune(root, older_than_days=15)
    assert _names(picked) == ["00000001", "00000002"]
    assert [p.kind for p in picked] == ["run", "grid"]
    assert all(p.size_bytes >= 1000 and p.created.endswith("Z") for p in picked)
    assert all(p.path.is_dir() for p in picked)  # a dry run deletes nothing
    assert _names(prune(root, older_than_days=15, dry_run=False)) == _names(picked)
    assert not any(p.path.exists() for p in picked)
    left = {p.name for p in root.iterdir() if not p.name.endswith("-trend-events-00000003")}
    assert left == {"20200104T000000Z-compare-00000004", ".partial-host-1-abc", "my-notes",
                    "20200105T000000Z-trend-00000005", "loose.txt",
                    "20200106T000000Z-link-00000006"}  # fmt: skip


def test_prune_keeps_the_newest_n_and_both_rules_must_agree(root) -> None:
    assert _names(prune(root, keep=1)) == ["00000001", "00000002", "00000003"]
    assert _names(prune(root, keep=0)) == ["00000001", "00000002", "00000003", "00000004"]
    assert _names(prune(root, keep=10)) == []
    assert _names(prune(root, keep=np.int64(3))) == ["00000001"]
    assert _names(prune(root, keep=3, older_than_days=15)) == ["00000001"]
    assert _names(prune(root, keep=1, older_than_days=15)) == ["00000001", "00000002"]
    assert prune(root / "nowhere", keep=0) == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({}, "give --older-than DAYS or --keep N"), ({"older_than_days": -1}, "0 days or more"),
     ({"keep": -1}, "0 or more"), ({"keep": 1.5}, "whole number")],
)  # fmt: skip
def test_prune_refuses_a_missing_or_negative_rule(root, kwargs, message) -> None:
    with pytest.raises(ConfigError, match=message):
        prune(root, **kwargs)
