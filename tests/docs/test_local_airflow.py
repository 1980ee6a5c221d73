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
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from airflow_provider_wan.emulator import RemoteEmulator
from airflow_provider_wan.testing.s3 import s3_client
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


@dataclass
class Outcome:
    """How the example's run ended, what its task went through, and what the emulator was asked."""

    state: str
    task_states: set[str]
    creates: int
    landed: list[str]
    log: str


@pytest.mark.parametrize("mode", ["standalone", "separate"])
def test_the_first_example_runs_in_a_local_airflow(mode: str, tmp_path: Path) -> None:
    outcome = run_the_example(SCRIPT, mode, reader_environment(tmp_path))
    assert outcome.state == "success", outcome.log
    assert "deferred" in outcome.task_states, f"the task waits in the triggerer: {outcome.task_states}"
    assert outcome.landed == [f"wan/{DAG_ID}/paper-boat.mp4"]
    assert outcome.creates == 1


def test_without_the_api_urls_a_moved_api_server_starts_no_task(tmp_path: Path) -> None:
    """The trap the how-to warns of: the API server on another port, ``[api] base_url`` and ``[core]
    execution_api_server_url`` unset. Tasks look for the API server on port 8080 and never start; the run
    fails and nothing reaches Wan."""
    lines = SCRIPT.read_text(encoding="utf-8").splitlines(keepends=True)
    trap = ("export AIRFLOW__API__BASE_URL=", "export AIRFLOW__CORE__EXECUTION_API_SERVER_URL=")
    kept = [line for line in lines if not line.startswith(trap)]
    assert len(lines) - len(kept) == len(trap)
    script = tmp_path / SCRIPT.name
    script.write_text("".join(kept), encoding="utf-8")
    outcome = run_the_example(script, "separate", reader_environment(tmp_path))
    assert outcome.state == "failed", outcome.log
    assert outcome.task_states & {"running", "deferred", "success"} == set(), outcome.task_states
    assert (outcome.creates, outcome.landed) == (0, [])


def run_the_example(script: Path, mode: str, env: dict[str, str]) -> Outcome:
    """Start Airflow with ``script`` in ``mode``, run its trigger lines once the DAG is parsed, and wait
    for the run to end."""
    home = Path(env["AIRFLOW_HOME"])
    api = f"http://127.0.0.1:{env['API_PORT']}"
    airflow = Service(
        mode, ["bash", str(script), mode], env, home.parent / f"{mode}.log", stop_signal=signal.SIGINT
    )
    airflow.start()
    try:
        wait_for("every component healthy", lambda: healthy(api), 300, airflow.describe, interval=2)
        session = signed_in(api)
        wait_for(
            "the DAG parsed", lambda: session.get(f"{api}/api/v2/dags/{DAG_ID}").ok, 120, airflow.describe
        )
        trigger = subprocess.run(
            ["bash", str(script), "trigger"],
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

        state = wait_for("the run to finish", finished, 300, airflow.describe, interval=2)
        emulator = RemoteEmulator(f"http://127.0.0.1:{env['WAN_PORT']}/api/v1", "sk-local")
        landed = s3_keys(env["S3_PORT"], "wan-videos")
        return Outcome(state, task_states, emulator.create_count(), landed, airflow.describe())
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


def s3_keys(port: str, bucket: str) -> list[str]:
    """The keys in ``bucket`` whose object is an MP4 (its ``ftyp`` box where a video file starts)."""
    s3 = s3_client(f"http://127.0.0.1:{port}")
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    head = {key: s3.get_object(Bucket=bucket, Key=key, Range="bytes=0-7")["Body"].read() for key in keys}
    return sorted(key for key in keys if head[key][4:8] == b"ftyp")
