"""compute_metrics against a slow plain-Python reference, a hand-worked case, and invariants."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from engine.feeds import calendars
from engine.sim.portfolio import simulate
from engine.sim.simulate import SimResult
from engine.stats import kernels as mk
from engine.stats.metrics import METRIC_KEYS, compute_metrics
from engine.store.folders import clean

# Keys that must not change when equity, initial cash and traded values are scaled together.
SCALE_FREE = (
    "total_return",
    "cagr",
    "ann_volatility",
    "sharpe",
    "sortino",
    "max_drawdown",
    "calmar",
    "exposure",
    "turnover",
    "skew",
    "kurtosis",
    "psr",
    "beta",
    "alpha",
    "tracking_error",
    "information_ratio",
    "win_rate",
    "avg_trade",
    "best_trade",
    "worst_trade",
    "periods_per_year",
    "years",
)
EXACT_KEYS = (
    "max_drawdown_start",
    "max_drawdown_trough",
    "max_drawdown_end",
    "max_drawdown_days",
    "trade_count",
    "round_trips",
    "sessions",
)


def make_sim(equity, init_cash, cash_return, weights, traded_value, trade_returns=(), open_=()):
    """A ``SimResult`` carrying just what metrics read: curves, order values, trade returns."""
    idx = equity.index
    value = np.asarray(traded_value, dtype=float)
    orders = pd.DataFrame(
        {
            "instant": pd.to_datetime(np.zeros(len(value), dtype=np.int64), utc=True),
            "session": idx[np.zeros(len(value), dtype=int)],
            "asset": ["a"] * len(value),
            "units": value,
            "price": np.ones(len(value)),
            "fx": np.ones(len(value)),
            "value": value,
            "fee": np.zeros(len(value)),
        }
    )
    rets = np.asarray(trade_returns, dtype=float)
    trades = pd.DataFrame(
        {
            "asset": ["a"] * len(rets),
            "pnl": rets * 100.0,
            "cash_in": np.full(len(rets), 100.0),
            "return": rets,
            "open": np.asarray(open_ if len(open_) else [False] * len(rets), dtype=bool),
        }
    )
    return SimResult(
        equity=equity.rename("equity"),
        cash=pd.Series(0.0, idx),
        units=weights * 0.0,
        weights=weights,
        orders=orders,
        trades=trades,
        cash_return=pd.Series(np.asarray(cash_return, dtype=float), idx),
        init_cash=float(init_cash),
        # what the kernel counts while simulating: traded value and sessions holding a position
        traded_value=float(orders["value"].abs().sum()),
        exposed_sessions=int((weights.abs().to_numpy() > 1e-12).any(axis=1).sum()),
    )


# --------------------------------------------------------------------------- slow reference


def _drawdown_reference(eq: list[float], init_cash: float, dates: pd.DatetimeIndex) -> dict:
    """Deepest drawdown by brute force over every bar.

    The running peak starts at the initial cash; a peak that is the initial cash is dated the first
    session (the cash is there when the first session opens). The peak is the last bar at the
    running maximum before the trough, the trough the first bar of the deepest drawdown, the
    recovery the first bar after the trough back at or above the peak value. Its length in days runs
    from the peak to the recovery, or to the last session while not recovered.
    """
    day = [str(d.date()) for d in dates]
    dds = [e / max([init_cash, *eq[: t + 1]]) - 1.0 for t, e in enumerate(eq)]
    worst = min(dds)
    if worst >= 0:
        return dict(zip(EXACT_KEYS[:4], [None, None, None, 0], strict=True), max_drawdown=0.0)
    trough = dds.index(worst)
    history = [init_cash, *eq[: trough + 1]]
    peak_value = max(history)
    j = max(i for i, v in enumerate(history) if v == peak_value)  # 0 = the initial cash
    start = 0 if j == 0 else j - 1
    after = [t for t in range(trough + 1, len(eq)) if eq[t] >= peak_value]
    end = after[0] if after else None
    return {
        "max_drawdown": worst,
        "max_drawdown_start": day[start],
        "max_drawdown_trough": day[trough],
        "max_drawdown_end": None if end is None else day[end],
        "max_drawdown_days": (dates[len(eq) - 1 if end is None else end] - dates[start]).days,
    }


ULP = 2.0**-52  # spacing of floats just above 1: the rounding unit of a return E_t / E_{t-1} - 1


def _rms(x) -> float:
    return math.sqrt(sum(v * v for v in x) / len(x))


def _zero_spread(spread: float, x, central: bool = True) -> bool:
    """The documented rule, written out: a spread of the series ``x`` is zero within precision
    when it is at most 1024 ulps x (1 + rms(x)), or, for a standard deviation, 1e-4 x rms(x)."""
    floor = 1024 * ULP * (1 + _rms(x))
    return not spread > (max(floor, 1e-4 * _rms(x)) if central else floor)


def _moments(x: list[float]) -> tuple[float, float, float]:
    """Per-session Sharpe (ddof=1), skew and kurtosis (central moments, not excess); all three
    undefined when the standard deviation of x is zero within precision."""
    n = len(x)
    m = sum(x) / n
    m2 = sum((v - m) ** 2 for v in x) / n
    m3 = sum((v - m) ** 3 for v in x) / n
    m4 = sum((v - m) ** 4 for v in x) / n
    sd = math.sqrt(m2 * n / (n - 1)) if n > 1 else math.nan
    if _zero_spread(sd, x):
        return math.nan, math.nan, math.nan
    return m / sd, m3 / m2**1.5, m4 / m2**2


def _benchmark_reference(r, c, bench, ppy) -> dict:
    nan = dict.fromkeys(("beta", "alpha", "tracking_error", "information_ratio"), math.nan)
    if bench is None:
        return nan
    b = pd.Series(np.asarray(bench, dtype=float))
    have = b.notna()
    if have.sum() < 2:
        return nan
    rb, bb = r[have], b[have]
    beta = rb.cov(bb) / bb.var() if not _zero_spread(bb.std(), list(bb)) else math.nan
    a = rb - bb
    zero_active = _zero_spread(a.std(), list(a))
    out = {
        "beta": beta,
        "alpha": ((r - c).mean() - beta * (b - c).mean()) * ppy,
        "tracking_error": a.std() * math.sqrt(ppy),
        "information_ratio": math.nan if zero_active else a.mean() / a.std() * math.sqrt(ppy),
    }
    if not math.isfinite(beta):
        out["alpha"] = math.nan
    return out


def reference_metrics(sim, bench=None) -> dict:
    equity, init_cash = sim.equity, sim.init_cash
    eq = [float(v) for v in equity]
    n = len(eq)
    years = ((equity.index[-1] - equity.index[0]).days + 1) / 365.25
    ppy = n / years
    prev = [init_cash, *eq[:-1]]
    r = pd.Series([e / p - 1.0 for e, p in zip(eq, prev, strict=True)])
    c = pd.Series(sim.cash_return.to_numpy())
    x = r - c
    downside = math.sqrt(sum(min(v, 0.0) ** 2 for v in x) / n)
    sr, skew, kurt = _moments(list(x))
    denom = 1.0 - skew * sr + (kurt - 1.0) / 4.0 * sr * sr
    psr = NormalDist().cdf(sr * math.sqrt(n - 1) / math.sqrt(denom)) if denom > 0 else math.nan
    total = eq[-1] / init_cash - 1.0
    with np.errstate(over="ignore"):  # a big gain over a few days annualises to inf
        cagr = float(np.float64(eq[-1] / init_cash) ** (1.0 / years) - 1.0) if eq[-1] > 0 else -1.0
    dd = _drawdown_reference(eq, init_cash, equity.index)
    held = [any(abs(w) > 0 for w in row) for row in sim.weights.itertuples(index=False)]
    closed = [ret for ret, o in zip(sim.trades["return"], sim.trades["open"], strict=True) if not o]
    traded = list(sim.orders["value"])
    out = {
        "total_return": total,
        "cagr": cagr,
        "ann_volatility": r.std(ddof=1) * math.sqrt(ppy),
        "sharpe": sr * math.sqrt(ppy),
        "sortino": math.nan
        if _zero_spread(downside, list(x), central=False)
        else x.mean() / downside * math.sqrt(ppy),
        **dd,
        "calmar": cagr / abs(dd["max_drawdown"])
        if abs(dd["max_drawdown"]) > 1024 * ULP
        else math.nan,
        "exposure": sum(held) / n,
        "turnover": sum(abs(v) for v in traded) / (sum(eq) / n) / years,
        "trade_count": len(traded),
        "round_trips": len(closed),
        "win_rate": sum(v > 0 for v in closed) / len(closed) if closed else math.nan,
        "avg_trade": sum(closed) / len(closed) if closed else math.nan,
        "best_trade": max(closed) if closed else math.nan,
        "worst_trade": min(closed) if closed else math.nan,
        "skew": skew,
        "kurtosis": kurt,
        "psr": psr if n > 1 and math.isfinite(sr) else math.nan,
        **_benchmark_reference(r, c, bench, ppy),
        "final_equity": eq[-1],
        "sessions": n,
        "years": years,
        "periods_per_year": ppy,
    }
    return out


def assert_metrics_match(got: dict, want: dict, rtol: float = 1e-9) -> None:
    assert set(want) <= set(METRIC_KEYS) == set(got)
    for key in want:
        g, w = got[key], want[key]
        if isinstance(w, float) or isinstance(g, float):
            assert isinstance(g, float), key
            assert np.isclose(g, w, rtol=rtol, atol=1e-12, equal_nan=True), (key, g, w)
        else:
            assert g == w and type(g) is type(w), (key, g, w)


# --------------------------------------------------------------------------- random curves


def _case(seed: int, shape: str = "random"):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(30, 600))
    labels = calendars.sessions("XNYS").labels
    first = int(rng.integers(0, len(labels) - n - 400))
    idx = labels[first : first + n]
    drift = {"random": 0.0004, "never_recovers": -0.004, "new_high_first": 0.0004}[shape]
    init_cash = float(rng.choice([1.0, 100.0, 10_000.0, 1e6]))
    rets = rng.normal(drift, 0.012, n)
    if shape == "never_recovers":
        rets[0] = -0.01  # under water from the first bar: the peak is the initial cash
    if shape == "new_high_first":
        rets[0] = 0.05
    eq = init_cash * np.cumprod(1.0 + rets)
    cash = rng.uniform(0.0, 0.0003, n)
    n_assets = int(rng.integers(1, 4))
    w = rng.dirichlet(np.ones(n_assets + 1), size=n)[:, :n_assets]
    w[rng.random(n) < 0.3] = 0.0  # flat on ~30 % of sessions
    weights = pd.DataFrame(w, idx, [f"a{j}" for j in range(n_assets)])
    traded = rng.normal(0.0, init_cash * 0.3, int(rng.integers(0, 3 * n)))
    n_trades = int(rng.integers(0, 40))
    trade_rets = rng.normal(0.01, 0.1, n_trades)
    open_ = rng.random(n_trades) < 0.1
    sim = make_sim(pd.Series(eq, idx), init_cash, cash, weights, traded, trade_rets, open_)
    bench = pd.Series(rets * 0.6 + rng.normal(0, 0.006, n), idx)
    bench[rng.random(n) < 0.05] = np.nan  # benchmark holidays
    return sim, bench


SHAPES = ["random", "never_recovers", "new_high_first"]


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("shape", SHAPES)
def test_matches_reference_on_random_curves(seed, shape):
    sim, bench = _case(seed, shape)
    got = compute_metrics(sim)
    want = reference_metrics(sim)
    assert_metrics_match(got, want)
    if shape == "never_recovers":
        # The case must do what it says, or the test would not cover it.
        assert want["max_drawdown_end"] is None
        start = pd.Timestamp(want["max_drawdown_start"])
        assert want["max_drawdown_days"] == (sim.equity.index[-1] - start).days
    if shape == "new_high_first":
        assert sim.equity.iloc[0] > sim.init_cash
        assert want["max_drawdown"] < 0


@pytest.mark.parametrize("seed", range(10))
def test_matches_reference_with_benchmark(seed):
    sim, bench = _case(seed)
    assert_metrics_match(compute_metrics(sim, bench), reference_metrics(sim, bench))


def test_benchmark_is_aligned_by_date():
    sim, bench = _case(3)
    shuffled = bench.sample(frac=1.0, random_state=0)
    extra = pd.Series([0.5], [sim.equity.index[-1] + pd.Timedelta(days=400)])
    got = compute_metrics(sim, pd.concat([shuffled, extra]))
    assert_metrics_match(got, reference_metrics(sim, bench))


def test_reference_cases_cover_recovered_drawdowns():
    # Several "random" seeds must recover from their max drawdown, or the end date is untested.
    ends = [reference_metrics(_case(s)[0])["max_drawdown_end"] for s in range(20)]
    assert sum(e is not None for e in ends) >= 3


def test_scaling_by_an_inexact_constant_on_random_curves():
    k = 1.0 / 3.0
    for seed in range(10):
        sim, bench = _case(seed)
        a = compute_metrics(sim, bench)
        b = compute_metrics(_scaled(sim, k), bench)
        for key in SCALE_FREE:
            assert np.isclose(a[key], b[key], rtol=1e-9, equal_nan=True), key
        for key in EXACT_KEYS:
            assert a[key] == b[key], key


def _scaled(sim: SimResult, k: float) -> SimResult:
    return make_sim(
        sim.equity * k,
        sim.init_cash * k,
        sim.cash_return,
        sim.weights,
        sim.orders["value"] * k,
        sim.trades["return"],
        sim.trades["open"],
    )


# --------------------------------------------------------------------------- hand-worked case


def test_hand_worked_five_bars():
    # init 100; equity 110, 99, 88, 110, 121 on dates spanning exactly 1461 days = 4 years
    # (2020-01-01 .. 2023-12-31, +1 day), so periods_per_year = 5 / 4 = 1.25.
    # returns r = 1/10, -1/10, -1/9, 1/4, 1/10; sum = 43/180, mean = 43/900.
    # deviations * 900 = 47, -133, -143, 182, 47; squares sum 75680 -> var = 75680/900^2/4
    #   = 473/20250 = 0.0233580247; vol = sqrt(473/20250 * 1.25) = 0.1708728500.
    # cash 1 % per session: excess mean = 43/900 - 1/100 = 17/450, same deviations
    #   sharpe = (17/450) / sqrt(473/20250) * sqrt(1.25) = 0.2763588377.
    # negative excess: -11/100 and -1/9 - 1/100 = -109/900; mean square over 5 bars
    #   = (9801 + 11881) / 810000 / 5 = 10841/2025000; sortino = (17/450)/sqrt(that)*sqrt(1.25)
    #   = 0.5772570633.
    # central moments of the excess (ddof=0): m2 = 75680/900^2/5 = 946/50625;
    #   m3 = (2*47^3 - 133^3 - 143^3 + 182^3)/900^3/5 = 959370/900^3/5 = 31979/121500000;
    #   m4 = (2*47^4 + 133^4 + 143^4 + 182^4)/900^4/5 = 91901053/164025000000;
    #   skew = m3 / m2^1.5 = 0.1030384817; kurtosis = m4 / m2^2 = 91901053/57274624 = 1.6045684211.
    # psr: SR = (17/450)/sqrt(473/20250) = 0.2471828589; 1 - skew SR + (kurt - 1)/4 SR^2
    #   = 0.9837653403; z = SR * sqrt(4) / sqrt(that) = 0.4984281795; Phi(z) = 0.6909088605.
    # total = 121/100 - 1 = 0.21; cagr = 1.21 ** (1/4) - 1 = sqrt(1.1) - 1 = 0.0488088482.
    # drawdown: peak 110 (bar 0, 2020-01-01), trough 88 (bar 2): 88/110 - 1 = -0.2; back to 110
    #   at bar 3 (2023-01-01), 366 + 365 + 365 = 1096 days after the peak.
    #   calmar = 0.0488088482 / 0.2 = 0.2440442409.
    # weights held on bars 0, 1, 3, 4 -> exposure 4/5 = 0.8.
    # orders |100| + |-50| = 150; mean equity 528/5 = 105.6 -> turnover 150/105.6/4 = 0.3551136364.
    # round trips: +10 %, -5 % closed, one still open at +20 % (left out): win rate 1/2,
    #   average 2.5 %, best 10 %, worst -5 %.
    # benchmark = the strategy's own returns: beta 1, alpha 0, no tracking error, IR undefined.
    idx = pd.DatetimeIndex(["2020-01-01", "2021-01-01", "2022-01-01", "2023-01-01", "2023-12-31"])
    equity = pd.Series([110.0, 99.0, 88.0, 110.0, 121.0], idx)
    weights = pd.DataFrame({"a": [1.0, 0.9, 0.0, 0.5, 1.0], "b": [0.0, 0.0, 0.0, 0.5, 0.0]}, idx)
    sim = make_sim(
        equity, 100.0, np.full(5, 0.01), weights, [100.0, -50.0], [0.1, -0.05, 0.2], [0, 0, 1]
    )
    got = compute_metrics(sim, sim.returns)
    expected = {
        "total_return": 0.21,
        "cagr": 0.0488088482,
        "ann_volatility": 0.1708728500,
        "sharpe": 0.2763588377,
        "sortino": 0.5772570633,
        "max_drawdown": -0.2,
        "max_drawdown_start": "2020-01-01",
        "max_drawdown_trough": "2022-01-01",
        "max_drawdown_end": "2023-01-01",
        "max_drawdown_days": 1096,
        "calmar": 0.2440442409,
        "exposure": 0.8,
        "turnover": 0.3551136364,
        "trade_count": 2,
        "round_trips": 2,
        "win_rate": 0.5,
        "avg_trade": 0.025,
        "best_trade": 0.1,
        "worst_trade": -0.05,
        "skew": 0.1030384817,
        "kurtosis": 1.6045684211,
        "psr": 0.6909088605,
        "beta": 1.0,
        "alpha": 0.0,
        "tracking_error": 0.0,
        "final_equity": 121.0,
        "sessions": 5,
        "years": 4.0,
        "periods_per_year": 1.25,
    }
    for key, want in expected.items():
        if isinstance(want, float):
            assert got[key] == pytest.approx(want, rel=1e-9, abs=1e-10), key
        else:
            assert got[key] == want, key
    assert math.isnan(got["information_ratio"])
    assert set(got) == set(METRIC_KEYS)


def test_peak_is_the_initial_cash_when_the_first_bar_is_under_water():
    # init 100; 95, 90, 100, 101: the drawdown starts from the initial cash (dated the first
    # session), bottoms at 90 (-10 %) and recovers on the bar that regains exactly 100.
    idx = pd.bdate_range("2024-01-01", periods=4)
    sim = make_sim(
        pd.Series([95.0, 90.0, 100.0, 101.0], idx), 100.0, np.zeros(4), _flat(idx, 1.0), []
    )
    got = compute_metrics(sim)
    assert got["max_drawdown"] == pytest.approx(-0.1)
    assert (got["max_drawdown_start"], got["max_drawdown_trough"], got["max_drawdown_end"]) == (
        "2024-01-01",
        "2024-01-02",
        "2024-01-03",
    )
    assert got["max_drawdown_days"] == 2
    assert got["trade_count"] == 0 and got["turnover"] == 0.0 and got["round_trips"] == 0
    assert math.isnan(got["win_rate"]) and math.isnan(got["beta"])  # no trades, no benchmark


def test_monotonic_rise_has_no_drawdown():
    idx = pd.bdate_range("2024-01-01", periods=4)
    sim = make_sim(
        pd.Series([101.0, 102.0, 103.0, 104.0], idx), 100.0, np.zeros(4), _flat(idx, 1.0), []
    )
    got = compute_metrics(sim)
    assert got["max_drawdown"] == 0.0 and got["max_drawdown_days"] == 0
    assert (
        got["max_drawdown_start"] is got["max_drawdown_trough"] is got["max_drawdown_end"] is None
    )
    assert math.isnan(got["calmar"])
    assert math.isnan(got["sortino"])  # no excess return below zero: downside deviation is 0


def test_wiped_out_equity():
    idx = pd.bdate_range("2024-01-01", periods=2)
    weights = pd.DataFrame({"a": [1.0, 0.0]}, idx)
    got = compute_metrics(make_sim(pd.Series([50.0, 0.0], idx), 100.0, np.zeros(2), weights, []))
    assert got["total_return"] == -1.0 and got["cagr"] == -1.0
    assert got["max_drawdown"] == -1.0 and got["calmar"] == -1.0  # cagr -100 % / |-100 %|
    assert got["exposure"] == 0.5


def test_short_positions_count_as_exposure():
    idx = pd.bdate_range("2024-01-01", periods=4)
    weights = pd.DataFrame({"a": [0.0, -0.5, 0.0, 0.3]}, idx)
    sim = make_sim(pd.Series([100.0, 101.0, 99.0, 100.0], idx), 100.0, np.zeros(4), weights, [])
    assert compute_metrics(sim)["exposure"] == 0.5


def test_single_session():
    idx = pd.DatetimeIndex(["2024-01-02"])
    got = compute_metrics(make_sim(pd.Series([105.0], idx), 100.0, [0.0], _flat(idx, 1.0), []))
    assert got["sessions"] == 1
    assert got["years"] == pytest.approx(1 / 365.25)
    assert got["total_return"] == pytest.approx(0.05)
    for key in ("ann_volatility", "sharpe", "psr"):
        assert math.isnan(got[key]), key  # ddof=1 needs two bars


def _flat(idx, w: float) -> pd.DataFrame:
    return pd.DataFrame({"a": np.full(len(idx), w)}, idx)


# --------------------------------------------------------------------------- constant equity


@pytest.mark.parametrize("cash_rate", [0.0, 0.0001])
def test_constant_equity(cash_rate):
    # Equity that never moves from the initial cash: every return is exactly 0, so there is no
    # drawdown and the excess returns (-cash_rate every bar) have zero standard deviation. The
    # Sharpe ratio is then undefined and reported as nan (not 0, not inf), and so are skew,
    # kurtosis and the PSR. The Sortino ratio is nan when there is no downside at all (cash 0)
    # and -sqrt(periods_per_year) when the constant excess return is negative (its downside
    # deviation equals its size).
    idx = pd.bdate_range("2024-01-01", periods=20)
    sim = make_sim(pd.Series(1000.0, idx), 1000.0, np.full(20, cash_rate), _flat(idx, 0.0), [])
    got = compute_metrics(sim)
    assert got["max_drawdown"] == 0.0
    assert got["max_drawdown_start"] is None and got["max_drawdown_end"] is None
    assert got["total_return"] == 0.0 and got["cagr"] == 0.0 and got["ann_volatility"] == 0.0
    for key in ("sharpe", "calmar", "skew", "kurtosis", "psr"):
        assert math.isnan(got[key]), key
    assert got["exposure"] == 0.0
    if cash_rate == 0.0:
        assert math.isnan(got["sortino"])
    else:
        assert got["sortino"] == pytest.approx(-math.sqrt(got["periods_per_year"]))


# --------------------------------------------------------------------------- undefined ratios


def _all_cash(cash_rate: float = 0.03, n: int = 2000):
    """The issue's example: one asset, never held, cash earning ``cash_rate``."""
    idx = pd.bdate_range("2015-01-01", periods=n)
    px = pd.DataFrame({"A": np.linspace(100, 120, n)}, index=idx)
    return simulate(px, pd.DataFrame({"A": 0.0}, index=idx), init_cash=1e5, cash_rate=cash_rate)


@pytest.mark.parametrize("cash_rate", [0.03, 0.001, 0.15, -0.01])
def test_all_cash_run_has_undefined_sharpe(cash_rate):
    # Before: Sharpe 652.4, PSR 0.99 (cash 3 %) - a ratio of two rounding errors. The excess returns
    # are not exactly 0 (so "sd > 0" passed) but 0 +/- under an ulp of 1.
    res = _all_cash(cash_rate)
    x = (res.returns - res.sim.cash_return).to_numpy()
    assert 0.0 < np.std(x, ddof=1) < ULP  # the case is what it says: dust, not exactly zero
    for key in ("sharpe", "sortino", "psr", "skew", "kurtosis"):
        assert math.isnan(res.metrics[key]), key
    # A positive rate never draws down; a negative one really does (Calmar then defined).
    assert math.isnan(res.metrics["calmar"]) == (cash_rate > 0)
    # The cash return itself varies (three days' interest over a weekend): a real volatility.
    assert res.metrics["ann_volatility"] > 0 and res.metrics["total_return"] != 0
    assert clean(res.metrics)["sharpe"] is None  # null in JSON


def test_a_tiny_real_position_keeps_its_sharpe():
    # The floor is rounding error, not "small": 1e-7 of the book in a volatile asset still has a
    # Sharpe ratio, equal to the plain-Python one.
    idx = pd.bdate_range("2015-01-01", periods=500)
    rets = np.random.default_rng(4).normal(0.0005, 0.01, 500)
    px = pd.DataFrame({"A": 100 * np.cumprod(1 + rets)}, index=idx)
    res = simulate(px, pd.DataFrame({"A": 1e-7}, index=idx), init_cash=1e5, cash_rate=0.03)
    x = (res.returns - res.sim.cash_return).to_numpy()[1:]
    assert 1e-11 < np.std(x) < 1e-8
    want = reference_metrics(res.sim)
    assert math.isfinite(res.metrics["sharpe"])
    for key in ("sharpe", "sortino", "psr", "skew", "kurtosis"):
        assert res.metrics[key] == pytest.approx(want[key], rel=1e-6), key


def test_a_run_that_is_its_benchmark_has_undefined_information_ratio():
    # Benchmark returns computed from the same curve at a third of the scale: equal to the run's
    # up to rounding, so the active returns are dust and their ratio meaningless.
    sim, _ = _case(5)
    third = sim.equity / 3.0
    bench = third / third.shift(1, fill_value=sim.init_cash / 3.0) - 1.0
    active = (sim.returns - bench).to_numpy()
    assert 0.0 < np.abs(active).max() < 4 * ULP
    got = compute_metrics(sim, bench)
    assert math.isnan(got["information_ratio"])
    assert got["tracking_error"] < 1e-13
    assert got["beta"] == pytest.approx(1.0, rel=1e-12)


def test_a_constant_benchmark_has_undefined_beta_and_alpha():
    sim, _ = _case(6)
    bench = pd.Series(0.0003, sim.equity.index) * (1.0 / 3.0) * 3.0  # constant, maybe off by an ulp
    got = compute_metrics(sim, bench)
    assert math.isnan(got["beta"]) and math.isnan(got["alpha"])
    assert math.isfinite(got["information_ratio"])


def test_a_one_ulp_drawdown_has_undefined_calmar():
    # A rising curve with one step down by one ulp: a drawdown of -1.4e-16 gave a Calmar of 1e14.
    idx = pd.bdate_range("2020-01-01", periods=50)
    eq = 100.0 * 1.001 ** np.arange(1, 51)
    eq[20] = np.nextafter(eq[19], 0.0)
    sim = make_sim(pd.Series(eq, idx), 100.0, np.zeros(50), _flat(idx, 1.0), [])
    got = compute_metrics(sim)
    assert -1e-15 < got["max_drawdown"] < 0.0
    assert math.isnan(got["calmar"]) and math.isfinite(got["sharpe"])


def test_degenerate_curve_scaled_by_a_third_stays_undefined():
    # 3, 9, 27... with constant cash: an exactly constant excess return. Scaled by 1/3 it picks up
    # rounding (variance 1e-32 instead of 0) and used to get a Sharpe ratio of ~1e15.
    idx = pd.bdate_range("2020-01-01", periods=12)
    eq = 3.0 ** np.arange(1, 13)
    for k in (1.0, 1.0 / 3.0, 0.1):
        sim = make_sim(pd.Series(eq * k, idx), 1.0 * k, np.full(12, 1e-4), _flat(idx, 1.0), [])
        got = compute_metrics(sim)
        assert math.isnan(got["sharpe"]) and math.isnan(got["psr"]), k


def test_the_precision_floor_is_one_rule_in_numpy_and_in_kernels():
    # spread_floor (metrics, numpy) and variance_is_zero_nb (PBO, squared, no square root) must
    # say the same thing, and both must be the documented rule written out here.
    rng = np.random.default_rng(1)
    rms = 10.0 ** rng.uniform(-16, 1, 400)
    for k in (0.5, 0.999, 1.001, 2.0):  # around the floor, off the exact boundary
        for r in rms:
            rule = max(1024 * ULP * (1 + r), 1e-4 * r)
            sd = k * rule
            zero = not sd > rule
            assert (not sd > mk.spread_floor(r)) == zero
            assert mk.variance_is_zero_nb.py_func(sd * sd, r * r) == zero
    assert mk.variance_is_zero_nb.py_func(float("nan"), 1.0)  # no variance: no ratio


# --------------------------------------------------------------------------- properties


@st.composite
def integer_curves(draw):
    # Whole-number equity keeps every comparison free of near-ties, so dates must match exactly.
    n = draw(st.integers(2, 60))
    eq = draw(st.lists(st.integers(1, 10**6), min_size=n, max_size=n))
    init_cash = draw(st.integers(1, 10**6))
    cash = draw(st.lists(st.floats(-0.001, 0.001), min_size=n, max_size=n))
    held = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    traded = draw(st.lists(st.integers(-(10**6), 10**6), max_size=3 * n))
    trade_rets = draw(st.lists(st.floats(-1.0, 5.0), max_size=10))
    idx = pd.bdate_range("2015-01-01", periods=n)
    return make_sim(
        pd.Series(np.array(eq, dtype=float), idx),
        float(init_cash),
        np.array(cash),
        pd.DataFrame({"a": np.array(held, dtype=float)}, idx),
        np.array(traded, dtype=float),
        trade_rets,
    )


# Exact scale factors (integers and powers of two): k * E_t / (k * E_{t-1}) then rounds exactly
# like E_t / E_{t-1}. With an inexact factor (say 1/3) a degenerate curve such as 3, 9, 27 with
# constant cash turns an exactly-zero excess variance (nan Sharpe) into 1e-32 (a huge Sharpe): a
# property of floating point, not of the formulas, so inexact factors are checked above on
# non-degenerate random curves instead.
SCALES = st.one_of(st.integers(1, 10**6).map(float), st.integers(1, 30).map(lambda j: 2.0**-j))


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@settings(max_examples=100, deadline=None)
@given(sim=integer_curves(), k=SCALES)
def test_scaling_equity_and_cash_leaves_ratios_unchanged(sim, k):
    a = compute_metrics(sim)
    b = compute_metrics(_scaled(sim, k))
    for key in SCALE_FREE:
        assert np.isclose(a[key], b[key], rtol=1e-12, atol=0.0, equal_nan=True), (key, a, b)
    for key in EXACT_KEYS:
        assert a[key] == b[key], key
    assert b["final_equity"] == pytest.approx(a["final_equity"] * k, rel=1e-12)


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@settings(max_examples=100, deadline=None)
@given(sim=integer_curves())
def test_integer_curves_match_reference(sim):
    # A constant excess return is test_constant_equity's case (see there); kept out of here so
    # that this property stays deterministic.
    assume((sim.returns - sim.cash_return).nunique() > 1)
    assert_metrics_match(compute_metrics(sim), reference_metrics(sim), rtol=1e-7)


positive = st.floats(1e-3, 1e9, allow_nan=False, allow_infinity=False)


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
@settings(max_examples=150, deadline=None)
@given(eq=st.lists(positive, min_size=1, max_size=80), init_cash=positive)
def test_drawdown_is_never_positive(eq, init_cash):
    idx = pd.bdate_range("2020-01-01", periods=len(eq))
    sim = make_sim(pd.Series(eq, idx), init_cash, np.zeros(len(eq)), _flat(idx, 0.0), [])
    got = compute_metrics(sim)
    assert -1.0 < got["max_drawdown"] <= 0.0
    start, trough, end = (
        got["max_drawdown_start"],
        got["max_drawdown_trough"],
        got["max_drawdown_end"],
    )
    if got["max_drawdown"] == 0.0:
        assert start is None and trough is None and end is None
    else:
        assert start <= trough and (end is None or trough < end)
        assert got["max_drawdown_days"] >= 0
