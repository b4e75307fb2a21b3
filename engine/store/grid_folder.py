"""Writing a grid run's folder: ``grid.parquet``, ``summary.json``, ``winner.parquet``,
``report.html`` and ``manifest.json``, atomically (``runfiles.atomic_folder``), and rebuilding its
page from those files (``grid_page_context`` / ``write_grid_page``: no re-run).

``summary.json`` holds the space, the ranking, the winner with its metrics, the top rows and the
overfitting statistics (``honesty``: over cash, against the benchmark and by the ranking metric,
each under a key naming its metric), and nothing that varies between machines, so the same inputs
give the same bytes. ``walk_forward.csv`` holds the chained walk-forward equity beside the full
window's best traded on the same test slices. ``winner.parquet`` holds what the page shows of
the winner's full run (its equity, benchmarks and weights, with its markers, provenance, notes and
the page's title as JSON in the file's metadata), so the page is built from the saved files alone:
the page written with the folder and one rebuilt later are the same bytes. The manifest adds when,
where and with which packages and data files.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from engine.errors import DataError
from engine.report.grid_page import GridReportContext, write_grid_report
from engine.report.run_page import ReportContext
from engine.research.grid import GridResult
from engine.store.folders import clean, dump
from engine.store.run_folder import atomic_folder, manifest, report_context, write_csv

WINNER_FILE = "winner.parquet"
_META_KEY = b"crosscurrent"


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
        page = {"title": f"grid: {res.winner.strategy.name}", "rule": res.winner.strategy.rule,
                "params": params, "top": top}  # fmt: skip
        write_winner(tmp / WINNER_FILE, report_context(res.winner), page)
        write_grid_page(tmp, tmp / "report.html", res.table)
        man = manifest(res.winner, run_id)
        man.update({"kind": "grid", "combos": len(res.table), "metric": res.metric,
                    "space": summary["space"], "constraint": summary["constraint"],
                    "samples": summary["samples"], "seed": summary["seed"]})  # fmt: skip
        dump(tmp / "manifest.json", man)
    return final[0]


# --- the page, from the folder's files ---------------------------------------------------------


def write_winner(path: Path, ctx: ReportContext, page: dict[str, Any]) -> None:
    """The winner's curves as Parquet columns (``equity``, ``benchmark<i>``, ``weight<i>``) and
    everything else the grid page shows of it, plus ``page`` (title, rule, params, top), as JSON
    in the file's metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    curves = {"equity": ctx.equity.astype(float)}
    curves |= {f"benchmark{i}": c.astype(float) for i, c in enumerate(ctx.benchmarks.values())}
    curves |= {f"weight{i}": ctx.weights[k].astype(float) for i, k in enumerate(ctx.weights)}
    frame = pd.DataFrame(curves, index=ctx.equity.index.rename("date"))
    meta = {
        "page": page, "title": ctx.title, "rule": ctx.rule, "params": dict(ctx.params),
        "metrics": dict(ctx.metrics), "benchmarks": list(ctx.benchmarks),
        "weights": [str(k) for k in ctx.weights.columns],
        "markers": {k: [pd.Timestamp(d).isoformat() for d in v] for k, v in ctx.markers.items()},
        "provenance": [dict(p) for p in ctx.provenance], "base_currency": ctx.base_currency,
        "synthetic": ctx.synthetic, "notes": list(ctx.notes),
        "annualisation": ctx.annualisation, "alerts": list(ctx.alerts),
    }  # fmt: skip
    text = json.dumps(clean(meta), sort_keys=True, default=str).encode()
    table = pa.Table.from_pandas(frame, preserve_index=True)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), _META_KEY: text})
    pq.write_table(table, path)


def _damaged(path: Path, what: str) -> DataError:
    return DataError(
        f"{path}: {what}; the grid folder is damaged or was written by an older version. "
        "Run the grid again (`backtest grid ...`) for a new folder and page."
    )


def read_winner(path: Path) -> tuple[ReportContext, dict[str, Any]]:
    """``write_winner``'s file back: the winner's ``ReportContext`` and the ``page`` dict."""
    import pyarrow.parquet as pq

    if not path.is_file():
        raise _damaged(path, "missing (it holds the winner's curves the page draws)")
    try:
        table = pq.read_table(path)
        meta = json.loads((table.schema.metadata or {})[_META_KEY])
        frame = table.to_pandas()
        index = pd.DatetimeIndex(frame.index)
        ctx = ReportContext(
            title=meta["title"], rule=meta["rule"], params=meta["params"],
            metrics=meta["metrics"], equity=frame["equity"].rename(None).set_axis(index),
            benchmarks={n: frame[f"benchmark{i}"].rename(None).set_axis(index)
                        for i, n in enumerate(meta["benchmarks"])},
            weights=pd.DataFrame({k: frame[f"weight{i}"].to_numpy()
                                  for i, k in enumerate(meta["weights"])}, index=index),
            markers={k: [pd.Timestamp(d) for d in v] for k, v in meta["markers"].items()},
            provenance=meta["provenance"], base_currency=meta["base_currency"],
            synthetic=bool(meta["synthetic"]), notes=meta["notes"],
            annualisation=meta["annualisation"], alerts=meta["alerts"],
        )  # fmt: skip
        return ctx, dict(meta["page"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise _damaged(path, f"unreadable ({str(exc)[:200]})") from None


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise _damaged(path, f"unreadable ({exc})") from None
    if not isinstance(data, dict):
        raise _damaged(path, "not a JSON object")
    return data


def read_table(path: Path, space: dict[str, list]) -> pd.DataFrame:
    """``grid.parquet`` back as the ranked table, parameter values as the space lists them (the
    file keeps object columns, e.g. of a sampled space, as text)."""
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path).to_pandas()
    except (OSError, ValueError) as exc:
        raise _damaged(path, f"unreadable ({str(exc)[:200]})") from None
    for name, values in space.items():
        if name in table.columns and table[name].dtype == object:
            lookup = {str(v): v for v in values}
            table[name] = table[name].map(lambda v, d=lookup: d.get(v, v) if v is not None else v)
    return table


def read_walk_forward(folder: Path, summary: dict[str, Any]) -> pd.DataFrame | None:
    """``walk_forward.csv`` on its date index, or None when the grid ran no walk-forward."""
    if "walk_forward" not in summary:
        return None
    path = folder / "walk_forward.csv"
    try:
        return pd.read_csv(path, index_col="date", parse_dates=["date"])
    except (OSError, ValueError) as exc:
        raise _damaged(path, f"unreadable ({str(exc)[:200]})") from None


def grid_page_context(
    folder: Path, table: pd.DataFrame | None = None, winner_file: Path | None = None
) -> GridReportContext:
    """The grid page's context from a grid folder's files (``table``: the ranked table when the
    caller holds it already, as the writer does; else read from ``grid.parquet``;
    ``winner_file``: a ``write_winner`` file elsewhere, e.g. for a folder saved without one)."""
    summary = _read_json(folder / "summary.json")
    winner, page = read_winner(winner_file or folder / WINNER_FILE)
    space = summary.get("space")
    if not isinstance(space, dict) or not isinstance(summary.get("honesty"), dict):
        raise _damaged(folder / "summary.json", "lacks its space or honesty block")
    if table is None:
        table = read_table(folder / "grid.parquet", space)
    try:
        return GridReportContext(
            title=page["title"], rule=page["rule"], metric=summary["metric"], table=table,
            params=page["params"], varied=[k for k, v in space.items() if len(v) > 1],
            honesty=summary["honesty"], winner=winner, synthetic=winner.synthetic,
            top=int(page["top"]), walk_forward=summary.get("walk_forward"),
            walk_forward_equity=read_walk_forward(folder, summary),
        )  # fmt: skip
    except (KeyError, ValueError, TypeError) as exc:
        raise _damaged(
            folder / "summary.json", f"does not fit the page ({str(exc)[:200]})"
        ) from None


def write_grid_page(
    folder: Path, target: Path, table: pd.DataFrame | None = None, winner_file: Path | None = None
) -> None:
    """Build the grid page from ``folder``'s files and write it to ``target``."""
    write_grid_report(target, grid_page_context(folder, table, winner_file))
