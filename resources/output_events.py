"""The spec's events for an output: `coin_partial_saved`, `upload_succeeded`, `upload_failed`.

Written to the day's JSON logs (engine.log and the symbol's training.log) by the IO manager,
which alone knows when a file is safely on disk and whether its upload was verified.
"""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg

from retrain_assets.adapters.logging_setup import EventLog
from retrain_assets.vocabulary.keys import split_partition_key
from retrain_assets.vocabulary.tags import MODE_TAG, tag_value


def output_log(context: dg.OutputContext, root: Path) -> tuple[EventLog, str]:
    """The day's event log for an output, and the output's symbol."""
    date, symbol = split_partition_key(context.asset_partition_key)
    tags = context.step_context.dagster_run.tags
    mode = tag_value(tags, MODE_TAG) or "hybrid"
    log = EventLog.from_environ(root, date, context.run_id, mode)
    return log, symbol


def log_output_events(
    context: dg.OutputContext,
    root: Path,
    entries: Mapping[str, Mapping[str, Any]],
    *,
    sealed: bool,
    uploaded: bool,
) -> None:
    """One upload event per uploaded file, then `coin_partial_saved` for a partial output."""
    log, symbol = output_log(context, root)
    attempt = context.step_context.previous_attempt_count + 1
    if uploaded:
        for name, entry in entries.items():
            verified = bool(entry.get("verified"))
            log.emit(
                "upload_succeeded" if verified else "upload_failed",
                symbol=symbol,
                level="info" if verified else "error",
                attempt=attempt,
                file=name,
                backend=entry.get("backend"),
                uri=entry.get("uri"),
                size=entry.get("size"),
                pending_upload=bool(entry.get("pending_upload")),
            )
    if not sealed:
        log.emit(
            "coin_partial_saved",
            symbol=symbol,
            attempt=attempt,
            asset=context.asset_key.to_user_string(),
            files=sorted(entries),
            run_folder=str(Path(next(iter(entries.values()))["path"]).parent) if entries else None,
        )
