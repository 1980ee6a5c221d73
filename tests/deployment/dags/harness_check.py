"""The smallest DAG that uses every component: a worker task, a deferral to the triggerer, a task after it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.providers.standard.triggers.temporal import TimeDeltaTrigger
from airflow.sdk import BaseOperator, dag, task


class DeferOnce(BaseOperator):
    """Hands itself to the triggerer once, then finishes on a worker with what the trigger sent."""

    def execute(self, context: Any) -> None:
        self.defer(trigger=TimeDeltaTrigger(timedelta(seconds=2)), method_name="resume")

    def resume(self, context: Any, event: Any = None) -> str:
        return "resumed after the triggerer"


@dag(schedule=None, catchup=False, tags=["test"])
def harness_check() -> None:
    @task
    def hello() -> str:
        return "hello"

    @task
    def after(greeting: str) -> str:
        return greeting.upper()

    greeting = hello()
    greeting >> DeferOnce(task_id="deferred") >> after(greeting)


harness_check()
