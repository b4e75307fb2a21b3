"""Rule files: a TOML declaration of blocks, read and checked into a ``Rule``.

A rule file has ``name``, ``description``, ``[trade]`` (``on`` weights while the rule is on,
``off`` while off: omit it to hold cash), ``[[when]]`` blocks (all must hold), ``[[when_any]]``
blocks (at least one must), ``[hold]`` (``sessions``: stay on that many decisions after the last
trigger, a new trigger extending it; 0 or no ``[hold]``: on while the conditions hold) and
``[[exit]]`` blocks (any ends a hold at the first decision after it is known). ``rule_from_dict``
reads the same structure from Python. Every mistake is a ``StrategyError`` naming the file, the
block and the field, with a suggestion for a misspelt name.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import StrategyError, did_you_mean
from engine.feeds.datafiles import read_bytes
from engine.rules.blocks import TYPES, Block
from engine.rules.eventfiles import BANKS, NAME

TOP = ("name", "description", "trade", "when", "when_any", "hold", "exit")
COMMON = ("name", "block", "series", "events", "not")
MAX_HOLD = 10_000
_RULE_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,59}")
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.^=-]{0,39}")


@dataclass(frozen=True)
class Rule:
    """A checked rule (see the module docstring); ``source`` names where it came from."""

    name: str
    description: str
    on: Mapping[str, float]
    off: Mapping[str, float]
    when: tuple[Block, ...]
    when_any: tuple[Block, ...]
    exits: tuple[Block, ...]
    hold: int
    source: str

    @property
    def blocks(self) -> tuple[Block, ...]:
        return (*self.when, *self.when_any, *self.exits)

    @property
    def assets(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.on, *self.off)))

    @property
    def series(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(b.series for b in self.blocks if b.series))

    def to_dict(self) -> dict[str, Any]:
        """The rule as a rule file declares it (``rule_from_dict`` reads it back): what a run's
        manifest records, so a saved run re-runs without the file."""

        def block(b: Block) -> dict[str, Any]:
            out: dict[str, Any] = {"name": b.name, "block": b.type}
            out.update({"series": b.series} if b.series else {"events": b.events})
            out.update(b.values)
            return {**out, "not": True} if b.negate else out

        trade: dict[str, Any] = {"on": dict(self.on)}
        if self.off:
            trade["off"] = dict(self.off)
        return {"name": self.name, "description": self.description, "trade": trade,
                "when": [block(b) for b in self.when], "when_any": [block(b) for b in self.when_any],
                "exit": [block(b) for b in self.exits], "hold": {"sessions": self.hold}}  # fmt: skip


class _Where:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, problem: str) -> StrategyError:
        return StrategyError(f"{self.source}: {where}: {problem}")


def _number(w: _Where, where: str, value: Any, kind: str) -> float | int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise w.fail(
            where, f"{value!r} is not a number; write e.g. {'20' if kind == 'int' else '0.05'}."
        )
    if not math.isfinite(value):
        raise w.fail(where, f"{value!r} is not a finite number.")
    if kind == "int":
        if float(value) != int(value):
            raise w.fail(where, f"{value!r} must be a whole number.")
        return int(value)
    return float(value)


def _weights(w: _Where, raw: Any, side: str) -> dict[str, float]:
    where = f"[trade] {side}"
    if not isinstance(raw, Mapping) or not raw:
        raise w.fail(where, "give weights as a table of instrument keys, e.g. { XSO = 1.0 }.")
    out = {}
    for key, value in raw.items():
        if not _KEY.fullmatch(str(key)):
            raise w.fail(where, f"{key!r} is not an instrument key (see instruments.toml).")
        weight = _number(w, f"{where}.{key}", value, "float")
        if weight < 0:
            raise w.fail(f"{where}.{key}", f"{weight} is negative; long-only weights are >= 0.")
        out[str(key)] = weight
    if sum(out.values()) > 1 + 1e-9:
        raise w.fail(where, f"weights sum to {sum(out.values()):g}; at most 1 (the rest is cash).")
    return out


def _block(w: _Where, raw: Any, section: str, i: int, seen: set[str]) -> Block:
    where = f"[[{section}]] #{i + 1}"
    if not isinstance(raw, Mapping):
        raise w.fail(where, "is not a table of fields.")
    name = raw.get("name")
    if not isinstance(name, str) or not NAME.fullmatch(name) or "." in name:
        raise w.fail(
            where, f"name = {name!r}: give each block a short name (letters, digits, - _)."
        )
    where = f"[[{section}]] {name!r}"
    if name in seen or name in ("hold", "trade"):
        raise w.fail(where, "the name is used twice (or is reserved: hold, trade); rename it.")
    seen.add(name)
    kind = raw.get("block")
    if kind not in TYPES:
        raise w.fail(where, f"block = {kind!r} is not a block type.{did_you_mean(str(kind), TYPES)} "
                     f"Types: {', '.join(TYPES)}.")  # fmt: skip
    spec = TYPES[kind]
    allowed = (*COMMON, *(f.name for f in spec.fields))
    for key in raw:
        if (
            key not in allowed
            or (key == "series" and spec.reads != "series")
            or (key == "events" and spec.reads != "events")
        ):
            raise w.fail(f"{where} ({kind})", f"unknown field {key!r}.{did_you_mean(key, allowed)}"
                         f" Fields of {kind}: {', '.join(f.name for f in spec.fields) or 'none'}"
                         f"{'; series' if spec.reads == 'series' else '; events'}.")  # fmt: skip
    series = events = None
    if spec.reads == "series":
        series = raw.get("series")
        if not isinstance(series, str) or not _KEY.fullmatch(series):
            raise w.fail(f"{where} ({kind})", f"series = {series!r}: name the instrument key it "
                         "reads, e.g. series = \"RUT\".")  # fmt: skip
    else:
        events = raw.get("events")
        ok = isinstance(events, str) and NAME.fullmatch(events)
        if not ok or (kind == "easing_cycle" and events not in BANKS):
            allowed_ev = (
                "fomc | rba" if kind == "easing_cycle" else "fomc | rba | a user file's NAME"
            )
            raise w.fail(f"{where} ({kind})", f"events = {events!r}: use {allowed_ev}.")
    negate = raw.get("not", False)
    if not isinstance(negate, bool):
        raise w.fail(f"{where}.not", f"{negate!r}: write not = true or leave it out.")
    values: dict[str, Any] = {}
    for f in spec.fields:
        fw = f"{where}.{f.name}"
        if f.name not in raw:
            if f.default is None and not f.optional:
                raise w.fail(fw, f"is required ({f.doc}).")
            if f.default is not None:
                values[f.name] = f.default
            continue
        value = raw[f.name]
        if f.kind == "choice":
            if value not in f.choices:
                raise w.fail(fw, f"{value!r} is not one of {', '.join(f.choices)}."
                             f"{did_you_mean(str(value), f.choices)}")  # fmt: skip
        else:
            value = _number(w, fw, value, f.kind)
            if (f.low is not None and value < f.low) or (f.high is not None and value > f.high):
                raise w.fail(fw, f"{value} is outside [{f.low}, {f.high}].")
        values[f.name] = value
    if spec.at_least_one and not any(k in values for k in spec.at_least_one):
        raise w.fail(f"{where} ({kind})", f"give {' or '.join(spec.at_least_one)} (or both).")
    if kind == "event_within" and events not in BANKS and values.get("move", "any") != "any":
        raise w.fail(f"{where}.move", 'user event files have no moves; use move = "any".')
    return Block(name, kind, values, series, events, negate)


def rule_from_dict(raw: Mapping[str, Any], source: str = "rule") -> Rule:
    """A ``Rule`` from the parsed TOML structure (or the same built in Python)."""
    w = _Where(source)
    if not isinstance(raw, Mapping):
        raise w.fail("top level", "is not a table.")
    for key in raw:
        if key not in TOP:
            raise w.fail("top level", f"unknown key {key!r}.{did_you_mean(key, TOP)} Keys: "
                         f"{', '.join(TOP)}.")  # fmt: skip
    name = raw.get("name")
    if not isinstance(name, str) or not _RULE_NAME.fullmatch(name):
        raise w.fail("name", f"{name!r}: use lower-case letters, digits, - and _ (e.g. "
                     "\"rba-easing-momentum\").")  # fmt: skip
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise w.fail("description", "must be text.")
    trade = raw.get("trade")
    if not isinstance(trade, Mapping) or "on" not in trade:
        raise w.fail(
            "[trade]", "give on = { KEY = weight } (and off = {...}, or leave it out for cash)."
        )
    for key in trade:
        if key not in ("on", "off"):
            raise w.fail("[trade]", f"unknown key {key!r}.{did_you_mean(key, ('on', 'off'))}")
    on = _weights(w, trade["on"], "on")
    off = _weights(w, trade["off"], "off") if "off" in trade else {}
    seen: set[str] = set()
    sections = {}
    for section in ("when", "when_any", "exit"):
        items = raw.get(section, [])
        if isinstance(items, Mapping):
            items = [items]
        if not isinstance(items, list):
            raise w.fail(f"[[{section}]]", "write each block as its own [[" + section + "]] table.")
        sections[section] = tuple(_block(w, b, section, i, seen) for i, b in enumerate(items))
    if not sections["when"] and not sections["when_any"]:
        raise w.fail("[[when]]", "a rule needs at least one [[when]] or [[when_any]] block.")
    hold = raw.get("hold", {})
    if not isinstance(hold, Mapping) or any(k != "sessions" for k in hold):
        bad = [k for k in hold if k != "sessions"] if isinstance(hold, Mapping) else []
        raise w.fail("[hold]", f"takes only sessions{'; not ' + repr(bad[0]) if bad else ''}."
                     f"{did_you_mean(bad[0], ('sessions',)) if bad else ''}")  # fmt: skip
    sessions = _number(w, "[hold] sessions", hold.get("sessions", 0), "int")
    if not 0 <= sessions <= MAX_HOLD:
        raise w.fail("[hold] sessions", f"{sessions} is outside [0, {MAX_HOLD}].")
    return Rule(name, description, on, off, sections["when"], sections["when_any"],
                sections["exit"], int(sessions), source)  # fmt: skip


def read_rule(path: str | Path) -> Rule:
    """The rule in the TOML file ``path``."""
    path = Path(path)
    if path.suffix.lower() != ".toml":
        raise StrategyError(f"{path}: a rule file is TOML (rule.toml); see README, Writing rules.")
    try:
        text = read_bytes(path, limit=1_000_000, what="rule file").decode("utf-8")
    except UnicodeDecodeError:
        raise StrategyError(f"{path}: not UTF-8 text; save the rule file as UTF-8.") from None
    except Exception as exc:  # DataError from read_bytes: a missing or odd file
        raise StrategyError(str(exc)) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise StrategyError(f"{path}: not valid TOML ({exc}); fix the file.") from None
    return rule_from_dict(raw, str(path))
