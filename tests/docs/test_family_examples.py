"""The image, keyframe and reference pages' examples (``docs/examples/media_families.py``), run as shown:
real pictures and a voice file at the ``s3://`` keys they name, the DAG run against the emulator and moto
S3; one billed task each, the service sent presigned URLs, each video in the shape asked for."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import requests

from airflow_provider_wan.api import pixels_from_input
from airflow_provider_wan.emulator import WanEmulator
from airflow_provider_wan.testing.dag_runs import WanAirflow
from airflow_provider_wan.testing.s3 import WanS3
from tests.api.media_files import encode
from tests.docs.markers import EXAMPLES
from tests.example_dags.conftest import silent_wav, video_facts

pytestmark = pytest.mark.timeout(240)

EXAMPLE = EXAMPLES / "media_families.py"
S3_URI = re.compile(r"s3://[\w.-]+/[\w./-]+")
PICTURE = (1024, 768)  # every picture of the example: 4:3, so the output's shape shows it was read
MEDIA = {".png": lambda: encode("png", *PICTURE), ".wav": silent_wav}
TASKS = [
    "animate_product_photo",
    "first_and_last_frame",
    "join_keyframes",
    "mascot_episode",
    "mascot_greeting",
]


def put_inputs(wan_s3: WanS3, code: str) -> set[str]:
    """Every ``s3://`` object the example names, as a real picture or voice file."""
    uris = set(S3_URI.findall(code))
    for uri in uris:
        bucket, key = uri.removeprefix("s3://").split("/", 1)
        wan_s3.create_bucket(bucket)
        wan_s3.client.put_object(Bucket=bucket, Key=key, Body=MEDIA[Path(key).suffix]())
    return uris


def test_each_family_example_makes_one_video_of_the_shape_asked(
    wan_airflow: WanAirflow, wan_connection: str, wan_emulator: WanEmulator, wan_s3: WanS3
) -> None:
    code = EXAMPLE.read_text(encoding="utf-8")
    assert put_inputs(wan_s3, code), "the examples take their media from S3"
    wan_emulator.set_timing(task_seconds=0.5, queue_seconds=0.1)
    namespace: dict[str, Any] = {}
    exec(compile(code, str(EXAMPLE), "exec"), namespace)
    dag = namespace["dag"]

    run = wan_airflow.run(dag)

    assert sorted(dag.task_ids) == sorted(TASKS)
    assert wan_emulator.create_count() == len(TASKS)  # one billed task each
    for task_id in TASKS:
        result = run.xcom(task_id)
        shown = str(result["request"])
        sent = wan_emulator.task(result["task_id"])["body"]
        # XCom shows the s3:// URIs; the service got presigned URLs.
        assert S3_URI.search(shown), shown
        assert "Signature=" not in shown
        assert "s3://" not in str(sent), sent
        assert "Signature=" in str(sent), sent
        check_output(result, sent)


def check_output(result: dict[str, Any], sent: dict[str, Any]) -> None:
    """The video has the shape asked for: a fixed size, or the aspect of the picture read from S3."""
    from airflow_provider_wan.hooks.wan import WanHook

    video_url = WanHook().get_task(result["task_id"]).video_url
    facts = video_facts(requests.get(str(video_url), timeout=30).content)
    size = (facts["width"], facts["height"])
    if sent["parameters"].get("size"):
        assert size == tuple(int(side) for side in sent["parameters"]["size"].split("*"))
    elif sent["parameters"].get("ratio"):
        assert size == (1280, 720)  # wan2.7-r2v 720P 16:9
    else:
        assert size == pixels_from_input(sent["parameters"]["resolution"], PICTURE) != (1280, 720)
    assert facts["duration"] == 5.0
    assert result["billed_seconds"] == 5
