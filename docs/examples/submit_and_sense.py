"""Submit now, wait elsewhere: a generation that returns its Wan task id at once, a deferrable sensor that
waits for it in the triggerer (through ``WanTaskTrigger``), and a copy of the video into S3.

``tests/docs/test_submit_and_sense.py`` runs it against the emulator and moto S3.
"""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_wan.operators.wan import WanTextToVideoOperator
from airflow_provider_wan.sensors.wan import WanTaskSensor
from airflow_provider_wan.transfers.wan_to_s3 import WanVideoToS3Operator

with DAG("docs_wan_submit_and_sense", schedule=None, start_date=datetime(2026, 1, 1), catchup=False) as dag:
    # [START howto_sensor_wan_task]
    submit = WanTextToVideoOperator(
        task_id="submit",
        model="wan2.6-t2v",
        prompt="A lighthouse beam sweeps the fog at night",
        size="1280*720",
        duration=5,
        wait_for_completion=False,  # returns the Wan task id as soon as the task is accepted
    )
    wait = WanTaskSensor(
        task_id="wait_for_video",
        wan_task_id=submit.output,  # the Wan task id (any id of the same account and region works)
        deferrable=True,  # waits in the triggerer with WanTaskTrigger: no worker slot held
        poke_interval=15,  # seconds between checks (the vendor suggests about 15)
        timeout=3600,
    )
    copy = WanVideoToS3Operator(
        task_id="copy_to_s3",
        wan_task_id=submit.output,
        s3_bucket="my-videos",  # key: wan/<dag_id>/<run id>/<task_id>.mp4 unless s3_key is set
    )
    wait >> copy
    # [END howto_sensor_wan_task]
