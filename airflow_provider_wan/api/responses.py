"""Typed results parsed from the service's answers, whatever shape each model gives them in."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_wan.api.models import SIZE_TIERS, WAN27_PIXELS, parse_pixels
from airflow_provider_wan.exceptions import WanApiError, WanResponseError

TIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"
_PIXELS = re.compile(r"^\s*(\d+)\s*\*\s*(\d+)\s*$")


class TaskStatus(str, enum.Enum):
    """The states of a Wan task."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELED = "CANCELED"
    UNKNOWN = "UNKNOWN"  # older than 24 hours, or never existed

    @property
    def is_terminal(self) -> bool:
        return self not in (TaskStatus.PENDING, TaskStatus.RUNNING)


@dataclass(frozen=True)
class Usage:
    """What a finished task was billed for, normalised across models."""

    duration: float | None = None
    width: int | None = None
    height: int | None = None
    video_count: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "duration": self.duration,
            "width": self.width,
            "height": self.height,
            "video_count": self.video_count,
        }


@dataclass(frozen=True)
class WanTask:
    """A task as the query (or create) call describes it."""

    task_id: str
    status: TaskStatus
    video_url: str | None = None
    code: str | None = None
    message: str | None = None
    submit_time: datetime | None = None
    scheduled_time: datetime | None = None
    end_time: datetime | None = None
    orig_prompt: str | None = None
    actual_prompt: str | None = None
    usage: Usage | None = None
    request_id: str | None = None
    # ``usage`` as the service sent it: what billing reads (reference input seconds...)
    service_usage: dict[str, Any] | None = field(default=None, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable view, for XCom and trigger events: both are stored in Airflow's database
        and shown in its UI, so the video URL comes without its signed query (a 24-hour credential);
        the query call gives a fresh signed one."""
        return {
            "task_id": self.task_id,
            "status": self.status.value,
            "video_url": redact_url(self.video_url) if self.video_url else None,
            "code": self.code,
            "message": self.message,
            "submit_time": _iso(self.submit_time),
            "scheduled_time": _iso(self.scheduled_time),
            "end_time": _iso(self.end_time),
            "orig_prompt": self.orig_prompt,
            "actual_prompt": self.actual_prompt,
            "usage": self.usage.to_dict() if self.usage else None,
            "request_id": self.request_id,
            "service_usage": self.service_usage,
        }


@dataclass(frozen=True)
class TaskSummary:
    """One row of the list call."""

    task_id: str
    status: TaskStatus
    model_name: str | None = None
    created: datetime | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    region: str | None = None
    request_id: str | None = None


@dataclass(frozen=True)
class TaskPage:
    """One page of the list call."""

    total: int
    total_page: int
    page_no: int
    page_size: int
    tasks: list[TaskSummary] = field(default_factory=list)
    request_id: str | None = None


def parse_task(body: Any) -> WanTask:
    """A create or query answer as a :class:`WanTask`; contract violations raise WanResponseError."""
    output = _object(body, "output")
    task_id = output.get("task_id")
    if not isinstance(task_id, str) or not task_id:
        raise WanResponseError(f"answer has no output.task_id: {_excerpt(body)}")
    usage = body.get("usage")
    return WanTask(
        task_id=task_id,
        status=_status(output.get("task_status"), body),
        video_url=output.get("video_url") or None,
        code=output.get("code") or None,
        message=output.get("message") or None,
        submit_time=parse_time(output.get("submit_time")),
        scheduled_time=parse_time(output.get("scheduled_time")),
        end_time=parse_time(output.get("end_time")),
        orig_prompt=output.get("orig_prompt"),
        actual_prompt=output.get("actual_prompt"),
        usage=parse_usage(usage),
        request_id=body.get("request_id"),
        service_usage=dict(usage) if isinstance(usage, dict) else None,
    )


def parse_usage(usage: Any) -> Usage | None:
    """Seconds, width and height from any model's ``usage`` shape, numbers as strings included."""
    if not isinstance(usage, dict):
        return None
    duration = _first_positive(usage, "output_video_duration", "duration", "video_duration")
    width, height = _pixels(usage)
    count = parse_number(usage.get("video_count"))
    return Usage(duration, width, height, int(count) if count is not None else None)


def parse_error(http_status: int, body: Any, retry_after: str | None = None) -> WanApiError:
    """The flat error body ``{request_id, code, message}`` of a failed call."""
    wait = parse_number(retry_after)
    if isinstance(body, dict) and (body.get("code") or body.get("message")):
        return WanApiError(
            str(body.get("message") or ""),
            http_status=http_status,
            code=body.get("code") or None,
            request_id=body.get("request_id"),
            retry_after=wait,
        )
    return WanApiError(_excerpt(body) or "no error body", http_status=http_status, retry_after=wait)


def parse_task_page(body: Any) -> TaskPage:
    """The flat answer of the list call."""
    if not isinstance(body, dict) or not isinstance(body.get("data", []), list):
        raise WanResponseError(f"list answer is not of the contract's shape: {_excerpt(body)}")
    rows = [
        TaskSummary(
            task_id=str(row.get("task_id")),
            status=_status(row.get("status"), row),
            model_name=row.get("model_name"),
            created=parse_time(row.get("gmt_create")),
            start_time=parse_time(row.get("start_time")),
            end_time=parse_time(row.get("end_time")),
            region=row.get("region"),
            request_id=row.get("request_id"),
        )
        for row in body.get("data") or []
        if isinstance(row, dict)
    ]
    return TaskPage(
        total=int(parse_number(body.get("total")) or 0),
        total_page=int(parse_number(body.get("total_page")) or 0),
        page_no=int(parse_number(body.get("page_no")) or 1),
        page_size=int(parse_number(body.get("page_size")) or len(rows)),
        tasks=rows,
        request_id=body.get("request_id"),
    )


def parse_time(value: Any) -> datetime | None:
    """``2025-10-23 11:47:23.879`` (zone not stated: kept naive) or epoch milliseconds (UTC)."""
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, tz=timezone.utc)
    if isinstance(value, str):
        if value.isdigit():
            return datetime.fromtimestamp(int(value) / 1000, tz=timezone.utc)
        try:  # the service's shape, read many times a second by pollers: strptime is ten times slower
            parsed = datetime.fromisoformat(value)
        except ValueError:
            parsed = None
        if parsed is not None and parsed.tzinfo is None:
            return parsed
        for fmt in (TIME_FORMAT, "%Y-%m-%d %H:%M:%S"):
            try:
                return datetime.strptime(value, fmt)
            except ValueError:
                continue
    return None


def format_time(value: datetime) -> str:
    """The service's time format, milliseconds included."""
    return value.strftime(TIME_FORMAT)[:-3]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _object(body: Any, key: str) -> dict[str, Any]:
    value = body.get(key) if isinstance(body, dict) else None
    if not isinstance(value, dict):
        raise WanResponseError(f"answer has no {key!r} object: {_excerpt(body)}")
    return value


def _status(value: Any, body: Any) -> TaskStatus:
    try:
        return TaskStatus(value)
    except ValueError:
        raise WanResponseError(f"unknown task status {value!r}: {_excerpt(body)}") from None


def parse_number(value: Any) -> float | None:
    if isinstance(value, bool) or value in (None, ""):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def sr_tier(value: Any) -> str | None:
    """The tier a ``usage.SR`` names, in any shape the answers give it (``720``, ``"720"``, ``720.0``,
    ``"720P"``); None if it names none."""
    number = parse_number(value[:-1] if isinstance(value, str) and value.upper().endswith("P") else value)
    tier = f"{int(number)}P" if number is not None and number.is_integer() else None
    return tier if tier in SIZE_TIERS else None


def _first_positive(usage: dict[str, Any], *keys: str) -> float | None:
    for key in keys:
        value = parse_number(usage.get(key))
        if value:
            return value
    return None


def _pixels(usage: dict[str, Any]) -> tuple[int | None, int | None]:
    for key in ("size", "video_ratio", "ratio"):
        value = usage.get(key)
        if isinstance(value, str) and _PIXELS.match(value):
            return parse_pixels(value.replace(" ", ""))
    ratio, tier = usage.get("ratio"), sr_tier(usage.get("SR"))
    if isinstance(ratio, str) and tier in WAN27_PIXELS and ratio in WAN27_PIXELS[tier]:
        return parse_pixels(WAN27_PIXELS[tier][ratio])
    return None, None


def _excerpt(body: Any) -> str:
    text = repr(body)
    return text if len(text) <= 200 else text[:197] + "..."


def redact_url(url: str) -> str:
    """A URL fit for logs and XCom: the signed query string (a bearer credential for 24 h) dropped."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    netloc = parts.netloc.rpartition("@")[2]  # never any user:password
    suffix = "?…" if parts.query else ""
    return f"{parts.scheme}://{netloc}{parts.path}{suffix}"
