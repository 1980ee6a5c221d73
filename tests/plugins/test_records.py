"""A run's videos from its task instances' records, as the API server reads them from Airflow's database:
generations and copies matched by Wan task id, a failed generation known by its claim, totals by currency."""

from __future__ import annotations

from typing import Any

from airflow_provider_wan.cost import ESTIMATE_KEY
from airflow_provider_wan.operators.submission import CLAIM_KEY
from airflow_provider_wan.plugins.records import RESULT_KEY, TaskRef, assemble, totals

DAG, RUN = "batch", "manual__2026-12-01T07:23:45+00:00"


def result(wan_task_id: str, prompt: str, billed: float | None, amount: float | None) -> dict[str, Any]:
    """A generation's XCom result, as the operator pushes it."""
    return {
        "task_id": wan_task_id,
        "status": "SUCCEEDED",
        "model": "wan2.6-t2v",
        "request": {"model": "wan2.6-t2v", "input": {"prompt": prompt}, "parameters": {"seed": 7}},
        "usage": {"duration": 5.0, "width": 1280, "height": 720},
        "billed_seconds": billed,
        "cost": {
            "amount": amount,
            "currency": "USD" if amount is not None else None,
            "billed_seconds": billed,
        },
    }


def copied(wan_task_id: str, key: str) -> dict[str, Any]:
    return {"s3_uri": f"s3://videos/{key}", "bucket": "videos", "key": key, "wan_task_id": wan_task_id}


def test_generations_and_copies_are_matched_by_wan_task() -> None:
    states = {
        ("generate", 0): "success",
        ("generate", 1): "success",
        ("copy", 0): "success",
        ("copy", 1): "success",
    }
    records = {
        ("generate", 0, RESULT_KEY): result("wan-a", "a fox", 5.0, 0.5),
        ("generate", 0, ESTIMATE_KEY): {"amount": 0.5, "currency": "USD", "billed_seconds": 5.0},
        ("generate", 1, RESULT_KEY): result("wan-b", "a kite", 5.0, 0.5),
        # mapped copies need not follow the generations' order
        ("copy", 0, RESULT_KEY): copied("wan-b", "b.mp4"),
        ("copy", 1, RESULT_KEY): copied("wan-a", "a.mp4"),
    }
    rendered = {("copy", 1): {"aws_conn_id": "aws_videos"}, ("generate", 0): {"wan_conn_id": "wan_team"}}

    run = assemble(DAG, RUN, states, records, rendered)

    assert [video.ref.label for video in run.videos] == ["generate[0]", "generate[1]"]
    first = run.videos[0]
    assert (first.prompt, first.model, first.size, first.duration, first.seed) == (
        "a fox",
        "wan2.6-t2v",
        "1280*720",
        5.0,
        7,
    )
    assert first.wan_conn_id == "wan_team"
    assert first.estimate == {"amount": 0.5, "currency": "USD", "billed_seconds": 5.0}
    assert [(copy.uri, copy.aws_conn_id, copy.ref.label) for copy in first.copies] == [
        ("s3://videos/a.mp4", "aws_videos", "copy[1]")
    ]
    assert run.videos[1].copies[0].aws_conn_id == "aws_default"  # rendered fields pruned: the default
    assert run.for_task("copy", 1) is first
    assert run.for_task("copy", 0) is run.videos[1]


def test_a_generation_that_landed_its_own_video_holds_its_copy() -> None:
    # destination=: the generation's result carries the object it landed (or kept, on a re-run).
    landed = {**result("wan-a", "a fox", 5.0, 0.5), "landed": "copied", **copied("wan-a", "a.mp4")}
    kept = {**result("wan-b", "a kite", 0, None), "landed": "skipped", **copied("wan-b", "b.mp4")}
    for value in (landed, kept):
        value.pop("wan_task_id")  # a generation's result names its Wan task as task_id
    states = {("generate", 0): "success", ("generate", 1): "success"}
    records = {("generate", 0, RESULT_KEY): landed, ("generate", 1, RESULT_KEY): kept}

    run = assemble(DAG, RUN, states, records, {("generate", 0): {"aws_conn_id": "aws_videos"}})

    assert [(video.ref.label, video.prompt) for video in run.videos] == [
        ("generate[0]", "a fox"),
        ("generate[1]", "a kite"),
    ]
    assert [(copy.uri, copy.aws_conn_id) for copy in run.videos[0].copies] == [
        ("s3://videos/a.mp4", "aws_videos")
    ]
    assert [copy.uri for copy in run.videos[1].copies] == ["s3://videos/b.mp4"]
    assert run.for_task("generate", 1) is run.videos[1]


def test_a_failed_generation_is_known_by_its_claim_and_a_copy_of_a_video_from_elsewhere_stands_alone() -> (
    None
):
    states = {
        ("generate", -1): "failed",
        ("refused_early", -1): "failed",
        ("copy", -1): "success",
        ("other", -1): "success",
    }
    records = {
        ("generate", -1, CLAIM_KEY): {"wan_task_id": "wan-failed", "by": ["generate", -1]},
        ("refused_early", -1, CLAIM_KEY): {"wan_task_id": None, "by": ["refused_early", -1]},  # withdrawn
        ("copy", -1, RESULT_KEY): {**copied("wan-elsewhere", "x.mp4"), "billed_seconds": 4.0},
        ("other", -1, RESULT_KEY): "s3://a-custom-xcom-backend/reference",
    }
    rendered = {("generate", -1): {"prompt": "a [[blocked]] scene", "model": "wan2.6-t2v"}}

    run = assemble(DAG, RUN, states, records, rendered)

    failed, elsewhere = run.videos
    assert (failed.ref, failed.state, failed.wan_task_id, failed.result) == (
        TaskRef(DAG, RUN, "generate"),
        "failed",
        "wan-failed",
        None,
    )
    assert (failed.prompt, failed.model, failed.billed_seconds) == ("a [[blocked]] scene", "wan2.6-t2v", None)
    assert (elsewhere.ref.label, elsewhere.wan_task_id, elsewhere.billed_seconds) == (
        "copy",
        "wan-elsewhere",
        4.0,
    )
    assert run.for_task("refused_early", -1) is None
    assert run.for_task("other", -1) is None


def test_totals_add_billed_seconds_and_cost_by_currency_and_count_the_unpriced() -> None:
    states = {("g", index): "success" for index in range(4)}
    records = {
        ("g", 0, RESULT_KEY): result("w0", "p", 5.0, 0.5),
        ("g", 1, RESULT_KEY): result("w1", "p", 5.0, 0.1 + 0.2),
        ("g", 2, RESULT_KEY): {**result("w2", "p", 10.0, 1.0), "cost": {"amount": 1.0, "currency": "CNY"}},
        ("g", 3, RESULT_KEY): result("w3", "p", 2.0, None),
    }

    seconds, amounts, unpriced = totals(assemble(DAG, RUN, states, records, {}).videos)

    assert (seconds, amounts, unpriced) == (22.0, {"USD": 0.8, "CNY": 1.0}, 1)
