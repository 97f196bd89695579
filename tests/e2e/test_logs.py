"""The spec's JSON logs from a real CLI run, with fake secrets that must never appear."""

import json
from pathlib import Path

import numpy as np
import pytest

from tests.e2e.conftest import DATE, run_cli, write_candles_without_volume

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
SECRETS = {
    "TELEGRAM_TOKEN": "123456:FAKE-telegram-token-do-not-log",
    "DROPBOX_ACCESS_TOKEN": "sl.FAKE-dropbox-token-do-not-log",
    "AWS_SECRET_ACCESS_KEY": "FAKEawsSECRETkeyDoNotLog0123456789",
}


def _write_btc_candles(folder: Path) -> None:
    """~200 days of hourly freqtrade candles for BTC/USDT only."""
    rng = np.random.default_rng(3)
    start_ms = 1_730_419_200_000  # 2024-11-01T00:00Z
    close = 60_000 * np.exp(np.cumsum(rng.normal(0, 0.004, 24 * 200)))
    rows = [
        [start_ms + i * 3_600_000, c * 0.999, c * 1.003, c * 0.997, c, 10 + abs(rng.normal())]
        for i, c in enumerate(close)
    ]
    (folder / "BTC_USDT-1h.json").write_text(json.dumps(rows))


def _events(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_run_writes_the_spec_events_and_no_secret(artifacts, dagster_home, tmp_path):
    candles = tmp_path / "candles"
    candles.mkdir()
    _write_btc_candles(candles)
    env = {
        **SECRETS,
        "RETRAIN_DATA_SOURCE": "files",
        "RETRAIN_DATA_DIR": str(candles),
        "TELEGRAM_CHAT_ID": "42",
        "TELEGRAM_API_BASE_URL": "http://127.0.0.1:9",
    }
    write_candles_without_volume(candles, "NOPEUSDT")
    result = run_cli("--symbols", "BTCUSDT,NOPEUSDT", "--date", DATE, env=env)
    assert result.returncode == 1  # NOPEUSDT's candles have no volume

    logs = artifacts / "logs" / "20250501Z"
    engine = _events(logs / "engine.log")
    names = {e["event"] for e in engine}
    assert names >= {
        "job_started",
        "coin_started",
        "coin_partial_saved",
        "coin_succeeded",
        "coin_failed",
        "upload_succeeded",
        "job_completed",
    }
    failed = next(e for e in engine if e["event"] == "coin_failed")
    assert failed["symbol"] == "NOPEUSDT" and failed["error_type"] == "DataSourceError"
    assert failed["stack_summary"]
    for event in engine:
        assert {"timestamp", "level", "event", "date", "run_id", "mode"} <= set(event)
    btc = _events(logs / "BTCUSDT" / "training.log")
    assert {e["symbol"] for e in btc} == {"BTCUSDT"}

    written = [p for p in artifacts.rglob("*") if p.is_file() and p.suffix in (".log", ".json")]
    texts = [p.read_text(errors="replace") for p in written] + [result.stdout, result.stderr]
    # The instance too: event logs, run records, compute logs (SQLite and plain files).
    stored = [p.read_bytes() for p in dagster_home.rglob("*") if p.is_file()]
    for secret in SECRETS.values():
        assert not any(secret in text for text in texts), secret
        assert not any(secret.encode() in blob for blob in stored), secret
