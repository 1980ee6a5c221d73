"""Fidelity evidence: the vendor's own ``dashscope`` SDK, pointed at the emulator, works end to end."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

import dashscope
import pytest
import requests
from dashscope import VideoSynthesis

from airflow_provider_wan.api import CREATE_PATH, KF2V_PATH, parse_task_page
from airflow_provider_wan.emulator import WanEmulator
from airflow_provider_wan.emulator.app import API_PREFIX

from ..api.media_files import data_url, encode
from .media_host import MediaHost, clip
from .test_video import Probe, probe

PORTRAIT = data_url("png", 750, 1000)


@pytest.fixture
def sdk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WanEmulator]:
    """A quick emulator (1 s tasks, limits off) the SDK talks to through its global base URL."""
    cache = tmp_path_factory.getbasetemp() / "sdk-videos"
    with WanEmulator(task_seconds=1.0, queue_seconds=0.3, limits=False, cache_dir=cache) as emulator:
        previous = dashscope.base_http_api_url
        dashscope.base_http_api_url = emulator.base_url
        try:
            yield emulator
        finally:
            dashscope.base_http_api_url = previous


@pytest.mark.parametrize(
    ("model", "arguments", "expected"),
    [
        ("wan2.2-t2v-plus", {"size": "832*480"}, Probe("h264", 832, 480, 30, 150, 5.0, None)),
        ("wan2.5-t2v-preview", {"size": "832*480", "duration": 5, "audio": False},
         Probe("h264", 832, 480, 24, 120, 5.0, None)),
        ("wan2.6-t2v", {"size": "1280*720", "duration": 3, "shot_type": "multi", "prompt_extend": True},
         Probe("h264", 1280, 720, 30, 90, 3.0, "aac")),
        ("wan2.7-t2v-2026-04-25", {"resolution": "720P", "ratio": "9:16", "duration": 2, "seed": 12345},
         Probe("h264", 720, 1280, 30, 60, 2.0, "aac")),
    ],
)  # fmt: skip
def test_sdk_async_call_fetch_wait_and_video(
    sdk: WanEmulator, model: str, arguments: dict[str, Any], expected: Probe
) -> None:
    created = VideoSynthesis.async_call(
        model=model, prompt="a lantern festival over a river", api_key=sdk.api_key, **arguments
    )
    assert created.status_code == HTTPStatus.OK, created
    assert created.output.task_status == "PENDING"
    task_id = created.output.task_id
    assert sdk.task(task_id)["body"]["parameters"] == arguments  # the SDK sent what it was given

    fetched = VideoSynthesis.fetch(created, api_key=sdk.api_key)
    assert fetched.status_code == HTTPStatus.OK
    assert fetched.output.task_status in ("PENDING", "RUNNING")

    done = VideoSynthesis.wait(created, api_key=sdk.api_key)
    assert done.status_code == HTTPStatus.OK, done
    assert done.output.task_status == "SUCCEEDED"
    assert done.output.submit_time
    assert done.output.end_time
    assert done.usage.video_count == 1
    video = requests.get(done.output.video_url, timeout=60)
    assert video.status_code == 200
    found = probe(video.content)
    assert found.duration == pytest.approx(expected.duration, abs=0.05)
    assert found == Probe(**{**expected.__dict__, "duration": found.duration})
    assert sdk.video_requests_with_authorization == []


def test_sdk_errors_cancel_and_list(sdk: WanEmulator) -> None:
    refused = VideoSynthesis.async_call(model="wan9-t2v", prompt="x", api_key=sdk.api_key)
    assert (refused.status_code, refused.code, refused.message) == (
        400,
        "InvalidParameter",
        "Model not exist.",
    )
    wrong_key = VideoSynthesis.async_call(model="wan2.6-t2v", prompt="x", api_key="sk-not-mine")
    assert (wrong_key.status_code, wrong_key.code) == (401, "InvalidApiKey")

    created = VideoSynthesis.async_call(model="wan2.6-t2v", prompt="cancel me", api_key=sdk.api_key)
    cancelled = VideoSynthesis.cancel(created, api_key=sdk.api_key)
    assert cancelled.status_code == HTTPStatus.OK
    assert VideoSynthesis.fetch(created, api_key=sdk.api_key).output.task_status == "CANCELED"
    again = VideoSynthesis.cancel(created, api_key=sdk.api_key)
    assert (again.status_code, again.code) == (400, "UnsupportedOperation")

    failing = VideoSynthesis.async_call(model="wan2.2-t2v-plus", prompt="x", duration=3, api_key=sdk.api_key)
    failed = VideoSynthesis.wait(failing, api_key=sdk.api_key)
    assert failed.status_code == HTTPStatus.OK
    assert (failed.output.task_status, failed.output.code) == ("FAILED", "InvalidParameter")

    listed = VideoSynthesis.list(api_key=sdk.api_key, page_size=1)
    assert listed.status_code == HTTPStatus.OK
    assert (listed.output["total"], listed.output["total_page"], listed.output["page_size"]) == (2, 2, 1)
    page = parse_task_page({**listed.output, "request_id": listed.request_id})
    assert page.tasks[0].task_id == failing.output.task_id
    only_cancelled = VideoSynthesis.list(api_key=sdk.api_key, status="CANCELED")
    assert [row["task_id"] for row in only_cancelled.output["data"]] == [created.output.task_id]

    unknown = VideoSynthesis.fetch("no-such-task", api_key=sdk.api_key)
    assert (unknown.status_code, unknown.output.task_status) == (200, "UNKNOWN")


@pytest.fixture(scope="module")
def pictures() -> Iterator[MediaHost]:
    with MediaHost() as host:
        host.put("/portrait.png", encode("png", 750, 1000))
        host.put("/square.jpg", encode("jpeg", 640, 640))
        host.put("/walk.mp4", clip(320, 320, 2))
        yield host


@pytest.mark.parametrize(
    ("model", "arguments", "path", "expected"),
    [
        ("wan2.6-i2v-flash", {"img_url": "/portrait.png", "resolution": "720P", "duration": 2},
         CREATE_PATH, Probe("h264", 816, 1104, 30, 60, 2.0, "aac")),
        ("wan2.7-i2v", {"media": [{"type": "first_frame", "url": PORTRAIT}], "resolution": "720P",
                        "duration": 2}, CREATE_PATH, Probe("h264", 816, 1104, 30, 60, 2.0, "aac")),
        ("wan2.2-kf2v-flash", {"first_frame_url": "/square.jpg", "last_frame_url": PORTRAIT,
                               "resolution": "480P"}, KF2V_PATH, Probe("h264", 624, 624, 30, 150, 5.0, None)),
        ("wan2.6-r2v-flash", {"reference_urls": ["/square.jpg", "/walk.mp4"], "size": "832*1088",
                              "duration": 2, "audio": False}, CREATE_PATH,
         Probe("h264", 832, 1088, 30, 60, 2.0, None)),
        ("wan2.7-r2v", {"media": [{"type": "reference_video", "url": "/walk.mp4"},
                                  {"type": "first_frame", "url": "/portrait.png"}],
                        "resolution": "720P", "duration": 2}, CREATE_PATH,
         Probe("h264", 816, 1104, 30, 60, 2.0, "aac")),
    ],
)  # fmt: skip
def test_sdk_media_families_complete(
    sdk: WanEmulator,
    pictures: MediaHost,
    model: str,
    arguments: dict[str, Any],
    path: str,
    expected: Probe,
) -> None:
    arguments = _loopback(arguments, pictures)
    created = VideoSynthesis.async_call(
        model=model, prompt="character1 and Video 1 by a river", api_key=sdk.api_key, **arguments
    )
    assert created.status_code == HTTPStatus.OK, created
    task_id = created.output.task_id
    assert [e["path"] for e in sdk.request_log if e["endpoint"] == "create"] == [API_PREFIX + path]
    task = sdk.task(task_id)
    assert task["family"] == model
    assert VideoSynthesis.fetch(created, api_key=sdk.api_key).output.task_status in ("PENDING", "RUNNING")

    done = VideoSynthesis.wait(created, api_key=sdk.api_key)
    assert done.status_code == HTTPStatus.OK, done
    assert done.output.task_status == "SUCCEEDED", done
    assert done.usage.video_count == 1
    if "r2v" in model:  # the 2-second clip, read over loopback, is under either cap
        assert (done.usage["input_video_duration"], done.usage["duration"]) == (2, 4)
    video = requests.get(done.output.video_url, timeout=60)
    found = probe(video.content)
    assert found.duration == pytest.approx(expected.duration, abs=0.05)
    assert found == Probe(**{**expected.__dict__, "duration": found.duration})


def test_sdk_wan27_i2v_with_only_img_url_fails_asking_for_media(sdk: WanEmulator) -> None:
    created = VideoSynthesis.async_call(model="wan2.7-i2v", img_url=PORTRAIT, api_key=sdk.api_key)
    assert created.status_code == HTTPStatus.OK, created
    failed = VideoSynthesis.wait(created, api_key=sdk.api_key)
    assert (failed.output.task_status, failed.output.code, failed.output.message) == (
        "FAILED",
        "InvalidParameter",
        "Field required: input.media",
    )
    assert failed.usage is None


def _loopback(arguments: dict[str, Any], host: MediaHost) -> dict[str, Any]:
    """The arguments with each ``/path`` made a URL of the loopback media host."""

    def url(value: Any) -> Any:
        if isinstance(value, str) and value.startswith("/"):
            return host.url(value)
        if isinstance(value, list):
            return [url(item) for item in value]
        if isinstance(value, dict):
            return {key: url(item) for key, item in value.items()}
        return value

    return {key: url(value) for key, value in arguments.items()}


def test_sdk_uploads_a_local_picture_and_the_emulator_reads_it(
    sdk: WanEmulator, tmp_path: pathlib.Path
) -> None:
    picture = tmp_path / "portrait.png"
    picture.write_bytes(encode("png", 750, 1000))
    created = VideoSynthesis.async_call(
        model="wan2.6-i2v", img_url=f"file://{picture}", resolution="720P", duration=2, api_key=sdk.api_key
    )
    assert created.status_code == HTTPStatus.OK, created  # oss:// without the resolve header is a 400
    assert [e["endpoint"] for e in sdk.request_log] == ["upload-policy", "upload", "create"]
    task = sdk.task(created.output.task_id)
    assert task["body"]["input"]["img_url"].startswith("oss://dashscope-instant/")
    assert task["body"]["input"]["img_url"].endswith("/portrait.png")
    assert (task["output"]["width"], task["output"]["height"]) == (816, 1104)  # read from the upload
    done = VideoSynthesis.wait(created, api_key=sdk.api_key)
    assert done.output.task_status == "SUCCEEDED"


def test_sdk_2_client_videos_for_keyframes_and_wan27_media(sdk: WanEmulator, tmp_path: pathlib.Path) -> None:
    client = dashscope.Client(api_key=sdk.api_key, base_url=sdk.base_url)
    keyframes = client.videos.jobs.create(
        model="wan2.2-kf2v-flash", extra_input={"first_frame_url": PORTRAIT}, resolution="480P"
    )
    assert keyframes.status == "PENDING"
    assert sdk.request_log[-1]["path"] == API_PREFIX + CREATE_PATH  # SDK 2.0 sends kf2v there too
    frame = tmp_path / "frame.webp"
    frame.write_bytes(encode("webp", 1000, 750))
    continued = client.videos.generate(
        model="wan2.7-i2v", image_url=str(frame), resolution="720P", duration=2, poll_interval=0.5
    )
    assert continued.succeeded
    assert continued.usage is not None
    assert (continued.usage.duration, continued.usage.output_video_duration) == (2, 2)  # type: ignore[attr-defined]
    assert sdk.task(continued.task_id)["body"]["input"]["media"][0]["type"] == "first_frame"
    assert probe(requests.get(str(continued.video_url), timeout=60).content).width == 1104
    done = client.videos.jobs.wait(keyframes, poll_interval=0.5)
    assert done.succeeded
    found = probe(requests.get(str(done.video_url), timeout=60).content)
    assert (found.width, found.height, found.frames, found.audio) == (544, 720, 150, None)
