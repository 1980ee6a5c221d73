"""The image-, keyframes- and reference-to-video operators, run by Airflow's task runner (``dag.test()``)
against the emulator over HTTP, their inputs in the kit's S3 server (moto on loopback)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import fields
from typing import Any

import pytest
from airflow.sdk import DAG

from airflow_provider_wan.api import CREATE_PATH, KF2V_PATH, WanValidationError, pixels_from_input
from airflow_provider_wan.emulator import WanEmulator
from airflow_provider_wan.operators.wan import WanImageToVideoOperator
from airflow_provider_wan.testing.dag_runs import WanAirflow
from airflow_provider_wan.testing.s3 import WanS3
from airflow_provider_wan.transfers.wan_to_s3 import WanVideoToS3Operator
from tests.operators.dag_runs import (
    check_re_attached_after_the_worker_died,
    killed_between_create_and_state_write,
    run_dag,
    single_task_dag,
    xcom_of,
)
from tests.operators.families import BUCKET, BY_NAME, FAMILIES, PORTRAIT, Family, png, s3_uris, upload_inputs
from tests.operators.test_wan_operator import rendered_fields
from tests.triggers.helpers import log_text

IDS = [family.name for family in FAMILIES]


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> Callable[[], str]:
    """What our code logged so far (the moto server's own access log, which shows the S3 requests
    it serves, left out: it is the test's S3, not a log of ours)."""
    return lambda: "\n".join(line for line in log_text(caplog, capfd).splitlines() if "werkzeug" not in line)


@pytest.fixture
def inputs(wan_s3: WanS3) -> WanS3:
    upload_inputs(wan_s3)
    return wan_s3


@pytest.mark.parametrize("deferrable", [True, False], ids=["deferred", "in-worker"])
@pytest.mark.parametrize("family", FAMILIES, ids=IDS)
def test_family_runs_end_to_end_with_s3_inputs_presigned_and_shown_as_uris(
    wan_emulator: WanEmulator,
    wan_connection: str,
    inputs: WanS3,
    dag_id: str,
    logs: Callable[[], str],
    family: Family,
    deferrable: bool,
) -> None:
    ti = run_dag(single_task_dag(dag_id, family.operator, deferrable=deferrable, **family.kwargs()))[
        ("generate", -1)
    ]

    result = xcom_of(ti)
    sent = wan_emulator.task(result["task_id"])["body"]
    shown_uris = s3_uris(result["request"])
    sent_urls = [url for url in _strings(sent["input"]) if "Signature=" in url]
    creates = [r["path"] for r in wan_emulator.request_log if r["endpoint"] == "create"]
    assert ti.state == "success"
    assert wan_emulator.create_count() == 1
    assert len(creates) == 1
    assert creates[0].endswith(KF2V_PATH if family.name == "kf2v" else CREATE_PATH)
    assert result["status"] == "SUCCEEDED"
    assert result["model"] == family.kwargs()["model"]
    # the service got presigned http URLs of the moto server, in the s3:// URIs' places
    assert shown_uris == s3_uris(family.kwargs())
    assert len(sent_urls) == len(shown_uris)
    assert all(url.startswith(inputs.endpoint_url + f"/{BUCKET}/") for url in sent_urls)
    assert {**sent, "input": {}} == {**result["request"], "input": {}}  # the rest as sent
    # the emulator fetched the first picture through its presigned URL: the shape follows it
    if family.shaped_by_input:
        width, height = pixels_from_input(family.kwargs()["resolution"], PORTRAIT)
        output = wan_emulator.task(result["task_id"])["output"]
        assert (output["width"], output["height"]) == (width, height)
    assert result["billed_seconds"] == family.seconds
    # the signed URLs are in no log line, XCom value or rendered field: the URIs are
    rendered = json.dumps(rendered_fields(ti), default=str)
    for text in (logs(), json.dumps(result), rendered):
        assert "Signature=" not in text
        assert wan_emulator.api_key not in text
    assert all(uri in rendered for uri in shown_uris)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list):
        return [text for item in value for text in _strings(item)]
    return []


@pytest.mark.parametrize(
    ("family", "change", "parameter"),
    [
        ("i2v", {"duration": 10}, "duration"),  # wan2.2 makes 5 s only
        ("i2v", {"resolution": "720P", "model": "wan2.2-i2v-plus"}, "resolution"),
        ("i2v", {"media": [{"type": "first_frame", "url": "https://pictures.example/a.png"}]}, "media"),
        ("i2v", {"img_url": "https://pictures.example/a.mp4"}, "img_url"),
        ("i2v-media", {"media": [{"type": "last_frame", "url": "s3://pictures/last.png"}]}, "media"),
        ("i2v-media", {"img_url": "s3://pictures/first.png"}, "img_url"),
        ("kf2v", {"duration": 10}, "duration"),
        ("kf2v", {"template": "hanfu-1"}, "last_frame_url"),  # a template takes the first frame alone
        ("r2v", {"prompt": "character2 waves"}, "prompt"),  # one reference: only character1
        ("r2v", {"resolution": "720P"}, "resolution"),  # wan2.6 takes size
        ("r2v-media", {"ratio": "2:1"}, "ratio"),
        ("r2v-media", {"media": [{"type": "reference_image", "url": "s3://only-a-bucket"}]}, "media[0].url"),
    ],
)
def test_bad_request_is_refused_at_parse_naming_the_parameter(
    wan_emulator: WanEmulator, family: str, change: dict[str, Any], parameter: str
) -> None:
    case = BY_NAME[family]

    with pytest.raises(WanValidationError, match=re.escape(f"Invalid {parameter}=")) as refused:
        case.operator(task_id="generate", **{**case.kwargs(), **change})

    assert refused.value.parameter == parameter
    assert wan_emulator.create_count(include_refused=True) == 0


@pytest.mark.parametrize("family", FAMILIES, ids=IDS)
def test_templated_request_is_validated_after_rendering_and_fails_without_retry(
    wan_emulator: WanEmulator,
    wan_connection: str,
    dag_id: str,
    logs: Callable[[], str],
    family: Family,
) -> None:
    dag = single_task_dag(
        dag_id,
        family.operator,
        **{**family.kwargs(), "duration": "{{ params.seconds }}"},
        params={"seconds": 99},
        retries=2,
    )

    ti = run_dag(dag)[("generate", -1)]

    assert ti.state == "failed"
    assert ti.try_number == 1  # final: retrying renders the same bad value
    assert "Refused before anything was sent to Wan: Invalid duration=99" in logs()
    assert wan_emulator.create_count(include_refused=True) == 0


def test_an_unknown_model_is_sent_after_the_model_independent_checks(
    wan_emulator: WanEmulator, wan_connection: str, dag_id: str, logs: Callable[[], str]
) -> None:
    dag = single_task_dag(
        dag_id,
        BY_NAME["kf2v"].operator,
        model="wan9.9-kf2v-ultra",
        first_frame_url="https://pictures.example/first.png",
        retries=1,
    )

    ti = run_dag(dag)[("generate", -1)]

    assert "Unknown model 'wan9.9-kf2v-ultra'" in logs()
    assert ti.state == "failed"  # the service refuses the name; we did not
    assert [r["endpoint"] for r in wan_emulator.request_log].count("create") == 1
    with pytest.raises(WanValidationError, match="Invalid first_frame_url="):  # still checked
        BY_NAME["kf2v"].operator(task_id="t", model="wan9.9-kf2v-ultra", first_frame_url="ftp://a/b.png")


@pytest.mark.parametrize(
    ("family", "upload", "allowed"),
    [
        ("i2v", None, "an S3 object that exists"),
        ("kf2v", (b"\x89PNG" + bytes(10 * 1024 * 1024), "image/png"), "an image file of at most 10 MB"),
        ("r2v", (png(*PORTRAIT), "audio/mpeg"), "an image file (S3 says its Content-Type is audio/mpeg)"),
        ("i2v-media", (png(120, 90), "image/png"), "width and height from 240 to 8000 pixels"),
    ],
    ids=["missing", "too-large", "wrong-type", "too-small"],
)
def test_an_s3_input_the_service_cannot_take_fails_before_anything_is_sent(
    wan_emulator: WanEmulator,
    wan_connection: str,
    inputs: WanS3,
    dag_id: str,
    logs: Callable[[], str],
    family: str,
    upload: tuple[bytes, str] | None,
    allowed: str,
) -> None:
    if upload is not None:
        inputs.client.put_object(Bucket=BUCKET, Key="bad.png", Body=upload[0], ContentType=upload[1])
    case = BY_NAME[family]
    arguments = case.kwargs(
        lambda key: f"s3://{BUCKET}/bad.png" if key == "first.png" else f"s3://{BUCKET}/{key}"
    )
    dag = single_task_dag(dag_id, case.operator, **arguments, retries=1, retry_delay=dt.timedelta(0))

    ti = run_dag(dag)[("generate", -1)]

    logged = logs()
    assert ti.state == "failed"
    assert ti.try_number == 1  # final: the object is the same on a retry
    assert f"'s3://{BUCKET}/bad.png': {allowed}" in logged
    assert "Signature=" not in logged
    assert wan_emulator.create_count(include_refused=True) == 0


def test_a_family_operator_killed_between_create_and_state_write_re_attaches_on_retry(
    wan_emulator: WanEmulator,
    wan_connection: str,
    inputs: WanS3,
    dag_id: str,
    logs: Callable[[], str],
) -> None:
    family = BY_NAME["kf2v"]
    dag = single_task_dag(
        dag_id, family.operator, **family.kwargs(), **killed_between_create_and_state_write(wan_emulator)
    )

    result = check_re_attached_after_the_worker_died(dag, wan_emulator, logs)

    assert result["billed_seconds"] == family.seconds


def test_oss_inputs_are_sent_with_the_resolve_header(
    wan_emulator: WanEmulator, wan_connection: str, dag_id: str
) -> None:
    # The emulator refuses an oss:// input at create unless the header asks the service to resolve it.
    dag = single_task_dag(
        dag_id,
        BY_NAME["i2v"].operator,
        model="wan2.2-i2v-flash",
        img_url="oss://dashscope-instant/abc/first.png",
        resolution="480P",
    )

    ti = run_dag(dag)[("generate", -1)]

    assert ti.state == "success"
    assert xcom_of(ti)["request"]["input"]["img_url"] == "oss://dashscope-instant/abc/first.png"
    assert [r["status"] for r in wan_emulator.request_log if r["endpoint"] == "create"] == [200]


@pytest.mark.parametrize(
    ("operator", "arguments", "sent_as"),
    [
        (BY_NAME["i2v"].operator, {"model": "acme-i2v", "img_url": "https://p.example/a.png"}, "img_url"),
        (BY_NAME["i2v"].operator, {"model": "wan2.9-i2v"}, "media"),  # no input yet: by its version
        (BY_NAME["i2v"].operator, {"model": "wan2.4-i2v"}, "img_url"),
        (
            BY_NAME["r2v"].operator,
            {
                "model": "acme-r2v",
                "prompt": "Image 1",
                "media": [{"type": "reference_image", "url": "s3://b/a.png"}],
            },
            "media",
        ),
        (
            BY_NAME["r2v"].operator,
            {"model": "acme-r2v", "prompt": "character1", "reference_urls": ["s3://b/a.png"]},
            "reference_urls",
        ),
    ],
)
def test_an_unknown_model_speaks_the_protocol_of_its_inputs_or_version(
    operator: type[Any], arguments: dict[str, Any], sent_as: str
) -> None:
    task = operator(task_id="generate", **{**arguments, "duration": "{{ params.seconds }}"})

    assert sent_as in {field.name for field in fields(task.request_type())}
    other = (
        "media" if sent_as != "media" else ("img_url" if "i2v" in arguments["model"] else "reference_urls")
    )
    assert other not in {field.name for field in fields(task.request_type())}


def test_a_family_video_lands_in_s3_with_the_transfer_unchanged(
    wan_airflow: WanAirflow, wan_emulator: WanEmulator, wan_connection: str, inputs: WanS3, dag_id: str
) -> None:
    family = BY_NAME["i2v"]
    with DAG(dag_id, schedule=None, start_date=dt.datetime(2025, 1, 1)) as dag:
        generate = family.operator(
            task_id="generate", **family.kwargs(), poll_interval=0.05, max_poll_interval=0.2
        )
        WanVideoToS3Operator(
            task_id="copy",
            wan_task_id="{{ ti.xcom_pull('generate')['task_id'] }}",
            generation=generate.output,
            s3_bucket=BUCKET,
            write_sidecar=True,
        )

    run = wan_airflow.run(dag)

    copied = run.xcom("copy")
    head = inputs.client.head_object(Bucket=BUCKET, Key=copied["key"])
    sidecar = inputs.get(f"s3://{BUCKET}/{copied['sidecar_key']}").decode()
    assert copied["copied"] is True
    assert head["Metadata"]["wan-model"] == family.kwargs()["model"]
    assert json.loads(sidecar)["request"]["input"]["img_url"] == f"s3://{BUCKET}/first.png"
    assert "Signature=" not in sidecar


def test_mapped_over_s3_pictures_submits_one_presigned_task_each(
    wan_emulator: WanEmulator, wan_connection: str, inputs: WanS3, dag_id: str
) -> None:
    pictures = [f"s3://{BUCKET}/first.png", f"s3://{BUCKET}/last.png"]
    with DAG(dag_id, schedule=None, start_date=dt.datetime(2025, 1, 1), params={"mood": "calm"}) as dag:
        WanImageToVideoOperator.partial(
            task_id="generate",
            model="wan2.2-i2v-flash",
            prompt="a {{ params.mood }} pan across the product",
            resolution="480P",
            deferrable=True,
            poll_interval=0.05,
            max_poll_interval=0.2,
        ).expand(img_url=pictures)

    tis = run_dag(dag)

    results = [xcom_of(tis[("generate", index)]) for index in range(2)]
    sent = [wan_emulator.task(r["task_id"])["body"]["input"] for r in results]
    assert [r["request"]["input"]["img_url"] for r in results] == pictures
    assert [r["request"]["input"]["prompt"] for r in results] == ["a calm pan across the product"] * 2
    assert [url.split("?")[0] for url in (s["img_url"] for s in sent)] == [
        f"{inputs.endpoint_url}/{BUCKET}/first.png",
        f"{inputs.endpoint_url}/{BUCKET}/last.png",
    ]
    assert wan_emulator.create_count() == 2
