"""A slow plain-Python reference for rules: every condition read off its definition, per decision,
with bisect on knowledge instants and zoneinfo for local dates - no shared code with the machine."""

from __future__ import annotations

import bisect
import datetime as dt
import math
import zoneinfo

import numpy as np


def _own(block, p, s) -> list[bool]:
    v = [float(x) for x in s.values.to_numpy()]
    n = len(v)
    out = []
    best = -math.inf  # the highest close before i
    for i in range(n):
        ok, cond = True, False
        if block.type == "record":
            lb = p["lookback"]
            if lb == 0:
                cond = i > 0 and v[i] > best
            else:
                earlier = v[max(0, i - lb) : i]
                cond = bool(earlier) and v[i] > max(earlier)
            best = max(best, v[i])
        elif block.type in ("change", "level"):
            if block.type == "change":
                w = p["window"]
                if i < w:
                    ok = False
                    x = math.nan
                elif s.instrument.kind == "rate":
                    x = v[i] - v[i - w]
                else:
                    x = v[i] / v[i - w] - 1.0
            else:
                x = v[i]
            ok = ok and not math.isnan(x)
            cond = (
                ok
                and (p.get("above") is None or x > p["above"])
                and (p.get("below") is None or x < p["below"])
            )
        elif block.type == "trend":
            m = p["ma"]
            ok = i >= m - 1
            if ok:
                ma = sum(v[i - m + 1 : i + 1]) / m
                cond = (
                    v[i] > ma * (1 + p["band"])
                    if p["side"] == "above"
                    else v[i] < ma * (1 - p["band"])
                )
        elif block.type == "drawdown":
            lb = p["lookback"]
            best = max(best, v[i])
            high = best if lb == 0 else max(v[max(0, i - lb) : i + 1])
            cond = v[i] <= high * (1.0 - p["below"])
        elif block.type == "volume_surge":
            vol = [float(x) for x in s.frame["volume"].to_numpy()]
            w = p["window"]
            ok = i >= w
            if ok:
                cond = vol[i] > p["ratio"] * (sum(vol[i - w : i]) / w)
        out.append(ok and (cond != block.negate))
    return out


def _local_date(ns: int, tz: str) -> dt.date:
    return dt.datetime.fromtimestamp(ns / 1e9, tz=zoneinfo.ZoneInfo(tz)).date()


def _event(block, p, table, t, date, tz, prev) -> bool:
    if block.type == "easing_cycle":
        moves = [
            (k, m)
            for k, m in zip(table.known_ns.tolist(), table.move.tolist(), strict=True)
            if m != 0
        ]
        before = [m for k, m in moves if k < t]
        got = bool(before) and before[-1] < 0
        return got != block.negate
    picked = [
        k
        for k, m in zip(table.known_ns.tolist(), table.move.tolist(), strict=True)
        if p["move"] == "any" or m == (-1 if p["move"] == "cut" else 1)
    ]
    before = [k for k in picked if k < t]
    got = False
    if before:
        last = before[-1]
        got = (date - _local_date(last, tz)).days <= p["days"]
        if prev is not None:
            got = got or last >= prev
    return got != block.negate


def reference_state(rule, values: dict, ctx, tables, dec_tz: str) -> np.ndarray:
    """On/off per decision of ``rule`` with parameters ``values`` (NAME.FIELD, hold.sessions)."""

    def params(b):
        out = dict(b.values)
        out.update({k.split(".", 1)[1]: v for k, v in values.items() if k.startswith(b.name + ".")})
        return out

    dec = [int(x) for x in ctx.decision_ns]
    labels = [d.date() for d in ctx.labels]
    anchor = next((b.series for b in (*rule.when, *rule.when_any) if b.series), None)
    if anchor is None:
        a_known, a_dates, a_tz = dec, labels, dec_tz
    else:
        s = ctx.market[anchor]
        a_known = [int(x) for x in s.known_ns]
        a_dates = [d.date() for d in s.frame.index]
        a_tz = s.instrument.tz
    own = {b.name: _own(b, params(b), ctx.market[b.series]) for b in rule.blocks if b.series}

    def at_anchor(b, i) -> bool:
        if b.events is not None:
            prev = None if anchor is not None else (a_known[i - 1] if i else -(2**63))
            return _event(b, params(b), tables[b.events], a_known[i], a_dates[i], a_tz, prev)
        if b.series == anchor:
            return own[b.name][i]
        known = [int(x) for x in ctx.market[b.series].known_ns]
        j = bisect.bisect_left(known, a_known[i]) - 1
        return j >= 0 and own[b.name][j]

    def trigger(i) -> bool:
        ok = all(at_anchor(b, i) for b in rule.when)
        return ok and (not rule.when_any or any(at_anchor(b, i) for b in rule.when_any))

    hold = int(values.get("hold.sessions", rule.hold))

    def exit_at(j) -> bool:
        for b in rule.exits:
            if b.events is not None:
                prev = dec[j - 1] if j else -(2**63)
                if _event(b, params(b), tables[b.events], dec[j], labels[j], dec_tz, prev):
                    return True
                continue
            known = [int(x) for x in ctx.market[b.series].known_ns]
            lo = dec[j - 1] if j else -(2**63)
            if hold > 0:
                a, z = bisect.bisect_left(known, lo), bisect.bisect_left(known, dec[j])
                if any(own[b.name][a:z]):
                    return True
            else:
                i = bisect.bisect_left(known, dec[j]) - 1
                if i >= 0 and own[b.name][i]:
                    return True
        return False

    state = np.zeros(len(dec), dtype=bool)
    trig = [trigger(i) for i in range(len(a_known))]
    if hold > 0:
        left = 0
        for j in range(len(dec)):
            lo = dec[j - 1] if j else -(2**63)
            if anchor is None:  # conditions read at the decision itself
                fired = trig[j]
            else:
                a, z = bisect.bisect_left(a_known, lo), bisect.bisect_left(a_known, dec[j])
                fired = any(trig[a:z])
            if fired:
                left = hold
            if exit_at(j):
                left = 0
            if left > 0:
                state[j] = True
                left -= 1
    else:
        for j in range(len(dec)):
            i = j if anchor is None else bisect.bisect_left(a_known, dec[j]) - 1
            state[j] = i >= 0 and trig[i] and not exit_at(j)
    return state
