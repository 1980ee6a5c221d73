"""What an emulated account remembers for tests: create calls by key and prompt, the request log, and
downloads that carried an ``Authorization`` header. No API key is ever stored, only its fingerprint."""

from __future__ import annotations

import threading
from collections import Counter, deque
from typing import Any

from airflow_provider_wan.emulator.answers import key_id

REQUEST_LOG_SIZE = 100_000


class CallRecords:
    """Counts and logs, each call safe from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._creates: Counter[tuple[str | None, str | None, bool]] = Counter()
        self._request_log: deque[dict[str, Any]] = deque(maxlen=REQUEST_LOG_SIZE)
        self._video_authorization: list[dict[str, Any]] = []

    def count_create(self, api_key: str, body: Any, *, accepted: bool) -> None:
        with self._lock:
            self._creates[(key_id(api_key), _prompt_of(body), accepted)] += 1

    def create_count(
        self, api_key: str | None = None, prompt: str | None = None, *, include_refused: bool = False
    ) -> int:
        """Create calls made with a valid key that got a task (``include_refused``: refused ones too)."""
        wanted = key_id(api_key) if api_key is not None else None
        with self._lock:
            return sum(
                count
                for (key, text, accepted), count in self._creates.items()
                if (wanted is None or key == wanted)
                and (prompt is None or text == prompt)
                and (accepted or include_refused)
            )

    def log_request(self, entry: dict[str, Any]) -> None:
        """Add a call to the request log (the newest 100,000 are kept)."""
        with self._lock:
            self._request_log.append(entry)

    def request_log(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(entry) for entry in self._request_log]

    def record_video_authorization(self, path: str, moment: float, matches_api_key: bool) -> None:
        """Note a download that carried an Authorization header (the key itself is never stored)."""
        with self._lock:
            self._video_authorization.append(
                {"path": path, "time": moment, "matches_api_key": matches_api_key}
            )

    def video_authorization(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(entry) for entry in self._video_authorization]


def _prompt_of(body: Any) -> str | None:
    inputs = body.get("input") if isinstance(body, dict) else None
    prompt = inputs.get("prompt") if isinstance(inputs, dict) else None
    return prompt if isinstance(prompt, str) else None
