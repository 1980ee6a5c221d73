"""One emulated service: account, clock, faults and renderer, shared by the HTTP app and the Python API."""

from __future__ import annotations

from typing import Any

from airflow_provider_wan.emulator.account import Account
from airflow_provider_wan.emulator.clock import Clock
from airflow_provider_wan.emulator.faults import FaultInjector, FaultSpec
from airflow_provider_wan.emulator.media import VideoCache
from airflow_provider_wan.emulator.renderer import Renderer
from airflow_provider_wan.emulator.settings import Settings
from airflow_provider_wan.emulator.uploads import UploadStore


class Emulation:
    """Everything one emulator instance holds; both the control API and ``WanEmulator`` drive it."""

    def __init__(
        self,
        settings: Settings,
        *,
        fault_seed: int | None = None,
        prerender: bool = True,
        cache: VideoCache | None = None,
    ) -> None:
        self.clock = Clock()
        self.account = Account(settings, self.clock)
        self.faults = FaultInjector(fault_seed)
        self.renderer = Renderer(cache or VideoCache())
        self.uploads = UploadStore()
        self.prerender = prerender

    def reset(self) -> None:
        """Forget tasks, counters, logs, uploads and faults; put the clock back to wall time."""
        self.account.reset()
        self.uploads.clear()
        self.faults.clear()
        self.clock.reset()

    def set_faults(self, endpoint: str, **settings: Any) -> None:
        self.faults.set(endpoint, FaultSpec.from_dict(settings))

    def state(self) -> dict[str, Any]:
        """A JSON summary for the control API (no secrets)."""
        account = self.account
        with account.lock:
            statuses: dict[str, int] = {}
            for task_id in list(account.tasks):
                status = (account.task_dict(task_id) or {}).get("status", "UNKNOWN")
                statuses[status] = statuses.get(status, 0) + 1
            return {
                "tasks": len(account.tasks),
                "statuses": statuses,
                "creates": account.records.create_count(include_refused=True),
                "accepted_creates": account.records.create_count(),
                "requests": len(account.records.request_log()),
                "video_requests_with_authorization": len(account.records.video_authorization()),
                "clock": {"now": self.clock.now(), "offset": self.clock.offset},
                "limits": account.settings.limits,
                "task_api_rate": account.settings.task_api_rate,
                "task_seconds": account.settings.task_seconds,
                "queue_seconds": account.settings.queue_seconds,
                "readings": account.settings.readings.to_dict(),
                "faults": self.faults.snapshot(),
                "renders": self.renderer.cache.renders,
            }
