"""The real Definitions load, and every job, asset and resource resolves by name."""

import dagster as dg

from retrain_assets.definitions import defs


def test_the_real_definitions_are_loadable():
    dg.Definitions.validate_loadable(defs)


def test_the_retrain_job_covers_every_symbol_day_asset():
    job = defs.resolve_job_def("retrain_symbol_day")
    keys = {k.to_user_string() for k in job.asset_layer.executable_asset_keys}
    assert keys == {"costs", "features", "model", "walk_forward", "metrics", "champion"}


def test_training_runs_in_the_train_pool_with_retries():
    model = defs.resolve_assets_def("model")
    node = model.node_def
    assert node.pool == "train"
    assert node.retry_policy is not None and node.retry_policy.max_retries == 2


def test_partitions_are_date_by_symbol():
    metrics = defs.resolve_assets_def("metrics")
    partitions = metrics.partitions_def
    assert isinstance(partitions, dg.MultiPartitionsDefinition)
    assert {d.name for d in partitions.partitions_defs} == {"date", "symbol"}
