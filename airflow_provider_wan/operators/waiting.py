"""Waiting for a Wan task: in the triggerer (shared by the operators and the sensor) or in the worker,
within ``timeout`` and what ``execution_timeout`` leaves, cancelling what is left ``PENDING``."""

from __future__ import annotations

import time
from abc import abstractmethod
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, NoReturn

from airflow.providers.common.compat.sdk import BaseOperator

from airflow_provider_wan import metrics
from airflow_provider_wan.api import TaskStatus, WanApiError, WanTask
from airflow_provider_wan.exceptions import (
    WanExecutionTimeoutError,
    WanTaskError,
    WanTaskTimeoutError,
    call_error,
    task_error,
)

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context

    from airflow_provider_wan.hooks.wan import WanHook

# execute's share of a short execution_timeout kept back for cancelling and failing cleanly
TIMEOUT_MARGIN_SHARE = 0.25
TIMEOUT_MARGIN_MAX = 5.0
DEFERRAL_GRACE = 60.0  # Airflow's deferral timeout fires this much after the trigger's own timeout event


def task_view(task: WanTask | dict[str, Any]) -> dict[str, Any]:
    """A task as XCom shows it (the video URL without its signed query); billing's raw usage left out."""
    found = task.to_dict() if isinstance(task, WanTask) else dict(task)
    found.pop("service_usage", None)
    return found


class DefersToWanTrigger(BaseOperator):
    """Deferring to :class:`~airflow_provider_wan.triggers.wan.WanTaskTrigger` and resuming from its
    event, as every Wan operator and the sensor do: an event is refused unless its status is one of
    the trigger's (``success``, ``timeout``, ``failed``, ``error``), and each status has one handler.
    """

    wan_conn_id: str
    max_consecutive_errors: int

    @cached_property
    def hook(self) -> WanHook:
        from airflow_provider_wan.hooks.wan import WanHook

        return WanHook(self.wan_conn_id)

    def defer_to_wan_trigger(
        self, wan_task_id: str, *, wait: float, poll_interval: float, max_poll_interval: float
    ) -> NoReturn:
        """Wait ``wait`` seconds at most in the triggerer; Airflow's own deferral timeout is a backstop."""
        from airflow_provider_wan.triggers.wan import WanTaskTrigger

        trigger = WanTaskTrigger(
            wan_task_id=wan_task_id,
            deadline=time.time() + wait,
            wan_conn_id=self.wan_conn_id,
            poll_interval=poll_interval,
            max_poll_interval=max_poll_interval,
            max_consecutive_errors=self.max_consecutive_errors,
        )
        backstop = timedelta(seconds=wait + max_poll_interval + DEFERRAL_GRACE)
        if self.execution_timeout is not None:
            backstop = min(backstop, self.execution_timeout)
        self.defer(trigger=trigger, method_name="execute_complete", timeout=backstop)

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> Any:
        """Resume after the trigger fired: the task's result, or the error its end amounts to."""
        from airflow_provider_wan.triggers.wan import check_event, event_error

        event = check_event(event)
        if event["status"] == "success":
            return self.on_trigger_success(context, event)
        if event["status"] == "timeout":
            raise self.on_trigger_timeout(context, event)
        self.on_trigger_failure(context, event)
        raise event_error(event)

    def on_trigger_success(self, context: Context, event: dict[str, Any]) -> Any:
        return task_view(event["task"])

    @abstractmethod
    def on_trigger_timeout(self, context: Context, event: dict[str, Any]) -> Exception:
        """The error a ``timeout`` event ends the try with."""

    def on_trigger_failure(self, context: Context, event: dict[str, Any]) -> None:
        """What to do before a ``failed`` or ``error`` event fails the try (nothing by default)."""


class WaitsForTask(DefersToWanTrigger):
    """An operator's wait for the task it owns: deferred or in the worker, ended by ``timeout`` or by
    ``execution_timeout`` less a margin, a ``PENDING`` task cancelled on the way out."""

    model: str
    timeout: float
    poll_interval: float
    max_poll_interval: float
    _started: float

    def _wait_limit(self) -> tuple[float, str]:
        """Seconds this try may still wait, and which limit that is: ``timeout``, or what
        ``execution_timeout`` leaves less a margin to cancel and fail cleanly before Airflow's own."""
        name = self._limit_name()
        if not name.startswith("execution_timeout") or self.execution_timeout is None:
            return self.timeout, name
        budget = self.execution_timeout.total_seconds()
        spent = time.monotonic() - getattr(self, "_started", time.monotonic())
        return max(budget - self._timeout_margin() - spent, 0.0), name

    def _limit_name(self) -> str:
        """The limit that ends the wait first, as the timeout error names it."""
        if self.execution_timeout is not None:
            budget = self.execution_timeout.total_seconds()
            if budget - self._timeout_margin() < self.timeout:
                return f"execution_timeout={budget:g}s"
        return f"timeout={self.timeout:g}s"

    def _timeout_margin(self) -> float:
        budget = self.execution_timeout.total_seconds() if self.execution_timeout else 0.0
        return min(TIMEOUT_MARGIN_MAX, budget * TIMEOUT_MARGIN_SHARE)

    def _defer(self, wan_task_id: str) -> NoReturn:
        limit, _ = self._wait_limit()
        self.defer_to_wan_trigger(
            wan_task_id,
            wait=limit,
            poll_interval=self.poll_interval,
            max_poll_interval=self.max_poll_interval,
        )

    def _wait(self, context: Context, wan_task_id: str) -> WanTask:
        """Poll in the worker until the task succeeds; its failure, or the limit, raises."""
        from airflow_provider_wan.exceptions import WanWaitTimeoutError

        limit, name = self._wait_limit()
        try:
            task = self.hook.wait_for_task(
                wan_task_id,
                poll_interval=self.poll_interval,
                max_poll_interval=self.max_poll_interval,
                timeout=limit,
            )
        except WanWaitTimeoutError as error:
            cancelled = self._cancel_if_pending(wan_task_id)
            raise self._timeout_error(wan_task_id, error.task.status.value, cancelled, name) from error
        except WanApiError as error:
            if context.get("task_state_store") is None:
                self._cancel_if_pending(wan_task_id)
            raise call_error(error, "waiting for the task", wan_task_id) from error
        metrics.detected(task.end_time, self.wan_conn_id)
        if task.status is not TaskStatus.SUCCEEDED:
            metrics.task_ended(task.status.value, self.model, self.wan_conn_id)
            raise task_error(task.task_id, task.status, task.code, task.message)
        return task

    def on_trigger_timeout(self, context: Context, event: dict[str, Any]) -> Exception:
        wan_task_id = str(event["wan_task_id"])
        cancelled = self._cancel_if_pending(wan_task_id)
        status = (event.get("task") or {}).get("status")
        return self._timeout_error(wan_task_id, status, cancelled, self._limit_name())

    def on_trigger_failure(self, context: Context, event: dict[str, Any]) -> None:
        if event["status"] == "failed":
            metrics.task_ended(str(event["task"]["status"]), self.model, self.wan_conn_id)
        if event["status"] == "error" and context.get("task_state_store") is None:
            # no store to re-attach from: a retry would submit anew
            self._cancel_if_pending(str(event["wan_task_id"]))

    def _cancel_if_pending(self, wan_task_id: str) -> bool:
        """Cancel the task if the service still can (only while ``PENDING``); say whether it did.

        Best effort, on the way out of a failing or killed try: one retry at most, not the hook's five.
        """
        from airflow_provider_wan.hooks.wan import WanHook
        from airflow_provider_wan.triggers.wan import why_not_cancelled

        try:
            WanHook(self.wan_conn_id, max_retries=1).cancel_task(wan_task_id)
        except WanApiError as error:
            self.log.warning(why_not_cancelled(wan_task_id, error))
            return False
        return True

    def _timeout_error(
        self, wan_task_id: str, status: str | None, cancelled: bool, limit: str
    ) -> WanTaskError:
        """Final past ``timeout``; retryable past ``execution_timeout``, as Airflow's own task timeout is."""
        fate = (
            "it was cancelled"
            if cancelled
            else "it could not be cancelled and may still finish and be billed"
        )
        kind = WanExecutionTimeoutError if limit.startswith("execution_timeout") else WanTaskTimeoutError
        return kind(
            f"Wan task {wan_task_id} did not finish in time ({limit}, the shorter limit; "
            f"last seen {status or 'never'}); {fate}",
            wan_task_id=wan_task_id,
            status=status,
        )
