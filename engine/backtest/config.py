"""The options of one run: ``RunConfig``, with each option's help text and fixed choices declared
beside its field, and ``parse_date`` for the window's dates.

Lives here: the fields (names, types, defaults), their one-line help (``metadata["help"]``) and
choices (``metadata["choices"]``), and the checks a config must pass. The command line derives its
run options from these fields (``engine.cli.options``), so this module stays light: it imports no
simulator (``Costs`` is loaded when a config is built), and ``backtest --help`` stays fast.
Not here: running (``engine.backtest.run``, which re-exports ``RunConfig`` and ``parse_date``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from engine import paths
from engine.errors import ConfigError
from engine.feeds.readers import FIRST_DATE, LAST_DATE
from engine.timing.timeline import CASH_RATE

if TYPE_CHECKING:
    from engine.sim.simulate import Costs

# Larger amounts lose the cent in float64 arithmetic (and 1e308 overflows the first valuation).
MAX_CASH = 1e15
FILLS = ("open", "close")


def parse_date(value: Any, flag: str) -> pd.Timestamp | None:
    """A ``--start``/``--end`` date (text such as ``"2010-01-01"``, a ``date`` or a ``Timestamp``)
    as a tz-naive day, or None; a ``ConfigError`` naming ``flag`` for anything else."""
    if value is None:
        return None
    if isinstance(value, bool | int | float):  # pd.Timestamp(2010) is 1970 plus 2010 ns
        raise ConfigError(f"{flag} {value!r} is not a date; use YYYY-MM-DD.")
    try:
        day = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        raise ConfigError(f"{flag} {value!r} is not a date; use YYYY-MM-DD.") from None
    if day is pd.NaT or not FIRST_DATE <= day.tz_localize(None) <= LAST_DATE:
        raise ConfigError(
            f"{flag} {value!r} is outside {FIRST_DATE.date()}..{LAST_DATE.date()}, the dates a run "
            "can cover; use YYYY-MM-DD within them."
        )
    return day.tz_localize(None).as_unit("ns")


def _option(default: Any, help: str, choices: tuple[str, ...] = ()) -> Any:
    """A field with its default, its one-line help and, for fixed-value options, the choices."""
    return field(default=default, metadata={"help": help, "choices": choices})


@dataclass(frozen=True)
class RunConfig:
    """Options of one run. Costs in basis points of traded value; dates inclusive."""

    data_dir: Path | None = _option(None, "data folder (default: the synthetic sample)")
    start: pd.Timestamp | None = _option(None, "first session, YYYY-MM-DD")
    end: pd.Timestamp | None = _option(None, "last session, YYYY-MM-DD")
    base_currency: str = _option("AUD", "currency the portfolio is valued in", tuple(CASH_RATE))
    fees_bps: float = _option(10.0, "fees in basis points of traded value")
    slippage_bps: float = _option(5.0, "slippage in basis points of the price")
    fill: str = _option("open", "decide before, and fill at, the session's open or close", FILLS)
    init_cash: float = _option(100_000.0, "starting cash in base currency")
    benchmark: str = _option("XJO", "instrument key bought and held for comparison")
    min_fee: float = _option(0.0, "minimum fee per order, in base currency")
    band: float = _option(0.0, "skip orders within this weight of their target")
    max_leverage: float = _option(1.0, "gross exposure cap (1 = no borrowing)")
    allow_stale_open: bool = _option(
        False, "fill at opens even where most equal the previous close (not tradable; recorded)"
    )

    def __post_init__(self) -> None:
        if self.base_currency not in CASH_RATE:
            raise ConfigError(
                f"base currency {self.base_currency!r} is not supported; use one of "
                f"{', '.join(CASH_RATE)}."
            )
        if self.fill not in FILLS:
            raise ConfigError(f"--fill must be 'open' or 'close'; got {self.fill!r}.")
        for name in ("fees_bps", "slippage_bps", "init_cash", "min_fee", "band", "max_leverage"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float | np.number):
                raise ConfigError(f"{name} must be a number; got {value!r}.")
            object.__setattr__(self, name, float(value))  # 5 and 5.0 are one config
        if self.fees_bps < 0 or self.slippage_bps < 0 or not 0 < self.init_cash <= MAX_CASH:
            raise ConfigError(
                "fees and slippage must be >= 0 bps and the initial cash above 0 and at most "
                f"{MAX_CASH:g}; got init_cash={self.init_cash!r}."
            )
        for name in ("base_currency", "fill", "benchmark"):
            if not isinstance(getattr(self, name), str):
                raise ConfigError(f"{name} must be text; got {getattr(self, name)!r}.")
        self.costs()  # validates the cost model
        if self.min_fee >= self.init_cash:
            raise ConfigError(
                f"--min-fee {self.min_fee:g} is at least the initial cash {self.init_cash:g}: no "
                "order could be paid for; lower --min-fee or raise --init-cash."
            )
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ConfigError(
                f"--start {self.start.date()} is after --end {self.end.date()}; swap them."
            )

    def costs(self) -> Costs:
        from engine.sim.simulate import Costs

        return Costs(self.fees_bps, self.slippage_bps, self.min_fee, self.band, self.max_leverage)

    def resolved(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["data_dir"] = str(self.data_dir or paths.sample_dir())
        for k in ("start", "end"):
            out[k] = None if out[k] is None else str(out[k].date())
        return out
