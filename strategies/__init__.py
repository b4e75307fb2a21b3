"""Built-in strategies and the registry the CLI reads.

Each strategy lives in its own module and subclasses ``engine.strategy.Strategy``.
"""

from __future__ import annotations

from engine.errors import StrategyError, did_you_mean
from engine.strategy import Strategy
from strategies.buy_and_hold import BuyAndHold
from strategies.russell_fed_rotation import RussellFedRotation

REGISTRY: dict[str, type[Strategy]] = {cls.name: cls for cls in (RussellFedRotation, BuyAndHold)}


def get_strategy(name: str) -> type[Strategy]:
    """The registered strategy class called ``name``."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise StrategyError(
            f"unknown strategy {name!r}.{did_you_mean(name, REGISTRY)} "
            f"Available: {', '.join(sorted(REGISTRY))} (see `backtest strategies list`)."
        ) from None
