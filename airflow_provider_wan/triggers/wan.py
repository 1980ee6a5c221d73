"""Waiting for a Wan task in the triggerer, without holding a worker slot."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_wan.api import TaskStatus, WanApiError, WanError, WanTask, backoff_delay, poll_delay
from airflow_provider_wan.exceptions import WanTaskError, WanTaskFinalError, task_error

if TYPE_CHECKING:
    from airflow_provider_wan.hooks.wan import WanAsyncHook

#: The only statuses a WanTaskTrigger event carries; anything else is refused by :func:`check_event`.
EVENT_STATUSES = frozenset({"success", "failed", "timeout", "error"})
PROGRESS_LOG_INTERVAL = 60.0  # seconds between "still waiting" lines while the status does not change
POLL_SPREAD = 0.2  # each pause is stretched by up to 20% at random, so triggers do not poll in lockstep
HOOK_REUSE_SECONDS = 300.0
NOT_PENDING_CODE = "UnsupportedOperation"  # the service's answer to cancelling a task that is not PENDING
DEFAULT_POLL_INTERVAL = 2.0
DEFAULT_MAX_POLL_INTERVAL = 15.0
DEFAULT_MAX_CONSECUTIVE_ERRORS = 5
DEFERRED = "deferred"  # the task instance state of a task waiting for its trigger


_polling_hooks: WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, tuple[float, WanAsyncHook]]] = (
    WeakKeyDictionary()
)


class WanTaskTrigger(BaseTrigger):
    """
    Poll a Wan task until it ends, the deadline passes, or the service stays unreachable.

    Polls soon after submission, then less often toward ``max_poll_interval`` (the vendor suggests
    about 15 s), never more often than ``poll_interval``; pauses are spread at random (the first
    within ``poll_interval``, each later one up to 20% longer) so that triggers started together do
    not poll in bursts, which would stall the triggerer and meet the account's query rate limit.
    Transient failures (429, 5xx, network, malformed answers) are ridden out with backoff;
    ``max_consecutive_errors`` of them in a row end the wait with an ``error`` event. The deadline is
    wall-clock epoch seconds so it survives serialisation and a move to another triggerer; the
    trigger's own ``timeout`` event lets the operator cancel the task, which Airflow's deferral
    timeout would not.

    Its arguments name the connection, never the key. ``on_kill`` (Airflow 3.3+) cancels the task if
    it is still ``PENDING`` and the task instance is no longer deferred (a user marked it failed or
    succeeded, or cleared it); a trigger that moved to another triggerer never cancels. ``cleanup``
    never cancels, so a triggerer restart leaves the task running. Airflow 3.1 and 3.2 call no
    ``on_kill`` on triggers: there a user's kill of a deferred task leaves the Wan task to run (and be
    billed).

    :param wan_task_id: The Wan task to wait for (``wan_`` because ``task_id`` is Airflow's).
    :param deadline: Epoch seconds after which a ``timeout`` event fires.
    """

    def __init__(
        self,
        wan_task_id: str,
        deadline: float,
        wan_conn_id: str = "wan_default",
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        max_poll_interval: float = DEFAULT_MAX_POLL_INTERVAL,
        max_consecutive_errors: int = DEFAULT_MAX_CONSECUTIVE_ERRORS,
    ) -> None:
        super().__init__()
        if poll_interval <= 0 or max_poll_interval < poll_interval:
            raise ValueError(
                f"poll_interval={poll_interval} must be positive and at most "
                f"max_poll_interval={max_poll_interval}"
            )
        if max_consecutive_errors < 1:
            raise ValueError(f"max_consecutive_errors={max_consecutive_errors} must be 1 or more")
        self.wan_task_id = wan_task_id
        self.deadline = float(deadline)
        self.wan_conn_id = wan_conn_id
        self.poll_interval = float(poll_interval)
        self.max_poll_interval = float(max_poll_interval)
        self.max_consecutive_errors = int(max_consecutive_errors)

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
        yield TriggerEvent(await self._wait())

    async def _wait(self) -> dict[str, Any]:
        progress = _Progress(self, time.monotonic())
        polls = errors = 0
        last: WanTask | None = None
        await self._sleep(random.uniform(0, self.poll_interval))  # triggers started together spread out
        while True:
            if time.time() >= self.deadline:
                return self._event("timeout", last, f"still {_status(last)} at the deadline")
            try:
                task = await polling_hook(self.wan_conn_id).get_task(self.wan_task_id)
            except WanApiError as error:
                errors += 1
                if not error.retryable or errors >= self.max_consecutive_errors:
                    return self._error_event(error, errors)
                delay = backoff_delay(
                    errors - 1,
                    base=self.poll_interval,
                    cap=self.max_poll_interval,
                    retry_after=error.retry_after,
                )
                self.log.warning(
                    "Polling Wan task %s failed (%d in a row, giving up at %d), next try in %.1fs: %s",
                    self.wan_task_id,
                    errors,
                    self.max_consecutive_errors,
                    delay,
                    error,
                )
                await self._sleep(delay)
                continue
            except WanError as error:  # e.g. a connection that cannot be used: nothing to wait for
                return self._error_event(error, errors + 1)
            errors = 0
            last = task
            if task.status is TaskStatus.SUCCEEDED:
                return self._event("success", task, "succeeded")
            if task.status.is_terminal:
                return self._event("failed", task, f"ended {task.status.value}")
            progress.note(task.status)
            delay = poll_delay(polls, minimum=self.poll_interval, maximum=self.max_poll_interval)
            await self._sleep(delay * random.uniform(1.0, 1.0 + POLL_SPREAD))
            polls += 1

    async def _sleep(self, delay: float) -> None:
        """Sleep ``delay``, but wake at the deadline so the timeout event is not late."""
        await asyncio.sleep(max(0.0, min(delay, self.deadline - time.time())))

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
        try:
            state = await task_instance_state(self.task_instance)
        except LookupError as unknown:
            self.log.warning("Not cancelling Wan task %s: %s", self.wan_task_id, unknown)
            return
        if state == DEFERRED:
            self.log.info(
                "Not cancelling Wan task %s: its task instance is still deferred (the trigger moved to "
                "another triggerer, which keeps waiting for it)",
                self.wan_task_id,
            )
            return
        self.log.info(
            "Task instance is %s (a user ended it): cancelling Wan task %s", state, self.wan_task_id
        )
        try:
            await polling_hook(self.wan_conn_id).cancel_task(self.wan_task_id)
        except WanError as error:
            self.log.warning(cancel_refused(self.wan_task_id, error))
        else:
            self.log.info("Cancelled Wan task %s", self.wan_task_id)


async def task_instance_state(ti: Any) -> str | None:
    """The state Airflow holds for the trigger's task instance, asked from the triggerer (async-safe).

    Raises :class:`LookupError` when it cannot be told (no task instance, no supervisor to ask, or no
    such task instance in the answer); ``None`` is a real state (cleared, not yet scheduled).
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


def polling_hook(wan_conn_id: str) -> WanAsyncHook:
    """The hook all triggers on this event loop poll ``wan_conn_id`` with.

    One connection read per loop (renewed every HOOK_REUSE_SECONDS, so a rotated key is picked up), not
    one per trigger; ``max_retries=0`` because the trigger paces its own retries.
    """
    from airflow_provider_wan.hooks.wan import WanAsyncHook

    hooks = _polling_hooks.setdefault(asyncio.get_running_loop(), {})
    made, hook = hooks.get(wan_conn_id, (0.0, None))
    if hook is None or time.monotonic() - made > HOOK_REUSE_SECONDS:
        hook = WanAsyncHook(wan_conn_id, max_retries=0)
        hooks[wan_conn_id] = (time.monotonic(), hook)
    return hook


class _Progress:
    """Logs status changes at once and an unchanged status at most every PROGRESS_LOG_INTERVAL."""

    def __init__(self, trigger: WanTaskTrigger, started: float) -> None:
        self.trigger = trigger
        self.started = started
        self.status: TaskStatus | None = None
        self.logged_at = started

    def note(self, status: TaskStatus) -> None:
        now = time.monotonic()
        if status is self.status and now - self.logged_at < PROGRESS_LOG_INTERVAL:
            return
        self.trigger.log.info(
            "Wan task %s is %s (waited %.0fs)", self.trigger.wan_task_id, status.value, now - self.started
        )
        self.status = status
        self.logged_at = now


def cancel_refused(wan_task_id: str, error: WanError) -> str:
    """Why a best-effort cancel did nothing (the service cancels only ``PENDING`` tasks)."""
    if getattr(error, "code", None) == NOT_PENDING_CODE:
        return f"Wan task {wan_task_id} is no longer PENDING, so it cannot be cancelled; it runs to its end"
    return f"Could not cancel Wan task {wan_task_id}: {error}"


def _status(task: WanTask | None) -> str:
    return task.status.value if task else "unseen"


def check_event(event: Any) -> dict[str, Any]:
    """The event a deferred task resumed with, refused unless its status is one this trigger emits."""
    if not isinstance(event, dict) or event.get("status") not in EVENT_STATUSES:
        raise ValueError(
            f"Unexpected event from WanTaskTrigger (expected status in {sorted(EVENT_STATUSES)})"
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
