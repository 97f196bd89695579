"""What a check returns: passed, or failed with a severity, one line for the desk, figures.

The data checks (`data_checks`) and the model's checks (drift, rolling IC, calibration) all
return a `CheckOutcome`; the assets turn each into a Dagster check result. `WARN` is worth a
look and the day still runs; `ERROR` means what was checked must not be published.
"""

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

WARN = "WARN"
ERROR = "ERROR"

Metadata = dict[str, float | int | str | None]


@dataclass(frozen=True)
class CheckOutcome:
    """The result of one check: whether it passed, how bad a failure is, and its figures.

    Attributes:
        name: The check's name, such as `"data_freshness"`.
        passed: True when the check found nothing to report.
        severity: `WARN` or `ERROR` for a failure; a passed check carries `WARN`.
        description: One line for the desk, naming the numbers.
        metadata: The figures; None where undefined, never 0.0 in its place.
    """

    name: str
    passed: bool
    severity: str
    description: str
    metadata: Metadata

    def to_json_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        return asdict(self)


def graded(
    name: str, metadata: Metadata, *, errors: list[str], warnings: list[str], clean: str
) -> CheckOutcome:
    """The outcome of a check from the problems it found, the errors first.

    Args:
        name: The check's name.
        metadata: Its figures.
        errors: Problems that fail it with `ERROR`.
        warnings: Problems that fail it with `WARN` when there are no errors.
        clean: The description when there is no problem at all.

    Returns:
        ERROR if any error, WARN if any warning, else a passed outcome described by `clean`.
    """
    if errors:
        return CheckOutcome(name, False, ERROR, "; ".join(errors + warnings), metadata)
    if warnings:
        return CheckOutcome(name, False, WARN, "; ".join(warnings), metadata)
    return CheckOutcome(name, True, WARN, clean, metadata)


def failed_errors(outcomes: Iterable[CheckOutcome]) -> tuple[CheckOutcome, ...]:
    """The outcomes that failed with `ERROR`: the reasons not to publish the features."""
    return tuple(o for o in outcomes if not o.passed and o.severity == ERROR)
