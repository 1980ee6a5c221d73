"""An operator's wait for the Wan task it owns: deferred to the triggerer or polled in the worker, within
``timeout`` and what ``execution_timeout`` leaves, a task still ``PENDING`` cancelled on the way out.

Loaded when a task runs, not when its DAG is parsed."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, NoReturn

from airflow_provider_wan import metrics
from airflow_provider_wan.api import TaskStatus, WanApiError, WanTask
from airflow_provider_wan.exceptions import (
    WanExecutionTimeoutError,
    WanTaskError,
    WanTaskTimeoutError,
    WanWaitTimeoutError,
    call_error,
    task_error,
)
from airflow_provider_wan.hooks.wan import WanHook
from airflow_provider_wan.triggers.wan import defer_to_trigger, event_error, why_not_cancelled

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_wan.operators.generation import WanGenerationOperator
    from airflow_provider_wan.transfers.landing import Log

# execute's share of a short execution_timeout kept back for cancelling and failing cleanly
TIMEOUT_MARGIN_SHARE = 0.25
TIMEOUT_MARGIN_MAX = 5.0


class TaskWait:
    """One try's wait, by the operator's ``timeout``, poll settings and ``execution_timeout``, whose
    clock starts with the try (``execute``); a resumed try only reads which limit ended the wait."""

    def __init__(self, operator: WanGenerationOperator, context: Context) -> None:
        self.operator = operator
        # a task state store keeps the task for the retry to re-attach: a failing wait need not cancel it
        self.keeps_state = context.get("task_state_store") is not None
        self.started = time.monotonic()
        limit = operator.execution_timeout
        budget = limit.total_seconds() if limit is not None else None
        self.margin = min(TIMEOUT_MARGIN_MAX, (budget or 0.0) * TIMEOUT_MARGIN_SHARE)
        # execution_timeout's seconds where it ends the wait before timeout does, and the limit's name
        first = budget is not None and budget - self.margin < operator.timeout
        self.budget = budget if first else None
        self.limit = f"execution_timeout={budget:g}s" if first else f"timeout={operator.timeout:g}s"

    def seconds_left(self) -> float:
        """``timeout``, or what ``execution_timeout`` leaves less a margin to cancel and fail cleanly
        before Airflow's own timeout."""
        if self.budget is None:
            return self.operator.timeout
        return max(self.budget - self.margin - (time.monotonic() - self.started), 0.0)

    def defer(self, wan_task_id: str) -> NoReturn:
        """Defer to the trigger for the rest of the wait."""
        operator = self.operator
        defer_to_trigger(
            operator, wan_task_id, self.seconds_left(), operator.poll_interval, operator.max_poll_interval
        )

    def in_worker(self, wan_task_id: str) -> WanTask:
        """Poll in the worker until the task succeeds; its failure, or the limit, raises. A polling
        failure cancels a ``PENDING`` task unless the task state store keeps it for the retry."""
        operator = self.operator
        try:
            task = operator.hook.wait_for_task(
                wan_task_id,
                poll_interval=operator.poll_interval,
                max_poll_interval=operator.max_poll_interval,
                timeout=self.seconds_left(),
            )
        except WanWaitTimeoutError as error:
            raise self.timed_out(wan_task_id, error.task.status.value) from error
        except WanApiError as error:
            if not self.keeps_state:
                cancel_if_pending(operator.wan_conn_id, wan_task_id, operator.log)
            raise call_error(error, "waiting for the task", wan_task_id) from error
        metrics.detected(task.end_time, operator.wan_conn_id)
        if task.status is not TaskStatus.SUCCEEDED:
            metrics.task_ended(task.status.value, operator.model, operator.wan_conn_id)
            raise task_error(task.task_id, task.status, task.code, task.message)
        return task

    def after_event(self, event: dict[str, Any]) -> WanTaskError:
        """The error a trigger's ``timeout``, ``failed`` or ``error`` event ends the try with."""
        wan_task_id = str(event["wan_task_id"])
        if event["status"] == "timeout":
            return self.timed_out(wan_task_id, (event.get("task") or {}).get("status"))
        if event["status"] == "failed":
            metrics.task_ended(str(event["task"]["status"]), self.operator.model, self.operator.wan_conn_id)
        elif not self.keeps_state:  # no store to re-attach from: a retry would submit anew
            cancel_if_pending(self.operator.wan_conn_id, wan_task_id, self.operator.log)
        return event_error(event)

    def timed_out(self, wan_task_id: str, status: str | None) -> WanTaskError:
        """A ``PENDING`` task cancelled, the error: final past ``timeout``; retryable past
        ``execution_timeout``, as Airflow's own task timeout is (the retry re-attaches)."""
        if cancel_if_pending(self.operator.wan_conn_id, wan_task_id, self.operator.log):
            fate = "it was cancelled"
        else:
            fate = "it could not be cancelled and may still finish and be billed"
        kind = WanTaskTimeoutError if self.budget is None else WanExecutionTimeoutError
        return kind(
            f"Wan task {wan_task_id} did not finish in time ({self.limit}, the shorter limit; "
            f"last seen {status or 'never'}); {fate}",
            wan_task_id=wan_task_id,
            status=status,
        )


def cancel_if_pending(wan_conn_id: str, wan_task_id: str, log: Log) -> bool:
    """Cancel the task if the service still can (only while ``PENDING``); say whether it did.

    Best effort, on the way out of a failing or killed try: one retry at most, not the hook's five.
    """
    try:
        WanHook(wan_conn_id, max_retries=1).cancel_task(wan_task_id)
    except WanApiError as error:
        log.warning(why_not_cancelled(wan_task_id, error))
        return False
    return True
