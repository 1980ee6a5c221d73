"""The errors a DAG author meets building a batch: ``partial()`` arguments checked when the DAG is parsed,
the budget check naming where a bad value came from, and a mistyped model's suggestion in the failure."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from airflow.sdk import DAG

from airflow_provider_wan.api import MediaItem, WanValidationError
from airflow_provider_wan.emulator import WanEmulator
from airflow_provider_wan.operators.budget import estimate_batch
from airflow_provider_wan.operators.wan import (
    WanGenerationOperator,
    WanImageToVideoOperator,
    WanKeyframesToVideoOperator,
    WanReferenceToVideoOperator,
    WanTextToVideoOperator,
)
from airflow_provider_wan.testing.dag_runs import WanAirflow
from tests.operators.dag_runs import FAST
from tests.triggers.helpers import log_text

PICTURE = "https://example.com/frame.png"
T2V, I2V, R2V, KF2V = (
    WanTextToVideoOperator,
    WanImageToVideoOperator,
    WanReferenceToVideoOperator,
    WanKeyframesToVideoOperator,
)
PROMPTS = {"prompt": ["a"]}


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> Callable[[], str]:
    """Everything logged so far, read when called."""
    return lambda: log_text(caplog, capfd)


def mapped(operator: type[WanGenerationOperator], partial: dict[str, Any], **expand: Any) -> DAG:
    """A DAG parsed with one mapped task ``video`` (what a DAG file does at import)."""
    with DAG("batch_parse", schedule=None, start_date=dt.datetime(2026, 1, 1)) as dag:
        operator.partial(task_id="video", **partial).expand(**expand)
    return dag


@pytest.mark.parametrize(
    ("operator", "partial", "expand", "parameter"),
    [
        (T2V, {"model": "wan2.6-t2v", "size": "1280x720"}, PROMPTS, "size"),
        (T2V, {"model": "wan2.6-t2v", "size": "640*480"}, PROMPTS, "size"),
        (T2V, {"model": "wan2.6-t2v", "duration": 20}, PROMPTS, "duration"),
        (T2V, {"model": "wan2.7-t2v", "ratio": "2:1"}, PROMPTS, "ratio"),
        (T2V, {"model": "wan2.6-t2v", "poll_interval": 0}, PROMPTS, "poll_interval"),
        (T2V, {"model": "wan2.6-t2v", "destination": "a.mp4"}, PROMPTS, "destination"),
        (T2V, {"model": "wan2.6-t2v", "if_exists": "keep"}, PROMPTS, "if_exists"),
        (I2V, {"model": "wan2.6-i2v-flash", "resolution": "4K"}, {"img_url": [PICTURE]}, "resolution"),
        (I2V, {"model": "wan2.7-i2v", "duration": 30}, {"media": [[]]}, "duration"),
        (R2V, {"model": "wan2.6-r2v-flash", "prompt": "character6"}, {"reference_urls": [[]]}, "prompt"),
        (
            KF2V,
            {"model": "wan2.2-kf2v-flash", "resolution": "4K"},
            {"first_frame_url": [PICTURE]},
            "resolution",
        ),
    ],
)
def test_a_bad_partial_argument_fails_when_the_dag_is_parsed(
    operator: type[WanGenerationOperator], partial: dict[str, Any], expand: dict[str, Any], parameter: str
) -> None:
    with pytest.raises(WanValidationError, match=f"^Invalid {parameter}=") as refused:
        mapped(operator, partial, **expand)
    assert refused.value.parameter == parameter


@pytest.mark.parametrize(
    ("operator", "partial", "expand"),
    [
        (T2V, {"model": "wan2.6-t2v", "size": "1280*720", "duration": 5}, PROMPTS),
        (T2V, {"model": "wan2.6-t2v", "size": "{{ params.size }}"}, PROMPTS),
        (T2V, {"model": "{{ params.model }}", "size": "1280x720"}, PROMPTS),
        (T2V, {"model": "wan2.6-t2v", "prompt": "a boat"}, {"destination": ["s3://b/a.mp4"]}),
        (I2V, {"model": "wan2.6-i2v-flash", "resolution": "720P"}, {"img_url": [PICTURE]}),
        (I2V, {"model": "wan2.7-i2v", "resolution": "720P"}, {"media": [[]]}),
        (I2V, {"model": "wan2.7-i2v", "media": [MediaItem("first_frame", PICTURE)]}, PROMPTS),
        (R2V, {"model": "wan2.6-r2v-flash", "prompt": "character3 waves"}, {"reference_urls": [[]]}),
        (R2V, {"model": "wan2.6-r2v-flash", "reference_urls": [PICTURE]}, {"prompt": ["character1"]}),
        (R2V, {"model": "wan2.7-r2v", "prompt": "Image 2 and Video 3", "duration": 10}, {"media": [[]]}),
        (R2V, {"model": "wan2.7-r2v", "duration": 15}, {"prompt": ["Image 1"], "media": [[]]}),
        (KF2V, {"model": "wan2.2-kf2v-flash", "template": "hanfu-1"}, {"first_frame_url": [PICTURE]}),
    ],
)
def test_partial_arguments_a_row_can_complete_are_taken(
    operator: type[WanGenerationOperator], partial: dict[str, Any], expand: dict[str, Any]
) -> None:
    dag = mapped(operator, partial, **expand)
    task = dag.get_task("video")
    assert task.partial_kwargs["map_index_template"] == "{{ task.row_label }}"  # rows read as rows


def test_a_partial_map_index_template_of_the_users_wins() -> None:
    dag = mapped(
        WanTextToVideoOperator,
        {"model": "wan2.6-t2v", "map_index_template": "{{ ti.map_index }}"},
        prompt=["a"],
    )
    assert dag.get_task("video").partial_kwargs["map_index_template"] == "{{ ti.map_index }}"


def test_the_budget_check_names_a_partial_argument_as_such() -> None:
    partial = {"model": "wan2.6-t2v", "size": "1280x720"}
    rows = [{"prompt": "a boat"}, {"prompt": "a kite"}]

    with pytest.raises(WanValidationError) as from_partial:
        estimate_batch(WanTextToVideoOperator, partial, rows, {})
    with pytest.raises(WanValidationError) as from_row:
        estimate_batch(
            WanTextToVideoOperator, {"model": "wan2.6-t2v"}, [*rows, {"prompt": "", "size": "1"}], {}
        )

    assert from_partial.value.parameter == "partial_kwargs.size"
    assert from_row.value.parameter == "rows[2].prompt"


@pytest.mark.parametrize("deferrable", [True, False])
def test_a_mistyped_model_fails_with_the_suggestion_logged_once(
    wan_airflow: WanAirflow,
    wan_connection: str,
    wan_emulator: WanEmulator,
    logs: Callable[[], str],
    monkeypatch: pytest.MonkeyPatch,
    deferrable: bool,
) -> None:
    dag_id = f"mistyped_model_{deferrable}"
    # the DAG parsed as the worker parses it to run the task (Airflow's parsing context for the task)
    monkeypatch.setenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID", dag_id)
    monkeypatch.setenv("_AIRFLOW_PARSING_CONTEXT_TASK_ID", "generate")
    with DAG(dag_id, schedule=None, start_date=dt.datetime(2026, 1, 1)) as dag:
        WanTextToVideoOperator(
            task_id="generate", model="wan2.6-t2w", prompt="a typo", duration=2, deferrable=deferrable, **FAST
        )
    monkeypatch.delenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID")
    monkeypatch.delenv("_AIRFLOW_PARSING_CONTEXT_TASK_ID")
    logs()  # what came before the run

    run = wan_airflow.run_unchecked(dag)

    error = str(run.errors[("generate", -1)])
    assert "InvalidParameter: Model not exist." in error
    assert error.endswith("the service has no model 'wan2.6-t2w' (did you mean wan2.6-t2v?)")
    assert run.ti("generate").try_number == 1  # final
    warned = [line for line in logs().splitlines() if "Unknown model 'wan2.6-t2w' (did you mean" in line]
    assert len(warned) == 1, warned
    assert wan_emulator.create_count(include_refused=True) == 1


def test_the_dag_processor_and_tests_see_the_warning_a_budget_checks_rows_do_not(
    logs: Callable[[], str],
) -> None:
    with DAG("mistyped_at_parse", schedule=None, start_date=dt.datetime(2026, 1, 1)):
        WanTextToVideoOperator(task_id="generate", model="wan2.6-t2w", prompt="a typo")
    parsed = logs()
    estimate_batch(WanTextToVideoOperator, {"model": "wan2.6-t2w"}, [{"prompt": "a"}] * 5, {})

    assert parsed.count("Unknown model 'wan2.6-t2w' (did you mean wan2.6-t2v?)") == 1
    assert "Unknown model" not in logs()
