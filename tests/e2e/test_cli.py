"""The spec's smoke test and the CLI's resume rules, through the real command line."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import DATE, REPO, run_cli, status_of

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
SMOKE = ["--mode", "hybrid", "--symbols", "BTCUSDT,ETHUSDT,SOLUSDT", "--dry_run", "--date", DATE]


@pytest.mark.slow(seconds=45)
def test_smoke_test_passes_then_skips_then_force_retrains(artifacts):
    first = run_cli(*SMOKE)
    assert first.returncode == 0, first.stdout + first.stderr
    assert {e["status"] for e in status_of(artifacts, dry_run=True).values()} == {"success"}
    folders = list((artifacts / "dry_run" / "models").glob("*/*"))
    assert len(folders) == 3 and not (artifacts / "models").exists()
    for folder in folders:
        check = subprocess.run(["sha256sum", "-c", "sha256.txt"], cwd=folder, capture_output=True)
        assert check.returncode == 0

    rerun = run_cli(*SMOKE)
    assert rerun.returncode == 0
    assert {e["status"] for e in status_of(artifacts, dry_run=True).values()} == {"skipped"}
    assert "already done" in rerun.stdout

    forced = run_cli(*SMOKE, "--force")
    assert forced.returncode == 0
    assert {e["status"] for e in status_of(artifacts, dry_run=True).values()} == {"success"}
    assert len(list((artifacts / "dry_run" / "models" / "BTCUSDT").iterdir())) == 2


def test_a_dry_run_never_counts_as_done_for_a_real_run(artifacts):
    assert run_cli("--symbols", "BTCUSDT", "--dry_run", "--date", DATE).returncode == 0
    real = run_cli("--symbols", "BTCUSDT", "--date", DATE)
    assert real.returncode == 0, real.stdout + real.stderr
    assert status_of(artifacts)["BTCUSDT"]["status"] == "success"


@pytest.mark.parametrize("bad", ["../etc/passwd", "BTC USDT", "top0", "btc$usdt"])
def test_bad_symbols_are_rejected_before_any_work(artifacts, bad):
    result = run_cli("--symbols", bad, "--date", DATE)
    assert result.returncode == 2
    assert "retrain: error:" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""  # nothing is announced for an invocation that is refused
    assert not (artifacts / "models").exists()


def test_dagster_asset_materialize_runs_one_named_partition(artifacts, dagster_home, monkeypatch):
    monkeypatch.setenv("RETRAIN_TRAINER", "bench.noop_trainer:NoopTrainer")  # fast, both runs
    monkeypatch.setenv("PYTHONPATH", str(REPO))  # `dagster` finds bench/ from any folder
    assert run_cli("--symbols", "BTCUSDT", "--date", DATE).returncode == 0
    dagster = Path(sys.executable).parent / "dagster"
    result = subprocess.run(
        [
            str(dagster),
            "asset",
            "materialize",
            "-m",
            "retrain_assets.definitions",
            "--select",
            "costs,features,model,walk_forward,metrics,champion",
            "--partition",
            f"{DATE}|BTCUSDT",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    folders = list((artifacts / "models" / "BTCUSDT").iterdir())
    assert len(folders) == 2
    assert all((f / "sha256.txt").exists() for f in folders)


def test_help_shows_the_defaults_the_exit_codes_and_examples():
    from retrain_assets.cli import build_parser

    text = build_parser().format_help()
    for shown in ("(default: hybrid)", "(default: top20)", "(default: local)"):
        assert shown in text
    # The timeout's default is the deployment's one setting, named with where it lives.
    assert "(default: 45: training.timeout_minutes in RETRAIN_SETTINGS" in " ".join(text.split())
    assert "(default: None)" not in text and "(default: False)" not in text
    assert all(f"\n  {code} " in text for code in ("0", "1", "2", "3", "130"))
    assert text.count("\n  retrain --symbols") == 3
