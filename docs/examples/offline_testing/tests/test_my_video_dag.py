"""The offline-testing recipe: a DAG author's tests with the kit's fixtures, run by
``tests/docs/test_offline_testing.py`` in a fresh project with this folder's ``pyproject.toml``."""

from __future__ import annotations

# [START howto_testing_dag]
import datetime as dt

import pytest
from airflow.sdk import DAG

from airflow_provider_wan.operators.wan import WanTextToVideoOperator
from airflow_provider_wan.testing.dag_runs import WanDagRunFailed

with DAG("my_video_dag", schedule=None, start_date=dt.datetime(2026, 1, 1)) as dag:  # or import your DAG file
    WanTextToVideoOperator(
        task_id="generate_video",
        model="wan2.6-t2v",
        prompt="A paper boat",
        size="1280*720",
        duration=2,
        destination="s3://my-videos/boats/paper-boat.mp4",  # checked before billing, landed after
    )


def test_my_dag_lands_one_video_in_s3(wan_airflow, wan_connection, wan_emulator, wan_s3):
    wan_s3.create_bucket("my-videos")
    run = wan_airflow.run(dag)  # like a manual trigger; raises WanDagRunFailed naming a failed task
    landed = run.xcom("generate_video")
    assert wan_s3.get(landed["s3_uri"])[4:8] == b"ftyp"  # an MP4, in S3
    assert wan_emulator.create_count() == 1  # submitted exactly once
    assert wan_emulator.video_requests_with_authorization == []  # the key never went to the video host


def test_a_rerun_bills_nothing(wan_airflow, wan_connection, wan_emulator, wan_s3):
    wan_s3.create_bucket("my-videos")
    wan_airflow.run(dag)
    again = wan_airflow.run(dag).xcom("generate_video")
    assert again["landed"] == "skipped"  # the key holds this request's video already
    assert wan_emulator.create_count() == 1


def test_a_missing_bucket_fails_before_anything_is_billed(wan_airflow, wan_connection, wan_emulator, wan_s3):
    with pytest.raises(WanDagRunFailed, match=r"Invalid destination='s3://my-videos/boats/paper-boat\.mp4'"):
        wan_airflow.run(dag)
    assert wan_emulator.create_count() == 0


# [END howto_testing_dag]
