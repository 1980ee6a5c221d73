from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.cost.statsd import StatsdListener, airflow_statsd


@pytest.fixture
def statsd(monkeypatch: pytest.MonkeyPatch) -> Iterator[StatsdListener]:
    """A StatsD listener on loopback that Airflow's metrics go to during the test."""
    with airflow_statsd(monkeypatch) as listener:
        yield listener
