"""The other answer shapes the vendor shows (``usage`` numbers as text, ``SR: "720"``, ``duration: 7.0``,
no ``actual_prompt``) bill and cost the same: a text- and a reference-to-video task, each copied into S3
with and without the generating task's XCom, run by Airflow against the emulator under both readings."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import requests
from airflow.sdk import DAG

from airflow_provider_wan.emulator import WanEmulator
from airflow_provider_wan.operators.wan import WanReferenceToVideoOperator, WanTextToVideoOperator
from airflow_provider_wan.testing.dag_runs import WanAirflow
from airflow_provider_wan.testing.s3 import WanS3
from airflow_provider_wan.transfers.video_metadata import BILLED_SECONDS_METADATA
from airflow_provider_wan.transfers.wan_to_s3 import WanVideoToS3Operator

BUCKET = "videos"
FAST = {"poll_interval": 0.05, "max_poll_interval": 0.2}
PRICES = {
    "wan2.6-t2v": {"currency": "USD", "720P": 0.1},
    "wan2.6-r2v": {"currency": "USD", "720P": 0.2},
}
CLIP = "https://cdn.example.com/clip.mp4"  # not fetched: billed at its cap, 5 s for a sole reference


def videos_dag(dag_id: str) -> DAG:
    with DAG(dag_id, schedule=None, start_date=dt.datetime(2025, 1, 1)) as dag:
        made = [
            WanTextToVideoOperator(
                task_id="t2v", model="wan2.6-t2v", prompt="a red boat", size="1280*720", duration=2, **FAST
            ),
            WanReferenceToVideoOperator(
                task_id="r2v",
                model="wan2.6-r2v",
                prompt="character1 waves",
                reference_urls=[CLIP],
                size="1280*720",
                duration=2,
                **FAST,
            ),
        ]
        for generate in made:
            task_id = f"{{{{ ti.xcom_pull('{generate.task_id}')['task_id'] }}}}"
            copy = {"wan_task_id": task_id, "s3_bucket": BUCKET}
            WanVideoToS3Operator(task_id=f"{generate.task_id}_copy", generation=generate.output, **copy)
            generate >> WanVideoToS3Operator(task_id=f"{generate.task_id}_copy_alone", **copy)  # from usage
    return dag


def answered_usage(emulator: WanEmulator, task_id: str) -> dict[str, Any]:
    """``usage`` as the emulator answers the query now (its reading of the moment)."""
    answer = requests.get(
        f"{emulator.base_url}/tasks/{task_id}",
        headers={"Authorization": f"Bearer {emulator.api_key}"},
        timeout=10,
    )
    answer.raise_for_status()
    return dict(answer.json()["usage"])


def billing(run: Any, s3: WanS3) -> dict[str, Any]:
    """What each task of a run says was billed: the generations' XCom, the copies' S3 metadata."""
    found: dict[str, Any] = {}
    for name in ("t2v", "r2v"):
        result = run.xcom(name)
        found[name] = {key: result[key] for key in ("billed_seconds", "cost", "usage")}
        for copy in (f"{name}_copy", f"{name}_copy_alone"):
            head = s3.client.head_object(Bucket=BUCKET, Key=run.xcom(copy)["key"])
            found[copy] = head["Metadata"][BILLED_SECONDS_METADATA]
    return found


def test_usage_as_text_bills_and_costs_the_same_as_numbers(
    wan_airflow: WanAirflow,
    wan_emulator: WanEmulator,
    wan_connection: str,
    wan_s3: WanS3,
    dag_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AIRFLOW__WAN__PRICES", json.dumps(PRICES))
    wan_s3.create_bucket(BUCKET)

    as_numbers = wan_airflow.run(videos_dag(f"{dag_id}_numbers"))
    numbers = answered_usage(wan_emulator, as_numbers.xcom("t2v")["task_id"])
    wan_emulator.set_readings(usage_shape="text")
    as_text = wan_airflow.run(videos_dag(f"{dag_id}_text"))
    text = answered_usage(wan_emulator, as_text.xcom("t2v")["task_id"])

    assert [(usage["SR"], usage["duration"]) for usage in (numbers, text)] == [(720, 2), ("720", 2.0)]
    assert isinstance(numbers["duration"], int)
    assert isinstance(text["duration"], float)
    assert as_numbers.xcom("t2v")["actual_prompt"] is not None
    assert as_text.xcom("t2v")["actual_prompt"] is None
    expected = billing(as_numbers, wan_s3)
    assert billing(as_text, wan_s3) == expected
    assert (expected["t2v"]["billed_seconds"], expected["t2v"]["cost"]["amount"]) == (2, 0.2)
    assert (expected["r2v"]["billed_seconds"], expected["r2v"]["cost"]["amount"]) == (7, 1.4)
    assert expected["r2v"]["cost"]["tier"] == "720P"
    assert {expected[copy] for copy in ("r2v_copy", "r2v_copy_alone")} == {"7"}
    assert {expected[copy] for copy in ("t2v_copy", "t2v_copy_alone")} == {"2"}
    assert wan_emulator.create_count() == 4
