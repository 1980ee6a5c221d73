"""A DAG run's metrics, received by a StatsD server on loopback, against the emulator's own counts."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from airflow.sdk import DAG

from airflow_provider_wan import metrics
from airflow_provider_wan.emulator import WanEmulator
from airflow_provider_wan.operators.wan import WanTextToVideoOperator
from tests.cost.statsd import StatsdListener
from tests.operators.dag_runs import AIRFLOW_3_3_PLUS, run_dag, xcom_of
from tests.operators.test_one_billed_task import fail_first_try_after_success

MODEL = "wan2.5-t2v-preview"
FIELDS = {
    "model": MODEL,
    "size": "832*480",
    "duration": 5,
    "audio": False,
    "poll_interval": 0.05,
    "max_poll_interval": 0.2,
}
PROMPTS = ["a red boat", "a green boat", "a blue boat"]


def answers(emulator: WanEmulator, endpoint: str, status: int) -> int:
    return sum(
        1 for entry in emulator.request_log if entry["endpoint"] == endpoint and entry["status"] == status
    )


def test_a_runs_metrics_match_the_emulators_counts(
    statsd: StatsdListener,
    wan_emulator: WanEmulator,
    wan_connection: str,
    slow_connection: tuple[WanEmulator, str],
    dag_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AIRFLOW__WAN__PRICES", json.dumps({MODEL: {"currency": "USD", "480P": 0.02}}))
    slow, slow_conn_id = slow_connection
    with DAG(dag_id, schedule=None, start_date=dt.datetime(2025, 1, 1)) as dag:
        WanTextToVideoOperator.partial(task_id="deferred", deferrable=True, **FIELDS).expand(prompt=PROMPTS)
        WanTextToVideoOperator(
            task_id="refused", prompt="a [[blocked]] parade", **FIELDS
        )  # FAILED, in the worker
        WanTextToVideoOperator(
            task_id="late", prompt="a slow boat", wan_conn_id=slow_conn_id, timeout=1, **FIELDS
        )

    tis = run_dag(dag)

    assert tis[("refused", -1)].state == "failed"
    assert tis[("late", -1)].state == "failed"  # cancelled while PENDING at its timeout
    results = [xcom_of(tis[("deferred", index)]) for index in range(3)]
    statuses = wan_emulator.state()["statuses"]
    mine = {"model": MODEL, "conn_id": "wan_default"}
    assert statsd.total(metrics.TASK_CREATED, **mine) == wan_emulator.create_count() == 4
    assert statsd.total(metrics.TASK_SUCCEEDED, **mine) == statuses["SUCCEEDED"] == 3
    assert statsd.total(metrics.TASK_FAILED, **mine) == statuses["FAILED"] == 1
    assert (
        statsd.total(metrics.TASK_CANCELLED, conn_id=slow_conn_id)
        == slow.state()["statuses"]["CANCELED"]
        == 1
    )
    assert statsd.total(metrics.TASK_CREATED, conn_id=slow_conn_id) == slow.create_count() == 1
    made = sum(wan_emulator.task(result["task_id"])["output"]["duration"] for result in results)
    assert statsd.total(metrics.BILLED_SECONDS, **mine) == made == 15
    assert statsd.total(metrics.COST, currency="USD", **mine) == pytest.approx(0.02 * made)
    assert statsd.total(metrics.ESTIMATED_COST, **mine) == pytest.approx(0.02 * 5 * 4)
    polls = statsd.total(metrics.POLLS, conn_id="wan_default")
    assert polls == answers(wan_emulator, "query", 200) > 0
    assert statsd.total(metrics.THROTTLED) == answers(wan_emulator, "query", 429) + answers(
        slow, "query", 429
    )
    delays = [s for s in statsd.samples(metrics.DETECTION_DELAY) if s.tags == {"conn_id": "wan_default"}]
    assert len(delays) == 4  # three seen by the trigger, one by the worker's wait
    assert all(0 <= s.value < 30_000 for s in delays)
    assert not any(key in line for line in statsd.lines for key in (wan_emulator.api_key, slow.api_key))


@pytest.mark.parametrize("deferrable", [True, False])
def test_a_retry_that_returns_the_same_video_does_not_count_it_twice(
    statsd: StatsdListener,
    wan_emulator: WanEmulator,
    wan_connection: str,
    dag_id: str,
    deferrable: bool,
) -> None:
    with DAG(dag_id, schedule=None, start_date=dt.datetime(2025, 1, 1)) as dag:
        WanTextToVideoOperator(
            task_id="generate",
            prompt="a video worth keeping",
            deferrable=deferrable,
            retries=1,
            retry_delay=dt.timedelta(0),
            post_execute=fail_first_try_after_success,
            **FIELDS,
        )

    ti = run_dag(dag)[("generate", -1)]

    assert (ti.state, ti.try_number) == ("success", 2)
    assert wan_emulator.create_count() == 1
    mine = {"model": MODEL, "conn_id": "wan_default"}
    # Airflow 3.3+ keeps the "reported" mark in the task state store; 3.1 has no store to keep it in
    counted = 1 if AIRFLOW_3_3_PLUS else 2
    assert statsd.total(metrics.TASK_SUCCEEDED, **mine) == counted
    assert statsd.total(metrics.BILLED_SECONDS, **mine) == counted * 5
