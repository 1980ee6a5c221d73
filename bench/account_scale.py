"""Thousands of deferred WanTaskTriggers on one account, within the task API's 20 requests a second.

The emulator runs in its own process with the account limit on (query, cancel and list share 20 requests
a second, 429 ``Throttling`` past it). Its running slots and queue are raised so that ``--tasks`` tasks
are in flight at once and finish evenly over about ``--minutes`` (each runs 20 s; the slots set the pace).
Two phases, one after the other, each in a fresh child process so its CPU and memory are its own:

* baseline: per-task polling, a faithful copy of the trigger loop before the account poller (one GET per
  task on the operator's default schedule, 2 s growing to 15 s, no shared rate limiter, and 5 failures in a
  row, throttling included, end the wait with an ``error`` event);
* poller: today's ``WanTaskTrigger`` (one account poller per event loop and connection, within the account's
  task-API rate).

Printed per phase: successes, task-API requests and how many were throttled, requests per video,
median and worst delay from a task finishing (the emulator's record) to its trigger's event, CPU per
task waited for, and peak memory growth per task; then the ratios, and the targets (100% succeed,
at most 1% throttled, at most 3 requests per video, worst detection within 30 s, CPU per video no worse
than the baseline).

``--list-refused 403`` (or 404) runs both phases against an account that refuses the list call (a key
that may query its tasks but not list the account's): the poller cannot sweep and reads each task on
its own within the same rate, so the targets on requests and detection are not expected to hold;
every video must still succeed.

    .venv/bin/python bench/account_scale.py [--tasks 2000] [--minutes 5] [--list-refused 403]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "ERROR"  # before Airflow loads: no per-trigger lines

KEY = "sk-bench"
RUN_SECONDS = 20.0  # each task runs this long once it has a slot
TASK_API = ("query", "list", "cancel")


# -- the baseline: the trigger's polling loop before the account poller, kept here only ---------------


class PerTaskPollingTrigger:
    """``WanTaskTrigger._wait`` as it was: each trigger GETs its own task, with no shared rate limiter."""

    def __init__(self, wan_task_id: str, deadline: float, settings: Any) -> None:
        self.wan_task_id = wan_task_id
        self.deadline = deadline
        self.settings = settings
        self.poll_interval, self.max_poll_interval, self.max_consecutive_errors = 2.0, 15.0, 5

    async def run(self) -> AsyncIterator[dict[str, Any]]:
        yield await self._wait()

    async def _wait(self) -> dict[str, Any]:
        from airflow_provider_wan.api import TaskStatus, WanApiError, backoff_delay, poll_delay
        from airflow_provider_wan.hooks import aio
        from airflow_provider_wan.hooks.calls import get_call, read_answer

        polls = errors = 0
        await self._sleep(random.uniform(0, self.poll_interval))
        while True:
            if time.time() >= self.deadline:
                return {"status": "timeout"}
            call = get_call(self.wan_task_id)
            try:  # the old polling hook: max_retries=0, one send per poll
                answer = await aio.send(await aio.shared_session(), self.settings, call, 30.0)
                if isinstance(answer, WanApiError):
                    raise answer
                task = read_answer(call, answer.status, answer.retry_after, answer.content, self.settings)
            except WanApiError as error:
                errors += 1
                if not error.retryable or errors >= self.max_consecutive_errors:
                    return {"status": "error"}
                delay = backoff_delay(
                    errors - 1,
                    base=self.poll_interval,
                    cap=self.max_poll_interval,
                    retry_after=error.retry_after,
                )
                await self._sleep(delay)
                continue
            errors = 0
            if task.status is TaskStatus.SUCCEEDED:
                return {"status": "success"}
            if task.status.is_terminal:
                return {"status": "failed"}
            delay = poll_delay(polls, minimum=self.poll_interval, maximum=self.max_poll_interval)
            await self._sleep(delay * random.uniform(1.0, 1.2))
            polls += 1

    async def _sleep(self, delay: float) -> None:
        await asyncio.sleep(max(0.0, min(delay, self.deadline - time.time())))


# -- one phase, in a child process -----------------------------------------------------------------------


def rss_kib() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 1024


async def run_phase(kind: str, ids: list[str], base: str, deadline: float) -> dict[str, Any]:
    from airflow_provider_wan.hooks.aio import close_sessions
    from airflow_provider_wan.hooks.connection import WanSettings
    from airflow_provider_wan.triggers.wan import WanTaskTrigger

    triggers: list[Any]
    if kind == "baseline":
        settings = WanSettings("wan_default", base, KEY)
        triggers = [PerTaskPollingTrigger(task_id, deadline, settings) for task_id in ids]
    else:
        triggers = [WanTaskTrigger(task_id, deadline) for task_id in ids]
    events: dict[str, tuple[str, float]] = {}

    async def first_event(trigger: Any) -> None:
        async for event in trigger.run():
            payload = event if isinstance(event, dict) else event.payload
            events[trigger.wan_task_id] = (payload["status"], time.time())
            return

    rss_before = rss_kib()
    cpu = time.process_time()
    wall = time.monotonic()
    await asyncio.gather(*(first_event(trigger) for trigger in triggers))
    cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    await close_sessions()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"events": events, "cpu": cpu, "wall": wall, "memory_kib": max(0, peak - rss_before)}


def child(args: argparse.Namespace) -> None:
    ids = json.loads(Path(args.ids).read_text())
    os.environ["AIRFLOW_CONN_WAN_DEFAULT"] = json.dumps(
        {"conn_type": "wan", "host": args.base, "password": KEY}
    )
    import airflow_provider_wan.triggers.wan  # noqa: F401  (imported before measuring memory)

    result = asyncio.run(run_phase(args.phase, ids, args.base, time.time() + args.minutes * 60 + 600))
    print(json.dumps(result))


# -- the parent: emulator, tasks, phases, figures ------------------------------------------------------


def start_emulator(tasks: int, slots: int, list_refused: int | None) -> tuple[subprocess.Popen[str], str]:
    command = [
        sys.executable,
        "-m",
        "airflow_provider_wan.emulator",
        "--api-key",
        KEY,
        "--task-seconds",
        str(RUN_SECONDS),
        "--queue-seconds",
        "0",
        "--max-running",
        str(slots),
        "--creates-per-second",
        "100000",
        "--queue-limit",
        str(tasks + 100),
        "--no-prerender",
    ]  # fmt: skip  (the task-API limit stays on: 20 requests a second)
    if list_refused is not None:
        command += ["--list-refused", str(list_refused)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


async def create_tasks(base: str, count: int) -> list[str]:
    import aiohttp

    from airflow_provider_wan.api import CREATE_PATH, create_headers

    body = {"model": "wan2.6-t2v", "input": {"prompt": "bench"}, "parameters": {"size": "1280*720"}}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=50)) as session:

        async def one() -> str:
            async with session.post(base + CREATE_PATH, json=body, headers=create_headers(KEY)) as answer:
                assert answer.status == 200, await answer.text()
                return str((await answer.json())["output"]["task_id"])

        return list(await asyncio.gather(*(one() for _ in range(count))))


def phase(kind: str, base: str, args: argparse.Namespace) -> dict[str, Any]:
    from airflow_provider_wan.emulator import RemoteEmulator

    emulator = RemoteEmulator(base, KEY, timeout=60)
    emulator.reset()
    ids = asyncio.run(create_tasks(base, args.tasks))
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(ids, handle)
    command = [sys.executable, __file__, "--phase", kind, "--ids", handle.name, "--base", base,
               "--minutes", str(args.minutes)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    os.unlink(handle.name)
    if done.returncode != 0:
        raise RuntimeError(f"{kind} phase failed:\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    log = [entry for entry in emulator.request_log if entry["endpoint"] in TASK_API]
    ended = {task_id: emulator.task(task_id)["ended_at"] for task_id in ids}
    delays = [
        at - ended[task_id]
        for task_id, (status, at) in result["events"].items()
        if status == "success" and ended[task_id] is not None
    ]
    successes = sum(1 for status, _ in result["events"].values() if status == "success")
    return {
        "kind": kind,
        "successes": successes,
        "requests": len(log),
        "throttled": sum(1 for entry in log if entry["status"] == 429),
        "delays": delays,
        "cpu": result["cpu"],
        "wall": result["wall"],
        "memory_kib": result["memory_kib"],
    }


def report(found: dict[str, Any], tasks: int) -> str:
    delays = found["delays"] or [math.nan]
    return (
        f"{found['kind']:>9}: {found['successes']}/{tasks} succeeded in {found['wall']:.0f} s; "
        f"{found['requests']} task-API requests, {found['throttled']} throttled "
        f"({100 * found['throttled'] / max(found['requests'], 1):.1f}%), "
        f"{found['requests'] / max(found['successes'], 1):.2f} per video; detection median "
        f"{statistics.median(delays):.1f} s, worst {max(delays):.1f} s; "
        f"CPU {found['cpu'] / tasks * 1000:.2f} ms per task; "
        f"memory +{found['memory_kib'] / tasks:.1f} KiB per task"
    )


def main(args: argparse.Namespace) -> None:
    slots = max(1, math.ceil(args.tasks * RUN_SECONDS / (args.minutes * 60)))
    process, base = start_emulator(args.tasks, slots, args.list_refused)
    try:
        finishing = math.ceil(args.tasks / slots) * RUN_SECONDS / 60
        refused = f"; the list call refused ({args.list_refused})" if args.list_refused else ""
        print(
            f"{args.tasks} tasks, {slots} running at once, each {RUN_SECONDS:.0f} s: finishing over "
            f"~{finishing:.1f} min; task API limit 20/s{refused}",
            flush=True,
        )
        baseline = phase("baseline", base, args)
        print(report(baseline, args.tasks), flush=True)
        ours = phase("poller", base, args)
        print(report(ours, args.tasks), flush=True)
    finally:
        process.terminate()
        process.wait()
    per_video = ours["requests"] / max(ours["successes"], 1)
    throttled = 100 * ours["throttled"] / max(ours["requests"], 1)
    cpu_ratio = ours["cpu"] / baseline["cpu"]
    print(
        f"\npoller vs per-task polling: successes {ours['successes']} vs {baseline['successes']}; requests "
        f"{ours['requests'] / max(baseline['requests'], 1):.2f}x; CPU {cpu_ratio:.2f}x; memory per task "
        f"{ours['memory_kib'] / max(baseline['memory_kib'], 1):.2f}x"
    )
    print(
        f"targets: 100% succeed ({100 * ours['successes'] / args.tasks:.1f}%), <= 1% throttled "
        f"({throttled:.2f}%), <= 3 requests per video ({per_video:.2f}), worst detection <= 30 s "
        f"({max(ours['delays'] or [math.nan]):.1f} s), CPU per video <= baseline ({cpu_ratio:.2f}x)"
    )


if __name__ == "__main__":
    from airflow_provider_wan.emulator.settings import LIST_REFUSALS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--minutes", type=float, default=5.0, help="the tasks finish evenly over about this")
    parser.add_argument(
        "--list-refused",
        type=int,
        choices=LIST_REFUSALS,
        help="the account refuses every list call with this status",
    )
    parser.add_argument("--phase", choices=("baseline", "poller"), help=argparse.SUPPRESS)
    parser.add_argument("--ids", help=argparse.SUPPRESS)
    parser.add_argument("--base", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.phase:
        child(arguments)
    else:
        main(arguments)
