"""Many WanTaskTriggers on one account, in one real event loop, against the emulator over HTTP with its
task-API limit on (query, cancel and list share 20 requests a second): they wait through one poller per
loop and connection, stay within the task-API rate, and a 429 never ends a wait."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from airflow_provider_wan.emulator import WanEmulator
from airflow_provider_wan.triggers import poller as poller_module
from airflow_provider_wan.triggers.wan import WanTaskTrigger, check_event
from tests.triggers.helpers import create_task, failed_polls

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


async def test_an_outage_ends_each_wait_after_reads_of_its_own_task_failed(batch: WanEmulator) -> None:
    ids = [create_task(BATCH_CONN_ID, f"outage {n}") for n in range(10)]
    batch.set_faults("list", error_503=1.0)
    batch.set_faults("query", error_503=1.0)

    events = await events_of(triggers_for(ids, max_consecutive_errors=2))

    assert {event["status"] for event in events} == {"error"}
    assert all(event["retryable"] for event in events)
    assert all("(2 failure(s) in a row)" in event["message"] for event in events)
    assert all(failed_polls(batch, wan_task_id) == 2 for wan_task_id in ids)  # its own reads, not the lists
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


# -- where our reading of the list call is wrong: the sweep falls back, never ends a wait -------------

FALLBACK_LOGGED = f"Wan's list call for connection {BATCH_CONN_ID} "
RESUMED_LOGGED = f"Wan's list call works again for connection {BATCH_CONN_ID}"


def logged(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> tuple[str, str]:
    """What was logged, by each route this Airflow version may log by (stdlib, or structlog's output)."""
    out, err = capfd.readouterr()
    return caplog.text, out + err


def lines_with(text: str, routes: tuple[str, str]) -> list[str]:
    """The lines holding ``text``, from the route that has them (each line goes one way, or both)."""
    return max(([line for line in route.splitlines() if text in line] for route in routes), key=len)


@pytest.mark.parametrize(("refusal", "said"), [(404, "HTTP 404: NotFound"), (403, "HTTP 403: AccessDenied")])
async def test_a_refused_list_call_falls_back_to_reading_each_task(
    batch: WanEmulator,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    refusal: int,
    said: str,
) -> None:
    """A key that may query its tasks but not list the account's (or no list endpoint): every wait still
    ends in success, one create each, within the 20 requests a second, after one refused list call."""
    caplog.set_level(logging.INFO)
    batch.set_readings(list_refused=refusal)
    ids = [create_task(BATCH_CONN_ID, f"refused {n}") for n in range(100)]

    events = await events_of(triggers_for(ids, max_consecutive_errors=1))

    log = task_api(batch)
    assert [event["status"] for event in events] == ["success"] * 100
    assert batch.create_count() == 100
    assert [entry["status"] for entry in log if entry["endpoint"] == "list"] == [refusal]  # tried once
    assert [entry for entry in log if entry["status"] == 429] == []
    assert {entry["path"].rsplit("/", 1)[1] for entry in log if entry["endpoint"] == "query"} == set(ids)
    (said_once,) = lines_with(FALLBACK_LOGGED, logged(caplog, capfd))
    assert f"was refused (Wan API {said}" in said_once
    assert "reading each waited-for task on its own" in said_once


@pytest.mark.parametrize("utc_offset", [0, 8])
async def test_a_sweep_finds_tasks_whichever_zone_the_list_call_reads_times_in(
    batch: WanEmulator, utc_offset: int
) -> None:
    """The list call's times read as UTC, or as Beijing time: 100 tasks of 20 s each, waited for at the
    trigger's default pace, cost about one request per video either way (per-task reads cost ~5)."""
    batch.set_readings(list_utc_offset=utc_offset)
    batch.set_timing(task_seconds=20.0, queue_seconds=0.5)
    ids = [create_task(BATCH_CONN_ID, f"zone {n}") for n in range(100)]

    events = await events_of(triggers_for(ids, poll_interval=2.0, max_poll_interval=15.0))

    log = task_api(batch)
    sweeps = [entry for entry in log if entry["endpoint"] == "list"]
    queries = [entry for entry in log if entry["endpoint"] == "query"]
    print(f"UTC+{utc_offset}: {len(log) / 100:.2f} task-API requests per video ({len(sweeps)} list calls)")
    assert [event["status"] for event in events] == ["success"] * 100
    assert sweeps
    assert all(entry["status"] == 200 for entry in log)
    assert all({"start_time", "end_time"}.isdisjoint(entry["query"]) for entry in sweeps)  # its own clock
    assert len(queries) <= 110  # each task read once it ended, a few twice
    assert len(log) <= 1.5 * len(ids)


def switched_off(poller: poller_module.AccountPoller) -> bool:
    return poller.sweep_health.switched_off


async def until(condition: Callable[[], bool], timeout: float = 60.0) -> float:
    """Wait until ``condition()`` holds; the wall-clock time it did (the emulator's request log's clock)."""
    give_up = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < give_up, "timed out"
        await asyncio.sleep(0.01)
    return time.time()


def spoil_list(emulator: WanEmulator, how: str) -> None:
    if how == "refused":
        emulator.set_readings(list_refused=403)
    else:
        emulator.set_faults("list", **{how: 1.0})


def mend_list(emulator: WanEmulator) -> None:
    emulator.set_readings(list_refused=None)
    emulator.clear_faults()


@pytest.mark.parametrize(
    ("how", "list_failures", "said"),
    [
        ("malformed", 1, "answered in a shape we cannot read"),
        ("error_503", 3, "failed 3 times in a row"),
        ("refused", 1, "was refused"),
    ],
)
async def test_the_sweep_falls_back_then_resumes_once_the_list_call_works_again(
    batch: WanEmulator,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    how: str,
    list_failures: int,
    said: str,
) -> None:
    """An unreadable list answer, or 5xx several times in a row, or a refusal: each task is read on its own
    (no trigger ends: one failure would end it), and the sweep is tried again 20 rounds later (10 s at a
    0.5 s pace); once the list call works, the requests per video drop back."""
    caplog.set_level(logging.INFO)
    batch.set_timing(task_seconds=25.0, queue_seconds=0.5)  # in flight through the fallback and after
    ids = [create_task(BATCH_CONN_ID, f"{how} {n}") for n in range(100)]
    spoil_list(batch, how)

    running = asyncio.ensure_future(
        events_of(triggers_for(ids, poll_interval=0.25, max_poll_interval=0.5, max_consecutive_errors=1))
    )
    await until(lambda: BATCH_CONN_ID in pollers_here())
    poller = pollers_here()[BATCH_CONN_ID]
    fell_back = await until(lambda: switched_off(poller))
    failed_lists = len([entry for entry in task_api(batch) if entry["endpoint"] == "list"])
    await asyncio.sleep(1.0)
    mend_list(batch)
    resumed = await until(lambda: not switched_off(poller))
    await asyncio.sleep(5.0)
    measured = time.time()
    events = await running

    logs = logged(caplog, capfd)
    (fallback_line,) = lines_with(FALLBACK_LOGGED, logs)  # once, though it read one by one for 10 s
    assert said in fallback_line
    assert "trying the list call again in 10 s" in fallback_line
    assert len(lines_with(RESUMED_LOGGED, logs)) == 1
    log = task_api(batch)
    assert [event["status"] for event in events] == ["success"] * 100
    assert batch.create_count() == 100
    assert [entry for entry in log if entry["status"] == 429] == []
    assert failed_lists == list_failures
    assert 9.0 <= resumed - fell_back <= 20.0  # tried again 20 rounds later, not every cycle
    fallback_rate = sum(1 for entry in log if fell_back <= entry["time"] < fell_back + 5.0) / 5.0
    resumed_rate = sum(1 for entry in log if resumed <= entry["time"] < measured) / (measured - resumed)
    print(
        f"{how}: {fallback_rate:.1f} task-API requests a second while reading one by one, "
        f"{resumed_rate:.1f} once sweeping again (100 tasks, 0.5 s pace)"
    )
    assert fallback_rate >= 12.0  # the rate of 20 a second, spent reading each task
    assert resumed_rate <= fallback_rate / 2.5
