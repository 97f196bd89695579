"""Telegram notifications of invocations and backfills, each message sent exactly once.

`dispatch_notifications` is idempotent: it looks at recent invocations and backfills, works
out which messages are due (a start once, a failure alert per run that failed for good, a
completion summary once finished) and sends those not yet marked sent in the instance. The
CLI calls it at the start and end of an invocation; the sensor calls it every tick.
"""

import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import dagster as dg

from resources.notifier import telegram_from_env
from retrain_assets.core.redaction import redact, secrets_from_env
from retrain_assets.core.telegram import (
    TelegramClient,
    TelegramError,
    format_completion,
    format_failure,
    format_start,
)
from retrain_assets.engine.notify_markers import Marker, MarkerStore
from retrain_assets.engine.notify_views import DATE_TAG, SYMBOL_TAG, InvocationView, recent_views
from retrain_assets.engine.runner import failure_details

logger = logging.getLogger(__name__)
MAX_AGE_S = 2 * 86400.0
DISPATCH_BUDGET_S = 40.0
NET_BPS_KEY = "net_bps_after_costs"
Log = logging.Logger | logging.LoggerAdapter | dg.DagsterLogManager
_skip_logged: set[str] = set()


@dataclass(frozen=True)
class Notice:
    """One message that may be due: its marker key, and how to build its text."""

    key: str
    build: Callable[[], str]


def run_url(ui_base_url: str | None, run_id: str) -> str | None:
    """The link to a run in the Dagster UI, when the UI's address is known."""
    return f"{ui_base_url.rstrip('/')}/runs/{run_id}" if ui_base_url else None


def _net_bps(instance: dg.DagsterInstance, run_id: str) -> float | None:
    """`net_bps_after_costs` of the `metrics` materialization of one run, if any."""
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
    ).records
    for record in reversed(records):
        mat = record.asset_materialization
        if mat is not None and mat.asset_key == dg.AssetKey("metrics"):
            value = mat.metadata.get(NET_BPS_KEY)
            return float(value.value) if value is not None else None  # type: ignore[arg-type]
    return None


def completion_text(instance: dg.DagsterInstance, view: InvocationView, label: str) -> str:
    """The completion summary of a finished invocation, counts taken from its runs."""
    succeeded = [
        r for r in view.latest_runs() if r.dagster_run.status == dg.DagsterRunStatus.SUCCESS
    ]
    many_dates = ".." in view.date
    scores: list[tuple[str, float]] = []
    for record in succeeded:
        net = _net_bps(instance, record.dagster_run.run_id)
        tags = record.dagster_run.tags
        name = tags.get(SYMBOL_TAG, "?") + (f" {tags.get(DATE_TAG, '')}" if many_dates else "")
        if net is not None:
            scores.append((name, net))
    return format_completion(
        label,
        view.date,
        succeeded=len(succeeded),
        failed=max(view.total_symbols - view.skipped - len(succeeded), 0),
        skipped=view.skipped,
        duration_s=max((view.finished_at or view.started_at) - view.started_at, 0.0),
        best=max(scores, key=lambda s: s[1]) if scores else None,
        worst=min(scores, key=lambda s: s[1]) if scores else None,
    )


def notices_for(
    instance: dg.DagsterInstance,
    view: InvocationView,
    ui_base_url: str | None,
    label: str,
    secrets: list[str],
) -> list[Notice]:
    """The messages an invocation calls for at this moment, in the order to send them."""
    notices = [
        Notice(
            f"{view.key}/start",
            lambda: format_start(label, view.total_symbols, view.mode, view.date),
        )
    ]
    for record in view.final_failures():
        run = record.dagster_run

        def failure(run: dg.DagsterRun = run) -> str:
            error_type, reason, _ = failure_details(instance, run.run_id)
            symbol, date = run.tags.get(SYMBOL_TAG, "?"), run.tags.get(DATE_TAG, view.date)
            url = run_url(ui_base_url, run.run_id)
            return format_failure(symbol, date, error_type, reason, url, secrets=secrets)

        notices.append(Notice(f"{view.key}/failure/{run.run_id}", failure))
    if view.finished_at is not None:
        notices.append(
            Notice(f"{view.key}/completion", lambda: completion_text(instance, view, label))
        )
    return notices


def dispatch_notifications(
    instance: dg.DagsterInstance,
    client: TelegramClient,
    ui_base_url: str | None = None,
    now: float | None = None,
    *,
    label: str = "retrain",
    secrets: Iterable[str] = (),
    log: Log = logger,
    max_age_s: float = MAX_AGE_S,
    settle_s: float = 0.2,
) -> list[str]:
    """Sends the start, failure and completion messages that are due and not yet sent.

    Telegram errors never leave this function: a failed message is logged in one redacted
    line and tried again by a later call, up to a bounded number of attempts.

    Args:
        instance: The Dagster instance with the registry, backfills, runs and markers.
        client: The Telegram client.
        ui_base_url: The Dagster UI's root, for links to failed runs.
        now: The current time, epoch seconds; the clock when None.
        label: The deployment's name in messages.
        secrets: Values to mask in failure reasons and log lines.
        log: Where to log.
        max_age_s: Invocations that started longer ago than this are ignored.
        settle_s: Seconds between claiming messages and confirming the claim.

    Returns:
        The marker keys (``source:id/kind[/run_id]``) of the messages sent by this call.
    """
    now = time.time() if now is None else now
    masked = [*secrets]
    notices = [
        n
        for view in recent_views(instance, now, max_age_s)
        for n in notices_for(instance, view, ui_base_url, label, masked)
    ]
    store = MarkerStore(instance, now, settle_s=settle_s)
    markers = store.load(n.key for n in notices)
    due = [n for n in notices if store.due(markers.get(n.key))]
    owned = set(store.claim([n.key for n in due], markers))
    return _send_all([n for n in due if n.key in owned], client, store, markers, masked, log)


def _send_all(
    notices: list[Notice],
    client: TelegramClient,
    store: MarkerStore,
    markers: dict[str, Marker],
    secrets: list[str],
    log: Log,
) -> list[str]:
    """Sends claimed notices in order; stops at the first failure that is not the message's."""
    sent: list[str] = []
    deadline = time.monotonic() + DISPATCH_BUDGET_S
    for index, notice in enumerate(notices):
        attempts = markers[notice.key].attempts if notice.key in markers else 0
        if time.monotonic() > deadline:
            store.release([n.key for n in notices[index:]], markers)
            break
        try:
            client.send(notice.build())
        except Exception as exc:  # nothing may fail the caller; logged below
            reason = redact(f"{type(exc).__name__}: {exc}", secrets)
            marker = store.failed(notice.key, attempts, reason)
            log.warning(f"Telegram message {notice.key} not sent ({marker.state}): {reason}")
            status = exc.status_code if isinstance(exc, TelegramError) else 400
            if status != 400:  # Telegram down, rate limited or refusing the bot: try later
                store.release([n.key for n in notices[index + 1 :]], markers)
                break
            continue
        store.sent(notice.key, attempts)
        sent.append(notice.key)
    return sent


def notify_from_env(instance: dg.DagsterInstance, environ: Mapping[str, str] = os.environ) -> None:
    """Sends due notifications with the settings in the environment; never raises.

    Reads TELEGRAM_TOKEN, TELEGRAM_CHAT_ID, TELEGRAM_API_BASE_URL and DAGSTER_UI_BASE_URL
    when called. Without credentials it logs one line per process and returns.

    Args:
        instance: The Dagster instance of the invocation.
        environ: The environment to read, usually ``os.environ``.
    """
    resource = telegram_from_env(environ)
    secrets = [*resource.secrets(), *secrets_from_env(environ)]
    try:
        client = resource.client()
        if client is None:
            if "unset" not in _skip_logged:
                _skip_logged.add("unset")
                logger.info(
                    "Telegram notifications skipped: %s unset", ", ".join(resource.missing())
                )
            return
        dispatch_notifications(
            instance, client, resource.ui_base_url, label=resource.label, secrets=secrets
        )
    except Exception as exc:  # notifications must never fail an invocation
        logger.warning(
            "Telegram notifications failed: %s", redact(f"{type(exc).__name__}: {exc}", secrets)
        )
