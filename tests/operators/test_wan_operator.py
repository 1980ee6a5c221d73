"""WanTextToVideoOperator run by Airflow's task runner (``dag.test()``) against the emulator over HTTP."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest
from airflow.sdk import DAG

from airflow_provider_wan.api import VideoRequest, WanValidationError
from airflow_provider_wan.emulator import WanEmulator
from airflow_provider_wan.hooks.wan import WanHook
from airflow_provider_wan.operators.wan import WanTextToVideoOperator
from tests.operators.dag_runs import AIRFLOW_3_3_PLUS, FAST, run_dag, single_task_dag, xcom_of
from tests.operators.families import wav
from tests.triggers.helpers import SMALL, log_text

INLINE_TRIGGER = "[DAG TEST] running trigger in line"


def one_task_dag(dag_id: str, **operator: Any) -> DAG:
    return single_task_dag(dag_id, WanTextToVideoOperator, **{**SMALL, **operator})


@pytest.mark.parametrize(
    ("fields", "parameter"),
    [
        ({"size": "1280*720", "model": "wanx2.1-t2v-turbo", "duration": 10}, "duration"),
        ({"size": "1000*1000"}, "size"),
        ({"model": "wan2.7-t2v", "size": "1280*720", "duration": 5}, "size"),
        ({"seed": -1}, "seed"),
        ({"audio_url": "s3://only-a-bucket"}, "audio_url"),
    ],
)
def test_bad_request_is_refused_when_the_dag_is_parsed(
    wan_emulator: WanEmulator, fields: dict[str, Any], parameter: str
) -> None:
    with pytest.raises(WanValidationError, match=f"Invalid {parameter}=") as refused:
        WanTextToVideoOperator(task_id="generate", **{**SMALL, "prompt": "a cat", **fields})

    assert refused.value.parameter == parameter
    assert wan_emulator.create_count() == 0


def test_templated_request_is_validated_after_rendering_and_fails_without_retry(
    wan_emulator: WanEmulator,
    wan_connection: str,
    dag_id: str,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    dag = one_task_dag(
        dag_id, prompt="a cat", size="{{ params.size }}", params={"size": "123*456"}, retries=2
    )

    ti = run_dag(dag)[("generate", -1)]

    assert ti.state == "failed"
    assert ti.try_number == 1  # final: retrying renders the same bad value
    assert "Invalid size='123*456'" in log_text(caplog, capfd)
    assert wan_emulator.create_count() == 0


def test_deferrable_run_completes_through_the_trigger(
    wan_emulator: WanEmulator,
    wan_connection: str,
    dag_id: str,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    dag = one_task_dag(
        dag_id,
        prompt="a {{ params.animal }} on a skateboard",
        duration="{{ params.seconds }}",  # renders to a string; read as the integer the API wants
        params={"animal": "fox", "seconds": 10},
        deferrable=True,
    )

    ti = run_dag(dag)[("generate", -1)]

    logs = log_text(caplog, capfd)
    result = xcom_of(ti)
    expected = VideoRequest(prompt="a fox on a skateboard", **{**SMALL, "duration": 10}).to_body()
    assert ti.state == "success"
    assert INLINE_TRIGGER in logs
    assert f"Submitted Wan task {result['task_id']}" in logs  # the task's own logs were read too
    assert wan_emulator.create_count() == 1
    assert result["status"] == "SUCCEEDED"
    assert result["model"] == SMALL["model"]
    assert result["request"] == expected
    assert wan_emulator.task(result["task_id"])["body"] == expected  # exactly what was sent
    assert result["video_url"].startswith(wan_emulator.root_url)
    assert result["usage"] == {"duration": 10, "width": 832, "height": 480, "video_count": 1}
    assert result["actual_prompt"]
    assert result["submit_time"]
    assert result["end_time"]
    assert json.loads(json.dumps(result)) == result
    rendered = rendered_fields(ti)
    assert rendered["prompt"] == "a fox on a skateboard"
    for text in (json.dumps(result), json.dumps(rendered, default=str), logs):
        assert wan_emulator.api_key not in text


def test_non_deferrable_run_waits_in_the_worker(
    wan_emulator: WanEmulator,
    wan_connection: str,
    dag_id: str,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    ti = run_dag(one_task_dag(dag_id, prompt="a kite", deferrable=False))[("generate", -1)]

    result = xcom_of(ti)
    assert ti.state == "success"
    assert INLINE_TRIGGER not in log_text(caplog, capfd)
    assert result["status"] == "SUCCEEDED"
    assert result["request"]["input"]["prompt"] == "a kite"
    assert wan_emulator.create_count() == 1


def test_wait_for_completion_false_returns_the_task_id_at_once(
    wan_emulator: WanEmulator, wan_connection: str, dag_id: str
) -> None:
    ti = run_dag(one_task_dag(dag_id, prompt="a drum", wait_for_completion=False))[("generate", -1)]

    wan_task_id = xcom_of(ti)
    assert ti.state == "success"
    assert wan_emulator.task(wan_task_id)["status"] in ("PENDING", "RUNNING")
    assert wan_emulator.create_count() == 1


def test_mapped_over_prompts_submits_one_task_each(
    wan_emulator: WanEmulator, wan_connection: str, dag_id: str
) -> None:
    prompts = ["a red boat", "a green boat", "a blue boat"]
    with DAG(dag_id, schedule=None, start_date=dt.datetime(2025, 1, 1)) as dag:
        WanTextToVideoOperator.partial(task_id="generate", deferrable=True, **SMALL, **FAST).expand(
            prompt=prompts
        )

    tis = run_dag(dag)

    results = [xcom_of(tis[("generate", index)]) for index in range(3)]
    assert [r["request"]["input"]["prompt"] for r in results] == prompts
    assert len({r["task_id"] for r in results}) == 3
    assert all(r["status"] == "SUCCEEDED" for r in results)
    assert wan_emulator.create_count() == 3
    assert [wan_emulator.create_count(prompt=p) for p in prompts] == [1, 1, 1]


def test_retry_after_a_worker_timeout_re_attaches_instead_of_paying_twice(
    wan_emulator: WanEmulator,
    wan_connection: str,
    dag_id: str,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    # Try 1 is killed by execution_timeout while the Wan task is RUNNING (it cannot be cancelled then).
    # The task finishes before try 2 (the retry callback moves the emulator's clock on), and try 2 of the
    # same task instance finds it in the task state store and returns it without submitting again.
    dag = one_task_dag(
        dag_id,
        prompt="a marathon",
        deferrable=False,
        execution_timeout=dt.timedelta(seconds=1),
        retries=1,
        retry_delay=dt.timedelta(0),
        on_retry_callback=lambda context: wan_emulator.advance_clock(10),
    )

    ti = run_dag(dag)[("generate", -1)]

    result = xcom_of(ti)
    logs = log_text(caplog, capfd)
    assert ti.try_number == 2
    assert ti.state == "success"
    assert wan_emulator.create_count() == 1
    assert result["status"] == "SUCCEEDED"
    assert "did not finish in time (execution_timeout=1s, the shorter limit; last seen RUNNING)" in logs
    if AIRFLOW_3_3_PLUS:  # by the id in the task state store
        assert f"Re-attaching to Wan task {result['task_id']} (SUCCEEDED) from an earlier try" in logs
    else:  # no task state store: found in the account's task list by its model and prompt
        assert f"Re-attaching to Wan task {result['task_id']} (SUCCEEDED), found by its model" in logs


def test_retry_after_a_polling_outage_re_attaches_to_the_deferred_task(
    wan_emulator: WanEmulator,
    wan_connection: str,
    dag_id: str,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    # Try 1 defers; every poll fails (503) so the trigger gives up and the try fails as retryable.
    # The outage ends before try 2 (the retry callback clears it), which re-attaches and defers again.
    wan_emulator.set_faults("query", error_503=1.0)
    dag = one_task_dag(
        dag_id,
        prompt="a lighthouse in a storm",
        deferrable=True,
        max_consecutive_errors=2,
        retries=1,
        retry_delay=dt.timedelta(0),
        on_retry_callback=lambda context: wan_emulator.clear_faults(),
    )

    ti = run_dag(dag)[("generate", -1)]

    submitted = [r for r in wan_emulator.request_log if r["endpoint"] == "create" and r["status"] == 200]
    assert ti.try_number == 2
    assert len(submitted) == 1
    if AIRFLOW_3_3_PLUS:
        assert ti.state == "success"
        # whatever the task's state when try 2 came (the emulator's 0.2 s queue, 2 s task) it re-attached
        attached = re.search(
            rf"Re-attaching to Wan task {xcom_of(ti)['task_id']} \((\w+)\)", log_text(caplog, capfd)
        )
        assert attached is not None
        assert attached[1] in ("PENDING", "RUNNING", "SUCCEEDED")
    else:
        # Airflow 3.1.0 does not clear a deferred task's next_method when it goes up for retry (its
        # execution API leaves it set), so the retry resumes execute_complete with the same error event
        # and fails again: nothing is submitted twice, but nothing is recovered either.
        assert ti.state == "failed"


@pytest.mark.parametrize(
    ("prompt", "code"),
    [
        ("a [[blocked]] parade", "DataInspectionFailed"),
        ("a [[ip-infringement]] mouse", "IPInfringementSuspect"),
    ],
)
@pytest.mark.parametrize("deferrable", [True, False])
def test_refused_content_fails_at_once_with_the_service_code(
    wan_emulator: WanEmulator,
    wan_connection: str,
    dag_id: str,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    prompt: str,
    code: str,
    deferrable: bool,
) -> None:
    dag = one_task_dag(dag_id, prompt=prompt, deferrable=deferrable, retries=2, retry_delay=dt.timedelta(0))

    ti = run_dag(dag)[("generate", -1)]

    assert ti.state == "failed"
    assert ti.try_number == 1  # not retried: a retry would be refused (and billed attempts add up)
    assert wan_emulator.create_count() == 1
    assert f"ended FAILED: {code}" in log_text(caplog, capfd)


def test_model_the_service_refuses_fails_at_once_with_its_message(
    wan_emulator: WanEmulator,
    wan_connection: str,
    dag_id: str,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    # A name our table does not know passes the model-independent checks; the service says InvalidParameter.
    dag = one_task_dag(
        dag_id,
        prompt="a cat",
        model="wan9.9-t2v",
        size=None,
        duration=None,
        audio=None,
        retries=2,
        retry_delay=dt.timedelta(0),
    )

    ti = run_dag(dag)[("generate", -1)]

    assert ti.state == "failed"
    assert ti.try_number == 1
    assert "InvalidParameter" in log_text(caplog, capfd)
    assert wan_emulator.create_count() == 0


@pytest.mark.parametrize("deferrable", [True, False])
def test_timeout_cancels_a_pending_task_and_fails_without_retry(
    slow_connection: tuple[WanEmulator, str],
    dag_id: str,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    deferrable: bool,
) -> None:
    emulator, conn_id = slow_connection
    dag = one_task_dag(
        dag_id,
        prompt="a long queue",
        wan_conn_id=conn_id,
        deferrable=deferrable,
        timeout=0.5,
        retries=1,
        retry_delay=dt.timedelta(0),
    )

    ti = run_dag(dag)[("generate", -1)]

    assert ti.state == "failed"
    assert ti.try_number == 1
    # A loaded machine may pass the 0.5 s before the first look: then nothing was seen yet.
    assert re.search(
        r"did not finish in time \(timeout=0\.5s, the shorter limit; last seen (PENDING|never)\); "
        r"it was cancelled",
        log_text(caplog, capfd),
    )
    assert [r["status"] for r in emulator.request_log if r["endpoint"] == "cancel"] == [200]
    assert emulator.state()["statuses"] == {"CANCELED": 1}


def test_on_kill_cancels_a_pending_task(slow_connection: tuple[WanEmulator, str], dag_id: str) -> None:
    # The task runner kills the try (execution_timeout) and calls on_kill while the Wan task waits PENDING.
    _, conn_id = slow_connection
    dag = one_task_dag(
        dag_id,
        prompt="a queue to leave",
        wan_conn_id=conn_id,
        deferrable=False,
        execution_timeout=dt.timedelta(seconds=1),
    )

    ti = run_dag(dag)[("generate", -1)]

    (wan_task_id,) = submitted_ids(conn_id)
    assert ti.state == "failed"
    assert WanHook(conn_id).get_task(wan_task_id).status.value == "CANCELED"


def test_audio_from_s3_is_sent_as_a_presigned_url_and_shown_as_its_s3_uri(
    wan_emulator: WanEmulator, wan_connection: str, aws_connection: str, dag_id: str
) -> None:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    s3 = S3Hook(aws_conn_id=aws_connection)
    s3.create_bucket(bucket_name="voices")
    # a real sound: the emulator fetches the presigned URL and inspects it, as the service does
    s3.load_bytes(wav(4), key="takes/narration.wav", bucket_name="voices", replace=True)
    dag = one_task_dag(
        dag_id,
        prompt="a narrated sunrise",
        model="wan2.6-t2v",
        size="1280*720",
        audio=None,
        audio_url="s3://voices/takes/narration.wav",
    )

    ti = run_dag(dag)[("generate", -1)]

    result = xcom_of(ti)
    sent = wan_emulator.task(result["task_id"])["body"]["input"]["audio_url"]
    shown = result["request"]["input"]["audio_url"]
    assert ti.state == "success"
    assert "Signature=" in sent  # presigned: SigV2 or SigV4 depending on the S3 client
    assert sent.split("?")[0].endswith("/voices/takes/narration.wav")
    assert shown == "s3://voices/takes/narration.wav"  # the signature grants read access: not in XCom
    assert rendered_fields(ti)["audio_url"] == "s3://voices/takes/narration.wav"


def test_missing_s3_audio_fails_before_anything_is_sent(
    wan_emulator: WanEmulator, wan_connection: str, aws_connection: str, dag_id: str
) -> None:
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    S3Hook(aws_conn_id=aws_connection).create_bucket(bucket_name="empty-voices")
    dag = one_task_dag(
        dag_id,
        prompt="silence",
        model="wan2.6-t2v",
        size="1280*720",
        audio=None,
        audio_url="s3://empty-voices/none.mp3",
        retries=1,
    )

    ti = run_dag(dag)[("generate", -1)]

    assert ti.state == "failed"
    assert ti.try_number == 1
    assert wan_emulator.create_count() == 0


def rendered_fields(ti: Any) -> dict[str, Any]:
    from airflow.models.renderedtifields import RenderedTaskInstanceFields

    return RenderedTaskInstanceFields.get_templated_fields(ti) or {}


def submitted_ids(conn_id: str) -> list[str]:
    """The account's tasks of the last 24 hours, through the contract's list call."""
    return [task.task_id for task in WanHook(conn_id).list_tasks(page_size=100).tasks]


def test_connection_without_a_key_fails_at_once_before_sending(
    wan_emulator: WanEmulator,
    dag_id: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_WAN_NOKEY", json.dumps({"conn_type": "wan", "host": wan_emulator.base_url})
    )
    dag = one_task_dag(
        dag_id, prompt="a cat", wan_conn_id="wan_nokey", retries=2, retry_delay=dt.timedelta(0)
    )

    ti = run_dag(dag)[("generate", -1)]

    assert ti.state == "failed"
    assert ti.try_number == 1
    assert "Refused before anything was sent to Wan" in log_text(caplog, capfd)
    assert wan_emulator.request_log == []
