"""Checking many tasks of one account with few calls (pure: the triggerer's poller does the I/O).

One list call returns up to 100 tasks' statuses. A sweep lists the account's in-flight tasks, those
``PENDING`` and those ``RUNNING``, created in a :func:`sweep_window` that holds every waited-for task; the
vendor keeps at most about 500 tasks waiting per account, so a sweep takes a handful of calls whatever
the number of triggers. A waited-for task in neither list has ended (or is unknown): :func:`to_read`
names the tasks to read once with a query call, for the video URL and usage, or the failure code. When
only a few tasks are due, reading them one by one is cheaper than listing (:func:`prefer_sweep`).
"""

from __future__ import annotations

import math
from collections.abc import Container, Iterable
from datetime import datetime, timezone
from typing import Any

from airflow_provider_wan.api.reconcile import LIST_PAGE_SIZE, Window
from airflow_provider_wan.api.responses import TaskStatus

#: The statuses a sweep lists, in this order: a task that moves from one to the next between the two
#: list calls is seen in the first; one that ends in between is in neither and is read.
IN_FLIGHT = (TaskStatus.PENDING, TaskStatus.RUNNING)


def sweep_window(created: Iterable[datetime | None], now: datetime) -> Window:
    """From the oldest waited-for task's creation (less clock skew) to now; the last 24 hours while a
    task's creation is not known yet (a trigger that has not been seen)."""
    moments = list(created)
    oldest = None if not moments or None in moments else min(_utc(moment) for moment in moments if moment)
    return Window.since(oldest, now)


def sweep_filters(window: Window, status: TaskStatus, page_no: int) -> dict[str, Any]:
    """Keyword arguments of the list call for one page of the window's tasks in ``status``."""
    return {
        "start_time": window.start.replace(tzinfo=None),
        "end_time": window.end.replace(tzinfo=None),
        "status": status,
        "page_no": page_no,
        "page_size": LIST_PAGE_SIZE,
    }


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


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
