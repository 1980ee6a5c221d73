"""The media families' requests: refusals naming their parameter, allowed media combinations, bodies
both ways, create paths and billed seconds."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_wan.api import (
    CREATE_PATH,
    KF2V_PATH,
    REQUEST_TYPES,
    ImageToVideoMediaRequest,
    ImageToVideoRequest,
    KeyframesToVideoRequest,
    MediaItem,
    ReferenceToVideoMediaRequest,
    ReferenceToVideoRequest,
    VideoRequest,
    WanRequest,
    WanValidationError,
    request_type_for,
    uses_media_protocol,
)

DATA = Path(__file__).parent / "data" / "media"
IMG, IMG2 = "https://cdn.example.com/a.png", "https://cdn.example.com/b.jpg"
CLIP, WAV = "https://cdn.example.com/clip.mp4", "https://cdn.example.com/voice.wav"
I2V_TYPES = ("first_frame", "last_frame", "driving_audio", "first_clip")
URL_OF = {"first_frame": IMG, "last_frame": IMG2, "driving_audio": WAV, "first_clip": CLIP}
ALLOWED_I2V_SETS = [
    {"first_frame"},
    {"first_frame", "driving_audio"},
    {"first_frame", "last_frame"},
    {"first_frame", "last_frame", "driving_audio"},
    {"first_clip"},
    {"first_clip", "last_frame"},
]


def i2v(**fields: Any) -> ImageToVideoRequest:
    return ImageToVideoRequest(**{"model": "wan2.6-i2v", "img_url": IMG, **fields})


def i2v27(*types: str, **fields: Any) -> ImageToVideoMediaRequest:
    media = tuple(MediaItem(t, URL_OF.get(t, IMG)) for t in types or ("first_frame",))
    return ImageToVideoMediaRequest(**{"model": "wan2.7-i2v", "media": media, **fields})


def kf2v(**fields: Any) -> KeyframesToVideoRequest:
    return KeyframesToVideoRequest(**{"model": "wan2.2-kf2v-flash", "first_frame_url": IMG, **fields})


def r2v26(*urls: str, **fields: Any) -> ReferenceToVideoRequest:
    values = {"model": "wan2.6-r2v", "prompt": "character1 waves", "reference_urls": urls or (IMG,), **fields}
    return ReferenceToVideoRequest(**values)


def r2v27(*media: MediaItem, **fields: Any) -> ReferenceToVideoMediaRequest:
    values = {
        "model": "wan2.7-r2v",
        "prompt": "Image 1 waves",
        "media": media or (MediaItem("reference_image", IMG),),
    }
    return ReferenceToVideoMediaRequest(**{**values, **fields})


def ref(kind: str, url: str = IMG, voice: str | None = None) -> MediaItem:
    return MediaItem(kind, url, voice)


# (request, parameter that must be named, a fragment of what is allowed)
INVALID: list[tuple[WanRequest, str, str]] = [
    # shared fields, on every family
    (i2v(model=""), "model", "non-empty"),
    (kf2v(negative_prompt="n" * 501), "negative_prompt", "at most 500"),
    (r2v26(seed=-1), "seed", "0 to 2147483647"),
    (r2v27(seed=2_147_483_648), "seed", "0 to 2147483647"),
    (i2v27(watermark="no"), "watermark", "true or false"),
    (i2v(prompt_extend=1), "prompt_extend", "true or false"),
    (i2v(duration="5"), "duration", "whole number"),
    (i2v(prompt=7), "prompt", "a string"),
    # legacy image-to-video
    (i2v(img_url=None), "img_url", "first frame"),
    (i2v(model="wan2.2-i2v-plus", audio_url=WAV), "audio_url", "silent videos only"),
    (i2v(model="wan2.5-i2v-preview", shot_type="multi"), "shot_type", "only wan2.6"),
    (i2v(shot_type="multi", prompt_extend=False), "shot_type", "prompt_extend=True"),
    (i2v(shot_type="many"), "shot_type", '"single" or "multi"'),
    (i2v(audio=False), "audio", "always makes sound"),
    (i2v(model="wanx2.1-i2v-turbo", audio=True), "audio", "silent videos only"),
    (i2v(template=3), "template", "effect name"),
    (i2v(model="wanx2.1-i2v-plus", resolution="480P"), "resolution", "720P"),
    (i2v(model="wanx2.1-i2v-turbo", duration=2), "duration", "from 3 to 5"),
    (i2v(model="wan2.6-i2v-us", duration=7), "duration", "5 or 10 or 15"),
    # wan2.7 image-to-video
    (ImageToVideoMediaRequest(model="wan2.7-i2v"), "media", "type, url"),
    (i2v27("first_frame", "first_frame"), "media", "each type at most once"),
    (i2v27("last_frame"), "media", "first_frame + last_frame"),
    (i2v27("reference_image"), "media[0].type", "first_frame, last_frame, driving_audio, first_clip"),
    (ImageToVideoMediaRequest(model="wan2.7-i2v", media=(MediaItem(None, IMG),)), "media[0].type", "one of"),
    (i2v27(resolution="480P"), "resolution", "720P, 1080P"),
    (i2v27(duration=16), "duration", "from 2 to 15"),
    (
        ImageToVideoMediaRequest(model="wan2.7-i2v", media=(MediaItem("first_frame", IMG, WAV),)),
        "media[0].reference_voice",
        "not taken by wan2.7-i2v",
    ),
    # keyframes
    (kf2v(first_frame_url=None), "first_frame_url", "first frame"),
    (kf2v(template="hanfu-1", last_frame_url=IMG2), "last_frame_url", "not sent with a template"),
    (kf2v(template="hanfu-1", prompt="a dance"), "prompt", "not sent with a template"),
    (kf2v(template=""), "template", "effect name"),
    (kf2v(duration=10), "duration", "5 seconds"),
    (kf2v(model="wanx2.1-kf2v-plus", resolution="1080P"), "resolution", "720P for wanx2.1-kf2v-plus"),
    # wan2.6 reference-to-video
    (r2v26(prompt=None), "prompt", "non-empty"),
    (ReferenceToVideoRequest(model="wan2.6-r2v", prompt="character1"), "reference_urls", "1 to 5"),
    (r2v26(*[IMG] * 6), "reference_urls", "1 to 5"),
    (r2v26(CLIP, CLIP, CLIP, CLIP), "reference_urls", "at most 3 videos"),
    (r2v26(IMG, CLIP, prompt="character1 hugs character3"), "prompt", "character1 to character2"),
    (r2v26(prompt="character0 waves"), "prompt", "character1 to character1"),
    (r2v26(size="832*480"), "size", "1280*720"),
    (r2v26(duration=11), "duration", "from 2 to 10"),
    (r2v26(audio=False), "audio", "always makes sound"),
    (r2v26(reference_urls=(IMG, "data:image/png;base64,iVBORw==")), "reference_urls[1]", "no data: URL"),
    # wan2.7 reference-to-video
    (r2v27(prompt=""), "prompt", "non-empty"),
    (r2v27(ref("first_frame")), "media", "1 to 5 reference_image/reference_video"),
    (r2v27(*[ref("reference_image")] * 6), "media", "1 to 5"),
    (
        r2v27(ref("reference_image"), ref("first_frame"), ref("first_frame")),
        "media",
        "at most one first_frame",
    ),
    (r2v27(ref("reference_image"), ref("first_frame", IMG, WAV)), "media[1].reference_voice", "only on"),
    (r2v27(ref("reference_image"), ref("last_frame")), "media[1].type", "reference_image, reference_video"),
    (r2v27(ref("reference_video", CLIP), prompt="Video 1", duration=11), "duration", "2 to 10 seconds"),
    (r2v27(duration=16), "duration", "from 2 to 15"),
    (r2v27(ratio="21:9"), "ratio", "16:9"),
    (r2v27(resolution="480P"), "resolution", "720P, 1080P"),
    (r2v27(prompt="Image 2 waves"), "prompt", "reference_image entries numbered 1 to 1"),
    (
        r2v27(ref("reference_video", CLIP), prompt="视频2 跳舞"),
        "prompt",
        "reference_video entries numbered 1 to 1",
    ),
    (
        r2v27(ref("reference_image", IMG, "https://x.example/v.ogg")),
        "media[0].reference_voice",
        ".wav or .mp3",
    ),
]


def _ids() -> list[str]:
    return [f"{type(r).__name__}-{p}-{i}" for i, (r, p, _) in enumerate(INVALID)]


@pytest.mark.parametrize(("request_", "parameter", "allowed"), INVALID, ids=_ids())
def test_invalid_request_is_refused_naming_the_parameter(
    request_: WanRequest, parameter: str, allowed: str
) -> None:
    with pytest.raises(WanValidationError) as refused:
        request_.validate()
    assert refused.value.parameter == parameter
    assert str(refused.value).startswith(f"Invalid {parameter}=")
    assert allowed in str(refused.value)


@pytest.mark.parametrize(
    "types",
    [c for n in range(1, 5) for c in itertools.combinations(I2V_TYPES, n)],
    ids="+".join,
)
def test_wan27_i2v_accepts_exactly_the_documented_combinations(types: tuple[str, ...]) -> None:
    request = i2v27(*types)
    if set(types) in ALLOWED_I2V_SETS:
        assert request.validate() == []
        assert [item["type"] for item in request.to_body()["input"]["media"]] == list(types)
    else:
        with pytest.raises(WanValidationError) as refused:
            request.validate()
        assert refused.value.parameter == "media"


@pytest.mark.parametrize(
    ("urls", "accepted"),
    [
        ((IMG,) * 5, True),
        ((CLIP,) * 3 + (IMG,) * 2, True),
        ((CLIP,) * 3, True),
        ((CLIP,) * 3 + (IMG,) * 3, False),
        ((CLIP,) * 4, False),
        (("https://cdn.example.com/stream",) * 4, True),  # no suffix: counts toward 5, not toward 3 videos
    ],
)
def test_r2v26_reference_counts(urls: tuple[str, ...], accepted: bool) -> None:
    request = r2v26(*urls)
    if accepted:
        request.validate()
    else:
        with pytest.raises(WanValidationError, match="reference_urls"):
            request.validate()


def test_r2v27_takes_five_references_of_either_kind_and_a_voice_each() -> None:
    media = (
        *[ref("reference_video", CLIP, WAV)] * 3,
        *[ref("reference_image", IMG, WAV)] * 2,
        ref("first_frame"),
    )
    request = r2v27(*media, prompt="Video 1 and Video 3 meet Image 2", duration=10)
    assert request.validate() == []
    inputs = {item.parameter: item.rule.kind for item in request.media_inputs()}
    assert inputs["media[0].reference_voice"] == "audio"
    assert inputs["media[5].url"] == "image"


@pytest.mark.parametrize(
    ("request_", "warning"),
    [
        (r2v26(prompt="a cat waves"), "character1, character2"),
        (r2v27(ref("reference_image"), ref("first_frame"), ratio="1:1"), "ratio is ignored"),
        (i2v(template="flying", prompt="a cat"), "prompt is ignored"),
    ],
)
def test_warnings_for_what_the_service_would_ignore(request_: WanRequest, warning: str) -> None:
    (found,) = request_.validate()
    assert warning in found


@pytest.mark.parametrize(
    ("request_", "nearest"),
    [
        (i2v(model="wan2.6-i2v-flsh"), "wan2.6-i2v-flash"),
        (i2v27(model="wan2.7-i2w"), "wan2.7-i2v"),
        (kf2v(model="wan2.2-kf2v-flahs"), "wan2.2-kf2v-flash"),
        (r2v26(model="wan2.6-r2v-fash"), "wan2.6-r2v-flash"),
        (r2v27(model="wan2.8-r2v"), "wan2.7-r2v"),
        (i2v(model="wan3-i2v"), None),
    ],
)
def test_unknown_models_stay_usable_with_a_warning(request_: WanRequest, nearest: str | None) -> None:
    (warning,) = request_.validate()
    assert f"Unknown model {request_.model!r}" in warning
    assert "sent as it is" in warning
    assert (f"(did you mean {nearest}?)" in warning) if nearest else ("did you mean" not in warning)


@pytest.mark.parametrize(
    ("request_", "parameter"),
    [
        (i2v(model="wan3-i2v", img_url=None), "img_url"),
        (i2v(model="wan3-i2v", img_url="s3://bucket/a.png"), "img_url"),
        (kf2v(model="wan3-kf2v", seed=-2), "seed"),
        (r2v26(model="wan3-r2v", reference_urls=()), "reference_urls"),
        (r2v27(model="wan3-r2v", media=(MediaItem(None, IMG),)), "media[0].type"),
        (i2v27(model="wan3-i2v", media=(MediaItem("first_frame", "ftp://h/a.png"),)), "media[0].url"),
    ],
)
def test_unknown_models_still_get_the_model_independent_checks(request_: WanRequest, parameter: str) -> None:
    with pytest.raises(WanValidationError) as refused:
        request_.validate()
    assert refused.value.parameter == parameter


@pytest.mark.parametrize(
    ("model", "media"),
    [
        ("wan2.7-i2v", True),
        ("wan2.7-i2v-2026-04-25", True),
        ("wan2.8-i2v", True),
        ("wan3-i2v", True),
        ("wan2.6-i2v-flash", False),
        ("wanx2.1-i2v-plus", False),
        ("wan2.1-i2v-turbo", False),
        ("wan2.5-i2v-preview", False),
    ],
)
def test_which_image_to_video_protocol_a_model_speaks(model: str, media: bool) -> None:
    assert uses_media_protocol(model) is media


@pytest.mark.parametrize(
    ("request_", "path"),
    [(i2v(), CREATE_PATH), (i2v27(), CREATE_PATH), (kf2v(), KF2V_PATH), (r2v26(), CREATE_PATH),
     (r2v27(), CREATE_PATH), (VideoRequest("wan2.6-t2v", "a fox"), CREATE_PATH)],
)  # fmt: skip
def test_each_family_has_its_create_path(request_: WanRequest, path: str) -> None:
    assert request_.create_path == path
    assert isinstance(request_, WanRequest)
    assert KF2V_PATH == "/services/aigc/image2video/video-synthesis"


# Bodies as the contract's tables spell them, each sent by the client named.
BODIES: list[tuple[type[WanRequest], dict[str, Any]]] = [
    (
        ImageToVideoRequest,
        {
            "model": "wan2.6-i2v-flash",
            "input": {"prompt": "a cat", "img_url": IMG, "audio_url": WAV},
            "parameters": {
                "resolution": "720P",
                "duration": 10,
                "shot_type": "multi",
                "prompt_extend": True,
                "audio": False,
                "watermark": False,
                "seed": 7,
            },
        },
    ),
    (
        ImageToVideoRequest,
        {
            "model": "wanx2.1-i2v-turbo",
            "input": {"img_url": IMG, "template": "flying"},
            "parameters": {"duration": 3},
        },
    ),
    (
        ImageToVideoMediaRequest,
        {
            "model": "wan2.7-i2v",
            "input": {
                "prompt": "p",
                "negative_prompt": "blur",
                "media": [{"type": "first_clip", "url": CLIP}, {"type": "last_frame", "url": IMG2}],
            },
            "parameters": {"resolution": "1080P", "duration": 15, "prompt_extend": False},
        },
    ),
    (
        KeyframesToVideoRequest,
        {
            "model": "wan2.2-kf2v-flash",
            "input": {"prompt": "a turn", "first_frame_url": IMG, "last_frame_url": IMG2},
            "parameters": {"resolution": "480P", "duration": 5, "seed": 1},
        },
    ),
    (
        ReferenceToVideoRequest,
        {
            "model": "wan2.6-r2v-flash",
            "input": {"prompt": "character1 and character2 talk", "reference_urls": [IMG, CLIP]},
            "parameters": {"size": "1280*720", "duration": 10, "audio": True},
        },
    ),
    (
        ReferenceToVideoMediaRequest,
        {
            "model": "wan2.7-r2v",
            "input": {
                "prompt": "Video 1 sings to Image 1",
                "media": [
                    {"type": "reference_video", "url": CLIP},
                    {"type": "reference_image", "url": IMG, "reference_voice": WAV},
                    {"type": "first_frame", "url": IMG2},
                ],
            },
            "parameters": {"resolution": "720P", "ratio": "9:16", "duration": 8},
        },
    ),
]


@pytest.mark.parametrize(("cls", "body"), BODIES, ids=[b["model"] for _, b in BODIES])
def test_bodies_round_trip(cls: type[WanRequest], body: dict[str, Any]) -> None:
    request = cls.from_body(body)
    request.validate()
    assert request.to_body() == body
    assert cls.from_body(json.loads(json.dumps(request.to_body()))) == request


@pytest.mark.parametrize(("cls", "body"), BODIES, ids=[b["model"] for _, b in BODIES])
def test_what_real_clients_add_is_ignored(cls: type[WanRequest], body: dict[str, Any]) -> None:
    noisy = {**body, "input": {**body["input"], "extend_prompt": True, "function": "video-synthesis"},
             "parameters": {**body["parameters"], "with_audio": False}}  # fmt: skip
    assert cls.from_body(noisy) == cls.from_body(body)
    assert cls.from_body({"model": body["model"], "input": body["input"]}).to_body()["parameters"] == {}


def test_plain_url_media_entries_are_kept_and_refused_naming_the_entry() -> None:
    """One proxy sends ``media`` as bare URL strings: the service fails such a task, so it is refused here."""
    request = ImageToVideoMediaRequest.from_body({"model": "wan2.7-i2v", "input": {"media": [IMG]}})
    assert request.media == (MediaItem(None, IMG),)
    with pytest.raises(WanValidationError) as refused:
        request.validate()
    assert refused.value.parameter == "media[0].type"


def test_wan27_i2v_with_only_img_url_is_refused_for_its_missing_media() -> None:
    request = ImageToVideoMediaRequest.from_body({"model": "wan2.7-i2v", "input": {"img_url": IMG}})
    with pytest.raises(WanValidationError) as refused:
        request.validate()
    assert refused.value.parameter == "media"


@pytest.mark.parametrize(
    ("model", "field"),
    [("wan2.7-i2v", "media"), ("wan2.7-r2v", "media"), ("wan2.6-r2v", "reference_urls")],
)
@pytest.mark.parametrize("value", ["x", 5, None, True, {"type": "first_frame"}])
def test_a_list_field_sent_as_something_else_is_refused_naming_it(model: str, field: str, value: Any) -> None:
    cls = request_type_for(model)
    assert cls is not None
    request = cls.from_body({"model": model, "input": {"prompt": "character1 and Image 1", field: value}})
    assert request.media_inputs() == []
    with pytest.raises(WanValidationError) as refused:
        request.validate()
    assert refused.value.parameter == field


@pytest.mark.parametrize("cls", [ImageToVideoRequest, KeyframesToVideoRequest, ReferenceToVideoMediaRequest])
@pytest.mark.parametrize(
    "body", [["a", "list"], {"model": "m", "input": ["x"]}, {"model": "m", "parameters": 3}]
)
def test_from_body_refuses_what_is_no_body(cls: type[WanRequest], body: Any) -> None:
    with pytest.raises(WanValidationError, match="body"):
        cls.from_body(body)


def _data(name: str) -> Any:
    return json.loads((DATA / name).read_text())


@pytest.mark.parametrize(
    ("request_", "usage", "billed"),
    [
        (r2v26(CLIP, IMG), _data("r2v26_usage.json"), 10.0),  # input 5 + output 5
        (r2v27(ref("reference_video", CLIP), prompt="Video 1"), _data("r2v27_usage.json"), 15.0),  # 5 + 10
        (i2v27(), _data("i2v27_usage_sdk_fragment.json"), 10.0),
        (r2v27(), {"input_video_duration": "2.5", "output_video_duration": 5}, 7.5),
        (i2v(), {"duration": 10, "input_video_duration": 0, "output_video_duration": 10, "SR": 1080}, 10.0),
        (
            i2v(model="wanx2.1-i2v-turbo"),
            {"video_duration": 3, "video_ratio": "standard", "video_count": 1},
            3.0,
        ),
        (kf2v(), {"video_duration": 5, "video_count": 1, "SR": 720}, 5.0),
        (i2v(), {"output_video_duration": 5}, 5.0),
        (i2v(), None, None),
        (i2v(), {"video_count": 1}, None),
    ],
)
def test_billed_seconds_from_usage(request_: WanRequest, usage: Any, billed: float | None) -> None:
    assert request_.billed_seconds(usage) == billed


@pytest.mark.parametrize(("count", "cap"), [(1, 5.0), (2, 2.5), (3, 1.65), (4, 1.25), (5, 1.0)])
def test_reference_input_seconds_cap_per_reference(count: int, cap: float) -> None:
    # wan2.6: the cap is shared by every reference, pictures included; unknown lengths bill the cap.
    one_clip = r2v26(CLIP, *[IMG] * (count - 1))
    assert one_clip.input_seconds() == pytest.approx(cap)
    assert one_clip.input_seconds([0.5]) == pytest.approx(min(0.5, cap))
    # wan2.7: pictures are free and do not share the cap; only the reference videos do.
    clips = [ref("reference_video", CLIP)] * count
    names = " ".join(f"Video {n}" for n in range(1, count + 1))
    media_request = r2v27(*clips, ref("reference_image"), prompt=names + " Image 1")
    assert media_request.input_seconds() == pytest.approx(cap * count)
    assert media_request.input_seconds([30.0] * count) == pytest.approx(cap * count)
    assert r2v27().input_seconds() == 0.0


@pytest.mark.parametrize(
    ("model", "cls"),
    [
        ("wan2.6-t2v", VideoRequest),
        ("wan2.7-t2v-2026-04-25", VideoRequest),
        ("wan2.6-i2v-flash", ImageToVideoRequest),
        ("wan2.1-i2v-turbo", ImageToVideoRequest),
        ("wan2.7-i2v-2026-04-25", ImageToVideoMediaRequest),
        ("wan2.2-kf2v-flash", KeyframesToVideoRequest),
        ("wan2.1-kf2v-plus", KeyframesToVideoRequest),
        ("wan2.6-r2v", ReferenceToVideoRequest),
        ("wan2.7-r2v-2026-06-12", ReferenceToVideoMediaRequest),
        ("wan2.7-x2v", None),
    ],
)
def test_request_type_for_a_model(model: str, cls: type[WanRequest] | None) -> None:
    assert request_type_for(model) is cls
    assert (cls in REQUEST_TYPES) is (cls is not None)


@pytest.mark.parametrize(
    "request_",
    [
        i2v(audio_url="s3://b/voice.wav", img_url="s3://b/a.png"),
        kf2v(first_frame_url="s3://b/a.png", last_frame_url="s3://b/b.png"),
        r2v26("s3://b/a.png", "s3://b/clip.mp4"),
        r2v27(ref("reference_image", "s3://b/a.png", "s3://b/v.mp3"), ref("first_frame", "s3://b/f.png")),
        i2v27(model="wan2.7-i2v", media=(MediaItem("first_clip", "s3://b/c.mov"),)),
        VideoRequest("wan2.6-t2v", "a fox", audio_url="s3://b/v.mp3"),
    ],
    ids=lambda r: type(r).__name__,
)
def test_presigned_urls_take_the_s3_uris_place(request_: WanRequest) -> None:
    with pytest.raises(WanValidationError, match="http"):
        request_.validate()
    inputs = request_.media_inputs()
    signed = {
        item.parameter: item.url.replace("s3://b/", "https://b.s3.amazonaws.com/") + "?sig=s"
        for item in inputs
    }
    presigned = request_.with_inputs(signed)
    presigned.validate()
    assert {item.parameter: item.url for item in presigned.media_inputs()} == signed
    assert request_.media_inputs() == inputs  # the original keeps its s3:// URIs (for logs and fields)
    for wrong in ("no_such_field", "seed", "media[9].url", "reference_urls[7]"):
        with pytest.raises(WanValidationError, match="media_inputs"):
            request_.with_inputs({wrong: "https://x/a.png"})
