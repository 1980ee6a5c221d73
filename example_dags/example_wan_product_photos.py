"""Product photos in S3 -> one short video each, landed next to the photos: dynamic task mapping.

Every picture under ``photos_prefix`` (JPEG, PNG, BMP or WEBP) becomes one mapped
``WanImageToVideoOperator`` task that animates it and lands the video at ``videos/<photo key>.mp4`` in
the same bucket (``products/mug.png`` -> ``videos/products/mug.png.mp4``), each task on its own: a photo
refused by moderation fails only its task. The photos go to Wan as ``s3://`` URIs: the operator checks
each object (it exists, is a picture within the model's 20 MB and 240-8000 px limits) and hands the
service a presigned URL valid for an hour; XCom and the logs show the ``s3://`` URI. The output keeps
each photo's aspect at 720P (a 4:3 photo gives 1104x816).

A batch is billed per video, so ``max_photos`` (default 20) bounds it: a prefix holding more pictures
fails in ``list_photos``, before anything is billed. Run it again and only new photos are billed: a
key that holds the video of the same request is that task's result (``"landed": "skipped"``). The tasks
run in the ``wan_api`` pool (``WAN_EXAMPLE_POOL``) as in ``example_wan_batch``.

Put the photos at ``s3://<WAN_EXAMPLE_BUCKET>/products/`` or pass ``photos_prefix``.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from airflow.sdk import DAG, Param, task

from airflow_provider_wan.operators.wan import WanImageToVideoOperator
from airflow_provider_wan.transfers.wan_to_s3 import WanS3DestinationCheckOperator

BUCKET = os.environ.get("WAN_EXAMPLE_BUCKET", "wan-videos")
POOL = os.environ.get("WAN_EXAMPLE_POOL", "wan_api")
# Pauses between status checks: a first look soon, then slower up to the vendor's suggested 15 s.
POLLING = {
    "poll_interval": float(os.environ.get("WAN_EXAMPLE_POLL_SECONDS", "2")),
    "max_poll_interval": float(os.environ.get("WAN_EXAMPLE_MAX_POLL_SECONDS", "15")),
}
PICTURE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


with DAG(
    dag_id="example_wan_product_photos",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params={
        "photos_prefix": Param("products/", type="string", description=f"key prefix in s3://{BUCKET}"),
        "max_photos": Param(20, type="integer", minimum=1, description="refuse bigger batches (billed)"),
        "prompt": Param(
            "The product turns slowly on its stand, soft studio light, the camera pushes in",
            type="string",
            minLength=1,
        ),
        "duration": Param(5, type="integer", minimum=2, maximum=15),
    },
    tags=["wan", "example"],
    doc_md=__doc__,
) as dag:
    # Before anything is billed: the bucket exists and this AWS connection may write to it.
    check_bucket = WanS3DestinationCheckOperator(task_id="check_s3_bucket", s3_bucket=BUCKET)

    @task
    def list_photos(params: dict[str, Any]) -> list[dict[str, str]]:
        """One row per picture under the prefix (its ``s3://`` URI and its video's), refused when more
        than ``max_photos``."""
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        keys = S3Hook(aws_conn_id="aws_default").list_keys(bucket_name=BUCKET, prefix=params["photos_prefix"])
        photos = sorted(key for key in keys if key.lower().endswith(PICTURE_SUFFIXES))
        where = f"s3://{BUCKET}/{params['photos_prefix']}"
        if not photos:
            raise ValueError(f"Invalid photos_prefix={params['photos_prefix']!r}: no picture under {where}")
        if len(photos) > params["max_photos"]:
            raise ValueError(
                f"{len(photos)} pictures under {where}, more than max_photos={params['max_photos']}: "
                "nothing was billed; raise max_photos or narrow photos_prefix"
            )
        return [
            {
                "img_url": f"s3://{BUCKET}/{key}",
                "destination": f"s3://{BUCKET}/videos/{key}.mp4",
            }
            for key in photos
        ]

    photos = list_photos()
    check_bucket >> photos
    # [START howto_operator_wan_image_to_video_mapped]
    WanImageToVideoOperator.partial(
        task_id="animate_photo",
        model="wan2.6-i2v-flash",
        prompt="{{ params.prompt }}",
        resolution="720P",
        duration="{{ params.duration }}",
        audio=False,  # silent product shots: -flash bills them at the silent price
        deferrable=True,
        **POLLING,
        pool=POOL,
    ).expand_kwargs(photos)
    # [END howto_operator_wan_image_to_video_mapped]
