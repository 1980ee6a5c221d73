"""Every model row of the media contract page, per family, table-driven; and the output each produces."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_wan.api import (
    I2V_MEDIA_MODELS,
    I2V_MODELS,
    KF2V_MODELS,
    R2V_MEDIA_MODELS,
    R2V_MODELS,
    ImageToVideoMediaRequest,
    ImageToVideoRequest,
    KeyframesToVideoRequest,
    MediaItem,
    ReferenceToVideoMediaRequest,
    ReferenceToVideoRequest,
    WanRequest,
    WanValidationError,
    pixels_from_input,
)

MB = 1024 * 1024
IMG = "https://cdn.example.com/frame.png"
CLIP = "https://cdn.example.com/clip.mp4"

# The page's model tables, written out again. family: (resolutions, default, durations, prompt limit,
# sound, image MB, audio_url, shot_type, (max running, creates a second))
SPAN_2_15 = set(range(2, 16))
I2V = {
    "wan2.6-i2v-flash": (("720P", "1080P"), "1080P", SPAN_2_15, 1500, "optional", 20, True, True, (5, 5)),
    "wan2.6-i2v": (("720P", "1080P"), "1080P", SPAN_2_15, 1500, "always", 20, True, True, (5, 5)),
    "wan2.6-i2v-us": (("720P", "1080P"), "1080P", {5, 10, 15}, 1500, "always", 20, True, True, (5, 5)),
    "wan2.5-i2v-preview": (
        ("480P", "720P", "1080P"),
        "1080P",
        {5, 10},
        1500,
        "always",
        20,
        True,
        False,
        (5, 5),
    ),
    "wan2.2-i2v-flash": (("480P", "720P", "1080P"), "720P", {5}, 800, "silent", 10, False, False, (2, 2)),
    "wan2.2-i2v-plus": (("480P", "1080P"), "1080P", {5}, 800, "silent", 10, False, False, (2, 2)),
    "wanx2.1-i2v-plus": (("720P",), "720P", {5}, 800, "silent", 10, False, False, (2, 2)),
    "wanx2.1-i2v-turbo": (("480P", "720P"), "720P", {3, 4, 5}, 800, "silent", 10, False, False, (2, 2)),
}
I2V_MEDIA = {"wan2.7-i2v": (("720P", "1080P"), "1080P", SPAN_2_15, 5000, "always", 20, False, False, (5, 5))}
KF2V = {
    "wan2.2-kf2v-flash": (("480P", "720P", "1080P"), "720P", {5}, 800, "silent", 10, False, False, (2, 2)),
    "wanx2.1-kf2v-plus": (("720P",), "720P", {5}, 800, "silent", 10, False, False, (2, 2)),
    "wan2.1-kf2v-plus": (("720P",), "720P", {5}, 800, "silent", 10, False, False, (2, 1)),
}
R2V = {
    "wan2.6-r2v": ((), None, set(range(2, 11)), 1500, "always", 20, False, True, (5, 5)),
    "wan2.6-r2v-flash": ((), None, set(range(2, 11)), 1500, "optional", 20, False, True, (5, 5)),
}
R2V_MEDIA = {"wan2.7-r2v": (("720P", "1080P"), "1080P", SPAN_2_15, 5000, "always", 20, False, False, (5, 5))}
TABLES = [(I2V_MODELS, I2V), (I2V_MEDIA_MODELS, I2V_MEDIA), (KF2V_MODELS, KF2V), (R2V_MODELS, R2V),
          (R2V_MEDIA_MODELS, R2V_MEDIA)]  # fmt: skip
ROWS = [(table, name, row) for table, rows in TABLES for name, row in rows.items()]
SINGAPORE_SPELLINGS = {"wan2.1-i2v-plus": "wanx2.1-i2v-plus", "wan2.1-i2v-turbo": "wanx2.1-i2v-turbo"}
R26_SIZES = {"1280*720", "720*1280", "960*960", "1088*832", "832*1088",
             "1920*1080", "1080*1920", "1440*1440", "1632*1248", "1248*1632"}  # fmt: skip


def minimal(model: str, **fields: Any) -> WanRequest:
    """The smallest valid request of the family that knows ``model``."""
    if model in I2V_MODELS:
        return ImageToVideoRequest(model=model, img_url=IMG, **fields)
    if model in I2V_MEDIA_MODELS:
        return ImageToVideoMediaRequest(model=model, media=(MediaItem("first_frame", IMG),), **fields)
    if model in KF2V_MODELS:
        return KeyframesToVideoRequest(model=model, first_frame_url=IMG, **fields)
    if model in R2V_MODELS:
        fields = {"prompt": "character1 waves", **fields}
        return ReferenceToVideoRequest(model=model, reference_urls=(IMG,), **fields)
    fields = {"prompt": "Image 1 waves", **fields}
    return ReferenceToVideoMediaRequest(model=model, media=(MediaItem("reference_image", IMG),), **fields)


# The page's region table (V-RL): the models not offered in exactly Beijing and Singapore.
BJ, SG, VA, FR = "cn-beijing", "ap-southeast-1", "us-east-1", "eu-central-1"
REGIONS = {"wan2.6-i2v": {BJ, SG, VA, FR}, "wan2.6-i2v-us": {VA}, "wan2.2-i2v-flash": {BJ},
           "wan2.2-kf2v-flash": {BJ}, "wan2.6-r2v": {BJ, SG, VA, FR}}  # fmt: skip


@pytest.mark.parametrize(("table", "name", "row"), ROWS, ids=[name for _, name, _ in ROWS])
def test_regions_offering_each_model(table: dict, name: str, row: tuple) -> None:
    assert set(table[name].regions) == REGIONS.get(name, {BJ, SG})


def test_tables_know_exactly_the_contract_models() -> None:
    for table, rows in TABLES:
        extra = SINGAPORE_SPELLINGS if table is I2V_MODELS else {}
        assert set(table) == set(rows) | set(extra)


@pytest.mark.parametrize(("table", "name", "row"), ROWS, ids=[name for _, name, _ in ROWS])
def test_model_row(table: dict, name: str, row: tuple) -> None:
    resolutions, default, durations, limit, sound, image_mb, audio_url, shot_type, limits = row
    spec = table[name]
    assert spec.resolutions == resolutions
    assert spec.default_resolution == default
    assert set(spec.durations) == durations
    assert spec.default_duration == 5
    assert spec.prompt_limit == limit
    assert spec.sound == sound
    assert spec.image_max_bytes == image_mb * MB
    assert spec.takes_audio_url is audio_url
    assert spec.shot_type is shot_type
    assert (spec.max_running, spec.creates_per_second) == limits
    assert spec.fps == 30
    if table is R2V_MODELS:
        assert set(spec.sizes) == R26_SIZES
        assert spec.default_size == "1920*1080"


@pytest.mark.parametrize(("spelling", "family"), SINGAPORE_SPELLINGS.items())
def test_singapore_spelling_is_the_same_family(spelling: str, family: str) -> None:
    assert I2V_MODELS[spelling] is I2V_MODELS[family]
    assert minimal(spelling).validate() == []


@pytest.mark.parametrize(
    ("name", "family"),
    [
        ("wan2.7-i2v-2026-04-25", "wan2.7-i2v"),
        ("wan2.7-r2v-2026-06-12", "wan2.7-r2v"),
        ("wan2.6-i2v-flash-2026-01-01", "wan2.6-i2v-flash"),
        ("wan2.2-kf2v-flash-2025-07-28", "wan2.2-kf2v-flash"),
        ("wan2.6-r2v-flash-2026-02-02", "wan2.6-r2v-flash"),
    ],
)
def test_dated_snapshots_follow_their_family(name: str, family: str) -> None:
    request = minimal(family)
    snapshot = type(request).from_body({**request.to_body(), "model": name})
    assert snapshot.spec is request.spec
    assert snapshot.spec.family == family
    assert snapshot.validate() == []
    with pytest.raises(WanValidationError) as refused:
        type(request).from_body({**snapshot.to_body(), "parameters": {"duration": 99}}).validate()
    assert refused.value.parameter == "duration"


@pytest.mark.parametrize(("table", "name", "row"), ROWS, ids=[name for _, name, _ in ROWS])
@pytest.mark.parametrize("duration", range(1, 17))
def test_duration_accepted_exactly_in_the_models_set(
    table: dict, name: str, row: tuple, duration: int
) -> None:
    request = minimal(name, duration=duration)
    if duration in row[2]:
        assert request.validate() == []
        assert request.output().duration == duration  # type: ignore[attr-defined]
    else:
        with pytest.raises(WanValidationError, match=rf"Invalid duration={duration}: .*{table[name].family}"):
            request.validate()


@pytest.mark.parametrize(
    ("table", "name", "row"), [r for r in ROWS if r[2][0]], ids=lambda v: v if isinstance(v, str) else ""
)
@pytest.mark.parametrize("resolution", ["480P", "720P", "1080P", "1080p", "4K"])
def test_resolution_accepted_exactly_in_the_models_tiers(
    table: dict, name: str, row: tuple, resolution: str
) -> None:
    request = minimal(name, resolution=resolution)
    if resolution in row[0]:
        assert request.validate() == []
    else:
        with pytest.raises(WanValidationError) as refused:
            request.validate()
        assert refused.value.parameter == "resolution"
        assert ", ".join(row[0]) in str(refused.value)


@pytest.mark.parametrize("size", sorted(R26_SIZES | {"832*480", "1104*832", "1280x720"}))
def test_r2v26_size_is_one_of_the_720p_and_1080p_sizes(size: str) -> None:
    request = minimal("wan2.6-r2v", size=size)
    if size in R26_SIZES:
        assert request.validate() == []
        assert f"{request.output().width}*{request.output().height}" == size  # type: ignore[attr-defined]
    else:
        with pytest.raises(WanValidationError, match="Invalid size="):
            request.validate()


@pytest.mark.parametrize(("table", "name", "row"), ROWS, ids=[name for _, name, _ in ROWS])
def test_prompt_over_the_limit_warns_and_is_not_refused(table: dict, name: str, row: tuple) -> None:
    limit = row[3]
    prompt = "character1 Image 1 " + "x" * (limit - 19)
    assert minimal(name, prompt=prompt).validate() == []
    (warning,) = minimal(name, prompt=prompt + "x").validate()
    assert str(limit) in warning
    assert "truncates" in warning


@pytest.mark.parametrize(("table", "name", "row"), ROWS, ids=[name for _, name, _ in ROWS])
def test_sound_follows_the_model_and_the_audio_switch(table: dict, name: str, row: tuple) -> None:
    sound = row[4]
    takes_switch = "audio" in type(minimal(name)).PARAMETER_FIELDS
    assert minimal(name).output().has_audio is (sound != "silent")  # type: ignore[attr-defined]
    if not takes_switch:
        return
    if sound == "optional":
        assert minimal(name, audio=False).output().has_audio is False  # type: ignore[attr-defined]
    refused_value = {"always": False, "silent": True}.get(sound)
    if refused_value is not None:
        with pytest.raises(WanValidationError) as refused:
            minimal(name, audio=refused_value).validate()
        assert refused.value.parameter == "audio"


def test_flash_audio_false_wins_over_audio_url() -> None:
    request = ImageToVideoRequest(
        model="wan2.6-i2v-flash", img_url=IMG, audio_url="https://x.example/a.mp3", audio=False
    )
    assert request.validate() == []
    assert request.output().has_audio is False


@pytest.mark.parametrize(
    ("resolution", "picture", "pixels"),
    [
        ("720P", (750, 1000), (816, 1104)),  # the vendor's example
        ("720P", (1920, 1080), (1280, 720)),
        ("720P", (500, 500), (960, 960)),
        ("1080P", (1920, 1080), (1920, 1072)),  # the rule's answer; the service's is an open question
        ("480P", (1920, 1080), (832, 464)),  # 480 is no multiple of 16: the rule floors it
        ("720P", None, (1280, 720)),  # unknown picture: the tier's 16:9 size
        ("1080P", None, (1920, 1080)),
        ("480P", None, (832, 480)),
    ],
)
def test_output_size_follows_the_input_picture(resolution: str, picture: tuple | None, pixels: tuple) -> None:
    assert pixels_from_input(resolution, picture) == pixels
    width, height = pixels
    assert width % 16 == 0 or picture is None
    assert height % 16 == 0 or picture is None


@pytest.mark.parametrize(
    ("request_", "picture", "pixels", "seconds", "audio"),
    [
        (ImageToVideoRequest(model="wan2.6-i2v", img_url=IMG), (750, 1000), (1232, 1648), 5, True),
        (ImageToVideoRequest(model="wan2.2-i2v-flash", img_url=IMG), (750, 1000), (816, 1104), 5, False),
        (minimal("wan2.7-i2v", resolution="720P", duration=15), (750, 1000), (816, 1104), 15, True),
        (minimal("wan2.2-kf2v-flash", resolution="480P"), None, (832, 480), 5, False),
        (minimal("wan2.6-r2v", size="720*1280"), (750, 1000), (720, 1280), 5, True),
        (minimal("wan2.6-r2v-flash", audio=False), None, (1920, 1080), 5, False),
        (minimal("wan2.7-r2v", resolution="720P", ratio="4:3"), (750, 1000), (1104, 832), 5, True),
        (
            ReferenceToVideoMediaRequest(
                model="wan2.7-r2v", prompt="Image 1 walks", resolution="720P",
                media=(MediaItem("reference_image", IMG), MediaItem("first_frame", IMG)),
            ),
            (750, 1000), (816, 1104), 5, True,
        ),
    ],
)  # fmt: skip
def test_output_per_family(
    request_: Any, picture: tuple | None, pixels: tuple, seconds: int, audio: bool
) -> None:
    request_.validate()
    output = request_.output(picture)
    assert ((output.width, output.height), output.duration, output.fps, output.has_audio) == (
        pixels, seconds, 30, audio,
    )  # fmt: skip


@pytest.mark.parametrize("cls", [ImageToVideoRequest, KeyframesToVideoRequest, ReferenceToVideoMediaRequest])
def test_output_of_an_unknown_model_is_refused(cls: type) -> None:
    request = minimal({ImageToVideoRequest: "wan2.6-i2v", KeyframesToVideoRequest: "wan2.2-kf2v-flash",
                       ReferenceToVideoMediaRequest: "wan2.7-r2v"}[cls])  # fmt: skip
    unknown = cls.from_body({**request.to_body(), "model": "wan9-future"})
    with pytest.raises(WanValidationError, match="Invalid model='wan9-future'"):
        unknown.output()
