"""The README's "Cost" section, run as printed: its configuration parses and prices, and its per-run
budget DAG refuses an over-budget batch with no create, against the emulator."""

from __future__ import annotations

import configparser
import re
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_wan.cost import connection_prices
from airflow_provider_wan.emulator import WanEmulator
from airflow_provider_wan.testing import isolate_airflow_home
from airflow_provider_wan.testing.dag_runs import WanAirflow

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCK = re.compile(r"```(?P<lang>\w+)\n(?P<code>.*?)```", re.DOTALL)


def blocks() -> dict[str, str]:
    """The section's code blocks by the file each names in its first line (``# airflow.cfg``)."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index("\n## Cost\n") :]
    section = section[: section.index("\n## ", 1)]
    found = {}
    for block in BLOCK.finditer(section):
        first = block["code"].splitlines()[0]
        assert first.startswith("# "), first
        found[first[2:].strip()] = block["code"]
    return found


@pytest.fixture
def readme_config(monkeypatch: pytest.MonkeyPatch) -> configparser.ConfigParser:
    """The README's airflow.cfg lines, set for this test as Airflow reads them (its ``[wan] prices``)."""
    config = configparser.ConfigParser()
    config.read_string(blocks()["airflow.cfg"])
    monkeypatch.setenv("AIRFLOW__WAN__PRICES", config["wan"]["prices"])
    return config


def test_the_section_has_a_config_and_a_dag() -> None:
    assert set(blocks()) == {"airflow.cfg", "dags/video_batch.py"}


def test_the_config_prices_and_names_real_metrics_options(
    readme_config: configparser.ConfigParser, wan_connection: str
) -> None:
    from airflow.configuration import conf

    table = connection_prices(wan_connection)
    assert table["wan2.6-t2v"].rates == {"720P": 0.10, "1080P": 0.15}  # type: ignore[union-attr]
    assert table["wan2.6-i2v-flash"].rate("720P", False) == 0.05  # type: ignore[union-attr]
    for option in readme_config["metrics"]:
        assert conf.has_option("metrics", option), option


def test_the_budget_dag_runs_within_budget_and_refuses_over_it(
    readme_config: configparser.ConfigParser, wan_emulator: WanEmulator, wan_connection: str
) -> None:
    namespace: dict[str, Any] = {}
    exec(compile(blocks()["dags/video_batch.py"], "dags/video_batch.py", "exec"), namespace)
    dag = namespace["dag"]
    airflow = WanAirflow(isolate_airflow_home())

    within = airflow.run(dag)
    assert within.xcom("budget")["amount"] == 1.5
    assert wan_emulator.create_count() == 3

    over = airflow.run_unchecked(dag, conf={"count": 5})
    assert over.ti("budget").state == "failed"
    assert wan_emulator.create_count(include_refused=True) == 3  # none more
