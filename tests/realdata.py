"""Real data folders for tests, assembled in a temp dir from the raw files in ``../shared/data``.

Nothing is copied into the repository: each test folder is made under ``tmp_path``. ``index_folder``
is the published-index layout (XSO = the All Ordinaries, XJO = the ASX 200; their opens are mostly
stale); ``etf_folder`` maps XSO and XJO to the ISO.AX and IOZ.AX ETFs (tradable opens). Tests that
use them are skipped with a reason where ``../shared/data`` is absent.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
COMMON = {
    "RUT": "rut_daily_yahoo.csv",
    "AUDUSD": "fred_dexusal_2000_2024.csv",
    "FED_TARGET": "fred_rates_daily.csv",
    "US10Y": "fred_rates_daily.csv",
    "RBA_CASH": "rba_f1_cash_rate_daily.csv",
}
INDEX = {"XSO": "aord_2011_2025.csv", "XJO": "axjo_2011_2025.csv"}
ETF = {"XSO": "iso_ax_daily.csv", "XJO": "ioz_ax_daily.csv"}
AUDUSD = """\
    [AUDUSD]
    name = "AUD/USD, FRED DEXUSAL"
    kind = "fx"
    currency = "USD"
    base = "AUD"
    calendar = "weekdays"
    tz = "America/New_York"
    fixing = "noon New York buying rate"
    known = "D+0 12:00"
    providers = { fred = "DEXUSAL" }
"""
ASX = """\
    [{key}]
    name = "{name}"
    kind = "{kind}"
    currency = "AUD"
    calendar = "XASX"
    tz = "Australia/Sydney"
    returns = "price"
    known = "session_close"
"""

needs_real_data = pytest.mark.skipif(
    not all((SHARED / n).is_file() for n in (*COMMON.values(), *INDEX.values(), *ETF.values())),
    reason=f"real data folder {SHARED} is absent (it sits beside the repository)",
)


def _folder(dest: Path, asx: dict[str, str], kind: str) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for key, name in {**COMMON, **asx}.items():
        shutil.copyfile(SHARED / name, dest / f"{key}.csv")
    toml = AUDUSD + "".join(
        "\n" + ASX.format(key=k, name=f"{n} as {k}", kind=kind) for k, n in asx.items()
    )
    (dest / "instruments.toml").write_text(textwrap.dedent(toml), encoding="utf-8")
    return dest


def index_folder(dest: Path) -> Path:
    """XSO = All Ordinaries, XJO = ASX 200 (index files 2011-2025), with RUT, rates and AUD/USD."""
    return _folder(dest, INDEX, "index")


def etf_folder(dest: Path) -> Path:
    """XSO = ISO.AX, XJO = IOZ.AX (ETFs 2010-12 .. 2025-01), with RUT, rates and AUD/USD."""
    return _folder(dest, ETF, "etf")
