"""Prompt -> Wan video in S3: the first DAG to run (``make demo`` runs it against the local emulator).

One task does it all. Before anything is billed it checks the destination,
``s3://<bucket>/wan/example_wan_text_to_video/<name>.mp4``: the bucket must take a write, and a key that
holds the video of another request fails the task (choose another ``name``). The video is generated in
the triggerer (deferrable: no worker slot is held while Wan renders, which takes minutes), then streamed
into S3 at once, because Wan's video URL dies after 24 hours. Run it again with the same settings and
nothing is billed: the video at the key is the result (``"landed": "skipped"``).

Needs a ``wan_default`` connection (API key; region, or the emulator's base URL as host) and an
``aws_default`` connection that may write to the bucket. Settings come from the environment:
``WAN_EXAMPLE_BUCKET`` (default ``wan-videos``), ``WAN_EXAMPLE_MAX_POLL_SECONDS`` (longest pause between
status checks, default 15 as the vendor suggests).
"""

from __future__ import annotations

import os
from datetime import datetime

from airflow.sdk import DAG, Param

from airflow_provider_wan.operators.wan import WanTextToVideoOperator

BUCKET = os.environ.get("WAN_EXAMPLE_BUCKET", "wan-videos")
# Pauses between status checks: a first look soon, then slower up to the vendor's suggested 15 s.
POLLING = {
    "poll_interval": float(os.environ.get("WAN_EXAMPLE_POLL_SECONDS", "2")),
    "max_poll_interval": float(os.environ.get("WAN_EXAMPLE_MAX_POLL_SECONDS", "15")),
}

with DAG(
    dag_id="example_wan_text_to_video",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params={
        "prompt": Param(
            "A paper boat drifts down a rain-soaked street at dusk, neon signs rippling in the puddles",
            type="string",
            minLength=1,
        ),
        "size": Param("1280*720", type="string", description="width*height of a wan2.6 720P or 1080P size"),
        "duration": Param(
            5, type="integer", minimum=2, maximum=15, description="seconds (billed per second)"
        ),
        "name": Param(
            "paper-boat",
            type="string",
            pattern="^[A-Za-z0-9._-]+$",
            description="the video's name: the last part of its S3 key",
        ),
    },
    tags=["wan", "example"],
    doc_md=__doc__,
) as dag:
    # [START howto_operator_wan_text_to_video]
    WanTextToVideoOperator(
        task_id="generate_video",
        model="wan2.6-t2v",
        prompt="{{ params.prompt }}",
        size="{{ params.size }}",
        duration="{{ params.duration }}",
        destination=f"s3://{BUCKET}/wan/{{{{ dag.dag_id }}}}/{{{{ params.name }}}}.mp4",
        deferrable=True,
        **POLLING,
    )
    # [END howto_operator_wan_text_to_video]
