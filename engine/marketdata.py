"""Reading a data folder: one file per instrument key, each value stamped with when it was known.

Lives here: ``Series`` (one instrument's dated values plus knowledge instants), ``MarketData`` (the
loaded folder) and the loader for the project's plain formats: ``date,open,high,low,close[,volume]``
for prices and ``date,value`` for rates, as CSV or Parquet. Not here: provider downloads, the
tolerant readers for raw Yahoo/FRED/RBA files, or full data validation (each its own module).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from engine import calendars
from engine.errors import DataError
from engine.instruments import Instrument, get_instrument, load_instruments

PRICE_COLUMNS = ("open", "high", "low", "close")


@dataclass(frozen=True)
class Series:
    """One instrument's data: ``frame`` indexed by date (tz-naive), ``known_ns`` per row (UTC ns)."""

    instrument: Instrument
    frame: pd.DataFrame
    known_ns: np.ndarray
    path: Path
    sha256: str

    @property
    def values(self) -> pd.Series:
        """Closes for prices, levels for rates (as stored: rates in percent)."""
        col = "close" if self.instrument.is_price else "value"
        return self.frame[col]

    def provenance(self) -> dict[str, object]:
        inst = self.instrument
        return {
            "key": inst.key,
            "name": inst.name,
            "source": str(self.path),
            "sha256": self.sha256,
            "first": str(self.frame.index[0].date()),
            "last": str(self.frame.index[-1].date()),
            "rows": len(self.frame),
            "returns": inst.returns or inst.kind,
        }


@dataclass(frozen=True)
class MarketData:
    """The instruments loaded from one folder, keyed by instrument key."""

    folder: Path
    series: dict[str, Series]
    synthetic: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)

    def __getitem__(self, key: str) -> Series:
        if key not in self.series:
            raise DataError(
                f"{self.folder}: no data for instrument {key!r}; add {key}.csv or {key}.parquet."
            )
        return self.series[key]

    def truncated(self, instant_ns: int) -> MarketData:
        """The same data with every observation known at or after ``instant_ns`` removed."""
        cut = {}
        for key, s in self.series.items():
            keep = s.known_ns < instant_ns
            cut[key] = Series(s.instrument, s.frame[keep], s.known_ns[keep], s.path, s.sha256)
        return MarketData(self.folder, cut, self.synthetic, self.notes)


def _read_table(path: Path) -> pd.DataFrame:
    try:
        if path.suffix == ".parquet":
            return pd.read_parquet(path)
        return pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise DataError(
            f"{path}: could not be read ({exc}); check the file is CSV or Parquet."
        ) from None


def _check_frame(frame: pd.DataFrame, inst: Instrument, path: Path) -> pd.DataFrame:
    if "date" not in frame.columns:
        raise DataError(f"{path}: no 'date' column (found {list(frame.columns)}); name it 'date'.")
    if frame.empty:
        raise DataError(f"{path}: the file has no rows; supply at least one dated value.")
    needed = ("close",) if inst.is_price else ("value",)
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise DataError(
            f"{path}: missing column(s) {', '.join(missing)} for a {inst.kind} series; "
            f"expected date,{'open,high,low,close' if inst.is_price else 'value'}."
        )
    dates = pd.to_datetime(frame["date"].astype(str), format="ISO8601", errors="coerce")
    if dates.isna().any():
        row = int(np.flatnonzero(dates.isna())[0])
        raise DataError(
            f"{path}: row {row + 2}, column date: {frame['date'].iloc[row]!r} is not a date; "
            "use YYYY-MM-DD."
        )
    out = frame.drop(columns="date").set_index(pd.DatetimeIndex(dates, name="date").as_unit("ns"))
    if not out.index.is_monotonic_increasing or out.index.has_duplicates:
        bad = int(np.flatnonzero(~(np.diff(out.index.asi8) > 0))[0]) + 1
        raise DataError(
            f"{path}: row {bad + 2} (date {out.index[bad].date()}) is out of order or duplicated; "
            "sort by date and keep one row per date."
        )
    cols = [c for c in (PRICE_COLUMNS if inst.is_price else ("value",)) if c in out.columns]
    values = out[cols].astype("float64")
    finite = np.isfinite(values.to_numpy())
    positive = values.to_numpy() > 0 if inst.is_price else np.ones_like(finite)
    bad_rows, bad_cols = np.nonzero(~(finite & positive))
    if bad_rows.size:
        r, c = int(bad_rows[0]), cols[int(bad_cols[0])]
        raise DataError(
            f"{path}: row {r + 2}, column {c}: {values.iloc[r][c]!r} is not a positive finite "
            "number; fix or remove the row."
        )
    return values


def load_series(path: Path, inst: Instrument) -> Series:
    frame = _check_frame(_read_table(path), inst, path)
    known = calendars.knowledge_instants(inst, frame.index, str(path))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return Series(inst, frame, known, path, digest)


def find_file(folder: Path, key: str) -> Path | None:
    for suffix in (".parquet", ".csv"):
        candidate = folder / f"{key}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def load_folder(folder: Path, keys: list[str], synthetic: bool = False) -> MarketData:
    """Load the instruments ``keys`` from ``folder`` (``KEY.csv`` or ``KEY.parquet`` each).

    ``folder/instruments.toml``, when present, overrides or adds instrument definitions.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"data folder {folder} does not exist; pass an existing --data-dir.")
    instruments = load_instruments(overrides=folder / "instruments.toml")
    missing = [k for k in keys if find_file(folder, k) is None]
    if missing:
        raise DataError(
            f"{folder}: missing data for {', '.join(missing)}; add "
            f"{', '.join(k + '.csv' for k in missing)} (or .parquet)."
        )
    series = {k: load_series(find_file(folder, k), get_instrument(instruments, k)) for k in keys}
    synthetic = synthetic or (folder / "SYNTHETIC").is_file()
    return MarketData(folder, series, synthetic=synthetic)
