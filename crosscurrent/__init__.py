"""crosscurrent: the documented entry point, a thin alias of ``engine``'s public API.

``import crosscurrent as cc; cc.run("russell-fed-rotation").stats()`` is ``engine.run(...)``;
every name resolves lazily through ``engine`` (see its docstring for the API).
"""

import engine
from engine import (
    BacktestError,
    ConfigError,
    DataError,
    ParamError,
    StrategyError,
    __all__,
    __version__,
)


def __getattr__(name: str):
    if name in engine.__all__:
        return getattr(engine, name)
    raise AttributeError(f"module 'crosscurrent' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *engine.__all__})


_ = (BacktestError, ConfigError, DataError, ParamError, StrategyError, __all__, __version__)
