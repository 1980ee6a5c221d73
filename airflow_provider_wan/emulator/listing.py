"""The list call: its filters and paging (window at most 24 hours, newest first), its flat rows, and the
refusal it answers under the ``list_refused`` reading."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from airflow_provider_wan.api import TaskStatus
from airflow_provider_wan.emulator.answers import MESSAGES, Answer, error_answer
from airflow_provider_wan.emulator.settings import Readings
from airflow_provider_wan.emulator.tasks import DAY, TaskRecord

LIST_TIME_FORMAT = "%Y%m%d%H%M%S"
FUTURE_LEEWAY = 60.0  # seconds of clock skew an end_time may run ahead under list_future_end="refused"


@dataclass(frozen=True)
class ListQuery:
    """The filters and page of one list call."""

    start: float
    end: float
    task_id: str | None
    model_name: str | None
    status: TaskStatus | None
    page_no: int
    page_size: int
    by_family: bool = False  # the list_model_name="family" reading

    @classmethod
    def parse(cls, params: dict[str, str], now: float, readings: Readings) -> ListQuery:
        """The list call's filters; the window defaults to the last 24 hours and may not exceed them.

        ``start_time`` and ``end_time`` are read as local times ``list_utc_offset`` hours east of UTC
        (0: UTC, the emulator's own reading *(assumed)*; 8: Beijing time); an ``end_time`` in the future
        is refused under the ``list_future_end="refused"`` reading."""
        shift = readings.list_utc_offset * 3600.0
        end = _list_time(params, "end_time", shift)
        start = _list_time(params, "start_time", shift)
        if end is not None and end > now + FUTURE_LEEWAY and readings.list_future_end == "refused":
            raise ValueError("end_time must not be later than now")
        if end is None:
            end = start + DAY if start is not None else now
        if start is None:
            start = end - DAY
        if not 0 <= end - start <= DAY:
            raise ValueError("end_time must be after start_time and at most 24 hours later")
        status = params.get("status")
        if status is not None and status not in TaskStatus.__members__:
            raise ValueError(f"status must be one of {', '.join(TaskStatus.__members__)}")
        page_no = _list_int(params, "page_no", 1, 1, 10**6)
        page_size = _list_int(params, "page_size", 10, 1, 100)
        return cls(
            start,
            end,
            params.get("task_id") or None,
            params.get("model_name") or None,
            TaskStatus(status) if status else None,
            page_no,
            page_size,
            readings.list_model_name == "family",
        )

    def matches(self, task: TaskRecord) -> bool:
        return (
            self.start <= task.created_at <= self.end
            and (self.task_id is None or task.task_id == self.task_id)
            and (self.model_name is None or self.model_name in self._names(task))
        )

    def _names(self, task: TaskRecord) -> tuple[str, ...]:
        return (task.family,) if self.by_family else (task.model, task.family)

    def page(self, found: Iterable[TaskRecord], region: str) -> dict[str, Any]:
        """The answer body for the tasks ``found`` (refreshed, filtered): newest first, this page."""
        rows = sorted(found, key=lambda t: t.created_at, reverse=True)
        first = (self.page_no - 1) * self.page_size
        return {
            "total": len(rows),
            "total_page": math.ceil(len(rows) / self.page_size),
            "page_no": self.page_no,
            "page_size": self.page_size,
            "data": [
                list_row(task, region, self._names(task)[0]) for task in rows[first : first + self.page_size]
            ],
        }


def _list_time(params: dict[str, str], name: str, shift: float) -> float | None:
    value = params.get(name)
    if not value:
        return None
    try:
        moment = datetime.strptime(value, LIST_TIME_FORMAT)
    except ValueError:
        raise ValueError(f"{name} must be YYYYMMDDhhmmss, got {value!r}") from None
    return (moment - datetime(1970, 1, 1)) / timedelta(seconds=1) - shift


def list_refusal(status: int) -> Answer:
    """The list call refused: 403 ``AccessDenied`` (a key that may query tasks but not list the
    account's) or 404 (no list endpoint where the key's requests go)."""
    if status == 403:
        return error_answer(403, "AccessDenied", MESSAGES["ListAccessDenied"])
    return error_answer(404, "NotFound", MESSAGES["NotFound"])


def _list_int(params: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    value = params.get(name)
    if value in (None, ""):
        return default
    if not value.isdigit() or not low <= int(value) <= high:
        raise ValueError(f"{name} must be a whole number from {low} to {high}, got {value!r}")
    return int(value)


def list_row(task: TaskRecord, region: str, model_name: str) -> dict[str, Any]:
    """One row of the list answer."""
    return {
        "task_id": task.task_id,
        "status": task.status.value,
        "model_name": model_name,
        "gmt_create": _millis(task.created_at),
        "start_time": _millis(task.started_at),
        "end_time": _millis(task.ended_at),
        "region": region,
        "request_id": task.request_id,
        "api_key_id": task.key_id,
    }


def _millis(moment: float | None) -> int | None:
    return int(moment * 1000) if moment is not None else None
