"""crosscurrent: a backtesting engine for cross-market, event-driven rotation strategies.

The package is layered so imports flow one way:
``kernels`` (numpy + numba only) <- pandas-facing wrappers (``simulate``, ``metrics``, ``align``,
``marketdata``, ``events``) <- the run API (``api``) <- the CLI (``cli``). ``strategies`` (a sibling
package) imports ``engine``; ``engine`` imports ``strategies`` only in the CLI's registry lookup.
"""

from engine.errors import BacktestError, ConfigError, DataError, ParamError, StrategyError

__version__ = "0.1.0"

__all__ = [
    "BacktestError",
    "ConfigError",
    "DataError",
    "ParamError",
    "StrategyError",
    "__version__",
]
