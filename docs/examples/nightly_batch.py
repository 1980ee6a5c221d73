"""A nightly batch from a table: one video per row, each landed at a key made from the row, and the whole
batch's estimate checked against a budget before any of it is billed.

The table is a CSV file with ``sku`` and ``prompt`` columns (``products.csv`` beside this file); a task
that runs a SQL query instead returns rows of the same shape. ``tests/docs/test_nightly_batch.py`` runs it
against the emulator and moto S3: within budget, over budget, and again (which bills nothing twice).
"""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Param, task

from airflow_provider_wan.operators.budget import WanBatchBudgetCheckOperator
from airflow_provider_wan.operators.wan import WanTextToVideoOperator

TABLE = str(Path(__file__).with_name("products.csv"))

# [START howto_nightly_batch]
VIDEO = {"model": "wan2.6-t2v", "size": "1280*720", "duration": 5}

with DAG(
    "nightly_product_videos",
    schedule="@daily",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    params={"table": Param(TABLE, type="string")},
) as dag:

    @task
    def table_rows(params: dict[str, Any]) -> list[dict[str, str]]:
        """One row per line of the table: its prompt, and the key its video lands at (the same each night)."""
        with open(params["table"], newline="", encoding="utf-8") as table:
            return [
                {"prompt": row["prompt"], "destination": f"s3://my-videos/products/{row['sku']}.mp4"}
                for row in csv.DictReader(table)
            ]

    rows = table_rows()
    budget = WanBatchBudgetCheckOperator(
        task_id="budget", partial_kwargs=VIDEO, rows=rows, max_cost=2.0, max_billed_seconds=60
    )
    videos = WanTextToVideoOperator.partial(
        task_id="video",
        max_cost=1.0,  # each video's own cap
        pool="wan_api",  # as many slots as the account runs tasks at once (5 for wan2.5 and later)
        **VIDEO,
    ).expand_kwargs(rows)
    budget >> videos
# [END howto_nightly_batch]
