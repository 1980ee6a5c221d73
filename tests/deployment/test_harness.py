"""The deployment harness itself: scheduler, dag-processor, triggerer and API server run a trivial DAG."""

from __future__ import annotations

from pathlib import Path

import pytest

from .harness import AirflowDeployment

pytestmark = pytest.mark.timeout(420)


def test_trivial_dag_runs_through_every_component(tmp_path: Path) -> None:
    deployment = AirflowDeployment(
        home=tmp_path, dag_files=[Path(__file__).parent / "dags" / "harness_check.py"]
    )
    try:
        deployment.start()
        deployment.wait_for_dags(["harness_check"])
        run_id = deployment.trigger("harness_check")
        deployment.wait_for_run("harness_check", run_id, timeout=120)

        states = {ti["task_id"]: ti["state"] for ti in deployment.task_instances("harness_check", run_id)}
        assert states == {"hello": "success", "deferred": "success", "after": "success"}
        resumed = deployment.api(
            "GET", f"/dags/harness_check/dagRuns/{run_id}/taskInstances/deferred/xcomEntries/return_value"
        )
        assert resumed["value"] == "resumed after the triggerer"
        # The triggerer writes the trigger's own log next to the task's: proof the deferral went through it.
        assert list(deployment.home.glob("logs/dag_id=harness_check/**/task_id=deferred/*.trigger.*.log"))
    finally:
        deployment.stop()
