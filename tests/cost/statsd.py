"""A StatsD listener on loopback, and Airflow's ``Stats`` pointed at it the way ``[metrics]`` configures.

Airflow's task runner and triggerer set ``Stats`` up from ``[metrics]`` when they start; ``dag.test()``
runs tasks and triggers in this process, which set nothing up, so :func:`airflow_statsd` does what those
processes do, after setting ``[metrics] statsd_on`` (with InfluxDB-style tags, so tags reach plain
StatsD) through the environment, and puts the previous backend back afterwards.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest


@dataclass(frozen=True)
class Sample:
    """One StatsD line: ``airflow.wan.polls,conn_id=wan_default:1|c``."""

    name: str
    tags: dict[str, str]
    value: float
    kind: str

    @classmethod
    def parse(cls, line: str) -> Sample:
        head, _, rest = line.partition(":")
        value, _, kind = rest.partition("|")
        name, *tags = head.split(",")
        return cls(name, dict(tag.split("=", 1) for tag in tags), float(value), kind.split("|")[0])


class StatsdListener:
    """Receives StatsD datagrams on a UDP port of 127.0.0.1 in a thread, keeping every line."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = int(self.sock.getsockname()[1])
        self.lines: list[str] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._receive, name="statsd-listener", daemon=True)
        self._thread.start()

    def _receive(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(65535)
            except TimeoutError:
                continue
            with self._lock:
                self.lines.extend(line for line in data.decode().splitlines() if line)

    def samples(self, name: str, settle: float = 0.2) -> list[Sample]:
        """Every sample of ``name`` (without Airflow's prefix) received, after ``settle`` seconds of quiet."""
        deadline, seen = time.monotonic() + 10, -1
        while time.monotonic() < deadline:
            with self._lock:
                count = len(self.lines)
            if count == seen:
                break
            seen = count
            time.sleep(settle)
        with self._lock:
            parsed = [Sample.parse(line) for line in self.lines]
        return [sample for sample in parsed if sample.name == f"airflow.{name}"]

    def total(self, name: str, **tags: str) -> float:
        """The sum of ``name``'s values whose tags include ``tags``."""
        return sum(s.value for s in self.samples(name) if all(s.tags.get(k) == v for k, v in tags.items()))

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


def _reinitialise_stats() -> None:
    """What Airflow's processes do on start: build ``Stats`` from ``[metrics]`` as it reads now."""
    try:  # Airflow 3.2+: the task SDK's module-level stats, set up by each process
        from airflow.observability.metrics import stats_utils
        from airflow.sdk.observability import stats

        stats.initialize(factory=stats_utils.get_stats_factory(), export_legacy_names=False)
    except ImportError:  # Airflow 3.1: the Stats metaclass picks its factory once, at import
        from airflow.configuration import conf
        from airflow.metrics import statsd_logger
        from airflow.metrics.base_stats_logger import NoStatsLogger
        from airflow.stats import Stats

        on = conf.getboolean("metrics", "statsd_on")
        type(Stats).factory = statsd_logger.get_statsd_logger if on else NoStatsLogger  # type: ignore[attr-defined]
        Stats.instance = None  # type: ignore[attr-defined]  # the metaclass builds it again on next use


@contextmanager
def airflow_statsd(monkeypatch: pytest.MonkeyPatch) -> Iterator[StatsdListener]:
    """A listener, and Airflow's metrics sent to it for the duration (prefix ``airflow``, tags on)."""
    listener = StatsdListener()
    settings = {
        "STATSD_ON": "True",
        "STATSD_HOST": "127.0.0.1",
        "STATSD_PORT": str(listener.port),
        "STATSD_PREFIX": "airflow",
        "STATSD_INFLUXDB_ENABLED": "True",
    }
    for name, value in settings.items():
        monkeypatch.setenv(f"AIRFLOW__METRICS__{name}", value)
    _reinitialise_stats()
    try:
        yield listener
    finally:
        for name in settings:
            monkeypatch.delenv(f"AIRFLOW__METRICS__{name}")
        _reinitialise_stats()
        listener.close()
