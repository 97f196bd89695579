"""Which day an invocation retrains, checked before any work starts."""

from datetime import UTC, date, datetime, timedelta

from retrain_assets.core.errors import PermanentError

# 2025-01-01 keeps symbols x days far below the ~100k partitions Dagster handles well.
DEFAULT_START_DATE = "2025-01-01"


def checked_start_date(text: str, where: str = "RETRAIN_START_DATE") -> str:
    """`text` if it is a past day written YYYY-MM-DD.

    Args:
        text: The first date partition as configured.
        where: Where it was configured, for the message (a variable, or the settings file's
            field).

    Raises:
        PermanentError: Not such a day (the code location then fails to load with this one
            line, and the CLI stops before any work).
    """
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise PermanentError(f"{where}={text!r}: expected YYYY-MM-DD") from None
    if len(text) != len("YYYY-MM-DD") or day > datetime.now(UTC).date():
        raise PermanentError(f"{where}={text!r}: expected a past day as YYYY-MM-DD")
    return text


def last_complete_utc_day(now: datetime) -> str:
    """The last UTC day whose 24 hourly bars are all closed at `now`."""
    return (now.astimezone(UTC).date() - timedelta(days=1)).isoformat()


def validate_date(text: str, first: str, now: datetime, flag: str = "--date") -> str:
    """`text` as YYYY-MM-DD if it is a complete day within the partition range."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise PermanentError(f"{flag} {text!r}: expected YYYY-MM-DD") from None
    last = last_complete_utc_day(now)
    if day.isoformat() > last:
        raise PermanentError(f"{flag} {text}: not a complete UTC day yet (last complete: {last})")
    if day.isoformat() < first:
        raise PermanentError(
            f"{flag} {text}: before the first partition {first}; set the start date "
            "earlier (deployment.start_date in RETRAIN_SETTINGS, or RETRAIN_START_DATE)"
        )
    return day.isoformat()


MAX_DATES = 3660


def date_range(spec: str, first: str, now: datetime) -> list[str]:
    """The days of `FIRST..LAST` (both included), oldest first, each within the partition range.

    Walk-forward days build on the model of the day before, so a range always runs in this
    order; one day (`D..D`) is a range too.

    Raises:
        PermanentError: not `FIRST..LAST`, a bad or out-of-range day, LAST before FIRST, or
            more than `MAX_DATES` days.
    """
    head, sep, tail = spec.partition("..")
    if not sep:
        raise PermanentError(f"--dates {spec!r}: expected FIRST..LAST (YYYY-MM-DD..YYYY-MM-DD)")
    start = date.fromisoformat(validate_date(head.strip(), first, now, "--dates"))
    end = date.fromisoformat(validate_date(tail.strip(), first, now, "--dates"))
    if end < start:
        raise PermanentError(f"--dates {spec}: the last day is before the first")
    days = (end - start).days + 1
    if days > MAX_DATES:
        raise PermanentError(f"--dates {spec}: {days} days; at most {MAX_DATES} per invocation")
    return [(start + timedelta(days=i)).isoformat() for i in range(days)]
