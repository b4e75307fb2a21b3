"""Untrusted files: what sits at a path (never opened unless regular), what the bytes are, and how
much of a file's text a message repeats."""

from __future__ import annotations

import gzip
import os
import signal
import socket
import sys

import pandas as pd
import pytest

from engine.errors import DataError
from engine.feeds import datafiles
from engine.feeds.datafiles import decode, problem_at, quoted, quoted_list, read_bytes, read_parquet

posix = pytest.mark.skipif(sys.platform == "win32", reason="needs POSIX file types")


@pytest.fixture
def no_hang():
    """A read that blocks fails the test after a few seconds instead of hanging it."""
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def boom(signum, frame):
        raise TimeoutError("blocked")

    old = signal.signal(signal.SIGALRM, boom)
    signal.alarm(10)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


# --------------------------------------------------------------------------- quoting


def test_quoted_cuts_a_huge_cell_and_says_how_long_it_was():
    text = quoted("x" * 5_000_000)
    assert text.startswith("'xxx") and "… (5,000,000 characters)" in text and len(text) < 100
    assert quoted("5.06%") == "'5.06%'" and quoted(5) == "5" and quoted(True) == "True"
    assert len(quoted(list(range(10**5)))) < 100


def test_quoted_list_shows_a_dozen_names_and_counts_the_rest():
    shown = quoted_list([f"x{i}" for i in range(10_000)])
    assert shown.startswith("['x0', 'x1'") and "… 9,988 more]" in shown and len(shown) < 200
    assert quoted_list(["date", "close"]) == "['date', 'close']"


# --------------------------------------------------------------------------- what sits at a path


@posix
@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (os.mkfifo, "is a FIFO (named pipe), not a regular file"),
        (os.mkdir, "is a directory, not a regular file"),
        (lambda p: p.symlink_to("/dev/null"), "is a character device"),
        (lambda p: p.symlink_to(p.name), "is a symlink loop"),
        (lambda p: p.symlink_to(p.parent / "gone.csv"), "gone.csv, which does not exist"),
        (lambda p: socket.socket(socket.AF_UNIX).bind(str(p)), "is a socket"),
    ],
    ids=["fifo", "directory", "device", "loop", "dangling", "socket"],
)
def test_what_is_not_a_regular_file_is_named_and_never_opened(tmp_path, no_hang, make, expected):
    path = tmp_path / "XSO.csv"
    make(path)
    assert expected in problem_at(path)
    with pytest.raises(DataError) as err:
        read_bytes(path)
    assert str(path) in str(err.value) and expected in str(err.value)


@posix
def test_a_symlink_to_a_regular_file_is_read(tmp_path):
    (tmp_path / "real.csv").write_bytes(b"date,close\n")
    (tmp_path / "XSO.csv").symlink_to(tmp_path / "real.csv")
    assert problem_at(tmp_path / "XSO.csv") is None
    assert read_bytes(tmp_path / "XSO.csv") == b"date,close\n"


def test_a_file_above_the_limit_is_refused_unread(tmp_path):
    path = tmp_path / "XSO.csv"
    with open(path, "wb") as f:
        f.truncate(3 * 2**20)  # sparse: nothing is written, nothing need be read
    with pytest.raises(DataError, match=r"is 3 MB, larger than the 1 MB"):
        read_bytes(path, limit=2**20)
    assert len(read_bytes(path)) == 3 * 2**20


def test_a_missing_file_says_so(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        read_bytes(tmp_path / "nope.csv")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads anything")
def test_an_unreadable_file_says_permission_denied(tmp_path):
    path = tmp_path / "XSO.csv"
    path.write_text("date,close\n")
    path.chmod(0)
    with pytest.raises(DataError, match="permission denied"):
        read_bytes(path)


# --------------------------------------------------------------------------- what the bytes are


CSV = "Date,Close\n2019-03-15,5.06\n"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "the file is empty"),
        (b"\xef\xbb\xbf \n", "the file is empty"),
        (CSV.encode("utf-16"), "is UTF-16 text"),
        (b"\xfe\xff" + CSV.encode("utf-16-be"), "is UTF-16 text"),
        (CSV.encode("utf-16-le"), "is UTF-16 text (no byte-order mark)"),
        (CSV.encode("utf-32"), "is UTF-32 text"),
        (b"\0" * 100, "is binary (it holds NUL bytes)"),
        (CSV.encode() * 300 + b"\0", "is binary (it holds NUL bytes)"),
        (bytes(range(1, 32)) * 10, "control bytes), not CSV text"),
        (b"PAR1\0\0", "is a Parquet file, not CSV text; rename it to XSO.parquet"),
        (gzip.compress(CSV.encode()), "is gzip-compressed"),
        (b"PK\x03\x04rest", "is a zip archive (an Excel .xlsx workbook is one)"),
        (b"\xd0\xcf\x11\xe0rest", "is an Excel .xls workbook"),
    ],
)
def test_bytes_that_are_not_csv_text_say_what_they_are(tmp_path, data, expected):
    with pytest.raises(DataError) as err:
        decode(data, tmp_path / "XSO.csv")
    assert str(tmp_path / "XSO.csv") in str(err.value) and expected in str(err.value)
    if "empty" not in expected and "Parquet" not in expected and "gzip" not in expected:
        assert "comma-separated CSV in UTF-8" in str(err.value)


def test_utf8_with_a_byte_order_mark_and_windows_1252_are_read(tmp_path):
    assert decode(b"\xef\xbb\xbf" + CSV.encode(), tmp_path / "a.csv") == CSV
    assert decode("Date,Close €\n".encode("cp1252"), tmp_path / "a.csv") == "Date,Close €\n"


@pytest.mark.parametrize(
    ("sep", "name"), [(";", "semicolons"), ("\t", "tabs"), ("|", "vertical bars")]
)
def test_a_header_split_by_another_separator_is_named(tmp_path, sep, name):
    with pytest.raises(DataError) as err:
        datafiles.separator_problem(f"Date{sep}Close", tmp_path / "XSO.csv")
    assert f"separated by {name}" in str(err.value) and "comma-separated" in str(err.value)
    datafiles.separator_problem("Date,Close", tmp_path / "XSO.csv")  # commas: fine
    datafiles.separator_problem("Date", tmp_path / "XSO.csv")  # one column: the reader's to judge


def test_csv_named_parquet_and_a_broken_parquet_are_named(tmp_path):
    with pytest.raises(DataError, match=r"not a Parquet file \(it starts like CSV text: rename it"):
        read_parquet(CSV.encode(), tmp_path / "XSO.parquet")
    whole = tmp_path / "whole.parquet"
    pd.DataFrame({"date": ["2019-03-15"], "close": [5.06]}).to_parquet(whole)
    data = whole.read_bytes()
    with pytest.raises(DataError, match="could not be read as Parquet"):
        read_parquet(data[: len(data) // 2] + b"PAR1", tmp_path / "XSO.parquet")
    assert read_parquet(data, whole)["close"].tolist() == [5.06]
