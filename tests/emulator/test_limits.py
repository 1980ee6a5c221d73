"""Account limits: creates per second, running slots per model family, the task API's requests a second
per account, and switching them off."""

from __future__ import annotations

import time

import pytest
import requests

from airflow_provider_wan.api import parse_error
from airflow_provider_wan.emulator import WanEmulator

from .conftest import QUEUE_SECONDS, TASK_SECONDS, Api

BODY = {"input": {"prompt": "limits"}, "parameters": {"size": "832*480"}}


def _create(api: Api, model: str) -> int:
    return api.create({"model": model, **BODY}).status_code


def test_wan25_takes_five_creates_a_second_then_429(api: Api, emulator: WanEmulator) -> None:
    assert [_create(api, "wan2.5-t2v-preview") for _ in range(5)] == [200] * 5
    answer = api.create({"model": "wan2.5-t2v-preview", **BODY})
    error = parse_error(answer.status_code, answer.json(), answer.headers.get("Retry-After"))
    assert (error.http_status, error.code, error.retryable) == (429, "Throttling.RateQuota", True)
    assert error.retry_after == 1
    assert _create(api, "wan2.2-t2v-plus") == 200  # another family has its own window
    emulator.advance_clock(1.0)
    assert _create(api, "wan2.5-t2v-preview") == 200
    assert emulator.create_count() == 7


def test_older_models_take_two_creates_a_second(api: Api, emulator: WanEmulator) -> None:
    assert [_create(api, "wan2.2-t2v-plus") for _ in range(3)] == [200, 200, 429]
    assert [_create(api, "wanx2.1-t2v-turbo") for _ in range(3)] == [200, 200, 429]


def test_running_slots_queue_the_rest(api: Api, emulator: WanEmulator) -> None:
    ids = []
    for _ in range(3):  # two creates a second, the rate limit of wan2.2
        ids += [api.submit("wan2.2-t2v-plus", "slot", size="832*480") for _ in range(2)]
        emulator.advance_clock(1.0)
    # six tasks of a family that runs two at once: the first two run, the rest wait in order
    emulator.advance_clock(QUEUE_SECONDS)
    statuses = [api.output(task_id)["task_status"] for task_id in ids]
    assert statuses == ["RUNNING", "RUNNING", "PENDING", "PENDING", "PENDING", "PENDING"]
    assert api.cancel(ids[2]).status_code == 200  # a queued task can still be cancelled
    emulator.advance_clock(TASK_SECONDS)
    statuses = [api.output(task_id)["task_status"] for task_id in ids]
    assert statuses == ["SUCCEEDED", "SUCCEEDED", "CANCELED", "RUNNING", "RUNNING", "PENDING"]
    third = emulator.task(ids[3])
    assert third["started_at"] >= emulator.task(ids[0])["ended_at"]
    emulator.advance_clock(2 * TASK_SECONDS)
    assert {api.output(task_id)["task_status"] for task_id in ids} == {"SUCCEEDED", "CANCELED"}


def test_queue_limit_refuses_creates(api: Api) -> None:
    with WanEmulator(queue_limit=2, prerender=False, cache_dir=None) as queued:
        small = Api(queued, api.session)
        small.submit("wan2.2-t2v-plus", "one", size="832*480")
        small.submit("wan2.2-t2v-plus", "two", size="832*480")
        queued.advance_clock(1.0)  # both PENDING tasks start: the queue is empty again
        small.submit("wan2.2-t2v-plus", "three", size="832*480")
        small.submit("wan2.2-t2v-plus", "four", size="832*480")
        queued.advance_clock(0.5)  # no free slot yet: three and four keep waiting
        answer = small.create({"model": "wan2.2-t2v-plus", **BODY})
        assert (answer.status_code, answer.json()["code"]) == (429, "Throttling.RateQuota")
        assert answer.headers["Retry-After"]


def test_limits_can_be_switched_off(api: Api, emulator: WanEmulator) -> None:
    emulator.set_limits(False)
    ids = [api.submit("wan2.2-t2v-plus", "free", size="832*480") for _ in range(8)]
    emulator.advance_clock(QUEUE_SECONDS + 0.1)
    assert {api.output(task_id)["task_status"] for task_id in ids} == {"RUNNING"}
    emulator.reset()
    assert [_create(api, "wan2.2-t2v-plus") for _ in range(3)] == [200, 200, 429]  # back as constructed


def _burst(api: Api, task_id: str, count: int) -> list[int]:
    """``count`` raw calls in a row, query, list and cancel in turn (the three share the rate)."""
    calls = (lambda: api.query(task_id), lambda: api.list(), lambda: api.cancel(task_id))
    return [calls[i % 3]().status_code for i in range(count)]


def test_query_cancel_and_list_share_twenty_requests_a_second_then_429(
    api: Api, emulator: WanEmulator
) -> None:
    task_id = api.submit("wan2.6-t2v", "busy account")
    started = time.monotonic()
    statuses = _burst(api, task_id, 60)
    allowed = 20 + 20 * (time.monotonic() - started) + 1  # the saved-up second, and what refilled meanwhile

    assert 429 not in statuses[:20]  # the saved-up second (a cancel after the first one is 400)
    assert statuses.count(429) >= 60 - allowed
    answer = api.query(task_id)
    while answer.status_code != 429:  # on a loaded machine the burst may have been slow: drain it
        answer = api.query(task_id)
    error = parse_error(answer.status_code, answer.json(), answer.headers.get("Retry-After"))
    assert (error.http_status, error.code, error.retryable) == (429, "Throttling", True)
    assert error.retry_after == 1
    drained = time.monotonic()
    emulator.advance_clock(60)  # the test clock moves tasks, not the wall-time bucket
    after_clock = [api.query(task_id).status_code for _ in range(20)]
    refilled = 1 + 20 * (time.monotonic() - drained)  # what wall time gave back meanwhile
    assert after_clock.count(200) <= refilled  # a bucket refilled by the clock would answer 20
    time.sleep(0.2)  # wall time refills: 4 tokens
    assert api.query(task_id).status_code == 200


def test_the_second_key_of_the_account_shares_the_budget(api: Api, emulator: WanEmulator) -> None:
    task_id = api.submit("wan2.6-t2v", "two keys")
    emulator.set_task_api_rate(1)  # one saved up, the next in a second
    assert api.query(task_id, key="sk-second-key").status_code == 200
    assert api.query(task_id).status_code == 429
    assert api.query(task_id, key="sk-wrong").status_code == 401  # no account: refused before counting


def test_the_task_api_rate_switches_on_its_own(api: Api, emulator: WanEmulator) -> None:
    task_id = api.submit("wan2.6-t2v", "lifted")
    emulator.set_task_api_rate(None)
    assert set(_burst(api, task_id, 60)) <= {200, 400}  # a cancel of a running task is 400
    assert [_create(api, "wan2.2-t2v-plus") for _ in range(3)] == [200, 200, 429]  # other limits stay
    emulator.set_task_api_rate(5)
    assert [api.query(task_id).status_code for _ in range(7)].count(429) >= 1
    emulator.reset()
    assert emulator.state()["task_api_rate"] == 20
    emulator.set_limits(False)  # all limits off: the task-API rate too
    assert 429 not in _burst(api, task_id, 40)


def test_rate_and_slot_overrides_for_large_batches() -> None:
    with WanEmulator(
        task_seconds=4, queue_seconds=0, max_running=50, creates_per_second=100, queue_limit=2000,
        prerender=False, cache_dir=None,
    ) as big, requests.Session() as session:  # fmt: skip
        wide = Api(big, session)
        ids = [wide.submit("wan2.6-t2v", f"batch {n}") for n in range(60)]
        big.advance_clock(0.1)
        statuses = [big.task(task_id)["status"] for task_id in ids]
    assert statuses.count("RUNNING") == 50
    assert statuses.count("PENDING") == 10


def test_bad_overrides_are_refused_naming_them() -> None:
    with pytest.raises(ValueError, match="max_running"):
        WanEmulator(max_running=0)
    with pytest.raises(ValueError, match="task_api_rps"):
        WanEmulator(task_api_rate=-1)
