"""Rendering videos off the event loop: one worker thread, one render per distinct video at a time."""

from __future__ import annotations

import asyncio
import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor

from airflow_provider_wan.emulator.media import VideoCache, VideoKey


class Renderer:
    """Videos for the HTTP layer: cached ones at once, others rendered in a worker thread.

    Concurrent downloads of one video share a single render; ``prefetch`` starts a render when a task
    is created so the download is usually instant by the time the task has succeeded, unless
    ``max_prefetch`` renders are already under way (a burst of creates must not queue minutes of work
    in front of the downloads that are actually asked for).
    """

    def __init__(self, cache: VideoCache, *, workers: int = 1, max_prefetch: int = 4) -> None:
        self.cache = cache
        self.max_prefetch = max_prefetch
        self._stopping = threading.Event()
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="wan-emulator-render")
        self._inflight: dict[str, asyncio.Future[bytes]] = {}
        self._etags: dict[str, str] = {}

    async def video(self, key: VideoKey) -> tuple[bytes, str]:
        """The MP4 bytes of ``key`` and their ETag (OSS style: quoted upper-case MD5)."""
        digest = key.digest
        data = await asyncio.shield(self._render(key, digest))
        etag = self._etags.get(digest)
        if etag is None:
            etag = self._etags[digest] = f'"{hashlib.md5(data, usedforsecurity=False).hexdigest().upper()}"'
        return data, etag

    def prefetch(self, key: VideoKey) -> None:
        """Start rendering ``key`` in the background (call from the event loop) if few renders are queued."""
        if len(self._inflight) < self.max_prefetch:
            self._render(key, key.digest)

    def close(self) -> None:
        """Drop queued renders and stop the running one quickly."""
        self._stopping.set()
        self._executor.shutdown(wait=True, cancel_futures=True)

    def _render(self, key: VideoKey, digest: str) -> asyncio.Future[bytes]:
        future = self._inflight.get(digest)
        if future is None:
            loop = asyncio.get_running_loop()
            future = loop.run_in_executor(self._executor, self.cache.get_or_render, key, self._stopping)
            self._inflight[digest] = future

            def forget(done: asyncio.Future[bytes]) -> None:
                self._inflight.pop(digest, None)
                if not done.cancelled():
                    done.exception()  # a failed prefetch is not an error: the download renders again

            future.add_done_callback(forget)
        return future
