"""Every answer example of the seeds and of the contract page parses into the typed results."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from airflow_provider_wan.api import (
    TaskStatus,
    Usage,
    VideoRequest,
    WanApiError,
    WanResponseError,
    is_retryable,
    parse_error,
    parse_task,
    parse_task_page,
)
from airflow_provider_wan.api.responses import sr_tier
from tests.api import seeds

SEED_ANSWERS = seeds.answers()


def test_every_seed_file_gives_answers() -> None:
    files = {name for name, _ in SEED_ANSWERS}
    assert len(files) == 5
    assert len(SEED_ANSWERS) >= 25


@pytest.mark.parametrize(
    ("seed", "body"), SEED_ANSWERS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(SEED_ANSWERS)]
)
def test_seed_answer_parses(seed: str, body: dict[str, Any]) -> None:
    task = parse_task(body)
    assert task.task_id == body["output"]["task_id"]
    assert task.status is TaskStatus(body["output"]["task_status"])
    if task.status is TaskStatus.SUCCEEDED:
        assert task.video_url
        assert task.video_url.startswith("https://dashscope-result-")
    if body.get("usage"):
        assert task.usage is not None
        assert task.usage.duration == 10
        assert (task.usage.width, task.usage.height) in {(832, 480), (1280, 720)}
    else:
        assert task.usage is None
    assert task.to_dict()["status"] == task.status.value


def _seed(name_prefix: str, predicate: Any) -> dict[str, Any]:
    return next(body for name, body in SEED_ANSWERS if name.startswith(name_prefix) and predicate(body))


def test_the_fox() -> None:
    body = _seed("000", lambda b: "submit_time" in b["output"])
    task = parse_task(body)
    assert task.status is TaskStatus.SUCCEEDED
    assert task.status.is_terminal
    assert task.submit_time == datetime(2025, 10, 23, 11, 47, 23, 879000)
    assert task.scheduled_time == datetime(2025, 10, 23, 11, 47, 34, 351000)
    assert task.end_time == datetime(2025, 10, 23, 11, 52, 35, 323000)
    assert task.orig_prompt is not None
    assert "fox" in task.orig_prompt
    assert task.actual_prompt is not None
    assert task.actual_prompt.startswith("Low-angle shot")
    assert task.usage == Usage(duration=10, width=832, height=480, video_count=1)
    assert task.request_id == "167f3beb-3dd0-47fe-a83c-xxxxxx"
    assert task.to_dict()["submit_time"] == "2025-10-23T11:47:23.879000"


def test_the_cat_general() -> None:
    body = _seed("001", lambda b: "actual_prompt" in b["output"])
    task = parse_task(body)
    assert task.orig_prompt is not None
    assert "小猫将军" in task.orig_prompt
    assert task.usage == Usage(duration=10, width=832, height=480, video_count=1)


def test_the_wan26_answer_with_numbers_as_strings_and_floats() -> None:
    body = _seed("002", lambda b: b.get("usage") and b["usage"].get("SR") == "720")
    task = parse_task(body)
    assert body["usage"]["duration"] == 10.0
    assert task.usage == Usage(duration=10.0, width=1280, height=720, video_count=1)
    assert task.submit_time == datetime(2026, 1, 22, 23, 13, 40, 553000)


def test_the_wan26_answer_with_empty_legacy_fields() -> None:
    body = _seed("002", lambda b: b.get("usage") and b["usage"].get("video_ratio") == "")
    assert parse_task(body).usage == Usage(duration=10, width=1280, height=720, video_count=1)


def test_the_wan27_multi_shot_answer_with_elisions() -> None:
    body = _seed("004", lambda b: True)
    task = parse_task(body)
    assert task.task_id == "966cebcd-dedc-4962-af88-xxxxxx"
    assert task.status is TaskStatus.SUCCEEDED
    assert task.usage is None


def test_the_pending_answer_of_create() -> None:
    body = _seed("000", lambda b: b["output"]["task_status"] == "PENDING" and "usage" not in b)
    task = parse_task(body)
    assert task.status is TaskStatus.PENDING
    assert not task.status.is_terminal
    assert task.video_url is None


SEED_BODIES = seeds.create_bodies()


def test_seed_create_bodies_found() -> None:
    models = {body["model"] for _, body in SEED_BODIES}
    assert {"wan2.7-t2v-2026-04-25", "wan2.6-t2v", "wan2.2-t2v-plus"} <= models


@pytest.mark.parametrize(
    ("seed", "body"), SEED_BODIES, ids=[b["model"] + f"-{i}" for i, (_, b) in enumerate(SEED_BODIES)]
)
def test_seed_create_bodies_validate_and_round_trip(seed: str, body: dict[str, Any]) -> None:
    request = VideoRequest.from_body(body)
    request.validate()
    assert request.to_body() == body


def test_the_silent_wan22_case() -> None:
    body = next(b for _, b in SEED_BODIES if b["model"] == "wan2.2-t2v-plus")
    output = VideoRequest.from_body(body).output()
    assert (output.width, output.height, output.duration, output.has_audio) == (832, 480, 5, False)


def test_the_wan27_multi_shot_case() -> None:
    body = next(
        b for _, b in SEED_BODIES if b["model"].startswith("wan2.7") and b["parameters"]["duration"] == 15
    )
    output = VideoRequest.from_body(body).output()
    assert (output.width, output.height, output.duration, output.fps) == (1280, 720, 15, 30)
    assert "第1個鏡頭" in body["input"]["prompt"]


# The contract page's own examples.


def test_contract_query_answer() -> None:
    task = parse_task(
        {
            "request_id": "r1",
            "output": {
                "task_id": "t1",
                "task_status": "SUCCEEDED",
                "submit_time": "2025-10-23 11:47:23.879",
                "scheduled_time": "2025-10-23 11:47:30.000",
                "end_time": "2025-10-23 11:50:00.001",
                "orig_prompt": "a cat",
                "actual_prompt": "a cat, cinematic",
                "video_url": "https://dashscope-result-sh.oss-accelerate.aliyuncs.com/xxx.mp4?Expires=1",
            },
            "usage": {
                "video_count": 1,
                "duration": 10,
                "size": "1280*720",
                "SR": 720,
                "output_video_duration": 10,
                "input_video_duration": 0,
            },
        }
    )
    assert task.usage == Usage(duration=10, width=1280, height=720, video_count=1)
    assert task.actual_prompt == "a cat, cinematic"


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        ({"video_duration": 5, "video_ratio": "832*480"}, Usage(5, 832, 480)),
        ({"duration": "10", "size": "1920*1080", "SR": "1080"}, Usage(10, 1920, 1080)),
        ({"duration": 10.0, "ratio": "16:9", "SR": "720"}, Usage(10, 1280, 720)),
        ({"output_video_duration": 15, "ratio": "3:4", "SR": 1080}, Usage(15, 1248, 1648)),
        ({"output_video_duration": 15.0, "ratio": "3:4", "SR": "1080P"}, Usage(15, 1248, 1648)),
        ({"duration": 8, "ratio": "1104*832"}, Usage(8, 1104, 832)),
        ({"duration": 8, "ratio": "9:16"}, Usage(8, None, None)),
        ({"video_count": "1"}, Usage(None, None, None, 1)),
    ],
)
def test_usage_normalised_whatever_the_model(usage: dict[str, Any], expected: Usage) -> None:
    task = parse_task({"output": {"task_id": "t", "task_status": "SUCCEEDED"}, "usage": usage})
    assert task.usage == expected


@pytest.mark.parametrize(
    ("sr", "tier"),
    [(720, "720P"), ("720", "720P"), (720.0, "720P"), ("1080P", "1080P"), ("480p", "480P"), ("480.0", "480P"),
     (0, None), ("720.5", None), ("4K", None), (None, None), (True, None), (float("nan"), None)],
)  # fmt: skip
def test_the_tier_usage_sr_names_in_every_shape(sr: Any, tier: str | None) -> None:
    assert sr_tier(sr) == tier


def test_contract_failed_answer() -> None:
    task = parse_task(
        {
            "request_id": "r2",
            "output": {
                "task_id": "t2",
                "task_status": "FAILED",
                "code": "InvalidParameter",
                "message": "The size is not match the allowed size list.",
            },
        }
    )
    assert task.status is TaskStatus.FAILED
    assert task.status.is_terminal
    assert (task.code, task.message) == ("InvalidParameter", "The size is not match the allowed size list.")
    assert task.usage is None
    assert not is_retryable(400, task.code)


def test_contract_unknown_answer() -> None:
    task = parse_task({"request_id": "r3", "output": {"task_id": "gone", "task_status": "UNKNOWN"}})
    assert task.status is TaskStatus.UNKNOWN
    assert task.status.is_terminal


def test_canceled_is_terminal() -> None:
    assert parse_task({"output": {"task_id": "c", "task_status": "CANCELED"}}).status.is_terminal


def test_contract_list_answer() -> None:
    page = parse_task_page(
        {
            "total": 3,
            "total_page": 2,
            "page_no": 1,
            "page_size": 2,
            "request_id": "r4",
            "data": [
                {
                    "task_id": "a",
                    "status": "SUCCEEDED",
                    "model_name": "wan2.6-t2v",
                    "gmt_create": 1761191243879,
                    "start_time": 1761191250000,
                    "end_time": 1761191400000,
                    "region": "ap-southeast-1",
                    "request_id": "ra",
                },
                {
                    "task_id": "b",
                    "status": "RUNNING",
                    "model_name": "wan2.7-t2v",
                    "gmt_create": "1761191243879",
                },
            ],
        }
    )
    assert (page.total, page.total_page, page.page_no, page.page_size) == (3, 2, 1, 2)
    assert [t.task_id for t in page.tasks] == ["a", "b"]
    assert page.tasks[0].created == datetime(2025, 10, 23, 3, 47, 23, 879000, tzinfo=timezone.utc)
    assert page.tasks[0].region == "ap-southeast-1"
    assert page.tasks[1].status is TaskStatus.RUNNING
    assert page.tasks[1].created == page.tasks[0].created


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        {"output": None},
        {"output": {"task_status": "SUCCEEDED"}},
        {"output": {"task_id": "x", "task_status": "DONE"}},
        {"output": {"task_id": "", "task_status": "PENDING"}},
    ],
)
def test_answers_outside_the_contract_are_malformed_and_retryable(body: Any) -> None:
    with pytest.raises(WanResponseError) as raised:
        parse_task(body)
    assert raised.value.retryable


def test_list_answer_outside_the_contract() -> None:
    with pytest.raises(WanResponseError):
        parse_task_page({"data": "nope"})


@pytest.mark.parametrize(
    ("status", "body", "code", "retryable"),
    [
        (
            400,
            {"request_id": "q", "code": "InvalidParameter", "message": "Model not exist."},
            "InvalidParameter",
            False,
        ),
        (
            400,
            {"code": "DataInspectionFailed", "message": "Input data may contain inappropriate content."},
            "DataInspectionFailed",
            False,
        ),
        (400, {"code": "IPInfringementSuspect", "message": "ip"}, "IPInfringementSuspect", False),
        (
            400,
            {
                "code": "Arrearage",
                "message": "Access denied, please make sure your account is in good standing.",
            },
            "Arrearage",
            False,
        ),
        (400, {"code": "UnsupportedOperation", "message": "not PENDING"}, "UnsupportedOperation", False),
        (401, {"code": "InvalidApiKey", "message": "Invalid API-key provided."}, "InvalidApiKey", False),
        (
            403,
            {"code": "AccessDenied", "message": "current user api does not support synchronous calls"},
            "AccessDenied",
            False,
        ),
        (403, {"code": "Model.AccessDenied", "message": "no"}, "Model.AccessDenied", False),
        (404, {"code": "ModelNotFound", "message": "no"}, "ModelNotFound", False),
        (
            429,
            {"code": "Throttling.RateQuota", "message": "Requests rate limit exceeded"},
            "Throttling.RateQuota",
            True,
        ),
        (429, {"code": "Throttling.AllocationQuota", "message": "quota"}, "Throttling.AllocationQuota", True),
        (500, {"code": "InternalError", "message": "oops"}, "InternalError", True),
        (500, {"code": "InternalError.Algo", "message": "oops"}, "InternalError.Algo", True),
        (500, {"code": "ModelServiceFailed", "message": "oops"}, "ModelServiceFailed", True),
        (500, {"code": "RequestTimeOut", "message": "oops"}, "RequestTimeOut", True),
        (500, {"code": "InternalError.Timeout", "message": "3 hours"}, "InternalError.Timeout", False),
        (503, {"code": "ModelUnavailable", "message": "busy"}, "ModelUnavailable", True),
        (500, {"code": "ModelServingError", "message": "busy"}, "ModelServingError", True),
        (502, "<html>bad gateway</html>", None, True),
    ],
)
def test_error_bodies_and_their_classification(
    status: int, body: Any, code: str | None, retryable: bool
) -> None:
    error = parse_error(status, body)
    assert isinstance(error, WanApiError)
    assert error.http_status == status
    assert error.code == code
    assert error.retryable is retryable
    assert f"HTTP {status}" in str(error)
    if isinstance(body, dict):
        assert body["message"] in str(error)


def test_retry_after_is_kept() -> None:
    error = parse_error(429, {"code": "Throttling", "message": "slow down"}, retry_after="7")
    assert error.retry_after == 7.0


def test_network_failure_is_retryable() -> None:
    assert is_retryable(None, None)
    assert WanApiError("connection reset").retryable


@pytest.mark.parametrize(
    "code",
    ["InternalError", "InternalError.Algo", "ModelServiceFailed", "RequestTimeOut", "ModelUnavailable"],
)
def test_transient_task_failure_codes(code: str) -> None:
    assert is_retryable(200, code)


@pytest.mark.parametrize(
    "code",
    [
        "InvalidParameter",
        "DataInspectionFailed",
        "IPInfringementSuspect",
        "Arrearage",
        "InternalError.Timeout",
    ],
)
def test_final_task_failure_codes(code: str) -> None:
    assert not is_retryable(200, code)


def test_a_task_keeps_the_usage_the_service_sent_for_billing() -> None:
    usage = {
        "duration": 10.0,
        "input_video_duration": 5,
        "output_video_duration": 5,
        "SR": 720,
        "size": "1280*720",
    }
    body = {"output": {"task_id": "t-1", "task_status": "SUCCEEDED"}, "usage": usage}

    task = parse_task(body)

    assert task.service_usage == usage
    assert task.usage == Usage(5, 1280, 720, None)  # normalised: the output's seconds
    assert task.to_dict()["service_usage"] == usage
    assert hash(task) == hash(parse_task({**body, "usage": {**usage, "SR": "720"}}))  # not part of equality
    assert parse_task({"output": {"task_id": "t-2", "task_status": "PENDING"}}).service_usage is None
