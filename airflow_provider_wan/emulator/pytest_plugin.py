"""pytest plugin (registered through the ``pytest11`` entry point): an offline Wan service for DAG tests.

Fixtures:

* ``wan_emulator_server`` (session): one :class:`WanEmulator` for the whole run, ``task_seconds=2``,
  ``queue_seconds=0.2``, account limits on.
* ``wan_emulator``: that server, reset before the test (no tasks, counters, faults; clock at wall time,
  limits as made).
* ``wan_connection``: sets ``AIRFLOW_CONN_WAN_DEFAULT`` to a ``wan`` connection whose host is the
  emulator's base URL and password its key; returns ``"wan_default"``.

Nothing from Airflow is imported here, so the plugin costs nothing in test runs that do not use it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from airflow_provider_wan.emulator.server import WanEmulator


@pytest.fixture(scope="session")
def wan_emulator_server() -> Iterator[WanEmulator]:
    with WanEmulator(task_seconds=2.0, queue_seconds=0.2) as emulator:
        yield emulator


@pytest.fixture
def wan_emulator(wan_emulator_server: WanEmulator) -> WanEmulator:
    wan_emulator_server.reset()
    return wan_emulator_server


@pytest.fixture
def wan_connection(wan_emulator: WanEmulator, monkeypatch: pytest.MonkeyPatch) -> str:
    connection = {"conn_type": "wan", "host": wan_emulator.base_url, "password": wan_emulator.api_key}
    monkeypatch.setenv("AIRFLOW_CONN_WAN_DEFAULT", json.dumps(connection))
    return "wan_default"
