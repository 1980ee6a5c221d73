"""The API key never shows: not in logs, error text (chained causes included), repr, or results."""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable, Iterator

import pytest

from airflow_provider_wan.api import WanApiError, WanError
from airflow_provider_wan.emulator import WanEmulator
from airflow_provider_wan.hooks.aio import close_sessions
from airflow_provider_wan.hooks.calls import get_call, read_answer
from airflow_provider_wan.hooks.connection import WanSettings
from airflow_provider_wan.hooks.wan import WanAsyncHook, WanHook
from tests.conftest import free_port
from tests.hooks.conftest import FAST, REQUEST

KEY = "sk-7f3a9c0d5e1b4a2f8c6d0e9b7a5c3d1f"
WRONG_KEY = "sk-0000aaaa1111bbbb2222cccc3333dddd"


@pytest.fixture
def secret_emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[WanEmulator]:
    """An emulator whose key is ``KEY``, as ``wan_secret``; ``wan_wrong`` holds a refused key."""
    with WanEmulator(api_key=KEY, prerender=False, cache_dir=None) as emulator:
        for conn_id, key in (("WAN_SECRET", KEY), ("WAN_WRONG", WRONG_KEY)):
            monkeypatch.setenv(
                f"AIRFLOW_CONN_{conn_id}", json.dumps({"host": emulator.base_url, "password": key})
            )
        yield emulator


def _failure_text(action: Callable[[], object]) -> str:
    with pytest.raises(WanError) as raised:
        action()
    return "".join(traceback.format_exception(raised.value)) + repr(raised.value)


def test_key_never_leaks_through_sync_calls(secret_emulator: WanEmulator, logged: Callable[[], str]) -> None:
    hook = WanHook("wan_secret", **{**FAST, "max_retries": 2})
    task = hook.create_task(REQUEST)
    secret_emulator.advance_clock(60)
    shown = [
        json.dumps(hook.get_task(task.task_id).to_dict()),
        repr(hook),
        repr(hook.settings),
        str(vars(hook)),
    ]
    secret_emulator.set_faults("query", error_500=1.0)
    shown.append(_failure_text(lambda: hook.get_task(task.task_id)))
    secret_emulator.set_faults("create", drop=1.0)
    shown.append(_failure_text(lambda: hook.create_task(REQUEST)))
    secret_emulator.set_faults("list", malformed=1.0)
    shown.append(_failure_text(lambda: hook.list_tasks()))
    shown.append(_failure_text(lambda: WanHook("wan_wrong", **FAST).get_task(task.task_id)))
    shown.append(str(WanHook("wan_wrong", **FAST).test_connection()))
    shown.append(logged())

    assert "Wan get call failed" in shown[-1]  # the retries were logged, with their causes
    for text in shown:
        assert KEY not in text
        assert WRONG_KEY not in text


async def test_key_never_leaks_through_async_calls(
    secret_emulator: WanEmulator, logged: Callable[[], str]
) -> None:
    hook = WanAsyncHook("wan_secret", **{**FAST, "max_retries": 1})
    shown = [repr(hook), repr(await hook.get_settings()), str(vars(hook))]
    secret_emulator.set_faults("query", drop=1.0)
    with pytest.raises(WanApiError) as dropped:
        await hook.get_task("some-task")
    with pytest.raises(WanApiError) as refused:
        await WanAsyncHook("wan_wrong", **FAST).get_task("some-task")
    await close_sessions()
    for raised in (dropped, refused):
        shown.append("".join(traceback.format_exception(raised.value)))
    shown.append(logged())

    for text in shown:
        assert KEY not in text
        assert WRONG_KEY not in text


def test_key_is_kept_out_of_network_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_WAN_GONE", json.dumps({"host": f"http://127.0.0.1:{free_port()}", "password": KEY})
    )

    text = _failure_text(lambda: WanHook("wan_gone", **{**FAST, "max_retries": 0}).get_task("some-task"))

    assert "ConnectFailed" in text
    assert KEY not in text


def test_an_answer_that_echoes_the_key_is_blanked_before_it_becomes_an_error() -> None:
    echoed = json.dumps({"code": "InvalidApiKey", "message": f"Invalid API-key provided: {KEY}"}).encode()

    with pytest.raises(WanApiError) as raised:
        read_answer(get_call("some-task"), 401, None, echoed, WanSettings("wan_default", "https://x", KEY))

    assert raised.value.message == "Invalid API-key provided: ***"
