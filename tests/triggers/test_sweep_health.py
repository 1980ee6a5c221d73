"""The pure part of the sweep's fallback: which list failures switch it off, for how long, and when it
resumes (the poller's tests over HTTP show it in action)."""

from __future__ import annotations

import pytest

from airflow_provider_wan.api import WanApiError, WanResponseError
from airflow_provider_wan.api.sweep import FAILURES_BEFORE_FALLBACK, SweepHealth, list_failure

ROUND = 15.0  # the default max_poll_interval: 20 rounds are 5 minutes


@pytest.mark.parametrize(
    ("error", "at_once"),
    [
        (WanApiError("no such path", http_status=404, code="NotFound"), True),
        (WanApiError("not allowed", http_status=403, code="AccessDenied"), True),
        (WanApiError("bad filter", http_status=400, code="InvalidParameter"), True),
        (WanResponseError("list answer is not JSON", http_status=200), True),
        (WanApiError("busy", http_status=503, code="ServiceUnavailable"), False),
        (WanApiError("reset", code="ConnectionLost"), False),
    ],
)
def test_a_refusal_or_an_unreadable_answer_stops_the_sweep_at_once_a_5xx_may_pass(
    error: WanApiError, at_once: bool
) -> None:
    reason, stops = list_failure(error)
    assert stops is at_once
    assert str(error) in reason


def test_transient_failures_switch_the_sweep_off_only_several_in_a_row_a_round_apart() -> None:
    health = SweepHealth()
    now = 0.0
    for _ in range(FAILURES_BEFORE_FALLBACK - 1):
        assert health.failed(at_once=False, now=now, round_seconds=ROUND) is None
        assert not health.usable(now + ROUND - 1)  # one round of reading each task, then a sweep again
        now += ROUND
        assert health.usable(now)
    assert not health.switched_off
    health.worked()  # a sweep in between starts the count again
    for _ in range(FAILURES_BEFORE_FALLBACK - 1):
        assert health.failed(at_once=False, now=now, round_seconds=ROUND) is None
        now += ROUND
    assert health.failed(at_once=False, now=now, round_seconds=ROUND) == 300.0
    assert health.switched_off
    assert not health.usable(now + 299.0)
    assert health.usable(now + 300.0)


def test_each_retry_that_fails_again_waits_twice_as_long_up_to_an_hour_and_a_sweep_resets_it() -> None:
    health = SweepHealth()
    pauses = []
    now = 0.0
    for _ in range(6):
        pause = health.failed(at_once=True, now=now, round_seconds=ROUND)
        assert pause is not None
        pauses.append(pause)
        now += pause
    assert pauses == [300.0, 600.0, 1200.0, 2400.0, 3600.0, 3600.0]
    assert health.switched_off

    assert health.worked()  # resumed: the poller says so once
    assert not health.worked()
    assert health.failed(at_once=True, now=now, round_seconds=ROUND) == 300.0
