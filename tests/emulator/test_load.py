"""One emulator answers 1,000 tasks polled at once, each correctly (speed: bench/emulator_load.py)."""

from __future__ import annotations

import asyncio

import aiohttp

from airflow_provider_wan.api import CREATE_PATH, auth_headers, create_headers
from airflow_provider_wan.emulator import WanEmulator

TASKS = 1000


async def test_thousand_tasks_polled_at_once() -> None:
    with WanEmulator(task_seconds=60, queue_seconds=1, limits=False, prerender=False, cache_dir=None) as emu:
        connector = aiohttp.TCPConnector(limit=TASKS)
        async with aiohttp.ClientSession(connector=connector) as session:
            body = {"model": "wan2.6-t2v", "input": {"prompt": "crowd"}}

            async def create() -> str:
                async with session.post(
                    emu.base_url + CREATE_PATH, json=body, headers=create_headers(emu.api_key)
                ) as answer:
                    return str((await answer.json())["output"]["task_id"])

            async def poll(task_id: str) -> tuple[int, str, str]:
                async with session.get(
                    f"{emu.base_url}/tasks/{task_id}", headers=auth_headers(emu.api_key)
                ) as a:
                    output = (await a.json())["output"]
                    return a.status, output["task_id"], output["task_status"]

            task_ids = await asyncio.gather(*(create() for _ in range(TASKS)))
            assert len(set(task_ids)) == TASKS
            emu.advance_clock(2)
            answers = await asyncio.gather(*(poll(task_id) for task_id in task_ids))
    assert [(status, task_id) for status, task_id, _ in answers] == [(200, task_id) for task_id in task_ids]
    assert {status for _, _, status in answers} == {"RUNNING"}
    assert emu.create_count() == TASKS
