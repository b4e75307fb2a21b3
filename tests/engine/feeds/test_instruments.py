"""instruments.toml: the shipped definitions, the knowledge rule parser, and every error message."""

from __future__ import annotations

import os
import textwrap

import pytest

from engine import paths
from engine.errors import DataError
from engine.feeds.instruments import Instrument, Known, get_instrument, load_instruments

FLAGSHIP = {
    # key: (kind, currency, calendar, tz, returns)
    "RUT": ("index", "USD", "XNYS", "America/New_York", "price"),
    "XSO": ("index", "AUD", "XASX", "Australia/Sydney", "price"),
    "XJO": ("index", "AUD", "XASX", "Australia/Sydney", "price"),
    "AUDUSD": ("fx", "USD", "weekdays", "Europe/London", None),
    "FED_TARGET": ("rate", "USD", "weekdays", "America/New_York", None),
    "RBA_CASH": ("rate", "AUD", "weekdays", "Australia/Sydney", None),
    "US10Y": ("rate", "USD", "weekdays", "America/New_York", None),
}

VALID_INDEX = """\
    name = "Test index"
    kind = "index"
    currency = "AUD"
    calendar = "XASX"
    tz = "Australia/Sydney"
    returns = "price"
    known = "session_close"
"""


def _write(tmp_path, body: str, name: str = "instruments.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- the shipped file


@pytest.fixture(scope="module")
def shipped() -> dict[str, Instrument]:
    return load_instruments()


def test_shipped_file_is_the_one_in_data(shipped):
    assert paths.instruments_file().is_file()
    assert set(shipped) == set(load_instruments(paths.instruments_file()))


@pytest.mark.parametrize("key", sorted(FLAGSHIP))
def test_shipped_flagship_instrument(shipped, key):
    kind, currency, calendar, tz, returns = FLAGSHIP[key]
    inst = shipped[key]
    assert inst.key == key
    assert inst.name
    assert (inst.kind, inst.currency, inst.calendar, inst.tz) == (kind, currency, calendar, tz)
    assert inst.returns == returns
    assert inst.is_price == (kind != "rate")


def test_shipped_knowledge_rules(shipped):
    # Exchange indices are known at their session close; rates at the end of the next local day.
    for key in ("RUT", "XSO", "XJO"):
        assert shipped[key].known == Known(session_close=True)
    for key in ("FED_TARGET", "RBA_CASH", "US10Y"):
        assert shipped[key].known == Known(session_close=False, lag_days=1, minutes=1440)
        assert shipped[key].units == "percent"
    assert shipped["AUDUSD"].known == Known(session_close=False, lag_days=0, minutes=23 * 60)
    assert shipped["AUDUSD"].base == "AUD"


def test_shipped_providers_are_mappings(shipped):
    assert shipped["RUT"].providers == {"yahoo": "^RUT"}
    assert shipped["FED_TARGET"].providers["fred"] == "DFEDTARU"


# --------------------------------------------------------------------------- Known.parse


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("session_close", Known(session_close=True)),
        ("D+1 24:00", Known(session_close=False, lag_days=1, minutes=1440)),
        ("D+0 23:00", Known(session_close=False, lag_days=0, minutes=1380)),
        ("D+2 09:30", Known(session_close=False, lag_days=2, minutes=570)),
        ("D+0 00:00", Known(session_close=False, lag_days=0, minutes=0)),
    ],
)
def test_known_parse_accepts(text, expected):
    assert Known.parse(text, "here") == expected


@pytest.mark.parametrize(
    "text",
    ["D+1 25:00", "D-1 10:00", "tomorrow", "D+1 24:30", "D+1 10:60", "D+1 9:30", "D+1", ""],
)
def test_known_parse_rejects(text):
    with pytest.raises(DataError) as err:
        Known.parse(text, "somefile.toml [KEY]")
    msg = str(err.value)
    assert "somefile.toml [KEY]" in msg
    assert repr(text) in msg
    assert "session_close" in msg and "D+N HH:MM" in msg  # says how to fix it


# --------------------------------------------------------------------------- error paths


def test_missing_fields_are_all_named(tmp_path):
    path = _write(tmp_path, '[ABC]\nname = "x"\nkind = "index"\n')
    with pytest.raises(DataError) as err:
        load_instruments(path)
    msg = str(err.value)
    assert str(path) in msg and "[ABC]" in msg
    for field in ("currency", "calendar", "tz", "known"):
        assert field in msg


def test_bad_kind(tmp_path):
    path = _write(tmp_path, "[ABC]\n" + textwrap.dedent(VALID_INDEX).replace('"index"', '"stock"'))
    with pytest.raises(DataError) as err:
        load_instruments(path)
    msg = str(err.value)
    assert str(path) in msg and "[ABC]" in msg and "'stock'" in msg
    assert "index, etf, fx, rate" in msg


@pytest.mark.parametrize("returns_line", ["", 'returns = "gross"\n'])
def test_index_without_valid_returns(tmp_path, returns_line):
    body = textwrap.dedent(VALID_INDEX).replace('returns = "price"\n', returns_line)
    path = _write(tmp_path, "[ABC]\n" + body)
    with pytest.raises(DataError) as err:
        load_instruments(path)
    msg = str(err.value)
    assert str(path) in msg and "[ABC]" in msg and "returns" in msg
    assert '"price"' in msg and '"total"' in msg


def test_etf_needs_returns_but_fx_and_rate_do_not(tmp_path):
    path = _write(
        tmp_path,
        """\
        [FX]
        name = "fx"
        kind = "fx"
        currency = "USD"
        calendar = "weekdays"
        tz = "Europe/London"
        known = "D+0 23:00"

        [RATE]
        name = "rate"
        kind = "rate"
        currency = "USD"
        calendar = "weekdays"
        tz = "America/New_York"
        known = "D+1 24:00"
        """,
    )
    out = load_instruments(path)
    assert out["FX"].returns is None and out["RATE"].returns is None
    etf = _write(
        tmp_path,
        "[E]\n"
        + textwrap.dedent(VALID_INDEX)
        .replace('"index"', '"etf"')
        .replace('returns = "price"\n', ""),
        name="etf.toml",
    )
    with pytest.raises(DataError, match=r"\[E\].*returns"):
        load_instruments(etf)


def test_bad_known_names_file_and_key(tmp_path):
    body = textwrap.dedent(VALID_INDEX).replace('"session_close"', '"tomorrow"')
    path = _write(tmp_path, "[ABC]\n" + body)
    with pytest.raises(DataError) as err:
        load_instruments(path)
    assert f"{path} [ABC]" in str(err.value) and "'tomorrow'" in str(err.value)


def test_session_close_on_weekdays_calendar_is_refused(tmp_path):
    body = textwrap.dedent(VALID_INDEX).replace('"XASX"', '"weekdays"')
    path = _write(tmp_path, "[ABC]\n" + body)
    with pytest.raises(DataError) as err:
        load_instruments(path)
    assert f"{path} [ABC]" in str(err.value) and "exchange calendar" in str(err.value)


def test_invalid_toml_names_file(tmp_path):
    path = _write(tmp_path, "[ABC\nname = 1\n")
    with pytest.raises(DataError) as err:
        load_instruments(path)
    assert str(path) in str(err.value) and "TOML" in str(err.value)


def test_top_level_value_that_is_not_a_table(tmp_path):
    # A stray top-level key (or a forgotten [SECTION] header) is a user mistake: it must be a
    # DataError naming the file and key, not a TypeError from inside the parser.
    path = _write(tmp_path, "version = 1\n\n[ABC]\n" + textwrap.dedent(VALID_INDEX))
    with pytest.raises(DataError) as err:
        load_instruments(path)
    assert str(path) in str(err.value) and "version" in str(err.value)


def test_unknown_field_suggests(tmp_path):
    path = _write(tmp_path, "[ABC]\n" + textwrap.dedent(VALID_INDEX) + 'curency = "AUD"\n')
    with pytest.raises(DataError) as err:
        load_instruments(path)
    msg = str(err.value)
    assert f"{path} [ABC]" in msg and "'curency'" in msg and "Did you mean 'currency'?" in msg


def test_bad_units(tmp_path):
    path = _write(tmp_path, "[ABC]\n" + textwrap.dedent(VALID_INDEX) + 'units = "bps"\n')
    with pytest.raises(DataError) as err:
        load_instruments(path)
    assert f"{path} [ABC]" in str(err.value) and "'bps'" in str(err.value)
    assert '"percent"' in str(err.value) and '"fraction"' in str(err.value)


def test_checks_are_parsed_and_validated(tmp_path):
    ok = _write(
        tmp_path, "[ABC]\n" + textwrap.dedent(VALID_INDEX) + "checks = { max_move = 0.3 }\n"
    )
    assert load_instruments(ok)["ABC"].checks == {"max_move": 0.3}
    for bad, expected in [
        ("checks = { max_mov = 0.3 }", "Did you mean 'max_move'?"),
        ("checks = { max_move = -1 }", "checks.max_move = -1"),
        ("checks = { max_move = true }", "checks.max_move = True"),
        ('checks = "strict"', "checks must be a table"),
    ]:
        path = _write(tmp_path, "[ABC]\n" + textwrap.dedent(VALID_INDEX) + bad + "\n", "c.toml")
        with pytest.raises(DataError) as err:
            load_instruments(path)
        assert f"{path} [ABC]" in str(err.value) and expected in str(err.value), bad


# --------------------------------------------------------------------------- overrides


def test_overrides_replace_and_add(tmp_path):
    override = _write(
        tmp_path,
        "[XSO]\n"
        + textwrap.dedent(VALID_INDEX)
        .replace('"Test index"', '"Vanguard small caps ETF (XSO proxy)"')
        .replace('"index"', '"etf"')
        .replace('"price"', '"total"')
        + "\n[NEW]\n"
        + textwrap.dedent(VALID_INDEX),
    )
    out = load_instruments(overrides=override)
    assert out["XSO"].name == "Vanguard small caps ETF (XSO proxy)"
    assert (out["XSO"].kind, out["XSO"].returns) == ("etf", "total")
    assert out["NEW"].name == "Test index"
    assert out["RUT"] == load_instruments()["RUT"]  # untouched keys survive


def test_missing_override_file_is_ignored(tmp_path):
    assert load_instruments(overrides=tmp_path / "nope.toml") == load_instruments()


# --------------------------------------------------------------------------- get_instrument


@pytest.mark.parametrize(
    ("typo", "meant"), [("XS0", "XSO"), ("FED_TARGT", "FED_TARGET"), ("RBA_CAHS", "RBA_CASH")]
)
def test_get_instrument_suggests(shipped, typo, meant):
    with pytest.raises(DataError) as err:
        get_instrument(shipped, typo)
    msg = str(err.value)
    assert repr(typo) in msg
    assert f"Did you mean {meant!r}?" in msg
    assert "US10Y" in msg  # lists the known keys


def test_get_instrument_without_close_match(shipped):
    with pytest.raises(DataError) as err:
        get_instrument(shipped, "ZZZZZZZZZZ")
    assert "Did you mean" not in str(err.value)
    assert get_instrument(shipped, "XJO") is shipped["XJO"]


# --------------------------------------------------------------------------- untrusted files (issue 14)


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("name = [1]", "name"),
        ('name = ""', "name"),
        ("kind = 5", "kind"),
        ("kind = true", "kind"),
        ("currency = 7", "currency"),
        ('currency = "aud"', "currency"),
        ("base = 7", "base"),
        ("calendar = 5", "calendar"),
        ('calendar = "XASY"', "calendar"),
        ("tz = 5", "tz"),
        ('tz = "Mars/Olympus"', "tz"),
        ('tz = "../../etc/passwd"', "tz"),
        ("known = 5", "known"),
        ('known = "D+99999999 24:00"', "known"),
        ('known = "D+32 24:00"', "known"),
        ("returns = 5", "returns"),
        ("units = 5", "units"),
        ("providers = 5", "providers"),
        ('providers = "^AXSO"', "providers"),
        ("checks = 5", "checks"),
        ("checks = { max_move = nan }", "max_move"),
        ("checks = { max_move = inf }", "max_move"),
        ("fixing = 5", "fixing"),
        ("column = 5", "column"),
        ('column = " close"', "column"),
    ],
)
def test_every_field_refuses_a_bad_value_naming_file_key_and_field(tmp_path, line, field):
    name = line.split("=")[0].strip()
    body = "\n".join(x for x in textwrap.dedent(VALID_INDEX).splitlines() if not x.startswith(name))
    path = _write(tmp_path, f"[ABC]\n{body}\n{line}\n")
    with pytest.raises(DataError) as err:
        load_instruments(path)
    msg = str(err.value)
    assert f"{path} [ABC]" in msg and field in msg, msg


@pytest.mark.parametrize("key", ['"1"', '"../XSO"', '"a b"', '"X.Y"', '"é"', '"_X"'])
def test_keys_that_cannot_name_a_file_are_refused(tmp_path, key):
    path = _write(tmp_path, f"[{key.strip()}]\n" + textwrap.dedent(VALID_INDEX))
    with pytest.raises(DataError, match="is not a name; start it with a letter"):
        load_instruments(path)


def test_a_nested_table_is_an_unknown_field(tmp_path):
    path = _write(tmp_path, "[ABC]\n" + textwrap.dedent(VALID_INDEX) + "[ABC.extra]\na = 1\n")
    with pytest.raises(DataError, match=r"\[ABC\]: unknown field 'extra'"):
        load_instruments(path)


def test_lags_up_to_a_month_are_accepted():
    assert Known.parse("D+31 24:00", "here").lag_days == 31
    with pytest.raises(DataError, match="at most 31 days"):
        Known.parse("D+32 00:00", "here")
    with pytest.raises(DataError, match="at most 31 days"):
        Known.parse("D+" + "9" * 5000 + " 00:00", "here")


@pytest.mark.parametrize(
    ("source", "symbol", "ok"),
    [
        ("yahoo", "^AXSO", True),
        ("yahoo", "AUDUSD=X", True),
        ("yahoo", "ISO.AX", True),
        ("yahoo", "BRK-B", True),
        ("fred", "DFEDTARU", True),
        ("rba", "F1:FIRMMCRTD", True),
        ("rba", "F1.1:FIRMMBAB90", True),
        ("rba", "../../../../admin/delete?all=1&x=#", False),
        ("rba", "F1", False),
        ("rba", "F1/x:FIRMMCRTD", False),
        ("fred", "DFF&api_key=1", False),
        ("fred", "DFF%2F", False),
        ("yahoo", "../v8/x", False),
        ("yahoo", "ISO AX", False),
        ("yahoo", "", False),
        ("bloomberg", "XSO Index", False),
    ],
)
def test_provider_symbols_match_their_source_pattern(tmp_path, source, symbol, ok):
    body = textwrap.dedent(VALID_INDEX) + f'providers = {{ {source} = "{symbol}" }}\n'
    path = _write(tmp_path, "[ABC]\n" + body)
    if ok:
        assert load_instruments(path)["ABC"].providers == {source: symbol}
        return
    with pytest.raises(DataError) as err:
        load_instruments(path)
    assert f"{path} [ABC]: providers.{source}" in str(err.value)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b'[ABC]\nname = "caf\xe9"\n', "is not UTF-8"),
        ('[ABC]\nname = "x"\n'.encode("utf-16"), "is UTF-16"),
        (b"# " + b"x" * (2**20 + 1), "larger than the 1 MB"),
        (b"x = " + b"[" * 50_000 + b"]" * 50_000, "nested too deeply"),
    ],
)
def test_a_file_that_is_no_toml_text_is_refused_by_name(tmp_path, data, expected):
    path = tmp_path / "instruments.toml"
    path.write_bytes(data)
    with pytest.raises(DataError) as err:
        load_instruments(overrides=path)
    assert str(path) in str(err.value) and expected in str(err.value)


def test_a_byte_order_mark_is_harmless(tmp_path):
    path = tmp_path / "instruments.toml"
    path.write_bytes(b"\xef\xbb\xbf[ABC]\n" + textwrap.dedent(VALID_INDEX).encode())
    assert load_instruments(overrides=path)["ABC"].name == "Test index"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")
def test_instruments_toml_that_is_a_fifo_or_a_directory_is_refused_unopened(tmp_path):
    os.mkfifo(tmp_path / "instruments.toml")
    with pytest.raises(DataError, match="is a FIFO"):
        load_instruments(overrides=tmp_path / "instruments.toml")
    (tmp_path / "instruments.toml").unlink()
    (tmp_path / "instruments.toml").mkdir()
    with pytest.raises(DataError, match="is a directory"):
        load_instruments(overrides=tmp_path / "instruments.toml")


def test_a_calendar_alias_becomes_its_code(tmp_path):
    path = _write(tmp_path, "[ABC]\n" + textwrap.dedent(VALID_INDEX).replace('"XASX"', '"ASX"'))
    assert load_instruments(path)["ABC"].calendar == "XASX"
