"""Two triggerer processes share one Wan account: Airflow as a platform team scales it (CeleryExecutor over
Redis, PostgreSQL, two Celery workers, two triggerers, scheduler, dag-processor and API server, each its own
process) waits for a mapped batch of videos through the ``wan-emulator`` command with its task-API limit on
(query, cancel and list share 20 requests a second). Each process is given half of the account's rate
with the connection's ``task_api_rps`` extra. Every video succeeds on its first try with one create, both
triggerers hold some of the batch, and there is no throttling storm: at most 1% of the task-API requests
are refused.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_wan.emulator.remote import RemoteEmulator
from tests.deployment.harness import BIN, CeleryDeployment, free_port, wait_for

pytestmark = [pytest.mark.deployment, pytest.mark.timeout(1200)]

API_KEY = "sk-shared-account"
VIDEOS = 60
DAG_ID = "shared_account_batch"
# Polls every 1-2 s, as a hurried user sets it: 60 tasks polled one by one would ask for 30-60 requests a
# second, past the account's 20.
DAG_SOURCE = f"""
import datetime as dt

from airflow.sdk import DAG

from airflow_provider_wan.operators.wan import WanTextToVideoOperator

with DAG({DAG_ID!r}, schedule=None, start_date=dt.datetime(2026, 1, 1)):
    WanTextToVideoOperator.partial(
        task_id="generate_video", model="wan2.6-t2v", size="1280*720", duration=2, deferrable=True,
        poll_interval=1, max_poll_interval=2,
    ).expand(prompt=["Shared account video " + str(n) for n in range({VIDEOS})])
"""


class SharedAccountDeployment(CeleryDeployment):
    """Triggerers that cannot hold the whole batch alone (Airflow 3.1 hands one all it can take)."""

    def settings(self) -> dict[str, dict[str, str]]:
        conf = super().settings()
        conf["triggerer"] = {**conf.get("triggerer", {}), "capacity": str(VIDEOS * 2 // 3)}
        return conf


@pytest.fixture(scope="module")
def deployment(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[CeleryDeployment, RemoteEmulator]]:
    dag_file = tmp_path_factory.mktemp("dags") / f"{DAG_ID}.py"
    dag_file.write_text(DAG_SOURCE)
    airflow = SharedAccountDeployment(
        home=tmp_path_factory.mktemp("airflow-shared-account"), dag_files=[dag_file]
    )
    try:
        argv = [
            str(BIN / "wan-emulator"),
            "--port",
            str(free_port()),
            "--api-key",
            API_KEY,
            "--task-seconds",
            "30",
            "--queue-seconds",
            "0",
            "--max-running",
            "20",
            "--no-prerender",
        ]  # fmt: skip  (20 at once: the batch finishes over about 90 s; the task-API limit stays on)
        url = airflow.start_service("wan-emulator", argv).wait_for_output(r"http://\S+/api/v1")
        connection = {"conn_type": "wan", "host": url, "password": API_KEY, "extra": {"task_api_rps": 10}}
        airflow.env["AIRFLOW_CONN_WAN_DEFAULT"] = json.dumps(connection)
        airflow.start()  # then two workers and two triggerers
        airflow.wait_for_dags([DAG_ID])
        yield airflow, RemoteEmulator(url, API_KEY)
    finally:
        airflow.stop()


def test_two_triggerers_share_the_account_without_a_throttling_storm(
    deployment: tuple[CeleryDeployment, RemoteEmulator],
) -> None:
    airflow, emulator = deployment
    run_id = airflow.trigger(DAG_ID)
    triggerers: set[Any] = set()

    def finished() -> str | None:
        airflow.check_alive()
        for ti in airflow.task_instances(DAG_ID, run_id):
            if ti["state"] == "deferred" and ti.get("triggerer_job"):
                triggerers.add(int(ti["triggerer_job"]["id"]))
        state = airflow.run_state(DAG_ID, run_id)
        return state if state in ("success", "failed") else None

    state = wait_for(
        "the batch to finish", finished, 600, airflow.run_diagnostics(DAG_ID, run_id), interval=2
    )

    tis = airflow.task_instances(DAG_ID, run_id)
    task_api = [entry for entry in emulator.request_log if entry["endpoint"] in ("query", "list", "cancel")]
    throttled = [entry for entry in task_api if entry["status"] == 429]
    assert state == "success", airflow.run_diagnostics(DAG_ID, run_id)()
    assert sorted((ti["state"], ti["try_number"]) for ti in tis) == [("success", 1)] * VIDEOS
    assert [emulator.create_count(prompt=f"Shared account video {n}") for n in range(VIDEOS)] == [1] * VIDEOS
    assert triggerers == set(airflow.triggerer_jobs.values()), triggerers  # both held some of the batch
    assert len(throttled) <= 0.01 * len(task_api), (len(throttled), len(task_api))
    assert any(entry["endpoint"] == "list" for entry in task_api)  # they swept rather than polled each task
    assert not [entry for entry in task_api if entry["endpoint"] == "cancel"]
