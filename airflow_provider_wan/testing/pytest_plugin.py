"""pytest plugin (``pytest11`` entry point): test DAGs offline against the Wan emulator and a local S3.

Fixtures:

* ``wan_airflow`` (session): Airflow on an isolated ``AIRFLOW_HOME`` with a migrated SQLite database.
  ``wan_airflow.run(dag, conf=None)`` runs the DAG as ``dag.test()`` does (deferred tasks through their
  triggers) and returns the finished run; it raises ``WanDagRunFailed`` naming the failed task and its
  exception otherwise. ``run.xcom(task_id, key="return_value")`` reads results.
* ``wan_emulator_server`` (session): one :class:`~airflow_provider_wan.emulator.WanEmulator`.
* ``wan_emulator``: that server, reset before the test (no tasks, counters, faults; clock at wall time).
* ``wan_connection``: ``AIRFLOW_CONN_WAN_DEFAULT`` pointing at the emulator; returns ``"wan_default"``.
* ``wan_s3_server`` (session) and ``wan_s3``: a moto S3 server on loopback, emptied before the test, with
  ``aws_default`` (and AWS credentials) pointing at it; ``.create_bucket(name)``, ``.client``,
  ``.get(uri)``.

ini options: ``wan_airflow_isolated_home`` (default false: set it when test modules or ``conftest.py``
files import Airflow at their top, so the isolated home is in place before pytest loads them),
``wan_emulator_task_seconds`` (2), ``wan_emulator_queue_seconds`` (0.2), ``wan_emulator_limits`` (true:
the real service's account limits), ``wan_emulator_task_api_rate`` (20: query, cancel and list requests a
second the account takes; ``none`` lifts that limit alone), ``wan_emulator_readings`` (another reading of
the contract where it is an assumption, e.g. ``list-refused=403 list-utc-offset=8 orig-prompt=normalised
usage-shape=text``; ``wan_emulator.set_readings(...)`` does it for one test).

pytest loads this module in every project that installs the package, so it imports only the standard
library; Airflow, aiohttp, boto3 and moto load when a fixture that needs them is first used.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from airflow_provider_wan.testing import isolate_airflow_home

if TYPE_CHECKING:
    from airflow_provider_wan.emulator.server import WanEmulator
    from airflow_provider_wan.emulator.settings import Readings
    from airflow_provider_wan.testing.dag_runs import WanAirflow
    from airflow_provider_wan.testing.s3 import WanS3


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        "wan_airflow_isolated_home",
        "Wan test kit: give Airflow an isolated AIRFLOW_HOME before test modules are imported",
        type="bool",
        default=False,
    )
    parser.addini("wan_emulator_task_seconds", "Wan emulator: seconds from create to SUCCEEDED", default="2")
    parser.addini("wan_emulator_queue_seconds", "Wan emulator: seconds a task stays PENDING", default="0.2")
    parser.addini(
        "wan_emulator_limits", "Wan emulator: enforce the account limits", type="bool", default=True
    )
    parser.addini(
        "wan_emulator_task_api_rate",
        "Wan emulator: query, cancel and list requests a second per account ('none': unlimited)",
        default="20",
    )
    parser.addini(
        "wan_emulator_readings",
        "Wan emulator: another reading of the contract, e.g. 'list-refused=403 list-utc-offset=8'",
        default="",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    """Isolate the home before the first ``conftest.py`` files (which may import Airflow) are loaded."""
    if early_config.getini("wan_airflow_isolated_home"):
        isolate_airflow_home()


@pytest.fixture(scope="session")
def wan_airflow(pytestconfig: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> WanAirflow:
    from airflow_provider_wan.testing.dag_runs import WanAirflow

    airflow = WanAirflow(isolate_airflow_home(), _database_templates(pytestconfig, tmp_path_factory))
    airflow.migrate()
    return airflow


def _database_templates(config: pytest.Config, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where migrated databases are kept: pytest's cache (shared by the session's processes and the next
    sessions), or without it the session's own temporary folder (shared by pytest-xdist's workers)."""
    cache = getattr(config, "cache", None)
    if cache is not None:
        return Path(cache.mkdir("wan-airflow-databases"))
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    return shared / "wan-airflow-databases"


@pytest.fixture(scope="session")
def wan_emulator_server(pytestconfig: pytest.Config) -> Iterator[WanEmulator]:
    from airflow_provider_wan.emulator.server import WanEmulator

    with WanEmulator(
        task_seconds=float(pytestconfig.getini("wan_emulator_task_seconds")),
        queue_seconds=float(pytestconfig.getini("wan_emulator_queue_seconds")),
        limits=bool(pytestconfig.getini("wan_emulator_limits")),
        task_api_rate=_rate_option(pytestconfig, "wan_emulator_task_api_rate"),
        readings=_readings_option(pytestconfig),
    ) as emulator:
        yield emulator


def _rate_option(config: pytest.Config, name: str) -> float | None:
    from airflow_provider_wan.api.rate import parse_rate

    try:
        return parse_rate(str(config.getini(name)))
    except ValueError as error:
        raise pytest.UsageError(f"ini option {name}: {error}") from None


def _readings_option(config: pytest.Config) -> Readings:
    from airflow_provider_wan.emulator.settings import Readings

    try:
        return Readings.parse(str(config.getini("wan_emulator_readings")))
    except ValueError as error:
        raise pytest.UsageError(f"ini option wan_emulator_readings: {error}") from None


@pytest.fixture
def wan_emulator(wan_emulator_server: WanEmulator) -> WanEmulator:
    wan_emulator_server.reset()
    return wan_emulator_server


@pytest.fixture
def wan_connection(wan_emulator: WanEmulator, monkeypatch: pytest.MonkeyPatch) -> str:
    connection = {"conn_type": "wan", "host": wan_emulator.base_url, "password": wan_emulator.api_key}
    monkeypatch.setenv("AIRFLOW_CONN_WAN_DEFAULT", json.dumps(connection))
    return "wan_default"  # the hooks' DEFAULT_CONN_ID (this plugin imports only the standard library)


@pytest.fixture(scope="session")
def wan_s3_server() -> Iterator[WanS3]:
    from airflow_provider_wan.testing.s3 import WanS3

    server = WanS3()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def wan_s3(wan_s3_server: WanS3, monkeypatch: pytest.MonkeyPatch) -> WanS3:
    wan_s3_server.reset()
    for name, value in wan_s3_server.environment().items():
        monkeypatch.setenv(name, value)
    return wan_s3_server
