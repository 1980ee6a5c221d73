"""Run a DAG built inside a test through Airflow's own task runner (``dag.test()``), as a user would.

A thin layer over the kit users get (:class:`airflow_provider_wan.testing.dag_runs.WanAirflow`): these
tests inspect failed runs too, so they take the task instances of whatever run ended.
"""

from __future__ import annotations

from typing import Any

from airflow import __version__ as airflow_version
from airflow.sdk import DAG
from packaging.version import Version

from airflow_provider_wan.testing import isolate_airflow_home
from airflow_provider_wan.testing.dag_runs import WanAirflow

AIRFLOW_3_3_PLUS = Version(airflow_version).release >= (3, 3)


def run_dag(dag: DAG) -> dict[tuple[str, int], Any]:
    """Run ``dag`` with ``dag.test()``; its task instances by (task id, map index), failed or not."""
    return WanAirflow(isolate_airflow_home()).run_unchecked(dag).task_instances


def xcom_of(ti: Any) -> Any:
    """The return value a finished task instance pushed (mapped ones by their own map index)."""
    return ti.xcom_pull(task_ids=ti.task_id, map_indexes=ti.map_index)
