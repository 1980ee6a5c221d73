"""Multi-shot videos: wan2.7 follows the shots written in the prompt; wan2.6 plans its own shots.

wan2.7 takes ``resolution`` and ``ratio`` instead of a pixel size and follows a shot list written in the
prompt. wan2.6 plans the shots itself when asked for ``shot_type="multi"``, which the service accepts only
with ``prompt_extend=True`` (the operator refuses anything else before a request is sent). Both videos go
to S3 (``WAN_EXAMPLE_BUCKET``, default ``wan-videos``).
"""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import DAG, Param

from airflow_provider_wan.operators.wan import WanTextToVideoOperator
from airflow_provider_wan.transfers.wan_to_s3 import WanS3DestinationCheckOperator, WanVideoToS3Operator

BUCKET = os.environ.get("WAN_EXAMPLE_BUCKET", "wan-videos")
# Pauses between status checks: a first look soon, then slower up to the vendor's suggested 15 s.
POLLING = {
    "poll_interval": float(os.environ.get("WAN_EXAMPLE_POLL_SECONDS", "2")),
    "max_poll_interval": float(os.environ.get("WAN_EXAMPLE_MAX_POLL_SECONDS", "15")),
}

SHOT_LIST = (
    "A three-shot sequence in a mountain village at dawn. "
    "Shot 1, wide: mist lifts off terraced fields as the sun clears the ridge. "
    "Shot 2, medium: a farmer in a straw hat walks a water buffalo along the path. "
    "Shot 3, close-up: dew drops fall from a rice leaf, catching the light."
)
STORY = "A street musician plays violin in a snowy square; passers-by stop, a child drops a coin in the case"

with DAG(
    dag_id="example_wan_multi_shot",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params={"duration": Param(10, type="integer", minimum=2, maximum=15)},
    tags=["wan", "example"],
    doc_md=__doc__,
) as dag:
    # Before anything is billed: the bucket exists and this AWS connection may write to it.
    check_bucket = WanS3DestinationCheckOperator(task_id="check_s3_bucket", s3_bucket=BUCKET)
    # [START howto_operator_wan_multi_shot]
    shot_list = WanTextToVideoOperator(
        task_id="wan27_shot_list",
        model="wan2.7-t2v",
        prompt=SHOT_LIST,
        resolution="720P",
        ratio="16:9",
        duration="{{ params.duration }}",
        deferrable=True,
        **POLLING,
    )
    planned_shots = WanTextToVideoOperator(
        task_id="wan26_multi_shot",
        model="wan2.6-t2v",
        prompt=STORY,
        size="1280*720",
        shot_type="multi",
        prompt_extend=True,
        duration="{{ params.duration }}",
        deferrable=True,
        **POLLING,
    )
    # [END howto_operator_wan_multi_shot]
    WanVideoToS3Operator(
        task_id="copy_wan27_shot_list",
        wan_task_id="{{ ti.xcom_pull(task_ids='wan27_shot_list')['task_id'] }}",
        generation=shot_list.output,
        s3_bucket=BUCKET,
    )
    WanVideoToS3Operator(
        task_id="copy_wan26_multi_shot",
        wan_task_id="{{ ti.xcom_pull(task_ids='wan26_multi_shot')['task_id'] }}",
        generation=planned_shots.output,
        s3_bucket=BUCKET,
    )
    check_bucket >> [shot_list, planned_shots]
