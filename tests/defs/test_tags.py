"""Run tags round-trip through Dagster's string tags."""

from retrain_assets.defs.tags import RunTags


def test_run_tags_round_trip():
    tags = RunTags(
        invocation="abc",
        source="cli",
        mode="parallel",
        dry_run=True,
        driver="s3",
        timeout_minutes=12.5,
        max_concurrent=3,
        total_symbols=20,
        skipped=4,
        lock="/x/y.lock",
    )
    assert RunTags.from_tags(tags.to_tags()) == tags
    assert all(isinstance(v, str) for v in tags.to_tags().values())


def test_a_run_no_invocation_launched_has_no_record():
    assert RunTags.from_tags({"dagster/partition": "2025-05-01|BTCUSDT"}) is None
