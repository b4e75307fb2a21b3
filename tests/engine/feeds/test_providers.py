"""Providers and the cache, offline: recorded responses from a loopback HTTP server, a fake yfinance.

Every failure path checks that the previous cache is left byte for byte as it was.
"""

from __future__ import annotations

import inspect
import json
import socket
import sys
import types
from pathlib import Path

import pandas as pd
import pytest
from werkzeug.wrappers import Response

from engine.errors import DataError
from engine.feeds import cache, providers
from engine.feeds.instruments import load_instruments
from engine.feeds.marketdata import load_folder

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "providers"
INST = load_instruments()
DAY = pd.Timestamp


@pytest.fixture
def endpoints(httpserver):
    base = httpserver.url_for("/").rstrip("/")
    return providers.Endpoints(
        fred=base, rba=base, yahoo=base, timeout=5, connect_timeout=2, backoff=0
    )


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    """The tests' own environment names no proxy (a proxy test sets one itself)."""
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)


def _serve(httpserver, path: str, name: str, **query):
    body = (FIXTURES / name).read_bytes()
    kw = {"query_string": query} if query else {}
    httpserver.expect_request(path, **kw).respond_with_data(body, content_type="text/csv")


def _job(key: str, source: str) -> providers.Job:
    return providers.Job(INST[key], source, INST[key].providers[source])


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture
def fake_yfinance(monkeypatch):
    """A stand-in ``yfinance`` module whose Ticker.history returns the recorded frame."""
    calls: list[tuple[str, dict]] = []
    state = {"error": None}

    class Ticker:
        def __init__(self, symbol):
            self.symbol = symbol

        def history(self, **kwargs):
            calls.append((self.symbol, kwargs))
            if state["error"] is not None:
                raise state["error"]
            frame = pd.read_csv(FIXTURES / "yahoo_RUT_history.csv", index_col="Date")
            frame.index = pd.to_datetime(frame.index, utc=True).tz_convert("America/New_York")
            return frame

    monkeypatch.setitem(sys.modules, "yfinance", types.SimpleNamespace(Ticker=Ticker))
    return calls, state


# --------------------------------------------------------------------------- plan


def test_plan_takes_the_first_listed_source_or_the_one_asked_for():
    jobs = providers.plan(["US10Y", "AUDUSD", "RBA_CASH"], INST)
    assert [(j.source, j.symbol) for j in jobs] == [
        ("fred", "DGS10"),
        ("yahoo", "AUDUSD=X"),
        ("rba", "F1:FIRMMCRTD"),
    ]
    assert providers.plan(["US10Y"], INST, source="yahoo")[0].symbol == "^TNX"
    assert {j.inst.key for j in providers.plan([], INST)} == set(INST)


@pytest.mark.parametrize(
    ("keys", "source", "expected"),
    [
        (["RUTT"], None, "Did you mean 'RUT'?"),
        (["RUT"], "yahooo", "Did you mean 'yahoo'?"),
        (["RUT"], "fred", "RUT: no fred symbol"),
    ],
)
def test_plan_errors(keys, source, expected):
    with pytest.raises(DataError, match=expected.replace("?", r"\?")):
        providers.plan(keys, INST, source)


# --------------------------------------------------------------------------- downloads


def test_fred_download_is_cached_with_a_sidecar(httpserver, endpoints, tmp_path):
    _serve(httpserver, "/graph/fredgraph.csv", "fred_DFEDTARU.csv", id="DFEDTARU")
    (out,) = providers.fetch([_job("FED_TARGET", "fred")], None, None, tmp_path, endpoints)
    assert out.ok, out.message
    meta = json.loads((tmp_path / "FED_TARGET.json").read_text())
    assert meta["source"] == "fred" and meta["symbol"] == "DFEDTARU"
    assert meta["url"].endswith("/graph/fredgraph.csv?id=DFEDTARU")
    assert (meta["rows"], meta["first"], meta["last"]) == (7, "2025-09-14", "2025-09-20")
    assert meta["fetched_at"].endswith("Z") and len(meta["sha256"]) == 64
    assert cache.meta(tmp_path, "FED_TARGET")["consistent"] is True
    series = load_folder(tmp_path, ["FED_TARGET"])["FED_TARGET"]
    assert series.values.loc["2025-09-17":"2025-09-18"].tolist() == [4.5, 4.25]
    assert series.sha256 == meta["sha256"]


def test_fred_dates_are_sent_and_dots_skipped(httpserver, endpoints, tmp_path):
    query = {"id": "DGS10", "cosd": "2025-01-14", "coed": "2025-01-22"}
    _serve(httpserver, "/graph/fredgraph.csv", "fred_DGS10.csv", **query)
    job = _job("US10Y", "fred")
    (out,) = providers.fetch([job], DAY("2025-01-14"), DAY("2025-01-22"), tmp_path, endpoints)
    assert out.ok, out.message
    frame = pd.read_parquet(tmp_path / "US10Y.parquet")
    assert list(frame.columns) == ["date", "value"] and len(frame) == 6  # 2025-01-20 is "."


def test_rba_table_is_trimmed_to_the_window(httpserver, endpoints, tmp_path):
    _serve(httpserver, "/statistics/tables/csv/f1-data.csv", "rba_f1-data.csv")
    job = _job("RBA_CASH", "rba")
    (out,) = providers.fetch([job], DAY("2025-09-30"), DAY("2025-10-31"), tmp_path, endpoints)
    assert out.ok, out.message
    frame = pd.read_parquet(tmp_path / "RBA_CASH.parquet")
    assert frame["date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2025-09-30",
        "2025-10-01",
        "2025-10-02",
    ]


def test_yahoo_through_yfinance(fake_yfinance, endpoints, tmp_path):
    calls, _ = fake_yfinance
    job = _job("RUT", "yahoo")
    (out,) = providers.fetch([job], DAY("2025-09-15"), DAY("2025-09-19"), tmp_path, endpoints)
    assert out.ok, out.message
    symbol, kwargs = calls[0]
    assert symbol == "^RUT"
    assert kwargs["start"] == "2025-09-15" and kwargs["end"] == "2025-09-20"  # end is exclusive
    assert kwargs["auto_adjust"] is False and kwargs["actions"] is False
    series = load_folder(tmp_path, ["RUT"])["RUT"]
    assert series.values.loc["2025-09-17":"2025-09-18"].tolist() == [2407.34, 2467.70]
    assert json.loads((tmp_path / "RUT.json").read_text())["url"] == "yfinance:^RUT"
    providers.fetch([job], None, None, tmp_path, endpoints)
    assert calls[1][1]["period"] == "max" and "start" not in calls[1][1]


def test_real_yfinance_accepts_the_arguments_used():
    yfinance = pytest.importorskip("yfinance")
    params = inspect.signature(yfinance.Ticker.history).parameters
    if list(params) == ["self", "args", "kwargs"]:  # a thin wrapper: look one level down
        from yfinance.scrapers.history import PriceHistory

        params = inspect.signature(PriceHistory.history).parameters
    assert {"interval", "start", "end", "period", "auto_adjust", "actions", "raise_errors"} <= set(
        params
    )


# --------------------------------------------------------------------------- failures


@pytest.fixture
def cached(httpserver, endpoints, tmp_path):
    """A cache already holding FED_TARGET (7 rows) from an earlier fetch."""
    _serve(httpserver, "/graph/fredgraph.csv", "fred_DFEDTARU.csv", id="DFEDTARU")
    (out,) = providers.fetch([_job("FED_TARGET", "fred")], None, None, tmp_path, endpoints)
    assert out.ok
    httpserver.clear()
    return _snapshot(tmp_path)


def _refetch(endpoints, tmp_path, before, *expected):
    (out,) = providers.fetch([_job("FED_TARGET", "fred")], None, None, tmp_path, endpoints)
    assert not out.ok
    for part in (*expected, "previous cache, if any, is unchanged"):
        assert part in out.message, (part, out.message)
    assert _snapshot(tmp_path) == before
    return out


def test_http_error_keeps_the_cache(httpserver, endpoints, tmp_path, cached):
    httpserver.expect_request("/graph/fredgraph.csv").respond_with_data("gone", status=404)
    _refetch(endpoints, tmp_path, cached, "HTTP 404", "fredgraph.csv?id=DFEDTARU")


def test_body_cut_short_keeps_the_cache(httpserver, endpoints, tmp_path, cached):
    def short(_request):
        resp = Response(b"observation_date,DFEDTARU\n2025-09-14,4.50\n", content_type="text/csv")
        resp.headers["Content-Length"] = "4000"
        resp.automatically_set_content_length = False
        return resp

    httpserver.expect_request("/graph/fredgraph.csv").respond_with_handler(short)
    _refetch(endpoints, tmp_path, cached, "cut short")


def test_shrinking_download_is_refused_as_partial(httpserver, endpoints, tmp_path, cached):
    body = b"observation_date,DFEDTARU\n2025-09-14,4.50\n2025-09-15,4.50\n"
    httpserver.expect_request("/graph/fredgraph.csv").respond_with_data(body)
    _refetch(endpoints, tmp_path, cached, "2025-09-14..2025-09-15", "a partial download?")


def test_invalid_download_is_refused(httpserver, endpoints, tmp_path, cached):
    body = b"observation_date,DFEDTARU\n2024-09-14,0.05\n2025-09-20,0.0425\n"
    httpserver.expect_request("/graph/fredgraph.csv").respond_with_data(body)
    _refetch(endpoints, tmp_path, cached, "looks like a fraction")


def test_unparseable_download_is_refused(httpserver, endpoints, tmp_path, cached):
    httpserver.expect_request("/graph/fredgraph.csv").respond_with_data("<html>maintenance</html>")
    _refetch(endpoints, tmp_path, cached, "fred:DFEDTARU")


def test_yfinance_error_keeps_the_cache(fake_yfinance, endpoints, tmp_path):
    _, state = fake_yfinance
    providers.fetch([_job("RUT", "yahoo")], None, None, tmp_path, endpoints)
    before = _snapshot(tmp_path)
    state["error"] = RuntimeError("YFTzMissingError: possibly delisted")
    (out,) = providers.fetch([_job("RUT", "yahoo")], None, None, tmp_path, endpoints)
    assert not out.ok and "Yahoo ^RUT: download failed" in out.message
    assert "possibly delisted" in out.message and _snapshot(tmp_path) == before


def test_one_failure_does_not_stop_the_others(httpserver, endpoints, fake_yfinance, tmp_path):
    httpserver.expect_request("/graph/fredgraph.csv").respond_with_data("gone", status=500)
    jobs = [_job("FED_TARGET", "fred"), _job("RUT", "yahoo")]
    done = []
    outcomes = providers.fetch(jobs, None, None, tmp_path, endpoints, on_done=done.append)
    assert [o.ok for o in outcomes] == [False, True] and done == outcomes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["RUT.json", "RUT.parquet"]


def test_offline_fails_fast_naming_the_host(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again on exit: nothing listens there
    ep = providers.Endpoints(fred=f"http://127.0.0.1:{port}", connect_timeout=2)
    with pytest.raises(DataError) as err:
        providers.fetch([_job("FED_TARGET", "fred")], None, None, tmp_path / "cache", ep)
    assert f"cannot reach 127.0.0.1:{port}" in str(err.value)
    assert "nothing was downloaded" in str(err.value) and not (tmp_path / "cache").exists()


def test_a_5xx_or_429_answer_is_tried_again_and_then_accepted(httpserver, endpoints, tmp_path):
    httpserver.expect_oneshot_request("/graph/fredgraph.csv").respond_with_data("busy", status=503)
    httpserver.expect_oneshot_request("/graph/fredgraph.csv").respond_with_data("slow", status=429)
    _serve(httpserver, "/graph/fredgraph.csv", "fred_DFEDTARU.csv")
    (out,) = providers.fetch([_job("FED_TARGET", "fred")], None, None, tmp_path, endpoints)
    assert out.ok, out.message
    assert len(httpserver.log) == 3


def test_retries_back_off_1_2_4_seconds_and_the_error_names_the_host(
    httpserver, endpoints, tmp_path, monkeypatch
):
    slept = []
    monkeypatch.setattr(providers.time, "sleep", slept.append)
    httpserver.expect_request("/graph/fredgraph.csv").respond_with_data("down", status=502)
    ep = providers.Endpoints(**{**endpoints.__dict__, "backoff": 1.0})
    (out,) = providers.fetch([_job("FED_TARGET", "fred")], None, None, tmp_path, ep)
    assert not out.ok and slept == [1.0, 2.0, 4.0] and len(httpserver.log) == 4
    host = f"{httpserver.host}:{httpserver.port}"
    assert out.message.startswith(f"{host}: HTTP 502") and "after 4 tries" in out.message


def test_a_4xx_answer_is_not_tried_again(httpserver, endpoints, tmp_path):
    httpserver.expect_request("/graph/fredgraph.csv").respond_with_data("gone", status=404)
    (out,) = providers.fetch([_job("FED_TARGET", "fred")], None, None, tmp_path, endpoints)
    assert not out.ok and "HTTP 404" in out.message and len(httpserver.log) == 1


def test_a_proxy_in_the_environment_carries_the_download(httpserver, tmp_path, monkeypatch):
    # The loopback server stands in for the proxy: the provider's own host does not exist, so
    # neither the reachability check nor the download may try to reach it directly.
    _serve(httpserver, "/graph/fredgraph.csv", "fred_DFEDTARU.csv", id="DFEDTARU")
    monkeypatch.setenv("HTTP_PROXY", httpserver.url_for("/").rstrip("/"))
    ep = providers.Endpoints(fred="http://fred.invalid", connect_timeout=2, timeout=5, backoff=0)
    (out,) = providers.fetch([_job("FED_TARGET", "fred")], None, None, tmp_path, ep)
    assert out.ok, out.message
    (request, _), *_ = httpserver.log
    assert request.headers["Host"] == "fred.invalid"


def test_an_unreachable_proxy_is_named(tmp_path, monkeypatch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{port}")
    ep = providers.Endpoints(fred="https://fred.invalid", connect_timeout=2)
    with pytest.raises(DataError) as err:
        providers.fetch([_job("FED_TARGET", "fred")], None, None, tmp_path / "cache", ep)
    assert f"cannot reach the proxy 127.0.0.1:{port} for fred.invalid" in str(err.value)


def test_no_proxy_bypasses_the_proxy(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    assert providers.proxy_for("https://fred.stlouisfed.org") == "http://proxy.example:3128"
    monkeypatch.setenv("NO_PROXY", "stlouisfed.org")
    assert providers.proxy_for("https://fred.stlouisfed.org") is None


def test_endpoints_from_the_environment(monkeypatch):
    monkeypatch.setenv("CROSSCURRENT_FRED_URL", "http://127.0.0.1:9/")
    ep = providers.Endpoints.from_env()
    assert ep.fred == "http://127.0.0.1:9" and ep.rba == "https://www.rba.gov.au"


# --------------------------------------------------------------------------- the cache itself


def _frame():
    return pd.DataFrame(
        {"date": pd.to_datetime(["2025-09-17", "2025-09-18"]), "value": [4.5, 4.25]}
    )


def test_store_is_atomic_when_writing_fails(tmp_path, monkeypatch):
    cache.store(tmp_path, "FED_TARGET", _frame(), {"source": "fred", "symbol": "DFEDTARU"})
    before = _snapshot(tmp_path)

    def broken(self, path, **kwargs):
        Path(path).write_bytes(b"half a parquet file")
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", broken)
    with pytest.raises(OSError, match="disk full"):
        cache.store(tmp_path, "FED_TARGET", _frame(), {"source": "fred", "symbol": "DFEDTARU"})
    assert _snapshot(tmp_path) == before  # no temporary files left either


def test_meta_detects_a_parquet_that_does_not_match_its_sidecar(tmp_path):
    cache.store(tmp_path, "FED_TARGET", _frame(), {"source": "fred", "symbol": "DFEDTARU"})
    assert [e["key"] for e in cache.entries(tmp_path)] == ["FED_TARGET"]
    _frame().iloc[:1].to_parquet(tmp_path / "FED_TARGET.parquet", index=False)
    assert cache.meta(tmp_path, "FED_TARGET")["consistent"] is False
    assert cache.meta(tmp_path, "RUT") is None


# --------------------------------------------------------------------------- symbols in URLs (issue 14)


@pytest.mark.parametrize(
    ("source", "symbol"),
    [
        ("rba", "../../../../admin/delete?all=1&x=#"),
        ("rba", "F1%2F..:FIRMMCRTD"),
        ("fred", "DFF&api_key=1"),
        ("yahoo", "../v8/finance"),
    ],
)
def test_a_symbol_outside_its_pattern_never_reaches_the_host(
    httpserver, endpoints, fake_yfinance, tmp_path, source, symbol
):
    httpserver.expect_request("/").respond_with_data("")  # anything that arrives is logged
    key = {"rba": "RBA_CASH", "fred": "FED_TARGET", "yahoo": "RUT"}[source]
    job = providers.Job(INST[key], source, symbol)
    (out,) = providers.fetch([job], None, None, tmp_path, endpoints)
    assert not out.ok and f"providers.{source}" in out.message and symbol in out.message
    assert httpserver.log == [] and fake_yfinance[0] == [] and list(tmp_path.iterdir()) == []


def test_a_dotted_rba_table_id_names_its_file(httpserver, endpoints, tmp_path):
    _serve(httpserver, "/statistics/tables/csv/f1.1-data.csv", "rba_f1-data.csv")
    job = providers.Job(INST["RBA_CASH"], "rba", "F1.1:FIRMMCRTD")
    (out,) = providers.fetch([job], DAY("2025-09-30"), DAY("2025-10-31"), tmp_path, endpoints)
    assert out.ok, out.message
    assert out.meta["url"].endswith("/statistics/tables/csv/f1.1-data.csv")


def test_a_folder_cannot_point_a_download_elsewhere(tmp_path):
    (tmp_path / "instruments.toml").write_text(
        '[RBA_CASH]\nname = "x"\nkind = "rate"\ncurrency = "AUD"\ncalendar = "weekdays"\n'
        'tz = "Australia/Sydney"\nknown = "D+1 24:00"\n'
        'providers = { rba = "../../../../admin/delete?all=1&x=#" }\n',
        encoding="utf-8",
    )
    with pytest.raises(DataError) as err:
        load_instruments(overrides=tmp_path / "instruments.toml")
    assert "[RBA_CASH]: providers.rba = '../../../../admin/delete?all=1&x=#'" in str(err.value)
    assert "TABLE:SERIES" in str(err.value)


def test_a_sidecar_of_the_wrong_shape_or_no_regular_file_is_inconsistent(tmp_path):
    frame = pd.DataFrame({"date": pd.to_datetime(["2025-09-15"]), "value": [4.5]})
    meta = cache.store(tmp_path, "FED_TARGET", frame, {"source": "fred", "symbol": "X"})
    meta.update(fetched_at="2025-09-20T00:00:00Z", url="u")
    side = tmp_path / "FED_TARGET.json"
    side.write_text(json.dumps(meta), encoding="utf-8")
    assert cache.meta(tmp_path, "FED_TARGET")["consistent"] is True
    side.write_text(json.dumps({**meta, "rows": "7"}), encoding="utf-8")
    assert cache.meta(tmp_path, "FED_TARGET")["consistent"] is False
    side.write_text("[1, 2]", encoding="utf-8")
    assert cache.meta(tmp_path, "FED_TARGET")["consistent"] is False
    side.write_text(json.dumps(meta), encoding="utf-8")
    (tmp_path / "FED_TARGET.parquet").unlink()
    (tmp_path / "FED_TARGET.parquet").symlink_to("/dev/zero")  # never read
    assert cache.meta(tmp_path, "FED_TARGET")["consistent"] is False
