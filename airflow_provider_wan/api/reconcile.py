"""Finding a task Wan created but whose id was lost, without an idempotency key (pure: no I/O).

Wan has no idempotency key, so a create whose answer never arrived (a dropped connection, a timeout, a
worker killed the moment Wan accepted it) leaves a task nobody knows the id of. Before each create the
operator records an :class:`Intent`: a fingerprint of the request and the connection, and the time. A
later look for that task lists the account's tasks of the model created in the intent's
:class:`Window`, reads each candidate (the query answer carries ``orig_prompt`` and, once done, the
billed duration and size) and takes the one that :func:`matches` the request and no other task instance
has claimed. Candidates are read nearest to the intent's time first, so the task a crash lost is
usually the first one read.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from airflow_provider_wan.api.base import WanRequest
from airflow_provider_wan.api.endpoints import MAX_LIST_WINDOW
from airflow_provider_wan.api.responses import TaskStatus, TaskSummary, WanTask

#: How far the service's clock may be behind ours: a task can look created this long before the intent.
CLOCK_SKEW = timedelta(seconds=60)
#: Rows per list call while reconciling (the contract's largest page).
LIST_PAGE_SIZE = 100
#: Statuses of a candidate worth re-attaching to; a failed or cancelled one is as good as none.
LIVE_STATUSES = frozenset({TaskStatus.PENDING, TaskStatus.RUNNING, TaskStatus.SUCCEEDED})


def request_fingerprint(body: dict[str, Any], base_url: str, api_key: str) -> str:
    """One opaque digest of the create body and the account it goes to (the key only as a hash)."""
    account = hashlib.sha256(api_key.encode()).hexdigest()
    canonical = json.dumps({"body": body, "base_url": base_url, "account": account}, sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Intent:
    """A create about to be sent: what (its fingerprint) and when (epoch seconds, our clock)."""

    fingerprint: str
    at: float

    def to_dict(self) -> dict[str, Any]:
        return {"fingerprint": self.fingerprint, "at": self.at}

    @classmethod
    def from_dict(cls, value: Any) -> Intent | None:
        """The intent a task state holds, or None if it holds none (or something unreadable)."""
        if not isinstance(value, dict):
            return None
        fingerprint, at = value.get("fingerprint"), value.get("at")
        if not isinstance(fingerprint, str) or not isinstance(at, (int, float)) or isinstance(at, bool):
            return None
        return cls(fingerprint, float(at))


@dataclass(frozen=True)
class Window:
    """When a lost task may have been created: from ``start`` (minus clock skew) to ``end``, UTC."""

    start: datetime
    end: datetime
    anchor: datetime  # when the create most likely landed: candidates are read nearest to it first

    @classmethod
    def after_intent(cls, intent: Intent, now: datetime) -> Window:
        """From just before the intent's create to now."""
        at = datetime.fromtimestamp(intent.at, tz=timezone.utc)
        return cls._bounded(at - CLOCK_SKEW, now, anchor=at)

    @classmethod
    def since(cls, start: datetime | None, now: datetime) -> Window:
        """From ``start`` (say the DAG run's start, when no intent was recorded) to now."""
        begin = (start or now - MAX_LIST_WINDOW).astimezone(timezone.utc) - CLOCK_SKEW
        return cls._bounded(begin, now, anchor=begin)

    @classmethod
    def _bounded(cls, start: datetime, now: datetime, *, anchor: datetime) -> Window:
        end = now.astimezone(timezone.utc) + CLOCK_SKEW
        start = max(start, end - MAX_LIST_WINDOW)  # the list call looks back at most 24 hours
        return cls(start, end, max(anchor, start))

    def list_filters(self, model: str, page_no: int) -> dict[str, Any]:
        """Keyword arguments of the list call for one page of this window's tasks of ``model``.

        The list call's times are sent as UTC *(assumed, as the emulator reads them)*; each row's
        ``gmt_create`` (epoch milliseconds) is checked against the window again in :func:`candidates`.
        """
        naive = {"start_time": self.start.replace(tzinfo=None), "end_time": self.end.replace(tzinfo=None)}
        return {**naive, "model_name": model, "page_no": page_no, "page_size": LIST_PAGE_SIZE}

    def holds(self, created: datetime | None) -> bool:
        if created is None:
            return False
        moment = created if created.tzinfo else created.replace(tzinfo=timezone.utc)
        return self.start <= moment <= self.end


def candidates(rows: Iterable[TaskSummary], window: Window, claimed: Iterable[str]) -> list[TaskSummary]:
    """Live rows created in the window that no other task instance claimed, nearest the anchor first."""
    taken = set(claimed)
    found = [
        row
        for row in rows
        if row.task_id not in taken and row.status in LIVE_STATUSES and window.holds(row.created)
    ]
    return sorted(found, key=lambda row: (abs(_utc(row.created) - window.anchor), row.task_id))


def matches(task: WanTask, request: WanRequest) -> bool:
    """Whether ``task`` is what ``request`` (of any family) would have made, as far as its query answer tells.

    The answer carries the prompt as sent (``orig_prompt``; none sent and none shown count as the same)
    and, once the task has succeeded, the billed duration and size; a request that names these must
    agree with them. Input media are not shown, so two tasks differing only in them look alike.
    """
    if task.status not in LIVE_STATUSES or (task.orig_prompt or "") != (request.prompt or ""):
        return False
    usage = task.usage
    if usage is None:
        return True
    duration, size = getattr(request, "duration", None), getattr(request, "size", None)
    same_duration = duration is None or usage.duration in (None, duration)
    billed_size = f"{usage.width}*{usage.height}" if usage.width and usage.height else None
    same_size = not size or billed_size in (None, size)
    return same_duration and same_size


def _utc(moment: datetime | None) -> datetime:
    assert moment is not None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
