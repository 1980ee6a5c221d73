"""DAGs for the Celery deployment's fault scenarios: every video gets its prompt from the run's conf, so the
test can count the emulator's creates per task instance.

- ``wan_fault_batch``: one mapped, deferred video per prompt in the ``wan_api`` pool.
- ``wan_fault_single``: one deferred video, one retry (a worker killed mid-create, an ambiguous create,
  a user's kill or clear).
- ``wan_fault_execution_timeout``: ``execution_timeout`` (20 s) far below the operator's ``timeout``.
- ``wan_fault_after_success``: the video succeeds, then ``post_execute`` fails the first try.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG, Param, task

from airflow_provider_wan.operators.wan import WanTextToVideoOperator

VIDEO = {
    "model": "wan2.6-t2v",
    "size": "1280*720",
    "duration": 2,
    "deferrable": True,
    "poll_interval": 1,
    "max_poll_interval": 2,
}
ONE_PROMPT = {"prompt": Param("a paper boat on a puddle", type="string", minLength=1)}
START = datetime(2026, 1, 1)


class FailsAfterSuccessOperator(WanTextToVideoOperator):
    """The video succeeds, then the first try fails anyway, as an XCom push or a callback may."""

    def post_execute(self, context: Any, result: Any = None) -> None:
        if context["ti"].try_number == 1:
            raise RuntimeError("post_execute fails the first try after the video succeeded")


with DAG(
    "wan_fault_batch",
    schedule=None,
    start_date=START,
    catchup=False,
    params={"prompts": Param(["a lighthouse at dusk"], type="array", minItems=1)},
    tags=["test"],
):

    @task
    def prompts(params: dict[str, Any]) -> list[str]:
        return list(params["prompts"])

    WanTextToVideoOperator.partial(
        task_id="generate",
        **VIDEO,
        pool="wan_api",
        retries=2,
        retry_delay=timedelta(seconds=2),
    ).expand(prompt=prompts())


def one_video_dag(dag_id: str, operator: type[WanTextToVideoOperator], **task_args: Any) -> DAG:
    """A DAG of one deferred video whose prompt comes from the run's conf."""
    with DAG(dag_id, schedule=None, start_date=START, catchup=False, params=ONE_PROMPT, tags=["test"]) as dag:
        operator(task_id="generate", prompt="{{ params.prompt }}", **VIDEO, **task_args)
    return dag


ONE_RETRY = {"retries": 1, "retry_delay": timedelta(seconds=1)}
one_video_dag("wan_fault_single", WanTextToVideoOperator, **ONE_RETRY)
one_video_dag(
    "wan_fault_execution_timeout",
    WanTextToVideoOperator,
    timeout=1800,
    execution_timeout=timedelta(seconds=20),
)
one_video_dag("wan_fault_after_success", FailsAfterSuccessOperator, **ONE_RETRY)
