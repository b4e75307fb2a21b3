"""``backtest runs list|show|prune`` and ``backtest report``; ``register`` also attaches ``compare``.

A thin shell: parse, call ``engine.store.saved`` / ``engine.store.pages``, print
(``engine.cli.output``).
``register(app)`` attaches the commands to the main ``backtest`` app. Saved runs are looked up by
id (their folder name) under ``--results DIR`` (default: ``--out`` for ``compare``, else
``$CROSSCURRENT_RESULTS`` or ``./results``).
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table
from rich.text import Text

from engine.cli import compare as cli_compare
from engine.cli.common import err, known_errors, number, out
from engine.cli.compare import TRUST, TRUST_FILE, print_side_by_side, registry
from engine.cli.output import (
    FORMAT_OPT,
    Format,
    Sheet,
    completer,
    emit,
    print_table,
    say,
    write_json,
)
from engine.stats.spec import HEADLINE, format_value

runs_app = typer.Typer(no_args_is_help=True, help="List and inspect saved runs under results/.")

RESULTS_OPT = typer.Option(None, "--results", help="results folder (default ./results)")
ROW_COLUMNS = ("run_id", "kind", "what", "window", "sharpe", "data")


@runs_app.command("list")
def runs_list(
    results: Path | None = RESULTS_OPT,
    kind: str | None = typer.Option(
        None,
        metavar="[run|grid|compare|events]",  # engine.store.saved.KINDS
        help="only runs of this kind",
        autocompletion=completer(("run", "grid", "compare", "events")),
    ),
    limit: int = typer.Option(20, help="show the newest N (0 = all)"),
    output_format: Format = FORMAT_OPT,
) -> None:
    """List saved runs, oldest first (newest at the bottom). Example: backtest runs list"""
    from engine.store.saved import list_runs, results_root, run_row

    with known_errors():
        saved = list_runs(results, kind)
    root = results_root(results)
    shown = saved[-limit:] if limit > 0 else saved
    rows = [run_row(s) for s in shown]
    if not saved:
        say(output_format).print(
            f"no saved runs under {root}; `backtest run NAME` makes one.", soft_wrap=True
        )
        if output_format == "table":
            return
    emit(output_format, lambda: _print_runs(rows, len(saved), root),
         lambda: Sheet.of(rows, ROW_COLUMNS))  # fmt: skip


def _print_runs(rows: list[dict], total: int, root: Path) -> None:
    # Two lines a run, not a table: run ids are what users copy, so they are never cut.
    out.print(
        Text.assemble((f"{len(rows)} of {total} saved runs under {root}", "bold"),
                      ", oldest first"),
        soft_wrap=True,
    )  # fmt: skip
    width = max(len(r["run_id"]) for r in rows)
    for row in rows:
        sharpe = "" if row["sharpe"] is None else f"Sharpe {format_value('sharpe', row['sharpe'])}"
        out.print(f"{row['run_id']:<{width}}  {row['kind']:<7}  {sharpe}", soft_wrap=True)
        detail = ", ".join(v for v in (row["what"], row["window"], row["data"]) if v)
        out.print(f"    {detail}", style="dim", soft_wrap=True)
    out.print("Details: backtest runs show RUN_ID; its report: RUN_ID/report.html")


@runs_app.command("show")
def runs_show(
    run_id: str = typer.Argument(..., help="run id (folder name under results/), or a prefix"),
    results: Path | None = RESULTS_OPT,
    output_format: Format = FORMAT_OPT,
    as_json: bool = typer.Option(False, "--json", help="print the manifest alone as JSON"),
) -> None:
    """Show a saved run: what ran, on which data, its headline results and files.

    json: the run's facts, manifest, summary and files; csv: one row per fact and headline metric.

    Example: backtest runs show 20250101T120000Z-russell-fed-rotation-1a2b3c4d
    """
    from engine.store.saved import load_run

    with known_errors():
        saved = load_run(run_id, results)
    if as_json:
        write_json(saved.manifest)
        return
    files = sorted(p.name for p in saved.folder.iterdir() if not p.name.startswith("."))
    facts = [("run_id", saved.run_id), ("kind", saved.kind), *_facts(saved)]
    emit(
        output_format,
        lambda: _print_run(saved, files),
        lambda: Sheet(("field", "value"), facts + _metric_rows(saved)),
        lambda: {**dict(facts), "folder": str(saved.folder), "files": files,
                 "manifest": saved.manifest, "summary": saved.summary},
    )  # fmt: skip


def _metric_rows(saved) -> list[tuple[str, object]]:
    """The headline metrics a run's summary holds, raw (per input for a comparison)."""
    s = saved.summary
    if saved.kind == "compare":
        per = s.get("metrics") or {}
        return [(f"{k} ({label})", m.get(k)) for label, m in per.items() for k in HEADLINE]
    metrics = s.get("metrics") or ((s.get("winner") or {}).get("metrics")) or {}
    return [(k, metrics[k]) for k in HEADLINE if k in metrics]


def _print_run(saved, files: list[str]) -> None:
    m, s = saved.manifest, saved.summary
    out.print(Text.assemble((saved.run_id, "bold"), f" ({saved.kind})"), soft_wrap=True)
    facts = Table.grid(padding=(0, 2))
    for key, value in _facts(saved):
        facts.add_row(key, str(value))
    print_table(facts)
    metrics = s.get("metrics") or ((s.get("winner") or {}).get("metrics")) or {}
    if saved.kind == "compare":
        _show_compare(s, m.get("config", {}).get("base_currency", ""))
    elif metrics:
        table = Table("metric", "value", title="headline metrics")
        for key in HEADLINE:
            if key in metrics:
                table.add_row(key, format_value(key, metrics[key], s.get("base_currency", "")))
        print_table(table)
    out.print(f"files in {saved.folder}: {', '.join(files)}", soft_wrap=True)


def _facts(saved) -> list[tuple[str, object]]:
    m, s = saved.manifest, saved.summary
    cfg = m.get("config", {})
    params = s.get("params") or (s.get("winner") or {}).get("params") or m.get("params") or {}
    window = s.get("window") or {}
    rows = [
        ("created (UTC)", m.get("created_utc", "?")),
        ("strategy", s.get("strategy") or m.get("strategy", "")),
        ("parameters", ", ".join(f"{k}={v}" for k, v in params.items())),
        ("window", f"{window.get('first', '?')} .. {window.get('last', '?')}"),
        ("data", f"{s.get('data', '?')} ({cfg.get('data_dir', '?')})"),
        (
            "costs",
            f"fees {cfg.get('fees_bps', '?')} bps, slippage {cfg.get('slippage_bps', '?')} "
            f"bps, {cfg.get('fill', '?')} fills, base {cfg.get('base_currency', '?')}",
        ),
        ("annualisation", m.get("annualisation", "")),
        ("git commit", m.get("git_commit") or "?"),
    ]
    if saved.kind == "grid":
        rows.append(("grid", f"{m.get('combos')} combos ranked by {m.get('metric')}"))
    if saved.kind == "compare":
        rows[1] = ("inputs", " | ".join(i.get("spec", "?") for i in m.get("inputs", [])))
        rows[2] = ("seed", (m.get("bootstrap") or {}).get("seed"))
    return [(k, v) for k, v in rows if v not in ("", None)]


def _show_compare(s: dict, currency: str) -> None:
    columns = {i["label"]: s["metrics"][i["label"]] for i in s.get("inputs", [])}
    bench = s.get("benchmark") or {}
    extra = (f"buy-and-hold {bench['key']}", bench["metrics"]) if bench.get("metrics") else None
    nums = print_side_by_side("inputs", columns, currency, extra)
    num = dict(zip(columns, nums, strict=True))

    for t in s.get("sharpe_tests", []):
        lo, hi = t["difference_ci"]
        diff, lo, hi = (number(v, "+.2f") for v in (t["difference"], lo, hi))
        out.print(
            f"Sharpe {num[t['input']]} - {num[t['against']]}: {diff} "
            f"(95% interval {lo} .. {hi}), p = {number(t['p_value'], '.3f')}",
            soft_wrap=True,
        )


def report(
    run_id: str = typer.Argument(
        ..., help="run id (folder name under results/), a prefix, or a saved folder's path"
    ),
    results: Path | None = RESULTS_OPT,
    trust_file: list[Path] = TRUST_FILE,
    trust: bool = TRUST,
) -> None:
    """Rebuild the report.html of any saved folder: a run, grid, comparison or event study.

    A run or comparison is re-run from its manifest and refused (exit 2) when its data files or
    results changed since it was saved; a grid or event study is rebuilt from its saved files. A
    run of your own strategy file re-runs that file's code only when you name it again
    (--trust-file) or pass --trust.

    Example: backtest report 20250101T120000Z-russell-fed-rotation-1a2b3c4d
    """
    from engine.store.pages import rebuild_page
    from engine.store.saved import Trust, find_run

    with known_errors():
        consent = Trust(tuple(trust_file), trust)
        folder = find_run(run_id, results)
        with err.status(Text(f"rebuilding the page of {folder.name}…"), spinner="dots"):
            page = rebuild_page(folder, registry(), consent)
    out.print(f"report: {page}", soft_wrap=True)


PRUNED = ("run_id", "kind", "created", "size_bytes", "deleted", "path")


@runs_app.command("prune")
def runs_prune(
    older_than: float | None = typer.Option(
        None, "--older-than", metavar="DAYS", help="select saved folders older than DAYS days"
    ),
    keep: int | None = typer.Option(
        None, "--keep", metavar="N", help="select all but the newest N (with both: both hold)"
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="delete them (default: only list them)"),
    results: Path | None = RESULTS_OPT,
    output_format: Format = FORMAT_OPT,
) -> None:
    """Delete old saved runs: a dry run listing what would go, unless --yes.

    Only folders this tool wrote are ever selected (a stamped name and a readable manifest);
    hidden folders, such as a run being written, never are.

    Example: backtest runs prune --older-than 30 --keep 10 --yes
    """
    from engine.store.pages import prune
    from engine.store.saved import results_root

    root = results_root(results)
    with known_errors():
        chosen = prune(root, older_than_days=older_than, keep=keep, dry_run=not yes)
    rows = [
        {"run_id": p.path.name, "kind": p.kind, "created": p.created,
         "size_bytes": p.size_bytes, "deleted": yes, "path": str(p.path)}
        for p in chosen
    ]  # fmt: skip
    emit(output_format, lambda: _print_pruned(rows), lambda: Sheet.of(rows, PRUNED))
    size = f"{sum(r['size_bytes'] for r in rows) / 1e6:,.1f} MB"
    if not rows:
        line = f"nothing to prune under {root}."
    elif yes:
        line = f"deleted {len(rows)} saved folder(s) under {root}, {size}."
    else:
        line = f"would delete {len(rows)} saved folder(s) under {root}, {size}; --yes deletes them."
    say(output_format).print(line, soft_wrap=True)


def _print_pruned(rows: list[dict]) -> None:
    if rows:
        table = Table("run id", "kind", "created (UTC)", "size")
        for r in rows:
            table.add_row(r["run_id"], r["kind"], r["created"], f"{r['size_bytes'] / 1e6:,.2f} MB")
        print_table(table)


def register(app: typer.Typer) -> None:
    """Attach ``compare``, ``runs list|show|prune`` and ``report`` to the main app."""
    cli_compare.register(app)
    app.add_typer(runs_app, name="runs")
    app.command("report")(report)
