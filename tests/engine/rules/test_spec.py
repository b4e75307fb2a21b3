"""Rule files: every field checked, messages naming the file, the block and the field."""

from __future__ import annotations

import textwrap

import pytest

from engine.errors import StrategyError
from engine.rules import load_rule, make_rule
from engine.rules.spec import read_rule, rule_from_dict

GOOD = {
    "name": "r",
    "trade": {"on": {"XSO": 1.0}, "off": {"XJO": 1.0}},
    "when": [{"name": "m", "block": "change", "series": "RUT", "window": 20, "above": 0.05}],
    "hold": {"sessions": 20},
    "exit": [{"name": "aud", "block": "change", "series": "AUDUSD", "below": -0.03}],
}


def _with(**changes):
    raw = {k: v for k, v in GOOD.items()}
    raw.update(changes)
    return raw


def test_a_good_rule_reads_with_defaults_filled_in():
    rule = rule_from_dict(GOOD, "x.toml")
    assert rule.hold == 20 and rule.assets == ("XSO", "XJO") and rule.series == ("RUT", "AUDUSD")
    assert rule.exits[0].values == {"window": 20, "below": -0.03}
    cls = make_rule("r", on={"XSO": 1.0}, off={"XJO": 1.0}, when=GOOD["when"], hold=20,
                    exits=GOOD["exit"])  # fmt: skip
    names = [p.name for p in cls.params]
    assert names == ["m.window", "m.above", "aud.window", "aud.below", "hold.sessions"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (_with(nmae="x"), "top level: unknown key 'nmae'. Did you mean 'name'"),
        (_with(name="Bad Name"), "name: 'Bad Name'"),
        (_with(trade={"of": {}}), r"\[trade\]: give on"),
        (_with(trade={"on": {"XSO": 0.7, "XJO": 0.6}}), "sum to 1.3"),
        (_with(trade={"on": {"XSO": -1}}), "negative"),
        (_with(trade={"on": {"XSO": "all"}}), "not a number"),
        (_with(when=[]), "at least one"),
        (
            _with(when=[{"name": "m", "block": "chnage", "series": "RUT", "above": 1}]),
            "Did you mean 'change'",
        ),
        (
            _with(when=[{"name": "m", "block": "change", "series": "RUT", "windw": 5, "above": 1}]),
            r"\[\[when\]\] 'm' \(change\): unknown field 'windw'. Did you mean 'window'",
        ),
        (_with(when=[{"name": "m", "block": "change", "series": "RUT"}]), "give above or below"),
        (
            _with(
                when=[{"name": "m", "block": "change", "series": "RUT", "window": 0, "above": 1}]
            ),
            r"m'.window: 0 is outside \[1",
        ),
        (
            _with(
                when=[{"name": "m", "block": "change", "series": "RUT", "window": 2.5, "above": 1}]
            ),
            "whole number",
        ),
        (_with(when=[{"name": "m", "block": "change", "above": 1}]), "series = None"),
        (
            _with(when=[{"name": "e", "block": "event_within", "events": "rba", "move": "cuts"}]),
            "not one of cut, hike, any. Did you mean 'cut'",
        ),
        (
            _with(
                when=[{"name": "e", "block": "event_within", "events": "tariffs", "move": "cut"}]
            ),
            "user event files have no moves",
        ),
        (_with(when=[{"name": "e", "block": "easing_cycle", "events": "ecb"}]), "fomc | rba"),
        (
            _with(when=[{"name": "e", "block": "record", "series": "RUT", "not": "yes"}]),
            "write not = true",
        ),
        (_with(when=[{"name": "aud", "block": "record", "series": "RUT"}]), "used twice"),
        (_with(when=[{"name": "hold", "block": "record", "series": "RUT"}]), "reserved"),
        (_with(when=[{"name": "d", "block": "drawdown", "series": "RUT"}]), "below: is required"),
        (_with(hold={"session": 3}), "Did you mean 'sessions'"),
        (_with(hold={"sessions": -1}), "outside"),
    ],
)
def test_mistakes_name_the_file_block_and_field(raw, message):
    with pytest.raises(StrategyError, match=message) as got:
        rule_from_dict(raw, "rules/mine.toml")
    assert str(got.value).startswith("rules/mine.toml: ")


def test_files_are_toml_and_errors_name_them(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("name = \n")
    with pytest.raises(StrategyError, match="bad.toml: not valid TOML"):
        read_rule(bad)
    with pytest.raises(StrategyError, match="is TOML"):
        read_rule(tmp_path / "rule.yaml")
    with pytest.raises(StrategyError, match="does not exist|missing|no such"):
        read_rule(tmp_path / "none.toml")
    (tmp_path / "ok.toml").write_text(textwrap.dedent("""
        name = "ok"
        [trade]
        on = { XSO = 1.0 }
        [[when]]
        name = "rec"
        block = "record"
        series = "RUT"
    """))  # fmt: skip
    cls = load_rule(tmp_path / "ok.toml")
    assert cls.name == "ok" and cls().assets() == ("XSO",) and cls().required() == ("XSO", "RUT")
    assert "On: XSO 100%; off: cash" in cls.rule
