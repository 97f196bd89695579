"""Which day an invocation retrains, checked before any work starts."""

from datetime import UTC, date, datetime, timedelta

from retrain_assets.core.errors import PermanentError


def last_complete_utc_day(now: datetime) -> str:
    """The last UTC day whose 24 hourly bars are all closed at `now`."""
    return (now.astimezone(UTC).date() - timedelta(days=1)).isoformat()


def validate_date(text: str, first: str, now: datetime) -> str:
    """`text` as YYYY-MM-DD if it is a complete day within the partition range."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise PermanentError(f"--date {text!r}: expected YYYY-MM-DD") from None
    last = last_complete_utc_day(now)
    if day.isoformat() > last:
        raise PermanentError(f"--date {text}: not a complete UTC day yet (last complete: {last})")
    if day.isoformat() < first:
        raise PermanentError(
            f"--date {text}: before the first partition {first}; set RETRAIN_START_DATE earlier"
        )
    return day.isoformat()
