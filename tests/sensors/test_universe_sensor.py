"""The symbol-universe sensor keeps the partitions equal to the selection."""

import dagster as dg
import pytest

from resources.market_data import MarketDataResource, SourceKind
from resources.universe import SymbolUniverseResource
from retrain_assets.defs.universe import active_symbols, retired_symbols
from sensors import universe as universe_module
from sensors.universe import symbol_universe_sensor, universe_changes
from tests.fakes.volume_spike import STEADY_ORDER, write_volume_spike


def _tick(instance, selection: str, market_data: MarketDataResource | None = None):
    context = dg.build_sensor_context(
        instance=instance,
        resources={
            "universe": SymbolUniverseResource(selection=selection),
            "market_data": market_data or MarketDataResource(),
        },
    )
    return symbol_universe_sensor.evaluate_tick(context)


@pytest.fixture
def instance():
    with dg.instance_for_test() as inst:
        yield inst


def test_new_symbols_become_partitions(instance):
    result = _tick(instance, "BTCUSDT,ETHUSDT")
    requests = result.dynamic_partitions_requests
    assert [list(r.partition_keys) for r in requests] == [["BTCUSDT", "ETHUSDT"]]


def test_dropped_symbols_are_retired_but_keep_their_partitions(instance):
    instance.add_dynamic_partitions("symbols", ["BTCUSDT", "ETHUSDT", "SOLUSDT"])
    result = _tick(instance, "BTCUSDT,SOLUSDT,XRPUSDT")
    assert [list(r.partition_keys) for r in result.dynamic_partitions_requests] == [["XRPUSDT"]]
    assert retired_symbols(instance) == {"ETHUSDT"}
    assert "ETHUSDT" in instance.get_dynamic_partitions("symbols")
    assert active_symbols(instance) == ["BTCUSDT", "SOLUSDT"]


def test_a_bad_selection_skips_the_tick_with_the_reason(instance):
    result = _tick(instance, "BTCUSDT,../etc")
    assert not result.dynamic_partitions_requests
    assert "../etc" in result.skip_message


@pytest.mark.parametrize(
    ("selected", "registered", "added", "retired"),
    [
        (["A1", "B1"], [], ["A1", "B1"], set()),
        (["A1"], ["A1", "B1"], [], {"B1"}),
        (["B1", "A1"], ["A1", "B1"], [], set()),  # re-selected symbols are active again
    ],
)
def test_universe_changes(selected, registered, added, retired):
    assert universe_changes(selected, registered) == (added, retired)


def test_a_symbol_the_source_does_not_have_is_never_added_and_is_logged(instance, capfd):
    result = _tick(instance, "BTCUSDT,FOOBAR")

    assert [list(r.partition_keys) for r in result.dynamic_partitions_requests] == [["BTCUSDT"]]
    logged = capfd.readouterr().err  # the sensor context's log (Dagster's console handler)
    assert "WARNING - refused: FOOBAR is not a symbol of the synthetic source" in logged


def test_a_registered_symbol_the_source_does_not_have_is_retired_not_kept_active(instance):
    instance.add_dynamic_partitions("symbols", ["BTCUSDT", "FOOBAR"])  # as an old version did

    result = _tick(instance, "BTCUSDT,FOOBAR")

    assert "1 refused, none new" in result.skip_message
    assert retired_symbols(instance) == {"FOOBAR"}
    assert active_symbols(instance) == ["BTCUSDT"]


def test_the_universe_of_the_last_complete_day_is_ranked_at_its_midnight(
    instance, tmp_path, monkeypatch
):
    # The schedule's next date; on it alone ADAUSDT trades a million times its volume.
    monkeypatch.setattr(universe_module, "last_complete_utc_day", lambda now: "2021-01-11")
    folder = write_volume_spike(tmp_path, "2021-01-11")
    market = MarketDataResource(source=SourceKind.FILES, data_dir=str(folder))

    result = _tick(instance, "top2", market)

    added = [list(r.partition_keys) for r in result.dynamic_partitions_requests]
    assert added == [STEADY_ORDER[:2]]
