"""A rule as a ``Strategy``: runnable, auditable and gridable wherever a strategy name is.

``rule_strategy(rule)`` makes a ``Strategy`` subclass whose parameters are the rule's block
fields as ``NAME.FIELD`` and ``hold.sessions``; its ``weights`` and its fused grid path
(``grid_weights``: every block once per distinct setting, every combo's orders in one kernel)
share ``machine.compile_rule``, so a grid combo and a single run give the same orders.
``signal_flags`` gives the event study the triggers on the anchor's own axis.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from engine.rules.machine import HOLD, compile_rule, rule_orders, rule_states, trigger_flags
from engine.rules.spec import MAX_HOLD, Rule
from engine.sim.orders import Orders
from engine.strategy.base import Param, Strategy, check_strategy_class, with_lead_in


def _fmt(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def describe(rule: Rule) -> str:
    """The rule in one paragraph (its description first)."""

    def blocks(items) -> str:
        out = []
        for b in items:
            what = b.series or b.events
            fields = ", ".join(f"{k}={_fmt(v)}" for k, v in b.values.items())
            out.append(f"{b.name} ({'not ' if b.negate else ''}{b.type} {what}"
                       f"{': ' + fields if fields else ''})")  # fmt: skip
        return "; ".join(out)

    def weights(w) -> str:
        return ", ".join(f"{k} {v:.0%}" for k, v in w.items()) or "cash"

    parts = [rule.description.strip()] if rule.description.strip() else []
    parts.append(f"On: {weights(rule.on)}; off: {weights(rule.off)}.")
    if rule.when:
        parts.append(f"When all of: {blocks(rule.when)}.")
    if rule.when_any:
        parts.append(f"When any of: {blocks(rule.when_any)}.")
    parts.append(
        f"Hold {rule.hold} decisions after the last trigger." if rule.hold
        else "On while the conditions hold."
    )  # fmt: skip
    if rule.exits:
        parts.append(f"Exit on any of: {blocks(rule.exits)}.")
    return " ".join(parts)


class RuleStrategy(Strategy):
    """Base of every rule strategy; ``spec`` is the ``Rule`` it was made from."""

    spec: ClassVar[Rule]

    def assets(self) -> tuple[str, ...]:
        return self.spec.assets

    def required(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.assets(), *self.spec.series)))

    def warmup(self) -> int:
        return int(self.values[HOLD])

    @classmethod
    def weight_arrays(cls, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """(on, off) weights (K, N) of each combo in ``frame``, in ``assets`` order."""
        keys = cls.spec.assets
        on = np.array([cls.spec.on.get(k, 0.0) for k in keys], dtype=np.float64)
        off = np.array([cls.spec.off.get(k, 0.0) for k in keys], dtype=np.float64)
        return np.tile(on, (len(frame), 1)), np.tile(off, (len(frame), 1))

    @classmethod
    def compile(cls, ctx, frame: pd.DataFrame):
        on, off = cls.weight_arrays(frame)
        return compile_rule(cls.spec, ctx, frame, on, off)

    def _frame(self, p) -> pd.DataFrame:
        return pd.DataFrame([dict(p)])

    def weights(self, ctx, p) -> np.ndarray:
        frame = self._frame(p)
        c = self.compile(ctx, frame)
        state = rule_states(c)[0]
        return np.where(state[:, None], c.combos.on[0], c.combos.off[0])

    def signal_flags(self, ctx, p):
        c = self.compile(ctx, self._frame(p))
        flags = trigger_flags(c)
        source = f"{self.name} trigger"
        if c.anchor is None:
            return flags, np.asarray(ctx.decision_ns), ctx.labels, source
        s = ctx.market[c.anchor]
        return flags, s.known_ns, s.frame.index, f"{source} ({c.anchor})"

    @classmethod
    def grid_weights(cls, ctx, combos: pd.DataFrame, rows) -> Orders:
        """Window orders of every combo at once, identical to ``window_targets`` per combo."""
        rows = np.asarray(rows, dtype=np.int64)
        if rows.size and np.any(np.diff(rows) != 1):
            raise ValueError("grid_weights needs consecutive decision rows")
        hold = combos[HOLD] if HOLD in combos else pd.Series([cls.spec.hold])
        ectx, lead = with_lead_in(ctx, int(hold.max()))
        c = cls.compile(ectx, combos)
        a = int(rows[0]) + lead if rows.size else 0
        offsets, row, weight = rule_orders(c, a, a + rows.size - 1)
        return Orders(offsets, row, weight, n_rows=int(rows.size))


def rule_params(rule: Rule) -> tuple[Param, ...]:
    hold = Param(HOLD, rule.hold, "int", "decisions to stay on after the last trigger (a new one "
                 "extends); 0 = on while the conditions hold", "sessions", 0, MAX_HOLD)  # fmt: skip
    return (*(p for b in rule.blocks for p in b.params()), hold)


def rule_strategy(rule: Rule) -> type[Strategy]:
    """A checked ``Strategy`` subclass running ``rule``."""
    attrs = {
        "name": rule.name,
        "rule": describe(rule),
        "params": rule_params(rule),
        "traded": rule.assets,
        "requires": rule.series,
        "spec": rule,
        "__module__": __name__,
        "__qualname__": f"Rule[{rule.name}]",
    }
    cls = type(f"Rule_{rule.name.replace('-', '_')}", (RuleStrategy,), attrs)
    check_strategy_class(cls, where=rule.source)
    return cls
