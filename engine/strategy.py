"""The strategy API: declarative parameters and the base class every strategy subclasses.

A strategy is a small class: a name, its rule in plain words, its parameters (``Param``: default,
type, range or choices, unit, description), the instruments it trades and the data it needs, and one
method from an aligned ``Context`` to target weights per decision point. The same ``Param`` spec drives
validation, CLI parsing (``--param hold_days=20``), grid expansion and the generic strategy tests.
Not here: the registry of built-ins (``strategies``), simulation (``simulate``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from engine.align import Context
from engine.errors import ParamError, StrategyError, did_you_mean

_TYPES = {"int": int, "float": float, "choice": str, "str": str}


@dataclass(frozen=True)
class Param:
    """One strategy parameter. ``low``/``high`` bound numbers (inclusive); ``choices`` bound choices."""

    name: str
    default: Any
    kind: str  # int | float | choice | str
    description: str
    unit: str = ""
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in _TYPES:
            raise ValueError(f"Param {self.name}: kind {self.kind!r} not in {sorted(_TYPES)}")
        if self.kind == "choice" and not self.choices:
            raise ValueError(f"Param {self.name}: a choice parameter needs choices")

    def coerce(self, value: Any, owner: str) -> Any:
        """Convert ``value`` (possibly a CLI string) to this parameter's type and check its range."""
        where = f"{owner}: parameter {self.name}"
        try:
            if self.kind == "int":
                as_float = float(value)
                if not as_float.is_integer():
                    raise ValueError
                out: Any = int(as_float)
            elif self.kind == "float":
                out = float(value)
                if not np.isfinite(out):
                    raise ValueError
            else:
                out = str(value)
        except (TypeError, ValueError):
            raise ParamError(f"{where} must be {self.kind_text()}; got {value!r}.") from None
        if self.choices and out not in self.choices:
            raise ParamError(
                f"{where} must be one of {', '.join(self.choices)}; got {out!r}."
                f"{did_you_mean(out, self.choices)}"
            )
        if (self.low is not None and out < self.low) or (self.high is not None and out > self.high):
            raise ParamError(f"{where} must be in [{self.low}, {self.high}]; got {out!r}.")
        return out

    def kind_text(self) -> str:
        if self.choices:
            return "one of " + ", ".join(self.choices)
        if self.low is not None or self.high is not None:
            return (
                f"{'an integer' if self.kind == 'int' else 'a number'} in [{self.low}, {self.high}]"
            )
        return {"int": "an integer", "float": "a number"}.get(self.kind, "text")


class Strategy:
    """Base class. Subclasses set the class attributes and implement ``weights``.

    ``traded``: instrument keys the strategy holds (columns of its weights, all on one calendar);
    ``requires``: every instrument key it reads (traded ones included);
    ``weights(ctx, p)``: an array (len(ctx.labels), len(traded)) of target weights, each row decided at
    ``ctx.decision_ns[row]`` with only data known strictly before it. Rows summing below 1 hold cash.
    """

    name: ClassVar[str] = ""
    rule: ClassVar[str] = ""
    params: ClassVar[tuple[Param, ...]] = ()
    traded: ClassVar[tuple[str, ...]] = ()
    requires: ClassVar[tuple[str, ...]] = ()
    calendar: ClassVar[str] = "XASX"

    def __init__(self, **values: Any) -> None:
        self.values = self.resolve(values)

    @classmethod
    def resolve(cls, values: Mapping[str, Any]) -> dict[str, Any]:
        """Defaults overlaid with ``values``, each coerced and range-checked."""
        spec = {p.name: p for p in cls.params}
        unknown = [k for k in values if k not in spec]
        if unknown:
            k = unknown[0]
            raise ParamError(
                f"{cls.name}: unknown parameter {k!r}.{did_you_mean(k, spec)} "
                f"Parameters: {', '.join(spec) or '(none)'}."
            )
        out = {p.name: p.coerce(p.default, cls.name) for p in cls.params}
        out.update({k: spec[k].coerce(v, cls.name) for k, v in values.items()})
        return out

    def assets(self) -> tuple[str, ...]:
        """Instrument keys held, in weight-column order (override when a parameter picks them)."""
        return self.traded

    def required(self) -> tuple[str, ...]:
        """Every instrument key read, traded ones included."""
        return tuple(dict.fromkeys((*self.assets(), *self.requires)))

    def weights(self, ctx: Context, p: Mapping[str, Any]) -> np.ndarray:
        raise NotImplementedError

    def target_weights(self, ctx: Context) -> np.ndarray:
        """Validated weights for ``ctx``: finite, non-negative, each row summing to at most 1."""
        w = np.ascontiguousarray(self.weights(ctx, self.values), dtype=np.float64)
        expected = (len(ctx.labels), len(self.assets()))
        if w.shape != expected:
            raise StrategyError(
                f"{self.name}: weights have shape {w.shape}; expected "
                f"{expected} (decision points x traded instruments)."
            )
        if not np.isfinite(w).all() or (w < 0).any() or (w.sum(axis=1) > 1 + 1e-9).any():
            raise StrategyError(
                f"{self.name}: weights must be finite, non-negative and sum to at most 1 per row."
            )
        return w
