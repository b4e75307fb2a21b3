"""``--strategy-file PATH:CLASS`` (``engine.strategy.file``): a user's class loads and passes the
built-ins' checks; every failure names the file (and line) and the fix."""

from __future__ import annotations

import textwrap

import pytest

from engine.errors import StrategyError
from engine.strategy.base import Strategy, strategy_context
from engine.strategy.file import load_strategy_file, parse_spec

GOOD = """
import numpy as np
from engine.strategy.base import Param, Strategy


class Half(Strategy):
    name = "half-small"
    rule = "Hold `share` of the portfolio in ASX small caps, always."
    params = (Param("share", 0.5, "float", "fraction in small caps", "fraction", low=0, high=1),)
    traded = ("XSO",)

    def weights(self, ctx, p):
        return np.full((len(ctx.labels), 1), p["share"])
"""


def write(tmp_path, text: str, name: str = "mine.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_a_good_file_loads_and_runs(tmp_path):
    path = write(tmp_path, GOOD)
    cls = load_strategy_file(f"{path}:Half")
    assert issubclass(cls, Strategy) and cls.name == "half-small"
    s = cls(share="0.25")
    _, ctx = strategy_context(s)
    assert (s.target_weights(ctx) == 0.25).all()


def test_parse_spec_takes_the_last_colon():
    path, cls = parse_spec("C:/work/my.py:Mine")
    assert str(path) == "C:/work/my.py" and cls == "Mine"


@pytest.mark.parametrize("spec", ["mine.py", "mine.py:", ":Mine", "mine.py:not-a-name"])
def test_a_spec_without_path_and_class_is_rejected(spec):
    with pytest.raises(StrategyError, match="is not PATH:CLASS.*path/to/my.py:MyStrategy"):
        load_strategy_file(spec)


def test_missing_file(tmp_path):
    with pytest.raises(StrategyError, match=r"nope.py does not exist"):
        load_strategy_file(f"{tmp_path / 'nope.py'}:Mine")


def test_not_a_python_file(tmp_path):
    path = write(tmp_path, "x = 1", "mine.txt")
    with pytest.raises(StrategyError, match="is not a .py file"):
        load_strategy_file(f"{path}:Mine")


def test_missing_class_suggests_the_closest(tmp_path):
    path = write(tmp_path, GOOD)
    with pytest.raises(StrategyError) as err:
        load_strategy_file(f"{path}:Halfe")
    msg = str(err.value)
    assert str(path) in msg and "does not define 'Halfe'" in msg
    assert "Did you mean 'Half'?" in msg and "Strategy classes in the file: Half" in msg


def test_syntax_error_names_file_and_line(tmp_path):
    path = write(tmp_path, GOOD + "\n\ndef broken(:\n    pass\n")
    n = len((GOOD + "\n\ndef broken(:").splitlines())
    with pytest.raises(StrategyError, match=rf"{path}:{n}: syntax error"):
        load_strategy_file(f"{path}:Half")


def test_import_error_names_file_and_line(tmp_path):
    path = write(tmp_path, "import numpy\n\nx = 1\nimport no_such_module_xyz\n")
    with pytest.raises(StrategyError) as err:
        load_strategy_file(f"{path}:Mine")
    msg = str(err.value)
    assert f"{path}:4:" in msg and "ModuleNotFoundError" in msg and "no_such_module_xyz" in msg


def test_error_raised_inside_a_function_called_at_import_names_the_calling_line(tmp_path):
    path = write(tmp_path, "def f():\n    return 1 / 0\n\n\nVALUE = f()\n")
    with pytest.raises(StrategyError, match=rf"{path}:2: .*ZeroDivisionError"):
        load_strategy_file(f"{path}:Mine")


def test_a_class_that_is_not_a_strategy(tmp_path):
    path = write(tmp_path, "class Mine:\n    pass\n")
    with pytest.raises(StrategyError, match=r"'Mine' is not a Strategy subclass"):
        load_strategy_file(f"{path}:Mine")


def test_an_incomplete_strategy_gets_the_built_in_checks(tmp_path):
    path = write(tmp_path, GOOD.replace('rule = "Hold', 'rule = ""  # "Hold'))
    with pytest.raises(StrategyError, match=rf"{path}:Half: strategy class Half: rule is empty"):
        load_strategy_file(f"{path}:Half")


def test_a_bad_default_is_caught_at_load_time(tmp_path):
    path = write(tmp_path, GOOD.replace('"share", 0.5', '"share", 1.5'))
    with pytest.raises(StrategyError, match="the default of share is invalid"):
        load_strategy_file(f"{path}:Half")


def test_two_files_with_the_same_name_do_not_clash(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a = write(tmp_path / "a", GOOD)
    b = write(tmp_path / "b", GOOD.replace("half-small", "half-small-b"))
    assert load_strategy_file(f"{a}:Half").name == "half-small"
    assert load_strategy_file(f"{b}:Half").name == "half-small-b"
    assert load_strategy_file(f"{a}:Half")().values == {"share": 0.5}
