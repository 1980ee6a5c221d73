"""One poller per event loop and connection: every ``WanTaskTrigger`` in a triggerer waits through it.

Polling each task on its own costs one request per task and interval, so a few hundred triggers on one
account pass the task API's 20 requests a second whatever their backoff. The poller checks all its
connection's waited-for tasks together: when more are due than a sweep costs, it lists the account's
``PENDING`` and ``RUNNING`` tasks (a few pages, see :mod:`airflow_provider_wan.api.sweep`) and reads once
each waited-for task in neither list (ended: video URL and usage, or the failure code); when only a few
are due, it reads those. Every call waits for the account's task-API rate (the hooks'
:class:`~airflow_provider_wan.api.rate.TokenBucket`). A 429 pauses that and retries the same checks
later: it never counts toward a trigger's ``max_consecutive_errors``.

The sweep is an optimisation, never a single point of failure: a list call that fails makes the poller
read the due tasks one by one instead, and one that is refused, answered in a shape we cannot read, or
failing several times in a row switches the sweep off for some minutes (logged once, with the reason;
see :class:`~airflow_provider_wan.api.sweep.SweepHealth`). A list failure never counts toward a
trigger's ``max_consecutive_errors``; only failures to read that trigger's own task do, and end its
wait as before.

The poller holds no state a trigger needs across a move: a trigger that moves to another triggerer
registers with that process's poller. It starts with its first trigger and stops with its last; its
task runs in a fresh logging context, so its own lines are not filed under one trigger's task instance.
Status changes and failures are handed to each trigger, which logs them under its own task instance.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import random
import time
from collections.abc import Awaitable, Iterable
from typing import TYPE_CHECKING, TypeVar
from weakref import WeakKeyDictionary

from airflow_provider_wan.api import (
    TaskSummary,
    WanApiError,
    WanError,
    WanTask,
    backoff_delay,
    poll_delay,
)
from airflow_provider_wan.api.sweep import (
    IN_FLIGHT,
    SweepHealth,
    list_failure,
    prefer_sweep,
    sweep_cost,
    sweep_filters,
    to_read,
)

if TYPE_CHECKING:
    from airflow_provider_wan.hooks.wan import WanAsyncHook

log = logging.getLogger(__name__)
T = TypeVar("T")

POLL_SPREAD = 0.2  # each pause is stretched by up to 20% at random, so checks do not line up
READS_AT_ONCE = 8  # query calls in flight at once; the rate limiter paces them anyway
# Due tasks read one by one per check, longest due first: about a second of the vendor's rate, so that
# without a sweep (thousands due) every task waits its turn once, not behind a batch and then in it.
READS_PER_CHECK = 20
HOOK_REUSE_SECONDS = 300.0


class Watch:
    """One trigger's wait, as the poller keeps it: when its task is due, what was seen, how it ended."""

    def __init__(
        self,
        poller: AccountPoller,
        wan_task_id: str,
        *,
        poll_interval: float,
        max_poll_interval: float,
        max_consecutive_errors: int,
    ) -> None:
        self.poller = poller
        self.wan_task_id = wan_task_id
        self.poll_interval = poll_interval
        self.max_poll_interval = max_poll_interval
        self.max_consecutive_errors = max_consecutive_errors
        self.due = time.monotonic() + random.uniform(0, poll_interval)  # soon, spread out
        self.polls = 0
        self.errors = 0  # failed checks in a row (throttling never counts)
        self.error: WanError | None = None
        self.next_try_in = 0.0
        self.task: WanTask | None = None  # the latest status seen
        self.ended: WanTask | None = None  # a terminal task: the wait is over
        self.gave_up: WanError | None = None  # a final error, or too many in a row: the wait is over
        self._changed = asyncio.Event()

    @property
    def over(self) -> bool:
        return self.ended is not None or self.gave_up is not None

    async def next_change(self, timeout: float) -> None:
        """Return on the next status change, failure or ending, or after ``timeout`` seconds."""
        try:
            await asyncio.wait_for(self._changed.wait(), max(0.0, timeout))
        except asyncio.TimeoutError:
            return
        self._changed.clear()

    def close(self) -> None:
        """The trigger is done (an event, a cancel, a move): stop checking for it."""
        self.poller.unwatch(self)

    # -- the poller's side --------------------------------------------------------------------------

    def saw(self, task: WanTask, now: float) -> None:
        changed = self.task is None or self.task.status is not task.status or self.errors > 0
        self.task, self.errors, self.error = task, 0, None
        if task.status.is_terminal:
            self.ended = task
        else:
            pause = poll_delay(self.polls, minimum=self.poll_interval, maximum=self.max_poll_interval)
            self.due = now + pause * random.uniform(1.0, 1.0 + POLL_SPREAD)
            self.polls += 1
        if changed or self.over:
            self._changed.set()

    def failed(self, error: WanError, now: float) -> None:
        self.errors += 1
        self.error = error
        retryable = isinstance(error, WanApiError) and error.retryable
        if not retryable or self.errors >= self.max_consecutive_errors:
            self.gave_up = error
        else:
            retry_after = error.retry_after if isinstance(error, WanApiError) else None
            self.next_try_in = backoff_delay(
                self.errors - 1, base=self.poll_interval, cap=self.max_poll_interval, retry_after=retry_after
            )
            self.due = now + self.next_try_in
        self._changed.set()


class AccountPoller:
    """Checks the waited-for tasks of one connection on one event loop, within the account's rate."""

    def __init__(self, wan_conn_id: str, loop: asyncio.AbstractEventLoop) -> None:
        self.wan_conn_id = wan_conn_id
        self.loop = loop
        self.watches: set[Watch] = set()
        self.sweep_pages: int | None = None  # list calls the last sweep took
        self.sweep_health = SweepHealth()
        self.requests = 0  # calls sent (for the benchmark and tests)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def watch(
        self, wan_task_id: str, *, poll_interval: float, max_poll_interval: float, max_consecutive_errors: int
    ) -> Watch:
        found = Watch(
            self,
            wan_task_id,
            poll_interval=poll_interval,
            max_poll_interval=max_poll_interval,
            max_consecutive_errors=max_consecutive_errors,
        )
        self.watches.add(found)
        self._wake.set()
        if not self.running:
            # a fresh context: the poller's own log lines belong to no trigger's task instance
            self._task = contextvars.Context().run(self.loop.create_task, self._run())
        return found

    def unwatch(self, watch: Watch) -> None:
        self.watches.discard(watch)
        if not self.watches:
            self.stop()

    def stop(self) -> None:
        """No trigger left: end the poller's task and forget it (the next trigger starts a new one)."""
        if _pollers.get(self.loop, {}).get(self.wan_conn_id) is self:
            del _pollers[self.loop][self.wan_conn_id]
        task, self._task = self._task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _run(self) -> None:
        while self.watches:
            now = time.monotonic()
            wake = min(watch.due for watch in self.watches)
            if wake > now:
                self._wake.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), wake - now)
                continue
            try:
                await self._check(now)
            except Exception as error:  # never let one bad cycle strand every trigger of the connection
                log.exception("Checking Wan tasks of connection %s failed", self.wan_conn_id)
                due = [watch for watch in self.watches if watch.due <= now]
                self._failed(due, WanApiError(f"checking the task failed: {error!r}", code="PollerError"))
            self.watches -= {watch for watch in self.watches if watch.over}  # their triggers fire now

    async def _check(self, now: float) -> None:
        """Sweep when enough checks are due soon (a sweep checks every task), else read the due ones;
        read them too when the list call failed, or while the sweep is switched off.

        "Soon": within the random spread of a check's pause, so that checks a sweep lined up are not
        read one by one as each comes due.
        """
        due = [watch for watch in self.watches if watch.due <= now]
        soon = [watch for watch in self.watches if watch.due <= now + POLL_SPREAD * watch.max_poll_interval]
        hook = polling_hook(self.wan_conn_id)
        try:
            await hook.get_settings()
        except WanError as error:  # a connection that cannot be used: nothing to wait for
            self._failed(list(self.watches), error)
            return
        cost = sweep_cost(len(self.watches), self.sweep_pages)
        swept = (
            self.sweep_health.usable(now)
            and prefer_sweep(len(soon), cost)
            and await self._sweep(hook, list(self.watches))
        )
        if not swept:
            await self._read(hook, sorted(due, key=lambda watch: watch.due)[:READS_PER_CHECK])

    async def _sweep(self, hook: WanAsyncHook, watching: list[Watch]) -> bool:
        """List the account's in-flight tasks, then read the waited-for ones missing from the lists.

        False when the list call failed (throttling aside): the due tasks are read one by one instead.
        """
        listed: dict[str, TaskSummary] = {}
        pages = 0
        try:
            for status in IN_FLIGHT:
                page_no, last_page = 1, 1
                while page_no <= last_page:
                    page = await self._send(hook.list_tasks(**sweep_filters(status, page_no)))
                    pages += 1
                    listed.update((row.task_id, row) for row in page.tasks if row.status is status)
                    page_no, last_page = page_no + 1, page.total_page
        except WanApiError as error:
            if error.throttled:
                return True  # the same checks again, once the rate limiter's pause is over
            self._list_failed(error, watching)
            return False
        if self.sweep_health.worked():
            log.info("Wan's list call works again for connection %s: sweeping again", self.wan_conn_id)
        self.sweep_pages = pages
        now = time.monotonic()
        unlisted = set(to_read((watch.wan_task_id for watch in watching), listed))
        for watch in watching:
            row = listed.get(watch.wan_task_id)
            if row is not None:
                watch.saw(_from_row(row), now)
        await self._read(hook, [watch for watch in watching if watch.wan_task_id in unlisted])
        return True

    def _list_failed(self, error: WanApiError, watching: list[Watch]) -> None:
        """Count a list failure against the account's sweep (never a trigger); say once when it stops."""
        reason, at_once = list_failure(error)
        was_off = self.sweep_health.switched_off
        slowest = max(watch.max_poll_interval for watch in watching)
        pause = self.sweep_health.failed(at_once=at_once, now=time.monotonic(), round_seconds=slowest)
        if pause is None:
            return
        say = log.info if was_off else log.warning  # a retry that failed again is no news
        say(
            "Wan's list call for connection %s %s: reading each waited-for task on its own (within the "
            "same rate), and trying the list call again in %.0f s",
            self.wan_conn_id,
            reason,
            pause,
        )

    async def _read(self, hook: WanAsyncHook, watches: Iterable[Watch]) -> None:
        """One query call per task (several triggers may wait for the same one)."""
        by_task: dict[str, list[Watch]] = {}
        for watch in watches:
            by_task.setdefault(watch.wan_task_id, []).append(watch)
        slots = asyncio.Semaphore(READS_AT_ONCE)

        async def read(wan_task_id: str, waiting: list[Watch]) -> None:
            async with slots:
                try:
                    task = await self._send(hook.get_task(wan_task_id))
                except WanApiError as error:
                    if not error.throttled:
                        self._failed(waiting, error)
                    return
            now = time.monotonic()
            for watch in waiting:
                watch.saw(task, now)

        await asyncio.gather(*(read(wan_task_id, waiting) for wan_task_id, waiting in by_task.items()))

    async def _send(self, call: Awaitable[T]) -> T:
        self.requests += 1
        return await call

    def _failed(self, watches: Iterable[Watch], error: WanError) -> None:
        now = time.monotonic()
        for watch in watches:
            watch.failed(error, now)


def _from_row(row: TaskSummary) -> WanTask:
    """What a list row tells of an in-flight task (the query call adds the rest once it ends)."""
    return WanTask(row.task_id, row.status, submit_time=row.created, scheduled_time=row.start_time)


_pollers: WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, AccountPoller]] = WeakKeyDictionary()


def account_poller(wan_conn_id: str) -> AccountPoller:
    """The running loop's poller for ``wan_conn_id``, made on first use."""
    loop = asyncio.get_running_loop()
    pollers = _pollers.setdefault(loop, {})
    poller = pollers.get(wan_conn_id)
    if poller is None:
        poller = pollers[wan_conn_id] = AccountPoller(wan_conn_id, loop)
    return poller


_polling_hooks: WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, tuple[float, WanAsyncHook]]] = (
    WeakKeyDictionary()
)


def polling_hook(wan_conn_id: str) -> WanAsyncHook:
    """The hook all triggers on this event loop poll ``wan_conn_id`` with.

    One connection read per loop (renewed every HOOK_REUSE_SECONDS, so a rotated key is picked up), not
    one per trigger; ``max_retries=0`` because the poller paces its own retries.
    """
    from airflow_provider_wan.hooks.wan import WanAsyncHook

    hooks = _polling_hooks.setdefault(asyncio.get_running_loop(), {})
    made, hook = hooks.get(wan_conn_id, (0.0, None))
    if hook is None or time.monotonic() - made > HOOK_REUSE_SECONDS:
        hook = WanAsyncHook(wan_conn_id, max_retries=0)
        hooks[wan_conn_id] = (time.monotonic(), hook)
    return hook
