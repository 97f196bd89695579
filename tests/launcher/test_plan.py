"""The plan trusts a record only when its files are there and intact."""

from pathlib import Path

from retrain_assets.adapters.hashing import sha256_file
from retrain_assets.launcher.plan import AssetGraph, _plan_symbol, damage


def _entry(path: Path, **extra) -> dict:
    return {"path": str(path), "sha256": sha256_file(path), "size": path.stat().st_size, **extra}


def _intact_files(graph: AssetGraph, folder: Path) -> dict:
    """One intact recorded file per asset of the graph."""
    files = {}
    for name in graph.order:
        f = folder / f"{name}.bin"
        f.write_bytes(name.encode())
        files[name] = {f.name: _entry(f)}
    return files


def test_the_asset_graph_orders_the_assets_and_knows_what_is_downstream():
    from retrain_assets.defs.assets import symbol_day_assets

    graph = AssetGraph.of(symbol_day_assets)
    assert graph.order.index("features") < graph.order.index("model")
    assert list(graph.order[-2:]) == ["metrics", "champion"]
    assert graph.downstream["features"] == {"model", "walk_forward", "metrics", "champion"}
    assert graph.downstream["costs"] == {"walk_forward", "metrics", "champion"}
    # walk_forward reads the day before's model, not today's
    assert graph.downstream["model"] == {"metrics", "champion"}


def test_intact_files_have_no_damage(tmp_path):
    f = tmp_path / "a.bin"
    f.write_bytes(b"abc")
    assert damage({"a.bin": _entry(f)}) is None


def test_a_changed_file_is_damage(tmp_path):
    f = tmp_path / "a.bin"
    f.write_bytes(b"abc")
    entry = _entry(f)
    f.write_bytes(b"abd")
    assert "does not match" in damage({"a.bin": entry})


def test_a_missing_file_whose_only_copy_is_itself_is_damage(tmp_path):
    f = tmp_path / "a.bin"
    f.write_bytes(b"abc")
    entry = _entry(f, verified=True, uri=f"file://{f}", backend="local", remote_path="x/a.bin")
    f.unlink()
    restored = []
    assert "no remote copy" in damage({"a.bin": entry}, lambda e, p: restored.append(p))
    assert restored == []


def test_a_missing_file_with_a_real_remote_copy_is_restored_and_reverified(tmp_path):
    f = tmp_path / "a.bin"
    f.write_bytes(b"abc")
    entry = _entry(f, verified=True, uri="s3://bucket/a.bin", backend="s3", remote_path="a.bin")
    f.unlink()
    assert damage({"a.bin": entry}, lambda e, p: p.write_bytes(b"abc")) is None
    f.unlink()
    assert "does not match" in damage({"a.bin": entry}, lambda e, p: p.write_bytes(b"evil"))


def test_a_damaged_model_rebuilds_model_and_metrics_and_reuses_the_rest(tmp_path):
    from retrain_assets.defs.assets import symbol_day_assets

    graph = AssetGraph.of(symbol_day_assets)
    files = _intact_files(graph, tmp_path)
    (tmp_path / "model.bin").write_bytes(b"flipped")
    plan = _plan_symbol(graph, "BTCUSDT", files, None)
    assert plan.assets == ("model", "metrics", "champion")
    assert plan.reused == ("costs", "features", "walk_forward")
    assert plan.repaired.startswith("model: model.bin does not match")
    assert _plan_symbol(graph, "BTCUSDT", {n: None for n in graph.order}, None).repaired is None


def test_a_day_recorded_without_a_live_model_is_traded_again_once_the_model_exists(tmp_path):
    from retrain_assets.defs.assets import symbol_day_assets

    graph = AssetGraph.of(symbol_day_assets)
    files = _intact_files(graph, tmp_path)
    why = "recorded without a live model, and the model of 2025-04-30 exists now"
    plan = _plan_symbol(graph, "BTCUSDT", files, None, stale={"walk_forward": why})
    assert plan.assets == ("walk_forward", "metrics", "champion")
    assert plan.reused == ("costs", "features", "model")
    assert plan.repaired == f"walk_forward: {why}"


def test_an_asset_made_by_another_method_is_rebuilt_with_what_depends_on_it(tmp_path):
    from retrain_assets.defs.assets import symbol_day_assets

    graph = AssetGraph.of(symbol_day_assets)
    files = _intact_files(graph, tmp_path)
    why = "method cost.taker_fee_bps 10.0 -> 7.5"
    plan = _plan_symbol(graph, "BTCUSDT", files, None, made_another_way={"costs": why})
    assert plan.assets == ("costs", "walk_forward", "metrics", "champion")
    assert plan.reused == ("features", "model")
    assert plan.stale == why
    assert plan.repaired is None


def test_damage_is_named_before_a_changed_method(tmp_path):
    from retrain_assets.defs.assets import symbol_day_assets

    graph = AssetGraph.of(symbol_day_assets)
    files = _intact_files(graph, tmp_path)
    (tmp_path / "costs.bin").write_bytes(b"flipped")
    plan = _plan_symbol(graph, "BTCUSDT", files, None, made_another_way={"costs": "method x"})
    assert plan.repaired.startswith("costs: costs.bin does not match")
    assert plan.stale is None


def test_a_symbol_day_made_the_same_way_and_intact_is_skipped(tmp_path):
    from retrain_assets.defs.assets import symbol_day_assets

    graph = AssetGraph.of(symbol_day_assets)
    plan = _plan_symbol(graph, "BTCUSDT", _intact_files(graph, tmp_path), None, made_another_way={})
    assert plan.skipped
    assert "same source and method" in plan.skip_reason
