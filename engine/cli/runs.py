"""``backtest compare``, ``backtest runs list|show`` and ``backtest report``.

A thin shell: parse, call ``engine.research.compare`` / ``engine.store.saved``, print rich
tables, write files.
``register(app)`` attaches the commands to the main ``backtest`` app. Saved runs are looked up by
id (their folder name) under ``--results DIR`` (default: ``--out`` for ``compare``, else
``$CROSSCURRENT_RESULTS`` or ``./results``).
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from engine.cli.common import SYNTHETIC_LINE, err, known_errors, number, out, print_warnings
from engine.cli.options import OUT_DIR, RunOptions, run_options
from engine.stats.spec import HEADLINE, format_value

runs_app = typer.Typer(no_args_is_help=True, help="List and inspect saved runs under results/.")

RESULTS_OPT = typer.Option(None, "--results", help="results folder (default ./results)")
TRUST_FILE = typer.Option(
    [], "--trust-file", help="your strategy file a saved run used: run it (SHA-256 checked)"
)
TRUST = typer.Option(False, "--trust", help="run the strategy files saved runs name (code!)")


def _registry():
    from engine.api.builtins import registry

    return registry()


@run_options()
def compare(
    inputs: list[str] = typer.Argument(
        None, help="strategies, NAME:k=v,k=v variants or saved run ids (2 or more in all)"
    ),
    strategy_file: list[str] = typer.Option(
        [], "--strategy-file", help="a strategy of your own as an input: path/to/my.py:MyStrategy"
    ),
    rule: list[str] = typer.Option(
        [], "--rule", help="a rule file as an input: path/to/rule.toml (repeatable)"
    ),
    options: RunOptions = ...,  # the run options (engine.cli.options)
    seed: int = typer.Option(20250918, help="seed of the Sharpe-difference bootstrap"),
    resamples: int = typer.Option(2000, help="bootstrap resamples"),
    block: float | None = typer.Option(None, help="mean bootstrap block, sessions (default n^1/3)"),
    results: Path | None = typer.Option(None, "--results", help="where run ids are looked up"),
    trust_file: list[Path] = TRUST_FILE,
    trust: bool = TRUST,
    out_dir: Path | None = OUT_DIR,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="print only the result folder"),
) -> None:
    """Run strategies side by side on the same data and window; test their Sharpe differences.

    Example: backtest compare russell-fed-rotation russell-fed-rotation:hold_days=40 static-mix
    """
    from engine.research.compare import Bootstrap
    from engine.store.compare_folder import resolve_inputs
    from engine.store.saved import Trust, check_writable

    with known_errors():
        cfg = options.config()
        boot = Bootstrap(resamples=resamples, block=block, seed=seed)
        consent = Trust(tuple(trust_file), trust)
        extra = _file_inputs(strategy_file, rule)
        specs = resolve_inputs(inputs or [], _registry(), results or out_dir, consent, extra)
        check_writable(out_dir)
        cmp, folder = _run_with_progress(specs, cfg, boot, out_dir, quiet)
    if quiet:
        typer.echo(str(folder))
        return
    warnings = list(dict.fromkeys(w for res in cmp.results for w in res.warnings))
    print_warnings(warnings, str(folder / "compare.json"))
    _print_compare(cmp, folder, set(warnings))


def _file_inputs(strategy_files: list[str], rules: list[str]) -> list:
    """Compare inputs from ``--strategy-file`` and ``--rule`` (defaults of each)."""
    from engine.research.compare import Input
    from engine.rules import load_rule
    from engine.strategy.file import load_strategy_file

    out = [Input((c := load_strategy_file(f)).name, f, c()) for f in strategy_files]
    return out + [Input((c := load_rule(r)).name, r, c()) for r in rules]


def _run_with_progress(specs, cfg, boot, out_dir: Path | None, quiet: bool):
    """Run and write the comparison under a progress bar: one step per input, one to write."""
    from engine.research.compare import run_compare
    from engine.store.compare_folder import write_compare

    columns = (TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=err, disable=quiet, transient=True) as bar:
        task = bar.add_task("running", total=len(specs) + 1)

        def step(label: str) -> None:
            bar.update(task, advance=1, description=f"ran {label}")

        cmp = run_compare(specs, cfg, boot, progress=step)
        bar.update(task, description="writing the report")
        folder = write_compare(cmp, out_dir)
        bar.advance(task)
    return cmp, folder


def _print_side_by_side(title: str, columns: dict, currency: str, extra=None) -> list[str]:
    """A numbered legend of the inputs, then their metrics by number; returns the numbers."""
    legend = Table("#", "input", title=title)
    for n, label in enumerate(columns, start=1):
        legend.add_row(str(n), label)
    out.print(legend)
    nums = [f"#{n}" for n in range(1, len(columns) + 1)]
    table = Table("metric", *nums, *([extra[0]] if extra else []), title="metrics")
    for key in HEADLINE:
        cells = [format_value(key, m.get(key), currency) for m in columns.values()]
        bench = [format_value(key, extra[1].get(key), currency)] if extra else []
        table.add_row(key, *cells, *bench)
    out.print(table)
    return nums


def _print_compare(cmp, folder: Path, printed: set[str] = frozenset()) -> None:
    """Inputs numbered once (labels can be long), then every table by number."""
    currency = cmp.config.base_currency
    first, last = cmp.equity.index[0].date(), cmp.equity.index[-1].date()
    title = f"{first} .. {last}, {len(cmp.equity)} common sessions, valued in {currency}"
    columns = {i.label: r.metrics for i, r in zip(cmp.inputs, cmp.results, strict=True)}
    bench = (f"buy-and-hold {cmp.config.benchmark}", cmp.benchmark_metrics)
    nums = _print_side_by_side(title, columns, currency, bench)
    tests = Table(
        "input",
        "Sharpe",
        "difference",
        "95% interval",
        "p-value",
        title=f"Sharpe vs #1 (paired stationary bootstrap, {cmp.bootstrap.resamples} "
        f"resamples, seed {cmp.bootstrap.seed})",
    )
    for num, t in zip(nums[1:], cmp.tests, strict=True):
        lo, hi = t["difference_ci"]
        tests.add_row(
            num,
            format_value("sharpe", t["sharpe"]),
            number(t["difference"], "+.2f"),
            f"{number(lo, '+.2f')} .. {number(hi, '+.2f')}",
            number(t["p_value"], ".3f"),
        )
    out.print(tests)
    corr = Table("", *nums, title="correlation of daily returns")
    for num, row in zip(nums, cmp.correlations.to_numpy(), strict=True):
        corr.add_row(num, *(number(v, ".2f") for v in row))
    out.print(corr)
    for note in (n for n in cmp.notes if n not in printed):
        out.print(Text.assemble(("note", "yellow"), f": {note}"), soft_wrap=True)
    if cmp.synthetic:
        out.print(SYNTHETIC_LINE)
    out.print(f"results: {folder}", soft_wrap=True)


@runs_app.command("list")
def runs_list(
    results: Path | None = RESULTS_OPT,
    kind: str | None = typer.Option(
        None, help="only runs of this kind: run, grid, compare, events"
    ),
    limit: int = typer.Option(20, help="show the newest N (0 = all)"),
) -> None:
    """List saved runs, oldest first (newest at the bottom). Example: backtest runs list"""
    from engine.store.saved import list_runs, results_root, run_row

    with known_errors():
        saved = list_runs(results, kind)
    root = results_root(results)
    if not saved:
        out.print(f"no saved runs under {root}; `backtest run NAME` makes one.", soft_wrap=True)
        return
    shown = saved[-limit:] if limit > 0 else saved
    # Two lines a run, not a table: run ids are what users copy, so they are never cut.
    out.print(
        Text.assemble((f"{len(shown)} of {len(saved)} saved runs under {root}", "bold"),
                      ", oldest first"),
        soft_wrap=True,
    )  # fmt: skip
    width = max(len(s.run_id) for s in shown)
    for row in map(run_row, shown):
        sharpe = "" if row["sharpe"] is None else f"Sharpe {format_value('sharpe', row['sharpe'])}"
        out.print(f"{row['run_id']:<{width}}  {row['kind']:<7}  {sharpe}", soft_wrap=True)
        detail = ", ".join(v for v in (row["what"], row["window"], row["data"]) if v)
        out.print(f"    {detail}", style="dim", soft_wrap=True)
    out.print("Details: backtest runs show RUN_ID; its report: RUN_ID/report.html")


@runs_app.command("show")
def runs_show(
    run_id: str = typer.Argument(..., help="run id (folder name under results/), or a prefix"),
    results: Path | None = RESULTS_OPT,
    as_json: bool = typer.Option(False, "--json", help="print the manifest as JSON"),
) -> None:
    """Show a saved run: what ran, on which data, its headline results and files.

    Example: backtest runs show 20250101T120000Z-russell-fed-rotation-1a2b3c4d
    """
    from engine.store.saved import load_run

    with known_errors():
        saved = load_run(run_id, results)
    if as_json:
        typer.echo(json.dumps(saved.manifest, indent=2, sort_keys=True))
        return
    m, s = saved.manifest, saved.summary
    out.print(Text.assemble((saved.run_id, "bold"), f" ({saved.kind})"), soft_wrap=True)
    facts = Table.grid(padding=(0, 2))
    for key, value in _facts(saved):
        facts.add_row(key, str(value))
    out.print(facts)
    metrics = s.get("metrics") or ((s.get("winner") or {}).get("metrics")) or {}
    if saved.kind == "compare":
        _show_compare(s, m.get("config", {}).get("base_currency", ""))
    elif metrics:
        table = Table("metric", "value", title="headline metrics")
        for key in HEADLINE:
            if key in metrics:
                table.add_row(key, format_value(key, metrics[key], s.get("base_currency", "")))
        out.print(table)
    files = sorted(p.name for p in saved.folder.iterdir() if not p.name.startswith("."))
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
    nums = _print_side_by_side("inputs", columns, currency, extra)
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
    run_id: str = typer.Argument(..., help="run id (folder name under results/), or a prefix"),
    results: Path | None = RESULTS_OPT,
    trust_file: list[Path] = TRUST_FILE,
    trust: bool = TRUST,
) -> None:
    """Regenerate a saved run's or comparison's report.html by re-running its manifest.

    Refuses (exit 2) when its data files or results changed since it was saved. A run of your own
    strategy file re-runs that file's code only when you name it again (--trust-file) or pass
    --trust.

    Example: backtest report 20250101T120000Z-russell-fed-rotation-1a2b3c4d
    """
    from engine.store.saved import Trust, regenerate_report

    with known_errors():
        consent = Trust(tuple(trust_file), trust)
        with err.status(Text(f"re-running {run_id} from its manifest…"), spinner="dots"):
            page = regenerate_report(run_id, results, _registry(), consent)
    out.print(f"report: {page}", soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Attach ``compare``, ``runs list|show`` and ``report`` to the main app."""
    app.command("compare")(compare)
    app.add_typer(runs_app, name="runs")
    app.command("report")(report)
