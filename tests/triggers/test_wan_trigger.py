"""WanTaskTrigger over HTTP against the emulator, in a real event loop: events, faults, deadline, kill."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_wan.emulator import WanEmulator
from airflow_provider_wan.hooks.wan import WanHook
from airflow_provider_wan.triggers import poller as poller_module
from airflow_provider_wan.triggers.wan import (
    AIRFLOW_CALLS_ON_KILL,
    EVENT_STATUSES,
    WanTaskTrigger,
    check_event,
    polling_hook,
)
from tests.triggers.helpers import (
    create_task,
    failed_polls,
    log_text,
    queries_of,
    slow_emulator_connection,
)

FAST = {"poll_interval": 0.02, "max_poll_interval": 0.1}


def make_trigger(wan_task_id: str, *, seconds: float = 30.0, **overrides: Any) -> WanTaskTrigger:
    return WanTaskTrigger(wan_task_id=wan_task_id, deadline=time.time() + seconds, **{**FAST, **overrides})


async def first_event(trigger: WanTaskTrigger) -> dict[str, Any]:
    event = await asyncio.wait_for(anext(trigger.run()), timeout=60)
    return check_event(event.payload)


def test_serialize_holds_exactly_the_json_safe_arguments_and_round_trips() -> None:
    trigger = WanTaskTrigger(
        wan_task_id="task-1",
        deadline=1_900_000_000.5,
        wan_conn_id="wan_prod",
        poll_interval=3,
        max_poll_interval=20,
        max_consecutive_errors=7,
    )
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_wan.triggers.wan.WanTaskTrigger"
    assert kwargs == {
        "wan_task_id": "task-1",
        "deadline": 1_900_000_000.5,
        "wan_conn_id": "wan_prod",
        "poll_interval": 3.0,
        "max_poll_interval": 20.0,
        "max_consecutive_errors": 7,
    }
    assert json.loads(json.dumps(kwargs)) == kwargs
    assert WanTaskTrigger(**kwargs).serialize() == (classpath, kwargs)


@pytest.mark.parametrize(
    ("overrides", "mentions"),
    [
        ({"poll_interval": 0}, "poll_interval"),
        ({"poll_interval": 20, "max_poll_interval": 15}, "max_poll_interval"),
        ({"max_consecutive_errors": 0}, "max_consecutive_errors"),
    ],
)
def test_bad_pacing_is_refused_naming_the_argument(overrides: dict[str, Any], mentions: str) -> None:
    with pytest.raises(ValueError, match=mentions):
        WanTaskTrigger(wan_task_id="t", deadline=0, **overrides)


async def test_success_event_carries_the_finished_task(
    wan_emulator: WanEmulator, wan_connection: str
) -> None:
    wan_task_id = create_task(wan_connection, "a lighthouse at dawn")

    event = await first_event(make_trigger(wan_task_id))

    assert event["status"] == "success"
    assert event["wan_task_id"] == wan_task_id
    assert event["task"]["status"] == "SUCCEEDED"
    assert event["task"]["video_url"] == f"{wan_emulator.root_url}/oss/{wan_task_id}.mp4?…"
    assert "Signature" not in json.dumps(event)  # events are stored and logged: no signed query
    assert event["task"]["usage"]["duration"] == 5
    json.dumps(event)  # crosses the triggerer/worker boundary as JSON


@pytest.mark.parametrize(
    ("prompt", "code"),
    [
        ("a [[blocked]] scene", "DataInspectionFailed"),
        ("a [[ip-infringement]] hero", "IPInfringementSuspect"),
    ],
)
async def test_failed_event_carries_the_service_code(
    wan_emulator: WanEmulator, wan_connection: str, prompt: str, code: str
) -> None:
    event = await first_event(make_trigger(create_task(wan_connection, prompt)))

    assert event["status"] == "failed"
    assert event["task"]["status"] == "FAILED"
    assert event["task"]["code"] == code


async def test_unknown_task_is_a_failed_event(wan_emulator: WanEmulator, wan_connection: str) -> None:
    event = await first_event(make_trigger("0b5a4ab9-0000-4000-8000-000000000000"))

    assert event["status"] == "failed"
    assert event["task"]["status"] == "UNKNOWN"


@pytest.mark.parametrize("fault", ["error_500", "error_503", "error_429", "malformed", "drop"])
async def test_transient_poll_failures_are_ridden_out(
    wan_emulator: WanEmulator, wan_connection: str, fault: str
) -> None:
    wan_task_id = create_task(wan_connection, f"storm at sea, {fault}")
    wan_emulator.set_faults("query", **{fault: 1.0})

    async def outage_ends_after_two_failures() -> None:
        while failed_polls(wan_emulator, wan_task_id) < 2:
            await asyncio.sleep(0.01)
        wan_emulator.clear_faults()

    healing = asyncio.create_task(outage_ends_after_two_failures())
    event = await first_event(make_trigger(wan_task_id, max_consecutive_errors=4))
    await healing

    assert event["status"] == "success"
    assert failed_polls(wan_emulator, wan_task_id) in (2, 3)  # one more may be in flight when it heals


async def test_gives_up_after_max_consecutive_errors_with_a_retryable_error_event(
    wan_emulator: WanEmulator, wan_connection: str
) -> None:
    wan_task_id = create_task(wan_connection, "a desert road")
    wan_emulator.set_faults("query", error_503=1.0)

    event = await first_event(make_trigger(wan_task_id, max_consecutive_errors=3))

    assert event["status"] == "error"
    assert event["retryable"] is True
    assert "3 failure(s) in a row" in event["message"]
    assert len(queries_of(wan_emulator, wan_task_id)) == 3


async def test_a_refused_key_ends_at_once_with_a_final_error_event(
    wan_emulator: WanEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = {"conn_type": "wan", "host": wan_emulator.base_url, "password": "sk-wrong-key"}
    monkeypatch.setenv("AIRFLOW_CONN_WAN_WRONG", json.dumps(wrong))

    event = await first_event(make_trigger("some-task", wan_conn_id="wan_wrong"))

    assert event["status"] == "error"
    assert event["retryable"] is False
    assert event["code"] == "InvalidApiKey"
    assert "sk-wrong-key" not in json.dumps(event)


async def test_timeout_event_fires_at_the_deadline(wan_emulator: WanEmulator, wan_connection: str) -> None:
    wan_task_id = create_task(wan_connection, "a slow sunrise")  # takes 2 s on the test emulator
    started = time.monotonic()

    event = await first_event(make_trigger(wan_task_id, seconds=0.5, poll_interval=0.2, max_poll_interval=5))

    assert event["status"] == "timeout"
    assert event["task"]["status"] in ("PENDING", "RUNNING")
    assert time.monotonic() - started < 1.5  # woke at the deadline, not after the next 5 s poll


async def test_deadline_is_wall_clock_and_survives_re_instantiation(
    wan_emulator: WanEmulator, wan_connection: str
) -> None:
    wan_task_id = create_task(wan_connection, "a moving triggerer")
    _, kwargs = make_trigger(wan_task_id, seconds=0.3).serialize()
    await asyncio.sleep(0.4)  # the trigger is stored, then picked up by another triggerer

    event = await first_event(WanTaskTrigger(**kwargs))

    assert event["status"] == "timeout"
    assert queries_of(wan_emulator, wan_task_id) == []  # its deadline had passed: no poll at all


async def test_progress_is_logged_on_change_not_on_every_poll(
    wan_emulator: WanEmulator,
    wan_connection: str,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    wan_task_id = create_task(wan_connection, "a quiet harbour")
    caplog.set_level(logging.INFO)

    event = await first_event(make_trigger(wan_task_id, max_poll_interval=0.02))

    polls = len(queries_of(wan_emulator, wan_task_id))
    progress = [
        line for line in log_text(caplog, capfd).splitlines() if f"Wan task {wan_task_id} is " in line
    ]
    assert event["status"] == "success"
    assert polls > 20
    assert 1 <= len(progress) <= 2  # PENDING (maybe) and RUNNING, each once


@pytest.fixture
def slow_connection(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[WanEmulator, str]]:
    yield from slow_emulator_connection(monkeypatch)


class ExecutionApiComms:
    """The triggerer's supervisor channel, minus its socket: a trigger's ``GetTaskStates`` is answered
    by the real execution API (in process, over the metadata DB), as the triggerer supervisor does."""

    def __init__(self) -> None:
        from airflow.sdk.execution_time.supervisor import InProcessTestSupervisor

        self.client = InProcessTestSupervisor._api_client()
        self.asked: list[Any] = []

    async def asend(self, msg: Any) -> Any:
        from airflow.sdk.execution_time.comms import TaskStatesResult

        self.asked.append(msg)
        answer = await asyncio.to_thread(
            self.client.task_instances.get_task_states,
            dag_id=msg.dag_id,
            map_index=msg.map_index,
            task_ids=msg.task_ids,
            task_group_id=msg.task_group_id,
            logical_dates=msg.logical_dates,
            run_ids=msg.run_ids,
        )
        return TaskStatesResult.from_api_response(answer)


@pytest.fixture
def deferred_task_instance(request: pytest.FixtureRequest) -> Any:
    """A real task instance of a real DAG run in the metadata DB, to be put in any state."""
    import datetime as dt
    import re

    from airflow.sdk import DAG, task

    from tests.operators.dag_runs import run_dag

    with DAG(
        re.sub(r"\W", "_", request.node.name)[:200], schedule=None, start_date=dt.datetime(2025, 1, 1)
    ) as dag:

        @task(task_id="generate")
        def generate() -> None:
            return None

        generate()
    return run_dag(dag)[("generate", -1)]


def set_state(ti: Any, state: str | None) -> None:
    """What the scheduler (deferred) or a user in the UI (failed, success, cleared) does to the row."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import update

    with create_session() as session:
        session.execute(update(TaskInstance).where(TaskInstance.id == ti.id).values(state=state))


@pytest.mark.parametrize(
    ("state", "cancels"),
    [
        ("deferred", 0),  # the trigger moved to another triggerer (apache/airflow#73454): keep waiting
        ("failed", 1),  # a user marked the deferred task failed
        ("success", 1),  # ... or succeeded
        (None, 1),  # ... or cleared it
    ],
)
async def test_a_kill_cancels_only_once_the_task_instance_is_no_longer_deferred(
    slow_connection: tuple[WanEmulator, str],
    deferred_task_instance: Any,
    monkeypatch: pytest.MonkeyPatch,
    state: str | None,
    cancels: int,
) -> None:
    from airflow.sdk.execution_time import task_runner

    emulator, conn_id = slow_connection
    set_state(deferred_task_instance, state)
    wan_task_id = create_task(conn_id, "a queue that never moves")
    trigger = make_trigger(wan_task_id, wan_conn_id=conn_id)
    trigger.task_instance = deferred_task_instance
    running = asyncio.create_task(first_event(trigger))
    await asyncio.sleep(0.2)  # polling (the connection is read from the environment, not asked for)
    comms = ExecutionApiComms()
    monkeypatch.setattr(task_runner, "SUPERVISOR_COMMS", comms, raising=False)

    running.cancel()  # the triggerer stops the trigger, then calls on_kill (3.3+) or only cleanup (3.1)
    await (trigger.on_kill() if AIRFLOW_CALLS_ON_KILL else trigger.cleanup())

    (asked,) = comms.asked
    assert (asked.dag_id, asked.run_ids, asked.task_ids) == (
        deferred_task_instance.dag_id,
        [deferred_task_instance.run_id],
        ["generate"],
    )
    assert len([r for r in emulator.request_log if r["endpoint"] == "cancel"]) == cancels
    expected = "CANCELED" if cancels else "PENDING"
    assert WanHook(conn_id).get_task(wan_task_id).status.value == expected


async def test_on_kill_without_a_task_instance_state_never_cancels(
    slow_connection: tuple[WanEmulator, str],
    deferred_task_instance: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    from airflow.sdk.execution_time import task_runner

    emulator, conn_id = slow_connection
    wan_task_id = create_task(conn_id, "nobody to ask")
    trigger = make_trigger(wan_task_id, wan_conn_id=conn_id)
    await trigger.on_kill()  # no task instance: cannot tell a user's kill from a move
    monkeypatch.setattr(task_runner, "SUPERVISOR_COMMS", ExecutionApiComms(), raising=False)
    deferred_task_instance.run_id = "a run Airflow does not know"
    trigger.task_instance = deferred_task_instance
    await trigger.on_kill()

    assert not [r for r in emulator.request_log if r["endpoint"] == "cancel"]
    logs = log_text(caplog, capfd)
    assert "the trigger does not know its task instance" in logs
    assert "Airflow does not know task instance generate of run a run Airflow does not know" in logs


async def test_cleanup_cancels_after_a_user_kill_only_where_airflow_calls_no_on_kill(
    slow_connection: tuple[WanEmulator, str], deferred_task_instance: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.sdk.execution_time import task_runner

    emulator, conn_id = slow_connection
    set_state(deferred_task_instance, "failed")
    monkeypatch.setattr(task_runner, "SUPERVISOR_COMMS", ExecutionApiComms(), raising=False)
    trigger = make_trigger(create_task(conn_id, "ended by a user"), wan_conn_id=conn_id)
    trigger.task_instance = deferred_task_instance

    await trigger.cleanup()  # 3.3+ runs it after on_kill, which cancels; 3.1/3.2 run only cleanup

    cancels = [r for r in emulator.request_log if r["endpoint"] == "cancel"]
    assert len(cancels) == (0 if AIRFLOW_CALLS_ON_KILL else 1)


async def test_cleanup_after_an_event_never_cancels(
    slow_connection: tuple[WanEmulator, str], deferred_task_instance: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.sdk.execution_time import task_runner

    emulator, conn_id = slow_connection
    trigger = make_trigger(create_task(conn_id, "timed out"), wan_conn_id=conn_id, seconds=0.1)
    event = await first_event(trigger)  # a timeout: the operator cancels, not the trigger
    set_state(deferred_task_instance, "scheduled")  # Airflow may have taken the event in already
    monkeypatch.setattr(task_runner, "SUPERVISOR_COMMS", ExecutionApiComms(), raising=False)
    trigger.task_instance = deferred_task_instance

    await trigger.cleanup()

    assert event["status"] == "timeout"
    assert not [r for r in emulator.request_log if r["endpoint"] == "cancel"]


async def test_cleanup_never_cancels(slow_connection: tuple[WanEmulator, str]) -> None:
    emulator, conn_id = slow_connection
    wan_task_id = create_task(conn_id, "a triggerer restart")
    trigger = make_trigger(wan_task_id, wan_conn_id=conn_id)
    running = asyncio.create_task(first_event(trigger))
    await asyncio.sleep(0.2)

    running.cancel()  # a triggerer restart or redistribution
    await trigger.cleanup()

    assert WanHook(conn_id).get_task(wan_task_id).status.value == "PENDING"
    assert not [r for r in emulator.request_log if r["endpoint"] == "cancel"]


async def test_key_never_in_kwargs_events_or_logs(
    wan_emulator: WanEmulator,
    wan_connection: str,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    wan_task_id = create_task(wan_connection, "a secret garden")
    wan_emulator.set_faults("query", error_500=1.0)
    trigger = make_trigger(wan_task_id, max_consecutive_errors=2)

    event = await first_event(trigger)

    logs = log_text(caplog, capfd)
    assert event["status"] == "error"
    assert f"Polling Wan task {wan_task_id} failed" in logs  # the failures were logged, without the key
    for text in (json.dumps(trigger.serialize()), repr(trigger), json.dumps(event), logs):
        assert wan_emulator.api_key not in text


def test_check_event_accepts_only_the_closed_set() -> None:
    for status in EVENT_STATUSES:
        assert check_event({"status": status})["status"] == status
    for bad in (None, {}, {"status": "done"}, ["success"]):
        with pytest.raises(ValueError, match="a WanTaskTrigger event"):
            check_event(bad)


async def test_triggers_on_one_loop_share_a_hook_per_connection_renewed_after_a_while(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = polling_hook("wan_a")

    assert polling_hook("wan_a") is first  # one connection read for all triggers on this loop
    assert polling_hook("wan_b") is not first
    monkeypatch.setattr(poller_module, "HOOK_REUSE_SECONDS", 0.0)
    assert polling_hook("wan_a") is not first  # a rotated key or moved host is read again


def test_a_new_event_loop_gets_its_own_hook() -> None:
    async def hook_of_this_loop() -> object:
        return polling_hook("wan_a")

    assert asyncio.run(hook_of_this_loop()) is not asyncio.run(hook_of_this_loop())
