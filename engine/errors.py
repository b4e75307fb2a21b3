"""The error hierarchy: one root, a few precise subclasses.

A message says what is wrong, where (file, row, column, parameter), what was found and how to fix it.
Only the CLI catches these (exit code 2, no traceback); bugs propagate as ordinary exceptions.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class BacktestError(Exception):
    """Root of every error a user can cause and fix."""


class DataError(BacktestError):
    """A data file or folder is missing, malformed or implausible."""


class ParamError(BacktestError):
    """A strategy parameter is unknown, of the wrong type or out of range."""


class StrategyError(BacktestError):
    """A strategy is unknown or produced unusable output."""


class ConfigError(BacktestError):
    """A run option or config file is invalid."""


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """Return ' Did you mean 'x'?' for the closest choice, or '' when nothing is close."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" Did you mean {close[0]!r}?" if close else ""
