"""Retries artifact uploads that failed during a run, until each one is verified.

The sensor scans new materializations of the artifact assets for `pending_uploads > 0`, keeps
them in its cursor, and on every tick re-uploads each pending file from its local copy (after
re-hashing it against the recorded sha256). A verification is recorded as an `AssetObservation`
of the same partition, which neither changes the latest materialization (so `latest_record()`,
resume and the schedule see the run exactly as it ended) nor needs a run. The retry itself
(`resources/upload_retry.py`) is the one a CLI rerun of a date uses for its symbol-days.
"""

import dagster as dg

from resources.artifact_io import ArtifactRootResource
from resources.storage import StorageResource
from resources.upload_retry import retry_all
from resources.uploads import PendingCursor, scan_new_materializations
from retrain_assets.defs.assets import symbol_day_assets

# Every per-symbol-day asset records its files (the IO manager's, the champion's decision).
ARTIFACT_ASSETS = tuple(a.key.path[-1] for a in symbol_day_assets)


def build_pending_uploads_sensor(
    assets: tuple[str, ...] = ARTIFACT_ASSETS, name: str = "pending_uploads_sensor"
) -> dg.SensorDefinition:
    """A sensor retrying the pending uploads of `assets` (those written by the IO manager)."""

    @dg.sensor(
        name=name,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Retries artifact uploads left pending by a run until each is verified.",
    )
    def _sensor(
        context: dg.SensorEvaluationContext,
        storage: StorageResource,
        artifacts: ArtifactRootResource,
    ) -> dg.SkipReason:
        cursor = PendingCursor.load(context.cursor)
        scan_new_materializations(context.instance, cursor, assets)
        root = artifacts.layout().root
        done = retry_all(context, context.instance, storage, root, cursor.pending)
        verified = len(cursor.pending) - len(done.still)
        cursor.pending = done.still
        context.update_cursor(cursor.dump())
        return dg.SkipReason(
            f"{verified} materialization(s) fully verified, {len(done.still)} still pending"
        )

    return _sensor


pending_uploads_sensor = build_pending_uploads_sensor()
