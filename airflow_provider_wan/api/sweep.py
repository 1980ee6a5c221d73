"""Checking many tasks of one account with few calls (pure: the triggerer's poller does the I/O).

One list call returns up to 100 tasks' statuses. A sweep lists the account's in-flight tasks, those
``PENDING`` and those ``RUNNING``; the vendor keeps at most about 500 tasks waiting per account, so a
sweep takes a handful of calls whatever the number of triggers. It sends no ``start_time`` or
``end_time``: the contract does not say which zone the list call reads them in (UTC, or Beijing time,
would put a window 8 hours off), and without them the service lists its own last 24 hours, which hold
every task still in flight (one ends within 3 hours). A waited-for task in neither list has ended (or
is unknown, or the lists missed it): :func:`to_read` names the tasks to read once with a query call,
for the video URL and usage, or the failure code. When only a few tasks are due, reading them one by
one is cheaper than listing (:func:`prefer_sweep`).

The sweep is an optimisation, never a reason to fail: :class:`SweepHealth` switches it off for a while
when the list call is refused, answers what we cannot read, or keeps failing, and the poller reads each
task on its own meanwhile.
"""

from __future__ import annotations

import math
from collections.abc import Container, Iterable
from typing import Any

from airflow_provider_wan.api.reconcile import LIST_PAGE_SIZE
from airflow_provider_wan.api.responses import TaskStatus
from airflow_provider_wan.exceptions import WanApiError, WanResponseError

#: The statuses a sweep lists, in this order: a task that moves from one to the next between the two
#: list calls is seen in the first; one that ends in between is in neither and is read.
IN_FLIGHT = (TaskStatus.PENDING, TaskStatus.RUNNING)
#: Transient list failures (5xx, network) in a row, a round apart, after which the sweep is switched off.
FAILURES_BEFORE_FALLBACK = 3
#: Check rounds (each the slowest ``max_poll_interval`` waited with: 15 s by default, so 5 minutes)
#: read one by one before the sweep is tried again; twice as many after each retry that fails too.
RETRY_ROUNDS = 20
#: The longest pause between tries of a failing list call, in rounds (an hour at 15 s).
MAX_RETRY_ROUNDS = 240


def sweep_filters(status: TaskStatus, page_no: int) -> dict[str, Any]:
    """Keyword arguments of the list call for one page of the account's tasks in ``status``."""
    return {"status": status, "page_no": page_no, "page_size": LIST_PAGE_SIZE}


def sweep_cost(watched: int, pages_last_time: int | None) -> int:
    """List calls the next sweep is likely to take: as many as the last one, or enough for ``watched``."""
    if pages_last_time is not None:
        return max(len(IN_FLIGHT), pages_last_time)
    return len(IN_FLIGHT) * max(1, math.ceil(watched / LIST_PAGE_SIZE))


def prefer_sweep(due: int, cost: int) -> bool:
    """Sweep when it takes fewer calls than reading each due task (it checks every waited task, too)."""
    return due > cost


def to_read(waited: Iterable[str], listed: Container[str]) -> list[str]:
    """Waited-for tasks in no in-flight list: ended, failed, cancelled or unknown, so read each once."""
    return [task_id for task_id in waited if task_id not in listed]


def list_failure(error: WanApiError) -> tuple[str, bool]:
    """Why a list call failed (not a 429: that only slows the rate), and whether the sweep must stop
    at once: refused (another 4xx) or answered in a shape we cannot read, unlike a 5xx or a network
    failure, which may pass."""
    if isinstance(error, WanResponseError):
        return f"answered in a shape we cannot read ({error})", True
    if error.http_status is not None and 400 <= error.http_status < 500:
        return f"was refused ({error})", True
    return f"failed {FAILURES_BEFORE_FALLBACK} times in a row (the last: {error})", False


class SweepHealth:
    """Whether one account's sweep may be tried now, and for how long a failing list call switches it off.

    Failures of the list call are the account's, never a trigger's: they switch the sweep off (the
    poller reads each task on its own meanwhile) and count toward no ``max_consecutive_errors``.
    """

    def __init__(self) -> None:
        self.failures = 0  # transient list failures in a row
        self.fallbacks = 0  # times switched off since a sweep last worked: each pause is twice as long
        self.off_until = -math.inf  # monotonic seconds

    @property
    def switched_off(self) -> bool:
        return self.fallbacks > 0

    def usable(self, now: float) -> bool:
        return now >= self.off_until

    def worked(self) -> bool:
        """A sweep listed the tasks; True when it had been switched off (it resumes now)."""
        resumed = self.switched_off
        self.failures = self.fallbacks = 0
        return resumed

    def failed(self, *, at_once: bool, now: float, round_seconds: float) -> float | None:
        """A list call failed: the seconds the sweep is switched off for now, or None (not yet: it is
        tried again after one round, so that failures in a row span some time, not a burst)."""
        self.failures += 1
        if not at_once and self.failures < FAILURES_BEFORE_FALLBACK:
            self.off_until = now + round_seconds
            return None
        pause = round_seconds * min(RETRY_ROUNDS * 2**self.fallbacks, MAX_RETRY_ROUNDS)
        self.failures, self.fallbacks = 0, self.fallbacks + 1
        self.off_until = now + pause
        return pause
