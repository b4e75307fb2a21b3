"""Strategy parameters: ``Param``, the declaration of one parameter of a strategy.

A ``Param`` holds a parameter's name, default, kind (int, float, choice or str), description,
unit and bounds (``low``/``high`` for numbers, ``choices`` for choices). The same spec drives
validation (``coerce``: a value - possibly a CLI string - converted to the kind and checked
against the bounds), CLI parsing (``--param hold_days=20``), grid expansion, the help texts
(``kind_text``, ``range_text``) and the generic strategy tests. ``engine.strategy.base`` re-exports
it, so strategy files keep ``from engine.strategy.base import Param, Strategy``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.errors import ParamError, did_you_mean

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
        except (TypeError, ValueError, OverflowError):
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

    def range_text(self) -> str:
        """The allowed values in a few characters: ``[1, 1000]``, ``large | cash`` or ``any``."""
        if self.choices:
            return " | ".join(self.choices)
        if self.low is None and self.high is None:
            return "any"
        lo = "-inf" if self.low is None else f"{self.low:g}"
        hi = "inf" if self.high is None else f"{self.high:g}"
        return f"[{lo}, {hi}]"
