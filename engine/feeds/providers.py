"""Downloading real data into the cache: Yahoo (through ``yfinance``), FRED (its CSV download, no API
key) and the RBA's statistical tables (CSV).

This logic lives here, in order:

1. plan: each key -> (source, symbol) from its instrument's ``providers`` (the first listed, or the
   one ``source`` names); unknown keys get a suggestion;
2. reachability: every host the plan needs is tried first (a TCP connect of a few seconds) - or,
   when the environment names a proxy for it (``HTTPS_PROXY``/``HTTP_PROXY``, not bypassed by
   ``NO_PROXY``), that proxy; when one cannot be reached nothing is downloaded and the error names
   the host (and the proxy);
3. download each key: FRED and the RBA over HTTP with ``urllib`` through the environment's proxies;
   a connection error, a cut-short body or an HTTP 429/5xx answer is tried again ``retries`` times
   after ``backoff`` seconds, doubled each time (1, 2, 4 s), and a failure names the host; any
   other HTTP error fails that key at once; Yahoo through ``yfinance``, imported only here;
4. read the response with the data folder's own tolerant readers, trim it to ``start``/``end`` and
   check it with the validator: an error, or a download that would shrink what the cache already
   holds, refuses that key;
5. ``cache.store`` writes each accepted key atomically; a refused key keeps its previous cache.

Base URLs come from ``Endpoints`` (``CROSSCURRENT_FRED_URL``, ``CROSSCURRENT_RBA_URL``,
``CROSSCURRENT_YAHOO_URL``; yfinance talks to Yahoo itself, so the Yahoo URL only names the host to
check), which is how tests serve recorded responses from a loopback server. Not here: the cache's
files (``cache``), progress bars and printing (``cli_data``).
"""

from __future__ import annotations

import dataclasses
import http.client
import os
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from engine.errors import DataError, did_you_mean
from engine.feeds import cache, readers, validate
from engine.feeds.instruments import SYMBOLS, Instrument, check_symbol, get_instrument

SOURCES = tuple(SYMBOLS)  # yahoo, fred, rba
USER_AGENT = "crosscurrent/0.1 (backtest data fetch)"


@dataclass(frozen=True)
class Endpoints:
    """Where each provider lives; ``timeout`` per download and ``connect_timeout`` per host check."""

    fred: str = "https://fred.stlouisfed.org"
    rba: str = "https://www.rba.gov.au"
    yahoo: str = "https://query2.finance.yahoo.com"
    timeout: float = 60.0
    connect_timeout: float = 5.0
    retries: int = 3  # tries after the first, on a connection error or an HTTP 429/5xx answer
    backoff: float = 1.0  # seconds before the first of them, doubled each time

    @classmethod
    def from_env(cls) -> Endpoints:
        env = {s: os.environ.get(f"CROSSCURRENT_{s.upper()}_URL") for s in SOURCES}
        return cls(**{s: url.rstrip("/") for s, url in env.items() if url})

    def base(self, source: str) -> str:
        return getattr(self, source)


@dataclass(frozen=True)
class Job:
    """One key to fetch: its instrument, the source and the provider's symbol."""

    inst: Instrument
    source: str
    symbol: str

    @property
    def label(self) -> str:
        return f"{self.inst.key} ({self.source} {self.symbol})"


@dataclass(frozen=True)
class Outcome:
    """What happened to one job: ``ok`` with the sidecar written, or the reason it was refused."""

    job: Job
    ok: bool
    message: str
    meta: dict = field(default_factory=dict)


def plan(
    keys: list[str], instruments: dict[str, Instrument], source: str | None = None
) -> list[Job]:
    """Jobs for ``keys`` (all instruments with a provider when empty)."""
    if source is not None and source not in SOURCES:
        raise DataError(
            f"unknown source {source!r}.{did_you_mean(source, SOURCES)} Use one of {', '.join(SOURCES)}."
        )
    keys = keys or [k for k, inst in instruments.items() if inst.providers]
    jobs = []
    for key in keys:
        inst = get_instrument(instruments, key)
        choices = {s: sym for s, sym in inst.providers.items() if s in SOURCES}
        if source is not None:
            choices = {source: choices[source]} if source in choices else {}
        if not choices:
            have = ", ".join(inst.providers) or "none"
            raise DataError(
                f"{key}: no {source or 'download'} symbol in instruments.toml (providers: {have}); "
                f'add e.g. providers = {{ yahoo = "SYMBOL" }} to [{key}].'
            )
        src, symbol = next(iter(choices.items()))
        jobs.append(Job(inst, src, symbol))
    if not jobs:
        raise DataError("no instrument has a download source; add providers to instruments.toml.")
    return jobs


def proxy_for(url: str) -> str | None:
    """The proxy the environment names for ``url`` (as ``urllib`` will use it), or None."""
    parts = urllib.parse.urlsplit(url)
    if parts.hostname and urllib.request.proxy_bypass(parts.hostname):
        return None
    return urllib.request.getproxies().get(parts.scheme) or None


def _address(url: str) -> tuple[str, int]:
    parts = urllib.parse.urlsplit(url if "://" in url else f"http://{url}")
    return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


def check_reachable(jobs: list[Job], ep: Endpoints) -> None:
    """Fail fast, before any download, naming every host (or its proxy) that does not answer."""
    failed = []
    for url in dict.fromkeys(ep.base(j.source) for j in jobs):
        proxy = proxy_for(url)
        host, port = _address(proxy or url)
        try:
            socket.create_connection((host, port), timeout=ep.connect_timeout).close()
        except OSError as exc:
            via = f" for {urllib.parse.urlsplit(url).hostname}" if proxy else ""
            what = "the proxy " if proxy else ""
            failed.append(f"{what}{host}:{port}{via} ({exc.strerror or exc})")
    if failed:
        raise DataError(
            f"cannot reach {', '.join(failed)}; check the internet connection or proxy "
            "(nothing was downloaded and the cache is unchanged)."
        )


class _Transient(Exception):
    """A failure worth trying again: the connection, a cut-short body, HTTP 429 or 5xx."""


def _get_once(url: str, timeout: float) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        # A fresh opener: its ProxyHandler reads the proxies the environment names now.
        with urllib.request.build_opener().open(request, timeout=timeout) as resp:
            body = resp.read()
            announced = resp.headers.get("Content-Length")
    except urllib.error.HTTPError as exc:
        if exc.code == 429 or exc.code >= 500:
            raise _Transient(f"HTTP {exc.code} {exc.reason}") from None
        raise DataError(f"{url}: HTTP {exc.code} {exc.reason}; check the symbol.") from None
    except http.client.IncompleteRead as exc:
        raise _Transient(f"the download was cut short ({len(exc.partial)} bytes)") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise _Transient(f"download failed ({getattr(exc, 'reason', exc)})") from None
    if announced is not None and announced.isdigit() and len(body) != int(announced):
        raise _Transient(f"the download was cut short (got {len(body)} of {announced} bytes)")
    return body


def http_get(url: str, timeout: float, retries: int = 0, backoff: float = 1.0) -> bytes:
    """The body of ``url``; a transient failure is tried again ``retries`` times, after
    ``backoff`` seconds doubled each time. ``DataError`` naming the host when it still fails."""
    for attempt in range(retries + 1):
        try:
            return _get_once(url, timeout)
        except _Transient as exc:
            if attempt == retries:
                host = urllib.parse.urlsplit(url).netloc
                proxy = proxy_for(url)
                via = f" through the proxy {_address(proxy)[0]}" if proxy else ""
                tries = f" after {retries + 1} tries" if retries else ""
                raise DataError(
                    f"{host}{via}: {exc}{tries} ({url}); check the connection, or try again later."
                ) from None
            time.sleep(backoff * 2**attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def _checked(job: Job) -> str:
    """The job's symbol, checked again against its source's pattern (a ``Job`` can be built by
    hand): no symbol may reach another path or query on the provider's host."""
    check_symbol(job.source, job.symbol, f"{job.inst.key} ({job.source})")
    return job.symbol


def _fred_url(job: Job, ep: Endpoints, start, end) -> str:
    query = {"id": _checked(job)}
    if start is not None:
        query["cosd"] = start.strftime("%Y-%m-%d")
    if end is not None:
        query["coed"] = end.strftime("%Y-%m-%d")
    return f"{ep.fred}/graph/fredgraph.csv?{urllib.parse.urlencode(query)}"


def _rba_url(job: Job, ep: Endpoints) -> str:
    table = _checked(job).split(":")[0].lower()
    return f"{ep.rba}/statistics/tables/csv/{urllib.parse.quote(table, safe='')}-data.csv"


def _yahoo_frame(job: Job, start, end) -> pd.DataFrame:
    symbol = _checked(job)
    try:
        import yfinance
    except ImportError:
        raise DataError(
            "the Yahoo provider needs yfinance; install it with pip install 'yfinance>=0.2.54'."
        ) from None
    kwargs = {"interval": "1d", "auto_adjust": False, "actions": False, "raise_errors": True}
    if start is None:
        kwargs["period"] = "max"
    else:
        kwargs["start"] = start.strftime("%Y-%m-%d")
    if end is not None:
        kwargs["end"] = (end + pd.Timedelta(days=1)).strftime("%Y-%m-%d")  # yfinance: exclusive
    try:
        frame = yfinance.Ticker(symbol).history(**kwargs)
    except Exception as exc:  # yfinance raises its own, curl's and pandas' errors alike
        raise DataError(
            f"Yahoo {job.symbol}: download failed ({type(exc).__name__}: {exc}); "
            "check the symbol and the connection."
        ) from None
    if frame is None or frame.empty:
        raise DataError(f"Yahoo {job.symbol}: no rows returned; check the symbol and the dates.")
    return frame


def download(job: Job, start, end, ep: Endpoints) -> tuple[readers.Table, str]:
    """One job's data as a ``Table`` (not yet trimmed or checked), and the URL it came from."""
    name = Path(f"{job.source}:{job.symbol}")
    if job.source == "yahoo":
        frame = _yahoo_frame(job, start, end)
        return readers.from_frame(frame, name, job.inst), f"yfinance:{job.symbol}"
    url = _fred_url(job, ep, start, end) if job.source == "fred" else _rba_url(job, ep)
    body = http_get(url, ep.timeout, ep.retries, ep.backoff)
    return readers.parse_bytes(body, name, job.inst), url


def _accept(job: Job, table: readers.Table, start, end, prev: dict | None) -> pd.DataFrame:
    """The rows to cache, or ``DataError`` when the download is unusable or partial."""
    frame = table.frame
    keep = pd.Series(True, index=frame.index)
    if start is not None:
        keep &= frame["date"] >= start
    if end is not None:
        keep &= frame["date"] <= end
    if not keep.any():
        raise DataError(f"{job.label}: no rows between {start} and {end}; widen --start/--end.")
    mask = keep.to_numpy()
    table = dataclasses.replace(table, frame=frame[mask], lines=table.lines[mask])
    validate.raise_for_errors(validate.check_table(table, job.inst))
    out = table.frame.reset_index(drop=True)
    if prev and prev.get("consistent") and start is None and end is None:
        first, last = str(out["date"].iloc[0].date()), str(out["date"].iloc[-1].date())
        if first > prev["first"] or last < prev["last"]:
            raise DataError(
                f"{job.label}: the download holds {first}..{last} but the cache holds "
                f"{prev['first']}..{prev['last']}; a partial download? kept the cache (delete "
                f"{job.inst.key}.parquet to accept the shorter series)."
            )
    return out


def fetch_one(job: Job, start, end, out_dir: Path, ep: Endpoints) -> Outcome:
    """Download, check and cache one job; a ``DataError`` becomes a refused ``Outcome``."""
    try:
        table, url = download(job, start, end, ep)
        frame = _accept(job, table, start, end, cache.meta(out_dir, job.inst.key))
        info = {
            "source": job.source,
            "symbol": job.symbol,
            "url": url,
            "fetched_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        meta = cache.store(out_dir, job.inst.key, frame, info)
    except DataError as exc:
        return Outcome(job, False, f"{exc} The previous cache, if any, is unchanged.")
    return Outcome(job, True, f"{meta['rows']} rows {meta['first']}..{meta['last']}", meta)


def fetch(
    jobs: list[Job],
    start: pd.Timestamp | None,
    end: pd.Timestamp | None,
    out_dir: Path,
    ep: Endpoints | None = None,
    on_done: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """Fetch every job into ``out_dir``; checks reachability first, then one job at a time."""
    ep = ep or Endpoints.from_env()
    check_reachable(jobs, ep)
    outcomes = []
    for job in jobs:
        outcomes.append(fetch_one(job, start, end, Path(out_dir), ep))
        if on_done is not None:
            on_done(outcomes[-1])
    return outcomes
