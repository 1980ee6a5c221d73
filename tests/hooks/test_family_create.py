"""Both hooks create a task of any family: the family's create path, and the OSS resolve header
exactly when an input is an ``oss://`` URL (the emulator refuses such an input without it)."""

from __future__ import annotations

import pytest

from airflow_provider_wan.api import (
    CREATE_PATH,
    KF2V_PATH,
    ImageToVideoMediaRequest,
    ImageToVideoRequest,
    KeyframesToVideoRequest,
    MediaItem,
    ReferenceToVideoMediaRequest,
    ReferenceToVideoRequest,
    TaskStatus,
    WanRequest,
    WanValidationError,
)
from airflow_provider_wan.emulator import WanEmulator
from airflow_provider_wan.hooks.calls import create_call
from airflow_provider_wan.hooks.wan import WanAsyncHook, WanHook
from tests.hooks.conftest import calls

OSS = "oss://dashscope-instant/abc/frame.png"
WEB = "https://pictures.example/frame.png"
REQUESTS = {
    "i2v": ImageToVideoRequest(model="wan2.2-i2v-flash", img_url=OSS, resolution="480P"),
    "i2v-media": ImageToVideoMediaRequest(
        model="wan2.7-i2v", media=(MediaItem("first_frame", WEB),), resolution="720P", duration=2
    ),
    "kf2v": KeyframesToVideoRequest(
        model="wan2.2-kf2v-flash", first_frame_url=WEB, last_frame_url=OSS, resolution="480P"
    ),
    "r2v": ReferenceToVideoRequest(
        model="wan2.6-r2v-flash", prompt="character1 bows", reference_urls=(OSS,), size="1280*720", duration=2
    ),
    "r2v-media": ReferenceToVideoMediaRequest(
        model="wan2.7-r2v", prompt="Image 1 bows", media=(MediaItem("reference_image", WEB),), duration=2
    ),
}


def _expected_path(request: WanRequest) -> str:
    return KF2V_PATH if isinstance(request, KeyframesToVideoRequest) else CREATE_PATH


@pytest.mark.parametrize("name", list(REQUESTS))
def test_the_create_call_follows_the_family(name: str) -> None:
    request = REQUESTS[name]

    call = create_call(request)

    assert call.path == _expected_path(request)
    assert call.body == request.to_body()
    assert ("X-DashScope-OssResourceResolve" in call.headers("sk-1")) is (OSS in str(request.to_body()))


@pytest.mark.parametrize("name", list(REQUESTS))
def test_sync_hook_creates_every_family(hook: WanHook, wan_emulator: WanEmulator, name: str) -> None:
    request = REQUESTS[name]

    task = hook.create_task(request)

    wan_emulator.advance_clock(60)
    assert hook.get_task(task.task_id).status is TaskStatus.SUCCEEDED
    assert wan_emulator.task(task.task_id)["body"] == request.to_body()
    assert [c["path"].endswith(_expected_path(request)) for c in calls(wan_emulator, "create")] == [True]


@pytest.mark.parametrize("name", list(REQUESTS))
async def test_async_hook_creates_every_family(
    async_hook: WanAsyncHook, wan_emulator: WanEmulator, name: str
) -> None:
    request = REQUESTS[name]

    task = await async_hook.create_task(request)

    wan_emulator.advance_clock(60)
    assert (await async_hook.get_task(task.task_id)).status is TaskStatus.SUCCEEDED
    assert wan_emulator.task(task.task_id)["body"] == request.to_body()
    assert [c["path"].endswith(_expected_path(request)) for c in calls(wan_emulator, "create")] == [True]


async def test_both_hooks_refuse_a_bad_request_before_sending(
    hook: WanHook, async_hook: WanAsyncHook, wan_emulator: WanEmulator
) -> None:
    bad = KeyframesToVideoRequest(model="wan2.2-kf2v-flash", first_frame_url=WEB, duration=10)

    with pytest.raises(WanValidationError, match="Invalid duration=10"):
        hook.create_task(bad)
    with pytest.raises(WanValidationError, match="Invalid duration=10"):
        await async_hook.create_task(bad)

    assert wan_emulator.request_log == []


def test_the_emulator_refuses_an_oss_input_sent_without_the_header(hook: WanHook) -> None:
    # What the header is for: the same body without it is refused at create (nothing billed).
    import requests

    request = REQUESTS["i2v"]
    settings = hook.settings
    headers = {k: v for k, v in create_call(request).headers(settings.api_key).items() if "Oss" not in k}

    answer = requests.post(
        settings.base_url + CREATE_PATH, json=request.to_body(), headers=headers, timeout=10
    )

    assert answer.status_code == 400
    assert answer.json()["code"] == "InvalidParameter.DataInspection"
