"""What ``engine.load`` returns: a data folder's series as pandas objects.

``Market`` loads every instrument that has a file in the folder (``KEY.csv`` or ``KEY.parquet``,
defined in ``instruments.toml``), validated exactly as a run loads it: a file with an error is
refused with the run's message, warnings are kept in ``notes``. ``market["RUT"]`` is that series'
DataFrame (date index; ``open/high/low/close[/volume]`` for prices, ``value`` for rates and FX),
``market.closes()`` a frame of closes (levels for rates) on the union of dates, and
``market.instrument("RUT")`` its declaration (calendar, time zone, currency, when it is known).
Runs given ``data=market`` read the same folder.
"""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd

from engine.errors import DataError, did_you_mean
from engine.feeds.instruments import Instrument, load_instruments
from engine.feeds.marketdata import MarketData, find_file, load_folder


class Market:
    """The series of one data folder (see the module docstring); ``raw`` is the engine's view."""

    def __init__(self, raw: MarketData) -> None:
        self.raw = raw

    @classmethod
    def load(cls, folder: Path) -> Market:
        folder = Path(folder)
        if not folder.is_dir():
            what = "is a file, not a folder" if folder.exists() else "does not exist"
            raise DataError(f"data folder {folder} {what}; pass an existing folder.")
        instruments = load_instruments(overrides=folder / "instruments.toml")
        keys = [k for k in instruments if find_file(folder, k) is not None]
        if not keys:
            raise DataError(
                f"{folder} holds no file named for an instrument (KEY.csv or KEY.parquet with KEY "
                "in instruments.toml); see `backtest data list`."
            )
        return cls(load_folder(folder, keys))

    @property
    def folder(self) -> Path:
        return self.raw.folder

    @property
    def keys(self) -> list[str]:
        return list(self.raw.series)

    @property
    def notes(self) -> tuple[str, ...]:
        """Validation warnings (errors never load)."""
        return self.raw.notes

    @property
    def synthetic(self) -> bool:
        return self.raw.synthetic

    def __contains__(self, key: object) -> bool:
        return key in self.raw.series

    def __iter__(self):
        return iter(self.keys)

    def __len__(self) -> int:
        return len(self.raw.series)

    def __getitem__(self, key: str) -> pd.DataFrame:
        if key not in self.raw.series:
            raise KeyError(
                f"{key!r}: no such series in {self.folder}.{did_you_mean(key, self.keys)} "
                f"Series: {', '.join(self.keys)}."
            )
        return self.raw.series[key].frame

    def instrument(self, key: str) -> Instrument:
        self[key]  # the same KeyError for an unknown key
        return self.raw.series[key].instrument

    def closes(self) -> pd.DataFrame:
        """One column per series: closes for prices, values for rates and FX (as stored)."""
        return pd.DataFrame({k: s.values for k, s in self.raw.series.items()})

    def describe(self) -> pd.DataFrame:
        """One row per series: name, kind, calendar, currency, first and last date, rows."""
        rows = []
        for key, s in self.raw.series.items():
            inst, idx = s.instrument, s.frame.index
            rows.append({"key": key, "name": inst.name, "kind": inst.kind,
                         "calendar": inst.calendar, "currency": inst.currency,
                         "first": idx[0].date(), "last": idx[-1].date(),
                         "rows": len(s.frame)})  # fmt: skip
        return pd.DataFrame(rows).set_index("key")

    def __repr__(self) -> str:
        kind = "synthetic sample" if self.synthetic else "data"
        return f"<Market {kind} {self.folder}: {', '.join(self.keys)}>"

    def _repr_html_(self) -> str:
        return f"<div><b>{html.escape(repr(self)[1:-1])}</b>{self.describe().to_html()}</div>"
