"""Saved pages and saved folders as a whole: rebuilding any folder's ``report.html`` and pruning old
folders.

Lives here: ``rebuild_page`` (any saved folder's page, atomically: a run or a comparison by
re-running its manifest, checked, as ``rerun.regenerate_report`` does; a grid or an event study from
its saved files, no re-run - a grid saved before ``winner.parquet`` existed re-runs its winner
alone, checked) and ``prune`` / ``Pruned`` (select saved folders by age and/or beyond
the newest N; delete them only when asked). Not here: finding and reading saved folders
(``saved``), re-running (``rerun``), each kind's page (``grid_folder``, ``event_folder``).

``prune`` only ever selects what this tool wrote: a visible folder directly under the root, not a
symlink, named ``<UTC stamp>-...`` as every writer names its folder, whose manifest / summary files
read as a saved run of a known kind (``saved.load_run``). Hidden folders - the ``.partial-*`` of a
live writer among them - and anything else are never touched. A selected folder is first moved
into a fresh ``.partial-*`` folder (atomic), then deleted, so no half-deleted folder is ever listed
as a run and a deletion cut short is swept later like any dead writer's leftovers.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from numbers import Integral
from pathlib import Path

from engine.errors import ConfigError, DataError
from engine.store import folders
from engine.store.rerun import (
    Trust,
    check_data_files,
    check_reproduced,
    config_from_manifest,
    regenerate_report,
    replace_file,
    strategy_from_manifest,
)
from engine.store.saved import load_run, saved_folders
from engine.strategy.base import Strategy

STAMP = re.compile(r"^(\d{8}T\d{6}Z)-")
DAY_S = 86400.0


def rebuild_page(folder: Path, registry: Mapping[str, type[Strategy]], trust: Trust | None) -> Path:
    """Rebuild ``folder/report.html`` (any saved kind) and return its path; see the module
    docstring. A folder that is no saved run, or whose files are damaged, is a ``ConfigError`` /
    ``DataError`` naming it and the fix."""
    folder = Path(folder)
    if folders.is_partial(folder.name) or folder.name.startswith("."):
        raise ConfigError(
            f"{folder} is a hidden folder (a write in progress or left by a killed run), not a "
            "saved run; list saved runs with `backtest runs list`."
        )
    if not folder.is_dir():
        raise ConfigError(f"{folder} is not a folder; give a saved run's folder or run id.")
    try:
        saved = load_run(str(folder))
    except ConfigError:
        raise ConfigError(
            f"{folder} is not a saved result folder (no manifest.json or events.json); "
            "give a folder `backtest run`, `grid`, `compare` or `events` wrote."
        ) from None
    if saved.kind in ("run", "compare"):
        return regenerate_report(str(folder), None, registry, trust)
    page = folder / "report.html"
    if saved.kind == "grid":
        _rebuild_grid(saved, page, registry, trust)
    elif saved.kind == "events":
        from engine.store.event_folder import write_events_page

        replace_file(page, lambda tmp: write_events_page(folder, tmp))
    else:  # pragma: no cover - load_run only returns known kinds
        raise DataError(f"{folder}: a saved folder of unknown kind {saved.kind!r}; cannot rebuild.")
    return page


def _rebuild_grid(saved, page: Path, registry, trust: Trust | None) -> None:
    """A grid's page from its files; a folder saved before ``winner.parquet`` existed gets its
    winner re-run from the manifest (checked: same data files, same metrics) for the page only."""
    from engine.store.grid_folder import WINNER_FILE, write_grid_page

    folder = saved.folder
    if (folder / WINNER_FILE).exists():
        replace_file(page, lambda tmp: write_grid_page(folder, tmp))
        return
    with tempfile.TemporaryDirectory(prefix="crosscurrent-winner-") as tmp_dir:
        winner = Path(tmp_dir) / WINNER_FILE
        _rerun_winner(saved, winner, registry, trust)
        replace_file(page, lambda tmp: write_grid_page(folder, tmp, winner_file=winner))


def _rerun_winner(saved, path: Path, registry, trust: Trust | None) -> None:
    from engine.backtest.run import run_backtest
    from engine.store.folders import clean
    from engine.store.grid_folder import write_winner
    from engine.store.run_folder import report_context

    where = f"grid {saved.run_id} (saved without {path.name}: its winner is re-run)"
    strategy = strategy_from_manifest(saved.manifest, registry, where, trust)
    res = run_backtest(strategy, config_from_manifest(saved.manifest.get("config", {}), where))
    check_data_files(saved.manifest.get("data_files", {}), res.market, where)
    want = (saved.summary.get("winner") or {}).get("metrics") or {}
    check_reproduced(want, clean(res.metrics), where)
    page = {"title": f"grid: {strategy.name}", "rule": strategy.rule,
            "params": [p.name for p in type(strategy).params],
            "top": max(len(saved.summary.get("top") or []), 1)}  # fmt: skip
    write_winner(path, report_context(res), page)


@dataclass(frozen=True)
class Pruned:
    """One folder ``prune`` selected: deleted, or (a dry run) would be."""

    path: Path
    kind: str
    created: str  # ISO 8601 UTC, from the manifest or the folder name's stamp
    size_bytes: int


def _created(name: str, manifest: Mapping[str, object]) -> datetime | None:
    text = manifest.get("created_utc")
    if isinstance(text, str):
        try:
            stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
            return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
        except ValueError:
            pass
    match = STAMP.match(name)
    return datetime.strptime(match[1], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC) if match else None


def _size(folder: Path) -> int:
    total = 0
    for base, _, files in os.walk(folder):
        for name in files:
            try:
                total += os.lstat(os.path.join(base, name)).st_size
            except OSError:
                pass
    return total


def _candidates(root: Path) -> list[tuple[datetime, Path, str]]:
    """(created, folder, kind) of every folder under ``root`` this tool wrote, oldest first."""
    out = []
    for folder in saved_folders(root):
        if folder.is_symlink() or not STAMP.match(folder.name):
            continue
        try:
            saved = load_run(str(folder))
        except (ConfigError, DataError):
            continue  # unreadable: not provably ours, never deleted
        created = _created(folder.name, saved.manifest)
        if created is not None:
            out.append((created, folder, saved.kind))
    return sorted(out, key=lambda c: (c[0], c[1].name))


def _delete(folder: Path) -> None:
    """Move ``folder`` into a fresh ``.partial-*`` folder (one rename), then delete that."""
    holder = folders.make_partial(folder.parent)
    try:
        os.replace(folder, holder / folder.name)
    except OSError as exc:
        shutil.rmtree(holder, ignore_errors=True)
        raise ConfigError(
            f"cannot delete {folder} ({exc.strerror}); check its permissions."
        ) from None
    shutil.rmtree(holder, ignore_errors=True)


def prune(
    root: Path,
    *,
    older_than_days: float | None = None,
    keep: int | None = None,
    dry_run: bool = True,
) -> list[Pruned]:
    """Saved folders under ``root`` older than ``older_than_days`` and/or beyond the newest
    ``keep`` (with both, a folder must be both: the newest ``keep`` always stay), oldest first;
    deleted only when ``dry_run`` is False. Returns what was selected."""
    if older_than_days is None and keep is None:
        raise ConfigError("prune needs a rule: give --older-than DAYS or --keep N (or both).")
    if older_than_days is not None and not older_than_days >= 0:
        raise ConfigError(f"--older-than must be 0 days or more; got {older_than_days}.")
    if keep is not None and (isinstance(keep, bool) or not isinstance(keep, Integral) or keep < 0):
        raise ConfigError(f"--keep must be a whole number, 0 or more; got {keep!r}.")
    found = _candidates(Path(root))
    chosen = found
    if keep is not None:
        chosen = chosen[: max(len(found) - int(keep), 0)]
    if older_than_days is not None:
        cutoff = time.time() - older_than_days * DAY_S
        chosen = [c for c in chosen if c[0].timestamp() < cutoff]
    out = []
    for created, folder, kind in chosen:
        item = Pruned(folder, kind, created.strftime("%Y-%m-%dT%H:%M:%SZ"), _size(folder))
        if not dry_run:
            _delete(folder)
        out.append(item)
    return out
