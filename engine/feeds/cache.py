"""The download cache: one Parquet file per instrument key plus a JSON sidecar, written atomically.

Lives here: ``store`` (a canonical frame and its provenance -> ``KEY.parquet`` and ``KEY.json``),
``meta`` (read one sidecar) and ``entries`` (what the cache holds). Both files are first written to
temporary names in the same folder and then moved over the old ones with ``os.replace``, so a crash
or a refused download never leaves a half-written file; the sidecar records the Parquet file's
SHA-256, so a pair torn apart by a crash between the two moves is detected. The cache folder is an
ordinary data folder: ``backtest run ... --data-dir data/cache``.

Not here: downloading (``providers``), reading the Parquet back (``readers`` via ``marketdata``).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import pandas as pd

from engine.errors import DataError
from engine.feeds.datafiles import read_bytes

SIDE = ".json"
SIDECAR_BYTES = 2**16  # a sidecar is a few hundred bytes


def _staged(folder: Path, name: str) -> Path:
    fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    os.close(fd)
    return Path(tmp)


def store(folder: Path, key: str, frame: pd.DataFrame, info: dict) -> dict:
    """Write ``frame`` (a ``date`` column plus value columns) as ``folder/KEY.parquet`` with a
    sidecar holding ``info`` (source, symbol, url, fetched_at) plus rows, first, last and sha256.
    Returns the sidecar's contents."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DataError(
            f"cache folder {folder} cannot be created ({exc}); pass --out DIR."
        ) from None
    data, side = _staged(folder, f"{key}.parquet"), _staged(folder, f"{key}{SIDE}")
    try:
        frame.to_parquet(data, index=False)
        dates = pd.DatetimeIndex(frame["date"])
        out = {
            "key": key,
            **info,
            "rows": len(frame),
            "first": str(dates[0].date()),
            "last": str(dates[-1].date()),
            "columns": [c for c in frame.columns if c != "date"],
            "sha256": hashlib.sha256(data.read_bytes()).hexdigest(),
        }
        side.write_text(json.dumps(out, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(data, folder / f"{key}.parquet")
        os.replace(side, folder / f"{key}{SIDE}")
    finally:
        for leftover in (data, side):
            leftover.unlink(missing_ok=True)
    return out


def meta(folder: Path, key: str) -> dict | None:
    """The sidecar of ``KEY`` in ``folder`` with ``consistent`` (the Parquet file matches it)."""
    side, data = Path(folder) / f"{key}{SIDE}", Path(folder) / f"{key}.parquet"
    if not side.is_file():
        return None
    try:
        # Read through ``datafiles``: a data folder may hold a FIFO or a huge file by that name.
        out = json.loads(read_bytes(side, SIDECAR_BYTES).decode("utf-8"))
        digest = hashlib.sha256(read_bytes(data)).hexdigest() if data.is_file() else None
    except (DataError, ValueError):
        return {"key": key, "consistent": False}
    if not isinstance(out, dict):
        return {"key": key, "consistent": False}
    out["consistent"] = digest == out.get("sha256") and _well_formed(out)
    return out


def _well_formed(side: dict) -> bool:
    """The fields ``data list`` and ``data fetch`` read, of the types ``store`` writes."""
    texts = ("first", "last", "source", "symbol", "fetched_at")
    rows = side.get("rows")
    return all(isinstance(side.get(k), str) for k in texts) and type(rows) is int


def entries(folder: Path) -> list[dict]:
    """Every cached key's sidecar (see ``meta``), by key."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    keys = sorted(p.stem for p in folder.glob(f"*{SIDE}") if not p.name.startswith("."))
    return [m for k in keys if (m := meta(folder, k)) is not None]
