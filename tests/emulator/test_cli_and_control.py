"""The emulator as its own process (the ``wan-emulator`` command) driven through the control API."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.error import HTTPError

import pytest
import requests

from airflow_provider_wan.api import CREATE_PATH, create_headers
from airflow_provider_wan.emulator import RemoteEmulator

KEY = "sk-cli-test"
COMMAND = Path(sys.executable).with_name("wan-emulator")


@pytest.fixture(scope="module")
def process() -> Iterator[tuple[subprocess.Popen[str], str]]:
    emulator = subprocess.Popen(
        [str(COMMAND), "--port", "0", "--api-key", KEY, "--task-seconds", "5", "--queue-seconds", "1",
         "--moderation-marker", "<<nope>>", "--no-prerender"],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert emulator.stdout is not None
    base_url = emulator.stdout.readline().strip()
    try:
        yield emulator, base_url
    finally:
        if emulator.poll() is None:
            emulator.kill()
            emulator.wait()


@pytest.fixture
def remote(process: tuple[subprocess.Popen[str], str]) -> RemoteEmulator:
    control = RemoteEmulator(process[1], KEY)
    control.reset()
    return control


def _create(remote: RemoteEmulator, prompt: str) -> requests.Response:
    body = {"model": "wan2.2-t2v-plus", "input": {"prompt": prompt}, "parameters": {"size": "832*480"}}
    return requests.post(remote.base_url + CREATE_PATH, json=body, headers=create_headers(KEY), timeout=10)


def test_command_prints_its_base_url(process: tuple[subprocess.Popen[str], str]) -> None:
    assert process[1].startswith("http://127.0.0.1:")
    assert process[1].endswith("/api/v1")


def test_remote_control_of_a_separate_process(remote: RemoteEmulator) -> None:
    task_id = _create(remote, "remote").json()["output"]["task_id"]
    assert remote.create_count() == 1
    assert remote.create_count(api_key=KEY, prompt="remote") == 1
    assert remote.create_count(api_key="sk-other") == 0
    assert remote.task(task_id)["status"] == "PENDING"

    remote.advance_clock(6)
    query = requests.get(f"{remote.base_url}/tasks/{task_id}", headers={"Authorization": f"Bearer {KEY}"})
    output = query.json()["output"]
    assert output["task_status"] == "SUCCEEDED"
    assert requests.get(output["video_url"], timeout=60).status_code == 200
    assert remote.video_requests_with_authorization == []
    assert [e["endpoint"] for e in remote.request_log] == ["create", "query", "video"]

    remote.set_faults("query", error_503=1.0)
    assert (
        requests.get(
            f"{remote.base_url}/tasks/{task_id}", headers={"Authorization": f"Bearer {KEY}"}
        ).status_code
        == 503
    )
    assert remote.state()["faults"]["query"]["error_503"] == 1.0
    remote.clear_faults()

    blocked = _create(remote, "a <<nope>> scene").json()["output"][
        "task_id"
    ]  # the marker from the command line
    remote.advance_clock(2)
    assert remote.task(blocked)["code"] == "DataInspectionFailed"

    remote.reset()
    with pytest.raises(KeyError):
        remote.task(task_id)
    assert remote.create_count() == 0


def test_remote_timing(remote: RemoteEmulator) -> None:
    remote.set_timing(task_seconds=100)
    task_id = _create(remote, "slow").json()["output"]["task_id"]
    remote.advance_clock(50)
    assert remote.task(task_id)["status"] == "RUNNING"
    remote.reset()
    assert remote.state()["task_seconds"] == 5
    with pytest.raises(HTTPError):
        remote.set_timing(queue_seconds=-1)


def test_remote_limits_switch(remote: RemoteEmulator) -> None:
    assert [_create(remote, "rate").status_code for _ in range(3)] == [200, 200, 429]
    remote.set_limits(False)
    assert [_create(remote, "rate").status_code for _ in range(3)] == [200, 200, 200]


def test_remote_task_api_rate(remote: RemoteEmulator) -> None:
    headers = {"Authorization": f"Bearer {KEY}"}
    remote.set_task_api_rate(2)
    statuses = [
        requests.get(remote.base_url + "/tasks/x", headers=headers, timeout=5).status_code for _ in range(4)
    ]
    assert statuses.count(429) >= 1
    assert remote.state()["task_api_rate"] == 2
    remote.set_task_api_rate(None)
    statuses = [
        requests.get(remote.base_url + "/tasks/x", headers=headers, timeout=5).status_code for _ in range(30)
    ]
    assert statuses == [200] * 30
    with pytest.raises(HTTPError):
        remote.set_task_api_rate(-3)


def test_control_api_refuses_bad_input(remote: RemoteEmulator) -> None:
    with pytest.raises(HTTPError) as refused:
        remote.set_faults("nowhere", error_500=1.0)
    assert refused.value.code == 400
    with pytest.raises(HTTPError):
        remote.advance_clock(-5)


def test_sigterm_stops_the_command(process: tuple[subprocess.Popen[str], str]) -> None:
    emulator, base_url = process
    emulator.send_signal(signal.SIGTERM)
    assert emulator.wait(timeout=15) == 0
    with pytest.raises(requests.ConnectionError):
        requests.get(base_url + "/tasks/x", timeout=5)


def test_module_entry_point_serves_too() -> None:
    emulator = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_wan.emulator", "--api-key", KEY],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert emulator.stdout is not None
        base_url = emulator.stdout.readline().strip()
        answer = requests.get(base_url + "/tasks/x", headers={"Authorization": f"Bearer {KEY}"}, timeout=10)
        assert answer.json()["output"]["task_status"] == "UNKNOWN"
        emulator.send_signal(signal.SIGINT)
        assert emulator.wait(timeout=15) == 0
    finally:
        if emulator.poll() is None:
            emulator.kill()
            emulator.wait()


def test_command_task_api_rate_flag() -> None:
    emulator = subprocess.Popen(
        [str(COMMAND), "--api-key", KEY, "--task-api-rate", "1", "--no-prerender"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert emulator.stdout is not None
        base_url = emulator.stdout.readline().strip()
        headers = {"Authorization": f"Bearer {KEY}"}
        statuses = [
            requests.get(base_url + "/tasks/x", headers=headers, timeout=5).status_code for _ in range(3)
        ]
        assert statuses[0] == 200
        assert 429 in statuses
        assert RemoteEmulator(base_url, KEY).state()["task_api_rate"] == 1
    finally:
        emulator.send_signal(signal.SIGTERM)
        emulator.wait(timeout=15)
