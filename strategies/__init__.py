"""Built-in strategies and the registry the CLI reads.

Each strategy lives in its own module and subclasses ``engine.strategy.base.Strategy``; every class in
``REGISTRY`` passes ``engine.strategy.base.check_strategy_class`` when this package is imported, the same
checks a user's ``--strategy-file`` class must pass. The rule files in ``rules/`` (the flagship and the
easing cycles as rules, and ``rba-easing-momentum``) are registered under their own names too, so
``backtest run rba-easing-momentum`` works like ``--rule strategies/rules/rba-easing-momentum.toml``.
"""

from __future__ import annotations

from pathlib import Path

from engine.errors import StrategyError, did_you_mean
from engine.rules import load_rule
from engine.strategy.base import Strategy, check_strategy_class

from .buy_and_hold import BuyAndHold
from .fed_easing_cycle import FedEasingCycle
from .rba_easing_cycle import RbaEasingCycle
from .russell_fed_rotation import RussellFedRotation
from .russell_momentum_spillover import RussellMomentumSpillover
from .small_large_relative_strength import SmallLargeRelativeStrength
from .static_mix import StaticMix
from .trend import Trend

BUILT_INS: tuple[type[Strategy], ...] = (
    RussellFedRotation,
    BuyAndHold,
    FedEasingCycle,
    RbaEasingCycle,
    RussellMomentumSpillover,
    Trend,
    SmallLargeRelativeStrength,
    StaticMix,
)
for _cls in BUILT_INS:
    check_strategy_class(_cls, where=f"strategies/{_cls.__module__.rsplit('.', 1)[-1]}.py")

RULES: tuple[type[Strategy], ...] = tuple(
    load_rule(path) for path in sorted((Path(__file__).parent / "rules").glob("*.toml"))
)
REGISTRY: dict[str, type[Strategy]] = {cls.name: cls for cls in (*BUILT_INS, *RULES)}


def get_strategy(name: str) -> type[Strategy]:
    """The registered strategy class called ``name``."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise StrategyError(
            f"unknown strategy {name!r}.{did_you_mean(name, REGISTRY)} "
            f"Available: {', '.join(sorted(REGISTRY))} (see `backtest strategies list`)."
        ) from None
