"""``backtest strategies list|show``, ``backtest events`` and ``backtest audit``.

A thin shell: parse, call ``engine.backtest.eventstudy`` / ``engine.strategy.audit``, print rich
tables, write files.
``register(app)`` attaches the commands to the main ``backtest`` app. ``resolve_strategy`` and
``parse_params`` are shared with ``run`` (a registered name or ``--strategy-file PATH:CLASS``).
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import Progress
from rich.table import Table

from engine.backtest.config import FILLS
from engine.cli.common import err, known_errors, out, print_warnings
from engine.cli.options import OUT_DIR, RunOptions, run_options
from engine.errors import ConfigError, StrategyError
from engine.strategy.base import Strategy
from engine.strategy.space import parse_assignments

strategies_app = typer.Typer(no_args_is_help=True, help="List and describe strategies.")

STRATEGY_ARG = typer.Argument(None, help="strategy name (see `backtest strategies list`)")
FILE_OPT = typer.Option(
    None, "--strategy-file", help="a strategy of your own: path/to/my.py:MyStrategy"
)
PARAM_OPT = typer.Option([], "--param", "-p", help="KEY=VALUE, repeatable")
RULE_OPT = typer.Option(
    None, "--rule", help="a rule file of your own: path/to/rule.toml (README: Writing rules)"
)


def parse_params(items: list[str]) -> dict[str, str]:
    """``--param KEY=VALUE`` items -> a dict (``strategy.space.parse_assignments``)."""
    return parse_assignments(items, "--param", "--param hold_days=20")


def resolve_strategy(
    name: str | None, strategy_file: str | None, rule: str | None = None
) -> type[Strategy]:
    """The class for a registered ``name``, a ``--strategy-file PATH:CLASS`` or a ``--rule
    FILE.toml`` (exactly one of the three)."""
    from engine.api.builtins import get_strategy, registry

    given = [f for f, v in (("a name", name), ("--strategy-file", strategy_file),
                            ("--rule", rule)) if v]  # fmt: skip
    if len(given) > 1:
        raise StrategyError(f"give one of a strategy name, --strategy-file or --rule; got "
                            f"{' and '.join(given)}. Drop all but one.")  # fmt: skip
    if rule:
        from engine.rules import load_rule

        return load_rule(rule)
    if strategy_file:
        from engine.strategy.file import load_strategy_file

        return load_strategy_file(strategy_file)
    if not name:
        raise StrategyError(
            f"name a strategy ({', '.join(sorted(registry()))}), or pass --strategy-file "
            "PATH:CLASS or --rule FILE.toml."
        )
    return get_strategy(name)


@strategies_app.command("list")
def strategies_list() -> None:
    """List the registered strategies. Example: backtest strategies list"""
    from engine.api.builtins import registry

    table = Table("name", "parameters", "rule")
    for name, cls in sorted(registry().items()):
        table.add_row(name, ", ".join(p.name for p in cls.params) or "-", cls.rule)
    out.print(table)
    out.print("Details: backtest strategies show NAME")


@strategies_app.command("show")
def strategies_show(
    name: str | None = STRATEGY_ARG,
    strategy_file: str | None = FILE_OPT,
    rule: str | None = RULE_OPT,
) -> None:
    """Show a strategy's rule, parameters (defaults, ranges, units) and the data it needs.

    Example: backtest strategies show russell-fed-rotation
    """
    from engine.feeds.instruments import load_instruments

    with known_errors():
        info = resolve_strategy(name, strategy_file, rule)().describe()
        instruments = load_instruments()
    out.print(info["name"], style="bold")
    out.print(info["rule"], soft_wrap=False)
    table = Table()
    for col in ("parameter", "default", "type", "allowed", "unit"):
        table.add_column(col, no_wrap=True)
    table.add_column("description", min_width=24)
    for p in info["params"]:
        table.add_row(
            p["name"], str(p["default"]), p["type"], p["range"], p["unit"], p["description"]
        )
    out.print(table if info["params"] else "No parameters.")
    data = Table("instrument", "name", "role", title="Data it needs (with default parameters)")
    for key in info["required"]:
        role = "traded" if key in info["traded"] else "signal"
        data.add_row(key, instruments[key].name if key in instruments else "?", role)
    for key, when in info["optional"].items():
        data.add_row(key, instruments[key].name if key in instruments else "?", f"when {when}")
    out.print(data)
    out.print(
        f"calendar {info['calendar']}; event-study asset {info['signal_asset']}; warm-up "
        f"{info['warmup']} sessions replayed before the first decision."
    )


def _load(strategy: str | None, strategy_file, rule, param, data_dir, fill):
    from engine.strategy.base import strategy_context

    strat = resolve_strategy(strategy, strategy_file, rule)(**parse_params(param))
    market, ctx = strategy_context(strat, data_dir, fill)
    return strat, market, ctx


def _print_study(study, show_events: bool) -> None:
    from engine.backtest.eventstudy import SUMMARY_COLUMNS, pct, summary_cells

    if show_events:
        table = Table("known (UTC)", "observed", "fill session", "entry", title=study.source)
        for h in study.config.horizons:
            table.add_column(f"{h}s", justify="right")
        for r in study.events.itertuples():
            rets = [pct(getattr(r, f"ret_{h}")) for h in study.config.horizons]
            known = r.known_utc.strftime("%Y-%m-%d %H:%M")
            observed = r.observed.date().isoformat()
            table.add_row(known, observed, str(r.fill_session.date()), "yes" * r.entry, *rets)
        out.print(table)
    summary = Table(title=f"forward returns of {study.asset}: signals vs all sessions")
    for col in SUMMARY_COLUMNS:
        summary.add_column(col, justify="right")
    for r in study.summary.itertuples():
        summary.add_row(*summary_cells(r))
    out.print(summary)
    cfg = study.config
    out.print(
        f"{study.n_events} distinct fill sessions, {study.window[0]}..{study.window[1]}, "
        f"{cfg.fill} fills; bootstrap {cfg.n_boot} resamples, seed {cfg.seed}, "
        f"{cfg.level:.0%} intervals."
    )
    for line in study.verdict:
        out.print(line, style="bold", soft_wrap=True)
    for note in study.notes:
        out.print(note, style="yellow", soft_wrap=True)


@run_options("data_dir", "start", "end", "fill", "allow_stale_open")
def events(
    strategy: str | None = STRATEGY_ARG,
    strategy_file: str | None = FILE_OPT,
    rule: str | None = RULE_OPT,
    param: list[str] = PARAM_OPT,
    options: RunOptions = ...,  # the run options an event study uses (engine.cli.options)
    seed: int = typer.Option(20250918, help="seed of the bootstrap intervals"),
    out_dir: Path | None = OUT_DIR,
    quiet: bool = typer.Option(False, "--quiet", "-q", help="print the summary only"),
) -> None:
    """Event study: every signal, the traded asset's forward returns after it (1, 5, 20, 60
    sessions) and the same horizons over all sessions; writes events.csv.

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
    _print_study(study, show_events=not quiet)
    out.print(f"events: {folder / 'events.csv'}", soft_wrap=True)


@run_options("data_dir", "fill")
def audit(
    strategy: str | None = STRATEGY_ARG,
    strategy_file: str | None = FILE_OPT,
    rule: str | None = RULE_OPT,
    param: list[str] = PARAM_OPT,
    options: RunOptions = ...,  # the run options a lookahead audit uses (engine.cli.options)
    seed: int = typer.Option(0, help="seed for the cut instants inside gaps"),
) -> None:
    """Lookahead audit: cut all data after many instants; decisions before each cut must not
    change. Exit 0 on pass, 1 naming the first decision that moved.

    Example: backtest audit russell-fed-rotation
    """
    from engine.strategy import audit as audit_mod

    with known_errors():
        if options.fill not in FILLS:
            raise ConfigError(f"--fill must be 'open' or 'close'; got {options.fill!r}.")
        strat, _, ctx = _load(strategy, strategy_file, rule, param, options.data_dir, options.fill)
        with Progress(console=err, transient=True) as bar:
            task = bar.add_task(f"auditing {strat.name}", total=None)
            result = audit_mod.audit(
                strat, ctx, seed=seed, progress=lambda i, n: bar.update(task, completed=i, total=n)
            )
    if result.passed:
        out.print(result.message(), style="green", soft_wrap=True)
        return
    out.print(result.message(), style="bold red", soft_wrap=True)
    raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Attach ``strategies ...``, ``events`` and ``audit`` to the main app."""
    app.add_typer(strategies_app, name="strategies")
    app.command("events")(events)
    app.command("audit")(audit)
