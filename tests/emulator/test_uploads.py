"""Temporary uploads over raw HTTP: getPolicy, the multipart upload, and the oss:// key in a create."""

from __future__ import annotations

from typing import Any

from airflow_provider_wan.api import OSS_RESOLVE_HEADER, create_headers
from airflow_provider_wan.emulator import WanEmulator

from ..api.media_files import encode
from .conftest import Api
from .media_host import clip
from .test_families import refusal


def policy(api: Api, model: str = "wan2.6-i2v", key: str | None = None) -> Any:
    return api.session.get(
        f"{api.base}/uploads",
        params={"action": "getPolicy", "model": model},
        headers={"Authorization": f"Bearer {key or api.key}"},
    )


def upload(api: Api, data: bytes, name: str, **overrides: str) -> tuple[int, str]:
    """Upload as the SDK does; returns the status and the ``oss://`` URL it would use."""
    grant = policy(api).json()["data"]
    fields = {
        "OSSAccessKeyId": grant["oss_access_key_id"],
        "Signature": grant["signature"],
        "policy": grant["policy"],
        "key": f"{grant['upload_dir']}/{name}",
        "x-oss-object-acl": grant["x_oss_object_acl"],
        "x-oss-forbid-overwrite": grant["x_oss_forbid_overwrite"],
        "success_action_status": "200",
        **overrides,
    }
    answer = api.session.post(grant["upload_host"], data=fields, files={"file": (name, data)})
    return answer.status_code, f"oss://{fields['key']}"


def with_resolve(api: Api) -> dict[str, str]:
    return {**create_headers(api.key), OSS_RESOLVE_HEADER: "enable"}


def test_get_policy_needs_the_key_and_names_the_upload_host(api: Api) -> None:
    assert refusal(policy(api, key="sk-wrong"))[:2] == (401, "InvalidApiKey")
    grant = policy(api).json()["data"]
    assert grant["upload_host"].startswith(api.emulator.root_url)
    assert grant["upload_dir"].startswith("dashscope-instant/")
    assert {"policy", "signature", "oss_access_key_id", "x_oss_object_acl", "x_oss_forbid_overwrite"} <= set(
        grant
    )


def test_an_uploaded_picture_sets_the_shape_once_resolved(api: Api, emulator: WanEmulator) -> None:
    status, url = upload(api, encode("jpeg", 750, 1000), "product.jpg")
    assert status == 200
    body = {"model": "wan2.6-i2v", "input": {"img_url": url}, "parameters": {"resolution": "720P"}}
    assert refusal(api.create(body))[:2] == (400, "InvalidParameter.DataInspection")  # no resolve header
    task_id = api.create(body, headers=with_resolve(api)).json()["output"]["task_id"]
    output = emulator.task(task_id)["output"]
    assert (output["width"], output["height"]) == (816, 1104)


def test_forged_or_misplaced_uploads_are_refused(api: Api) -> None:
    assert upload(api, b"x", "a.png", Signature="Zm9yZ2Vk")[0] == 403
    assert upload(api, b"x", "a.png", key="dashscope-instant/someone-else/a.png")[0] == 403


def test_an_uploaded_file_that_is_not_a_picture_is_refused_at_create(api: Api, emulator: WanEmulator) -> None:
    _, url = upload(api, clip(320, 320, 1), "moving.png")
    answer = api.create({"model": "wan2.6-i2v", "input": {"img_url": url}}, headers=with_resolve(api))
    assert refusal(answer) == (
        400,
        "InvalidParameter.DataInspection",
        "The media format is not supported or incorrect for the data inspection.",
    )
    assert emulator.create_count() == 0


def test_reset_forgets_uploads(api: Api, emulator: WanEmulator) -> None:
    _, url = upload(api, encode("png", 640, 640), "square.png")
    emulator.reset()
    body = {"model": "wan2.6-i2v", "input": {"img_url": url}, "parameters": {"resolution": "720P"}}
    task_id = api.create(body, headers=with_resolve(api)).json()["output"]["task_id"]
    output = emulator.task(task_id)["output"]
    assert (output["width"], output["height"]) == (1280, 720)  # unknown key: the tier's 16:9 size
