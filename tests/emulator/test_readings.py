"""The emulator plays other readings of the contract where ours is an assumption: each switch changes what
the service answers exactly as the reading says, and nothing else; ``reset()`` restores our reading."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

from airflow_provider_wan.api import parse_task, parse_task_page
from airflow_provider_wan.api.endpoints import LIST_TIME_FORMAT
from airflow_provider_wan.emulator import RemoteEmulator
from airflow_provider_wan.emulator.settings import Readings
from airflow_provider_wan.emulator.tasks import normalised_prompt

from .conftest import Api

COMMAND = Path(sys.executable).with_name("wan-emulator")


def _window(hours_east: float) -> dict[str, str]:
    """The last ten minutes, written as local times ``hours_east`` of UTC."""
    now = datetime.now(timezone.utc) + timedelta(hours=hours_east)
    return {
        "start_time": (now - timedelta(minutes=10)).strftime(LIST_TIME_FORMAT),
        "end_time": (now + timedelta(minutes=1)).strftime(LIST_TIME_FORMAT),
    }


@pytest.mark.parametrize(("status", "code"), [(403, "AccessDenied"), (404, "NotFound")])
def test_list_refused(api: Api, status: int, code: str) -> None:
    api.submit()
    api.emulator.set_readings(list_refused=status)
    answer = api.list()
    assert (answer.status_code, answer.json()["code"]) == (status, code)
    api.emulator.reset()
    assert api.list().status_code == 200


def test_list_times_read_in_another_zone(api: Api) -> None:
    task_id = api.submit()
    found = [row.task_id for row in parse_task_page(api.list(**_window(0)).json()).tasks]
    assert found == [task_id]  # our reading: UTC

    api.emulator.set_readings(list_utc_offset=8)
    assert parse_task_page(api.list(**_window(0)).json()).tasks == []  # a UTC window lies 8 hours back
    found = [row.task_id for row in parse_task_page(api.list(**_window(8)).json()).tasks]
    assert found == [task_id]  # the same moments written in Beijing time
    assert parse_task_page(api.list().json()).tasks[0].task_id == task_id  # no times: its own last 24 h


def test_list_files_a_snapshot_under_its_family(api: Api) -> None:
    task_id = api.submit(model="wan2.7-t2v-2026-04-25", prompt="a dated snapshot")
    as_sent = parse_task_page(api.list(model_name="wan2.7-t2v-2026-04-25").json()).tasks
    assert [(row.task_id, row.model_name) for row in as_sent] == [(task_id, "wan2.7-t2v-2026-04-25")]

    api.emulator.set_readings(list_model_name="family")
    assert parse_task_page(api.list(model_name="wan2.7-t2v-2026-04-25").json()).tasks == []
    by_family = parse_task_page(api.list(model_name="wan2.7-t2v").json()).tasks
    assert [(row.task_id, row.model_name) for row in by_family] == [(task_id, "wan2.7-t2v")]


def test_list_refuses_an_end_time_in_the_future(api: Api) -> None:
    task_id = api.submit()
    ahead = {
        **_window(0),
        "end_time": (datetime.now(timezone.utc) + timedelta(hours=8)).strftime(LIST_TIME_FORMAT),
    }
    assert [row.task_id for row in parse_task_page(api.list(**ahead).json()).tasks] == [task_id]

    api.emulator.set_readings(list_future_end="refused")
    answer = api.list(**ahead)
    assert (answer.status_code, answer.json()["code"]) == (400, "InvalidParameter")
    assert "end_time" in answer.json()["message"]
    assert [row.task_id for row in parse_task_page(api.list(**_window(0)).json()).tasks] == [task_id]


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        ("A paper boat in the rain.", "A paper boat in the rain "),
        ("A fox, a hound:  a chase!", "A fox\uff0c a hound\uff1a a chase\uff01 "),
        ("一只小猫。", "一只小猫 "),
    ],
)
def test_orig_prompt_normalised(api: Api, sent: str, shown: str) -> None:
    assert normalised_prompt(sent) == shown
    task_id = api.submit(prompt=sent)
    assert api.output(task_id)["orig_prompt"] == sent
    api.emulator.set_readings(orig_prompt="normalised")
    assert api.output(task_id)["orig_prompt"] == shown
    assert api.emulator.create_count(prompt=sent) == 1  # the create is counted by the prompt as sent


def test_usage_as_text_and_no_actual_prompt(api: Api) -> None:
    task_id = api.submit(model="wan2.6-t2v", size="1280*720", duration=4)
    api.emulator.advance_clock(60)
    plain = api.query(task_id).json()
    assert (plain["usage"]["SR"], plain["usage"]["duration"]) == (720, 4)
    assert plain["output"]["actual_prompt"]

    api.emulator.set_readings(usage_shape="text")
    shaped = api.query(task_id).json()
    assert (shaped["usage"]["SR"], shaped["usage"]["duration"]) == ("720", 4.0)
    assert isinstance(shaped["usage"]["duration"], float)
    assert "actual_prompt" not in shaped["output"]
    assert parse_task(shaped).usage == parse_task(plain).usage  # the same facts, read either way


def test_readings_refuse_what_no_reading_allows(api: Api) -> None:
    with pytest.raises(ValueError, match="list_refused=500"):
        api.emulator.set_readings(list_refused=500)
    with pytest.raises(ValueError, match="unknown reading 'list_zone'"):
        api.emulator.set_readings(list_zone=8)
    with pytest.raises(ValueError, match="name=value"):
        Readings.parse("list-refused")
    assert Readings.parse("list-refused=403, list-utc-offset=8 orig-prompt=normalised usage-shape=text") == (
        Readings(list_refused=403, list_utc_offset=8.0, orig_prompt="normalised", usage_shape="text")
    )


def test_command_line_and_control_api() -> None:
    emulator = subprocess.Popen(
        [str(COMMAND), "--port", "0", "--api-key", "sk-readings", "--no-prerender", "--list-refused", "403",
         "--list-utc-offset", "8", "--orig-prompt", "normalised", "--usage-shape", "text"],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert emulator.stdout is not None
        base_url = emulator.stdout.readline().strip()
        remote = RemoteEmulator(base_url, "sk-readings")
        expected = Readings(
            list_refused=403, list_utc_offset=8.0, orig_prompt="normalised", usage_shape="text"
        )
        assert remote.state()["readings"] == expected.to_dict()
        auth = {"Authorization": "Bearer sk-readings"}
        assert requests.get(f"{base_url}/tasks/", headers=auth, timeout=10).status_code == 403
        remote.reset()
        assert remote.state()["readings"]["list_refused"] == 403  # reset keeps the process's own readings
        assert remote.set_readings(list_refused=None)["list_refused"] is None
        assert requests.get(f"{base_url}/tasks/", headers=auth, timeout=10).status_code == 200
    finally:
        emulator.kill()
        emulator.wait()


def test_command_line_refuses_an_offset_no_zone_has() -> None:
    done = subprocess.run(
        [str(COMMAND), "--list-utc-offset", "20"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 2
    assert "list_utc_offset=20.0: hours from -12 to 14" in done.stderr
