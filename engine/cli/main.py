"""The ``backtest`` command: a thin shell that parses, calls the library, writes files, maps errors.

Known errors (``BacktestError``) print one line to stderr and exit 2 with no traceback; Ctrl-C exits
130 and leaves no half-written run folder (``store.run_folder`` writes atomically). Bugs propagate.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from contextlib import nullcontext
from pathlib import Path

import typer
from rich.table import Table

from engine.cli import data as cli_data
from engine.cli import grid as cli_grid
from engine.cli import runs as cli_runs
from engine.cli import strategies as cli_strategies
from engine.cli import study as cli_study
from engine.cli.common import SYNTHETIC_LINE, err, known_errors, print_warnings, write_stdout
from engine.cli.options import OUT_DIR, RunOptions, run_options
from engine.cli.output import FORMAT_OPT, Format, Sheet, emit, print_table, say
from engine.cli.strategies import FILE_OPT, RULE_OPT
from engine.stats.spec import HEADLINE, format_value

app = typer.Typer(
    no_args_is_help=True,
    help="crosscurrent: cross-market, event-driven backtests.",
)
cli_strategies.register(app)
cli_study.register(app)
cli_data.register(app)
cli_grid.register(app)
cli_runs.register(app)


def version() -> str:
    """The installed package's version (the source tree's when it is not installed)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("crosscurrent")
    except PackageNotFoundError:
        return "unknown (not installed; pip install -e .)"


def _print_version(given: bool) -> None:
    if given:
        write_stdout(f"crosscurrent {version()}\n")
        raise typer.Exit()


@app.callback()
def _main(
    show_version: bool = typer.Option(
        False, "--version", is_eager=True, callback=_print_version, help="print the version, exit"
    ),
) -> None:
    """crosscurrent: cross-market, event-driven backtests."""


@app.command()
@run_options(config_file=True)
def run(
    strategy: str | None = typer.Argument(None, help="strategy name, e.g. russell-fed-rotation"),
    param: list[str] = typer.Option([], "--param", "-p", help="KEY=VALUE, repeatable"),
    strategy_file: str | None = FILE_OPT,
    rule: str | None = RULE_OPT,
    options: RunOptions = ...,  # the run options (engine.cli.options), with --config
    out_dir: Path | None = OUT_DIR,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="print only the run folder"),
    output_format: Format = FORMAT_OPT,
) -> None:
    """Run one backtest and write results/<run-id>/.

    json: the run's summary.json; csv: one row per metric (metric, strategy, benchmark).

    Example: backtest run russell-fed-rotation --param hold_days=40 --start 2010-01-01
    """
    from engine.backtest.run import run_backtest
    from engine.cli.strategies import parse_params, resolve_strategy
    from engine.store.run_folder import write_run

    with known_errors():
        cls = resolve_strategy(strategy, strategy_file, rule)
        strat = cls(**parse_params(param))
        cfg = options.config()
        with err.status("simulating…", spinner="dots") if not quiet else nullcontext():
            res = run_backtest(strat, cfg)
            folder = write_run(res, out_dir)
    if quiet:
        write_stdout(f"{folder}\n")
        return
    print_warnings(res.warnings, f"{folder / 'summary.json'}")
    b_total = res.benchmark.equity.iloc[-1] / res.sim.init_cash - 1
    rows = [(k, v, b_total if k == "total_return" else None) for k, v in res.metrics.items()]
    emit(
        output_format,
        lambda: _print_metrics(res, b_total),
        lambda: Sheet(("metric", "strategy", f"buy_and_hold_{res.config.benchmark}"), rows),
        lambda: json.loads((folder / "summary.json").read_text(encoding="utf-8")),
    )
    console = say(output_format)
    if res.market.synthetic:
        console.print(SYNTHETIC_LINE)
    console.print(f"results: {folder}", soft_wrap=True)


def _print_metrics(res, b_total: float) -> None:
    m = res.metrics
    first, last = res.sim.equity.index[0].date(), res.sim.equity.index[-1].date()
    title = f"{res.strategy.name}  {first} .. {last}  ({res.config.base_currency})"
    table = Table(title=title, show_header=True)
    table.add_column("metric")
    table.add_column("strategy", justify="right")
    table.add_column(f"buy-and-hold {res.config.benchmark}", justify="right")
    for key in HEADLINE:
        bench = format_value(key, b_total) if key == "total_return" else ""
        table.add_row(key, format_value(key, m[key]), bench)
    print_table(table)
    for line in (
        res.activity.get("sentence"),
        res.fill_sensitivity and res.fill_sensitivity.sentence(),
    ):
        if line:
            say("table").print(line, soft_wrap=True)


def exit_code(exc: SystemExit) -> int:
    """The process exit code ``sys.exit`` would give for ``exc`` (printing a text code)."""
    if exc.code is None or isinstance(exc.code, int):
        return exc.code or 0
    print(exc.code, file=sys.stderr)
    return 1


def _terminated(signum, frame) -> None:
    raise SystemExit(128 + signum)


def main() -> None:
    """The ``backtest`` console command: the app, then an immediate exit.

    When a command returns, every file it wrote is closed and in place and any cluster is shut
    down; tearing the interpreter down (pandas, numba, plotly and the loaded kernels) would add
    ~0.3 s to every command, so the output streams are flushed and the process ends at once.
    """
    # SIGTERM unwinds like Ctrl-C, so a half-written result folder is removed on the way out.
    signal.signal(signal.SIGTERM, _terminated)
    try:
        app()
        code = 0
    except SystemExit as exc:
        code = exit_code(exc)
        # The parser's own output (--help) to a reader that went away: rich (or click) ends it
        # with exit 1; like every command's output, a closed pipe is no failure.
        if code == 1 and (
            isinstance(exc.__context__, BrokenPipeError)
            or type(sys.stdout).__name__ == "PacifyFlushWrapper"
        ):
            code = 0
    except ValueError as exc:  # typer converts path options before any command code runs
        if "null byte" not in str(exc):
            raise
        err.print("error: a path given contains a NUL byte; type the path again.", style="red")
        code = 2
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe or stream: nothing left to say
            pass
    os._exit(code)
