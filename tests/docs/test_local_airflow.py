"""The how-to "Run it in a real local Airflow", as a reader runs it: ``docs/examples/local_airflow.sh`` in
both modes (``airflow standalone``, and each component its own process), then its trigger lines in another
shell with the same settings; the first example DAG waits in the triggerer and lands its video in the local
S3, made once. The API server is on a free port, not 8080: the settings the how-to calls the ones that trip
people are what lets its task start."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
import requests

from airflow_provider_wan.emulator import RemoteEmulator
from tests.deployment.harness import BIN, Service, clean_environment, free_port, wait_for
from tests.docs.markers import EXAMPLES, ROOT

pytestmark = [pytest.mark.deployment, pytest.mark.timeout(600)]

SCRIPT = EXAMPLES / "local_airflow.sh"
DAG_ID = "example_wan_text_to_video"


def reader_environment(tmp_path: Path) -> dict[str, str]:
    """A shell of someone who installed the package: its commands on PATH, free ports, their folders."""
    dags = tmp_path / "dags"
    dags.mkdir()
    shutil.copy(ROOT / "example_dags" / f"{DAG_ID}.py", dags)
    return {
        **clean_environment(),
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "API_PORT": str(free_port()),
        "WAN_PORT": str(free_port()),
        "S3_PORT": str(free_port()),
        "AIRFLOW_HOME": str(tmp_path / "airflow-home"),
        "DAGS_FOLDER": str(dags),
        # The test signs in to the REST API without the generated admin password, and keeps the log
        # servers off their fixed ports, which other Airflows on a shared machine may hold.
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
    }


@pytest.mark.parametrize("mode", ["standalone", "separate"])
def test_the_first_example_runs_in_a_local_airflow(mode: str, tmp_path: Path) -> None:
    env = reader_environment(tmp_path)
    api = f"http://127.0.0.1:{env['API_PORT']}"
    airflow = Service(
        mode, ["bash", str(SCRIPT), mode], env, tmp_path / f"{mode}.log", stop_signal=signal.SIGINT
    )
    airflow.start()
    try:
        wait_for("every component healthy", lambda: healthy(api), 300, airflow.describe, interval=2)
        session = signed_in(api)
        wait_for(
            "the DAG parsed", lambda: session.get(f"{api}/api/v2/dags/{DAG_ID}").ok, 120, airflow.describe
        )

        trigger = subprocess.run(
            ["bash", str(SCRIPT), "trigger"],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        assert trigger.returncode == 0, trigger.stdout + trigger.stderr

        task_states: set[str] = set()

        def finished() -> str | None:
            runs = session.get(f"{api}/api/v2/dags/{DAG_ID}/dagRuns").json()["dag_runs"]
            if len(runs) != 1:
                return None
            path = f"{api}/api/v2/dags/{DAG_ID}/dagRuns/{runs[0]['dag_run_id']}/taskInstances"
            task_states.update(str(ti["state"]) for ti in session.get(path).json()["task_instances"])
            return str(runs[0]["state"]) if runs[0]["state"] in {"success", "failed"} else None

        assert wait_for("the run to finish", finished, 240, airflow.describe, interval=2) == "success"
        assert "deferred" in task_states, f"the task waits in the triggerer: {sorted(task_states)}"
        video = s3_object(env["S3_PORT"], "wan-videos", f"wan/{DAG_ID}/paper-boat.mp4")
        assert video[4:8] == b"ftyp"
        emulator = RemoteEmulator(f"http://127.0.0.1:{env['WAN_PORT']}/api/v1", "sk-local")
        assert emulator.create_count() == 1
    finally:
        airflow.request_stop()
        airflow.finish_stop(deadline=0)


def healthy(api: str) -> bool:
    body = requests.get(f"{api}/api/v2/monitor/health", timeout=5).json()
    parts = ("metadatabase", "scheduler", "triggerer", "dag_processor")
    return all(body.get(part, {}).get("status") == "healthy" for part in parts)


def signed_in(api: str) -> requests.Session:
    session = requests.Session()
    token = requests.get(f"{api}/auth/token", timeout=10).json()["access_token"]
    session.headers["Authorization"] = f"Bearer {token}"
    return session


def s3_object(port: str, bucket: str, key: str) -> bytes:
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
