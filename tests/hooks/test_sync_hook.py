"""WanHook against the emulator over HTTP: each call, waiting, validation first, final errors fail fast."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace

import pytest

from airflow_provider_wan.api import TaskStatus, WanApiError, WanValidationError
from airflow_provider_wan.emulator import WanEmulator
from airflow_provider_wan.exceptions import WanWaitTimeoutError
from airflow_provider_wan.hooks.wan import WanHook
from tests.hooks.conftest import FAST, REQUEST, calls


def test_create_sends_the_request_body_and_returns_the_task(hook: WanHook, wan_emulator: WanEmulator) -> None:
    task = hook.create_task(REQUEST)

    assert task.status is TaskStatus.PENDING
    assert task.request_id
    assert wan_emulator.task(task.task_id)["body"] == REQUEST.to_body()
    assert wan_emulator.create_count() == 1


def test_get_follows_the_task_to_success(hook: WanHook, wan_emulator: WanEmulator) -> None:
    task_id = hook.create_task(REQUEST).task_id
    wan_emulator.advance_clock(60)

    task = hook.get_task(task_id)

    assert task.task_id == task_id
    assert task.status is TaskStatus.SUCCEEDED
    assert (task.video_url or "").startswith(wan_emulator.root_url)
    assert task.usage is not None
    assert task.usage.duration == 5
    assert (task.usage.width, task.usage.height) == (1280, 720)


def test_get_of_an_unknown_task_is_unknown_not_an_error(hook: WanHook, wan_emulator: WanEmulator) -> None:
    assert hook.get_task("no-such-task").status is TaskStatus.UNKNOWN


def test_list_finds_tasks_by_model(hook: WanHook, wan_emulator: WanEmulator) -> None:
    created = hook.create_task(REQUEST).task_id
    hook.create_task(replace(REQUEST, model="wan2.5-t2v-preview"))

    page = hook.list_tasks(model_name="wan2.6-t2v", page_size=5)

    assert [row.task_id for row in page.tasks] == [created]
    assert page.total == 1
    assert calls(wan_emulator, "list")[-1]["query"] == {
        "page_no": "1",
        "page_size": "5",
        "model_name": "wan2.6-t2v",
    }


def test_cancel_of_a_pending_task(slow_emulator: WanEmulator) -> None:
    hook = WanHook("wan_slow", **FAST)
    task_id = hook.create_task(REQUEST).task_id

    hook.cancel_task(task_id)

    assert hook.get_task(task_id).status is TaskStatus.CANCELED


def test_cancel_of_a_running_task_fails_with_the_service_code(slow_emulator: WanEmulator) -> None:
    hook = WanHook("wan_slow", **FAST)
    task_id = hook.create_task(REQUEST).task_id
    slow_emulator.advance_clock(1801)

    with pytest.raises(WanApiError) as raised:
        hook.cancel_task(task_id)

    assert (raised.value.http_status, raised.value.code) == (400, "UnsupportedOperation")
    assert not raised.value.retryable
    assert len(calls(slow_emulator, "cancel")) == 1


def test_wait_polls_until_the_task_ends(slow_emulator: WanEmulator, logged: Callable[[], str]) -> None:
    hook = WanHook("wan_slow", **FAST)
    task_id = hook.create_task(REQUEST).task_id
    finish = threading.Timer(0.3, slow_emulator.advance_clock, args=(7200,))
    finish.start()

    task = hook.wait_for_task(task_id, poll_interval=0.02, max_poll_interval=0.05, timeout=30)

    finish.join()
    assert task.status is TaskStatus.SUCCEEDED
    polls = calls(slow_emulator, "query")
    assert len(polls) >= 3
    assert all(poll["path"].endswith(task_id) for poll in polls)
    assert logged().count(f"Wan task {task_id} is PENDING after") == 1  # progress, not one line per poll


def test_wait_returns_failed_tasks_for_the_caller_to_judge(hook: WanHook, wan_emulator: WanEmulator) -> None:
    task_id = hook.create_task(replace(REQUEST, prompt="a fox [[blocked]]")).task_id
    wan_emulator.advance_clock(60)

    task = hook.wait_for_task(task_id, poll_interval=0.01, timeout=5)

    assert task.status is TaskStatus.FAILED
    assert task.code == "DataInspectionFailed"


def test_wait_gives_up_at_its_timeout(slow_emulator: WanEmulator) -> None:
    hook = WanHook("wan_slow", **FAST)
    task_id = hook.create_task(REQUEST).task_id

    with pytest.raises(WanWaitTimeoutError) as raised:
        hook.wait_for_task(task_id, poll_interval=0.05, timeout=0.3)

    assert raised.value.task.status is TaskStatus.PENDING
    assert task_id in str(raised.value)


def test_invalid_request_is_refused_before_anything_is_sent(hook: WanHook, wan_emulator: WanEmulator) -> None:
    with pytest.raises(WanValidationError) as raised:
        hook.create_task(replace(REQUEST, duration=99))

    assert raised.value.parameter == "duration"
    assert wan_emulator.request_log == []


def test_validation_warnings_are_logged(
    hook: WanHook, wan_emulator: WanEmulator, logged: Callable[[], str]
) -> None:
    hook.create_task(replace(REQUEST, prompt="a fox " * 300))

    assert "prompt has 1800 characters; wan2.6-t2v reads at most 1500" in logged()
    assert wan_emulator.create_count() == 1


def test_unknown_model_is_refused_by_the_service_once(hook: WanHook, wan_emulator: WanEmulator) -> None:
    with pytest.raises(WanApiError) as raised:
        hook.create_task(replace(REQUEST, model="wan9.9-t2v", size=None))

    assert (raised.value.http_status, raised.value.code) == (400, "InvalidParameter")
    assert "Model not exist" in str(raised.value)
    assert len(calls(wan_emulator, "create")) == 1


@pytest.mark.parametrize("endpoint", ["create", "query", "list", "cancel"])
def test_a_wrong_key_fails_fast_without_retry(
    wan_emulator: WanEmulator, monkeypatch: pytest.MonkeyPatch, endpoint: str
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_WAN_WRONG", f'{{"host": "{wan_emulator.base_url}", "password": "sk-wrong"}}'
    )
    hook = WanHook("wan_wrong", **FAST)
    action = {
        "create": lambda: hook.create_task(REQUEST),
        "query": lambda: hook.get_task("some-task"),
        "list": lambda: hook.list_tasks(),
        "cancel": lambda: hook.cancel_task("some-task"),
    }[endpoint]

    with pytest.raises(WanApiError) as raised:
        action()

    assert (raised.value.http_status, raised.value.code) == (401, "InvalidApiKey")
    assert len(calls(wan_emulator, endpoint)) == 1
