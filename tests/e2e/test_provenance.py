"""Issue 18: a record that knows what made it, tried as a user would, through the real CLI.

"Done" means intact and made the same way: the same data source and the same method. A run
on another source or method rebuilds every symbol-day and says why; the same configuration
twice skips; Dagster marks what was made another way stale in the UI; the walk-forward report
and the gate pool only the days of the current method.
"""

import json
import os
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from retrain_assets.adapters.file_source import FileSource
from retrain_assets.core.model.provenance import bars_sha256
from tests.e2e.conftest import run_cli, status_of

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

FAST = {"RETRAIN_TRAINER": "bench.noop_trainer:NoopTrainer"}
REAL_DATE = "2021-06-30"


def _lines(result) -> dict[str, str]:
    """The CLI's one line per finished symbol, by symbol (indented: the closing production
    table's rows are not)."""
    found = {}
    for line in result.stdout.splitlines():
        parts = line.split()
        if line.startswith("  ") and len(parts) > 1 and parts[0].endswith("USDT"):
            found[parts[0]] = line
    return found


def _latest_metadata(asset: str, partition: str) -> dict:
    with dg.DagsterInstance.get() as instance:
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[partition]),
            limit=1,
        ).records
    assert records, f"no {asset} materialization of {partition}"
    return {k: v.value for k, v in records[0].asset_materialization.metadata.items()}


def _config_json(partition: str) -> dict:
    entry = _latest_metadata("model", partition)["files"]["config.json"]
    return json.loads(Path(entry["path"]).read_text())


def test_synthetic_then_files_retrains_every_symbol_and_the_same_configuration_skips(
    dagster_home, binance_dir, monkeypatch
):
    monkeypatch.setenv("RETRAIN_START_DATE", "2020-12-01")
    args = ("--date", REAL_DATE, "--symbols", "BTCUSDT,ETHUSDT")
    files = {**FAST, "RETRAIN_DATA_SOURCE": "files", "RETRAIN_DATA_DIR": str(binance_dir)}

    first = run_cli(*args, env=FAST)
    second = run_cli(*args, env=files)
    status = status_of(Path(os.environ["RETRAIN_ARTIFACT_ROOT"]), REAL_DATE)
    third = run_cli(*args, env=files)

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    for line in _lines(second).values():
        assert " success " in line, line
        assert "(stale: data source synthetic" in line, line
        assert f"-> files {binance_dir.resolve()}" in line, line
    assert set(_lines(second)) == {"BTCUSDT", "ETHUSDT"}
    assert status["BTCUSDT"]["stale"].startswith("data source synthetic seed 7 -> files")
    assert status["BTCUSDT"]["source"] == f"files {binance_dir.resolve()}"
    source = FileSource(binance_dir)
    for symbol in ("BTCUSDT", "ETHUSDT"):
        partition = f"{REAL_DATE}|{symbol}"
        end = pd.Timestamp(REAL_DATE, tz="UTC") + pd.Timedelta(days=1)
        bars, _ = source.load(symbol, end, pd.Timedelta(days=180))
        made = _config_json(partition)["provenance"]
        assert made["source"] == {"kind": "files", "identity": f"files {binance_dir.resolve()}"}
        assert made["bars_sha256"] == bars_sha256(bars)
        assert made["method"]["settings"]["lookback_days"] == 180
        assert made["trainer"] == FAST["RETRAIN_TRAINER"]
        features = _latest_metadata("features", partition)
        assert features["provenance"]["bars_sha256"] == bars_sha256(bars)
        assert features["source"] == f"files {binance_dir.resolve()}"
    assert third.returncode == 0, third.stderr
    assert all(" skipped " in line for line in _lines(third).values()), third.stdout


STALENESS = """
query Staleness($keys: [AssetKeyInput!], $partition: String) {
  assetNodes(assetKeys: $keys) {
    assetKey { path }
    staleStatus(partition: $partition)
    staleCauses(partition: $partition) { reason category }
  }
}
"""


def _staleness(base: str, partition: str) -> dict[str, tuple[str, list[str]]]:
    """Each asset's stale status of `partition` and its causes, as the UI reads them."""
    from tests.e2e.dagster_dev import graphql

    keys = [{"path": [a]} for a in ("features", "model", "walk_forward")]
    nodes = graphql(base, STALENESS, {"keys": keys, "partition": partition})["assetNodes"]
    return {
        n["assetKey"]["path"][-1]: (n["staleStatus"], [c["reason"] for c in n["staleCauses"]])
        for n in nodes
    }


def _report(date: str) -> dict:
    folder = Path(os.environ["RETRAIN_ARTIFACT_ROOT"]) / "summary" / (date.replace("-", "") + "Z")
    return json.loads((folder / "walk_forward.json").read_text())


@pytest.mark.slow(seconds=100)
def test_a_changed_method_is_stale_in_dagster_rebuilt_by_the_cli_and_starts_a_new_family(
    dagster_home, tmp_path
):
    from tests.e2e.dagster_dev import free_port, start_webserver, stop_group

    settings = tmp_path / "settings.yaml"
    settings.write_text("training:\n  lookback_days: 120\n")
    new = {**FAST, "RETRAIN_SETTINGS": str(settings)}
    d1, d2, d3 = "2025-04-28", "2025-04-29", "2025-04-30"
    for date in (d1, d2):
        assert run_cli("--date", date, "--symbols", "BTCUSDT", env=FAST).returncode == 0

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    webserver = start_webserver(tmp_path / "webserver.log", port, new)
    try:
        before = _staleness(base, f"{d2}|BTCUSDT")
        rebuilt = run_cli("--date", d2, "--symbols", "BTCUSDT", env=new)
        after = _staleness(base, f"{d2}|BTCUSDT")
    finally:
        stop_group(webserver)

    assert before["features"] == ("STALE", ["has a new code version"])
    assert before["model"][0] == "STALE"
    assert "has a new code version" in before["model"][1]
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "(stale: method lookback_days 180 -> 120)" in _lines(rebuilt)["BTCUSDT"]
    assert after["features"] == ("FRESH", [])
    assert after["model"] == ("FRESH", [])

    # d2's day was traded by d1's model (the old method); d3's by d2's rebuilt model.
    assert run_cli("--date", d3, "--symbols", "BTCUSDT", env=new).returncode == 0
    families = _report(d3)["families"]
    assert [(f["first_day"], f["current"]) for f in families] == [(d2, False), (d3, True)]
    champion = _latest_metadata("champion", f"{d3}|BTCUSDT")
    assert champion["gate_family"].split("@")[0] == families[1]["method"]
    assert "left out" in champion["method_families"]

    # A backfill of d1 under the new method: d2's day is traded again by the rebuilt model.
    assert run_cli("--date", d1, "--symbols", "BTCUSDT", env=new).returncode == 0
    again = run_cli("--date", d2, "--symbols", "BTCUSDT", env=new)
    assert "since rebuilt another way" in _lines(again)["BTCUSDT"], again.stdout
    assert run_cli("--date", d3, "--symbols", "BTCUSDT", env=new).returncode == 0
    families = _report(d3)["families"]
    assert [(f["first_day"], f["last_day"], f["current"]) for f in families] == [(d2, d3, True)]
