"""Loading a user's strategy from a file: ``--strategy-file path/to/my.py:MyStrategy``.

Lives here: parsing the ``PATH:CLASS`` spec, importing the file as a private module, finding the
class and running the same declaration checks the built-ins pass (``check_strategy_class``). Every
failure is a ``StrategyError`` naming the file (and the line, for a file that fails to import) and
the fix. Not here: the registry of built-ins (``strategies``).
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import traceback
from pathlib import Path

from engine.errors import StrategyError, did_you_mean
from engine.strategy.base import Strategy, check_strategy_class

SPEC_HELP = "write --strategy-file path/to/my.py:MyStrategy"


def parse_spec(spec: str) -> tuple[Path, str]:
    """``"dir/my.py:MyStrategy"`` -> (Path("dir/my.py"), "MyStrategy")."""
    path_text, sep, cls_name = spec.rpartition(":")
    if not sep or not path_text or not cls_name.isidentifier():
        raise StrategyError(f"--strategy-file {spec!r} is not PATH:CLASS; {SPEC_HELP}.")
    return Path(path_text), cls_name


def _line_in(path: Path, exc: BaseException) -> int | None:
    """The last line of ``path`` in the traceback of ``exc`` (where the import went wrong)."""
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if Path(frame.filename).resolve() == path.resolve():
            line = frame.lineno
    return line


def _import(path: Path):
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:10]
    name = f"crosscurrent_user_{path.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise StrategyError(f"{path}: cannot be imported as Python; give a .py file.")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look modules up by name
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        sys.modules.pop(name, None)
        raise StrategyError(
            f"{path}:{exc.lineno}: syntax error ({exc.msg}); fix the file and try again."
        ) from None
    except (Exception, SystemExit) as exc:  # the user's module may raise anything, even exit
        sys.modules.pop(name, None)
        line = _line_in(path, exc)
        where = f"{path}:{line}" if line else str(path)
        raise StrategyError(
            f"{where}: importing the strategy file failed with {type(exc).__name__}: {exc}; "
            "fix the file (it must import without errors)."
        ) from None
    return module


def load_strategy_file(spec: str) -> type[Strategy]:
    """The strategy class named in ``spec`` (``PATH:CLASS``), checked like a built-in."""
    path, cls_name = parse_spec(spec)
    if not path.is_file():
        raise StrategyError(f"--strategy-file: {path} does not exist; {SPEC_HELP}.")
    if path.suffix != ".py":
        raise StrategyError(f"--strategy-file: {path} is not a .py file; {SPEC_HELP}.")
    module = _import(path)
    cls = getattr(module, cls_name, None)
    if cls is None:
        found = _classes(module)
        raise StrategyError(
            f"{path} does not define {cls_name!r}.{did_you_mean(cls_name, found)} "
            f"Strategy classes in the file: {', '.join(found) or '(none)'}."
        )
    check_strategy_class(cls, where=f"{path}:{cls_name}")
    return cls


def _classes(module) -> list[str]:
    return sorted(
        k
        for k, v in vars(module).items()
        if isinstance(v, type) and issubclass(v, Strategy) and v.__module__ == module.__name__
    )


def strategy_classes(path: Path) -> list[str]:
    """Names of the ``Strategy`` subclasses defined in the file ``path`` (not merely imported)."""
    if not Path(path).is_file():
        raise StrategyError(f"strategy file {path} does not exist; {SPEC_HELP}.")
    return _classes(_import(Path(path)))
