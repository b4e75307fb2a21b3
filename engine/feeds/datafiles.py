"""Untrusted files at the edge of the engine: what sits at a data path, reading it safely, and how a
file's own text is quoted back in a message.

Lives here, in order:

1. ``problem_at(path)``: why ``path`` cannot be read as a data file, or None. Decided with
   ``os.stat`` alone, never by opening: a FIFO opened for reading blocks until a writer comes (a FIFO
   named XSO.csv once hung ``data validate`` for ever) and ``/dev/zero`` never ends. Directories,
   FIFOs, sockets and devices are named as such; a symlink loop or a symlink to nothing is named
   with where it points; a symlink to a regular file is fine. Files above a size limit are refused
   too: a daily series is kilobytes to a few megabytes;
2. ``read_bytes(path, limit, what)``: the bytes of a regular file, opened non-blocking and checked
   again on the open descriptor (the path could be swapped between the check and the open), read no
   further than the limit. Permission and other OS errors become a ``DataError`` naming the path;
3. ``quoted(value)``: the one place that decides how much of a file's text a message may repeat
   (``QUOTE_CHARS``): a 200 MB cell or a header of 10,000 names is cut short with an ellipsis and
   its full length, so a message stays a line;
4. what the bytes are (``decode``, ``separator_problem``, ``read_parquet``): CSV text in UTF-8 or
   Windows-1252, or else named plainly (binary, UTF-16/32, gzip, zip or Excel, Parquet under a
   .csv name or CSV under a .parquet one, semicolons or tabs for commas) with how to save it.

Not here: parsing the text into a table (``readers``, ``instruments``).
"""

from __future__ import annotations

import errno
import io
import os
import stat
from pathlib import Path

from engine.errors import DataError

__all__ = [
    "MAX_DATA_BYTES",
    "QUOTE_CHARS",
    "clipped",
    "decode",
    "problem_at",
    "quoted",
    "quoted_list",
    "read_bytes",
    "read_parquet",
    "separator_problem",
]

MAX_DATA_BYTES = 100 * 2**20  # 100 MB: a century of daily OHLCV bars is under 3 MB
QUOTE_CHARS = 60  # characters of a file's own text a message repeats
LIST_ITEMS = 12  # names of a header a message lists

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def clipped(text: str, limit: int = QUOTE_CHARS) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis and its full length."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


def quoted(value: object, limit: int = QUOTE_CHARS) -> str:
    """``repr(value)``, a string cut to ``limit`` characters with an ellipsis and its length."""
    if isinstance(value, str):
        if len(value) <= limit:
            return repr(value)
        return f"{value[:limit]!r}… ({len(value):,} characters)"
    return clipped(repr(value), limit)


def quoted_list(values, limit: int = LIST_ITEMS) -> str:
    """A header's names for a message: each ``quoted``, at most ``limit`` of them."""
    values = list(values)
    shown = ", ".join(quoted(v) for v in values[:limit])
    more = f", … {len(values) - limit:,} more" if len(values) > limit else ""
    return f"[{shown}{more}]"


def _mb(size: int) -> str:
    return f"{size / 2**20:,.0f} MB"


def _kind(mode: int) -> str | None:
    """What a non-regular file is, or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def problem_at(path: Path, limit: int = MAX_DATA_BYTES) -> str | None:
    """Why ``path`` cannot be read as a data file (a phrase after the path), or None if it can."""
    path = Path(path)
    try:
        info = os.stat(path)
    except OSError as exc:
        return _stat_problem(path, exc)
    kind = _kind(info.st_mode)
    if kind is not None:
        return f"is {kind}, not a regular file; put the file itself at this path"
    if info.st_size > limit:
        return (
            f"is {_mb(info.st_size)}, larger than the {_mb(limit)} the engine reads from such a "
            "file; check it is the right file"
        )
    return None


def _stat_problem(path: Path, exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "is a symlink loop (it points back at itself); replace it with the data file"
    if path.is_symlink():
        target = clipped(os.readlink(path), 200)
        return f"is a symlink to {target}, which does not exist; fix the link or copy the file here"
    if exc.errno == errno.ENOENT:
        return "does not exist; check the path"
    if exc.errno == errno.EACCES:
        return "cannot be opened (permission denied); make it readable (chmod u+r)"
    return f"cannot be opened ({exc.strerror or exc}); check the path"


def read_bytes(path: Path, limit: int = MAX_DATA_BYTES, what: str = "") -> bytes:
    """The bytes of the regular file ``path``; ``DataError`` naming ``path`` (and ``what`` it is
    meant to be, e.g. "instrument file") for anything else."""
    path = Path(path)
    problem = problem_at(path, limit)
    label = f"{path}{f' ({what})' if what else ''}"
    if problem is not None:
        raise DataError(f"{label} {problem}.")
    try:
        # Non-blocking: were the path swapped for a FIFO after the check, opening it returns at once.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise DataError(f"{label} {_stat_problem(path, exc)}.") from None
    with os.fdopen(fd, "rb") as f:
        kind = _kind(os.fstat(fd).st_mode)
        if kind is not None:
            raise DataError(f"{label} is {kind}, not a regular file; put the file itself here.")
        try:
            data = f.read(limit + 1)
        except OSError as exc:
            raise DataError(f"{label} could not be read ({exc.strerror or exc}).") from None
    if len(data) > limit:
        raise DataError(f"{label} is larger than the {_mb(limit)} the engine reads from it.")
    return data


# --------------------------------------------------------------------------- what the bytes are

# Leading bytes of formats that are not CSV text, and how to turn each into CSV.
_MAGIC = (
    (b"PAR1", "a Parquet file", "rename it to {stem}.parquet"),
    (b"\x1f\x8b", "gzip-compressed", "decompress it (gunzip) and keep the .csv inside"),
    (b"PK\x03\x04", "a zip archive (an Excel .xlsx workbook is one)", ""),
    (b"\xd0\xcf\x11\xe0", "an Excel .xls workbook", ""),
    (b"\x00\x00\xfe\xff", "UTF-32 text", ""),
    (b"\xff\xfe\x00\x00", "UTF-32 text", ""),
    (b"\xfe\xff", "UTF-16 text", ""),
    (b"\xff\xfe", "UTF-16 text", ""),
)
CSV_FIX = "save it as comma-separated CSV in UTF-8 (a spreadsheet's 'CSV UTF-8' format)"


def decode(data: bytes, path: Path) -> str:
    """CSV bytes -> text: UTF-8 (a byte-order mark dropped), else Windows-1252. Binary files,
    UTF-16/32 text and compressed or spreadsheet files are refused saying what they are."""
    if not data.removeprefix(b"\xef\xbb\xbf").strip():
        raise DataError(
            f"{path}: could not be read: the file is empty; write a header line "
            "(date,open,high,low,close or date,value) and at least one row."
        )
    for magic, what, fix in _MAGIC:
        if data.startswith(magic):
            fix = fix.format(stem=Path(path).stem) if fix else CSV_FIX
            raise DataError(f"{path}: is {what}, not CSV text; {fix}.")
    head = data[:4096]
    if b"\x00" in data:  # no CSV text holds a NUL byte; the C parser would cut cells at it
        # ASCII text in UTF-16 without a byte-order mark has a NUL beside every character, and
        # none between them.
        odd, even = head[1::2], head[0::2]
        nul, text = (odd, even) if odd.count(0) > even.count(0) else (even, odd)
        utf16 = nul.count(0) > len(nul) * 0.9 and text.count(0) < len(text) * 0.1
        what = "UTF-16 text (no byte-order mark)" if utf16 else None
        raise DataError(
            f"{path}: is {what or 'binary (it holds NUL bytes)'}, not CSV text; {CSV_FIX}."
        )
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        text = data.decode("latin-1")
    control = sum(1 for ch in text[:4096] if ch < " " and ch not in "\t\r\n")
    if control > 8:
        raise DataError(f"{path}: is binary ({control} control bytes), not CSV text; {CSV_FIX}.")
    return text


def separator_problem(header: str, path: Path) -> None:
    """``DataError`` when the header line is split by semicolons, tabs or bars instead of commas."""
    if "," in header:
        return
    for sep, name in ((";", "semicolons"), ("\t", "tabs"), ("|", "vertical bars")):
        if sep in header:
            raise DataError(
                f"{path}: the header {quoted(header)} is separated by {name}, not commas; "
                f"{CSV_FIX}, with dots for decimals (5.06, not 5,06)."
            )


def read_parquet(data: bytes, path: Path):
    """Parquet bytes -> DataFrame; a file that is not Parquet is named as what it looks like."""
    import pandas as pd
    import pyarrow as pa

    if not data.startswith(b"PAR1"):
        looks = "the file is empty" if not data.strip() else "it is not a Parquet file"
        if data.strip() and b"\x00" not in data[:4096]:
            looks += f" (it starts like CSV text: rename it to {Path(path).stem}.csv)"
        raise DataError(f"{path}: could not be read: {looks}; write Parquet, or CSV named KEY.csv.")
    try:
        return pd.read_parquet(io.BytesIO(data))
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DataError(
            f"{path}: could not be read as Parquet ({clipped(str(exc), 200)}); write it "
            "again, or save it as CSV."
        ) from None
