"""Run options from a TOML config file (``--config``), overridden by flags given on the command line.

A config file holds the same names as ``backtest run``'s options (with underscores), plus
``strategy``, ``strategy_file`` and a ``[params]`` table, e.g.::

    strategy = "russell-fed-rotation"
    start = "2010-01-01"
    fees_bps = 5
    [params]
    hold_days = 40

Lives here: reading and checking such a file. Not here: applying it (``cli``).
"""

from __future__ import annotations

import datetime
import tomllib
from pathlib import Path
from typing import Any

from engine.errors import ConfigError, did_you_mean

KEYS = (
    "strategy", "strategy_file", "params", "data_dir", "start", "end", "base_currency", "fees_bps",
    "slippage_bps", "fill", "benchmark", "min_fee", "band", "max_leverage", "init_cash", "out",
    "format", "allow_stale_open",
)  # fmt: skip
NUMBERS = ("fees_bps", "slippage_bps", "min_fee", "band", "max_leverage", "init_cash")
FLAGS = ("allow_stale_open",)


def read_config(path: Path) -> dict[str, Any]:
    """The config file's options, with unknown keys rejected by name (and a suggestion)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"--config {path}: no such file; pass the path of a TOML file.")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"--config {path}: not valid TOML ({exc}); fix the syntax.") from None
    unknown = [k for k in raw if k not in KEYS]
    if unknown:
        hints = "".join(did_you_mean(k, KEYS) for k in unknown)
        raise ConfigError(
            f"--config {path}: unknown key(s) {', '.join(map(repr, unknown))}.{hints} "
            f"Known keys: {', '.join(KEYS)}."
        )
    if "params" in raw and not isinstance(raw["params"], dict):
        raise ConfigError(
            f"--config {path}: 'params' must be a table, e.g. [params] hold_days = 40."
        )
    for key in ("start", "end"):
        if key in raw and isinstance(raw[key], datetime.date):
            raw[key] = str(raw[key])  # TOML dates arrive as datetime.date
    for key, value in raw.items():
        _check_type(path, key, value)
    return raw


def _check_type(path: Path, key: str, value: Any) -> None:
    """Each option has the type its flag has: text, a number, or a table of scalar params."""
    if key == "params":
        for name, v in value.items():
            if isinstance(v, dict | list) or not isinstance(v, str | int | float | bool):
                raise ConfigError(
                    f"--config {path}: params.{name} = {_short(v)} is not a single value; give "
                    f"a number or text, e.g. {name} = 20."
                )
        return
    if key in FLAGS:
        if not isinstance(value, bool):
            raise ConfigError(f"--config {path}: {key} = {_short(value)}; write true or false.")
    elif key in NUMBERS:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(
                f"--config {path}: {key} = {_short(value)} is not a number; write e.g. {key} = 5."
            )
    elif not isinstance(value, str):
        raise ConfigError(
            f'--config {path}: {key} = {_short(value)} is not text; write e.g. {key} = "...".'
        )


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
