"""Parameter spaces (``engine.strategy.space``): ``--param`` specs, ``Space`` enumeration and sampling,
and ``--constraint`` filters, on a small test strategy and once on the flagship."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pandas as pd
import pytest

import strategies
from engine.errors import BacktestError, ConfigError, ParamError
from engine.strategy import space as paramspace
from engine.strategy.base import Param, Strategy
from engine.strategy.space import Space, apply_constraint, parse_spec


class Toy(Strategy):
    """Three parameters, one of each numeric/choice kind, with bounds."""

    name = "toy"
    rule = "Hold XJO; the parameters only exist to be searched."
    params = (
        Param("hold_days", 20, "int", "sessions to hold", "sessions", low=1, high=100),
        Param("weight", 1.0, "float", "fraction held", "fraction", low=0.0, high=1.0),
        Param("risk_off", "large", "choice", "what to hold otherwise", choices=("large", "cash")),
    )
    traded = ("XJO",)

    def weights(self, ctx, p):
        return np.full((len(ctx.labels), 1), p["weight"])


def space(*specs: str) -> Space:
    return Space.from_specs(Toy, list(specs))


# --- parse_spec: accepted forms -------------------------------------------------------------------


def test_int_range_is_inclusive_and_coerced_to_int():
    name, values = parse_spec(Toy, "hold_days=5:60:5")
    assert name == "hold_days"
    assert values == list(range(5, 61, 5))
    assert len(values) == 12
    assert all(type(v) is int for v in values)


def test_range_that_misses_stop_ends_below_it():
    # 5, 12, ..., 54: the next value, 61, would pass 60.
    assert parse_spec(Toy, "hold_days=5:60:7")[1] == [5, 12, 19, 26, 33, 40, 47, 54]


def test_descending_range_with_negative_step():
    assert parse_spec(Toy, "hold_days=60:40:-10")[1] == [60, 50, 40]


def test_float_range_is_exact_decimal_without_drift():
    # Decimal arithmetic: 0.25 + 2 * 0.25 is exactly 0.75, never 0.7500000000000001.
    name, values = parse_spec(Toy, "weight=0.25:1:0.25")
    assert name == "weight"
    assert values == [0.25, 0.5, 0.75, 1.0]
    assert all(type(v) is float for v in values)
    # 0.1 steps drift in binary floating point (0.1 * 3 == 0.30000000000000004).
    tenths = parse_spec(Toy, "weight=0:1:0.1")[1]
    assert tenths == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]


def test_choice_list_keeps_the_given_order():
    assert parse_spec(Toy, "risk_off=cash,large") == ("risk_off", ["cash", "large"])


def test_list_values_are_stripped_and_empty_items_ignored():
    assert parse_spec(Toy, " hold_days = 10 , 20,,30 ") == ("hold_days", [10, 20, 30])


@pytest.mark.parametrize(
    ("spec", "expected"),
    [("hold_days=7", ["hold_days", [7]]), ("weight=0.5", ["weight", [0.5]]),
     ("risk_off=cash", ["risk_off", ["cash"]]), ("hold_days=7.0", ["hold_days", [7]])],
)  # fmt: skip
def test_single_value(spec, expected):
    name, values = parse_spec(Toy, spec)
    assert [name, values] == expected
    assert type(values[0]) is type(expected[1][0])


def test_duplicates_are_removed_keeping_first_occurrence_order():
    assert parse_spec(Toy, "hold_days=30,10,30,20,10")[1] == [30, 10, 20]
    # 10 and 10.0 coerce to the same int, 0.5 and .50 to the same float.
    assert parse_spec(Toy, "hold_days=10,10.0")[1] == [10]
    assert parse_spec(Toy, "weight=0.5,.50,0.25")[1] == [0.5, 0.25]
    assert parse_spec(Toy, "risk_off=cash,large,cash")[1] == ["cash", "large"]


# --- parse_spec: errors ---------------------------------------------------------------------------


def _raises(exc_type, spec: str) -> str:
    with pytest.raises(exc_type) as info:
        parse_spec(Toy, spec)
    return str(info.value)


def test_zero_step_names_parameter_and_suggests_a_step():
    msg = _raises(ParamError, "hold_days=5:60:0")
    assert "hold_days" in msg and "step must be non-zero" in msg
    assert "5:60:1" in msg


def test_wrong_sign_step_is_rejected_naming_the_parameter():
    msg = _raises(ParamError, "hold_days=60:5:5")
    assert "hold_days" in msg and "'60:5:5'" in msg
    assert "point from start to stop" in msg


@pytest.mark.parametrize("spec", ["hold_days=60:5:5", "hold_days=5:60:-5", "hold_days=60:5:0"])
def test_suggested_range_after_a_bad_step_is_itself_valid(spec):
    # The "(e.g. ...)" hint must be a range that parses, not the user's own input again.
    msg = _raises(ParamError, spec)
    suggestion = re.search(r"\(e\.g\. ([^)]+)\)", msg).group(1)
    name, values = parse_spec(Toy, f"hold_days={suggestion}")
    assert len(values) > 1, msg


@pytest.mark.parametrize("text", ["5:60", "5:60:5:1", "5::5", "a:b:c", "5:60:x"])
def test_malformed_range(text):
    msg = _raises(ParamError, f"hold_days={text}")
    assert "hold_days" in msg
    assert "start:stop:step" in msg or "must be numbers" in msg


@pytest.mark.parametrize("text", ["5:inf:5", "5:nan:5", "nan:60:5", "5:60:nan", "-inf:60:5"])
def test_non_finite_range_bounds_are_a_param_error(text):
    # Decimal accepts "inf"/"nan"; they must become a ParamError, not OverflowError or
    # decimal.InvalidOperation escaping as a traceback.
    msg = _raises(ParamError, f"hold_days={text}")
    assert "hold_days" in msg


def test_range_of_non_numeric_parameter_is_a_list_not_a_range():
    # ':' only means a range for numbers; for a choice it is part of a (bad) value.
    msg = _raises(ParamError, "risk_off=a:b:c")
    assert "risk_off" in msg and "large, cash" in msg


def test_unknown_parameter_suggests_the_close_one():
    msg = _raises(ParamError, "hold_day=5")
    assert "toy" in msg and "'hold_day'" in msg
    assert "Did you mean 'hold_days'?" in msg
    assert "Parameters: hold_days, weight, risk_off" in msg


@pytest.mark.parametrize(
    ("spec", "found"),
    [("hold_days=0:60:5", "got 0"), ("hold_days=100:120:10", "got 110"),
     ("weight=0.5:1.5:0.5", "got 1.5"), ("weight=-0.1", "got -0.1"),
     ("risk_off=cash,smal", "got 'smal'"), ("hold_days=2.5", "got '2.5'")],
)  # fmt: skip
def test_out_of_range_values_name_parameter_and_allowed_values(spec, found):
    msg = _raises(ParamError, spec)
    name = spec.split("=")[0]
    assert f"parameter {name}" in msg and found in msg
    assert "[1, 100]" in msg or "[0.0, 1.0]" in msg or "large, cash" in msg or "integer" in msg


def test_choice_typo_suggests_the_choice():
    assert "Did you mean 'cash'?" in _raises(ParamError, "risk_off=cahs")


@pytest.mark.parametrize("spec", ["hold_days", "=5", "hold_days=", "  "])
def test_spec_without_key_or_values_shows_the_form(spec):
    msg = _raises(ParamError, spec)
    assert "KEY=VALUES" in msg and "hold_days=10:60:10" in msg


@pytest.mark.parametrize("spec", ["hold_days=,", "hold_days= , ,"])
def test_empty_value_list(spec):
    msg = _raises(ParamError, spec)
    assert "hold_days" in msg and "no values" in msg


def test_parameter_given_twice():
    with pytest.raises(ParamError) as info:
        space("hold_days=5,10", "weight=0.5", "hold_days=20")
    msg = str(info.value)
    assert "'hold_days'" in msg and "twice" in msg and "merge" in msg


def test_errors_share_the_root():
    assert issubclass(ParamError, BacktestError) and issubclass(ConfigError, BacktestError)


# --- Space ----------------------------------------------------------------------------------------


def test_space_without_specs_is_the_defaults():
    sp = space()
    assert sp.axes == {"hold_days": [20], "weight": [1.0], "risk_off": ["large"]}
    assert sp.size == 1 and sp.varied == []
    assert sp.combos().to_dict("records") == [{"hold_days": 20, "weight": 1.0, "risk_off": "large"}]


def test_size_and_varied():
    sp = space("risk_off=cash,large", "hold_days=5:60:5")
    assert sp.size == 2 * 12
    assert sp.varied == ["hold_days", "risk_off"]  # parameter order, not spec order


def test_combos_are_the_product_in_parameter_order_with_defaults():
    sp = space("risk_off=cash,large", "hold_days=10,5,30", "weight=0.5")
    df = sp.combos()
    assert list(df.columns) == ["hold_days", "weight", "risk_off"]
    expected = list(itertools.product([10, 5, 30], [0.5], ["cash", "large"]))
    assert list(df.itertuples(index=False, name=None)) == expected
    assert df.index.equals(pd.RangeIndex(len(expected)))
    assert df["hold_days"].dtype == np.int64 and df["weight"].dtype == np.float64


def test_combos_default_fills_unspecified():
    df = space("hold_days=1,2").combos()
    assert (df["weight"] == 1.0).all() and (df["risk_off"] == "large").all()


def test_enumeration_limit_tells_user_to_sample(monkeypatch):
    monkeypatch.setattr(paramspace, "MAX_ENUMERATED", 10)
    sp = space("hold_days=1:11:1")  # 11 combos
    with pytest.raises(ConfigError) as info:
        sp.combos()
    msg = str(info.value)
    assert "11 combos" in msg and "limit 10" in msg and "--samples N" in msg
    assert len(space("hold_days=1:10:1").combos()) == 10  # the limit itself is allowed


def test_space_without_parameters_has_one_combo():
    # A user's strategy file may declare no parameters; a grid over it is its single default run.
    class Bare(Toy):
        name = "bare"
        params = ()

    sp = Space.from_specs(Bare, [])
    assert sp.size == 1
    assert len(sp.combos()) == 1


# --- Space.sample ---------------------------------------------------------------------------------


def big() -> Space:
    return space("hold_days=1:100:1", "weight=0:1:0.05", "risk_off=large,cash")  # 100*21*2 = 4200


def test_sample_draws_distinct_rows_from_the_axes():
    sp = big()
    assert sp.size == 4200
    df = sp.sample(500, seed=7)
    assert len(df) == 500
    assert list(df.columns) == ["hold_days", "weight", "risk_off"]
    rows = list(df.itertuples(index=False, name=None))
    assert len(set(rows)) == 500
    assert set(rows) <= set(big().combos().itertuples(index=False, name=None))
    for col, axis in sp.axes.items():
        assert set(df[col]) <= set(axis)


def test_sample_is_deterministic_for_a_seed_and_differs_across_seeds():
    sp = big()
    a, b, c = sp.sample(50, seed=1), sp.sample(50, seed=1), sp.sample(50, seed=2)
    pd.testing.assert_frame_equal(a, b)
    assert set(a.itertuples(index=False, name=None)) != set(c.itertuples(index=False, name=None))


def test_sample_near_the_full_size_still_finishes_with_distinct_rows():
    sp = space("hold_days=1:20:1", "risk_off=large,cash")  # 40 combos
    df = sp.sample(39, seed=3)
    assert len(set(df.itertuples(index=False, name=None))) == 39


def test_sample_covers_several_values_of_every_varied_axis():
    df = big().sample(400, seed=0)
    assert df["hold_days"].nunique() > 50 and df["weight"].nunique() > 15
    assert set(df["risk_off"]) == {"large", "cash"}


@pytest.mark.parametrize("n", [24, 25, 10_000])
def test_sample_of_at_least_the_size_returns_every_combo(n):
    sp = space("hold_days=5:60:5", "risk_off=cash,large")
    pd.testing.assert_frame_equal(sp.sample(n, seed=0), sp.combos())


@pytest.mark.parametrize("n", [0, -3])
def test_sample_needs_a_positive_count(n):
    with pytest.raises(ConfigError, match=rf"--samples must be positive; got {n}"):
        big().sample(n, seed=0)


# --- apply_constraint -----------------------------------------------------------------------------


def grid() -> pd.DataFrame:
    return space("hold_days=1,5,6,10", "weight=0.25,0.5,1", "risk_off=cash,large").combos()


def test_constraint_keeps_exactly_the_matching_rows():
    df = grid()
    out = apply_constraint(df, "hold_days > 5 and weight >= 0.5")
    expected = df[(df.hold_days > 5) & (df.weight >= 0.5)].reset_index(drop=True)
    pd.testing.assert_frame_equal(out, expected)
    assert len(out) == 2 * 2 * 2  # hold_days 6, 10 x weight 0.5, 1 x both risk_off


@pytest.mark.parametrize(
    ("expr", "keep"),
    [("risk_off == 'cash'", lambda d: d.risk_off == "cash"),
     ("not (hold_days <= 5 or weight < 1)", lambda d: (d.hold_days > 5) & (d.weight >= 1)),
     ("hold_days * weight >= 5", lambda d: d.hold_days * d.weight >= 5),
     ("hold_days % 5 == 0", lambda d: d.hold_days % 5 == 0),
     ("1 < hold_days < 10", lambda d: (d.hold_days > 1) & (d.hold_days < 10)),
     ("-hold_days + 6 >= 0", lambda d: d.hold_days <= 6)],
)  # fmt: skip
def test_constraint_arithmetic_and_logic(expr, keep):
    df = grid()
    out = apply_constraint(df, expr)
    pd.testing.assert_frame_equal(out, df[keep(df)].reset_index(drop=True))


@pytest.mark.parametrize("expr", [None, ""])
def test_no_constraint_keeps_everything(expr):
    df = grid()
    assert apply_constraint(df, expr) is df


@pytest.mark.parametrize(
    ("expr", "node"),
    [("__import__('os')", "Call"), ("open('x')", "Call"), ("hold_days.real", "Attribute"),
     ("(lambda: 1)()", "Call"), ("[hold_days][0]", "Subscript"), ("hold_days ** 2 > 4", "Pow"),
     ("(x := 1)", "NamedExpr"), ("hold_days if weight else 0", "IfExp"),
     ("[c for c in 'ab']", "ListComp"), ("hold_days in (1, 5)", "In")],
)  # fmt: skip
def test_constraint_rejects_anything_but_comparisons_and_arithmetic(expr, node):
    with pytest.raises(ConfigError) as info:
        apply_constraint(grid(), expr)
    msg = str(info.value)
    assert f"{node} is not allowed" in msg and "comparisons" in msg


def test_constraint_cannot_reach_builtins_through_a_name():
    with pytest.raises(ConfigError, match="unknown parameter '__builtins__'"):
        apply_constraint(grid(), "__builtins__")


def test_constraint_unknown_name_suggests_a_parameter():
    with pytest.raises(ConfigError) as info:
        apply_constraint(grid(), "hold_dayz > 5")
    msg = str(info.value)
    assert "unknown parameter 'hold_dayz'" in msg and "Did you mean 'hold_days'?" in msg
    assert "Parameters: hold_days, weight, risk_off" in msg


@pytest.mark.parametrize("expr", ["hold_days >", "hold_days > 5 and", "(weight", "a b"])
def test_constraint_syntax_error(expr):
    with pytest.raises(ConfigError, match="does not parse"):
        apply_constraint(grid(), expr)


def test_constraint_leaving_no_rows():
    with pytest.raises(ConfigError, match="leaves no combos; loosen it"):
        apply_constraint(grid(), "hold_days > 100")


@pytest.mark.parametrize("expr", ["risk_off > 5", "hold_days / (weight - weight) > 1"])
def test_constraint_that_fails_on_a_row_is_a_config_error(expr):
    # Comparing a choice with a number, or dividing by zero, is the user's mistake: it must be a
    # ConfigError (exit code 2, message), not a TypeError/ZeroDivisionError traceback.
    with pytest.raises(ConfigError, match="constraint"):
        apply_constraint(grid(), expr)


# --- the flagship ---------------------------------------------------------------------------------


def test_flagship_space_smoke():
    cls = strategies.get_strategy("russell-fed-rotation")
    sp = Space.from_specs(cls, ["hold_days=5:60:5", "risk_off=cash,large", "weight=0.5:1:0.25"])
    assert sp.size == 12 * 2 * 3
    assert sp.varied == ["hold_days", "risk_off", "weight"]
    df = apply_constraint(sp.combos(), "hold_days > 5 and weight >= 0.75")
    assert list(df.columns) == [p.name for p in cls.params]
    assert len(df) == 11 * 2 * 2
    for p in cls.params:
        if p.name not in sp.varied:
            assert (df[p.name] == p.default).all(), p.name
    cls(**df.iloc[0].to_dict())  # every combo is a valid parameter set
    with pytest.raises(ParamError, match="Did you mean 'hold_days'"):
        parse_spec(cls, "holddays=5")


def test_constraints_read_a_rules_dotted_parameters():
    combos = pd.DataFrame({"rba.days": [30, 60, 90], "hold.sessions": [5, 10, 20]})
    kept = apply_constraint(combos, "rba.days > 40 and hold.sessions < 20")
    assert kept.to_dict("records") == [{"rba.days": 60, "hold.sessions": 10}]
    with pytest.raises(ConfigError, match="Did you mean 'rba.days'"):
        apply_constraint(combos, "rba.dayz > 3")
    for bad in ("rba.days.real > 1", "rba.__class__ == 1", "x.y > 1"):
        with pytest.raises(ConfigError):
            apply_constraint(combos, bad)
