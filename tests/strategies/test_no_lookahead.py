"""No lookahead, proved by truncation: cutting every observation known at or after an instant t
leaves every decision made before t unchanged (DESIGN.md, "Time").

For each registered strategy (default parameters, the embedded synthetic sample) hypothesis picks
t either exactly at a decision instant or anywhere between two decision points, and the rows decided
before t must match bit for bit. A deliberately cheating strategy that reads the same session's close
is caught by the same check, so the check itself can fail.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st

from engine.feeds.marketdata import load_folder
from engine.paths import sample_dir
from engine.strategy.base import Strategy
from engine.timing import align
from strategies import REGISTRY

SETTINGS = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


def context_for(strategy: Strategy) -> align.Context:
    """Decision points over the whole sample, on the strategy's traded market (as the API does)."""
    market = load_folder(sample_dir(), list(strategy.required()))
    first = max(market[k].frame.index[0] for k in strategy.assets())
    last = min(market[k].frame.index[-1] for k in strategy.assets())
    return align.build_context(market, strategy.calendar, first, last)


@cache
def prepared(name: str) -> tuple[Strategy, align.Context, np.ndarray]:
    strategy = REGISTRY[name]()
    ctx = context_for(strategy)
    return strategy, ctx, strategy.target_weights(ctx)


def lookahead_rows(strategy: Strategy, ctx: align.Context, full: np.ndarray, t: int) -> np.ndarray:
    """Rows decided before ``t`` whose weights change when data known at or after ``t`` is cut."""
    cut = strategy.target_weights(ctx.truncated(t))
    past = ctx.decision_ns < t
    return np.flatnonzero(past & (cut != full).any(axis=1))


@st.composite
def cut_instants(draw, decision_ns: np.ndarray) -> int:
    """A decision instant, or an instant strictly between two consecutive decision points."""
    i = draw(st.integers(1, len(decision_ns) - 1))
    gap = int(decision_ns[i] - decision_ns[i - 1])
    # gap itself lands exactly on decision i; smaller steps fall inside or after session i - 1.
    step = draw(st.one_of(st.just(gap), st.integers(1, gap)))
    return int(decision_ns[i - 1]) + step


NAMES = sorted(REGISTRY)


def test_every_registered_strategy_is_checked():
    assert NAMES and all(prepared(n)[2].shape[0] > 1000 for n in NAMES)


def test_the_flagship_trades_on_the_sample():
    # Otherwise its truncation check would be vacuous (all rows identical).
    w = prepared("russell-fed-rotation")[2]
    assert (w[:, 0] > 0).any() and (w[:, 0] == 0).any()


@SETTINGS
@given(data=st.data())
def test_truncation_leaves_earlier_decisions_unchanged(data):
    name = data.draw(st.sampled_from(NAMES), label="strategy")
    strategy, ctx, full = prepared(name)
    t = data.draw(cut_instants(ctx.decision_ns), label="t")
    bad = lookahead_rows(strategy, ctx, full, t)
    assert bad.size == 0, (
        f"{name}: cutting data at {pd.Timestamp(t, tz='UTC')} changed the decisions of "
        f"{[str(ctx.labels[r].date()) for r in bad[:5]]}"
    )


def test_truncation_around_real_signals_of_the_flagship():
    # Deterministic cuts right at and around every session where the flagship changes its target.
    strategy, ctx, full = prepared("russell-fed-rotation")
    changes = np.flatnonzero(np.abs(np.diff(full, axis=0)).max(axis=1) > 0) + 1
    assert changes.size > 0
    for i in changes[:20]:
        for t in (ctx.decision_ns[i], ctx.decision_ns[i] + 1, ctx.decision_ns[i] - 1):
            assert lookahead_rows(strategy, ctx, full, int(t)).size == 0, ctx.labels[i]


class SameDayClose(Strategy):
    """Cheats: decides at the open with that session's close (known only hours later)."""

    name = "cheat-same-day-close"
    rule = "Hold small caps on sessions that close up (read before the session has closed)."
    traded = ("XSO",)

    def weights(self, ctx, p) -> np.ndarray:
        close = ctx.market["XSO"].frame["close"].reindex(ctx.labels)
        up = (close > close.shift(1)).to_numpy()
        return up.astype(np.float64)[:, None]


def test_the_check_catches_a_same_day_close_lookahead():
    strategy = SameDayClose()
    ctx = context_for(strategy)
    full = strategy.target_weights(ctx)
    instants = cut_instants(ctx.decision_ns)
    t = find(
        instants,
        lambda t: lookahead_rows(strategy, ctx, full, t).size > 0,
        settings=settings(max_examples=200, deadline=None, derandomize=True),
    )
    # The cheat shows once t falls inside a session whose close was read at its open.
    rows = lookahead_rows(strategy, ctx, full, t)
    i = int(rows[-1])
    xso = ctx.market["XSO"]
    close_known = int(xso.known_ns[xso.frame.index.get_loc(ctx.labels[i])])
    assert ctx.decision_ns[i] < t <= close_known


def test_the_check_catches_it_at_a_fixed_instant():
    strategy = SameDayClose()
    ctx = context_for(strategy)
    full = strategy.target_weights(ctx)
    up = np.flatnonzero(full[:, 0] == 1.0)
    hour = 3_600 * 10**9
    # One hour after the open of a session that closed up: its close is not known yet.
    assert all(
        lookahead_rows(strategy, ctx, full, int(ctx.decision_ns[i]) + hour).size for i in up[:5]
    )
