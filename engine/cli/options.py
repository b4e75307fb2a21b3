"""The run options every backtest command takes, declared once: derived from ``RunConfig``.

Lives here: ``run_options``, a decorator that puts ``RunConfig``'s fields (all of them, or the
ones a command uses) into a command's signature where it declares ``options: RunOptions`` - each
field's name as the flag (``fees_bps`` -> ``--fees-bps``), its default and type from the
dataclass, its help and fixed choices from the field's metadata (``engine.backtest.config``) - and
calls the command with their values as one ``RunOptions``. With ``config_file=True`` it also adds
``--config FILE.toml`` and fills every option of the command left at its default from that file:
a value given on the command line beats the file, and the file beats the default. ``OUT_DIR``: the
``--out`` results root the same commands share.

Not here: reading and checking the TOML file (``config_file``), checking values (``RunConfig``).
typer reads a command's parameters from ``inspect.signature`` (``__signature__``) and its type
hints (``__annotations__``); the decorator sets both and nothing else.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import typer

from engine.cli.common import known_errors
from engine.cli.output import completer

if TYPE_CHECKING:
    from engine.backtest.config import RunConfig

OUT_DIR = typer.Option(None, "--out", help="results root (default ./results)")
CONFIG = typer.Option(None, "--config", help="TOML file with any of these options")
TABLES = {"param": "params"}  # a repeatable KEY=VALUE option <-> a TOML table in --config
_KW = inspect.Parameter.KEYWORD_ONLY


def flag(name: str) -> str:
    """The command-line flag of a ``RunConfig`` field: ``fees_bps`` -> ``--fees-bps``."""
    return "--" + name.replace("_", "-")


@functools.cache
def run_fields() -> tuple[tuple[dataclasses.Field, Any], ...]:
    """``RunConfig``'s fields with their resolved types, in declaration order."""
    from engine.backtest.config import RunConfig

    hints = typing.get_type_hints(RunConfig)
    return tuple((f, hints[f.name]) for f in dataclasses.fields(RunConfig))


def _is_date(hint: Any) -> bool:
    return hint is pd.Timestamp or pd.Timestamp in typing.get_args(hint)


@dataclass(frozen=True)
class RunOptions:
    """The run options a command was given, by ``RunConfig`` field name (``options.fill``); dates
    as typed, read with ``date(name)``; ``config()`` builds the ``RunConfig`` (checking it)."""

    values: Mapping[str, Any]

    def __getattr__(self, name: str) -> Any:
        if name == "values":  # not set yet (a copy being made): no recursion
            raise AttributeError(name)
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(f"this command takes no {flag(name)}") from None

    def date(self, name: str) -> pd.Timestamp | None:
        from engine.backtest.config import parse_date

        return parse_date(self.values.get(name), flag(name))

    def config(self) -> RunConfig:
        """The ``RunConfig`` of these options (fields the command does not take keep defaults)."""
        from engine.backtest.config import RunConfig

        dates = {f.name for f, hint in run_fields() if _is_date(hint)}
        return RunConfig(**{k: self.date(k) if k in dates else v for k, v in self.values.items()})


def _parameter(field: dataclasses.Field, hint: Any) -> inspect.Parameter:
    choices = field.metadata.get("choices") or ()
    option = typer.Option(
        field.default,
        flag(field.name),  # one flag only: a bool is an on-switch, no --no-... twin
        help=field.metadata["help"],
        metavar=f"[{'|'.join(choices)}]" if choices else None,  # RunConfig checks the value
        autocompletion=completer(choices) if choices else None,
    )
    typed = str | None if _is_date(hint) else hint  # a date is typed as YYYY-MM-DD text
    return inspect.Parameter(field.name, _KW, default=option, annotation=typed)


def _config_key(param: inspect.Parameter) -> str:
    """The name a --config file gives a parameter: its long flag with underscores (``--out`` ->
    ``out``), a table's name for a repeatable KEY=VALUE option, else the parameter's name."""
    decls = getattr(param.default, "param_decls", None) or ()
    long = [d for d in decls if d.startswith("--")]
    key = long[0][2:].replace("-", "_") if long else param.name
    return TABLES.get(key, key)


def _config_kind(hint: Any) -> str:
    """What a --config value of an option typed ``hint`` must be (``config_file.KINDS``)."""
    args = set(typing.get_args(hint)) or {hint}
    if _is_date(hint):
        return "date"
    if bool in args:
        return "flag"
    if args & {int, float}:
        return "number"
    return "list" if typing.get_origin(hint) is list else "text"


def _merge(ctx: typer.Context, given: dict[str, Any], raw: dict[str, Any], params: dict) -> dict:
    """Values as given on the command line; parameters left at their defaults take the file's."""
    merged = dict(given)
    for key, value in raw.items():
        name, hint = params[key].name, params[key].annotation
        if key in TABLES.values():  # KEY=VALUE items: the file's, overridden key by key by flags
            flags = dict(p.partition("=")[::2] for p in merged[name])
            value = {
                k: ",".join(map(str, v)) if isinstance(v, list) else v for k, v in value.items()
            }
            merged[name] = [f"{k}={v}" for k, v in {**value, **flags}.items()]
        # typer may vendor its own click, so compare the source by name, not by class
        elif getattr(ctx.get_parameter_source(name), "name", "DEFAULT") == "DEFAULT":
            as_path = Path in (typing.get_args(hint) or (hint,)) or hint == list[Path]
            convert = Path if as_path else (str if typing.get_origin(hint) is list else None)
            if isinstance(value, list):
                merged[name] = [convert(v) for v in value] if convert else value
            else:
                merged[name] = convert(value) if as_path else value
            check = getattr(params[key].default, "callback", None)  # e.g. --format's choices
            if check is not None:
                merged[name] = check(merged[name])
    return merged


def run_options(*names: str, config_file: bool = False) -> Callable[[Callable], Callable]:
    """Give a command ``RunConfig``'s options (``names``, or all) where it declares
    ``options: RunOptions``, and with ``config_file`` a ``--config`` file to fill them from."""

    def decorate(command: Callable) -> Callable:
        fields = [(f, hint) for f, hint in run_fields() if not names or f.name in names]
        unknown = set(names) - {f.name for f, _ in fields}
        hints = typing.get_type_hints(command)
        if unknown or "options" not in hints:  # a mistake in the command's declaration
            raise TypeError(f"{command.__name__}: no options: RunOptions, or unknown {unknown}")
        params: list[inspect.Parameter] = []
        for p in inspect.signature(command).parameters.values():
            if p.name != "options":
                params.append(p.replace(kind=_KW, annotation=hints.get(p.name, p.annotation)))
                continue
            params += [_parameter(f, hint) for f, hint in fields]
            if config_file:
                params.append(
                    inspect.Parameter("config", _KW, default=CONFIG, annotation=Path | None)
                )
        shared = [f.name for f, _ in fields]
        if config_file:
            params.append(inspect.Parameter("ctx", _KW, annotation=typer.Context))
            keys = {_config_key(p): p for p in params if p.name not in ("ctx", "config")}
            typed = {p.name: p.annotation for p in params} | {f.name: hint for f, hint in fields}
            kinds = {
                k: "table" if k in TABLES.values() else _config_kind(typed[p.name])
                for k, p in keys.items()
            }

        @functools.wraps(command)
        def wrapper(**given: Any) -> Any:
            if config_file:
                ctx, path = given.pop("ctx"), given.pop("config")
                if path is not None:
                    from engine.cli.config_file import read_config

                    with known_errors():
                        raw = read_config(path, kinds)
                    given = _merge(ctx, given, raw, keys)
            options = RunOptions({name: given.pop(name) for name in shared})
            return command(**given, options=options)

        wrapper.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in params}
        return wrapper

    return decorate
