"""A DAG run's budget: a mapped batch refused before any of it is submitted (0 creates), or let through."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from airflow.sdk import DAG, task

from airflow_provider_wan.api import WanValidationError
from airflow_provider_wan.api.pricing import parse_prices, price_table
from airflow_provider_wan.emulator import WanEmulator
from airflow_provider_wan.operators.budget import WanBatchBudgetCheckOperator, estimate_batch
from airflow_provider_wan.operators.wan import WanReferenceToVideoOperator, WanTextToVideoOperator
from tests.operators.dag_runs import run_dag, xcom_of
from tests.triggers.helpers import log_text

PARTIAL = {
    "model": "wan2.5-t2v-preview",
    "size": "832*480",
    "audio": False,
    "poll_interval": 0.05,
    "max_poll_interval": 0.2,
}
PRICES = {"wan2.5-t2v-preview": {"currency": "USD", "480P": 0.02}}
PROMPTS = ["a red boat", "a green boat", "a blue boat"]


@pytest.fixture
def priced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW__WAN__PRICES", json.dumps(PRICES))


def batch_dag(dag_id: str, durations: list[int], **caps: float) -> DAG:
    """Rows made at run time by a task; the check and the mapped videos read the same XCom."""
    with DAG(dag_id, schedule=None, start_date=dt.datetime(2025, 1, 1)) as dag:

        @task
        def make_rows() -> list[dict[str, Any]]:
            return [{"prompt": p, "duration": d} for p, d in zip(PROMPTS, durations, strict=True)]

        rows = make_rows()
        budget = WanBatchBudgetCheckOperator(task_id="budget", partial_kwargs=PARTIAL, rows=rows, **caps)
        videos = WanTextToVideoOperator.partial(task_id="video", **PARTIAL).expand_kwargs(rows)
        budget >> videos
    return dag


def test_over_budget_the_batch_is_refused_before_any_create(
    wan_emulator: WanEmulator,
    wan_connection: str,
    priced: None,
    dag_id: str,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    tis = run_dag(batch_dag(dag_id, [5, 10, 10], max_cost=0.45, retries=2))  # 25 s x USD 0.02 = 0.5

    assert tis[("budget", -1)].state == "failed"
    assert tis[("budget", -1)].try_number == 1  # final: the same rows give the same estimate
    assert all(ti.state == "upstream_failed" for (task_id, _), ti in tis.items() if task_id == "video")
    assert "max_cost=0.45: the estimate for 3 tasks is USD 0.5 in all" in log_text(caplog, capfd)
    assert wan_emulator.create_count(include_refused=True) == 0


def test_within_budget_every_video_is_made(
    wan_emulator: WanEmulator, wan_connection: str, priced: None, dag_id: str
) -> None:
    tis = run_dag(batch_dag(dag_id, [5, 5, 10], max_cost=0.4, max_billed_seconds=20))

    assert xcom_of(tis[("budget", -1)]) == {
        "tasks": 3,
        "billed_seconds": 20,
        "amount": 0.4,
        "currency": "USD",
        "unpriced": 0,
    }
    videos = [xcom_of(tis[("video", index)]) for index in range(3)]
    assert sum(video["cost"]["amount"] for video in videos) == pytest.approx(0.4)
    assert wan_emulator.create_count() == 3


def test_seconds_cap_needs_no_price_and_a_cost_cap_refuses_an_unpriced_batch(
    wan_emulator: WanEmulator, wan_connection: str, dag_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AIRFLOW__WAN__PRICES", raising=False)
    over_seconds = run_dag(batch_dag(dag_id + "_s", [5, 5, 5], max_billed_seconds=14))
    unpriced = run_dag(batch_dag(dag_id + "_c", [5, 5, 5], max_cost=100))

    assert over_seconds[("budget", -1)].state == "failed"
    assert unpriced[("budget", -1)].state == "failed"
    assert wan_emulator.create_count(include_refused=True) == 0


def test_each_row_is_estimated_as_its_operator_builds_it() -> None:
    table = price_table(parse_prices({"wan2.6-r2v": {"currency": "USD", "1080P": 0.1}}, "x"))
    rows = [
        {"prompt": "character1 waves", "reference_urls": ["https://example.com/a.mp4"], "duration": 5},
        {
            "prompt": "character1 and character2",
            "reference_urls": ["https://example.com/a.png", "https://example.com/b.mp4"],
        },
    ]
    charges = estimate_batch(WanReferenceToVideoOperator, {"model": "wan2.6-r2v"}, rows, table)
    assert [c.billed_seconds for c in charges] == [10, 7.5]  # input seconds at their cap, plus 5 s out
    assert [c.amount for c in charges] == [1.0, 0.75]


def test_a_bad_row_is_refused_naming_its_index() -> None:
    with pytest.raises(WanValidationError) as refused:
        estimate_batch(
            WanTextToVideoOperator, PARTIAL, [{"prompt": "ok"}, {"prompt": "x", "duration": 7}], {}
        )
    assert refused.value.parameter == "rows[1].duration"
