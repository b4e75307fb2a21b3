"""Run options from a TOML config file (``--config``), overridden by flags given on the command line.

A config file holds the same names as the command's options (``backtest run``: its flags with
underscores, the strategy, and a ``[params]`` table for ``--param``), e.g.::

    strategy = "russell-fed-rotation"
    start = "2010-01-01"
    fees_bps = 5
    [params]
    hold_days = 40

Lives here: reading such a file and checking each value has its option's kind. Not here: which
names a command takes and applying them (``engine.cli.options``).
"""

from __future__ import annotations

import datetime
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from engine.errors import ConfigError, did_you_mean

# What a value must be, by the kind of its option: text (a date may be a TOML date), a number, a
# flag (true/false), a list of values (a repeatable option: compare's inputs = ["a", "b"]) or a
# table of values (``[params]``; a list there is one KEY=V1,V2 grid axis).
KINDS = ("text", "date", "number", "flag", "list", "table")


def read_config(path: Path, kinds: Mapping[str, str]) -> dict[str, Any]:
    """The config file's options, checked against ``kinds`` (option name -> one of ``KINDS``);
    unknown names are rejected by name (with a suggestion)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"--config {path}: no such file; pass the path of a TOML file.")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"--config {path}: not valid TOML ({exc}); fix the syntax.") from None
    unknown = [k for k in raw if k not in kinds]
    if unknown:
        hints = "".join(did_you_mean(k, list(kinds)) for k in unknown)
        raise ConfigError(
            f"--config {path}: unknown key(s) {', '.join(map(repr, unknown))}.{hints} "
            f"Known keys: {', '.join(kinds)}."
        )
    for key, value in raw.items():
        if kinds[key] == "date" and isinstance(value, datetime.date):
            raw[key] = value = str(value)  # TOML dates arrive as datetime.date
        _check_type(path, key, value, kinds[key])
    return raw


def _check_type(path: Path, key: str, value: Any, kind: str) -> None:
    """Each option has the type its flag has: text, a number, a flag or a table of scalars."""
    if kind == "table":
        if not isinstance(value, dict):
            raise ConfigError(
                f"--config {path}: '{key}' must be a table, e.g. [{key}] hold_days = 40."
            )
        for name, v in value.items():
            items = v if isinstance(v, list) else [v]
            if not items or not all(_scalar(i) for i in items):
                raise ConfigError(
                    f"--config {path}: {key}.{name} = {_short(v)} is not a value or a list of "
                    f"values; give a number or text, e.g. {name} = 20 (or {name} = [10, 20])."
                )
    elif kind == "list":
        if not isinstance(value, list) or not all(_scalar(i) for i in value):
            raise ConfigError(
                f'--config {path}: {key} = {_short(value)} is not a list; write e.g. {key} = ["a"].'
            )
    elif kind == "flag":
        if not isinstance(value, bool):
            raise ConfigError(f"--config {path}: {key} = {_short(value)}; write true or false.")
    elif kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(
                f"--config {path}: {key} = {_short(value)} is not a number; write e.g. {key} = 5."
            )
    elif not isinstance(value, str):
        raise ConfigError(
            f'--config {path}: {key} = {_short(value)} is not text; write e.g. {key} = "...".'
        )


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
