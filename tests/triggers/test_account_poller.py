"""Many WanTaskTriggers on one account, in one real event loop, against the emulator over HTTP with its
task-API limit on (query, cancel and list share 20 requests a second): they wait through one poller per
loop and connection, stay within the budget, and a 429 never ends a wait."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_wan.emulator import WanEmulator
from airflow_provider_wan.triggers import poller as poller_module
from airflow_provider_wan.triggers.wan import WanTaskTrigger, check_event
from tests.triggers.helpers import create_task

BATCH_CONN_ID = "wan_batch"
TASK_API = ("query", "list", "cancel")


@pytest.fixture(scope="module")
def batch_server() -> Iterator[WanEmulator]:
    """An account that runs 300 tasks at once (each 3 s), so a batch is in flight together."""
    with WanEmulator(
        task_seconds=3.0, queue_seconds=0.5, max_running=300, creates_per_second=1000, queue_limit=2000,
        prerender=False, cache_dir=None,
    ) as emulator:  # fmt: skip
        yield emulator


@pytest.fixture
def batch(batch_server: WanEmulator, monkeypatch: pytest.MonkeyPatch) -> WanEmulator:
    batch_server.reset()
    connection = {"conn_type": "wan", "host": batch_server.base_url, "password": batch_server.api_key}
    monkeypatch.setenv(f"AIRFLOW_CONN_{BATCH_CONN_ID.upper()}", json.dumps(connection))
    return batch_server


def task_api(emulator: WanEmulator) -> list[dict[str, Any]]:
    return [entry for entry in emulator.request_log if entry["endpoint"] in TASK_API]


def triggers_for(ids: list[str], conn_id: str = BATCH_CONN_ID, **overrides: Any) -> list[WanTaskTrigger]:
    pacing = {"poll_interval": 0.5, "max_poll_interval": 2.0, **overrides}
    return [
        WanTaskTrigger(wan_task_id=i, deadline=time.time() + 90, wan_conn_id=conn_id, **pacing) for i in ids
    ]


async def events_of(triggers: list[WanTaskTrigger]) -> list[dict[str, Any]]:
    async def first(trigger: WanTaskTrigger) -> dict[str, Any]:
        return check_event((await anext(trigger.run())).payload)

    return list(await asyncio.wait_for(asyncio.gather(*(first(t) for t in triggers)), timeout=120))


def pollers_here() -> dict[str, poller_module.AccountPoller]:
    return dict(poller_module._pollers.get(asyncio.get_running_loop(), {}))


async def test_a_batch_waits_through_one_poller_within_the_budget(batch: WanEmulator) -> None:
    ids = [create_task(BATCH_CONN_ID, f"product {n}") for n in range(150)]
    triggers = triggers_for(ids)

    running = asyncio.ensure_future(events_of(triggers))
    while not pollers_here():
        await asyncio.sleep(0.01)
    (poller,) = pollers_here().values()
    events = await running

    log = task_api(batch)
    assert [event["status"] for event in events] == ["success"] * 150
    assert {event["wan_task_id"] for event in events} == set(ids)
    assert all(event["task"]["usage"]["duration"] == 5 for event in events)  # read once it ended
    assert [entry for entry in log if entry["status"] == 429] == []
    sweeps = [entry for entry in log if entry["endpoint"] == "list"]
    assert {entry["query"]["status"] for entry in sweeps} == {"PENDING", "RUNNING"}
    assert all(entry["query"]["page_size"] == "100" for entry in sweeps)
    reads = [entry["path"].rsplit("/", 1)[1] for entry in log if entry["endpoint"] == "query"]
    assert set(reads) == set(ids)
    assert max(reads.count(task_id) for task_id in ids) <= 2  # read when it ended (rarely once before)
    assert len(log) <= 2 * len(ids)  # per-task polling took ~6 a task here, and met the limit
    assert poller.requests == len(log)
    assert not poller.running  # the last trigger's end stopped it ...
    assert pollers_here() == {}  # ... and it is forgotten


def throttled(emulator: WanEmulator) -> int:
    return sum(1 for entry in task_api(emulator) if entry["status"] == 429)


async def throttle_until(emulator: WanEmulator, refusals: int, *endpoints: str) -> None:
    """Answer 429 on ``endpoints`` until the emulator has refused ``refusals`` task-API calls."""
    for endpoint in endpoints:
        emulator.set_faults(endpoint, error_429=1.0)
    while throttled(emulator) < refusals:
        await asyncio.sleep(0.01)
    emulator.clear_faults()


@pytest.mark.parametrize(
    ("tasks", "endpoints"),
    [(12, ("list", "query")), (1, ("query",))],  # a sweep, and one task read on its own
)
async def test_throttling_never_counts_toward_max_consecutive_errors(
    batch: WanEmulator, tasks: int, endpoints: tuple[str, ...]
) -> None:
    ids = [create_task(BATCH_CONN_ID, f"throttled {n}") for n in range(tasks)]

    healing = asyncio.ensure_future(throttle_until(batch, 3, *endpoints))
    events = await events_of(triggers_for(ids, max_consecutive_errors=1))
    await healing

    assert [event["status"] for event in events] == ["success"] * tasks
    assert throttled(batch) >= 3


async def test_an_outage_of_the_list_call_ends_every_wait_as_before(batch: WanEmulator) -> None:
    ids = [create_task(BATCH_CONN_ID, f"outage {n}") for n in range(10)]
    batch.set_faults("list", error_503=1.0)
    batch.set_faults("query", error_503=1.0)

    events = await events_of(triggers_for(ids, max_consecutive_errors=2))

    assert {event["status"] for event in events} == {"error"}
    assert all(event["retryable"] for event in events)
    assert all("(2 failure(s) in a row)" in event["message"] for event in events)
    assert pollers_here() == {}


async def test_cancelled_triggers_leave_the_poller_which_stops_with_the_last(
    slow_connection: tuple[WanEmulator, str],
) -> None:
    emulator, conn_id = slow_connection
    triggers = triggers_for([create_task(conn_id, f"never done {n}") for n in range(5)], conn_id)
    waits = [asyncio.ensure_future(events_of([trigger])) for trigger in triggers]
    while conn_id not in pollers_here() or len(pollers_here()[conn_id].watches) < 5:
        await asyncio.sleep(0.01)
    poller = pollers_here()[conn_id]

    for wait in waits[:3]:
        wait.cancel()  # a user's kill, a triggerer stopping, a trigger moving away
    await asyncio.gather(*waits[:3], return_exceptions=True)
    assert len(poller.watches) == 2
    assert poller.running
    for wait in waits[3:]:
        wait.cancel()
    await asyncio.gather(*waits[3:], return_exceptions=True)

    assert poller.watches == set()
    await asyncio.sleep(0)  # let the cancelled poller task finish
    assert not poller.running
    assert pollers_here() == {}
    assert not [entry for entry in emulator.request_log if entry["endpoint"] == "cancel"]


async def test_the_connection_extra_sets_this_process_share_of_the_budget(
    slow_connection: tuple[WanEmulator, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator, _ = slow_connection
    connection = {"conn_type": "wan", "host": emulator.base_url, "password": emulator.api_key}
    monkeypatch.setenv("AIRFLOW_CONN_WAN_SHARE", json.dumps({**connection, "extra": {"task_api_rps": 4}}))
    emulator.set_task_api_rate(4)  # what the account takes: a trigger polling as fast as it may meets it
    wan_task_id = create_task("wan_share", "a shared account")
    (trigger,) = triggers_for([wan_task_id], "wan_share", poll_interval=0.01, max_poll_interval=0.01)

    waiting = asyncio.ensure_future(events_of([trigger]))
    while len(task_api(emulator)) < 12:  # three seconds' worth at 4 a second
        await asyncio.sleep(0.01)
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)

    assert {entry["status"] for entry in task_api(emulator)} == {200}  # paced: never past the 4 a second
