"""``backtest strategies ...``: list and describe the registered strategies.

``register(app)`` adds this module's top-level commands to the main ``backtest`` app.
"""

from __future__ import annotations

import typer
from rich.table import Table

from engine.cli_common import out

strategies_app = typer.Typer(no_args_is_help=True, help="List and describe strategies.")


@strategies_app.command("list")
def strategies_list() -> None:
    """List the registered strategies. Example: backtest strategies list"""
    from strategies import REGISTRY

    table = Table("name", "rule")
    for name, cls in sorted(REGISTRY.items()):
        table.add_row(name, cls.rule)
    out.print(table)


def register(app: typer.Typer) -> None:
    """Attach ``strategies ...`` (and any top-level strategy commands) to the main app."""
    app.add_typer(strategies_app, name="strategies")
