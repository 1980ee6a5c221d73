"""Finished tasks serve real MP4s like object storage: signed URLs, ranges, ETags, no key needed."""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

from airflow_provider_wan.emulator import WanEmulator

from .conftest import TASK_SECONDS, Api


@dataclass(frozen=True)
class Probe:
    codec: str
    width: int
    height: int
    fps: float
    frames: int
    duration: float
    audio: str | None


def probe(data: bytes) -> Probe:
    """What PyAV finds in an MP4: video codec, size, rate, decoded frame count, duration, audio codec."""
    import av

    with av.open(io.BytesIO(data)) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0].codec_context.name if container.streams.audio else None
        frames = sum(1 for _ in container.decode(video=0))
        duration = container.duration / 1_000_000 if container.duration else 0.0
        return Probe(
            video.codec_context.name, video.width, video.height, float(video.average_rate or 0), frames,
            duration, audio,
        )  # fmt: skip


def finish(api: Api, emulator: WanEmulator, model: str, prompt: str, **parameters: Any) -> str:
    """Create a task, let it succeed, return its video URL."""
    task_id = api.submit(model, prompt, **parameters)
    emulator.advance_clock(TASK_SECONDS + 1)
    return str(api.output(task_id)["video_url"])


@pytest.mark.parametrize(
    ("model", "parameters", "expected"),
    [
        ("wan2.2-t2v-plus", {"size": "832*480"}, Probe("h264", 832, 480, 30, 150, 5.0, None)),
        ("wan2.5-t2v-preview", {"size": "832*480", "audio": False},
         Probe("h264", 832, 480, 24, 120, 5.0, None)),
        ("wan2.5-t2v-preview", {"size": "480*832"}, Probe("h264", 480, 832, 24, 120, 5.0, "aac")),
        ("wan2.6-t2v", {"size": "1280*720", "duration": 2}, Probe("h264", 1280, 720, 30, 60, 2.0, "aac")),
        ("wan2.7-t2v", {"resolution": "720P", "ratio": "3:4", "duration": 2},
         Probe("h264", 832, 1104, 30, 60, 2.0, "aac")),
    ],
)  # fmt: skip
def test_video_has_the_size_rate_length_and_sound_of_the_request(
    api: Api, emulator: WanEmulator, model: str, parameters: dict[str, Any], expected: Probe
) -> None:
    url = finish(api, emulator, model, "a tram in the rain", seed=11, **parameters)
    answer = api.session.get(url)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "video/mp4"
    assert int(answer.headers["Content-Length"]) == len(answer.content)
    found = probe(answer.content)
    assert found.duration == pytest.approx(expected.duration, abs=0.05)
    assert found == Probe(**{**expected.__dict__, "duration": found.duration})


def test_ranges_etag_and_head(api: Api, emulator: WanEmulator) -> None:
    url = finish(api, emulator, "wan2.2-t2v-plus", "ranges", size="624*624", seed=3)
    whole = api.session.get(url)
    data, etag = whole.content, whole.headers["ETag"]
    assert whole.headers["Accept-Ranges"] == "bytes"
    assert etag.startswith('"')
    assert len(etag) == 34

    first = api.session.get(url, headers={"Range": "bytes=0-99"})
    assert (first.status_code, first.content) == (206, data[:100])
    assert first.headers["Content-Range"] == f"bytes 0-99/{len(data)}"
    assert first.headers["Content-Length"] == "100"
    rest = api.session.get(url, headers={"Range": "bytes=100-"})
    assert (rest.status_code, first.content + rest.content) == (206, data)
    tail = api.session.get(url, headers={"Range": "bytes=-10"})
    assert tail.content == data[-10:]
    beyond = api.session.get(url, headers={"Range": f"bytes={len(data)}-"})
    assert beyond.status_code == 416
    assert beyond.headers["Content-Range"] == f"bytes */{len(data)}"
    malformed = api.session.get(url, headers={"Range": "lines=1-2"})
    assert (malformed.status_code, malformed.content) == (200, data)

    assert api.session.get(url, headers={"If-None-Match": etag}).status_code == 304
    head = api.session.head(url)
    assert (head.status_code, head.headers["Content-Length"], head.content) == (200, str(len(data)), b"")


def test_signed_url_refuses_tampering_and_expires_after_a_day(api: Api, emulator: WanEmulator) -> None:
    url = finish(api, emulator, "wan2.2-t2v-plus", "signed", size="832*480", seed=5)
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    assert set(query) == {"Expires", "OSSAccessKeyId", "Signature"}

    def variant(**changes: str) -> str:
        return urlunsplit(parts._replace(query=urlencode({**query, **changes})))

    signature = query["Signature"]
    forged = ("B" if signature[0] == "A" else "A") + signature[1:]
    for tampered in (
        variant(Signature=forged),
        variant(Expires=str(int(query["Expires"]) + 60)),
    ):
        answer = api.session.get(tampered)
        assert answer.status_code == 403
        assert "<Code>SignatureDoesNotMatch</Code>" in answer.text
    unsigned = urlunsplit(parts._replace(query=""))
    assert api.session.get(unsigned).status_code == 403
    assert api.session.get(url).status_code == 200
    emulator.advance_clock(24 * 3600)
    expired = api.session.get(url)
    assert expired.status_code == 403
    assert "<Code>AccessDenied</Code>" in expired.text


def test_downloads_need_no_key_and_those_sending_one_are_recorded(api: Api, emulator: WanEmulator) -> None:
    url = finish(api, emulator, "wan2.2-t2v-plus", "no key", size="832*480", seed=6)
    assert api.session.get(url).status_code == 200
    assert emulator.video_requests_with_authorization == []
    assert api.session.get(url, headers={"Authorization": f"Bearer {api.key}"}).status_code == 200
    recorded = emulator.video_requests_with_authorization
    assert len(recorded) == 1
    assert recorded[0]["matches_api_key"] is True
    assert recorded[0]["path"] == urlsplit(url).path
    assert api.key not in repr(recorded)
    video_log = [e for e in emulator.request_log if e["endpoint"] == "video"]
    assert [e["authorization"] for e in video_log] == [False, True]


def test_video_is_deterministic_in_prompt_and_seed(api: Api, emulator: WanEmulator) -> None:
    def etag(prompt: str, seed: int) -> str:
        url = finish(api, emulator, "wan2.2-t2v-plus", prompt, size="832*480", seed=seed)
        return str(api.session.head(url).headers["ETag"])

    assert etag("same", 1) == etag("same", 1)
    assert etag("same", 1) != etag("same", 2)
    assert etag("same", 1) != etag("other", 1)


def test_prerender_makes_the_download_ready_before_it_is_asked_for(api: Api) -> None:
    with WanEmulator(task_seconds=1.0, queue_seconds=0.1, cache_dir=None) as eager:
        local = Api(eager, api.session)
        task_id = local.submit("wan2.2-t2v-plus", "eager", size="832*480", seed=9)
        deadline = time.monotonic() + 30
        while eager.state()["renders"] == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert eager.state()["renders"] == 1
        eager.advance_clock(2)
        assert local.session.get(local.output(task_id)["video_url"]).status_code == 200
        assert eager.state()["renders"] == 1
