"""The rule machine: a rule's blocks, evaluated once per distinct setting, into the kernel inputs.

This logic lives here, in order:

1. the anchor axis: the series of the rule's first ``when``/``when_any`` series block (a trigger is
   one of its observations at which every condition held, so two US closes between two ASX opens
   both count), or the decision points when the conditions read only events;
2. each ``when`` block, once per distinct setting of its own parameters among the combos: its
   flags on its own axis, aligned onto the anchor's observations by knowledge instants (the last
   observation known strictly before; the anchor's own series as is);
3. each ``exit`` block likewise, onto the decision points: "known since the previous decision"
   for combos that hold, "true as last known" for combos on while the conditions hold;
4. per combo, the rows of its settings, its hold and weights: ``kernels.Combos``.

``compile_rule`` returns the ``kernels`` tuples (distinct trigger and exit sets factored out, so
each is combined once); ``rule_states`` and ``rule_orders`` run them.
Not here: reading rule files (``spec``), the ``Strategy`` face (``strategy``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.errors import DataError
from engine.rules import kernels
from engine.rules.blocks import Block, event_flags, series_flags
from engine.rules.eventfiles import EventTable, load_events
from engine.rules.spec import Rule
from engine.timing.align import Context, asof_index, count_since_previous

HOLD = "hold.sessions"


@dataclass(frozen=True)
class Compiled:
    flags: kernels.Flags
    axis: kernels.Axis
    sets: kernels.Sets
    combos: kernels.Combos
    n_dec: int
    anchor: str | None  # the anchor series' key; None: the decision points


def anchor_key(rule: Rule) -> str | None:
    return next((b.series for b in (*rule.when, *rule.when_any) if b.series), None)


def _settings(frame: pd.DataFrame, block: Block) -> tuple[np.ndarray, list[dict]]:
    """(code per combo, distinct settings) of ``block``'s parameter columns in ``frame`` (a field
    without a column keeps the block's own value)."""
    cols = [c for c in block.columns() if c in frame]
    if not cols or len(frame) == 0:
        return np.zeros(len(frame), np.int64), [dict(block.values)]
    sub = frame[cols]
    grouped = sub.groupby(cols, sort=False, dropna=False)
    codes = grouped.ngroup().to_numpy(dtype=np.int64)
    firsts = sub.drop_duplicates()
    settings = []
    for row in firsts.itertuples(index=False):
        values = dict(block.values)
        values.update({c.split(".", 1)[1]: v for c, v in zip(cols, row, strict=True)})
        settings.append(values)
    return codes, settings


class _Axis:
    """Instants, local dates and zone at which conditions are read: the anchor or the decisions."""

    def __init__(self, ctx: Context, key: str | None) -> None:
        self.key = key
        if key is None:
            self.known = np.asarray(ctx.decision_ns, np.int64)
            self.dates = ctx.labels
            self.tz = _decision_tz(ctx)
        else:
            s = ctx.market[key]
            self.known, self.dates, self.tz = s.known_ns, s.frame.index, s.instrument.tz


def _decision_tz(ctx: Context) -> str:
    for s in ctx.market.series.values():
        if s.instrument.calendar == ctx.calendar:
            return s.instrument.tz
    return "UTC"


class _Evaluator:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.tables: dict[str, EventTable] = {}

    def table(self, name: str) -> EventTable:
        if name not in self.tables:
            self.tables[name] = load_events(name, self.ctx.market.folder, self.ctx.fomc,
                                            self.ctx.rba)  # fmt: skip
        return self.tables[name]

    def own(self, block: Block, p: dict) -> np.ndarray:
        """Flags on the block's series' own axis (valid and, negated or not, holding)."""
        s = self.ctx.market[block.series]
        for col in block.spec.needs:
            if col not in s.frame:
                raise DataError(
                    f"{s.path}: block {block.name!r} ({block.type}) needs a {col} column in "
                    f"{block.series}'s file; add it or use another series."
                )
        cond, valid = series_flags(block.type, s, p)
        return valid & (cond != block.negate)

    def on_axis(self, block: Block, p: dict, axis: _Axis) -> np.ndarray:
        if block.events is not None:
            got = event_flags(block.type, self.table(block.events), p, axis.known, axis.dates,
                              axis.tz, since_previous=axis.key is None)  # fmt: skip
            return got != block.negate
        flags = self.own(block, p)
        if block.series == axis.key:
            return flags
        return _asof(flags, self.ctx.market[block.series].known_ns, axis.known)

    def exit_flags(self, block: Block, p: dict, holding: bool, dec: _Axis) -> np.ndarray:
        if block.events is not None:
            return self.on_axis(block, p, dec)
        flags = self.own(block, p)
        known = self.ctx.market[block.series].known_ns
        if holding:
            return count_since_previous(flags, known, dec.known) > 0
        return _asof(flags, known, dec.known)


def _asof(flags: np.ndarray, known: np.ndarray, at: np.ndarray) -> np.ndarray:
    """``flags`` as last known strictly before each instant ``at`` (False before the first)."""
    if len(flags) == 0:
        return np.zeros(len(at), dtype=bool)
    idx = asof_index(known, at)
    return np.where(idx >= 0, flags[np.maximum(idx, 0)], False)


def _rows(blocks, frame, make: Callable[[Block, dict], np.ndarray], rows: list,
          size: int) -> np.ndarray:  # fmt: skip
    """Codes (K, len(blocks)) into ``rows``, appending each block's distinct settings' flags
    (``size`` long); a setting only combos with the block off (``NAME.enabled`` False) use is
    not evaluated, so a series no combo reads need not be loaded."""
    out = np.full((len(frame), len(blocks)), -1, np.int64)
    for j, block in enumerate(blocks):
        codes, settings = _settings(frame, block)
        enabled = f"{block.name}.enabled"
        on = frame[enabled].to_numpy(dtype=bool) if enabled in frame else np.ones(len(frame), bool)
        used = np.zeros(len(settings), dtype=bool)
        used[codes[on]] = True
        base = len(rows)
        rows.extend(make(block, p) if used[i] else np.zeros(size, dtype=bool)
                    for i, p in enumerate(settings))  # fmt: skip
        out[:, j] = np.where(on, base + codes, -1)
    return out


def compile_rule(rule: Rule, ctx: Context, frame: pd.DataFrame, on: np.ndarray,
                 off: np.ndarray) -> Compiled:  # fmt: skip
    """Kernel inputs for the combos in ``frame`` (one column per rule parameter, ``hold.sessions``
    and optional ``NAME.enabled``) with weights ``on``/``off`` (K, N) (module docstring)."""
    ev = _Evaluator(ctx)
    key = anchor_key(rule)
    anchor, dec = _Axis(ctx, key), _Axis(ctx, None)
    n_dec = len(ctx.labels)
    if key is None:
        first_dec = np.arange(n_dec, dtype=np.int64)
        last_obs = np.arange(n_dec, dtype=np.int64)
    else:
        first_dec = np.searchsorted(dec.known, anchor.known, side="right").astype(np.int64)
        last_obs = asof_index(anchor.known, dec.known)
    when_rows: list[np.ndarray] = []
    n_anchor = len(anchor.known)
    when = _rows(rule.when, frame, lambda b, p: ev.on_axis(b, p, anchor), when_rows, n_anchor)
    when_any = _rows(rule.when_any, frame, lambda b, p: ev.on_axis(b, p, anchor), when_rows,
                     n_anchor)  # fmt: skip
    hold = frame[HOLD].to_numpy(dtype=np.int64) if HOLD in frame else np.full(len(frame), rule.hold)
    exit_rows: list[np.ndarray] = []
    exit_codes = np.full((len(frame), len(rule.exits)), -1, np.int64)
    for holding in (True, False):
        pick = (hold > 0) == holding
        if not pick.any():
            continue
        codes = _rows(rule.exits, frame[pick],
                      lambda b, p, h=holding: ev.exit_flags(b, p, h, dec), exit_rows, n_dec)  # fmt: skip
        exit_codes[pick] = codes
    flags = kernels.Flags(
        np.ascontiguousarray(np.stack(when_rows)) if when_rows else np.zeros((0, n_anchor), bool),
        np.ascontiguousarray(np.stack(exit_rows)) if exit_rows else np.zeros((0, n_dec), bool),
    )
    trig, trig_code = _distinct(np.hstack([when, when_any]))
    ex, ex_code = _distinct(exit_codes)
    sets = kernels.Sets(np.ascontiguousarray(trig[:, : when.shape[1]]),
                        np.ascontiguousarray(trig[:, when.shape[1]:]), ex)  # fmt: skip
    combos = kernels.Combos(trig_code, ex_code, np.array(hold, dtype=np.int64),  # writable
                            np.array(on, dtype=np.float64), np.array(off, dtype=np.float64))  # fmt: skip
    return Compiled(flags, kernels.Axis(first_dec, last_obs), sets, combos, n_dec, key)


def _distinct(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distinct rows, row index per combo) of a (K, B) code table (B may be 0)."""
    if codes.shape[1] == 0:
        return np.zeros((1, 0), np.int64), np.zeros(len(codes), np.int64)
    rows, inverse = np.unique(codes, axis=0, return_inverse=True)
    return np.ascontiguousarray(rows, np.int64), inverse.reshape(-1).astype(np.int64)


def _passes(c: Compiled):
    fired, now = kernels.triggers_nb(c.flags, c.axis, c.sets, c.n_dec)
    return fired, now, kernels.exits_nb(c.flags, c.sets, c.n_dec)


def rule_states(c: Compiled) -> np.ndarray:
    """(K, n_dec) on/off state of every combo at every decision."""
    fired, now, exits = _passes(c)
    out = np.zeros((c.combos.hold.shape[0], c.n_dec), dtype=bool)
    for k in range(out.shape[0]):
        kernels.state_nb(fired, now, exits, c.combos, k, out[k])
    return out


def rule_orders(c: Compiled, a: int, b: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every combo's orders on decision rows a..b (``kernels.rule_orders_nb``)."""
    fired, now, exits = _passes(c)
    pts = kernels.Points(*kernels.points_nb(fired, False), *kernels.points_nb(now, True),
                         *kernels.points_nb(exits, False), *kernels.points_nb(exits, True))  # fmt: skip
    return kernels.rule_orders_nb(pts, c.combos, a, b)


def trigger_flags(c: Compiled, k: int = 0) -> np.ndarray:
    """Combo ``k``'s triggers on the anchor axis (every when and one when_any held)."""
    t = c.combos.trigger[k]
    out = np.ones(c.axis.first_dec.shape[0], dtype=bool)
    for row in c.sets.when[t]:
        if row >= 0:
            out &= c.flags.when[row]
    live = [row for row in c.sets.when_any[t] if row >= 0]
    if live:
        out &= np.logical_or.reduce([c.flags.when[row] for row in live])
    return out
