"""Run a DAG built inside a test through Airflow's own task runner (``dag.test()``), as a user would.

``dag.test()`` creates its run from the serialized DAG in the metadata database, which the DAG processor
normally writes; :func:`run_dag` writes it first, the same way the processor does, then runs every task
in-process (triggers included, inline) and returns the finished run's task instances by task id.
"""

from __future__ import annotations

import sys
from typing import Any

from airflow import __version__ as airflow_version
from airflow.sdk import DAG
from packaging.version import Version
from sqlalchemy import select

AIRFLOW_3_3_PLUS = Version(airflow_version).release >= (3, 3)


class _CurrentStdout:
    """A text stream that writes to ``sys.stdout`` as it is at each write (pytest swaps it per test)."""

    encoding = "utf-8"

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


def run_dag(dag: DAG) -> dict[str, Any]:
    """Write ``dag`` to the metadata DB, run it with ``dag.test()``; its task instances by (id, map index)."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.collection import update_dag_parsing_results_in_db
    from airflow.models.taskinstance import TaskInstance
    from airflow.sdk.log import configure_logging
    from airflow.serialization.serialized_objects import LazyDeserializedDAG
    from airflow.utils.session import create_session

    # Task logs to whatever stdout is current: an earlier test may have left Airflow's handlers on a
    # stream pytest has since replaced, and these tests read the logs.
    configure_logging(output=_CurrentStdout(), colored_console_log=False)  # type: ignore[arg-type]
    with create_session() as session:
        DagBundlesManager().sync_bundles_to_db(session=session)
    with create_session() as session:
        update_dag_parsing_results_in_db(
            "dags-folder", None, [LazyDeserializedDAG.from_dag(dag)], {}, None, set(), session=session
        )
    run_id = dag.test().run_id
    with create_session() as session:
        found = session.scalars(
            select(TaskInstance).where(TaskInstance.dag_id == dag.dag_id, TaskInstance.run_id == run_id)
        )
        tis = {(ti.task_id, ti.map_index): ti for ti in found}
        session.expunge_all()
    return tis


def xcom_of(ti: Any) -> Any:
    """The return value a finished task instance pushed (mapped ones by their own map index)."""
    return ti.xcom_pull(task_ids=ti.task_id, map_indexes=ti.map_index)
