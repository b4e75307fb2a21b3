"""Central-bank decision tables (``data/events/fomc.csv``, ``rba.csv``) with knowledge instants.

Lives here: reading and checking the tables, and stamping each decision with the UTC instant it became
known: its announcement time in its own zone; for FOMC moves before February 1994 (when the Fed
announced nothing) the next US session open after the decision date. Not here: deriving features
such as "days since the last cut" (strategies do that through ``align``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from engine import paths
from engine.errors import DataError
from engine.feeds import calendars

BANKS = {
    "fomc": ("date", "time", "tz", "target_low", "target_high", "change_bps", "scheduled"),
    "rba": ("date", "time", "tz", "cash_rate", "change_bps", "scheduled"),
}
_LEVEL = {"fomc": "target_high", "rba": "cash_rate"}


@dataclass(frozen=True)
class Decisions:
    """One bank's decisions, ascending: ``frame`` (date-indexed) and ``known_ns`` (UTC int64 ns)."""

    bank: str
    frame: pd.DataFrame
    known_ns: np.ndarray
    path: Path

    @property
    def level(self) -> pd.Series:
        """The new policy rate in percent (FOMC: upper bound of the range)."""
        return self.frame[_LEVEL[self.bank]]

    def changes(self, sign: int) -> tuple[pd.DataFrame, np.ndarray]:
        """Decisions that moved the rate in direction ``sign`` (-1 cuts, +1 hikes) and their instants."""
        mask = np.sign(self.frame["change_bps"].to_numpy()) == sign
        return self.frame[mask], self.known_ns[mask]

    def truncated(self, instant_ns: int) -> Decisions:
        keep = self.known_ns < instant_ns
        return Decisions(self.bank, self.frame[keep], self.known_ns[keep], self.path)


def _known_ns(frame: pd.DataFrame, bank: str, path: Path) -> np.ndarray:
    out = np.empty(len(frame), dtype=np.int64)
    timed = frame["time"].notna().to_numpy()
    text = frame.index.strftime("%Y-%m-%d ") + frame["time"].fillna("00:00").to_numpy(str)
    local = pd.to_datetime(pd.Series(text), format="%Y-%m-%d %H:%M", errors="coerce")
    if local.isna().any():
        row = int(np.flatnonzero(local.isna())[0])
        raise DataError(
            f"{path}: row {row + 2}, column time: {frame['time'].iloc[row]!r} is not a time; "
            "use 24-hour HH:MM local time (e.g. 14:30)."
        )
    for tz in frame["tz"].unique():
        rows = (frame["tz"] == tz).to_numpy() & timed
        if rows.any():
            aware = pd.DatetimeIndex(local[rows]).tz_localize(
                tz, nonexistent="shift_forward", ambiguous=False
            )
            out[rows] = aware.tz_convert("UTC").as_unit("ns").asi8
    if (~timed).any():
        if bank != "fomc":
            row = int(np.flatnonzero(~timed)[0])
            raise DataError(
                f"{path}: row {row + 2}, column time is empty; every RBA decision needs its "
                "announcement time (HH:MM, Sydney)."
            )
        # Unannounced (pre-1994) FOMC moves became visible at the next US session's open.
        nyse = calendars.sessions("XNYS")
        nxt = nyse.labels.searchsorted(frame.index[~timed], side="right")
        out[~timed] = nyse.open_ns[nxt]
    return out


def load_decisions(bank: str, folder: Path | None = None) -> Decisions:
    """Read ``fomc.csv`` or ``rba.csv`` from ``folder`` (default: the project's ``data/events``)."""
    path = Path(folder or paths.events_dir()) / f"{bank}.csv"
    if not path.is_file():
        raise DataError(f"{path} is missing; restore data/events/{bank}.csv from the repository.")
    frame = pd.read_csv(path, dtype={"time": "string", "tz": "string"})
    if tuple(frame.columns) != BANKS[bank]:
        raise DataError(f"{path}: columns {list(frame.columns)}; expected {','.join(BANKS[bank])}.")
    dates = pd.to_datetime(frame["date"], format="%Y-%m-%d", errors="coerce")
    if dates.isna().any():
        row = int(np.flatnonzero(dates.isna())[0])
        raise DataError(
            f"{path}: row {row + 2}, column date: {frame['date'][row]!r}; use YYYY-MM-DD."
        )
    frame = frame.drop(columns="date").set_index(pd.DatetimeIndex(dates, name="date").as_unit("ns"))
    if not frame.index.is_monotonic_increasing:
        raise DataError(f"{path}: dates are not in ascending order; sort the file by date.")
    frame["scheduled"] = frame["scheduled"].astype(str).str.lower().eq("true")
    return Decisions(bank, frame, _known_ns(frame, bank, path), path)
