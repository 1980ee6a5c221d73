"""Run a DAG built inside a test through Airflow's own task runner (``dag.test()``), as a user would.

A thin layer over the kit users get (:class:`airflow_provider_wan.testing.dag_runs.WanAirflow`): these
tests inspect failed runs too, so they take the task instances of whatever run ended.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from airflow import __version__ as airflow_version
from airflow.sdk import DAG, BaseOperator
from packaging.version import Version

from airflow_provider_wan.emulator import WanEmulator
from airflow_provider_wan.testing import isolate_airflow_home
from airflow_provider_wan.testing.dag_runs import WanAirflow

AIRFLOW_3_3_PLUS = Version(airflow_version).release >= (3, 3)
FAST = {"poll_interval": 0.05, "max_poll_interval": 0.2}


def single_task_dag(dag_id: str, operator: type[BaseOperator], **arguments: Any) -> DAG:
    """A DAG of one task ``generate`` (polling fast); ``params`` go to the DAG."""
    params = arguments.pop("params", {})
    with DAG(dag_id, schedule=None, start_date=dt.datetime(2025, 1, 1), params=params) as dag:
        operator(task_id="generate", **{**FAST, **arguments})
    return dag


def killed_between_create_and_state_write(emulator: WanEmulator) -> dict[str, Any]:
    """Operator arguments for a first try the worker loses between the create and the state write.

    Wan accepts the create and holds the answer back 8 s; execution_timeout kills the try after 3 s
    (time enough, on a loaded machine, for the try to reach the create first).
    Between the tries the fault ends and the emulator's tasks finish (its clock jumps ahead), so the
    retry must find the task (from the recorded intent on 3.3+, from the DAG run's start before).
    """
    emulator.set_faults("create", accept_then_delay=8.0)
    return {
        "deferrable": False,
        "execution_timeout": dt.timedelta(seconds=3),
        "retries": 1,
        "retry_delay": dt.timedelta(0),
        "on_retry_callback": lambda context: finish_all(emulator),
    }


def finish_all(emulator: WanEmulator) -> None:
    """Between the tries: the faults end and the emulator's tasks finish (its clock jumps ahead)."""
    emulator.clear_faults()
    emulator.advance_clock(10)


def run_dag(dag: DAG) -> dict[tuple[str, int], Any]:
    """Run ``dag`` with ``dag.test()``; its task instances by (task id, map index), failed or not."""
    return WanAirflow(isolate_airflow_home()).run_unchecked(dag).task_instances


def xcom_of(ti: Any) -> Any:
    """The return value a finished task instance pushed (mapped ones by their own map index); a task
    that ended without one fails the test with its state, not with a ``None`` further on."""
    value = ti.xcom_pull(task_ids=ti.task_id, map_indexes=ti.map_index)
    assert value is not None or ti.state == "success", f"{ti.task_id} ended {ti.state}, pushing nothing"
    return value


def check_re_attached_after_the_worker_died(
    dag: DAG, emulator: WanEmulator, logs: Callable[[], str]
) -> dict[str, Any]:
    """Run ``dag`` (its task built with :func:`killed_between_create_and_state_write`) and check that
    the retry found the task the lost try created, by reconciling, and never sent a second create.
    Returns the task's result."""
    ti = run_dag(dag)[("generate", -1)]

    logged = logs()
    result: dict[str, Any] = xcom_of(ti)
    assert (ti.state, ti.try_number) == ("success", 2)
    assert emulator.create_count() == 1
    assert [r["endpoint"] for r in emulator.request_log].count("create") == 1
    assert "found by its model and prompt" in logged
    if AIRFLOW_3_3_PLUS:
        assert "An earlier try sent a create but recorded no task id" in logged
    else:
        assert "A retry without a task state store" in logged
    assert result["status"] == "SUCCEEDED"
    return result
