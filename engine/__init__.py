"""crosscurrent: a backtesting engine for cross-market, event-driven rotation strategies.

The public Python API (``import engine`` or ``import crosscurrent``), loaded lazily so that
``backtest --help`` stays fast::

    import engine
    market = engine.load()                                    # the embedded sample; or a folder
    res = engine.run("russell-fed-rotation", hold_days=40)    # -> Backtest
    res.stats(); res.plot(); res.save(); res.to_vectorbt()
    g = engine.grid("russell-fed-rotation", hold_days=range(5, 61, 5))   # -> GridSearch
    g.table; g.best; g.honesty; g.heatmap("hold_days", "cut_window_days")
    engine.compare("russell-fed-rotation", "buy-and-hold")    # -> Compared
    engine.events("russell-fed-rotation"); engine.audit("trend"); engine.strategies()

The package is subpackages with ranks, imports flowing one way (``tests/test_layering.py``):
errors, paths <- stats, feeds <- timing <- sim <- strategy <- backtest <- research <- report <- store
<- api <- cli. ``strategies`` (a sibling package) imports ``engine``; ``api.builtins`` loads it.

Compiled kernels: importing ``engine`` sets ``NUMBA_CACHE_DIR`` (unless already set) to a folder
under ``~/.cache/crosscurrent/numba`` keyed by the engine's sources, for the whole process; numba
kernels of your own with ``cache=True`` in the same process are cached there too. Set
``NUMBA_CACHE_DIR`` yourself before importing ``engine`` to choose the folder.
"""

import hashlib
import os
from pathlib import Path

from engine.paths import user_cache_dir


def _key_numba_cache() -> None:
    """Point numba's disk cache at a folder keyed by the source of every engine/strategy module.

    numba invalidates a cached kernel only when its own file changes, not when a kernel it calls
    in another module does, so after an edit to e.g. ``stats.kernels.py`` a cached ``grid_nb``
    would keep the old code (seen: Dask workers disagreeing with in-process runs by 1e-13).
    Keying the folder by all sources makes any edit start a fresh cache. A user-set
    ``NUMBA_CACHE_DIR`` is respected.
    """
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    here = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for folder in (here, here.parent / "strategies"):
        for path in sorted(folder.rglob("*.py")):  # subpackages too: a kernel may live in one
            name = path.relative_to(folder).as_posix()
            digest.update(name.encode() + b"\0" + path.read_bytes())
    folder = user_cache_dir() / "numba" / digest.hexdigest()[:16]
    if not folder.is_dir():
        _prune(folder.parent, keep=KEEP_NUMBA_CACHES - 1)
    os.environ["NUMBA_CACHE_DIR"] = str(folder)


# Source versions whose compiled kernels are kept (~5 MB each); older ones go when a new one starts.
KEEP_NUMBA_CACHES = 4


def _prune(root: Path, keep: int) -> None:
    """Delete all but the ``keep`` most recently written cache folders under ``root`` (best effort)."""
    import shutil

    try:
        folders = sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
    except OSError:
        return
    for old in folders[: max(len(folders) - keep, 0)]:
        shutil.rmtree(old, ignore_errors=True)


_key_numba_cache()

from engine.errors import (  # noqa: E402 - the cache folder must be set before numba loads
    BacktestError,
    ConfigError,
    DataError,
    ParamError,
    StrategyError,
)

__version__ = "0.1.0"

# name -> module of the public API, imported on first use (PEP 562).
_LAZY = {
    "load": "engine.api.facade",
    "run": "engine.api.facade",
    "grid": "engine.api.facade",
    "compare": "engine.api.facade",
    "events": "engine.api.facade",
    "audit": "engine.api.facade",
    "strategies": "engine.api.facade",
    "config": "engine.api.facade",
    "Backtest": "engine.api.results",
    "GridSearch": "engine.api.research",
    "Compared": "engine.api.research",
    "Study": "engine.api.research",
    "Market": "engine.api.market",
    "RunConfig": "engine.backtest.run",
    "Strategy": "engine.strategy.base",
    "Param": "engine.strategy.base",
    "simulate": "engine.sim.portfolio",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value  # later lookups skip this hook
        return value
    raise AttributeError(f"module 'engine' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


__all__ = [
    "BacktestError",
    "ConfigError",
    "DataError",
    "ParamError",
    "StrategyError",
    "__version__",
    *_LAZY,
]
