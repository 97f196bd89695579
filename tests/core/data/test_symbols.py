from pathlib import Path

import pandas as pd
import pytest

from retrain_assets.adapters.file_source import FileSource
from retrain_assets.adapters.symbol_files import read_symbol_file
from retrain_assets.core.data.symbols import (
    Selection,
    normalize_symbol,
    parse_selection,
    resolve_selection,
    universe_as_of,
    universe_for_day,
)
from retrain_assets.core.data.synthetic import SyntheticSource
from retrain_assets.core.errors import InvalidSymbolError
from tests.fakes.volume_spike import SPIKED, STEADY_ORDER, write_volume_spike


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("BTCUSDT", "BTCUSDT"),
        ("btcusdt", "BTCUSDT"),
        ("  ethusdt \n", "ETHUSDT"),
        ("BTC/USDT", "BTCUSDT"),
        ("btc-usdt", "BTCUSDT"),
        ("BTC_USDT", "BTCUSDT"),
        ("1000SHIBUSDT", "1000SHIBUSDT"),
        ("AB", "AB"),
        ("A" * 20, "A" * 20),
    ],
)
def test_normalize_symbol_accepts_common_spellings_of_a_pair(raw: str, expected: str) -> None:
    assert normalize_symbol(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "A",
        "A" * 21,
        "../x",
        "../../etc/passwd",
        "BTC/USDT/X",
        "BTC USDT",
        "BTC.USDT",
        "/BTCUSDT",
        "BTC/",
        "BTC;rm",
        "ÄBCUSDT",
        None,
        42,
    ],
)
def test_normalize_symbol_rejects_anything_else_and_quotes_the_input(raw: object) -> None:
    with pytest.raises(InvalidSymbolError) as caught:
        normalize_symbol(raw)

    assert repr(raw) in str(caught.value)


@pytest.mark.parametrize(
    ("spec", "top_n"),
    [("top1", 1), ("top20", 20), ("TOP500", 500), (" top7 ", 7)],
)
def test_top_n_selections_parse_with_n_from_1_to_500(spec: str, top_n: int) -> None:
    selection = parse_selection(spec, read_symbol_file)

    assert selection.kind == "top"
    assert selection.top_n == top_n
    assert selection.symbols == ()


@pytest.mark.parametrize("spec", ["top0", "top501", "top-1"])
def test_top_n_outside_1_to_500_is_rejected(spec: str) -> None:
    with pytest.raises(InvalidSymbolError):
        parse_selection(spec, read_symbol_file)


def test_a_comma_list_is_normalised_and_deduplicated_in_order() -> None:
    selection = parse_selection("eth/usdt, BTCUSDT,,ETHUSDT, sol-usdt", read_symbol_file)

    assert selection == Selection(
        kind="list",
        top_n=None,
        symbols=("ETHUSDT", "BTCUSDT", "SOLUSDT"),
        source_text="eth/usdt, BTCUSDT,,ETHUSDT, sol-usdt",
    )


@pytest.mark.parametrize("spec", ["", "  ", ",", " , ,"])
def test_an_empty_selection_is_an_error(spec: str) -> None:
    with pytest.raises(InvalidSymbolError):
        parse_selection(spec, read_symbol_file)


def test_a_bad_symbol_in_a_comma_list_is_named() -> None:
    with pytest.raises(InvalidSymbolError, match=r"'\.\./x'"):
        parse_selection("BTCUSDT,../x", read_symbol_file)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("symbol\nBTCUSDT\n\nETH/USDT\nBTCUSDT\n", ("BTCUSDT", "ETHUSDT")),
        ("weight,symbol\n0.5,BTCUSDT\n0.5,SOLUSDT\n", ("BTCUSDT", "SOLUSDT")),
        ("BTCUSDT,0.5\nXRPUSDT,0.2\n", ("BTCUSDT", "XRPUSDT")),  # no header: first column
        ("pair\nBTC/USDT\n", ("BTCUSDT",)),
        ("\ufeffSymbol\r\nADAUSDT\r\n", ("ADAUSDT",)),  # Excel's BOM and CRLF
    ],
)
def test_a_csv_file_selection_reads_the_symbol_column_or_the_first_column(
    tmp_path: Path, content: str, expected: tuple[str, ...]
) -> None:
    path = tmp_path / "universe.csv"
    path.write_text(content, encoding="utf-8")

    selection = parse_selection(str(path), read_symbol_file)

    assert selection.kind == "list"
    assert selection.symbols == expected


def test_a_bad_symbol_in_a_csv_file_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "universe.csv"
    path.write_text("symbol\nBTCUSDT\n\n../secrets\n", encoding="utf-8")

    with pytest.raises(InvalidSymbolError, match=r"universe\.csv, line 4: .*'\.\./secrets'"):
        parse_selection(str(path), read_symbol_file)


def test_a_missing_csv_file_is_an_invalid_selection(tmp_path: Path) -> None:
    with pytest.raises(InvalidSymbolError, match="cannot read symbol file"):
        parse_selection(str(tmp_path / "absent.csv"), read_symbol_file)


def test_a_csv_file_with_only_a_header_is_an_empty_selection(tmp_path: Path) -> None:
    path = tmp_path / "universe.csv"
    path.write_text("symbol\n\n", encoding="utf-8")

    with pytest.raises(InvalidSymbolError, match="names no symbols"):
        parse_selection(str(path), read_symbol_file)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        # Latin-1 or random bytes: the byte, its offset and its line are named.
        (b"symbol\nBTCUSDT\n\xff\xfe\n", r"line 3: not UTF-8 text \(byte 0xff at offset 15\)"),
        (b"symbol\nBTCUSDT\nETH\xe9USDT\n", r"line 3: .*byte 0xe9 at offset 18"),
        # Excel's "Unicode text" export is UTF-16: said so, with the fix.
        ("symbol\nBTCUSDT\n".encode("utf-16"), r"line 1: .*it looks like UTF-16; save the file"),
        # A BOM is skipped, yet offsets count the file's own bytes.
        (b"\xef\xbb\xbfsymbol\n\xc3\n", r"line 2: .*byte 0xc3 at offset 10"),
        # A stray quote would join the lines after it into one symbol: refused.
        (b'symbol\nBTCUSDT\n"ETHUSDT\nSOLUSDT\n', r"line 3: not valid CSV: unexpected end of data"),
        (b"symbol\n" + b"A" * 200_000 + b"\n", r"line 2: not valid CSV: field larger than"),
    ],
)
def test_bad_bytes_in_a_csv_file_name_the_file_and_where(
    tmp_path: Path, data: bytes, message: str
) -> None:
    path = tmp_path / "universe.csv"
    path.write_bytes(data)

    with pytest.raises(InvalidSymbolError, match=r"universe\.csv, " + message) as info:
        parse_selection(str(path), read_symbol_file)

    assert "\n" not in str(info.value)


def test_resolving_a_list_returns_it_as_given() -> None:
    selection = parse_selection("SOLUSDT,BTCUSDT", read_symbol_file)

    assert resolve_selection(selection, SyntheticSource(), pd.Timestamp("2021-01-01")) == [
        "SOLUSDT",
        "BTCUSDT",
    ]


def test_resolving_top_n_ranks_the_source_by_quote_volume() -> None:
    resolved = resolve_selection(
        parse_selection("top3", read_symbol_file),
        SyntheticSource(),
        pd.Timestamp("2019-03-01", tz="UTC"),
    )

    assert len(resolved) == 3
    assert set(resolved[:2]) == {"BTCUSDT", "ETHUSDT"}


def test_universe_as_of_is_the_days_midnight_utc() -> None:
    assert universe_as_of("2021-05-31") == pd.Timestamp("2021-05-31 00:00", tz="UTC")


def test_a_volume_spike_on_the_day_does_not_change_that_days_universe(tmp_path: Path) -> None:
    source = FileSource(write_volume_spike(tmp_path, "2021-01-11"))
    top2 = parse_selection("top2", read_symbol_file)

    assert universe_for_day(top2, source, "2021-01-11") == STEADY_ORDER[:2]
    # The spike is in the data: ranked through the day's end (the old rule) it leads, and
    # the next day's universe, which knows the spike, starts with it.
    assert resolve_selection(top2, source, pd.Timestamp("2021-01-12", tz="UTC"))[0] == SPIKED
    assert universe_for_day(top2, source, "2021-01-12")[0] == SPIKED
