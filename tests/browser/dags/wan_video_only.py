"""A video that stays at Wan: generated, never copied to S3 (its tab plays it from Wan's own URL)."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_wan.operators.wan import WanTextToVideoOperator

with DAG("wan_video_only", schedule=None, start_date=datetime(2026, 1, 1), catchup=False, tags=["test"]):
    WanTextToVideoOperator(
        task_id="generate_video",
        model="wan2.6-t2v",
        prompt="A lighthouse beam sweeps over a calm sea at dawn",
        size="1280*720",
        duration=2,
        deferrable=True,
        poll_interval=1,
        max_poll_interval=2,
    )
