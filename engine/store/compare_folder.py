"""A comparison's inputs and its folder: saved runs as compare inputs, and ``compare.json``.

Lives here: ``resolve_input`` / ``resolve_inputs`` (a strategy name, a ``NAME:k=v`` variant or a
saved run id -> an ``Input``; a saved run of a user's strategy file needs the user's ``Trust``) and
``write_compare`` / ``compare_manifest`` (the folder, written atomically). Not here: running and
testing the comparison (``engine.research.compare``), its page (``engine.report.compare_page``).
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine.errors import ConfigError
from engine.report.compare_page import write_compare_report
from engine.research.compare import RUN_LIKE, Comparison, Input, compare_summary, variant
from engine.store import saved as runs
from engine.store.folders import clean, dump
from engine.store.run_folder import atomic_folder, manifest, strategy_source, write_csv
from engine.strategy.base import Strategy


def _from_run(
    folder: Path, spec: str, registry: Mapping[str, type[Strategy]], trust: runs.Trust | None
) -> Input:
    saved = runs.load_run(str(folder))
    where = f"compare input {spec!r} (run {saved.run_id})"
    if saved.kind not in ("run", "grid"):
        raise ConfigError(
            f"{where} is a {saved.kind} folder; compare single runs, grid winners or strategies."
        )
    strategy = runs.strategy_from_manifest(saved.manifest, registry, where, trust)
    return Input(saved.run_id, spec, strategy, saved.run_id, saved.manifest.get("config"))


def _unknown(name: str, spec: str, root: Path, registry: Mapping[str, type[Strategy]]):
    names = [p.name for p in runs.saved_folders(root)]
    close = difflib.get_close_matches(name, [*registry, *names], n=3, cutoff=0.6)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return ConfigError(
        f"compare input {spec!r}: {name!r} is neither a strategy nor a saved run under {root}."
        f"{hint} Strategies: {', '.join(sorted(registry))}; saved runs: `backtest runs list`."
    )


def resolve_input(
    spec: str,
    registry: Mapping[str, type[Strategy]],
    root: Path | None = None,
    trust: runs.Trust | None = None,
) -> Input:
    """One spec -> an ``Input`` (see step 1 of the module docstring)."""
    root = runs.results_root(root)
    name, sep, _ = spec.partition(":")
    if name in registry:
        return Input(spec, spec, variant(spec, registry[name]) if sep else registry[name]())
    if sep:
        raise _unknown(name, spec, root, registry)
    try:
        folder = runs.find_run(spec, root)
    except ConfigError:
        if RUN_LIKE.match(spec) or "/" in spec:
            raise  # a run id or a path: the message names close run ids
        raise _unknown(name, spec, root, registry) from None
    return _from_run(folder, spec, registry, trust)


def resolve_inputs(
    specs: Sequence[str],
    registry: Mapping[str, type[Strategy]],
    root: Path | None = None,
    trust: runs.Trust | None = None,
    extra: Sequence[Input] = (),
) -> list[Input]:
    """Every spec resolved, then ``extra`` inputs (strategy and rule files), labels made unique
    (a repeated label gets `` #2``, `` #3``...)."""
    if len(specs) + len(extra) < 2:
        raise ConfigError(
            f"compare needs at least two inputs; got {len(specs)}. Example: backtest compare "
            "russell-fed-rotation russell-fed-rotation:hold_days=40 buy-and-hold"
        )
    out: list[Input] = []
    seen: dict[str, int] = {}
    for inp in [*(resolve_input(spec, registry, root, trust) for spec in specs), *extra]:
        seen[inp.label] = seen.get(inp.label, 0) + 1
        if seen[inp.label] > 1:
            inp = dataclasses.replace(inp, label=f"{inp.label} #{seen[inp.label]}")
        out.append(inp)
    return out


def compare_manifest(cmp: Comparison, run_id: str) -> dict[str, Any]:
    out = manifest(cmp.results[0], run_id)
    for key in ("strategy", "strategy_source", "params"):
        out.pop(key, None)
    files = {
        k: {"path": str(s.path), "sha256": s.sha256}
        for res in cmp.results
        for k, s in res.market.series.items()
    }
    out.update(
        kind="compare",
        inputs=[
            {
                **i.record(),
                "strategy_source": strategy_source(type(i.strategy)),
                "run_config": i.run_config,
            }
            for i in cmp.inputs
        ],
        data_files=dict(sorted(files.items())),
        bootstrap=dataclasses.asdict(cmp.bootstrap),
    )
    return out


def write_compare(cmp: Comparison, out_root: Path | None = None) -> Path:
    """Write ``<out_root>/<stamp>-compare-<hash>/`` (step 6); returns the folder."""
    body = json.dumps(clean(compare_summary(cmp)), sort_keys=True).encode()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_id = f"{stamp}-compare-{hashlib.sha256(body).hexdigest()[:8]}"
    with atomic_folder(out_root, run_id) as (tmp, final):
        dump(tmp / "compare.json", compare_summary(cmp))
        write_csv(cmp.equity, tmp / "equity.csv", index=True, index_label="date")
        write_compare_report(tmp / "report.html", cmp)
        dump(tmp / "manifest.json", compare_manifest(cmp, run_id))
    return final[0]
