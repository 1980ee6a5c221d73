"""pytest plugin (registered through the ``pytest11`` entry point): an offline Wan service for DAG tests.

Fixtures:

* ``wan_emulator_server`` (session): one :class:`WanEmulator` for the whole run.
* ``wan_emulator``: that server, reset before the test (no tasks, counters, faults; clock at wall time;
  limits as configured).
* ``wan_connection``: sets ``AIRFLOW_CONN_WAN_DEFAULT`` to a ``wan`` connection whose host is the
  emulator's base URL and password its key; returns ``"wan_default"``.

ini options (``pytest.ini`` / ``[tool.pytest.ini_options]``): ``wan_emulator_task_seconds`` (default 2:
create to SUCCEEDED), ``wan_emulator_queue_seconds`` (default 0.2: time PENDING) and
``wan_emulator_limits`` (default true: the account limits of the real service, so a DAG that submits
more than 5 wan2.5+ tasks a second, or 2 wan2.1/2.2, meets 429 ``Throttling.RateQuota`` as it would in
production; set it to false to test without them).

Nothing from Airflow is imported here, so the plugin costs nothing in test runs that do not use it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from airflow_provider_wan.emulator.server import WanEmulator


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("wan_emulator_task_seconds", "Wan emulator: seconds from create to SUCCEEDED", default="2")
    parser.addini("wan_emulator_queue_seconds", "Wan emulator: seconds a task stays PENDING", default="0.2")
    parser.addini(
        "wan_emulator_limits", "Wan emulator: enforce the account limits", type="bool", default=True
    )


@pytest.fixture(scope="session")
def wan_emulator_server(pytestconfig: pytest.Config) -> Iterator[WanEmulator]:
    with WanEmulator(
        task_seconds=float(pytestconfig.getini("wan_emulator_task_seconds")),
        queue_seconds=float(pytestconfig.getini("wan_emulator_queue_seconds")),
        limits=bool(pytestconfig.getini("wan_emulator_limits")),
    ) as emulator:
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
