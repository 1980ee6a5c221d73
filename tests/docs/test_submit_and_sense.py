"""The sensor and trigger pages' example (``docs/examples/submit_and_sense.py``): a submission that returns
at once, a deferrable sensor that waits for it through the trigger, and the copy into S3."""

from __future__ import annotations

import pytest

from airflow_provider_wan.emulator import WanEmulator
from airflow_provider_wan.testing.dag_runs import WanAirflow
from airflow_provider_wan.testing.s3 import WanS3
from tests.docs.markers import EXAMPLES, load_dag

pytestmark = pytest.mark.timeout(240)


def test_the_sensor_waits_for_the_submitted_task_and_the_copy_lands_it(
    wan_airflow: WanAirflow, wan_connection: str, wan_emulator: WanEmulator, wan_s3: WanS3
) -> None:
    wan_s3.create_bucket("my-videos")
    wan_emulator.set_timing(task_seconds=1, queue_seconds=0.1)

    run = wan_airflow.run(load_dag(EXAMPLES / "submit_and_sense.py"))

    wan_task_id = run.xcom("submit")
    assert isinstance(wan_task_id, str)  # the id alone: the submission did not wait
    assert run.xcom("wait_for_video")["task_id"] == wan_task_id
    assert run.xcom("wait_for_video")["status"] == "SUCCEEDED"
    copied = run.xcom("copy_to_s3")
    assert copied["wan_task_id"] == wan_task_id
    assert wan_s3.get(copied["s3_uri"])[4:8] == b"ftyp"
    assert wan_emulator.create_count() == 1
