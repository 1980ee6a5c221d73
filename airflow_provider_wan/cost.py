"""Prices as an Airflow deployment sets them: the shipped defaults, then ``[wan] prices`` (the whole
deployment), then the connection's ``prices`` extra (one account's contract prices), model by model.

Both hold the JSON of :data:`~airflow_provider_wan.api.pricing.PRICES_FORMAT`, e.g.
``{"wan2.6-t2v": {"currency": "USD", "720P": 0.10, "1080P": 0.15}}``; ``null`` for a model unprices it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from airflow_provider_wan.api.errors import WanValidationError
from airflow_provider_wan.api.pricing import Charge, ModelPrices, PriceTable, cost, parse_prices, price_table

PRICES_OPTION = "prices"  # [wan] prices
PRICES_EXTRA = "prices"  # the connection extra
ESTIMATE_KEY = "estimated_cost"  # the XCom key of the estimate pushed before each create
CONFIG_SOURCE = f"[wan] {PRICES_OPTION}"
EXTRA_SOURCE = f"extra.{PRICES_EXTRA}"


def configured_prices(connection_extra: Mapping[str, Any] | None) -> dict[str, ModelPrices | None]:
    """The price table for a connection whose extras are ``connection_extra``."""
    from airflow.providers.common.compat.sdk import conf

    layers: list[PriceTable] = []
    for source, value in (
        (CONFIG_SOURCE, conf.get("wan", PRICES_OPTION, fallback=None)),
        (EXTRA_SOURCE, (connection_extra or {}).get(PRICES_EXTRA)),
    ):
        if value not in (None, ""):
            layers.append(parse_prices(_json(source, value), source))
    return price_table(*layers)


def connection_prices(wan_conn_id: str) -> dict[str, ModelPrices | None]:
    """The price table for the ``wan`` connection ``wan_conn_id`` (read from Airflow's secrets)."""
    from airflow.sdk import BaseHook

    return configured_prices(BaseHook.get_connection(wan_conn_id).extra_dejson)


def _json(source: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError as error:
        raise WanValidationError(source, value, f"JSON ({error})") from None


def cost_after_success(request: Any, billed_seconds: Any, usage: Any, wan_conn_id: str, log: Any) -> Charge:
    """What a succeeded task cost at the connection's prices. A price setting that broke since the
    create was sent gives no amount, never a failure: the video is made and billed already."""
    try:
        table = connection_prices(wan_conn_id)
    except WanValidationError as error:
        log.warning("No cost for the Wan task: the prices cannot be read (%s)", error)
        table = {}
    return cost(request, billed_seconds, table, usage)
