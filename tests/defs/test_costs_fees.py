"""Fees from the exchange when credentials are set: the resource and the `costs` asset."""

import json
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from resources.training import CostModelResource
from retrain_assets.definitions import build_resources
from retrain_assets.defs.assets.costs import costs
from retrain_assets.defs.partitions import partition_key
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
