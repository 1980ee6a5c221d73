"""One billed Wan task per task instance through the failures of issues 9 and 17, run by Airflow's task
runner.

Each test makes the failure happen against the emulator over HTTP and asserts what the emulator counted:
creates it accepted (billed) and cancels it received. Lost creates are also checked under the other
readings of the contract the emulator plays (list times read in another zone, ``orig_prompt``
normalised, usage as text, the list call refused).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from airflow.sdk import DAG

from airflow_provider_wan.api import VideoRequest
from airflow_provider_wan.emulator import WanEmulator
from airflow_provider_wan.hooks.wan import WanHook
from airflow_provider_wan.operators.wan import CLAIM_KEY, WanTextToVideoOperator
from tests.operators.dag_runs import (
    AIRFLOW_3_3_PLUS,
    FAST,
    check_re_attached_after_the_worker_died,
    killed_between_create_and_state_write,
    run_dag,
    xcom_of,
)
from tests.operators.test_wan_operator import one_task_dag, submitted_ids
from tests.triggers.helpers import SMALL, log_text


def cancels(emulator: WanEmulator) -> list[Any]:
    return [r["status"] for r in emulator.request_log if r["endpoint"] == "cancel"]


def creates(emulator: WanEmulator) -> list[Any]:
    return [r["status"] for r in emulator.request_log if r["endpoint"] == "create"]


def dated_looks(emulator: WanEmulator) -> list[bool]:
    """For each list call, whether it sent times (a dated look) or left the window to the service."""
    return ["start_time" in r["query"] for r in emulator.request_log if r["endpoint"] == "list"]


# Where the contract is an assumption, the readings a lost create must hold under (see Readings), and
# the looks that find it: dated, then undated where the dated one cannot hold the zone.
READINGS = {
    "our reading": ({}, [True]),
    "list times read as UTC+8": ({"list_utc_offset": 8}, [True]),
    "list times read as UTC-5": ({"list_utc_offset": -5}, [True, False]),
    "a future end_time refused": ({"list_future_end": "refused"}, [True, False]),
    "orig_prompt normalised": ({"orig_prompt": "normalised"}, [True]),
    "usage as text": ({"usage_shape": "text"}, [True]),
}


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> Callable[[], str]:
    """Everything logged so far, read when called."""
    return lambda: log_text(caplog, capfd)


# -- fix 2: execution_timeout shorter than timeout --------------------------------------------------


@pytest.mark.parametrize("deferrable", [True, False])
def test_execution_timeout_shorter_than_timeout_cancels_the_pending_task_and_says_timeout(
    slow_connection: tuple[WanEmulator, str],
    dag_id: str,
    logs: Callable[[], str],
    deferrable: bool,
) -> None:
    emulator, conn_id = slow_connection
    dag = one_task_dag(
        dag_id,
        prompt="a queue longer than the try",
        wan_conn_id=conn_id,
        deferrable=deferrable,
        timeout=1800,
        execution_timeout=dt.timedelta(seconds=3),
    )

    ti = run_dag(dag)[("generate", -1)]

    assert ti.state == "failed"
    assert "did not finish in time (execution_timeout=3s, the shorter limit; last seen PENDING); it was " in (
        logs()
    )
    assert emulator.create_count() == 1
    assert cancels(emulator) == [200]
    assert emulator.state()["statuses"] == {"CANCELED": 1}


# -- fix 3: a failure after success ----------------------------------------------------------------


def fail_first_try_after_success(context: Any, result: Any) -> None:
    if context["ti"].try_number == 1:
        raise RuntimeError("post_execute failed after the video was done")


@pytest.mark.parametrize("deferrable", [True, False])
def test_a_failure_after_success_retries_into_the_same_video(
    wan_emulator: WanEmulator,
    wan_connection: str,
    dag_id: str,
    logs: Callable[[], str],
    deferrable: bool,
) -> None:
    dag = one_task_dag(
        dag_id,
        prompt="a video worth keeping",
        deferrable=deferrable,
        retries=1,
        retry_delay=dt.timedelta(0),
        post_execute=fail_first_try_after_success,
    )

    ti = run_dag(dag)[("generate", -1)]

    result = xcom_of(ti)
    assert (ti.state, ti.try_number) == ("success", 2)
    assert wan_emulator.create_count() == 1
    assert submitted_ids(wan_connection) == [result["task_id"]]
    assert result["status"] == "SUCCEEDED"
    if AIRFLOW_3_3_PLUS or not deferrable:
        assert f"Re-attaching to Wan task {result['task_id']} (SUCCEEDED)" in logs()
    # else Airflow 3.1.0 resumes a retried deferred task with its previous trigger event (the success)
    assert cancels(wan_emulator) == []


# -- fix 4: a create whose answer is lost ----------------------------------------------------------


@pytest.mark.parametrize("deferrable", [True, False])
@pytest.mark.parametrize(("reading", "looks"), list(READINGS.values()), ids=list(READINGS))
def test_an_ambiguous_create_is_reconciled_without_a_person(
    wan_emulator: WanEmulator,
    wan_connection: str,
    dag_id: str,
    logs: Callable[[], str],
    deferrable: bool,
    reading: dict[str, Any],
    looks: list[bool],
) -> None:
    # The emulator creates (and bills) the task, then drops the connection without answering.
    wan_emulator.set_readings(**reading)
    wan_emulator.set_faults("create", accept_then_drop=1.0)
    prompt = "An answer, lost on the way."
    dag = one_task_dag(dag_id, prompt=prompt, deferrable=deferrable)

    ti = run_dag(dag)[("generate", -1)]

    result = xcom_of(ti)
    logged = logs()
    assert ti.state == "success"
    assert ti.try_number == 1  # found in the same try: no retry needed
    assert wan_emulator.create_count() == 1
    assert creates(wan_emulator) == ["accepted-then-dropped"]
    assert dated_looks(wan_emulator) == looks  # before listing below
    assert submitted_ids(wan_connection) == [result["task_id"]]
    assert wan_emulator.task(result["task_id"])["prompt"] == prompt
    assert f"Re-attaching to Wan task {result['task_id']} (" in logged  # PENDING, or RUNNING if slow
    assert "), found by its model and prompt" in logged
    assert result["status"] == "SUCCEEDED"


@pytest.mark.parametrize("deferrable", [True, False])
@pytest.mark.parametrize("refusal", [403, 404])
def test_a_lost_create_the_key_may_not_look_for_fails_for_good_and_says_why(
    wan_emulator: WanEmulator,
    wan_connection: str,
    dag_id: str,
    logs: Callable[[], str],
    deferrable: bool,
    refusal: int,
) -> None:
    wan_emulator.set_readings(list_refused=refusal)
    wan_emulator.set_faults("create", accept_then_drop=1.0)
    dag = one_task_dag(
        dag_id,
        prompt="lost, and no way to look",
        deferrable=deferrable,
        retries=2,
        retry_delay=dt.timedelta(0),
    )

    ti = run_dag(dag)[("generate", -1)]

    logged = logs()
    assert (ti.state, ti.try_number) == ("failed", 1)  # final: no retry can make the key list tasks
    assert wan_emulator.create_count() == 1
    assert creates(wan_emulator) == ["accepted-then-dropped"]
    assert (
        f"WanTaskFinalError: A {SMALL['model']} task that a create of this task instance made may exist "
        in logged
    )
    assert "and be billed, but its id is not known (the create's answer was lost" in logged
    assert "it cannot be looked for: this API key may not list the account's tasks (Wan API HTTP " in logged
    assert f"HTTP {refusal}: " in logged
    assert "Not submitting again, which could bill a second video." in logged
    assert "give this connection such a key and clear this task instance" in logged


@pytest.mark.parametrize("deferrable", [True, False])
def test_a_lost_create_of_a_dated_snapshot_is_found_when_the_service_files_it_under_its_family(
    wan_emulator: WanEmulator, wan_connection: str, dag_id: str, deferrable: bool
) -> None:
    # The list call knows the task only as wan2.7-t2v: the dated look (model_name as sent) finds
    # nothing, the undated one lists every model and keeps the rows of the snapshot's family.
    wan_emulator.set_readings(list_model_name="family")
    wan_emulator.set_faults("create", accept_then_drop=1.0)
    snapshot = {
        "model": "wan2.7-t2v-2026-04-25",
        "size": None,
        "audio": None,
        "resolution": "720P",
        "duration": 2,
    }
    dag = one_task_dag(dag_id, prompt="A snapshot, filed by family.", deferrable=deferrable, **snapshot)

    ti = run_dag(dag)[("generate", -1)]

    result = xcom_of(ti)
    listed = [r["query"] for r in wan_emulator.request_log if r["endpoint"] == "list"]
    assert (ti.state, ti.try_number) == ("success", 1)
    assert wan_emulator.create_count() == 1
    assert [query.get("model_name") for query in listed] == ["wan2.7-t2v-2026-04-25", None]
    assert wan_emulator.task(result["task_id"])["model"] == "wan2.7-t2v-2026-04-25"


def test_a_create_lost_for_good_is_sent_once_more(
    wan_emulator: WanEmulator,
    wan_connection: str,
    dag_id: str,
    logs: Callable[[], str],
) -> None:
    # The connection drops before the create takes effect: nothing to find, so it is sent again; the
    # second drop fails the try as retryable, and the retry (the outage over) submits the one task.
    wan_emulator.set_faults("create", drop=1.0)
    dag = one_task_dag(
        dag_id,
        prompt="never arrived",
        retries=1,
        retry_delay=dt.timedelta(0),
        on_retry_callback=lambda context: wan_emulator.clear_faults(),
    )

    ti = run_dag(dag)[("generate", -1)]

    creates = [r["status"] for r in wan_emulator.request_log if r["endpoint"] == "create"]
    assert (ti.state, ti.try_number) == ("success", 2)
    assert creates == ["dropped", "dropped", 200]
    assert wan_emulator.create_count() == 1
    assert "2 creates in a row lost their answer" in logs()


@pytest.mark.parametrize(
    "reading",
    [{}, {"list_utc_offset": 8}, {"orig_prompt": "normalised"}],
    ids=["our reading", "list times read as UTC+8", "orig_prompt normalised"],
)
def test_a_worker_killed_while_the_create_is_answered_re_attaches_on_retry(
    wan_emulator: WanEmulator,
    wan_connection: str,
    dag_id: str,
    logs: Callable[[], str],
    reading: dict[str, Any],
) -> None:
    wan_emulator.set_readings(**reading)
    dag = one_task_dag(
        dag_id, prompt="A create, answered too late.", **killed_between_create_and_state_write(wan_emulator)
    )

    check_re_attached_after_the_worker_died(dag, wan_emulator, logs)


def test_mapped_lost_creates_each_find_their_own_task_when_orig_prompt_is_normalised(
    wan_emulator: WanEmulator,
    wan_connection: str,
    dag_id: str,
) -> None:
    # Four task instances of one run, prompts a word apart, every create answer lost, every prompt shown
    # changed: each must attach to the task its own create made.
    wan_emulator.set_readings(orig_prompt="normalised")
    wan_emulator.set_faults("create", accept_then_drop=1.0)
    prompts = [f"A red fox runs through fresh snow, shot {number}." for number in range(1, 5)]
    with DAG(dag_id, schedule=None, start_date=dt.datetime(2025, 1, 1)) as dag:
        WanTextToVideoOperator.partial(task_id="generate", deferrable=True, **SMALL, **FAST).expand(
            prompt=prompts
        )

    found = run_dag(dag)
    tis = [found[("generate", index)] for index in range(len(prompts))]

    results = [xcom_of(ti) for ti in tis]
    claims = [ti.xcom_pull(task_ids="generate", key=CLAIM_KEY, map_indexes=ti.map_index) for ti in tis]
    assert [(ti.state, ti.try_number) for ti in tis] == [("success", 1)] * len(prompts)
    assert wan_emulator.create_count() == len(prompts)
    assert creates(wan_emulator) == ["accepted-then-dropped"] * len(prompts)
    for number, (prompt, result) in enumerate(zip(prompts, results, strict=True), start=1):
        assert wan_emulator.create_count(prompt=prompt) == 1
        assert wan_emulator.task(result["task_id"])["prompt"] == prompt  # its own task, no swaps
        assert result["orig_prompt"] == f"A red fox runs through fresh snow\uff0c shot {number} "
    assert [c["wan_task_id"] for c in claims] == [r["task_id"] for r in results]


NEAR_PROMPTS = [
    "A fox reads case files in a classic detective office.",
    "A fox reads case files in a classic detective's office.",
]


def test_a_nearly_matching_task_is_never_taken_in_the_first_try_and_is_taken_by_the_retry(
    wan_emulator: WanEmulator,
    wan_connection: str,
    dag_id: str,
    logs: Callable[[], str],
) -> None:
    # As if Wan took the create, showed its prompt with a word changed and lost the answer: a task with
    # the word changed exists, and the operator's own create is dropped before Wan takes it.
    def a_task_a_word_apart(context: Any) -> None:
        if context["ti"].try_number == 1:
            WanHook(wan_connection).create_task(VideoRequest(prompt=NEAR_PROMPTS[1], **SMALL))
            wan_emulator.set_faults("create", drop=1.0)

    dag = one_task_dag(
        dag_id,
        prompt=NEAR_PROMPTS[0],
        deferrable=False,
        retries=1,
        retry_delay=dt.timedelta(0),
        pre_execute=a_task_a_word_apart,
        on_retry_callback=lambda context: wan_emulator.clear_faults(),
    )

    ti = run_dag(dag)[("generate", -1)]

    result = xcom_of(ti)
    logged = logs()
    assert (ti.state, ti.try_number) == ("success", 2)
    assert creates(wan_emulator) == [200, "dropped"]  # the first try sent no second create
    assert wan_emulator.create_count() == 1
    assert f"No Wan task matches the lost create, but {result['task_id']} (" in logged
    assert "so this try neither takes it nor creates a second one" in logged
    assert f"Re-attaching to Wan task {result['task_id']} (" in logged
    assert "), whose prompt nearly matches and no one else claims" in logged
    assert result["orig_prompt"] == NEAR_PROMPTS[1]


def test_siblings_with_the_same_prompt_never_attach_to_the_same_task(
    wan_emulator: WanEmulator,
    wan_connection: str,
    dag_id: str,
) -> None:
    # Three mapped task instances, one prompt, every create answer lost: each finds a task, and the
    # claims keep any two from taking the same one.
    wan_emulator.set_faults("create", accept_then_drop=1.0)
    with DAG(dag_id, schedule=None, start_date=dt.datetime(2025, 1, 1)) as dag:
        WanTextToVideoOperator.partial(
            task_id="generate", prompt="the same prompt three times", deferrable=True, **SMALL, **FAST
        ).expand(seed=[1, 2, 3])  # the query answer shows no seed to tell them apart

    found = run_dag(dag)
    tis = [found[("generate", index)] for index in range(3)]

    results = [xcom_of(ti) for ti in tis]
    claims = [ti.xcom_pull(task_ids="generate", key=CLAIM_KEY, map_indexes=ti.map_index) for ti in tis]
    assert [ti.state for ti in tis] == ["success"] * 3
    assert wan_emulator.create_count() == 3
    assert len({r["task_id"] for r in results}) == 3
    assert [c["wan_task_id"] for c in claims] == [r["task_id"] for r in results]


@pytest.mark.parametrize(
    "prompts",
    [["one prompt, two videos"] * 2, NEAR_PROMPTS],
    ids=["the same prompt", "prompts a word apart"],
)
def test_a_lost_create_never_takes_the_task_a_sibling_claimed(
    wan_emulator: WanEmulator,
    wan_connection: str,
    dag_id: str,
    prompts: list[str],
) -> None:
    # Two mapped task instances, the same prompt or nearly. The one that runs first creates its task and
    # claims it. Every create of the other is dropped before Wan takes it, so all it finds is the first
    # one's task, which it must not take, even on its retry; the retry (the faults over) submits its own.
    def drop_creates_of_the_second(context: Any) -> None:
        if context["ti"].try_number == 1 and wan_emulator.create_count() == 1:
            wan_emulator.set_faults("create", drop=1.0)

    with DAG(dag_id, schedule=None, start_date=dt.datetime(2025, 1, 1)) as dag:
        WanTextToVideoOperator.partial(
            task_id="generate",
            deferrable=False,
            retries=1,
            retry_delay=dt.timedelta(0),
            pre_execute=drop_creates_of_the_second,
            on_retry_callback=lambda context: wan_emulator.clear_faults(),
            **SMALL,
            **FAST,
        ).expand(prompt=prompts)

    found = run_dag(dag)
    tis = [found[("generate", 0)], found[("generate", 1)]]

    assert [ti.state for ti in tis] == ["success", "success"]
    assert sorted(ti.try_number for ti in tis) == [1, 2]
    assert wan_emulator.create_count() == 2
    assert xcom_of(tis[0])["task_id"] != xcom_of(tis[1])["task_id"]
    assert creates(wan_emulator) == [200, "dropped", "dropped", 200]


# -- issue 10, items 7 and 8 -------------------------------------------------------------------------


def test_a_mistyped_model_is_warned_about_at_parse_and_run_time_and_still_sent(
    wan_emulator: WanEmulator,
    wan_connection: str,
    dag_id: str,
    logs: Callable[[], str],
) -> None:
    dag = one_task_dag(dag_id, prompt="a typo", model="wan2.6-t2w", size=None, duration=None, audio=None)
    parsed = logs()  # what parsing the DAG logged (read once: the next read has only what came after)

    ti = run_dag(dag)[("generate", -1)]

    assert "Unknown model 'wan2.6-t2w' (did you mean wan2.6-t2v?)" in parsed
    assert "Unknown model 'wan2.6-t2w' (did you mean wan2.6-t2v?)" in logs()
    assert ti.state == "failed"  # the service refuses the name; we did not
    assert [r["endpoint"] for r in wan_emulator.request_log].count("create") == 1


@pytest.mark.parametrize("deferrable", [True, False])
def test_the_signed_video_url_is_in_no_log_line_and_not_in_xcom(
    wan_emulator: WanEmulator,
    wan_connection: str,
    dag_id: str,
    logs: Callable[[], str],
    deferrable: bool,
) -> None:
    ti = run_dag(one_task_dag(dag_id, prompt="a secret address", deferrable=deferrable))[("generate", -1)]

    result = xcom_of(ti)
    signed = wan_emulator.task(result["task_id"])
    logged = logs()
    assert ti.state == "success"
    assert result["video_url"].endswith(".mp4?…")  # where the video is, without the credential
    assert f"Wan task {result['task_id']} succeeded: {result['video_url']}" in logged
    for text in (logged, json.dumps(result)):
        assert "Signature=" not in text
        assert "OSSAccessKeyId=" not in text
    assert signed["status"] == "SUCCEEDED"
