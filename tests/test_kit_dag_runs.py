"""The kit's ``wan_airflow.run`` matches a real run: a manual trigger's (no logical date) unless told
otherwise, and a failed mapped row named by its label."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from airflow.sdk import DAG, task

from airflow_provider_wan.testing.dag_runs import WanAirflow, WanDagRunFailed


def templated_dates_dag(dag_id: str) -> DAG:
    with DAG(dag_id, schedule=None, start_date=dt.datetime(2026, 1, 1)) as dag:

        @task
        def dates(ds: Any = None, logical_date: Any = None, run_id: Any = None, dag_run: Any = None) -> dict:
            return {
                "ds": ds,
                "logical_date": str(logical_date),
                "run_id": run_id,
                "run_type": dag_run.run_type,
            }

        dates()
    return dag


def test_a_run_is_a_manual_trigger_without_a_logical_date(wan_airflow: WanAirflow) -> None:
    found = wan_airflow.run(templated_dates_dag("kit_manual_run")).xcom("dates")

    assert found["ds"] is None  # as in a run triggered from the UI, the API or `airflow dags trigger`
    assert found["logical_date"] == "None"
    assert found["run_id"].startswith("manual__")
    assert found["run_type"] == "manual"


def test_a_logical_date_is_given_when_asked_for(wan_airflow: WanAirflow) -> None:
    when = dt.datetime(2026, 3, 14, 9, 30, tzinfo=dt.timezone.utc)

    found = wan_airflow.run(templated_dates_dag("kit_dated_run"), logical_date=when).xcom("dates")

    assert found["ds"] == "2026-03-14"
    assert found["logical_date"].startswith("2026-03-14 09:30:00")


def test_a_failed_mapped_row_is_named_by_its_label(wan_airflow: WanAirflow) -> None:
    with DAG("kit_failed_row", schedule=None, start_date=dt.datetime(2026, 1, 1)) as dag:

        @task(map_index_template="{{ sku }}")
        def make(sku: str) -> str:
            from airflow.sdk import get_current_context

            get_current_context()["sku"] = sku  # type: ignore[typeddict-unknown-key]
            if sku == "BAG-203":
                raise ValueError(f"no photo for {sku}")
            return sku

        make.expand(sku=["MUG-101", "BAG-203", "LAMP-7"])

    with pytest.raises(WanDagRunFailed) as failed:
        wan_airflow.run(dag)

    message = str(failed.value)
    assert "task make[1] (BAG-203) failed: ValueError: no photo for BAG-203" in message
    assert "make[0]=success, make[1]=failed, make[2]=success" in message
