"""The rule machine against a plain-Python reference, hand-worked cases and the grid path."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.backtest.run import RunConfig, prepare, window_targets
from engine.rules import make_rule
from engine.rules.eventfiles import from_decisions
from engine.rules.machine import _decision_tz
from engine.sim.orders import Orders
from engine.strategy.audit import audit
from engine.strategy.base import strategy_context
from engine.strategy.space import Space
from tests.engine.rules.reference import reference_state

START, END = "2014-01-01", "2019-12-31"
ON, OFF = {"XSO": 1.0}, {"XJO": 1.0}

BLOCKS = {
    "rec": {"block": "record", "series": "RUT", "lookback": 0},
    "rec60": {"block": "record", "series": "RUT", "lookback": 60},
    "mom": {"block": "change", "series": "RUT", "window": 20, "above": 0.03},
    "y": {"block": "change", "series": "US10Y", "window": 10, "above": 0.2},
    "aud": {"block": "change", "series": "AUDUSD", "window": 10, "below": -0.02},
    "lvl": {"block": "level", "series": "RBA_CASH", "below": 3.0},
    "trend": {"block": "trend", "series": "XSO", "ma": 50, "band": 0.01},
    "dd": {"block": "drawdown", "series": "RUT", "below": 0.05},
    "cut": {"block": "event_within", "events": "fomc", "move": "cut", "days": 60},
    "rba": {"block": "event_within", "events": "rba", "move": "any", "days": 30},
    "ease": {"block": "easing_cycle", "events": "rba"},
}


def _block(name: str, negate: bool = False) -> dict:
    return {"name": name, **BLOCKS[name], **({"not": True} if negate else {})}


@pytest.fixture(scope="module")
def sample_ctx():
    cls = make_rule("all", on=ON, off=OFF, when=[_block(k) for k in BLOCKS])
    market, ctx = strategy_context(cls())
    return ctx


def _check(cls, ctx, values=None):
    inst = cls(**(values or {}))
    tables = {"fomc": from_decisions(ctx.fomc), "rba": from_decisions(ctx.rba)}
    got = inst.weights(ctx, inst.values)[:, 0] > 0
    want = reference_state(cls.spec, inst.values, ctx, tables, _decision_tz(ctx))
    assert np.array_equal(got, want), np.flatnonzero(got != want)[:5]
    return got


@pytest.mark.parametrize(
    ("when", "when_any", "exits", "hold"),
    [
        (["rec", "cut"], [], [], 20),  # the flagship's trigger
        (["rec", "cut"], [], ["aud", "y", "dd"], 40),
        (["mom"], [], ["aud"], 0),  # on while momentum holds, unless the AUD slides
        (["trend"], [], [], 0),
        (["cut"], [], [], 10),  # events only: conditions read at the decisions
        (["ease", "lvl"], [], ["rba"], 0),
        (["rec60"], ["cut", "rba"], ["aud"], 15),
        (["mom"], ["y", "aud"], [], 5),
    ],
)
def test_states_equal_the_plain_python_reference(sample_ctx, when, when_any, exits, hold):
    cls = make_rule("t", on=ON, off=OFF, when=[_block(k) for k in when],
                    when_any=[_block(k) for k in when_any], exits=[_block(k) for k in exits],
                    hold=hold)  # fmt: skip
    state = _check(cls, sample_ctx)
    assert 0 < state.sum() < len(state)  # the case says something


def test_negated_blocks_equal_the_reference(sample_ctx):
    cls = make_rule("n", on=ON, off=OFF, when=[_block("mom", True), _block("cut", True)],
                    exits=[_block("dd", True)], hold=3)  # fmt: skip
    _check(cls, sample_ctx)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    when=st.lists(st.sampled_from(sorted(BLOCKS)), min_size=1, max_size=3, unique=True),
    exits=st.lists(st.sampled_from(["aud", "y", "dd", "rba", "lvl"]), max_size=2, unique=True),
    hold=st.sampled_from([0, 1, 7, 30]),
    negate=st.booleans(),
)
def test_random_rules_equal_the_reference(sample_ctx, when, exits, hold, negate):
    exits = [e for e in exits if e not in when]
    cls = make_rule("h", on=ON, off=OFF, when=[_block(k, negate and i == 0)
                    for i, k in enumerate(when)], exits=[_block(k) for k in exits], hold=hold)  # fmt: skip
    _check(cls, sample_ctx)


def test_a_hand_worked_hold():
    """Hold 3 with a trigger at decision 0 and exits: the state machine of hold_1d_nb."""
    from engine.rules import kernels

    when = np.array([[True, False, False, True, False, True]])
    exit_ = np.array([[False, False, False, False, True, False]])
    flags = kernels.Flags(when, exit_)
    axis = kernels.Axis(np.arange(6, dtype=np.int64), np.arange(6, dtype=np.int64))
    sets = kernels.Sets(np.zeros((1, 1), np.int64), np.zeros((1, 0), np.int64),
                        np.zeros((1, 1), np.int64))  # fmt: skip
    fired, now = kernels.triggers_nb(flags, axis, sets, 6)
    exits = kernels.exits_nb(flags, sets, 6)
    combos = kernels.Combos(np.zeros(1, np.int64), np.zeros(1, np.int64), np.array([3]),
                            np.ones((1, 1)), np.zeros((1, 1)))  # fmt: skip
    state = np.zeros(6, dtype=bool)
    kernels.state_nb(fired, now, exits, combos, 0, state)
    assert state.tolist() == [True, True, True, True, False, True]  # 3 held, re-fired, exit wins
    combos = combos._replace(hold=np.array([0]))
    kernels.state_nb(fired, now, exits, combos, 0, state)
    assert state.tolist() == [True, False, False, True, False, True]
    pts = kernels.Points(*kernels.points_nb(fired, False), *kernels.points_nb(now, True),
                         *kernels.points_nb(exits, False), *kernels.points_nb(exits, True))  # fmt: skip
    offsets, row, weight = kernels.rule_orders_nb(pts, combos, 1, 5)
    assert row.tolist() == [0, 2, 3, 4] and weight[:, 0].tolist() == [0.0, 1.0, 0.0, 1.0]


def _grid_equals_single_runs(cls, p, combos) -> None:
    """The fused grid path's orders are those of one ``window_targets`` call per combo."""
    fast = cls.grid_weights(p.ctx, cls.resolve_frame(combos), p.rows)
    slow = Orders.from_dense(np.stack([window_targets(cls(**v), p.ctx, p.rows)
                                       for v in combos.to_dict("records")]))  # fmt: skip
    assert np.array_equal(fast.offsets, slow.offsets)
    assert np.array_equal(fast.row, slow.row)
    assert np.array_equal(fast.weight, slow.weight)


def test_the_grid_path_gives_each_combos_single_run_orders():
    cls = make_rule("g", on={"XSO": 0.7}, off={"XJO": 1.0},
                    when=[_block("rec60"), _block("cut")], when_any=[_block("y"), _block("mom")],
                    exits=[_block("aud"), _block("dd")], hold=10)  # fmt: skip
    cfg = RunConfig(start=pd.Timestamp(START), end=pd.Timestamp(END))
    p = prepare(cls(), cfg)
    space = Space.from_specs(cls, ["cut.days=10,60,120", "hold.sessions=0,5,30", "cut.move=cut,any",
                                   "aud.below=-0.04,-0.01", "rec60.lookback=20,250"])  # fmt: skip
    combos = space.combos()
    _grid_equals_single_runs(cls, p, combos)


@pytest.mark.parametrize("hold", [0, 20])
def test_rules_pass_the_lookahead_audit(sample_ctx, hold):
    cls = make_rule("a", on=ON, off=OFF, when=[_block("rec"), _block("rba")],
                    when_any=[_block("y"), _block("trend")], exits=[_block("aud"), _block("cut")],
                    hold=hold)  # fmt: skip
    result = audit(cls(), sample_ctx)
    assert result.passed, result.message()


@pytest.mark.parametrize(
    ("start", "on", "off", "specs"),
    [
        ("2001-03-01", {"XSO": 1.0}, {}, ["hold.sessions=0,1,2,250", "mom.above=-0.05,0,0.02"]),
        (
            "2016-06-01",
            {"XSO": 0.5, "XJO": 0.5},
            {"XJO": 1.0},
            ["hold.sessions=0,3,40", "cut.days=0,30,365", "aud.window=5,30"],
        ),
        ("2010-01-04", {"XJO": 1.0}, {"XJO": 1.0}, ["hold.sessions=0,10"]),  # on == off
    ],
)
def test_event_stepped_orders_equal_the_dense_states(start, on, off, specs):
    cls = make_rule("e", on=on, off=off, when=[_block("mom"), _block("cut")],
                    exits=[_block("aud"), _block("rba")], hold=5)  # fmt: skip
    cfg = RunConfig(start=pd.Timestamp(start), end=pd.Timestamp("2020-12-31"))
    p = prepare(cls(), cfg)
    combos = Space.from_specs(cls, specs).combos()
    _grid_equals_single_runs(cls, p, combos)
