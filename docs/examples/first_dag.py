"""The README's first DAG: a prompt becomes a video in your S3, priced and capped before anything is billed.

Run by ``tests/docs/test_first_dag.py`` against the emulator and a local S3, as ``airflow dags test`` runs it.
"""

from __future__ import annotations

# [START readme_first_dag]
from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_wan.operators.wan import WanTextToVideoOperator

with DAG("my_first_video", schedule=None, start_date=datetime(2026, 1, 1)) as dag:
    WanTextToVideoOperator(
        task_id="generate_video",
        model="wan2.6-t2v",  # in Virginia (us-east-1) the model is wan2.6-t2v-us
        prompt="A paper boat drifts down a rain-soaked street at dusk, neon signs in the puddles",
        size="1280*720",
        duration=5,  # seconds, billed per second
        max_cost=1.0,  # refused before sending when the estimate is higher, or unknown (no price set)
        destination="s3://my-videos/boats/paper-boat.mp4",  # checked before billing, landed after
    )
# [END readme_first_dag]
