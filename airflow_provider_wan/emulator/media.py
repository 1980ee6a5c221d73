"""Real MP4s for finished emulator tasks: rendered with PyAV, deterministic, cached in memory and on disk.

The picture is a cheap moving pattern (scrolling stripes and a sliding band) whose colours and speed
derive from the prompt and seed, encoded with H.264 (``libx264``, ``ultrafast``, high CRF) so that even
1080p for 15 seconds renders in a few seconds. A request with sound gets an AAC track (a beeping tone,
48 kHz mono *(assumed)*); a silent one gets no audio stream at all. ``av`` is imported inside
:func:`render_mp4` only, so importing this module stays cheap.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import struct
import tempfile
import threading
from collections import OrderedDict
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from airflow_provider_wan.api import OutputSpec

RENDER_VERSION = 1  # bump when the picture or encoding changes, so disk caches are not reused
AUDIO_RATE = 48_000
AUDIO_FRAME = 1024
DEFAULT_CACHE_DIR = Path(tempfile.gettempdir()) / "airflow-provider-wan-emulator-videos"


@dataclass(frozen=True)
class VideoKey:
    """Everything a rendered video depends on."""

    prompt: str
    seed: int
    output: OutputSpec

    @property
    def digest(self) -> str:
        out = self.output
        text = (
            f"v{RENDER_VERSION}|{self.seed}|{out.width}x{out.height}|{out.fps}|"
            f"{out.duration}|{int(out.has_audio)}|{self.prompt}"
        )
        return hashlib.sha256(text.encode()).hexdigest()


class RenderStopped(Exception):
    """A render given up because its emulator is stopping."""


def render_mp4(key: VideoKey, stopping: threading.Event | None = None) -> bytes:
    """Encode the video of ``key``: exactly ``fps * duration`` frames at the requested size.

    ``stopping``, once set, makes the render give up within a second of video (RenderStopped).
    """
    import av

    out = key.output
    palette = hashlib.sha256(f"{key.seed}|{key.prompt}".encode()).digest()
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        video = container.add_stream("libx264", rate=out.fps)
        video.width, video.height, video.pix_fmt = out.width, out.height, "yuv420p"
        video.options = {"preset": "ultrafast", "tune": "zerolatency", "crf": "40", "g": str(out.fps * 2)}
        audio = container.add_stream("aac", rate=AUDIO_RATE, layout="mono") if out.has_audio else None
        pattern = _Pattern(out.width, out.height, palette)
        # One frame object, repainted: libx264 copies each picture it is given, and fresh multi-megabyte
        # frames cost more in page faults than the painting itself.
        frame = av.VideoFrame(out.width, out.height, "yuv420p")
        for index in range(out.fps * out.duration):
            if stopping is not None and index % out.fps == 0 and stopping.is_set():
                raise RenderStopped(key.digest)
            pattern.paint(frame, index)
            frame.pts = index
            frame.time_base = Fraction(1, out.fps)
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        if audio is not None:
            for frame in _tone_frames(av, out.duration, palette):
                container.mux(audio.encode(frame))
            container.mux(audio.encode(None))
    return buffer.getvalue()


class _Pattern:
    """Frames of scrolling stripes with a sliding bright band, built by slicing bytes (no numpy)."""

    def __init__(self, width: int, height: int, palette: bytes) -> None:
        self.width, self.height = width, height
        self.speed = 2 + palette[0] % 6
        self.period = 32 + palette[1] % 64
        base, depth = 40 + palette[2] % 80, 30 + palette[3] % 60
        stripe = [base + (depth if (x // (self.period // 2)) % 2 else 0) for x in range(self.period)]
        repeats = width // self.period + 3
        self.stripes = bytes(stripe) * repeats
        self.bright = bytes(min(255, value + 100) for value in stripe) * repeats
        self.band_height = max(2, height // 8)
        self.chroma = (palette[4], palette[5])

    def paint(self, frame: Any, index: int) -> None:
        luma, cb, cr = frame.planes
        offset = (index * self.speed) % self.period
        pad = b"\x10" * (luma.line_size - self.width)
        row = self.stripes[offset : offset + self.width] + pad
        band = self.bright[offset : offset + self.width] + pad
        top = (index * self.speed) % max(1, self.height - self.band_height)
        rest = self.height - top - self.band_height
        luma.update(b"".join((row * top, band * self.band_height, row * rest)))
        cb.update(bytes([self.chroma[0]]) * cb.buffer_size)
        cr.update(bytes([self.chroma[1]]) * cr.buffer_size)


def _tone_frames(av: Any, duration: int, palette: bytes) -> list[Any]:
    """A tone that beeps twice a second; the frequency is a whole number of cycles per AAC frame."""
    cycles = 8 + palette[6] % 16  # 375 Hz .. 1078 Hz
    tone = struct.pack(
        f"<{AUDIO_FRAME}f",
        *(0.2 * math.sin(2 * math.pi * cycles * i / AUDIO_FRAME) for i in range(AUDIO_FRAME)),
    )
    silence = bytes(4 * AUDIO_FRAME)
    frames: list[Any] = []
    total = duration * AUDIO_RATE
    beep_every = AUDIO_RATE // 2
    for start in range(0, total, AUDIO_FRAME):
        samples = min(AUDIO_FRAME, total - start)
        frame = av.AudioFrame(format="fltp", layout="mono", samples=samples)
        data = tone if (start % beep_every) < beep_every // 3 else silence
        frame.planes[0].update(data[: 4 * samples].ljust(frame.planes[0].buffer_size, b"\0"))
        frame.sample_rate = AUDIO_RATE
        frame.pts = start
        frame.time_base = Fraction(1, AUDIO_RATE)
        frames.append(frame)
    return frames


class VideoCache:
    """Rendered videos by key: a small in-memory LRU in front of a shared temp-dir cache."""

    def __init__(
        self, memory_bytes: int = 256 * 1024 * 1024, disk_dir: Path | None = DEFAULT_CACHE_DIR
    ) -> None:
        self.memory_bytes = memory_bytes
        self.disk_dir = disk_dir
        self._memory: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.renders = 0

    def get(self, key: VideoKey) -> bytes | None:
        """The cached video, or None when it has never been rendered."""
        digest = key.digest
        with self._lock:
            data = self._memory.get(digest)
            if data is not None:
                self._memory.move_to_end(digest)
                return data
        path = self._path(digest)
        if path is not None and path.is_file():
            data = path.read_bytes()
            self._remember(digest, data)
            return data
        return None

    def get_or_render(self, key: VideoKey, stopping: threading.Event | None = None) -> bytes:
        """The video of ``key``, rendering it (blocking: call from a worker thread) when not cached."""
        data = self.get(key)
        if data is not None:
            return data
        data = render_mp4(key, stopping)
        with self._lock:
            self.renders += 1
        self._remember(key.digest, data)
        path = self._path(key.digest)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.part")
            partial.write_bytes(data)
            os.replace(partial, path)
        return data

    def _remember(self, digest: str, data: bytes) -> None:
        with self._lock:
            if digest not in self._memory:
                self._memory[digest] = data
                self._size += len(data)
            while self._size > self.memory_bytes and len(self._memory) > 1:
                _, dropped = self._memory.popitem(last=False)
                self._size -= len(dropped)

    def _path(self, digest: str) -> Path | None:
        return self.disk_dir / f"{digest}.mp4" if self.disk_dir is not None else None
