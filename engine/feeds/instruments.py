"""Instrument definitions: what a key in a data folder means.

Lives here: the ``Instrument`` record, parsing and validating ``instruments.toml`` (including the
optional per-instrument plausibility ``checks`` the validator uses), and the knowledge-time rule of
each instrument (``Known``). A folder's instruments.toml is untrusted input: it must be a regular
UTF-8 file under 1 MB; keys are names (``KEY_RE``, they name files); every field has a type and
a constraint (``CONSTRAINTS``, one message template); calendars and time zones must exist; a
knowledge lag is at most ``MAX_LAG_DAYS``; provider symbols match their source's pattern
(``SYMBOLS``), because they go into download URLs. Each failure is a ``DataError`` naming the
file, the key, the field and the fix. Not here: reading price files (``marketdata``, ``readers``), the checks
themselves (``validate``), calendars (``calendars``).
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from engine import paths
from engine.errors import DataError, did_you_mean
from engine.feeds.datafiles import clipped, quoted, read_bytes

KINDS = ("index", "etf", "fx", "rate")
RETURNS = ("price", "total")
UNITS = ("percent", "fraction")
# Thresholds the validator reads (engine/feeds/validate.py documents each); any may be set per instrument.
CHECKS = (
    *("max_move", "stale_run", "zero_volume_run", "max_missing", "fraction_below"),
    *("max_stale_open", "min_level", "max_level"),
)
FIELDS = (
    *("name", "kind", "currency", "calendar", "tz", "known", "returns", "units", "base"),
    *("providers", "checks", "fixing", "column"),
)
# A key names a file (KEY.csv) and a CLI argument: a letter, then letters, digits or underscores.
KEY_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,39}$")
MAX_LAG_DAYS = 31  # a value known more than a month after its date is no daily series
MAX_TOML_BYTES = 2**20  # 1 MB: the packaged file is 5 kB
# Provider symbols go into download URLs: each source's own alphabet and nothing else (no "/", "?",
# "&", "#", "%" or spaces), so no symbol can reach another path or query on the provider's host.
SYMBOLS = {
    "yahoo": (
        r"^\^?[A-Za-z0-9][A-Za-z0-9.=-]{0,23}$",
        "a Yahoo ticker such as ^AXSO, AUDUSD=X or ISO.AX",
    ),
    "fred": (r"^[A-Za-z0-9][A-Za-z0-9_]{0,39}$", "a FRED series id such as DFEDTARU"),
    "rba": (
        r"^[A-Za-z][A-Za-z0-9.]{0,9}:[A-Za-z0-9_]{1,40}$",
        'an RBA "TABLE:SERIES" id such as F1:FIRMMCRTD',
    ),
}
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
                f"{where}: known = {quoted(text)} is not a knowledge rule; "
                'use "session_close" or "D+N HH:MM" (e.g. "D+1 24:00" for the end of the next day).'
            )
        if len(m[1]) > 6 or int(m[1]) > MAX_LAG_DAYS:  # int() of 5,000 digits would raise
            raise DataError(
                f"{where}: known = {quoted(text)} waits {clipped(m[1], 12)} days; a daily "
                f"value is known at most {MAX_LAG_DAYS} days after its date: use N <= "
                f"{MAX_LAG_DAYS} (FRED and RBA rates: D+1 24:00)."
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


def _text(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value.strip()) <= 200 and value == value.strip()


def _currency(value: object) -> bool:
    return isinstance(value, str) and re.fullmatch(r"[A-Z]{3}", value) is not None


def _choice(options: tuple[str, ...]):
    return lambda value: isinstance(value, str) and value in options


# Each field's constraint as data: (test, what the value must be). One message template serves all.
CONSTRAINTS = {
    "name": (_text, "a non-empty string of at most 200 characters"),
    "kind": (_choice(KINDS), f"one of {', '.join(KINDS)}"),
    "currency": (_currency, "a three-letter ISO currency code such as AUD or USD"),
    "base": (_currency, "a three-letter ISO currency code such as AUD or USD"),
    "calendar": (_text, 'an exchange_calendars code such as XNYS or XASX, or "weekdays"'),
    "tz": (_text, 'an IANA time zone such as "Australia/Sydney"'),
    "known": (_text, 'a knowledge rule: "session_close" or "D+N HH:MM"'),
    "returns": (_choice(RETURNS), '"price" (price-only) or "total" (total return)'),
    "units": (
        _choice(UNITS),
        '"percent" (4.25 = 4.25 %, as published) or "fraction" (0.0425 = 4.25 %)',
    ),
    "fixing": (_text, "a short string (at most 200 characters) saying which fixing the close is"),
    "column": (_text, "the name of the file's column holding the close or value"),
}


def _bad(where: str, name: str, value: object, what: str) -> DataError:
    return DataError(f"{where}: {name} = {quoted(value)} is not {what}; fix {name} there.")


def _parse_checks(raw: object, where: str) -> dict[str, float]:
    if not isinstance(raw, dict):
        raise DataError(f"{where}: checks must be a table, e.g. checks = {{ max_move = 0.3 }}.")
    out = {}
    for name, value in raw.items():
        if name not in CHECKS:
            raise DataError(
                f"{where}: unknown check {quoted(name)}.{did_you_mean(name, CHECKS)} "
                f"Known checks: {', '.join(CHECKS)}."
            )
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or not math.isfinite(value) or value < 0:
            raise DataError(
                f"{where}: checks.{name} = {quoted(value)}; use a finite number >= 0 "
                "(leave the check out for its default)."
            )
        out[name] = float(value)
    return out


def _parse_providers(raw: object, where: str) -> dict[str, str]:
    if not isinstance(raw, dict):
        raise DataError(
            f"{where}: providers = {quoted(raw)} is not a table; write e.g. "
            'providers = { yahoo = "^AXSO" } (source = symbol).'
        )
    for source, symbol in raw.items():
        check_symbol(source, symbol, where)
    return dict(raw)


def check_symbol(source: str, symbol: object, where: str) -> None:
    """``DataError`` unless ``source`` is a known provider and ``symbol`` fits its pattern."""
    if source not in SYMBOLS:
        raise DataError(
            f"{where}: providers.{clipped(source)} is not a source.{did_you_mean(source, SYMBOLS)} "
            f"Use {', '.join(SYMBOLS)}."
        )
    pattern, what = SYMBOLS[source]
    if not isinstance(symbol, str) or re.fullmatch(pattern, symbol) is None:
        raise DataError(
            f"{where}: providers.{source} = {quoted(symbol)} is not {what}; fix the symbol "
            "(letters, digits and the source's own punctuation only)."
        )


def _check_fields(key: str, raw: object, where: str) -> None:
    if not isinstance(raw, dict):
        raise DataError(
            f"{where}: {quoted(key)} = {quoted(raw)} is not an instrument table; put each "
            f"instrument's fields under a [{key}] header (see data/instruments.toml)."
        )
    unknown = [f for f in raw if f not in FIELDS]
    if unknown:
        name = unknown[0]
        raise DataError(
            f"{where}: unknown field {quoted(name)}.{did_you_mean(name, FIELDS)} "
            f"Known fields: {', '.join(FIELDS)}."
        )
    for name, (test, what) in CONSTRAINTS.items():
        if name in raw and name not in ("kind", "returns", "units") and not test(raw[name]):
            raise _bad(where, name, raw[name], what)


def _check_place(raw: dict, where: str) -> str:
    """The calendar's code (an alias such as ASX becomes XASX, so two names of one exchange are one
    calendar); the calendar and time zone must be real ones (the loader would fail later, naming
    no file)."""
    calendar, tz = raw["calendar"], raw["tz"]
    if calendar != "weekdays":
        from engine.feeds import calendars  # calendars imports this module

        names = calendars.calendar_names()
        if calendar not in names:
            raise DataError(
                f"{where}: calendar = {quoted(calendar)} is not an exchange calendar."
                f"{did_you_mean(calendar, names)} Use an exchange_calendars code such as XNYS or "
                'XASX, or "weekdays" for a series dated on weekdays.'
            )
        calendar = names[calendar]
    try:
        pd.Timestamp("2000-01-01").tz_localize(tz)
    except (LookupError, ValueError, TypeError, OSError):
        raise DataError(
            f"{where}: tz = {quoted(tz)} is not a time zone; use an IANA name such as "
            '"Australia/Sydney", "America/New_York" or "UTC".'
        ) from None
    return calendar


def _parse_one(key: object, raw: object, source: Path) -> Instrument:
    if not isinstance(key, str) or KEY_RE.fullmatch(key) is None:
        raise DataError(
            f"{source}: instrument key {quoted(key)} is not a name; start it with a letter and use "
            "letters, digits and underscores (it names the data file KEY.csv), e.g. [SMALL_CAPS]."
        )
    where = f"{source} [{key}]"
    _check_fields(key, raw, where)
    missing = [f for f in ("name", "kind", "currency", "calendar", "tz", "known") if f not in raw]
    if missing:
        raise DataError(
            f"{where}: missing field(s) {', '.join(missing)}; see data/instruments.toml."
        )
    if not CONSTRAINTS["kind"][0](raw["kind"]):
        raise DataError(f"{where}: kind = {quoted(raw['kind'])}; use one of {', '.join(KINDS)}.")
    returns = raw.get("returns")
    if (raw["kind"] in ("index", "etf") or returns is not None) and returns not in RETURNS:
        raise DataError(
            f"{where}: returns = {quoted(returns)}; say whether the series is "
            '"price" (price-only) or "total" (total return).'
        )
    if raw.get("units") is not None and raw["units"] not in UNITS:
        raise DataError(
            f'{where}: units = {quoted(raw["units"])}; use "percent" (4.25 = 4.25 %, as published) '
            'or "fraction" (0.0425 = 4.25 %).'
        )
    calendar = _check_place(raw, where)
    known = Known.parse(raw["known"], where)
    if known.session_close and calendar == "weekdays":
        raise DataError(f"{where}: known = session_close needs an exchange calendar, not weekdays.")
    fields = {k: raw[k] for k in ("name", "kind", "currency", "tz")}
    extra = {k: raw.get(k) for k in ("returns", "units", "base", "fixing", "column")}
    return Instrument(
        key=key,
        calendar=calendar,
        known=known,
        providers=_parse_providers(raw.get("providers", {}), where),
        checks=_parse_checks(raw.get("checks", {}), where),
        **fields,
        **extra,
    )


def _read_toml(source: Path) -> dict:
    """The parsed file; ``DataError`` naming it when it is no regular file, too big or not TOML."""
    data = read_bytes(source, MAX_TOML_BYTES, "instrument definitions")
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise DataError(f"{source}: is UTF-16 (or UTF-32) text; save the file as UTF-8.")
    try:
        text = data.decode("utf-8-sig")  # a Windows editor's byte-order mark is harmless
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{source}: byte {exc.start} is not UTF-8 ({quoted(data[exc.start : exc.start + 4])}); "
            "save the file as UTF-8."
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DataError(
            f"{source}: not valid TOML ({quoted(str(exc), 200)}); fix the syntax."
        ) from None
    except RecursionError:
        raise DataError(f"{source}: not valid TOML (nested too deeply); fix the syntax.") from None


def load_instruments(
    path: Path | None = None, overrides: Path | None = None
) -> dict[str, Instrument]:
    """Read ``instruments.toml`` (and an optional second file whose entries override or add).

    A file that is absent is skipped; anything else at its path (a directory, a FIFO, a broken
    symlink) is a ``DataError``, never a read that could block.
    """
    out: dict[str, Instrument] = {}
    for source in [path or paths.instruments_file(), overrides]:
        if source is None or not os.path.lexists(source):
            continue
        for key, entry in _read_toml(Path(source)).items():
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
