"""Our tests use the kit users get (``airflow_provider_wan.testing``): its isolated Airflow home is set up
by the ``wan_airflow_isolated_home`` ini option before any test module imports Airflow."""

from __future__ import annotations

import re
import signal
import socket
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from airflow_provider_wan.emulator import WanEmulator
    from airflow_provider_wan.testing.dag_runs import WanAirflow
    from airflow_provider_wan.testing.s3 import WanS3


def pytest_configure(config: pytest.Config) -> None:
    """SIGTERM (a CI job cancelled, ``timeout``) ends the run as Ctrl-C does: fixtures tear down, so the
    servers and deployments they started stop (and their children, see ``tests.processes``)."""
    signal.signal(signal.SIGTERM, _interrupt)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


@pytest.fixture(scope="session", autouse=True)
def _migrated_airflow(wan_airflow: WanAirflow) -> WanAirflow:
    """Every test may touch Airflow's database (connections, XCom, task runs): migrate it first."""
    return wan_airflow


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def s3_endpoint(wan_s3_server: WanS3) -> str:
    """The URL of the kit's moto S3 server."""
    return wan_s3_server.endpoint_url


@pytest.fixture
def aws_connection(wan_s3: WanS3) -> str:
    """``aws_default`` pointing at the kit's moto server (emptied for this test); returns its id."""
    return "aws_default"


@pytest.fixture
def dag_id(request: pytest.FixtureRequest) -> str:
    """A DAG id unique to the test (its node name)."""
    return re.sub(r"\W", "_", request.node.name)[:200]


@pytest.fixture
def slow_connection(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[WanEmulator, str]]:
    """A second emulator whose tasks wait PENDING for an hour, and the connection id to it."""
    from tests.triggers.helpers import slow_emulator_connection

    yield from slow_emulator_connection(monkeypatch)
