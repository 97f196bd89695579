"""Telegram messages for runs no launching process reports: schedule ticks and UI backfills.

The CLI, the API and `--submit` send their own messages (their runs carry a self-reporting
`retrain/source`); these sensors send everything else, so each message has one sender:

- `telegram_notifications_sensor`: one start and one completion message per schedule tick or
  backfill, remembering what it sent in its own cursor;
- `telegram_failure_sensor`: one alert per run that failed for good, whatever launched it
  (a schedule tick, a UI backfill of the job or of `__ASSET_JOB`, a run launched from the UI).
"""

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import dagster as dg

from resources.notifier import TelegramResource
from retrain_assets.adapters.telegram import (
    TelegramClient,
    TelegramError,
    best_and_worst,
    format_completion,
    format_failure,
    format_lifecycle,
    format_start,
    run_url,
)
from retrain_assets.core.redaction import redact
from retrain_assets.defs.invocations import InvocationView, recent_views
from retrain_assets.defs.lifecycle_records import lifecycle_of
from retrain_assets.defs.records import failure_of, will_retry
from retrain_assets.defs.summary_records import desk_headline, run_net_bps
from retrain_assets.defs.tags import DATE_TAG, PARTITION_TAG, SELF_REPORTING, SYMBOL_TAG, RunTags

MAX_AGE_S = 2 * 86400.0
# Views older than MAX_AGE_S are never announced, so the cursor only needs the recent ones.
CURSOR_KEYS = 200
# Answers that no retry will change (a refused text, an unknown chat): the message is given up.
_GIVE_UP = frozenset({400, 403, 404})
Sent = dict[str, list[str]]
Outcome = Literal["sent", "retry", "refused"]


def skip_without_credentials(telegram: TelegramResource) -> dg.SkipReason:
    """The tick's answer when Telegram is not configured."""
    return dg.SkipReason(f"Telegram notifications skipped: {', '.join(telegram.missing())} unset")


def completion_text(instance: dg.DagsterInstance, view: InvocationView, label: str) -> str:
    """The completion summary of a finished view, counts and ranking taken from its runs."""
    succeeded = [
        r for r in view.latest_runs() if r.dagster_run.status == dg.DagsterRunStatus.SUCCESS
    ]
    many_dates = ".." in view.date
    scores: list[tuple[str, float]] = []
    for record in succeeded:
        tags = record.dagster_run.tags
        name = tags.get(SYMBOL_TAG, "?") + (f" {tags.get(DATE_TAG, '')}" if many_dates else "")
        net = run_net_bps(instance, record.dagster_run.run_id)
        if net is not None:
            scores.append((name, net))
    best, worst = best_and_worst(scores)
    names = [
        (
            record.dagster_run.tags.get(SYMBOL_TAG, "?")
            + (f" {record.dagster_run.tags.get(DATE_TAG, '')}" if many_dates else ""),
            record.dagster_run.run_id,
        )
        for record in succeeded
    ]
    found = lifecycle_of(instance, names)
    return format_completion(
        label,
        view.date,
        succeeded=len(succeeded),
        failed=max(view.total_symbols - view.skipped - len(succeeded), 0),
        skipped=view.skipped,
        duration_s=max((view.finished_at or view.started_at) - view.started_at, 0.0),
        best=best,
        worst=worst,
        lifecycle=format_lifecycle(found.promoted, found.kept_back, found.drifted, found.demoted),
        headline=None if many_dates else desk_headline(instance, view.date),
    )


def due_messages(
    instance: dg.DagsterInstance, view: InvocationView, label: str, sent: list[str]
) -> list[tuple[str, Callable[[], str]]]:
    """(kind, text builder) of the messages a view calls for now and has not had."""
    mode = view.mode + (" (dry run)" if view.dry_run else "")
    due: list[tuple[str, Callable[[], str]]] = []
    if "start" not in sent:
        due.append(("start", lambda: format_start(label, view.total_symbols, mode, view.date)))
    if view.finished_at is not None and "completion" not in sent:
        due.append(("completion", lambda: completion_text(instance, view, label)))
    return due


@dg.sensor(
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Telegram: a start and a completion message per schedule tick or UI backfill.",
)
def telegram_notifications_sensor(
    context: dg.SensorEvaluationContext, telegram: TelegramResource
) -> dg.SkipReason:
    """Send the start and completion messages that are due; the skip reason says how many."""
    client = telegram.client()
    if client is None:
        return skip_without_credentials(telegram)
    log = SentLog.load(context.cursor)
    views = [
        v
        for v in recent_views(context.instance, time.time(), MAX_AGE_S)
        if not v.self_reporting and v.started_at > log.done_before
    ]
    count = 0
    for view in views:
        sent = log.sent.get(view.key, [])
        for kind, build in due_messages(context.instance, view, telegram.label, sent):
            outcome, reason = _send(client, build, telegram.secrets())
            if outcome == "retry":
                context.log.warning(f"Telegram {kind} of {view.key} not sent, retried: {reason}")
                context.update_cursor(log.dump(views))
                return dg.SkipReason(f"sent {count} Telegram message(s); Telegram unavailable")
            if outcome == "refused":
                context.log.warning(f"Telegram {kind} of {view.key} refused, given up: {reason}")
            count += outcome == "sent"
            log.sent.setdefault(view.key, []).append(kind)
            context.update_cursor(log.dump(views))
    context.update_cursor(log.dump(views))
    return dg.SkipReason(f"sent {count} Telegram message(s)")


@dg.run_failure_sensor(
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Telegram: one alert per run of this code location that failed for good.",
)
def telegram_failure_sensor(
    context: dg.RunFailureSensorContext, telegram: TelegramResource
) -> dg.SkipReason | None:
    """Alert on a failed run unless its launcher reports it or the daemon will retry it."""
    run = context.dagster_run
    tags = RunTags.from_tags(run.tags)
    if (tags is not None and tags.source in SELF_REPORTING) or will_retry(run):
        return None
    client = telegram.client()
    if client is None:
        return skip_without_credentials(telegram)
    failure = failure_of(context.instance, run.run_id)
    text = format_failure(
        run.tags.get(SYMBOL_TAG, run.job_name),
        run.tags.get(DATE_TAG, run.tags.get(PARTITION_TAG, "?")),
        failure.error_type,
        failure.message,
        run_url(telegram.ui_base_url, run.run_id),
        secrets=telegram.secrets(),
    )
    outcome, reason = _send(client, lambda: text, telegram.secrets())
    if outcome != "sent":  # the run-status cursor moves on: an alert is tried once
        context.log.warning(f"Telegram failure alert of run {run.run_id} not sent: {reason}")
    return None


def _send(
    client: TelegramClient, build: Callable[[], str], secrets: list[str]
) -> tuple[Outcome, str]:
    """Sends one message: `sent`, `retry` (Telegram down, rate limited) or `refused`, and why."""
    try:
        client.send(build())
    except TelegramError as exc:  # its text never holds the token; redacted all the same
        outcome: Outcome = "refused" if exc.status_code in _GIVE_UP else "retry"
        return outcome, redact(str(exc), secrets)
    except Exception as exc:  # a message must never fail the tick
        return "refused", redact(f"{type(exc).__name__}: {exc}", secrets)
    return "sent", ""


@dataclass
class SentLog:
    """The sensor's cursor: the kinds sent per view key, for at most `CURSOR_KEYS` views.

    Views that started at or before `done_before` were dropped from `sent` to bound it and
    are not looked at again.
    """

    sent: Sent = field(default_factory=dict)
    done_before: float = 0.0

    @classmethod
    def load(cls, cursor: str | None) -> "SentLog":
        try:
            data = json.loads(cursor) if cursor else {}
            sent = {str(k): list(v) for k, v in data.get("sent", {}).items()}
            return cls(sent, float(data.get("done_before", 0.0)))
        except (ValueError, TypeError, AttributeError):
            return cls()

    def dump(self, views: list[InvocationView]) -> str:
        """The cursor after this tick; `views` oldest first."""
        kept = [v for v in views if v.key in self.sent]
        dropped, kept = kept[:-CURSOR_KEYS], kept[-CURSOR_KEYS:]
        done_before = max([self.done_before, *(v.started_at for v in dropped)])
        sent = {v.key: self.sent[v.key] for v in kept}
        return json.dumps({"done_before": done_before, "sent": sent}, sort_keys=True)


notification_sensors = [telegram_notifications_sensor, telegram_failure_sensor]
