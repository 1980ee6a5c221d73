"""Wait for a Wan task submitted elsewhere (another DAG, a script, ``wait_for_completion=False``)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import (
    AirflowSensorTimeout,
    BaseSensorOperator,
    PokeReturnValue,
    conf,
)

from airflow_provider_wan.api import TaskStatus, WanApiError, WanValidationError
from airflow_provider_wan.api.pacing import MAX_CONSECUTIVE_ERRORS
from airflow_provider_wan.exceptions import WanTaskFinalError, call_error, task_error
from airflow_provider_wan.hooks.connection import DEFAULT_CONN_ID

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_wan.hooks.wan import WanHook


class WanTaskSensor(BaseSensorOperator):
    """
    Succeed when a Wan task has ``SUCCEEDED``, returning its result (``task_id``, ``video_url``...).

    Works in ``poke`` and ``reschedule`` modes and, with ``deferrable=True``, waits in the triggerer
    with :class:`~airflow_provider_wan.triggers.wan.WanTaskTrigger`, polling every ``poke_interval``.
    A task that ends ``FAILED``, ``CANCELED`` or ``UNKNOWN`` fails the sensor with the service's code
    and message (retryable only for a passing ``FAILED`` code). A polling error the hook could not
    ride out is retried at the next poke. The sensor never cancels the task: it does not own it.
    Each poke waits for the account's task-API rate of this process (``task_api_rps``, shared with every
    hook and trigger in it), so many sensors of one worker stay within the account's 20 a second.

    :param wan_task_id: The Wan task id (``wan_`` because ``task_id`` is the Airflow task's).
    :param wan_conn_id: A ``wan`` connection of the same account and region as the task.
    :param deferrable: Wait in the triggerer (default: ``[operators] default_deferrable``).
    :param max_consecutive_errors: Polling failures in a row the trigger rides out (deferrable mode).
    """

    template_fields: Sequence[str] = ("wan_task_id", "wan_conn_id")
    ui_color = "#ffb27a"

    def __init__(
        self,
        *,
        wan_task_id: str,
        wan_conn_id: str = DEFAULT_CONN_ID,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        max_consecutive_errors: int = MAX_CONSECUTIVE_ERRORS,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.wan_task_id = wan_task_id
        self.wan_conn_id = wan_conn_id
        self.deferrable = deferrable
        self.max_consecutive_errors = max_consecutive_errors

    @cached_property
    def hook(self) -> WanHook:
        from airflow_provider_wan.hooks.wan import WanHook

        return WanHook(self.wan_conn_id)

    def poke(self, context: Context) -> PokeReturnValue | bool:
        from airflow_provider_wan.triggers.wan import task_view

        try:
            task = self.hook.get_task(self.wan_task_id)
        except WanValidationError as error:  # a bad task id or connection: no later poke does better
            raise WanTaskFinalError(str(error)) from error
        except WanApiError as error:
            if not error.retryable:
                raise call_error(error, "checking the task", self.wan_task_id) from error
            self.log.warning(
                "Could not check Wan task %s, trying again next poke: %s", self.wan_task_id, error
            )
            return False
        if task.status is TaskStatus.SUCCEEDED:
            return PokeReturnValue(is_done=True, xcom_value=task_view(task))
        if task.status.is_terminal:
            raise task_error(task.task_id, task.status, task.code, task.message)
        self.log.info("Wan task %s is %s", task.task_id, task.status.value)
        return False

    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        found = self.poke(context)
        if not isinstance(found, PokeReturnValue):
            from airflow_provider_wan.triggers.wan import defer_to_trigger

            defer_to_trigger(self, self.wan_task_id, self.timeout, self.poke_interval, self.poke_interval)
        return found.xcom_value

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> Any:
        """Resume after the trigger fired: the task as XCom shows it, or the error its end amounts to."""
        from airflow_provider_wan.triggers.wan import check_event, event_error, task_view

        event = check_event(event)
        if event["status"] == "success":
            return task_view(event["task"])
        if event["status"] == "timeout":
            raise AirflowSensorTimeout(f"{event['message']} (sensor timeout {self.timeout:.0f}s)")
        raise event_error(event)
