"""The honesty block of a grid: how far to trust its winner, over cash, against the benchmark the
rotation rotates out of, and by the metric the grid ranked by.

This logic lives here, in order:

1. ``block_fields`` - which per-block sums (``stats.kernels.BLOCK_FIELDS``) a grid keeps for a
   ranking metric: always excess returns over cash and active returns over the benchmark (and their
   squares), plus what CSCV needs to rank by the metric itself (``PBO_BY_METRIC``);
2. ``judge`` - for one kind of return, a Sharpe-type ratio of every trial: the Sharpe ratio of
   excess returns (``over_cash``) or the information ratio of active returns, strategy minus the
   benchmark's buy-and-hold return per valuation session (``vs_benchmark``). For the winner: its
   deflated value against the best of the N trials whose ratio is defined and against the best of
   N_eff independent ones (``overfit.effective_trials``, from the same block sums), the PBO of
   choosing by that ratio (``pbo``), and a stationary-bootstrap interval;
3. ``by_metric`` - the same for the ranking metric where it is defined: PBO wherever a half's
   block sums determine the metric, with its direction; a bootstrap interval wherever the
   metric is a statistic of the return series; a sentence saying why where not;
4. ``honesty`` - the block, every number under a key naming its metric.

Not here: simulating the combos (``grid``), the statistics themselves (``overfit``, ``pbo``),
showing them (``grid_honesty``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.stats import kernels as mk
from engine.stats import overfit
from engine.stats.kernels import F_A, F_AA, F_D, F_G, F_R, F_RR, F_X, F_XX
from engine.stats.metrics import spread_defined
from engine.stats.pbo import pbo_cscv
from engine.stats.spec import higher_is_better

BOOTSTRAP_SEED = 20250918
BASE_FIELDS = (F_X, F_XX, F_A, F_AA)
# How CSCV ranks combos by a metric in each half: (pbo statistic, the block fields it reads).
PBO_BY_METRIC = {
    "sharpe": ("sharpe", (F_X, F_XX)),
    "information_ratio": ("sharpe", (F_A, F_AA)),
    "sortino": ("sortino", (F_X, F_XX, F_D)),
    "ann_volatility": ("sd", (F_R, F_RR)),
    "tracking_error": ("sd", (F_A, F_AA)),
    "total_return": ("growth", (F_G,)),
    "cagr": ("growth", (F_G,)),
    "final_equity": ("growth", (F_G,)),
}
_PATH = "needs the path of equity inside each half, which per-block sums do not keep"
_SAME = "is the same for every combo: there is nothing to select"
# Why CSCV cannot rank by the other grid metrics.
PBO_UNDEFINED = {
    "max_drawdown": _PATH, "calmar": _PATH, "max_drawdown_days": _PATH,
    "exposure": "counts sessions held, not returns: the grid keeps no per-block counts of it",
    "turnover": "is traded value, not returns: the grid keeps no per-block sums of it",
    "trade_count": "counts orders, not returns: the grid keeps no per-block counts of it",
    "skew": "needs third moments per block", "kurtosis": "needs fourth moments per block",
    "psr": "needs third and fourth moments per block",
    "beta": "needs the covariance with the benchmark per block",
    "alpha": "needs the covariance with the benchmark per block",
    "sessions": _SAME, "years": _SAME, "periods_per_year": _SAME,
}  # fmt: skip
OVER_CASH = "excess returns over cash"
ACTIVE = "active returns: the strategy's minus buy-and-hold {key}'s, per valuation session"


def block_fields(metric: str) -> tuple[int, ...]:
    """The ``stats.kernels.BLOCK_FIELDS`` a grid ranked by ``metric`` keeps, in column order."""
    extra = PBO_BY_METRIC.get(metric, ("", ()))[1]
    return BASE_FIELDS + tuple(f for f in extra if f not in BASE_FIELDS)


def _ratio(x: np.ndarray, root: float) -> float:
    """mean / sd (ddof 1) x root; NaN when the spread is zero within precision."""
    return float(x.mean() / x.std(ddof=1) * root) if spread_defined(x) else float("nan")


def _moments(x: np.ndarray) -> tuple[float, float]:
    """(skew, kurtosis) of ``x``: central moments, kurtosis not excess, as ``metrics``."""
    if not spread_defined(x):
        return float("nan"), float("nan")
    d = x - x.mean()
    m2 = float(np.mean(d * d))
    return float(np.mean(d**3) / m2**1.5), float(np.mean(d**4) / m2**2)


def _bootstrap(x: np.ndarray, stat) -> tuple[float, float]:
    """Stationary-bootstrap 95 % interval of ``stat`` over resamples of the rows of ``x``."""
    idx = np.arange(len(x), dtype=np.float64)
    return overfit.stationary_bootstrap(idx, lambda i: stat(x[i.astype(np.int64)]),
                                        seed=BOOTSTRAP_SEED)  # fmt: skip


def judge(metric, returns, ratios, blocks, fields, counts, root, moments=None) -> dict[str, Any]:
    """The statistics of one Sharpe-type ``metric``: ``returns`` the winner's per-session returns
    of that kind (no NaN), ``ratios`` (K,) every trial's annualised ratio (the winner first, NaN
    undefined), ``blocks`` (K, F S) whose fields ``fields`` (sums, squares) hold the trials' block
    sums of that kind, ``counts`` (S,) sessions per block, ``root`` sqrt(periods per year),
    ``moments`` the winner's (sessions, skew, kurtosis) if known (else from ``returns``).

    A trial whose ratio is undefined is no trial of it: N counts the defined ones. The winner's
    deflated ratio is its PSR against the expected best of N trials, and of N_eff."""
    per = ratios / root
    defined = np.isfinite(per)
    n_def = int(defined.sum())
    var = float(np.var(per[defined], ddof=1)) if n_def > 1 else 0.0
    eff = overfit.effective_trials(blocks, fields[0] * len(counts), counts, keep=defined)
    n, skew, kurt = moments if moments is not None else (len(returns), *_moments(returns))
    sr0 = overfit.expected_max_sharpe(var, n_def)
    sr0_eff = overfit.expected_max_sharpe(var, eff["effective_trials"])
    nan = float("nan")
    return {
        "metric": metric,
        "winner": float(ratios[0]),
        "trials": n_def,
        "trials_undefined": int(len(ratios) - n_def),
        "effective_trials": eff["effective_trials"],
        "average_correlation": eff["average_correlation"],
        "expected_max": sr0 * root,
        "expected_max_effective": sr0_eff * root,
        "deflated": overfit.psr(float(per[0]), n, skew, kurt, sr0),
        "deflated_effective": overfit.psr(float(per[0]), n, skew, kurt, sr0_eff),
        **pbo_cscv(blocks, counts, fields=tuple(fields)),
        "ci95": _bootstrap(returns, lambda x: _ratio(x, root))
        if spread_defined(returns) else (nan, nan),
    }  # fmt: skip


def _drawdown(r: np.ndarray) -> float:
    equity = np.cumprod(1.0 + r)
    peak = np.maximum.accumulate(np.maximum(equity, 1.0))  # the start (1.0) is the first peak
    return float(np.min(equity / peak - 1.0))


def _series_stats(years: float, root: float, init_cash: float):
    """Statistics of the winner's return series a bootstrap can resample, by metric: each a
    function of (returns r, excess x, active a) resampled together (a: NaN without benchmark)."""

    def growth(r):
        return float(np.prod(1.0 + r))

    def cagr(r):
        g = growth(r)
        return g ** (1.0 / years) - 1.0 if g > 0 else -1.0

    def sortino(x):
        down = np.sqrt(np.mean(np.minimum(x, 0.0) ** 2))
        floor = mk.ABS_FLOOR * (1.0 + np.sqrt(np.mean(x * x)))
        return float(x.mean() / down * root) if down > floor else float("nan")

    def calmar(r):
        dd = abs(_drawdown(r))
        return cagr(r) / dd if dd > mk.ABS_FLOOR else float("nan")

    def active(a):
        return a[np.isfinite(a)]

    return {
        "total_return": lambda r, x, a: growth(r) - 1.0,
        "cagr": lambda r, x, a: cagr(r),
        "final_equity": lambda r, x, a: init_cash * growth(r),
        "ann_volatility": lambda r, x, a: float(r.std(ddof=1) * root),
        "sortino": lambda r, x, a: sortino(x),
        "max_drawdown": lambda r, x, a: _drawdown(r),
        "calmar": lambda r, x, a: calmar(r),
        "tracking_error": lambda r, x, a: float(active(a).std(ddof=1) * root),
    }


def by_metric(metric, same_as, blocks, fields, counts, series, stats) -> dict[str, Any]:
    """The statistics of the ranking ``metric``: PBO and a bootstrap interval where defined, the
    reason where not; ``same_as`` names the block that already holds them (Sharpe, IR).
    ``fields`` the ``stats.kernels.BLOCK_FIELDS`` of ``blocks``' columns; ``series`` (V, 3): r,
    x, a per session; ``stats`` from ``_series_stats``."""
    higher = higher_is_better(metric)
    out: dict[str, Any] = {"metric": metric, "direction": "higher" if higher else "lower",
                           "same_as": same_as}  # fmt: skip
    if same_as is not None:
        return out
    out["deflated"] = None
    out["deflated_note"] = (
        f"not defined for {metric}: the deflated Sharpe ratio deflates a Sharpe-type ratio "
        "(a mean over a standard deviation); see over_cash and vs_benchmark"
    )
    if metric in PBO_BY_METRIC:
        statistic, need = PBO_BY_METRIC[metric]
        cols = tuple(fields.index(f) for f in need)
        out.update(pbo_cscv(blocks, counts, statistic=statistic, fields=cols, higher=higher))
    else:
        out.update(pbo=None, pbo_note=f"not defined for {metric}: it {PBO_UNDEFINED[metric]}")
    if metric in stats:
        fn = stats[metric]
        out["ci95"] = _bootstrap(series, lambda m: fn(m[:, 0], m[:, 1], m[:, 2]))
    else:
        out["ci95"] = None
        out["ci95_note"] = f"not defined for {metric}: it is not a statistic of the returns alone"
    return out


def honesty(table, blocks, fields, counts, winner, metric: str = "sharpe") -> dict[str, Any]:
    """The honesty block of a grid ranked by ``metric``: ``table`` ranked best first, ``blocks``
    (K, F S) in the same order holding the ``stats.kernels.BLOCK_FIELDS`` ``fields``, ``counts``
    (S,) sessions per block, ``winner`` the full single run of the table's first row."""
    m = winner.metrics
    root = float(np.sqrt(m["periods_per_year"]))
    sim = winner.sim
    r = sim.returns.to_numpy(dtype=np.float64)
    x = r - sim.cash_return.to_numpy(dtype=np.float64)
    b = winner.benchmark.returns.reindex(sim.equity.index).to_numpy(dtype=np.float64)
    a = r - b  # NaN where the benchmark has no return
    col = {f: i for i, f in enumerate(fields)}
    key = winner.config.benchmark
    cash = judge("sharpe", x, table["sharpe"].to_numpy(dtype=np.float64), blocks,
                 (col[F_X], col[F_XX]), counts, root,
                 moments=(m["sessions"], m["skew"], m["kurtosis"]))  # fmt: skip
    bench = judge("information_ratio", a[np.isfinite(a)],
                  table["information_ratio"].to_numpy(dtype=np.float64), blocks,
                  (col[F_A], col[F_AA]), counts, root)  # fmt: skip
    same = {"sharpe": "over_cash", "information_ratio": "vs_benchmark"}.get(metric)
    stats = _series_stats(float(m["years"]), root, float(sim.init_cash))
    cagr = stats["cagr"]
    return {
        "trials": int(len(table)),
        "metric": metric,
        "over_cash": {**cash, "returns": OVER_CASH},
        "vs_benchmark": {
            **bench,
            "benchmark": key,
            "returns": ACTIVE.format(key=key),
            "sessions": int(np.isfinite(a).sum()),
        },  # fmt: skip
        "ranking": by_metric(
            metric, same, blocks, list(fields), counts, np.column_stack((r, x, a)), stats
        ),  # fmt: skip
        "cagr_ci95": _bootstrap(r, lambda s: cagr(s, s, s)),
        "bootstrap_seed": BOOTSTRAP_SEED,
    }
