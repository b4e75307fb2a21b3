"""Blocks: the declared conditions a rule is made of.

Each block type has fields (numbers and choices are parameters, gridable as ``NAME.FIELD``), the
series it reads (``series``) or the event table (``events``), and one evaluation:

- on a series' own axis (``series_flags``): ``record``, ``change``, ``level``, ``trend``,
  ``drawdown``, ``volume_surge`` - each observation gives (condition, valid); an observation
  without enough history is not valid, and an invalid block never holds, negated or not;
- at given instants (``event_flags``): ``event_within`` (an event known strictly before the
  instant, at most ``days`` calendar days earlier by local dates; at decision points also any
  event known since the previous decision) and ``easing_cycle`` (the last rate move known was a
  cut).

Every block also takes ``name``, ``block`` and ``not`` (negation). Alignment onto decision points
is the rule machine's (``rules.machine``), through knowledge instants; nothing here shifts by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from engine.feeds.marketdata import Series
from engine.rules import kernels
from engine.rules.eventfiles import EventTable
from engine.strategy.base import Param


@dataclass(frozen=True)
class Field:
    """One block field. ``default`` None: required (or, with ``optional``, left out when absent)."""

    name: str
    kind: str  # int | float | choice
    doc: str
    default: Any = None
    unit: str = ""
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    optional: bool = False

    def param(self, block: str, value: Any) -> Param:
        return Param(f"{block}.{self.name}", value, self.kind, self.doc, self.unit, self.low,
                     self.high, self.choices)  # fmt: skip


@dataclass(frozen=True)
class BlockType:
    name: str
    doc: str
    fields: tuple[Field, ...]
    reads: str  # "series" or "events"
    needs: tuple[str, ...] = ()  # columns the series must have beyond its value
    at_least_one: tuple[str, ...] = field(default_factory=tuple)  # e.g. above or below


_LOOKBACK = Field("lookback", "int", "sessions of history; 0 = all loaded history", 0,
                  "sessions", 0, 100_000)  # fmt: skip
_ABOVE = Field("above", "float", "holds when the value is above this", optional=True)
_BELOW = Field("below", "float", "holds when the value is below this", optional=True)

TYPES: dict[str, BlockType] = {
    t.name: t
    for t in (
        BlockType(
            "record",
            "the close is a record: above every close over `lookback` sessions",
            (_LOOKBACK,),
            "series",
        ),  # fmt: skip
        BlockType(
            "change",
            "return over `window` sessions (for rates: change in percentage points) above/below",
            (
                Field(
                    "window",
                    "int",
                    "sessions the change is measured over",
                    20,
                    "sessions",
                    1,
                    10_000,
                ),
                _ABOVE,
                _BELOW,
            ),  # fmt: skip
            "series",
            at_least_one=("above", "below"),
        ),
        BlockType(
            "level",
            "the value (close, or rate in percent) above/below a threshold",
            (_ABOVE, _BELOW),
            "series",
            at_least_one=("above", "below"),
        ),  # fmt: skip
        BlockType(
            "trend",
            "the close against its `ma`-session average, beyond a fractional `band`",
            (
                Field("ma", "int", "sessions in the moving average", 200, "sessions", 2, 10_000),
                Field("band", "float", "fraction beyond the average", 0.0, "fraction", 0.0, 0.99),
                Field(
                    "side",
                    "choice",
                    "above or below the average",
                    "above",
                    choices=("above", "below"),
                ),  # fmt: skip
            ),
            "series",
        ),
        BlockType(
            "drawdown",
            "the close at least `below` (a fraction) under its running high over `lookback`",
            (
                Field(
                    "below", "float", "fraction under the running high", None, "fraction", 0.0, 0.99
                ),
                _LOOKBACK,
            ),  # fmt: skip
            "series",
        ),
        BlockType(
            "volume_surge",
            "volume above `ratio` times its average over the previous `window` sessions",
            (
                Field("ratio", "float", "multiple of the average volume", 2.0, "x", 0.0, 1000.0),
                Field("window", "int", "sessions in the average", 20, "sessions", 1, 10_000),
            ),
            "series",
            needs=("volume",),
        ),  # fmt: skip
        BlockType(
            "event_within",
            "an event (fomc | rba | a user event file) within `days` calendar days before",
            (
                Field(
                    "move",
                    "choice",
                    "which decisions count (central-bank tables)",
                    "any",
                    choices=("cut", "hike", "any"),
                ),
                Field(
                    "days",
                    "int",
                    "calendar days after the event it still counts",
                    30,
                    "days",
                    0,
                    36_500,
                ),
            ),
            "events",
        ),  # fmt: skip
        BlockType(
            "easing_cycle", "the last rate move announced was a cut (fomc | rba)", (), "events"
        ),  # fmt: skip
    )
}


@dataclass(frozen=True)
class Block:
    """One block of a rule: its ``name`` (unique in the rule), ``type``, the ``series`` or
    ``events`` it reads, ``negate``, and its field values (numbers and choices)."""

    name: str
    type: str
    values: Mapping[str, Any]
    series: str | None = None
    events: str | None = None
    negate: bool = False

    @property
    def spec(self) -> BlockType:
        return TYPES[self.type]

    def params(self) -> tuple[Param, ...]:
        return tuple(f.param(self.name, self.values[f.name]) for f in self.spec.fields
                     if f.name in self.values)  # fmt: skip

    def columns(self) -> tuple[str, ...]:
        return tuple(f"{self.name}.{f.name}" for f in self.spec.fields if f.name in self.values)


def trailing_return(v: np.ndarray, n: int) -> np.ndarray:
    out = np.full(v.shape, np.nan)
    if n < len(v):
        out[n:] = v[n:] / v[:-n] - 1.0
    return out


def trailing_change(v: np.ndarray, n: int) -> np.ndarray:
    out = np.full(v.shape, np.nan)
    if n < len(v):
        out[n:] = v[n:] - v[:-n]
    return out


def _bounds(x: np.ndarray, p: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    cond = np.ones(len(x), dtype=bool)
    if p.get("above") is not None:
        cond &= x > p["above"]
    if p.get("below") is not None:
        cond &= x < p["below"]
    return cond, ~np.isnan(x)


def series_flags(kind: str, s: Series, p: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """(condition, valid) per observation of ``s`` for a series block of type ``kind``."""
    v = np.ascontiguousarray(s.values.to_numpy(dtype=np.float64))
    if kind == "record":
        return kernels.record_nb(v, int(p["lookback"])), np.ones(len(v), dtype=bool)
    if kind == "change":
        n = int(p["window"])
        x = trailing_change(v, n) if s.instrument.kind == "rate" else trailing_return(v, n)
        return _bounds(x, p)
    if kind == "level":
        return _bounds(v, p)
    if kind == "trend":
        ma = kernels.trailing_mean_nb(v, int(p["ma"]), False)
        if p["side"] == "above":
            cond = v > ma * (1.0 + p["band"])
        else:
            cond = v < ma * (1.0 - p["band"])
        return cond, ~np.isnan(ma)
    if kind == "drawdown":
        high = kernels.running_high_nb(v, int(p["lookback"]))
        return v <= high * (1.0 - p["below"]), np.ones(len(v), dtype=bool)
    if kind == "volume_surge":
        vol = np.ascontiguousarray(s.frame["volume"].to_numpy(dtype=np.float64))
        avg = kernels.trailing_mean_nb(vol, int(p["window"]), True)
        return vol > p["ratio"] * avg, ~np.isnan(avg) & ~np.isnan(vol)
    raise ValueError(f"not a series block: {kind}")


def local_days(instants_ns: np.ndarray, tz: str) -> np.ndarray:
    """The local date (in ``tz``) of each UTC instant, as int64 days since 1970."""
    local = pd.DatetimeIndex(instants_ns, tz="UTC").tz_convert(tz).normalize().tz_localize(None)
    return local.as_unit("ns").asi8 // 86_400_000_000_000


def event_flags(
    kind: str,
    table: EventTable,
    p: Mapping[str, Any],
    at_ns: np.ndarray,
    dates: pd.DatetimeIndex,
    tz: str,
    since_previous: bool,
) -> np.ndarray:
    """Condition of an event block at instants ``at_ns`` (local session ``dates`` in ``tz``);
    ``since_previous``: also any matching event known since the previous instant (decision
    points, so a long weekend cannot hide an event; before the first, any earlier one)."""
    at_ns = np.asarray(at_ns, dtype=np.int64)
    if kind == "easing_cycle":
        known, sign = table.moves()
        pos = np.searchsorted(known, at_ns, side="left") - 1
        return (pos >= 0) & (sign[np.maximum(pos, 0)] < 0) if len(known) else pos >= 0
    known = table.select(p["move"])
    out = np.zeros(len(at_ns), dtype=bool)
    if len(known) == 0:
        return out
    pos = np.searchsorted(known, at_ns, side="left") - 1
    has = pos >= 0
    last = known[np.maximum(pos, 0)]
    day = dates.as_unit("ns").asi8 // 86_400_000_000_000
    age = day - local_days(last, tz)
    out = has & (age <= int(p["days"]))
    if since_previous:
        prev = np.concatenate(([np.iinfo(np.int64).min], at_ns[:-1]))
        out |= has & (last >= prev)
    return out
