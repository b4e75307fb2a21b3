"""``backtest data validate | fetch | list`` in-process, and the bad-input list of issue 3 end to end:
each ends with exit 2, a one-line message naming the input and the fix, and nothing half-written."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from engine import paths
from engine.cli.main import app
from engine.feeds.marketdata import describe_folder

runner = CliRunner()
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "providers"
FLAGSHIP = ["RUT", "XSO", "XJO", "AUDUSD", "FED_TARGET", "RBA_CASH", "US10Y"]


def _run(*args: str, **env: str):
    return runner.invoke(app, list(args), env={"COLUMNS": "200", **env})


def _sample_copy(folder: Path, keys=FLAGSHIP) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for key in keys:
        shutil.copyfile(paths.sample_dir() / f"{key}.csv", folder / f"{key}.csv")
    return folder


# --------------------------------------------------------------------------- validate


def test_validate_the_sample_passes():
    result = _run("data", "validate", str(paths.sample_dir()))
    assert result.exit_code == 0, result.output
    assert "RUT.csv [RUT] plain layout, 2000-01-03 .. 2025-12-31, 6539 rows: ok" in result.output
    assert "no errors in 7 file(s)" in result.output


def test_validate_reports_one_line_per_problem_and_exits_2(tmp_path):
    folder = _sample_copy(tmp_path / "d", ["XJO", "FED_TARGET"])
    text = (folder / "XJO.csv").read_text()
    last = text.rstrip("\n").rsplit("\n", 1)[1]
    text += last.replace("2025-12-31", "2026-01-26") + "\n"  # Australia Day: ASX shut
    (folder / "XJO.csv").write_text(text.replace("\n2000-01-05,", "\n2000-01-05,-", 1))
    result = _run("data", "validate", str(folder))
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert any(
        "error:" in ln
        and f"{folder / 'XJO.csv'}: row 3, column open: -" in ln
        and "is not a positive finite number; fix or remove the row" in ln
        for ln in lines
    ), result.output
    assert any("row 6581 (date 2026-01-26) is not a XASX session" in ln for ln in lines)
    assert "FED_TARGET.csv [FED_TARGET]" in result.output and ": ok" in result.output
    assert "2 error(s) in 1 file(s)" in result.output


def test_validate_limits_repeated_findings(tmp_path):
    folder = tmp_path / "d"
    folder.mkdir()
    rows = "".join(f"2024-01-{d:02d},1\n" for d in (6, 7, 13, 14, 20, 21))  # weekends
    (folder / "AUDUSD.csv").write_text("date,close\n" + rows)
    result = _run("data", "validate", str(folder), "--limit", "2")
    assert result.exit_code == 0, result.output
    assert result.output.count("on a weekdays calendar") == 2
    assert "and 4 more weekend finding(s)" in result.output


def test_validate_one_raw_file_with_a_key(tmp_path):
    raw = tmp_path / "downloaded.csv"
    raw.write_text("Date,Close,High,Low,Open,Volume\n2024-12-23,1,1,1,1,0\n2024-12-24,null,,,,\n")
    result = _run("data", "validate", str(raw), "--key", "XSO")
    assert result.exit_code == 0, result.output
    assert "yahoo layout" in result.output and "skipped 1 row(s)" in result.output
    result = _run("data", "validate", str(raw))
    assert result.exit_code == 2
    assert "'downloaded' is not a key" in result.output and "--key" in result.output


def test_validate_lists_what_a_strategy_is_missing(tmp_path):
    folder = _sample_copy(tmp_path / "d", ["XJO"])
    result = _run("data", "validate", str(folder), "--strategy", "russell-fed-rotation")
    assert result.exit_code == 2
    assert "russell-fed-rotation needs" in result.output
    assert "RUT" in result.output and "XSO" in result.output


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("XSO.csv", "", "could not be read: the file is empty"),
        ("XSO.csv", "when,close\n2024-12-23,1\n", "no 'date' column"),
        ("XSO.csv", "date,close\n2024-12-23,1\n12/24/2024,1\n", "mixes formats"),
        (
            "FED_TARGET.csv",
            "date,value\n2007-01-02,0.0525\n2008-12-31,0.0025\n",
            "looks like a fraction",
        ),
    ],
)
def test_validate_bad_files(tmp_path, name, text, expected):
    (tmp_path / name).write_text(text)
    result = _run("data", "validate", str(tmp_path))
    assert result.exit_code == 2 and expected in result.output, result.output


def test_validate_missing_path(tmp_path):
    result = _run("data", "validate", str(tmp_path / "nope"))
    assert result.exit_code == 2 and "does not exist" in result.output


# --------------------------------------------------------------------------- run refuses


def test_run_refuses_a_folder_with_errors_and_writes_nothing(tmp_path):
    folder = _sample_copy(tmp_path / "d")
    with (folder / "XSO.csv").open("a") as f:
        f.write("2025-12-31,1,1,1,1\n")
    out = tmp_path / "results"
    result = _run("run", "russell-fed-rotation", "--data-dir", str(folder), "--out", str(out))
    assert result.exit_code == 2
    assert "XSO.csv: row 6581 (date 2025-12-31) is duplicated" in result.output
    assert "Traceback" not in result.output
    assert not out.exists() or not [p for p in out.iterdir() if not p.name.startswith(".")]


def test_run_names_every_missing_instrument(tmp_path):
    folder = _sample_copy(tmp_path / "d", ["XJO", "RBA_CASH"])
    shutil.copyfile(paths.sample_dir() / "RUT.csv", folder / "rut.csv")
    result = _run("run", "russell-fed-rotation", "--data-dir", str(folder))
    assert result.exit_code == 2
    assert "missing data for" in result.output and "XSO" in result.output
    assert "rut.csv -> RUT.csv" in result.output


# --------------------------------------------------------------------------- fetch and list


def _serve_fred(httpserver):
    body = (FIXTURES / "fred_DFEDTARU.csv").read_bytes()
    httpserver.expect_request("/graph/fredgraph.csv").respond_with_data(body)
    return httpserver.url_for("/").rstrip("/")


def test_fetch_then_list(httpserver, tmp_path):
    base = _serve_fred(httpserver)
    out = tmp_path / "cache"
    result = _run("data", "fetch", "FED_TARGET", "--out", str(out), CROSSCURRENT_FRED_URL=base)
    assert result.exit_code == 0, result.output
    assert "ok 7 rows 2025-09-14..2025-09-20" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["FED_TARGET.json", "FED_TARGET.parquet"]
    listed = _run("data", "list", "--data-dir", str(out))
    assert listed.exit_code == 0, listed.output
    assert "fred DFEDTARU" in listed.output and f"data-dir: {out} (1 file(s))" in listed.output
    assert "sample: " in listed.output


def test_fetch_failure_exits_2_and_names_the_key(httpserver, tmp_path):
    httpserver.expect_request("/graph/fredgraph.csv").respond_with_data("no", status=404)
    base = httpserver.url_for("/").rstrip("/")
    result = _run("data", "fetch", "US10Y", "--out", str(tmp_path), CROSSCURRENT_FRED_URL=base)
    assert result.exit_code == 2
    assert "1 of 1 download(s) failed: US10Y (fred DGS10)" in result.output
    assert list(tmp_path.iterdir()) == []


def test_fetch_offline_names_the_host(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    result = _run("data", "fetch", "FED_TARGET", "--out", str(tmp_path), CROSSCURRENT_FRED_URL=url)
    assert result.exit_code == 2 and f"cannot reach 127.0.0.1:{port}" in result.output


def test_fetch_through_the_environments_proxy(httpserver, tmp_path):
    # The loopback server plays the proxy; the provider's host does not exist (.invalid), so the
    # fetch only works when both the reachability check and the download go through the proxy.
    _serve_fred(httpserver)
    proxy = httpserver.url_for("/").rstrip("/")
    env = {"HTTP_PROXY": proxy, "http_proxy": None, "NO_PROXY": None, "no_proxy": None}
    result = _run("data", "fetch", "FED_TARGET", "--out", str(tmp_path), "--format", "json",
                  CROSSCURRENT_FRED_URL="http://fred.invalid", **env)  # fmt: skip
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert row["ok"] and row["rows"] == 7 and row["key"] == "FED_TARGET"
    assert httpserver.log[0][0].headers["Host"] == "fred.invalid"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["XS0"], "Did you mean 'XSO'?"),
        (["RUT", "--source", "rba"], "RUT: no rba symbol"),
        (["RUT", "--start", "someday"], "--start 'someday' is not a date"),
    ],
)
def test_fetch_bad_arguments(tmp_path, args, expected):
    result = _run("data", "fetch", *args, "--out", str(tmp_path))
    assert result.exit_code == 2 and expected in result.output, result.output


def test_describe_folder_reports_ranges():
    rows = {r["key"]: r for r in describe_folder(paths.sample_dir())}
    assert set(rows) == set(FLAGSHIP)
    assert (rows["RUT"]["rows"], rows["RUT"]["first"], rows["RUT"]["last"]) == (
        6539,
        "2000-01-03",
        "2025-12-31",
    )
    assert rows["RUT"]["source"] == "plain"
