"""The four calls over real HTTP: shapes, status codes, error bodies and the task life cycle."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
import requests

from airflow_provider_wan.api import TaskStatus, parse_task, parse_task_page
from airflow_provider_wan.api.endpoints import LIST_TIME_FORMAT
from airflow_provider_wan.emulator import WanEmulator
from airflow_provider_wan.emulator.clock import utc

from .conftest import QUEUE_SECONDS, TASK_SECONDS, Api

SERVICE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$")


def _error(answer: object) -> tuple[int, str, str]:
    body = answer.json()  # type: ignore[attr-defined]
    assert set(body) == {"request_id", "code", "message"}, body
    return answer.status_code, body["code"], body["message"]  # type: ignore[attr-defined]


def test_create_answers_pending_task(api: Api) -> None:
    answer = api.create({"model": "wan2.6-t2v", "input": {"prompt": "a lighthouse"}, "parameters": {}})
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/json")
    body = answer.json()
    assert set(body) == {"request_id", "output"}
    assert set(body["output"]) == {"task_id", "task_status"}
    assert body["output"]["task_status"] == "PENDING"


def test_create_without_async_header_is_refused(api: Api) -> None:
    headers = {"Authorization": f"Bearer {api.key}", "Content-Type": "application/json"}
    answer = api.create({"model": "wan2.6-t2v", "input": {"prompt": "x"}}, headers=headers)
    assert _error(answer) == (403, "AccessDenied", "current user api does not support synchronous calls")
    assert api.emulator.create_count() == 0


@pytest.mark.parametrize("authorization", [None, "Bearer sk-wrong", "sk-emulator", "Basic sk-emulator"])
def test_every_call_refuses_a_missing_or_wrong_key(api: Api, authorization: str | None) -> None:
    headers = {"X-DashScope-Async": "enable"}
    if authorization:
        headers["Authorization"] = authorization
    body = {"model": "wan2.6-t2v", "input": {"prompt": "x"}}
    assert _error(api.create(body, headers=headers))[:2] == (401, "InvalidApiKey")
    bad = {"Authorization": authorization} if authorization else {}
    for answer in (
        api.session.get(f"{api.base}/tasks/any", headers=bad),
        api.session.post(f"{api.base}/tasks/any/cancel", headers=bad),
        api.session.get(f"{api.base}/tasks/", headers=bad),
    ):
        assert _error(answer) == (401, "InvalidApiKey", "Invalid API-key provided.")


def test_unknown_model_is_refused_at_create(api: Api) -> None:
    answer = api.create({"model": "wan9.9-t2v", "input": {"prompt": "x"}})
    assert _error(answer) == (400, "InvalidParameter", "Model not exist.")
    answer = api.create({"input": {"prompt": "x"}})
    assert _error(answer) == (400, "InvalidParameter", "Model not exist.")


def test_dated_snapshot_of_a_known_model_is_accepted(api: Api) -> None:
    task_id = api.submit("wan2.7-t2v-2026-04-25", resolution="720P", ratio="1:1", duration=2)
    assert api.emulator.task(task_id)["family"] == "wan2.7-t2v"


def test_missing_prompt_and_bad_json_are_refused_at_create(api: Api) -> None:
    assert _error(api.create({"model": "wan2.6-t2v", "input": {}}))[:2] == (400, "InvalidParameter")
    answer = api.session.post(
        api.base + "/services/aigc/video-generation/video-synthesis",
        data=b"{not json",
        headers={"Authorization": f"Bearer {api.key}", "X-DashScope-Async": "enable"},
    )
    assert _error(answer)[:2] == (400, "InvalidParameter")


def test_life_cycle_pending_running_succeeded(api: Api, emulator: WanEmulator) -> None:
    task_id = api.submit("wan2.5-t2v-preview", "a paper boat", size="832*480", duration=5)
    pending = api.output(task_id)
    assert pending["task_status"] == "PENDING"
    assert "scheduled_time" not in pending
    assert "video_url" not in pending
    emulator.advance_clock(QUEUE_SECONDS + 0.1)
    running = api.output(task_id)
    assert running["task_status"] == "RUNNING"
    assert "end_time" not in running
    assert "video_url" not in running
    emulator.advance_clock(TASK_SECONDS)
    answer = api.query(task_id).json()
    output = answer["output"]
    assert output["task_status"] == "SUCCEEDED"
    assert output["orig_prompt"] == "a paper boat"
    assert output["actual_prompt"].startswith("a paper boat")
    for name in ("submit_time", "scheduled_time", "end_time"):
        assert SERVICE_TIME.match(output[name]), output[name]
    task = parse_task(answer)
    assert task.submit_time
    assert task.scheduled_time
    assert task.end_time
    assert task.submit_time < task.scheduled_time < task.end_time
    assert (task.end_time - task.submit_time).total_seconds() == pytest.approx(TASK_SECONDS, abs=0.01)
    assert task.video_url
    assert "/oss/" in task.video_url
    assert "Expires=" in task.video_url


@pytest.mark.parametrize(
    ("model", "parameters", "usage", "pixels"),
    [
        ("wan2.2-t2v-plus", {"size": "832*480"},
         {"video_count": 1, "video_duration": 5, "video_ratio": "832*480"}, (832, 480)),
        ("wan2.5-t2v-preview", {"size": "1280*720", "duration": 10},
         {"video_count": 1, "video_duration": 10, "video_ratio": "1280*720"}, (1280, 720)),
        ("wan2.6-t2v", {"size": "960*960", "duration": 7},
         {"video_count": 1, "video_duration": 0, "video_ratio": "", "duration": 7, "size": "960*960",
          "input_video_duration": 0, "output_video_duration": 7, "SR": 720}, (960, 960)),
        ("wan2.7-t2v", {"resolution": "720P", "ratio": "4:3", "duration": 3},
         {"video_count": 1, "duration": 3, "input_video_duration": 0, "output_video_duration": 3, "SR": 720,
          "ratio": "4:3"}, (1104, 832)),
    ],
)  # fmt: skip
def test_usage_is_shaped_per_model(
    api: Api,
    emulator: WanEmulator,
    model: str,
    parameters: dict[str, object],
    usage: dict[str, object],
    pixels: tuple[int, int],
) -> None:
    task_id = api.submit(model, "usage check", **parameters)
    emulator.advance_clock(TASK_SECONDS + 1)
    answer = api.query(task_id).json()
    assert answer["usage"] == usage
    parsed = parse_task(answer).usage
    assert parsed is not None
    assert (parsed.width, parsed.height) == pixels
    assert parsed.duration == usage.get("output_video_duration", usage.get("video_duration"))


@pytest.mark.parametrize(
    ("model", "parameters", "named"),
    [
        ("wan2.2-t2v-plus", {"duration": 3}, "duration"),
        ("wan2.2-t2v-plus", {"size": "1280*720"}, "size"),
        ("wan2.7-t2v", {"size": "1280*720"}, "size"),
        ("wan2.6-t2v", {"seed": -1}, "seed"),
        ("wan2.5-t2v-preview", {"shot_type": "multi"}, "shot_type"),
    ],
)
def test_parameter_mistakes_are_accepted_then_fail(
    api: Api, emulator: WanEmulator, model: str, parameters: dict[str, object], named: str
) -> None:
    task_id = api.submit(model, "a kite", **parameters)
    assert api.output(task_id)["task_status"] == "PENDING"
    emulator.advance_clock(QUEUE_SECONDS)
    answer = api.query(task_id).json()
    output = answer["output"]
    assert output["task_status"] == "FAILED"
    assert output["code"] == "InvalidParameter"
    assert named in output["message"]
    assert "usage" not in answer
    assert "video_url" not in output


@pytest.mark.parametrize(
    ("prompt", "code"),
    [
        ("a street at night [[blocked]]", "DataInspectionFailed"),
        ("a famous mouse [[ip-infringement]]", "IPInfringementSuspect"),
    ],
)
def test_moderation_markers_fail_the_task(api: Api, emulator: WanEmulator, prompt: str, code: str) -> None:
    task_id = api.submit("wan2.6-t2v", prompt)
    emulator.advance_clock(QUEUE_SECONDS)
    output = api.output(task_id)
    assert (output["task_status"], output["code"]) == ("FAILED", code)
    assert output["message"]


def test_moderation_marker_in_negative_prompt_also_fails(api: Api, emulator: WanEmulator) -> None:
    answer = api.create(
        {"model": "wan2.6-t2v", "input": {"prompt": "calm sea", "negative_prompt": "x [[blocked]]"}}
    )
    emulator.advance_clock(QUEUE_SECONDS)
    assert api.output(answer.json()["output"]["task_id"])["code"] == "DataInspectionFailed"


def test_cancel_only_pending(api: Api, emulator: WanEmulator) -> None:
    pending = api.submit("wan2.6-t2v", "to cancel")
    answer = api.cancel(pending)
    assert answer.status_code == 200
    assert set(answer.json()) == {"request_id"}
    emulator.advance_clock(TASK_SECONDS * 2)
    output = api.output(pending)
    assert output["task_status"] == "CANCELED"
    assert "video_url" not in output
    assert _error(api.cancel(pending))[:2] == (400, "UnsupportedOperation")

    running = api.submit("wan2.6-t2v", "too late to cancel")
    emulator.advance_clock(QUEUE_SECONDS + 0.1)
    assert _error(api.cancel(running))[:2] == (400, "UnsupportedOperation")
    emulator.advance_clock(TASK_SECONDS)
    assert api.output(running)["task_status"] == "SUCCEEDED"
    assert _error(api.cancel("no-such-task"))[:2] == (400, "UnsupportedOperation")


def test_unknown_and_expired_tasks_answer_unknown(api: Api, emulator: WanEmulator) -> None:
    answer = api.query("0f0e0d0c-0000-4000-8000-000000000000")
    assert answer.status_code == 200
    assert answer.json()["output"] == {
        "task_id": "0f0e0d0c-0000-4000-8000-000000000000",
        "task_status": "UNKNOWN",
    }

    task_id = api.submit("wan2.6-t2v", "short lived")
    emulator.advance_clock(23.9 * 3600)
    assert api.output(task_id)["task_status"] == "SUCCEEDED"
    emulator.advance_clock(0.2 * 3600)
    assert api.output(task_id) == {"task_id": task_id, "task_status": "UNKNOWN"}
    assert api.list().json()["total"] == 0


def test_tasks_are_account_wide(api: Api, emulator: WanEmulator) -> None:
    task_id = api.submit("wan2.6-t2v", "shared")
    assert api.query(task_id, key="sk-second-key").json()["output"]["task_status"] == "PENDING"
    assert api.cancel(task_id, key="sk-second-key").status_code == 200
    assert api.output(task_id)["task_status"] == "CANCELED"


def test_list_is_flat_filtered_and_paged(api: Api, emulator: WanEmulator) -> None:
    ids = [api.submit("wan2.6-t2v", f"scene {n}") for n in range(3)]
    failing = api.submit("wan2.2-t2v-plus", "bad duration", duration=3)
    emulator.advance_clock(QUEUE_SECONDS)
    answer = api.list(page_size=2)
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"request_id", "total", "total_page", "page_no", "page_size", "data"}
    assert (body["total"], body["total_page"], body["page_no"], body["page_size"]) == (4, 2, 1, 2)
    row = body["data"][0]
    assert set(row) >= {"task_id", "status", "model_name", "gmt_create", "start_time", "end_time", "region",
                        "request_id"}  # fmt: skip
    assert isinstance(row["gmt_create"], int)
    assert row["task_id"] == failing  # newest first
    second = api.list(page_size=2, page_no=2).json()
    assert [r["task_id"] for r in second["data"]] == [ids[1], ids[0]]

    page = parse_task_page(api.list(status="FAILED").json())
    assert [t.task_id for t in page.tasks] == [failing]
    assert page.tasks[0].status is TaskStatus.FAILED
    assert api.list(model_name="wan2.6-t2v").json()["total"] == 3
    assert api.list(task_id=ids[2]).json()["data"][0]["task_id"] == ids[2]
    assert api.list(page_no=9).json()["data"] == []


def test_list_window_defaults_to_a_day_and_may_not_exceed_it(api: Api, emulator: WanEmulator) -> None:
    task_id = api.submit("wan2.6-t2v", "windowed")
    created = utc(emulator.task(task_id)["created_at"])

    def window(start: timedelta, end: timedelta) -> dict[str, str]:
        return {"start_time": (created + start).strftime(LIST_TIME_FORMAT),
                "end_time": (created + end).strftime(LIST_TIME_FORMAT)}  # fmt: skip

    assert api.list(**window(-timedelta(minutes=1), timedelta(minutes=1))).json()["total"] == 1
    assert api.list(**window(-timedelta(hours=2), -timedelta(hours=1))).json()["total"] == 0
    assert (
        api.list(start_time=(created - timedelta(minutes=1)).strftime(LIST_TIME_FORMAT)).json()["total"] == 1
    )
    too_wide = {"start_time": "20250101000000", "end_time": "20250103000000"}
    assert _error(api.list(**too_wide))[:2] == (400, "InvalidParameter")
    assert _error(api.list(start_time="yesterday"))[:2] == (400, "InvalidParameter")
    assert _error(api.list(status="DONE"))[:2] == (400, "InvalidParameter")
    assert _error(api.list(page_size=1000))[:2] == (400, "InvalidParameter")


def test_unknown_path_under_the_api(api: Api) -> None:
    answer = api.session.get(
        f"{api.base}/services/nothing-here", headers={"Authorization": f"Bearer {api.key}"}
    )
    assert _error(answer) == (400, "InvalidParameter", "url error, please check url!")


def test_counts_and_request_log_hold_no_secret(api: Api, emulator: WanEmulator) -> None:
    api.submit("wan2.6-t2v", "counted")
    api.submit("wan2.6-t2v", "counted")
    api.create({"model": "nope", "input": {"prompt": "counted"}})
    api.session.post(
        api.base + "/services/aigc/video-generation/video-synthesis",
        json={"model": "wan2.6-t2v", "input": {"prompt": "other"}},
        headers={"Authorization": "Bearer sk-second-key", "X-DashScope-Async": "enable"},
    )
    assert emulator.create_count(include_refused=True) == 4
    assert emulator.create_count(prompt="counted", include_refused=True) == 3
    assert emulator.create_count(prompt="counted") == 2  # the unknown model's 400 is not counted
    assert emulator.create_count(api_key="sk-second-key") == 1
    assert emulator.create_count(api_key=api.key, prompt="other") == 0
    log = emulator.request_log
    assert [entry["endpoint"] for entry in log] == ["create"] * 4
    assert [entry["status"] for entry in log] == [200, 200, 400, 200]
    assert all(entry["authorization"] for entry in log)
    dumped = json.dumps(log) + json.dumps(emulator.state())
    assert api.key not in dumped
    assert "sk-second-key" not in dumped


def test_reset_forgets_everything(api: Api, emulator: WanEmulator) -> None:
    task_id = api.submit("wan2.6-t2v", "forgotten")
    emulator.advance_clock(100)
    emulator.set_faults("list", error_500=1.0)
    emulator.reset()
    assert api.output(task_id)["task_status"] == "UNKNOWN"
    assert emulator.create_count() == 0
    assert [e["endpoint"] for e in emulator.request_log] == ["query"]
    assert api.list().status_code == 200
    assert emulator.state()["clock"]["offset"] == 0


def test_prompt_over_the_model_limit_is_truncated_not_refused(api: Api, emulator: WanEmulator) -> None:
    prompt = "a very long description. " * 40  # 1,000 characters; wan2.2 reads 800
    task_id = api.submit("wan2.2-t2v-plus", prompt, size="832*480")
    emulator.advance_clock(TASK_SECONDS + 1)
    output = api.output(task_id)
    assert output["task_status"] == "SUCCEEDED"
    assert output["orig_prompt"] == prompt
    assert output["actual_prompt"].startswith(prompt[:800])
    assert not output["actual_prompt"].startswith(prompt[:801])
    assert "800" in emulator.task(task_id)["warnings"][0]


def test_stop_while_rendering_then_no_restart() -> None:
    emulator = WanEmulator(cache_dir=None).start()  # prerender on: creating starts a 1080p render
    with requests.Session() as session:
        Api(emulator, session).submit("wan2.6-t2v", "stop while rendering", duration=15)
    emulator.stop()
    emulator.stop()  # idempotent
    with pytest.raises(RuntimeError, match="make a new one"):
        emulator.start()


def test_timing_can_change_for_new_tasks_until_reset(api: Api, emulator: WanEmulator) -> None:
    before = api.submit("wan2.6-t2v", "made before")
    emulator.set_timing(task_seconds=3600, queue_seconds=30)
    slow = api.submit("wan2.6-t2v", "made after")
    emulator.advance_clock(TASK_SECONDS + 1)
    assert api.output(before)["task_status"] == "SUCCEEDED"
    assert api.output(slow)["task_status"] == "PENDING"
    emulator.advance_clock(30)
    assert api.output(slow)["task_status"] == "RUNNING"
    with pytest.raises(ValueError, match="0 or more"):
        emulator.set_timing(task_seconds=-1)
    emulator.reset()
    assert emulator.state()["task_seconds"] == TASK_SECONDS
