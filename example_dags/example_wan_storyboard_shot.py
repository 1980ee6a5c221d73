"""Two storyboard keyframes -> one shot: Wan's first-and-last-frame video, landed in S3.

``WanKeyframesToVideoOperator`` makes a 5-second silent video that starts on the first keyframe and ends
on the last (the first sets the aspect), through the family's own endpoint. The keyframes are ``s3://``
URIs here, checked (a picture of at most 10 MB and 240-8000 px) and presigned for the service; https,
``oss://`` and ``data:image/...`` URLs work as well.

Models: ``wan2.1-kf2v-plus`` (Singapore; ``wanx2.1-kf2v-plus`` in Beijing, 720P) and
``wan2.2-kf2v-flash`` (Beijing; 480P, 720P or 1080P). Put the frames at
``s3://<WAN_EXAMPLE_BUCKET>/storyboard/shot-01-start.png`` and ``...-end.png`` or pass them as params.
"""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import DAG, Param

from airflow_provider_wan.operators.wan import WanKeyframesToVideoOperator
from airflow_provider_wan.transfers.wan_to_s3 import WanS3DestinationCheckOperator, WanVideoToS3Operator

BUCKET = os.environ.get("WAN_EXAMPLE_BUCKET", "wan-videos")
# Pauses between status checks: a first look soon, then slower up to the vendor's suggested 15 s.
POLLING = {
    "poll_interval": float(os.environ.get("WAN_EXAMPLE_POLL_SECONDS", "2")),
    "max_poll_interval": float(os.environ.get("WAN_EXAMPLE_MAX_POLL_SECONDS", "15")),
}
KEYFRAME_MODELS = ["wan2.1-kf2v-plus", "wanx2.1-kf2v-plus", "wan2.2-kf2v-flash"]

with DAG(
    dag_id="example_wan_storyboard_shot",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params={
        "first_frame": Param(f"s3://{BUCKET}/storyboard/shot-01-start.png", type="string", minLength=1),
        "last_frame": Param(f"s3://{BUCKET}/storyboard/shot-01-end.png", type="string", minLength=1),
        "prompt": Param(
            "The camera cranes up over the orchard as the farmhouse door swings open",
            type="string",
            maxLength=800,
        ),
        "model": Param(KEYFRAME_MODELS[0], enum=KEYFRAME_MODELS),
    },
    tags=["wan", "example"],
    doc_md=__doc__,
) as dag:
    # Before anything is billed: the bucket exists and this AWS connection may write to it.
    check_bucket = WanS3DestinationCheckOperator(task_id="check_s3_bucket", s3_bucket=BUCKET)
    # [START howto_operator_wan_keyframes_storyboard]
    shot = WanKeyframesToVideoOperator(
        task_id="join_keyframes",
        model="{{ params.model }}",
        first_frame_url="{{ params.first_frame }}",
        last_frame_url="{{ params.last_frame }}",
        prompt="{{ params.prompt }}",
        resolution="720P",  # every kf2v model offers it; always 5 s, silent
        deferrable=True,
        **POLLING,
    )
    # [END howto_operator_wan_keyframes_storyboard]
    WanVideoToS3Operator(
        task_id="copy_to_s3",
        wan_task_id="{{ ti.xcom_pull(task_ids='join_keyframes')['task_id'] }}",
        generation=shot.output,
        s3_bucket=BUCKET,
    )
    check_bucket >> shot
