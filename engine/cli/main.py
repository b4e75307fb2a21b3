"""The ``backtest`` command: a thin shell that parses, calls the library, writes files, maps errors.

Known errors (``BacktestError``) print one line to stderr and exit 2 with no traceback; Ctrl-C exits
130 and leaves no half-written run folder (``runfiles`` writes atomically). Bugs propagate.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import typer
from rich.table import Table

from engine.cli import data as cli_data
from engine.cli import grid as cli_grid
from engine.cli import runs as cli_runs
from engine.cli import strategies as cli_strategies
from engine.cli.common import SYNTHETIC_LINE, err, known_errors, out, print_warnings
from engine.cli.options import OUT_DIR, RunOptions, run_options
from engine.cli.strategies import FILE_OPT, RULE_OPT
from engine.errors import ConfigError
from engine.stats.spec import HEADLINE, format_value

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="crosscurrent: cross-market, event-driven backtests.",
)
cli_strategies.register(app)
cli_data.register(app)
cli_grid.register(app)
cli_runs.register(app)


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
    output_format: str = typer.Option(
        "table", "--format", metavar="[table|json]", help="table, or json (the summary)"
    ),
) -> None:
    """Run one backtest and write results/<run-id>/.

    Example: backtest run russell-fed-rotation --param hold_days=40 --start 2010-01-01
    """
    from engine.backtest.run import run_backtest
    from engine.cli.strategies import parse_params, resolve_strategy
    from engine.store.run_folder import write_run

    with known_errors():
        if output_format not in ("table", "json"):
            raise ConfigError(f"--format must be table or json; got {output_format!r}.")
        cls = resolve_strategy(strategy, strategy_file, rule)
        strat = cls(**parse_params(param))
        cfg = options.config()
        with err.status("simulating…", spinner="dots") if not quiet else _null():
            res = run_backtest(strat, cfg)
            folder = write_run(res, out_dir)
    if quiet:
        typer.echo(str(folder))
        return
    print_warnings(res.warnings, f"{folder / 'summary.json'}")
    if output_format == "json":
        typer.echo((folder / "summary.json").read_text(encoding="utf-8"), nl=False)
        return
    _print_metrics(res, folder)


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _print_metrics(res, folder: Path) -> None:
    m = res.metrics
    first, last = res.sim.equity.index[0].date(), res.sim.equity.index[-1].date()
    title = f"{res.strategy.name}  {first} .. {last}  ({res.config.base_currency})"
    table = Table(title=title, show_header=True)
    table.add_column("metric")
    table.add_column("strategy", justify="right")
    bench = res.benchmark.equity
    table.add_column(f"buy-and-hold {res.config.benchmark}", justify="right")
    b_total = bench.iloc[-1] / res.sim.init_cash - 1
    for key in HEADLINE:
        bench = format_value(key, b_total) if key == "total_return" else ""
        table.add_row(key, format_value(key, m[key]), bench)
    out.print(table)
    for line in (
        res.activity.get("sentence"),
        res.fill_sensitivity and res.fill_sensitivity.sentence(),
    ):
        if line:
            out.print(line, soft_wrap=True)
    if res.market.synthetic:
        out.print(SYNTHETIC_LINE)
    out.print(f"results: {folder}", soft_wrap=True)


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
