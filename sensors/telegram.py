"""Sends Telegram start, failure and completion messages for invocations and backfills.

One mechanism for every source: the CLI, the schedule and UI backfills all leave records in
the instance, and this sensor sends whatever is due from them (the CLI also sends directly,
for users without a daemon; sent markers in the instance keep each message to one).
"""

import dagster as dg

from resources.notifier import TelegramResource
from retrain_assets.engine.notifications import dispatch_notifications


@dg.sensor(
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Telegram: a start and a completion message per invocation, an alert per failure.",
)
def telegram_notifications_sensor(
    context: dg.SensorEvaluationContext, telegram: TelegramResource
) -> dg.SkipReason:
    """Send the notifications that are due; the tick's skip reason says what happened."""
    client = telegram.client()
    if client is None:
        return dg.SkipReason(
            f"Telegram notifications skipped: {', '.join(telegram.missing())} unset"
        )
    sent = dispatch_notifications(
        context.instance,
        client,
        telegram.ui_base_url,
        label=telegram.label,
        secrets=telegram.secrets(),
        log=context.log,
    )
    return dg.SkipReason(f"sent {len(sent)} Telegram message(s)")


notification_sensors = [telegram_notifications_sensor]
