"""Comparing strategies on the same data and window (``backtest compare``).

This logic lives here, in order:

1. ``resolve_inputs``: each spec is a strategy name (``russell-fed-rotation``), a variant
   (``russell-fed-rotation:hold_days=40,cut_window_days=60``) or a saved run (id, id prefix or
   folder under the results root; its manifest gives the strategy and parameters, a grid's the
   winner's). Specs that fit nothing are a ``ConfigError`` naming close strategies and run ids.
2. ``run_compare``: every input runs through ``engine.backtest.run.run_backtest`` with one ``RunConfig``.
3. Equity is aligned on the valuation sessions all runs share (base currency). Returns are taken
   between consecutive common sessions; the first common session's return counts (from the initial
   cash) only when every run starts there. Excess returns subtract each run's own cash return.
4. Correlations: Pearson, of the daily returns on the common sessions.
5. ``sharpe_tests``: each input's annualised Sharpe (excess over cash, as ``engine.stats.metrics``) minus
   the first's, by a paired stationary bootstrap (Politis & Romano 1994): the same resample indices
   (``engine.stats.overfit.bootstrap_indices_nb``) for both series keep their dependence and serial
   correlation. Percentile 95 % interval; two-sided p-value of "no difference" from the centred
   bootstrap distribution, (1 + #{|d* - d| >= |d|}) / (1 + B). Seeded; the seed is recorded.
   An undefined Sharpe ratio (``metrics``) makes the difference, interval and p-value undefined;
   resamples where either is undefined are left out (``resamples`` counts the rest).
6. ``write_compare``: ``compare.json`` (no paths or times: the same inputs give the same bytes),
   ``equity.csv`` (one column per input), ``report.html`` and ``manifest.json``, atomically.

Not here: listing and finding saved runs (``store.saved``), the page (``report.compare_page``), the CLI.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from engine.backtest.run import RunConfig, RunResult, run_backtest
from engine.errors import ConfigError
from engine.stats.metrics import compute_metrics, spread_defined
from engine.stats.overfit import bootstrap_indices_nb
from engine.strategy.base import Strategy
from engine.strategy.space import parse_assignments

DEFAULT_SEED = 20250918
RUN_LIKE = re.compile(r"^\d{4}")  # run ids start with a UTC stamp; strategy names never


@dataclass(frozen=True)
class Input:
    """One compared strategy: its label (unique), the spec it came from and, for a saved run, the
    run id and the config that run was made with."""

    label: str
    spec: str
    strategy: Strategy
    from_run: str | None = None
    run_config: Mapping[str, Any] | None = None

    def record(self) -> dict[str, Any]:
        """What ``compare.json`` says of this input."""
        name, values = self.strategy.name, self.strategy.values
        return {
            "label": self.label,
            "spec": self.spec,
            "strategy": name,
            "params": values,
            "from_run": self.from_run,
        }


@dataclass(frozen=True)
class Bootstrap:
    """Settings of the paired stationary bootstrap; ``block`` None means n ** (1/3) sessions."""

    resamples: int = 2000
    block: float | None = None
    seed: int = DEFAULT_SEED
    level: float = 0.95

    def __post_init__(self) -> None:
        if not 100 <= self.resamples <= 100_000:
            raise ConfigError(f"--resamples must be in [100, 100000]; got {self.resamples}.")
        if self.block is not None and not self.block >= 1:
            raise ConfigError(f"--block must be at least 1 session; got {self.block}.")
        if not 0 < self.level < 1:
            raise ConfigError(f"the interval level must be in (0, 1); got {self.level}.")


@dataclass(frozen=True)
class Comparison:
    """Everything a comparison found. ``equity`` is common sessions x label (base currency);
    ``returns`` / ``excess`` are the daily returns used for correlations and Sharpe tests."""

    inputs: tuple[Input, ...]
    results: tuple[RunResult, ...]
    config: RunConfig
    equity: pd.DataFrame
    returns: pd.DataFrame
    excess: pd.DataFrame
    correlations: pd.DataFrame
    tests: tuple[dict[str, Any], ...]
    bootstrap: Bootstrap
    block: float
    benchmark_metrics: dict[str, Any]
    notes: tuple[str, ...]

    @property
    def labels(self) -> list[str]:
        return [i.label for i in self.inputs]

    @property
    def synthetic(self) -> bool:
        return any(r.market.synthetic for r in self.results)

    @property
    def periods_per_year(self) -> float:
        return sessions_per_year(self.excess.index)


# --- 1. inputs --------------------------------------------------------------------------------


def variant(spec: str, cls: type[Strategy]) -> Strategy:
    """``NAME:k=v,k=v`` -> that strategy with those parameters."""
    name, _, text = spec.partition(":")
    items = [s.strip() for s in text.split(",") if s.strip()]
    where = f"compare input {spec!r}:"
    return cls(**parse_assignments(items, where, f"{name}:hold_days=40,cut_window_days=60"))


# --- 2-5. run, align, correlate, test ---------------------------------------------------------


def run_compare(
    inputs: Sequence[Input],
    cfg: RunConfig,
    boot: Bootstrap | None = None,
    progress: Callable[[str], None] | None = None,
) -> Comparison:
    """Run every input under ``cfg`` and compare; ``progress(label)`` after each run."""
    results = []
    for inp in inputs:
        results.append(run_backtest(inp.strategy, cfg))
        if progress is not None:
            progress(inp.label)
    return compare_results(inputs, results, cfg, boot or Bootstrap())


def _common_sessions(results: Sequence[RunResult], inputs: Sequence[Input]) -> pd.DatetimeIndex:
    common = results[0].sim.equity.index
    for res in results[1:]:
        common = common.intersection(res.sim.equity.index)
    if len(common) < 3:
        spans = "; ".join(
            f"{i.label}: {r.sim.equity.index[0].date()}..{r.sim.equity.index[-1].date()}"
            for i, r in zip(inputs, results, strict=True)
        )
        raise ConfigError(
            f"the inputs share {len(common)} valuation sessions ({spans}); compare strategies "
            "whose data overlap, or widen --start/--end."
        )
    return common


def _aligned_returns(curve: pd.Series, common: pd.DatetimeIndex, start: float, first: bool):
    values = curve.reindex(common).to_numpy(dtype=np.float64)
    prev = np.concatenate(([start], values[:-1]))
    rets = values / prev - 1.0
    return rets if first else rets[1:]


def _returns(results, labels, common) -> tuple[pd.DataFrame, pd.DataFrame]:
    first = all(r.sim.equity.index[0] == common[0] for r in results)
    index = common if first else common[1:]
    raw, excess = {}, {}
    for label, res in zip(labels, results, strict=True):
        cash = (1.0 + res.sim.cash_return).cumprod()
        r = _aligned_returns(res.sim.equity, common, res.sim.init_cash, first)
        c = _aligned_returns(cash, common, 1.0, first)
        raw[label], excess[label] = r, r - c
    return pd.DataFrame(raw, index=index), pd.DataFrame(excess, index=index)


def sessions_per_year(index: pd.DatetimeIndex) -> float:
    """Sessions per calendar year of ``index``, as ``engine.stats.metrics`` annualises."""
    return len(index) / (((index[-1] - index[0]).days + 1) / 365.25)


def correlations(returns: pd.DataFrame) -> pd.DataFrame:
    """Pearson correlations of the columns; NaN where a column is constant within precision."""
    x = returns.to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.atleast_2d(np.corrcoef(x, rowvar=False))
    flat = ~spread_defined(x, axis=0)
    corr[flat, :] = corr[:, flat] = np.nan
    return pd.DataFrame(corr, index=returns.columns, columns=returns.columns)


def sharpe_rows(x: np.ndarray, ppy: float) -> np.ndarray:
    """Annualised Sharpe of each row of ``x`` (..., n): mean / stdev(ddof=1) * sqrt(ppy); NaN
    where the stdev is zero within precision (``metrics.spread_defined``; e.g. nothing held)."""
    mean = x.mean(axis=-1)
    sd = x.std(axis=-1, ddof=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(spread_defined(x), mean / sd, np.nan) * np.sqrt(ppy)


def sharpe_tests(excess: pd.DataFrame, ppy: float, boot: Bootstrap) -> tuple[list[dict], float]:
    """Sharpe difference of each column against the first (step 5); returns (rows, block)."""
    x = np.ascontiguousarray(excess.to_numpy(dtype=np.float64).T)  # (k, n)
    n = x.shape[1]
    block = float(boot.block or max(1.0, n ** (1.0 / 3.0)))
    idx = bootstrap_indices_nb(n, boot.resamples, block, boot.seed)
    point = sharpe_rows(x, ppy)
    base = sharpe_rows(x[0][idx], ppy)
    tail = (1.0 - boot.level) / 2.0
    rows = []
    for j, label in enumerate(excess.columns[1:], start=1):
        d = point[j] - point[0]
        star = sharpe_rows(x[j][idx], ppy) - base
        star = star[np.isfinite(star)]
        ok = np.isfinite(d) and star.size > 0
        lo, hi = np.quantile(star, [tail, 1.0 - tail]) if ok else (np.nan, np.nan)
        p = (1 + int((np.abs(star - d) >= abs(d)).sum())) / (1 + star.size) if ok else np.nan
        rows.append(
            {
                "input": label,
                "against": excess.columns[0],
                "sharpe": float(point[j]),
                "sharpe_first": float(point[0]),
                "difference": float(d),
                "difference_ci": [float(lo), float(hi)],
                "p_value": float(p),
                "resamples": int(star.size),
            }
        )
    return rows, block


def _config_notes(inputs: Sequence[Input], cfg: RunConfig) -> list[str]:
    common = cfg.resolved()
    notes = []
    for inp in inputs:
        if inp.run_config is None:
            continue
        diff = [k for k in common if k in inp.run_config and inp.run_config[k] != common[k]]
        if diff:
            was = ", ".join(f"{k}={inp.run_config[k]}" for k in diff)
            now = ", ".join(f"{k}={common[k]}" for k in diff)
            notes.append(f"{inp.label} was saved with {was}; compared here with {now}.")
    return notes


def compare_results(inputs, results, cfg: RunConfig, boot: Bootstrap) -> Comparison:
    """Steps 3-5 on finished runs (one ``RunResult`` per input, same order)."""
    labels = [i.label for i in inputs]
    common = _common_sessions(results, inputs)
    pairs = list(zip(labels, results, strict=True))
    equity = pd.DataFrame({lb: r.sim.equity.reindex(common) for lb, r in pairs})
    raw, excess = _returns(results, labels, common)
    tests, block = sharpe_tests(excess, sessions_per_year(excess.index), boot)
    notes = _config_notes(inputs, cfg)
    lost = [lb for lb, r in pairs if len(r.sim.equity) > len(common)]
    if lost:
        notes.append(
            f"{', '.join(lost)} had valuation sessions the others lack; all are compared on the "
            f"{len(common)} sessions they share."
        )
    for res in results:
        notes.extend(n for n in res.market.notes if n not in notes)
    bench = compute_metrics(results[0].benchmark)
    found = (equity, raw, excess, correlations(raw), tuple(tests))
    return Comparison(tuple(inputs), tuple(results), cfg, *found, boot, block, bench, tuple(notes))


# --- 6. files ---------------------------------------------------------------------------------


def compare_summary(cmp: Comparison) -> dict[str, Any]:
    """``compare.json``: no paths or times, so the same inputs give the same bytes."""
    cfg = cmp.config
    first, last = (str(d) for d in cmp.equity.index[[0, -1]].date)
    return {
        "inputs": [i.record() for i in cmp.inputs],
        "data": "synthetic sample data" if cmp.synthetic else "user data",
        "window": {"first": first, "last": last},
        "sessions": len(cmp.equity),
        "base_currency": cfg.base_currency,
        "costs": {"fees_bps": cfg.fees_bps, "slippage_bps": cfg.slippage_bps},
        "fill": cfg.fill,
        "metrics": {i.label: r.metrics for i, r in zip(cmp.inputs, cmp.results, strict=True)},
        "benchmark": {"key": cfg.benchmark, "metrics": cmp.benchmark_metrics},
        "correlations": {"labels": cmp.labels, "matrix": cmp.correlations.to_numpy().tolist()},
        "sharpe_tests": list(cmp.tests),
        "bootstrap": {
            "method": "paired stationary bootstrap of daily excess returns over cash",
            "resamples": cmp.bootstrap.resamples,
            "block": cmp.block,
            "seed": cmp.bootstrap.seed,
            "level": cmp.bootstrap.level,
            "sessions": len(cmp.excess),
            "sessions_per_year": cmp.periods_per_year,
        },
        "notes": list(cmp.notes),
    }
