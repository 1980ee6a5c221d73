"""Can one emulator serve 1,000 tasks polled at once? Compared with a trivial aiohttp server, same run.

Both servers run in their own process (the emulator through its ``wan-emulator`` command, limits off);
this process creates 1,000 tasks, then polls all of them at once, ``--rounds`` times, over up to 1,000
concurrent connections, each round followed by the same against an aiohttp server whose handler
returns a constant JSON body (interleaved, so both see the same background load). The ratio of the
two throughputs says how much of a poller's budget the emulator's own work costs; every emulator
answer is checked to be a 200 with the polled task's id.

    .venv/bin/python bench/emulator_load.py [--tasks 1000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

import aiohttp
from aiohttp import web

from airflow_provider_wan.api import CREATE_PATH, auth_headers, create_headers

KEY = "sk-bench"


@dataclass
class Round:
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds


def serve_trivial() -> None:
    """The baseline: an aiohttp app answering every task query with a fixed small JSON body."""
    body = json.dumps({"request_id": "r", "output": {"task_id": "t", "task_status": "RUNNING"}}).encode()

    async def query(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/api/v1/tasks/{task_id}", query)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=2048)
        await site.start()
        print(f"http://127.0.0.1:{runner.addresses[0][1]}/api/v1", flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


def start(command: list[str]) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


async def create_tasks(session: aiohttp.ClientSession, base: str, count: int) -> list[str]:
    body = {"model": "wan2.6-t2v", "input": {"prompt": "load"}, "parameters": {"size": "1280*720"}}

    async def one() -> str:
        async with session.post(base + CREATE_PATH, json=body, headers=create_headers(KEY)) as answer:
            assert answer.status == 200, await answer.text()
            return str((await answer.json())["output"]["task_id"])

    return list(await asyncio.gather(*(one() for _ in range(count))))


async def poll_all(session: aiohttp.ClientSession, base: str, task_ids: list[str], check: bool) -> Round:
    headers = auth_headers(KEY)

    async def one(task_id: str) -> float:
        started = time.perf_counter()
        async with session.get(f"{base}/tasks/{task_id}", headers=headers) as answer:
            body = await answer.json()
        if check:
            assert answer.status == 200
            assert body["output"]["task_id"] == task_id
        return time.perf_counter() - started

    started = time.perf_counter()
    latencies = await asyncio.gather(*(one(task_id) for task_id in task_ids))
    return Round(time.perf_counter() - started, list(latencies))


async def measure(
    emulator_url: str, trivial_url: str, count: int, rounds: int
) -> tuple[list[Round], list[Round]]:
    """Rounds against both servers, interleaved so that both see the same background load."""
    emulator_rounds: list[Round] = []
    trivial_rounds: list[Round] = []
    async with (
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=count)) as emulator,
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=count)) as trivial,
    ):
        task_ids = await create_tasks(emulator, emulator_url, count)
        fixed = ["t"] * count
        await poll_all(emulator, emulator_url, task_ids, check=True)  # warm-up: open the connections
        await poll_all(trivial, trivial_url, fixed, check=True)
        for _ in range(rounds):
            emulator_rounds.append(await poll_all(emulator, emulator_url, task_ids, check=True))
            trivial_rounds.append(await poll_all(trivial, trivial_url, fixed, check=True))
    return emulator_rounds, trivial_rounds


def summary(name: str, rounds: list[Round]) -> float:
    rate = statistics.median(r.rate for r in rounds)
    latencies = sorted(latency for r in rounds for latency in r.latencies)
    p50 = latencies[len(latencies) // 2] * 1000
    p99 = latencies[int(len(latencies) * 0.99)] * 1000
    print(f"{name:>10}: {rate:8.0f} polls/s (median of {len(rounds)}), p50 {p50:6.1f} ms, p99 {p99:6.1f} ms")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--trivial-server", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.trivial_server:
        serve_trivial()
        return
    emulator, emulator_url = start(
        [sys.executable, "-m", "airflow_provider_wan.emulator", "--api-key", KEY, "--no-limits",
         "--no-prerender", "--task-seconds", "3600"]
    )  # fmt: skip
    trivial, trivial_url = start([sys.executable, __file__, "--trivial-server"])
    try:
        print(f"{args.tasks} tasks polled at once, {args.rounds} interleaved rounds, client in this process")
        wan, base = asyncio.run(measure(emulator_url, trivial_url, args.tasks, args.rounds))
    finally:
        for process in (emulator, trivial):
            process.terminate()
            process.wait()
    emulator_rate = summary("emulator", wan)
    trivial_rate = summary("trivial", base)
    print(f"ratio emulator/trivial throughput: {emulator_rate / trivial_rate:.2f}")


if __name__ == "__main__":
    main()
