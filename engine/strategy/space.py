"""Parameter spaces for grid search: parsing ``--param`` specs, constraints, enumeration, sampling.

Lives here: ``parse_spec`` (``k=a:b:step`` inclusive ranges, ``k=v1,v2,...`` lists, ``k=v`` single
values, each coerced and range-checked by the strategy's ``Param``), ``Space`` (the axes, its size,
``combos`` to enumerate it or ``sample`` to draw distinct combos at random with a seed) and
``apply_constraint`` (a filter such as ``"hold_days > 5 and weight >= 0.5"``: comparisons,
arithmetic and and/or/not over parameter names only). Not here: running combos (``grid``).
"""

from __future__ import annotations

import ast
import math
import operator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import numpy as np
import pandas as pd

from engine.errors import ConfigError, ParamError, did_you_mean
from engine.strategy.base import Param, Strategy

MAX_ENUMERATED = 2_000_000
MAX_AXIS_VALUES = 1_000_000  # values one range may expand to (checked before building the list)
_ALLOWED = (ast.Expression, ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.Compare, ast.Name, ast.Load,
            ast.Constant, ast.And, ast.Or, ast.Not, ast.USub, ast.UAdd, ast.Add, ast.Sub, ast.Mult,
            ast.Div, ast.Mod, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Eq, ast.NotEq)  # fmt: skip


def _range(param: Param, text: str, owner: str) -> list:
    parts = text.split(":")
    if len(parts) != 3:
        raise ParamError(
            f"{owner}: {param.name}={text!r}: a range is start:stop:step, e.g. 5:60:5."
        )
    try:
        start, stop, step = (Decimal(p) for p in parts)
    except InvalidOperation:
        raise ParamError(
            f"{owner}: {param.name}={text!r}: start, stop and step must be numbers."
        ) from None
    if not all(x.is_finite() for x in (start, stop, step)):
        raise ParamError(
            f"{owner}: {param.name}={text!r}: start, stop and step must be finite numbers."
        )
    if step == 0 or (stop - start) * step < 0:
        good = abs(step) or 1
        good = -good if stop < start else good
        raise ParamError(
            f"{owner}: {param.name}={text!r}: the step must be non-zero and point from start to "
            f"stop (e.g. {start}:{stop}:{good})."
        )
    count = int((stop - start) / step) + 1
    if count > MAX_AXIS_VALUES:
        raise ParamError(
            f"{owner}: {param.name}={text!r} has {count:,} values; use a coarser step."
        )
    return [param.coerce(str(start + i * step), owner) for i in range(count)]


def parse_spec(strategy: type[Strategy], spec: str) -> tuple[str, list]:
    """One ``--param`` spec -> (name, values)."""
    name, sep, text = spec.partition("=")
    name, text = name.strip(), text.strip()
    params = {p.name: p for p in strategy.params}
    if not sep or not name or not text:
        raise ParamError(
            f"--param {spec!r} is not KEY=VALUES; e.g. hold_days=10:60:10 or risk_off=cash,large."
        )
    if name not in params:
        raise ParamError(
            f"{strategy.name}: unknown parameter {name!r}.{did_you_mean(name, params)} "
            f"Parameters: {', '.join(params)}."
        )
    param = params[name]
    if ":" in text and param.kind in ("int", "float"):
        values = _range(param, text, strategy.name)
    else:
        values = [param.coerce(v.strip(), strategy.name) for v in text.split(",") if v.strip()]
    if not values:
        raise ParamError(
            f"{strategy.name}: --param {spec!r} gives no values; list at least one, e.g. {name}=1,2."
        )
    return name, list(dict.fromkeys(values))


@dataclass(frozen=True)
class Space:
    """Axes of a grid: every parameter with its candidate values (defaults for the rest)."""

    strategy: type[Strategy]
    axes: dict[str, list]

    @classmethod
    def from_specs(cls, strategy: type[Strategy], specs: list[str]) -> Space:
        axes = {p.name: [p.coerce(p.default, strategy.name)] for p in strategy.params}
        seen = set()
        for spec in specs:
            name, values = parse_spec(strategy, spec)
            if name in seen:
                raise ParamError(
                    f"{strategy.name}: parameter {name!r} is given twice; merge the values."
                )
            seen.add(name)
            axes[name] = values
        return cls(strategy, axes)

    @classmethod
    def from_values(cls, strategy: type[Strategy], values: dict[str, object]) -> Space:
        """Axes from Python values: ``{"hold_days": range(5, 61, 5), "risk_off": ["cash", "large"],
        "weight": 1.0}`` (a range, list, tuple, set, numpy array or one value per parameter)."""
        params = {p.name: p for p in strategy.params}
        axes = {p.name: [p.coerce(p.default, strategy.name)] for p in strategy.params}
        for name, given in values.items():
            if name not in params:
                raise ParamError(
                    f"{strategy.name}: unknown parameter {name!r}.{did_you_mean(name, params)} "
                    f"Parameters: {', '.join(params) or '(none)'}."
                )
            many = isinstance(given, range | list | tuple | set | frozenset | np.ndarray)
            items = list(np.asarray(given).ravel()) if isinstance(given, np.ndarray) else given
            if isinstance(given, set | frozenset):  # no order of its own: enumerate sorted
                items = sorted(given)
            items = list(items) if many else [given]
            if len(items) > MAX_AXIS_VALUES:
                raise ParamError(f"{strategy.name}: {name} has {len(items):,} values; use fewer.")
            coerced = [params[name].coerce(v, strategy.name) for v in items]
            if not coerced:
                raise ParamError(f"{strategy.name}: {name} gives no values; list at least one.")
            axes[name] = list(dict.fromkeys(coerced))
        return cls(strategy, axes)

    @property
    def size(self) -> int:
        return math.prod(len(v) for v in self.axes.values())

    @property
    def varied(self) -> list[str]:
        return [k for k, v in self.axes.items() if len(v) > 1]

    def combos(self) -> pd.DataFrame:
        """Every combo, one row each (columns in parameter order)."""
        if self.size > MAX_ENUMERATED:
            raise ConfigError(
                f"the grid has {self.size:,} combos, too many to enumerate (limit "
                f"{MAX_ENUMERATED:,}); pass --samples N to draw N of them at random."
            )
        if not self.axes:
            return pd.DataFrame(index=pd.RangeIndex(1))
        index = pd.MultiIndex.from_product(list(self.axes.values()), names=list(self.axes))
        return index.to_frame(index=False)

    def sample(self, n: int, seed: int) -> pd.DataFrame:
        """``n`` distinct combos drawn uniformly at random (all of them if the space is smaller)."""
        if n <= 0:
            raise ConfigError(f"--samples must be positive; got {n}.")
        if n >= self.size:
            return self.combos()
        rng = np.random.default_rng(seed)
        lens = np.array([len(v) for v in self.axes.values()], dtype=np.int64)
        # Distinct rows of axis codes, drawn in vectorised batches (no per-combo Python objects),
        # then returned in enumeration order so the result does not depend on draw order.
        codes = np.empty((0, len(lens)), dtype=np.int64)
        flat = self.size < 2**62  # rows as one integer each: np.unique on 1-D is ~20x faster
        if flat and n * 8 > self.size and self.size <= 10**9:
            # a large share of a space that fits in memory: drawing with replacement and
            # dropping repeats would take dozens of rounds, so draw the rows without replacement
            picks = rng.choice(self.size, size=n, replace=False)
            codes = np.stack(np.unravel_index(picks, lens), axis=1).astype(np.int64)
        while len(codes) < n:
            draw = rng.integers(0, lens, size=(int((n - len(codes)) * 1.2) + 16, len(lens)))
            merged = np.concatenate((codes, draw))
            key = np.ravel_multi_index(tuple(merged.T), lens) if flat else merged
            _, first = np.unique(key, axis=0, return_index=True)
            codes = merged[np.sort(first)]  # keep earlier draws first, so topping up is stable
        codes = codes[:n]
        codes = codes[np.lexsort(codes.T[::-1])]
        frame = pd.DataFrame({k: np.asarray(v, dtype=object)[codes[:, i]]
                              for i, (k, v) in enumerate(self.axes.items())})  # fmt: skip
        return frame.infer_objects()  # the same column types as combos()


_BIN = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
        ast.Div: operator.truediv, ast.Mod: operator.mod}  # fmt: skip
_CMP = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
        ast.Eq: operator.eq, ast.NotEq: operator.ne}  # fmt: skip


def _number(value):
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise TypeError(f"arithmetic needs numbers, not {value!r}")
    return value


def _dotted(node: ast.Attribute) -> str | None:
    """``rba.days`` for the attribute node of a rule parameter (a name and one field), else None."""
    return f"{node.value.id}.{node.attr}" if isinstance(node.value, ast.Name) else None


def _eval(node, row):
    """A constraint's value on one combo: comparisons, and/or/not and arithmetic on numbers only
    (text arithmetic such as ``risk_off * 10**12`` would build huge strings)."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return row[node.id]
    if isinstance(node, ast.Attribute):  # a rule's NAME.FIELD parameter
        return row[_dotted(node)]
    if isinstance(node, ast.BoolOp):
        values = (bool(_eval(v, row)) for v in node.values)
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.UnaryOp):
        value = _eval(node.operand, row)
        return (
            not value
            if isinstance(node.op, ast.Not)
            else _number(value) * (-1 if isinstance(node.op, ast.USub) else 1)
        )
    if isinstance(node, ast.BinOp):
        a, b = _number(_eval(node.left, row)), _number(_eval(node.right, row))
        return _BIN[type(node.op)](a, b)
    left = _eval(node.left, row)  # ast.Compare: a < b <= c
    for op, right_node in zip(node.ops, node.comparators, strict=True):
        right = _eval(right_node, row)
        if not _CMP[type(op)](left, right):
            return False
        left = right
    return True


def apply_constraint(combos: pd.DataFrame, expr: str | None) -> pd.DataFrame:
    """Rows of ``combos`` satisfying ``expr`` (a safe boolean expression over column names)."""
    if not expr:
        return combos
    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError as exc:
        raise ConfigError(
            f'--constraint {expr!r} does not parse ({exc.msg}); e.g. "hold_days > 5".'
        ) from None
    dotted = set()  # the Name of a rule's NAME.FIELD parameter is not a parameter of its own
    for node in ast.walk(tree):
        name = _dotted(node) if isinstance(node, ast.Attribute) else None
        if name is not None and node.value.id not in combos.columns:  # not an attribute of one
            if name not in combos.columns:
                raise ConfigError(
                    f"--constraint {expr!r}: unknown parameter {name!r}."
                    f"{did_you_mean(name, combos.columns)} Parameters: {', '.join(combos.columns)}."
                )
            dotted.add(id(node.value))
            continue
        if not isinstance(node, _ALLOWED):
            raise ConfigError(
                f"--constraint {expr!r}: {type(node).__name__} is not allowed; use comparisons, "
                "arithmetic and and/or/not over parameter names."
            )
        if isinstance(node, ast.Name) and id(node) not in dotted and node.id not in combos.columns:
            raise ConfigError(
                f"--constraint {expr!r}: unknown parameter {node.id!r}."
                f"{did_you_mean(node.id, combos.columns)} Parameters: {', '.join(combos.columns)}."
            )
    keep = []
    for row in combos.to_dict("records"):
        try:
            keep.append(bool(_eval(tree.body, row)))
        except (TypeError, ArithmeticError) as exc:
            raise ConfigError(
                f"--constraint {expr!r} fails on {row} ({exc}); compare numbers with numbers and "
                "choices with quoted text, e.g. risk_off == 'cash'."
            ) from None
    out = combos[np.asarray(keep, dtype=bool)].reset_index(drop=True)
    if out.empty:
        raise ConfigError(f"--constraint {expr!r} leaves no combos; loosen it.")
    return out


def parse_assignments(items: list[str], where: str, example: str) -> dict[str, str]:
    """``["hold_days=20", ...]`` -> ``{"hold_days": "20", ...}``: the one KEY=VALUE parser of
    ``--param``, config files and ``NAME:k=v,k=v`` compare inputs. ``where`` names the input in
    messages (e.g. ``--param``); ``example`` shows a correct one. A key given twice is refused."""
    params: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            raise ParamError(f"{where} {item!r} is not KEY=VALUE; write e.g. {example}.")
        if key in params:
            raise ParamError(
                f"{where} {key} is given twice ({params[key]!r} and {value!r}); give each "
                "parameter once."
            )
        params[key] = value
    return params
