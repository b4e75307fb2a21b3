"""Whether a series' opens are prices one could have traded at: stale opens and the refusal rule.

An index's first value of the day is often not a traded price. The ASX opens stock by stock over
about ten minutes, so the S&P/ASX indices' "open" is mostly the previous close (in the real files in
``../shared/data``: 66 % of sessions for the ASX 200, 83 % for the All Ordinaries, against 3-19 % for
the ETFs that track them). Filling at such an open buys at yesterday's close after the US session is
already known: a lookahead the truncation audit cannot see, because the price itself is stale.

Lives here:

1. ``open_quality`` - for one price frame: the share of sessions whose open equals the previous
   close (to ``STALE_TOL`` relative: below any quoting tick, above float noise), and the mean
   overnight (previous close -> open) and intraday (open -> close) returns;
2. ``stale_limit`` - the instrument's limit (``checks.max_stale_open``, default ``MAX_STALE_OPEN``);
3. ``check_open_fills`` - refuse open fills (``DataError``) on a traded series whose share over the
   fill sessions of a run is above its limit, unless the run allows it explicitly.

Not here: the other data checks (``validate``), where fills happen (``kernels``, ``timeline``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.errors import DataError
from engine.feeds.instruments import Instrument

# Equal to the previous close within this relative distance: 0.1 bp is below any quoting tick (an
# ASX index at 8,000 moves in 0.1 points = 1.25e-5; an ETF at $5 in half cents = 1e-3) and far above
# the float noise of Yahoo exports (~1e-7).
STALE_TOL = 1e-5
# Default limit, from the real series in ../shared/data: the ASX small-cap and ASX 200 ETFs measure
# 3-19 % (thin early years), the illiquid SSO.AX 37 %, the ASX indices 31-83 %, Yahoo's ^RUT 38 %.
MAX_STALE_OPEN = 0.25
# Fewer measurable sessions than this in the run's window: judge the whole series instead.
MIN_SESSIONS = 60


@dataclass(frozen=True)
class OpenQuality:
    """``stale_share``: fraction of ``sessions`` whose open equals the previous close;
    ``overnight``/``intraday``: mean previous close -> open and open -> close returns (fractions)."""

    sessions: int
    stale: int
    overnight: float
    intraday: float

    @property
    def stale_share(self) -> float:
        return self.stale / self.sessions if self.sessions else float("nan")

    def record(self) -> dict[str, float | int]:
        return {
            "sessions": self.sessions,
            "stale_open_share": self.stale_share,
            "mean_overnight_return": self.overnight,
            "mean_intraday_return": self.intraday,
        }


def open_quality(frame: pd.DataFrame) -> OpenQuality | None:
    """Open quality of a price frame with ``open`` and ``close`` columns (None without opens).

    A session counts when it and the session before have a positive finite close, and it has a
    positive finite open."""
    if "open" not in frame or "close" not in frame or len(frame) < 2:
        return None
    o = frame["open"].to_numpy(dtype=np.float64)[1:]
    c = frame["close"].to_numpy(dtype=np.float64)
    prev, c = c[:-1], c[1:]
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(o) & np.isfinite(prev) & np.isfinite(c) & (o > 0) & (prev > 0) & (c > 0)
    if not ok.any():
        return OpenQuality(0, 0, float("nan"), float("nan"))
    o, prev, c = o[ok], prev[ok], c[ok]
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):  # absurd prices: inf
        stale = int(np.count_nonzero(np.abs(o - prev) <= STALE_TOL * prev))
        overnight, intraday = float(np.mean(o / prev - 1)), float(np.mean(c / o - 1))
    return OpenQuality(int(ok.sum()), stale, overnight, intraday)


def stale_limit(inst: Instrument) -> float:
    """Largest stale-open share at which open fills on ``inst`` are accepted."""
    return float(inst.checks.get("max_stale_open", MAX_STALE_OPEN))


def window_quality(frame: pd.DataFrame, first: pd.Timestamp, last: pd.Timestamp) -> OpenQuality:
    """Open quality over the sessions ``first..last`` (the session before ``first`` gives the first
    previous close); the whole series when that window measures fewer than ``MIN_SESSIONS``."""
    lo = max(int(frame.index.searchsorted(first)) - 1, 0)
    hi = int(frame.index.searchsorted(last, side="right"))
    part = open_quality(frame.iloc[lo:hi])
    if part is not None and part.sessions >= MIN_SESSIONS:
        return part
    whole = open_quality(frame)
    return whole if whole is not None else OpenQuality(0, 0, float("nan"), float("nan"))


def stale_shares(market, assets, first, last) -> dict[str, float]:
    """Stale-open share of each traded asset over ``first..last`` (NaN without opens)."""
    out = {}
    for key in assets:
        frame = market[key].frame
        out[key] = window_quality(frame, first, last).stale_share if "open" in frame else np.nan
    return out


def over_limit(market, shares: dict[str, float]) -> list[str]:
    """The keys of ``shares`` whose stale-open share is above their instrument's limit."""
    return [k for k, v in shares.items() if v > stale_limit(market[k].instrument)]


def check_open_fills(market, assets, first, last, allow: bool) -> dict[str, float]:
    """Refuse open fills on a traded series whose opens are mostly stale; returns the shares.

    ``market``: a ``MarketData``; ``assets``: the traded keys; ``first``/``last``: the fill
    sessions of the run; ``allow``: the run's explicit override (``--allow-stale-open``)."""
    shares = stale_shares(market, assets, first, last)
    stale = over_limit(market, shares)
    if allow or not stale:
        return shares
    key = stale[0]
    s, limit = market[key], stale_limit(market[key].instrument)
    raise DataError(
        f"{s.path.name}: {key}'s open equals the previous close on {shares[key]:.0%} of "
        f"sessions {first.date()}..{last.date()} (limit {limit:.0%}): such an open is "
        "yesterday's close, not a price one could trade at after the US session, so open "
        "fills would look ahead. Use --fill close, or a tradable ETF series for "
        f"{key} (e.g. ISO.AX for small caps, IOZ.AX for the ASX 200, mapped in the data "
        "folder's instruments.toml), or --allow-stale-open to run anyway (recorded in the "
        "manifest and on the report)."
    )
