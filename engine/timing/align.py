"""The alignment layer: the one place where "known strictly before the decision" is enforced.

Lives here: decision points of a traded market (by default the instant of each session's open) and the
two ways a strategy may look at any other series from there:

1. ``asof``  - the latest value known strictly before each decision instant (levels, features);
2. ``count`` - how many flagged observations became known since the previous decision point
   (events such as a record close, so that two US closes between two ASX opens both count).

Strategies compute features on each series' own axis and call these; they never shift by hand.
Not here: the features themselves, or simulation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.feeds import calendars
from engine.feeds.events import Decisions, load_decisions
from engine.feeds.marketdata import MarketData


def asof_index(known_ns: np.ndarray, decision_ns: np.ndarray) -> np.ndarray:
    """Index of the last observation known strictly before each decision (-1 when none).

    ``known_ns`` must be non-decreasing (observations in date order).
    """
    return np.searchsorted(known_ns, decision_ns, side="left").astype(np.int64) - 1


def asof(values: np.ndarray, known_ns: np.ndarray, decision_ns: np.ndarray) -> np.ndarray:
    """``values`` as last known strictly before each decision; NaN before the first observation."""
    padded = np.concatenate(([np.nan], np.asarray(values, dtype=np.float64)))
    return padded[asof_index(known_ns, decision_ns) + 1]


def count_since_previous(
    flags: np.ndarray, known_ns: np.ndarray, decision_ns: np.ndarray
) -> np.ndarray:
    """Number of True ``flags`` known in [previous decision, this decision); all earlier for the first."""
    csum = np.concatenate(([0], np.cumsum(np.asarray(flags, dtype=np.int64))))
    upto = csum[asof_index(known_ns, decision_ns) + 1]
    return np.diff(upto, prepend=0)


@dataclass(frozen=True)
class Context:
    """What a strategy sees: loaded data, decision tables and the traded market's decision points.

    ``decision_ns`` holds the UTC instant of every decision (int64 ns); ``labels`` the session dates
    of the traded market on which those decisions are filled.
    """

    market: MarketData
    fomc: Decisions
    rba: Decisions
    calendar: str
    labels: pd.DatetimeIndex
    decision_ns: np.ndarray

    def asof(self, values: np.ndarray, known_ns: np.ndarray) -> np.ndarray:
        return asof(values, known_ns, self.decision_ns)

    def count(self, flags: np.ndarray, known_ns: np.ndarray) -> np.ndarray:
        return count_since_previous(flags, known_ns, self.decision_ns)

    def truncated(self, instant_ns: int) -> Context:
        """This context with every observation known at or after ``instant_ns`` removed."""
        return Context(
            self.market.truncated(instant_ns),
            self.fomc.truncated(instant_ns),
            self.rba.truncated(instant_ns),
            self.calendar,
            self.labels,
            self.decision_ns,
        )


def build_context(
    market: MarketData,
    traded_calendar: str,
    first: pd.Timestamp,
    last: pd.Timestamp,
    fill: str = "open",
) -> Context:
    """Decision points: each ``traded_calendar`` session in [first, last], decided just before its
    open (``fill="open"``) or just before its close (``fill="close"``)."""
    sess = calendars.sessions(traded_calendar).between(first, last)
    decision_ns = sess.open_ns if fill == "open" else sess.close_ns
    return Context(
        market,
        load_decisions("fomc"),
        load_decisions("rba"),
        traded_calendar,
        sess.labels,
        decision_ns,
    )
