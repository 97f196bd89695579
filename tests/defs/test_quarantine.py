"""Leftover run folders of a symbol-day moved aside by the champion step, through real runs."""

import json
from pathlib import Path

import dagster as dg
import pytest

from bench.noop_trainer import NoopTrainer
from retrain_assets.core.errors import PermanentError
from retrain_assets.definitions import defs
from retrain_assets.vocabulary.keys import partition_key

pytestmark = pytest.mark.slow
DATE = "2025-05-01"
KEY = str(partition_key(DATE, "BTCUSDT"))
RESUMED = [dg.AssetKey(a) for a in ("model", "metrics", "champion")]  # the plan's resume


class FailingTrainer(NoopTrainer):
    """Fails every fit for good (no retry), as a run that never finishes its model."""

    def train(self, job):
        raise PermanentError("the trainer gave up")


def _run(
    instance: dg.DagsterInstance, env: pytest.MonkeyPatch, trainer: str, selection=None
) -> dg.ExecuteInProcessResult:
    env.setenv("RETRAIN_TRAINER", trainer)
    return defs.resolve_job_def("retrain_symbol_day").execute_in_process(
        partition_key=KEY, instance=instance, asset_selection=selection, raise_on_error=False
    )


def _quarantined(result: dg.ExecuteInProcessResult) -> list[dict]:
    (mat,) = [
        m.materialization
        for m in result.get_asset_materialization_events()
        if m.asset_key == dg.AssetKey("champion")
    ]
    entry = mat.metadata.get("quarantined")
    return entry.value if entry is not None else []


def test_a_failed_runs_leftovers_move_aside_and_what_a_resume_reuses_stays(
    dagster_home, monkeypatch
):
    root = Path(str(dagster_home.parent / "artifacts"))
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("symbols", ["BTCUSDT"])
        failed = _run(instance, monkeypatch, "tests.defs.test_quarantine:FailingTrainer")
        assert not failed.success
        (folder,) = (root / "models" / "BTCUSDT").iterdir()
        recorded = sorted(p.name for p in folder.iterdir())
        (folder / ".model.bin.tmp-0123").write_bytes(b"half a model")  # a write cut short

        resumed = _run(instance, monkeypatch, "bench.noop_trainer:NoopTrainer", RESUMED)
        assert resumed.success
        (moved,) = _quarantined(resumed)
        assert moved["files"] == [".model.bin.tmp-0123"] and moved["kept"] == recorded
        assert moved["why"] == f"run {failed.run_id[:8]} ended FAILURE"
        assert sorted(p.name for p in folder.iterdir()) == recorded  # the ledger's, reused
        aside = root / "quarantine" / "models" / "BTCUSDT" / folder.name
        note = json.loads((aside / f"quarantined_by_{resumed.run_id[:8]}.json").read_text())
        assert note == moved and (aside / ".model.bin.tmp-0123").read_bytes() == b"half a model"

        forced = _run(instance, monkeypatch, "bench.noop_trainer:NoopTrainer")  # every asset again
        assert forced.success
        (moved,) = _quarantined(forced)
        assert moved["files"] == recorded and moved["kept"] == [] and not folder.exists()
        assert _quarantined(_run(instance, monkeypatch, "bench.noop_trainer:NoopTrainer")) == []
