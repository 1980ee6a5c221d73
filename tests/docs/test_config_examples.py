"""The settings the docs show (``docs/examples/airflow.cfg``), each block read as Airflow reads its
configuration: every option is one Airflow or the provider knows, and the values do what the pages say."""

from __future__ import annotations

import pytest

from tests.docs.markers import EXAMPLES, config_block, region_names

BLOCKS = ["cost_prices", "scale_task_api_rps", "cost_metrics"]


def test_the_file_holds_the_blocks_the_pages_include() -> None:
    assert sorted(region_names(EXAMPLES / "airflow.cfg")) == sorted(BLOCKS)


@pytest.mark.parametrize("name", BLOCKS)
def test_each_option_is_one_airflow_or_the_provider_declares(name: str) -> None:
    from airflow.configuration import conf

    from airflow_provider_wan.get_provider_info import get_provider_info

    provider = get_provider_info()["config"]
    config = config_block(name)
    for section in config.sections():
        for option in config[section]:
            declared = option in provider.get(section, {}).get("options", {}) or conf.has_option(
                section, option
            )
            assert declared, f"[{section}] {option}"


def test_the_prices_price_what_the_cost_page_says(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_provider_wan.api import VideoRequest
    from airflow_provider_wan.api.pricing import estimate
    from airflow_provider_wan.cost import configured_prices

    monkeypatch.setenv("AIRFLOW__WAN__PRICES", config_block("cost_prices")["wan"]["prices"])
    request = VideoRequest(model="wan2.6-t2v", prompt="a paper boat", size="1920*1080", duration=10)

    charge = estimate(request, configured_prices(None))

    assert (charge.amount, charge.currency) == (1.5, "USD")


def test_the_task_api_share_is_what_two_triggerers_take(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.configuration import conf

    value = config_block("scale_task_api_rps")["wan"]["task_api_rps"]
    monkeypatch.setenv("AIRFLOW__WAN__TASK_API_RPS", value)
    assert conf.getfloat("wan", "task_api_rps") * 2 == 20
