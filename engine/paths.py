"""Where the project's data files and run outputs live.

In a checkout (or an editable install) ``data/`` sits beside the ``engine`` package; an installed
wheel carries ``instruments.toml``, ``events/`` and ``sample/`` as package data in ``engine/_data``.
Run outputs go to ``./results`` unless a flag or ``CROSSCURRENT_RESULTS`` says otherwise; downloads
go to ``data/cache`` in a checkout, else to the user's cache folder, unless ``CROSSCURRENT_CACHE`` or
a flag says otherwise.
"""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def data_root() -> Path:
    """The folder holding ``instruments.toml``, ``events/`` and ``sample/``."""
    env = os.environ.get("CROSSCURRENT_DATA")
    if env:
        return Path(env)
    checkout = _PACKAGE_DIR.parent / "data"
    if (checkout / "instruments.toml").is_file():
        return checkout
    return _PACKAGE_DIR / "_data"


def installed() -> bool:
    """Whether the data files come from an installed package (``engine/_data``), not a checkout."""
    return data_root() == _PACKAGE_DIR / "_data"


def inside_package(path: Path) -> bool:
    """Whether ``path`` lies inside the installed ``engine`` or ``strategies`` package folders."""
    target = Path(path).resolve()
    return any(
        target == root or root in target.parents
        for root in (_PACKAGE_DIR, builtin_strategies_dir().resolve())
    )


def sample_dir() -> Path:
    return data_root() / "sample"


def events_dir() -> Path:
    return data_root() / "events"


def instruments_file() -> Path:
    return data_root() / "instruments.toml"


def results_root() -> Path:
    return Path(os.environ.get("CROSSCURRENT_RESULTS", "results"))


def cache_dir() -> Path:
    """Where ``backtest data fetch`` writes: ``$CROSSCURRENT_CACHE``, ``data/cache`` in a checkout,
    else ``$XDG_CACHE_HOME/crosscurrent`` (``~/.cache/crosscurrent``) for an installed wheel."""
    env = os.environ.get("CROSSCURRENT_CACHE")
    if env:
        return Path(env)
    root = data_root()
    if root != _PACKAGE_DIR / "_data":
        return root / "cache"
    return user_cache_dir()


def user_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/crosscurrent`` (``~/.cache/crosscurrent``): compiled kernels, calendars."""
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "crosscurrent"


def builtin_strategies_dir() -> Path:
    """The ``strategies`` package shipped beside ``engine`` (a checkout or site-packages)."""
    return _PACKAGE_DIR.parent / "strategies"
