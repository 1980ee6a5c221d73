"""A batch of videos: one mapped Wan task per prompt, copied to S3, within the account's limits.

Prompts come from the ``prompts`` param, or from a text file (one prompt a line, ``#`` comments) named
by the ``prompts_file`` param. Dynamic task mapping makes one generate task and one copy task per
prompt, and every one of them runs in the ``wan_api`` pool (``WAN_EXAMPLE_POOL``), which you create with
as many slots as the account runs tasks at once (5 for wan2.5 and later)::

    airflow pools set wan_api 5 "Wan account: 5 tasks at once"

A deferred task gives its slot back while Wan renders, so the pool caps how many tasks talk to the
service at once (submissions, downloads) and the service queues the rest itself (up to ~500). For
large batches add ``--include-deferred``: deferred tasks then keep their slot, at most 5 videos are in
flight, and no task's ``timeout`` is spent waiting in the service's queue.

Settings from the environment: ``WAN_EXAMPLE_BUCKET`` (default ``wan-videos``), ``WAN_EXAMPLE_POOL``
(default ``wan_api``), ``WAN_EXAMPLE_MAX_POLL_SECONDS`` (default 15).
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Param, task

from airflow_provider_wan.operators.wan import WanTextToVideoOperator
from airflow_provider_wan.transfers.wan_to_s3 import WanS3DestinationCheckOperator, WanVideoToS3Operator

BUCKET = os.environ.get("WAN_EXAMPLE_BUCKET", "wan-videos")
POOL = os.environ.get("WAN_EXAMPLE_POOL", "wan_api")
# Pauses between status checks: a first look soon, then slower up to the vendor's suggested 15 s.
POLLING = {
    "poll_interval": float(os.environ.get("WAN_EXAMPLE_POLL_SECONDS", "2")),
    "max_poll_interval": float(os.environ.get("WAN_EXAMPLE_MAX_POLL_SECONDS", "15")),
}

PROMPTS = [
    "A hummingbird hovers at a red flower, wings a blur, morning light",
    "Waves roll onto a black sand beach under a stormy sky, slow motion",
    "A steaming cup of coffee on a wooden table, rain streaking the window behind",
]


def copy_arguments(result: dict[str, Any]) -> dict[str, Any]:
    """The copy task's arguments from one generate task's result."""
    return {"wan_task_id": result["task_id"], "generation": result}


with DAG(
    dag_id="example_wan_batch",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params={
        "prompts": Param(PROMPTS, type="array", items={"type": "string", "minLength": 1}, minItems=1),
        "prompts_file": Param("", type="string", description="a text file of prompts; overrides prompts"),
        "size": Param("1280*720", type="string"),
        "duration": Param(5, type="integer", minimum=2, maximum=15),
    },
    tags=["wan", "example"],
    doc_md=__doc__,
) as dag:
    # Before anything is billed: the bucket exists and this AWS connection may write to it.
    check_bucket = WanS3DestinationCheckOperator(task_id="check_s3_bucket", s3_bucket=BUCKET)

    @task
    def load_prompts(params: dict[str, Any]) -> list[str]:
        """The batch's prompts, from the file when one is named."""
        if not params["prompts_file"]:
            return list(params["prompts"])
        lines = Path(params["prompts_file"]).read_text(encoding="utf-8").splitlines()
        prompts = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
        if not prompts:
            raise ValueError(f"prompts_file {params['prompts_file']!r} holds no prompt")
        return prompts

    prompts = load_prompts()
    check_bucket >> prompts
    generate = WanTextToVideoOperator.partial(
        task_id="generate_video",
        model="wan2.6-t2v",
        size="{{ params.size }}",
        duration="{{ params.duration }}",
        deferrable=True,
        **POLLING,
        pool=POOL,
    ).expand(prompt=prompts)

    WanVideoToS3Operator.partial(task_id="copy_to_s3", s3_bucket=BUCKET, pool=POOL).expand_kwargs(
        generate.output.map(copy_arguments)
    )
