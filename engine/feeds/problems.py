"""What a data check finds, and what every check reads.

Lives here: ``Problem`` (severity, file, row, column, value, message, fix; one line when printed) and
``CheckContext`` (one read file, its instrument, its thresholds and its dates, with a helper that
turns a row index into a ``Problem``). The checks themselves live in ``validate`` (order, values,
calendar, gaps, stale runs, volume), ``validate_bars`` (price moves: closes, and opens, highs and lows
against the closes around them) and ``validate_levels`` (units of rates, rate jumps, plausible
levels). Not here: reading files (``readers``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.feeds.instruments import Instrument
from engine.feeds.readers import Table

SEVERITIES = ("error", "warning", "note")


@dataclass(frozen=True)
class Problem:
    """One finding. ``row`` is the line in the file (header = 1); None for the whole file."""

    severity: str
    file: str
    row: int | None
    column: str | None
    value: object
    message: str
    fix: str
    check: str = ""

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity {self.severity!r} is not one of {SEVERITIES}")

    def where(self) -> str:
        if self.row is not None and self.column == "date":
            return f"row {self.row} (date {self.value})"
        if self.row is not None:
            return f"row {self.row}, column {self.column}"
        return f"column {self.column}" if self.column else ""

    def line(self, extra: str = "") -> str:
        """``file: where: message; fix`` on one line; ``extra`` goes before the fix."""
        where = self.where()
        sep = " " if self.column == "date" and self.row is not None else ": "
        head = f"{self.file}: {where}{sep}" if where else f"{self.file}: "
        fix = f"; {self.fix}" if self.fix else ""
        return f"{head}{self.message}{extra}{fix}"

    def __str__(self) -> str:
        return self.line()


@dataclass(frozen=True)
class CheckContext:
    """One read file as the checks see it: ``d`` is the dates as int64 ns, ``limits`` the
    instrument's thresholds (``validate.limits``)."""

    table: Table
    inst: Instrument
    limits: dict[str, float]
    d: np.ndarray
    dates: pd.DatetimeIndex

    def problem(self, sev, i, column, value, message, fix, check) -> Problem:
        """A ``Problem`` at row index ``i`` (None: the whole file) of canonical ``column``."""
        row = None if i is None else int(self.table.lines[i])
        name = self.table.columns.get(column, column)
        return Problem(sev, str(self.table.path), row, name, value, message, fix, check)

    def day(self, i: int) -> str:
        return str(self.dates[i].date())

    def line(self, i: int) -> int:
        """The file line of row index ``i``."""
        return int(self.table.lines[i])
