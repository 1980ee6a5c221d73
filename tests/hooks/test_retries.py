"""WanHook under faults the emulator injects: what is tried again, and what must never be."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_wan.api import TaskStatus, WanApiError
from airflow_provider_wan.emulator import WanEmulator
from airflow_provider_wan.exceptions import CONNECT_FAILED, WanCreateUncertainError
from airflow_provider_wan.hooks.wan import WanHook
from tests.conftest import free_port
from tests.hooks.conftest import FAST, REQUEST, calls, faults_lifted_after

FAULTS = {
    "500": ({"error_500": 1.0}, 500),
    "503": ({"error_503": 1.0}, 503),
    "dropped connection": ({"drop": 1.0}, "dropped"),
    "malformed JSON": ({"malformed": 1.0}, 200),
}


def _actions(hook: WanHook, task_id: str) -> dict[str, Callable[[], Any]]:
    return {
        "query": lambda: hook.get_task(task_id),
        "list": lambda: hook.list_tasks(task_id=task_id),
        "cancel": lambda: hook.cancel_task(task_id),
    }


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("endpoint", ["query", "list", "cancel"])
def test_transient_faults_are_ridden_out(slow_emulator: WanEmulator, endpoint: str, fault: str) -> None:
    hook = WanHook("wan_slow", **FAST)
    task_id = hook.create_task(REQUEST).task_id
    settings, status = FAULTS[fault]
    slow_emulator.set_faults(endpoint, **settings)

    with faults_lifted_after(slow_emulator, endpoint, 2):
        result = _actions(hook, task_id)[endpoint]()

    assert [call["status"] for call in calls(slow_emulator, endpoint)[:2]] == [status, status]
    if endpoint == "query":
        assert result.task_id == task_id
    elif endpoint == "list":
        assert [row.task_id for row in result.tasks] == [task_id]
    else:
        # After a malformed answer the first cancel had taken effect: the retry's refusal counts as done.
        assert slow_emulator.task(task_id)["status"] == "CANCELED"


def test_throttling_waits_as_long_as_retry_after_says(hook: WanHook, wan_emulator: WanEmulator) -> None:
    wan_emulator.set_faults("query", error_429=1.0)

    with faults_lifted_after(wan_emulator, "query", 1):
        assert hook.get_task("some-task").status is TaskStatus.UNKNOWN

    throttled, answered = calls(wan_emulator, "query")
    assert (throttled["status"], answered["status"]) == (429, 200)
    # The backoff base is 0.01 s; only the emulator's "Retry-After: 1" explains a pause of a second.
    assert answered["time"] - throttled["time"] >= 0.95


def test_retries_end_after_max_retries(wan_connection: str, wan_emulator: WanEmulator) -> None:
    hook = WanHook(wan_connection, **{**FAST, "max_retries": 2})
    wan_emulator.set_faults("query", error_503=1.0)

    with pytest.raises(WanApiError) as raised:
        hook.get_task("some-task")

    assert (raised.value.http_status, raised.value.code) == (503, "ModelUnavailable")
    assert raised.value.retryable
    assert len(calls(wan_emulator, "query")) == 3


def test_a_service_that_cannot_be_reached_is_a_retryable_network_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_WAN_NOWHERE",
        json.dumps({"host": f"http://127.0.0.1:{free_port()}", "password": "sk-x"}),
    )
    hook = WanHook("wan_nowhere", **{**FAST, "max_retries": 1})

    with pytest.raises(WanApiError) as raised:
        hook.get_task("some-task")

    assert raised.value.code == CONNECT_FAILED
    assert raised.value.retryable


# -- create: a second billed task is worse than a failed submission


def test_create_is_retried_after_throttling(hook: WanHook, wan_emulator: WanEmulator) -> None:
    wan_emulator.set_faults("create", error_429=1.0)

    with faults_lifted_after(wan_emulator, "create", 1):
        task = hook.create_task(REQUEST)

    assert [call["status"] for call in calls(wan_emulator, "create")] == [429, 200]
    assert wan_emulator.create_count() == 1
    assert wan_emulator.task(task.task_id)["status"] in ("PENDING", "RUNNING")


def test_create_is_retried_when_the_service_was_not_reached_yet(monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    emulator = WanEmulator(port=port, prerender=False, cache_dir=None)
    monkeypatch.setenv(
        "AIRFLOW_CONN_WAN_LATE",
        json.dumps({"host": f"http://127.0.0.1:{port}/api/v1", "password": emulator.api_key}),
    )
    hook = WanHook("wan_late", backoff_base=0.1, backoff_cap=0.2, max_retries=20)
    starting = threading.Timer(0.4, emulator.start)
    starting.start()
    try:
        task = hook.create_task(REQUEST)
    finally:
        starting.join()
        emulator.stop()

    assert task.status is TaskStatus.PENDING
    assert len(calls(emulator, "create")) == 1


@pytest.mark.parametrize("fault", FAULTS)
def test_create_is_not_retried_after_an_ambiguous_failure(
    hook: WanHook, wan_emulator: WanEmulator, fault: str
) -> None:
    settings, status = FAULTS[fault]
    wan_emulator.set_faults("create", **settings)

    with pytest.raises(WanCreateUncertainError) as raised:
        hook.create_task(REQUEST)

    assert not raised.value.retryable
    assert "may have accepted it" in str(raised.value)
    assert "list_tasks(model_name='wan2.6-t2v')" in str(raised.value)
    assert [call["status"] for call in calls(wan_emulator, "create")] == [status]


def test_create_that_timed_out_is_not_sent_again(own_emulator: WanEmulator) -> None:
    hook = WanHook("wan_own", **{**FAST, "timeout": 0.5})
    own_emulator.set_faults("create", latency=1.0)

    with pytest.raises(WanCreateUncertainError) as raised:
        hook.create_task(REQUEST)

    assert raised.value.http_status is None
    assert "ReadTimeout" in str(raised.value)
    time.sleep(1.0)  # past the latency: a second try would have arrived by now
    assert len(calls(own_emulator, "create")) == 1


def test_create_after_a_malformed_answer_leaves_exactly_one_task(
    hook: WanHook, wan_emulator: WanEmulator
) -> None:
    wan_emulator.set_faults("create", malformed=1.0)

    with pytest.raises(WanCreateUncertainError):
        hook.create_task(REQUEST)

    wan_emulator.set_faults("create")
    assert wan_emulator.create_count() == 1
    assert hook.list_tasks(model_name="wan2.6-t2v").total == 1
