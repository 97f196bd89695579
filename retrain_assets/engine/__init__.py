"""The scheduler's engine over Dagster: plans a date, launches symbol-day runs, reports."""
