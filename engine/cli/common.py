"""Shared pieces of the ``backtest`` CLI: consoles and the one way a known error ends a command.

Known errors (``BacktestError``) print one line to stderr and exit 2 with no traceback.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager

import pandas as pd
import typer
from rich.console import Console
from rich.text import Text

from engine.errors import BacktestError, ConfigError
from engine.feeds.readers import FIRST_DATE, LAST_DATE

# Run options shared by run, grid and compare (one declaration, one help text each).
DATA_DIR = typer.Option(None, help="data folder (default: the synthetic sample)")
START = typer.Option(None, help="first session, YYYY-MM-DD")
END = typer.Option(None, help="last session, YYYY-MM-DD")
BASE_CURRENCY = typer.Option("AUD", help="currency the portfolio is valued in")
FEES_BPS = typer.Option(10.0, help="fees in basis points of traded value")
SLIPPAGE_BPS = typer.Option(5.0, help="slippage in basis points of the price")
FILL = typer.Option("open", help="fill at the session's open or close")
BENCHMARK = typer.Option("XJO", help="instrument key bought and held for comparison")
MIN_FEE = typer.Option(0.0, help="minimum fee per order, in base currency")
BAND = typer.Option(0.0, help="skip orders within this weight of their target")
MAX_LEVERAGE = typer.Option(1.0, help="gross exposure cap (1 = no borrowing)")
INIT_CASH = typer.Option(100_000.0, help="starting cash in base currency")
OUT_DIR = typer.Option(None, "--out", help="results root (default ./results)")
ALLOW_STALE_OPEN = typer.Option(
    False,
    "--allow-stale-open",
    help="fill at opens even where most equal the previous close (not tradable; recorded)",
)

# No markup: user text (a parameter, a run id, a file or folder name, a data cell) is printed as it
# is, never parsed as rich markup ("[/x]" in a value once crashed the error path itself).
out = Console(highlight=False, markup=False)
err = Console(stderr=True, highlight=False, markup=False)
SYNTHETIC_LINE = Text.assemble(
    ("synthetic sample data", "yellow"), ": numbers illustrate the engine, not the market."
)


def fail(message: str, code: int = 2) -> None:
    err.print(Text.assemble(("error:", "bold red"), " ", message), soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def known_errors() -> Iterator[None]:
    """Map ``BacktestError`` to exit 2 and Ctrl-C to exit 130, each with a one-line message; so
    are the two errors only a path typed by the user can cause (a NUL byte, a name too long)."""
    try:
        yield
    except BacktestError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        fail("interrupted; nothing was written.", code=130)
    except ValueError as exc:
        if "null byte" not in str(exc):
            raise
        fail("a path given contains a NUL byte; type the path again.")
    except OSError as exc:
        if exc.errno not in (errno.ENAMETOOLONG, errno.ELOOP):
            raise
        fail(f"a path given cannot be used ({exc.strerror}: {_short(exc.filename)}); shorten it.")


def _short(value) -> str:
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def number(value, spec: str = ".2f") -> str:
    """A number for the console; undefined (NaN or None) reads n/a, as in the reports."""
    return "n/a" if value is None or value != value else format(value, spec)


def print_warnings(warnings, where: str) -> None:
    """Warnings on stderr: how many, the first few, where the rest are (user text, no markup)."""
    from engine.backtest.diagnostics import warning_lines

    for i, line in enumerate(warning_lines(list(warnings), where)):
        err.print(line, style="yellow" if i else "bold yellow", soft_wrap=True)


# Dates a window may name: the same bounds as a data file's dates (pandas ends in 2262).
FIRST_DAY, LAST_DAY = FIRST_DATE, LAST_DATE


def parse_date(text: str | None, flag: str) -> pd.Timestamp | None:
    """A ``--start``/``--end`` style date, or None; a clear error for anything else."""
    if text is None:
        return None
    try:
        day = pd.Timestamp(text)
    except (ValueError, OverflowError):
        raise ConfigError(f"{flag} {text!r} is not a date; use YYYY-MM-DD.") from None
    if day is pd.NaT or not FIRST_DAY <= day.tz_localize(None) <= LAST_DAY:
        raise ConfigError(
            f"{flag} {text!r} is outside {FIRST_DAY.date()}..{LAST_DAY.date()}, the dates a run "
            "can cover; use YYYY-MM-DD within them."
        )
    return day.tz_localize(None).as_unit("ns")


def config_from(values: dict):
    """A ``RunConfig`` from a command's option values (any extra names are ignored)."""
    from engine.backtest.run import RunConfig

    fields = RunConfig.__dataclass_fields__
    picked = {k: v for k, v in values.items() if k in fields}
    picked["start"] = parse_date(values.get("start"), "--start")
    picked["end"] = parse_date(values.get("end"), "--end")
    return RunConfig(**picked)
