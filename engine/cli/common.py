"""Shared pieces of the ``backtest`` CLI: consoles and the one way a known error ends a command.

The run options the commands share are declared once, in ``engine.cli.options``.

Known errors (``BacktestError``) print one line to stderr and exit 2 with no traceback.
"""

from __future__ import annotations

import errno
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.text import Text

from engine.errors import BacktestError


class _Stdout:
    """``sys.stdout`` as it is at each write (tests swap it), where a reader that has gone away
    (``backtest strategies list | head -1``) ends the output, not the command: the rest is dropped
    and the command finishes as it would have - exit 0, no traceback."""

    def __getattr__(self, name: str):
        return getattr(sys.stdout, name)

    def write(self, text: str) -> int:
        try:
            return sys.stdout.write(text)
        except BrokenPipeError:
            _reader_gone()
            return len(text)

    def flush(self) -> None:
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            _reader_gone()


def _reader_gone() -> None:
    """Point the standard output at the null device, so what is still buffered drains there."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError, AttributeError):  # no file descriptor (a test's buffer)
        pass


def write_stdout(text: str) -> None:
    """Text as it is on standard output (a JSON or CSV document, a path): no rich rendering."""
    stdout.write(text)
    stdout.flush()


stdout = _Stdout()
# No markup: user text (a parameter, a run id, a file or folder name, a data cell) is printed as it
# is, never parsed as rich markup ("[/x]" in a value once crashed the error path itself).
out = Console(file=stdout, highlight=False, markup=False)
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
