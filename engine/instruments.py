"""Instrument definitions: what a key in a data folder means.

Lives here: the ``Instrument`` record, parsing and validating ``instruments.toml`` (including the
optional per-instrument plausibility ``checks`` the validator uses), and the knowledge-time rule of
each instrument (``Known``). Not here: reading price files (``marketdata``, ``readers``), the checks
themselves (``validate``), calendars (``calendars``).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from engine import paths
from engine.errors import DataError, did_you_mean

KINDS = ("index", "etf", "fx", "rate")
RETURNS = ("price", "total")
UNITS = ("percent", "fraction")
# Thresholds the validator reads (engine/validate.py documents each); any may be set per instrument.
CHECKS = (
    *("max_move", "stale_run", "zero_volume_run", "max_missing", "fraction_below"),
    *("max_stale_open", "min_level", "max_level"),
)
FIELDS = (
    *("name", "kind", "currency", "calendar", "tz", "known", "returns", "units", "base"),
    *("providers", "checks", "fixing", "column"),
)
_KNOWN_RE = re.compile(r"^D\+(\d+) (\d{2}):(\d{2})$")


@dataclass(frozen=True)
class Known:
    """When a value dated D becomes known: at the session close, or D + ``lag_days`` at a local time."""

    session_close: bool
    lag_days: int = 0
    minutes: int = 0  # minutes after local midnight; 1440 means the end of the day

    @classmethod
    def parse(cls, text: str, where: str) -> Known:
        if text == "session_close":
            return cls(session_close=True)
        m = _KNOWN_RE.match(text)
        if not m or int(m[2]) > 24 or int(m[3]) > 59 or (int(m[2]) == 24 and int(m[3]) != 0):
            raise DataError(
                f"{where}: known = {text!r} is not a knowledge rule; "
                'use "session_close" or "D+N HH:MM" (e.g. "D+1 24:00" for the end of the next day).'
            )
        return cls(session_close=False, lag_days=int(m[1]), minutes=int(m[2]) * 60 + int(m[3]))


@dataclass(frozen=True)
class Instrument:
    key: str
    name: str
    kind: str
    currency: str
    calendar: str
    tz: str
    known: Known
    returns: str | None = None
    units: str | None = None
    base: str | None = None
    providers: dict[str, str] = field(default_factory=dict)
    checks: dict[str, float] = field(default_factory=dict)
    fixing: str | None = None
    column: str | None = None  # the file's column holding close/value, when not named so

    @property
    def is_price(self) -> bool:
        """True for OHLC price series (index, ETF, FX); False for rate levels."""
        return self.kind != "rate"


def _parse_checks(raw: object, where: str) -> dict[str, float]:
    if not isinstance(raw, dict):
        raise DataError(f"{where}: checks must be a table, e.g. checks = {{ max_move = 0.3 }}.")
    out = {}
    for name, value in raw.items():
        if name not in CHECKS:
            raise DataError(
                f"{where}: unknown check {name!r}.{did_you_mean(name, CHECKS)} "
                f"Known checks: {', '.join(CHECKS)}."
            )
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise DataError(f"{where}: checks.{name} = {value!r}; use a number >= 0.")
        out[name] = float(value)
    return out


def _check_fields(key: str, raw: object, where: str) -> None:
    if not isinstance(raw, dict):
        raise DataError(
            f"{where}: {key!r} = {raw!r} is not an instrument table; put each instrument's fields "
            f"under a [{key}] header (see data/instruments.toml)."
        )
    unknown = [f for f in raw if f not in FIELDS]
    if unknown:
        name = unknown[0]
        raise DataError(
            f"{where}: unknown field {name!r}.{did_you_mean(name, FIELDS)} "
            f"Known fields: {', '.join(FIELDS)}."
        )


def _parse_one(key: str, raw: dict, source: Path) -> Instrument:
    where = f"{source} [{key}]"
    _check_fields(key, raw, where)
    missing = [f for f in ("name", "kind", "currency", "calendar", "tz", "known") if f not in raw]
    if missing:
        raise DataError(
            f"{where}: missing field(s) {', '.join(missing)}; see data/instruments.toml."
        )
    if raw["kind"] not in KINDS:
        raise DataError(f"{where}: kind = {raw['kind']!r}; use one of {', '.join(KINDS)}.")
    if raw["kind"] in ("index", "etf") and raw.get("returns") not in RETURNS:
        raise DataError(
            f"{where}: returns = {raw.get('returns')!r}; say whether the series is "
            '"price" (price-only) or "total" (total return).'
        )
    if raw.get("units") is not None and raw["units"] not in UNITS:
        raise DataError(
            f'{where}: units = {raw["units"]!r}; use "percent" (4.25 = 4.25 %, as published) '
            'or "fraction" (0.0425 = 4.25 %).'
        )
    known = Known.parse(str(raw["known"]), where)
    if known.session_close and raw["calendar"] == "weekdays":
        raise DataError(f"{where}: known = session_close needs an exchange calendar, not weekdays.")
    fields = {k: raw[k] for k in ("name", "kind", "currency", "calendar", "tz")}
    extra = {k: raw.get(k) for k in ("returns", "units", "base", "fixing", "column")}
    return Instrument(
        key=key,
        known=known,
        providers=dict(raw.get("providers", {})),
        checks=_parse_checks(raw.get("checks", {}), where),
        **fields,
        **extra,
    )


def load_instruments(
    path: Path | None = None, overrides: Path | None = None
) -> dict[str, Instrument]:
    """Read ``instruments.toml`` (and an optional second file whose entries override or add)."""
    out: dict[str, Instrument] = {}
    for source in [path or paths.instruments_file(), overrides]:
        if source is None or not Path(source).is_file():
            continue
        try:
            raw = tomllib.loads(Path(source).read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise DataError(f"{source}: not valid TOML ({exc}); fix the syntax.") from None
        for key, entry in raw.items():
            out[key] = _parse_one(key, entry, Path(source))
    return out


def get_instrument(instruments: dict[str, Instrument], key: str) -> Instrument:
    try:
        return instruments[key]
    except KeyError:
        raise DataError(
            f"unknown instrument key {key!r}.{did_you_mean(key, instruments)} "
            f"Known keys: {', '.join(sorted(instruments))}."
        ) from None
