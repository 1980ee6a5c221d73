"""Downstream of every Wan video: runs whenever ``WanVideoToS3Operator`` lands one in S3.

The transfer reports each object it writes as an asset event (``s3://bucket/key``) through the
``wan_videos`` asset alias, since the key is only known at run time; this DAG is scheduled on that alias,
so any DAG's copy task triggers it with no wiring between the DAGs. Here it checks each new object (an
MP4, with the Wan task id and the verified SHA-256 the transfer recorded) and returns a catalogue entry:
the place to hand the video on to review, publishing or a media library.

One run may bring several videos (events that arrive together are handled in one run). Airflow 3.1 can
drop an event that lands while the scheduler is creating a run (apache/airflow#56050); Airflow 3.3 keeps
them all. Run by hand, it catalogues the ``video_uri`` param instead.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import DAG, AssetAlias, Param, task

# [START howto_asset_alias_wan_videos]
VIDEOS = AssetAlias("wan_videos")

with DAG(
    dag_id="example_wan_video_catalog",
    schedule=VIDEOS,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params={"video_uri": Param("", type="string", description="an s3:// video to catalogue by hand")},
    tags=["wan", "example"],
    doc_md=__doc__,
) as dag:
    # [END howto_asset_alias_wan_videos]

    @task
    def catalogue(params: dict[str, Any], triggering_asset_events: Any = None) -> list[dict[str, Any]]:
        """One entry per new video: where it is, its size, and the Wan task and checksum behind it."""
        from airflow.providers.amazon.aws.hooks.s3 import S3Hook

        events = list(triggering_asset_events[VIDEOS]) if triggering_asset_events else []
        uris = [event.asset.uri for event in events] or [params["video_uri"]]
        s3 = S3Hook(aws_conn_id="aws_default")
        entries = []
        for uri in filter(None, uris):
            bucket, key = S3Hook.parse_s3_url(uri)
            head = s3.head_object(key=key, bucket_name=bucket)
            if head is None:
                raise FileNotFoundError(f"{uri} is not in S3 (any more)")
            if head["ContentType"] != "video/mp4":
                raise ValueError(f"{uri} is {head['ContentType']}, not an MP4 video")
            tagging = s3.get_conn().get_object_tagging(Bucket=bucket, Key=key)
            tags = {tag["Key"]: tag["Value"] for tag in tagging["TagSet"]}
            entries.append(
                {
                    "uri": uri,
                    "bytes": head["ContentLength"],
                    "wan_task_id": head["Metadata"].get("wan-task-id"),
                    "sha256": tags.get("wan-sha256"),  # set by the transfer once the copy is verified
                }
            )
        if not entries:
            raise ValueError("nothing to catalogue: no asset event and no video_uri")
        return entries

    catalogue()
