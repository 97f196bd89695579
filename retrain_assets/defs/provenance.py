"""Provenance as Dagster records it: materialization metadata, data versions, code versions.

Every symbol-day asset writes `provenance` (JSON: source, bars fingerprint, method digest and
settings, trainer, product version) and, for the UI's tables, `source` and `method` as text.
The assets that read bars (`costs`, `features`) return a data version made of the bars'
fingerprint and their method, so Dagster marks what depends on them stale when either changes;
every asset's `code_version` is its method digest with the source (`with_code_versions`).
"""

import warnings
from collections.abc import Sequence
from typing import Any

import dagster as dg

from retrain_assets.core.model.provenance import Current, Method, Provenance, digest
from retrain_assets.defs.records import latest_metadata_by_partition
from retrain_assets.vocabulary.figures import unplotted

PROVENANCE_KEY = "provenance"


def provenance_metadata(record: Provenance) -> dict[str, dg.MetadataValue]:
    """The materialization metadata of a provenance record."""
    return {
        PROVENANCE_KEY: dg.MetadataValue.json(record.to_json_dict()),
        "source": dg.MetadataValue.text(record.source),
        "method": dg.MetadataValue.text(record.method),
    }


def data_version(record: Provenance) -> dg.DataVersion:
    """The data version of an asset made from bars: the bars' fingerprint under its method."""
    return dg.DataVersion(digest([record.bars_sha256, record.method]))


def versioned_output(value: Any, metadata: dict[str, Any], record: Provenance) -> dg.Output[Any]:
    """A symbol-day's output carrying `record`'s data version (`Output(data_version=)`, beta
    in 1.13: its warning would reach every run's console), its figures as text (`unplotted`)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        return dg.Output(value, metadata=unplotted(metadata), data_version=data_version(record))


def recorded_provenance(metadata: dict[str, Any] | None) -> Provenance | None:
    """The provenance a materialization's metadata values carry (None: none recorded)."""
    return Provenance.from_json_dict((metadata or {}).get(PROVENANCE_KEY))


def upstream_provenance(
    instance: dg.DagsterInstance, key: dg.AssetKey, partition: str
) -> Provenance | None:
    """The provenance of `key`'s latest materialization of `partition`."""
    found = latest_metadata_by_partition(instance, key, [partition])
    return recorded_provenance(found.get(partition))


def derived_provenance(
    context: dg.AssetExecutionContext, asset: str, method: Method, trainer: str | None
) -> Provenance:
    """The provenance of an asset that reads no bars itself: the source and bars of the
    symbol-day's `features` (what its model was made from), under `asset`'s own method."""
    upstream = upstream_provenance(
        context.instance, dg.AssetKey("features"), str(context.partition_key)
    )
    if upstream is None:  # never for a run that made or loaded its features
        return Current("unknown", "unknown", method).provenance(asset, "", trainer)
    made_from = Current(upstream.source_kind, upstream.source, method)
    return made_from.provenance(asset, upstream.bars_sha256, trainer)


def with_code_versions(
    assets: Sequence[dg.AssetsDefinition], current: Current
) -> list[dg.AssetsDefinition]:
    """The assets with each one's code version: its method digest and the data source."""
    return list(
        dg.map_asset_specs(
            lambda spec: spec.replace_attributes(
                code_version=current.code_version(spec.key.path[-1])
            ),
            assets,
        )
    )
