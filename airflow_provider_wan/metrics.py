"""Wan metrics through Airflow's own ``Stats`` (StatsD, Datadog or OpenTelemetry, as ``[metrics]`` sets).

Every name starts with ``wan.`` (Airflow adds its ``statsd_prefix``, ``airflow.`` by default). Tags are
the model and the connection id, never the key; calls to the task API (polls, throttling) are made per
account, not per model, so they carry the connection id alone. Plain StatsD has no tags: Airflow appends
them to the name only with ``[metrics] statsd_influxdb_enabled = True``; Datadog and OpenTelemetry take
them as they are.

A metric must never fail a task: a create is billed, and a task that failed after it would be retried
and billed again. So any error while emitting is logged and dropped.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any

log = logging.getLogger(__name__)

TASK_CREATED = "wan.task.created"
TASK_SUCCEEDED = "wan.task.succeeded"
TASK_FAILED = "wan.task.failed"
TASK_CANCELLED = "wan.task.cancelled"
BILLED_SECONDS = "wan.billed_seconds"  # counter: seconds billed by successful tasks
COST = "wan.cost"  # counter: what they cost, where priced (tag ``currency``)
ESTIMATED_COST = "wan.estimated_cost"  # counter: estimates of the tasks submitted, where priced
POLLS = "wan.polls"  # counter: query calls answered (one task's status each)
THROTTLED = "wan.throttled"  # counter: 429 answers of any call
DETECTION_DELAY = "wan.detection_delay"  # timer, ms: from the service's end_time to this process seeing it
#: Delays past this are clock trouble (the service's time zone is not stated), not detection: not sent.
MAX_DETECTION_DELAY = 24 * 3600.0


def task_ended(status: str, model: str, conn_id: str) -> None:
    """A task this provider followed to its end: ``SUCCEEDED``, or ``FAILED``/``UNKNOWN`` (the service
    lost it) as failed. ``CANCELED`` is counted where the cancel call succeeds (:func:`answered`)."""
    if status != "CANCELED":
        name = TASK_SUCCEEDED if status == "SUCCEEDED" else TASK_FAILED
        _emit("incr", name, 1, {"model": model, "conn_id": conn_id})


def billed(charge: Any, conn_id: str) -> None:
    """A successful task's billed seconds, and its cost where priced (a :class:`~.api.pricing.Charge`)."""
    tags = {"model": charge.model, "conn_id": conn_id}
    if charge.billed_seconds is not None:
        _emit("incr", BILLED_SECONDS, charge.billed_seconds, tags)
    if charge.amount is not None:
        _emit("incr", COST, charge.amount, {**tags, "currency": charge.currency})


def estimated(charge: Any, conn_id: str) -> None:
    """The estimate of a task about to be submitted, where priced."""
    if charge.amount is not None:
        tags = {"model": charge.model, "conn_id": conn_id, "currency": charge.currency}
        _emit("incr", ESTIMATED_COST, charge.amount, tags)


def answered(call: str, http_status: int, conn_id: str, model: str | None = None) -> None:
    """One answer of the Wan API: a create or cancel it took, a poll when it read a task, or throttling.

    Both hooks read every answer through one function, which calls this once per answer.
    """
    ok = 200 <= http_status < 300
    if http_status == 429:
        _emit("incr", THROTTLED, 1, {"conn_id": conn_id, "call": call})
    elif ok and call == "create":
        _emit("incr", TASK_CREATED, 1, {"model": model, "conn_id": conn_id})
    elif ok and call == "cancel":
        _emit("incr", TASK_CANCELLED, 1, {"conn_id": conn_id})
    elif ok and call == "get":
        _emit("incr", POLLS, 1, {"conn_id": conn_id})


def detected(end_time: datetime | None, conn_id: str, now: datetime | None = None) -> None:
    """How long after the service's ``end_time`` (read as UTC) this process saw the task end."""
    if end_time is None:
        return
    ended = end_time if end_time.tzinfo else end_time.replace(tzinfo=timezone.utc)
    delay = ((now or datetime.now(timezone.utc)) - ended).total_seconds()
    if 0 <= delay <= MAX_DETECTION_DELAY:
        _emit("timing", DETECTION_DELAY, delay * 1000.0, {"conn_id": conn_id})


def _emit(kind: str, name: str, value: float, tags: dict[str, Any]) -> None:
    try:
        from airflow.providers.common.compat.sdk import Stats

        getattr(Stats, kind)(name, value, tags={k: str(v) for k, v in tags.items() if v is not None})
    except Exception:  # never fail a billed task over a metric
        log.warning("Could not emit the metric %s", name, exc_info=True)
