"""``backtest strategies list|show``, and how every command names its strategy.

A thin shell: parse, describe, print (``engine.cli.output``). ``register(app)`` attaches the
commands to the main ``backtest`` app. ``resolve_strategy`` and ``parse_params`` are shared with
``run``, ``grid``, ``events`` and ``audit`` (a registered name, ``--strategy-file PATH:CLASS`` or
``--rule FILE.toml``).
"""

from __future__ import annotations

import typer
from rich.table import Table

from engine.cli.common import known_errors, out
from engine.cli.output import FORMAT_OPT, Format, Sheet, emit, print_table
from engine.errors import StrategyError
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
def strategies_list(output_format: Format = FORMAT_OPT) -> None:
    """List the registered strategies. Example: backtest strategies list"""
    from engine.api.builtins import registry

    rows = [
        {"name": name, "parameters": ", ".join(p.name for p in cls.params), "rule": cls.rule}
        for name, cls in sorted(registry().items())
    ]

    def table() -> None:
        table = Table("name", "parameters", "rule")
        for r in rows:
            table.add_row(r["name"], r["parameters"] or "-", r["rule"])
        print_table(table)
        out.print("Details: backtest strategies show NAME")

    emit(output_format, table, lambda: Sheet.of(rows, ("name", "parameters", "rule")))


PARAM_COLUMNS = ("name", "default", "type", "range", "unit", "description")


@strategies_app.command("show")
def strategies_show(
    name: str | None = STRATEGY_ARG,
    strategy_file: str | None = FILE_OPT,
    rule: str | None = RULE_OPT,
    output_format: Format = FORMAT_OPT,
) -> None:
    """Show a strategy's rule, parameters (defaults, ranges, units) and the data it needs.

    csv: one row per parameter. Example: backtest strategies show russell-fed-rotation
    """
    from engine.feeds.instruments import load_instruments

    with known_errors():
        info = resolve_strategy(name, strategy_file, rule)().describe()
        instruments = load_instruments()
    data = [
        {"instrument": key, "name": instruments[key].name if key in instruments else "?",
         "role": "traded" if key in info["traded"] else "signal"}
        for key in info["required"]
    ] + [
        {"instrument": key, "name": instruments[key].name if key in instruments else "?",
         "role": f"when {when}"}
        for key, when in info["optional"].items()
    ]  # fmt: skip
    params = Sheet.of(info["params"], PARAM_COLUMNS)
    emit(
        output_format,
        lambda: _print_strategy(info, params, data),
        lambda: params,
        lambda: {**info, "data": data},
    )


def _print_strategy(info: dict, params: Sheet, data: list[dict]) -> None:
    out.print(info["name"], style="bold", soft_wrap=True)
    out.print(info["rule"], soft_wrap=not out.is_terminal)
    table = Table("parameter", "default", "type", "allowed", "unit", "description")
    for row in params.rows:
        table.add_row(*map(str, row))
    if info["params"]:
        print_table(table)
    else:
        out.print("No parameters.")
    needs = Table("instrument", "name", "role", title="Data it needs (with default parameters)")
    for r in data:
        needs.add_row(r["instrument"], r["name"], r["role"])
    print_table(needs)
    out.print(
        f"calendar {info['calendar']}; event-study asset {info['signal_asset']}; warm-up "
        f"{info['warmup']} sessions replayed before the first decision.",
        soft_wrap=True,
    )


def register(app: typer.Typer) -> None:
    """Attach ``strategies list|show`` to the main app."""
    app.add_typer(strategies_app, name="strategies")
