"""How an emulated account behaves: its keys, task timing, moderation markers, limits and region."""

from __future__ import annotations

from dataclasses import dataclass

from airflow_provider_wan.api.budget import VENDOR_TASK_API_RPS, check_rate


@dataclass(frozen=True)
class Settings:
    """How the emulated account behaves; see :mod:`.limits` and :mod:`.tasks`."""

    api_keys: tuple[str, ...]
    task_seconds: float = 2.0
    queue_seconds: float = 0.2
    moderation_marker: str | None = "[[blocked]]"
    ip_marker: str | None = "[[ip-infringement]]"
    limits: bool = True
    queue_limit: int = 500
    region: str = "ap-southeast-1"
    task_api_rate: float | None = VENDOR_TASK_API_RPS  # query+cancel+list a second; None: not limited
    max_running: int | None = None  # tasks running at once per family; None: the model's (5 or 2)
    creates_per_second: int | None = None  # per family; None: the model's (5 or 2)

    def __post_init__(self) -> None:
        if not self.api_keys or not all(isinstance(k, str) and k for k in self.api_keys):
            raise ValueError("the emulator needs at least one non-empty API key")
        if self.task_seconds < 0 or self.queue_seconds < 0:
            raise ValueError("task_seconds and queue_seconds must be 0 or more")
        if self.task_api_rate is not None:
            check_rate(self.task_api_rate)
        for name in ("max_running", "creates_per_second"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ValueError(f"{name}={value!r}: a whole number of 1 or more, or None for the model's")

    @property
    def run_seconds(self) -> float:
        return max(self.task_seconds - self.queue_seconds, 0.0)
