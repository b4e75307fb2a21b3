"""Imports flow one way: kernels (numpy + numba) <- wrappers <- API <- CLI; strategies -> engine."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] if a.name != "engine" else a.name for a in node.names)
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.add(node.module.split(".")[0])
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def test_kernels_use_only_numpy_numba_and_other_kernels():
    kernel_modules = {"engine.kernels", "engine.metric_kernels", "engine.grid_kernels"}
    for name in ("kernels", "metric_kernels", "grid_kernels"):
        imported = _imports(ROOT / "engine" / f"{name}.py")
        outside = {n for n in imported if n.split(".")[0] not in {"__future__", "numpy", "numba"}}
        assert {
            n for n in outside if n != "engine" and not n.startswith(tuple(kernel_modules))
        } == set(), name


def test_engine_never_imports_strategies_except_the_cli():
    for path in (ROOT / "engine").rglob("*.py"):
        if path.name.startswith("cli"):
            continue
        assert "strategies" not in _imports(path), f"{path.name} imports strategies"


def test_only_the_cli_imports_typer_or_rich():
    for path in (ROOT / "engine").rglob("*.py"):
        if not path.name.startswith("cli"):
            assert not {"typer", "rich"} & _imports(path), path.name


def test_wrappers_do_not_import_the_api_or_cli():
    low = [
        "kernels",
        "calendars",
        "instruments",
        "marketdata",
        "events",
        "align",
        "simulate",
        "metrics",
        "strategy",
        "report",
        "report_charts",
        "sample",
    ]
    for name in low:
        imported = _imports(ROOT / "engine" / f"{name}.py")
        assert not {"engine.api", "engine.cli", "engine.runfiles"} & imported, name


def test_modules_stay_small():
    for path in [*(ROOT / "engine").rglob("*.py"), *(ROOT / "strategies").rglob("*.py")]:
        assert len(path.read_text().splitlines()) <= 450, path.name
