"""1,000 WanTaskTriggers at once in one event loop, against the emulator running in its own process.

Each round creates fresh tasks (they run ``--seconds``) and polls them to their end twice, one phase
after the other: a raw ``aiohttp`` GET loop on the same endpoint (one pooled session with the async
hook's connection limit; the JSON parsed and the status read), then ``--triggers`` WanTaskTriggers.
Both follow the operator's default schedule (2 s growing to 15 s, spread at random as the trigger
does it). Only this process's CPU is
measured (the emulator runs in another one); the emulator counts the polls. Printed per phase: CPU
per poll and the triggers/raw ratio (target <= 1.5), and the longest event-loop stall seen by a 10 ms
ticker (target < 100 ms). Then one more, untimed, round under tracemalloc gives the peak Python
memory per trigger.

    .venv/bin/python bench/triggers.py [--triggers 1000] [--seconds 30] [--interval 2] [--max-interval 15]
                                       [--rounds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import os
import random
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial

import aiohttp

from airflow_provider_wan.api import CREATE_PATH, auth_headers, create_headers, poll_delay, task_path
from airflow_provider_wan.emulator import RemoteEmulator

os.environ["AIRFLOW__LOGGING__LOGGING_LEVEL"] = "WARNING"  # before Airflow loads: no per-trigger INFO lines

from airflow.triggers.base import TriggerEvent

from airflow_provider_wan.hooks.aio import close_sessions
from airflow_provider_wan.triggers.poller import POLL_SPREAD
from airflow_provider_wan.triggers.wan import WanTaskTrigger

KEY = "sk-bench"
TICK = 0.01
CONNECTION_LIMIT = 100  # what the async hook's shared session allows (airflow_provider_wan.hooks.aio)


@dataclass
class Phase:
    name: str
    cpu_seconds: float
    polls: int
    stalls: Stalls
    wall_seconds: float

    @property
    def cpu_per_poll(self) -> float:
        return self.cpu_seconds / self.polls


class GcClock:
    """Time the interpreter spends in garbage collection (``gc.callbacks``): total and longest pause."""

    def __init__(self) -> None:
        self.total = self.longest = 0.0
        self._started = 0.0
        gc.callbacks.append(self._note)

    def _note(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            pause = time.perf_counter() - self._started
            self.total += pause
            self.longest = max(self.longest, pause)


GC = GcClock()


@dataclass
class Stalls:
    loop: float = 0.0  # CPU this thread spent in a late tick, collections excluded: work holding the loop
    wall: float = 0.0  # plain lateness: also time the OS gave other processes, and collections
    gc: float = 0.0  # the longest garbage collection


async def longest_stalls(stop: asyncio.Event) -> Stalls:
    """How late a 10 ms sleep wakes up at worst, until ``stop``, and why."""
    loop = asyncio.get_running_loop()
    found = Stalls()
    GC.longest = 0.0
    while not stop.is_set():
        started, cpu, collecting = loop.time(), time.thread_time(), GC.total
        await asyncio.sleep(TICK)
        late = loop.time() - started - TICK
        found.wall = max(found.wall, late)
        found.loop = max(found.loop, min(late, time.thread_time() - cpu) - (GC.total - collecting))
    found.gc = GC.longest
    return found


async def measure(name: str, emulator: RemoteEmulator, work: Callable[[], Awaitable[None]]) -> Phase:
    requests_before = emulator.state()["requests"]
    stop = asyncio.Event()
    ticker = asyncio.create_task(longest_stalls(stop))
    wall, cpu = time.monotonic(), time.process_time()
    await work()
    cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    stop.set()
    stalls = await ticker
    polls = emulator.state()["requests"] - requests_before
    return Phase(name, cpu, polls, stalls, wall)


async def peak_memory(work: Callable[[], Awaitable[None]]) -> int:
    """Bytes of Python memory ``work`` held at its peak, over what was held before (tracemalloc)."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        await work()
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


async def create_tasks(base: str, count: int) -> list[str]:
    body = {"model": "wan2.6-t2v", "input": {"prompt": "bench"}, "parameters": {"size": "1280*720"}}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONNECTION_LIMIT)) as session:

        async def one() -> str:
            async with session.post(base + CREATE_PATH, json=body, headers=create_headers(KEY)) as answer:
                assert answer.status == 200, await answer.text()
                return str((await answer.json())["output"]["task_id"])

        return list(await asyncio.gather(*(one() for _ in range(count))))


async def raw_polls(base: str, task_ids: list[str], interval: float, max_interval: float) -> None:
    """The baseline: GET each task on the triggers' schedule (their random spread too) until it ends."""
    headers = auth_headers(KEY)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONNECTION_LIMIT)) as session:

        async def poll(task_id: str) -> None:
            url = base + task_path(task_id)
            await asyncio.sleep(random.uniform(0, interval))
            for polls in itertools.count():
                async with session.get(url, headers=headers) as answer:
                    status = (await answer.json())["output"]["task_status"]
                if status not in ("PENDING", "RUNNING"):
                    assert status == "SUCCEEDED", status
                    return
                delay = poll_delay(polls, minimum=interval, maximum=max_interval)
                await asyncio.sleep(delay * random.uniform(1.0, 1.0 + POLL_SPREAD))

        await asyncio.gather(*(poll(task_id) for task_id in task_ids))


async def first_event(trigger: WanTaskTrigger) -> TriggerEvent:
    """Run a trigger as the triggerer does (``async for`` in a coroutine) until its first event."""
    async for event in trigger.run():
        return event
    raise RuntimeError(f"{trigger!r} ended without an event")


async def trigger_polls(task_ids: list[str], interval: float, max_interval: float, seconds: float) -> None:
    deadline = time.time() + seconds + 120
    triggers = [
        WanTaskTrigger(task_id, deadline, poll_interval=interval, max_poll_interval=max_interval)
        for task_id in task_ids
    ]
    events = await asyncio.gather(*(first_event(trigger) for trigger in triggers))
    await close_sessions()
    statuses = {event.payload["status"] for event in events}
    assert statuses == {"success"}, statuses


def start_emulator(seconds: float) -> tuple[subprocess.Popen[str], str]:
    command = [
        sys.executable, "-m", "airflow_provider_wan.emulator", "--api-key", KEY,
        "--task-seconds", str(seconds), "--queue-seconds", "0.2", "--no-limits", "--no-prerender",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


async def main(args: argparse.Namespace) -> None:
    process, base = start_emulator(args.seconds)
    connection = {"conn_type": "wan", "host": base, "password": KEY}
    os.environ["AIRFLOW_CONN_WAN_DEFAULT"] = json.dumps(connection)
    emulator = RemoteEmulator(base, KEY)
    phases: list[tuple[Phase, Phase]] = []
    try:
        await trigger_polls(await create_tasks(base, 10), 0.2, 0.2, args.seconds)  # warm-up, not measured
        for _ in range(args.rounds):
            ids = await create_tasks(base, args.triggers)
            raw = await measure(
                "raw aiohttp", emulator, partial(raw_polls, base, ids, args.interval, args.max_interval)
            )
            ids = await create_tasks(base, args.triggers)
            ours = await measure(
                "WanTaskTrigger",
                emulator,
                partial(trigger_polls, ids, args.interval, args.max_interval, args.seconds),
            )
            phases.append((raw, ours))
            for phase in (raw, ours):
                print(
                    f"{phase.name:>15}: {phase.polls} polls in {phase.wall_seconds:.1f} s, "
                    f"{phase.cpu_per_poll * 1e6:.0f} us CPU/poll, "
                    f"longest loop stall {phase.stalls.loop * 1000:.0f} ms (wall clock "
                    f"{phase.stalls.wall * 1000:.0f} ms, longest garbage collection "
                    f"{phase.stalls.gc * 1000:.0f} ms)"
                )
        ids = await create_tasks(base, args.triggers)
        raw_memory = await peak_memory(partial(raw_polls, base, ids, args.interval, args.max_interval))
        ids = await create_tasks(base, args.triggers)
        trigger_memory = await peak_memory(
            partial(trigger_polls, ids, args.interval, args.max_interval, args.seconds)
        )
    finally:
        process.terminate()
        process.wait()
    ratios = [ours.cpu_per_poll / raw.cpu_per_poll for raw, ours in phases]
    print(
        f"\n{args.triggers} triggers, {args.rounds} rounds, tasks of {args.seconds:.0f} s, "
        f"polls every {args.interval:g} s growing to {args.max_interval:g} s"
    )
    print(f"CPU per poll, triggers / raw aiohttp: {statistics.median(ratios):.2f} (target <= 1.5)")
    print(
        f"peak memory per trigger: {trigger_memory / args.triggers / 1024:.1f} KiB "
        f"(raw aiohttp poller: {raw_memory / args.triggers / 1024:.1f} KiB)"
    )
    print(
        f"longest event-loop stall with triggers: "
        f"{max(ours.stalls.loop for _, ours in phases) * 1000:.0f} ms (target < 100 ms); longest "
        f"garbage collection {max(ours.stalls.gc for _, ours in phases) * 1000:.0f} ms"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triggers", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=30.0, help="how long each task runs")
    parser.add_argument("--interval", type=float, default=2.0, help="shortest pause between polls of a task")
    parser.add_argument("--max-interval", type=float, default=15.0, help="longest pause (the vendor's 15 s)")
    parser.add_argument("--rounds", type=int, default=2)
    asyncio.run(main(parser.parse_args()))
