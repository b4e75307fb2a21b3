"""Rules from blocks: strategies declared in TOML (or Python) instead of code.

``load_rule(path)`` reads a rule file (``spec``) and returns a ``Strategy`` class (``strategy``);
``make_rule(...)`` builds the same from Python values. Blocks (``blocks``) read series and event
tables (``eventfiles``) through knowledge instants; the rule machine (``machine``, ``kernels``)
turns them into every combo's orders at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from engine.rules.spec import Rule, read_rule, rule_from_dict
from engine.rules.strategy import RuleStrategy, rule_strategy
from engine.strategy.base import Strategy


def load_rule(path: str | Path) -> type[Strategy]:
    """The ``Strategy`` class of the rule file ``path``."""
    return rule_strategy(read_rule(path))


def make_rule(
    name: str,
    *,
    on: Mapping[str, float],
    off: Mapping[str, float] | None = None,
    when: Sequence[Mapping[str, Any]] = (),
    when_any: Sequence[Mapping[str, Any]] = (),
    hold: int = 0,
    exits: Sequence[Mapping[str, Any]] = (),
    description: str = "",
) -> type[Strategy]:
    """A rule from Python values, as a rule file would declare it::

    make_rule("rba-momentum", on={"XSO": 1.0}, off={"XJO": 1.0},
              when=[{"name": "rba", "block": "event_within", "events": "rba",
                     "move": "cut", "days": 90}], hold=20)
    """
    raw: dict[str, Any] = {"name": name, "description": description,
                           "trade": {"on": dict(on), **({"off": dict(off)} if off else {})},
                           "when": [dict(b) for b in when], "when_any": [dict(b) for b in when_any],
                           "exit": [dict(b) for b in exits], "hold": {"sessions": hold}}  # fmt: skip
    return rule_strategy(rule_from_dict(raw, f"rule {name!r}"))


__all__ = [
    "Rule",
    "RuleStrategy",
    "load_rule",
    "make_rule",
    "read_rule",
    "rule_from_dict",
    "rule_strategy",
]
