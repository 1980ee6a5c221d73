"""Hooks pointed at the emulator, with backoff short enough that retry tests stay fast."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, urlencode

import pytest

from airflow_provider_wan.api import VideoRequest
from airflow_provider_wan.emulator import WanEmulator
from airflow_provider_wan.hooks.aio import close_sessions
from airflow_provider_wan.hooks.wan import WanAsyncHook, WanHook

FAST = {"backoff_base": 0.01, "backoff_cap": 0.05, "timeout": 5.0}
REQUEST = VideoRequest(model="wan2.6-t2v", prompt="a red fox runs through snow", duration=5, size="1280*720")


@pytest.fixture
def hook(wan_connection: str) -> WanHook:
    return WanHook(wan_connection, **FAST)


@pytest.fixture
async def async_hook(wan_connection: str) -> AsyncIterator[WanAsyncHook]:
    yield WanAsyncHook(wan_connection, **FAST)
    await close_sessions()


def calls(emulator: WanEmulator, endpoint: str) -> list[dict[str, Any]]:
    """The emulator's log entries for one endpoint (create, query, cancel, list)."""
    return [entry for entry in emulator.request_log if entry["endpoint"] == endpoint]


def wait_for_calls(emulator: WanEmulator, endpoint: str, count: int, timeout: float = 10.0) -> None:
    """Block until the emulator has logged ``count`` calls of ``endpoint`` that have an outcome."""
    deadline = time.monotonic() + timeout
    while len([c for c in calls(emulator, endpoint) if c["status"] is not None]) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"emulator saw {calls(emulator, endpoint)}, wanted {count} {endpoint}")
        time.sleep(0.005)


@contextmanager
def faults_lifted_after(emulator: WanEmulator, endpoint: str, failures: int) -> Iterator[None]:
    """Lift the endpoint's faults (set by the test) once ``failures`` calls have met them.

    The watcher runs in a thread while the code under test retries in the foreground.
    """

    already = len(calls(emulator, endpoint))

    def lift() -> None:
        wait_for_calls(emulator, endpoint, already + failures)
        emulator.set_faults(endpoint)

    watcher = threading.Thread(target=lift)
    watcher.start()
    try:
        yield
    finally:
        watcher.join()


@pytest.fixture(scope="module")
def slow_emulator_server() -> Iterator[WanEmulator]:
    """Tasks wait PENDING for half an hour and run for an hour, unless a test moves the clock."""
    with WanEmulator(task_seconds=5400.0, queue_seconds=1800.0, prerender=False, cache_dir=None) as emulator:
        yield emulator


@pytest.fixture
def slow_emulator(slow_emulator_server: WanEmulator, monkeypatch: pytest.MonkeyPatch) -> WanEmulator:
    """That emulator, reset, with connection ``wan_slow`` (URI form, host with scheme) pointing at it."""
    slow_emulator_server.reset()
    monkeypatch.setenv("AIRFLOW_CONN_WAN_SLOW", uri_connection(slow_emulator_server))
    return slow_emulator_server


def uri_connection(emulator: WanEmulator, **extra: str) -> str:
    """A ``wan`` connection in Airflow's URI form, the base URL percent-encoded into the host."""
    query = f"?{urlencode(extra)}" if extra else ""
    return f"wan://:{quote(emulator.api_key, safe='')}@{quote(emulator.base_url, safe='')}{query}"


@pytest.fixture
def logged(caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]) -> Callable[[], str]:
    """Everything logged so far, wherever this Airflow version sends hook logs (stdlib or structlog)."""
    caplog.set_level("DEBUG")

    def text() -> str:
        out, err = capsys.readouterr()
        return caplog.text + out + err

    return text


@pytest.fixture
def own_emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[WanEmulator]:
    """An emulator on a port of its own (so its connections can be counted), as connection ``wan_own``."""
    with WanEmulator(prerender=False, cache_dir=None) as emulator:
        connection = {"host": emulator.base_url, "password": emulator.api_key}
        monkeypatch.setenv("AIRFLOW_CONN_WAN_OWN", json.dumps(connection))
        yield emulator
