"""``RemoteEmulator``: the control API of an emulator running in another process, with WanEmulator's names."""

from __future__ import annotations

import json
import urllib.request
from typing import Any
from urllib.error import HTTPError
from urllib.parse import quote, urlsplit

from airflow_provider_wan.emulator.control import CONTROL_PREFIX


class RemoteEmulator:
    """Drive ``wan-emulator`` (or any emulator) over HTTP, given its base URL and API key."""

    def __init__(self, base_url: str, api_key: str, *, timeout: float = 10.0) -> None:
        parts = urlsplit(base_url)
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.root_url = f"{parts.scheme}://{parts.netloc}"
        self.timeout = timeout

    def reset(self) -> None:
        self._call("POST", "/reset")

    def advance_clock(self, seconds: float) -> float:
        return float(self._call("POST", "/clock", {"advance": seconds})["now"])

    def set_faults(self, endpoint: str, **settings: Any) -> None:
        self._call("POST", "/faults", {"endpoint": endpoint, **settings})

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def set_limits(self, enabled: bool) -> None:
        self._call("POST", "/limits", {"enabled": enabled})

    def set_task_api_rate(self, rate: float | None) -> None:
        self._call("POST", "/limits", {"task_api_rate": rate})

    def set_timing(self, task_seconds: float | None = None, queue_seconds: float | None = None) -> None:
        self._call("POST", "/timing", {"task_seconds": task_seconds, "queue_seconds": queue_seconds})

    def set_readings(self, **changes: Any) -> dict[str, Any]:
        return dict(self._call("POST", "/readings", changes)["readings"])

    def create_count(
        self, api_key: str | None = None, prompt: str | None = None, *, include_refused: bool = False
    ) -> int:
        payload = {"api_key": api_key, "prompt": prompt, "include_refused": include_refused}
        return int(self._call("POST", "/creates", payload)["count"])

    @property
    def request_log(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/requests")["requests"])

    @property
    def video_requests_with_authorization(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/video-authorization")["requests"])

    def task(self, task_id: str) -> dict[str, Any]:
        try:
            return dict(self._call("GET", f"/tasks/{quote(task_id, safe='')}"))
        except HTTPError as error:
            if error.code == 404:
                raise KeyError(task_id) from None
            raise

    def state(self) -> dict[str, Any]:
        return dict(self._call("GET", "/state"))

    def _call(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(
            self.root_url + CONTROL_PREFIX + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"} if data is not None else {},
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            return json.loads(response.read())
