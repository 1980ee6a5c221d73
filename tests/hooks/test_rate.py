"""The account's task-API rate: the bucket's arithmetic (on a hand-moved clock), and the sync hook
honouring it against the emulator with its limit on, from many threads of one process."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest

from airflow_provider_wan.api.rate import RECOVERY_SECONDS, SLOWEST_SHARE, TokenBucket, parse_rate
from airflow_provider_wan.emulator import WanEmulator
from airflow_provider_wan.exceptions import WanConnectionError
from airflow_provider_wan.hooks.limiters import account_limiter, forget_limiters
from airflow_provider_wan.hooks.wan import WanHook

from .conftest import FAST, REQUEST, calls, faults_lifted_after


class HandClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def _fresh_limiters() -> Iterator[None]:
    yield
    forget_limiters()


def test_the_bucket_spends_evenly_at_its_rate() -> None:
    clock = HandClock()
    bucket = TokenBucket(20, clock=clock)

    assert bucket.take() == 0.0  # one saved up
    assert bucket.take() == pytest.approx(0.05)  # then one every 1/20 s, nothing taken meanwhile
    assert bucket.take() == pytest.approx(0.05)
    clock.now += 0.05
    assert bucket.take() == 0.0
    clock.now += 10  # idle: still only one saved up (a burst of one)
    assert [bucket.take() for _ in range(2)] == [0.0, pytest.approx(0.05)]


def test_a_429_pauses_for_retry_after_halves_the_rate_and_it_recovers() -> None:
    clock = HandClock()
    bucket = TokenBucket(20, clock=clock)

    assert bucket.throttled(retry_after=3) == 3
    assert bucket.take() == pytest.approx(3)
    clock.now += 3
    assert bucket.take() == 0.0
    assert bucket.rate == pytest.approx(10 + 20 * 3 / RECOVERY_SECONDS)  # climbing back
    clock.now += RECOVERY_SECONDS
    bucket.take()
    assert bucket.rate == 20
    for _ in range(20):
        bucket.throttled()  # no Retry-After: a second each time, never below the floor
    assert bucket.rate == pytest.approx(20 * SLOWEST_SHARE)


def test_one_bucket_per_account_in_a_process_with_its_configured_rate() -> None:
    first = account_limiter("account-a", 20)
    assert account_limiter("account-a", 20) is first
    assert account_limiter("account-b", 20) is not first
    assert account_limiter("account-a", 5) is first
    assert (first.configured, first.rate) == (5, 5)


@pytest.mark.parametrize("text", ["0", "-2", "fast", "inf", "nan"])
def test_a_bad_rate_is_refused_saying_what_is_allowed(text: str) -> None:
    with pytest.raises(ValueError, match="a positive number of requests a second"):
        parse_rate(text)
    assert parse_rate("none") is None
    assert parse_rate("7.5") == 7.5


def test_threads_of_one_process_share_the_rate_and_are_never_throttled(
    wan_emulator: WanEmulator, wan_connection: str
) -> None:
    task_id = WanHook(wan_connection).create_task(REQUEST).task_id
    answers: list[str] = []

    def poke() -> None:
        hook = WanHook(wan_connection, **FAST)  # each its own hook and session, as mapped sensors are
        answers.extend(hook.get_task(task_id).status.value for _ in range(8))

    workers = [threading.Thread(target=poke) for _ in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert len(answers) == 48  # more than twice what the account takes in a second
    assert {entry["status"] for entry in calls(wan_emulator, "query")} == {200}


def test_the_connection_extra_and_the_provider_setting_set_the_rate(
    wan_emulator: WanEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection = {"conn_type": "wan", "host": wan_emulator.base_url, "password": wan_emulator.api_key}
    monkeypatch.setenv("AIRFLOW_CONN_WAN_SHARE", json.dumps({**connection, "extra": {"task_api_rps": 3}}))
    monkeypatch.setenv("AIRFLOW_CONN_WAN_PLAIN", json.dumps(connection))
    monkeypatch.setenv("AIRFLOW__WAN__TASK_API_RPS", "6")
    wan_emulator.set_task_api_rate(3)

    share = WanHook("wan_share", **FAST)
    task_id = share.create_task(REQUEST).task_id
    statuses = {share.get_task(task_id).status for _ in range(9)}  # three seconds' worth

    assert share.settings.task_api_rps == 3
    assert WanHook("wan_plain").settings.task_api_rps == 6
    assert {entry["status"] for entry in calls(wan_emulator, "query")} == {200}  # paced, never refused
    assert statuses


@pytest.mark.parametrize(("extra", "setting"), [({"task_api_rps": "lots"}, None), ({}, "-1")])
def test_a_bad_rate_setting_is_refused_naming_it(
    wan_emulator: WanEmulator, monkeypatch: pytest.MonkeyPatch, extra: dict[str, str], setting: str | None
) -> None:
    connection = {"host": wan_emulator.base_url, "password": wan_emulator.api_key, "extra": extra}
    monkeypatch.setenv("AIRFLOW_CONN_WAN_BAD", json.dumps(connection))
    if setting is not None:
        monkeypatch.setenv("AIRFLOW__WAN__TASK_API_RPS", setting)

    with pytest.raises(WanConnectionError, match="task_api_rps") as refused:
        WanHook("wan_bad").get_task("some-task")

    assert ("extra.task_api_rps" if extra else "[wan] task_api_rps") in str(refused.value)
    assert calls(wan_emulator, "query") == []


def test_a_non_deferrable_wait_rides_out_throttling_past_the_hook_retries(
    wan_emulator: WanEmulator, wan_connection: str
) -> None:
    hook = WanHook(wan_connection, max_retries=1, backoff_base=0.01, backoff_cap=0.05)
    task_id = hook.create_task(REQUEST).task_id
    wan_emulator.set_faults("query", error_429=1.0)

    with faults_lifted_after(wan_emulator, "query", 3):  # more 429s than the hook's own tries
        task = hook.wait_for_task(task_id, poll_interval=0.05, max_poll_interval=0.1, timeout=60)

    assert task.status.value == "SUCCEEDED"
    assert sum(1 for entry in calls(wan_emulator, "query") if entry["status"] == 429) == 3
