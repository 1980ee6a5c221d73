"""A video copied by a separate step: generated without a destination, then ``WanVideoToS3Operator``."""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_wan.operators.wan import WanTextToVideoOperator
from airflow_provider_wan.transfers.wan_to_s3 import WanVideoToS3Operator

with DAG("wan_video_copied", schedule=None, start_date=datetime(2026, 1, 1), catchup=False, tags=["test"]):
    generate = WanTextToVideoOperator(
        task_id="generate_video",
        model="wan2.6-t2v",
        prompt="A paper lantern rises over a river at night",
        size="1280*720",
        duration=2,
        deferrable=True,
        poll_interval=1,
        max_poll_interval=2,
    )
    WanVideoToS3Operator(
        task_id="copy_to_s3",
        generation=generate.output,
        s3_bucket=os.environ.get("WAN_EXAMPLE_BUCKET", "wan-videos"),
    )
