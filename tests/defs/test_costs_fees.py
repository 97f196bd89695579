"""Fees from the exchange when credentials are set: the resource and the `costs` asset."""

import json
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from resources.market_data import MarketDataResource, SourceKind
from resources.training import CostModelResource
from retrain_assets.core.data.synthetic import SyntheticSource
from retrain_assets.core.errors import InvalidSymbolError, PermanentError
from retrain_assets.definitions import build_resources
from retrain_assets.defs.assets.costs import costs
from retrain_assets.defs.assets.features import features
from retrain_assets.vocabulary.figures import figure
from retrain_assets.vocabulary.keys import partition_key
from tests.fakes.fake_binance import (
    FakeBinanceState,
    fake_binance,
    fee_state,
    forbid_outside_connections,
)

KEY = "fees-key-0123456789abcdef"
SECRET = "fees-secret-fedcba9876543210"
WRONG_KEY = "wrong-key-5555666677778888"


@pytest.fixture(autouse=True)
def only_local_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fails any test that makes ccxt open a connection beyond 127.0.0.1."""
    forbid_outside_connections(monkeypatch)


@pytest.fixture
def state() -> FakeBinanceState:
    return fee_state(KEY)


@pytest.fixture
def exchange_env(state: FakeBinanceState, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Credentials and the fake's URL in the environment; yields the URL."""
    monkeypatch.delenv("RETRAIN_EXCHANGE", raising=False)
    monkeypatch.setenv("RETRAIN_EXCHANGE_API_KEY", KEY)
    monkeypatch.setenv("RETRAIN_EXCHANGE_API_SECRET", SECRET)
    with fake_binance(state) as url:
        monkeypatch.setenv("RETRAIN_EXCHANGE_API_URL", url)
        yield url


def _fee_requests(state: FakeBinanceState) -> list[str]:
    return [r for r in state.requests if r.startswith("/sapi/v1/asset/tradeFee")]


def _materialize_costs(instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    instance.add_dynamic_partitions("symbols", ["BTCUSDT"])
    return dg.materialize(
        [costs],
        partition_key=str(partition_key("2025-05-01", "BTCUSDT")),
        resources=build_resources(),
        instance=instance,
        tags={"retrain/dry_run": "true"},
    )


def _costs_output(
    result: dg.ExecuteInProcessResult,
) -> tuple[dict[str, object], dict[str, dg.MetadataValue]]:
    mat = result.asset_materializations_for_node("costs")[0]
    path = Path(mat.metadata["files"].value["costs.json"]["path"])
    return json.loads(path.read_text()), dict(mat.metadata)


def _all_event_text(instance: dg.DagsterInstance, run_id: str) -> str:
    return "\n".join(str(record) for record in instance.all_logs(run_id))


def test_costs_take_the_symbols_fees_from_the_exchange_with_credentials(
    dagster_home: Path, exchange_env: str, state: FakeBinanceState
) -> None:
    with dg.DagsterInstance.get() as instance:
        result = _materialize_costs(instance)
        document, metadata = _costs_output(result)
        events = _all_event_text(instance, result.run_id)

    assert result.success
    assert document["taker_fee_bps"]["bps"] == 10.0
    assert document["maker_fee_bps"]["bps"] == 8.0
    assert document["taker_fee_bps"]["source"] == "exchange"
    assert document["maker_fee_bps"]["source"] == "exchange"
    assert metadata["fee_source"].value == "exchange"
    assert "fee_fallback_reason" not in metadata
    assert len(_fee_requests(state)) == 1
    assert KEY not in events and SECRET not in events


def test_a_rejected_key_falls_back_to_config_and_records_why(
    dagster_home: Path,
    exchange_env: str,
    state: FakeBinanceState,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RETRAIN_EXCHANGE_API_KEY", WRONG_KEY)
    with dg.DagsterInstance.get() as instance:
        result = _materialize_costs(instance)
        document, metadata = _costs_output(result)
        events = _all_event_text(instance, result.run_id)

    assert result.success
    assert document["taker_fee_bps"] == {
        "bps": 10.0,
        "source": "config",
        "detail": "binance default fee (taker)",
    }
    assert metadata["fee_source"].value == "config"
    reason = metadata["fee_fallback_reason"].value
    assert "Invalid API-key" in reason and "AuthenticationError" in reason
    assert state.api_keys_seen == [WRONG_KEY]
    assert "Invalid API-key" in events  # the warning in the run's log names the cause
    for secret in (WRONG_KEY, SECRET, "signature="):
        assert secret not in reason
        assert secret not in events
        assert secret not in json.dumps(document)


def test_without_credentials_fees_come_from_config_and_the_exchange_is_not_asked(
    dagster_home: Path, exchange_env: str, state: FakeBinanceState, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RETRAIN_EXCHANGE_API_SECRET")
    with dg.DagsterInstance.get() as instance:
        result = _materialize_costs(instance)
        document, metadata = _costs_output(result)

    assert result.success
    assert document["taker_fee_bps"]["source"] == "config"
    assert metadata["fee_source"].value == "config"
    assert "fee_fallback_reason" not in metadata
    assert state.requests == []


def test_an_explicit_per_symbol_fee_wins_over_the_exchange(
    exchange_env: str, state: FakeBinanceState
) -> None:
    resource = CostModelResource(per_symbol_fees_bps={"BTCUSDT": [4.0, 2.0]})

    fees, reason = resource.fee_schedule_for("BTCUSDT")

    assert (fees.source, reason) == ("config", None)
    assert [item.bps for item in fees.fees_for("BTCUSDT")] == [4.0, 2.0]
    assert state.requests == []


def test_other_symbols_keep_the_config_default_next_to_an_exchange_fee(
    exchange_env: str,
) -> None:
    fees, reason = CostModelResource(taker_fee_bps=7.0).fee_schedule_for("ETHUSDT")

    assert (fees.source, reason) == ("exchange", None)
    assert fees.per_symbol["ETHUSDT"] == (10.0, 10.0)
    assert fees.default_taker_bps == 7.0


def test_an_api_url_off_the_loopback_is_refused_before_any_request(
    exchange_env: str, state: FakeBinanceState, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RETRAIN_EXCHANGE_API_URL", "http://example.com:8080")

    fees, reason = CostModelResource().fee_schedule_for("BTCUSDT")

    assert fees.source == "config"
    assert reason is not None and "127.0.0.1" in reason
    assert state.requests == []


DATE = "2025-05-01"
# The test window of DATE starts at 2025-04-01 20:00 (30 days + 4 unlabelled bars before the
# close) when no bar is missing, so its costs are estimated as of 2025-04-01 00:00.
AS_OF = pd.Timestamp("2025-04-01", tz="UTC")


def _write_candles(folder: Path, bars: pd.DataFrame) -> Path:
    """Bars as a freqtrade JSON candle file in `folder`; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    ms = (bars["timestamp"].astype("int64") // 10**6).to_numpy()
    rows = np.column_stack([ms, bars[["open", "high", "low", "close", "volume"]].to_numpy()])
    (folder / "BTC_USDT-1h.json").write_text(json.dumps(rows.tolist()))
    return folder


def _candles() -> pd.DataFrame:
    """200 days of synthetic BTC bars to five days past DATE's close."""
    bars, _ = SyntheticSource().load(
        "BTCUSDT", pd.Timestamp("2025-05-07", tz="UTC"), pd.Timedelta(days=200)
    )
    return bars


def _materialize_from_files(
    instance: dg.DagsterInstance, folder: Path, assets: list[dg.AssetsDefinition]
) -> dg.ExecuteInProcessResult:
    instance.add_dynamic_partitions("symbols", ["BTCUSDT"])
    market = MarketDataResource(source=SourceKind.FILES, data_dir=str(folder))
    return dg.materialize(
        assets,
        partition_key=str(partition_key(DATE, "BTCUSDT")),
        resources={**build_resources(), "market_data": market},
        instance=instance,
    )


def test_costs_json_is_bit_identical_when_bars_in_or_after_the_test_window_change(
    dagster_home: Path, tmp_path: Path
) -> None:
    bars = _candles()
    changed = bars.copy()
    later = changed["timestamp"] >= AS_OF
    rng = np.random.default_rng(3)
    factor = rng.uniform(0.8, 1.25, int(later.sum()))
    for col in ("open", "high", "low", "close"):
        changed.loc[later, col] *= factor
    changed.loc[later, "volume"] *= 50.0
    documents = []
    with dg.DagsterInstance.get() as instance:
        for name, frame in (("original", bars), ("changed", changed)):
            result = _materialize_from_files(
                instance, _write_candles(tmp_path / name, frame), [costs]
            )
            assert result.success
            documents.append(_costs_output(result))

    (original, metadata), (perturbed, _) = documents
    assert json.dumps(original, sort_keys=True) == json.dumps(perturbed, sort_keys=True)
    assert original["estimated_as_of"] == AS_OF.isoformat()
    assert original["window_start"] == (AS_OF - pd.Timedelta(days=30)).isoformat()
    assert metadata["estimated_as_of"].value == AS_OF.isoformat()
    assert metadata["test_start"].value == "2025-04-01T20:00:00+00:00"
    assert metadata["liquidity_tier"].value == original["liquidity_tier"]
    # Shown as text to 4 places (`vocabulary/figures.py`); costs.json keeps every digit.
    volume = figure(metadata["liquidity_quote_volume"])
    assert volume == pytest.approx(original["liquidity_quote_volume"], abs=1e-4)
    assert metadata["spread_source"].value == "estimated"


def test_with_a_gap_in_the_test_window_costs_are_still_estimated_before_it_starts(
    dagster_home: Path, tmp_path: Path
) -> None:
    bars = _candles()
    gap = (bars["timestamp"] >= "2025-04-20 02:00") & (bars["timestamp"] < "2025-04-20 05:00")
    folder = _write_candles(tmp_path / "gap", bars.loc[~gap])
    with dg.DagsterInstance.get() as instance:
        result = _materialize_from_files(instance, folder, [costs, features])
        document, _ = _costs_output(result)
        mat = result.asset_materializations_for_node("features")[0]
        split_path = Path(mat.metadata["files"].value["split_indices.json"]["path"])
        test_start = pd.Timestamp(json.loads(split_path.read_text())["test"]["start_ts"])

    assert result.success
    assert test_start < pd.Timestamp("2025-04-01 20:00", tz="UTC")  # the gap moved it back
    assert pd.Timestamp(document["estimated_as_of"]) <= test_start
    assert pd.Timestamp(document["window_end"]) <= test_start


def test_a_quoted_spread_in_the_resource_is_used_and_recorded(dagster_home: Path) -> None:
    cost_model = CostModelResource(quoted_spread_bps={"BTC/USDT": 0.05})
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("symbols", ["BTCUSDT"])
        result = dg.materialize(
            [costs],
            partition_key=str(partition_key(DATE, "BTCUSDT")),
            resources={**build_resources(), "cost_model": cost_model},
            instance=instance,
        )
        document, metadata = _costs_output(result)

    assert document["median_spread_bps"]["bps"] == 0.05
    assert document["median_spread_bps"]["source"] == "config"
    assert metadata["spread_source"].value == "quoted"


@pytest.mark.parametrize(
    ("config", "error", "message"),
    [
        ({"quoted_spread_bps": {"BTC/USDT": -1.0}}, PermanentError, "quoted_spread_bps"),
        ({"quoted_spread_bps": {"???": 1.0}}, InvalidSymbolError, "invalid symbol '\\?\\?\\?'"),
        ({"liquidity_tiers": {"major": [5e8, 0.1, 1.0]}}, PermanentError, "start at 0"),
        ({"order_notional": -5.0}, PermanentError, "order_notional"),
    ],
)
def test_a_bad_cost_configuration_is_a_clear_error(config, error, message) -> None:
    with pytest.raises(error, match=message):
        CostModelResource(**config).settings()


def test_a_bad_cost_configuration_fails_the_asset_without_retries(dagster_home: Path) -> None:
    cost_model = CostModelResource(quoted_spread_bps={"BTC/USDT": -1.0})
    with dg.DagsterInstance.get() as instance:
        instance.add_dynamic_partitions("symbols", ["BTCUSDT"])
        result = dg.materialize(
            [costs],
            partition_key=str(partition_key(DATE, "BTCUSDT")),
            resources={**build_resources(), "cost_model": cost_model},
            instance=instance,
            raise_on_error=False,
        )

    assert not result.success
    failure = result.failure_data_for_node("costs")
    assert "cost_model.quoted_spread_bps['BTC/USDT']" in str(failure.error.message)
