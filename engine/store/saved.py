"""Saved results: finding, listing and describing the folders under the results root.

Lives here: ``find_run`` (a run id, a unique id prefix or a folder path -> its folder; an unknown id
is a ``ConfigError`` listing close matches), ``list_runs`` / ``load_run`` (``SavedRun``: kind,
manifest, summary, each JSON file checked for the shape the commands read) and ``run_row`` (one
line of ``backtest runs list``).

Kinds of folder: ``run`` (``summary.json`` + ``manifest.json``), ``grid`` and ``compare``
(``manifest.json`` with that ``kind``), ``events`` (``events.json`` only). Anything else, and the
``.partial-*`` folders of writes in progress, is not a saved run.

Not here: re-running a saved run from its manifest (``Trust``, ``strategy_from_manifest``,
``regenerate_report``: ``rerun``, whose public names are importable from here too), the CLI
(``cli_runs``), comparisons (``compare``), writing run folders (``store.run_folder``).
"""

from __future__ import annotations

import difflib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine import paths
from engine.errors import ConfigError, DataError, did_you_mean
from engine.store import folders
from engine.store.rerun import (  # noqa: F401 - re-exported: the commands import them from here
    Trust,
    regenerate_report,
    strategy_from_manifest,
)

KINDS = ("run", "grid", "compare", "events")
_LIST_HINT = "list them with `backtest runs list` (--results DIR for another folder)"


@dataclass(frozen=True)
class SavedRun:
    """One result folder: its id (the folder name), kind and parsed JSON files."""

    run_id: str
    folder: Path
    kind: str
    manifest: dict[str, Any]
    summary: dict[str, Any]  # summary.json, compare.json or events.json ({} if absent)


def results_root(root: Path | None) -> Path:
    return Path(root) if root is not None else paths.results_root()


def check_writable(root: Path | None) -> None:
    """Fail before any simulation when the results root cannot take a new folder."""
    os.rmdir(folders.make_partial(results_root(root)))


def saved_folders(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(
        p
        for p in root.iterdir()
        if p.is_dir() and not p.name.startswith(".") and _kind_files(p) is not None
    )


def _kind_files(folder: Path) -> tuple[str, str] | None:
    """(manifest file, summary file) of a result folder, or None when it is not one."""
    if (folder / "manifest.json").is_file():
        if (folder / "compare.json").is_file():
            return "manifest.json", "compare.json"
        return "manifest.json", "summary.json"
    if (folder / "events.json").is_file():
        return "", "events.json"
    return None


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:  # a name too long for the file system is no saved run
        return False


def find_run(spec: str, root: Path | None = None) -> Path:
    """The folder of saved run ``spec``: a folder path, a run id under ``root``, or a unique prefix
    of one. Raises ``ConfigError`` naming close matches when nothing fits."""
    root = results_root(root)
    as_path = Path(spec)
    if folders.is_partial(as_path.name) or as_path.name.startswith("."):
        raise ConfigError(
            f"{spec!r} is a hidden folder (a write in progress or left by a killed run), not a "
            f"saved run; {_LIST_HINT}."
        )
    if _is_dir(as_path) and _kind_files(as_path) is not None:
        return as_path
    if "/" not in spec and _is_dir(root / spec) and _kind_files(root / spec) is not None:
        return root / spec
    spec = spec if len(spec) <= 80 else spec[:77] + "..."  # echoed below
    names = [p.name for p in saved_folders(root)]
    prefixed = [n for n in names if n.startswith(spec)] if spec else []
    if len(prefixed) == 1:
        return root / prefixed[0]
    if len(prefixed) > 1:
        raise ConfigError(
            f"run id {spec!r} is ambiguous under {root}: it starts {len(prefixed)} runs "
            f"({', '.join(prefixed[:5])}{', ...' if len(prefixed) > 5 else ''}); give more of it."
        )
    close = difflib.get_close_matches(spec, names, n=3, cutoff=0.5)
    hint = f" Close matches: {', '.join(close)}." if close else ""
    where = f"under {root}" if root.is_dir() else f"({root} does not exist)"
    raise ConfigError(f"no saved run {spec!r} {where}.{hint} Runs are folder names; {_LIST_HINT}.")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: unreadable ({exc}); the run folder is damaged.") from None
    if not isinstance(data, dict):
        raise DataError(f"{path}: expected a JSON object; the run folder is damaged.")
    return data


# What a saved run's JSON must look like where the commands read it: key -> type, "label"
# dicts hold dicts (compare metrics by input), lists hold dicts. Anything else is damage (a hand
# edit, another tool, a truncated write), reported as such instead of failing deep in a printer.
_NUM = (int, float, type(None))
_SHAPE = {
    "kind": str, "config": dict, "params": dict, "inputs": list, "bootstrap": dict,
    "data_files": dict, "strategy_source": dict, "strategy": str, "created_utc": str,
    "annualisation": str, "metric": str, "window": dict, "winner": dict, "benchmark": dict,
    "sharpe_tests": list, "data": str, "base_currency": str, "metrics": dict,
}  # fmt: skip


def _check_shape(path: Path, data: dict[str, Any], compare: bool) -> None:
    def bad(what: str) -> DataError:
        return DataError(f"{path}: {what}; the run folder is damaged (restore or delete it).")

    for key, kind in _SHAPE.items():
        if key in data and not isinstance(data[key], kind):
            raise bad(f"{key!r} is {type(data[key]).__name__}, not {kind.__name__}")
    if data.get("kind", "run") not in KINDS:
        raise bad(f"kind {str(data.get('kind'))[:40]!r} is not one of {', '.join(KINDS)}")
    for key in ("inputs", "sharpe_tests"):
        if not all(isinstance(v, dict) for v in data.get(key, [])):
            raise bad(f"{key!r} must list objects")
    if not all(isinstance(v, str) for v in (data.get("window") or {}).values()):
        raise bad("'window' must hold dates as text")
    for key in ("winner",):
        for sub in ("metrics", "params"):
            if not isinstance((data.get(key) or {}).get(sub, {}), dict):
                raise bad(f"'{key}.{sub}' must be an object")
    metrics = data.get("metrics") or {}
    inner = (
        metrics.values()
        if not compare
        else (v for m in metrics.values() for v in (m.values() if isinstance(m, dict) else [m]))
    )
    if compare and not all(isinstance(m, dict) for m in metrics.values()):
        raise bad("'metrics' must hold one object per input")
    if not all(
        isinstance(v, _NUM) and not isinstance(v, bool) or isinstance(v, str) for v in inner
    ):
        raise bad("'metrics' must hold numbers")


def load_run(spec: str, root: Path | None = None) -> SavedRun:
    """Find and read a saved run (see ``find_run``); ``DataError`` if its JSON is damaged."""
    folder = find_run(spec, root)
    man_name, sum_name = _kind_files(folder) or ("", "")
    manifest = _read_json(folder / man_name) if man_name else {}
    summary = _read_json(folder / sum_name) if (folder / sum_name).is_file() else {}
    compare = sum_name == "compare.json"
    for name, data in ((man_name, manifest), (sum_name, summary)):
        if name:
            _check_shape(folder / name, data, compare)
    kind = manifest.get("kind", "run") if man_name else "events"
    if compare and kind != "compare":
        raise DataError(f"{folder / man_name}: a compare.json beside kind {kind!r}; damaged.")
    return SavedRun(folder.name, folder, str(kind), manifest, summary)


def list_runs(root: Path | None = None, kind: str | None = None) -> list[SavedRun]:
    """Every saved run under ``root``, oldest first (run ids start with a UTC time stamp).
    Folders whose JSON cannot be read are listed with kind ``damaged``."""
    if kind is not None and kind not in KINDS:
        raise ConfigError(
            f"--kind {kind!r} is not one of {', '.join(KINDS)}.{did_you_mean(kind, KINDS)}"
        )
    out = []
    for folder in saved_folders(results_root(root)):
        try:
            saved = load_run(str(folder))
        except DataError:
            saved = SavedRun(folder.name, folder, "damaged", {}, {})
        if kind is None or saved.kind == kind:
            out.append(saved)
    return out


def run_row(saved: SavedRun) -> dict[str, Any]:
    """What ``runs list`` shows of one run: id, kind, what ran, window, Sharpe, data."""
    m, s = saved.manifest, saved.summary
    what = s.get("strategy") or m.get("strategy") or ""
    sharpe = (s.get("metrics") or {}).get("sharpe")
    if saved.kind == "grid":
        what = f"{what} ({m.get('combos', '?')} combos by {m.get('metric', '?')})"
        sharpe = ((s.get("winner") or {}).get("metrics") or {}).get("sharpe")
    elif saved.kind == "compare":
        what = " | ".join(i.get("label", "?") for i in s.get("inputs", []))
        sharpe = None
    window = s.get("window") or {}
    return {
        "run_id": saved.run_id,
        "kind": saved.kind,
        "what": what,
        "window": f"{window.get('first', '?')}..{window.get('last', '?')}" if window else "",
        "sharpe": sharpe,
        "data": "synthetic"
        if str(s.get("data", "")).startswith("synthetic")
        else s.get("data", ""),
    }
