"""The house: engine/ is subpackages with ranks, and imports flow one way (checked with ast).

rank 0  errors, paths
rank 1  stats (metric kernels, metrics, overfitting), feeds (instruments, calendars, data files)
rank 2  timing (alignment, the step timeline)
rank 3  sim (accounting kernels, orders, simulate)
rank 4  strategy (Param, Strategy, spaces, strategy files, the audit)
rank 5  backtest (config, prepare, run, event study, diagnostics);
        rules (blocks, rule files, the rule machine)
rank 6  research (grid, walk-forward, cluster, compare, honesty)
rank 7  report (pages and charts)
rank 8  store (result folders, saved runs)
rank 9  api (the public Python API: engine.run, engine.grid, ...; the built-in registry)
rank 10 cli

A module imports only from its own subpackage or lower ranks; kernels use numpy and numba only;
only the CLI imports typer or rich, only ``api.builtins`` imports the built-in strategies, and
strategies import the engine.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENGINE = ROOT / "engine"
RANKS = {
    "errors": 0, "paths": 0, "stats": 1, "feeds": 1, "timing": 2, "sim": 3, "strategy": 4,
    "backtest": 5, "rules": 5, "research": 6, "report": 7, "store": 8, "api": 9, "cli": 10,
}  # fmt: skip
KERNELS = ("stats/kernels.py", "sim/kernels.py", "sim/grid_kernels.py", "rules/kernels.py")


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports, with ``from X import y`` also as ``X.y``."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def _unit(dotted: str) -> str | None:
    """The ranked unit of an engine module name: ``engine.sim.kernels`` -> ``sim``."""
    parts = dotted.split(".")
    if parts[0] != "engine" or len(parts) < 2:
        return None
    return parts[1] if parts[1] in RANKS else None


def _modules() -> list[Path]:
    return sorted(p for p in ENGINE.rglob("*.py") if "__pycache__" not in p.parts)


def _unit_of(path: Path) -> str | None:
    rel = path.relative_to(ENGINE)
    return rel.parts[0] if len(rel.parts) > 1 else (rel.stem if rel.stem in RANKS else None)


def test_every_engine_module_lives_in_a_ranked_place():
    loose = [p.name for p in ENGINE.glob("*.py")]
    assert set(loose) <= {"__init__.py", "__main__.py", "errors.py", "paths.py"}, loose
    for folder in (p for p in ENGINE.iterdir() if p.is_dir() and p.name[0] not in "_."):
        assert folder.name in RANKS, f"engine/{folder.name}/ has no rank"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ENGINE)))
def test_imports_flow_down_the_ranks(path):
    own = _unit_of(path)
    if own is None:  # engine/__init__ and __main__: the public API and python -m engine
        return
    for name in _imports(path):
        other = _unit(name)
        if other is None or other == own:
            continue
        assert RANKS[other] < RANKS[own], (
            f"{path.relative_to(ENGINE)} ({own}, rank {RANKS[own]}) imports {name} "
            f"({other}, rank {RANKS[other]})"
        )


def test_kernels_use_only_numpy_numba_and_other_kernels():
    kernel_names = {"engine." + k.removesuffix(".py").replace("/", ".") for k in KERNELS}
    for rel in KERNELS:
        for name in _imports(ENGINE / rel):
            top = name.split(".")[0]
            if top in {"__future__", "numpy", "numba", "typing"} or any(
                k.startswith(name + ".") for k in kernel_names
            ):
                continue
            assert any(name.startswith(k) for k in kernel_names), f"{rel} imports {name}"


def test_only_the_cli_imports_typer_or_rich_and_only_the_registry_strategies():
    for path in _modules():
        tops = {n.split(".")[0] for n in _imports(path)}
        if _unit_of(path) != "cli":
            assert not tops & {"typer", "rich"}, f"{path.relative_to(ENGINE)} imports typer/rich"
        if path != ENGINE / "api" / "builtins.py":  # it loads them even when shadowed
            assert "strategies" not in tops, f"{path.relative_to(ENGINE)} imports strategies"


def test_modules_stay_small():
    for path in [*_modules(), *(ROOT / "strategies").rglob("*.py")]:
        assert len(path.read_text().splitlines()) <= 400, path.name


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ENGINE)))
def test_no_private_name_crosses_a_module_boundary(path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("engine"):
            private = [a.name for a in node.names if a.name.startswith("_")]
            assert not private, f"{path.relative_to(ENGINE)} imports {private} from {node.module}"
