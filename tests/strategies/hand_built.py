"""Hand-built market data for strategy tests (not a test module).

Series are made in memory on real session dates (``exchange_calendars``) with the knowledge rules of
``data/instruments.toml``, so alignment is exactly what a loaded folder would give. Policy decisions
default to the real tables in ``data/events``; ``decisions`` builds a made-up table when a test needs
moves that never happened.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from engine.feeds import calendars
from engine.feeds.events import Decisions, load_decisions
from engine.feeds.instruments import load_instruments
from engine.feeds.marketdata import MarketData, Series
from engine.timing import align

INSTRUMENTS = load_instruments()


def session_dates(calendar: str, start: str, end: str) -> pd.DatetimeIndex:
    if calendar == "weekdays":
        return pd.bdate_range(start, end).as_unit("ns")
    return calendars.sessions(calendar).between(pd.Timestamp(start), pd.Timestamp(end)).labels


def series(key: str, values: pd.Series, opens: pd.Series | None = None) -> Series:
    """``key`` with closes (or rate levels) ``values`` on their own dated index."""
    inst = INSTRUMENTS[key]
    idx = pd.DatetimeIndex(values.index).as_unit("ns")
    if inst.is_price:
        close = values.to_numpy(dtype=np.float64)
        op = close if opens is None else opens.reindex(values.index).to_numpy(dtype=np.float64)
        frame = pd.DataFrame(
            {
                "open": op,
                "high": np.maximum(op, close),
                "low": np.minimum(op, close),
                "close": close,
            },
            index=idx,
        )
    else:
        frame = pd.DataFrame({"value": values.to_numpy(dtype=np.float64)}, index=idx)
    known = calendars.knowledge_instants(inst, idx, f"hand-built {key}")
    return Series(inst, frame, known, Path(f"<{key}>"), "0" * 64)


def flat(key: str, start: str, end: str, level: float = 100.0, **moves: float) -> Series:
    """``key`` at ``level`` on every session in [start, end], with ``moves`` = {"YYYY_MM_DD": value}
    setting single dates (underscores instead of dashes)."""
    dates = session_dates(INSTRUMENTS[key].calendar, start, end)
    values = pd.Series(level, index=dates, dtype=np.float64)
    for day, value in moves.items():
        stamp = pd.Timestamp(day.replace("_", "-"))
        assert stamp in dates, f"{stamp.date()} is not a session of {key}"
        values[stamp] = value
    return series(key, values)


def market(*parts: Series) -> MarketData:
    return MarketData(Path("<hand-built>"), {s.instrument.key: s for s in parts})


def decisions(bank: str, rows: list[tuple[str, int]]) -> Decisions:
    """A made-up table: ``rows`` = [("YYYY-MM-DD HH:MM" in the bank's zone, change_bps), ...]."""
    tz = "America/New_York" if bank == "fomc" else "Australia/Sydney"
    stamps = pd.DatetimeIndex([pd.Timestamp(t) for t, _ in rows])
    change = np.array([c for _, c in rows], dtype=np.int64)
    level = 5.0 + np.cumsum(change) / 100.0
    frame = pd.DataFrame(
        {"change_bps": change, "target_high": level, "cash_rate": level},
        index=stamps.normalize().as_unit("ns"),
    )
    known = stamps.tz_localize(tz).tz_convert("UTC").as_unit("ns").asi8.copy()
    return Decisions(bank, frame, known, Path(f"<{bank}>"))


def context(
    mkt: MarketData,
    first: str,
    last: str,
    fill: str = "open",
    fomc: Decisions | None = None,
    rba: Decisions | None = None,
) -> align.Context:
    """Decision points on the XASX sessions in [first, last]; real decision tables by default."""
    ctx = align.build_context(mkt, "XASX", pd.Timestamp(first), pd.Timestamp(last), fill)
    return align.Context(
        mkt,
        fomc or load_decisions("fomc"),
        rba or load_decisions("rba"),
        ctx.calendar,
        ctx.labels,
        ctx.decision_ns,
    )


def frame(weights: np.ndarray, ctx: align.Context, columns=("XSO", "XJO")) -> pd.DataFrame:
    return pd.DataFrame(weights, index=ctx.labels.strftime("%Y-%m-%d"), columns=list(columns))


def held(w: pd.DataFrame, col: str = "XSO") -> list[str]:
    return list(w.index[w[col] > 0])


def next_asx_open_after(instant_ns: int) -> str:
    asx = calendars.sessions("XASX")
    return str(asx.labels[np.searchsorted(asx.open_ns, instant_ns, side="right")].date())


def close_ns(key: str, day: str) -> int:
    cal = calendars.sessions(INSTRUMENTS[key].calendar)
    return int(cal.close_ns[cal.labels.get_loc(pd.Timestamp(day))])
