"""Generic tests over every registered strategy (scikit-learn's "one test feeds every parameter a bad
value" idea): declarations are complete, defaults validate, bad values raise ``ParamError`` naming
the strategy and the parameter, and unknown names get a suggestion.
"""

from __future__ import annotations

import pytest

from engine.errors import ParamError, StrategyError
from engine.strategy.base import Param, Strategy
from strategies import REGISTRY, get_strategy

STRATEGIES = sorted(REGISTRY.items())


def bad_values(p: Param) -> list[object]:
    """Values ``p`` must reject: outside its bounds, not a number, not one of its choices."""
    if p.kind in ("int", "float"):
        out: list[object] = ["not-a-number", None]
        if p.low is not None:
            out.append(p.low - 1)
        if p.high is not None:
            out.append(p.high + 1)
        if p.kind == "int":
            out.append(1.5)
        else:
            out += [float("nan"), float("inf")]
        return out
    if p.kind == "choice":
        return ["no-such-choice", p.choices[0].upper() + "!"]
    return []  # free text ("str"): any string is syntactically valid; checked when data loads


BAD_CASES = [
    pytest.param(cls, p.name, bad, id=f"{name}-{p.name}-{bad!r}")
    for name, cls in STRATEGIES
    for p in cls.params
    for bad in bad_values(p)
]


def test_registry_is_not_empty_and_holds_the_flagship():
    assert "russell-fed-rotation" in REGISTRY and "buy-and-hold" in REGISTRY


@pytest.mark.parametrize("name,cls", STRATEGIES, ids=[n for n, _ in STRATEGIES])
def test_declaration_is_complete(name, cls):
    assert issubclass(cls, Strategy)
    assert cls.name == name and name == name.strip().lower() and " " not in name
    assert cls.rule.strip(), f"{name}: rule is empty"
    names = [p.name for p in cls.params]
    assert len(names) == len(set(names)), f"{name}: duplicate parameter names {names}"
    for p in cls.params:
        assert p.description.strip(), f"{name}: parameter {p.name} has no description"
        assert p.coerce(p.default, name) == p.default, f"{name}: default of {p.name} is invalid"
        if p.low is not None and p.high is not None:
            assert p.low <= p.high, f"{name}: {p.name} has low > high"


@pytest.mark.parametrize("name,cls", STRATEGIES, ids=[n for n, _ in STRATEGIES])
def test_defaults_instantiate_and_required_includes_assets(name, cls):
    s = cls()
    assert s.values == {p.name: p.default for p in cls.params}
    assets = s.assets()
    assert assets, f"{name}: trades nothing"
    assert set(assets) <= set(s.required()), f"{name}: required() misses assets()"
    assert len(s.required()) == len(set(s.required()))


@pytest.mark.parametrize("cls,param,bad", BAD_CASES)
def test_every_parameter_rejects_a_bad_value(cls, param, bad):
    with pytest.raises(ParamError) as err:
        cls(**{param: bad})
    msg = str(err.value)
    assert cls.name in msg and f"parameter {param}" in msg, msg
    assert repr(bad) in msg or str(bad) in msg, f"message does not show what was found: {msg}"


def test_bad_cases_cover_every_numeric_and_choice_parameter():
    covered = {(c.values[0].name, c.values[1]) for c in BAD_CASES}
    for name, cls in STRATEGIES:
        for p in cls.params:
            if p.kind != "str":
                assert (name, p.name) in covered


@pytest.mark.parametrize("name,cls", STRATEGIES, ids=[n for n, _ in STRATEGIES])
def test_unknown_parameter_gets_a_suggestion(name, cls):
    if not cls.params:
        pytest.skip(f"{name} has no parameters")
    real = cls.params[0].name
    with pytest.raises(ParamError, match=rf"{name}: unknown parameter.*Did you mean '{real}'"):
        cls(**{real + "x": cls.params[0].default})


def test_get_strategy_finds_each_registered_name():
    for name, cls in STRATEGIES:
        assert get_strategy(name) is cls


def test_misspelt_strategy_name_suggests_the_real_one():
    with pytest.raises(StrategyError, match=r"Did you mean 'russell-fed-rotation'"):
        get_strategy("russel-fed-rotation")


def test_unknown_strategy_lists_the_available_ones():
    with pytest.raises(StrategyError, match=r"Available: .*buy-and-hold.*russell-fed-rotation"):
        get_strategy("momentum")


def test_buy_and_hold_asset_picks_the_weight_column():
    s = get_strategy("buy-and-hold")(asset="XSO")
    assert s.assets() == ("XSO",) and s.required() == ("XSO",)
