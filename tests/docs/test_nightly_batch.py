"""The nightly batch how-to and the budget operator's page (``docs/examples/nightly_batch.py`` with its
table ``products.csv``, priced by ``docs/examples/airflow.cfg``'s ``[wan] prices``), run against the
emulator and moto S3: within budget every row lands at its key; over budget nothing is created; the
next night bills nothing twice."""

from __future__ import annotations

from pathlib import Path

import pytest

from airflow_provider_wan.emulator import WanEmulator
from airflow_provider_wan.testing.dag_runs import WanAirflow
from airflow_provider_wan.testing.s3 import WanS3
from tests.docs.markers import EXAMPLES, config_block, load_dag

pytestmark = pytest.mark.timeout(300)

TABLE = EXAMPLES / "products.csv"
SKUS = ["MUG-101", "BAG-203", "LAMP-7"]


@pytest.fixture
def priced(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cost page's ``[wan] prices``, set as Airflow reads them."""
    monkeypatch.setenv("AIRFLOW__WAN__PRICES", config_block("cost_prices")["wan"]["prices"])


@pytest.fixture
def ready(
    priced: None, wan_airflow: WanAirflow, wan_connection: str, wan_emulator: WanEmulator, wan_s3: WanS3
) -> None:
    """The bucket and the ``wan_api`` pool the batch runs in, the emulator quick."""
    from airflow.models.pool import Pool

    wan_s3.create_bucket("my-videos")
    Pool.create_or_update_pool(name="wan_api", slots=5, description="Wan account", include_deferred=False)
    wan_emulator.set_timing(task_seconds=0.5, queue_seconds=0.1)


def test_within_budget_every_row_lands_and_the_next_night_bills_nothing(
    ready: None, wan_airflow: WanAirflow, wan_emulator: WanEmulator, wan_s3: WanS3
) -> None:
    dag = load_dag(EXAMPLES / "nightly_batch.py")
    assert dag.params["table"] == str(TABLE)

    run = wan_airflow.run(dag)

    assert run.xcom("budget") == {
        "tasks": 3,
        "billed_seconds": 15.0,
        "amount": 1.5,  # 3 videos x 5 s x USD 0.10 (720P)
        "currency": "USD",
        "unpriced": 0,
    }
    assert [result["key"] for result in run.xcom("video")] == [f"products/{sku}.mp4" for sku in SKUS]
    assert wan_emulator.create_count() == 3
    for sku in SKUS:
        assert wan_s3.get(f"s3://my-videos/products/{sku}.mp4")[4:8] == b"ftyp"

    again = wan_airflow.run(dag)
    assert [result["landed"] for result in again.xcom("video")] == ["skipped"] * 3
    assert wan_emulator.create_count(include_refused=True) == 3


def test_over_budget_no_video_is_created(
    ready: None, wan_airflow: WanAirflow, wan_emulator: WanEmulator, tmp_path: Path
) -> None:
    table = tmp_path / "products.csv"
    rows = [f"SKU-{n},A product turns on a stand, take {n}" for n in range(5)]
    table.write_text("sku,prompt\n" + "\n".join(rows) + "\n", encoding="utf-8")

    run = wan_airflow.run_unchecked(load_dag(EXAMPLES / "nightly_batch.py"), conf={"table": str(table)})

    assert run.ti("budget").state == "failed"  # 5 x USD 0.5 = USD 2.5, over max_cost=2.0
    assert wan_emulator.create_count(include_refused=True) == 0
