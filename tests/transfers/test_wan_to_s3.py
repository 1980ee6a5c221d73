"""``WanVideoToS3Operator`` against the Wan emulator over HTTP and the moto S3 server, in real DAG runs."""

from __future__ import annotations

import datetime as dt
import hashlib
import http.server
import itertools
import json
import re
import threading
from typing import Any

import pytest
import requests
from airflow.providers.common.compat.sdk import AirflowFailException
from airflow.sdk import DAG

from airflow_provider_wan.api import VideoRequest, WanValidationError
from airflow_provider_wan.emulator import WanEmulator
from airflow_provider_wan.exceptions import DownloadInterrupted, WanTaskFinalError
from airflow_provider_wan.hooks.wan import WanHook
from airflow_provider_wan.operators.wan import WanTextToVideoOperator
from airflow_provider_wan.testing.dag_runs import WanAirflow, WanDagRunFailed
from airflow_provider_wan.testing.s3 import s3_client
from airflow_provider_wan.transfers.destination import check_destination, s3_safe
from airflow_provider_wan.transfers.video_metadata import request_sha256
from airflow_provider_wan.transfers.wan_to_s3 import WanS3DestinationCheckOperator, WanVideoToS3Operator
from tests.transfers.helpers import assert_nothing_written, read_object

KEY = "videos/fox.mp4"
_dag_ids = itertools.count()


@pytest.fixture
def wan(wan_connection: str) -> WanHook:
    return WanHook(wan_connection)


def finished_task(wan: WanHook, emulator: WanEmulator, prompt: str = "a red fox in the snow") -> str:
    task = wan.create_task(
        VideoRequest(model="wan2.6-t2v", prompt=prompt, size="1280*720", duration=2, seed=7)
    )
    emulator.advance_clock(30)
    return task.task_id


def served_video(wan: WanHook, task_id: str) -> bytes:
    """The video as a plain download from the service's own URL gives it."""
    url = wan.get_task(task_id).video_url
    assert url is not None
    return requests.get(url, timeout=10).content


def video_gets(emulator: WanEmulator) -> list[dict[str, Any]]:
    return [entry for entry in emulator.request_log if entry["endpoint"] == "video"]


def copy_operator(bucket: str, wan_task_id: str, **options: Any) -> WanVideoToS3Operator:
    options.setdefault("s3_key", KEY)
    return WanVideoToS3Operator(task_id="copy", wan_task_id=wan_task_id, s3_bucket=bucket, **options)


def run_copy(operator: WanVideoToS3Operator) -> dict[str, Any]:
    """``execute`` with the task SDK's own outlet events, for cases a whole DAG run adds nothing to."""
    from airflow.sdk.execution_time.context import OutletEventAccessors

    return operator.execute({"outlet_events": OutletEventAccessors()})  # type: ignore[typeddict-item]


def new_dag() -> DAG:
    return DAG(f"wan_to_s3_{next(_dag_ids)}", schedule=None, start_date=dt.datetime(2026, 1, 1))


def test_generate_then_copy_in_a_dag_run(
    wan_airflow: WanAirflow, wan: WanHook, wan_emulator: WanEmulator, s3: Any, bucket: str
) -> None:
    with new_dag() as dag:
        generate = WanTextToVideoOperator(
            task_id="generate",
            model="wan2.6-t2v",
            prompt="一只红狐狸在雪中奔跑",
            size="1280*720",
            duration=2,
            seed=42,
        )
        WanVideoToS3Operator(
            task_id="copy",
            wan_task_id="{{ ti.xcom_pull('generate')['task_id'] }}",
            generation=generate.output,
            s3_bucket=bucket,
            write_sidecar=True,
        )

    run = wan_airflow.run(dag)

    result = run.xcom("copy")
    wan_task_id = run.xcom("generate")["task_id"]
    key = result["key"]
    assert key == f"wan/{dag.dag_id}/{s3_safe(run.run_id)}/copy.mp4"
    # a manual run's id: its time, and (no logical date, Airflow 3) a random suffix
    assert re.fullmatch(r"wan/[\w.-]+/manual__\d{4}-\d\d-\d\dT\d{6}\.\d{6}Z(_\w+)?/copy\.mp4", key), key
    video = served_video(wan, wan_task_id)
    sha256 = hashlib.sha256(video).hexdigest()
    assert hashlib.sha256(read_object(s3, bucket, key)).hexdigest() == sha256
    assert result == {
        "s3_uri": f"s3://{bucket}/{key}",
        "bucket": bucket,
        "key": key,
        "size": len(video),
        "sha256": sha256,
        "wan_task_id": wan_task_id,
        "copied": True,
        "sidecar_key": f"{key}.json",
        "billed_seconds": 2,
    }
    head = s3.head_object(Bucket=bucket, Key=key)
    assert head["ContentType"] == "video/mp4"
    assert head["Metadata"] == {
        "wan-task-id": wan_task_id,
        "wan-model": "wan2.6-t2v",
        "wan-seed": "42",
        "wan-size": "1280*720",
        "wan-duration": "2",
        "wan-billed-seconds": "2",
        "wan-request-sha256": request_sha256(run.xcom("generate")["request"]),
    }
    assert s3.get_object_tagging(Bucket=bucket, Key=key)["TagSet"] == [{"Key": "wan-sha256", "Value": sha256}]
    sidecar = json.loads(read_object(s3, bucket, f"{key}.json"))
    assert sidecar["request"]["input"]["prompt"] == "一只红狐狸在雪中奔跑"
    assert sidecar["wan_task"]["status"] == "SUCCEEDED"
    assert "Signature" not in sidecar["wan_task"]["video_url"]
    assert sidecar["object"] == {"bucket": bucket, "key": key, "size": len(video), "sha256": sha256}
    assert sidecar["billed_seconds"] == run.xcom("generate")["billed_seconds"] == 2  # the same figure
    assert sidecar["cost"] == run.xcom("generate")["cost"]
    assert wan_emulator.video_requests_with_authorization == []
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_asset_event_is_recorded_through_the_alias(
    wan_airflow: WanAirflow, wan: WanHook, wan_emulator: WanEmulator, bucket: str
) -> None:
    from airflow.models.asset import AssetAliasModel, AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    wan_task_id = finished_task(wan, wan_emulator)
    with new_dag() as dag:
        copy_operator(bucket, wan_task_id)

    wan_airflow.run(dag)

    with create_session() as session:
        event = session.scalars(
            select(AssetEvent)
            .join(AssetModel, AssetModel.id == AssetEvent.asset_id)
            .where(AssetModel.uri == f"s3://{bucket}/{KEY}")
        ).one()
        assert (event.source_dag_id, event.source_task_id) == (dag.dag_id, "copy")
        assert event.extra["wan_task_id"] == wan_task_id
        assert [alias.name for alias in event.source_aliases] == ["wan_videos"]
        alias = session.scalars(select(AssetAliasModel).where(AssetAliasModel.name == "wan_videos")).one()
        assert f"s3://{bucket}/{KEY}" in {asset.uri for asset in alias.assets}


def test_rerun_finds_the_video_there_and_downloads_nothing(
    wan_airflow: WanAirflow, wan: WanHook, wan_emulator: WanEmulator, s3: Any, bucket: str
) -> None:
    wan_task_id = finished_task(wan, wan_emulator)
    with new_dag() as dag:
        copy_operator(bucket, wan_task_id)
    first = wan_airflow.run(dag).xcom("copy")
    downloads = len(video_gets(wan_emulator))
    modified = s3.head_object(Bucket=bucket, Key=KEY)["LastModified"]

    again = wan_airflow.run(dag).xcom("copy")

    assert downloads == 1
    assert len(video_gets(wan_emulator)) == 1
    assert s3.head_object(Bucket=bucket, Key=KEY)["LastModified"] == modified
    assert again["copied"] is False
    assert again["sha256"] == first["sha256"]


def test_rerun_after_the_task_expired_still_finds_the_video(
    wan: WanHook, wan_emulator: WanEmulator, bucket: str
) -> None:
    wan_task_id = finished_task(wan, wan_emulator)
    run_copy(copy_operator(bucket, wan_task_id))
    wan_emulator.advance_clock(25 * 3600)  # the task and its URL are gone from the service now

    assert run_copy(copy_operator(bucket, wan_task_id))["copied"] is False


def test_other_object_at_the_key_is_a_conflict_unless_replace(
    wan: WanHook, wan_emulator: WanEmulator, s3: Any, bucket: str
) -> None:
    wan_task_id = finished_task(wan, wan_emulator)
    s3.put_object(Bucket=bucket, Key=KEY, Body=b"someone else's file")

    with pytest.raises(
        AirflowFailException, match=f"s3://{bucket}/{KEY} already holds an object not written"
    ):
        run_copy(copy_operator(bucket, wan_task_id))
    assert video_gets(wan_emulator) == []  # refused before downloading
    assert read_object(s3, bucket, KEY) == b"someone else's file"

    result = run_copy(copy_operator(bucket, wan_task_id, replace=True))
    assert result["copied"] is True
    assert read_object(s3, bucket, KEY) == served_video(wan, wan_task_id)


def test_another_tasks_video_at_the_key_is_a_conflict(
    wan: WanHook, wan_emulator: WanEmulator, bucket: str
) -> None:
    first = finished_task(wan, wan_emulator)
    second = finished_task(wan, wan_emulator, prompt="a grey wolf")
    run_copy(copy_operator(bucket, first))

    with pytest.raises(AirflowFailException, match=f"already holds the video of Wan task {first}"):
        run_copy(copy_operator(bucket, second))


def test_download_cut_short_leaves_nothing(
    wan: WanHook, wan_emulator: WanEmulator, s3: Any, bucket: str
) -> None:
    wan_task_id = finished_task(wan, wan_emulator)
    wan_emulator.set_faults("video", cut_video_at=10_000)  # every answer breaks off after 10 kB

    with pytest.raises(DownloadInterrupted, match="failed 2 times"):  # retryable: Airflow may try again
        run_copy(copy_operator(bucket, wan_task_id, download_retries=1))

    assert [entry["status"] for entry in video_gets(wan_emulator)] == [200, 206]  # the second one resumed
    assert_nothing_written(s3, bucket)


def test_download_cut_short_is_resumed_with_range(
    wan: WanHook, wan_emulator: WanEmulator, s3: Any, bucket: str
) -> None:
    wan_task_id = finished_task(wan, wan_emulator)
    video = served_video(wan, wan_task_id)
    wan_emulator.set_faults("video", cut_video_at=len(video) * 2 // 3)

    result = run_copy(copy_operator(bucket, wan_task_id))

    assert result["sha256"] == hashlib.sha256(video).hexdigest()
    assert read_object(s3, bucket, KEY) == video
    assert [entry["status"] for entry in video_gets(wan_emulator)][-2:] == [200, 206]


def test_video_over_the_size_cap_is_refused_before_download(
    wan: WanHook, wan_emulator: WanEmulator, s3: Any, bucket: str
) -> None:
    wan_task_id = finished_task(wan, wan_emulator)

    with pytest.raises(AirflowFailException, match="over max_bytes=1000; raise max_bytes") as refused:
        run_copy(copy_operator(bucket, wan_task_id, max_bytes=1000))
    assert isinstance(refused.value, WanTaskFinalError)  # one exception root: a WanError, and final
    assert_nothing_written(s3, bucket)


@pytest.mark.parametrize(
    ("prompt", "expected"),
    [
        ("a fox [[blocked]]", "ended FAILED (DataInspectionFailed: "),
        (None, "the service does not know it: older than 24 hours"),
    ],
)
def test_task_without_a_video_fails_for_good(
    wan: WanHook,
    wan_emulator: WanEmulator,
    s3: Any,
    bucket: str,
    prompt: str | None,
    expected: str,
) -> None:
    wan_task_id = finished_task(wan, wan_emulator, prompt) if prompt else "never-created-0001"

    with pytest.raises(AirflowFailException, match=re.escape(expected)):  # Airflow does not retry these
        run_copy(copy_operator(bucket, wan_task_id))
    assert video_gets(wan_emulator) == []
    assert_nothing_written(s3, bucket)


def test_running_task_is_not_copied(bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with WanEmulator(task_seconds=3600, prerender=False) as slow:  # stays RUNNING however slow this test
        connection = {"conn_type": "wan", "host": slow.base_url, "password": slow.api_key}
        monkeypatch.setenv("AIRFLOW_CONN_WAN_SLOW", json.dumps(connection))
        request = VideoRequest(model="wan2.6-t2v", prompt="a slow fox", size="1280*720", duration=2)
        task = WanHook("wan_slow").create_task(request)

        with pytest.raises(
            AirflowFailException, match=f"Wan task {task.task_id} has no video to copy: it is still"
        ):
            run_copy(copy_operator(bucket, task.task_id, wan_conn_id="wan_slow"))


def test_generation_of_another_task_is_refused(wan: WanHook, wan_emulator: WanEmulator, bucket: str) -> None:
    wan_task_id = finished_task(wan, wan_emulator)
    with pytest.raises(AirflowFailException, match="Invalid generation='other-task'"):
        run_copy(copy_operator(bucket, wan_task_id, generation={"task_id": "other-task", "request": {}}))


@pytest.mark.parametrize(
    ("options", "parameter"),
    [
        ({"allowed_hosts": "cdn.example.com"}, "allowed_hosts"),
        ({"allowed_hosts": ["https://cdn.example.com/"]}, "allowed_hosts"),
        ({"max_bytes": 0}, "max_bytes"),
        ({"max_bytes": 5 * 1024**4 + 1}, "max_bytes"),  # over S3's largest object
        ({"download_retries": -1}, "download_retries"),
        ({"download_retries": True}, "download_retries"),
    ],
)
def test_bad_arguments_fail_when_the_dag_is_parsed(options: dict[str, Any], parameter: str) -> None:
    with pytest.raises(WanValidationError, match=f"Invalid {parameter}="):
        copy_operator("bucket", "task-1", **options)


def test_bad_task_id_is_refused_before_any_call(wan_emulator: WanEmulator, bucket: str) -> None:
    with pytest.raises(AirflowFailException, match=r"Invalid wan_task_id='\.\./etc'"):
        run_copy(copy_operator(bucket, "../etc"))
    assert wan_emulator.request_log == []


def test_module_import_stays_light() -> None:
    """Parsing a DAG that uses the operator loads nothing heavy beyond what Airflow itself loads."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "heavy = ('boto3', 'botocore', 'requests', 'urllib3', 'aiohttp', 'av')\n"
        "from airflow.sdk import BaseOperator\n"
        "before = {m for m in heavy if m in sys.modules}\n"
        "import airflow_provider_wan.transfers.wan_to_s3\n"
        "print(sorted(m for m in heavy if m in sys.modules and m not in before))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_openlineage_reports_the_written_object(wan: WanHook, wan_emulator: WanEmulator, bucket: str) -> None:
    from airflow.providers.openlineage.extractors.base import DefaultExtractor

    operator = copy_operator(bucket, wan_task_id=finished_task(wan, wan_emulator))
    run_copy(operator)

    lineage = DefaultExtractor(operator).extract_on_complete(task_instance=None)

    assert lineage is not None
    assert [(dataset.namespace, dataset.name) for dataset in lineage.outputs] == [(f"s3://{bucket}", KEY)]


def test_openlineage_run_facet_carries_the_generations_billing(
    wan: WanHook, wan_emulator: WanEmulator, bucket: str
) -> None:
    from airflow.providers.openlineage.extractors.base import DefaultExtractor

    wan_task_id = finished_task(wan, wan_emulator)
    generation = {
        "task_id": wan_task_id,
        "request": {"model": "wan2.6-t2v", "input": {"prompt": "a red fox in the snow"}, "parameters": {}},
        "billed_seconds": 2,
        "cost": {"amount": 0.3, "currency": "USD"},
    }
    operator = copy_operator(bucket, wan_task_id=wan_task_id, generation=generation)
    run_copy(operator)

    facet = DefaultExtractor(operator).extract_on_complete(task_instance=None).run_facets["wan"]  # type: ignore[union-attr]

    assert (facet.wanTaskId, facet.model, facet.billedSeconds) == (wan_task_id, "wan2.6-t2v", 2)
    assert (facet.cost, facet.currency) == (0.3, "USD")


def test_billed_seconds_come_from_the_service_when_no_generation_gives_them(
    wan: WanHook, wan_emulator: WanEmulator, s3: Any, bucket: str
) -> None:
    wan_task_id = finished_task(wan, wan_emulator)
    result = run_copy(copy_operator(bucket, wan_task_id=wan_task_id))

    assert result["billed_seconds"] == 2  # the emulator's usage
    assert s3.head_object(Bucket=bucket, Key=KEY)["Metadata"]["wan-billed-seconds"] == "2"


def test_key_may_be_a_full_s3_url_and_a_bucket_is_needed_otherwise(
    wan: WanHook, wan_emulator: WanEmulator, s3: Any, bucket: str
) -> None:
    wan_task_id = finished_task(wan, wan_emulator)
    whole = WanVideoToS3Operator(task_id="copy", wan_task_id=wan_task_id, s3_key=f"s3://{bucket}/{KEY}")
    no_bucket = WanVideoToS3Operator(task_id="copy", wan_task_id=wan_task_id, s3_key=KEY)

    assert run_copy(whole)["s3_uri"] == f"s3://{bucket}/{KEY}"
    with pytest.raises(AirflowFailException, match="Invalid s3_bucket=None: a bucket, or a full s3:// URL"):
        run_copy(no_bucket)


def test_missing_bucket_fails_naming_s3_bucket_before_downloading(
    wan: WanHook, wan_emulator: WanEmulator, s3: Any
) -> None:
    wan_task_id = finished_task(wan, wan_emulator)

    with pytest.raises(
        AirflowFailException,
        match=r"Invalid s3_bucket='no-such-bucket': the bucket does not exist \(S3 NoSuchBucket",
    ):
        run_copy(copy_operator("no-such-bucket", wan_task_id))
    assert video_gets(wan_emulator) == []


def test_destination_check_before_generation_bills_nothing_for_a_missing_bucket(
    wan_airflow: WanAirflow, wan_emulator: WanEmulator, wan_connection: str, s3: Any
) -> None:
    with new_dag() as dag:
        check = WanS3DestinationCheckOperator(task_id="check_s3_bucket", s3_bucket="{{ params.bucket }}")
        generate = WanTextToVideoOperator(
            task_id="generate", model="wan2.6-t2v", prompt="a fox", size="1280*720", duration=2
        )
        check >> generate

    with pytest.raises(WanDagRunFailed, match="Invalid s3_bucket='missing-videos'") as failed:
        wan_airflow.run(dag, conf={"bucket": "missing-videos"})

    assert failed.value.task_id == "check_s3_bucket"
    assert failed.value.run.ti("check_s3_bucket").try_number == 1  # final: no retry finds the bucket
    assert failed.value.run.ti("generate").state == "upstream_failed"
    assert wan_emulator.create_count(include_refused=True) == 0


def test_destination_check_writes_nothing_to_a_good_bucket(
    wan_airflow: WanAirflow, s3: Any, bucket: str
) -> None:
    with new_dag() as dag:
        WanS3DestinationCheckOperator(task_id="check_s3_bucket", s3_bucket=bucket, retries=0)

    assert wan_airflow.run(dag).xcom("check_s3_bucket") == f"s3://{bucket}/wan/"
    assert_nothing_written(s3, bucket)


@pytest.mark.parametrize(
    ("run_id", "expected"),
    [
        ("manual__2026-12-01T07:23:45.578950+00:00", "manual__2026-12-01T072345.578950Z"),
        ("scheduled__2026-12-01T00:00:00+00:00", "scheduled__2026-12-01T000000Z"),
        ("backfill_run-7", "backfill_run-7"),
    ],
)
def test_run_ids_become_readable_s3_safe_key_parts(run_id: str, expected: str) -> None:
    assert s3_safe(run_id) == expected


def test_other_unsafe_run_ids_stay_apart() -> None:
    first, second = s3_safe("my run+1"), s3_safe("my run 1")
    assert re.fullmatch(r"[A-Za-z0-9._-]+", first), first
    assert first.startswith("my-run-1-")
    assert first != second


class _S3Refusing(http.server.BaseHTTPRequestHandler):
    """An S3 endpoint that answers every call with the error in the class attributes."""

    status = 403
    code = "AccessDenied"

    def do_POST(self) -> None:
        body = f"<Error><Code>{self.code}</Code><Message>refused here</Message></Error>".encode()
        self.send_response(self.status)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.mark.parametrize(
    ("status", "code", "final"),
    [
        (403, "AccessDenied", True),
        (400, "KMS.DisabledException", True),
        (503, "SlowDown", False),
        (500, "InternalError", False),
    ],
)
def test_destination_check_fails_for_good_only_on_refusals(status: int, code: str, final: bool) -> None:
    from botocore.config import Config
    from botocore.exceptions import ClientError

    handler = type("Handler", (_S3Refusing,), {"status": status, "code": code})
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        client = s3_client(
            f"http://127.0.0.1:{server.server_address[1]}",
            config=Config(retries={"max_attempts": 1, "mode": "standard"}),
        )
        with pytest.raises(WanValidationError if final else ClientError) as raised:
            check_destination(client, "videos", "wan/probe", {})
        server.shutdown()

    if final:
        assert str(raised.value).startswith("Invalid s3_bucket='videos': ")
        assert f"(S3 {code} on CreateMultipartUpload for key wan/probe: refused here)" in str(raised.value)


def test_destination_check_needs_a_bucket_at_parse_time() -> None:
    with pytest.raises(WanValidationError, match="Invalid s3_bucket='': the bucket the videos go to"):
        WanS3DestinationCheckOperator(task_id="check", s3_bucket="")


@pytest.mark.parametrize("deferrable", [True, False])
def test_in_a_mapped_task_group_each_copy_takes_its_own_rows_generation(
    wan_airflow: WanAirflow,
    wan_connection: str,
    wan_emulator: WanEmulator,
    s3: Any,
    bucket: str,
    deferrable: bool,
) -> None:
    from airflow.sdk import task_group

    prompts = [f"a paper lantern drifts, take {n}" for n in range(3)]
    prompts[1] += " [[blocked]]"  # refused by moderation: its own row fails, the others land
    with new_dag() as dag:

        @task_group
        def video(prompt: str) -> None:
            generate = WanTextToVideoOperator(
                task_id="generate",
                model="wan2.6-t2v",
                prompt=prompt,
                size="1280*720",
                duration=2,
                deferrable=deferrable,
                poll_interval=0.05,
                max_poll_interval=0.2,
            )
            WanVideoToS3Operator(task_id="copy", generation=generate.output, s3_bucket=bucket)

        video.expand(prompt=prompts)

    run = wan_airflow.run_unchecked(dag)

    states = {key: ti.state for key, ti in run.task_instances.items()}
    assert states[("video.generate", 1)] == "failed"
    assert states[("video.copy", 1)] == "upstream_failed"
    for row in (0, 2):
        generated = run.xcom("video.generate", map_index=row)
        copied = run.xcom("video.copy", map_index=row)
        assert generated["request"]["input"]["prompt"] == prompts[row]
        assert copied["wan_task_id"] == generated["task_id"]  # its own row's video, not the list
        head = s3.head_object(Bucket=bucket, Key=copied["key"])
        assert head["Metadata"]["wan-task-id"] == generated["task_id"]
    assert [wan_emulator.create_count(prompt=p, include_refused=True) for p in prompts] == [1, 1, 1]


def test_generation_alone_names_the_task_and_a_list_of_results_is_refused(
    wan: WanHook, wan_emulator: WanEmulator, s3: Any, bucket: str
) -> None:
    wan_task_id = finished_task(wan, wan_emulator)
    generation = {"task_id": wan_task_id, "request": {"model": "wan2.6-t2v", "input": {"prompt": "a fox"}}}

    copied = run_copy(
        WanVideoToS3Operator(task_id="copy", generation=generation, s3_bucket=bucket, s3_key=KEY)
    )

    assert copied["wan_task_id"] == wan_task_id
    assert s3.head_object(Bucket=bucket, Key=KEY)["Metadata"]["wan-request-sha256"] == request_sha256(
        generation["request"]
    )
    every_row = WanVideoToS3Operator(task_id="copy", generation=[generation, generation], s3_bucket=bucket)
    with pytest.raises(AirflowFailException, match="Invalid generation='a list of 2 results': one task's"):
        run_copy(every_row)
    with pytest.raises(WanValidationError, match="Invalid wan_task_id=None: a Wan task id"):
        WanVideoToS3Operator(task_id="copy", s3_bucket=bucket)


def test_max_bytes_goes_up_to_s3s_largest_object() -> None:
    from airflow_provider_wan.transfers.wan_to_s3 import WanVideoToS3Operator

    tib = 1024**4
    big = WanVideoToS3Operator(task_id="copy_big", wan_task_id="t-1", s3_bucket="b", max_bytes=6 * 1024**3)
    assert big.landing_options.max_bytes == 6 * 1024**3  # over 5 GiB: sealing copies nothing any more
    with pytest.raises(WanValidationError, match=r"Invalid max_bytes=.*S3's largest object"):
        WanVideoToS3Operator(task_id="copy_huge", wan_task_id="t-1", s3_bucket="b", max_bytes=5 * tib + 1)
