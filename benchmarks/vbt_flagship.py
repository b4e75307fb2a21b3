"""The flagship backtest written as a plain vectorbt script: the rival of ``backtest run
russell-fed-rotation`` in the single-run benchmark (``bench_single``). No crosscurrent imports.

The same work as the CLI's default run, as a vectorbt user would write it:

1. read the sample data (``data/sample``: RUT, XSO, XJO) and the FOMC decisions (``data/events``);
2. the rule: a Russell 2000 record close (above every earlier close) at most 30 calendar days after
   the last Fed cut announced before that close, known at the US close (16:00 New York), traded at
   the first ASX open after it; hold 20 ASX sessions (a new signal extends), 100 % XSO while held,
   100 % XJO otherwise; orders only where the target changes;
3. ``Portfolio.from_orders`` filling at the ASX open, valued at the close, 10 bps fees, 5 bps
   slippage, AUD 100,000; a buy-and-hold XJO benchmark through the same call;
4. write what the CLI writes: ``summary.json`` (``stats()`` of both), ``equity.csv``,
   ``orders.csv``, ``trades.csv`` and a self-contained ``report.html`` (``Portfolio.plot``).

Not modelled (the CLI does them; vectorbt has no equivalent here): interest on idle cash, the data
validation, the event study and the lookahead-safe alignment layer. The tiny cash residue left by
fees means the two equities differ by the interest on it; ``--check`` prints both total returns.
Run: ``.venv/bin/python benchmarks/vbt_flagship.py --out /tmp/vbt-run``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
import vectorbt as vbt

ROOT = Path(__file__).resolve().parent.parent
HOLD_DAYS, CUT_WINDOW_DAYS, FEES, SLIPPAGE, CASH = 20, 30, 1e-3, 5e-4, 100_000.0


def read_prices(key: str) -> pd.DataFrame:
    frame = pd.read_csv(ROOT / "data" / "sample" / f"{key}.csv", parse_dates=["date"])
    return frame.set_index("date")


def instants(dates: pd.DatetimeIndex, clock: str, tz: str) -> np.ndarray:
    local = (dates + pd.Timedelta(clock)).tz_localize(tz)
    return local.tz_convert("UTC").as_unit("ns").asi8


def fed_cuts_ns() -> np.ndarray:
    fomc = pd.read_csv(ROOT / "data" / "events" / "fomc.csv", parse_dates=["date"])
    cuts = fomc[fomc["change_bps"] < 0]
    # Before 1994 the Fed announced nothing: the move is known at the next US open.
    clock = cuts["time"].fillna("33:30")  # 09:30 the next day
    local = cuts["date"] + pd.to_timedelta(clock.str.replace(r"^(\d+):(\d+)$", r"\1:\2:00",
                                                             regex=True))  # fmt: skip
    return np.sort(pd.DatetimeIndex(local).tz_localize("America/New_York").as_unit("ns").asi8)


def signal(rut: pd.DataFrame, asx_open_ns: np.ndarray) -> np.ndarray:
    close = rut["close"]
    record = (close > close.cummax().shift(1)).to_numpy()
    known = instants(rut.index, "16:00:00", "America/New_York")
    cuts = fed_cuts_ns()
    pos = np.searchsorted(cuts, known, side="left") - 1
    cut_date = pd.DatetimeIndex(cuts[np.maximum(pos, 0)], tz="UTC").tz_convert("America/New_York")
    age = (rut.index - cut_date.tz_localize(None).normalize()).days.to_numpy()
    trigger = record & (pos >= 0) & (age <= CUT_WINDOW_DAYS)
    fired_upto = np.concatenate(([0], np.cumsum(trigger)))[np.searchsorted(known, asx_open_ns)]
    fired = np.diff(fired_upto, prepend=0) > 0
    held = pd.Series(fired).rolling(HOLD_DAYS, min_periods=1).max().to_numpy() > 0
    return held


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--check", action="store_true", help="print the total return")
    args = parser.parse_args()
    rut, xso, xjo = read_prices("RUT"), read_prices("XSO"), read_prices("XJO")
    idx = xso.index.intersection(xjo.index)
    close = pd.DataFrame({"XSO": xso["close"], "XJO": xjo["close"]}).loc[idx]
    opens = pd.DataFrame({"XSO": xso["open"], "XJO": xjo["open"]}).loc[idx]
    held = signal(rut, instants(idx, "10:00:00", "Australia/Sydney"))
    target = pd.DataFrame({"XSO": held * 1.0, "XJO": 1.0 - held}, index=idx)
    orders = target.where(target.diff().abs().sum(axis=1).ne(0) | (target.index == idx[0]))
    common = dict(fees=FEES, slippage=SLIPPAGE, init_cash=CASH, freq="1D")
    pf = vbt.Portfolio.from_orders(
        close,
        orders,
        size_type="targetpercent",
        price=opens,
        cash_sharing=True,
        group_by=True,
        call_seq="auto",
        **common,
    )
    bench = vbt.Portfolio.from_orders(
        close["XJO"],
        pd.Series(np.nan, idx).where(idx != idx[0], 1.0),
        size_type="targetpercent",
        price=opens["XJO"],
        **common,
    )
    args.out.mkdir(parents=True, exist_ok=True)
    stats = {"strategy": pf.stats().to_dict(), "benchmark_XJO": bench.stats().to_dict()}
    (args.out / "summary.json").write_text(json.dumps(stats, indent=2, default=str))
    equity = pd.DataFrame({"equity": pf.value(), "cash": pf.cash(), "benchmark_XJO": bench.value()})
    equity.join(pf.asset_value(group_by=False).add_prefix("value_")).to_csv(args.out / "equity.csv")
    pf.orders.records_readable.to_csv(args.out / "orders.csv", index=False)
    pf.trades.records_readable.to_csv(args.out / "trades.csv", index=False)
    pf.plot(subplots=["value", "cum_returns", "drawdowns", "underwater"]).write_html(
        args.out / "report.html", include_plotlyjs=True
    )
    if args.check:
        print(
            json.dumps({"total_return": float(pf.total_return()), "orders": len(pf.orders.records)})
        )


if __name__ == "__main__":
    main()
