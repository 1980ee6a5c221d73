"""Prices as an Airflow deployment sets them: the shipped defaults, then ``[wan] prices`` (the whole
deployment), then the connection's ``prices`` extra (one account's contract prices), model by model.

Both hold the JSON of :data:`~airflow_provider_wan.api.pricing.PRICES_FORMAT`, e.g.
``{"wan2.6-t2v": {"currency": "USD", "720P": 0.10, "1080P": 0.15}}``; ``null`` for a model unprices it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from airflow_provider_wan.api.pricing import Charge, ModelPrices, PriceTable, cost, parse_prices, price_table
from airflow_provider_wan.exceptions import WanValidationError
from airflow_provider_wan.hooks.connection import PRICES_EXTRA, WanSettings

PRICES_OPTION = "prices"  # [wan] prices
ESTIMATE_KEY = "estimated_cost"  # the XCom key of the estimate pushed before each create
CONFIG_SOURCE = f"[wan] {PRICES_OPTION}"
EXTRA_SOURCE = f"extra.{PRICES_EXTRA}"


def configured_prices(connection_prices: Any) -> dict[str, ModelPrices | None]:
    """The price table for a connection whose ``prices`` extra is ``connection_prices``."""
    from airflow.providers.common.compat.sdk import conf

    layers: list[PriceTable] = []
    for source, value in (
        (CONFIG_SOURCE, conf.get("wan", PRICES_OPTION, fallback=None)),
        (EXTRA_SOURCE, connection_prices),
    ):
        if value not in (None, ""):
            layers.append(parse_prices(_json(source, value), source))
    return price_table(*layers)


def connection_prices(wan_conn_id: str) -> dict[str, ModelPrices | None]:
    """The price table for the ``wan`` connection ``wan_conn_id``, read from Airflow's secrets (an
    operator takes it from its hook's settings instead, read once with the key)."""
    from airflow.sdk import BaseHook

    return configured_prices(BaseHook.get_connection(wan_conn_id).extra_dejson.get(PRICES_EXTRA))


def _json(source: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError as error:
        raise WanValidationError(source, value, f"JSON ({error})") from None


def cost_after_success(
    request: Any, billed_seconds: Any, usage: Any, settings: Callable[[], WanSettings], log: Any
) -> Charge:
    """What a succeeded task cost at the connection's prices. A price setting or connection that broke
    since the create was sent gives no amount, never a failure: the video is made and billed already
    (a resumed deferred task reads the connection afresh, hence ``settings`` is read here)."""
    try:
        table = configured_prices(settings().prices)
    except WanValidationError as error:
        log.warning("No cost for the Wan task: the prices cannot be read (%s)", error)
        table = {}
    return cost(request, billed_seconds, table, usage)
