"""The files a run produces: how they are named, encoded and laid out on disk.

Assets hand the IO manager an `ArtifactFiles` (file name -> bytes) and get one back as input,
so serialisation lives here, next to the layout, and the IO manager only moves verified bytes.
"""

import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

SPEC_FILES = (
    "costs.json",
    "features.parquet",
    "split_indices.json",
    "model.bin",
    "config.json",
    "training_log.json",
    "metrics.json",
)
# Beyond the spec's files: the held-out fit that metrics.json scores, the costs of trading the
# date itself, and the walk-forward ledger's day.
PNL_FILES = ("held_out_model.bin", "walk_forward_costs.json", "walk_forward.json")
RUN_FOLDER_FILES = (*SPEC_FILES, *PNL_FILES)
CHECKSUM_FILE = "sha256.txt"
MODELS_DIR = "models"
# Files moved out of models/ (a damaged folder's, a failed run's leftovers) keep their path
# under this folder: quarantine/models/{SYMBOL}/{run folder}/.
QUARANTINE_DIR = "quarantine"


@dataclass(frozen=True)
class ArtifactFiles:
    """A bundle of named files, the unit an asset writes and a downstream asset reads."""

    files: Mapping[str, bytes]

    def json(self, name: str) -> Any:
        """Decode one JSON file of the bundle."""
        return json.loads(self.files[name])

    def parquet(self, name: str) -> pd.DataFrame:
        """Decode one parquet file of the bundle."""
        return pd.read_parquet(io.BytesIO(self.files[name]))


def json_bytes(document: Any) -> bytes:
    """Stable, human-readable JSON (sorted keys, trailing newline)."""
    return (json.dumps(document, indent=2, sort_keys=True, default=str) + "\n").encode()


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    """A DataFrame as parquet bytes (no index; columns keep their dtypes)."""
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def run_folder_name(run_created: datetime, run_id: str) -> str:
    """`YYYYMMDD_HHMMSSZ_<run8>`: the spec's timestamp plus the run id, so never reused."""
    stamp = run_created.astimezone(UTC).strftime("%Y%m%d_%H%M%SZ")
    return f"{stamp}_{run_id[:8]}"


# The day's desk report, beside its engine summary.
DESK_FILE = "desk.html"


def day_folder(date: str) -> str:
    """`YYYYMMDDZ` for a partition date `YYYY-MM-DD` (runs/, logs/ and summary/ folders)."""
    return date.replace("-", "") + "Z"


@dataclass(frozen=True)
class ArtifactLayout:
    """Where everything lives under the artifact root (the spec's folder layout)."""

    root: Path

    def run_folder(self, symbol: str, run_created: datetime, run_id: str) -> Path:
        """`models/{SYMBOL}/{YYYYMMDD_HHMMSSZ}_{run8}/`, one per run."""
        return self.root / MODELS_DIR / symbol / run_folder_name(run_created, run_id)

    def checkpoint_dir(self, symbol: str, date: str, dry_run: bool) -> Path:
        """Training snapshots, kept per partition (not per run) so a rerun resumes from them."""
        kind = "dry_run" if dry_run else "real"
        return self.root / "checkpoints" / symbol / day_folder(date) / kind

    def quarantine_of(self, folder: Path) -> Path:
        """Where the files moved aside from `folder` (a run folder under the root) go."""
        return self.root / QUARANTINE_DIR / folder.relative_to(self.root)

    def status_file(self, date: str) -> Path:
        """`runs/YYYYMMDDZ/status.json`, the resume ledger exported from the instance."""
        return self.root / "runs" / day_folder(date) / "status.json"

    def summary_file(self, date: str) -> Path:
        """`summary/YYYYMMDDZ/engine_summary.json`."""
        return self.root / "summary" / day_folder(date) / "engine_summary.json"

    def equity_file(self, date: str) -> Path:
        """`summary/YYYYMMDDZ/equity_days.json`: each symbol's daily record through the date
        (`walk_forward_report` writes it, the desk report draws it)."""
        return self.root / "summary" / day_folder(date) / "equity_days.json"

    def desk_file(self, date: str) -> Path:
        """`summary/YYYYMMDDZ/desk.html`: the day's desk report, one self-contained page."""
        return self.summary_file(date).with_name(DESK_FILE)
