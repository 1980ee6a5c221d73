"""Helpers shared by the trigger, operator and sensor tests: tasks on the emulator, and what it saw."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from airflow_provider_wan.api import VideoRequest
from airflow_provider_wan.emulator import WanEmulator
from airflow_provider_wan.hooks.wan import WanHook

# Small and silent: the emulator renders it quickly.
SMALL = {"model": "wan2.5-t2v-preview", "size": "832*480", "duration": 5, "audio": False}
SLOW_CONN_ID = "wan_slow"


def create_task(conn_id: str, prompt: str) -> str:
    """Submit a small task over HTTP with the real sync hook; its Wan task id."""
    return WanHook(conn_id).create_task(VideoRequest(prompt=prompt, **SMALL)).task_id


def queries_of(emulator: WanEmulator, wan_task_id: str) -> list[dict[str, Any]]:
    """The query calls the emulator received for one task, in order."""
    return [r for r in emulator.request_log if r["endpoint"] == "query" and r["path"].endswith(wan_task_id)]


def failed_polls(emulator: WanEmulator, wan_task_id: str) -> int:
    return sum(1 for r in queries_of(emulator, wan_task_id) if r["status"] != 200 or r.get("malformed"))


def slow_emulator_connection(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[WanEmulator, str]]:
    """A second emulator whose tasks wait PENDING for an hour, and a connection ``wan_slow`` to it."""
    with WanEmulator(task_seconds=1.0, queue_seconds=3600.0, prerender=False, cache_dir=None) as emulator:
        connection = {"conn_type": "wan", "host": emulator.base_url, "password": emulator.api_key}
        monkeypatch.setenv(f"AIRFLOW_CONN_{SLOW_CONN_ID.upper()}", json.dumps(connection))
        yield emulator, SLOW_CONN_ID


def log_text(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> str:
    """Everything logged so far, whichever way this Airflow version routes it (stdlib or structlog)."""
    out, err = capfd.readouterr()
    return "\n".join((caplog.text, out, err))


@contextmanager
def finished_once_polled(emulator: WanEmulator, wan_task_id: str, polls: int) -> Iterator[None]:
    """Let a task on the slow emulator finish (its clock jumps past the queue) once polled ``polls`` times.

    Makes "the wait outlasts the first check" certain rather than a matter of timing.
    """
    if polls == 0:
        emulator.advance_clock(2 * 3600)
        yield
        return
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.01):
            if len(queries_of(emulator, wan_task_id)) >= polls:
                emulator.advance_clock(2 * 3600)
                return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()
