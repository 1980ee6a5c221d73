"""The metrics reach a StatsD server through Airflow's own Stats, with their tags and never the key."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from airflow_provider_wan import metrics
from airflow_provider_wan.api.pricing import Charge
from tests.cost.statsd import StatsdListener


def test_answers_count_creates_cancels_polls_and_throttling(statsd: StatsdListener) -> None:
    metrics.answered("create", 200, "wan_default", model="wan2.6-t2v")
    metrics.answered("create", 400, "wan_default", model="wan2.6-t2v")  # refused: nothing created
    metrics.answered("get", 200, "wan_default")
    metrics.answered("get", 200, "wan_default")
    metrics.answered("list", 200, "wan_default")  # a sweep is no poll of one task
    metrics.answered("get", 429, "wan_default")
    metrics.answered("cancel", 200, "other")
    assert statsd.total(metrics.TASK_CREATED, model="wan2.6-t2v", conn_id="wan_default") == 1
    assert statsd.total(metrics.POLLS, conn_id="wan_default") == 2
    assert statsd.total(metrics.THROTTLED, conn_id="wan_default", call="get") == 1
    assert statsd.total(metrics.TASK_CANCELLED, conn_id="other") == 1
    assert {s.kind for s in statsd.samples(metrics.POLLS)} == {"c"}


def test_endings_billed_seconds_and_cost(statsd: StatsdListener) -> None:
    priced = Charge("wan2.1-i2v-turbo", 3.0, currency="USD", price_per_second=0.036)
    metrics.task_ended("SUCCEEDED", "wan2.1-i2v-turbo", "wan_default")
    metrics.task_ended("FAILED", "wan2.1-i2v-turbo", "wan_default")
    metrics.task_ended("UNKNOWN", "wan2.1-i2v-turbo", "wan_default")
    metrics.task_ended("CANCELED", "wan2.1-i2v-turbo", "wan_default")  # counted by the cancel call
    metrics.billed(priced, "wan_default")
    metrics.billed(Charge("wan9-t2v", 5.0), "wan_default")  # unpriced: seconds only
    metrics.estimated(priced, "wan_default")
    metrics.estimated(Charge("wan9-t2v", 5.0), "wan_default")
    assert statsd.total(metrics.TASK_SUCCEEDED, model="wan2.1-i2v-turbo") == 1
    assert statsd.total(metrics.TASK_FAILED, model="wan2.1-i2v-turbo") == 2
    assert statsd.samples(metrics.TASK_CANCELLED) == []
    assert statsd.total(metrics.BILLED_SECONDS, conn_id="wan_default") == 8
    assert statsd.total(metrics.COST, currency="USD", model="wan2.1-i2v-turbo") == 0.108
    assert [s.value for s in statsd.samples(metrics.ESTIMATED_COST)] == [0.108]


def test_detection_delay_is_a_timer_in_milliseconds(statsd: StatsdListener) -> None:
    now = datetime(2026, 12, 1, 12, 0, 10, tzinfo=timezone.utc)
    metrics.detected(datetime(2026, 12, 1, 12, 0, 7, 500000), "wan_default", now=now)  # naive: UTC
    metrics.detected(now + timedelta(hours=8), "wan_default", now=now)  # a clock in another zone: dropped
    metrics.detected(None, "wan_default", now=now)
    [sample] = statsd.samples(metrics.DETECTION_DELAY)
    assert (sample.value, sample.kind, sample.tags) == (2500.0, "ms", {"conn_id": "wan_default"})
