"""The provider in Airflow as a platform team scales it: CeleryExecutor over Redis, PostgreSQL, two Celery
workers and two triggerers beside the scheduler, dag-processor and api-server, each its own process.

Each scenario makes one production failure happen (faults on the wire, a paused or killed triggerer, a
worker killed mid-create, timeouts, a user's kill) and checks the money: the emulator's accepted creates
per task instance (each has its own prompt) and the cancel requests it received.
"""

from __future__ import annotations

import json
import re
import signal
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from airflow_provider_wan.emulator.remote import RemoteEmulator
from tests.deployment.harness import CeleryDeployment, wait_for

pytestmark = [pytest.mark.deployment, pytest.mark.timeout(1200)]


DAG_FILE = Path(__file__).parent / "dags" / "wan_faults.py"
DAG_IDS = ["wan_fault_batch", "wan_fault_single", "wan_fault_execution_timeout", "wan_fault_after_success"]
API_KEY = "sk-celery-deployment-test"
TASK_SECONDS = 1.0  # a video takes one emulated second unless a scenario parks it
PARKED_SECONDS = 600.0  # a parked video cannot finish before the emulator's clock is moved past it
PENDING_FOR_AN_HOUR = {"queue_seconds": 3600.0, "task_seconds": 3700.0}
POOL_SLOTS = 8
BATCH_SIZE = 200
RUN_TIMEOUT = 300.0
TRIGGERER_GRACE = 5.0  # several triggerer loops (1 s heartbeat): what a removed trigger does, it did
# A few percent of every query and list call fail in every way a network and a busy service fail; creates
# get only 429s, which the service answers before taking the task (anything else would be ambiguous).
# 5% each: over the ~200 calls the account poller makes, every kind happens (at 2% one kind in ~75
# runs never did).
WIRE_FAULTS = {"error_500": 0.05, "error_503": 0.05, "error_429": 0.05, "drop": 0.05}
CREATE_FAULTS = {"error_429": 0.05}


@dataclass
class Stack:
    airflow: CeleryDeployment
    emulator: RemoteEmulator

    def accepted_creates(self, prompts: list[str]) -> list[int]:
        return [self.emulator.create_count(prompt=prompt) for prompt in prompts]

    def cancel_requests(self) -> Counter[str]:
        """Cancel calls the emulator received, by Wan task id."""
        return Counter(
            entry["path"].split("/")[-2]
            for entry in self.emulator.request_log
            if entry["endpoint"] == "cancel"
        )

    def tasks_for(self, prompt: str) -> list[dict[str, Any]]:
        """The emulator's tasks for ``prompt``, oldest first (listed through the Wan API, then inspected)."""
        found, page = [], 1
        while True:
            answer = requests.get(
                f"{self.emulator.base_url}/tasks",
                params={"page_size": 100, "page_no": page},
                headers={"Authorization": f"Bearer {API_KEY}"},
                timeout=10,
            )
            answer.raise_for_status()
            rows = answer.json()["data"]
            found += [self.emulator.task(row["task_id"]) for row in rows]
            if len(rows) < 100:
                break
            page += 1
        return sorted(
            (task for task in found if task["prompt"] == prompt), key=lambda task: task["created_at"]
        )


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    airflow = CeleryDeployment(home=tmp_path_factory.mktemp("airflow-celery"), dag_files=[DAG_FILE])
    try:
        emulator_url = airflow.start_wan_emulator(api_key=API_KEY, task_seconds=TASK_SECONDS)
        connection = {"conn_type": "wan", "host": emulator_url, "password": API_KEY}
        airflow.env["AIRFLOW_CONN_WAN_DEFAULT"] = json.dumps(connection)
        airflow.start()
        airflow.set_pool("wan_api", POOL_SLOTS)
        airflow.wait_for_dags(DAG_IDS)
        yield Stack(airflow, RemoteEmulator(emulator_url, API_KEY))
    finally:
        airflow.stop()


@pytest.fixture
def wan(stack: Stack) -> Iterator[Stack]:
    """The stack with a fresh emulator (no tasks, counts, faults; own timing) and every component alive."""
    stack.emulator.reset()
    stack.airflow.check_alive()
    yield stack
    stack.emulator.reset()


def prompts_for(scenario: str, count: int) -> list[str]:
    stamp = time.strftime("%H%M%S")
    return [f"{scenario} {stamp} #{n}: a kite over the dunes at sunrise" for n in range(count)]


def generate_tis(airflow: CeleryDeployment, dag_id: str, run_id: str) -> list[dict[str, Any]]:
    return [ti for ti in airflow.task_instances(dag_id, run_id) if ti["task_id"] == "generate"]


def wait_until_deferred(
    airflow: CeleryDeployment, dag_id: str, run_id: str, count: int
) -> list[dict[str, Any]]:
    """Every ``generate`` task instance deferred and held by a triggerer."""

    def all_deferred() -> list[dict[str, Any]] | None:
        airflow.check_alive()
        tis = generate_tis(airflow, dag_id, run_id)
        held = [ti for ti in tis if ti["state"] == "deferred" and ti.get("triggerer_job")]
        return tis if len(tis) == count and len(held) == count else None

    return wait_for(
        f"{count} task instances to be deferred in a triggerer",
        all_deferred,
        RUN_TIMEOUT,
        airflow.run_diagnostics(dag_id, run_id),
        interval=1,
    )


def triggerer_jobs_of(tis: list[dict[str, Any]]) -> Counter[int]:
    return Counter(int(ti["triggerer_job"]["id"]) for ti in tis if ti.get("triggerer_job"))


def busiest_triggerer(airflow: CeleryDeployment, tis: list[dict[str, Any]]) -> tuple[str, str]:
    """(the running triggerer holding the most of ``tis``' triggers, the other running one)."""
    held = triggerer_jobs_of(tis)
    running = [name for name in airflow.triggerer_jobs if airflow.services[name].alive]
    assert len(running) == 2, running
    busiest, other = sorted(running, key=lambda name: held[airflow.triggerer_jobs[name]], reverse=True)
    assert held[airflow.triggerer_jobs[busiest]] > 0, (held, airflow.triggerer_jobs)
    return busiest, other


def wait_until_all_held_by(airflow: CeleryDeployment, dag_id: str, run_id: str, triggerer: str) -> None:
    job = airflow.triggerer_jobs[triggerer]

    def moved() -> bool:
        return set(triggerer_jobs_of(generate_tis(airflow, dag_id, run_id))) == {job}

    wait_for(f"every trigger to move to {triggerer} (job {job})", moved, 120, airflow.diagnostics, interval=1)


def test_batch_of_200_over_both_workers_and_triggerers_with_faults_on(wan: Stack) -> None:
    """Faults on every call, 200 videos at once. On Airflow 3.1.0 the scheduler itself also retries some:
    when a video ends before the scheduler has seen the worker's report of the deferral, it calls the
    task "killed externally" and marks it UP_FOR_RETRY (3.3 recognises the resume after a deferral).
    Those retries must find the video their first try made rather than submit another.
    """
    airflow, emulator = wan.airflow, wan.emulator
    prompts = prompts_for("batch", BATCH_SIZE)
    for endpoint in ("query", "list"):
        emulator.set_faults(endpoint, **WIRE_FAULTS)
    emulator.set_faults("create", **CREATE_FAULTS)
    run_id = airflow.trigger("wan_fault_batch", {"prompts": prompts})
    airflow.wait_for_run("wan_fault_batch", run_id, timeout=900)

    tis = generate_tis(airflow, "wan_fault_batch", run_id)
    assert sorted(ti["state"] for ti in tis) == ["success"] * BATCH_SIZE
    assert wan.accepted_creates(prompts) == [1] * BATCH_SIZE
    assert wan.cancel_requests() == Counter()
    videos = {airflow.xcom("wan_fault_batch", run_id, "generate", n)["task_id"] for n in range(BATCH_SIZE)}
    assert len(videos) == BATCH_SIZE
    # The faults happened, and the work spread over both workers and both triggerers.
    # (counted over query and list together: the account poller makes few calls of either)
    injected = Counter(e["status"] for e in emulator.request_log if e["endpoint"] in ("query", "list"))
    assert all(injected[status] > 0 for status in (500, 503, 429, "dropped")), injected
    workloads = airflow.worker_logs_mentioning(f"run_id='{run_id}'")
    assert len(workloads) == 2, workloads
    assert all(workloads.values()), workloads
    trigger_logs = (airflow.home / "logs" / "dag_id=wan_fault_batch").glob(
        f"run_id={run_id}/**/*.trigger.*.log"
    )
    jobs_used = {
        int(match.group(1))
        for path in trigger_logs
        if (match := re.search(r"\.trigger\.(\d+)\.log$", path.name))
    }
    assert jobs_used == set(airflow.triggerer_jobs.values()), (jobs_used, airflow.triggerer_jobs)


def run_parked_batch(wan: Stack, scenario: str, size: int) -> tuple[str, list[str], list[dict[str, Any]]]:
    """A batch whose videos cannot finish until the emulator's clock moves, all deferred."""
    wan.emulator.set_limits(False)  # no account queue: one clock move finishes them all
    # PENDING while parked, so a wrong cancel would take effect (and fail the task) rather than be refused.
    wan.emulator.set_timing(queue_seconds=PARKED_SECONDS, task_seconds=PARKED_SECONDS + TASK_SECONDS)
    prompts = prompts_for(scenario, size)
    run_id = wan.airflow.trigger("wan_fault_batch", {"prompts": prompts})
    return run_id, prompts, wait_until_deferred(wan.airflow, "wan_fault_batch", run_id, size)


def finish_parked_batch(wan: Stack, run_id: str, prompts: list[str]) -> list[dict[str, Any]]:
    wan.emulator.advance_clock(PARKED_SECONDS + 60)
    state = wan.airflow.wait_for_run("wan_fault_batch", run_id, timeout=RUN_TIMEOUT, require_success=False)
    assert wan.cancel_requests() == Counter()
    assert wan.accepted_creates(prompts) == [1] * len(prompts)
    tis = generate_tis(wan.airflow, "wan_fault_batch", run_id)
    assert (state, sorted(ti["state"] for ti in tis)) == ("success", ["success"] * len(prompts))
    return tis


def test_triggerer_paused_past_its_heartbeat_then_resumed(wan: Stack) -> None:
    """SIGSTOP, as a long GC pause or a frozen VM: its triggers move; resumed, it cancels nothing."""
    airflow = wan.airflow
    run_id, prompts, deferred = run_parked_batch(wan, "paused triggerer", 20)
    paused, other = busiest_triggerer(airflow, deferred)
    airflow.services[paused].signal_group(signal.SIGSTOP)
    try:
        wait_until_all_held_by(airflow, "wan_fault_batch", run_id, other)
    finally:
        airflow.services[paused].signal_group(signal.SIGCONT)
    resumed_at = time.time()

    def heartbeats_again() -> bool:
        jobs = airflow.api("GET", "/jobs", params={"job_type": "TriggererJob", "limit": 100})["jobs"]
        beat = next(job["latest_heartbeat"] for job in jobs if job["id"] == airflow.triggerer_jobs[paused])
        return datetime.fromisoformat(beat).timestamp() > resumed_at + 3  # a few beats: it saw the move

    wait_for(f"{paused} to heartbeat again after SIGCONT", heartbeats_again, 60, airflow.diagnostics)
    finish_parked_batch(wan, run_id, prompts)


def test_triggerer_killed_with_50_tasks_deferred(wan: Stack) -> None:
    airflow = wan.airflow
    run_id, prompts, deferred = run_parked_batch(wan, "killed triggerer", 50)
    killed, other = busiest_triggerer(airflow, deferred)
    airflow.services[killed].kill()
    del airflow.triggerer_jobs[killed]
    wait_until_all_held_by(airflow, "wan_fault_batch", run_id, other)
    airflow.start_triggerer(f"{killed}-replacement")  # the next scenarios have two again
    finish_parked_batch(wan, run_id, prompts)
    assert airflow.services[killed].process is not None
    assert airflow.services[killed].process.returncode == -signal.SIGKILL


def test_worker_killed_right_after_the_create_was_accepted(wan: Stack) -> None:
    """The service took the task; the worker dies before it hears so. The retry re-attaches."""
    airflow, emulator = wan.airflow, wan.emulator
    [prompt] = prompts_for("killed worker", 1)
    # Every create is taken and then answered only after a minute: a second create would be counted too.
    emulator.set_faults("create", accept_then_delay=60)
    run_id = airflow.trigger("wan_fault_single", {"prompt": prompt})
    wait_for(
        "the create to be accepted",
        lambda: emulator.create_count(prompt=prompt) == 1,
        RUN_TIMEOUT,
        airflow.run_diagnostics("wan_fault_single", run_id),
    )
    [worker] = [name for name, count in airflow.worker_logs_mentioning(f"run_id='{run_id}'").items() if count]
    airflow.services[worker].kill()
    airflow.start_worker(f"{worker}-replacement")
    state = airflow.wait_for_run("wan_fault_single", run_id, timeout=RUN_TIMEOUT, require_success=False)

    ti = airflow.task_instance("wan_fault_single", run_id, "generate")
    assert wan.accepted_creates([prompt]) == [1]
    assert wan.cancel_requests() == Counter()
    assert (state, ti["state"], ti["try_number"]) == ("success", "success", 2)
    [task] = wan.tasks_for(prompt)
    assert airflow.xcom("wan_fault_single", run_id, "generate")["task_id"] == task["task_id"]


def test_ambiguous_create_is_reconciled_without_a_person(wan: Stack) -> None:
    """The service takes the task and the connection drops before the answer: found again, not resent."""
    airflow, emulator = wan.airflow, wan.emulator
    [prompt] = prompts_for("ambiguous create", 1)
    emulator.set_faults("create", accept_then_drop=1.0)  # every create: a second one would be counted too
    run_id = airflow.trigger("wan_fault_single", {"prompt": prompt})
    state = airflow.wait_for_run("wan_fault_single", run_id, timeout=RUN_TIMEOUT, require_success=False)

    assert wan.accepted_creates([prompt]) == [1]
    assert wan.cancel_requests() == Counter()
    assert state == "success", airflow.run_diagnostics("wan_fault_single", run_id)()
    [task] = wan.tasks_for(prompt)
    assert airflow.xcom("wan_fault_single", run_id, "generate")["task_id"] == task["task_id"]


def test_execution_timeout_shorter_than_timeout_cancels_the_pending_task(wan: Stack) -> None:
    airflow, emulator = wan.airflow, wan.emulator
    [prompt] = prompts_for("execution timeout", 1)
    emulator.set_timing(**PENDING_FOR_AN_HOUR)
    run_id = airflow.trigger("wan_fault_execution_timeout", {"prompt": prompt})
    state = airflow.wait_for_run(
        "wan_fault_execution_timeout", run_id, timeout=RUN_TIMEOUT, require_success=False
    )

    [task] = wan.tasks_for(prompt)
    assert wan.accepted_creates([prompt]) == [1]
    assert wan.cancel_requests() == Counter({task["task_id"]: 1})
    assert (state, task["status"]) == ("failed", "CANCELED")
    log = airflow.task_log("wan_fault_execution_timeout", run_id, "generate")
    assert re.search(rf"{task['task_id']}.*(timeout|timed out|within)", log, re.IGNORECASE), log[-3000:]


def defer_one_pending_video(wan: Stack, scenario: str) -> tuple[str, str, dict[str, Any]]:
    """(run id, prompt, the emulator's task): a deferred video that stays PENDING for an hour."""
    [prompt] = prompts_for(scenario, 1)
    wan.emulator.set_timing(**PENDING_FOR_AN_HOUR)
    run_id = wan.airflow.trigger("wan_fault_single", {"prompt": prompt})
    wait_until_deferred(wan.airflow, "wan_fault_single", run_id, 1)
    [task] = wan.tasks_for(prompt)
    wan.emulator.set_timing(task_seconds=TASK_SECONDS, queue_seconds=0.2)  # for what is submitted next
    return run_id, prompt, task


def test_user_marks_a_deferred_task_failed(wan: Stack) -> None:
    """A user's kill cancels the PENDING task: through the trigger's on_kill on Airflow 3.3+, and through
    its cleanup on 3.1 (which calls no trigger on_kill); either reads the task instance's state first."""
    airflow = wan.airflow
    run_id, prompt, task = defer_one_pending_video(wan, "marked failed")
    airflow.set_task_state("wan_fault_single", run_id, "generate", "failed")
    assert airflow.wait_for_run("wan_fault_single", run_id, RUN_TIMEOUT, require_success=False) == "failed"

    def cancelled() -> bool:
        return wan.emulator.task(task["task_id"])["status"] == "CANCELED"

    wait_for("the PENDING task to be cancelled", cancelled, 60, airflow.diagnostics)
    assert wan.cancel_requests() == Counter({task["task_id"]: 1})
    assert wan.accepted_creates([prompt]) == [1]
    log = airflow.task_log("wan_fault_single", run_id, "generate")
    assert f"(a user ended it): cancelling Wan task {task['task_id']}" in log


def test_user_clears_a_deferred_task(wan: Stack) -> None:
    """Clearing restarts the task instance; whatever the race between its new try and the old trigger's
    on_kill, exactly one Wan task is left to bill, and it is the video the new try returns.

    If on_kill runs first, the PENDING task is cancelled and the new try submits anew; if the new try
    re-attached first (the task state store keeps the id, Airflow 3.3+), the task instance is deferred
    again and the old trigger must not cancel what the new try waits for.
    """
    airflow, emulator = wan.airflow, wan.emulator
    run_id, prompt, _ = defer_one_pending_video(wan, "cleared")
    airflow.clear_task("wan_fault_single", run_id, "generate")
    wait_for(
        "the cleared task instance to run again",
        lambda: airflow.task_instance("wan_fault_single", run_id, "generate")["try_number"] == 2,
        RUN_TIMEOUT,
        airflow.diagnostics,
    )
    time.sleep(TRIGGERER_GRACE)  # the old trigger's removal reaches the triggerer
    emulator.advance_clock(PENDING_FOR_AN_HOUR["task_seconds"] + 60)  # a re-attached first task finishes
    state = airflow.wait_for_run("wan_fault_single", run_id, RUN_TIMEOUT, require_success=False)

    tasks = wan.tasks_for(prompt)
    billed = [task for task in tasks if task["status"] != "CANCELED"]
    cancelled = {task["task_id"] for task in tasks if task["status"] == "CANCELED"}
    assert set(wan.cancel_requests()) == cancelled, (wan.cancel_requests(), tasks)
    assert [task["status"] for task in billed] == ["SUCCEEDED"], tasks
    assert (state, airflow.xcom("wan_fault_single", run_id, "generate")["task_id"]) == (
        "success",
        billed[0]["task_id"],
    )


def test_failure_after_success_on_the_first_try_returns_the_same_video(wan: Stack) -> None:
    airflow = wan.airflow
    [prompt] = prompts_for("failure after success", 1)
    run_id = airflow.trigger("wan_fault_after_success", {"prompt": prompt})
    state = airflow.wait_for_run(
        "wan_fault_after_success", run_id, timeout=RUN_TIMEOUT, require_success=False
    )

    ti = airflow.task_instance("wan_fault_after_success", run_id, "generate")
    assert wan.accepted_creates([prompt]) == [1]
    assert wan.cancel_requests() == Counter()
    assert (state, ti["try_number"]) == ("success", 2)
    [task] = wan.tasks_for(prompt)
    assert airflow.xcom("wan_fault_after_success", run_id, "generate")["task_id"] == task["task_id"]
