"""Whether the rate series a run reads cover its window.

A rate is a step series: each value holds until the next. Before its first row the engine would
know no rate and after its last it would carry the last value forward for ever, so a cash-rate file
holding only 2015 would give 0 % interest before 2015 and 2015's rate after it, without a word.
``check_rates`` refuses that: every rate series a run reads (the base currency's cash rate and any
rate the strategy reads) must have a row dated at or before the window's first session, and a row
dated no more than ``MAX_STALE_DAYS`` calendar days before its last session (a series that only
lists changes can add a final row repeating the level still in force).

Not here: checks of the values themselves (``validate``), loading (``marketdata``).
"""

from __future__ import annotations

import pandas as pd

from engine.errors import DataError

# A monthly series dated on the 1st is at most ~31 days old at any session; a quarter is too old.
MAX_STALE_DAYS = 45


def check_rates(market, keys, first: pd.Timestamp, last: pd.Timestamp) -> None:
    """Raise ``DataError`` naming the series and the uncovered range if a rate in ``keys`` does not
    cover ``first..last`` (session dates). Non-rate keys are ignored."""
    for key in dict.fromkeys(keys):
        s = market[key]
        if s.instrument.is_price:
            continue
        dates = s.frame.index[s.frame["value"].notna().to_numpy()]
        if len(dates) == 0:
            raise DataError(f"{s.path.name}: {key} holds no values; add the rate's history.")
        lo, hi = dates[0], dates[-1]
        fix = (
            f"add {key}'s history for the missing range (or move --start/--end inside "
            f"{lo.date()}..{hi.date()})"
        )
        if lo > first:
            raise DataError(
                f"{s.path.name}: {key} starts {lo.date()}, after the run's first session "
                f"{first.date()}: no rate is known for {first.date()}..{lo.date()}; {fix}."
            )
        if (last - hi).days > MAX_STALE_DAYS:
            raise DataError(
                f"{s.path.name}: {key} ends {hi.date()}, {(last - hi).days} days before the run's "
                f"last session {last.date()}: its level after {hi.date()} is unknown (a series "
                f"listing only changes can end with a row repeating the level still in force); {fix}."
            )
