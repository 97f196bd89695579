"""`--submit`'s loop against a scripted deployment on a test instance: following runs already
there, reading its runs with the local path's reader, what a lost deployment leaves in
status.json, and a CLI whose instance is not the deployment's (the real deployment:
tests/launcher/test_submit.py and tests/e2e/test_reliability.py)."""

import io
import json
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from retrain_assets.core.errors import PermanentError
from retrain_assets.core.lifecycle.artifacts import ArtifactLayout
from retrain_assets.defs.partitions import symbol_day_partitions
from retrain_assets.launcher import remote
from retrain_assets.launcher.deployment_records import desk_of
from retrain_assets.launcher.ledger import StatusFile, champion_words, metrics_facts
from retrain_assets.launcher.outcome import DeploymentLost
from retrain_assets.launcher.plan import SymbolPlan
from retrain_assets.launcher.progress import ConsoleProgress
from retrain_assets.launcher.runs import RunSpec
from retrain_assets.launcher.status import SymbolStatus
from retrain_assets.vocabulary.tags import RunTags

DATE = "2025-05-01"
JOB = "retrain_symbol_day"
ASSETS = (("model",), ("metrics",))
URL = "http://127.0.0.1:3000"
# What a successful run's `metrics` and `champion` record: the figures of symbol-day assets as
# text (vocabulary/figures.py), the champion's words as text.
METRICS = {
    "files": dg.MetadataValue.json({"metrics.json": {"path": "/art/runs/BTCUSDT/metrics.json"}}),
    "net_bps_after_costs": dg.MetadataValue.text("-32.7"),
    "net_bps_per_trade": dg.MetadataValue.text("-32.7"),
    "net_bps_lo": dg.MetadataValue.text("-170.1"),
    "net_bps_hi": dg.MetadataValue.text("81.5"),
    "trades": dg.MetadataValue.text("34"),
    "status": dg.MetadataValue.text("ok"),
    "source": dg.MetadataValue.text("files /data"),
    "method": dg.MetadataValue.text("m1"),
}
CHAMPION = {
    "action": dg.MetadataValue.text("kept"),
    "moved": dg.MetadataValue.bool(False),
    "gate_failing": dg.MetadataValue.text("net_lo"),
    "champion_since": dg.MetadataValue.text("2025-04-20"),
    "champion_as_of": dg.MetadataValue.text("2025-04-19"),
    "reason": dg.MetadataValue.text("kept: gate failed"),
    "pending_uploads": dg.MetadataValue.int(0),
}


@dg.asset(name="metrics", partitions_def=symbol_day_partitions)
def metrics() -> dg.MaterializeResult:
    """A stand-in `metrics`: the figures above."""
    return dg.MaterializeResult(metadata=METRICS)


@dg.asset(name="champion", partitions_def=symbol_day_partitions, deps=[metrics])
def champion() -> dg.MaterializeResult:
    """A stand-in `champion`: the decision above."""
    return dg.MaterializeResult(metadata=CHAMPION)


SYMBOL_DAY = dg.Definitions(
    assets=[metrics, champion], jobs=[dg.define_asset_job(JOB)]
).resolve_job_def(JOB)


def run_id_of(name: str) -> str:
    """The run id of a scripted run (Dagster's run ids are UUIDs)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, name))


def _values(metadata: Mapping[str, dg.MetadataValue]) -> dict[str, Any]:
    """The metadata as an instance's records give it back (`MetadataValue.value`)."""
    return {k: v.value for k, v in metadata.items()}


@dataclass
class FakeInvocation:
    """The parts of an `Invocation` that `execute_remotely` reads."""

    layout: ArtifactLayout
    instance: dg.DagsterInstance
    date: str = DATE
    invocation_id: str = "inv1"
    started: float = field(default_factory=time.monotonic)
    exit_now: bool = False
    interrupted: bool = False

    def header(self, workers: int) -> dict[str, object]:
        return {"date": self.date, "invocation": self.invocation_id, "max_concurrent": workers}

    def status_file(self, workers: int) -> StatusFile:
        return StatusFile(self.layout.status_file(self.date), self.header(workers))

    def run_tags(self, plans: list[SymbolPlan], workers: int, lock: str | None) -> RunTags:
        return RunTags(invocation=self.invocation_id, source="submit")


class FakeDeployment:
    """A deployment scripted on a test instance: a submitted run is in it at once, started,
    and finishes (executed for real, under the same run id) at the second look after; every
    request fails once `lost_at_poll` looks were answered; `elsewhere` are symbols whose
    symbol-day another invocation's run is doing, finished at the third look."""

    url = URL

    def __init__(
        self,
        instance: dg.DagsterInstance,
        elsewhere: Sequence[str] = (),
        lost_at_poll: int = 0,
        shared: bool = True,
    ) -> None:
        self.instance = instance
        self.patience_s = 1.0
        self.lost_at_poll = lost_at_poll
        self.shared = shared  # False: its runs are in an instance the CLI does not read
        self.submitted: dict[str, int] = {}  # symbol -> look of its submission
        self.canceled: list[str] = []
        self.running: dict[str, tuple[int, RunSpec]] = {}  # run id -> (look it ends, spec)
        self.polls = 0
        instance.add_dynamic_partitions("symbols", ["BTCUSDT", "ETHUSDT"])
        for symbol in elsewhere:
            tags = RunTags(invocation="earlier", source="submit").to_tags()
            other = RunSpec(DATE, symbol, JOB, ASSETS, tags)
            self._start(run_id_of(f"old-{symbol}"), other, ends=3)

    def _answer(self) -> None:
        if self.lost_at_poll and self.polls >= self.lost_at_poll:
            raise DeploymentLost(URL, time.time(), 1.0, "ConnectionError")

    def _start(self, run_id: str, spec: RunSpec, ends: int) -> None:
        self.instance.create_run_for_job(
            SYMBOL_DAY, run_id=run_id, status=dg.DagsterRunStatus.STARTED, tags=spec.run_tags()
        )
        self.running[run_id] = (ends, spec)

    def _finish(self, run_id: str, spec: RunSpec) -> None:
        """The run's work done: executed for real under its id (its started record goes)."""
        self.instance.delete_run(run_id)
        SYMBOL_DAY.execute_in_process(
            instance=self.instance, run_id=run_id, partition_key=spec.partition_key, tags=spec.tags
        )

    def check(self, job_names: Any = ()) -> None:
        self._answer()

    def add_symbols(self, symbols: Any) -> list[str]:
        self._answer()
        return []

    def ping(self) -> str:
        self._answer()
        self.polls += 1
        for run_id, (ends, spec) in list(self.running.items()):
            if self.polls >= ends:
                self._finish(run_id, spec)
                del self.running[run_id]
        return "test"

    def submit(self, spec: RunSpec) -> str:
        self._answer()
        self.submitted[spec.symbol] = self.polls
        run_id = run_id_of(f"inv1-{spec.symbol}")
        if self.shared:
            self._start(run_id, spec, ends=self.polls + 2)
        return run_id

    def cancel(self, run_ids: Any) -> list[str]:
        self.canceled += list(run_ids)
        return []


def _execute(tmp_path: Path, deployment: FakeDeployment, symbols: list[str], workers: int):
    inv = FakeInvocation(ArtifactLayout(tmp_path), deployment.instance)
    plans = [SymbolPlan(s, ("model", "metrics")) for s in symbols]

    def specs_for(tags: RunTags) -> list[RunSpec]:
        return [RunSpec(DATE, s, JOB, ASSETS, tags.to_tags()) for s in symbols]

    return remote.execute_remotely(inv, plans, deployment, specs_for, None, workers)  # type: ignore[arg-type]


def _status_json(tmp_path: Path) -> dict[str, Any]:
    return json.loads(ArtifactLayout(tmp_path).status_file(DATE).read_text())["symbols"]


@pytest.fixture(autouse=True)
def no_polling_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(remote, "POLL_S", 0.0)


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    """The deployment's instance, which the CLI plans and follows on."""
    with dg.DagsterInstance.ephemeral() as test_instance:
        yield test_instance


def test_a_symbol_day_a_run_already_has_is_followed_not_submitted(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    deployment = FakeDeployment(instance, elsewhere=["BTCUSDT"])

    statuses = _execute(tmp_path, deployment, ["BTCUSDT", "ETHUSDT"], workers=2)

    assert list(deployment.submitted) == ["ETHUSDT"]
    followed = statuses["BTCUSDT"]
    assert (followed.status, followed.run_id) == ("success", run_id_of("old-BTCUSDT"))
    assert statuses["ETHUSDT"].status == "success"
    assert {e["status"] for e in _status_json(tmp_path).values()} == {"success"}


def test_a_lost_deployment_leaves_unknown_and_unsubmitted_entries_since_then(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    deployment = FakeDeployment(instance, lost_at_poll=2)

    with pytest.raises(DeploymentLost) as caught:
        _execute(tmp_path, deployment, ["BTCUSDT", "ETHUSDT"], workers=1)

    message = str(caught.value)
    assert message.startswith(f"--submit {URL} stopped answering at ")
    assert "1 run(s) may still be running there: rerun the same command" in message
    assert "retrain/invocation=inv1" in message and "\n" not in message
    entries = _status_json(tmp_path)
    btc, eth = entries["BTCUSDT"], entries["ETHUSDT"]
    assert (btc["status"], btc["run_id"], btc["error_type"]) == (
        "unknown",
        run_id_of("inv1-BTCUSDT"),
        "DeploymentLost",
    )
    assert btc["error"].startswith(f"running on {URL} when it stopped answering")
    assert (eth["status"], eth["error"]) == ("pending", f"not submitted: {URL} stopped answering")
    assert btc["unreachable_since"] == eth["unreachable_since"]


def test_a_submitted_symbols_line_shows_net_trades_and_gate_as_a_local_run_prints_them(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    statuses = _execute(tmp_path, FakeDeployment(instance), ["BTCUSDT"], workers=1)
    local = SymbolStatus(
        "BTCUSDT",
        "success",
        run_id=run_id_of("inv1-BTCUSDT"),
        attempts=1,
        champion=champion_words(_values(CHAMPION)),
        **metrics_facts(_values(METRICS)),
    )

    lines = []
    for status in (statuses["BTCUSDT"], local):
        out = io.StringIO()
        ConsoleProgress(out)({"BTCUSDT": status}, 0.0)
        lines.append(out.getvalue().splitlines()[0])

    assert lines[0] == lines[1]
    assert lines[0] == (
        "  BTCUSDT        success  net -32.7 bps/trade [-170.1, +81.5], 34 trades (ok)  "
        "kept (champion since 2025-04-20; net_lo)  attempts 1  [files /data · method m1]"
    )
    assert _status_json(tmp_path)["BTCUSDT"]["metrics_path"] == "/art/runs/BTCUSDT/metrics.json"


def test_a_cli_whose_instance_is_not_the_deployments_stops_at_its_first_run(
    tmp_path: Path, instance: dg.DagsterInstance
) -> None:
    deployment = FakeDeployment(instance, shared=False)

    with pytest.raises(PermanentError) as caught:
        _execute(tmp_path, deployment, ["BTCUSDT", "ETHUSDT"], workers=2)

    message = str(caught.value)
    run_id = run_id_of("inv1-BTCUSDT")
    assert message.startswith(f"--submit {URL}: run {run_id} is not in the instance")
    assert "deployment's dagster.yaml" in message and "\n" not in message
    assert list(deployment.submitted) == ["BTCUSDT"] and deployment.canceled == [run_id]


def test_the_closing_table_comes_from_the_summary_runs_desk_report_or_says_why_not() -> None:
    cells = {"symbol": "BTCUSDT", "status": "failed today", "champion": None, "day_net_bps": None}
    desk_report = {"production": [cells], "headline": "h", "report": "/srv/desk.html"}
    desk = desk_of("s1", "SUCCESS", {"desk_report": desk_report, "engine_summary": {"path": "/p"}})
    assert (desk.rows[0].symbol, desk.rows[0].status, desk.headline) == (
        "BTCUSDT",
        "failed today",
        "h",
    )
    assert (desk.report, desk.summary, desk.problem) == ("/srv/desk.html", "/p", None)
    failed = desk_of("s2", "FAILURE", {})
    assert (
        failed.problem
        == "summary run s2 on the deployment ended FAILURE without a production table"
    )
    waiting = desk_of("s3", "QUEUED", {}).problem
    assert waiting == "summary run s3 still QUEUED on the deployment (desk_report will show it)"
