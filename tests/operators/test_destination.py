"""A generation operator's own ``destination``: one task per video, landed where the user says, decided
before anything is billed; run by Airflow's task runner against the emulator and the moto S3 server."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from typing import Any

import pytest
import requests
from airflow.sdk import DAG

from airflow_provider_wan.api import WanValidationError
from airflow_provider_wan.emulator import WanEmulator
from airflow_provider_wan.hooks.wan import WanHook
from airflow_provider_wan.operators.wan import WanTextToVideoOperator
from airflow_provider_wan.testing.dag_runs import WanAirflow, WanDagRun
from airflow_provider_wan.testing.s3 import WanS3
from airflow_provider_wan.transfers.video_metadata import request_sha256
from tests.operators.dag_runs import AIRFLOW_3_3_PLUS, FAST
from tests.transfers.helpers import read_object
from tests.triggers.helpers import log_text

BUCKET = "boat-videos"
KEY = "boats/paper-boat.mp4"
DESTINATION = f"s3://{BUCKET}/{KEY}"
VIDEO = {"model": "wan2.6-t2v", "size": "1280*720", "duration": 2}


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> Callable[[], str]:
    """Everything logged so far, read when called."""
    return lambda: log_text(caplog, capfd)


@pytest.fixture
def bucket(wan_s3: WanS3) -> str:
    return wan_s3.create_bucket(BUCKET)


def landing_dag(dag_id: str, **arguments: Any) -> DAG:
    """One ``generate`` task that lands its video (``DESTINATION`` unless given)."""
    arguments = {
        **FAST,
        **VIDEO,
        "prompt": "a paper boat in the rain",
        "destination": DESTINATION,
        **arguments,
    }
    with DAG(dag_id, schedule=None, start_date=dt.datetime(2026, 1, 1)) as dag:
        WanTextToVideoOperator(task_id="generate", **arguments)
    return dag


def signed_url(wan_task_id: str) -> str:
    """The video's signed URL, as the service gives it now."""
    url = WanHook("wan_default").get_task(wan_task_id).video_url
    assert url is not None
    return url


def served_video(wan_task_id: str) -> bytes:
    """The video as the service's own signed URL serves it."""
    return requests.get(signed_url(wan_task_id), timeout=10).content


def creates(wan_emulator: WanEmulator) -> int:
    return wan_emulator.create_count(include_refused=True)


@pytest.mark.parametrize("deferrable", [True, False])
def test_the_task_lands_its_video_verified_with_metadata_sidecar_and_asset(
    wan_airflow: WanAirflow,
    wan_connection: str,
    wan_emulator: WanEmulator,
    wan_s3: WanS3,
    bucket: str,
    dag_id: str,
    logs: Callable[[], str],
    deferrable: bool,
) -> None:
    run = wan_airflow.run(landing_dag(dag_id, deferrable=deferrable, write_sidecar=True))

    result = run.xcom("generate")
    video = read_object(wan_s3.client, BUCKET, KEY)
    assert result["landed"] == "copied"
    assert (result["s3_uri"], result["bucket"], result["key"]) == (DESTINATION, BUCKET, KEY)
    assert (result["size"], result["sha256"]) == (len(video), hashlib.sha256(video).hexdigest())
    assert result["sidecar_key"] == f"{KEY}.json"
    assert result["status"] == "SUCCEEDED"
    assert result["billed_seconds"] == 2
    assert creates(wan_emulator) == 1
    head = wan_s3.client.head_object(Bucket=BUCKET, Key=KEY)
    assert head["ContentType"] == "video/mp4"
    assert head["Metadata"]["wan-task-id"] == result["task_id"]
    assert head["Metadata"]["wan-request-sha256"] == request_sha256(result["request"])
    tags = wan_s3.client.get_object_tagging(Bucket=BUCKET, Key=KEY)["TagSet"]
    assert tags == [{"Key": "wan-sha256", "Value": result["sha256"]}]
    sidecar = json.loads(read_object(wan_s3.client, BUCKET, f"{KEY}.json"))
    assert sidecar["request"] == result["request"]
    assert sidecar["object"]["sha256"] == result["sha256"]
    assert wan_s3.client.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
    # no key and no signed URL anywhere the user reads
    assert "Signature=" in signed_url(result["task_id"])  # what a signed URL carries
    for text in (json.dumps(result), json.dumps(head["Metadata"]), json.dumps(sidecar), logs()):
        assert wan_emulator.api_key not in text
        assert "Signature=" not in text
        assert "OSSAccessKeyId=" not in text
    assert wan_emulator.video_requests_with_authorization == []
    assert alias_event_uris("wan_videos", dag_id) == [DESTINATION]


def alias_event_uris(alias: str, dag_id: str) -> list[str]:
    """The asset URIs of the events ``dag_id`` recorded through an asset alias."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        events = session.scalars(select(AssetEvent).where(AssetEvent.source_dag_id == dag_id)).all()
        found = []
        for event in events:
            if alias in [a.name for a in event.source_aliases]:
                found.append(session.get(AssetModel, event.asset_id).uri)
        return found


def test_a_rerun_of_the_same_request_makes_nothing_even_with_a_rotated_key(
    wan_airflow: WanAirflow,
    wan_connection: str,
    wan_emulator: WanEmulator,
    wan_s3: WanS3,
    bucket: str,
    dag_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dag = landing_dag(dag_id, write_sidecar=True)
    first = wan_airflow.run(dag).xcom("generate")
    modified = wan_s3.client.head_object(Bucket=BUCKET, Key=KEY)["LastModified"]
    connection = {"conn_type": "wan", "host": wan_emulator.base_url, "password": "sk-rotated-key"}
    monkeypatch.setenv("AIRFLOW_CONN_WAN_DEFAULT", json.dumps(connection))  # a key the emulator refuses
    calls = len(wan_emulator.request_log)

    again = wan_airflow.run(dag).xcom("generate")

    assert len(wan_emulator.request_log) == calls  # not one call to Wan: nothing to make
    assert creates(wan_emulator) == 1
    assert wan_s3.client.head_object(Bucket=BUCKET, Key=KEY)["LastModified"] == modified
    assert again["landed"] == "skipped"
    assert (again["s3_uri"], again["sha256"], again["size"]) == (DESTINATION, first["sha256"], first["size"])
    assert again["billed_seconds"] == 0  # nothing billed by this run
    assert again["cost"] is None
    assert again["request"] == first["request"]
    assert again["made_by"] == {
        "task_id": first["task_id"],
        "model": "wan2.6-t2v",
        "size": "1280*720",
        "duration": "2",
        "billed_seconds": "2",
        "cost": first["cost"],
    }
    assert again["task_id"] == first["task_id"]


@pytest.mark.parametrize(
    ("holder", "named"),
    [
        ("another request", "the video of Wan task"),
        ("someone else", "an object not written by this provider"),
    ],
)
def test_a_key_holding_something_else_fails_the_task_before_anything_is_billed(
    wan_airflow: WanAirflow,
    wan_connection: str,
    wan_emulator: WanEmulator,
    wan_s3: WanS3,
    bucket: str,
    dag_id: str,
    holder: str,
    named: str,
) -> None:
    if holder == "another request":
        wan_airflow.run(landing_dag(f"{dag_id}_first", prompt="a red kite over the dunes"))
    else:
        wan_s3.client.put_object(Bucket=BUCKET, Key=KEY, Body=b"someone else's file")
    held = read_object(wan_s3.client, BUCKET, KEY)
    before = creates(wan_emulator)

    run = wan_airflow.run_unchecked(landing_dag(dag_id))

    ti = run.ti("generate")
    assert (ti.state, ti.try_number) == ("failed", 1)  # final: no retry frees the key
    error = str(run.errors[("generate", -1)])
    assert f"Invalid destination='{DESTINATION}'" in error
    assert named in error
    assert "if_exists='replace'" in error
    assert creates(wan_emulator) == before
    assert read_object(wan_s3.client, BUCKET, KEY) == held


def test_replace_generates_and_overwrites(
    wan_airflow: WanAirflow,
    wan_connection: str,
    wan_emulator: WanEmulator,
    wan_s3: WanS3,
    bucket: str,
    dag_id: str,
) -> None:
    wan_s3.client.put_object(Bucket=BUCKET, Key=KEY, Body=b"someone else's file")

    result = wan_airflow.run(landing_dag(dag_id, if_exists="replace")).xcom("generate")

    assert result["landed"] == "copied"
    assert creates(wan_emulator) == 1
    assert read_object(wan_s3.client, BUCKET, KEY) == served_video(result["task_id"])


def test_a_missing_bucket_fails_naming_destination_before_anything_is_billed(
    wan_airflow: WanAirflow, wan_connection: str, wan_emulator: WanEmulator, wan_s3: WanS3, dag_id: str
) -> None:
    run = wan_airflow.run_unchecked(landing_dag(dag_id, destination="s3://no-such-videos/a.mp4"))

    assert (run.ti("generate").state, run.ti("generate").try_number) == ("failed", 1)
    assert "Invalid destination='s3://no-such-videos/a.mp4': the bucket does not exist" in str(
        run.errors[("generate", -1)]
    )
    assert creates(wan_emulator) == 0


@pytest.mark.parametrize(
    ("arguments", "parameter"),
    [
        ({"destination": "videos/a.mp4"}, "destination"),
        ({"destination": "s3://videos/"}, "destination"),
        ({"destination": "s3:///a.mp4"}, "destination"),
        ({"destination": DESTINATION, "wait_for_completion": False}, "destination"),
        ({"if_exists": "overwrite"}, "if_exists"),
        ({"max_bytes": 0}, "max_bytes"),
        ({"allowed_hosts": "cdn.example.com"}, "allowed_hosts"),
    ],
)
def test_bad_landing_arguments_fail_when_the_dag_is_parsed(arguments: dict[str, Any], parameter: str) -> None:
    with pytest.raises(WanValidationError, match=f"Invalid {parameter}="):
        WanTextToVideoOperator(task_id="generate", prompt="a boat", **{**VIDEO, **arguments})


@pytest.mark.parametrize("deferrable", [True, False])
def test_a_retry_after_a_failed_landing_lands_the_same_task_without_a_second_create(
    wan_airflow: WanAirflow,
    wan_connection: str,
    wan_emulator: WanEmulator,
    wan_s3: WanS3,
    bucket: str,
    dag_id: str,
    logs: Callable[[], str],
    deferrable: bool,
) -> None:
    wan_emulator.set_faults("video", cut_video_at=10_000)  # every download breaks off: the landing fails
    dag = landing_dag(
        dag_id,
        deferrable=deferrable,
        download_retries=0,
        retries=1,
        retry_delay=dt.timedelta(0),
        on_retry_callback=lambda context: wan_emulator.clear_faults(),
    )

    run = wan_airflow.run(dag)

    result = run.xcom("generate")
    assert run.ti("generate").try_number == 2
    assert creates(wan_emulator) == 1
    assert result["landed"] == "copied"
    assert read_object(wan_s3.client, BUCKET, KEY) == served_video(result["task_id"])
    logged = logs()
    if AIRFLOW_3_3_PLUS:
        assert f"Re-attaching to Wan task {result['task_id']} (SUCCEEDED) from an earlier try" in logged
    elif not deferrable:  # (3.1 resumes a deferred retry with the old success event: it lands that task)
        assert "A retry without a task state store" in logged
    assert wan_s3.client.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []


def batch_dag(dag_id: str, rows: list[dict[str, Any]], **arguments: Any) -> DAG:
    with DAG(dag_id, schedule=None, start_date=dt.datetime(2026, 1, 1)) as dag:
        WanTextToVideoOperator.partial(task_id="generate", **{**FAST, **VIDEO, **arguments}).expand_kwargs(
            rows
        )
    return dag


def batch_rows(blocked: int | None = None) -> list[dict[str, Any]]:
    """Five products, each its own key; the row ``blocked`` is refused by moderation."""
    return [
        {
            "prompt": f"product {n} turns on a stand" + (" [[blocked]]" if n == blocked else ""),
            "destination": f"s3://{BUCKET}/products/SKU-{n}.mp4",
        }
        for n in range(5)
    ]


def failed_rows(run: WanDagRun) -> list[int]:
    return [index for (task_id, index), ti in run.task_instances.items() if ti.state != "success"]


@pytest.mark.parametrize("deferrable", [True, False])
def test_a_mapped_batch_lands_every_row_but_the_refused_one_and_a_rerun_makes_nothing(
    wan_airflow: WanAirflow,
    wan_connection: str,
    wan_emulator: WanEmulator,
    wan_s3: WanS3,
    bucket: str,
    dag_id: str,
    deferrable: bool,
) -> None:
    rows = batch_rows(blocked=2)
    dag = batch_dag(dag_id, rows, deferrable=deferrable)

    run = wan_airflow.run_unchecked(dag)

    assert failed_rows(run) == [2]
    assert [run.ti("generate", n).rendered_map_index for n in range(5)] == [
        f"products/SKU-{n}.mp4" for n in range(5)
    ]
    stored = wan_s3.client.list_objects_v2(Bucket=BUCKET, Prefix="products/")["Contents"]
    assert sorted(obj["Key"] for obj in stored) == [f"products/SKU-{n}.mp4" for n in (0, 1, 3, 4)]
    for n in (0, 1, 3, 4):
        result = run.xcom("generate", map_index=n)
        assert result["landed"] == "copied"
        assert hashlib.sha256(wan_s3.get(result["s3_uri"])).hexdigest() == result["sha256"]
    assert [wan_emulator.create_count(prompt=row["prompt"], include_refused=True) for row in rows] == [1] * 5

    again = wan_airflow.run_unchecked(dag)

    assert failed_rows(again) == [2]  # the refused prompt is sent again (a refusal bills nothing)
    assert [wan_emulator.create_count(prompt=row["prompt"], include_refused=True) for row in rows] == [
        1,
        1,
        2,
        1,
        1,
    ]
    assert [again.xcom("generate", map_index=n)["landed"] for n in (0, 1, 3, 4)] == ["skipped"] * 4


def test_a_mapped_batch_without_destinations_reads_as_its_prompts(
    wan_airflow: WanAirflow, wan_connection: str, wan_emulator: WanEmulator, dag_id: str
) -> None:
    long_prompt = "a very long prompt about a lighthouse " * 4
    dag = batch_dag(dag_id, [{"prompt": "a short prompt"}, {"prompt": long_prompt}])

    run = wan_airflow.run(dag)

    labels = [run.ti("generate", n).rendered_map_index for n in range(2)]
    assert labels[0] == "a short prompt"
    assert labels[1].startswith("a very long prompt about a lighthouse a very")
    assert labels[1].endswith("…")
    assert len(labels[1]) == 60
