"""A real CLI invocation with one failing symbol sends exactly three Telegram messages."""

import json
from pathlib import Path

import pandas as pd
import pytest

from retrain_assets.core.data.synthetic import SyntheticSource
from tests.e2e.conftest import DATE, run_cli, write_candles_without_volume
from tests.fakes.fake_telegram import FAKE_TOKEN, FakeTelegram

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def write_freqtrade_candles(folder: Path, symbol: str, base: str, quote: str) -> None:
    """About 215 days of hourly bars ending after DATE, as freqtrade's JSON rows."""
    bars, _ = SyntheticSource().load(
        symbol, pd.Timestamp(DATE, tz="UTC") + pd.Timedelta(days=2), pd.Timedelta(days=215)
    )
    ms = bars["timestamp"].astype("int64") // 10**6
    columns = ["open", "high", "low", "close", "volume"]
    rows = [
        [int(t), *map(float, values)] for t, values in zip(ms, bars[columns].values, strict=True)
    ]
    (folder / f"{base}_{quote}-1h.json").write_text(json.dumps(rows))


def test_a_cli_run_with_one_failing_symbol_sends_start_failure_and_completion(
    artifacts, tmp_path, monkeypatch
):
    data = tmp_path / "candles"
    data.mkdir()
    write_freqtrade_candles(data, "BTCUSDT", "BTC", "USDT")
    write_candles_without_volume(data, "NOPEUSDT")
    with FakeTelegram() as tg:
        env = {
            "RETRAIN_DATA_SOURCE": "files",
            "RETRAIN_DATA_DIR": str(data),
            "TELEGRAM_TOKEN": tg.token,
            "TELEGRAM_CHAT_ID": tg.chat_id,
            "TELEGRAM_API_BASE_URL": tg.base_url,
            "DAGSTER_UI_BASE_URL": "http://127.0.0.1:3000",
        }
        result = run_cli("--symbols", "BTCUSDT,NOPEUSDT", "--dry_run", "--date", DATE, env=env)
        texts = tg.texts()

    output = result.stdout + result.stderr
    assert "retraining started" in texts[0], output
    assert [t.split("\n")[0].split()[0] for t in texts] == ["🚀", "❌", "⚠️"]
    assert "<b>NOPEUSDT</b> failed" in texts[1] and "DataSourceError" in texts[1]
    assert 'href="http://127.0.0.1:3000/runs/' in texts[1]
    assert "Succeeded: <b>1</b> · Failed: <b>1</b> · Skipped: <b>0</b>" in texts[2]
    assert f"Production: {DATE}: 2 symbols · 1 failed · 0 in production" in texts[2], texts[2]
    assert all(FAKE_TOKEN not in t for t in texts)
    assert FAKE_TOKEN not in output
