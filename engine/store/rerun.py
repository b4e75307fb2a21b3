"""Re-running a saved run from its manifest: consent to run a user's code, the manifest back into
objects, and ``regenerate_report``.

Lives here: ``Trust`` (consent to re-run a saved run's strategy file), ``strategy_from_manifest``
and ``config_from_manifest`` (what a manifest records, as objects again), the checks a re-run must
pass (``check_data_files``, ``check_reproduced``), ``replace_file`` and ``regenerate_report``.

``regenerate_report`` re-runs the saved run from its manifest (strategy, parameters, resolved config)
rather than rebuilding the page from the CSV files, because the report also shows the event study,
the Fed/RBA markers and the data provenance, which the files do not hold. It is exact, and checked:
every data file must still have the SHA-256 the manifest records, and the re-run must reproduce the
saved ``summary.json`` (or ``compare.json``) value for value; otherwise it refuses and says why.
The new page replaces ``report.html`` atomically. Not here: finding and reading saved runs
(``saved``), the CLI (``cli_runs``), comparisons (``compare``), writing run folders (``store.run_folder``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from engine import paths
from engine.errors import ConfigError, DataError, StrategyError, did_you_mean
from engine.strategy.base import Strategy

if TYPE_CHECKING:
    from engine.store.saved import SavedRun


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
    if source.get("rule") is not None:  # a rule is data: rebuilt from the manifest, no code runs
        from engine.rules import rule_from_dict, rule_strategy

        try:
            cls = rule_strategy(rule_from_dict(source["rule"], f"{where} (recorded rule)"))
        except StrategyError as exc:
            raise DataError(f"{where}: its manifest.json records a rule that no longer reads: "
                            f"{exc}") from None  # fmt: skip
    elif source.get("file"):
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
    from engine.store.saved import load_run  # saved re-exports this module's names

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
