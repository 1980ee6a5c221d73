"""Input media rules: URL forms per slot, data: images, and every byte, pixel and seconds limit."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from airflow_provider_wan.api import (
    OSS_RESOLVE_HEADER,
    ImageToVideoMediaRequest,
    ImageToVideoRequest,
    KeyframesToVideoRequest,
    MediaItem,
    ReferenceToVideoMediaRequest,
    ReferenceToVideoRequest,
    VideoRequest,
    WanRequest,
    WanValidationError,
    create_headers,
    image_size,
)
from tests.api.media_files import data_url, encode

MB = 1024 * 1024
IMG = "https://cdn.example.com/frame.png"
VIDEO = "https://cdn.example.com/clip.mp4"
AUDIO = "https://cdn.example.com/voice.mp3"


@pytest.mark.parametrize(
    ("kind", "width", "height"),
    [("png", 750, 1000), ("png-alpha", 300, 240), ("jpeg", 750, 1000), ("bmp", 641, 480), ("webp", 750, 1000),
     ("webp-lossless", 300, 500), ("webp-extended", 300, 500)],
)  # fmt: skip
def test_image_size_reads_real_encoders_headers(kind: str, width: int, height: int) -> None:
    assert image_size(encode(kind, width, height)) == (width, height)


@pytest.mark.parametrize(
    "data", [b"", b"GIF89a\x01\x00\x01\x00", b"\xff\xd8\xff", b"RIFF\x00\x00\x00\x00WEBPVP8Q"]
)
def test_image_size_of_what_is_no_supported_picture_is_none(data: bytes) -> None:
    assert image_size(data) is None


# The slots of every family: (how to build a request with one URL in the slot, parameter named,
# media kind, byte limit, seconds, sides, aspect, data: allowed).
def _i2v(url: str) -> WanRequest:
    return ImageToVideoRequest(model="wan2.6-i2v", img_url=url)


def _i2v_old(url: str) -> WanRequest:
    return ImageToVideoRequest(model="wan2.2-i2v-plus", img_url=url)


def _i2v_audio(url: str) -> WanRequest:
    return ImageToVideoRequest(model="wan2.6-i2v", img_url=IMG, audio_url=url)


def _media(kind: str, model: str = "wan2.7-i2v") -> Any:
    def build(url: str) -> WanRequest:
        if model == "wan2.7-r2v":
            items = (
                (MediaItem(kind, url),)
                if kind != "first_frame"
                else (MediaItem("reference_image", IMG), MediaItem(kind, url))
            )
            prompt = "Video 1" if kind == "reference_video" else "Image 1"
            return ReferenceToVideoMediaRequest(model=model, prompt=prompt, media=items)
        items = {"first_frame": (MediaItem(kind, url),), "first_clip": (MediaItem(kind, url),)}.get(
            kind, (MediaItem("first_frame", IMG), MediaItem(kind, url))
        )
        return ImageToVideoMediaRequest(model=model, media=items)

    return build


def _voice(url: str) -> WanRequest:
    return ReferenceToVideoMediaRequest(
        model="wan2.7-r2v", prompt="Image 1", media=(MediaItem("reference_image", IMG, url),)
    )


def _kf(url: str) -> WanRequest:
    return KeyframesToVideoRequest(model="wan2.2-kf2v-flash", first_frame_url=IMG, last_frame_url=url)


def _r26(url: str) -> WanRequest:
    return ReferenceToVideoRequest(model="wan2.6-r2v", prompt="character1", reference_urls=(url,))


def _t2v_audio(url: str) -> WanRequest:
    return VideoRequest(model="wan2.6-t2v", prompt="a fox", audio_url=url)


R27 = "wan2.7-r2v"
PX8, PX4 = (240, 8000), (240, 4096)
SLOTS = {
    # name: (build, parameter, kind, MB, seconds, sides, max aspect, data: allowed)
    "i2v img_url wan2.6": (_i2v, "img_url", "image", 20, None, (240, 8000), None, True),
    "i2v img_url wan2.2": (_i2v_old, "img_url", "image", 10, None, (240, 8000), None, True),
    "i2v audio_url": (_i2v_audio, "audio_url", "audio", 15, (3, 30), None, None, False),
    "i2v27 first_frame": (_media("first_frame"), "media[0].url", "image", 20, None, PX8, 8, True),
    "i2v27 last_frame": (_media("last_frame"), "media[1].url", "image", 20, None, PX8, 8, True),
    "i2v27 driving_audio": (_media("driving_audio"), "media[1].url", "audio", 15, (2, 30), None, None, False),
    "i2v27 first_clip": (_media("first_clip"), "media[0].url", "video", 100, (2, 10), PX4, 8, False),
    "kf2v frame": (_kf, "last_frame_url", "image", 10, None, (240, 8000), None, True),
    "r2v26 image": (_r26, "reference_urls[0]", "image", 20, None, (240, 8000), None, False),
    "r2v26 video": (_r26, "reference_urls[0]", "video", 100, (1, 30), None, None, False),
    "r2v27 image": (_media("reference_image", R27), "media[0].url", "image", 20, None, PX8, 8, True),
    "r2v27 video": (_media("reference_video", R27), "media[0].url", "video", 100, (1, 30), PX4, 8, False),
    "r2v27 first_frame": (_media("first_frame", R27), "media[1].url", "image", 20, None, PX8, 8, True),
    "r2v27 reference_voice": (_voice, "media[0].reference_voice", "audio", 15, (1, 10), None, None, False),
    "t2v audio_url": (_t2v_audio, "audio_url", "audio", 15, (3, 30), None, None, False),
}  # fmt: skip
SUFFIX = {"image": ".png", "audio": ".wav", "video": ".mov"}
WRONG = {"image": ".mp4", "audio": ".ogg", "video": ".gif"}


def _slot(request: WanRequest, parameter: str) -> Any:
    (found,) = [item for item in request.media_inputs() if item.parameter == parameter]
    return found


@pytest.mark.parametrize("slot", SLOTS)
def test_slot_limits_are_the_contracts(slot: str) -> None:
    build, parameter, kind, mb, seconds, sides, aspect, data_ok = SLOTS[slot]
    url = f"https://cdn.example.com/input{SUFFIX[kind]}"
    request = build(url)
    assert request.validate() is not None
    rule = _slot(request, parameter).rule
    assert (rule.kind, rule.max_bytes, rule.seconds, rule.sides, rule.max_aspect, rule.data_url) == (
        kind, mb * MB, seconds, sides, aspect, data_ok,
    )  # fmt: skip
    rule.check_known(parameter, size_bytes=mb * MB)
    with pytest.raises(WanValidationError, match=rf"at most {mb} MB") as refused:
        rule.check_known(parameter, size_bytes=mb * MB + 1)
    assert refused.value.parameter == parameter
    if seconds:
        rule.check_known(parameter, seconds=seconds[0])
        rule.check_known(parameter, seconds=seconds[1])
        for outside in (seconds[0] - 0.5, seconds[1] + 0.5):
            with pytest.raises(WanValidationError, match=f"{seconds[0]} to {seconds[1]} seconds"):
                rule.check_known(parameter, seconds=outside)
    if sides:
        rule.check_known(parameter, width=sides[0], height=min(sides[1], sides[0] * 8))
        for width, height in ((sides[0] - 1, 1000), (1000, sides[1] + 1)):
            with pytest.raises(WanValidationError, match=f"from {sides[0]} to {sides[1]} pixels"):
                rule.check_known(parameter, width=width, height=height)
    if aspect:
        rule.check_known(parameter, width=240, height=240 * 8)
        with pytest.raises(WanValidationError, match="1:8 to 8:1"):
            rule.check_known(parameter, width=241 * 8 + 8, height=241)


@pytest.mark.parametrize("slot", SLOTS)
@pytest.mark.parametrize(
    "form",
    [
        "https",
        "http",
        "oss",
        "query",
        "no-suffix",
        "s3",
        "ftp",
        "relative",
        "space",
        "no-host",
        "wrong-type",
        "data",
    ],
)
def test_slot_url_forms(slot: str, form: str) -> None:
    build, parameter, kind, *_, data_ok = SLOTS[slot]
    suffix = SUFFIX[kind]
    url = {
        "https": f"https://cdn.example.com/a{suffix}",
        "http": f"http://cdn.example.com/a{suffix}",
        "oss": f"oss://dashscope-instant/abc/a{suffix}",
        "query": f"https://b.s3.amazonaws.com/a{suffix}?X-Amz-Signature=abc",
        "no-suffix": "https://cdn.example.com/stream",
        "s3": f"s3://bucket/a{suffix}",
        "ftp": f"ftp://cdn.example.com/a{suffix}",
        "relative": f"a{suffix}",
        "space": f"https://cdn.example.com/my a{suffix}",
        "no-host": f"https:///a{suffix}",
        "wrong-type": f"https://cdn.example.com/a{WRONG[kind]}",
        "data": data_url("png", 300, 300),
    }[form]
    accepted = form in ("https", "http", "oss", "query", "no-suffix") or (form == "data" and data_ok)
    if slot == "r2v26 image" and form == "wrong-type":
        accepted = True  # wan2.6 references mix images and videos: an .mp4 one is a video reference
    request = build(url)
    if accepted:
        request.validate()
        assert request.needs_oss_resolve is (form == "oss")
        return
    with pytest.raises(WanValidationError) as refused:
        request.validate()
    assert refused.value.parameter == parameter
    assert "http(s)" in str(refused.value)


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        (data_url("png", 239, 500), "from 240 to 8000 pixels"),
        (data_url("jpeg", 2400, 250), "1:8 to 8:1"),
        (data_url("png-alpha", 300, 300), "without an alpha channel"),
        ("data:image/gif;base64,R0lGODlhAQABAAAAACw=", "image/jpeg, image/png, image/bmp, image/webp"),
        ("data:image/png;base64,not*base64", "image/jpeg"),
        ("data:image/png;base64," + base64.b64encode(b"not a picture").decode(), "readable JPEG, PNG"),
        ("data:text/plain;base64,aGVsbG8=", "image/jpeg"),
    ],
)
def test_data_images_are_checked_before_sending(url: str, allowed: str) -> None:
    with pytest.raises(WanValidationError) as refused:
        ReferenceToVideoMediaRequest(
            model="wan2.7-r2v", prompt="Image 1", media=(MediaItem("reference_image", url),)
        ).validate()
    assert refused.value.parameter == "media[0].url"
    assert allowed in str(refused.value)


@pytest.mark.parametrize("kind", ["png", "jpeg", "bmp", "webp", "webp-lossless"])
def test_data_images_of_every_documented_type_are_accepted(kind: str) -> None:
    request = KeyframesToVideoRequest(model="wan2.2-kf2v-flash", first_frame_url=data_url(kind, 750, 1000))
    assert request.validate() == []
    assert request.needs_oss_resolve is False


def test_data_image_over_the_byte_limit_is_refused() -> None:
    big = data_url("bmp", 2000, 1800)  # 10.3 MB uncompressed: over kf2v's 10 MB, under wan2.6-i2v's 20 MB
    assert ImageToVideoRequest(model="wan2.6-i2v", img_url=big).validate() == []
    with pytest.raises(WanValidationError, match="at most 10 MB") as refused:
        KeyframesToVideoRequest(model="wan2.2-kf2v-flash", first_frame_url=big).validate()
    assert refused.value.parameter == "first_frame_url"


def test_oss_input_asks_for_the_resolve_header() -> None:
    request = ImageToVideoMediaRequest(
        model="wan2.7-i2v",
        media=(MediaItem("first_frame", IMG), MediaItem("driving_audio", "oss://dashscope-instant/x/a.wav")),
    )
    assert request.needs_oss_resolve
    headers = create_headers("sk-test", resolve_oss=request.needs_oss_resolve)
    assert headers[OSS_RESOLVE_HEADER] == "enable"
    assert OSS_RESOLVE_HEADER not in create_headers("sk-test")
    assert VideoRequest(
        model="wan2.6-t2v", prompt="p", audio_url="oss://dashscope-instant/a.mp3"
    ).needs_oss_resolve
