"""The image, keyframe and reference examples, run with the users' kit against the emulator and moto S3,
their input pictures real files in S3 that the emulator reads through the presigned URLs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_wan.api import KF2V_PATH
from airflow_provider_wan.api.media_models import pixels_from_input
from airflow_provider_wan.emulator import WanEmulator
from airflow_provider_wan.testing.dag_runs import WanDagRun, WanDagRunFailed
from airflow_provider_wan.testing.s3 import WanS3
from tests.api.media_files import encode
from tests.example_dags.conftest import BUCKET, video_facts

pytestmark = pytest.mark.timeout(240)

RunExample = Callable[..., WanDagRun]
PHOTOS = {"products/mug.png": (1024, 768), "products/vase.jpg": (768, 1024), "products/lamp.webp": (900, 900)}


def put_picture(wan_s3: WanS3, key: str, size: tuple[int, int]) -> str:
    kind = {"png": "png", "jpg": "jpeg", "webp": "webp"}[key.rsplit(".", 1)[1]]
    wan_s3.client.put_object(Bucket=BUCKET, Key=key, Body=encode(kind, *size))
    return f"s3://{BUCKET}/{key}"


def stored_facts(wan_s3: WanS3, uri: str) -> dict[str, Any]:
    return video_facts(wan_s3.get(uri))


def sent_body(wan_emulator: WanEmulator, result: dict[str, Any]) -> dict[str, Any]:
    return dict(wan_emulator.task(result["task_id"])["body"])


def test_product_photos_make_one_video_per_photo_in_the_photo_shape(
    run_example: RunExample, wan_emulator: WanEmulator, wan_pool: str, wan_s3: WanS3, bucket: str
) -> None:
    uris = {put_picture(wan_s3, key, size): size for key, size in PHOTOS.items()}
    wan_s3.client.put_object(Bucket=bucket, Key="products/notes.txt", Body=b"not a photo")

    run = run_example("example_wan_product_photos", {"duration": 2})

    results = run.xcom("animate_photo")
    assert sorted(result["request"]["input"]["img_url"] for result in results) == sorted(uris)
    assert wan_emulator.create_count() == len(PHOTOS)  # one billed task per photo, none for the .txt
    for result in results:
        photo = result["request"]["input"]["img_url"]
        assert result["s3_uri"] == photo.replace(f"s3://{BUCKET}/", f"s3://{BUCKET}/videos/") + ".mp4"
        sent = sent_body(wan_emulator, result)["input"]["img_url"]
        assert sent.startswith("http"), sent  # presigned, not the s3:// URI
        assert "Signature=" in sent, sent
        facts = stored_facts(wan_s3, result["s3_uri"])
        width, height = pixels_from_input("720P", uris[photo])
        assert facts == {
            "width": width,
            "height": height,
            "duration": 2.0,
            "video_codec": "h264",
            "audio_codec": None,  # audio=False on wan2.6-i2v-flash
        }
    assert {run.ti("animate_photo", index).pool for index in range(len(PHOTOS))} == {wan_pool}

    wan_s3.client.put_object(Bucket=bucket, Key="products/cup.png", Body=encode("png", 800, 600))
    again = run_example("example_wan_product_photos", {"duration": 2}).xcom("animate_photo")
    assert wan_emulator.create_count() == len(PHOTOS) + 1  # only the new photo is billed
    assert sorted(result["landed"] for result in again) == ["copied"] + ["skipped"] * len(PHOTOS)


def test_product_photos_refuse_a_batch_over_max_photos_before_billing(
    run_example: RunExample, wan_emulator: WanEmulator, wan_pool: str, wan_s3: WanS3, bucket: str
) -> None:
    for key, size in PHOTOS.items():
        put_picture(wan_s3, key, size)

    with pytest.raises(WanDagRunFailed, match=r"3 pictures under .* more than max_photos=2") as failed:
        run_example("example_wan_product_photos", {"max_photos": 2})

    assert failed.value.task_id == "list_photos"
    assert wan_emulator.create_count(include_refused=True) == 0


def test_storyboard_keyframes_make_one_silent_five_second_shot(
    run_example: RunExample, wan_emulator: WanEmulator, wan_s3: WanS3, bucket: str
) -> None:
    first = put_picture(wan_s3, "storyboard/shot-01-start.png", (1000, 750))
    last = put_picture(wan_s3, "storyboard/shot-01-end.png", (1280, 720))

    run = run_example("example_wan_storyboard_shot", {})

    result = run.xcom("join_keyframes")
    assert result["request"]["input"]["first_frame_url"] == first
    assert result["request"]["input"]["last_frame_url"] == last
    assert wan_emulator.create_count() == 1
    [create] = [entry for entry in wan_emulator.request_log if entry["method"] == "POST"]
    assert create["path"].endswith(KF2V_PATH)  # the family's own endpoint
    facts = stored_facts(wan_s3, run.xcom("copy_to_s3")["s3_uri"])
    width, height = pixels_from_input("720P", (1000, 750))  # the first frame sets the shape
    assert (facts["width"], facts["height"], facts["duration"]) == (width, height, 5.0)
    assert facts["audio_codec"] is None
    assert result["billed_seconds"] == 5


def test_character_series_keeps_one_reference_and_seed_across_episodes(
    run_example: RunExample, wan_emulator: WanEmulator, wan_pool: str, wan_s3: WanS3, bucket: str
) -> None:
    reference = put_picture(wan_s3, "characters/mascot.png", (800, 1000))
    episodes = [f"character1 episode {n}: a paper kite over the harbour, take {n}" for n in range(3)]

    run = run_example("example_wan_character_series", {"episodes": episodes, "duration": 2, "seed": 7})

    results = run.xcom("make_episode")
    assert [result["request"]["input"]["prompt"] for result in results] == episodes
    assert [wan_emulator.create_count(prompt=prompt) for prompt in episodes] == [1, 1, 1]
    for result in results:
        assert result["request"]["input"]["reference_urls"] == [reference]
        body = sent_body(wan_emulator, result)
        assert body["input"]["reference_urls"][0].split("?")[0].endswith("/characters/mascot.png")
        assert "Signature=" in body["input"]["reference_urls"][0]
        assert body["parameters"]["seed"] == 7
        assert result["billed_seconds"] == 2  # a reference picture is free: output seconds only
    assert [result["key"] for result in results] == [f"series/mascot/episode-0{n}.mp4" for n in (1, 2, 3)]
    for result in results:
        facts = stored_facts(wan_s3, result["s3_uri"])
        assert (facts["width"], facts["height"], facts["duration"]) == (1280, 720, 2.0)
        assert facts["audio_codec"] == "aac"


def test_character_series_refuses_a_character_the_references_lack_before_billing(
    run_example: RunExample, wan_emulator: WanEmulator, wan_pool: str, wan_s3: WanS3, bucket: str
) -> None:
    put_picture(wan_s3, "characters/mascot.png", (800, 1000))

    with pytest.raises(WanDagRunFailed, match="not character2") as failed:
        run_example("example_wan_character_series", {"episodes": ["character1 meets character2"]})

    assert failed.value.task_id == "make_episode"
    assert wan_emulator.create_count(include_refused=True) == 0
