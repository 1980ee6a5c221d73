"""Fault injection per endpoint, as our reliability tests use it."""

from __future__ import annotations

import http.client
import json
import time
from urllib.error import HTTPError
from urllib.parse import urlsplit

import pytest
import requests

from airflow_provider_wan.api import parse_error
from airflow_provider_wan.emulator import WanEmulator

from .conftest import TASK_SECONDS, Api


@pytest.mark.parametrize(
    ("setting", "status", "code"),
    [
        ("error_500", 500, "InternalError"),
        ("error_503", 503, "ModelUnavailable"),
        ("error_429", 429, "Throttling"),
    ],
)
def test_error_answers_are_in_the_service_shape(
    api: Api, emulator: WanEmulator, setting: str, status: int, code: str
) -> None:
    emulator.set_faults("create", **{setting: 1.0})
    answer = api.create({"model": "wan2.6-t2v", "input": {"prompt": "faulty"}})
    error = parse_error(answer.status_code, answer.json(), answer.headers.get("Retry-After"))
    assert (error.http_status, error.code, error.retryable) == (status, code, True)
    assert emulator.create_count() == 0
    assert emulator.request_log[-1]["status"] == status
    assert api.list().status_code == 200  # other endpoints are untouched


def test_error_probability_is_honoured(api: Api, emulator: WanEmulator) -> None:
    task_id = api.submit("wan2.6-t2v", "sometimes")
    emulator.set_task_api_rate(None)  # 220 raw queries in a burst; the rate limit has its own tests
    emulator.set_faults("query", error_500=0.5)
    statuses = [api.query(task_id).status_code for _ in range(200)]
    assert 60 < statuses.count(500) < 140
    assert set(statuses) == {200, 500}
    emulator.clear_faults()
    assert {api.query(task_id).status_code for _ in range(20)} == {200}


def test_latency_delays_the_answer(api: Api, emulator: WanEmulator) -> None:
    task_id = api.submit("wan2.6-t2v", "slow")
    emulator.set_faults("query", latency=0.3)
    started = time.perf_counter()
    assert api.query(task_id).status_code == 200
    assert time.perf_counter() - started >= 0.3


def test_dropped_connection_never_answers_and_creates_nothing(api: Api, emulator: WanEmulator) -> None:
    emulator.set_faults("create", drop=1.0)
    with pytest.raises(requests.ConnectionError):
        api.create({"model": "wan2.6-t2v", "input": {"prompt": "lost"}})
    assert emulator.create_count() == 0
    assert emulator.request_log[-1]["status"] == "dropped"
    emulator.clear_faults()
    assert api.create({"model": "wan2.6-t2v", "input": {"prompt": "lost"}}).status_code == 200


def test_malformed_answer_after_the_call_took_effect(api: Api, emulator: WanEmulator) -> None:
    emulator.set_faults("create", malformed=1.0)
    answer = api.create({"model": "wan2.6-t2v", "input": {"prompt": "half an answer"}})
    assert answer.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        answer.json()
    assert emulator.create_count(prompt="half an answer") == 1  # a task exists all the same
    assert api.list().json()["total"] == 1


def test_cut_video_download(api: Api, emulator: WanEmulator) -> None:
    task_id = api.submit("wan2.2-t2v-plus", "cut short", size="832*480", seed=2)
    emulator.advance_clock(TASK_SECONDS + 1)
    url = urlsplit(api.output(task_id)["video_url"])
    emulator.set_faults("video", cut_video_at=1000)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    connection.request("GET", f"{url.path}?{url.query}")
    response = connection.getresponse()
    assert response.status == 200
    length = int(response.headers["Content-Length"])
    with pytest.raises(http.client.IncompleteRead) as cut:
        response.read()
    assert len(cut.value.partial) == 1000 < length
    connection.close()

    ranged = requests.get(url.geturl(), headers={"Range": "bytes=500-"}, stream=True, timeout=30)
    assert ranged.status_code == 206
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        ranged.content  # noqa: B018
    emulator.clear_faults()
    assert len(requests.get(url.geturl(), timeout=30).content) == length


def test_video_errors_are_object_storage_errors(api: Api, emulator: WanEmulator) -> None:
    task_id = api.submit("wan2.2-t2v-plus", "oss errors", size="832*480", seed=4)
    emulator.advance_clock(TASK_SECONDS + 1)
    emulator.set_faults("video", error_503=1.0)
    answer = api.session.get(api.output(task_id)["video_url"])
    assert answer.status_code == 503
    assert answer.headers["Content-Type"].startswith("application/xml")
    assert "<Code>ServiceUnavailable</Code>" in answer.text


def test_bad_fault_settings_are_refused(emulator: WanEmulator) -> None:
    with pytest.raises(ValueError, match="endpoint"):
        emulator.set_faults("upload", error_500=1.0)
    with pytest.raises(ValueError, match="error_500"):
        emulator.set_faults("query", error_500=1.5)
    with pytest.raises(ValueError, match="exceed"):
        emulator.set_faults("query", error_500=0.7, error_503=0.7)


def test_accept_then_drop_creates_and_bills_but_never_answers(api: Api, emulator: WanEmulator) -> None:
    emulator.set_faults("create", accept_then_drop=1.0)
    with pytest.raises(requests.ConnectionError):
        api.create({"model": "wan2.6-t2v", "input": {"prompt": "taken, then lost"}})
    assert emulator.create_count(prompt="taken, then lost") == 1
    assert emulator.request_log[-1]["status"] == "accepted-then-dropped"
    rows = api.list(model_name="wan2.6-t2v").json()["data"]
    assert len(rows) == 1
    assert api.output(rows[0]["task_id"])["orig_prompt"] == "taken, then lost"


def test_accept_then_drop_probability_is_honoured(api: Api, emulator: WanEmulator) -> None:
    emulator.set_limits(False)
    emulator.set_faults("create", accept_then_drop=0.5)
    outcomes: list[int | str] = []
    for number in range(60):
        try:
            answer = api.create({"model": "wan2.6-t2v", "input": {"prompt": f"p{number}"}})
            outcomes.append(answer.status_code)
        except requests.ConnectionError:
            outcomes.append("dropped")
    assert 15 < outcomes.count("dropped") < 45
    assert set(outcomes) == {200, "dropped"}
    assert emulator.create_count() == 60  # every one of them was created


def test_accept_then_drop_leaves_refused_creates_alone(api: Api, emulator: WanEmulator) -> None:
    emulator.set_faults("create", accept_then_drop=1.0)
    answer = api.create({"model": "wan9-nonexistent", "input": {"prompt": "refused"}})
    assert answer.status_code == 400
    assert emulator.create_count() == 0


def test_accept_then_delay_creates_before_answering(api: Api, emulator: WanEmulator) -> None:
    emulator.set_faults("create", accept_then_delay=1.0)
    with requests.Session() as other:
        started = time.perf_counter()
        with pytest.raises(requests.ReadTimeout):  # the caller gives up (or dies) inside the window
            other.post(
                api.base + "/services/aigc/video-generation/video-synthesis",
                json={"model": "wan2.6-t2v", "input": {"prompt": "slow answer"}},
                headers={**api._auth(None), "X-DashScope-Async": "enable"},
                timeout=0.3,
            )
    assert emulator.create_count(prompt="slow answer") == 1  # created all the same
    answer = api.create({"model": "wan2.6-t2v", "input": {"prompt": "waits"}})
    assert answer.status_code == 200
    assert time.perf_counter() - started >= 1.0


def test_accept_then_faults_through_the_control_api(emulator: WanEmulator) -> None:
    from airflow_provider_wan.emulator import RemoteEmulator

    remote = RemoteEmulator(emulator.base_url, emulator.api_key)
    remote.set_faults("create", accept_then_drop=0.25, accept_then_delay=2.5)
    assert emulator.state()["faults"]["create"]["accept_then_drop"] == 0.25
    assert emulator.state()["faults"]["create"]["accept_then_delay"] == 2.5
    with pytest.raises(HTTPError) as refused:
        remote.set_faults("create", accept_then_drop=2.0)
    assert "accept_then_drop" in refused.value.read().decode()
    with pytest.raises(ValueError, match="accept_then_delay"):
        emulator.set_faults("create", accept_then_delay=-1)
