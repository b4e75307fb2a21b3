"""``backtest events`` (an event study) and ``backtest audit`` (the lookahead audit).

A thin shell: parse, call ``engine.backtest.study`` / ``engine.strategy.audit``, print
(``engine.cli.output``), write files. ``register(app)`` attaches the commands to the main app.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import Progress
from rich.table import Table

from engine.backtest.config import FILLS
from engine.cli.common import err, known_errors, print_warnings
from engine.cli.options import OUT_DIR, RunOptions, run_options
from engine.cli.output import (
    FORMAT_OPT,
    Format,
    Sheet,
    emit,
    format_option,
    print_table,
    say,
    write_json,
)
from engine.cli.strategies import (
    FILE_OPT,
    PARAM_OPT,
    RULE_OPT,
    STRATEGY_ARG,
    parse_params,
    resolve_strategy,
)
from engine.errors import ConfigError

VERDICT_OPT = format_option(  # an audit's result is one verdict: no csv
    "table", "json", help="table (a sentence) or json (passed, checked, cuts, message)"
)


def _frame_sheet(frame) -> Sheet:
    return Sheet(list(frame.columns), frame.astype(object).to_numpy().tolist())


def _print_study(study, show_events: bool) -> None:
    from engine.backtest.eventstudy import SUMMARY_COLUMNS, pct, summary_cells

    console = say("table")
    if show_events:
        table = Table("known (UTC)", "observed", "fill session", "entry", title=study.source)
        for h in study.config.horizons:
            table.add_column(f"{h}s", justify="right")
        for r in study.events.itertuples():
            rets = [pct(getattr(r, f"ret_{h}")) for h in study.config.horizons]
            known = r.known_utc.strftime("%Y-%m-%d %H:%M")
            observed = r.observed.date().isoformat()
            table.add_row(known, observed, str(r.fill_session.date()), "yes" * r.entry, *rets)
        print_table(table)
    summary = Table(title=f"forward returns of {study.asset}: signals vs all sessions")
    for col in SUMMARY_COLUMNS:
        summary.add_column(col, justify="right")
    for r in study.summary.itertuples():
        summary.add_row(*summary_cells(r))
    print_table(summary)
    cfg = study.config
    console.print(
        f"{study.n_events} distinct fill sessions, {study.window[0]}..{study.window[1]}, "
        f"{cfg.fill} fills; bootstrap {cfg.n_boot} resamples, seed {cfg.seed}, "
        f"{cfg.level:.0%} intervals.",
        soft_wrap=True,
    )
    for line in study.verdict:
        console.print(line, style="bold", soft_wrap=True)
    for note in study.notes:
        console.print(note, style="yellow", soft_wrap=True)


@run_options("data_dir", "start", "end", "fill", "allow_stale_open", config_file=True)
def events(
    strategy: str | None = STRATEGY_ARG,
    strategy_file: str | None = FILE_OPT,
    rule: str | None = RULE_OPT,
    param: list[str] = PARAM_OPT,
    options: RunOptions = ...,  # the run options an event study uses (engine.cli.options)
    seed: int = typer.Option(20250918, help="seed of the bootstrap intervals"),
    out_dir: Path | None = OUT_DIR,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="print the summary only"),
    output_format: Format = FORMAT_OPT,
) -> None:
    """Event study: every signal, the traded asset's forward returns after it (1, 5, 20, 60
    sessions) and the same horizons over all sessions; writes events.csv.

    json: the study, its summary and every event; csv: the events (with --quiet, the summary).

    Example: backtest events russell-fed-rotation --param cut_window_days=60
    """
    from engine import paths
    from engine.backtest.eventstudy import StudyConfig
    from engine.backtest.study import study as run_study
    from engine.store.event_folder import write_event_study

    with known_errors():
        fill = options.fill
        start, end = options.date("start"), options.date("end")
        cfg = StudyConfig(fill=fill, seed=seed, start=start, end=end)
        strat = resolve_strategy(strategy, strategy_file, rule)(**parse_params(param))
        with err.status("bootstrapping…", spinner="dots"):
            study, market = run_study(strat, options.data_dir, cfg, options.allow_stale_open)
            folder = write_event_study(study, out_dir or paths.results_root())
    print_warnings(list(market.notes), "`backtest data validate` on the data folder")
    summary, rows = _frame_sheet(study.summary), _frame_sheet(study.events)
    emit(
        output_format,
        lambda: _print_study(study, show_events=not quiet),
        lambda: summary if quiet else rows,
        lambda: {**study.meta(), "summary": summary.records(), "events": rows.records()},
    )
    say(output_format).print(f"events: {folder / 'events.csv'}", soft_wrap=True)


@run_options("data_dir", "fill", config_file=True)
def audit(
    strategy: str | None = STRATEGY_ARG,
    strategy_file: str | None = FILE_OPT,
    rule: str | None = RULE_OPT,
    param: list[str] = PARAM_OPT,
    options: RunOptions = ...,  # the run options a lookahead audit uses (engine.cli.options)
    seed: int = typer.Option(0, help="seed for the cut instants inside gaps"),
    output_format: Format = VERDICT_OPT,
) -> None:
    """Lookahead audit: cut all data after many instants; decisions before each cut must not
    change. Exit 0 on pass, 1 naming the first decision that moved.

    Example: backtest audit russell-fed-rotation
    """
    from engine.strategy import audit as audit_mod
    from engine.strategy.base import strategy_context

    with known_errors():
        if options.fill not in FILLS:
            raise ConfigError(f"--fill must be 'open' or 'close'; got {options.fill!r}.")
        strat = resolve_strategy(strategy, strategy_file, rule)(**parse_params(param))
        _, ctx = strategy_context(strat, options.data_dir, options.fill)
        with Progress(console=err, transient=True) as bar:
            task = bar.add_task(f"auditing {strat.name}", total=None)
            result = audit_mod.audit(
                strat, ctx, seed=seed, progress=lambda i, n: bar.update(task, completed=i, total=n)
            )
    if output_format == "json":
        write_json({"strategy": result.strategy, "passed": result.passed,
                    "checked": result.checked, "cuts": len(result.cuts),
                    "seconds": result.seconds, "message": result.message()})  # fmt: skip
    else:
        style = "green" if result.passed else "bold red"
        say(output_format).print(result.message(), style=style, soft_wrap=True)
    if not result.passed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Attach ``events`` and ``audit`` to the main app."""
    app.command("events")(events)
    app.command("audit")(audit)
