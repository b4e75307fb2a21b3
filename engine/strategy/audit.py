"""The lookahead audit: cutting all data known at or after an instant t must leave every decision
made before t unchanged (DESIGN.md, "Time").

This logic lives here, in order:

1. ``cut_instants`` picks where to cut, deterministically for a given seed: evenly spread decision
   instants (exactly at one, one nanosecond after, and at a seeded point inside the preceding gap),
   the instants around the first changes of the strategy's target weights, and each of the first
   signals' knowledge instants (at and one nanosecond after);
2. ``audit`` recomputes the weights on ``Context.truncated(t)`` for each cut in time order and
   compares the rows decided before t with the full run, bit for bit;
3. the first cut that moves a decision ends the audit and is reported with the earliest moved row
   (``Moved``: the strategy, the cut, the session, its decision instant, weights before and after).

Not here: printing (``cli.study``) or hypothesis-driven tests (``tests/strategies``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.strategy.base import Strategy
from engine.timing.align import Context

HOUR_NS = 3_600 * 10**9


@dataclass(frozen=True)
class Moved:
    """The first decision that changed when data was cut."""

    strategy: str
    cut: pd.Timestamp  # UTC: everything known at or after it was removed
    row: int
    session: pd.Timestamp
    decided: pd.Timestamp  # UTC decision instant of that row (before ``cut``)
    before: dict[str, float]
    after: dict[str, float]

    def message(self) -> str:
        def fmt(w: dict[str, float]) -> str:
            return ", ".join(f"{k} {v:.4g}" for k, v in w.items())

        return (
            f"{self.strategy}: cutting the data at {self.cut.isoformat()} changed the decision for "
            f"session {self.session.date()} (row {self.row}, decided {self.decided.isoformat()}): "
            f"weights {fmt(self.before)} with all data, {fmt(self.after)} after the cut. The "
            "strategy reads data that was not yet known at its decision; reach decision points "
            "only through Context.asof / Context.count."
        )


@dataclass(frozen=True)
class AuditResult:
    strategy: str
    cuts: np.ndarray  # int64 UTC ns, in the order checked
    checked: int
    moved: Moved | None
    seconds: float

    @property
    def passed(self) -> bool:
        return self.moved is None

    def message(self) -> str:
        if self.moved is not None:
            return f"FAIL after {self.checked} of {len(self.cuts)} cuts. {self.moved.message()}"
        first = pd.Timestamp(int(self.cuts.min()), tz="UTC").date() if len(self.cuts) else "-"
        last = pd.Timestamp(int(self.cuts.max()), tz="UTC").date() if len(self.cuts) else "-"
        return (
            f"PASS: {self.strategy}: {self.checked} cuts between {first} and {last} left every "
            f"earlier decision unchanged ({self.seconds:.1f} s)."
        )


def cut_instants(
    strategy: Strategy, ctx: Context, weights: np.ndarray, n_even: int = 12, seed: int = 0
) -> np.ndarray:
    """Where to cut (UTC int64 ns, sorted, unique), all after the first decision point."""
    d = ctx.decision_ns
    rng = np.random.default_rng(seed)
    even = np.unique(np.linspace(1, len(d) - 1, num=min(n_even, len(d) - 1)).astype(np.int64))
    gaps = d[even] - d[even - 1]
    inside = d[even - 1] + 1 + (rng.random(len(even)) * (gaps - 1)).astype(np.int64)
    changes = np.flatnonzero(np.abs(np.diff(weights, axis=0)).max(axis=1) > 0)[:n_even] + 1
    around = [d[changes] + k for k in (-1, 0, 1, HOUR_NS)]
    sig = strategy.signals(ctx).known_ns
    sig = sig[(sig > d[0]) & (sig < d[-1])][:n_even]
    out = np.concatenate([d[even], d[even] + 1, inside, *around, sig, sig + 1])
    return np.unique(out[(out > d[0]) & (out <= d[-1])]).astype(np.int64)


def _first_moved(
    strategy: Strategy, ctx: Context, full: np.ndarray, cut: int
) -> tuple[int, np.ndarray] | None:
    w = strategy.target_weights(ctx.truncated(cut))
    past = ctx.decision_ns < cut
    bad = np.flatnonzero(past & (w != full).any(axis=1))
    return (int(bad[0]), w[bad[0]]) if bad.size else None


def audit(
    strategy: Strategy,
    ctx: Context,
    cuts: np.ndarray | None = None,
    *,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> AuditResult:
    """Check ``strategy`` on ``ctx`` at ``cuts`` (default: ``cut_instants``). ``progress(i, n)`` is
    called after each cut."""
    started = time.perf_counter()
    full = strategy.target_weights(ctx)
    cuts = cut_instants(strategy, ctx, full, seed=seed) if cuts is None else np.sort(cuts)
    assets = strategy.assets()
    for i, cut in enumerate(cuts):
        hit = _first_moved(strategy, ctx, full, int(cut))
        if progress is not None:
            progress(i + 1, len(cuts))
        if hit is not None:
            row, after = hit
            moved = Moved(
                strategy=strategy.name,
                cut=pd.Timestamp(int(cut), tz="UTC"),
                row=row,
                session=ctx.labels[row],
                decided=pd.Timestamp(int(ctx.decision_ns[row]), tz="UTC"),
                before=dict(zip(assets, full[row].tolist(), strict=True)),
                after=dict(zip(assets, after.tolist(), strict=True)),
            )
            return AuditResult(strategy.name, cuts, i + 1, moved, time.perf_counter() - started)
    return AuditResult(strategy.name, cuts, len(cuts), None, time.perf_counter() - started)
