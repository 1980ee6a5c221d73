"""WanAsyncHook against the emulator: calls, retries, one session per event loop, async-safe connection."""

from __future__ import annotations

import asyncio
import gc
import json
import threading
import weakref
from pathlib import Path

import aiohttp
import pytest
from airflow.sdk import BaseHook, Connection

from airflow_provider_wan.api import TaskStatus, WanApiError
from airflow_provider_wan.emulator import WanEmulator
from airflow_provider_wan.hooks import aio
from airflow_provider_wan.hooks.wan import WanAsyncHook, WanHook
from tests.hooks.conftest import FAST, REQUEST, calls, faults_lifted_after


async def test_get_cancel_and_list(slow_emulator: WanEmulator) -> None:
    task_id = WanHook("wan_slow", **FAST).create_task(REQUEST).task_id
    hook = WanAsyncHook("wan_slow", **FAST)

    assert (await hook.get_task(task_id)).status is TaskStatus.PENDING
    assert [row.task_id for row in (await hook.list_tasks(model_name="wan2.6-t2v")).tasks] == [task_id]
    await hook.cancel_task(task_id)
    assert (await hook.get_task(task_id)).status is TaskStatus.CANCELED
    await aio.close_sessions()


async def test_get_of_a_finished_task(
    async_hook: WanAsyncHook, hook: WanHook, wan_emulator: WanEmulator
) -> None:
    task_id = hook.create_task(REQUEST).task_id
    wan_emulator.advance_clock(60)

    task = await async_hook.get_task(task_id)

    assert task.status is TaskStatus.SUCCEEDED
    assert task.to_dict() == hook.get_task(task_id).to_dict() | {"request_id": task.request_id}


@pytest.mark.parametrize(
    ("fault", "status"),
    [
        ({"error_500": 1.0}, 500),
        ({"error_429": 1.0}, 429),
        ({"drop": 1.0}, "dropped"),
        ({"malformed": 1.0}, 200),
    ],
)
async def test_get_rides_out_transient_faults(
    async_hook: WanAsyncHook, wan_emulator: WanEmulator, fault: dict[str, float], status: object
) -> None:
    wan_emulator.set_faults("query", **fault)

    with faults_lifted_after(wan_emulator, "query", 1):
        task = await async_hook.get_task("some-task")

    assert task.status is TaskStatus.UNKNOWN
    *failed, answered = (call["status"] for call in calls(wan_emulator, "query"))
    assert failed
    assert set(failed) == {status}
    assert answered == 200


async def test_cancel_rides_out_a_dropped_connection(slow_emulator: WanEmulator) -> None:
    task_id = WanHook("wan_slow", **FAST).create_task(REQUEST).task_id
    slow_emulator.set_faults("cancel", drop=1.0)

    with faults_lifted_after(slow_emulator, "cancel", 2):
        await WanAsyncHook("wan_slow", **FAST).cancel_task(task_id)

    *failed, answered = (call["status"] for call in calls(slow_emulator, "cancel"))
    assert len(failed) >= 2
    assert set(failed) == {"dropped"}
    assert answered == 200
    assert slow_emulator.task(task_id)["status"] == "CANCELED"


async def test_a_final_error_fails_fast(wan_emulator: WanEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_WAN_WRONG", json.dumps({"host": wan_emulator.base_url, "password": "sk-wrong"})
    )

    with pytest.raises(WanApiError) as raised:
        await WanAsyncHook("wan_wrong", **FAST).get_task("some-task")

    assert (raised.value.http_status, raised.value.code) == (401, "InvalidApiKey")
    assert len(calls(wan_emulator, "query")) == 1
    await aio.close_sessions()


def _client_ports(server_port: int) -> set[int]:
    """Loopback client ports of every TCP connection to ``server_port`` still known to the kernel."""
    ports = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, remote = (int(end.split(":")[1], 16) for end in line.split()[1:3])
        if remote == server_port:
            ports.add(local)
        elif local == server_port and remote:
            ports.add(remote)
    return ports


def test_hooks_on_one_loop_share_one_session_and_its_connections(own_emulator: WanEmulator) -> None:
    hooks = [WanAsyncHook("wan_own", **FAST) for _ in range(20)]

    async def poll_each_five_times() -> set[aiohttp.ClientSession]:
        sessions = set()
        for _ in range(5):
            for hook in hooks:
                await hook.get_task("some-task")
                sessions.add(await aio.shared_session())
        return sessions

    sessions = asyncio.run(poll_each_five_times())

    assert len(calls(own_emulator, "query")) == 100
    assert len(sessions) == 1
    assert len(_client_ports(own_emulator.port)) == 1  # 100 polls, 20 hooks, one TCP connection
    (session,) = sessions
    assert session.closed  # closed together with its loop, by asyncio.run's shutdown_asyncgens


def test_concurrent_polls_are_served_from_one_pool(own_emulator: WanEmulator) -> None:
    async def poll_concurrently() -> set[aiohttp.ClientSession]:
        hooks = [WanAsyncHook("wan_own", **FAST) for _ in range(200)]
        await asyncio.gather(*(hook.get_task("some-task") for hook in hooks))
        await asyncio.gather(*(hook.get_task("some-task") for hook in hooks))
        return {await aio.shared_session()}

    sessions = asyncio.run(poll_concurrently())

    assert len(calls(own_emulator, "query")) == 400
    assert len(sessions) == 1
    assert len(_client_ports(own_emulator.port)) <= 100  # the pool's limit, reused by the second round


def test_each_loop_has_its_own_session(own_emulator: WanEmulator) -> None:
    hook = WanAsyncHook("wan_own", **FAST)

    async def poll() -> aiohttp.ClientSession:
        await hook.get_task("some-task")
        return await aio.shared_session()

    first, second = asyncio.run(poll()), asyncio.run(poll())

    assert first is not second
    assert first.closed
    assert second.closed


async def test_close_sessions_closes_this_loops_session(own_emulator: WanEmulator) -> None:
    await WanAsyncHook("wan_own", **FAST).get_task("some-task")
    session = await aio.shared_session()

    await aio.close_sessions()

    assert session.closed
    assert await aio.shared_session() is not session
    await aio.close_sessions()


async def test_connection_is_read_once_and_never_by_blocking_the_loop(
    own_emulator: WanEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Neither the connection nor its extra is read on the loop: ``extra_dejson`` masks the extra's
    secrets with a blocking call to the supervisor, which Airflow 3.3 answers with DeadlockImminentError."""
    loop_thread = threading.current_thread()
    blocking_reads_on_loop = []
    get_connection = BaseHook.get_connection.__func__  # type: ignore[attr-defined]
    extra_dejson = Connection.extra_dejson

    def watched_get_connection(cls: type[BaseHook], conn_id: str) -> object:
        if threading.current_thread() is loop_thread:
            blocking_reads_on_loop.append(conn_id)
        return get_connection(cls, conn_id)

    def watched_extra_dejson(conn: Connection) -> object:
        if threading.current_thread() is loop_thread:
            blocking_reads_on_loop.append(f"{conn.conn_id}.extra_dejson")
        return extra_dejson.fget(conn)  # type: ignore[attr-defined]

    monkeypatch.setattr(BaseHook, "get_connection", classmethod(watched_get_connection))
    monkeypatch.setattr(Connection, "extra_dejson", property(watched_extra_dejson))
    connection = {"host": own_emulator.base_url, "password": own_emulator.api_key}
    monkeypatch.setenv("AIRFLOW_CONN_WAN_OWN", json.dumps({**connection, "extra": {"task_api_rps": 7}}))
    hook = WanAsyncHook("wan_own", **FAST)
    await hook.get_task("some-task")
    monkeypatch.setenv("AIRFLOW_CONN_WAN_OWN", json.dumps({"host": "http://127.0.0.1:9", "password": "sk-x"}))

    await hook.get_task("some-task")  # still the connection read the first time

    assert blocking_reads_on_loop == []
    assert (await hook.get_settings()).task_api_rps == 7  # the extra was read, off the loop
    assert len(calls(own_emulator, "query")) == 2
    await aio.close_sessions()


def test_a_loop_closed_without_shutdown_is_not_kept_alive(own_emulator: WanEmulator) -> None:
    """Airflow's sync-over-async helper closes its loop without ``shutdown_asyncgens``."""
    loop = asyncio.new_event_loop()
    loop.run_until_complete(WanAsyncHook("wan_own", **FAST).get_task("some-task"))
    loop.close()
    closed_loop = weakref.ref(loop)
    del loop

    asyncio.run(WanAsyncHook("wan_own", **FAST).get_task("some-task"))  # a new session forgets closed loops
    gc.collect()

    assert closed_loop() is None
    assert len(calls(own_emulator, "query")) == 2
