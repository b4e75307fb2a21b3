"""How every command prints its results: ``--format table|json|csv``, one path for all of them.

Lives here: ``FORMAT_OPT`` (the option), ``Sheet`` (one table of raw values: a header and rows),
``emit`` (the one printing path: rich tables for people, one JSON document, or CSV), ``say``
(the console a command's other lines go to: stdout for a table, stderr for json/csv, so stdout
holds the document and nothing else) and ``print_table`` (a rich table that never cuts a cell:
folded on a narrow terminal, plain complete rows when stdout is not a terminal).

JSON is one document, NaN and infinities as null, dates ISO; CSV is a header and complete rows
of raw values (fractions as fractions, an undefined value empty). Tables show values the way
``engine.stats.spec.format_value`` does. Not here: what each command's rows hold.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from engine.cli.common import err, fail, out, write_stdout
from engine.errors import did_you_mean

FORMATS: tuple[str, ...] = ("table", "json", "csv")
Format = str  # one of FORMATS (checked as the option is read, with a suggestion)


def format_option(*choices: str, help: str) -> Any:
    """A ``--format`` option taking one of ``choices``, listed in --help; another value ends the
    command before it runs, with the usual one-line error (exit 2)."""

    def check(value: str) -> str:
        if value not in choices:
            fail(
                f"--format {value!r} is not one of {', '.join(choices)}."
                f"{did_you_mean(str(value), choices)}"
            )
        return value

    metavar = f"[{'|'.join(choices)}]"
    return typer.Option(choices[0], "--format", metavar=metavar, callback=check, help=help,
                        autocompletion=completer(choices))  # fmt: skip


def completer(choices: Sequence[str]) -> Callable[[str], list[str]]:
    """Shell completion of an option with fixed values: the choices that start as typed."""

    def complete(incomplete: str) -> list[str]:
        return [c for c in choices if c.startswith(incomplete)]

    return complete


FORMAT_OPT = format_option(
    *FORMATS,
    help="table (for reading), json (one document on stdout) or csv (a header and complete rows)",
)
WIDE = 100_000  # the width a table is laid out in when stdout is not a terminal: never cut


@dataclass(frozen=True)
class Sheet:
    """One table of raw values: ``columns`` and ``rows`` (each a sequence in column order)."""

    columns: Sequence[str]
    rows: Sequence[Sequence[Any]]

    @classmethod
    def of(cls, records: Sequence[Mapping[str, Any]], columns: Sequence[str] = ()) -> Sheet:
        """A sheet of dicts, columns in the first record's order unless given."""
        columns = list(columns or (records[0] if records else ()))
        return cls(columns, [[r.get(c) for c in columns] for r in records])

    def records(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


def say(output_format: str) -> Console:
    """Where a command's lines other than its results go: stdout for a table, else stderr."""
    return out if output_format == "table" else err


def emit(
    output_format: str,
    table: Callable[[], None],
    sheet: Callable[[], Sheet],
    doc: Callable[[], Any] | None = None,
) -> None:
    """Print a command's results: ``table()`` prints them for people; ``sheet()`` is the CSV
    (and, without ``doc``, the JSON: a list of one object per row); ``doc()`` the JSON document."""
    if output_format == "json":
        write_json(doc() if doc is not None else sheet().records())
    elif output_format == "csv":
        write_csv(sheet())
    else:
        table()


def jsonable(value: Any) -> Any:
    """``value`` as JSON can hold it: NaN/inf null, numpy scalars Python's, dates ISO text."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    if hasattr(value, "item") and hasattr(value, "dtype"):  # a numpy scalar
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def write_json(doc: Any) -> None:
    write_stdout(json.dumps(jsonable(doc), indent=2, allow_nan=False, ensure_ascii=False) + "\n")


def _cell(value: Any) -> str:
    value = jsonable(value)
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return "true" if value is True else "false" if value is False else str(value)


def write_csv(sheet: Sheet) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(sheet.columns)
    writer.writerows([_cell(v) for v in row] for row in sheet.rows)
    write_stdout(buffer.getvalue())


def print_table(table: Table, console: Console = out) -> None:
    """Print a rich table without cutting a cell: on a terminal too narrow for it, cells fold onto
    more lines; when the output is not a terminal, plain rows, each complete on one line."""
    for column in table.columns:
        column.overflow = "fold"
        column.no_wrap = False
    if console.is_terminal:
        console.print(table)
        return
    table.box, table.show_edge, table.pad_edge = None, False, False
    buffer = io.StringIO()
    Console(file=buffer, width=WIDE, highlight=False, markup=False, color_system=None).print(table)
    text = "".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines())
    console.file.write(text)
    console.file.flush()
