"""Lip-sync: a presenter speaking your own voice-over, taken from S3.

``audio_url`` takes an ``s3://bucket/key`` URI: the operator checks the object exists and is at most
15 MB, and hands Wan a presigned URL valid for an hour (made with the ``aws_default`` connection; the
presigned URL itself is never logged or put in XCom). The audio must be a wav or mp3 of 3-30 s
(2-30 s on wan2.7); longer than ``duration`` is cut, shorter leaves the rest silent.

Put the voice-over at ``s3://<WAN_EXAMPLE_BUCKET>/audio/voice-over.mp3`` or pass ``audio_uri``.
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

with DAG(
    dag_id="example_wan_lip_sync",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params={
        "audio_uri": Param(f"s3://{BUCKET}/audio/voice-over.mp3", type="string", pattern="^s3://"),
        "duration": Param(10, type="integer", minimum=2, maximum=15),
    },
    tags=["wan", "example"],
    doc_md=__doc__,
) as dag:
    # Before anything is billed: the bucket exists and this AWS connection may write to it.
    # [START howto_operator_wan_s3_destination_check]
    check_bucket = WanS3DestinationCheckOperator(task_id="check_s3_bucket", s3_bucket=BUCKET)
    # [END howto_operator_wan_s3_destination_check]
    generate = WanTextToVideoOperator(
        task_id="generate_talking_presenter",
        model="wan2.6-t2v",
        prompt=(
            "A news presenter at a studio desk looks into the camera and speaks, "
            "lips in sync with the voice, soft key light, shallow depth of field"
        ),
        audio_url="{{ params.audio_uri }}",
        size="1280*720",
        duration="{{ params.duration }}",
        deferrable=True,
        **POLLING,
    )
    # [START howto_operator_wan_video_to_s3]
    WanVideoToS3Operator(
        task_id="copy_to_s3",
        wan_task_id="{{ ti.xcom_pull(task_ids='generate_talking_presenter')['task_id'] }}",
        generation=generate.output,
        s3_bucket=BUCKET,
    )
    check_bucket >> generate
    # [END howto_operator_wan_video_to_s3]
