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
from dataclasses import dataclass, field

import dagster as dg

from resources.telegram import TelegramResource
from retrain_assets.defs.invocations import InvocationView, recent_views
from retrain_assets.defs.notifier import Delivery, Finished, Notifier, Succeeded
from retrain_assets.defs.records import failure_of, will_retry
from retrain_assets.defs.summary_records import desk_headline
from retrain_assets.vocabulary.tags import (
    DATE_TAG,
    PARTITION_TAG,
    SELF_REPORTING,
    SYMBOL_TAG,
    RunTags,
)

MAX_AGE_S = 2 * 86400.0
# Views older than MAX_AGE_S are never announced, so the cursor only needs the recent ones.
CURSOR_KEYS = 200
Sent = dict[str, list[str]]


def finished_of(instance: dg.DagsterInstance, view: InvocationView) -> Finished:
    """A finished view as its completion message tells it, counts taken from its runs."""
    succeeded = [
        r.dagster_run
        for r in view.latest_runs()
        if r.dagster_run.status == dg.DagsterRunStatus.SUCCESS
    ]
    many_dates = ".." in view.date

    def name(run: dg.DagsterRun) -> str:
        symbol = run.tags.get(SYMBOL_TAG, "?")
        return symbol + (f" {run.tags.get(DATE_TAG, '')}" if many_dates else "")

    return Finished(
        view.date,
        [Succeeded(name(run), run.run_id) for run in succeeded],
        failed=max(view.total_symbols - view.skipped - len(succeeded), 0),
        skipped=view.skipped,
        duration_s=max((view.finished_at or view.started_at) - view.started_at, 0.0),
        headline=None if many_dates else desk_headline(instance, view.date),
    )


def due_messages(view: InvocationView, sent: list[str]) -> list[str]:
    """The kinds of the messages a view calls for now and has not had."""
    due = [] if "start" in sent else ["start"]
    if view.finished_at is not None and "completion" not in sent:
        due.append("completion")
    return due


def deliver(
    notifier: Notifier, instance: dg.DagsterInstance, view: InvocationView, kind: str
) -> Delivery:
    """Sends a view's start or completion message."""
    if kind == "start":
        return notifier.start(view.date, view.total_symbols, view.mode, view.dry_run)
    return notifier.completion(lambda: finished_of(instance, view), instance)


@dg.sensor(
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Telegram: a start and a completion message per schedule tick or UI backfill.",
)
def telegram_notifications_sensor(
    context: dg.SensorEvaluationContext, telegram: TelegramResource
) -> dg.SkipReason:
    """Send the start and completion messages that are due; the skip reason says how many."""
    notifier = Notifier(telegram, log=None)
    if not notifier.enabled:
        return dg.SkipReason(notifier.skip_reason)
    log = SentLog.load(context.cursor)
    views = [
        v
        for v in recent_views(context.instance, time.time(), MAX_AGE_S)
        if not v.self_reporting and v.started_at > log.done_before
    ]
    count = 0
    for view in views:
        sent = log.sent.get(view.key, [])
        for kind in due_messages(view, sent):
            delivery = deliver(notifier, context.instance, view, kind)
            if delivery.outcome == "retry":
                context.log.warning(
                    f"Telegram {kind} of {view.key} not sent, retried: {delivery.reason}"
                )
                context.update_cursor(log.dump(views))
                return dg.SkipReason(f"sent {count} Telegram message(s); Telegram unavailable")
            if delivery.outcome == "refused":
                context.log.warning(
                    f"Telegram {kind} of {view.key} refused, given up: {delivery.reason}"
                )
            count += delivery.sent
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
    notifier = Notifier(telegram, log=None)
    if not notifier.enabled:
        return dg.SkipReason(notifier.skip_reason)
    failure = failure_of(context.instance, run.run_id)
    delivery = notifier.failure(
        run.tags.get(SYMBOL_TAG, run.job_name),
        run.tags.get(DATE_TAG, run.tags.get(PARTITION_TAG, "?")),
        failure.error_type,
        failure.message,
        run.run_id,
    )
    if not delivery.sent:  # the run-status cursor moves on: an alert is tried once
        context.log.warning(
            f"Telegram failure alert of run {run.run_id} not sent: {delivery.reason}"
        )
    return None


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
