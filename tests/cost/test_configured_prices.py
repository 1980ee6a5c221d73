"""Prices as a deployment sets them: defaults, then ``[wan] prices``, then the connection's extra."""

from __future__ import annotations

import json
import logging

import pytest

from airflow_provider_wan.api import ImageToVideoRequest, WanValidationError
from airflow_provider_wan.cost import connection_prices, cost_after_success
from airflow_provider_wan.hooks.wan import WanHook

log = logging.getLogger(__name__)


def _connection(monkeypatch: pytest.MonkeyPatch, extra: dict[str, object]) -> str:
    connection = {"conn_type": "wan", "password": "sk-test", "extra": extra}
    monkeypatch.setenv("AIRFLOW_CONN_WAN_PRICED", json.dumps(connection))
    return "wan_priced"


def test_defaults_when_nothing_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW__WAN__PRICES", raising=False)
    table = connection_prices(_connection(monkeypatch, {}))
    assert table["wan2.1-i2v-turbo"].rates == {"*": 0.036}  # type: ignore[union-attr]
    assert "wan2.6-t2v" not in table


def test_config_then_connection_extra_model_by_model(monkeypatch: pytest.MonkeyPatch) -> None:
    deployment = {"wan2.6-t2v": {"currency": "USD", "720P": 0.1}, "wan2.1-i2v-plus": None}
    monkeypatch.setenv("AIRFLOW__WAN__PRICES", json.dumps(deployment))
    account = {"wan2.6-t2v": {"currency": "CNY", "720P": 0.7}}
    table = connection_prices(_connection(monkeypatch, {"prices": json.dumps(account)}))  # a JSON string
    assert (table["wan2.6-t2v"].currency, table["wan2.6-t2v"].source) == ("CNY", "extra.prices")  # type: ignore[union-attr]
    assert table["wan2.1-i2v-plus"] is None  # the deployment unpriced a default
    assert table["wan2.1-i2v-turbo"] is not None
    as_object = connection_prices(_connection(monkeypatch, {"prices": account}))  # or an object
    assert as_object["wan2.6-t2v"].rates == {"720P": 0.7}  # type: ignore[union-attr]


def test_a_bad_setting_names_where_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__WAN__PRICES", "{not json")
    with pytest.raises(WanValidationError) as raised:
        connection_prices(_connection(monkeypatch, {}))
    assert raised.value.parameter == "[wan] prices"
    monkeypatch.delenv("AIRFLOW__WAN__PRICES")
    with pytest.raises(WanValidationError) as raised:
        connection_prices(_connection(monkeypatch, {"prices": {"wan2.6-t2v": {"720P": 1}}}))
    assert raised.value.parameter == "extra.prices['wan2.6-t2v'].currency"


@pytest.mark.parametrize(
    "broken",
    [{"extra": {"prices": "{not json"}}, {"password": ""}],
    ids=["prices", "key"],
)
def test_a_connection_broken_after_the_create_gives_no_cost_not_a_failure(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, broken: dict[str, object]
) -> None:
    monkeypatch.delenv("AIRFLOW__WAN__PRICES", raising=False)
    conn_id = _connection(monkeypatch, {})
    monkeypatch.setenv(
        "AIRFLOW_CONN_WAN_PRICED", json.dumps({"conn_type": "wan", "password": "sk-test", **broken})
    )
    request = ImageToVideoRequest(model="wan2.1-i2v-turbo", img_url="https://pictures.example/a.png")

    charge = cost_after_success(request, 5, {"video_duration": 5}, lambda: WanHook(conn_id).settings, log)

    assert (charge.billed_seconds, charge.amount) == (5, None)
    assert "No cost for the Wan task" in caplog.text
