"""`--submit`'s loop against a scripted deployment: following runs already there, and what a
lost deployment leaves in status.json (the real deployment: tests/launcher/test_submit.py and
tests/e2e/test_reliability.py)."""

import io
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from retrain_assets.core.lifecycle.artifacts import ArtifactLayout
from retrain_assets.defs.tags import PARTITION_TAG, RunTags
from retrain_assets.launcher import remote
from retrain_assets.launcher.deployment_records import desk_of
from retrain_assets.launcher.ledger import StatusFile, champion_words, metrics_facts
from retrain_assets.launcher.outcome import DeploymentLost
from retrain_assets.launcher.plan import SymbolPlan
from retrain_assets.launcher.progress import ConsoleProgress
from retrain_assets.launcher.runs import RunSpec
from retrain_assets.launcher.status import SymbolStatus
from retrain_assets.launcher.submit import RemoteRun

DATE = "2025-05-01"
JOB = "retrain_symbol_day"
ASSETS = (("model",), ("metrics",))
URL = "http://127.0.0.1:3000"
# What a successful run's `metrics` and `champion` record, as GraphQL gives it: the figures of
# symbol-day assets as text (defs/figures.py), the champion's words as text.
METRICS = {
    "files": ("Json", '{"metrics.json": {"path": "/art/runs/BTCUSDT/metrics.json"}}'),
    "net_bps_after_costs": ("Text", "-32.7"),
    "net_bps_per_trade": ("Text", "-32.7"),
    "net_bps_lo": ("Text", "-170.1"),
    "net_bps_hi": ("Text", "81.5"),
    "trades": ("Text", "34"),
    "status": ("Text", "ok"),
    "source": ("Text", "files /data"),
    "method": ("Text", "m1"),
}
CHAMPION = {
    "action": ("Text", "kept"),
    "moved": ("Bool", False),
    "gate_failing": ("Text", "net_lo"),
    "champion_since": ("Text", "2025-04-20"),
    "champion_as_of": ("Text", "2025-04-19"),
    "reason": ("Text", "kept: gate failed"),
    "pending_uploads": ("Int", "0"),
}
_FIELD = {"Json": "jsonString", "Text": "text", "Bool": "boolValue", "Int": "intRepr"}


def _materialization(asset: str, metadata: Mapping[str, tuple[str, Any]]) -> dict[str, Any]:
    entries = [
        {"label": k, "__typename": f"{kind}MetadataEntry", _FIELD[kind]: v}
        for k, (kind, v) in metadata.items()
    ]
    return {"assetKey": {"path": [asset]}, "metadataEntries": entries}


def _values(metadata: Mapping[str, tuple[str, Any]]) -> dict[str, Any]:
    """The same metadata as a local instance's records give it (`MetadataValue.value`)."""
    return {k: json.loads(v) if kind == "Json" else v for k, (kind, v) in metadata.items()}


@dataclass
class FakeInvocation:
    """The parts of an `Invocation` that `execute_remotely` reads."""

    layout: ArtifactLayout
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
    """Runs finish on the second poll after their submission; every request fails once
    `lost_at_poll` polls were answered; `elsewhere` are runs of other invocations."""

    url = URL

    def __init__(self, elsewhere: Mapping[str, RemoteRun] = (), lost_at_poll: int = 0) -> None:
        self.patience_s = 1.0
        self.elsewhere = dict(elsewhere)
        self.lost_at_poll = lost_at_poll
        self.submitted: dict[str, int] = {}  # symbol -> poll of its submission
        self.polls = 0

    def _answer(self) -> None:
        if self.lost_at_poll and self.polls >= self.lost_at_poll:
            raise DeploymentLost(URL, time.time(), 1.0, "ConnectionError")

    def check(self, job_names: Any = ()) -> None:
        self._answer()

    def add_symbols(self, symbols: Any) -> list[str]:
        self._answer()
        return []

    def statuses(self, invocation: str, base: dict[str, SymbolStatus]) -> dict[str, SymbolStatus]:
        self._answer()
        self.polls += 1
        result = dict(base)
        for symbol, at in self.submitted.items():
            state = "success" if self.polls - at >= 2 else "running"
            run_id = f"{invocation}-{symbol}"
            result[symbol] = base[symbol].with_run(status=state, run_id=run_id, attempts=1)
        return result

    def query(self, query: str, variables: Mapping[str, Any]) -> dict[str, Any]:
        """A successful run's `metrics` and `champion`; no metrics for skipped symbols."""
        self._answer()
        if "RetrainLatestMetrics" in query:
            return {"assetOrError": {"__typename": "Asset", "assetMaterializations": []}}
        mats = [_materialization("metrics", METRICS), _materialization("champion", CHAMPION)]
        run = {"__typename": "Run", "status": "SUCCESS", "assetMaterializations": mats}
        return dict.fromkeys(variables, run)

    def taken(self, date: str, since: float) -> list[RemoteRun]:
        self._answer()
        return [r for r in self.elsewhere.values() if r.state != "success" or r.created > since]

    def runs_tagged(self, key: str, value: str, **filters: Any) -> list[RemoteRun]:
        self._answer()
        assert key == PARTITION_TAG
        run = self.elsewhere[value.partition("|")[2]]
        done = self.polls >= 3
        return [RemoteRun(**{**run.__dict__, "state": "success" if done else run.state})]

    def submit(self, spec: RunSpec) -> str:
        self._answer()
        self.submitted[spec.symbol] = self.polls
        return f"inv1-{spec.symbol}"

    def cancel(self, run_ids: Any) -> list[str]:
        return []


def _other_run(symbol: str) -> RemoteRun:
    """A run of the symbol-day from an earlier invocation, still running."""
    return RemoteRun(f"old-{symbol}", symbol, DATE, "STARTED", "running", 100.0, job=JOB)


def _execute(tmp_path: Path, deployment: FakeDeployment, symbols: list[str], workers: int):
    inv = FakeInvocation(ArtifactLayout(tmp_path))
    plans = [SymbolPlan(s, ("model", "metrics")) for s in symbols]

    def specs_for(tags: RunTags) -> list[RunSpec]:
        return [RunSpec(DATE, s, JOB, ASSETS, tags.to_tags()) for s in symbols]

    return remote.execute_remotely(inv, plans, deployment, specs_for, None, workers)  # type: ignore[arg-type]


def _status_json(tmp_path: Path) -> dict[str, Any]:
    return json.loads(ArtifactLayout(tmp_path).status_file(DATE).read_text())["symbols"]


@pytest.fixture(autouse=True)
def no_polling_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(remote, "POLL_S", 0.0)


def test_a_symbol_day_a_run_already_has_is_followed_not_submitted(tmp_path: Path) -> None:
    deployment = FakeDeployment({"BTCUSDT": _other_run("BTCUSDT")})

    statuses = _execute(tmp_path, deployment, ["BTCUSDT", "ETHUSDT"], workers=2)

    assert list(deployment.submitted) == ["ETHUSDT"]
    assert (statuses["BTCUSDT"].status, statuses["BTCUSDT"].run_id) == ("success", "old-BTCUSDT")
    assert statuses["ETHUSDT"].status == "success"
    assert {e["status"] for e in _status_json(tmp_path).values()} == {"success"}


def test_a_lost_deployment_leaves_unknown_and_unsubmitted_entries_since_then(
    tmp_path: Path,
) -> None:
    deployment = FakeDeployment(lost_at_poll=2)

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
        "inv1-BTCUSDT",
        "DeploymentLost",
    )
    assert btc["error"].startswith(f"running on {URL} when it stopped answering")
    assert (eth["status"], eth["error"]) == ("pending", f"not submitted: {URL} stopped answering")
    assert btc["unreachable_since"] == eth["unreachable_since"]


def test_a_submitted_symbols_line_shows_net_trades_and_gate_as_a_local_run_prints_them(
    tmp_path: Path,
) -> None:
    statuses = _execute(tmp_path, FakeDeployment(), ["BTCUSDT"], workers=1)
    local = SymbolStatus(
        "BTCUSDT",
        "success",
        run_id="inv1-BTCUSDT",
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
