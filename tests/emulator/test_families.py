"""Image-, keyframes- and reference-to-video over real HTTP: each family's endpoint, what is refused at
create and what fails later, the output's pixels from the input picture, usage, and real MP4s."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_wan.api import KF2V_PATH, OSS_RESOLVE_HEADER, create_headers, parse_task
from airflow_provider_wan.emulator import WanEmulator
from airflow_provider_wan.emulator import inputs as emulator_inputs

from ..api.media_files import data_url, encode
from ..operators.families import wav
from .conftest import QUEUE_SECONDS, TASK_SECONDS, Api
from .media_host import MediaHost, clip
from .test_video import Probe, probe

PORTRAIT = data_url("png", 750, 1000)  # the vendor's example: 750x1000 at 720P gives 816x1104
SQUARE = data_url("jpeg", 1000, 1000)
LANDSCAPE = data_url("webp", 1000, 750)
OFFLINE_PICTURE = "https://media.example.com/product.png"  # not loopback: never fetched
OFFLINE_CLIP = "https://media.example.com/walk.mp4"


@pytest.fixture(scope="module")
def media() -> Iterator[MediaHost]:
    with MediaHost() as host:
        yield host


def create(api: Api, model: str, inputs: dict[str, Any], path: str | None = None, **parameters: Any) -> Any:
    body = {"model": model, "input": inputs, "parameters": parameters}
    return api.create(body, path=path) if path else api.create(body)


def submit(api: Api, model: str, inputs: dict[str, Any], path: str | None = None, **parameters: Any) -> str:
    answer = create(api, model, inputs, path, **parameters)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["output"]["task_id"])


def finished(api: Api, emulator: WanEmulator, task_id: str) -> dict[str, Any]:
    emulator.advance_clock(TASK_SECONDS + 1)
    answer = api.query(task_id)
    assert answer.status_code == 200
    return dict(answer.json())


def refusal(answer: Any) -> tuple[int, str, str]:
    body = answer.json()
    return answer.status_code, body["code"], body["message"]


def media_item(kind: str, url: str) -> dict[str, str]:
    return {"type": kind, "url": url}


@pytest.mark.parametrize(
    ("model", "path", "inputs", "parameters", "usage", "video"),
    [
        ("wan2.6-i2v-flash", None, {"img_url": PORTRAIT, "prompt": "a vase turns"},
         {"resolution": "720P", "duration": 2},
         {"duration": 2, "input_video_duration": 0, "output_video_duration": 2, "video_count": 1, "SR": 720,
          "audio": True},
         Probe("h264", 816, 1104, 30, 60, 2.0, "aac")),
        ("wan2.6-i2v-flash", None, {"img_url": PORTRAIT},
         {"resolution": "720P", "duration": 2, "audio": False},
         {"duration": 2, "input_video_duration": 0, "output_video_duration": 2, "video_count": 1, "SR": 720,
          "audio": False},
         Probe("h264", 816, 1104, 30, 60, 2.0, None)),
        ("wan2.5-i2v-preview", None, {"img_url": SQUARE}, {"resolution": "480P"},
         {"duration": 5, "SR": 480, "video_count": 1}, Probe("h264", 624, 624, 30, 150, 5.0, "aac")),
        ("wanx2.1-i2v-turbo", None, {"img_url": LANDSCAPE}, {"resolution": "480P", "duration": 3},
         {"video_duration": 3, "video_ratio": "standard", "video_count": 1},
         Probe("h264", 720, 544, 30, 90, 3.0, None)),
        ("wan2.7-i2v", None, {"media": [media_item("first_frame", PORTRAIT)]},
         {"resolution": "720P", "duration": 2},
         {"duration": 2, "input_video_duration": 0, "output_video_duration": 2, "video_count": 1, "SR": 720},
         Probe("h264", 816, 1104, 30, 60, 2.0, "aac")),
        ("wan2.2-kf2v-flash", KF2V_PATH, {"first_frame_url": LANDSCAPE, "last_frame_url": SQUARE},
         {"resolution": "480P"}, {"video_duration": 5, "video_count": 1, "SR": 480},
         Probe("h264", 720, 544, 30, 150, 5.0, None)),
        ("wan2.1-kf2v-plus", KF2V_PATH, {"first_frame_url": SQUARE, "prompt": "a door opens"}, {},
         {"video_duration": 5, "video_count": 1, "video_ratio": "standard"},
         Probe("h264", 960, 960, 30, 150, 5.0, None)),
        ("wan2.6-r2v-flash", None, {"reference_urls": [OFFLINE_PICTURE], "prompt": "character1 waves"},
         {"size": "1280*720", "duration": 2, "audio": False},
         {"duration": 2.0, "size": "1280*720", "input_video_duration": 0, "output_video_duration": 2,
          "video_count": 1, "SR": 720},
         Probe("h264", 1280, 720, 30, 60, 2.0, None)),
        ("wan2.7-r2v", None,
         {"media": [media_item("reference_image", OFFLINE_PICTURE),
                    media_item("reference_video", OFFLINE_CLIP)], "prompt": "Image 1 meets Video 1"},
         {"resolution": "720P", "ratio": "9:16", "duration": 2},
         {"duration": 7, "input_video_duration": 5, "output_video_duration": 2, "video_count": 1, "SR": 720,
          "ratio": "9:16"},
         Probe("h264", 720, 1280, 30, 60, 2.0, "aac")),
    ],
)  # fmt: skip
def test_each_family_succeeds_with_its_usage_and_a_real_video(
    api: Api,
    emulator: WanEmulator,
    model: str,
    path: str | None,
    inputs: dict[str, Any],
    parameters: dict[str, Any],
    usage: dict[str, Any],
    video: Probe,
) -> None:
    task_id = submit(api, model, inputs, path, seed=5, **parameters)
    answer = finished(api, emulator, task_id)
    assert answer["output"]["task_status"] == "SUCCEEDED", answer
    assert answer["usage"] == usage
    assert parse_task(answer).usage is not None
    download = api.session.get(answer["output"]["video_url"])
    assert download.status_code == 200
    found = probe(download.content)
    assert found.duration == pytest.approx(video.duration, abs=0.05)
    assert found == Probe(**{**video.__dict__, "duration": found.duration})


def test_actual_prompt_only_where_the_family_answers_with_it(api: Api, emulator: WanEmulator) -> None:
    kf2v = submit(api, "wan2.2-kf2v-flash", {"first_frame_url": SQUARE, "prompt": "a bloom"}, KF2V_PATH)
    i2v26 = submit(api, "wan2.6-i2v", {"img_url": SQUARE, "prompt": "a bloom"}, resolution="720P")
    i2v22 = submit(api, "wan2.2-i2v-flash", {"img_url": SQUARE, "prompt": "a bloom"}, prompt_extend=False)
    silent = submit(api, "wan2.6-i2v", {"img_url": SQUARE}, resolution="720P")
    emulator.advance_clock(TASK_SECONDS + 1)
    assert api.output(kf2v)["actual_prompt"].startswith("a bloom")
    assert "actual_prompt" not in api.output(i2v26)  # never for wan2.6
    assert "actual_prompt" not in api.output(i2v22)  # prompt_extend off
    assert {"orig_prompt", "actual_prompt"}.isdisjoint(api.output(silent))  # no prompt given


@pytest.mark.parametrize(
    ("model", "path", "inputs"),
    [
        ("wan2.6-i2v-flash", KF2V_PATH, {"img_url": SQUARE}),
        ("wan2.6-t2v", KF2V_PATH, {"prompt": "a fox"}),
        ("wan2.6-r2v", KF2V_PATH, {"reference_urls": [OFFLINE_PICTURE], "prompt": "character1"}),
    ],
)
def test_a_model_on_the_keyframes_path_that_is_not_a_keyframes_model_is_a_url_error(
    api: Api, model: str, path: str, inputs: dict[str, Any]
) -> None:
    answer = create(api, model, inputs, path)
    assert refusal(answer) == (400, "InvalidParameter", "url error, please check url!")
    assert api.emulator.create_count() == 0
    assert api.emulator.create_count(include_refused=True) == 1


def test_keyframes_models_are_also_taken_on_the_video_generation_path(
    api: Api, emulator: WanEmulator
) -> None:
    task_id = submit(api, "wanx2.1-kf2v-plus", {"first_frame_url": SQUARE})  # as SDK 2.0.2 sends them
    assert emulator.task(task_id)["family"] == "wanx2.1-kf2v-plus"
    assert finished(api, emulator, task_id)["output"]["task_status"] == "SUCCEEDED"


def test_unknown_media_model_and_bad_body_are_refused_at_create(api: Api) -> None:
    assert refusal(create(api, "wan2.6-i2v-fast", {"img_url": SQUARE})) == (
        400,
        "InvalidParameter",
        "Model not exist.",
    )
    broken = api.session.post(api.base + KF2V_PATH, data=b"{", headers=create_headers(api.key))
    assert refusal(broken) == (
        400,
        "InvalidParameter",
        "Required body invalid, please check the request body format.",
    )


@pytest.mark.parametrize(
    ("model", "inputs", "message"),
    [
        ("wan2.7-i2v", {"img_url": SQUARE, "prompt": "old protocol"}, "Field required: input.media"),
        ("wan2.6-i2v", {"prompt": "no picture"}, "Field required: input.img_url"),
        ("wan2.2-kf2v-flash", {"last_frame_url": SQUARE}, "Field required: input.first_frame_url"),
        ("wan2.6-r2v", {"prompt": "character1 runs"}, "Field required: input.reference_urls"),
        ("wan2.6-r2v", {"reference_urls": [OFFLINE_PICTURE]}, "Field required: input.prompt"),
        ("wan2.7-r2v", {"prompt": "Image 1 sings"}, "Field required: input.media"),
        ("wan2.7-i2v", {"media": [{"url": SQUARE}]}, "Field required: input.media.0.type"),
        ("wan2.7-i2v", {"media": [{"type": "first_frame"}]}, "Field required: input.media.0.url"),
    ],
)
def test_a_required_input_left_out_is_accepted_then_fails(
    api: Api, emulator: WanEmulator, model: str, inputs: dict[str, Any], message: str
) -> None:
    task_id = submit(api, model, inputs)
    assert api.output(task_id)["task_status"] == "PENDING"
    emulator.advance_clock(QUEUE_SECONDS)
    answer = api.query(task_id).json()
    assert (answer["output"]["task_status"], answer["output"]["code"]) == ("FAILED", "InvalidParameter")
    assert answer["output"]["message"] == message
    assert "usage" not in answer
    assert emulator.create_count() == 1


@pytest.mark.parametrize(
    ("model", "inputs", "parameters", "named"),
    [
        ("wan2.7-i2v", {"media": [media_item("first_clip", OFFLINE_CLIP), media_item("first_frame", SQUARE)]},
         {}, "media"),
        ("wan2.7-i2v", {"media": [media_item("first_frame", SQUARE), media_item("first_frame", SQUARE)]},
         {}, "media"),
        ("wan2.7-r2v", {"media": [media_item("reference_image", OFFLINE_PICTURE)] * 6, "prompt": "Image 1"},
         {}, "media"),
        ("wan2.7-r2v", {"media": [{**media_item("first_frame", SQUARE), "reference_voice": "https://a.example/v.mp3"},
                                  media_item("reference_image", OFFLINE_PICTURE)], "prompt": "Image 1"},
         {}, "media[0].reference_voice"),
        ("wanx2.1-i2v-plus", {"img_url": SQUARE}, {"duration": 10}, "duration"),
        ("wan2.2-kf2v-flash", {"first_frame_url": SQUARE}, {"duration": 10}, "duration"),
        ("wan2.6-r2v", {"reference_urls": [OFFLINE_PICTURE], "prompt": "character1"}, {"size": "720P"},
         "size"),
        ("wan2.6-i2v", {"img_url": data_url("png", 100, 100)}, {}, "img_url"),
    ],
)  # fmt: skip
def test_rule_breaking_requests_are_accepted_then_fail_naming_the_field(
    api: Api,
    emulator: WanEmulator,
    model: str,
    inputs: dict[str, Any],
    parameters: dict[str, Any],
    named: str,
) -> None:
    path = KF2V_PATH if "kf2v" in model else None
    task_id = submit(api, model, inputs, path, **parameters)
    emulator.advance_clock(QUEUE_SECONDS)
    output = api.output(task_id)
    assert (output["task_status"], output["code"]) == ("FAILED", "InvalidParameter")
    assert output["message"].startswith(f"Invalid {named}")


def test_oss_inputs_need_the_resolve_header(api: Api, emulator: WanEmulator) -> None:
    body = {"model": "wan2.6-i2v", "input": {"img_url": "oss://dashscope-instant/abc/cat.png"}}
    without = api.create(body)
    assert refusal(without) == (
        400,
        "InvalidParameter.DataInspection",
        "Don't have authorization to access the media resource during the data inspection process.",
    )
    headers = {**create_headers(api.key), OSS_RESOLVE_HEADER: "enable"}
    task_id = api.create(body, headers=headers).json()["output"]["task_id"]
    assert (emulator.create_count(), emulator.create_count(include_refused=True)) == (1, 2)
    answer = finished(api, emulator, task_id)
    assert answer["output"]["task_status"] == "SUCCEEDED"
    assert emulator.task(task_id)["output"]["width"] == 1920  # unreadable: the tier's 16:9 size


def test_unreachable_inputs_are_refused_at_create(
    api: Api, emulator: WanEmulator, media: MediaHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    messages = emulator_inputs.INSPECTION_MESSAGES
    cases = {
        "https://cdn.invalid/cat.png": messages["missing"],
        media.url("/nowhere.png"): messages["missing"],
        media.put("/private.png", b"no", status=403): messages["forbidden"],
        media.put("/clip.png", clip(320, 320, 1)): messages["format"],
        media.put("/slow.png", encode("png", 300, 300), delay=1.0): messages["timeout"],
    }
    monkeypatch.setattr(emulator_inputs, "FETCH_TIMEOUT", 0.3)
    for url, message in cases.items():
        answer = create(api, "wan2.6-i2v", {"img_url": url})
        assert refusal(answer) == (400, "InvalidParameter.DataInspection", message), url
    assert emulator.create_count(include_refused=True) == len(cases)
    assert emulator.create_count() == 0
    assert emulator.state()["tasks"] == 0


@pytest.mark.parametrize(
    ("kind", "size", "resolution", "pixels"),
    [("png", (750, 1000), "720P", (816, 1104)), ("jpeg", (1920, 1080), "1080P", (1920, 1072)),
     ("bmp", (640, 640), "720P", (960, 960))],
)  # fmt: skip
def test_output_follows_a_loopback_picture(
    api: Api,
    emulator: WanEmulator,
    media: MediaHost,
    kind: str,
    size: tuple[int, int],
    resolution: str,
    pixels: tuple[int, int],
) -> None:
    url = media.put(f"/frame-{kind}.{kind}", encode(kind, *size))
    task_id = submit(api, "wan2.6-i2v", {"img_url": url}, resolution=resolution)
    assert media.hits[f"/frame-{kind}.{kind}"] == 1
    output = emulator.task(task_id)["output"]
    assert (output["width"], output["height"]) == pixels


@pytest.mark.parametrize("served", [None, b"\x89PNG\r\n\x1a\n" + bytes(64), b"stand-in bytes"])
def test_output_falls_back_to_the_tiers_16_9_size_when_the_picture_cannot_be_read(
    api: Api, emulator: WanEmulator, media: MediaHost, served: bytes | None
) -> None:
    url = OFFLINE_PICTURE if served is None else media.put(f"/stand-in-{len(served)}.png", served)
    task_id = submit(api, "wan2.6-i2v", {"img_url": url}, resolution="720P")
    output = emulator.task(task_id)["output"]
    assert (output["width"], output["height"]) == (1280, 720)
    assert finished(api, emulator, task_id)["output"]["task_status"] == "SUCCEEDED"


def test_first_clip_sets_the_shape_and_the_clip_is_checked(
    api: Api, emulator: WanEmulator, media: MediaHost
) -> None:
    url = media.put("/start.mp4", clip(480, 640, 2))
    task_id = submit(
        api, "wan2.7-i2v", {"media": [media_item("first_clip", url)]}, resolution="720P", duration=4
    )
    answer = finished(api, emulator, task_id)
    assert answer["output"]["task_status"] == "SUCCEEDED"
    assert emulator.task(task_id)["output"] == {
        "width": 816, "height": 1104, "duration": 4, "fps": 30, "has_audio": True,
    }  # fmt: skip
    short = media.put("/short.mp4", clip(480, 640, 1))  # first_clip takes 2 to 10 seconds
    failing = submit(api, "wan2.7-i2v", {"media": [media_item("first_clip", short)]})
    emulator.advance_clock(QUEUE_SECONDS)
    output = api.output(failing)
    assert output["task_status"] == "FAILED"
    assert output["message"].startswith("Invalid media[0].url")


def test_reference_videos_bill_their_real_seconds_up_to_the_cap(
    api: Api, emulator: WanEmulator, media: MediaHost
) -> None:
    two = media.put("/two.mp4", clip(320, 320, 2))
    four = media.put("/four.mp4", clip(320, 320, 4))
    picture = media.put("/face.png", encode("png", 320, 320))
    one_video = submit(
        api, "wan2.7-r2v", {"media": [media_item("reference_video", two)], "prompt": "Video 1 dances"},
        resolution="720P", duration=2,
    )  # fmt: skip
    two_videos = submit(
        api, "wan2.7-r2v",
        {"media": [media_item("reference_video", two), media_item("reference_video", four),
                   media_item("reference_image", picture)], "prompt": "Video 1 and Video 2"},
        resolution="720P", duration=2,
    )  # fmt: skip
    mixed = submit(
        api, "wan2.6-r2v", {"reference_urls": [picture, four], "prompt": "character1 and character2"},
        size="1280*720", duration=2,
    )  # fmt: skip
    emulator.advance_clock(TASK_SECONDS + 1)
    usage = {task: api.query(task).json()["usage"] for task in (one_video, two_videos, mixed)}
    assert (usage[one_video]["input_video_duration"], usage[one_video]["duration"]) == (2, 4)  # min(2, 5)
    assert (usage[two_videos]["input_video_duration"], usage[two_videos]["duration"]) == (4.5, 6.5)  # 2 + 2.5
    assert (usage[mixed]["input_video_duration"], usage[mixed]["duration"]) == (2.5, 4.5)  # cap 5/2 refs
    assert media.hits["/four.mp4"] == 2
    assert emulator.task(two_videos)["input_seconds"] == 4.5


def test_inputs_that_arrive_in_pieces_are_read_whole(
    api: Api, emulator: WanEmulator, media: MediaHost
) -> None:
    # read as far as the first pieces, the 3 s sound would be under driving_audio's 2 s minimum and the
    # 4 s clip billed short
    voice = media.put("/slow-voice.wav", wav(3), piece=4096)
    walk = media.put("/slow-walk.mp4", clip(320, 320, 4), piece=4096)
    sung = submit(
        api, "wan2.7-i2v",
        {"media": [media_item("first_frame", PORTRAIT), media_item("driving_audio", voice)]},
        resolution="720P", duration=3,
    )  # fmt: skip
    danced = submit(
        api, "wan2.7-r2v", {"media": [media_item("reference_video", walk)], "prompt": "Video 1 dances"},
        resolution="720P", duration=2,
    )  # fmt: skip
    assert finished(api, emulator, sung)["output"]["task_status"] == "SUCCEEDED"
    assert api.query(danced).json()["usage"]["input_video_duration"] == 4


def test_counts_cover_every_family(api: Api, emulator: WanEmulator) -> None:
    submit(api, "wan2.6-i2v-flash", {"img_url": SQUARE, "prompt": "counted"})
    submit(api, "wan2.2-kf2v-flash", {"first_frame_url": SQUARE, "prompt": "counted"}, KF2V_PATH)
    submit(api, "wan2.7-r2v", {"media": [media_item("reference_image", SQUARE)], "prompt": "counted"})
    create(
        api,
        "wan2.7-i2v",
        {"media": [media_item("first_frame", "https://x.invalid/a.png")], "prompt": "counted"},
    )
    submit(api, "wan2.7-i2v", {"media": [media_item("first_frame", SQUARE)]})
    assert emulator.create_count(prompt="counted") == 3
    assert emulator.create_count(prompt="counted", include_refused=True) == 4
    assert emulator.create_count() == 4
    assert emulator.state()["statuses"] == {"PENDING": 4}
    listed = api.list(model_name="wan2.2-kf2v-flash").json()
    assert listed["total"] == 1


def test_a_finished_video_served_here_continues_as_a_first_clip(api: Api, emulator: WanEmulator) -> None:
    first = submit(api, "wan2.6-r2v", {"reference_urls": [OFFLINE_PICTURE], "prompt": "character1"},
                   size="720*1280", duration=3)  # fmt: skip
    clip_url = finished(api, emulator, first)["output"]["video_url"]
    task_id = submit(api, "wan2.7-i2v", {"media": [media_item("first_clip", clip_url)]}, resolution="720P")
    assert emulator.task(task_id)["output"]["width"] == 720  # the clip's 9:16 shape, read over loopback
    assert emulator.task(task_id)["output"]["height"] == 1280
    assert [e["endpoint"] for e in emulator.request_log].count("video") == 1


@pytest.mark.parametrize(
    ("model", "path", "per_second"),
    [("wan2.2-i2v-flash", None, 2), ("wan2.6-i2v-flash", None, 5), ("wanx2.1-kf2v-plus", KF2V_PATH, 2),
     ("wan2.1-kf2v-plus", KF2V_PATH, 1)],  # the Singapore spelling takes 1 a second (V-RL)
)  # fmt: skip
def test_each_media_model_has_its_creates_per_second(
    api: Api, emulator: WanEmulator, model: str, path: str | None, per_second: int
) -> None:
    key = "img_url" if path is None else "first_frame_url"
    answers = [create(api, model, {key: SQUARE}, path) for _ in range(per_second + 1)]
    assert [a.status_code for a in answers] == [200] * per_second + [429]
    assert answers[-1].json()["code"] == "Throttling.RateQuota"
    assert emulator.create_count() == per_second


def test_a_flagged_input_is_refused_at_create(api: Api, emulator: WanEmulator) -> None:
    answer = create(api, "wan2.6-i2v", {"img_url": "https://media.example.com/%5B%5Bblocked%5D%5D.png"})
    assert refusal(answer) == (400, "DataInspectionFailed", "Input data may contain inappropriate content.")
    reference = {
        "reference_urls": ["https://media.example.com/[[ip-infringement]].mp4"],
        "prompt": "character1",
    }
    assert refusal(create(api, "wan2.6-r2v", reference))[:2] == (400, "IPInfringementSuspect")
    assert (emulator.create_count(), emulator.create_count(include_refused=True)) == (0, 2)


def test_the_two_spellings_of_a_model_keep_their_own_limits(api: Api) -> None:
    order = ["wan2.1-kf2v-plus", "wanx2.1-kf2v-plus", "wanx2.1-kf2v-plus", "wanx2.1-kf2v-plus"]
    answers = [create(api, model, {"first_frame_url": SQUARE}, KF2V_PATH) for model in order]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]


@pytest.mark.parametrize(
    ("model", "inputs", "named"),
    [
        ("wan2.7-i2v", {"media": "x"}, "media"),
        ("wan2.7-r2v", {"media": {"type": "reference_image"}, "prompt": "Image 1"}, "media"),
        ("wan2.6-r2v", {"reference_urls": 5, "prompt": "character1"}, "reference_urls"),
        ("wan2.7-i2v", {"media": [{"type": ["first_frame"], "url": SQUARE}]}, "media[0].type"),
        ("wan2.7-i2v", {"media": [{"type": "first_frame", "url": 5}]}, "media[0].url"),
        ("wan2.6-i2v", {"img_url": ["https://media.example.com/a.png"]}, "img_url"),
    ],
)
def test_odd_shapes_fail_the_task_naming_the_field_and_never_break_the_service(
    api: Api, emulator: WanEmulator, model: str, inputs: dict[str, Any], named: str
) -> None:
    task_id = submit(api, model, inputs)
    emulator.advance_clock(QUEUE_SECONDS)
    output = api.output(task_id)
    assert (output["task_status"], output["code"]) == ("FAILED", "InvalidParameter")
    assert output["message"].startswith(f"Invalid {named}=")
