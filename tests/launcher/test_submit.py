"""`retrain --submit`: symbol-day runs queued on a real `dagster dev` through public APIs.

One `dagster dev` (webserver + daemon, QueuedRunCoordinator, default run launcher) serves the
module's end-to-end tests, on its own DAGSTER_HOME with synthetic data and a no-op trainer,
so each run takes a second or two. Runs are submitted with `Deployment.submit` and followed on
the instance the test shares with the deployment, with the reader `--submit` and a local run
use (`InvocationLedger`); the same instance proves what the deployment did (materializations
per partition, queue events). The URL tests need no server and are not marked slow.
"""

import http.server
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from retrain_assets.core.errors import PermanentError
from retrain_assets.core.model.training import TrainedModel, TrainingInput
from retrain_assets.launcher.endpoint import parse_url
from retrain_assets.launcher.home import write_instance_config
from retrain_assets.launcher.ledger import InvocationLedger
from retrain_assets.launcher.outcome import DeploymentLost
from retrain_assets.launcher.plan import SymbolPlan
from retrain_assets.launcher.remote import ASSET_JOB, does
from retrain_assets.launcher.runs import RunSpec
from retrain_assets.launcher.status import FINAL, SymbolStatus
from retrain_assets.launcher.submit import Deployment
from retrain_assets.launcher.webserver import PATIENCE_ENV, patience_from_env
from retrain_assets.vocabulary.keys import partition_tags
from retrain_assets.vocabulary.tags import SUBMISSION_TAG, RunTags
from tests.e2e.dagster_dev import dagster_dev, free_port

# One `dagster dev` (the module's `served`) serves every test here: under `make test`'s
# workers they run on one worker, which starts it once.
pytestmark = pytest.mark.xdist_group("submit_deployment")
REPO = Path(__file__).resolve().parents[2]
DATE = "2025-05-01"
JOB = "retrain_symbol_day"
ASSETS = (("costs",), ("features",), ("model",), ("walk_forward",), ("metrics",))
# ZZZUSDT is in no default symbol selection (the universe sensor never adds it): the test
# registers it through the deployment, as a remote CLI does.
GOOD = ("BTCUSDT", "ZZZUSDT")
BAD = "Q"  # one letter: the data source rejects it (InvalidSymbolError)
SLOW = "SLOWUSDT"  # sleeps in training on its first attempt, so it can be canceled
TRAINER = f"{__name__}:SleepOnceNoopTrainer"
WAIT_S = 60.0
VERSION = "1.13-test"
_PONG = json.dumps({"data": {"version": VERSION}}).encode()  # what `Deployment.ping` asks


class SleepOnceNoopTrainer:
    """The no-op trainer, except that the first training of $SLOW_SYMBOLS sleeps a minute.

    The run worker imports it by path from the repo root (`RETRAIN_TRAINER`); a marker file in
    $SLEEP_MARKER_DIR makes later attempts of a slow symbol return at once.
    """

    name = "sleep-once-noop"

    def train(self, job: TrainingInput) -> TrainedModel:
        """Return a placeholder model (after a first long sleep for the slow symbols)."""
        if job.symbol in os.environ.get("SLOW_SYMBOLS", "").split(","):
            marker = Path(os.environ["SLEEP_MARKER_DIR"]) / f"{job.symbol}.slept"
            if not marker.exists():
                marker.touch()
                time.sleep(60)
        return TrainedModel(b"noop", {"trainer": self.name}, {"best_iteration": 0})

    def predict(self, model_bytes: bytes, features: pd.DataFrame) -> np.ndarray:
        """Zeros: a flat strategy."""
        return np.zeros(len(features))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """`dagster dev` on a fresh DAGSTER_HOME (as tests/conftest.py's `dagster_home` makes it,
    for the whole module); yield its URL and the home."""
    root = tmp_path_factory.mktemp("submit")
    home = root / "dagster_home"
    home.mkdir()
    write_instance_config(home)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DAGSTER_HOME", str(home))
        mp.setenv("RETRAIN_ARTIFACT_ROOT", str(root / "artifacts"))
        mp.setenv("RETRAIN_TRAINER", TRAINER)
        mp.setenv("SLOW_SYMBOLS", SLOW)
        mp.setenv("SLEEP_MARKER_DIR", str(root))
        for name in (
            "RETRAIN_DATA_SOURCE",
            "RETRAIN_SYMBOLS",
            "RETRAIN_START_DATE",
            "TELEGRAM_TOKEN",
            "TELEGRAM_CHAT_ID",
        ):
            mp.delenv(name, raising=False)
        with dg.DagsterInstance.get() as instance:
            instance.add_dynamic_partitions("symbols", ["BTCUSDT", BAD, SLOW])
        with dagster_dev(root / "dagster_dev.log") as base:
            yield base, home


@pytest.fixture(scope="module")
def deployment(served: tuple[str, Path]) -> Deployment:
    """A checked `Deployment` of the module's `dagster dev`."""
    deployment = Deployment(served[0], timeout_s=10)
    deployment.check([JOB])
    return deployment


@pytest.fixture
def instance(served: tuple[str, Path]) -> Iterator[dg.DagsterInstance]:
    """The instance `dagster dev` runs on."""
    with dg.DagsterInstance.from_config(str(served[1])) as instance:
        yield instance


def spec(symbol: str, invocation: str) -> RunSpec:
    """One symbol-day of the full job, tagged as a `--submit` invocation."""
    tags = RunTags(invocation=invocation, source="submit").to_tags()
    return RunSpec(DATE, symbol, JOB, ASSETS, tags)


def wait_for(
    instance: dg.DagsterInstance,
    invocation: str,
    symbols: set[str],
    done: frozenset[str] = FINAL,
) -> dict[str, SymbolStatus]:
    """Read the invocation's runs until every symbol's newest run is in a `done` (or final)
    state, as `--submit` reads them."""
    ledger = InvocationLedger(instance, invocation, [SymbolPlan(s, ()) for s in sorted(symbols)])
    deadline = time.monotonic() + WAIT_S
    while True:
        runs = ledger.refresh()
        if all(runs[s].run_id and runs[s].status in done | FINAL for s in symbols):
            return runs
        if time.monotonic() > deadline:
            pytest.fail(f"runs of {invocation} not {sorted(done)} in {WAIT_S:.0f} s: {runs}")
        time.sleep(0.25)


def lifecycle(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """The run's queue and launch events, in order."""
    kinds = {
        dg.DagsterEventType.RUN_ENQUEUED,
        dg.DagsterEventType.RUN_STARTING,
        dg.DagsterEventType.RUN_START,
    }
    records = instance.get_records_for_run(run_id, of_type=kinds).records
    return [r.event_log_entry.dagster_event_type.name for r in records]


def test_a_malformed_url_is_refused_naming_the_flag() -> None:
    for bad in ("ftp://host:3000", "http://", "http://host:99999", "http://user:pw@host:3000"):
        with pytest.raises(PermanentError, match=r"--submit") as caught:
            Deployment(bad)
        assert "pw" not in str(caught.value)
    assert parse_url("127.0.0.1:3000").url == "http://127.0.0.1:3000"
    assert parse_url("https://dagster.example/prefix/graphql/").graphql_url == (
        "https://dagster.example/prefix/graphql"
    )


def test_no_webserver_is_a_one_line_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(PermanentError) as caught:
        Deployment(url, retries=1, backoff_s=0.05, timeout_s=2).check([JOB])
    assert str(caught.value) == f"--submit {url}: no Dagster webserver answered (ConnectionError)"


class _Flaky(http.server.BaseHTTPRequestHandler):
    """Answers POST /graphql with the class's next canned answer (a status, a body, a delay)."""

    answers: ClassVar[list[tuple[int, bytes, float]]] = []
    seen: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        self.seen.append(self.path)
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        status, body, delay = self.answers.pop(0) if self.answers else (503, b"", 0.0)
        time.sleep(delay)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def flaky() -> Iterator[tuple[str, type[_Flaky]]]:
    """A local HTTP server answering like a sick webserver; yield its URL and handler."""
    _Flaky.answers, _Flaky.seen = [], []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", _Flaky
    finally:
        server.shutdown()
        server.server_close()


def test_transient_answers_are_retried_then_reported(flaky: tuple[str, type[_Flaky]]) -> None:
    url, handler = flaky
    handler.answers = [(503, b"", 0.0), (200, b"", 1.0), (200, _PONG, 0.0)]
    deployment = Deployment(url, retries=2, backoff_s=0.01, timeout_s=0.3, patience_s=0.5)
    assert deployment.ping() == VERSION  # a 503, then a timeout, then the answer
    assert handler.seen == ["/graphql"] * 3

    handler.answers = []  # 503 for ever, from a deployment that answered: lost, not bad input
    with pytest.raises(DeploymentLost) as caught:
        deployment.ping()
    assert str(caught.value).startswith(f"--submit {url} stopped answering at ")
    assert re.search(r"\(HTTP 503, retried for \d+ s\)", str(caught.value)), caught.value
    assert not isinstance(caught.value, PermanentError)
    assert len(handler.seen) > 3 + 2  # past `retries`: for the patience

    handler.answers = [(200, b"<html>not dagster</html>", 0.0)]
    with pytest.raises(PermanentError, match="not JSON"):
        deployment.ping()


class _Answering(http.server.BaseHTTPRequestHandler):
    """Answers every POST /graphql with the webserver's version."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(_PONG)

    def log_message(self, *args: object) -> None:
        """Quiet."""


def _serve(port: int = 0) -> http.server.ThreadingHTTPServer:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), _Answering)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _stop(server: http.server.ThreadingHTTPServer) -> None:
    server.shutdown()
    server.server_close()


def test_a_webserver_back_within_the_patience_is_waited_for() -> None:
    server = _serve()
    port = server.server_address[1]
    deployment = Deployment(f"http://127.0.0.1:{port}", retries=1, backoff_s=0.05, patience_s=20)
    assert deployment.ping() == VERSION
    _stop(server)  # a webserver restart: refused connections for a while, then answers
    restarted: list[http.server.ThreadingHTTPServer] = []
    timer = threading.Timer(1.5, lambda: restarted.append(_serve(port)))
    timer.start()
    began = time.monotonic()
    try:
        assert deployment.ping() == VERSION
        assert 1.5 <= time.monotonic() - began < 1.5 + 2 + 1  # noticed within MAX_OUTAGE_PAUSE_S
    finally:
        timer.join()
        for s in restarted:
            _stop(s)


def test_a_webserver_gone_past_the_patience_is_a_lost_deployment_not_bad_input() -> None:
    server = _serve()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    deployment = Deployment(url, retries=1, backoff_s=0.05, patience_s=1.0)
    deployment.ping()
    _stop(server)
    began = time.monotonic()
    with pytest.raises(DeploymentLost) as caught:
        deployment.ping()
    assert 1.0 <= time.monotonic() - began < 2.0
    lost = caught.value
    assert (lost.url, lost.cause) == (url, "ConnectionError") and 1.0 <= lost.waited_s < 2.0
    assert str(lost).startswith(f"--submit {url} stopped answering at ")
    assert "\n" not in str(lost) and not isinstance(lost, PermanentError)
    # Never answered (a wrong URL): bad input after `retries`, whatever the patience.
    with pytest.raises(PermanentError, match="no Dagster webserver answered"):
        Deployment(url, retries=1, backoff_s=0.05, patience_s=60).check([JOB])


@pytest.mark.parametrize(
    ("value", "expected"), [(None, 120.0), ("", 120.0), ("0", 0.0), ("7.5", 7.5)]
)
def test_the_patience_comes_from_the_environment(value: str | None, expected: float) -> None:
    assert patience_from_env({} if value is None else {PATIENCE_ENV: value}) == expected


@pytest.mark.parametrize("value", ["abc", "-1", "nan", "inf", "1e9"])
def test_a_bad_patience_is_a_one_line_error_naming_the_variable(value: str) -> None:
    with pytest.raises(PermanentError, match=f"^{PATIENCE_ENV}="):
        patience_from_env({PATIENCE_ENV: value})


def _run(
    job: str, assets: tuple[tuple[str, ...], ...] = (), symbol: str = "BTCUSDT"
) -> dg.DagsterRun:
    selection = {dg.AssetKey(list(key)) for key in assets} or None
    return dg.DagsterRun(job, "r", tags=partition_tags(DATE, symbol), asset_selection=selection)


@pytest.mark.parametrize(
    ("run", "expected"),
    [
        (_run(JOB), True),  # another invocation's run of the same job
        (_run(JOB, symbol="ETHUSDT"), False),  # another partition
        (_run(ASSET_JOB, (("model",),)), True),  # a UI backfill with some of the assets
        (_run("retention_job"), False),
    ],
)
def test_a_run_does_a_specs_work_only_for_its_partition_and_assets(
    run: dg.DagsterRun, expected: bool
) -> None:
    assert does(run, spec("BTCUSDT", "t0")) is expected


@pytest.mark.e2e
@pytest.mark.slow
def test_check_finds_the_job_and_the_run_queue(served: tuple[str, Path]) -> None:
    info = Deployment(served[0]).check([JOB])
    assert JOB in info.jobs
    assert info.location == "retrain_assets"
    assert info.run_queuing
    with pytest.raises(PermanentError, match="no code location has job"):
        Deployment(served[0]).check(["no_such_job"])


@pytest.mark.e2e
@pytest.mark.slow
def test_submitted_runs_are_queued_and_materialize_their_partitions(
    deployment: Deployment, instance: dg.DagsterInstance
) -> None:
    assert deployment.add_symbols(GOOD) == ["ZZZUSDT"]  # BTCUSDT is registered already
    run_ids = {s: deployment.submit(spec(s, "t1")) for s in GOOD}

    runs = wait_for(instance, "t1", set(GOOD))

    assert {s: r.status for s, r in runs.items()} == dict.fromkeys(GOOD, "success")
    assert {s: r.run_id for s, r in runs.items()} == run_ids
    keys = {f"{DATE}|{s}" for s in GOOD}
    assert keys <= instance.get_materialized_partitions(dg.AssetKey("metrics"))
    for symbol, run_id in run_ids.items():
        run = instance.get_run_by_id(run_id)
        assert run is not None
        assert run.tags["dagster/partition"] == f"{DATE}|{symbol}"
        assert run.tags["retrain/source"] == "submit"
        # A launch retried after an ambiguous failure finds its run by this hidden tag, which
        # GraphQL filters on though it never returns it.
        assert deployment._run_with_tag(SUBMISSION_TAG, run.tags[SUBMISSION_TAG]) == run_id
        assert run.asset_selection == {dg.AssetKey(list(k)) for k in ASSETS}
        # Queued by the webserver, then dequeued and launched by the daemon's run launcher:
        # this process never executed it.
        assert lifecycle(instance, run_id) == ["RUN_ENQUEUED", "RUN_STARTING", "RUN_START"]
        materialized = instance.fetch_materializations(
            dg.AssetRecordsFilter(
                asset_key=dg.AssetKey("metrics"), asset_partitions=[f"{DATE}|{symbol}"]
            ),
            limit=1,
        ).records
        assert materialized and materialized[0].run_id == run_id
    status = runs["BTCUSDT"]
    assert status.status == "success" and status.run_id == run_ids["BTCUSDT"]
    assert status.started_at and status.ended_at and status.attempts == 1


@pytest.mark.e2e
@pytest.mark.slow
def test_a_failing_run_maps_to_failed_with_its_reason(
    deployment: Deployment, instance: dg.DagsterInstance
) -> None:
    run_id = deployment.submit(spec(BAD, "t2"))

    run = wait_for(instance, "t2", {BAD})[BAD]

    assert run.run_id == run_id and run.status == "failed"
    assert instance.get_run_by_id(run_id).status == dg.DagsterRunStatus.FAILURE
    assert run.error_type == "InvalidSymbolError"
    assert run.error and "invalid symbol 'Q'" in run.error and "\n" not in run.error


@pytest.mark.e2e
@pytest.mark.slow(seconds=9)
def test_cancel_terminates_a_run_and_the_newest_run_of_a_symbol_wins(
    deployment: Deployment, served: tuple[str, Path], instance: dg.DagsterInstance
) -> None:
    first = deployment.submit(spec(SLOW, "t3"))
    sleeping = served[1].parent / f"{SLOW}.slept"
    deadline = time.monotonic() + WAIT_S
    while not sleeping.exists():  # the run is training, in the deployment's run worker
        assert time.monotonic() < deadline, instance.get_run_by_id(first)
        time.sleep(0.1)

    assert deployment.cancel([first]) == []
    canceled = wait_for(instance, "t3", {SLOW})[SLOW]
    assert (canceled.run_id, canceled.status) == (first, "canceled")
    assert canceled.error_type == "Canceled" and canceled.error

    second = deployment.submit(spec(SLOW, "t3"))  # the retry of a canceled symbol
    latest = wait_for(instance, "t3", {SLOW}, done=frozenset({"success"}))[SLOW]
    assert latest.run_id == second
    assert deployment.cancel([second]) == [second]  # finished: nothing to terminate


@pytest.mark.e2e
@pytest.mark.slow
def test_the_cli_submits_to_the_deployment_and_reports_like_a_local_run(
    served: tuple[str, Path], instance: dg.DagsterInstance
) -> None:
    base, _ = served
    args = [sys.executable, "-m", "retrain_assets", "--submit", base, "--date", DATE]
    first = subprocess.run(
        [*args, "--symbols", "ADAUSDT,XRPUSDT"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert first.returncode == 0, first.stdout + first.stderr
    artifacts = Path(os.environ["RETRAIN_ARTIFACT_ROOT"])
    status = json.loads((artifacts / "runs" / "20250501Z" / "status.json").read_text())
    assert status["source"] == "submit"
    for symbol in ("ADAUSDT", "XRPUSDT"):
        entry = status["symbols"][symbol]
        assert entry["status"] == "success", entry
        assert lifecycle(instance, entry["run_id"])[0] == "RUN_ENQUEUED"  # the daemon ran it
        # The line a local run prints: net (or no trades) with its evidence, the gate's move,
        # attempts, and what made it, read from the deployment's records.
        line = next(t for t in first.stdout.splitlines() if t.strip().startswith(symbol))
        assert re.fullmatch(
            rf"  {symbol}\s+success  (net [-+]\d+\.\d bps/trade.*|no trades \(\w+\))  "
            r"(champion promoted|no champion yet \(.+\)|kept \(champion since .+\))  "
            r"attempts 1  \[synthetic.* · method \w+\]",
            line,
        ), line
        assert entry["evidence"] and entry["metrics_path"] and entry["champion"], entry
    # The end a local run prints: the production table, its headline, the report, the
    # summary, from the summary run the CLI queued on the deployment (on its disk).
    header = re.search(r"^symbol +status +champion +day_net_bps", first.stdout, re.M)
    assert header, first.stdout
    closing = first.stdout[header.start() :]
    assert re.search(r"^ADAUSDT +\S", closing, re.M) and re.search(r"^XRPUSDT +\S", closing, re.M)
    assert re.search(rf"^{DATE}: \d+ symbols? · \d+ failed · \d+ in production", closing, re.M)
    report = re.search(r"^report: +(\S+desk\.html) \(on the deployment\)$", closing, re.M)
    summary = re.search(r"^summary: +(\S+) \(on the deployment\)$", closing, re.M)
    assert report and Path(report[1]).exists(), closing
    assert summary and Path(summary[1]).exists(), closing
    # `--dates` with `--submit`: each day in order; the day done is skipped, the next runs.
    again = subprocess.run(
        [*args[:-2], "--dates", f"{DATE}..2025-05-02", "--symbols", "ADAUSDT"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = again.stdout
    assert again.returncode == 0, out + again.stderr
    assert out.index(f"-- {DATE} (1/2)") < out.index("skipped") < out.index("-- 2025-05-02 (2/2)")
    assert re.search(r"ADAUSDT\s+success  .*attempts 1", out[out.index("-- 2025-05-02") :]), out
    assert "dates: 2 of 2 run, 0 with a symbol not ok" in out
    day2 = json.loads((artifacts / "runs" / "20250502Z" / "status.json").read_text())
    assert day2["symbols"]["ADAUSDT"]["status"] == "success" and day2["source"] == "submit"


@pytest.mark.e2e
@pytest.mark.slow(seconds=30)
def test_the_cli_refuses_to_submit_with_another_method_than_the_deployments(
    served: tuple[str, Path], tmp_path: Path
) -> None:
    base, _ = served
    settings = tmp_path / "settings.yaml"
    settings.write_text("training:\n  lookback_days: 120\n")
    result = subprocess.run(
        [sys.executable, "-m", "retrain_assets", "--submit", base, "--date", DATE],
        cwd=REPO,
        env={**os.environ, "RETRAIN_SETTINGS": str(settings)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stderr.count("\n") == 1
    assert f"--submit {base}: costs is made another way there (code version" in result.stderr
