"""Dry runs on an instance and artifact root of their own, through the real CLI.

A dry run runs the same job and assets as a real one, on `<storage>/dry_run` and
`<artifact root>/dry_run`: the real instance, status.json, summary, models/ and production
pointer never see it, and the definitions hold no dry-run copy of anything. Orchestration only:
the no-op trainer keeps each invocation to seconds.
"""

import hashlib
import json
import subprocess
from pathlib import Path

import dagster as dg
import pytest

from tests.e2e.conftest import DATE, run_cli, status_of

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
NOOP = {"RETRAIN_TRAINER": "bench.noop_trainer:NoopTrainer"}
ARGS = ("--symbols", "BTCUSDT,ETHUSDT", "--date", DATE)
DRY_TAG = "retrain/dry_run"
DAY = "20250501Z"


def _ok(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def _summary(root: Path) -> dict:
    return json.loads((root / "summary" / DAY / "engine_summary.json").read_text())


def _tree(root: Path) -> dict[str, str]:
    """sha256 of every file under `root` but its dry_run/ folder, by relative path."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.relative_to(root).parts[0] != "dry_run"
    }


def _dry_materializations(instance: dg.DagsterInstance) -> list[str]:
    """Every materialization, of every asset key the instance has, made by a dry-run run."""
    found = []
    for asset in instance.get_asset_records():
        key = asset.asset_entry.asset_key
        for record in instance.fetch_materializations(key, limit=1000).records:
            run = instance.get_run_by_id(record.run_id)
            if key.path[0] == "dry_run" or run is None or run.tags.get(DRY_TAG) == "true":
                found.append(f"{key.to_user_string()} by run {record.run_id[:8]}")
    return found


def _agree(status: dict, summary: dict) -> None:
    """status.json and the engine summary name the same run and status for every symbol."""
    assert set(summary["by_symbol"]) == set(status)
    for symbol, entry in status.items():
        assert summary["by_symbol"][symbol]["run_id"] == entry["run_id"], symbol
        assert summary["by_symbol"][symbol]["status"] == entry["status"], symbol


def test_a_dry_run_then_a_real_run_of_the_same_date_keep_apart(
    artifacts: Path, dagster_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dry = _ok(run_cli(*ARGS, "--dry_run", env=NOOP))
    assert _tree(artifacts) == {}  # nothing under the real root: no models/, no pointer, no runs/
    _ok(run_cli(*ARGS, env=NOOP))

    status, summary = status_of(artifacts), _summary(artifacts)
    assert {e["status"] for e in status.values()} == {"success"}
    assert summary["dry_run"] is False and summary["succeeded"] == 2
    _agree(status, summary)
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs()
        assert runs and not [r.run_id for r in runs if r.tags.get(DRY_TAG) == "true"]
        assert not _dry_materializations(instance)
        real_ids = {r.run_id for r in runs}

    # The dry run's own files and instance: a complete smoke test, told by its last lines.
    dry_root, dry_home = artifacts / "dry_run", dagster_home / "dry_run"
    assert f"status:    {dry_root / 'runs' / DAY / 'status.json'}" in dry.stdout
    assert f"summary:   {dry_root / 'summary' / DAY / 'engine_summary.json'}" in dry.stdout
    assert f"instance:  {dry_home}" in dry.stdout
    dry_status, dry_summary = status_of(artifacts, dry_run=True), _summary(dry_root)
    assert {e["status"] for e in dry_status.values()} == {"success"}
    assert dry_summary["dry_run"] is True and dry_summary["succeeded"] == 2
    _agree(dry_status, dry_summary)
    assert not {e["run_id"] for e in dry_status.values()} & real_ids
    monkeypatch.setenv("DAGSTER_HOME", str(dry_home))  # what the UI on the dry runs sets
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs()
        assert {r.tags.get(DRY_TAG) for r in runs} == {"true"}
        assert {e["run_id"] for e in dry_status.values()} <= {r.run_id for r in runs}
        mat = instance.get_latest_materialization_event(dg.AssetKey("model"))
        config = mat.asset_materialization.metadata["files"].value["config.json"]["path"]
    assert Path(config).is_relative_to(dry_root / "models")
    assert json.loads(Path(config).read_text())["dry_run"] is True


def test_a_dry_run_after_a_real_run_leaves_every_real_file_alone(artifacts: Path) -> None:
    _ok(run_cli(*ARGS, env=NOOP))
    real = _tree(artifacts)
    assert any(name.startswith("models/") for name in real)
    assert any(name.startswith("production/") for name in real)

    _ok(run_cli(*ARGS, "--dry_run", "--force", env=NOOP))

    assert _tree(artifacts) == real  # models/, production/, status.json, summary, logs
    assert {e["status"] for e in status_of(artifacts, dry_run=True).values()} == {"success"}
    assert (artifacts / "dry_run" / "production" / "BTCUSDT").is_dir()  # its own champion step


@pytest.mark.slow(seconds=40)
def test_a_dry_run_rerun_skips_what_the_dry_run_did_and_force_trains_it_again(
    artifacts: Path,
) -> None:
    _ok(run_cli(*ARGS, "--dry_run", env=NOOP))
    rerun = _ok(run_cli(*ARGS, "--dry_run", env=NOOP))
    assert {e["status"] for e in status_of(artifacts, dry_run=True).values()} == {"skipped"}
    assert "already done" in rerun.stdout
    _ok(run_cli(*ARGS, "--dry_run", "--force", env=NOOP))
    assert {e["status"] for e in status_of(artifacts, dry_run=True).values()} == {"success"}
    assert len(list((artifacts / "dry_run" / "models" / "BTCUSDT").iterdir())) == 2


def test_a_dry_run_cannot_be_submitted_and_says_so_in_one_line(
    artifacts: Path, dagster_home: Path
) -> None:
    env = {"RETRAIN_SUBMIT_PATIENCE_SECONDS": "1"}
    result = run_cli(*ARGS, "--dry_run", "--submit", "http://127.0.0.1:9", env=env, timeout=120)
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr == (
        "retrain: error: --dry_run runs locally on its own instance; "
        "it cannot be combined with --submit\n"
    )
    assert not artifacts.exists() and not (dagster_home / "dry_run").exists()


def test_the_definitions_have_no_dry_run_asset_group_or_job() -> None:
    from retrain_assets.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = graph.get_all_asset_keys()
    assert not [k for k in keys if k.path[0] == "dry_run"]
    assert "dry_run" not in {graph.get(k).group_name for k in keys}
    assert not [j.name for j in defs.resolve_all_job_defs() if "dry_run" in j.name]
