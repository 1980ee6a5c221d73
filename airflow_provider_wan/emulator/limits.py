"""The account limits: each model family's run slots, queue and creates a second, and the task-API rate.

With limits on, each model family runs at most ``max_running`` tasks at once (5 for wan2.5+, 2 for
wan2.1/2.2, per model for the media families); later tasks stay ``PENDING`` in a first-in first-out queue
until a slot frees *(assumed from the contract's "run 5 tasks at once" and "about 500 tasks wait in an
account's queue")*; a create past ``creates_per_second`` in any one-second window, or one that would
make the queue longer than ``queue_limit``, gets 429 ``Throttling.RateQuota`` with ``Retry-After``
*(assumed: the header is sent)*. Query, cancel and list share ``task_api_rate`` (20) requests a second
per account, any of its keys; past that they get 429 ``Throttling`` with ``Retry-After`` *(assumed: a
token bucket saving up one second's worth, the* :class:`~airflow_provider_wan.api.rate.TokenBucket`
*the provider paces itself with; a wrong key is refused before it counts)*.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import deque
from typing import TYPE_CHECKING, Any

from airflow_provider_wan.api import TaskStatus
from airflow_provider_wan.api.rate import TokenBucket
from airflow_provider_wan.emulator.answers import MESSAGES, Answer, error_answer
from airflow_provider_wan.emulator.settings import Settings

if TYPE_CHECKING:
    from airflow_provider_wan.emulator.tasks import TaskRecord

UNLIMITED = 2**62


class FamilyPool:
    """The run slots and create window of one model spec: a FIFO queue in front of ``capacity``
    parallel runners."""

    def __init__(self, spec: Any, settings: Settings) -> None:
        self.spec = spec
        self.set_limits(settings)
        self.waiting: deque[TaskRecord] = deque()
        self.waiting_count = 0
        self.running: list[tuple[float, int, TaskRecord]] = []
        self.last_event = 0.0
        self.recent_creates: deque[float] = deque()
        self._order = itertools.count()

    def set_limits(self, settings: Settings) -> None:
        """The family's limits (or the settings' overrides of them), or none at all with limits off."""
        limits = self.spec if settings.limits else None
        self.capacity = (settings.max_running or limits.max_running) if limits else UNLIMITED
        self.creates_per_second = (
            (settings.creates_per_second or limits.creates_per_second) if limits else UNLIMITED
        )

    def add(self, task: TaskRecord) -> None:
        self.waiting.append(task)
        self.waiting_count += 1

    def forget_cancelled(self) -> None:
        self.waiting_count -= 1  # the cancelled task leaves the deque lazily, when it reaches the head

    def retry_after(self, now: float) -> float | None:
        """Seconds until one more create fits the rate window; None when it fits now."""
        while self.recent_creates and self.recent_creates[0] <= now - 1.0:
            self.recent_creates.popleft()
        if len(self.recent_creates) < self.creates_per_second:
            return None
        return self.recent_creates[0] + 1.0 - now

    def advance(self, now: float) -> None:
        """Play the queue forward to ``now``: start waiting tasks when slots free, finish running ones."""
        while True:
            while self.waiting and self.waiting[0].status is not TaskStatus.PENDING:
                self.waiting.popleft()
            next_end = self.running[0][0] if self.running else math.inf
            next_start = math.inf
            if self.waiting and len(self.running) < self.capacity:
                next_start = max(self.waiting[0].ready_at, self.last_event)
            moment = min(next_end, next_start)
            if moment > now:
                return
            self.last_event = moment
            if next_end <= next_start:
                _, _, task = heapq.heappop(self.running)
                task.status, task.ended_at = TaskStatus.SUCCEEDED, next_end
            else:
                task = self.waiting.popleft()
                self.waiting_count -= 1
                task.status, task.started_at = TaskStatus.RUNNING, next_start
                end = next_start + task.run_seconds
                heapq.heappush(self.running, (end, next(self._order), task))

    def admit(self, now: float, queue_limit: int | None) -> Answer | None:
        """429 when one more create does not fit the rate window or the queue (``queue_limit``, None with
        limits off); else None, and the create is counted in the window."""
        wait = self.retry_after(now)
        if wait is not None:
            return error_answer(
                429, "Throttling.RateQuota", MESSAGES["RateQuota"], {"Retry-After": str(math.ceil(wait))}
            )
        self.advance(now)
        if queue_limit is not None and self.waiting_count >= queue_limit:
            return error_answer(429, "Throttling.RateQuota", MESSAGES["QueueFull"], {"Retry-After": "60"})
        self.recent_creates.append(now)
        return None


def task_api_bucket(settings: Settings) -> TokenBucket | None:
    """The account's query, cancel and list rate; None when not limited."""
    rate = settings.task_api_rate
    if not settings.limits or rate is None:
        return None
    return TokenBucket(rate, burst=rate)  # wall time, not the test clock: advance_clock refills nothing


def task_api_refusal(bucket: TokenBucket | None) -> Answer | None:
    """429 ``Throttling`` when a query, cancel or list call is past the account's rate; else None."""
    wait = bucket.take() if bucket is not None else 0.0
    if wait <= 0:
        return None
    return error_answer(429, "Throttling", MESSAGES["Throttling"], {"Retry-After": str(math.ceil(wait))})
