"""Estimates, caps, costs and lineage of the generation operators, run by Airflow's task runner against
the emulator: a refused request makes no create in the emulator's counts."""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from typing import Any

import pytest
from airflow.sdk import DAG, BaseHook

from airflow_provider_wan.api import WanValidationError
from airflow_provider_wan.emulator import WanEmulator
from airflow_provider_wan.operators.wan import WanImageToVideoOperator, WanTextToVideoOperator
from tests.api.media_files import data_url
from tests.operators.dag_runs import run_dag, xcom_of
from tests.triggers.helpers import log_text

FAST = {"poll_interval": 0.05, "max_poll_interval": 0.2}
T2V = {"model": "wan2.2-t2v-plus", "prompt": "a red boat", "size": "832*480", "duration": 5}
PRICES = {"wan2.2-t2v-plus": {"currency": "USD", "480P silent": 0.02, "480P": 0.05, "1080P": 0.15}}
WAN25_PRICES = {"wan2.5-t2v-preview": {"currency": "USD", "1080P sound": 0.15, "1080P silent": 0.10}}


@pytest.fixture
def priced(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """``[wan] prices`` for the deployment, as an operator would set it."""
    monkeypatch.setenv("AIRFLOW__WAN__PRICES", json.dumps(PRICES))
    return PRICES


def one_task_dag(dag_id: str, operator: type = WanTextToVideoOperator, **fields: Any) -> DAG:
    with DAG(dag_id, schedule=None, start_date=dt.datetime(2025, 1, 1)) as dag:
        operator(task_id="generate", **{**FAST, **fields})
    return dag


def test_estimate_before_and_cost_after(
    wan_emulator: WanEmulator,
    wan_connection: str,
    priced: dict[str, Any],
    dag_id: str,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    ti = run_dag(one_task_dag(dag_id, deferrable=True, **T2V))[("generate", -1)]

    assert ti.state == "success"
    estimate = ti.xcom_pull(task_ids="generate", key="estimated_cost")
    assert (estimate["amount"], estimate["currency"], estimate["billed_seconds"]) == (0.1, "USD", 5)
    assert (estimate["tier"], estimate["sound"], estimate["price_source"]) == (
        "480P",
        "silent",
        "[wan] prices",
    )
    result = xcom_of(ti)
    billed = wan_emulator.task(result["task_id"])["output"]["duration"]  # what the emulator made
    assert result["billed_seconds"] == billed == 5
    assert (result["cost"]["amount"], result["cost"]["currency"]) == (round(0.02 * billed, 6), "USD")
    assert "Wan estimate: 5 s x USD 0.02/s = USD 0.1" in log_text(caplog, capfd)


@pytest.mark.parametrize(
    ("caps", "says"),
    [
        (
            {"max_cost": 0.05},
            "max_cost=0.05: the estimate for wan2.2-t2v-plus is 5 s x USD 0.02/s = USD 0.1",
        ),
        (
            {"max_billed_seconds": 4},
            "max_billed_seconds=4: the estimate for wan2.2-t2v-plus is 5 billed seconds",
        ),
    ],
)
def test_over_a_cap_is_refused_before_any_create(
    wan_emulator: WanEmulator,
    wan_connection: str,
    priced: dict[str, Any],
    dag_id: str,
    caps: dict[str, float],
    says: str,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    ti = run_dag(one_task_dag(dag_id, retries=2, **T2V, **caps))[("generate", -1)]

    assert ti.state == "failed"
    assert ti.try_number == 1  # final: a retry makes the same estimate
    assert f"Refused before anything was sent to Wan: Refused before sending: {says}" in log_text(
        caplog, capfd
    )
    assert wan_emulator.create_count(include_refused=True) == 0
    assert ti.xcom_pull(task_ids="generate", key="estimated_cost")["amount"] == 0.1  # shown all the same


def test_a_cost_cap_without_a_price_refuses_and_says_why(
    wan_emulator: WanEmulator,
    wan_connection: str,
    dag_id: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("AIRFLOW__WAN__PRICES", raising=False)
    ti = run_dag(one_task_dag(dag_id, max_cost=100, **T2V))[("generate", -1)]

    assert ti.state == "failed"
    assert "max_cost=100: no estimate for 'wan2.2-t2v-plus': no price for model" in log_text(caplog, capfd)
    assert wan_emulator.create_count(include_refused=True) == 0


def test_within_the_caps_and_without_a_price_it_runs_and_reports_no_amount(
    wan_emulator: WanEmulator, wan_connection: str, dag_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AIRFLOW__WAN__PRICES", raising=False)
    ti = run_dag(one_task_dag(dag_id, max_billed_seconds=5, **T2V))[("generate", -1)]

    result = xcom_of(ti)
    assert result["billed_seconds"] == 5
    assert result["cost"]["amount"] is None
    assert "no price for model 'wan2.2-t2v-plus'" in result["cost"]["note"]
    assert wan_emulator.create_count() == 1


def test_the_connection_extra_prices_a_family_operator(
    wan_emulator: WanEmulator, dag_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AIRFLOW__WAN__PRICES", raising=False)
    extra = {"prices": {"wan2.6-i2v-flash": {"currency": "CNY", "720P silent": 0.3, "720P sound": 0.6}}}
    connection = {"conn_type": "wan", "host": wan_emulator.base_url, "password": wan_emulator.api_key}
    monkeypatch.setenv("AIRFLOW_CONN_WAN_DEFAULT", json.dumps({**connection, "extra": extra}))
    fields = {
        "model": "wan2.6-i2v-flash",
        "img_url": data_url("png", 750, 1000),
        "resolution": "720P",
        "duration": 3,
        "audio": False,
    }

    ti = run_dag(one_task_dag(dag_id, WanImageToVideoOperator, **fields))[("generate", -1)]

    result = xcom_of(ti)
    assert ti.xcom_pull(task_ids="generate", key="estimated_cost")["amount"] == 0.9
    assert (result["billed_seconds"], result["cost"]["amount"], result["cost"]["currency"]) == (3, 0.9, "CNY")


def test_audio_false_on_an_always_sound_model_is_refused_before_any_create(
    wan_emulator: WanEmulator,
    wan_connection: str,
    priced: dict[str, Any],
    dag_id: str,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    # sent, wan2.6-t2v would make (and bill) sound: the newer pages say only wan2.1/wan2.2 go silent
    fields = {"model": "wan2.6-t2v", "size": "1280*720", "duration": 10, "audio": False}
    with pytest.raises(WanValidationError) as at_parse:
        WanTextToVideoOperator(task_id="generate", prompt="a red boat", **fields)
    assert at_parse.value.parameter == "audio"

    templated = one_task_dag(dag_id, retries=2, prompt="{{ 'a red boat' }}", **fields)  # checked at run
    ti = run_dag(templated)[("generate", -1)]

    assert (ti.state, ti.try_number) == ("failed", 1)
    assert (
        "Refused before anything was sent to Wan: Invalid audio=False: wan2.6-t2v always makes sound; "
        "audio=False is taken only by wan2.5-t2v-preview"
    ) in log_text(caplog, capfd)
    assert wan_emulator.create_count(include_refused=True) == 0


def test_wan25_audio_false_is_capped_at_the_sound_price_with_a_warning(
    wan_emulator: WanEmulator,
    wan_connection: str,
    dag_id: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    # the older pages make it silent (0.10/s), the newer say it has sound (0.15/s): the dearer reading
    monkeypatch.setenv("AIRFLOW__WAN__PRICES", json.dumps(WAN25_PRICES))
    fields = {"model": "wan2.5-t2v-preview", "prompt": "a red boat", "duration": 10, "audio": False}

    ti = run_dag(one_task_dag(dag_id, max_cost=1.2, **fields))[("generate", -1)]

    logged = log_text(caplog, capfd)
    assert ti.state == "failed"
    assert wan_emulator.create_count(include_refused=True) == 0
    assert "max_cost=1.2: the estimate for wan2.5-t2v-preview is 10 s x USD 0.15/s = USD 1.5" in logged
    assert (
        "Wan estimate: audio=False: the vendor's older pages make wan2.5-t2v-preview silent, its newer "
        "ones say only the wan2.1 and wan2.2 models make silent videos: the dearer of its sound and "
        "silent rates applies"
    ) in logged
    estimate = ti.xcom_pull(task_ids="generate", key="estimated_cost")
    assert (estimate["amount"], estimate["sound"]) == (1.5, None)
    assert estimate["warnings"][0].startswith("audio=False: ")


def test_wan25_audio_false_within_the_cap_runs_silent_and_costs_the_sound_price(
    wan_emulator: WanEmulator,
    wan_connection: str,
    dag_id: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AIRFLOW__WAN__PRICES", json.dumps(WAN25_PRICES))
    fields = {"model": "wan2.5-t2v-preview", "prompt": "a red boat", "duration": 10, "audio": False}

    ti = run_dag(one_task_dag(dag_id, max_cost=1.5, **fields))[("generate", -1)]

    result = xcom_of(ti)
    assert wan_emulator.create_count() == 1
    assert wan_emulator.task(result["task_id"])["output"]["has_audio"] is False  # as the older pages say
    assert (result["billed_seconds"], result["cost"]["amount"]) == (10, 1.5)  # no word of the sound
    assert "Wan cost: audio=False: the vendor's older pages" in log_text(caplog, capfd)


def test_a_bad_cap_is_refused_when_the_dag_is_parsed(wan_emulator: WanEmulator) -> None:
    with pytest.raises(WanValidationError) as refused:
        WanTextToVideoOperator(task_id="generate", max_cost=-1, **T2V)
    assert refused.value.parameter == "max_cost"


def test_openlineage_run_facet_names_model_billed_seconds_and_cost(
    wan_emulator: WanEmulator, wan_connection: str, priced: dict[str, Any], dag_id: str
) -> None:
    from airflow.providers.openlineage.extractors.base import DefaultExtractor

    dag = one_task_dag(dag_id, **T2V)
    ti = run_dag(dag)[("generate", -1)]
    operator = dag.get_task("generate")
    operator.wan_result = xcom_of(ti)  # what the run built (dag.test runs a copy of the task)

    lineage = DefaultExtractor(operator).extract_on_complete(task_instance=ti)

    assert lineage is not None
    facet = lineage.run_facets["wan"]
    assert (facet.model, facet.billedSeconds, facet.cost, facet.currency) == (
        "wan2.2-t2v-plus",
        5,
        0.1,
        "USD",
    )
    assert facet.wanTaskId == xcom_of(ti)["task_id"]


@pytest.mark.parametrize("deferrable", [False, True], ids=["in-worker", "deferred"])
def test_prices_come_with_the_one_connection_read_of_each_worker_step(
    wan_emulator: WanEmulator,
    wan_connection: str,
    priced: dict[str, Any],
    dag_id: str,
    monkeypatch: pytest.MonkeyPatch,
    deferrable: bool,
) -> None:
    # on a secrets backend each read is a lookup: the estimate and the cost take the prices from the
    # hook's settings, read once with the key (a deferred task resumes in a new step, which reads again).
    # The worker's steps read on the main thread; the trigger's async read is not counted (before Airflow
    # 3.3.2 common.compat makes it with get_connection in a worker thread, where it is safe).
    account = {"wan2.2-t2v-plus": {"currency": "CNY", "480P silent": 0.3}}
    monkeypatch.setenv(
        "AIRFLOW_CONN_WAN_DEFAULT",
        json.dumps({**json.loads(os.environ["AIRFLOW_CONN_WAN_DEFAULT"]), "extra": {"prices": account}}),
    )
    reads: list[str] = []
    read = BaseHook.get_connection.__func__  # type: ignore[attr-defined]

    def counted(cls: type[BaseHook], conn_id: str) -> Any:
        if threading.current_thread() is threading.main_thread():
            reads.append(conn_id)
        return read(cls, conn_id)

    monkeypatch.setattr(BaseHook, "get_connection", classmethod(counted))

    ti = run_dag(one_task_dag(dag_id, deferrable=deferrable, **T2V))[("generate", -1)]

    assert ti.state == "success"
    assert xcom_of(ti)["cost"]["amount"] == 1.5  # 5 s at the connection's CNY 0.3
    assert ti.xcom_pull(task_ids="generate", key="estimated_cost")["amount"] == 1.5
    assert reads.count(wan_connection) == (2 if deferrable else 1)
