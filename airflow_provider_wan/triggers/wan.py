"""Waiting for a Wan task in the triggerer, without holding a worker slot; what the operators and the
sensor share about it: the deferral, the event's checks and the task as XCom shows it."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any, NoReturn

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_wan import metrics
from airflow_provider_wan.api import TaskStatus, WanApiError, WanError, WanTask, WanValidationError
from airflow_provider_wan.api.pacing import (
    MAX_CONSECUTIVE_ERRORS,
    MAX_POLL_INTERVAL,
    POLL_INTERVAL,
    PROGRESS_LOG_INTERVAL,
)
from airflow_provider_wan.compat import task_instance_state, triggers_have_on_kill
from airflow_provider_wan.exceptions import WanTaskError, WanTaskFinalError, task_error
from airflow_provider_wan.hooks.connection import DEFAULT_CONN_ID
from airflow_provider_wan.triggers.poller import Watch, account_poller, polling_hook

if TYPE_CHECKING:
    from airflow_provider_wan.operators.generation import WanGenerationOperator
    from airflow_provider_wan.sensors.wan import WanTaskSensor

#: The only statuses a WanTaskTrigger event carries; anything else is refused by :func:`check_event`.
EVENT_STATUSES = frozenset({"success", "failed", "timeout", "error"})
DEFERRED = "deferred"  # the task instance state of a task waiting for its trigger
DEFERRAL_GRACE = 60.0  # Airflow's deferral timeout fires this much after the trigger's own timeout event
AIRFLOW_CALLS_ON_KILL = triggers_have_on_kill()


class WanTaskTrigger(BaseTrigger):
    """
    Wait for a Wan task until it ends, the deadline passes, or the service stays unreachable.

    Every trigger of one connection in a triggerer waits through one poller
    (:mod:`airflow_provider_wan.triggers.poller`), which checks them together within the account's
    task-API rate (20 requests a second unless the connection's ``task_api_rps`` extra or
    ``[wan] task_api_rps`` says less): a sweep of the account's in-flight tasks when many are due,
    one query call per task when few are, and one query call for each task that has ended. Each
    task is checked soon after submission, then less often toward ``max_poll_interval`` (the vendor
    suggests about 15 s), never more often than ``poll_interval``. Throttling (429) only slows the
    poller down; other transient failures (5xx, network, malformed answers) are ridden out with
    backoff, and ``max_consecutive_errors`` of them in a row end the wait with an ``error`` event.
    The deadline is wall-clock epoch seconds so it survives serialisation and a move to another
    triggerer (which registers the trigger with its own poller); the trigger's own ``timeout`` event
    lets the operator cancel the task, which Airflow's deferral timeout would not.

    Its arguments name the connection, never the key. A ``PENDING`` task is cancelled only once its
    task instance is no longer deferred (a user marked it failed or succeeded, or cleared it): by
    ``on_kill`` on Airflow 3.3+, by ``cleanup`` on 3.1 and 3.2, which call no trigger ``on_kill``.
    A trigger that moved to another triggerer, or a triggerer restart, never cancels.

    :param wan_task_id: The Wan task to wait for (``wan_`` because ``task_id`` is Airflow's).
    :param deadline: Epoch seconds after which a ``timeout`` event fires.
    """

    def __init__(
        self,
        wan_task_id: str,
        deadline: float,
        wan_conn_id: str = DEFAULT_CONN_ID,
        poll_interval: float = POLL_INTERVAL,
        max_poll_interval: float = MAX_POLL_INTERVAL,
        max_consecutive_errors: int = MAX_CONSECUTIVE_ERRORS,
    ) -> None:
        super().__init__()
        if poll_interval <= 0 or max_poll_interval < poll_interval:
            allowed = f"positive seconds, at most max_poll_interval={max_poll_interval}"
            raise WanValidationError("poll_interval", poll_interval, allowed)
        if max_consecutive_errors < 1:
            raise WanValidationError("max_consecutive_errors", max_consecutive_errors, "1 or more")
        self.wan_task_id = wan_task_id
        self.deadline = float(deadline)
        self.wan_conn_id = wan_conn_id
        self.poll_interval = float(poll_interval)
        self.max_poll_interval = float(max_poll_interval)
        self.max_consecutive_errors = int(max_consecutive_errors)
        self.fired = False

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "wan_task_id": self.wan_task_id,
                "deadline": self.deadline,
                "wan_conn_id": self.wan_conn_id,
                "poll_interval": self.poll_interval,
                "max_poll_interval": self.max_poll_interval,
                "max_consecutive_errors": self.max_consecutive_errors,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        event = await self._wait()
        self.fired = True  # the operator handles the ending now; cleanup must not cancel
        yield TriggerEvent(event)

    async def _wait(self) -> dict[str, Any]:
        if time.time() >= self.deadline:
            return self._event("timeout", None, "still unseen at the deadline")
        watch = account_poller(self.wan_conn_id).watch(
            self.wan_task_id,
            poll_interval=self.poll_interval,
            max_poll_interval=self.max_poll_interval,
            max_consecutive_errors=self.max_consecutive_errors,
        )
        try:
            return await self._follow(watch)
        finally:
            watch.close()  # an event, a cancel or a move: the poller stops checking for this trigger

    async def _follow(self, watch: Watch) -> dict[str, Any]:
        """Wait for the poller's news of this task until it ends or the deadline passes. A new status is
        logged at once, an unchanged one at most every PROGRESS_LOG_INTERVAL."""
        started = logged_at = time.monotonic()
        logged: TaskStatus | None = None
        reported_errors = 0
        while True:
            remaining = self.deadline - time.time()
            if remaining <= 0:
                seen = watch.task.status.value if watch.task else "unseen"
                return self._event("timeout", watch.task, f"still {seen} at the deadline")
            await watch.next_change(min(remaining, PROGRESS_LOG_INTERVAL))
            if watch.ended is not None:
                task = watch.ended
                metrics.detected(task.end_time, self.wan_conn_id)
                if task.status is TaskStatus.SUCCEEDED:
                    return self._event("success", task, "succeeded")
                return self._event("failed", task, f"ended {task.status.value}")
            if watch.gave_up is not None:
                return self._error_event(watch.gave_up, watch.errors)
            if watch.errors > reported_errors:
                self.log.warning(
                    "Polling Wan task %s failed (%d in a row, giving up at %d), next try in %.1fs: %s",
                    self.wan_task_id,
                    watch.errors,
                    self.max_consecutive_errors,
                    watch.next_try_in,
                    watch.error,
                )
            elif watch.task is not None:
                now, status = time.monotonic(), watch.task.status
                if status is not logged or now - logged_at >= PROGRESS_LOG_INTERVAL:
                    self.log.info(
                        "Wan task %s is %s (waited %.0fs)", self.wan_task_id, status.value, now - started
                    )
                    logged, logged_at = status, now
            reported_errors = watch.errors

    def _event(self, status: str, task: WanTask | None, what: str) -> dict[str, Any]:
        return {
            "status": status,
            "wan_task_id": self.wan_task_id,
            "task": task.to_dict() if task else None,
            "message": f"Wan task {self.wan_task_id} {what}",
        }

    def _error_event(self, error: WanError, errors: int) -> dict[str, Any]:
        retryable = isinstance(error, WanApiError) and error.retryable
        return {
            "status": "error",
            "wan_task_id": self.wan_task_id,
            "task": None,
            "retryable": retryable,
            "code": getattr(error, "code", None),
            "message": f"Could not poll Wan task {self.wan_task_id} ({errors} failure(s) in a row): {error}",
        }

    async def on_kill(self) -> None:
        """Cancel the task if it is still ``PENDING``, but only when a user ended the task instance.

        Airflow 3.3 calls this when a user marks the deferred task failed or succeeded or clears it,
        and also (apache/airflow#73454) on a stalled triggerer's stale copy once the trigger has moved
        to another triggerer, which is still waiting for the same Wan task. The two look alike here;
        the task instance's state tells them apart: still ``deferred`` means the trigger moved (or a
        new try re-attached), so nothing is cancelled. When the state cannot be read, nothing is
        cancelled either: a wrong cancel fails a live task for good.
        """
        await self._cancel_if_user_ended(quiet=False)

    async def cleanup(self) -> None:
        """Before Airflow 3.3 (no trigger ``on_kill``), do what ``on_kill`` does, here.

        ``cleanup`` runs on every exit: an event fired, a triggerer stopped, a trigger moved or a user
        acted. Only the last leaves the task instance no longer deferred, so only then is the task
        cancelled; after an event (which the operator handles) it never is. From 3.3 on, ``on_kill``
        does it and ``cleanup`` never cancels.
        """
        if not AIRFLOW_CALLS_ON_KILL and not self.fired:
            await self._cancel_if_user_ended(quiet=True)

    async def _cancel_if_user_ended(self, *, quiet: bool) -> None:
        try:
            state = await task_instance_state(self.task_instance)
        except LookupError as unknown:
            log = self.log.debug if quiet else self.log.warning
            log("Not cancelling Wan task %s: %s", self.wan_task_id, unknown)
            return
        if state == DEFERRED:
            self.log.info(
                "Not cancelling Wan task %s: its task instance is still deferred (the trigger fired, "
                "moved to another triggerer, or the triggerer stopped)",
                self.wan_task_id,
            )
            return
        self.log.info(
            "Task instance is %s (a user ended it): cancelling Wan task %s", state, self.wan_task_id
        )
        try:
            await polling_hook(self.wan_conn_id).cancel_task(self.wan_task_id)
        except WanError as error:
            self.log.warning(why_not_cancelled(self.wan_task_id, error))
        else:
            self.log.info("Cancelled Wan task %s", self.wan_task_id)


def why_not_cancelled(wan_task_id: str, error: WanError) -> str:
    """Why a best-effort cancel did nothing (the service cancels only ``PENDING`` tasks)."""
    if isinstance(error, WanApiError) and error.not_pending:
        return f"Wan task {wan_task_id} is no longer PENDING, so it cannot be cancelled; it runs to its end"
    return f"Could not cancel Wan task {wan_task_id}: {error}"


def check_event(event: Any) -> dict[str, Any]:
    """The event a deferred task resumed with, refused unless its status is one this trigger emits."""
    if not isinstance(event, dict) or event.get("status") not in EVENT_STATUSES:
        raise WanValidationError(
            "event", event, f"a WanTaskTrigger event, status in {sorted(EVENT_STATUSES)}"
        )
    return event


def event_error(event: dict[str, Any]) -> WanTaskError:
    """The error a ``failed`` or ``error`` event amounts to, final unless a retry may help."""
    wan_task_id = str(event["wan_task_id"])
    if event["status"] == "failed":
        task = event["task"]
        return task_error(wan_task_id, task["status"], task.get("code"), task.get("message"))
    kind = WanTaskError if event.get("retryable") else WanTaskFinalError
    return kind(str(event["message"]), wan_task_id=wan_task_id, code=event.get("code"))


def defer_to_trigger(
    task: WanGenerationOperator | WanTaskSensor,
    wan_task_id: str,
    wait: float,
    poll_interval: float,
    max_poll_interval: float,
) -> NoReturn:
    """Defer ``task`` to a trigger waiting ``wait`` seconds at most for the Wan task. Airflow's own deferral
    timeout is only a backstop: the trigger's ``timeout`` event lets the task be cancelled."""
    deadline = time.time() + wait
    trigger = WanTaskTrigger(
        wan_task_id, deadline, task.wan_conn_id, poll_interval, max_poll_interval, task.max_consecutive_errors
    )
    backstop = timedelta(seconds=wait + max_poll_interval + DEFERRAL_GRACE)
    if task.execution_timeout is not None:
        backstop = min(backstop, task.execution_timeout)
    task.defer(trigger=trigger, method_name="execute_complete", timeout=backstop)


def task_view(task: WanTask | dict[str, Any]) -> dict[str, Any]:
    """A task as XCom shows it (the video URL without its signed query); billing's raw usage left out."""
    found = task.to_dict() if isinstance(task, WanTask) else dict(task)
    found.pop("service_usage", None)
    return found
