"""A nightly batch: one video per prompt, each landed at its own S3 key, within the account's limits.

Prompts come from the ``prompts`` param, or from a text file (one prompt a line, ``#`` comments) named
by the ``prompts_file`` param. Each prompt's video goes to ``s3://<bucket>/<key_prefix><name>.mp4``, the
name made from the prompt (its first words and a short digest), so a prompt keeps its key from run to
run. One mapped ``WanTextToVideoOperator`` task per prompt generates the video and lands it there itself,
before its 24-hour URL dies; the UI lists the tasks by their keys.

- A prompt refused by moderation fails its own task only: every other video lands.
- Run it again with the same prompts and nothing is billed twice: a key that already holds the video of
  the same request is that task's result (``"landed": "skipped"``, no create). A key holding the video of
  another request (same name, other settings) fails its task before anything is billed.
- A missing bucket, or one the AWS connection may not write to, fails each task before anything is billed.

Every task runs in the ``wan_api`` pool (``WAN_EXAMPLE_POOL``), which you create with as many slots as the
account runs tasks at once (5 for wan2.5 and later)::

    airflow pools set wan_api 5 "Wan account: 5 tasks at once"

A deferred task gives its slot back while Wan renders, so the pool caps how many tasks talk to the
service at once (submissions, downloads) and the service queues the rest itself (up to ~500). For
large batches add ``--include-deferred``: deferred tasks then keep their slot, at most 5 videos are in
flight, and no task's ``timeout`` is spent waiting in the service's queue.

Settings from the environment: ``WAN_EXAMPLE_BUCKET`` (default ``wan-videos``), ``WAN_EXAMPLE_POOL``
(default ``wan_api``), ``WAN_EXAMPLE_MAX_POLL_SECONDS`` (default 15).
"""

from __future__ import annotations

import hashlib
import os
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Param, task

from airflow_provider_wan.operators.wan import WanTextToVideoOperator

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


def video_name(prompt: str) -> str:
    """The prompt's first words and a digest of all of it: readable, S3-safe, the same every run."""
    words = "-".join(re.findall(r"[a-z0-9]+", prompt.lower()))[:40].strip("-")
    return f"{words or 'video'}-{hashlib.sha256(prompt.encode()).hexdigest()[:8]}"


with DAG(
    dag_id="example_wan_batch",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params={
        "prompts": Param(PROMPTS, type="array", items={"type": "string", "minLength": 1}, minItems=1),
        "prompts_file": Param("", type="string", description="a text file of prompts; overrides prompts"),
        "key_prefix": Param("batch/", type="string", pattern="^[A-Za-z0-9._/-]*$"),
        "size": Param("1280*720", type="string"),
        "duration": Param(5, type="integer", minimum=2, maximum=15),
    },
    tags=["wan", "example"],
    doc_md=__doc__,
) as dag:
    # [START howto_operator_wan_batch]
    @task
    def video_rows(params: dict[str, Any]) -> list[dict[str, str]]:
        """One row per prompt (from the file when one is named): the prompt and its video's key."""
        prompts = list(params["prompts"])
        if params["prompts_file"]:
            lines = Path(params["prompts_file"]).read_text(encoding="utf-8").splitlines()
            prompts = [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]
            if not prompts:
                raise ValueError(f"prompts_file {params['prompts_file']!r} holds no prompt")
        prefix = f"s3://{BUCKET}/{params['key_prefix']}"
        return [{"prompt": prompt, "destination": f"{prefix}{video_name(prompt)}.mp4"} for prompt in prompts]

    WanTextToVideoOperator.partial(
        task_id="generate_video",
        model="wan2.6-t2v",
        size="{{ params.size }}",
        duration="{{ params.duration }}",
        deferrable=True,
        **POLLING,
        pool=POOL,
    ).expand_kwargs(video_rows())
    # [END howto_operator_wan_batch]
