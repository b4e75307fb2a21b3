"""Event studies: every signal of a strategy, the traded asset's forward returns after it, and the
same horizons over every decision point of the window (the unconditional distribution).

This logic lives here, in order:

1. signals (``Strategy.signals``) become fill rows: the first decision point strictly after the
   signal was known, the rule ``engine.timing.align`` enforces. Signals known before the session preceding
   the first decision point, or after the last one, have no fill and are dropped;
2. forward returns of the signal asset from its fill price (the fill session's open for
   ``fill="open"``, its close for ``fill="close"``) to the close of the N-th session held: session
   s + N - 1 for open fills, s + N for close fills; NaN where that session is beyond the data;
3. per horizon, over distinct fill sessions: mean, median, hit rate (share > 0), count, and seeded
   bootstrap intervals of the mean - events resampled in clusters (events whose windows overlap
   move together), the unconditional sample in moving blocks as long as the horizon - and the
   excess of the events' mean over the unconditional mean with its interval;
4. a verdict in words; below ``MIN_EVENTS`` distinct events it says there is too little to conclude;
5. output: ``write_event_files`` (``events.csv``, ``events_summary.csv``, ``events.json``),
   ``write_event_study`` (the same in a new folder, atomically) and ``render_html`` (a
   self-contained section for the run report).

Not here: printing to a terminal (``cli.study``), the pages (``report.run_page``, ``report.events_page``).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from engine.errors import ConfigError
from engine.stats.overfit import block_bootstrap_means_nb
from engine.strategy.base import Strategy, with_lead_in
from engine.timing.align import Context

MIN_EVENTS = 10
HORIZONS = (1, 5, 20, 60)


@dataclass(frozen=True)
class StudyConfig:
    """Options of one event study. ``start``/``end`` bound the fill sessions (inclusive)."""

    fill: str = "open"
    horizons: tuple[int, ...] = HORIZONS
    n_boot: int = 2000
    seed: int = 20250918
    level: float = 0.95
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None

    def __post_init__(self) -> None:
        if self.fill not in ("open", "close"):
            raise ConfigError(f"--fill must be 'open' or 'close'; got {self.fill!r}.")
        if not self.horizons or any(int(h) < 1 for h in self.horizons):
            raise ConfigError(f"horizons must be positive session counts; got {self.horizons}.")
        if self.n_boot < 100:
            raise ConfigError(f"n_boot must be at least 100; got {self.n_boot}.")
        if not 0.5 <= self.level < 1:
            raise ConfigError(f"level must be in [0.5, 1); got {self.level}.")
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ConfigError(
                f"--start {self.start.date()} is after --end {self.end.date()}; swap them."
            )


@dataclass(frozen=True)
class EventStudy:
    """One strategy's signals and the forward-return comparison.

    ``events``: one row per signal (``known_utc``, ``observed``, ``fill_session``, ``fill_price``,
    ``entry``, ``ret_<N>`` fractions); ``summary``: one row per horizon (see ``summarise``).
    """

    strategy: str
    params: dict[str, Any]
    asset: str
    source: str
    config: StudyConfig
    events: pd.DataFrame
    summary: pd.DataFrame
    verdict: tuple[str, ...]
    window: tuple[str, str]
    synthetic: bool
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def n_events(self) -> int:
        return int(self.events["fill_session"].nunique())

    def meta(self) -> dict[str, Any]:
        """What a reader needs to reproduce the study (seed included)."""
        cfg = self.config
        return {
            "strategy": self.strategy,
            "params": self.params,
            "asset": self.asset,
            "signal": self.source,
            "fill": cfg.fill,
            "horizons": list(cfg.horizons),
            "bootstrap": {"resamples": cfg.n_boot, "seed": cfg.seed, "level": cfg.level},
            "window": {"first": self.window[0], "last": self.window[1]},
            "signals": len(self.events),
            "distinct_fill_sessions": self.n_events,
            "data": "synthetic sample data" if self.synthetic else "user data",
            "verdict": list(self.verdict),
            "notes": list(self.notes),
        }


def fill_rows(ctx: Context, known_ns: np.ndarray) -> np.ndarray:
    """Row of the first decision point strictly after each instant; -1 where there is none (after
    the last decision, or before the session preceding the first decision point)."""
    rows = np.searchsorted(ctx.decision_ns, known_ns, side="right").astype(np.int64)
    rows[rows >= len(ctx.decision_ns)] = -1
    lead, n = with_lead_in(ctx, 1)
    previous = lead.decision_ns[0] if n else ctx.decision_ns[0]
    rows[(rows == 0) & (np.asarray(known_ns) < previous)] = -1
    return rows


def forward_returns(
    entry: np.ndarray, close: np.ndarray, rows: np.ndarray, horizons: tuple[int, ...], fill: str
) -> np.ndarray:
    """(len(rows), len(horizons)) returns from ``entry[row]`` to the close ending the N-th session
    held (``row + N - 1`` for open fills, ``row + N`` for close fills); NaN beyond the data."""
    out = np.full((len(rows), len(horizons)), np.nan)
    for j, h in enumerate(horizons):
        end = rows + (h - 1 if fill == "open" else h)
        ok = end < len(close)
        out[ok, j] = close[end[ok]] / entry[rows[ok]] - 1.0
    return out


def clusters(rows: np.ndarray, h: int) -> np.ndarray:
    """Cluster id per sorted fill row: a new cluster starts where the previous event's ``h``-session
    window has ended (episodes that do not overlap are independent draws)."""
    if len(rows) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.cumsum(np.diff(rows, prepend=rows[0] - h) >= h) - 1


def _cluster_means(x: np.ndarray, rows: np.ndarray, h: int, n_boot: int, rng) -> np.ndarray:
    """Bootstrap means of ``x`` resampling clusters of events whose ``h``-session windows overlap."""
    cluster = clusters(rows, h)
    sums = np.bincount(cluster, weights=x)
    counts = np.bincount(cluster).astype(np.float64)
    draw = rng.integers(0, len(sums), size=(n_boot, len(sums)))
    return sums[draw].sum(axis=1) / counts[draw].sum(axis=1)


def _stats(x: np.ndarray) -> tuple[float, float, float, int]:
    if len(x) == 0:
        return np.nan, np.nan, np.nan, 0
    return float(x.mean()), float(np.median(x)), float((x > 0).mean()), len(x)


def summarise(
    ev: np.ndarray, ev_rows: np.ndarray, allr: np.ndarray, cfg: StudyConfig
) -> pd.DataFrame:
    """Per horizon: events (distinct fill sessions) and all decision points side by side.

    ``ev``/``allr``: forward returns (rows x horizons); ``ev_rows``: the events' fill rows, sorted.
    Columns: horizon, episodes (clusters of overlapping events), n, mean, median, hit_rate, ci_low,
    ci_high, then the same with ``_all`` (no episodes), and
    ``excess`` (events' mean minus all) with ``excess_low``/``excess_high``.
    """
    tail = (1 - cfg.level) / 2
    out = []
    for j, h in enumerate(cfg.horizons):
        rng = np.random.default_rng([cfg.seed, h])
        ok = np.isfinite(ev[:, j])
        x, rows = ev[ok, j], ev_rows[ok]
        y = allr[np.isfinite(allr[:, j]), j]
        row: dict[str, Any] = {"horizon": h, "episodes": int(len(np.unique(clusters(rows, h))))}
        for suffix, sample in (("", x), ("_all", y)):
            mean, median, hit, n = _stats(sample)
            row |= {f"n{suffix}": n, f"mean{suffix}": mean, f"median{suffix}": median}
            row[f"hit_rate{suffix}"] = hit
        nan2 = (np.nan, np.nan)
        bx = _cluster_means(x, rows, h, cfg.n_boot, rng) if len(x) else None
        seed = int(rng.integers(2**31))
        by = block_bootstrap_means_nb(y, h, cfg.n_boot, seed) if len(y) else None
        ci = tuple(np.quantile(bx, [tail, 1 - tail])) if bx is not None else nan2
        ci_all = tuple(np.quantile(by, [tail, 1 - tail])) if by is not None else nan2
        diff = bx - by if bx is not None and by is not None else None
        ex_ci = tuple(np.quantile(diff, [tail, 1 - tail])) if diff is not None else nan2
        row |= {"ci_low": ci[0], "ci_high": ci[1], "ci_low_all": ci_all[0]}
        row |= {"ci_high_all": ci_all[1], "excess": row["mean"] - row["mean_all"]}
        row |= {"excess_low": ex_ci[0], "excess_high": ex_ci[1]}
        out.append(row)
    return pd.DataFrame(out)


def _line(r: Any, level: str) -> str:
    """The verdict for one horizon (a ``summary.itertuples()`` item)."""
    head = f"{r.horizon} session{'s' * (r.horizon != 1)}"
    interval = f"{level} interval {r.excess_low:+.2%} to {r.excess_high:+.2%}"
    if r.n < MIN_EVENTS:
        return f"{head}: too few events with data (n = {r.n} < {MIN_EVENTS}) to conclude anything."
    if r.episodes < MIN_EVENTS:
        return (
            f"{head}: the {r.n} events form only {r.episodes} separate episodes (< {MIN_EVENTS}; "
            f"overlapping windows are not independent), too few to conclude anything "
            f"(excess {r.excess:+.2%})."
        )
    if r.excess_low > 0 or r.excess_high < 0:
        word = "beat" if r.excess > 0 else "trailed"
        return (
            f"{head}: signals {word} an average session by {r.excess:+.2%} ({interval}; n = {r.n})."
        )
    return (
        f"{head}: no evidence of a difference ({r.excess:+.2%}, {interval} includes 0; n = {r.n})."
    )


def verdict(summary: pd.DataFrame, n_events: int, level: float) -> tuple[str, ...]:
    """Plain-words reading of ``summary``; refuses to conclude below ``MIN_EVENTS`` events."""
    if n_events < MIN_EVENTS:
        return (
            f"too few events (n = {n_events} < {MIN_EVENTS}) to conclude anything; the table "
            "only describes what happened after these few signals.",
        )
    return tuple(_line(r, f"{level:.0%}") for r in summary.itertuples())


def _window_rows(labels: pd.DatetimeIndex, cfg: StudyConfig) -> tuple[int, int]:
    lo = labels.searchsorted(cfg.start) if cfg.start is not None else 0
    hi = labels.searchsorted(cfg.end, side="right") if cfg.end is not None else len(labels)
    if hi <= lo:
        raise ConfigError(
            f"the window holds no sessions of data ({labels[0].date()}..{labels[-1].date()} "
            "available); widen --start/--end."
        )
    return int(lo), int(hi)


def _prices(ctx: Context, key: str, fill: str) -> tuple[np.ndarray, np.ndarray]:
    frame = ctx.market[key].frame.reindex(ctx.labels)
    close = frame["close"].to_numpy(dtype=np.float64)
    entry = frame["open"].to_numpy(dtype=np.float64) if fill == "open" else close
    return entry, close


def event_study(strategy: Strategy, ctx: Context, cfg: StudyConfig | None = None) -> EventStudy:
    """The event study of ``strategy`` on ``ctx`` (decision points built with ``cfg.fill``)."""
    cfg = cfg or StudyConfig()
    asset = strategy.signal_asset or strategy.assets()[0]
    lo, hi = _window_rows(ctx.labels, cfg)
    sig = strategy.signals(ctx)
    rows = fill_rows(ctx, sig.known_ns)
    keep = (rows >= lo) & (rows < hi)
    rows, known, observed = rows[keep], sig.known_ns[keep], sig.observed[keep]
    entry, close = _prices(ctx, asset, cfg.fill)
    col = strategy.assets().index(asset)
    w = strategy.target_weights(ctx)[:, col]
    rises = np.diff(w, prepend=0.0) > 0
    ev = forward_returns(entry, close, rows, cfg.horizons, cfg.fill)
    events = pd.DataFrame(
        {
            "known_utc": pd.DatetimeIndex(known, tz="UTC"),
            "observed": observed,
            "fill_session": ctx.labels[rows],
            "fill_price": entry[rows],
            "entry": rises[rows],
        }
    )
    for j, h in enumerate(cfg.horizons):
        events[f"ret_{h}"] = ev[:, j]
    distinct = np.unique(rows, return_index=True)[1]
    all_rows = np.arange(lo, hi)
    allr = forward_returns(entry, close, all_rows, cfg.horizons, cfg.fill)
    summary = summarise(ev[distinct], rows[distinct], allr, cfg)
    notes = []
    if ctx.market.synthetic:
        notes.append("synthetic sample data: numbers illustrate the engine, not market history")
    if ctx.market[asset].instrument.returns == "price":
        notes.append(f"{asset} is price-only: forward returns exclude dividends.")
    return EventStudy(
        strategy=strategy.name,
        params=dict(strategy.values),
        asset=asset,
        source=sig.source,
        config=cfg,
        events=events,
        summary=summary,
        verdict=verdict(summary, len(distinct), cfg.level),
        window=(str(ctx.labels[lo].date()), str(ctx.labels[hi - 1].date())),
        synthetic=ctx.market.synthetic,
        notes=tuple(notes),
    )


SUMMARY_COLUMNS = (
    "sessions", "events", "episodes", "mean", "median", "hit", "interval",
    "all: n", "all: mean", "all: median", "all: hit", "excess", "interval",
)  # fmt: skip


def pct(x: float) -> str:
    """A signed percentage with two decimals; ``-`` for NaN."""
    return "-" if not np.isfinite(x) else f"{x:+.2%}"


def summary_cells(r: Any) -> tuple[str, ...]:
    """One summary row (a ``summary.itertuples()`` item) as text, in ``SUMMARY_COLUMNS`` order."""

    def rate(x: float) -> str:
        return "-" if not np.isfinite(x) else f"{x:.0%}"

    return (
        str(r.horizon), str(r.n), str(r.episodes), pct(r.mean), pct(r.median), rate(r.hit_rate),
        f"{pct(r.ci_low)}..{pct(r.ci_high)}", str(r.n_all), pct(r.mean_all), pct(r.median_all),
        rate(r.hit_rate_all), pct(r.excess), f"{pct(r.excess_low)}..{pct(r.excess_high)}",
    )  # fmt: skip


def render_html(study: EventStudy) -> str:
    """A self-contained ``<section>`` (no scripts) for the run report: verdict, summary, events."""
    e = html.escape
    head = "".join(f"<th>{e(c)}</th>" for c in SUMMARY_COLUMNS)
    body = [
        "<tr>" + "".join(f"<td>{e(c)}</td>" for c in summary_cells(r)) + "</tr>"
        for r in study.summary.itertuples()
    ]
    rets = [f"ret_{h}" for h in study.config.horizons]
    ev_rows = [
        "<tr>"
        + f"<td>{e(str(r.known_utc))}</td><td>{r.fill_session.date()}</td>"
        + f"<td>{'yes' if r.entry else ''}</td>"
        + "".join(f"<td>{pct(getattr(r, c))}</td>" for c in rets)
        + "</tr>"
        for r in study.events.itertuples()
    ]
    cfg = study.config
    return (
        '<section class="event-study"><h2>Event study</h2>'
        + "".join(f"<p>{e(line)}</p>" for line in (*study.verdict, *study.notes))
        + f"<p>{e(study.source)}: {len(study.events)} signals, {study.n_events} distinct fill "
        f"sessions, {study.window[0]}..{study.window[1]}; forward returns of {e(study.asset)} "
        f"from the {cfg.fill} fill; bootstrap {cfg.n_boot} resamples, seed {cfg.seed}, "
        f"{cfg.level:.0%} intervals.</p>"
        + f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        + "<details><summary>Every signal</summary><table><thead><tr><th>known (UTC)</th>"
        + "<th>fill session</th><th>entry</th>"
        + "".join(f"<th>{h} sessions</th>" for h in cfg.horizons)
        + f"</tr></thead><tbody>{''.join(ev_rows)}</tbody></table></details></section>"
    )
