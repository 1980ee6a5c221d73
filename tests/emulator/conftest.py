"""An emulator per test session (videos cached in a fresh temp dir) and a thin HTTP client for it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from airflow_provider_wan.api import CREATE_PATH, create_headers
from airflow_provider_wan.emulator import WanEmulator

QUEUE_SECONDS = 2.0
TASK_SECONDS = 10.0


class Api:
    """Raw HTTP calls of the contract, so tests see exactly what the emulator answers."""

    def __init__(self, emulator: WanEmulator, session: requests.Session) -> None:
        self.emulator = emulator
        self.session = session
        self.base = emulator.base_url
        self.key = emulator.api_key

    def create(
        self, body: dict[str, Any], headers: dict[str, str] | None = None, path: str = CREATE_PATH
    ) -> requests.Response:
        return self.session.post(
            self.base + path,
            json=body,
            headers=create_headers(self.key) if headers is None else headers,
        )

    def submit(self, model: str = "wan2.2-t2v-plus", prompt: str = "a red fox", **parameters: Any) -> str:
        """Create a task that must be accepted; returns its id."""
        answer = self.create({"model": model, "input": {"prompt": prompt}, "parameters": parameters})
        assert answer.status_code == 200, answer.text
        return str(answer.json()["output"]["task_id"])

    def query(self, task_id: str, key: str | None = None) -> requests.Response:
        return self.session.get(f"{self.base}/tasks/{task_id}", headers=self._auth(key))

    def output(self, task_id: str) -> dict[str, Any]:
        answer = self.query(task_id)
        assert answer.status_code == 200, answer.text
        return dict(answer.json()["output"])

    def cancel(self, task_id: str, key: str | None = None) -> requests.Response:
        return self.session.post(f"{self.base}/tasks/{task_id}/cancel", headers=self._auth(key))

    def list(self, key: str | None = None, **params: Any) -> requests.Response:
        return self.session.get(f"{self.base}/tasks/", params=params, headers=self._auth(key))

    def _auth(self, key: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key or self.key}"}


@pytest.fixture(scope="session")
def emulator_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WanEmulator]:
    with WanEmulator(
        task_seconds=TASK_SECONDS,
        queue_seconds=QUEUE_SECONDS,
        api_keys=("sk-second-key",),
        prerender=False,
        fault_seed=7,
        cache_dir=tmp_path_factory.mktemp("emulator-videos"),
    ) as emulator:
        yield emulator


@pytest.fixture
def emulator(emulator_server: WanEmulator) -> WanEmulator:
    emulator_server.reset()
    return emulator_server


@pytest.fixture
def api(emulator: WanEmulator) -> Iterator[Api]:
    with requests.Session() as session:
        yield Api(emulator, session)
