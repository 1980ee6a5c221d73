"""A character reference -> a short series: one episode per prompt, the same character in each.

``WanReferenceToVideoOperator`` with ``wan2.6-r2v-flash`` keeps the subject of a reference picture
(``character1`` in the prompt) in every episode; dynamic task mapping makes one billed task per episode,
which lands its video at ``series/<series>/episode-NN.mp4`` itself. The reference is an ``s3://`` URI,
checked (a picture of at most 20 MB, 240-8000 px) and presigned for the service. A prompt that names a
character the references do not have (``character2`` with one reference) is refused before anything is
billed.

Billing is per second of output here: reference pictures are free (reference *videos* would add their
seconds, capped; the result's ``billed_seconds`` says what each episode cost). Every episode uses the same
``seed``, so the look stays alike across the series. Run it again and the episodes already made are kept,
not billed again; an episode whose prompt or settings changed fails before billing, since its key holds
the earlier video (delete it, or name a new ``series``).

Put the character at ``s3://<WAN_EXAMPLE_BUCKET>/characters/mascot.png`` or pass ``reference``.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from airflow.sdk import DAG, Param, task

from airflow_provider_wan.operators.wan import WanReferenceToVideoOperator

BUCKET = os.environ.get("WAN_EXAMPLE_BUCKET", "wan-videos")
POOL = os.environ.get("WAN_EXAMPLE_POOL", "wan_api")
# Pauses between status checks: a first look soon, then slower up to the vendor's suggested 15 s.
POLLING = {
    "poll_interval": float(os.environ.get("WAN_EXAMPLE_POLL_SECONDS", "2")),
    "max_poll_interval": float(os.environ.get("WAN_EXAMPLE_MAX_POLL_SECONDS", "15")),
}

EPISODES = [
    "character1 wakes up in a treehouse and stretches as the sun comes through the leaves",
    "character1 rides a bicycle down a hill through a market, scattering pigeons",
    "character1 watches fireworks from a rooftop, then waves goodnight to the camera",
]


with DAG(
    dag_id="example_wan_character_series",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params={
        "reference": Param(f"s3://{BUCKET}/characters/mascot.png", type="string", pattern="^s3://"),
        "episodes": Param(EPISODES, type="array", items={"type": "string", "minLength": 1}, minItems=1),
        "series": Param("mascot", type="string", pattern="^[A-Za-z0-9._-]+$"),
        "duration": Param(5, type="integer", minimum=2, maximum=10),
        "seed": Param(20261201, type="integer", minimum=0, maximum=2147483647),
    },
    tags=["wan", "example"],
    doc_md=__doc__,
) as dag:

    @task
    def episodes(params: dict[str, Any]) -> list[dict[str, str]]:
        """One row per episode: its prompt and its video's key."""
        where = f"s3://{BUCKET}/series/{params['series']}"
        return [
            {"prompt": prompt, "destination": f"{where}/episode-{number:02d}.mp4"}
            for number, prompt in enumerate(params["episodes"], start=1)
        ]

    # [START howto_operator_wan_reference_to_video_mapped]
    WanReferenceToVideoOperator.partial(
        task_id="make_episode",
        model="wan2.6-r2v-flash",
        reference_urls=["{{ params.reference }}"],
        size="1280*720",
        duration="{{ params.duration }}",
        seed="{{ params.seed }}",
        deferrable=True,
        **POLLING,
        pool=POOL,
    ).expand_kwargs(episodes())
    # [END howto_operator_wan_reference_to_video_mapped]
