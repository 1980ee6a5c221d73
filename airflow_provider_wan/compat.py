"""Every private part of Airflow this provider uses, each with what lets it go.

Everything else uses Airflow's public interfaces (``airflow.sdk``, ``airflow.providers.common.compat``).
Imports happen inside the functions: this module is imported at DAG parse time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    Row = tuple[str, int]


def triggers_have_on_kill() -> bool:
    """Whether Airflow calls a trigger's ``on_kill`` when a user ends its task instance (3.3+,
    apache/airflow#65590). Goes when Airflow 3.1 and 3.2 are no longer supported."""
    from airflow.triggers.base import BaseTrigger

    return hasattr(BaseTrigger, "on_kill")


async def task_instance_state(ti: Any) -> str | None:
    """The state Airflow holds for a trigger's task instance, asked from the triggerer (async-safe).

    Private: the triggerer's supervisor channel (``SUPERVISOR_COMMS``) and its ``GetTaskStates`` message.
    A trigger needs it because Airflow 3.3 also calls ``on_kill`` on a stalled triggerer's stale copy of a
    trigger that moved to another triggerer (apache/airflow#73454): only the task instance's state tells
    that apart from a user ending it. Goes when that issue is fixed in every supported Airflow.

    Raises :class:`LookupError` when it cannot be told (no task instance, no supervisor to ask, or no such
    task instance in the answer); ``None`` is a real state (cleared, not yet scheduled).
    """
    if ti is None or not getattr(ti, "run_id", None):
        raise LookupError("the trigger does not know its task instance")
    from airflow.sdk.execution_time import task_runner
    from airflow.sdk.execution_time.comms import GetTaskStates, TaskStatesResult

    comms = getattr(task_runner, "SUPERVISOR_COMMS", None)
    if comms is None or not hasattr(comms, "asend"):
        raise LookupError("no Airflow supervisor to ask for the task instance's state")
    map_index = getattr(ti, "map_index", -1)
    map_index = -1 if map_index is None else int(map_index)
    try:
        answer = await comms.asend(
            GetTaskStates(dag_id=ti.dag_id, task_ids=[ti.task_id], run_ids=[ti.run_id], map_index=map_index)
        )
    except Exception as error:  # the supervisor channel failed: the state is not known
        raise LookupError(f"asking Airflow for the task instance's state failed: {error!r}") from error
    if not isinstance(answer, TaskStatesResult):
        raise LookupError(f"Airflow answered {type(answer).__name__} when asked for the task's state")
    key = ti.task_id if map_index < 0 else f"{ti.task_id}_{map_index}"
    states = answer.task_states.get(ti.run_id) or {}
    if key not in states:
        raise LookupError(f"Airflow does not know task instance {key} of run {ti.run_id}")
    state = states[key]
    return None if state is None else str(getattr(state, "value", state))


def serialize_dag(dag: Any) -> None:
    """Write ``dag`` to the metadata database as the DAG processor does (the test kit's runs start from
    there). Private: the DAG processor's own functions. Goes when ``dag.test()`` serializes the DAG it
    runs itself."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from airflow.dag_processing.collection import update_dag_parsing_results_in_db
    from airflow.serialization.serialized_objects import LazyDeserializedDAG
    from airflow.utils.session import create_session

    with create_session() as session:
        DagBundlesManager().sync_bundles_to_db(session=session)
    with create_session() as session:
        update_dag_parsing_results_in_db(
            "dags-folder", None, [LazyDeserializedDAG.from_dag(dag)], {}, None, set(), session=session
        )


def task_instances(dag_id: str, run_id: str) -> dict[Row, Any]:
    """A run's task instances by (task id, map index), detached from their session (the test kit reads
    what ``dag.test()`` left). Private: the metadata database's model. Goes when ``dag.test()`` returns
    its task instances."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        found = session.scalars(
            select(TaskInstance).where(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run_id)
        )
        tis = {(ti.task_id, ti.map_index): ti for ti in found}
        session.expunge_all()
    return tis


def listener_manager() -> Any:
    """Airflow's listener manager, where the test kit hears of each failed task's exception. Airflow 3.1
    has one for the Task SDK and the core together. Goes when Airflow 3.1 is no longer supported."""
    try:
        from airflow.sdk.listener import get_listener_manager
    except ImportError:  # Airflow 3.1
        from airflow.listeners.listener import get_listener_manager  # type: ignore[assignment]
    return get_listener_manager()


def run_records(
    session: Session, dag_id: str, run_id: str, keys: tuple[str, ...]
) -> tuple[dict[Row, str | None], dict[tuple[str, int, str], Any], dict[Row, Any]] | None:
    """A DAG run's task instance states, its XComs under ``keys`` and its rendered template fields, read
    by the API server for the video pages (None: no such run). Private: the metadata database's models;
    a plugin has no public read API. Goes when Airflow gives plugins one."""
    from airflow.models.dagrun import DagRun
    from airflow.models.renderedtifields import RenderedTaskInstanceFields as Rendered
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from sqlalchemy import select

    if session.scalar(select(DagRun.id).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id)) is None:
        return None
    in_run = {"dag_id": dag_id, "run_id": run_id}
    states = {
        (row.task_id, row.map_index): row.state
        for row in session.execute(
            select(TaskInstance.task_id, TaskInstance.map_index, TaskInstance.state).filter_by(**in_run)
        )
    }
    records = {
        (row.task_id, row.map_index, row.key): XComModel.deserialize_value(row)
        for row in session.execute(
            select(XComModel.task_id, XComModel.map_index, XComModel.key, XComModel.value)
            .filter_by(**in_run)
            .where(XComModel.key.in_(keys))
        )
    }
    rendered = {
        (row.task_id, row.map_index): row.rendered_fields
        for row in session.execute(
            select(Rendered.task_id, Rendered.map_index, Rendered.rendered_fields).filter_by(**in_run)
        )
    }
    return states, records, rendered
