"""Writing a grid run's folder: ``grid.parquet``, ``summary.json``, ``report.html`` and
``manifest.json``, atomically (``runfiles.atomic_folder``).

``summary.json`` holds the space, the ranking, the winner with its metrics, the top rows and the
overfitting statistics (``honesty``: over cash, against the benchmark and by the ranking metric,
each under a key naming its metric), and nothing that varies between machines, so the same inputs
give the same bytes. ``walk_forward.csv`` holds the chained walk-forward equity beside the full
window's best traded on the same test slices. The manifest adds when, where and with which
packages and data files.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from engine.research.grid import GridResult
from engine.store.folders import clean, dump
from engine.store.run_folder import atomic_folder, manifest, report_context, write_csv


def grid_summary(
    res: GridResult,
    space: dict[str, list],
    constraint: str | None,
    samples: int | None,
    seed: int | None,
    top: int,
) -> dict[str, Any]:
    winner = res.winner
    cols = [c for c in res.table.columns]
    return {
        "strategy": winner.strategy.name,
        "data": "synthetic sample data" if winner.market.synthetic else "user data",
        "space": {k: list(v) for k, v in space.items()},
        "constraint": constraint,
        "samples": samples,
        "seed": seed,
        "combos": int(len(res.table)),
        "metric": res.metric,
        "block_fields": list(res.block_fields),
        "winner": {"params": winner.strategy.values, "metrics": winner.metrics},
        "honesty": res.honesty,
        "top": [
            dict(zip(cols, row, strict=True)) for row in res.table.head(top).itertuples(index=False)
        ],  # fmt: skip
        "window": {
            "first": str(winner.sim.equity.index[0].date()),
            "last": str(winner.sim.equity.index[-1].date()),
        },  # fmt: skip
        "costs": {"fees_bps": winner.config.fees_bps, "slippage_bps": winner.config.slippage_bps},
        "base_currency": winner.config.base_currency,
        "fill": winner.config.fill,
    }


def _write_parquet(table: pd.DataFrame, path: Path, rows: int = 1_000_000) -> None:
    """``table`` as Parquet, ``rows`` at a time (one row group each), so a 10 M-combo table is
    never copied whole; object columns become strings (or nulls): parquet wants one type each."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.Schema.from_pandas(table.iloc[:0], preserve_index=False)
    for i, col in enumerate(table.columns):
        if table[col].dtype == object:
            schema = schema.set(i, pa.field(str(col), pa.string()))
    with pq.ParquetWriter(path, schema) as writer:
        for lo in range(0, max(len(table), 1), rows):
            part = table.iloc[lo : lo + rows].copy()
            for col in part.columns:
                if part[col].dtype == object:
                    part[col] = part[col].map(lambda v: None if v is None else str(v))
            writer.write_table(pa.Table.from_pandas(part, schema=schema, preserve_index=False))


def write_grid(
    res: GridResult,
    summary: dict[str, Any],
    out_root: Path | None,
    top: int,
    walk_forward: dict[str, Any] | None = None,
) -> Path:
    from engine.report.grid_page import GridReportContext, write_grid_report

    digest = hashlib.sha256(json.dumps(clean(summary), sort_keys=True, default=str).encode())
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    run_id = f"{stamp}-grid-{res.winner.strategy.name}-{digest.hexdigest()[:8]}"
    params = [p.name for p in type(res.winner.strategy).params]
    with atomic_folder(out_root, run_id) as (tmp, final):
        _write_parquet(res.table, tmp / "grid.parquet")
        dump(tmp / "summary.json", summary)
        if walk_forward is not None:
            write_csv(walk_forward["equity"], tmp / "walk_forward.csv", index=True,
                      index_label="date")  # fmt: skip
        ctx = GridReportContext(
            title=f"grid: {res.winner.strategy.name}", rule=res.winner.strategy.rule,
            metric=res.metric, table=res.table, params=params,
            varied=[k for k, v in summary["space"].items() if len(v) > 1], honesty=res.honesty,
            winner=report_context(res.winner), synthetic=res.winner.market.synthetic, top=top,
        )  # fmt: skip
        write_grid_report(tmp / "report.html", ctx)
        man = manifest(res.winner, run_id)
        man.update({"kind": "grid", "combos": len(res.table), "metric": res.metric,
                    "space": summary["space"], "constraint": summary["constraint"],
                    "samples": summary["samples"], "seed": summary["seed"]})  # fmt: skip
        dump(tmp / "manifest.json", man)
    return final[0]
