"""The strategy API: declarative parameters and the base class every strategy subclasses.

A strategy is a small class: a name, its rule in plain words, its parameters (``Param``: default,
type, range or choices, unit, description; declared in ``engine.strategy.param`` and importable
from here), the instruments it trades and the data it needs, its warm-up, and one method from an
aligned ``Context`` to target weights per decision point. ``check_strategy_class`` holds the
checks every strategy (built-in or loaded from a user's file) must pass.

This logic lives here, in the order ``target_weights`` runs it:

1. replay ``warmup()`` earlier sessions of the traded calendar before the context's first decision
   point (``with_lead_in``), so state carried across decisions (a hold begun before the window)
   is the same whether a run starts early or late;
2. call ``weights(ctx, values)`` and drop the replayed rows;
3. check the shape and that every row is finite, non-negative and sums to at most 1.

Not here: the registry of built-ins (``strategies``), loading user files (``strategy_file``),
simulation (``simulate``), event studies (``eventstudy``) and the lookahead audit (``audit``).
"""

from __future__ import annotations

import inspect
import re
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from engine import paths
from engine.errors import BacktestError, ParamError, StrategyError, did_you_mean
from engine.feeds import calendars
from engine.feeds.marketdata import MarketData, load_folder
from engine.strategy.param import Param
from engine.timing.align import Context, build_context


@dataclass(frozen=True)
class Signals:
    """Signal observations of a strategy, in time order.

    ``known_ns``: UTC instant (int64 ns) each signal became known; ``observed``: the date label of
    the observation that fired on its own series' axis; ``source``: what fired, in a few words.
    """

    known_ns: np.ndarray
    observed: pd.DatetimeIndex
    source: str

    def __post_init__(self) -> None:
        if len(self.known_ns) != len(self.observed):
            raise ValueError("Signals: known_ns and observed differ in length")


class Strategy:
    """Base class. Subclasses set the class attributes and implement ``weights``.

    ``traded``: instrument keys the strategy holds (columns of its weights, all on one calendar);
    ``requires``: every instrument key it reads (traded ones included);
    ``signal_asset``: the traded key whose forward returns an event study measures (default: the
    first of ``assets()``); ``optional``: keys read only under some parameters -> when, in words;
    ``weights(ctx, p)``: an array (len(ctx.labels), len(traded)) of target weights, each row decided at
    ``ctx.decision_ns[row]`` with only data known strictly before it. Rows summing below 1 hold cash.
    Optional hooks: ``warmup()``, ``signal_flags(ctx, p)``, ``rebalance_mask(ctx)`` and, for the
    fused grid path, a classmethod ``grid_weights(ctx, combos, rows)`` returning the window orders
    of ``api.window_targets`` for K combos (a ``resolve_frame`` table) at once, as ``Orders``.
    """

    name: ClassVar[str] = ""
    rule: ClassVar[str] = ""
    params: ClassVar[tuple[Param, ...]] = ()
    traded: ClassVar[tuple[str, ...]] = ()
    requires: ClassVar[tuple[str, ...]] = ()
    calendar: ClassVar[str] = "XASX"
    signal_asset: ClassVar[str | None] = None
    optional: ClassVar[dict[str, str]] = {}

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

    @classmethod
    def resolve_frame(cls, combos: pd.DataFrame) -> pd.DataFrame:
        """``resolve`` for a table of combos (one row each): every parameter as a column, each
        distinct value coerced and checked once."""
        cls.resolve({k: combos[k].iloc[0] for k in combos.columns} if len(combos) else {})
        dtypes = {"int": np.int64, "float": np.float64}
        out = {}
        for p in cls.params:
            if p.name in combos.columns:
                codes, uniques = pd.factorize(combos[p.name], use_na_sentinel=False)
                values = [p.coerce(u, cls.name) for u in uniques]
                out[p.name] = np.asarray(values, dtype=dtypes.get(p.kind, object))[codes]
            else:
                default = p.coerce(p.default, cls.name)
                out[p.name] = np.full(len(combos), default, dtype=dtypes.get(p.kind, object))
        return pd.DataFrame(out, index=combos.index)

    def assets(self) -> tuple[str, ...]:
        """Instrument keys held, in weight-column order (override when a parameter picks them)."""
        return self.traded

    def required(self) -> tuple[str, ...]:
        """Every instrument key read, traded ones included."""
        return tuple(dict.fromkeys((*self.assets(), *self.requires)))

    def warmup(self) -> int:
        """Sessions of the traded calendar before a decision that can still change it (e.g. a hold
        started ``hold_days`` sessions earlier). ``target_weights`` replays that many sessions."""
        return 0

    def weights(self, ctx: Context, p: Mapping[str, Any]) -> np.ndarray:
        raise NotImplementedError

    def signal_flags(
        self, ctx: Context, p: Mapping[str, Any]
    ) -> tuple[np.ndarray, np.ndarray, pd.DatetimeIndex, str] | None:
        """Optional: (flags, known_ns, dates, source) on the firing series' own axis, so an event
        study can say when each signal was known. ``None``: signals are read off the weights."""
        return None

    def run_warnings(self, ctx: Context, observed: pd.DatetimeIndex) -> list[str]:
        """Optional: warnings about this run's signals (``observed``: the observation date of each
        signal in the window), e.g. records read off too short a history. Printed and saved."""
        return []

    def chart_markers(self, ctx: Context) -> dict[str, pd.DatetimeIndex]:
        """Optional: observation dates to mark on the report's equity chart, by label (the
        flagship marks Russell 2000 record closes); each is drawn at the first session after it."""
        return {}

    def rebalance_mask(self, ctx: Context) -> np.ndarray | None:
        """Optional: rows (bool, len(ctx.labels)) at which to trade back to target even if the target
        is unchanged (calendar rebalancing). ``None``: trade only when the target changes."""
        return None

    def target_weights(self, ctx: Context) -> np.ndarray:
        """Validated weights for ``ctx``: finite, non-negative, each row summing to at most 1."""
        wctx, lead = with_lead_in(ctx, self.warmup())
        raw = np.asarray(call_user(self, "weights()", self.weights, wctx, self.values))
        try:
            raw = raw.astype(np.float64)
        except (TypeError, ValueError):
            raise StrategyError(
                f"{self.name}: weights() returned {raw.dtype} values; return numbers."
            ) from None
        expected = (len(wctx.labels), len(self.assets()))
        if raw.shape != expected:
            raise StrategyError(
                f"{self.name}: weights have shape {raw.shape}; expected "
                f"{expected} (decision points x traded instruments)."
            )
        w = np.ascontiguousarray(raw[lead:])
        if not np.isfinite(w).all() or (w < 0).any() or (w.sum(axis=1) > 1 + 1e-9).any():
            raise StrategyError(
                f"{self.name}: weights must be finite, non-negative and sum to at most 1 per row."
            )
        return w

    def signals(self, ctx: Context) -> Signals:
        """Every signal observation known before the last decision point of ``ctx``.

        From ``signal_flags`` when the strategy defines it; otherwise each decision row where the
        weight of ``signal_asset`` rises, stamped with that decision's instant ("known by").
        """
        if len(ctx.labels) == 0:
            return Signals(np.zeros(0, dtype=np.int64), pd.DatetimeIndex([]), self.name)
        got = call_user(self, "signal_flags()", self.signal_flags, ctx, self.values)
        if got is None:
            col = self.assets().index(self.signal_asset or self.assets()[0])
            w = self.target_weights(ctx)[:, col]
            rows = np.flatnonzero(np.diff(w, prepend=0.0) > 0)
            return Signals(ctx.decision_ns[rows], ctx.labels[rows], f"{self.name} entry")
        flags, known_ns, dates, source = got
        keep = np.asarray(flags, dtype=bool) & (known_ns < ctx.decision_ns[-1])
        return Signals(np.asarray(known_ns)[keep], pd.DatetimeIndex(dates)[keep], source)

    def describe(self) -> dict[str, Any]:
        """Everything ``backtest strategies show`` prints, as plain data."""
        return {
            "name": self.name,
            "rule": self.rule,
            "params": [
                {
                    "name": p.name,
                    "default": p.default,
                    "type": p.kind,
                    "range": p.range_text(),
                    "unit": p.unit,
                    "description": p.description,
                }
                for p in self.params
            ],
            "traded": self.assets(),
            "required": self.required(),
            "optional": {k: v for k, v in self.optional.items() if k not in self.required()},
            "calendar": self.calendar,
            "signal_asset": self.signal_asset or self.assets()[0],
            "warmup": self.warmup(),
        }


_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,59}")


def call_user(strategy, what: str, fn, *args):
    """Call a strategy's own code; anything it raises (or a ``sys.exit``) becomes a
    ``StrategyError`` naming the strategy, the call and the line of its file where it failed."""
    try:
        return fn(*args)
    except BacktestError:
        raise
    except (Exception, SystemExit) as exc:  # a strategy may fail in any way; say where
        where = ""
        source = inspect.getsourcefile(type(strategy)) or ""
        for frame in traceback.extract_tb(exc.__traceback__):
            if source and frame.filename == source:
                where = f" at {Path(frame.filename).name}:{frame.lineno}"
        kind = "called sys.exit" if isinstance(exc, SystemExit) else type(exc).__name__
        raise StrategyError(
            f"{strategy.name}: {what} failed{where} ({kind}: {exc}); fix the strategy."
        ) from None


def with_lead_in(ctx: Context, n: int) -> tuple[Context, int]:
    """``ctx`` with up to ``n`` earlier sessions of its calendar prepended, and how many were.

    The earlier decision instants keep the context's phase: before each open, before each close, or
    a fixed offset from the open for hand-built contexts. Data is untouched, so no lookahead.
    """
    if n <= 0 or len(ctx.labels) == 0:
        return ctx, 0
    sess = calendars.sessions(ctx.calendar)
    pos = sess.labels.searchsorted(ctx.labels[0])
    if pos >= len(sess.labels) or sess.labels[pos] != ctx.labels[0] or pos == 0:
        return ctx, 0
    lo = max(0, pos - n)
    first = int(ctx.decision_ns[0])
    if first == sess.close_ns[pos]:
        earlier = sess.close_ns[lo:pos]
    else:
        earlier = sess.open_ns[lo:pos] + (first - int(sess.open_ns[pos]))
    if len(earlier) and earlier[-1] >= first:
        return ctx, 0
    labels = sess.labels[lo:pos].append(ctx.labels)
    decision_ns = np.concatenate((earlier, ctx.decision_ns)).astype(np.int64)
    return Context(ctx.market, ctx.fomc, ctx.rba, ctx.calendar, labels, decision_ns), pos - lo


def strategy_context(
    strategy: Strategy, data_dir: Path | None = None, fill: str = "open"
) -> tuple[MarketData, Context]:
    """Load what ``strategy`` reads from ``data_dir`` (default: the sample) and build decision
    points over the traded instruments' whole common history, as the run API does."""
    market = load_folder(Path(data_dir or paths.sample_dir()), list(strategy.required()))
    assets = strategy.assets()
    cals = {market[k].instrument.calendar for k in assets}
    if len(cals) != 1:
        raise StrategyError(
            f"{strategy.name}: traded instruments {', '.join(assets)} are on calendars "
            f"{', '.join(sorted(cals))}; they must share one exchange calendar for now."
        )
    first = max(market[k].frame.index[0] for k in assets)
    last = min(market[k].frame.index[-1] for k in assets)
    if first > last:
        raise StrategyError(
            f"{strategy.name}: the traded instruments' data do not overlap in time "
            f"({', '.join(f'{k} {market[k].frame.index[0].date()}..' for k in assets)})."
        )
    return market, build_context(market, cals.pop(), first, last, fill)


def check_strategy_class(cls: Any, where: str = "") -> None:
    """Raise ``StrategyError`` unless ``cls`` is a complete strategy declaration.

    The same checks run on built-ins (when the registry is built) and on user files.
    """
    at = f"{where}: " if where else ""
    if not (isinstance(cls, type) and issubclass(cls, Strategy)) or cls is Strategy:
        raise StrategyError(
            f"{at}{getattr(cls, '__name__', cls)!r} is not a Strategy subclass; "
            "subclass engine.strategy.base.Strategy."
        )
    label = f"{at}strategy class {cls.__name__}"
    name = cls.name
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise StrategyError(
            f"{label}: name {name!r} must be lower-case letters, digits, '-' and '_' (it names "
            "result folders), at most 60 characters, e.g. name = 'my-rotation'."
        )
    if not isinstance(cls.rule, str) or not cls.rule.strip():
        raise StrategyError(f"{label}: rule is empty; describe the rule in one plain paragraph.")
    _check_params(cls, label)
    if cls.weights is Strategy.weights:
        raise StrategyError(f"{label}: define weights(self, ctx, p) returning target weights.")
    try:
        inst = cls()
    except StrategyError:
        raise
    except Exception as exc:  # a user's class may fail in any way; say where
        raise StrategyError(
            f"{label}: could not be created with its defaults ({type(exc).__name__}: {exc})."
        ) from None
    if not inst.assets() or not all(isinstance(k, str) and k for k in inst.assets()):
        raise StrategyError(f"{label}: traded is empty; list the instrument keys it holds.")
    if not isinstance(cls.calendar, str) or not cls.calendar:
        raise StrategyError(f"{label}: calendar must be an exchange code such as 'XASX'.")
    lead = inst.warmup()
    if not isinstance(lead, int | np.integer) or lead < 0:
        raise StrategyError(f"{label}: warmup() must return a non-negative integer; got {lead!r}.")
    sig = cls.signal_asset
    if sig is not None and sig not in inst.assets():
        raise StrategyError(f"{label}: signal_asset {sig!r} is not one of {inst.assets()}.")


def _check_params(cls: type[Strategy], label: str) -> None:
    params = cls.params
    if not isinstance(params, tuple) or not all(isinstance(p, Param) for p in params):
        raise StrategyError(f"{label}: params must be a tuple of engine.strategy.base.Param.")
    names = [p.name for p in params]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise StrategyError(f"{label}: duplicate parameter name(s) {', '.join(dupes)}.")
    for p in params:
        if not p.description.strip():
            raise StrategyError(f"{label}: parameter {p.name} has no description.")
        if p.low is not None and p.high is not None and p.low > p.high:
            raise StrategyError(f"{label}: parameter {p.name} has low {p.low} > high {p.high}.")
        try:
            ok = p.coerce(p.default, cls.name) == p.default
        except ParamError as exc:
            raise StrategyError(f"{label}: the default of {p.name} is invalid: {exc}") from None
        if not ok:
            raise StrategyError(
                f"{label}: the default of {p.name} ({p.default!r}) is not of kind {p.kind}; "
                "write it as one."
            )
