"""Price bars: one-day moves of closes, and opens, highs and lows against the closes around them.

This logic lives here, in order:

1. closes (``close_moves``): each close against the previous one. A move beyond ``max_move`` warns;
   a price multiplied or divided by ``JUMP_FACTOR`` (3) or more is an error (no index, ETF or
   currency does that in a session: it is a bad tick, a split or a unit change);
2. opens (``bar_moves``): an open is judged against the nearer of the previous close and the day's
   close. A genuine open sits near one of them (a gap at the open is followed by the close, a quiet
   open by the previous close), so a move beyond ``max_move`` from both warns and a factor of 3 from
   both is an error: orders fill at the open, so a bad open changes the answer as a bad close does.
   For an index or ETF (what orders fill at) a move beyond ``max_move`` from both is already an
   error: no real open is 25 % away from both the close before and the close after it;
3. highs and lows: the same, against the nearest of the previous close, the day's open and its close
   (a high ten times every price around it is a bad tick even though no order fills at it);
4. a close that is a lone spike (a factor of 3 from both the close before and the close after it)
   is not used as a reference, nor is an open found bad in step 2: a bad close would otherwise hide
   the bad open next to it (Yahoo AUD/USD 2006-12-25/26: close 4.57, then open = high = 4.57);
5. containment (``containment``): a bar whose high and low do not contain its open and close warns
   (a small inconsistency; a wild value is caught by the steps above).

A value already reported as missing or not positive (``validate``) is skipped here. Not here: rates
(``validate_levels``), plausible level ranges (``validate_levels``).
"""

from __future__ import annotations

import numpy as np

from engine.feeds.problems import CheckContext, Problem
from engine.feeds.readers import PRICE_COLUMNS

JUMP_FACTOR = 3.0  # a price x3 or /3 in one session is no market move


def close_moves(ctx: CheckContext) -> list[Problem]:
    """Each positive close against the previous positive close."""
    v = ctx.table.frame["close"].to_numpy()
    ok = np.flatnonzero(np.isfinite(v) & (v > 0))
    if ok.size < 2:
        return []
    a, b = v[ok[:-1]], v[ok[1:]]
    move = b / a - 1.0
    limit, out = ctx.limits["max_move"], []
    for k in np.flatnonzero(np.abs(move) > limit):
        out.append(_close_problem(ctx, int(ok[k + 1]), a[k], b[k], move[k], limit))
    return out


def _pct(move: float) -> str:
    """A move as a percentage, in three significant digits when huge (never 300 digits)."""
    return f"{move:+.1%}" if abs(move) < 1e4 else f"{move * 100:+.3g}%"


def _times(factor: float) -> str:
    return f"{factor:.1f}" if factor < 1e6 else f"{factor:.3g}"


def _close_problem(ctx: CheckContext, i: int, a: float, b: float, move: float, limit: float):
    key = ctx.inst.key
    msg = f"{a:g} -> {b:g} is a one-day move of {_pct(move)} (limit {limit:.0%})"
    if max(b / a, a / b) >= JUMP_FACTOR:
        msg += f": a factor of {_times(max(b / a, a / b))} is a bad tick, a split or a unit change"
        fix = (
            "correct or remove the row (split-adjust an ETF); if the move is real, set "
            f"checks.max_move for {key} in instruments.toml above it"
        )
        return ctx.problem("error", i, "close", b, msg, fix, "jump")
    fix = (
        "check for a split, a unit change or a typo; if the move is real, raise "
        f"checks.max_move for {key} in instruments.toml"
    )
    return ctx.problem("warning", i, "close", b, msg, fix, "move")


# --------------------------------------------------------------------------- opens, highs, lows


def _positive(x: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.isfinite(x) & (x > 0)


def lone_spikes(c: np.ndarray) -> np.ndarray:
    """True where a close is a factor of ``JUMP_FACTOR`` above (or below) both its neighbours."""
    out = np.zeros(c.shape, dtype=bool)
    if c.size < 3:
        return out
    a, b, n = c[:-2], c[1:-1], c[2:]
    ok = _positive(a) & _positive(b) & _positive(n)
    with np.errstate(divide="ignore", invalid="ignore"):
        up = (b / a >= JUMP_FACTOR) & (b / n >= JUMP_FACTOR)
        down = (a / b >= JUMP_FACTOR) & (n / b >= JUMP_FACTOR)
    out[1:-1] = ok & (up | down)
    return out


def bar_moves(ctx: CheckContext) -> list[Problem]:
    """Opens against the previous and the day's close; highs and lows against those and the open."""
    frame = ctx.table.frame
    c = frame["close"].to_numpy()
    good = _positive(c) & ~lone_spikes(c)
    close = np.where(good, c, np.nan)
    prev = np.concatenate(([np.nan], close[:-1]))
    shown = {"previous close": np.concatenate(([np.nan], c[:-1])), "close": c}
    refs = {"previous close": prev, "close": close}
    out: list[Problem] = []
    if "open" in frame:
        o = frame["open"].to_numpy()
        found, bad = _judge(ctx, "open", o, refs, shown)
        out += found
        refs = {"previous close": prev, "open": np.where(bad, np.nan, o), "close": close}
        shown = {**shown, "open": o}
    for col in ("high", "low"):
        if col in frame:
            out += _judge(ctx, col, frame[col].to_numpy(), refs, shown)[0]
    return sorted(out, key=lambda p: p.row or 0)


def _judge(ctx: CheckContext, col: str, x: np.ndarray, refs: dict, shown: dict):
    """Problems for ``x`` (one price column) and the mask of its rows found to be bad ticks."""
    names = list(refs)
    r = np.stack([refs[n] for n in names])
    with np.errstate(divide="ignore", invalid="ignore"):
        dist = np.abs(np.log(x / r))
    dist = np.where(np.isnan(dist), np.inf, dist)
    near = dist.argmin(axis=0)
    rows = np.arange(x.size)
    ref = r[near, rows]
    limit = ctx.limits["max_move"]
    with np.errstate(divide="ignore", invalid="ignore"):
        move = x / ref - 1.0
        flagged = _positive(x) & np.isfinite(ref) & (np.abs(move) > limit)
        factor = np.where(flagged, np.maximum(x / ref, ref / x), 1.0)
    bad = flagged & (factor >= JUMP_FACTOR)
    if col == "open" and ctx.inst.kind in ("index", "etf"):
        bad = flagged  # a tradable asset's open is a fill price: beyond max_move of both is wrong
    out = []
    for i in np.flatnonzero(flagged):
        used = [n for n in names if np.isfinite(refs[n][i])]
        skipped = [
            n for n in names if not np.isfinite(refs[n][i]) and _positive(shown[n][i : i + 1])
        ]
        around = _join([f"the {n} {shown[n][i]:g}" for n in used])
        if bad[i]:
            msg = f"{x[i]:g} is off by a factor of {_times(factor[i])} or more from {around}"
            msg += _aside(skipped, shown, i) + ": a bad tick"
            out.append(ctx.problem("error", i, col, x[i], msg, _fix(ctx, col, True), "jump"))
        else:
            nearest = f"the nearest of {around}" if len(used) > 1 else around
            msg = f"{x[i]:g} is {_pct(move[i])} from {nearest} (limit {limit:.0%})"
            msg += _aside(skipped, shown, i)
            out.append(ctx.problem("warning", i, col, x[i], msg, _fix(ctx, col, False), "move"))
    return out, bad


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _aside(skipped: list[str], shown: dict, i: int) -> str:
    if not skipped:
        return ""
    them = _join([f"the {n} {shown[n][i]:g}" for n in skipped])
    what = "itself a bad tick" if len(skipped) == 1 else "themselves bad ticks"
    return f" ({them}, {what}, not compared)"


def _fix(ctx: CheckContext, col: str, error: bool) -> str:
    key = ctx.inst.key
    use = "orders fill at it" if col == "open" else "a bar's range must be a real price range"
    if error:
        return (
            f"correct the {col} or remove the row ({use}); if the bar is real, set "
            f"checks.max_move for {key} in instruments.toml above the move"
        )
    return (
        f"check the bar in the source ({use}); if it is real, raise checks.max_move for {key} "
        "in instruments.toml"
    )


def containment(ctx: CheckContext) -> list[Problem]:
    """Bars whose high and low do not contain the open and the close (a warning)."""
    frame = ctx.table.frame
    if not all(c in frame for c in PRICE_COLUMNS):
        return []
    o, h, low, c = (frame[k].to_numpy() for k in PRICE_COLUMNS)
    tol = 1e-9 * np.abs(c)
    with np.errstate(invalid="ignore"):
        bad = (low > np.minimum(o, c) + tol) | (h < np.maximum(o, c) - tol)
    out = []
    for i in np.flatnonzero(bad):
        msg = f"high {h[i]:g} / low {low[i]:g} do not contain open {o[i]:g} and close {c[i]:g}"
        fix = "check the bar (fills use only the open and close)"
        out.append(ctx.problem("warning", i, "high", h[i], msg, fix, "ohlc"))
    return out
