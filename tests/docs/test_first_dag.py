"""The README's first DAG and its connection (``docs/examples/first_dag.py`` and ``first_dag.sh``): the
connection calls Singapore; ``airflow dags test`` runs the DAG with the connection's prices against the
emulator and a local S3 (one video, landed, priced within its cap); without a price the cap refuses the
request before anything is billed."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_wan.emulator import WanEmulator
from airflow_provider_wan.testing.dag_runs import WanAirflow, WanDagRunFailed
from airflow_provider_wan.testing.s3 import WanS3
from tests.deployment.harness import BIN
from tests.docs.markers import EXAMPLES, run_shell

pytestmark = pytest.mark.timeout(300)

FIRST_DAG = EXAMPLES / "first_dag.py"
SHELL = EXAMPLES / "first_dag.sh"
VIDEO = "s3://my-videos/boats/paper-boat.mp4"


def readme_connection() -> dict[str, Any]:
    """The ``wan_default`` connection the README exports, as JSON."""
    shell = run_shell(SHELL, "readme_connection", then='printf %s "$AIRFLOW_CONN_WAN_DEFAULT"')
    assert shell.returncode == 0, shell.stderr
    return dict(json.loads(shell.stdout))


def load_dag() -> Any:
    namespace: dict[str, Any] = {}
    exec(compile(FIRST_DAG.read_text(encoding="utf-8"), str(FIRST_DAG), "exec"), namespace)
    return namespace["dag"]


def test_the_readme_connection_calls_singapore(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_provider_wan.hooks.wan import WanHook

    monkeypatch.setenv("AIRFLOW_CONN_WAN_DEFAULT", json.dumps(readme_connection()))
    assert WanHook().base_url == "https://dashscope-intl.aliyuncs.com/api/v1"


def test_airflow_dags_test_lands_the_video_priced_within_its_cap(
    wan_airflow: WanAirflow, wan_emulator: WanEmulator, wan_s3: WanS3, tmp_path: Path
) -> None:
    wan_s3.create_bucket("my-videos")
    dags = tmp_path / "dags"
    dags.mkdir()
    shutil.copy(FIRST_DAG, dags)
    connection = {**readme_connection(), "host": wan_emulator.base_url, "password": wan_emulator.api_key}
    env = {
        "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW_CONN_WAN_DEFAULT": json.dumps(connection),  # the README's, pointed at the emulator
    }

    run = run_shell(SHELL, "readme_first_run", env=env)

    assert run.returncode == 0, run.stdout + run.stderr
    assert "Wan estimate: 5 s x USD 0.1/s = USD 0.5" in run.stdout + run.stderr
    assert wan_s3.get(VIDEO)[4:8] == b"ftyp"
    bucket, key = VIDEO.removeprefix("s3://").split("/", 1)
    assert wan_s3.client.head_object(Bucket=bucket, Key=key)["Metadata"]["wan-billed-seconds"] == "5"
    assert wan_emulator.create_count() == 1


def test_without_a_price_the_cap_refuses_before_anything_is_billed(
    wan_airflow: WanAirflow, wan_connection: str, wan_emulator: WanEmulator, wan_s3: WanS3
) -> None:
    wan_s3.create_bucket("my-videos")

    with pytest.raises(
        WanDagRunFailed, match=r"max_cost=1: no estimate for 'wan2\.6-t2v': no price for model"
    ):
        wan_airflow.run(load_dag())

    assert wan_emulator.create_count(include_refused=True) == 0
