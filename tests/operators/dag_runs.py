"""Run a DAG built inside a test through Airflow's own task runner (``dag.test()``), as a user would.

``dag.test()`` creates its run from the serialized DAG in the metadata database, which the DAG processor
normally writes; :func:`run_dag` writes it first, the same way the processor does, then runs every task
in-process (triggers included, inline) and returns the finished run's task instances by task id.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import DAG
from sqlalchemy import select


def run_dag(dag: DAG) -> dict[str, Any]:
    """Serialize ``dag`` into the metadata DB, run it with ``dag.test()``; task instances by (task id, map index)."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.models.taskinstance import TaskInstance
    from airflow.dag_processing.collection import update_dag_parsing_results_in_db
    from airflow.serialization.serialized_objects import LazyDeserializedDAG
    from airflow.utils.session import create_session

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
