"""``backtest compare``: strategies, variants and saved runs side by side on the same data.

A thin shell: parse, call ``engine.research.compare``, print (``engine.cli.output``), write
files. Also here, shared with ``runs show`` and ``report``: ``print_side_by_side`` (inputs
numbered once, their metrics by number), the ``--trust``/``--trust-file`` options and
``registry``. ``register(app)`` attaches the command to the main app.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from engine.cli.common import (
    SYNTHETIC_LINE,
    err,
    known_errors,
    number,
    out,
    print_warnings,
    write_stdout,
)
from engine.cli.options import OUT_DIR, RunOptions, run_options
from engine.cli.output import FORMAT_OPT, Format, Sheet, emit, print_table, say
from engine.stats.spec import HEADLINE, METRICS, format_value

TRUST_FILE = typer.Option(
    [], "--trust-file", help="your strategy file a saved run used: run it (SHA-256 checked)"
)
TRUST = typer.Option(False, "--trust", help="run the strategy files saved runs name (code!)")


def registry():
    from engine.api.builtins import registry

    return registry()


@run_options(config_file=True)
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
    output_format: Format = FORMAT_OPT,
) -> None:
    """Run strategies side by side on the same data and window; test their Sharpe differences.

    json: the comparison's compare.json; csv: one row per input (and the benchmark), every metric.

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
        specs = resolve_inputs(inputs or [], registry(), results or out_dir, consent, extra)
        check_writable(out_dir)
        cmp, folder = _run_with_progress(specs, cfg, boot, out_dir, quiet)
    if quiet:
        write_stdout(f"{folder}\n")
        return
    warnings = list(dict.fromkeys(w for res in cmp.results for w in res.warnings))
    print_warnings(warnings, str(folder / "compare.json"))
    emit(
        output_format,
        lambda: _print_compare(cmp, set(warnings)),
        lambda: _sheet(cmp),
        lambda: json.loads((folder / "compare.json").read_text(encoding="utf-8")),
    )
    console = say(output_format)
    if cmp.synthetic:
        console.print(SYNTHETIC_LINE)
    console.print(f"results: {folder}", soft_wrap=True)


def _sheet(cmp) -> Sheet:
    """One row per input, then the benchmark's: its number, label and every metric."""
    rows = [
        {"input": f"#{n}", "label": i.label, **r.metrics}
        for n, (i, r) in enumerate(zip(cmp.inputs, cmp.results, strict=True), start=1)
    ]
    bench = f"buy-and-hold {cmp.config.benchmark}"
    rows.append({"input": "benchmark", "label": bench, **cmp.benchmark_metrics})
    return Sheet.of(rows, ("input", "label", *METRICS))


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


def print_side_by_side(title: str, columns: dict, currency: str, extra=None) -> list[str]:
    """A numbered legend of the inputs, then their metrics by number; returns the numbers."""
    legend = Table("#", "input", title=title)
    for n, label in enumerate(columns, start=1):
        legend.add_row(str(n), label)
    print_table(legend)
    nums = [f"#{n}" for n in range(1, len(columns) + 1)]
    table = Table("metric", *nums, *([extra[0]] if extra else []), title="metrics")
    for key in HEADLINE:
        cells = [format_value(key, m.get(key), currency) for m in columns.values()]
        bench = [format_value(key, extra[1].get(key), currency)] if extra else []
        table.add_row(key, *cells, *bench)
    print_table(table)
    return nums


def _print_compare(cmp, printed: set[str] = frozenset()) -> None:
    """Inputs numbered once (labels can be long), then every table by number."""
    currency = cmp.config.base_currency
    first, last = cmp.equity.index[0].date(), cmp.equity.index[-1].date()
    title = f"{first} .. {last}, {len(cmp.equity)} common sessions, valued in {currency}"
    columns = {i.label: r.metrics for i, r in zip(cmp.inputs, cmp.results, strict=True)}
    bench = (f"buy-and-hold {cmp.config.benchmark}", cmp.benchmark_metrics)
    nums = print_side_by_side(title, columns, currency, bench)
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
    print_table(tests)
    corr = Table("", *nums, title="correlation of daily returns")
    for num, row in zip(nums, cmp.correlations.to_numpy(), strict=True):
        corr.add_row(num, *(number(v, ".2f") for v in row))
    print_table(corr)
    for note in (n for n in cmp.notes if n not in printed):
        out.print(Text.assemble(("note", "yellow"), f": {note}"), soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Attach ``compare`` to the main app."""
    app.command("compare")(compare)
