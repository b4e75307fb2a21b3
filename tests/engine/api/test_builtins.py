"""The built-in registry and strategy resolution (engine.api.builtins)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from engine.api import builtins
from engine.errors import StrategyError
from engine.strategy.base import Strategy

ROOT = Path(__file__).resolve().parents[3]

USER_FILE = textwrap.dedent(
    """
    import numpy as np
    from engine.strategy.base import Strategy

    class Always(Strategy):
        name = "always-small"
        rule = "Hold XSO always."

        def assets(self):
            return ("XSO",)

        def weights(self, ctx, p):
            return np.ones((len(ctx.labels), 1))
    """
)
SECOND = """

class Again(Always):
    name = "again-small"
"""


def test_names_classes_and_instances_resolve_to_instances():
    cls = builtins.get_strategy("russell-fed-rotation")
    assert isinstance(builtins.resolve("russell-fed-rotation"), cls)
    assert isinstance(builtins.resolve(cls), cls)
    inst = cls(hold_days=40)
    assert builtins.resolve(inst) is inst
    assert set(builtins.registry()) >= {"russell-fed-rotation", "buy-and-hold", "trend"}


def test_an_unknown_name_suggests_the_close_one():
    with pytest.raises(StrategyError, match="russell-fed-rotation"):
        builtins.resolve("russell-fed-rotaton")


@pytest.mark.parametrize("bad", [3, None, object(), ["trend"]])
def test_other_things_are_refused_with_a_message(bad):
    with pytest.raises(StrategyError, match="not a name"):
        builtins.resolve(bad)


def test_a_file_with_one_strategy_resolves_by_path(tmp_path):
    path = tmp_path / "mine.py"
    path.write_text(USER_FILE)
    for spec in (path, str(path), f"{path}:Always"):
        got = builtins.resolve(spec)
        assert isinstance(got, Strategy) and got.name == "always-small"


def test_a_file_with_two_strategies_needs_the_class_named(tmp_path):
    path = tmp_path / "two.py"
    path.write_text(USER_FILE + SECOND)
    with pytest.raises(StrategyError, match=r"2 Strategy subclasses \(Again, Always\)"):
        builtins.resolve(path)
    assert builtins.resolve(f"{path}:Again").name == "again-small"


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(StrategyError, match="does not exist"):
        builtins.resolve(tmp_path / "nope.py")


def _python(code: str, cwd: Path) -> subprocess.CompletedProcess:
    env_path = f"{ROOT}"
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin", "HOME": str(Path.home())},
        timeout=300,
    )


def test_a_users_own_strategies_package_does_not_hide_the_built_ins(tmp_path):
    """A notebook in a folder with its own ``strategies/`` package: ``import strategies`` is
    theirs, and the engine still finds (and runs) ours."""
    own = tmp_path / "strategies"
    own.mkdir()
    (own / "__init__.py").write_text("MINE = True\n")
    done = _python(
        """
        import sys
        sys.path.insert(0, "")
        import strategies
        assert strategies.MINE
        import engine
        from engine.api import builtins
        print("shadow", builtins.shadowing_folder())
        print(sorted(engine.strategies().index)[:2])
        res = engine.run("buy-and-hold", end="2001-12-31")
        print("sharpe", res.metrics["sharpe"])
        from engine.store.run_folder import strategy_source
        print("source", strategy_source(type(res.strategy)))
        import strategies as again
        assert again.MINE  # theirs is left in place
        """,
        tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert f"shadow {own}" in done.stdout
    assert "['buy-and-hold', 'fed-easing-cycle']" in done.stdout
    assert "sharpe " in done.stdout
    assert "'file'" not in done.stdout.split("source", 1)[1]  # a built-in, not a user's file
