"""Levels: the units of a rate series, rate jumps, and plausible level ranges of any series.

This logic lives here, in order:

1. units of a rate (``rate_units``), on any length of history. The engine keeps rates in percent
   (4.25 = 4.25 %). A file declared (or defaulting to) percent is refused
   - as basis points when its median size is above ``max_level`` and a hundredth of it is not
     (425 for 4.25 %; left alone, cash would compound at 425 % a year);
   - as a fraction when every value is below ``fraction_below`` in size (0.0425 for 4.25 %), or when
     every value is below ``FRACTION_ZONE`` (0.2) and some value is finer than a basis point read as
     percent (0.0425, 0.001, 0.175): FRED and the RBA publish percent levels in whole basis points
     (0.10, 4.25), while a fraction of them needs four decimals. A value below -0.02 (-2 % as a
     fraction, lower than any rate has been) rules the fraction reading out.
   What stays ambiguous is a series of whole basis points below 0.2 (0.10 is the RBA's real 0.10 %
   of 2020-2022, or 10 % written as a fraction): it reads as percent unless every value is below
   ``fraction_below``, which the instruments tune to the lowest level they have really held (RBA
   0.1, Fed target and 10-year yield 0.2). ``checks.fraction_below = 0`` turns both fraction tests
   off for a series of truly tiny percent levels. A file declared ``units = "fraction"`` is refused
   when its values reach 1 (percent, or basis points when the median is above ``max_level``);
2. rate jumps (``rate_moves``): a level change beyond ``max_move`` percentage points (2.0) from one
   row to the next is an error (no policy rate or 10-year yield has moved that much in a day; a
   typo or a unit change within the file has);
3. level ranges (``level_range``): ``min_level`` / ``max_level`` (``instruments.toml`` checks; rates
   default to at most ``RATE_MAX_LEVEL`` percent) bound the closes, opens, highs and lows of prices
   and the values of rates. A series mostly outside its range whose inverse (1/x) lies inside is
   refused once as inverted (AUD per USD given for USD per AUD); other rows outside it are errors
   row by row, with the hint (1/x, or basis points) when it fits.
Not here: one-day price moves (``validate_bars``), the other checks (``validate``).
"""

from __future__ import annotations

import numpy as np

from engine.feeds.problems import CheckContext, Problem
from engine.feeds.readers import PRICE_COLUMNS

FRACTION_ZONE = 0.2  # below this every rate could be a fraction (under 20 %)
FRACTION_FLOOR = -0.02  # no rate has been below -2 %: a lower value is no fraction
RATE_MAX_LEVEL = 25.0  # percent; the Fed funds rate peaked near 22 % in 1981


# --------------------------------------------------------------------------- units of rates


def rate_units(ctx: CheckContext) -> list[Problem]:
    """At most one whole-file error: the rate is in basis points or a fraction, not percent."""
    v = ctx.table.frame["value"].to_numpy()
    v = v[np.isfinite(v)]
    a = np.abs(v)
    if a.size == 0:
        return []
    big, mid = float(a.max()), float(np.median(a))
    high = ctx.limits.get("max_level", np.inf)
    key = ctx.inst.key
    if ctx.inst.units == "fraction":
        if big < 1.0:
            return []
        if mid > high:
            msg = f"values reach {big:g}: this looks like basis points, but {key} is a fraction"
            fix = f'divide by 10000, or divide by 100 and set units = "percent" for {key}'
        else:
            msg = f"values reach {big:g}: this looks like percent, but {key} is a fraction"
            fix = f'divide by 100, or set units = "percent" for {key} in instruments.toml'
        return [ctx.problem("error", None, "value", big, msg, fix, "units")]
    if mid > high and mid / 100.0 <= high:
        msg = (
            f"the median value {mid:g} is above the plausible maximum {high:g} % for {key} (largest "
            f"{big:g}): this looks like basis points (425 = 4.25 %), but {key} is in percent"
        )
        fix = (
            "divide by 100 (rates are levels in percent, as published); if the levels are real, "
            f"raise checks.max_level for {key} in the folder's instruments.toml"
        )
        return [ctx.problem("error", None, "value", mid, msg, fix, "units")]
    return _fraction(ctx, v, big)


def _fraction(ctx: CheckContext, v: np.ndarray, big: float) -> list[Problem]:
    below, key, a = ctx.limits["fraction_below"], ctx.inst.key, np.abs(v)
    if below <= 0 or big <= 0 or big >= max(below, FRACTION_ZONE) or v.min() < FRACTION_FLOOR:
        return []
    if big < below:
        why = f"every value is below {below:g} (largest {big:g})"
    else:
        pct = a * 100.0
        finer = np.abs(pct - np.round(pct)) > 1e-6  # 1e-6: float32 noise in Yahoo downloads
        if not finer.any():
            return []  # whole basis points: a real level at the zero lower bound (0.10 %)
        x = float(a[np.flatnonzero(finer)[0]])
        why = (
            f"every value is below {FRACTION_ZONE:g} and {x:g} would be a level finer than a "
            "basis point"
        )
    msg = f"{why}: this looks like a fraction (0.0425 = 4.25 %), but {key} is in percent"
    fix = (
        "multiply by 100 (rates are levels in percent, as published), or set "
        f'units = "fraction" for {key} in the folder\'s instruments.toml '
        "(checks.fraction_below = 0 if they really are tiny percent levels)"
    )
    return [ctx.problem("error", None, "value", big, msg, fix, "units")]


# --------------------------------------------------------------------------- rate jumps


def _points(move: float) -> str:
    """A jump in percentage points, in three significant digits when huge (never 300 digits)."""
    return f"{move:+.2f}" if abs(move) < 1e6 else f"{move:+.3g}"


def rate_moves(ctx: CheckContext) -> list[Problem]:
    """A change beyond ``max_move`` percentage points between consecutive values is an error."""
    v = ctx.table.frame["value"].to_numpy()
    scale = 100.0 if ctx.inst.units == "fraction" else 1.0
    ok = np.flatnonzero(np.isfinite(v))
    if ok.size < 2:
        return []
    a, b = v[ok[:-1]], v[ok[1:]]
    move = (b - a) * scale
    limit, key, out = ctx.limits["max_move"], ctx.inst.key, []
    for k in np.flatnonzero(np.abs(move) > limit):
        i, j = int(ok[k + 1]), int(ok[k])
        msg = (
            f"{a[k]:g} -> {b[k]:g} is a jump of {_points(move[k])} percentage points since row "
            f"{ctx.line(j)} ({ctx.day(j)}) (limit {limit:g})"
        )
        fix = (
            "correct the row (a typo, or a unit that changes within the file); if the move is "
            f"real, raise checks.max_move for {key} in instruments.toml above it"
        )
        out.append(ctx.problem("error", i, "value", b[k], msg, fix, "jump"))
    return out


# --------------------------------------------------------------------------- level ranges


def level_range(ctx: CheckContext) -> list[Problem]:
    """Values outside ``min_level`` .. ``max_level``: once if the series looks inverted, else per
    row (one problem per row, the close or value first)."""
    low = ctx.limits.get("min_level", -np.inf)
    high = ctx.limits.get("max_level", np.inf)
    if low == -np.inf and high == np.inf:
        return []
    frame = ctx.table.frame
    scale = 100.0 if ctx.inst.units == "fraction" else 1.0
    cols = ["close", *(c for c in PRICE_COLUMNS[:3] if c in frame)] if ctx.inst.is_price else []
    cols = cols or ["value"]
    raw = np.stack([frame[c].to_numpy() for c in cols])
    x = raw * scale  # ranges are in the engine's units: rates in percent
    with np.errstate(invalid="ignore"):
        out_of = np.isfinite(x) & ((x < low) | (x > high))
        if ctx.inst.is_price:
            out_of &= x > 0  # not positive: reported by ``validate`` already
    if not out_of.any():
        return []
    main, shown = x[0], x[0][np.isfinite(x[0])]
    inverted = _inverted(main, out_of[0], low, high)
    if ctx.inst.is_price and shown.size and out_of[0].sum() > shown.size / 2 and inverted:
        return [_inverted_problem(ctx, main, out_of[0], low, high)]
    out = []
    for i in np.flatnonzero(out_of.any(axis=0)):
        k = int(np.flatnonzero(out_of[:, i])[0])
        out.append(_row_problem(ctx, cols[k], i, (raw[k, i], x[k, i]), low, high))
    return out


def _inverted(x: np.ndarray, out_of: np.ndarray, low: float, high: float) -> bool:
    with np.errstate(divide="ignore", invalid="ignore"):
        inv = 1.0 / x[out_of]
    return bool(out_of.any() and ((inv >= low) & (inv <= high)).mean() > 0.9)


def _range_text(ctx: CheckContext, low: float, high: float) -> str:
    unit = " %" if not ctx.inst.is_price else ""
    if low == -np.inf:
        return f"at most {high:g}{unit}"
    if high == np.inf:
        return f"at least {low:g}{unit}"
    return f"{low:g} .. {high:g}{unit}"


def _inverted_problem(ctx: CheckContext, x, out_of, low, high) -> Problem:
    key, inst = ctx.inst.key, ctx.inst
    i = int(np.flatnonzero(out_of)[0])
    n, m = int(out_of.sum()), int(np.isfinite(x).sum())
    quote = f" ({inst.currency} per {inst.base})" if inst.kind == "fx" and inst.base else ""
    msg = (
        f"{x[i]:g} is outside the plausible range {_range_text(ctx, low, high)} of {key}{quote}, "
        f"as are {n} of {m} closes, while 1/x ({1.0 / x[i]:.4g}) is inside: the series is "
        "given the other way round"
    )
    fix = (
        f"invert it (1/x, every price column) so it is {key}{quote}; if the levels are real, set "
        f"checks.min_level / max_level for {key} in the folder's instruments.toml"
    )
    return ctx.problem("error", i, "close", x[i], msg, fix, "level")


def _row_problem(ctx: CheckContext, col: str, i: int, values, low, high) -> Problem:
    key, (cell, v) = ctx.inst.key, values
    side = "below the plausible minimum" if v < low else "above the plausible maximum"
    bound = low if v < low else high
    shown = f"{cell:g}" if cell == v else f"{cell:g} ({v:g} %)"
    msg = f"{shown} is {side} {bound:g} of {key} (range {_range_text(ctx, low, high)})"
    if ctx.inst.is_price and v > 0 and low <= 1.0 / v <= high:
        msg += f"; 1/x = {1.0 / v:.4g} would fit (given the other way round?)"
    elif not ctx.inst.is_price and low <= v / 100.0 <= high and v > high:
        msg += f"; {v / 100.0:g} would fit (basis points?)"
    fix = (
        "correct the row (a bad tick or a unit slip); if the level is real, widen "
        f"checks.min_level / max_level for {key} in the folder's instruments.toml"
    )
    return ctx.problem("error", i, col, cell, msg, fix, "level")
