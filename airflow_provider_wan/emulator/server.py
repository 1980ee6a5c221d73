"""``WanEmulator``: the emulator in-process, on a free loopback port, served from a background thread."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import web

from airflow_provider_wan.api.rate import VENDOR_TASK_API_RPS
from airflow_provider_wan.emulator.app import API_PREFIX, build_app
from airflow_provider_wan.emulator.core import Emulation
from airflow_provider_wan.emulator.media import DEFAULT_CACHE_DIR, VideoCache
from airflow_provider_wan.emulator.settings import Readings, Settings

DEFAULT_API_KEY = "sk-emulator"


class WanEmulator:
    """A local Wan service for tests, demos and offline DAG runs.

    ``start()`` runs an aiohttp app in a daemon thread with its own event loop; ``stop()`` (or leaving the
    ``with`` block) shuts it down. Account limits are on by default (``limits=False`` turns them off):
    creates a second, tasks running at once and queued per family (``creates_per_second``,
    ``max_running`` and ``queue_limit`` override the model's), and ``task_api_rate`` query, cancel and
    list requests a second per account (20; ``None`` lifts only that one);
    ``api_keys`` adds more keys of the same account; ``cache_dir`` (None: memory only) keeps rendered
    videos across runs; ``readings`` plays another reading of the contract where it is an assumption
    (:class:`~.settings.Readings`). The methods below are thread-safe and act at once.
    """

    def __init__(
        self,
        api_key: str = DEFAULT_API_KEY,
        task_seconds: float = 2.0,
        queue_seconds: float = 0.2,
        host: str = "127.0.0.1",
        port: int = 0,
        moderation_marker: str | None = "[[blocked]]",
        ip_marker: str | None = "[[ip-infringement]]",
        *,
        api_keys: tuple[str, ...] = (),
        limits: bool = True,
        queue_limit: int = 500,
        task_api_rate: float | None = VENDOR_TASK_API_RPS,
        max_running: int | None = None,
        creates_per_second: int | None = None,
        region: str = "ap-southeast-1",
        prerender: bool = True,
        fault_seed: int | None = None,
        cache_dir: str | Path | None = DEFAULT_CACHE_DIR,
        readings: Readings | None = None,
    ) -> None:
        self.settings = Settings(
            api_keys=(api_key, *api_keys),
            task_seconds=task_seconds,
            queue_seconds=queue_seconds,
            moderation_marker=moderation_marker,
            ip_marker=ip_marker,
            limits=limits,
            queue_limit=queue_limit,
            task_api_rate=task_api_rate,
            max_running=max_running,
            creates_per_second=creates_per_second,
            region=region,
            readings=readings or Readings(),
        )
        self.host = host
        self.port = port
        cache = VideoCache(disk_dir=Path(cache_dir) if cache_dir is not None else None)
        self.emulation = Emulation(self.settings, fault_seed=fault_seed, prerender=prerender, cache=cache)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._stopped = False

    # ----------------------------------------------------------------- life

    def start(self) -> WanEmulator:
        """Serve in a background thread; returns once the port is bound."""
        if self._thread is not None:
            raise RuntimeError("this WanEmulator is already running")
        if self._stopped:
            raise RuntimeError("a stopped WanEmulator cannot start again: make a new one")
        ready = threading.Event()
        failure: list[BaseException] = []
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._serve, args=(ready, failure), name="wan-emulator", daemon=True
        )
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]
        return self

    def stop(self) -> None:
        """Stop serving and free the port (idempotent)."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        self._stopped = True
        self.emulation.renderer.close()  # first: no handler may wait on a render while the server drains
        asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()
        self._loop = self._thread = None

    def __enter__(self) -> WanEmulator:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def _serve(self, ready: threading.Event, failure: list[BaseException]) -> None:
        loop = self._loop
        assert loop is not None
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._bind())
        except BaseException as error:  # reported to start()'s caller
            failure.append(error)
            ready.set()
            return
        ready.set()
        loop.run_forever()

    async def _bind(self) -> None:
        runner = web.AppRunner(build_app(self.emulation), access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, backlog=2048, reuse_address=True)
        await site.start()
        self._runner = runner
        self.port = runner.addresses[0][1]

    async def _shutdown(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ----------------------------------------------------------------- addresses

    @property
    def base_url(self) -> str:
        """The API base, e.g. ``http://127.0.0.1:PORT/api/v1``."""
        return f"{self.root_url}{API_PREFIX}"

    @property
    def root_url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "", "::") else self.host
        return f"http://{host}:{self.port}"

    @property
    def api_key(self) -> str:
        return self.settings.api_keys[0]

    # ----------------------------------------------------------------- control and inspection

    def reset(self) -> None:
        """Forget tasks, counters, logs and faults; clock back to wall time; limits and timing as made."""
        self.emulation.reset()

    def advance_clock(self, seconds: float) -> float:
        """Move the emulator's clock forward: tasks progress and 24-hour expiry pass at once."""
        return self.emulation.clock.advance(seconds)

    def set_faults(
        self,
        endpoint: str,
        *,
        error_500: float = 0.0,
        error_503: float = 0.0,
        error_429: float = 0.0,
        latency: float = 0.0,
        drop: float = 0.0,
        malformed: float = 0.0,
        cut_video_at: int | None = None,
        accept_then_drop: float = 0.0,
        accept_then_delay: float = 0.0,
    ) -> None:
        """Faults for one of create, query, cancel, list, video (replacing earlier ones for it).

        ``drop`` closes the connection before the call takes effect; ``malformed`` lets the call take
        effect and then answers 200 with truncated JSON; ``cut_video_at`` sends that many bytes of a
        download, announced with its full ``Content-Length``, then closes the connection.
        ``accept_then_drop`` lets a successful call take effect (a create is counted and billed) and then
        closes the connection without answering; ``accept_then_delay`` lets it take effect and holds the
        answer back that many seconds (time to kill the caller). Neither applies to ``video``.
        """
        self.emulation.set_faults(
            endpoint,
            error_500=error_500,
            error_503=error_503,
            error_429=error_429,
            latency=latency,
            drop=drop,
            malformed=malformed,
            cut_video_at=cut_video_at,
            accept_then_drop=accept_then_drop,
            accept_then_delay=accept_then_delay,
        )

    def clear_faults(self) -> None:
        self.emulation.faults.clear()

    def set_limits(self, enabled: bool) -> None:
        """Turn the account limits (running slots, creates per second, queue length) on or off."""
        self.emulation.account.set_limits(enabled)

    def set_task_api_rate(self, rate: float | None) -> None:
        """Query, cancel and list requests a second the account takes (None: unlimited); ``reset()``
        restores the emulator's own."""
        self.emulation.account.set_task_api_rate(rate)

    def set_timing(self, task_seconds: float | None = None, queue_seconds: float | None = None) -> None:
        """Change ``task_seconds`` / ``queue_seconds`` for tasks created from now on, e.g. to keep one
        test's tasks RUNNING for an hour on the shared plugin emulator; ``reset()`` restores them."""
        self.emulation.account.set_timing(task_seconds, queue_seconds)

    def set_readings(self, **changes: Any) -> Readings:
        """Play another reading of the contract where it is an assumption, e.g.
        ``set_readings(list_refused=403)`` or ``set_readings(list_utc_offset=8)`` (see
        :class:`~.settings.Readings`); ``reset()`` restores the emulator's own."""
        return self.emulation.account.set_readings(**changes)

    def create_count(
        self, api_key: str | None = None, prompt: str | None = None, *, include_refused: bool = False
    ) -> int:
        """Create calls the service accepted (answered with a task), by key and/or prompt;
        ``include_refused=True`` also counts the refused ones (a 400, a 429, a fault)."""
        return self.emulation.account.records.create_count(api_key, prompt, include_refused=include_refused)

    @property
    def request_log(self) -> list[dict[str, Any]]:
        """Every API and video call: method, path, query, endpoint, status, whether Authorization was sent."""
        return self.emulation.account.records.request_log()

    @property
    def video_requests_with_authorization(self) -> list[dict[str, Any]]:
        """Video downloads that arrived with an Authorization header (should stay empty)."""
        return self.emulation.account.records.video_authorization()

    def task(self, task_id: str) -> dict[str, Any]:
        """A task's internal state (status, request body, output spec, seed, times); KeyError if unknown."""
        found = self.emulation.account.task_dict(task_id)
        if found is None:
            raise KeyError(task_id)
        return found

    def state(self) -> dict[str, Any]:
        return self.emulation.state()
