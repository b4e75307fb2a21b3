"""Saved results: finding, listing and describing the folders under the results root, and
regenerating a saved run's ``report.html``.

Lives here: ``find_run`` (a run id, a unique id prefix or a folder path -> its folder; an unknown id
is a ``ConfigError`` listing close matches), ``list_runs`` / ``load_run`` (``SavedRun``: kind,
manifest, summary), ``run_row`` (one line of ``backtest runs list``), ``strategy_from_manifest``
and ``config_from_manifest`` (what a manifest records, as objects again) and ``regenerate_report``.

Kinds of folder: ``run`` (``summary.json`` + ``manifest.json``), ``grid`` and ``compare``
(``manifest.json`` with that ``kind``), ``events`` (``events.json`` only). Anything else, and the
``.partial-*`` folders of writes in progress, is not a saved run.

``regenerate_report`` re-runs the saved run from its manifest (strategy, parameters, resolved config)
rather than rebuilding the page from the CSV files, because the report also shows the event study,
the Fed/RBA markers and the data provenance, which the files do not hold. It is exact, and checked:
every data file must still have the SHA-256 the manifest records, and the re-run must reproduce the
saved ``summary.json`` (or ``compare.json``) value for value; otherwise it refuses and says why.
The new page replaces ``report.html`` atomically. Not here: the CLI (``cli_runs``), comparisons
(``compare``), writing run folders (``runfiles``).
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from engine import paths
from engine.errors import ConfigError, DataError, StrategyError, did_you_mean
from engine.store import folders
from engine.strategy.base import Strategy

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


# --- manifests back into objects -------------------------------------------------------------


@dataclass(frozen=True)
class Trust:
    """Consent to run the code of a user's strategy file recorded in a saved run.

    A saved run names its strategy file and that file's SHA-256 in ``manifest.json``, but a
    results folder may come from anywhere (a cloned repository), and the hash it records proves
    nothing about the file it points to. So re-running a user's strategy needs consent each time:
    the file named again (``files``: any path whose SHA-256 equals the saved one is loaded instead
    of the recorded path) or ``everything`` (``--trust``: load the recorded file, which must be an
    absolute path with the saved SHA-256). Built-in strategies never need it."""

    files: tuple[Path, ...] = ()
    everything: bool = False

    def file_for(self, source: Mapping[str, Any], where: str) -> Path:
        recorded, want = str(source.get("file")), str(source.get("sha256"))
        for path in self.files:
            if Path(path).is_file() and _sha256(Path(path)) == want:
                return Path(path)
        if self.everything:
            path = Path(recorded)
            if not path.is_absolute():
                raise StrategyError(
                    f"{where}: its strategy file {recorded!r} is a relative path, which could "
                    "name any file; pass that file with --trust-file PATH instead."
                )
            if not path.is_file():
                raise StrategyError(
                    f"{where}: its strategy file {path} no longer exists; restore it."
                )
            if _sha256(path) != want:
                raise StrategyError(
                    f"{where}: its strategy file {path} changed since the run (SHA-256 differs); "
                    "restore that version or run the new one afresh."
                )
            return path
        given = (
            f" The file(s) given ({', '.join(map(str, self.files))}) do not have its SHA-256."
            if self.files
            else ""
        )
        raise StrategyError(
            f"{where}: it ran the strategy file {recorded} (Python code, SHA-256 "
            f"{want[:12]}...), and re-running it would run that code.{given} Name the file again "
            "with --trust-file PATH (it must have the saved SHA-256), or pass --trust to run the "
            "recorded file; only do either for code you trust."
        )


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def strategy_from_manifest(
    record: Mapping[str, Any],
    registry: Mapping[str, type[Strategy]],
    where: str,
    trust: Trust | None = None,
) -> Strategy:
    """The strategy a manifest (or a compare manifest's input) records, with its parameters.

    A built-in is looked up in ``registry`` by name; a ``--strategy-file`` strategy is loaded only
    with the user's consent (``Trust``) from a file with the recorded SHA-256."""
    from engine.strategy.file import load_strategy_file

    source = record.get("strategy_source") or {}
    name = record.get("strategy")
    if not isinstance(source, Mapping) or not isinstance(record.get("params") or {}, Mapping):
        raise DataError(f"{where}: its manifest.json is damaged (strategy_source, params).")
    if source.get("file"):
        path = (trust or Trust()).file_for(source, where)
        cls_name = str(source.get("class"))
        if not cls_name.isidentifier():
            raise DataError(f"{where}: its manifest.json names no strategy class; it is damaged.")
        cls = load_strategy_file(f"{path}:{cls_name}")
    elif isinstance(name, str) and name in registry:
        cls = registry[name]
    else:
        raise StrategyError(
            f"{where}: strategy {name!r} is not registered.{did_you_mean(str(name), registry)}"
        )
    return cls(**{str(k): v for k, v in dict(record.get("params") or {}).items()})


def config_from_manifest(config: Mapping[str, Any], where: str):
    """The ``RunConfig`` a manifest's ``config`` records (unknown keys ignored)."""
    from engine.backtest.run import RunConfig

    fields = {f.name for f in dataclasses.fields(RunConfig)}
    values = {k: v for k, v in config.items() if k in fields}
    folder = Path(values.get("data_dir") or paths.sample_dir())
    if not folder.is_dir():
        raise DataError(f"{where}: its data folder {folder} no longer exists; restore it.")
    values["data_dir"] = folder
    for key in ("start", "end"):
        values[key] = pd.Timestamp(values[key]) if values.get(key) else None
    return RunConfig(**values)


def check_data_files(recorded: Mapping[str, Any], market, where: str) -> None:
    """Every file the re-run loaded must have the SHA-256 the manifest recorded."""
    for key, series in sorted(market.series.items()):
        want = (recorded.get(key) or {}).get("sha256")
        if want != series.sha256:
            raise DataError(
                f"{series.path}: changed since {where} was made (SHA-256 {series.sha256[:12]}, "
                f"recorded {str(want)[:12]}); restore the file, or run the backtest afresh."
            )


def check_reproduced(saved: Mapping[str, Any], fresh: Mapping[str, Any], where: str) -> None:
    """The re-run's summary must equal the saved one; name the first keys that differ."""
    fresh = json.loads(json.dumps(fresh))
    if fresh == saved:
        return
    keys = sorted(k for k in {*saved, *fresh} if saved.get(k) != fresh.get(k))
    raise DataError(
        f"{where}: re-running it from its manifest does not reproduce its saved results "
        f"(differs in {', '.join(keys[:5])}); the engine changed since (git commit "
        "recorded in manifest.json). Run it afresh instead of regenerating its report."
    )


def replace_file(path: Path, write) -> None:
    """Call ``write(tmp_path)`` and move the result over ``path``; a failure or Ctrl-C leaves
    ``path`` as it was."""
    tmp = path.with_name(f".{path.name}.partial")
    try:
        write(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        raise ConfigError(f"cannot write {path} ({exc.strerror}); check its permissions.") from None
    finally:
        tmp.unlink(missing_ok=True)


def regenerate_report(
    spec: str,
    root: Path | None,
    registry: Mapping[str, type[Strategy]],
    trust: Trust | None = None,
) -> Path:
    """Re-run saved run ``spec`` from its manifest and rewrite its ``report.html`` (see the module
    docstring). Works for single runs and comparisons; returns the report's path."""
    saved = load_run(spec, root)
    where = f"run {saved.run_id}"
    if saved.kind == "compare":
        return _regenerate_compare(saved, registry, trust)
    if saved.kind != "run":
        raise ConfigError(
            f"{where} is a {saved.kind} folder; `backtest report` regenerates the reports of "
            f"single runs and comparisons. Run `backtest {saved.kind}` again for a new one."
        )
    from engine.backtest.run import run_backtest
    from engine.report.run_page import write_report
    from engine.store.folders import clean
    from engine.store.run_folder import report_context, summary

    strategy = strategy_from_manifest(saved.manifest, registry, where, trust)
    res = run_backtest(strategy, config_from_manifest(saved.manifest.get("config", {}), where))
    check_data_files(saved.manifest.get("data_files", {}), res.market, where)
    check_reproduced(saved.summary, clean(summary(res)), where)
    page = saved.folder / "report.html"
    replace_file(page, lambda tmp: write_report(tmp, report_context(res)))
    return page


def _regenerate_compare(
    saved: SavedRun, registry: Mapping[str, type[Strategy]], trust: Trust | None
) -> Path:
    """``regenerate_report`` for a comparison: its inputs, config and bootstrap settings come
    from its manifest; ``compare.json`` must come out the same."""
    from engine.report.compare_page import write_compare_report
    from engine.research.compare import Bootstrap, Input, compare_summary, run_compare
    from engine.store.folders import clean

    where = f"comparison {saved.run_id}"
    man = saved.manifest
    if not man.get("inputs") or not all(
        isinstance(r.get("label"), str) and isinstance(r.get("spec"), str) for r in man["inputs"]
    ):
        raise DataError(f"{saved.folder / 'manifest.json'}: its inputs are damaged (label, spec).")
    inputs = [
        Input(
            rec["label"],
            rec["spec"],
            strategy_from_manifest(rec, registry, where, trust),
            rec.get("from_run"),
            rec.get("run_config"),
        )
        for rec in man.get("inputs", [])
    ]
    cfg = config_from_manifest(man.get("config", {}), where)
    cmp = run_compare(inputs, cfg, Bootstrap(**man.get("bootstrap", {})))
    for res in cmp.results:
        check_data_files(man.get("data_files", {}), res.market, where)
    check_reproduced(saved.summary, clean(compare_summary(cmp)), where)
    page = saved.folder / "report.html"
    replace_file(page, lambda tmp: write_compare_report(tmp, cmp))
    return page
