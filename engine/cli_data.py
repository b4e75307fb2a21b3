"""``backtest data ...``: work with data folders (regenerate the synthetic sample).

``register(app)`` adds this module's commands to the main ``backtest`` app.
"""

from __future__ import annotations

from pathlib import Path

import typer

from engine.cli_common import known_errors, out

data_app = typer.Typer(no_args_is_help=True, help="Work with data folders.")


@data_app.command("sample")
def data_sample(
    out_folder: Path | None = typer.Option(None, "--out", help="folder (default data/sample)"),
    seed: int | None = typer.Option(None, help="generator seed (default: the project's seed)"),
) -> None:
    """Regenerate the synthetic sample data, byte for byte. Example: backtest data sample"""
    from engine import sample

    with known_errors():
        folder = sample.write_sample(out_folder, seed if seed is not None else sample.SEED)
    out.print(f"wrote synthetic sample data to {folder}")


def register(app: typer.Typer) -> None:
    """Attach ``data ...`` to the main app."""
    app.add_typer(data_app, name="data")
