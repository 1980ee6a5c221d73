"""WanTaskSensor in poke, reschedule and deferrable modes, run with the kit's ``wan_airflow`` (``dag.test()``)
against the emulator; a failed run raises ``WanDagRunFailed`` with the sensor's own exception."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from airflow.sdk import DAG

from airflow_provider_wan.emulator import WanEmulator
from airflow_provider_wan.operators.wan import WanKeyframesToVideoOperator, WanTextToVideoOperator
from airflow_provider_wan.sensors.wan import WanTaskSensor
from airflow_provider_wan.testing.dag_runs import WanAirflow, WanDagRunFailed
from tests.operators.dag_runs import AIRFLOW_3_3_PLUS
from tests.triggers.helpers import SMALL, create_task, finished_once_polled, log_text, queries_of

MODES = [{"mode": "poke"}, {"mode": "reschedule"}, {"deferrable": True}]
MODE_IDS = ["poke", "reschedule", "deferrable"]
INLINE_TRIGGER = "[DAG TEST] running trigger in line"


def sensor_dag(dag_id: str, **sensor: Any) -> DAG:
    with DAG(dag_id, schedule=None, start_date=dt.datetime(2025, 1, 1)) as dag:
        WanTaskSensor(task_id="wait", poke_interval=0.1, **sensor)
    return dag


@pytest.mark.parametrize("mode", MODES, ids=MODE_IDS)
def test_waits_and_succeeds_with_the_task_result(
    wan_airflow: WanAirflow,
    slow_connection: tuple[WanEmulator, str],
    dag_id: str,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    mode: dict[str, Any],
) -> None:
    emulator, conn_id = slow_connection
    wan_task_id = create_task(conn_id, "a paper boat")
    dag = sensor_dag(dag_id, wan_task_id=wan_task_id, wan_conn_id=conn_id, **mode)
    # Not done at the first look, so the sensor has to wait -- except in reschedule mode on Airflow 3.1.0:
    # its in-process runner (dag.test) hands a rescheduled sensor its first reschedule date as a string
    # (model_construct, never validated), so the second poke crashes inside Airflow. Real deployments
    # validate it; there the run finds the task done at the first poke.
    looks_before_done = 0 if mode == {"mode": "reschedule"} and not AIRFLOW_3_3_PLUS else 2

    with finished_once_polled(emulator, wan_task_id, polls=looks_before_done):
        run = wan_airflow.run(dag)

    result = run.xcom("wait")
    assert result["task_id"] == wan_task_id
    assert result["status"] == "SUCCEEDED"
    assert result["video_url"].startswith(emulator.root_url)
    assert len(queries_of(emulator, wan_task_id)) >= looks_before_done + 1
    assert (INLINE_TRIGGER in log_text(caplog, capfd)) is bool(mode.get("deferrable"))


@pytest.mark.parametrize("mode", MODES, ids=MODE_IDS)
def test_refused_task_fails_the_sensor_at_once_with_the_service_code(
    wan_airflow: WanAirflow, wan_emulator: WanEmulator, wan_connection: str, dag_id: str, mode: dict[str, Any]
) -> None:
    wan_task_id = create_task(wan_connection, "a [[blocked]] banner")
    dag = sensor_dag(dag_id, wan_task_id=wan_task_id, retries=2, retry_delay=dt.timedelta(0), **mode)

    refused = f"Wan task {wan_task_id} ended FAILED: DataInspectionFailed"
    with pytest.raises(WanDagRunFailed, match=refused) as failed:
        wan_airflow.run(dag)

    assert failed.value.run.ti("wait").try_number == 1


def test_malformed_task_id_fails_at_once(
    wan_airflow: WanAirflow, wan_emulator: WanEmulator, wan_connection: str, dag_id: str
) -> None:
    dag = sensor_dag(dag_id, wan_task_id="../not a task id", retries=2, retry_delay=dt.timedelta(0))

    with pytest.raises(WanDagRunFailed, match=r"task wait failed: .*Invalid task_id=") as failed:
        wan_airflow.run(dag)

    assert failed.value.run.ti("wait").try_number == 1
    assert wan_emulator.request_log == []


def test_unknown_task_fails_clearly(
    wan_airflow: WanAirflow, wan_emulator: WanEmulator, wan_connection: str, dag_id: str
) -> None:
    with pytest.raises(WanDagRunFailed, match="ended UNKNOWN: the service does not know it") as failed:
        wan_airflow.run(sensor_dag(dag_id, wan_task_id="0b5a4ab9-0000-4000-8000-00000000dead"))

    assert failed.value.task_id == "wait"


def test_waits_for_a_task_an_upstream_operator_submitted(
    wan_airflow: WanAirflow,
    slow_connection: tuple[WanEmulator, str],
    dag_id: str,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    emulator, conn_id = slow_connection
    with DAG(dag_id, schedule=None, start_date=dt.datetime(2025, 1, 1)) as dag:
        submit = WanTextToVideoOperator(
            task_id="submit", prompt="a comet", wan_conn_id=conn_id, wait_for_completion=False, **SMALL
        )
        wait = WanTaskSensor(
            task_id="wait",
            wan_task_id="{{ ti.xcom_pull(task_ids='submit') }}",
            wan_conn_id=conn_id,
            deferrable=True,
            poke_interval=0.1,
        )
        submit >> wait

    with finished_once_polled(emulator, "", polls=2):  # "": any task, there is only the one
        run = wan_airflow.run(dag)

    assert run.xcom("wait")["task_id"] == run.xcom("submit")
    assert INLINE_TRIGGER in log_text(caplog, capfd)
    assert emulator.create_count() == 1


def test_deferred_sensor_times_out_without_cancelling_a_task_it_does_not_own(
    wan_airflow: WanAirflow, slow_connection: tuple[WanEmulator, str], dag_id: str
) -> None:
    emulator, conn_id = slow_connection
    wan_task_id = create_task(conn_id, "someone else's video")
    dag = sensor_dag(dag_id, wan_task_id=wan_task_id, wan_conn_id=conn_id, deferrable=True, timeout=0.5)

    # PENDING, or "unseen" when the deadline came before the trigger's first poll (a loaded machine)
    with pytest.raises(
        WanDagRunFailed, match=rf"AirflowSensorTimeout: Wan task {wan_task_id} still \w+ at the deadline"
    ):
        wan_airflow.run(dag)

    assert emulator.task(wan_task_id)["status"] == "PENDING"
    assert not [r for r in emulator.request_log if r["endpoint"] == "cancel"]


@pytest.mark.parametrize("deferrable", [True, False], ids=["deferrable", "poke"])
def test_waits_for_a_task_of_any_family(
    wan_airflow: WanAirflow, wan_emulator: WanEmulator, wan_connection: str, dag_id: str, deferrable: bool
) -> None:
    # Same task API for every family: a keyframes task, submitted on its own endpoint, is waited for
    # like any other.
    with DAG(dag_id, schedule=None, start_date=dt.datetime(2025, 1, 1)) as dag:
        submit = WanKeyframesToVideoOperator(
            task_id="submit",
            model="wan2.2-kf2v-flash",
            first_frame_url="https://pictures.example/first.png",
            last_frame_url="https://pictures.example/last.png",
            resolution="480P",
            wait_for_completion=False,
        )
        wait = WanTaskSensor(
            task_id="wait",
            wan_task_id="{{ ti.xcom_pull(task_ids='submit') }}",
            deferrable=deferrable,
            poke_interval=0.1,
        )
        submit >> wait

    run = wan_airflow.run(dag)

    result = run.xcom("wait")
    assert result["task_id"] == run.xcom("submit")
    assert result["status"] == "SUCCEEDED"
    assert result["usage"]["duration"] == 5
    assert "service_usage" not in result  # the sensor shows the task as the operators do
    assert wan_emulator.task(result["task_id"])["family"] == "wan2.2-kf2v-flash"
