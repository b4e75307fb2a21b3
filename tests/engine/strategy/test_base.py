"""The strategy API (``engine.strategy.base``): the warm-up replay, weight checks, default signals,
``describe`` and the declaration checks every strategy passes (built-in or from a user's file)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.errors import StrategyError
from engine.feeds import calendars
from engine.strategy.base import (
    Param,
    Strategy,
    check_strategy_class,
    strategy_context,
    with_lead_in,
)
from engine.timing import align

ASX = calendars.sessions("XASX")


def ctx_from(first: str, n: int, phase: str = "open") -> align.Context:
    pos = ASX.labels.get_loc(pd.Timestamp(first))
    sl = slice(pos, pos + n)
    ns = {"open": ASX.open_ns, "close": ASX.close_ns}[phase][sl]
    return align.Context(None, None, None, "XASX", ASX.labels[sl], ns.copy())


@pytest.mark.parametrize("phase", ["open", "close"])
def test_lead_in_prepends_earlier_sessions_in_the_same_phase(phase):
    ctx = ctx_from("2019-08-05", 3, phase)
    lead, n = with_lead_in(ctx, 2)
    assert n == 2
    assert [str(d.date()) for d in lead.labels] == [
        "2019-08-01", "2019-08-02", "2019-08-05", "2019-08-06", "2019-08-07"
    ]  # fmt: skip
    pos = ASX.labels.get_loc(pd.Timestamp("2019-08-01"))
    expected = (ASX.open_ns if phase == "open" else ASX.close_ns)[pos : pos + 5]
    np.testing.assert_array_equal(lead.decision_ns, expected)


def test_lead_in_keeps_a_custom_offset_from_the_open():
    ctx = ctx_from("2019-08-05", 2)
    shifted = align.Context(None, None, None, "XASX", ctx.labels, ctx.decision_ns - 60 * 10**9)
    lead, n = with_lead_in(shifted, 1)
    pos = ASX.labels.get_loc(pd.Timestamp("2019-08-02"))
    assert n == 1 and lead.decision_ns[0] == ASX.open_ns[pos] - 60 * 10**9


def test_no_lead_in_when_not_asked_or_at_the_calendars_start():
    ctx = ctx_from("2019-08-05", 2)
    assert with_lead_in(ctx, 0) == (ctx, 0)
    first = ctx_from(str(ASX.labels[0].date()), 2)
    assert with_lead_in(first, 5)[1] == 0
    second = ctx_from(str(ASX.labels[3].date()), 2)
    assert with_lead_in(second, 50)[1] == 3


class Counter(Strategy):
    """Holds XSO from its 3rd decision point on (state that depends on earlier decisions)."""

    name = "counter"
    rule = "Hold small caps from the third decision point on."
    traded = ("XSO",)
    params = (Param("lead", 0, "int", "decision points replayed", low=0, high=10),)

    def warmup(self) -> int:
        return self.values["lead"]

    def weights(self, ctx, p) -> np.ndarray:
        return (np.arange(len(ctx.labels)) >= 2).astype(np.float64)[:, None]


def test_target_weights_replays_the_warmup_and_drops_it():
    ctx = ctx_from("2019-08-05", 4)
    assert Counter().target_weights(ctx)[:, 0].tolist() == [0, 0, 1, 1]
    assert Counter(lead=2).target_weights(ctx)[:, 0].tolist() == [1, 1, 1, 1]


class Bad(Strategy):
    name = "bad"
    rule = "Returns whatever the test sets."
    traded = ("XSO", "XJO")
    out: np.ndarray = np.zeros((1, 1))

    def weights(self, ctx, p) -> np.ndarray:
        return self.out


@pytest.mark.parametrize(
    "out,msg",
    [
        (np.zeros((4, 1)), r"bad: weights have shape \(4, 1\); expected \(4, 2\)"),
        (np.full((4, 2), np.nan), "finite, non-negative"),
        (np.full((4, 2), -0.1), "finite, non-negative"),
        (np.full((4, 2), 0.6), "sum to at most 1"),
    ],
)
def test_unusable_weights_are_a_strategy_error(out, msg):
    s = Bad()
    s.out = out
    with pytest.raises(StrategyError, match=msg):
        s.target_weights(ctx_from("2019-08-05", 4))


def test_default_signals_are_rises_in_the_signal_asset_known_by_the_decision():
    ctx = ctx_from("2019-08-05", 5)
    s = Counter()
    sig = s.signals(ctx)
    assert sig.known_ns.tolist() == [ctx.decision_ns[2]] and sig.observed[0] == ctx.labels[2]
    assert sig.source == "counter entry"


def test_describe():
    info = Counter().describe()
    assert info["name"] == "counter" and info["traded"] == ("XSO",)
    assert info["params"] == [
        {"name": "lead", "default": 0, "type": "int", "range": "[0, 10]", "unit": "",
         "description": "decision points replayed"}
    ]  # fmt: skip
    assert info["signal_asset"] == "XSO" and info["warmup"] == 0 and info["optional"] == {}


@pytest.mark.parametrize(
    "p,text",
    [
        (Param("a", 1, "int", "d", low=1, high=5), "[1, 5]"),
        (Param("a", 1.0, "float", "d", low=0.0), "[0, inf]"),
        (Param("a", "x", "choice", "d", choices=("x", "y")), "x | y"),
        (Param("a", "x", "str", "d"), "any"),
    ],
)
def test_range_text(p, text):
    assert p.range_text() == text


def declare(**attrs) -> type:
    body = {"name": "ok", "rule": "A rule.", "traded": ("XSO",)}
    body |= {"weights": lambda self, ctx, p: np.ones((len(ctx.labels), 1))}
    body |= attrs
    return type("Declared", (Strategy,), body)


@pytest.mark.parametrize(
    "attrs,msg",
    [
        ({"name": ""}, "name '' must be lower-case letters, digits"),
        ({"name": "My Strategy"}, "name 'My Strategy' must be lower-case letters"),
        ({"name": "a/b"}, r"it names result folders"),
        ({"name": "x" * 61}, "at most 60 characters"),
        ({"rule": " "}, "rule is empty"),
        ({"traded": ()}, "traded is empty"),
        ({"params": [Param("a", 1, "int", "d")]}, "params must be a tuple"),
        ({"params": (Param("a", 1, "int", "d"), Param("a", 2, "int", "d"))}, "duplicate"),
        ({"params": (Param("a", 1, "int", " "),)}, "parameter a has no description"),
        ({"params": (Param("a", 9, "int", "d", high=5),)}, "the default of a is invalid"),
        ({"params": (Param("a", 1.5, "float", "d", low=2, high=1),)}, "low 2 > high 1"),
        ({"params": (Param("a", "1", "int", "d"),)}, "is not of kind int"),
        ({"warmup": lambda self: -1}, "warmup"),
        ({"signal_asset": "XJO"}, "signal_asset 'XJO'"),
        ({"weights": Strategy.weights}, "define weights"),
        ({"__init__": lambda self: 1 / 0}, "could not be created with its defaults"),
    ],
)
def test_declaration_checks(attrs, msg):
    with pytest.raises(StrategyError, match=msg) as err:
        check_strategy_class(declare(**attrs), where="my.py:Declared")
    assert "my.py:Declared" in str(err.value)


def test_a_complete_declaration_passes_and_non_strategies_do_not():
    check_strategy_class(declare())
    for thing in (int, Strategy, "text"):
        with pytest.raises(StrategyError, match="not a Strategy subclass"):
            check_strategy_class(thing)


def test_strategy_context_needs_one_calendar():
    mixed = declare(traded=("XSO", "RUT"))()
    with pytest.raises(StrategyError, match="XNYS, XASX|XASX, XNYS"):
        strategy_context(mixed)


def test_strategy_context_spans_the_traded_instruments_common_history():
    market, ctx = strategy_context(declare()())
    assert ctx.labels[0] == market["XSO"].frame.index[0]
    assert ctx.labels[-1] == market["XSO"].frame.index[-1] and ctx.calendar == "XASX"
