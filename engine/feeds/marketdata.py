"""Reading a data folder: one file per instrument key, each value stamped with when it was known.

Lives here: ``Series`` (one instrument's dated values plus knowledge instants), ``MarketData`` (the
loaded folder) and ``load_folder``: find ``KEY.parquet`` or ``KEY.csv`` per key (whatever sits at
that name: a directory or FIFO there is refused by name, never skipped or opened), read it
(``readers``: plain ``date,open,high,low,close[,volume]`` / ``date,value`` files and raw
Yahoo/FRED/RBA downloads), refuse it if the validator finds an error (``validate``) or if a price
series has fewer than two rows, convert fraction-unit rates to percent, and stamp each row with the
instant it became known (``calendars``). Warnings become ``MarketData.notes``.
Also ``validate_folder`` and ``describe_folder``, which check and list a folder's files.
Not here: provider downloads (``providers``), the checks themselves.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from engine.errors import DataError, did_you_mean
from engine.feeds import calendars, readers, validate
from engine.feeds.instruments import Instrument, get_instrument, load_instruments
from engine.feeds.readers import PRICE_COLUMNS
from engine.feeds.validate import Problem

NOTES_PER_FILE = 10  # warnings kept per file in a run's notes (data validate lists them all)

__all__ = [
    "PRICE_COLUMNS",
    "MarketData",
    "Series",
    "describe_folder",
    "find_file",
    "load_folder",
    "load_series",
    "validate_folder",
]


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
            **({"fixing": inst.fixing} if inst.fixing else {}),
        }


@dataclass(frozen=True)
class MarketData:
    """The instruments loaded from one folder, keyed by instrument key; ``notes`` has one line per
    validation warning (``warning_notes``; errors never load)."""

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


def _load(path: Path, inst: Instrument) -> tuple[Series, list[Problem]]:
    """Read, validate (refusing hard problems), convert units, stamp knowledge instants."""
    table = readers.read_table(path, inst)
    problems = validate.check_table(table, inst)
    validate.raise_for_errors(problems, path.parent)
    short = [p for p in problems if p.check == "rows"]
    if short:  # a warning for `data validate` (a file may be checked alone), fatal to a run
        raise DataError(short[0].line())
    frame = table.series_frame(inst)
    if inst.units == "fraction":
        frame = frame * 100.0  # the engine keeps rates in percent, as published
    known = calendars.knowledge_instants(inst, frame.index, str(path))
    return Series(inst, frame, known, path, table.sha256), problems


def load_series(path: Path, inst: Instrument) -> Series:
    """One file as a ``Series``; ``DataError`` on anything the validator calls an error."""
    return _load(Path(path), inst)[0]


def find_file(folder: Path, key: str) -> Path | None:
    """``KEY.parquet``, else ``KEY.csv``: whatever sits at that name (a directory or a FIFO too,
    which the reader then refuses by name), so nothing at the right name is passed over."""
    for suffix in (".parquet", ".csv"):
        candidate = Path(folder) / f"{key}{suffix}"
        if os.path.lexists(candidate):
            return candidate
    return None


def _near_misses(folder: Path, missing: list[str]) -> str:
    """A hint naming files that differ from a missing key only in case (``rut.csv`` or
    ``RUT.CSV`` for RUT)."""
    found = {p.stem.lower(): p for p in data_files(folder)}
    hints = []
    for k in missing:
        if k.lower() in found:
            p = found[k.lower()]
            hints.append(f"{p.name} -> {k}{p.suffix.lower()}")
    return f" Rename {', '.join(hints)} (names are case-sensitive)." if hints else ""


def load_folder(folder: Path, keys: list[str], synthetic: bool = False) -> MarketData:
    """Load the instruments ``keys`` from ``folder`` (``KEY.parquet`` or ``KEY.csv`` each).

    ``folder/instruments.toml``, when present, overrides or adds instrument definitions. Unknown
    keys, missing files (all listed) and any file with a validation error raise ``DataError``
    before anything is returned.
    """
    folder = Path(folder)
    if not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else "does not exist"
        raise DataError(f"data folder {folder} {what}; pass an existing folder as --data-dir.")
    instruments = load_instruments(overrides=folder / "instruments.toml")
    known = {k: get_instrument(instruments, k) for k in keys}
    missing = [k for k in keys if find_file(folder, k) is None]
    if missing:
        raise DataError(
            f"{folder}: missing data for {', '.join(missing)}; add "
            f"{', '.join(k + '.csv' for k in missing)} (or .parquet).{_near_misses(folder, missing)}"
        )
    series, notes = {}, []
    for key in keys:
        series[key], problems = _load(find_file(folder, key), known[key])
        notes += warning_notes(problems)
    synthetic = synthetic or (folder / "SYNTHETIC").is_file()
    return MarketData(folder, series, synthetic=synthetic, notes=tuple(notes))


def warning_notes(problems: list[Problem]) -> list[str]:
    """One line per validation warning, naming the file but not its folder (so a summary does not
    depend on how the data folder was spelled); past ``NOTES_PER_FILE``, one line with the count."""
    warned = [p for p in problems if p.severity == "warning"]
    out = [replace(p, file=Path(p.file).name).line() for p in warned[:NOTES_PER_FILE]]
    if len(warned) > NOTES_PER_FILE:
        name = Path(warned[0].file).name
        out.append(
            f"{name}: {len(warned) - NOTES_PER_FILE} more data warning(s); "
            "`backtest data validate` on the data folder lists them."
        )
    return out


def describe_folder(folder: Path) -> list[dict[str, object]]:
    """One row per instrument file in ``folder``: key, file, rows, first, last and source (a cache
    sidecar's source and symbol, else the file's layout). Files are read, not validated."""
    from engine.feeds import cache  # only listing needs the cache's sidecars

    folder = Path(folder)
    if not folder.is_dir():
        return []
    instruments = load_instruments(overrides=folder / "instruments.toml")
    rows = []
    for key, inst in instruments.items():
        path = find_file(folder, key)
        if path is None:
            continue
        row: dict[str, object] = {"key": key, "file": path.name}
        meta = cache.meta(folder, key) if path.suffix == ".parquet" else None
        if meta and meta.get("consistent"):
            row.update(rows=meta["rows"], first=meta["first"], last=meta["last"])
            row["source"] = f"{meta['source']} {meta['symbol']} ({meta['fetched_at'][:10]})"
        else:
            try:
                table = readers.read_table(path, inst)
            except DataError as exc:
                row.update(rows="-", first="-", last="-", source=f"unreadable: {exc}")
            else:
                first, last = table.dates.min().date(), table.dates.max().date()
                row.update(rows=len(table.frame), first=str(first), last=str(last))
                row["source"] = table.layout
        rows.append(row)
    return rows


def data_files(folder: Path) -> list[Path]:
    """The CSV and Parquet files of a folder (suffix in any case), by name; listed, not opened."""
    return sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in (".csv", ".parquet"))


def validate_folder(folder: Path) -> list[validate.FileReport]:
    """Check every data file in ``folder``; files not named by an instrument key are flagged."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"{folder} is not a folder or file; pass an existing path.")
    instruments = load_instruments(overrides=folder / "instruments.toml")
    reports = []
    files = data_files(folder)
    for odd in (p for p in files if p.suffix not in (".csv", ".parquet")):
        msg = f"is not read: a run looks for {odd.stem}{odd.suffix.lower()}"
        fix = f"rename {odd.name} -> {odd.stem}{odd.suffix.lower()}"
        problem = validate.Problem("warning", str(odd), None, None, None, msg, fix, "name")
        reports.append(validate.FileReport(odd, odd.stem, None, [problem]))
    for stem in dict.fromkeys(p.stem for p in files if p.suffix in (".csv", ".parquet")):
        csv, parquet = folder / f"{stem}.csv", folder / f"{stem}.parquet"
        path = parquet if os.path.lexists(parquet) else csv
        if stem not in instruments:
            msg = f"is not named by an instrument key.{did_you_mean(stem, instruments)}"
            fix = "name files KEY.csv or KEY.parquet after a key in instruments.toml"
            problem = validate.Problem("warning", str(path), None, None, None, msg, fix, "name")
            reports.append(validate.FileReport(path, stem, None, [problem]))
            continue
        report = validate.validate_file(path, instruments[stem])
        if path == parquet and os.path.lexists(csv):
            msg = f"{csv.name} is ignored: {parquet.name} is the file loaded"
            report.problems.append(
                validate.Problem("note", str(path), None, None, None, msg, "", "shadowed")
            )
        reports.append(report)
    return reports
