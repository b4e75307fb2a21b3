"""The built-in strategies, found even when a user's own ``strategies`` package shadows ours.

``import strategies`` in a notebook whose working folder holds a ``strategies/`` package of the
user's own imports theirs, not ours (``ImportError: cannot import name 'REGISTRY'``). ``registry``
imports the package shipped beside ``engine`` (``paths.builtin_strategies_dir``) and, when the name
``strategies`` is taken by another folder, loads ours under a private name instead; the built-in
modules import each other relatively, so they work under either name. Lives here: ``registry``,
``get_strategy`` and ``resolve`` (a strategy given by name, class, instance or file path).
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
from pathlib import Path
from types import ModuleType

from engine import paths
from engine.errors import StrategyError
from engine.strategy.base import Strategy

PRIVATE_NAME = "crosscurrent_builtin_strategies"


def _ours(module: ModuleType) -> bool:
    file = getattr(module, "__file__", None)
    return file is not None and Path(file).resolve().parent == _folder()


def _folder() -> Path:
    return paths.builtin_strategies_dir().resolve()


def _load_private() -> ModuleType:
    if PRIVATE_NAME in sys.modules:
        return sys.modules[PRIVATE_NAME]
    init = _folder() / "__init__.py"
    spec = importlib.util.spec_from_file_location(
        PRIVATE_NAME, init, submodule_search_locations=[str(_folder())]
    )
    if spec is None or spec.loader is None or not init.is_file():
        raise StrategyError(f"the built-in strategies are missing from {_folder()}; reinstall.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[PRIVATE_NAME] = module  # submodules and pickling look the package up by name
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(PRIVATE_NAME, None)
        raise
    return module


def builtin_package() -> ModuleType:
    """Our ``strategies`` package, whatever ``import strategies`` would find."""
    module = sys.modules.get("strategies")
    if module is None:
        try:
            module = importlib.import_module("strategies")
        except ImportError:
            module = None
    if module is not None and _ours(module):
        return module
    return _load_private()


def shadowing_folder() -> Path | None:
    """The folder of a ``strategies`` package that is not ours, if ``import strategies`` finds one."""
    module = sys.modules.get("strategies")
    if module is None:
        spec = importlib.util.find_spec("strategies")
        origin = spec.origin if spec is not None else None
    else:
        origin = getattr(module, "__file__", None)
    if origin is None or Path(origin).resolve().parent == _folder():
        return None
    return Path(origin).resolve().parent


def registry() -> dict[str, type[Strategy]]:
    """Built-in strategy name -> class."""
    return dict(builtin_package().REGISTRY)


def get_strategy(name: str) -> type[Strategy]:
    """The built-in strategy class called ``name`` (a ``StrategyError`` with suggestions if none)."""
    return builtin_package().get_strategy(name)


def _from_file(path: Path, cls_name: str | None) -> type[Strategy]:
    from engine.strategy.file import load_strategy_file, strategy_classes

    if cls_name:
        return load_strategy_file(f"{path}:{cls_name}")
    found = strategy_classes(path)
    if len(found) != 1:
        names = ", ".join(found) or "none"
        raise StrategyError(
            f"{path} defines {len(found)} Strategy subclasses ({names}); name one: "
            f"'{path}:ClassName'."
        )
    return load_strategy_file(f"{path}:{found[0]}")


def resolve(strategy: str | Path | type[Strategy] | Strategy) -> Strategy:
    """A strategy instance from a built-in name, a class, an instance, a file path (``"my.py"``
    with one ``Strategy`` subclass, or ``"my.py:MyStrategy"``) or a rule file (``"rule.toml"``)."""
    if isinstance(strategy, Strategy):
        return strategy
    if inspect.isclass(strategy) and issubclass(strategy, Strategy):
        return strategy()
    if isinstance(strategy, str | Path) and str(strategy).lower().endswith(".toml"):
        from engine.rules import load_rule

        return load_rule(strategy)()
    if isinstance(strategy, Path) or (
        isinstance(strategy, str) and (strategy.endswith(".py") or ".py:" in strategy)
    ):
        text = str(strategy)
        path, sep, cls_name = text.rpartition(":") if ".py:" in text else (text, "", "")
        return _from_file(Path(path), cls_name or None)()
    if isinstance(strategy, str):
        return get_strategy(strategy)()
    raise StrategyError(
        f"strategy {strategy!r} is not a name, a Strategy class or instance, or a file path; "
        "see engine.strategies() for the built-in names."
    )
