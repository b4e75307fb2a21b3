"""Which of a file's columns is the date, and which holds each price or the value.

Lives here: the column names the readers know (``DATE_NAMES``, ``PRICE_COLUMNS``, ``OHLCV``,
``ADJ_NAMES``), ``date_column`` and ``pick_columns`` (names matched case-insensitively and in any
order; ``readers`` documents the rules) and ``refuse_ambiguous``: two columns that could both be the
date (``Date`` and ``date``, ``date`` and ``observation_date``) or the same price or value (``Close``
and ``close``, ``value`` and a provider symbol column such as ``DFEDTARU``, a header repeating
``close``) are an error naming both, because taking the first would silently decide which numbers
the backtest uses. ``Close`` next to ``Adj Close`` is not ambiguous: ``Adj Close`` is a role of its
own, used only for total-return instruments. Not here: reading cells (``readers``).
"""

from __future__ import annotations

from pathlib import Path

from engine.errors import DataError
from engine.feeds.datafiles import clipped, quoted, quoted_list
from engine.feeds.instruments import Instrument

PRICE_COLUMNS = ("open", "high", "low", "close")
OHLCV = (*PRICE_COLUMNS, "volume")
ADJ_NAMES = ("adj close", "adj_close", "adjclose")
DATE_NAMES = ("date", "observation_date", "series id")


def date_column(names: list[str], path: Path) -> str:
    """The date column: a known date name, else the lone name ending in "date"."""
    for want in DATE_NAMES:
        for name in names:
            if name.lower() == want:
                return name
    dated = [n for n in names if n.lower().replace("_", " ").endswith(" date")]
    if len(dated) == 1:  # "Release Date", "effective_date"
        return dated[0]
    raise DataError(f"{path}: no 'date' column (found {quoted_list(names)}); name it 'date'.")


def _symbols(inst: Instrument) -> list[str]:
    return [s.split(":")[-1].lower() for s in inst.providers.values()]


def pick_columns(names: list[str], date_col: str, inst: Instrument, path: Path) -> dict[str, str]:
    """Canonical column -> the file's column name for what ``inst`` needs."""
    lower: dict[str, str] = {}
    for name in names:
        lower.setdefault(name.lower(), name)
    symbols = _symbols(inst)
    if inst.column is not None:
        if inst.column.lower() not in lower:
            raise DataError(
                f"{path}: no column {quoted(inst.column)} (found {quoted_list(names)}); fix "
                "column = ... for "
                f"{inst.key} in instruments.toml."
            )
        symbols = [inst.column.lower()]
    if inst.column is not None and inst.column.lower() == date_col.lower():
        raise DataError(
            f"{path}: column = {quoted(inst.column)} for {inst.key} names the date column; name "
            "the column holding the close or value in the folder's instruments.toml."
        )
    by_symbol = [lower[s] for s in symbols if s in lower]
    known = {*OHLCV, *ADJ_NAMES, date_col.lower()}
    others = [n for n in names if n.lower() not in known and not n.startswith("Unnamed:")]
    chosen = by_symbol[0] if inst.column is not None else None
    if inst.is_price:
        picked = {k: lower[k] for k in OHLCV if k in lower}
        adj = next((lower[a] for a in ADJ_NAMES if a in lower), None)
        if adj is not None:
            picked["adj_close"] = adj
        if chosen is None and "close" not in picked and (by_symbol or len(others) == 1):
            chosen = (by_symbol or others)[0]
        if chosen is not None:
            picked["close"] = chosen
        need = "close"
    else:
        picked = {}
        if chosen is None and "value" in lower:
            chosen = lower["value"]
        elif chosen is None and (by_symbol or (len(others) == 1 and others[0].lower() != "value")):
            chosen = (by_symbol or others)[0]
        elif chosen is None and "close" in lower and "yahoo" in inst.providers:
            chosen = lower["close"]
        if chosen is not None:
            picked["value"] = chosen
        need = "value"
    if need not in picked:
        expected = "open,high,low,close" if inst.is_price else "value"
        raise DataError(
            f"{path}: missing column(s) {need} for a {inst.kind} series (found "
            f"{quoted_list(names)}); "
            f"expected date,{expected}."
        )
    return picked


def _roles(low: list[str], inst: Instrument) -> dict[str, list[int]]:
    """Each role a column can play -> the positions of the header's columns that could play it."""
    main = "close" if inst.is_price else "value"
    wanted = {inst.column.lower()} if inst.column is not None else {main, *_symbols(inst)}
    roles = {
        "the date": [i for i, n in enumerate(low) if n in DATE_NAMES],
        f"the {main}": [i for i, n in enumerate(low) if n in wanted],
    }
    if inst.is_price:
        for name in ("open", "high", "low", "volume"):
            roles[f"the {name}"] = [i for i, n in enumerate(low) if n == name]
        if inst.returns == "total":
            roles["the adjusted close"] = [i for i, n in enumerate(low) if n in ADJ_NAMES]
    if not roles[f"the {main}"] and inst.column is None:
        # Without a named column, the lone other column stands in: a repeated one is ambiguous.
        known = {*OHLCV, *ADJ_NAMES, *DATE_NAMES}
        rest = [i for i, n in enumerate(low) if n and n not in known]
        if len({low[i] for i in rest}) == 1:
            roles[f"the {main}"] = rest
    return roles


def refuse_ambiguous(names: list[str], inst: Instrument, path: Path) -> None:
    """``DataError`` naming the first two columns that could both play the same role.

    ``names`` is the header as written (a repeated name not yet renamed ``close.1`` by pandas).
    """
    names = [str(n).strip() for n in names]
    low = [n.lower() for n in names]
    for role, where in _roles(low, inst).items():
        if len(where) < 2:
            continue
        a, b = where[:2]
        if names[a] == names[b]:
            raise DataError(
                f"{path}: the header repeats {quoted(names[a])} (columns {a + 1} and {b + 1}), so "
                f"either could be {role}; delete or rename one of them."
            )
        named = ""
        if low[a] != low[b] and role in ("the close", "the value"):
            named = (
                f', or name the one to use with column = "{clipped(names[b])}" for {inst.key} in the '
                "folder's instruments.toml"
            )
        raise DataError(
            f"{path}: columns {quoted(names[a])} (column {a + 1}) and {quoted(names[b])} "
            f"(column {b + 1}) "
            f"could both be {role}; delete or rename one of them{named}."
        )
