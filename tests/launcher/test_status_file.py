"""status.json: this invocation's symbols as it knows them, every other one as the records say."""

import json
from pathlib import Path
from typing import Any

from retrain_assets.launcher.ledger import StatusFile
from retrain_assets.launcher.status import SymbolStatus


class Records:
    """Stands in for the instance: the newest run of each symbol of the date, as an entry."""

    def __init__(self, entries: dict[str, dict[str, Any]]) -> None:
        self.entries = entries

    def refresh(self, previous: dict[str, Any], symbols: set[str]) -> dict[str, Any]:
        merged = {**previous, **self.entries}
        return {s: merged[s] for s in symbols if s in merged}


def _symbols(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())["symbols"]


def test_the_last_writer_writes_the_records_for_symbols_of_other_invocations(tmp_path):
    path = tmp_path / "status.json"
    records = Records({})
    first = StatusFile(path, {}, records=records, lock=tmp_path / "lock")  # type: ignore[arg-type]
    second = StatusFile(path, {}, records=records, lock=tmp_path / "lock")  # type: ignore[arg-type]
    first.write({"BTCUSDT": SymbolStatus("BTCUSDT", "running", run_id="r1")}, final=True)
    second.write({"SOLUSDT": SymbolStatus("SOLUSDT", "running", run_id="r2")}, final=True)
    first.write({"BTCUSDT": SymbolStatus("BTCUSDT", "success", run_id="r1")}, final=True)
    records.entries["BTCUSDT"] = {"status": "success", "run_id": "r1"}
    second.write({"SOLUSDT": SymbolStatus("SOLUSDT", "success", run_id="r2")}, final=True)
    assert _symbols(path) == {
        "BTCUSDT": {"status": "success", "run_id": "r1"},
        "SOLUSDT": {"status": "success", "run_id": "r2"},
    }


def test_a_symbol_another_run_had_is_shown_as_the_records_have_it(tmp_path):
    path = tmp_path / "status.json"
    records = Records({"ETHUSDT": {"status": "success", "run_id": "theirs"}})
    status = StatusFile(path, {}, records=records, lock=tmp_path / "lock")  # type: ignore[arg-type]
    busy = SymbolStatus("ETHUSDT", "skipped", skip_reason="being trained now by run theirs")
    status.write({"ETHUSDT": busy}, final=True, from_records=frozenset({"ETHUSDT"}))
    assert _symbols(path)["ETHUSDT"] == {"status": "success", "run_id": "theirs"}


def test_without_records_other_symbols_stay_as_the_file_had_them(tmp_path):
    path = tmp_path / "status.json"
    path.write_text(json.dumps({"symbols": {"BTCUSDT": {"status": "skipped"}}}))
    StatusFile(path, {}).write({"SOLUSDT": SymbolStatus("SOLUSDT", "success")}, final=True)
    assert _symbols(path) == {"BTCUSDT": {"status": "skipped"}, "SOLUSDT": {"status": "success"}}
