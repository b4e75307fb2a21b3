"""Hostile data folders (issue 14): one table of bad or unusual inputs, each with what must happen.

Each case copies a clean folder into ``tmp_path``, changes one thing and runs the CLI in-process:

- refused: ``backtest data validate DIR`` (and ``DIR/FILE`` where the case names a file) and
  ``backtest run`` exit 2 with no traceback, the message names the file (or series) and the fix,
  stays short (a huge cell is quoted cut short), and nothing is written under ``--out``;
- accepted: ``data validate`` exits 0 and ``run`` gives the same summary metrics as the clean folder.

The clean folders are a two-year slice of the real series in ``../shared/data`` (the ETF layout of
``tests/realdata.py``: raw Yahoo, FRED and RBA files, skipped where the data are absent) and the
embedded synthetic sample (plain ``date,...`` files). Runs use a six-month window to stay fast.
Cases that need POSIX file types (FIFO, socket, device, symlink) are skipped elsewhere; each case
runs under an alarm, so a read that blocks fails the test instead of hanging it.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import signal
import socket
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from engine import paths
from engine.cli.main import app
from engine.feeds.readers import parse_dates
from tests.realdata import etf_folder, needs_real_data

runner = CliRunner()
STRATEGY = "russell-fed-rotation"
WINDOW = ("--start", "2019-01-02", "--end", "2019-06-28")
SLICE = (pd.Timestamp("2018-01-01"), pd.Timestamp("2019-12-31"))
DAY = "20190315"  # a session inside the window, as the ETF files write it
POSIX = sys.platform != "win32"
MAX_OUTPUT = 8_000  # characters: a message quoting a huge cell must quote it cut short


# --------------------------------------------------------------------------- clean folders


def _slice(path: Path) -> None:
    """Keep the header (and an RBA table's metadata lines) and the rows dated within ``SLICE``."""
    lines = path.read_bytes().decode("utf-8").splitlines()
    head = next((i for i, x in enumerate(lines) if x.startswith("Series ID,")), 0)
    rows = [x for x in lines[head + 1 :] if x.split(",")[0].strip()]
    first = pd.Series([x.split(",")[0] for x in rows])
    days = parse_dates(first, np.arange(len(rows)), path)
    keep = [x for x, d in zip(rows, days, strict=True) if SLICE[0] <= d <= SLICE[1]]
    path.write_bytes(("\n".join([*lines[: head + 1], *keep]) + "\n").encode("utf-8"))


@pytest.fixture(scope="module")
def clean_real(tmp_path_factory) -> Path:
    if needs_real_data.mark.args[0]:
        pytest.skip(needs_real_data.mark.kwargs["reason"])
    folder = etf_folder(tmp_path_factory.mktemp("clean") / "real")
    for path in folder.glob("*.csv"):
        _slice(path)
    return folder


@pytest.fixture(scope="module")
def clean_sample(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("clean") / "sample"
    shutil.copytree(paths.sample_dir(), folder)
    return folder


def _invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})


def _run(folder: Path, out: Path):
    return _invoke("run", STRATEGY, "--data-dir", folder, *WINDOW, "--out", out, "-q")


def _metrics(out: Path) -> dict:
    (summary,) = out.glob("*/summary.json")
    data = json.loads(summary.read_text(encoding="utf-8"))
    return {"strategy": data["metrics"], "benchmark": data["benchmark"]}


def _clean_metrics(folder: Path, out: Path) -> dict:
    result = _run(folder, out)
    assert result.exit_code == 0, result.output
    return _metrics(out)


@pytest.fixture(scope="module")
def metrics_real(clean_real, tmp_path_factory) -> dict:
    return _clean_metrics(clean_real, tmp_path_factory.mktemp("out"))


@pytest.fixture(scope="module")
def metrics_sample(clean_sample, tmp_path_factory) -> dict:
    return _clean_metrics(clean_sample, tmp_path_factory.mktemp("out"))


# --------------------------------------------------------------------------- editing helpers


def _split(path: Path) -> tuple[list[str], list[str], list[list[str]]]:
    """(lines before the header, header cells, data rows as cells) of a comma-separated file."""
    lines = path.read_bytes().decode("utf-8").splitlines()
    head = next((i for i, x in enumerate(lines) if x.startswith("Series ID,")), 0)
    return lines[:head], lines[head].split(","), [x.split(",") for x in lines[head + 1 :] if x]


def _join(pre, header, rows, sep=",", eol="\n") -> str:
    return eol.join([*pre, sep.join(header), *(sep.join(r) for r in rows)]) + eol


def _rewrite(key: str, fn: Callable, **kw) -> Callable[[Path], None]:
    """A mutation: ``fn(header, rows)`` edits the cells of ``KEY.csv`` in place."""

    def mutate(folder: Path) -> None:
        path = folder / f"{key}.csv"
        pre, header, rows = _split(path)
        fn(header, rows)
        path.write_text(_join(pre, header, rows, **kw), encoding="utf-8", newline="")

    return mutate


def _cell(key: str, column: str, value: str, day: str = DAY) -> Callable[[Path], None]:
    """Set one cell (by column name and the row's date text) of ``KEY.csv``."""

    def fn(header, rows):
        j = header.index(column)
        (row,) = [r for r in rows if r[0] == day]
        row[j] = value

    return _rewrite(key, fn)


def _scale(key: str, factor: float) -> Callable[[Path], None]:
    """Every price of ``KEY.csv`` times ``factor`` (the series stays self-consistent)."""

    def fn(header, rows):
        for r in rows:
            for j in range(1, 5):
                r[j] = repr(float(r[j]) * factor)

    return _rewrite(key, fn)


def _add_row(key: str, cells: list[str], at: int | None = None) -> Callable[[Path], None]:
    def fn(header, rows):
        rows.insert(len(rows) if at is None else at, cells)

    return _rewrite(key, fn)


def _encode(key: str, encoding: str, bom: bytes = b"") -> Callable[[Path], None]:
    def mutate(folder: Path) -> None:
        path = folder / f"{key}.csv"
        path.write_bytes(bom + path.read_bytes().decode("utf-8").encode(encoding))

    return mutate


def _bytes(key: str, data: bytes | Callable[[bytes], bytes], name: str = "") -> Callable:
    def mutate(folder: Path) -> None:
        path = folder / f"{key}.csv"
        new = data(path.read_bytes()) if callable(data) else data
        (folder / (name or path.name)).write_bytes(new)

    return mutate


def _replace(key: str, make: Callable[[Path], None]) -> Callable[[Path], None]:
    """Remove ``KEY.csv`` and let ``make(path)`` put something else in its place."""

    def mutate(folder: Path) -> None:
        path = folder / f"{key}.csv"
        path.unlink()
        make(path)

    return mutate


def _toml(text: str, mode: str = "a") -> Callable[[Path], None]:
    """Append ``text`` to (mode "a") or put it before (mode "p") the folder's instruments.toml."""

    def mutate(folder: Path) -> None:
        path = folder / "instruments.toml"
        old = path.read_text(encoding="utf-8") if path.is_file() else ""
        new = f"{old}\n{text.strip()}\n" if mode == "a" else f"{text.strip()}\n{old}"
        path.write_text(new, encoding="utf-8")

    return mutate


def _toml_bytes(data: bytes) -> Callable[[Path], None]:
    def mutate(folder: Path) -> None:
        (folder / "instruments.toml").write_bytes(data)

    return mutate


def _field(key: str, line: str) -> Callable[[Path], None]:
    """Redefine ``key`` (all its packaged fields) with one line changed or added."""
    base = {
        "XSO": {
            "name": '"ISO as XSO"',
            "kind": '"etf"',
            "currency": '"AUD"',
            "calendar": '"XASX"',
            "tz": '"Australia/Sydney"',
            "returns": '"price"',
            "known": '"session_close"',
        },
        "RBA_CASH": {
            "name": '"RBA cash rate target"',
            "kind": '"rate"',
            "currency": '"AUD"',
            "calendar": '"weekdays"',
            "tz": '"Australia/Sydney"',
            "known": '"D+1 24:00"',
            "providers": '{ rba = "F1:FIRMMCRTD" }',
        },
    }[key]
    name, _, value = line.partition("=")
    fields = {**base, name.strip(): value.strip()}
    body = "\n".join(f"{k} = {v}" for k, v in fields.items())

    def mutate(folder: Path) -> None:
        path = folder / "instruments.toml"
        old = path.read_text(encoding="utf-8") if path.is_file() else ""
        # A table may appear once: drop the folder's own [key] before writing the new one.
        kept, skip = [], False
        for x in old.splitlines():
            if x.startswith("["):
                skip = x.strip() == f"[{key}]"
            if not skip:
                kept.append(x)
        path.write_text("\n".join(kept) + f"\n[{key}]\n{body}\n", encoding="utf-8")

    return mutate


def _parquet_bytes(frame: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    return buf.getvalue()


def _xso_frame(folder: Path) -> pd.DataFrame:
    _, header, rows = _split(folder / "XSO.csv")
    frame = pd.DataFrame(rows, columns=[h.lower() for h in header])
    frame["date"] = pd.to_datetime(frame["date"], format="%Y%m%d")
    for c in frame.columns[1:]:
        frame[c] = frame[c].astype(float)
    return frame


def _as_parquet(change: Callable[[pd.DataFrame], pd.DataFrame] = lambda f: f) -> Callable:
    def mutate(folder: Path) -> None:
        frame = change(_xso_frame(folder))
        (folder / "XSO.csv").unlink()
        (folder / "XSO.parquet").write_bytes(_parquet_bytes(frame))

    return mutate


def _date_2300_parquet(frame: pd.DataFrame) -> pd.DataFrame:
    days = frame["date"].to_numpy().astype("datetime64[us]").copy()
    days[-1] = np.datetime64("2300-01-02", "us")
    return frame.assign(date=days)


# --------------------------------------------------------------------------- file types


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _socket(path: Path) -> None:
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(path))
    s.close()


def _loop(path: Path) -> None:
    path.symlink_to(path.name)


def _dangling(path: Path) -> None:
    path.symlink_to(path.parent / "gone.csv")


def _device(target: str) -> Callable[[Path], None]:
    return lambda path: path.symlink_to(target)


def _sparse(size: int) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        with open(path, "wb") as f:
            f.truncate(size)

    return make


def _outside_link(folder: Path) -> None:
    outside = folder.parent / "elsewhere.csv"
    shutil.move(folder / "XSO.csv", outside)
    (folder / "XSO.csv").symlink_to(outside)


def _beside(name: str, make: Callable[[Path], None]) -> Callable[[Path], None]:
    return lambda folder: make(folder / name)


def _parquet_as_csv(folder: Path) -> None:
    (folder / "XSO.csv").write_bytes(_parquet_bytes(_xso_frame(folder)))


def _csv_as_parquet(folder: Path) -> None:
    shutil.move(folder / "XSO.csv", folder / "XSO.parquet")


def _zip(data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("xl/worksheets/sheet1.xml", data)
    return buf.getvalue()


def _rename(old: str, new: str) -> Callable[[Path], None]:
    return lambda folder: (folder / old).rename(folder / new)


def _chmod(folder: Path) -> None:
    (folder / "XSO.csv").chmod(0)


# --------------------------------------------------------------------------- the cases


@dataclass(frozen=True)
class Case:
    """One hostile input. ``names``: what the message must name; ``says``: words of the fix (any
    one of each ``|``-separated group, case-insensitive); ``on``: which commands see it."""

    id: str
    mutate: Callable[[Path], None]
    refused: bool = True
    names: str = "XSO"
    says: tuple[str, ...] = ()
    on: tuple[str, ...] = ("validate", "run")
    file: str | None = None  # also `data validate DIR/FILE`
    base: str = "real"
    posix: bool = False
    root_skips: bool = False  # permissions mean nothing to root
    folder: str = "data"  # the data folder's own name
    xfail: str = ""  # why the case still fails, where the fix lies outside the data layer


# The run's strategy reads XSO, XJO, RUT and the AUD cash rate (RBA_CASH), not FED_TARGET or AUDUSD.
VALIDATE_ONLY = ("validate",)
RUN_ONLY = ("run",)


def refused(id, mutate, *says, names="XSO", **kw) -> Case:
    return Case(id, mutate, True, names, says, **kw)


def accepted(id, mutate, **kw) -> Case:
    return Case(id, mutate, False, **kw)


NOT_A_FILE = [
    refused("fifo", _replace("XSO", _fifo), "fifo|named pipe", file="XSO.csv", posix=True),
    refused("directory", _replace("XSO", os.mkdir), "directory", file="XSO.csv"),
    refused(
        "symlink_loop", _replace("XSO", _loop), "loop|does not exist", file="XSO.csv", posix=True
    ),
    refused(
        "dangling_symlink",
        _replace("XSO", _dangling),
        "gone.csv|does not exist",
        file="XSO.csv",
        posix=True,
    ),
    refused(
        "dev_null", _replace("XSO", _device("/dev/null")), "device", posix=True, file="XSO.csv"
    ),
    refused(
        "dev_zero", _replace("XSO", _device("/dev/zero")), "device", posix=True, file="XSO.csv"
    ),
    refused("socket", _replace("XSO", _socket), "socket", posix=True, file="XSO.csv"),
    refused("unreadable", _chmod, "permission", posix=True, root_skips=True),
    refused("fifo_parquet_beside_csv", _beside("XSO.parquet", _fifo), "fifo", posix=True),
    refused("dir_parquet_beside_csv", _beside("XSO.parquet", os.mkdir), "directory"),
    refused(
        "fifo_instruments_toml",
        lambda f: (f / "instruments.toml").unlink() or _fifo(f / "instruments.toml"),
        "fifo",
        names="instruments.toml",
        posix=True,
    ),
    refused(
        "dir_instruments_toml",
        lambda f: (f / "instruments.toml").unlink() or os.mkdir(f / "instruments.toml"),
        "directory",
        names="instruments.toml",
    ),
    refused(
        "dangling_instruments_toml",
        lambda f: (f / "instruments.toml").unlink() or _dangling(f / "instruments.toml"),
        "gone.csv",
        names="instruments.toml",
        posix=True,
    ),
    refused("huge_sparse_file", _replace("XSO", _sparse(600 * 2**20)), "MB", file="XSO.csv"),
    accepted("fifo_not_a_key", _beside("notes.csv", _fifo), posix=True),
    accepted("symlink_to_real_file", _outside_link, posix=True),
    accepted(
        "symlinked_instruments_toml",
        lambda f: (
            shutil.move(f / "instruments.toml", f.parent / "i.toml")
            or (f / "instruments.toml").symlink_to(f.parent / "i.toml")
        ),
        posix=True,
    ),
    accepted("junk_file_not_a_key", _beside("notes.csv", lambda p: p.write_bytes(b"\0\xff" * 99))),
]


def _each_cell(fn):
    def edit(h, rows):
        for r in rows:
            r[:] = [fn(c) for c in r]

    return edit


def _header(fn):
    def edit(h, rows):
        h[:] = [fn(c) for c in h]

    return edit


ENCODING = [
    refused("semicolons", _rewrite("XSO", lambda h, r: None, sep=";"), "semicolon", "comma"),
    refused(
        "semicolons_decimal_comma",
        _bytes("XSO", lambda b: b.replace(b",", b";").replace(b".", b",")),
        "semicolon",
        "comma",
    ),
    refused("tabs", _rewrite("XSO", lambda h, r: None, sep="\t"), "tab", "comma"),
    refused("utf16_le_bom", _encode("XSO", "utf-16"), "utf-16", "utf-8", file="XSO.csv"),
    refused("utf16_be_bom", _encode("XSO", "utf-16-be", b"\xfe\xff"), "utf-16", "utf-8"),
    refused("utf16_le_no_bom", _encode("XSO", "utf-16-le"), "utf-16", "utf-8"),
    refused("utf32_bom", _encode("XSO", "utf-32"), "utf-32", "utf-8"),
    refused("nul_bytes", _bytes("XSO", b"\0" * 4096), "binary|nul", file="XSO.csv"),
    refused("random_bytes", _bytes("XSO", np.random.default_rng(1).bytes(5000)), "binary|text"),
    refused("parquet_named_csv", _parquet_as_csv, "parquet", "XSO.parquet"),
    refused("gzip_named_csv", _bytes("XSO", gzip.compress), "gzip", "decompress|unzip"),
    refused("zip_named_csv", _bytes("XSO", _zip), "zip|excel", "csv"),
    refused("csv_named_parquet", _csv_as_parquet, "not a parquet", "XSO.csv"),
    accepted("crlf", _rewrite("XSO", lambda h, r: None, eol="\r\n")),
    accepted("cr_only", _rewrite("XSO", lambda h, r: None, eol="\r")),
    accepted("utf8_bom", _bytes("XSO", lambda b: b"\xef\xbb\xbf" + b)),
    accepted("utf8_bom_crlf", _bytes("XSO", lambda b: b"\xef\xbb\xbf" + b.replace(b"\n", b"\r\n"))),
    accepted("trailing_blank_lines", _bytes("XSO", lambda b: b + b"\n\n\n")),
    accepted("quoted_cells", _rewrite("XSO", _each_cell(lambda c: f'"{c}"'))),
    accepted("upper_case_header", _rewrite("XSO", _header(str.upper))),
    accepted("spaces_in_header", _rewrite("XSO", _header(lambda c: f" {c} "))),
    accepted("parquet_instead_of_csv", _as_parquet()),
    accepted(
        "parquet_tz_aware_dates",
        _as_parquet(lambda f: f.assign(date=f["date"].dt.tz_localize("Australia/Sydney"))),
    ),
]


def _shuffled_columns(h, rows):
    order = [0, 4, 2, 5, 1, 3]
    h[:] = [h[i] for i in order]
    for r in rows:
        r[:] = [r[i] for i in order]


def _wide(n: int, keep_date: bool):
    def fn(h, rows):
        if not keep_date:
            h[0] = "when"
        h += [f"x{i}" for i in range(n)]
        for r in rows:
            r += ["0"] * n

    return fn


def _huge(size: int):
    return "9" * 10 + "x" * size


def _one_row(h, rows):
    rows[:] = [r for r in rows if r[0] == DAY]


def _keep_first(n: int):
    return lambda h, rows: rows.__delitem__(slice(n, None))


def _dates_as(fmt: str, last: str | None = None):
    """Rewrite XSO's YYYYMMDD dates in ``fmt``; ``last`` replaces the last row's date."""

    def fn(h, rows):
        for r in rows:
            r[0] = pd.Timestamp(r[0]).strftime(fmt)
        if last is not None:
            rows.append([last, *rows[-1][1:]])

    return fn


STRUCTURE = [
    refused("empty_file", _bytes("XSO", b""), "empty", file="XSO.csv"),
    refused("whitespace_only", _bytes("XSO", b" \n\n  \n"), "empty"),
    refused("header_only", _rewrite("XSO", _keep_first(0)), "no rows"),
    # `data validate` warns (a file may be checked alone); a run refuses, naming the file.
    refused("one_row", _rewrite("XSO", _one_row), "1 row", "at least", on=RUN_ONLY),
    refused(
        "one_row_signal_series",
        _rewrite("RUT", lambda h, r: r.__delitem__(slice(1, None))),
        "1 row",
        names="RUT",
        on=RUN_ONLY,
    ),
    refused(
        "one_date_repeated_100k",
        _rewrite("XSO", lambda h, r: r.extend([list(r[-1]) for _ in range(100_000)])),
        "duplicated",
    ),
    refused(
        "rows_shuffled", _rewrite("XSO", lambda h, r: np.random.default_rng(2).shuffle(r)), "order"
    ),
    refused("extra_cell", _cell("XSO", "Volume", "1,2"), "comma|cells"),
    refused(
        "header_repeated_midfile",
        _rewrite("XSO", lambda h, r: r.insert(100, list(h))),
        "not a date",
    ),
    refused(
        "no_close_only_adj_close",
        _rewrite("XSO", lambda h, r: h.__setitem__(4, "Adj Close")),
        "close",
    ),
    accepted(
        "last_as_the_lone_other_column", _rewrite("XSO", lambda h, r: h.__setitem__(4, "Last"))
    ),
    refused("only_a_date_column", _bytes("XSO", b"Date\n20190102\n20190103\n"), "close"),
    refused("wide_10000_no_date", _rewrite("XSO", _wide(10_000, False)), "date"),
    refused(
        "huge_header_name", _rewrite("XSO", lambda h, r: h.__setitem__(0, "D" * 1_000_000)), "date"
    ),
    refused("huge_cell_close_5mb", _cell("XSO", "Close", _huge(5_000_000)), "not a number"),
    refused("huge_cell_date_1mb", _cell("XSO", "Date", _huge(1_000_000)), "not a date"),
    refused("markup_in_cell", _cell("XSO", "Close", "[/x]"), "not a number"),
    refused("thousands_separator", _cell("XSO", "Close", '"1,234.5"'), "not a number"),
    refused("percent_sign", _cell("XSO", "Close", "5.06%"), "not a number"),
    refused("hex_number", _cell("XSO", "Close", "0x10"), "not a number"),
    refused(
        "lowercase_file_name",
        _rename("XSO.csv", "xso.csv"),
        "rename xso.csv -> XSO.csv",
        on=RUN_ONLY,
    ),
    refused("upper_case_suffix", _rename("XSO.csv", "XSO.CSV"), "XSO.CSV -> XSO.csv", on=RUN_ONLY),
    refused("missing_file", lambda f: (f / "XSO.csv").unlink(), "add XSO.csv", on=RUN_ONLY),
    accepted("wide_2000_unused_columns", _rewrite("XSO", _wide(2_000, True))),
    accepted("columns_shuffled", _rewrite("XSO", _shuffled_columns)),
    accepted("newest_first", _rewrite("XSO", lambda h, r: r.reverse())),
]

VALUES = [
    refused("close_subnormal_5e-324", _cell("XSO", "Close", "5e-324"), "1e-06", "close"),
    refused("close_subnormal_1e-310", _cell("XSO", "Close", "1e-310"), "1e-06"),
    refused("open_subnormal", _cell("XSO", "Open", "5e-324"), "1e-06", "open"),
    refused("close_1e300", _cell("XSO", "Close", "1e300"), "1e+12"),
    refused("high_1e300", _cell("XSO", "High", "1e300"), "1e+12", "high"),
    refused("every_price_times_1e299", _scale("XSO", 1e299), "1e+12"),
    refused("every_price_times_1e-320", _scale("XSO", 1e-320), "1e-06"),
    refused("every_price_times_1e-9", _scale("XSO", 1e-9), "1e-06"),
    refused("close_inf", _cell("XSO", "Close", "inf"), "finite"),
    refused("close_minus_inf", _cell("XSO", "Close", "-inf"), "finite"),
    refused("close_1e5000", _cell("XSO", "Close", "1e5000"), "finite"),
    refused("close_zero", _cell("XSO", "Close", "0"), "positive"),
    refused("close_negative", _cell("XSO", "Close", "-5.06"), "positive"),
    refused(
        "rate_1e300",
        _cell("RBA_CASH", "FIRMMCRTD", "1e300", "15-Mar-2019"),
        "RBA_CASH",
        names="RBA_CASH",
    ),
    refused(
        "rate_subnormal",
        _cell("RBA_CASH", "FIRMMCRTD", "5e-324", "15-Mar-2019"),
        "1e-06",
        names="RBA_CASH",
    ),
    refused(
        "rate_minus_1e300",
        _cell("RBA_CASH", "FIRMMCRTD", "-1e300", "15-Mar-2019"),
        "RBA_CASH",
        names="RBA_CASH",
    ),
]

DATES = [
    refused("row_2300", _add_row("XSO", ["23000102", "5", "5", "5", "5", "0"]), "2300", "1900"),
    refused(
        "row_0001", _add_row("XSO", ["00010103", "5", "5", "5", "5", "0"], at=0), "0001", "1900"
    ),
    refused("row_9999", _add_row("XSO", ["99991231", "5", "5", "5", "5", "0"]), "9999"),
    refused("row_2262_04_12", _add_row("XSO", ["22620412", "5", "5", "5", "5", "0"]), "2262"),
    refused("row_1677_09_21", _add_row("XSO", ["16770921", "5", "5", "5", "5", "0"], at=0), "1677"),
    refused(
        "row_2199_beyond_calendar",
        _add_row("XSO", ["21990102", "5", "5", "5", "5", "0"]),
        "2199",
        "XASX",
    ),
    refused(
        "row_1950_before_calendar",
        _add_row("XSO", ["19500103", "5", "5", "5", "5", "0"], at=0),
        "1985",
    ),
    refused(
        "iso_with_time_2300",
        _add_row("RUT", ["2300-01-02 00:00:00", "1", "1", "1", "1", "0"]),
        "2300",
        names="RUT",
    ),
    refused("m_d_yyyy_2300", _rewrite("XSO", _dates_as("%m/%d/%Y", "1/2/2300")), "2300"),
    refused("yyyy_mm_dd_slash_2300", _rewrite("XSO", _dates_as("%Y/%m/%d", "2300/01/02")), "2300"),
    refused("dd_mon_yyyy_2300", _rewrite("XSO", _dates_as("%d-%b-%Y", "02-Jan-2300")), "2300"),
    refused("iso_0001", _rewrite("XSO", _dates_as("%Y-%m-%d", "0001-01-01")), "0001"),
    refused(
        "rate_1700",
        _rewrite("FED_TARGET", lambda h, r: r.insert(0, ["1700-01-04", *["4"] * (len(h) - 1)])),
        "1700",
        names="FED_TARGET",
        on=VALIDATE_ONLY,
    ),
    refused(
        "rate_2300",
        _rewrite("FED_TARGET", lambda h, r: r.append(["2300-01-04", *["2"] * (len(h) - 1)])),
        "2300",
        names="FED_TARGET",
        on=VALIDATE_ONLY,
    ),
    refused(
        "rba_rate_1700",
        _rewrite("RBA_CASH", lambda h, r: r.insert(0, ["04-Jan-1700", *["4.5"] * (len(h) - 1)])),
        "1700",
        names="RBA_CASH",
    ),
    refused(
        "rba_rate_2300",
        _rewrite("RBA_CASH", lambda h, r: r.append(["02-Jan-2300", *["1.5"] * (len(h) - 1)])),
        "2300",
        names="RBA_CASH",
    ),
    refused(
        "fx_1899",
        _rewrite("AUDUSD", lambda h, r: r.insert(0, ["1899-12-29", "0.7"])),
        "1899",
        names="AUDUSD",
        on=VALIDATE_ONLY,
    ),
    refused("parquet_date_2300", _as_parquet(_date_2300_parquet), "2300", names="XSO.parquet"),
    refused(
        "parquet_text_date_2300",
        _as_parquet(
            lambda f: f.assign(date=[*f["date"].dt.strftime("%Y-%m-%d")[:-1], "2300-01-02"])
        ),
        "2300",
        names="XSO.parquet",
    ),
]


def _rba(symbol: str) -> Callable[[Path], None]:
    return _field("RBA_CASH", f'providers = {{ rba = "{symbol}" }}')


TOML = [
    refused(
        "tz_unknown",
        _field("XSO", 'tz = "Mars/Olympus"'),
        "tz",
        "Mars/Olympus",
        names="instruments.toml",
    ),
    refused("tz_integer", _field("XSO", "tz = 5"), "tz", names="instruments.toml"),
    refused("tz_path", _field("XSO", 'tz = "../../../etc/passwd"'), "tz", names="instruments.toml"),
    refused(
        "tz_trailing_space",
        _field("XSO", 'tz = "Australia/Sydney "'),
        "tz",
        names="instruments.toml",
    ),
    refused(
        "providers_string",
        _field("XSO", 'providers = "^AXSO"'),
        "providers",
        "table",
        names="instruments.toml",
    ),
    refused(
        "providers_symbol_integer",
        _field("XSO", "providers = { yahoo = 5 }"),
        "yahoo",
        names="instruments.toml",
    ),
    refused(
        "providers_unknown_source",
        _field("XSO", 'providers = { yahooo = "^AXSO" }'),
        "yahoo",
        names="instruments.toml",
    ),
    refused(
        "rba_table_path",
        _rba("../../../../admin/delete?all=1&x=#"),
        "rba",
        "RBA_CASH",
        names="instruments.toml",
    ),
    refused("rba_table_no_series", _rba("F1"), "TABLE:SERIES", names="instruments.toml"),
    refused("rba_table_query", _rba("F1?x=1:FIRMMCRTD"), "rba", names="instruments.toml"),
    refused(
        "fred_query",
        _field("RBA_CASH", 'providers = { fred = "DFF&api_key=1" }'),
        "fred",
        names="instruments.toml",
    ),
    refused(
        "yahoo_slash",
        _field("XSO", 'providers = { yahoo = "../v8/x" }'),
        "yahoo",
        names="instruments.toml",
    ),
    refused(
        "yahoo_space",
        _field("XSO", 'providers = { yahoo = "ISO AX" }'),
        "yahoo",
        names="instruments.toml",
    ),
    refused("key_integer", _toml('[1]\nname = "x"'), "'1'", names="instruments.toml"),
    refused("key_path", _toml('["../XSO"]\nname = "x"'), "../XSO", names="instruments.toml"),
    refused("nested_table", _toml("[XSO.extra]\na = 1"), "extra", names="instruments.toml"),
    refused(
        "known_huge_lag",
        _field("XSO", 'known = "D+99999999 24:00"'),
        "31",
        names="instruments.toml",
    ),
    refused(
        "known_lag_32_days",
        _field("RBA_CASH", 'known = "D+32 24:00"'),
        "31",
        names="instruments.toml",
    ),
    refused("known_integer", _field("XSO", "known = 5"), "known", names="instruments.toml"),
    refused("kind_integer", _field("XSO", "kind = 5"), "kind", names="instruments.toml"),
    refused("kind_bool", _field("XSO", "kind = true"), "kind", names="instruments.toml"),
    refused("checks_string", _field("XSO", 'checks = "x"'), "checks", names="instruments.toml"),
    refused(
        "checks_nan",
        _field("XSO", "checks = { max_move = nan }"),
        "max_move",
        names="instruments.toml",
    ),
    refused(
        "checks_text",
        _field("XSO", 'checks = { max_move = "big" }'),
        "max_move",
        names="instruments.toml",
    ),
    refused("name_list", _field("XSO", "name = [1]"), "name", names="instruments.toml"),
    refused(
        "calendar_integer", _field("XSO", "calendar = 5"), "calendar", names="instruments.toml"
    ),
    refused(
        "calendar_unknown",
        _field("XSO", 'calendar = "XASY"'),
        "calendar",
        "XASX",
        names="instruments.toml",
    ),
    refused(
        "currency_integer", _field("XSO", "currency = 7"), "currency", names="instruments.toml"
    ),
    refused(
        "currency_words",
        _field("XSO", 'currency = "Australian dollars"'),
        "currency",
        names="instruments.toml",
    ),
    refused("base_integer", _field("XSO", "base = 7"), "base", names="instruments.toml"),
    refused("column_integer", _field("XSO", "column = 5"), "column", names="instruments.toml"),
    refused("fixing_integer", _field("XSO", "fixing = 5"), "fixing", names="instruments.toml"),
    refused("returns_integer", _field("XSO", "returns = 5"), "returns", names="instruments.toml"),
    refused("units_integer", _field("RBA_CASH", "units = 5"), "units", names="instruments.toml"),
    refused(
        "not_utf8",
        _toml_bytes(b'[XSO]\nname = "\xff\xfe caf\xe9"\n'),
        "utf-8",
        names="instruments.toml",
    ),
    refused(
        "toml_utf16",
        lambda f: (f / "instruments.toml").write_bytes(
            (f / "instruments.toml").read_text("utf-8").encode("utf-16")
        ),
        "utf-8",
        names="instruments.toml",
    ),
    refused("toml_huge", _toml("# " + "x" * 2_000_000), "MB", names="instruments.toml"),
    refused(
        "toml_deep_nesting",
        _toml("x = " + "[" * 50_000 + "]" * 50_000),
        "instruments.toml",
        names="instruments.toml",
    ),
    refused("toml_syntax", _toml("[XSO"), "toml", names="instruments.toml"),
    refused("toml_scalar_entry", _toml("STRAY = 1", "p"), "table", names="instruments.toml"),
    accepted(
        "toml_utf8_bom",
        lambda f: (f / "instruments.toml").write_bytes(
            b"\xef\xbb\xbf" + (f / "instruments.toml").read_bytes()
        ),
    ),
    accepted("toml_empty_extra_lines", _toml("\n\n# nothing\n")),
]


def _truncated_parquet(folder: Path) -> None:
    data = _parquet_bytes(_xso_frame(folder))
    (folder / "XSO.csv").unlink()
    (folder / "XSO.parquet").write_bytes(data[: len(data) // 2])


def _keep_year(key: str, year: str):
    return _rewrite(
        key, lambda h, r: r.__setitem__(slice(None), [x for x in r if x[0][:4] == year])
    )


def _never_overlap(folder: Path) -> None:
    _keep_year("XSO", "2018")(folder)
    _keep_year("XJO", "2019")(folder)


MORE = [
    refused(
        "folder_name_with_markup", _replace("XSO", _fifo), "fifo", posix=True, folder="[/x]d[b]"
    ),
    refused("nul_in_the_middle", _bytes("XSO", lambda b: b[:6000] + b"\0" + b[6000:]), "nul"),
    refused("bom_only", _bytes("XSO", b"\xef\xbb\xbf"), "empty|could not be read"),
    refused("truncated_parquet", _truncated_parquet, "parquet", names="XSO.parquet"),
    refused(
        "traded_series_never_overlap",
        _never_overlap,
        "overlap",
        on=RUN_ONLY,
    ),
    refused(
        "checks_nested_table",
        _field("XSO", "checks = { max_move = { a = 1 } }"),
        "max_move",
        names="instruments.toml",
    ),
    refused(
        "providers_nested_table",
        _field("XSO", "providers = { yahoo = { x = 1 } }"),
        "yahoo",
        names="instruments.toml",
    ),
    refused("name_empty", _field("XSO", 'name = ""'), "name", names="instruments.toml"),
    refused(
        "name_huge", _field("XSO", f'name = "{"n" * 100_000}"'), "name", names="instruments.toml"
    ),
    refused("column_missing_from_file", _field("XSO", 'column = "Last"'), "Last", names="XSO"),
    refused(
        "checks_inf",
        _field("XSO", "checks = { max_level = inf }"),
        "max_level",
        names="instruments.toml",
    ),
    refused(
        "known_negative_lag",
        _field("XSO", 'known = "D-1 10:00"'),
        "known",
        names="instruments.toml",
    ),
    refused(
        "unknown_field_huge",
        _toml(f"[XSO2]\n{'f' * 50_000} = 1"),
        "unknown field",
        names="instruments.toml",
    ),
    accepted(
        "parquet_integer_dates",
        _as_parquet(lambda f: f.assign(date=f["date"].dt.strftime("%Y%m%d").astype(int))),
    ),
    accepted(
        "known_lag_31_days_on_an_unused_rate",
        _field("RBA_CASH", 'known = "D+31 24:00"'),
        on=VALIDATE_ONLY,
    ),
    accepted(
        "yahoo_symbols_of_every_shape",
        _field(
            "XSO", 'providers = { yahoo = "ISO.AX", fred = "DFEDTARU", rba = "F1.1:FIRMMBAB90" }'
        ),
    ),
]

SAMPLE = [
    refused(
        "sample_row_2300",
        _add_row("XSO", ["2300-01-02", "1", "1", "1", "1"]),
        "2300",
        base="sample",
    ),
    refused(
        "sample_subnormal", _cell("XSO", "close", "5e-324", "2019-03-15"), "1e-06", base="sample"
    ),
    refused("sample_every_price_1e300", _scale("XSO", 1e297), "1e+12", base="sample"),
    refused(
        "sample_semicolons", _rewrite("XSO", lambda h, r: None, sep=";"), "semicolon", base="sample"
    ),
    refused("sample_utf16", _encode("XSO", "utf-16"), "utf-16", base="sample"),
    refused(
        "sample_one_row",
        _rewrite("XSO", lambda h, r: r.__delitem__(slice(1, None))),
        "1 row",
        base="sample",
        on=RUN_ONLY,
    ),
    refused("sample_blank_close", _cell("XSO", "close", "", "2019-03-15"), "blank", base="sample"),
    refused(
        "sample_fifo", _replace("XSO", _fifo), "fifo", base="sample", posix=True, file="XSO.csv"
    ),
    refused(
        "sample_tz_unknown",
        _field("XSO", 'tz = "Nowhere/Land"'),
        "tz",
        names="instruments.toml",
        base="sample",
    ),
    refused(
        "sample_rate_1700",
        _add_row("RBA_CASH", ["1700-01-04", "5.5"], at=0),
        "1700",
        names="RBA_CASH",
        base="sample",
    ),
    accepted("sample_crlf", _rewrite("XSO", lambda h, r: None, eol="\r\n"), base="sample"),
    accepted("sample_symlinked_file", _outside_link, base="sample", posix=True),
]

CASES = [*NOT_A_FILE, *ENCODING, *STRUCTURE, *VALUES, *DATES, *TOML, *MORE, *SAMPLE]


def test_enough_cases_and_unique_ids():
    assert len(CASES) >= 80
    assert len({c.id for c in CASES}) == len(CASES)


# --------------------------------------------------------------------------- the checks


class _Hang(Exception):
    pass


def _on_alarm(signum, frame):
    raise _Hang("the command blocked (a read of something that is not a regular file?)")


@pytest.fixture
def alarm():
    """Fail, rather than hang, when a command blocks (a FIFO opened for reading)."""
    if not hasattr(signal, "SIGALRM"):
        yield
        return
    old = signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(20)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _refusal(result, case: Case, what: str) -> None:
    text = result.output
    assert result.exit_code == 2, f"{what}: exit {result.exit_code}\n{text[:3000]}"
    assert result.exception is None or isinstance(result.exception, SystemExit), text[:3000]
    assert "Traceback" not in text, text[:3000]
    assert len(text) < MAX_OUTPUT, f"{what}: {len(text)} characters of output\n{text[:3000]}"
    low = text.lower()
    assert case.names.lower() in low, f"{what}: {case.names} not named\n{text}"
    for group in case.says:
        assert any(w.lower() in low for w in group.split("|")), f"{what}: no {group!r}\n{text}"


def _params(cases):
    for c in cases:
        marks = [pytest.mark.xfail(reason=c.xfail, strict=False)] if c.xfail else []
        yield pytest.param(c, id=c.id, marks=marks)


@pytest.mark.parametrize("case", list(_params(CASES)))
def test_hostile_data(case: Case, request, tmp_path, alarm):
    if case.posix and not POSIX:
        pytest.skip("needs POSIX file types (FIFO, socket, device, symlink)")
    if case.root_skips and hasattr(os, "geteuid") and os.geteuid() == 0:
        pytest.skip("running as root: file permissions do not stop root from reading")
    folder = tmp_path / case.folder
    shutil.copytree(request.getfixturevalue(f"clean_{case.base}"), folder, symlinks=True)
    case.mutate(folder)
    out = tmp_path / "out"
    if "validate" in case.on:
        result = _invoke("data", "validate", folder)
        if case.refused:
            _refusal(result, case, "data validate DIR")
        else:
            assert result.exit_code == 0, result.output[:3000]
    if case.file is not None:
        _refusal(_invoke("data", "validate", folder / case.file), case, "data validate FILE")
    if "run" in case.on:
        result = _run(folder, out)
        if case.refused:
            _refusal(result, case, "run")
            assert not out.exists() or not any(out.iterdir()), list(out.iterdir())
        else:
            assert result.exit_code == 0, result.output[:3000]
            assert _metrics(out) == request.getfixturevalue(f"metrics_{case.base}")


@pytest.mark.skipif(not POSIX, reason="needs POSIX FIFOs")
def test_data_list_names_a_fifo_it_cannot_read(clean_sample, tmp_path, alarm):
    folder = tmp_path / "data"
    shutil.copytree(clean_sample, folder)
    _replace("XSO", _fifo)(folder)
    result = _invoke("data", "list", "--data-dir", folder)
    assert result.exit_code == 0, result.output
    assert "unreadable" in result.output and "FIFO" in result.output


def test_data_fetch_refuses_a_provider_path_before_any_request(tmp_path):
    folder = tmp_path / "cache"
    folder.mkdir()
    _rba("../../../../admin/delete?all=1&x=#")(folder)
    env = {"COLUMNS": "200", "CROSSCURRENT_RBA_URL": "http://127.0.0.1:9"}  # nothing listens
    result = runner.invoke(app, ["data", "fetch", "RBA_CASH", "--out", str(folder)], env=env)
    assert result.exit_code == 2, result.output
    assert "providers.rba = '../../../../admin/delete?all=1&x=#'" in result.output
    assert "cannot reach" not in result.output and sorted(folder.iterdir()) == [
        folder / "instruments.toml"
    ]
